/* fuzz_values.c: libFuzzer harness for server/values.c (see README.md).
 *
 * Every val_* function runs on the input as a NUL-terminated string (the
 * input is copied and terminated; an embedded NUL simply ends it), and its
 * answer is compared with a small independent reference written from the
 * comments in values.h. Round trips:
 *   - money: for every digits 0..4 that val_money_parse accepts s with,
 *     val_money_format(x) is the canonical spelling of s and parses back
 *     to the same x;
 *   - time: for every s val_time_parse accepts, val_time_format(epoch)
 *     is "YYYY-MM-DDTHH:MM:SSZ" and parses back to the same epoch; the
 *     epoch also agrees with timegm(), and the reference refuses a time
 *     that falls outside the years 0000-9999 once moved to UTC (it could
 *     not be written back);
 *   - the first 8 bytes read as an int64 are formatted as money and as a
 *     time, and parsed back when in the range the parser accepts.
 * FUZZ_VALUES_SKIP_TIME_RANGE=1 leaves out the one time finding (see
 * README.md) so the rest can be fuzzed against unfixed code.
 * val_utf8 runs on the raw bytes (NULs included) against a table-driven
 * reference decoder. */
#define _GNU_SOURCE /* timegm */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "values.h"

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr,                                      \
				"fuzz_values: property failed: %s\n  ",      \
				#cond);                                      \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			abort();                                             \
		}                                                            \
	} while (0)

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what the time format
 * can spell in four year digits. */
#define T_MIN INT64_C(-62167219200)
#define T_MAX INT64_C(253402300799)

/* FUZZ_VALUES_SKIP_TIME_RANGE=1: accept, as values.c does today, a time
 * that leaves 0000..9999 once in UTC, to keep fuzzing the rest once that
 * finding is known. */
static bool skip_time_range;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *e = getenv("FUZZ_VALUES_SKIP_TIME_RANGE");

	(void)argc;
	(void)argv;
	skip_time_range = e != NULL && *e != '\0' && *e != '0';
	return 0;
}

static bool dig(char c) { return c >= '0' && c <= '9'; }
static bool low(char c) { return c >= 'a' && c <= 'z'; }
static bool upp(char c) { return c >= 'A' && c <= 'Z'; }

static size_t ndig(const char *s)
{
	size_t n = 0;

	while (dig(s[n]))
		n++;
	return n;
}

/* ---- references --------------------------------------------------- */

static bool ref_id(const char *s, int64_t *out)
{
	size_t n = strlen(s);
	__int128 v = 0;

	if (n == 0 || s[0] == '0' || ndig(s) != n || n > 19)
		return false;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v > INT64_MAX)
		return false;
	*out = (int64_t)v;
	return true;
}

static bool ref_name_n(const char *s, size_t n)
{
	if (n < 1 || n > 32 || !(low(s[0]) || dig(s[0])))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(low(s[i]) || dig(s[i]) || s[i] == '.' || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

static bool ref_name_list(const char *s, size_t *count)
{
	size_t n = 0, start = 0, len = strlen(s);

	if (len == 0) {
		*count = 0;
		return true;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == ',') {
			if (!ref_name_n(s + start, i - start))
				return false;
			n++;
			start = i + 1;
		}
	}
	*count = n;
	return true;
}

static bool ref_int(const char *s, long long min, long long max,
		    long long *out)
{
	const char *d = s[0] == '-' ? s + 1 : s;
	size_t n = strlen(d);
	__int128 v = 0;

	if (n == 0 || ndig(d) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (d[i] - '0');
		if (v > (__int128)INT64_MAX + 1)
			return false;
	}
	if (s[0] == '-')
		v = -v;
	if (v < min || v > max)
		return false;
	*out = (long long)v;
	return true;
}

static bool ref_idem(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(low(s[i]) || upp(s[i]) || dig(s[i]) || s[i] == '.' ||
		      s[i] == '_' || s[i] == ':' || s[i] == '-'))
			return false;
	return true;
}

