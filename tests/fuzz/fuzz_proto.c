/* fuzz_proto.c: libFuzzer harness for the line parser and the reply writer
 * of server/proto.c (see tests/fuzz/README.md).
 *
 * For every input:
 *  1. proto_parse() in PROTO_PARSE_REQUEST and PROTO_PARSE_RESPONSE mode.
 *     On success the parsed request must satisfy the documented shape (tag,
 *     words, keys, values), and re-serialising it with proto_put_start +
 *     proto_put_kv must give a line that parses back to the same tag, verb,
 *     subverb and key/values (round trip), and that serialises to the same
 *     bytes again (the writer's form is canonical). A line the request parser
 *     takes must also be taken by the response parser.
 *     On error, req->tag is "*" or a well-formed tag.
 *  2. The writer on its own: proto_put_kvn(key, input bytes) and
 *     proto_put_error(msg = input bytes) must give lines that parse back to
 *     the value with the control characters the writer documents as dropped
 *     removed, whenever that value is valid UTF-8.
 *
 * A property failure calls abort() after printing what differed, so
 * libFuzzer saves the input as a crash-* artefact. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codes.h"
#include "proto.h"
#include "values.h"

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_proto: property failed: %s\n  ", \
				#cond);                                      \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                            \
	} while (0)

static void dump(const char *what, const char *s, size_t n)
{
	fprintf(stderr, "%s (%zu bytes): \"", what, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' || c == '"')
			fprintf(stderr, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "\"\n");
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static bool tag_ok(const char *tag, int flags)
{
	if ((flags & PROTO_PARSE_RESPONSE) && strcmp(tag, "*") == 0)
		return true;
	return proto_tag_valid(tag, strlen(tag));
}

static bool word_ok(const char *w, bool upper)
{
	size_t n = strlen(w);

	if (n == 0 || n > PROTO_WORD_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = w[i];
		bool lower = c >= 'a' && c <= 'z';

		if (!(lower || (c >= 'A' && c <= 'Z') || c == '-'))
			return false;
		if (upper && lower)
			return false;
	}
	return true;
}

static bool key_ok(const char *k)
{
	size_t n = strlen(k);

	if (n == 0 || n > PROTO_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = k[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return false;
	}
	return true;
}

/* The documented shape of a successfully parsed request. */
static void check_shape(const struct proto_request *r, int flags,
			const char *line, size_t len)
{
	bool upper = !(flags & PROTO_PARSE_RESPONSE);

	if (!tag_ok(r->tag, flags))
		dump("line", line, len);
	CHECK(tag_ok(r->tag, flags), "tag \"%s\"", r->tag);
	CHECK(word_ok(r->verb, upper), "verb \"%s\"", r->verb);
	CHECK(r->subverb[0] == '\0' || word_ok(r->subverb, upper),
	      "subverb \"%s\"", r->subverb);
	CHECK(r->nargs <= PROTO_MAX_ARGS, "nargs %zu", r->nargs);
	for (size_t i = 0; i < r->nargs; i++) {
		const struct proto_arg *a = &r->args[i];

		CHECK(key_ok(a->key), "key \"%s\"", a->key);
		CHECK(strlen(a->value) == a->value_len,
		      "value_len %zu but strlen %zu", a->value_len,
		      strlen(a->value));
		CHECK(val_utf8(a->value, a->value_len),
		      "value of %s is not UTF-8", a->key);
		for (size_t k = 0; k < a->value_len; k++) {
			unsigned char c = (unsigned char)a->value[k];

			CHECK(!is_control(c) || c == '\n' || c == '\r' ||
				      c == '\t',
			      "value of %s holds control 0x%02x", a->key, c);
		}
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(a->key, r->args[j].key) != 0,
			      "duplicate key %s", a->key);
		CHECK(proto_get(r, a->key) == a->value, "proto_get(%s)",
		      a->key);
	}
}

/* tag verb [subverb] k=v ... as the writer writes it. */
static void serialise(struct sbuf *sb, const struct proto_request *r)
{
	sbuf_reset(sb);
	proto_put_start(sb, r->tag, r->verb);
	if (r->subverb[0] != '\0') {
		sbuf_add(sb, " ", 1);
		sbuf_adds(sb, r->subverb);
	}
	for (size_t i = 0; i < r->nargs; i++)
		proto_put_kv(sb, r->args[i].key, r->args[i].value);
	CHECK(!sbuf_failed(sb), "sbuf failed");
}

