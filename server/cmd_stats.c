/* cmd_stats.c: STATS (PROTOCOL §11), the performance figures of an agent,
 * a team, a queue or a department over a period. The figures are computed
 * by cd_stats() in PostgreSQL from the reporting views of
 * schema/005_stats.sql; docs/FIGURES.md defines them. */
#include <stdint.h>
#include <string.h>

#include "commands.h"
#include "handlers.h"
#include "values.h"

void cmd_stats(struct request *rq)
{
	const char *agent = rq_arg(rq, "agent");
	const char *team = rq_arg(rq, "team");
	const char *queue = rq_arg(rq, "queue");
	const char *dept = rq_arg(rq, "dept");
	const char *from = rq_arg(rq, "from");
	const char *to = rq_arg(rq, "to");
	const char *missing = NULL;
	int64_t t_from, t_to;

	/* One selection at a time: what a combination would mean is not
	 * defined, and refusing it now leaves room to define it later. */
	if ((agent != NULL) + (team != NULL) + (queue != NULL) + (dept != NULL) > 1) {
		rq_fail(rq, CD_BAD_ARG, "give at most one of agent, team, queue, dept");
		return;
	}
	/* Both bounds given: an empty or inverted period is a mistake the
	 * request alone shows. A missing bound defaults to the current day
	 * of the configured time zone, which PostgreSQL computes. */
	if (from != NULL && to != NULL && val_time_parse(from, &t_from) &&
	    val_time_parse(to, &t_to) && t_from >= t_to) {
		rq_fail(rq, CD_BAD_ARG, "from must be earlier than to");
		return;
	}
	/* Names the rules do not declare are answered NO not-found by the
	 * database, after its availability check (PROTOCOL §2). */
	if (queue != NULL && cfg_find_queue(rq->cfg, queue) == NULL)
		missing = "no such queue";
	else if (dept != NULL && cfg_find_dept(rq->cfg, dept) == NULL)
		missing = "no such department";

	rq_param_caller(rq);
	rq_param(rq, agent);
	rq_param(rq, team);
	rq_param(rq, queue);
	rq_param(rq, dept);
	rq_param(rq, from);
	rq_param(rq, to);
	rq_param(rq, missing);
	rq_param(rq, rq->cfg->timezone);
	rq_run(rq, "SELECT * FROM cd_stats($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
}
