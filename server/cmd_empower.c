/* cmd_empower.c: the empowerment verbs of PROTOCOL §9: ADVISE, COMPLAINT
 * RESOLVE, RULES, ESCALATE, ESCALATION LIST/WITHDRAW/RAISE, APPROVE,
 * REJECT, JUSTIFY.
 *
 * A decision reads the facts (cd_facts), decides in memory with the rules
 * engine (rules.c), then acts through one statement that re-checks the
 * running totals under row locks and answers RETRY when they moved: the
 * handler then reads and decides again. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "db.h"
#include "fsm.h"
#include "metrics.h"
#include "handlers.h"
#include "rules.h"
#include "server.h"
#include "values.h"

struct emp_ctx {
	struct rule_facts f;
	char category[CFG_NAME_MAX + 1];
	char action[32];
	int64_t seen_today;
	int64_t seen_30d;
	struct rule_decision d;
	/* escalation facts */
	char e_action[32];
	int64_t e_amount;
	int e_level;
};

static struct emp_ctx *emp_ctx(struct request *rq)
{
	if (rq->ctx == NULL)
		rq->ctx = calloc(1, sizeof(struct emp_ctx));
	return rq->ctx;
}

static int64_t amount_arg(struct request *rq)
{
	const char *a = rq_arg(rq, "amount");
	return a != NULL ? strtoll(a, NULL, 10) : -1;
}

/* Actions without money take no amount (BAD bad-arg, from the request
 * alone); a money action without one was refused as missing-arg before
 * (cmdtable.c). */
static bool check_amount(struct request *rq)
{
	const char *action = rq_arg(rq, "action");
	bool money = rules_action_is_money(action);
	if (!money && rq_arg(rq, "amount") != NULL) {
		rq_fail(rq, CD_BAD_ARG, "this action takes no amount");
		return false;
	}
	return true;
}

static void put_money(struct request *rq, const char *key, int64_t minor)
{
	char buf[32] = "";
	if (minor >= 0)
		val_money_format(minor, rq->cfg->currency_digits, buf);
	rq_kv(rq, key, buf);
}

/* ---- facts ------------------------------------------------------------- */

/* Reads cd_facts for the complaint in argument key, then calls next with
 * the facts in the context; answers not-found itself. */
static void facts_read(void *arg, const struct db_result *r)
{
	struct request *rq = arg;
	struct emp_ctx *c = rq->ctx;
	if (r->status != DB_OK) {
		rq_fail_db(rq, r, false);
		return;
	}
	PGresult *res = r->res;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		rq_fail(rq, CD_NOT_FOUND, "no such complaint");
		return;
	}
	snprintf(c->category, sizeof c->category, "%s", PQgetvalue(res, 0, 3));
	snprintf(c->action, sizeof c->action, "%s", rq_arg(rq, "action"));
	c->f.tier = rq->s->tier;
	c->f.user = rq->s->user;
	c->f.action = c->action;
	c->f.amount = amount_arg(rq);
	c->f.category = c->category;
	c->f.severity = atoi(PQgetvalue(res, 0, 4));
	c->f.vip = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
	c->seen_30d = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
	c->seen_today = strtoll(PQgetvalue(res, 0, 8), NULL, 10);
	c->f.customer_goodwill_30d = c->seen_30d;
	c->f.agent_granted_today = c->seen_today;
	c->f.complaint_age_s = strtoll(PQgetvalue(res, 0, 9), NULL, 10);
	c->f.resolve_left_s = strtoll(PQgetvalue(res, 0, 10), NULL, 10);
	rules_decide(rq->cfg, &c->f, &c->d);
	metrics_decision(rq->srv->metrics, rules_decision_name(c->d.decision));
	cmd_fn *next = rq->peek_next;
	next(rq);
}

static void facts_fetch(struct request *rq, const char *complaint_key,
			cmd_fn *next)
{
	if (emp_ctx(rq) == NULL) {
		rq_fail(rq, CD_INTERNAL, "out of memory");
		return;
	}
	rq->nparams = 0;
	rq_param(rq, rq_uid(rq));
	rq_param(rq, rq_arg(rq, complaint_key));
	rq_param(rq, rq->cfg->timezone);
	rq->peek_next = next;
	db_exec(rq->srv->db, "SELECT * FROM cd_facts($1, $2, $3)", rq->nparams,
		rq->params, facts_read, rq);
}

