/* e2e_users.c: the "users" group (PROTOCOL.md §5): USER ADD and USER SET
 * by an admin (and nobody else), the new user's login, enabled=no ending
 * live sessions, PASSWORD, what the integration role may and may not do,
 * and the throttling of failed logins per user-and-address and per
 * address. Every test that fails logins on purpose binds a loopback
 * address of its own (127.0.0.3 and up) so that no other test is locked
 * out. */
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

/* login_max_failures of the generated configuration. */
#define MAX_FAILURES 3

/* A connection from a loopback address of the test's own. */
static tc_conn *connect_from(const char *source)
{
	struct tc_opts o = { .source = source };

	return tc_connect_opts(&o);
}

/* The final line without its tag, to compare two answers. */
static const char *untagged(struct tc_resp *r)
{
	const char *sp = r->final != NULL ? strchr(r->final, ' ') : NULL;

	return sp != NULL ? sp + 1 : "(no answer)";
}

/* Every name of a comma-separated list is in the other and back. */
static bool same_set(const char *a, const char *b)
{
	char *x = strdup(a), *y = strdup(b), *save = NULL, *tok;
	size_t na = 0, nb = 0;
	bool ok = true;

	assert_non_null(x);
	assert_non_null(y);
	for (tok = strtok_r(x, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *p = b;
		size_t n = strlen(tok);
		bool found = false;

		na++;
		while (*p != '\0' && !found) {
			size_t m = strcspn(p, ",");

			found = m == n && strncmp(p, tok, n) == 0;
			p += m + (p[m] == ',');
		}
		ok = ok && found;
	}
	for (tok = strtok_r(y, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		nb++;
	free(x);
	free(y);
	return ok && na == nb;
}

#define EXPECT_SKILLS(r, want)                                             \
	do {                                                               \
		const char *got_ = TC_HAS((r), "skills");                  \
		CHECK(same_set(got_, (want)), "expected skills=%s, got "   \
		      "skills=%s", (want), got_);                          \
	} while (0)

/* ---- USER ADD ------------------------------------------------------------- */

static void test_user_add(void **state)
{
	static const char *const roles[] = { "agent", "supervisor", "admin",
					     "integration" };
	tc_conn *admin = tc_session("admin1");
	const char *name = e2e_uniq("new.agent-");
	const char *pass = "n3w \"pass\" wörd";
	tc_conn *c;
	struct tc_resp *r;
	size_t i;

	(void)state;
	r = E2E_OK(admin, "USER ADD name=%s role=agent tier=2 "
		   "skills=billing,technical,urgent team=green dept=logistics "
		   "capacity=5 password=%s", name, tc_q(pass));
	TC_FIELD(r, "user", name);

	/* The new user logs in with what was given. */
	c = tc_connect();
	r = tc_login(c, name, pass);
	E2E_RESP(r, "OK", NULL);
	TC_FIELD(r, "user", name);
	TC_FIELD(r, "role", "agent");
	TC_FIELD(r, "tier", "2");
	TC_FIELD(r, "team", "green");
	EXPECT_SKILLS(r, "billing,technical,urgent");
	E2E_OK(c, "STATE");
	tc_close(&c);

	/* Defaults: tier 1, no skills, no team; every role. */
	for (i = 0; i < NELEM(roles); i++) {
		const char *n = e2e_uniq("r");

		r = E2E_OK(admin, "USER ADD name=%s role=%s password=%s", n,
			   roles[i], tc_q(tc_password()));
		TC_FIELD(r, "user", n);
		c = tc_connect();
		r = tc_login(c, n, tc_password());
		E2E_RESP(r, "OK", NULL);
		TC_FIELD(r, "role", roles[i]);
		TC_FIELD(r, "tier", "1");
		TC_FIELD(r, "skills", "");
		TC_FIELD(r, "team", "");
		tc_close(&c);
	}
	/* A department member sees its hand-offs: DEPT LIST counts it. */
	r = E2E_OK(admin, "DEPT LIST");
	CHECK(r->nrows >= 1, "DEPT LIST sent no rows");
}

static void test_user_add_errors(void **state)
{
	tc_conn *admin = tc_session("admin1");
	tc_conn *sup = tc_session("sup1");
	tc_conn *agent = tc_session("agent1");
	const char *name = e2e_uniq("dup");
	char pw[256];
	tc_conn *c;

	(void)state;
	snprintf(pw, sizeof(pw), "%s", tc_q(tc_password()));
	E2E_OK(admin, "USER ADD name=%s role=agent password=%s", name, pw);
	E2E_EXPECT(admin, "NO", "exists", "USER ADD name=%s role=agent "
		   "password=%s", name, pw);
	E2E_EXPECT(admin, "NO", "exists", "USER ADD name=%s role=supervisor "
		   "password=other", name);
	E2E_EXPECT(admin, "NO", "exists", "USER ADD name=admin1 role=agent "
		   "password=%s", pw);

	/* Names the rules do not define. */
	E2E_EXPECT(admin, "NO", "not-found", "USER ADD name=%s role=agent "
		   "tier=8 password=%s", e2e_uniq("t"), pw);
	E2E_EXPECT(admin, "NO", "not-found", "USER ADD name=%s role=agent "
		   "skills=nosuch password=%s", e2e_uniq("t"), pw);
	E2E_EXPECT(admin, "NO", "not-found", "USER ADD name=%s role=agent "
		   "skills=billing,nosuch password=%s", e2e_uniq("t"), pw);
	E2E_EXPECT(admin, "NO", "not-found", "USER ADD name=%s role=agent "
		   "dept=nosuch password=%s", e2e_uniq("t"), pw);

	/* Malformed. */
	E2E_EXPECT(admin, "BAD", "bad-arg", "USER ADD name=%s role=king "
		   "password=%s", e2e_uniq("t"), pw);
	E2E_EXPECT(admin, "BAD", "bad-arg", "USER ADD name=Bad role=agent "
		   "password=%s", pw);
	E2E_EXPECT(admin, "BAD", "bad-arg", "USER ADD name=me role=agent "
		   "password=%s", pw);
	E2E_EXPECT(admin, "BAD", "bad-arg", "USER ADD name=-dash role=agent "
		   "password=%s", pw);
	E2E_EXPECT(admin, "BAD", "bad-arg", "USER ADD name=%s role=agent "
		   "password=%s", "abcdefghijklmnopqrstuvwxyz0123456", pw);
	E2E_EXPECT(admin, "BAD", "bad-arg", "USER ADD name=%s role=agent "
		   "tier=x password=%s", e2e_uniq("t"), pw);
	E2E_EXPECT(admin, "BAD", "bad-arg", "USER ADD name=%s role=agent "
		   "skills=Billing password=%s", e2e_uniq("t"), pw);
	E2E_EXPECT(admin, "BAD", "missing-arg", "USER ADD name=%s role=agent",
		   e2e_uniq("t"));
	E2E_EXPECT(admin, "BAD", "missing-arg", "USER ADD name=%s password=%s",
		   e2e_uniq("t"), pw);
	E2E_EXPECT(admin, "BAD", "missing-arg", "USER ADD role=agent "
		   "password=%s", pw);

	/* Only an admin; the role is checked before the arguments. */
	E2E_EXPECT(sup, "NO", "forbidden", "USER ADD name=%s role=agent "
		   "password=%s", e2e_uniq("t"), pw);
	E2E_EXPECT(agent, "NO", "forbidden", "USER ADD name=%s role=agent "
		   "password=%s", e2e_uniq("t"), pw);
	E2E_EXPECT(agent, "NO", "forbidden", "USER ADD");
	E2E_EXPECT(sup, "NO", "forbidden", "USER ADD name=Bad");

	/* None of the refused names can log in. */
	c = connect_from("127.0.0.10");
	{
		struct tc_resp *r = tc_login(c, "me", tc_password());

		E2E_RESP(r, "NO", "auth-failed");
	}
}

/* ---- USER SET ------------------------------------------------------------- */

static void test_user_set(void **state)
{
	tc_conn *admin = tc_session("admin1");
	tc_conn *sup = tc_session("sup1");
	tc_conn *agent = tc_session("agent1");
	const char *name = E2E_USER("agent", "tier=1 skills=billing team=red");
	tc_conn *c;
	struct tc_resp *r;

	(void)state;
	E2E_OK(admin, "USER SET name=%s tier=3 skills=tech,urgent team=blue "
	       "capacity=7", name);
	c = tc_connect();
	r = tc_login(c, name, tc_password());
	E2E_RESP(r, "OK", NULL);
	TC_FIELD(r, "tier", "3");
	TC_FIELD(r, "team", "blue");
	EXPECT_SKILLS(r, "tech,urgent");
	tc_close(&c);

	/* An empty list: skilled for nothing. */
	E2E_OK(admin, "USER SET name=%s skills=\"\"", name);
	c = tc_connect();
	r = tc_login(c, name, tc_password());
	E2E_RESP(r, "OK", NULL);
	TC_FIELD(r, "skills", "");
	tc_close(&c);

	/* The admin sets a password. */
	E2E_OK(admin, "USER SET name=%s password=%s", name,
	       tc_q("set by the admin"));
	c = tc_connect();
	r = tc_login(c, name, "set by the admin");
	E2E_RESP(r, "OK", NULL);
	tc_close(&c);
	E2E_OK(admin, "USER SET name=%s password=%s", name, tc_q(tc_password()));

	E2E_EXPECT(admin, "NO", "not-found", "USER SET name=nosuchuser tier=2");
	E2E_EXPECT(admin, "NO", "not-found", "USER SET name=%s tier=8", name);
	E2E_EXPECT(admin, "NO", "not-found", "USER SET name=%s skills=bogus",
		   name);
	E2E_EXPECT(admin, "NO", "not-found", "USER SET name=%s dept=bogus",
		   name);
	E2E_EXPECT(admin, "BAD", "bad-arg", "USER SET name=%s enabled=maybe",
		   name);
	E2E_EXPECT(admin, "BAD", "bad-arg", "USER SET name=%s tier=0", name);
	E2E_EXPECT(admin, "BAD", "missing-arg", "USER SET tier=2");
	E2E_EXPECT(sup, "NO", "forbidden", "USER SET name=%s tier=2", name);
	E2E_EXPECT(agent, "NO", "forbidden", "USER SET name=%s tier=2", name);
	E2E_EXPECT(agent, "NO", "forbidden", "USER SET name=agent1 tier=9");
	E2E_EXPECT(agent, "NO", "forbidden", "USER SET");
	/* The refused changes changed nothing. */
	c = tc_connect();
	r = tc_login(c, name, tc_password());
	E2E_RESP(r, "OK", NULL);
	TC_FIELD(r, "tier", "3");
}

/* Whether the server has recorded user as offline (PostgreSQL). */
static bool user_offline(const char *user)
{
	char *st = tdb_value("SELECT s.state FROM agent_state s JOIN users u "
			     "ON u.id = s.user_id WHERE u.name = $1", user,
			     NULL);
	bool off = st != NULL && strcmp(st, "offline") == 0;

	free(st);
	return off;
}

/* enabled=no ends the user's sessions; their login then fails like a
 * wrong password. */
static void test_user_disable(void **state)
{
	tc_conn *admin = tc_session("admin1");
	const char *name = E2E_USER("agent", "");
	tc_conn *s1 = tc_session(name);
	tc_conn *s2 = tc_session(name);
	tc_conn *other = tc_session("agent2");
	tc_conn *c;
	struct tc_resp *r, *wrong;
	bool offline;

	(void)state;
	E2E_OK(s1, "STATE SET state=ready");
	E2E_OK(admin, "USER SET name=%s enabled=no", name);
	TC_EXPECT_BYE(s1, "disabled", 0);
	TC_EXPECT_BYE(s2, "disabled", 0);
	tc_close(&s1);
	tc_close(&s2);
	/* Nobody else's session. */
	E2E_OK(other, "PING");
	E2E_OK(admin, "PING");

	c = connect_from("127.0.0.8");
	r = tc_login(c, name, tc_password());
	E2E_RESP(r, "NO", "auth-failed");
	wrong = tc_login(c, "agent2", "wrong-password");
	E2E_RESP(wrong, "NO", "auth-failed");
	CHECK(strcmp(untagged(r), untagged(wrong)) == 0,
	      "a disabled user and a wrong password must get the same "
	      "answer:\n  %s\n  %s", r->final, wrong->final);
	if (abs(r->elapsed_ms - wrong->elapsed_ms) >= 1000) {
		/* Once more, from an address of its own (failures count per
		 * address): a difference that is real comes back, a hiccup of
		 * a busy machine does not. */
		tc_conn *d = connect_from("127.0.0.11");
		struct tc_resp *r2 = tc_login(d, name, tc_password());
		struct tc_resp *wrong2 = tc_login(d, "agent2", "wrong-password");

		E2E_RESP(r2, "NO", "auth-failed");
		E2E_RESP(wrong2, "NO", "auth-failed");
		CHECK(abs(r2->elapsed_ms - wrong2->elapsed_ms) < 1000,
		      "a disabled user answered in %d ms, a wrong password in "
		      "%d ms (and before: %d ms, %d ms)", r2->elapsed_ms,
		      wrong2->elapsed_ms, r->elapsed_ms, wrong->elapsed_ms);
		tc_close(&d);
	}

	/* Enabled again: logs in, and finds the state offline (its last
	 * connection ended), so not-ready. Once the server has recorded the
	 * end of the sessions (it may take a moment); and on a connection
	 * of its own, as login_timeout runs on c meanwhile. */
	E2E_POLL(offline, user_offline(name));
	CHECK(offline, "%s is not offline %d ms after its sessions ended",
	      name, e2e_wait_ms());
	E2E_OK(admin, "USER SET name=%s enabled=yes", name);
	tc_close(&c);
	c = connect_from("127.0.0.8");
	r = tc_login(c, name, tc_password());
	E2E_RESP(r, "OK", NULL);
	r = E2E_OK(c, "STATE");
	TC_FIELD(r, "state", "not-ready");
}

/* ---- PASSWORD --------------------------------------------------------------- */

/* USER SET reaches the user's sessions on every node: a new tier is the
 * authority of the next request there (RULES shows it), and a disabled
 * user is cut off on the other node too. */
static void test_user_set_other_node(void **state)
{
	tc_conn *admin = tc_session("admin1");
	const char *name = E2E_USER("agent", "tier=1");
	tc_conn *here, *there;
	struct tc_resp *r;
	int64_t until;

	(void)state;
	E2E_NODE_START("users", NULL);
	there = E2E_NODE_SESSION(name);
	here = tc_session(name);
	r = E2E_OK(there, "RULES");
	TC_FIELD(r, "tier", "1");
	E2E_OK(admin, "USER SET name=%s tier=2", name);
	r = E2E_OK(here, "RULES");
	TC_FIELD(r, "tier", "2");
	/* The other node hears of it through NOTIFY, a moment later. */
	until = e2e_mono_ms() + e2e_wait_ms();
	for (;;) {
		r = E2E_OK(there, "RULES");
		if (strcmp(TC_HAS(r, "tier"), "2") == 0)
			break;
		CHECK(e2e_mono_ms() < until,
		      "the second node still answers RULES with tier=%s %d ms "
		      "after USER SET tier=2", TC_HAS(r, "tier"), e2e_wait_ms());
		e2e_sleep_ms(100);
	}
	/* A notification names the user only: the nodes re-read the
	 * account, so a forged one (anyone may NOTIFY) changes nothing. */
	tdb_exec("SELECT cd_notify('', '', 'type', 'user', 'user', $1, "
		 "'node', 'forger', 'tier', '9')", name, NULL);
	tdb_exec("SELECT cd_notify('', '', 'type', 'user', 'user', $1, "
		 "'node', 'forger')", name, NULL);
	E2E_SLEEP_BUSY(500, there, here, admin);
	r = E2E_OK(there, "RULES");
	TC_FIELD(r, "tier", "2");
	E2E_OK(admin, "USER SET name=%s enabled=no", name);
	TC_EXPECT_BYE(here, "disabled", 0);
	TC_EXPECT_BYE(there, "disabled", e2e_wait_ms());
	tc_close(&here);
	tc_close(&there);
}

static void test_password_change(void **state)
{
	const char *name = E2E_USER("agent", "");
	const char *newpw = "brand new p@ss \"quoted\"";
	tc_conn *c = connect_from("127.0.0.9");
	struct tc_resp *r;

	(void)state;
	E2E_EXPECT(c, "NO", "auth-required", "PASSWORD old=a new=b");
	r = tc_login(c, name, tc_password());
	E2E_RESP(r, "OK", NULL);
	E2E_EXPECT(c, "NO", "auth-failed", "PASSWORD old=%s new=%s",
		   tc_q("not-the-password"), tc_q(newpw));
	E2E_EXPECT(c, "BAD", "missing-arg", "PASSWORD old=%s",
		   tc_q(tc_password()));
	E2E_EXPECT(c, "BAD", "missing-arg", "PASSWORD new=x");
	/* The wrong old one changed nothing... */
	{
		tc_conn *d = connect_from("127.0.0.9");

		r = tc_login(d, name, tc_password());
		E2E_RESP(r, "OK", NULL);
		tc_close(&d);
	}
	/* ...the right one does, and the session goes on. */
	E2E_OK(c, "PASSWORD old=%s new=%s", tc_q(tc_password()), tc_q(newpw));
	E2E_OK(c, "PING");
	E2E_OK(c, "STATE");
	{
		tc_conn *d = connect_from("127.0.0.9");

		r = tc_login(d, name, tc_password());
		E2E_RESP(r, "NO", "auth-failed");
		r = tc_login(d, name, newpw);
		E2E_RESP(r, "OK", NULL);
		TC_FIELD(r, "user", name);
		/* PASSWORD is for oneself: the old one is now the new one. */
		E2E_OK(d, "PASSWORD old=%s new=%s", tc_q(newpw),
		       tc_q(tc_password()));
		tc_close(&d);
	}
	{
		tc_conn *d = tc_connect();

		r = tc_login(d, name, tc_password());
		E2E_RESP(r, "OK", NULL);
	}
}

/* ---- the integration role ---------------------------------------------------- */

static void test_integration_allowed(void **state)
{
	const char *name = E2E_USER("integration", "");
	tc_conn *c = tc_session(name);
	tc_conn *agent = tc_session("agent2");
	struct tc_resp *r;
	long long cust, ia, comp;

	(void)state;
	r = E2E_OK(c, "CUSTOMER ADD name=%s email=web@example.com",
		   tc_q("Web Form Customer"));
	cust = E2E_NUM(r, "customer");
	r = E2E_OK(c, "CUSTOMER GET id=%lld", cust);
	TC_FIELD(r, "email", "web@example.com");
	r = E2E_OK(c, "CUSTOMER FIND email=WEB@example.com name=%s",
		   tc_q("web form"));
	CHECK(r->nrows >= 1, "CUSTOMER FIND by the integration user found "
	      "nothing");
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=web "
		   "direction=inbound", cust);
	ia = E2E_NUM(r, "interaction");
	E2E_OK(c, "INTERACTION NOTE id=%lld text=%s", ia,
	       tc_q("form submitted"));
	E2E_OK(c, "INTERACTION END id=%lld outcome=follow-up", ia);
	r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=general "
		   "severity=3 summary=%s interaction=%lld", cust,
		   tc_q("from the web form"), ia);
	comp = E2E_NUM(r, "complaint");
	r = E2E_OK(c, "COMPLAINT GET id=%lld", comp);
	TC_FIELD(r, "state", "new");
	r = E2E_OK(c, "CATEGORY LIST");
	E2E_NROWS(r, 16);
	E2E_OK(c, "PING");

	/* FEEDBACK on a resolved complaint (a survey tool). */
	E2E_OK(agent, "COMPLAINT TAKE id=%lld", comp);
	E2E_OK(agent, "COMPLAINT RESOLVE id=%lld action=explanation "
	       "resolution=%s", comp, tc_q("explained the form"));
	E2E_OK(c, "FEEDBACK complaint=%lld csat=4 comment=%s", comp,
	       tc_q("quick answer"));

	E2E_OK(c, "PASSWORD old=%s new=%s", tc_q(tc_password()),
	       tc_q("integration secret 2"));
	E2E_OK(c, "CUSTOMER SET id=%lld vip=yes", cust);
	r = tc_req(c, "bye LOGOUT");
	E2E_RESP(r, "OK", NULL);
	TC_EXPECT_BYE(c, "logout", 0);
}

static void test_integration_forbidden(void **state)
{
	static const char *const reqs[] = {
		"STATE",
		"STATE SET state=ready",
		"INTERACTION GET id=1",
		"COMPLAINT LIST",
		"COMPLAINT NOTE id=1 text=x",
		"COMPLAINT TAKE id=1",
		"COMPLAINT WAIT id=1 reason=x",
		"COMPLAINT RESUME id=1",
		"COMPLAINT RESOLVE id=1 action=apology resolution=x",
		"COMPLAINT REOPEN id=1 reason=x",
		"COMPLAINT CLOSE id=1",
		"QUEUE LIST",
		"DEPT LIST",
		"USER ADD name=zz role=agent password=x",
		"USER SET name=agent1 tier=2",
		"RELOAD",
		"CUSTOMER ERASE id=1 reason=x",
		"HANDOFF OPEN complaint=1 dept=logistics request=x",
		"HANDOFF ACK id=1",
		"HANDOFF DONE id=1 result=x",
		"HANDOFF RATE id=1 score=5",
		"HANDOFF LIST",
		"NEXT",
		"ASSIGN complaint=1 agent=agent1",
		"WATCH",
		"UNWATCH",
		"ADVISE complaint=1 action=apology",
		"RULES",
		"ESCALATE complaint=1 reason=x",
		"ESCALATION LIST",
		"ESCALATION WITHDRAW id=1",
		"ESCALATION RAISE id=1",
		"APPROVE escalation=1",
		"REJECT escalation=1 reason=x",
		"JUSTIFY complaint=1 text=x",
		"STATS",
		/* The role is checked before the arguments. */
		"COMPLAINT TAKE",
		"USER ADD",
		"STATE SET state=nonsense",
		"QUEUE LIST limit=abc",
	};
	tc_conn *c = tc_session("integ1");
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(reqs); i++) {
		struct tc_resp *r = tc_cmd(c, "%s", reqs[i]);

		if (strcmp(r->word, "NO") != 0 ||
		    strcmp(r->code ? r->code : "", "forbidden") != 0)
			print_error("integration user: %s\n", reqs[i]);
		E2E_RESP(r, "NO", "forbidden");
	}
	E2E_OK(c, "PING");
}

