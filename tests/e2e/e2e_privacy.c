/* e2e_privacy.c: the "privacy" group: customer data with care (issue 7,
 * PROTOCOL.md §5, §7; README "Personal data"; docs/PROTOCOL.md masked=N).
 *
 * - CUSTOMER SET corrections, each with its entry in customer_changes
 *   (who, when, which fields; never the values).
 * - CUSTOMER ERASE: admins only, with a reason; afterwards no row of any
 *   table (every column of every base table, read as the row's text), no
 *   line of the server's log, no COMPLAINT GET or INTERACTION GET answer
 *   holds the erased name, phone, e-mail or reference; CUSTOMER FIND finds
 *   nothing; COMPLAINT LIST customer= still lists the complaints, STATS
 *   still counts them, the decision audit and the history keep their rows;
 *   erasing twice is OK. A stored answer (an idempotency key of NEXT,
 *   which quotes the summary) goes too.
 * - Card numbers in several spellings (plain, spaces, dashes, mixed, 4-6-5,
 *   13 to 19 digits, Visa, Mastercard, Amex) in INTERACTION NOTE, COMPLAINT
 *   OPEN and COMPLAINT NOTE texts are stored masked (checked in the
 *   database: at most the first six and the last four digits in clear, the
 *   words around as typed) and the answer carries masked=N; the same for
 *   every other free text; look-alikes that fail Luhn, numbers too short
 *   and phone numbers are stored as typed, without masked=.
 * - The integration role: every verb that admin1's HELP lists, outside the
 *   role's list, is NO forbidden (e2e_users.c tries a fixed list; this one
 *   follows the command table, extensions included).
 * - PASSWORD: the new password (a card-like number on purpose) is stored
 *   as an argon2id hash only, in no row and no log line, and not masked.
 * - Mutual TLS on a second node (tls_client_ca = the harness's CA): no
 *   certificate and a self-signed one are refused at the handshake (TLS
 *   1.2 and 1.3), agent1 with the CN=agent1 certificate logs in, agent2
 *   with it gets NO auth-failed. */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* ---- random digits -------------------------------------------------------- */

static unsigned rnd(void)
{
	static uint64_t s;

	if (s == 0)
		s = ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^
		    0x9e3779b97f4a7c15ull;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (unsigned)(s >> 11);
}

/* A copy of s that lasts until the program ends (like e2e_uniq's). */
static const char *keep(const char *s)
{
	static char **kept;
	static size_t n, cap;
	char *d = strdup(s);

	if (d == NULL)
		abort();
	if (n == cap) {
		cap = cap ? cap * 2 : 64;
		kept = realloc(kept, cap * sizeof(*kept));
		if (kept == NULL)
			abort();
	}
	kept[n++] = d;
	return d;
}

/* ---- searching the database and the log ------------------------------------ */

/* The tables (with the number of rows) of the database, system schemas
 * aside, in which some row, read as text (every column: text, jsonb,
 * arrays...), contains needle without regard to case; NULL when none.
 * Caller frees. */
static char *db_tables_with(const char *needle)
{
	return tdb_value(
		"SELECT string_agg(s.tbl || ' (' || s.n || ' rows)', ', ' "
		"ORDER BY s.tbl) FROM (SELECT t.table_schema || '.' || "
		"t.table_name AS tbl, (xpath('/row/c/text()', query_to_xml("
		"format('SELECT count(*) AS c FROM %I.%I x WHERE "
		"strpos(lower(x::text), %L) > 0', t.table_schema, t.table_name, "
		"lower($1)), false, true, '')))[1]::text::bigint AS n "
		"FROM information_schema.tables t WHERE t.table_type = "
		"'BASE TABLE' AND t.table_schema NOT IN ('pg_catalog', "
		"'information_schema')) s WHERE s.n > 0", needle, NULL);
}

#define DB_HAS_NOT(what, needle) db_has_not_at((what), (needle), __FILE__, __LINE__)
static void db_has_not_at(const char *what, const char *needle,
			  const char *file, int line)
{
	char *where = db_tables_with(needle);

	if (where != NULL) {
		print_error("%s:%d: %s \"%s\" is still stored, in: %s\n", file,
			    line, what, needle, where);
		free(where);
		_fail(file, line);
	}
}

#define DB_HAS(what, needle) db_has_at((what), (needle), __FILE__, __LINE__)
static void db_has_at(const char *what, const char *needle, const char *file,
		      int line)
{
	char *where = db_tables_with(needle);

	if (where == NULL) {
		print_error("%s:%d: test bug: %s \"%s\" is in no table before "
			    "it was erased: the search does not work\n", file,
			    line, what, needle);
		_fail(file, line);
	}
	free(where);
}

/* The server's log ($CD_LOG), read now. Caller frees. */
static char *read_log(void)
{
	const char *path = tc_env("CD_LOG");
	size_t len = 0, n;
	char *buf = e2e_slurp(path, 0, &len);

	CHECK(buf != NULL, "cannot read the server log %s", path);
	/* NUL bytes would end the search early: make them visible. */
	for (n = 0; n < len; n++)
		if (buf[n] == '\0')
			buf[n] = ' ';
	return buf;
}

#define LOG_HAS_NOT(log, what, needle) \
	log_has_not_at((log), (what), (needle), __FILE__, __LINE__)
static void log_has_not_at(const char *log, const char *what,
			   const char *needle, const char *file, int line)
{
	const char *p = strcasestr(log, needle);

	if (p != NULL) {
		const char *b = p, *e = p;

		while (b > log && b[-1] != '\n')
			b--;
		while (*e != '\0' && *e != '\n')
			e++;
		print_error("%s:%d: the server log (CD_LOG) holds %s \"%s\": "
			    "%.*s\n", file, line, what, needle, (int)(e - b), b);
		_fail(file, line);
	}
}

/* The first line of the answer (rows, final) that contains one of the
 * needles without regard to case, or NULL. */
static const char *resp_mentions(struct tc_resp *r, const char *const *needles,
				 size_t n, const char **which)
{
	size_t i, k;

	for (k = 0; k < n; k++) {
		for (i = 0; i < r->nrows; i++)
			if (strcasestr(r->rows[i], needles[k]) != NULL) {
				*which = needles[k];
				return r->rows[i];
			}
		if (r->final != NULL && strcasestr(r->final, needles[k]) != NULL) {
			*which = needles[k];
			return r->final;
		}
	}
	return NULL;
}

#define RESP_CLEAN(r, needles, n) resp_clean_at((r), (needles), (n), __FILE__, __LINE__)
static void resp_clean_at(struct tc_resp *r, const char *const *needles,
			  size_t n, const char *file, int line)
{
	const char *which = NULL;
	const char *l = resp_mentions(r, needles, n, &which);

	if (l != NULL) {
		print_error("%s:%d: the answer to %s still holds \"%s\": %s\n",
			    file, line, r->request, which, l);
		_fail(file, line);
	}
}

/* ---- a customer's personal data ------------------------------------------------ */

struct pii {
	char name[96];       /* "Ysolde Vandermolen-<uniq>" */
	const char *surname; /* points into name */
	char phone[32];      /* "+354 55 12345" as typed */
	char phone_digits[32];
	char email[96];      /* mixed case on purpose */
	char ref[48];
};

static void make_pii(struct pii *p)
{
	static unsigned seq;
	const char *tok = e2e_uniq("");
	unsigned k = (rnd() + 7919u * ++seq) % 100000u;
	size_t i, n = 0;

	snprintf(p->name, sizeof(p->name), "Ysolde Vandermolen-%s", tok);
	p->surname = strchr(p->name, ' ') + 1;
	snprintf(p->phone, sizeof(p->phone), "+354 55 %05u", k);
	for (i = 0; p->phone[i] != '\0'; i++)
		if (isdigit((unsigned char)p->phone[i]))
			p->phone_digits[n++] = p->phone[i];
	p->phone_digits[n] = '\0';
	snprintf(p->email, sizeof(p->email), "Ysolde.V%s@Mail.Example.ORG", tok);
	snprintf(p->ref, sizeof(p->ref), "CRM-YV-%s", tok);
}

/* Every form of it that must be gone after an erasure. */
static size_t pii_needles(const struct pii *p, const char *out[6])
{
	out[0] = p->name;
	out[1] = p->surname;
	out[2] = p->phone;
	out[3] = p->phone_digits;
	out[4] = p->email;
	out[5] = p->ref;
	return 6;
}

static const char *const needle_what[6] = {
	"the name", "the surname", "the phone number", "the phone's digits",
	"the e-mail address", "the external reference",
};

static long long add_customer(tc_conn *c, const struct pii *p)
{
	struct tc_resp *r = E2E_OK(c, "CUSTOMER ADD name=%s phone=%s email=%s "
				   "ref=%s", tc_q(p->name), tc_q(p->phone),
				   tc_q(p->email), tc_q(p->ref));

	return E2E_NUM(r, "customer");
}

