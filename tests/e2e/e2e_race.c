/* e2e_race.c: the "race" group: budgets and caps under concurrency
 * (PROTOCOL.md §9, last paragraph): requests at the same instant can never
 * together exceed an agent's daily budget or a customer's 30-day cap, on
 * one node or several.
 *
 * Each test prepares complaints (opened by sup1 and assigned), opens one
 * connection per request and logs them all in, then sends every
 * COMPLAINT RESOLVE before reading any answer. The answers must each be
 * allow or escalate (never an error), the allowed ones must fill the limit
 * exactly as far as whole requests fit (a request escalated for the limit
 * saw it nearly used up) and never beyond, and the grants stored in
 * PostgreSQL must say the same. The two-node tests start a second
 * calldeskd on the same database (e2e_node.h) and split the connections
 * between the nodes.
 *
 * Figures from tests/e2e/rules.conf: tier 2 daily budget 300.00 (refund
 * limit 75.00), tier 3 refund limit 150.00 and budget 600.00, customer cap
 * 150.00 with over_cap = escalate. Every test uses agents and customers of
 * its own, so that what others granted today does not matter. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "e2e.h"
#include "e2e_node.h"
#include "e2e_util.h"
#include "tclient.h"
#include "tdb.h"

#define NREQ 20          /* requests racing */
#define AMOUNT "20.00"   /* each one's refund */
#define AMOUNT_MINOR 2000

/* Opens a complaint of customer for agent: by sup (COMPLAINT OPEN, then
 * ASSIGN). Returns its id. */
static long long assigned_to(tc_conn *sup, long long customer,
			     const char *agent)
{
	long long id = E2E_COMPLAINT(sup, customer, "billing", 3);

	E2E_OK(sup, "ASSIGN complaint=%lld agent=%s", id, agent);
	return id;
}

/* "{1,2,3}": the ids as a PostgreSQL array literal. */
static const char *id_array(const long long *ids, int n)
{
	char buf[NREQ * 24 + 4];
	size_t len = 0;
	int i;

	buf[len++] = '{';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%lld",
					i ? "," : "", ids[i]);
	snprintf(buf + len, sizeof(buf) - len, "}");
	return e2e_fmt("%s", buf);
}

/* What the answers of one race said. */
struct tally {
	int allowed;        /* OK decision=allow state=resolved */
	int escalated;      /* OK decision=escalate rule=<the limit's> */
	int bad;            /* anything else */
	char first_bad[3][600];
};

static void note_bad(struct tally *t, struct tc_resp *r)
{
	if (t->bad < 3)
		snprintf(t->first_bad[t->bad], sizeof(t->first_bad[0]),
			 "%s -> %s%s%s%s%s", r->request,
			 r->nrows ? "got \"" : "", r->nrows ? r->rows[0] : "",
			 r->nrows ? "\", then " : "",
			 r->final ? r->final : "no final line",
			 r->final ? "" : r->bye ? e2e_fmt(" but \"%s\"", r->bye) :
						  " (timeout)");
	t->bad++;
}

/* Sends COMPLAINT RESOLVE refund AMOUNT on complaint ids[i] as who[i],
 * every request before any answer is read; connection i goes to the
 * second node when split and i is odd. Counts the answers: allow, or
 * escalate by limit_rule, or anything else. */
