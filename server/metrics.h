/* metrics.h: the operators' HTTP endpoint (OPERATIONS.md, "metrics =").
 *
 * When the configuration sets metrics = host:port, an evhttp server on the
 * event loop answers GET /metrics in the Prometheus text format and
 * GET /health for load balancers (200 "ok" while the database pool has a
 * live connection, 503 otherwise). Counters (requests by verb and result,
 * latency histograms, rule decisions) are kept in memory; process gauges
 * (connections, sessions, the database pool, events) are read at scrape
 * time; gauges that need PostgreSQL (queue depths, agents by state) come
 * from a cache refreshed every few seconds while someone scrapes.
 *
 * The struct hangs off struct server; nothing here is global. Every
 * function accepts a disabled struct (and NULL), so callers need no
 * checks. */
#ifndef CALLDESK_METRICS_H
#define CALLDESK_METRICS_H

#include <stddef.h>

struct server;
struct metrics;

/* Starts the endpoint when srv->cfg->metrics is set; without it returns a
 * disabled struct that counts nothing. Returns NULL when the address
 * cannot be bound or on allocation failure (logged). Call after srv->base,
 * srv->db and srv->events exist. The address is read once: a reload does
 * not move the endpoint. */
struct metrics *metrics_new(struct server *srv)
	__attribute__((warn_unused_result));

/* Closes the endpoint and frees. A gauge refresh still in flight is
 * detached, never called back into freed memory. Accepts NULL; clears *m. */
void metrics_free(struct metrics **m);

/* Seconds on a monotonic clock, for request durations. */
double metrics_now(void);

/* Counts one answered request. verb: the command table's verb (NULL when
 * the line did not name a known one); sub: its sub-verb or NULL; result:
 * the final line's word, OK, NO, BAD or ERR; code: its code= value, or
 * NULL / "" for OK; seconds: from the line's arrival to the answer. */
void metrics_request(struct metrics *m, const char *verb, const char *sub,
		     const char *result, const char *code, double seconds);

/* The same, taking the result word and code from the answer itself: out
 * holds the tagged lines of one answer (len bytes); the last line whose
 * word is OK, NO, BAD or ERR is the final one. Pushed lines (* EVENT,
 * * BYE) are skipped. */
void metrics_answer(struct metrics *m, const char *verb, const char *sub,
		    const char *out, size_t len, double seconds);

/* Counts one decision of the empowerment rules: "allow", "escalate",
 * "deny" (rules_decision_name()). */
void metrics_decision(struct metrics *m, const char *decision);

#endif
