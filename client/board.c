/* board.c: calldesk --watch. One loop waits with poll() on the keyboard
 * and the server's socket at once, wakes at least once a second to move
 * the clocks, and redraws the whole screen (ncurses sends only what
 * changed). Events update the model (board_model.c); requests (WATCH,
 * ESCALATION LIST, APPROVE, REJECT) go through the session, which hands
 * the events that arrive meanwhile to the same callback. */
#define NCURSES_WIDECHAR 1

#include "board.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

#include <curses.h>

#include "board_model.h"
#include "render.h"
#include "request.h"

#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS 30000
/* The escalation list is asked for again after each escalation event and,
 * as a safety net against a crossed answer and event, this often. */
#define LIST_EVERY_MS 30000
#define LIST_REQUEST "ESCALATION LIST state=pending limit=1000"
#define INPUT_MAX 400
#define MIN_COLS 40
#define MIN_LINES 10
#define WIDE_COLS 100           /* queues and agents side by side */
#define GAP 2                   /* columns between table cells */

/* Signal flags: the only state a handler touches. */
static volatile sig_atomic_t got_quit;
static volatile sig_atomic_t got_winch;

enum prompt { PROMPT_NONE, PROMPT_APPROVE, PROMPT_REJECT };
enum tone { TONE_INFO, TONE_OK, TONE_BAD };
enum { PAIR_RED = 1, PAIR_YELLOW, PAIR_GREEN, PAIR_CYAN };

struct board {
	struct session *s;
	const struct board_opts *o;
	struct board_model m;
	bool color;             /* colours in use */
	bool watching;          /* WATCH answered OK on this connection */
	int64_t retry_at;       /* next reconnection attempt (monotonic) */
	int retry_delay;
	char lost[512];         /* why the connection went, for the title */
	bool want_list;         /* ask ESCALATION LIST at the next turn */
	int64_t list_at;        /* when to ask anyway */
	/* A decision the lost connection cut off: sent again once
	 * reconnected, with the same idem key (PROTOCOL.md §4). */
	struct sbuf resend;
	unsigned long long resend_id;
	bool resend_approve;
	/* The selected pending escalation, by id and by row. */
	unsigned long long selected;
	size_t sel_index;
	size_t esc_top;         /* first escalation row on the screen */
	enum prompt prompt;
	unsigned long long prompt_id;
	char input[INPUT_MAX + 1];
	size_t input_len;
	char status[1024];
	enum tone tone;
	bool quit;
};

volatile sig_atomic_t *board_interrupt_flag(void)
{
	return &got_quit;
}

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		got_winch = 1;
	else
		got_quit = 1;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_status(struct board *b, enum tone tone, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_status(struct board *b, enum tone tone, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->status, sizeof b->status, fmt, ap);
	va_end(ap);
	b->tone = tone;
}

/* "NO forbidden: you are not allowed to do that" */
static void describe(const struct proto_request *f, char *buf, size_t size)
{
	const char *code = proto_get(f, "code");
	const char *msg = proto_get(f, "msg");

	if (code == NULL)
		code = "";
	if (msg == NULL || msg[0] == '\0')
		msg = render_code_words(code);
	snprintf(buf, size, "%s %s%s%s", f->verb, code,
		 msg != NULL ? ": " : "", msg != NULL ? msg : "");
}

/* ---- the connection -------------------------------------------------- */

static void on_push(void *ctx, const char *line,
		    const struct proto_request *push)
{
	struct board *b = ctx;

	(void)line;
	if (strcmp(push->verb, "BYE") == 0) {
		const char *code = proto_get(push, "code");
		const char *words = code != NULL ? render_code_words(code) : NULL;
		set_status(b, TONE_BAD, "The server ended the session: %s [%s]",
			   words != NULL ? words : "no reason given",
			   code != NULL ? code : "?");
		return;
	}
	if ((bm_apply_event(&b->m, push, mono_ms()) & BM_WANT_ESCALATIONS) != 0)
		b->want_list = true;
}

/* Sends WATCH (connecting and logging in first when needed). */
static enum session_status watch(struct board *b, struct response *resp)
{
	bm_begin_snapshot(&b->m);
	enum session_status st = session_request(b->s, "WATCH", resp);
	b->watching = st == SESSION_DONE && response_is(resp, "OK");
	if (!b->watching)
		b->m.in_snapshot = false;
	return st;
}

static void fetch_list(struct board *b)
{
	struct response resp = {0};
	char why[300];

	b->want_list = false;
	b->list_at = mono_ms() + LIST_EVERY_MS;
	if (session_request(b->s, LIST_REQUEST, &resp) == SESSION_DONE) {
		if (response_is(&resp, "OK")) {
			bm_set_escalations(&b->m, resp.rows, resp.nrows);
		} else {
			describe(&resp.final, why, sizeof why);
			set_status(b, TONE_BAD, "ESCALATION LIST: %s", why);
		}
	}
	response_clear(&resp);
}

static void schedule_retry(struct board *b)
{
	snprintf(b->lost, sizeof b->lost, "%s", b->s->error);
	b->retry_at = mono_ms() + b->retry_delay;
	b->retry_delay = b->retry_delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
			 b->retry_delay * 2;
}

