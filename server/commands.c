/* commands.c: the request pipeline: parse, look the verb up in the table,
 * check login, role and arguments once for every verb, normalise values,
 * then run the handler. Also the runner that sends a handler's statement
 * to PostgreSQL (inside an idempotency-key transaction when the request
 * carries idem=) and renders the rows it returns. */
#include "commands.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "db.h"
#include "handlers.h"
#include "hasher.h"
#include "log.h"
#include "metrics.h"
#include "pan.h"
#include "pgarray.h"
#include "server.h"
#include "values.h"

#define TEXT_MAX_DEFAULT 4000

/* ---- request lifetime ------------------------------------------------ */

void request_free(struct request **rqp)
{
	struct request *rq = rqp != NULL ? *rqp : NULL;
	if (rq == NULL)
		return;
	proto_request_clear(&rq->pr);
	for (int i = 0; i < RQ_MAX_PARAMS; i++)
		free(rq->owned[i]);
	sbuf_free(&rq->out);
	sbuf_free(&rq->body);
	free(rq->ctx);
	free(rq->sql_buf);
	free(rq);
	*rqp = NULL;
}

const struct sbuf *request_output(const struct request *rq)
{
	return &rq->out;
}

enum cd_code request_bye_after(const struct request *rq)
{
	return rq->bye_after;
}

void rq_finish(struct request *rq)
{
	if (rq->conn != NULL)
		db_release(&rq->conn);
	metrics_answer(rq->srv->metrics, rq->cmd != NULL ? rq->cmd->verb : NULL,
		       rq->cmd != NULL ? rq->cmd->sub : NULL, rq->out.data,
		       rq->out.len, metrics_now() - rq->started);
	session_request_done(rq->s, rq);
}

/* ---- building answers ------------------------------------------------ */

void rq_line(struct request *rq, const char *word)
{
	proto_put_start(&rq->out, rq->pr.tag[0] ? rq->pr.tag : "*", word);
	sbuf_adds(&rq->body, word);
}

void rq_kv(struct request *rq, const char *key, const char *value)
{
	proto_put_kv(&rq->out, key, value != NULL ? value : "");
	proto_put_kv(&rq->body, key, value != NULL ? value : "");
}

void rq_kv_int(struct request *rq, const char *key, long long value)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%lld", value);
	rq_kv(rq, key, buf);
}

void rq_end_line(struct request *rq)
{
	sbuf_add(&rq->out, "\n", 1);
	sbuf_add(&rq->body, "\n", 1);
}

void rq_fail(struct request *rq, enum cd_code code, const char *msg)
{
	const char *tag = rq->pr.tag[0] ? rq->pr.tag : "*";
	bool retry = code == CD_DB_UNAVAILABLE || code == CD_OVERLOADED;
	sbuf_reset(&rq->out);
	sbuf_reset(&rq->body);
	proto_put_error(&rq->out, tag, code, msg, retry, NULL);
	rq->ok = false;
	rq_finish(rq);
}

const char *rq_uid(struct request *rq)
{
	snprintf(rq->uidbuf, sizeof rq->uidbuf, "%lld",
		 rq->s->logged_in ? (long long)rq->s->uid : 0LL);
	return rq->uidbuf;
}

void rq_param(struct request *rq, const char *value)
{
	if (rq->nparams >= RQ_MAX_PARAMS) {
		log_error("too many parameters for %s", rq->cmd->verb);
		return;
	}
	int i = rq->nparams++;
	free(rq->owned[i]);
	rq->owned[i] = NULL;
	if (value != NULL) {
		rq->owned[i] = strdup(value);
		if (rq->owned[i] == NULL)
			log_error("out of memory copying a parameter");
	}
	rq->params[i] = rq->owned[i];
}

void rq_param_int(struct request *rq, long long value)
{
	char buf[24];
	snprintf(buf, sizeof buf, "%lld", value);
	rq_param(rq, buf);
}

void rq_param_caller(struct request *rq)
{
	rq_param(rq, rq_uid(rq));
	rq_param(rq, role_name(rq->s->role));
}

/* ---- rendering rows -------------------------------------------------- */

