/* e2e_catalog.c: the "catalog" group: CATEGORY LIST, QUEUE LIST and DEPT
 * LIST (PROTOCOL.md §10) against tests/e2e/rules.conf, with the figures
 * that move (waiting, agents_ready, members, open_handoffs); STATE and
 * STATE SET (§6), and a user going offline when their last connection
 * ends. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <cmocka.h>

#include "e2e.h"
#include "e2e_util.h"
#include "tclient.h"

#define SLACK 2
#define H 3600
#define D 86400

/* ---- helpers -------------------------------------------------------------- */

/* The row of r whose key is name; fails the test when there is none. */
static size_t row_named(struct tc_resp *r, const char *key, const char *name)
{
	size_t i;

	for (i = 0; i < r->nrows; i++) {
		const char *v = tc_row_get(r, i, key);

		if (v != NULL && strcmp(v, name) == 0)
			return i;
	}
	fail_msg("no row with %s=%s in the answer to %s (%zu rows)", key, name,
		 r->request, r->nrows);
	return 0;
}

/* A figure of one queue (or department) from QUEUE LIST (DEPT LIST). */
static long long figure(tc_conn *c, const char *verb, const char *key,
			const char *name, const char *field)
{
	struct tc_resp *r = E2E_OK(c, "%s", verb);

	return E2E_ROW_NUM(r, row_named(r, key, name), field);
}

#define QUEUE_FIG(c, q, f) figure((c), "QUEUE LIST", "queue", (q), (f))
#define DEPT_FIG(c, d, f) figure((c), "DEPT LIST", "dept", (d), (f))

/* Polls a figure until it equals want (changes may reach the figures a
 * moment after the answer that made them, a closed connection some time
 * after the close); fails after e2e_wait_ms(). */
#define EXPECT_FIGURE(c, verb, key, name, field, want)                     \
	do {                                                               \
		int64_t end_ = e2e_mono_ms() + e2e_wait_ms();              \
		long long got_ = figure((c), (verb), (key), (name), (field)); \
		while (got_ != (want) && e2e_poll_sleep(end_))             \
			got_ = figure((c), (verb), (key), (name), (field)); \
		CHECK(got_ == (want), "%s: %s=%s: expected %s=%lld, got "  \
		      "%lld", (verb), (key), (name), (field),              \
		      (long long)(want), got_);                            \
	} while (0)

#define EXPECT_READY(c, q, want) \
	EXPECT_FIGURE((c), "QUEUE LIST", "queue", (q), "agents_ready", (want))

/* ---- CATEGORY LIST ------------------------------------------------------ */

static void test_category_list(void **state)
{
	static const struct {
		const char *category, *queue;
		int severity, respond, resolve;
	} want[] = {
		{ "billing", "billing", 1, 1 * H, 1 * D },
		{ "billing", "billing", 2, 4 * H, 2 * D },
		{ "billing", "billing", 3, 1 * D, 5 * D },
		{ "billing", "billing", 4, 2 * D, 10 * D },
		{ "technical", "tech", 1, 30 * 60, 8 * H },
		{ "technical", "tech", 2, 2 * H, 1 * D },
		{ "technical", "tech", 3, 1 * D, 3 * D },
		{ "technical", "tech", 4, 2 * D, 7 * D },
		{ "general", "general", 1, 2 * H, 2 * D },
		{ "general", "general", 2, 8 * H, 3 * D },
		{ "general", "general", 3, 1 * D, 5 * D },
		{ "general", "general", 4, 3 * D, 14 * D },
		{ "fast", "urgent", 1, 5, 10 },
		{ "fast", "urgent", 2, 5, 10 },
		{ "fast", "urgent", 3, 5, 10 },
		{ "fast", "urgent", 4, 5, 10 },
	};
	bool seen[NELEM(want)] = { false };
	tc_conn *c = tc_session("agent1");
	struct tc_resp *r;
	size_t i, j;

	(void)state;
	r = E2E_OK(c, "CATEGORY LIST");
	E2E_NROWS(r, NELEM(want));
	TC_FIELD(r, "count", e2e_fmt("%zu", NELEM(want)));
	for (i = 0; i < r->nrows; i++) {
		const char *cat = tc_row_get(r, i, "category");
		long long sev = E2E_ROW_NUM(r, i, "severity");
		bool found = false;

		E2E_KEYS(r->rows[i], "category", "severity", "queue",
			 "respond_within", "resolve_within");
		for (j = 0; j < NELEM(want) && !found; j++) {
			if (cat == NULL || strcmp(cat, want[j].category) != 0 ||
			    sev != want[j].severity)
				continue;
			found = true;
			CHECK(!seen[j], "two rows for %s severity %lld", cat, sev);
			seen[j] = true;
			E2E_ROW_FIELD(r, i, "queue", want[j].queue);
			CHECK(E2E_ROW_NUM(r, i, "respond_within") == want[j].respond,
			      "%s severity %lld: expected respond_within=%d, got "
			      "%s", cat, sev, want[j].respond,
			      tc_row_get(r, i, "respond_within"));
			CHECK(E2E_ROW_NUM(r, i, "resolve_within") == want[j].resolve,
			      "%s severity %lld: expected resolve_within=%d, got "
			      "%s", cat, sev, want[j].resolve,
			      tc_row_get(r, i, "resolve_within"));
		}
		CHECK(found, "unexpected row: %s", r->rows[i]);
	}
	/* The same for a supervisor, and a second time. */
	tc_close(&c);
	c = tc_session("sup1");
	r = E2E_OK(c, "CATEGORY LIST");
	E2E_NROWS(r, NELEM(want));
	E2E_EXPECT(c, "BAD", "bad-arg", "CATEGORY LIST category=billing");
}

