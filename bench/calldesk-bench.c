/* calldesk-bench.c: the load generator's start-up, its phases and its
 * report. The connections themselves live in conn.c.
 *
 * Phases: set-up (connections open and log in, at most --setup-timeout),
 * warm-up (requests flow, nothing is recorded), measurement (--seconds, or
 * until --requests were sent), drain (no new requests; the answers owed
 * are awaited, at most --drain-timeout). Only requests sent during the
 * measurement count; its duration runs to the last of their answers.
 *
 * next: the measurement also ends when every agent was told that the
 * queues are empty. fanout: the warm-up lets the set-up's own events pass;
 * the measurement is the driver's --toggles changes, --interval ms apart
 * (--seconds is only a bound), and the drain waits for the answer to the
 * last change and for every watcher to have seen every change. */
#include "bench.h"

#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/err.h>

#include <event2/event.h>

/* Messages about single connections printed before going quiet. */
#define MAX_COMPLAINTS 10

static void phase_timer(struct bench *b, double seconds);

/* Nothing more to wait for: no answer owed, and with fanout every watcher
 * has seen every change sent. */
static bool idle(const struct bench *b)
{
	return b->inflight == 0 && conns_caught_up(b);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_complain(struct bench *b, unsigned i, const char *fmt, ...)
{
	va_list ap;

	if (++b->complaints > MAX_COMPLAINTS) {
		if (b->complaints == MAX_COMPLAINTS + 1)
			fprintf(stderr, "calldesk-bench: (further connection messages not shown)\n");
		return;
	}
	fprintf(stderr, "calldesk-bench: connection %u: ", i);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void bench_count_code(struct bench *b, const char *cls, const char *code, bool setup)
{
	char name[sizeof(b->codes[0].name)];
	unsigned i;

	snprintf(name, sizeof(name), "%s%s %s", setup ? "set-up " : "", cls, code);
	for (i = 0; i < b->ncodes; i++)
		if (strcmp(b->codes[i].name, name) == 0)
			break;
	if (i == b->ncodes) {
		if (b->ncodes == BENCH_MAX_CODES) {
			i = BENCH_MAX_CODES - 1;
			snprintf(b->codes[i].name, sizeof(b->codes[i].name), "(others)");
		} else {
			snprintf(b->codes[i].name, sizeof(b->codes[i].name), "%s", name);
			b->ncodes++;
		}
	}
	b->codes[i].n++;
}

/* The end: whatever is still in flight will not be answered in time. */
static void finish(struct bench *b)
{
	if (b->phase == PH_DONE)
		return;
	if (b->t_stop == 0)
		b->t_stop = now_ns();
	b->phase = PH_DONE;
	b->c.unanswered += b->inflight;
	event_base_loopbreak(b->base);
}

static void start_drain(struct bench *b)
{
	b->phase = PH_DRAIN;
	b->t_stop = now_ns();
	if (b->toggle_timer != NULL)
		evtimer_del(b->toggle_timer);
	if (idle(b))
		finish(b);
	else
		phase_timer(b, b->opt.drain_timeout);
}

static void start_measure(struct bench *b)
{
	b->phase = PH_MEASURE;
	b->t_measure = now_ns();
	phase_timer(b, b->opt.seconds);
	if (b->opt.workload == WL_FANOUT)
		conns_toggle(b, b->t_measure);
	else if (b->opt.workload == WL_NEXT && b->ready > 0 && b->exhausted >= b->ready)
		start_drain(b);
}

/* Set-up is over (all settled, or the deadline): send. */
static void begin_run(struct bench *b)
{
	if (b->phase != PH_SETUP)
		return;
	if (b->ready == 0) {
		fprintf(stderr, "calldesk-bench: no connection could be set up\n");
		finish(b);
		return;
	}
	if (b->ready < b->nconns)
		fprintf(stderr, "calldesk-bench: %u of %u connections ready; running with those\n",
			b->ready, b->nconns);
	if (b->opt.workload == WL_FANOUT) {
		conns_start(b, now_ns());
		if (!b->driver_ready || b->watching == 0) {
			fprintf(stderr, "calldesk-bench: fanout needs the driver and a watcher\n");
			finish(b);
			return;
		}
		b->phase = PH_WARMUP;
		if (b->opt.warmup > 0)
			phase_timer(b, b->opt.warmup);
		else
			start_measure(b);
		return;
	}
	if (b->opt.warmup > 0) {
		b->phase = PH_WARMUP;
		phase_timer(b, b->opt.warmup);
	} else {
		start_measure(b);
	}
	conns_start(b, now_ns());
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;

	(void)fd;
	(void)what;
	switch (b->phase) {
	case PH_SETUP:
		fprintf(stderr, "calldesk-bench: set-up took over %g s\n", b->opt.setup_timeout);
		conns_drop_unready(b);
		begin_run(b);
		break;
	case PH_WARMUP:
		start_measure(b);
		break;
	case PH_MEASURE:
		start_drain(b);
		break;
	case PH_DRAIN:
		if (b->inflight > 0)
			fprintf(stderr, "calldesk-bench: %" PRIu64 " answers still owed after %g s\n",
				b->inflight, b->opt.drain_timeout);
		if (!conns_caught_up(b))
			fprintf(stderr, "calldesk-bench: events still missing %g s after the"
				" last change\n", b->opt.drain_timeout);
		finish(b);
		break;
	case PH_DONE:
		break;
	}
}

static void timer_in(struct event *ev, double seconds)
{
	struct timeval tv;

	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(ev, &tv);
}

/* fanout: the pause after a change is over. */
static void on_toggle_timer(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;

	(void)fd;
	(void)what;
	if (b->phase == PH_MEASURE)
		conns_toggle(b, now_ns());
}

void bench_toggled(struct bench *b)
{
	if (b->phase != PH_MEASURE)
		return;
	if (b->toggles_sent >= b->opt.toggles)
		start_drain(b);
	else if (b->opt.interval_ms == 0)
		conns_toggle(b, now_ns());
	else
		timer_in(b->toggle_timer, b->opt.interval_ms / 1000.0);
}

void bench_exhausted(struct bench *b)
{
	if ((b->phase == PH_WARMUP || b->phase == PH_MEASURE) && b->exhausted >= b->ready) {
		if (b->phase == PH_WARMUP)
			fprintf(stderr, "calldesk-bench: the queues were empty before the measurement\n");
		start_drain(b);
	}
}

static void phase_timer(struct bench *b, double seconds)
{
	timer_in(b->timer, seconds);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct bench *b = arg;

	(void)what;
	b->signal = (int)sig;
	if (++b->interrupts == 1 && (b->phase == PH_WARMUP || b->phase == PH_MEASURE)) {
		fprintf(stderr, "calldesk-bench: signal %d: stopping, waiting for answers owed\n",
			(int)sig);
		start_drain(b);
		return;
	}
	finish(b);
}

void bench_settled(struct bench *b)
{
	if (b->phase == PH_SETUP && b->settled == b->nconns)
		begin_run(b);
}

void bench_conn_gone(struct bench *b)
{
	if (b->phase == PH_SETUP || b->phase == PH_DONE)
		return;
	if (b->ready == 0) {
		fprintf(stderr, "calldesk-bench: every connection is gone\n");
		finish(b);
	} else if (b->opt.workload == WL_FANOUT && (!b->driver_ready || b->ready == 1)) {
		fprintf(stderr, "calldesk-bench: the %s is gone\n",
			b->driver_ready ? "last watcher" : "driver");
		finish(b);
	} else if (b->opt.workload == WL_NEXT) {
		bench_exhausted(b);
	}
}

bool bench_may_send(struct bench *b)
{
	if (b->phase == PH_WARMUP)
		return true;
	if (b->phase != PH_MEASURE)
		return false;
	if (b->opt.requests > 0 && b->sent_measured >= b->opt.requests)
		return false;
	b->sent_measured++;
	return true;
}

void bench_answered(struct bench *b)
{
	if (!idle(b))
		return;
	if (b->phase == PH_DRAIN)
		finish(b);
	else if (b->phase == PH_MEASURE && b->opt.requests > 0 &&
		b->sent_measured >= b->opt.requests)
		finish(b);
}

static bool tls_init(struct bench *b)
{
	const struct options *o = &b->opt;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		goto fail;
	b->ssl_ctx = ctx;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	if (SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1) {
		fprintf(stderr, "calldesk-bench: cannot load the CA %s\n", o->ca);
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (o->cert != NULL &&
		(SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
		 SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) != 1 ||
		 SSL_CTX_check_private_key(ctx) != 1)) {
		fprintf(stderr, "calldesk-bench: cannot use %s with %s\n", o->cert, o->key);
		goto fail;
	}
	return true;
fail:
	ERR_print_errors_fp(stderr);
	return false;
}

static bool resolve(struct bench *b)
{
	struct addrinfo hints, *res = NULL;
	unsigned char probe[sizeof(struct in6_addr)];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(b->opt.host, b->opt.port, &hints, &res);
	if (rc != 0 || res == NULL) {
		fprintf(stderr, "calldesk-bench: %s port %s: %s\n", b->opt.host, b->opt.port,
			gai_strerror(rc));
		return false;
	}
	memcpy(&b->addr, res->ai_addr, res->ai_addrlen);
	b->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	b->host_is_ip = inet_pton(AF_INET, b->opt.host, probe) == 1 ||
		inet_pton(AF_INET6, b->opt.host, probe) == 1;
	b->verify_name = b->opt.servername != NULL ? b->opt.servername : b->opt.host;
	return true;
}

/* Each connection is a descriptor: raise the soft limit when it is short. */
static void raise_fd_limit(unsigned want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
		fprintf(stderr, "calldesk-bench: only %llu descriptors allowed (ulimit -n)\n",
			(unsigned long long)rl.rlim_cur);
}

/* Printable text without quotes or backslashes, so it needs no escaping. */
static char *make_note(size_t size)
{
	static const char words[] = "Customer called about the invoice; agent explained the charge. ";
	char *t = malloc(size + 1);
	size_t i;

	if (t == NULL)
		return NULL;
	for (i = 0; i < size; i++)
		t[i] = words[i % (sizeof(words) - 1)];
	t[size] = '\0';
	return t;
}

static uint64_t us(uint64_t ns)
{
	return (ns + 500) / 1000;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* next: complaints that NEXT gave more than once (each extra time counts). */
static uint64_t duplicates(struct bench *b)
{
	uint64_t d = 0;
	size_t i;

	if (b->ntaken < 2)
		return 0;
	qsort(b->taken, b->ntaken, sizeof(*b->taken), cmp_u64);
	for (i = 1; i < b->ntaken; i++)
		if (b->taken[i] == b->taken[i - 1])
			d++;
	return d;
}

static void report_codes(const struct bench *b)
{
	unsigned i;

	for (i = 0; i < b->ncodes; i++)
		fprintf(stderr, "calldesk-bench: answered %s: %" PRIu64 " times\n",
			b->codes[i].name, b->codes[i].n);
}

/* fanout: the (watcher, change) pairs: delivered, latency, missed. */
static void report_fanout(struct bench *b)
{
	const struct options *o = &b->opt;
	const struct hist *h = &b->hist, *r = &b->hist_req;
	uint64_t expected = (uint64_t)b->watching * b->toggles_sent;
	uint64_t missed = expected > b->ev_matched ? expected - b->ev_matched : 0;
	double secs = 0, eps = 0;

	if (b->t_measure != UINT64_MAX && b->t_last_event > b->t_measure)
		secs = (double)(b->t_last_event - b->t_measure) / 1e9;
	if (secs > 0)
		eps = (double)b->ev_matched / secs;
	printf("fanout: %u watchers, %u state changes %u ms apart, %.2f s: %" PRIu64
		" of %" PRIu64 " events, %.1f events/s; latency us p50 %" PRIu64 " p90 %" PRIu64
		" p99 %" PRIu64 " max %" PRIu64 "; missed %" PRIu64 ", stray %" PRIu64
		"; the changes' own answers us p50 %" PRIu64 " p99 %" PRIu64
		"; NO %" PRIu64 " BAD %" PRIu64 " ERR %" PRIu64 ", unanswered %" PRIu64
		", connections failed %u lost %u\n",
		b->watching, b->toggles_sent, o->interval_ms, secs, b->ev_matched, expected, eps,
		us(hist_percentile(h, 50)), us(hist_percentile(h, 90)),
		us(hist_percentile(h, 99)), us(h->max), missed, b->ev_stray,
		us(hist_percentile(r, 50)), us(hist_percentile(r, 99)),
		b->c.no, b->c.bad, b->c.err, b->c.unanswered, b->c.setup_failed, b->c.lost);
	printf("RESULT workload=fanout conns=%u watchers=%u toggles=%u interval_ms=%u"
		" seconds=%.3f events=%" PRIu64 " expected=%" PRIu64 " missed=%" PRIu64
		" stray=%" PRIu64 " eps=%.1f p50_us=%" PRIu64 " p90_us=%" PRIu64
		" p99_us=%" PRIu64 " max_us=%" PRIu64 " mean_us=%" PRIu64
		" requests=%" PRIu64 " req_p50_us=%" PRIu64 " req_p99_us=%" PRIu64
		" no=%" PRIu64 " bad=%" PRIu64 " err=%" PRIu64 " unanswered=%" PRIu64
		" conns_failed=%u conns_lost=%u protocol_errors=%u\n",
		b->watching + (b->driver_ready ? 1 : 0), b->watching, b->toggles_sent,
		o->interval_ms, secs, b->ev_matched, expected, missed, b->ev_stray, eps,
		us(hist_percentile(h, 50)), us(hist_percentile(h, 90)),
		us(hist_percentile(h, 99)), us(h->max), h->count ? us(h->sum / h->count) : 0,
		b->c.ok, us(hist_percentile(r, 50)), us(hist_percentile(r, 99)),
		b->c.no, b->c.bad, b->c.err, b->c.unanswered, b->c.setup_failed, b->c.lost,
		b->c.protocol);
	fflush(stdout);
	report_codes(b);
}

static void report(struct bench *b)
{
	const struct options *o = &b->opt;
	const struct hist *h = &b->hist;
	uint64_t end = b->t_last > b->t_measure ? b->t_last : b->t_stop;
	double secs = 0, rps = 0;
	char extra[160] = "";
	size_t n = 0;

	if (o->workload == WL_FANOUT) {
		report_fanout(b);
		return;
	}
	if (b->t_measure != UINT64_MAX && end > b->t_measure)
		secs = (double)(end - b->t_measure) / 1e9;
	if (secs > 0)
		rps = (double)b->c.ok / secs;
	if (o->workload == WL_NOTE)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, " note_size=%zu", o->note_size);
	if (o->workload == WL_ADVISE)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n,
			" allow=%" PRIu64 " escalate=%" PRIu64 " deny=%" PRIu64,
			b->allow, b->escalate, b->deny);
	if (o->workload == WL_NEXT)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n,
			" assigned=%zu duplicates=%" PRIu64 " empty=%" PRIu64,
			b->ntaken, duplicates(b), b->empty);
	if (o->idem && n < sizeof(extra))
		snprintf(extra + n, sizeof(extra) - n, " idem=yes");

	printf("%s%s: %u connections x depth %u, %.2f s: %" PRIu64 " OK, %.1f req/s; "
		"latency us p50 %" PRIu64 " p90 %" PRIu64 " p99 %" PRIu64 " max %" PRIu64 "; "
		"NO %" PRIu64 " BAD %" PRIu64 " ERR %" PRIu64 ", unanswered %" PRIu64
		", connections failed %u lost %u\n",
		o->workload_name, o->idem ? " (idem)" : "", b->ready + b->c.lost, o->depth,
		secs, b->c.ok, rps,
		us(hist_percentile(h, 50)), us(hist_percentile(h, 90)),
		us(hist_percentile(h, 99)), us(h->max),
		b->c.no, b->c.bad, b->c.err, b->c.unanswered, b->c.setup_failed, b->c.lost);
	printf("RESULT workload=%s conns=%u depth=%u seconds=%.3f requests=%" PRIu64
		" rps=%.1f p50_us=%" PRIu64 " p90_us=%" PRIu64 " p99_us=%" PRIu64
		" max_us=%" PRIu64 " mean_us=%" PRIu64 " no=%" PRIu64 " bad=%" PRIu64
		" err=%" PRIu64 " unanswered=%" PRIu64 " conns_failed=%u conns_lost=%u"
		" protocol_errors=%u%s\n",
		o->workload_name, b->ready + b->c.lost, o->depth, secs, b->c.ok, rps,
		us(hist_percentile(h, 50)), us(hist_percentile(h, 90)),
		us(hist_percentile(h, 99)), us(h->max),
		h->count ? us(h->sum / h->count) : 0,
		b->c.no, b->c.bad, b->c.err, b->c.unanswered, b->c.setup_failed, b->c.lost,
		b->c.protocol, extra);
	fflush(stdout);
	report_codes(b);
}

