/* shortcut.c: the words an agent types all day, expanded into the
 * protocol's requests. One table holds them; resolve and the report words
 * are the ones with real parsing: "resolve ID ACTION [AMOUNT] TEXT...",
 * "stats [key=value ...]", "export complaints|stats FROM TO FILE
 * [key=value ...]". */
#include "shortcut.h"

#include <stdio.h>
#include <string.h>

#include "values.h"

struct shortcut {
	const char *name;
	const char *expansion;  /* request prefix; NULL: handled in code */
	bool takes_args;        /* extra key=value pairs are appended */
	const char *usage;
	const char *summary;
};

static const struct shortcut shortcuts[] = {
	{"next", "NEXT", false, "next", "take the next complaint (NEXT)"},
	{"mine", "COMPLAINT LIST assignee=me", true, "mine [key=value ...]",
	 "your complaints (COMPLAINT LIST assignee=me)"},
	{"authority", "RULES", false, "authority",
	 "what you may grant on your own (RULES)"},
	{"resolve", NULL, false, "resolve ID ACTION [AMOUNT] TEXT...",
	 "ADVISE, confirm if it would escalate or be denied, then "
	 "COMPLAINT RESOLVE"},
	{"stats", NULL, true, "stats [key=value ...]",
	 "figures beside their targets (STATS: agent= team= queue= dept= "
	 "from= to=)"},
	{"export", NULL, true, "export complaints|stats FROM TO FILE",
	 "a CSV file of the complaints opened in the period, or of the "
	 "figures"},
	{"help", NULL, false, "help [VERB [SUBVERB]]",
	 "this help, or the arguments of a verb"},
	{"quit", NULL, false, "quit", "leave (also exit, or Ctrl-D)"},
	{"exit", NULL, false, NULL, NULL},
};

#define NSHORTCUTS (sizeof shortcuts / sizeof shortcuts[0])

const char *const *shortcut_names(void)
{
	static const char *const names[NSHORTCUTS + 1] = {
		"next", "mine", "authority", "resolve", "stats", "export",
		"help", "quit", "exit", NULL};
	return names;
}

void shortcut_help(struct sbuf *out)
{
	for (size_t i = 0; i < NSHORTCUTS; i++)
		if (shortcuts[i].usage != NULL)
			sbuf_printf(out, "  %-36s %s\n", shortcuts[i].usage,
				    shortcuts[i].summary);
}

bool shortcut_money_action(const char *action, size_t len)
{
	static const char *const money[] = {"refund", "credit", "voucher",
					    "fee-waiver"};

	for (size_t i = 0; i < sizeof money / sizeof money[0]; i++)
		if (strlen(money[i]) == len && memcmp(money[i], action, len) == 0)
			return true;
	return false;
}

/* The actions of PROTOCOL.md §8 that take no amount. */
static bool known_action(const char *action, size_t len)
{
	static const char *const other[] = {"apology", "explanation",
					    "callback", "replacement",
					    "repair"};

	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
		if (strlen(other[i]) == len && memcmp(other[i], action, len) == 0)
			return true;
	return shortcut_money_action(action, len);
}

void shortcut_result_free(struct shortcut_result *r)
{
	if (r == NULL)
		return;
	sbuf_free(&r->request);
	sbuf_free(&r->advise);
	sbuf_free(&r->file);
	proto_request_clear(&r->args);
	memset(r, 0, sizeof *r);
}

/* Next space-separated word of *p: sets start and length, advances *p. */
static size_t next_word(const char **p, const char **start)
{
	const char *s = *p;

	while (*s == ' ')
		s++;
	*start = s;
	while (*s != '\0' && *s != ' ')
		s++;
	*p = s;
	return (size_t)(s - *start);
}

/* An amount as the user writes it; the server checks the currency's
 * digits. */
static bool looks_like_amount(const char *s, size_t len)
{
	size_t i = 0, digits = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		i++;
		digits++;
	}
	if (digits == 0)
		return false;
	if (i < len && s[i] == '.') {
		i++;
		size_t frac = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			i++;
			frac++;
		}
		if (frac == 0)
			return false;
	}
	return i == len;
}

static enum shortcut_kind usage(struct shortcut_result *out, const char *msg)
{
	out->kind = SHORTCUT_USAGE;
	out->message = msg;
	return out->kind;
}

static enum shortcut_kind expand_resolve(const char *args,
					 struct shortcut_result *out)
{
	static const char use[] =
		"usage: resolve ID ACTION [AMOUNT] TEXT... "
		"(AMOUNT for refund, credit, voucher, fee-waiver)";
	const char *p = args, *id, *action, *amount = NULL, *w;
	size_t idlen = next_word(&p, &id);
	size_t alen = next_word(&p, &action);
	size_t amlen = 0;
	char idbuf[24];
	int64_t idval;

	if (idlen == 0 || idlen >= sizeof idbuf || alen == 0)
		return usage(out, use);
	memcpy(idbuf, id, idlen);
	idbuf[idlen] = '\0';
	if (!val_id(idbuf, &idval))
		return usage(out, "resolve: ID must be a complaint number");

