/* session.c: one connection's life: TLS handshake, greeting, framing with
 * the line limits, one request at a time, timers, BYE and the lingering
 * close, and freeing from a deferred event. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "commands.h"
#include "db.h"
#include "log.h"
#include "proto.h"
#include "server.h"

/* Beyond max_clients a client is told BYE overloaded over TLS; beyond
 * twice that it is closed without a handshake, so that a flood cannot
 * make the server spend unbounded work on handshakes. */
#define HARD_LIMIT_FACTOR 2
#define LINGER_SECONDS 2

static const char *const role_names[] = {
	[ROLE_NONE] = "",
	[ROLE_INTEGRATION] = "integration",
	[ROLE_AGENT] = "agent",
	[ROLE_SUPERVISOR] = "supervisor",
	[ROLE_ADMIN] = "admin",
};

enum role role_from_name(const char *name)
{
	for (size_t i = 1; i < sizeof role_names / sizeof role_names[0]; i++)
		if (strcmp(name, role_names[i]) == 0)
			return (enum role)i;
	return ROLE_NONE;
}

const char *role_name(enum role role)
{
	return role_names[role];
}

static void session_pump(struct session *s);
static void session_dead(struct session *s);

static void session_free(struct session *s)
{
	struct server *srv = s->srv;
	TAILQ_REMOVE(&srv->sessions, s, link);
	srv->nsessions--;
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	event_free(s->timer);
	event_free(s->kick);
	event_free(s->reaper);
	free(s);
	server_session_gone(srv);
}

static void reaper_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_free(arg);
}

static void session_unref(struct session *s)
{
	if (--s->refs == 0 && !s->freeing) {
		s->freeing = true;
		event_active(s->reaper, EV_TIMEOUT, 0);
	}
}

static void noop_result(void *arg, const struct db_result *r)
{
	(void)arg;
	if (r->status != DB_OK)
		log_warn("presence update failed: %s", r->message);
}

void session_unregister(struct session *s)
{
	if (!s->registered)
		return;
	char uid[24];
	const char *params[2] = { uid, s->srv->node };
	snprintf(uid, sizeof uid, "%lld", (long long)s->uid);
	db_exec(s->srv->db, "SELECT cd_session_end($1, $2)", 2, params,
		noop_result, NULL);
	s->registered = false;
}

/* The connection is gone (EOF, error, or the end of a lingering close). */
static void session_dead(struct session *s)
{
	if (s->dead)
		return;
	s->dead = true;
	bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	evtimer_del(s->timer);
	session_unregister(s);
	log_debug("%s@%s: closed", s->logged_in ? s->user : "-", s->peer);
	session_unref(s);
}

void session_touch(struct session *s)
{
	const struct config *cfg = s->srv->cfg;
	struct timeval tv = { s->logged_in ? cfg->idle_timeout
					   : cfg->login_timeout, 0 };
	if (s->dead || s->closing)
		return;
	if (!s->logged_in && evtimer_pending(s->timer, NULL))
		return; /* the login deadline runs from the connection */
	evtimer_add(s->timer, &tv);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	(void)fd;
	(void)what;
	if (s->closing) {
		session_dead(s); /* lingering close ran out */
		return;
	}
	if (!s->logged_in) {
		session_bye(s, CD_BYE_LOGIN_TIMEOUT, "login not completed in time");
		return;
	}
	if (s->cur != NULL || s->watching) {
		struct timeval tv = { s->srv->cfg->idle_timeout, 0 };
		evtimer_add(s->timer, &tv);
		return;
	}
	session_bye(s, CD_BYE_IDLE, "idle for too long");
}

void session_bye(struct session *s, enum cd_code code, const char *msg)
{
	if (s->closing || s->dead)
		return;
	s->closing = true;
	if (s->handshaken) {
		struct sbuf sb = { 0 };
		proto_put_error(&sb, "*", code, msg, false, NULL);
		if (!sbuf_failed(&sb))
			bufferevent_write(s->bev, sb.data, sb.len);
		sbuf_free(&sb);
	}
	log_debug("%s@%s: bye %s", s->logged_in ? s->user : "-", s->peer,
		  cd_code_name(code));
	/* Keep reading (and discarding) for a moment after the last byte is
	 * written: closing with unread input would reset the connection and
	 * could destroy the BYE before the client reads it. */
	struct timeval tv = { LINGER_SECONDS, 0 };
	evtimer_add(s->timer, &tv);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0 &&
	    !s->handshaken)
		session_dead(s);
}

