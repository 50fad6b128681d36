/* render.h: answers for people. ROW lines become an aligned table, the
 * fields of a final OK line a labelled list, errors plain words with their
 * code, pushes one line each. Pure: everything is appended to an sbuf. */
#ifndef CALLDESK_CLIENT_RENDER_H
#define CALLDESK_CLIENT_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "proto.h"

struct render_opts {
	bool color;             /* ANSI colours (a terminal, NO_COLOR unset) */
	size_t max_cell;        /* widest table cell but the last; 0: any */
	const char *currency;   /* shown with money fields; NULL: unknown */
};

/* Whether the protocol field key holds money (amount, limit, ...). */
bool render_is_money(const char *key);

/* The display width of len bytes of UTF-8 (wide characters count 2,
 * combining ones 0, invalid bytes 1 each). */
size_t render_width(const char *s, size_t len);

/* Rows as a table: one column per key, in the order keys first appear,
 * headed by the key in capitals; numeric columns aligned right, empty
 * values shown as "-", control characters as spaces, no trailing
 * spaces. */
void render_table(struct sbuf *out, const struct proto_request *rows,
		  size_t nrows, const struct render_opts *o);

/* The fields of one line as "label:  value" lines, labels aligned; keys
 * listed in skip (NULL-terminated, may be NULL) are left out. Returns the
 * number of fields written. */
size_t render_fields(struct sbuf *out, const struct proto_request *line,
		     const char *const *skip, const struct render_opts *o);

/* A whole answer: final is the OK/NO/BAD/ERR line, rows the ROW lines
 * before it. */
void render_response(struct sbuf *out, const struct proto_request *rows,
		     size_t nrows, const struct proto_request *final,
		     const struct render_opts *o);

/* A push (* EVENT or * BYE) as one line. */
void render_push(struct sbuf *out, const struct proto_request *push,
		 const struct render_opts *o);

/* Plain words for a protocol code ("not-found" -> "it does not exist");
 * NULL when the client does not know the code. */
const char *render_code_words(const char *code);

/* ---- reports (client/report.c) ---------------------------------------- */

/* STATS's OK line as a table, one figure a row, in the order of the
 * answer: FIGURE (in words), VALUE, and, when the answer carries targets
 * (FIGURE_min, FIGURE_max; docs/FIGURES.md), TARGET ("at least 0.75",
 * "at most 300") and STATUS ("on target", "below target", "above
 * target"); then the period. Figures that cannot be measured show "-". */
void render_stats(struct sbuf *out, const struct proto_request *final,
		  const struct render_opts *o);

/* A label for a figure of STATS ("fcr" -> "first-contact resolution");
 * unknown keys come back with '_' as spaces, in buf. */
const char *render_figure_label(const char *key, char *buf, size_t size);

/* CSV as RFC 4180 writes it. A field is quoted when it holds a comma, a
 * double quote, CR or LF; a double quote inside is doubled. Nothing
 * else is changed: values are UTF-8, as the server sends them. */
void render_csv_field(struct sbuf *out, const char *value);

/* One record: the fields separated by commas, ended by CRLF. */
void render_csv_record(struct sbuf *out, const char *const *values,
		       size_t n);

/* A header and one record per row. The columns: the keys of first
 * (NULL-terminated, may be NULL), then every other key in the order it
 * first appears in the rows; a row without a key has an empty field. */
void render_csv_rows(struct sbuf *out, const struct proto_request *rows,
		     size_t nrows, const char *const *first);

#endif
