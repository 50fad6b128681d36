/* test_rules.c: unit tests of the empowerment engine (server/rules.c) and
 * of the rules-file sections that feed it (server/config.c).
 *
 * The decisions are data: rules_cases.txt holds one case a line against
 * the rules files beside it (rules_test.conf, rules_strict.conf). The
 * errors of the rules language are a table here: a rules file, the exact
 * "FILE:LINE: message" lines it must give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "rules.h"
#include "values.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ERRS 16
#define MAX_WANT 4
#define MAX_TOKENS 24
#define DIGITS 2                  /* EUR, the default currency */
#define SPACE " \t\r\n"            /* between the tokens of a case */

/* ---- fixture: a temporary folder and the errors of the last load ---- */

struct fx {
	char dir[64];
	char conf[128];
	char *errs[MAX_ERRS];
	int nerrs;
	struct config *cfg;
};

static void collect(void *ctx, const char *line)
{
	struct fx *fx = ctx;

	if (fx->nerrs < MAX_ERRS)
		fx->errs[fx->nerrs] = strdup(line);
	fx->nerrs++;
}

static void clear_errs(struct fx *fx)
{
	for (int i = 0; i < fx->nerrs && i < MAX_ERRS; i++)
		free(fx->errs[i]);
	fx->nerrs = 0;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);

	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/calldesk-rules.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->conf, sizeof fx->conf, "%s/calldeskd.conf", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	config_free(&fx->cfg);
	clear_errs(fx);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void write_text(const struct fx *fx, const char *name,
		       const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", fx->dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Loads a configuration naming rules (a path as the [rules] file value)
 * with the given currency; returns config_load's result. */
static int load(struct fx *fx, const char *rules, const char *currency)
{
	char text[1024];

	snprintf(text, sizeof text, "[server]\ntls_cert = c\ntls_key = k\n"
		 "currency = %s\n[database]\nconninfo = x\n[rules]\n"
		 "file = %s\n", currency, rules);
	write_text(fx, "calldeskd.conf", text);
	config_free(&fx->cfg);
	clear_errs(fx);
	return config_load(fx->conf, &fx->cfg, collect, fx);
}

static void print_errs(const struct fx *fx)
{
	for (int i = 0; i < fx->nerrs && i < MAX_ERRS; i++)
		print_message("  got: %s\n", fx->errs[i]);
}

/* A file of tests/unit, wherever the test runs from. */
static bool find_unit_file(const char *name, char *out, size_t size)
{
	static const char *const rel[] = { "tests/unit", "../tests/unit",
					   "../../tests/unit", "." };
	const char *bases[] = { getenv("CALLDESK_UNIT_DIR"), NULL };
	const char *srcdir = getenv("srcdir");

	if (bases[0] != NULL) {
		snprintf(out, size, "%s/%s", bases[0], name);
		return access(out, R_OK) == 0;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ARRAY_LEN(rel); i++) {
			if (pass == 0 && srcdir == NULL)
				break;
			snprintf(out, size, "%s%s%s/%s",
				 pass == 0 ? srcdir : "", pass == 0 ? "/" : "",
				 rel[i], name);
			if (access(out, R_OK) == 0)
				return true;
		}
	}
	return false;
}

/* Loads tests/unit/name; the test fails if it does not load cleanly. */
static void load_unit_conf(struct fx *fx, const char *name)
{
	char path[512];
	char *abs;

	if (!find_unit_file(name, path, sizeof path))
		fail_msg("%s not found (set CALLDESK_UNIT_DIR)", name);
	abs = realpath(path, NULL);
	assert_non_null(abs);
	if (load(fx, abs, "EUR") != 0) {
		print_errs(fx);
		free(abs);
		fail_msg("%s does not load", name);
	}
	free(abs);
}

/* ---- the cases file ---- */

struct line {
	const char *file;
	unsigned no;
	char *tok[MAX_TOKENS];
	size_t ntok;
	size_t arrow;             /* index of "->" */
};

static int failures;

