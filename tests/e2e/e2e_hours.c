/* e2e_hours.c: the "hours" group: time on the desk's clock (issue 4).
 *
 * Business hours: service levels counted in open time only when the
 * category names a [calendar] (docs/RULES.md; server/config.c), the resolve
 * clock paused by COMPLAINT WAIT resuming with the open time it had left
 * (PROTOCOL §8), and deadlines computed anew on REOPEN. The test computes
 * every deadline itself (walking the days, skipping closed days and
 * holidays) and compares within 2 s.
 *
 * The calendars live in a rules file of a second node (e2e_node.h), not in
 * tests/e2e/rules.conf: a category more there would change the CATEGORY
 * LIST that the catalog, robust and users groups count (16 rows). The
 * node gets $CD_RULES plus these sections as a file of its own
 * (E2E_NODE_START_RULES); the main node's file does not change. The
 * calendars:
 *   office     UTC, monday..friday 09:00-17:00, weekends closed; holidays
 *              2025-12-25 and the next weekday after today (so that every
 *              multi-day deadline walks over one)
 *   office-ist the same hours in Asia/Kolkata (UTC+05:30, no DST)
 *   open-now   every day, closed for one hour starting two hours from now
 *   closed-now every day, open only during that hour
 * so that a wait always happens once in open time and once in closed
 * time, whatever the time of the run.
 *
 * Wrap-up (docs/PROTOCOL.md, wrap_up): on a second node with wrap_up = 2,
 * an agent who is ready and ends an interaction is in wrap-up
 * (reason after-call), and ready again by itself about two seconds later;
 * one who chose a break meanwhile stays on break, and one who was not
 * ready does not go to wrap-up. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "e2e.h"
#include "e2e_node.h"
#include "e2e_util.h"
#include "tclient.h"
#include "tdb.h"

#define TOLERANCE 2 /* seconds, between the test's deadlines and the server's */

/* ---- a calendar, and the deadlines the test computes ---------------------- */

#define MAX_WINDOWS 4
#define MAX_HOLIDAYS 4

struct cal {
	const char *name;
	const char *tz;            /* IANA name, a fixed offset: */
	long off;                  /* seconds east of UTC */
	int nwin[7];               /* per ISO weekday - 1 (0 = Monday) */
	int win[7][MAX_WINDOWS][2];/* minutes from local midnight */
	int nhol;
	char hol[MAX_HOLIDAYS][11];/* YYYY-MM-DD, local dates */
};

