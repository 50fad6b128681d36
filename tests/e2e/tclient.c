/* tclient.c: the blocking TLS test client (see tclient.h).
 *
 * Sockets are non-blocking under the hood so that every wait is a poll()
 * with a deadline: a test never hangs on a silent server, it fails saying
 * what it waited for. */
#include "tclient.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <setjmp.h>
#include <cmocka.h>

#define TC_MAX_LINE (4u << 20)  /* a longer server line is an error */

struct tc_conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char *buf;           /* bytes read, not yet returned as lines */
	size_t len, cap;
	bool eof;
	char *greeting;
	char name[16];       /* "conn#3" */
	char label[96];      /* "conn#3 agent1" once logged in */
	char err[256];
	unsigned next_tag;
	char **events;       /* queued "* EVENT" lines */
	size_t nevents, capevents;
	char **held;         /* tagged lines read while waiting for an event */
	size_t nheld, capheld;
	struct tc_conn *prev, *next;
	int send_timeout_ms; /* 0: tc_timeout_ms() */
};

/* Everything a test may leave behind, freed by tc_teardown(). */
static struct tc_conn *all_conns;
static struct tc_resp *all_resps;
static unsigned conn_counter;

/* ---- small helpers ------------------------------------------------------- */

static void tc_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

static void tc_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error(fmt, ap);
	va_end(ap);
	print_error("\n");
	_fail(file, line);
	abort(); /* not reached: _fail leaves the test */
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "tclient: out of memory\n");
		abort();
	}
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL) {
		fprintf(stderr, "tclient: out of memory\n");
		abort();
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

static char *xvasprintf(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

static char *xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *s;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		abort();
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

static void push(char ***arr, size_t *n, size_t *cap, char *s)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*arr = xrealloc(*arr, *cap * sizeof(**arr));
	}
	(*arr)[(*n)++] = s;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left < 0 ? 0 : (int)left;
}

/* Printable form of a line for messages: control bytes and non-ASCII as
 * \xNN, cut after 300 bytes. In a ring so several fit in one message. */
static const char *show(const char *s)
{
	static char ring[8][1300];
	static unsigned next;
	char *out = ring[next++ % 8];
	size_t o = 0, i;

	if (s == NULL)
		return "(none)";
	for (i = 0; s[i] != '\0' && o < sizeof(ring[0]) - 8; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i == 300) {
			o += (size_t)snprintf(out + o, sizeof(ring[0]) - o,
					      "...(%zu bytes)", strlen(s));
			break;
		}
		if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(out + o, sizeof(ring[0]) - o,
					      "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
	return out;
}

/* ---- environment ----------------------------------------------------- */

const char *tc_env_at(const char *name, const char *file, int line)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		tc_fail(file, line,
			"environment variable %s is not set: run the tests "
			"through tests/e2e/run.sh", name);
	return v;
}

int tc_timeout_ms(void)
{
	const char *v = getenv("CD_TIMEOUT_MS");
	long n;
	char *end;

	if (v == NULL || *v == '\0')
		return TC_DEFAULT_TIMEOUT_MS;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < 100 || n > 3600000)
		return TC_DEFAULT_TIMEOUT_MS;
	return (int)n;
}

const char *tc_password(void)
{
	return tc_env("CD_PASSWORD");
}

/* ---- connections ----------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The OpenSSL error queue as one string (and emptied). */
static void ssl_errors(char *out, size_t outlen)
{
	unsigned long e;
	size_t o = 0;

	out[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		if (o < outlen)
			o += (size_t)snprintf(out + o, outlen - o, "%s%s",
					      o ? "; " : "", one);
	}
	if (o == 0)
		snprintf(out, outlen, "%s", errno ? strerror(errno) : "no detail");
}

/* Waits for the socket as SSL asked (err is SSL_ERROR_WANT_*). */
static bool wait_io(int fd, int ssl_err, int64_t deadline)
{
	struct pollfd p = { .fd = fd };
	int r;

	p.events = ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
	do {
		r = poll(&p, 1, remaining_ms(deadline));
	} while (r < 0 && errno == EINTR);
	return r > 0;
}

static void conn_free(struct tc_conn *c)
{
	size_t i;

	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	for (i = 0; i < c->nevents; i++)
		free(c->events[i]);
	for (i = 0; i < c->nheld; i++)
		free(c->held[i]);
	free(c->events);
	free(c->held);
	free(c->buf);
	free(c->greeting);
	free(c);
}

