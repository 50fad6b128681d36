/* hist.h: a latency histogram with log-linear buckets, in the manner of
 * HdrHistogram: exact below 128 ns, then 64 buckets per power of two, so a
 * recorded value is known within 1/64 (1.6 %). Fixed size, no allocation:
 * recording is an index computation and an increment. */
#ifndef CALLDESK_BENCH_HIST_H
#define CALLDESK_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_MAX_BITS 40 /* 2^40 ns, about 18 minutes; larger values clamp */
#define HIST_BUCKETS (((HIST_MAX_BITS - HIST_SUB_BITS + 2) << (HIST_SUB_BITS - 1)))

struct hist {
	uint64_t count;                 /* values recorded */
	uint64_t max;                   /* the largest, exact */
	uint64_t sum;                   /* for the mean */
	uint64_t bucket[HIST_BUCKETS];
};

/* Empties h. */
void hist_reset(struct hist *h);

/* Records one value (nanoseconds). */
void hist_record(struct hist *h, uint64_t value);

/* The value at or below which p percent (0 < p <= 100) of the recorded
 * values lie: the highest value of that bucket, never above the maximum.
 * 0 when nothing was recorded. */
uint64_t hist_percentile(const struct hist *h, double p);

#endif
