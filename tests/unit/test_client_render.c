/* test_client_render.c: the client's pure parts. The renderer (tables,
 * fields, errors, pushes; STATS as figures beside targets; CSV as RFC 4180
 * quotes it), the shortcut expansion (the report words stats and export
 * included), the preparation of requests (idem keys) and completion from
 * the verb table. Answers are
 * built with the shared parser, as the client builds them. */
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"
#include "render.h"
#include "request.h"
#include "shortcut.h"
#include "verbs.h"

#define MAX_LINES 16

/* ---- helpers --------------------------------------------------------- */

struct answer {
	struct proto_request rows[MAX_LINES];
	size_t nrows;
	struct proto_request final;
};

/* Parses server lines: every line but the last is a row. */
static void answer_parse(struct answer *a, const char *const *lines)
{
	memset(a, 0, sizeof *a);
	for (size_t i = 0; lines[i] != NULL; i++) {
		struct proto_request *dst = lines[i + 1] != NULL ?
					    &a->rows[a->nrows++] : &a->final;
		const char *err = NULL;
		enum cd_code rc = proto_parse(lines[i], strlen(lines[i]),
					      PROTO_PARSE_RESPONSE, dst, &err);
		if (rc != CD_OK)
			fail_msg("line %zu does not parse (%s): %s", i,
				 err ? err : "?", lines[i]);
	}
}

static void answer_clear(struct answer *a)
{
	for (size_t i = 0; i < a->nrows; i++)
		proto_request_clear(&a->rows[i]);
	proto_request_clear(&a->final);
}

static void expect_text(const char *what, const struct sbuf *got,
			const char *want)
{
	const char *g = got->data != NULL ? got->data : "";

	if (strcmp(g, want) != 0)
		fail_msg("%s:\n--- expected ---\n%s--- got ---\n%s---", what,
			 want, g);
}

static const struct render_opts plain = {.color = false, .max_cell = 0};

/* ---- tables ---------------------------------------------------------- */

static void test_table_alignment(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"c1 ROW complaint=7 state=assigned queue=billing assignee=alice",
		"c1 ROW complaint=1234 state=new queue=tech assignee=\"\"",
		"c1 OK count=2 more=no",
		NULL,
	};
	struct answer a;
	struct sbuf out = {0};

	answer_parse(&a, lines);
	render_table(&out, a.rows, a.nrows, &plain);
	/* Numbers to the right, text to the left, "-" for empty, the last
	 * column unpadded so that no line ends in spaces. */
	expect_text("table", &out,
		    "COMPLAINT  STATE     QUEUE    ASSIGNEE\n"
		    "        7  assigned  billing  alice\n"
		    "     1234  new       tech     -\n");
	sbuf_free(&out);
	answer_clear(&a);
}

static void test_table_union_and_width(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"c2 ROW a=x b=yy",
		"c2 ROW a=xxxx c=\"two words\" b=1",
		"c2 OK",
		NULL,
	};
	struct answer a;
	struct sbuf out = {0};

	/* A key missing from the first row gets its column where it first
	 * appears. */
	answer_parse(&a, lines);
	render_table(&out, a.rows, a.nrows, &plain);
	expect_text("union of columns", &out,
		    "A     B   C\n"
		    "x     yy  -\n"
		    "xxxx  1   two words\n");
	sbuf_free(&out);
	answer_clear(&a);
}

static void test_table_utf8_and_control(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"c3 ROW name=\"Zoë\" note=\"a\\nb\"",
		"c3 ROW name=\"日本\" note=x",
		"c3 ROW name=Al note=y",
		"c3 OK",
		NULL,
	};
	struct answer a;
	struct sbuf out = {0};

	answer_parse(&a, lines);
	render_table(&out, a.rows, a.nrows, &plain);
	/* "Zoë" is 3 columns, "日本" 4; the LF inside a cell is a space. */
	expect_text("utf-8 widths", &out,
		    "NAME  NOTE\n"
		    "Zoë   a b\n"
		    "日本  x\n"
		    "Al    y\n");
	sbuf_free(&out);
	answer_clear(&a);
}

static void test_table_truncation(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"c4 ROW text=\"abcdefghijklmnop\" id=1",
		"c4 ROW text=short id=22",
		"c4 OK",
		NULL,
	};
	struct render_opts narrow = {.color = false, .max_cell = 10};
	struct answer a;
	struct sbuf out = {0};

	answer_parse(&a, lines);
	render_table(&out, a.rows, a.nrows, &narrow);
	expect_text("cut cells", &out,
		    "TEXT        ID\n"
		    "abcdefg...   1\n"
		    "short       22\n");
	sbuf_free(&out);
	answer_clear(&a);
}

static void test_table_color(void **state)
{
	(void)state;
	static const char *const lines[] = {"c5 ROW k=\"\"", "c5 OK", NULL};
	struct render_opts color = {.color = true};
	struct answer a;
	struct sbuf out = {0};

	answer_parse(&a, lines);
	render_table(&out, a.rows, a.nrows, &color);
	expect_text("colours", &out,
		    "\033[1mK\033[0m\n\033[2m-\033[0m\n");
	sbuf_free(&out);
	answer_clear(&a);
}

