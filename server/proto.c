/* proto.c: the framing of the calldesk line protocol (PROTOCOL.md §2):
 * the line parser, the reply writer and the growable string they write
 * into. Pure code shared by the server and the client: no sockets, no
 * logging, no global state, and the parser never writes into its input. */
#include "proto.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "values.h"

/* The unparsed rest of a line. */
struct cursor {
	const char *p;
	const char *end;
};

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_';
}

/* A raw control character on the wire: C0 (tab and NUL included) and
 * DEL. Inside a quoted value they are written as escapes or dropped. */
static bool is_control(char c)
{
	return (unsigned char)c < 0x20 || (unsigned char)c == 0x7f;
}

static void skip_spaces(struct cursor *c)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
}

/* Length of the token at the cursor: up to the next space or the end. */
static size_t token_len(const struct cursor *c)
{
	const char *q = c->p;

	while (q < c->end && *q != ' ')
		q++;
	return (size_t)(q - c->p);
}

static enum cd_code fail(const char **error_r, enum cd_code code,
			 const char *msg)
{
	if (error_r != NULL)
		*error_r = msg;
	return code;
}

bool proto_tag_valid(const char *tag, size_t len)
{
	if (tag == NULL || len == 0 || len > PROTO_TAG_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = tag[i];

		if (!is_letter(c) && !is_digit(c) && c != '.' && c != '_' &&
		    c != '-')
			return false;
	}
	return true;
}

/* Checked over the whole line before any syntax, so that a line with
 * both kinds of fault is always answered bad-encoding. */
static const char *encoding_error(const char *line, size_t len)
{
	if (memchr(line, '\0', len) != NULL)
		return "NUL byte in the line";
	for (size_t i = 0; i < len; i++) {
		if (is_control(line[i]))
			return "raw control character (tab included)";
	}
	if (!val_utf8(line, len))
		return "invalid UTF-8";
	return NULL;
}

/* Takes the tag token into req->tag; false (tag left "*") when it is
 * malformed. A server line may also carry the tag "*". */
static bool take_tag(struct cursor *c, int flags, struct proto_request *req)
{
	size_t n = token_len(c);
	bool ok = proto_tag_valid(c->p, n) ||
		  ((flags & PROTO_PARSE_RESPONSE) && n == 1 && *c->p == '*');

	if (ok) {
		memcpy(req->tag, c->p, n);
		req->tag[n] = '\0';
	}
	c->p += n;
	return ok;
}

/* Verb or subverb: letters and '-'. */
static bool word_valid(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_letter(s[i]) && s[i] != '-')
			return false;
	}
	return true;
}

/* A word longer than PROTO_WORD_MAX is kept cut to that length: no verb
 * or subverb is that long, so it stays unknown (BAD unknown-verb, as the
 * protocol wants for any unknown word of letters). */
static void copy_word(char *dst, const char *s, size_t n, bool upper)
{
	if (n > PROTO_WORD_MAX)
		n = PROTO_WORD_MAX;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		dst[i] = upper && ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A')
							 : ch;
	}
	dst[n] = '\0';
}

/* The verb and the optional subverb. A request's words are upper-cased
 * (verbs are case-insensitive); a server line's word is kept as sent. */
static enum cd_code parse_words(struct cursor *c, int flags,
				struct proto_request *req,
				const char **error_r)
{
	bool upper = !(flags & PROTO_PARSE_RESPONSE);
	size_t n;

	skip_spaces(c);
	n = token_len(c);
	if (n == 0)
		return fail(error_r, CD_BAD_ARG, "missing verb");
	if (!word_valid(c->p, n))
		return fail(error_r, CD_BAD_ARG,
			    "malformed verb (letters and '-' only)");
	copy_word(req->verb, c->p, n, upper);
	c->p += n;

	/* A token without '=' right after the verb is the subverb; one
	 * anywhere later is refused by parse_args. */
	skip_spaces(c);
	n = token_len(c);
	if (n == 0 || memchr(c->p, '=', n) != NULL)
		return CD_OK;
	if (!word_valid(c->p, n))
		return fail(error_r, CD_BAD_ARG,
			    "malformed subverb (letters and '-' only)");
	copy_word(req->subverb, c->p, n, upper);
	c->p += n;
	return CD_OK;
}

/* Decodes a quoted value (the cursor on its opening '"') into *w. */
static enum cd_code parse_quoted(struct cursor *c, char **w,
				 const char **error_r)
{
	char *out = *w;

	c->p++;
	for (;;) {
		char ch;

		if (c->p == c->end)
			return fail(error_r, CD_BAD_ARG, "unterminated quote");
		ch = *c->p++;
		if (ch == '"')
			break;
		if (ch == '\\') {
			if (c->p == c->end)
				return fail(error_r, CD_BAD_ARG,
					    "unterminated quote");
			switch (*c->p++) {
			case '\\': ch = '\\'; break;
			case '"':  ch = '"';  break;
			case 'n':  ch = '\n'; break;
			case 'r':  ch = '\r'; break;
			case 't':  ch = '\t'; break;
			default:
				return fail(error_r, CD_BAD_ARG,
					    "unknown escape in a quoted value");
			}
		}
		*out++ = ch;
	}
	/* `k="a"b` is neither one value nor two tokens. */
	if (c->p < c->end && *c->p != ' ')
		return fail(error_r, CD_BAD_ARG, "text after a closing quote");
	*w = out;
	return CD_OK;
}