static void case_fail(const struct line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void case_fail(const struct line *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	print_message("%s:%u: %s\n", l->file, l->no, msg);
	failures++;
}

/* "-" is none: NULL. */
static const char *str_or_null(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

/* "-" is -1, otherwise an amount. */
static bool money_or_none(const char *s, int64_t *out)
{
	if (strcmp(s, "-") == 0) {
		*out = -1;
		return true;
	}
	return val_money_parse(s, DIGITS, out);
}

/* A duration as the rules file writes it, with an optional '-', or 0. */
static bool duration(const char *s, int64_t *out)
{
	bool neg = s[0] == '-';
	int secs = 0;

	if (strcmp(s + neg, "0") != 0 && !cfg_parse_duration(s + neg, &secs))
		return false;
	*out = neg ? -(int64_t)secs : secs;
	return true;
}

static const char *fmt_money(int64_t v, char out[32])
{
	if (v < 0)
		snprintf(out, 32, "-");
	else
		val_money_format(v, DIGITS, out);
	return out;
}

/* The value of key= among tokens [from, to), NULL when absent. */
static const char *arg(const struct line *l, size_t from, size_t to,
		       const char *key)
{
	size_t n = strlen(key);

	for (size_t i = from; i < to; i++)
		if (strncmp(l->tok[i], key, n) == 0 && l->tok[i][n] == '=')
			return l->tok[i] + n + 1;
	return NULL;
}

/* Every token in [from, to) is key=value with a key of keys[]. */
static bool known_keys(const struct line *l, size_t from, size_t to,
		       const char *const *keys, size_t nkeys)
{
	for (size_t i = from; i < to; i++) {
		bool ok = false;
		for (size_t k = 0; k < nkeys; k++) {
			size_t n = strlen(keys[k]);
			if (strncmp(l->tok[i], keys[k], n) == 0 &&
			    l->tok[i][n] == '=')
				ok = true;
		}
		if (!ok) {
			case_fail(l, "bad token '%s'", l->tok[i]);
			return false;
		}
	}
	return true;
}

static bool facts_of(const struct line *l, struct rule_facts *f)
{
	static const char *const keys[] = { "tier", "user", "action", "amount",
		"category", "severity", "vip", "c30", "today", "age", "left" };
	size_t to = l->arrow;
	const char *v;
	long long n;

	if (!known_keys(l, 1, to, keys, ARRAY_LEN(keys)))
		return false;
	*f = (struct rule_facts){ .tier = 1, .user = "ann",
		.category = "general", .severity = 3, .amount = -1,
		.complaint_age_s = 3600, .resolve_left_s = 86400 };
	if ((v = arg(l, 1, to, "tier")) != NULL) {
		if (!val_int(v, 0, 99, &n))
			goto bad;
		f->tier = (int)n;
	}
	if ((v = arg(l, 1, to, "severity")) != NULL) {
		if (!val_int(v, 1, 4, &n))
			goto bad;
		f->severity = (int)n;
	}
	if ((v = arg(l, 1, to, "user")) != NULL)
		f->user = str_or_null(v);
	if ((v = arg(l, 1, to, "action")) != NULL)
		f->action = str_or_null(v);
	if ((v = arg(l, 1, to, "category")) != NULL)
		f->category = str_or_null(v);
	if ((v = arg(l, 1, to, "vip")) != NULL && !val_bool(v, &f->vip))
		goto bad;
	if ((v = arg(l, 1, to, "amount")) != NULL &&
	    !money_or_none(v, &f->amount))
		goto bad;
	if ((v = arg(l, 1, to, "c30")) != NULL &&
	    !val_money_parse(v, DIGITS, &f->customer_goodwill_30d))
		goto bad;
	if ((v = arg(l, 1, to, "today")) != NULL &&
	    !val_money_parse(v, DIGITS, &f->agent_granted_today))
		goto bad;
	if ((v = arg(l, 1, to, "age")) != NULL &&
	    !duration(v, &f->complaint_age_s))
		goto bad;
	if ((v = arg(l, 1, to, "left")) != NULL &&
	    !duration(v, &f->resolve_left_s))
		goto bad;
	return true;
bad:
	case_fail(l, "bad fact value '%s'", v);
	return false;
}

/* decide FACTS -> DECISION RULE LIMIT BUDGET APPROVER [due= level=]
 * [justify=] */
static void case_decide(const struct config *cfg, const struct line *l)
{
	static const char *const opts[] = { "due", "level", "justify" };
	const size_t e = l->arrow + 1;
	struct rule_facts f;
	struct rule_decision d;
	int64_t limit, budget, due = 0, level = 0, justify = 0;
	const char *v;
	char a[32], b[32];

	if (!facts_of(l, &f))
		return;
	if (l->ntok < e + 5 || !known_keys(l, e + 5, l->ntok, opts,
					   ARRAY_LEN(opts)) ||
	    !money_or_none(l->tok[e + 2], &limit) ||
	    !money_or_none(l->tok[e + 3], &budget)) {
		case_fail(l, "expected DECISION RULE LIMIT BUDGET APPROVER");
		return;
	}
	if ((v = arg(l, e + 5, l->ntok, "due")) != NULL && !duration(v, &due))
		return case_fail(l, "bad due '%s'", v);
	if ((v = arg(l, e + 5, l->ntok, "level")) != NULL)
		level = atoi(v);
	if ((v = arg(l, e + 5, l->ntok, "justify")) != NULL &&
	    !duration(v, &justify))
		return case_fail(l, "bad justify '%s'", v);
	if ((strcmp(l->tok[e], "escalate") == 0) != (due > 0 && level > 0))
		return case_fail(l, "due= and level= go with escalate, only");

	rules_decide(cfg, &f, &d);
	const char *approver = strcmp(l->tok[e + 4], "-") == 0 ? "" :
			       l->tok[e + 4];
	if (strcmp(rules_decision_name(d.decision), l->tok[e]) != 0 ||
	    strcmp(d.rule, l->tok[e + 1]) != 0 || d.limit != limit ||
	    d.budget_left != budget || strcmp(d.approver, approver) != 0 ||
	    d.due_s != due || d.level != level ||
	    d.justify_later_ok != (justify > 0) ||
	    d.justify_within_s != justify)
		case_fail(l, "got %s %s %s %s %s due=%d level=%d justify=%s/%d",
			  rules_decision_name(d.decision), d.rule,
			  fmt_money(d.limit, a), fmt_money(d.budget_left, b),
			  d.approver[0] != '\0' ? d.approver : "-", d.due_s,
			  d.level, d.justify_later_ok ? "yes" : "no",
			  d.justify_within_s);
}

/* approve tier= action= amount= left= -> yes|no */
static void case_approve(const struct config *cfg, const struct line *l)
{
	static const char *const keys[] = { "tier", "action", "amount",
					    "left" };
	const char *tier = arg(l, 1, l->arrow, "tier");
	const char *amount = arg(l, 1, l->arrow, "amount");
	const char *left = arg(l, 1, l->arrow, "left");
	const char *action = arg(l, 1, l->arrow, "action");
	long long t;
	int64_t am, lf;
	bool want;

	if (!known_keys(l, 1, l->arrow, keys, ARRAY_LEN(keys)))
		return;
	if (tier == NULL || amount == NULL || left == NULL ||
	    action == NULL || !val_int(tier, 0, 99, &t) ||
	    !money_or_none(amount, &am) || !money_or_none(left, &lf) ||
	    l->ntok != l->arrow + 2 || !val_bool(l->tok[l->arrow + 1], &want))
		return case_fail(l, "expected approve tier= action= amount= "
				 "left= -> yes|no");
	bool got = rules_can_approve(cfg, (int)t, "sue", str_or_null(action),
				     am, lf);
	if (got != want)
		case_fail(l, "got %s", got ? "yes" : "no");
}

/* chain action= amount= -> first=N APPROVER/DUE ... */
static void case_chain(const struct config *cfg, const struct line *l)
{
	static const char *const keys[] = { "action", "amount" };
	const char *action = arg(l, 1, l->arrow, "action");
	const char *amount = arg(l, 1, l->arrow, "amount");
	const size_t e = l->arrow + 1;
	char got[512] = "", want[512] = "";
	int64_t am;
	int level = 0;

	if (!known_keys(l, 1, l->arrow, keys, ARRAY_LEN(keys)))
		return;
	if (action == NULL || amount == NULL || !money_or_none(amount, &am) ||
	    l->ntok <= e)
		return case_fail(l, "expected chain action= amount= -> first=N "
				 "...");
	action = str_or_null(action);
	for (size_t i = e; i < l->ntok; i++)
		snprintf(want + strlen(want), sizeof want - strlen(want),
			 "%s%s", i > e ? " " : "", l->tok[i]);
	snprintf(got, sizeof got, "first=%d",
		 rules_chain_first_level(cfg, action, am));
	for (;;) {
		char approver[RULES_APPROVER_MAX];
		int due = -1;
		if (!rules_chain_level(cfg, action, am, ++level, approver,
				       sizeof approver, &due))
			break;
		/* Due times are written with the largest unit that fits. */
		const char *unit = due % 86400 == 0 ? "d" :
				   due % 3600 == 0 ? "h" :
				   due % 60 == 0 ? "m" : "s";
		int per = unit[0] == 'd' ? 86400 : unit[0] == 'h' ? 3600 :
			  unit[0] == 'm' ? 60 : 1;
		snprintf(got + strlen(got), sizeof got - strlen(got),
			 " %s/%d%s", approver, due / per, unit);
	}
	if (strcmp(got, want) != 0)
		case_fail(l, "got %s", got);
}

/* grants tier= -> ACTION=... for all nine */
static void case_grants(const struct config *cfg, const struct line *l)
{
	const char *tier = arg(l, 1, l->arrow, "tier");
	struct rules_grant g[RULES_NACTIONS];
	char got[512] = "", want[512] = "";
	long long t;

	if (tier == NULL || !val_int(tier, 0, 99, &t))
		return case_fail(l, "expected grants tier= -> ...");
	assert_int_equal(rules_tier_grants(cfg, (int)t, g), RULES_NACTIONS);
	for (size_t i = 0; i < RULES_NACTIONS; i++) {
		char m[40], amount[32];
		assert_string_equal(g[i].action, rules_action_name(i));
		assert_int_equal(g[i].money,
				 rules_action_is_money(g[i].action));
		if (g[i].money)
			snprintf(m, sizeof m, "/%s",
				 fmt_money(g[i].limit, amount));
		else if (g[i].limit != -1)
			return case_fail(l, "%s: limit %lld, not -1",
					 g[i].action, (long long)g[i].limit);
		snprintf(got + strlen(got), sizeof got - strlen(got),
			 "%s%s=%s%s", i > 0 ? " " : "", g[i].action,
			 g[i].allowed ? "yes" : "no", g[i].money ? m : "");
	}
	for (size_t i = l->arrow + 1; i < l->ntok; i++)
		snprintf(want + strlen(want), sizeof want - strlen(want),
			 "%s%s", i > l->arrow + 1 ? " " : "", l->tok[i]);
	if (strcmp(got, want) != 0)
		case_fail(l, "got %s", got);
}

/* budget tier= [user=] -> AMOUNT */
static void case_budget(const struct config *cfg, const struct line *l)
{
	const char *tier = arg(l, 1, l->arrow, "tier");
	const char *user = arg(l, 1, l->arrow, "user");
	long long t;
	int64_t want;
	char a[32];

	if (tier == NULL || !val_int(tier, 0, 99, &t) ||
	    l->ntok != l->arrow + 2 ||
	    !val_money_parse(l->tok[l->arrow + 1], DIGITS, &want))
		return case_fail(l, "expected budget tier= [user=] -> AMOUNT");
	int64_t got = rules_daily_budget(cfg, (int)t, user);
	if (got != want)
		case_fail(l, "got %s", fmt_money(got, a));
}

/* approver TEXT -> yes|no */
static void case_approver(const struct config *cfg, const struct line *l)
{
	bool want;

	if (l->arrow != 2 || l->ntok != 4 || !val_bool(l->tok[3], &want))
		return case_fail(l, "expected approver TEXT -> yes|no");
	if (rules_approver_valid(cfg, l->tok[1]) != want)
		case_fail(l, "got %s", want ? "no" : "yes");
}

struct case_kind {
	const char *verb;
	void (*run)(const struct config *cfg, const struct line *l);
	int count;
};

static struct case_kind case_kinds[] = {
	{ "decide", case_decide, 0 },
	{ "approve", case_approve, 0 },
	{ "chain", case_chain, 0 },
	{ "grants", case_grants, 0 },
	{ "budget", case_budget, 0 },
	{ "approver", case_approver, 0 },
};

static void test_cases(void **state)
{
	struct fx *fx = *state;
	char path[512], buf[1024];
	struct line l = { .file = "rules_cases.txt" };
	FILE *f;
	int total = 0;

	if (!find_unit_file("rules_cases.txt", path, sizeof path))
		fail_msg("rules_cases.txt not found (set CALLDESK_UNIT_DIR)");
	f = fopen(path, "r");
	assert_non_null(f);
	failures = 0;
	while (fgets(buf, sizeof buf, f) != NULL) {
		char *save = NULL;
		l.no++;
		l.ntok = 0;
		l.arrow = 0;
		for (char *t = strtok_r(buf, SPACE, &save); t != NULL &&
		     l.ntok < MAX_TOKENS; t = strtok_r(NULL, SPACE, &save)) {
			if (strcmp(t, "->") == 0 && l.arrow == 0)
				l.arrow = l.ntok;
			l.tok[l.ntok++] = t;
		}
		if (l.ntok == 0 || l.tok[0][0] == '#')
			continue;
		if (l.ntok == MAX_TOKENS) {
			case_fail(&l, "more than %d tokens", MAX_TOKENS - 1);
			continue;
		}
		if (strcmp(l.tok[0], "conf") == 0 && l.ntok == 2) {
			load_unit_conf(fx, l.tok[1]);
			continue;
		}
		if (fx->cfg == NULL || l.arrow == 0) {
			case_fail(&l, "no 'conf FILE' before, or no '->'");
			continue;
		}
		size_t k = 0;
		while (k < ARRAY_LEN(case_kinds) &&
		       strcmp(case_kinds[k].verb, l.tok[0]) != 0)
			k++;
		if (k == ARRAY_LEN(case_kinds)) {
			case_fail(&l, "unknown case kind '%s'", l.tok[0]);
			continue;
		}
		case_kinds[k].run(fx->cfg, &l);
		case_kinds[k].count++;
		total++;
	}
	fclose(f);
	for (size_t k = 0; k < ARRAY_LEN(case_kinds); k++)
		print_message("rules_cases.txt: %d %s cases\n",
			      case_kinds[k].count, case_kinds[k].verb);
	if (failures > 0)
		fail_msg("%d of %d cases failed", failures, total);
	/* A file cut short would pass quietly otherwise. */
	assert_true(total >= 120);
}

/* ---- what the cases file does not show ---- */

static void test_actions(void **state)
{
	(void)state;
	static const char *const money[] = { "refund", "credit", "voucher",
					     "fee-waiver" };
	static const char *const other[] = { "apology", "explanation",
		"callback", "replacement", "repair" };

	for (size_t i = 0; i < ARRAY_LEN(money); i++) {
		assert_true(rules_action_known(money[i]));
		assert_true(rules_action_is_money(money[i]));
		assert_string_equal(rules_action_name(i), money[i]);
		assert_int_equal(rules_action_index(money[i]), (int)i);
	}
	for (size_t i = 0; i < ARRAY_LEN(other); i++) {
		assert_true(rules_action_known(other[i]));
		assert_false(rules_action_is_money(other[i]));
		assert_string_equal(rules_action_name(RULES_NMONEY + i),
				    other[i]);
	}
	assert_null(rules_action_name(RULES_NACTIONS));
	assert_false(rules_action_known("Refund"));
	assert_false(rules_action_known(""));
	assert_false(rules_action_known(NULL));
	assert_false(rules_action_is_money(NULL));
	assert_int_equal(rules_action_index("cheque"), -1);
	assert_string_equal(rules_decision_name(RULES_ALLOW), "allow");
	assert_string_equal(rules_decision_name(RULES_ESCALATE), "escalate");
	assert_string_equal(rules_decision_name(RULES_DENY), "deny");
}

/* A rule's message reaches the decision; built-in decisions have none. */
static void test_messages(void **state)
{
	struct fx *fx = *state;
	struct rule_decision d;
	struct rule_facts f = { .tier = 1, .user = "ann", .action = "refund",
		.amount = 500, .category = "general", .severity = 3,
		.complaint_age_s = 100 * 86400, .resolve_left_s = 86400 };

	load_unit_conf(fx, "rules_test.conf");
	rules_decide(fx->cfg, &f, &d);
	assert_string_equal(d.rule, "stale");
	assert_string_equal(d.message, "No goodwill on complaints older than "
			    "90 days.");
	f.complaint_age_s = 3600;
	f.amount = 5000;
	rules_decide(fx->cfg, &f, &d);
	assert_string_equal(d.rule, "tier-limit");
	assert_string_equal(d.message, "");
	f.action = "apology";
	f.resolve_left_s = -60;
	rules_decide(fx->cfg, &f, &d);
	assert_string_equal(d.rule, "overdue");
	assert_string_equal(d.message, "Overdue: a supervisor calls the "
			    "customer.");
	/* The configuration's compiled form, as loaded. */
	const struct rules *r = &fx->cfg->catalog.rules;
	assert_int_equal(r->nrules, 13);
	assert_int_equal(r->nchains, 3);
	assert_int_equal(r->nusers, 1);
	assert_int_equal(cfg_find_tier(fx->cfg, 2)->capacity, 12);
	/* every section counts for RELOAD's rules=N */
	assert_int_equal(fx->cfg->catalog.nrules, 28);
}

/* Amounts follow the configured currency: whole units for JPY. */
static void test_currency(void **state)
{
	struct fx *fx = *state;
	struct rule_decision d;
	struct rule_facts f = { .tier = 1, .action = "refund", .amount = 50,
				.severity = 1 };

	write_text(fx, "rules.conf", "[queue general]\n[category general]\n"
		   "severity.1 = 1 1\nseverity.2 = 1 1\nseverity.3 = 1 1\n"
		   "severity.4 = 1 1\n[tier 1]\nrefund = 50\n"
		   "daily_budget = 5000\n[user x]\ndaily_budget = 50.00\n");
	assert_int_equal(load(fx, "rules.conf", "JPY"), 1);
	assert_string_equal(fx->errs[0], "rules.conf:11: daily_budget: "
			    "'50.00' is not an amount (whole units, as in 50)");
	write_text(fx, "rules.conf", "[queue general]\n[category general]\n"
		   "severity.1 = 1 1\nseverity.2 = 1 1\nseverity.3 = 1 1\n"
		   "severity.4 = 1 1\n[tier 1]\nrefund = 50\n"
		   "daily_budget = 5000\n");
	if (load(fx, "rules.conf", "JPY") != 0) {
		print_errs(fx);
		fail_msg("JPY rules do not load");
	}
	rules_decide(fx->cfg, &f, &d);
	assert_string_equal(d.rule, "default");
	assert_int_equal(d.limit, 50);
	assert_int_equal(d.budget_left, 5000);
	f.amount = 51;
	rules_decide(fx->cfg, &f, &d);
	assert_string_equal(d.rule, "tier-limit");
	assert_string_equal(d.approver, "role:supervisor");
	assert_int_equal(d.due_s, 86400);
}

/* A file without any empowerment section: every money action escalates
 * (no authority), and the rest of the catalog is as before. */
static void test_no_empowerment(void **state)
{
	struct fx *fx = *state;
	struct rule_decision d;
	struct rule_facts f = { .tier = 1, .action = "apology", .amount = -1,
				.severity = 1 };

	write_text(fx, "rules.conf", "[queue general]\n[category general]\n"
		   "severity.1 = 1 1\nseverity.2 = 1 1\nseverity.3 = 1 1\n"
		   "severity.4 = 1 1\n");
	assert_int_equal(load(fx, "rules.conf", "EUR"), 0);
	rules_decide(fx->cfg, &f, &d);
	assert_int_equal(d.decision, RULES_ESCALATE);
	assert_string_equal(d.rule, "tier-limit");
	assert_string_equal(d.approver, "role:supervisor");
	assert_int_equal(d.level, 1);
	assert_int_equal(rules_daily_budget(fx->cfg, 1, NULL), 0);
}

/* ---- errors in the rules file ---- */

#define SEV4 "severity.1 = 1 1\nseverity.2 = 1 1\nseverity.3 = 1 1\n" \
	     "severity.4 = 1 1\n"
/* Lines 1-9; a case's text starts at line 10. */
#define BASE "[queue general]\n[category general]\n" SEV4 \
	     "[dept finance]\n[empowerment]\ndefault = allow\n"
/* Lines 1-7, without [empowerment]; text starts at line 8. */
#define BARE "[queue general]\n[category general]\n" SEV4 "[dept finance]\n"

#define AMOUNT_FORM "(as in 50.00, at most 2 decimals)"
#define ACTIONS "(refund, credit, voucher, fee-waiver, apology, " \
	"explanation, callback, replacement, repair)"
#define APPROVERS "(role:agent, role:supervisor, role:admin, dept:NAME " \
	"or user:NAME)"
#define DURATIONS "(90, 90s, 15m, 4h, 3d)"
#define CONDITION "(X, over X, under X, at least X, at most X, X to Y)"
#define LEVEL_FORM "expected APPROVER [up to AMOUNT] within DURATION (as " \
	"in role:supervisor up to 500.00 within 4h)"
#define LONG50 "ooooooooooooooooooooooooooooooooooooooooooooooooo."

struct error_case {
	const char *name;
	const char *rules;
	const char *want[MAX_WANT];
};

static const struct error_case error_cases[] = {
	/* [tier N] */
	{ "tier money", BASE "[tier 1]\nrefund = 5.001\n",
	  { "rules.conf:11: refund: '5.001' is not an amount " AMOUNT_FORM } },
	{ "tier money yes", BASE "[tier 1]\nrefund = yes\n"
	  "daily_budget = 10\n",
	  { "rules.conf:11: refund: a money action takes a limit (as in "
	    "50.00) or no, not yes" } },
	{ "tier yes/no", BASE "[tier 1]\napology = maybe\n",
	  { "rules.conf:11: apology: 'maybe' is not yes or no" } },
	{ "tier budget missing", BASE "[tier 2]\nvoucher = no\n"
	  "fee-waiver = 10.00\n",
	  { "rules.conf:10: [tier 2]: daily_budget missing (fee-waiver is "
	    "allowed, and money actions draw on it)" } },
	{ "tier budget", BASE "[tier 1]\ndaily_budget = -5\n",
	  { "rules.conf:11: daily_budget: '-5' is not an amount "
	    AMOUNT_FORM } },
	{ "tier twice", BASE "[tier 1]\nrefund = 1\nrefund = 2\n"
	  "daily_budget = 5\n",
	  { "rules.conf:12: refund: given twice (first at line 11)" } },
	{ "tier key", BASE "[tier 1]\ngoodwill = 5\n",
	  { "rules.conf:11: unknown key 'goodwill' in [tier 1]" } },
	/* [user NAME] */
	{ "user budget missing", BASE "[user bob]\n",
	  { "rules.conf:10: [user bob]: daily_budget missing (daily_budget = "
	    "AMOUNT)" } },
	{ "user me", BASE "[user me]\ndaily_budget = 1\n",
	  { "rules.conf:10: [user me]: 'me' is not a user name "
	    "([a-z0-9][a-z0-9._-]{0,31}, not me)" } },
	{ "user twice", BASE "[user bob]\ndaily_budget = 1\n[user bob]\n"
	  "daily_budget = 2\n",
	  { "rules.conf:12: [user bob] declared twice (first at line 10)" } },
	{ "user budget", BASE "[user bob]\ndaily_budget = much\n",
	  { "rules.conf:11: daily_budget: 'much' is not an amount "
	    AMOUNT_FORM } },
	/* [empowerment] */
	{ "default missing", BARE "[empowerment]\n",
	  { "rules.conf:8: [empowerment]: default missing (default = allow | "
	    "escalate | deny)" } },
	{ "empowerment name", BARE "[empowerment x]\n",
	  { "rules.conf:8: expected [empowerment] without a name, not "
	    "[empowerment x]" } },
	{ "empowerment twice", BARE "[empowerment]\ndefault = allow\n"
	  "[empowerment]\ndefault = deny\n",
	  { "rules.conf:10: [empowerment] declared twice (first at line 8)" } },
	{ "no decision", BARE "[empowerment]\ndefault = maybe\n",
	  { "rules.conf:9: default: 'maybe' is not a decision (allow, deny, "
	    "escalate, escalate to APPROVER within DURATION)" } },
	{ "over_cap allow", BASE "over_cap = allow\n",
	  { "rules.conf:10: over_cap: must be escalate or deny (a cap that "
	    "allows is no cap)" } },
	{ "undeclared depts", BARE "[empowerment]\n"
	  "default = escalate to dept:nowhere within 1h\n"
	  "over_cap = escalate to dept:gone within 1d\n",
	  { "rules.conf:9: default: dept 'nowhere' is not declared ([dept "
	    "nowhere])",
	    "rules.conf:10: over_cap: dept 'gone' is not declared ([dept "
	    "gone])" } },
	{ "caps", BASE "customer_cap = lots\ncustomer_cap_vip = 1.999\n",
	  { "rules.conf:10: customer_cap: 'lots' is not an amount "
	    AMOUNT_FORM,
	    "rules.conf:11: customer_cap_vip: '1.999' is not an amount "
	    AMOUNT_FORM } },
	{ "justify", BASE "justify_later = refund, cheque\n"
	  "justify_within = 0\n",
	  { "rules.conf:10: justify_later: 'cheque' is not an action "
	    ACTIONS,
	    "rules.conf:11: justify_within: '0' is not a duration "
	    DURATIONS } },
	{ "rules need a default", BARE "[rule r]\ndecision = allow\n",
	  { "rules.conf:0: [rule] sections need an [empowerment] section "
	    "with default = allow | escalate | deny" } },
	{ "escalate to nobody", BARE "[empowerment]\n"
	  "default = escalate to\n",
	  { "rules.conf:9: default: escalate to whom? (escalate to APPROVER "
	    "within DURATION)" } },
	{ "bad role", BARE "[empowerment]\n"
	  "default = escalate to role:boss within 1h\n",
	  { "rules.conf:9: default: 'role:boss' is not an approver "
	    APPROVERS } },
	{ "no within", BARE "[empowerment]\n"
	  "default = escalate to role:admin\n",
	  { "rules.conf:9: default: 'escalate to role:admin': add 'within "
	    "DURATION', the approver's deadline" } },
	{ "in, not within", BARE "[empowerment]\n"
	  "default = escalate to role:admin in 1h\n",
	  { "rules.conf:9: default: expected escalate to APPROVER within "
	    "DURATION, not 'escalate to role:admin in 1h'" } },
	{ "within what", BARE "[empowerment]\n"
	  "default = escalate to user:ann within soon\n",
	  { "rules.conf:9: default: 'soon' is not a duration " DURATIONS } },
	/* [chain NAME] */
	{ "no levels", BASE "[chain c]\nactions = refund\n",
	  { "rules.conf:10: [chain c]: no levels (level.1 = APPROVER [up to "
	    "AMOUNT] within DURATION)" } },
	{ "level gap", BASE "[chain c]\nlevel.1 = role:supervisor within 1h\n"
	  "level.3 = role:admin within 1d\n",
	  { "rules.conf:12: level.3 given without level.2" } },
	{ "level capped after any", BASE "[chain c]\n"
	  "level.1 = role:supervisor within 1h\n"
	  "level.2 = role:admin up to 100.00 within 1d\n",
	  { "rules.conf:12: level.2: up to 100.00, but level.1 takes any "
	    "amount" } },
	{ "level not above", BASE "[chain c]\n"
	  "level.1 = role:supervisor up to 100.00 within 1h\n"
	  "level.2 = role:admin up to 100 within 1d\n",
	  { "rules.conf:12: level.2: up to 100.00 is not above level.1's "
	    "100.00" } },
	{ "action in two chains", BASE "[chain a]\nactions = refund, credit\n"
	  "level.1 = role:supervisor within 1h\n[chain b]\n"
	  "actions = voucher, credit\nlevel.1 = role:admin within 1h\n",
	  { "rules.conf:14: actions: 'credit' is already in [chain a] (line "
	    "10)" } },
	{ "two default chains", BASE "[chain a]\n"
	  "level.1 = role:supervisor within 1h\n[chain b]\n"
	  "level.1 = role:admin within 1h\n",
	  { "rules.conf:12: [chain b]: no actions, and [chain a] (line 10) "
	    "already takes the actions no chain names" } },
	{ "level dept", BASE "[chain c]\nlevel.1 = dept:nowhere within 1h\n",
	  { "rules.conf:11: level.1: dept 'nowhere' is not declared ([dept "
	    "nowhere])" } },
	{ "level form", BASE "[chain c]\nlevel.1 = role:supervisor\n",
	  { "rules.conf:11: level.1: " LEVEL_FORM ", not 'role:supervisor'" } },
	{ "level approver", BASE "[chain c]\nlevel.1 = boss within 1h\n",
	  { "rules.conf:11: level.1: 'boss' is not an approver "
	    APPROVERS } },
	{ "level amount", BASE "[chain c]\n"
	  "level.1 = role:supervisor up to much within 1h\n",
	  { "rules.conf:11: level.1: 'much' is not an amount "
	    AMOUNT_FORM } },
	{ "level due", BASE "[chain c]\nlevel.1 = role:supervisor within 0\n",
	  { "rules.conf:11: level.1: '0' is not a duration " DURATIONS } },
	{ "no actions", BASE "[chain c]\nactions =\n"
	  "level.1 = role:admin within 1h\n",
	  { "rules.conf:11: actions: expected actions separated by commas "
	    "(refund, credit, voucher, fee-waiver, apology, explanation, "
	    "callback, replacement, repair), not ''" } },
	{ "empty action", BASE "[chain c]\nactions = refund,,credit\n"
	  "level.1 = role:admin within 1h\n",
	  { "rules.conf:11: actions: expected actions separated by commas "
	    "(refund, credit, voucher, fee-waiver, apology, explanation, "
	    "callback, replacement, repair), not 'refund,,credit'" } },
	{ "action twice", BASE "[chain c]\nactions = refund, refund\n"
	  "level.1 = role:admin within 1h\n",
	  { "rules.conf:11: actions: 'refund' is listed twice" } },
	{ "level 10", BASE "[chain c]\nlevel.1 = role:admin within 1h\n"
	  "level.10 = role:admin within 1h\n",
	  { "rules.conf:12: unknown key 'level.10' in [chain c]" } },
	/* [rule NAME] */
	{ "decision missing", BASE "[rule r]\naction = refund\n",
	  { "rules.conf:10: [rule r]: decision missing (decision = allow | "
	    "escalate | deny)" } },
	{ "built-in name", BASE "[rule customer-cap]\ndecision = allow\n",
	  { "rules.conf:10: [rule customer-cap]: 'customer-cap' is the name "
	    "of a built-in decision; choose another" } },
	{ "never reached", BASE "[rule a]\ndecision = deny\n[rule b]\n"
	  "action = refund\ndecision = allow\n",
	  { "rules.conf:12: [rule b] is never reached: [rule a] (line 10) "
	    "has no conditions and matches first" } },
	{ "justify a deny", BASE "[rule r]\naction = refund\n"
	  "decision = deny\njustify_later = yes\n",
	  { "rules.conf:13: justify_later: only a rule that decides allow "
	    "lets the agent justify later" } },
	{ "justify within for no", BASE "[rule r]\naction = refund\n"
	  "decision = allow\njustify_later = no\njustify_within = 1d\n",
	  { "rules.conf:14: justify_within: this rule says justify_later = "
	    "no" } },
	{ "undeclared category", BASE "[rule r]\n"
	  "category = billing, general\ndecision = deny\n",
	  { "rules.conf:11: category: 'billing' is not declared ([category "
	    "billing])" } },
	{ "category twice", BASE "[rule r]\ncategory = general, general\n"
	  "decision = deny\n",
	  { "rules.conf:11: category: 'general' is listed twice" } },
	{ "category name", BASE "[rule r]\ncategory = General\n"
	  "decision = deny\n",
	  { "rules.conf:11: category: 'General' is not a category name" } },
	{ "category list", BASE "[rule r]\ncategory = a,,b\ndecision = deny\n",
	  { "rules.conf:11: category: expected category names separated by "
	    "commas, not 'a,,b'" } },
	{ "vip", BASE "[rule r]\nvip = maybe\ndecision = deny\n",
	  { "rules.conf:11: vip: 'maybe' is not yes or no" } },
	{ "severity", BASE "[rule r]\nseverity = 5\ndecision = deny\n",
	  { "rules.conf:11: severity: '5' is not a severity (1 to 4)" } },
	{ "severity never", BASE "[rule r]\nseverity = over 4\n"
	  "decision = deny\n",
	  { "rules.conf:11: severity: 'over 4' can never hold" } },
	{ "tier", BASE "[rule r]\ntier = 0\ndecision = deny\n",
	  { "rules.conf:11: tier: '0' is not a tier (1 to 9)" } },
	{ "condition form", BASE "[rule r]\namount = more than 5\n"
	  "decision = deny\n",
	  { "rules.conf:11: amount: 'more than 5' is not a condition "
	    CONDITION } },
	{ "reversed range", BASE "[rule r]\namount = 50.00 to 40.00\n"
	  "decision = deny\n",
	  { "rules.conf:11: amount: '50.00 to 40.00': 50.00 is above "
	    "40.00" } },
	{ "empty range", BASE "[rule r]\namount = under 0\ndecision = deny\n",
	  { "rules.conf:11: amount: 'under 0' can never hold" } },
	{ "age", BASE "[rule r]\nage = over 3w\ndecision = deny\n",
	  { "rules.conf:11: age: '3w' is not a duration (0, 90, 90s, 15m, "
	    "4h, 3d)" } },
	{ "customer_30d", BASE "[rule r]\ncustomer_30d = at least lots\n"
	  "decision = deny\n",
	  { "rules.conf:11: customer_30d: 'lots' is not an amount "
	    AMOUNT_FORM } },
	{ "agent_today", BASE "[rule r]\nagent_today = 1 to x\n"
	  "decision = deny\n",
	  { "rules.conf:11: agent_today: 'x' is not an amount "
	    AMOUNT_FORM } },
	{ "resolve_left", BASE "[rule r]\nresolve_left = at most soon\n"
	  "decision = deny\n",
	  { "rules.conf:11: resolve_left: 'soon' is not a duration (0, 90, "
	    "90s, 15m, 4h, 3d)" } },
	{ "rule dept", BASE "[rule r]\naction = refund\n"
	  "decision = escalate to dept:nowhere within 1h\n",
	  { "rules.conf:12: decision: dept 'nowhere' is not declared ([dept "
	    "nowhere])" } },
	{ "message length", BASE "[rule r]\naction = refund\n"
	  "decision = deny\nmessage = " LONG50 LONG50 LONG50 LONG50 "\n",
	  { "rules.conf:13: message: longer than 199 characters" } },
	{ "message utf-8", BASE "[rule r]\naction = refund\n"
	  "decision = deny\nmessage = caf\xe9\n",
	  { "rules.conf:13: message: not valid UTF-8" } },
	{ "rule justify_within", BASE "[rule r]\naction = refund\n"
	  "decision = allow\njustify_within = never\n",
	  { "rules.conf:13: justify_within: 'never' is not a duration "
	    DURATIONS } },
	{ "rule justify_later", BASE "[rule r]\naction = refund\n"
	  "decision = allow\njustify_later = sometimes\n",
	  { "rules.conf:13: justify_later: 'sometimes' is not yes or no" } },
	{ "rule name", BASE "[rule Bad]\ndecision = deny\n",
	  { "rules.conf:10: [rule Bad]: 'Bad' is not a name "
	    "([a-z0-9][a-z0-9._-]{0,31})" } },
	{ "rule action", BASE "[rule r]\naction = cheque\ndecision = deny\n",
	  { "rules.conf:11: action: 'cheque' is not an action " ACTIONS } },
	{ "rule key", BASE "[rule r]\nwhen = x\ndecision = deny\n",
	  { "rules.conf:11: unknown key 'when' in [rule r]" } },
	{ "rule twice", BASE "[rule r]\naction = refund\ndecision = deny\n"
	  "[rule r]\naction = credit\ndecision = deny\n",
	  { "rules.conf:13: [rule r] declared twice (first at line 10)" } },
	/* What is accepted: every form once, in one valid file. */
	{ "all forms", BASE "justify_later = refund\njustify_within = 1h\n"
	  "customer_cap = 0\n"
	  "[rule a]\nseverity = 1 to 2\ntier = at least 2\n"
	  "amount = at most 5\ncustomer_30d = over 0\nagent_today = under 1\n"
	  "age = 0 to 3d\nresolve_left = under 0s\nvip = no\n"
	  "category = general\naction = refund,credit\n"
	  "decision = escalate to user:ann within 90\n"
	  "message = Call billing;then the customer ; a comment\n"
	  "[rule b]\ndecision = escalate\n"
	  "[chain c]\nlevel.1 = role:agent up to 0.01 within 1m\n"
	  "level.2 = dept:finance up to 1 within 2m\n"
	  "level.3 = user:x within 3m\n",
	  { NULL } },
};

static void test_errors(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_LEN(error_cases); i++) {
		const struct error_case *c = &error_cases[i];
		int n = 0;

		write_text(fx, "rules.conf", c->rules);
		int rc = load(fx, "rules.conf", "EUR");
		while (n < MAX_WANT && c->want[n] != NULL)
			n++;
		if (rc != n || fx->nerrs != n || (n > 0) != (fx->cfg == NULL)) {
			print_errs(fx);
			fail_msg("%s: want %d errors, got rc %d and %d "
				 "reported", c->name, n, rc, fx->nerrs);
		}
		for (int k = 0; k < n; k++)
			if (strcmp(c->want[k], fx->errs[k]) != 0)
				fail_msg("%s: error %d\n  want: %s\n  got:  %s",
					 c->name, k, c->want[k], fx->errs[k]);
	}
}

/* ---- the shipped example (conf/rules.conf), as docs/RULES.md tells ---- */

static bool find_example(char *out, size_t size)
{
	static const char *const rel[] = { "conf", "../conf", "../../conf" };
	const char *env = getenv("CALLDESK_CONF_DIR");
	const char *srcdir = getenv("srcdir");

	if (env != NULL) {
		snprintf(out, size, "%s/calldeskd.conf", env);
		return access(out, R_OK) == 0;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ARRAY_LEN(rel); i++) {
			if (pass == 0 && srcdir == NULL)
				break;
			snprintf(out, size, "%s%s%s/calldeskd.conf",
				 pass == 0 ? srcdir : "", pass == 0 ? "/" : "",
				 rel[i]);
			if (access(out, R_OK) == 0)
				return true;
		}
	}
	return false;
}

