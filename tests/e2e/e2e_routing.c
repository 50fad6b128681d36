/* e2e_routing.c: the "routing" group: agent states, queues, routing and
 * the live view (PROTOCOL.md §6, §10), service levels (§8's resolve clock,
 * the sweep of issue 4), on one node and on two.
 *
 * NEXT's order (severity, then VIP, then the earliest deadline, then the
 * longest wait), its refusals (invalid-state unless ready, empty,
 * at-capacity), ASSIGN and the push to the assignee, STATE and the
 * durations stored in PostgreSQL, WATCH's snapshot and live events,
 * UNWATCH, a watcher too slow to read cut off with BYE overloaded, the
 * `fast` category's deadlines passing (sla at-risk, breached, an automatic
 * escalation by `system`; a watcher is not idle), the three ends of WAIT
 * (RESUME and a new interaction moving resolve_by, until= passing), QUEUE
 * LIST's waiting and agents_ready (ready and idle); and with a second node
 * on the same database (e2e_node.h): 200 complaints taken by agents
 * racing on both nodes, each exactly once, and events crossing nodes.
 *
 * Queues are shared with the other groups, which leave complaints behind:
 * a test that needs to know everything waiting in a queue first drains it
 * (a throwaway agent takes whatever waits there). Every agent a test
 * routes to is its own (E2E_USER), so capacities and states start afresh.
 * From tests/e2e/rules.conf: tier 1 capacity 3; queue general (category
 * general: severity 3 resolves in 5d), categories technical (severity 3:
 * 3d) and billing (severity 2: 2d) may be opened into it with queue=;
 * category fast (queue urgent): respond in 5 s, resolve in 10 s. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>
#include <openssl/ssl.h>

#include "e2e.h"
#include "e2e_node.h"
#include "e2e_util.h"
#include "tclient.h"
#include "tdb.h"

#define NO_EVENT_MS 1000   /* how long "nothing comes" is watched for */
#define EVENT_MS e2e_wait_ms() /* how long an event that must come may take */

/* ---- helpers ------------------------------------------------------------ */

static const char *id_str(long long id)
{
	return e2e_fmt("%lld", id);
}

/* A new agent with these USER ADD arguments, logged in and ready. */
static tc_conn *ready_agent(const char *extra, const char **name)
{
	const char *n = E2E_USER("agent", extra);
	tc_conn *c = tc_session(n);

	E2E_OK(c, "STATE SET state=ready");
	if (name != NULL)
		*name = n;
	return c;
}

/* Takes whatever waits for skill (a queue or category name) with NEXT,
 * as throwaway agents, so that the test that follows knows the queue. */
static void drain(const char *skill)
{
	int agents, taken = 0;

	for (agents = 0; agents < 5; agents++) {
		tc_conn *c = ready_agent(e2e_fmt("skills=%s capacity=1000",
						 skill), NULL);
		struct tc_resp *r;

		for (;;) {
			r = tc_cmd(c, "NEXT");
			if (strcmp(r->word, "OK") != 0)
				break;
			tc_resp_free(&r);
			CHECK(++taken < 5000, "queue %s does not drain", skill);
		}
		if (strcmp(r->code, "empty") == 0) {
			tc_close(&c);
			return;
		}
		TC_EXPECT(r, "NO", "at-capacity");
		tc_close(&c);
	}
	fail_msg("queue %s: more than 5000 complaints waiting", skill);
}

/* COMPLAINT OPEN with queue=; returns the id. */
static long long open_in(tc_conn *c, long long cust, const char *category,
			 int severity, const char *queue)
{
	struct tc_resp *r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=%s "
				   "severity=%d summary=%s%s%s", cust, category,
				   severity, tc_q(e2e_uniq("routing ")),
				   queue ? " queue=" : "", queue ? queue : "");

	return E2E_NUM(r, "complaint");
}

/* NEXT answers OK for complaint want, assigned to the caller. */
static void expect_next(tc_conn *c, const char *me, long long want,
			const char *why)
{
	struct tc_resp *r = tc_cmd(c, "NEXT");
	const char *got;

	TC_OK(r);
	E2E_KEYS(r->final, "complaint", "customer", "state", "queue",
		 "category", "severity", "assignee", "respond_by", "resolve_by",
		 "summary");
	got = tc_get(r, "complaint");
	CHECK(strcmp(got, id_str(want)) == 0,
	      "NEXT gave complaint %s, expected %lld (%s)", got, want, why);
	TC_FIELD(r, "state", "assigned");
	TC_FIELD(r, "assignee", me);
}

/* Reads events on a watcher until type=snapshot-end; returns how many
 * came before it, and keeps them in *lines (caller frees) when not NULL. */
static size_t read_snapshot(tc_conn *w, char ***lines)
{
	char **got = NULL;
	size_t n = 0;
	int64_t deadline = e2e_mono_ms() + EVENT_MS;

	for (;;) {
		int64_t left = deadline - e2e_mono_ms();
		char *ev = tc_event(w, NULL, left > 0 ? (int)left : 0);
		char *type;

		CHECK(ev != NULL, "WATCH: no \"* EVENT type=snapshot-end\" within "
		      "%d ms (%zu snapshot events came)", EVENT_MS, n);
		CHECK(tc_line_valid(ev, NULL), "malformed event: %s", ev);
		type = tc_field(ev, "type");
		if (type != NULL && strcmp(type, "snapshot-end") == 0) {
			free(type);
			free(ev);
			break;
		}
		free(type);
		got = realloc(got, (n + 1) * sizeof(*got));
		CHECK(got != NULL, "out of memory");
		got[n++] = ev;
	}
	if (lines != NULL) {
		*lines = got;
	} else {
		while (n > 0 && got != NULL)
			free(got[--n]);
		free(got);
	}
	return n;
}

static void free_lines(char **lines, size_t n)
{
	while (n > 0)
		free(lines[--n]);
	free(lines);
}

/* The snapshot line of type with key=value, or NULL. */
static const char *find_line(char **lines, size_t n, const char *type,
			     const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *t = tc_field(lines[i], "type"), *v = tc_field(lines[i], key);
		bool ok = t && v && strcmp(t, type) == 0 && strcmp(v, value) == 0;

		free(t);
		free(v);
		if (ok)
			return lines[i];
	}
	return NULL;
}

/* No event of type with key=value comes within NO_EVENT_MS. */
static void expect_no_event(tc_conn *c, const char *type, const char *key,
			    const char *value, const char *why)
{
	char *ev = e2e_event_match(c, type, NO_EVENT_MS, key, value, NULL);

	if (ev != NULL) {
		print_error("unexpected event (%s): %s\n", why, ev);
		free(ev);
		fail();
	}
}