static void test_width(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		size_t width;
	} cases[] = {
		{"", 0}, {"abc", 3}, {"é", 1}, {"日本語", 6},
		{"e\xcc\x81", 1},       /* e + combining acute */
		{"\xff", 1},            /* invalid byte */
		{"a\tb", 3},            /* control shown as a space */
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t w = render_width(cases[i].s, strlen(cases[i].s));
		if (w != cases[i].width)
			fail_msg("width of case %zu: expected %zu, got %zu", i,
				 cases[i].width, w);
	}
}

/* ---- fields and whole answers ---------------------------------------- */

static void test_fields(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"c1 OK complaint=42 state=assigned resolve_by=2026-11-22T09:30:00Z "
		"summary=\"late parcel\\nsecond line\" assignee=\"\"",
		NULL,
	};
	static const char *const skip[] = {"state", NULL};
	struct answer a;
	struct sbuf out = {0};

	answer_parse(&a, lines);
	assert_int_equal(render_fields(&out, &a.final, skip, &plain), 4);
	expect_text("fields", &out,
		    "complaint:   42\n"
		    "resolve by:  2026-11-22T09:30:00Z\n"
		    "summary:     late parcel\n"
		    "             second line\n"
		    "assignee:    -\n");
	sbuf_free(&out);
	answer_clear(&a);
}

struct response_case {
	const char *name;
	const char *lines[MAX_LINES];
	const char *want;
};

static const struct response_case response_cases[] = {
	{"plain OK", {"c1 OK", NULL}, "OK\n"},
	{"single OK line",
	 {"c1 OK decision=escalate rule=tier1-refund approver=role:supervisor "
	  "limit=50.00 budget_left=120.00", NULL},
	 "decision:     escalate\n"
	 "rule:         tier1-refund\n"
	 "approver:     role:supervisor\n"
	 "limit:        50.00\n"
	 "budget left:  120.00\n"},
	{"list with count",
	 {"c1 ROW queue=billing waiting=3", "c1 ROW queue=tech waiting=12",
	  "c1 OK count=2", NULL},
	 "QUEUE    WAITING\n"
	 "billing        3\n"
	 "tech          12\n"
	 "(2 rows)\n"},
	{"empty list", {"c1 OK count=0 more=no", NULL}, "(none)\n"},
	{"more rows",
	 {"c1 ROW complaint=1", "c1 OK count=1 more=yes", NULL},
	 "COMPLAINT\n"
	 "        1\n"
	 "(1 row) more match: narrow the search or raise limit=\n"},
	{"fields then rows",
	 {"c1 ROW action=refund allowed=yes limit=50.00",
	  "c1 ROW action=apology allowed=yes limit=\"\"",
	  "c1 OK tier=1 daily_budget=200.00 used_today=0.00 "
	  "budget_left=200.00", NULL},
	 "tier:          1\n"
	 "daily budget:  200.00\n"
	 "used today:    0.00\n"
	 "budget left:   200.00\n"
	 "\n"
	 "ACTION   ALLOWED  LIMIT\n"
	 "refund   yes      50.00\n"
	 "apology  yes          -\n"},
	{"NO with message",
	 {"c1 NO code=not-found msg=\"no complaint 9\"", NULL},
	 "Refused: no complaint 9 [not-found]\n"},
	{"NO without message, extra field",
	 {"c1 NO code=denied msg=\"\" rule=vip-cap", NULL},
	 "Refused: the rules do not allow it [denied]\n"
	 "  rule:  vip-cap\n"},
	{"NO with unknown code",
	 {"c1 NO code=brand-new msg=\"\"", NULL},
	 "Refused: no reason given [brand-new]\n"},
	{"BAD", {"c1 BAD code=missing-arg msg=\"id is required\"", NULL},
	 "Bad request: id is required [missing-arg]\n"},
	{"ERR retry yes",
	 {"c1 ERR code=db-unavailable msg=\"database down\" retry=yes", NULL},
	 "Not done: database down [db-unavailable]\n"
	 "  It may be sent again: nothing was changed, or it carried an idem "
	 "key.\n"},
	{"ERR retry no",
	 {"c1 ERR code=outcome-unknown msg=\"\" retry=no", NULL},
	 "Not done: it may or may not have been done [outcome-unknown]\n"
	 "  It may or may not have been done: check before sending it "
	 "again.\n"},
};

static void test_responses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof response_cases / sizeof response_cases[0];
	     i++) {
		const struct response_case *c = &response_cases[i];
		struct answer a;
		struct sbuf out = {0};

		answer_parse(&a, c->lines);
		render_response(&out, a.rows, a.nrows, &a.final, &plain);
		expect_text(c->name, &out, c->want);
		sbuf_free(&out);
		answer_clear(&a);
	}
}