static void send_decision(struct board *b, bool approve,
			  unsigned long long id, const char *body);
static void draw(struct board *b);

static void reconnect(struct board *b)
{
	struct response resp = {0};
	char why[300];

	enum session_status st = watch(b, &resp);
	if (st == SESSION_DONE && b->watching) {
		b->retry_delay = RETRY_MIN_MS;
		b->lost[0] = '\0';
		b->want_list = true;
		set_status(b, TONE_OK, "Reconnected.");
	} else if (st == SESSION_DONE) {
		describe(&resp.final, why, sizeof why);
		set_status(b, TONE_BAD, "WATCH refused: %s", why);
		session_disconnect(b->s);
		snprintf(b->s->error, sizeof b->s->error, "WATCH refused");
		schedule_retry(b);
	} else if (st == SESSION_INTERRUPTED) {
		b->quit = true;
	} else {
		schedule_retry(b);
	}
	response_clear(&resp);
	if (b->watching && b->resend.len > 0) {
		/* Sent once more, whatever comes of it. */
		struct sbuf body = b->resend;
		memset(&b->resend, 0, sizeof b->resend);
		send_decision(b, b->resend_approve, b->resend_id, body.data);
		sbuf_free(&body);
	}
}

/* ---- decisions ------------------------------------------------------- */

static void show_answer(struct board *b, bool approve, unsigned long long id,
			const struct response *resp)
{
	const char *done = approve ? "approved" : "rejected";
	char why[400];

	if (response_is(resp, "OK")) {
		const char *cs = proto_get(&resp->final, "complaint_state");
		set_status(b, TONE_OK, "Escalation %llu %s: OK (complaint now "
			   "%s).", id, done, cs != NULL && cs[0] ? cs : "?");
		bm_remove_escalation(&b->m, id);
	} else {
		describe(&resp->final, why, sizeof why);
		set_status(b, TONE_BAD, "Escalation %llu not %s: %s", id, done,
			   why);
	}
	b->want_list = true;
}

static void send_decision(struct board *b, bool approve,
			  unsigned long long id, const char *body)
{
	struct response resp = {0};

	set_status(b, TONE_INFO, "Sending %s for escalation %llu...",
		   approve ? "APPROVE" : "REJECT", id);
	draw(b);
	switch (session_request(b->s, body, &resp)) {
	case SESSION_DONE:
		show_answer(b, approve, id, &resp);
		break;
	case SESSION_DROPPED:
		sbuf_reset(&b->resend);
		sbuf_adds(&b->resend, body);
		b->resend_id = id;
		b->resend_approve = approve;
		set_status(b, TONE_BAD, "The connection was lost before the "
			   "answer: the request is sent again once "
			   "reconnected (same idem key, so at most once).");
		break;
	case SESSION_NO_CONNECTION:
		set_status(b, TONE_BAD, "Not sent: %s.", b->s->error);
		break;
	case SESSION_INTERRUPTED:
		b->quit = true;
		break;
	}
	response_clear(&resp);
}

static void decide(struct board *b, bool approve, unsigned long long id,
		   const char *text)
{
	char key[REQ_IDEM_KEY_LEN + 1];
	struct sbuf body = {0};

	if (!run_idem_key(key)) {
		set_status(b, TONE_BAD, "Not sent: no random numbers for an "
			   "idem key.");
		return;
	}
	sbuf_printf(&body, "%s escalation=%llu", approve ? "APPROVE" : "REJECT",
		    id);
	if (!approve)
		proto_put_kv(&body, "reason", text);
	else if (text[0] != '\0')
		proto_put_kv(&body, "note", text);
	proto_put_kv(&body, "idem", key);
	if (!sbuf_failed(&body))
		send_decision(b, approve, id, body.data);
	sbuf_free(&body);
}

/* ---- keys ------------------------------------------------------------ */

/* Keeps the selection on the same escalation when rows come and go, or
 * on the same row when it went. */
static void keep_selection(struct board *b)
{
	long i = bm_escalation_index(&b->m, b->selected);

	if (b->m.nescs == 0) {
		b->selected = 0;
		b->sel_index = 0;
		return;
	}
	if (i >= 0) {
		b->sel_index = (size_t)i;
		return;
	}
	if (b->sel_index >= b->m.nescs)
		b->sel_index = b->m.nescs - 1;
	b->selected = b->m.escs[b->sel_index].id;
}

static void move_selection(struct board *b, long delta)
{
	long n = (long)b->m.nescs, i = (long)b->sel_index + delta;

	if (n == 0)
		return;
	i = i < 0 ? 0 : i >= n ? n - 1 : i;
	b->sel_index = (size_t)i;
	b->selected = b->m.escs[i].id;
}

static void start_prompt(struct board *b, enum prompt p)
{
	keep_selection(b);
	if (b->selected == 0) {
		set_status(b, TONE_INFO, "No pending escalation to decide.");
		return;
	}
	b->prompt = p;
	b->prompt_id = b->selected;
	b->input_len = 0;
	b->input[0] = '\0';
}