/* ---- NEXT: the order ------------------------------------------------------- */

static void test_next_order(void **state)
{
	const char *me;
	tc_conn *opener, *c;
	long long cust, vip, a, b, t, v, s2, s1;
	struct tc_resp *r;

	(void)state;
	drain("general");
	opener = tc_session("sup1");
	cust = E2E_CUSTOMER(opener, NULL);
	r = E2E_OK(opener, "CUSTOMER ADD name=%s vip=yes", tc_q(e2e_uniq("v ")));
	vip = E2E_NUM(r, "customer");

	/* Opened in this order, into queue general. */
	a = open_in(opener, cust, "general", 3, NULL);     /* 5d, first   */
	b = open_in(opener, cust, "general", 3, NULL);     /* 5d, second  */
	t = open_in(opener, cust, "technical", 3, "general"); /* 3d      */
	v = open_in(opener, vip, "general", 3, NULL);      /* VIP, 5d     */
	s2 = open_in(opener, cust, "billing", 2, "general");  /* sev 2   */
	s1 = open_in(opener, cust, "general", 1, NULL);    /* sev 1, last */

	c = ready_agent("skills=general capacity=20", &me);
	expect_next(c, me, s1, "severity 1 first, though opened last");
	expect_next(c, me, s2, "severity 2 before severity 3, VIP or not");
	expect_next(c, me, v, "a VIP before an earlier deadline");
	expect_next(c, me, t, "the earliest deadline (3d) before 5d");
	expect_next(c, me, a, "the longest waiting of equal deadlines");
	expect_next(c, me, b, "the last one");
	E2E_EXPECT(c, "NO", "empty", "NEXT");

	/* NEXT assigned them: GET agrees. */
	r = E2E_OK(c, "COMPLAINT GET id=%lld", v);
	TC_FIELD(r, "state", "assigned");
	TC_FIELD(r, "assignee", me);
}

/* ---- NEXT: refusals -------------------------------------------------------- */

static void test_next_refusals(void **state)
{
	const char *name = E2E_USER("agent", "skills=billing");
	const char *none;
	tc_conn *c = tc_session(name), *nc;
	struct tc_resp *r;
	long long cust;

	(void)state;
	/* Something waits for billing, so that only the state refuses. */
	cust = E2E_CUSTOMER(c, NULL);
	E2E_COMPLAINT(c, cust, "billing", 4);

	/* A first login is not-ready. */
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "state", "not-ready");
	E2E_EXPECT(c, "NO", "invalid-state", "NEXT");
	E2E_OK(c, "STATE SET state=break reason=coffee");
	E2E_EXPECT(c, "NO", "invalid-state", "NEXT");
	E2E_OK(c, "STATE SET state=wrap-up");
	E2E_EXPECT(c, "NO", "invalid-state", "NEXT");
	E2E_OK(c, "STATE SET state=ready");
	TC_OK(tc_cmd(c, "NEXT"));

	/* Without skills an agent is skilled for nothing. */
	nc = ready_agent("", &none);
	E2E_EXPECT(nc, "NO", "empty", "NEXT");
	/* Not ready comes before empty. */
	E2E_OK(nc, "STATE SET state=not-ready");
	E2E_EXPECT(nc, "NO", "invalid-state", "NEXT");

	/* Integration users do not route. */
	tc_close(&nc);
	nc = tc_session("integ1");
	E2E_EXPECT(nc, "NO", "forbidden", "NEXT");
}

static void test_next_at_capacity(void **state)
{
	const char *me;
	tc_conn *sup = tc_session("sup1"), *c;
	long long cust, ids[5];
	struct tc_resp *r;
	int i;

	(void)state;
	cust = E2E_CUSTOMER(sup, NULL);
	for (i = 0; i < 5; i++)
		ids[i] = E2E_COMPLAINT(sup, cust, "general", 4);
	/* Tier 1, no capacity of its own: the tier's 3. */
	c = ready_agent("tier=1 skills=general", &me);
	for (i = 0; i < 3; i++)
		TC_OK(tc_cmd(c, "NEXT"));
	r = E2E_EXPECT(c, "NO", "at-capacity", "NEXT");
	E2E_KEYS(r->final, "code", "msg");
	r = E2E_OK(c, "COMPLAINT LIST assignee=me state=assigned");
	CHECK(E2E_NUM(r, "count") == 3, "%s holds %s complaints, expected 3",
	      me, tc_get(r, "count"));

	/* TAKE and ASSIGN may exceed it. */
	for (i = 0; i < 5; i++) {
		r = E2E_OK(sup, "COMPLAINT GET id=%lld", ids[i]);
		if (strcmp(tc_get(r, "state"), "new") == 0)
			break;
	}
	CHECK(i < 5, "all five complaints were taken");
	E2E_OK(c, "COMPLAINT TAKE id=%lld", ids[i]);
	for (i++; i < 5; i++) {
		r = E2E_OK(sup, "COMPLAINT GET id=%lld", ids[i]);
		if (strcmp(tc_get(r, "state"), "new") == 0) {
			E2E_OK(sup, "ASSIGN complaint=%lld agent=%s", ids[i], me);
			break;
		}
	}
	/* Something waits, so that only the capacity refuses. */
	E2E_COMPLAINT(sup, cust, "general", 4);
	E2E_EXPECT(c, "NO", "at-capacity", "NEXT");

	/* Resolving frees places: holding 2 of 3, NEXT gives again. */
	r = E2E_OK(c, "COMPLAINT LIST assignee=me state=assigned");
	E2E_NROWS(r, 5);
	for (i = 0; i < 3; i++)
		E2E_OK(c, "COMPLAINT RESOLVE id=%s action=apology resolution=x",
		       tc_row_get(r, (size_t)i, "complaint"));
	TC_OK(tc_cmd(c, "NEXT"));
	E2E_COMPLAINT(sup, cust, "general", 4);
	E2E_EXPECT(c, "NO", "at-capacity", "NEXT");
}

/* ---- ASSIGN ---------------------------------------------------------------- */

