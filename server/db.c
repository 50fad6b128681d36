/* db.c: the libpq connection pool, driven by the event loop.
 *
 * Each connection has one persistent socket event whose interest (read,
 * write or both) follows what libpq needs next. Work waits in one FIFO:
 * single statements (db_exec) and reservations (db_acquire). Callbacks are
 * always delivered from the loop, never from inside the call that queued
 * the work, so callers need not guard against re-entrancy. */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "log.h"

#define DB_MAX_PARAMS 32
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 5000

enum conn_state {
	CONN_DOWN,        /* waiting for the reconnect timer */
	CONN_CONNECTING,
	CONN_IDLE,
	CONN_RESERVED,    /* handed to a db_acquire caller, no query running */
	CONN_QUERY,       /* a statement is in flight */
};

enum job_kind { JOB_EXEC, JOB_ACQUIRE };

struct job {
	TAILQ_ENTRY(job) link;
	enum job_kind kind;
	struct db_pool *pool;
	db_result_fn *result_cb;
	db_acquire_fn *acquire_cb;
	void *arg;
	char *sql;
	int nparams;
	char *params[DB_MAX_PARAMS];
	struct event *timer;     /* deadline while queued, or deferred failure */
	bool queued;
	bool deferred;           /* waiting for its failure to be reported */
};

struct db_conn {
	struct db_pool *pool;
	PGconn *pg;
	enum conn_state state;
	bool reserved;           /* owned by a db_acquire caller */
	bool broken;             /* lost while reserved: the owner's
				    transaction is gone */
	bool flushing;           /* PQflush returned 1: wait for write too */
	int fd;
	struct event *ev;        /* socket events */
	struct event *timer;     /* connect/query timeout, reconnect backoff */
	int backoff_ms;
	/* the statement in flight */
	db_result_fn *cb;
	void *cb_arg;
	struct job *exec_job;    /* a db_exec job, released when done */
	PGresult *result;
	bool got_error;
};

TAILQ_HEAD(job_queue, job);

struct db_pool {
	struct event_base *base;
	char *conninfo;
	char options[160];
	int size;
	char *on_connect;
	db_notify_fn *notify;
	void *notify_arg;
	int connect_timeout;
	int query_timeout;
	struct db_conn *conns;
	struct job_queue queue;
	struct job_queue deferred;   /* jobs about to be failed from the loop */
	struct event *dispatch_ev;   /* runs queued work on the next turn */
	int waiting;
	unsigned long errors, reconnects;
};

static void conn_connect(struct db_conn *c);
static void conn_lost(struct db_conn *c, const char *why);
static void conn_send(struct db_conn *c, const char *sql, int nparams,
		      const char *const *params, db_result_fn *cb, void *arg,
		      struct job *exec_job);
static void pool_dispatch(struct db_pool *pool);
static void conn_socket_cb(evutil_socket_t fd, short what, void *arg);

/* ---- jobs ------------------------------------------------------------ */

static void job_free(struct job *j)
{
	if (j == NULL)
		return;
	free(j->sql);
	for (int i = 0; i < j->nparams; i++)
		free(j->params[i]);
	if (j->timer != NULL)
		event_free(j->timer);
	free(j);
}

static void job_unqueue(struct job *j)
{
	if (j->queued) {
		TAILQ_REMOVE(&j->pool->queue, j, link);
		j->pool->waiting--;
		j->queued = false;
	}
	if (j->deferred) {
		TAILQ_REMOVE(&j->pool->deferred, j, link);
		j->deferred = false;
	}
}

/* Fails the job from the loop's next turn; until then the pool owns it
 * (and frees it if it is freed first). */
static void job_defer_failure(struct job *j)
{
	struct timeval tv = { 0, 0 };
	TAILQ_INSERT_TAIL(&j->pool->deferred, j, link);
	j->deferred = true;
	evtimer_add(j->timer, &tv);
}