static void conn_link(struct tc_conn *c)
{
	c->next = all_conns;
	if (all_conns != NULL)
		all_conns->prev = c;
	all_conns = c;
}

static void conn_unlink(struct tc_conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else if (all_conns == c)
		all_conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static int tcp_connect(const char *host, const char *port, const char *source,
		       char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, r, one = 1;

	r = getaddrinfo(host, port, &hints, &res);
	if (r != 0) {
		set_err(err, errlen, "%s:%s: %s", host, port, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0)
			continue;
		if (source != NULL) {
			struct addrinfo *src;

			if (getaddrinfo(source, NULL, &hints, &src) != 0 ||
			    bind(fd, src->ai_addr, src->ai_addrlen) != 0) {
				set_err(err, errlen, "bind to %s: %s", source,
					strerror(errno));
				close(fd);
				freeaddrinfo(res);
				return -1;
			}
			freeaddrinfo(src);
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		set_err(err, errlen, "connect to %s:%s: %s", host, port,
			strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	}
	return fd;
}

static SSL_CTX *make_ctx(const struct tc_opts *o, const char *ca, char *err,
			 size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char detail[512];

	if (ctx == NULL)
		goto ssl_fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* A close without close_notify reads as end of file. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		ssl_errors(detail, sizeof(detail));
		set_err(err, errlen, "loading CA %s: %s", ca, detail);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (o->min_version != 0 &&
	    SSL_CTX_set_min_proto_version(ctx, o->min_version) != 1)
		goto ssl_fail;
	if (o->max_version != 0 &&
	    SSL_CTX_set_max_proto_version(ctx, o->max_version) != 1)
		goto ssl_fail;
	if (o->cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, o->cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, o->key ? o->key : o->cert,
						SSL_FILETYPE_PEM) != 1) {
			ssl_errors(detail, sizeof(detail));
			set_err(err, errlen, "loading client certificate %s: %s",
				o->cert, detail);
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	return ctx;
ssl_fail:
	ssl_errors(detail, sizeof(detail));
	set_err(err, errlen, "SSL_CTX set-up: %s", detail);
	if (ctx != NULL)
		SSL_CTX_free(ctx);
	return NULL;
}

tc_conn *tc_open(const struct tc_opts *opts, char *err, size_t errlen)
{
	static const struct tc_opts defaults;
	const struct tc_opts *o = opts ? opts : &defaults;
	const char *host = o->host ? o->host : getenv("CD_HOST");
	const char *port = o->port ? o->port : getenv("CD_PORT");
	const char *ca = o->ca ? o->ca : getenv("CD_CA");
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : tc_timeout_ms();
	int64_t deadline = now_ms() + timeout;
	unsigned char addr[sizeof(struct in6_addr)];
	struct tc_conn *c;
	char detail[512];
	enum tc_status st;
	int r;

	if (host == NULL || port == NULL || ca == NULL) {
		set_err(err, errlen, "CD_HOST, CD_PORT or CD_CA not set: run "
			"the tests through tests/e2e/run.sh");
		return NULL;
	}
	/* A server closing on us must not kill the test program. */
	signal(SIGPIPE, SIG_IGN);

	c = xmalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->name, sizeof(c->name), "conn#%u", ++conn_counter);
	snprintf(c->label, sizeof(c->label), "%s", c->name);

	c->fd = tcp_connect(host, port, o->source, err, errlen);
	if (c->fd < 0)
		goto fail;
	c->ctx = make_ctx(o, ca, err, errlen);
	if (c->ctx == NULL)
		goto fail;
	c->ssl = SSL_new(c->ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
		ssl_errors(detail, sizeof(detail));
		set_err(err, errlen, "SSL_new: %s", detail);
		goto fail;
	}
	/* Check the certificate names the host we asked for. */
	if (inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host);
	} else {
		SSL_set_tlsext_host_name(c->ssl, host);
		SSL_set1_host(c->ssl, host);
	}

	for (;;) {
		int e;

		ERR_clear_error();
		errno = 0;
		r = SSL_connect(c->ssl);
		if (r == 1)
			break;
		e = SSL_get_error(c->ssl, r);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
		    wait_io(c->fd, e, deadline))
			continue;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			set_err(err, errlen, "TLS handshake with %s:%s: no "
				"answer within %d ms", host, port, timeout);
			goto fail;
		}
		ssl_errors(detail, sizeof(detail));
		if (SSL_get_verify_result(c->ssl) != X509_V_OK)
			set_err(err, errlen, "TLS handshake with %s:%s: "
				"certificate not accepted: %s (%s)", host, port,
				X509_verify_cert_error_string(
					SSL_get_verify_result(c->ssl)),
				detail);
		else
			set_err(err, errlen, "TLS handshake with %s:%s "
				"failed: %s", host, port, detail);
		goto fail;
	}

	if (!o->no_greeting) {
		st = tc_read_line(c, remaining_ms(deadline), &c->greeting);
		if (st != TC_LINE) {
			set_err(err, errlen, "no greeting within %d ms (%s)",
				timeout,
				st == TC_TIMEOUT ? "timeout" :
				st == TC_EOF ? "connection closed" : c->err);
			goto fail;
		}
		if (strncmp(c->greeting, "* HELLO ", 8) != 0) {
			set_err(err, errlen, "expected a greeting "
				"\"* HELLO ...\", got \"%s\"", show(c->greeting));
			goto fail;
		}
	}
	conn_link(c);
	return c;
