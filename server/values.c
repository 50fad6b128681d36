/* values.c: checks and conversions for the value forms of PROTOCOL.md §3
 * (ids, names, lists, integers, booleans, idempotency keys, currencies,
 * money, RFC 3339 times, UTF-8). Pure functions: no allocation, no locale,
 * no global state, so the server and the client can share them. */
#include "values.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 32
#define IDEM_MAX_LEN 64
#define MONEY_INT_DIGITS 8
#define MONEY_MAX_DIGITS 4

/* Explicit ASCII classes: the <ctype.h> ones depend on the locale. */
static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool is_alnum(char c)
{
	return is_digit(c) || is_lower(c) || (c >= 'A' && c <= 'Z');
}

/* Value of the n decimal digits at s; false when one is not a digit or
 * the value exceeds max. Used instead of strtoll where the syntax must be
 * exact (strtoll takes spaces and signs). */
static bool digits_value(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!is_digit(s[i]))
			return false;
		d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static uint64_t pow10u(int n)
{
	uint64_t p = 1;

	while (n-- > 0)
		p *= 10;
	return p;
}

bool val_id(const char *s, int64_t *out)
{
	uint64_t v = 0;
	size_t n;

	/* A leading '0' is either the id 0 or a leading zero: both bad. */
	if (s == NULL || s[0] == '\0' || s[0] == '0')
		return false;
	n = strlen(s);
	if (!digits_value(s, n, INT64_MAX, &v))
		return false;
	*out = (int64_t)v;
	return true;
}

/* [a-z0-9][a-z0-9._-]{0,31} over n bytes (not NUL-terminated: lists). */
static bool name_valid_n(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	if (!is_lower(s[0]) && !is_digit(s[0]))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!is_lower(c) && !is_digit(c) && c != '.' && c != '_' &&
		    c != '-')
			return false;
	}
	return true;
}

bool val_name(const char *s)
{
	return s != NULL && name_valid_n(s, strlen(s));
}

bool val_name_list(const char *s, size_t *count)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	/* "" is the empty list, but an empty item ("a,,b", "a,") is not. */
	if (s[0] != '\0') {
		for (;;) {
			const char *comma = strchr(s, ',');
			size_t len = comma ? (size_t)(comma - s) : strlen(s);

			if (!name_valid_n(s, len))
				return false;
			n++;
			if (comma == NULL)
				break;
			s = comma + 1;
		}
	}
	*count = n;
	return true;
}

bool val_int(const char *s, long long min, long long max, long long *out)
{
	const char *digits;
	char *end;
	long long v;

	if (s == NULL)
		return false;
	/* strtoll alone would also take leading spaces and '+'. */
	digits = s[0] == '-' ? s + 1 : s;
	if (!is_digit(digits[0]))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool val_bool(const char *s, bool *out)
{
	if (s == NULL)
		return false;
	if (strcmp(s, "yes") == 0)
		*out = true;
	else if (strcmp(s, "no") == 0)
		*out = false;
	else
		return false;
	return true;
}

bool val_idem_key(const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	n = strlen(s);
	if (n == 0 || n > IDEM_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!is_alnum(c) && c != '.' && c != '_' && c != ':' &&
		    c != '-')
			return false;
	}
	return true;
}

/* ISO 4217 active codes with their minor-unit digits (2 unless noted by
 * the table). Looked up once per configuration load, so a linear scan. */
