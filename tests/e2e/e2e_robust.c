/* e2e_robust.c: the "robust" group: bad input (PROTOCOL.md §2-3), each
 * answered with its code while the connection keeps working; long lines;
 * pipelining; max_clients; a client that never reads; kill -9 in the
 * middle of acknowledged writes; PostgreSQL stopped and started under
 * load; SIGTERM in the middle of a request. The tests that stop the
 * server start it again, so that later groups find one. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "e2e.h"
#include "e2e_node.h"
#include "e2e_util.h"
#include "tclient.h"
#include "tdb.h"
#include "tserver.h"

#define MISSING "987654321987"

/* ---- helpers ------------------------------------------------------------- */

/* "TAG " + head + filler up to total bytes, LF included. Caller frees. */
static char *long_line(const char *head, size_t total)
{
	size_t n = strlen(head);
	char *s = malloc(total + 1);

	assert_non_null(s);
	assert_true(total > n + 1);
	memcpy(s, head, n);
	memset(s + n, 'a', total - n - 1);
	s[total - 1] = '\n';
	s[total] = '\0';
	return s;
}

/* Sends bytes and expects the answer tagged tag to be word/code, then that
 * the connection still answers a PING. */
#define EXPECT_RAW(c, what, bytes, len, tag, word, code) \
	expect_raw_at((c), (what), (bytes), (len), (tag), (word), (code), \
		      __FILE__, __LINE__)

static void expect_raw_at(tc_conn *c, const char *what, const char *bytes,
			  size_t len, const char *tag, const char *word,
			  const char *code, const char *file, int line)
{
	struct tc_resp *r;

	if (!tc_send_raw(c, bytes, len)) {
		print_error("case: %s: send: %s\n", what, tc_error(c));
		_fail(file, line);
	}
	r = tc_collect(c, tag, 0);
	if (strcmp(r->word, word) != 0 ||
	    strcmp(r->code ? r->code : "", code) != 0)
		print_error("case: %s\n", what);
	e2e_resp_at(r, word, code, file, line);
	e2e_ok_at(file, line, c, "PING");
}

/* VmRSS of a process in kB; -1 when unreadable. */
static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	FILE *f;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* The server is run.sh's own child: stopping it for good would look like
 * a crash to run.sh; restart it first so that it is ours. */
static void own_the_server(void)
{
	const char *first = getenv("CD_SERVER_PID");

	if (first != NULL && strtol(first, NULL, 10) == (long)tsrv_pid())
		tsrv_restart();
}

/* ---- the bad-input catalogue ------------------------------------------- */

static const struct bad_case {
	const char *what;
	const char *bytes;
	size_t len;
	const char *word, *code;
} framing_cases[] = {
#define C(what, s, w, code) { what, s, sizeof(s) - 1, w, code }
	C("invalid UTF-8 in a quoted value",
	  "x CUSTOMER ADD name=\"caf\xe9\"\n", "BAD", "bad-encoding"),
	C("invalid UTF-8 in the verb", "x CUST\xffOMER GET id=1\n", "BAD",
	  "bad-encoding"),
	C("overlong UTF-8", "x CUSTOMER ADD name=\xc1\x81\n", "BAD",
	  "bad-encoding"),
	C("NUL in a value", "x CUSTOMER GET id=1\0 y=2\n", "BAD",
	  "bad-encoding"),
	C("NUL in a quoted value", "x CUSTOMER ADD name=\"a\0b\"\n", "BAD",
	  "bad-encoding"),
	C("raw tab between tokens", "x CUSTOMER\tGET id=1\n", "BAD",
	  "bad-encoding"),
	C("raw tab in a quoted value", "x CUSTOMER ADD name=\"a\tb\"\n", "BAD",
	  "bad-encoding"),
	C("raw BEL in a quoted value", "x CUSTOMER ADD name=\"a\x07" "b\"\n",
	  "BAD", "bad-encoding"),
	C("raw control character 0x1f", "x PING a=\x1f\n", "BAD",
	  "bad-encoding"),
	C("unknown verb", "x FROBNICATE id=1\n", "BAD", "unknown-verb"),
	C("unknown sub-verb", "x CUSTOMER FROBNICATE id=1\n", "BAD",
	  "unknown-verb"),
	C("sub-verb missing", "x CUSTOMER id=1\n", "BAD", "unknown-verb"),
	C("verb of digits", "x 123 id=1\n", "BAD", "bad-arg"),
	C("duplicate key", "x CUSTOMER GET id=1 id=1\n", "BAD", "bad-arg"),
	C("duplicate key, other values", "x CUSTOMER ADD name=a name=b\n",
	  "BAD", "bad-arg"),
	C("unterminated quote", "x CUSTOMER ADD name=\"abc\n", "BAD",
	  "bad-arg"),
	C("quote ended by an escaped quote", "x CUSTOMER ADD name=\"abc\\\"\n",
	  "BAD", "bad-arg"),
	C("unknown escape \\q", "x CUSTOMER ADD name=\"a\\qb\"\n", "BAD",
	  "bad-arg"),
	C("unknown escape \\x41", "x CUSTOMER ADD name=\"a\\x41\"\n", "BAD",
	  "bad-arg"),
	C("unknown escape \\u00e9", "x CUSTOMER ADD name=\"\\u00e9\"\n", "BAD",
	  "bad-arg"),
	C("unknown escape \\0", "x CUSTOMER ADD name=\"\\0\"\n", "BAD",
	  "bad-arg"),
	C("quote in a bare value", "x CUSTOMER ADD name=a\"b\n", "BAD",
	  "bad-arg"),
	C("upper-case key", "x CUSTOMER GET ID=1\n", "BAD", "bad-arg"),
	C("key of 33 characters",
	  "x CUSTOMER GET abcdefghijklmnopqrstuvwxyz0123456=1\n", "BAD",
	  "bad-arg"),
	C("key with a dash", "x CUSTOMER GET my-id=1\n", "BAD", "bad-arg"),
	C("empty bare value", "x CUSTOMER GET id=\n", "BAD", "bad-arg"),
	C("a word that is no key=value", "x CUSTOMER GET id\n", "BAD",
	  "bad-arg"),
	C("empty key", "x CUSTOMER GET =1\n", "BAD", "bad-arg"),
#undef C
};

