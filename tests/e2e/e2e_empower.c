/* e2e_empower.c: the "empower" group: empowerment over the wire
 * (PROTOCOL.md §9, §8's escalation moves): ADVISE, RULES, COMPLAINT
 * RESOLVE within and beyond authority (tier limit, daily budget, the
 * customer's 30-day cap, a denying rule), justify-later and JUSTIFY,
 * ESCALATE, ESCALATION LIST/WITHDRAW/RAISE, APPROVE (four eyes, the
 * approver's own authority), REJECT, goodwill charged, the decision audit
 * trail in PostgreSQL, an escalation moving up when its deadline passes,
 * and RELOAD of a bad and a good rules file.
 *
 * Figures come from tests/e2e/rules.conf: tier 1 refund 30.00, voucher
 * 20.00, replacement no, budget 100.00; tier 2 refund 75.00, budget
 * 300.00; tier 3 refund 150.00, voucher 100.00, budget 600.00; tier 4
 * refund 1000.00, voucher 500.00, budget 5000.00; customer cap 150.00,
 * VIP 400.00, over_cap escalate; justify_later replacement, repair; chain
 * money: role:supervisor up to 1000.00 within 4h, dept:billing-office up
 * to 2500.00 within 1d, role:admin within 2d; chain other:
 * role:supervisor within 8h, role:admin within 1d; rule too-old denies
 * money on complaints older than 90 days.
 *
 * Budgets and caps are per user and per customer, so every test works
 * with users and customers of its own (E2E_USER): the order of the tests,
 * and what other groups granted today, do not matter. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <setjmp.h>
#include <cmocka.h>
#include <libpq-fe.h>

#include "e2e.h"
#include "e2e_node.h"
#include "e2e_util.h"
#include "tclient.h"
#include "tdb.h"

/* ---- helpers ----------------------------------------------------------- */

/* A new agent of the tier, skilled for billing. */
static const char *agent_of_tier(int tier)
{
	return E2E_USER("agent", e2e_fmt("tier=%d skills=billing", tier));
}

/* A complaint of a new customer (or of cust when > 0), opened and taken
 * by the agent on c: state assigned, assignee the agent. */
static long long taken(tc_conn *c, long long cust, const char *category)
{
	long long id;

	if (cust <= 0)
		cust = E2E_CUSTOMER(c, NULL);
	id = E2E_COMPLAINT(c, cust, category, 3);
	E2E_OK(c, "COMPLAINT TAKE id=%lld", id);
	return id;
}

/* The customer of a complaint. */
static long long customer_of(tc_conn *c, long long complaint)
{
	struct tc_resp *r = E2E_OK(c, "COMPLAINT GET id=%lld", complaint);

	return E2E_NUM(r, "customer");
}

static void expect_complaint_state(tc_conn *c, long long id,
				   const char *state)
{
	struct tc_resp *r = E2E_OK(c, "COMPLAINT GET id=%lld", id);

	TC_FIELD(r, "state", state);
}

/* RULES: checks used_today and budget_left of the caller. */
static void expect_budget(tc_conn *c, const char *used, const char *left)
{
	struct tc_resp *r = E2E_OK(c, "RULES");

	TC_FIELD(r, "used_today", used);
	TC_FIELD(r, "budget_left", left);
}

static void expect_goodwill(tc_conn *c, long long cust, const char *amount)
{
	struct tc_resp *r = E2E_OK(c, "CUSTOMER GET id=%lld", cust);

	TC_FIELD(r, "goodwill_30d", amount);
}

/* A time field about `ahead` seconds from now (within two minutes). */
static void expect_due_in(struct tc_resp *r, const char *key, long ahead)
{
	time_t due = E2E_TIME(r, key), now = time(NULL);

	CHECK(due >= now + ahead - 120 && due <= now + ahead + 120,
	      "%s=%s is not about %ld s from now (%ld s)\n  request: %s", key,
	      tc_get(r, key), ahead, (long)(due - now), r->request);
}

/* The answer of COMPLAINT RESOLVE decided escalate, with its fields. */
static long long expect_escalated(struct tc_resp *r, const char *rule,
				  const char *approver, long due_in)
{
	TC_OK(r);
	E2E_KEYS(r->final, "decision", "rule", "state", "escalation",
		 "approver", "due");
	TC_FIELD(r, "decision", "escalate");
	TC_FIELD(r, "rule", rule);
	TC_FIELD(r, "state", "escalated");
	TC_FIELD(r, "approver", approver);
	expect_due_in(r, "due", due_in);
	return E2E_NUM(r, "escalation");
}

static void expect_allowed(struct tc_resp *r, const char *rule)
{
	TC_OK(r);
	E2E_KEYS(r->final, "decision", "rule", "state");
	TC_FIELD(r, "decision", "allow");
	TC_FIELD(r, "rule", rule);
	TC_FIELD(r, "state", "resolved");
}

static const char *uid_of(const char *user)
{
	char *id = tdb_value("SELECT id::text FROM users WHERE name = $1", user,
			     NULL);
	const char *s;

	CHECK(id != NULL, "no user %s in the database", user);
	s = e2e_fmt("%s", id);
	free(id);
	return s;
}

/* Decisions rows of kind for the complaint, by user (NULL: anyone). */
static long long decisions(long long complaint, const char *kind,
			   const char *user)
{
	const char *cid = e2e_fmt("%lld", complaint);

	if (user == NULL)
		return tdb_int("SELECT count(*) FROM decisions WHERE "
			       "complaint_id = $1::bigint AND kind = $2",
			       cid, kind, NULL);
	return tdb_int("SELECT count(*) FROM decisions WHERE complaint_id = "
		       "$1::bigint AND kind = $2 AND user_id = $3::bigint",
		       cid, kind, uid_of(user), NULL);
}

/* One ROW of ESCALATION LIST for escalation id, or -1. */
static long row_of(struct tc_resp *r, long long id)
{
	const char *want = e2e_fmt("%lld", id);
	size_t i;

	for (i = 0; i < r->nrows; i++) {
		const char *got = tc_row_get(r, i, "escalation");

		if (got != NULL && strcmp(got, want) == 0)
			return (long)i;
	}
	return -1;
}

/* ---- RULES ------------------------------------------------------------- */

static void test_rules_rows(void **state)
{
	static const struct {
		const char *action, *allowed, *limit;
	} tier1[] = {
		{ "refund", "yes", "30.00" },	{ "credit", "yes", "30.00" },
		{ "voucher", "yes", "20.00" },	{ "fee-waiver", "yes", "15.00" },
		{ "apology", "yes", "" },	{ "explanation", "yes", "" },
		{ "callback", "yes", "" },	{ "replacement", "no", "" },
		{ "repair", "yes", "" },
	};
	const char *a1 = agent_of_tier(1), *a3 = agent_of_tier(3);
	tc_conn *c = tc_session(a1);
	struct tc_resp *r;
	size_t i, j;

	(void)state;
	r = E2E_OK(c, "RULES");
	E2E_KEYS(r->final, "tier", "daily_budget", "used_today", "budget_left");
	TC_FIELD(r, "tier", "1");
	TC_FIELD(r, "daily_budget", "100.00");
	TC_FIELD(r, "used_today", "0.00");
	TC_FIELD(r, "budget_left", "100.00");
	/* One row per action, each action once. */
	E2E_NROWS(r, NELEM(tier1));
	for (i = 0; i < NELEM(tier1); i++) {
		bool seen = false;

		for (j = 0; j < r->nrows; j++) {
			const char *a = tc_row_get(r, j, "action");

			E2E_KEYS(r->rows[j], "action", "allowed", "limit");
			if (a == NULL || strcmp(a, tier1[i].action) != 0)
				continue;
			CHECK(!seen, "RULES: two rows for %s", a);
			seen = true;
			E2E_ROW_FIELD(r, j, "allowed", tier1[i].allowed);
			E2E_ROW_FIELD(r, j, "limit", tier1[i].limit);
		}
		CHECK(seen, "RULES: no row action=%s", tier1[i].action);
	}
	tc_close(&c);

	c = tc_session(a3);
	r = E2E_OK(c, "RULES");
	TC_FIELD(r, "tier", "3");
	TC_FIELD(r, "daily_budget", "600.00");
	TC_FIELD(r, "budget_left", "600.00");
	for (j = 0; j < r->nrows; j++) {
		const char *a = tc_row_get(r, j, "action");

		if (strcmp(a, "refund") == 0)
			E2E_ROW_FIELD(r, j, "limit", "150.00");
		if (strcmp(a, "voucher") == 0)
			E2E_ROW_FIELD(r, j, "limit", "100.00");
		if (strcmp(a, "replacement") == 0)
			E2E_ROW_FIELD(r, j, "allowed", "yes");
	}
}

