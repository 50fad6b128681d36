/* e2e_desk.c: the "desk" group: internal customers, customer feedback and
 * the figures (PROTOCOL.md §11, with the extensions of docs/PROTOCOL.md and
 * the definitions of docs/FIGURES.md), over TLS.
 *
 * HANDOFF OPEN/ACK/DONE/RATE/LIST and every refusal (not-found, forbidden
 * for non-members and non-assignees, invalid-state, exists), the hand-off
 * events (to the opener when acknowledged and done; to watchers; an
 * overdue one pushed as an sla event), the history rows, COMPLAINT CLOSE
 * refused while a hand-off is open; FEEDBACK (resolved or closed only,
 * idempotent, open to integrations); follow-ups (a callback resolution
 * schedules one, FOLLOWUP LIST/DONE, the push when it falls due); TARGET
 * SET/LIST and the targets beside the figures; STATS's refusals; and a
 * scripted day of work after which STATS, for an agent, a team, three
 * queues and two departments, returns exactly the values worked out by
 * hand below. Last, the console client's `stats` and `export` commands
 * (client/report.c) against the same server: the CSV files it writes.
 *
 * From tests/e2e/rules.conf: departments logistics (handoff_within 1d; its
 * member is clerk1) and billing-office (2d); tier 1 refund 30.00, tier 2
 * refund 75.00; chain money level 1 role:supervisor; category fast (queue
 * urgent) resolves in 10 s. The generated configuration leaves
 * followup_after at its default (2 days) and idle_timeout at 5 s, so tests
 * that wait longer keep their sessions busy. The deadlines of a day or two
 * (a hand-off's due, a follow-up's) are made to pass by moving them into
 * the past in PostgreSQL (tdb.h); the sweep does the rest.
 *
 * Figures are counted over a period: the scripted day measures a window
 * that starts on a fresh second after the tests before it and ends right
 * after its own last request, so queues and departments (shared with the
 * other groups) hold only what the day did. Tests run one after the other,
 * never at the same time as another group's. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "e2e.h"
#include "e2e_node.h"
#include "e2e_util.h"
#include "tclient.h"
#include "tdb.h"

#define MISSING "987654321987"
#define EVENT_MS e2e_wait_ms()  /* for an event that must come */
#define NO_EVENT_MS 700         /* how long "nothing comes" is watched */
#define DAY 86400
#define LOGISTICS_WITHIN DAY            /* rules.conf handoff_within */
#define BILLING_OFFICE_WITHIN (2 * DAY)
#define FOLLOWUP_AFTER (2 * DAY)        /* followup_after's default */
#define SLACK 3

/* ---- helpers ----------------------------------------------------------- */

static const char *num(long long n)
{
	return e2e_fmt("%lld", n);
}

/* A complaint of a new customer, opened and taken by the user on c:
 * state assigned, assignee that user. *cust gets the customer if not NULL. */
static long long taken_cust(tc_conn *c, const char *category, int severity,
			    long long *cust)
{
	long long cu = E2E_CUSTOMER(c, NULL);
	long long id = E2E_COMPLAINT(c, cu, category, severity);

	E2E_OK(c, "COMPLAINT TAKE id=%lld", id);
	if (cust != NULL)
		*cust = cu;
	return id;
}

static long long taken(tc_conn *c)
{
	return taken_cust(c, "billing", 3, NULL);
}

static long long handoff_open(tc_conn *c, long long complaint,
			      const char *dept, const char *request)
{
	struct tc_resp *r = E2E_OK(c, "HANDOFF OPEN complaint=%lld dept=%s "
				   "request=%s", complaint, dept,
				   tc_q(request));

	return E2E_NUM(r, "handoff");
}

/* ACK then DONE by a member of the department. */
static void handoff_finish(tc_conn *member, long long h, const char *result)
{
	struct tc_resp *r = E2E_OK(member, "HANDOFF ACK id=%lld", h);

	TC_FIELD(r, "state", "acknowledged");
	r = E2E_OK(member, "HANDOFF DONE id=%lld result=%s", h,
		   tc_q(result));
	TC_FIELD(r, "state", "done");
}

/* open_handoffs of a department in DEPT LIST. */
static long long dept_open(tc_conn *c, const char *dept)
{
	struct tc_resp *r = E2E_OK(c, "DEPT LIST");
	size_t i;

	for (i = 0; i < r->nrows; i++) {
		const char *d = tc_row_get(r, i, "dept");

		if (d != NULL && strcmp(d, dept) == 0)
			return E2E_ROW_NUM(r, i, "open_handoffs");
	}
	fail_msg("DEPT LIST has no row for %s", dept);
	return -1;
}

/* The history rows of a complaint with this event, in order. */
static size_t history_rows(tc_conn *c, long long id, const char *event,
			   struct tc_resp **out, size_t *idx, size_t max)
{
	struct tc_resp *r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	size_t i, n = 0;

	for (i = 0; i < r->nrows; i++) {
		const char *e = tc_row_get(r, i, "event");

		E2E_KEYS(r->rows[i], "at", "by", "event", "text");
		if (e != NULL && strcmp(e, event) == 0) {
			if (n < max)
				idx[n] = i;
			n++;
		}
	}
	*out = r;
	return n;
}

/* A time field about `ahead` seconds after a moment between t0 and t1. */
static void expect_due(struct tc_resp *r, const char *key, time_t t0,
		       time_t t1, long ahead)
{
	time_t due = E2E_TIME(r, key);

	CHECK(due >= t0 + ahead - SLACK && due <= t1 + ahead + SLACK,
	      "%s=%s is not %ld s after the request (%ld s)\n  request: %s",
	      key, tc_get(r, key), ahead, (long)(due - t0), r->request);
}

/* Sends PING on each connection (idle_timeout is 5 s). */
static void keep_alive(tc_conn *const *cs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cs[i] != NULL)
			E2E_OK(cs[i], "PING");
}

/* Waits until the wall clock is past t, keeping the sessions busy. */
static void wait_past(time_t t, tc_conn *const *cs, size_t n)
{
	CHECK(t - time(NULL) < 60, "refusing to wait %ld s",
	      (long)(t - time(NULL)));
	while (time(NULL) <= t) {
		keep_alive(cs, n);
		e2e_sleep_ms(1000);
	}
	keep_alive(cs, n);
}

/* Waits for the next whole second, so that what follows happens after
 * everything before (for the start of a measured period). */
static time_t fresh_second(void)
{
	time_t t0 = time(NULL);

	while (time(NULL) == t0)
		e2e_sleep_ms(20);
	return time(NULL);
}

static const char *utc(time_t t)
{
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return e2e_fmt("%s", buf);
}

static const char *utc_date(time_t t)
{
	struct tm tm;
	char buf[16];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
	return e2e_fmt("%s", buf);
}

/* The keys of a response line, in order, after "TAG WORD". Values may be
 * quoted (PROTOCOL §2); keys are written to keys[] (up to max). */
static size_t line_keys(const char *line, char keys[][40], size_t max)
{
	const char *p = line;
	size_t n = 0;
	int words = 0;

	while (*p != '\0') {
		const char *k;
		size_t klen;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		if (words < 2) {        /* tag, word */
			while (*p != '\0' && *p != ' ')
				p++;
			words++;
			continue;
		}
		k = p;
		while (*p != '\0' && *p != '=' && *p != ' ')
			p++;
		klen = (size_t)(p - k);
		if (n < max) {
			snprintf(keys[n], 40, "%.*s", (int)(klen < 39 ? klen : 39),
				 k);
		}
		n++;
		if (*p != '=')
			continue;
		p++;
		if (*p == '"') {
			p++;
			while (*p != '\0' && *p != '"') {
				if (*p == '\\' && p[1] != '\0')
					p++;
				p++;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p != '\0' && *p != ' ')
				p++;
		}
	}
	return n;
}

/* The target fields (FIGURE_min, FIGURE_max) of a STATS answer, in
 * order, as "key=value key=value" ("" when none). */
static const char *target_fields(struct tc_resp *r)
{
	char keys[48][40];
	size_t n = line_keys(r->final, keys, 48), i;
	char buf[512] = "";

	for (i = 0; i < n && i < 48; i++) {
		size_t l = strlen(keys[i]);

		if ((l > 4 && strcmp(keys[i] + l - 4, "_min") == 0) ||
		    (l > 4 && strcmp(keys[i] + l - 4, "_max") == 0)) {
			const char *v = tc_get(r, keys[i]);
			size_t used = strlen(buf);

			snprintf(buf + used, sizeof buf - used, "%s%s=%s",
				 used > 0 ? " " : "", keys[i], v ? v : "?");
		}
	}
	return e2e_fmt("%s", buf);
}

/* ---- figures worked out by hand --------------------------------------- */

/* A rate as STATS writes it: two digits, half up; "" when den is 0. */
static const char *rate(long long n, long long den)
{
	long long h;

	if (den == 0)
		return "";
	h = (2 * n * 100 + den) / (2 * den);
	return e2e_fmt("%lld.%02lld", h / 100, h % 100);
}

/* A mean with two digits (csat, ratings), half up. */
static const char *mean2(long long sum, long long n)
{
	return n == 0 ? "" : rate(sum, n);
}

/* A mean in whole units (aht), half up. */
static const char *mean0(long long sum, long long n)
{
	return n == 0 ? "" : e2e_fmt("%lld", (2 * sum + n) / (2 * n));
}

static const char *money(long long cents)
{
	return e2e_fmt("%lld.%02lld", cents / 100, cents % 100);
}

struct figures {
	const char *handled, *fcr, *aht, *sla_met, *csat, *escalated,
		*reopened, *empowered, *goodwill, *respond_met;
	/* departments only (NULL: must be absent) */
	const char *handoffs, *handoffs_on_time, *handoff_rating;
	const char *targets;    /* as target_fields() writes them */
};

#define EXPECT_STATS(c, sel, from, to, want) \
	expect_stats_at((c), (sel), (from), (to), (want), __FILE__, __LINE__)

static void expect_stats_at(tc_conn *c, const char *sel, const char *from,
			    const char *to, const struct figures *w,
			    const char *file, int line)
{
	struct tc_resp *r = tc_cmd(c, "STATS %s from=%s to=%s", sel, from, to);
	static const char *const keys[] = {
		"handled", "fcr", "aht", "sla_met", "csat", "escalated",
		"reopened", "empowered", "goodwill", "respond_met", "from",
		"to", "handoffs", "handoffs_on_time", "handoff_rating",
	};
	const char *want[NELEM(keys)];
	const char *tf;
	size_t i;

	want[0] = w->handled;
	want[1] = w->fcr;
	want[2] = w->aht;
	want[3] = w->sla_met;
	want[4] = w->csat;
	want[5] = w->escalated;
	want[6] = w->reopened;
	want[7] = w->empowered;
	want[8] = w->goodwill;
	want[9] = w->respond_met;
	want[10] = from;
	want[11] = to;
	want[12] = w->handoffs;
	want[13] = w->handoffs_on_time;
	want[14] = w->handoff_rating;
	e2e_resp_at(r, "OK", NULL, file, line);
	for (i = 0; i < NELEM(keys); i++) {
		const char *got = tc_get(r, keys[i]);

		if (want[i] == NULL ? got != NULL :
		    got == NULL || strcmp(got, want[i]) != 0) {
			print_error("%s:%d: STATS %s: expected %s=%s%s%s, got "
				    "%s%s%s\n  answer: %s\n", file, line, sel,
				    keys[i], want[i] ? "\"" : "",
				    want[i] ? want[i] : "(absent)",
				    want[i] ? "\"" : "", got ? "\"" : "",
				    got ? got : "(absent)", got ? "\"" : "",
				    r->final);
			_fail(file, line);
		}
	}
	tf = target_fields(r);
	if (strcmp(tf, w->targets ? w->targets : "") != 0) {
		print_error("%s:%d: STATS %s: expected the targets \"%s\", got "
			    "\"%s\"\n  answer: %s\n", file, line, sel,
			    w->targets ? w->targets : "", tf, r->final);
		_fail(file, line);
	}
}