static long long floor_div(long long a, long long b)
{
	long long q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Local day number (days since 1970-01-01 in the calendar's zone). */
static long long local_day(const struct cal *k, time_t t)
{
	return floor_div((long long)t + k->off, 86400);
}

/* 0 = Monday (1970-01-01 was a Thursday). */
static int weekday(long long day)
{
	return (int)(((day % 7) + 7 + 3) % 7);
}

static void day_str(long long day, char out[11])
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

static bool holiday(const struct cal *k, long long day)
{
	char d[11];
	int i;

	day_str(day, d);
	for (i = 0; i < k->nhol; i++)
		if (strcmp(k->hol[i], d) == 0)
			return true;
	return false;
}

/* The UTC instant of minute m of local day. */
static time_t at_minute(const struct cal *k, long long day, int m)
{
	return (time_t)(day * 86400 + (long long)m * 60 - k->off);
}

/* start + secs of open time. */
static time_t cal_deadline(const struct cal *k, time_t start, long long secs)
{
	long long day = local_day(k, start), left = secs, i;
	time_t t = start;
	int w;

	for (i = 0; i < 800; i++, day++) {
		if (t < at_minute(k, day, 0))
			t = at_minute(k, day, 0);
		if (holiday(k, day))
			continue;
		for (w = 0; w < k->nwin[weekday(day)]; w++) {
			time_t ws = at_minute(k, day, k->win[weekday(day)][w][0]);
			time_t we = at_minute(k, day, k->win[weekday(day)][w][1]);

			if (t >= we)
				continue;
			if (ws < t)
				ws = t;
			if (left <= (long long)(we - ws))
				return ws + (time_t)left;
			left -= (long long)(we - ws);
			t = we;
		}
	}
	fail_msg("test bug: calendar %s open less than %lld s in 800 days",
		 k->name, secs);
	return 0;
}

/* Open seconds between a and b. */
static long long cal_open(const struct cal *k, time_t a, time_t b)
{
	long long day, total = 0;
	int w;

	if (b <= a)
		return 0;
	for (day = local_day(k, a); at_minute(k, day, 0) < b; day++) {
		if (holiday(k, day))
			continue;
		for (w = 0; w < k->nwin[weekday(day)]; w++) {
			time_t ws = at_minute(k, day, k->win[weekday(day)][w][0]);
			time_t we = at_minute(k, day, k->win[weekday(day)][w][1]);

			if (ws < a)
				ws = a;
			if (we > b)
				we = b;
			if (we > ws)
				total += (long long)(we - ws);
		}
	}
	return total;
}

static bool open_at(const struct cal *k, time_t t)
{
	return cal_open(k, t, t + 1) == 1;
}

static const char *fmt_time(time_t t)
{
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return e2e_fmt("%s", buf);
}

static void add_window(struct cal *k, int day, int from, int to)
{
	if (from >= to)
		return;
	CHECK(k->nwin[day] < MAX_WINDOWS, "test bug: too many windows");
	k->win[day][k->nwin[day]][0] = from;
	k->win[day][k->nwin[day]][1] = to;
	k->nwin[day]++;
}

/* The rules-file section of k. */
static void write_cal(FILE *f, const struct cal *k)
{
	static const char *const days[7] = { "monday", "tuesday", "wednesday",
					     "thursday", "friday", "saturday",
					     "sunday" };
	int d, w;

	fprintf(f, "\n[calendar %s]\ntimezone = %s\n", k->name, k->tz);
	for (d = 0; d < 7; d++) {
		fprintf(f, "%s = ", days[d]);
		if (k->nwin[d] == 0)
			fprintf(f, "closed");
		for (w = 0; w < k->nwin[d]; w++)
			fprintf(f, "%s%02d:%02d-%02d:%02d", w ? ", " : "",
				k->win[d][w][0] / 60, k->win[d][w][0] % 60,
				k->win[d][w][1] / 60, k->win[d][w][1] % 60);
		fprintf(f, "\n");
	}
	if (k->nhol > 0) {
		fprintf(f, "holidays = ");
		for (w = 0; w < k->nhol; w++)
			fprintf(f, "%s%s", w ? ", " : "", k->hol[w]);
		fprintf(f, "\n");
	}
}

/* ---- the calendars of this run ---------------------------------------------- */

static struct cal office, office_ist, open_now, closed_now;

/* Categories: name, calendar, respond and resolve (seconds) per severity. */
static const struct {
	const char *name;
	struct cal *cal;
	int respond[4], resolve[4];
} cats[] = {
	{ "office", &office, { 3600, 7200, 14400, 28800 },
	  { 28800, 57600, 86400, 144000 } },
	{ "office-ist", &office_ist, { 3600, 7200, 14400, 28800 },
	  { 28800, 57600, 86400, 144000 } },
	{ "open-now", &open_now, { 3600, 3600, 3600, 3600 },
	  { 14400, 14400, 14400, 14400 } },
	{ "closed-now", &closed_now, { 1800, 1800, 1800, 1800 },
	  { 14400, 14400, 14400, 14400 } },
};

/* Office hours in zone tz (offset off): monday..friday 09:00-17:00, a
 * fixed holiday and the next weekday after today's local date. */
static void make_office(struct cal *k, const char *name, const char *tz,
			long off, time_t now)
{
	long long day;
	int d;

	memset(k, 0, sizeof(*k));
	k->name = name;
	k->tz = tz;
	k->off = off;
	for (d = 0; d < 5; d++)
		add_window(k, d, 9 * 60, 17 * 60);
	snprintf(k->hol[k->nhol++], 11, "2025-12-25");
	day = local_day(k, now) + 1;
	while (weekday(day) >= 5)
		day++;
	day_str(day, k->hol[k->nhol++]);
}

/* Every day the same: closed (open_now) or open (closed_now) for the hour
 * that starts two hours from now (UTC). */
static void make_gap(time_t now)
{
	int m = (int)((now % 86400) / 60), g0 = (m + 120) % 1440, g1 = g0 + 60;
	int d;

	memset(&open_now, 0, sizeof(open_now));
	memset(&closed_now, 0, sizeof(closed_now));
	open_now.name = "open-now";
	closed_now.name = "closed-now";
	open_now.tz = closed_now.tz = "UTC";
	for (d = 0; d < 7; d++) {
		if (g1 <= 1440) {
			add_window(&open_now, d, 0, g0);
			add_window(&open_now, d, g1, 1440);
			add_window(&closed_now, d, g0, g1);
		} else {
			add_window(&open_now, d, g1 - 1440, g0);
			add_window(&closed_now, d, 0, g1 - 1440);
			add_window(&closed_now, d, g0, 1440);
		}
	}
}

/* ---- the second node with these calendars ------------------------------------ */

/* Makes the calendars from now, starts the second node with them in a
 * rules file of its own; returns its port. */
static const char *start_hours_node(void)
{
	time_t now = time(NULL);
	char *extra = NULL;
	size_t elen = 0, i, s;
	FILE *mem;
	const char *port;

	make_office(&office, "office", "UTC", 0, now);
	make_office(&office_ist, "office-ist", "Asia/Kolkata", 19800, now);
	make_gap(now);

	mem = open_memstream(&extra, &elen);
	CHECK(mem != NULL, "open_memstream");
	fprintf(mem, "\n# ---- added by tests/e2e/e2e_hours.c for a second node ----\n");
	for (i = 0; i < NELEM(cats); i++) {
		write_cal(mem, cats[i].cal);
		fprintf(mem, "\n[category %s]\nqueue = general\ncalendar = %s\n",
			cats[i].name, cats[i].cal->name);
		for (s = 0; s < 4; s++)
			fprintf(mem, "severity.%zu = %ds %ds\n", s + 1,
				cats[i].respond[s], cats[i].resolve[s]);
	}
	fclose(mem);
	port = E2E_NODE_START_RULES("hours", NULL, extra);
	free(extra);
	return port;
}

/* ---- checks ------------------------------------------------------------------- */

/* got within [lo - TOLERANCE, hi + TOLERANCE]. */
#define WITHIN(what, got, lo, hi) within_at((what), (got), (lo), (hi), __FILE__, __LINE__)
static void within_at(const char *what, time_t got, time_t lo, time_t hi,
		      const char *file, int line)
{
	if (got < lo - TOLERANCE || got > hi + TOLERANCE) {
		print_error("%s:%d: %s: the server says %s, the test computes "
			    "%s%s%s (within %d s)\n", file, line, what,
			    fmt_time(got), fmt_time(lo), lo != hi ? " .. " : "",
			    lo != hi ? fmt_time(hi) : "", TOLERANCE);
		_fail(file, line);
	}
}

static int cat_index(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(cats); i++)
		if (strcmp(cats[i].name, name) == 0)
			return (int)i;
	fail_msg("test bug: category %s", name);
	return 0;
}

/* COMPLAINT OPEN in category (severity sev) on c; checks respond_by and
 * resolve_by against the calendar from the time of the request, in the
 * answer and in COMPLAINT GET; returns the id. */
static long long open_checked(tc_conn *c, long long cust, const char *category,
			      int sev)
{
	int ci = cat_index(category);
	const struct cal *k = cats[ci].cal;
	time_t t0, t1, respond, resolve;
	struct tc_resp *r;
	long long id;

	t0 = time(NULL);
	r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=%s severity=%d "
		   "summary=%s", cust, category, sev,
		   tc_q(e2e_fmt("business hours, %s", category)));
	t1 = time(NULL) + 1;
	id = E2E_NUM(r, "complaint");
	TC_FIELD(r, "queue", "general");
	respond = E2E_TIME(r, "respond_by");
	resolve = E2E_TIME(r, "resolve_by");
	WITHIN(e2e_fmt("%s severity %d respond_by", category, sev), respond,
	       cal_deadline(k, t0, cats[ci].respond[sev - 1]),
	       cal_deadline(k, t1, cats[ci].respond[sev - 1]));
	WITHIN(e2e_fmt("%s severity %d resolve_by", category, sev), resolve,
	       cal_deadline(k, t0, cats[ci].resolve[sev - 1]),
	       cal_deadline(k, t1, cats[ci].resolve[sev - 1]));
	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "category", category);
	CHECK(E2E_TIME(r, "respond_by") == respond &&
	      E2E_TIME(r, "resolve_by") == resolve,
	      "COMPLAINT GET's deadlines differ from COMPLAINT OPEN's: %s",
	      r->final);
	return id;
}

