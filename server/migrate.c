/* migrate.c: --migrate. Blocking libpq is right here: this runs from the
 * command line, never inside the event loop. */
#include "migrate.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define MIGRATE_LOCK_KEY "7230541"

static bool exec_ok(PGconn *pg, const char *sql, const char *what)
{
	PGresult *r = PQexec(pg, sql);
	ExecStatusType st = PQresultStatus(r);
	bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "calldeskd: %s: %s", what, PQerrorMessage(pg));
	PQclear(r);
	return ok;
}

static int applied(PGconn *pg, int version)
{
	char v[16];
	const char *params[1] = { v };
	snprintf(v, sizeof v, "%d", version);
	PGresult *r = PQexecParams(pg, "SELECT 1 FROM schema_version WHERE version = $1",
				   1, NULL, params, NULL, NULL, 0);
	int res = PQresultStatus(r) != PGRES_TUPLES_OK ? -1 : PQntuples(r) > 0;
	PQclear(r);
	return res;
}

static bool apply(PGconn *pg, const struct migration *m)
{
	char v[16];
	const char *params[2] = { v, m->name };
	snprintf(v, sizeof v, "%d", m->version);
	if (!exec_ok(pg, "BEGIN", "begin"))
		return false;
	if (!exec_ok(pg, m->sql, m->name)) {
		exec_ok(pg, "ROLLBACK", "rollback");
		return false;
	}
	PGresult *r = PQexecParams(pg, "INSERT INTO schema_version (version, name) VALUES ($1, $2)",
				   2, NULL, params, NULL, NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok) {
		fprintf(stderr, "calldeskd: recording %s: %s", m->name, PQerrorMessage(pg));
		exec_ok(pg, "ROLLBACK", "rollback");
		return false;
	}
	r = PQexec(pg, "COMMIT");
	/* A COMMIT of a failed transaction reports ROLLBACK, not an error. */
	ok = PQresultStatus(r) == PGRES_COMMAND_OK &&
	     strcmp(PQcmdStatus(r), "COMMIT") == 0;
	PQclear(r);
	if (!ok)
		fprintf(stderr, "calldeskd: %s was rolled back\n", m->name);
	return ok;
}

int migrate_run(const char *conninfo)
{
	PGconn *pg = PQconnectdb(conninfo);
	int rc = 1;
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "calldeskd: cannot connect: %s", PQerrorMessage(pg));
		goto out;
	}
	if (!exec_ok(pg, "SET client_min_messages = warning", "settings") ||
	    !exec_ok(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", "lock") ||
	    !exec_ok(pg, "CREATE TABLE IF NOT EXISTS schema_version ("
			 " version integer PRIMARY KEY,"
			 " name text NOT NULL,"
			 " applied_at timestamptz NOT NULL DEFAULT now())",
		     "version table"))
		goto out;
	int count = 0;
	for (size_t i = 0; i < migrations_count; i++) {
		int a = applied(pg, migrations[i].version);
		if (a < 0) {
			fprintf(stderr, "calldeskd: reading schema_version: %s",
				PQerrorMessage(pg));
			goto out;
		}
		if (a)
			continue;
		if (!apply(pg, &migrations[i]))
			goto out;
		fprintf(stderr, "calldeskd: applied %s\n", migrations[i].name);
		count++;
	}
	fprintf(stderr, "calldeskd: schema up to date (%d applied)\n", count);
	rc = 0;
out:
	PQfinish(pg);
	return rc;
}