/* ---- HANDOFF OPEN ------------------------------------------------------ */

static void test_handoff_open(void **state)
{
	tc_conn *a = tc_session("agent1");
	tc_conn *b = tc_session("agent2");
	tc_conn *integ = tc_session("integ1");
	struct tc_resp *r, *hist;
	long long id, h1, h2, open0, bo0;
	size_t idx[4];
	time_t t0, t1;
	char big[2100];

	(void)state;
	id = taken(a);
	open0 = dept_open(a, "logistics");
	bo0 = dept_open(a, "billing-office");

	/* Someone else's complaint: an agent may open hand-offs on it. */
	t0 = time(NULL);
	r = E2E_OK(b, "HANDOFF OPEN complaint=%lld dept=logistics request=%s",
		   id, tc_q("please check the parcel, \"urgent\""));
	t1 = time(NULL);
	E2E_KEYS(r->final, "handoff", "due");
	h1 = E2E_NUM(r, "handoff");
	expect_due(r, "due", t0, t1, LOGISTICS_WITHIN);
	t0 = time(NULL);
	r = E2E_OK(a, "HANDOFF OPEN complaint=%lld dept=billing-office "
		   "request=%s", id, tc_q("was the fee charged twice?"));
	t1 = time(NULL);
	h2 = E2E_NUM(r, "handoff");
	CHECK(h2 > h1, "hand-off ids %lld then %lld", h1, h2);
	expect_due(r, "due", t0, t1, BILLING_OFFICE_WITHIN);

	/* In the list, open, not rated. */
	r = E2E_OK(a, "HANDOFF LIST complaint=%lld", id);
	E2E_NROWS(r, 2);
	TC_FIELD(r, "count", "2");
	TC_FIELD(r, "more", "no");
	E2E_KEYS(r->rows[0], "handoff", "complaint", "dept", "state", "due",
		 "score");
	E2E_ROW_FIELD(r, 0, "handoff", num(h1));
	E2E_ROW_FIELD(r, 0, "complaint", num(id));
	E2E_ROW_FIELD(r, 0, "dept", "logistics");
	E2E_ROW_FIELD(r, 0, "state", "open");
	E2E_ROW_FIELD(r, 0, "score", "");
	E2E_ROW_FIELD(r, 1, "handoff", num(h2));
	E2E_ROW_FIELD(r, 1, "dept", "billing-office");
	E2E_ROW_TIME(r, 0, "due");

	/* In the complaint's history, by whoever opened it. */
	CHECK(history_rows(a, id, "handoff", &hist, idx, 4) == 2,
	      "expected two handoff history rows after two OPENs");
	E2E_ROW_FIELD(hist, idx[0], "by", "agent2");
	E2E_ROW_FIELD(hist, idx[0], "text",
		      "logistics: please check the parcel, \"urgent\"");
	E2E_ROW_FIELD(hist, idx[1], "by", "agent1");
	E2E_ROW_FIELD(hist, idx[1], "text",
		      "billing-office: was the fee charged twice?");
	E2E_ROW_TIME(hist, idx[0], "at");

	/* DEPT LIST counts them. */
	CHECK(dept_open(a, "logistics") == open0 + 1,
	      "logistics open_handoffs did not move by one");
	CHECK(dept_open(a, "billing-office") == bo0 + 1,
	      "billing-office open_handoffs did not move by one");

	/* Refusals, in the order of §2. */
	E2E_EXPECT(integ, "NO", "forbidden",
		   "HANDOFF OPEN complaint=%lld dept=logistics request=x", id);
	E2E_EXPECT(integ, "NO", "forbidden", "HANDOFF OPEN");
	E2E_EXPECT(a, "BAD", "missing-arg",
		   "HANDOFF OPEN complaint=%lld dept=logistics", id);
	E2E_EXPECT(a, "BAD", "missing-arg",
		   "HANDOFF OPEN dept=logistics request=x");
	E2E_EXPECT(a, "BAD", "missing-arg",
		   "HANDOFF OPEN complaint=%lld request=x", id);
	E2E_EXPECT(a, "BAD", "missing-arg",
		   "HANDOFF OPEN complaint=" MISSING " dept=logistics");
	E2E_EXPECT(a, "BAD", "bad-arg",
		   "HANDOFF OPEN complaint=abc dept=logistics request=x");
	E2E_EXPECT(a, "BAD", "bad-arg",
		   "HANDOFF OPEN complaint=%lld dept=Logistics request=x", id);
	memset(big, 'r', 2001);
	big[2001] = '\0';
	E2E_EXPECT(a, "BAD", "bad-arg",
		   "HANDOFF OPEN complaint=%lld dept=logistics request=%s", id,
		   big);
	E2E_EXPECT(a, "NO", "not-found",
		   "HANDOFF OPEN complaint=" MISSING " dept=logistics "
		   "request=x");
	E2E_EXPECT(a, "NO", "not-found",
		   "HANDOFF OPEN complaint=%lld dept=nosuchdept request=x", id);
	/* Nothing was added by the refusals. */
	r = E2E_OK(a, "HANDOFF LIST complaint=%lld", id);
	E2E_NROWS(r, 2);

	/* Sent again with its idem key: the same hand-off, once. */
	{
		const char *key = e2e_uniq("ho-key-");
		struct tc_resp *r1, *r2;

		r1 = E2E_OK(a, "HANDOFF OPEN complaint=%lld dept=logistics "
			    "request=again idem=%s", id, key);
		r2 = E2E_OK(a, "HANDOFF OPEN complaint=%lld dept=logistics "
			    "request=again idem=%s", id, key);
		TC_FIELD(r2, "handoff", tc_get(r1, "handoff"));
		TC_FIELD(r2, "due", tc_get(r1, "due"));
		E2E_EXPECT(a, "NO", "idem-conflict", "HANDOFF OPEN complaint=%lld "
			   "dept=logistics request=other idem=%s", id, key);
		r = E2E_OK(a, "HANDOFF LIST complaint=%lld", id);
		E2E_NROWS(r, 3);
	}
}

/* ---- HANDOFF ACK / DONE ------------------------------------------------ */

static void test_handoff_ack_done(void **state)
{
	tc_conn *a = tc_session("agent1");
	tc_conn *other = tc_session("agent2");
	tc_conn *clerk = tc_session("clerk1");
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r, *hist;
	long long id, h, h2, open0;
	const char *hs, *ids;
	size_t idx[4];
	char *ev;

	(void)state;
	id = taken(a);
	ids = num(id);
	E2E_OK(sup, "WATCH queues=billing");
	free(E2E_EVENT(sup, "snapshot-end", EVENT_MS, NULL));
	open0 = dept_open(a, "logistics");

	h = handoff_open(a, id, "logistics", "ship a new charger");
	hs = num(h);
	free(E2E_EVENT(sup, "handoff", EVENT_MS, "handoff", hs, "complaint",
		       ids, "dept", "logistics", "state", "open", NULL));
	h2 = handoff_open(a, id, "billing-office", "refund the fee");

	E2E_EXPECT(a, "NO", "not-found", "HANDOFF ACK id=" MISSING);
	E2E_EXPECT(clerk, "NO", "not-found",
		   "HANDOFF DONE id=" MISSING " result=x");
	/* Only members of the department: not the opener, not a
	 * supervisor, not a member of another department. */
	E2E_EXPECT(a, "NO", "forbidden", "HANDOFF ACK id=%lld", h);
	E2E_EXPECT(sup, "NO", "forbidden", "HANDOFF ACK id=%lld", h);
	E2E_EXPECT(clerk, "NO", "forbidden", "HANDOFF ACK id=%lld", h2);
	E2E_EXPECT(clerk, "NO", "forbidden",
		   "HANDOFF DONE id=%lld result=x", h2);
	/* Authority before state: a non-member's DONE before the ACK. */
	E2E_EXPECT(a, "NO", "forbidden", "HANDOFF DONE id=%lld result=x", h);
	/* DONE needs acknowledged. */
	E2E_EXPECT(clerk, "NO", "invalid-state",
		   "HANDOFF DONE id=%lld result=x", h);
	E2E_EXPECT(clerk, "BAD", "missing-arg", "HANDOFF DONE id=%lld", h);
	E2E_EXPECT(clerk, "BAD", "missing-arg", "HANDOFF ACK");

	r = E2E_OK(clerk, "HANDOFF ACK id=%lld", h);
	TC_FIELD(r, "state", "acknowledged");
	/* The opener hears it without watching; so does the watcher. */
	ev = E2E_EVENT(a, "handoff", EVENT_MS, "handoff", hs, "state",
		       "acknowledged", NULL);
	E2E_KEYS(ev, "handoff", "complaint", "dept", "state");
	{
		char *c = tc_field(ev, "complaint"), *d = tc_field(ev, "dept");

		CHECK(c && strcmp(c, ids) == 0 && d &&
		      strcmp(d, "logistics") == 0, "event: %s", ev);
		free(c);
		free(d);
	}
	free(ev);
	free(E2E_EVENT(sup, "handoff", EVENT_MS, "handoff", hs, "state",
		       "acknowledged", NULL));
	E2E_EXPECT(clerk, "NO", "invalid-state", "HANDOFF ACK id=%lld", h);
	r = E2E_OK(a, "HANDOFF LIST complaint=%lld state=acknowledged", id);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "handoff", hs);

	r = E2E_OK(clerk, "HANDOFF DONE id=%lld result=%s", h,
		   tc_q("sent by courier, tracking 123"));
	TC_FIELD(r, "state", "done");
	free(E2E_EVENT(a, "handoff", EVENT_MS, "handoff", hs, "complaint", ids,
		       "dept", "logistics", "state", "done", NULL));
	free(E2E_EVENT(sup, "handoff", EVENT_MS, "handoff", hs, "state", "done",
		       NULL));
	E2E_EXPECT(clerk, "NO", "invalid-state",
		   "HANDOFF DONE id=%lld result=again", h);
	E2E_EXPECT(clerk, "NO", "invalid-state", "HANDOFF ACK id=%lld", h);

	/* Events about a hand-off go to its opener, not to everyone. */
	ev = tc_event(other, "handoff", NO_EVENT_MS);
	CHECK(ev == NULL, "agent2 got a hand-off event it has nothing to do "
	      "with: %s", ev);

	r = E2E_OK(a, "HANDOFF LIST complaint=%lld state=done", id);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "handoff", hs);
	E2E_ROW_FIELD(r, 0, "state", "done");
	/* The answer is in the history too. */
	CHECK(history_rows(a, id, "handoff", &hist, idx, 4) == 3,
	      "expected three handoff history rows (two opened, one done)");
	E2E_ROW_FIELD(hist, idx[2], "by", "clerk1");
	CHECK(strstr(tc_row_get(hist, idx[2], "text"),
		     "sent by courier, tracking 123") != NULL,
	      "the done row does not hold the result: %s", hist->rows[idx[2]]);
	CHECK(dept_open(a, "logistics") == open0,
	      "logistics open_handoffs did not come back after DONE");
	E2E_OK(sup, "UNWATCH");
}