/* Takes and resolves id (so that it leaves queue general). */
static void finish(tc_conn *c, long long id, bool take)
{
	if (take)
		E2E_OK(c, "COMPLAINT TAKE id=%lld", id);
	E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=apology resolution=%s", id,
	       tc_q("business hours test done"));
}

/* ---- business hours ------------------------------------------------------------- */

static void test_hours_deadlines(void **state)
{
	const char *a = E2E_USER("agent", "skills=general");
	time_t now;
	tc_conn *c, *main_node;
	struct tc_resp *r;
	long long cust, ids[6];
	size_t i, n = 0;
	int ci;

	(void)state;
	start_hours_node();
	c = E2E_NODE_SESSION(a);
	main_node = tc_session(a);
	now = time(NULL);
	print_message("[ hours    ] now %s: office %s, office-ist %s; holidays "
		      "%s (UTC), %s (Kolkata)\n", fmt_time(now),
		      open_at(&office, now) ? "open" : "closed",
		      open_at(&office_ist, now) ? "open" : "closed",
		      office.hol[1], office_ist.hol[1]);

	/* The test itself: the next weekday is a holiday that every
	 * multi-day office deadline walks over, and the two gap calendars
	 * are open and closed now. */
	{
		struct cal no_hol = office;

		no_hol.nhol = 0;
		CHECK(cal_deadline(&office, now, 57600) !=
		      cal_deadline(&no_hol, now, 57600),
		      "test bug: the holiday is not on the way");
		CHECK(open_at(&open_now, now) && !open_at(&closed_now, now),
		      "test bug: open-now/closed-now");
	}

	/* The service levels are the configured spans. */
	r = E2E_OK(c, "CATEGORY LIST");
	for (i = 0; i < r->nrows; i++) {
		const char *cat = tc_row_get(r, i, "category");
		long long sev = E2E_ROW_NUM(r, i, "severity");

		if (strcmp(cat, "office") != 0)
			continue;
		ci = cat_index(cat);
		CHECK(E2E_ROW_NUM(r, i, "respond_within") ==
			      cats[ci].respond[sev - 1] &&
		      E2E_ROW_NUM(r, i, "resolve_within") ==
			      cats[ci].resolve[sev - 1],
		      "CATEGORY LIST on the node: %s", r->rows[i]);
		n++;
	}
	CHECK(n == 4, "CATEGORY LIST on the node: %zu rows for office", n);
	n = 0;

	cust = E2E_CUSTOMER(c, NULL);
	ids[n++] = open_checked(c, cust, "office", 2);
	ids[n++] = open_checked(c, cust, "office", 4);
	ids[n++] = open_checked(c, cust, "office-ist", 1);
	ids[n++] = open_checked(c, cust, "open-now", 1);
	ids[n++] = open_checked(c, cust, "closed-now", 3);

	/* Both nodes read the same deadlines. */
	for (i = 0; i < n; i++) {
		struct tc_resp *g = E2E_OK(c, "COMPLAINT GET id=%lld", ids[i]);

		r = E2E_OK(main_node, "COMPLAINT GET id=%lld", ids[i]);
		TC_FIELD(r, "respond_by", tc_get(g, "respond_by"));
		TC_FIELD(r, "resolve_by", tc_get(g, "resolve_by"));
	}
	for (i = 0; i < n; i++)
		finish(c, ids[i], true);
}

