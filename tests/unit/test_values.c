/* test_values.c: unit tests of values.c (value forms, PROTOCOL.md §3).
 * Table-driven: every row runs, each mismatch is printed with what was
 * expected and what came, then the test fails with the count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "values.h"

#define L(s) s, sizeof(s) - 1
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define N32 "abcdefghijklmnopqrstuvwxyz012345"
#define K64 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.:"

static const char *verdict(bool b)
{
	return b ? "accepted" : "refused";
}

static void end_table(int failures, const char *what)
{
	if (failures != 0)
		fail_msg("%d %s cases failed", failures, what);
}

/* ---- ids ---------------------------------------------------------------- */

static void test_id(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		int64_t v;
	} cases[] = {
		{ "1", true, 1 },
		{ "42", true, 42 },
		{ "9223372036854775807", true, INT64_MAX },
		{ "9223372036854775808", false, 0 },
		{ "9223372036854775810", false, 0 },
		{ "18446744073709551616", false, 0 },
		{ "99999999999999999999999", false, 0 },
		{ "0", false, 0 },
		{ "00", false, 0 },
		{ "01", false, 0 },
		{ "-1", false, 0 },
		{ "+1", false, 0 },
		{ "", false, 0 },
		{ " 1", false, 0 },
		{ "1 ", false, 0 },
		{ "1a", false, 0 },
		{ "0x10", false, 0 },
		{ "1.0", false, 0 },
		{ NULL, false, 0 },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		int64_t v = -7;
		bool ok = val_id(cases[i].s, &v);

		if (ok != cases[i].ok || (ok && v != cases[i].v)) {
			print_error("id \"%s\": expected %s %" PRId64 ", got %s %" PRId64 "\n",
				    cases[i].s ? cases[i].s : "(null)",
				    verdict(cases[i].ok), cases[i].v, verdict(ok), v);
			failures++;
		}
	}
	end_table(failures, "id");
}

/* ---- names and lists ---------------------------------------------------- */

static void test_name(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "a", true }, { "me", true }, { "0abc", true },
		{ "a.b_c-d", true }, { "billing2", true }, { N32, true },
		{ N32 "6", false }, { "", false }, { "A", false },
		{ "aB", false }, { "-a", false }, { ".a", false },
		{ "_a", false }, { "a b", false }, { "a/b", false },
		{ "a,b", false }, { "caf\xc3\xa9", false }, { NULL, false },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		bool ok = val_name(cases[i].s);

		if (ok != cases[i].ok) {
			print_error("name \"%s\": expected %s, got %s\n",
				    cases[i].s ? cases[i].s : "(null)",
				    verdict(cases[i].ok), verdict(ok));
			failures++;
		}
	}
	end_table(failures, "name");
}

static void test_name_list(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		size_t count;
	} cases[] = {
		{ "", true, 0 },
		{ "billing", true, 1 },
		{ "billing,tech", true, 2 },
		{ "a,a", true, 2 },
		{ "a,b.c,d-e,f_g,0", true, 5 },
		{ N32 "," N32, true, 2 },
		{ N32 "6,a", false, 0 },
		{ "a,", false, 0 },
		{ ",a", false, 0 },
		{ ",", false, 0 },
		{ "a,,b", false, 0 },
		{ "a, b", false, 0 },
		{ "a ,b", false, 0 },
		{ "A,b", false, 0 },
		{ "a;b", false, 0 },
		{ NULL, false, 0 },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		size_t count = 99;
		bool ok = val_name_list(cases[i].s, &count);

		if (ok != cases[i].ok || (ok && count != cases[i].count)) {
			print_error("list \"%s\": expected %s %zu, got %s %zu\n",
				    cases[i].s ? cases[i].s : "(null)",
				    verdict(cases[i].ok), cases[i].count, verdict(ok), count);
			failures++;
		}
	}
	end_table(failures, "list");
}

/* ---- integers, booleans, idem keys -------------------------------------- */