/* The final line without its tag, kept for the rest of the run. */
static const char *untagged(struct tc_resp *r)
{
	const char *sp = r->final != NULL ? strchr(r->final, ' ') : NULL;

	return keep(sp != NULL ? sp + 1 : "(no answer)");
}

/* The start of the current UTC day. */
static time_t utc_day_start(void)
{
	time_t now = time(NULL);

	return now - now % 86400;
}

/* STATS for the caller over two days (UTC) from day (a utc_day_start() of
 * the test's beginning), given explicitly so that the period cannot move
 * between two calls, and holds all the test did should midnight pass. */
static const char *stats_days(tc_conn *c, time_t day)
{
	char from[32], to[32];
	struct tm tm;

	gmtime_r(&day, &tm);
	strftime(from, sizeof(from), "%Y-%m-%dT%H:%M:%SZ", &tm);
	day += 2 * 86400;
	gmtime_r(&day, &tm);
	strftime(to, sizeof(to), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return untagged(E2E_OK(c, "STATS agent=me from=%s to=%s", from, to));
}

/* The complaint ids of COMPLAINT LIST customer=ID, as "1,2,3". */
static const char *list_of_customer(tc_conn *c, long long cust)
{
	struct tc_resp *r = E2E_OK(c, "COMPLAINT LIST customer=%lld limit=1000",
				   cust);
	char buf[1024] = "";
	size_t i, off = 0;

	for (i = 0; i < r->nrows; i++) {
		E2E_ROW_FIELD(r, i, "customer", e2e_fmt("%lld", cust));
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
					i ? "," : "",
					tc_row_get(r, i, "complaint"));
		CHECK(off < sizeof(buf), "test bug: too many complaints");
	}
	TC_FIELD(r, "count", e2e_fmt("%zu", r->nrows));
	return keep(buf);
}

/* ---- CUSTOMER SET and its history ------------------------------------------- */

/* The entries of customer_changes for cust, oldest first, one per line:
 * "user fields". */
static char *changes_of(long long cust)
{
	return tdb_value("SELECT string_agg(u.name || ' ' || c.fields, E'\\n' "
			 "ORDER BY c.id) FROM customer_changes c JOIN users u "
			 "ON u.id = c.by_id WHERE c.customer_id = $1::bigint",
			 e2e_fmt("%lld", cust), NULL);
}