/* Renders rows of (kind text, kv text[]) as protocol lines. Returns false
 * when the result has no rows or the wrong shape. */
static bool render_rows(struct request *rq, PGresult *res)
{
	int n = PQntuples(res);
	if (n == 0 || PQnfields(res) < 2)
		return false;
	struct sbuf key = { 0 }, val = { 0 };
	for (int i = 0; i < n; i++) {
		const char *kind = PQgetvalue(res, i, 0);
		const char *p = PQgetvalue(res, i, 1);
		bool null;
		bool event = strcmp(kind, "EVENT") == 0;
		if (event) /* a push that belongs after the answer (WATCH) */
			proto_put_start(&rq->out, "*", kind);
		else
			rq_line(rq, kind);
		while (pgarray_next(&p, &key, &null)) {
			if (!pgarray_next(&p, &val, &null))
				break;
			if (event)
				proto_put_kv(&rq->out, key.data, val.data);
			else
				rq_kv(rq, key.data, val.data);
		}
		if (strcmp(kind, "ERR") == 0)
			rq_kv(rq, "retry", "no");
		if (event) {
			sbuf_add(&rq->out, "\n", 1);
			continue;
		}
		rq->ok = strcmp(kind, "OK") == 0;
		/* Tell the agent when card numbers were masked. */
		if (rq->ok && i == n - 1 && rq->masked > 0)
			rq_kv_int(rq, "masked", rq->masked);
		rq_end_line(rq);
	}
	sbuf_free(&key);
	sbuf_free(&val);
	return !sbuf_failed(&rq->out);
}

void rq_fail_db(struct request *rq, const struct db_result *r, bool sent)
{
	bool write = (rq->cmd->flags & CMD_WRITE) != 0;
	switch (r->status) {
	case DB_UNAVAILABLE:
		rq_fail(rq, CD_DB_UNAVAILABLE, "database unavailable");
		return;
	case DB_LOST:
		if (write && sent && !rq->has_idem) {
			rq_fail(rq, CD_OUTCOME_UNKNOWN,
				"database connection lost; the change may or may not be stored");
			return;
		}
		rq_fail(rq, CD_DB_UNAVAILABLE, "database connection lost");
		return;
	case DB_SQL_ERROR:
		if (strncmp(r->sqlstate, "08", 2) == 0 ||
		    strcmp(r->sqlstate, "57014") == 0 ||
		    strcmp(r->sqlstate, "40001") == 0 ||
		    strcmp(r->sqlstate, "40P01") == 0 ||
		    strncmp(r->sqlstate, "57P", 3) == 0) {
			/* Rolled back whole: the same request may be sent
			 * again. */
			rq_fail(rq, CD_DB_UNAVAILABLE, "database busy or unavailable");
			return;
		}
		log_error("%s %s: SQL error %s: %s", rq->cmd->verb,
			  rq->cmd->sub ? rq->cmd->sub : "", r->sqlstate,
			  r->message);
		rq_fail(rq, CD_INTERNAL, "internal error");
		return;
	case DB_OK:
		break;
	}
	rq_fail(rq, CD_INTERNAL, "internal error");
}

/* A statement answers RETRY when the facts a decision was made on moved
 * before it could act: the handler decides again (a few times at most). */
#define RQ_MAX_RETRIES 64

static bool is_retry(PGresult *res)
{
	return PQntuples(res) >= 1 && strcmp(PQgetvalue(res, 0, 0), "RETRY") == 0;
}

static bool wants_retry(struct request *rq, PGresult *res)
{
	return rq->retry_fn != NULL && is_retry(res) &&
	       rq->retries < RQ_MAX_RETRIES;
}

/* Still moving after every retry: nothing was changed, say so. */
static const char contention_msg[] =
	"too many concurrent changes to the same budget; nothing was changed";

static void rq_restart(struct request *rq)
{
	rq->retries++;
	rq->nparams = 0;
	rq->ok = false;
	sbuf_reset(&rq->out);
	sbuf_reset(&rq->body);
	rq->retry_fn(rq);
}

