/* repl.c: the agent's console. libedit edits the line; our own read
 * function waits on the keyboard and the connection at once, so that
 * events and a server's BYE show up while the prompt waits. */
#include "repl.h"

#include <errno.h>
#include <histedit.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include "report.h"
#include "shortcut.h"
#include "tty.h"
#include "verbs.h"

#define HISTORY_FILE ".calldesk_history"
#define HISTORY_SIZE 1000
#define LINE_MAX_LEN 8192

/* Signal flags: the only state a handler may touch. */
static volatile sig_atomic_t got_sigint;
static volatile sig_atomic_t got_sigwinch;

struct repl {
	EditLine *el;
	History *hist;
	struct runner *r;
	char prompt[160];
	char history_path[PATH_MAX];
	mbstate_t mb;           /* a multibyte character being read */
};

volatile sig_atomic_t *repl_interrupt_flag(void)
{
	return &got_sigint;
}

static void on_signal(int sig)
{
	if (sig == SIGINT)
		got_sigint = 1;
	else
		got_sigwinch = 1;
}

static struct repl *repl_of(EditLine *el)
{
	void *p = NULL;

	el_get(el, EL_CLIENTDATA, &p);
	return p;
}

/* "alice (ready) [3 waiting]> ", "alice (ready, in-interaction)> " */
static char *prompt_fn(EditLine *el)
{
	struct repl *p = repl_of(el);
	const struct session *s = p->r->s;

	char waiting[32] = "";

	if (session_connected(s) && s->waiting >= 0)
		snprintf(waiting, sizeof waiting, " [%ld waiting]", s->waiting);
	if (!session_connected(s))
		snprintf(p->prompt, sizeof p->prompt, "%s (disconnected)> ",
			 s->p.user);
	else if (s->state[0] == '\0')
		snprintf(p->prompt, sizeof p->prompt, "%s%s> ", s->p.user, waiting);
	else if (s->activity[0] != '\0' && strcmp(s->activity, "idle") != 0)
		snprintf(p->prompt, sizeof p->prompt, "%s (%s, %s)%s> ",
			 s->p.user, s->state, s->activity, waiting);
	else
		snprintf(p->prompt, sizeof p->prompt, "%s (%s)%s> ", s->p.user,
			 s->state, waiting);
	return p->prompt;
}

/* ---- reading keys and pushes together -------------------------------- */

/* Shows the pushes that arrived while the prompt waits, then redraws it. */
static void show_pushes(struct repl *p)
{
	struct runner *r = p->r;

	r->at_prompt = true;
	r->printed_at_prompt = false;
	if (!session_poll(r->s)) {
		if (!r->printed_at_prompt)
			fputs("\r\033[K", stdout);
		r->printed_at_prompt = true;
		fflush(stdout);
		fprintf(stderr, "calldesk: %s; the next command reconnects\n",
			r->s->error);
	}
	r->at_prompt = false;
	if (r->printed_at_prompt)
		el_set(p->el, EL_REFRESH);
}

