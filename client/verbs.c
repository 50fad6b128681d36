/* verbs.c: the const table of the protocol's verbs (PROTOCOL.md §5-11),
 * and what the client derives from it: completion candidates, local help,
 * which requests get an idempotency key. */
#include "verbs.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ANY ""
#define SUP "supervisor"
#define ADM "admin"
#define IDEM VERB_IDEM

static const struct verb_spec verbs[] = {
	/* §5 session, users */
	{"LOGIN", NULL, "user=NAME password=SECRET", ANY, VERB_ANONYMOUS,
	 "log in (the client does it for you)"},
	{"PING", NULL, "", ANY, VERB_ANONYMOUS, "check that the server answers"},
	{"LOGOUT", NULL, "", ANY, VERB_ANONYMOUS, "end the session"},
	{"PASSWORD", NULL, "old=SECRET new=SECRET", ANY, IDEM,
	 "change your own password"},
	{"USER", "ADD",
	 "name=NAME role=agent|supervisor|admin|integration [tier=N] "
	 "[skills=LIST] [team=NAME] [dept=NAME] [capacity=N] password=SECRET",
	 ADM, IDEM, "create a user"},
	{"USER", "SET",
	 "name=NAME [tier=N] [skills=LIST] [team=NAME] [dept=NAME] "
	 "[capacity=N] [enabled=yes|no] [password=SECRET]",
	 ADM, IDEM, "change a user"},
	{"RELOAD", NULL, "", ADM, IDEM, "reread configuration and rules"},
	/* §6 agent state; STATE SET carries no key on purpose: after a
	 * reconnect the login has reset the state, and a replayed answer
	 * would hide that. */
	{"STATE", NULL, "", ANY, 0, "show your state and activity"},
	{"STATE", "SET", "state=ready|not-ready|break|wrap-up [reason=TEXT]",
	 ANY, 0, "set your state"},
	/* §7 customers and interactions */
	{"CUSTOMER", "ADD",
	 "name=TEXT [phone=TEXT] [email=TEXT] [vip=yes|no] [ref=TEXT]", ANY,
	 IDEM, "record a customer"},
	{"CUSTOMER", "GET", "id=ID", ANY, 0, "show a customer"},
	{"CUSTOMER", "SET",
	 "id=ID [name=TEXT] [phone=TEXT] [email=TEXT] [vip=yes|no] "
	 "[ref=TEXT]", ANY, IDEM, "change a customer"},
	{"CUSTOMER", "FIND",
	 "[phone=TEXT] [email=TEXT] [name=TEXT] [ref=TEXT] [limit=N]", ANY, 0,
	 "find customers (at least one criterion)"},
	{"CUSTOMER", "ERASE", "id=ID reason=TEXT", ADM, IDEM,
	 "replace a customer's personal data by a tombstone"},
	{"INTERACTION", "START",
	 "customer=ID channel=phone|chat|email|web|walk-in|social "
	 "direction=inbound|outbound [complaint=ID]", ANY, IDEM,
	 "start an interaction with a customer"},
	{"INTERACTION", "NOTE", "id=ID text=TEXT", ANY, IDEM,
	 "note something on an interaction"},
	{"INTERACTION", "END",
	 "id=ID outcome=resolved|follow-up|transferred|abandoned", ANY, IDEM,
	 "end an interaction"},
	{"INTERACTION", "GET", "id=ID", ANY, 0,
	 "show an interaction and its notes"},
	/* §8 complaints */
	{"COMPLAINT", "OPEN",
	 "customer=ID category=NAME severity=1|2|3|4 summary=TEXT "
	 "[interaction=ID] [queue=NAME]", ANY, IDEM, "open a complaint"},
	{"COMPLAINT", "GET", "id=ID", ANY, 0,
	 "show a complaint and its history"},
	{"COMPLAINT", "LIST",
	 "[state=new|assigned|waiting|escalated|resolved|closed|reopened] "
	 "[queue=NAME] [assignee=me|NAME] [customer=ID] [limit=N]", ANY, 0,
	 "list complaints"},
	{"COMPLAINT", "NOTE", "id=ID text=TEXT [reply=yes]", ANY, IDEM,
	 "note on a complaint; reply=yes marks the answer to the customer"},
	{"COMPLAINT", "TAKE", "id=ID", ANY, IDEM, "take a waiting complaint"},
	{"COMPLAINT", "RESOLVE",
	 "id=ID action=refund|credit|voucher|fee-waiver|apology|explanation|"
	 "callback|replacement|repair [amount=AMOUNT] resolution=TEXT "
	 "[justify_later=yes]", ANY, IDEM,
	 "resolve within your authority, or escalate beyond it"},
	{"COMPLAINT", "WAIT", "id=ID reason=TEXT [until=TIME]", ANY, IDEM,
	 "wait for the customer (stops the resolve clock)"},
	{"COMPLAINT", "RESUME", "id=ID", ANY, IDEM, "stop waiting"},
	{"COMPLAINT", "REOPEN", "id=ID reason=TEXT", ANY, IDEM,
	 "reopen a resolved or closed complaint"},
	{"COMPLAINT", "CLOSE", "id=ID", ANY, IDEM,
	 "close a resolved complaint"},
	/* §9 empowerment */
	{"ADVISE", NULL,
	 "complaint=ID action=refund|credit|voucher|fee-waiver|apology|"
	 "explanation|callback|replacement|repair [amount=AMOUNT]", ANY, 0,
	 "ask what the rules would decide, without doing it"},
	{"RULES", NULL, "", ANY, 0, "show your authority and budget"},
	{"ESCALATE", NULL, "complaint=ID reason=TEXT [to=APPROVER]", ANY, IDEM,
	 "ask someone with more authority"},
	{"ESCALATION", "LIST",
	 "[state=pending|approved|rejected|withdrawn] [mine=yes] [limit=N]",
	 ANY, 0, "list escalations"},
	{"ESCALATION", "WITHDRAW", "id=ID", ANY, IDEM,
	 "withdraw your escalation"},
	{"ESCALATION", "RAISE", "id=ID [to=APPROVER] [reason=TEXT]", ANY, IDEM,
	 "pass an escalation up the chain"},
	{"APPROVE", NULL, "escalation=ID [note=TEXT]", ANY, IDEM,
	 "approve an escalation"},
	{"REJECT", NULL, "escalation=ID reason=TEXT", ANY, IDEM,
	 "reject an escalation"},
	{"JUSTIFY", NULL, "complaint=ID text=TEXT", ANY, IDEM,
	 "give the justification owed by justify_later=yes"},
	/* §10 queues, routing, live events */
	{"QUEUE", "LIST", "", ANY, 0, "show the queues"},
	{"CATEGORY", "LIST", "", ANY, 0,
	 "show categories and their service levels"},
	{"DEPT", "LIST", "", ANY, 0, "show departments"},
	{"NEXT", NULL, "", ANY, IDEM, "take the next complaint for you"},
	{"ASSIGN", NULL, "complaint=ID agent=NAME", SUP, IDEM,
	 "assign a complaint to an agent"},
	{"WATCH", NULL, "[queues=LIST]", SUP, 0, "receive live events"},
	{"UNWATCH", NULL, "", ANY, 0, "stop receiving live events"},
	/* §11 hand-offs, feedback, figures */
	{"HANDOFF", "OPEN", "complaint=ID dept=NAME request=TEXT", ANY, IDEM,
	 "hand a complaint to a department"},
	{"HANDOFF", "ACK", "id=ID", ANY, IDEM, "acknowledge a hand-off"},
	{"HANDOFF", "DONE", "id=ID result=TEXT", ANY, IDEM,
	 "answer a hand-off"},
	{"HANDOFF", "RATE", "id=ID score=1|2|3|4|5 [comment=TEXT]", ANY, IDEM,
	 "rate the help a department gave"},
	{"HANDOFF", "LIST",
	 "[dept=NAME] [state=open|acknowledged|done] [complaint=ID] "
	 "[limit=N]", ANY, 0, "list hand-offs"},
	{"FEEDBACK", NULL, "complaint=ID csat=1|2|3|4|5 [comment=TEXT]", ANY,
	 IDEM, "record the customer's satisfaction"},
	{"STATS", NULL,
	 "[agent=me|NAME] [team=NAME] [queue=NAME] [dept=NAME] [from=TIME] "
	 "[to=TIME]", ANY, 0, "show figures (by default yours, today)"},
	/* The project's own addition: the server's list of verbs. */
	{"HELP", NULL, "", ANY, VERB_ANONYMOUS, "ask the server for its verbs"},
};

