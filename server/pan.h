/* pan.h: masking card numbers (PANs) in free text before it is stored or
 * logged (issue 7, "Card numbers"). Pure code: no allocation, no global
 * state; one pass over the text, and another while the last one masked
 * something, so that masking masked text changes nothing.
 *
 * What counts as a card number:
 *
 * - A run is a maximal sequence of ASCII digits in which single spaces or
 *   single dashes may separate digits, mixed freely ("4111-1111 1111-1111").
 *   Only ASCII 0-9 are digits; every other byte, UTF-8 included, ends a run
 *   and passes through untouched.
 * - A run of 13 to 19 digits that passes the Luhn check is a card, however
 *   it is grouped. Whatever sits around it does not matter as long as it is
 *   not a digit: "ORD4111111111111111" is masked, because a letter glued to
 *   a card number does not make it any less one.
 * - A run of 20 or more digits written without separators is never a card
 *   (a reference or an account number, not a PAN with something glued on).
 * - When a whole run is not a card, it is searched for a card glued to
 *   other numbers by a single separator ("4111111111111111 12/25", two
 *   cards separated by one space): any stretch of whole groups, each of at
 *   least three digits, with 13 to 19 digits in all that passes Luhn. The
 *   three-digit floor follows the way cards are written (4-4-4-4, 4-6-5,
 *   4-4-4-4-3) and keeps phone numbers written in pairs or with a one-digit
 *   area code ("+33 1 23 45 67 89") out of the search. Groups are scanned
 *   left to right and the shortest valid stretch from a group wins.
 *
 * Masking keeps the first six and the last four digits of each card and
 * replaces the digits between with '*'; separators stay as they were, so the
 * text never changes length. False positives are possible by design: about
 * one number in ten passes Luhn, so a 13-19 digit run that is not a card
 * (an IBAN's digits, two dates side by side) may be masked. The rule errs
 * on that side; a card left in clear is the failure that matters.
 */
#ifndef CALLDESK_PAN_H
#define CALLDESK_PAN_H

#include <stddef.h>

/* Returned by pan_mask when out cannot hold the text and its NUL. */
#define PAN_MASK_TOO_SMALL ((size_t)-1)

/* Copies the len bytes at in to out, masks every card number found, and
 * NUL-terminates out. out is the caller's and must hold len + 1 bytes
 * (outlen > len); in and out may be the same buffer to mask in place. in
 * may hold any bytes, NUL included; it is read as exactly len bytes and may
 * be NULL when len is 0. Returns the number of card numbers masked, or
 * PAN_MASK_TOO_SMALL, in which case out (when outlen > 0) holds "" so that
 * no unmasked text can be used by mistake. */
size_t pan_mask(const char *in, size_t len, char *out, size_t outlen)
	__attribute__((warn_unused_result));

#endif
