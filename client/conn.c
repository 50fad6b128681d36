/* conn.c: the client's TLS connection. A non-blocking socket driven by
 * poll(), so that every wait has a deadline and a signal can cut it
 * short; lines are split here, parsed by the caller. */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#define WRITE_TIMEOUT_MS 30000
#define READ_CHUNK 16384

struct conn {
	int fd;
	SSL *ssl;
	bool dead;              /* closed or failed: no more I/O */
	volatile sig_atomic_t *interrupt;
	char *in;               /* received, not yet returned as lines */
	size_t in_len;
	size_t in_cap;
	size_t scanned;         /* bytes of in known to hold no LF */
	char error[256];
};

/* ---- errors ---------------------------------------------------------- */

/* Plain words for the TLS failures a user can do something about. */
static const char *ssl_reason_words(unsigned long e)
{
	switch (ERR_GET_REASON(e)) {
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		return "the server requires a client certificate "
		       "(--cert and --key)";
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
		return "the server does not accept our client certificate";
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
	case SSL_R_UNSUPPORTED_PROTOCOL:
		return "no TLS version in common with the server";
	case SSL_R_WRONG_VERSION_NUMBER:
		return "the server does not speak TLS on this port";
	default:
		return NULL;
	}
}

/* Writes what, then the first OpenSSL error of the queue (which it
 * empties), in words when there are some for it. */
static void ssl_error(char *err, size_t size, const char *what)
{
	unsigned long e = ERR_get_error();
	const char *words = e != 0 ? ssl_reason_words(e) : NULL;
	char buf[200] = "";

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof buf);
	ERR_clear_error();
	if (words != NULL)
		snprintf(err, size, "%s: %s (%s)", what, words, buf);
	else
		snprintf(err, size, "%s%s%s", what, buf[0] ? ": " : "", buf);
}

const char *conn_error(const struct conn *c)
{
	return c->error[0] != '\0' ? c->error : "connection failed";
}

/* ---- context --------------------------------------------------------- */

SSL_CTX *conn_ctx_new(const struct conn_params *p, char *err, size_t size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct stat st;

	if (ctx == NULL) {
		ssl_error(err, size, "cannot create the TLS context");
		return NULL;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
		goto fail_ssl;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);

	if (p->ca != NULL) {
		if (stat(p->ca, &st) != 0) {
			snprintf(err, size, "CA %s: %s", p->ca, strerror(errno));
			goto fail;
		}
		int ok = S_ISDIR(st.st_mode) ?
			 SSL_CTX_load_verify_locations(ctx, NULL, p->ca) :
			 SSL_CTX_load_verify_locations(ctx, p->ca, NULL);
		if (!ok) {
			snprintf(err, size, "CA %s: ", p->ca);
			size_t n = strlen(err);
			ssl_error(err + n, size - n, "cannot load it");
			goto fail;
		}
	} else if (!SSL_CTX_set_default_verify_paths(ctx)) {
		goto fail_ssl;
	}

	if (p->cert != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx, p->cert) != 1) {
			snprintf(err, size, "certificate %s: ", p->cert);
			size_t n = strlen(err);
			ssl_error(err + n, size - n, "cannot load it");
			goto fail;
		}
		const char *key = p->key != NULL ? p->key : p->cert;
		if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			snprintf(err, size, "key %s: ", key);
			size_t n = strlen(err);
			ssl_error(err + n, size - n, "cannot use it");
			goto fail;
		}
	}
	return ctx;

fail_ssl:
	ssl_error(err, size, "cannot set up TLS");
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* ---- waiting --------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* Waits until fd is ready for events or the deadline (-1: none) passes.
 * Returns 1 ready, 0 timed out, -1 poll failed, -2 interrupted. */
static int wait_fd(int fd, short events, int64_t deadline,
		   volatile sig_atomic_t *interrupt)
{
	for (;;) {
		int timeout = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			timeout = left < 0 ? 0 : left > INT_MAX ? INT_MAX :
						(int)left;
		}
		struct pollfd pfd = {.fd = fd, .events = events};
		int r = poll(&pfd, 1, timeout);
		if (r > 0)
			return 1;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
		if (interrupt != NULL && *interrupt)
			return -2;
	}
}

/* ---- connecting ------------------------------------------------------ */

