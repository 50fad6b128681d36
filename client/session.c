/* session.c: the protocol session seen from the client: greeting, login,
 * tagged requests, the answer's rows, pushes in between, reconnection. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#define GREETING_TIMEOUT_MS 30000
#define LOGIN_TIMEOUT_MS 30000

/* ---- responses ------------------------------------------------------- */

void response_clear(struct response *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nrows; i++)
		proto_request_clear(&r->rows[i]);
	free(r->rows);
	proto_request_clear(&r->final);
	sbuf_free(&r->raw);
	memset(r, 0, sizeof *r);
}

bool response_is(const struct response *r, const char *word)
{
	return strcmp(r->final.verb, word) == 0;
}

static bool add_row(struct response *r, struct proto_request *row)
{
	if (r->nrows == r->cap) {
		size_t cap = r->cap == 0 ? 16 : 2 * r->cap;
		struct proto_request *rows = realloc(r->rows, cap * sizeof *rows);
		if (rows == NULL)
			return false;
		r->rows = rows;
		r->cap = cap;
	}
	/* The row's pointers lead into its own store: moving the struct
	 * moves the ownership. */
	r->rows[r->nrows++] = *row;
	memset(row, 0, sizeof *row);
	return true;
}

/* ---- small helpers --------------------------------------------------- */

static void copy_field(char *dst, size_t size, const struct proto_request *r,
		       const char *key)
{
	const char *v = proto_get(r, key);

	if (v != NULL)
		snprintf(dst, size, "%s", v);
}

static void set_error(struct session *s, const char *what, const char *why)
{
	snprintf(s->error, sizeof s->error, "%s%s%s", what,
		 why != NULL ? ": " : "", why != NULL ? why : "");
}

bool session_connected(const struct session *s)
{
	return s->conn != NULL;
}

int session_fd(const struct session *s)
{
	return s->conn != NULL ? conn_fd(s->conn) : -1;
}

void session_disconnect(struct session *s)
{
	conn_close(&s->conn);
	s->state[0] = '\0';
	s->activity[0] = '\0';
}

/* A push: remember what the session needs (the BYE code, our own agent
 * state), then hand it on. */
static void push(struct session *s, const char *line,
		 const struct proto_request *req)
{
	if (strcmp(req->verb, "BYE") == 0) {
		copy_field(s->bye, sizeof s->bye, req, "code");
	} else if (strcmp(req->verb, "EVENT") == 0) {
		const char *type = proto_get(req, "type");
		const char *user = proto_get(req, "user");
		if (type != NULL && strcmp(type, "agent") == 0 &&
		    user != NULL && strcmp(user, s->p.user) == 0) {
			copy_field(s->state, sizeof s->state, req, "state");
			copy_field(s->activity, sizeof s->activity, req,
				   "activity");
		}
	}
	if (s->p.on_push != NULL)
		s->p.on_push(s->p.push_ctx, line, req);
}

/* Why the connection ended, in words: the BYE if there was one. */
static void lost(struct session *s, const char *why)
{
	char buf[256];

	if (s->bye[0] != '\0') {
		snprintf(buf, sizeof buf, "the server ended the session (%s)",
			 s->bye);
		why = buf;
	}
	set_error(s, "connection lost", why);
	session_disconnect(s);
}

/* Reads lines up to the final line tagged tag. */
static enum session_status read_answer(struct session *s, const char *tag,
				       struct response *resp, int timeout_ms)
{
	struct sbuf line = {0};
	enum session_status st;