int main(int argc, char **argv)
{
	static struct bench bench; /* large (scratch, histogram): not on the stack */
	struct bench *b = &bench;
	struct timeval cap;
	double budget;
	int rc = 1;

	if (!options_parse(&b->opt, argc, argv)) {
		options_free(&b->opt);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	hist_reset(&b->hist);
	snprintf(b->run_id, sizeof(b->run_id), "%08" PRIx32,
		(uint32_t)(now_ns() ^ ((uint64_t)getpid() << 16) ^ (uint64_t)time(NULL)));
	b->phase = PH_SETUP;
	b->t_measure = UINT64_MAX;

	if (b->opt.workload == WL_NOTE && (b->note_text = make_note(b->opt.note_size)) == NULL)
		goto out;
	if (!resolve(b) || !tls_init(b))
		goto out;
	raise_fd_limit(b->opt.conns + 65);
	if (!conns_init(b))
		goto out;
	b->base = event_base_new();
	if (b->base == NULL)
		goto out;
	b->timer = evtimer_new(b->base, on_timer, b);
	if (b->opt.workload == WL_FANOUT &&
		(b->toggle_timer = evtimer_new(b->base, on_toggle_timer, b)) == NULL)
		goto out;
	b->sigint = evsignal_new(b->base, SIGINT, on_signal, b);
	b->sigterm = evsignal_new(b->base, SIGTERM, on_signal, b);
	if (b->timer == NULL || b->sigint == NULL || b->sigterm == NULL ||
		evsignal_add(b->sigint, NULL) != 0 || evsignal_add(b->sigterm, NULL) != 0)
		goto out;

	/* A last bound on the whole run, should a phase never end. */
	budget = b->opt.setup_timeout + b->opt.warmup + b->opt.seconds +
		b->opt.drain_timeout + 5;
	cap.tv_sec = (time_t)budget;
	cap.tv_usec = 0;
	event_base_loopexit(b->base, &cap);

	phase_timer(b, b->opt.setup_timeout);
	conns_connect_more(b);
	event_base_dispatch(b->base);
	if (b->phase != PH_DONE) {
		fprintf(stderr, "calldesk-bench: the run did not end by itself in %.0f s\n", budget);
		finish(b);
	}
	report(b);
	if (b->opt.workload == WL_FANOUT) {
		rc = b->ev_matched > 0 ? 0 : 1;
		if (rc != 0)
			fprintf(stderr, "calldesk-bench: no event arrived\n");
	} else {
		rc = b->c.ok > 0 ? 0 : 1;
		if (rc != 0)
			fprintf(stderr, "calldesk-bench: no request completed with OK\n");
	}
out:
	conns_free(b);
	if (b->timer != NULL)
		event_free(b->timer);
	if (b->toggle_timer != NULL)
		event_free(b->toggle_timer);
	if (b->sigint != NULL)
		event_free(b->sigint);
	if (b->sigterm != NULL)
		event_free(b->sigterm);
	if (b->base != NULL)
		event_base_free(b->base);
	SSL_CTX_free(b->ssl_ctx);
	free(b->note_text);
	options_free(&b->opt);
	if (b->signal != 0) {
		/* Die of the signal, after the report: a shell running us then
		 * knows that the user interrupted, and stops too. */
		signal(b->signal, SIG_DFL);
		raise(b->signal);
	}
	return rc;
}
