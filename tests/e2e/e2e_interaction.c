/* e2e_interaction.c: the "interaction" group: INTERACTION START, NOTE, END
 * and GET (PROTOCOL.md §7): fields, times and duration, notes oldest first,
 * who may end an interaction, the channel, direction and outcome values,
 * the agent's activity while an interaction is open (§6). */
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
#include "tdb.h"

/* Seconds the server's clock and ours may differ by, plus rounding. */
#define SLACK 2

static long long start_interaction(tc_conn *c, long long customer,
				   const char *channel, const char *direction)
{
	struct tc_resp *r = E2E_OK(c, "INTERACTION START customer=%lld "
				   "channel=%s direction=%s", customer,
				   channel, direction);

	return E2E_NUM(r, "interaction");
}

static void test_interaction_lifecycle(void **state)
{
	static const char *const texts[] = {
		"first: customer called about invoice 42",
		"second: \"quoted\" and back\\slash, O'Brien; DROP TABLE notes;--",
		"third: Zoë 日本語 🎉\nwith a second line\tand a tab",
	};
	/* A user of its own: its activity depends on no other test. */
	const char *user = E2E_USER("agent", "skills=billing");
	tc_conn *c = tc_session(user);
	struct tc_resp *r;
	long long cust, id, note[3], dur;
	time_t t0 = time(NULL), t1, started, ended, at, prev_at = 0;
	size_t i;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=phone "
		   "direction=inbound", cust);
	id = E2E_NUM(r, "interaction");
	started = E2E_TIME(r, "started");
	t1 = time(NULL);
	CHECK(started >= t0 - SLACK && started <= t1 + SLACK,
	      "started=%s is not the time of the request (%lld..%lld)",
	      tc_get(r, "started"), (long long)t0, (long long)t1);

	/* A fresh interaction: no notes, not ended. */
	r = E2E_OK(c, "INTERACTION GET id=%lld", id);
	E2E_NROWS(r, 0);
	E2E_KEYS(r->final, "interaction", "customer", "complaint", "channel",
		 "direction", "agent", "started", "ended", "outcome");
	TC_FIELD(r, "interaction", e2e_fmt("%lld", id));
	TC_FIELD(r, "customer", e2e_fmt("%lld", cust));
	TC_FIELD(r, "complaint", "");
	TC_FIELD(r, "channel", "phone");
	TC_FIELD(r, "direction", "inbound");
	TC_FIELD(r, "agent", user);
	CHECK(E2E_TIME(r, "started") == started,
	      "GET started=%s, START said another time", tc_get(r, "started"));
	TC_FIELD(r, "ended", "");
	TC_FIELD(r, "outcome", "");

	/* While it is open the agent is in an interaction (§6). */
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "activity", "in-interaction");

	for (i = 0; i < NELEM(texts); i++) {
		r = E2E_OK(c, "INTERACTION NOTE id=%lld text=%s", id,
			   tc_q(texts[i]));
		note[i] = E2E_NUM(r, "note");
		CHECK(i == 0 || note[i] != note[i - 1],
		      "two notes got the same id %lld", note[i]);
	}
	/* Notes oldest first, each with its author, time and exact text. */
	r = E2E_OK(c, "INTERACTION GET id=%lld", id);
	E2E_NROWS(r, 3);
	for (i = 0; i < 3; i++) {
		E2E_KEYS(r->rows[i], "note", "at", "by", "text");
		E2E_ROW_FIELD(r, i, "note", e2e_fmt("%lld", note[i]));
		E2E_ROW_FIELD(r, i, "by", user);
		E2E_ROW_FIELD(r, i, "text", texts[i]);
		at = E2E_ROW_TIME(r, i, "at");
		CHECK(at >= started - SLACK && at <= time(NULL) + SLACK,
		      "note %zu at=%s is outside the interaction", i,
		      tc_row_get(r, i, "at"));
		CHECK(at >= prev_at, "notes are not oldest first: %s after %lld",
		      tc_row_get(r, i, "at"), (long long)prev_at);
		prev_at = at;
	}
	/* Stored verbatim. */
	{
		char *db = tdb_value("SELECT text FROM notes WHERE id = $1",
				     e2e_fmt("%lld", note[1]), NULL);

		CHECK(db != NULL && strcmp(db, texts[1]) == 0,
		      "note %lld: expected \"%s\" in the database, got \"%s\"",
		      note[1], texts[1], db ? db : "(NULL)");
		free(db);
	}

	/* End it after a while: the duration is whole seconds. */
	e2e_sleep_ms(2100);
	r = E2E_OK(c, "INTERACTION END id=%lld outcome=follow-up", id);
	dur = E2E_NUM(r, "duration");
	t1 = time(NULL);
	CHECK(dur >= 1 && dur <= (long long)(t1 - t0) + SLACK,
	      "duration=%lld, expected about %lld seconds", dur,
	      (long long)(t1 - t0));
	r = E2E_OK(c, "INTERACTION GET id=%lld", id);
	E2E_NROWS(r, 3);
	TC_FIELD(r, "outcome", "follow-up");
	ended = E2E_TIME(r, "ended");
	CHECK(ended >= started, "ended=%s before started=%s",
	      tc_get(r, "ended"), tc_get(r, "started"));
	CHECK(llabs((long long)(ended - started) - dur) <= 1,
	      "duration=%lld but ended - started = %lld s", dur,
	      (long long)(ended - started));
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "activity", "idle");
}