static void finish_rendered(struct request *rq, PGresult *res)
{
	if (wants_retry(rq, res)) {
		rq_restart(rq);
		return;
	}
	if (is_retry(res)) {
		rq_fail(rq, CD_DB_UNAVAILABLE, contention_msg);
		return;
	}
	if (!render_rows(rq, res)) {
		log_error("%s: statement returned no answer", rq->cmd->verb);
		rq_fail(rq, CD_INTERNAL, "internal error");
		return;
	}
	if (rq->ok && rq->on_ok != NULL)
		rq->on_ok(rq, res);
	rq_finish(rq);
}

/* ---- running statements ---------------------------------------------- */

static void single_done(void *arg, const struct db_result *r)
{
	struct request *rq = arg;
	if (r->status != DB_OK) {
		rq_fail_db(rq, r, true);
		return;
	}
	finish_rendered(rq, r->res);
}

/* An idempotent write runs as:
 *   BEGIN; claim the key; [the statement; store its OK answer]; COMMIT
 * The claim waits for another transaction holding the same key, then
 * says whether to replay a stored answer, refuse a different request, or
 * go on. Only OK answers are stored; anything else rolls back. */
enum idem_step {
	IDEM_BEGIN = 1,
	IDEM_CLAIM,
	IDEM_RUN,
	IDEM_STORE,
	IDEM_COMMIT,
	IDEM_ROLLBACK,
	IDEM_RELEASE,       /* a NO: forget the key, commit what it records */
	IDEM_RETRY,         /* rolled back to decide again */
	IDEM_FAILED,        /* rolled back after an SQL error */
};

static void idem_next(void *arg, const struct db_result *r);

static void idem_query(struct request *rq, enum idem_step step,
		       const char *sql, int n, const char *const *params)
{
	rq->step = step;
	db_query(rq->conn, sql, n, params, idem_next, rq);
}

static void idem_rollback(struct request *rq)
{
	idem_query(rq, IDEM_ROLLBACK, "ROLLBACK", 0, NULL);
}

/* Sends a stored answer again under this request's tag. */
static void idem_replay(struct request *rq, const char *body)
{
	const char *tag = rq->pr.tag;
	const char *p = body;
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t n = eol != NULL ? (size_t)(eol - p) : strlen(p);
		sbuf_adds(&rq->out, tag);
		sbuf_add(&rq->out, " ", 1);
		sbuf_add(&rq->out, p, n);
		sbuf_add(&rq->out, "\n", 1);
		p += n + (eol != NULL ? 1 : 0);
	}
	rq->ok = true;
}

static void idem_claimed(struct request *rq, PGresult *res)
{
	const char *status = PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "";
	if (strcmp(status, "new") == 0) {
		idem_query(rq, IDEM_RUN, rq->sql, rq->nparams, rq->params);
		return;
	}
	if (strcmp(status, "replay") == 0) {
		idem_replay(rq, PQgetvalue(res, 0, 1));
	} else {
		proto_put_error(&rq->out, rq->pr.tag, CD_IDEM_CONFLICT,
				"this idempotency key was used for another request",
				false, NULL);
	}
	idem_rollback(rq);
}

static void idem_ran(struct request *rq, PGresult *res)
{
	if (wants_retry(rq, res)) {
		idem_query(rq, IDEM_RETRY, "ROLLBACK", 0, NULL);
		return;
	}
	if (is_retry(res)) {
		sbuf_reset(&rq->out);
		proto_put_error(&rq->out, rq->pr.tag, CD_DB_UNAVAILABLE,
				contention_msg, true, NULL);
		rq->ok = false;
		idem_rollback(rq);
		return;
	}
	if (!render_rows(rq, res)) {
		sbuf_reset(&rq->out);
		proto_put_error(&rq->out, rq->pr.tag, CD_INTERNAL,
				"internal error", false, NULL);
		rq->ok = false;
		idem_rollback(rq);
		return;
	}
	if (!rq->ok) {
		/* Only OK answers are stored; what a NO records (a denial in
		 * the audit trail) is committed all the same. */
		const char *params[2] = { rq_uid(rq), rq->idem };
		idem_query(rq, IDEM_RELEASE, "SELECT cd_idem_release($1, $2)", 2,
			   params);
		return;
	}
	/* on_ok runs once the change is committed (IDEM_COMMIT). */
	const char *params[3] = { rq_uid(rq), rq->idem, rq->body.data };
	idem_query(rq, IDEM_STORE, "SELECT cd_idem_store($1, $2, $3)", 3,
		   params);
}