static void test_pushes(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		const char *want;
	} cases[] = {
		{"* EVENT type=complaint complaint=42 state=assigned queue=billing "
		 "assignee=alice",
		 "event complaint: complaint 42, state assigned, queue billing, "
		 "assignee alice\n"},
		{"* EVENT type=queue queue=tech waiting=0 oldest_wait=\"\"",
		 "event queue: queue tech, waiting 0, oldest wait -\n"},
		{"* BYE code=idle msg=\"no request for 900 s\"",
		 "The server closed the session: idle for too long [idle]: no "
		 "request for 900 s\n"},
		{"* BYE code=strange msg=\"\"",
		 "The server closed the session: no reason given [strange]\n"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct proto_request req = {0};
		struct sbuf out = {0};
		assert_int_equal(proto_parse(cases[i].line, strlen(cases[i].line),
					     PROTO_PARSE_RESPONSE, &req, NULL),
				 CD_OK);
		render_push(&out, &req, &plain);
		expect_text(cases[i].line, &out, cases[i].want);
		sbuf_free(&out);
		proto_request_clear(&req);
	}
}

/* ---- shortcuts ------------------------------------------------------- */

struct shortcut_case {
	const char *line;
	enum shortcut_kind kind;
	const char *request;    /* ->request, or the topic for help */
	const char *advise;
};

static const struct shortcut_case shortcut_cases[] = {
	{"next", SHORTCUT_SEND, "NEXT", NULL},
	{"  next  ", SHORTCUT_SEND, "NEXT", NULL},
	{"next 3", SHORTCUT_USAGE, NULL, NULL},
	{"NEXT", SHORTCUT_NONE, NULL, NULL},
	{"mine", SHORTCUT_SEND, "COMPLAINT LIST assignee=me", NULL},
	{"mine state=waiting limit=5", SHORTCUT_SEND,
	 "COMPLAINT LIST assignee=me state=waiting limit=5", NULL},
	{"authority", SHORTCUT_SEND, "RULES", NULL},
	{"resolve 42 refund 25.50 Refunded the delivery fee", SHORTCUT_RESOLVE,
	 "COMPLAINT RESOLVE id=42 action=refund amount=25.50 "
	 "resolution=\"Refunded the delivery fee\"",
	 "ADVISE complaint=42 action=refund amount=25.50"},
	{"resolve 42 apology \"Said sorry\"", SHORTCUT_RESOLVE,
	 "COMPLAINT RESOLVE id=42 action=apology resolution=\"Said sorry\"",
	 "ADVISE complaint=42 action=apology"},
	{"resolve 7 apology 2 days late, said \"sorry\"", SHORTCUT_RESOLVE,
	 "COMPLAINT RESOLVE id=7 action=apology "
	 "resolution=\"2 days late, said \\\"sorry\\\"\"",
	 "ADVISE complaint=7 action=apology"},
	{"resolve 7 apology done", SHORTCUT_RESOLVE,
	 "COMPLAINT RESOLVE id=7 action=apology resolution=done",
	 "ADVISE complaint=7 action=apology"},
	{"resolve 7 goodwill-gift 10 sent flowers", SHORTCUT_RESOLVE,
	 "COMPLAINT RESOLVE id=7 action=goodwill-gift amount=10 "
	 "resolution=\"sent flowers\"",
	 "ADVISE complaint=7 action=goodwill-gift amount=10"},
	{"resolve 42 refund Refunded", SHORTCUT_USAGE, NULL, NULL},
	{"resolve 42 refund 10", SHORTCUT_USAGE, NULL, NULL},
	{"resolve x refund 10 text", SHORTCUT_USAGE, NULL, NULL},
	{"resolve 042 apology text", SHORTCUT_USAGE, NULL, NULL},
	{"resolve", SHORTCUT_USAGE, NULL, NULL},
	{"help", SHORTCUT_HELP, "", NULL},
	{"help complaint resolve", SHORTCUT_HELP, "complaint resolve", NULL},
	{"quit", SHORTCUT_QUIT, NULL, NULL},
	{"exit", SHORTCUT_QUIT, NULL, NULL},
	{"COMPLAINT LIST", SHORTCUT_NONE, NULL, NULL},
	{"nextx", SHORTCUT_NONE, NULL, NULL},
};

static void test_shortcuts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof shortcut_cases / sizeof shortcut_cases[0];
	     i++) {
		const struct shortcut_case *c = &shortcut_cases[i];
		struct shortcut_result r;
		enum shortcut_kind kind = shortcut_expand(c->line, &r);

		if (kind != c->kind)
			fail_msg("\"%s\": expected kind %d, got %d (%s)", c->line,
				 c->kind, kind, r.message ? r.message : "");
		if (kind == SHORTCUT_USAGE && r.message == NULL)
			fail_msg("\"%s\": usage without a message", c->line);
		if (kind == SHORTCUT_HELP && strcmp(r.topic, c->request) != 0)
			fail_msg("\"%s\": topic \"%s\"", c->line, r.topic);
		if ((kind == SHORTCUT_SEND || kind == SHORTCUT_RESOLVE) &&
		    strcmp(r.request.data, c->request) != 0)
			fail_msg("\"%s\":\n expected %s\n got      %s", c->line,
				 c->request, r.request.data);
		if (kind == SHORTCUT_RESOLVE &&
		    strcmp(r.advise.data, c->advise) != 0)
			fail_msg("\"%s\":\n expected %s\n got      %s", c->line,
				 c->advise, r.advise.data);
		shortcut_result_free(&r);
	}
}

