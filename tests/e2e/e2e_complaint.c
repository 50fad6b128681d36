/* e2e_complaint.c: the "complaint" group: COMPLAINT OPEN (deadlines from
 * the service levels of tests/e2e/rules.conf), GET and its history, LIST
 * and its filters, NOTE, TAKE, the state machine of PROTOCOL.md §8 (every
 * move this build has, and refused ones), CLOSE's order of refusals,
 * REOPEN, RESOLVE with the actions that carry no money, WAIT and RESUME. */
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

/* Seconds our clock and the server's may differ by, with rounding. */
#define SLACK 2
#define MISSING "987654321987"

#define H 3600
#define D 86400

/* ---- helpers ------------------------------------------------------------ */

/* The state of complaint id, as COMPLAINT GET says. */
static const char *state_of(tc_conn *c, long long id)
{
	struct tc_resp *r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	const char *s = tc_get(r, "state");

	return s != NULL ? s : "(no state field)";
}

#define EXPECT_STATE(c, id, want)                                          \
	do {                                                               \
		const char *got_ = state_of((c), (id));                    \
		CHECK(strcmp(got_, (want)) == 0,                           \
		      "complaint %lld: expected state=%s, got state=%s",   \
		      (long long)(id), (want), got_);                      \
	} while (0)

/* Brings a new complaint to state, acting as the agent a (who becomes the
 * assignee). */
static void drive(tc_conn *a, long long id, const char *state)
{
	if (strcmp(state, "new") == 0)
		return;
	E2E_OK(a, "COMPLAINT TAKE id=%lld", id);
	if (strcmp(state, "assigned") == 0)
		return;
	if (strcmp(state, "waiting") == 0) {
		E2E_OK(a, "COMPLAINT WAIT id=%lld reason=%s", id,
		       tc_q("waiting for the customer"));
		return;
	}
	E2E_OK(a, "COMPLAINT RESOLVE id=%lld action=apology resolution=%s",
	       id, tc_q("we are sorry"));
	if (strcmp(state, "resolved") == 0)
		return;
	E2E_OK(a, "COMPLAINT NOTE id=%lld text=%s reply=yes", id,
	       tc_q("answered the customer"));
	E2E_OK(a, "COMPLAINT CLOSE id=%lld", id);
	if (strcmp(state, "closed") == 0)
		return;
	E2E_OK(a, "COMPLAINT REOPEN id=%lld reason=%s", id,
	       tc_q("the customer called back"));
	assert_string_equal(state, "reopened");
}

/* A deadline field is base + within (within the time the request took). */
#define EXPECT_DEADLINE(r, key, t0, t1, within)                            \
	do {                                                               \
		time_t got_ = E2E_TIME((r), (key));                        \
		long long lo_ = (long long)(t0) + (within) - SLACK;        \
		long long hi_ = (long long)(t1) + (within) + SLACK;        \
		CHECK(got_ >= lo_ && got_ <= hi_,                          \
		      "%s=%s: expected now + %d s (%lld..%lld), got %lld " \
		      "(off by %lld s)", (key), tc_get((r), (key)),        \
		      (int)(within), lo_, hi_, (long long)got_,            \
		      (long long)got_ - ((long long)(t0) + (within)));     \
	} while (0)

/* ---- OPEN and GET --------------------------------------------------------- */

static void test_complaint_open_deadlines(void **state)
{
	static const struct {
		const char *category, *queue;
		int severity, respond, resolve;
	} cases[] = {
		{ "billing", "billing", 1, 1 * H, 1 * D },
		{ "billing", "billing", 2, 4 * H, 2 * D },
		{ "billing", "billing", 3, 1 * D, 5 * D },
		{ "billing", "billing", 4, 2 * D, 10 * D },
		{ "technical", "tech", 1, 30 * 60, 8 * H },
		{ "technical", "tech", 2, 2 * H, 1 * D },
		{ "technical", "tech", 4, 2 * D, 7 * D },
		{ "general", "general", 2, 8 * H, 3 * D },
		{ "general", "general", 4, 3 * D, 14 * D },
		{ "fast", "urgent", 3, 5, 10 },
	};
	tc_conn *c = tc_session("agent1");
	long long cust;
	size_t i;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	for (i = 0; i < NELEM(cases); i++) {
		const char *summary = e2e_uniq("Invoice wrong, case ");
		time_t t0 = time(NULL), t1;
		struct tc_resp *r, *g;
		long long id;

		r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=%s "
			   "severity=%d summary=%s", cust, cases[i].category,
			   cases[i].severity, tc_q(summary));
		t1 = time(NULL);
		E2E_KEYS(r->final, "complaint", "state", "queue", "respond_by",
			 "resolve_by");
		id = E2E_NUM(r, "complaint");
		TC_FIELD(r, "state", "new");
		TC_FIELD(r, "queue", cases[i].queue);
		EXPECT_DEADLINE(r, "respond_by", t0, t1, cases[i].respond);
		EXPECT_DEADLINE(r, "resolve_by", t0, t1, cases[i].resolve);

		g = E2E_OK(c, "COMPLAINT GET id=%lld", id);
		E2E_KEYS(g->final, "complaint", "customer", "state", "queue",
			 "category", "severity", "assignee", "respond_by",
			 "resolve_by", "summary");
		TC_FIELD(g, "complaint", e2e_fmt("%lld", id));
		TC_FIELD(g, "customer", e2e_fmt("%lld", cust));
		TC_FIELD(g, "state", "new");
		TC_FIELD(g, "queue", cases[i].queue);
		TC_FIELD(g, "category", cases[i].category);
		TC_FIELD(g, "severity", e2e_fmt("%d", cases[i].severity));
		TC_FIELD(g, "assignee", "");
		TC_FIELD(g, "summary", summary);
		TC_FIELD(g, "respond_by", tc_get(r, "respond_by"));
		TC_FIELD(g, "resolve_by", tc_get(r, "resolve_by"));
	}
}