struct example {
	struct rule_facts f;
	const char *decision, *rule, *approver;
};

static void test_example(void **state)
{
	struct fx *fx = *state;
	char path[512];
	/* The walk-through of docs/RULES.md, "The shipped example". */
	static const struct example ex[] = {
		{ { .tier = 1, .action = "refund", .amount = 2500,
		    .category = "billing", .severity = 3 },
		  "allow", "default", "" },
		{ { .tier = 1, .action = "refund", .amount = 4000,
		    .category = "billing", .severity = 3 },
		  "escalate", "tier-limit", "role:supervisor" },
		{ { .tier = 2, .action = "refund", .amount = 6000,
		    .category = "billing", .severity = 3,
		    .agent_granted_today = 25000 },
		  "escalate", "daily-budget", "role:supervisor" },
		{ { .tier = 3, .action = "credit", .amount = 10000,
		    .category = "billing", .severity = 3,
		    .customer_goodwill_30d = 9000 },
		  "escalate", "customer-cap", "role:supervisor" },
		{ { .tier = 3, .action = "credit", .amount = 10000,
		    .category = "billing", .severity = 3, .vip = true,
		    .customer_goodwill_30d = 9000 },
		  "allow", "default", "" },
		{ { .tier = 2, .action = "voucher", .amount = 1000,
		    .category = "delivery", .severity = 3,
		    .complaint_age_s = 120 * 86400 },
		  "deny", "too-old", "" },
		{ { .tier = 1, .action = "refund", .amount = 1000,
		    .category = "technical", .severity = 1, .vip = true },
		  "allow", "vip-outage", "" },
		{ { .tier = 2, .action = "refund", .amount = 2000,
		    .category = "billing", .severity = 3,
		    .customer_goodwill_30d = 30000 },
		  "escalate", "goodwill-heavy", "dept:billing-office" },
		{ { .tier = 2, .action = "replacement", .amount = -1,
		    .category = "delivery", .severity = 3 },
		  "allow", "lost-parcel", "" },
		{ { .tier = 1, .action = "replacement", .amount = -1,
		    .category = "delivery", .severity = 3 },
		  "escalate", "tier-limit", "role:supervisor" },
		{ { .tier = 1, .action = "credit", .amount = 3000,
		    .category = "billing", .severity = 2,
		    .resolve_left_s = 3 * 3600 },
		  "allow", "deadline-near", "" },
		{ { .tier = 4, .action = "refund", .amount = 300000,
		    .category = "billing", .severity = 3 },
		  "escalate", "tier-limit", "role:admin" },
	};

	if (!find_example(path, sizeof path))
		skip();
	if (config_load(path, &fx->cfg, collect, fx) != 0) {
		print_errs(fx);
		fail_msg("%s does not load", path);
	}
	for (size_t i = 0; i < ARRAY_LEN(ex); i++) {
		struct rule_facts f = ex[i].f;
		struct rule_decision d;
		if (f.resolve_left_s == 0)
			f.resolve_left_s = 86400;
		rules_decide(fx->cfg, &f, &d);
		if (strcmp(rules_decision_name(d.decision), ex[i].decision) ||
		    strcmp(d.rule, ex[i].rule) ||
		    strcmp(d.approver, ex[i].approver))
			fail_msg("example %zu: want %s %s %s, got %s %s %s", i,
				 ex[i].decision, ex[i].rule, ex[i].approver,
				 rules_decision_name(d.decision), d.rule,
				 d.approver);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cases, setup, teardown),
		cmocka_unit_test(test_actions),
		cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_currency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_empowerment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_example, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