static void test_shortcut_output_parses(void **state)
{
	(void)state;
	/* Whatever the user types as text, the request is one valid line. */
	static const char *const texts[] = {
		"resolve 1 apology back\\slash",
		"resolve 1 apology caf\xc3\xa9 \"quoted\" = sign",
		"resolve 1 credit 5 ünïcödé",
	};

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		struct shortcut_result r;
		struct sbuf line = {0};
		struct proto_request req = {0};

		assert_int_equal(shortcut_expand(texts[i], &r), SHORTCUT_RESOLVE);
		sbuf_printf(&line, "t1 %s", r.request.data);
		if (proto_parse(line.data, line.len, PROTO_PARSE_REQUEST, &req,
				NULL) != CD_OK)
			fail_msg("does not parse: %s", line.data);
		assert_string_equal(req.verb, "COMPLAINT");
		assert_string_equal(req.subverb, "RESOLVE");
		assert_non_null(proto_get(&req, "resolution"));
		proto_request_clear(&req);
		sbuf_free(&line);
		shortcut_result_free(&r);
	}
}

/* ---- request preparation --------------------------------------------- */

struct prepare_case {
	const char *line;
	bool sent;
	const char *body;
	bool parsed;
	bool has_idem;
};

static const struct prepare_case prepare_cases[] = {
	{"COMPLAINT OPEN customer=1 category=billing severity=2 summary=x",
	 true,
	 "COMPLAINT OPEN customer=1 category=billing severity=2 summary=x "
	 "idem=0123456789abcdef", true, true},
	{"complaint take id=5\r\n", true,
	 "complaint take id=5 idem=0123456789abcdef", true, true},
	{"NEXT", true, "NEXT idem=0123456789abcdef", true, true},
	{"COMPLAINT LIST state=new", true, "COMPLAINT LIST state=new", true,
	 false},
	{"CUSTOMER FIND name=ann", true, "CUSTOMER FIND name=ann", true, false},
	{"STATE SET state=ready", true, "STATE SET state=ready", true, false},
	{"PING", true, "PING", true, false},
	{"ADVISE complaint=1 action=apology", true,
	 "ADVISE complaint=1 action=apology", true, false},
	{"LOGOUT", true, "LOGOUT", true, false},
	{"APPROVE escalation=3 idem=mine-1", true,
	 "APPROVE escalation=3 idem=mine-1", true, true},
	{"FROBNICATE x=1", true, "FROBNICATE x=1 idem=0123456789abcdef", true,
	 true},
	{"COMPLAINT NOTE id=1 text=\"unterminated", true,
	 "COMPLAINT NOTE id=1 text=\"unterminated", false, false},
	{"   ", false, "", false, false},
	{"", false, "", false, false},
};

static void test_prepare(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof prepare_cases / sizeof prepare_cases[0];
	     i++) {
		const struct prepare_case *c = &prepare_cases[i];
		struct req_prepared r;
		bool sent = req_prepare(c->line, "0123456789abcdef", &r);

		if (sent != c->sent)
			fail_msg("\"%s\": expected sent=%d", c->line, c->sent);
		if (sent) {
			if (strcmp(r.body.data, c->body) != 0)
				fail_msg("\"%s\":\n expected %s\n got      %s",
					 c->line, c->body, r.body.data);
			if (r.parsed != c->parsed || r.has_idem != c->has_idem)
				fail_msg("\"%s\": parsed %d has_idem %d", c->line,
					 r.parsed, r.has_idem);
		}
		req_prepared_free(&r);
	}
}

static void test_prepare_without_key(void **state)
{
	(void)state;
	struct req_prepared r;

	assert_true(req_prepare("COMPLAINT TAKE id=1", NULL, &r));
	assert_string_equal(r.body.data, "COMPLAINT TAKE id=1");
	assert_false(r.has_idem);
	assert_string_equal(r.verb, "COMPLAINT");
	assert_string_equal(r.subverb, "TAKE");
	req_prepared_free(&r);
}

static void test_idem_hex(void **state)
{
	(void)state;
	static const unsigned char bytes[8] = {0x01, 0x23, 0x45, 0x67,
					       0x89, 0xab, 0xcd, 0xef};
	char key[REQ_IDEM_KEY_LEN + 1];

	req_idem_hex(bytes, key);
	assert_string_equal(key, "0123456789abcdef");
}

static void test_secret(void **state)
{
	(void)state;
	assert_true(req_is_secret("LOGIN user=a password=b"));
	assert_true(req_is_secret("password old=a new=b"));
	assert_true(req_is_secret("USER ADD name=x role=agent password=y"));
	assert_false(req_is_secret("COMPLAINT NOTE id=1 text=passwords"));
	assert_false(req_is_secret("CUSTOMER ADD name=mypassword=x"));
}

/* ---- verbs and completion -------------------------------------------- */

