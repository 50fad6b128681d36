/* test_throttle.c: login throttling per pair and per address, lock length
 * doubling, window expiry, and that a user cannot be locked out from
 * another address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "throttle.h"

#define MAX 5

static void fail_n(struct throttle *t, const char *u, const char *a, int n, time_t now)
{
	for (int i = 0; i < n; i++)
		throttle_failure(t, u, a, MAX, now);
}

static void test_pair_lock(void **state)
{
	(void)state;
	struct throttle *t = throttle_new();
	time_t now = 1000000;
	fail_n(t, "alice", "10.0.0.1", MAX - 1, now);
	assert_int_equal(throttle_locked(t, "alice", "10.0.0.1", now), 0);
	throttle_failure(t, "alice", "10.0.0.1", MAX, now);
	assert_int_equal(throttle_locked(t, "alice", "10.0.0.1", now), 60);
	assert_int_equal(throttle_locked(t, "alice", "10.0.0.1", now + 59), 1);
	assert_int_equal(throttle_locked(t, "alice", "10.0.0.1", now + 60), 0);
	/* never per user alone: alice from elsewhere is not locked */
	assert_int_equal(throttle_locked(t, "alice", "10.0.0.2", now), 0);
	throttle_free(&t);
	assert_null(t);
}

static void test_doubling(void **state)
{
	(void)state;
	struct throttle *t = throttle_new();
	time_t now = 1000000;
	fail_n(t, "bob", "a", MAX, now);
	assert_int_equal(throttle_locked(t, "bob", "a", now), 60);
	now += 61;
	fail_n(t, "bob", "a", MAX, now);
	assert_int_equal(throttle_locked(t, "bob", "a", now), 120);
	now += 121;
	fail_n(t, "bob", "a", MAX, now);
	assert_int_equal(throttle_locked(t, "bob", "a", now), 240);
	throttle_free(&t);
}

static void test_window(void **state)
{
	(void)state;
	struct throttle *t = throttle_new();
	time_t now = 1000000;
	fail_n(t, "carol", "a", MAX - 1, now);
	/* 15 minutes later the count starts again */
	now += 15 * 60 + 1;
	fail_n(t, "carol", "a", MAX - 1, now);
	assert_int_equal(throttle_locked(t, "carol", "a", now), 0);
	throttle_failure(t, "carol", "a", MAX, now);
	assert_int_not_equal(throttle_locked(t, "carol", "a", now), 0);
	throttle_free(&t);
}

static void test_address(void **state)
{
	(void)state;
	struct throttle *t = throttle_new();
	time_t now = 1000000;
	char user[16];
	/* four times the pair limit from one address, spread over users */
	for (int i = 0; i < 4 * MAX - 1; i++) {
		snprintf(user, sizeof user, "u%d", i);
		throttle_failure(t, user, "9.9.9.9", MAX, now);
	}
	assert_int_equal(throttle_locked(t, "fresh", "9.9.9.9", now), 0);
	throttle_failure(t, "last", "9.9.9.9", MAX, now);
	assert_int_equal(throttle_locked(t, "fresh", "9.9.9.9", now), 60);
	assert_int_equal(throttle_locked(t, "fresh", "9.9.9.8", now), 0);
	throttle_free(&t);
}

static void test_success_resets(void **state)
{
	(void)state;
	struct throttle *t = throttle_new();
	time_t now = 1000000;
	fail_n(t, "dan", "a", MAX - 1, now);
	throttle_success(t, "dan", "a");
	fail_n(t, "dan", "a", MAX - 1, now);
	assert_int_equal(throttle_locked(t, "dan", "a", now), 0);
	throttle_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_lock),
		cmocka_unit_test(test_doubling),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_success_resets),
	};
	return cmocka_run_group_tests_name("throttle", tests, NULL, NULL);
}
