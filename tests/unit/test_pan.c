/* test_pan.c: card-number masking. One table of texts with the text
 * expected back and the number of cards masked: the well-known test PANs
 * in every spelling, and the false positives the rule must avoid (phone
 * numbers, dates, amounts, IBANs, look-alikes failing Luhn, runs too short
 * or too long). Then the buffer contract: in place, too small, NUL bytes,
 * and long texts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pan.h"

struct mask_case {
	const char *name;
	const char *in;
	const char *want;
	size_t count;
};

static const struct mask_case cases[] = {
	/* the well-known test PANs, written solid */
	{"visa", "4111111111111111", "411111******1111", 1},
	{"visa 2", "4012888888881881", "401288******1881", 1},
	{"mastercard", "5555555555554444", "555555******4444", 1},
	{"mastercard 2", "5500000000000004", "550000******0004", 1},
	{"mastercard 3", "5105105105105100", "510510******5100", 1},
	{"amex, 15 digits", "378282246310005", "378282*****0005", 1},
	{"discover", "6011111111111117", "601111******1117", 1},
	{"discover 2", "6011000990139424", "601100******9424", 1},
	{"jcb", "3530111333300000", "353011******0000", 1},
	{"13 digits", "4222222222222", "422222***2222", 1},
	{"19 digits", "4111111111111111110", "411111*********1110", 1},

	/* spaced, dashed, mixed: separators stay where they were */
	{"visa spaced", "4111 1111 1111 1111", "4111 11** **** 1111", 1},
	{"visa 2 spaced", "4012 8888 8888 1881", "4012 88** **** 1881", 1},
	{"mastercard spaced", "5500 0000 0000 0004", "5500 00** **** 0004", 1},
	{"amex 4-6-5", "3782 822463 10005", "3782 82**** *0005", 1},
	{"discover spaced", "6011 1111 1111 1117", "6011 11** **** 1117", 1},
	{"13 digits 4-4-4-1", "4222 2222 2222 2", "4222 22** *222 2", 1},
	{"visa dashed", "4111-1111-1111-1111", "4111-11**-****-1111", 1},
	{"mastercard dashed", "5555-5555-5555-4444", "5555-55**-****-4444", 1},
	{"amex dashed", "3782-822463-10005", "3782-82****-*0005", 1},
	{"mixed separators", "4111-1111 1111-1111", "4111-11** ****-1111", 1},
	{"one digit at a time", "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
	 "4 1 1 1 1 1 * * * * * * 1 1 1 1", 1},

	/* positions: start, end, alone, punctuation around */
	{"at the start", "4111111111111111 is the card",
	 "411111******1111 is the card", 1},
	{"at the end", "the card is 4111111111111111",
	 "the card is 411111******1111", 1},
	{"trailing space kept", "4111 1111 1111 1111 ", "4111 11** **** 1111 ", 1},
	{"trailing dash kept", "4111-1111-1111-1111-", "4111-11**-****-1111-", 1},
	{"leading dash kept", "-4111-1111-1111-1111", "-4111-11**-****-1111", 1},
	{"in parentheses", "(4111111111111111)", "(411111******1111)", 1},
	{"in a sentence", "Card 4111 1111 1111 1111, exp 12/25, thanks.",
	 "Card 4111 11** **** 1111, exp 12/25, thanks.", 1},
	{"on its own line", "paid by\n4111111111111111\nyesterday",
	 "paid by\n411111******1111\nyesterday", 1},
	{"before decimals", "charged 4111111111111111.00",
	 "charged 411111******1111.00", 1},

	/* glued to letters: still a card, the letters do not excuse it */
	{"order prefix", "ORD4111111111111111", "ORD411111******1111", 1},
	{"letter after", "4111111111111111X", "411111******1111X", 1},
	{"key=value", "pan=4111111111111111;", "pan=411111******1111;", 1},

	/* several cards */
	{"three cards",
	 "first 4111111111111111, then 5555-5555-5555-4444 and 378282246310005.",
	 "first 411111******1111, then 5555-55**-****-4444 and 378282*****0005.",
	 3},
	{"two cards one space apart", "4111111111111111 5555555555554444",
	 "411111******1111 555555******4444", 2},
	{"two spaced cards one space apart",
	 "4111 1111 1111 1111 5555 5555 5555 4444",
	 "4111 11** **** 1111 5555 55** **** 4444", 2},

	/* a card glued to another number by one separator is still found */
	{"expiry after", "4111111111111111 12/25", "411111******1111 12/25", 1},
	{"expiry spaced", "4111 1111 1111 1111 12 25",
	 "4111 11** **** 1111 12 25", 1},
	{"year after", "4111 1111 1111 1111 2025", "4111 11** **** 1111 2025", 1},
	{"code after", "4111111111111111 123", "411111******1111 123", 1},
	{"count before", "2 4111111111111111", "2 411111******1111", 1},
	{"number before", "1234567 4111111111111111",
	 "1234567 411111******1111", 1},
	{"amex then number", "3782 822463 10005 1234",
	 "3782 82**** *0005 1234", 1},

	/* look-alikes that fail Luhn stay as typed */
	{"visa off by one", "4111111111111112", "4111111111111112", 0},
	{"visa off by one spaced", "4111 1111 1111 1112", "4111 1111 1111 1112", 0},
	{"mastercard off by one", "5555555555554445", "5555555555554445", 0},
	{"amex off by one", "378282246310006", "378282246310006", 0},
	{"sequence", "1234567890123456", "1234567890123456", 0},
	{"order number", "order 1234567890123", "order 1234567890123", 0},
	{"order with prefix", "ORD4111111111111112", "ORD4111111111111112", 0},
	{"order with dashes", "ORD-20240115-000123", "ORD-20240115-000123", 0},

	/* too short, too long */
	{"12 digits", "411111111111", "411111111111", 0},
	{"12 digits spaced", "4111 1111 1111", "4111 1111 1111", 0},
	{"20 digits", "41111111111111111111", "41111111111111111111", 0},
	{"20 digits holding a card", "41111111111111111234",
	 "41111111111111111234", 0},
	{"24 digits", "411111111111111111111111", "411111111111111111111111", 0},
	{"double space ends a run", "4111  1111 1111 1111", "4111  1111 1111 1111",
	 0},
	{"spaced dash ends a run", "4111 - 1111 1111 1111",
	 "4111 - 1111 1111 1111", 0},

	/* phone numbers */
	{"french phone", "+33 1 23 45 67 89", "+33 1 23 45 67 89", 0},
	{"uk phone, 14 digits", "0044 20 7946 0958", "0044 20 7946 0958", 0},
	{"uk phone", "+44 20 7946 0958", "+44 20 7946 0958", 0},
	{"us phone", "+1-202-555-0143", "+1-202-555-0143", 0},
	{"two phones", "call 01 23 45 67 89 or 06 12 34 56 78",
	 "call 01 23 45 67 89 or 06 12 34 56 78", 0},
	{"two phones one space apart", "01 23 45 67 89 06 12 34 56 78",
	 "01 23 45 67 89 06 12 34 56 78", 0},

	/* dates, times, amounts */
	{"iso date", "2024-01-15", "2024-01-15", 0},
	{"two dates, 16 digits", "2024-01-15 2024-02-15", "2024-01-15 2024-02-15",
	 0},
	{"date and time", "15/01/2024 10:30", "15/01/2024 10:30", 0},
	{"amount", "1 234 567,89 EUR", "1 234 567,89 EUR", 0},
	{"big amount, 14 digits", "USD 12 345 678 901 234,56",
	 "USD 12 345 678 901 234,56", 0},
	{"amount with commas", "$1,234,567.89", "$1,234,567.89", 0},

	/* IBAN-like text */
	{"iban fr", "FR76 3000 6000 0112 3456 7890 189",
	 "FR76 3000 6000 0112 3456 7890 189", 0},
	{"iban gb", "GB29 NWBK 6016 1331 9268 19", "GB29 NWBK 6016 1331 9268 19",
	 0},
	{"iban de", "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00",
	 0},

	/* UTF-8 passes through byte for byte */
	{"french note", "Numéro de carte : 4111 1111 1111 1111 — merci ✓",
	 "Numéro de carte : 4111 11** **** 1111 — merci ✓", 1},
	{"cyrillic", "Карта 4111111111111111, спасибо",
	 "Карта 411111******1111, спасибо", 1},
	{"glued to accents", "é4111111111111111é", "é411111******1111é", 1},
	{"en dash is no separator", "4111–1111–1111–1111",
	 "4111–1111–1111–1111", 0},
	{"fullwidth digits are not digits", "４１１１１１１１１１１１１１１１",
	 "４１１１１１１１１１１１１１１１", 0},

	/* nothing to do */
	{"empty", "", "", 0},
	{"no digits", "customer called about the invoice",
	 "customer called about the invoice", 0},
};

