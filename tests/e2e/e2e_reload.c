/* e2e_reload.c: the "reload" group: SIGHUP rereads the rules file
 * (OPERATIONS.md); an invalid file changes nothing, is logged as
 * FILE:LINE: message, and the server keeps serving. */
#include <signal.h>
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
#include "tserver.h"

static char *saved;          /* the rules file as the harness wrote it */
static size_t saved_len;

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

static void write_file(const char *path, const char *a, size_t alen,
		       const char *b)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(a, 1, alen, f), alen);
	if (b != NULL)
		assert_int_equal(fputs(b, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Whether QUEUE LIST names the queue. */
static bool has_queue(tc_conn *c, const char *queue)
{
	struct tc_resp *r = E2E_OK(c, "QUEUE LIST");
	for (size_t i = 0; i < r->nrows; i++) {
		const char *q = tc_row_get(r, i, "queue");
		if (q != NULL && strcmp(q, queue) == 0)
			return true;
	}
	return false;
}

static bool eventually_has_queue(tc_conn *c, const char *queue, bool want)
{
	int64_t end = e2e_mono_ms() + 5000;
	while (e2e_mono_ms() < end) {
		if (has_queue(c, queue) == want)
			return true;
		e2e_sleep_ms(100);
	}
	return false;
}

static int setup(void **state)
{
	(void)state;
	saved = read_file(getenv("CD_RULES"), &saved_len);
	return saved == NULL ? -1 : 0;
}

/* Puts the harness's rules back, whatever the test did. */
static int teardown(void **state)
{
	if (saved != NULL) {
		FILE *f = fopen(getenv("CD_RULES"), "wb");
		if (f != NULL) {
			fwrite(saved, 1, saved_len, f);
			fclose(f);
		}
		tsrv_signal(SIGHUP);
		e2e_sleep_ms(300);
	}
	free(saved);
	saved = NULL;
	tc_teardown(state);
	return 0;
}

static void test_sighup_applies_rules(void **state)
{
	const char *rules = getenv("CD_RULES");
	tc_conn *c = tc_session("agent1");
	(void)state;

	CHECK(!has_queue(c, "sighup-q"), "queue sighup-q exists before the reload");
	write_file(rules, saved, saved_len, "\n[queue sighup-q]\n");
	tsrv_signal(SIGHUP);
	CHECK(eventually_has_queue(c, "sighup-q", true),
	      "after SIGHUP, QUEUE LIST did not show the new queue sighup-q");
	/* The connection made before the reload keeps working. */
	E2E_OK(c, "PING");
}

static void test_sighup_invalid_changes_nothing(void **state)
{
	const char *rules = getenv("CD_RULES");
	tc_conn *c = tc_session("agent1");
	size_t log_before = 0, log_after = 0;
	char *log;
	(void)state;

	log = read_file(getenv("CD_LOG"), &log_before);
	free(log);
	/* A valid change with a broken section after it: none of it applies. */
	write_file(rules, saved, saved_len,
		   "\n[queue never-q]\n[category broken]\nqueue = general\n");
	tsrv_signal(SIGHUP);
	e2e_sleep_ms(1000);
	CHECK(!has_queue(c, "never-q"),
	      "an invalid rules file was applied in part: never-q is listed");
	E2E_OK(c, "PING");
	E2E_OK(c, "CATEGORY LIST");
	/* The error is logged as FILE:LINE: message. */
	log = read_file(getenv("CD_LOG"), &log_after);
	CHECK(log != NULL && log_after > log_before &&
		      strstr(log + log_before, "rules.conf:") != NULL,
	      "the invalid rules file was not reported as FILE:LINE in the log");
	free(log);
}

int e2e_group_reload(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sighup_applies_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sighup_invalid_changes_nothing,
						setup, teardown),
	};
	return cmocka_run_group_tests_name("reload", tests, NULL, NULL);
}