void session_push(struct session *s, const char *line, size_t len)
{
	if (!s->dead && !s->closing && s->handshaken)
		bufferevent_write(s->bev, line, len);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_pump(arg);
}

void session_request_done(struct session *s, struct request *rq)
{
	const struct sbuf *out = request_output(rq);
	enum cd_code bye = request_bye_after(rq);
	s->cur = NULL;
	if (!s->dead && !s->closing && out->len > 0)
		bufferevent_write(s->bev, out->data, out->len);
	request_free(&rq);
	if (!s->dead && !s->closing) {
		if (bye != CD_OK)
			session_bye(s, bye, bye == CD_BYE_LOGOUT ? "goodbye"
								 : "closing");
		else if (s->srv->stopping)
			session_bye(s, CD_BYE_SHUTDOWN, "server shutting down");
		else {
			session_touch(s);
			event_active(s->kick, EV_TIMEOUT, 0);
		}
	}
	session_unref(s);
}

/* Frames and dispatches complete lines, one request at a time. */
static void session_pump(struct session *s)
{
	const struct config *cfg = s->srv->cfg;
	struct evbuffer *in = bufferevent_get_input(s->bev);
	struct evbuffer *out = bufferevent_get_output(s->bev);

	while (s->cur == NULL && !s->closing && !s->dead && s->handshaken) {
		if (s->srv->stopping) {
			session_bye(s, CD_BYE_SHUTDOWN, "server shutting down");
			return;
		}
		/* A client that does not read its answers stops being read:
		 * the write callback resumes once the output has drained. */
		if (evbuffer_get_length(out) > (size_t)cfg->output_high_water)
			return;
		size_t limit = (size_t)((!s->logged_in || s->strict_bytes > 0)
						? cfg->max_line_login
						: cfg->max_line);
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL,
							      EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			if (evbuffer_get_length(in) >= limit)
				session_bye(s, CD_BYE_LINE_TOO_LONG,
					    "line too long");
			return;
		}
		size_t n = (size_t)eol.pos;
		if (n + 1 > limit) {
			session_bye(s, CD_BYE_LINE_TOO_LONG, "line too long");
			return;
		}
		char *line = malloc(n + 1);
		if (line == NULL) {
			session_bye(s, CD_BYE_OVERLOADED, "out of memory");
			return;
		}
		/* evbuffer_remove copies embedded NULs too; the parser sees
		 * every byte and refuses them. */
		evbuffer_remove(in, line, n);
		evbuffer_drain(in, 1);
		line[n] = '\0';
		s->strict_bytes = s->strict_bytes > n + 1 ? s->strict_bytes - (n + 1) : 0;
		commands_dispatch(s, line, n);
		free(line);
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	if (s->closing) {
		evbuffer_drain(bufferevent_get_input(bev),
			       evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	session_pump(s);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	if (s->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
			/* Everything is written: close_notify, half-close,
			 * and linger until the client closes too. */
			SSL *ssl = bufferevent_openssl_get_ssl(bev);
			if (ssl != NULL && !(SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN))
				SSL_shutdown(ssl);
			shutdown(bufferevent_getfd(bev), SHUT_WR);
		}
		return;
	}
	session_pump(s);
}

static void greet(struct session *s)
{
	struct sbuf sb = { 0 };
	sbuf_printf(&sb, "* HELLO proto=1 server=calldeskd/%s\n",
		    s->srv->version);
	if (!sbuf_failed(&sb))
		bufferevent_write(s->bev, sb.data, sb.len);
	sbuf_free(&sb);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		s->handshaken = true;
		if (s->over_limit) {
			session_bye(s, CD_BYE_OVERLOADED, "too many clients");
			return;
		}
		greet(s);
		session_pump(s);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		/* A client that leaves without close_notify, or fails the
		 * handshake, is routine: log it quietly. */
		unsigned long e;
		char buf[160];
		while ((e = bufferevent_get_openssl_error(s->bev)) != 0) {
			ERR_error_string_n(e, buf, sizeof buf);
			log_debug("%s: tls: %s", s->peer, buf);
		}
		ERR_clear_error();
		session_dead(s);
	}
}