/* Copies a bare value (1+ bytes up to a space, no '"') into *w. '=' and
 * '\' are ordinary characters in it. */
static enum cd_code parse_bare(struct cursor *c, char **w,
			       const char **error_r)
{
	size_t n = token_len(c);

	if (n == 0)
		return fail(error_r, CD_BAD_ARG,
			    "empty value (write \"\" for an empty one)");
	if (memchr(c->p, '"', n) != NULL)
		return fail(error_r, CD_BAD_ARG, "'\"' in a bare value");
	memcpy(*w, c->p, n);
	*w += n;
	c->p += n;
	return CD_OK;
}

/* Parses one key=value at the cursor, writing "key\0value\0" at *w. */
static enum cd_code parse_pair(struct cursor *c, struct proto_request *req,
			       char **w, const char **error_r)
{
	struct proto_arg *arg = &req->args[req->nargs];
	const char *key = c->p;
	enum cd_code code;
	size_t n = 0;

	while (key + n < c->end && is_key_char(key[n]))
		n++;
	if (key + n == c->end || key[n] != '=') {
		/* Stopped on a space or the end: a bare word, not a key. */
		if (key + n == c->end || key[n] == ' ')
			return fail(error_r, CD_BAD_ARG,
				    "unexpected word where key=value was expected");
		return fail(error_r, CD_BAD_ARG,
			    "malformed key (a-z 0-9 _ only)");
	}
	if (n == 0 || n > PROTO_KEY_MAX)
		return fail(error_r, CD_BAD_ARG, "key empty or too long");
	if (req->nargs == PROTO_MAX_ARGS)
		return fail(error_r, CD_BAD_ARG, "too many arguments");

	arg->key = *w;
	memcpy(*w, key, n);
	*w += n;
	*(*w)++ = '\0';
	if (proto_get(req, arg->key) != NULL)
		return fail(error_r, CD_BAD_ARG, "duplicate key");
	c->p = key + n + 1;

	arg->value = *w;
	if (c->p < c->end && *c->p == '"')
		code = parse_quoted(c, w, error_r);
	else
		code = parse_bare(c, w, error_r);
	if (code != CD_OK)
		return code;
	arg->value_len = (size_t)(*w - arg->value);
	*(*w)++ = '\0';
	req->nargs++;
	return CD_OK;
}

static enum cd_code parse_args(struct cursor *c, size_t len,
			       struct proto_request *req,
			       const char **error_r)
{
	char *w;

	skip_spaces(c);
	if (c->p == c->end)
		return CD_OK;
	/* Each pair needs its text plus one byte (two NULs replace the
	 * '='), and every pair follows at least one space: len + 1 bytes
	 * hold them all. */
	req->store = malloc(len + 1);
	if (req->store == NULL)
		return fail(error_r, CD_INTERNAL, "out of memory");
	w = req->store;
	while (c->p < c->end) {
		enum cd_code code = parse_pair(c, req, &w, error_r);

		if (code != CD_OK)
			return code;
		skip_spaces(c);
	}
	return CD_OK;
}

enum cd_code proto_parse(const char *line, size_t len, int flags,
			 struct proto_request *req, const char **error_r)
{
	struct cursor c;
	const char *bad;
	bool tag_ok;
	enum cd_code code;

	/* The caller clears after every parse, so nothing is leaked here. */
	memset(req, 0, sizeof(*req));
	req->tag[0] = '*';
	if (len > 0 && line[len - 1] == '\r')
		len--;
	c.p = line;
	c.end = line + len;

	skip_spaces(&c);
	if (c.p == c.end)
		return fail(error_r, CD_EMPTY, "empty line");
	/* The tag first: even a badly encoded line is answered under its
	 * tag when the tag itself is fine. */
	tag_ok = take_tag(&c, flags, req);
	bad = encoding_error(line, len);
	if (bad != NULL)
		return fail(error_r, CD_BAD_ENCODING, bad);
	if (!tag_ok)
		return fail(error_r, CD_BAD_ARG,
			    "malformed tag (1 to 32 of A-Z a-z 0-9 . _ -)");

	code = parse_words(&c, flags, req, error_r);
	if (code == CD_OK)
		code = parse_args(&c, len, req, error_r);
	return code;
}

void proto_request_clear(struct proto_request *req)
{
	if (req == NULL)
		return;
	free(req->store);
	memset(req, 0, sizeof(*req));
}

