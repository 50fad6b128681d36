/* test_proto.c: unit tests of proto.c (framing, PROTOCOL.md §2) and of the
 * code table in codes.c. Table-driven: each table row is one case, every
 * row is run, and each mismatch is printed with what was expected and
 * what came before the test fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "proto.h"

/* A string literal and its length, NUL bytes inside included. */
#define L(s) s, sizeof(s) - 1
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_KV 6

/* Prints a visible version of n bytes (control bytes as \xNN). */
static const char *show(const char *s, size_t n, char *buf, size_t size)
{
	size_t o = 0;

	if (s == NULL)
		return "(null)";
	for (size_t i = 0; i < n && o + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

/* ---- proto_parse ------------------------------------------------------ */

struct parse_case {
	const char *what;
	const char *line;
	size_t len;
	int flags;
	enum cd_code code;
	const char *tag;        /* expected req->tag */
	const char *verb;       /* NULL: not checked (error cases) */
	const char *subverb;
	const char *kv[MAX_KV * 2 + 1]; /* expected pairs, NULL-terminated */
};

#define REQ PROTO_PARSE_REQUEST
#define RSP PROTO_PARSE_RESPONSE
#define T33 "abcdefghijklmnopqrstuvwxyz0123456"
#define T32 "abcdefghijklmnopqrstuvwxyz012345"
#define W32 "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF"
#define W33 W32 "G"
#define K32 "abcdefghijklmnopqrstuvwxyz_01234"
#define K33 K32 "5"

static const struct parse_case parse_cases[] = {
	/* tags */
	{ "simple request", L("t1 PING"), REQ, CD_OK, "t1", "PING", "", {NULL} },
	{ "every tag character", L("aZ09._- PING"), REQ, CD_OK, "aZ09._-", "PING", "", {NULL} },
	{ "32-char tag", L(T32 " PING"), REQ, CD_OK, T32, "PING", "", {NULL} },
	{ "33-char tag", L(T33 " PING"), REQ, CD_BAD_ARG, "*", NULL, NULL, {NULL} },
	{ "tag with '/'", L("t/1 PING"), REQ, CD_BAD_ARG, "*", NULL, NULL, {NULL} },
	{ "tag with ':'", L("t:1 PING"), REQ, CD_BAD_ARG, "*", NULL, NULL, {NULL} },
	{ "tag with UTF-8", L("t\xc3\xa9 PING"), REQ, CD_BAD_ARG, "*", NULL, NULL, {NULL} },
	{ "'*' is not a request tag", L("* PING"), REQ, CD_BAD_ARG, "*", NULL, NULL, {NULL} },
	{ "only a tag", L("t1"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "only a tag and spaces", L("t1    "), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "leading spaces", L("   t1 PING"), REQ, CD_OK, "t1", "PING", "", {NULL} },

	/* verbs and subverbs */
	{ "verb upper-cased", L("t1 ping"), REQ, CD_OK, "t1", "PING", "", {NULL} },
	{ "mixed case verb and subverb", L("t1 Complaint gEt id=5"), REQ, CD_OK, "t1", "COMPLAINT", "GET", {"id", "5", NULL} },
	{ "verb with '-'", L("t1 x-y"), REQ, CD_OK, "t1", "X-Y", "", {NULL} },
	{ "subverb with '-'", L("t1 user set-all"), REQ, CD_OK, "t1", "USER", "SET-ALL", {NULL} },
	{ "numeric verb", L("t1 123"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "verb with a digit", L("t1 P1NG"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "verb with '_'", L("t1 PI_NG"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "key=value in place of the verb", L("t1 id=5"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "32-letter verb", L("t1 " W32), REQ, CD_OK, "t1", W32, "", {NULL} },
	{ "33-letter verb: cut, so unknown", L("t1 " W33), REQ, CD_OK, "t1", W32, "", {NULL} },
	{ "32-letter subverb", L("t1 X " W32), REQ, CD_OK, "t1", "X", W32, {NULL} },
	{ "33-letter subverb: cut, so unknown", L("t1 X " W33), REQ, CD_OK, "t1", "X", W32, {NULL} },
	{ "long verb, then a framing error", L("t1 " W33 W33 " a-b=1"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "subverb with a digit", L("t1 COMPLAINT g3t"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "two bare words after the verb", L("t1 COMPLAINT GET EXTRA"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "bare word after the pairs", L("t1 COMPLAINT GET id=1 extra"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "subverb after a pair", L("t1 COMPLAINT id=1 GET"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "quoted word as subverb", L("t1 X \"a b\""), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },

	/* spaces */
	{ "several spaces everywhere", L("t1   complaint    get   id=5    x=\"a  b\"   "), REQ, CD_OK, "t1", "COMPLAINT", "GET", {"id", "5", "x", "a  b", NULL} },
	{ "empty line", L(""), REQ, CD_EMPTY, "*", NULL, NULL, {NULL} },
	{ "spaces only", L("     "), REQ, CD_EMPTY, "*", NULL, NULL, {NULL} },
	{ "CR only", L("\r"), REQ, CD_EMPTY, "*", NULL, NULL, {NULL} },
	{ "spaces and CR", L("  \r"), REQ, CD_EMPTY, "*", NULL, NULL, {NULL} },

	/* keys */
	{ "key with digits and '_'", L("t1 X a_1=v"), REQ, CD_OK, "t1", "X", "", {"a_1", "v", NULL} },
	{ "32-char key", L("t1 X " K32 "=v"), REQ, CD_OK, "t1", "X", "", {K32, "v", NULL} },
	{ "33-char key", L("t1 X " K33 "=v"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "upper-case key", L("t1 X Id=5"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "key with '-'", L("t1 X a-b=5"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "key with '.'", L("t1 X a.b=5"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "empty key", L("t1 X =5"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "quoted key", L("t1 X \"a\"=5"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "first '=' ends the key", L("t1 X a=b=c"), REQ, CD_OK, "t1", "X", "", {"a", "b=c", NULL} },
	{ "value is only '='", L("t1 X a=="), REQ, CD_OK, "t1", "X", "", {"a", "=", NULL} },
	{ "duplicate key", L("t1 X a=1 a=2"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "duplicate key, same value", L("t1 X a=1 b=2 a=1"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "duplicate key, once quoted", L("t1 X a=\"1\" a=1"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "keys differing by a prefix", L("t1 X a=1 ab=2"), REQ, CD_OK, "t1", "X", "", {"a", "1", "ab", "2", NULL} },

	/* bare values */
	{ "bare backslash is literal", L("t1 X p=a\\b"), REQ, CD_OK, "t1", "X", "", {"p", "a\\b", NULL} },
	{ "bare \\n stays two chars", L("t1 X p=a\\n"), REQ, CD_OK, "t1", "X", "", {"p", "a\\n", NULL} },
	{ "bare UTF-8", L("t1 X n=caf\xc3\xa9"), REQ, CD_OK, "t1", "X", "", {"n", "caf\xc3\xa9", NULL} },
	{ "bare DEL-free punctuation", L("t1 X v=!#$%&'()*+,-./:;<>?@[]^_`{|}~"), REQ, CD_OK, "t1", "X", "", {"v", "!#$%&'()*+,-./:;<>?@[]^_`{|}~", NULL} },
	{ "empty bare value at the end", L("t1 X a="), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "empty bare value then a pair", L("t1 X a= b=1"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "quote inside a bare value", L("t1 X a=b\"c"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "quote ending a bare value", L("t1 X a=bc\""), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },

	/* quoted values */
	{ "quoted with a space", L("t1 X a=\"hello world\" b=2"), REQ, CD_OK, "t1", "X", "", {"a", "hello world", "b", "2", NULL} },
	{ "empty quoted", L("t1 X a=\"\""), REQ, CD_OK, "t1", "X", "", {"a", "", NULL} },
	{ "every escape", L("t1 X a=\"1\\\\2\\\"3\\n4\\r5\\t6\""), REQ, CD_OK, "t1", "X", "", {"a", "1\\2\"3\n4\r5\t6", NULL} },
	{ "quoted '=' and key-like text", L("t1 X a=\"b=c d=e\""), REQ, CD_OK, "t1", "X", "", {"a", "b=c d=e", NULL} },
	{ "quoted UTF-8", L("t1 X a=\"\xe2\x82\xac 5\""), REQ, CD_OK, "t1", "X", "", {"a", "\xe2\x82\xac 5", NULL} },
	{ "only an escaped quote", L("t1 X a=\"\\\"\""), REQ, CD_OK, "t1", "X", "", {"a", "\"", NULL} },
	{ "unknown escape \\x", L("t1 X a=\"\\x41\""), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "unknown escape \\u", L("t1 X a=\"\\u0041\""), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "unknown escape \\0", L("t1 X a=\"\\0\""), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "escaped space", L("t1 X a=\"\\ \""), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "unterminated quote", L("t1 X a=\"abc"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "unterminated after an escaped quote", L("t1 X a=\"abc\\\""), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "backslash at the end", L("t1 X a=\"abc\\"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "lone quote", L("t1 X a=\""), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "text after the closing quote", L("t1 X a=\"b\"c"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "a pair glued to a closing quote", L("t1 X a=\"b\"c=d"), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
	{ "two quoted strings glued", L("t1 X a=\"b\"\"c\""), REQ, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },

	/* encoding */
	{ "tab between tokens", L("t1 X\ta=1"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "raw tab inside quotes", L("t1 X a=\"b\tc\""), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "raw LF inside quotes", L("t1 X a=\"b\nc\""), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "control 0x01", L("t1 X a=b\x01"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "control 0x1f", L("t1 X a=\x1f"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "ESC", L("t1 X a=\x1b[0m"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "DEL", L("t1 X a=b\x7f"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "NUL in a value", L("t1 X a=b\0c"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "NUL at the end", L("t1 PING\0"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "NUL in the tag", L("t\0 PING"), REQ, CD_BAD_ENCODING, "*", NULL, NULL, {NULL} },
	{ "CR in the middle", L("t1 X\r a=1"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "two CRs at the end", L("t1 PING\r\r"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "overlong '/' (2 bytes)", L("t1 X a=\xc0\xaf"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "overlong '/' (3 bytes)", L("t1 X a=\xe0\x80\xaf"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "overlong (4 bytes)", L("t1 X a=\xf0\x8f\xbf\xbf"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "surrogate U+D800", L("t1 X a=\xed\xa0\x80"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "surrogate U+DFFF", L("t1 X a=\"\xed\xbf\xbf\""), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "U+110000", L("t1 X a=\xf4\x90\x80\x80"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "lead byte 0xf5", L("t1 X a=\xf5\x80\x80\x80"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "byte 0xff", L("t1 X a=\xff"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "truncated at the end", L("t1 X a=\xe2\x82"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "truncated before a space", L("t1 X a=\xe2\x82 b=1"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "lone continuation byte", L("t1 X a=\x80"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "U+10FFFF is fine", L("t1 X a=\xf4\x8f\xbf\xbf"), REQ, CD_OK, "t1", "X", "", {"a", "\xf4\x8f\xbf\xbf", NULL} },
	{ "4-byte character", L("t1 X a=\xf0\x9d\x84\x9e"), REQ, CD_OK, "t1", "X", "", {"a", "\xf0\x9d\x84\x9e", NULL} },

	/* encoding wins over syntax */
	{ "bad tag and a tab", L("t/1 X\ta=1"), REQ, CD_BAD_ENCODING, "*", NULL, NULL, {NULL} },
	{ "33-char tag and bad UTF-8", L(T33 " X a=\xff"), REQ, CD_BAD_ENCODING, "*", NULL, NULL, {NULL} },
	{ "bad verb and bad UTF-8", L("t1 123 a=\xc0\x80"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "unknown escape and a control", L("t1 X a=\"\\q\" b=\x02"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	{ "duplicate key and a NUL", L("t1 X a=1 a=1\0"), REQ, CD_BAD_ENCODING, "t1", NULL, NULL, {NULL} },
	/* Only spaces end a token, so the tab makes the tag malformed. */
	{ "tab right after the tag", L("t1\tPING"), REQ, CD_BAD_ENCODING, "*", NULL, NULL, {NULL} },

	/* CR before the end */
	{ "CR before the end", L("t1 PING\r"), REQ, CD_OK, "t1", "PING", "", {NULL} },
	{ "CR not kept in the last value", L("t1 X a=1\r"), REQ, CD_OK, "t1", "X", "", {"a", "1", NULL} },
	{ "CR after a closing quote", L("t1 X a=\"b c\"\r"), REQ, CD_OK, "t1", "X", "", {"a", "b c", NULL} },

	/* server lines */
	{ "event", L("* EVENT type=x"), RSP, CD_OK, "*", "EVENT", "", {"type", "x", NULL} },
	{ "ok with a pair", L("t1 OK a=1"), RSP, CD_OK, "t1", "OK", "", {"a", "1", NULL} },
	{ "word kept as sent", L("t1 ok"), RSP, CD_OK, "t1", "ok", "", {NULL} },
	{ "error line", L("t1 NO code=not-found msg=\"no such complaint\""), RSP, CD_OK, "t1", "NO", "", {"code", "not-found", "msg", "no such complaint", NULL} },
	{ "greeting", L("* HELLO proto=1 server=calldeskd/1.0"), RSP, CD_OK, "*", "HELLO", "", {"proto", "1", "server", "calldeskd/1.0", NULL} },
	{ "row with empty values", L("t9 ROW a=\"\" b=\"\"\r"), RSP, CD_OK, "t9", "ROW", "", {"a", "", "b", "", NULL} },
	{ "'*x' is no tag", L("*x OK"), RSP, CD_BAD_ARG, "*", NULL, NULL, {NULL} },
	{ "'**' is no tag", L("** OK"), RSP, CD_BAD_ARG, "*", NULL, NULL, {NULL} },
	{ "server line, bad escape", L("* BYE code=idle msg=\"\\z\""), RSP, CD_BAD_ARG, "*", NULL, NULL, {NULL} },
	{ "server line, duplicate key", L("t1 OK a=1 a=2"), RSP, CD_BAD_ARG, "t1", NULL, NULL, {NULL} },
};

static int check_str(const char *what, const char *field, const char *want,
		     const char *got)
{
	char b1[256], b2[256];

	if (want == NULL || strcmp(want, got) == 0)
		return 0;
	print_error("case \"%s\": %s: expected \"%s\", got \"%s\"\n", what,
		    field, show(want, strlen(want), b1, sizeof(b1)),
		    show(got, strlen(got), b2, sizeof(b2)));
	return 1;
}

static int check_args(const struct parse_case *tc,
		      const struct proto_request *req)
{
	size_t want = 0;
	int bad = 0;

	while (tc->kv[want * 2] != NULL)
		want++;
	if (req->nargs != want) {
		print_error("case \"%s\": expected %zu pairs, got %zu\n",
			    tc->what, want, req->nargs);
		return 1;
	}
	for (size_t i = 0; i < want; i++) {
		const char *key = tc->kv[i * 2], *value = tc->kv[i * 2 + 1];

		bad += check_str(tc->what, "key", key, req->args[i].key);
		bad += check_str(tc->what, "value", value, req->args[i].value);
		if (req->args[i].value_len != strlen(value)) {
			print_error("case \"%s\": value_len of %s: expected %zu, got %zu\n",
				    tc->what, key, strlen(value),
				    req->args[i].value_len);
			bad++;
		}
		if (proto_get(req, key) != req->args[i].value) {
			print_error("case \"%s\": proto_get(%s) did not find the pair\n",
				    tc->what, key);
			bad++;
		}
	}
	return bad;
}

/* Runs one case on a heap copy of exactly len bytes (so reading past the
 * end is caught by the sanitizers and valgrind) and checks that the
 * parser left its input as it was. */
static int run_parse_case(const struct parse_case *tc)
{
	struct proto_request req;
	const char *err = NULL;
	char *copy = malloc(tc->len ? tc->len : 1);
	enum cd_code code;
	int bad = 0;

	assert_non_null(copy);
	memcpy(copy, tc->line, tc->len);
	code = proto_parse(copy, tc->len, tc->flags, &req, &err);
	if (memcmp(copy, tc->line, tc->len) != 0) {
		print_error("case \"%s\": the parser wrote into its input\n",
			    tc->what);
		bad++;
	}
	if (code != tc->code) {
		print_error("case \"%s\": expected code %s (%d), got %s (%d), error \"%s\"\n",
			    tc->what, cd_code_name(tc->code), (int)tc->code,
			    cd_code_name(code), (int)code, err ? err : "");
		bad++;
	} else if (code != CD_OK && (err == NULL || err[0] == '\0')) {
		print_error("case \"%s\": no error message\n", tc->what);
		bad++;
	}
	bad += check_str(tc->what, "tag", tc->tag, req.tag);
	if (code == CD_OK && tc->code == CD_OK) {
		bad += check_str(tc->what, "verb", tc->verb, req.verb);
		bad += check_str(tc->what, "subverb", tc->subverb, req.subverb);
		bad += check_args(tc, &req);
	}
	proto_request_clear(&req);
	if (req.store != NULL || req.nargs != 0) {
		print_error("case \"%s\": clear left store or nargs\n", tc->what);
		bad++;
	}
	/* A second clear must be harmless. */
	proto_request_clear(&req);
	free(copy);
	return bad;
}

static void test_parse_table(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(parse_cases); i++)
		failures += run_parse_case(&parse_cases[i]);
	if (failures != 0)
		fail_msg("%d mismatches in %zu parse cases", failures,
			 NELEMS(parse_cases));
}

/* "t1 X k0=v0 k1=v1 ..." with n pairs. */
static char *line_with_pairs(size_t n, size_t *len)
{
	struct sbuf sb = {0};

	sbuf_adds(&sb, "t1 X");
	for (size_t i = 0; i < n; i++)
		sbuf_printf(&sb, " k%zu=v", i);
	assert_false(sbuf_failed(&sb));
	*len = sb.len;
	return sb.data;
}

static void test_parse_arg_count(void **state)
{
	struct proto_request req;
	size_t len;
	char *line;

	(void)state;
	line = line_with_pairs(PROTO_MAX_ARGS, &len);
	if (proto_parse(line, len, REQ, &req, NULL) != CD_OK)
		fail_msg("expected %d pairs to parse", PROTO_MAX_ARGS);
	if (req.nargs != PROTO_MAX_ARGS)
		fail_msg("expected %d pairs, got %zu", PROTO_MAX_ARGS,
			 req.nargs);
	assert_string_equal(proto_get(&req, "k31"), "v");
	proto_request_clear(&req);
	free(line);

	line = line_with_pairs(PROTO_MAX_ARGS + 1, &len);
	if (proto_parse(line, len, REQ, &req, NULL) != CD_BAD_ARG)
		fail_msg("expected %d pairs to be CD_BAD_ARG",
			 PROTO_MAX_ARGS + 1);
	assert_string_equal(req.tag, "t1");
	proto_request_clear(&req);
	free(line);
}

/* The store is sized from the line: fill it with the densest pairs
 * ("a=b", more bytes decoded than written) and long quoted ones. */
static void test_parse_store_size(void **state)
{
	static const char dense[] =
		"t X a=1 b=2 c=3 d=4 e=5 f=6 g=7 h=8 i=9 j=0 k=1 l=2 m=3 n=4 "
		"o=5 p=6 q=7 r=8 s=9 t=0 u=1 v=2 w=3 x=4 y=5 z=6 "
		"aa=\"\" ab=\"\\n\" ac=\"\\\"\" ad=\"\" ae=7 af=8";
	struct proto_request req;
	enum cd_code code;

	(void)state;
	code = proto_parse(dense, sizeof(dense) - 1, REQ, &req, NULL);
	if (code != CD_OK)
		fail_msg("expected CD_OK, got %s", cd_code_name(code));
	assert_int_equal(req.nargs, 32);
	assert_string_equal(proto_get(&req, "ab"), "\n");
	assert_string_equal(proto_get(&req, "ac"), "\"");
	assert_string_equal(proto_get(&req, "af"), "8");
	assert_null(proto_get(&req, "ag"));
	proto_request_clear(&req);
}

static void test_parse_error_r_optional(void **state)
{
	struct proto_request req;

	(void)state;
	/* NULL error_r must be accepted on the error path. */
	assert_int_equal(proto_parse(L("t1 123"), REQ, &req, NULL), CD_BAD_ARG);
	proto_request_clear(&req);
	proto_request_clear(NULL);
}

static void test_tag_valid(void **state)
{
	static const struct {
		const char *tag;
		size_t len;
		bool ok;
	} cases[] = {
		{ L("a"), true },
		{ L("A-z.0_9"), true },
		{ L(T32), true },
		{ L(T33), false },
		{ L(""), false },
		{ L("*"), false },
		{ L("a b"), false },
		{ L("a/b"), false },
		{ L("a\0b"), false },
		{ L("\xc3\xa9"), false },
	};
	int failures = 0;
	char b[128];

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		bool got = proto_tag_valid(cases[i].tag, cases[i].len);

		if (got != cases[i].ok) {
			print_error("tag \"%s\": expected %s, got %s\n",
				    show(cases[i].tag, cases[i].len, b, sizeof(b)),
				    cases[i].ok ? "valid" : "invalid",
				    got ? "valid" : "invalid");
			failures++;
		}
	}
	/* The length bounds the check, not a NUL. */
	if (!proto_tag_valid("t1 PING", 2))
		fail_msg("expected the first 2 bytes of \"t1 PING\" to be a tag");
	if (failures != 0)
		fail_msg("%d tag cases failed", failures);
}

/* ---- writer ------------------------------------------------------------- */

static const struct {
	const char *value;
	size_t len;
	const char *out;
} kv_cases[] = {
	{ L("abc"), " k=abc" },
	{ L(""), " k=\"\"" },
	{ L("a b"), " k=\"a b\"" },
	{ L("a\"b"), " k=\"a\\\"b\"" },
	{ L("a\\b"), " k=a\\b" },
	{ L("a\\b c"), " k=\"a\\\\b c\"" },
	{ L("a=b"), " k=a=b" },
	{ L("a\nb"), " k=\"a\\nb\"" },
	{ L("a\rb"), " k=\"a\\rb\"" },
	{ L("a\tb"), " k=\"a\\tb\"" },
	{ L("a\x01" "b"), " k=\"ab\"" },
	{ L("a\x7f" "b"), " k=\"ab\"" },
	{ L("a\0b"), " k=\"ab\"" },
	{ L("\x1b"), " k=\"\"" },
	{ L("caf\xc3\xa9"), " k=caf\xc3\xa9" },
	{ L("\""), " k=\"\\\"\"" },
	{ L("\\"), " k=\\" },
	{ L("  "), " k=\"  \"" },
};

static void test_put_kv(void **state)
{
	struct sbuf sb = {0};
	int failures = 0;
	char b1[128], b2[128], b3[128];

	(void)state;
	for (size_t i = 0; i < NELEMS(kv_cases); i++) {
		sbuf_reset(&sb);
		proto_put_kvn(&sb, "k", kv_cases[i].value, kv_cases[i].len);
		assert_false(sbuf_failed(&sb));
		if (strcmp(sb.data, kv_cases[i].out) != 0) {
			print_error("value \"%s\": expected '%s', got '%s'\n",
				    show(kv_cases[i].value, kv_cases[i].len, b1, sizeof(b1)),
				    show(kv_cases[i].out, strlen(kv_cases[i].out), b2, sizeof(b2)),
				    show(sb.data, sb.len, b3, sizeof(b3)));
			failures++;
		}
		/* proto_put_kv gives the same for NUL-free values. */
		if (memchr(kv_cases[i].value, '\0', kv_cases[i].len) == NULL) {
			struct sbuf sb2 = {0};

			proto_put_kv(&sb2, "k", kv_cases[i].value);
			if (strcmp(sb2.data, sb.data) != 0) {
				print_error("proto_put_kv and proto_put_kvn differ on \"%s\"\n",
					    show(kv_cases[i].value, kv_cases[i].len, b1, sizeof(b1)));
				failures++;
			}
			sbuf_free(&sb2);
		}
	}
	sbuf_free(&sb);
	if (failures != 0)
		fail_msg("%d writer cases failed", failures);
}

/* Values a writer must quote or escape, written and then parsed back. */
static const char *const tricky_values[] = {
	"plain", "", " ", "a b", "\"", "\"\"", "\\", "\\\\", "\\\"", "a\\",
	"\\n", "a\nb", "line1\r\nline2", "tab\there", "=", "a=b c=d",
	"k=\"v\"", "\"quoted\" \\back\\slash", "caf\xc3\xa9 \xe2\x82\xac",
	"\xf0\x9d\x84\x9e", "  lead and trail  ", "*", "t1 OK a=1",
};

static void test_put_kv_round_trip(void **state)
{
	struct sbuf sb = {0};
	int failures = 0;
	char b1[128], b2[128];

	(void)state;
	for (size_t i = 0; i < NELEMS(tricky_values); i++) {
		struct proto_request req;
		const char *v = tricky_values[i], *got, *err = "";
		enum cd_code code;

		sbuf_reset(&sb);
		proto_put_start(&sb, "t1", "OK");
		proto_put_kv(&sb, "k", v);
		proto_put_kv(&sb, "after", "x");
		code = proto_parse(sb.data, sb.len, RSP, &req, &err);
		got = proto_get(&req, "k");
		if (code != CD_OK || got == NULL || strcmp(got, v) != 0 ||
		    req.args[0].value_len != strlen(v) ||
		    proto_get(&req, "after") == NULL) {
			print_error("round trip of \"%s\" through '%s': got code %s (%s), value \"%s\"\n",
				    show(v, strlen(v), b1, sizeof(b1)),
				    show(sb.data, sb.len, b2, sizeof(b2)),
				    cd_code_name(code), err,
				    got ? got : "(none)");
			failures++;
		}
		proto_request_clear(&req);
	}
	sbuf_free(&sb);
	if (failures != 0)
		fail_msg("%d round trips failed", failures);
}

static void test_put_start(void **state)
{
	struct sbuf sb = {0};

	(void)state;
	proto_put_start(&sb, "t1", "OK");
	assert_string_equal(sb.data, "t1 OK");
	proto_put_kv(&sb, "count", "0");
	assert_string_equal(sb.data, "t1 OK count=0");
	sbuf_free(&sb);
}

static const struct {
	const char *tag;
	enum cd_code code;
	const char *msg;
	bool retry;
	const char *extra;
	const char *out;
} error_cases[] = {
	{ "t1", CD_NOT_FOUND, "no such complaint", false, NULL,
	  "t1 NO code=not-found msg=\"no such complaint\"\n" },
	{ "t2", CD_BAD_ARG, "bad", true, NULL,
	  "t2 BAD code=bad-arg msg=\"bad\"\n" },
	{ "t3", CD_DB_UNAVAILABLE, "database down", true, NULL,
	  "t3 ERR code=db-unavailable msg=\"database down\" retry=yes\n" },
	{ "t4", CD_OUTCOME_UNKNOWN, "may have happened", false, NULL,
	  "t4 ERR code=outcome-unknown msg=\"may have happened\" retry=no\n" },
	{ "t5", CD_BYE_IDLE, "idle too long", false, NULL,
	  "* BYE code=idle msg=\"idle too long\"\n" },
	{ "t6", CD_TOO_MANY_ATTEMPTS, "locked", false, " retry_after=60",
	  "t6 NO code=too-many-attempts msg=\"locked\" retry_after=60\n" },
	{ "t7", CD_EMPTY_QUEUE, "nothing waits", false, NULL,
	  "t7 NO code=empty msg=\"nothing waits\"\n" },
	{ "t8", CD_OVERLOADED, "busy", true, NULL,
	  "t8 ERR code=overloaded msg=\"busy\" retry=yes\n" },
	{ NULL, CD_BYE_OVERLOADED, "busy", true, NULL,
	  "* BYE code=overloaded msg=\"busy\"\n" },
	{ "t9", CD_INVALID_CONFIG, "rules:3: \"x\" \\ y\nz", false, NULL,
	  "t9 NO code=invalid-config msg=\"rules:3: \\\"x\\\" \\\\ y\\nz\"\n" },
	{ "t10", CD_DENIED, NULL, false, " rule=r1",
	  "t10 NO code=denied msg=\"\" rule=r1\n" },
	{ "t11", CD_BAD_ENCODING, "word", false, NULL,
	  "t11 BAD code=bad-encoding msg=\"word\"\n" },
	{ "t12", CD_OK, "bug", false, NULL,
	  "t12 ERR code=internal msg=\"bug\" retry=no\n" },
	{ "t13", CD_EMPTY, "bug", false, NULL,
	  "t13 ERR code=internal msg=\"bug\" retry=no\n" },
};

static void test_put_error(void **state)
{
	struct sbuf sb = {0};
	int failures = 0;
	char b1[160], b2[160];

	(void)state;
	for (size_t i = 0; i < NELEMS(error_cases); i++) {
		sbuf_reset(&sb);
		proto_put_error(&sb, error_cases[i].tag, error_cases[i].code,
				error_cases[i].msg, error_cases[i].retry,
				error_cases[i].extra);
		if (strcmp(sb.data, error_cases[i].out) != 0) {
			print_error("error %s: expected '%s', got '%s'\n",
				    cd_code_name(error_cases[i].code),
				    show(error_cases[i].out, strlen(error_cases[i].out), b1, sizeof(b1)),
				    show(sb.data, sb.len, b2, sizeof(b2)));
			failures++;
		}
	}
	sbuf_free(&sb);
	if (failures != 0)
		fail_msg("%d error lines failed", failures);
}

/* Every error code written by proto_put_error is read back by a client
 * as the same code, with its message intact. */
static void test_put_error_round_trip(void **state)
{
	static const char msg[] = "it \"failed\"\\ here\n";
	struct sbuf sb = {0};
	int failures = 0;

	(void)state;
	for (int i = CD_AUTH_REQUIRED; i < CD_CODE_COUNT; i++) {
		enum cd_code code = (enum cd_code)i, back;
		struct proto_request req;
		const char *got;

		sbuf_reset(&sb);
		proto_put_error(&sb, "t1", code, msg, true, NULL);
		assert_true(sb.len > 0 && sb.data[sb.len - 1] == '\n');
		if (proto_parse(sb.data, sb.len - 1, RSP, &req, NULL) != CD_OK) {
			print_error("%s: its line '%s' does not parse\n",
				    cd_code_name(code), sb.data);
			failures++;
			proto_request_clear(&req);
			continue;
		}
		back = cd_code_lookup(req.verb, proto_get(&req, "code"));
		got = proto_get(&req, "msg");
		if (back != code || got == NULL || strcmp(got, msg) != 0) {
			print_error("%s: read back as %s, msg %s\n",
				    cd_code_name(code), cd_code_name(back),
				    got ? got : "(none)");
			failures++;
		}
		if ((proto_get(&req, "retry") != NULL) !=
		    (cd_code_class(code) == CD_CLASS_ERR)) {
			print_error("%s: retry= present only for ERR\n",
				    cd_code_name(code));
			failures++;
		}
		proto_request_clear(&req);
	}
	sbuf_free(&sb);
	if (failures != 0)
		fail_msg("%d codes failed the round trip", failures);
}

/* ---- sbuf --------------------------------------------------------------- */

static void test_sbuf(void **state)
{
	struct sbuf sb = {0};
	size_t cap;

	(void)state;
	sbuf_add(&sb, "", 0);
	assert_non_null(sb.data);
	assert_string_equal(sb.data, "");
	/* Grow well past any first allocation, byte by byte. */
	for (int i = 0; i < 10000; i++)
		sbuf_add(&sb, "x", 1);
	sbuf_printf(&sb, "[%d:%s]", 42, "y");
	assert_false(sbuf_failed(&sb));
	assert_int_equal(sb.len, 10000 + 6);
	assert_int_equal(strlen(sb.data), sb.len);
	assert_string_equal(sb.data + 10000, "[42:y]");
	assert_true(sb.cap > sb.len);

	cap = sb.cap;
	sbuf_reset(&sb);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.cap, cap);
	assert_string_equal(sb.data, "");
	sbuf_adds(&sb, "again");
	assert_string_equal(sb.data, "again");

	sbuf_free(&sb);
	assert_null(sb.data);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.cap, 0);
	sbuf_free(NULL);

	/* A printf longer than the initial capacity in one go. */
	sbuf_printf(&sb, "%0500d", 7);
	assert_int_equal(sb.len, 500);
	assert_int_equal(sb.data[499], '7');
	sbuf_free(&sb);
}

static void test_sbuf_failed_is_sticky(void **state)
{
	struct sbuf sb = {0};

	(void)state;
	sbuf_adds(&sb, "ok");
	/* A request that cannot be met marks the buffer failed... */
	sbuf_add(&sb, "x", SIZE_MAX - 1);
	assert_true(sbuf_failed(&sb));
	assert_int_equal(sb.len, 2);
	/* ...and later appends are ignored until a reset. */
	sbuf_adds(&sb, "more");
	assert_string_equal(sb.data, "ok");
	sbuf_reset(&sb);
	assert_false(sbuf_failed(&sb));
	sbuf_adds(&sb, "new");
	assert_string_equal(sb.data, "new");
	sbuf_free(&sb);
}

/* ---- codes -------------------------------------------------------------- */

static const struct {
	enum cd_code code;
	const char *cls;
	const char *name;
} code_cases[] = {
	{ CD_OK, "OK", "" },
	{ CD_EMPTY, "", "" },
	{ CD_AUTH_REQUIRED, "NO", "auth-required" },
	{ CD_AUTH_FAILED, "NO", "auth-failed" },
	{ CD_TOO_MANY_ATTEMPTS, "NO", "too-many-attempts" },
	{ CD_FORBIDDEN, "NO", "forbidden" },
	{ CD_NOT_FOUND, "NO", "not-found" },
	{ CD_EXISTS, "NO", "exists" },
	{ CD_INVALID_STATE, "NO", "invalid-state" },
	{ CD_DENIED, "NO", "denied" },
	{ CD_FOUR_EYES, "NO", "four-eyes" },
	{ CD_NO_REPLY, "NO", "no-reply" },
	{ CD_OPEN_HANDOFF, "NO", "open-handoff" },
	{ CD_EMPTY_QUEUE, "NO", "empty" },
	{ CD_AT_CAPACITY, "NO", "at-capacity" },
	{ CD_IDEM_CONFLICT, "NO", "idem-conflict" },
	{ CD_INVALID_CONFIG, "NO", "invalid-config" },
	{ CD_UNKNOWN_VERB, "BAD", "unknown-verb" },
	{ CD_BAD_ARG, "BAD", "bad-arg" },
	{ CD_MISSING_ARG, "BAD", "missing-arg" },
	{ CD_BAD_ENCODING, "BAD", "bad-encoding" },
	{ CD_DB_UNAVAILABLE, "ERR", "db-unavailable" },
	{ CD_OVERLOADED, "ERR", "overloaded" },
	{ CD_OUTCOME_UNKNOWN, "ERR", "outcome-unknown" },
	{ CD_INTERNAL, "ERR", "internal" },
	{ CD_BYE_LINE_TOO_LONG, "BYE", "line-too-long" },
	{ CD_BYE_LOGOUT, "BYE", "logout" },
	{ CD_BYE_IDLE, "BYE", "idle" },
	{ CD_BYE_LOGIN_TIMEOUT, "BYE", "login-timeout" },
	{ CD_BYE_SHUTDOWN, "BYE", "shutdown" },
	{ CD_BYE_OVERLOADED, "BYE", "overloaded" },
	{ CD_BYE_DISABLED, "BYE", "disabled" },
};

static void test_codes(void **state)
{
	int failures = 0;

	(void)state;
	/* The table above must cover every code. */
	assert_int_equal(NELEMS(code_cases), CD_CODE_COUNT);
	for (size_t i = 0; i < NELEMS(code_cases); i++) {
		enum cd_code code = code_cases[i].code, back;
		const char *name = cd_code_name(code);
		const char *cls = cd_class_word(cd_code_class(code));

		if (name == NULL || strcmp(name, code_cases[i].name) != 0 ||
		    strcmp(cls, code_cases[i].cls) != 0) {
			print_error("code %d: expected %s %s, got %s %s\n",
				    (int)code, code_cases[i].cls,
				    code_cases[i].name, cls, name ? name : "(null)");
			failures++;
			continue;
		}
		back = cd_code_lookup(cls, name);
		if (name[0] != '\0' && back != code) {
			print_error("lookup(%s, %s): expected %d, got %d\n",
				    cls, name, (int)code, (int)back);
			failures++;
		}
	}
	if (failures != 0)
		fail_msg("%d codes failed", failures);

	assert_int_equal(cd_code_lookup("ERR", "overloaded"), CD_OVERLOADED);
	assert_int_equal(cd_code_lookup("BYE", "overloaded"), CD_BYE_OVERLOADED);
	assert_int_equal(cd_code_lookup("NO", "bad-arg"), CD_CODE_COUNT);
	assert_int_equal(cd_code_lookup("NO", "no-such-code"), CD_CODE_COUNT);
	assert_int_equal(cd_code_lookup("OK", ""), CD_CODE_COUNT);
	assert_int_equal(cd_code_lookup(NULL, "idle"), CD_CODE_COUNT);
	assert_int_equal(cd_code_lookup("BYE", NULL), CD_CODE_COUNT);
	assert_string_equal(cd_code_name(CD_CODE_COUNT), "");
	assert_int_equal(cd_code_class(CD_CODE_COUNT), CD_CLASS_INTERNAL);
	assert_string_equal(cd_class_word(CD_CLASS_INTERNAL), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_arg_count),
		cmocka_unit_test(test_parse_store_size),
		cmocka_unit_test(test_parse_error_r_optional),
		cmocka_unit_test(test_tag_valid),
		cmocka_unit_test(test_put_kv),
		cmocka_unit_test(test_put_kv_round_trip),
		cmocka_unit_test(test_put_start),
		cmocka_unit_test(test_put_error),
		cmocka_unit_test(test_put_error_round_trip),
		cmocka_unit_test(test_sbuf),
		cmocka_unit_test(test_sbuf_failed_is_sticky),
		cmocka_unit_test(test_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