static void test_assign_push(void **state)
{
	const char *a = E2E_USER("agent", "skills=billing");
	const char *b = E2E_USER("agent", "skills=billing");
	tc_conn *sup = tc_session("sup1"), *ca = tc_session(a);
	tc_conn *cb = tc_session(b);
	long long cust, id, own;
	struct tc_resp *r;
	char *ev;

	(void)state;
	cust = E2E_CUSTOMER(sup, NULL);
	id = E2E_COMPLAINT(sup, cust, "billing", 3);
	tc_events_clear(ca);

	r = E2E_OK(sup, "ASSIGN complaint=%lld agent=%s", id, a);
	/* The assignee is told unasked, without having sent anything. */
	ev = E2E_EVENT(ca, "complaint", EVENT_MS, "complaint", id_str(id),
		       "state", "assigned", "assignee", a, NULL);
	E2E_KEYS(ev, "type", "complaint", "state", "queue", "assignee");
	free(ev);
	r = E2E_OK(ca, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	TC_FIELD(r, "assignee", a);

	/* Assigned: ASSIGN moves it to another agent, state unchanged. */
	E2E_OK(sup, "ASSIGN complaint=%lld agent=%s", id, b);
	free(E2E_EVENT(cb, "complaint", EVENT_MS, "complaint", id_str(id),
		       "assignee", b, NULL));
	r = E2E_OK(cb, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	TC_FIELD(r, "assignee", b);
	/* Waiting keeps its state too. */
	E2E_OK(cb, "COMPLAINT WAIT id=%lld reason=x", id);
	E2E_OK(sup, "ASSIGN complaint=%lld agent=%s", id, a);
	r = E2E_OK(ca, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "waiting");
	TC_FIELD(r, "assignee", a);

	/* One's own TAKE is not pushed back to oneself. */
	own = E2E_COMPLAINT(ca, cust, "billing", 3);
	tc_events_clear(ca);
	E2E_OK(ca, "COMPLAINT TAKE id=%lld", own);
	expect_no_event(ca, "complaint", "complaint", id_str(own),
			"a TAKE is not an assignment by someone else");

	/* Who may, and to what. */
	E2E_EXPECT(ca, "NO", "forbidden", "ASSIGN complaint=%lld agent=%s", id, b);
	E2E_EXPECT(sup, "NO", "not-found", "ASSIGN complaint=%lld agent=%s", id,
		   e2e_uniq("nobody"));
	E2E_EXPECT(sup, "NO", "not-found",
		   "ASSIGN complaint=9223372036854775807 agent=%s", a);
	E2E_EXPECT(sup, "BAD", "missing-arg", "ASSIGN complaint=%lld", id);
	E2E_OK(ca, "COMPLAINT RESOLVE id=%lld action=apology resolution=x", own);
	E2E_EXPECT(sup, "NO", "invalid-state", "ASSIGN complaint=%lld agent=%s",
		   own, b);
}

/* ---- STATE ---------------------------------------------------------------- */

static void test_state_durations(void **state)
{
	const char *a = E2E_USER("agent", "skills=billing");
	tc_conn *c = tc_session(a);
	struct tc_resp *r;
	time_t since_break, since_ready;
	const char *uid;
	char *v = NULL;
	long long cust, inter;
	int64_t t_break, t_ready, deadline;

	(void)state;
	r = E2E_OK(c, "STATE");
	E2E_KEYS(r->final, "state", "activity", "since", "reason");
	TC_FIELD(r, "state", "not-ready");
	TC_FIELD(r, "activity", "idle");
	E2E_TIME(r, "since");

	t_break = e2e_mono_ms();
	r = E2E_OK(c, "STATE SET state=break reason=%s", tc_q("lunch break"));
	E2E_KEYS(r->final, "state", "since");
	TC_FIELD(r, "state", "break");
	since_break = E2E_TIME(r, "since");
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "state", "break");
	TC_FIELD(r, "reason", "lunch break");
	CHECK(E2E_TIME(r, "since") == since_break,
	      "STATE since differs from STATE SET's");
	e2e_sleep_ms(2100);
	r = E2E_OK(c, "STATE SET state=ready");
	t_ready = e2e_mono_ms();
	since_ready = E2E_TIME(r, "since");
	CHECK(since_ready - since_break >= 2,
	      "ready since %s, only %ld s after break since",
	      tc_get(r, "since"), (long)(since_ready - since_break));
	E2E_EXPECT(c, "BAD", "bad-arg", "STATE SET state=offline");
	E2E_EXPECT(c, "BAD", "bad-arg", "STATE SET state=asleep");
	E2E_EXPECT(c, "BAD", "missing-arg", "STATE SET reason=x");

	/* The durations are in PostgreSQL: the break lasted about 2 s (at
	 * most from before its request to after the next one's answer). */
	uid = e2e_fmt("%lld", tdb_int("SELECT id FROM users WHERE name = $1", a,
				       NULL));
	v = tdb_value("SELECT extract(epoch FROM ended_at - started_at)::text "
		      "FROM state_log WHERE user_id = $1::bigint AND state = "
		      "'break' ORDER BY id DESC LIMIT 1", uid, NULL);
	CHECK(v != NULL, "state_log: no ended row for the break of %s", a);
	CHECK(atof(v) >= 2.0 && atof(v) * 1000 <= (double)(t_ready - t_break) +
	      1000, "state_log: the break of %s lasted %s s, expected about 2 "
	      "(at most %.1f)", a, v, (double)(t_ready - t_break) / 1000 + 1);
	free(v);
	v = NULL;
	CHECK(tdb_int("SELECT count(*) FROM state_log WHERE user_id = $1::bigint "
		      "AND state = 'ready' AND ended_at IS NULL", uid, NULL) == 1,
	      "state_log: the ready state of %s is not open", a);

	/* The activity follows interactions. */
	cust = E2E_CUSTOMER(c, NULL);
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=phone "
		   "direction=inbound", cust);
	inter = E2E_NUM(r, "interaction");
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "activity", "in-interaction");
	E2E_OK(c, "INTERACTION END id=%lld outcome=resolved", inter);
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "activity", "idle");

	/* The user's last connection ends: offline. */
	tc_close(&c);
	deadline = e2e_mono_ms() + e2e_wait_ms();
	do {
		free(v);
		v = tdb_value("SELECT state FROM agent_state WHERE user_id = "
			      "$1::bigint", uid, NULL);
	} while ((v == NULL || strcmp(v, "offline") != 0) &&
		 e2e_poll_sleep(deadline));
	CHECK(v != NULL && strcmp(v, "offline") == 0, "%s is %s, not offline "
	      "%d ms after their last connection ended", a, v ? v : "(none)",
	      e2e_wait_ms());
	free(v);
	c = tc_session(a);
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "state", "not-ready");
}

/* ---- WATCH ------------------------------------------------------------------- */