/* The same set of comma-separated names. */
static bool same_fields(const char *a, const char *b)
{
	char x[256], y[256], *tok, *save = NULL;
	size_t na = 0, nb = 0;

	snprintf(x, sizeof(x), "%s", a);
	snprintf(y, sizeof(y), "%s", b);
	for (tok = strtok_r(x, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char pat[64];
		const char *p = b;
		bool found = false;

		na++;
		snprintf(pat, sizeof(pat), "%s", tok);
		while (*p != '\0' && !found) {
			size_t m = strcspn(p, ",");

			found = m == strlen(pat) && strncmp(p, pat, m) == 0;
			p += m + (p[m] == ',');
		}
		if (!found)
			return false;
	}
	save = NULL;
	for (tok = strtok_r(y, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		nb++;
	return na == nb;
}

/* The last entry for cust: by user, fields exactly want (in any order),
 * at between t0 and t1 (client clock, same machine). */
#define LAST_CHANGE(cust, user, want, t0, t1) \
	last_change_at((cust), (user), (want), (t0), (t1), __FILE__, __LINE__)
static void last_change_at(long long cust, const char *user, const char *want,
			   time_t t0, time_t t1, const char *file, int line)
{
	const char *id = e2e_fmt("%lld", cust);
	char *by = tdb_value("SELECT u.name FROM customer_changes c JOIN users u "
			     "ON u.id = c.by_id WHERE c.customer_id = $1::bigint "
			     "ORDER BY c.id DESC LIMIT 1", id, NULL);
	char *fields = tdb_value("SELECT fields FROM customer_changes WHERE "
				 "customer_id = $1::bigint ORDER BY id DESC "
				 "LIMIT 1", id, NULL);
	long long at = tdb_int("SELECT coalesce(extract(epoch FROM at)::bigint, 0) "
			       "FROM customer_changes WHERE customer_id = "
			       "$1::bigint ORDER BY id DESC LIMIT 1", id, NULL);

	if (by == NULL || fields == NULL || strcmp(by, user) != 0 ||
	    !same_fields(fields, want) || at < (long long)t0 - 1 ||
	    at > (long long)t1 + 1) {
		print_error("%s:%d: customer %lld: expected the last change by "
			    "%s of fields {%s} between %lld and %lld, got by %s "
			    "of {%s} at %lld\n", file, line, cust, user, want,
			    (long long)t0, (long long)t1, by ? by : "(none)",
			    fields ? fields : "(none)", at);
		free(by);
		free(fields);
		_fail(file, line);
	}
	free(by);
	free(fields);
}

static long long count_changes(long long cust)
{
	return tdb_int("SELECT count(*) FROM customer_changes WHERE "
		       "customer_id = $1::bigint", e2e_fmt("%lld", cust), NULL);
}

static void test_customer_set_history(void **state)
{
	const char *a = E2E_USER("agent", "");
	tc_conn *c = tc_session(a), *integ = tc_session("integ1");
	struct pii p, q;
	struct tc_resp *r;
	const char *values[12];
	long long cust;
	time_t t0;
	size_t i, n;
	char *hist;

	(void)state;
	make_pii(&p);
	make_pii(&q);
	cust = add_customer(c, &p);
	CHECK(count_changes(cust) == 0, "CUSTOMER ADD wrote a change entry");

	/* Phone and e-mail fixed in one request: one entry, two fields. */
	t0 = time(NULL);
	E2E_OK(c, "CUSTOMER SET id=%lld phone=%s email=%s", cust, tc_q(q.phone),
	       tc_q(q.email));
	LAST_CHANGE(cust, a, "phone,email", t0, time(NULL));
	CHECK(count_changes(cust) == 1, "one CUSTOMER SET wrote %lld entries",
	      count_changes(cust));
	r = E2E_OK(c, "CUSTOMER GET id=%lld", cust);
	TC_FIELD(r, "phone", q.phone);
	TC_FIELD(r, "email", q.email);
	TC_FIELD(r, "name", p.name);
	TC_FIELD(r, "ref", p.ref);

	/* VIP set by the integration user, cleared by the agent. */
	t0 = time(NULL);
	E2E_OK(integ, "CUSTOMER SET id=%lld vip=yes", cust);
	LAST_CHANGE(cust, "integ1", "vip", t0, time(NULL));
	r = E2E_OK(c, "CUSTOMER GET id=%lld", cust);
	TC_FIELD(r, "vip", "yes");
	t0 = time(NULL);
	E2E_OK(c, "CUSTOMER SET id=%lld vip=no", cust);
	LAST_CHANGE(cust, a, "vip", t0, time(NULL));
	r = E2E_OK(c, "CUSTOMER GET id=%lld", cust);
	TC_FIELD(r, "vip", "no");

	/* The phone cleared (extension: ""), then name and reference. */
	t0 = time(NULL);
	E2E_OK(c, "CUSTOMER SET id=%lld phone=\"\"", cust);
	LAST_CHANGE(cust, a, "phone", t0, time(NULL));
	r = E2E_OK(c, "CUSTOMER GET id=%lld", cust);
	TC_FIELD(r, "phone", "");
	t0 = time(NULL);
	E2E_OK(c, "CUSTOMER SET id=%lld name=%s ref=%s", cust, tc_q(q.name),
	       tc_q(q.ref));
	LAST_CHANGE(cust, a, "name,ref", t0, time(NULL));
	r = E2E_OK(c, "CUSTOMER GET id=%lld", cust);
	TC_FIELD(r, "name", q.name);
	TC_FIELD(r, "ref", q.ref);
	CHECK(count_changes(cust) == 5, "5 changes made, %lld entries",
	      count_changes(cust));

	/* FIND follows the corrections. */
	r = E2E_OK(c, "CUSTOMER FIND email=%s", tc_q(q.email));
	E2E_NROWS(r, 1);
	E2E_ROW_FIELD(r, 0, "customer", e2e_fmt("%lld", cust));
	r = E2E_OK(c, "CUSTOMER FIND email=%s", tc_q(p.email));
	E2E_NROWS(r, 0);

	/* The history names fields, never the values, old or new. */
	n = pii_needles(&p, values);
	n += pii_needles(&q, values + n);
	for (i = 0; i < n; i++) {
		long long k = tdb_int("SELECT count(*) FROM customer_changes c "
				      "WHERE strpos(lower(c::text), lower($1)) "
				      "> 0", values[i], NULL);

		CHECK(k == 0, "customer_changes holds a value (%s): %s",
		      values[i], (hist = changes_of(cust)) ? hist : "");
	}
}

/* ---- CUSTOMER ERASE ------------------------------------------------------- */

static void test_erase_permissions(void **state)
{
	tc_conn *agent = tc_session("agent2"), *sup = tc_session("sup1");
	tc_conn *integ = tc_session("integ1"), *adm = tc_session("admin1");
	struct pii p;
	struct tc_resp *r;
	long long cust;

	(void)state;
	make_pii(&p);
	cust = add_customer(agent, &p);
	E2E_EXPECT(agent, "NO", "forbidden", "CUSTOMER ERASE id=%lld reason=%s",
		   cust, tc_q("asked by phone"));
	E2E_EXPECT(sup, "NO", "forbidden", "CUSTOMER ERASE id=%lld reason=%s",
		   cust, tc_q("asked by phone"));
	E2E_EXPECT(integ, "NO", "forbidden", "CUSTOMER ERASE id=%lld reason=%s",
		   cust, tc_q("asked by phone"));
	/* The role comes before the arguments. */
	E2E_EXPECT(agent, "NO", "forbidden", "CUSTOMER ERASE id=%lld", cust);
	E2E_EXPECT(adm, "BAD", "missing-arg", "CUSTOMER ERASE id=%lld", cust);
	E2E_EXPECT(adm, "BAD", "missing-arg", "CUSTOMER ERASE reason=x");
	E2E_EXPECT(adm, "BAD", NULL, "CUSTOMER ERASE id=%lld reason=\"\"",
		   cust);
	E2E_EXPECT(adm, "NO", "not-found", "CUSTOMER ERASE id=%lld reason=x",
		   cust + 1000000000LL);
	/* Nothing was erased by the refusals. */
	r = E2E_OK(agent, "CUSTOMER GET id=%lld", cust);
	TC_FIELD(r, "name", p.name);
	TC_FIELD(r, "email", p.email);
	CHECK(tdb_int("SELECT count(*) FROM erasures WHERE customer_id = "
		      "$1::bigint", e2e_fmt("%lld", cust), NULL) == 0,
	      "a refused CUSTOMER ERASE left a row in erasures");

	/* The admin erases it, twice. */
	r = E2E_OK(adm, "CUSTOMER ERASE id=%lld reason=%s", cust,
		   tc_q("data subject request"));
	r = E2E_OK(adm, "CUSTOMER ERASE id=%lld reason=%s", cust,
		   tc_q("data subject request, again"));
	r = E2E_OK(agent, "CUSTOMER GET id=%lld", cust);
	CHECK(strstr(r->final, p.surname) == NULL,
	      "CUSTOMER GET after ERASE: %s", r->final);
	TC_FIELD(r, "phone", "");
	TC_FIELD(r, "email", "");
	TC_FIELD(r, "ref", "");
	/* Who erased whom, when and why is kept (README). */
	CHECK(tdb_int("SELECT count(*) FROM erasures e JOIN users u ON u.id = "
		      "e.by_id WHERE e.customer_id = $1::bigint AND u.name = "
		      "'admin1' AND e.reason = 'data subject request'",
		      e2e_fmt("%lld", cust), NULL) == 1,
	      "erasures: no row by admin1 with the reason for customer %lld",
	      cust);
	/* An erased customer can no longer be changed (docs/PROTOCOL.md). */
	E2E_EXPECT(agent, "NO", "invalid-state", "CUSTOMER SET id=%lld "
		   "name=%s", cust, tc_q(p.name));
}

/* A customer with interactions, complaints, notes, replies, a wait, money
 * resolutions, a justification, a reopening, a follow-up, escalations
 * (raised, rejected, approved), a hand-off and feedback, every text naming
 * the customer: then erased. */
static void test_erase_everywhere(void **state)
{
	time_t day0 = utc_day_start();
	const char *a = E2E_USER("agent", "skills=billing,general");
	tc_conn *c = tc_session(a), *sup = tc_session("sup1");
	tc_conn *adm = tc_session("admin1"), *clerk = tc_session("clerk1");
	tc_conn *integ = tc_session("integ1");
	const char *needles[6], *stats_before, *list_before, *log_text;
	struct pii p;
	struct tc_resp *r;
	long long cust, ia1, ia2, c1, c2, c3, e1, e2, e3, ho, fu = 0;
	long long decisions, history, notes;
	const char *cid;
	size_t i, n;
	char *log;

	(void)state;
	make_pii(&p);
	n = pii_needles(&p, needles);
#define SAY(fmt) tc_q(e2e_fmt(fmt, p.name, p.phone, p.email))
	cust = add_customer(c, &p);
	cid = keep(e2e_fmt("%lld", cust));

	/* The first call, and a complaint opened during it. */
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=phone "
		   "direction=inbound", cust);
	ia1 = E2E_NUM(r, "interaction");
	E2E_OK(c, "INTERACTION NOTE id=%lld text=%s", ia1,
	       SAY("%s called from %s, wants answers by mail to %s"));
	r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=billing severity=3 "
		   "summary=%s interaction=%lld", cust,
		   SAY("%s was billed twice (phone %s, mail %s)"), ia1);
	c1 = E2E_NUM(r, "complaint");
	E2E_OK(c, "INTERACTION END id=%lld outcome=follow-up", ia1);

	/* The web form adds to it. */
	r = E2E_OK(integ, "INTERACTION START customer=%lld channel=web "
		   "direction=inbound complaint=%lld", cust, c1);
	ia2 = E2E_NUM(r, "interaction");
	E2E_OK(integ, "INTERACTION NOTE id=%lld text=%s", ia2,
	       SAY("form: name %s, phone %s, e-mail %s"));
	E2E_OK(integ, "INTERACTION END id=%lld outcome=follow-up", ia2);

	/* C1: notes, a reply, a wait, a refund, feedback, closed. */
	E2E_OK(c, "COMPLAINT NOTE id=%lld text=%s", c1,
	       SAY("checked the account of %s, number %s, %s"));
	E2E_OK(c, "COMPLAINT TAKE id=%lld", c1);
	E2E_OK(c, "COMPLAINT NOTE id=%lld reply=yes text=%s", c1,
	       SAY("Dear %s, we called %s and wrote to %s"));
	E2E_OK(c, "COMPLAINT WAIT id=%lld reason=%s", c1,
	       SAY("waiting for %s to call back from %s or mail %s"));
	E2E_OK(c, "COMPLAINT RESUME id=%lld", c1);
	r = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=refund amount=10.00 "
		   "resolution=%s", c1, SAY("refunded %s (%s, %s)"));
	TC_FIELD(r, "decision", "allow");
	E2E_OK(integ, "FEEDBACK complaint=%lld csat=4 comment=%s", c1,
	       SAY("survey: %s is happy, call %s, mail %s"));
	E2E_OK(c, "COMPLAINT CLOSE id=%lld", c1);

	/* (The sessions used later are kept from their idle_timeout.) */
	E2E_PING(sup, adm, clerk, integ);

	/* C2: resolved with a justification owed, justified, reopened,
	 * resolved with a callback, the follow-up done. */
	r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=general severity=2 "
		   "summary=%s", cust, SAY("%s: broken meter, %s, %s"));
	c2 = E2E_NUM(r, "complaint");
	E2E_OK(c, "COMPLAINT TAKE id=%lld", c2);
	r = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=repair justify_later=yes "
		   "resolution=%s", c2, SAY("repair for %s booked via %s / %s"));
	TC_FIELD(r, "decision", "allow");
	E2E_OK(c, "JUSTIFY complaint=%lld text=%s", c2,
	       SAY("%s is a long-standing customer (%s, %s)"));
	E2E_OK(c, "COMPLAINT REOPEN id=%lld reason=%s", c2,
	       SAY("%s says the repair failed (%s, %s)"));
	E2E_OK(c, "COMPLAINT TAKE id=%lld", c2);
	r = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=callback resolution=%s",
		   c2, SAY("will call %s back on %s, copy to %s"));
	TC_FIELD(r, "decision", "allow");
	r = E2E_OK(c, "FOLLOWUP LIST mine=yes limit=1000");
	for (i = 0; i < r->nrows; i++)
		if (strcmp(tc_row_get(r, i, "complaint"),
			   e2e_fmt("%lld", c2)) == 0)
			fu = E2E_ROW_NUM(r, i, "followup");
	CHECK(fu > 0, "no follow-up scheduled for the callback on complaint "
	      "%lld: %s", c2, r->final);
	E2E_OK(c, "FOLLOWUP DONE id=%lld outcome=reached note=%s", fu,
	       SAY("reached %s on %s, confirmed %s"));

	E2E_PING(sup, adm, clerk, integ);

	/* C3: a hand-off, escalations raised, rejected, approved, a refund
	 * beyond the agent's authority approved. */
	r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=billing severity=3 "
		   "summary=%s", cust, SAY("%s lost a parcel (%s, %s)"));
	c3 = E2E_NUM(r, "complaint");
	E2E_OK(c, "COMPLAINT TAKE id=%lld", c3);
	r = E2E_OK(c, "HANDOFF OPEN complaint=%lld dept=logistics request=%s", c3,
		   SAY("trace the parcel of %s, %s, %s"));
	ho = E2E_NUM(r, "handoff");
	E2E_OK(clerk, "HANDOFF ACK id=%lld", ho);
	E2E_OK(clerk, "HANDOFF DONE id=%lld result=%s", ho,
	       SAY("parcel of %s found; told %s / %s"));
	E2E_OK(c, "HANDOFF RATE id=%lld score=4 comment=%s", ho,
	       SAY("quick for %s (%s, %s)"));
	r = E2E_OK(c, "ESCALATE complaint=%lld reason=%s", c3,
		   SAY("%s threatens to sue (%s, %s)"));
	e1 = E2E_NUM(r, "escalation");
	E2E_OK(sup, "ESCALATION RAISE id=%lld reason=%s", e1,
	       SAY("above me: %s, %s, %s"));
	r = E2E_OK(adm, "REJECT escalation=%lld reason=%s", e1,
		   SAY("no: %s has no case (%s, %s)"));
	TC_FIELD(r, "complaint_state", "assigned");
	r = E2E_OK(c, "ESCALATE complaint=%lld reason=%s", c3,
		   SAY("%s insists (%s, %s)"));
	e2 = E2E_NUM(r, "escalation");
	r = E2E_OK(sup, "APPROVE escalation=%lld note=%s", e2,
		   SAY("go ahead with %s (%s, %s)"));
	TC_FIELD(r, "complaint_state", "assigned");
	r = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=refund amount=100.00 "
		   "resolution=%s", c3, SAY("refund the parcel of %s, %s, %s"));
	TC_FIELD(r, "decision", "escalate");
	e3 = E2E_NUM(r, "escalation");
	r = E2E_OK(sup, "APPROVE escalation=%lld note=%s", e3,
		   SAY("approved for %s (%s, %s)"));
	TC_FIELD(r, "complaint_state", "resolved");
	E2E_OK(integ, "FEEDBACK complaint=%lld csat=5 comment=%s", c3,
	       SAY("%s: parcel refunded, %s, %s"));
