/* cmd_session.c: LOGIN, PING, LOGOUT, PASSWORD, STATE, STATE SET, RELOAD.
 *
 * LOGIN reads the user, verifies the password on a hashing worker (a dummy
 * hash for unknown users, so that the three failures look and cost the
 * same), then registers the connection in PostgreSQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "commands.h"
#include "db.h"
#include "events.h"
#include "handlers.h"
#include "hasher.h"
#include "log.h"
#include "pgarray.h"
#include "server.h"
#include "throttle.h"
#include "values.h"

struct login_ctx {
	bool found;
	bool enabled;
	int64_t uid;
	enum role role;
	int tier;
	char skills[512];
	char team[CFG_NAME_MAX + 1];
	char dept[CFG_NAME_MAX + 1];
	char addr[64];
};

/* The address part of "host:port". */
static void peer_host(const char *peer, char *out, size_t len)
{
	snprintf(out, len, "%s", peer);
	char *colon = strrchr(out, ':');
	if (colon != NULL)
		*colon = '\0';
}

/* The answer goes out once the other nodes can count the failure too. */
static void login_fail_told(void *arg, const struct db_result *r)
{
	struct request *rq = arg;
	if (r->status != DB_OK)
		log_warn("could not tell the other nodes about a failed login: "
			 "%s", r->message);
	rq_fail(rq, CD_AUTH_FAILED, "wrong user or password");
}

static void login_fail(struct request *rq)
{
	struct login_ctx *c = rq->ctx;
	throttle_failure(rq->srv->throttle, rq_arg(rq, "user"), c->addr,
			 rq->cfg->login_max_failures, time(NULL));
	const char *u = rq_arg(rq, "user");
	log_info("%s: failed login for %s", rq->s->peer,
		 val_name(u) ? u : "(not a user name)");
	events_tell_login(rq->srv, u, c->addr, false, login_fail_told, rq);
}

/* The account as cd_session_start answered it (read under a lock at the
 * session's start, later than the read before the password check): the
 * tier, skills and team of the OK line's fields, into c. */
static void login_take_answer(struct login_ctx *c, PGresult *res)
{
	struct sbuf key = { 0 }, val = { 0 };
	bool null;
	if (res == NULL || PQntuples(res) != 1)
		return;
	const char *p = PQgetvalue(res, 0, 1);
	while (pgarray_next(&p, &key, &null) && pgarray_next(&p, &val, &null)) {
		if (strcmp(key.data, "tier") == 0)
			c->tier = (int)strtol(val.data, NULL, 10);
		else if (strcmp(key.data, "skills") == 0)
			snprintf(c->skills, sizeof c->skills, "%s", val.data);
		else if (strcmp(key.data, "team") == 0)
			snprintf(c->team, sizeof c->team, "%s", val.data);
	}
	sbuf_free(&key);
	sbuf_free(&val);
}

static void login_registered(struct request *rq, PGresult *res)
{
	struct session *s = rq->s;
	struct login_ctx *c = rq->ctx;
	login_take_answer(c, res);
	s->logged_in = true;
	s->registered = true;
	s->uid = c->uid;
	s->role = c->role;
	s->tier = c->tier;
	snprintf(s->user, sizeof s->user, "%s", rq_arg(rq, "user"));
	snprintf(s->skills, sizeof s->skills, "%s", c->skills);
	snprintf(s->team, sizeof s->team, "%s", c->team);
	snprintf(s->dept, sizeof s->dept, "%s", c->dept);
	if (s->dead) {
		/* The client left while cd_session_start ran: its
		 * connection must not stay counted. */
		session_unregister(s);
		return;
	}
	/* Lines already received were sent before the answer: they keep the
	 * shorter limit of PROTOCOL §2. */
	if (!s->dead)
		s->strict_bytes = evbuffer_get_length(bufferevent_get_input(s->bev));
	session_touch(s);
	log_info("%s@%s: logged in as %s", s->user, s->peer, role_name(s->role));
}

/* With mutual TLS, the certificate's common name must be the user who
 * logs in: a stolen password alone is not enough. */
