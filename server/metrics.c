/* metrics.c: the Prometheus endpoint and the counters behind it.
 *
 * Counters and histograms are series keyed by their rendered label set
 * (verb="COMPLAINT",sub="OPEN",...), in small arrays searched linearly:
 * the labels come from the command table and the error codes, so there
 * are a few hundred at most, and a cap keeps a bug from growing them
 * without bound. The database gauges are cached: a timer refreshes them
 * every GAUGE_REFRESH_S seconds while scrapes keep coming, so a scrape
 * never waits on PostgreSQL and an unscraped server sends it nothing. */
#include "metrics.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "db.h"
#include "events.h"
#include "handlers.h"
#include "log.h"
#include "offer.h"
#include "proto.h"
#include "server.h"
#include "session.h"

#define GAUGE_REFRESH_S 5
#define SCRAPE_IDLE_S 120       /* no scrape for this long: stop refreshing */
#define HTTP_TIMEOUT_S 10
#define MAX_SERIES 1024         /* per set; more is a bug, not traffic */
#define LABELS_MAX 192
#define LABEL_VALUE_MAX 64

static const char *const bucket_le[] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};
static const double bucket_bound[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};
#define NBUCKETS (sizeof bucket_bound / sizeof bucket_bound[0])

struct series {
	char labels[LABELS_MAX];        /* rendered, without braces */
	uint64_t value;                 /* counters; histograms: count */
	uint64_t buckets[NBUCKETS];     /* histograms: per bucket, not cumulative */
	double sum;                     /* histograms */
};

struct series_set {
	struct series *v;
	size_t n, cap;
	unsigned long refused;          /* past MAX_SERIES */
};

/* One gauge read from PostgreSQL by cd_metrics_gauges(). */
struct db_gauge {
	char kind[32];
	char name[CFG_NAME_MAX + 1];
	long long value;
};

/* Which metric each kind of database gauge becomes. */
static const struct gauge_family {
	const char *kind;
	const char *metric;
	const char *label;              /* NULL: a single unlabelled value */
	const char *help;
} gauge_families[] = {
	{ "queue_waiting", "calldesk_queue_waiting", "queue",
	  "Complaints waiting in the queue (new or reopened)." },
	{ "queue_oldest_wait", "calldesk_queue_oldest_wait_seconds", "queue",
	  "Age of the longest-waiting complaint in the queue." },
	{ "queue_agents_ready", "calldesk_queue_agents_ready", "queue",
	  "Agents skilled for the queue who are ready and idle." },
	{ "agents", "calldesk_agents", "state",
	  "Enabled users of the roles agent and above, by chosen state." },
	{ "in_interaction", "calldesk_agents_in_interaction", NULL,
	  "Agents with an interaction going on." },
	{ "escalations_pending", "calldesk_escalations_pending", NULL,
	  "Escalations waiting for a decision." },
	{ "handoffs_open", "calldesk_handoffs_open", "dept",
	  "Hand-offs not done, by department." },
};

/* Lets a refresh in flight outlive the struct: metrics_free() clears m. */
struct refresh_ticket {
	struct metrics *m;
};

struct metrics {
	struct server *srv;
	bool enabled;
	struct evhttp *http;
	struct event *timer;
	time_t started;                 /* wall clock, for start_time */
	struct series_set requests;     /* verb, sub, result, code */
	struct series_set latency;      /* verb, sub */
	struct series_set decisions;    /* decision */
	struct db_gauge *gauges;
	size_t ngauges;
	double gauges_at;               /* metrics_now() of the last refresh; 0 never */
	double last_scrape;
	struct refresh_ticket *inflight;
	unsigned long refresh_errors;
};

double metrics_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- series ------------------------------------------------------------ */

/* Appends key="value" (Prometheus escapes, value cut to LABEL_VALUE_MAX)
 * to a label set being built in buf. */
