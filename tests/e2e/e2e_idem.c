/* e2e_idem.c: the "idem" group: idempotency keys (PROTOCOL.md §4). The
 * same key and request replays the stored OK under the new tag and changes
 * nothing twice (rows counted in the database), from any connection and
 * after a restart; other arguments or another verb under the key is
 * idem-conflict; values are compared after normalisation; answers other
 * than OK are not stored; concurrent requests with one key make one
 * change; keys belong to their user; reads ignore them. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <cmocka.h>

#include "e2e.h"
#include "e2e_util.h"
#include "tclient.h"
#include "tdb.h"
#include "tserver.h"

/* The final line without its tag. */
static const char *untagged(struct tc_resp *r)
{
	const char *sp = r->final != NULL ? strchr(r->final, ' ') : NULL;

	return sp != NULL ? sp + 1 : "(no answer)";
}

/* r2 is r1 again, under its own tag. */
#define EXPECT_REPLAY(r1, r2)                                              \
	do {                                                               \
		E2E_RESP((r2), "OK", NULL);                                \
		CHECK(strcmp(untagged(r1), untagged(r2)) == 0,             \
		      "a replay must repeat the stored answer under the "  \
		      "new tag:\n  first:  %s\n  replay: %s", (r1)->final, \
		      (r2)->final);                                        \
		CHECK(strncmp((r2)->final, (r2)->tag, strlen((r2)->tag)) == 0, \
		      "replay not under the new tag %s: %s", (r2)->tag,    \
		      (r2)->final);                                        \
	} while (0)

static long long customers_named(const char *name)
{
	return tdb_int("SELECT count(*) FROM customers WHERE name = $1", name,
		       NULL);
}

static long long history_count(long long complaint, const char *event)
{
	return tdb_int("SELECT count(*) FROM complaint_history "
		       "WHERE complaint_id = $1 AND event = $2",
		       e2e_fmt("%lld", complaint), event, NULL);
}

#define EXPECT_COUNT(got, want, what)                                      \
	do {                                                               \
		long long got_ = (got);                                    \
		CHECK(got_ == (want), "%s: expected %lld row(s) in the "   \
		      "database, got %lld", (what), (long long)(want),     \
		      got_);                                               \
	} while (0)

/* ---- replay ------------------------------------------------------------- */

static void test_idem_replay(void **state)
{
	tc_conn *c = tc_session("agent1");
	tc_conn *c2 = tc_session("agent1");
	const char *name = e2e_uniq("Idem Customer ");
	const char *key = e2e_uniq("key-");
	struct tc_resp *r1, *r2, *r3;
	long long cust, comp;

	(void)state;
	r1 = tc_reqf(c, "first CUSTOMER ADD name=%s phone=555 idem=%s",
		     tc_q(name), key);
	E2E_RESP(r1, "OK", NULL);
	E2E_NUM(r1, "customer");
	r2 = tc_reqf(c, "second CUSTOMER ADD name=%s phone=555 idem=%s",
		     tc_q(name), key);
	EXPECT_REPLAY(r1, r2);
	/* From another connection of the same user. */
	r3 = tc_reqf(c2, "third CUSTOMER ADD name=%s phone=555 idem=%s",
		     tc_q(name), key);
	EXPECT_REPLAY(r1, r3);
	EXPECT_COUNT(customers_named(name), 1, name);

	/* A change to a complaint: one history entry. */
	cust = E2E_NUM(r1, "customer");
	comp = E2E_COMPLAINT(c, cust, "billing", 3);
	key = e2e_uniq("note-");
	r1 = E2E_OK(c, "COMPLAINT NOTE id=%lld text=%s idem=%s", comp,
		    tc_q("called the customer"), key);
	r2 = E2E_OK(c2, "COMPLAINT NOTE id=%lld text=%s idem=%s", comp,
		    tc_q("called the customer"), key);
	EXPECT_REPLAY(r1, r2);
	EXPECT_COUNT(history_count(comp, "note"), 1, "notes on the complaint");

	/* A state move: TAKE replayed says OK again, not invalid-state. */
	key = e2e_uniq("take-");
	r1 = E2E_OK(c, "COMPLAINT TAKE id=%lld idem=%s", comp, key);
	r2 = E2E_OK(c, "COMPLAINT TAKE id=%lld idem=%s", comp, key);
	EXPECT_REPLAY(r1, r2);
	TC_FIELD(r2, "state", "assigned");
	EXPECT_COUNT(history_count(comp, "assigned"), 1, "assigned entries");
	/* Without the key, the same TAKE is refused. */
	E2E_EXPECT(c, "NO", "invalid-state", "COMPLAINT TAKE id=%lld", comp);
}

