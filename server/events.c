/* events.c: live events. One dedicated PostgreSQL connection LISTENs on
 * 'calldesk'; each notification is rendered once into a reference-counted
 * line and handed to every interested session's output without copying
 * (evbuffer_add_reference). Queue figures are refreshed from PostgreSQL,
 * debounced, whenever something that moves them happens, and pushed only
 * when they changed. A watcher whose backlog passes the cap is dropped
 * with BYE overloaded so that it cannot grow the server's memory. */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "commands.h"
#include "db.h"
#include "handlers.h"
#include "log.h"
#include "offer.h"
#include "pgarray.h"
#include "proto.h"
#include "server.h"
#include "session.h"
#include "throttle.h"
#include "values.h"

#define QUEUE_REFRESH_MS 200


struct ev_line {
	int refs;
	size_t len;
	char data[];
};

struct queue_mark {
	char name[CFG_NAME_MAX + 1];
	char *line;           /* the last line pushed, without oldest_wait */
};

struct events {
	struct server *srv;
	struct db_pool *listen;
	struct event *refresh;
	bool dirty;
	bool refreshing;
	struct queue_mark *marks;
	size_t nmarks;
	unsigned long pushed;
	unsigned long dropped;
	TAILQ_HEAD(, user_read) reads;  /* account re-reads in flight */
};

static void ev_line_unref(const void *data, size_t len, void *arg)
{
	struct ev_line *l = arg;
	(void)data;
	(void)len;
	if (--l->refs == 0)
		free(l);
}

static struct ev_line *ev_line_new(const struct sbuf *sb)
{
	struct ev_line *l = malloc(sizeof *l + sb->len);
	if (l == NULL)
		return NULL;
	l->refs = 1;
	l->len = sb->len;
	memcpy(l->data, sb->data, sb->len);
	return l;
}

/* Hands the line to one session; drops a watcher that cannot keep up. */
static void deliver(struct events *ev, struct session *s, struct ev_line *l)
{
	if (s->dead || s->closing || !s->handshaken)
		return;
	struct evbuffer *out = bufferevent_get_output(s->bev);
	l->refs++;
	if (evbuffer_add_reference(out, l->data, l->len, ev_line_unref, l) != 0) {
		l->refs--;
		return;
	}
	ev->pushed++;
	if (s->watching &&
	    evbuffer_get_length(out) > (size_t)ev->srv->cfg->watch_backlog) {
		ev->dropped++;
		log_warn("%s@%s: watcher too slow, dropped", s->user, s->peer);
		s->watching = false;
		/* The backlog will never be read in time: drop what has not
		 * reached TLS yet so that the BYE is not stuck behind it. */
		evbuffer_drain(out, evbuffer_get_length(out));
		session_bye(s, CD_BYE_OVERLOADED, "too slow to read events");
	}
}

static bool watches(const struct session *s, const char *queue)
{
	return s->watching && (queue[0] == '\0' || s->watch_queues[0] == '\0' ||
			       name_in_list(s->watch_queues, queue));
}

/* Sends a rendered line to the watchers of queue and to user's sessions
 * (each session at most once). */