static void test_int(void **state)
{
	static const struct {
		const char *s;
		long long min, max;
		bool ok;
		long long v;
	} cases[] = {
		{ "0", -10, 10, true, 0 },
		{ "5", -10, 10, true, 5 },
		{ "-5", -10, 10, true, -5 },
		{ "10", -10, 10, true, 10 },
		{ "-10", -10, 10, true, -10 },
		{ "11", -10, 10, false, 0 },
		{ "-11", -10, 10, false, 0 },
		{ "007", 0, 10, true, 7 },
		{ "1", 2, 4, false, 0 },
		{ "+5", -10, 10, false, 0 },
		{ " 5", -10, 10, false, 0 },
		{ "5 ", -10, 10, false, 0 },
		{ "5x", -10, 10, false, 0 },
		{ "", -10, 10, false, 0 },
		{ "-", -10, 10, false, 0 },
		{ "--5", -10, 10, false, 0 },
		{ "- 5", -10, 10, false, 0 },
		{ "9223372036854775807", LLONG_MIN, LLONG_MAX, true, LLONG_MAX },
		{ "-9223372036854775808", LLONG_MIN, LLONG_MAX, true, LLONG_MIN },
		{ "9223372036854775808", LLONG_MIN, LLONG_MAX, false, 0 },
		{ "-9223372036854775809", LLONG_MIN, LLONG_MAX, false, 0 },
		{ NULL, 0, 10, false, 0 },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		long long v = 12345;
		bool ok = val_int(cases[i].s, cases[i].min, cases[i].max, &v);

		if (ok != cases[i].ok || (ok && v != cases[i].v)) {
			print_error("int \"%s\" in [%lld, %lld]: expected %s %lld, got %s %lld\n",
				    cases[i].s ? cases[i].s : "(null)",
				    cases[i].min, cases[i].max, verdict(cases[i].ok),
				    cases[i].v, verdict(ok), v);
			failures++;
		}
	}
	end_table(failures, "int");
}

static void test_bool(void **state)
{
	static const struct {
		const char *s;
		bool ok, v;
	} cases[] = {
		{ "yes", true, true }, { "no", true, false },
		{ "Yes", false, false }, { "NO", false, false },
		{ "true", false, false }, { "1", false, false },
		{ "", false, false }, { "yes ", false, false },
		{ "y", false, false }, { NULL, false, false },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		bool v = !cases[i].v;
		bool ok = val_bool(cases[i].s, &v);

		if (ok != cases[i].ok || (ok && v != cases[i].v)) {
			print_error("bool \"%s\": expected %s %d, got %s %d\n",
				    cases[i].s ? cases[i].s : "(null)",
				    verdict(cases[i].ok), cases[i].v, verdict(ok), v);
			failures++;
		}
	}
	end_table(failures, "bool");
}

static void test_idem_key(void **state)
{
	static const struct {
		const char *s;
		bool ok;
	} cases[] = {
		{ "a", true }, { "A-z_0.9:x", true }, { K64, true },
		{ "550e8400-e29b-41d4-a716-446655440000", true },
		{ K64 "x", false }, { "", false }, { "a b", false },
		{ "a/b", false }, { "a=b", false }, { "a,b", false },
		{ "caf\xc3\xa9", false }, { "a\tb", false }, { NULL, false },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		bool ok = val_idem_key(cases[i].s);

		if (ok != cases[i].ok) {
			print_error("idem key \"%s\": expected %s, got %s\n",
				    cases[i].s ? cases[i].s : "(null)",
				    verdict(cases[i].ok), verdict(ok));
			failures++;
		}
	}
	end_table(failures, "idem key");
}

/* ---- currencies and money ----------------------------------------------- */