const struct verb_spec *verb_table(size_t *count)
{
	*count = sizeof verbs / sizeof verbs[0];
	return verbs;
}

static bool word_eq(const char *a, const char *b)
{
	if (a == NULL || *a == '\0')
		return b == NULL || *b == '\0';
	return b != NULL && strcasecmp(a, b) == 0;
}

const struct verb_spec *verb_find(const char *verb, const char *subverb)
{
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcasecmp(verbs[i].verb, verb) == 0 &&
		    word_eq(subverb, verbs[i].subverb))
			return &verbs[i];
	return NULL;
}

bool verb_has_subverbs(const char *verb)
{
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcasecmp(verbs[i].verb, verb) == 0 &&
		    verbs[i].subverb != NULL)
			return true;
	return false;
}

bool verb_wants_idem(const char *verb, const char *subverb)
{
	const struct verb_spec *v = verb_find(verb, subverb);

	if (v == NULL)
		return true;
	return (v->flags & VERB_IDEM) != 0;
}

/* ---- completion ------------------------------------------------------ */

struct span {
	size_t start;
	size_t len;
};

#define MAX_WORDS 64

/* Splits line[0..n) into words separated by spaces, honouring quoted
 * values ("a b", with backslash escapes). The last span is the word the
 * cursor is in, empty when the line ends with a space. */
