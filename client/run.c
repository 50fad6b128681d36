/* run.c: one request as the user sees it, from the typed line to the
 * answer on the screen, with the retry rules for lost connections: a
 * request that changes something carries an idem key, so sending it
 * again after a drop takes effect at most once. */
#include "run.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

void runner_init(struct runner *r, struct session *s, bool raw,
		 bool interactive)
{
	memset(r, 0, sizeof *r);
	r->s = s;
	r->raw = raw;
	r->interactive = interactive;
	r->out = stdout;
	r->events = raw || interactive ? stdout : stderr;
}

void runner_free(struct runner *r)
{
	sbuf_free(&r->resend);
}

bool run_idem_key(char key[REQ_IDEM_KEY_LEN + 1])
{
	unsigned char bytes[REQ_IDEM_KEY_LEN / 2];

	if (RAND_bytes(bytes, sizeof bytes) != 1)
		return false;
	req_idem_hex(bytes, key);
	return true;
}

enum run_code run_code_of(const struct response *resp)
{
	if (response_is(resp, "OK"))
		return RUN_OK;
	if (response_is(resp, "NO") || response_is(resp, "BAD"))
		return RUN_REFUSED;
	return RUN_FAILED;
}

static void print_sbuf(FILE *f, const struct sbuf *sb)
{
	if (sb->len > 0)
		fwrite(sb->data, 1, sb->len, f);
	fflush(f);
}

void run_push(void *ctx, const char *line, const struct proto_request *push)
{
	struct runner *r = ctx;
	struct sbuf sb = {0};

	if (r->at_prompt && !r->printed_at_prompt) {
		/* Take the prompt line away; the loop redraws it. */
		fputs("\r\033[K", r->events);
		r->printed_at_prompt = true;
	}
	if (r->raw) {
		sbuf_adds(&sb, line);
		sbuf_adds(&sb, "\n");
	} else {
		render_push(&sb, push, &r->ropts);
	}
	print_sbuf(r->events, &sb);
	sbuf_free(&sb);
}

static void show(struct runner *r, const struct response *resp)
{
	struct sbuf sb = {0};

	if (r->raw)
		print_sbuf(r->out, &resp->raw);
	else if (!r->quiet) {
		/* Out of a script, a blank line tells one answer from the
		 * next; at the prompt, the prompt does. */
		if (!r->interactive && r->shown > 0)
			sbuf_adds(&sb, "\n");
		render_response(&sb, resp->rows, resp->nrows, &resp->final,
				&r->ropts);
		print_sbuf(r->out, &sb);
	}
	r->shown++;
	sbuf_free(&sb);
}

static void notice(struct runner *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void notice(struct runner *r, const char *fmt, ...)
{
	va_list ap;

	fflush(r->out);
	fputs("calldesk: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Sends body; on DONE shows the answer. */
static enum session_status send_show(struct runner *r, const char *body,
				     struct response *resp)
{
	enum session_status st = session_request(r->s, body, resp);

	if (st == SESSION_DONE)
		show(r, resp);
	return st;
}

/* Interactive mode: the request a drop cut off goes first, once. False
 * when there is still no connection (the new command is not sent). */
static bool resend_pending(struct runner *r)
{
	struct response resp = {0};

	if (r->resend.len == 0)
		return true;
	notice(r, "sending again the request the lost connection cut off "
		  "(same idem key, so it takes effect at most once):");
	fprintf(stderr, "  %s\n", r->resend.data);
	enum session_status st = send_show(r, r->resend.data, &resp);
	response_clear(&resp);
	if (st == SESSION_NO_CONNECTION) {
		notice(r, "%s", r->s->error);
		r->no_connection = true;
		return false;
	}
	/* Sent once more: whatever came of it, not again. */
	sbuf_reset(&r->resend);
	if (st != SESSION_DONE)
		notice(r, "%s; that request was not answered", r->s->error);
	return st == SESSION_DONE;
}

enum run_code run_request(struct runner *r, const struct req_prepared *req,
			  struct response *out)
{
	struct response local = {0};
	struct response *resp = out != NULL ? out : &local;
	enum run_code code = RUN_FAILED;

	if (r->interactive && !resend_pending(r)) {
		response_clear(resp);
		return RUN_FAILED;
	}
	enum session_status st = send_show(r, req->body.data, resp);
	r->no_connection = st == SESSION_NO_CONNECTION;
	bool logout = strcmp(req->verb, "LOGOUT") == 0;
	switch (st) {
	case SESSION_DONE:
		code = run_code_of(resp);
		break;
	case SESSION_NO_CONNECTION:
		notice(r, "%s", r->s->error);
		break;
	case SESSION_INTERRUPTED:
		/* The terminal echoed ^C on the prompt's line. */
		fputc('\n', stderr);
		notice(r, "interrupted: the answer was not awaited, so the "
			  "request may or may not have been done; the next "
			  "command reconnects");
		break;
	case SESSION_DROPPED:
		notice(r, "%s, before the answer came", r->s->error);
		if (logout) {
			r->logged_out = true;
		} else if (r->interactive) {
			if (req->has_idem) {
				sbuf_reset(&r->resend);
				sbuf_adds(&r->resend, req->body.data);
				notice(r, "the next command reconnects and first "
					  "sends this request again, with the "
					  "same idem key");
			} else {
				notice(r, "the next command reconnects");
			}
		} else {
			/* A script wants an answer to each line: one more
			 * try, now. Without an idem key only requests that
			 * change nothing get here (see verbs.c). */
			notice(r, "reconnecting to send it again%s",
			       req->has_idem ? " (same idem key)" : "");
			st = send_show(r, req->body.data, resp);
			r->no_connection = st == SESSION_NO_CONNECTION;
			if (st == SESSION_DONE)
				code = run_code_of(resp);
			else
				notice(r, "%s", r->s->error);
		}
		break;
	}
	if (st == SESSION_DONE && logout && response_is(resp, "OK"))
		r->logged_out = true;
	if (st != SESSION_DONE)
		response_clear(resp);
	response_clear(&local);
	return code;
}

enum run_code run_line(struct runner *r, const char *line)
{
	char key[REQ_IDEM_KEY_LEN + 1];
	struct req_prepared req;

	if (!run_idem_key(key)) {
		notice(r, "no random numbers for an idem key");
		return RUN_FAILED;
	}
	if (!req_prepare(line, key, &req)) {
		req_prepared_free(&req);
		return RUN_OK;
	}
	enum run_code code = run_request(r, &req, NULL);
	req_prepared_free(&req);
	return code;
}