static void test_watch_snapshot(void **state)
{
	static const char *const queues[] = { "general", "billing", "tech",
					      "urgent" };
	const char *a = E2E_USER("agent", "skills=billing");
	tc_conn *ca = tc_session(a), *w = tc_session("sup1");
	tc_conn *agent = tc_session("agent1");
	struct tc_resp *r;
	char **lines;
	size_t n, i;

	(void)state;
	E2E_OK(ca, "STATE SET state=break");
	r = E2E_OK(w, "WATCH");
	CHECK(r->nrows == 0, "WATCH sent rows before OK");
	n = read_snapshot(w, &lines);
	for (i = 0; i < NELEM(queues); i++) {
		const char *q = find_line(lines, n, "queue", "queue", queues[i]);

		CHECK(q != NULL, "WATCH snapshot: no queue event for %s",
		      queues[i]);
		E2E_KEYS(q, "queue", "waiting", "oldest_wait", "agents_ready");
	}
	CHECK(find_line(lines, n, "agent", "user", a) != NULL,
	      "WATCH snapshot: no agent event for %s", a);
	E2E_KEYS(find_line(lines, n, "agent", "user", a), "user", "state",
		 "activity");
	CHECK(strstr(find_line(lines, n, "agent", "user", a), " state=break") !=
	      NULL, "WATCH snapshot: %s is not on break: %s", a,
	      find_line(lines, n, "agent", "user", a));
	free_lines(lines, n);
	E2E_OK(w, "UNWATCH");

	/* queues= keeps the snapshot's queues to those. */
	E2E_OK(w, "WATCH queues=billing,urgent");
	n = read_snapshot(w, &lines);
	CHECK(find_line(lines, n, "queue", "queue", "billing") != NULL &&
	      find_line(lines, n, "queue", "queue", "urgent") != NULL,
	      "WATCH queues=billing,urgent: missing queue events");
	CHECK(find_line(lines, n, "queue", "queue", "general") == NULL &&
	      find_line(lines, n, "queue", "queue", "tech") == NULL,
	      "WATCH queues=billing,urgent: a queue event of another queue");
	free_lines(lines, n);
	E2E_OK(w, "UNWATCH");

	E2E_EXPECT(agent, "NO", "forbidden", "WATCH");
	E2E_EXPECT(w, "NO", "not-found", "WATCH queues=%s", e2e_uniq("noqueue"));
}

static void test_watch_live_events(void **state)
{
	const char *a = E2E_USER("agent", "skills=billing");
	tc_conn *ca = tc_session(a), *w = tc_session("sup1");
	tc_conn *other = tc_session("sup1");
	struct tc_resp *r;
	long long cust, id, id2, eid;
	char *ev;

	(void)state;
	cust = E2E_CUSTOMER(ca, NULL);
	TC_OK(tc_cmd(w, "WATCH"));
	read_snapshot(w, NULL);

	/* agent */
	E2E_OK(ca, "STATE SET state=ready");
	ev = E2E_EVENT(w, "agent", EVENT_MS, "user", a, "state", "ready", NULL);
	E2E_KEYS(ev, "user", "state", "activity");
	free(ev);

	/* complaint and queue */
	id = E2E_COMPLAINT(ca, cust, "billing", 3);
	ev = E2E_EVENT(w, "complaint", EVENT_MS, "complaint", id_str(id), "state",
		       "new", "queue", "billing", "assignee", "", NULL);
	free(ev);
	ev = E2E_EVENT(w, "queue", EVENT_MS, "queue", "billing", NULL);
	E2E_KEYS(ev, "queue", "waiting", "oldest_wait", "agents_ready");
	free(ev);
	E2E_OK(ca, "COMPLAINT TAKE id=%lld", id);
	free(E2E_EVENT(w, "complaint", EVENT_MS, "complaint", id_str(id), "state",
		       "assigned", "assignee", a, NULL));
	/* (other is used below: not idle until then.) */
	E2E_PING(other);

	/* escalation */
	r = E2E_OK(ca, "ESCALATE complaint=%lld reason=x", id);
	eid = E2E_NUM(r, "escalation");
	ev = E2E_EVENT(w, "escalation", EVENT_MS, "escalation", id_str(eid),
		       "complaint", id_str(id), "state", "pending", "approver",
		       "role:supervisor", "level", "1", NULL);
	free(ev);
	E2E_OK(other, "REJECT escalation=%lld reason=no", eid);
	free(E2E_EVENT(w, "escalation", EVENT_MS, "escalation", id_str(eid),
		       "state", "rejected", NULL));

	/* A watcher of other queues hears nothing of billing complaints. */
	E2E_OK(w, "UNWATCH");
	TC_OK(tc_cmd(w, "WATCH queues=urgent"));
	read_snapshot(w, NULL);
	tc_events_clear(w);
	id2 = E2E_COMPLAINT(ca, cust, "billing", 3);
	expect_no_event(w, "complaint", "complaint", id_str(id2),
			"WATCH queues=urgent");

	/* UNWATCH: nothing any more. */
	r = E2E_OK(w, "UNWATCH");
	tc_events_clear(w);
	E2E_OK(ca, "STATE SET state=break");
	id2 = E2E_COMPLAINT(ca, cust, "billing", 3);
	E2E_OK(w, "PING");
	expect_no_event(w, "complaint", "complaint", id_str(id2), "after UNWATCH");
	expect_no_event(w, "agent", "user", a, "after UNWATCH");
	E2E_OK(w, "PING");
}

/* ---- a watcher too slow --------------------------------------------------- */

/* A TLS client of its own, with a small receive buffer, that stops reading
 * once WATCH is answered: the server's backlog for it must fill. */
struct slow {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
};

static void slow_close(struct slow *s)
{
	if (s->ssl != NULL)
		SSL_free(s->ssl);
	if (s->ctx != NULL)
		SSL_CTX_free(s->ctx);
	if (s->fd >= 0)
		close(s->fd);
	s->ssl = NULL;
	s->ctx = NULL;
	s->fd = -1;
}

static struct slow slow_conn = { -1, NULL, NULL };

static int slow_teardown(void **state)
{
	slow_close(&slow_conn);
	return e2e_node_teardown(state);
}

/* Reads one line (without LF) into buf; false on EOF, error or timeout. */
static bool slow_line(struct slow *s, char *buf, size_t len)
{
	size_t n = 0;

	for (;;) {
		char ch;
		int r = SSL_read(s->ssl, &ch, 1);

		if (r <= 0)
			return false;
		if (ch == '\n')
			break;
		if (n + 1 < len)
			buf[n++] = ch;
	}
	buf[n] = '\0';
	return true;
}

static bool slow_send(struct slow *s, const char *line)
{
	return SSL_write(s->ssl, line, (int)strlen(line)) == (int)strlen(line);
}