static void submit_prompt(struct board *b)
{
	bool approve = b->prompt == PROMPT_APPROVE;
	char text[INPUT_MAX + 1];

	memcpy(text, b->input, b->input_len + 1);
	/* Surrounding spaces are nobody's intent. */
	char *t = text + strspn(text, " ");
	size_t n = strlen(t);
	while (n > 0 && t[n - 1] == ' ')
		t[--n] = '\0';
	if (!approve && n == 0) {
		set_status(b, TONE_BAD, "A reason is needed to reject: type "
			   "one, or Esc to cancel.");
		return;
	}
	b->prompt = PROMPT_NONE;
	decide(b, approve, b->prompt_id, t);
}

/* Removes the last character (a whole UTF-8 sequence). */
static void input_backspace(struct board *b)
{
	while (b->input_len > 0) {
		unsigned char c = (unsigned char)b->input[--b->input_len];
		if ((c & 0xc0) != 0x80)
			break;
	}
	b->input[b->input_len] = '\0';
}

static void prompt_key(struct board *b, bool code, wint_t ch)
{
	if (code) {
		if (ch == KEY_ENTER)
			submit_prompt(b);
		else if (ch == KEY_BACKSPACE || ch == KEY_DC)
			input_backspace(b);
		return;
	}
	switch (ch) {
	case L'\r':
	case L'\n':
		submit_prompt(b);
		return;
	case 27:                /* Esc */
	case 7:                 /* Ctrl-G */
		b->prompt = PROMPT_NONE;
		set_status(b, TONE_INFO, "Cancelled.");
		return;
	case 127:
	case 8:
		input_backspace(b);
		return;
	case 21:                /* Ctrl-U */
		b->input_len = 0;
		b->input[0] = '\0';
		return;
	default:
		break;
	}
	if (!iswprint(ch))
		return;
	char mb[MB_LEN_MAX];
	mbstate_t st;
	memset(&st, 0, sizeof st);
	size_t n = wcrtomb(mb, (wchar_t)ch, &st);
	if (n == (size_t)-1 || b->input_len + n > INPUT_MAX)
		return;
	memcpy(b->input + b->input_len, mb, n);
	b->input_len += n;
	b->input[b->input_len] = '\0';
}

static void on_key(struct board *b, bool code, wint_t ch)
{
	if (code && ch == KEY_RESIZE)
		return;         /* the loop redraws */
	if (b->prompt != PROMPT_NONE) {
		prompt_key(b, code, ch);
		return;
	}
	if (code) {
		switch (ch) {
		case KEY_UP: move_selection(b, -1); break;
		case KEY_DOWN: move_selection(b, 1); break;
		case KEY_PPAGE: move_selection(b, -10); break;
		case KEY_NPAGE: move_selection(b, 10); break;
		case KEY_HOME: move_selection(b, -(long)b->m.nescs); break;
		case KEY_END: move_selection(b, (long)b->m.nescs); break;
		default: break;
		}
		return;
	}
	switch (ch) {
	case L'q':
	case L'Q':
		b->quit = true;
		break;
	case L'k': move_selection(b, -1); break;
	case L'j': move_selection(b, 1); break;
	case L'a': start_prompt(b, PROMPT_APPROVE); break;
	case L'r': start_prompt(b, PROMPT_REJECT); break;
	case 12:                /* Ctrl-L */
		clearok(curscr, TRUE);
		break;
	default:
		break;
	}
}

static void read_keys(struct board *b)
{
	wint_t ch;
	int r;

	while (!b->quit && (r = get_wch(&ch)) != ERR)
		on_key(b, r == KEY_CODE_YES, ch);
}

/* ---- drawing: text --------------------------------------------------- */

static attr_t pair(const struct board *b, short p)
{
	return b->color ? (attr_t)COLOR_PAIR(p) : 0;
}

/* Draws s at (y, x) in at most w columns (draw false: only measures),
 * control characters as spaces, undecodable bytes as '?'. Returns the
 * columns used. */
static int text(int y, int x, int w, const char *s, attr_t attr, bool draw)
{
	mbstate_t mb;
	int used = 0;

	memset(&mb, 0, sizeof mb);
	if (draw) {
		move(y, x);
		attr_on(attr, NULL);
	}
	while (*s != '\0' && used < w) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s, strlen(s), &mb);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&mb, 0, sizeof mb);
			wc = L'?';
			n = 1;
		}
		if (wc < 0x20 || wc == 0x7f)
			wc = L' ';
		int cw = wcwidth(wc);
		if (cw < 0) {
			wc = L'?';
			cw = 1;
		}
		if (used + cw > w)
			break;
		if (draw)
			addnwstr(&wc, 1);
		used += cw;
		s += n;
	}
	if (draw)
		attr_off(attr, NULL);
	return used;
}

static int put(int y, int x, int w, const char *s, attr_t attr)
{
	return w > 0 ? text(y, x, w, s, attr, true) : 0;
}

/* Fills a whole line of width w with attr (a bar). */
static void bar(int y, int x, int w, attr_t attr)
{
	attr_on(attr, NULL);
	mvhline(y, x, ' ', w);
	attr_off(attr, NULL);
}

/* "0:05", "12:34", "1:02:03", "3d04h" */
static void fmt_duration(int64_t ms, char *buf, size_t size)
{
	long s = ms < 0 ? 0 : (long)(ms / 1000);

	if (s < 3600)
		snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60,
			 s % 60);
	else
		snprintf(buf, size, "%ldd%02ldh", s / 86400, s / 3600 % 24);
}