fail:
	conn_free(c);
	return NULL;
}

tc_conn *tc_connect_at(const struct tc_opts *opts, const char *file, int line)
{
	char err[768];
	tc_conn *c = tc_open(opts, err, sizeof(err));

	if (c == NULL)
		tc_fail(file, line, "could not connect: %s", err);
	return c;
}

tc_conn *tc_session_at(const char *user, const char *file, int line)
{
	tc_conn *c = tc_connect_at(NULL, file, line);
	struct tc_resp *r = tc_login(c, user, tc_env_at("CD_PASSWORD", file,
							line));

	tc_expect_at(r, "OK", NULL, file, line);
	tc_resp_free(&r);
	return c;
}

void tc_close(tc_conn **cp)
{
	struct tc_conn *c;

	if (cp == NULL || *cp == NULL)
		return;
	c = *cp;
	*cp = NULL;
	if (c->ssl != NULL && !c->eof)
		SSL_shutdown(c->ssl); /* best effort, non-blocking */
	conn_unlink(c);
	conn_free(c);
}

int tc_teardown(void **state)
{
	(void)state;
	while (all_conns != NULL) {
		struct tc_conn *c = all_conns;

		tc_close(&c);
	}
	while (all_resps != NULL) {
		struct tc_resp *r = all_resps;

		tc_resp_free(&r);
	}
	return 0;
}

const char *tc_greeting(const tc_conn *c)
{
	return c->greeting ? c->greeting : "";
}

const char *tc_label(const tc_conn *c)
{
	return c->label;
}

const char *tc_error(const tc_conn *c)
{
	return c->err[0] ? c->err : "no error";
}

/* ---- raw I/O --------------------------------------------------------- */

void tc_set_send_timeout(tc_conn *c, int timeout_ms)
{
	c->send_timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
}

bool tc_send_raw(tc_conn *c, const void *buf, size_t len)
{
	const char *p = buf;
	int64_t deadline = now_ms() + (c->send_timeout_ms > 0 ?
				       c->send_timeout_ms : tc_timeout_ms());
	size_t off = 0;

	while (off < len) {
		size_t chunk = len - off > (size_t)INT32_MAX ? (size_t)INT32_MAX : len - off;
		int r, e;

		ERR_clear_error();
		errno = 0;
		r = SSL_write(c->ssl, p + off, (int)chunk);
		if (r > 0) {
			off += (size_t)r;
			continue;
		}
		e = SSL_get_error(c->ssl, r);
		if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
		    wait_io(c->fd, e, deadline))
			continue;
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			snprintf(c->err, sizeof(c->err),
				 "write: %zu of %zu bytes sent before the "
				 "timeout", off, len);
		else
			ssl_errors(c->err, sizeof(c->err));
		return false;
	}
	return true;
}

bool tc_sendf(tc_conn *c, const char *fmt, ...)
{
	va_list ap;
	char *line;
	size_t n;
	bool ok;

	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	n = strlen(line);
	line = xrealloc(line, n + 2);
	line[n] = '\n';
	ok = tc_send_raw(c, line, n + 1);
	free(line);
	return ok;
}