static void test_complaint_open_queue_and_interaction(void **state)
{
	tc_conn *c = tc_session("agent1");
	struct tc_resp *r;
	long long cust, ia, id;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	/* queue= puts it in another queue; the deadlines stay the
	 * category's. */
	r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=billing "
		   "severity=1 summary=x queue=general", cust);
	TC_FIELD(r, "queue", "general");
	id = E2E_NUM(r, "complaint");
	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "queue", "general");
	TC_FIELD(r, "category", "billing");

	/* Opened from an interaction. */
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=phone "
		   "direction=inbound", cust);
	ia = E2E_NUM(r, "interaction");
	r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=technical "
		   "severity=2 summary=%s interaction=%lld", cust,
		   tc_q("line drops"), ia);
	TC_FIELD(r, "state", "new");
	E2E_OK(c, "INTERACTION END id=%lld outcome=follow-up", ia);
}

static void test_complaint_open_bad(void **state)
{
	tc_conn *c = tc_session("agent1");
	long long cust;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	E2E_EXPECT(c, "NO", "not-found", "COMPLAINT OPEN customer=%lld "
		   "category=nosuch severity=1 summary=x", cust);
	E2E_EXPECT(c, "NO", "not-found", "COMPLAINT OPEN customer=%lld "
		   "category=billing severity=1 summary=x queue=nosuch", cust);
	E2E_EXPECT(c, "NO", "not-found", "COMPLAINT OPEN customer=" MISSING
		   " category=billing severity=1 summary=x");
	E2E_EXPECT(c, "NO", "not-found", "COMPLAINT OPEN customer=%lld "
		   "category=billing severity=1 summary=x interaction=" MISSING,
		   cust);
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT OPEN customer=%lld "
		   "category=billing severity=0 summary=x", cust);
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT OPEN customer=%lld "
		   "category=billing severity=5 summary=x", cust);
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT OPEN customer=%lld "
		   "category=billing severity=high summary=x", cust);
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT OPEN customer=%lld "
		   "category=Billing severity=1 summary=x", cust);
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT OPEN customer=0 "
		   "category=billing severity=1 summary=x");
	E2E_EXPECT(c, "BAD", "missing-arg", "COMPLAINT OPEN customer=%lld "
		   "category=billing severity=1", cust);
	E2E_EXPECT(c, "BAD", "missing-arg", "COMPLAINT OPEN customer=%lld "
		   "severity=1 summary=x", cust);
	E2E_EXPECT(c, "BAD", "missing-arg", "COMPLAINT OPEN customer=%lld "
		   "category=billing summary=x", cust);
	E2E_EXPECT(c, "BAD", "missing-arg",
		   "COMPLAINT OPEN category=billing severity=1 summary=x");
	/* Arguments before objects: a bad severity on a missing category. */
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT OPEN customer=%lld "
		   "category=nosuch severity=9 summary=x", cust);
	/* None of these opened anything. */
	{
		struct tc_resp *r = E2E_OK(c, "COMPLAINT LIST customer=%lld",
					   cust);

		E2E_NROWS(r, 0);
	}
}

/* Every event of a complaint's life, in order, with who and what. */
static void test_complaint_history(void **state)
{
	static const struct {
		const char *event, *text;
	} want[] = {
		{ "opened", NULL },
		{ "note", "first look: the \"invoice\" is wrong" },
		{ "reply", "Dear customer, we are on it" },
		{ "assigned", NULL },
		{ "waiting", "waiting for the customer's bank statement" },
		{ "resumed", NULL },
		{ "resolved", "credit note issued; apologised" },
		{ "closed", NULL },
		{ "reopened", "customer says it is not fixed" },
	};
	tc_conn *c = tc_session("agent2");
	struct tc_resp *r;
	long long cust, id;
	time_t prev = 0;
	size_t i;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	id = E2E_COMPLAINT(c, cust, "billing", 2);
	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "event", "opened");

	E2E_OK(c, "COMPLAINT NOTE id=%lld text=%s", id, tc_q(want[1].text));
	E2E_OK(c, "COMPLAINT NOTE id=%lld text=%s reply=yes", id,
	       tc_q(want[2].text));
	r = E2E_OK(c, "COMPLAINT TAKE id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	r = E2E_OK(c, "COMPLAINT WAIT id=%lld reason=%s", id,
		   tc_q(want[4].text));
	TC_FIELD(r, "state", "waiting");
	r = E2E_OK(c, "COMPLAINT RESUME id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	r = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=explanation "
		   "resolution=%s", id, tc_q(want[6].text));
	TC_FIELD(r, "state", "resolved");
	r = E2E_OK(c, "COMPLAINT CLOSE id=%lld", id);
	TC_FIELD(r, "state", "closed");
	r = E2E_OK(c, "COMPLAINT REOPEN id=%lld reason=%s", id,
		   tc_q(want[8].text));
	TC_FIELD(r, "state", "reopened");

	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	E2E_NROWS(r, NELEM(want));
	for (i = 0; i < NELEM(want); i++) {
		time_t at;

		E2E_KEYS(r->rows[i], "at", "by", "event", "text");
		E2E_ROW_FIELD(r, i, "event", want[i].event);
		E2E_ROW_FIELD(r, i, "by", "agent2");
		if (want[i].text != NULL)
			E2E_ROW_FIELD(r, i, "text", want[i].text);
		at = E2E_ROW_TIME(r, i, "at");
		CHECK(at >= prev, "history not oldest first: row %zu at=%s",
		      i, tc_row_get(r, i, "at"));
		CHECK(llabs((long long)(at - time(NULL))) < 60,
		      "row %zu at=%s is not about now", i,
		      tc_row_get(r, i, "at"));
		prev = at;
	}
	/* Entries without a note, reason or resolution have text="". (This
	 * build puts the summary in "opened" and the assignee in "assigned":
	 * not checked.) */
	E2E_ROW_FIELD(r, 5, "text", "");
	E2E_ROW_FIELD(r, 7, "text", "");
	TC_FIELD(r, "state", "reopened");
}

/* ---- LIST ------------------------------------------------------------------ */

