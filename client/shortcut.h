/* shortcut.h: the interactive mode's short words (next, mine, authority,
 * resolve, stats, export, help, quit) expanded into protocol requests.
 * The report words (stats, export) work in scripts and with -e too.
 * Pure code. */
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
	SHORTCUT_STATS,         /* send ->request (STATS), show the figures
				 * beside their targets */
	SHORTCUT_EXPORT,        /* write a CSV file: ->what, ->from, ->to,
				 * ->file, ->args */
};

struct shortcut_result {
	enum shortcut_kind kind;
	struct sbuf request;    /* owned */
	struct sbuf advise;     /* owned */
	const char *topic;      /* points into the line given */
	const char *message;    /* static */
	/* export: "complaints" or "stats" (static); the period in the
	 * protocol's form (UTC, "Z"); the file ("-": standard output); the
	 * key=value arguments after it, parsed (owned). */
	const char *what;
	char from[32], to[32];
	struct sbuf file;
	struct proto_request args;
};

/* Expands line. Shortcuts are lower-case words ("NEXT" is the verb, sent
 * as typed). Call shortcut_result_free() in every case. */
enum shortcut_kind shortcut_expand(const char *line,
				   struct shortcut_result *out);

void shortcut_result_free(struct shortcut_result *r);

/* The same for the report words only (stats, export), which scripts and
 * -e may use: any other line is SHORTCUT_NONE. */
enum shortcut_kind shortcut_expand_report(const char *line,
					  struct shortcut_result *out);

/* A time as a report takes it: a date ("2026-03-10", midnight UTC) or an
 * RFC 3339 time; written to out in the protocol's output form. False
 * when it is neither. */
bool shortcut_time(const char *s, size_t len, char out[32]);

/* The shortcut words, NULL-terminated, for completion. */
const char *const *shortcut_names(void);

/* Appends one line per shortcut: usage and what it does. */
void shortcut_help(struct sbuf *out);

/* True for the money actions, which need an amount (PROTOCOL.md §8). */
bool shortcut_money_action(const char *action, size_t len);

#endif