/* Fails a job that never reached a connection. */
static void job_fail(struct job *j)
{
	job_unqueue(j);
	if (j->kind == JOB_EXEC) {
		struct db_result r = { DB_UNAVAILABLE, NULL, "",
				       "database unavailable" };
		j->result_cb(j->arg, &r);
	} else {
		j->acquire_cb(j->arg, NULL);
	}
	job_free(j);
}

static void job_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	job_fail(arg);
}

static struct job *job_new(struct db_pool *pool, enum job_kind kind,
			   void *arg)
{
	struct job *j = calloc(1, sizeof *j);
	if (j == NULL)
		return NULL;
	j->pool = pool;
	j->kind = kind;
	j->arg = arg;
	j->timer = evtimer_new(pool->base, job_timer_cb, j);
	if (j->timer == NULL) {
		free(j);
		return NULL;
	}
	return j;
}

static bool job_copy_query(struct job *j, const char *sql, int nparams,
			   const char *const *params)
{
	if (nparams > DB_MAX_PARAMS)
		return false;
	j->sql = strdup(sql);
	if (j->sql == NULL)
		return false;
	j->nparams = nparams;
	for (int i = 0; i < nparams; i++) {
		if (params[i] != NULL) {
			j->params[i] = strdup(params[i]);
			if (j->params[i] == NULL)
				return false;
		}
	}
	return true;
}

static bool pool_has_live_conn(const struct db_pool *pool)
{
	for (int i = 0; i < pool->size; i++) {
		enum conn_state s = pool->conns[i].state;
		if (s == CONN_IDLE || s == CONN_RESERVED || s == CONN_QUERY)
			return true;
	}
	return false;
}

/* True while the pool makes its first connections after start-up. */
static bool pool_starting(const struct db_pool *pool)
{
	for (int i = 0; i < pool->size; i++)
		if (pool->conns[i].state == CONN_CONNECTING &&
		    pool->conns[i].backoff_ms == 0)
			return true;
	return false;
}

/* Queues a job, or fails it at the next loop turn when no connection is up
 * (requests must not hang while PostgreSQL is down). */
static void job_submit(struct job *j)
{
	struct db_pool *pool = j->pool;
	struct timeval tv = { 0, 0 };
	if (!pool_has_live_conn(pool) && !pool_starting(pool)) {
		job_defer_failure(j);
		return;
	}
	TAILQ_INSERT_TAIL(&pool->queue, j, link);
	j->queued = true;
	pool->waiting++;
	tv.tv_sec = pool->connect_timeout;
	evtimer_add(j->timer, &tv);
	/* Never call back from inside the call that queued the work. */
	event_active(pool->dispatch_ev, EV_TIMEOUT, 0);
}

/* ---- connections ----------------------------------------------------- */

static void conn_watch(struct db_conn *c, short what)
{
	int fd = PQsocket(c->pg);
	if (c->ev != NULL && (fd != c->fd || event_get_events(c->ev) !=
			      (what | EV_PERSIST))) {
		event_free(c->ev);
		c->ev = NULL;
	}
	if (c->ev == NULL && fd >= 0) {
		c->fd = fd;
		c->ev = event_new(c->pool->base, fd, what | EV_PERSIST,
				  conn_socket_cb, c);
		if (c->ev == NULL) {
			log_error("db: cannot allocate a socket event");
			return;
		}
		event_add(c->ev, NULL);
	}
}

static void conn_drop_events(struct db_conn *c)
{
	if (c->ev != NULL) {
		event_free(c->ev);
		c->ev = NULL;
	}
	c->fd = -1;
	evtimer_del(c->timer);
}

static void notice_cb(void *arg, const char *message)
{
	(void)arg;
	size_t n = strlen(message);
	while (n > 0 && message[n - 1] == '\n')
		n--;
	log_info("db notice: %.*s", (int)n, message);
}

static void on_connect_done(void *arg, const struct db_result *r)
{
	struct db_conn *c = arg;
	/* conn_finish_query makes the connection idle and dispatches. */
	if (r->status == DB_SQL_ERROR)
		log_error("db: connection %d: set-up statement failed: %s",
			  (int)(c - c->pool->conns), r->message);
}

