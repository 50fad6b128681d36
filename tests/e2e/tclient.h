/* tclient.h: a small blocking TLS client of the calldesk protocol, for the
 * end-to-end tests (cmocka).
 *
 * It speaks PROTOCOL.md §1-2 from the client side with its own parser (so
 * the tests do not trust the server's code to check the server): connect
 * and verify the server against $CD_CA, read the greeting, send requests or
 * raw bytes, collect an answer (rows, final line, events on the side),
 * read fields with the quoting rules of §2.
 *
 * Ownership: connections and responses are registered in one list each;
 * tc_teardown() (use it as the cmocka teardown of every test) closes and
 * frees whatever a test left, also when an assertion jumped out of it.
 * Freeing them earlier with tc_close() / tc_resp_free() is fine.
 *
 * Functions written as macros (tc_connect, tc_session, tc_env, TC_*) fail
 * the running test with the caller's file and line; the others report by
 * their return value.
 */
#ifndef CALLDESK_TCLIENT_H
#define CALLDESK_TCLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* ---- environment (set by tests/e2e/run.sh) --------------------------- */

/* The value of an environment variable; fails the test when unset. */
#define tc_env(name) tc_env_at((name), __FILE__, __LINE__)
const char *tc_env_at(const char *name, const char *file, int line);

/* Default time allowed for an answer, in ms: $CD_TIMEOUT_MS or
 * TC_DEFAULT_TIMEOUT_MS. It only bounds how long a test waits for an
 * answer that should come (an answer that comes sooner ends the wait), so
 * it is generous: a sanitizer build on a busy machine may take seconds
 * where a desk takes milliseconds. Tests that check that nothing comes
 * use short waits of their own. */
#define TC_DEFAULT_TIMEOUT_MS 15000
int tc_timeout_ms(void);

/* Password of every test user ($CD_PASSWORD). */
const char *tc_password(void);

/* ---- connections ----------------------------------------------------- */

struct tc_opts {
	const char *host;    /* NULL: $CD_HOST */
	const char *port;    /* NULL: $CD_PORT */
	const char *ca;      /* CA to verify the server with; NULL: $CD_CA */
	const char *cert;    /* client certificate (PEM); NULL: none */
	const char *key;     /* its key (PEM) */
	const char *source;  /* local address to bind, e.g. "127.0.0.2", so
				that failed-login counts (per address) of one
				test do not lock out the others; NULL: any */
	int min_version;     /* e.g. TLS1_3_VERSION; 0: library default */
	int max_version;     /* e.g. TLS1_2_VERSION; 0: library default */
	bool no_greeting;    /* return right after the handshake */
	int timeout_ms;      /* connect, handshake, greeting; 0: default */
};

typedef struct tc_conn tc_conn;

/* Connects (opts may be NULL), verifies the server's certificate and name,
 * reads the greeting ("* HELLO ..."). NULL on failure, with the reason in
 * err (handshake refusals included: tests of refused clients use this). */
tc_conn *tc_open(const struct tc_opts *opts, char *err, size_t errlen);

/* The same, failing the test on error. */
#define tc_connect() tc_connect_at(NULL, __FILE__, __LINE__)
#define tc_connect_opts(opts) tc_connect_at((opts), __FILE__, __LINE__)
tc_conn *tc_connect_at(const struct tc_opts *opts, const char *file, int line);

/* Connects and logs in as user with tc_password(); fails the test unless
 * the answer is OK. */
#define tc_session(user) tc_session_at((user), __FILE__, __LINE__)
tc_conn *tc_session_at(const char *user, const char *file, int line);

/* Closes (sending close_notify) and frees; sets *c to NULL. Accepts NULL. */
void tc_close(tc_conn **c);

/* Closes every connection and frees every response still registered.
 * Signature of a cmocka setup/teardown; always returns 0. */
int tc_teardown(void **state);

/* The greeting line as received (without LF). */
const char *tc_greeting(const tc_conn *c);

/* "conn#3 agent1" style label for messages (the user once logged in). */
const char *tc_label(const tc_conn *c);

/* The last OpenSSL or system error on this connection, for messages. */
const char *tc_error(const tc_conn *c);

/* ---- raw I/O ----------------------------------------------------------- */

/* Sends len bytes as they are (any bytes: bad-input tests). False when the
 * connection failed or the bytes could not go out within the timeout. */
bool tc_send_raw(tc_conn *c, const void *buf, size_t len);

/* The time a send on c may take (0: tc_timeout_ms()), for tests that
 * send until the server stops reading. */
void tc_set_send_timeout(tc_conn *c, int timeout_ms);

