/* offer.c: rounds of cd_offer, coalesced: pokes while a round is in flight
 * ask for one more round after it, never for several. */
#include "offer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "db.h"
#include "fsm.h"
#include "log.h"
#include "proto.h"
#include "server.h"

/* The most complaints one round offers (the round holds the rows of the
 * agents it took meanwhile); a full round asks for another. */
#define OFFER_BATCH 20

struct offer {
	struct server *srv;
	struct event *kick;  /* a round on the next loop turn */
	bool busy;           /* a round is in flight */
	bool again;          /* poked meanwhile: one more round after it */
	unsigned long offered;
};

static void round_done(void *arg, const struct db_result *r)
{
	struct offer *o = arg;
	int n = 0;
	o->busy = false;
	if (r->status != DB_OK) {
		log_debug("offer: a round failed: %s", r->message);
	} else {
		n = (int)strtol(PQgetvalue(r->res, 0, 0), NULL, 10);
		o->offered += (unsigned long)n;
		if (n > 0)
			log_debug("offer: %d complaints offered", n);
	}
	if (o->again || n >= OFFER_BATCH) {
		o->again = false;
		offer_poke(o);
	}
}

/* The tiers' capacities as two arrays for cd_offer: "{1,2}" "{5,8}". */
static void tier_arrays(const struct config *cfg, struct sbuf *tiers,
			struct sbuf *caps)
{
	sbuf_adds(tiers, "{");
	sbuf_adds(caps, "{");
	for (size_t i = 0; i < cfg->catalog.ntiers; i++) {
		char t[32], c[32];
		snprintf(t, sizeof t, "%s%d", i > 0 ? "," : "",
			 cfg->catalog.tiers[i].tier);
		snprintf(c, sizeof c, "%s%d", i > 0 ? "," : "",
			 cfg->catalog.tiers[i].capacity);
		sbuf_adds(tiers, t);
		sbuf_adds(caps, c);
	}
	sbuf_adds(tiers, "}");
	sbuf_adds(caps, "}");
}

static void round_cb(evutil_socket_t fd, short what, void *arg)
{
	struct offer *o = arg;
	const struct config *cfg = o->srv->cfg;
	struct sbuf tiers = { 0 }, caps = { 0 };
	char aging[16], from[128], def[16], max[16];
	(void)fd;
	(void)what;
	if (!cfg->offer_work || o->busy || o->srv->stopping ||
	    !db_pool_up(o->srv->db))
		return;
	tier_arrays(cfg, &tiers, &caps);
	if (sbuf_failed(&tiers) || sbuf_failed(&caps)) {
		log_warn("offer: out of memory");
	} else {
		snprintf(aging, sizeof aging, "%d", cfg->next_aging);
		fsm_from_array(MV_TAKE, from, sizeof from);
		snprintf(def, sizeof def, "%d", CFG_TIER_CAPACITY);
		snprintf(max, sizeof max, "%d", OFFER_BATCH);
		const char *params[6] = { aging, from, tiers.data, caps.data,
					  def, max };
		o->busy = true;
		db_exec(o->srv->db,
			"SELECT cd_offer($1, $2, $3, $4, $5, $6)", 6, params,
			round_done, o);
	}
	sbuf_free(&tiers);
	sbuf_free(&caps);
}

struct offer *offer_new(struct server *srv)
{
	struct offer *o = calloc(1, sizeof *o);
	if (o == NULL)
		return NULL;
	o->srv = srv;
	o->kick = event_new(srv->base, -1, 0, round_cb, o);
	if (o->kick == NULL) {
		free(o);
		return NULL;
	}
	return o;
}

void offer_free(struct offer **op)
{
	struct offer *o = op != NULL ? *op : NULL;
	if (o == NULL)
		return;
	event_free(o->kick);
	free(o);
	*op = NULL;
}

void offer_poke(struct offer *o)
{
	if (o == NULL || !o->srv->cfg->offer_work)
		return;
	if (o->busy)
		o->again = true;
	else
		event_active(o->kick, 0, 0);
}

unsigned long offer_count(const struct offer *o)
{
	return o != NULL ? o->offered : 0;
}
