/* tserver.h: control of the server under test, for tests that stop,
 * restart or reconfigure it (shutdown, restart durability, reload).
 *
 * The server's pid is in $CD_SERVER_PIDFILE; these functions keep it up to
 * date so that tests/e2e/run.sh stops the right process at the end. A
 * server started here logs to $CD_LOG like the first one. */
#ifndef CALLDESK_TSERVER_H
#define CALLDESK_TSERVER_H

#include <sys/types.h>

/* The pid of the running server (from the pid file). */
pid_t tsrv_pid(void);

/* Sends sig (SIGTERM, SIGHUP, ...) to the server. */
void tsrv_signal(int sig);

/* Waits up to timeout_ms for the server to exit. Returns its exit status
 * (0..255) when the server was started by this program, 0 when it was
 * started by run.sh (its status is checked there), -1 when it still runs
 * or died by a signal (*how says which, if not NULL). */
int tsrv_wait_exit(int timeout_ms, const char **how);

/* Starts the server with config (NULL: $CD_CONFIG) and waits until it
 * accepts connections on $CD_PORT; fails the test otherwise. */
#define tsrv_start(config) tsrv_start_at((config), __FILE__, __LINE__)
void tsrv_start_at(const char *config, const char *file, int line);

/* SIGTERM, wait for exit 0, start again; fails the test otherwise. */
#define tsrv_restart() tsrv_restart_at(__FILE__, __LINE__)
void tsrv_restart_at(const char *file, int line);

#endif