/* The run happens at one time of one day; the deadlines at every other
 * time (nights, weekends, the holiday, across the Kolkata offset) are
 * checked against the database's own calculation (cd_deadline and
 * cd_open_seconds, schema/002_api.sql), fed with the calendar the server
 * stored for a complaint of each category: a start every 97 minutes over
 * nine days. */
static void test_hours_any_time(void **state)
{
	static const char *const names[] = { "office", "office-ist" };
	static const long long spans[] = { 1, 1800, 7200, 28800, 57600, 144000 };
	const char *a = E2E_USER("agent", "skills=general");
	tc_conn *c;
	long long cust, id;
	time_t now, t;
	size_t i, s;
	int checked = 0;

	(void)state;
	start_hours_node();
	c = E2E_NODE_SESSION(a);
	cust = E2E_CUSTOMER(c, NULL);
	now = time(NULL);
	for (i = 0; i < NELEM(names); i++) {
		const struct cal *k = cats[cat_index(names[i])].cal;
		char cid[32];

		id = open_checked(c, cust, names[i], 1);
		snprintf(cid, sizeof(cid), "%lld", id);
		for (t = now - 86400; t < now + 8 * 86400; t += 97 * 60) {
			for (s = 0; s < NELEM(spans); s++) {
				long long got = tdb_int(
					"SELECT extract(epoch FROM cd_deadline("
					"to_timestamp($1::bigint), $2::bigint, "
					"(SELECT calendar FROM complaints WHERE id "
					"= $3::bigint)))::bigint",
					e2e_fmt("%lld", (long long)t),
					e2e_fmt("%lld", spans[s]), cid, NULL);
				time_t want = cal_deadline(k, t, spans[s]);
				long long open;

				CHECK(got == (long long)want,
				      "%s: %lld s of open time from %s end at "
				      "%s, the server's calendar says %s",
				      names[i], spans[s], fmt_time(t),
				      fmt_time(want), fmt_time((time_t)got));
				open = tdb_int(
					"SELECT cd_open_seconds(to_timestamp("
					"$1::bigint), to_timestamp($2::bigint), "
					"(SELECT calendar FROM complaints WHERE id "
					"= $3::bigint))",
					e2e_fmt("%lld", (long long)t),
					e2e_fmt("%lld", (long long)want), cid,
					NULL);
				CHECK(open == spans[s],
				      "%s: open seconds from %s to %s: the server "
				      "says %lld, expected %lld", names[i],
				      fmt_time(t), fmt_time(want), open,
				      spans[s]);
				checked++;
			}
		}
		finish(c, id, true);
	}
	CHECK(checked > 1000, "test bug: %d instants", checked);
}

