/* hasher.c: argon2id worker threads. Jobs go in through a mutex-protected
 * queue; finished jobs come back through a second queue and one event made
 * active from the worker, so callbacks always run on the loop thread. */
#include "hasher.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <argon2.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "log.h"

#define SALT_LEN 16
#define HASH_LEN 32
#define ENCODED_MAX 160

struct hjob {
	STAILQ_ENTRY(hjob) link;
	bool verify;
	bool digest;            /* a raw hash with salt, as hex */
	unsigned char salt[SALT_LEN];
	char *password;
	char *encoded;          /* in: hash to verify; out: new hash */
	uint32_t t_cost, m_cost;
	bool ok;
	hasher_done_fn *cb;
	void *arg;
};

STAILQ_HEAD(hjob_list, hjob);

struct hasher {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct hjob_list todo;
	struct hjob_list done;
	bool stopping;
	pthread_t *threads;
	int nthreads;
	struct event *done_ev;
	uint32_t t_cost, m_cost;
	char *dummy;            /* verified for unknown users */
};

static void hjob_free(struct hjob *j)
{
	if (j == NULL)
		return;
	if (j->password != NULL) {
		OPENSSL_cleanse(j->password, strlen(j->password));
		free(j->password);
	}
	free(j->encoded);
	free(j);
}

char *hash_password(const char *password, uint32_t t_cost,
		    uint32_t m_cost_kib)
{
	unsigned char salt[SALT_LEN];
	char *out = malloc(ENCODED_MAX);
	if (out == NULL || RAND_bytes(salt, sizeof salt) != 1) {
		free(out);
		return NULL;
	}
	int rc = argon2id_hash_encoded(t_cost, m_cost_kib, 1, password,
				       strlen(password), salt, sizeof salt,
				       HASH_LEN, out, ENCODED_MAX);
	if (rc != ARGON2_OK) {
		free(out);
		return NULL;
	}
	return out;
}

/* argon2id of the password with the job's salt, as 64 hex digits. */
static char *digest_hex(const struct hjob *j)
{
	unsigned char raw[HASH_LEN];
	char *out = malloc(2 * HASH_LEN + 1);
	if (out == NULL)
		return NULL;
	if (argon2id_hash_raw(j->t_cost, j->m_cost, 1, j->password,
			      strlen(j->password), j->salt, sizeof j->salt,
			      raw, sizeof raw) != ARGON2_OK) {
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	OPENSSL_cleanse(raw, sizeof raw);
	return out;
}

static void hjob_run(struct hjob *j)
{
	if (j->digest) {
		free(j->encoded);
		j->encoded = digest_hex(j);
		j->ok = j->encoded != NULL;
	} else if (j->verify) {
		/* argon2id_verify compares in constant time. */
		j->ok = argon2id_verify(j->encoded, j->password,
					strlen(j->password)) == ARGON2_OK;
	} else {
		free(j->encoded);
		j->encoded = hash_password(j->password, j->t_cost, j->m_cost);
		j->ok = j->encoded != NULL;
	}
}

static void *worker_main(void *arg)
{
	struct hasher *h = arg;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (!h->stopping && STAILQ_EMPTY(&h->todo))
			pthread_cond_wait(&h->cond, &h->lock);
		if (h->stopping)
			break;
		struct hjob *j = STAILQ_FIRST(&h->todo);
		STAILQ_REMOVE_HEAD(&h->todo, link);
		pthread_mutex_unlock(&h->lock);
		hjob_run(j);
		pthread_mutex_lock(&h->lock);
		STAILQ_INSERT_TAIL(&h->done, j, link);
		event_active(h->done_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hasher *h = arg;
	struct hjob_list ready = STAILQ_HEAD_INITIALIZER(ready);
	(void)fd;
	(void)what;
	pthread_mutex_lock(&h->lock);
	STAILQ_CONCAT(&ready, &h->done);
	pthread_mutex_unlock(&h->lock);
	struct hjob *j;
	while ((j = STAILQ_FIRST(&ready)) != NULL) {
		STAILQ_REMOVE_HEAD(&ready, link);
		char *encoded = NULL;
		if (!j->verify) {
			encoded = j->encoded;
			j->encoded = NULL;
		}
		j->cb(j->arg, j->ok, encoded);
		hjob_free(j);
	}
}

struct hasher *hasher_new(struct event_base *base, int threads,
			  uint32_t t_cost, uint32_t m_cost_kib)
{
	struct hasher *h = calloc(1, sizeof *h);
	if (h == NULL)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	STAILQ_INIT(&h->todo);
	STAILQ_INIT(&h->done);
	h->t_cost = t_cost;
	h->m_cost = m_cost_kib;
	h->done_ev = event_new(base, -1, 0, done_cb, h);
	h->dummy = hash_password("calldesk-dummy-password", t_cost, m_cost_kib);
	h->threads = calloc((size_t)threads, sizeof *h->threads);
	if (h->done_ev == NULL || h->dummy == NULL || h->threads == NULL) {
		hasher_free(&h);
		return NULL;
	}
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&h->threads[i], NULL, worker_main, h) != 0) {
			log_error("hasher: cannot start a worker thread");
			hasher_free(&h);
			return NULL;
		}
		h->nthreads++;
	}
	return h;
}

