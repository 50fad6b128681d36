/* conn.c: one benchmark connection: TLS set-up, login, the workload's
 * set-up requests, then a pipeline of `depth` requests kept full.
 *
 * Requests during the run are tagged t1, t2, ...; answers come in order, so
 * the oldest request in flight is number last_seq - inflight + 1, and its
 * send time sits in slot (number % depth) of the connection's ring. The set-up
 * requests, one at a time, have fixed tags (L, C, I, F, S, W).
 *
 * Set-up per workload, after LOGIN: note adds a customer (C) and starts an
 * interaction (I); advise finds a complaint assigned to the user (F:
 * COMPLAINT LIST); next sets the user ready (S); fanout watchers send WATCH
 * (W) and wait for the snapshot's end, the driver sets itself not-ready
 * (S), so that its first change, to ready, is a change. */
#include "bench.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

/* Lines handled per read callback before yielding to other connections. */
#define LINES_PER_CALL 1024

enum conn_state {
	CS_IDLE,        /* not started */
	CS_CONNECTING,  /* TCP and TLS handshake */
	CS_LOGIN,       /* LOGIN sent */
	CS_CUSTOMER,    /* note: CUSTOMER ADD sent */
	CS_INTERACTION, /* note: INTERACTION START sent */
	CS_FIND,        /* advise: COMPLAINT LIST sent */
	CS_STATE,       /* next, fanout driver: STATE SET sent */
	CS_WATCH,       /* fanout watcher: WATCH sent */
	CS_SNAPSHOT,    /* fanout watcher: WATCH answered, the snapshot coming */
	CS_READY,       /* set up, waiting for the run */
	CS_RUNNING,     /* the pipeline is on */
	CS_CLOSED,
};

struct conn {
	struct bench *b;
	struct bufferevent *bev;
	unsigned index;
	enum conn_state state;
	uint64_t last_seq;      /* the number in the last request's tag */
	unsigned inflight;      /* requests sent and not answered */
	uint64_t *sent_at;      /* depth send times, ns: b->sent_at + index * depth */
	char *body;             /* what follows the tag, without the LF: built once */
	size_t body_len;
	bool driver;            /* fanout: the connection that changes state */
	bool stopped;           /* next: refused (empty queues): sends no more */
	bool exhausted;         /* next: stopped with nothing in flight, counted */
	unsigned next_toggle;   /* fanout watcher: the first change not yet seen */
	char complaint[24];     /* advise: the complaint found during set-up */
};

enum answer { A_OK, A_NO, A_BAD, A_ERR, A_ROW, A_OTHER };

static const char *const answer_name[] = { "OK", "NO", "BAD", "ERR", "ROW", "?" };

static enum answer classify(const char *w, size_t n)
{
	enum answer a;

	for (a = A_OK; a < A_OTHER; a++)
		if (strlen(answer_name[a]) == n && memcmp(answer_name[a], w, n) == 0)
			return a;
	return A_OTHER;
}

/* The value of `key` in an answer line, copied into out (quotes removed,
 * escapes left as they are: ids and codes have none). Tokens are walked
 * whole, so `msg="... customer=1"` is not taken for a customer field. */