/* WAIT, 3 s, RESUME: resolve_by moves by the open time that passed. */
static void test_hours_wait_resume(void **state)
{
	static const char *const names[] = { "office", "open-now", "closed-now",
					     "office-ist" };
	const char *a = E2E_USER("agent", "skills=general");
	tc_conn *c;
	long long cust, ids[4];
	time_t before[4], w0[4], w1[4], r0[4], r1[4], after[4];
	struct tc_resp *r;
	size_t i;

	(void)state;
	start_hours_node();
	c = E2E_NODE_SESSION(a);
	cust = E2E_CUSTOMER(c, NULL);
	for (i = 0; i < NELEM(names); i++) {
		ids[i] = open_checked(c, cust, names[i], 2);
		E2E_OK(c, "COMPLAINT TAKE id=%lld", ids[i]);
		r = E2E_OK(c, "COMPLAINT GET id=%lld", ids[i]);
		before[i] = E2E_TIME(r, "resolve_by");
	}
	for (i = 0; i < NELEM(names); i++) {
		w0[i] = time(NULL);
		r = E2E_OK(c, "COMPLAINT WAIT id=%lld reason=%s", ids[i],
			   tc_q("waiting for the customer's documents"));
		w1[i] = time(NULL) + 1;
		TC_FIELD(r, "state", "waiting");
	}
	/* (PING meanwhile: 3.5 s of silence is most of idle_timeout.) */
	E2E_SLEEP_BUSY(3500, c);
	for (i = 0; i < NELEM(names); i++) {
		const struct cal *k = cats[cat_index(names[i])].cal;
		long long left_hi, left_lo;

		r0[i] = time(NULL);
		r = E2E_OK(c, "COMPLAINT RESUME id=%lld", ids[i]);
		r1[i] = time(NULL) + 1;
		TC_FIELD(r, "state", "assigned");
		after[i] = E2E_TIME(r, "resolve_by");
		/* What was left of the clock when the wait began, restarted
		 * at the resume. */
		left_hi = cal_open(k, w0[i], before[i]);
		left_lo = cal_open(k, w1[i], before[i]);
		WITHIN(e2e_fmt("%s: resolve_by after WAIT %s and RESUME %s "
			       "(was %s)", names[i], fmt_time(w0[i]),
			       fmt_time(r0[i]), fmt_time(before[i])),
		       after[i], cal_deadline(k, r0[i], left_lo),
		       cal_deadline(k, r1[i], left_hi));
		r = E2E_OK(c, "COMPLAINT GET id=%lld", ids[i]);
		TC_FIELD(r, "state", "assigned");
		CHECK(E2E_TIME(r, "resolve_by") == after[i],
		      "%s: COMPLAINT GET's resolve_by %s differs from RESUME's",
		      names[i], tc_get(r, "resolve_by"));
	}
	/* Plainly: open during the wait, the deadline moved by the wait;
	 * closed, it did not move. */
	CHECK(after[1] - before[1] >= 2 && after[1] - before[1] <=
	      (r1[1] - w0[1]) + TOLERANCE,
	      "open-now: resolve_by moved by %ld s after a wait of about 4 s "
	      "in open time", (long)(after[1] - before[1]));
	CHECK(after[2] - before[2] >= -1 && after[2] - before[2] <= 1,
	      "closed-now: resolve_by moved by %ld s after a wait in closed "
	      "time (it must not move)", (long)(after[2] - before[2]));
	print_message("[ hours    ] office %s during the wait: resolve_by "
		      "moved by %ld s\n", open_at(&office, w0[0]) ? "open" :
		      "closed", (long)(after[0] - before[0]));
	if (open_at(&office, w0[0]) && open_at(&office, r1[0]))
		CHECK(after[0] - before[0] >= 2,
		      "office, open now: resolve_by moved by %ld s after a "
		      "wait of about 4 s", (long)(after[0] - before[0]));
	if (!open_at(&office, w0[0]) && !open_at(&office, r1[0]))
		CHECK(after[0] == before[0] || after[0] - before[0] == 1 ||
		      before[0] - after[0] == 1,
		      "office, closed now: resolve_by moved by %ld s",
		      (long)(after[0] - before[0]));
	for (i = 0; i < NELEM(names); i++)
		finish(c, ids[i], false);
}

