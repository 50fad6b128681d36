/* cmdtable.c: the command table: every verb with its minimum role, flags
 * and argument spec. commands.c applies it; HELP and the client's
 * completion follow the same names. */
#include "commands.h"
#include "handlers.h"
#include "rules.h"

#define REQ true
#define OPT false
#define TEXT(k, r, max) { k, ARG_TEXT, r, 0, max, NULL }
#define TEXT0(k, r, max) { k, ARG_TEXT0, r, 0, max, NULL }
#define ID(k, r) { k, ARG_ID, r, 0, 0, NULL }
#define NAME(k, r) { k, ARG_NAME, r, 0, 0, NULL }
#define ENUM(k, r, c) { k, ARG_ENUM, r, 0, 0, c }
#define INT(k, r, lo, hi) { k, ARG_INT, r, lo, hi, NULL }
#define BOOL(k, r) { k, ARG_BOOL, r, 0, 0, NULL }
#define END { NULL, ARG_TEXT, false, 0, 0, NULL }

static const char *const roles[] = { "agent", "supervisor", "admin",
				     "integration", NULL };
static const char *const states[] = { "ready", "not-ready", "break",
				      "wrap-up", NULL };
static const char *const channels[] = { "phone", "chat", "email", "web",
					"walk-in", "social", NULL };
static const char *const directions[] = { "inbound", "outbound", NULL };
static const char *const outcomes[] = { "resolved", "follow-up",
					"transferred", "abandoned", NULL };
static const char *const cstates[] = { "new", "assigned", "waiting",
				       "escalated", "resolved", "closed",
				       "reopened", NULL };
static const char *const actions[] = { "refund", "credit", "voucher",
				       "fee-waiver", "apology", "explanation",
				       "callback", "replacement", "repair",
				       NULL };

static const struct arg_spec a_none[] = { END };
static const struct arg_spec a_login[] = {
	{ "user", ARG_TEXT, REQ, 0, 64, NULL },
	{ "password", ARG_SECRET, REQ, 0, 1024, NULL },
	END
};
static const struct arg_spec a_password[] = {
	{ "old", ARG_SECRET, REQ, 0, 1024, NULL },
	{ "new", ARG_SECRET, REQ, 0, 1024, NULL },
	END
};
static const struct arg_spec a_user_add[] = {
	NAME("name", REQ), ENUM("role", REQ, roles), INT("tier", OPT, 1, 9),
	{ "skills", ARG_NAMES, OPT, 0, 511, NULL }, NAME("team", OPT),
	NAME("dept", OPT), INT("capacity", OPT, 1, 1000),
	{ "password", ARG_SECRET, REQ, 0, 1024, NULL },
	END
};
static const struct arg_spec a_user_set[] = {
	NAME("name", REQ), INT("tier", OPT, 1, 9),
	{ "skills", ARG_NAMES, OPT, 0, 511, NULL }, TEXT0("team", OPT, 32),
	TEXT0("dept", OPT, 32), INT("capacity", OPT, 1, 1000),
	BOOL("enabled", OPT), { "password", ARG_SECRET, OPT, 0, 1024, NULL },
	END
};
static const struct arg_spec a_state_set[] = {
	ENUM("state", REQ, states), TEXT0("reason", OPT, 200), END
};
static const struct arg_spec a_customer_add[] = {
	TEXT("name", REQ, 200), TEXT0("phone", OPT, 40), TEXT0("email", OPT, 254),
	BOOL("vip", OPT), TEXT0("ref", OPT, 64), END
};
static const struct arg_spec a_id[] = { ID("id", REQ), END };
static const struct arg_spec a_customer_set[] = {
	ID("id", REQ), TEXT("name", OPT, 200), TEXT0("phone", OPT, 40),
	TEXT0("email", OPT, 254), BOOL("vip", OPT), TEXT0("ref", OPT, 64), END
};
static const struct arg_spec a_customer_find[] = {
	TEXT("phone", OPT, 40), TEXT("email", OPT, 254), TEXT("name", OPT, 200),
	TEXT("ref", OPT, 64), INT("limit", OPT, 1, 1000), END
};
static const struct arg_spec a_interaction_start[] = {
	ID("customer", REQ), ENUM("channel", REQ, channels),
	ENUM("direction", REQ, directions), ID("complaint", OPT), END
};
static const struct arg_spec a_interaction_note[] = {
	ID("id", REQ), TEXT("text", REQ, 4000), END
};
static const struct arg_spec a_interaction_end[] = {
	ID("id", REQ), ENUM("outcome", REQ, outcomes), END
};
static const struct arg_spec a_complaint_open[] = {
	ID("customer", REQ), NAME("category", REQ), INT("severity", REQ, 1, 4),
	TEXT("summary", REQ, 1000), ID("interaction", OPT), NAME("queue", OPT),
	END
};
static const struct arg_spec a_complaint_list[] = {
	ENUM("state", OPT, cstates), NAME("queue", OPT),
	{ "assignee", ARG_USER, OPT, 0, 0, NULL }, ID("customer", OPT),
	INT("limit", OPT, 1, 1000), END
};
static const struct arg_spec a_complaint_note[] = {
	ID("id", REQ), TEXT("text", REQ, 4000), BOOL("reply", OPT), END
};
static const struct arg_spec a_complaint_wait[] = {
	ID("id", REQ), TEXT("reason", REQ, 1000),
	{ "until", ARG_TIME, OPT, 0, 0, NULL }, END
};
static const struct arg_spec a_complaint_reason[] = {
	ID("id", REQ), TEXT("reason", REQ, 1000), END
};
static const struct arg_spec a_assign[] = {
	ID("complaint", REQ), { "agent", ARG_USER, REQ, 0, 0, NULL }, END
};
static const struct arg_spec a_watch[] = {
	{ "queues", ARG_NAMES, OPT, 0, 511, NULL }, END
};
static const char *const hstates[] = { "open", "acknowledged", "done", NULL };
static const struct arg_spec a_handoff_open[] = {
	ID("complaint", REQ), NAME("dept", REQ), TEXT("request", REQ, 2000), END
};
static const struct arg_spec a_handoff_done[] = {
	ID("id", REQ), TEXT("result", REQ, 2000), END
};
static const struct arg_spec a_handoff_rate[] = {
	ID("id", REQ), INT("score", REQ, 1, 5), TEXT0("comment", OPT, 1000), END
};
static const struct arg_spec a_handoff_list[] = {
	NAME("dept", OPT), ENUM("state", OPT, hstates), ID("complaint", OPT),
	INT("limit", OPT, 1, 1000), END
};
static const struct arg_spec a_feedback[] = {
	ID("complaint", REQ), INT("csat", REQ, 1, 5), TEXT0("comment", OPT, 2000), END
};
static const struct arg_spec a_customer_erase[] = {
	ID("id", REQ), TEXT("reason", REQ, 500), END
};
static const char *const estates[] = { "pending", "approved", "rejected",
				       "withdrawn", NULL };
