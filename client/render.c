/* render.c: the client's answers for people. Scripts use --raw instead,
 * so nothing here is meant to be parsed: it is meant to be read. The one
 * exception is the CSV of the reports (render_csv_*), for spreadsheets. */
/* wcwidth(); the build may define it already (ncurses' flags do). */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include "render.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"
#define C_CYAN "\033[36m"
#define C_OFF "\033[0m"

#define MAX_COLUMNS 64
#define ELLIPSIS "..."
#define EMPTY_VALUE "-"

/* ---- widths ---------------------------------------------------------- */

/* Decodes one UTF-8 sequence; an invalid byte counts as one character
 * (U+FFFD). Returns the bytes used (at least 1). */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1fu;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0fu;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07u;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	if (n > len) {
		*cp = 0xfffd;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3fu);
	}
	*cp = v;
	return n;
}

static size_t cp_width(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f)
		return 1;               /* shown as a space */
	if (cp < 0x7f)
		return 1;
	int w = wcwidth((wchar_t)cp);
	/* Outside a UTF-8 locale wcwidth knows nothing: count one. */
	return w < 0 ? 1 : (size_t)w;
}

size_t render_width(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;

	while (len > 0) {
		uint32_t cp;
		size_t n = utf8_next(p, len, &cp);
		w += cp_width(cp);
		p += n;
		len -= n;
	}
	return w;
}

/* Appends value with control characters as spaces, cut to max columns
 * (0: no limit) with an ellipsis. Returns the width written. */
static size_t put_cell(struct sbuf *out, const char *value, size_t max)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t len = strlen(value), w = 0;
	size_t full = render_width(value, len);
	size_t limit = max > strlen(ELLIPSIS) && full > max ?
		       max - strlen(ELLIPSIS) : SIZE_MAX;

	while (len > 0) {
		uint32_t cp;
		size_t n = utf8_next(p, len, &cp);
		size_t cw = cp_width(cp);
		if (w + cw > limit)
			break;
		if (cp < 0x20 || cp == 0x7f)
			sbuf_add(out, " ", 1);
		else
			sbuf_add(out, (const char *)p, n);
		w += cw;
		p += n;
		len -= n;
	}
	if (limit != SIZE_MAX) {
		sbuf_adds(out, ELLIPSIS);
		w += strlen(ELLIPSIS);
	}
	return w;
}

static void pad(struct sbuf *out, size_t n)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
		sbuf_add(out, spaces, k);
		n -= k;
	}
}

static void color_on(struct sbuf *out, const struct render_opts *o,
		     const char *code)
{
	if (o->color)
		sbuf_adds(out, code);
}

static void color_off(struct sbuf *out, const struct render_opts *o)
{
	if (o->color)
		sbuf_adds(out, C_OFF);
}

/* ---- tables ---------------------------------------------------------- */

