/* e2e_metrics.c: the "metrics" group: the plain-HTTP endpoint of
 * docs/METRICS.md, at 127.0.0.1:$CD_METRICS_PORT (tests/e2e/run.sh sets
 * `metrics =` in the generated configuration).
 *
 * /metrics is scraped with a tiny HTTP/1.0 client of its own (one GET over
 * a plain socket, read to the end), requests are sent over TLS, and a
 * second scrape must show calldesk_requests_total moved by exactly the
 * requests sent, by verb, sub-verb, result and code; the latency histogram
 * by as many; calldesk_rule_decisions_total by the ADVISE and COMPLAINT
 * RESOLVE decisions. The database gauges follow the database (they are
 * cached for 5 s, so the test polls). /health answers 200 while the
 * database is up; other paths 404, other methods are refused; HEAD
 * answers like GET, without a body.
 *
 * Counters belong to the server process, so deltas are taken within one
 * test; no other group runs at the same time. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
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

#define HTTP_TIMEOUT_MS tc_timeout_ms() /* as for an answer on the TLS port */
#define MISSING "987654321987"

struct http_resp {
	int status;             /* 0 when no status line came */
	char *head;             /* status line and headers */
	char *body;
	size_t body_len;
};

static void http_free(struct http_resp *h)
{
	free(h->head);
	free(h->body);
	memset(h, 0, sizeof *h);
}

static int connect_to(const char *host, const char *port, int timeout_ms)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	struct pollfd pfd;
	int fd, err = 0;
	socklen_t len = sizeof err;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL)
		return -1;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK,
		    ai->ai_protocol);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return -1;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout_ms) != 1 ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One HTTP/1.0 request to the metrics port; the server closes after the
 * answer. False when it could not be sent or no full answer came within
 * HTTP_TIMEOUT_MS. */
static bool http_do(const char *method, const char *path,
		    struct http_resp *out)
{
	const char *port = tc_env("CD_METRICS_PORT");
	int64_t deadline = e2e_mono_ms() + HTTP_TIMEOUT_MS;
	char req[256];
	char *buf = NULL, *sep;
	size_t len = 0, cap = 0, off = 0;
	int fd, n;

	memset(out, 0, sizeof *out);
	fd = connect_to("127.0.0.1", port, HTTP_TIMEOUT_MS);
	if (fd < 0)
		return false;
	n = snprintf(req, sizeof req, "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
		     "User-Agent: calldesk-e2e\r\n\r\n", method, path);
	while (off < (size_t)n) {
		struct pollfd pfd = { fd, POLLOUT, 0 };
		ssize_t w;
		int left = (int)(deadline - e2e_mono_ms());

		if (left <= 0 || poll(&pfd, 1, left) != 1)
			goto fail;
		w = send(fd, req + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			goto fail;
		if (w > 0)
			off += (size_t)w;
	}
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t r;
		int left = (int)(deadline - e2e_mono_ms());

		if (left <= 0 || poll(&pfd, 1, left) != 1)
			goto fail;
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 16384;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				abort();
		}
		r = recv(fd, buf + len, cap - len, 0);
		if (r == 0)
			break;
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			goto fail;
		if (r > 0)
			len += (size_t)r;
	}
	close(fd);
	if (buf == NULL)
		return false;
	buf[len] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	if (sep == NULL || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
		free(buf);
		return false;
	}
	out->head = strndup(buf, (size_t)(sep - buf));
	out->body_len = len - (size_t)(sep + 4 - buf);
	out->body = malloc(out->body_len + 1);
	if (out->head == NULL || out->body == NULL)
		abort();
	memcpy(out->body, sep + 4, out->body_len);
	out->body[out->body_len] = '\0';
	free(buf);
	return true;
fail:
	close(fd);
	free(buf);
	return false;
}

#define HTTP(method, path, out)                                            \
	CHECK(http_do((method), (path), (out)), "%s %s on 127.0.0.1:%s: no "  \
	      "answer within %d ms", (method), (path),                     \
	      tc_env("CD_METRICS_PORT"), HTTP_TIMEOUT_MS)

/* GET /metrics, 200, checked for the text format; the body (caller
 * frees). */