/* ---- ADVISE -------------------------------------------------------------- */

static void test_advise(void **state)
{
	const char *a1 = agent_of_tier(1);
	tc_conn *c = tc_session(a1);
	struct tc_resp *r;
	long long id;

	(void)state;
	id = taken(c, 0, "billing");

	r = E2E_OK(c, "ADVISE complaint=%lld action=refund amount=25.00", id);
	E2E_KEYS(r->final, "decision", "rule", "approver", "limit",
		 "budget_left");
	TC_FIELD(r, "decision", "allow");
	TC_FIELD(r, "rule", "default");
	TC_FIELD(r, "approver", "");
	TC_FIELD(r, "limit", "30.00");
	TC_FIELD(r, "budget_left", "100.00");

	/* A limit is inclusive. */
	r = E2E_OK(c, "ADVISE complaint=%lld action=refund amount=30", id);
	TC_FIELD(r, "decision", "allow");
	TC_FIELD(r, "approver", "");

	/* One cent beyond: escalate to the chain's first level. */
	r = E2E_OK(c, "ADVISE complaint=%lld action=refund amount=30.01", id);
	TC_FIELD(r, "decision", "escalate");
	TC_FIELD(r, "rule", "tier-limit");
	TC_FIELD(r, "approver", "role:supervisor");
	TC_FIELD(r, "limit", "30.00");
	TC_FIELD(r, "budget_left", "100.00");

	/* Beyond level 1's 1000.00: the billing office. */
	r = E2E_OK(c, "ADVISE complaint=%lld action=credit amount=1800.00", id);
	TC_FIELD(r, "decision", "escalate");
	TC_FIELD(r, "approver", "dept:billing-office");

	/* Actions without money: limit and budget_left are "". */
	r = E2E_OK(c, "ADVISE complaint=%lld action=apology", id);
	TC_FIELD(r, "decision", "allow");
	TC_FIELD(r, "approver", "");
	TC_FIELD(r, "limit", "");
	TC_FIELD(r, "budget_left", "");
	r = E2E_OK(c, "ADVISE complaint=%lld action=replacement", id);
	TC_FIELD(r, "decision", "escalate");
	TC_FIELD(r, "rule", "tier-limit");
	TC_FIELD(r, "approver", "role:supervisor");
	TC_FIELD(r, "limit", "");
	TC_FIELD(r, "budget_left", "");

	/* No side effect: nothing granted, decided or escalated. */
	expect_complaint_state(c, id, "assigned");
	expect_budget(c, "0.00", "100.00");
	expect_goodwill(c, customer_of(c, id), "0.00");
	CHECK(tdb_int("SELECT count(*) FROM decisions WHERE complaint_id = "
		      "$1::bigint", e2e_fmt("%lld", id), NULL) == 0,
	      "ADVISE wrote to the decision audit trail");
	CHECK(tdb_int("SELECT count(*) FROM escalations WHERE complaint_id = "
		      "$1::bigint", e2e_fmt("%lld", id), NULL) == 0,
	      "ADVISE made an escalation");

	/* Arguments, from the request alone. */
	E2E_EXPECT(c, "BAD", "missing-arg", "ADVISE complaint=%lld action=refund",
		   id);
	E2E_EXPECT(c, "BAD", "bad-arg",
		   "ADVISE complaint=%lld action=apology amount=5.00", id);
	E2E_EXPECT(c, "BAD", "bad-arg",
		   "ADVISE complaint=%lld action=refund amount=1.005", id);
	E2E_EXPECT(c, "BAD", "bad-arg",
		   "ADVISE complaint=%lld action=refund amount=5.00 currency=USD",
		   id);
	E2E_EXPECT(c, "BAD", "bad-arg",
		   "ADVISE complaint=%lld action=bribe amount=5.00", id);
	E2E_EXPECT(c, "BAD", "missing-arg", "ADVISE action=apology");
	E2E_EXPECT(c, "NO", "not-found",
		   "ADVISE complaint=9223372036854775807 action=apology");
	r = E2E_OK(c, "ADVISE complaint=%lld action=refund amount=5.00 "
		   "currency=EUR", id);
	TC_FIELD(r, "decision", "allow");
	/* Arguments come before the objects named. */
	E2E_EXPECT(c, "BAD", "missing-arg", "ADVISE "
		   "complaint=9223372036854775807 action=refund");
	/* The role comes before the arguments: integration may not. */
	tc_close(&c);
	c = tc_session("integ1");
	E2E_EXPECT(c, "NO", "forbidden", "ADVISE");
	E2E_EXPECT(c, "NO", "forbidden", "ADVISE complaint=%lld action=apology",
		   id);
	E2E_EXPECT(c, "NO", "forbidden", "RULES");
}

/* ---- RESOLVE within authority -------------------------------------------- */

static void test_resolve_allow_at_limit(void **state)
{
	const char *a1 = agent_of_tier(1);
	const char *name = e2e_uniq("Zebulon Quartermaine ");
	tc_conn *c = tc_session(a1);
	struct tc_resp *r;
	long long cust, id;
	char *facts;

	(void)state;
	r = E2E_OK(c, "CUSTOMER ADD name=%s", tc_q(name));
	cust = E2E_NUM(r, "customer");
	id = taken(c, cust, "billing");

	/* amount == limit, within the budget: allowed. */
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund amount=30.00 "
		   "resolution=%s", id, tc_q("refunded the double charge"));
	expect_allowed(r, "default");
	expect_complaint_state(c, id, "resolved");
	expect_budget(c, "30.00", "70.00");
	expect_goodwill(c, cust, "30.00");

	/* Resolved is not resolvable again. */
	E2E_EXPECT(c, "NO", "invalid-state", "COMPLAINT RESOLVE id=%lld "
		   "action=apology resolution=again", id);

	/* The audit trail: one allow, by the rule that decided, with facts
	 * that do not hold the customer's name. */
	CHECK(decisions(id, "allow", a1) == 1,
	      "expected one decision kind=allow by %s for complaint %lld", a1,
	      id);
	facts = tdb_value("SELECT facts::text FROM decisions WHERE complaint_id "
			  "= $1::bigint AND kind = 'allow'", e2e_fmt("%lld", id),
			  NULL);
	CHECK(facts != NULL && strcmp(facts, "{}") != 0,
	      "the allow decision holds no facts: %s", facts ? facts : "NULL");
	CHECK(strstr(facts, "Quartermaine") == NULL,
	      "the decision's facts hold the customer's name: %s", facts);
	free(facts);
	CHECK(tdb_int("SELECT count(*) FROM decisions WHERE complaint_id = "
		      "$1::bigint AND kind = 'allow' AND rule = 'default'",
		      e2e_fmt("%lld", id), NULL) == 1,
	      "the allow decision does not name rule default");

	/* Non-money actions are allowed without touching the budget. */
	id = taken(c, cust, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=apology "
		   "resolution=sorry", id);
	expect_allowed(r, "default");
	expect_budget(c, "30.00", "70.00");
	expect_goodwill(c, cust, "30.00");

	/* Only the assignee (or a supervisor) resolves. */
	id = taken(c, cust, "billing");
	tc_close(&c);
	c = tc_session(agent_of_tier(3));
	E2E_EXPECT(c, "NO", "forbidden", "COMPLAINT RESOLVE id=%lld "
		   "action=apology resolution=mine", id);
	E2E_EXPECT(c, "BAD", "missing-arg", "COMPLAINT RESOLVE id=%lld "
		   "action=refund resolution=x", id);
	E2E_EXPECT(c, "NO", "not-found", "COMPLAINT RESOLVE "
		   "id=9223372036854775807 action=apology resolution=x");
}