/* Reads what TLS has into c->buf. TC_LINE means "got some bytes". */
static enum tc_status fill(struct tc_conn *c, int64_t deadline)
{
	for (;;) {
		int r, e;

		if (c->eof)
			return TC_EOF;
		if (c->cap - c->len < 16384) {
			c->cap = c->cap ? c->cap * 2 : 32768;
			c->buf = xrealloc(c->buf, c->cap);
		}
		ERR_clear_error();
		errno = 0;
		r = SSL_read(c->ssl, c->buf + c->len, (int)(c->cap - c->len));
		if (r > 0) {
			c->len += (size_t)r;
			return TC_LINE;
		}
		e = SSL_get_error(c->ssl, r);
		switch (e) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			if (!wait_io(c->fd, e, deadline))
				return TC_TIMEOUT;
			continue;
		case SSL_ERROR_ZERO_RETURN:
			c->eof = true;
			return TC_EOF;
		case SSL_ERROR_SYSCALL:
			if (errno == 0 || errno == ECONNRESET ||
			    errno == EPIPE) {
				/* A reset after the server's last line is a
				 * close too, for our purposes. */
				c->eof = true;
				if (errno != 0)
					snprintf(c->err, sizeof(c->err),
						 "connection reset");
				return TC_EOF;
			}
			snprintf(c->err, sizeof(c->err), "read: %s",
				 strerror(errno));
			return TC_ERROR;
		default:
			ssl_errors(c->err, sizeof(c->err));
			return TC_ERROR;
		}
	}
}

enum tc_status tc_read_line(tc_conn *c, int timeout_ms, char **line)
{
	int64_t deadline = now_ms() + timeout_ms;

	*line = NULL;
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		enum tc_status st;

		if (nl != NULL) {
			size_t n = (size_t)(nl - c->buf);
			size_t keep = n;

			if (keep > 0 && c->buf[keep - 1] == '\r')
				keep--;
			*line = xstrndup(c->buf, keep);
			c->len -= n + 1;
			memmove(c->buf, nl + 1, c->len);
			return TC_LINE;
		}
		if (c->len > TC_MAX_LINE) {
			snprintf(c->err, sizeof(c->err),
				 "server line longer than %u bytes", TC_MAX_LINE);
			return TC_ERROR;
		}
		st = fill(c, deadline);
		if (st != TC_LINE)
			return st;
	}
}

bool tc_wait_eof(tc_conn *c, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		char *line;
		enum tc_status st = tc_read_line(c, remaining_ms(deadline),
						 &line);

		free(line);
		if (st == TC_EOF)
			return true;
		if (st == TC_ERROR)
			return true; /* broken is closed enough */
		if (st == TC_TIMEOUT)
			return false;
	}
}

/* ---- the line syntax (PROTOCOL.md §2) --------------------------------- */

static bool is_tag_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

static bool is_key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_';
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned cp;
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Calls fn for each key=value of a response line, with the decoded value.
 * Returns false (and *why) when the line is malformed; fn returning false
 * stops early (then the result is true). */
typedef bool kv_fn(void *ctx, const char *key, size_t keylen,
		   const char *value, size_t valuelen);

static bool parse_line(const char *line, kv_fn *fn, void *ctx,
		       const char **why)
{
	const char *p = line, *start;
	char *val = NULL;
	size_t i, n = strlen(line);
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	for (i = 0; i < n;) {
		size_t l;

		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
			*why = "raw control character";
			return false;
		}
		l = utf8_len((const unsigned char *)line + i, n - i);
		if (l == 0) {
			*why = "invalid UTF-8";
			return false;
		}
		i += l;
	}
	/* TAG */
	start = p;
	while (*p != '\0' && *p != ' ')
		p++;
	if (!((p - start == 1 && *start == '*') ||
	      (p - start >= 1 && p - start <= 32))) {
		*why = "bad tag";
		return false;
	}
	if (!(p - start == 1 && *start == '*'))
		for (const char *q = start; q < p; q++)
			if (!is_tag_char(*q)) {
				*why = "bad tag";
				return false;
			}
	/* WORD */
	while (*p == ' ')
		p++;
	start = p;
	while (*p >= 'A' && *p <= 'Z')
		p++;
	if (p == start || (*p != ' ' && *p != '\0')) {
		*why = "bad or missing word after the tag";
		return false;
	}
	val = xmalloc(n + 1);
	for (;;) {
		const char *key;
		size_t keylen, vlen = 0;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		key = p;
		while (is_key_char(*p))
			p++;
		keylen = (size_t)(p - key);
		if (keylen == 0 || keylen > 32 || *p != '=') {
			*why = "token that is not key=value";
			goto bad;
		}
		p++;
		if (*p == '"') {
			for (p++;; p++) {
				if (*p == '\0') {
					*why = "unterminated quote";
					goto bad;
				}
				if (*p == '"')
					break;
				if (*p == '\\') {
					p++;
					switch (*p) {
					case '\\': val[vlen++] = '\\'; break;
					case '"': val[vlen++] = '"'; break;
					case 'n': val[vlen++] = '\n'; break;
					case 'r': val[vlen++] = '\r'; break;
					case 't': val[vlen++] = '\t'; break;
					default:
						*why = "bad escape in quoted value";
						goto bad;
					}
					continue;
				}
				val[vlen++] = *p;
			}
			p++;
			if (*p != ' ' && *p != '\0') {
				*why = "text right after a closing quote";
				goto bad;
			}
		} else {
			while (*p != ' ' && *p != '\0') {
				if (*p == '"') {
					*why = "'\"' inside a bare value";
					goto bad;
				}
				val[vlen++] = *p++;
			}
			if (vlen == 0) {
				*why = "empty bare value (must be \"\")";
				goto bad;
			}
		}
		val[vlen] = '\0';
		if (!fn(ctx, key, keylen, val, vlen))
			break;
	}
	free(val);
	return true;
