/* sla.h: the service-level sweep: a timer on the event loop that asks
 * PostgreSQL to mark complaints at risk and breached, resume waiting
 * complaints whose 'until' passed, flag late justifications and overdue
 * hand-offs, escalate missed resolve deadlines, and move overdue
 * escalations up their chain. Safe on several nodes at once. */
#ifndef CALLDESK_SLA_H
#define CALLDESK_SLA_H

struct server;
struct sla;

struct sla *sla_new(struct server *srv);
void sla_free(struct sla **sla);

#endif
