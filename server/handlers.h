/* handlers.h: the verb handlers, one family per cmd_*.c file. Each runs
 * after commands.c has checked login, role and arguments. */
#ifndef CALLDESK_HANDLERS_H
#define CALLDESK_HANDLERS_H

struct request;

/* cmd_session.c */
void cmd_login(struct request *rq);
void cmd_ping(struct request *rq);
void cmd_logout(struct request *rq);
void cmd_password(struct request *rq);
void cmd_reload(struct request *rq);
void cmd_help(struct request *rq);

/* cmd_user.c */
void cmd_user_add(struct request *rq);
void cmd_user_set(struct request *rq);

/* cmd_interaction.c */
void cmd_interaction_end(struct request *rq);

/* cmd_complaint.c */
void cmd_complaint_open(struct request *rq);
void cmd_complaint_list(struct request *rq);
void cmd_complaint_take(struct request *rq);
void cmd_complaint_wait(struct request *rq);
void cmd_complaint_resume(struct request *rq);
void cmd_complaint_reopen(struct request *rq);
void cmd_complaint_close(struct request *rq);
void cmd_complaint_resolve(struct request *rq);

/* cmd_catalog.c */
void cmd_category_list(struct request *rq);
void cmd_queue_list(struct request *rq);
void cmd_dept_list(struct request *rq);

/* Builds the PostgreSQL array literals of the rules' queues (only those in
 * the comma-separated list only, when not NULL or "") and, for each, the
 * names that make an agent skilled for it (the queue and its
 * categories). The caller frees both. */
struct config;
struct sbuf;
void catalog_queue_arrays(const struct config *cfg, const char *only,
			  struct sbuf *queues, struct sbuf *skills);
/* True when name is one of the comma-separated list. */
#include <stdbool.h>
bool name_in_list(const char *list, const char *name);

/* cmd_desk.c */
void cmd_handoff_open(struct request *rq);
void cmd_handoff_ack(struct request *rq);
void cmd_handoff_done(struct request *rq);
void cmd_handoff_list(struct request *rq);

/* cmd_empower.c (cmd_complaint_resolve too) */
void cmd_advise(struct request *rq);
void cmd_rules(struct request *rq);
void cmd_escalate(struct request *rq);
void cmd_escalation_raise(struct request *rq);
void cmd_approve(struct request *rq);
void cmd_reject(struct request *rq);

/* cmd_stats.c */
void cmd_stats(struct request *rq);

/* cmd_routing.c */
void cmd_next(struct request *rq);
void cmd_assign(struct request *rq);
void cmd_watch(struct request *rq);
void cmd_unwatch(struct request *rq);

#endif