static bool is_number(const char *s)
{
	size_t i = 0, digits = 0;

	if (s[i] == '-')
		i++;
	while (s[i] >= '0' && s[i] <= '9') {
		i++;
		digits++;
	}
	if (s[i] == '.' && digits > 0) {
		i++;
		if (!(s[i] >= '0' && s[i] <= '9'))
			return false;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return digits > 0 && s[i] == '\0';
}

/* The header of a column: the key in capitals, '_' as a space. */
static void header_text(const char *key, char *buf, size_t size)
{
	size_t i = 0;

	for (; key[i] != '\0' && i + 1 < size; i++) {
		char c = key[i];
		buf[i] = c == '_' ? ' ' :
			 c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
	}
	buf[i] = '\0';
}

struct column {
	const char *key;
	char header[PROTO_KEY_MAX + 1];
	size_t width;
	bool numeric;
};

static const char *cell_value(const struct proto_request *row,
			      const char *key)
{
	const char *v = proto_get(row, key);

	return v == NULL || v[0] == '\0' ? NULL : v;
}

/* The width a cell takes once cut to max columns (0: no limit). */
static size_t cell_width(const char *v, size_t max, struct sbuf *scratch)
{
	if (v == NULL)
		return strlen(EMPTY_VALUE);
	sbuf_reset(scratch);
	return put_cell(scratch, v, max);
}

bool render_is_money(const char *key)
{
	static const char *const money[] = {
		"amount", "limit", "budget_left", "daily_budget", "used_today",
		"goodwill", "goodwill_30d", NULL,
	};
	for (const char *const *m = money; *m != NULL; m++)
		if (strcmp(*m, key) == 0)
			return true;
	return false;
}

void render_table(struct sbuf *out, const struct proto_request *rows,
		  size_t nrows, const struct render_opts *o)
{
	struct column cols[MAX_COLUMNS];
	struct sbuf cell = {0};
	size_t ncols = 0;

	/* Columns in the order keys first appear. */
	for (size_t r = 0; r < nrows; r++)
		for (size_t a = 0; a < rows[r].nargs; a++) {
			const char *key = rows[r].args[a].key;
			size_t c = 0;
			while (c < ncols && strcmp(cols[c].key, key) != 0)
				c++;
			if (c == ncols && ncols < MAX_COLUMNS) {
				cols[c].key = key;
				header_text(key, cols[c].header,
					    sizeof cols[c].header);
				/* Money columns name their currency. */
				if (o->currency != NULL && o->currency[0] != '\0' &&
				    render_is_money(key)) {
					size_t hl = strlen(cols[c].header);
					snprintf(cols[c].header + hl,
						 sizeof cols[c].header - hl, " %s",
						 o->currency);
				}
				ncols++;
			}
		}
	if (ncols == 0)
		return;

	for (size_t c = 0; c < ncols; c++) {
		size_t max = c + 1 < ncols ? o->max_cell : 0;
		bool any = false, numeric = true;
		cols[c].width = strlen(cols[c].header);
		for (size_t r = 0; r < nrows; r++) {
			const char *v = cell_value(&rows[r], cols[c].key);
			size_t w = cell_width(v, max, &cell);
			if (w > cols[c].width)
				cols[c].width = w;
			if (v != NULL) {
				any = true;
				numeric = numeric && is_number(v);
			}
		}
		cols[c].numeric = any && numeric;
	}

	/* Header, then one line a row; the last column is not padded on
	 * the right, so that no line ends in spaces. */
	for (size_t r = 0; r <= nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			bool last = c + 1 == ncols;
			const char *v = r == 0 ? cols[c].header :
					cell_value(&rows[r - 1], cols[c].key);
			size_t max = last ? 0 : o->max_cell;
			size_t w = cell_width(v, max, &cell);
			size_t gap = cols[c].width - w;
			if (c > 0)
				sbuf_adds(out, "  ");
			if (cols[c].numeric)
				pad(out, gap);
			if (r == 0)
				color_on(out, o, C_BOLD);
			else if (v == NULL)
				color_on(out, o, C_DIM);
			if (v == NULL)
				sbuf_adds(out, EMPTY_VALUE);
			else
				sbuf_add(out, cell.data, cell.len);
			if (r == 0 || v == NULL)
				color_off(out, o);
			if (!cols[c].numeric && !last)
				pad(out, gap);
		}
		sbuf_adds(out, "\n");
	}
	sbuf_free(&cell);
}

/* ---- labelled fields ------------------------------------------------- */

static bool in_list(const char *key, const char *const *list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(list[i], key) == 0)
			return true;
	return false;
}

/* A field's value; a value over several lines continues under the first
 * one, indented by indent columns. */
