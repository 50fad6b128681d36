/* board_model.c: the supervisor board's picture of the call centre,
 * kept up to date from events. Every event is applied as it comes; the
 * snapshot that follows WATCH refreshes everything, and what it does not
 * repeat is dropped at its end (the picture after a reconnection). */
#include "board_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Complaints remembered for the deadline rows; the oldest go first. */
#define BM_COMPLAINTS_MAX 512

/* ---- small helpers --------------------------------------------------- */

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static const char *get(const struct proto_request *r, const char *key)
{
	const char *v = proto_get(r, key);

	return v != NULL ? v : "";
}

/* A number field, or fallback when absent or not a number. */
static long get_long(const struct proto_request *r, const char *key,
		     long fallback)
{
	const char *v = proto_get(r, key);
	char *end;

	if (v == NULL || v[0] < '0' || v[0] > '9')
		return fallback;
	long n = strtol(v, &end, 10);
	return *end == '\0' && n >= 0 ? n : fallback;
}

/* An id (PROTOCOL.md §3), or 0 when it is not one. */
static unsigned long long get_id(const struct proto_request *r,
				 const char *key)
{
	const char *v = proto_get(r, key);
	char *end;

	if (v == NULL || v[0] < '1' || v[0] > '9')
		return 0;
	unsigned long long n = strtoull(v, &end, 10);
	return *end == '\0' ? n : 0;
}

/* Makes room for one more element of size bytes in *arr. */
static bool grow(struct board_model *m, void **arr, size_t n, size_t *cap,
		 size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap == 0 ? 16 : 2 * *cap;
	void *p = realloc(*arr, c * size);
	if (p == NULL) {
		m->failed = true;
		return false;
	}
	*arr = p;
	*cap = c;
	return true;
}

#define GROW(m, arr, n, cap) \
	grow((m), (void **)&(arr), (n), &(cap), sizeof *(arr))

void bm_init(struct board_model *m)
{
	memset(m, 0, sizeof *m);
}

void bm_free(struct board_model *m)
{
	free(m->queues);
	free(m->agents);
	free(m->slas);
	free(m->complaints);
	free(m->escs);
	bm_init(m);
}

/* ---- sorting --------------------------------------------------------- */

