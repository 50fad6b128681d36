/* rules.c: the empowerment engine. Owns the value forms of the rules
 * language (grants, conditions, decisions, chain levels; config.c owns
 * the sections and keys that hold them) and the decisions taken from the
 * compiled rules: ADVISE and RESOLVE (rules_decide), APPROVE
 * (rules_can_approve), the escalation chains and the RULES listing.
 *
 * The decision path reads only the configuration and the facts: no I/O,
 * no allocation, no clock, so it is deterministic, and fast: well under a
 * microsecond for a dozen rules. */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "values.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DAY 86400
#define MAX_WORDS 8
#define WORD_MAX 64

static const char *const action_names[RULES_NACTIONS] = {
	"refund", "credit", "voucher", "fee-waiver",
	"apology", "explanation", "callback", "replacement", "repair",
};

#define ACTION_LIST "refund, credit, voucher, fee-waiver, apology, " \
	"explanation, callback, replacement, repair"
#define APPROVER_FORM "role:agent, role:supervisor, role:admin, " \
	"dept:NAME or user:NAME"
#define DURATION_FORM "90, 90s, 15m, 4h, 3d"

/* Roles an approver may name (PROTOCOL.md §5: integration approves
 * nothing). */
static const char *const approver_roles[] = { "agent", "supervisor",
					      "admin" };

/* Escalations for actions no chain serves go to a supervisor within a
 * day. */
static const struct rules_chain builtin_chain = {
	.name = "built-in",
	.level = { { "role:supervisor", -1, DAY } },
	.nlevels = 1,
};

/* ---- actions ---- */

const char *rules_action_name(size_t i)
{
	return i < RULES_NACTIONS ? action_names[i] : NULL;
}

int rules_action_index(const char *action)
{
	if (action == NULL)
		return -1;
	for (size_t i = 0; i < RULES_NACTIONS; i++)
		if (strcmp(action_names[i], action) == 0)
			return (int)i;
	return -1;
}

bool rules_action_known(const char *action)
{
	return rules_action_index(action) >= 0;
}

static bool is_money(int a)
{
	return a >= 0 && a < RULES_NMONEY;
}

bool rules_action_is_money(const char *action)
{
	return is_money(rules_action_index(action));
}

const char *rules_decision_name(enum rules_decision d)
{
	switch (d) {
	case RULES_ALLOW: return "allow";
	case RULES_ESCALATE: return "escalate";
	case RULES_DENY: return "deny";
	}
	return "deny";
}

/* ---- the compiled form ---- */

void rules_init(struct rules *r, int currency_digits)
{
	memset(r, 0, sizeof *r);
	r->currency_digits = currency_digits;
	r->policy.fallback.decision = RULES_ALLOW;
	r->policy.customer_cap = -1;
	r->policy.customer_cap_vip = -1;
	r->policy.over_cap.decision = RULES_ESCALATE;
	r->policy.justify_within = DAY;
}

void rules_clear(struct rules *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrules; i++)
		free(r->rules[i].categories);
	free(r->rules);
	free(r->chains);
	free(r->users);
	rules_init(r, r->currency_digits);
}

/* ---- words ---- */

/* A value cut at blanks; the words point into the value. */
struct words {
	const char *w[MAX_WORDS];
	size_t len[MAX_WORDS];
	size_t n;
	bool too_many;
};

static void split_words(const char *v, struct words *out)
{
	memset(out, 0, sizeof *out);
	for (;;) {
		v += strspn(v, " \t");
		if (*v == '\0')
			return;
		size_t n = strcspn(v, " \t");
		if (out->n == MAX_WORDS) {
			out->too_many = true;
			return;
		}
		out->w[out->n] = v;
		out->len[out->n++] = n;
		v += n;
	}
}

static bool word_is(const struct words *ws, size_t i, const char *s)
{
	return i < ws->n && ws->len[i] == strlen(s) &&
	       memcmp(ws->w[i], s, ws->len[i]) == 0;
}

/* Copies word i into out[WORD_MAX]; false when it does not fit (it is
 * then no valid value anyway: the copy is cut). */
static bool word_copy(const struct words *ws, size_t i, char out[WORD_MAX])
{
	size_t n = ws->len[i] < WORD_MAX ? ws->len[i] : WORD_MAX - 1;

	memcpy(out, ws->w[i], n);
	out[n] = '\0';
	return ws->len[i] < WORD_MAX;
}