/* Sends a request and reads up to its final line. */
static bool slow_req(struct slow *s, const char *tag, const char *line,
		     char *final, size_t len)
{
	size_t tl = strlen(tag);

	if (!slow_send(s, line))
		return false;
	while (slow_line(s, final, len))
		if (strncmp(final, tag, tl) == 0 && final[tl] == ' ')
			return true;
	return false;
}

static void slow_open(struct slow *s, const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)atoi(port)) };
	struct timeval tv = { tc_timeout_ms() / 1000 + 1, 0 };
	int rcv = 2048, mss = 536;
	char line[512];

	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s->fd >= 0, "socket: %s", strerror(errno));
	/* Before connect, so that the window and segments start small:
	 * little can hide in the kernel's buffers. */
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	setsockopt(s->fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss));
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	CHECK(connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	      "connect to port %s: %s", port, strerror(errno));
	s->ctx = SSL_CTX_new(TLS_client_method());
	CHECK(s->ctx != NULL, "SSL_CTX_new");
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_options(s->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	CHECK(SSL_CTX_load_verify_locations(s->ctx, tc_env("CD_CA"), NULL) == 1,
	      "loading CA");
	s->ssl = SSL_new(s->ctx);
	CHECK(s->ssl != NULL && SSL_set_fd(s->ssl, s->fd) == 1, "SSL_new");
	CHECK(SSL_connect(s->ssl) == 1, "TLS handshake with port %s failed",
	      port);
	CHECK(slow_line(s, line, sizeof(line)) &&
	      strncmp(line, "* HELLO ", 8) == 0, "no greeting from port %s", port);
	CHECK(slow_req(s, "l1", e2e_fmt("l1 LOGIN user=sup1 password=%s\n",
					tc_q(tc_password())), line, sizeof(line)) &&
	      strncmp(line, "l1 OK", 5) == 0, "slow watcher: login: %s", line);
	CHECK(slow_req(s, "w1", "w1 WATCH\n", line, sizeof(line)) &&
	      strncmp(line, "w1 OK", 5) == 0, "slow watcher: WATCH: %s", line);
}

/* Reads whatever comes until the server closes (or EVENT_MS pass): the
 * last line must be "* BYE code=overloaded". */
static void slow_expect_bye(struct slow *s, size_t *read_bytes)
{
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap), *last, *end;
	int64_t deadline = e2e_mono_ms() + EVENT_MS;
	bool eof = false;

	CHECK(buf != NULL, "out of memory");
	while (e2e_mono_ms() < deadline) {
		int r;

		if (len + 4096 > cap) {
			char *nb = realloc(buf, cap * 2);

			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		errno = 0;
		r = SSL_read(s->ssl, buf + len, 4096);
		if (r > 0) {
			len += (size_t)r;
			continue;
		}
		/* SO_RCVTIMEO passed: nothing yet, the loop's deadline
		 * decides. Anything else is the end. */
		if (SSL_get_error(s->ssl, r) == SSL_ERROR_SYSCALL &&
		    (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		eof = true;
		break;
	}
	buf[len] = '\0';
	*read_bytes = len;
	/* The last complete line. */
	end = len > 0 && buf[len - 1] == '\n' ? buf + len - 1 : buf + len;
	*end = '\0';
	last = strrchr(buf, '\n');
	last = last != NULL ? last + 1 : buf;
	if (!eof || strncmp(last, "* BYE ", 6) != 0 ||
	    strstr(last, " code=overloaded") == NULL) {
		print_error("slow watcher: read %zu bytes, %s; last line: %.300s\n",
			    len, eof ? "then the server closed" :
				       "and the connection is still open",
			    last);
		free(buf);
		fail_msg("a watcher that does not read was not cut off with "
			 "\"* BYE code=overloaded\" followed by the close");
	}
	free(buf);
}

#define FLOODERS 4       /* agents changing state at once */
#define STEP 10          /* state changes each, per step */

/* The send queue (bytes) of the server's end of our connection from
 * local_port to the server's port, from /proc/net/tcp; -1 when unknown. */
static long server_send_queue(int server_port, int local_port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512];
	long q = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned la, lp, ra, rp, st;
		unsigned long tx, rx;

		if (sscanf(line, " %*d: %8X:%4X %8X:%4X %2X %8lX:%8lX", &la, &lp,
			   &ra, &rp, &st, &tx, &rx) == 7 &&
		    (int)lp == server_port && (int)rp == local_port) {
			q = (long)tx;
			break;
		}
	}
	fclose(f);
	return q;
}

/* One step of the flood: STEP state changes per agent, sent without
 * waiting, then their answers; the reading watcher is read meanwhile. */
static void flood_step(tc_conn **g, tc_conn *reader, int step)
{
	int i, k;

	for (k = 0; k < FLOODERS; k++)
		for (i = 0; i < STEP; i++)
			CHECK(tc_sendf(g[k], "g%d STATE SET state=%s", i,
				       (step * STEP + i) % 2 ? "ready" :
							       "not-ready"),
			      "send: %s", tc_error(g[k]));
	for (k = 0; k < FLOODERS; k++)
		for (i = 0; i < STEP; i++)
			TC_OK(tc_collect(g[k], e2e_fmt("g%d", i), 0));
	E2E_OK(reader, "PING");
	tc_events_clear(reader);
}