static void idem_next(void *arg, const struct db_result *r)
{
	struct request *rq = arg;
	if (r->status != DB_OK) {
		if (rq->step == IDEM_ROLLBACK) {
			/* The answer is known already (nothing was stored). */
			rq_finish(rq);
			return;
		}
		if (r->status == DB_SQL_ERROR && rq->step != IDEM_COMMIT &&
		    rq->step != IDEM_FAILED) {
			/* The transaction is aborted: roll back, then answer
			 * with the error. */
			rq->failed = *r;
			snprintf(rq->failed_state, sizeof rq->failed_state, "%s",
				 r->sqlstate);
			rq->failed.sqlstate = rq->failed_state;
			rq->failed.res = NULL;
			rq->failed.message = "statement failed";
			log_error("%s: SQL error %s: %s", rq->cmd->verb, r->sqlstate,
				  r->message);
			idem_query(rq, IDEM_FAILED, "ROLLBACK", 0, NULL);
			return;
		}
		db_release(&rq->conn);
		/* With a key, a lost COMMIT is safe to retry. */
		rq_fail_db(rq, r, rq->step >= IDEM_RUN);
		return;
	}
	switch ((enum idem_step)rq->step) {
	case IDEM_BEGIN: {
		const char *params[3] = { rq_uid(rq), rq->idem, rq->hash };
		idem_query(rq, IDEM_CLAIM,
			   "SELECT status, response FROM cd_idem_claim($1, $2, $3)",
			   3, params);
		break;
	}
	case IDEM_CLAIM:
		idem_claimed(rq, r->res);
		break;
	case IDEM_RUN:
		idem_ran(rq, r->res);
		break;
	case IDEM_STORE:
		idem_query(rq, IDEM_COMMIT, "COMMIT", 0, NULL);
		break;
	case IDEM_RELEASE:
		idem_query(rq, IDEM_COMMIT, "COMMIT", 0, NULL);
		break;
	case IDEM_RETRY:
		db_release(&rq->conn);
		rq_restart(rq);
		break;
	case IDEM_COMMIT:
		/* A COMMIT in a failed transaction answers ROLLBACK without
		 * an error: only "COMMIT" means the change is stored. */
		if (rq->ok && strcmp(PQcmdStatus(r->res), "COMMIT") != 0) {
			sbuf_reset(&rq->out);
			proto_put_error(&rq->out, rq->pr.tag, CD_DB_UNAVAILABLE,
					"transaction rolled back", true, NULL);
		} else if (rq->ok && rq->on_ok != NULL) {
			/* The side effects of a stored change (sessions
			 * ended, pushes), now that it is stored. */
			rq->on_ok(rq, NULL);
		}
		rq_finish(rq);
		break;
	case IDEM_ROLLBACK:
		rq_finish(rq);
		break;
	case IDEM_FAILED:
		rq_fail_db(rq, &rq->failed, true);
		break;
	}
}

static void idem_acquired(void *arg, struct db_conn *conn)
{
	struct request *rq = arg;
	if (conn == NULL) {
		rq_fail(rq, CD_DB_UNAVAILABLE, "database unavailable");
		return;
	}
	rq->conn = conn;
	idem_query(rq, IDEM_BEGIN, "BEGIN", 0, NULL);
}

static void peeked(void *arg, const struct db_result *r)
{
	struct request *rq = arg;
	if (r->status != DB_OK) {
		rq_fail_db(rq, r, false);
		return;
	}
	const char *status = PQgetvalue(r->res, 0, 0);
	if (strcmp(status, "replay") == 0) {
		idem_replay(rq, PQgetvalue(r->res, 0, 1));
		rq_finish(rq);
	} else if (strcmp(status, "conflict") == 0) {
		rq_fail(rq, CD_IDEM_CONFLICT,
			"this idempotency key was used for another request");
	} else {
		cmd_fn *next = rq->peek_next;
		rq->peek_next = NULL;
		next(rq);
	}
}

