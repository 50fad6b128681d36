/* e2e_customer.c: the "customer" group: CUSTOMER ADD, GET, SET and FIND
 * (PROTOCOL.md §7), their fields, FIND's criteria and limits, values that
 * must be stored verbatim (SQL metacharacters, quotes, escapes, Unicode,
 * checked in the answers and in the database), and bad values (§3). */
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

/* ---- ADD and GET ------------------------------------------------------ */

static void test_customer_add_get(void **state)
{
	tc_conn *c = tc_session("agent1");
	const char *name = e2e_uniq("Ada Lovelace ");
	const char *phone = e2e_uniq("+44-20-");
	const char *email = e2e_uniq("ada.");
	const char *ref = e2e_uniq("crm-");
	struct tc_resp *r;
	long long id;

	(void)state;
	email = e2e_fmt("%s@example.org", email);
	r = E2E_OK(c, "CUSTOMER ADD name=%s phone=%s email=%s vip=yes ref=%s",
		   tc_q(name), tc_q(phone), tc_q(email), tc_q(ref));
	id = E2E_NUM(r, "customer");
	CHECK(id >= 1, "expected customer id >= 1, got %lld", id);

	r = E2E_OK(c, "CUSTOMER GET id=%lld", id);
	E2E_KEYS(r->final, "customer", "name", "phone", "email", "vip", "ref",
		 "open_complaints", "goodwill_30d");
	TC_FIELD(r, "customer", e2e_fmt("%lld", id));
	TC_FIELD(r, "name", name);
	TC_FIELD(r, "phone", phone);
	TC_FIELD(r, "email", email);
	TC_FIELD(r, "vip", "yes");
	TC_FIELD(r, "ref", ref);
	TC_FIELD(r, "open_complaints", "0");
	/* Money: exactly the currency's minor-unit digits (EUR: 2). */
	TC_FIELD(r, "goodwill_30d", "0.00");
	CHECK(r->nrows == 0, "CUSTOMER GET sent %zu rows, expected none",
	      r->nrows);

	/* Another user sees the same customer. */
	tc_close(&c);
	c = tc_session("agent2");
	r = E2E_OK(c, "CUSTOMER GET id=%lld", id);
	TC_FIELD(r, "name", name);
}

static void test_customer_defaults(void **state)
{
	tc_conn *c = tc_session("agent1");
	struct tc_resp *r;
	long long id;

	(void)state;
	id = E2E_CUSTOMER(c, NULL);
	r = E2E_OK(c, "CUSTOMER GET id=%lld", id);
	/* Every listed field is present; an empty value is "". */
	TC_FIELD(r, "phone", "");
	TC_FIELD(r, "email", "");
	TC_FIELD(r, "ref", "");
	TC_FIELD(r, "vip", "no");
	TC_FIELD(r, "open_complaints", "0");
	TC_FIELD(r, "goodwill_30d", "0.00");

	/* Ids are distinct. */
	CHECK(E2E_CUSTOMER(c, NULL) != id, "two customers got the same id");
}