static int getc_fn(EditLine *el, wchar_t *wc)
{
	struct repl *p = repl_of(el);
	struct session *s = p->r->s;

	for (;;) {
		if (got_sigwinch) {
			got_sigwinch = 0;
			el_resize(el);
		}
		if (session_connected(s) && conn_buffered(s->conn)) {
			show_pushes(p);
			continue;
		}
		struct pollfd pf[2] = {
			{.fd = STDIN_FILENO, .events = POLLIN},
			{.fd = session_fd(s), .events = POLLIN},
		};
		int n = poll(pf, pf[1].fd >= 0 ? 2 : 1, -1);
		if (n < 0) {
			if (errno != EINTR)
				return -1;
			if (got_sigint) {
				/* Ctrl-C: a fresh prompt on a new line, and
				 * ^U empties the line being edited. */
				got_sigint = 0;
				fputs("^C\n", stdout);
				el_set(el, EL_REFRESH);
				*wc = 0x15;
				return 1;
			}
			continue;
		}
		if (pf[1].fd >= 0 && pf[1].revents != 0) {
			show_pushes(p);
			continue;
		}
		if (pf[0].revents == 0)
			continue;
		char c;
		ssize_t k = read(STDIN_FILENO, &c, 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k == 0 ? 0 : -1;
		size_t m = mbrtowc(wc, &c, 1, &p->mb);
		if (m == (size_t)-2)
			continue;
		if (m == (size_t)-1) {
			memset(&p->mb, 0, sizeof p->mb);
			*wc = (wchar_t)(unsigned char)c;
		}
		return 1;
	}
}

/* ---- completion ------------------------------------------------------ */

static size_t common_prefix(const struct verb_completion *vc)
{
	size_t n = vc->cands[0].len;

	for (size_t i = 1; i < vc->count; i++) {
		size_t k = 0;
		while (k < n && k < vc->cands[i].len &&
		       (vc->cands[0].text[k] | 0x20) ==
			       (vc->cands[i].text[k] | 0x20))
			k++;
		n = k;
	}
	return n;
}

/* Copies a candidate, in lower case when the user types that way. */
static void cand_copy(char *dst, size_t size, const struct verb_cand *c,
		      size_t from, size_t to, bool lower)
{
	size_t n = 0;

	for (size_t i = from; i < to && n + 1 < size; i++) {
		char ch = c->text[i];
		dst[n++] = lower && ch >= 'A' && ch <= 'Z' ?
			   (char)(ch - 'A' + 'a') : ch;
	}
	dst[n] = '\0';
}

static void list_candidates(const struct verb_completion *vc)
{
	struct winsize ws;
	size_t width = 0, cols = 80;
	char buf[128];

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		cols = ws.ws_col;
	for (size_t i = 0; i < vc->count; i++)
		if (vc->cands[i].len > width)
			width = vc->cands[i].len;
	width += 2;
	size_t per_line = cols / width > 0 ? cols / width : 1;
	fputc('\n', stdout);
	for (size_t i = 0; i < vc->count; i++) {
		cand_copy(buf, sizeof buf, &vc->cands[i], 0, vc->cands[i].len,
			  vc->lower);
		if ((i + 1) % per_line == 0 || i + 1 == vc->count)
			printf("%s\n", buf);
		else
			printf("%-*s", (int)width, buf);
	}
	fflush(stdout);
}

static unsigned char complete_fn(EditLine *el, int ch)
{
	const LineInfo *li = el_line(el);
	size_t cursor = (size_t)(li->cursor - li->buffer);
	char line[LINE_MAX_LEN];
	struct verb_completion vc;
	char ins[128];

	(void)ch;
	if (cursor >= sizeof line)
		return CC_ERROR;
	memcpy(line, li->buffer, cursor);
	line[cursor] = '\0';
	verbs_complete(line, cursor, shortcut_names(), &vc);
	if (vc.count == 0)
		return CC_ERROR;

	size_t typed = cursor - vc.start;
	size_t common = common_prefix(&vc);
	bool whole = vc.count == 1;
	const struct verb_cand *c = &vc.cands[0];
	if (common > typed || whole) {
		cand_copy(ins, sizeof ins - 1, c, typed < common ? typed : common,
			  common, vc.lower);
		/* A finished word gets its space; "key=" waits for a value. */
		if (whole && c->text[c->len - 1] != '=')
			strcat(ins, " ");
		if (ins[0] != '\0' && el_insertstr(el, ins) == -1)
			return CC_ERROR;
		return CC_REFRESH;
	}
	list_candidates(&vc);
	return CC_REDISPLAY;
}

/* ---- history --------------------------------------------------------- */

static void history_setup(struct repl *p)
{
	HistEvent ev;
	const char *home = getenv("HOME");

	p->hist = history_init();
	if (p->hist == NULL)
		return;
	history(p->hist, &ev, H_SETSIZE, HISTORY_SIZE);
	history(p->hist, &ev, H_SETUNIQUE, 1);
	el_set(p->el, EL_HIST, history, p->hist);
	if (home != NULL && home[0] != '\0' &&
	    (size_t)snprintf(p->history_path, sizeof p->history_path, "%s/%s",
			     home, HISTORY_FILE) < sizeof p->history_path)
		history(p->hist, &ev, H_LOAD, p->history_path);
	else
		p->history_path[0] = '\0';
}

/* Adds a line and saves the file (readable by its owner only: notes and
 * customers' names end up in it). Lines with a secret are never kept. */
static void history_add(struct repl *p, const char *line)
{
	HistEvent ev;

	if (p->hist == NULL || req_is_secret(line))
		return;
	history(p->hist, &ev, H_ENTER, line);
	if (p->history_path[0] == '\0')
		return;
	mode_t old = umask(077);
	history(p->hist, &ev, H_SAVE, p->history_path);
	umask(old);
}

/* ---- commands -------------------------------------------------------- */

static void help(const char *topic)
{
	struct sbuf sb = {0};

	while (topic != NULL && *topic == ' ')
		topic++;
	if (topic == NULL || *topic == '\0') {
		sbuf_adds(&sb, "Shortcuts:\n");
		shortcut_help(&sb);
		sbuf_adds(&sb, "\nRequests (written without a tag; Tab "
			       "completes verbs and key=):\n");
		verbs_help(&sb, NULL);
		sbuf_adds(&sb, "\n'help VERB [SUBVERB]' shows the arguments; "
			       "HELP in capitals asks the server.\n");
	} else if (verbs_help(&sb, topic) == 0) {
		sbuf_printf(&sb, "No verb \"%s\"; 'help' lists them.\n", topic);
	}
	if (sb.len > 0)
		fwrite(sb.data, 1, sb.len, stdout);
	sbuf_free(&sb);
}

/* "Advice: escalate to role:supervisor (rule tier1-refund, limit 50.00,
 * budget left 120.00)" */
static void print_advice(const struct proto_request *f)
{
	static const char *const keys[] = {"rule", "limit", "budget_left"};
	static const char *const labels[] = {"rule", "limit", "budget left"};
	const char *decision = proto_get(f, "decision");
	const char *approver = proto_get(f, "approver");
	bool first = true;

	printf("Advice: %s", decision != NULL ? decision : "?");
	if (approver != NULL && approver[0] != '\0')
		printf(" to %s", approver);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		const char *v = proto_get(f, keys[i]);
		if (v == NULL || v[0] == '\0')
			continue;
		printf("%s%s %s", first ? " (" : ", ", labels[i], v);
		first = false;
	}
	printf("%s\n", first ? "" : ")");
}

