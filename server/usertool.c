/* usertool.c: --add-user. */
#include "usertool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "hasher.h"
#include "values.h"

static const char *const roles[] = { "agent", "supervisor", "admin",
				     "integration", NULL };

static int fail(const char *msg, const char *what)
{
	fprintf(stderr, "calldeskd: %s%s%s\n", msg, what ? ": " : "",
		what ? what : "");
	return 1;
}

static int check_user(const struct config *cfg, const struct new_user *nu)
{
	bool role_ok = false;
	for (const char *const *r = roles; *r != NULL; r++)
		if (nu->role != NULL && strcmp(*r, nu->role) == 0)
			role_ok = true;
	if (!val_name(nu->name) || strcmp(nu->name, "me") == 0)
		return fail("not a valid user name", nu->name);
	if (!role_ok)
		return fail("--role must be agent, supervisor, admin or integration", nu->role);
	long long tier = 1;
	if (nu->tier != NULL && (!val_int(nu->tier, 1, 9, &tier) ||
				 cfg_find_tier(cfg, (int)tier) == NULL))
		return fail("tier not defined in the rules", nu->tier);
	if (nu->team != NULL && !val_name(nu->team))
		return fail("not a valid team name", nu->team);
	if (nu->dept != NULL && cfg_find_dept(cfg, nu->dept) == NULL)
		return fail("no such department in the rules", nu->dept);
	if (nu->skills != NULL && nu->skills[0] != '\0') {
		char skill[CFG_NAME_MAX + 1];
		size_t n;
		if (!val_name_list(nu->skills, &n))
			return fail("--skills must be a comma-separated list of names", nu->skills);
		if (cfg_unknown_skill(cfg, nu->skills, skill, sizeof skill) != NULL)
			return fail("skill names no queue or category", skill);
	}
	return 0;
}

static char *read_password(void)
{
	char buf[1100];
	if (fgets(buf, sizeof buf, stdin) == NULL)
		return NULL;
	buf[strcspn(buf, "\r\n")] = '\0';
	char *pw = buf[0] != '\0' ? strdup(buf) : NULL;
	OPENSSL_cleanse(buf, sizeof buf);
	return pw;
}

int usertool_add(const struct config *cfg, const struct new_user *nu)
{
	if (check_user(cfg, nu) != 0)
		return 1;
	char *pw = read_password();
	if (pw == NULL)
		return fail("no password on standard input", NULL);
	char *hash = hash_password(pw, (uint32_t)cfg->argon2_t_cost,
				   (uint32_t)cfg->argon2_m_cost);
	OPENSSL_cleanse(pw, strlen(pw));
	free(pw);
	if (hash == NULL)
		return fail("cannot hash the password", NULL);

	int rc = 1;
	PGconn *pg = PQconnectdb(cfg->db_conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "calldeskd: cannot connect: %s", PQerrorMessage(pg));
		goto out;
	}
	const char *params[7] = { nu->name, nu->role, nu->tier ? nu->tier : "1",
				  nu->skills ? nu->skills : "", nu->team, nu->dept, hash };
	PGresult *r = PQexecParams(pg,
		"WITH u AS (INSERT INTO users (name, role, tier, skills, team, dept, pw_hash) "
		"VALUES ($1, $2, $3::integer, CASE WHEN $4 = '' THEN '{}'::text[] "
		"ELSE string_to_array($4, ',') END, $5, $6, $7) "
		"ON CONFLICT (name) DO NOTHING RETURNING id) "
		"INSERT INTO agent_state (user_id) SELECT id FROM u RETURNING user_id",
		7, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fprintf(stderr, "calldeskd: cannot add the user: %s", PQerrorMessage(pg));
	} else if (PQntuples(r) == 0) {
		fprintf(stderr, "calldeskd: user %s exists\n", nu->name);
	} else {
		fprintf(stderr, "calldeskd: user %s added\n", nu->name);
		rc = 0;
	}
	PQclear(r);
out:
	PQfinish(pg);
	free(hash);
	return rc;
}