static const struct arg_spec a_advise[] = {
	ID("complaint", REQ), ENUM("action", REQ, actions),
	{ "amount", ARG_MONEY, OPT, 0, 0, NULL },
	{ "currency", ARG_CURRENCY, OPT, 0, 0, NULL }, END
};
static const struct arg_spec a_escalate[] = {
	ID("complaint", REQ), TEXT("reason", REQ, 1000), TEXT("to", OPT, 48), END
};
static const struct arg_spec a_escalation_list[] = {
	ENUM("state", OPT, estates), BOOL("mine", OPT), INT("limit", OPT, 1, 1000), END
};
static const struct arg_spec a_escalation_raise[] = {
	ID("id", REQ), TEXT("to", OPT, 48), TEXT0("reason", OPT, 1000), END
};
static const struct arg_spec a_approve[] = {
	ID("escalation", REQ), TEXT0("note", OPT, 1000), END
};
static const struct arg_spec a_reject[] = {
	ID("escalation", REQ), TEXT("reason", REQ, 1000), END
};
static const struct arg_spec a_justify[] = {
	ID("complaint", REQ), TEXT("text", REQ, 2000), END
};
static const struct arg_spec a_calibration[] = {
	INT("tier", OPT, 1, 9), { "from", ARG_TIME, OPT, 0, 0, NULL },
	{ "to", ARG_TIME, OPT, 0, 0, NULL }, END
};
static const struct arg_spec a_complaint_resolve[] = {
	ID("id", REQ), ENUM("action", REQ, actions),
	{ "amount", ARG_MONEY, OPT, 0, 0, NULL },
	{ "currency", ARG_CURRENCY, OPT, 0, 0, NULL },
	TEXT("resolution", REQ, 2000), BOOL("justify_later", OPT),
	BOOL("followup", OPT), END
};

/* ---- what is missing beyond the required keys ---- */

static const char *money_without_amount(const struct proto_request *pr)
{
	const char *action = proto_get(pr, "action");
	if (action != NULL && rules_action_is_money(action) &&
	    proto_get(pr, "amount") == NULL)
		return "a money action needs amount";
	return NULL;
}