#undef SAY

	/* The search finds what is there (else it proves nothing); the
	 * phone's digits alone are searched for in case the server stores
	 * numbers normalised, which it need not do. */
	for (i = 0; i < n; i++) {
		if (needles[i] != p.phone_digits)
			DB_HAS(needle_what[i], needles[i]);
		/* Each search reads every table: keep the sessions used
		 * below from their idle_timeout. */
		E2E_PING(c, sup, adm, integ);
	}
	CHECK(tdb_int("SELECT count(*) FROM notes WHERE strpos(text, $1) > 0",
		      p.surname, NULL) == 2, "test bug: the notes are not stored");

	stats_before = stats_days(c, day0);
	list_before = list_of_customer(c, cust);
	CHECK(strcmp(list_before, e2e_fmt("%lld,%lld,%lld", c1, c2, c3)) == 0,
	      "COMPLAINT LIST customer=%lld before the erasure: %s", cust,
	      list_before);
	decisions = tdb_int("SELECT count(*) FROM decisions WHERE complaint_id "
			    "IN (SELECT id FROM complaints WHERE customer_id = "
			    "$1::bigint)", cid, NULL);
	history = tdb_int("SELECT count(*) FROM complaint_history WHERE "
			  "complaint_id IN (SELECT id FROM complaints WHERE "
			  "customer_id = $1::bigint)", cid, NULL);
	notes = tdb_int("SELECT count(*) FROM notes WHERE interaction_id IN "
			"(SELECT id FROM interactions WHERE customer_id = "
			"$1::bigint)", cid, NULL);
	CHECK(decisions >= 5, "only %lld decisions recorded", decisions);

	r = E2E_OK(adm, "CUSTOMER ERASE id=%lld reason=%s", cust,
		   tc_q("erasure requested in writing"));

	/* No stored row holds any of it. */
	for (i = 0; i < n; i++) {
		DB_HAS_NOT(needle_what[i], needles[i]);
		E2E_PING(c, sup, adm, integ);
	}

	/* Nor any answer. */
	r = E2E_OK(c, "CUSTOMER GET id=%lld", cust);
	RESP_CLEAN(r, needles, n);
	TC_FIELD(r, "phone", "");
	TC_FIELD(r, "email", "");
	TC_FIELD(r, "ref", "");
	{
		const long long ids[] = { c1, c2, c3 };

		for (i = 0; i < NELEM(ids); i++) {
			r = E2E_OK(c, "COMPLAINT GET id=%lld", ids[i]);
			RESP_CLEAN(r, needles, n);
			TC_FIELD(r, "customer", cid);
			CHECK(r->nrows >= 3, "complaint %lld lost its history: "
			      "%zu rows", ids[i], r->nrows);
			r = E2E_OK(integ, "COMPLAINT GET id=%lld", ids[i]);
			RESP_CLEAN(r, needles, n);
		}
		r = E2E_OK(c, "COMPLAINT GET id=%lld", c1);
		TC_FIELD(r, "state", "closed");
		r = E2E_OK(c, "COMPLAINT GET id=%lld", c2);
		TC_FIELD(r, "state", "resolved");
		r = E2E_OK(c, "COMPLAINT GET id=%lld", c3);
		TC_FIELD(r, "state", "resolved");
	}
	r = E2E_OK(c, "INTERACTION GET id=%lld", ia1);
	RESP_CLEAN(r, needles, n);
	E2E_NROWS(r, 1);
	r = E2E_OK(c, "INTERACTION GET id=%lld", ia2);
	RESP_CLEAN(r, needles, n);
	E2E_NROWS(r, 1);
	r = E2E_OK(sup, "ESCALATION LIST limit=1000");
	RESP_CLEAN(r, needles, n);
	r = E2E_OK(c, "FOLLOWUP LIST limit=1000");
	RESP_CLEAN(r, needles, n);
	r = E2E_OK(c, "HANDOFF LIST complaint=%lld", c3);
	RESP_CLEAN(r, needles, n);
	E2E_NROWS(r, 1);

	/* CUSTOMER FIND finds nothing, by any criterion. */
	r = E2E_OK(c, "CUSTOMER FIND name=%s", tc_q(p.name));
	E2E_NROWS(r, 0);
	TC_FIELD(r, "count", "0");
	r = E2E_OK(c, "CUSTOMER FIND name=%s", tc_q(p.surname));
	E2E_NROWS(r, 0);
	r = E2E_OK(c, "CUSTOMER FIND phone=%s", tc_q(p.phone));
	E2E_NROWS(r, 0);
	r = E2E_OK(c, "CUSTOMER FIND email=%s", tc_q(p.email));
	E2E_NROWS(r, 0);
	r = E2E_OK(integ, "CUSTOMER FIND ref=%s", tc_q(p.ref));
	E2E_NROWS(r, 0);
	r = E2E_OK(c, "CUSTOMER FIND name=erased limit=1000");
	for (i = 0; i < r->nrows; i++)
		CHECK(strcmp(tc_row_get(r, i, "customer"), cid) != 0,
		      "CUSTOMER FIND name=erased finds the erased customer: %s",
		      r->rows[i]);

	/* What the figures and the audit need stays. */
	CHECK(strcmp(list_of_customer(c, cust), list_before) == 0,
	      "COMPLAINT LIST customer=%lld after the erasure: %s, before: %s",
	      cust, list_of_customer(c, cust), list_before);
	CHECK(strcmp(stats_days(c, day0), stats_before) == 0,
	      "STATS of %s changed with the erasure:\n  before: %s\n  after:  "
	      "%s", a, stats_before, stats_days(c, day0));
	CHECK(strstr(stats_before, "handled=0 ") == NULL,
	      "STATS counted nothing: %s", stats_before);
	CHECK(tdb_int("SELECT count(*) FROM decisions WHERE complaint_id IN "
		      "(SELECT id FROM complaints WHERE customer_id = "
		      "$1::bigint)", cid, NULL) == decisions,
	      "the decision audit changed with the erasure");
	CHECK(tdb_int("SELECT count(*) FROM complaint_history WHERE "
		      "complaint_id IN (SELECT id FROM complaints WHERE "
		      "customer_id = $1::bigint)", cid, NULL) == history,
	      "the complaints' history lost or gained entries");
	CHECK(tdb_int("SELECT count(*) FROM notes WHERE interaction_id IN "
		      "(SELECT id FROM interactions WHERE customer_id = "
		      "$1::bigint)", cid, NULL) == notes,
	      "the interactions lost or gained notes");
	CHECK(tdb_int("SELECT count(*) FROM grants WHERE customer_id = "
		      "$1::bigint", cid, NULL) == 2,
	      "the goodwill granted to the customer changed");
	r = E2E_OK(c, "CUSTOMER GET id=%lld", cust);
	TC_FIELD(r, "goodwill_30d", "110.00");

	/* Erasing twice is harmless. */
	E2E_OK(adm, "CUSTOMER ERASE id=%lld reason=%s", cust,
	       tc_q("erasure requested in writing"));
	CHECK(strcmp(list_of_customer(c, cust), list_before) == 0,
	      "COMPLAINT LIST changed with the second erasure");
	CHECK(strcmp(stats_days(c, day0), stats_before) == 0,
	      "STATS changed with the second erasure");

	/* The log never held it (arguments are not logged). */
	log = read_log();
	log_text = log;
	for (i = 0; i < n; i++)
		LOG_HAS_NOT(log_text, needle_what[i], needles[i]);
	free(log);
}