static void test_slow_watcher_cut_off(void **state)
{
	const char *port, *gen[FLOODERS];
	tc_conn *g[FLOODERS], *fast;
	struct sockaddr_in me;
	socklen_t melen = sizeof(me);
	long q, top = -1;
	size_t got = 0;
	int k, step, flat = 0, more = -1;
	char *ev;

	(void)state;
	/* $CD_CONFIG leaves watch_backlog at its default (1 MiB): a node of
	 * our own with the smallest backlog keeps the flood small. */
	port = E2E_NODE_START("second", "watch_backlog = 4096");
	for (k = 0; k < FLOODERS; k++) {
		gen[k] = E2E_USER("agent", "skills=billing");
		g[k] = tc_session(gen[k]);
	}
	slow_open(&slow_conn, port);
	CHECK(getsockname(slow_conn.fd, (struct sockaddr *)&me, &melen) == 0,
	      "getsockname: %s", strerror(errno));

	/* A watcher that keeps reading, on the same node, is not harmed. */
	fast = E2E_NODE_SESSION("sup1");
	TC_OK(tc_cmd(fast, "WATCH"));
	read_snapshot(fast, NULL);
	/* The first agents logged in a while ago (idle_timeout). */
	for (k = 0; k < FLOODERS; k++)
		E2E_PING(g[k]);

	/* Flood with state changes (each an event to every watcher) until
	 * the kernel's buffers between the server and the slow watcher are
	 * full (the server's send queue stops growing), then as much again
	 * as the backlog (4096 bytes) several times over. The slow watcher
	 * must then be read at once: the server may close soon after its
	 * BYE, and what it had not written yet is lost then. Without
	 * /proc/net/tcp: a fixed flood of some 40 KB. */
	for (step = 0; step < 200; step++) {
		flood_step(g, fast, step);
		if (more >= 0) {
			if (--more == 0)
				break;
			continue;
		}
		q = server_send_queue(atoi(port), ntohs(me.sin_port));
		if (q < 0) {
			if (step >= 15)
				break;
			continue;
		}
		/* Flat: no longer growing, and something is queued. */
		flat = q > top || q == 0 ? 0 : flat + 1;
		top = q > top ? q : top;
		if (flat >= 2)
			more = 4;  /* 4 x 40 events: over 10 KB */
	}
	slow_expect_bye(&slow_conn, &got);
	slow_close(&slow_conn);

	/* The reader still gets events. */
	tc_events_clear(fast);
	E2E_OK(g[0], "STATE SET state=break");
	ev = E2E_EVENT(fast, "agent", EVENT_MS, "user", gen[0], "state", "break",
		       NULL);
	free(ev);
	E2E_OK(fast, "PING");
}

/* ---- service levels: the fast category --------------------------------------- */

static void test_fast_sla_breach(void **state)
{
	const char *a = E2E_USER("agent", "skills=urgent");
	tc_conn *w = tc_session("sup1"), *c = tc_session(a), *sup;
	struct tc_resp *r;
	long long cust, id, eid = 0;
	bool risk[2] = { false, false }, breach[2] = { false, false };
	int64_t start, deadline;
	size_t i;
	long row = -1;

	(void)state;
	TC_OK(tc_cmd(w, "WATCH queues=urgent"));
	read_snapshot(w, NULL);
	cust = E2E_CUSTOMER(c, NULL);
	start = e2e_mono_ms();
	id = E2E_COMPLAINT(c, cust, "fast", 2);
	tc_close(&c);

	/* respond in 5 s, resolve in 10 s: at risk, then breached, each (the
	 * sweep every 2 s; a slow machine may take longer). */
	deadline = start + 10000 + EVENT_MS;
	while (!(breach[0] && breach[1])) {
		int64_t left = deadline - e2e_mono_ms();
		char *ev = e2e_event_match(w, "sla", left > 0 ? (int)left : 0,
					   "complaint", id_str(id), NULL);
		char *dl, *st;
		int k;

		CHECK(ev != NULL, "complaint %lld (category fast): within %d ms "
		      "expected sla events at-risk and breached for respond and "
		      "resolve; got respond %s/%s, resolve %s/%s", id,
		      10000 + EVENT_MS,
		      risk[0] ? "at-risk" : "-", breach[0] ? "breached" : "-",
		      risk[1] ? "at-risk" : "-", breach[1] ? "breached" : "-");
		E2E_KEYS(ev, "complaint", "deadline", "status");
		dl = tc_field(ev, "deadline");
		st = tc_field(ev, "status");
		k = strcmp(dl, "respond") == 0 ? 0 :
		    strcmp(dl, "resolve") == 0 ? 1 : -1;
		if (k >= 0 && strcmp(st, "at-risk") == 0) {
			CHECK(!breach[k], "sla at-risk for %s after breached", dl);
			risk[k] = true;
		} else if (k >= 0 && strcmp(st, "breached") == 0) {
			breach[k] = true;
		}
		free(dl);
		free(st);
		free(ev);
	}
	CHECK(risk[0] && risk[1], "no at-risk event before breached (respond "
	      "%d, resolve %d)", risk[0], risk[1]);
	CHECK(e2e_mono_ms() - start >= 9000, "resolve breached after %lld ms, "
	      "before the 10 s deadline", (long long)(e2e_mono_ms() - start));

	/* The automatic escalation: pushed, listed, by system. */
	free(E2E_EVENT(w, "escalation", EVENT_MS, "complaint", id_str(id), "state",
		       "pending", NULL));
	sup = tc_session("sup1");
	r = E2E_OK(sup, "ESCALATION LIST state=pending limit=1000");
	for (i = 0; i < r->nrows; i++)
		if (strcmp(tc_row_get(r, i, "complaint"), id_str(id)) == 0)
			row = (long)i;
	CHECK(row >= 0, "ESCALATION LIST: no pending escalation of complaint "
	      "%lld after its resolve deadline passed", id);
	E2E_ROW_FIELD(r, (size_t)row, "requested_by", "system");
	eid = atoll(tc_row_get(r, (size_t)row, "escalation"));
	/* It does not change the complaint's state. */
	r = E2E_OK(sup, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "new");
	/* Approving it records the decision and leaves the complaint. */
	r = E2E_OK(sup, "APPROVE escalation=%lld note=seen", eid);
	TC_FIELD(r, "state", "approved");
	TC_FIELD(r, "complaint_state", "new");
	r = E2E_OK(sup, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "new");
	E2E_OK(w, "PING");
}

/* ---- WAIT / RESUME -------------------------------------------------------- */

