/* rules.h: the empowerment engine (PROTOCOL.md §9, docs/RULES.md).
 *
 * Two halves. The compiled form (struct rules) is filled by config.c while
 * it reads the rules file, with the value parsers below, and lives inside
 * struct config (cfg->catalog.rules), so a reload swaps it with the rest
 * of the configuration. The decision half reads it: pure, no I/O, no
 * allocation, no global state; the same facts always give the same
 * answer.
 *
 * Money is in integer minor units of the configured currency, durations
 * in seconds. */
#ifndef CALLDESK_RULES_H
#define CALLDESK_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

#define RULES_NAME_MAX 32        /* as CFG_NAME_MAX */
#define RULES_NACTIONS 9         /* refund .. repair, see rules_action_name */
#define RULES_NMONEY 4           /* the first RULES_NMONEY actions */
#define RULES_MAX_TIER 9
#define RULES_MAX_LEVELS 9       /* level.1 .. level.9 of a chain */
#define RULES_APPROVER_MAX 48    /* "dept:" + a name + NUL, with room */
#define RULES_MESSAGE_MAX 200

/* ---- actions ---- */

/* The actions of PROTOCOL.md §8 in protocol order: refund, credit,
 * voucher, fee-waiver (money), apology, explanation, callback,
 * replacement, repair. NULL for i >= RULES_NACTIONS. */
const char *rules_action_name(size_t i);

/* Index of an action name, -1 when unknown (NULL included). */
int rules_action_index(const char *action);

bool rules_action_known(const char *action);

/* True for refund, credit, voucher, fee-waiver. */
bool rules_action_is_money(const char *action);

/* ---- the compiled form ---- */

enum rules_decision { RULES_ALLOW, RULES_ESCALATE, RULES_DENY };

/* "allow", "escalate", "deny". */
const char *rules_decision_name(enum rules_decision d);

/* What a rule, the default or over_cap decides. */
struct rules_verdict {
	enum rules_decision decision;
	char approver[RULES_APPROVER_MAX]; /* escalate: "" = the action's
					      chain */
	int within;                        /* seconds, with an approver */
};

/* One [tier N]: what an agent of that tier may grant alone. */
struct rules_tier {
	int64_t limit[RULES_NACTIONS];     /* money: minor units, 0 = not
					      allowed; others: 1 yes, 0 no */
	int64_t daily_budget;              /* minor units */
	bool has_budget;
};

/* One [user NAME]: a personal daily budget instead of the tier's. */
struct rules_user {
	char name[RULES_NAME_MAX + 1];
	int64_t daily_budget;
};

/* level.N = APPROVER [up to AMOUNT] within DURATION */
struct rules_level {
	char approver[RULES_APPROVER_MAX];
	int64_t up_to;                     /* minor units; -1: any amount */
	int within;                        /* seconds */
};

/* One [chain NAME]. */
struct rules_chain {
	char name[RULES_NAME_MAX + 1];
	unsigned line;
	unsigned actions;                  /* bit per action index; 0: the
					      default chain (every action no
					      other chain names, and
					      escalations without action) */
	struct rules_level level[RULES_MAX_LEVELS];
	int nlevels;
};

/* The conditions on numbers: an inclusive range each. */
enum rules_cond {
	RULES_C_SEVERITY,
	RULES_C_TIER,
	RULES_C_AMOUNT,
	RULES_C_CUSTOMER_30D,
	RULES_C_AGENT_TODAY,
	RULES_C_AGE,
	RULES_C_RESOLVE_LEFT,
	RULES_NCONDS
};

struct rules_range {
	int64_t lo, hi;                    /* inclusive */
};

/* One [rule NAME]. Every condition given must hold. */
struct rules_rule {
	char name[RULES_NAME_MAX + 1];
	unsigned line;
	unsigned actions;                  /* bit per action; 0: any */
	char (*categories)[RULES_NAME_MAX + 1]; /* owned; NULL: any */
	size_t ncategories;
	int vip;                           /* -1 any, 0 no, 1 yes */
	unsigned ranges;                   /* bit per enum rules_cond given */
	struct rules_range range[RULES_NCONDS];
	struct rules_verdict verdict;
	bool has_verdict;
	int justify_later;                 /* -1 as [empowerment] says */
	int justify_within;                /* seconds; 0: [empowerment]'s */
	char message[RULES_MESSAGE_MAX];   /* for the agent; may be "" */
};

/* [empowerment]: what holds for everyone. */
struct rules_policy {
	unsigned line;                     /* 0: no [empowerment] section */
	struct rules_verdict fallback;     /* default = ... */
	bool has_fallback;
	int64_t customer_cap;              /* 30 days; -1: none */
	int64_t customer_cap_vip;          /* -1: as customer_cap */
	struct rules_verdict over_cap;     /* escalate (default) or deny */
	unsigned justify_later;            /* bit per action */
	int justify_within;                /* seconds */
};

struct rules {
	struct rules_tier tier[RULES_MAX_TIER + 1]; /* by number; [0] unused */
	struct rules_user *users;
	size_t nusers;
	struct rules_chain *chains;
	size_t nchains;
	struct rules_rule *rules;          /* in file order */
	size_t nrules;
	struct rules_policy policy;
	int currency_digits;
};

/* Sets the defaults: no authority, no caps, default allow, over_cap
 * escalate, justify_within one day. */
void rules_init(struct rules *r, int currency_digits);

/* Frees what r owns and re-initialises it. Accepts NULL. */
void rules_clear(struct rules *r);

/* ---- value parsers, for config.c. Each returns false and writes a
 * message (no file, no line, no key) into msg[size]. ---- */

