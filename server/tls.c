/* tls.c: TLS context for the listener. */
#include "tls.h"

#include <openssl/err.h>

#include "log.h"

/* ECDHE with AEAD ciphers only for TLS 1.2; TLS 1.3 suites are OpenSSL's
 * defaults, all of them modern. */
static const char tls12_ciphers[] =
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

SSL_CTX *tls_server_ctx(const struct config *cfg)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		log_openssl(LOG_LVL_ERROR, "tls: context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, cfg->tls_min == 13 ? TLS1_3_VERSION
							      : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
				 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_set_cipher_list(ctx, tls12_ciphers) != 1)
		goto fail;
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		log_error("tls: cannot load certificate %s", cfg->tls_cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1) {
		log_error("tls: cannot load key %s", cfg->tls_key);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		log_error("tls: key does not match certificate");
		goto fail;
	}
	if (cfg->tls_client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, cfg->tls_client_ca, NULL) != 1) {
			log_error("tls: cannot load client CA %s", cfg->tls_client_ca);
			goto fail;
		}
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->tls_client_ca);
		if (names != NULL)
			SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	/* Sessions are short-lived console connections; a server-side cache
	 * costs memory for little gain. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	return ctx;
fail:
	log_openssl(LOG_LVL_ERROR, "tls");
	SSL_CTX_free(ctx);
	return NULL;
}