/* ---- HANDOFF RATE ------------------------------------------------------ */

static void test_handoff_rate(void **state)
{
	tc_conn *a = tc_session("agent1");
	tc_conn *b = tc_session("agent2");
	tc_conn *clerk = tc_session("clerk1");
	tc_conn *sup = tc_session("sup1");
	tc_conn *integ = tc_session("integ1");
	struct tc_resp *r;
	long long id, h, h2;
	char big[1100];

	(void)state;
	id = taken(a);
	/* Opened by agent2; agent1 is the complaint's assignee. */
	h = handoff_open(b, id, "logistics", "collect the broken unit");

	E2E_EXPECT(a, "NO", "not-found", "HANDOFF RATE id=" MISSING " score=4");
	/* Open: not yet. A non-assignee is refused before the state. */
	E2E_EXPECT(a, "NO", "invalid-state", "HANDOFF RATE id=%lld score=4", h);
	E2E_EXPECT(b, "NO", "forbidden", "HANDOFF RATE id=%lld score=4", h);
	E2E_OK(clerk, "HANDOFF ACK id=%lld", h);
	E2E_EXPECT(a, "NO", "invalid-state", "HANDOFF RATE id=%lld score=4", h);
	E2E_OK(clerk, "HANDOFF DONE id=%lld result=collected", h);

	/* Done: the opener (not the assignee), the department's member and
	 * an integration may not rate. */
	E2E_EXPECT(b, "NO", "forbidden", "HANDOFF RATE id=%lld score=4", h);
	E2E_EXPECT(clerk, "NO", "forbidden", "HANDOFF RATE id=%lld score=4", h);
	E2E_EXPECT(integ, "NO", "forbidden", "HANDOFF RATE id=%lld score=4", h);
	E2E_EXPECT(a, "BAD", "missing-arg", "HANDOFF RATE id=%lld", h);
	E2E_EXPECT(a, "BAD", "bad-arg", "HANDOFF RATE id=%lld score=0", h);
	E2E_EXPECT(a, "BAD", "bad-arg", "HANDOFF RATE id=%lld score=6", h);
	E2E_EXPECT(a, "BAD", "bad-arg", "HANDOFF RATE id=%lld score=x", h);
	memset(big, 'c', 1001);
	big[1001] = '\0';
	E2E_EXPECT(a, "BAD", "bad-arg",
		   "HANDOFF RATE id=%lld score=4 comment=%s", h, big);

	r = E2E_OK(a, "HANDOFF RATE id=%lld score=4 comment=%s", h,
		   tc_q("quick, thanks"));
	/* A repeat with the same score and comment: OK; another: exists. */
	E2E_OK(a, "HANDOFF RATE id=%lld score=4 comment=%s", h,
	       tc_q("quick, thanks"));
	E2E_EXPECT(a, "NO", "exists", "HANDOFF RATE id=%lld score=5 comment=%s",
		   h, tc_q("quick, thanks"));
	E2E_EXPECT(a, "NO", "exists", "HANDOFF RATE id=%lld score=4 comment=%s",
		   h, tc_q("slow"));
	E2E_EXPECT(a, "NO", "exists", "HANDOFF RATE id=%lld score=4", h);
	/* A supervisor's different rating does not replace it either. */
	E2E_EXPECT(sup, "NO", "exists", "HANDOFF RATE id=%lld score=1", h);
	r = E2E_OK(a, "HANDOFF LIST complaint=%lld", id);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "score", "4");
	CHECK(tdb_int("SELECT count(*) FROM handoffs WHERE id = $1 AND score = 4 "
		      "AND comment = 'quick, thanks'", num(h), NULL) == 1,
	      "the rating is not stored as given");

	/* A supervisor may rate, without a comment; the repeat is OK. */
	h2 = handoff_open(a, id, "logistics", "and the cable");
	handoff_finish(clerk, h2, "cable sent");
	E2E_OK(sup, "HANDOFF RATE id=%lld score=2", h2);
	E2E_OK(sup, "HANDOFF RATE id=%lld score=2", h2);
	E2E_EXPECT(sup, "NO", "exists", "HANDOFF RATE id=%lld score=3", h2);
	r = E2E_OK(a, "HANDOFF LIST complaint=%lld", id);
	E2E_NROWS(r, 2);
	E2E_ROW_FIELD(r, 1, "handoff", num(h2));
	E2E_ROW_FIELD(r, 1, "score", "2");
}

/* ---- HANDOFF LIST ------------------------------------------------------ */

static void test_handoff_list(void **state)
{
	tc_conn *a = tc_session("agent1");
	tc_conn *clerk = tc_session("clerk1");
	tc_conn *integ = tc_session("integ1");
	struct tc_resp *r;
	long long id, h1, h2, h3;

	(void)state;
	id = taken(a);
	h1 = handoff_open(a, id, "logistics", "one");
	h2 = handoff_open(a, id, "billing-office", "two");
	h3 = handoff_open(a, id, "logistics", "three");
	E2E_OK(clerk, "HANDOFF ACK id=%lld", h3);

	r = E2E_OK(a, "HANDOFF LIST complaint=%lld", id);
	E2E_NROWS(r, 3);
	E2E_ROW_FIELD(r, 0, "handoff", num(h1));
	E2E_ROW_FIELD(r, 1, "handoff", num(h2));
	E2E_ROW_FIELD(r, 2, "handoff", num(h3));
	E2E_ROW_FIELD(r, 2, "state", "acknowledged");
	TC_FIELD(r, "count", "3");
	TC_FIELD(r, "more", "no");
	r = E2E_OK(a, "HANDOFF LIST complaint=%lld dept=logistics", id);
	E2E_NROWS(r, 2);
	E2E_ROW_FIELD(r, 0, "handoff", num(h1));
	E2E_ROW_FIELD(r, 1, "handoff", num(h3));
	r = E2E_OK(a, "HANDOFF LIST complaint=%lld state=open", id);
	E2E_NROWS(r, 2);
	E2E_ROW_FIELD(r, 0, "handoff", num(h1));
	E2E_ROW_FIELD(r, 1, "handoff", num(h2));
	r = E2E_OK(a, "HANDOFF LIST complaint=%lld state=open dept=logistics",
		   id);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "handoff", num(h1));
	r = E2E_OK(a, "HANDOFF LIST complaint=%lld state=done", id);
	E2E_NROWS(r, 0);
	TC_FIELD(r, "count", "0");
	TC_FIELD(r, "more", "no");
	/* limit: the oldest first, more=yes when more matched. */
	r = E2E_OK(a, "HANDOFF LIST complaint=%lld limit=2", id);
	E2E_NROWS(r, 2);
	E2E_ROW_FIELD(r, 1, "handoff", num(h2));
	TC_FIELD(r, "count", "2");
	TC_FIELD(r, "more", "yes");
	r = E2E_OK(a, "HANDOFF LIST complaint=%lld limit=3", id);
	TC_FIELD(r, "more", "no");
	r = E2E_OK(a, "HANDOFF LIST limit=1");
	E2E_NROWS(r, 1);
	TC_FIELD(r, "more", "yes");
	/* A department's member sees them too (every agent may list). */
	r = E2E_OK(clerk, "HANDOFF LIST complaint=%lld dept=billing-office", id);
	E2E_NROWS(r, 1);

	E2E_EXPECT(a, "NO", "not-found", "HANDOFF LIST dept=nosuchdept");
	E2E_EXPECT(a, "NO", "not-found", "HANDOFF LIST complaint=" MISSING);
	E2E_EXPECT(a, "BAD", "bad-arg", "HANDOFF LIST state=closed");
	E2E_EXPECT(a, "BAD", "bad-arg", "HANDOFF LIST limit=0");
	E2E_EXPECT(a, "BAD", "bad-arg", "HANDOFF LIST limit=1001");
	E2E_EXPECT(a, "BAD", "bad-arg", "HANDOFF LIST dept=No_Such");
	E2E_EXPECT(integ, "NO", "forbidden", "HANDOFF LIST");
}

/* ---- CLOSE with a hand-off open ---------------------------------------- */

static void test_handoff_blocks_close(void **state)
{
	tc_conn *a = tc_session("agent1");
	tc_conn *clerk = tc_session("clerk1");
	struct tc_resp *r;
	long long id, h1, h2;

	(void)state;
	id = taken(a);
	h1 = handoff_open(a, id, "logistics", "first");
	h2 = handoff_open(a, id, "logistics", "second");
	E2E_OK(a, "COMPLAINT RESOLVE id=%lld action=apology resolution=%s", id,
	       tc_q("sorry"));
	E2E_OK(a, "COMPLAINT NOTE id=%lld text=%s reply=yes", id,
	       tc_q("We are sorry."));
	E2E_EXPECT(a, "NO", "open-handoff", "COMPLAINT CLOSE id=%lld", id);
	handoff_finish(clerk, h1, "done one");
	/* One done, the other only acknowledged: still refused. */
	E2E_OK(clerk, "HANDOFF ACK id=%lld", h2);
	E2E_EXPECT(a, "NO", "open-handoff", "COMPLAINT CLOSE id=%lld", id);
	r = E2E_OK(a, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "resolved");
	E2E_OK(clerk, "HANDOFF DONE id=%lld result=%s", h2, tc_q("done two"));
	r = E2E_OK(a, "COMPLAINT CLOSE id=%lld", id);
	TC_FIELD(r, "state", "closed");
}

/* ---- an overdue hand-off is pushed ------------------------------------- */

static void test_handoff_overdue(void **state)
{
	tc_conn *a = tc_session("agent1");
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r;
	long long id, h;
	char *ev;

	(void)state;
	id = taken(a);
	h = handoff_open(a, id, "logistics", "late one");
	E2E_OK(sup, "WATCH queues=billing");
	free(E2E_EVENT(sup, "snapshot-end", EVENT_MS, NULL));
	/* Its internal deadline (a day) is made to pass now. */
	tdb_exec("UPDATE handoffs SET due = now() - interval '1 second' "
		 "WHERE id = $1", num(h), NULL);
	ev = E2E_EVENT(sup, "sla", EVENT_MS, "complaint", num(id), "deadline",
		       "handoff", "status", "breached", "handoff", num(h),
		       "dept", "logistics", NULL);
	free(ev);
	/* Pushed once: the next sweeps stay quiet about it. */
	ev = e2e_event_match(sup, "sla", 3000, "handoff", num(h), NULL);
	CHECK(ev == NULL, "the overdue hand-off was pushed twice: %s", ev);
	r = E2E_OK(sup, "HANDOFF LIST complaint=%lld", id);
	E2E_ROW_FIELD(r, 0, "state", "open");
	E2E_OK(sup, "UNWATCH");
}

