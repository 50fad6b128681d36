/* e2e_node.h: a second calldeskd node for the end-to-end groups that test
 * several nodes on one database (race, routing), and event matching.
 *
 * The second node runs the server binary under test ($CD_SERVER_BIN) with
 * a copy of $CD_CONFIG written next to it (so that its relative paths,
 * certificates and rules, stay the same): another listen port, a node name,
 * and any extra [server] lines a test needs. It logs to $CD_LOG.
 *
 * One second node at a time. e2e_node_teardown() stops it and then does
 * what tc_teardown() does: use it as the teardown of every test that
 * starts a node, so that the node is stopped when an assertion jumped out
 * of the test. An atexit() hook stops it too, should the program end. */
#ifndef CALLDESK_E2E_NODE_H
#define CALLDESK_E2E_NODE_H

#include <stdarg.h>

#include "tclient.h"

/* Starts the second node: node = name, and extra (NULL or lines like
 * "watch_backlog = 4096\n") in its [server] section. Waits until it
 * accepts connections; fails the test otherwise. Returns its port, valid
 * until the node stops. */
#define E2E_NODE_START(name, extra) \
	e2e_node_start_at((name), (extra), __FILE__, __LINE__)
const char *e2e_node_start_at(const char *name, const char *extra,
			      const char *file, int line);

/* The same, with a rules file of its own: $CD_RULES with rules (sections
 * of the rules file) appended, written next to the node's configuration.
 * The main node's file does not change. */
#define E2E_NODE_START_RULES(name, extra, rules) \
	e2e_node_start_rules_at((name), (extra), (rules), __FILE__, __LINE__)
const char *e2e_node_start_rules_at(const char *name, const char *extra,
				    const char *rules, const char *file,
				    int line);

/* The port of the running second node; NULL when none runs. */
const char *e2e_node_port(void);

/* SIGTERM, up to 10 s for it to exit, then SIGKILL. Safe when none runs.
 * Returns the exit status (0 expected), -1 when it had to be killed or
 * died by a signal, 0 when none ran. */
int e2e_node_stop(void);

/* cmocka teardown: e2e_node_stop(), then tc_teardown(). */
int e2e_node_teardown(void **state);

/* Connects to the second node and logs in as user; fails the test unless
 * the answer is OK. */
#define E2E_NODE_SESSION(user) e2e_node_session_at((user), __FILE__, __LINE__)
tc_conn *e2e_node_session_at(const char *user, const char *file, int line);

/* The first "* EVENT" of type (NULL: any) whose fields match every
 * key/value pair given (a NULL-terminated list: "complaint", "42", NULL),
 * waiting up to timeout_ms in all. Events of that type that do not match
 * are dropped; events of other types stay queued. malloc'd (caller frees);
 * NULL when none came in time. */
char *e2e_event_match(tc_conn *c, const char *type, int timeout_ms, ...)
	__attribute__((sentinel));

/* The same, failing the test with what was expected when none came. */
#define E2E_EVENT(c, type, timeout_ms, ...) \
	e2e_event_at(__FILE__, __LINE__, (c), (type), (timeout_ms), __VA_ARGS__)
char *e2e_event_at(const char *file, int line, tc_conn *c, const char *type,
		   int timeout_ms, ...) __attribute__((sentinel));

#endif