/* qsort() wants a valid pointer even for nothing to sort. */
static void sort(void *base, size_t n, size_t size,
		 int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static int cmp_queue(const void *a, const void *b)
{
	return strcmp(((const struct bm_queue *)a)->name,
		      ((const struct bm_queue *)b)->name);
}

static int cmp_agent(const void *a, const void *b)
{
	const struct bm_agent *x = a, *y = b;
	bool xo = strcmp(x->state, "offline") == 0;
	bool yo = strcmp(y->state, "offline") == 0;

	if (xo != yo)
		return xo ? 1 : -1;
	return strcmp(x->user, y->user);
}

static int cmp_sla(const void *a, const void *b)
{
	const struct bm_sla *x = a, *y = b;
	bool xb = strcmp(x->status, "breached") == 0;
	bool yb = strcmp(y->status, "breached") == 0;

	if (xb != yb)
		return xb ? -1 : 1;
	if (x->complaint != y->complaint)
		return x->complaint < y->complaint ? -1 : 1;
	int c = strcmp(x->deadline, y->deadline);
	return c != 0 ? c : strcmp(x->ref, y->ref);
}

static int cmp_esc(const void *a, const void *b)
{
	const struct bm_escalation *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* ---- queues and agents ----------------------------------------------- */

static unsigned queue_event(struct board_model *m,
			    const struct proto_request *ev, int64_t now)
{
	const char *name = get(ev, "queue");
	bool fresh = false;
	size_t i = 0;

	if (name[0] == '\0')
		return 0;
	while (i < m->nqueues && strcmp(m->queues[i].name, name) != 0)
		i++;
	if (i == m->nqueues) {
		fresh = true;
		if (!GROW(m, m->queues, m->nqueues, m->capqueues))
			return 0;
		memset(&m->queues[i], 0, sizeof m->queues[i]);
		copy(m->queues[i].name, sizeof m->queues[i].name, name);
		m->nqueues++;
	}
	struct bm_queue *q = &m->queues[i];
	long waiting = q->waiting, ready = q->agents_ready;
	q->waiting = get_long(ev, "waiting", q->waiting);
	q->agents_ready = get_long(ev, "agents_ready", q->agents_ready);
	q->oldest_wait = get_long(ev, "oldest_wait", -1);
	q->at_ms = now;
	q->stale = false;
	/* The server repeats every queue to a new watcher: only a change
	 * of figures is news. */
	bool news = fresh || waiting != q->waiting || ready != q->agents_ready;
	if (!m->in_snapshot && news)
		snprintf(m->last_event, sizeof m->last_event,
			 "queue %.32s: %ld waiting, %ld ready", name,
			 q->waiting, q->agents_ready);
	sort(m->queues, m->nqueues, sizeof *m->queues, cmp_queue);
	return news ? BM_CHANGED | BM_NEWS : BM_CHANGED;
}

static unsigned agent_event(struct board_model *m,
			    const struct proto_request *ev, int64_t now)
{
	const char *user = get(ev, "user");
	const char *state = get(ev, "state");
	const char *activity = get(ev, "activity");
	size_t i = 0;

	if (user[0] == '\0')
		return 0;
	while (i < m->nagents && strcmp(m->agents[i].user, user) != 0)
		i++;
	if (i == m->nagents) {
		if (!GROW(m, m->agents, m->nagents, m->capagents))
			return 0;
		memset(&m->agents[i], 0, sizeof m->agents[i]);
		copy(m->agents[i].user, sizeof m->agents[i].user, user);
		m->agents[i].since_ms = now;
		m->nagents++;
	}
	struct bm_agent *a = &m->agents[i];
	bool news = strcmp(a->state, state) != 0 ||
		    strcmp(a->activity, activity) != 0;
	if (news)
		a->since_ms = now;
	copy(a->state, sizeof a->state, state);
	copy(a->activity, sizeof a->activity, activity);
	a->stale = false;
	if (!m->in_snapshot && news)
		snprintf(m->last_event, sizeof m->last_event,
			 "agent %.32s: %.20s, %.20s", user, state, activity);
	sort(m->agents, m->nagents, sizeof *m->agents, cmp_agent);
	return news ? BM_CHANGED | BM_NEWS : BM_CHANGED;
}

/* ---- complaints and deadlines ---------------------------------------- */

static void drop_slas_of(struct board_model *m, unsigned long long complaint)
{
	size_t k = 0;

	for (size_t i = 0; i < m->nslas; i++)
		if (m->slas[i].complaint != complaint)
			m->slas[k++] = m->slas[i];
	m->nslas = k;
}

static unsigned complaint_event(struct board_model *m,
				const struct proto_request *ev)
{
	unsigned long long id = get_id(ev, "complaint");
	const char *state = get(ev, "state");
	size_t i = 0;

	if (id == 0)
		return 0;
	while (i < m->ncomplaints && m->complaints[i].id != id)
		i++;
	if (i < m->ncomplaints) {
		/* The latest goes last: the oldest is dropped first. */
		struct bm_complaint c = m->complaints[i];
		memmove(&m->complaints[i], &m->complaints[i + 1],
			(m->ncomplaints - i - 1) * sizeof c);
		m->complaints[m->ncomplaints - 1] = c;
		i = m->ncomplaints - 1;
	} else {
		if (m->ncomplaints == BM_COMPLAINTS_MAX) {
			memmove(&m->complaints[0], &m->complaints[1],
				(m->ncomplaints - 1) * sizeof *m->complaints);
			m->ncomplaints--;
		}
		if (!GROW(m, m->complaints, m->ncomplaints, m->capcomplaints))
			return 0;
		i = m->ncomplaints++;
	}
	struct bm_complaint *c = &m->complaints[i];
	c->id = id;
	copy(c->state, sizeof c->state, state);
	copy(c->queue, sizeof c->queue, get(ev, "queue"));
	copy(c->assignee, sizeof c->assignee, get(ev, "assignee"));
	/* A resolved or closed complaint owes nothing any more. */
	if (strcmp(state, "resolved") == 0 || strcmp(state, "closed") == 0)
		drop_slas_of(m, id);
	snprintf(m->last_event, sizeof m->last_event,
		 "complaint %llu: %.20s in %.32s%s%.32s", id, state, c->queue,
		 c->assignee[0] != '\0' ? ", held by " : "", c->assignee);
	return BM_CHANGED | BM_NEWS;
}

static unsigned sla_event(struct board_model *m,
			  const struct proto_request *ev, int64_t now)
{
	unsigned long long id = get_id(ev, "complaint");
	const char *deadline = get(ev, "deadline");
	const char *status = get(ev, "status");
	const char *ref = proto_get(ev, "escalation");
	size_t i = 0;

	if (ref == NULL)
		ref = get(ev, "handoff");
	if (id == 0)
		return 0;
	while (i < m->nslas &&
	       (m->slas[i].complaint != id ||
		strcmp(m->slas[i].deadline, deadline) != 0 ||
		strcmp(m->slas[i].ref, ref) != 0))
		i++;
	if (i == m->nslas) {
		if (!GROW(m, m->slas, m->nslas, m->capslas))
			return 0;
		memset(&m->slas[i], 0, sizeof m->slas[i]);
		m->slas[i].complaint = id;
		copy(m->slas[i].deadline, sizeof m->slas[i].deadline, deadline);
		copy(m->slas[i].ref, sizeof m->slas[i].ref, ref);
		m->slas[i].at_ms = now;
		m->nslas++;
	}
	struct bm_sla *s = &m->slas[i];
	bool news = strcmp(s->status, status) != 0;
	if (news)
		s->at_ms = now;
	copy(s->status, sizeof s->status, status);
	s->stale = false;
	if (!m->in_snapshot && news)
		snprintf(m->last_event, sizeof m->last_event,
			 "complaint %llu: %.20s deadline %.20s", id, deadline,
			 status);
	sort(m->slas, m->nslas, sizeof *m->slas, cmp_sla);
	return news ? BM_CHANGED | BM_NEWS : BM_CHANGED;
}

const struct bm_complaint *bm_find_complaint(const struct board_model *m,
					     unsigned long long id)
{
	for (size_t i = 0; i < m->ncomplaints; i++)
		if (m->complaints[i].id == id)
			return &m->complaints[i];
	return NULL;
}

/* ---- escalations ----------------------------------------------------- */

long bm_escalation_index(const struct board_model *m, unsigned long long id)
{
	for (size_t i = 0; i < m->nescs; i++)
		if (m->escs[i].id == id)
			return (long)i;
	return -1;
}

const struct bm_escalation *bm_find_escalation(const struct board_model *m,
					       unsigned long long id)
{
	long i = bm_escalation_index(m, id);

	return i >= 0 ? &m->escs[i] : NULL;
}

bool bm_remove_escalation(struct board_model *m, unsigned long long id)
{
	long i = bm_escalation_index(m, id);

	if (i < 0)
		return false;
	memmove(&m->escs[i], &m->escs[i + 1],
		(m->nescs - (size_t)i - 1) * sizeof *m->escs);
	m->nescs--;
	return true;
}

static unsigned escalation_event(struct board_model *m,
				 const struct proto_request *ev)
{
	unsigned long long id = get_id(ev, "escalation");
	const char *state = get(ev, "state");

	if (id == 0)
		return 0;
	snprintf(m->last_event, sizeof m->last_event,
		 "escalation %llu (complaint %.20s): %.20s, %.40s", id,
		 get(ev, "complaint"), state, get(ev, "approver"));
	if (strcmp(state, "pending") != 0) {
		bm_remove_escalation(m, id);
		return BM_CHANGED | BM_NEWS;
	}
	long i = bm_escalation_index(m, id);
	if (i < 0) {
		if (!GROW(m, m->escs, m->nescs, m->capescs))
			return 0;
		i = (long)m->nescs++;
		memset(&m->escs[i], 0, sizeof m->escs[i]);
		m->escs[i].id = id;
	}
	struct bm_escalation *e = &m->escs[i];
	e->complaint = get_id(ev, "complaint");
	copy(e->approver, sizeof e->approver, get(ev, "approver"));
	copy(e->level, sizeof e->level, get(ev, "level"));
	sort(m->escs, m->nescs, sizeof *m->escs, cmp_esc);
	/* A new one, or one that moved up: its details (due) changed. */
	return BM_CHANGED | BM_NEWS | BM_WANT_ESCALATIONS;
}

void bm_set_escalations(struct board_model *m,
			const struct proto_request *rows, size_t nrows)
{
	m->nescs = 0;
	for (size_t r = 0; r < nrows; r++) {
		const struct proto_request *row = &rows[r];
		unsigned long long id = get_id(row, "escalation");
		const char *state = proto_get(row, "state");
		if (id == 0 || (state != NULL && strcmp(state, "pending") != 0))
			continue;
		if (!GROW(m, m->escs, m->nescs, m->capescs))
			break;
		struct bm_escalation *e = &m->escs[m->nescs++];
		memset(e, 0, sizeof *e);
		e->id = id;
		e->complaint = get_id(row, "complaint");
		copy(e->approver, sizeof e->approver, get(row, "approver"));
		copy(e->level, sizeof e->level, get(row, "level"));
		copy(e->requested_by, sizeof e->requested_by,
		     get(row, "requested_by"));
		copy(e->action, sizeof e->action, get(row, "action"));
		copy(e->amount, sizeof e->amount, get(row, "amount"));
		copy(e->due, sizeof e->due, get(row, "due"));
		e->detailed = true;
	}
	sort(m->escs, m->nescs, sizeof *m->escs, cmp_esc);
}

/* ---- snapshot -------------------------------------------------------- */

void bm_begin_snapshot(struct board_model *m)
{
	m->in_snapshot = true;
	for (size_t i = 0; i < m->nqueues; i++)
		m->queues[i].stale = true;
	for (size_t i = 0; i < m->nagents; i++)
		m->agents[i].stale = true;
	for (size_t i = 0; i < m->nslas; i++)
		m->slas[i].stale = true;
}

static void end_snapshot(struct board_model *m)
{
	size_t k;

	m->in_snapshot = false;
	k = 0;
	for (size_t i = 0; i < m->nqueues; i++)
		if (!m->queues[i].stale)
			m->queues[k++] = m->queues[i];
	m->nqueues = k;
	k = 0;
	for (size_t i = 0; i < m->nagents; i++)
		if (!m->agents[i].stale)
			m->agents[k++] = m->agents[i];
	m->nagents = k;
	k = 0;
	for (size_t i = 0; i < m->nslas; i++)
		if (!m->slas[i].stale)
			m->slas[k++] = m->slas[i];
	m->nslas = k;
}

unsigned bm_apply_event(struct board_model *m, const struct proto_request *ev,
			int64_t now_ms)
{
	const char *type = proto_get(ev, "type");
	unsigned r = 0;

	if (strcmp(ev->verb, "EVENT") != 0 || type == NULL)
		return 0;
	if (strcmp(type, "queue") == 0)
		r = queue_event(m, ev, now_ms);
	else if (strcmp(type, "agent") == 0)
		r = agent_event(m, ev, now_ms);
	else if (strcmp(type, "complaint") == 0)
		r = complaint_event(m, ev);
	else if (strcmp(type, "sla") == 0)
		r = sla_event(m, ev, now_ms);
	else if (strcmp(type, "escalation") == 0)
		r = escalation_event(m, ev);
	else if (strcmp(type, "snapshot-end") == 0) {
		end_snapshot(m);
		return BM_CHANGED | BM_SNAPSHOT_END;
	}
	/* handoff and types this client does not know: nothing to show. */
	if ((r & BM_NEWS) != 0 && !m->in_snapshot)
		m->last_event_ms = now_ms;
	return r;
}

void bm_count_agents(const struct board_model *m, struct bm_agent_counts *c)
{
	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < m->nagents; i++) {
		const struct bm_agent *a = &m->agents[i];
		if (strcmp(a->state, "offline") == 0)
			c->offline++;
		else if (strcmp(a->activity, "idle") != 0)
			c->busy++;
		else if (strcmp(a->state, "ready") == 0)
			c->ready++;
		else
			c->away++;
	}
}