/* ---- RESOLVE beyond authority: tier limit ------------------------------- */

static void test_resolve_escalate_tier_limit(void **state)
{
	const char *a1 = agent_of_tier(1);
	tc_conn *c = tc_session(a1);
	struct tc_resp *r;
	long long id, cust, eid;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	id = taken(c, cust, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund amount=40.00 "
		   "resolution=%s", id, tc_q("refund of the lost month"));
	eid = expect_escalated(r, "tier-limit", "role:supervisor", 4 * 3600);
	expect_complaint_state(c, id, "escalated");
	/* Nothing granted yet. */
	expect_budget(c, "0.00", "100.00");
	expect_goodwill(c, cust, "0.00");
	CHECK(decisions(id, "escalate", a1) == 1,
	      "expected one decision kind=escalate for complaint %lld", id);

	r = E2E_OK(c, "ESCALATION LIST state=pending limit=1000");
	CHECK(row_of(r, eid) >= 0, "ESCALATION LIST misses escalation %lld",
	      eid);
	E2E_ROW_FIELD(r, (size_t)row_of(r, eid), "requested_by", a1);
	E2E_ROW_FIELD(r, (size_t)row_of(r, eid), "action", "refund");
	E2E_ROW_FIELD(r, (size_t)row_of(r, eid), "amount", "40.00");
	E2E_ROW_FIELD(r, (size_t)row_of(r, eid), "level", "1");
	E2E_ROW_FIELD(r, (size_t)row_of(r, eid), "complaint",
		      e2e_fmt("%lld", id));

	/* It starts at the first level whose amount covers it. */
	id = taken(c, cust, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund amount=1800.00 "
		   "resolution=big", id);
	expect_escalated(r, "tier-limit", "dept:billing-office", 86400);
	id = taken(c, cust, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund amount=3000.00 "
		   "resolution=bigger", id);
	expect_escalated(r, "tier-limit", "role:admin", 2 * 86400);

	/* An action the tier may not take alone: escalated, not refused. */
	id = taken(c, cust, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=replacement "
		   "resolution=new", id);
	expect_escalated(r, "tier-limit", "role:supervisor", 8 * 3600);
}

/* ---- RESOLVE against policy --------------------------------------------- */

static void test_resolve_denied_by_rule(void **state)
{
	const char *a2 = agent_of_tier(2);
	tc_conn *c = tc_session(a2);
	struct tc_resp *r;
	long long id, cust;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	id = taken(c, cust, "billing");
	/* Rule too-old: no goodwill on complaints opened over 90 days ago. */
	tdb_exec("UPDATE complaints SET created_at = now() - interval "
		 "'120 days' WHERE id = $1::bigint", e2e_fmt("%lld", id), NULL);

	r = E2E_OK(c, "ADVISE complaint=%lld action=voucher amount=10.00", id);
	TC_FIELD(r, "decision", "deny");
	TC_FIELD(r, "rule", "too-old");
	TC_FIELD(r, "approver", "");

	r = E2E_EXPECT(c, "NO", "denied", "COMPLAINT RESOLVE id=%lld "
		       "action=voucher amount=10.00 resolution=x", id);
	E2E_KEYS(r->final, "code", "rule", "msg");
	TC_FIELD(r, "rule", "too-old");
	CHECK(strlen(tc_get(r, "msg")) > 0, "denied without a message");
	expect_complaint_state(c, id, "assigned");
	expect_budget(c, "0.00", "300.00");
	expect_goodwill(c, cust, "0.00");
	CHECK(decisions(id, "deny", a2) == 1,
	      "expected one decision kind=deny for complaint %lld", id);
	CHECK(tdb_int("SELECT count(*) FROM decisions WHERE complaint_id = "
		      "$1::bigint AND kind = 'deny' AND rule = 'too-old'",
		      e2e_fmt("%lld", id), NULL) == 1,
	      "the deny decision does not name rule too-old");

	/* The rule is about money: an apology still goes through. */
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=apology resolution=x",
		   id);
	expect_allowed(r, "default");
}

/* ---- the daily budget ------------------------------------------------------ */

static void test_resolve_daily_budget(void **state)
{
	const char *a1 = agent_of_tier(1);
	tc_conn *c = tc_session(a1);
	struct tc_resp *r;
	long long id;
	int i;

	(void)state;
	/* 3 x 30.00 of 100.00; each customer its own, far from the cap. */
	for (i = 0; i < 3; i++) {
		id = taken(c, 0, "billing");
		r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=credit "
			   "amount=30.00 resolution=x", id);
		expect_allowed(r, "default");
	}
	expect_budget(c, "90.00", "10.00");

	id = taken(c, 0, "billing");
	r = E2E_OK(c, "ADVISE complaint=%lld action=credit amount=10.01", id);
	TC_FIELD(r, "decision", "escalate");
	TC_FIELD(r, "rule", "daily-budget");
	TC_FIELD(r, "budget_left", "10.00");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=credit amount=30.00 "
		   "resolution=x", id);
	expect_escalated(r, "daily-budget", "role:supervisor", 4 * 3600);
	expect_budget(c, "90.00", "10.00");

	/* Exactly the budget left: allowed, and then nothing is left. */
	id = taken(c, 0, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=fee-waiver "
		   "amount=10.00 resolution=x", id);
	expect_allowed(r, "default");
	expect_budget(c, "100.00", "0.00");
	id = taken(c, 0, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=voucher amount=0.01 "
		   "resolution=x", id);
	expect_escalated(r, "daily-budget", "role:supervisor", 4 * 3600);
}

/* ---- the customer's 30-day cap ----------------------------------------------- */

static void test_resolve_customer_cap(void **state)
{
	const char *a3 = agent_of_tier(3);
	tc_conn *c = tc_session(a3);
	struct tc_resp *r;
	long long cust, vip, id;

	(void)state;
	/* Cap 150.00: 100.00 + 50.00 reaches it exactly. */
	cust = E2E_CUSTOMER(c, NULL);
	id = taken(c, cust, "billing");
	expect_allowed(tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund "
			      "amount=100.00 resolution=x", id), "default");
	id = taken(c, cust, "billing");
	expect_allowed(tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=credit "
			      "amount=50.00 resolution=x", id), "default");
	expect_goodwill(c, cust, "150.00");
	id = taken(c, cust, "billing");
	r = E2E_OK(c, "ADVISE complaint=%lld action=voucher amount=0.01", id);
	TC_FIELD(r, "decision", "escalate");
	TC_FIELD(r, "rule", "customer-cap");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=voucher amount=0.01 "
		   "resolution=x", id);
	expect_escalated(r, "customer-cap", "role:supervisor", 4 * 3600);
	expect_goodwill(c, cust, "150.00");

	/* A VIP's cap is 400.00. */
	r = E2E_OK(c, "CUSTOMER ADD name=%s vip=yes", tc_q(e2e_uniq("vip ")));
	vip = E2E_NUM(r, "customer");
	id = taken(c, vip, "billing");
	expect_allowed(tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund "
			      "amount=150.00 resolution=x", id), "default");
	id = taken(c, vip, "billing");
	expect_allowed(tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund "
			      "amount=150.00 resolution=x", id), "default");
	id = taken(c, vip, "billing");
	expect_allowed(tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=voucher "
			      "amount=100.00 resolution=x", id), "default");
	expect_goodwill(c, vip, "400.00");
	id = taken(c, vip, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=voucher amount=0.01 "
		   "resolution=x", id);
	expect_escalated(r, "customer-cap", "role:supervisor", 4 * 3600);
	expect_goodwill(c, vip, "400.00");
	expect_budget(c, "550.00", "50.00");
}

