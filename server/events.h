/* events.h: live events (PROTOCOL §10): LISTEN/NOTIFY from PostgreSQL to
 * watchers and to the users the events concern, on every node. */
#ifndef CALLDESK_EVENTS_H
#define CALLDESK_EVENTS_H

#include <stdbool.h>

struct server;
struct session;
struct events;
struct user_change;

/* Starts listening (its own connection, reconnected as needed). */
struct events *events_new(struct server *srv);
/* Accepts NULL; clears *ev. */
void events_free(struct events **ev);

/* Makes s a watcher of queues (comma-separated; "" or NULL: all). */
void events_watch(struct events *ev, struct session *s, const char *queues);
void events_unwatch(struct events *ev, struct session *s);

/* Tells the other nodes (a NOTIFY they act on, never shown to clients):
 * that this node reread its files (they reread theirs), that an account
 * changed (their sessions of it follow), that a login failed or succeeded
 * (their failure counts follow, so that the limit holds for the whole
 * desk, not per node). Fire and forget: a failure is logged. */
void events_tell_reload(struct server *srv);
void events_tell_user(struct server *srv, const struct user_change *ch);
void events_tell_login(struct server *srv, const char *user, const char *addr,
		       bool ok);

/* Counters for metrics. */
void events_stats(const struct events *ev, unsigned long *pushed,
		  unsigned long *dropped);

#endif