static void label_add(char *buf, size_t size, const char *key, const char *value)
{
	size_t off = strlen(buf);
	int n = snprintf(buf + off, size - off, "%s%s=\"", off > 0 ? "," : "", key);
	if (n < 0 || (size_t)n >= size - off)
		return;
	off += (size_t)n;
	for (size_t i = 0; value != NULL && value[i] != '\0' && i < LABEL_VALUE_MAX; i++) {
		char c = value[i];
		const char *esc = c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n" : NULL;
		size_t need = esc != NULL ? 2 : 1;
		if (off + need + 2 > size)
			break;
		if (esc != NULL)
			memcpy(buf + off, esc, 2);
		else
			buf[off] = c;
		off += need;
	}
	buf[off++] = '"';
	buf[off] = '\0';
}

/* The series with these labels, added when new; NULL past the cap or
 * without memory (the event is then only counted as refused). */
static struct series *series_get(struct series_set *set, const char *labels)
{
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->v[i].labels, labels) == 0)
			return &set->v[i];
	if (set->n == MAX_SERIES) {
		set->refused++;
		return NULL;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap > 0 ? set->cap * 2 : 32;
		struct series *v = realloc(set->v, cap * sizeof *v);
		if (v == NULL) {
			set->refused++;
			return NULL;
		}
		set->v = v;
		set->cap = cap;
	}
	struct series *s = &set->v[set->n++];
	memset(s, 0, sizeof *s);
	snprintf(s->labels, sizeof s->labels, "%s", labels);
	return s;
}

static void series_free(struct series_set *set)
{
	free(set->v);
	memset(set, 0, sizeof *set);
}

/* ---- counting ------------------------------------------------------------ */

void metrics_request(struct metrics *m, const char *verb, const char *sub,
		     const char *result, const char *code, double seconds)
{
	if (m == NULL || !m->enabled)
		return;
	char labels[LABELS_MAX] = "";
	label_add(labels, sizeof labels, "verb", verb != NULL && verb[0] ? verb : "unknown");
	label_add(labels, sizeof labels, "sub", sub != NULL ? sub : "");
	struct series *h = series_get(&m->latency, labels);
	if (h != NULL) {
		size_t b = 0;
		while (b < NBUCKETS && seconds > bucket_bound[b])
			b++;
		if (b < NBUCKETS)
			h->buckets[b]++;
		h->value++;
		h->sum += seconds > 0 ? seconds : 0;
	}
	label_add(labels, sizeof labels, "result", result != NULL ? result : "");
	label_add(labels, sizeof labels, "code", code != NULL ? code : "");
	struct series *c = series_get(&m->requests, labels);
	if (c != NULL)
		c->value++;
}

static bool is_result_word(const char *w, size_t n)
{
	return (n == 2 && (memcmp(w, "OK", 2) == 0 || memcmp(w, "NO", 2) == 0)) ||
	       (n == 3 && (memcmp(w, "BAD", 3) == 0 || memcmp(w, "ERR", 3) == 0));
}

void metrics_answer(struct metrics *m, const char *verb, const char *sub,
		    const char *out, size_t len, double seconds)
{
	if (m == NULL || !m->enabled)
		return;
	char word[4] = "", code[40] = "";
	if (out == NULL)
		len = 0;
	const char *end = out + len;
	for (const char *line = out; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		/* TAG SP WORD [SP key=value ...] */
		const char *w = memchr(line, ' ', (size_t)(eol - line));
		if (w != NULL) {
			w++;
			const char *we = memchr(w, ' ', (size_t)(eol - w));
			if (we == NULL)
				we = eol;
			if (is_result_word(w, (size_t)(we - w))) {
				memcpy(word, w, (size_t)(we - w));
				word[we - w] = '\0';
				code[0] = '\0';
				/* Codes are bare words: no quoting to undo. */
				for (const char *p = we; p != NULL && p < eol;) {
					if (eol - p > 6 && memcmp(p, " code=", 6) == 0) {
						const char *v = p + 6;
						size_t n = 0;
						while (v + n < eol && v[n] != ' ' && n < sizeof code - 1)
							n++;
						memcpy(code, v, n);
						code[n] = '\0';
						break;
					}
					p = memchr(p + 1, ' ', (size_t)(eol - p - 1));
				}
			}
		}
		line = eol + 1;
	}
	metrics_request(m, verb, sub, word[0] ? word : "unknown", code, seconds);
}