static bool certificate_matches(struct request *rq)
{
	if (rq->cfg->tls_client_ca == NULL || rq->s->dead)
		return true;
	SSL *ssl = bufferevent_openssl_get_ssl(rq->s->bev);
	X509 *cert = ssl != NULL ? SSL_get1_peer_certificate(ssl) : NULL;
	char cn[256] = "";
	if (cert != NULL)
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
					  NID_commonName, cn, sizeof cn);
	X509_free(cert);
	return strcmp(cn, rq_arg(rq, "user")) == 0;
}

static void login_verified(void *arg, bool ok, char *encoded)
{
	struct request *rq = arg;
	struct login_ctx *c = rq->ctx;
	free(encoded);
	if (!ok || !c->found || !c->enabled || !certificate_matches(rq)) {
		login_fail(rq);
		return;
	}
	throttle_success(rq->srv->throttle, rq_arg(rq, "user"), c->addr);
	events_tell_login(rq->srv, rq_arg(rq, "user"), c->addr, true, NULL,
			  NULL);
	rq->nparams = 0;
	rq_param_int(rq, c->uid);
	rq_param(rq, rq->srv->node);
	rq_param(rq, rq->cfg->currency);
	rq->on_ok = login_registered;
	rq_run(rq, "SELECT * FROM cd_session_start($1, $2, $3)");
}

static void login_user_read(void *arg, const struct db_result *r)
{
	struct request *rq = arg;
	struct login_ctx *c = rq->ctx;
	const char *hash = NULL;
	if (r->status != DB_OK) {
		rq_fail_db(rq, r, false);
		return;
	}
	if (PQntuples(r->res) == 1) {
		c->found = true;
		c->uid = strtoll(PQgetvalue(r->res, 0, 0), NULL, 10);
		c->role = role_from_name(PQgetvalue(r->res, 0, 1));
		c->tier = (int)strtol(PQgetvalue(r->res, 0, 2), NULL, 10);
		snprintf(c->skills, sizeof c->skills, "%s", PQgetvalue(r->res, 0, 3));
		snprintf(c->team, sizeof c->team, "%s", PQgetvalue(r->res, 0, 4));
		snprintf(c->dept, sizeof c->dept, "%s", PQgetvalue(r->res, 0, 5));
		c->enabled = strcmp(PQgetvalue(r->res, 0, 6), "t") == 0;
		hash = PQgetvalue(r->res, 0, 7);
	}
	if (!hasher_verify(rq->srv->hasher, hash, rq_arg(rq, "password"),
			   login_verified, rq))
		rq_fail(rq, CD_INTERNAL, "out of memory");
}

void cmd_login(struct request *rq)
{
	struct session *s = rq->s;
	if (s->logged_in) {
		rq_fail(rq, CD_INVALID_STATE, "already logged in");
		return;
	}
	struct login_ctx *c = calloc(1, sizeof *c);
	if (c == NULL) {
		rq_fail(rq, CD_INTERNAL, "out of memory");
		return;
	}
	rq->ctx = c;
	peer_host(s->peer, c->addr, sizeof c->addr);
	int wait = throttle_locked(rq->srv->throttle, rq_arg(rq, "user"),
				   c->addr, time(NULL));
	if (wait > 0) {
		char extra[32];
		snprintf(extra, sizeof extra, " retry_after=%d", wait);
		proto_put_error(&rq->out, rq->pr.tag, CD_TOO_MANY_ATTEMPTS,
				"too many failed logins", false, extra);
		rq_finish(rq);
		return;
	}
	rq_param(rq, rq_arg(rq, "user"));
	db_exec(rq->srv->db,
		"SELECT id, role, tier, array_to_string(skills, ','), "
		"coalesce(team, ''), coalesce(dept, ''), enabled, pw_hash "
		"FROM users WHERE name = $1",
		rq->nparams, rq->params, login_user_read, rq);
}

void cmd_ping(struct request *rq)
{
	rq_line(rq, "OK");
	rq_end_line(rq);
	rq_finish(rq);
}