/* An RFC 3339 UTC time in local time: "14:30" today, else "Nov 24 14:30";
 * *overdue when it has passed. */
static void fmt_due(const char *rfc, char *buf, size_t size, bool *overdue)
{
	struct tm tm, lt, ln;
	time_t now = time(NULL);

	*overdue = false;
	memset(&tm, 0, sizeof tm);
	const char *end = strptime(rfc, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		snprintf(buf, size, "%s", rfc[0] != '\0' ? rfc : "-");
		return;
	}
	time_t t = timegm(&tm);
	*overdue = t < now;
	localtime_r(&t, &lt);
	localtime_r(&now, &ln);
	if (lt.tm_year == ln.tm_year && lt.tm_yday == ln.tm_yday)
		strftime(buf, size, "%H:%M", &lt);
	else
		strftime(buf, size, "%b %d %H:%M", &lt);
}

/* ---- drawing: tables ------------------------------------------------- */

struct column {
	const char *title;
	int width;
	int min;                /* narrowest it may become */
	bool right;             /* numbers: aligned right */
};

#define MAX_COLUMNS 12

/* Copies cols into out, narrowed in turn, a column at a time, so that the
 * table fits in w columns when it can. */
static void fit_columns(const struct column *cols, size_t n, int w,
			struct column *out)
{
	int total = 0;

	for (size_t c = 0; c < n; c++) {
		out[c] = cols[c];
		total += cols[c].width + (c > 0 ? GAP : 0);
	}
	for (bool progress = true; total > w && progress;) {
		progress = false;
		for (size_t c = 0; c < n && total > w; c++)
			if (out[c].width > out[c].min) {
				out[c].width--;
				total--;
				progress = true;
			}
	}
}

/* One table line: cells clipped to their column and to the w columns
 * from x; attrs (may be NULL) per cell, added to row_attr. */
static void put_row(int y, int x, int w, const struct column *all,
		    size_t ncols, const char *const *cells,
		    const attr_t *attrs, attr_t row_attr)
{
	struct column cols[MAX_COLUMNS];
	int cx = x;

	if (ncols > MAX_COLUMNS)
		ncols = MAX_COLUMNS;
	fit_columns(all, ncols, w, cols);
	if (row_attr != 0)
		bar(y, x, w, row_attr);
	for (size_t c = 0; c < ncols && cx < x + w; c++) {
		int cw = cols[c].width;
		if (cx + cw > x + w || c + 1 == ncols)
			cw = x + w - cx;
		/* NULL: a blank cell; "": a value the server left empty. */
		const char *v = cells[c] == NULL ? "" :
				cells[c][0] != '\0' ? cells[c] : "-";
		int tw = text(y, cx, cw, v, 0, false);
		int at = cols[c].right && tw < cols[c].width &&
			 cols[c].width <= cw ? cx + cols[c].width - tw : cx;
		put(y, at, cw - (at - cx), v,
		    row_attr | (attrs != NULL ? attrs[c] : 0));
		cx += cols[c].width + GAP;
	}
}

static void put_header(const struct board *b, int y, int x, int w,
		       const struct column *cols, size_t ncols)
{
	const char *cells[MAX_COLUMNS];

	for (size_t c = 0; c < ncols && c < MAX_COLUMNS; c++)
		cells[c] = cols[c].title[0] != '\0' ? cols[c].title : NULL;
	put_row(y, x, w, cols, ncols, cells, NULL,
		A_UNDERLINE | (b->color ? 0 : A_BOLD));
}

static void put_title(const struct board *b, int y, int x, int w,
		      const char *title)
{
	put(y, x, w, title, A_BOLD | pair(b, PAIR_CYAN));
}

/* Where a section's rows go: title, header, then rows; the last line
 * says how many did not fit. */
struct area {
	int y, x, h, w;
};

/* Rows [first, first + shown) of n fit in the area; returns shown. */
static size_t fit(const struct area *a, size_t n, size_t first)
{
	size_t room = a->h > 2 ? (size_t)(a->h - 2) : 0;

	if (n - first <= room)
		return n - first;
	return room > 0 ? room - 1 : 0;
}

static void more_line(const struct board *b, const struct area *a, int y,
		      size_t hidden)
{
	char buf[64];

	if (hidden == 0 || y >= a->y + a->h)
		return;
	snprintf(buf, sizeof buf, "... %zu more", hidden);
	put(y, a->x, a->w, buf, A_DIM | pair(b, PAIR_YELLOW));
}

static void none_line(const struct area *a)
{
	if (a->h > 2)
		put(a->y + 2, a->x, a->w, "(none)", A_DIM);
}

