/* main.c: calldeskd's command line and start-up order: parse the
 * configuration, open the listeners, load the keys, start the workers and
 * the database pool, then run the loop until SIGTERM/SIGINT. Also the
 * reload (SIGHUP, RELOAD) and the orderly stop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <openssl/ssl.h>

#include "cdconfig.h"
#include "config.h"
#include "db.h"
#include "events.h"
#include "hasher.h"
#include "log.h"
#include "metrics.h"
#include "migrate.h"
#include "server.h"
#include "session.h"
#include "offer.h"
#include "sla.h"
#include "throttle.h"
#include "tls.h"
#include "usertool.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

#define LISTEN_BACKLOG 512

static void print_error(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "%s\n", line);
}

struct first_error {
	char *buf;
	size_t len;
	bool set;
};

static void keep_first_error(void *ctx, const char *line)
{
	struct first_error *fe = ctx;
	log_warn("config: %s", line);
	if (!fe->set) {
		snprintf(fe->buf, fe->len, "%s", line);
		fe->set = true;
	}
}

static void restart_note(void *ctx, const char *line)
{
	(void)ctx;
	log_warn("reload: %s (needs a restart)", line);
}

int server_reload(struct server *srv, char *err, size_t errlen)
{
	struct first_error fe = { err, errlen, false };
	struct config *cfg = NULL;
	if (config_load(srv->cfg->path, &cfg, keep_first_error, &fe) != 0) {
		log_warn("reload refused: the configuration is invalid");
		return -1;
	}
	SSL_CTX *ctx = tls_server_ctx(cfg);
	if (ctx == NULL) {
		snprintf(err, errlen, "%s:0: cannot load the TLS certificate or key",
			 cfg->path);
		config_free(&cfg);
		return -1;
	}
	struct config **r = realloc(srv->retired,
				    (srv->nretired + 1) * sizeof *srv->retired);
	if (r == NULL) {
		snprintf(err, errlen, "%s:0: out of memory", cfg->path);
		SSL_CTX_free(ctx);
		config_free(&cfg);
		return -1;
	}
	config_restart_needed(srv->cfg, cfg, restart_note, NULL);
	srv->retired = r;
	srv->retired[srv->nretired++] = srv->cfg;
	srv->cfg = cfg;
	/* Live connections keep a reference to the old context. */
	SSL_CTX_free(srv->ssl_ctx);
	srv->ssl_ctx = ctx;
	/* Sessions keep reading up to the new line limit (a larger max_line
	 * must not stall a session at the old read mark). */
	struct session *s;
	TAILQ_FOREACH(s, &srv->sessions, link)
		if (!s->dead)
			bufferevent_setwatermark(s->bev, EV_READ, 0,
						 (size_t)cfg->max_line + 1);
	hasher_set_cost(srv->hasher, (uint32_t)cfg->argon2_t_cost,
			(uint32_t)cfg->argon2_m_cost);
	/* offer_work may have just been turned on. */
	offer_poke(srv->offer);
	if (cfg->log_syslog != srv->retired[srv->nretired - 1]->log_syslog)
		log_open(cfg->log_syslog, getenv("CALLDESK_DEBUG") ? LOG_LVL_DEBUG
								    : LOG_LVL_INFO);
	log_info("configuration reloaded: %zu rules sections",
		 cfg->catalog.nrules);
	return 0;
}

void server_session_gone(struct server *srv)
{
	if (srv->stopping && srv->nsessions == 0)
		event_base_loopexit(srv->base, NULL);
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	(void)fd;
	(void)what;
	log_warn("shutdown grace over with %d sessions left", srv->nsessions);
	event_base_loopexit(srv->base, NULL);
}

void server_stop(struct server *srv)
{
	if (srv->stopping)
		return;
	srv->stopping = true;
	log_info("stopping: %d sessions", srv->nsessions);
	for (size_t i = 0; i < srv->nlisteners; i++)
		evconnlistener_disable(srv->listeners[i]);
	struct session *s, *next;
	/* Idle sessions are told now; a session with a request in flight is
	 * told once its answer is out (session_request_done). */
	for (s = TAILQ_FIRST(&srv->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, link);
		if (s->cur == NULL)
			session_bye(s, CD_BYE_SHUTDOWN, "server shutting down");
	}
	struct timeval tv = { srv->cfg->shutdown_grace + 3, 0 };
	evtimer_add(srv->grace_timer, &tv);
	if (srv->nsessions == 0)
		event_base_loopexit(srv->base, NULL);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	(void)what;
	if (sig == SIGHUP) {
		char err[400];
		if (server_reload(srv, err, sizeof err) != 0)
			log_warn("SIGHUP: configuration unchanged: %s", err);
		return;
	}
	server_stop(srv);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *addr, int len, void *arg)
{
	(void)l;
	if (!session_accept(arg, fd, addr, len))
		log_debug("connection refused");
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	(void)fd;
	(void)what;
	if (srv->stopping)
		return;
	for (size_t i = 0; i < srv->nlisteners; i++)
		evconnlistener_enable(srv->listeners[i]);
}