static void test_idem_conflict(void **state)
{
	tc_conn *c = tc_session("agent1");
	const char *name = e2e_uniq("Conflict ");
	const char *key = e2e_uniq("ck-");
	struct tc_resp *r;
	long long cust;

	(void)state;
	r = E2E_OK(c, "CUSTOMER ADD name=%s idem=%s", tc_q(name), key);
	cust = E2E_NUM(r, "customer");
	/* Other arguments. */
	E2E_EXPECT(c, "NO", "idem-conflict", "CUSTOMER ADD name=%s idem=%s",
		   tc_q(e2e_fmt("%s 2", name)), key);
	E2E_EXPECT(c, "NO", "idem-conflict", "CUSTOMER ADD name=%s "
		   "phone=123 idem=%s", tc_q(name), key);
	E2E_EXPECT(c, "NO", "idem-conflict", "CUSTOMER ADD name=%s vip=yes "
		   "idem=%s", tc_q(name), key);
	/* Another verb. */
	E2E_EXPECT(c, "NO", "idem-conflict", "INTERACTION START customer=%lld "
		   "channel=phone direction=inbound idem=%s", cust, key);
	E2E_EXPECT(c, "NO", "idem-conflict", "CUSTOMER SET id=%lld vip=yes "
		   "idem=%s", cust, key);
	/* Nothing of them happened. */
	EXPECT_COUNT(customers_named(name), 1, name);
	EXPECT_COUNT(customers_named(e2e_fmt("%s 2", name)), 0, "other name");
	EXPECT_COUNT(tdb_int("SELECT count(*) FROM interactions WHERE "
			     "customer_id = $1", e2e_fmt("%lld", cust), NULL),
		     0, "interactions");
	/* The key still replays its own request. */
	r = E2E_OK(c, "CUSTOMER ADD name=%s idem=%s", tc_q(name), key);
	TC_FIELD(r, "customer", e2e_fmt("%lld", cust));
	/* Arguments are checked before the key: a bad request is BAD. */
	E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER ADD name=%s vip=maybe "
		   "idem=%s", tc_q(name), key);
}

/* Passwords are part of a request's identity too: the same key with
 * another password is NO idem-conflict and changes nothing; with the same
 * one, the first answer again. (What is stored of them is an argon2id
 * digest, never the password or a fast hash of it.) */
static void test_idem_passwords(void **state)
{
	tc_conn *adm = tc_session("admin1");
	const char *name = e2e_uniq("ip");
	const char *k1 = e2e_uniq("pw-add-"), *k2 = e2e_uniq("pw-set-");
	const char *k3 = e2e_uniq("pw-own-");
	struct tc_resp *r1, *r2, *r;
	tc_conn *c, *d;

	(void)state;
	r1 = E2E_OK(adm, "USER ADD name=%s role=agent password=first-pw idem=%s",
		    name, k1);
	r2 = E2E_OK(adm, "USER ADD name=%s role=agent password=first-pw idem=%s",
		    name, k1);
	EXPECT_REPLAY(r1, r2);
	E2E_EXPECT(adm, "NO", "idem-conflict", "USER ADD name=%s role=agent "
		   "password=other-pw idem=%s", name, k1);

	E2E_OK(adm, "USER SET name=%s password=second-pw idem=%s", name, k2);
	E2E_EXPECT(adm, "NO", "idem-conflict", "USER SET name=%s "
		   "password=third-pw idem=%s", name, k2);
	E2E_OK(adm, "USER SET name=%s password=second-pw idem=%s", name, k2);

	c = tc_connect();
	r = tc_login(c, name, "second-pw");
	E2E_RESP(r, "OK", NULL);
	E2E_OK(c, "PASSWORD old=second-pw new=own-pw idem=%s", k3);
	/* A retry replays, although second-pw is no longer the password. */
	E2E_OK(c, "PASSWORD old=second-pw new=own-pw idem=%s", k3);
	E2E_EXPECT(c, "NO", "idem-conflict", "PASSWORD old=second-pw "
		   "new=not-this-pw idem=%s", k3);
	E2E_EXPECT(c, "NO", "idem-conflict", "PASSWORD old=wrong-pw "
		   "new=own-pw idem=%s", k3);

	/* Only the first of each changed anything. */
	d = tc_connect();
	r = tc_login(d, name, "not-this-pw");
	E2E_RESP(r, "NO", "auth-failed");
	r = tc_login(d, name, "own-pw");
	E2E_RESP(r, "OK", NULL);
	tc_close(&d);
	/* No stored answer holds a password. */
	EXPECT_COUNT(tdb_int("SELECT count(*) FROM idem_keys WHERE "
			     "response LIKE '%-pw%'", NULL), 0,
		     "stored answers with a password");
}

