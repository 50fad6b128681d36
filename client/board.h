/* board.h: calldesk --watch, the supervisor board. A full-screen ncurses
 * view of the queues, the agents and their time in state, the deadlines
 * at risk or missed, and the pending escalations, kept live by WATCH
 * events; the supervisor approves or rejects an escalation from it. */
#ifndef CALLDESK_CLIENT_BOARD_H
#define CALLDESK_CLIENT_BOARD_H

#include <signal.h>
#include <stdbool.h>

#include "run.h"
#include "session.h"

struct board_opts {
	bool color;             /* colours, if the terminal has them (the
				 * caller has checked NO_COLOR) */
	const char *where;      /* "host:port", for the title */
};

/* The flag that Ctrl-C, SIGTERM and SIGHUP set while the board runs: give
 * it to the session (session_params.interrupt) so that a wait for the
 * server gives up at once. */
volatile sig_atomic_t *board_interrupt_flag(void);

/* Runs the board on a logged-in session until the user quits. The board
 * takes over the session's push callback for its duration. Sends WATCH
 * before taking the screen: a refusal (not a supervisor) is printed on
 * stderr and returned as RUN_REFUSED; no connection as RUN_FAILED. A
 * connection lost later is shown on the board and retried. */
enum run_code board_run(struct session *s, const struct board_opts *o);

#endif