static void check_same(const struct proto_request *a,
		       const struct proto_request *b, const char *line,
		       size_t len, const struct sbuf *sb)
{
	bool same = strcmp(a->tag, b->tag) == 0 &&
		    strcmp(a->verb, b->verb) == 0 &&
		    strcmp(a->subverb, b->subverb) == 0 &&
		    a->nargs == b->nargs;

	for (size_t i = 0; same && i < a->nargs; i++) {
		same = strcmp(a->args[i].key, b->args[i].key) == 0 &&
		       a->args[i].value_len == b->args[i].value_len &&
		       memcmp(a->args[i].value, b->args[i].value,
			      a->args[i].value_len) == 0;
	}
	if (!same) {
		dump("input", line, len);
		dump("re-serialised", sb->data, sb->len);
	}
	CHECK(same, "round trip changed the request");
}

static void fuzz_parse(const char *line, size_t len, int flags)
{
	struct proto_request req, again;
	struct sbuf sb = {0}, sb2 = {0};
	const char *err = NULL;
	enum cd_code code;

	memset(&req, 0, sizeof req);
	memset(&again, 0, sizeof again);
	code = proto_parse(line, len, flags, &req, &err);
	if (code != CD_OK) {
		CHECK(code == CD_EMPTY || code == CD_BAD_ENCODING ||
			      code == CD_BAD_ARG || code == CD_INTERNAL,
		      "unexpected code %d", (int)code);
		CHECK(err != NULL, "no error message for code %d", (int)code);
		CHECK(strcmp(req.tag, "*") == 0 ||
			      proto_tag_valid(req.tag, strlen(req.tag)),
		      "tag after an error \"%s\"", req.tag);
		proto_request_clear(&req);
		return;
	}
	check_shape(&req, flags, line, len);

	serialise(&sb, &req);
	code = proto_parse(sb.data, sb.len, flags, &again, &err);
	if (code != CD_OK) {
		dump("input", line, len);
		dump("re-serialised", sb.data, sb.len);
	}
	CHECK(code == CD_OK, "re-serialised line refused: code %d (%s)",
	      (int)code, err ? err : "");
	check_same(&req, &again, line, len, &sb);

	/* The writer's form is a fixed point. */
	serialise(&sb2, &again);
	CHECK(sb.len == sb2.len && memcmp(sb.data, sb2.data, sb.len) == 0,
	      "second serialisation differs");

	/* A request line is also a well-formed server line. */
	if (!(flags & PROTO_PARSE_RESPONSE)) {
		struct proto_request resp;

		memset(&resp, 0, sizeof resp);
		code = proto_parse(line, len, PROTO_PARSE_RESPONSE, &resp,
				   &err);
		CHECK(code == CD_OK, "response parser refused a request: %d",
		      (int)code);
		CHECK(strcmp(resp.tag, req.tag) == 0 &&
			      strcasecmp(resp.verb, req.verb) == 0 &&
			      strcasecmp(resp.subverb, req.subverb) == 0 &&
			      resp.nargs == req.nargs,
		      "modes disagree");
		proto_request_clear(&resp);
	}

	proto_request_clear(&again);
	proto_request_clear(&req);
	/* Clearing twice is documented as safe. */
	proto_request_clear(&req);
	sbuf_free(&sb);
	sbuf_free(&sb2);
}

/* value with the characters the writer drops (controls other than
 * \n \r \t, DEL included) removed, into out; returns its length. */
static size_t writer_expect(const char *v, size_t n, char *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (is_control(c) && c != '\n' && c != '\r' && c != '\t')
			continue;
		out[k++] = (char)c;
	}
	return k;
}