/* Formats one line and sends it with an LF appended. */
bool tc_sendf(tc_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

enum tc_status {
	TC_LINE,     /* a line was read */
	TC_TIMEOUT,  /* nothing complete within the time */
	TC_EOF,      /* the server closed the connection */
	TC_ERROR,    /* TLS or socket error: see tc_error() */
};

/* Reads one line; the LF, and a CR before it, are removed. On TC_LINE
 * *line is a malloc'd string the caller frees; otherwise *line is NULL. */
enum tc_status tc_read_line(tc_conn *c, int timeout_ms, char **line);

/* Reads and drops lines until the server closes. True when it closed (or
 * reset) within the time. */
bool tc_wait_eof(tc_conn *c, int timeout_ms);

/* ---- requests and answers ------------------------------------------------ */

struct tc_resp {
	char *request;       /* the line sent, as text (for messages) */
	char *tag;           /* the tag answers must carry ("*" if malformed) */
	char *final;         /* final line: tag OK|NO|BAD|ERR; NULL if none */
	char word[8];        /* "OK" "NO" "BAD" "ERR"; "BYE" when a BYE came
				instead; "" when nothing came */
	const char *code;    /* code= of final (or BYE) line; "" when none */
	char **rows;         /* other lines with the tag (ROW ...), in order */
	size_t nrows;
	char *bye;           /* the "* BYE ..." line, if one came */
	char **other;        /* lines with another tag (pipelined answers) */
	size_t nother;
	enum tc_status end;  /* TC_LINE when final or BYE came */
	int elapsed_ms;
	/* private */
	char *conn;          /* label of the connection, for messages */
	size_t caprows, capother;
	char **strings;      /* values handed out by tc_get and friends */
	size_t nstrings, capstrings;
	struct tc_resp *prev, *next;
};

/* Sends line (which starts with its tag) and collects the answer: every
 * line up to the final line with the same tag, or a BYE. "* EVENT" lines
 * met meanwhile go to the connection's event queue (tc_event). Never
 * NULL; check with TC_EXPECT or the fields above. */
struct tc_resp *tc_req(tc_conn *c, const char *line);

/* Same, printf style (tag included). */
struct tc_resp *tc_reqf(tc_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Same without a tag: one is added ("a1", "a2", ... per connection). */
struct tc_resp *tc_cmd(tc_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Collects the answer to a request already sent (pipelining tests). */
struct tc_resp *tc_collect(tc_conn *c, const char *tag, int timeout_ms);

/* LOGIN user= password= (quoted as needed). Keeps the user for labels. */
struct tc_resp *tc_login(tc_conn *c, const char *user, const char *pass);

/* Frees and sets *r to NULL; accepts NULL. */
void tc_resp_free(struct tc_resp **r);

/* ---- fields ------------------------------------------------------------ */

/* The decoded value of key in the final line; NULL when absent (and when
 * there is no final line). Valid until the response is freed. */
const char *tc_get(struct tc_resp *r, const char *key);

/* The same for row i. */
const char *tc_row_get(struct tc_resp *r, size_t i, const char *key);

/* The decoded value of key in any response line, malloc'd (caller frees);
 * NULL when absent or when the line is malformed. */
char *tc_field(const char *line, const char *key);

/* Checks a server line against the syntax of PROTOCOL.md §2:
 * TAG WORD [key=value ...], keys unique, values bare or quoted with the
 * five escapes, UTF-8, no raw control character. On false, *why (if not
 * NULL) says what is wrong. */
bool tc_line_valid(const char *line, const char **why);

/* A value written for a request: as is when it can go bare, otherwise
 * quoted and escaped. The result lives in a ring of 16 buffers: use it
 * in the next request. */
const char *tc_q(const char *value);

/* ---- events ---------------------------------------------------------- */

/* The oldest queued "* EVENT" line whose type= is type (NULL: any), waiting
 * up to timeout_ms for it; malloc'd (caller frees), NULL when none came.
 * Tagged lines read meanwhile are kept and appear in the next answer. */
char *tc_event(tc_conn *c, const char *type, int timeout_ms);

/* Number of events queued, and dropping them. */
size_t tc_events_queued(const tc_conn *c);
void tc_events_clear(tc_conn *c);

/* ---- assertions (fail the running test with a full report) ------------- */

/* word is "OK", "NO", "BAD", "ERR" or "BYE"; code NULL means any. Also
 * checks that every line of the answer is well-formed. */
#define TC_EXPECT(r, word, code) \
	tc_expect_at((r), (word), (code), __FILE__, __LINE__)
#define TC_OK(r) tc_expect_at((r), "OK", NULL, __FILE__, __LINE__)
void tc_expect_at(struct tc_resp *r, const char *word, const char *code,
		  const char *file, int line);

/* The final line has key=value exactly. */
#define TC_FIELD(r, key, value) \
	tc_expect_field_at((r), (key), (value), __FILE__, __LINE__)
void tc_expect_field_at(struct tc_resp *r, const char *key,
			const char *value, const char *file, int line);

/* The final line has key (any value, "" included); returns the value. */
#define TC_HAS(r, key) tc_expect_has_at((r), (key), __FILE__, __LINE__)
const char *tc_expect_has_at(struct tc_resp *r, const char *key,
			     const char *file, int line);

/* Reads until "* BYE code=CODE" (events are queued, any other line fails)
 * and then the close, within timeout_ms (0: default). */
#define TC_EXPECT_BYE(c, code, timeout_ms) \
	tc_expect_bye_at((c), (code), (timeout_ms), __FILE__, __LINE__)
void tc_expect_bye_at(tc_conn *c, const char *code, int timeout_ms,
		      const char *file, int line);

#endif
