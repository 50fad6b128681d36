/* sla.c: the service-level sweep, one timer per node. Each turn runs
 * cd_sla_sweep (marks, pushes and the automatic escalation of a missed
 * resolve deadline, to the first level of the default chain), then moves
 * overdue escalations up their chain, the next level taken from the rules
 * in memory. One turn at a time; a turn that finds work runs again soon. */
#include "sla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "db.h"
#include "log.h"
#include "offer.h"
#include "rules.h"
#include "server.h"

#define SWEEP_BATCH 200


struct sla {
	struct server *srv;
	struct event *timer;
	bool busy;
	unsigned long marks;
};

static void sla_schedule(struct sla *sla, int seconds)
{
	struct timeval tv = { seconds, 0 };
	evtimer_add(sla->timer, &tv);
}

static void raise_done(void *arg, const struct db_result *r)
{
	(void)arg;
	if (r->status != DB_OK)
		log_warn("sla: moving an escalation up failed: %s", r->message);
}

/* For each overdue escalation: the next level of its chain, or the top. */
static void overdue_read(void *arg, const struct db_result *r)
{
	struct sla *sla = arg;
	const struct config *cfg = sla->srv->cfg;
	sla->busy = false;
	if (r->status != DB_OK) {
		log_debug("sla: reading overdue escalations failed: %s", r->message);
		return;
	}
	for (int i = 0; i < PQntuples(r->res); i++) {
		const char *id = PQgetvalue(r->res, i, 0);
		const char *action = PQgetvalue(r->res, i, 1);
		int64_t amount = strtoll(PQgetvalue(r->res, i, 2), NULL, 10);
		const char *level = PQgetvalue(r->res, i, 3);
		char approver[RULES_APPROVER_MAX], within[16];
		int due_s = 0;
		bool next = rules_chain_level(cfg, action[0] ? action : NULL, amount,
					      atoi(level) + 1, approver,
					      sizeof approver, &due_s);
		snprintf(within, sizeof within, "%d", due_s);
		const char *params[4] = { id, level, next ? approver : NULL,
					  within };
		db_exec(sla->srv->db,
			"SELECT cd_escalation_autoraise($1, $2, $3, $4)", 4,
			params, raise_done, NULL);
	}
}

static void side_sweep_done(void *arg, const struct db_result *r)
{
	(void)arg;
	if (r->status != DB_OK)
		log_debug("sla: wrap-up or follow-up sweep failed: %s", r->message);
}

static void swept(void *arg, const struct db_result *r)
{
	struct sla *sla = arg;
	if (r->status != DB_OK) {
		sla->busy = false;
		log_debug("sla: sweep failed: %s", r->message);
		return;
	}
	int n = atoi(PQgetvalue(r->res, 0, 0));
	sla->marks += (unsigned long)n;
	if (n > 0)
		log_debug("sla: %d marks", n);
	db_exec(sla->srv->db,
		"SELECT id, coalesce(action, ''), coalesce(amount, -1), level "
		"FROM escalations WHERE state = 'pending' AND due <= now() "
		"AND top_overdue_at IS NULL ORDER BY id LIMIT 200",
		0, NULL, overdue_read, sla);
}

static void sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sla *sla = arg;
	const struct config *cfg = sla->srv->cfg;
	(void)fd;
	(void)what;
	sla_schedule(sla, cfg->sla_sweep_interval);
	if (sla->busy || sla->srv->stopping || !db_pool_up(sla->srv->db))
		return;
	char approver[RULES_APPROVER_MAX] = "role:supervisor";
	int due_s = 3600;
	if (!rules_chain_level(cfg, NULL, -1, 1, approver, sizeof approver, &due_s))
		snprintf(approver, sizeof approver, "role:supervisor");
	char share[16], within[16], batch[16];
	snprintf(share, sizeof share, "%.2f", cfg->sla_at_risk_percent / 100.0);
	snprintf(within, sizeof within, "%d", due_s);
	snprintf(batch, sizeof batch, "%d", SWEEP_BATCH);
	const char *params[4] = { share, approver, within, batch };
	sla->busy = true;
	/* Work freed by anything that raised no event (a capacity change)
	 * is offered within a sweep. */
	offer_poke(sla->srv->offer);
	db_exec(sla->srv->db, "SELECT cd_sla_sweep($1, $2, $3, $4)", 4, params,
		swept, sla);
	const char *batch_p[1] = { batch };
	db_exec(sla->srv->db, "SELECT cd_followup_sweep($1)", 1, batch_p,
		side_sweep_done, NULL);
	if (cfg->wrap_up > 0) {
		char wrap[16];
		snprintf(wrap, sizeof wrap, "%d", cfg->wrap_up);
		const char *wp[1] = { wrap };
		db_exec(sla->srv->db, "SELECT cd_wrapup_sweep($1)", 1, wp,
			side_sweep_done, NULL);
	}
}

struct sla *sla_new(struct server *srv)
{
	struct sla *sla = calloc(1, sizeof *sla);
	if (sla == NULL)
		return NULL;
	sla->srv = srv;
	sla->timer = evtimer_new(srv->base, sweep_cb, sla);
	if (sla->timer == NULL) {
		free(sla);
		return NULL;
	}
	sla_schedule(sla, 1);
	return sla;
}

void sla_free(struct sla **slap)
{
	struct sla *sla = slap != NULL ? *slap : NULL;
	if (sla == NULL)
		return;
	event_free(sla->timer);
	free(sla);
	*slap = NULL;
}
