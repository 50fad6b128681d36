/* events.h: live events (PROTOCOL §10): LISTEN/NOTIFY from PostgreSQL to
 * watchers and to the users the events concern, on every node. */
#ifndef CALLDESK_EVENTS_H
#define CALLDESK_EVENTS_H

struct server;
struct session;
struct events;

/* Starts listening (its own connection, reconnected as needed). */
struct events *events_new(struct server *srv);
/* Accepts NULL; clears *ev. */
void events_free(struct events **ev);

/* Makes s a watcher of queues (comma-separated; "" or NULL: all). */
void events_watch(struct events *ev, struct session *s, const char *queues);
void events_unwatch(struct events *ev, struct session *s);

/* Counters for metrics. */
void events_stats(const struct events *ev, unsigned long *pushed,
		  unsigned long *dropped);

#endif