/* ---- login throttling ----------------------------------------------------- */

/* A user-and-address pair is locked after login_max_failures failures;
 * the same user from elsewhere, and another user from there, still log
 * in. */
static void test_login_throttle_pair(void **state)
{
	tc_conn *c = connect_from("127.0.0.3");
	tc_conn *d;
	struct tc_resp *r;
	long long retry;
	int i;

	(void)state;
	for (i = 0; i < MAX_FAILURES; i++) {
		r = tc_login(c, "locked1", e2e_fmt("wrong-%d", i));
		E2E_RESP(r, "NO", "auth-failed");
	}
	r = tc_login(c, "locked1", tc_password());
	E2E_RESP(r, "NO", "too-many-attempts");
	retry = E2E_NUM(r, "retry_after");
	CHECK(retry >= 1 && retry <= 60, "retry_after=%lld: expected 1..60 "
	      "(the first lock lasts 60 s)", retry);
	r = tc_login(c, "locked1", "wrong-again");
	E2E_RESP(r, "NO", "too-many-attempts");
	/* Not logged in. */
	E2E_EXPECT(c, "NO", "auth-required", "STATE");

	/* A new connection from the same address: still locked. */
	d = connect_from("127.0.0.3");
	r = tc_login(d, "locked1", tc_password());
	E2E_RESP(r, "NO", "too-many-attempts");
	tc_close(&d);

	/* The same user from another address. */
	d = connect_from("127.0.0.4");
	r = tc_login(d, "locked1", tc_password());
	E2E_RESP(r, "OK", NULL);
	TC_FIELD(r, "user", "locked1");
	tc_close(&d);

	/* Another user from the locked pair's address. */
	r = tc_login(c, "agent2", tc_password());
	E2E_RESP(r, "OK", NULL);
}