/* Values compared after normalisation: order of keys, quoting, escapes,
 * the case of the verb, time forms, money digits. */
static void test_idem_normalisation(void **state)
{
	tc_conn *c = tc_session("agent2");
	const char *name = e2e_uniq("Ann Lee ");
	const char *key = e2e_uniq("nk-");
	struct tc_resp *r1, *r2;
	long long cust, comp, ia;

	(void)state;
	r1 = E2E_OK(c, "CUSTOMER ADD name=%s phone=0123 vip=no idem=%s",
		    tc_q(name), key);
	r2 = E2E_OK(c, "customer add vip=no phone=\"0123\" idem=%s name=%s",
		    key, tc_q(name));
	EXPECT_REPLAY(r1, r2);
	EXPECT_COUNT(customers_named(name), 1, name);
	cust = E2E_NUM(r1, "customer");

	/* A bare value with a backslash is the quoted value escaped. */
	r1 = E2E_OK(c, "INTERACTION START customer=%lld channel=phone "
		    "direction=inbound", cust);
	ia = E2E_NUM(r1, "interaction");
	key = e2e_uniq("nk-");
	r1 = E2E_OK(c, "INTERACTION NOTE id=%lld text=C:\\dir\\file idem=%s",
		    ia, key);
	r2 = E2E_OK(c, "INTERACTION NOTE text=\"C:\\\\dir\\\\file\" id=%lld "
		    "idem=%s", ia, key);
	EXPECT_REPLAY(r1, r2);
	EXPECT_COUNT(tdb_int("SELECT count(*) FROM notes WHERE "
			     "interaction_id = $1", e2e_fmt("%lld", ia), NULL),
		     1, "notes");
	E2E_OK(c, "INTERACTION END id=%lld outcome=resolved", ia);

	/* The same instant written three ways. */
	comp = E2E_COMPLAINT(c, cust, "technical", 3);
	E2E_OK(c, "COMPLAINT TAKE id=%lld", comp);
	key = e2e_uniq("nk-");
	r1 = E2E_OK(c, "COMPLAINT WAIT id=%lld reason=r until=2099-01-01T00:00:00Z "
		    "idem=%s", comp, key);
	r2 = E2E_OK(c, "COMPLAINT WAIT id=%lld reason=r "
		    "until=2099-01-01T01:00:00+01:00 idem=%s", comp, key);
	EXPECT_REPLAY(r1, r2);
	r2 = E2E_OK(c, "COMPLAINT WAIT id=%lld reason=r "
		    "until=2099-01-01T00:00:00.000Z idem=%s", comp, key);
	EXPECT_REPLAY(r1, r2);
	EXPECT_COUNT(history_count(comp, "waiting"), 1, "waiting entries");
	E2E_EXPECT(c, "NO", "idem-conflict", "COMPLAINT WAIT id=%lld reason=r "
		   "until=2099-01-01T00:00:01Z idem=%s", comp, key);
	E2E_OK(c, "COMPLAINT RESUME id=%lld", comp);

	/* Money: 25.5 is 25.50 (a refund within tier 2's authority). */
	key = e2e_uniq("nk-");
	r1 = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=refund amount=25.5 "
		    "resolution=%s idem=%s", comp, tc_q("partial refund"), key);
	r2 = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=refund amount=25.50 "
		    "resolution=%s idem=%s", comp, tc_q("partial refund"), key);
	EXPECT_REPLAY(r1, r2);
	EXPECT_COUNT(history_count(comp, "resolved") +
			     history_count(comp, "escalated"),
		     1, "resolutions");
	E2E_EXPECT(c, "NO", "idem-conflict", "COMPLAINT RESOLVE id=%lld "
		   "action=refund amount=25.51 resolution=%s idem=%s", comp,
		   tc_q("partial refund"), key);
}

/* The key is kept in the database: a new server replays it. Ends with the
 * server restarted (by SIGTERM, exit 0). */
static void test_idem_after_restart(void **state)
{
	tc_conn *c = tc_session("agent3");
	const char *name = e2e_uniq("Restart ");
	const char *key = e2e_uniq("rk-");
	struct tc_resp *r1, *r2;

	(void)state;
	r1 = tc_reqf(c, "before CUSTOMER ADD name=%s idem=%s", tc_q(name), key);
	E2E_RESP(r1, "OK", NULL);
	tsrv_restart();
	tc_close(&c);
	c = tc_session("agent3");
	r2 = tc_reqf(c, "after CUSTOMER ADD name=%s idem=%s", tc_q(name), key);
	EXPECT_REPLAY(r1, r2);
	EXPECT_COUNT(customers_named(name), 1, name);
	E2E_EXPECT(c, "NO", "idem-conflict", "CUSTOMER ADD name=%s phone=1 "
		   "idem=%s", tc_q(name), key);
}