static char *scrape(void)
{
	struct http_resp h;
	char *body, *line, *save = NULL, *copy;
	size_t nlines = 0;

	HTTP("GET", "/metrics", &h);
	CHECK(h.status == 200, "GET /metrics: status %d\n%s", h.status,
	      h.head);
	CHECK(strstr(h.head, "text/plain; version=0.0.4") != NULL,
	      "GET /metrics: not the Prometheus text format:\n%s", h.head);
	body = h.body;
	h.body = NULL;
	http_free(&h);

	/* Every line: "# HELP name text", "# TYPE name type", or a sample
	 * "name[{labels}] value" of a family whose TYPE came before. */
	copy = strdup(body);
	if (copy == NULL)
		abort();
	char typed[256][80];
	size_t ntyped = 0;
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save), nlines++) {
		char name[80], rest[64];
		size_t i;
		bool known = false;

		if (strncmp(line, "# HELP ", 7) == 0)
			continue;
		if (strncmp(line, "# TYPE ", 7) == 0) {
			CHECK(sscanf(line + 7, "%79s %63s", name, rest) == 2 &&
			      (strcmp(rest, "counter") == 0 ||
			       strcmp(rest, "gauge") == 0 ||
			       strcmp(rest, "histogram") == 0),
			      "bad TYPE line: %s", line);
			if (ntyped < NELEM(typed))
				snprintf(typed[ntyped++], sizeof typed[0], "%s",
					 name);
			continue;
		}
		i = strcspn(line, "{ ");
		CHECK(i > 0 && i < sizeof name && line[i] != '\0',
		      "bad sample line: %s", line);
		memcpy(name, line, i);
		name[i] = '\0';
		CHECK(strncmp(name, "calldesk_", 9) == 0, "foreign metric: %s",
		      line);
		for (size_t t = 0; t < ntyped && !known; t++) {
			size_t tl = strlen(typed[t]);

			known = strncmp(name, typed[t], tl) == 0 &&
				(name[tl] == '\0' ||
				 strcmp(name + tl, "_bucket") == 0 ||
				 strcmp(name + tl, "_sum") == 0 ||
				 strcmp(name + tl, "_count") == 0);
		}
		CHECK(known, "sample without a TYPE line before it: %s", line);
		{
			const char *v = strrchr(line, ' ');
			char *end;

			CHECK(v != NULL, "no value: %s", line);
			strtod(v + 1, &end);
			CHECK(end != v + 1 && *end == '\0', "bad value: %s",
			      line);
		}
	}
	free(copy);
	CHECK(nlines > 20, "only %zu lines in /metrics", nlines);
	return body;
}

/* The value of the sample written exactly as series ("name{labels}" or
 * "name"); 0 when absent (a counter not yet moved). *found says which. */
static double sample_value(const char *body, const char *series, bool *found)
{
	size_t n = strlen(series);
	const char *p = body;

	if (found != NULL)
		*found = false;
	while (p != NULL && *p != '\0') {
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			if (found != NULL)
				*found = true;
			return strtod(p + n + 1, NULL);
		}
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return 0;
}

static const char *requests_series(const char *verb, const char *sub,
				   const char *result, const char *code)
{
	return e2e_fmt("calldesk_requests_total{verb=\"%s\",sub=\"%s\","
		       "result=\"%s\",code=\"%s\"}", verb, sub, result, code);
}

struct delta {
	const char *series;
	double want;
};

static void expect_deltas(const char *before, const char *after,
			  const struct delta *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		double b = sample_value(before, d[i].series, NULL);
		double a = sample_value(after, d[i].series, NULL);

		CHECK(a - b == d[i].want, "%s moved by %g (from %g to %g), "
		      "expected %g", d[i].series, a - b, b, a, d[i].want);
	}
}

/* ---- tests -------------------------------------------------------------- */

/* Requests by verb, sub-verb, result and code; the latency histogram;
 * the rule decisions. */