	/* A money action needs its amount; another takes none, unless the
	 * action is one this client does not know and a number follows. */
	const char *save = p;
	size_t wlen = next_word(&p, &w);
	if (shortcut_money_action(action, alen)) {
		if (!looks_like_amount(w, wlen))
			return usage(out, "resolve: this action needs an "
					  "amount: resolve ID ACTION AMOUNT "
					  "TEXT...");
		amount = w;
		amlen = wlen;
	} else if (wlen > 0 && looks_like_amount(w, wlen) &&
		   !known_action(action, alen)) {
		amount = w;
		amlen = wlen;
	} else {
		p = save;
	}

	/* The rest of the line is the resolution text, as typed; one pair
	 * of surrounding quotes is taken off. */
	while (*p == ' ')
		p++;
	size_t tlen = strlen(p);
	while (tlen > 0 && p[tlen - 1] == ' ')
		tlen--;
	if (tlen >= 2 && p[0] == '"' && p[tlen - 1] == '"') {
		p++;
		tlen -= 2;
	}
	if (tlen == 0)
		return usage(out, "resolve: say what was done: resolve ID "
				  "ACTION [AMOUNT] TEXT...");

	char actbuf[PROTO_WORD_MAX + 1];
	if (alen >= sizeof actbuf)
		return usage(out, "resolve: unknown action");
	memcpy(actbuf, action, alen);
	actbuf[alen] = '\0';

	sbuf_adds(&out->advise, "ADVISE");
	proto_put_kv(&out->advise, "complaint", idbuf);
	proto_put_kv(&out->advise, "action", actbuf);
	sbuf_adds(&out->request, "COMPLAINT RESOLVE");
	proto_put_kv(&out->request, "id", idbuf);
	proto_put_kv(&out->request, "action", actbuf);
	if (amount != NULL) {
		proto_put_kvn(&out->advise, "amount", amount, amlen);
		proto_put_kvn(&out->request, "amount", amount, amlen);
	}
	proto_put_kvn(&out->request, "resolution", p, tlen);
	out->kind = SHORTCUT_RESOLVE;
	return out->kind;
}

/* ---- reports ----------------------------------------------------------- */

bool shortcut_time(const char *s, size_t len, char out[32])
{
	char buf[64];
	int64_t t;

	if (len == 0 || len >= sizeof buf - 10)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (len == 10 && buf[4] == '-' && buf[7] == '-')
		memcpy(buf + 10, "T00:00:00Z", 11);
	if (!val_time_parse(buf, &t))
		return false;
	val_time_format(t, out);
	return true;
}

/* Parses "key=value ..." (the protocol's syntax, quotes included) into
 * out->args. An empty rest is fine. */
static bool parse_args(const char *rest, struct shortcut_result *out)
{
	struct sbuf line = {0};
	bool ok;

	sbuf_adds(&line, "x X ");
	sbuf_adds(&line, rest);
	ok = !sbuf_failed(&line) &&
	     proto_parse(line.data, line.len, PROTO_PARSE_REQUEST, &out->args,
			 NULL) == CD_OK &&
	     out->args.subverb[0] == '\0';     /* a bare word is no key=value */
	sbuf_free(&line);
	return ok;
}

static bool key_in(const char *key, const char *const *keys)
{
	for (size_t i = 0; keys[i] != NULL; i++)
		if (strcmp(keys[i], key) == 0)
			return true;
	return false;
}

static enum shortcut_kind expand_stats(const char *rest,
				       struct shortcut_result *out)
{
	if (!parse_args(rest, out))
		return usage(out, "usage: stats [agent=NAME|team=NAME|"
				  "queue=NAME|dept=NAME] [from=TIME] "
				  "[to=TIME] (key=value, quoted as in the "
				  "protocol)");
	sbuf_adds(&out->request, "STATS");
	for (size_t i = 0; i < out->args.nargs; i++) {
		const char *k = out->args.args[i].key;
		const char *v = out->args.args[i].value;
		char t[32];

		/* A date is that day's midnight, UTC; the server wants a
		 * time. Anything else goes as given, for the server to
		 * judge. */
		if ((strcmp(k, "from") == 0 || strcmp(k, "to") == 0) &&
		    strlen(v) == 10 && shortcut_time(v, 10, t))
			v = t;
		proto_put_kv(&out->request, k, v);
	}
	return out->kind = SHORTCUT_STATS;
}

static enum shortcut_kind expand_export(const char *rest,
					struct shortcut_result *out)
{
	static const char use[] =
		"usage: export complaints|stats FROM TO FILE.csv [key=value "
		"...] (FROM, TO: dates or RFC 3339 times; FILE - for "
		"standard output)";
	static const char *const complaint_keys[] = {"state", "queue",
						     "assignee", "customer",
						     NULL};
	static const char *const stats_keys[] = {"agent", "team", "queue",
						 "dept", "by", NULL};
	static const char *const selections[] = {"agent", "team", "queue",
						 "dept", NULL};
	const char *p = rest, *w;
	size_t len;
	int64_t tf, tt;
	int nsel = 0;