/* resolve: ADVISE first; beyond authority or against policy, ask. */
static enum run_code resolve(struct runner *r, const struct shortcut_result *sr)
{
	struct req_prepared adv, res;
	struct response resp = {0};
	char key[REQ_IDEM_KEY_LEN + 1];
	char question[300];

	if (!req_prepare(sr->advise.data, NULL, &adv)) {
		req_prepared_free(&adv);
		return RUN_FAILED;
	}
	/* The advice is shown in one line of its own, errors as usual. */
	r->quiet = true;
	enum run_code code = run_request(r, &adv, &resp);
	r->quiet = false;
	req_prepared_free(&adv);
	if (code != RUN_OK) {
		if (resp.final.verb[0] != '\0' && !r->raw) {
			struct sbuf sb = {0};
			render_response(&sb, resp.rows, resp.nrows, &resp.final,
					&r->ropts);
			if (sb.len > 0)
				fwrite(sb.data, 1, sb.len, stdout);
			sbuf_free(&sb);
		}
		response_clear(&resp);
		return code;
	}
	if (!r->raw)
		print_advice(&resp.final);
	const char *decision = proto_get(&resp.final, "decision");
	const char *rule = proto_get(&resp.final, "rule");
	const char *approver = proto_get(&resp.final, "approver");
	question[0] = '\0';
	if (decision == NULL || strcmp(decision, "allow") != 0) {
		if (decision != NULL && strcmp(decision, "escalate") == 0)
			snprintf(question, sizeof question,
				 "Beyond your authority: it goes to %s for "
				 "approval. Resolve and escalate? [y/N] ",
				 approver != NULL && approver[0] ? approver :
				 "an approver");
		else if (decision != NULL && strcmp(decision, "deny") == 0)
			snprintf(question, sizeof question,
				 "Against policy (rule %s): the server will "
				 "refuse it. Send it anyway? [y/N] ",
				 rule != NULL && rule[0] ? rule : "?");
		else
			snprintf(question, sizeof question,
				 "The advice is unclear. Send it anyway? "
				 "[y/N] ");
	}
	response_clear(&resp);
	fflush(stdout);
	if (question[0] != '\0' && !tty_confirm(question)) {
		puts("Not sent.");
		return RUN_OK;
	}
	if (!run_idem_key(key))
		return RUN_FAILED;
	if (!req_prepare(sr->request.data, key, &res)) {
		req_prepared_free(&res);
		return RUN_FAILED;
	}
	code = run_request(r, &res, NULL);
	req_prepared_free(&res);
	return code;
}