static void conn_ready(struct db_conn *c)
{
	if (PQsetnonblocking(c->pg, 1) != 0) {
		conn_lost(c, "cannot set non-blocking mode");
		return;
	}
	PQsetNoticeProcessor(c->pg, notice_cb, NULL);
	if (c->backoff_ms > BACKOFF_MIN_MS)
		log_info("db: connection %d up again",
			 (int)(c - c->pool->conns));
	c->backoff_ms = BACKOFF_MIN_MS;
	c->state = c->reserved ? CONN_RESERVED : CONN_IDLE;
	evtimer_del(c->timer);
	conn_watch(c, EV_READ);
	if (c->pool->on_connect != NULL) {
		conn_send(c, c->pool->on_connect, 0, NULL, on_connect_done, c,
			  NULL);
		return;
	}
	if (c->state == CONN_IDLE)
		pool_dispatch(c->pool);
}

static void conn_poll(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		conn_watch(c, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		conn_watch(c, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		conn_ready(c);
		break;
	default:
		conn_lost(c, PQerrorMessage(c->pg));
		break;
	}
}

/* Delivers the statement's outcome to its owner. */
static void conn_finish_query(struct db_conn *c, enum db_status status,
			      const char *message)
{
	db_result_fn *cb = c->cb;
	void *arg = c->cb_arg;
	struct job *j = c->exec_job;
	PGresult *res = c->result;
	struct db_result r = { status, NULL, "", message };

	c->cb = NULL;
	c->cb_arg = NULL;
	c->exec_job = NULL;
	c->result = NULL;
	c->flushing = false;
	if (status == DB_OK || status == DB_SQL_ERROR) {
		evtimer_del(c->timer);
		r.res = res;
		if (status == DB_SQL_ERROR && res != NULL) {
			const char *st = PQresultErrorField(res,
							    PG_DIAG_SQLSTATE);
			const char *msg = PQresultErrorField(
				res, PG_DIAG_MESSAGE_PRIMARY);
			r.sqlstate = st != NULL ? st : "";
			r.message = msg != NULL ? msg : "error";
			c->pool->errors++;
		}
		/* The connection is usable again before the callback runs,
		 * so that the callback may queue the next statement. */
		c->state = c->reserved ? CONN_RESERVED : CONN_IDLE;
		conn_watch(c, EV_READ);
	}
	if (cb != NULL)
		cb(arg, &r);
	PQclear(res);
	job_free(j);
	if (c->state == CONN_IDLE)
		pool_dispatch(c->pool);
}

/* Reads what has arrived; completes the statement once libpq has handed
 * over every result (PQgetResult returned NULL). */
static void conn_read_results(struct db_conn *c)
{
	if (!PQconsumeInput(c->pg)) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	while (!PQisBusy(c->pg)) {
		PGresult *res = PQgetResult(c->pg);
		if (res == NULL) {
			if (c->got_error)
				conn_finish_query(c, DB_SQL_ERROR, "error");
			else
				conn_finish_query(c, DB_OK, "ok");
			return;
		}
		ExecStatusType st = PQresultStatus(res);
		bool is_error = st == PGRES_FATAL_ERROR ||
				st == PGRES_BAD_RESPONSE;
		/* Keep the first error, else the last result: an error that
		 * arrives after the rows (a failed commit) wins. */
		if (c->got_error) {
			PQclear(res);
		} else {
			PQclear(c->result);
			c->result = res;
			c->got_error = is_error;
		}
		if (PQstatus(c->pg) == CONNECTION_BAD) {
			conn_lost(c, PQerrorMessage(c->pg));
			return;
		}
	}
}

static void conn_flush(struct db_conn *c)
{
	int r = PQflush(c->pg);
	if (r < 0) {
		conn_lost(c, PQerrorMessage(c->pg));
	} else if (r == 1) {
		/* libpq may need to read before it can write more. */
		c->flushing = true;
		conn_watch(c, EV_READ | EV_WRITE);
	} else {
		c->flushing = false;
		conn_watch(c, EV_READ);
	}
}

static void conn_drain_notifies(struct db_conn *c)
{
	PGnotify *n;
	while (c->pg != NULL && (n = PQnotifies(c->pg)) != NULL) {
		if (c->pool->notify != NULL)
			c->pool->notify(c->pool->notify_arg, n->relname,
					n->extra);
		PQfreemem(n);
	}
}

static void conn_idle_read(struct db_conn *c)
{
	/* An idle connection that turns readable has either a notice, a
	 * notification, or has been closed by the server. */
	if (!PQconsumeInput(c->pg)) {
		conn_lost(c, PQerrorMessage(c->pg));
		return;
	}
	conn_drain_notifies(c);
}

static void conn_socket_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	(void)fd;
	switch (c->state) {
	case CONN_CONNECTING:
		conn_poll(c);
		break;
	case CONN_QUERY:
		if (c->flushing) {
			conn_flush(c);
			if (c->state != CONN_QUERY)
				return;
			/* PQflush may have read the answer itself. */
			if (!c->flushing)
				what |= EV_READ;
		}
		if (what & EV_READ) {
			conn_read_results(c);
			conn_drain_notifies(c);
		}
		break;
	case CONN_IDLE:
	case CONN_RESERVED:
		if (what & EV_READ)
			conn_idle_read(c);
		break;
	case CONN_DOWN:
		break;
	}
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	(void)fd;
	(void)what;
	switch (c->state) {
	case CONN_DOWN:
		conn_connect(c);
		break;
	case CONN_CONNECTING:
		conn_lost(c, "connect timed out");
		break;
	case CONN_QUERY:
		conn_lost(c, "query timed out");
		break;
	default:
		break;
	}
}