static const char *find_without_criteria(const struct proto_request *pr)
{
	if (proto_get(pr, "phone") == NULL && proto_get(pr, "email") == NULL &&
	    proto_get(pr, "name") == NULL && proto_get(pr, "ref") == NULL)
		return "give at least one of phone, email, name, ref";
	return NULL;
}

static const struct arg_spec a_stats[] = {
	{ "agent", ARG_USER, OPT, 0, 0, NULL }, NAME("team", OPT),
	NAME("queue", OPT), NAME("dept", OPT),
	{ "from", ARG_TIME, OPT, 0, 0, NULL }, { "to", ARG_TIME, OPT, 0, 0, NULL },
	END
};

static const char *const scopes[] = { "agent", "team", NULL };
static const char *const figures[] = { "fcr", "aht", "sla_met", "csat",
				       "escalated", "reopened", "empowered",
				       "handled", NULL };
static const char *const ops[] = { "min", "max", NULL };
static const struct arg_spec a_target_set[] = {
	ENUM("scope", REQ, scopes), NAME("name", REQ), ENUM("figure", REQ, figures),
	ENUM("op", REQ, ops), { "value", ARG_DECIMAL, REQ, 0, 0, NULL },
	{ "from", ARG_TIME, OPT, 0, 0, NULL }, { "to", ARG_TIME, OPT, 0, 0, NULL },
	END
};
static const struct arg_spec a_target_list[] = {
	ENUM("scope", OPT, scopes), NAME("name", OPT), END
};

static const char *const fu_outcomes[] = { "reached", "no-answer",
					   "left-message", "declined", NULL };
static const struct arg_spec a_followup_list[] = {
	BOOL("mine", OPT), BOOL("due", OPT), INT("limit", OPT, 1, 1000), END
};
static const struct arg_spec a_followup_done[] = {
	ID("id", REQ), ENUM("outcome", REQ, fu_outcomes), TEXT0("note", OPT, 2000), END
};

#define AGENT ROLE_AGENT
#define SUP ROLE_SUPERVISOR
#define ADMIN ROLE_ADMIN
#define PRE CMD_PRELOGIN
#define INTG CMD_INTEGRATION
#define W CMD_WRITE

