/* e2e_main.c: the end-to-end test program, and its first group, "session":
 * the foundation of the protocol (PROTOCOL.md §1, §2, §5) seen from a
 * client: greeting, framing, the line limits, login, logout, timeouts,
 * shutdown.
 *
 * Run it through tests/e2e/run.sh, which starts the database and the
 * server and sets the environment. Arguments name the groups to run (all
 * by default); CD_TEST_FILTER=pattern runs only the tests whose names match
 * (cmocka's filter, '*' and '?' wildcards). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "e2e.h"
#include "e2e_util.h"
#include "tclient.h"
#include "tdb.h"
#include "tserver.h"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A request line of exactly total bytes, LF included:
 * "TAG VERB x=aaaa...\n". Caller frees. */
static char *line_of(const char *head, size_t total)
{
	size_t n = strlen(head);
	char *s;

	assert_true(total > n + 1);
	s = malloc(total + 1);
	assert_non_null(s);
	memcpy(s, head, n);
	memset(s + n, 'a', total - n - 1);
	s[total - 1] = '\n';
	s[total] = '\0';
	return s;
}

/* Is name one of the comma-separated list? */
static bool in_list(const char *name, size_t len, const char *list)
{
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, name, len) == 0)
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

/* The same set of names, in any order ("billing,tech" = "tech,billing"). */
static bool same_list(const char *a, const char *b)
{
	const char *p;

	for (p = a; *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (!in_list(p, n, b))
			return false;
		p += n;
		if (*p == ',')
			p++;
	}
	for (p = b; *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (!in_list(p, n, a))
			return false;
		p += n;
		if (*p == ',')
			p++;
	}
	return true;
}

/* ---- greeting and pre-login ----------------------------------------- */

static void test_greeting(void **state)
{
	tc_conn *c = tc_connect();
	const char *g = tc_greeting(c);
	const char *why = NULL;
	char *proto, *server;

	(void)state;
	CHECK(tc_line_valid(g, &why), "greeting is malformed (%s): %s", why, g);
	proto = tc_field(g, "proto");
	server = tc_field(g, "server");
	CHECK(proto != NULL && strcmp(proto, "1") == 0,
	      "greeting must carry proto=1: %s", g);
	CHECK(server != NULL && strncmp(server, "calldeskd/", 10) == 0 &&
		      server[10] != '\0',
	      "greeting must carry server=calldeskd/VERSION: %s", g);
	free(proto);
	free(server);
}

static void test_ping_before_login(void **state)
{
	tc_conn *c = tc_connect();
	struct tc_resp *r;

	(void)state;
	r = tc_req(c, "p1 PING");
	TC_OK(r);
	r = tc_req(c, "p2 ping");
	TC_OK(r);
}

static void test_auth_required(void **state)
{
	static const char *const reqs[] = {
		"STATE",
		"STATE SET state=ready",
		"CUSTOMER GET id=1",
		"QUEUE LIST",
		"COMPLAINT LIST",
		"PASSWORD old=a new=b",
		"RULES",
	};
	tc_conn *c = tc_connect();
	struct tc_resp *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		r = tc_cmd(c, "%s", reqs[i]);
		TC_EXPECT(r, "NO", "auth-required");
	}
	/* The connection is still there for a login. */
	r = tc_login(c, "agent1", tc_password());
	TC_OK(r);
}

/* ---- login ----------------------------------------------------------- */