static void test_customer_set(void **state)
{
	tc_conn *c = tc_session("agent1");
	const char *name = e2e_uniq("Grace Hopper ");
	const char *name2 = e2e_uniq("Grace B. Hopper ");
	const char *phone = e2e_uniq("555-");
	struct tc_resp *r;
	long long id;

	(void)state;
	r = E2E_OK(c, "CUSTOMER ADD name=%s phone=%s email=g@example.com",
		   tc_q(name), phone);
	id = E2E_NUM(r, "customer");

	/* Only what is named changes. */
	E2E_OK(c, "CUSTOMER SET id=%lld vip=yes ref=ext-7", id);
	r = E2E_OK(c, "CUSTOMER GET id=%lld", id);
	TC_FIELD(r, "name", name);
	TC_FIELD(r, "phone", phone);
	TC_FIELD(r, "email", "g@example.com");
	TC_FIELD(r, "vip", "yes");
	TC_FIELD(r, "ref", "ext-7");

	E2E_OK(c, "CUSTOMER SET id=%lld name=%s email=grace@example.com vip=no",
	       id, tc_q(name2));
	r = E2E_OK(c, "CUSTOMER GET id=%lld", id);
	TC_FIELD(r, "name", name2);
	TC_FIELD(r, "phone", phone);
	TC_FIELD(r, "email", "grace@example.com");
	TC_FIELD(r, "vip", "no");
	TC_FIELD(r, "ref", "ext-7");

	/* The new values are what FIND matches. */
	r = E2E_OK(c, "CUSTOMER FIND email=grace@example.com name=%s",
		   tc_q(name2));
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "customer", e2e_fmt("%lld", id));

	/* Another user may change it too (no ownership of customers). */
	tc_close(&c);
	c = tc_session("agent2");
	E2E_OK(c, "CUSTOMER SET id=%lld vip=yes", id);
	r = E2E_OK(c, "CUSTOMER GET id=%lld", id);
	TC_FIELD(r, "vip", "yes");

	/* Bad and missing. */
	E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER SET id=%lld vip=maybe", id);
	E2E_EXPECT(c, "BAD", "missing-arg", "CUSTOMER SET vip=yes");
	E2E_EXPECT(c, "NO", "not-found", "CUSTOMER SET id=9223372036854775807 vip=yes");
	r = E2E_OK(c, "CUSTOMER GET id=%lld", id);
	TC_FIELD(r, "vip", "yes");
}

static void test_customer_open_complaints(void **state)
{
	tc_conn *c = tc_session("agent1");
	struct tc_resp *r;
	long long id;

	(void)state;
	id = E2E_CUSTOMER(c, NULL);
	E2E_COMPLAINT(c, id, "billing", 3);
	E2E_COMPLAINT(c, id, "technical", 4);
	r = E2E_OK(c, "CUSTOMER GET id=%lld", id);
	TC_FIELD(r, "open_complaints", "2");
}

static void test_customer_not_found(void **state)
{
	tc_conn *c = tc_session("agent1");

	(void)state;
	E2E_EXPECT(c, "NO", "not-found", "CUSTOMER GET id=9223372036854775807");
	E2E_EXPECT(c, "NO", "not-found", "CUSTOMER GET id=987654321987");
	E2E_EXPECT(c, "NO", "not-found",
		   "CUSTOMER SET id=987654321987 name=x");
	/* A FIND that matches nothing is not an error. */
	{
		struct tc_resp *r = E2E_OK(c, "CUSTOMER FIND phone=%s",
					   e2e_uniq("no-such-phone-"));

		E2E_NROWS(r, 0);
		TC_FIELD(r, "count", "0");
		TC_FIELD(r, "more", "no");
	}
	E2E_OK(c, "PING");
}

/* ---- FIND -------------------------------------------------------------- */

static void test_customer_find_needs_criterion(void **state)
{
	tc_conn *c = tc_session("agent1");

	(void)state;
	E2E_EXPECT(c, "BAD", "missing-arg", "CUSTOMER FIND");
	E2E_EXPECT(c, "BAD", "missing-arg", "CUSTOMER FIND limit=5");
	/* missing-arg comes before bad-arg (§2 order of checks). */
	E2E_EXPECT(c, "BAD", "missing-arg", "CUSTOMER FIND limit=0");
	E2E_OK(c, "PING");
}