/* ---- justify later ------------------------------------------------------------ */

static void test_justify_later(void **state)
{
	const char *a1 = agent_of_tier(1);
	tc_conn *c = tc_session(a1);
	struct tc_resp *r;
	long long id;
	size_t i;
	bool seen = false;

	(void)state;
	id = taken(c, 0, "billing");
	/* repair: allowed to tier 1 and in [empowerment] justify_later. */
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=repair resolution=%s "
		   "justify_later=yes", id, tc_q("sent the technician now"));
	expect_allowed(r, "default");
	expect_complaint_state(c, id, "resolved");

	E2E_EXPECT(c, "BAD", "missing-arg", "JUSTIFY complaint=%lld", id);
	E2E_OK(c, "JUSTIFY complaint=%lld text=%s", id,
	       tc_q("the customer's line was down for a week"));
	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	for (i = 0; i < r->nrows; i++) {
		const char *ev = tc_row_get(r, i, "event");

		if (ev != NULL && strcmp(ev, "justified") == 0) {
			seen = true;
			E2E_ROW_FIELD(r, i, "text",
				      "the customer's line was down for a week");
		}
	}
	CHECK(seen, "COMPLAINT GET: no history event=justified");
	CHECK(decisions(id, "justify", a1) == 1,
	      "expected one decision kind=justify for complaint %lld", id);
	E2E_EXPECT(c, "NO", "not-found",
		   "JUSTIFY complaint=9223372036854775807 text=x");
}

/* ---- ESCALATE --------------------------------------------------------------- */

static void test_escalate(void **state)
{
	const char *a2 = agent_of_tier(2), *a3 = agent_of_tier(3);
	tc_conn *c = tc_session(a2), *other = tc_session(a3);
	struct tc_resp *r;
	long long id, eid;

	(void)state;
	/* Without to=: the first level of the chain without actions. */
	id = taken(c, 0, "billing");
	r = E2E_OK(c, "ESCALATE complaint=%lld reason=%s", id,
		   tc_q("customer threatens to leave"));
	E2E_KEYS(r->final, "escalation", "approver", "due");
	eid = E2E_NUM(r, "escalation");
	TC_FIELD(r, "approver", "role:supervisor");
	expect_due_in(r, "due", 8 * 3600);
	expect_complaint_state(c, id, "escalated");
	r = E2E_OK(c, "ESCALATION LIST limit=1000");
	CHECK(row_of(r, eid) >= 0, "ESCALATION LIST misses %lld", eid);
	E2E_ROW_FIELD(r, (size_t)row_of(r, eid), "action", "");
	E2E_ROW_FIELD(r, (size_t)row_of(r, eid), "amount", "");
	E2E_ROW_FIELD(r, (size_t)row_of(r, eid), "state", "pending");
	/* Escalated already. */
	E2E_EXPECT(c, "NO", "invalid-state", "ESCALATE complaint=%lld reason=x",
		   id);

	/* With to=: that approver. */
	id = taken(c, 0, "billing");
	r = E2E_OK(c, "ESCALATE complaint=%lld reason=x to=user:%s", id, a3);
	TC_FIELD(r, "approver", e2e_fmt("user:%s", a3));
	E2E_TIME(r, "due");
	id = taken(c, 0, "billing");
	r = E2E_OK(c, "ESCALATE complaint=%lld reason=x to=dept:logistics", id);
	TC_FIELD(r, "approver", "dept:logistics");

	/* Someone else's complaint; missing and bad arguments. */
	id = taken(c, 0, "billing");
	E2E_EXPECT(other, "NO", "forbidden", "ESCALATE complaint=%lld reason=x",
		   id);
	E2E_EXPECT(c, "BAD", "missing-arg", "ESCALATE complaint=%lld", id);
	E2E_EXPECT(c, "BAD", "bad-arg", "ESCALATE complaint=%lld reason=x "
		   "to=boss", id);
	E2E_EXPECT(c, "NO", "not-found", "ESCALATE complaint=%lld reason=x "
		   "to=user:%s", id, e2e_uniq("nobody"));
	E2E_EXPECT(c, "NO", "not-found",
		   "ESCALATE complaint=9223372036854775807 reason=x");
	expect_complaint_state(c, id, "assigned");
	/* A supervisor may escalate anyone's. */
	tc_close(&other);
	other = tc_session("sup1");
	E2E_OK(other, "ESCALATE complaint=%lld reason=x", id);
	expect_complaint_state(c, id, "escalated");
}

/* ---- ESCALATION LIST ------------------------------------------------------- */

static void test_escalation_list(void **state)
{
	const char *a = agent_of_tier(2), *b = agent_of_tier(2);
	const char *d = agent_of_tier(2);
	tc_conn *ca = tc_session(a), *cb = tc_session(b), *cd = tc_session(d);
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r;
	long long e_own, e_named, e_other, e_done;
	size_t i;

	(void)state;
	/* a's own, one naming a, one that has nothing to do with a. */
	r = E2E_OK(ca, "ESCALATE complaint=%lld reason=own",
		   taken(ca, 0, "billing"));
	e_own = E2E_NUM(r, "escalation");
	r = E2E_OK(cb, "ESCALATE complaint=%lld reason=named to=user:%s",
		   taken(cb, 0, "billing"), a);
	e_named = E2E_NUM(r, "escalation");
	r = E2E_OK(cd, "ESCALATE complaint=%lld reason=other to=user:%s",
		   taken(cd, 0, "billing"), b);
	e_other = E2E_NUM(r, "escalation");
	r = E2E_OK(ca, "ESCALATE complaint=%lld reason=done",
		   taken(ca, 0, "billing"));
	e_done = E2E_NUM(r, "escalation");
	E2E_OK(ca, "ESCALATION WITHDRAW id=%lld", e_done);

	/* An agent: their own requests and those waiting on them. */
	r = E2E_OK(ca, "ESCALATION LIST limit=1000");
	E2E_KEYS(r->final, "count", "more");
	CHECK(E2E_NUM(r, "count") == (long long)r->nrows,
	      "count=%s but %zu rows", tc_get(r, "count"), r->nrows);
	TC_FIELD(r, "more", "no");
	CHECK(row_of(r, e_own) >= 0, "%s does not see own escalation %lld", a,
	      e_own);
	CHECK(row_of(r, e_named) >= 0, "%s does not see escalation %lld that "
	      "names them", a, e_named);
	CHECK(row_of(r, e_done) >= 0, "%s does not see withdrawn %lld", a,
	      e_done);
	CHECK(row_of(r, e_other) < 0, "%s sees escalation %lld of someone else "
	      "to someone else", a, e_other);
	for (i = 0; i < r->nrows; i++) {
		const char *by = tc_row_get(r, i, "requested_by");
		const char *ap = tc_row_get(r, i, "approver");

		E2E_KEYS(r->rows[i], "escalation", "complaint", "requested_by",
			 "action", "amount", "approver", "level", "due",
			 "state");
		E2E_ROW_TIME(r, i, "due");
		CHECK(strcmp(by, a) == 0 || strcmp(ap, e2e_fmt("user:%s", a)) == 0 ||
		      strcmp(ap, "role:agent") == 0,
		      "%s sees an escalation neither theirs nor naming them: %s",
		      a, r->rows[i]);
	}
	/* Oldest first. */
	CHECK(row_of(r, e_own) < row_of(r, e_named) &&
	      row_of(r, e_named) < row_of(r, e_done),
	      "ESCALATION LIST is not oldest first");

	/* mine=yes: only those whose approver names the caller. */
	r = E2E_OK(ca, "ESCALATION LIST mine=yes limit=1000");
	CHECK(row_of(r, e_named) >= 0, "mine=yes misses %lld", e_named);
	CHECK(row_of(r, e_own) < 0, "mine=yes shows own request %lld", e_own);

	/* state= filter. */
	r = E2E_OK(ca, "ESCALATION LIST state=withdrawn limit=1000");
	CHECK(row_of(r, e_done) >= 0, "state=withdrawn misses %lld", e_done);
	CHECK(row_of(r, e_own) < 0, "state=withdrawn shows pending %lld", e_own);
	for (i = 0; i < r->nrows; i++)
		E2E_ROW_FIELD(r, i, "state", "withdrawn");
	r = E2E_OK(ca, "ESCALATION LIST state=pending limit=1000");
	CHECK(row_of(r, e_own) >= 0 && row_of(r, e_done) < 0,
	      "state=pending wrong for %lld / %lld", e_own, e_done);

	/* A supervisor sees all; mine=yes keeps role:supervisor ones. */
	r = E2E_OK(sup, "ESCALATION LIST limit=1000");
	CHECK(row_of(r, e_own) >= 0 && row_of(r, e_named) >= 0 &&
	      row_of(r, e_other) >= 0 && row_of(r, e_done) >= 0,
	      "a supervisor does not see every escalation");
	r = E2E_OK(sup, "ESCALATION LIST mine=yes state=pending limit=1000");
	CHECK(row_of(r, e_own) >= 0, "sup1 mine=yes misses %lld (role:supervisor)",
	      e_own);
	CHECK(row_of(r, e_other) < 0, "sup1 mine=yes shows %lld (user:%s)",
	      e_other, b);

	/* limit and more. */
	r = E2E_OK(sup, "ESCALATION LIST limit=1");
	E2E_NROWS(r, 1);
	TC_FIELD(r, "count", "1");
	TC_FIELD(r, "more", "yes");
	E2E_EXPECT(sup, "BAD", "bad-arg", "ESCALATION LIST state=lost");
	E2E_EXPECT(sup, "BAD", "bad-arg", "ESCALATION LIST limit=1001");
}