/* ---- erasure of stored answers -------------------------------------------- */

/* A ready agent of this test with these USER ADD arguments. */
static tc_conn *ready_agent(const char *extra, const char **name)
{
	const char *n = E2E_USER("agent", extra);
	tc_conn *c = tc_session(n);

	E2E_OK(c, "STATE SET state=ready");
	if (name != NULL)
		*name = n;
	return c;
}

/* Takes whatever waits for skill with NEXT (throwaway agents). */
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

/* The answer to NEXT quotes the complaint's summary; with an idem key it
 * is stored (PROTOCOL §4). After the erasure no stored answer quotes it. */
static void test_erase_stored_answers(void **state)
{
	const char *name, *needles[6];
	tc_conn *c, *adm = tc_session("admin1");
	struct pii p;
	struct tc_resp *r;
	long long cust, id;
	const char *key = e2e_uniq("privacy-next-");
	size_t i, n;

	(void)state;
	make_pii(&p);
	n = pii_needles(&p, needles);
	drain("urgent");
	c = ready_agent("skills=urgent", &name);
	cust = add_customer(c, &p);
	r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=billing severity=1 "
		   "queue=urgent summary=%s idem=%s", cust,
		   tc_q(e2e_fmt("%s (%s, %s) double charge", p.name, p.phone,
				p.email)), key);
	id = E2E_NUM(r, "complaint");
	r = E2E_OK(c, "NEXT idem=%s", e2e_uniq("privacy-next-"));
	TC_FIELD(r, "complaint", e2e_fmt("%lld", id));
	CHECK(strstr(tc_get(r, "summary"), p.surname) != NULL,
	      "NEXT's summary: %s", r->final);
	CHECK(tdb_int("SELECT count(*) FROM idem_keys WHERE strpos(response, "
		      "$1) > 0", p.surname, NULL) == 1,
	      "test bug: the NEXT answer quoting the summary was not stored");
	E2E_OK(adm, "CUSTOMER ERASE id=%lld reason=%s", cust,
	       tc_q("asked at the counter"));
	for (i = 0; i < n; i++) {
		DB_HAS_NOT(needle_what[i], needles[i]);
		E2E_PING(c); /* each search reads every table (idle_timeout) */
	}
	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	RESP_CLEAN(r, needles, n);
	TC_FIELD(r, "assignee", name);
}

/* ---- card numbers ------------------------------------------------------------ */

static bool luhn_ok(const char *digits)
{
	size_t n = strlen(digits), i;
	unsigned sum = 0;

	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(digits[n - 1 - i] - '0');

		if (i % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/* A number of len digits that starts with prefix, random in the middle,
 * that passes Luhn (valid) or fails it (!valid). */
static void make_number(char *out, const char *prefix, size_t len, bool valid)
{
	size_t i, p = strlen(prefix);

	memcpy(out, prefix, p);
	for (i = p; i < len; i++)
		out[i] = (char)('0' + rnd() % 10);
	out[len] = '\0';
	for (i = 0; i < 10; i++) {
		out[len - 1] = (char)('0' + i);
		if (luhn_ok(out))
			break;
	}
	if (!valid)
		out[len - 1] = (char)('0' + (out[len - 1] - '0' + 1) % 10);
}

/* digits written in groups (e.g. "4444", "465") with the separators seps
 * used in turn (" ", "-", " -" for mixed); groups "" writes it plain. The
 * last group takes what is left. */
static const char *spell(const char *digits, const char *groups,
			 const char *seps)
{
	char out[64];
	size_t o = 0, d = 0, g = 0, n = strlen(digits);

	if (*groups == '\0')
		return keep(digits);
	while (d < n) {
		size_t k = groups[g] != '\0' ? (size_t)(groups[g] - '0') : n - d;

		if (groups[g] != '\0' && groups[g + 1] == '\0')
			k = n - d;
		if (d > 0)
			out[o++] = seps[(g - 1) % strlen(seps)];
		memcpy(out + o, digits + d, k);
		o += k;
		d += k;
		if (groups[g] != '\0')
			g++;
	}
	out[o] = '\0';
	return keep(out);
}

struct card {
	const char *what;
	char digits[24];
	const char *typed;
};

/* The digits of s, and nothing else. */
static void digits_of(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 1 < outlen; i++)
		if (isdigit((unsigned char)s[i]))
			out[o++] = s[i];
	out[o] = '\0';
}

/* stored must be words[0] card[0] words[1] ... card[n-1] words[n], each
 * card reduced to at most its first six and last four digits (anything
 * may replace the rest: README says '*'), every word as typed. */
#define CHECK_MASKED(stored, words, cards, n) \
	check_masked_at((stored), (words), (cards), (n), __FILE__, __LINE__)
static void check_masked_at(const char *stored, const char *const *words,
			    const struct card *cards, size_t n,
			    const char *file, int line)
{
	size_t pos, i, w0 = strlen(words[0]);
	const char *why = NULL;

	if (stored == NULL) {
		print_error("%s:%d: nothing stored\n", file, line);
		_fail(file, line);
	}
	if (strncmp(stored, words[0], w0) != 0) {
		why = "the text before the first card changed";
		goto bad;
	}
	pos = w0;
	for (i = 0; i < n; i++) {
		const char *next = words[i + 1];
		const char *q = *next != '\0' ? strstr(stored + pos, next) :
						stored + strlen(stored);
		char d[64];
		size_t nd, nc = strlen(cards[i].digits), k;
		bool ok = false;

		if (q == NULL) {
			why = "the text after a card changed";
			goto bad;
		}
		digits_of(stored + pos, (size_t)(q - (stored + pos)), d,
			  sizeof(d));
		nd = strlen(d);
		for (k = 0; k <= 6 && k <= nd && !ok; k++) {
			size_t m = nd - k;

			ok = m <= 4 && strncmp(d, cards[i].digits, k) == 0 &&
			     strcmp(d + k, cards[i].digits + nc - m) == 0;
		}
		if (!ok) {
			print_error("%s:%d: card %s (%s, typed \"%s\") stored as "
				    "\"%.*s\": more than the first 6 and last 4 "
				    "digits in clear\n  stored: %s\n", file,
				    line, cards[i].digits, cards[i].what,
				    cards[i].typed, (int)(q - (stored + pos)),
				    stored + pos, stored);
			_fail(file, line);
		}
		pos = (size_t)(q - stored) + strlen(next);
		if (*next == '\0')
			pos = strlen(stored);
	}
	if (stored[pos] != '\0') {
		why = "text was added after the last card";
		goto bad;
	}
	return;
bad:
	print_error("%s:%d: %s\n  stored: %s\n", file, line, why, stored);
	_fail(file, line);
}

/* The answer carries masked=want. */
#define MASKED(r, want) masked_at((r), (want), __FILE__, __LINE__)
static void masked_at(struct tc_resp *r, int want, const char *file, int line)
{
	const char *m = tc_get(r, "masked");

	if (want == 0 ? m != NULL : (m == NULL || atoi(m) != want)) {
		print_error("%s:%d: expected %s in the answer, got %s\n"
			    "  request: %s\n", file, line,
			    want ? e2e_fmt("masked=%d", want) :
				   "no masked= field",
			    r->final ? r->final : "(none)", r->request);
		_fail(file, line);
	}
}

/* Neither the typed form nor the digits of card are stored anywhere or
 * logged. */
static void card_nowhere(const struct card *k, const char *log)
{
	DB_HAS_NOT(e2e_fmt("card number %s", k->what), k->typed);
	DB_HAS_NOT(e2e_fmt("card number %s", k->what), k->digits);
	if (log != NULL) {
		LOG_HAS_NOT(log, e2e_fmt("card number %s", k->what), k->typed);
		LOG_HAS_NOT(log, e2e_fmt("card number %s", k->what), k->digits);
	}
}

static void card_init(struct card *k, const char *what, const char *digits,
		      const char *groups, const char *seps)
{
	k->what = what;
	snprintf(k->digits, sizeof(k->digits), "%s", digits);
	k->typed = spell(k->digits, groups, seps);
	if (!luhn_ok(k->digits))
		fail_msg("test bug: %s (%s) fails Luhn", k->digits, what);
}

static void card_random(struct card *k, const char *what, const char *prefix,
			size_t len, const char *groups, const char *seps)
{
	char d[24];

	make_number(d, prefix, len, true);
	card_init(k, what, d, groups, seps);
}

/* The spellings of the issue: one card per INTERACTION NOTE. */
static void test_cards_interaction_note(void **state)
{
	struct card cards[12];
	size_t nc = 0, i;
	tc_conn *c = tc_session("agent2");
	struct tc_resp *r;
	long long cust, ia;
	char *log;

	(void)state;
	card_init(&cards[nc++], "Visa test number, plain", "4111111111111111", "", "");
	card_init(&cards[nc++], "Visa, spaces 4-4-4-4", "4012888888881881", "4444", " ");
	card_init(&cards[nc++], "Mastercard, dashes 4-4-4-4", "5555555555554444", "4444", "-");
	card_init(&cards[nc++], "Mastercard 2-series, mixed separators", "2223003122003222", "4444", " -");
	card_init(&cards[nc++], "Amex, spaces 4-6-5", "378282246310005", "465", " ");
	card_init(&cards[nc++], "Amex, dashes 4-6-5", "371449635398431", "465", "-");
	card_init(&cards[nc++], "Visa 13 digits, plain", "4222222222222", "", "");
	card_random(&cards[nc++], "random Visa, plain", "4", 16, "", "");
	card_random(&cards[nc++], "random Mastercard, spaces", "53", 16, "4444", " ");
	card_random(&cards[nc++], "random 19 digits, 4-4-4-4-3 spaces", "6", 19, "44443", " ");
	card_random(&cards[nc++], "random 17 digits, dashes", "4", 17, "4445", "-");
	card_random(&cards[nc++], "random 14 digits, plain", "36", 14, "", "");

	cust = E2E_CUSTOMER(c, NULL);
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=phone "
		   "direction=inbound", cust);
	ia = E2E_NUM(r, "interaction");
	for (i = 0; i < nc; i++) {
		const char *words[2] = { "customer read out the card ",
					 " and the expiry, please call back" };
		long long note;
		char *stored;

		r = E2E_OK(c, "INTERACTION NOTE id=%lld text=%s", ia,
			   tc_q(e2e_fmt("%s%s%s", words[0], cards[i].typed,
					words[1])));
		MASKED(r, 1);
		note = E2E_NUM(r, "note");
		stored = tdb_value("SELECT text FROM notes WHERE id = $1::bigint",
				   e2e_fmt("%lld", note), NULL);
		CHECK_MASKED(stored, words, &cards[i], 1);
		free(stored);
	}
	/* The answers show the masked text only. */
	r = E2E_OK(c, "INTERACTION GET id=%lld", ia);
	E2E_NROWS(r, nc);
	for (i = 0; i < nc; i++) {
		const char *words[2] = { "customer read out the card ",
					 " and the expiry, please call back" };

		CHECK_MASKED(tc_row_get(r, i, "text"), words, &cards[i], 1);
	}
	E2E_OK(c, "INTERACTION END id=%lld outcome=resolved", ia);
	log = read_log();
	for (i = 0; i < nc; i++)
		card_nowhere(&cards[i], log);
	free(log);
}