static void test_complaint_list_filters(void **state)
{
	tc_conn *a1 = tc_session("agent1");
	tc_conn *a2 = tc_session("agent2");
	struct tc_resp *r;
	long long cust, k[4];
	size_t i;

	(void)state;
	cust = E2E_CUSTOMER(a1, NULL);
	k[0] = E2E_COMPLAINT(a1, cust, "billing", 1);
	k[1] = E2E_COMPLAINT(a1, cust, "technical", 2);
	k[2] = E2E_COMPLAINT(a1, cust, "general", 3);
	k[3] = E2E_COMPLAINT(a1, cust, "billing", 4);
	E2E_OK(a2, "COMPLAINT TAKE id=%lld", k[1]);
	E2E_OK(a1, "COMPLAINT TAKE id=%lld", k[3]);

	/* customer=: all four, oldest first, every field. */
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld", cust);
	E2E_NROWS(r, 4);
	TC_FIELD(r, "count", "4");
	TC_FIELD(r, "more", "no");
	for (i = 0; i < 4; i++) {
		E2E_KEYS(r->rows[i], "complaint", "state", "queue", "category",
			 "severity", "assignee", "customer", "resolve_by");
		E2E_ROW_FIELD(r, i, "complaint", e2e_fmt("%lld", k[i]));
		E2E_ROW_FIELD(r, i, "customer", e2e_fmt("%lld", cust));
		E2E_ROW_TIME(r, i, "resolve_by");
	}
	E2E_ROW_FIELD(r, 0, "state", "new");
	E2E_ROW_FIELD(r, 0, "queue", "billing");
	E2E_ROW_FIELD(r, 0, "category", "billing");
	E2E_ROW_FIELD(r, 0, "severity", "1");
	E2E_ROW_FIELD(r, 0, "assignee", "");
	E2E_ROW_FIELD(r, 1, "state", "assigned");
	E2E_ROW_FIELD(r, 1, "queue", "tech");
	E2E_ROW_FIELD(r, 1, "category", "technical");
	E2E_ROW_FIELD(r, 1, "assignee", "agent2");
	E2E_ROW_FIELD(r, 2, "queue", "general");
	E2E_ROW_FIELD(r, 3, "assignee", "agent1");

	/* state= */
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld state=new", cust);
	E2E_NROWS(r, 2);
	E2E_ROW_FIELD(r, 0, "complaint", e2e_fmt("%lld", k[0]));
	E2E_ROW_FIELD(r, 1, "complaint", e2e_fmt("%lld", k[2]));
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld state=closed", cust);
	E2E_NROWS(r, 0);
	TC_FIELD(r, "count", "0");
	TC_FIELD(r, "more", "no");

	/* queue= */
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld queue=tech", cust);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "complaint", e2e_fmt("%lld", k[1]));

	/* assignee=me is the caller; assignee=NAME that user. */
	r = E2E_OK(a2, "COMPLAINT LIST customer=%lld assignee=me", cust);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "complaint", e2e_fmt("%lld", k[1]));
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld assignee=me", cust);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "complaint", e2e_fmt("%lld", k[3]));
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld assignee=agent2", cust);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "complaint", e2e_fmt("%lld", k[1]));
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld assignee=agent3", cust);
	E2E_NROWS(r, 0);

	/* Several filters: all must hold. */
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld state=assigned "
		   "queue=billing", cust);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "complaint", e2e_fmt("%lld", k[3]));
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld state=new queue=tech",
		   cust);
	E2E_NROWS(r, 0);

	/* limit= and more= */
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld limit=3", cust);
	E2E_NROWS(r, 3);
	TC_FIELD(r, "count", "3");
	TC_FIELD(r, "more", "yes");
	E2E_ROW_FIELD(r, 2, "complaint", e2e_fmt("%lld", k[2]));
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld limit=1", cust);
	E2E_NROWS(r, 1);
	TC_FIELD(r, "more", "yes");
	E2E_ROW_FIELD(r, 0, "complaint", e2e_fmt("%lld", k[0]));
	r = E2E_OK(a1, "COMPLAINT LIST customer=%lld limit=4", cust);
	E2E_NROWS(r, 4);
	TC_FIELD(r, "more", "no");

	/* No filter: at most the default 100, count says how many. */
	r = E2E_OK(a1, "COMPLAINT LIST");
	CHECK(r->nrows <= 100, "COMPLAINT LIST sent %zu rows, default limit "
	      "is 100", r->nrows);
	TC_FIELD(r, "count", e2e_fmt("%zu", r->nrows));
}

static void test_complaint_list_bad(void **state)
{
	tc_conn *c = tc_session("agent1");

	(void)state;
	/* A filter naming a missing object is not-found. */
	E2E_EXPECT(c, "NO", "not-found", "COMPLAINT LIST customer=" MISSING);
	E2E_EXPECT(c, "NO", "not-found", "COMPLAINT LIST queue=nosuch");
	E2E_EXPECT(c, "NO", "not-found", "COMPLAINT LIST assignee=nosuchuser");
	E2E_EXPECT(c, "NO", "not-found",
		   "COMPLAINT LIST state=new assignee=nosuchuser");
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT LIST state=open");
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT LIST state=NEW");
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT LIST assignee=Agent1");
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT LIST queue=Bad!");
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT LIST customer=0");
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT LIST limit=0");
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT LIST limit=1001");
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT LIST colour=red");
	/* Arguments before objects. */
	E2E_EXPECT(c, "BAD", "bad-arg", "COMPLAINT LIST queue=nosuch limit=0");
	E2E_OK(c, "COMPLAINT LIST limit=1000");
}

/* ---- NOTE and TAKE -------------------------------------------------------- */