static void test_currency_digits(void **state)
{
	static const struct {
		const char *iso;
		int digits;
	} cases[] = {
		{ "EUR", 2 }, { "USD", 2 }, { "GBP", 2 }, { "CHF", 2 },
		{ "JPY", 0 }, { "KRW", 0 }, { "ISK", 0 },
		{ "KWD", 3 }, { "BHD", 3 }, { "TND", 3 },
		{ "CLF", 4 },
		{ "XXX", -1 }, { "eur", -1 }, { "Eur", -1 }, { "", -1 },
		{ "EU", -1 }, { "EURO", -1 }, { NULL, -1 },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		int got = val_currency_digits(cases[i].iso);

		if (got != cases[i].digits) {
			print_error("currency \"%s\": expected %d digits, got %d\n",
				    cases[i].iso ? cases[i].iso : "(null)",
				    cases[i].digits, got);
			failures++;
		}
	}
	end_table(failures, "currency");
}

static void test_money_parse(void **state)
{
	static const struct {
		const char *s;
		int digits;
		bool ok;
		int64_t minor;
	} cases[] = {
		{ "25.5", 2, true, 2550 },
		{ "25.50", 2, true, 2550 },
		{ "25", 2, true, 2500 },
		{ "0", 2, true, 0 },
		{ "0.01", 2, true, 1 },
		{ "0.1", 2, true, 10 },
		{ "007.50", 2, true, 750 },
		{ "12345678", 2, true, 1234567800 },
		{ "99999999.99", 2, true, 9999999999 },
		{ "25.505", 2, false, 0 },
		{ "123456789", 2, false, 0 },
		{ "1.", 2, false, 0 },
		{ ".5", 2, false, 0 },
		{ "-1", 2, false, 0 },
		{ "+1", 2, false, 0 },
		{ "1,5", 2, false, 0 },
		{ "1.2.3", 2, false, 0 },
		{ "1e2", 2, false, 0 },
		{ "", 2, false, 0 },
		{ ".", 2, false, 0 },
		{ " 1", 2, false, 0 },
		{ "1 ", 2, false, 0 },
		{ "1.5 ", 2, false, 0 },
		{ "100", 0, true, 100 },
		{ "99999999", 0, true, 99999999 },
		{ "100.5", 0, false, 0 },
		{ "100.", 0, false, 0 },
		{ "1.234", 3, true, 1234 },
		{ "1.5", 3, true, 1500 },
		{ "1.05", 3, true, 1050 },
		{ "1.2345", 3, false, 0 },
		{ "0.0001", 4, true, 1 },
		{ "99999999.9999", 4, true, 999999999999 },
		{ "1", 5, false, 0 },
		{ "1", -1, false, 0 },
		{ NULL, 2, false, 0 },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		int64_t minor = -7;
		bool ok = val_money_parse(cases[i].s, cases[i].digits, &minor);

		if (ok != cases[i].ok || (ok && minor != cases[i].minor)) {
			print_error("money \"%s\" with %d digits: expected %s %" PRId64 ", got %s %" PRId64 "\n",
				    cases[i].s ? cases[i].s : "(null)",
				    cases[i].digits, verdict(cases[i].ok),
				    cases[i].minor, verdict(ok), minor);
			failures++;
		}
	}
	end_table(failures, "money parse");
}

static void test_money_format(void **state)
{
	static const struct {
		int64_t minor;
		int digits;
		const char *out;
	} cases[] = {
		{ 2550, 2, "25.50" },
		{ 0, 2, "0.00" },
		{ 1, 2, "0.01" },
		{ 10, 2, "0.10" },
		{ -1, 2, "-0.01" },
		{ -2550, 2, "-25.50" },
		{ 9999999999, 2, "99999999.99" },
		{ 100, 0, "100" },
		{ -100, 0, "-100" },
		{ 0, 0, "0" },
		{ 1234, 3, "1.234" },
		{ 5, 3, "0.005" },
		{ 1, 4, "0.0001" },
		{ INT64_MAX, 2, "92233720368547758.07" },
		{ INT64_MIN, 2, "-92233720368547758.08" },
		{ INT64_MIN, 0, "-9223372036854775808" },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		char out[32];

		memset(out, 'X', sizeof(out));
		val_money_format(cases[i].minor, cases[i].digits, out);
		if (strcmp(out, cases[i].out) != 0) {
			print_error("money %" PRId64 " with %d digits: expected \"%s\", got \"%s\"\n",
				    cases[i].minor, cases[i].digits,
				    cases[i].out, out);
			failures++;
		}
	}
	end_table(failures, "money format");
}