void metrics_decision(struct metrics *m, const char *decision)
{
	if (m == NULL || !m->enabled)
		return;
	char labels[LABELS_MAX] = "";
	label_add(labels, sizeof labels, "decision", decision != NULL ? decision : "");
	struct series *s = series_get(&m->decisions, labels);
	if (s != NULL)
		s->value++;
}

/* ---- database gauges ------------------------------------------------------- */

static void refresh_done(void *arg, const struct db_result *r)
{
	struct refresh_ticket *t = arg;
	struct metrics *m = t->m;
	free(t);
	if (m == NULL)
		return;
	m->inflight = NULL;
	if (r->status != DB_OK) {
		m->refresh_errors++;
		log_debug("metrics: reading gauges failed: %s", r->message);
		return;
	}
	int rows = PQntuples(r->res);
	struct db_gauge *g = calloc(rows > 0 ? (size_t)rows : 1, sizeof *g);
	if (g == NULL) {
		m->refresh_errors++;
		return;
	}
	for (int i = 0; i < rows; i++) {
		snprintf(g[i].kind, sizeof g[i].kind, "%s", PQgetvalue(r->res, i, 0));
		snprintf(g[i].name, sizeof g[i].name, "%s", PQgetvalue(r->res, i, 1));
		g[i].value = strtoll(PQgetvalue(r->res, i, 2), NULL, 10);
	}
	free(m->gauges);
	m->gauges = g;
	m->ngauges = (size_t)rows;
	m->gauges_at = metrics_now();
}

static void refresh_start(struct metrics *m)
{
	if (m->inflight != NULL)
		return;
	struct refresh_ticket *t = malloc(sizeof *t);
	if (t == NULL)
		return;
	t->m = m;
	m->inflight = t;
	struct sbuf queues = { 0 }, skills = { 0 };
	catalog_queue_arrays(m->srv->cfg, NULL, &queues, &skills);
	const char *params[2] = { queues.data, skills.data };
	db_exec(m->srv->db, "SELECT kind, name, value FROM cd_metrics_gauges($1, $2)",
		2, params, refresh_done, t);
	sbuf_free(&queues);
	sbuf_free(&skills);
}

/* Refreshes while scrapes come, and once at start. */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;
	(void)fd;
	(void)what;
	if (m->gauges_at == 0 || metrics_now() - m->last_scrape < SCRAPE_IDLE_S)
		refresh_start(m);
}

/* ---- rendering ------------------------------------------------------------- */

static void family(struct sbuf *sb, const char *name, const char *type,
		   const char *help)
{
	sbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct sbuf *sb, const char *name, const char *labels,
		   uint64_t value)
{
	if (labels != NULL && labels[0] != '\0')
		sbuf_printf(sb, "%s{%s} %" PRIu64 "\n", name, labels, value);
	else
		sbuf_printf(sb, "%s %" PRIu64 "\n", name, value);
}

static void one(struct sbuf *sb, const char *name, const char *type,
		const char *help, uint64_t value)
{
	family(sb, name, type, help);
	sample(sb, name, NULL, value);
}

static void render_counters(struct sbuf *sb, const struct series_set *set,
			    const char *name, const char *help)
{
	family(sb, name, "counter", help);
	for (size_t i = 0; i < set->n; i++)
		sample(sb, name, set->v[i].labels, set->v[i].value);
}