/* Only OK answers are stored: after a refusal the same key works once the
 * state allows it. */
static void test_idem_refusal_not_stored(void **state)
{
	tc_conn *c = tc_session("agent1");
	const char *key = e2e_uniq("nok-");
	const char *name = e2e_uniq("Refused ");
	struct tc_resp *r1, *r2;
	long long cust, comp;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	comp = E2E_COMPLAINT(c, cust, "billing", 2);
	E2E_OK(c, "COMPLAINT TAKE id=%lld", comp);
	E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=apology resolution=x",
	       comp);
	E2E_EXPECT(c, "NO", "no-reply", "COMPLAINT CLOSE id=%lld idem=%s",
		   comp, key);
	E2E_OK(c, "COMPLAINT NOTE id=%lld text=%s reply=yes", comp,
	       tc_q("we fixed it"));
	r1 = E2E_OK(c, "COMPLAINT CLOSE id=%lld idem=%s", comp, key);
	TC_FIELD(r1, "state", "closed");
	r2 = E2E_OK(c, "COMPLAINT CLOSE id=%lld idem=%s", comp, key);
	EXPECT_REPLAY(r1, r2);
	EXPECT_COUNT(history_count(comp, "closed"), 1, "closed entries");

	/* A not-found is not stored either. */
	key = e2e_uniq("nok-");
	E2E_EXPECT(c, "NO", "not-found", "COMPLAINT NOTE id=987654321987 "
		   "text=x idem=%s", key);
	E2E_OK(c, "COMPLAINT NOTE id=%lld text=x idem=%s", comp, key);

	/* Nor a BAD. */
	key = e2e_uniq("nok-");
	E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER ADD name=%s vip=maybe "
		   "idem=%s", tc_q(name), key);
	E2E_OK(c, "CUSTOMER ADD name=%s idem=%s", tc_q(name), key);
	EXPECT_COUNT(customers_named(name), 1, name);
}

/* Requests with one key on several connections at once: one change, and
 * every one of them gets its outcome. */
static void test_idem_concurrent(void **state)
{
	enum { N = 4, ROUNDS = 3 };
	tc_conn *c[N];
	int i, round;

	(void)state;
	for (i = 0; i < N; i++)
		c[i] = tc_session("agent2");
	for (round = 0; round < ROUNDS; round++) {
		const char *name = e2e_uniq("Concurrent ");
		const char *key = e2e_uniq("cc-");
		struct tc_resp *r[N];

		for (i = 0; i < N; i++)
			CHECK(tc_sendf(c[i], "c%d CUSTOMER ADD name=%s idem=%s",
				       i, tc_q(name), key),
			      "send: %s", tc_error(c[i]));
		for (i = 0; i < N; i++) {
			r[i] = tc_collect(c[i], e2e_fmt("c%d", i), 0);
			E2E_RESP(r[i], "OK", NULL);
			if (i > 0)
				CHECK(strcmp(tc_get(r[0], "customer"),
					     tc_get(r[i], "customer")) == 0,
				      "one key, two customers: %s and %s",
				      r[0]->final, r[i]->final);
		}
		EXPECT_COUNT(customers_named(name), 1, name);
	}
}

/* A request whose key is still being processed on another connection
 * waits for it, then gets its outcome: the first is held in the database
 * (a lock its INSERT waits on) while the second arrives. */
static void test_idem_waits_for_key(void **state)
{
	tc_conn *a = tc_session("agent3");
	tc_conn *b = tc_session("agent3");
	const char *name = e2e_uniq("Held ");
	const char *key = e2e_uniq("held-");
	struct tc_resp *ra, *rb;
	bool sa, sb;

	(void)state;
	tdb_exec("BEGIN", NULL);
	tdb_exec("LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE", NULL);
	sa = tc_sendf(a, "h1 CUSTOMER ADD name=%s idem=%s", tc_q(name), key);
	/* The first holds the key once its INSERT waits on the lock; only
	 * then the second, which waits for the first's key. */
	if (sa)
		E2E_LOCK_WAITERS(1);
	sb = tc_sendf(b, "h2 CUSTOMER ADD name=%s idem=%s", tc_q(name), key);
	if (sb)
		E2E_LOCK_WAITERS(2);
	/* Neither may answer while the first is held. */
	rb = tc_collect(b, "h2", 300);
	tdb_exec("COMMIT", NULL);
	CHECK(sa && sb, "send: %s %s", tc_error(a), tc_error(b));
	CHECK(rb->end != TC_LINE, "the second request did not wait for the "
	      "first with its key: %s", rb->final ? rb->final : rb->word);
	ra = tc_collect(a, "h1", 0);
	E2E_RESP(ra, "OK", NULL);
	rb = tc_collect(b, "h2", 0);
	EXPECT_REPLAY(ra, rb);
	EXPECT_COUNT(customers_named(name), 1, name);
}