void hasher_free(struct hasher **hp)
{
	struct hasher *h = hp != NULL ? *hp : NULL;
	if (h == NULL)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	for (int i = 0; i < h->nthreads; i++)
		pthread_join(h->threads[i], NULL);
	struct hjob *j;
	while ((j = STAILQ_FIRST(&h->todo)) != NULL) {
		STAILQ_REMOVE_HEAD(&h->todo, link);
		hjob_free(j);
	}
	while ((j = STAILQ_FIRST(&h->done)) != NULL) {
		STAILQ_REMOVE_HEAD(&h->done, link);
		hjob_free(j);
	}
	if (h->done_ev != NULL)
		event_free(h->done_ev);
	free(h->threads);
	free(h->dummy);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h);
	*hp = NULL;
}

void hasher_set_cost(struct hasher *h, uint32_t t_cost, uint32_t m_cost_kib)
{
	if (h->t_cost == t_cost && h->m_cost == m_cost_kib)
		return;
	h->t_cost = t_cost;
	h->m_cost = m_cost_kib;
	/* Unknown users must keep costing what known ones do: a dummy hash
	 * at the new cost (made here, on a reload, which is rare). Jobs
	 * already queued hold their own copy of the old one. */
	char *dummy = hash_password("calldesk-dummy-password", t_cost, m_cost_kib);
	if (dummy != NULL) {
		free(h->dummy);
		h->dummy = dummy;
	}
}

/* Hands a job to the workers. */
static void enqueue(struct hasher *h, struct hjob *j)
{
	pthread_mutex_lock(&h->lock);
	STAILQ_INSERT_TAIL(&h->todo, j, link);
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static bool hasher_submit(struct hasher *h, bool verify, const char *encoded,
			  const char *password, hasher_done_fn *cb, void *arg)
{
	struct hjob *j = calloc(1, sizeof *j);
	if (j == NULL)
		return false;
	j->verify = verify;
	j->password = strdup(password);
	j->encoded = encoded != NULL ? strdup(encoded) : NULL;
	j->t_cost = h->t_cost;
	j->m_cost = h->m_cost;
	j->cb = cb;
	j->arg = arg;
	if (j->password == NULL || (encoded != NULL && j->encoded == NULL)) {
		hjob_free(j);
		return false;
	}
	enqueue(h, j);
	return true;
}

/* An unknown user is checked against the dummy hash with a password that
 * cannot match it, so that the three failures cost the same. */
bool hasher_verify(struct hasher *h, const char *encoded,
		   const char *password, hasher_done_fn *cb, void *arg)
{
	if (encoded == NULL)
		return hasher_submit(h, true, h->dummy, "\x01-not-a-password",
				     cb, arg);
	return hasher_submit(h, true, encoded, password, cb, arg);
}

bool hasher_hash(struct hasher *h, const char *password, hasher_done_fn *cb,
		 void *arg)
{
	return hasher_submit(h, false, NULL, password, cb, arg);
}

bool hasher_digest(struct hasher *h, const char *secret,
		   const unsigned char salt[16], hasher_done_fn *cb, void *arg)
{
	struct hjob *j = calloc(1, sizeof *j);
	if (j == NULL || (j->password = strdup(secret)) == NULL) {
		free(j);
		return false;
	}
	j->digest = true;
	memcpy(j->salt, salt, SALT_LEN);
	j->t_cost = h->t_cost;
	j->m_cost = h->m_cost;
	j->cb = cb;
	j->arg = arg;
	enqueue(h, j);
	return true;
}