static void test_login_fields(void **state)
{
	static const struct {
		const char *user, *role, *tier, *skills, *team;
	} cases[] = {
		{ "agent1", "agent", "1", "billing", "red" },
		{ "agent2", "agent", "2", "billing,tech", "red" },
		{ "agent3", "agent", "3", "billing,tech,general,urgent", "blue" },
		{ "sup1", "supervisor", "4", "", "red" },
		{ "admin1", "admin", "1", "", "" },
		{ "integ1", "integration", "1", "", "" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tc_conn *c = tc_connect();
		struct tc_resp *r = tc_login(c, cases[i].user, tc_password());
		const char *skills;

		TC_OK(r);
		TC_FIELD(r, "user", cases[i].user);
		TC_FIELD(r, "role", cases[i].role);
		TC_FIELD(r, "tier", cases[i].tier);
		TC_FIELD(r, "team", cases[i].team);
		skills = TC_HAS(r, "skills");
		CHECK(same_list(skills, cases[i].skills),
		      "%s: expected skills=%s, got skills=%s", cases[i].user,
		      cases[i].skills, skills);
		r = tc_cmd(c, "PING");
		TC_OK(r);
		tc_close(&c);
	}
}

static void test_login_twice(void **state)
{
	tc_conn *c = tc_session("agent1");
	struct tc_resp *r;

	(void)state;
	r = tc_login(c, "agent1", tc_password());
	TC_EXPECT(r, "NO", "invalid-state");
	r = tc_login(c, "agent2", tc_password());
	TC_EXPECT(r, "NO", "invalid-state");
}

static void test_login_failures(void **state)
{
	/* From an address of its own: failures count per address. */
	struct tc_opts o = { .source = "127.0.0.2" };
	tc_conn *c = tc_connect_opts(&o);
	struct tc_resp *wrong, *unknown, *r;
	const char *a, *b;

	(void)state;
	wrong = tc_login(c, "agent3", "not-the-password");
	TC_EXPECT(wrong, "NO", "auth-failed");
	unknown = tc_login(c, "nosuchuser", tc_password());
	TC_EXPECT(unknown, "NO", "auth-failed");
	/* The same answer for both, apart from the tag. */
	a = strchr(wrong->final, ' ');
	b = strchr(unknown->final, ' ');
	CHECK(a != NULL && b != NULL && strcmp(a, b) == 0,
	      "a wrong password and an unknown user must get the same "
	      "answer:\n  %s\n  %s", wrong->final, unknown->final);
	/* Not logged in, still connected; the right password works. */
	r = tc_cmd(c, "STATE");
	TC_EXPECT(r, "NO", "auth-required");
	r = tc_login(c, "agent3", tc_password());
	TC_OK(r);
	TC_FIELD(r, "user", "agent3");
}

/* ---- verbs and framing ----------------------------------------------- */

static void test_unknown_verb(void **state)
{
	tc_conn *c = tc_connect();
	struct tc_resp *r;

	(void)state;
	/* The verb is checked before the login. */
	r = tc_req(c, "u1 FROBNICATE");
	TC_EXPECT(r, "BAD", "unknown-verb");
	r = tc_req(c, "u2 frobnicate x=1");
	TC_EXPECT(r, "BAD", "unknown-verb");
	r = tc_login(c, "agent1", tc_password());
	TC_OK(r);
	r = tc_req(c, "u3 FROBNICATE");
	TC_EXPECT(r, "BAD", "unknown-verb");
	r = tc_req(c, "u4 CUSTOMER FROBNICATE id=1");
	TC_EXPECT(r, "BAD", "unknown-verb");
	/* Not made of letters: a syntax error, not an unknown verb. */
	r = tc_req(c, "u5 123");
	TC_EXPECT(r, "BAD", "bad-arg");
	r = tc_req(c, "u6 PING");
	TC_OK(r);
}

static void test_malformed_tag(void **state)
{
	static const char *const lines[] = {
		"bad!tag PING",
		"abcdefghijklmnopqrstuvwxyz0123456 PING", /* 33 characters */
		"t\xc3\xa4g PING",                       /* non-ASCII */
		"t/1 PING",
	};
	tc_conn *c = tc_connect();
	struct tc_resp *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		r = tc_req(c, lines[i]); /* expects the tag "*" */
		CHECK(strcmp(r->tag, "*") == 0, "test bug: tag %s", r->tag);
		TC_EXPECT(r, "BAD", "bad-arg");
	}
	/* 32 characters is a valid tag. */
	r = tc_req(c, "abcdefghijklmnopqrstuvwxyz._-012 PING");
	TC_OK(r);
}

static void test_bad_encoding(void **state)
{
	static const struct {
		const char *what;
		const char *bytes;
		size_t len;
	} cases[] = {
#define C(what, s) { what, s, sizeof(s) - 1 }
		C("byte 0xff", "e1 PING x=\xff\n"),
		C("overlong '/'", "e2 PING x=\xc0\xaf\n"),
		C("UTF-16 surrogate", "e3 PING x=\xed\xa0\x80\n"),
		C("truncated sequence", "e4 PING x=\xe2\x82\n"),
		C("lone continuation byte", "e5 PING x=\x80\n"),
		C("code point above U+10FFFF", "e6 PING x=\xf4\x90\x80\x80\n"),
		C("raw tab", "e7 PING\tx=1\n"),
		C("NUL", "e8 PING x=a\0b\n"),
		C("control character 0x01", "e9 PING x=\x01\n"),
		C("CR inside the line", "e10 PING x=a\rb\n"),
		C("escape character", "e11 PING x=\x1b[0m\n"),
#undef C
	};
	tc_conn *c = tc_connect();
	struct tc_resp *r;
	size_t i;
	int pass;

	(void)state;
	/* Before and after login: the connection survives each. */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			r = tc_login(c, "agent1", tc_password());
			TC_OK(r);
		}
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char tag[8];

			snprintf(tag, sizeof(tag), "e%zu", i + 1);
			CHECK(tc_send_raw(c, cases[i].bytes, cases[i].len),
			      "send: %s", tc_error(c));
			r = tc_collect(c, tag, 0);
			if (strcmp(r->word, "BAD") != 0 ||
			    strcmp(r->code, "bad-encoding") != 0)
				print_error("case: %s (%s login)\n",
					    cases[i].what,
					    pass ? "after" : "before");
			TC_EXPECT(r, "BAD", "bad-encoding");
			r = tc_req(c, "ok PING");
			TC_OK(r);
		}
	}
}