/* What the server answers is what it would read back: "25.5" -> 2550
 * -> "25.50" -> 2550, for every digit count. */
static void test_money_round_trip(void **state)
{
	static const int64_t amounts[] = {
		0, 1, 9, 10, 99, 100, 101, 2550, 123456, 999999999999,
	};
	int failures = 0;

	(void)state;
	for (int digits = 0; digits <= 4; digits++) {
		for (size_t i = 0; i < NELEMS(amounts); i++) {
			int64_t back = -1;
			char out[32];

			val_money_format(amounts[i], digits, out);
			/* Larger than 8 integer digits is not money input. */
			if (strchr(out, '.') ? strchr(out, '.') - out > 8
					     : strlen(out) > 8)
				continue;
			if (!val_money_parse(out, digits, &back) ||
			    back != amounts[i]) {
				print_error("money %" PRId64 " (%d digits) -> \"%s\" -> %" PRId64 "\n",
					    amounts[i], digits, out, back);
				failures++;
			}
		}
	}
	end_table(failures, "money round trip");
}

/* ---- times -------------------------------------------------------------- */

static void test_time_parse(void **state)
{
	static const struct {
		const char *s;
		bool ok;
		int64_t epoch;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", true, 0 },
		{ "1969-12-31T23:59:59Z", true, -1 },
		{ "2026-11-22T09:30:00Z", true, 1795339800 },
		{ "2026-11-22T10:30:00+01:00", true, 1795339800 },
		{ "2026-11-22T04:00:00-05:30", true, 1795339800 },
		{ "2026-11-22T09:30:00+00:00", true, 1795339800 },
		{ "2026-11-22T09:30:00-00:00", true, 1795339800 },
		{ "2026-11-22T10:30:00.25+01:00", true, 1795339800 },
		{ "2026-11-22T09:30:00.999999999Z", true, 1795339800 },
		{ "2026-11-22T09:30:00.0Z", true, 1795339800 },
		{ "2026-11-22t09:30:00z", true, 1795339800 },
		{ "2026-11-22T00:30:00+01:00", true, 1795303800 },
		{ "2026-11-21T23:30:00+23:59", true, 1795303800 - 23 * 3600 - 59 * 60 },
		{ "2024-02-29T00:00:00Z", true, 1709164800 },
		{ "2000-02-29T12:00:00Z", true, 951825600 },
		{ "2000-03-01T00:00:00Z", true, 951868800 },
		{ "1900-03-01T00:00:00Z", true, -2203891200 },
		{ "9999-12-31T23:59:59Z", true, 253402300799 },
		/* in range as written, out of the years 0000-9999 in UTC */
		{ "9999-12-31T23:59:59-23:59", false, 0 },
		{ "0000-01-01T00:00:00+00:01", false, 0 },
		{ "0001-01-01T00:00:00Z", true, -62135596800 },
		{ "0000-01-01T00:00:00Z", true, -62167219200 },
		{ "2023-02-29T00:00:00Z", false, 0 },
		{ "1900-02-29T00:00:00Z", false, 0 },
		{ "2026-13-01T00:00:00Z", false, 0 },
		{ "2026-00-01T00:00:00Z", false, 0 },
		{ "2026-04-31T00:00:00Z", false, 0 },
		{ "2026-01-32T00:00:00Z", false, 0 },
		{ "2026-01-00T00:00:00Z", false, 0 },
		{ "2026-01-01T24:00:00Z", false, 0 },
		{ "2026-01-01T23:60:00Z", false, 0 },
		{ "2026-01-01T23:59:60Z", false, 0 },
		{ "2026-11-22T09:30:00", false, 0 },
		{ "2026-11-22 09:30:00Z", false, 0 },
		{ "2026-11-22T09:30Z", false, 0 },
		{ "2026-11-22T9:30:00Z", false, 0 },
		{ "2026-11-22T09:30:00.Z", false, 0 },
		{ "2026-11-22T09:30:00,5Z", false, 0 },
		{ "2026-11-22T09:30:00+0100", false, 0 },
		{ "2026-11-22T09:30:00+01", false, 0 },
		{ "2026-11-22T09:30:00+24:00", false, 0 },
		{ "2026-11-22T09:30:00+01:60", false, 0 },
		{ "2026-11-22T09:30:00+01:00Z", false, 0 },
		{ "2026-11-22T09:30:00ZZ", false, 0 },
		{ "2026-11-22T09:30:00Z ", false, 0 },
		{ " 2026-11-22T09:30:00Z", false, 0 },
		{ "2026-11-22", false, 0 },
		{ "26-11-22T09:30:00Z", false, 0 },
		{ "+2026-11-22T09:30:00Z", false, 0 },
		{ "2026-1-22T09:30:00Z", false, 0 },
		{ "", false, 0 },
		{ NULL, false, 0 },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		int64_t epoch = 123;
		bool ok = val_time_parse(cases[i].s, &epoch);

		if (ok != cases[i].ok || (ok && epoch != cases[i].epoch)) {
			print_error("time \"%s\": expected %s %" PRId64 ", got %s %" PRId64 "\n",
				    cases[i].s ? cases[i].s : "(null)",
				    verdict(cases[i].ok), cases[i].epoch, verdict(ok), epoch);
			failures++;
		}
	}
	end_table(failures, "time parse");
}