static void put_field_value(struct sbuf *out, const char *v, size_t indent,
			    const struct render_opts *o)
{
	if (v[0] == '\0') {
		color_on(out, o, C_DIM);
		sbuf_adds(out, EMPTY_VALUE);
		color_off(out, o);
		return;
	}
	for (;;) {
		size_t n = strcspn(v, "\n");
		char line[512];
		while (n > 0) {
			/* put_cell wants a string: copy in slices. */
			size_t k = n < sizeof line - 1 ? n : sizeof line - 1;
			while (k < n && k > 0 &&
			       ((unsigned char)v[k] & 0xc0) == 0x80)
				k--;
			memcpy(line, v, k);
			line[k] = '\0';
			put_cell(out, line, 0);
			v += k;
			n -= k;
		}
		if (*v != '\n')
			break;
		v++;
		sbuf_adds(out, "\n");
		pad(out, indent);
	}
}

size_t render_fields(struct sbuf *out, const struct proto_request *line,
		     const char *const *skip, const struct render_opts *o)
{
	size_t width = 0, n = 0;

	for (size_t a = 0; a < line->nargs; a++)
		if (!in_list(line->args[a].key, skip) &&
		    strlen(line->args[a].key) > width)
			width = strlen(line->args[a].key);
	for (size_t a = 0; a < line->nargs; a++) {
		const char *key = line->args[a].key;
		if (in_list(key, skip))
			continue;
		color_on(out, o, C_CYAN);
		for (const char *k = key; *k != '\0'; k++)
			sbuf_add(out, *k == '_' ? " " : k, 1);
		sbuf_adds(out, ":");
		color_off(out, o);
		pad(out, width - strlen(key) + 2);
		put_field_value(out, line->args[a].value, width + 3, o);
		if (o->currency != NULL && o->currency[0] != '\0' &&
		    render_is_money(key) && line->args[a].value[0] != '\0') {
			sbuf_adds(out, " ");
			sbuf_adds(out, o->currency);
		}
		sbuf_adds(out, "\n");
		n++;
	}
	return n;
}

/* ---- answers --------------------------------------------------------- */

struct code_words {
	const char *code;
	const char *words;
};

static const struct code_words code_words[] = {
	{"auth-required", "log in first"},
	{"auth-failed", "wrong user or password"},
	{"too-many-attempts", "too many failed logins; wait and try again"},
	{"forbidden", "you are not allowed to do that"},
	{"not-found", "it does not exist"},
	{"exists", "it exists already"},
	{"invalid-state", "not possible in its present state"},
	{"denied", "the rules do not allow it"},
	{"four-eyes", "nobody may approve their own request"},
	{"no-reply", "the customer has had no reply yet"},
	{"open-handoff", "a hand-off is not done yet"},
	{"empty", "nothing is waiting that you are skilled for"},
	{"at-capacity", "you already hold as many complaints as you may"},
	{"idem-conflict", "that idem key was used for another request"},
	{"invalid-config", "the configuration is invalid"},
	{"unknown-verb", "unknown verb"},
	{"bad-arg", "malformed argument"},
	{"missing-arg", "an argument is missing"},
	{"bad-encoding", "bad characters in the line"},
	{"db-unavailable", "the database is unavailable"},
	{"overloaded", "the server is overloaded"},
	{"outcome-unknown", "it may or may not have been done"},
	{"internal", "internal error in the server"},
	{"line-too-long", "a line was too long"},
	{"logout", "logged out"},
	{"idle", "idle for too long"},
	{"login-timeout", "the login took too long"},
	{"shutdown", "the server is shutting down"},
	{"disabled", "the account was disabled"},
};

const char *render_code_words(const char *code)
{
	for (size_t i = 0; i < sizeof code_words / sizeof code_words[0]; i++)
		if (strcmp(code_words[i].code, code) == 0)
			return code_words[i].words;
	return NULL;
}

static const char *class_words(const char *word)
{
	if (strcmp(word, "NO") == 0)
		return "Refused";
	if (strcmp(word, "BAD") == 0)
		return "Bad request";
	if (strcmp(word, "ERR") == 0)
		return "Not done";
	return word;
}