/* The facts and the verdict, for the audit trail: ids, codes and amounts
 * only, never personal data. */
static void facts_json(const struct emp_ctx *c, char *out, size_t len)
{
	snprintf(out, len,
		 "{\"tier\": %d, \"action\": \"%s\", \"amount\": %" PRId64
		 ", \"category\": \"%s\", \"severity\": %d, \"vip\": %s"
		 ", \"customer_30d\": %" PRId64 ", \"agent_today\": %" PRId64
		 ", \"age_s\": %" PRId64 ", \"resolve_left_s\": %" PRId64
		 ", \"limit\": %" PRId64 ", \"budget_left\": %" PRId64 "}",
		 c->f.tier, c->action, c->f.amount, c->category, c->f.severity,
		 c->f.vip ? "true" : "false", c->f.customer_goodwill_30d,
		 c->f.agent_granted_today, c->f.complaint_age_s,
		 c->f.resolve_left_s, c->d.limit, c->d.budget_left);
}

/* ---- ADVISE ------------------------------------------------------------ */

static void advise_answer(struct request *rq)
{
	struct emp_ctx *c = rq->ctx;
	rq_line(rq, "OK");
	rq_kv(rq, "decision", rules_decision_name(c->d.decision));
	rq_kv(rq, "rule", c->d.rule);
	rq_kv(rq, "approver", c->d.decision == RULES_ESCALATE ? c->d.approver : "");
	put_money(rq, "limit", c->d.limit);
	put_money(rq, "budget_left", c->d.budget_left);
	if (c->d.message[0] != '\0')
		rq_kv(rq, "msg", c->d.message);
	rq_end_line(rq);
	rq_finish(rq);
}

void cmd_advise(struct request *rq)
{
	if (!check_amount(rq))
		return;
	facts_fetch(rq, "complaint", advise_answer);
}

/* ---- COMPLAINT RESOLVE ----------------------------------------------- */

static void resolve_act(struct request *rq)
{
	struct emp_ctx *c = rq->ctx;
	const struct rule_decision *d = &c->d;
	const char *decision = rules_decision_name(d->decision);
	const char *rule = d->rule;
	const char *msg = d->message;
	const char *jl = rq_arg(rq, "justify_later");
	char from[128], facts[600];

	/* Acting now and justifying later is for the actions the rules
	 * name; asking for it elsewhere is refused like any policy. */
	if (jl != NULL && strcmp(jl, "true") == 0 && d->decision == RULES_ALLOW &&
	    !d->justify_later_ok) {
		decision = "deny";
		rule = "justify-later";
		msg = "this action cannot be justified later";
	}
	fsm_from_array(MV_RESOLVE, from, sizeof from);
	facts_json(c, facts, sizeof facts);
	rq->nparams = 0;
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "id"));
	rq_param(rq, c->action);
	rq_param(rq, rq_arg(rq, "amount"));
	rq_param(rq, rq_arg(rq, "resolution"));
	rq_param(rq, jl);
	rq_param(rq, decision);
	rq_param(rq, rule);
	rq_param(rq, msg);
	rq_param(rq, d->decision == RULES_ESCALATE ? d->approver : NULL);
	rq_param_int(rq, d->level > 0 ? d->level : 1);
	rq_param_int(rq, d->due_s > 0 ? d->due_s : 3600);
	rq_param_int(rq, d->justify_within_s > 0 ? d->justify_within_s : 86400);
	rq_param_int(rq, c->seen_today);
	rq_param_int(rq, c->seen_30d);
	rq_param(rq, from);
	rq_param(rq, rq->cfg->timezone);
	rq_param(rq, facts);
	/* A callback action, or followup=yes, schedules the desk's call back
	 * to the customer. */
	const char *fu = rq_arg(rq, "followup");
	bool followup = fu != NULL ? strcmp(fu, "true") == 0
				   : strcmp(c->action, "callback") == 0;
	if (followup && rq->cfg->followup_after > 0)
		rq_param_int(rq, rq->cfg->followup_after);
	else
		rq_param(rq, NULL);
	rq_run(rq, "SELECT * FROM cd_resolve($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
		   " $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)");
}