static void test_time_format(void **state)
{
	static const struct {
		int64_t epoch;
		const char *out;
	} cases[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ -1, "1969-12-31T23:59:59Z" },
		{ -86400, "1969-12-31T00:00:00Z" },
		{ 1795339800, "2026-11-22T09:30:00Z" },
		{ 1709164800, "2024-02-29T00:00:00Z" },
		{ 951868800, "2000-03-01T00:00:00Z" },
		{ -2203891200, "1900-03-01T00:00:00Z" },
		{ 253402300799, "9999-12-31T23:59:59Z" },
		{ -62167219200, "0000-01-01T00:00:00Z" },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		char out[32];

		val_time_format(cases[i].epoch, out);
		if (strcmp(out, cases[i].out) != 0) {
			print_error("time %" PRId64 ": expected \"%s\", got \"%s\"\n",
				    cases[i].epoch, cases[i].out, out);
			failures++;
		}
	}
	end_table(failures, "time format");
}

/* An independent oracle: the C library's gmtime_r, over 1901..2100 in
 * steps that hit every day of the year and every time of day; and parse
 * must invert format. */
static void test_time_against_gmtime(void **state)
{
	int failures = 0;

	(void)state;
	for (int64_t t = -2147483648LL; t < 4102444800LL && failures < 10;
	     t += 86400 + 3607) {
		time_t tt = (time_t)t;
		struct tm tm;
		char want[32], got[32];
		int64_t back = 0;

		assert_non_null(gmtime_r(&tt, &tm));
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		val_time_format(t, got);
		if (strcmp(want, got) != 0) {
			print_error("time %" PRId64 ": gmtime says \"%s\", got \"%s\"\n",
				    t, want, got);
			failures++;
		}
		if (!val_time_parse(got, &back) || back != t) {
			print_error("time \"%s\": expected %" PRId64 " back, got %" PRId64 "\n",
				    got, t, back);
			failures++;
		}
	}
	end_table(failures, "gmtime");
}

/* ---- UTF-8 -------------------------------------------------------------- */

