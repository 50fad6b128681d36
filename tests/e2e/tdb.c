/* tdb.c: direct queries on the test database (see tdb.h). */
#include "tdb.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include <setjmp.h>
#include <cmocka.h>

#define TDB_MAX_PARAMS 16

static PGconn *conn;

static void tdb_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

static void tdb_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint_error(fmt, ap);
	va_end(ap);
	print_error("\n");
	_fail(file, line);
	abort(); /* not reached */
}

void tdb_close(void)
{
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
}

static PGconn *get_conn(const char *file, int line)
{
	const char *info = getenv("CD_PGCONN");

	if (conn != NULL && PQstatus(conn) == CONNECTION_OK)
		return conn;
	tdb_close();
	if (info == NULL || *info == '\0')
		tdb_fail(file, line, "CD_PGCONN is not set: run the tests "
			 "through tests/e2e/run.sh");
	conn = PQconnectdb(info);
	if (PQstatus(conn) != CONNECTION_OK) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		tdb_close();
		tdb_fail(file, line, "cannot connect to the test database "
			 "(%s): %s", info, msg);
	}
	return conn;
}

/* Runs sql with the NULL-terminated parameters in ap; the caller clears
 * the result. */
static PGresult *run(const char *file, int line, const char *sql,
		     va_list ap)
{
	const char *params[TDB_MAX_PARAMS];
	int n = 0;
	const char *p;
	PGresult *res;
	ExecStatusType st;

	while ((p = va_arg(ap, const char *)) != NULL) {
		if (n == TDB_MAX_PARAMS)
			tdb_fail(file, line, "more than %d parameters",
				 TDB_MAX_PARAMS);
		params[n++] = p;
	}
	res = PQexecParams(get_conn(file, line), sql, n, NULL, params, NULL,
			   NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", PQresultErrorMessage(res));
		PQclear(res);
		tdb_fail(file, line, "query failed: %s\n  sql: %s", msg, sql);
	}
	return res;
}

char *tdb_value_at(const char *file, int line, const char *sql, ...)
{
	va_list ap;
	PGresult *res;
	char *v = NULL;

	va_start(ap, sql);
	res = run(file, line, sql, ap);
	va_end(ap);
	if (PQntuples(res) > 0 && PQnfields(res) > 0 &&
	    !PQgetisnull(res, 0, 0)) {
		v = strdup(PQgetvalue(res, 0, 0));
		if (v == NULL)
			abort();
	}
	PQclear(res);
	return v;
}

long long tdb_int_at(const char *file, int line, const char *sql, ...)
{
	va_list ap;
	PGresult *res;
	long long v;
	char *end, text[64];

	va_start(ap, sql);
	res = run(file, line, sql, ap);
	va_end(ap);
	if (PQntuples(res) < 1 || PQnfields(res) < 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		tdb_fail(file, line, "expected one integer, got no value\n"
			 "  sql: %s", sql);
	}
	snprintf(text, sizeof(text), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || end == text)
		tdb_fail(file, line, "expected an integer, got \"%s\"\n"
			 "  sql: %s", text, sql);
	return v;
}

void tdb_exec_at(const char *file, int line, const char *sql, ...)
{
	va_list ap;
	PGresult *res;

	va_start(ap, sql);
	res = run(file, line, sql, ap);
	va_end(ap);
	PQclear(res);
}