static bool line_field(const char *line, const char *key, char *out, size_t outlen)
{
	size_t klen = strlen(key), n;
	const char *p = line, *tok, *v;
	bool quoted;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		tok = p;
		quoted = false;
		while (*p != '\0' && (*p != ' ' || quoted)) {
			if (*p == '"')
				quoted = !quoted;
			else if (*p == '\\' && quoted && p[1] != '\0')
				p++;
			p++;
		}
		if ((size_t)(p - tok) > klen && memcmp(tok, key, klen) == 0 && tok[klen] == '=') {
			v = tok + klen + 1;
			n = (size_t)(p - v);
			if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
				v++, n -= 2;
			if (n >= outlen)
				n = outlen - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

static bool is_id(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 19 && s[0] != '0' && strspn(s, "0123456789") == n;
}

/* Decimal digits of v into buf (at least 21 bytes), returns the length. */
static size_t fmt_u64(char *buf, uint64_t v)
{
	char tmp[21];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

/* Closes c, accounts for what it leaves behind, tells the run. */
static void conn_close(struct conn *c)
{
	struct bench *b = c->b;
	enum conn_state was = c->state;

	if (was == CS_CLOSED || was == CS_IDLE)
		return;
	c->state = CS_CLOSED;
	b->open--;
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (was == CS_CONNECTING) {
		b->connecting--;
		conns_connect_more(b);
	}
	if (c->exhausted) {
		c->exhausted = false;
		b->exhausted--;
	}
	if (c->driver)
		b->driver_ready = false;
	if (was == CS_RUNNING) {
		b->c.unanswered += c->inflight;
		b->inflight -= c->inflight;
		c->inflight = 0;
		b->c.lost++;
		b->ready--;
		bench_conn_gone(b);
	} else if (was == CS_READY) {
		b->c.lost++;
		b->ready--;
		bench_conn_gone(b);
	} else {
		b->c.setup_failed++;
		b->settled++;
		bench_settled(b);
	}
}

/* Why the TLS layer gave up: OpenSSL's queued reasons, and the
 * certificate check's own verdict when it failed (the reasons only say
 * "certificate verify failed"). */
static void ssl_reasons(struct bufferevent *bev, char *buf, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	unsigned long e;
	size_t used = 0;
	long verdict;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < 8 && (e = bufferevent_get_openssl_error(bev)) != 0; i++) {
		char one[256];
		if (ERR_GET_LIB(e) == 0 || used >= len)
			continue; /* libevent's own codes, not OpenSSL errors */
		ERR_error_string_n(e, one, sizeof(one));
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "; " : "", one);
	}
	for (i = 0; i < 64 && bufferevent_get_openssl_error(bev) != 0; i++)
		;
	verdict = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (verdict != X509_V_OK && used < len)
		snprintf(buf + used, len - used, "%s%s", used ? ": " : "",
			X509_verify_cert_error_string(verdict));
}

static void send_line(struct conn *c, const char *line)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add(out, line, strlen(line));
	evbuffer_add(out, "\n", 1);
}

/* PROTOCOL §2 quoted value: \ and " escaped; the options checked that
 * there is no control character. */
static void add_quoted(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			evbuffer_add(out, "\\", 1);
		evbuffer_add(out, s, 1);
	}
	evbuffer_add(out, "\"", 1);
}

static void send_login(struct conn *c)
{
	struct bench *b = c->b;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "L LOGIN user=%s password=",
		c->driver ? b->opt.driver : b->opt.users[c->index % b->opt.nusers]);
	add_quoted(out, b->opt.password);
	evbuffer_add(out, "\n", 1);
	c->state = CS_LOGIN;
}

/* The text that follows each request's tag, up to the line end (refill
 * adds the idempotency key, if any, and the LF), built once per connection. */
static bool set_body(struct conn *c, const char *id)
{
	struct bench *b = c->b;
	const char *parts[5] = { NULL };
	size_t len = 0, i, n;

	switch (b->opt.workload) {
	case WL_PING:
		parts[0] = " PING";
		break;
	case WL_REQUEST:
		parts[0] = " ";
		parts[1] = b->opt.request;
		break;
	case WL_NOTE:
		parts[0] = " INTERACTION NOTE id=";
		parts[1] = id;
		parts[2] = " text=\"";
		parts[3] = b->note_text;
		parts[4] = "\"";
		break;
	case WL_ADVISE:
		parts[0] = " ADVISE complaint=";
		parts[1] = id;
		parts[2] = " ";
		parts[3] = b->opt.advise_args;
		break;
	case WL_NEXT:
		parts[0] = " NEXT";
		break;
	case WL_FANOUT:
		parts[0] = ""; /* the driver writes its own lines (conns_toggle) */
		break;
	}
	for (i = 0; i < 5 && parts[i] != NULL; i++)
		len += strlen(parts[i]);
	c->body = malloc(len + 1);
	if (c->body == NULL) {
		bench_complain(b, c->index, "out of memory");
		return false;
	}
	c->body_len = 0;
	for (i = 0; i < 5 && parts[i] != NULL; i++) {
		n = strlen(parts[i]);
		memcpy(c->body + c->body_len, parts[i], n);
		c->body_len += n;
	}
	c->body[c->body_len] = '\0';
	return true;
}