static void conn_schedule_reconnect(struct db_conn *c)
{
	struct timeval tv;
	if (c->backoff_ms == 0)
		c->backoff_ms = BACKOFF_MIN_MS;
	tv.tv_sec = c->backoff_ms / 1000;
	tv.tv_usec = (c->backoff_ms % 1000) * 1000;
	c->backoff_ms *= 2;
	if (c->backoff_ms > BACKOFF_MAX_MS)
		c->backoff_ms = BACKOFF_MAX_MS;
	c->state = CONN_DOWN;
	evtimer_add(c->timer, &tv);
}

static void conn_connect(struct db_conn *c)
{
	struct db_pool *pool = c->pool;
	const char *keys[] = { "dbname", "options", "application_name", NULL };
	const char *vals[] = { pool->conninfo, pool->options, "calldeskd", NULL };

	c->pg = PQconnectStartParams(keys, vals, 1);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		c->state = CONN_CONNECTING;
		conn_lost(c, c->pg != NULL ? PQerrorMessage(c->pg)
					   : "out of memory");
		return;
	}
	c->state = CONN_CONNECTING;
	c->fd = -1;
	struct timeval tv = { pool->connect_timeout, 0 };
	evtimer_add(c->timer, &tv);
	conn_poll(c);
}

/* Fails every queued job when no connection is left: while PostgreSQL is
 * down, requests get an answer at once rather than waiting. */
static void pool_fail_waiting(struct db_pool *pool)
{
	if (pool_has_live_conn(pool))
		return;
	struct job *j;
	while ((j = TAILQ_FIRST(&pool->queue)) != NULL)
		job_fail(j);
}

static void conn_lost(struct db_conn *c, const char *why)
{
	enum conn_state was = c->state;
	char msg[200];
	snprintf(msg, sizeof msg, "%s", why != NULL ? why : "");
	msg[strcspn(msg, "\n")] = '\0';

	conn_drop_events(c);
	if (c->pg != NULL) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	/* Log each outage once, not every failed retry. */
	if (was != CONN_CONNECTING || c->backoff_ms <= BACKOFF_MIN_MS)
		log_warn("db: connection %d: %s", (int)(c - c->pool->conns),
			 msg);
	c->pool->reconnects++;
	c->state = CONN_DOWN;
	/* A reserved connection stays with its owner, whose transaction is
	 * gone: its next query fails and it releases the connection. */
	if (c->reserved)
		c->broken = true;
	if (was == CONN_QUERY) {
		c->got_error = false;
		conn_finish_query(c, DB_LOST, "connection lost");
	}
	conn_schedule_reconnect(c);
	pool_fail_waiting(c->pool);
}