/* A complaint's summary and notes: one card, then three in one text. */
static void test_cards_complaint(void **state)
{
	tc_conn *c = tc_session("agent2");
	struct card s, n1, three[3];
	const char *w1[2] = { "Charged twice on card ", ", wants a refund" };
	const char *w2[2] = { "card on file: ", "" };
	const char *w3[4] = { "old card ", ", new card ", " and the partner's ",
			      "." };
	struct tc_resp *r;
	long long cust, id;
	char *stored, *log;
	size_t i;

	(void)state;
	card_random(&s, "random Amex in a summary, 4-6-5 spaces", "37", 15, "465", " ");
	card_random(&n1, "random Visa in a note, dashes", "4", 16, "4444", "-");
	card_init(&three[0], "Mastercard test number, plain", "5105105105105100", "", "");
	card_random(&three[1], "random Visa, spaces", "4", 16, "4444", " ");
	card_random(&three[2], "random Mastercard, mixed", "55", 16, "4444", "- ");

	cust = E2E_CUSTOMER(c, NULL);
	r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=billing severity=3 "
		   "summary=%s", cust, tc_q(e2e_fmt("%s%s%s", w1[0], s.typed,
						     w1[1])));
	MASKED(r, 1);
	id = E2E_NUM(r, "complaint");
	stored = tdb_value("SELECT summary FROM complaints WHERE id = $1::bigint",
			   e2e_fmt("%lld", id), NULL);
	CHECK_MASKED(stored, w1, &s, 1);
	free(stored);
	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	CHECK_MASKED(tc_get(r, "summary"), w1, &s, 1);

	r = E2E_OK(c, "COMPLAINT NOTE id=%lld text=%s", id,
		   tc_q(e2e_fmt("%s%s", w2[0], n1.typed)));
	MASKED(r, 1);
	stored = tdb_value("SELECT text FROM complaint_history WHERE complaint_id "
			   "= $1::bigint AND event = 'note' ORDER BY id DESC "
			   "LIMIT 1", e2e_fmt("%lld", id), NULL);
	CHECK_MASKED(stored, w2, &n1, 1);
	free(stored);

	r = E2E_OK(c, "COMPLAINT NOTE id=%lld reply=yes text=%s", id,
		   tc_q(e2e_fmt("%s%s%s%s%s%s%s", w3[0], three[0].typed, w3[1],
				three[1].typed, w3[2], three[2].typed, w3[3])));
	MASKED(r, 3);
	stored = tdb_value("SELECT text FROM complaint_history WHERE complaint_id "
			   "= $1::bigint AND event IN ('note', 'reply') ORDER BY "
			   "id DESC LIMIT 1", e2e_fmt("%lld", id), NULL);
	CHECK_MASKED(stored, w3, three, 3);
	free(stored);

	r = E2E_OK(c, "COMPLAINT GET id=%lld", id);
	CHECK(r->nrows >= 3, "COMPLAINT GET: %zu history rows", r->nrows);
	CHECK_MASKED(tc_row_get(r, r->nrows - 1, "text"), w3, three, 3);
	CHECK_MASKED(tc_row_get(r, r->nrows - 2, "text"), w2, &n1, 1);

	/* An idempotent replay answers masked=N again and stores nothing
	 * more (docs/PROTOCOL.md §4, §5). */
	{
		const char *key = e2e_uniq("privacy-card-");
		const char *text = tc_q(e2e_fmt("%s%s", w2[0], n1.typed));
		long long rows;

		r = E2E_OK(c, "COMPLAINT NOTE id=%lld text=%s idem=%s", id,
			   text, key);
		MASKED(r, 1);
		rows = tdb_int("SELECT count(*) FROM complaint_history WHERE "
			       "complaint_id = $1::bigint",
			       e2e_fmt("%lld", id), NULL);
		r = E2E_OK(c, "COMPLAINT NOTE id=%lld text=%s idem=%s", id,
			   text, key);
		MASKED(r, 1);
		CHECK(tdb_int("SELECT count(*) FROM complaint_history WHERE "
			      "complaint_id = $1::bigint",
			      e2e_fmt("%lld", id), NULL) == rows,
		      "the replay of an idempotent note stored it again");
	}
	/* Refusals carry no masked= (docs/PROTOCOL.md §5). */
	r = E2E_EXPECT(c, "NO", "not-found", "COMPLAINT NOTE id=%lld text=%s",
		       id + 1000000000LL, tc_q(e2e_fmt("%s%s", w2[0], n1.typed)));
	MASKED(r, 0);

	log = read_log();
	card_nowhere(&s, log);
	card_nowhere(&n1, log);
	for (i = 0; i < 3; i++)
		card_nowhere(&three[i], log);
	free(log);
}

/* Every other free text is masked too ("any free text that reaches the
 * server"): one card per text, masked=1 on each answer, in no row after. */