static void render_latency(struct sbuf *sb, const struct series_set *set)
{
	const char *name = "calldesk_request_duration_seconds";
	family(sb, name, "histogram",
	       "Time from a request line's arrival to its answer, by verb.");
	for (size_t i = 0; i < set->n; i++) {
		const struct series *s = &set->v[i];
		uint64_t cum = 0;
		for (size_t b = 0; b < NBUCKETS; b++) {
			cum += s->buckets[b];
			sbuf_printf(sb, "%s_bucket{%s,le=\"%s\"} %" PRIu64 "\n", name,
				    s->labels, bucket_le[b], cum);
		}
		sbuf_printf(sb, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name,
			    s->labels, s->value);
		sbuf_printf(sb, "%s_sum{%s} %.6f\n", name, s->labels, s->sum);
		sbuf_printf(sb, "%s_count{%s} %" PRIu64 "\n", name, s->labels, s->value);
	}
}

static void render_sessions(struct sbuf *sb, const struct server *srv)
{
	uint64_t handshake = 0, anonymous = 0, logged_in = 0, watching = 0;
	uint64_t by_role[ROLE_ADMIN + 1] = { 0 };
	const struct session *s;
	TAILQ_FOREACH(s, &srv->sessions, link) {
		if (s->dead)
			continue;
		if (!s->handshaken) {
			handshake++;
		} else if (!s->logged_in) {
			anonymous++;
		} else {
			logged_in++;
			if (s->role >= ROLE_NONE && s->role <= ROLE_ADMIN)
				by_role[s->role]++;
			if (s->watching)
				watching++;
		}
	}
	one(sb, "calldesk_connections", "gauge", "Client connections open.",
	    (uint64_t)(srv->nsessions > 0 ? srv->nsessions : 0));
	family(sb, "calldesk_sessions", "gauge",
	       "Live sessions by stage: TLS handshake, before LOGIN, logged in.");
	sample(sb, "calldesk_sessions", "stage=\"handshake\"", handshake);
	sample(sb, "calldesk_sessions", "stage=\"login\"", anonymous);
	sample(sb, "calldesk_sessions", "stage=\"logged_in\"", logged_in);
	family(sb, "calldesk_sessions_by_role", "gauge", "Logged-in sessions by role.");
	for (int r = ROLE_INTEGRATION; r <= ROLE_ADMIN; r++) {
		char labels[LABELS_MAX] = "";
		label_add(labels, sizeof labels, "role", role_name((enum role)r));
		sample(sb, "calldesk_sessions_by_role", labels, by_role[r]);
	}
	one(sb, "calldesk_watchers", "gauge", "Sessions with an active WATCH.", watching);
}

static void render_db(struct sbuf *sb, const struct server *srv)
{
	struct db_stats st;
	db_pool_stats(srv->db, &st);
	one(sb, "calldesk_db_up", "gauge",
	    "1 when the pool has a live connection to PostgreSQL.",
	    db_pool_up(srv->db) ? 1 : 0);
	one(sb, "calldesk_db_pool_size", "gauge", "Connections the pool keeps.",
	    (uint64_t)st.size);
	one(sb, "calldesk_db_connections", "gauge", "Pool connections established.",
	    (uint64_t)st.connected);
	one(sb, "calldesk_db_connections_busy", "gauge",
	    "Pool connections running a statement or held for a transaction.",
	    (uint64_t)st.busy);
	one(sb, "calldesk_db_waiting", "gauge",
	    "Statements waiting for a free connection.", (uint64_t)st.waiting);
	one(sb, "calldesk_db_errors_total", "counter",
	    "Statements that failed (SQL error, lost connection, timeout).",
	    st.errors);
	one(sb, "calldesk_db_reconnects_total", "counter",
	    "Connections re-established after a failure.", st.reconnects);
}