/* Tier keys: "50.00" or "no" for a money action, "yes"/"no" otherwise. */
bool rules_parse_grant(int action, const char *v, int digits, int64_t *out,
		       char *msg, size_t size)
	__attribute__((warn_unused_result));

/* A money amount as the configured currency writes it. */
bool rules_parse_money(const char *v, int digits, int64_t *out, char *msg,
		       size_t size) __attribute__((warn_unused_result));

/* "refund, credit": a bit per action (at least one). */
bool rules_parse_actions(const char *v, unsigned *mask, char *msg,
			 size_t size) __attribute__((warn_unused_result));

/* "X", "over X", "under X", "at least X", "at most X", "X to Y", with X
 * as condition c takes it (a severity, a tier, money, a duration). */
bool rules_parse_range(enum rules_cond c, const char *v, int digits,
		       struct rules_range *out, char *msg, size_t size)
	__attribute__((warn_unused_result));

/* "allow", "deny", "escalate", "escalate to APPROVER within DURATION".
 * Whether the dept: of an approver is declared is for the caller. */
bool rules_parse_verdict(const char *v, struct rules_verdict *out,
			 char *msg, size_t size)
	__attribute__((warn_unused_result));

/* "APPROVER [up to AMOUNT] within DURATION". */
bool rules_parse_level(const char *v, int digits, struct rules_level *out,
		       char *msg, size_t size)
	__attribute__((warn_unused_result));

/* role:agent|supervisor|admin, dept:NAME, user:NAME (syntax only). */
bool rules_approver_syntax(const char *s);

/* The name a dept: approver names, NULL for other approvers. */
const char *rules_approver_dept(const char *approver);

/* ---- deciding ---- */

/* The facts of one request. Strings may be NULL (no user: no personal
 * budget; no category: only rules without a category condition match). */
struct rule_facts {
	int tier;                          /* the agent's */
	const char *user;                  /* the agent's name */
	const char *action;
	int64_t amount;                    /* minor units; -1 without money */
	const char *category;
	int severity;                      /* 1..4 */
	bool vip;
	int64_t customer_goodwill_30d;     /* granted in the last 30 days,
					      before this request */
	int64_t agent_granted_today;       /* by this agent, today */
	int64_t complaint_age_s;
	int64_t resolve_left_s;            /* negative when overdue */
};

struct rule_decision {
	enum rules_decision decision;
	char rule[RULES_NAME_MAX + 1];     /* a [rule NAME] or a built-in:
					      default, tier-limit,
					      daily-budget, customer-cap,
					      unknown-action, bad-amount */
	int64_t limit;                     /* the tier's; -1 without money */
	int64_t budget_left;               /* before this request; -1
					      without money */
	char approver[RULES_APPROVER_MAX]; /* "" unless escalate */
	int level;                         /* escalate: the level of the
					      action's chain that takes the
					      amount (rules_chain_first_level),
					      also when a rule names the
					      approver itself; when due_s
					      passes, the escalation moves to
					      level + 1. 0 otherwise */
	int due_s;                         /* escalate: seconds the approver
					      has; 0 otherwise */
	bool justify_later_ok;             /* only with allow */
	int justify_within_s;              /* with justify_later_ok */
	char message[RULES_MESSAGE_MAX];   /* the rule's message, or "" */
};

/* Decides on f with cfg's rules (docs/RULES.md, "How a decision is
 * made"). Fills every field of *out. */
void rules_decide(const struct config *cfg, const struct rule_facts *f,
		  struct rule_decision *out);

/* APPROVE: whether an approver of approver_tier may grant action and
 * amount on their own authority: their tier allows the action, and for
 * money its limit and approver_budget_left (their daily budget left, see
 * rules_daily_budget) both cover amount. An escalation without an action
 * (action NULL or "") grants nothing: true. approver_user is for future
 * personal limits; may be NULL. */
bool rules_can_approve(const struct config *cfg, int approver_tier,
		       const char *approver_user, const char *action,
		       int64_t amount, int64_t approver_budget_left);

/* The chain that serves action (NULL or "": escalations without an
 * action): level (1..) into approver[len] and *due_s; false past the
 * top (or level < 1), approver then "". Levels are absolute: an
 * escalation may start above level 1 (rules_chain_first_level), and moves
 * to level + 1 when its deadline passes or it is raised. amount is not
 * needed to name a level; it is accepted so that callers need not care
 * which chain serves the action. */
bool rules_chain_level(const struct config *cfg, const char *action,
		       int64_t amount, int level, char *approver, size_t len,
		       int *due_s);

/* The first level of the action's chain whose "up to" covers amount (or
 * that takes any amount); the top level when none does; 1 for amount < 0
 * or actions without money. */
int rules_chain_first_level(const struct config *cfg, const char *action,
			    int64_t amount);

/* ESCALATE to= and ESCALATION RAISE to=: a well-formed approver whose
 * dept: is declared. */
bool rules_approver_valid(const struct config *cfg, const char *approver);

/* ---- RULES ---- */

/* One row of RULES. */
struct rules_grant {
	const char *action;                /* static */
	bool money;
	bool allowed;                      /* money: limit > 0 */
	int64_t limit;                     /* minor units; -1 without money */
};

/* The rows of tier (an unknown tier has no authority), in protocol
 * order, into out[]; returns RULES_NACTIONS. */
size_t rules_tier_grants(const struct config *cfg, int tier,
			 struct rules_grant out[RULES_NACTIONS]);

/* A user's daily goodwill budget: their [user NAME] one, else their
 * tier's (0 when the tier has none). user may be NULL. */
int64_t rules_daily_budget(const struct config *cfg, int tier,
			   const char *user);

#endif
