/* db.h: asynchronous PostgreSQL for the event loop.
 *
 * A small pool of libpq connections driven by libevent: non-blocking
 * connect, PQsendQueryParams, PQflush handled for read-or-write, results
 * read to NULL, reconnection with backoff, a timeout on every wait. No call
 * here blocks the loop.
 *
 * Every callback runs exactly once, never from inside the call that
 * started the work, and with a result that is valid only during the
 * callback (the pool clears it afterwards). */
#ifndef CALLDESK_DB_H
#define CALLDESK_DB_H

#include <stdbool.h>
#include <libpq-fe.h>

struct event_base;
struct db_pool;
struct db_conn;

enum db_status {
	DB_OK,          /* the statement completed; res holds its result */
	DB_SQL_ERROR,   /* PostgreSQL refused it; in autocommit nothing changed */
	DB_UNAVAILABLE, /* never sent: no connection came up in time */
	DB_LOST,        /* sent, then the connection broke or timed out: the
			   outcome is unknown */
};

struct db_result {
	enum db_status status;
	PGresult *res;          /* DB_OK, DB_SQL_ERROR; NULL otherwise */
	const char *sqlstate;   /* DB_SQL_ERROR: five characters, else "" */
	const char *message;    /* a one-line description for the log */
};

typedef void db_result_fn(void *arg, const struct db_result *r);
/* conn is NULL when no connection came up in time. */
typedef void db_acquire_fn(void *arg, struct db_conn *conn);
/* Receives LISTEN notifications: channel and payload. */
typedef void db_notify_fn(void *arg, const char *channel, const char *payload);

struct db_options {
	const char *conninfo;
	int pool_size;
	int connect_timeout;    /* seconds: how long a request waits for a
				   connection before DB_UNAVAILABLE */
	int query_timeout;      /* seconds: statement_timeout, and the limit
				   after which a silent connection is dropped */
	int minor_digits;       /* currency minor units, for SQL formatting */
	const char *on_connect; /* optional: run on every new connection
				   before it serves anything ("LISTEN x") */
	db_notify_fn *notify;   /* optional: receives notifications */
	void *notify_arg;
};

/* Creates the pool and starts connecting. Returns NULL on allocation
 * failure only; connection problems are retried in the background. */
struct db_pool *db_pool_new(struct event_base *base,
			    const struct db_options *opt)
	__attribute__((warn_unused_result));

/* Closes every connection; pending callbacks are NOT called. Accepts
 * NULL; clears *pool. */
void db_pool_free(struct db_pool **pool);

/* True when at least one connection is established. */
bool db_pool_up(const struct db_pool *pool);

/* Counters for metrics and logs. */
struct db_stats {
	int size, connected, busy, waiting;
	unsigned long errors, reconnects;
};
void db_pool_stats(const struct db_pool *pool, struct db_stats *out);

/* Runs one statement in autocommit on any free connection. params are
 * copied; NULL entries are SQL NULL. */
void db_exec(struct db_pool *pool, const char *sql, int nparams,
	     const char *const *params, db_result_fn *cb, void *arg);

/* Reserves one connection for a transaction. The owner runs db_query()
 * calls on it, one at a time, and gives it back with db_release(). */
void db_acquire(struct db_pool *pool, db_acquire_fn *cb, void *arg);
void db_query(struct db_conn *conn, const char *sql, int nparams,
	      const char *const *params, db_result_fn *cb, void *arg);
/* Gives the connection back. If a transaction is still open on it, it is
 * rolled back first. Clears *conn. */
void db_release(struct db_conn **conn);

#endif