/* ---- QUEUE LIST ------------------------------------------------------------ */

static void test_queue_list(void **state)
{
	static const char *const queues[] = { "general", "billing", "tech",
					      "urgent" };
	tc_conn *c = tc_session("agent1");
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r;
	long long w0, w1, cust, k1, k2;
	size_t i;

	(void)state;
	r = E2E_OK(sup, "QUEUE LIST");
	E2E_NROWS(r, NELEM(queues));
	TC_FIELD(r, "count", e2e_fmt("%zu", NELEM(queues)));
	for (i = 0; i < NELEM(queues); i++) {
		size_t row = row_named(r, "queue", queues[i]);
		const char *ow;

		E2E_KEYS(r->rows[row], "queue", "waiting", "oldest_wait",
			 "agents_ready");
		E2E_ROW_NUM(r, row, "waiting");
		E2E_ROW_NUM(r, row, "agents_ready");
		/* A duration (whole seconds); "" allowed when none waits. */
		ow = tc_row_get(r, row, "oldest_wait");
		if (ow[0] != '\0')
			E2E_ROW_NUM(r, row, "oldest_wait");
	}

	/* waiting counts the complaints not yet taken. */
	w0 = QUEUE_FIG(sup, "billing", "waiting");
	cust = E2E_CUSTOMER(c, NULL);
	k1 = E2E_COMPLAINT(c, cust, "billing", 2);
	k2 = E2E_COMPLAINT(c, cust, "billing", 3);
	EXPECT_FIGURE(sup, "QUEUE LIST", "queue", "billing", "waiting", w0 + 2);
	w1 = QUEUE_FIG(sup, "billing", "oldest_wait");
	CHECK(w1 >= 0, "oldest_wait=%lld", w1);
	E2E_OK(c, "COMPLAINT TAKE id=%lld", k1);
	EXPECT_FIGURE(sup, "QUEUE LIST", "queue", "billing", "waiting", w0 + 1);
	E2E_OK(c, "COMPLAINT TAKE id=%lld", k2);
	EXPECT_FIGURE(sup, "QUEUE LIST", "queue", "billing", "waiting", w0);
	/* Agents may list queues too. */
	r = E2E_OK(c, "QUEUE LIST");
	E2E_NROWS(r, NELEM(queues));
}