static void test_wait_resume_moves_resolve_by(void **state)
{
	const char *a = E2E_USER("agent", "skills=billing");
	tc_conn *c = tc_session(a);
	struct tc_resp *r;
	long long cust, id, inter;
	time_t before, after, again;
	int64_t w0, r1;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	id = E2E_COMPLAINT(c, cust, "billing", 3);
	E2E_OK(c, "COMPLAINT TAKE id=%lld", id);
	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	before = E2E_TIME(r, "resolve_by");

	/* Moved by the time spent waiting: at least the 3 s slept (2 in
	 * whole seconds), at most from before WAIT went to after RESUME's
	 * answer came (a busy machine may stretch that), plus rounding. (PING
	 * meanwhile: 3 s of silence is most of idle_timeout.) */
	w0 = e2e_mono_ms();
	r = E2E_OK(c, "COMPLAINT WAIT id=%lld reason=%s", id,
		   tc_q("waiting for the invoice copy"));
	TC_FIELD(r, "state", "waiting");
	E2E_SLEEP_BUSY(3000, c);
	r = E2E_OK(c, "COMPLAINT RESUME id=%lld", id);
	r1 = e2e_mono_ms();
	TC_FIELD(r, "state", "assigned");
	after = E2E_TIME(r, "resolve_by");
	CHECK(after - before >= 2 && after - before <= (r1 - w0) / 1000 + 2,
	      "after 3 s waiting (%lld ms in all) resolve_by moved by %ld s "
	      "(%s)", (long long)(r1 - w0), (long)(after - before),
	      tc_get(r, "resolve_by"));
	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	CHECK(E2E_TIME(r, "resolve_by") == after,
	      "GET resolve_by differs from RESUME's");
	E2E_EXPECT(c, "NO", "invalid-state", "COMPLAINT RESUME id=%lld", id);

	/* A new interaction on a waiting complaint resumes it too. */
	w0 = e2e_mono_ms();
	E2E_OK(c, "COMPLAINT WAIT id=%lld reason=x", id);
	E2E_SLEEP_BUSY(2500, c);
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=phone "
		   "direction=inbound complaint=%lld", cust, id);
	r1 = e2e_mono_ms();
	inter = E2E_NUM(r, "interaction");
	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	TC_FIELD(r, "state", "assigned");
	again = E2E_TIME(r, "resolve_by");
	CHECK(again - after >= 1 && again - after <= (r1 - w0) / 1000 + 2,
	      "after 2.5 s waiting (%lld ms in all) resolve_by moved by %ld s",
	      (long long)(r1 - w0), (long)(again - after));
	E2E_OK(c, "INTERACTION END id=%lld outcome=follow-up", inter);

	/* WAIT until=: the time passing resumes it. */
	{
		time_t until = time(NULL) + 2;
		struct tm tm;
		char buf[32];
		int64_t deadline;

		gmtime_r(&until, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		E2E_OK(c, "COMPLAINT WAIT id=%lld reason=x until=%s", id, buf);
		deadline = e2e_mono_ms() + 2000 + e2e_wait_ms();
		do {
			r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
			if (strcmp(tc_get(r, "state"), "assigned") == 0)
				break;
		} while (e2e_poll_sleep(deadline));
		TC_FIELD(r, "state", "assigned");
	}
}

/* ---- QUEUE LIST ------------------------------------------------------------ */

/* The figures of queue in QUEUE LIST. */
static void queue_figures(tc_conn *c, const char *queue, long long *waiting,
			  long long *ready)
{
	struct tc_resp *r = E2E_OK(c, "QUEUE LIST");
	size_t i;

	for (i = 0; i < r->nrows; i++) {
		E2E_KEYS(r->rows[i], "queue", "waiting", "oldest_wait",
			 "agents_ready");
		if (strcmp(tc_row_get(r, i, "queue"), queue) == 0) {
			*waiting = E2E_ROW_NUM(r, i, "waiting");
			*ready = E2E_ROW_NUM(r, i, "agents_ready");
			return;
		}
	}
	fail_msg("QUEUE LIST has no row for queue %s", queue);
}

static void test_queue_list_agents_ready(void **state)
{
	const char *a = E2E_USER("agent", "skills=tech");
	tc_conn *sup = tc_session("sup1"), *c = tc_session(a);
	long long w0, r0, w, rd, cust, inter;
	struct tc_resp *r;

	(void)state;
	queue_figures(sup, "tech", &w0, &r0);
	/* ready and idle: counted */
	E2E_OK(c, "STATE SET state=ready");
	queue_figures(sup, "tech", &w, &rd);
	CHECK(rd == r0 + 1, "tech agents_ready %lld after %s became ready, "
	      "expected %lld", rd, a, r0 + 1);
	/* ready but in an interaction: not */
	cust = E2E_CUSTOMER(c, NULL);
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=chat "
		   "direction=inbound", cust);
	inter = E2E_NUM(r, "interaction");
	queue_figures(sup, "tech", &w, &rd);
	CHECK(rd == r0, "tech agents_ready %lld while %s is in an interaction, "
	      "expected %lld", rd, a, r0);
	E2E_OK(c, "INTERACTION END id=%lld outcome=resolved", inter);
	E2E_OK(c, "STATE SET state=ready");
	queue_figures(sup, "tech", &w, &rd);
	CHECK(rd == r0 + 1, "tech agents_ready %lld after the interaction, "
	      "expected %lld", rd, r0 + 1);
	/* on a break: not */
	E2E_OK(c, "STATE SET state=break");
	queue_figures(sup, "tech", &w, &rd);
	CHECK(rd == r0, "tech agents_ready %lld with %s on a break, expected "
	      "%lld", rd, a, r0);
	/* waiting counts new complaints */
	E2E_COMPLAINT(sup, cust, "technical", 3);
	queue_figures(sup, "tech", &w, &rd);
	CHECK(w == w0 + 1, "tech waiting %lld after a complaint was opened, "
	      "expected %lld", w, w0 + 1);
	r = E2E_OK(sup, "QUEUE LIST");
	TC_FIELD(r, "count", e2e_fmt("%zu", r->nrows));
}

/* ---- two nodes ------------------------------------------------------------- */

#define N200 200
#define RACERS 4     /* agents, each with a connection on either node */

