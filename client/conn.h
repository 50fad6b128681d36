/* conn.h: one TLS connection to calldeskd, read a line at a time.
 *
 * The server's certificate is verified against --ca (or the system's
 * store) and must name the host asked for (DNS name or IP address); the
 * client may present its own certificate for mutual TLS. */
#ifndef CALLDESK_CLIENT_CONN_H
#define CALLDESK_CLIENT_CONN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "proto.h"

/* Longest line accepted from the server. */
#define CONN_LINE_MAX (1024 * 1024)

struct conn_params {
	const char *host;
	const char *port;
	const char *ca;         /* CA file or folder; NULL: system store */
	const char *cert;       /* client certificate chain, or NULL */
	const char *key;        /* its private key, or NULL */
	int connect_timeout_ms;
};

struct conn;

/* The TLS context shared by every connection of the process: TLS 1.2 or
 * later, peer verification on. Fills err (size bytes) on failure. The
 * caller frees it with SSL_CTX_free(). */
SSL_CTX *conn_ctx_new(const struct conn_params *p, char *err, size_t size)
	__attribute__((warn_unused_result));

/* Connects (TCP then TLS handshake, both within the connect timeout).
 * NULL with err filled on failure. interrupt, if not NULL, is a flag a
 * signal handler sets: a wait interrupted while it is set gives up. */
struct conn *conn_open(SSL_CTX *ctx, const struct conn_params *p,
		       volatile sig_atomic_t *interrupt, char *err,
		       size_t size)
	__attribute__((warn_unused_result));

/* Closes and frees *c, sets it to NULL. Accepts NULL. */
void conn_close(struct conn **c);

/* The socket, for poll(). */
int conn_fd(const struct conn *c);

/* True when a line (or TLS data) is already buffered: poll() on the
 * socket would not see it. */
bool conn_buffered(const struct conn *c);

enum conn_read {
	CONN_LINE = 1,          /* *line holds one line, without CR LF */
	CONN_TIMEOUT = 0,       /* nothing within timeout_ms */
	CONN_CLOSED = -1,       /* the server closed, or an error: see
				 * conn_error() */
	CONN_INTERRUPTED = -2,  /* the interrupt flag was set */
};

/* Reads one line, waiting at most timeout_ms (-1: no limit, 0: only what
 * has arrived). */
enum conn_read conn_read_line(struct conn *c, struct sbuf *line,
			      int timeout_ms)
	__attribute__((warn_unused_result));

/* Writes all of data. False when the connection failed. */
bool conn_write(struct conn *c, const char *data, size_t len)
	__attribute__((warn_unused_result));

/* Why the connection failed or closed, in words. */
const char *conn_error(const struct conn *c);

#endif
