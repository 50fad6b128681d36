/* throttle.h: failed-login counting (PROTOCOL §5). Failures are counted
 * per user-and-address pair and per address, never per user alone, so
 * nobody can lock an agent out from elsewhere. A pair is locked after
 * max failures within 15 minutes, an address after four times that; a
 * lock lasts 60 seconds and doubles each time. In memory; the failures
 * other nodes report (events.c) are recorded here too. */
#ifndef CALLDESK_THROTTLE_H
#define CALLDESK_THROTTLE_H

#include <stdbool.h>
#include <time.h>

struct throttle;

struct throttle *throttle_new(void);
void throttle_free(struct throttle **t);

/* Seconds left on a lock for this user and address, 0 when none. */
int throttle_locked(struct throttle *t, const char *user, const char *addr,
		    time_t now);
/* Records a failure; max is login_max_failures. */
void throttle_failure(struct throttle *t, const char *user, const char *addr,
		      int max, time_t now);
/* A success clears the pair's count (not its lock history). */
void throttle_success(struct throttle *t, const char *user, const char *addr);

#endif