static void resolve_facts(struct request *rq)
{
	/* The complaint's id is "id" here. */
	facts_fetch(rq, "id", resolve_act);
}

void cmd_complaint_resolve(struct request *rq)
{
	if (!check_amount(rq))
		return;
	rq->retry_fn = resolve_facts;
	rq_idem_peek(rq, resolve_facts);
}

/* ---- RULES ------------------------------------------------------------- */

static void rules_answer(void *arg, const struct db_result *r)
{
	struct request *rq = arg;
	if (r->status != DB_OK) {
		rq_fail_db(rq, r, false);
		return;
	}
	int64_t used = strtoll(PQgetvalue(r->res, 0, 0), NULL, 10);
	struct rules_grant g[RULES_NACTIONS];
	size_t n = rules_tier_grants(rq->cfg, rq->s->tier, g);
	for (size_t i = 0; i < n; i++) {
		rq_line(rq, "ROW");
		rq_kv(rq, "action", g[i].action);
		rq_kv(rq, "allowed", g[i].allowed ? "yes" : "no");
		put_money(rq, "limit", g[i].money ? g[i].limit : -1);
		rq_end_line(rq);
	}
	int64_t budget = rules_daily_budget(rq->cfg, rq->s->tier, rq->s->user);
	int64_t left = budget > used ? budget - used : 0;
	rq_line(rq, "OK");
	rq_kv_int(rq, "tier", rq->s->tier);
	put_money(rq, "daily_budget", budget);
	put_money(rq, "used_today", used);
	put_money(rq, "budget_left", left);
	rq_end_line(rq);
	rq_finish(rq);
}

void cmd_rules(struct request *rq)
{
	rq_param(rq, rq_uid(rq));
	rq_param(rq, rq->cfg->timezone);
	db_exec(rq->srv->db, "SELECT cd_granted_today($1, $2)", rq->nparams,
		rq->params, rules_answer, rq);
}

/* ---- ESCALATE ------------------------------------------------------------ */

/* Checks an explicit approver (to=): BAD when malformed; the not-found
 * message when it names a department the rules do not declare. */
static bool approver_arg(struct request *rq, const char **missing)
{
	const char *to = rq_arg(rq, "to");
	*missing = NULL;
	if (to == NULL)
		return true;
	if (!rules_approver_syntax(to)) {
		rq_fail(rq, CD_BAD_ARG, "to must be role:NAME, dept:NAME or user:NAME");
		return false;
	}
	if (!rules_approver_valid(rq->cfg, to))
		*missing = "no such department";
	return true;
}

void cmd_escalate(struct request *rq)
{
	const char *missing;
	char approver[RULES_APPROVER_MAX] = "role:supervisor", from[128];
	int due_s = 3600;
	if (!approver_arg(rq, &missing))
		return;
	if (!rules_chain_level(rq->cfg, NULL, -1, 1, approver, sizeof approver, &due_s))
		snprintf(approver, sizeof approver, "role:supervisor");
	if (rq_arg(rq, "to") != NULL)
		snprintf(approver, sizeof approver, "%s", rq_arg(rq, "to"));
	fsm_from_array(MV_ESCALATE, from, sizeof from);
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "complaint"));
	rq_param(rq, rq_arg(rq, "reason"));
	rq_param(rq, approver);
	rq_param_int(rq, 1);
	rq_param_int(rq, due_s > 0 ? due_s : 3600);
	rq_param(rq, missing);
	rq_param(rq, from);
	rq_run(rq, "SELECT * FROM cd_escalate($1, $2, $3, $4, $5, $6, $7, $8, $9)");
}

/* ---- escalation facts (APPROVE, RAISE) ------------------------------------ */

static void escalation_read(void *arg, const struct db_result *r)
{
	struct request *rq = arg;
	struct emp_ctx *c = rq->ctx;
	if (r->status != DB_OK) {
		rq_fail_db(rq, r, false);
		return;
	}
	PGresult *res = r->res;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		rq_fail(rq, CD_NOT_FOUND, "no such escalation");
		return;
	}
	snprintf(c->e_action, sizeof c->e_action, "%s", PQgetvalue(res, 0, 2));
	c->e_amount = PQgetisnull(res, 0, 3) ? -1 : strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	c->e_level = atoi(PQgetvalue(res, 0, 5));
	c->seen_today = strtoll(PQgetvalue(res, 0, 7), NULL, 10);
	cmd_fn *next = rq->peek_next;
	next(rq);
}