/* Out of file descriptors: stop accepting for a moment instead of
 * spinning on a listener that stays readable. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	int err = EVUTIL_SOCKET_ERROR();
	(void)l;
	log_warn("accept: %s", evutil_socket_error_to_string(err));
	for (size_t i = 0; i < srv->nlisteners; i++)
		evconnlistener_disable(srv->listeners[i]);
	struct timeval tv = { 1, 0 };
	evtimer_add(srv->accept_pause, &tv);
}

static int open_listeners(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	for (size_t i = 0; i < cfg->nlisten; i++) {
		struct sockaddr_storage ss;
		int sslen = sizeof ss;
		char spec[96];
		const char *host = cfg->listen[i].host;
		if (strchr(host, ':') != NULL)
			snprintf(spec, sizeof spec, "[%s]:%s", host, cfg->listen[i].port);
		else
			snprintf(spec, sizeof spec, "%s:%s", host, cfg->listen[i].port);
		if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) != 0) {
			log_error("listen: cannot parse %s (a numeric address is needed)", spec);
			return -1;
		}
		struct evconnlistener *l = evconnlistener_new_bind(
			srv->base, accept_cb, srv,
			LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
			LISTEN_BACKLOG, (struct sockaddr *)&ss, sslen);
		if (l == NULL) {
			log_error("listen: cannot listen on %s: %s", spec, strerror(errno));
			return -1;
		}
		evconnlistener_set_error_cb(l, accept_error_cb);
		srv->listeners[srv->nlisteners++] = l;
		log_info("listening on %s", spec);
	}
	return 0;
}

static void node_reset_done(void *arg, const struct db_result *r)
{
	(void)arg;
	if (r->status != DB_OK)
		log_warn("could not reset this node's presence: %s", r->message);
}

static void server_free(struct server *srv)
{
	session_destroy_all(srv);
	for (size_t i = 0; i < srv->nlisteners; i++)
		evconnlistener_free(srv->listeners[i]);
	metrics_free(&srv->metrics);
	sla_free(&srv->sla);
	offer_free(&srv->offer);
	events_free(&srv->events);
	db_pool_free(&srv->db);
	hasher_free(&srv->hasher);
	throttle_free(&srv->throttle);
	if (srv->sig_term) event_free(srv->sig_term);
	if (srv->sig_int) event_free(srv->sig_int);
	if (srv->sig_hup) event_free(srv->sig_hup);
	if (srv->grace_timer) event_free(srv->grace_timer);
	if (srv->accept_pause) event_free(srv->accept_pause);
	SSL_CTX_free(srv->ssl_ctx);
	for (size_t i = 0; i < srv->nretired; i++)
		config_free(&srv->retired[i]);
	free(srv->retired);
	config_free(&srv->cfg);
	if (srv->base)
		event_base_free(srv->base);
}

static int run_server(struct config *cfg)
{
	struct server srv = { 0 };
	int rc = 1;
	srv.cfg = cfg;
	srv.version = PACKAGE_VERSION;
	TAILQ_INIT(&srv.sessions);
	log_open(cfg->log_syslog, getenv("CALLDESK_DEBUG") ? LOG_LVL_DEBUG
							    : LOG_LVL_INFO);
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() != 0 || (srv.base = event_base_new()) == NULL) {
		log_error("cannot start the event loop");
		goto out;
	}
	char host[48] = "localhost";
	gethostname(host, sizeof host - 1);
	if (cfg->node != NULL)
		snprintf(srv.node, sizeof srv.node, "%s", cfg->node);
	else
		snprintf(srv.node, sizeof srv.node, "%s:%s", host,
			 cfg->nlisten > 0 ? cfg->listen[0].port : "0");
	if (open_listeners(&srv) != 0)
		goto out;
	if ((srv.ssl_ctx = tls_server_ctx(cfg)) == NULL)
		goto out;
	struct db_options dbo = {
		.conninfo = cfg->db_conninfo,
		.pool_size = cfg->db_pool_size,
		.connect_timeout = cfg->db_connect_timeout,
		.query_timeout = cfg->db_query_timeout,
		.minor_digits = cfg->currency_digits,
	};
	srv.hasher = hasher_new(srv.base, cfg->hash_threads,
				(uint32_t)cfg->argon2_t_cost,
				(uint32_t)cfg->argon2_m_cost);
	srv.throttle = throttle_new();
	srv.db = db_pool_new(srv.base, &dbo);
	srv.events = events_new(&srv);
	srv.sla = sla_new(&srv);
	srv.offer = offer_new(&srv);
	srv.metrics = metrics_new(&srv);
	srv.sig_term = evsignal_new(srv.base, SIGTERM, signal_cb, &srv);
	srv.sig_int = evsignal_new(srv.base, SIGINT, signal_cb, &srv);
	srv.sig_hup = evsignal_new(srv.base, SIGHUP, signal_cb, &srv);
	srv.grace_timer = evtimer_new(srv.base, grace_cb, &srv);
	srv.accept_pause = evtimer_new(srv.base, accept_resume_cb, &srv);
	if (srv.hasher == NULL || srv.throttle == NULL || srv.db == NULL ||
	    srv.events == NULL || srv.sla == NULL || srv.offer == NULL ||
	    srv.metrics == NULL ||
	    srv.sig_term == NULL || srv.sig_int == NULL || srv.sig_hup == NULL ||
	    srv.grace_timer == NULL || srv.accept_pause == NULL) {
		log_error("cannot allocate the server");
		goto out;
	}
	event_add(srv.sig_term, NULL);
	event_add(srv.sig_int, NULL);
	event_add(srv.sig_hup, NULL);
	const char *params[1] = { srv.node };
	db_exec(srv.db, "SELECT cd_node_reset($1)", 1, params, node_reset_done, NULL);
	log_info("calldeskd %s started (node %s)", PACKAGE_VERSION, srv.node);
	event_base_dispatch(srv.base);
	log_info("calldeskd stopped");
	rc = 0;
out:
	server_free(&srv);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: calldeskd -c FILE             run in the foreground\n"
		"       calldeskd -c FILE --check     validate configuration and rules\n"
		"       calldeskd -c FILE --migrate   apply missing schema migrations\n"
		"       calldeskd -c FILE --add-user NAME --role ROLE [--tier N]\n"
		"                 [--skills LIST] [--team NAME] [--dept NAME]\n"
		"                 (password: first line of standard input)\n"
		"       calldeskd --version\n");
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 256, OPT_MIGRATE, OPT_ADD_USER, OPT_ROLE, OPT_TIER,
	       OPT_SKILLS, OPT_TEAM, OPT_DEPT, OPT_VERSION };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "migrate", no_argument, NULL, OPT_MIGRATE },
		{ "add-user", required_argument, NULL, OPT_ADD_USER },
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "tier", required_argument, NULL, OPT_TIER },
		{ "skills", required_argument, NULL, OPT_SKILLS },
		{ "team", required_argument, NULL, OPT_TEAM },
		{ "dept", required_argument, NULL, OPT_DEPT },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	bool check = false, migrate = false;
	struct new_user nu = { 0 };
	int c;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case OPT_CHECK: check = true; break;
		case OPT_MIGRATE: migrate = true; break;
		case OPT_ADD_USER: nu.name = optarg; break;
		case OPT_ROLE: nu.role = optarg; break;
		case OPT_TIER: nu.tier = optarg; break;
		case OPT_SKILLS: nu.skills = optarg; break;
		case OPT_TEAM: nu.team = optarg; break;
		case OPT_DEPT: nu.dept = optarg; break;
		case OPT_VERSION:
			printf("calldeskd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 1;
	}
	struct config *cfg = NULL;
	if (config_load(path, &cfg, print_error, NULL) != 0)
		return 1;
	int rc;
	if (check)
		rc = 0;
	else if (migrate)
		rc = migrate_run(cfg->db_migrate_conninfo != NULL
					 ? cfg->db_migrate_conninfo
					 : cfg->db_conninfo);
	else if (nu.name != NULL)
		rc = usertool_add(cfg, &nu);
	else
		return run_server(cfg); /* frees cfg */
	config_free(&cfg);
	return rc;
}
