/* e2e_util.h: helpers shared by the end-to-end groups (customer,
 * interaction, complaint, catalog, users, idem, robust): checks with
 * messages, clocks, unique names, RFC 3339 times, numeric fields, and the
 * few objects most tests need (a customer, a complaint, a user).
 *
 * Functions written as macros fail the running test with the caller's file
 * and line, like the TC_* assertions of tclient.h. Strings returned by
 * e2e_fmt() live in a ring of 32 buffers: use them soon; those of
 * e2e_uniq() (and so user names from E2E_USER) last the whole run. */
#ifndef CALLDESK_E2E_UTIL_H
#define CALLDESK_E2E_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tclient.h"

/* Fails the test with a message unless cond holds. */
#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond))                                               \
			fail_msg(__VA_ARGS__);                             \
	} while (0)

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Monotonic milliseconds, and a sleep that survives signals. */
int64_t e2e_mono_ms(void);
void e2e_sleep_ms(int ms);

/* ---- waiting for what the server does by itself -------------------------
 *
 * The suite also runs on slow, busy machines (a sanitizer build on a small
 * CI runner), where a sweep, a NOTIFY, a reload or a closed session may
 * take many times longer than on a desk. So a test does not sleep a fixed
 * time and then assert that the work was done: it polls for it with a
 * generous deadline, and goes on as soon as it is seen. Checks that
 * something did NOT happen (too early, twice) keep their fixed windows:
 * a slow machine can only make those pass more easily. */

/* How long to wait for such work: 30 s, or twice $CD_TIMEOUT_MS when that
 * is larger (a server under valgrind). */
int e2e_wait_ms(void);

/* For polling loops: false when the monotonic clock is past deadline;
 * otherwise sleeps E2E_POLL_MS and returns true. */
#define E2E_POLL_MS 100
bool e2e_poll_sleep(int64_t deadline);

/* Evaluates cond (an expression) until it is true or e2e_wait_ms() has
 * passed, every E2E_POLL_MS; ok (a bool lvalue) gets its last value. */
#define E2E_POLL(ok, cond)                                                 \
	do {                                                               \
		int64_t e2e_poll_end_ = e2e_mono_ms() + e2e_wait_ms();     \
		while (!((ok) = (cond)) && e2e_poll_sleep(e2e_poll_end_))  \
			;                                                  \
	} while (0)

/* PING on each connection given (the list ends at the first NULL),
 * expecting OK:
 * keeps sessions from their idle_timeout (5 s in the generated
 * configuration) while a test is busy elsewhere or waits. */
#define E2E_PING(...) e2e_ping_at(__FILE__, __LINE__, __VA_ARGS__, (tc_conn *)NULL)
void e2e_ping_at(const char *file, int line, ...);

/* Sleeps at least ms in all, with a PING on each connection given at
 * least every second meanwhile (a wait longer than a moment would
 * otherwise eat into their idle_timeout). */
#define E2E_SLEEP_BUSY(ms, ...) \
	e2e_sleep_busy_at(__FILE__, __LINE__, (ms), __VA_ARGS__, (tc_conn *)NULL)
void e2e_sleep_busy_at(const char *file, int line, int ms, ...);

/* The server log ($CD_LOG): its size now (an offset); whether text is in
 * it after offset; and waiting up to e2e_wait_ms() for text to appear in
 * it after offset (true when it did). */
/* The file from byte offset to its end, NUL-terminated (malloc'd; the
 * length in *len when len is not NULL); NULL when it cannot be read. */
char *e2e_slurp(const char *path, size_t offset, size_t *len);

size_t e2e_log_size(void);
bool e2e_log_has(size_t offset, const char *text);
bool e2e_log_wait(size_t offset, const char *text);

/* Waits up to e2e_wait_ms() until at least n database sessions other than
 * tdb.h's own wait on a lock (pg_stat_activity.wait_event_type = 'Lock'):
 * requests held by a lock the test took with tdb_exec(), so that what the
 * test does next happens while they are held. Works inside tdb's open
 * transaction. Fails the test otherwise, after a ROLLBACK (so that the
 * lock does not outlive the test); returns the number seen. */
#define E2E_LOCK_WAITERS(n) e2e_lock_waiters_at((n), __FILE__, __LINE__)
long long e2e_lock_waiters_at(long long n, const char *file, int line);

/* A cmocka setup for tests whose checks count "today" (the daily budget,
 * the default STATS period; UTC in the generated configuration): when
 * less than two minutes are left of the UTC day, waits until the next one
 * has begun, so that the test does not straddle midnight. Returns 0. */
int e2e_same_day_setup(void **state);