/* ---- value parsers ---- */

bool rules_parse_money(const char *v, int digits, int64_t *out, char *msg,
		       size_t size)
{
	if (val_money_parse(v, digits, out))
		return true;
	if (digits == 0)
		snprintf(msg, size, "'%s' is not an amount (whole units, as in "
			 "50)", v);
	else
		snprintf(msg, size, "'%s' is not an amount (as in 50.00, at "
			 "most %d decimals)", v, digits);
	return false;
}

bool rules_parse_grant(int action, const char *v, int digits, int64_t *out,
		       char *msg, size_t size)
{
	bool yes;

	if (is_money(action)) {
		if (strcmp(v, "no") == 0) {
			*out = 0;
			return true;
		}
		if (strcmp(v, "yes") == 0) {
			snprintf(msg, size, "a money action takes a limit (as "
				 "in 50.00) or no, not yes");
			return false;
		}
		return rules_parse_money(v, digits, out, msg, size);
	}
	if (!val_bool(v, &yes)) {
		snprintf(msg, size, "'%s' is not yes or no", v);
		return false;
	}
	*out = yes;
	return true;
}

bool rules_parse_actions(const char *v, unsigned *mask, char *msg,
			 size_t size)
{
	unsigned m = 0;
	const char *p = v;

	for (;;) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, ",");
		size_t t = n;
		while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
			t--;
		int a = -1;
		for (size_t i = 0; i < RULES_NACTIONS; i++)
			if (strlen(action_names[i]) == t &&
			    memcmp(action_names[i], p, t) == 0)
				a = (int)i;
		if (t == 0) {
			snprintf(msg, size, "expected actions separated by "
				 "commas (%s), not '%s'", ACTION_LIST, v);
			return false;
		}
		if (a < 0) {
			snprintf(msg, size, "'%.*s' is not an action (%s)",
				 (int)t, p, ACTION_LIST);
			return false;
		}
		if (m & (1u << a)) {
			snprintf(msg, size, "'%s' is listed twice",
				 action_names[a]);
			return false;
		}
		m |= 1u << a;
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	*mask = m;
	return true;
}

/* Durations in conditions may be 0 ("resolve_left = under 0": overdue). */
static bool parse_duration0(const char *s, int *out)
{
	if (strcmp(s, "0") == 0 || (s[0] == '0' && s[1] != '\0' &&
				    strchr("smhd", s[1]) && s[2] == '\0')) {
		*out = 0;
		return true;
	}
	return cfg_parse_duration(s, out);
}

/* How each condition reads its values, and what they can be. */
struct cond_form {
	enum { CF_INT, CF_MONEY, CF_DURATION } type;
	const char *what;         /* "a severity (1 to 4)", for messages */
	int64_t min, max;         /* values the fact can take */
};

static const struct cond_form cond_forms[RULES_NCONDS] = {
	[RULES_C_SEVERITY] = { CF_INT, "a severity (1 to 4)", 1, 4 },
	[RULES_C_TIER] = { CF_INT, "a tier (1 to 9)", 1, RULES_MAX_TIER },
	[RULES_C_AMOUNT] = { CF_MONEY, NULL, 0, INT64_MAX },
	[RULES_C_CUSTOMER_30D] = { CF_MONEY, NULL, 0, INT64_MAX },
	[RULES_C_AGENT_TODAY] = { CF_MONEY, NULL, 0, INT64_MAX },
	[RULES_C_AGE] = { CF_DURATION, NULL, 0, INT64_MAX },
	[RULES_C_RESOLVE_LEFT] = { CF_DURATION, NULL, INT64_MIN, INT64_MAX },
};

static bool cond_value(const struct cond_form *cf, const char *s, int digits,
		       int64_t *out, char *msg, size_t size)
{
	long long n;
	int secs;

	switch (cf->type) {
	case CF_INT:
		if (val_int(s, cf->min, cf->max, &n)) {
			*out = n;
			return true;
		}
		snprintf(msg, size, "'%s' is not %s", s, cf->what);
		return false;
	case CF_MONEY:
		return rules_parse_money(s, digits, out, msg, size);
	case CF_DURATION:
		if (parse_duration0(s, &secs)) {
			*out = secs;
			return true;
		}
		snprintf(msg, size, "'%s' is not a duration (0, "
			 DURATION_FORM ")", s);
		return false;
	}
	return false;
}