static void test_cards_every_text(void **state)
{
	const char *a = E2E_USER("agent", "skills=billing");
	tc_conn *c = tc_session(a), *sup = tc_session("sup1");
	tc_conn *adm = tc_session("admin1"), *clerk = tc_session("clerk1");
	tc_conn *integ = tc_session("integ1");
	struct card k[16];
	size_t nk = 0, i;
	struct tc_resp *r;
	long long cust, c1, c2, e1, ho, fu = 0;
	char *log;

	(void)state;
	for (i = 0; i < NELEM(k); i++)
		card_random(&k[i], e2e_uniq("in text #"), i % 2 ? "4" : "51",
			    16, i % 3 ? "4444" : "", i % 4 ? " " : "-");
#define T(i) tc_q(e2e_fmt("ref %s end", k[i].typed))
	cust = E2E_CUSTOMER(c, NULL);
	c1 = E2E_COMPLAINT(c, cust, "billing", 3);
	E2E_OK(c, "COMPLAINT TAKE id=%lld", c1);
	r = E2E_OK(c, "COMPLAINT WAIT id=%lld reason=%s", c1, T(nk)); nk++;
	MASKED(r, 1);
	E2E_OK(c, "COMPLAINT RESUME id=%lld", c1);
	r = E2E_OK(c, "ESCALATE complaint=%lld reason=%s", c1, T(nk)); nk++;
	MASKED(r, 1);
	e1 = E2E_NUM(r, "escalation");
	r = E2E_OK(sup, "ESCALATION RAISE id=%lld reason=%s", e1, T(nk)); nk++;
	MASKED(r, 1);
	r = E2E_OK(adm, "REJECT escalation=%lld reason=%s", e1, T(nk)); nk++;
	MASKED(r, 1);
	r = E2E_OK(c, "ESCALATE complaint=%lld reason=x", c1);
	r = E2E_OK(sup, "APPROVE escalation=%lld note=%s", E2E_NUM(r, "escalation"),
		   T(nk)); nk++;
	MASKED(r, 1);
	r = E2E_OK(c, "HANDOFF OPEN complaint=%lld dept=logistics request=%s",
		   c1, T(nk)); nk++;
	MASKED(r, 1);
	ho = E2E_NUM(r, "handoff");
	E2E_OK(clerk, "HANDOFF ACK id=%lld", ho);
	r = E2E_OK(clerk, "HANDOFF DONE id=%lld result=%s", ho, T(nk)); nk++;
	MASKED(r, 1);
	r = E2E_OK(c, "HANDOFF RATE id=%lld score=3 comment=%s", ho, T(nk)); nk++;
	MASKED(r, 1);
	r = E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=callback resolution=%s",
		   c1, T(nk)); nk++;
	MASKED(r, 1);
	r = E2E_OK(integ, "FEEDBACK complaint=%lld csat=2 comment=%s", c1, T(nk)); nk++;
	MASKED(r, 1);
	r = E2E_OK(c, "COMPLAINT REOPEN id=%lld reason=%s", c1, T(nk)); nk++;
	MASKED(r, 1);
	c2 = E2E_COMPLAINT(c, cust, "billing", 3);
	E2E_OK(c, "COMPLAINT TAKE id=%lld", c2);
	E2E_OK(c, "COMPLAINT RESOLVE id=%lld action=repair justify_later=yes "
	       "resolution=x", c2);
	r = E2E_OK(c, "JUSTIFY complaint=%lld text=%s", c2, T(nk)); nk++;
	MASKED(r, 1);
	r = E2E_OK(c, "STATE SET state=break reason=%s", T(nk)); nk++;
	MASKED(r, 1);
	r = E2E_OK(c, "FOLLOWUP LIST mine=yes limit=1000");
	for (i = 0; i < r->nrows; i++)
		if (strcmp(tc_row_get(r, i, "complaint"),
			   e2e_fmt("%lld", c1)) == 0)
			fu = E2E_ROW_NUM(r, i, "followup");
	CHECK(fu > 0, "no follow-up for the callback on complaint %lld", c1);
	r = E2E_OK(c, "FOLLOWUP DONE id=%lld outcome=left-message note=%s", fu,
		   T(nk)); nk++;
	MASKED(r, 1);
	r = E2E_OK(integ, "CUSTOMER ADD name=%s", T(nk)); nk++;
	MASKED(r, 1);
#undef T
	CHECK(nk <= NELEM(k), "test bug: %zu cards", nk);
	log = read_log();
	for (i = 0; i < nk; i++)
		card_nowhere(&k[i], log);
	free(log);
}

/* Numbers that are not cards are stored as typed, without masked=. */
static void test_cards_lookalikes(void **state)
{
	tc_conn *c = tc_session("agent2");
	const char *texts[16];
	char n16[24], n13[24], n19[24], n15[24], n12[24];
	size_t nt = 0, i;
	struct tc_resp *r;
	long long cust, ia, id;
	char *stored;

	(void)state;
	make_number(n16, "4", 16, false);
	make_number(n13, "4", 13, false);
	make_number(n19, "6", 19, false);
	make_number(n15, "37", 15, false);
	make_number(n12, "4111", 12, true); /* passes Luhn, but 12 digits */
	CHECK(!luhn_ok(n16) && !luhn_ok(n13) && !luhn_ok(n19) && !luhn_ok(n15)
	      && luhn_ok(n12), "test bug: make_number");
	CHECK(!luhn_ok("4111111111111112") && !luhn_ok("5555555555554445") &&
	      !luhn_ok("20240001234567"), "test bug: look-alikes pass Luhn");
	texts[nt++] = "order 4111111111111112 shipped";
	texts[nt++] = "card? 4111 1111 1111 1112 (fails the check)";
	texts[nt++] = "5555-5555-5555-4445 is not a card";
	texts[nt++] = "order 2024-000123-4567 for the invoice";
	texts[nt++] = keep(e2e_fmt("plain %s nothing", n16));
	texts[nt++] = keep(e2e_fmt("thirteen %s nothing", n13));
	texts[nt++] = keep(e2e_fmt("nineteen %s nothing", n19));
	texts[nt++] = keep(e2e_fmt("amex-like %s nothing", n15));
	texts[nt++] = keep(e2e_fmt("too short %s (passes Luhn)", n12));
	texts[nt++] = "call +44 20 7946 0958 after six";
	texts[nt++] = "mobile +33 6 12 34 56 78, office +33 1 23 45 67 89";
	texts[nt++] = "US: +1 (415) 555-2671 or 1-800-555-0199";
	texts[nt++] = "ticket 20240517-0042, parcel 00340434161234567";

	cust = E2E_CUSTOMER(c, NULL);
	r = E2E_OK(c, "INTERACTION START customer=%lld channel=phone "
		   "direction=inbound", cust);
	ia = E2E_NUM(r, "interaction");
	r = E2E_OK(c, "COMPLAINT OPEN customer=%lld category=billing severity=3 "
		   "summary=%s", cust, tc_q(texts[0]));
	MASKED(r, 0);
	id = E2E_NUM(r, "complaint");
	stored = tdb_value("SELECT summary FROM complaints WHERE id = $1::bigint",
			   e2e_fmt("%lld", id), NULL);
	CHECK(stored != NULL && strcmp(stored, texts[0]) == 0,
	      "summary stored as \"%s\", typed \"%s\"", stored ? stored : "",
	      texts[0]);
	free(stored);
	for (i = 0; i < nt; i++) {
		long long note;

		r = E2E_OK(c, "INTERACTION NOTE id=%lld text=%s", ia,
			   tc_q(texts[i]));
		MASKED(r, 0);
		note = E2E_NUM(r, "note");
		stored = tdb_value("SELECT text FROM notes WHERE id = $1::bigint",
				   e2e_fmt("%lld", note), NULL);
		CHECK(stored != NULL && strcmp(stored, texts[i]) == 0,
		      "note stored as \"%s\", typed \"%s\"",
		      stored ? stored : "", texts[i]);
		free(stored);
		r = E2E_OK(c, "COMPLAINT NOTE id=%lld text=%s", id,
			   tc_q(texts[i]));
		MASKED(r, 0);
		stored = tdb_value("SELECT text FROM complaint_history WHERE "
				   "complaint_id = $1::bigint AND event = 'note' "
				   "ORDER BY id DESC LIMIT 1",
				   e2e_fmt("%lld", id), NULL);
		CHECK(stored != NULL && strcmp(stored, texts[i]) == 0,
		      "complaint note stored as \"%s\", typed \"%s\"",
		      stored ? stored : "", texts[i]);
		free(stored);
	}
	r = E2E_OK(c, "INTERACTION GET id=%lld", ia);
	E2E_NROWS(r, nt);
	for (i = 0; i < nt; i++)
		E2E_ROW_FIELD(r, i, "text", texts[i]);
	E2E_OK(c, "INTERACTION END id=%lld outcome=resolved", ia);

	/* A phone number in international form whose digits pass Luhn is
	 * a phone number: phone= keeps it, CUSTOMER FIND finds it as typed.
	 * The same digits without "+" (a card pasted into the wrong field)
	 * are masked like in any text. */
	make_number(n13, "49151", 13, true);
	CHECK(luhn_ok(n13), "test bug: make_number");
	{
		const char *intl = keep(e2e_fmt("+%s", n13));
		long long k;

		r = E2E_OK(c, "CUSTOMER ADD name=%s phone=%s",
			   tc_q(e2e_uniq("Phone Owner")), intl);
		MASKED(r, 0);
		k = E2E_NUM(r, "customer");
		r = E2E_OK(c, "CUSTOMER GET id=%lld", k);
		TC_FIELD(r, "phone", intl);
		r = E2E_OK(c, "CUSTOMER FIND phone=%s", intl);
		CHECK(r->nrows >= 1 && strcmp(tc_row_get(r, 0, "phone"), intl) == 0,
		      "CUSTOMER FIND phone=%s: %zu rows", intl, r->nrows);
		r = E2E_OK(c, "CUSTOMER SET id=%lld phone=%s", k, n13);
		MASKED(r, 1);
		r = E2E_OK(c, "CUSTOMER GET id=%lld", k);
		CHECK(strcmp(TC_HAS(r, "phone"), n13) != 0,
		      "phone=%s (no \"+\", passes Luhn) stored as typed", n13);
		/* "+" and 16 digits is no phone number (E.164: 15 at most). */
		make_number(n16, "4", 16, true);
		r = E2E_OK(c, "CUSTOMER SET id=%lld phone=+%s", k, n16);
		MASKED(r, 1);
	}
}