static void render_db_gauges(struct sbuf *sb, const struct metrics *m)
{
	one(sb, "calldesk_db_gauges_errors_total", "counter",
	    "Failed reads of the database gauges.", m->refresh_errors);
	if (m->gauges_at == 0)
		return; /* never read: absent, not zero */
	family(sb, "calldesk_db_gauges_age_seconds", "gauge",
	       "Age of the cached database gauges below.");
	sbuf_printf(sb, "calldesk_db_gauges_age_seconds %.3f\n",
		    metrics_now() - m->gauges_at);
	for (size_t f = 0; f < sizeof gauge_families / sizeof gauge_families[0]; f++) {
		const struct gauge_family *gf = &gauge_families[f];
		family(sb, gf->metric, "gauge", gf->help);
		for (size_t i = 0; i < m->ngauges; i++) {
			const struct db_gauge *g = &m->gauges[i];
			if (strcmp(g->kind, gf->kind) != 0)
				continue;
			char labels[LABELS_MAX] = "";
			if (gf->label != NULL)
				label_add(labels, sizeof labels, gf->label, g->name);
			sample(sb, gf->metric, labels,
			       (uint64_t)(g->value > 0 ? g->value : 0));
		}
	}
}

static void render(struct sbuf *sb, struct metrics *m)
{
	const struct server *srv = m->srv;
	char labels[LABELS_MAX] = "";
	label_add(labels, sizeof labels, "version", srv->version);
	label_add(labels, sizeof labels, "node", srv->node);
	family(sb, "calldesk_build_info", "gauge", "The server's version and node name.");
	sample(sb, "calldesk_build_info", labels, 1);
	one(sb, "calldesk_start_time_seconds", "gauge",
	    "When the server started, in seconds since the epoch.",
	    (uint64_t)m->started);
	render_sessions(sb, srv);
	render_counters(sb, &m->requests, "calldesk_requests_total",
			"Requests answered, by verb, sub-verb, result word and code.");
	render_latency(sb, &m->latency);
	render_counters(sb, &m->decisions, "calldesk_rule_decisions_total",
			"Decisions of the empowerment rules, by outcome.");
	one(sb, "calldesk_metrics_series_refused_total", "counter",
	    "Label sets not counted because a series table was full.",
	    m->requests.refused + m->latency.refused + m->decisions.refused);
	render_db(sb, srv);
	if (srv->events != NULL) {
		unsigned long pushed = 0, dropped = 0;
		events_stats(srv->events, &pushed, &dropped);
		one(sb, "calldesk_events_pushed_total", "counter",
		    "Event lines handed to sessions.", pushed);
		one(sb, "calldesk_offers_total", "counter",
		    "Complaints this node offered to ready agents (offer_work).",
		    offer_count(srv->offer));
		one(sb, "calldesk_watchers_dropped_total", "counter",
		    "Watchers disconnected for reading events too slowly.", dropped);
	}
	render_db_gauges(sb, m);
}

/* ---- HTTP ------------------------------------------------------------------ */

static void reply(struct evhttp_request *req, int code, const char *reason,
		  const char *type, const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	struct evbuffer *b = evbuffer_new();
	/* HEAD: the same headers as GET, with the GET body's length, and no
	 * body (RFC 9110 §9.3.2). */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		char n[24];
		snprintf(n, sizeof n, "%zu", len);
		evhttp_add_header(h, "Content-Length", n);
		len = 0;
	}
	if (b != NULL && len > 0 && evbuffer_add(b, body, len) != 0) {
		evbuffer_free(b);
		b = NULL;
	}
	if (b == NULL) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

static void metrics_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	double now = metrics_now();
	m->last_scrape = now;
	/* After an idle spell the cache is old: read it anew for the next
	 * scrape (this one says how old it is). */
	if (now - m->gauges_at > 2 * GAUGE_REFRESH_S)
		refresh_start(m);
	struct sbuf sb = { 0 };
	render(&sb, m);
	if (sbuf_failed(&sb))
		evhttp_send_error(req, 500, "Internal Server Error");
	else
		reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
		      sb.data != NULL ? sb.data : "", sb.len);
	sbuf_free(&sb);
}