/* Failed logins count for the whole desk, not per node: failures on one
 * node lock the pair on the other. They travel by NOTIFY, in commit order
 * with the events, so a watcher on the second node seeing a later event
 * from the first means the failures have arrived there too. */
static void test_login_throttle_nodes(void **state)
{
	const char *name = E2E_USER("agent", "");
	struct tc_opts o = { .source = "127.0.0.11" };
	tc_conn *c = connect_from("127.0.0.11");
	tc_conn *w, *a, *d;
	struct tc_resp *r;
	int i;

	(void)state;
	o.port = E2E_NODE_START("throttle", NULL);
	w = E2E_NODE_SESSION("sup1");
	E2E_OK(w, "WATCH");
	for (i = 0; i < MAX_FAILURES; i++) {
		r = tc_login(c, name, e2e_fmt("wrong-%d", i));
		E2E_RESP(r, "NO", "auth-failed");
	}
	a = tc_session(name); /* from another address: not locked */
	E2E_OK(a, "STATE SET state=ready");
	free(E2E_EVENT(w, "agent", e2e_wait_ms(), "user", name, "state",
		       "ready", NULL));

	d = tc_connect_opts(&o);
	r = tc_login(d, name, tc_password());
	E2E_RESP(r, "NO", "too-many-attempts");
	tc_close(&d);
	/* The same user from another address, on the second node. */
	o.source = "127.0.0.12";
	d = tc_connect_opts(&o);
	r = tc_login(d, name, tc_password());
	E2E_RESP(r, "OK", NULL);
	tc_close(&d);
}

