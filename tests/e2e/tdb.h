/* tdb.h: a direct look into the test database ($CD_PGCONN), for tests
 * that check what the server stored (durability, audit trail, money in
 * minor units) rather than what it answered.
 *
 * One libpq connection, opened on first use and again after a failure
 * (tests may stop and start PostgreSQL); tdb_close() ends it. Parameters
 * are text, passed separately from the SQL ($1, $2, ...). Errors fail the
 * running test with the SQL and PostgreSQL's message. */
#ifndef CALLDESK_TDB_H
#define CALLDESK_TDB_H

/* The first column of the first row, malloc'd (caller frees); NULL when
 * the query returns no row or a NULL. The parameter list ends with NULL:
 *     char *state = tdb_value("SELECT state FROM complaint WHERE id = $1",
 *                             id, NULL);
 */
#define tdb_value(sql, ...) tdb_value_at(__FILE__, __LINE__, (sql), __VA_ARGS__)
char *tdb_value_at(const char *file, int line, const char *sql, ...)
	__attribute__((sentinel));

/* The first column of the first row as an integer (the query must return
 * one row with an integer, e.g. SELECT count(*) ...). */
#define tdb_int(sql, ...) tdb_int_at(__FILE__, __LINE__, (sql), __VA_ARGS__)
long long tdb_int_at(const char *file, int line, const char *sql, ...)
	__attribute__((sentinel));

/* Runs a statement that returns no rows (tests may set up data). */
#define tdb_exec(sql, ...) tdb_exec_at(__FILE__, __LINE__, (sql), __VA_ARGS__)
void tdb_exec_at(const char *file, int line, const char *sql, ...)
	__attribute__((sentinel));

/* Ends the connection (safe when none). */
void tdb_close(void);

#endif