static void test_verb_table(void **state)
{
	(void)state;
	size_t n;
	const struct verb_spec *t = verb_table(&n);

	/* Every verb of PROTOCOL.md, each verb-and-subverb once. */
	static const char *const need[] = {
		"LOGIN", "PING", "LOGOUT", "PASSWORD", "USER ADD", "USER SET",
		"RELOAD", "STATE", "STATE SET", "CUSTOMER ADD", "CUSTOMER GET",
		"CUSTOMER SET", "CUSTOMER FIND", "CUSTOMER ERASE",
		"INTERACTION START", "INTERACTION NOTE", "INTERACTION END",
		"INTERACTION GET", "COMPLAINT OPEN", "COMPLAINT GET",
		"COMPLAINT LIST", "COMPLAINT NOTE", "COMPLAINT TAKE",
		"COMPLAINT RESOLVE", "COMPLAINT WAIT", "COMPLAINT RESUME",
		"COMPLAINT REOPEN", "COMPLAINT CLOSE", "ADVISE", "RULES",
		"ESCALATE", "ESCALATION LIST", "ESCALATION WITHDRAW",
		"ESCALATION RAISE", "APPROVE", "REJECT", "JUSTIFY", "QUEUE LIST",
		"CATEGORY LIST", "DEPT LIST", "NEXT", "ASSIGN", "WATCH",
		"UNWATCH", "HANDOFF OPEN", "HANDOFF ACK", "HANDOFF DONE",
		"HANDOFF RATE", "HANDOFF LIST", "FEEDBACK", "STATS",
	};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		char verb[40];
		snprintf(verb, sizeof verb, "%s", need[i]);
		char *sub = strchr(verb, ' ');
		if (sub != NULL)
			*sub++ = '\0';
		if (verb_find(verb, sub) == NULL)
			fail_msg("%s is not in the table", need[i]);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(t[i].verb, t[j].verb) == 0 &&
			    (t[i].subverb == t[j].subverb ||
			     (t[i].subverb && t[j].subverb &&
			      strcmp(t[i].subverb, t[j].subverb) == 0)))
				fail_msg("%s %s twice", t[i].verb,
					 t[i].subverb ? t[i].subverb : "");
	assert_non_null(verb_find("complaint", "resolve"));
	assert_null(verb_find("COMPLAINT", NULL));
	assert_true(verb_has_subverbs("queue"));
	assert_false(verb_has_subverbs("NEXT"));
}

static void test_wants_idem(void **state)
{
	(void)state;
	static const struct {
		const char *verb, *sub;
		bool idem;
	} cases[] = {
		{"COMPLAINT", "RESOLVE", true}, {"COMPLAINT", "GET", false},
		{"COMPLAINT", "LIST", false},   {"CUSTOMER", "FIND", false},
		{"PING", "", false},            {"STATE", "", false},
		{"STATE", "SET", false},        {"RULES", "", false},
		{"ADVISE", "", false},          {"QUEUE", "LIST", false},
		{"CATEGORY", "LIST", false},    {"DEPT", "LIST", false},
		{"STATS", "", false},           {"WATCH", "", false},
		{"UNWATCH", "", false},         {"HELP", "", false},
		{"NEXT", "", true},             {"APPROVE", "", true},
		{"HANDOFF", "RATE", true},      {"PASSWORD", "", true},
		{"LOGIN", "", false},           {"LOGOUT", "", false},
		{"NEWVERB", "", true},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (verb_wants_idem(cases[i].verb, cases[i].sub) != cases[i].idem)
			fail_msg("%s %s: expected idem=%d", cases[i].verb,
				 cases[i].sub, cases[i].idem);
}

/* Completion candidates of line (cursor at its end), as "a b c". */
static void completion(const char *line, char *buf, size_t size,
		       struct verb_completion *vc)
{
	verbs_complete(line, strlen(line), shortcut_names(), vc);
	buf[0] = '\0';
	for (size_t i = 0; i < vc->count; i++) {
		size_t n = strlen(buf);
		snprintf(buf + n, size - n, "%s%.*s", i ? " " : "",
			 (int)vc->cands[i].len, vc->cands[i].text);
	}
}

static void test_completion(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		const char *cands;
		size_t start;
	} cases[] = {
		{"comp", "COMPLAINT", 0},
		{"ES", "ESCALATE ESCALATION", 0},
		{"re", "RELOAD REJECT resolve", 0},
		{"complaint re", "RESOLVE RESUME REOPEN", 10},
		{"COMPLAINT RES", "RESOLVE RESUME", 10},
		{"complaint resolve ", "id= action= amount= resolution= "
				       "justify_later=", 18},
		{"complaint resolve id=4 act", "action=", 23},
		{"complaint resolve id=4 action=re", "refund replacement repair",
		 30},
		{"COMPLAINT RESOLVE action=refund ", "id= amount= resolution= "
						      "justify_later=", 32},
		{"STATE SET state=", "ready not-ready break wrap-up", 16},
		{"state set state=b", "break", 16},
		{"COMPLAINT NOTE id=1 text=\"a b", "", 20},
		{"NEXT ", "", 5},
		{"ADVISE complaint=1 action=", "refund credit voucher fee-waiver "
		 "apology explanation callback replacement repair", 26},
		{"STATS a", "agent=", 6},
		{"FROB ", "", 5},
		{"", "", 0},
	};
	char buf[512];
	struct verb_completion vc;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		completion(cases[i].line, buf, sizeof buf, &vc);
		if (i == sizeof cases / sizeof cases[0] - 1) {
			/* Each of the 28 verbs and 9 shortcuts once. */
			assert_int_equal(vc.count, 37);
			continue;
		}
		if (strcmp(buf, cases[i].cands) != 0)
			fail_msg("\"%s\":\n expected [%s]\n got      [%s]",
				 cases[i].line, cases[i].cands, buf);
		if (vc.count > 0 && vc.start != cases[i].start)
			fail_msg("\"%s\": start %zu, expected %zu", cases[i].line,
				 vc.start, cases[i].start);
	}
	completion("comp", buf, sizeof buf, &vc);
	assert_true(vc.lower);
	completion("COMP", buf, sizeof buf, &vc);
	assert_false(vc.lower);
	completion("complaint resolve ", buf, sizeof buf, &vc);
	assert_true(vc.is_key);
}

