/* cmd_routing.c: NEXT, ASSIGN, WATCH, UNWATCH. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "db.h"
#include "events.h"
#include "fsm.h"
#include "handlers.h"
#include "server.h"


void cmd_next(struct request *rq)
{
	const struct cfg_tier *tier = cfg_find_tier(rq->cfg, rq->s->tier);
	char from[128];
	fsm_from_array(MV_TAKE, from, sizeof from);
	rq_param_caller(rq);
	rq_param(rq, rq->s->skills);
	rq_param_int(rq, tier != NULL ? tier->capacity : CFG_TIER_CAPACITY);
	rq_param_int(rq, rq->cfg->next_aging);
	rq_param(rq, from);
	rq_run(rq, "SELECT * FROM cd_next($1, $2, $3, $4, $5, $6)");
}

void cmd_assign(struct request *rq)
{
	char from[128];
	fsm_from_array(MV_ASSIGN, from, sizeof from);
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "complaint"));
	rq_param(rq, rq_arg(rq, "agent"));
	rq_param(rq, from);
	rq_run(rq, "SELECT * FROM cd_assign($1, $2, $3, $4, $5)");
}

static void watch_started(struct request *rq, PGresult *res)
{
	(void)res;
	events_watch(rq->srv->events, rq->s, rq_arg(rq, "queues"));
}

void cmd_watch(struct request *rq)
{
	const char *only = rq_arg(rq, "queues");
	/* The database check comes before the objects named (PROTOCOL §2). */
	if (!db_pool_up(rq->srv->db)) {
		rq_fail(rq, CD_DB_UNAVAILABLE, "database unavailable");
		return;
	}
	if (only != NULL && only[0] != '\0') {
		char list[512], *save = NULL;
		snprintf(list, sizeof list, "%s", only);
		for (char *q = strtok_r(list, ",", &save); q != NULL;
		     q = strtok_r(NULL, ",", &save)) {
			if (cfg_find_queue(rq->cfg, q) == NULL) {
				rq_fail(rq, CD_NOT_FOUND, "no such queue");
				return;
			}
		}
	}
	struct sbuf queues = { 0 }, skills = { 0 };
	catalog_queue_arrays(rq->cfg, only, &queues, &skills);
	rq_param_caller(rq);
	rq_param(rq, queues.data);
	rq_param(rq, skills.data);
	sbuf_free(&queues);
	sbuf_free(&skills);
	char share[16];
	snprintf(share, sizeof share, "%.2f", rq->cfg->sla_at_risk_percent / 100.0);
	rq_param(rq, share);
	rq->on_ok = watch_started;
	rq_run(rq, "SELECT * FROM cd_watch_snapshot($1, $2, $3, $4, $5)");
}

void cmd_unwatch(struct request *rq)
{
	events_unwatch(rq->srv->events, rq->s);
	rq_line(rq, "OK");
	rq_end_line(rq);
	rq_finish(rq);
}