/* REOPEN computes both deadlines anew from now, in open time. */
static void test_hours_reopen(void **state)
{
	const char *a = E2E_USER("agent", "skills=general");
	tc_conn *c;
	long long cust, id;
	struct tc_resp *r;
	time_t t0, t1;
	int ci = cat_index("office");
	const struct cal *k = &office;

	(void)state;
	start_hours_node();
	c = E2E_NODE_SESSION(a);
	cust = E2E_CUSTOMER(c, NULL);
	id = open_checked(c, cust, "office", 3);
	finish(c, id, true);
	e2e_sleep_ms(1100);
	t0 = time(NULL);
	r = E2E_OK(c, "COMPLAINT REOPEN id=%lld reason=%s", id,
		   tc_q("the customer called again"));
	t1 = time(NULL) + 1;
	TC_FIELD(r, "state", "reopened");
	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	WITHIN("office severity 3 respond_by after REOPEN",
	       E2E_TIME(r, "respond_by"), cal_deadline(k, t0, cats[ci].respond[2]),
	       cal_deadline(k, t1, cats[ci].respond[2]));
	WITHIN("office severity 3 resolve_by after REOPEN",
	       E2E_TIME(r, "resolve_by"), cal_deadline(k, t0, cats[ci].resolve[2]),
	       cal_deadline(k, t1, cats[ci].resolve[2]));
	finish(c, id, true);
}