static void test_help(void **state)
{
	(void)state;
	struct sbuf out = {0};

	assert_int_equal(verbs_help(&out, "complaint resolve"), 1);
	assert_non_null(strstr(out.data, "COMPLAINT RESOLVE id=ID action="));
	sbuf_reset(&out);
	assert_int_equal(verbs_help(&out, "handoff"), 5);
	sbuf_reset(&out);
	assert_int_equal(verbs_help(&out, "assign"), 1);
	assert_non_null(strstr(out.data, "(supervisor)"));
	sbuf_reset(&out);
	assert_int_equal(verbs_help(&out, "nothing"), 0);
	size_t n;
	verb_table(&n);
	assert_int_equal(verbs_help(&out, ""), n);
	sbuf_free(&out);
}

/* ---- reports: CSV, STATS as figures, stats and export ------------------ */

static void test_csv_field(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"plain", "plain"},
		{"", ""},
		{NULL, ""},
		{"a,b", "\"a,b\""},
		{"say \"hi\"", "\"say \"\"hi\"\"\""},
		{"\"", "\"\"\"\""},
		{"\"\"", "\"\"\"\"\"\""},
		{"two\nlines", "\"two\nlines\""},
		{"cr\rhere", "\"cr\rhere\""},
		{"crlf\r\n", "\"crlf\r\n\""},
		{"Broken, \"badly\"\nagain", "\"Broken, \"\"badly\"\"\nagain\""},
		/* Not special in RFC 4180: kept as they are. */
		{" spaced ", " spaced "},
		{"semi;colon", "semi;colon"},
		{"tab\there", "tab\there"},
		{"caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5"},
		{"it's", "it's"},
		{"=1+1", "=1+1"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sbuf out = {0};

		render_csv_field(&out, cases[i].in);
		expect_text(cases[i].in ? cases[i].in : "(null)", &out,
			    cases[i].out);
		sbuf_free(&out);
	}
}

static void test_csv_record(void **state)
{
	(void)state;
	const char *const fields[] = {"a", "", NULL, "b,c", "d\"e", "last"};
	struct sbuf out = {0};

	/* Empty and missing fields are empty; every record ends in CRLF. */
	render_csv_record(&out, fields, 6);
	expect_text("record", &out, "a,,,\"b,c\",\"d\"\"e\",last\r\n");
	sbuf_reset(&out);
	render_csv_record(&out, fields, 1);
	expect_text("one field", &out, "a\r\n");
	sbuf_reset(&out);
	render_csv_record(&out, fields, 0);
	expect_text("no field", &out, "\r\n");
	sbuf_free(&out);
}

static void test_csv_rows(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"c1 ROW a=1 b=x",
		"c1 ROW b=\"y,z\" c=3 d=\"multi\\nline \\\"q\\\"\"",
		"c1 ROW a=\"\"",
		"c1 OK count=3 more=no",
		NULL,
	};
	static const char *const first[] = {"c", "z", NULL};
	struct answer a;
	struct sbuf out = {0};

	/* The columns given first (even one no row has), then the others
	 * in the order they appear; a missing value is an empty field. */
	answer_parse(&a, lines);
	render_csv_rows(&out, a.rows, a.nrows, first);
	expect_text("rows", &out,
		    "c,z,a,b,d\r\n"
		    ",,1,x,\r\n"
		    "3,,,\"y,z\",\"multi\nline \"\"q\"\"\"\r\n"
		    ",,,,\r\n");
	sbuf_reset(&out);
	render_csv_rows(&out, a.rows, 0, first);
	expect_text("no rows", &out, "c,z\r\n");
	sbuf_free(&out);
	answer_clear(&a);
}

