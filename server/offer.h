/* offer.h: the server offering work (offer_work = yes): waiting complaints
 * go to ready agents without their asking, the agent idle longest first,
 * in NEXT's order, within skills and capacity (cd_offer in
 * schema/013_offer.sql). A round runs when a complaint or an agent's state
 * changes anywhere on the desk (events.c pokes) and on every service-level
 * sweep; one round at a time per node, several nodes never offer one
 * complaint twice. The agent learns of it by the complaint event that any
 * assignment by someone else sends. */
#ifndef CALLDESK_OFFER_H
#define CALLDESK_OFFER_H

struct server;
struct offer;

struct offer *offer_new(struct server *srv);
/* Accepts NULL; clears *o. */
void offer_free(struct offer **o);

/* Asks for a round on the next turn of the loop (coalesced; nothing when
 * offer_work is off). Accepts NULL. */
void offer_poke(struct offer *o);

/* Complaints this node has offered since it started (metrics). */
unsigned long offer_count(const struct offer *o);

#endif
