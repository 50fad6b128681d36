/* hist.c: the log-linear latency histogram (see hist.h).
 *
 * Below SUB (128) a value is its own bucket. Above, with e the number of
 * low bits dropped so that the value keeps HIST_SUB_BITS significant bits,
 * the bucket is e * HALF + (value >> e): the top bits (64..127) select one
 * of HALF buckets in each power of two, and consecutive powers follow each
 * other without a gap (128 -> 128, 255 -> 191, 256 -> 192). */
#include "hist.h"

#include <string.h>

#define SUB (1u << HIST_SUB_BITS)
#define HALF (SUB / 2)
#define LIMIT ((UINT64_C(1) << HIST_MAX_BITS) - 1)

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

static unsigned bucket_of(uint64_t v)
{
	unsigned e;

	if (v < SUB)
		return (unsigned)v;
	e = (unsigned)(63 - __builtin_clzll(v)) - (HIST_SUB_BITS - 1);
	return e * HALF + (unsigned)(v >> e);
}

/* The highest value that falls into bucket i. */
static uint64_t bucket_top(unsigned i)
{
	unsigned e;
	uint64_t m;

	if (i < SUB)
		return i;
	e = i / HALF - 1;
	m = i - e * HALF;
	return ((m + 1) << e) - 1;
}

void hist_record(struct hist *h, uint64_t value)
{
	if (value > LIMIT)
		value = LIMIT;
	h->bucket[bucket_of(value)]++;
	h->count++;
	h->sum += value;
	if (value > h->max)
		h->max = value;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t want, seen = 0, top;
	double exact;
	unsigned i;

	if (h->count == 0)
		return 0;
	/* The rank of the value wanted: ceil(p% of count), without libm. */
	exact = p / 100.0 * (double)h->count;
	want = (uint64_t)exact;
	if ((double)want < exact)
		want++;
	if (want < 1)
		want = 1;
	if (want > h->count)
		want = h->count;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			top = bucket_top(i);
			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}