static void become_ready(struct conn *c, const char *id)
{
	struct bench *b = c->b;

	if (!set_body(c, id)) {
		conn_close(c);
		return;
	}
	c->state = CS_READY;
	b->ready++;
	b->settled++;
	bench_settled(b);
}

/* Sends requests until depth are in flight or the run says stop. */
static void refill(struct conn *c, uint64_t now)
{
	struct bench *b = c->b;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char tag[32];
	size_t n;

	if (c->stopped || b->opt.workload == WL_FANOUT)
		return;
	while (c->inflight < b->opt.depth && bench_may_send(b)) {
		c->last_seq++;
		tag[0] = 't';
		n = 1 + fmt_u64(tag + 1, c->last_seq);
		evbuffer_add(out, tag, n);
		evbuffer_add(out, c->body, c->body_len);
		if (b->opt.idem) {
			/* Unique per run, connection and request: every write is new. */
			char key[80];
			int kn = snprintf(key, sizeof(key), " idem=%s.%u.%" PRIu64,
				b->run_id, c->index, c->last_seq);
			evbuffer_add(out, key, (size_t)kn);
		}
		evbuffer_add(out, "\n", 1);
		c->sent_at[c->last_seq % b->opt.depth] = now;
		c->inflight++;
		b->inflight++;
	}
}

/* An answer during set-up: the next set-up step, or ready. */
static void setup_answer(struct conn *c, enum answer a, const char *line)
{
	struct bench *b = c->b;
	char code[40], id[24];
	const char *step = c->state == CS_LOGIN ? "LOGIN" :
		c->state == CS_CUSTOMER ? "CUSTOMER ADD" :
		c->state == CS_INTERACTION ? "INTERACTION START" :
		c->state == CS_FIND ? "COMPLAINT LIST" :
		c->state == CS_STATE ? "STATE SET" : "WATCH";

	if (a != A_OK) {
		if (!line_field(line, "code", code, sizeof(code)))
			strcpy(code, "?");
		bench_count_code(b, answer_name[a], code, true);
		bench_complain(b, c->index, "%s: %s", step, line);
		conn_close(c);
		return;
	}
	switch (c->state) {
	case CS_LOGIN:
		switch (b->opt.workload) {
		case WL_NOTE:
			send_line(c, "C CUSTOMER ADD name=bench");
			c->state = CS_CUSTOMER;
			return;
		case WL_ADVISE:
			send_line(c, "F COMPLAINT LIST assignee=me state=assigned limit=1");
			c->state = CS_FIND;
			return;
		case WL_NEXT:
			send_line(c, "S STATE SET state=ready");
			c->state = CS_STATE;
			return;
		case WL_FANOUT:
			if (c->driver) {
				send_line(c, "S STATE SET state=not-ready");
				c->state = CS_STATE;
			} else {
				send_line(c, "W WATCH");
				c->state = CS_WATCH;
			}
			return;
		default:
			become_ready(c, NULL);
			return;
		}
	case CS_CUSTOMER:
		if (!line_field(line, "customer", id, sizeof(id)) || !is_id(id))
			break;
		evbuffer_add_printf(bufferevent_get_output(c->bev),
			"I INTERACTION START customer=%s channel=phone direction=inbound\n", id);
		c->state = CS_INTERACTION;
		return;
	case CS_INTERACTION:
		if (!line_field(line, "interaction", id, sizeof(id)) || !is_id(id))
			break;
		become_ready(c, id);
		return;
	case CS_FIND:
		if (c->complaint[0] == '\0') {
			bench_count_code(b, "set-up", "no complaint assigned", false);
			bench_complain(b, c->index, "no complaint is assigned to %s"
				" (COMPLAINT LIST assignee=me state=assigned)",
				b->opt.users[c->index % b->opt.nusers]);
			conn_close(c);
			return;
		}
		become_ready(c, c->complaint);
		return;
	case CS_STATE:
		become_ready(c, NULL);
		return;
	case CS_WATCH:
		/* The snapshot follows as pushes, up to type=snapshot-end. */
		c->state = CS_SNAPSHOT;
		return;
	default:
		break;
	}
	b->c.protocol++;
	bench_complain(b, c->index, "%s: no id in '%s'", step, line);
	conn_close(c);
}

