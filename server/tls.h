/* tls.h: the server's SSL_CTX, built from the configuration at start-up
 * and rebuilt on reload. */
#ifndef CALLDESK_TLS_H
#define CALLDESK_TLS_H

#include <openssl/ssl.h>

#include "config.h"

/* Returns a new context, or NULL after logging why (certificate or key
 * unreadable, mismatched, CA unreadable). TLS 1.2 or 1.3 minimum as
 * configured, modern ciphers, no renegotiation, no compression, released
 * buffers for idle sessions; with tls_client_ca, a client certificate
 * signed by it is required. */
SSL_CTX *tls_server_ctx(const struct config *cfg);

#endif