/* After login: the checks that need the command table and values. */
static const struct bad_case value_cases[] = {
#define C(what, s, w, code) { what, s, sizeof(s) - 1, w, code }
	C("unknown key", "x CUSTOMER GET id=1 colour=red\n", "BAD", "bad-arg"),
	C("huge id", "x CUSTOMER GET id=99999999999999999999999999\n", "BAD",
	  "bad-arg"),
	C("id 2^64+1", "x CUSTOMER GET id=18446744073709551617\n", "BAD",
	  "bad-arg"),
	C("negative id", "x CUSTOMER GET id=-1\n", "BAD", "bad-arg"),
	C("huge limit", "x CUSTOMER FIND name=a limit=99999999999999999999\n",
	  "BAD", "bad-arg"),
	C("huge severity", "x COMPLAINT OPEN customer=1 category=billing "
	  "severity=18446744073709551617 summary=x\n", "BAD", "bad-arg"),
	C("money, three decimals", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=1.234 resolution=x\n", "BAD", "bad-arg"),
	C("money, negative", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=-5 resolution=x\n", "BAD", "bad-arg"),
	C("money, exponent", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=1e3 resolution=x\n", "BAD", "bad-arg"),
	C("money, nine digits", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=123456789 resolution=x\n", "BAD", "bad-arg"),
	C("money, no integer part", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=.5 resolution=x\n", "BAD", "bad-arg"),
	C("money, trailing dot", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=5. resolution=x\n", "BAD", "bad-arg"),
	C("money, decimal comma", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=1,50 resolution=x\n", "BAD", "bad-arg"),
	C("money, plus sign", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=+5 resolution=x\n", "BAD", "bad-arg"),
	C("money, two dots", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=25.5.0 resolution=x\n", "BAD", "bad-arg"),
	C("money, words", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=ten resolution=x\n", "BAD", "bad-arg"),
	C("money, empty", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=\"\" resolution=x\n", "BAD", "bad-arg"),
	C("money, another currency", "x COMPLAINT RESOLVE id=" MISSING
	  " action=refund amount=5 currency=JPY resolution=x\n", "BAD",
	  "bad-arg"),
	C("time, no zone", "x COMPLAINT WAIT id=" MISSING
	  " reason=x until=2030-01-01T00:00:00\n", "BAD", "bad-arg"),
	C("time, month 13", "x COMPLAINT WAIT id=" MISSING
	  " reason=x until=2030-13-01T00:00:00Z\n", "BAD", "bad-arg"),
	C("time, 30 February", "x COMPLAINT WAIT id=" MISSING
	  " reason=x until=2030-02-30T00:00:00Z\n", "BAD", "bad-arg"),
	C("time, hour 24", "x COMPLAINT WAIT id=" MISSING
	  " reason=x until=2030-01-01T24:00:01Z\n", "BAD", "bad-arg"),
	C("time, a date only", "x COMPLAINT WAIT id=" MISSING
	  " reason=x until=2030-01-01\n", "BAD", "bad-arg"),
	C("time, epoch seconds", "x COMPLAINT WAIT id=" MISSING
	  " reason=x until=1900000000\n", "BAD", "bad-arg"),
	C("time, words", "x COMPLAINT WAIT id=" MISSING
	  " reason=x until=tomorrow\n", "BAD", "bad-arg"),
	C("time, bad offset", "x COMPLAINT WAIT id=" MISSING
	  " reason=x until=2030-01-01T00:00:00+25:00\n", "BAD", "bad-arg"),
	C("boolean", "x CUSTOMER ADD name=x vip=TRUE\n", "BAD", "bad-arg"),
	C("enum", "x STATE SET state=sleeping\n", "BAD", "bad-arg"),
	C("name with upper case", "x COMPLAINT LIST queue=Billing\n", "BAD",
	  "bad-arg"),
	C("a valid request on a missing object", "x COMPLAINT WAIT id=" MISSING
	  " reason=x until=2030-01-01T00:00:00.5+02:00\n", "NO", "not-found"),
#undef C
};

static void run_cases(tc_conn *c, const struct bad_case *cases, size_t n,
		      const char *when)
{
	size_t i;

	for (i = 0; i < n; i++)
		EXPECT_RAW(c, e2e_fmt("%s (%s)", cases[i].what, when),
			   cases[i].bytes, cases[i].len, "x", cases[i].word,
			   cases[i].code);
}

/* Before login, login_timeout (3 s) runs from the connection: a long
 * series of requests before login moves to a fresh connection once the one
 * in use is a second old, so that a slow machine does not turn the series
 * into a login-timeout. *opened: when the connection in use was opened. */
static void fresh_if_old(tc_conn **c, int64_t *opened)
{
	if (e2e_mono_ms() - *opened < 1000)
		return;
	tc_close(c);
	*opened = e2e_mono_ms();
	*c = tc_connect();
}

static void test_robust_catalogue(void **state)
{
	long long customers = tdb_int("SELECT count(*) FROM customers", NULL);
	int64_t opened = e2e_mono_ms();
	tc_conn *c = tc_connect();
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(framing_cases); i++) {
		fresh_if_old(&c, &opened);
		EXPECT_RAW(c, e2e_fmt("%s (before login)", framing_cases[i].what),
			   framing_cases[i].bytes, framing_cases[i].len, "x",
			   framing_cases[i].word, framing_cases[i].code);
	}
	/* Before login, a well-formed request for a logged-in verb is
	 * auth-required, whatever its arguments. */
	for (i = 0; i < NELEM(value_cases); i++) {
		fresh_if_old(&c, &opened);
		EXPECT_RAW(c, e2e_fmt("%s (before login)", value_cases[i].what),
			   value_cases[i].bytes, value_cases[i].len, "x", "NO",
			   "auth-required");
	}
	/* The connection that took the last of them still logs in. */
	E2E_RESP(tc_login(c, "agent1", tc_password()), "OK", NULL);
	run_cases(c, framing_cases, NELEM(framing_cases), "after login");
	run_cases(c, value_cases, NELEM(value_cases), "after login");
	/* Nothing was created by the refused CUSTOMER ADDs. */
	CHECK(tdb_int("SELECT count(*) FROM customers", NULL) == customers,
	      "a refused CUSTOMER ADD created a customer");
}

/* ---- long lines ------------------------------------------------------------ */

static void test_robust_long_line_before_login(void **state)
{
	tc_conn *c = tc_connect();
	char *over = long_line("l4 PING x=", E2E_MAX_LINE_LOGIN + 1);
	const char *head = "l1 PING\nl2 CUSTOMER GET id=1\nl3 FROBNICATE\n";
	char *all = malloc(strlen(head) + strlen(over) + 1);
	struct tc_resp *r;

	(void)state;
	assert_non_null(all);
	strcpy(all, head);
	strcat(all, over);
	(void)tc_send_raw(c, all, strlen(all)); /* may close early */
	r = tc_collect(c, "l1", 0);
	E2E_RESP(r, "OK", NULL);
	r = tc_collect(c, "l2", 0);
	E2E_RESP(r, "NO", "auth-required");
	r = tc_collect(c, "l3", 0);
	E2E_RESP(r, "BAD", "unknown-verb");
	TC_EXPECT_BYE(c, "line-too-long", 0);
	free(over);
	free(all);
}

static void test_robust_long_line_after_login(void **state)
{
	tc_conn *c = tc_session("agent1");
	char *over = long_line("m3 PING x=", E2E_MAX_LINE + 1);
	char *head = strdup("m1 PING\nm2 CUSTOMER GET id=" MISSING "\n");
	struct tc_resp *r;

	(void)state;
	assert_non_null(head);
	CHECK(tc_send_raw(c, head, strlen(head)), "send: %s", tc_error(c));
	(void)tc_send_raw(c, over, strlen(over));
	r = tc_collect(c, "m1", 0);
	E2E_RESP(r, "OK", NULL);
	r = tc_collect(c, "m2", 0);
	E2E_RESP(r, "NO", "not-found");
	TC_EXPECT_BYE(c, "line-too-long", 0);
	free(over);
	free(head);
}

/* A line that never ends: BYE without waiting for its LF. */
static void test_robust_endless_line(void **state)
{
	tc_conn *c = tc_session("agent1");
	size_t n = 256 * 1024;
	char *buf = malloc(n);

	(void)state;
	assert_non_null(buf);
	memset(buf, 'a', n);
	memcpy(buf, "e1 PING x=", 10);
	(void)tc_send_raw(c, buf, n);
	TC_EXPECT_BYE(c, "line-too-long", 0);
	free(buf);
}

/* A line read before the LOGIN is answered counts as before login. */
static void test_robust_long_line_during_login(void **state)
{
	tc_conn *c = tc_connect();
	char *over = long_line("n2 PING x=", E2E_MAX_LINE_LOGIN + 100);
	char *all = NULL;
	struct tc_resp *r;
	const char *login = e2e_fmt("n1 LOGIN user=agent1 password=%s\n",
				    tc_q(tc_password()));

	(void)state;
	all = malloc(strlen(login) + strlen(over) + 1);
	assert_non_null(all);
	strcpy(all, login);
	strcat(all, over);
	(void)tc_send_raw(c, all, strlen(all));
	r = tc_collect(c, "n1", 0);
	E2E_RESP(r, "OK", NULL);
	TC_EXPECT_BYE(c, "line-too-long", 0);
	free(over);
	free(all);
}

/* ---- pipelining ------------------------------------------------------------ */

static void test_robust_pipelining(void **state)
{
	enum { N = 50 };
	tc_conn *c = tc_session("agent2");
	const char *tok = e2e_uniq("pipe");
	char *buf = NULL;
	size_t len = 0, cap = 0;
	long long prev_id = 0;
	int i;

	(void)state;
	for (i = 1; i <= N; i++) {
		const char *line;

		switch (i % 5) {
		case 0: line = e2e_fmt("p%d PING\n", i); break;
		case 1: line = e2e_fmt("p%d CUSTOMER ADD name=%s-%d\n", i, tok,
				       i); break;
		case 2: line = e2e_fmt("p%d CUSTOMER GET id=" MISSING "\n", i);
			break;
		case 3: line = e2e_fmt("p%d FROBNICATE\n", i); break;
		default: line = e2e_fmt("p%d CATEGORY LIST\n", i); break;
		}
		if (len + strlen(line) + 1 > cap) {
			cap = (cap + strlen(line) + 1) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		memcpy(buf + len, line, strlen(line) + 1);
		len += strlen(line);
	}
	CHECK(tc_send_raw(c, buf, len), "send: %s", tc_error(c));
	free(buf);
	for (i = 1; i <= N; i++) {
		struct tc_resp *r = tc_collect(c, e2e_fmt("p%d", i), 0);

		CHECK(r->nother == 0, "answers out of order: while waiting "
		      "for p%d got %s", i, r->other[0]);
		switch (i % 5) {
		case 0: E2E_RESP(r, "OK", NULL); break;
		case 1: {
			long long id;

			E2E_RESP(r, "OK", NULL);
			id = E2E_NUM(r, "customer");
			CHECK(id > prev_id, "p%d: customer %lld after %lld: "
			      "not done in order", i, id, prev_id);
			prev_id = id;
			break;
		}
		case 2: E2E_RESP(r, "NO", "not-found"); break;
		case 3: E2E_RESP(r, "BAD", "unknown-verb"); break;
		default:
			E2E_RESP(r, "OK", NULL);
			E2E_NROWS(r, 16);
			break;
		}
	}
	E2E_OK(c, "PING");
}

/* ---- max_clients ------------------------------------------------------------ */

/* Opens connections with opts until one is refused (at most limit);
 * returns how many were opened, into conns. */
static long long open_until_refused(const struct tc_opts *opts,
				    tc_conn **conns, long long limit)
{
	long long n = 0;
	char err[512];

	while (n < limit) {
		conns[n] = tc_open(opts, err, sizeof(err));
		if (conns[n] == NULL)
			break;
		n++;
	}
	return n;
}

static void close_all(tc_conn **conns, long long n)
{
	long long i;

	for (i = 0; i < n; i++)
		tc_close(&conns[i]);
}

/* On a second node of our own with the configured max_clients: the
 * connections below do not log in, and with the generated login_timeout
 * (3 s) the server would close the first of them before a slow machine
 * (TLS handshakes of a sanitizer build on a busy runner) has opened the
 * last; that node gives them a minute. */
static void test_robust_max_clients(void **state)
{
	/* static: no leak when an assertion jumps out of the test (the
	 * connections themselves are tc_teardown's). */
	static tc_conn *conns[500];
	long long max = e2e_config_int("max_clients", 50);
	struct tc_opts any = { 0 }, o = { .no_greeting = true };
	char err[512], *line = NULL;
	tc_conn *extra;
	long long n = 0;
	enum tc_status st;
	int64_t deadline;
	bool again = false;

	(void)state;
	CHECK(max >= 2 && max <= (long long)NELEM(conns), "max_clients=%lld "
	      "in %s: the test wants a small number", max, getenv("CD_CONFIG"));
	any.port = o.port = E2E_NODE_START("maxclients", "login_timeout = 60");
	deadline = e2e_mono_ms() + e2e_wait_ms();
	for (;;) {
		n = open_until_refused(&any, conns, max);
		if (n == max)
			break;
		close_all(conns, n);
		CHECK(e2e_poll_sleep(deadline), "only %lld connections got in "
		      "with max_clients=%lld", n, max);
	}

	/* One more: BYE overloaded (no greeting needed), then closed. */
	extra = tc_open(&o, err, sizeof(err));
	CHECK(extra != NULL, "connection %lld: handshake failed (%s); "
	      "expected * BYE code=overloaded", max + 1, err);
	st = tc_read_line(extra, tc_timeout_ms(), &line);
	if (st == TC_LINE && strncmp(line, "* HELLO", 7) == 0) {
		free(line);
		st = tc_read_line(extra, tc_timeout_ms(), &line);
	}
	CHECK(st == TC_LINE && strncmp(line, "* BYE", 5) == 0,
	      "client %lld of max_clients=%lld: expected * BYE "
	      "code=overloaded, got %s", max + 1, max,
	      st == TC_LINE ? line : st == TC_EOF ? "the connection closed" :
	      "nothing");
	{
		char *code = tc_field(line, "code");

		CHECK(code != NULL && strcmp(code, "overloaded") == 0,
		      "expected * BYE code=overloaded, got %s", line);
		free(code);
	}
	free(line);
	CHECK(tc_wait_eof(extra, tc_timeout_ms()),
	      "the server did not close the connection after BYE overloaded");
	tc_close(&extra);

	/* The others are served. */
	E2E_RESP(tc_login(conns[0], "agent1", tc_password()), "OK", NULL);
	E2E_OK(conns[0], "PING");
	E2E_OK(conns[max - 1], "PING");

	/* One leaves: a new client gets in. */
	tc_close(&conns[0]);
	deadline = e2e_mono_ms() + e2e_wait_ms();
	do {
		extra = tc_open(&any, err, sizeof(err));
		if (extra != NULL) {
			again = true;
			E2E_OK(extra, "PING");
		}
	} while (!again && e2e_poll_sleep(deadline));
	CHECK(again, "after a client left, a new one is still refused: %s",
	      err);
	close_all(conns, max);
}

/* Clients that vanish without close_notify (the process exits): the
 * server shrugs, and serves the others. */
static void test_robust_no_close_notify(void **state)
{
	enum { KIDS = 6 };
	pid_t server = tsrv_pid();
	tc_conn *c;
	int i;

	(void)state;
	for (i = 0; i < KIDS; i++) {
		pid_t pid;
		int status;

		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			char err[256];
			tc_conn *k = tc_open(NULL, err, sizeof(err));

			if (k != NULL && i % 3 != 0)
				(void)tc_login(k, "agent1", tc_password());
			if (k != NULL && i % 3 == 2)
				/* Requests sent, answers never read. */
				(void)tc_sendf(k, "x1 PING\nx2 CATEGORY LIST\n"
					       "x3 CUSTOMER GET id=1");
			_exit(0); /* no close_notify, no shutdown */
		}
		CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s",
		      strerror(errno));
	}
	e2e_sleep_ms(200);
	CHECK(kill(server, 0) == 0, "the server (pid %ld) is gone after "
	      "clients left without close_notify", (long)server);
	c = tc_session("agent1");
	E2E_OK(c, "PING");
	E2E_OK(c, "CATEGORY LIST");
}

/* ---- a client that never reads ------------------------------------------- */

/* The quickest of up to three answers to request on c, each expected to
 * be WORD (with CODE when not NULL), stopping at the first within
 * limit_ms: one hiccup of a busy machine is not what is measured. *tries
 * gets how many were sent. */
static int best_of_three(tc_conn *c, const char *request, const char *word,
			 const char *code, int limit_ms, int *tries)
{
	int best = INT_MAX, k;

	for (k = 0; k < 3 && best >= limit_ms; k++) {
		struct tc_resp *r = tc_cmd(c, "%s", request);

		E2E_RESP(r, word, code);
		if (strcmp(word, "ERR") == 0)
			TC_FIELD(r, "retry", "yes");
		best = r->elapsed_ms < best ? r->elapsed_ms : best;
	}
	*tries = k;
	return best;
}

static void test_robust_slow_reader(void **state)
{
	const size_t chunk_len = 64 * 1024, cap = 32u << 20;
	const char *req = "s CATEGORY LIST\n";
	tc_conn *slow = tc_session("agent1");
	tc_conn *other;
	pid_t pid = tsrv_pid();
	long rss0 = rss_kb(pid), rss1;
	char *chunk = malloc(chunk_len);
	size_t sent = 0, i, rl = strlen(req);
	long long cust;
	int k, best;

	(void)state;
	assert_non_null(chunk);
	CHECK(rss0 > 0, "cannot read VmRSS of the server (pid %ld)", (long)pid);
	for (i = 0; i + rl <= chunk_len; i += rl)
		memcpy(chunk + i, req, rl);
	/* Each 16-byte request asks for 16 rows: unread, the answers would
	 * be about 80 times the requests. Send until the server stops
	 * reading (the send times out) or 32 MB went. */
	tc_set_send_timeout(slow, 5000);
	while (sent < cap && tc_send_raw(slow, chunk, i))
		sent += i;
	rss1 = rss_kb(pid);
	CHECK(rss1 > 0, "cannot read VmRSS of the server");
	CHECK(rss1 - rss0 < 64 * 1024,
	      "the server grew from %ld kB to %ld kB for a client that does "
	      "not read (%zu bytes of requests sent)", rss0, rss1, sent);

	/* Meanwhile the others are served, promptly (a session opened now:
	 * the sending may have outlasted idle_timeout). */
	other = tc_session("agent2");
	cust = E2E_CUSTOMER(other, NULL);
	best = best_of_three(other, "PING", "OK", NULL, 2000, &k);
	CHECK(best < 2000, "PING took %d ms (the best of %d) beside a stuck "
	      "client", best, k);
	best = best_of_three(other, e2e_fmt("CUSTOMER GET id=%lld", cust), "OK",
			     NULL, 2000, &k);
	CHECK(best < 2000, "CUSTOMER GET took %d ms (the best of %d) beside "
	      "a stuck client", best, k);
	tc_close(&slow);
	E2E_OK(other, "PING");
	free(chunk);
}

/* ---- kill -9 under acknowledged writes -------------------------------------- */

struct acked {
	long long note;
	char text[48];
};

static void test_robust_kill9(void **state)
{
	enum { WARM = 120, BURST = 60 };
	struct acked *ack = calloc(WARM + BURST, sizeof(*ack));
	size_t nack = 0, i;
	tc_conn *c;
	struct tc_resp *r;
	long long cust, ia;
	const char *tok = e2e_uniq("k9-");
	const char *how;
	int n;

	(void)state;
	assert_non_null(ack);
	own_the_server();
	c = tc_session("agent3");
	cust = E2E_CUSTOMER(c, NULL);
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=phone "
		   "direction=inbound", cust);
	ia = E2E_NUM(r, "interaction");

	/* A stream of notes, pipelined ten at a time, each acknowledged. */
	for (n = 0; n < WARM; n += 10) {
		int j;

		for (j = n; j < n + 10; j++)
			CHECK(tc_sendf(c, "w%d INTERACTION NOTE id=%lld text=%s-%d",
				       j, ia, tok, j), "send: %s", tc_error(c));
		for (j = n; j < n + 10; j++) {
			r = tc_collect(c, e2e_fmt("w%d", j), 0);
			E2E_RESP(r, "OK", NULL);
			ack[nack].note = E2E_NUM(r, "note");
			snprintf(ack[nack].text, sizeof(ack[nack].text),
				 "%s-%d", tok, j);
			nack++;
		}
	}
	/* More in flight, and the server killed among them. */
	for (n = WARM; n < WARM + BURST; n++)
		(void)tc_sendf(c, "w%d INTERACTION NOTE id=%lld text=%s-%d", n,
			       ia, tok, n);
	tsrv_signal(SIGKILL);
	/* What was acknowledged before it died counts too. */
	for (n = WARM; n < WARM + BURST; n++) {
		r = tc_collect(c, e2e_fmt("w%d", n), 2000);
		if (strcmp(r->word, "OK") != 0)
			break;
		ack[nack].note = E2E_NUM(r, "note");
		snprintf(ack[nack].text, sizeof(ack[nack].text), "%s-%d", tok, n);
		nack++;
	}
	(void)tsrv_wait_exit(10000, &how);
	CHECK(strcmp(how, "still running") != 0,
	      "the server survived SIGKILL");
	tc_close(&c);
	tsrv_start(NULL);

	/* Every acknowledged note is there, with its text. */
	for (i = 0; i < nack; i++) {
		char *db = tdb_value("SELECT text FROM notes WHERE id = $1 AND "
				     "interaction_id = $2",
				     e2e_fmt("%lld", ack[i].note),
				     e2e_fmt("%lld", ia), NULL);

		CHECK(db != NULL && strcmp(db, ack[i].text) == 0,
		      "acknowledged note %lld (\"%s\") after kill -9: the "
		      "database has %s", ack[i].note, ack[i].text,
		      db ? db : "nothing");
		free(db);
	}
	c = tc_session("agent3");
	r = E2E_OK(c, "INTERACTION GET id=%lld", ia);
	CHECK(r->nrows >= nack, "INTERACTION GET: %zu notes after the "
	      "restart, %zu were acknowledged", r->nrows, nack);
	E2E_OK(c, "INTERACTION END id=%lld outcome=abandoned", ia);
	print_message("kill -9: %zu acknowledged notes checked\n", nack);
	free(ack);
}

/* ---- PostgreSQL stopped and started ---------------------------------------- */

static void pg_stop(void)
{
	int st = e2e_system("'%s' stop '%s' >/dev/null 2>&1",
			    tc_env("CD_PGCLUSTER"), tc_env("CD_PGDIR"));

	CHECK(st == 0, "pgcluster.sh stop failed (status %d)", st);
	tdb_close();
}

static void pg_start(void)
{
	int st = e2e_system("'%s' start '%s' '%s' >/dev/null 2>&1",
			    tc_env("CD_PGCLUSTER"), tc_env("CD_PGDIR"),
			    tc_env("CD_PGPORT"));

	CHECK(st == 0, "pgcluster.sh start failed (status %d)", st);
	tdb_close();
}

/* An answer to a write while the database went away: OK, or ERR with the
 * right retry. */
static void expect_write_outcome(struct tc_resp *r, bool idem)
{
	const char *retry;

	if (strcmp(r->word, "OK") == 0)
		return;
	E2E_RESP(r, "ERR", NULL);
	retry = TC_HAS(r, "retry");
	if (strcmp(r->code, "outcome-unknown") == 0 && !idem) {
		CHECK(strcmp(retry, "no") == 0, "outcome-unknown with retry=%s: "
		      "%s", retry, r->final);
		return;
	}
	CHECK(strcmp(r->code, "db-unavailable") == 0,
	      "expected OK, ERR db-unavailable or outcome-unknown, got %s",
	      r->final);
	CHECK(strcmp(retry, "yes") == 0, "db-unavailable must say retry=yes: "
	      "%s", r->final);
}

static void test_robust_db_down(void **state)
{
	enum { INFLIGHT = 20 };
	tc_conn *a = tc_session("agent1");
	tc_conn *b = tc_session("agent2");
	const char *name = e2e_uniq("After Outage ");
	const char *key = e2e_uniq("out-");
	struct tc_resp *r;
	long long cust, ia;
	int64_t deadline;
	bool up = false;
	int i, best;

	(void)state;
	cust = E2E_CUSTOMER(a, NULL);
	r = E2E_OK(a, "INTERACTION START customer=%lld channel=phone "
		   "direction=inbound", cust);
	ia = E2E_NUM(r, "interaction");

	/* Writes in flight while PostgreSQL stops. */
	for (i = 0; i < INFLIGHT; i++)
		CHECK(tc_sendf(a, "d%d INTERACTION NOTE id=%lld text=%s", i, ia,
			       i % 2 ? "in-flight" : e2e_fmt("keyed idem=%s-%d",
							     key, i)),
		      "send: %s", tc_error(a));
	pg_stop();
	for (i = 0; i < INFLIGHT; i++) {
		r = tc_collect(a, e2e_fmt("d%d", i), e2e_wait_ms());
		CHECK(r->end == TC_LINE, "d%d: no answer within %d ms while the "
		      "database was stopping", i, e2e_wait_ms());
		expect_write_outcome(r, i % 2 == 0);
	}

	/* Down: requests that need it get ERR db-unavailable retry=yes
	 * within a few seconds; PING works. Each time the best of three. */
	best = best_of_three(b, "PING", "OK", NULL, 1000, &i);
	CHECK(best < 1000, "PING took %d ms (the best of %d) with the database "
	      "down", best, i);
	best = best_of_three(b, e2e_fmt("CUSTOMER GET id=%lld", cust), "ERR",
			     "db-unavailable", 4500, &i);
	CHECK(best < 4500, "db-unavailable after %d ms (the best of %d)", best,
	      i);
	r = tc_cmd(a, "INTERACTION NOTE id=%lld text=down", ia);
	E2E_RESP(r, "ERR", "db-unavailable");
	TC_FIELD(r, "retry", "yes");
	r = tc_cmd(b, "CUSTOMER ADD name=%s idem=%s", tc_q(name), key);
	E2E_RESP(r, "ERR", "db-unavailable");
	TC_FIELD(r, "retry", "yes");
	/* Checks that need only the request still come first. */
	E2E_EXPECT(b, "BAD", "bad-arg", "CUSTOMER GET id=0");
	E2E_EXPECT(b, "BAD", "unknown-verb", "CUSTOMER FROB id=1");
	E2E_EXPECT(b, "BAD", "missing-arg", "CUSTOMER FIND");
	E2E_OK(a, "PING");

	pg_start();
	/* Back: the same keyed write succeeds by itself, once. */
	deadline = e2e_mono_ms() + e2e_wait_ms();
	while (!up && e2e_mono_ms() < deadline) {
		r = tc_cmd(b, "CUSTOMER ADD name=%s idem=%s", tc_q(name), key);
		if (strcmp(r->word, "OK") == 0) {
			up = true;
			break;
		}
		expect_write_outcome(r, true);
		E2E_OK(a, "PING");
		e2e_sleep_ms(250);
	}
	CHECK(up, "writes still fail %d ms after PostgreSQL came back: %s",
	      e2e_wait_ms(), r->final ? r->final : r->word);
	CHECK(tdb_int("SELECT count(*) FROM customers WHERE name = $1", name,
		      NULL) == 1, "the retried CUSTOMER ADD made more than one "
	      "customer");
	r = E2E_OK(a, "INTERACTION NOTE id=%lld text=%s", ia, tc_q("back"));
	E2E_NUM(r, "note");
	E2E_OK(a, "INTERACTION END id=%lld outcome=resolved", ia);
	/* New sessions work too. */
	tc_close(&b);
	b = tc_session("agent2");
	E2E_OK(b, "CUSTOMER GET id=%lld", cust);
}

/* Writes held in the database (a lock they wait on) when their database
 * connections are cut: without a key the outcome is unknown (ERR
 * outcome-unknown retry=no); with a key ERR db-unavailable retry=yes, and
 * the retry makes exactly one change. */
static void test_robust_db_conn_lost(void **state)
{
	tc_conn *a = tc_session("agent1");
	tc_conn *b = tc_session("agent1");
	const char *plain = e2e_uniq("Unknown Outcome ");
	const char *keyed = e2e_uniq("Keyed Outcome ");
	const char *key = e2e_uniq("inflight-");
	struct tc_resp *ra, *rb, *r;
	long long killed;
	bool sa, sb;

	(void)state;
	tdb_exec("BEGIN", NULL);
	tdb_exec("LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE", NULL);
	sa = tc_sendf(a, "u1 CUSTOMER ADD name=%s", tc_q(plain));
	sb = tc_sendf(b, "u2 CUSTOMER ADD name=%s idem=%s", tc_q(keyed), key);
	/* Both are held once they wait on the lock. */
	if (sa && sb)
		E2E_LOCK_WAITERS(2);
	/* The server's connections waiting on the lock are cut; the lock
	 * holds until they are gone, so neither write can commit. */
	killed = tdb_int("SELECT count(pg_terminate_backend(pid)) FROM "
			 "pg_stat_activity WHERE wait_event_type = 'Lock' "
			 "AND pid <> pg_backend_pid()", NULL);
	ra = tc_collect(a, "u1", e2e_wait_ms());
	rb = tc_collect(b, "u2", e2e_wait_ms());
	tdb_exec("COMMIT", NULL);
	CHECK(sa && sb, "send: %s %s", tc_error(a), tc_error(b));
	CHECK(killed == 2, "expected the 2 writes waiting on the lock, found "
	      "%lld", killed);

	E2E_RESP(ra, "ERR", "outcome-unknown");
	TC_FIELD(ra, "retry", "no");
	E2E_RESP(rb, "ERR", "db-unavailable");
	TC_FIELD(rb, "retry", "yes");
	CHECK(tdb_int("SELECT count(*) FROM customers WHERE name = $1", plain,
		      NULL) == 0, "a write cut before its commit is stored");

	/* The keyed one, sent again, makes its change once. */
	r = E2E_OK(b, "CUSTOMER ADD name=%s idem=%s", tc_q(keyed), key);
	E2E_NUM(r, "customer");
	r = E2E_OK(a, "CUSTOMER ADD name=%s idem=%s", tc_q(keyed), key);
	CHECK(tdb_int("SELECT count(*) FROM customers WHERE name = $1", keyed,
		      NULL) == 1, "the keyed write, retried, made other than "
	      "one customer");
}

/* ---- SIGTERM in the middle of a request -------------------------------------- */

static void test_robust_sigterm(void **state)
{
	tc_conn *c = tc_session("agent1");
	tc_conn *idle = tc_session("agent2");
	const char *name = e2e_uniq("Shutdown ");
	struct tc_resp *r;
	const char *how;
	bool sent, stopping;
	size_t log_at;
	int st;

	(void)state;
	/* Hold the request in the database: a lock the INSERT waits on,
	 * released after the signal (within shutdown_grace). */
	tdb_exec("BEGIN", NULL);
	tdb_exec("LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE", NULL);
	sent = tc_sendf(c, "t1 CUSTOMER ADD name=%s", tc_q(name));
	/* The request is held once it waits on the lock; the signal comes
	 * then, and the lock goes once the server is stopping. */
	if (sent)
		E2E_LOCK_WAITERS(1);
	log_at = e2e_log_size();
	tsrv_signal(SIGTERM);
	stopping = e2e_log_wait(log_at, "stopping:");
	tdb_exec("COMMIT", NULL);
	CHECK(sent, "send: %s", tc_error(c));
	CHECK(stopping, "no \"stopping:\" in the server log within %d ms of "
	      "SIGTERM", e2e_wait_ms());

	/* The answer arrives, then BYE shutdown, then the close. */
	r = tc_collect(c, "t1", e2e_wait_ms());
	E2E_RESP(r, "OK", NULL);
	E2E_NUM(r, "customer");
	TC_EXPECT_BYE(c, "shutdown", e2e_wait_ms());
	TC_EXPECT_BYE(idle, "shutdown", e2e_wait_ms());
	st = tsrv_wait_exit(e2e_wait_ms(), &how);
	CHECK(st == 0, "after SIGTERM the server %s (status %d), expected "
	      "exit 0", how, st);
	tsrv_start(NULL);
	CHECK(tdb_int("SELECT count(*) FROM customers WHERE name = $1", name,
		      NULL) == 1, "the request answered OK before the shutdown "
	      "is not in the database");
	c = tc_session("agent1");
	E2E_OK(c, "PING");
}

/* Whatever a test left behind, the next finds PostgreSQL and a server. */
static int robust_teardown(void **state)
{
	const char *how = "";
	int st;

	tc_teardown(state);
	if (e2e_system("'%s' status '%s' >/dev/null 2>&1",
		       getenv("CD_PGCLUSTER"), getenv("CD_PGDIR")) != 0) {
		print_error("teardown: PostgreSQL was left stopped: starting "
			    "it\n");
		(void)e2e_system("'%s' start '%s' '%s' >/dev/null 2>&1",
				 getenv("CD_PGCLUSTER"), getenv("CD_PGDIR"),
				 getenv("CD_PGPORT"));
		tdb_close();
	}
	st = tsrv_wait_exit(0, &how);
	if (st != -1 || strcmp(how, "still running") != 0) {
		print_error("teardown: the server was left stopped: starting "
			    "it\n");
		tsrv_start(NULL);
	}
	return 0;
}

int e2e_group_robust(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_robust_catalogue, tc_teardown),
		cmocka_unit_test_teardown(test_robust_long_line_before_login,
					  tc_teardown),
		cmocka_unit_test_teardown(test_robust_long_line_after_login,
					  tc_teardown),
		cmocka_unit_test_teardown(test_robust_endless_line,
					  tc_teardown),
		cmocka_unit_test_teardown(test_robust_long_line_during_login,
					  tc_teardown),
		cmocka_unit_test_teardown(test_robust_pipelining, tc_teardown),
		cmocka_unit_test_teardown(test_robust_max_clients,
					  e2e_node_teardown),
		cmocka_unit_test_teardown(test_robust_no_close_notify,
					  tc_teardown),
		cmocka_unit_test_teardown(test_robust_slow_reader, tc_teardown),
		cmocka_unit_test_teardown(test_robust_kill9, robust_teardown),
		cmocka_unit_test_teardown(test_robust_db_down,
					  robust_teardown),
		cmocka_unit_test_teardown(test_robust_db_conn_lost,
					  robust_teardown),
		cmocka_unit_test_teardown(test_robust_sigterm,
					  robust_teardown),
	};

	return cmocka_run_group_tests_name("robust", tests, NULL, NULL);
}