static int tcp_connect(const struct conn_params *p, int64_t deadline,
		       volatile sig_atomic_t *interrupt, char *err,
		       size_t size)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(p->host, p->port, &hints, &res);

	if (rc != 0) {
		snprintf(err, size, "%s port %s: %s", p->host, p->port,
			 gai_strerror(rc));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
			    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			snprintf(err, size, "socket: %s", strerror(errno));
			continue;
		}
		int e = 0;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			e = errno;
			if (e == EINPROGRESS) {
				int w = wait_fd(fd, POLLOUT, deadline, interrupt);
				socklen_t len = sizeof e;
				if (w == 1)
					getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
						   &len);
				else
					e = w == 0 ? ETIMEDOUT : EINTR;
			}
		}
		if (e != 0) {
			snprintf(err, size, "cannot connect to %s port %s: %s",
				 p->host, p->port, strerror(e));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	return fd;
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 ||
	       inet_pton(AF_INET6, host, buf) == 1;
}

/* Why a handshake failed: the certificate check says it best. */
static void handshake_error(struct conn *c, const struct conn_params *p,
			    int ret)
{
	long v = SSL_get_verify_result(c->ssl);
	int e = SSL_get_error(c->ssl, ret);

	if (v != X509_V_OK) {
		snprintf(c->error, sizeof c->error,
			 "the certificate of %s is not trusted: %s%s", p->host,
			 X509_verify_cert_error_string(v),
			 p->ca == NULL ? " (give the CA with --ca)" : "");
		ERR_clear_error();
	} else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		snprintf(c->error, sizeof c->error,
			 "%s closed the connection during the TLS handshake",
			 p->host);
	} else {
		ssl_error(c->error, sizeof c->error, "TLS handshake failed");
	}
}

struct conn *conn_open(SSL_CTX *ctx, const struct conn_params *p,
		       volatile sig_atomic_t *interrupt, char *err,
		       size_t size)
{
	int64_t deadline = deadline_of(p->connect_timeout_ms);
	struct conn *c = calloc(1, sizeof *c);

	if (c == NULL) {
		snprintf(err, size, "out of memory");
		return NULL;
	}
	c->interrupt = interrupt;
	c->fd = tcp_connect(p, deadline, interrupt, err, size);
	if (c->fd < 0) {
		free(c);
		return NULL;
	}
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || !SSL_set_fd(c->ssl, c->fd)) {
		ssl_error(err, size, "cannot start TLS");
		conn_close(&c);
		return NULL;
	}
	/* The name checked in the certificate: an IP address literal is
	 * matched against IP SANs and never sent as SNI. */
	bool ok;
	if (is_ip_literal(p->host))
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
						   p->host) == 1;
	else
		ok = SSL_set_tlsext_host_name(c->ssl, p->host) == 1 &&
		     SSL_set1_host(c->ssl, p->host) == 1;
	if (!ok) {
		ssl_error(err, size, "cannot set the expected server name");
		conn_close(&c);
		return NULL;
	}

	for (;;) {
		ERR_clear_error();
		int r = SSL_connect(c->ssl);
		if (r == 1)
			break;
		int e = SSL_get_error(c->ssl, r);
		int w = e == SSL_ERROR_WANT_READ ?
			wait_fd(c->fd, POLLIN, deadline, interrupt) :
			e == SSL_ERROR_WANT_WRITE ?
			wait_fd(c->fd, POLLOUT, deadline, interrupt) : -3;
		if (w == 1)
			continue;
		if (w == -3)
			handshake_error(c, p, r);
		else
			snprintf(c->error, sizeof c->error,
				 "TLS handshake with %s: %s", p->host,
				 w == 0 ? "timed out" : "interrupted");
		snprintf(err, size, "%s", c->error);
		c->dead = true;
		conn_close(&c);
		return NULL;
	}
	return c;
}

void conn_close(struct conn **cp)
{
	struct conn *c = *cp;

	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		/* Our close_notify, without waiting for the server's. */
		if (!c->dead)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	ERR_clear_error();
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c);
	*cp = NULL;
}

int conn_fd(const struct conn *c)
{
	return c->fd;
}

bool conn_buffered(const struct conn *c)
{
	return (c->in_len > 0 && memchr(c->in, '\n', c->in_len) != NULL) ||
	       SSL_pending(c->ssl) > 0;
}

/* ---- lines ----------------------------------------------------------- */