bool rules_parse_range(enum rules_cond c, const char *v, int digits,
		       struct rules_range *out, char *msg, size_t size)
{
	const struct cond_form *cf = &cond_forms[c];
	struct words ws;
	char a[WORD_MAX], b[WORD_MAX];
	int64_t x, y;
	struct rules_range r = { cf->min, cf->max };

	split_words(v, &ws);
	/* Which word holds the value, and what bounds it sets. */
	if (ws.n == 1) {
		(void)word_copy(&ws, 0, a);
		if (!cond_value(cf, a, digits, &x, msg, size))
			return false;
		r.lo = r.hi = x;
	} else if (ws.n == 2 && (word_is(&ws, 0, "over") ||
				 word_is(&ws, 0, "under"))) {
		(void)word_copy(&ws, 1, a);
		if (!cond_value(cf, a, digits, &x, msg, size))
			return false;
		/* Values are whole (minor units, seconds), far from the
		 * int64 ends: "over 5.00" is "at least 5.01". */
		if (word_is(&ws, 0, "over"))
			r.lo = x + 1;
		else
			r.hi = x - 1;
	} else if (ws.n == 3 && word_is(&ws, 0, "at") &&
		   (word_is(&ws, 1, "least") || word_is(&ws, 1, "most"))) {
		(void)word_copy(&ws, 2, a);
		if (!cond_value(cf, a, digits, &x, msg, size))
			return false;
		if (word_is(&ws, 1, "least"))
			r.lo = x;
		else
			r.hi = x;
	} else if (ws.n == 3 && word_is(&ws, 1, "to")) {
		(void)word_copy(&ws, 0, a);
		(void)word_copy(&ws, 2, b);
		if (!cond_value(cf, a, digits, &x, msg, size) ||
		    !cond_value(cf, b, digits, &y, msg, size))
			return false;
		if (x > y) {
			snprintf(msg, size, "'%s': %s is above %s", v, a, b);
			return false;
		}
		r.lo = x;
		r.hi = y;
	} else {
		snprintf(msg, size, "'%s' is not a condition (X, over X, under "
			 "X, at least X, at most X, X to Y)", v);
		return false;
	}
	if (r.lo < cf->min)
		r.lo = cf->min;
	if (r.hi > cf->max)
		r.hi = cf->max;
	if (r.lo > r.hi) {
		snprintf(msg, size, "'%s' can never hold", v);
		return false;
	}
	*out = r;
	return true;
}

bool rules_approver_syntax(const char *s)
{
	if (strncmp(s, "role:", 5) == 0) {
		for (size_t i = 0; i < ARRAY_LEN(approver_roles); i++)
			if (strcmp(s + 5, approver_roles[i]) == 0)
				return true;
		return false;
	}
	if (strncmp(s, "dept:", 5) == 0)
		return val_name(s + 5);
	if (strncmp(s, "user:", 5) == 0)
		return val_name(s + 5) && strcmp(s + 5, "me") != 0;
	return false;
}

const char *rules_approver_dept(const char *approver)
{
	return strncmp(approver, "dept:", 5) == 0 ? approver + 5 : NULL;
}

/* Word i of ws as an approver into out[RULES_APPROVER_MAX]. */
static bool approver_word(const struct words *ws, size_t i,
			  char out[RULES_APPROVER_MAX], char *msg, size_t size)
{
	char w[WORD_MAX];

	if (!word_copy(ws, i, w) || strlen(w) >= RULES_APPROVER_MAX ||
	    !rules_approver_syntax(w)) {
		snprintf(msg, size, "'%.*s' is not an approver (%s)",
			 (int)ws->len[i], ws->w[i], APPROVER_FORM);
		return false;
	}
	memcpy(out, w, strlen(w) + 1);
	return true;
}

/* Word i of ws as an approver's deadline. */
static bool within_word(const struct words *ws, size_t i, int *out,
			char *msg, size_t size)
{
	char w[WORD_MAX];

	if (word_copy(ws, i, w) && cfg_parse_duration(w, out))
		return true;
	snprintf(msg, size, "'%.*s' is not a duration (" DURATION_FORM ")",
		 (int)ws->len[i], ws->w[i]);
	return false;
}