/* Masks c->in into a buffer of exactly the size the contract asks for,
 * and checks the text, the count, and that nothing but digits turned to
 * stars. */
static void check_case(size_t i, const struct mask_case *c)
{
	size_t len = strlen(c->in);
	char *out = malloc(len + 1);
	assert_non_null(out);

	size_t n = pan_mask(c->in, len, out, len + 1);
	if (n != c->count || strcmp(out, c->want) != 0)
		fail_msg("case %zu (%s):\n  in:       \"%s\"\n"
			 "  expected: \"%s\" (%zu masked)\n"
			 "  got:      \"%s\" (%zu masked)",
			 i, c->name, c->in, c->want, c->count, out, n);
	assert_int_equal(strlen(c->want), len);
	for (size_t k = 0; k < len; k++)
		if (out[k] != c->in[k] && !(out[k] == '*' && c->in[k] >= '0' &&
					    c->in[k] <= '9'))
			fail_msg("case %zu (%s): byte %zu changed from 0x%02x "
				 "to 0x%02x", i, c->name, k,
				 (unsigned char)c->in[k], (unsigned char)out[k]);
	free(out);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_case(i, &cases[i]);
}

/* Masked text masks to itself: a client may send back what it read.
 * Every case of the table, and the fuzzer's find: a card inside a longer
 * run whose kept digits, glued to their neighbours, pass Luhn again. */
