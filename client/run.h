/* run.h: running one request for the user: prepare it (tag-less line,
 * idem key), send it through the session, show the answer (rendered or
 * raw), and decide what a dropped connection means for it. Shared by the
 * -e, script and interactive modes. */
#ifndef CALLDESK_CLIENT_RUN_H
#define CALLDESK_CLIENT_RUN_H

#include <stdbool.h>
#include <stdio.h>

#include "proto.h"
#include "render.h"
#include "request.h"
#include "session.h"

/* Exit codes of OPERATIONS.md, worst last. */
enum run_code {
	RUN_OK = 0,             /* OK */
	RUN_REFUSED = 1,        /* NO or BAD */
	RUN_FAILED = 2,         /* ERR, failed login, no connection */
};

struct runner {
	struct session *s;
	bool raw;               /* print the lines as received */
	/* Interactive: a request cut off by a dropped connection is sent
	 * again, once, before the next command. Otherwise: at once. */
	bool interactive;
	struct render_opts ropts;
	FILE *out;              /* answers */
	FILE *events;           /* pushes shown to people (raw: out) */
	/* Set by the interactive loop while its prompt is on the screen:
	 * a push first clears the prompt line, and printed_at_prompt tells
	 * the loop to redraw it. */
	bool at_prompt;
	bool printed_at_prompt;
	size_t shown;           /* answers shown so far */
	bool quiet;             /* answers are not shown (in --raw they
				 * are: scripts see every line) */
	bool logged_out;        /* a LOGOUT was answered OK */
	bool no_connection;     /* the last request found no server */
	struct sbuf resend;     /* body of the cut-off request, or empty */
};

/* A runner over session s; call runner_free() at the end. */
void runner_init(struct runner *r, struct session *s, bool raw,
		 bool interactive);
void runner_free(struct runner *r);

/* The session's push callback (ctx is the runner). */
void run_push(void *ctx, const char *line, const struct proto_request *push);

/* Prepares line (adding idem= where needed) and runs it. Empty lines
 * return RUN_OK without sending anything. */
enum run_code run_line(struct runner *r, const char *line);

/* Runs a prepared request and shows the answer. When resp is not NULL
 * the answer is left there for the caller (who clears it); its final
 * verb is "" when no answer came. */
enum run_code run_request(struct runner *r, const struct req_prepared *req,
			  struct response *resp);

/* The exit code an answer stands for. */
enum run_code run_code_of(const struct response *resp);

/* A fresh random idempotency key. False if the random generator failed. */
bool run_idem_key(char key[REQ_IDEM_KEY_LEN + 1])
	__attribute__((warn_unused_result));

#endif