/* ---- FEEDBACK ---------------------------------------------------------- */

static void test_feedback(void **state)
{
	tc_conn *a = tc_session("agent1");
	tc_conn *integ = tc_session("integ1");
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r, *hist;
	long long cust, id, fresh, w, closed, reop;
	size_t idx[4];
	char big[2100];

	(void)state;
	/* new, assigned, waiting: not yet. */
	cust = E2E_CUSTOMER(a, NULL);
	fresh = E2E_COMPLAINT(a, cust, "billing", 3);
	E2E_EXPECT(a, "NO", "invalid-state", "FEEDBACK complaint=%lld csat=4",
		   fresh);
	E2E_OK(a, "COMPLAINT TAKE id=%lld", fresh);
	E2E_EXPECT(integ, "NO", "invalid-state",
		   "FEEDBACK complaint=%lld csat=4", fresh);
	w = taken(a);
	E2E_OK(a, "COMPLAINT WAIT id=%lld reason=%s", w, tc_q("call back"));
	E2E_EXPECT(a, "NO", "invalid-state", "FEEDBACK complaint=%lld csat=4",
		   w);

	/* Arguments, then existence. */
	E2E_EXPECT(a, "BAD", "missing-arg", "FEEDBACK complaint=%lld", fresh);
	E2E_EXPECT(a, "BAD", "missing-arg", "FEEDBACK csat=3");
	E2E_EXPECT(a, "BAD", "bad-arg", "FEEDBACK complaint=%lld csat=0",
		   fresh);
	E2E_EXPECT(a, "BAD", "bad-arg", "FEEDBACK complaint=%lld csat=6",
		   fresh);
	E2E_EXPECT(a, "BAD", "bad-arg", "FEEDBACK complaint=%lld csat=4.5",
		   fresh);
	memset(big, 'f', 2001);
	big[2001] = '\0';
	E2E_EXPECT(a, "BAD", "bad-arg",
		   "FEEDBACK complaint=%lld csat=4 comment=%s", fresh, big);
	E2E_EXPECT(a, "NO", "not-found", "FEEDBACK complaint=" MISSING
		   " csat=4");

	/* resolved: once, idempotent. */
	id = fresh;
	E2E_OK(a, "COMPLAINT RESOLVE id=%lld action=apology resolution=%s", id,
	       tc_q("sorry"));
	E2E_OK(a, "FEEDBACK complaint=%lld csat=4 comment=%s", id,
	       tc_q("kind, \"fast\""));
	E2E_OK(a, "FEEDBACK complaint=%lld csat=4 comment=%s", id,
	       tc_q("kind, \"fast\""));
	/* The survey tool sending it again: the same values are OK. */
	E2E_OK(integ, "FEEDBACK complaint=%lld csat=4 comment=%s", id,
	       tc_q("kind, \"fast\""));
	E2E_EXPECT(a, "NO", "exists", "FEEDBACK complaint=%lld csat=5 "
		   "comment=%s", id, tc_q("kind, \"fast\""));
	E2E_EXPECT(integ, "NO", "exists", "FEEDBACK complaint=%lld csat=4 "
		   "comment=%s", id, tc_q("rude"));
	E2E_EXPECT(a, "NO", "exists", "FEEDBACK complaint=%lld csat=4", id);
	E2E_EXPECT(sup, "NO", "exists", "FEEDBACK complaint=%lld csat=1", id);
	CHECK(tdb_int("SELECT count(*) FROM feedback WHERE complaint_id = $1",
		      num(id), NULL) == 1, "feedback stored more than once");
	CHECK(history_rows(a, id, "feedback", &hist, idx, 4) == 1,
	      "expected one feedback row in the history");
	E2E_ROW_TIME(hist, idx[0], "at");

	/* closed: OK, from an integration, without a comment. */
	closed = taken(a);
	E2E_OK(a, "COMPLAINT RESOLVE id=%lld action=explanation resolution=%s",
	       closed, tc_q("explained"));
	E2E_OK(a, "COMPLAINT NOTE id=%lld text=%s reply=yes", closed,
	       tc_q("Here is why."));
	E2E_OK(a, "COMPLAINT CLOSE id=%lld", closed);
	E2E_OK(integ, "FEEDBACK complaint=%lld csat=5", closed);
	E2E_OK(integ, "FEEDBACK complaint=%lld csat=5", closed);
	E2E_EXPECT(integ, "NO", "exists", "FEEDBACK complaint=%lld csat=5 "
		   "comment=%s", closed, tc_q("great"));

	/* reopened, without feedback yet: not now. */
	reop = taken(a);
	E2E_OK(a, "COMPLAINT RESOLVE id=%lld action=apology resolution=%s",
	       reop, tc_q("sorry"));
	E2E_OK(a, "COMPLAINT REOPEN id=%lld reason=%s", reop,
	       tc_q("not fixed"));
	E2E_EXPECT(integ, "NO", "invalid-state",
		   "FEEDBACK complaint=%lld csat=2", reop);
	/* Leave nothing waiting in the shared queue. */
	E2E_OK(a, "COMPLAINT TAKE id=%lld", reop);
	r = E2E_OK(a, "COMPLAINT GET id=%lld", reop);
	TC_FIELD(r, "state", "assigned");
}

/* ---- follow-ups -------------------------------------------------------- */

static void test_followup(void **state)
{
	const char *u = E2E_USER("agent", "tier=1 skills=billing");
	tc_conn *c = tc_session(u);
	tc_conn *other = tc_session("agent1");
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r, *hist;
	long long cust1, cust3, k1, k2, k3, k4, f1, f3;
	size_t i, idx[4];
	bool seen;
	time_t t0, t1;
	char *ev = NULL;
	int64_t deadline;

	(void)state;
	k1 = taken_cust(c, "billing", 3, &cust1);
	t0 = time(NULL);
	r = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=callback resolution=%s",
		   k1, tc_q("we will call you"));
	t1 = time(NULL);
	TC_FIELD(r, "decision", "allow");
	r = E2E_OK(c, "FOLLOWUP LIST mine=yes");
	E2E_NROWS(r, 1);
	TC_FIELD(r, "count", "1");
	TC_FIELD(r, "more", "no");
	E2E_KEYS(r->rows[0], "followup", "complaint", "customer", "agent", "due",
		 "state");
	E2E_ROW_FIELD(r, 0, "complaint", num(k1));
	E2E_ROW_FIELD(r, 0, "customer", num(cust1));
	E2E_ROW_FIELD(r, 0, "agent", u);
	E2E_ROW_FIELD(r, 0, "state", "scheduled");
	f1 = E2E_ROW_NUM(r, 0, "followup");
	{
		time_t due = E2E_ROW_TIME(r, 0, "due");

		CHECK(due >= t0 + FOLLOWUP_AFTER - SLACK &&
		      due <= t1 + FOLLOWUP_AFTER + SLACK,
		      "follow-up due %s is not followup_after from the "
		      "resolution", tc_row_get(r, 0, "due"));
	}
	/* callback with followup=no: none; apology with followup=yes: one;
	 * apology alone: none. */
	k2 = taken(c);
	E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=callback followup=no "
	       "resolution=%s", k2, tc_q("no call"));
	k3 = taken_cust(c, "billing", 3, &cust3);
	E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=apology followup=yes "
	       "resolution=%s", k3, tc_q("sorry, we will call"));
	k4 = taken(c);
	E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=apology resolution=%s", k4,
	       tc_q("sorry"));
	r = E2E_OK(c, "FOLLOWUP LIST mine=yes");
	E2E_NROWS(r, 2);
	E2E_ROW_FIELD(r, 0, "followup", num(f1));
	E2E_ROW_FIELD(r, 1, "complaint", num(k3));
	E2E_ROW_FIELD(r, 1, "customer", num(cust3));
	f3 = E2E_ROW_NUM(r, 1, "followup");
	r = E2E_OK(c, "FOLLOWUP LIST");
	E2E_NROWS(r, 2);
	r = E2E_OK(c, "FOLLOWUP LIST mine=yes limit=1");
	E2E_NROWS(r, 1);
	TC_FIELD(r, "more", "yes");
	r = E2E_OK(c, "FOLLOWUP LIST mine=yes due=yes");
	E2E_NROWS(r, 0);

	/* Another agent sees only their own; a supervisor everyone's. */
	r = E2E_OK(other, "FOLLOWUP LIST limit=1000");
	for (i = 0; i < r->nrows; i++)
		E2E_ROW_FIELD(r, i, "agent", "agent1");
	r = E2E_OK(sup, "FOLLOWUP LIST limit=1000");
	seen = false;
	for (i = 0; i < r->nrows; i++)
		seen = seen || strcmp(tc_row_get(r, i, "followup"),
				      num(f1)) == 0;
	CHECK(seen, "a supervisor's FOLLOWUP LIST lacks follow-up %lld", f1);
	r = E2E_OK(sup, "FOLLOWUP LIST mine=yes limit=1000");
	for (i = 0; i < r->nrows; i++)
		E2E_ROW_FIELD(r, i, "agent", "sup1");

	/* FOLLOWUP DONE. */
	E2E_EXPECT(c, "BAD", "missing-arg", "FOLLOWUP DONE id=%lld", f1);
	E2E_EXPECT(c, "BAD", "bad-arg", "FOLLOWUP DONE id=%lld outcome=maybe",
		   f1);
	E2E_EXPECT(c, "NO", "not-found",
		   "FOLLOWUP DONE id=" MISSING " outcome=reached");
	E2E_EXPECT(other, "NO", "forbidden",
		   "FOLLOWUP DONE id=%lld outcome=reached", f1);
	r = E2E_OK(c, "FOLLOWUP DONE id=%lld outcome=reached note=%s", f1,
		   tc_q("all good now"));
	TC_FIELD(r, "state", "done");
	E2E_EXPECT(c, "NO", "invalid-state",
		   "FOLLOWUP DONE id=%lld outcome=declined", f1);
	CHECK(history_rows(c, k1, "note", &hist, idx, 4) >= 1,
	      "FOLLOWUP DONE left no note in the history");
	CHECK(strstr(tc_row_get(hist, idx[0], "text"), "reached") != NULL,
	      "the history note does not give the outcome: %s",
	      hist->rows[idx[0]]);
	r = E2E_OK(c, "FOLLOWUP LIST mine=yes");
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "followup", num(f3));

	/* Falling due: pushed once to the agent, listed with due=yes. The
	 * two days are made to pass now; the sweep runs every 2 s. */
	tdb_exec("UPDATE followups SET due = now() - interval '1 second' "
		 "WHERE id = $1", num(f3), NULL);
	deadline = e2e_mono_ms() + e2e_wait_ms();
	while (ev == NULL && e2e_mono_ms() < deadline) {
		ev = e2e_event_match(c, "followup", 1000, "followup", num(f3),
				     NULL);
		/* Both sessions are used below: not idle meanwhile. */
		E2E_PING(c, sup);
	}
	CHECK(ev != NULL, "no followup event for %lld within %d ms", f3,
	      e2e_wait_ms());
	{
		char *k = tc_field(ev, "complaint");

		CHECK(k != NULL && strcmp(k, num(k3)) == 0, "event: %s", ev);
		free(k);
		E2E_KEYS(ev, "followup", "complaint", "due");
	}
	free(ev);
	r = E2E_OK(c, "FOLLOWUP LIST mine=yes due=yes");
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "followup", num(f3));
	/* A supervisor may record it. */
	r = E2E_OK(sup, "FOLLOWUP DONE id=%lld outcome=no-answer", f3);
	TC_FIELD(r, "state", "done");
	r = E2E_OK(c, "FOLLOWUP LIST mine=yes");
	E2E_NROWS(r, 0);
	ev = e2e_event_match(c, "followup", 2500, NULL);
	CHECK(ev == NULL, "a follow-up was pushed twice: %s", ev);
}