static int64_t pow10i(int n)
{
	int64_t p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

/* ^[0-9]{1,8}(\.[0-9]{1,digits})?$ */
static bool ref_money(const char *s, int digits, int64_t *minor)
{
	size_t ni = ndig(s), nf = 0;
	int64_t whole = 0, frac = 0;

	if (digits < 0 || digits > 4 || ni < 1 || ni > 8)
		return false;
	for (size_t i = 0; i < ni; i++)
		whole = whole * 10 + (s[i] - '0');
	if (s[ni] == '.') {
		nf = ndig(s + ni + 1);
		if (nf < 1 || nf > (size_t)digits)
			return false;
		for (size_t i = 0; i < nf; i++)
			frac = frac * 10 + (s[ni + 1 + i] - '0');
		if (s[ni + 1 + nf] != '\0')
			return false;
	} else if (s[ni] != '\0') {
		return false;
	}
	*minor = whole * pow10i(digits) + frac * pow10i(digits - (int)nf);
	return true;
}

static bool fixed(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!dig(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* RFC 3339 as values.h describes it; epoch through timegm(). */
static bool ref_time(const char *s, int64_t *epoch)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, dim;
	long off = 0;
	const char *p;
	struct tm tm;
	time_t t;

	if (strlen(s) < 20)
		return false;
	if (!fixed(s, 4, &y) || s[4] != '-' || !fixed(s + 5, 2, &mo) ||
	    s[7] != '-' || !fixed(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't') || !fixed(s + 11, 2, &h) ||
	    s[13] != ':' || !fixed(s + 14, 2, &mi) || s[16] != ':' ||
	    !fixed(s + 17, 2, &sec))
		return false;
	if (mo < 1 || mo > 12)
		return false;
	dim = mdays[mo - 1];
	if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	if (d < 1 || d > dim || h > 23 || mi > 59 || sec > 59)
		return false;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!dig(*p))
			return false;
		p += ndig(p);
	}
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
		off = 0;
	} else if ((p[0] == '+' || p[0] == '-') && fixed(p + 1, 2, &oh) &&
		   p[3] == ':' && fixed(p + 4, 2, &om) && p[6] == '\0' &&
		   oh <= 23 && om <= 59) {
		off = (oh * 3600L + om * 60L) * (p[0] == '-' ? -1 : 1);
	} else {
		return false;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* A time that is outside 0000..9999 once in UTC cannot be written
	 * back in RFC 3339: a parser that takes it breaks the round trip. */
	if (!skip_time_range &&
	    ((int64_t)t - off < T_MIN || (int64_t)t - off > T_MAX))
		return false;
	*epoch = (int64_t)t - off;
	return true;
}

/* Well-formed UTF-8 per the Unicode standard, table 3-7. */
static bool ref_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t more;

		if (c <= 0x7f) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c == 0xe0) {
			more = 2, lo = 0xa0;
		} else if (c >= 0xe1 && c <= 0xec) {
			more = 2;
		} else if (c == 0xed) {
			more = 2, hi = 0x9f;
		} else if (c >= 0xee && c <= 0xef) {
			more = 2;
		} else if (c == 0xf0) {
			more = 3, lo = 0x90;
		} else if (c >= 0xf1 && c <= 0xf3) {
			more = 3;
		} else if (c == 0xf4) {
			more = 3, hi = 0x8f;
		} else {
			return false;
		}
		if (n - i <= more)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= more; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += more + 1;
	}
	return true;
}

/* ---- checks --------------------------------------------------------- */

static void check_money_roundtrip(int64_t x, int digits, const char *from)
{
	char buf[32], buf2[32];
	int64_t y = -1;

	val_money_format(x, digits, buf);
	CHECK(strlen(buf) < 32, "money format overflow");
	if (digits < 0 || digits > 4)
		return; /* clamped by the formatter, refused by the parser */
	if (x >= 0 && x < pow10i(8 + digits)) {
		CHECK(val_money_parse(buf, digits, &y) && y == x,
		      "money round trip: %" PRId64 " digits %d -> \"%s\" -> %"
		      PRId64 " (from \"%s\")", x, digits, buf, y, from);
		val_money_format(y, digits, buf2);
		CHECK(strcmp(buf, buf2) == 0, "money format not stable");
	} else {
		CHECK(!val_money_parse(buf, digits, &y),
		      "money \"%s\" (%" PRId64 ") accepted out of range", buf,
		      x);
	}
}

/* parsed: epoch came from val_time_parse, so it must format back to an
 * RFC 3339 time whatever its value. */
static void check_time_roundtrip(int64_t epoch, const char *from, bool parsed)
{
	char buf[32];
	int64_t back = 0;
	bool ok;

	val_time_format(epoch, buf);
	CHECK(strlen(buf) < 32, "time format overflow");
	if ((!parsed || skip_time_range) && (epoch < T_MIN || epoch > T_MAX))
		return;
	CHECK(strlen(buf) == 20 && buf[19] == 'Z', "time format \"%s\" (from \"%s\")",
	      buf, from);
	ok = val_time_parse(buf, &back);
	CHECK(ok && back == epoch,
	      "time round trip: \"%s\" -> %" PRId64 " -> \"%s\" -> %s %" PRId64,
	      from, epoch, buf, ok ? "ok" : "REFUSED", back);
}