/* ---- wrap-up --------------------------------------------------------------------- */

#define WRAP_UP 2 /* seconds, on the second node */

/* Ends an interaction of the agent on c (just started). Returns the
 * monotonic time just before INTERACTION END was sent: the wrap-up cannot
 * have begun earlier. */
static int64_t one_call(tc_conn *c)
{
	long long cust = E2E_CUSTOMER(c, NULL), ia;
	struct tc_resp *r;
	int64_t before_end;

	r = E2E_OK(c, "INTERACTION START customer=%lld channel=phone "
		   "direction=inbound", cust);
	ia = E2E_NUM(r, "interaction");
	before_end = e2e_mono_ms();
	E2E_OK(c, "INTERACTION END id=%lld outcome=resolved", ia);
	return before_end;
}

/* Reads events until type=snapshot-end (at most e2e_wait_ms()). */
static void skip_snapshot(tc_conn *w)
{
	char *ev = e2e_event_match(w, "snapshot-end", e2e_wait_ms(), NULL);

	CHECK(ev != NULL, "WATCH: no snapshot-end within %d ms",
	      e2e_wait_ms());
	free(ev);
}

static void test_wrapup_back_to_ready(void **state)
{
	const char *a = E2E_USER("agent", "skills=billing");
	tc_conn *c, *w;
	struct tc_resp *r;
	int64_t ended, took = -1;
	char *ev, *since;

	(void)state;
	E2E_NODE_START("wrapup", e2e_fmt("wrap_up = %d", WRAP_UP));
	w = E2E_NODE_SESSION("sup1");
	E2E_OK(w, "WATCH");
	skip_snapshot(w);
	c = E2E_NODE_SESSION(a);
	E2E_OK(c, "STATE SET state=ready");
	ended = one_call(c);
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "state", "wrap-up");
	TC_FIELD(r, "activity", "idle");
	TC_FIELD(r, "reason", "after-call");
	/* Not ready: no work from NEXT (PROTOCOL §10). */
	E2E_EXPECT(c, "NO", "invalid-state", "NEXT");
	/* Ready again by itself: wrap_up seconds, plus at most one sweep
	 * interval (2 s), plus however long a slow machine takes; not
	 * before wrap_up (ended is from before INTERACTION END went). */
	while (e2e_mono_ms() - ended < WRAP_UP * 1000 + e2e_wait_ms()) {
		r = E2E_OK(c, "STATE");
		if (strcmp(tc_get(r, "state"), "ready") == 0) {
			took = e2e_mono_ms() - ended;
			break;
		}
		CHECK(strcmp(tc_get(r, "state"), "wrap-up") == 0,
		      "state %s during the wrap-up", tc_get(r, "state"));
		tc_resp_free(&r);
		e2e_sleep_ms(100);
	}
	CHECK(took >= 0, "%s still in wrap-up %d ms after the interaction "
	      "ended (wrap_up = %d)", a, WRAP_UP * 1000 + e2e_wait_ms(),
	      WRAP_UP);
	CHECK(took >= WRAP_UP * 1000 - 300, "%s ready again %lld ms after the "
	      "interaction ended, before wrap_up (%d s)", a, (long long)took,
	      WRAP_UP);
	/* The watcher saw both changes. */
	ev = E2E_EVENT(w, "agent", e2e_wait_ms(), "user", a, "state",
		       "wrap-up", NULL);
	free(ev);
	ev = E2E_EVENT(w, "agent", e2e_wait_ms(), "user", a, "state", "ready",
		       NULL);
	free(ev);
	/* Recorded with its duration. */
	since = tdb_value("SELECT extract(epoch FROM ended_at - started_at)::text "
			  "FROM state_log WHERE user_id = (SELECT id FROM users "
			  "WHERE name = $1) AND state = 'wrap-up' ORDER BY id "
			  "DESC LIMIT 1", a, NULL);
	CHECK(since != NULL && atof(since) >= WRAP_UP - 0.3 &&
	      atof(since) * 1000 <= (double)took + 1000,
	      "state_log: the wrap-up of %s lasted %s s, seen over after "
	      "%lld ms", a, since ? since : "(no ended row)", (long long)took);
	free(since);
	/* The next call: wrap-up again. */
	one_call(c);
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "state", "wrap-up");
}

