/* cmd_desk.c: hand-offs to back-office departments (HANDOFF), customer
 * feedback (FEEDBACK) and erasure (CUSTOMER ERASE). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "handlers.h"

void cmd_handoff_open(struct request *rq)
{
	const struct cfg_dept *d = cfg_find_dept(rq->cfg, rq_arg(rq, "dept"));
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "complaint"));
	rq_param(rq, rq_arg(rq, "dept"));
	rq_param(rq, rq_arg(rq, "request"));
	if (d != NULL)
		rq_param_int(rq, d->handoff_within);
	else
		rq_param(rq, NULL);
	rq_run(rq, "SELECT * FROM cd_handoff_open($1, $2, $3, $4, $5, $6)");
}

static void handoff_move(struct request *rq, const char *verb)
{
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "id"));
	rq_param(rq, verb);
	rq_param(rq, rq_arg(rq, "result"));
	rq_run(rq, "SELECT * FROM cd_handoff_move($1, $2, $3, $4, $5)");
}

void cmd_handoff_ack(struct request *rq)
{
	handoff_move(rq, "ack");
}

void cmd_handoff_done(struct request *rq)
{
	handoff_move(rq, "done");
}

void cmd_handoff_list(struct request *rq)
{
	const char *dept = rq_arg(rq, "dept");
	const char *limit = rq_arg(rq, "limit");
	rq_param_caller(rq);
	rq_param(rq, dept);
	rq_param(rq, rq_arg(rq, "state"));
	rq_param(rq, rq_arg(rq, "complaint"));
	rq_param(rq, limit);
	rq_param(rq, dept != NULL && cfg_find_dept(rq->cfg, dept) == NULL
			     ? "true" : "false");
	rq_run(rq, "SELECT * FROM cd_handoff_list($1, $2, $3, $4, $5, $6, $7)");
}