static void escalation_fetch(struct request *rq, const char *key, cmd_fn *next)
{
	if (emp_ctx(rq) == NULL) {
		rq_fail(rq, CD_INTERNAL, "out of memory");
		return;
	}
	rq->nparams = 0;
	rq_param(rq, rq_uid(rq));
	rq_param(rq, rq_arg(rq, key));
	rq_param(rq, rq->cfg->timezone);
	rq->peek_next = next;
	db_exec(rq->srv->db, "SELECT * FROM cd_escalation_facts($1, $2, $3)",
		rq->nparams, rq->params, escalation_read, rq);
}

/* ---- APPROVE / REJECT -------------------------------------------------------- */

static void approve_act(struct request *rq)
{
	struct emp_ctx *c = rq->ctx;
	int64_t budget = rules_daily_budget(rq->cfg, rq->s->tier, rq->s->user);
	int64_t left = budget - c->seen_today;
	bool covers = rules_can_approve(rq->cfg, rq->s->tier, rq->s->user,
					c->e_action[0] ? c->e_action : NULL,
					c->e_amount, left > 0 ? left : 0);
	rq->nparams = 0;
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "escalation"));
	rq_param(rq, "approve");
	rq_param(rq, rq_arg(rq, "note"));
	rq_param(rq, covers ? "true" : "false");
	rq_param_int(rq, c->seen_today);
	rq_param(rq, rq->cfg->timezone);
	rq_run(rq, "SELECT * FROM cd_decide_escalation($1, $2, $3, $4, $5, $6, $7, $8)");
}

static void approve_facts(struct request *rq)
{
	escalation_fetch(rq, "escalation", approve_act);
}

void cmd_approve(struct request *rq)
{
	rq->retry_fn = approve_facts;
	rq_idem_peek(rq, approve_facts);
}

void cmd_reject(struct request *rq)
{
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "escalation"));
	rq_param(rq, "reject");
	rq_param(rq, rq_arg(rq, "reason"));
	rq_param(rq, "true");
	rq_param_int(rq, 0);
	rq_param(rq, rq->cfg->timezone);
	rq_run(rq, "SELECT * FROM cd_decide_escalation($1, $2, $3, $4, $5, $6, $7, $8)");
}

/* ---- ESCALATION RAISE ------------------------------------------------------ */

static void raise_act(struct request *rq)
{
	struct emp_ctx *c = rq->ctx;
	const char *missing;
	char approver[RULES_APPROVER_MAX] = "";
	int due_s = 3600;
	bool next = rules_chain_level(rq->cfg, c->e_action[0] ? c->e_action : NULL,
				      c->e_amount, c->e_level + 1, approver,
				      sizeof approver, &due_s);
	if (!approver_arg(rq, &missing))
		return;
	if (rq_arg(rq, "to") != NULL) {
		snprintf(approver, sizeof approver, "%s", rq_arg(rq, "to"));
		next = true;
	}
	rq->nparams = 0;
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "id"));
	rq_param_int(rq, c->e_level);
	rq_param(rq, next ? approver : NULL);
	rq_param_int(rq, c->e_level + 1);
	rq_param_int(rq, due_s > 0 ? due_s : 3600);
	rq_param(rq, rq_arg(rq, "reason"));
	rq_param(rq, missing);
	rq_run(rq, "SELECT * FROM cd_escalation_raise($1, $2, $3, $4, $5, $6, $7, $8, $9)");
}

static void raise_facts(struct request *rq)
{
	escalation_fetch(rq, "id", raise_act);
}

void cmd_escalation_raise(struct request *rq)
{
	const char *to = rq_arg(rq, "to");
	if (to != NULL && !rules_approver_syntax(to)) {
		rq_fail(rq, CD_BAD_ARG, "to must be role:NAME, dept:NAME or user:NAME");
		return;
	}
	rq->retry_fn = raise_facts;
	rq_idem_peek(rq, raise_facts);
}

/* ---- JUSTIFY -------------------------------------------------------------- */

/* ---- CALIBRATION ------------------------------------------------------------ */