static void test_wrapup_chosen_state_stays(void **state)
{
	const char *a = E2E_USER("agent", "skills=billing");
	const char *b = E2E_USER("agent", "skills=billing");
	tc_conn *ca, *cb;
	struct tc_resp *r;
	int64_t ended;

	(void)state;
	E2E_NODE_START("wrapup", e2e_fmt("wrap_up = %d", WRAP_UP));
	ca = E2E_NODE_SESSION(a);
	cb = E2E_NODE_SESSION(b);
	/* a: ready, a call, wrap-up, then a break. */
	E2E_OK(ca, "STATE SET state=ready");
	one_call(ca);
	ended = e2e_mono_ms();
	r = E2E_OK(ca, "STATE");
	TC_FIELD(r, "state", "wrap-up");
	r = E2E_OK(ca, "STATE SET state=break reason=%s", tc_q("coffee"));
	TC_FIELD(r, "state", "break");
	/* b: not ready during the call: no wrap-up. */
	one_call(cb);
	r = E2E_OK(cb, "STATE");
	TC_FIELD(r, "state", "not-ready");
	/* Until well past wrap_up plus a sweep interval, looking every half
	 * second (which also keeps the sessions from idling out). */
	do {
		e2e_sleep_ms(500);
		r = E2E_OK(ca, "STATE");
		TC_FIELD(r, "state", "break");
		TC_FIELD(r, "reason", "coffee");
		tc_resp_free(&r);
		r = E2E_OK(cb, "STATE");
		TC_FIELD(r, "state", "not-ready");
		tc_resp_free(&r);
	} while (e2e_mono_ms() - ended < WRAP_UP * 1000 + 4000);
}

int e2e_group_hours(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_hours_deadlines, e2e_node_teardown),
		cmocka_unit_test_teardown(test_hours_any_time, e2e_node_teardown),
		cmocka_unit_test_teardown(test_hours_wait_resume, e2e_node_teardown),
		cmocka_unit_test_teardown(test_hours_reopen, e2e_node_teardown),
		cmocka_unit_test_teardown(test_wrapup_back_to_ready,
					  e2e_node_teardown),
		cmocka_unit_test_teardown(test_wrapup_chosen_state_stays,
					  e2e_node_teardown),
	};

	return cmocka_run_group_tests_name("hours", tests, NULL, NULL);
}