bad:
	free(val);
	return false;
}

struct find_ctx {
	const char *key;
	char *found;
};

static bool find_kv(void *vctx, const char *key, size_t keylen,
		    const char *value, size_t valuelen)
{
	struct find_ctx *ctx = vctx;

	if (strlen(ctx->key) == keylen && memcmp(ctx->key, key, keylen) == 0) {
		ctx->found = xstrndup(value, valuelen);
		return false;
	}
	return true;
}

char *tc_field(const char *line, const char *key)
{
	struct find_ctx ctx = { .key = key };

	if (line == NULL)
		return NULL;
	if (!parse_line(line, find_kv, &ctx, NULL)) {
		free(ctx.found);
		return NULL;
	}
	return ctx.found;
}

struct dup_ctx {
	char keys[64][33];
	size_t n;
	bool dup;
};

static bool check_dup(void *vctx, const char *key, size_t keylen,
		      const char *value, size_t valuelen)
{
	struct dup_ctx *ctx = vctx;
	size_t i;

	(void)value;
	(void)valuelen;
	for (i = 0; i < ctx->n; i++)
		if (strlen(ctx->keys[i]) == keylen &&
		    memcmp(ctx->keys[i], key, keylen) == 0) {
			ctx->dup = true;
			return false;
		}
	if (ctx->n < 64) {
		memcpy(ctx->keys[ctx->n], key, keylen);
		ctx->keys[ctx->n++][keylen] = '\0';
	}
	return true;
}

bool tc_line_valid(const char *line, const char **why)
{
	struct dup_ctx ctx;
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	ctx.n = 0;
	ctx.dup = false;
	if (!parse_line(line, check_dup, &ctx, why))
		return false;
	if (ctx.dup) {
		*why = "a key appears twice";
		return false;
	}
	return true;
}

const char *tc_q(const char *value)
{
	static char *ring[16];
	static unsigned next;
	char **slot = &ring[next++ % 16];
	const char *s;
	bool bare = *value != '\0';
	size_t o = 0;
	char *out;

	for (s = value; *s != '\0'; s++)
		if (*s == ' ' || *s == '"' || (unsigned char)*s < 0x20 ||
		    *s == 0x7f)
			bare = false;
	free(*slot);
	out = xmalloc(strlen(value) * 2 + 3);
	if (bare) {
		strcpy(out, value);
	} else {
		out[o++] = '"';
		for (s = value; *s != '\0'; s++) {
			switch (*s) {
			case '\\': out[o++] = '\\'; out[o++] = '\\'; break;
			case '"': out[o++] = '\\'; out[o++] = '"'; break;
			case '\n': out[o++] = '\\'; out[o++] = 'n'; break;
			case '\r': out[o++] = '\\'; out[o++] = 'r'; break;
			case '\t': out[o++] = '\\'; out[o++] = 't'; break;
			default: out[o++] = *s; break;
			}
		}
		out[o++] = '"';
		out[o] = '\0';
	}
	*slot = out;
	return out;
}

/* ---- requests and answers ------------------------------------------------ */

static void resp_link(struct tc_resp *r)
{
	r->next = all_resps;
	if (all_resps != NULL)
		all_resps->prev = r;
	all_resps = r;
}

void tc_resp_free(struct tc_resp **rp)
{
	struct tc_resp *r;
	size_t i;

	if (rp == NULL || *rp == NULL)
		return;
	r = *rp;
	*rp = NULL;
	if (r->prev != NULL)
		r->prev->next = r->next;
	else if (all_resps == r)
		all_resps = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	for (i = 0; i < r->nrows; i++)
		free(r->rows[i]);
	for (i = 0; i < r->nother; i++)
		free(r->other[i]);
	for (i = 0; i < r->nstrings; i++)
		free(r->strings[i]);
	free(r->rows);
	free(r->other);
	free(r->strings);
	free(r->request);
	free(r->conn);
	free(r->tag);
	free(r->final);
	free(r->bye);
	free(r);
}