/* Sends a statement on a connection that is idle or reserved. */
static void conn_send(struct db_conn *c, const char *sql, int nparams,
		      const char *const *params, db_result_fn *cb, void *arg,
		      struct job *exec_job)
{
	c->cb = cb;
	c->cb_arg = arg;
	c->exec_job = exec_job;
	c->result = NULL;
	c->got_error = false;
	c->state = CONN_QUERY;
	if (!PQsendQueryParams(c->pg, sql, nparams, NULL, params, NULL, NULL,
			       0)) {
		/* Report the loss from the loop, not from inside the caller:
		 * the query timer fires at once and drops the connection. */
		log_warn("db: connection %d: cannot send: %s",
			 (int)(c - c->pool->conns), PQerrorMessage(c->pg));
		struct timeval now = { 0, 0 };
		evtimer_add(c->timer, &now);
		return;
	}
	struct timeval tv = { c->pool->query_timeout + 2, 0 };
	evtimer_add(c->timer, &tv);
	conn_flush(c);
}

static struct db_conn *pool_idle_conn(struct db_pool *pool)
{
	for (int i = 0; i < pool->size; i++)
		if (pool->conns[i].state == CONN_IDLE)
			return &pool->conns[i];
	return NULL;
}

static void pool_dispatch(struct db_pool *pool)
{
	struct job *j;
	struct db_conn *c;
	while ((j = TAILQ_FIRST(&pool->queue)) != NULL &&
	       (c = pool_idle_conn(pool)) != NULL) {
		job_unqueue(j);
		evtimer_del(j->timer);
		if (j->kind == JOB_EXEC) {
			conn_send(c, j->sql, j->nparams,
				  (const char *const *)j->params, j->result_cb,
				  j->arg, j);
		} else {
			c->reserved = true;
			c->state = CONN_RESERVED;
			db_acquire_fn *cb = j->acquire_cb;
			void *arg = j->arg;
			job_free(j);
			cb(arg, c);
		}
	}
}

static void dispatch_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pool_dispatch(arg);
}

/* ---- public ---------------------------------------------------------- */

struct db_pool *db_pool_new(struct event_base *base,
			    const struct db_options *opt)
{
	struct db_pool *pool = calloc(1, sizeof *pool);
	if (pool == NULL)
		return NULL;
	pool->base = base;
	pool->size = opt->pool_size;
	pool->connect_timeout = opt->connect_timeout;
	pool->query_timeout = opt->query_timeout;
	TAILQ_INIT(&pool->queue);
	TAILQ_INIT(&pool->deferred);
	snprintf(pool->options, sizeof pool->options,
		 "-c statement_timeout=%d -c TimeZone=UTC "
		 "-c calldesk.minor_digits=%d",
		 opt->query_timeout * 1000, opt->minor_digits);
	pool->conninfo = strdup(opt->conninfo);
	pool->dispatch_ev = event_new(base, -1, 0, dispatch_cb, pool);
	if (pool->dispatch_ev == NULL)
		goto fail;
	pool->notify = opt->notify;
	pool->notify_arg = opt->notify_arg;
	if (opt->on_connect != NULL &&
	    (pool->on_connect = strdup(opt->on_connect)) == NULL)
		goto fail;
	pool->conns = calloc((size_t)pool->size, sizeof *pool->conns);
	if (pool->conninfo == NULL || pool->conns == NULL)
		goto fail;
	for (int i = 0; i < pool->size; i++) {
		struct db_conn *c = &pool->conns[i];
		c->pool = pool;
		c->fd = -1;
		c->timer = evtimer_new(base, conn_timer_cb, c);
		if (c->timer == NULL)
			goto fail;
	}
	for (int i = 0; i < pool->size; i++)
		conn_connect(&pool->conns[i]);
	return pool;
fail:
	db_pool_free(&pool);
	return NULL;
}

