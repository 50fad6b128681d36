/* board_model.h: what the supervisor board knows, built from WATCH
 * events (PROTOCOL.md §10) and ESCALATION LIST rows (§9). Pure code: no
 * I/O, no screen; times are given by the caller (milliseconds of a
 * monotonic clock), so that a test can replay events.
 *
 * The model owns its arrays; bm_free() releases them. Entries are kept
 * sorted for display after every change: queues by name, agents by name
 * with offline ones last, deadlines breached first, escalations oldest
 * first. */
#ifndef CALLDESK_CLIENT_BOARD_MODEL_H
#define CALLDESK_CLIENT_BOARD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define BM_NAME 72      /* names, approvers ("role:NAME"), with room */
#define BM_WORD 24      /* states, actions, amounts, times */

struct bm_queue {
	char name[BM_NAME];
	long waiting;
	long oldest_wait;       /* seconds when the event came; -1 unknown */
	long agents_ready;
	int64_t at_ms;          /* when the figures came */
	bool stale;             /* not (yet) confirmed by the new snapshot */
};

struct bm_agent {
	char user[BM_NAME];
	char state[BM_WORD];
	char activity[BM_WORD];
	int64_t since_ms;       /* when this state and activity were seen
				 * first: the time in state counts from it */
	bool stale;
};

/* A deadline at risk or missed (an sla event). */
struct bm_sla {
	unsigned long long complaint;
	char deadline[BM_WORD]; /* respond, resolve, handoff, escalation */
	char status[BM_WORD];   /* at-risk, breached */
	char ref[BM_WORD];      /* the hand-off or escalation id, or "" */
	int64_t at_ms;          /* when this status came */
	bool stale;
};

/* The latest complaint event of a complaint, to say where an sla row's
 * complaint is and who holds it. */
struct bm_complaint {
	unsigned long long id;
	char state[BM_WORD];
	char queue[BM_NAME];
	char assignee[BM_NAME];
};

/* A pending escalation. The event gives the approver and level; the
 * details (requester, action, amount, due) come from ESCALATION LIST. */
struct bm_escalation {
	unsigned long long id;
	unsigned long long complaint;
	char approver[BM_NAME];
	char level[BM_WORD];
	char requested_by[BM_NAME];
	char action[BM_WORD];
	char amount[BM_WORD];
	char due[BM_WORD + 8];  /* RFC 3339, UTC */
	bool detailed;          /* the list has given the details */
};

struct board_model {
	struct bm_queue *queues;
	size_t nqueues, capqueues;
	struct bm_agent *agents;
	size_t nagents, capagents;
	struct bm_sla *slas;
	size_t nslas, capslas;
	struct bm_complaint *complaints;  /* the most recent ones, bounded */
	size_t ncomplaints, capcomplaints;
	struct bm_escalation *escs;
	size_t nescs, capescs;
	bool in_snapshot;       /* between WATCH and snapshot-end */
	char last_event[200];   /* the latest change, in words */
	int64_t last_event_ms;
	bool failed;            /* out of memory once: some rows missing */
};

/* What bm_apply_event() changed. */
enum {
	BM_CHANGED = 1 << 0,        /* something to redraw */
	BM_WANT_ESCALATIONS = 1 << 1,  /* fetch ESCALATION LIST again */
	BM_SNAPSHOT_END = 1 << 2,
	BM_NEWS = 1 << 3,           /* a real change: last_event says it */
};

/* Zeroes the model. */
void bm_init(struct board_model *m);

/* Frees every array; the model is empty and usable again. */
void bm_free(struct board_model *m);

/* WATCH is about to be sent: until snapshot-end, queues, agents and
 * deadlines not repeated by the snapshot are marked stale; then they go.
 * An agent whose state is unchanged keeps its time in state. */
void bm_begin_snapshot(struct board_model *m);

/* Applies one push (* EVENT ...; anything else is ignored) that arrived
 * at now_ms. Returns BM_* flags. */
unsigned bm_apply_event(struct board_model *m, const struct proto_request *ev,
			int64_t now_ms);

/* Replaces the pending escalations by the ROW lines of
 * "ESCALATION LIST state=pending" (rows whose state is not pending are
 * skipped). */
void bm_set_escalations(struct board_model *m,
			const struct proto_request *rows, size_t nrows);

/* Drops escalation id (decided from the board); true if it was there. */
bool bm_remove_escalation(struct board_model *m, unsigned long long id);

/* The escalation with this id, or NULL. */
const struct bm_escalation *bm_find_escalation(const struct board_model *m,
					       unsigned long long id);

/* Index of escalation id in m->escs, or -1. */
long bm_escalation_index(const struct board_model *m, unsigned long long id);

/* The latest complaint event known for id, or NULL. */
const struct bm_complaint *bm_find_complaint(const struct board_model *m,
					     unsigned long long id);

/* Agents by kind, for a summary line. */
struct bm_agent_counts {
	size_t ready;           /* ready and idle: can take work */
	size_t busy;            /* in an interaction */
	size_t away;            /* not-ready, break, wrap-up */
	size_t offline;
};
void bm_count_agents(const struct board_model *m, struct bm_agent_counts *c);

#endif
