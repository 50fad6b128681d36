/* verbs.h: the protocol's verbs as the client knows them (PROTOCOL.md).
 *
 * One const table drives tab completion, the local help and the choice of
 * the requests that carry an idempotency key. Pure code: no I/O. */
#ifndef CALLDESK_CLIENT_VERBS_H
#define CALLDESK_CLIENT_VERBS_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

enum verb_flag {
	/* Changes something: the client adds idem=KEY when the user gave
	 * none, so that a retry after a dropped connection is safe. */
	VERB_IDEM = 1 << 0,
	/* Served before LOGIN. */
	VERB_ANONYMOUS = 1 << 1,
};

/* args is a usage string read by completion and help: tokens separated by
 * one space; "[...]" marks an optional one; after '=' comes either a
 * placeholder in capitals (ID, TEXT, ...) or the allowed values separated
 * by '|' ("state=ready|not-ready"). */
struct verb_spec {
	const char *verb;
	const char *subverb;    /* NULL when the verb takes none */
	const char *args;
	const char *role;       /* least role; "" for every logged-in user */
	unsigned flags;
	const char *summary;
};

/* The whole table, in the order of PROTOCOL.md. */
const struct verb_spec *verb_table(size_t *count);

/* Entry for verb and subverb (case-insensitive; subverb NULL or "" for
 * none), or NULL. */
const struct verb_spec *verb_find(const char *verb, const char *subverb);

/* True when some entry of verb has a subverb. */
bool verb_has_subverbs(const char *verb);

/* True when a request with this verb should carry an idem key. Verbs the
 * table does not know get one too: the server ignores it where nothing
 * changes, and a future verb may change something. */
bool verb_wants_idem(const char *verb, const char *subverb);

/* ---- completion ------------------------------------------------------ */

#define VERB_CAND_MAX 64

struct verb_cand {
	const char *text;       /* points into the table; not NUL-terminated */
	size_t len;
};

struct verb_completion {
	size_t start;           /* byte offset of the word being completed */
	bool lower;             /* the user types verbs in lower case */
	bool is_key;            /* candidates are "key=" (no space after) */
	size_t count;
	struct verb_cand cands[VERB_CAND_MAX];
};

/* Candidates for the word that ends at byte cursor of line: a verb or one
 * of the extra words (shortcuts; NULL-terminated array, may be NULL) for
 * the first word, a subverb for the second, then "key=" names the verb
 * takes and has not been given yet, or, after "key=", the values listed
 * for that key. Matching ignores case. */
void verbs_complete(const char *line, size_t cursor,
		    const char *const *extra_words,
		    struct verb_completion *out);

/* ---- help ------------------------------------------------------------ */

/* Appends the usage of every entry whose verb (and subverb, when topic
 * has two words) matches topic; all of them when topic is "" or NULL.
 * Returns the number of entries written. */
size_t verbs_help(struct sbuf *out, const char *topic);

#endif