static const struct command table[] = {
	{ "LOGIN", NULL, ROLE_NONE, PRE | INTG, a_login, cmd_login, NULL, NULL },
	{ "PING", NULL, ROLE_NONE, PRE | INTG, a_none, cmd_ping, NULL, NULL },
	{ "LOGOUT", NULL, ROLE_NONE, PRE | INTG, a_none, cmd_logout, NULL, NULL },
	{ "PASSWORD", NULL, AGENT, INTG | W, a_password, cmd_password, NULL, NULL },
	{ "RELOAD", NULL, ADMIN, 0, a_none, cmd_reload, NULL, NULL },
	{ "HELP", NULL, ROLE_INTEGRATION, INTG, a_none, cmd_help, NULL, NULL },
	{ "USER", "ADD", ADMIN, W, a_user_add, cmd_user_add, NULL, NULL },
	{ "USER", "SET", ADMIN, W, a_user_set, cmd_user_set, NULL, NULL },
	{ "STATE", NULL, AGENT, 0, a_none, cmd_sql, NULL, "cd_state_get" },
	{ "STATE", "SET", AGENT, W, a_state_set, cmd_sql, NULL, "cd_state_set" },
	{ "CUSTOMER", "ADD", AGENT, INTG | W, a_customer_add, cmd_sql, NULL, "cd_customer_add" },
	{ "CUSTOMER", "GET", AGENT, INTG, a_id, cmd_sql, NULL, "cd_customer_get" },
	{ "CUSTOMER", "SET", AGENT, INTG | W, a_customer_set, cmd_sql, NULL, "cd_customer_set" },
	{ "CUSTOMER", "FIND", AGENT, INTG, a_customer_find, cmd_sql,
	  find_without_criteria, "cd_customer_find" },
	{ "CUSTOMER", "ERASE", ADMIN, W, a_customer_erase, cmd_sql, NULL, "cd_customer_erase" },
	{ "INTERACTION", "START", AGENT, INTG | W, a_interaction_start, cmd_sql, NULL, "cd_interaction_start" },
	{ "INTERACTION", "NOTE", AGENT, INTG | W, a_interaction_note, cmd_sql, NULL, "cd_interaction_note" },
	{ "INTERACTION", "END", AGENT, INTG | W, a_interaction_end, cmd_interaction_end, NULL, NULL },
	{ "INTERACTION", "GET", AGENT, 0, a_id, cmd_sql, NULL, "cd_interaction_get" },
	{ "COMPLAINT", "OPEN", AGENT, INTG | W, a_complaint_open, cmd_complaint_open, NULL, NULL },
	{ "COMPLAINT", "GET", AGENT, INTG, a_id, cmd_sql, NULL, "cd_complaint_get" },
	{ "COMPLAINT", "LIST", AGENT, 0, a_complaint_list, cmd_complaint_list, NULL, NULL },
	{ "COMPLAINT", "NOTE", AGENT, W, a_complaint_note, cmd_sql, NULL, "cd_complaint_note" },
	{ "COMPLAINT", "TAKE", AGENT, W, a_id, cmd_complaint_take, NULL, NULL },
	{ "COMPLAINT", "WAIT", AGENT, W, a_complaint_wait, cmd_complaint_wait, NULL, NULL },
	{ "COMPLAINT", "RESUME", AGENT, W, a_id, cmd_complaint_resume, NULL, NULL },
	{ "COMPLAINT", "REOPEN", AGENT, W, a_complaint_reason, cmd_complaint_reopen, NULL, NULL },
	{ "COMPLAINT", "CLOSE", AGENT, W, a_id, cmd_complaint_close, NULL, NULL },
	{ "COMPLAINT", "RESOLVE", AGENT, W, a_complaint_resolve, cmd_complaint_resolve,
	  money_without_amount, NULL },
	{ "ADVISE", NULL, AGENT, 0, a_advise, cmd_advise, money_without_amount, NULL },
	{ "RULES", NULL, AGENT, 0, a_none, cmd_rules, NULL, NULL },
	{ "ESCALATE", NULL, AGENT, W, a_escalate, cmd_escalate, NULL, NULL },
	{ "ESCALATION", "LIST", AGENT, 0, a_escalation_list, cmd_sql, NULL, "cd_escalation_list" },
	{ "ESCALATION", "WITHDRAW", AGENT, W, a_id, cmd_sql, NULL, "cd_escalation_withdraw" },
	{ "ESCALATION", "RAISE", AGENT, W, a_escalation_raise, cmd_escalation_raise, NULL, NULL },
	{ "APPROVE", NULL, AGENT, W, a_approve, cmd_approve, NULL, NULL },
	{ "REJECT", NULL, AGENT, W, a_reject, cmd_reject, NULL, NULL },
	{ "JUSTIFY", NULL, AGENT, W, a_justify, cmd_sql, NULL, "cd_justify" },
	{ "CALIBRATION", NULL, SUP, 0, a_calibration, cmd_sql, NULL, "cd_calibration" },
	{ "CATEGORY", "LIST", AGENT, INTG, a_none, cmd_category_list, NULL, NULL },
	{ "QUEUE", "LIST", AGENT, 0, a_none, cmd_queue_list, NULL, NULL },
	{ "DEPT", "LIST", AGENT, 0, a_none, cmd_dept_list, NULL, NULL },
	{ "HANDOFF", "OPEN", AGENT, W, a_handoff_open, cmd_handoff_open, NULL, NULL },
	{ "HANDOFF", "ACK", AGENT, W, a_id, cmd_handoff_ack, NULL, NULL },
	{ "HANDOFF", "DONE", AGENT, W, a_handoff_done, cmd_handoff_done, NULL, NULL },
	{ "HANDOFF", "RATE", AGENT, W, a_handoff_rate, cmd_sql, NULL, "cd_handoff_rate" },
	{ "HANDOFF", "LIST", AGENT, 0, a_handoff_list, cmd_handoff_list, NULL, NULL },
	{ "FEEDBACK", NULL, AGENT, INTG | W, a_feedback, cmd_sql, NULL, "cd_feedback" },
	{ "STATS", NULL, AGENT, 0, a_stats, cmd_stats, NULL, NULL },
	{ "TARGET", "SET", SUP, W, a_target_set, cmd_sql, NULL, "cd_target_set" },
	{ "FOLLOWUP", "LIST", AGENT, 0, a_followup_list, cmd_sql, NULL, "cd_followup_list" },
	{ "FOLLOWUP", "DONE", AGENT, W, a_followup_done, cmd_sql, NULL, "cd_followup_done" },
	{ "TARGET", "LIST", AGENT, 0, a_target_list, cmd_sql, NULL, "cd_target_list" },
	{ "NEXT", NULL, AGENT, W, a_none, cmd_next, NULL, NULL },
	{ "ASSIGN", NULL, SUP, W, a_assign, cmd_assign, NULL, NULL },
	{ "WATCH", NULL, SUP, 0, a_watch, cmd_watch, NULL, NULL },
	{ "UNWATCH", NULL, AGENT, 0, a_none, cmd_unwatch, NULL, NULL },
};

const struct command *commands_table(size_t *count)
{
	*count = sizeof table / sizeof table[0];
	return table;
}
