/* report.c: stats and export (see report.h). Only reading requests are
 * sent (STATS, COMPLAINT LIST, COMPLAINT GET, QUEUE LIST), so one that a
 * lost connection cut off is sent again, once, at once.
 *
 * The complaint export works within what the protocol offers: COMPLAINT
 * LIST has no period and no offset, only filters and a limit of 1000
 * rows, oldest first. So the export lists every state (or the one given)
 * with limit=1000; a state with more is listed again queue by queue
 * (QUEUE LIST); then each complaint is read with COMPLAINT GET for its
 * opening time (the "opened" history entry) and summary, and kept when it
 * was opened in the period. A state-and-queue with more than 1000
 * complaints shows only its oldest 1000: the export says so on standard
 * error and the file lacks the others (narrow it with assignee= or
 * customer=). The file is written to a temporary name and renamed, so a
 * failed export leaves no partial file; it is readable by its owner only
 * (summaries may hold personal data). */
#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "values.h"

#define LIST_LIMIT 1000         /* the protocol's largest page */
#define MAX_DAYS 366            /* export stats by=day */
#define DAY_S 86400

static const char *const all_states[] = {"new", "assigned", "waiting",
					 "escalated", "resolved", "closed",
					 "reopened", NULL};

static const char *const complaint_columns[] = {
	"complaint", "opened", "state", "queue", "category", "severity",
	"assignee", "customer", "respond_by", "resolve_by", "resolved",
	"summary", NULL};

static const char *const stats_columns[] = {
	"scope", "name", "from", "to", "handled", "fcr", "aht", "sla_met",
	"csat", "escalated", "reopened", "empowered", "goodwill", NULL};