static void fan_out(struct events *ev, const struct sbuf *sb,
		    const char *queue, const char *user)
{
	struct ev_line *l = ev_line_new(sb);
	if (l == NULL)
		return;
	struct session *s, *next;
	for (s = TAILQ_FIRST(&ev->srv->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		if (!s->logged_in)
			continue;
		if (watches(s, queue) ||
		    (user[0] != '\0' && strcmp(s->user, user) == 0))
			deliver(ev, s, l);
	}
	ev_line_unref(NULL, 0, l);
}

static bool any_watcher(const struct events *ev)
{
	const struct session *s;
	TAILQ_FOREACH(s, &ev->srv->sessions, link)
		if (s->watching)
			return true;
	return false;
}

static void mark_dirty(struct events *ev)
{
	ev->dirty = true;
	if (!ev->refreshing && any_watcher(ev) && !evtimer_pending(ev->refresh, NULL)) {
		struct timeval tv = { 0, QUEUE_REFRESH_MS * 1000 };
		evtimer_add(ev->refresh, &tv);
	}
}

/* ---- queue figures ------------------------------------------------------ */

static struct queue_mark *mark_for(struct events *ev, const char *queue)
{
	for (size_t i = 0; i < ev->nmarks; i++)
		if (strcmp(ev->marks[i].name, queue) == 0)
			return &ev->marks[i];
	struct queue_mark *m = realloc(ev->marks, (ev->nmarks + 1) * sizeof *m);
	if (m == NULL)
		return NULL;
	ev->marks = m;
	m = &ev->marks[ev->nmarks++];
	memset(m, 0, sizeof *m);
	snprintf(m->name, sizeof m->name, "%s", queue);
	return m;
}

/* Pushes one queue's figures when waiting or agents_ready changed (the
 * oldest wait alone grows every second and is not worth a push). */
static void queue_row(struct events *ev, const char *kv)
{
	struct sbuf line = { 0 }, key = { 0 }, val = { 0 }, sig = { 0 };
	char queue[CFG_NAME_MAX + 1] = "";
	bool null;
	sbuf_adds(&line, "* EVENT");
	proto_put_kv(&line, "type", "queue");
	while (pgarray_next(&kv, &key, &null) && pgarray_next(&kv, &val, &null)) {
		proto_put_kv(&line, key.data, val.data);
		if (strcmp(key.data, "queue") == 0)
			snprintf(queue, sizeof queue, "%s", val.data);
		if (strcmp(key.data, "oldest_wait") != 0)
			proto_put_kv(&sig, key.data, val.data);
	}
	sbuf_add(&line, "\n", 1);
	struct queue_mark *m = mark_for(ev, queue);
	if (m != NULL && sig.data != NULL &&
	    (m->line == NULL || strcmp(m->line, sig.data) != 0)) {
		free(m->line);
		m->line = strdup(sig.data);
		fan_out(ev, &line, queue, "");
	}
	sbuf_free(&line);
	sbuf_free(&key);
	sbuf_free(&val);
	sbuf_free(&sig);
}

static void refresh_done(void *arg, const struct db_result *r)
{
	struct events *ev = arg;
	ev->refreshing = false;
	if (r->status != DB_OK) {
		log_debug("queue refresh failed: %s", r->message);
		return;
	}
	for (int i = 0; i < PQntuples(r->res); i++)
		if (strcmp(PQgetvalue(r->res, i, 0), "ROW") == 0)
			queue_row(ev, PQgetvalue(r->res, i, 1));
	if (ev->dirty)
		mark_dirty(ev);
}

static void refresh_cb(evutil_socket_t fd, short what, void *arg)
{
	struct events *ev = arg;
	struct sbuf queues = { 0 }, skills = { 0 };
	(void)fd;
	(void)what;
	if (ev->refreshing || !any_watcher(ev))
		return;
	ev->dirty = false;
	ev->refreshing = true;
	catalog_queue_arrays(ev->srv->cfg, NULL, &queues, &skills);
	const char *params[4] = { "0", "admin", queues.data, skills.data };
	db_exec(ev->srv->db, "SELECT * FROM cd_queue_list($1, $2, $3, $4)", 4,
		params, refresh_done, ev);
	sbuf_free(&queues);
	sbuf_free(&skills);
}

/* ---- notifications -------------------------------------------------------- */

/* A user changed on another node: their sessions here follow the account
 * as it is now, re-read (the notification only names the user, so that a
 * forged or late one can only cause a re-read). Reads in flight belong to
 * the events module, freed with it. */
struct user_read {
	TAILQ_ENTRY(user_read) link;
	struct events *ev;
	char user[CFG_NAME_MAX + 1];
};

static void user_read_done(void *arg, const struct db_result *r)
{
	struct user_read *ur = arg;
	struct events *ev = ur->ev;
	TAILQ_REMOVE(&ev->reads, ur, link);
	if (r->status != DB_OK) {
		log_warn("re-reading account %s: %s", ur->user, r->message);
	} else if (PQntuples(r->res) == 1) {
		struct user_change ch = {
			.user = ur->user,
			.tier = PQgetvalue(r->res, 0, 0),
			.skills = PQgetvalue(r->res, 0, 1),
			.team = PQgetvalue(r->res, 0, 2),
			.dept = PQgetvalue(r->res, 0, 3),
			.disabled = strcmp(PQgetvalue(r->res, 0, 4), "t") != 0,
		};
		(void)sessions_user_changed(ev->srv, &ch, NULL);
	}
	free(ur);
}

static void user_reread(struct events *ev, const char *user)
{
	struct user_read *ur = calloc(1, sizeof *ur);
	if (ur == NULL) {
		log_warn("re-reading account %s: out of memory", user);
		return;
	}
	ur->ev = ev;
	snprintf(ur->user, sizeof ur->user, "%s", user);
	TAILQ_INSERT_TAIL(&ev->reads, ur, link);
	const char *params[1] = { ur->user };
	db_exec(ev->srv->db, "SELECT * FROM cd_user_live($1)", 1, params,
		user_read_done, ur);
}

/* A login on another node: this node's failure counts follow (the
 * address is the client's, as that node saw it). */
static void login_event_apply(struct events *ev, const char *type,
			      const char *user, const char *addr)
{
	if (strcmp(type, "login-failed") == 0)
		throttle_failure(ev->srv->throttle, user, addr,
				 ev->srv->cfg->login_max_failures, time(NULL));
	else
		throttle_success(ev->srv->throttle, user, addr);
}

/* What an event's type asks of this node. */
struct event_kind {
	bool internal;     /* between nodes only, never shown to clients */
	bool moves_queues; /* the queue figures need a refresh */
	bool offers_work;  /* a complaint or an agent's state changed */
	bool reload, user, login;
};

static struct event_kind event_kind_of(const char *type)
{
	struct event_kind k = { 0 };
	k.reload = strcmp(type, "reload") == 0;
	k.user = strcmp(type, "user") == 0;
	k.login = strcmp(type, "login-failed") == 0 ||
		  strcmp(type, "login-ok") == 0;
	k.internal = k.reload || k.user || k.login ||
		     strcmp(type, "queue-dirty") == 0;
	k.offers_work = strcmp(type, "complaint") == 0 ||
			strcmp(type, "agent") == 0;
	k.moves_queues = k.reload || k.user || strcmp(type, "queue-dirty") == 0 ||
			 strcmp(type, "complaint") == 0 ||
			 strcmp(type, "agent") == 0;
	return k;
}

static void notified(void *arg, const char *channel, const char *payload)
{
	struct events *ev = arg;
	struct sbuf queue = { 0 }, user = { 0 }, key = { 0 }, val = { 0 };
	struct sbuf line = { 0 };
	struct event_kind k = { 0 };
	const char *p = payload;
	bool null;
	char node[64] = "", type[32] = "", addr[64] = "";
	char who[CFG_NAME_MAX + 1] = "";
	(void)channel;
	if (!pgarray_next(&p, &queue, &null) || !pgarray_next(&p, &user, &null))
		goto out;
	sbuf_adds(&line, "* EVENT");
	while (pgarray_next(&p, &key, &null) && pgarray_next(&p, &val, &null)) {
		if (strcmp(key.data, "node") == 0)
			snprintf(node, sizeof node, "%s", val.data);
		if (strcmp(key.data, "addr") == 0)
			snprintf(addr, sizeof addr, "%s", val.data);
		if (strcmp(key.data, "user") == 0)
			snprintf(who, sizeof who, "%s", val.data);
		if (strcmp(key.data, "type") == 0) {
			snprintf(type, sizeof type, "%s", val.data);
			k = event_kind_of(type);
		}
		proto_put_kv(&line, key.data, val.data);
	}
	sbuf_add(&line, "\n", 1);
	if (!k.internal && !sbuf_failed(&line))
		fan_out(ev, &line, queue.data, user.data);
	if (k.moves_queues)
		mark_dirty(ev);
	if (k.offers_work)
		offer_poke(ev->srv->offer);
	if (strcmp(node, ev->srv->node) == 0)
		goto out; /* this node did it already */
	if (k.user)
		user_reread(ev, who);
	if (k.login)
		login_event_apply(ev, type, who, addr);
	if (k.reload) {
		char err[400];
		if (server_reload(ev->srv, err, sizeof err) != 0)
			log_warn("reload asked by node %s refused: %s", node, err);
	}
out:
	sbuf_free(&queue);
	sbuf_free(&user);
	sbuf_free(&key);
	sbuf_free(&val);
	sbuf_free(&line);
}

/* ---- telling the other nodes ------------------------------------------------ */

static void told(void *arg, const struct db_result *r)
{
	if (r->status != DB_OK)
		log_warn("could not tell the other nodes about %s: %s",
			 (const char *)arg, r->message);
}

void events_tell_reload(struct server *srv)
{
	const char *params[1] = { srv->node };
	db_exec(srv->db, "SELECT cd_notify('', '', 'type', 'reload', 'node', $1)",
		1, params, told, (void *)"a reload");
}

void events_tell_login(struct server *srv, const char *user, const char *addr,
		       bool ok, db_result_fn *cb, void *arg)
{
	/* Whatever was typed as a user name (a password, at times) is not
	 * spread: what is not a user name counts for the address only. */
	const char *params[4] = { ok ? "login-ok" : "login-failed",
				  val_name(user) ? user : "", addr, srv->node };
	db_exec(srv->db,
		"SELECT cd_notify('', '', 'type', $1, 'user', $2, 'addr', $3, "
		"'node', $4)",
		4, params, cb != NULL ? cb : told,
		cb != NULL ? arg : (void *)"a login");
}

/* ---- public ------------------------------------------------------------------ */

struct events *events_new(struct server *srv)
{
	struct events *ev = calloc(1, sizeof *ev);
	if (ev == NULL)
		return NULL;
	ev->srv = srv;
	TAILQ_INIT(&ev->reads);
	struct db_options o = {
		.conninfo = srv->cfg->db_conninfo,
		.pool_size = 1,
		.connect_timeout = srv->cfg->db_connect_timeout,
		.query_timeout = srv->cfg->db_query_timeout,
		.minor_digits = srv->cfg->currency_digits,
		.on_connect = "LISTEN calldesk",
		.notify = notified,
		.notify_arg = ev,
	};
	ev->refresh = evtimer_new(srv->base, refresh_cb, ev);
	ev->listen = db_pool_new(srv->base, &o);
	if (ev->refresh == NULL || ev->listen == NULL) {
		events_free(&ev);
		return NULL;
	}
	return ev;
}

void events_free(struct events **evp)
{
	struct events *ev = evp != NULL ? *evp : NULL;
	if (ev == NULL)
		return;
	db_pool_free(&ev->listen);
	if (ev->refresh != NULL)
		event_free(ev->refresh);
	struct user_read *ur;
	while ((ur = TAILQ_FIRST(&ev->reads)) != NULL) {
		TAILQ_REMOVE(&ev->reads, ur, link);
		free(ur);
	}
	for (size_t i = 0; i < ev->nmarks; i++)
		free(ev->marks[i].line);
	free(ev->marks);
	free(ev);
	*evp = NULL;
}

void events_watch(struct events *ev, struct session *s, const char *queues)
{
	s->watching = true;
	snprintf(s->watch_queues, sizeof s->watch_queues, "%s",
		 queues != NULL ? queues : "");
	/* The snapshot gave this watcher the current figures; later pushes
	 * compare against what was last pushed to anyone, so start afresh. */
	for (size_t i = 0; i < ev->nmarks; i++) {
		free(ev->marks[i].line);
		ev->marks[i].line = NULL;
	}
}

void events_unwatch(struct events *ev, struct session *s)
{
	(void)ev;
	s->watching = false;
	s->watch_queues[0] = '\0';
}

void events_stats(const struct events *ev, unsigned long *pushed,
		  unsigned long *dropped)
{
	*pushed = ev->pushed;
	*dropped = ev->dropped;
}