/* ---- TARGET SET / LIST and the targets in STATS ------------------------ */

static void test_targets(void **state)
{
	const char *team = e2e_uniq("tt");
	const char *u = E2E_USER("agent", e2e_fmt("tier=1 team=%s", team));
	const char *u2 = E2E_USER("agent", e2e_fmt("tier=1 team=%s", team));
	tc_conn *sup = tc_session("sup1");
	tc_conn *c = tc_session(u);
	struct tc_resp *r;
	long long t1, t2;
	time_t today, today_after;
	const char *from = "2020-06-01T00:00:00Z", *to = "2020-06-02T00:00:00Z";
	const char *valid_from;

	(void)state;
	today = time(NULL);
	r = E2E_OK(sup, "TARGET SET scope=agent name=%s figure=fcr op=min "
		   "value=0.75", u);
	today_after = time(NULL);
	t1 = E2E_NUM(r, "target");
	r = E2E_OK(sup, "TARGET SET scope=team name=%s figure=fcr op=min "
		   "value=0.6", team);
	t2 = E2E_NUM(r, "target");
	CHECK(t2 > t1, "target ids %lld then %lld", t1, t2);
	E2E_OK(sup, "TARGET SET scope=team name=%s figure=csat op=min value=4.2",
	       team);
	E2E_OK(sup, "TARGET SET scope=team name=%s figure=aht op=max value=300",
	       team);
	E2E_OK(sup, "TARGET SET scope=agent name=%s figure=handled op=min "
	       "value=3", u);
	/* Older validity, set later: the latest valid_from still wins. */
	E2E_OK(sup, "TARGET SET scope=agent name=%s figure=fcr op=min "
	       "value=0.5 from=2020-01-01T00:00:00Z", u);
	/* Only in 2020. */
	E2E_OK(sup, "TARGET SET scope=agent name=%s figure=sla_met op=min "
	       "value=0.9 from=2020-01-01T08:00:00Z to=2020-12-31T23:00:00Z", u);

	/* TARGET LIST: dates as YYYY-MM-DD, open end as "". Any agent. */
	r = E2E_OK(c, "TARGET LIST scope=agent name=%s", u);
	E2E_NROWS(r, 4);
	TC_FIELD(r, "count", "4");
	E2E_KEYS(r->rows[0], "target", "scope", "name", "figure", "op", "value",
		 "from", "to");
	E2E_ROW_FIELD(r, 0, "target", num(t1));
	E2E_ROW_FIELD(r, 0, "scope", "agent");
	E2E_ROW_FIELD(r, 0, "name", u);
	E2E_ROW_FIELD(r, 0, "figure", "fcr");
	E2E_ROW_FIELD(r, 0, "op", "min");
	CHECK(strtod(tc_row_get(r, 0, "value"), NULL) == 0.75,
	      "value: %s", r->rows[0]);
	/* Valid from the day it was set (either, should midnight UTC have
	 * passed during the request). */
	valid_from = tc_row_get(r, 0, "from");
	CHECK(valid_from != NULL &&
	      (strcmp(valid_from, utc_date(today)) == 0 ||
	       strcmp(valid_from, utc_date(today_after)) == 0),
	      "TARGET LIST: from=%s, expected %s (the day of TARGET SET)",
	      valid_from ? valid_from : "(none)", utc_date(today));
	E2E_ROW_FIELD(r, 0, "to", "");
	E2E_ROW_FIELD(r, 3, "figure", "sla_met");
	E2E_ROW_FIELD(r, 3, "from", "2020-01-01");
	E2E_ROW_FIELD(r, 3, "to", "2020-12-31");
	r = E2E_OK(c, "TARGET LIST scope=team name=%s", team);
	E2E_NROWS(r, 3);
	E2E_ROW_FIELD(r, 0, "target", num(t2));
	E2E_ROW_FIELD(r, 0, "scope", "team");
	CHECK(strtod(tc_row_get(r, 0, "value"), NULL) == 0.6, "value: %s",
	      r->rows[0]);
	r = E2E_OK(c, "TARGET LIST name=%s", u2);
	E2E_NROWS(r, 0);

	/* Refusals. */
	E2E_EXPECT(c, "NO", "forbidden", "TARGET SET scope=agent name=%s "
		   "figure=fcr op=min value=0.1", u);
	E2E_EXPECT(sup, "BAD", "missing-arg", "TARGET SET scope=agent name=%s "
		   "figure=fcr op=min", u);
	E2E_EXPECT(sup, "BAD", "bad-arg", "TARGET SET scope=agent name=%s "
		   "figure=goodwill op=min value=1", u);
	E2E_EXPECT(sup, "BAD", "bad-arg", "TARGET SET scope=agent name=%s "
		   "figure=fcr op=eq value=1", u);
	E2E_EXPECT(sup, "BAD", "bad-arg", "TARGET SET scope=queue name=billing "
		   "figure=fcr op=min value=1");
	E2E_EXPECT(sup, "BAD", "bad-arg", "TARGET SET scope=agent name=%s "
		   "figure=fcr op=min value=0.755", u);
	E2E_EXPECT(sup, "BAD", "bad-arg", "TARGET SET scope=agent name=%s "
		   "figure=fcr op=min value=x", u);
	E2E_EXPECT(sup, "NO", "not-found", "TARGET SET scope=agent "
		   "name=nosuchuser figure=fcr op=min value=1");
	E2E_EXPECT(sup, "NO", "not-found", "TARGET SET scope=team "
		   "name=nosuchteam figure=fcr op=min value=1");
	E2E_EXPECT(sup, "BAD", "bad-arg", "TARGET LIST scope=dept");

	/* STATS: each target that applies after the figures, in the order
	 * of the figures; the agent's own beats the team's. An agent sees
	 * their own. */
	r = E2E_OK(c, "STATS");
	CHECK(strcmp(target_fields(r), "handled_min=3 fcr_min=0.75 "
		     "aht_max=300 csat_min=4.20") == 0,
	      "targets in %s", r->final);
	r = E2E_OK(sup, "STATS agent=%s", u);
	CHECK(strcmp(target_fields(r), "handled_min=3 fcr_min=0.75 "
		     "aht_max=300 csat_min=4.20") == 0,
	      "targets in %s", r->final);
	r = E2E_OK(sup, "STATS agent=%s", u2);
	CHECK(strcmp(target_fields(r), "fcr_min=0.60 aht_max=300 "
		     "csat_min=4.20") == 0, "targets in %s", r->final);
	r = E2E_OK(sup, "STATS team=%s", team);
	CHECK(strcmp(target_fields(r), "fcr_min=0.60 aht_max=300 "
		     "csat_min=4.20") == 0, "targets in %s", r->final);
	r = E2E_OK(sup, "STATS queue=billing");
	CHECK(strcmp(target_fields(r), "") == 0, "targets in %s", r->final);
	/* A period in 2020: only the targets valid then. */
	r = E2E_OK(sup, "STATS agent=%s from=%s to=%s", u, from, to);
	CHECK(strcmp(target_fields(r), "fcr_min=0.50 sla_met_min=0.90") == 0,
	      "targets in %s", r->final);
	r = E2E_OK(sup, "STATS agent=%s from=2019-06-01T00:00:00Z "
		   "to=2019-06-02T00:00:00Z", u);
	CHECK(strcmp(target_fields(r), "") == 0, "targets in %s", r->final);
	/* Figures and targets together: nothing measured, "" beside them. */
	TC_FIELD(r, "fcr", "");
	TC_FIELD(r, "handled", "0");
}

/* ---- STATS: refusals, forms, the default period ------------------------ */

static void test_stats_refusals(void **state)
{
	const char *fresh = E2E_USER("agent", "tier=1");
	tc_conn *a = tc_session("agent1");
	tc_conn *sup = tc_session("sup1");
	tc_conn *integ = tc_session("integ1");
	tc_conn *f = tc_session(fresh);
	struct tc_resp *r;
	time_t before, after;
	const char *const sels[] = {
		"", "agent=agent1", "team=red", "queue=billing",
		"dept=logistics",
	};
	size_t i;

	(void)state;
	/* Arguments first. */
	E2E_EXPECT(sup, "BAD", "bad-arg", "STATS agent=agent1 team=red");
	E2E_EXPECT(sup, "BAD", "bad-arg", "STATS queue=billing dept=logistics");
	E2E_EXPECT(sup, "BAD", "bad-arg",
		   "STATS agent=nosuchuser team=nosuchteam");
	E2E_EXPECT(sup, "BAD", "bad-arg", "STATS from=2026-01-02T00:00:00Z "
		   "to=2026-01-01T00:00:00Z");
	E2E_EXPECT(sup, "BAD", "bad-arg", "STATS from=2026-01-01T00:00:00Z "
		   "to=2026-01-01T00:00:00Z");
	E2E_EXPECT(sup, "BAD", "bad-arg", "STATS from=yesterday");
	E2E_EXPECT(sup, "BAD", "bad-arg", "STATS agent=Agent_1");
	E2E_EXPECT(sup, "BAD", "bad-arg", "STATS dept=x y=z");
	E2E_EXPECT(integ, "NO", "forbidden", "STATS");
	/* Then what the names name. */
	E2E_EXPECT(sup, "NO", "not-found", "STATS agent=nosuchuser");
	E2E_EXPECT(sup, "NO", "not-found", "STATS team=nosuchteam");
	E2E_EXPECT(sup, "NO", "not-found", "STATS queue=nosuchqueue");
	E2E_EXPECT(sup, "NO", "not-found", "STATS dept=nosuchdept");
	/* Existence before authority, for an agent too. */
	E2E_EXPECT(a, "NO", "not-found", "STATS agent=nosuchuser");
	E2E_EXPECT(a, "NO", "not-found", "STATS queue=nosuchqueue");
	/* An agent: their own figures only. */
	E2E_EXPECT(a, "NO", "forbidden", "STATS agent=agent2");
	E2E_EXPECT(a, "NO", "forbidden", "STATS agent=sup1");
	E2E_EXPECT(a, "NO", "forbidden", "STATS team=red");
	E2E_EXPECT(a, "NO", "forbidden", "STATS queue=billing");
	E2E_EXPECT(a, "NO", "forbidden", "STATS dept=logistics");
	E2E_OK(a, "STATS");
	E2E_OK(a, "STATS agent=me");
	E2E_OK(a, "STATS agent=agent1");
	/* A supervisor: anyone, every selection; every field present. */
	for (i = 0; i < NELEM(sels); i++) {
		r = E2E_OK(sup, "STATS %s", sels[i]);
		E2E_KEYS(r->final, "handled", "fcr", "aht", "sla_met", "csat",
			 "escalated", "reopened", "empowered", "goodwill",
			 "respond_met", "from", "to");
		E2E_NUM(r, "handled");
		if (strncmp(sels[i], "dept=", 5) == 0)
			E2E_KEYS(r->final, "handoffs", "handoffs_on_time",
				 "handoff_rating");
		else
			CHECK(tc_get(r, "handoffs") == NULL,
			      "handoffs= outside dept=: %s", r->final);
	}
	E2E_OK(sup, "STATS agent=%s", fresh);

	/* Nothing to measure: rates and means "", counts 0. */
	before = time(NULL);
	r = E2E_OK(f, "STATS");
	after = time(NULL);
	TC_FIELD(r, "handled", "0");
	TC_FIELD(r, "fcr", "");
	TC_FIELD(r, "aht", "");
	TC_FIELD(r, "sla_met", "");
	TC_FIELD(r, "csat", "");
	TC_FIELD(r, "escalated", "");
	TC_FIELD(r, "reopened", "");
	TC_FIELD(r, "empowered", "");
	TC_FIELD(r, "goodwill", "0.00");
	TC_FIELD(r, "respond_met", "");
	/* The default period: today in the configured time zone (UTC). */
	if (before / DAY == after / DAY) {
		TC_FIELD(r, "from", utc(before / DAY * DAY));
		TC_FIELD(r, "to", utc(before / DAY * DAY + DAY));
	}
	/* Times with an offset are answered in UTC. */
	r = E2E_OK(f, "STATS from=2026-01-01T01:00:00+01:00 "
		   "to=2026-01-02T00:00:00.5Z");
	TC_FIELD(r, "from", "2026-01-01T00:00:00Z");
	TC_FIELD(r, "to", "2026-01-02T00:00:00Z");
}