void db_pool_free(struct db_pool **poolp)
{
	struct db_pool *pool = poolp != NULL ? *poolp : NULL;
	if (pool == NULL)
		return;
	struct job *j;
	while ((j = TAILQ_FIRST(&pool->queue)) != NULL) {
		job_unqueue(j);
		job_free(j);
	}
	while ((j = TAILQ_FIRST(&pool->deferred)) != NULL) {
		job_unqueue(j);
		job_free(j);
	}
	for (int i = 0; pool->conns != NULL && i < pool->size; i++) {
		struct db_conn *c = &pool->conns[i];
		if (c->ev != NULL)
			event_free(c->ev);
		if (c->timer != NULL)
			event_free(c->timer);
		PQclear(c->result);
		job_free(c->exec_job);
		if (c->pg != NULL)
			PQfinish(c->pg);
	}
	free(pool->conns);
	if (pool->dispatch_ev != NULL)
		event_free(pool->dispatch_ev);
	free(pool->conninfo);
	free(pool->on_connect);
	free(pool);
	*poolp = NULL;
}

bool db_pool_up(const struct db_pool *pool)
{
	return pool_has_live_conn(pool);
}

void db_pool_stats(const struct db_pool *pool, struct db_stats *out)
{
	memset(out, 0, sizeof *out);
	out->size = pool->size;
	for (int i = 0; i < pool->size; i++) {
		enum conn_state s = pool->conns[i].state;
		if (s == CONN_IDLE || s == CONN_RESERVED || s == CONN_QUERY)
			out->connected++;
		if (s == CONN_RESERVED || s == CONN_QUERY)
			out->busy++;
	}
	out->waiting = pool->waiting;
	out->errors = pool->errors;
	out->reconnects = pool->reconnects;
}

void db_exec(struct db_pool *pool, const char *sql, int nparams,
	     const char *const *params, db_result_fn *cb, void *arg)
{
	struct job *j = job_new(pool, JOB_EXEC, arg);
	if (j == NULL || !job_copy_query(j, sql, nparams, params)) {
		/* Out of memory: report it like an unreachable database, from
		 * the loop, through a one-shot event. */
		job_free(j);
		log_error("db: out of memory queueing a statement");
		struct db_result r = { DB_UNAVAILABLE, NULL, "", "out of memory" };
		cb(arg, &r);
		return;
	}
	j->result_cb = cb;
	job_submit(j);
}

void db_acquire(struct db_pool *pool, db_acquire_fn *cb, void *arg)
{
	struct job *j = job_new(pool, JOB_ACQUIRE, arg);
	if (j == NULL) {
		log_error("db: out of memory queueing a reservation");
		cb(arg, NULL);
		return;
	}
	j->acquire_cb = cb;
	job_submit(j);
}

void db_query(struct db_conn *c, const char *sql, int nparams,
	      const char *const *params, db_result_fn *cb, void *arg)
{
	if (c->state != CONN_RESERVED || c->broken) {
		/* The connection broke while reserved: nothing was sent;
		 * say so from the loop (DB_UNAVAILABLE). */
		struct job *j = job_new(c->pool, JOB_EXEC, arg);
		if (j == NULL) {
			log_error("db: out of memory");
			abort();
		}
		j->result_cb = cb;
		job_defer_failure(j);
		return;
	}
	conn_send(c, sql, nparams, params, cb, arg, NULL);
}

void db_release(struct db_conn **connp)
{
	struct db_conn *c = connp != NULL ? *connp : NULL;
	if (c == NULL)
		return;
	*connp = NULL;
	c->reserved = false;
	c->broken = false;
	if (c->state != CONN_RESERVED)
		return; /* down: it reconnects by itself */
	if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		/* Never hand out a connection inside a transaction: drop it
		 * rather than block the loop on a synchronous ROLLBACK. */
		conn_lost(c, "released inside a transaction");
		return;
	}
	c->state = CONN_IDLE;
	pool_dispatch(c->pool);
}
