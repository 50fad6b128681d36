/* pan.c: finding card numbers in free text and masking them in place.
 * The rules (what a run is, when a run or part of one is a card) are in
 * pan.h. The text is copied once, then scanned run by run; each run is
 * looked at a bounded number of times, so the whole is O(len). */
#include "pan.h"

#include <stdbool.h>
#include <string.h>

#define PAN_MIN_DIGITS 13
#define PAN_MAX_DIGITS 19
#define KEEP_HEAD 6
#define KEEP_TAIL 4
/* Smallest group a card is written with, for the search inside a run. */
#define GROUP_MIN_DIGITS 3

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_sep(char c)
{
	return c == ' ' || c == '-';
}

/* End of the digits starting at s[i], at most up to end. */
static size_t digits_end(const char *s, size_t i, size_t end)
{
	while (i < end && is_digit(s[i]))
		i++;
	return i;
}

/* Luhn over the digits of s[a, b), separators skipped. Only called on
 * 13 to 19 digits, so the sum cannot overflow. */
static bool luhn_ok(const char *s, size_t a, size_t b)
{
	unsigned sum = 0;
	bool twice = false;

	for (size_t i = b; i > a; i--) {
		if (!is_digit(s[i - 1]))
			continue;
		unsigned d = (unsigned)(s[i - 1] - '0');
		if (twice) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
		twice = !twice;
	}
	return sum % 10 == 0;
}

/* Stars the digits of s[a, b) (ndigits of them) but the first six and the
 * last four; separators are left as typed. */
static void mask_span(char *s, size_t a, size_t b, size_t ndigits)
{
	size_t k = 0;

	for (size_t i = a; i < b; i++) {
		if (!is_digit(s[i]))
			continue;
		if (k >= KEEP_HEAD && k < ndigits - KEEP_TAIL)
			s[i] = '*';
		k++;
	}
}

/* Looks for cards inside the run s[rs, re) whose whole is not one: a
 * stretch of consecutive groups of three digits or more, 13 to 19 digits
 * in all, passing Luhn. From each group the shortest valid stretch is
 * taken and the search goes on after it. A stretch holds at most six
 * groups, so each group is read by at most seven starts: still linear. */
static size_t mask_inside(char *s, size_t rs, size_t re)
{
	size_t count = 0;
	size_t g = rs;

	while (g < re) {
		size_t ge = digits_end(s, g, re);
		size_t next = ge < re ? ge + 1 : re;   /* past the separator */
		size_t nd = ge - g;
		size_t e = ge;

		while (nd >= GROUP_MIN_DIGITS && nd <= PAN_MAX_DIGITS) {
			if (nd >= PAN_MIN_DIGITS && luhn_ok(s, g, e)) {
				mask_span(s, g, e, nd);
				count++;
				next = e < re ? e + 1 : re;
				break;
			}
			if (e >= re)
				break;
			size_t h = e + 1;
			size_t he = digits_end(s, h, re);
			if (he - h < GROUP_MIN_DIGITS)
				break;
			nd += he - h;
			e = he;
		}
		g = next;
	}
	return count;
}

/* One maximal run s[rs, re) of nd digits: the whole first, as the issue
 * words the rule, then the cards glued inside it. A run short enough to
 * fail as a whole has nothing inside worth a look. */
static size_t mask_run(char *s, size_t rs, size_t re, size_t nd)
{
	if (nd >= PAN_MIN_DIGITS && nd <= PAN_MAX_DIGITS &&
	    luhn_ok(s, rs, re)) {
		mask_span(s, rs, re, nd);
		return 1;
	}
	if (nd <= PAN_MIN_DIGITS)
		return 0;
	return mask_inside(s, rs, re);
}

/* One scan of out[0, len): every run looked at once. Returns the number
 * of cards masked. */
static size_t mask_pass(char *out, size_t len)
{
	size_t count = 0;
	size_t i = 0;
	while (i < len) {
		if (!is_digit(out[i])) {
			i++;
			continue;
		}
		/* a run: digits, and single separators with a digit after */
		size_t rs = i;
		size_t nd = 0;
		for (;;) {
			size_t e = digits_end(out, i, len);
			nd += e - i;
			i = e;
			if (i + 1 < len && is_sep(out[i]) && is_digit(out[i + 1]))
				i++;
			else
				break;
		}
		/* masking only touches [rs, i): the scan never meets a star */
		count += mask_run(out, rs, i, nd);
	}
	return count;
}

size_t pan_mask(const char *in, size_t len, char *out, size_t outlen)
{
	if (outlen <= len) {
		if (outlen > 0)
			out[0] = '\0';
		return PAN_MASK_TOO_SMALL;
	}
	/* memmove: the caller may mask in place */
	if (len > 0 && in != out)
		memmove(out, in, len);
	out[len] = '\0';

	/* A star ends a run, so a card masked inside a longer run leaves its
	 * kept digits glued to the digits around it as new, shorter runs,
	 * which may pass Luhn in turn. Scan again until nothing changes, so
	 * that masked text masks to itself (pan_mask is idempotent). Every
	 * pass that masks stars at least three digits, so this ends; a second
	 * pass only runs when the first masked something. */
	size_t count = 0, n;
	while ((n = mask_pass(out, len)) > 0)
		count += n;
	return count;
}
