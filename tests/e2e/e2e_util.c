/* e2e_util.c: helpers shared by the end-to-end groups (see e2e_util.h). */
#include "e2e_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "tdb.h"

#define RING 32

static char *ring[RING];
static unsigned ring_next;

/* Takes ownership of s and keeps it until 32 more strings came. */
static const char *ring_keep(char *s)
{
	char **slot = &ring[ring_next++ % RING];

	free(*slot);
	*slot = s;
	return s;
}

int64_t e2e_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void e2e_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int e2e_wait_ms(void)
{
	int t = tc_timeout_ms();

	return t > 15000 ? 2 * t : 30000;
}

bool e2e_poll_sleep(int64_t deadline)
{
	int64_t left = deadline - e2e_mono_ms();

	if (left <= 0)
		return false;
	e2e_sleep_ms(left < E2E_POLL_MS ? (int)left : E2E_POLL_MS);
	return true;
}

static void ping_one(tc_conn *c, const char *file, int line)
{
	struct tc_resp *r = tc_cmd(c, "PING");

	e2e_resp_at(r, "OK", NULL, file, line);
	tc_resp_free(&r);
}

void e2e_ping_at(const char *file, int line, ...)
{
	va_list ap;
	tc_conn *c;

	va_start(ap, line);
	while ((c = va_arg(ap, tc_conn *)) != NULL)
		ping_one(c, file, line);
	va_end(ap);
}

void e2e_sleep_busy_at(const char *file, int line, int ms, ...)
{
	int64_t end = e2e_mono_ms() + ms;

	for (;;) {
		int64_t left = end - e2e_mono_ms();
		va_list ap;
		tc_conn *c;

		if (left <= 0)
			return;
		e2e_sleep_ms(left > 1000 ? 1000 : (int)left);
		if (e2e_mono_ms() >= end)
			return;
		va_start(ap, ms);
		while ((c = va_arg(ap, tc_conn *)) != NULL)
			ping_one(c, file, line);
		va_end(ap);
	}
}

size_t e2e_log_size(void)
{
	const char *path = getenv("CD_LOG");
	struct stat st;

	if (path == NULL || stat(path, &st) != 0 || st.st_size < 0)
		return 0;
	return (size_t)st.st_size;
}