void rq_idem_peek(struct request *rq, cmd_fn *next)
{
	if (!rq->has_idem) {
		next(rq);
		return;
	}
	rq->peek_next = next;
	const char *params[3] = { rq_uid(rq), rq->idem, rq->hash };
	db_exec(rq->srv->db, "SELECT status, response FROM cd_idem_peek($1, $2, $3)",
		3, params, peeked, rq);
}

void rq_run(struct request *rq, const char *sql)
{
	rq->sql = sql;
	if ((rq->cmd->flags & CMD_WRITE) && rq->has_idem)
		db_acquire(rq->srv->db, idem_acquired, rq);
	else
		db_exec(rq->srv->db, sql, rq->nparams, rq->params, single_done,
			rq);
}

void cmd_sql(struct request *rq)
{
	const struct arg_spec *a = rq->cmd->args;
	char sql[256];
	size_t off = (size_t)snprintf(sql, sizeof sql, "SELECT * FROM %s($1, $2",
				      rq->cmd->sql);
	rq_param_caller(rq);
	for (size_t i = 0; a[i].key != NULL && off < sizeof sql; i++) {
		rq_param(rq, rq->val[i]);
		off += (size_t)snprintf(sql + off, sizeof sql - off, ", $%d",
					rq->nparams);
	}
	if (off < sizeof sql)
		snprintf(sql + off, sizeof sql - off, ")");
	/* rq_run keeps the pointer until the statement is sent or queued
	 * (db copies it), which happens before this frame returns for the
	 * single-statement path; the idempotent path keeps it longer. */
	rq->sql_buf = strdup(sql);
	if (rq->sql_buf == NULL) {
		rq_fail(rq, CD_INTERNAL, "out of memory");
		return;
	}
	rq_run(rq, rq->sql_buf);
}

/* ---- argument checks ------------------------------------------------- */

const char *rq_arg(const struct request *rq, const char *key)
{
	const struct arg_spec *a = rq->cmd->args;
	for (size_t i = 0; a != NULL && a[i].key != NULL; i++)
		if (strcmp(a[i].key, key) == 0)
			return rq->val[i];
	return NULL;
}

static const char *norm_store(struct request *rq, const char *s)
{
	size_t n = strlen(s) + 1;
	if (rq->norm_len + n > sizeof rq->norm)
		return NULL;
	char *p = rq->norm + rq->norm_len;
	memcpy(p, s, n);
	rq->norm_len += n;
	return p;
}

/* phone=+49 151 1234567: a phone number in international form, "+" and
 * at most 15 digits (E.164), with spaces, dashes, dots or brackets. A card
 * number (16 to 19 digits) typed there with a "+" is still masked. */
static bool intl_phone(const struct arg_spec *a, const char *v)
{
	size_t digits = 0;
	if (strcmp(a->key, "phone") != 0 || v[0] != '+')
		return false;
	for (const char *p = v + 1; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (strchr(" -.()", *p) == NULL)
			return false;
	}
	return digits >= 8 && digits <= 15;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' && *s != '\r')
			return true;
	return false;
}

/* Checks one value against its spec; sets rq->val[i] to the normalised
 * form. Returns false with a message for BAD bad-arg. */
