/* tserver.c: stopping and starting the server under test (tserver.h). */
#include "tserver.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "tclient.h"

/* The server this program started last, if any (we can reap it). */
static pid_t our_child;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static pid_t read_pidfile(void)
{
	const char *path = getenv("CD_SERVER_PIDFILE");
	FILE *f;
	long pid = 0;

	if (path == NULL || (f = fopen(path, "r")) == NULL) {
		const char *env = getenv("CD_SERVER_PID");

		return env ? (pid_t)strtol(env, NULL, 10) : 0;
	}
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

pid_t tsrv_pid(void)
{
	return read_pidfile();
}

void tsrv_signal(int sig)
{
	pid_t pid = read_pidfile();

	if (pid > 0)
		kill(pid, sig);
}

/* Gone, or a zombie that run.sh will reap. */
static bool exited(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	if (kill(pid, 0) != 0)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

int tsrv_wait_exit(int timeout_ms, const char **how)
{
	pid_t pid = read_pidfile();
	int waited, status;
	const char *dummy;

	if (how == NULL)
		how = &dummy;
	*how = "exited";
	for (waited = 0; waited <= timeout_ms; waited += 50) {
		if (pid == our_child && pid > 0) {
			pid_t r = waitpid(pid, &status, WNOHANG);

			if (r == pid) {
				our_child = 0;
				if (WIFEXITED(status))
					return WEXITSTATUS(status);
				*how = "killed by a signal";
				return -1;
			}
		} else if (exited(pid)) {
			return 0;
		}
		sleep_ms(50);
	}
	*how = "still running";
	return -1;
}

/* Runs bin -c conf, under $CD_SERVER_WRAPPER (words split on spaces,
 * e.g. "valgrind -q") when it is set, as run.sh does. */
static void exec_server(const char *bin, const char *conf)
{
	const char *wrapper = getenv("CD_SERVER_WRAPPER");
	char *words = strdup(wrapper ? wrapper : ""), *save = NULL, *w;
	char *argv[32];
	int n = 0;

	for (w = strtok_r(words, " ", &save); w != NULL && n < 28;
	     w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n++] = (char *)bin;
	argv[n++] = (char *)"-c";
	argv[n++] = (char *)conf;
	argv[n] = NULL;
	execvp(argv[0], argv);
}

static bool port_open(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	bool ok = false;
	int fd;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return false;
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	if (fd >= 0) {
		ok = connect(fd, res->ai_addr, res->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(res);
	return ok;
}

void tsrv_start_at(const char *config, const char *file, int line)
{
	const char *bin = tc_env_at("CD_SERVER_BIN", file, line);
	const char *conf = config ? config : tc_env_at("CD_CONFIG", file, line);
	const char *log = tc_env_at("CD_LOG", file, line);
	const char *pidfile = tc_env_at("CD_SERVER_PIDFILE", file, line);
	const char *host = tc_env_at("CD_HOST", file, line);
	const char *port = tc_env_at("CD_PORT", file, line);
	pid_t pid;
	FILE *f;
	int i;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		print_error("fork: %s\n", strerror(errno));
		_fail(file, line);
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
		int null = open("/dev/null", O_RDONLY);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (null >= 0)
			dup2(null, 0);
		exec_server(bin, conf);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	our_child = pid;
	f = fopen(pidfile, "w");
	if (f != NULL) {
		fprintf(f, "%ld\n", (long)pid);
		fclose(f);
	}
	for (i = 0; i < 600; i++) {
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			our_child = 0;
			print_error("the server (%s -c %s) exited during "
				    "start-up; see %s\n", bin, conf, log);
			_fail(file, line);
		}
		if (port_open(host, port))
			return;
		sleep_ms(50);
	}
	print_error("the server does not accept connections on %s:%s after "
		    "30 s; see %s\n", host, port, log);
	_fail(file, line);
}

void tsrv_restart_at(const char *file, int line)
{
	const char *how;
	int st;

	tsrv_signal(SIGTERM);
	st = tsrv_wait_exit(30000, &how);
	if (st != 0) {
		print_error("the server did not exit 0 after SIGTERM (%s, "
			    "status %d)\n", how, st);
		_fail(file, line);
	}
	tsrv_start_at(NULL, file, line);
}