static const struct currency {
	char code[4];
	signed char digits;
} currencies[] = {
	{"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2},
	{"AOA", 2}, {"ARS", 2}, {"AUD", 2}, {"AWG", 2}, {"AZN", 2},
	{"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3},
	{"BIF", 0}, {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2},
	{"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2},
	{"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2},
	{"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2},
	{"COU", 2}, {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2},
	{"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2},
	{"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2},
	{"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2},
	{"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2},
	{"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2},
	{"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2},
	{"JOD", 3}, {"JPY", 0}, {"KES", 2}, {"KGS", 2}, {"KHR", 2},
	{"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2},
	{"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2},
	{"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2},
	{"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2},
	{"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2},
	{"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2},
	{"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2},
	{"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2},
	{"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2},
	{"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2},
	{"SEK", 2}, {"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SLL", 2},
	{"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2},
	{"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2},
	{"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2},
	{"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2},
	{"UYI", 0}, {"UYU", 2}, {"UYW", 4}, {"UZS", 2}, {"VED", 2},
	{"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0},
	{"XCD", 2}, {"XCG", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2},
	{"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2}, {"ZWL", 2},
};

int val_currency_digits(const char *iso)
{
	if (iso == NULL)
		return -1;
	/* Codes are upper case on the wire and in the configuration. */
	for (size_t i = 0; i < sizeof(currencies) / sizeof(currencies[0]);
	     i++) {
		if (strcmp(currencies[i].code, iso) == 0)
			return currencies[i].digits;
	}
	return -1;
}

bool val_money_parse(const char *s, int digits, int64_t *minor)
{
	uint64_t whole = 0, frac = 0;
	size_t nint = 0, nfrac = 0;

	if (s == NULL || digits < 0 || digits > MONEY_MAX_DIGITS)
		return false;
	while (is_digit(s[nint]))
		nint++;
	if (nint < 1 || nint > MONEY_INT_DIGITS)
		return false;
	(void)digits_value(s, nint, UINT64_MAX, &whole);
	s += nint;
	if (*s == '.') {
		s++;
		while (is_digit(s[nfrac]))
			nfrac++;
		/* "1." and more decimals than the currency has are refused
		 * rather than rounded: money is never silently changed. */
		if (nfrac < 1 || nfrac > (size_t)digits)
			return false;
		(void)digits_value(s, nfrac, UINT64_MAX, &frac);
		s += nfrac;
	}
	if (*s != '\0')
		return false;
	/* At most 8 + 4 digits: far below INT64_MAX. */
	*minor = (int64_t)(whole * pow10u(digits) +
			   frac * pow10u(digits - (int)nfrac));
	return true;
}

void val_money_format(int64_t minor, int digits, char out[32])
{
	/* Negate as unsigned so INT64_MIN formats too. */
	uint64_t mag = minor < 0 ? 0 - (uint64_t)minor : (uint64_t)minor;
	const char *sign = minor < 0 ? "-" : "";
	uint64_t scale;

	/* Outside the range val_money_parse accepts, clamp rather than
	 * overflow the scale. */
	if (digits < 0)
		digits = 0;
	if (digits > MONEY_MAX_DIGITS)
		digits = MONEY_MAX_DIGITS;
	if (digits == 0) {
		snprintf(out, 32, "%s%" PRIu64, sign, mag);
		return;
	}
	scale = pow10u(digits);
	snprintf(out, 32, "%s%" PRIu64 ".%0*u", sign, mag / scale, digits,
		 (unsigned)(mag % scale));
}

/* ---- time ----------------------------------------------------------- */

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the times an RFC 3339
 * four-digit year can write. */
#define TIME_MIN INT64_C(-62167219200)
#define TIME_MAX INT64_C(253402300799)

/* Exactly n digits at s (n <= 4 here), no sign. */
static bool fixed_digits(const char *s, size_t n, int *out)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
	}
	(void)digits_value(s, n, UINT64_MAX, &v);
	*out = (int)v;
	return true;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * algorithm: exact for every year, unlike timegm, and needs no TZ). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "Z" or "+HH:MM"/"-HH:MM" at s, to the end of the string; the offset is
 * what must be subtracted from local time to get UTC. */
static bool parse_offset(const char *s, int64_t *offset)
{
	int oh, om;

	if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
		*offset = 0;
		return true;
	}
	if (s[0] != '+' && s[0] != '-')
		return false;
	if (!fixed_digits(s + 1, 2, &oh) || s[3] != ':' ||
	    !fixed_digits(s + 4, 2, &om) || s[6] != '\0')
		return false;
	if (oh > 23 || om > 59)
		return false;
	*offset = (int64_t)(oh * 3600 + om * 60) * (s[0] == '-' ? -1 : 1);
	return true;
}

bool val_time_parse(const char *s, int64_t *epoch)
{
	int y, mo, d, h, mi, sec;
	int64_t offset, utc;

	/* YYYY-MM-DDTHH:MM:SS; the fixed_digits calls stop at the NUL of a
	 * short string, so no length check is needed first. */
	if (s == NULL || !fixed_digits(s, 4, &y) || s[4] != '-' ||
	    !fixed_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !fixed_digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !fixed_digits(s + 11, 2, &h) || s[13] != ':' ||
	    !fixed_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !fixed_digits(s + 17, 2, &sec))
		return false;
	/* A leap second (60) is refused: nothing in calldesk needs one. */
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return false;
	s += 19;
	if (*s == '.') {
		/* Fractions are truncated: times go out in whole seconds. */
		if (!is_digit(*++s))
			return false;
		while (is_digit(*s))
			s++;
	}
	if (!parse_offset(s, &offset))
		return false;
	/* With its offset, a time near either end of the years 0000-9999
	 * can fall outside them in UTC ("0000-01-01T00:00:00+00:01"), where
	 * val_time_format cannot write it back as RFC 3339: refuse it. */
	utc = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	      offset;
	if (utc < TIME_MIN || utc > TIME_MAX)
		return false;
	*epoch = utc;
	return true;
}

void val_time_format(int64_t epoch, char out[32])
{
	int64_t days = epoch / 86400, secs = epoch % 86400, y;
	int m, d;

	/* Floor division, so times before 1970 land on the right day. */
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 32, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
		 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
}

bool val_utf8(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp, min;
		size_t more;

		if (c < 0x80) {
			i++;
			continue;
		}
		/* 0xc0, 0xc1 could only start overlong forms of ASCII and
		 * 0xf5.. only code points above U+10FFFF. */
		if (c >= 0xc2 && c <= 0xdf) {
			more = 1, cp = c & 0x1fu, min = 0x80;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2, cp = c & 0x0fu, min = 0x800;
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3, cp = c & 0x07u, min = 0x10000;
		} else {
			return false;
		}
		if (len - i - 1 < more)
			return false;
		for (size_t k = 1; k <= more; k++) {
			unsigned char cc = (unsigned char)s[i + k];

			if ((cc & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (cc & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += more + 1;
	}
	return true;
}