bool rules_parse_verdict(const char *v, struct rules_verdict *out,
			 char *msg, size_t size)
{
	struct words ws;
	struct rules_verdict r = { 0 };

	split_words(v, &ws);
	if (ws.n == 1 && word_is(&ws, 0, "allow")) {
		r.decision = RULES_ALLOW;
	} else if (ws.n == 1 && word_is(&ws, 0, "deny")) {
		r.decision = RULES_DENY;
	} else if (ws.n == 1 && word_is(&ws, 0, "escalate")) {
		r.decision = RULES_ESCALATE;
	} else if (ws.n >= 2 && word_is(&ws, 0, "escalate") &&
		   word_is(&ws, 1, "to")) {
		r.decision = RULES_ESCALATE;
		if (ws.n < 3) {
			snprintf(msg, size, "escalate to whom? (escalate to "
				 "APPROVER within DURATION)");
			return false;
		}
		if (!approver_word(&ws, 2, r.approver, msg, size))
			return false;
		if (ws.n == 3) {
			snprintf(msg, size, "'%s': add 'within DURATION', the "
				 "approver's deadline", v);
			return false;
		}
		if (ws.n != 5 || !word_is(&ws, 3, "within")) {
			snprintf(msg, size, "expected escalate to APPROVER "
				 "within DURATION, not '%s'", v);
			return false;
		}
		if (!within_word(&ws, 4, &r.within, msg, size))
			return false;
	} else {
		snprintf(msg, size, "'%s' is not a decision (allow, deny, "
			 "escalate, escalate to APPROVER within DURATION)", v);
		return false;
	}
	*out = r;
	return true;
}

bool rules_parse_level(const char *v, int digits, struct rules_level *out,
		       char *msg, size_t size)
{
	struct words ws;
	struct rules_level l = { .up_to = -1 };
	size_t at = 1;
	char a[WORD_MAX];

	split_words(v, &ws);
	if (ws.n == 6 && word_is(&ws, 1, "up") && word_is(&ws, 2, "to")) {
		(void)word_copy(&ws, 3, a);
		if (!rules_parse_money(a, digits, &l.up_to, msg, size))
			return false;
		at = 4;
	}
	if (ws.n != at + 2 || !word_is(&ws, at, "within")) {
		snprintf(msg, size, "expected APPROVER [up to AMOUNT] within "
			 "DURATION (as in role:supervisor up to 500.00 within "
			 "4h), not '%s'", v);
		return false;
	}
	if (!approver_word(&ws, 0, l.approver, msg, size) ||
	    !within_word(&ws, at + 1, &l.within, msg, size))
		return false;
	*out = l;
	return true;
}

/* ---- lookups ---- */

static const struct rules *rules_of(const struct config *cfg)
{
	return &cfg->catalog.rules;
}

static const struct rules_tier *tier_of(const struct rules *r, int tier)
{
	static const struct rules_tier none;

	return tier >= 1 && tier <= RULES_MAX_TIER ? &r->tier[tier] : &none;
}

/* The chain for action index a (-1: escalations without an action). */
static const struct rules_chain *chain_of(const struct rules *r, int a)
{
	const struct rules_chain *def = &builtin_chain;

	for (size_t i = 0; i < r->nchains; i++) {
		const struct rules_chain *c = &r->chains[i];
		if (a >= 0 && (c->actions & (1u << a)))
			return c;
		if (c->actions == 0 && def == &builtin_chain)
			def = c;
	}
	return def;
}

/* 1-based level of c taking amount. */
static int first_level(const struct rules_chain *c, int64_t amount)
{
	if (amount < 0)
		return 1;
	for (int i = 0; i < c->nlevels; i++)
		if (c->level[i].up_to < 0 || amount <= c->level[i].up_to)
			return i + 1;
	return c->nlevels;
}

int64_t rules_daily_budget(const struct config *cfg, int tier,
			   const char *user)
{
	const struct rules *r = rules_of(cfg);

	if (user != NULL)
		for (size_t i = 0; i < r->nusers; i++)
			if (strcmp(r->users[i].name, user) == 0)
				return r->users[i].daily_budget;
	return tier_of(r, tier)->daily_budget;
}

/* The tier allows action a for amount (money: 0 < amount's limit). */
static bool tier_covers(const struct rules_tier *t, int a, int64_t amount)
{
	if (!is_money(a))
		return t->limit[a] != 0;
	return t->limit[a] > 0 && amount <= t->limit[a];
}

