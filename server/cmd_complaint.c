/* cmd_complaint.c: the COMPLAINT verbs. Service levels come from the
 * rules' categories; every move of the state machine takes its allowed
 * starting states from fsm.c and is applied under a row lock by
 * cd_complaint_move(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "fsm.h"
#include "handlers.h"

void cmd_complaint_open(struct request *rq)
{
	const struct cfg_category *cat =
		cfg_find_category(rq->cfg, rq_arg(rq, "category"));
	const char *queue = rq_arg(rq, "queue");
	const char *missing = NULL;
	int sev = atoi(rq_arg(rq, "severity"));

	if (cat == NULL)
		missing = "no such category";
	else if (queue != NULL && cfg_find_queue(rq->cfg, queue) == NULL)
		missing = "no such queue";
	if (queue == NULL && cat != NULL)
		queue = cat->queue;
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "customer"));
	rq_param(rq, rq_arg(rq, "category"));
	rq_param(rq, rq_arg(rq, "severity"));
	rq_param(rq, rq_arg(rq, "summary"));
	rq_param(rq, rq_arg(rq, "interaction"));
	rq_param(rq, missing == NULL ? queue : NULL);
	rq_param_int(rq, cat != NULL ? cat->sla[sev - 1].respond_within : 1);
	rq_param_int(rq, cat != NULL ? cat->sla[sev - 1].resolve_within : 1);
	rq_param(rq, missing);
	const struct cfg_calendar *cal = cat != NULL && cat->calendar[0] != '\0'
		? cfg_find_calendar(rq->cfg, cat->calendar) : NULL;
	rq_param(rq, cal != NULL ? cal->json : NULL);
	rq_run(rq, "SELECT * FROM cd_complaint_open($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
}

void cmd_complaint_list(struct request *rq)
{
	const char *queue = rq_arg(rq, "queue");
	const char *limit = rq_arg(rq, "limit");
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "state"));
	rq_param(rq, queue);
	rq_param(rq, rq_arg(rq, "assignee"));
	rq_param(rq, rq_arg(rq, "customer"));
	rq_param(rq, limit);
	rq_param(rq, queue != NULL && cfg_find_queue(rq->cfg, queue) == NULL
			     ? "true" : "false");
	rq_run(rq, "SELECT * FROM cd_complaint_list($1, $2, $3, $4, $5, $6, $7, $8)");
}

/* One state-machine move through cd_complaint_move(). */
static void complaint_move(struct request *rq, enum cmove move,
			   const char *verb, const char *text)
{
	char from[128];
	fsm_from_array(move, from, sizeof from);
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "id"));
	rq_param(rq, verb);
	rq_param(rq, from);
	rq_param(rq, fsm_needs_owner(move) ? "true" : "false");
	rq_param(rq, text);
	rq_param(rq, rq_arg(rq, "until"));
	rq_run(rq, "SELECT * FROM cd_complaint_move($1, $2, $3, $4, $5, $6, $7, $8)");
}

void cmd_complaint_take(struct request *rq)
{
	complaint_move(rq, MV_TAKE, "take", NULL);
}

void cmd_complaint_wait(struct request *rq)
{
	complaint_move(rq, MV_WAIT, "wait", rq_arg(rq, "reason"));
}

void cmd_complaint_resume(struct request *rq)
{
	complaint_move(rq, MV_RESUME, "resume", NULL);
}

void cmd_complaint_reopen(struct request *rq)
{
	complaint_move(rq, MV_REOPEN, "reopen", rq_arg(rq, "reason"));
}

void cmd_complaint_close(struct request *rq)
{
	complaint_move(rq, MV_CLOSE, "close", NULL);
}
