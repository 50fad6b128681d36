/* events.h: live events (PROTOCOL §10): LISTEN/NOTIFY from PostgreSQL to
 * watchers and to the users the events concern, on every node. */
#ifndef CALLDESK_EVENTS_H
#define CALLDESK_EVENTS_H

#include <stdbool.h>

#include "db.h"

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

/* Tells the other nodes (a NOTIFY they act on, never shown to clients)
 * that this node reread its files (they reread theirs), or that a login
 * failed or succeeded (their failure counts follow, so that the limit
 * holds for the whole desk, not per node). A failure to tell is logged.
 * events_tell_login calls cb(arg, result) once the notification is
 * committed or could not be (cb NULL: a failure is logged): a client told
 * of its failed login only then cannot race the count on another node.
 * (Account changes are told by cd_user_set, in its own transaction.) */
void events_tell_reload(struct server *srv);
void events_tell_login(struct server *srv, const char *user, const char *addr,
		       bool ok, db_result_fn *cb, void *arg);

/* Counters for metrics. */
void events_stats(const struct events *ev, unsigned long *pushed,
		  unsigned long *dropped);

#endif
