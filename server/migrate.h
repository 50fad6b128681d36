/* migrate.h: schema migrations, embedded in the binary at build time from
 * schema/NNN_name.sql (scripts/embed-sql.sh), applied by --migrate. */
#ifndef CALLDESK_MIGRATE_H
#define CALLDESK_MIGRATE_H

#include <stddef.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const size_t migrations_count;

/* Applies, in order, each migration the database lacks, each in its own
 * transaction, under an advisory lock so that two nodes starting together
 * do not race. Prints progress and errors on stderr. Returns 0 on
 * success. Blocking: for the command line only. */
int migrate_run(const char *conninfo);

#endif