	for (;;) {
		enum conn_read r = conn_read_line(s->conn, &line, timeout_ms);
		if (r == CONN_TIMEOUT) {
			lost(s, "no answer in time");
			st = SESSION_DROPPED;
			break;
		}
		if (r == CONN_INTERRUPTED) {
			set_error(s, "interrupted", NULL);
			session_disconnect(s);
			st = SESSION_INTERRUPTED;
			break;
		}
		if (r == CONN_CLOSED) {
			lost(s, conn_error(s->conn));
			st = SESSION_DROPPED;
			break;
		}
		if (line.len == 0)
			continue;

		struct proto_request req = {0};
		const char *err = NULL;
		enum cd_code rc = proto_parse(line.data, line.len,
					      PROTO_PARSE_RESPONSE, &req, &err);
		if (rc != CD_OK) {
			/* Not a line we can read: skip it, say so once. */
			fprintf(stderr, "calldesk: unreadable line from the "
					"server (%s)\n", err != NULL ? err : "?");
		} else if (strcmp(req.tag, "*") == 0) {
			push(s, line.data, &req);
		} else if (strcmp(req.tag, tag) == 0) {
			sbuf_add(&resp->raw, line.data, line.len);
			sbuf_adds(&resp->raw, "\n");
			if (strcmp(req.verb, "ROW") == 0) {
				if (!add_row(resp, &req)) {
					proto_request_clear(&req);
					set_error(s, "out of memory", NULL);
					session_disconnect(s);
					st = SESSION_DROPPED;
					break;
				}
			} else if (strcmp(req.verb, "OK") == 0 ||
				   strcmp(req.verb, "NO") == 0 ||
				   strcmp(req.verb, "BAD") == 0 ||
				   strcmp(req.verb, "ERR") == 0) {
				snprintf(resp->tag, sizeof resp->tag, "%s", tag);
				resp->final = req;
				st = SESSION_DONE;
				break;
			}
		}
		/* Answers to other tags (none: we do not pipeline) and
		 * words this client does not know are skipped. */
		proto_request_clear(&req);
	}
	sbuf_free(&line);
	return st;
}

/* ---- connecting and logging in --------------------------------------- */

bool session_init(struct session *s, const struct session_params *p)
{
	memset(s, 0, sizeof *s);
	s->p = *p;
	s->ctx = conn_ctx_new(&p->conn, s->error, sizeof s->error);
	return s->ctx != NULL;
}

void session_free(struct session *s)
{
	session_disconnect(s);
	SSL_CTX_free(s->ctx);
	s->ctx = NULL;
}

static void next_tag(struct session *s, char tag[PROTO_TAG_MAX + 1])
{
	snprintf(tag, PROTO_TAG_MAX + 1, "c%lu", ++s->seq);
}

/* "* HELLO proto=1 server=..." */
static bool greeting(struct session *s)
{
	struct sbuf line = {0};
	struct proto_request req = {0};
	bool ok = false;

	enum conn_read r;
	do
		r = conn_read_line(s->conn, &line, GREETING_TIMEOUT_MS);
	while (r == CONN_LINE && line.len == 0);
	if (r != CONN_LINE) {
		set_error(s, "no greeting from the server",
			  r == CONN_TIMEOUT ? "timed out" :
			  r == CONN_INTERRUPTED ? "interrupted" :
			  conn_error(s->conn));
	} else if (proto_parse(line.data, line.len, PROTO_PARSE_RESPONSE, &req,
			       NULL) != CD_OK || strcmp(req.tag, "*") != 0) {
		set_error(s, "not a calldesk server", "unexpected greeting");
	} else if (strcmp(req.verb, "BYE") == 0) {
		const char *code = proto_get(&req, "code");
		set_error(s, "the server refused the connection",
			  code != NULL ? code : "no reason given");
	} else if (strcmp(req.verb, "HELLO") != 0) {
		set_error(s, "not a calldesk server", "unexpected greeting");
	} else if (proto_get(&req, "proto") == NULL ||
		   strcmp(proto_get(&req, "proto"), "1") != 0) {
		set_error(s, "the server speaks another protocol version",
			  proto_get(&req, "proto"));
	} else {
		ok = true;
	}
	proto_request_clear(&req);
	sbuf_free(&line);
	return ok;
}

/* The login's refusal, in words: "auth-failed: wrong user or password". */
static void login_refused(struct session *s, const struct response *resp)
{
	const char *code = proto_get(&resp->final, "code");
	const char *msg = proto_get(&resp->final, "msg");
	const char *after = proto_get(&resp->final, "retry_after");
	char why[300];

	snprintf(s->login_code, sizeof s->login_code, "%s",
		 code != NULL ? code : "");
	snprintf(why, sizeof why, "%s [%s]",
		 msg != NULL && msg[0] != '\0' ? msg : "refused",
		 code != NULL ? code : "?");
	if (after != NULL) {
		size_t n = strlen(why);
		snprintf(why + n, sizeof why - n, "; try again in %s s", after);
	}
	set_error(s, "login failed", why);
	/* A wrong password stays wrong; a busy database may recover. */
	s->login_refused = !response_is(resp, "ERR");
}

