/* cmd_interaction.c: INTERACTION END, which passes the configured wrap-up
 * time (START, NOTE and GET are single SQL functions run by cmd_sql). */
#include "commands.h"
#include "handlers.h"
#include "server.h"

void cmd_interaction_end(struct request *rq)
{
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "id"));
	rq_param(rq, rq_arg(rq, "outcome"));
	rq_param_int(rq, rq->cfg->wrap_up);
	rq_run(rq, "SELECT * FROM cd_interaction_end($1, $2, $3, $4, $5)");
}

