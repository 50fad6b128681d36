/* values.h: the value forms of PROTOCOL.md §3 (ids, names, money, times,
 * booleans, lists, idempotency keys). Pure functions, no allocation. */
#ifndef CALLDESK_VALUES_H
#define CALLDESK_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* id: 1 .. 2^63-1, decimal, no sign, no leading zero. */
bool val_id(const char *s, int64_t *out) __attribute__((warn_unused_result));

/* name: [a-z0-9][a-z0-9._-]{0,31} */
bool val_name(const char *s);

/* Comma-separated list of names; "" is the empty list. Returns the number
 * of names in *count. Duplicates are allowed by the syntax. */
bool val_name_list(const char *s, size_t *count);

/* Bounded integer in [min, max] (decimal, optional leading '-', no junk). */
bool val_int(const char *s, long long min, long long max, long long *out)
	__attribute__((warn_unused_result));

/* boolean: "yes" or "no". */
bool val_bool(const char *s, bool *out) __attribute__((warn_unused_result));

/* idempotency key: 1..64 of A-Z a-z 0-9 . _ : - */
bool val_idem_key(const char *s);

/* Minor-unit digits of an ISO 4217 code (EUR 2, JPY 0, KWD 3, ...);
 * -1 when the code is not a known currency. */
int val_currency_digits(const char *iso);

/* money: ^[0-9]{1,8}(\.[0-9]{1,digits})?$ into integer minor units.
 * digits is 0..4; with 0 no '.' is allowed. */
bool val_money_parse(const char *s, int digits, int64_t *minor)
	__attribute__((warn_unused_result));

/* Formats minor units with exactly digits decimals ("25.50"); negative
 * amounts get a leading '-'. out must hold 32 bytes. */
void val_money_format(int64_t minor, int digits, char out[32]);

/* RFC 3339 ("2026-11-22T09:30:00Z", "2026-11-22T10:30:00.25+01:00";
 * 't' and 'z' accepted; fractions are truncated) into seconds since the
 * epoch, UTC. Checks field ranges, including the day of the month. */
bool val_time_parse(const char *s, int64_t *epoch)
	__attribute__((warn_unused_result));

/* Formats as "2026-11-22T09:30:00Z". out must hold 32 bytes. */
void val_time_format(int64_t epoch, char out[32]);

/* Strict UTF-8 check (no overlongs, no surrogates, max U+10FFFF). */
bool val_utf8(const char *s, size_t len);

#endif
