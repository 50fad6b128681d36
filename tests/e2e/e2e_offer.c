/* e2e_offer.c: the "offer" group: the server offering work to ready agents
 * (offer_work = yes, issue 4's optional push).
 *
 * A second node (e2e_node.h) runs with offer_work = yes and its own rules
 * file: tests/e2e/rules.conf plus a queue and a category "offers" that no
 * other test uses, so that nothing waiting from other tests is offered to
 * this group's agents, and the main node's catalogue (counted by other
 * groups) stays as it is. The main node does not offer (the default): its
 * NEXT tests would fail if it did.
 *
 * Checked: a waiting complaint goes to the ready agent idle longest, who
 * learns of it by a complaint event, on either node; capacity holds (the
 * complaint waits) until the agent resolves one, when it is offered at
 * once; an agent who is not ready gets nothing; the history says the
 * system assigned it ("offered"); an offer the agent leaves without
 * touching goes back to the queue (a system note) and is offered again, one
 * they touched stays theirs. */
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

#define OFFERS_RULES \
	"\n[queue offers]\n\n[category offers]\nqueue = offers\n" \
	"severity.1 = 1h 1d\nseverity.2 = 4h 2d\nseverity.3 = 1d 5d\n" \
	"severity.4 = 2d 10d\n"

/* Waits for the complaint event that tells agent `who` (on c) that the
 * complaint is theirs. */
static void expect_offered(tc_conn *c, const char *who, long long id)
{
	free(E2E_EVENT(c, "complaint", e2e_wait_ms(), "complaint",
		       e2e_fmt("%lld", id), "state", "assigned", "assignee", who,
		       NULL));
}

/* The complaint's state and assignee now. */
static void expect_complaint(tc_conn *c, long long id, const char *state,
			     const char *assignee)
{
	struct tc_resp *r = E2E_OK(c, "COMPLAINT GET id=%lld", id);

	TC_FIELD(r, "state", state);
	if (assignee != NULL)
		TC_FIELD(r, "assignee", assignee);
}

static void test_offer_longest_idle(void **state)
{
	const char *port;
	tc_conn *adm, *sup, *c1, *c2, *c3;
	const char *a1, *a2, *a3;
	long long cust, k1, k2, k3;
	struct tc_resp *r;
	size_t i;
	bool offered = false;

	(void)state;
	port = E2E_NODE_START_RULES("offer", "offer_work = yes", OFFERS_RULES);
	(void)port;
	/* The users need the node that knows the skill "offers". */
	adm = E2E_NODE_SESSION("admin1");
	a1 = e2e_uniq("of");
	a2 = e2e_uniq("of");
	a3 = e2e_uniq("of");
	E2E_OK(adm, "USER ADD name=%s role=agent tier=1 skills=offers "
	       "capacity=1 password=%s", a1, tc_q(tc_password()));
	E2E_OK(adm, "USER ADD name=%s role=agent tier=1 skills=offers "
	       "capacity=1 password=%s", a2, tc_q(tc_password()));
	E2E_OK(adm, "USER ADD name=%s role=agent tier=1 skills=offers "
	       "capacity=1 password=%s", a3, tc_q(tc_password()));
	sup = E2E_NODE_SESSION("sup1");
	/* a1 on the offering node, a2 on the main one: the offer reaches
	 * both. a3 logs in but stays not-ready. */
	c1 = E2E_NODE_SESSION(a1);
	c2 = tc_session(a2);
	c3 = E2E_NODE_SESSION(a3);
	E2E_OK(c1, "STATE SET state=ready");
	/* a1 has been idle longer, by a second (PINGs keep the sessions
	 * from their idle_timeout; they change no state). */
	E2E_SLEEP_BUSY(1100, c1, c2, c3, adm);
	E2E_OK(c2, "STATE SET state=ready");

	cust = E2E_CUSTOMER(sup, NULL);
	k1 = E2E_COMPLAINT(sup, cust, "offers", 3);
	expect_offered(c1, a1, k1);
	expect_complaint(sup, k1, "assigned", a1);
	k2 = E2E_COMPLAINT(sup, cust, "offers", 3);
	expect_offered(c2, a2, k2);
	expect_complaint(sup, k2, "assigned", a2);
	E2E_PING(c1, c3, adm);

	/* Both at capacity (1), a3 not ready: the third waits. (The offers
	 * above came within milliseconds of the opening; a second is long
	 * for a wrong one to show.) */
	k3 = E2E_COMPLAINT(sup, cust, "offers", 3);
	E2E_SLEEP_BUSY(1000, c1, c2, c3, adm);
	expect_complaint(sup, k3, "new", NULL);

	/* a1 resolves theirs: capacity frees, the third goes to a1, at
	 * once (the resolution's event starts a round). */
	E2E_OK(c1, "COMPLAINT RESOLVE id=%lld action=apology resolution=%s", k1,
	       tc_q("sorted"));
	expect_offered(c1, a1, k3);
	expect_complaint(sup, k3, "assigned", a1);
	E2E_PING(c3, adm);

	/* The history: assigned by the system, offered. */
	r = E2E_OK(sup, "COMPLAINT GET id=%lld", k1);
	for (i = 0; i < r->nrows; i++) {
		const char *ev = tc_row_get(r, i, "event");

		if (ev == NULL || strcmp(ev, "assigned") != 0)
			continue;
		E2E_ROW_FIELD(r, i, "by", "system");
		E2E_ROW_FIELD(r, i, "text", "offered");
		offered = true;
	}
	CHECK(offered, "COMPLAINT GET id=%lld: no \"assigned\" history row",
	      k1);
	/* a3 was never offered anything. */
	r = E2E_OK(c3, "COMPLAINT LIST assignee=me");
	E2E_NROWS(r, 0);

	/* a2 leaves without touching k2: it goes back to its queue, and is
	 * offered again when someone is ready (a3). a1 touched k3 (a note):
	 * it stays with a1 when a1 leaves. */
	E2E_OK(c1, "COMPLAINT NOTE id=%lld text=%s", k3, tc_q("looking"));
	tc_close(&c2);
	{
		int64_t end = e2e_mono_ms() + e2e_wait_ms();
		const char *st;

		do {
			r = E2E_OK(sup, "COMPLAINT GET id=%lld", k2);
			st = TC_HAS(r, "state");
			E2E_PING(c1, c3, adm);
		} while (strcmp(st, "new") != 0 && e2e_poll_sleep(end));
		CHECK(strcmp(st, "new") == 0, "complaint %lld offered to %s, "
		      "who left without touching it: state %s, expected new",
		      k2, a2, st);
		E2E_ROW_FIELD(r, r->nrows - 1, "event", "note");
		E2E_ROW_FIELD(r, r->nrows - 1, "by", "system");
		CHECK(strncmp(tc_row_get(r, r->nrows - 1, "text"),
			      "returned to the queue", 21) == 0,
		      "complaint %lld: last history text \"%s\"", k2,
		      tc_row_get(r, r->nrows - 1, "text"));
	}
	E2E_OK(c3, "STATE SET state=ready");
	expect_offered(c3, a3, k2);
	tc_close(&c1);
	E2E_SLEEP_BUSY(500, c3, adm);
	expect_complaint(sup, k3, "assigned", a1);
	tc_close(&c3);
}

int e2e_group_offer(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_offer_longest_idle,
					  e2e_node_teardown),
	};

	return cmocka_run_group_tests_name("offer", tests, NULL, NULL);
}
