/* repl.h: the interactive mode: libedit prompt with history (kept in
 * ~/.calldesk_history) and completion from the verb table, the
 * shortcuts, live pushes shown while the prompt waits. */
#ifndef CALLDESK_CLIENT_REPL_H
#define CALLDESK_CLIENT_REPL_H

#include <signal.h>

#include "run.h"

/* The flag SIGINT sets while the interactive mode runs; give it to the
 * session (session_params.interrupt) so that Ctrl-C cuts a wait short. */
volatile sig_atomic_t *repl_interrupt_flag(void);

/* Runs the prompt until quit, Ctrl-D or LOGOUT. Returns the exit code:
 * RUN_OK, or RUN_FAILED when the terminal could not be set up. */
enum run_code repl_run(struct runner *r);

#endif