/* ---- deciding ---- */

static bool in_categories(const struct rules_rule *rule, const char *cat)
{
	if (cat == NULL)
		return false;
	for (size_t i = 0; i < rule->ncategories; i++)
		if (strcmp(rule->categories[i], cat) == 0)
			return true;
	return false;
}

/* Every condition of rule holds for the facts (amount: -1 without money:
 * then an amount condition does not hold). */
static bool rule_matches(const struct rules_rule *rule,
			 const struct rule_facts *f, int a, int64_t amount)
{
	int64_t value[RULES_NCONDS] = {
		[RULES_C_SEVERITY] = f->severity,
		[RULES_C_TIER] = f->tier,
		[RULES_C_AMOUNT] = amount,
		[RULES_C_CUSTOMER_30D] = f->customer_goodwill_30d,
		[RULES_C_AGENT_TODAY] = f->agent_granted_today,
		[RULES_C_AGE] = f->complaint_age_s,
		[RULES_C_RESOLVE_LEFT] = f->resolve_left_s,
	};

	if (rule->actions != 0 && !(rule->actions & (1u << a)))
		return false;
	if (rule->vip >= 0 && rule->vip != (int)f->vip)
		return false;
	if (rule->categories != NULL && !in_categories(rule, f->category))
		return false;
	for (int c = 0; c < RULES_NCONDS; c++) {
		if (!(rule->ranges & (1u << c)))
			continue;
		if (c == RULES_C_AMOUNT && amount < 0)
			return false;
		if (value[c] < rule->range[c].lo ||
		    value[c] > rule->range[c].hi)
			return false;
	}
	return true;
}

static void set_name(struct rule_decision *out, const char *name)
{
	snprintf(out->rule, sizeof out->rule, "%s", name);
}

/* An escalation: to v's approver, else to the chain's level for amount. */
static void escalate(const struct rules *r, const struct rules_verdict *v,
		     int a, int64_t amount, struct rule_decision *out)
{
	const struct rules_chain *c = chain_of(r, a);
	int level = first_level(c, amount);

	out->decision = RULES_ESCALATE;
	out->level = level;
	if (v != NULL && v->approver[0] != '\0') {
		snprintf(out->approver, sizeof out->approver, "%s",
			 v->approver);
		out->due_s = v->within;
		return;
	}
	snprintf(out->approver, sizeof out->approver, "%s",
		 c->level[level - 1].approver);
	out->due_s = c->level[level - 1].within;
}

/* An allow by rule (NULL: the default) still has to fit the authority:
 * the customer's cap, the tier's limit, the budget left, in that order of
 * precedence (a cap that denies wins over any escalation). True when the
 * allow stands; otherwise a built-in rule has decided. */
static bool check_authority(const struct rules *r,
			    const struct rules_rule *rule,
			    const struct rule_facts *f, int a,
			    struct rule_decision *out)
{
	const struct rules_policy *p = &r->policy;
	const struct rules_tier *t = tier_of(r, f->tier);
	bool money = is_money(a);
	int64_t amount = money ? f->amount : -1;
	int64_t cap = f->vip && p->customer_cap_vip >= 0 ?
		p->customer_cap_vip : p->customer_cap;
	bool over_cap = money && cap >= 0 &&
		f->customer_goodwill_30d > cap - amount;

	if (over_cap && p->over_cap.decision == RULES_DENY) {
		out->decision = RULES_DENY;
		set_name(out, "customer-cap");
	} else if (!tier_covers(t, a, amount)) {
		escalate(r, NULL, a, amount, out);
		set_name(out, "tier-limit");
	} else if (money && amount > out->budget_left) {
		escalate(r, NULL, a, amount, out);
		set_name(out, "daily-budget");
	} else if (over_cap) {
		escalate(r, &p->over_cap, a, amount, out);
		set_name(out, "customer-cap");
	} else {
		out->decision = RULES_ALLOW;
		out->justify_later_ok = (p->justify_later & (1u << a)) != 0;
		out->justify_within_s = p->justify_within;
		if (rule != NULL && rule->justify_later >= 0)
			out->justify_later_ok = rule->justify_later == 1;
		if (rule != NULL && rule->justify_within > 0)
			out->justify_within_s = rule->justify_within;
		if (!out->justify_later_ok)
			out->justify_within_s = 0;
		return true;
	}
	return false;
}