static void test_customer_find_criteria(void **state)
{
	tc_conn *c = tc_session("agent1");
	const char *tok = e2e_uniq("zqx");
	const char *phone1 = e2e_uniq("+33 1 ");
	const char *phone2 = e2e_uniq("+33 2 ");
	const char *ref = e2e_uniq("REF-");
	char *upper;
	struct tc_resp *r;
	long long a, b, d;
	size_t i;

	(void)state;
	/* Three customers sharing a token in their names, in three cases. */
	r = E2E_OK(c, "CUSTOMER ADD name=%s phone=%s email=%s ref=%s",
		   tc_q(e2e_fmt("Alice %s Martin", tok)), tc_q(phone1),
		   tc_q(e2e_fmt("Alice.%s@Example.COM", tok)), ref);
	a = E2E_NUM(r, "customer");
	upper = strdup(tok);
	assert_non_null(upper);
	for (i = 0; upper[i] != '\0'; i++)
		if (upper[i] >= 'a' && upper[i] <= 'z')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	r = E2E_OK(c, "CUSTOMER ADD name=%s phone=%s vip=yes",
		   tc_q(e2e_fmt("BOB%sDUPONT", upper)), tc_q(phone2));
	b = E2E_NUM(r, "customer");
	r = E2E_OK(c, "CUSTOMER ADD name=%s phone=%s",
		   tc_q(e2e_fmt("carol-%s", tok)), tc_q(phone1));
	d = E2E_NUM(r, "customer");

	/* name: case-insensitive substring, oldest first. */
	r = E2E_OK(c, "CUSTOMER FIND name=%s", upper);
	E2E_NROWS(r, 3);
	TC_FIELD(r, "count", "3");
	TC_FIELD(r, "more", "no");
	E2E_ROW_FIELD(r, 0, "customer", e2e_fmt("%lld", a));
	E2E_ROW_FIELD(r, 1, "customer", e2e_fmt("%lld", b));
	E2E_ROW_FIELD(r, 2, "customer", e2e_fmt("%lld", d));
	for (i = 0; i < 3; i++)
		E2E_KEYS(r->rows[i], "customer", "name", "phone", "email", "vip");
	E2E_ROW_FIELD(r, 0, "name", e2e_fmt("Alice %s Martin", tok));
	E2E_ROW_FIELD(r, 0, "phone", phone1);
	E2E_ROW_FIELD(r, 0, "email", e2e_fmt("Alice.%s@Example.COM", tok));
	E2E_ROW_FIELD(r, 0, "vip", "no");
	E2E_ROW_FIELD(r, 1, "vip", "yes");
	E2E_ROW_FIELD(r, 1, "email", "");
	r = E2E_OK(c, "CUSTOMER FIND name=%s", tc_q(e2e_fmt("%s martin", tok)));
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "customer", e2e_fmt("%lld", a));

	/* phone: exact; a prefix or a substring does not match. */
	r = E2E_OK(c, "CUSTOMER FIND phone=%s", tc_q(phone1));
	E2E_NROWS(r, 2);
	E2E_ROW_FIELD(r, 0, "customer", e2e_fmt("%lld", a));
	E2E_ROW_FIELD(r, 1, "customer", e2e_fmt("%lld", d));
	r = E2E_OK(c, "CUSTOMER FIND phone=%s",
		   tc_q(e2e_fmt("%.*s", (int)strlen(phone1) - 1, phone1)));
	E2E_NROWS(r, 0);
	TC_FIELD(r, "count", "0");

	/* email: exact, without regard to case; not a substring. */
	r = E2E_OK(c, "CUSTOMER FIND email=%s",
		   tc_q(e2e_fmt("alice.%s@example.com", tok)));
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "customer", e2e_fmt("%lld", a));
	r = E2E_OK(c, "CUSTOMER FIND email=%s",
		   tc_q(e2e_fmt("ALICE.%s@EXAMPLE.COM", upper)));
	E2E_NROWS(r, 1);
	r = E2E_OK(c, "CUSTOMER FIND email=%s",
		   tc_q(e2e_fmt("%s@example.com", tok)));
	E2E_NROWS(r, 0);

	/* ref: exact, case included. */
	r = E2E_OK(c, "CUSTOMER FIND ref=%s", ref);
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "customer", e2e_fmt("%lld", a));

	/* Several criteria must all match. */
	r = E2E_OK(c, "CUSTOMER FIND name=%s phone=%s", tok, tc_q(phone1));
	E2E_NROWS(r, 2);
	r = E2E_OK(c, "CUSTOMER FIND name=carol phone=%s", tc_q(phone1));
	CHECK(r->nrows >= 1, "expected carol-%s among the matches", tok);
	r = E2E_OK(c, "CUSTOMER FIND name=%s phone=%s", tok, tc_q(phone2));
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "customer", e2e_fmt("%lld", b));
	r = E2E_OK(c, "CUSTOMER FIND name=%s email=%s", tc_q(e2e_fmt("carol-%s", tok)),
		   tc_q(e2e_fmt("alice.%s@example.com", tok)));
	E2E_NROWS(r, 0);
	TC_FIELD(r, "count", "0");
	TC_FIELD(r, "more", "no");
	r = E2E_OK(c, "CUSTOMER FIND name=%s phone=%s email=%s ref=%s", tok,
		   tc_q(phone1), tc_q(e2e_fmt("alice.%s@example.com", tok)),
		   ref);
	E2E_NROWS(r, 1);
	free(upper);
}

