/* hasher.h: password hashing (argon2id) off the event loop.
 *
 * Hashing is slow on purpose; a small pool of worker threads does it so
 * that a shift logging in at once does not freeze the loop. Results come
 * back on the loop thread through one libevent event. The base must have
 * been created after evthread_use_pthreads(). */
#ifndef CALLDESK_HASHER_H
#define CALLDESK_HASHER_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct hasher;

/* ok: the password matched (verify) or the hash was made (hash).
 * encoded: the new hash (hash jobs only, else NULL); the callback takes
 * ownership and frees it with free(). */
typedef void hasher_done_fn(void *arg, bool ok, char *encoded);

struct hasher *hasher_new(struct event_base *base, int threads,
			  uint32_t t_cost, uint32_t m_cost_kib)
	__attribute__((warn_unused_result));
/* Stops the workers (waiting for the jobs they hold) and drops queued
 * jobs without calling them back. Accepts NULL; clears *h. */
void hasher_free(struct hasher **h);

/* Cost for hashes made from now on (reload). */
void hasher_set_cost(struct hasher *h, uint32_t t_cost, uint32_t m_cost_kib);

/* Checks password against an encoded argon2id hash, in constant time.
 * encoded NULL means an unknown user: a dummy hash is checked so that the
 * answer takes about as long, and the result is false. */
bool hasher_verify(struct hasher *h, const char *encoded,
		   const char *password, hasher_done_fn *cb, void *arg)
	__attribute__((warn_unused_result));
bool hasher_hash(struct hasher *h, const char *password, hasher_done_fn *cb,
		 void *arg) __attribute__((warn_unused_result));

/* A deterministic argon2id digest of secret with this 16-byte salt, at the
 * current cost, as 64 hex digits (passed as `encoded`): what an
 * idempotency key's request identity holds of a password, so that the
 * stored identity costs an attacker as much as a stored password hash. */
bool hasher_digest(struct hasher *h, const char *secret,
		   const unsigned char salt[16], hasher_done_fn *cb, void *arg)
	__attribute__((warn_unused_result));

/* Synchronous hash for command-line tools. Returns a malloc'd string or
 * NULL. */
char *hash_password(const char *password, uint32_t t_cost,
		    uint32_t m_cost_kib);

#endif