/* agents_ready counts agents ready and idle, per queue of their skills. */
static void test_queue_agents_ready(void **state)
{
	const char *user = E2E_USER("agent", "skills=urgent");
	tc_conn *c = tc_session(user);
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r;
	long long base, general, cust, ia;

	(void)state;
	base = QUEUE_FIG(sup, "urgent", "agents_ready");
	general = QUEUE_FIG(sup, "general", "agents_ready");

	r = E2E_OK(c, "STATE SET state=ready");
	TC_FIELD(r, "state", "ready");
	EXPECT_READY(sup, "urgent", base + 1);
	CHECK(QUEUE_FIG(sup, "general", "agents_ready") == general,
	      "general: agents_ready moved for an agent not skilled for it");

	/* Ready but in an interaction: not counted. */
	cust = E2E_CUSTOMER(c, NULL);
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=chat "
		   "direction=inbound", cust);
	ia = E2E_NUM(r, "interaction");
	EXPECT_READY(sup, "urgent", base);
	E2E_OK(c, "INTERACTION END id=%lld outcome=resolved", ia);
	EXPECT_READY(sup, "urgent", base + 1);

	/* Any other state: not counted. */
	E2E_OK(c, "STATE SET state=break reason=coffee");
	EXPECT_READY(sup, "urgent", base);
	E2E_OK(c, "STATE SET state=ready");
	EXPECT_READY(sup, "urgent", base + 1);
	E2E_OK(c, "STATE SET state=wrap-up");
	EXPECT_READY(sup, "urgent", base);
	E2E_OK(c, "STATE SET state=ready");
	EXPECT_READY(sup, "urgent", base + 1);

	/* Gone: offline, not counted. */
	tc_close(&c);
	EXPECT_READY(sup, "urgent", base);
	CHECK(QUEUE_FIG(sup, "general", "agents_ready") == general,
	      "general: agents_ready moved for an agent not skilled for it");
}

/* ---- DEPT LIST ------------------------------------------------------------- */

static void test_dept_list(void **state)
{
	static const char *const depts[] = { "logistics", "billing-office" };
	tc_conn *a = tc_session("agent2");
	tc_conn *member;
	struct tc_resp *r;
	long long m0, h0, cust, id, h;
	const char *user;
	size_t i;

	(void)state;
	r = E2E_OK(a, "DEPT LIST");
	E2E_NROWS(r, NELEM(depts));
	TC_FIELD(r, "count", e2e_fmt("%zu", NELEM(depts)));
	for (i = 0; i < NELEM(depts); i++) {
		size_t row = row_named(r, "dept", depts[i]);

		E2E_KEYS(r->rows[row], "dept", "members", "open_handoffs");
		E2E_ROW_NUM(r, row, "members");
		E2E_ROW_NUM(r, row, "open_handoffs");
	}
	CHECK(DEPT_FIG(a, "logistics", "members") >= 1,
	      "logistics has clerk1 as a member: expected members >= 1");

	/* A new member. */
	m0 = DEPT_FIG(a, "billing-office", "members");
	user = E2E_USER("agent", "dept=billing-office");
	EXPECT_FIGURE(a, "DEPT LIST", "dept", "billing-office", "members",
		      m0 + 1);

	/* A hand-off open until it is done. */
	h0 = DEPT_FIG(a, "billing-office", "open_handoffs");
	cust = E2E_CUSTOMER(a, NULL);
	id = E2E_COMPLAINT(a, cust, "billing", 2);
	r = E2E_OK(a, "HANDOFF OPEN complaint=%lld dept=billing-office "
		   "request=%s", id, tc_q("please check the ledger"));
	h = E2E_NUM(r, "handoff");
	E2E_TIME(r, "due");
	EXPECT_FIGURE(a, "DEPT LIST", "dept", "billing-office",
		      "open_handoffs", h0 + 1);
	member = tc_session(user);
	E2E_OK(member, "HANDOFF ACK id=%lld", h);
	E2E_OK(member, "HANDOFF DONE id=%lld result=%s", h, tc_q("checked"));
	EXPECT_FIGURE(a, "DEPT LIST", "dept", "billing-office",
		      "open_handoffs", h0);
}

/* ---- STATE ---------------------------------------------------------------- */