static void draw_queues(struct board *b, const struct area *a, int64_t now)
{
	static const struct column cols[] = {
		{"QUEUE", 16, 8, false}, {"WAITING", 7, 7, true},
		{"OLDEST", 8, 6, true}, {"READY", 5, 5, true},
	};
	char title[64];

	snprintf(title, sizeof title, "QUEUES (%zu)", b->m.nqueues);
	put_title(b, a->y, a->x, a->w, title);
	if (a->h < 2)
		return;
	put_header(b, a->y + 1, a->x, a->w, cols, 4);
	size_t shown = fit(a, b->m.nqueues, 0);
	for (size_t i = 0; i < shown; i++) {
		const struct bm_queue *q = &b->m.queues[i];
		char waiting[24], oldest[24] = "", ready[24];
		snprintf(waiting, sizeof waiting, "%ld", q->waiting);
		snprintf(ready, sizeof ready, "%ld", q->agents_ready);
		/* The oldest wait grows by itself between events. */
		if (q->waiting > 0 && q->oldest_wait >= 0)
			fmt_duration(q->oldest_wait * 1000 + now - q->at_ms,
				     oldest, sizeof oldest);
		const char *cells[] = {q->name, waiting, oldest, ready};
		attr_t attrs[4] = {0};
		if (q->waiting > 0 && q->agents_ready == 0)
			attrs[1] = A_BOLD | pair(b, PAIR_YELLOW);
		put_row(a->y + 2 + (int)i, a->x, a->w, cols, 4, cells, attrs,
			q->stale ? A_DIM : 0);
	}
	if (b->m.nqueues == 0)
		none_line(a);
	more_line(b, a, a->y + 2 + (int)shown, b->m.nqueues - shown);
}

static attr_t state_attr(const struct board *b, const struct bm_agent *ag)
{
	if (strcmp(ag->state, "offline") == 0)
		return A_DIM;
	if (strcmp(ag->activity, "idle") != 0)
		return pair(b, PAIR_CYAN);
	if (strcmp(ag->state, "ready") == 0)
		return A_BOLD | pair(b, PAIR_GREEN);
	return pair(b, PAIR_YELLOW);
}

static void draw_agents(struct board *b, const struct area *a, int64_t now)
{
	static const struct column cols[] = {
		{"AGENT", 16, 8, false}, {"STATE", 10, 9, false},
		{"ACTIVITY", 14, 8, false}, {"FOR", 8, 7, true},
	};
	struct bm_agent_counts c;
	char title[160];

	bm_count_agents(&b->m, &c);
	snprintf(title, sizeof title, "AGENTS  %zu ready, %zu busy, %zu away, "
		 "%zu offline", c.ready, c.busy, c.away, c.offline);
	put_title(b, a->y, a->x, a->w, title);
	if (a->h < 2)
		return;
	put_header(b, a->y + 1, a->x, a->w, cols, 4);
	size_t shown = fit(a, b->m.nagents, 0);
	for (size_t i = 0; i < shown; i++) {
		const struct bm_agent *ag = &b->m.agents[i];
		char since[24] = "";
		if (strcmp(ag->state, "offline") != 0)
			fmt_duration(now - ag->since_ms, since, sizeof since);
		const char *cells[] = {ag->user, ag->state, ag->activity, since};
		attr_t sa = state_attr(b, ag);
		attr_t attrs[4] = {0, sa, sa, 0};
		put_row(a->y + 2 + (int)i, a->x, a->w, cols, 4, cells, attrs,
			ag->stale || strcmp(ag->state, "offline") == 0 ?
			A_DIM : 0);
	}
	if (b->m.nagents == 0)
		none_line(a);
	more_line(b, a, a->y + 2 + (int)shown, b->m.nagents - shown);
}

static void draw_slas(struct board *b, const struct area *a, int64_t now)
{
	static const struct column cols[] = {
		{"COMPLAINT", 9, 6, true}, {"DEADLINE", 10, 8, false},
		{"STATUS", 8, 8, false}, {"FOR", 8, 7, true},
		{"QUEUE", 12, 8, false}, {"ASSIGNEE", 16, 8, false},
		{"STATE", 10, 8, false},
	};
	size_t breached = 0;
	char title[96];

	for (size_t i = 0; i < b->m.nslas; i++)
		breached += strcmp(b->m.slas[i].status, "breached") == 0;
	snprintf(title, sizeof title, "DEADLINES AT RISK OR BREACHED  %zu "
		 "breached, %zu at risk", breached, b->m.nslas - breached);
	put_title(b, a->y, a->x, a->w, title);
	if (a->h < 2)
		return;
	put_header(b, a->y + 1, a->x, a->w, cols, 7);
	size_t shown = fit(a, b->m.nslas, 0);
	for (size_t i = 0; i < shown; i++) {
		const struct bm_sla *s = &b->m.slas[i];
		const struct bm_complaint *c = bm_find_complaint(&b->m,
								 s->complaint);
		char id[32], deadline[48], since[24];
		snprintf(id, sizeof id, "%llu", s->complaint);
		snprintf(deadline, sizeof deadline, "%s%s%s", s->deadline,
			 s->ref[0] != '\0' ? " " : "", s->ref);
		fmt_duration(now - s->at_ms, since, sizeof since);
		const char *cells[] = {id, deadline, s->status, since,
				       c != NULL ? c->queue : "",
				       c != NULL ? c->assignee : "",
				       c != NULL ? c->state : ""};
		bool br = strcmp(s->status, "breached") == 0;
		attr_t sa = br ? A_BOLD | pair(b, PAIR_RED) :
			    pair(b, PAIR_YELLOW);
		attr_t attrs[7] = {0, 0, sa, 0, 0, 0, 0};
		put_row(a->y + 2 + (int)i, a->x, a->w, cols, 7, cells, attrs,
			s->stale ? A_DIM : 0);
	}
	if (b->m.nslas == 0)
		none_line(a);
	more_line(b, a, a->y + 2 + (int)shown, b->m.nslas - shown);
}

