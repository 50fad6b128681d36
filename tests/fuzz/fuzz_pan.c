/* fuzz_pan.c: libFuzzer harness for pan_mask() (server/pan.c; rules in
 * server/pan.h; see README.md).
 *
 * Properties checked on arbitrary bytes (NUL included):
 *  P1 the text keeps its length, out[len] is NUL, and the only change is
 *     an ASCII digit turned into '*';
 *  P2 masking in place gives the same text and count as into another
 *     buffer;
 *  P3 an out buffer of len bytes (no room for the NUL) gives
 *     PAN_MASK_TOO_SMALL and "" in out; outlen 0 touches nothing;
 *  P4 a maximal run of 13 to 19 contiguous ASCII digits (so delimited by
 *     non-digits or the ends) that passes Luhn is never left in clear:
 *     at least one of its digits becomes '*', and at most ten of its
 *     digits stay in clear (the "first six and last four" rule);
 *  P5 a whole run as pan.h defines it (digits with single ' ' or '-'
 *     between) of 13 to 19 digits passing Luhn is masked exactly: its
 *     first six and last four digits kept, every other digit '*';
 *  P6 a run of fewer than 13 digits, and 20 or more contiguous digits,
 *     are never touched; the count is 0 exactly when nothing changed,
 *     and every card masked stars at least three digits;
 *  P7 idempotence: masking the masked text again changes nothing and
 *     returns 0. Set FUZZ_PAN_SKIP_IDEMPOTENCE=1 in the environment to
 *     leave P7 out (to keep fuzzing the others once P7 is known to fail).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pan.h"

static const uint8_t *cur_in;
static size_t cur_len;

static void dump(const char *what, const char *s, size_t n)
{
	fprintf(stderr, "%s (%zu bytes): \"", what, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\' || c == '"')
			fprintf(stderr, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fprintf(stderr, "\"\n");
}

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_pan: property failed: %s\n  ", \
				#cond);                                      \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			dump("input", (const char *)cur_in, cur_len);        \
			abort();                                             \
		}                                                            \
	} while (0)

static bool dig(char c) { return c >= '0' && c <= '9'; }
static bool sep(char c) { return c == ' ' || c == '-'; }

/* Luhn over the digits of s[a, b), other bytes skipped. */
static bool luhn(const char *s, size_t a, size_t b)
{
	unsigned sum = 0;
	bool twice = false;

	for (size_t i = b; i > a; i--) {
		unsigned d;

		if (!dig(s[i - 1]))
			continue;
		d = (unsigned)(s[i - 1] - '0');
		if (twice)
			d = d * 2 > 9 ? d * 2 - 9 : d * 2;
		sum += d;
		twice = !twice;
	}
	return sum % 10 == 0;
}

static bool skip_idempotence;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *e = getenv("FUZZ_PAN_SKIP_IDEMPOTENCE");

	(void)argc;
	(void)argv;
	skip_idempotence = e != NULL && *e != '\0' && *e != '0';
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	size_t len = size, n, n2, stars = 0;
	char *out, *inplace, *again, *small;

	cur_in = data;
	cur_len = size;
	out = malloc(len + 1);
	inplace = malloc(len + 1);
	again = malloc(len + 1);
	small = malloc(len ? len : 1);
	if (!out || !inplace || !again || !small)
		goto done;

	/* P1 */
	memset(out, 'X', len + 1);
	n = pan_mask(len ? in : NULL, len, out, len + 1);
	CHECK(n != PAN_MASK_TOO_SMALL, "too small with outlen = len + 1");
	CHECK(out[len] == '\0', "not NUL-terminated");
	for (size_t i = 0; i < len; i++) {
		if (out[i] == in[i])
			continue;
		CHECK(dig(in[i]) && out[i] == '*',
		      "byte %zu changed from 0x%02x to 0x%02x", i,
		      (unsigned char)in[i], (unsigned char)out[i]);
		stars++;
	}

	/* P2 */
	if (len > 0)
		memcpy(inplace, in, len);
	n2 = pan_mask(inplace, len, inplace, len + 1);
	CHECK(n2 == n && memcmp(inplace, out, len + 1) == 0,
	      "in place differs (%zu vs %zu)", n2, n);

	/* P3 */
	if (len > 0) {
		memcpy(small, in, len);
		n2 = pan_mask(in, len, small, len);
		CHECK(n2 == PAN_MASK_TOO_SMALL && small[0] == '\0',
		      "outlen = len gave %zu", n2);
	}
	small[0] = 'Y';
	n2 = pan_mask(len ? in : NULL, len, small, 0);
	CHECK(n2 == PAN_MASK_TOO_SMALL && small[0] == 'Y',
	      "outlen 0 gave %zu or wrote", n2);

	/* P4 and the contiguous half of P6 */
	for (size_t i = 0; i < len;) {
		size_t a = i, b, clear = 0;

		if (!dig(in[i])) {
			i++;
			continue;
		}
		while (i < len && dig(in[i]))
			i++;
		b = i;
		for (size_t k = a; k < b; k++)
			clear += out[k] != '*';
		if (b - a >= 13 && b - a <= 19 && luhn(in, a, b)) {
			CHECK(clear < b - a,
			      "Luhn-valid %zu-digit run at %zu left in clear",
			      b - a, a);
			CHECK(clear <= 10,
			      "Luhn-valid %zu-digit run at %zu: %zu digits in "
			      "clear", b - a, a, clear);
		}
		if (b - a >= 20)
			CHECK(memcmp(out + a, in + a, b - a) == 0,
			      "%zu contiguous digits at %zu touched", b - a, a);
	}

	/* P5 and the short-run half of P6: runs as pan.h defines them. */
	for (size_t i = 0; i < len;) {
		size_t a = i, nd = 0;

		if (!dig(in[i])) {
			i++;
			continue;
		}
		for (;;) {
			while (i < len && dig(in[i])) {
				i++;
				nd++;
			}
			if (i + 1 < len && sep(in[i]) && dig(in[i + 1]))
				i++;
			else
				break;
		}
		if (nd < 13)
			CHECK(memcmp(out + a, in + a, i - a) == 0,
			      "%zu-digit run at %zu touched", nd, a);
		if (nd >= 13 && nd <= 19 && luhn(in, a, i)) {
			size_t k = 0;

			for (size_t j = a; j < i; j++) {
				if (!dig(in[j]))
					continue;
				CHECK(out[j] == ((k >= 6 && k < nd - 4) ? '*'
									: in[j]),
				      "run at %zu (%zu digits): digit %zu",
				      a, nd, k);
				k++;
			}
		}
	}

	/* P6: the count */
	CHECK((n == 0) == (stars == 0), "count %zu but %zu stars", n, stars);
	CHECK(stars >= 3 * n, "count %zu but only %zu stars", n, stars);

	/* P7 */
	if (!skip_idempotence) {
		memcpy(again, out, len + 1);
		n2 = pan_mask(again, len, again, len + 1);
		if (n2 != 0 || memcmp(again, out, len + 1) != 0) {
			dump("masked once", out, len);
			dump("masked twice", again, len);
		}
		CHECK(n2 == 0 && memcmp(again, out, len + 1) == 0,
		      "not idempotent: second pass masked %zu", n2);
	}

done:
	free(out);
	free(inplace);
	free(again);
	free(small);
	return 0;
}