static void test_complaint_note_every_state(void **state)
{
	static const char *const states[] = { "new", "assigned", "waiting",
					      "resolved", "closed",
					      "reopened" };
	tc_conn *a1 = tc_session("agent1");
	tc_conn *a3 = tc_session("agent3");
	long long cust;
	size_t i;

	(void)state;
	cust = E2E_CUSTOMER(a1, NULL);
	for (i = 0; i < NELEM(states); i++) {
		long long id = E2E_COMPLAINT(a1, cust, "billing", 3);
		const char *text = e2e_uniq("a note in state ");
		struct tc_resp *r;

		drive(a1, id, states[i]);
		EXPECT_STATE(a1, id, states[i]);
		/* The assignee, and another agent, in every state. */
		E2E_OK(a1, "COMPLAINT NOTE id=%lld text=%s", id, tc_q(text));
		E2E_OK(a3, "COMPLAINT NOTE id=%lld text=%s reply=yes", id,
		       tc_q(text));
		E2E_OK(a3, "COMPLAINT NOTE id=%lld text=%s reply=no", id,
		       tc_q(text));
		EXPECT_STATE(a1, id, states[i]);
		r = E2E_OK(a3, "COMPLAINT GET id=%lld", id);
		CHECK(r->nrows >= 3, "expected the notes in the history");
		E2E_ROW_FIELD(r, r->nrows - 3, "event", "note");
		E2E_ROW_FIELD(r, r->nrows - 3, "by", "agent1");
		E2E_ROW_FIELD(r, r->nrows - 3, "text", text);
		E2E_ROW_FIELD(r, r->nrows - 2, "event", "reply");
		E2E_ROW_FIELD(r, r->nrows - 2, "by", "agent3");
		E2E_ROW_FIELD(r, r->nrows - 1, "event", "note");
	}
	E2E_EXPECT(a1, "NO", "not-found", "COMPLAINT NOTE id=" MISSING " text=x");
	E2E_EXPECT(a1, "BAD", "missing-arg", "COMPLAINT NOTE id=1");
	E2E_EXPECT(a1, "BAD", "bad-arg", "COMPLAINT NOTE id=1 text=x reply=maybe");
}