static void fuzz_string(const char *s)
{
	int64_t i64 = 0, r64 = 0;
	long long ll = 0, rll = 0;
	size_t cnt = 0, rcnt = 0;
	bool b = false, ok, rok;
	int cd;

	ok = val_id(s, &i64);
	rok = ref_id(s, &r64);
	CHECK(ok == rok && (!ok || i64 == r64), "val_id(\"%s\") %d vs %d", s,
	      ok, rok);

	CHECK(val_name(s) == ref_name_n(s, strlen(s)), "val_name(\"%s\")", s);

	ok = val_name_list(s, &cnt);
	rok = ref_name_list(s, &rcnt);
	CHECK(ok == rok && (!ok || cnt == rcnt), "val_name_list(\"%s\")", s);

	static const long long bounds[][2] = {
		{INT64_MIN, INT64_MAX}, {0, 100}, {-1000, 1000}, {1, 9},
	};
	for (size_t k = 0; k < sizeof bounds / sizeof bounds[0]; k++) {
		ok = val_int(s, bounds[k][0], bounds[k][1], &ll);
		rok = ref_int(s, bounds[k][0], bounds[k][1], &rll);
		CHECK(ok == rok && (!ok || ll == rll),
		      "val_int(\"%s\", %lld, %lld) %d vs %d", s, bounds[k][0],
		      bounds[k][1], ok, rok);
	}

	ok = val_bool(s, &b);
	CHECK(ok == (strcmp(s, "yes") == 0 || strcmp(s, "no") == 0) &&
		      (!ok || b == (strcmp(s, "yes") == 0)),
	      "val_bool(\"%s\")", s);

	CHECK(val_idem_key(s) == ref_idem(s), "val_idem_key(\"%s\")", s);

	cd = val_currency_digits(s);
	CHECK(cd == -1 || cd == 0 || cd == 2 || cd == 3 || cd == 4,
	      "val_currency_digits(\"%s\") = %d", s, cd);
	if (cd >= 0)
		CHECK(strlen(s) == 3 && upp(s[0]) && upp(s[1]) && upp(s[2]),
		      "currency \"%s\"", s);

	for (int d = -1; d <= 5; d++) {
		int64_t m = -1, rm = -1;

		ok = val_money_parse(s, d, &m);
		rok = ref_money(s, d, &rm);
		CHECK(ok == rok && (!ok || m == rm),
		      "val_money_parse(\"%s\", %d) %d/%" PRId64 " vs %d/%" PRId64,
		      s, d, ok, m, rok, rm);
		if (ok) {
			char buf[32], want[40];
			size_t ni = ndig(s), z = 0, nf = 0;
			int w;

			/* The canonical spelling of s: no leading zeros, the
			 * decimals padded with zeros to d. */
			while (z + 1 < ni && s[z] == '0')
				z++;
			w = snprintf(want, sizeof want, "%.*s", (int)(ni - z),
				     s + z);
			if (d > 0) {
				const char *f = s[ni] == '.' ? s + ni + 1 : "";

				nf = ndig(f);
				w += snprintf(want + w, sizeof want - (size_t)w,
					      ".%.*s%.*s", (int)nf, f,
					      (int)(d - (int)nf), "0000");
			}
			val_money_format(m, d, buf);
			CHECK(strcmp(buf, want) == 0,
			      "money format(parse(\"%s\", %d)) = \"%s\", want \"%s\"",
			      s, d, buf, want);
			check_money_roundtrip(m, d, s);
		}
	}

	ok = val_time_parse(s, &i64);
	/* The round trip first: it says more than the comparison. */
	if (ok)
		check_time_roundtrip(i64, s, true);
	rok = ref_time(s, &r64);
	CHECK(ok == rok && (!ok || i64 == r64),
	      "val_time_parse(\"%s\") %d/%" PRId64 " vs %d/%" PRId64, s, ok,
	      i64, rok, r64);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char *raw = malloc(size ? size : 1);

	if (s == NULL || raw == NULL) {
		free(s);
		free(raw);
		return 0;
	}
	memcpy(s, data, size);
	s[size] = '\0';
	if (size > 0)
		memcpy(raw, data, size);

	CHECK(val_utf8(raw, size) == ref_utf8(data, size), "val_utf8 on %zu bytes",
	      size);
	fuzz_string(s);

	if (size >= 9) {
		int64_t x;

		memcpy(&x, data, sizeof x);
		check_money_roundtrip(x, (int)(data[8] % 7) - 1, "int64");
		check_time_roundtrip(x, "int64", false);
		/* a narrower range, so in-range values are common */
		check_time_roundtrip(x % (T_MAX + 1), "int64 mod", false);
		check_money_roundtrip(x % INT64_C(1000000000000), data[8] % 5,
				      "int64 mod");
	}
	free(raw);
	free(s);
	return 0;
}