/* ---- WITHDRAW ------------------------------------------------------------- */

static void test_withdraw(void **state)
{
	const char *a = agent_of_tier(1);
	tc_conn *c = tc_session(a), *other = tc_session(agent_of_tier(3));
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r;
	long long id, eid;

	(void)state;
	id = taken(c, 0, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund amount=45.00 "
		   "resolution=x", id);
	eid = expect_escalated(r, "tier-limit", "role:supervisor", 4 * 3600);

	/* Only the requester. */
	E2E_EXPECT(other, "NO", "forbidden", "ESCALATION WITHDRAW id=%lld", eid);
	E2E_EXPECT(sup, "NO", "forbidden", "ESCALATION WITHDRAW id=%lld", eid);
	E2E_EXPECT(c, "NO", "not-found",
		   "ESCALATION WITHDRAW id=9223372036854775807");
	expect_complaint_state(c, id, "escalated");

	r = E2E_OK(c, "ESCALATION WITHDRAW id=%lld", eid);
	TC_FIELD(r, "state", "withdrawn");
	expect_complaint_state(c, id, "assigned");
	CHECK(decisions(id, "withdraw", a) == 1,
	      "expected one decision kind=withdraw for complaint %lld", id);
	E2E_EXPECT(c, "NO", "invalid-state", "ESCALATION WITHDRAW id=%lld", eid);
	/* Decided: nobody may approve it any more; authority is checked
	 * before state (four eyes, then forbidden, then invalid-state). */
	E2E_EXPECT(sup, "NO", "invalid-state", "APPROVE escalation=%lld", eid);
	E2E_EXPECT(c, "NO", "four-eyes", "APPROVE escalation=%lld", eid);
	E2E_EXPECT(other, "NO", "forbidden", "APPROVE escalation=%lld", eid);
	/* Back in the agent's hands: within authority now. */
	expect_allowed(tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund "
			      "amount=25.00 resolution=x", id), "default");
}

/* ---- APPROVE of a money request ---------------------------------------------- */

static void test_approve_money(void **state)
{
	const char *a = agent_of_tier(1);
	const char *s = E2E_USER("supervisor", "tier=4");
	tc_conn *c = tc_session(a), *sup = tc_session(s);
	struct tc_resp *r;
	long long id, cust, eid;
	char *ev;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	id = taken(c, cust, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund amount=120.00 "
		   "resolution=%s", id, tc_q("refund three months"));
	eid = expect_escalated(r, "tier-limit", "role:supervisor", 4 * 3600);
	tc_events_clear(c);

	r = E2E_OK(sup, "APPROVE escalation=%lld note=%s", eid,
		   tc_q("fair, given the outage"));
	E2E_KEYS(r->final, "state", "complaint_state");
	TC_FIELD(r, "state", "approved");
	TC_FIELD(r, "complaint_state", "resolved");
	expect_complaint_state(c, id, "resolved");

	/* Charged to the approver's budget and the customer's total, not to
	 * the requester's budget. */
	expect_budget(sup, "120.00", "4880.00");
	expect_goodwill(sup, cust, "120.00");
	expect_budget(c, "0.00", "100.00");
	CHECK(tdb_int("SELECT coalesce(sum(amount), 0) FROM grants WHERE "
		      "complaint_id = $1::bigint AND granted_by = $2::bigint",
		      e2e_fmt("%lld", id), uid_of(s), NULL) == 12000,
	      "no grant of 120.00 (12000 minor units) by %s", s);
	CHECK(decisions(id, "approve", s) == 1,
	      "expected one decision kind=approve by %s", s);

	/* The requester is told, unasked. */
	ev = E2E_EVENT(c, "escalation", e2e_wait_ms(), "escalation",
		       e2e_fmt("%lld", eid), "state", "approved", NULL);
	free(ev);

	r = E2E_OK(sup, "ESCALATION LIST state=approved limit=1000");
	CHECK(row_of(r, eid) >= 0, "state=approved misses %lld", eid);
	/* Decided: a second decision is refused. */
	E2E_EXPECT(sup, "NO", "invalid-state", "APPROVE escalation=%lld", eid);
	E2E_EXPECT(sup, "NO", "invalid-state", "REJECT escalation=%lld "
		   "reason=late", eid);
	E2E_EXPECT(sup, "NO", "not-found",
		   "APPROVE escalation=9223372036854775807");
	E2E_EXPECT(sup, "BAD", "missing-arg", "APPROVE");
}

/* ---- four eyes, and who may decide ----------------------------------------- */

static void test_four_eyes_and_forbidden(void **state)
{
	/* A supervisor with tier 1 authority: their refund of 40.00 goes to
	 * role:supervisor, which names them too. */
	const char *s1 = E2E_USER("supervisor", "tier=1");
	const char *agent = agent_of_tier(3);
	tc_conn *cs = tc_session(s1), *ca = tc_session(agent);
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r;
	long long id, eid, e2;

	(void)state;
	id = taken(cs, 0, "billing");
	r = tc_cmd(cs, "COMPLAINT RESOLVE id=%lld action=refund amount=40.00 "
		   "resolution=x", id);
	eid = expect_escalated(r, "tier-limit", "role:supervisor", 4 * 3600);
	E2E_EXPECT(cs, "NO", "four-eyes", "APPROVE escalation=%lld", eid);
	E2E_EXPECT(cs, "NO", "four-eyes", "REJECT escalation=%lld reason=x",
		   eid);

	/* An agent the approver does not name. */
	E2E_EXPECT(ca, "NO", "forbidden", "APPROVE escalation=%lld", eid);
	E2E_EXPECT(ca, "NO", "forbidden", "REJECT escalation=%lld reason=x",
		   eid);
	expect_complaint_state(cs, id, "escalated");
	r = E2E_OK(sup, "ESCALATION LIST state=pending limit=1000");
	CHECK(row_of(r, eid) >= 0, "escalation %lld is no longer pending", eid);

	/* Four eyes comes before forbidden: a requester not named either. */
	id = taken(ca, 0, "billing");
	r = E2E_OK(ca, "ESCALATE complaint=%lld reason=x to=user:sup1", id);
	e2 = E2E_NUM(r, "escalation");
	E2E_EXPECT(ca, "NO", "four-eyes", "APPROVE escalation=%lld", e2);
	/* user:sup1 names sup1 only, not every supervisor. */
	E2E_EXPECT(cs, "NO", "forbidden", "APPROVE escalation=%lld", e2);

	/* The other supervisor decides the first one. */
	r = E2E_OK(sup, "APPROVE escalation=%lld", eid);
	TC_FIELD(r, "complaint_state", "resolved");
}

