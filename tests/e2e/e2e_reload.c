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
	bool ok;

	E2E_POLL(ok, has_queue(c, queue) == want);
	return ok;
}

/* What the server logs once it has dealt with a SIGHUP (server/main.c),
 * whichever way it went. */
static bool reload_logged(size_t offset)
{
	bool done;

	E2E_POLL(done, e2e_log_has(offset, "configuration reloaded") ||
		       e2e_log_has(offset, "SIGHUP: configuration unchanged"));
	return done;
}

static int setup(void **state)
{
	(void)state;
	saved = e2e_slurp(getenv("CD_RULES"), 0, &saved_len);
	return saved == NULL ? -1 : 0;
}

/* Puts the harness's rules back, whatever the test did, and waits until
 * the server has reread them (the next test, or group, counts on them). */
static int teardown(void **state)
{
	if (saved != NULL) {
		FILE *f = fopen(getenv("CD_RULES"), "wb");
		size_t log_at = e2e_log_size();

		if (f != NULL) {
			fwrite(saved, 1, saved_len, f);
			fclose(f);
		}
		tsrv_signal(SIGHUP);
		if (!reload_logged(log_at))
			print_error("teardown: the server did not log the "
				    "reload of the restored rules\n");
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

	log = e2e_slurp(getenv("CD_LOG"), 0, &log_before);
	free(log);
	/* A valid change with a broken section after it: none of it applies. */
	write_file(rules, saved, saved_len,
		   "\n[queue never-q]\n[category broken]\nqueue = general\n");
	tsrv_signal(SIGHUP);
	/* Once the server has dealt with the signal (it says so in the
	 * log), the old rules must still be in force. */
	CHECK(reload_logged(log_before), "no reload (or refusal) in the "
	      "server log within %d ms of SIGHUP", e2e_wait_ms());
	CHECK(!has_queue(c, "never-q"),
	      "an invalid rules file was applied in part: never-q is listed");
	E2E_OK(c, "PING");
	E2E_OK(c, "CATEGORY LIST");
	/* The error is logged as FILE:LINE: message. */
	log = e2e_slurp(getenv("CD_LOG"), 0, &log_after);
	CHECK(log != NULL && log_after > log_before &&
		      strstr(log + log_before, "rules.conf:") != NULL,
	      "the invalid rules file was not reported as FILE:LINE in the log");
	free(log);
}

/* calldeskd --check on a copy of $CD_CONFIG with one line changed by the
 * sed expression: returns the exit status; *out gets what it printed
 * (malloc'd). */
static int check_copy(const char *name, const char *sed_expr, char **out)
{
	const char *dir = tc_env("CD_TMPDIR");
	const char *conf = e2e_fmt("%s/%s.conf", dir, name);
	const char *txt = e2e_fmt("%s/%s.out", dir, name);
	size_t len = 0;
	int st;

	CHECK(e2e_system("sed -e '%s' '%s' > '%s'", sed_expr,
			 tc_env("CD_CONFIG"), conf) == 0,
	      "cannot write %s", conf);
	st = e2e_system("'%s' -c '%s' --check > '%s' 2>&1",
			tc_env("CD_SERVER_BIN"), conf, txt);
	*out = e2e_slurp(txt, 0, &len);
	CHECK(*out != NULL, "cannot read %s", txt);
	return st;
}

/* --check (OPERATIONS.md) finds a time zone the tz database does not know
 * (which would break RULES, STATS and ADVISE); a good file passes. It
 * checks the configuration and the rules, not the files they name: a
 * missing certificate is found when the server starts. */
static void test_check_cli(void **state)
{
	char *out = NULL;
	int st;

	(void)state;
	st = check_copy("check-good", "s/^log = .*/log = stderr/", &out);
	CHECK(st == 0, "--check of the test configuration: exit %d:\n%s", st,
	      out);
	free(out);
	st = check_copy("check-tz", "s|^timezone = .*|timezone = Mars/Olympus|",
			&out);
	CHECK(st == 1 && strstr(out, "check-tz.conf:") != NULL &&
		      strstr(out, "timezone: 'Mars/Olympus' is not a time zone") !=
			      NULL,
	      "--check with timezone = Mars/Olympus: exit %d (want 1):\n%s", st,
	      out);
	free(out);
	st = check_copy("check-tls", "s|^tls_key = .*|tls_key = tls/missing.key|",
			&out);
	CHECK(st == 0, "--check with a tls_key that is not there: exit %d "
	      "(want 0: files are the server's start's business):\n%s", st,
	      out);
	free(out);
}

int e2e_group_reload(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sighup_applies_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sighup_invalid_changes_nothing,
						setup, teardown),
		cmocka_unit_test_teardown(test_check_cli, tc_teardown),
	};
	return cmocka_run_group_tests_name("reload", tests, NULL, NULL);
}