void cmd_logout(struct request *rq)
{
	rq_line(rq, "OK");
	rq_end_line(rq);
	rq->bye_after = CD_BYE_LOGOUT;
	rq_finish(rq);
}

/* ---- PASSWORD: check the old one, hash the new one, store it --------- */

static void password_hashed(void *arg, bool ok, char *encoded)
{
	struct request *rq = arg;
	if (!ok || encoded == NULL) {
		free(encoded);
		rq_fail(rq, CD_INTERNAL, "cannot hash the password");
		return;
	}
	rq->nparams = 0;
	rq_param_caller(rq);
	rq_param(rq, encoded);
	free(encoded);
	rq_run(rq, "SELECT * FROM cd_password_set($1, $2, $3)");
}

static void password_verified(void *arg, bool ok, char *encoded)
{
	struct request *rq = arg;
	free(encoded);
	if (!ok) {
		rq_fail(rq, CD_AUTH_FAILED, "the old password is wrong");
		return;
	}
	if (!hasher_hash(rq->srv->hasher, rq_arg(rq, "new"), password_hashed, rq))
		rq_fail(rq, CD_INTERNAL, "out of memory");
}

static void password_read(void *arg, const struct db_result *r)
{
	struct request *rq = arg;
	if (r->status != DB_OK) {
		rq_fail_db(rq, r, false);
		return;
	}
	const char *hash = PQntuples(r->res) == 1 ? PQgetvalue(r->res, 0, 0) : NULL;
	if (!hasher_verify(rq->srv->hasher, hash, rq_arg(rq, "old"),
			   password_verified, rq))
		rq_fail(rq, CD_INTERNAL, "out of memory");
}

static void password_start(struct request *rq)
{
	rq->nparams = 0;
	rq_param(rq, rq_uid(rq));
	db_exec(rq->srv->db, "SELECT pw_hash FROM users WHERE id = $1",
		rq->nparams, rq->params, password_read, rq);
}

/* A retry of a committed change must replay its answer, not fail on an
 * old password that is no longer the current one. */
void cmd_password(struct request *rq)
{
	rq_idem_peek(rq, password_start);
}

/* ---- STATE ----------------------------------------------------------- */

/* ---- RELOAD ---------------------------------------------------------- */

void cmd_reload(struct request *rq)
{
	char err[400];
	if (server_reload(rq->srv, err, sizeof err) != 0) {
		rq_fail(rq, CD_INVALID_CONFIG, err);
		return;
	}
	/* Every other node rereads its files too (events.c). */
	events_tell_reload(rq->srv);
	rq_line(rq, "OK");
	rq_kv_int(rq, "rules", (long long)rq->srv->cfg->catalog.nrules);
	rq_end_line(rq);
	rq_finish(rq);
}

/* ---- HELP: the verbs of the command table the caller may use ---------- */

void cmd_help(struct request *rq)
{
	size_t n, count = 0;
	const struct command *t = commands_table(&n);
	for (size_t i = 0; i < n; i++) {
		bool allowed = rq->s->role == ROLE_INTEGRATION
				       ? (t[i].flags & CMD_INTEGRATION) != 0
				       : rq->s->role >= t[i].min_role;
		if (!allowed)
			continue;
		rq_line(rq, "ROW");
		rq_kv(rq, "verb", t[i].verb);
		rq_kv(rq, "sub", t[i].sub != NULL ? t[i].sub : "");
		struct sbuf args = { 0 };
		for (const struct arg_spec *a = t[i].args; a->key != NULL; a++) {
			if (args.len > 0)
				sbuf_add(&args, ",", 1);
			sbuf_adds(&args, a->key);
			if (!a->required)
				sbuf_add(&args, "?", 1);
		}
		rq_kv(rq, "args", args.data != NULL ? args.data : "");
		sbuf_free(&args);
		rq_end_line(rq);
		count++;
	}
	rq_line(rq, "OK");
	rq_kv_int(rq, "count", (long long)count);
	rq_end_line(rq);
	rq_finish(rq);
}