static void test_customer_find_limit(void **state)
{
	tc_conn *c = tc_session("agent1");
	const char *tok = e2e_uniq("lim");
	long long ids[5];
	struct tc_resp *r;
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++)
		ids[i] = E2E_CUSTOMER(c, e2e_fmt("%s number %zu", tok, i));

	r = E2E_OK(c, "CUSTOMER FIND name=%s limit=2", tok);
	E2E_NROWS(r, 2);
	TC_FIELD(r, "count", "2");
	TC_FIELD(r, "more", "yes");
	E2E_ROW_FIELD(r, 0, "customer", e2e_fmt("%lld", ids[0]));
	E2E_ROW_FIELD(r, 1, "customer", e2e_fmt("%lld", ids[1]));

	r = E2E_OK(c, "CUSTOMER FIND name=%s limit=4", tok);
	E2E_NROWS(r, 4);
	TC_FIELD(r, "more", "yes");

	/* Exactly as many as match: no more. */
	r = E2E_OK(c, "CUSTOMER FIND name=%s limit=5", tok);
	E2E_NROWS(r, 5);
	TC_FIELD(r, "count", "5");
	TC_FIELD(r, "more", "no");
	for (i = 0; i < 5; i++)
		E2E_ROW_FIELD(r, i, "customer", e2e_fmt("%lld", ids[i]));

	r = E2E_OK(c, "CUSTOMER FIND name=%s limit=1000", tok);
	E2E_NROWS(r, 5);
	r = E2E_OK(c, "CUSTOMER FIND name=%s", tok); /* default 100 */
	E2E_NROWS(r, 5);
	TC_FIELD(r, "more", "no");

	E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER FIND name=%s limit=0", tok);
	E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER FIND name=%s limit=1001", tok);
	E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER FIND name=%s limit=-1", tok);
	E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER FIND name=%s limit=ten", tok);
	E2E_EXPECT(c, "BAD", "bad-arg",
		   "CUSTOMER FIND name=%s limit=99999999999999999999", tok);
}

/* LIKE and regular-expression metacharacters in a criterion are literal. */
static void test_customer_find_metachar(void **state)
{
	tc_conn *c = tc_session("agent1");
	const char *tok = e2e_uniq("pct");
	struct tc_resp *r;
	long long plain, pct;

	(void)state;
	plain = E2E_CUSTOMER(c, e2e_fmt("%sxy", tok));
	pct = E2E_CUSTOMER(c, e2e_fmt("%s%%y", tok));

	r = E2E_OK(c, "CUSTOMER FIND name=%s", tc_q(e2e_fmt("%s%%", tok)));
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "customer", e2e_fmt("%lld", pct));
	r = E2E_OK(c, "CUSTOMER FIND name=%s", tc_q(e2e_fmt("%s_y", tok)));
	E2E_NROWS(r, 0);
	r = E2E_OK(c, "CUSTOMER FIND name=%s", tc_q(e2e_fmt("%s.y", tok)));
	E2E_NROWS(r, 0);
	r = E2E_OK(c, "CUSTOMER FIND name=%s", tc_q(e2e_fmt("%s*", tok)));
	E2E_NROWS(r, 0);
	r = E2E_OK(c, "CUSTOMER FIND name=%s", tc_q(e2e_fmt("%sxy", tok)));
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "customer", e2e_fmt("%lld", plain));
	/* A phone with a wildcard matches nothing. */
	r = E2E_OK(c, "CUSTOMER FIND phone=%%");
	E2E_NROWS(r, 0);
	r = E2E_OK(c, "CUSTOMER FIND email=%s", tc_q("%' OR '1'='1"));
	E2E_NROWS(r, 0);
}

