/* fsm.h: the complaint state machine of PROTOCOL §8, as one table. The
 * server asks it which states a move starts from; the database applies
 * the move only from those states (under a row lock). */
#ifndef CALLDESK_FSM_H
#define CALLDESK_FSM_H

#include <stdbool.h>
#include <stddef.h>

enum cstate {
	CS_NEW, CS_ASSIGNED, CS_WAITING, CS_ESCALATED, CS_RESOLVED, CS_CLOSED,
	CS_REOPENED, CS_COUNT
};

enum cmove {
	MV_TAKE,          /* TAKE, NEXT */
	MV_ASSIGN,        /* supervisor ASSIGN */
	MV_WAIT,
	MV_RESUME,
	MV_RESOLVE,       /* RESOLVE allowed */
	MV_ESCALATE,      /* RESOLVE escalated, ESCALATE */
	MV_APPROVE_ACTION,/* APPROVE of a request carrying an action */
	MV_RETURN,        /* APPROVE without action, REJECT, WITHDRAW */
	MV_CLOSE,
	MV_REOPEN,
	MV_NOTE,          /* allowed in every state */
	MV_COUNT
};

const char *fsm_state_name(enum cstate s);
/* CS_COUNT when unknown. */
enum cstate fsm_state_from_name(const char *name);

/* Whether move may start in state from. */
bool fsm_allowed(enum cmove move, enum cstate from);
/* The state after the move; for MV_ASSIGN and MV_NOTE, the state itself. */
enum cstate fsm_target(enum cmove move, enum cstate from);
/* Whether the move needs the assignee or a supervisor. */
bool fsm_needs_owner(enum cmove move);

/* Writes the states move may start from as a PostgreSQL array literal
 * ("{new,reopened}") into out. */
void fsm_from_array(enum cmove move, char *out, size_t len);

#endif