/* One line typed at the prompt; false to leave. */
static bool command(struct repl *p, const char *line)
{
	struct shortcut_result sr;
	bool go_on = true;

	got_sigint = 0;
	switch (shortcut_expand(line, &sr)) {
	case SHORTCUT_NONE:
		run_line(p->r, line);
		break;
	case SHORTCUT_SEND:
		run_line(p->r, sr.request.data);
		break;
	case SHORTCUT_RESOLVE:
		resolve(p->r, &sr);
		break;
	case SHORTCUT_STATS:
		report_stats(p->r, &sr);
		break;
	case SHORTCUT_EXPORT:
		report_export(p->r, &sr);
		break;
	case SHORTCUT_HELP:
		help(sr.topic);
		break;
	case SHORTCUT_USAGE:
		fprintf(stderr, "%s\n", sr.message);
		break;
	case SHORTCUT_QUIT:
		go_on = false;
		break;
	}
	shortcut_result_free(&sr);
	fflush(stdout);
	return go_on && !p->r->logged_out;
}

/* ---- the loop -------------------------------------------------------- */

enum run_code repl_run(struct runner *r)
{
	struct repl p = {.r = r};
	struct sigaction sa = {.sa_handler = on_signal}, old_int, old_winch;

	p.el = el_init("calldesk", stdin, stdout, stderr);
	if (p.el == NULL) {
		fprintf(stderr, "calldesk: cannot set up the terminal\n");
		return RUN_FAILED;
	}
	/* No SA_RESTART: a signal must wake the poll() that waits. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGWINCH, &sa, &old_winch);
	el_set(p.el, EL_CLIENTDATA, &p);
	el_set(p.el, EL_EDITOR, "emacs");
	el_set(p.el, EL_PROMPT, prompt_fn);
	el_set(p.el, EL_GETCFN, getc_fn);
	/* The wide form: the narrow one copies the strings and never frees
	 * them. */
	el_wset(p.el, EL_ADDFN, L"calldesk-complete", L"complete a verb or key",
		complete_fn);
	el_set(p.el, EL_BIND, "^I", "calldesk-complete", NULL);
	/* ~/.editrc may rebind keys, as in every libedit program. */
	el_source(p.el, NULL);
	history_setup(&p);

	printf("Logged in as %s (%s). Type help for help, Tab to complete, "
	       "Ctrl-D to leave.\n", r->s->p.user,
	       r->s->role[0] ? r->s->role : "?");
	for (;;) {
		int count = 0;
		const char *in = el_gets(p.el, &count);
		if (in == NULL || count <= 0) {
			fputc('\n', stdout);
			break;
		}
		char line[LINE_MAX_LEN];
		size_t n = strlen(in);
		if (n >= sizeof line) {
			fprintf(stderr, "calldesk: line too long\n");
			continue;
		}
		memcpy(line, in, n + 1);
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
				 line[n - 1] == ' '))
			line[--n] = '\0';
		const char *start = line + strspn(line, " ");
		if (*start == '\0')
			continue;
		history_add(&p, start);
		if (!command(&p, start))
			break;
	}

	if (p.hist != NULL)
		history_end(p.hist);
	el_end(p.el);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGWINCH, &old_winch, NULL);
	return RUN_OK;
}