static void race_resolve(const char *const *who, const long long *ids,
			 bool split, const char *limit_rule, struct tally *t)
{
	tc_conn *conns[NREQ];
	struct tc_resp *r;
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < NREQ; i++)
		conns[i] = split && i % 2 == 1 ? E2E_NODE_SESSION(who[i]) :
						 tc_session(who[i]);
	/* Twenty logins take a while on a slow machine: the first sessions
	 * must not be near their idle_timeout when the race starts. */
	for (i = 0; i < NREQ; i++)
		E2E_PING(conns[i]);
	for (i = 0; i < NREQ; i++)
		CHECK(tc_sendf(conns[i], "r%d COMPLAINT RESOLVE id=%lld "
			       "action=refund amount=" AMOUNT " resolution=race",
			       i, ids[i]),
		      "%s: could not send: %s", tc_label(conns[i]),
		      tc_error(conns[i]));
	for (i = 0; i < NREQ; i++) {
		const char *decision, *state, *rule;

		r = tc_collect(conns[i], e2e_fmt("r%d", i), e2e_wait_ms());
		free(r->request);
		r->request = strdup(e2e_fmt("r%d COMPLAINT RESOLVE id=%lld "
					    "action=refund amount=" AMOUNT
					    " (%s)", i, ids[i],
					    tc_label(conns[i])));
		decision = tc_get(r, "decision");
		state = tc_get(r, "state");
		rule = tc_get(r, "rule");
		if (strcmp(r->word, "OK") != 0 || decision == NULL ||
		    state == NULL || r->nrows != 0)
			note_bad(t, r);
		else if (strcmp(decision, "allow") == 0 &&
			 strcmp(state, "resolved") == 0)
			t->allowed++;
		else if (strcmp(decision, "escalate") == 0 &&
			 strcmp(state, "escalated") == 0 && rule != NULL &&
			 strcmp(rule, limit_rule) == 0 &&
			 tc_get(r, "escalation") != NULL)
			t->escalated++;
		else
			note_bad(t, r);
	}
	for (i = 0; i < NREQ; i++)
		tc_close(&conns[i]);
}

/* Every answer was allow or escalate, and exactly `fit` were allowed. */
static void check_tally(const struct tally *t, int fit, const char *what)
{
	CHECK(t->bad == 0,
	      "%d of %d racing COMPLAINT RESOLVE got neither \"OK "
	      "decision=allow state=resolved\" nor \"OK decision=escalate "
	      "state=escalated\" (%s); %d allowed, %d escalated; first:\n"
	      "  %s\n  %s\n  %s", t->bad, NREQ, what, t->allowed, t->escalated,
	      t->first_bad[0], t->bad > 1 ? t->first_bad[1] : "",
	      t->bad > 2 ? t->first_bad[2] : "");
	CHECK(t->allowed == fit,
	      "%d of %d refunds of " AMOUNT " allowed against %s: expected "
	      "exactly %d", t->allowed, NREQ, what, fit);
}

/* The complaints in the DB agree with the answers: allowed resolved, the
 * others escalated, and the grants sum to allowed * AMOUNT. */
static void check_db(const long long *ids, int allowed)
{
	const char *arr = id_array(ids, NREQ);
	long long n, sum;

	n = tdb_int("SELECT count(*) FROM complaints WHERE id = ANY ($1::bigint[]) "
		    "AND state = 'resolved'", arr, NULL);
	CHECK(n == allowed, "%lld complaints resolved in the database, %d "
	      "answers said allow", n, allowed);
	n = tdb_int("SELECT count(*) FROM complaints WHERE id = ANY ($1::bigint[]) "
		    "AND state = 'escalated'", arr, NULL);
	CHECK(n == NREQ - allowed, "%lld complaints escalated in the "
	      "database, %d answers said escalate", n, NREQ - allowed);
	n = tdb_int("SELECT count(*) FROM grants WHERE complaint_id = ANY "
		    "($1::bigint[])", arr, NULL);
	sum = tdb_int("SELECT coalesce(sum(amount), 0) FROM grants WHERE "
		      "complaint_id = ANY ($1::bigint[])", arr, NULL);
	CHECK(n == allowed && sum == (long long)allowed * AMOUNT_MINOR,
	      "grants in the database: %lld summing to %lld minor units; "
	      "expected %d of " AMOUNT, n, sum, allowed);
}

/* ---- one agent's daily budget ------------------------------------------- */