static bool check_value(struct request *rq, size_t i, const char *v,
			size_t vlen, char *msg, size_t msglen)
{
	const struct arg_spec *a = &rq->cmd->args[i];
	char buf[64];
	int64_t n64;
	long long ll;
	bool b;
	const char *out = v;
	const char *what = NULL;

	switch (a->kind) {
	case ARG_ID:
		if (!val_id(v, &n64))
			what = "an id";
		break;
	case ARG_NAME:
		if (!val_name(v))
			what = "a name";
		break;
	case ARG_USER:
		if (strcmp(v, "me") == 0)
			out = rq->s->user;
		else if (!val_name(v))
			what = "a user name or me";
		break;
	case ARG_NAMES: {
		size_t count;
		if (a->max > 0 && vlen > (size_t)a->max) {
			snprintf(msg, msglen, "%s is longer than %lld bytes",
				 a->key, a->max);
			return false;
		}
		if (!val_name_list(v, &count))
			what = "a comma-separated list of names";
		break;
	}
	case ARG_MONEY:
		if (!val_money_parse(v, rq->cfg->currency_digits, &n64)) {
			what = "an amount";
		} else {
			snprintf(buf, sizeof buf, "%lld", (long long)n64);
			out = buf;
		}
		break;
	case ARG_DECIMAL:
		if (!val_money_parse(v, 2, &n64)) {
			what = "a number with at most two decimals";
		} else {
			val_money_format(n64, 2, buf);
			out = buf;
		}
		break;
	case ARG_CURRENCY:
		if (strcmp(v, rq->cfg->currency) != 0) {
			snprintf(msg, msglen, "currency must be %s",
				 rq->cfg->currency);
			return false;
		}
		break;
	case ARG_TIME:
		if (!val_time_parse(v, &n64)) {
			what = "an RFC 3339 time";
		} else {
			val_time_format(n64, buf);
			out = buf;
		}
		break;
	case ARG_BOOL:
		if (!val_bool(v, &b))
			what = "yes or no";
		else
			out = b ? "true" : "false";
		break;
	case ARG_INT:
		if (!val_int(v, a->min, a->max, &ll)) {
			snprintf(msg, msglen, "%s must be a number from %lld to %lld",
				 a->key, a->min, a->max);
			return false;
		}
		snprintf(buf, sizeof buf, "%lld", ll);
		out = buf;
		break;
	case ARG_ENUM:
		what = "one of";
		for (const char *const *c = a->choices; *c != NULL; c++)
			if (strcmp(*c, v) == 0)
				what = NULL;
		if (what != NULL) {
			size_t off = (size_t)snprintf(msg, msglen, "%s must be one of", a->key);
			for (const char *const *c = a->choices; *c != NULL && off < msglen; c++)
				off += (size_t)snprintf(msg + off, msglen - off, " %s", *c);
			return false;
		}
		break;
	case ARG_TEXT:
	case ARG_TEXT0:
	case ARG_SECRET: {
		size_t max = a->max > 0 ? (size_t)a->max : TEXT_MAX_DEFAULT;
		if (vlen == 0 && a->kind != ARG_TEXT0)
			what = "a text that is not empty";
		else if (vlen > max) {
			snprintf(msg, msglen, "%s is longer than %zu bytes", a->key, max);
			return false;
		} else if (has_control(v)) {
			what = "text without control characters";
		}
		/* Texts stay in the parsed request's storage, which the
		 * request owns: card numbers are masked there, in place,
		 * before anything stores or logs them. A phone number in
		 * international form (+...) is a phone number, never a card
		 * number: kept as typed even when its digits pass Luhn. */
		if (a->kind != ARG_SECRET && !intl_phone(a, v)) {
			size_t n = pan_mask(v, vlen, (char *)v, vlen + 1);
			if (n != PAN_MASK_TOO_SMALL)
				rq->masked += (int)n;
		}
		rq->val[i] = v;
		break;
	}
	}
	if (what != NULL) {
		snprintf(msg, msglen, "%s must be %s", a->key, what);
		return false;
	}
	if (rq->val[i] == NULL) {
		rq->val[i] = norm_store(rq, out);
		if (rq->val[i] == NULL) {
			snprintf(msg, msglen, "arguments too long");
			return false;
		}
	}
	return true;
}

static const struct proto_arg *find_arg(const struct proto_request *pr,
					const char *key)
{
	for (size_t i = 0; i < pr->nargs; i++)
		if (strcmp(pr->args[i].key, key) == 0)
			return &pr->args[i];
	return NULL;
}

static bool spec_has(const struct arg_spec *a, const char *key)
{
	for (size_t i = 0; a != NULL && a[i].key != NULL; i++)
		if (strcmp(a[i].key, key) == 0)
			return true;
	return false;
}

