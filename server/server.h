/* server.h: the one server context. Everything mutable that outlives a
 * request hangs from struct server: the loop, the configuration in force,
 * the TLS context, listeners, the database pool, the hashing workers, the
 * login throttle and the sessions. It is passed down, never global. */
#ifndef CALLDESK_SERVER_H
#define CALLDESK_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <openssl/ssl.h>

#include "config.h"

struct event_base;
struct event;
struct evconnlistener;
struct db_pool;
struct hasher;
struct throttle;
struct events;
struct sla;
struct offer;
struct metrics;
struct session;

TAILQ_HEAD(session_list, session);

struct server {
	struct event_base *base;
	struct config *cfg;              /* in force; replaced on reload */
	struct config **retired;         /* earlier configurations, kept
					    until exit: requests in flight may
					    still point into them */
	size_t nretired;
	SSL_CTX *ssl_ctx;
	struct evconnlistener *listeners[CFG_MAX_LISTEN];
	size_t nlisteners;
	struct db_pool *db;
	struct hasher *hasher;
	struct throttle *throttle;
	struct events *events;
	struct sla *sla;
	struct offer *offer;             /* offer_work (offer.h) */
	struct metrics *metrics;         /* /metrics and /health (metrics.h);
					    disabled without metrics = */
	struct session_list sessions;
	int nsessions;
	uint64_t next_session_id;
	struct event *sig_term, *sig_int, *sig_hup;
	struct event *grace_timer;
	struct event *accept_pause;      /* re-enables accept after EMFILE */
	bool stopping;
	char node[64];                   /* this node's name in presence */
	const char *version;
};

/* Rereads the configuration file and the rules. On success the new one is
 * in force for the next request and 0 is returned; otherwise nothing
 * changes and the first error is copied into err (FILE:LINE: message). */
int server_reload(struct server *srv, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Starts the orderly stop of OPERATIONS.md (SIGTERM). */
void server_stop(struct server *srv);

/* Called by sessions when one is freed, to finish a stop. */
void server_session_gone(struct server *srv);

#endif