static void test_utf8(void **state)
{
	static const struct {
		const char *what;
		const char *s;
		size_t len;
		bool ok;
	} cases[] = {
		{ "empty", L(""), true },
		{ "ASCII", L("hello, world"), true },
		{ "U+00E9", L("\xc3\xa9"), true },
		{ "U+0080 (smallest 2-byte)", L("\xc2\x80"), true },
		{ "U+07FF", L("\xdf\xbf"), true },
		{ "U+0800 (smallest 3-byte)", L("\xe0\xa0\x80"), true },
		{ "U+20AC", L("\xe2\x82\xac"), true },
		{ "U+D7FF", L("\xed\x9f\xbf"), true },
		{ "U+E000", L("\xee\x80\x80"), true },
		{ "U+FFFF", L("\xef\xbf\xbf"), true },
		{ "U+10000 (smallest 4-byte)", L("\xf0\x90\x80\x80"), true },
		{ "U+1D11E", L("\xf0\x9d\x84\x9e"), true },
		{ "U+10FFFF", L("\xf4\x8f\xbf\xbf"), true },
		{ "NUL is valid UTF-8", L("a\0b"), true },
		{ "overlong NUL", L("\xc0\x80"), false },
		{ "overlong '/' 2 bytes", L("\xc0\xaf"), false },
		{ "overlong 0xc1", L("\xc1\xbf"), false },
		{ "overlong 3 bytes", L("\xe0\x80\xaf"), false },
		{ "overlong U+07FF in 3 bytes", L("\xe0\x9f\xbf"), false },
		{ "overlong 4 bytes", L("\xf0\x80\x80\xaf"), false },
		{ "overlong U+FFFF in 4 bytes", L("\xf0\x8f\xbf\xbf"), false },
		{ "surrogate U+D800", L("\xed\xa0\x80"), false },
		{ "surrogate U+DBFF", L("\xed\xaf\xbf"), false },
		{ "surrogate U+DC00", L("\xed\xb0\x80"), false },
		{ "surrogate U+DFFF", L("\xed\xbf\xbf"), false },
		{ "U+110000", L("\xf4\x90\x80\x80"), false },
		{ "lead 0xf5", L("\xf5\x80\x80\x80"), false },
		{ "lead 0xf8 (5 bytes)", L("\xf8\x88\x80\x80\x80"), false },
		{ "0xfe", L("\xfe"), false },
		{ "0xff", L("\xff"), false },
		{ "truncated 2-byte", L("\xc3"), false },
		{ "truncated 3-byte", L("\xe2\x82"), false },
		{ "truncated 4-byte", L("\xf0\x9d\x84"), false },
		{ "truncated then ASCII", L("\xe2\x82" "a"), false },
		{ "lone continuation", L("\x80"), false },
		{ "continuation after ASCII", L("a\xbf"), false },
		{ "bad continuation", L("\xc3\x28"), false },
		{ "extra continuation", L("\xc3\xa9\xa9"), false },
	};
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < NELEMS(cases); i++) {
		bool ok = val_utf8(cases[i].s, cases[i].len);

		if (ok != cases[i].ok) {
			print_error("utf8 %s: expected %s, got %s\n",
				    cases[i].what, verdict(cases[i].ok), verdict(ok));
			failures++;
		}
	}
	/* The length, not a NUL, bounds the check. */
	if (!val_utf8("ab\xff", 2))
		fail_msg("expected the first 2 bytes of \"ab\\xff\" to be valid");
	if (val_utf8("\xe2\x82\xac", 2))
		fail_msg("expected a sequence cut by the length to be invalid");
	end_table(failures, "utf8");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_name_list),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_idem_key),
		cmocka_unit_test(test_currency_digits),
		cmocka_unit_test(test_money_parse),
		cmocka_unit_test(test_money_format),
		cmocka_unit_test(test_money_round_trip),
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_against_gmtime),
		cmocka_unit_test(test_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