/* next: keeps the id of the complaint NEXT gave, to find any given twice. */
static void next_taken(struct conn *c, const char *line)
{
	struct bench *b = c->b;
	char id[24];
	uint64_t *grown;
	size_t cap;

	if (!line_field(line, "complaint", id, sizeof(id)) || !is_id(id)) {
		b->c.protocol++;
		bench_complain(b, c->index, "NEXT: no complaint id in '%.200s'", line);
		return;
	}
	if (b->ntaken == b->taken_cap) {
		cap = b->taken_cap ? 2 * b->taken_cap : 4096;
		grown = realloc(b->taken, cap * sizeof(*b->taken));
		if (grown == NULL) {
			bench_complain(b, c->index, "out of memory for complaint ids");
			return;
		}
		b->taken = grown;
		b->taken_cap = cap;
	}
	b->taken[b->ntaken++] = strtoull(id, NULL, 10);
}

/* advise: which decision came. */
static void count_decision(struct bench *b, const char *line)
{
	char d[16];

	if (!line_field(line, "decision", d, sizeof(d)))
		return;
	if (strcmp(d, "allow") == 0)
		b->allow++;
	else if (strcmp(d, "escalate") == 0)
		b->escalate++;
	else if (strcmp(d, "deny") == 0)
		b->deny++;
}

/* A final answer during the run: count it, refill the pipeline. */
static void run_answer(struct conn *c, enum answer a, const char *line, uint64_t now)
{
	struct bench *b = c->b;
	uint64_t seq = c->last_seq - c->inflight + 1;
	uint64_t sent = c->sent_at[seq % b->opt.depth];
	char code[40];
	bool empty = false;

	c->inflight--;
	b->inflight--;
	if (b->opt.workload == WL_NEXT) {
		/* Every complaint given counts for the check, whatever the
		 * phase; a refusal is not worth repeating: this agent stops.
		 * Empty queues are the expected end, not an error. */
		if (a == A_OK) {
			next_taken(c, line);
		} else {
			c->stopped = true;
			empty = a == A_NO && line_field(line, "code", code, sizeof(code)) &&
				strcmp(code, "empty") == 0;
			if (empty)
				b->empty++;
		}
	}
	if (sent >= b->t_measure && !empty) {
		b->t_last = now;
		switch (a) {
		case A_OK:
			b->c.ok++;
			hist_record(b->opt.workload == WL_FANOUT ? &b->hist_req : &b->hist,
				now - sent);
			if (b->opt.workload == WL_ADVISE)
				count_decision(b, line);
			break;
		case A_NO: b->c.no++; break;
		case A_BAD: b->c.bad++; break;
		default: b->c.err++; break;
		}
		if (a != A_OK) {
			if (!line_field(line, "code", code, sizeof(code)))
				strcpy(code, "?");
			bench_count_code(b, answer_name[a], code, false);
		}
	}
	if (c->driver) {
		bench_toggled(b);
		if (c->state != CS_CLOSED)
			bench_answered(b);
		return;
	}
	refill(c, now);
	if (c->stopped && c->inflight == 0 && !c->exhausted) {
		c->exhausted = true;
		b->exhausted++;
		bench_exhausted(b);
	}
	bench_answered(b);
}

const char *toggle_state(unsigned k)
{
	/* The driver starts not-ready: the first change is to ready. */
	return k % 2 == 0 ? "ready" : "not-ready";
}

/* fanout: an agent event at a watcher. The changes alternate, so the
 * event's state names the first change not yet seen that asked for that
 * state; the ones skipped were missed (counted at the end, as the pairs
 * expected and not delivered). */