/* ---- values stored verbatim ---------------------------------------------- */

static void test_customer_verbatim(void **state)
{
	static const char *const names[] = {
		"Robert'); DROP TABLE customers;--",
		"'; SELECT pg_sleep(10); --",
		"O'Brien \"The Boss\" \\ back\\slash",
		"100% _under_ %s %n %x $1 $$ \\x00 \\0",
		"line one\nline two\ttab\rcr",
		"Zoë Ünïcødé 日本語 עברית 🎉 \xe2\x80\xa8",
		"key=value a=b \\\" ;",
		"  leading and trailing spaces  ",
		"\\",
		"\"",
		"--",
		"NULL",
	};
	tc_conn *c = tc_session("agent1");
	struct tc_resp *r;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(names); i++) {
		const char *phone = "+1 (555) 01'00";
		const char *email = "o'brien+\"tag\"@example.com";
		const char *ref = "ext-'1';--";
		char *db;
		long long id;

		r = E2E_OK(c, "CUSTOMER ADD name=%s phone=%s email=%s ref=%s",
			   tc_q(names[i]), tc_q(phone), tc_q(email), tc_q(ref));
		id = E2E_NUM(r, "customer");
		r = E2E_OK(c, "CUSTOMER GET id=%lld", id);
		TC_FIELD(r, "name", names[i]);
		TC_FIELD(r, "phone", phone);
		TC_FIELD(r, "email", email);
		TC_FIELD(r, "ref", ref);

		db = tdb_value("SELECT name FROM customers WHERE id = $1",
			       e2e_fmt("%lld", id), NULL);
		CHECK(db != NULL && strcmp(db, names[i]) == 0,
		      "customer %lld: expected the name stored verbatim as "
		      "\"%s\", the database has \"%s\"", id, names[i],
		      db ? db : "(NULL)");
		free(db);
		db = tdb_value("SELECT phone || '|' || email || '|' || ref "
			       "FROM customers WHERE id = $1",
			       e2e_fmt("%lld", id), NULL);
		CHECK(db != NULL && strcmp(db, e2e_fmt("%s|%s|%s", phone, email,
						       ref)) == 0,
		      "customer %lld: expected phone|email|ref stored as "
		      "\"%s|%s|%s\", the database has \"%s\"", id, phone,
		      email, ref, db ? db : "(NULL)");
		free(db);

		/* The same value found by FIND (a substring of itself). */
		r = E2E_OK(c, "CUSTOMER FIND name=%s phone=%s limit=1000",
			   tc_q(names[i]), tc_q(phone));
		CHECK(r->nrows >= 1, "CUSTOMER FIND name=%s found nothing",
		      tc_q(names[i]));
		E2E_ROW_FIELD(r, r->nrows - 1, "customer", e2e_fmt("%lld", id));
		E2E_ROW_FIELD(r, r->nrows - 1, "name", names[i]);
	}
	/* The table is still there, and so is the connection. */
	CHECK(tdb_int("SELECT count(*) FROM customers", NULL) > 0,
	      "the customers table is empty");
	E2E_OK(c, "PING");
}

/* ---- bad values ----------------------------------------------------------- */