/* The first token of line if it is a valid tag, else "*". */
static char *tag_of(const char *line)
{
	size_t n = 0;

	while (line[n] != '\0' && line[n] != ' ' && line[n] != '\n' &&
	       line[n] != '\r')
		n++;
	if (n == 0 || n > 32)
		return xstrdup("*");
	for (size_t i = 0; i < n; i++)
		if (!is_tag_char(line[i]))
			return xstrdup("*");
	return xstrndup(line, n);
}

/* Does line start with "TAG " or equal "TAG"? Then *rest is what follows. */
static bool has_tag(const char *line, const char *tag, const char **rest)
{
	size_t n = strlen(tag);

	if (strncmp(line, tag, n) != 0 || (line[n] != ' ' && line[n] != '\0'))
		return false;
	*rest = line + n;
	while (**rest == ' ')
		(*rest)++;
	return true;
}

static bool word_is(const char *rest, const char *word)
{
	size_t n = strlen(word);

	return strncmp(rest, word, n) == 0 &&
	       (rest[n] == ' ' || rest[n] == '\0');
}

static const char *keep(struct tc_resp *r, char *s)
{
	if (s != NULL)
		push(&r->strings, &r->nstrings, &r->capstrings, s);
	return s;
}

static bool is_event(const char *line)
{
	return strncmp(line, "* EVENT", 7) == 0 &&
	       (line[7] == ' ' || line[7] == '\0');
}

static bool is_bye(const char *line)
{
	return strncmp(line, "* BYE", 5) == 0 &&
	       (line[5] == ' ' || line[5] == '\0');
}

/* Files one line read while collecting r; true when r is complete. */
static bool take_line(struct tc_conn *c, struct tc_resp *r, char *line)
{
	const char *rest;
	static const char *const finals[] = { "OK", "NO", "BAD", "ERR" };
	size_t i;

	if (is_event(line)) {
		push(&c->events, &c->nevents, &c->capevents, line);
		return false;
	}
	if (is_bye(line)) {
		r->bye = line;
		snprintf(r->word, sizeof(r->word), "BYE");
		r->code = keep(r, tc_field(line, "code"));
		return true;
	}
	if (has_tag(line, r->tag, &rest)) {
		for (i = 0; i < 4; i++)
			if (word_is(rest, finals[i])) {
				r->final = line;
				snprintf(r->word, sizeof(r->word), "%s",
					 finals[i]);
				r->code = keep(r, tc_field(line, "code"));
				/* A final line without code= (OK) still has
				 * a code to print: "". */
				if (r->code == NULL)
					r->code = "";
				return true;
			}
		push(&r->rows, &r->nrows, &r->caprows, line);
		return false;
	}
	push(&r->other, &r->nother, &r->capother, line);
	return false;
}

static struct tc_resp *resp_new(const struct tc_conn *c, const char *request,
				const char *tag)
{
	struct tc_resp *r = xmalloc(sizeof(*r));

	memset(r, 0, sizeof(*r));
	r->conn = xstrdup(c->label);
	r->request = xstrdup(request ? request : "(already sent)");
	r->tag = xstrdup(tag);
	r->code = "";
	r->end = TC_TIMEOUT;
	resp_link(r);
	return r;
}

static void collect_into(struct tc_conn *c, struct tc_resp *r, int timeout_ms)
{
	int64_t start = now_ms(), deadline = start + timeout_ms;
	size_t i;

	/* Lines held back while waiting for events come first. */
	for (i = 0; i < c->nheld; i++) {
		char *line = c->held[i];

		c->held[i] = NULL;
		if (take_line(c, r, line)) {
			size_t left = c->nheld - i - 1;

			memmove(c->held, c->held + i + 1, left * sizeof(char *));
			c->nheld = left;
			r->end = TC_LINE;
			r->elapsed_ms = 0;
			return;
		}
	}
	c->nheld = 0;
	for (;;) {
		char *line;
		enum tc_status st = tc_read_line(c, remaining_ms(deadline),
						 &line);

		if (st != TC_LINE) {
			r->end = st;
			break;
		}
		if (take_line(c, r, line)) {
			r->end = TC_LINE;
			break;
		}
	}
	r->elapsed_ms = (int)(now_ms() - start);
}