static enum conn_read fail(struct conn *c, const char *why)
{
	if (!c->dead) {
		if (why != NULL)
			snprintf(c->error, sizeof c->error, "%s", why);
		else
			ssl_error(c->error, sizeof c->error,
				  "the connection failed");
	}
	c->dead = true;
	return CONN_CLOSED;
}

/* Makes room for one more read; false when the line would be too long. */
static bool make_room(struct conn *c)
{
	if (c->in_cap - c->in_len >= READ_CHUNK)
		return true;
	if (c->in_len >= CONN_LINE_MAX)
		return false;
	size_t cap = c->in_cap == 0 ? 2 * READ_CHUNK : 2 * c->in_cap;
	char *in = realloc(c->in, cap);
	if (in == NULL)
		return false;
	c->in = in;
	c->in_cap = cap;
	return true;
}

enum conn_read conn_read_line(struct conn *c, struct sbuf *line,
			      int timeout_ms)
{
	int64_t deadline = deadline_of(timeout_ms);

	for (;;) {
		char *nl = c->in_len > c->scanned ?
			   memchr(c->in + c->scanned, '\n',
				  c->in_len - c->scanned) : NULL;
		if (nl != NULL) {
			size_t n = (size_t)(nl - c->in), m = n;
			if (m > 0 && c->in[m - 1] == '\r')
				m--;
			sbuf_reset(line);
			sbuf_add(line, c->in, m);
			memmove(c->in, nl + 1, c->in_len - n - 1);
			c->in_len -= n + 1;
			c->scanned = 0;
			return CONN_LINE;
		}
		c->scanned = c->in_len;
		if (c->dead)
			return CONN_CLOSED;
		if (!make_room(c))
			return fail(c, "a line from the server is too long");

		ERR_clear_error();
		size_t room = c->in_cap - c->in_len;
		int r = SSL_read(c->ssl, c->in + c->in_len,
				 room > INT_MAX ? INT_MAX : (int)room);
		if (r > 0) {
			c->in_len += (size_t)r;
			continue;
		}
		int e = SSL_get_error(c->ssl, r), w;
		switch (e) {
		case SSL_ERROR_WANT_READ:
			w = wait_fd(c->fd, POLLIN, deadline, c->interrupt);
			break;
		case SSL_ERROR_WANT_WRITE:
			w = wait_fd(c->fd, POLLOUT, deadline, c->interrupt);
			break;
		case SSL_ERROR_ZERO_RETURN:
			return fail(c, "the server closed the connection");
		case SSL_ERROR_SSL:
			/* OpenSSL 3 reports a close without close_notify
			 * this way: for the user it is just a close. */
			if (ERR_GET_REASON(ERR_peek_error()) ==
			    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
				ERR_clear_error();
				return fail(c, "the server closed the "
					       "connection");
			}
			return fail(c, NULL);
		case SSL_ERROR_SYSCALL:
			if (ERR_peek_error() != 0)
				return fail(c, NULL);
			return fail(c, r == 0 || errno == 0 ?
				       "the server closed the connection" :
				       strerror(errno));
		default:
			return fail(c, NULL);
		}
		if (w == 0)
			return CONN_TIMEOUT;
		if (w == -2)
			return CONN_INTERRUPTED;
		if (w < 0)
			return fail(c, strerror(errno));
	}
}

bool conn_write(struct conn *c, const char *data, size_t len)
{
	int64_t deadline = deadline_of(WRITE_TIMEOUT_MS);

	while (len > 0 && !c->dead) {
		ERR_clear_error();
		int r = SSL_write(c->ssl, data,
				  len > INT_MAX ? INT_MAX : (int)len);
		if (r > 0) {
			data += r;
			len -= (size_t)r;
			continue;
		}
		int e = SSL_get_error(c->ssl, r), w;
		if (e == SSL_ERROR_WANT_WRITE)
			w = wait_fd(c->fd, POLLOUT, deadline, NULL);
		else if (e == SSL_ERROR_WANT_READ)
			w = wait_fd(c->fd, POLLIN, deadline, NULL);
		else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
			return fail(c, errno != 0 ? strerror(errno) :
				       "the server closed the connection"),
			       false;
		else
			return fail(c, NULL), false;
		if (w != 1)
			return fail(c, w == 0 ? "sending timed out" :
				       strerror(errno)), false;
	}
	return !c->dead;
}
