/* shortcut.h: the interactive mode's short words (next, mine, authority,
 * resolve, help, quit) expanded into protocol requests. Pure code. */
#ifndef CALLDESK_CLIENT_SHORTCUT_H
#define CALLDESK_CLIENT_SHORTCUT_H

#include "proto.h"

enum shortcut_kind {
	SHORTCUT_NONE,          /* not a shortcut: send the line as typed */
	SHORTCUT_SEND,          /* send ->request */
	SHORTCUT_RESOLVE,       /* send ->advise, then ->request if the
				 * advice is allow or the user confirms */
	SHORTCUT_HELP,          /* local help on ->topic ("" for all) */
	SHORTCUT_QUIT,
	SHORTCUT_USAGE,         /* misused: print ->message */
};

struct shortcut_result {
	enum shortcut_kind kind;
	struct sbuf request;    /* owned */
	struct sbuf advise;     /* owned */
	const char *topic;      /* points into the line given */
	const char *message;    /* static */
};

/* Expands line. Shortcuts are lower-case words ("NEXT" is the verb, sent
 * as typed). Call shortcut_result_free() in every case. */
enum shortcut_kind shortcut_expand(const char *line,
				   struct shortcut_result *out);

void shortcut_result_free(struct shortcut_result *r);

/* The shortcut words, NULL-terminated, for completion. */
const char *const *shortcut_names(void);

/* Appends one line per shortcut: usage and what it does. */
void shortcut_help(struct sbuf *out);

/* True for the money actions, which need an amount (PROTOCOL.md §8). */
bool shortcut_money_action(const char *action, size_t len);

#endif