static void format_peer(const struct sockaddr *addr, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)addr;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		port = ntohs(in->sin_port);
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)addr;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		port = ntohs(in6->sin6_port);
	}
	snprintf(out, len, "%s:%u", host, port);
}

bool session_accept(struct server *srv, evutil_socket_t fd,
		    const struct sockaddr *addr, int addrlen)
{
	const struct config *cfg = srv->cfg;
	(void)addrlen;
	if (srv->stopping ||
	    srv->nsessions >= cfg->max_clients * HARD_LIMIT_FACTOR) {
		evutil_closesocket(fd);
		return false;
	}
	struct session *s = calloc(1, sizeof *s);
	SSL *ssl = SSL_new(srv->ssl_ctx);
	if (s == NULL || ssl == NULL)
		goto fail;
	s->srv = srv;
	s->id = ++srv->next_session_id;
	s->refs = 1;
	s->over_limit = srv->nsessions >= cfg->max_clients;
	format_peer(addr, s->peer, sizeof s->peer);
	s->timer = evtimer_new(srv->base, timer_cb, s);
	s->kick = event_new(srv->base, -1, 0, kick_cb, s);
	s->reaper = event_new(srv->base, -1, 0, reaper_cb, s);
	if (s->timer == NULL || s->kick == NULL || s->reaper == NULL)
		goto fail;
	s->bev = bufferevent_openssl_socket_new(srv->base, fd, ssl,
						BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE |
						BEV_OPT_DEFER_CALLBACKS);
	if (s->bev == NULL) {
		ssl = NULL; /* freed by the failed constructor */
		goto fail;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
	/* Reading pauses once a full line's worth waits unprocessed. */
	bufferevent_setwatermark(s->bev, EV_READ, 0, (size_t)cfg->max_line + 1);
	bufferevent_setwatermark(s->bev, EV_WRITE,
				 (size_t)cfg->output_high_water / 2, 0);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&srv->sessions, s, link);
	srv->nsessions++;
	session_touch(s);
	return true;
fail:
	log_error("cannot set up a session for a new connection");
	if (s != NULL) {
		if (s->timer) event_free(s->timer);
		if (s->kick) event_free(s->kick);
		if (s->reaper) event_free(s->reaper);
		if (s->bev == NULL)
			evutil_closesocket(fd);
		free(s);
	} else {
		evutil_closesocket(fd);
	}
	SSL_free(ssl);
	return false;
}

bool sessions_user_changed(struct server *srv, const struct user_change *ch,
			   const struct session *keep)
{
	struct session *s, *next;
	bool kept = false;
	for (s = TAILQ_FIRST(&srv->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		if (!s->logged_in || strcmp(s->user, ch->user) != 0)
			continue;
		if (ch->tier != NULL)
			s->tier = (int)strtol(ch->tier, NULL, 10);
		if (ch->skills != NULL)
			snprintf(s->skills, sizeof s->skills, "%s", ch->skills);
		if (ch->team != NULL)
			snprintf(s->team, sizeof s->team, "%s", ch->team);
		if (ch->dept != NULL)
			snprintf(s->dept, sizeof s->dept, "%s", ch->dept);
		if (s == keep)
			kept = true;
		else if (ch->disabled)
			session_bye(s, CD_BYE_DISABLED, "account disabled");
	}
	return kept;
}

void session_destroy_all(struct server *srv)
{
	struct session *s;
	while ((s = TAILQ_FIRST(&srv->sessions)) != NULL) {
		request_free(&s->cur);
		session_free(s);
	}
}