static void test_metrics_requests(void **state)
{
	const char *u = E2E_USER("agent", "tier=1 skills=billing");
	char *before, *after;
	tc_conn *anon, *c;
	struct tc_resp *r;
	long long id;
	int i;

	(void)state;
	c = tc_connect();
	/* The complaint the decisions are about, before the first scrape. */
	r = tc_login(c, u, tc_password());
	TC_OK(r);
	id = E2E_COMPLAINT(c, E2E_CUSTOMER(c, NULL), "billing", 3);
	E2E_OK(c, "COMPLAINT TAKE id=%lld", id);
	/* Not logged in: login_timeout (3 s) runs from here. */
	anon = tc_connect();

	before = scrape();
	r = tc_cmd(anon, "PING");                         /* before LOGIN */
	TC_OK(r);
	E2E_EXPECT(anon, "NO", "auth-required", "RULES");
	r = tc_login(anon, u, "wrong-password");
	E2E_RESP(r, "NO", "auth-failed");
	for (i = 0; i < 3; i++)
		E2E_OK(c, "PING");
	E2E_EXPECT(c, "NO", "not-found", "COMPLAINT GET id=" MISSING);
	E2E_EXPECT(c, "NO", "not-found", "COMPLAINT GET id=" MISSING);
	E2E_EXPECT(c, "BAD", "unknown-verb", "FROBNICATE x=1");
	E2E_EXPECT(c, "BAD", "missing-arg", "COMPLAINT OPEN customer=1");
	/* Decisions: allow, escalate (over tier 1's 30.00), allow again. */
	r = E2E_OK(c, "ADVISE complaint=%lld action=refund amount=5.00", id);
	TC_FIELD(r, "decision", "allow");
	r = E2E_OK(c, "ADVISE complaint=%lld action=refund amount=80.00", id);
	TC_FIELD(r, "decision", "escalate");
	r = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=refund amount=5.00 "
		   "resolution=%s", id, tc_q("refunded"));
	TC_FIELD(r, "decision", "allow");
	after = scrape();

	{
		const struct delta d[] = {
			{ requests_series("PING", "", "OK", ""), 4 },
			{ requests_series("RULES", "", "NO", "auth-required"), 1 },
			{ requests_series("LOGIN", "", "NO", "auth-failed"), 1 },
			{ requests_series("LOGIN", "", "OK", ""), 0 },
			{ requests_series("COMPLAINT", "GET", "NO", "not-found"), 2 },
			{ requests_series("COMPLAINT", "GET", "OK", ""), 0 },
			{ requests_series("unknown", "", "BAD", "unknown-verb"), 1 },
			{ requests_series("COMPLAINT", "OPEN", "BAD", "missing-arg"), 1 },
			{ requests_series("ADVISE", "", "OK", ""), 2 },
			{ requests_series("COMPLAINT", "RESOLVE", "OK", ""), 1 },
			{ "calldesk_request_duration_seconds_count{verb=\"PING\","
			  "sub=\"\"}", 4 },
			{ "calldesk_request_duration_seconds_bucket{verb=\"PING\","
			  "sub=\"\",le=\"+Inf\"}", 4 },
			{ "calldesk_request_duration_seconds_count{verb=\"COMPLAINT\","
			  "sub=\"GET\"}", 2 },
			{ "calldesk_rule_decisions_total{decision=\"allow\"}", 2 },
			{ "calldesk_rule_decisions_total{decision=\"escalate\"}", 1 },
			{ "calldesk_rule_decisions_total{decision=\"deny\"}", 0 },
		};

		expect_deltas(before, after, d, NELEM(d));
	}
	/* A histogram's buckets are cumulative and end at its count. */
	{
		double b10 = sample_value(after, "calldesk_request_duration_"
					  "seconds_bucket{verb=\"PING\",sub=\"\","
					  "le=\"10\"}", NULL);
		double b1ms = sample_value(after, "calldesk_request_duration_"
					   "seconds_bucket{verb=\"PING\",sub=\"\","
					   "le=\"0.001\"}", NULL);
		double cnt = sample_value(after, "calldesk_request_duration_"
					  "seconds_count{verb=\"PING\",sub=\"\"}",
					  NULL);

		CHECK(b1ms <= b10 && b10 <= cnt && cnt >= 4,
		      "PING buckets: le=0.001 %g, le=10 %g, count %g", b1ms,
		      b10, cnt);
	}
	/* The sessions seen right now. */
	{
		bool found;
		double v = sample_value(after, "calldesk_sessions{stage="
					"\"logged_in\"}", &found);

		CHECK(found && v >= 1, "calldesk_sessions logged_in: %g", v);
		v = sample_value(after, "calldesk_connections", &found);
		CHECK(found && v >= 2, "calldesk_connections: %g", v);
		v = sample_value(after, "calldesk_db_up", &found);
		CHECK(found && v == 1, "calldesk_db_up: %g", v);
		sample_value(after, "calldesk_build_info{version=", NULL);
		CHECK(strstr(after, "\ncalldesk_build_info{version=\"") != NULL,
		      "no calldesk_build_info");
		v = sample_value(after, "calldesk_metrics_series_refused_total",
				 &found);
		CHECK(found && v == 0, "series refused: %g", v);
	}
	free(before);
	free(after);
}