static void fuzz_writer(const uint8_t *data, size_t size)
{
	struct proto_request req;
	struct sbuf sb = {0}, extra = {0};
	const char *err = NULL, *v;
	enum cd_code code, ecode;
	size_t n, elen;
	char *expect;

	if (size == 0)
		return;
	/* First byte: the error code for proto_put_error; rest: the value. */
	ecode = (enum cd_code)(data[0] % CD_CODE_COUNT);
	v = (const char *)data + 1;
	n = size - 1;
	expect = malloc(n + 1);
	if (expect == NULL)
		return;
	elen = writer_expect(v, n, expect);
	expect[elen] = '\0';

	/* proto_put_kvn with an arbitrary value. */
	proto_put_start(&sb, "t1", "OK");
	proto_put_kvn(&sb, "k", v, n);
	CHECK(!sbuf_failed(&sb), "sbuf failed");
	CHECK(strlen(sb.data) == sb.len, "writer emitted a NUL byte");
	memset(&req, 0, sizeof req);
	code = proto_parse(sb.data, sb.len, PROTO_PARSE_RESPONSE, &req, &err);
	if (val_utf8(expect, elen)) {
		bool ok = code == CD_OK && req.nargs == 1 &&
			  strcmp(req.args[0].key, "k") == 0 &&
			  req.args[0].value_len == elen &&
			  memcmp(req.args[0].value, expect, elen) == 0;

		if (!ok) {
			dump("value", v, n);
			dump("line", sb.data, sb.len);
		}
		CHECK(ok, "proto_put_kvn round trip: code %d (%s)", (int)code,
		      err ? err : "");
	} else {
		CHECK(code == CD_BAD_ENCODING,
		      "writer line with invalid UTF-8 gave %d", (int)code);
	}
	proto_request_clear(&req);

	/* proto_put_error with an arbitrary message. */
	sbuf_reset(&sb);
	/* extra, built with sbuf_printf, on every other input */
	sbuf_reset(&extra);
	if (data[0] & 0x40)
		sbuf_printf(&extra, " retry_after=%u", (unsigned)data[0]);
	CHECK(!sbuf_failed(&extra), "sbuf_printf failed");
	proto_put_error(&sb, "t1", ecode, expect, (data[0] & 0x80) != 0,
			extra.len ? extra.data : NULL);
	CHECK(!sbuf_failed(&sb), "sbuf failed");
	CHECK(sb.len > 0 && sb.data[sb.len - 1] == '\n',
	      "error line without its LF");
	CHECK(memchr(sb.data, '\n', sb.len - 1) == NULL,
	      "error line holds a raw LF before its end");
	memset(&req, 0, sizeof req);
	code = proto_parse(sb.data, sb.len - 1, PROTO_PARSE_RESPONSE, &req,
			   &err);
	if (val_utf8(expect, elen)) {
		enum cd_class cls = cd_code_class(ecode);
		const char *want_code = cd_code_name(ecode);
		const char *got_msg;

		if (cls != CD_CLASS_NO && cls != CD_CLASS_BAD &&
		    cls != CD_CLASS_ERR && cls != CD_CLASS_BYE) {
			want_code = cd_code_name(CD_INTERNAL);
			cls = CD_CLASS_ERR;
		}
		if (code != CD_OK)
			dump("line", sb.data, sb.len);
		CHECK(code == CD_OK, "error line refused: %d (%s)", (int)code,
		      err ? err : "");
		CHECK(strcmp(req.verb, cd_class_word(cls)) == 0, "word %s",
		      req.verb);
		CHECK(strcmp(req.tag, cls == CD_CLASS_BYE ? "*" : "t1") == 0,
		      "tag %s", req.tag);
		CHECK(proto_get(&req, "code") != NULL &&
			      strcmp(proto_get(&req, "code"), want_code) == 0,
		      "code");
		got_msg = proto_get(&req, "msg");
		CHECK(got_msg != NULL && strlen(got_msg) == elen &&
			      memcmp(got_msg, expect, elen) == 0,
		      "msg round trip");
		CHECK((cls == CD_CLASS_ERR) == (proto_get(&req, "retry") != NULL),
		      "retry= present iff class ERR");
		if (extra.len) {
			char want[16];

			snprintf(want, sizeof want, "%u", (unsigned)data[0]);
			CHECK(proto_get(&req, "retry_after") != NULL &&
				      strcmp(proto_get(&req, "retry_after"),
					     want) == 0,
			      "extra lost");
		}
		if (cls == CD_CLASS_ERR)
			CHECK(strcmp(proto_get(&req, "retry"),
				     (data[0] & 0x80) ? "yes" : "no") == 0,
			      "retry value");
	}
	proto_request_clear(&req);
	sbuf_free(&sb);
	sbuf_free(&extra);
	free(expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly size bytes, so ASan sees any read past
	 * the end of the line. */
	char *line = malloc(size ? size : 1);

	if (line == NULL)
		return 0;
	if (size > 0)
		memcpy(line, data, size);
	fuzz_parse(line, size, PROTO_PARSE_REQUEST);
	fuzz_parse(line, size, PROTO_PARSE_RESPONSE);
	free(line);
	fuzz_writer(data, size);
	return 0;
}