static void test_framing(void **state)
{
	static const char *const bad_arg[] = {
		"f1 PING a=1 a=2",            /* duplicate key */
		"f2 PING a=\"xyz",            /* unterminated quote */
		"f3 PING a=\"x\\qy\"",        /* unknown escape */
		"f4 PING a=x\"y",             /* quote in a bare value */
		"f5 PING A=1",                /* upper-case key */
		"f6 PING abcdefghijklmnopqrstuvwxyz0123456=1", /* 33-char key */
	};
	tc_conn *c = tc_connect();
	struct tc_resp *r;
	size_t i;
	static const char pipelined[] = "p1 PING\np2 FROBNICATE\np3 PING\n";

	(void)state;
	for (i = 0; i < sizeof(bad_arg) / sizeof(bad_arg[0]); i++) {
		r = tc_req(c, bad_arg[i]);
		TC_EXPECT(r, "BAD", "bad-arg");
	}

	/* CR LF ends a line as LF does. */
	CHECK(tc_send_raw(c, "g1 PING\r\n", 9), "send: %s", tc_error(c));
	r = tc_collect(c, "g1", 0);
	TC_OK(r);

	/* Empty lines are ignored: nothing answers them. */
	CHECK(tc_send_raw(c, "\n\r\n   \ng2 PING\n", 15), "send: %s",
	      tc_error(c));
	r = tc_collect(c, "g2", 0);
	TC_OK(r);
	CHECK(r->nother == 0 && r->nrows == 0,
	      "empty lines were answered: %s", r->nother ? r->other[0] :
							   r->rows[0]);

	/* Spaces between tokens, verbs in any case, quoted values. */
	r = tc_req(c, "g3   PiNg   x=\"a b\\\"c\\\\\"");
	if (strcmp(r->word, "OK") != 0)
		TC_EXPECT(r, "BAD", "bad-arg"); /* an unknown key may be refused */

	/* Pipelined requests are answered in order. */
	CHECK(tc_send_raw(c, pipelined, sizeof(pipelined) - 1), "send: %s",
	      tc_error(c));
	r = tc_collect(c, "p1", 0);
	TC_OK(r);
	CHECK(r->nother == 0, "answer out of order: %s", r->other[0]);
	r = tc_collect(c, "p2", 0);
	TC_EXPECT(r, "BAD", "unknown-verb");
	CHECK(r->nother == 0, "answer out of order: %s", r->other[0]);
	r = tc_collect(c, "p3", 0);
	TC_OK(r);
}

static void test_line_limit_before_login(void **state)
{
	tc_conn *c = tc_connect();
	struct tc_resp *r;
	char *fits = line_of("b1 STATE x=", E2E_MAX_LINE_LOGIN);
	char *two, *over = line_of("b2 STATE x=", E2E_MAX_LINE_LOGIN + 1);
	size_t n;

	(void)state;
	/* Exactly max_line_login bytes, LF included: answered. */
	CHECK(tc_send_raw(c, fits, strlen(fits)), "send: %s", tc_error(c));
	r = tc_collect(c, "b1", 0);
	TC_EXPECT(r, "NO", "auth-required");

	/* One byte more: the earlier request is answered, then BYE. */
	n = strlen(over);
	two = malloc(n + 9);
	assert_non_null(two);
	memcpy(two, "a1 PING\n", 8);
	memcpy(two + 8, over, n + 1);
	/* The server may close before it has read it all: a failed send is
	 * no failure here, the answers tell. */
	(void)tc_send_raw(c, two, n + 8);
	r = tc_collect(c, "a1", 0);
	TC_OK(r);
	TC_EXPECT_BYE(c, "line-too-long", 0);
	free(fits);
	free(over);
	free(two);
}