static void test_customer_bad_values(void **state)
{
	static const char *const bad_ids[] = {
		"0", "00", "01", "007", "-1", "+1", "1.0", "1e3", "abc", "0x10",
		"9223372036854775808",  /* 2^63 */
		"18446744073709551616", /* 2^64 */
		"99999999999999999999999999999999", "\"\"", "1,2", "１",
	};
	static const char *const bad_bools[] = {
		"maybe", "YES", "Yes", "true", "1", "y", "\"\"",
	};
	tc_conn *c = tc_session("agent1");
	long long id;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(bad_ids); i++) {
		E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER GET id=%s", bad_ids[i]);
		E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER SET id=%s name=x",
			   bad_ids[i]);
	}
	/* 2^63 - 1 is a valid id, just not there. */
	E2E_EXPECT(c, "NO", "not-found", "CUSTOMER GET id=9223372036854775807");

	id = E2E_CUSTOMER(c, NULL);
	for (i = 0; i < NELEM(bad_bools); i++) {
		E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER ADD name=x vip=%s",
			   bad_bools[i]);
		E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER SET id=%lld vip=%s",
			   id, bad_bools[i]);
	}
	E2E_EXPECT(c, "BAD", "missing-arg", "CUSTOMER ADD phone=123");
	E2E_EXPECT(c, "BAD", "missing-arg", "CUSTOMER GET");
	E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER GET id=%lld colour=red", id);
	E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER GET id=%lld id=%lld", id, id);
	/* A bad value is a bad request even when the object does not exist:
	 * arguments are checked before objects. */
	E2E_EXPECT(c, "BAD", "bad-arg",
		   "CUSTOMER SET id=987654321987 vip=maybe");
	/* Nothing of this reached the customer. */
	{
		struct tc_resp *r = E2E_OK(c, "CUSTOMER GET id=%lld", id);

		TC_FIELD(r, "vip", "no");
	}
}

/* Login comes before the arguments, the verb before the login. */
static void test_customer_order_of_checks(void **state)
{
	tc_conn *c = tc_connect();

	(void)state;
	E2E_EXPECT(c, "NO", "auth-required", "CUSTOMER GET id=0");
	E2E_EXPECT(c, "NO", "auth-required", "CUSTOMER FIND");
	E2E_EXPECT(c, "NO", "auth-required", "CUSTOMER ADD");
	E2E_EXPECT(c, "BAD", "unknown-verb", "CUSTOMER DELETE id=1");
	E2E_EXPECT(c, "BAD", "bad-arg", "CUSTOMER GET id=1 id=2");
	TC_OK(tc_login(c, "agent1", tc_password()));
	E2E_EXPECT(c, "BAD", "unknown-verb", "CUSTOMER DELETE id=1");
	E2E_EXPECT(c, "BAD", "unknown-verb", "CUSTOMERS GET id=1");
	E2E_OK(c, "customer find name=a limit=1");
}

int e2e_group_customer(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_customer_add_get, tc_teardown),
		cmocka_unit_test_teardown(test_customer_defaults, tc_teardown),
		cmocka_unit_test_teardown(test_customer_set, tc_teardown),
		cmocka_unit_test_teardown(test_customer_open_complaints,
					  tc_teardown),
		cmocka_unit_test_teardown(test_customer_not_found, tc_teardown),
		cmocka_unit_test_teardown(test_customer_find_needs_criterion,
					  tc_teardown),
		cmocka_unit_test_teardown(test_customer_find_criteria,
					  tc_teardown),
		cmocka_unit_test_teardown(test_customer_find_limit, tc_teardown),
		cmocka_unit_test_teardown(test_customer_find_metachar,
					  tc_teardown),
		cmocka_unit_test_teardown(test_customer_verbatim, tc_teardown),
		cmocka_unit_test_teardown(test_customer_bad_values, tc_teardown),
		cmocka_unit_test_teardown(test_customer_order_of_checks,
					  tc_teardown),
	};

	return cmocka_run_group_tests_name("customer", tests, NULL, NULL);
}