/* "Refused: message [code]", then the other fields, then what a retry
 * would do. */
static void render_error(struct sbuf *out, const struct proto_request *f,
			 const struct render_opts *o)
{
	static const char *const skip[] = {"code", "msg", "retry", NULL};
	const char *code = proto_get(f, "code");
	const char *msg = proto_get(f, "msg");
	const char *retry = proto_get(f, "retry");

	if (code == NULL)
		code = "";
	if (msg == NULL || msg[0] == '\0')
		msg = render_code_words(code);
	if (msg == NULL)
		msg = "no reason given";
	color_on(out, o, C_RED C_BOLD);
	sbuf_printf(out, "%s:", class_words(f->verb));
	color_off(out, o);
	sbuf_adds(out, " ");
	put_cell(out, msg, 0);
	if (code[0] != '\0')
		sbuf_printf(out, " [%s]", code);
	sbuf_adds(out, "\n");

	struct sbuf extra = {0};
	if (render_fields(&extra, f, skip, o) > 0) {
		/* Indent the extra fields under the message. */
		const char *p = extra.data;
		while (*p != '\0') {
			size_t n = strcspn(p, "\n");
			sbuf_adds(out, "  ");
			sbuf_add(out, p, n);
			sbuf_adds(out, "\n");
			p += n + (p[n] == '\n');
		}
	}
	sbuf_free(&extra);

	if (strcmp(f->verb, "ERR") == 0 && retry != NULL) {
		if (strcmp(retry, "yes") == 0)
			sbuf_adds(out, "  It may be sent again: nothing was "
				       "changed, or it carried an idem key.\n");
		else
			sbuf_adds(out, "  It may or may not have been done: "
				       "check before sending it again.\n");
	}
}

void render_response(struct sbuf *out, const struct proto_request *rows,
		     size_t nrows, const struct proto_request *final,
		     const struct render_opts *o)
{
	static const char *const footer[] = {"count", "more", NULL};

	if (strcmp(final->verb, "OK") != 0) {
		if (nrows > 0)
			render_table(out, rows, nrows, o);
		render_error(out, final, o);
		return;
	}

	/* The final line's own fields (a complaint, a tier) first, then
	 * the rows (its history, the actions), then how many. */
	size_t nfields = render_fields(out, final, footer, o);
	if (nrows > 0) {
		if (nfields > 0)
			sbuf_adds(out, "\n");
		render_table(out, rows, nrows, o);
	}
	const char *count = proto_get(final, "count");
	const char *more = proto_get(final, "more");
	if (count != NULL) {
		color_on(out, o, C_DIM);
		if (strcmp(count, "0") == 0)
			sbuf_adds(out, "(none)");
		else
			sbuf_printf(out, "(%s %s)", count,
				    strcmp(count, "1") == 0 ? "row" : "rows");
		color_off(out, o);
		if (more != NULL && strcmp(more, "yes") == 0)
			sbuf_adds(out, " more match: narrow the search or "
				       "raise limit=");
		sbuf_adds(out, "\n");
	} else if (nfields == 0 && nrows == 0) {
		sbuf_adds(out, "OK\n");
	}
}