static void watcher_event(struct conn *c, const char *line, uint64_t now)
{
	struct bench *b = c->b;
	char v[64];
	unsigned k;

	if (c->state != CS_RUNNING || (b->phase != PH_MEASURE && b->phase != PH_DRAIN))
		return; /* before the changes: the driver's login, say */
	if (!line_field(line, "type", v, sizeof(v)) || strcmp(v, "agent") != 0 ||
		!line_field(line, "user", v, sizeof(v)) || strcmp(v, b->opt.driver) != 0 ||
		!line_field(line, "state", v, sizeof(v)))
		return;
	for (k = c->next_toggle; k < b->toggles_sent; k++)
		if (strcmp(toggle_state(k), v) == 0)
			break;
	if (k >= b->toggles_sent) {
		b->ev_stray++;
		return;
	}
	hist_record(&b->hist, now - b->toggle_at[k]);
	b->ev_matched++;
	if (b->t_first_event == 0)
		b->t_first_event = now;
	b->t_last_event = now;
	c->next_toggle = k + 1;
	if (b->phase == PH_DRAIN)
		bench_answered(b);
}

/* A push: `* EVENT ...`. Returns false when c was closed. */
static bool handle_event(struct conn *c, const char *line, uint64_t now)
{
	char type[32];

	if (c->state == CS_SNAPSHOT) {
		if (line_field(line, "type", type, sizeof(type)) &&
			strcmp(type, "snapshot-end") == 0)
			become_ready(c, NULL);
		return c->state != CS_CLOSED;
	}
	if (c->b->opt.workload == WL_FANOUT && !c->driver)
		watcher_event(c, line, now);
	return true;
}

/* Does the line's first token name the request answered next? */
static bool tag_expected(const struct conn *c, const char *tag, size_t n)
{
	char want[32];
	size_t wn;

	switch (c->state) {
	case CS_LOGIN: return n == 1 && tag[0] == 'L';
	case CS_CUSTOMER: return n == 1 && tag[0] == 'C';
	case CS_INTERACTION: return n == 1 && tag[0] == 'I';
	case CS_FIND: return n == 1 && tag[0] == 'F';
	case CS_STATE: return n == 1 && tag[0] == 'S';
	case CS_WATCH: return n == 1 && tag[0] == 'W';
	case CS_RUNNING:
		if (c->inflight == 0)
			return false;
		want[0] = 't';
		wn = 1 + fmt_u64(want + 1, c->last_seq - c->inflight + 1);
		return n == wn && memcmp(tag, want, n) == 0;
	default:
		return false;
	}
}