	len = next_word(&p, &w);
	if (len == 10 && memcmp(w, "complaints", 10) == 0)
		out->what = "complaints";
	else if (len == 5 && memcmp(w, "stats", 5) == 0)
		out->what = "stats";
	else
		return usage(out, use);
	len = next_word(&p, &w);
	if (!shortcut_time(w, len, out->from))
		return usage(out, len == 0 ? use : "export: FROM must be a "
				  "date (2026-03-10) or an RFC 3339 time");
	len = next_word(&p, &w);
	if (!shortcut_time(w, len, out->to))
		return usage(out, len == 0 ? use : "export: TO must be a "
				  "date (2026-03-10) or an RFC 3339 time");
	if (!val_time_parse(out->from, &tf) || !val_time_parse(out->to, &tt) ||
	    tf >= tt)
		return usage(out, "export: FROM must be earlier than TO");
	len = next_word(&p, &w);
	if (len == 0)
		return usage(out, use);
	sbuf_add(&out->file, w, len);
	if (!parse_args(p, out))
		return usage(out, "export: after FILE come key=value "
				  "arguments, quoted as in the protocol");
	for (size_t i = 0; i < out->args.nargs; i++) {
		const char *k = out->args.args[i].key;
		const char *v = out->args.args[i].value;

		if (!key_in(k, out->what[0] == 'c' ? complaint_keys :
				 stats_keys))
			return usage(out, out->what[0] == 'c' ?
				     "export complaints takes state=, queue=, "
				     "assignee=, customer=" :
				     "export stats takes agent=, team=, "
				     "queue= or dept= (lists allowed) and "
				     "by=day");
		if (strcmp(k, "by") == 0 && strcmp(v, "day") != 0)
			return usage(out, "export stats: by=day is the only "
					  "breakdown");
		if (key_in(k, selections))
			nsel++;
		if (key_in(k, selections) && v[0] == '\0')
			return usage(out, "export stats: a selection names "
					  "someone");
	}
	if (nsel > 1)
		return usage(out, "export stats: at most one of agent=, team=, "
				  "queue=, dept=");
	return out->kind = SHORTCUT_EXPORT;
}

/* The report word at the start of line, if any. */
static enum shortcut_kind expand_report_word(const char *word, size_t len,
					     const char *rest,
					     struct shortcut_result *out)
{
	if (len == 5 && memcmp(word, "stats", 5) == 0)
		return expand_stats(rest, out);
	if (len == 6 && memcmp(word, "export", 6) == 0)
		return expand_export(rest, out);
	return out->kind = SHORTCUT_NONE;
}

enum shortcut_kind shortcut_expand_report(const char *line,
					  struct shortcut_result *out)
{
	const char *p = line, *word;

	memset(out, 0, sizeof *out);
	size_t len = next_word(&p, &word);
	while (*p == ' ')
		p++;
	/* A trailing CR/LF, as a script line may carry. */
	char rest[8192];
	size_t n = strlen(p);
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r' ||
			 p[n - 1] == ' '))
		n--;
	if (n >= sizeof rest)
		return usage(out, "the line is too long");
	memcpy(rest, p, n);
	rest[n] = '\0';
	return expand_report_word(word, len, rest, out);
}

enum shortcut_kind shortcut_expand(const char *line,
				   struct shortcut_result *out)
{
	const char *p = line, *word;

	memset(out, 0, sizeof *out);
	size_t len = next_word(&p, &word);
	const struct shortcut *sc = NULL;
	for (size_t i = 0; i < NSHORTCUTS && sc == NULL; i++)
		if (strlen(shortcuts[i].name) == len &&
		    memcmp(shortcuts[i].name, word, len) == 0)
			sc = &shortcuts[i];
	if (sc == NULL)
		return out->kind = SHORTCUT_NONE;

	while (*p == ' ')
		p++;
	size_t rest = strlen(p);
	while (rest > 0 && (p[rest - 1] == ' ' || p[rest - 1] == '\n' ||
			    p[rest - 1] == '\r'))
		rest--;

	if (sc->expansion != NULL) {
		if (rest > 0 && !sc->takes_args)
			return usage(out, "this shortcut takes no arguments");
		sbuf_adds(&out->request, sc->expansion);
		if (rest > 0) {
			sbuf_adds(&out->request, " ");
			sbuf_add(&out->request, p, rest);
		}
		return out->kind = SHORTCUT_SEND;
	}
	if (strcmp(sc->name, "resolve") == 0)
		return expand_resolve(p, out);
	if (strcmp(sc->name, "stats") == 0 || strcmp(sc->name, "export") == 0)
		return shortcut_expand_report(line, out);
	if (strcmp(sc->name, "help") == 0) {
		out->topic = p;
		return out->kind = SHORTCUT_HELP;
	}
	if (rest > 0)
		return usage(out, "quit takes no arguments");
	return out->kind = SHORTCUT_QUIT;
}