void render_push(struct sbuf *out, const struct proto_request *push,
		 const struct render_opts *o)
{
	if (strcmp(push->verb, "BYE") == 0) {
		const char *code = proto_get(push, "code");
		const char *msg = proto_get(push, "msg");
		const char *words = code != NULL ? render_code_words(code) : NULL;
		color_on(out, o, C_YELLOW C_BOLD);
		sbuf_adds(out, "The server closed the session:");
		color_off(out, o);
		sbuf_adds(out, " ");
		put_cell(out, words != NULL ? words :
			 msg != NULL && msg[0] != '\0' ? msg : "no reason given",
			 0);
		if (code != NULL)
			sbuf_printf(out, " [%s]", code);
		if (words != NULL && msg != NULL && msg[0] != '\0') {
			sbuf_adds(out, ": ");
			put_cell(out, msg, 0);
		}
		sbuf_adds(out, "\n");
		return;
	}

	/* "event complaint: complaint 42, state assigned, assignee alice" */
	const char *type = proto_get(push, "type");
	color_on(out, o, C_YELLOW);
	if (strcmp(push->verb, "EVENT") == 0)
		sbuf_printf(out, "event %s:", type != NULL ? type : "?");
	else
		sbuf_printf(out, "%s:", push->verb);
	color_off(out, o);
	bool first = true;
	for (size_t a = 0; a < push->nargs; a++) {
		if (strcmp(push->args[a].key, "type") == 0)
			continue;
		sbuf_adds(out, first ? " " : ", ");
		first = false;
		for (const char *k = push->args[a].key; *k != '\0'; k++)
			sbuf_add(out, *k == '_' ? " " : k, 1);
		sbuf_adds(out, " ");
		const char *v = push->args[a].value;
		put_cell(out, v[0] != '\0' ? v : EMPTY_VALUE, 0);
	}
	sbuf_adds(out, "\n");
}

/* ---- reports ----------------------------------------------------------- */

static const struct {
	const char *key, *label;
} figure_labels[] = {
	{"handled", "complaints handled"},
	{"fcr", "first-contact resolution"},
	{"aht", "average handle time (s)"},
	{"sla_met", "resolved in time"},
	{"csat", "customer satisfaction"},
	{"escalated", "escalated"},
	{"reopened", "reopened"},
	{"empowered", "within own authority"},
	{"goodwill", "goodwill granted"},
	{"respond_met", "replied in time"},
	{"handoffs", "hand-offs received"},
	{"handoffs_on_time", "hand-offs on time"},
	{"handoff_rating", "hand-off rating"},
};

const char *render_figure_label(const char *key, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < sizeof figure_labels / sizeof figure_labels[0]; i++)
		if (strcmp(figure_labels[i].key, key) == 0)
			return figure_labels[i].label;
	for (i = 0; key[i] != '\0' && i + 1 < size; i++)
		buf[i] = key[i] == '_' ? ' ' : key[i];
	if (size > 0)
		buf[i] = '\0';
	return buf;
}

/* "fcr_min" -> true, with the figure's length in *flen and the direction
 * in *max. */
static bool is_target_key(const char *key, size_t *flen, bool *max)
{
	size_t n = strlen(key);

	if (n <= 4 || (strcmp(key + n - 4, "_min") != 0 &&
		       strcmp(key + n - 4, "_max") != 0))
		return false;
	*flen = n - 4;
	*max = key[n - 2] == 'a';
	return true;
}

/* The target of a figure in the answer: its _min or _max field. */
static const char *target_of(const struct proto_request *f, const char *key,
			     bool *max)
{
	for (size_t a = 0; a < f->nargs; a++) {
		size_t flen;
		bool m;
		if (is_target_key(f->args[a].key, &flen, &m) &&
		    strlen(key) == flen &&
		    strncmp(f->args[a].key, key, flen) == 0) {
			*max = m;
			return f->args[a].value;
		}
	}
	return NULL;
}

static bool parse_number(const char *s, double *out)
{
	char *end;

	if (s == NULL || s[0] == '\0' || !is_number(s))
		return false;
	*out = strtod(s, &end);
	return *end == '\0';
}

#define STATS_ROWS 32

