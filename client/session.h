/* session.h: one logged-in protocol session, kept alive across dropped
 * connections.
 *
 * The session opens the connection, reads the greeting, logs in, tags
 * each request (c1, c2, ...), collects the ROW lines up to the tagged
 * final line, and hands every push (* EVENT, * BYE) to a callback. When
 * the connection is gone the next request reconnects and logs in again. */
#ifndef CALLDESK_CLIENT_SESSION_H
#define CALLDESK_CLIENT_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "conn.h"
#include "proto.h"

/* One answer: the ROW lines and the final OK/NO/BAD/ERR line, parsed,
 * and the lines as received for --raw. */
struct response {
	char tag[PROTO_TAG_MAX + 1];
	struct proto_request *rows;     /* owned, nrows of them */
	size_t nrows;
	size_t cap;
	struct proto_request final;     /* ->verb: OK, NO, BAD or ERR */
	struct sbuf raw;                /* every line with its LF */
};

/* Frees what the response holds and zeroes it. Accepts NULL. */
void response_clear(struct response *r);

/* True when final is the word (OK, NO, ...). */
bool response_is(const struct response *r, const char *word);

/* Called for every push, with the line as received and parsed. */
typedef void session_push_fn(void *ctx, const char *line,
			     const struct proto_request *push);

struct session_params {
	struct conn_params conn;
	const char *user;
	const char *password;   /* kept for reconnects; not owned */
	bool track_state;       /* ask STATE after login (for a prompt) */
	int reply_timeout_ms;   /* -1: wait as long as the server takes */
	session_push_fn *on_push;
	void *push_ctx;
	volatile sig_atomic_t *interrupt; /* see conn_open(); may be NULL */
};

struct session {
	struct session_params p;
	SSL_CTX *ctx;
	struct conn *conn;      /* NULL while disconnected */
	unsigned long seq;      /* last tag number used */
	bool ever_connected;
	/* From the login answer and STATE; "" when unknown. */
	char role[16];
	char state[16];
	char activity[24];
	/* For the prompt: the user's skills (login answer), the queues they
	 * serve (skills that are queues, and the queues of skills that are
	 * categories), and how many complaints wait there; waiting is -1
	 * when unknown. */
	char skills[512];
	char currency[8];       /* the deployment's, from LOGIN; "" unknown */
	char my_queues[512];
	bool queues_known;
	long waiting;
	/* The last * BYE code, "" if none since the last connection. */
	char bye[24];
	/* The login was refused (code in login_code): reconnecting with the
	 * same password will not help. */
	bool login_refused;
	char login_code[24];
	char error[512];        /* the last failure, in words */
};

enum session_status {
	SESSION_DONE,           /* the final line came: see the response */
	SESSION_DROPPED,        /* the connection was lost (or the answer
				 * timed out) after the request was sent */
	SESSION_INTERRUPTED,    /* the wait was interrupted by the user */
	SESSION_NO_CONNECTION,  /* could not connect or log in: s->error */
};

/* Sets up the TLS context. False with s->error filled when the CA or
 * the client certificate cannot be used. */
bool session_init(struct session *s, const struct session_params *p)
	__attribute__((warn_unused_result));

/* Connects and logs in, unless connected already. */
enum session_status session_connect(struct session *s)
	__attribute__((warn_unused_result));

/* Sends "cN body" and collects the answer into resp (cleared first).
 * Connects first when needed. Pushes that arrive meanwhile go to the
 * callback. */
enum session_status session_request(struct session *s, const char *body,
				    struct response *resp)
	__attribute__((warn_unused_result));

/* Reads the pushes that have already arrived, without waiting. False
 * when the connection turned out to be closed (s->error says why). */
bool session_poll(struct session *s);

/* True while a connection is open. */
bool session_connected(const struct session *s);

/* The socket to poll for pushes, -1 when disconnected. */
int session_fd(const struct session *s);

/* Drops the connection (no LOGOUT). */
void session_disconnect(struct session *s);

/* Disconnects and frees the TLS context. */
void session_free(struct session *s);

#endif
