/* commands.h: the command table and the request pipeline.
 *
 * One const table names every verb with its minimum role, flags and
 * argument spec. commands_dispatch() parses a line and applies, in the
 * protocol's order, the checks that need only the request (framing, verb,
 * login, role, arguments); the handler then runs with normalised values.
 * Handlers that need PostgreSQL build parameters and call rq_run(), which
 * takes care of idempotency keys, rendering and errors. */
#ifndef CALLDESK_COMMANDS_H
#define CALLDESK_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "codes.h"
#include "db.h"
#include "proto.h"
#include "session.h"

struct server;
struct config;
struct db_conn;

enum arg_kind {
	ARG_ID,          /* PROTOCOL §3 id */
	ARG_NAME,        /* name */
	ARG_USER,        /* user name or "me" (resolved to the caller) */
	ARG_NAMES,       /* comma-separated names, "" allowed */
	ARG_MONEY,       /* normalised to minor units */
	ARG_DECIMAL,     /* up to 8 digits and 2 decimals, as "4.20" */
	ARG_CURRENCY,    /* must equal the configured currency */
	ARG_TIME,        /* normalised to UTC RFC 3339 */
	ARG_BOOL,        /* normalised to "true" / "false" */
	ARG_INT,         /* in [min, max] */
	ARG_ENUM,        /* one of choices */
	ARG_TEXT,        /* free text, not empty */
	ARG_TEXT0,       /* free text, may be empty */
	ARG_SECRET,      /* a password: not empty, never logged */
};

struct arg_spec {
	const char *key;
	enum arg_kind kind;
	bool required;
	long long min, max;            /* ARG_INT; max length for texts */
	const char *const *choices;    /* ARG_ENUM, NULL-terminated */
};

enum {
	CMD_PRELOGIN = 1u << 0,    /* served before LOGIN */
	CMD_INTEGRATION = 1u << 1, /* open to the integration role */
	CMD_WRITE = 1u << 2,       /* changes something: idem applies */
};

struct request;
typedef void cmd_fn(struct request *rq);

struct command {
	const char *verb;
	const char *sub;               /* NULL when the verb has none */
	enum role min_role;
	unsigned flags;
	const struct arg_spec *args;   /* terminated by { NULL } */
	cmd_fn *run;
	/* Optional: what is missing beyond the spec's required keys (a
	 * money action without amount, FIND without criteria), as a
	 * message for BAD missing-arg; NULL when nothing is. */
	const char *(*missing)(const struct proto_request *pr);
	/* For cmd_sql: the function called with the caller ($1, $2) and
	 * every argument of the spec in order ($3...). */
	const char *sql;
};

#define RQ_MAX_PARAMS 32

/* Called when the final line is OK, before the answer goes out. */
typedef void rq_ok_fn(struct request *rq, PGresult *res);

struct request {
	struct session *s;
	struct server *srv;
	const struct config *cfg;      /* in force when the request came */
	const struct command *cmd;
	struct proto_request pr;
	const char *val[PROTO_MAX_ARGS];   /* by spec index; NULL if absent */
	char norm[2048];               /* normalised values */
	size_t norm_len;
	int masked;                    /* card numbers masked in texts */
	bool has_idem;
	char idem[65];
	char hash[65];                 /* sha-256 of the normalised request */
	/* the statement */
	const char *sql;
	char *sql_buf;                 /* owned, when built (cmd_sql) */
	const char *params[RQ_MAX_PARAMS];
	char *owned[RQ_MAX_PARAMS];    /* the copies params point to */
	int nparams;
	char uidbuf[24];               /* rq_uid() */
	double started;                /* metrics_now() when the line was taken */
	struct db_conn *conn;          /* held during an idempotent write */
	int step;
	rq_ok_fn *on_ok;
	cmd_fn *retry_fn;              /* decides again on RETRY */
	cmd_fn *peek_next;             /* rq_idem_peek's continuation */
	int retries;
	struct db_result failed;       /* an SQL error being rolled back */
	char failed_state[6];
	void *ctx;                     /* the handler's, freed with free() */
	/* the answer */
	struct sbuf out;               /* tagged lines, sent as a whole */
	struct sbuf body;              /* the same lines without tag */
	bool ok;                       /* the final line is OK */
	enum cd_code bye_after;        /* BYE after the answer (LOGOUT) */
};

/* Parses and runs one line (len bytes, no LF). Called by the session,
 * which has no request in flight. */
void commands_dispatch(struct session *s, const char *line, size_t len);

/* The command table, for HELP and for the client's completion list. */
const struct command *commands_table(size_t *count);

/* Frees a request (output included). Accepts NULL; clears *rq. */
void request_free(struct request **rq);
const struct sbuf *request_output(const struct request *rq);
enum cd_code request_bye_after(const struct request *rq);

/* ---- for handlers ---------------------------------------------------- */

/* Normalised value of an argument, or NULL when absent. */
const char *rq_arg(const struct request *rq, const char *key);

/* Appends a statement parameter (copied); NULL is SQL NULL. */
void rq_param(struct request *rq, const char *value);
void rq_param_int(struct request *rq, long long value);
/* Parameters every statement of a logged-in caller starts with:
 * $1 caller's user id, $2 caller's role. */
void rq_param_caller(struct request *rq);

/* Runs sql with the parameters and renders its rows (kind text, kv text[])
 * as the answer; finishes the request. */
void rq_run(struct request *rq, const char *sql);

/* For handlers that read facts before deciding: answers a request whose
 * idempotency key already holds an answer (replay or idem-conflict), and
 * otherwise calls next. Without a key, calls next at once. */
void rq_idem_peek(struct request *rq, cmd_fn *next);

/* Answers with an error line and finishes. */
void rq_fail(struct request *rq, enum cd_code code, const char *msg);
/* Starts a tagged line "TAG WORD" in the answer; add fields with
 * rq_kv(); end it with rq_end_line(). */
void rq_line(struct request *rq, const char *word);
void rq_kv(struct request *rq, const char *key, const char *value);
void rq_kv_int(struct request *rq, const char *key, long long value);
void rq_end_line(struct request *rq);
/* Sends what was built and releases the request. */
void rq_finish(struct request *rq);

/* Answers from a db failure (status not DB_OK or an SQL error). */
struct db_result;
void rq_fail_db(struct request *rq, const struct db_result *r, bool sent);

/* The handler of verbs that are one SQL function of the caller and the
 * arguments in spec order (struct command's sql). */
void cmd_sql(struct request *rq);

/* The caller's user id as text, for parameters. */
const char *rq_uid(struct request *rq);

#endif