/* The gauges read from PostgreSQL follow it (within their refresh). */
static void test_metrics_db_gauges(void **state)
{
	tc_conn *a = tc_session("agent1");
	struct tc_resp *r;
	long long id, want_open = -1, want_waiting = -1;
	double got_open = -2, got_waiting = -2;
	int64_t deadline;
	char *body = NULL;
	bool found_o = false, found_w = false;
	size_t i;

	(void)state;
	id = E2E_COMPLAINT(a, E2E_CUSTOMER(a, NULL), "billing", 3);
	E2E_OK(a, "HANDOFF OPEN complaint=%lld dept=billing-office request=%s",
	       id, tc_q("metrics"));
	deadline = e2e_mono_ms() + e2e_wait_ms();
	while (e2e_mono_ms() < deadline) {
		char *v = tdb_value("SELECT count(*) FROM handoffs WHERE "
				    "dept = 'billing-office' AND state <> 'done'",
				    NULL);

		want_open = atoll(v);
		free(v);
		r = E2E_OK(a, "QUEUE LIST");
		for (i = 0; i < r->nrows; i++)
			if (strcmp(tc_row_get(r, i, "queue"), "billing") == 0)
				want_waiting = E2E_ROW_NUM(r, i, "waiting");
		free(body);
		body = scrape();
		got_open = sample_value(body, "calldesk_handoffs_open{dept="
					"\"billing-office\"}", &found_o);
		got_waiting = sample_value(body, "calldesk_queue_waiting{queue="
					   "\"billing\"}", &found_w);
		if (found_o && found_w && got_open == want_open &&
		    got_waiting == want_waiting)
			break;
		e2e_sleep_ms(1000);
	}
	CHECK(found_o && got_open == want_open,
	      "calldesk_handoffs_open{dept=\"billing-office\"} is %g, the "
	      "database says %lld", got_open, want_open);
	CHECK(found_w && got_waiting == want_waiting,
	      "calldesk_queue_waiting{queue=\"billing\"} is %g, QUEUE LIST "
	      "says %lld", got_waiting, want_waiting);
	CHECK(strstr(body, "\ncalldesk_db_gauges_age_seconds ") != NULL,
	      "no calldesk_db_gauges_age_seconds after a refresh");
	CHECK(strstr(body, "\ncalldesk_agents{state=\"") != NULL,
	      "no calldesk_agents");
	free(body);
	/* Leave nothing waiting in the shared queue. */
	E2E_OK(a, "COMPLAINT TAKE id=%lld", id);
}

/* /health, other paths, other methods. */
static void test_metrics_health(void **state)
{
	struct http_resp h;

	(void)state;
	HTTP("GET", "/health", &h);
	CHECK(h.status == 200, "GET /health: %d\n%s", h.status, h.head);
	CHECK(strcmp(h.body, "ok\n") == 0, "GET /health body: %s", h.body);
	http_free(&h);
	HTTP("GET", "/nothing-here", &h);
	CHECK(h.status == 404, "GET /nothing-here: %d", h.status);
	http_free(&h);
	HTTP("POST", "/metrics", &h);
	/* Refused: libevent answers 501 for a method it was told not to
	 * serve (405 would do as well). */
	CHECK(h.status == 405 || h.status == 501, "POST /metrics: %d",
	      h.status);
	http_free(&h);
}

/* HEAD (docs/METRICS.md: "GET and HEAD only"): the same status as GET,
 * and no body (RFC 9110 §9.3.2: a server MUST NOT send content in the
 * response to HEAD). */
static void test_metrics_head(void **state)
{
	struct http_resp h;

	(void)state;
	HTTP("HEAD", "/health", &h);
	CHECK(h.status == 200, "HEAD /health: %d", h.status);
	CHECK(h.body_len == 0, "HEAD /health sent a body of %zu bytes:\n%s"
	      "\n\n%s", h.body_len, h.head, h.body);
	http_free(&h);
	HTTP("HEAD", "/metrics", &h);
	CHECK(h.status == 200, "HEAD /metrics: %d", h.status);
	CHECK(h.body_len == 0, "HEAD /metrics sent a body of %zu bytes",
	      h.body_len);
	http_free(&h);
}

int e2e_group_metrics(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_metrics_requests, tc_teardown),
		cmocka_unit_test_teardown(test_metrics_db_gauges, tc_teardown),
		cmocka_unit_test_teardown(test_metrics_health, tc_teardown),
		cmocka_unit_test_teardown(test_metrics_head, tc_teardown),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