const char *proto_get(const struct proto_request *req, const char *key)
{
	for (size_t i = 0; i < req->nargs; i++) {
		if (strcmp(req->args[i].key, key) == 0)
			return req->args[i].value;
	}
	return NULL;
}

/* ---- sbuf ------------------------------------------------------------ */

/* Room for extra more bytes and the NUL; false (and failed) when it
 * cannot be had. */
static bool sbuf_reserve(struct sbuf *sb, size_t extra)
{
	size_t need, cap;
	char *data;

	if (sb->failed)
		return false;
	if (extra > SIZE_MAX - sb->len - 1)
		goto fail;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 128;
	while (cap < need) {
		if (cap > SIZE_MAX / 2) {
			cap = need;
			break;
		}
		cap *= 2;
	}
	data = realloc(sb->data, cap);
	if (data == NULL)
		goto fail;
	sb->data = data;
	sb->cap = cap;
	return true;
fail:
	sb->failed = true;
	return false;
}

void sbuf_add(struct sbuf *sb, const char *s, size_t n)
{
	if (!sbuf_reserve(sb, n))
		return;
	if (n > 0)
		memcpy(sb->data + sb->len, s, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void sbuf_adds(struct sbuf *sb, const char *s)
{
	sbuf_add(sb, s, strlen(s));
}

void sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->failed = true;
		return;
	}
	if (!sbuf_reserve(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sbuf_reset(struct sbuf *sb)
{
	/* A reset starts a new line, so an old failure no longer applies. */
	sb->len = 0;
	sb->failed = false;
	if (sb->data != NULL)
		sb->data[0] = '\0';
}

void sbuf_free(struct sbuf *sb)
{
	if (sb == NULL)
		return;
	free(sb->data);
	memset(sb, 0, sizeof(*sb));
}

/* ---- reply writer ------------------------------------------------------ */

static bool needs_quotes(const char *v, size_t len)
{
	if (len == 0)
		return true;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == ' ' || v[i] == '"' || is_control(v[i]))
			return true;
	}
	return false;
}

/* The escape for c inside quotes, NULL when c is written as it is; ""
 * drops a control character that has no escape. */
static const char *quoted_escape(char c)
{
	switch (c) {
	case '\\': return "\\\\";
	case '"':  return "\\\"";
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	default:   return is_control(c) ? "" : NULL;
	}
}

static void put_quoted(struct sbuf *sb, const char *v, size_t len)
{
	size_t run = 0;

	sbuf_add(sb, "\"", 1);
	/* Plain characters are copied in runs, not one by one. */
	for (size_t i = 0; i < len; i++) {
		const char *esc = quoted_escape(v[i]);

		if (esc == NULL)
			continue;
		sbuf_add(sb, v + run, i - run);
		sbuf_adds(sb, esc);
		run = i + 1;
	}
	sbuf_add(sb, v + run, len - run);
	sbuf_add(sb, "\"", 1);
}

void proto_put_kvn(struct sbuf *sb, const char *key, const char *value,
		   size_t len)
{
	sbuf_add(sb, " ", 1);
	sbuf_adds(sb, key);
	sbuf_add(sb, "=", 1);
	if (needs_quotes(value, len))
		put_quoted(sb, value, len);
	else
		sbuf_add(sb, value, len);
}

void proto_put_kv(struct sbuf *sb, const char *key, const char *value)
{
	if (value == NULL)
		value = "";
	proto_put_kvn(sb, key, value, strlen(value));
}

void proto_put_start(struct sbuf *sb, const char *tag, const char *word)
{
	sbuf_adds(sb, tag);
	sbuf_add(sb, " ", 1);
	sbuf_adds(sb, word);
}

void proto_put_error(struct sbuf *sb, const char *tag, enum cd_code code,
		     const char *msg, bool retry, const char *extra)
{
	enum cd_class cls = cd_code_class(code);

	/* CD_OK, CD_EMPTY or an unknown code here is a bug in the caller;
	 * the client still gets a well-formed error line. */
	if (cls != CD_CLASS_NO && cls != CD_CLASS_BAD && cls != CD_CLASS_ERR &&
	    cls != CD_CLASS_BYE) {
		code = CD_INTERNAL;
		cls = CD_CLASS_ERR;
	}
	if (cls == CD_CLASS_BYE || tag == NULL)
		tag = "*";
	if (msg == NULL)
		msg = "";
	proto_put_start(sb, tag, cd_class_word(cls));
	proto_put_kv(sb, "code", cd_code_name(code));
	/* msg is always quoted, even a single word, for people reading. */
	sbuf_adds(sb, " msg=");
	put_quoted(sb, msg, strlen(msg));
	if (cls == CD_CLASS_ERR)
		proto_put_kv(sb, "retry", retry ? "yes" : "no");
	if (extra != NULL)
		sbuf_adds(sb, extra);
	sbuf_add(sb, "\n", 1);
}