static void health_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	const char *type = "text/plain; charset=utf-8";
	if (m->srv->stopping)
		reply(req, 503, "Service Unavailable", type, "stopping\n", 9);
	else if (!db_pool_up(m->srv->db))
		reply(req, 503, "Service Unavailable", type, "database unavailable\n", 21);
	else
		reply(req, 200, "OK", type, "ok\n", 3);
}

static void other_cb(struct evhttp_request *req, void *arg)
{
	(void)arg;
	reply(req, 404, "Not Found", "text/plain; charset=utf-8",
	      "not found: try /metrics or /health\n", 35);
}

/* "host:port" or "[v6]:port", as config.c accepted it. */
static bool split_hostport(const char *spec, char *host, size_t hostlen,
			   uint16_t *port)
{
	const char *colon;
	size_t n;
	if (spec[0] == '[') {
		colon = strstr(spec, "]:");
		if (colon == NULL)
			return false;
		n = (size_t)(colon - spec - 1);
		spec++;
		colon++;
	} else {
		colon = strrchr(spec, ':');
		if (colon == NULL)
			return false;
		n = (size_t)(colon - spec);
	}
	char *end;
	long p = strtol(colon + 1, &end, 10);
	if (n == 0 || n >= hostlen || *end != '\0' || p < 1 || p > 65535)
		return false;
	memcpy(host, spec, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return true;
}

static bool start_http(struct metrics *m, const char *spec)
{
	char host[64];
	uint16_t port;
	if (!split_hostport(spec, host, sizeof host, &port)) {
		log_error("metrics: cannot parse %s (host:port)", spec);
		return false;
	}
	m->http = evhttp_new(m->srv->base);
	m->timer = event_new(m->srv->base, -1, EV_PERSIST, timer_cb, m);
	if (m->http == NULL || m->timer == NULL) {
		log_error("metrics: out of memory");
		return false;
	}
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(m->http, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(m->http, 8192);
	evhttp_set_max_body_size(m->http, 1024);
	if (evhttp_set_cb(m->http, "/metrics", metrics_cb, m) != 0 ||
	    evhttp_set_cb(m->http, "/health", health_cb, m) != 0) {
		log_error("metrics: cannot register the handlers");
		return false;
	}
	evhttp_set_gencb(m->http, other_cb, m);
	if (evhttp_bind_socket_with_handle(m->http, host, port) == NULL) {
		log_error("metrics: cannot listen on %s", spec);
		return false;
	}
	struct timeval tv = { GAUGE_REFRESH_S, 0 };
	event_add(m->timer, &tv);
	log_info("metrics on http://%s/metrics", spec);
	return true;
}

struct metrics *metrics_new(struct server *srv)
{
	struct metrics *m = calloc(1, sizeof *m);
	if (m == NULL) {
		log_error("metrics: out of memory");
		return NULL;
	}
	m->srv = srv;
	m->started = time(NULL);
	const char *spec = srv->cfg->metrics;
	if (spec == NULL || spec[0] == '\0')
		return m;
	m->enabled = true;
	if (!start_http(m, spec)) {
		metrics_free(&m);
		return NULL;
	}
	return m;
}

void metrics_free(struct metrics **mp)
{
	struct metrics *m = mp != NULL ? *mp : NULL;
	if (m == NULL)
		return;
	if (m->inflight != NULL)
		m->inflight->m = NULL; /* its callback frees it */
	if (m->timer != NULL)
		event_free(m->timer);
	if (m->http != NULL)
		evhttp_free(m->http);
	series_free(&m->requests);
	series_free(&m->latency);
	series_free(&m->decisions);
	free(m->gauges);
	free(m);
	*mp = NULL;
}
