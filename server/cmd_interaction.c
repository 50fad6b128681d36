/* cmd_interaction.c: INTERACTION START, NOTE, END, GET. */
#include "commands.h"
#include "handlers.h"
#include "server.h"

void cmd_interaction_start(struct request *rq)
{
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "customer"));
	rq_param(rq, rq_arg(rq, "channel"));
	rq_param(rq, rq_arg(rq, "direction"));
	rq_param(rq, rq_arg(rq, "complaint"));
	rq_run(rq, "SELECT * FROM cd_interaction_start($1, $2, $3, $4, $5, $6)");
}

void cmd_interaction_note(struct request *rq)
{
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "id"));
	rq_param(rq, rq_arg(rq, "text"));
	rq_run(rq, "SELECT * FROM cd_interaction_note($1, $2, $3, $4)");
}

void cmd_interaction_end(struct request *rq)
{
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "id"));
	rq_param(rq, rq_arg(rq, "outcome"));
	rq_param_int(rq, rq->cfg->wrap_up);
	rq_run(rq, "SELECT * FROM cd_interaction_end($1, $2, $3, $4, $5)");
}

void cmd_interaction_get(struct request *rq)
{
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "id"));
	rq_run(rq, "SELECT * FROM cd_interaction_get($1, $2, $3)");
}