static void test_complaint_take(void **state)
{
	tc_conn *a1 = tc_session("agent1");
	tc_conn *a2 = tc_session("agent2");
	struct tc_resp *r;
	long long cust, id;

	(void)state;
	cust = E2E_CUSTOMER(a1, NULL);
	id = E2E_COMPLAINT(a1, cust, "technical", 3);
	r = E2E_OK(a2, "COMPLAINT TAKE id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	r = E2E_OK(a1, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	TC_FIELD(r, "assignee", "agent2");
	/* Taken: nobody takes it again, the holder included. */
	E2E_EXPECT(a1, "NO", "invalid-state", "COMPLAINT TAKE id=%lld", id);
	E2E_EXPECT(a2, "NO", "invalid-state", "COMPLAINT TAKE id=%lld", id);
	r = E2E_OK(a1, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "assignee", "agent2");
	E2E_ROW_FIELD(r, r->nrows - 1, "event", "assigned");
	E2E_EXPECT(a1, "NO", "not-found", "COMPLAINT TAKE id=" MISSING);
	E2E_EXPECT(a1, "BAD", "bad-arg", "COMPLAINT TAKE id=-3");
	E2E_EXPECT(a1, "BAD", "missing-arg", "COMPLAINT TAKE");
}

/* ---- the state machine --------------------------------------------------- */

/* Every move of §8 this build has, one after the other. */
static void test_complaint_fsm_allowed(void **state)
{
	tc_conn *a = tc_session("agent3");
	struct tc_resp *r;
	long long cust, id;

	(void)state;
	cust = E2E_CUSTOMER(a, NULL);
	id = E2E_COMPLAINT(a, cust, "general", 2);
	EXPECT_STATE(a, id, "new");
	r = E2E_OK(a, "COMPLAINT TAKE id=%lld", id);          /* new */
	TC_FIELD(r, "state", "assigned");
	r = E2E_OK(a, "COMPLAINT WAIT id=%lld reason=r", id); /* assigned */
	TC_FIELD(r, "state", "waiting");
	EXPECT_STATE(a, id, "waiting");
	r = E2E_OK(a, "COMPLAINT RESUME id=%lld", id);        /* waiting */
	TC_FIELD(r, "state", "assigned");
	E2E_TIME(r, "resolve_by");
	r = E2E_OK(a, "COMPLAINT RESOLVE id=%lld action=repair "
		   "resolution=fixed", id);                   /* assigned */
	TC_FIELD(r, "state", "resolved");
	E2E_OK(a, "COMPLAINT NOTE id=%lld text=done reply=yes", id);
	r = E2E_OK(a, "COMPLAINT CLOSE id=%lld", id);         /* resolved */
	TC_FIELD(r, "state", "closed");
	EXPECT_STATE(a, id, "closed");
	r = E2E_OK(a, "COMPLAINT REOPEN id=%lld reason=again", id); /* closed */
	TC_FIELD(r, "state", "reopened");
	EXPECT_STATE(a, id, "reopened");
	r = E2E_OK(a, "COMPLAINT TAKE id=%lld", id);          /* reopened */
	TC_FIELD(r, "state", "assigned");
	r = E2E_OK(a, "COMPLAINT RESOLVE id=%lld action=callback "
		   "resolution=called", id);
	TC_FIELD(r, "state", "resolved");
	r = E2E_OK(a, "COMPLAINT REOPEN id=%lld reason=%s", id,
		   tc_q("not fixed")); /* resolved */
	TC_FIELD(r, "state", "reopened");
	EXPECT_STATE(a, id, "reopened");
}

/* Every other move is invalid-state, and changes nothing. The supervisor
 * asks, so that authority (checked before state) is never the reason. */
static void test_complaint_fsm_refused(void **state)
{
	static const char *const verbs[] = {
		"TAKE", "WAIT", "RESUME", "RESOLVE", "CLOSE", "REOPEN",
	};
	static const char *const args[] = {
		"", " reason=r", "", " action=apology resolution=r", "",
		" reason=r",
	};
	static const struct {
		const char *state;
		const char *refused; /* initials of verbs[]: T W U S C R */
	} cases[] = {
		{ "new", "WUSCR" },
		{ "assigned", "TUCR" },
		{ "waiting", "TWSCR" },
		{ "resolved", "TWUS" },
		{ "closed", "TWUSC" },
		{ "reopened", "WUSCR" },
	};
	static const char initials[] = "TWUSCR";
	tc_conn *a = tc_session("agent1");
	tc_conn *sup = tc_session("sup1");
	long long cust;
	size_t i, v;

	(void)state;
	cust = E2E_CUSTOMER(a, NULL);
	for (i = 0; i < NELEM(cases); i++) {
		long long id = E2E_COMPLAINT(a, cust, "billing", 2);

		drive(a, id, cases[i].state);
		for (v = 0; v < NELEM(verbs); v++) {
			struct tc_resp *r;

			if (strchr(cases[i].refused, initials[v]) == NULL)
				continue;
			r = tc_cmd(sup, "COMPLAINT %s id=%lld%s", verbs[v], id,
				   args[v]);
			if (strcmp(r->word, "NO") != 0 ||
			    strcmp(r->code, "invalid-state") != 0)
				print_error("COMPLAINT %s in state %s:\n",
					    verbs[v], cases[i].state);
			E2E_RESP(r, "NO", "invalid-state");
			EXPECT_STATE(a, id, cases[i].state);
		}
		/* The assignee is refused the same way. */
		if (strcmp(cases[i].state, "new") != 0 &&
		    strcmp(cases[i].state, "reopened") != 0) {
			E2E_EXPECT(a, "NO", "invalid-state",
				   "COMPLAINT TAKE id=%lld", id);
			EXPECT_STATE(a, id, cases[i].state);
		}
	}
}

/* ASSIGN (a supervisor's): new -> assigned; a new assignee in assigned and
 * waiting; invalid-state elsewhere. */
static void test_complaint_assign(void **state)
{
	tc_conn *a = tc_session("agent1");
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r;
	long long cust, id;

	(void)state;
	cust = E2E_CUSTOMER(a, NULL);
	id = E2E_COMPLAINT(a, cust, "billing", 3);
	E2E_OK(sup, "ASSIGN complaint=%lld agent=agent2", id);
	r = E2E_OK(a, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	TC_FIELD(r, "assignee", "agent2");
	E2E_OK(sup, "ASSIGN complaint=%lld agent=agent1", id);
	r = E2E_OK(a, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	TC_FIELD(r, "assignee", "agent1");
	E2E_OK(a, "COMPLAINT WAIT id=%lld reason=r", id);
	E2E_OK(sup, "ASSIGN complaint=%lld agent=agent3", id);
	r = E2E_OK(a, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "waiting");
	TC_FIELD(r, "assignee", "agent3");
	E2E_EXPECT(a, "NO", "forbidden", "ASSIGN complaint=%lld agent=agent1",
		   id);
	E2E_EXPECT(sup, "NO", "not-found",
		   "ASSIGN complaint=%lld agent=nosuchuser", id);
	E2E_EXPECT(sup, "NO", "not-found",
		   "ASSIGN complaint=" MISSING " agent=agent1");
}

/* ---- CLOSE ------------------------------------------------------------------- */

/* invalid-state, then no-reply, then open-handoff (§8). */
static void test_complaint_close_order(void **state)
{
	tc_conn *a = tc_session("agent2");
	tc_conn *clerk = tc_session("clerk1");
	struct tc_resp *r;
	long long cust, id, h;

	(void)state;
	cust = E2E_CUSTOMER(a, NULL);
	id = E2E_COMPLAINT(a, cust, "billing", 2);
	E2E_OK(a, "COMPLAINT TAKE id=%lld", id);
	r = E2E_OK(a, "HANDOFF OPEN complaint=%lld dept=logistics request=%s",
		   id, tc_q("please ship a replacement"));
	h = E2E_NUM(r, "handoff");

	/* Not resolved (and no reply, and a hand-off open): invalid-state. */
	E2E_EXPECT(a, "NO", "invalid-state", "COMPLAINT CLOSE id=%lld", id);
	E2E_OK(a, "COMPLAINT RESOLVE id=%lld action=replacement "
	       "resolution=%s", id, tc_q("replacement sent"));
	/* A note that is not a reply does not count. */
	E2E_OK(a, "COMPLAINT NOTE id=%lld text=%s", id, tc_q("internal"));
	/* Resolved, no reply, hand-off open: no-reply. */
	E2E_EXPECT(a, "NO", "no-reply", "COMPLAINT CLOSE id=%lld", id);
	E2E_OK(a, "COMPLAINT NOTE id=%lld text=%s reply=yes", id,
	       tc_q("A replacement is on its way."));
	/* Replied, hand-off open, then acknowledged: open-handoff. */
	E2E_EXPECT(a, "NO", "open-handoff", "COMPLAINT CLOSE id=%lld", id);
	r = E2E_OK(clerk, "HANDOFF ACK id=%lld", h);
	TC_FIELD(r, "state", "acknowledged");
	E2E_EXPECT(a, "NO", "open-handoff", "COMPLAINT CLOSE id=%lld", id);
	EXPECT_STATE(a, id, "resolved");
	r = E2E_OK(clerk, "HANDOFF DONE id=%lld result=%s", h, tc_q("shipped"));
	TC_FIELD(r, "state", "done");
	r = E2E_OK(a, "COMPLAINT CLOSE id=%lld", id);
	TC_FIELD(r, "state", "closed");
	EXPECT_STATE(a, id, "closed");
	E2E_EXPECT(a, "NO", "invalid-state", "COMPLAINT CLOSE id=%lld", id);
	E2E_EXPECT(a, "NO", "not-found", "COMPLAINT CLOSE id=" MISSING);
}

/* ---- REOPEN ------------------------------------------------------------------ */

static void test_complaint_reopen(void **state)
{
	tc_conn *a = tc_session("agent1");
	tc_conn *b = tc_session("agent2");
	struct tc_resp *r;
	long long cust, id;
	time_t t0, t1;

	(void)state;
	cust = E2E_CUSTOMER(a, NULL);
	id = E2E_COMPLAINT(a, cust, "billing", 1);
	drive(a, id, "closed");

	t0 = time(NULL);
	r = E2E_OK(a, "COMPLAINT REOPEN id=%lld reason=%s", id,
		   tc_q("still broken"));
	t1 = time(NULL);
	TC_FIELD(r, "state", "reopened");
	/* Back in its queue without assignee, deadlines anew from now. */
	r = E2E_OK(a, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "reopened");
	TC_FIELD(r, "assignee", "");
	TC_FIELD(r, "queue", "billing");
	EXPECT_DEADLINE(r, "respond_by", t0, t1, 1 * H);
	EXPECT_DEADLINE(r, "resolve_by", t0, t1, 1 * D);
	E2E_ROW_FIELD(r, r->nrows - 1, "event", "reopened");
	E2E_ROW_FIELD(r, r->nrows - 1, "text", "still broken");
	r = E2E_OK(a, "COMPLAINT LIST customer=%lld state=reopened "
		   "queue=billing", cust);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "assignee", "");
	r = E2E_OK(a, "COMPLAINT LIST customer=%lld assignee=agent1", cust);
	E2E_NROWS(r, 0);

	/* Anyone may take it now; a new reply is owed before closing. */
	E2E_OK(b, "COMPLAINT TAKE id=%lld", id);
	E2E_OK(b, "COMPLAINT RESOLVE id=%lld action=apology resolution=%s",
	       id, tc_q("sorry again"));
	E2E_EXPECT(b, "NO", "no-reply", "COMPLAINT CLOSE id=%lld", id);
	E2E_OK(b, "COMPLAINT NOTE id=%lld text=%s reply=yes", id,
	       tc_q("Fixed for good."));
	r = E2E_OK(b, "COMPLAINT CLOSE id=%lld", id);
	TC_FIELD(r, "state", "closed");

	E2E_EXPECT(a, "BAD", "missing-arg", "COMPLAINT REOPEN id=%lld", id);
	E2E_EXPECT(a, "NO", "not-found", "COMPLAINT REOPEN id=" MISSING
		   " reason=x");
}

/* ---- RESOLVE ------------------------------------------------------------------ */

static void test_complaint_resolve_actions(void **state)
{
	static const char *const actions[] = { "apology", "explanation",
					       "callback", "replacement",
					       "repair" };
	/* Tier 2: every action without money is within its authority
	 * (tests/e2e/rules.conf). */
	tc_conn *a = tc_session("agent2");
	long long cust;
	size_t i;

	(void)state;
	cust = E2E_CUSTOMER(a, NULL);
	for (i = 0; i < NELEM(actions); i++) {
		long long id = E2E_COMPLAINT(a, cust, "billing", 3);
		const char *text = e2e_uniq("resolved by ");
		struct tc_resp *r;

		E2E_OK(a, "COMPLAINT TAKE id=%lld", id);
		r = E2E_OK(a, "COMPLAINT RESOLVE id=%lld action=%s "
			   "resolution=%s", id, actions[i], tc_q(text));
		E2E_KEYS(r->final, "decision", "rule", "state");
		TC_FIELD(r, "decision", "allow");
		TC_FIELD(r, "state", "resolved");
		r = E2E_OK(a, "COMPLAINT GET id=%lld", id);
		TC_FIELD(r, "state", "resolved");
		TC_FIELD(r, "assignee", "agent2");
		E2E_ROW_FIELD(r, r->nrows - 1, "event", "resolved");
		E2E_ROW_FIELD(r, r->nrows - 1, "text", text);
		E2E_ROW_FIELD(r, r->nrows - 1, "by", "agent2");
	}
}

/* Request-only checks come before the objects (§2): a missing complaint
 * still gets BAD. Then the same on a real one, which stays assigned. */
static void test_complaint_resolve_args(void **state)
{
	static const char *const money[] = { "refund", "credit", "voucher",
					     "fee-waiver" };
	static const char *const plain[] = { "apology", "explanation",
					     "callback", "replacement",
					     "repair" };
	tc_conn *a = tc_session("agent1");
	long long cust, id;
	size_t i, pass;

	(void)state;
	cust = E2E_CUSTOMER(a, NULL);
	id = E2E_COMPLAINT(a, cust, "billing", 2);
	E2E_OK(a, "COMPLAINT TAKE id=%lld", id);
	for (pass = 0; pass < 2; pass++) {
		const char *cid = pass == 0 ? MISSING : e2e_fmt("%lld", id);
		char idbuf[32];

		snprintf(idbuf, sizeof(idbuf), "%s", cid);
		for (i = 0; i < NELEM(money); i++)
			E2E_EXPECT(a, "BAD", "missing-arg", "COMPLAINT RESOLVE "
				   "id=%s action=%s resolution=x", idbuf,
				   money[i]);
		for (i = 0; i < NELEM(plain); i++)
			E2E_EXPECT(a, "BAD", "bad-arg", "COMPLAINT RESOLVE "
				   "id=%s action=%s amount=5.00 resolution=x",
				   idbuf, plain[i]);
		E2E_EXPECT(a, "BAD", "bad-arg", "COMPLAINT RESOLVE id=%s "
			   "action=refund amount=5.00 currency=USD "
			   "resolution=x", idbuf);
		E2E_EXPECT(a, "BAD", "bad-arg", "COMPLAINT RESOLVE id=%s "
			   "action=refund amount=5 currency=eur resolution=x",
			   idbuf);
		E2E_EXPECT(a, "BAD", "bad-arg", "COMPLAINT RESOLVE id=%s "
			   "action=apology currency=USD resolution=x", idbuf);
		E2E_EXPECT(a, "BAD", "bad-arg", "COMPLAINT RESOLVE id=%s "
			   "action=refund amount=abc resolution=x", idbuf);
		E2E_EXPECT(a, "BAD", "bad-arg", "COMPLAINT RESOLVE id=%s "
			   "action=bribe resolution=x", idbuf);
		E2E_EXPECT(a, "BAD", "bad-arg", "COMPLAINT RESOLVE id=%s "
			   "action=Apology resolution=x", idbuf);
		E2E_EXPECT(a, "BAD", "missing-arg", "COMPLAINT RESOLVE id=%s "
			   "action=apology", idbuf);
		E2E_EXPECT(a, "BAD", "missing-arg", "COMPLAINT RESOLVE id=%s "
			   "resolution=x", idbuf);
		E2E_EXPECT(a, "BAD", "bad-arg", "COMPLAINT RESOLVE id=%s "
			   "action=apology resolution=x justify_later=maybe",
			   idbuf);
	}
	EXPECT_STATE(a, id, "assigned");
	E2E_EXPECT(a, "NO", "not-found", "COMPLAINT RESOLVE id=" MISSING
		   " action=apology resolution=x");
	E2E_OK(a, "COMPLAINT RESOLVE id=%lld action=apology resolution=x", id);
}

/* A money action on a missing complaint: not-found comes before any
 * decision (§2: objects before state and policy). */
static void test_complaint_resolve_money_not_found(void **state)
{
	tc_conn *a = tc_session("agent1");

	(void)state;
	E2E_EXPECT(a, "NO", "not-found", "COMPLAINT RESOLVE id=" MISSING
		   " action=refund amount=5.00 resolution=x");
	E2E_EXPECT(a, "NO", "not-found", "COMPLAINT RESOLVE id=" MISSING
		   " action=credit amount=1 currency=EUR resolution=x");
}

/* RESOLVE, WAIT, RESUME and CLOSE need the assignee or a supervisor; GET,
 * NOTE and hand-offs do not (§8). Authority comes before state. */
static void test_complaint_authority(void **state)
{
	tc_conn *a1 = tc_session("agent1");
	tc_conn *a2 = tc_session("agent2");
	tc_conn *sup = tc_session("sup1");
	struct tc_resp *r;
	long long cust, id, id2;

	(void)state;
	cust = E2E_CUSTOMER(a1, NULL);
	id = E2E_COMPLAINT(a1, cust, "billing", 2);
	E2E_OK(a1, "COMPLAINT TAKE id=%lld", id);

	E2E_EXPECT(a2, "NO", "forbidden", "COMPLAINT RESOLVE id=%lld "
		   "action=apology resolution=x", id);
	E2E_EXPECT(a2, "NO", "forbidden", "COMPLAINT WAIT id=%lld reason=x", id);
	/* RESUME on an assigned complaint: forbidden before invalid-state. */
	E2E_EXPECT(a2, "NO", "forbidden", "COMPLAINT RESUME id=%lld", id);
	E2E_EXPECT(a2, "NO", "forbidden", "COMPLAINT CLOSE id=%lld", id);
	r = E2E_OK(a2, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	TC_FIELD(r, "assignee", "agent1");
	E2E_OK(a2, "COMPLAINT NOTE id=%lld text=%s", id, tc_q("a colleague's tip"));
	E2E_OK(a2, "HANDOFF OPEN complaint=%lld dept=billing-office request=%s",
	       id, tc_q("check the ledger"));

	/* A supervisor may. */
	r = E2E_OK(sup, "COMPLAINT WAIT id=%lld reason=x", id);
	TC_FIELD(r, "state", "waiting");
	E2E_EXPECT(a2, "NO", "forbidden", "COMPLAINT RESUME id=%lld", id);
	r = E2E_OK(sup, "COMPLAINT RESUME id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	r = E2E_OK(sup, "COMPLAINT RESOLVE id=%lld action=callback "
		   "resolution=%s", id, tc_q("supervisor called back"));
	TC_FIELD(r, "decision", "allow");
	TC_FIELD(r, "state", "resolved");
	E2E_EXPECT(a2, "NO", "forbidden", "COMPLAINT CLOSE id=%lld", id);

	/* Nobody's yet: an agent is not its assignee. */
	id2 = E2E_COMPLAINT(a1, cust, "billing", 2);
	E2E_EXPECT(a1, "NO", "forbidden", "COMPLAINT RESOLVE id=%lld "
		   "action=apology resolution=x", id2);
	E2E_EXPECT(a1, "NO", "forbidden", "COMPLAINT WAIT id=%lld reason=x", id2);
	EXPECT_STATE(a1, id2, "new");
}

/* ---- WAIT and RESUME ------------------------------------------------------- */

static void test_complaint_wait_resume(void **state)
{
	tc_conn *a = tc_session("agent2");
	struct tc_resp *r;
	long long cust, id, moved, lo, hi;
	time_t rb0, rb1;
	int64_t w0, w1, r0, r1;

	(void)state;
	cust = E2E_CUSTOMER(a, NULL);
	id = E2E_COMPLAINT(a, cust, "technical", 1);
	E2E_OK(a, "COMPLAINT TAKE id=%lld", id);
	r = E2E_OK(a, "COMPLAINT GET id=%lld", id);
	rb0 = E2E_TIME(r, "resolve_by");

	w0 = e2e_mono_ms();
	r = E2E_OK(a, "COMPLAINT WAIT id=%lld reason=%s", id,
		   tc_q("customer on holiday"));
	w1 = e2e_mono_ms();
	TC_FIELD(r, "state", "waiting");
	E2E_EXPECT(a, "NO", "invalid-state", "COMPLAINT WAIT id=%lld reason=x",
		   id);
	/* (PING meanwhile: 3 s of silence is most of idle_timeout.) */
	E2E_SLEEP_BUSY(3000, a);
	r0 = e2e_mono_ms();
	r = E2E_OK(a, "COMPLAINT RESUME id=%lld", id);
	r1 = e2e_mono_ms();
	TC_FIELD(r, "state", "assigned");
	rb1 = E2E_TIME(r, "resolve_by");

	/* Moved by the time spent waiting (whole seconds both sides). */
	moved = (long long)(rb1 - rb0);
	lo = (r0 - w1) / 1000 - 1;
	hi = (r1 - w0) / 1000 + 2;
	CHECK(moved >= lo && moved <= hi,
	      "resolve_by moved by %lld s (%s -> %s); expected the waiting "
	      "time, %lld..%lld s", moved, e2e_fmt("%lld", (long long)rb0),
	      tc_get(r, "resolve_by"), lo, hi);
	r = E2E_OK(a, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	CHECK(E2E_TIME(r, "resolve_by") == rb1,
	      "GET resolve_by=%s differs from RESUME's", tc_get(r, "resolve_by"));
	E2E_ROW_FIELD(r, r->nrows - 2, "event", "waiting");
	E2E_ROW_FIELD(r, r->nrows - 2, "text", "customer on holiday");
	E2E_ROW_FIELD(r, r->nrows - 1, "event", "resumed");
	E2E_EXPECT(a, "NO", "invalid-state", "COMPLAINT RESUME id=%lld", id);

	E2E_EXPECT(a, "BAD", "missing-arg", "COMPLAINT WAIT id=%lld", id);
	E2E_EXPECT(a, "NO", "not-found", "COMPLAINT WAIT id=" MISSING " reason=x");
	E2E_EXPECT(a, "NO", "not-found", "COMPLAINT RESUME id=" MISSING);
}

static void test_complaint_wait_until(void **state)
{
	static const char *const bad[] = {
		"2026-13-01T00:00:00Z", "2026-11-31T00:00:00Z", "tomorrow",
		"2026-11-22", "\"2026-11-22 09:30:00\"", "2026-11-22T25:00:00Z",
		"1700000000", "2026-11-22T09:30:00", "\"\"",
	};
	tc_conn *a = tc_session("agent1");
	struct tc_resp *r;
	char until[32];
	time_t t;
	long long cust, id;
	int64_t deadline;
	size_t i;
	bool back = false;

	(void)state;
	cust = E2E_CUSTOMER(a, NULL);
	id = E2E_COMPLAINT(a, cust, "billing", 2);
	E2E_OK(a, "COMPLAINT TAKE id=%lld", id);
	for (i = 0; i < NELEM(bad); i++)
		E2E_EXPECT(a, "BAD", "bad-arg", "COMPLAINT WAIT id=%lld "
			   "reason=x until=%s", id, bad[i]);
	EXPECT_STATE(a, id, "assigned");

	/* until passing brings it back to assigned by itself. The offset
	 * and fraction forms are accepted on input. */
	t = time(NULL) + 2;
	{
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%S.250Z", &tm);
	}
	r = E2E_OK(a, "COMPLAINT WAIT id=%lld reason=%s until=%s", id,
		   tc_q("call back in two seconds"), until);
	TC_FIELD(r, "state", "waiting");
	deadline = e2e_mono_ms() + 2000 + e2e_wait_ms();
	while (!back && e2e_mono_ms() < deadline) {
		e2e_sleep_ms(500);
		back = strcmp(state_of(a, id), "assigned") == 0;
	}
	CHECK(back, "WAIT until=%s: still %s %d ms after until passed", until,
	      state_of(a, id), e2e_wait_ms());

	/* An offset form is accepted too. */
	r = E2E_OK(a, "COMPLAINT WAIT id=%lld reason=x "
		   "until=2099-01-01T01:00:00+01:00", id);
	TC_FIELD(r, "state", "waiting");
	E2E_OK(a, "COMPLAINT RESUME id=%lld", id);
}

/* A new interaction on a waiting complaint resumes it (§8). */
static void test_complaint_wait_interaction(void **state)
{
	tc_conn *a = tc_session("agent1");
	struct tc_resp *r;
	long long cust, id, ia;

	(void)state;
	cust = E2E_CUSTOMER(a, NULL);
	id = E2E_COMPLAINT(a, cust, "billing", 2);
	E2E_OK(a, "COMPLAINT TAKE id=%lld", id);
	E2E_OK(a, "COMPLAINT WAIT id=%lld reason=x", id);
	r = E2E_OK(a, "INTERACTION START customer=%lld channel=phone "
		   "direction=inbound complaint=%lld", cust, id);
	ia = E2E_NUM(r, "interaction");
	EXPECT_STATE(a, id, "assigned");
	E2E_OK(a, "INTERACTION END id=%lld outcome=resolved", ia);
}

static void test_complaint_not_found(void **state)
{
	static const char *const reqs[] = {
		"COMPLAINT GET id=" MISSING,
		"COMPLAINT NOTE id=" MISSING " text=x",
		"COMPLAINT TAKE id=" MISSING,
		"COMPLAINT WAIT id=" MISSING " reason=x",
		"COMPLAINT RESUME id=" MISSING,
		"COMPLAINT RESOLVE id=" MISSING " action=apology resolution=x",
		"COMPLAINT REOPEN id=" MISSING " reason=x",
		"COMPLAINT CLOSE id=" MISSING,
		"COMPLAINT GET id=9223372036854775807",
	};
	tc_conn *a = tc_session("agent1");
	tc_conn *sup = tc_session("sup1");
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(reqs); i++) {
		E2E_EXPECT(a, "NO", "not-found", "%s", reqs[i]);
		E2E_EXPECT(sup, "NO", "not-found", "%s", reqs[i]);
	}
	E2E_EXPECT(a, "BAD", "bad-arg", "COMPLAINT GET id=9223372036854775808");
	E2E_EXPECT(a, "BAD", "unknown-verb", "COMPLAINT DELETE id=1");
}

int e2e_group_complaint(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_complaint_open_deadlines,
					  tc_teardown),
		cmocka_unit_test_teardown(
			test_complaint_open_queue_and_interaction, tc_teardown),
		cmocka_unit_test_teardown(test_complaint_open_bad, tc_teardown),
		cmocka_unit_test_teardown(test_complaint_history, tc_teardown),
		cmocka_unit_test_teardown(test_complaint_list_filters,
					  tc_teardown),
		cmocka_unit_test_teardown(test_complaint_list_bad, tc_teardown),
		cmocka_unit_test_teardown(test_complaint_note_every_state,
					  tc_teardown),
		cmocka_unit_test_teardown(test_complaint_take, tc_teardown),
		cmocka_unit_test_teardown(test_complaint_fsm_allowed,
					  tc_teardown),
		cmocka_unit_test_teardown(test_complaint_fsm_refused,
					  tc_teardown),
		cmocka_unit_test_teardown(test_complaint_assign, tc_teardown),
		cmocka_unit_test_teardown(test_complaint_close_order,
					  tc_teardown),
		cmocka_unit_test_teardown(test_complaint_reopen, tc_teardown),
		cmocka_unit_test_teardown(test_complaint_resolve_actions,
					  tc_teardown),
		cmocka_unit_test_teardown(test_complaint_resolve_args,
					  tc_teardown),
		cmocka_unit_test_teardown(
			test_complaint_resolve_money_not_found, tc_teardown),
		cmocka_unit_test_teardown(test_complaint_authority, tc_teardown),
		cmocka_unit_test_teardown(test_complaint_wait_resume,
					  tc_teardown),
		cmocka_unit_test_teardown(test_complaint_wait_until,
					  tc_teardown),
		cmocka_unit_test_teardown(test_complaint_wait_interaction,
					  tc_teardown),
		cmocka_unit_test_teardown(test_complaint_not_found, tc_teardown),
	};

	return cmocka_run_group_tests_name("complaint", tests, NULL, NULL);
}