static void test_two_nodes_next_200(void **state)
{
	const char *names[RACERS];
	tc_conn *conns[RACERS * 2], *sup;
	long long mine[N200], cust;
	long long *taken = NULL;
	size_t ntaken = 0, cap = 0;
	int i, k, round, done;
	struct tc_resp *r;
	char *ids;
	size_t idlen;

	(void)state;
	E2E_NODE_START("second", NULL);
	sup = tc_session("sup1");
	cust = E2E_CUSTOMER(sup, NULL);
	/* Pipelined: 200 complaints in queue tech. */
	for (i = 0; i < N200; i++)
		CHECK(tc_sendf(sup, "o%d COMPLAINT OPEN customer=%lld "
			       "category=technical severity=4 summary=race%d",
			       i, cust, i), "send: %s", tc_error(sup));
	for (i = 0; i < N200; i++) {
		r = tc_collect(sup, e2e_fmt("o%d", i), e2e_wait_ms());
		TC_OK(r);
		mine[i] = E2E_NUM(r, "complaint");
	}
	for (k = 0; k < RACERS; k++) {
		names[k] = E2E_USER("agent", "skills=tech capacity=1000");
		conns[2 * k] = tc_session(names[k]);
		conns[2 * k + 1] = E2E_NODE_SESSION(names[k]);
		E2E_OK(conns[2 * k + (k % 2)], "STATE SET state=ready");
	}
	/* The first sessions logged in a while ago (idle_timeout). */
	for (k = 0; k < RACERS * 2; k++)
		E2E_PING(conns[k]);

	/* Rounds: every connection sends three NEXT, then all answers are
	 * read; until a whole round finds the queue empty. */
	for (round = 0, done = 0; !done; round++) {
		CHECK(round < 200, "NEXT still gives complaints after 200 rounds");
		for (k = 0; k < RACERS * 2; k++)
			for (i = 0; i < 3; i++)
				CHECK(tc_sendf(conns[k], "n%d NEXT", i), "send: %s",
				      tc_error(conns[k]));
		done = 1;
		for (k = 0; k < RACERS * 2; k++) {
			for (i = 0; i < 3; i++) {
				r = tc_collect(conns[k], e2e_fmt("n%d", i),
					       e2e_wait_ms());
				if (strcmp(r->word, "OK") == 0) {
					TC_FIELD(r, "assignee", names[k / 2]);
					if (ntaken == cap) {
						cap = cap ? cap * 2 : 256;
						taken = realloc(taken, cap * sizeof(*taken));
						CHECK(taken != NULL, "out of memory");
					}
					taken[ntaken++] = E2E_NUM(r, "complaint");
					done = 0;
				} else {
					TC_EXPECT(r, "NO", "empty");
				}
				tc_resp_free(&r);
			}
		}
	}

	/* Each complaint given once, every one of ours given. */
	for (i = 0; i < (int)ntaken; i++)
		for (k = i + 1; k < (int)ntaken; k++)
			if (taken[i] == taken[k]) {
				long long dup = taken[i];

				free(taken);
				fail_msg("NEXT gave complaint %lld twice", dup);
			}
	for (i = 0; i < N200; i++) {
		bool found = false;

		for (k = 0; k < (int)ntaken && !found; k++)
			found = taken[k] == mine[i];
		if (!found) {
			free(taken);
			fail_msg("complaint %lld was never given by NEXT", mine[i]);
		}
	}
	free(taken);

	/* And in PostgreSQL: each assigned once, to one of ours. */
	idlen = (size_t)N200 * 24 + 4;
	ids = malloc(idlen);
	CHECK(ids != NULL, "out of memory");
	snprintf(ids, idlen, "{");
	for (i = 0; i < N200; i++)
		snprintf(ids + strlen(ids), idlen - strlen(ids), "%s%lld",
			 i ? "," : "", mine[i]);
	snprintf(ids + strlen(ids), idlen - strlen(ids), "}");
	k = (int)tdb_int("SELECT count(*) FROM complaints c JOIN users u ON "
			 "u.id = c.assignee_id WHERE c.id = ANY ($1::bigint[]) "
			 "AND c.state = 'assigned' AND u.name = ANY ($2::text[])",
			 ids, e2e_fmt("{%s,%s,%s,%s}", names[0], names[1],
				      names[2], names[3]), NULL);
	i = (int)tdb_int("SELECT count(*) FROM (SELECT complaint_id FROM "
			 "complaint_history WHERE event = 'assigned' AND "
			 "complaint_id = ANY ($1::bigint[]) GROUP BY complaint_id "
			 "HAVING count(*) <> 1) x", ids, NULL);
	free(ids);
	CHECK(k == N200, "%d of %d complaints assigned to the racing agents in "
	      "the database", k, N200);
	CHECK(i == 0, "%d complaints were assigned more than once", i);
}

static void test_two_nodes_events_cross(void **state)
{
	const char *a = E2E_USER("agent", "skills=billing");
	tc_conn *w2, *w1, *c1, *c2;
	long long cust, id;

	(void)state;
	E2E_NODE_START("second", NULL);
	/* A watcher on node 2, a change on node 1. */
	w2 = E2E_NODE_SESSION("sup1");
	TC_OK(tc_cmd(w2, "WATCH"));
	read_snapshot(w2, NULL);
	c1 = tc_session(a);
	cust = E2E_CUSTOMER(c1, NULL);
	id = E2E_COMPLAINT(c1, cust, "billing", 3);
	free(E2E_EVENT(w2, "complaint", EVENT_MS, "complaint", id_str(id), "state",
		       "new", NULL));
	E2E_OK(c1, "STATE SET state=ready");
	free(E2E_EVENT(w2, "agent", EVENT_MS, "user", a, "state", "ready", NULL));

	/* And the other way. */
	w1 = tc_session("sup1");
	TC_OK(tc_cmd(w1, "WATCH"));
	read_snapshot(w1, NULL);
	E2E_PING(c1); /* used again below (idle_timeout) */
	c2 = E2E_NODE_SESSION(a);
	E2E_OK(c2, "COMPLAINT TAKE id=%lld", id);
	free(E2E_EVENT(w1, "complaint", EVENT_MS, "complaint", id_str(id), "state",
		       "assigned", "assignee", a, NULL));

	/* A push to a user crosses too: ASSIGN on node 1, the assignee's
	 * session on node 2. */
	id = E2E_COMPLAINT(c1, cust, "billing", 3);
	tc_events_clear(c2);
	E2E_OK(w1, "ASSIGN complaint=%lld agent=%s", id, a);
	free(E2E_EVENT(c2, "complaint", EVENT_MS, "complaint", id_str(id),
		       "assignee", a, NULL));
	/* State belongs to the user, on every node. */
	E2E_OK(c2, "STATE SET state=break");
	{
		struct tc_resp *r = E2E_OK(c1, "STATE");

		TC_FIELD(r, "state", "break");
	}
}

int e2e_group_routing(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_next_order, tc_teardown),
		cmocka_unit_test_teardown(test_next_refusals, tc_teardown),
		cmocka_unit_test_teardown(test_next_at_capacity, tc_teardown),
		cmocka_unit_test_teardown(test_assign_push, tc_teardown),
		cmocka_unit_test_teardown(test_state_durations, tc_teardown),
		cmocka_unit_test_teardown(test_watch_snapshot, tc_teardown),
		cmocka_unit_test_teardown(test_watch_live_events, tc_teardown),
		cmocka_unit_test_teardown(test_slow_watcher_cut_off,
					  slow_teardown),
		cmocka_unit_test_teardown(test_fast_sla_breach, tc_teardown),
		cmocka_unit_test_teardown(test_wait_resume_moves_resolve_by,
					  tc_teardown),
		cmocka_unit_test_teardown(test_queue_list_agents_ready,
					  tc_teardown),
		cmocka_unit_test_teardown(test_two_nodes_next_200,
					  e2e_node_teardown),
		cmocka_unit_test_teardown(test_two_nodes_events_cross,
					  e2e_node_teardown),
	};

	return cmocka_run_group_tests_name("routing", tests, NULL, NULL);
}