static void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void notice(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("calldesk: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void print_sbuf(FILE *f, const struct sbuf *sb)
{
	if (sb->len > 0)
		fwrite(sb->data, 1, sb->len, f);
	fflush(f);
}

/* A refusal or an error, shown as run.c shows answers. */
static void show_failure(struct runner *r, const struct response *resp)
{
	struct sbuf sb = {0};

	if (r->raw) {
		print_sbuf(r->out, &resp->raw);
		return;
	}
	render_response(&sb, resp->rows, resp->nrows, &resp->final, &r->ropts);
	print_sbuf(r->out, &sb);
	sbuf_free(&sb);
}

/* Sends a reading request and collects its answer; a dropped connection
 * is retried once. Anything but OK is shown. */
static enum run_code fetch(struct runner *r, const struct sbuf *body,
			   struct response *resp)
{
	if (sbuf_failed(body)) {
		notice("out of memory");
		return RUN_FAILED;
	}
	for (int attempt = 0;; attempt++) {
		enum session_status st = session_request(r->s, body->data, resp);

		switch (st) {
		case SESSION_DONE:
			r->no_connection = false;
			if (!response_is(resp, "OK"))
				show_failure(r, resp);
			return run_code_of(resp);
		case SESSION_NO_CONNECTION:
			r->no_connection = true;
			notice("%s", r->s->error);
			return RUN_FAILED;
		case SESSION_INTERRUPTED:
			notice("interrupted: the export was not written");
			return RUN_FAILED;
		case SESSION_DROPPED:
			if (attempt > 0) {
				notice("%s; the export was not written",
				       r->s->error);
				return RUN_FAILED;
			}
			notice("%s; sending it again", r->s->error);
			break;
		}
	}
}

/* ---- rows ---------------------------------------------------------------- */

struct rowset {
	struct proto_request *v;
	size_t n, cap;
};

static void rowset_free(struct rowset *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		proto_request_clear(&rs->v[i]);
	free(rs->v);
	memset(rs, 0, sizeof *rs);
}

/* Adds the row written in line ("* ROW k=v ..."). */
static bool rowset_add(struct rowset *rs, const struct sbuf *line)
{
	if (sbuf_failed(line))
		return false;
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct proto_request *v = realloc(rs->v, cap * sizeof *v);
		if (v == NULL)
			return false;
		rs->v = v;
		rs->cap = cap;
	}
	memset(&rs->v[rs->n], 0, sizeof rs->v[rs->n]);
	if (proto_parse(line->data, line->len, PROTO_PARSE_RESPONSE,
			&rs->v[rs->n], NULL) != CD_OK) {
		proto_request_clear(&rs->v[rs->n]);
		return false;
	}
	rs->n++;
	return true;
}

/* Writes data to path ("-": the runner's output) through a temporary
 * file in the same folder, mode 0600, renamed at the end. */
static enum run_code write_file(struct runner *r, const char *path,
				const struct sbuf *data)
{
	struct sbuf tmp = {0};
	FILE *f;
	int fd;
	bool ok;

	if (sbuf_failed(data)) {
		notice("out of memory");
		return RUN_FAILED;
	}
	if (strcmp(path, "-") == 0) {
		print_sbuf(r->out, data);
		return RUN_OK;
	}
	sbuf_printf(&tmp, "%s.XXXXXX", path);
	if (sbuf_failed(&tmp) || (fd = mkstemp(tmp.data)) < 0) {
		notice("cannot write %s: %s", path, strerror(errno));
		sbuf_free(&tmp);
		return RUN_FAILED;
	}
	f = fdopen(fd, "w");
	ok = f != NULL &&
	     (data->len == 0 || fwrite(data->data, 1, data->len, f) == data->len);
	ok = (f != NULL ? fclose(f) == 0 : close(fd) == 0) && ok;
	if (!ok || rename(tmp.data, path) != 0) {
		notice("cannot write %s: %s", path, strerror(errno));
		unlink(tmp.data);
		sbuf_free(&tmp);
		return RUN_FAILED;
	}
	sbuf_free(&tmp);
	return RUN_OK;
}

/* "Wrote ...": on the output, unless the CSV went there or --raw wants
 * protocol lines only. */
static void summary(struct runner *r, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void summary(struct runner *r, const char *file, const char *fmt, ...)
{
	FILE *f = strcmp(file, "-") == 0 || r->raw ? stderr : r->out;
	va_list ap;

	fflush(r->out);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fflush(f);
}

/* ---- export complaints ----------------------------------------------------- */

struct idlist {
	int64_t *v;
	size_t n, cap;
};

static bool ids_add(struct idlist *l, int64_t id)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		int64_t *v = realloc(l->v, cap * sizeof *v);
		if (v == NULL)
			return false;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = id;
	return true;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* COMPLAINT LIST state=STATE [queue=QUEUE] with the export's other
 * filters and limit=1000; adds the ids; *more: more matched. */
static enum run_code list_ids(struct runner *r, const struct shortcut_result *sr,
			      const char *state, const char *queue,
			      struct idlist *ids, bool *more)
{
	static const char *const passed[] = {"assignee", "customer", NULL};
	struct sbuf body = {0};
	struct response resp = {0};
	enum run_code code;

	sbuf_adds(&body, "COMPLAINT LIST");
	proto_put_kv(&body, "state", state);
	if (queue != NULL)
		proto_put_kv(&body, "queue", queue);
	for (size_t i = 0; passed[i] != NULL; i++) {
		const char *v = proto_get(&sr->args, passed[i]);
		if (v != NULL)
			proto_put_kv(&body, passed[i], v);
	}
	sbuf_printf(&body, " limit=%d", LIST_LIMIT);
	code = fetch(r, &body, &resp);
	sbuf_free(&body);
	if (code == RUN_OK) {
		const char *m = proto_get(&resp.final, "more");
		*more = m != NULL && strcmp(m, "yes") == 0;
		for (size_t i = 0; i < resp.nrows; i++) {
			const char *v = proto_get(&resp.rows[i], "complaint");
			int64_t id;
			if (v != NULL && val_id(v, &id) && !ids_add(ids, id)) {
				notice("out of memory");
				code = RUN_FAILED;
				break;
			}
		}
	}
	response_clear(&resp);
	return code;
}

/* The queues of QUEUE LIST, comma-separated in out. */
static enum run_code queue_names(struct runner *r, struct sbuf *out)
{
	struct sbuf body = {0};
	struct response resp = {0};
	enum run_code code;

	sbuf_adds(&body, "QUEUE LIST");
	code = fetch(r, &body, &resp);
	sbuf_free(&body);
	for (size_t i = 0; code == RUN_OK && i < resp.nrows; i++) {
		const char *q = proto_get(&resp.rows[i], "queue");
		if (q == NULL)
			continue;
		if (out->len > 0)
			sbuf_adds(out, ",");
		sbuf_adds(out, q);
	}
	response_clear(&resp);
	return code;
}

static void warn_incomplete(const char *state, const char *queue)
{
	notice("export: more than %d complaints are %s%s%s; only the oldest "
	       "%d were seen (COMPLAINT LIST has no offset): the file may "
	       "lack some; narrow it with assignee= or customer=",
	       LIST_LIMIT, state, queue ? " in queue " : "",
	       queue ? queue : "", LIST_LIMIT);
}

/* Every complaint the filters can reach, by id, without duplicates;
 * *incomplete when a list was cut at the limit. */
static enum run_code collect_ids(struct runner *r,
				 const struct shortcut_result *sr,
				 struct idlist *ids, bool *incomplete)
{
	const char *state = proto_get(&sr->args, "state");
	const char *queue = proto_get(&sr->args, "queue");
	const char *one[] = {state, NULL};
	const char *const *states = state != NULL ? one : all_states;
	struct sbuf queues = {0};
	bool have_queues = false;
	enum run_code code = RUN_OK;

	for (size_t s = 0; code == RUN_OK && states[s] != NULL; s++) {
		bool more = false;

		code = list_ids(r, sr, states[s], queue, ids, &more);
		if (code != RUN_OK || !more)
			continue;
		if (queue != NULL) {
			warn_incomplete(states[s], queue);
			*incomplete = true;
			continue;
		}
		/* Too many in this state: queue by queue, 1000 each. */
		if (!have_queues) {
			code = queue_names(r, &queues);
			have_queues = code == RUN_OK;
			if (code != RUN_OK)
				break;
		}
		for (const char *p = queues.data; p != NULL && *p != '\0' &&
						  code == RUN_OK;) {
			size_t n = strcspn(p, ",");
			char q[64];
			if (n > 0 && n < sizeof q) {
				memcpy(q, p, n);
				q[n] = '\0';
				more = false;
				code = list_ids(r, sr, states[s], q, ids, &more);
				if (code == RUN_OK && more) {
					warn_incomplete(states[s], q);
					*incomplete = true;
				}
			}
			p += n + (p[n] == ',');
		}
	}
	sbuf_free(&queues);
	if (code == RUN_OK && ids->n > 0) {
		size_t w = 1;
		qsort(ids->v, ids->n, sizeof ids->v[0], cmp_id);
		for (size_t i = 1; i < ids->n; i++)
			if (ids->v[i] != ids->v[w - 1])
				ids->v[w++] = ids->v[i];
		ids->n = w;
	}
	return code;
}

/* COMPLAINT GET id: adds its row when it was opened in [from, to). */
static enum run_code complaint_row(struct runner *r, int64_t id, int64_t from,
				   int64_t to, struct rowset *rows)
{
	static const char *const from_final[] = {
		"state", "queue", "category", "severity", "assignee",
		"customer", "respond_by", "resolve_by"};
	struct sbuf body = {0}, line = {0};
	struct response resp = {0};
	const char *opened = NULL, *resolved = "";
	enum run_code code;
	int64_t t;

	sbuf_printf(&body, "COMPLAINT GET id=%lld", (long long)id);
	code = fetch(r, &body, &resp);
	sbuf_free(&body);
	if (code != RUN_OK)
		goto out;
	for (size_t i = 0; i < resp.nrows; i++) {
		const char *ev = proto_get(&resp.rows[i], "event");
		const char *at = proto_get(&resp.rows[i], "at");
		if (ev == NULL || at == NULL)
			continue;
		if (opened == NULL && strcmp(ev, "opened") == 0)
			opened = at;
		if (strcmp(ev, "resolved") == 0)
			resolved = at;
	}
	if (opened == NULL || !val_time_parse(opened, &t) || t < from || t >= to)
		goto out;
	sbuf_adds(&line, "* ROW");
	sbuf_printf(&line, " complaint=%lld", (long long)id);
	proto_put_kv(&line, "opened", opened);
	for (size_t k = 0; k < sizeof from_final / sizeof from_final[0]; k++) {
		const char *v = proto_get(&resp.final, from_final[k]);
		proto_put_kv(&line, from_final[k], v != NULL ? v : "");
	}
	proto_put_kv(&line, "resolved", resolved);
	{
		const char *v = proto_get(&resp.final, "summary");
		proto_put_kv(&line, "summary", v != NULL ? v : "");
	}
	if (!rowset_add(rows, &line)) {
		notice("out of memory");
		code = RUN_FAILED;
	}
out:
	sbuf_free(&line);
	response_clear(&resp);
	return code;
}

static enum run_code export_complaints(struct runner *r,
				       const struct shortcut_result *sr)
{
	struct idlist ids = {0};
	struct rowset rows = {0};
	struct sbuf csv = {0};
	bool incomplete = false;
	int64_t from, to;
	enum run_code code;

	if (!val_time_parse(sr->from, &from) || !val_time_parse(sr->to, &to))
		return RUN_REFUSED;
	code = collect_ids(r, sr, &ids, &incomplete);
	for (size_t i = 0; code == RUN_OK && i < ids.n; i++)
		code = complaint_row(r, ids.v[i], from, to, &rows);
	if (code == RUN_OK) {
		render_csv_rows(&csv, rows.v, rows.n, complaint_columns);
		code = write_file(r, sr->file.data, &csv);
	}
	if (code == RUN_OK)
		summary(r, sr->file.data, "Wrote %zu complaint%s opened from %s "
			"to %s (of %zu listed) to %s%s\n", rows.n,
			rows.n == 1 ? "" : "s", sr->from, sr->to, ids.n,
			strcmp(sr->file.data, "-") == 0 ? "standard output" :
			sr->file.data, incomplete ? " (incomplete: see above)" :
			"");
	sbuf_free(&csv);
	rowset_free(&rows);
	free(ids.v);
	return code;
}

/* ---- export stats ------------------------------------------------------------ */

/* STATS for one name (key NULL: the caller) over [from, to); adds a row
 * scope=, name=, then the answer's fields. */
static enum run_code stats_row(struct runner *r, const char *key,
			       const char *name, const char *from,
			       const char *to, struct rowset *rows)
{
	struct sbuf body = {0}, line = {0};
	struct response resp = {0};
	enum run_code code;

	sbuf_adds(&body, "STATS");
	if (key != NULL)
		proto_put_kv(&body, key, name);
	proto_put_kv(&body, "from", from);
	proto_put_kv(&body, "to", to);
	code = fetch(r, &body, &resp);
	sbuf_free(&body);
	if (code == RUN_OK) {
		sbuf_adds(&line, "* ROW");
		proto_put_kv(&line, "scope", key != NULL ? key : "agent");
		proto_put_kv(&line, "name", name);
		for (size_t a = 0; a < resp.final.nargs; a++)
			if (strcmp(resp.final.args[a].key, "scope") != 0 &&
			    strcmp(resp.final.args[a].key, "name") != 0)
				proto_put_kv(&line, resp.final.args[a].key,
					     resp.final.args[a].value);
		if (!rowset_add(rows, &line)) {
			notice("out of memory");
			code = RUN_FAILED;
		}
	}
	sbuf_free(&line);
	response_clear(&resp);
	return code;
}

static enum run_code export_stats(struct runner *r,
				  const struct shortcut_result *sr)
{
	static const char *const selections[] = {"agent", "team", "queue",
						 "dept", NULL};
	const char *key = NULL, *names = NULL;
	bool by_day = proto_get(&sr->args, "by") != NULL;
	struct rowset rows = {0};
	struct sbuf csv = {0};
	int64_t from, to;
	enum run_code code = RUN_OK;

	if (!val_time_parse(sr->from, &from) || !val_time_parse(sr->to, &to))
		return RUN_REFUSED;
	if (by_day && (to - from + DAY_S - 1) / DAY_S > MAX_DAYS) {
		notice("export stats: by=day covers at most %d days", MAX_DAYS);
		return RUN_REFUSED;
	}
	for (size_t i = 0; selections[i] != NULL && key == NULL; i++)
		if ((names = proto_get(&sr->args, selections[i])) != NULL)
			key = selections[i];
	if (key == NULL)
		names = r->s->p.user;
	for (const char *p = names; code == RUN_OK && *p != '\0';) {
		size_t n = strcspn(p, ",");
		char name[128];

		if (n > 0 && n < sizeof name) {
			memcpy(name, p, n);
			name[n] = '\0';
			for (int64_t t = from; code == RUN_OK && t < to;) {
				int64_t end = by_day && t + DAY_S < to ?
					      t + DAY_S : to;
				char f[32], e[32];
				val_time_format(t, f);
				val_time_format(end, e);
				code = stats_row(r, key, name, f, e, &rows);
				t = end;
			}
		}
		p += n + (p[n] == ',');
	}
	if (code == RUN_OK) {
		render_csv_rows(&csv, rows.v, rows.n, stats_columns);
		code = write_file(r, sr->file.data, &csv);
	}
	if (code == RUN_OK)
		summary(r, sr->file.data, "Wrote %zu row%s of figures from %s to "
			"%s to %s\n", rows.n, rows.n == 1 ? "" : "s", sr->from,
			sr->to, strcmp(sr->file.data, "-") == 0 ?
			"standard output" : sr->file.data);
	sbuf_free(&csv);
	rowset_free(&rows);
	return code;
}

/* ---- the commands ------------------------------------------------------------ */

enum run_code report_export(struct runner *r, const struct shortcut_result *sr)
{
	enum run_code code = strcmp(sr->what, "stats") == 0 ?
			     export_stats(r, sr) : export_complaints(r, sr);

	r->shown++;
	return code;
}

enum run_code report_stats(struct runner *r, const struct shortcut_result *sr)
{
	struct req_prepared req;
	struct response resp = {0};
	bool quiet = r->quiet;
	enum run_code code;

	if (!req_prepare(sr->request.data, NULL, &req)) {
		req_prepared_free(&req);
		return RUN_OK;
	}
	/* Shown here, as figures; --raw prints the lines as they came. */
	r->quiet = true;
	code = run_request(r, &req, &resp);
	r->quiet = quiet;
	req_prepared_free(&req);
	if (!r->raw && resp.final.verb[0] != '\0') {
		struct sbuf sb = {0};
		if (!r->interactive && r->shown > 1)
			sbuf_adds(&sb, "\n");
		if (response_is(&resp, "OK"))
			render_stats(&sb, &resp.final, &r->ropts);
		else
			render_response(&sb, resp.rows, resp.nrows, &resp.final,
					&r->ropts);
		print_sbuf(r->out, &sb);
		sbuf_free(&sb);
	}
	response_clear(&resp);
	return code;
}

enum run_code report_run_line(struct runner *r, const char *line)
{
	struct shortcut_result sr;
	enum run_code code;

	switch (shortcut_expand_report(line, &sr)) {
	case SHORTCUT_STATS:
		code = report_stats(r, &sr);
		break;
	case SHORTCUT_EXPORT:
		code = report_export(r, &sr);
		break;
	case SHORTCUT_USAGE:
		fflush(r->out);
		fprintf(stderr, "calldesk: %s\n", sr.message);
		code = RUN_REFUSED;
		break;
	default:
		code = run_line(r, line);
		break;
	}
	shortcut_result_free(&sr);
	return code;
}