static void test_line_limit_after_login(void **state)
{
	tc_conn *c = tc_session("agent1");
	struct tc_resp *r;
	char *longer = line_of("b1 PING x=", 2 * E2E_MAX_LINE_LOGIN);
	char *fits = line_of("b2 PING x=", E2E_MAX_LINE);
	char *over = line_of("b3 PING x=", E2E_MAX_LINE + 1);

	(void)state;
	/* After login the limit is max_line: longer lines are answered (an
	 * unknown key may be refused, but the connection stays). */
	CHECK(tc_send_raw(c, longer, strlen(longer)), "send: %s", tc_error(c));
	r = tc_collect(c, "b1", 0);
	if (strcmp(r->word, "OK") != 0)
		TC_EXPECT(r, "BAD", "bad-arg");
	CHECK(tc_send_raw(c, fits, strlen(fits)), "send: %s", tc_error(c));
	r = tc_collect(c, "b2", 0);
	if (strcmp(r->word, "OK") != 0)
		TC_EXPECT(r, "BAD", "bad-arg");
	(void)tc_send_raw(c, over, strlen(over)); /* may close early */
	TC_EXPECT_BYE(c, "line-too-long", 0);
	free(longer);
	free(fits);
	free(over);
}

/* ---- logout and timeouts ----------------------------------------------- */

static void test_logout(void **state)
{
	tc_conn *c = tc_connect();
	struct tc_resp *r;

	(void)state;
	/* Before login. */
	r = tc_req(c, "o1 LOGOUT");
	TC_OK(r);
	TC_EXPECT_BYE(c, "logout", 0);
	tc_close(&c);

	/* After login. */
	c = tc_session("agent2");
	r = tc_req(c, "o2 LOGOUT");
	TC_OK(r);
	TC_EXPECT_BYE(c, "logout", 0);
}

/* The timeouts must not fire early (measured from a moment before the
 * server can have started its clock); how late they may come is only
 * bounded by how long we wait, generously (a slow machine). */
static void test_login_timeout(void **state)
{
	int64_t start = mono_ms();
	tc_conn *c = tc_connect();
	int64_t took;

	(void)state;
	TC_EXPECT_BYE(c, "login-timeout",
		      E2E_LOGIN_TIMEOUT * 1000 + e2e_wait_ms());
	took = mono_ms() - start;
	CHECK(took >= (E2E_LOGIN_TIMEOUT * 1000) - 500,
	      "login-timeout after %lld ms, before login_timeout (%d s)",
	      (long long)took, E2E_LOGIN_TIMEOUT);
}

static void test_idle_timeout(void **state)
{
	tc_conn *c = tc_session("agent1");
	struct tc_resp *r;
	int64_t start, took;

	(void)state;
	/* The idle time runs from the last answer: from before the request
	 * that gets it, so that a late delivery of that answer cannot make
	 * the timeout look early. */
	start = mono_ms();
	r = tc_req(c, "i1 PING");
	TC_OK(r);
	TC_EXPECT_BYE(c, "idle", E2E_IDLE_TIMEOUT * 1000 + e2e_wait_ms());
	took = mono_ms() - start;
	CHECK(took >= (E2E_IDLE_TIMEOUT * 1000) - 500,
	      "idle after %lld ms, before idle_timeout (%d s)",
	      (long long)took, E2E_IDLE_TIMEOUT);
}

/* Plain text sent to the TLS port gets no protocol answer and the
 * connection is closed. */
static void test_plaintext_refused(void **state)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	const char *req = "t1 PING\nt2 LOGIN user=agent1 password=x\n";
	char buf[4096];
	size_t got = 0;
	int fd, r;
	int64_t deadline = mono_ms() + tc_timeout_ms();
	bool closed = false;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(getaddrinfo(tc_env("CD_HOST"), tc_env("CD_PORT"),
				     &hints, &res), 0);
	fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
	assert_true(fd >= 0);
	CHECK(connect(fd, res->ai_addr, res->ai_addrlen) == 0, "connect: %s",
	      strerror(errno));
	freeaddrinfo(res);
	(void)!write(fd, req, strlen(req));
	while (!closed && mono_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		r = poll(&p, 1, (int)(deadline - mono_ms()));
		if (r <= 0)
			continue;
		n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			closed = true;
		else
			got += (size_t)n;
		if (got == sizeof(buf) - 1)
			break;
	}
	close(fd);
	buf[got] = '\0';
	CHECK(strstr(buf, "OK") == NULL && strstr(buf, "HELLO") == NULL,
	      "the server answered plain text: %s", buf);
	CHECK(closed, "the server kept a plain-text connection open for "
		      "%d ms", tc_timeout_ms());
}