static void test_idempotent(void **state)
{
	static const char *const extra[] = { "2243106 1105411154111" };
	char once[256], twice[256];
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0] + 1; i++) {
		const char *in = i < sizeof cases / sizeof cases[0] ? cases[i].in
								    : extra[0];
		size_t len = strlen(in);
		if (len >= sizeof once)
			continue;
		size_t n1 = pan_mask(in, len, once, sizeof once);
		size_t n2 = pan_mask(once, len, twice, sizeof twice);
		assert_true(n1 != PAN_MASK_TOO_SMALL);
		if (n2 != 0 || strcmp(once, twice) != 0)
			fail_msg("masking \"%s\" twice: \"%s\" then \"%s\" (%zu more)",
				 in, once, twice, n2);
	}
}

/* The same table masked in place: in and out the same buffer. */
static void test_in_place(void **state)
{
	(void)state;
	char buf[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct mask_case *c = &cases[i];
		size_t len = strlen(c->in);
		assert_true(len < sizeof buf);
		memcpy(buf, c->in, len + 1);
		size_t n = pan_mask(buf, len, buf, len + 1);
		if (n != c->count || strcmp(buf, c->want) != 0)
			fail_msg("case %zu (%s) in place: expected \"%s\" (%zu), "
				 "got \"%s\" (%zu)", i, c->name, c->want,
				 c->count, buf, n);
	}
}

/* Too small a buffer gives an error and an empty string, never part of
 * the text unmasked; exactly len + 1 is enough. */
static void test_buffer_size(void **state)
{
	(void)state;
	const char *in = "4111111111111111";
	size_t len = strlen(in);
	char out[32];

	memset(out, 'x', sizeof out);
	assert_true(pan_mask(in, len, out, len) == PAN_MASK_TOO_SMALL);
	assert_string_equal(out, "");

	memset(out, 'x', sizeof out);
	assert_true(pan_mask(in, len, out, 0) == PAN_MASK_TOO_SMALL);
	assert_int_equal(out[0], 'x');

	memset(out, 'x', sizeof out);
	assert_int_equal(pan_mask(in, len, out, len + 1), 1);
	assert_string_equal(out, "411111******1111");
	assert_int_equal(out[len + 1], 'x');

	assert_int_equal(pan_mask(NULL, 0, out, 1), 0);
	assert_string_equal(out, "");
}

/* Exactly len bytes are read: a NUL inside is a byte like any other (it
 * ends a run), and what follows len is not looked at. */
static void test_lengths(void **state)
{
	(void)state;
	static const char in[] = "4111111111111111\0" "5555555555554444";
	static const char want[] = "411111******1111\0" "555555******4444";
	char out[sizeof in];

	assert_int_equal(pan_mask(in, sizeof in - 1, out, sizeof out), 2);
	assert_memory_equal(out, want, sizeof want);

	/* the first 15 digits only: not a card */
	assert_int_equal(pan_mask(in, 15, out, sizeof out), 0);
	assert_string_equal(out, "411111111111111");
}

/* Long texts: many cards, one long run of digits, a long run of pairs,
 * all in one pass (a quadratic scan would show here under sanitizers). */
static void test_long(void **state)
{
	(void)state;
	enum { REPS = 50000 };
	const char *unit = "4111 1111 1111 1111 ";
	const char *masked = "4111 11** **** 1111 ";
	size_t ulen = strlen(unit);
	size_t len = ulen * REPS;
	char *in = malloc(len + 1);
	char *out = malloc(len + 1);
	assert_non_null(in);
	assert_non_null(out);

	/* one space between cards: a single run of 800,000 digits */
	for (size_t i = 0; i < REPS; i++)
		memcpy(in + i * ulen, unit, ulen);
	assert_int_equal(pan_mask(in, len, out, len + 1), REPS);
	for (size_t i = 0; i < REPS; i++)
		if (memcmp(out + i * ulen, masked, ulen) != 0)
			fail_msg("card %zu not masked: %.*s", i, (int)ulen,
				 out + i * ulen);

	memset(in, '4', len);
	assert_int_equal(pan_mask(in, len, out, len + 1), 0);
	assert_memory_equal(out, in, len);

	for (size_t i = 0; i < len; i++)
		in[i] = i % 3 == 2 ? ' ' : (char)('0' + i % 10);
	assert_int_equal(pan_mask(in, len, out, len + 1), 0);
	assert_memory_equal(out, in, len);

	free(in);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_buffer_size),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