/* ---- beyond the approver's own authority: up the chain --------------------- */

static void test_approve_beyond_authority_raise(void **state)
{
	const char *a3 = agent_of_tier(3);
	const char *s = E2E_USER("supervisor", "tier=4");
	const char *office = E2E_USER("agent", "dept=billing-office");
	tc_conn *c = tc_session(a3), *sup = tc_session(s);
	tc_conn *co = tc_session(office), *adm = tc_session("admin1");
	struct tc_resp *r;
	long long id, cust, eid;
	long row;
	char *ev;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	id = taken(c, cust, "billing");
	/* voucher 600.00: beyond tier 3's 100.00, within level 1's 1000.00
	 * (role:supervisor), beyond tier 4's voucher limit 500.00. */
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=voucher amount=600.00 "
		   "resolution=x", id);
	eid = expect_escalated(r, "tier-limit", "role:supervisor", 4 * 3600);

	E2E_EXPECT(sup, "NO", "forbidden", "APPROVE escalation=%lld", eid);
	/* It stays pending, at level 1; nothing granted. */
	r = E2E_OK(sup, "ESCALATION LIST state=pending limit=1000");
	row = row_of(r, eid);
	CHECK(row >= 0, "escalation %lld left pending after a refused APPROVE",
	      eid);
	E2E_ROW_FIELD(r, (size_t)row, "level", "1");
	E2E_ROW_FIELD(r, (size_t)row, "approver", "role:supervisor");
	expect_complaint_state(c, id, "escalated");
	expect_budget(sup, "0.00", "5000.00");
	expect_goodwill(c, cust, "0.00");

	/* RAISE passes it to the next level. */
	tc_events_clear(c);
	r = E2E_OK(sup, "ESCALATION RAISE id=%lld reason=%s", eid,
		   tc_q("beyond my voucher limit"));
	E2E_KEYS(r->final, "approver", "level", "due");
	TC_FIELD(r, "approver", "dept:billing-office");
	TC_FIELD(r, "level", "2");
	expect_due_in(r, "due", 86400);
	r = E2E_OK(sup, "ESCALATION LIST state=pending limit=1000");
	row = row_of(r, eid);
	CHECK(row >= 0, "escalation %lld not pending after RAISE", eid);
	E2E_ROW_FIELD(r, (size_t)row, "level", "2");
	E2E_ROW_FIELD(r, (size_t)row, "approver", "dept:billing-office");
	/* The requester hears that it moved. */
	ev = E2E_EVENT(c, "escalation", e2e_wait_ms(), "escalation",
		       e2e_fmt("%lld", eid), "level", "2", NULL);
	free(ev);
	/* Now the supervisor is not named. */
	E2E_EXPECT(sup, "NO", "forbidden", "APPROVE escalation=%lld", eid);

	/* The billing office (tier 1: voucher 20.00) passes it on too. */
	E2E_EXPECT(co, "NO", "forbidden", "APPROVE escalation=%lld", eid);
	r = E2E_OK(co, "ESCALATION RAISE id=%lld", eid);
	TC_FIELD(r, "approver", "role:admin");
	TC_FIELD(r, "level", "3");
	expect_due_in(r, "due", 2 * 86400);

	/* At the top of the chain. */
	E2E_EXPECT(adm, "NO", "invalid-state", "ESCALATION RAISE id=%lld", eid);
	E2E_EXPECT(adm, "NO", "not-found",
		   "ESCALATION RAISE id=9223372036854775807");
	E2E_EXPECT(adm, "BAD", "bad-arg", "ESCALATION RAISE id=%lld to=nobody",
		   eid);
	CHECK(tdb_int("SELECT count(*) FROM decisions WHERE escalation_id = "
		      "$1::bigint AND kind = 'raise'", e2e_fmt("%lld", eid),
		      NULL) == 2, "expected two decisions kind=raise for %lld",
	      eid);

	/* Rejecting needs only to be named. */
	r = E2E_OK(adm, "REJECT escalation=%lld reason=%s", eid,
		   tc_q("too generous"));
	TC_FIELD(r, "state", "rejected");
	TC_FIELD(r, "complaint_state", "assigned");
	expect_goodwill(c, cust, "0.00");
}

/* ---- REJECT ------------------------------------------------------------------ */

static void test_reject(void **state)
{
	const char *a = agent_of_tier(2);
	tc_conn *c = tc_session(a), *sup = tc_session("sup1");
	struct tc_resp *r;
	long long id, cust, eid;
	char *ev;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	id = taken(c, cust, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=credit amount=80.00 "
		   "resolution=x", id);
	eid = expect_escalated(r, "tier-limit", "role:supervisor", 4 * 3600);
	tc_events_clear(c);

	E2E_EXPECT(sup, "BAD", "missing-arg", "REJECT escalation=%lld", eid);
	r = E2E_OK(sup, "REJECT escalation=%lld reason=%s", eid,
		   tc_q("a credit of 40.00 is enough"));
	E2E_KEYS(r->final, "state", "complaint_state");
	TC_FIELD(r, "state", "rejected");
	TC_FIELD(r, "complaint_state", "assigned");
	expect_complaint_state(c, id, "assigned");
	expect_goodwill(c, cust, "0.00");
	expect_budget(c, "0.00", "300.00");
	CHECK(decisions(id, "reject", "sup1") == 1,
	      "expected one decision kind=reject by sup1 for complaint %lld",
	      id);
	ev = E2E_EVENT(c, "escalation", e2e_wait_ms(), "escalation",
		       e2e_fmt("%lld", eid), "state", "rejected", NULL);
	free(ev);
	r = E2E_OK(c, "ESCALATION LIST state=rejected limit=1000");
	CHECK(row_of(r, eid) >= 0, "state=rejected misses %lld", eid);
	E2E_EXPECT(c, "NO", "invalid-state", "ESCALATION WITHDRAW id=%lld", eid);

	/* The agent settles within authority instead. */
	expect_allowed(tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=credit "
			      "amount=40.00 resolution=x", id), "default");
	expect_goodwill(c, cust, "40.00");
}

/* ---- escalations without an action ---------------------------------------- */

static void test_approve_without_action(void **state)
{
	const char *a = agent_of_tier(2), *named = agent_of_tier(3);
	tc_conn *c = tc_session(a), *cn = tc_session(named);
	tc_conn *clerk = tc_session("clerk1");
	struct tc_resp *r;
	long long id, eid;

	(void)state;
	/* Approving a request without an action gives the complaint back. */
	id = taken(c, 0, "billing");
	r = E2E_OK(c, "ESCALATE complaint=%lld reason=x to=user:%s", id, named);
	eid = E2E_NUM(r, "escalation");
	r = E2E_OK(cn, "APPROVE escalation=%lld note=%s", eid, tc_q("go ahead"));
	TC_FIELD(r, "state", "approved");
	TC_FIELD(r, "complaint_state", "assigned");
	expect_complaint_state(c, id, "assigned");

	/* A department approver: its members decide. */
	r = E2E_OK(c, "ESCALATE complaint=%lld reason=x to=dept:logistics", id);
	eid = E2E_NUM(r, "escalation");
	E2E_EXPECT(cn, "NO", "forbidden", "REJECT escalation=%lld reason=x",
		   eid);
	r = E2E_OK(clerk, "REJECT escalation=%lld reason=%s", eid,
		   tc_q("not ours"));
	TC_FIELD(r, "state", "rejected");
	TC_FIELD(r, "complaint_state", "assigned");
	expect_complaint_state(c, id, "assigned");

	/* RAISE to= names the next approver; they decide. */
	r = E2E_OK(c, "ESCALATE complaint=%lld reason=x", id);
	eid = E2E_NUM(r, "escalation");
	E2E_EXPECT(cn, "NO", "forbidden", "ESCALATION RAISE id=%lld", eid);
	tc_close(&clerk);
	clerk = tc_session("sup1");
	r = E2E_OK(clerk, "ESCALATION RAISE id=%lld to=user:%s reason=%s", eid,
		   named, tc_q("the specialist"));
	E2E_KEYS(r->final, "approver", "level", "due");
	TC_FIELD(r, "approver", e2e_fmt("user:%s", named));
	E2E_NUM(r, "level");
	E2E_TIME(r, "due");
	E2E_EXPECT(clerk, "NO", "forbidden", "APPROVE escalation=%lld", eid);
	r = E2E_OK(cn, "APPROVE escalation=%lld", eid);
	TC_FIELD(r, "complaint_state", "assigned");
}