/* ---- a scripted day ----------------------------------------------------- */

static long long ix_start(tc_conn *c, long long cust, long long complaint,
			  const char *channel, const char *direction)
{
	struct tc_resp *r;

	if (complaint > 0)
		r = E2E_OK(c, "INTERACTION START customer=%lld channel=%s "
			   "direction=%s complaint=%lld", cust, channel,
			   direction, complaint);
	else
		r = E2E_OK(c, "INTERACTION START customer=%lld channel=%s "
			   "direction=%s", cust, channel, direction);
	return E2E_NUM(r, "interaction");
}

/* INTERACTION END; returns the duration it reports. */
static long long ix_end(tc_conn *c, long long ix)
{
	struct tc_resp *r = E2E_OK(c, "INTERACTION END id=%lld outcome=resolved",
				   ix);

	return E2E_NUM(r, "duration");
}

static long long opened(tc_conn *c, long long cust, const char *category,
			int severity, const char *summary, time_t *resolve_by)
{
	struct tc_resp *r = E2E_OK(c, "COMPLAINT OPEN customer=%lld "
				   "category=%s severity=%d summary=%s", cust,
				   category, severity, tc_q(summary));
	long long id = E2E_NUM(r, "complaint");

	if (resolve_by != NULL)
		*resolve_by = E2E_TIME(r, "resolve_by");
	E2E_OK(c, "COMPLAINT TAKE id=%lld", id);
	return id;
}

static void resolve_allow(tc_conn *c, long long id, const char *action,
			  const char *amount)
{
	struct tc_resp *r;

	if (amount != NULL)
		r = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=%s amount=%s "
			   "resolution=%s", id, action, amount,
			   tc_q("done as agreed"));
	else
		r = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=%s "
			   "resolution=%s", id, action, tc_q("done as agreed"));
	TC_FIELD(r, "decision", "allow");
	TC_FIELD(r, "state", "resolved");
}

/* A day of two agents of a new team: ann (tier 1) and bob (tier 2, also
 * a member of billing-office); mem, a member of billing-office, answers
 * its hand-offs; clerk1 those of logistics; sup1 approves and rejects;
 * integ1 is the survey tool. Every figure below is worked out by hand from
 * what the day does; only the interactions' durations are read from the
 * answers to INTERACTION END.
 *
 * The resolutions (R), in the order they happen:
 *   R1 K1 ann  billing  1 interaction  replied   refund 10.00 allow   reopened later
 *   R2 K2 ann  billing  2 interactions           apology      allow
 *   R3 K3 ann  billing  1 interaction            refund 50.00 beyond tier 1:
 *                                                approved by sup1, credited to ann
 *   R6 K5 bob  general  1 interaction            bob ESCALATEs, sup1 REJECTs,
 *                                                then apology allow
 *   R7 K6 bob  billing  0 before it (1 after)    refund 45.50 allow (tier 2)
 *   R5 K1 bob  billing  (I1 only)                after ann's reopen; no new reply
 *   R4 K4 ann  urgent   0 interactions           apology, after its 10 s
 *                                                deadline (an automatic
 *                                                escalation came first)
 * Interactions ended in the day: I1 I2 I3 I4 (ann: K1 K2 K2 K3, billing),
 * I5 (bob, K5 general), I6 (bob, no complaint), I8 (bob, K6 billing, after
 * R7); I7 (bob) is still going on at the end and does not count.
 * Feedback: K1 5 (before the reopen: R1, ann), K2 3 (ann), K5 4 (bob,
 * general, by integ1), K6 2 (bob).
 * Hand-offs: to billing-office H1 (K6, done, rated 4 by bob), H2 (K2, done,
 * rated 2 by sup1), H3 (K5, open, not due: not judged), H4 (K3, open, its
 * due made to pass: late); to logistics H5 (K1, done, rated 5 by ann).
 * Targets: team handled >= 3, fcr >= 0.60, aht <= 600, csat >= 4.2; ann's
 * own fcr >= 0.75. */