static void test_interaction_end_twice(void **state)
{
	tc_conn *c = tc_session("agent1");
	long long id;

	(void)state;
	id = start_interaction(c, E2E_CUSTOMER(c, NULL), "chat", "outbound");
	E2E_OK(c, "INTERACTION END id=%lld outcome=resolved", id);
	E2E_EXPECT(c, "NO", "invalid-state",
		   "INTERACTION END id=%lld outcome=resolved", id);
	E2E_EXPECT(c, "NO", "invalid-state",
		   "INTERACTION END id=%lld outcome=abandoned", id);
	{
		struct tc_resp *r = E2E_OK(c, "INTERACTION GET id=%lld", id);

		TC_FIELD(r, "outcome", "resolved");
	}
}

static void test_interaction_end_by_other(void **state)
{
	tc_conn *a1 = tc_session("agent1");
	tc_conn *a2 = tc_session("agent2");
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r;
	long long id, id2;

	(void)state;
	id = start_interaction(a1, E2E_CUSTOMER(a1, NULL), "email", "inbound");
	/* Another agent may not end it... */
	E2E_EXPECT(a2, "NO", "forbidden",
		   "INTERACTION END id=%lld outcome=resolved", id);
	r = E2E_OK(a1, "INTERACTION GET id=%lld", id);
	TC_FIELD(r, "ended", "");
	/* ...a supervisor may. */
	r = E2E_OK(sup, "INTERACTION END id=%lld outcome=transferred", id);
	E2E_NUM(r, "duration");
	r = E2E_OK(a1, "INTERACTION GET id=%lld", id);
	TC_FIELD(r, "outcome", "transferred");
	TC_FIELD(r, "agent", "agent1");
	/* Authority comes before state: still forbidden once ended. */
	E2E_EXPECT(a2, "NO", "forbidden",
		   "INTERACTION END id=%lld outcome=resolved", id);
	E2E_EXPECT(sup, "NO", "invalid-state",
		   "INTERACTION END id=%lld outcome=resolved", id);

	/* The owner ends their own. */
	id2 = start_interaction(a2, E2E_CUSTOMER(a2, NULL), "web", "inbound");
	E2E_EXPECT(a1, "NO", "forbidden",
		   "INTERACTION END id=%lld outcome=abandoned", id2);
	E2E_OK(a2, "INTERACTION END id=%lld outcome=abandoned", id2);
}

static void test_interaction_enums(void **state)
{
	static const char *const channels[] = { "phone", "chat", "email",
						"web", "walk-in", "social" };
	static const char *const directions[] = { "inbound", "outbound" };
	static const char *const outcomes[] = { "resolved", "follow-up",
						"transferred", "abandoned" };
	static const char *const bad_channels[] = { "fax", "Phone", "PHONE",
						    "walkin", "\"\"", "sms" };
	static const char *const bad_directions[] = { "in", "Inbound",
						      "sideways", "\"\"" };
	static const char *const bad_outcomes[] = { "done", "Resolved",
						    "follow_up", "\"\"" };
	tc_conn *c = tc_session("agent2");
	struct tc_resp *r;
	long long cust, id;
	size_t i, j, k = 0;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	for (i = 0; i < NELEM(channels); i++) {
		for (j = 0; j < NELEM(directions); j++) {
			const char *outcome = outcomes[k++ % NELEM(outcomes)];

			id = start_interaction(c, cust, channels[i],
					       directions[j]);
			E2E_OK(c, "INTERACTION END id=%lld outcome=%s", id,
			       outcome);
			r = E2E_OK(c, "INTERACTION GET id=%lld", id);
			TC_FIELD(r, "channel", channels[i]);
			TC_FIELD(r, "direction", directions[j]);
			TC_FIELD(r, "outcome", outcome);
		}
	}
	for (i = 0; i < NELEM(bad_channels); i++)
		E2E_EXPECT(c, "BAD", "bad-arg", "INTERACTION START customer=%lld "
			   "channel=%s direction=inbound", cust, bad_channels[i]);
	for (i = 0; i < NELEM(bad_directions); i++)
		E2E_EXPECT(c, "BAD", "bad-arg", "INTERACTION START customer=%lld "
			   "channel=phone direction=%s", cust, bad_directions[i]);
	id = start_interaction(c, cust, "phone", "inbound");
	for (i = 0; i < NELEM(bad_outcomes); i++)
		E2E_EXPECT(c, "BAD", "bad-arg",
			   "INTERACTION END id=%lld outcome=%s", id,
			   bad_outcomes[i]);
	/* The bad requests changed nothing. */
	r = E2E_OK(c, "INTERACTION GET id=%lld", id);
	TC_FIELD(r, "ended", "");
	E2E_OK(c, "INTERACTION END id=%lld outcome=resolved", id);
}