static void test_render_stats(void **state)
{
	(void)state;
	static const char *const with_targets[] = {
		"c1 OK handled=4 fcr=0.75 aht=435 sla_met=0.50 csat=\"\" "
		"escalated=0.25 reopened=0.00 empowered=0.75 goodwill=60.00 "
		"respond_met=1.00 from=2026-03-10T00:00:00Z "
		"to=2026-03-11T00:00:00Z handled_min=5 fcr_min=0.75 "
		"aht_max=300 csat_min=4.20",
		NULL,
	};
	static const char *const without[] = {
		"c1 OK handled=1 fcr=1.00 aht=\"\" sla_met=1.00 csat=\"\" "
		"escalated=0.00 reopened=0.00 empowered=1.00 goodwill=0.00 "
		"respond_met=0.00 from=2026-03-10T00:00:00Z "
		"to=2026-03-11T00:00:00Z handoffs=3 handoffs_on_time=0.67 "
		"handoff_rating=\"\" newfigure_x=7",
		NULL,
	};
	struct answer a;
	struct sbuf out = {0};
	char buf[40];

	/* Each figure beside its target, and whether it is met: at least
	 * (min) or at most (max); nothing to measure: no verdict. */
	answer_parse(&a, with_targets);
	render_stats(&out, &a.final, &plain);
	expect_text("stats with targets", &out,
		    "FIGURE                    VALUE  TARGET         STATUS\n"
		    "complaints handled            4  at least 5     below target\n"
		    "first-contact resolution   0.75  at least 0.75  on target\n"
		    "average handle time (s)     435  at most 300    above target\n"
		    "resolved in time           0.50  -              -\n"
		    "customer satisfaction         -  at least 4.20  -\n"
		    "escalated                  0.25  -              -\n"
		    "reopened                   0.00  -              -\n"
		    "within own authority       0.75  -              -\n"
		    "goodwill granted          60.00  -              -\n"
		    "replied in time            1.00  -              -\n"
		    "period: 2026-03-10T00:00:00Z to 2026-03-11T00:00:00Z "
		    "(to excluded)\n");
	answer_clear(&a);
	sbuf_reset(&out);
	/* Without targets: two columns; a department's fields and a field
	 * this client does not know are shown too. */
	answer_parse(&a, without);
	render_stats(&out, &a.final, &plain);
	expect_text("stats without targets", &out,
		    "FIGURE                    VALUE\n"
		    "complaints handled            1\n"
		    "first-contact resolution   1.00\n"
		    "average handle time (s)       -\n"
		    "resolved in time           1.00\n"
		    "customer satisfaction         -\n"
		    "escalated                  0.00\n"
		    "reopened                   0.00\n"
		    "within own authority       1.00\n"
		    "goodwill granted           0.00\n"
		    "replied in time            0.00\n"
		    "hand-offs received            3\n"
		    "hand-offs on time          0.67\n"
		    "hand-off rating               -\n"
		    "newfigure x                   7\n"
		    "period: 2026-03-10T00:00:00Z to 2026-03-11T00:00:00Z "
		    "(to excluded)\n");
	answer_clear(&a);
	sbuf_free(&out);
	assert_string_equal(render_figure_label("sla_met", buf, sizeof buf),
			    "resolved in time");
	assert_string_equal(render_figure_label("a_b_c", buf, sizeof buf),
			    "a b c");
}