static size_t split_words(const char *line, size_t n, struct span *w)
{
	size_t count = 0, i = 0;

	for (;;) {
		while (i < n && line[i] == ' ')
			i++;
		size_t start = i;
		bool quoted = false;
		while (i < n && (quoted || line[i] != ' ')) {
			if (line[i] == '"')
				quoted = !quoted;
			else if (quoted && line[i] == '\\' && i + 1 < n)
				i++;
			i++;
		}
		if (count < MAX_WORDS) {
			w[count].start = start;
			w[count].len = i - start;
			count++;
		}
		if (i >= n)
			break;
	}
	return count;
}

static bool has_prefix_ci(const char *s, size_t slen, const char *p,
			  size_t plen)
{
	return slen >= plen && strncasecmp(s, p, plen) == 0;
}

static void add_cand(struct verb_completion *out, const char *text,
		     size_t len)
{
	for (size_t i = 0; i < out->count; i++)
		if (out->cands[i].len == len &&
		    strncmp(out->cands[i].text, text, len) == 0)
			return;
	if (out->count < VERB_CAND_MAX) {
		out->cands[out->count].text = text;
		out->cands[out->count].len = len;
		out->count++;
	}
}

/* Copies a word into buf as a NUL-terminated string (truncated). */
static void word_copy(char *buf, size_t size, const char *line,
		      const struct span *w)
{
	size_t len = w->len < size - 1 ? w->len : size - 1;

	memcpy(buf, line + w->start, len);
	buf[len] = '\0';
}

/* Walks the tokens of an args usage string. For each token sets key (with
 * its '='), and vals (what follows '='). Returns false at the end. */
struct arg_iter {
	const char *p;
};

static bool arg_next(struct arg_iter *it, struct verb_cand *key,
		     struct verb_cand *vals)
{
	const char *p = it->p;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return false;
	const char *end = p + strcspn(p, " ");
	it->p = end;
	if (*p == '[')
		p++;
	if (end > p && end[-1] == ']')
		end--;
	const char *eq = memchr(p, '=', (size_t)(end - p));
	if (eq == NULL) {
		key->text = p;
		key->len = (size_t)(end - p);
		vals->text = end;
		vals->len = 0;
		return true;
	}
	key->text = p;
	key->len = (size_t)(eq + 1 - p);
	vals->text = eq + 1;
	vals->len = (size_t)(end - eq - 1);
	return true;
}

static bool word_has_key(const char *line, const struct span *w,
			 const struct verb_cand *key)
{
	return w->len >= key->len &&
	       strncasecmp(line + w->start, key->text, key->len) == 0;
}

static void complete_values(const struct verb_cand *vals, const char *typed,
			    size_t tlen, struct verb_completion *out)
{
	/* A placeholder in capitals (ID, TEXT) is not a list of values. */
	if (vals->len == 0 || (vals->text[0] >= 'A' && vals->text[0] <= 'Z'))
		return;
	const char *p = vals->text, *end = vals->text + vals->len;
	while (p < end) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		const char *stop = bar != NULL ? bar : end;
		if (has_prefix_ci(p, (size_t)(stop - p), typed, tlen))
			add_cand(out, p, (size_t)(stop - p));
		p = stop + 1;
	}
}

void verbs_complete(const char *line, size_t cursor,
		    const char *const *extra_words,
		    struct verb_completion *out)
{
	struct span w[MAX_WORDS];
	size_t nw = split_words(line, cursor, w);
	const struct span *cur = &w[nw - 1];
	const char *typed = line + cur->start;
	size_t tlen = cur->len;
	size_t nverbs = sizeof verbs / sizeof verbs[0];

