/* e2e_node.c: a second calldeskd node on the test database, and event
 * matching (see e2e_node.h). */
#include "e2e_node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "e2e_util.h"

static pid_t node_pid;
static char node_port[16];
static bool hooked;

/* Is 127.0.0.1:port free (nobody listening, and we may bind it)? */
static bool port_free(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	bool ok;

	if (fd < 0)
		return false;
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static bool port_accepts(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* A free port below the kernel's ephemeral range (as run.sh picks). */
static int pick_port(void)
{
	const char *main_port = getenv("CD_PORT");
	static bool seeded;
	int i;

	if (!seeded) {
		srand((unsigned)getpid() ^ (unsigned)time(NULL));
		seeded = true;
	}
	for (i = 0; i < 200; i++) {
		int p = 20000 + rand() % 12000;

		if (main_port != NULL && p == atoi(main_port))
			continue;
		if (port_free(p))
			return p;
	}
	return -1;
}

/* The key of a "key = value" line, into key (empty when none). */
static void line_key(const char *line, char *key, size_t len)
{
	size_t n = 0;

	while (*line == ' ' || *line == '\t')
		line++;
	while (line[n] != '\0' && line[n] != '=' && line[n] != ' ' &&
	       line[n] != '\t' && line[n] != '\n' && n + 1 < len)
		n++;
	memcpy(key, line, n);
	key[n] = '\0';
	if (strchr(line, '=') == NULL || line[0] == ';' || line[0] == '#')
		key[0] = '\0';
}

/* Is key set by one of the lines of extra? */
static bool extra_sets(const char *extra, const char *key)
{
	const char *p = extra;
	char k[64];

	while (p != NULL && *p != '\0') {
		line_key(p, k, sizeof(k));
		if (k[0] != '\0' && strcmp(k, key) == 0)
			return true;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return false;
}

/* Writes the copy of $CD_CONFIG for the second node into path. */
static bool write_config(const char *path, const char *name, int port,
			 const char *extra, const char *rules)
{
	const char *src = getenv("CD_CONFIG");
	FILE *in = src ? fopen(src, "r") : NULL, *out;
	char line[4096], key[64];
	bool in_server = false, in_rules = false;

	if (in == NULL)
		return false;
	out = fopen(path, "w");
	if (out == NULL) {
		fclose(in);
		return false;
	}
	fprintf(out, "; Written by tests/e2e/e2e_node.c from %s.\n", src);
	while (fgets(line, sizeof(line), in) != NULL) {
		const char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[') {
			in_server = strncmp(p, "[server]", 8) == 0;
			in_rules = strncmp(p, "[rules]", 7) == 0;
			fputs(line, out);
			if (in_server) {
				fprintf(out, "node = %s\n", name);
				if (extra != NULL)
					fprintf(out, "%s\n", extra);
			}
			continue;
		}
		line_key(line, key, sizeof(key));
		if (in_rules && rules != NULL && strcmp(key, "file") == 0) {
			fprintf(out, "file = %s\n", rules);
			continue;
		}
		if (in_server && strcmp(key, "listen") == 0) {
			fprintf(out, "listen = 127.0.0.1:%d\n", port);
			continue;
		}
		/* Ours replace the copy's own. The metrics address belongs
		 * to the first node (run.sh): the copy serves none unless
		 * extra gives it one. */
		if (in_server && (strcmp(key, "node") == 0 ||
				  strcmp(key, "metrics") == 0 ||
				  extra_sets(extra, key)))
			continue;
		fputs(line, out);
	}
	fclose(in);
	return fclose(out) == 0;
}

static void stop_at_exit(void)
{
	e2e_node_stop();
}

/* Starts the node once; false (with why) when it did not come up. */
static bool try_start(const char *name, const char *extra, const char *rules,
		      char *why, size_t whylen)
{
	const char *bin = getenv("CD_SERVER_BIN");
	const char *tmp = getenv("CD_TMPDIR");
	const char *log = getenv("CD_LOG");
	char conf[512];
	int port = pick_port();
	int64_t deadline;
	pid_t pid;

	if (bin == NULL || tmp == NULL || log == NULL) {
		snprintf(why, whylen, "CD_SERVER_BIN, CD_TMPDIR or CD_LOG not "
			 "set: run through tests/e2e/run.sh");
		return false;
	}
	if (port < 0) {
		snprintf(why, whylen, "no free port");
		return false;
	}
	snprintf(conf, sizeof(conf), "%s/node-%s.conf", tmp, name);
	if (!write_config(conf, name, port, extra, rules)) {
		snprintf(why, whylen, "could not write %s from $CD_CONFIG: %s",
			 conf, strerror(errno));
		return false;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return false;
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
		int null = open("/dev/null", O_RDONLY);

		/* Should this program die without its clean-up (a crash, the
		 * harness's timeout), the node goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() == 1)
			_exit(127);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (null >= 0)
			dup2(null, 0);
		fprintf(stderr, "---- e2e_node: second node %s on port %d ----\n",
			name, port);
		execl(bin, bin, "-c", conf, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	node_pid = pid;
	snprintf(node_port, sizeof(node_port), "%d", port);
	deadline = e2e_mono_ms() + e2e_wait_ms();
	do {
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			node_pid = 0;
			node_port[0] = '\0';
			snprintf(why, whylen, "the second node (%s -c %s) exited "
				 "during start-up (status %d); see %s", bin,
				 conf, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				 log);
			return false;
		}
		if (port_accepts(node_port))
			return true;
	} while (e2e_poll_sleep(deadline));
	snprintf(why, whylen, "the second node does not accept connections "
		 "on port %s after %d ms; see %s", node_port, e2e_wait_ms(),
		 log);
	e2e_node_stop();
	return false;
}

/* Writes $CD_RULES + more into path. */
static bool write_rules(const char *path, const char *more)
{
	size_t len = 0;
	char *text = e2e_slurp(getenv("CD_RULES"), 0, &len);
	FILE *out = text != NULL ? fopen(path, "w") : NULL;
	bool ok = out != NULL && fwrite(text, 1, len, out) == len &&
		  fputs(more, out) >= 0;

	if (out != NULL)
		ok = fclose(out) == 0 && ok;
	free(text);
	return ok;
}

static const char *start_at(const char *name, const char *extra,
			    const char *rules, const char *file, int line)
{
	char why[2048] = "";
	int attempt;

	if (!hooked) {
		atexit(stop_at_exit);
		hooked = true;
	}
	e2e_node_stop();
	/* A port taken between our check and the node's bind: try another. */
	for (attempt = 0; attempt < 3; attempt++) {
		if (try_start(name, extra, rules, why, sizeof(why)))
			return node_port;
	}
	print_error("%s:%d: %s\n", file, line, why);
	_fail(file, line);
	return NULL;
}

const char *e2e_node_start_at(const char *name, const char *extra,
			      const char *file, int line)
{
	return start_at(name, extra, NULL, file, line);
}

const char *e2e_node_start_rules_at(const char *name, const char *extra,
				    const char *rules, const char *file,
				    int line)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/node-%s-rules.conf",
		 tc_env("CD_TMPDIR"), name);
	if (!write_rules(path, rules)) {
		print_error("%s:%d: cannot write %s from $CD_RULES: %s\n", file,
			    line, path, strerror(errno));
		_fail(file, line);
	}
	return start_at(name, extra, path, file, line);
}

const char *e2e_node_port(void)
{
	return node_pid > 0 ? node_port : NULL;
}

int e2e_node_stop(void)
{
	pid_t pid = node_pid;
	int status = 0, i;

	if (pid <= 0)
		return 0;
	node_pid = 0;
	node_port[0] = '\0';
	kill(pid, SIGTERM);
	for (i = 0; i < 200; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		e2e_sleep_ms(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int e2e_node_teardown(void **state)
{
	/* Clients first, so that the node has no session to wait for. */
	tc_teardown(state);
	e2e_node_stop();
	return 0;
}

tc_conn *e2e_node_session_at(const char *user, const char *file, int line)
{
	struct tc_opts o = { 0 };
	tc_conn *c;
	struct tc_resp *r;

	o.port = e2e_node_port();
	if (o.port == NULL) {
		print_error("%s:%d: no second node runs\n", file, line);
		_fail(file, line);
	}
	c = tc_connect_at(&o, file, line);
	r = tc_login(c, user, tc_password());
	tc_expect_at(r, "OK", NULL, file, line);
	tc_resp_free(&r);
	return c;
}

static bool event_fields_match(const char *ev, va_list ap)
{
	const char *key, *want;
	bool ok = true;

	while (ok && (key = va_arg(ap, const char *)) != NULL) {
		char *got;

		want = va_arg(ap, const char *);
		got = tc_field(ev, key);
		ok = got != NULL && want != NULL && strcmp(got, want) == 0;
		free(got);
	}
	return ok;
}

static char *event_vmatch(tc_conn *c, const char *type, int timeout_ms,
			  va_list ap)
{
	int64_t deadline = e2e_mono_ms() + timeout_ms;

	for (;;) {
		int64_t left = deadline - e2e_mono_ms();
		char *ev = tc_event(c, type, left > 0 ? (int)left : 0);
		va_list aq;
		bool ok;

		if (ev == NULL)
			return NULL;
		va_copy(aq, ap);
		ok = event_fields_match(ev, aq);
		va_end(aq);
		if (ok)
			return ev;
		free(ev);
	}
}

char *e2e_event_match(tc_conn *c, const char *type, int timeout_ms, ...)
{
	va_list ap;
	char *ev;

	va_start(ap, timeout_ms);
	ev = event_vmatch(c, type, timeout_ms, ap);
	va_end(ap);
	return ev;
}

char *e2e_event_at(const char *file, int line, tc_conn *c, const char *type,
		   int timeout_ms, ...)
{
	va_list ap;
	char *ev;

	va_start(ap, timeout_ms);
	ev = event_vmatch(c, type, timeout_ms, ap);
	va_end(ap);
	if (ev == NULL) {
		const char *key;

		print_error("%s:%d: %s: expected within %d ms an event "
			    "\"* EVENT type=%s", file, line, tc_label(c),
			    timeout_ms, type ? type : "*");
		va_start(ap, timeout_ms);
		while ((key = va_arg(ap, const char *)) != NULL)
			print_error(" %s=%s", key, va_arg(ap, const char *));
		va_end(ap);
		print_error(" ...\", none came (%zu other event(s) queued)\n",
			    tc_events_queued(c));
		_fail(file, line);
	}
	return ev;
}
