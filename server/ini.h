/* ini.h: the INI tokenizer shared by the configuration and the rules file.
 * It knows the syntax only (sections, key = value, comments); what the
 * sections and keys mean is the caller's business (config.c). */
#ifndef CALLDESK_INI_H
#define CALLDESK_INI_H

#include <stddef.h>

/* What the tokenizer reports, in file order. Line numbers start at 1. The
 * strings point into the caller's text and live as long as it does. */
struct ini_handler {
	/* "[ queue  billing ]" gives "queue  billing": the text between the
	 * brackets without the white space around it (never empty). */
	void (*section)(void *ctx, unsigned line, const char *name);
	/* "key = value ; note" gives "key" and "value"; value may be "".
	 * Keys are [A-Za-z0-9_.-]+. */
	void (*key)(void *ctx, unsigned line, const char *key,
		    const char *value);
	/* A line that is neither; msg has no file or line in it. */
	void (*error)(void *ctx, unsigned line, const char *msg);
};

/* Tokenizes text[0..len) (text[len] must be NUL) and calls h for each
 * line that says something. Comments start with ';' or '#' at the start
 * of a line or after a space or tab: "a = b ; c" is "b", "a=b;c" is
 * "b;c". CR LF line ends and a leading UTF-8 byte order mark are
 * accepted. Writes into text (it cuts it into strings), so the caller
 * passes its own copy. */
void ini_parse(char *text, size_t len, const struct ini_handler *h,
	       void *ctx);

#endif