static void sha256(const void *data, size_t len, unsigned char md[32])
{
	unsigned int mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	sha256(data, len, md);
	for (size_t i = 0; i < sizeof md; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* The hash that tells a retry (same verb, same normalised arguments) from
 * another request under the same key. Passwords are not in it: see
 * secret_identity. */
static void request_hash(struct request *rq)
{
	struct sbuf sb = { 0 };
	const struct arg_spec *a = rq->cmd->args;
	sbuf_printf(&sb, "%s %s\n", rq->cmd->verb, rq->cmd->sub ? rq->cmd->sub : "");
	for (size_t i = 0; a != NULL && a[i].key != NULL; i++) {
		if (rq->val[i] == NULL || a[i].kind == ARG_SECRET)
			continue;
		sbuf_printf(&sb, "%s=", a[i].key);
		sbuf_adds(&sb, rq->val[i]);
		sbuf_add(&sb, "\n", 1);
	}
	sha256_hex(sb.data, sb.len, rq->hash);
	sbuf_free(&sb);
}

/* ---- passwords in a request's identity -------------------------------------- */

/* A retry with another password under the same key must get NO
 * idem-conflict (PROTOCOL §4), so the passwords belong in the identity; but
 * the identity is stored, and a fast hash of a password would be cheap to
 * attack. They go in as an argon2id digest (hasher_digest, salted with the
 * user and the key), costing an attacker what a stored password hash does,
 * computed on a worker before the command runs. */

/* The passwords of the request ("key=value\n" each), or "" when none. */
static void secret_material(struct request *rq, struct sbuf *sb)
{
	const struct arg_spec *a = rq->cmd->args;
	for (size_t i = 0; a != NULL && a[i].key != NULL; i++) {
		if (rq->val[i] == NULL || a[i].kind != ARG_SECRET)
			continue;
		sbuf_printf(sb, "%s=", a[i].key);
		sbuf_adds(sb, rq->val[i]);
		sbuf_add(sb, "\n", 1);
	}
}

static void secret_digested(void *arg, bool ok, char *hex)
{
	struct request *rq = arg;
	if (!ok || hex == NULL) {
		free(hex);
		rq_fail(rq, CD_INTERNAL, "cannot hash the request");
		return;
	}
	struct sbuf sb = { 0 };
	sbuf_printf(&sb, "%s\n%s", rq->hash, hex);
	OPENSSL_cleanse(hex, strlen(hex));
	free(hex);
	if (sbuf_failed(&sb)) {
		sbuf_free(&sb);
		rq_fail(rq, CD_INTERNAL, "out of memory");
		return;
	}
	sha256_hex(sb.data, sb.len, rq->hash);
	sbuf_free(&sb);
	rq->cmd->run(rq);
}

/* Starts the digest when an idempotent write carries passwords; returns
 * false when there is none to make (the command runs at once). */
static bool secret_identity(struct request *rq)
{
	if (!(rq->cmd->flags & CMD_WRITE) || !rq->has_idem)
		return false;
	struct sbuf material = { 0 }, salt_src = { 0 };
	secret_material(rq, &material);
	if (material.len == 0) {
		sbuf_free(&material);
		return false;
	}
	unsigned char md[32];
	sbuf_printf(&salt_src, "calldesk idem %s %s", rq_uid(rq), rq->idem);
	sha256(salt_src.data, salt_src.len, md);
	/* the salt: the first 16 bytes */
	bool started = !sbuf_failed(&material) && !sbuf_failed(&salt_src) &&
		       hasher_digest(rq->srv->hasher, material.data, md,
				     secret_digested, rq);
	if (material.data != NULL)
		OPENSSL_cleanse(material.data, material.len);
	sbuf_free(&material);
	sbuf_free(&salt_src);
	if (!started)
		rq_fail(rq, CD_INTERNAL, "cannot hash the request");
	return true;
}

static enum cd_code check_args(struct request *rq, char *msg, size_t msglen)
{
	const struct arg_spec *a = rq->cmd->args;
	const struct proto_request *pr = &rq->pr;

	for (size_t i = 0; a != NULL && a[i].key != NULL; i++) {
		if (a[i].required && find_arg(pr, a[i].key) == NULL) {
			snprintf(msg, msglen, "missing argument %s", a[i].key);
			return CD_MISSING_ARG;
		}
	}
	if (rq->cmd->missing != NULL) {
		const char *m = rq->cmd->missing(pr);
		if (m != NULL) {
			snprintf(msg, msglen, "%s", m);
			return CD_MISSING_ARG;
		}
	}
	for (size_t i = 0; i < pr->nargs; i++) {
		const char *key = pr->args[i].key;
		if (strcmp(key, "idem") == 0) {
			if (!val_idem_key(pr->args[i].value)) {
				snprintf(msg, msglen, "idem must be 1 to 64 of A-Z a-z 0-9 . _ : -");
				return CD_BAD_ARG;
			}
			snprintf(rq->idem, sizeof rq->idem, "%s", pr->args[i].value);
			rq->has_idem = true;
		} else if (!spec_has(a, key)) {
			snprintf(msg, msglen, "unknown argument %s", key);
			return CD_BAD_ARG;
		}
	}
	for (size_t i = 0; a != NULL && a[i].key != NULL; i++) {
		const struct proto_arg *pa = find_arg(pr, a[i].key);
		if (pa != NULL && !check_value(rq, i, pa->value, pa->value_len,
					       msg, msglen))
			return CD_BAD_ARG;
	}
	request_hash(rq);
	return CD_OK;
}

/* ---- dispatch -------------------------------------------------------- */

static const struct command *find_command(const char *verb, const char *sub,
					  bool *verb_known)
{
	size_t n;
	const struct command *t = commands_table(&n);
	*verb_known = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(t[i].verb, verb) != 0)
			continue;
		*verb_known = true;
		const char *want = t[i].sub != NULL ? t[i].sub : "";
		if (strcmp(want, sub) == 0)
			return &t[i];
	}
	return NULL;
}