void rules_decide(const struct config *cfg, const struct rule_facts *f,
		  struct rule_decision *out)
{
	const struct rules *r = rules_of(cfg);
	int a = rules_action_index(f->action);
	const struct rules_rule *rule = NULL;
	const struct rules_verdict *v = &r->policy.fallback;

	memset(out, 0, sizeof *out);
	out->limit = -1;
	out->budget_left = -1;
	if (a < 0) {
		out->decision = RULES_DENY;
		set_name(out, "unknown-action");
		return;
	}
	int64_t amount = is_money(a) ? f->amount : -1;
	if (is_money(a)) {
		int64_t left = rules_daily_budget(cfg, f->tier, f->user) -
			       f->agent_granted_today;
		out->limit = tier_of(r, f->tier)->limit[a];
		out->budget_left = left > 0 ? left : 0;
		if (amount < 0) {
			out->decision = RULES_DENY;
			set_name(out, "bad-amount");
			return;
		}
	}
	for (size_t i = 0; i < r->nrules; i++) {
		if (rule_matches(&r->rules[i], f, a, amount)) {
			rule = &r->rules[i];
			v = &rule->verdict;
			break;
		}
	}
	set_name(out, rule != NULL ? rule->name : "default");
	switch (v->decision) {
	case RULES_DENY:
		out->decision = RULES_DENY;
		break;
	case RULES_ESCALATE:
		escalate(r, v, a, amount, out);
		break;
	case RULES_ALLOW:
		if (!check_authority(r, rule, f, a, out))
			return;   /* a built-in rule decided: no message */
		break;
	}
	if (rule != NULL)
		snprintf(out->message, sizeof out->message, "%s",
			 rule->message);
}

bool rules_can_approve(const struct config *cfg, int approver_tier,
		       const char *approver_user, const char *action,
		       int64_t amount, int64_t approver_budget_left)
{
	const struct rules *r = rules_of(cfg);
	int a;

	(void)approver_user;
	if (action == NULL || action[0] == '\0')
		return true;
	a = rules_action_index(action);
	if (a < 0)
		return false;
	if (!tier_covers(tier_of(r, approver_tier), a, amount))
		return false;
	return !is_money(a) || (amount >= 0 && amount <= approver_budget_left);
}

/* The action index of a chain lookup: -1 for none; -2 for unknown. */
static int chain_action(const char *action)
{
	if (action == NULL || action[0] == '\0')
		return -1;
	int a = rules_action_index(action);
	return a >= 0 ? a : -2;
}

bool rules_chain_level(const struct config *cfg, const char *action,
		       int64_t amount, int level, char *approver, size_t len,
		       int *due_s)
{
	int a = chain_action(action);
	const struct rules_chain *c;

	(void)amount;
	if (len > 0)
		approver[0] = '\0';
	if (a == -2)
		return false;
	c = chain_of(rules_of(cfg), a);
	if (level < 1 || level > c->nlevels)
		return false;
	snprintf(approver, len, "%s", c->level[level - 1].approver);
	*due_s = c->level[level - 1].within;
	return true;
}

int rules_chain_first_level(const struct config *cfg, const char *action,
			    int64_t amount)
{
	int a = chain_action(action);

	if (a < 0 || !is_money(a))
		return 1;
	return first_level(chain_of(rules_of(cfg), a), amount);
}

bool rules_approver_valid(const struct config *cfg, const char *approver)
{
	const char *dept;

	if (approver == NULL || strlen(approver) >= RULES_APPROVER_MAX ||
	    !rules_approver_syntax(approver))
		return false;
	dept = rules_approver_dept(approver);
	return dept == NULL || cfg_find_dept(cfg, dept) != NULL;
}

/* ---- RULES ---- */

size_t rules_tier_grants(const struct config *cfg, int tier,
			 struct rules_grant out[RULES_NACTIONS])
{
	const struct rules_tier *t = tier_of(rules_of(cfg), tier);

	for (int a = 0; a < RULES_NACTIONS; a++) {
		out[a].action = action_names[a];
		out[a].money = is_money(a);
		out[a].allowed = t->limit[a] > 0;
		out[a].limit = is_money(a) ? t->limit[a] : -1;
	}
	return RULES_NACTIONS;
}