void render_stats(struct sbuf *out, const struct proto_request *final,
		  const struct render_opts *o)
{
	struct proto_request rows[STATS_ROWS];
	struct sbuf line = {0};
	size_t n = 0;
	bool targets = false;
	char buf[PROTO_KEY_MAX + 1];

	memset(rows, 0, sizeof rows);
	for (size_t a = 0; a < final->nargs; a++) {
		size_t flen;
		bool max;
		if (is_target_key(final->args[a].key, &flen, &max))
			targets = true;
	}
	for (size_t a = 0; a < final->nargs && n < STATS_ROWS; a++) {
		const char *key = final->args[a].key;
		const char *value = final->args[a].value;
		size_t flen;
		bool max = false;

		if (strcmp(key, "from") == 0 || strcmp(key, "to") == 0 ||
		    is_target_key(key, &flen, &max))
			continue;
		sbuf_reset(&line);
		sbuf_adds(&line, "* ROW");
		proto_put_kv(&line, "figure",
			     render_figure_label(key, buf, sizeof buf));
		proto_put_kv(&line, "value", value);
		if (targets) {
			const char *t = target_of(final, key, &max);
			const char *status = "";
			double v, tv;
			char tbuf[64] = "";

			if (t != NULL) {
				snprintf(tbuf, sizeof tbuf, "%s %s",
					 max ? "at most" : "at least", t);
				if (parse_number(value, &v) &&
				    parse_number(t, &tv))
					status = max ? (v <= tv ? "on target" :
							"above target") :
						 (v >= tv ? "on target" :
							"below target");
			}
			proto_put_kv(&line, "target", tbuf);
			proto_put_kv(&line, "status", status);
		}
		if (sbuf_failed(&line) ||
		    proto_parse(line.data, line.len, PROTO_PARSE_RESPONSE,
				&rows[n], NULL) != CD_OK) {
			proto_request_clear(&rows[n]);
			continue;
		}
		n++;
	}
	render_table(out, rows, n, o);
	for (size_t i = 0; i < n; i++)
		proto_request_clear(&rows[i]);
	sbuf_free(&line);

	const char *from = proto_get(final, "from");
	const char *to = proto_get(final, "to");
	if (from != NULL && to != NULL) {
		color_on(out, o, C_DIM);
		sbuf_adds(out, "period: ");
		put_cell(out, from, 0);
		sbuf_adds(out, " to ");
		put_cell(out, to, 0);
		sbuf_adds(out, " (to excluded)");
		color_off(out, o);
		sbuf_adds(out, "\n");
	}
}

void render_csv_field(struct sbuf *out, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	if (strpbrk(value, ",\"\r\n") == NULL) {
		sbuf_adds(out, value);
		return;
	}
	sbuf_adds(out, "\"");
	for (const char *p = value; *p != '\0';) {
		size_t k = strcspn(p, "\"");
		sbuf_add(out, p, k);
		p += k;
		if (*p == '"') {
			sbuf_adds(out, "\"\"");
			p++;
		}
	}
	sbuf_adds(out, "\"");
}

void render_csv_record(struct sbuf *out, const char *const *values,
		       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			sbuf_adds(out, ",");
		render_csv_field(out, values[i]);
	}
	sbuf_adds(out, "\r\n");
}

#define CSV_COLUMNS 64

void render_csv_rows(struct sbuf *out, const struct proto_request *rows,
		     size_t nrows, const char *const *first)
{
	const char *cols[CSV_COLUMNS];
	const char *vals[CSV_COLUMNS];
	size_t ncols = 0;

	for (size_t i = 0; first != NULL && first[i] != NULL &&
			   ncols < CSV_COLUMNS; i++)
		cols[ncols++] = first[i];
	for (size_t r = 0; r < nrows; r++)
		for (size_t a = 0; a < rows[r].nargs; a++) {
			const char *key = rows[r].args[a].key;
			size_t c = 0;
			while (c < ncols && strcmp(cols[c], key) != 0)
				c++;
			if (c == ncols && ncols < CSV_COLUMNS)
				cols[ncols++] = key;
		}
	render_csv_record(out, cols, ncols);
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < ncols; c++)
			vals[c] = proto_get(&rows[r], cols[c]);
		render_csv_record(out, vals, ncols);
	}
}