static enum session_status login(struct session *s)
{
	char tag[PROTO_TAG_MAX + 1];
	struct sbuf line = {0};
	struct response resp = {0};

	next_tag(s, tag);
	sbuf_adds(&line, tag);
	sbuf_adds(&line, " LOGIN");
	proto_put_kv(&line, "user", s->p.user);
	proto_put_kv(&line, "password", s->p.password);
	sbuf_adds(&line, "\n");
	bool sent = !sbuf_failed(&line) &&
		    conn_write(s->conn, line.data, line.len);
	/* The line held the password. */
	if (line.data != NULL)
		OPENSSL_cleanse(line.data, line.cap);
	sbuf_free(&line);
	if (!sent) {
		lost(s, conn_error(s->conn));
		return SESSION_NO_CONNECTION;
	}

	enum session_status st = read_answer(s, tag, &resp, LOGIN_TIMEOUT_MS);
	if (st != SESSION_DONE) {
		response_clear(&resp);
		return SESSION_NO_CONNECTION;
	}
	if (!response_is(&resp, "OK")) {
		login_refused(s, &resp);
		response_clear(&resp);
		session_disconnect(s);
		return SESSION_NO_CONNECTION;
	}
	copy_field(s->role, sizeof s->role, &resp.final, "role");
	copy_field(s->skills, sizeof s->skills, &resp.final, "skills");
	copy_field(s->currency, sizeof s->currency, &resp.final, "currency");
	s->queues_known = false;
	s->waiting = -1;
	response_clear(&resp);
	return SESSION_DONE;
}

static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p != '\0';) {
		size_t len = strcspn(p, ",");
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len + (p[len] == ',' ? 1 : 0);
	}
	return false;
}

static void add_queue(struct session *s, const char *q)
{
	size_t len = strlen(s->my_queues);
	if (in_list(s->my_queues, q) || len + strlen(q) + 2 > sizeof s->my_queues)
		return;
	snprintf(s->my_queues + len, sizeof s->my_queues - len, "%s%s",
		 len > 0 ? "," : "", q);
}

/* The queues the user's skills cover, from CATEGORY LIST. */
static void learn_queues(struct session *s)
{
	struct response resp = {0};
	s->my_queues[0] = '\0';
	if (session_request(s, "CATEGORY LIST", &resp) == SESSION_DONE &&
	    response_is(&resp, "OK")) {
		for (size_t i = 0; i < resp.nrows; i++) {
			const char *cat = proto_get(&resp.rows[i], "category");
			const char *q = proto_get(&resp.rows[i], "queue");
			if (cat == NULL || q == NULL)
				continue;
			if (in_list(s->skills, cat) || in_list(s->skills, q))
				add_queue(s, q);
		}
		s->queues_known = true;
	}
	response_clear(&resp);
}

/* QUEUE LIST, quietly: complaints waiting in the user's queues. */
static void refresh_waiting(struct session *s)
{
	struct response resp = {0};
	if (!s->queues_known)
		learn_queues(s);
	if (!s->queues_known || s->my_queues[0] == '\0') {
		s->waiting = -1;
		return;
	}
	if (session_request(s, "QUEUE LIST", &resp) == SESSION_DONE &&
	    response_is(&resp, "OK")) {
		long total = 0;
		for (size_t i = 0; i < resp.nrows; i++) {
			const char *q = proto_get(&resp.rows[i], "queue");
			const char *w = proto_get(&resp.rows[i], "waiting");
			if (q != NULL && w != NULL && in_list(s->my_queues, q))
				total += strtol(w, NULL, 10);
		}
		s->waiting = total;
	}
	response_clear(&resp);
}

/* STATE, quietly, for the prompt. */
static void refresh_state(struct session *s)
{
	struct response resp = {0};

	if (session_request(s, "STATE", &resp) == SESSION_DONE &&
	    response_is(&resp, "OK")) {
		copy_field(s->state, sizeof s->state, &resp.final, "state");
		copy_field(s->activity, sizeof s->activity, &resp.final,
			   "activity");
	}
	response_clear(&resp);
	refresh_waiting(s);
}

