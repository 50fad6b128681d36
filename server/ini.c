/* ini.c: INI tokenizer. One line at a time: cut the comment, then it is a
 * section header, a key = value pair, blank, or an error. */
#include "ini.h"

#include <stdbool.h>
#include <string.h>

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Cuts a comment: ';' or '#' at the start or after a blank. Values such
 * as "a;b" or "x#1" stay whole, so no quoting is needed for them. */
static void cut_comment(char *s)
{
	for (char *p = s; *p != '\0'; p++) {
		if ((*p == ';' || *p == '#') && (p == s || is_blank(p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

/* Removes blanks at both ends; returns the new start. */
static char *trim(char *s)
{
	while (is_blank(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

static void parse_section(char *s, unsigned line, const struct ini_handler *h,
			  void *ctx)
{
	char *close = strchr(s, ']');
	if (close == NULL) {
		h->error(ctx, line, "section header without ']'");
		return;
	}
	if (*trim(close + 1) != '\0') {
		h->error(ctx, line, "text after the section header");
		return;
	}
	*close = '\0';
	char *name = trim(s + 1);
	if (*name == '\0' || strchr(name, '[') != NULL) {
		h->error(ctx, line, "bad section header");
		return;
	}
	h->section(ctx, line, name);
}

static void parse_pair(char *s, unsigned line, const struct ini_handler *h,
		       void *ctx)
{
	char *eq = strchr(s, '=');
	if (eq == NULL) {
		h->error(ctx, line, "expected 'key = value' or '[section]'");
		return;
	}
	*eq = '\0';
	char *key = trim(s);
	if (*key == '\0') {
		h->error(ctx, line, "missing key before '='");
		return;
	}
	for (const char *k = key; *k != '\0'; k++) {
		if (!is_key_char(*k)) {
			h->error(ctx, line, "bad key (letters, digits, _ . -)");
			return;
		}
	}
	h->key(ctx, line, key, trim(eq + 1));
}

static void parse_line(char *s, unsigned line, const struct ini_handler *h,
		       void *ctx)
{
	cut_comment(s);
	s = trim(s);
	if (*s == '\0')
		return;
	if (*s == '[')
		parse_section(s, line, h, ctx);
	else
		parse_pair(s, line, h, ctx);
}

void ini_parse(char *text, size_t len, const struct ini_handler *h, void *ctx)
{
	char *p = text;
	char *end = text + len;
	unsigned line = 0;

	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl != NULL ? nl : end;
		size_t n = (size_t)(eol - p);
		line++;
		*eol = '\0';
		if (memchr(p, '\0', n) != NULL) {
			h->error(ctx, line, "NUL byte in line");
		} else {
			if (n > 0 && p[n - 1] == '\r')
				p[n - 1] = '\0';
			parse_line(p, line, h, ctx);
		}
		p = eol + 1;
	}
}