static void budget_race(bool split)
{
	/* A tier 2 agent of our own: budget 300.00, nothing used today. */
	const char *agent = E2E_USER("agent", "tier=2 skills=billing");
	const char *who[NREQ];
	long long ids[NREQ];
	tc_conn *sup, *c;
	struct tc_resp *r;
	struct tally t;
	int i;
	long long used;

	if (split)
		E2E_NODE_START("second", NULL);
	sup = tc_session("sup1");
	/* One customer per complaint: the cap (150.00) never binds. */
	for (i = 0; i < NREQ; i++) {
		ids[i] = assigned_to(sup, E2E_CUSTOMER(sup, NULL), agent);
		who[i] = agent;
	}
	tc_close(&sup);

	race_resolve(who, ids, split, "daily-budget", &t);
	/* The guarantee first: never beyond the budget, whatever answered. */
	used = tdb_int("SELECT coalesce(sum(g.amount), 0) FROM grants g JOIN "
		       "users u ON u.id = g.granted_by WHERE u.name = $1",
		       agent, NULL);
	CHECK(used <= 30000, "%s was granted %lld minor units in all, over "
	      "the daily budget of 300.00", agent, used);
	check_tally(&t, 300 / 20, "a daily budget of 300.00");
	check_db(ids, t.allowed);
	c = tc_session(agent);
	r = E2E_OK(c, "RULES");
	TC_FIELD(r, "used_today", "300.00");
	TC_FIELD(r, "budget_left", "0.00");
}

static void test_budget_one_node(void **state)
{
	(void)state;
	budget_race(false);
}

static void test_budget_two_nodes(void **state)
{
	(void)state;
	budget_race(true);
}

/* ---- one customer's cap, several agents ------------------------------------ */

#define NAGENTS 4

static void cap_race(bool split)
{
	const char *agents[NAGENTS], *who[NREQ];
	long long ids[NREQ], cust, granted;
	tc_conn *sup;
	struct tc_resp *r;
	struct tally t;
	int i;

	if (split)
		E2E_NODE_START("second", NULL);
	/* Tier 3: refund 20.00 is far within limit and budget (600.00). */
	for (i = 0; i < NAGENTS; i++)
		agents[i] = E2E_USER("agent", "tier=3 skills=billing");
	sup = tc_session("sup1");
	cust = E2E_CUSTOMER(sup, NULL);
	for (i = 0; i < NREQ; i++) {
		who[i] = agents[i % NAGENTS];
		ids[i] = assigned_to(sup, cust, who[i]);
	}

	race_resolve(who, ids, split, "customer-cap", &t);
	/* The guarantee first: never beyond the cap, whatever answered. */
	granted = tdb_int("SELECT coalesce(sum(amount), 0) FROM grants WHERE "
			  "customer_id = $1::bigint", e2e_fmt("%lld", cust),
			  NULL);
	CHECK(granted <= 15000, "customer %lld was granted %lld minor units, "
	      "over the cap of 150.00", cust, granted);
	check_tally(&t, 150 / 20, "one customer's cap of 150.00");
	check_db(ids, t.allowed);
	tc_close(&sup);
	sup = tc_session("sup1");
	r = E2E_OK(sup, "CUSTOMER GET id=%lld", cust);
	TC_FIELD(r, "goodwill_30d", "140.00");
}

static void test_cap_one_node(void **state)
{
	(void)state;
	cap_race(false);
}

static void test_cap_two_nodes(void **state)
{
	(void)state;
	cap_race(true);
}

int e2e_group_race(void)
{
	const struct CMUnitTest tests[] = {
		/* A budget is per day (UTC): not across midnight. */
		cmocka_unit_test_setup_teardown(test_budget_one_node,
						e2e_same_day_setup, tc_teardown),
		cmocka_unit_test_teardown(test_cap_one_node, tc_teardown),
		cmocka_unit_test_setup_teardown(test_budget_two_nodes,
						e2e_same_day_setup,
						e2e_node_teardown),
		cmocka_unit_test_teardown(test_cap_two_nodes, e2e_node_teardown),
	};

	return cmocka_run_group_tests_name("race", tests, NULL, NULL);
}