static void test_report_shortcuts(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		enum shortcut_kind kind;
		const char *request;    /* STATS: the request */
	} stats_cases[] = {
		{"stats", SHORTCUT_STATS, "STATS"},
		{"stats agent=ann", SHORTCUT_STATS, "STATS agent=ann"},
		/* Dates are midnight UTC; times go as given. */
		{"stats team=red from=2026-03-10 to=2026-03-11",
		 SHORTCUT_STATS, "STATS team=red from=2026-03-10T00:00:00Z "
		 "to=2026-03-11T00:00:00Z"},
		{"stats from=2026-03-10T08:00:00+01:00", SHORTCUT_STATS,
		 "STATS from=2026-03-10T08:00:00+01:00"},
		{"stats queue=\"a b\"", SHORTCUT_STATS, "STATS queue=\"a b\""},
		{"stats agent", SHORTCUT_USAGE, NULL},
		{"stats agent=\"open", SHORTCUT_USAGE, NULL},
		{"STATS agent=ann", SHORTCUT_NONE, NULL},
		{"next", SHORTCUT_NONE, NULL},
		{"help", SHORTCUT_NONE, NULL},
	};
	for (size_t i = 0; i < sizeof stats_cases / sizeof stats_cases[0];
	     i++) {
		struct shortcut_result r;
		enum shortcut_kind kind =
			shortcut_expand_report(stats_cases[i].line, &r);

		if (kind != stats_cases[i].kind)
			fail_msg("\"%s\": kind %d, expected %d", stats_cases[i].line,
				 kind, stats_cases[i].kind);
		if (kind == SHORTCUT_STATS &&
		    strcmp(r.request.data, stats_cases[i].request) != 0)
			fail_msg("\"%s\":\n expected %s\n got      %s",
				 stats_cases[i].line, stats_cases[i].request,
				 r.request.data);
		if (kind == SHORTCUT_USAGE && r.message == NULL)
			fail_msg("\"%s\": usage without a message",
				 stats_cases[i].line);
		shortcut_result_free(&r);
	}

	static const struct {
		const char *line;
		enum shortcut_kind kind;
		const char *what, *from, *to, *file;
		size_t nargs;
	} export_cases[] = {
		{"export complaints 2026-03-10 2026-03-11 out.csv",
		 SHORTCUT_EXPORT, "complaints", "2026-03-10T00:00:00Z",
		 "2026-03-11T00:00:00Z", "out.csv", 0},
		{"export complaints 2026-03-10T08:00:00+01:00 2026-03-10T12:00:00Z "
		 "/tmp/x.csv state=closed queue=billing", SHORTCUT_EXPORT,
		 "complaints", "2026-03-10T07:00:00Z", "2026-03-10T12:00:00Z",
		 "/tmp/x.csv", 2},
		{"export stats 2026-03-01 2026-04-01 - agent=ann,bob by=day\r\n",
		 SHORTCUT_EXPORT, "stats", "2026-03-01T00:00:00Z",
		 "2026-04-01T00:00:00Z", "-", 2},
		{"export stats 2026-03-01 2026-04-01 f.csv dept=logistics",
		 SHORTCUT_EXPORT, "stats", "2026-03-01T00:00:00Z",
		 "2026-04-01T00:00:00Z", "f.csv", 1},
		{"export", SHORTCUT_USAGE, NULL, NULL, NULL, NULL, 0},
		{"export customers 2026-03-10 2026-03-11 f.csv", SHORTCUT_USAGE,
		 NULL, NULL, NULL, NULL, 0},
		{"export complaints 2026-03-11 2026-03-10 f.csv", SHORTCUT_USAGE,
		 NULL, NULL, NULL, NULL, 0},
		{"export complaints 2026-03-10 2026-03-10 f.csv", SHORTCUT_USAGE,
		 NULL, NULL, NULL, NULL, 0},
		{"export complaints yesterday today f.csv", SHORTCUT_USAGE,
		 NULL, NULL, NULL, NULL, 0},
		{"export complaints 2026-02-30 2026-03-10 f.csv", SHORTCUT_USAGE,
		 NULL, NULL, NULL, NULL, 0},
		{"export complaints 2026-03-10 2026-03-11", SHORTCUT_USAGE,
		 NULL, NULL, NULL, NULL, 0},
		{"export complaints 2026-03-10 2026-03-11 f.csv agent=ann",
		 SHORTCUT_USAGE, NULL, NULL, NULL, NULL, 0},
		{"export stats 2026-03-10 2026-03-11 f.csv state=new",
		 SHORTCUT_USAGE, NULL, NULL, NULL, NULL, 0},
		{"export stats 2026-03-10 2026-03-11 f.csv agent=a team=b",
		 SHORTCUT_USAGE, NULL, NULL, NULL, NULL, 0},
		{"export stats 2026-03-10 2026-03-11 f.csv by=week",
		 SHORTCUT_USAGE, NULL, NULL, NULL, NULL, 0},
		{"export stats 2026-03-10 2026-03-11 f.csv bare", SHORTCUT_USAGE,
		 NULL, NULL, NULL, NULL, 0},
	};
	for (size_t i = 0; i < sizeof export_cases / sizeof export_cases[0];
	     i++) {
		struct shortcut_result r;
		enum shortcut_kind kind =
			shortcut_expand_report(export_cases[i].line, &r);

		if (kind != export_cases[i].kind)
			fail_msg("\"%s\": kind %d, expected %d (%s)",
				 export_cases[i].line, kind, export_cases[i].kind,
				 r.message ? r.message : "");
		if (kind == SHORTCUT_EXPORT) {
			assert_string_equal(r.what, export_cases[i].what);
			assert_string_equal(r.from, export_cases[i].from);
			assert_string_equal(r.to, export_cases[i].to);
			assert_string_equal(r.file.data, export_cases[i].file);
			assert_int_equal(r.args.nargs, export_cases[i].nargs);
		}
		if (kind == SHORTCUT_USAGE && r.message == NULL)
			fail_msg("\"%s\": usage without a message",
				 export_cases[i].line);
		shortcut_result_free(&r);
	}

	/* At the prompt the same words are shortcuts. */
	struct shortcut_result r;
	assert_int_equal(shortcut_expand("stats agent=me", &r), SHORTCUT_STATS);
	assert_string_equal(r.request.data, "STATS agent=me");
	shortcut_result_free(&r);
	assert_int_equal(shortcut_expand("export stats 2026-03-10 2026-03-11 -",
					 &r), SHORTCUT_EXPORT);
	shortcut_result_free(&r);
	char t[32];
	assert_true(shortcut_time("2026-03-10", 10, t));
	assert_string_equal(t, "2026-03-10T00:00:00Z");
	assert_true(shortcut_time("2026-03-10T23:30:00-01:00xx", 25, t));
	assert_string_equal(t, "2026-03-11T00:30:00Z");
	assert_false(shortcut_time("2026-13-10", 10, t));
	assert_false(shortcut_time("", 0, t));
}

int main(void)
{
	/* Widths of non-ASCII characters need a UTF-8 locale. */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		setlocale(LC_CTYPE, "en_US.UTF-8");

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_alignment),
		cmocka_unit_test(test_table_union_and_width),
		cmocka_unit_test(test_table_utf8_and_control),
		cmocka_unit_test(test_table_truncation),
		cmocka_unit_test(test_table_color),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_pushes),
		cmocka_unit_test(test_shortcuts),
		cmocka_unit_test(test_shortcut_output_parses),
		cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_prepare_without_key),
		cmocka_unit_test(test_idem_hex),
		cmocka_unit_test(test_secret),
		cmocka_unit_test(test_verb_table),
		cmocka_unit_test(test_wants_idem),
		cmocka_unit_test(test_completion),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_csv_field),
		cmocka_unit_test(test_csv_record),
		cmocka_unit_test(test_csv_rows),
		cmocka_unit_test(test_render_stats),
		cmocka_unit_test(test_report_shortcuts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