static void test_stats_day(void **state)
{
	const char *team = e2e_uniq("day");
	const char *ann = e2e_uniq("ann"), *bob = e2e_uniq("bob");
	const char *mem = e2e_uniq("mem");
	tc_conn *adm = tc_session("admin1");
	tc_conn *sup, *a, *b, *m, *clerk, *integ;
	struct tc_resp *r;
	long long c1, c2, c3, c4, c5, c6, k1, k2, k3, k4, k5, k6;
	long long i1, i2, i3, i4, i5, i6, i7, i8, e1, e2;
	long long d1, d2, d3, d4, d5, d6, d8;
	long long h1, h2, h3, h4, h5;
	time_t t_from, t_to, k4_due, before, after;
	char from[32], to[32];  /* kept: e2e_fmt()'s ring turns over */
	struct figures w;

	(void)state;
	E2E_OK(adm, "USER ADD name=%s role=agent tier=1 skills=billing,urgent "
	       "team=%s password=%s", ann, team, tc_q(tc_password()));
	E2E_OK(adm, "USER ADD name=%s role=agent tier=2 skills=billing,general "
	       "team=%s dept=billing-office password=%s", bob, team,
	       tc_q(tc_password()));
	E2E_OK(adm, "USER ADD name=%s role=agent dept=billing-office "
	       "password=%s", mem, tc_q(tc_password()));
	tc_close(&adm);
	sup = tc_session("sup1");
	a = tc_session(ann);
	b = tc_session(bob);
	m = tc_session(mem);
	clerk = tc_session("clerk1");
	integ = tc_session("integ1");
	tc_conn *const all[] = { sup, a, b, m, clerk, integ };

	/* Targets, valid since 2020 (so whatever day this runs on). */
	E2E_OK(sup, "TARGET SET scope=team name=%s figure=handled op=min "
	       "value=3 from=2020-01-01T00:00:00Z", team);
	E2E_OK(sup, "TARGET SET scope=team name=%s figure=fcr op=min value=0.6 "
	       "from=2020-01-01T00:00:00Z", team);
	E2E_OK(sup, "TARGET SET scope=team name=%s figure=aht op=max value=600 "
	       "from=2020-01-01T00:00:00Z", team);
	E2E_OK(sup, "TARGET SET scope=team name=%s figure=csat op=min value=4.2 "
	       "from=2020-01-01T00:00:00Z", team);
	E2E_OK(sup, "TARGET SET scope=agent name=%s figure=fcr op=min "
	       "value=0.75 from=2020-01-01T00:00:00Z", ann);

	t_from = fresh_second();
	snprintf(from, sizeof from, "%s", utc(t_from));

	/* K4 (category fast, queue urgent): taken now, resolved when its
	 * 10 s have passed, at the end of the day. */
	c4 = E2E_CUSTOMER(a, NULL);
	k4 = opened(a, c4, "fast", 2, "the app crashes", &k4_due);

	/* K1: one call, a reply, a refund within authority; a logistics
	 * hand-off on the side. */
	c1 = E2E_CUSTOMER(a, NULL);
	k1 = opened(a, c1, "billing", 3, "charged twice", NULL);
	i1 = ix_start(a, c1, k1, "phone", "inbound");
	h5 = handoff_open(a, k1, "logistics", "check the delivery");
	E2E_OK(a, "COMPLAINT NOTE id=%lld text=%s reply=yes", k1,
	       tc_q("We refund the second charge."));
	resolve_allow(a, k1, "refund", "10.00");
	d1 = ix_end(a, i1);
	/* Sessions idle for long get BYE idle (idle_timeout 5 s): on a slow
	 * machine the day takes a while; PINGs count in no figure. */
	keep_alive(all, NELEM(all));

	/* K2: two interactions (the chat stays open until the end of the
	 * day), an apology; a hand-off to billing-office. */
	c2 = E2E_CUSTOMER(a, NULL);
	k2 = opened(a, c2, "billing", 3, "rude answer", NULL);
	i2 = ix_start(a, c2, k2, "chat", "inbound");
	i3 = ix_start(a, c2, k2, "phone", "outbound");
	e2e_sleep_ms(1100);
	d3 = ix_end(a, i3);
	h2 = handoff_open(a, k2, "billing-office", "check the invoice");
	resolve_allow(a, k2, "apology", NULL);
	keep_alive(all, NELEM(all));

	/* K3: a refund beyond tier 1 (30.00), approved by sup1. */
	c3 = E2E_CUSTOMER(a, NULL);
	k3 = opened(a, c3, "billing", 3, "lost parcel", NULL);
	i4 = ix_start(a, c3, k3, "email", "inbound");
	r = E2E_OK(a, "COMPLAINT RESOLVE id=%lld action=refund amount=50.00 "
		   "resolution=%s", k3, tc_q("refund the parcel"));
	TC_FIELD(r, "decision", "escalate");
	TC_FIELD(r, "state", "escalated");
	TC_FIELD(r, "approver", "role:supervisor");
	e1 = E2E_NUM(r, "escalation");
	r = E2E_OK(sup, "APPROVE escalation=%lld note=%s", e1, tc_q("fine"));
	TC_FIELD(r, "state", "approved");
	TC_FIELD(r, "complaint_state", "resolved");
	h4 = handoff_open(a, k3, "billing-office", "book the refund");
	d4 = ix_end(a, i4);
	keep_alive(all, NELEM(all));

	/* K5 (general): bob asks for help, is turned down, then resolves
	 * within his authority. */
	c5 = E2E_CUSTOMER(b, NULL);
	k5 = opened(b, c5, "general", 2, "wrong address", NULL);
	i5 = ix_start(b, c5, k5, "phone", "inbound");
	r = E2E_OK(b, "ESCALATE complaint=%lld reason=%s", k5,
		   tc_q("not sure what to offer"));
	e2 = E2E_NUM(r, "escalation");
	r = E2E_OK(sup, "REJECT escalation=%lld reason=%s", e2,
		   tc_q("an apology will do"));
	TC_FIELD(r, "complaint_state", "assigned");
	h3 = handoff_open(b, k5, "billing-office", "any open invoices?");
	resolve_allow(b, k5, "apology", NULL);
	d5 = ix_end(b, i5);
	keep_alive(all, NELEM(all));

	/* K6: a refund within tier 2 (75.00); a hand-off; a call after the
	 * resolution (it does not change K6's first contact). */
	c6 = E2E_CUSTOMER(b, NULL);
	k6 = opened(b, c6, "billing", 3, "late refund", NULL);
	h1 = handoff_open(b, k6, "billing-office", "refund 45.50");
	resolve_allow(b, k6, "refund", "45.50");
	i8 = ix_start(b, c6, k6, "phone", "outbound");
	i6 = ix_start(b, c6, 0, "chat", "inbound");
	i7 = ix_start(b, c5, 0, "phone", "inbound");
	keep_alive(all, NELEM(all));

	/* The departments answer; the desk rates them. */
	handoff_finish(m, h1, "refund booked");
	handoff_finish(m, h2, "invoice is right");
	handoff_finish(clerk, h5, "delivered on Monday");
	E2E_OK(b, "HANDOFF RATE id=%lld score=4", h1);
	E2E_OK(sup, "HANDOFF RATE id=%lld score=2 comment=%s", h2, tc_q("slow"));
	E2E_OK(a, "HANDOFF RATE id=%lld score=5", h5);
	r = E2E_OK(sup, "HANDOFF LIST complaint=%lld", k5);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "handoff", num(h3));
	E2E_ROW_FIELD(r, 0, "state", "open");
	/* H4's two days are made to pass: late, not done. */
	tdb_exec("UPDATE handoffs SET due = now() - interval '1 minute' "
		 "WHERE id = $1", num(h4), NULL);

	/* The customers' feedback. */
	E2E_OK(integ, "FEEDBACK complaint=%lld csat=5", k1);
	E2E_OK(a, "FEEDBACK complaint=%lld csat=3 comment=%s", k2,
	       tc_q("ok, I guess"));
	E2E_OK(integ, "FEEDBACK complaint=%lld csat=4", k5);
	E2E_OK(b, "FEEDBACK complaint=%lld csat=2", k6);

	/* K1 comes back; bob takes it and resolves it again, without a new
	 * reply. */
	E2E_OK(a, "COMPLAINT REOPEN id=%lld reason=%s", k1,
	       tc_q("charged a third time"));
	E2E_OK(b, "COMPLAINT TAKE id=%lld", k1);
	resolve_allow(b, k1, "explanation", NULL);

	/* K4, late. */
	wait_past(k4_due, all, NELEM(all));
	resolve_allow(a, k4, "apology", NULL);
	d2 = ix_end(a, i2);
	d6 = ix_end(b, i6);
	d8 = ix_end(b, i8);
	(void)i7;
	t_to = time(NULL) + 1;
	snprintf(to, sizeof to, "%s", utc(t_to));
	print_message("day: from %s to %s; durations I1..I8: %lld %lld %lld "
		      "%lld %lld %lld - %lld\n", from, to, d1, d2, d3, d4, d5,
		      d6, d8);

	/* ann: R1 R2 R3 R4. fcr: R1 R3 R4 (R2 had two interactions); in
	 * time: R1 R2 R3; escalated: R3 (K4's automatic escalation does not
	 * count); reopened: R1; within authority: R1 R2 R4; replied: R1.
	 * Feedback 5 and 3; goodwill 10.00 + the approved 50.00. */
	memset(&w, 0, sizeof w);
	w.handled = "4";
	w.fcr = rate(3, 4);
	w.aht = mean0(d1 + d2 + d3 + d4, 4);
	w.sla_met = rate(3, 4);
	w.csat = mean2(5 + 3, 2);
	w.escalated = rate(1, 4);
	w.reopened = rate(1, 4);
	w.empowered = rate(3, 4);
	w.goodwill = money(1000 + 5000);
	w.respond_met = rate(1, 4);
	w.targets = "handled_min=3 fcr_min=0.75 aht_max=600 csat_min=4.20";
	CHECK(strcmp(w.fcr, "0.75") == 0 && strcmp(w.csat, "4.00") == 0 &&
	      strcmp(w.goodwill, "60.00") == 0, "the arithmetic of the test");
	EXPECT_STATS(sup, e2e_fmt("agent=%s", ann), from, to, &w);
	/* An agent sees their own, with their targets. */
	EXPECT_STATS(a, "", from, to, &w);
	EXPECT_STATS(a, "agent=me", from, to, &w);
	CHECK(tdb_int("SELECT count(*) FROM v_resolution_facts WHERE agent = $1 "
		      "AND resolved_at >= $2 AND resolved_at < $3", ann, from,
		      to, NULL) == 4, "v_resolution_facts disagrees with STATS");

	/* bob: R5 R6 R7, all first contact (K1 had I1 only), in time and
	 * within authority; escalated: R6; no reply (the reopen asked for a
	 * new one). Feedback 4 and 2; goodwill 45.50. Team targets. */
	w.handled = "3";
	w.fcr = rate(3, 3);
	w.aht = mean0(d5 + d6 + d8, 3);
	w.sla_met = rate(3, 3);
	w.csat = mean2(4 + 2, 2);
	w.escalated = rate(1, 3);
	w.reopened = rate(0, 3);
	w.empowered = rate(3, 3);
	w.goodwill = money(4550);
	w.respond_met = rate(0, 3);
	w.targets = "handled_min=3 fcr_min=0.60 aht_max=600 csat_min=4.20";
	EXPECT_STATS(sup, e2e_fmt("agent=%s", bob), from, to, &w);
	EXPECT_STATS(b, e2e_fmt("agent=%s", bob), from, to, &w);

	/* An agent may not see another agent's figures, nor the team's. */
	E2E_EXPECT(a, "NO", "forbidden", "STATS agent=%s from=%s to=%s", bob,
		   from, to);
	E2E_EXPECT(b, "NO", "forbidden", "STATS agent=%s", ann);
	E2E_EXPECT(a, "NO", "forbidden", "STATS team=%s", team);

	/* bob as billing-office: the desk figures of its members (bob; mem
	 * resolved nothing), and the hand-offs it received: H1 H2 H3 H4;
	 * judged: H1 H2 on time, H4 late (H3 not yet due); rated 4 and 2. */
	w.targets = NULL;
	w.handoffs = "4";
	w.handoffs_on_time = rate(2, 3);
	w.handoff_rating = mean2(4 + 2, 2);
	EXPECT_STATS(sup, "dept=billing-office", from, to, &w);
	/* logistics: its members resolved nothing; H5, done, rated 5. */
	memset(&w, 0, sizeof w);
	w.handled = "0";
	w.fcr = w.aht = w.sla_met = w.csat = w.escalated = w.reopened =
		w.empowered = w.respond_met = "";
	w.goodwill = "0.00";
	w.handoffs = "1";
	w.handoffs_on_time = rate(1, 1);
	w.handoff_rating = mean2(5, 1);
	EXPECT_STATS(sup, "dept=logistics", from, to, &w);

	/* The team: all seven resolutions. fcr and sla: all but R2 / R4;
	 * escalated R3 R6; reopened R1; within authority all but R3;
	 * replied R1. Four feedbacks; goodwill 10.00 + 50.00 + 45.50. */
	memset(&w, 0, sizeof w);
	w.handled = "7";
	w.fcr = rate(6, 7);
	w.aht = mean0(d1 + d2 + d3 + d4 + d5 + d6 + d8, 7);
	w.sla_met = rate(6, 7);
	w.csat = mean2(5 + 3 + 4 + 2, 4);
	w.escalated = rate(2, 7);
	w.reopened = rate(1, 7);
	w.empowered = rate(6, 7);
	w.goodwill = money(1000 + 5000 + 4550);
	w.respond_met = rate(1, 7);
	w.targets = "handled_min=3 fcr_min=0.60 aht_max=600 csat_min=4.20";
	CHECK(strcmp(w.fcr, "0.86") == 0 && strcmp(w.escalated, "0.29") == 0 &&
	      strcmp(w.reopened, "0.14") == 0 && strcmp(w.csat, "3.50") == 0,
	      "the arithmetic of the test");
	EXPECT_STATS(sup, e2e_fmt("team=%s", team), from, to, &w);

	/* Queue billing: R1 R2 R3 R5 R7. fcr all but R2; all in time;
	 * escalated R3; reopened R1; within authority all but R3; replied
	 * R1. Interactions of billing complaints: I1 I2 I3 I4 I8. Feedback
	 * on K1 (5), K2 (3), K6 (2). No targets for queues. */
	w.handled = "5";
	w.fcr = rate(4, 5);
	w.aht = mean0(d1 + d2 + d3 + d4 + d8, 5);
	w.sla_met = rate(5, 5);
	w.csat = mean2(5 + 3 + 2, 3);
	w.escalated = rate(1, 5);
	w.reopened = rate(1, 5);
	w.empowered = rate(4, 5);
	w.goodwill = money(1000 + 5000 + 4550);
	w.respond_met = rate(1, 5);
	w.targets = NULL;
	CHECK(strcmp(w.csat, "3.33") == 0, "the arithmetic of the test");
	EXPECT_STATS(sup, "queue=billing", from, to, &w);
	/* Queue general: R6 only. */
	w.handled = "1";
	w.fcr = rate(1, 1);
	w.aht = mean0(d5, 1);
	w.sla_met = rate(1, 1);
	w.csat = mean2(4, 1);
	w.escalated = rate(1, 1);
	w.reopened = rate(0, 1);
	w.empowered = rate(1, 1);
	w.goodwill = "0.00";
	w.respond_met = rate(0, 1);
	EXPECT_STATS(sup, "queue=general", from, to, &w);
	/* Queue urgent: R4, late, no interaction, no feedback. */
	w.aht = "";
	w.sla_met = rate(0, 1);
	w.csat = "";
	w.escalated = rate(0, 1);
	EXPECT_STATS(sup, "queue=urgent", from, to, &w);

	/* The default period is today: the same figures for ann, unless
	 * the day turned meanwhile. */
	before = t_from;
	after = time(NULL);
	if (before / DAY == after / DAY) {
		r = E2E_OK(sup, "STATS agent=%s", ann);
		TC_FIELD(r, "handled", "4");
		TC_FIELD(r, "goodwill", "60.00");
	}
	/* A period before the day: nothing. */
	r = E2E_OK(sup, "STATS team=%s from=%s to=%s", team,
		   utc(t_from - 3600), from);
	TC_FIELD(r, "handled", "0");
	TC_FIELD(r, "aht", "");
	TC_FIELD(r, "goodwill", "0.00");
}

