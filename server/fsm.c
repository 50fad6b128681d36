/* fsm.c: the complaint state machine table. */
#include "fsm.h"

#include <stdio.h>
#include <string.h>

#define B(s) (1u << (s))
#define ALL_STATES (B(CS_COUNT) - 1u)
#define SAME CS_COUNT /* target: unchanged */

static const char *const state_names[CS_COUNT] = {
	"new", "assigned", "waiting", "escalated", "resolved", "closed",
	"reopened",
};

struct move_rule {
	unsigned from;       /* bit set of states */
	enum cstate to;      /* SAME: unchanged */
	bool owner;          /* assignee or supervisor only */
};

static const struct move_rule moves[MV_COUNT] = {
	[MV_TAKE] = { B(CS_NEW) | B(CS_REOPENED), CS_ASSIGNED, false },
	[MV_ASSIGN] = { B(CS_NEW) | B(CS_REOPENED) | B(CS_ASSIGNED) |
			B(CS_WAITING) | B(CS_ESCALATED), SAME, false },
	[MV_WAIT] = { B(CS_ASSIGNED), CS_WAITING, true },
	[MV_RESUME] = { B(CS_WAITING), CS_ASSIGNED, true },
	[MV_RESOLVE] = { B(CS_ASSIGNED), CS_RESOLVED, true },
	[MV_ESCALATE] = { B(CS_ASSIGNED), CS_ESCALATED, true },
	[MV_APPROVE_ACTION] = { B(CS_ESCALATED), CS_RESOLVED, false },
	[MV_RETURN] = { B(CS_ESCALATED), CS_ASSIGNED, false },
	[MV_CLOSE] = { B(CS_RESOLVED), CS_CLOSED, true },
	[MV_REOPEN] = { B(CS_RESOLVED) | B(CS_CLOSED), CS_REOPENED, false },
	[MV_NOTE] = { ALL_STATES, SAME, false },
};

const char *fsm_state_name(enum cstate s)
{
	return s < CS_COUNT ? state_names[s] : "";
}

enum cstate fsm_state_from_name(const char *name)
{
	for (int i = 0; i < CS_COUNT; i++)
		if (strcmp(state_names[i], name) == 0)
			return (enum cstate)i;
	return CS_COUNT;
}

bool fsm_allowed(enum cmove move, enum cstate from)
{
	return move < MV_COUNT && from < CS_COUNT &&
	       (moves[move].from & B(from)) != 0;
}

enum cstate fsm_target(enum cmove move, enum cstate from)
{
	if (move == MV_ASSIGN) /* new and reopened complaints become assigned */
		return from == CS_NEW || from == CS_REOPENED ? CS_ASSIGNED : from;
	return moves[move].to == SAME ? from : moves[move].to;
}

bool fsm_needs_owner(enum cmove move)
{
	return moves[move].owner;
}

void fsm_from_array(enum cmove move, char *out, size_t len)
{
	size_t off = 0;
	off += (size_t)snprintf(out + off, len - off, "{");
	for (int s = 0; s < CS_COUNT && off < len; s++) {
		if (!(moves[move].from & B(s)))
			continue;
		off += (size_t)snprintf(out + off, len - off, "%s%s",
					off > 1 ? "," : "", state_names[s]);
	}
	if (off < len)
		snprintf(out + off, len - off, "}");
}