struct tc_resp *tc_collect(tc_conn *c, const char *tag, int timeout_ms)
{
	struct tc_resp *r = resp_new(c, NULL, tag);

	collect_into(c, r, timeout_ms > 0 ? timeout_ms : tc_timeout_ms());
	return r;
}

struct tc_resp *tc_req(tc_conn *c, const char *line)
{
	char *tag = tag_of(line);
	struct tc_resp *r = resp_new(c, line, tag);
	size_t n = strlen(line);
	char *buf = xmalloc(n + 2);

	free(tag);
	memcpy(buf, line, n);
	buf[n] = '\n';
	if (!tc_send_raw(c, buf, n + 1)) {
		/* The answer may still be there (a BYE, say): read it. */
		collect_into(c, r, 1000);
	} else {
		collect_into(c, r, tc_timeout_ms());
	}
	free(buf);
	return r;
}

struct tc_resp *tc_reqf(tc_conn *c, const char *fmt, ...)
{
	va_list ap;
	char *line;
	struct tc_resp *r;

	va_start(ap, fmt);
	line = xvasprintf(fmt, ap);
	va_end(ap);
	r = tc_req(c, line);
	free(line);
	return r;
}

struct tc_resp *tc_cmd(tc_conn *c, const char *fmt, ...)
{
	va_list ap;
	char *body, *line;
	struct tc_resp *r;
	size_t n;

	va_start(ap, fmt);
	body = xvasprintf(fmt, ap);
	va_end(ap);
	n = strlen(body) + 16;
	line = xmalloc(n);
	snprintf(line, n, "a%u %s", ++c->next_tag, body);
	r = tc_req(c, line);
	free(line);
	free(body);
	return r;
}

struct tc_resp *tc_login(tc_conn *c, const char *user, const char *pass)
{
	struct tc_resp *r = tc_reqf(c, "l%u LOGIN user=%s password=%s",
				    ++c->next_tag, tc_q(user), tc_q(pass));

	if (strcmp(r->word, "OK") == 0)
		snprintf(c->label, sizeof(c->label), "%s %s", c->name, user);
	return r;
}

const char *tc_get(struct tc_resp *r, const char *key)
{
	return keep(r, tc_field(r->final, key));
}

const char *tc_row_get(struct tc_resp *r, size_t i, const char *key)
{
	if (i >= r->nrows)
		return NULL;
	return keep(r, tc_field(r->rows[i], key));
}

/* ---- events ---------------------------------------------------------- */

static bool event_matches(const char *line, const char *type)
{
	char *t;
	bool ok;

	if (type == NULL)
		return true;
	t = tc_field(line, "type");
	ok = t != NULL && strcmp(t, type) == 0;
	free(t);
	return ok;
}

char *tc_event(tc_conn *c, const char *type, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t i;

	for (;;) {
		char *line;
		enum tc_status st;

		for (i = 0; i < c->nevents; i++) {
			if (event_matches(c->events[i], type)) {
				char *ev = c->events[i];

				memmove(c->events + i, c->events + i + 1,
					(c->nevents - i - 1) * sizeof(char *));
				c->nevents--;
				return ev;
			}
		}
		st = tc_read_line(c, remaining_ms(deadline), &line);
		if (st != TC_LINE)
			return NULL;
		if (is_event(line))
			push(&c->events, &c->nevents, &c->capevents, line);
		else
			push(&c->held, &c->nheld, &c->capheld, line);
	}
}

size_t tc_events_queued(const tc_conn *c)
{
	return c->nevents;
}

void tc_events_clear(tc_conn *c)
{
	size_t i;

	for (i = 0; i < c->nevents; i++)
		free(c->events[i]);
	c->nevents = 0;
}

/* ---- assertions ------------------------------------------------------ */

/* Everything about an answer, for failure messages. */
static char *describe(struct tc_resp *r)
{
	size_t cap = 4096, o = 0, i;
	char *s = xmalloc(cap);

#define ADD(...)                                                           \
	do {                                                               \
		int n_ = snprintf(s + o, cap - o, __VA_ARGS__);            \
		if (n_ > 0)                                                \
			o += (size_t)n_ < cap - o ? (size_t)n_ : cap - o - 1; \
	} while (0)
	ADD("  on:       %s\n", r->conn);
	ADD("  request:  %s\n", show(r->request));
	for (i = 0; i < r->nrows && i < 10; i++)
		ADD("  row:      %s\n", show(r->rows[i]));
	if (r->nrows > 10)
		ADD("  ...       (%zu rows in all)\n", r->nrows);
	for (i = 0; i < r->nother && i < 5; i++)
		ADD("  other:    %s\n", show(r->other[i]));
	if (r->final != NULL)
		ADD("  answer:   %s\n", show(r->final));
	if (r->bye != NULL)
		ADD("  bye:      %s\n", show(r->bye));
	if (r->final == NULL && r->bye == NULL)
		ADD("  answer:   none after %d ms (%s)\n", r->elapsed_ms,
		    r->end == TC_TIMEOUT ? "timeout" :
		    r->end == TC_EOF ? "connection closed" : "error");
#undef ADD
	return s;
}