/* One line from the server. Returns false when c was closed. */
static bool handle_line(struct conn *c, const char *line, uint64_t now)
{
	struct bench *b = c->b;
	const char *sp, *word;
	size_t tag_len, word_len;
	enum answer a;
	char code[40];

	if (line[0] == '\0')
		return true;
	sp = strchr(line, ' ');
	tag_len = sp ? (size_t)(sp - line) : strlen(line);
	word = sp ? sp + 1 : line + tag_len;
	word_len = strcspn(word, " ");
	a = classify(word, word_len);

	if (tag_len == 1 && line[0] == '*') {
		/* A push; or the answer to a line whose tag the server could not
		 * read, which is ours, the oldest. */
		if (word_len == 3 && memcmp(word, "BYE", 3) == 0) {
			b->c.byes++;
			if (!line_field(line, "code", code, sizeof(code)))
				strcpy(code, "?");
			bench_count_code(b, "BYE", code, c->state != CS_RUNNING);
			bench_complain(b, c->index, "%s", line);
			return true;
		}
		if (word_len == 5 && memcmp(word, "EVENT", 5) == 0)
			return handle_event(c, line, now);
		if (a == A_OTHER || a == A_ROW)
			return true;
	} else if (!tag_expected(c, line, tag_len) || a == A_OTHER) {
		b->c.protocol++;
		bench_complain(b, c->index, "unexpected answer '%.200s'", line);
		conn_close(c);
		return false;
	}
	if (a == A_ROW) {
		if (c->state == CS_FIND && c->complaint[0] == '\0' &&
			(!line_field(line, "complaint", c->complaint, sizeof(c->complaint)) ||
			 !is_id(c->complaint)))
			c->complaint[0] = '\0';
		b->c.rows++;
		return true;
	}
	switch (c->state) {
	case CS_LOGIN:
	case CS_CUSTOMER:
	case CS_INTERACTION:
	case CS_FIND:
	case CS_STATE:
	case CS_WATCH:
		setup_answer(c, a, line);
		return c->state != CS_CLOSED;
	case CS_RUNNING:
		if (c->inflight == 0)
			break;
		run_answer(c, a, line, now);
		return c->state != CS_CLOSED;
	default:
		break;
	}
	b->c.protocol++;
	bench_complain(b, c->index, "answer to nothing: '%.200s'", line);
	conn_close(c);
	return false;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct bench *b = c->b;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint64_t now = now_ns();
	struct evbuffer_ptr eol;
	size_t eol_len, len, keep;
	unsigned i;

	for (i = 0; i < LINES_PER_CALL; i++) {
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			if (evbuffer_get_length(in) > BENCH_MAX_PENDING) {
				b->c.protocol++;
				bench_complain(b, c->index, "over %u bytes without a line end",
					BENCH_MAX_PENDING);
				conn_close(c);
			}
			return;
		}
		/* Only the start of a long line matters (tag, word, code, id). */
		len = (size_t)eol.pos;
		keep = len < BENCH_SCRATCH - 1 ? len : BENCH_SCRATCH - 1;
		evbuffer_copyout(in, b->scratch, keep);
		evbuffer_drain(in, len + eol_len);
		if (keep == len && keep > 0 && b->scratch[keep - 1] == '\r')
			keep--;
		b->scratch[keep] = '\0';
		if (strlen(b->scratch) != keep)
			b->scratch[0] = '\0'; /* a NUL in an answer: not ours to judge */
		if (!handle_line(c, b->scratch, now))
			return;
	}
	/* More lines may be buffered: come back after the others had a turn. */
	bufferevent_trigger(bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct bench *b = c->b;
	char why[600];
	int err;

	if (what & BEV_EVENT_CONNECTED) {
		b->connecting--;
		conns_connect_more(b);
		if (b->opt.nusers > 0)
			send_login(c);
		else
			become_ready(c, NULL);
		return;
	}
	err = EVUTIL_SOCKET_ERROR();
	ssl_reasons(bev, why, sizeof(why));
	/* A refused connect comes as EOF (dirty shutdowns are allowed), with
	 * the reason in errno; a stale EAGAIN there means nothing. */
	if (why[0] == '\0' && err != 0 && err != EAGAIN && err != EWOULDBLOCK &&
		err != EINPROGRESS && err != EINTR)
		snprintf(why, sizeof(why), "%s", evutil_socket_error_to_string(err));
	if (why[0] == '\0')
		snprintf(why, sizeof(why), "%s", (what & BEV_EVENT_EOF) ?
			"closed by the server" : "connection error");
	bench_complain(b, c->index, "%s%s", c->state == CS_CONNECTING ?
		"connect: " : "", why);
	conn_close(c);
}

static SSL *new_ssl(struct bench *b)
{
	SSL *ssl = SSL_new(b->ssl_ctx);
	const struct options *o = &b->opt;

	if (ssl == NULL)
		return NULL;
	if (b->host_is_ip && o->servername == NULL) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), b->verify_name) != 1)
			goto fail;
	} else {
		if (SSL_set1_host(ssl, b->verify_name) != 1 ||
			SSL_set_tlsext_host_name(ssl, b->verify_name) != 1)
			goto fail;
	}
	return ssl;
fail:
	SSL_free(ssl);
	return NULL;
}