enum session_status session_connect(struct session *s)
{
	char err[sizeof s->error];

	if (s->conn != NULL)
		return SESSION_DONE;
	if (s->login_refused)
		return SESSION_NO_CONNECTION;
	s->bye[0] = '\0';
	s->conn = conn_open(s->ctx, &s->p.conn, s->p.interrupt, err, sizeof err);
	if (s->conn == NULL) {
		set_error(s, err, NULL);
		return SESSION_NO_CONNECTION;
	}
	if (!greeting(s)) {
		session_disconnect(s);
		return SESSION_NO_CONNECTION;
	}
	enum session_status st = login(s);
	if (st != SESSION_DONE)
		return st;
	s->ever_connected = true;
	if (s->p.track_state && strcmp(s->role, "integration") != 0)
		refresh_state(s);
	return s->conn != NULL ? SESSION_DONE : SESSION_NO_CONNECTION;
}

/* ---- requests -------------------------------------------------------- */

bool session_poll(struct session *s)
{
	struct sbuf line = {0};
	bool open = true;

	while (s->conn != NULL) {
		enum conn_read r = conn_read_line(s->conn, &line, 0);
		if (r == CONN_TIMEOUT || r == CONN_INTERRUPTED)
			break;
		if (r == CONN_CLOSED) {
			lost(s, conn_error(s->conn));
			open = false;
			break;
		}
		struct proto_request req = {0};
		if (line.len > 0 &&
		    proto_parse(line.data, line.len, PROTO_PARSE_RESPONSE, &req,
				NULL) == CD_OK && strcmp(req.tag, "*") == 0)
			push(s, line.data, &req);
		proto_request_clear(&req);
	}
	sbuf_free(&line);
	return open && s->conn != NULL;
}

/* Verb and subverb of a body, to follow the agent's own state. */
static bool body_is(const char *body, const char *verb, const char *sub)
{
	size_t n = strlen(verb);

	if (strncasecmp(body, verb, n) != 0 || (body[n] != ' ' && body[n]))
		return false;
	if (sub == NULL)
		return true;
	body += n;
	while (*body == ' ')
		body++;
	n = strlen(sub);
	return strncasecmp(body, sub, n) == 0 && (body[n] == ' ' || !body[n]);
}

enum session_status session_request(struct session *s, const char *body,
				    struct response *resp)
{
	char tag[PROTO_TAG_MAX + 1];
	struct sbuf line = {0};

	response_clear(resp);
	/* A connection that closed while we were idle is noticed here,
	 * before anything is sent on it. */
	if (s->conn != NULL)
		(void)session_poll(s);
	enum session_status st = session_connect(s);
	if (st != SESSION_DONE)
		return st;

	next_tag(s, tag);
	sbuf_printf(&line, "%s %s\n", tag, body);
	bool sent = !sbuf_failed(&line) &&
		    conn_write(s->conn, line.data, line.len);
	sbuf_free(&line);
	if (!sent) {
		lost(s, conn_error(s->conn));
		return SESSION_DROPPED;
	}
	st = read_answer(s, tag, resp, s->p.reply_timeout_ms);
	if (st != SESSION_DONE || !response_is(resp, "OK") ||
	    !s->p.track_state)
		return st;

	if (body_is(body, "STATE", NULL)) {
		copy_field(s->state, sizeof s->state, &resp->final, "state");
		copy_field(s->activity, sizeof s->activity, &resp->final,
			   "activity");
	} else if (body_is(body, "INTERACTION", "START") ||
		   body_is(body, "INTERACTION", "END")) {
		/* The activity changed; STATE says to what. */
		struct response quiet = {0};
		if (session_request(s, "STATE", &quiet) == SESSION_DONE &&
		    response_is(&quiet, "OK")) {
			copy_field(s->state, sizeof s->state, &quiet.final,
				   "state");
			copy_field(s->activity, sizeof s->activity,
				   &quiet.final, "activity");
		}
		response_clear(&quiet);
	}
	/* Whatever the command was, the prompt's waiting count may have
	 * moved (not for the quiet requests that compute it). */
	if (!body_is(body, "QUEUE", "LIST") && !body_is(body, "CATEGORY", "LIST") &&
	    !body_is(body, "STATE", NULL))
		refresh_waiting(s);
	return st;
}
