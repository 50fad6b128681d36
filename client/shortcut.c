/* shortcut.c: the words an agent types all day, expanded into the
 * protocol's requests. One table holds them; resolve is the only one with
 * real parsing: "resolve ID ACTION [AMOUNT] TEXT...". */
#include "shortcut.h"

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
	{"help", NULL, false, "help [VERB [SUBVERB]]",
	 "this help, or the arguments of a verb"},
	{"quit", NULL, false, "quit", "leave (also exit, or Ctrl-D)"},
	{"exit", NULL, false, NULL, NULL},
};

#define NSHORTCUTS (sizeof shortcuts / sizeof shortcuts[0])

const char *const *shortcut_names(void)
{
	static const char *const names[NSHORTCUTS + 1] = {
		"next", "mine", "authority", "resolve", "help", "quit", "exit",
		NULL};
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
	if (strcmp(sc->name, "help") == 0) {
		out->topic = p;
		return out->kind = SHORTCUT_HELP;
	}
	if (rest > 0)
		return usage(out, "quit takes no arguments");
	return out->kind = SHORTCUT_QUIT;
}