void tc_expect_at(struct tc_resp *r, const char *word, const char *code,
		  const char *file, int line)
{
	const char *why = NULL, *bad = NULL;
	size_t i;

	if (strcmp(r->word, word) != 0 ||
	    (code != NULL && strcmp(r->code, code) != 0)) {
		const char *d = keep(r, describe(r)); /* freed with r */

		print_error("expected %s%s%s, got %s%s%s\n", word,
			    code ? " code=" : "", code ? code : "",
			    r->word[0] ? r->word : "nothing",
			    r->code[0] ? " code=" : "", r->code);
		tc_fail(file, line, "%s", d);
	}
	for (i = 0; i < r->nrows && bad == NULL; i++)
		if (!tc_line_valid(r->rows[i], &why))
			bad = r->rows[i];
	if (bad == NULL && r->final != NULL && !tc_line_valid(r->final, &why))
		bad = r->final;
	if (bad == NULL && r->bye != NULL && !tc_line_valid(r->bye, &why))
		bad = r->bye;
	if (bad != NULL)
		tc_fail(file, line, "%s: malformed line from the server (%s): "
			"%s\n  request:  %s", r->conn, why, show(bad),
			show(r->request));
}

void tc_expect_field_at(struct tc_resp *r, const char *key,
			const char *value, const char *file, int line)
{
	const char *got = tc_get(r, key);

	if (got == NULL || strcmp(got, value) != 0) {
		if (got != NULL)
			print_error("expected %s=\"%s\", got %s=\"%s\"\n",
				    key, show(value), key, show(got));
		else
			print_error("expected %s=\"%s\", got no field %s\n",
				    key, show(value), key);
		tc_fail(file, line, "%s", keep(r, describe(r)));
	}
}

const char *tc_expect_has_at(struct tc_resp *r, const char *key,
			     const char *file, int line)
{
	const char *got = tc_get(r, key);

	if (got == NULL) {
		print_error("expected a field %s= in the answer\n", key);
		tc_fail(file, line, "%s", keep(r, describe(r)));
	}
	return got;
}

void tc_expect_bye_at(tc_conn *c, const char *code, int timeout_ms,
		      const char *file, int line)
{
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms :
				       tc_timeout_ms());
	char *bye = NULL, *got;

	while (bye == NULL) {
		char *l;
		enum tc_status st;

		if (c->nheld > 0) {
			l = c->held[0];
			memmove(c->held, c->held + 1,
				(c->nheld - 1) * sizeof(char *));
			c->nheld--;
			st = TC_LINE;
		} else {
			st = tc_read_line(c, remaining_ms(deadline), &l);
		}
		if (st != TC_LINE)
			tc_fail(file, line, "%s: expected \"* BYE code=%s\", "
				"got %s", c->label, code,
				st == TC_TIMEOUT ? "nothing (timeout)" :
				st == TC_EOF ? "the connection closed" :
				c->err);
		if (is_event(l)) {
			push(&c->events, &c->nevents, &c->capevents, l);
		} else if (is_bye(l)) {
			bye = l;
		} else {
			print_error("%s: unexpected line: %s\n", c->label,
				    show(l));
			free(l);
			tc_fail(file, line, "%s: expected \"* BYE code=%s\"",
				c->label, code);
		}
	}
	got = tc_field(bye, "code");
	if (got == NULL || strcmp(got, code) != 0 || !tc_line_valid(bye, NULL)) {
		print_error("%s: got: %s\n", c->label, show(bye));
		free(got);
		free(bye);
		tc_fail(file, line, "%s: expected \"* BYE code=%s\"", c->label,
			code);
	}
	free(got);
	free(bye);
	if (!tc_wait_eof(c, remaining_ms(deadline) + 1000))
		tc_fail(file, line, "%s: the server sent BYE code=%s but did "
			"not close the connection", c->label, code);
}