static void draw_escalations(struct board *b, const struct area *a)
{
	static const struct column cols[] = {
		{"", 1, 1, false}, {"ID", 5, 4, true},
		{"COMPLAINT", 9, 6, true}, {"ACTION", 11, 10, false},
		{"AMOUNT", 10, 8, true}, {"REQUESTED BY", 14, 8, false},
		{"APPROVER", 22, 12, false}, {"LEVEL", 5, 3, true},
		{"DUE", 12, 5, false},
	};
	char title[96];

	snprintf(title, sizeof title, "PENDING ESCALATIONS (%zu)", b->m.nescs);
	put_title(b, a->y, a->x, a->w, title);
	if (a->h < 2)
		return;
	put_header(b, a->y + 1, a->x, a->w, cols, 9);
	size_t n = b->m.nescs;
	/* Scroll so that the selected row shows. */
	size_t room = a->h > 2 ? (size_t)(a->h - 2) : 0;
	if (b->sel_index < b->esc_top)
		b->esc_top = b->sel_index;
	while (b->esc_top > 0 && n - b->esc_top < room)
		b->esc_top--;
	for (;;) {
		size_t shown = fit(a, n, b->esc_top);
		if (b->sel_index < b->esc_top + shown || shown == 0)
			break;
		b->esc_top++;
	}
	size_t shown = fit(a, n, b->esc_top);
	for (size_t k = 0; k < shown; k++) {
		size_t i = b->esc_top + k;
		const struct bm_escalation *e = &b->m.escs[i];
		bool sel = e->id == b->selected;
		char id[32], complaint[32], due[32];
		bool overdue = false;
		snprintf(id, sizeof id, "%llu", e->id);
		snprintf(complaint, sizeof complaint, "%llu", e->complaint);
		fmt_due(e->due, due, sizeof due, &overdue);
		const char *cells[] = {sel ? ">" : " ", id, complaint,
				       e->action, e->amount, e->requested_by,
				       e->approver, e->level,
				       e->detailed ? due : "..."};
		attr_t attrs[9] = {0};
		if (overdue)
			attrs[8] = A_BOLD | pair(b, PAIR_RED);
		put_row(a->y + 2 + (int)k, a->x, a->w, cols, 9, cells, attrs,
			sel ? A_REVERSE : 0);
	}
	if (n == 0)
		none_line(a);
	more_line(b, a, a->y + 2 + (int)shown, n - b->esc_top - shown);
}

/* ---- drawing: the screen --------------------------------------------- */

enum section { SEC_QUEUES, SEC_AGENTS, SEC_SLAS, SEC_ESCS };

/* Lines a section would like: title, header, its rows (or "(none)"). */
static int section_need(const struct board *b, enum section s)
{
	size_t n = s == SEC_QUEUES ? b->m.nqueues : s == SEC_AGENTS ?
		   b->m.nagents : s == SEC_SLAS ? b->m.nslas : b->m.nescs;

	return 2 + (n > 0 ? (n > 1000 ? 1000 : (int)n) : 1);
}

static void draw_section(struct board *b, enum section s,
			 const struct area *a, int64_t now)
{
	if (a->h <= 0 || a->w <= 0)
		return;
	switch (s) {
	case SEC_QUEUES: draw_queues(b, a, now); break;
	case SEC_AGENTS: draw_agents(b, a, now); break;
	case SEC_SLAS: draw_slas(b, a, now); break;
	case SEC_ESCS: draw_escalations(b, a); break;
	}
}

/* A band is one or two sections side by side. */
struct band {
	enum section sec[2];
	int nsec;
};

/* Shares the lines from top to bottom among the bands, one line at a
 * time in turn, so that a long list cannot push another off the screen. */
static void draw_body(struct board *b, int top, int bottom, int cols,
		      int64_t now)
{
	static const struct band wide[] = {
		{{SEC_QUEUES, SEC_AGENTS}, 2}, {{SEC_SLAS}, 1}, {{SEC_ESCS}, 1},
	};
	static const struct band narrow[] = {
		{{SEC_QUEUES}, 1}, {{SEC_AGENTS}, 1}, {{SEC_SLAS}, 1},
		{{SEC_ESCS}, 1},
	};
	bool is_wide = cols >= WIDE_COLS;
	const struct band *bands = is_wide ? wide : narrow;
	int nb = is_wide ? 3 : 4, need[4], give[4] = {0}, total = 0;

	for (int i = 0; i < nb; i++) {
		need[i] = section_need(b, bands[i].sec[0]);
		if (bands[i].nsec == 2 && section_need(b, bands[i].sec[1]) > need[i])
			need[i] = section_need(b, bands[i].sec[1]);
		total += need[i];
	}
	int avail = bottom - top;
	int gaps = total + nb - 1 <= avail ? 1 : 0;
	int left = avail - gaps * (nb - 1);
	for (bool progress = true; left > 0 && progress;) {
		progress = false;
		for (int i = 0; i < nb && left > 0; i++)
			if (give[i] < need[i]) {
				give[i]++;
				left--;
				progress = true;
			}
	}
	int y = top;
	for (int i = 0; i < nb; i++) {
		if (bands[i].nsec == 2) {
			int lw = (cols - GAP * 2) / 2;
			struct area l = {y, 0, give[i], lw};
			struct area r = {y, lw + GAP * 2, give[i],
					 cols - lw - GAP * 2};
			draw_section(b, bands[i].sec[0], &l, now);
			draw_section(b, bands[i].sec[1], &r, now);
		} else {
			struct area f = {y, 0, give[i], cols};
			draw_section(b, bands[i].sec[0], &f, now);
		}
		y += give[i] + gaps;
	}
}