static void conn_start(struct conn *c)
{
	struct bench *b = c->b;
	SSL *ssl = new_ssl(b);
	int one = 1;

	c->state = CS_CONNECTING;
	b->open++;
	b->connecting++;
	if (ssl == NULL) {
		bench_complain(b, c->index, "SSL_new failed");
		conn_close(c);
		return;
	}
	c->bev = bufferevent_openssl_socket_new(b->base, -1, ssl,
		BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		SSL_free(ssl);
		bench_complain(b, c->index, "bufferevent_openssl_socket_new failed");
		conn_close(c);
		return;
	}
	/* The server's close without close_notify is the end, not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&b->addr,
		(int)b->addrlen) != 0) {
		bench_complain(b, c->index, "connect: %s",
			evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		conn_close(c);
		return;
	}
	/* Small pipelined requests must not wait for Nagle. */
	setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

bool conns_init(struct bench *b)
{
	unsigned i;

	/* fanout: the watchers, then the driver. */
	b->nconns = b->opt.conns + (b->opt.workload == WL_FANOUT ? 1 : 0);
	b->conns = calloc(b->nconns, sizeof(*b->conns));
	b->sent_at = calloc((size_t)b->nconns * b->opt.depth, sizeof(*b->sent_at));
	if (b->opt.workload == WL_FANOUT)
		b->toggle_at = calloc(b->opt.toggles, sizeof(*b->toggle_at));
	if (b->conns == NULL || b->sent_at == NULL ||
		(b->opt.workload == WL_FANOUT && b->toggle_at == NULL)) {
		fprintf(stderr, "calldesk-bench: out of memory for %u connections\n", b->nconns);
		return false;
	}
	for (i = 0; i < b->nconns; i++) {
		b->conns[i].b = b;
		b->conns[i].index = i;
		b->conns[i].sent_at = b->sent_at + (size_t)i * b->opt.depth;
	}
	if (b->opt.workload == WL_FANOUT)
		b->conns[b->opt.conns].driver = true;
	return true;
}

void conns_connect_more(struct bench *b)
{
	/* A start that fails at once closes its connection, which calls us
	 * again: the outer loop carries on instead of recursing. */
	if (b->starting)
		return;
	b->starting = true;
	while (b->phase == PH_SETUP && b->next_connect < b->nconns &&
		b->connecting < b->opt.connect_burst)
		conn_start(&b->conns[b->next_connect++]);
	b->starting = false;
}

void conns_start(struct bench *b, uint64_t now)
{
	unsigned i;

	b->watching = 0;
	for (i = 0; i < b->nconns; i++) {
		struct conn *c = &b->conns[i];
		if (c->state != CS_READY)
			continue;
		c->state = CS_RUNNING;
		if (c->driver)
			b->driver_ready = true;
		else if (b->opt.workload == WL_FANOUT)
			b->watching++;
		refill(c, now);
	}
}

void conns_toggle(struct bench *b, uint64_t now)
{
	struct conn *c = &b->conns[b->opt.conns];
	unsigned k = b->toggles_sent;

	if (b->opt.workload != WL_FANOUT || c->state != CS_RUNNING || c->inflight > 0 ||
		k >= b->opt.toggles)
		return;
	c->last_seq++;
	evbuffer_add_printf(bufferevent_get_output(c->bev), "t%" PRIu64 " STATE SET state=%s\n",
		c->last_seq, toggle_state(k));
	c->sent_at[c->last_seq % b->opt.depth] = now;
	b->toggle_at[k] = now;
	b->toggles_sent = k + 1;
	c->inflight++;
	b->inflight++;
}

bool conns_caught_up(const struct bench *b)
{
	unsigned i;

	for (i = 0; i < b->opt.conns && b->opt.workload == WL_FANOUT; i++)
		if (b->conns[i].state == CS_RUNNING && b->conns[i].next_toggle < b->toggles_sent)
			return false;
	return true;
}

void conns_drop_unready(struct bench *b)
{
	unsigned i;

	for (i = 0; i < b->nconns; i++) {
		struct conn *c = &b->conns[i];
		if (c->state == CS_IDLE) {
			/* Never started: counted as failed, nothing to close. */
			c->state = CS_CLOSED;
			b->c.setup_failed++;
			b->settled++;
		} else if (c->state < CS_READY) {
			bench_complain(b, i, "not ready at the set-up deadline");
			conn_close(c);
		}
	}
}

void conns_free(struct bench *b)
{
	unsigned i;

	for (i = 0; b->conns != NULL && i < b->nconns; i++) {
		struct conn *c = &b->conns[i];
		if (c->bev != NULL) {
			/* A polite close_notify; the socket may be full, no matter. */
			SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
			if (ssl != NULL && c->state >= CS_LOGIN && c->state != CS_CLOSED)
				(void)SSL_shutdown(ssl);
			ERR_clear_error();
			bufferevent_free(c->bev);
			c->bev = NULL;
		}
		free(c->body);
		c->body = NULL;
	}
	free(b->conns);
	free(b->sent_at);
	free(b->toggle_at);
	free(b->taken);
	b->conns = NULL;
	b->sent_at = NULL;
	b->toggle_at = NULL;
	b->taken = NULL;
}