/* A key belongs to its user: another user's same key is another request. */
static void test_idem_per_user(void **state)
{
	tc_conn *a = tc_session("agent1");
	tc_conn *b = tc_session("agent2");
	const char *name = e2e_uniq("Per User ");
	const char *key = e2e_uniq("pu-");
	struct tc_resp *r1, *r2;

	(void)state;
	r1 = E2E_OK(a, "CUSTOMER ADD name=%s idem=%s", tc_q(name), key);
	r2 = E2E_OK(b, "CUSTOMER ADD name=%s idem=%s", tc_q(name), key);
	CHECK(strcmp(tc_get(r1, "customer"), tc_get(r2, "customer")) != 0,
	      "two users' requests with the same key made one customer: %s",
	      r1->final);
	EXPECT_COUNT(customers_named(name), 2, name);
	/* And no conflict across users. */
	E2E_OK(b, "CUSTOMER ADD name=%s phone=1 idem=%s",
	       tc_q(e2e_fmt("%s b", name)), e2e_uniq("pu-"));
}

/* Verbs that change nothing ignore the key: it stays free. */
static void test_idem_reads_ignore(void **state)
{
	tc_conn *c = tc_session("agent1");
	const char *key = e2e_uniq("rd-");
	long long cust;
	struct tc_resp *r;

	(void)state;
	cust = E2E_CUSTOMER(c, NULL);
	E2E_OK(c, "CUSTOMER GET id=%lld idem=%s", cust, key);
	E2E_OK(c, "CUSTOMER FIND name=cust idem=%s limit=1", key);
	E2E_OK(c, "PING idem=%s", key);
	E2E_OK(c, "CATEGORY LIST idem=%s", key);
	r = E2E_OK(c, "CUSTOMER ADD name=%s idem=%s",
		   tc_q(e2e_uniq("After Reads ")), key);
	E2E_NUM(r, "customer");
}

static void test_idem_bad_key(void **state)
{
	static const char *const bad[] = {
		"\"\"", "\"a b\"", "a/b", "a+b", "é", "a=b", "a,b",
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:_",
	};
	tc_conn *c = tc_session("agent1");
	const char *k64 =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:";
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad); i++)
		E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER ADD name=x idem=%s",
			   bad[i]);
	E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER ADD name=x idem=a idem=a");
	/* 64 characters of the allowed set, with a unique start. */
	{
		const char *u = e2e_uniq("k");
		const char *key = e2e_fmt("%s-%.*s", u, (int)(63 - strlen(u)),
					  k64);

		CHECK(strlen(key) == 64, "test bug: key of %zu", strlen(key));
		E2E_OK(c, "CUSTOMER ADD name=x idem=%s", key);
	}
	E2E_OK(c, "CUSTOMER ADD name=x idem=%s",
	       e2e_fmt("A.b_c:d-%s", e2e_uniq("k")));
}

int e2e_group_idem(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_idem_replay, tc_teardown),
		cmocka_unit_test_teardown(test_idem_conflict, tc_teardown),
		cmocka_unit_test_teardown(test_idem_passwords, tc_teardown),
		cmocka_unit_test_teardown(test_idem_normalisation, tc_teardown),
		cmocka_unit_test_teardown(test_idem_after_restart, tc_teardown),
		cmocka_unit_test_teardown(test_idem_refusal_not_stored,
					  tc_teardown),
		cmocka_unit_test_teardown(test_idem_concurrent, tc_teardown),
		cmocka_unit_test_teardown(test_idem_waits_for_key, tc_teardown),
		cmocka_unit_test_teardown(test_idem_per_user, tc_teardown),
		cmocka_unit_test_teardown(test_idem_reads_ignore, tc_teardown),
		cmocka_unit_test_teardown(test_idem_bad_key, tc_teardown),
	};

	return cmocka_run_group_tests_name("idem", tests, NULL, NULL);
}