char *e2e_slurp(const char *path, size_t offset, size_t *len_r)
{
	FILE *f = path != NULL ? fopen(path, "rb") : NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return NULL;
	if (offset > 0 && fseek(f, (long)offset, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap + 1);
			if (buf == NULL)
				abort();
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	if (len_r != NULL)
		*len_r = len;
	return buf;
}

bool e2e_log_has(size_t offset, const char *text)
{
	char *buf = e2e_slurp(getenv("CD_LOG"), offset, NULL);
	bool found = buf != NULL && strstr(buf, text) != NULL;

	free(buf);
	return found;
}

bool e2e_log_wait(size_t offset, const char *text)
{
	bool found;

	E2E_POLL(found, e2e_log_has(offset, text));
	return found;
}

long long e2e_lock_waiters_at(long long n, const char *file, int line)
{
	int64_t end = e2e_mono_ms() + e2e_wait_ms();
	long long got;

	do {
		/* pg_stat_activity is read once per transaction, unless the
		 * snapshot is dropped: tdb may be inside one (BEGIN, LOCK). */
		tdb_exec_at(file, line, "SELECT pg_stat_clear_snapshot()", NULL);
		got = tdb_int_at(file, line, "SELECT count(*) FROM "
				 "pg_stat_activity WHERE wait_event_type = "
				 "'Lock' AND pid <> pg_backend_pid() AND "
				 "datname = current_database()", NULL);
	} while (got < n && e2e_poll_sleep(end));
	if (got < n) {
		/* Whatever the test holds must not outlive it. */
		tdb_exec_at(file, line, "ROLLBACK", NULL);
		print_error("%s:%d: expected %lld database session(s) waiting "
			    "on a lock within %d ms, saw %lld\n", file, line, n,
			    e2e_wait_ms(), got);
		_fail(file, line);
	}
	return got;
}

int e2e_same_day_setup(void **state)
{
	time_t now = time(NULL);
	long left = 86400L - (long)(now % 86400);

	(void)state;
	if (left < 120) {
		print_message("[ same day ] %ld s left of the UTC day: waiting "
			      "for the next one\n", left);
		e2e_sleep_ms((int)((left + 1) * 1000));
	}
	return 0;
}

static char *vfmt(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/* A malloc'd printf result (aborts when out of memory). */
static char *vfmt(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *s;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		abort();
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

const char *e2e_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = vfmt(fmt, ap);
	va_end(ap);
	return ring_keep(s);
}

const char *e2e_uniq(const char *prefix)
{
	static unsigned counter;
	static unsigned run;

	/* The database is new for every run of run.sh, but a suffix from the
	 * clock and pid keeps names apart if it is ever reused. */
	static char **kept;
	static size_t nkept, capkept;
	char *s;
	int n;

	if (run == 0)
		run = ((unsigned)getpid() ^ (unsigned)time(NULL)) % 46656u + 1;
	n = snprintf(NULL, 0, "%s%x%u", prefix, run, counter + 1);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		abort();
	snprintf(s, (size_t)n + 1, "%s%x%u", prefix, run, ++counter);
	/* Kept for the whole run (reachable, so no leak report): tests hold
	 * these names across many requests. */
	if (nkept == capkept) {
		capkept = capkept ? capkept * 2 : 256;
		kept = realloc(kept, capkept * sizeof(*kept));
		if (kept == NULL)
			abort();
	}
	kept[nkept++] = s;
	return s;
}

bool e2e_time_parse(const char *s, time_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	struct tm tm;
	size_t i;

	if (s == NULL || strlen(s) != sizeof(shape) - 1)
		return false;
	for (i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) :
				      s[i] != shape[i])
			return false;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return false;
	*out = timegm(&tm);
	return true;
}

static const char *line_of(struct tc_resp *r, size_t row)
{
	if (row == (size_t)-1)
		return r->final;
	return row < r->nrows ? r->rows[row] : NULL;
}

static const char *where(size_t row)
{
	return row == (size_t)-1 ? "final line" : e2e_fmt("row %zu", row);
}

time_t e2e_time_at(struct tc_resp *r, size_t row, const char *key,
		   const char *file, int line)
{
	const char *l = line_of(r, row);
	char *v = l != NULL ? tc_field(l, key) : NULL;
	time_t t = 0;
	bool ok = e2e_time_parse(v, &t);

	if (!ok) {
		print_error("%s:%d: expected %s=YYYY-MM-DDTHH:MM:SSZ on the "
			    "%s, got %s%s%s\n  request: %s\n  line:    %s\n",
			    file, line, key, where(row), v ? "\"" : "",
			    v ? v : "no such field", v ? "\"" : "", r->request,
			    l ? l : "(none)");
		free(v);
		_fail(file, line);
	}
	free(v);
	return t;
}

long long e2e_num_at(struct tc_resp *r, size_t row, const char *key,
		     const char *file, int line)
{
	const char *l = line_of(r, row);
	char *v = l != NULL ? tc_field(l, key) : NULL;
	char *end = NULL;
	long long n = -1;
	bool ok = v != NULL && isdigit((unsigned char)v[0]) &&
		  (v[0] != '0' || v[1] == '\0');

	if (ok) {
		errno = 0;
		n = strtoll(v, &end, 10);
		ok = errno == 0 && *end == '\0';
	}
	if (!ok) {
		print_error("%s:%d: expected %s=<integer> on the %s, got "
			    "%s%s%s\n  request: %s\n  line:    %s\n",
			    file, line, key, where(row), v ? "\"" : "",
			    v ? v : "no such field", v ? "\"" : "", r->request,
			    l ? l : "(none)");
		free(v);
		_fail(file, line);
	}
	free(v);
	return n;
}

void e2e_row_field_at(struct tc_resp *r, size_t i, const char *key,
		      const char *value, const char *file, int line)
{
	const char *got = tc_row_get(r, i, key);

	if (got == NULL || strcmp(got, value) != 0) {
		print_error("%s:%d: row %zu: expected %s=\"%s\", got %s%s%s\n"
			    "  request: %s\n  row:     %s\n", file, line, i,
			    key, value, got ? "\"" : "",
			    got ? got : "no such field", got ? "\"" : "",
			    r->request, i < r->nrows ? r->rows[i] : "(none)");
		_fail(file, line);
	}
}

void e2e_keys_at(const char *l, const char *file, int line_no, ...)
{
	va_list ap;
	const char *key;

	va_start(ap, line_no);
	while ((key = va_arg(ap, const char *)) != NULL) {
		char *v = l != NULL ? tc_field(l, key) : NULL;

		if (v == NULL) {
			va_end(ap);
			print_error("%s:%d: expected a field %s= in: %s\n",
				    file, line_no, key, l ? l : "(no line)");
			_fail(file, line_no);
		}
		free(v);
	}
	va_end(ap);
}

void e2e_nrows_at(struct tc_resp *r, size_t n, const char *file, int line)
{
	if (r->nrows != n) {
		size_t i;

		print_error("%s:%d: expected %zu row(s), got %zu\n  request: "
			    "%s\n", file, line, n, r->nrows, r->request);
		for (i = 0; i < r->nrows && i < 10; i++)
			print_error("  row:     %s\n", r->rows[i]);
		print_error("  answer:  %s\n", r->final ? r->final : "(none)");
		_fail(file, line);
	}
}

static struct tc_resp *vreq(tc_conn *c, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static struct tc_resp *vreq(tc_conn *c, const char *fmt, va_list ap)
{
	char *body = vfmt(fmt, ap);
	struct tc_resp *r;

	r = tc_cmd(c, "%s", body);
	free(body);
	return r;
}

void e2e_resp_at(struct tc_resp *r, const char *word, const char *code,
		 const char *file, int line)
{
	if (r->code == NULL)
		r->code = "";
	tc_expect_at(r, word, code, file, line);
}

struct tc_resp *e2e_ok_at(const char *file, int line, tc_conn *c,
			  const char *fmt, ...)
{
	va_list ap;
	struct tc_resp *r;

	va_start(ap, fmt);
	r = vreq(c, fmt, ap);
	va_end(ap);
	e2e_resp_at(r, "OK", NULL, file, line);
	return r;
}

struct tc_resp *e2e_expect_at(const char *file, int line, tc_conn *c,
			      const char *word, const char *code,
			      const char *fmt, ...)
{
	va_list ap;
	struct tc_resp *r;

	va_start(ap, fmt);
	r = vreq(c, fmt, ap);
	va_end(ap);
	e2e_resp_at(r, word, code, file, line);
	return r;
}

long long e2e_customer_at(tc_conn *c, const char *name, const char *file,
			  int line)
{
	struct tc_resp *r = e2e_ok_at(file, line, c, "CUSTOMER ADD name=%s",
				      tc_q(name ? name : e2e_uniq("cust")));

	return e2e_num_at(r, (size_t)-1, "customer", file, line);
}

long long e2e_complaint_at(tc_conn *c, long long customer,
			   const char *category, int severity,
			   const char *file, int line)
{
	struct tc_resp *r = e2e_ok_at(file, line, c,
				      "COMPLAINT OPEN customer=%lld "
				      "category=%s severity=%d summary=%s",
				      customer, category, severity,
				      tc_q(e2e_uniq("summary ")));

	return e2e_num_at(r, (size_t)-1, "complaint", file, line);
}

const char *e2e_user_at(const char *role, const char *extra, const char *file,
			int line)
{
	char err[512];
	tc_conn *admin = tc_open(NULL, err, sizeof(err));
	const char *name = e2e_uniq("u");
	struct tc_resp *r;

	if (admin == NULL) {
		print_error("%s:%d: could not connect: %s\n", file, line, err);
		_fail(file, line);
	}
	r = tc_login(admin, "admin1", tc_password());
	tc_expect_at(r, "OK", NULL, file, line);
	r = e2e_ok_at(file, line, admin, "USER ADD name=%s role=%s %s password=%s",
		      name, role, extra, tc_q(tc_password()));
	tc_close(&admin);
	return name;
}

long long e2e_config_int(const char *key, long long def)
{
	const char *path = getenv("CD_CONFIG");
	FILE *f = path ? fopen(path, "r") : NULL;
	char buf[512];
	size_t klen = strlen(key);
	long long v = def;

	if (f == NULL)
		return def;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		char *p = buf;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, key, klen) != 0)
			continue;
		p += klen;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=')
			continue;
		v = strtoll(p + 1, NULL, 10);
		break;
	}
	fclose(f);
	return v;
}

int e2e_system(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	int st;

	va_start(ap, fmt);
	cmd = vfmt(fmt, ap);
	va_end(ap);
	fflush(NULL);
	st = system(cmd);
	free(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}