/* A string unique in this run: prefix followed by a short suffix made of
 * [a-z0-9], so that it is a valid name when the prefix is one. It lasts
 * until the program ends. */
const char *e2e_uniq(const char *prefix);

/* printf into the ring of buffers. */
const char *e2e_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses the output form of a time (PROTOCOL §3: "2026-11-22T09:30:00Z",
 * UTC, whole seconds). False for any other form. */
bool e2e_time_parse(const char *s, time_t *out);

/* The time field key of the final line (or of row i with E2E_ROW_TIME),
 * checked for the output form; fails the test otherwise. */
#define E2E_TIME(r, key) e2e_time_at((r), (size_t)-1, (key), __FILE__, __LINE__)
#define E2E_ROW_TIME(r, i, key) e2e_time_at((r), (i), (key), __FILE__, __LINE__)
time_t e2e_time_at(struct tc_resp *r, size_t row, const char *key,
		   const char *file, int line);

/* The integer field key of the final line (or row i); fails the test
 * unless it is a decimal integer without sign or leading zero. */
#define E2E_NUM(r, key) e2e_num_at((r), (size_t)-1, (key), __FILE__, __LINE__)
#define E2E_ROW_NUM(r, i, key) e2e_num_at((r), (i), (key), __FILE__, __LINE__)
long long e2e_num_at(struct tc_resp *r, size_t row, const char *key,
		     const char *file, int line);

/* Row i has key=value exactly. */
#define E2E_ROW_FIELD(r, i, key, value) \
	e2e_row_field_at((r), (i), (key), (value), __FILE__, __LINE__)
void e2e_row_field_at(struct tc_resp *r, size_t i, const char *key,
		      const char *value, const char *file, int line);

/* Every listed key is present on the line (a row or a final line). Extra
 * fields are allowed by the contract ("the project may add"), so only
 * presence is checked. */
#define E2E_KEYS(line, ...) e2e_keys_at((line), __FILE__, __LINE__, __VA_ARGS__, (const char *)NULL)
void e2e_keys_at(const char *line, const char *file, int line_no, ...);

/* The answer has exactly n rows. */
#define E2E_NROWS(r, n) e2e_nrows_at((r), (n), __FILE__, __LINE__)
void e2e_nrows_at(struct tc_resp *r, size_t n, const char *file, int line);

/* CUSTOMER ADD name=NAME (a unique name when NULL) on c; returns the id. */
#define E2E_CUSTOMER(c, name) e2e_customer_at((c), (name), __FILE__, __LINE__)
long long e2e_customer_at(tc_conn *c, const char *name, const char *file,
			  int line);

/* COMPLAINT OPEN for customer with category and severity; returns the id. */
#define E2E_COMPLAINT(c, cust, cat, sev) \
	e2e_complaint_at((c), (cust), (cat), (sev), __FILE__, __LINE__)
long long e2e_complaint_at(tc_conn *c, long long customer,
			   const char *category, int severity,
			   const char *file, int line);

/* A new user made by admin1 with USER ADD name=<unique> role=ROLE EXTRA
 * password=tc_password(); EXTRA is more arguments ("" for none). Returns
 * the name. */
#define E2E_USER(role, extra) e2e_user_at((role), (extra), __FILE__, __LINE__)
const char *e2e_user_at(const char *role, const char *extra, const char *file,
			int line);

/* Sends a request and expects OK; returns the response (for fields). */
#define E2E_OK(c, ...) e2e_ok_at(__FILE__, __LINE__, (c), __VA_ARGS__)
struct tc_resp *e2e_ok_at(const char *file, int line, tc_conn *c,
			  const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* TC_EXPECT for an answer already collected. It also copes with a final
 * line without code= (tclient's messages then print code "", instead of
 * reading a NULL). */
#define E2E_RESP(r, word, code) \
	e2e_resp_at((r), (word), (code), __FILE__, __LINE__)
void e2e_resp_at(struct tc_resp *r, const char *word, const char *code,
		 const char *file, int line);

/* Sends a request and expects WORD code=CODE. */
#define E2E_EXPECT(c, word, code, ...) \
	e2e_expect_at(__FILE__, __LINE__, (c), (word), (code), __VA_ARGS__)
struct tc_resp *e2e_expect_at(const char *file, int line, tc_conn *c,
			      const char *word, const char *code,
			      const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* The value of key in the server's configuration file ($CD_CONFIG), as a
 * number; def when absent. */
long long e2e_config_int(const char *key, long long def);

/* Runs a shell command; returns its exit status (-1 when it could not
 * run or died by a signal). */
int e2e_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
