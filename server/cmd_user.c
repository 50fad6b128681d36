/* cmd_user.c: USER ADD and USER SET (admin). Tiers, skills and
 * departments must exist in the rules; the password is hashed on a worker
 * before the statement runs; disabling a user ends their sessions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "handlers.h"
#include "db.h"
#include "hasher.h"
#include "log.h"
#include "server.h"
#include "values.h"

/* Checks the names that must exist in the rules; returns the not-found
 * message, or NULL when all are known. */
static const char *user_refs_missing(struct request *rq, char *buf, size_t len)
{
	const char *tier = rq_arg(rq, "tier");
	const char *skills = rq_arg(rq, "skills");
	const char *dept = rq_arg(rq, "dept");

	if (tier != NULL && cfg_find_tier(rq->cfg, atoi(tier)) == NULL) {
		snprintf(buf, len, "tier %s is not defined in the rules", tier);
		return buf;
	}
	if (dept != NULL && dept[0] != '\0' && cfg_find_dept(rq->cfg, dept) == NULL) {
		snprintf(buf, len, "no such department %s", dept);
		return buf;
	}
	char skill[CFG_NAME_MAX + 1];
	if (skills != NULL &&
	    cfg_unknown_skill(rq->cfg, skills, skill, sizeof skill) != NULL) {
		snprintf(buf, len, "skill %s names no queue or category", skill);
		return buf;
	}
	return NULL;
}

static void user_add_hashed(void *arg, bool ok, char *encoded)
{
	struct request *rq = arg;
	char buf[120];
	if (!ok || encoded == NULL) {
		free(encoded);
		rq_fail(rq, CD_INTERNAL, "cannot hash the password");
		return;
	}
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "name"));
	rq_param(rq, rq_arg(rq, "role"));
	rq_param(rq, rq_arg(rq, "tier"));
	rq_param(rq, rq_arg(rq, "skills"));
	rq_param(rq, rq_arg(rq, "team"));
	rq_param(rq, rq_arg(rq, "dept"));
	rq_param(rq, rq_arg(rq, "capacity"));
	rq_param(rq, encoded);
	rq_param(rq, user_refs_missing(rq, buf, sizeof buf));
	free(encoded);
	rq_run(rq, "SELECT * FROM cd_user_add($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
}

void cmd_user_add(struct request *rq)
{
	if (strcmp(rq_arg(rq, "name"), "me") == 0) {
		rq_fail(rq, CD_BAD_ARG, "the user name me is reserved");
		return;
	}
	if (!hasher_hash(rq->srv->hasher, rq_arg(rq, "password"),
			 user_add_hashed, rq))
		rq_fail(rq, CD_INTERNAL, "out of memory");
}

/* The change as USER SET's arguments give it (NULL: not changed). */
static struct user_change user_change_of(struct request *rq)
{
	const char *enabled = rq_arg(rq, "enabled");
	struct user_change ch = {
		.user = rq_arg(rq, "name"),
		.tier = rq_arg(rq, "tier"),
		.skills = rq_arg(rq, "skills"),
		.team = rq_arg(rq, "team"),
		.dept = rq_arg(rq, "dept"),
		.disabled = enabled != NULL && strcmp(enabled, "false") == 0,
	};
	return ch;
}

/* Applies the change to this node's live sessions of that user. The
 * other nodes hear of it from cd_user_set's notification and re-read the
 * account (events.c): a demoted agent loses the authority at once
 * everywhere, a disabled one is cut off. */
static void user_set_done(struct request *rq, PGresult *res)
{
	struct user_change ch = user_change_of(rq);
	(void)res;
	if (sessions_user_changed(rq->srv, &ch, rq->s) && ch.disabled)
		rq->bye_after = CD_BYE_DISABLED;
}

static void user_set_run(struct request *rq, const char *encoded)
{
	char buf[120];
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "name"));
	rq_param(rq, rq_arg(rq, "tier"));
	rq_param(rq, rq_arg(rq, "skills"));
	rq_param(rq, rq_arg(rq, "team"));
	rq_param(rq, rq_arg(rq, "dept"));
	rq_param(rq, rq_arg(rq, "capacity"));
	rq_param(rq, rq_arg(rq, "enabled"));
	rq_param(rq, encoded);
	rq_param(rq, user_refs_missing(rq, buf, sizeof buf));
	rq_param(rq, rq->srv->node);
	rq->on_ok = user_set_done;
	rq_run(rq, "SELECT * FROM cd_user_set($1, $2, $3, $4, $5, $6, $7, $8, $9, "
		   "$10, $11, $12)");
}

static void user_set_hashed(void *arg, bool ok, char *encoded)
{
	struct request *rq = arg;
	if (!ok || encoded == NULL) {
		free(encoded);
		rq_fail(rq, CD_INTERNAL, "cannot hash the password");
		return;
	}
	user_set_run(rq, encoded);
	free(encoded);
}

void cmd_user_set(struct request *rq)
{
	const char *team = rq_arg(rq, "team");
	const char *dept = rq_arg(rq, "dept");
	/* "" clears them; anything else must be a name. */
	if ((team != NULL && team[0] != '\0' && !val_name(team)) ||
	    (dept != NULL && dept[0] != '\0' && !val_name(dept))) {
		rq_fail(rq, CD_BAD_ARG, "team and dept must be names");
		return;
	}
	const char *pw = rq_arg(rq, "password");
	if (pw == NULL) {
		user_set_run(rq, NULL);
		return;
	}
	if (!hasher_hash(rq->srv->hasher, pw, user_set_hashed, rq))
		rq_fail(rq, CD_INTERNAL, "out of memory");
}