/* ---- the console client's reports ------------------------------------- */

/* Runs $CD_CLIENT_BIN -e REQUEST as user (--raw when raw), standard
 * output and error to files; returns its exit status. The request must
 * not hold a single quote. */
static int run_client(const char *user, const char *request, bool raw,
		      const char *out, const char *err)
{
	CHECK(strchr(request, '\'') == NULL, "quote in %s", request);
	return e2e_system("CALLDESK_PASSWORD=%s NO_COLOR=1 timeout 120 %s "
			  "-h %s -p %s --ca %s -u %s %s -e '%s' >%s 2>%s "
			  "</dev/null", tc_password(), tc_env("CD_CLIENT_BIN"),
			  tc_env("CD_HOST"), tc_env("CD_PORT"),
			  tc_env("CD_CA"), user, raw ? "--raw" : "", request,
			  out, err);
}

/* The value of a history event's at= (the first, or the last). */
static const char *history_at(tc_conn *c, long long id, const char *event,
			      bool last)
{
	struct tc_resp *r;
	size_t idx[16], n = history_rows(c, id, event, &r, idx, 16);

	if (n == 0)
		return "";
	return tc_row_get(r, last ? idx[(n < 16 ? n : 16) - 1] : idx[0], "at");
}

/* The CSV record the export should write for complaint id (as RFC 4180
 * quotes it: this test writes its own, not the client's). */
static const char *complaint_record(tc_conn *c, long long id,
				    const char *summary_csv)
{
	struct tc_resp *r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	const char *opened = history_at(c, id, "opened", false);
	const char *resolved = history_at(c, id, "resolved", true);

	return e2e_fmt("%lld,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\r\n", id, opened,
		       tc_get(r, "state"), tc_get(r, "queue"),
		       tc_get(r, "category"), tc_get(r, "severity"),
		       tc_get(r, "assignee"), tc_get(r, "customer"),
		       tc_get(r, "respond_by"), tc_get(r, "resolve_by"),
		       resolved, summary_csv);
}

/* `export complaints`, `export stats` and `stats` of client/calldesk,
 * against this server: the files hold exactly what was done in the
 * period, quoted as RFC 4180 says. */
static void test_client_reports(void **state)
{
	const char *u = E2E_USER("agent", "tier=1");
	const char *u2 = E2E_USER("agent", "tier=1");
	const char *tmp = tc_env("CD_TMPDIR");
	tc_conn *c = tc_session(u);
	tc_conn *sup = tc_session("sup1");
	char from[32], to[32], path[512], path2[512], path3[512], out[512],
		err[512];
	char want[4096];
	char *got, *text;
	long long cust, k1, k2;
	struct stat st;
	int rc;

	(void)state;
	snprintf(path, sizeof path, "%s/complaints-%s.csv", tmp, u);
	snprintf(path2, sizeof path2, "%s/stats-%s.csv", tmp, u);
	snprintf(path3, sizeof path3, "%s/refused-%s.csv", tmp, u);
	snprintf(out, sizeof out, "%s/client-%s.out", tmp, u);
	snprintf(err, sizeof err, "%s/client-%s.err", tmp, u);
	E2E_OK(sup, "TARGET SET scope=agent name=%s figure=handled op=min "
	       "value=2 from=2020-01-01T00:00:00Z", u);

	snprintf(from, sizeof from, "%s", utc(fresh_second()));
	cust = E2E_CUSTOMER(c, NULL);
	k1 = opened(c, cust, "billing", 2, "Broken, \"badly\"\nsecond line",
		    NULL);
	k2 = opened(c, cust, "billing", 3, "plain", NULL);
	resolve_allow(c, k2, "apology", NULL);
	snprintf(to, sizeof to, "%s", utc(time(NULL) + 1));

	/* The complaints opened in the period: these two, nothing else. */
	rc = run_client("sup1", e2e_fmt("export complaints %s %s %s", from, to,
					path), false, out, err);
	text = e2e_slurp(err, 0, NULL);
	CHECK(rc == 0, "export complaints: exit %d; stderr:\n%s", rc, text);
	free(text);
	snprintf(want, sizeof want, "complaint,opened,state,queue,category,"
		 "severity,assignee,customer,respond_by,resolve_by,resolved,"
		 "summary\r\n%s", complaint_record(c, k1, "\"Broken, "
		 "\"\"badly\"\"\nsecond line\""));
	snprintf(want + strlen(want), sizeof want - strlen(want), "%s",
		 complaint_record(c, k2, "plain"));
	got = e2e_slurp(path, 0, NULL);
	CHECK(got != NULL && strcmp(got, want) == 0,
	      "%s:\n--- expected ---\n%s--- got ---\n%s---", path, want,
	      got ? got : "(no file)");
	free(got);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 077) == 0,
	      "%s is readable by others (mode %o)", path, st.st_mode & 0777);
	text = e2e_slurp(out, 0, NULL);
	CHECK(text != NULL && strstr(text, "Wrote 2 complaints") != NULL,
	      "export complaints said: %s", text ? text : "(nothing)");
	free(text);
	/* With a filter: the resolved one only, to standard output. */
	rc = run_client("sup1", e2e_fmt("export complaints %s %s - "
					"state=resolved", from, to), false,
			out, err);
	CHECK(rc == 0, "export complaints state=resolved: exit %d", rc);
	got = e2e_slurp(out, 0, NULL);
	snprintf(want, sizeof want, "complaint,opened,state,queue,category,"
		 "severity,assignee,customer,respond_by,resolve_by,resolved,"
		 "summary\r\n%s", complaint_record(c, k2, "plain"));
	CHECK(got != NULL && strcmp(got, want) == 0,
	      "export to standard output:\n--- expected ---\n%s--- got "
	      "---\n%s---", want, got ? got : "(nothing)");
	free(got);

	/* The figures of two agents in the period, one row each; the
	 * target is a column of its own. */
	rc = run_client("sup1", e2e_fmt("export stats %s %s %s agent=%s,%s",
					from, to, path2, u, u2), false, out,
			err);
	CHECK(rc == 0, "export stats: exit %d", rc);
	snprintf(want, sizeof want,
		 "scope,name,from,to,handled,fcr,aht,sla_met,csat,escalated,"
		 "reopened,empowered,goodwill,respond_met,handled_min\r\n"
		 "agent,%s,%s,%s,1,1.00,,1.00,,0.00,0.00,1.00,0.00,0.00,2\r\n"
		 "agent,%s,%s,%s,0,,,,,,,,0.00,,\r\n", u, from, to, u2, from,
		 to);
	got = e2e_slurp(path2, 0, NULL);
	CHECK(got != NULL && strcmp(got, want) == 0,
	      "%s:\n--- expected ---\n%s--- got ---\n%s---", path2, want,
	      got ? got : "(no file)");
	free(got);
	/* An agent: their own figures; someone else's are refused, and no
	 * file is written. */
	rc = run_client(u, e2e_fmt("export stats %s %s -", from, to), false,
			out, err);
	got = e2e_slurp(out, 0, NULL);
	CHECK(rc == 0 && got != NULL &&
	      strstr(got, e2e_fmt("\r\nagent,%s,%s,%s,1,", u, from, to)) !=
	      NULL, "an agent's own export (exit %d):\n%s", rc, got);
	free(got);
	rc = run_client(u, e2e_fmt("export stats %s %s %s agent=%s", from, to,
				   path3, u2), false, out, err);
	got = e2e_slurp(out, 0, NULL);
	CHECK(rc == 1 && got != NULL && strstr(got, "[forbidden]") != NULL,
	      "another agent's figures: exit %d, said:\n%s", rc, got);
	free(got);
	CHECK(access(path3, F_OK) != 0, "a refused export wrote %s", path3);
	/* A mistake in the command: usage, exit 1. */
	rc = run_client(u, e2e_fmt("export complaints %s %s %s", to, from,
				   path3), false, out, err);
	got = e2e_slurp(err, 0, NULL);
	CHECK(rc == 1 && got != NULL && strstr(got, "earlier") != NULL,
	      "FROM after TO: exit %d, said:\n%s", rc, got);
	free(got);

	/* stats: the figures beside the target. */
	rc = run_client("sup1", e2e_fmt("stats agent=%s from=%s to=%s", u, from,
					to), false, out, err);
	got = e2e_slurp(out, 0, NULL);
	CHECK(rc == 0 && got != NULL, "stats: exit %d", rc);
	CHECK(strstr(got, "complaints handled") != NULL &&
	      strstr(got, "at least 2") != NULL &&
	      strstr(got, "below target") != NULL &&
	      strstr(got, e2e_fmt("period: %s to %s", from, to)) != NULL,
	      "stats showed:\n%s", got);
	free(got);
	/* --raw: the protocol's line as it came. */
	rc = run_client(u, e2e_fmt("stats from=%s to=%s", from, to), true, out,
			err);
	got = e2e_slurp(out, 0, NULL);
	CHECK(rc == 0 && got != NULL && strstr(got, " OK handled=1 ") != NULL &&
	      strstr(got, "handled_min=2") != NULL,
	      "stats --raw: exit %d:\n%s", rc, got);
	free(got);
	/* An agent asking for someone else's: refused, exit 1. */
	rc = run_client(u, e2e_fmt("stats agent=%s", u2), false, out, err);
	got = e2e_slurp(out, 0, NULL);
	CHECK(rc == 1 && got != NULL && strstr(got, "[forbidden]") != NULL,
	      "stats of another agent: exit %d:\n%s", rc, got);
	free(got);
}

int e2e_group_desk(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_handoff_open, tc_teardown),
		cmocka_unit_test_teardown(test_handoff_ack_done, tc_teardown),
		cmocka_unit_test_teardown(test_handoff_rate, tc_teardown),
		cmocka_unit_test_teardown(test_handoff_list, tc_teardown),
		cmocka_unit_test_teardown(test_handoff_blocks_close,
					  tc_teardown),
		cmocka_unit_test_teardown(test_handoff_overdue, tc_teardown),
		cmocka_unit_test_teardown(test_feedback, tc_teardown),
		cmocka_unit_test_teardown(test_followup, tc_teardown),
		cmocka_unit_test_teardown(test_targets, tc_teardown),
		cmocka_unit_test_teardown(test_stats_refusals, tc_teardown),
		cmocka_unit_test_teardown(test_stats_day, tc_teardown),
		cmocka_unit_test_teardown(test_client_reports, tc_teardown),
	};

	return cmocka_run_group_tests_name("desk", tests, NULL, NULL);
}
