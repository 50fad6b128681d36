/* test_fsm.c: the complaint state machine table against PROTOCOL §8,
 * move by move and state by state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fsm.h"

/* One row per move: the states it may start from (space-separated) and
 * the resulting state ("same" when unchanged), and whether it needs the
 * assignee or a supervisor. */
struct move_case {
	enum cmove move;
	const char *name;
	const char *from;
	const char *to;
	bool owner;
};

static const struct move_case cases[] = {
	{ MV_TAKE, "take", "new reopened", "assigned", false },
	{ MV_ASSIGN, "assign", "new reopened assigned waiting escalated", "assign", false },
	{ MV_WAIT, "wait", "assigned", "waiting", true },
	{ MV_RESUME, "resume", "waiting", "assigned", true },
	{ MV_RESOLVE, "resolve", "assigned", "resolved", true },
	{ MV_ESCALATE, "escalate", "assigned", "escalated", true },
	{ MV_APPROVE_ACTION, "approve", "escalated", "resolved", false },
	{ MV_RETURN, "return", "escalated", "assigned", false },
	{ MV_CLOSE, "close", "resolved", "closed", true },
	{ MV_REOPEN, "reopen", "resolved closed", "reopened", false },
	{ MV_NOTE, "note", "new assigned waiting escalated resolved closed reopened", "same", false },
};

static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
		bool start = p == list || p[-1] == ' ';
		bool end = p[n] == '\0' || p[n] == ' ';
		if (start && end)
			return true;
	}
	return false;
}

static void test_moves(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct move_case *c = &cases[i];
		for (int s = 0; s < CS_COUNT; s++) {
			const char *sn = fsm_state_name((enum cstate)s);
			bool want = in_list(c->from, sn);
			bool got = fsm_allowed(c->move, (enum cstate)s);
			if (want != got) {
				print_error("%s from %s: expected %s, got %s\n", c->name, sn,
					    want ? "allowed" : "refused", got ? "allowed" : "refused");
				failures++;
				continue;
			}
			if (!want)
				continue;
			const char *to = fsm_state_name(fsm_target(c->move, (enum cstate)s));
			const char *expect = c->to;
			if (strcmp(expect, "same") == 0)
				expect = sn;
			else if (strcmp(expect, "assign") == 0)
				expect = (s == CS_NEW || s == CS_REOPENED) ? "assigned" : sn;
			if (strcmp(expect, to) != 0) {
				print_error("%s from %s: expected %s, got %s\n", c->name, sn, expect, to);
				failures++;
			}
		}
		if (fsm_needs_owner(c->move) != c->owner) {
			print_error("%s: owner rule expected %d\n", c->name, c->owner);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

static void test_array_literal(void **state)
{
	char buf[128];
	(void)state;
	fsm_from_array(MV_TAKE, buf, sizeof buf);
	assert_string_equal(buf, "{new,reopened}");
	fsm_from_array(MV_CLOSE, buf, sizeof buf);
	assert_string_equal(buf, "{resolved}");
	fsm_from_array(MV_REOPEN, buf, sizeof buf);
	assert_string_equal(buf, "{resolved,closed}");
}

static void test_names(void **state)
{
	(void)state;
	for (int s = 0; s < CS_COUNT; s++)
		assert_int_equal(fsm_state_from_name(fsm_state_name((enum cstate)s)), s);
	assert_int_equal(fsm_state_from_name("open"), CS_COUNT);
	assert_int_equal(fsm_state_from_name(""), CS_COUNT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moves),
		cmocka_unit_test(test_array_literal),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("fsm", tests, NULL, NULL);
}