/* The schema is there (run.sh ran --migrate). */
static void test_database_migrated(void **state)
{
	long long n;

	(void)state;
	n = tdb_int("SELECT count(*) FROM information_schema.tables "
		    "WHERE table_schema NOT IN ('pg_catalog', "
		    "'information_schema')", NULL);
	CHECK(n > 0, "no table in the database after --migrate");
}

/* SIGTERM: every client gets * BYE code=shutdown, the server exits 0; it
 * is started again for the groups that follow. Runs last in its group. */
static void test_shutdown(void **state)
{
	tc_conn *in = tc_session("agent1");
	tc_conn *out = tc_connect();
	const char *how;
	int st;
	struct tc_resp *r;

	(void)state;
	tsrv_signal(SIGTERM);
	TC_EXPECT_BYE(in, "shutdown", e2e_wait_ms());
	TC_EXPECT_BYE(out, "shutdown", e2e_wait_ms());
	st = tsrv_wait_exit(e2e_wait_ms(), &how);
	CHECK(st == 0, "after SIGTERM the server %s (status %d)", how, st);
	tsrv_start(NULL);
	in = tc_session("agent1");
	r = tc_cmd(in, "PING");
	TC_OK(r);
}

int e2e_group_session(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_greeting, tc_teardown),
		cmocka_unit_test_teardown(test_ping_before_login, tc_teardown),
		cmocka_unit_test_teardown(test_auth_required, tc_teardown),
		cmocka_unit_test_teardown(test_login_fields, tc_teardown),
		cmocka_unit_test_teardown(test_login_twice, tc_teardown),
		cmocka_unit_test_teardown(test_login_failures, tc_teardown),
		cmocka_unit_test_teardown(test_unknown_verb, tc_teardown),
		cmocka_unit_test_teardown(test_malformed_tag, tc_teardown),
		cmocka_unit_test_teardown(test_bad_encoding, tc_teardown),
		cmocka_unit_test_teardown(test_framing, tc_teardown),
		cmocka_unit_test_teardown(test_line_limit_before_login,
					  tc_teardown),
		cmocka_unit_test_teardown(test_line_limit_after_login,
					  tc_teardown),
		cmocka_unit_test_teardown(test_logout, tc_teardown),
		cmocka_unit_test_teardown(test_login_timeout, tc_teardown),
		cmocka_unit_test_teardown(test_idle_timeout, tc_teardown),
		cmocka_unit_test_teardown(test_plaintext_refused, tc_teardown),
		cmocka_unit_test_teardown(test_database_migrated, tc_teardown),
		cmocka_unit_test_teardown(test_shutdown, tc_teardown),
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}

/* ---- the program --------------------------------------------------------- */

static const struct {
	const char *name;
	int (*run)(void);
} groups[] = {
	{ "session", e2e_group_session },
	{ "customer", e2e_group_customer },
	{ "interaction", e2e_group_interaction },
	{ "complaint", e2e_group_complaint },
	{ "catalog", e2e_group_catalog },
	{ "users", e2e_group_users },
	{ "idem", e2e_group_idem },
	{ "robust", e2e_group_robust },
	{ "empower", e2e_group_empower },
	{ "race", e2e_group_race },
	{ "routing", e2e_group_routing },
	{ "desk", e2e_group_desk },
	{ "metrics", e2e_group_metrics },
	{ "reload", e2e_group_reload },
	{ "privacy", e2e_group_privacy },
	{ "hours", e2e_group_hours },
	{ "offer", e2e_group_offer },
	/* { "customer", e2e_group_customer }, ... one line per group */
};

int main(int argc, char **argv)
{
	const char *filter = getenv("CD_TEST_FILTER");
	int failed = 0, ran = 0, i;
	size_t g;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (filter != NULL && *filter != '\0')
		cmocka_set_test_filter(filter);
	for (i = 1; i < argc; i++) {
		bool known = false;

		for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
			known = known || strcmp(argv[i], groups[g].name) == 0;
		if (!known) {
			fprintf(stderr, "e2e: no group named %s; groups:",
				argv[i]);
			for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
				fprintf(stderr, " %s", groups[g].name);
			fprintf(stderr, "\n");
			return 2;
		}
	}
	for (g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		bool wanted = argc < 2;

		for (i = 1; i < argc; i++)
			wanted = wanted || strcmp(argv[i], groups[g].name) == 0;
		if (!wanted)
			continue;
		failed += groups[g].run();
		ran++;
	}
	tdb_close();
	printf("e2e: %d group(s) run, %d test(s) failed\n", ran, failed);
	return failed == 0 ? 0 : 1;
}