	memset(out, 0, sizeof *out);
	out->start = cur->start;
	/* Verbs come back in the case the user started them in. */
	out->lower = w[0].len > 0 && line[w[0].start] >= 'a' &&
		     line[w[0].start] <= 'z';
	if (nw == 1) {
		for (size_t i = 0; i < nverbs; i++)
			if (has_prefix_ci(verbs[i].verb, strlen(verbs[i].verb),
					  typed, tlen))
				add_cand(out, verbs[i].verb,
					 strlen(verbs[i].verb));
		for (size_t i = 0; extra_words != NULL && extra_words[i]; i++)
			if (strncmp(extra_words[i], typed, tlen) == 0)
				add_cand(out, extra_words[i],
					 strlen(extra_words[i]));
		return;
	}

	char verb[PROTO_WORD_MAX + 1], sub[PROTO_WORD_MAX + 1] = "";
	word_copy(verb, sizeof verb, line, &w[0]);
	bool has_sub = verb_has_subverbs(verb);
	if (has_sub && nw == 2 && memchr(typed, '=', tlen) == NULL) {
		for (size_t i = 0; i < nverbs; i++)
			if (verbs[i].subverb != NULL &&
			    strcasecmp(verbs[i].verb, verb) == 0 &&
			    has_prefix_ci(verbs[i].subverb,
					  strlen(verbs[i].subverb), typed,
					  tlen))
				add_cand(out, verbs[i].subverb,
					 strlen(verbs[i].subverb));
		return;
	}
	if (has_sub)
		word_copy(sub, sizeof sub, line, &w[1]);
	const struct verb_spec *spec = verb_find(verb, sub);
	if (spec == NULL)
		return;

	struct arg_iter it = {spec->args};
	struct verb_cand key, vals;
	const char *eq = memchr(typed, '=', tlen);
	if (eq != NULL) {
		/* Values of the key being typed. */
		size_t klen = (size_t)(eq + 1 - typed);
		while (arg_next(&it, &key, &vals))
			if (key.len == klen &&
			    strncasecmp(key.text, typed, klen) == 0) {
				out->start = cur->start + klen;
				complete_values(&vals, eq + 1, tlen - klen, out);
				return;
			}
		return;
	}
	out->is_key = true;
	size_t first_arg = has_sub ? 2 : 1;
	while (arg_next(&it, &key, &vals)) {
		if (key.len == 0 || key.text[key.len - 1] != '=')
			continue;
		bool given = false;
		for (size_t i = first_arg; i + 1 < nw && !given; i++)
			given = word_has_key(line, &w[i], &key);
		if (!given && has_prefix_ci(key.text, key.len, typed, tlen))
			add_cand(out, key.text, key.len);
	}
}

/* ---- help ------------------------------------------------------------ */

size_t verbs_help(struct sbuf *out, const char *topic)
{
	char t1[PROTO_WORD_MAX + 1] = "", t2[PROTO_WORD_MAX + 1] = "";
	size_t n = 0;

	if (topic != NULL) {
		struct span w[MAX_WORDS];
		size_t nw = split_words(topic, strlen(topic), w);
		if (nw >= 1)
			word_copy(t1, sizeof t1, topic, &w[0]);
		if (nw >= 2)
			word_copy(t2, sizeof t2, topic, &w[1]);
	}
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		const struct verb_spec *v = &verbs[i];
		if (t1[0] != '\0' && strcasecmp(t1, v->verb) != 0)
			continue;
		if (t2[0] != '\0' &&
		    (v->subverb == NULL || strcasecmp(t2, v->subverb) != 0))
			continue;
		char name[2 * PROTO_WORD_MAX + 2];
		snprintf(name, sizeof name, "%s%s%s", v->verb,
			 v->subverb != NULL ? " " : "",
			 v->subverb != NULL ? v->subverb : "");
		if (t1[0] == '\0') {
			/* The overview: one line each. */
			sbuf_printf(out, "  %-20s %s\n", name, v->summary);
		} else {
			sbuf_printf(out, "  %s%s%s\n      %s", name,
				    v->args[0] != '\0' ? " " : "", v->args,
				    v->summary);
			if (v->role[0] != '\0')
				sbuf_printf(out, " (%s)", v->role);
			sbuf_adds(out, "\n");
		}
		n++;
	}
	return n;
}