static bool role_allows(const struct session *s, const struct command *c)
{
	if (s->role == ROLE_INTEGRATION)
		return (c->flags & CMD_INTEGRATION) != 0;
	return s->role >= c->min_role;
}

void commands_dispatch(struct session *s, const char *line, size_t len)
{
	struct request *rq = calloc(1, sizeof *rq);
	if (rq == NULL) {
		session_bye(s, CD_BYE_OVERLOADED, "out of memory");
		return;
	}
	rq->s = s;
	rq->srv = s->srv;
	rq->cfg = s->srv->cfg;
	rq->started = metrics_now();
	const char *err = "malformed request";
	enum cd_code code = proto_parse(line, len, PROTO_PARSE_REQUEST,
					&rq->pr, &err);
	if (code == CD_EMPTY) {
		request_free(&rq);
		return;
	}
	s->cur = rq;
	s->refs++;
	if (code != CD_OK) {
		rq->cmd = NULL;
		rq_fail(rq, code, err);
		return;
	}
	bool verb_known;
	const struct command *cmd = find_command(rq->pr.verb, rq->pr.subverb,
						 &verb_known);
	if (cmd == NULL) {
		rq_fail(rq, CD_UNKNOWN_VERB,
			verb_known ? "unknown sub-verb" : "unknown verb");
		return;
	}
	rq->cmd = cmd;
	if (!s->logged_in && !(cmd->flags & CMD_PRELOGIN)) {
		rq_fail(rq, CD_AUTH_REQUIRED, "log in first");
		return;
	}
	if (s->logged_in && !role_allows(s, cmd)) {
		rq_fail(rq, CD_FORBIDDEN, "your role may not do this");
		return;
	}
	char msg[200];
	code = check_args(rq, msg, sizeof msg);
	if (code != CD_OK) {
		rq_fail(rq, code, msg);
		return;
	}
	log_debug("%s@%s: %s%s%s", s->logged_in ? s->user : "-", s->peer,
		  cmd->verb, cmd->sub ? " " : "", cmd->sub ? cmd->sub : "");
	if (!secret_identity(rq))
		cmd->run(rq);
}