static void draw_title(struct board *b, int cols, int64_t now)
{
	char left[1024], clock[16];
	time_t t = time(NULL);
	struct tm lt;
	attr_t attr = A_REVERSE;

	localtime_r(&t, &lt);
	strftime(clock, sizeof clock, "%H:%M:%S", &lt);
	if (session_connected(b->s) && b->watching) {
		snprintf(left, sizeof left, " calldesk board  %s (%s) at %s  %s",
			 b->s->p.user, b->s->role[0] ? b->s->role : "?",
			 b->o->where, b->m.in_snapshot ? "loading..." : "live");
	} else {
		int64_t wait = b->retry_at - now;
		snprintf(left, sizeof left, " calldesk board  %s at %s  "
			 "DISCONNECTED: %s; retrying in %lld s", b->s->p.user,
			 b->o->where, b->lost[0] ? b->lost : "no connection",
			 (long long)(wait > 0 ? (wait + 999) / 1000 : 0));
		attr |= A_BOLD | pair(b, PAIR_RED);
	}
	bar(0, 0, cols, attr);
	int cw = (int)strlen(clock) + 1;
	put(0, 0, cols - cw - 1, left, attr);
	put(0, cols - cw, cw, clock, attr);
}

static void draw_last_event(const struct board *b, int y, int cols,
			    int64_t now)
{
	char buf[300], at[16];
	struct tm lt;

	if (b->m.last_event[0] == '\0')
		return;
	/* The model keeps a monotonic time; people read the clock. */
	time_t t = time(NULL) - (time_t)((now - b->m.last_event_ms) / 1000);
	localtime_r(&t, &lt);
	strftime(at, sizeof at, "%H:%M:%S", &lt);
	snprintf(buf, sizeof buf, "Last change at %s: %s", at,
		 b->m.last_event);
	put(y, 0, cols, buf, A_DIM);
}

static void draw_bottom(struct board *b, int rows, int cols)
{
	attr_t tone = b->tone == TONE_OK ? A_BOLD | pair(b, PAIR_GREEN) :
		      b->tone == TONE_BAD ? A_BOLD | pair(b, PAIR_RED) : 0;

	put(rows - 2, 0, cols, b->status, tone);
	if (b->prompt == PROMPT_NONE) {
		bar(rows - 1, 0, cols, A_REVERSE);
		put(rows - 1, 0, cols, " Up/Down select   a approve   "
		    "r reject   q quit", A_REVERSE);
		curs_set(0);
		return;
	}
	char label[160];
	if (b->prompt == PROMPT_APPROVE)
		snprintf(label, sizeof label, "Approve escalation %llu; note "
			 "(optional, Enter sends, Esc cancels): ", b->prompt_id);
	else
		snprintf(label, sizeof label, "Reject escalation %llu; reason "
			 "(Enter sends, Esc cancels): ", b->prompt_id);
	int lw = put(rows - 1, 0, cols - 1, label, A_BOLD);
	/* The end of a long input, so that the cursor stays in view. */
	int room = cols - 1 - lw;
	const char *in = b->input;
	while (room > 0 && text(0, 0, INT_MAX, in, 0, false) > room)
		in++;
	while ((*in & 0xc0) == 0x80)
		in++;
	int iw = put(rows - 1, lw, room, in, 0);
	move(rows - 1, lw + iw);
	curs_set(1);
}

static void draw(struct board *b)
{
	int rows = LINES, cols = COLS;
	int64_t now = mono_ms();

	keep_selection(b);
	erase();
	if (rows < MIN_LINES || cols < MIN_COLS) {
		char buf[96];
		snprintf(buf, sizeof buf, "Too small: %dx%d (need %dx%d)",
			 cols, rows, MIN_COLS, MIN_LINES);
		put(0, 0, cols, buf, A_BOLD);
		curs_set(0);
		refresh();
		return;
	}
	draw_title(b, cols, now);
	/* A line for the latest change, and air, when there is room. */
	int top = 1;
	if (rows >= 20) {
		draw_last_event(b, 1, cols, now);
		top = 3;
	}
	draw_body(b, top, rows - 3, cols, now);
	draw_bottom(b, rows, cols);
	refresh();
}

/* ---- the loop -------------------------------------------------------- */

static void resize(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
}

/* Milliseconds to the next whole second of the clock (the title's clock
 * and the durations tick together), or to an earlier deadline. */