/* ---- the integration role ------------------------------------------------------ */

/* PROTOCOL §5's list, LOGIN, and HELP (an extension marked I). */
static bool integration_may(const char *verb, const char *sub)
{
	static const char *const allowed[] = {
		"CUSTOMER ADD", "CUSTOMER GET", "CUSTOMER FIND", "CUSTOMER SET",
		"INTERACTION START", "INTERACTION NOTE", "INTERACTION END",
		"COMPLAINT OPEN", "COMPLAINT GET", "FEEDBACK", "CATEGORY LIST",
		"PING", "LOGOUT", "PASSWORD", "LOGIN", "HELP",
	};
	const char *full = *sub ? e2e_fmt("%s %s", verb, sub) : verb;
	size_t i;

	for (i = 0; i < NELEM(allowed); i++)
		if (strcasecmp(allowed[i], full) == 0)
			return true;
	return false;
}

static void test_integration_refused_all_else(void **state)
{
	static const char *const extensions[] = {
		"CALIBRATION", "TARGET SET", "TARGET LIST", "FOLLOWUP LIST",
		"FOLLOWUP DONE",
	};
	tc_conn *adm = tc_session("admin1"), *integ = tc_session("integ1");
	struct tc_resp *r, *all;
	size_t i, refused = 0;

	(void)state;
	all = E2E_OK(adm, "HELP");
	CHECK(all->nrows >= 40, "admin1's HELP lists %zu verbs", all->nrows);
	for (i = 0; i < all->nrows; i++) {
		const char *verb = tc_row_get(all, i, "verb");
		const char *sub = tc_row_get(all, i, "sub");

		CHECK(verb != NULL && sub != NULL, "HELP row: %s", all->rows[i]);
		if (integration_may(verb, sub))
			continue;
		r = tc_cmd(integ, "%s%s%s", verb, *sub ? " " : "", sub);
		if (strcmp(r->word, "NO") != 0 || r->code == NULL ||
		    strcmp(r->code, "forbidden") != 0)
			print_error("integration user: %s %s\n", verb, sub);
		E2E_RESP(r, "NO", "forbidden");
		tc_resp_free(&r);
		refused++;
	}
	CHECK(refused >= 30, "only %zu verbs tried", refused);
	for (i = 0; i < NELEM(extensions); i++)
		E2E_EXPECT(integ, "NO", "forbidden", "%s", extensions[i]);

	/* HELP lists for the integration user only what it may use. */
	r = E2E_OK(integ, "HELP");
	for (i = 0; i < r->nrows; i++)
		CHECK(integration_may(tc_row_get(r, i, "verb"),
				      tc_row_get(r, i, "sub")),
		      "HELP lists for integ1 a verb it may not use: %s",
		      r->rows[i]);
	E2E_OK(integ, "PING");
}

/* ---- PASSWORD -------------------------------------------------------------- */

static void test_password_stored_hashed(void **state)
{
	const char *name = E2E_USER("agent", "");
	struct tc_opts o = { .source = "127.0.0.21" };
	tc_conn *c = tc_session(name), *d;
	char card[24], *h0, *h1, *log;
	const char *newpw;
	struct tc_resp *r;

	(void)state;
	/* A card-like password: secrets are not masked, or it would no
	 * longer be the password. */
	make_number(card, "4", 16, true);
	newpw = keep(e2e_fmt("pw %s x", spell(card, "4444", " ")));
	h0 = tdb_value("SELECT pw_hash FROM users WHERE name = $1", name, NULL);
	r = E2E_OK(c, "PASSWORD old=%s new=%s", tc_q(tc_password()), tc_q(newpw));
	MASKED(r, 0);
	h1 = tdb_value("SELECT pw_hash FROM users WHERE name = $1", name, NULL);
	CHECK(h0 != NULL && h1 != NULL && strcmp(h0, h1) != 0,
	      "PASSWORD did not change the stored hash");
	CHECK(strncmp(h1, "$argon2id$", 10) == 0,
	      "the password is not stored as an argon2id hash: %.12s...", h1);
	free(h0);
	free(h1);
	DB_HAS_NOT("the new password", newpw);
	DB_HAS_NOT("the new password's digits", card);
	DB_HAS_NOT("the old password", tc_password());

	d = tc_connect_opts(&o);
	r = tc_login(d, name, newpw);
	E2E_RESP(r, "OK", NULL);
	tc_close(&d);
	d = tc_connect_opts(&o);
	r = tc_login(d, name, tc_password());
	E2E_RESP(r, "NO", "auth-failed");
	tc_close(&d);
	log = read_log();
	LOG_HAS_NOT(log, "the new password", newpw);
	LOG_HAS_NOT(log, "the new password's digits", card);
	LOG_HAS_NOT(log, "the old password", tc_password());
	free(log);
}

/* ---- mutual TLS ----------------------------------------------------------------- */

static void test_mutual_tls(void **state)
{
	const char *port;
	struct tc_opts o = { 0 };
	char err[512];
	tc_conn *c;
	struct tc_resp *r;
	int v;
	static const int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };

	(void)state;
	port = E2E_NODE_START("mtls", e2e_fmt("tls_client_ca = %s",
					      tc_env("CD_CA")));
	o.port = port;
	for (v = 0; v < 2; v++) {
		const char *ver = v ? "TLS 1.3" : "TLS 1.2";

		o.min_version = o.max_version = versions[v];
		/* Without a certificate: refused at the handshake. */
		o.cert = o.key = NULL;
		c = tc_open(&o, err, sizeof(err));
		CHECK(c == NULL, "%s: a client without a certificate was "
		      "served (greeting %s)", ver, c ? tc_greeting(c) : "");
		/* With a certificate the CA did not sign (CN=agent1 too). */
		o.cert = tc_env("CD_ROGUE_CERT");
		o.key = tc_env("CD_ROGUE_KEY");
		c = tc_open(&o, err, sizeof(err));
		CHECK(c == NULL, "%s: a client with a self-signed certificate "
		      "was served (greeting %s)", ver, c ? tc_greeting(c) : "");
		/* agent1 with the agent1 certificate. */
		o.cert = tc_env("CD_CLIENT_CERT");
		o.key = tc_env("CD_CLIENT_KEY");
		c = tc_open(&o, err, sizeof(err));
		CHECK(c != NULL, "%s: the CA-signed client certificate was "
		      "refused: %s", ver, err);
		r = tc_login(c, "agent1", tc_password());
		E2E_RESP(r, "OK", NULL);
		TC_FIELD(r, "user", "agent1");
		E2E_OK(c, "PING");
		tc_close(&c);
		/* Another user with agent1's certificate. */
		c = tc_open(&o, err, sizeof(err));
		CHECK(c != NULL, "%s: connect: %s", ver, err);
		r = tc_login(c, "agent2", tc_password());
		E2E_RESP(r, "NO", "auth-failed");
		/* ...and the session is still not logged in. */
		E2E_EXPECT(c, "NO", "auth-required", "STATE");
		r = tc_login(c, "agent1", tc_password());
		E2E_RESP(r, "OK", NULL);
		tc_close(&c);
	}
	/* The main node asks for no certificate. */
	c = tc_session("agent2");
	E2E_OK(c, "PING");
}

int e2e_group_privacy(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_customer_set_history, tc_teardown),
		cmocka_unit_test_teardown(test_erase_permissions, tc_teardown),
		cmocka_unit_test_teardown(test_erase_everywhere, tc_teardown),
		cmocka_unit_test_teardown(test_erase_stored_answers, tc_teardown),
		cmocka_unit_test_teardown(test_cards_interaction_note, tc_teardown),
		cmocka_unit_test_teardown(test_cards_complaint, tc_teardown),
		cmocka_unit_test_teardown(test_cards_every_text, tc_teardown),
		cmocka_unit_test_teardown(test_cards_lookalikes, tc_teardown),
		cmocka_unit_test_teardown(test_integration_refused_all_else,
					  tc_teardown),
		cmocka_unit_test_teardown(test_password_stored_hashed, tc_teardown),
		cmocka_unit_test_teardown(test_mutual_tls, e2e_node_teardown),
	};

	return cmocka_run_group_tests_name("privacy", tests, NULL, NULL);
}
