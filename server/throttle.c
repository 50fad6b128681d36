/* throttle.c: login failure counters, kept in a small open list that is
 * pruned of stale entries as it is used. */
#include "throttle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW_SECONDS (15 * 60)
#define LOCK_BASE_SECONDS 60
#define LOCK_MAX_SECONDS (24 * 60 * 60)
#define ADDR_FACTOR 4

struct tentry {
	char key[128];          /* "u:USER@ADDR" or "a:ADDR" */
	int failures;
	time_t window_start;
	time_t locked_until;
	int locks;              /* locks so far: the next one doubles */
	time_t last_seen;
};

struct throttle {
	struct tentry *e;
	size_t n, cap;
};

struct throttle *throttle_new(void)
{
	return calloc(1, sizeof(struct throttle));
}

void throttle_free(struct throttle **tp)
{
	if (tp == NULL || *tp == NULL)
		return;
	free((*tp)->e);
	free(*tp);
	*tp = NULL;
}

static void pair_key(char *out, size_t len, const char *user, const char *addr)
{
	snprintf(out, len, "u:%s@%s", user, addr);
}

static void addr_key(char *out, size_t len, const char *addr)
{
	snprintf(out, len, "a:%s", addr);
}

/* Forgets entries with no lock and no failure in the window, and whose
 * lock history is a day old. */
static void prune(struct throttle *t, time_t now)
{
	size_t j = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct tentry *e = &t->e[i];
		/* Never locked: forgettable once out of the failure
		 * window; locked: after a day, when doubling stops mattering. */
		time_t keep = e->locks > 0 ? LOCK_MAX_SECONDS : WINDOW_SECONDS;
		bool stale = e->locked_until <= now && now - e->last_seen > keep;
		if (!stale)
			t->e[j++] = *e;
	}
	t->n = j;
}

static struct tentry *find(struct throttle *t, const char *key, bool create,
			   time_t now)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->e[i].key, key) == 0)
			return &t->e[i];
	if (!create)
		return NULL;
	if (t->n == t->cap) {
		prune(t, now);
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 64;
			struct tentry *ne = realloc(t->e, cap * sizeof *ne);
			if (ne == NULL)
				return NULL;
			t->e = ne;
			t->cap = cap;
		}
	}
	struct tentry *e = &t->e[t->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->key, sizeof e->key, "%s", key);
	return e;
}

static int left(const struct tentry *e, time_t now)
{
	return e != NULL && e->locked_until > now ? (int)(e->locked_until - now) : 0;
}

int throttle_locked(struct throttle *t, const char *user, const char *addr,
		    time_t now)
{
	char k[128];
	pair_key(k, sizeof k, user, addr);
	int a = left(find(t, k, false, now), now);
	addr_key(k, sizeof k, addr);
	int b = left(find(t, k, false, now), now);
	return a > b ? a : b;
}

static void count(struct tentry *e, int max, time_t now)
{
	if (e == NULL)
		return;
	e->last_seen = now;
	if (now - e->window_start > WINDOW_SECONDS) {
		e->window_start = now;
		e->failures = 0;
	}
	if (++e->failures >= max) {
		long secs = LOCK_BASE_SECONDS;
		for (int i = 0; i < e->locks && secs < LOCK_MAX_SECONDS; i++)
			secs *= 2;
		if (secs > LOCK_MAX_SECONDS)
			secs = LOCK_MAX_SECONDS;
		e->locked_until = now + secs;
		e->locks++;
		e->failures = 0;
		e->window_start = now;
	}
}

void throttle_failure(struct throttle *t, const char *user, const char *addr,
		      int max, time_t now)
{
	char k[128];
	pair_key(k, sizeof k, user, addr);
	count(find(t, k, true, now), max, now);
	addr_key(k, sizeof k, addr);
	count(find(t, k, true, now), max * ADDR_FACTOR, now);
}

void throttle_success(struct throttle *t, const char *user, const char *addr)
{
	char k[128];
	pair_key(k, sizeof k, user, addr);
	struct tentry *e = find(t, k, false, 0);
	if (e != NULL)
		e->failures = 0;
}