static int next_tick(const struct board *b, int64_t now)
{
	struct timespec ts;
	int64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = 1000 - ts.tv_nsec / 1000000;
	if (!session_connected(b->s) && b->retry_at - now < ms)
		ms = b->retry_at - now;
	if (session_connected(b->s) && b->list_at - now < ms)
		ms = b->list_at - now;
	return ms < 0 ? 0 : ms > 1000 ? 1000 : (int)ms;
}

static void loop(struct board *b)
{
	while (!b->quit && !got_quit) {
		int64_t now = mono_ms();
		if (got_winch) {
			got_winch = 0;
			resize();
		}
		if (!session_connected(b->s) && b->watching) {
			/* Just lost: show it, try again shortly. */
			b->watching = false;
			b->retry_delay = RETRY_MIN_MS;
			schedule_retry(b);
		}
		if (!session_connected(b->s) && now >= b->retry_at) {
			snprintf(b->lost, sizeof b->lost, "reconnecting");
			b->retry_at = now;
			draw(b);
			reconnect(b);
			continue;
		}
		if (session_connected(b->s) && (b->want_list || now >= b->list_at)) {
			fetch_list(b);
			continue;
		}
		draw(b);

		struct pollfd pf[2] = {
			{.fd = STDIN_FILENO, .events = POLLIN},
			{.fd = session_fd(b->s), .events = POLLIN},
		};
		int timeout = next_tick(b, now);
		if (session_connected(b->s) && conn_buffered(b->s->conn))
			timeout = 0;
		int n = poll(pf, pf[1].fd >= 0 ? 2 : 1, timeout);
		if (n < 0) {
			if (errno != EINTR)
				break;
			continue;
		}
		if (pf[1].fd >= 0 && (pf[1].revents != 0 || timeout == 0) &&
		    !session_poll(b->s))
			set_status(b, TONE_BAD, "%s; reconnecting.",
				   b->s->error);
		if ((pf[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0 &&
		    (pf[0].revents & POLLIN) == 0)
			break;  /* the terminal went away */
		if (pf[0].revents != 0)
			read_keys(b);
	}
}

static void setup_colors(struct board *b)
{
	b->color = b->o->color && has_colors();
	if (!b->color)
		return;
	start_color();
	use_default_colors();
	init_pair(PAIR_RED, COLOR_RED, -1);
	init_pair(PAIR_YELLOW, COLOR_YELLOW, -1);
	init_pair(PAIR_GREEN, COLOR_GREEN, -1);
	init_pair(PAIR_CYAN, COLOR_CYAN, -1);
}

enum run_code board_run(struct session *s, const struct board_opts *o)
{
	struct board b;
	struct response resp = {0};
	char why[300];
	enum run_code code = RUN_OK;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "calldesk: --watch needs a terminal\n");
		return RUN_FAILED;
	}
	memset(&b, 0, sizeof b);
	b.s = s;
	b.o = o;
	b.retry_delay = RETRY_MIN_MS;
	bm_init(&b.m);
	session_push_fn *old_push = s->p.on_push;
	void *old_ctx = s->p.push_ctx;
	s->p.on_push = on_push;
	s->p.push_ctx = &b;

	/* WATCH before the screen is taken, so that a refusal reads as
	 * an ordinary message. */
	enum session_status st = watch(&b, &resp);
	if (st != SESSION_DONE) {
		fprintf(stderr, "calldesk: %s\n", s->error);
		code = RUN_FAILED;
	} else if (!b.watching) {
		describe(&resp.final, why, sizeof why);
		fprintf(stderr, "calldesk: the board needs WATCH, which was "
				"refused: %s\n", why);
		code = run_code_of(&resp);
	}
	response_clear(&resp);
	if (code != RUN_OK)
		goto out;
	fetch_list(&b);

	struct sigaction sa, old_int, old_term, old_hup, old_winch;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	/* No SA_RESTART: a signal must wake the poll() that waits. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	/* Ours before ncurses starts: it then leaves SIGWINCH to us. */
	sigaction(SIGWINCH, &sa, &old_winch);

	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (scr == NULL) {
		fprintf(stderr, "calldesk: cannot use the terminal (TERM=%s)\n",
			getenv("TERM") != NULL ? getenv("TERM") : "");
		code = RUN_FAILED;
	} else {
		set_term(scr);
		cbreak();
		noecho();
		nonl();
		keypad(stdscr, TRUE);
		nodelay(stdscr, TRUE);
		set_escdelay(50);
		setup_colors(&b);
		set_status(&b, TONE_INFO, "Watching. Select a pending "
			   "escalation with the arrows; a approves, r rejects.");
		loop(&b);
		endwin();
		delscreen(scr);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	sigaction(SIGWINCH, &old_winch, NULL);
	if (b.resend.len > 0)
		fprintf(stderr, "calldesk: the %s of escalation %llu, cut off "
				"by the lost connection, was not sent again: "
				"check it with ESCALATION LIST\n",
			b.resend_approve ? "approval" : "rejection",
			b.resend_id);
	if (!session_connected(s) && b.lost[0] != '\0')
		fprintf(stderr, "calldesk: not connected at the end: %s\n",
			b.lost);
out:
	s->p.on_push = old_push;
	s->p.push_ctx = old_ctx;
	sbuf_free(&b.resend);
	bm_free(&b.m);
	return code;
}