/* An address is locked after four times login_max_failures failures,
 * whatever the users. */
static void test_login_throttle_address(void **state)
{
	tc_conn *c = connect_from("127.0.0.6");
	tc_conn *d;
	struct tc_resp *r;
	int i;

	(void)state;
	for (i = 0; i < 4 * MAX_FAILURES; i++) {
		r = tc_login(c, e2e_fmt("nosuch%d", i), "wrong");
		E2E_RESP(r, "NO", "auth-failed");
	}
	r = tc_login(c, "agent3", tc_password());
	E2E_RESP(r, "NO", "too-many-attempts");
	E2E_NUM(r, "retry_after");
	d = connect_from("127.0.0.6");
	r = tc_login(d, "agent1", tc_password());
	E2E_RESP(r, "NO", "too-many-attempts");
	tc_close(&d);
	d = connect_from("127.0.0.7");
	r = tc_login(d, "agent3", tc_password());
	E2E_RESP(r, "OK", NULL);
}

int e2e_group_users(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_user_add, tc_teardown),
		cmocka_unit_test_teardown(test_user_add_errors, tc_teardown),
		cmocka_unit_test_teardown(test_user_set, tc_teardown),
		cmocka_unit_test_teardown(test_user_disable, tc_teardown),
		cmocka_unit_test_teardown(test_user_set_other_node,
					  e2e_node_teardown),
		cmocka_unit_test_teardown(test_password_change, tc_teardown),
		cmocka_unit_test_teardown(test_integration_allowed,
					  tc_teardown),
		cmocka_unit_test_teardown(test_integration_forbidden,
					  tc_teardown),
		cmocka_unit_test_teardown(test_login_throttle_pair, tc_teardown),
		cmocka_unit_test_teardown(test_login_throttle_nodes,
					  e2e_node_teardown),
		cmocka_unit_test_teardown(test_login_throttle_address,
					  tc_teardown),
	};

	return cmocka_run_group_tests_name("users", tests, NULL, NULL);
}