static void test_interaction_args(void **state)
{
	tc_conn *c = tc_session("agent1");
	long long cust, id;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	E2E_EXPECT(c, "BAD", "missing-arg",
		   "INTERACTION START customer=%lld direction=inbound", cust);
	E2E_EXPECT(c, "BAD", "missing-arg",
		   "INTERACTION START customer=%lld channel=phone", cust);
	E2E_EXPECT(c, "BAD", "missing-arg",
		   "INTERACTION START channel=phone direction=inbound");
	E2E_EXPECT(c, "BAD", "bad-arg", "INTERACTION START customer=0 "
		   "channel=phone direction=inbound");
	E2E_EXPECT(c, "BAD", "bad-arg", "INTERACTION START customer=%lld "
		   "channel=phone direction=inbound complaint=01", cust);
	id = start_interaction(c, cust, "phone", "inbound");
	E2E_EXPECT(c, "BAD", "missing-arg", "INTERACTION NOTE id=%lld", id);
	E2E_EXPECT(c, "BAD", "missing-arg", "INTERACTION NOTE text=hello");
	E2E_EXPECT(c, "BAD", "missing-arg", "INTERACTION END id=%lld", id);
	E2E_EXPECT(c, "BAD", "missing-arg", "INTERACTION GET");
	E2E_EXPECT(c, "BAD", "bad-arg",
		   "INTERACTION NOTE id=%lld text=a text=b", id);
	E2E_EXPECT(c, "BAD", "bad-arg",
		   "INTERACTION NOTE id=%lld text=hi mood=happy", id);
	E2E_EXPECT(c, "BAD", "unknown-verb", "INTERACTION PAUSE id=%lld", id);
	{
		struct tc_resp *r = E2E_OK(c, "INTERACTION GET id=%lld", id);

		E2E_NROWS(r, 0);
	}
	E2E_OK(c, "INTERACTION END id=%lld outcome=resolved", id);
}

static void test_interaction_not_found(void **state)
{
	tc_conn *c = tc_session(E2E_USER("agent", ""));
	long long cust;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	E2E_EXPECT(c, "NO", "not-found", "INTERACTION START customer=987654321987 "
		   "channel=phone direction=inbound");
	E2E_EXPECT(c, "NO", "not-found", "INTERACTION START customer=%lld "
		   "channel=phone direction=inbound complaint=987654321987", cust);
	E2E_EXPECT(c, "NO", "not-found",
		   "INTERACTION NOTE id=987654321987 text=hello");
	E2E_EXPECT(c, "NO", "not-found",
		   "INTERACTION END id=987654321987 outcome=resolved");
	E2E_EXPECT(c, "NO", "not-found", "INTERACTION GET id=987654321987");
	E2E_EXPECT(c, "NO", "not-found",
		   "INTERACTION GET id=9223372036854775807");
	/* The failed START left the agent idle. */
	{
		struct tc_resp *r = E2E_OK(c, "STATE");

		TC_FIELD(r, "activity", "idle");
	}
}

static void test_interaction_on_complaint(void **state)
{
	tc_conn *c = tc_session("agent1");
	struct tc_resp *r;
	long long cust, comp, id;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	comp = E2E_COMPLAINT(c, cust, "billing", 2);
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=walk-in "
		   "direction=inbound complaint=%lld", cust, comp);
	id = E2E_NUM(r, "interaction");
	r = E2E_OK(c, "INTERACTION GET id=%lld", id);
	TC_FIELD(r, "complaint", e2e_fmt("%lld", comp));
	TC_FIELD(r, "customer", e2e_fmt("%lld", cust));
	TC_FIELD(r, "channel", "walk-in");
	E2E_OK(c, "INTERACTION NOTE id=%lld text=%s", id,
	       tc_q("on the complaint"));
	E2E_OK(c, "INTERACTION END id=%lld outcome=resolved", id);
}

int e2e_group_interaction(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_interaction_lifecycle,
					  tc_teardown),
		cmocka_unit_test_teardown(test_interaction_end_twice,
					  tc_teardown),
		cmocka_unit_test_teardown(test_interaction_end_by_other,
					  tc_teardown),
		cmocka_unit_test_teardown(test_interaction_enums, tc_teardown),
		cmocka_unit_test_teardown(test_interaction_args, tc_teardown),
		cmocka_unit_test_teardown(test_interaction_not_found,
					  tc_teardown),
		cmocka_unit_test_teardown(test_interaction_on_complaint,
					  tc_teardown),
	};

	return cmocka_run_group_tests_name("interaction", tests, NULL, NULL);
}