static void test_state_fields(void **state)
{
	static const char *const states[] = { "ready", "not-ready", "break",
					      "wrap-up" };
	static const char *const bad[] = { "offline", "READY", "Ready",
					   "away", "\"\"", "not_ready" };
	const char *user = E2E_USER("agent", "skills=billing");
	tc_conn *c = tc_session(user);
	struct tc_resp *r;
	time_t t0 = time(NULL), since, prev;
	size_t i;

	(void)state;
	/* A login that finds the user offline sets not-ready. */
	r = E2E_OK(c, "STATE");
	E2E_KEYS(r->final, "state", "activity", "since", "reason");
	TC_FIELD(r, "state", "not-ready");
	TC_FIELD(r, "activity", "idle");
	TC_FIELD(r, "reason", "");
	since = E2E_TIME(r, "since");
	CHECK(since >= t0 - SLACK - 5 && since <= time(NULL) + SLACK,
	      "since=%s is not the time of the login", tc_get(r, "since"));
	prev = since;

	for (i = 0; i < NELEM(states); i++) {
		const char *reason = e2e_uniq("reason: ");

		e2e_sleep_ms(1100); /* so that since moves on */
		r = E2E_OK(c, "STATE SET state=%s reason=%s", states[i],
			   tc_q(reason));
		E2E_KEYS(r->final, "state", "since");
		TC_FIELD(r, "state", states[i]);
		since = E2E_TIME(r, "since");
		CHECK(since > prev && since <= time(NULL) + SLACK,
		      "STATE SET state=%s: since=%s, expected now (after the "
		      "previous since)", states[i], tc_get(r, "since"));
		prev = since;
		r = E2E_OK(c, "STATE");
		TC_FIELD(r, "state", states[i]);
		TC_FIELD(r, "reason", reason);
		TC_FIELD(r, "activity", "idle");
		CHECK(E2E_TIME(r, "since") == since,
		      "STATE since=%s differs from STATE SET's",
		      tc_get(r, "since"));
	}
	/* Without a reason, the reason is "". */
	E2E_OK(c, "STATE SET state=ready");
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "reason", "");

	for (i = 0; i < NELEM(bad); i++)
		E2E_EXPECT(c, "BAD", "bad-arg", "STATE SET state=%s", bad[i]);
	E2E_EXPECT(c, "BAD", "missing-arg", "STATE SET");
	E2E_EXPECT(c, "BAD", "missing-arg", "STATE SET reason=x");
	E2E_EXPECT(c, "BAD", "bad-arg", "STATE state=ready");
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "state", "ready");
}

/* State belongs to the user: shared by their connections, offline when
 * the last one ends (then the next login sets not-ready). */
static void test_state_offline(void **state)
{
	const char *user = E2E_USER("agent", "skills=urgent");
	tc_conn *a = tc_session(user);
	tc_conn *b = tc_session(user);
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r;
	long long base;

	(void)state;
	base = QUEUE_FIG(sup, "urgent", "agents_ready");
	E2E_OK(a, "STATE SET state=ready");
	r = E2E_OK(b, "STATE");
	TC_FIELD(r, "state", "ready");
	EXPECT_READY(sup, "urgent", base + 1);

	/* One connection left: still ready. */
	tc_close(&a);
	e2e_sleep_ms(500);
	r = E2E_OK(b, "STATE");
	TC_FIELD(r, "state", "ready");
	EXPECT_READY(sup, "urgent", base + 1);

	/* LOGOUT of the last one: offline. */
	r = tc_req(b, "bye LOGOUT");
	E2E_RESP(r, "OK", NULL);
	TC_EXPECT_BYE(b, "logout", 0);
	tc_close(&b);
	EXPECT_READY(sup, "urgent", base);
	a = tc_session(user);
	r = E2E_OK(a, "STATE");
	TC_FIELD(r, "state", "not-ready");

	/* The same when the connection simply drops. */
	E2E_OK(a, "STATE SET state=ready");
	EXPECT_READY(sup, "urgent", base + 1);
	tc_close(&a);
	EXPECT_READY(sup, "urgent", base);
	a = tc_session(user);
	r = E2E_OK(a, "STATE");
	TC_FIELD(r, "state", "not-ready");
}

int e2e_group_catalog(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_category_list, tc_teardown),
		cmocka_unit_test_teardown(test_queue_list, tc_teardown),
		cmocka_unit_test_teardown(test_queue_agents_ready, tc_teardown),
		cmocka_unit_test_teardown(test_dept_list, tc_teardown),
		cmocka_unit_test_teardown(test_state_fields, tc_teardown),
		cmocka_unit_test_teardown(test_state_offline, tc_teardown),
	};

	return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