/* ---- the approver's budget left -------------------------------------------- */

static void test_approve_beyond_budget(void **state)
{
	/* A supervisor with tier 2 authority: refund 75.00, budget 300.00. */
	const char *s = E2E_USER("supervisor", "tier=2");
	const char *a = agent_of_tier(1);
	tc_conn *cs = tc_session(s), *c = tc_session(a);
	struct tc_resp *r;
	long long eids[5], big, id;
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		id = taken(c, 0, "billing");
		r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund "
			   "amount=70.00 resolution=x", id);
		eids[i] = expect_escalated(r, "tier-limit", "role:supervisor",
					   4 * 3600);
	}
	id = taken(c, 0, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund amount=80.00 "
		   "resolution=x", id);
	big = expect_escalated(r, "tier-limit", "role:supervisor", 4 * 3600);

	/* Beyond the approver's tier limit (75.00). */
	E2E_EXPECT(cs, "NO", "forbidden", "APPROVE escalation=%lld", big);
	/* 4 x 70.00 of 300.00, then 20.00 left: not enough for a fifth. */
	for (i = 0; i < 4; i++) {
		r = E2E_OK(cs, "APPROVE escalation=%lld", eids[i]);
		TC_FIELD(r, "complaint_state", "resolved");
	}
	expect_budget(cs, "280.00", "20.00");
	E2E_EXPECT(cs, "NO", "forbidden", "APPROVE escalation=%lld", eids[4]);
	expect_budget(cs, "280.00", "20.00");
	r = E2E_OK(cs, "ESCALATION LIST state=pending limit=1000");
	CHECK(row_of(r, eids[4]) >= 0 && row_of(r, big) >= 0,
	      "refused approvals did not leave the escalations pending");
	/* Someone with the authority approves it. */
	tc_close(&cs);
	cs = tc_session(E2E_USER("supervisor", "tier=4"));
	r = E2E_OK(cs, "APPROVE escalation=%lld", eids[4]);
	TC_FIELD(r, "complaint_state", "resolved");
	expect_budget(c, "0.00", "100.00");
}

/* ---- a missed deadline moves an escalation up by itself ------------------- */

static void test_escalation_deadline_moves_up(void **state)
{
	const char *a = agent_of_tier(1);
	tc_conn *c = tc_session(a), *sup = tc_session("sup1");
	struct tc_resp *r;
	long long id, eid;
	int64_t deadline;
	char *ev = NULL;
	long row;

	(void)state;
	id = taken(c, 0, "billing");
	r = tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund amount=40.00 "
		   "resolution=x", id);
	eid = expect_escalated(r, "tier-limit", "role:supervisor", 4 * 3600);
	tc_events_clear(c);
	/* Its four hours are over. */
	tdb_exec("UPDATE escalations SET due = now() - interval '1 second' "
		 "WHERE id = $1::bigint", e2e_fmt("%lld", eid), NULL);

	/* The requester hears that it moved (PING keeps both sessions
	 * busy: the sweep may take a while on a slow machine). */
	deadline = e2e_mono_ms() + e2e_wait_ms();
	while (ev == NULL && e2e_mono_ms() < deadline) {
		ev = e2e_event_match(c, "escalation", 1000, "escalation",
				     e2e_fmt("%lld", eid), "level", "2", NULL);
		if (ev == NULL)
			E2E_PING(c, sup);
	}
	CHECK(ev != NULL, "escalation %lld: %d ms after its due passed, no "
	      "event with level=2 reached the requester", eid,
	      e2e_wait_ms());
	E2E_KEYS(ev, "escalation", "complaint", "state", "approver", "level");
	CHECK(strstr(ev, " state=pending") != NULL &&
	      strstr(ev, " approver=dept:billing-office") != NULL,
	      "expected state=pending approver=dept:billing-office: %s", ev);
	free(ev);

	/* Listed at level 2, still pending, with a new deadline. */
	r = E2E_OK(sup, "ESCALATION LIST state=pending limit=1000");
	row = row_of(r, eid);
	CHECK(row >= 0, "escalation %lld is no longer pending", eid);
	E2E_ROW_FIELD(r, (size_t)row, "level", "2");
	E2E_ROW_FIELD(r, (size_t)row, "approver", "dept:billing-office");
	CHECK(E2E_ROW_TIME(r, (size_t)row, "due") > time(NULL) + 86400 - 300,
	      "the moved escalation's due is not a day ahead: %s",
	      tc_row_get(r, (size_t)row, "due"));
	expect_complaint_state(c, id, "escalated");
}

/* ---- the decision audit trail is append-only ------------------------------ */

/* [database] conninfo of $CD_CONFIG: the role the server uses (malloc'd;
 * NULL when not found). */
static char *server_conninfo(void)
{
	const char *path = getenv("CD_CONFIG");
	FILE *f = path ? fopen(path, "r") : NULL;
	char line[2048], *out = NULL;
	bool in_db = false;

	if (f == NULL)
		return NULL;
	while (out == NULL && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *end;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[') {
			in_db = strncmp(p, "[database]", 10) == 0;
			continue;
		}
		if (!in_db || strncmp(p, "conninfo", 8) != 0)
			continue;
		p += 8;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p++ != '=')
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		/* A comment starts with ';' or '#' after a space. */
		for (end = p; *end != '\0' && *end != '\n'; end++)
			if ((*end == ';' || *end == '#') && end > p &&
			    (end[-1] == ' ' || end[-1] == '\t'))
				break;
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*end = '\0';
		out = strdup(p);
	}
	fclose(f);
	return out;
}

static void test_decisions_append_only(void **state)
{
	const char *a = agent_of_tier(1);
	tc_conn *c = tc_session(a);
	char *conninfo = server_conninfo();
	const char *stmts[4];
	PGconn *pg;
	long long id, before;
	size_t i;

	(void)state;
	id = taken(c, 0, "billing");
	expect_allowed(tc_cmd(c, "COMPLAINT RESOLVE id=%lld action=refund "
			      "amount=5.00 resolution=x", id), "default");
	before = tdb_int("SELECT count(*) FROM decisions", NULL);
	stmts[0] = e2e_fmt("UPDATE decisions SET rule = 'forged' WHERE "
			   "complaint_id = %lld", id);
	stmts[1] = e2e_fmt("DELETE FROM decisions WHERE complaint_id = %lld", id);
	stmts[2] = "UPDATE decisions SET rule = 'forged'";
	stmts[3] = "DELETE FROM decisions";

	/* As the role the server uses: [database] conninfo of $CD_CONFIG. */
	CHECK(conninfo != NULL, "no [database] conninfo in $CD_CONFIG");
	pg = PQconnectdb(conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		print_error("connecting to %s: %s", conninfo, PQerrorMessage(pg));
		PQfinish(pg);
		free(conninfo);
		fail();
	}
	free(conninfo);
	for (i = 0; i < NELEM(stmts); i++) {
		const char *sql = stmts[i];
		PGresult *res = PQexec(pg, sql);
		ExecStatusType st = PQresultStatus(res);

		PQclear(res);
		if (st == PGRES_COMMAND_OK) {
			PQfinish(pg);
			fail_msg("\"%s\" succeeded: decisions is not append-only",
				 sql);
		}
	}
	PQfinish(pg);
	CHECK(tdb_int("SELECT count(*) FROM decisions", NULL) >= before,
	      "decisions lost rows");
	CHECK(tdb_int("SELECT count(*) FROM decisions WHERE complaint_id = "
		      "$1::bigint AND rule = 'default'", e2e_fmt("%lld", id),
		      NULL) == 1, "the decision of complaint %lld changed", id);
}

