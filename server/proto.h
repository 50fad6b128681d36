/* proto.h: the calldesk line protocol, framing only (PROTOCOL.md §2).
 *
 * Pure code shared by the server and the client: bytes in, a parsed
 * request (or an error code) out, and a reply writer that appends to a
 * growable string. No sockets, no logging, no global state.
 */
#ifndef CALLDESK_PROTO_H
#define CALLDESK_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "codes.h"

#define PROTO_TAG_MAX 32
#define PROTO_WORD_MAX 32
#define PROTO_KEY_MAX 32
#define PROTO_MAX_ARGS 32

/* One key=value pair. key and value point into the request's own storage
 * (req->store); value is NUL-terminated after unescaping. A value holding
 * an escaped "\n" contains a real LF; values never contain NUL. */
struct proto_arg {
	const char *key;
	const char *value;
	size_t value_len;
};

struct proto_request {
	char tag[PROTO_TAG_MAX + 1];     /* "*" when the tag was malformed */
	char verb[PROTO_WORD_MAX + 1];   /* upper-cased; "" if none */
	char subverb[PROTO_WORD_MAX + 1];/* upper-cased; "" if none */
	size_t nargs;
	struct proto_arg args[PROTO_MAX_ARGS];
	char *store;                     /* owned: decoded keys and values */
};

/* Flags for proto_parse(). */
enum {
	PROTO_PARSE_REQUEST = 0,
	/* Parsing a server line: tag may be "*", the word is kept as given
	 * (OK, ROW, NO, BAD, ERR, EVENT, BYE, HELLO) in ->verb, and a bare
	 * token after it is kept as ->subverb only for "EVENT"/"HELLO"-less
	 * forms; in practice every later token is key=value. */
	PROTO_PARSE_RESPONSE = 1,
};

/* Parse one line (without its LF; a trailing CR is ignored) of len bytes.
 * The input is not modified and may contain NUL bytes (they are an
 * encoding error).
 *
 * Returns CD_OK and fills *req, or an error code:
 *   CD_EMPTY        the line is empty or only spaces (ignore it)
 *   CD_BAD_ENCODING raw control character, tab, NUL or invalid UTF-8
 *   CD_BAD_ARG      malformed tag, verb, key, value, escape, duplicate key,
 *                   more than PROTO_MAX_ARGS pairs, two bare words
 *   CD_INTERNAL     no memory for req->store
 * On error *error_r (if not NULL) is set to a static English message, and
 * req->tag holds the tag if it was well-formed, otherwise "*".
 * In every case the caller must call proto_request_clear(req) afterwards
 * (it is safe on a zeroed or already-cleared request). */
enum cd_code proto_parse(const char *line, size_t len, int flags,
			 struct proto_request *req, const char **error_r)
	__attribute__((warn_unused_result));

/* Frees req->store and zeroes the request. Accepts NULL. */
void proto_request_clear(struct proto_request *req);

/* The value of key, or NULL when absent. */
const char *proto_get(const struct proto_request *req, const char *key);

/* True when the tag is 1..32 chars of A-Z a-z 0-9 . _ - */
bool proto_tag_valid(const char *tag, size_t len);

/* ---- reply writer ---------------------------------------------------- */

/* A growable NUL-terminated string. Zero-initialise, then append; the
 * owner calls sbuf_free(). On allocation failure the buffer is marked
 * failed and further appends are ignored (checked with sbuf_failed). */
struct sbuf {
	char *data;
	size_t len;
	size_t cap;
	bool failed;
};

void sbuf_add(struct sbuf *sb, const char *s, size_t n);
void sbuf_adds(struct sbuf *sb, const char *s);
void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sbuf_reset(struct sbuf *sb);            /* len = 0, keeps memory */
void sbuf_free(struct sbuf *sb);
static inline bool sbuf_failed(const struct sbuf *sb) { return sb->failed; }

/* Appends " key=value", quoting the value when it is empty or holds a
 * space, a '"', or a control character; in quotes \\ \" \n \r \t are
 * escaped and other control characters are dropped. */
void proto_put_kv(struct sbuf *sb, const char *key, const char *value);

/* Same with an explicit length (value need not be NUL-terminated). */
void proto_put_kvn(struct sbuf *sb, const char *key, const char *value,
		   size_t len);

/* Appends "TAG WORD" (no leading space, no LF). */
void proto_put_start(struct sbuf *sb, const char *tag, const char *word);

/* Appends a complete error line with its LF:
 *   TAG NO code=C msg="..."            (class NO)
 *   TAG BAD code=C msg="..."           (class BAD)
 *   TAG ERR code=C msg="..." retry=R   (class ERR; retry yes/no)
 *   * BYE code=C msg="..."             (class BYE; tag ignored)
 * extra, if not NULL, is appended verbatim before the LF (it must start
 * with a space, e.g. " retry_after=60"). */
void proto_put_error(struct sbuf *sb, const char *tag, enum cd_code code,
		     const char *msg, bool retry, const char *extra);

#endif