/* ---- RELOAD ---------------------------------------------------------------- */

static char *saved_rules;  /* the rules file as run.sh wrote it */

static bool spill(const char *path, const char *text)
{
	/* Write aside, then rename: the server never reads half a file. */
	const char *tmp = e2e_fmt("%s.e2e-new", path);
	FILE *f = fopen(tmp, "wb");

	if (f == NULL)
		return false;
	fputs(text, f);
	if (fclose(f) != 0)
		return false;
	return rename(tmp, path) == 0;
}

/* The rules text with tier 1's refund limit changed to 35.00. */
static char *with_refund_35(const char *rules)
{
	const char *tier = strstr(rules, "[tier 1]");
	const char *key = tier ? strstr(tier, "refund = 30.00") : NULL;
	size_t n = strlen(rules);
	char *out;

	if (key == NULL)
		return NULL;
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, rules, n + 1);
	memcpy(out + (key - rules), "refund = 35.00", 14);
	return out;
}

static int lines_of(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Puts the rules back and reloads, whatever the test did. */
static int reload_teardown(void **state)
{
	const char *path = getenv("CD_RULES");

	tc_teardown(state);
	e2e_node_stop();
	if (saved_rules != NULL && path != NULL) {
		char *now = e2e_slurp(path, 0, NULL);
		bool changed = now == NULL || strcmp(now, saved_rules) != 0;

		free(now);
		if (changed && spill(path, saved_rules)) {
			char err[256];
			tc_conn *c = tc_open(NULL, err, sizeof(err));

			if (c != NULL) {
				struct tc_resp *r = tc_login(c, "admin1",
							     tc_password());

				tc_resp_free(&r);
				r = tc_cmd(c, "RELOAD");
				tc_resp_free(&r);
				tc_close(&c);
			}
		}
	}
	free(saved_rules);
	saved_rules = NULL;
	return 0;
}

static void expect_refund_limit(tc_conn *c, long long id, const char *limit,
				const char *decision)
{
	struct tc_resp *r = E2E_OK(c, "ADVISE complaint=%lld action=refund "
				   "amount=35.00", id);

	TC_FIELD(r, "decision", decision);
	TC_FIELD(r, "limit", limit);
}

/* The same on another node, which hears of a RELOAD through the database:
 * allowed some time to get there (e2e_wait_ms()), while the sessions
 * busy1 and busy2 are kept from idling out. */
static void expect_refund_limit_soon(tc_conn *c, long long id,
				     const char *limit, tc_conn *busy1,
				     tc_conn *busy2)
{
	int64_t deadline = e2e_mono_ms() + e2e_wait_ms();
	struct tc_resp *r;

	for (;;) {
		r = E2E_OK(c, "ADVISE complaint=%lld action=refund amount=35.00",
			   id);
		if (strcmp(tc_get(r, "limit"), limit) == 0 ||
		    !e2e_poll_sleep(deadline))
			break;
		tc_resp_free(&r);
		E2E_PING(busy1, busy2);
	}
	TC_FIELD(r, "limit", limit);
}

static void test_reload(void **state)
{
	const char *path = tc_env("CD_RULES");
	const char *a1 = agent_of_tier(1);
	tc_conn *adm, *c, *c2;
	struct tc_resp *r;
	char *good, *broken;
	const char *msg, *want;
	long long id;
	int bad_line;

	(void)state;
	saved_rules = e2e_slurp(path, 0, NULL);
	CHECK(saved_rules != NULL, "cannot read %s", path);
	good = with_refund_35(saved_rules);
	CHECK(good != NULL, "%s has no \"refund = 30.00\" in [tier 1]", path);
	/* Every node rereads: a second one on the same database, started
	 * first (the sessions would idle meanwhile on a slow machine). */
	E2E_NODE_START("second", NULL);
	c = tc_session(a1);
	adm = tc_session("admin1");
	id = taken(c, 0, "billing");
	expect_refund_limit(c, id, "30.00", "escalate");
	c2 = E2E_NODE_SESSION(a1);
	expect_refund_limit(c2, id, "30.00", "escalate");

	/* Only an administrator reloads. */
	E2E_EXPECT(c, "NO", "forbidden", "RELOAD");

	/* A valid change (tier 1 refund 35.00) with an error further down:
	 * nothing of the file applies. */
	broken = malloc(strlen(good) + 200);
	CHECK(broken != NULL, "out of memory");
	sprintf(broken, "%s%s[rule e2e-broken]\naction = refund\n"
		"decision = perhaps\n", good,
		good[0] != '\0' && good[strlen(good) - 1] != '\n' ? "\n" : "");
	bad_line = lines_of(broken);
	CHECK(spill(path, broken), "cannot write %s", path);
	free(broken);
	r = E2E_EXPECT(adm, "NO", "invalid-config", "RELOAD");
	msg = TC_HAS(r, "msg");
	want = e2e_fmt("rules.conf:%d: ", bad_line);
	CHECK(strstr(msg, want) != NULL,
	      "RELOAD of a bad file: expected msg=\"FILE:LINE: ...\" with "
	      "\"%s\" (the line of decision = perhaps), got msg=\"%s\"", want,
	      msg);
	/* The rules in force did not change; the connections stay. */
	expect_refund_limit(c, id, "30.00", "escalate");
	E2E_OK(adm, "PING");
	e2e_sleep_ms(500);
	expect_refund_limit(c2, id, "30.00", "escalate");

	/* The good file applies to the next request, on every node. */
	CHECK(spill(path, good), "cannot write %s", path);
	free(good);
	r = E2E_OK(adm, "RELOAD");
	E2E_NUM(r, "rules");
	expect_refund_limit(c, id, "35.00", "allow");
	expect_refund_limit_soon(c2, id, "35.00", adm, c);

	/* And back. */
	CHECK(spill(path, saved_rules), "cannot write %s", path);
	r = E2E_OK(adm, "RELOAD");
	E2E_NUM(r, "rules");
	expect_refund_limit(c, id, "30.00", "escalate");
	expect_refund_limit_soon(c2, id, "30.00", adm, c);
}

/* Budgets are per day (UTC): no test runs across midnight. */
#define DAY_TEST(t, down) \
	cmocka_unit_test_setup_teardown(t, e2e_same_day_setup, down)

int e2e_group_empower(void)
{
	const struct CMUnitTest tests[] = {
		DAY_TEST(test_rules_rows, tc_teardown),
		DAY_TEST(test_advise, tc_teardown),
		DAY_TEST(test_resolve_allow_at_limit, tc_teardown),
		DAY_TEST(test_resolve_escalate_tier_limit, tc_teardown),
		DAY_TEST(test_resolve_denied_by_rule, tc_teardown),
		DAY_TEST(test_resolve_daily_budget, tc_teardown),
		DAY_TEST(test_resolve_customer_cap, tc_teardown),
		DAY_TEST(test_justify_later, tc_teardown),
		DAY_TEST(test_escalate, tc_teardown),
		DAY_TEST(test_escalation_list, tc_teardown),
		DAY_TEST(test_withdraw, tc_teardown),
		DAY_TEST(test_approve_money, tc_teardown),
		DAY_TEST(test_four_eyes_and_forbidden, tc_teardown),
		DAY_TEST(test_approve_beyond_authority_raise, tc_teardown),
		DAY_TEST(test_reject, tc_teardown),
		DAY_TEST(test_approve_without_action, tc_teardown),
		DAY_TEST(test_approve_beyond_budget, tc_teardown),
		DAY_TEST(test_escalation_deadline_moves_up, tc_teardown),
		DAY_TEST(test_decisions_append_only, tc_teardown),
		DAY_TEST(test_reload, reload_teardown),
	};

	return cmocka_run_group_tests_name("empower", tests, NULL, NULL);
}
