/* config.h: the server configuration (OPERATIONS.md, INI) and the catalog
 * read from the rules file: queues, categories with their service levels,
 * departments, tiers, and the compiled empowerment rules (rules.h).
 *
 * One typed table in config.c drives parsing, defaults, range checks,
 * --check and reload. A loaded configuration is immutable; a reload builds
 * a new one and swaps it in only when it is valid. */
#ifndef CALLDESK_CONFIG_H
#define CALLDESK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

#define CFG_MAX_LISTEN 8
#define CFG_NAME_MAX 32
#define CFG_SEVERITIES 4

struct cfg_listen {
	char host[64];
	char port[8];
};

/* Service level of one category and severity, in seconds. */
struct cfg_sla {
	int respond_within;
	int resolve_within;
};

struct cfg_queue {
	char name[CFG_NAME_MAX + 1];
};

struct cfg_category {
	char name[CFG_NAME_MAX + 1];
	char queue[CFG_NAME_MAX + 1];            /* a declared queue */
	struct cfg_sla sla[CFG_SEVERITIES];      /* index = severity - 1 */
	char calendar[CFG_NAME_MAX + 1];         /* "" : around the clock */
};

/* Business hours: per ISO weekday (1 Monday .. 7 Sunday) up to
 * CFG_CAL_WINDOWS opening windows in minutes from local midnight, and
 * holidays (YYYY-MM-DD), in a time zone. Service levels of a category with
 * a calendar count only open time. */
#define CFG_CAL_WINDOWS 4
struct cfg_calendar {
	char name[CFG_NAME_MAX + 1];
	char timezone[64];
	int windows[7][CFG_CAL_WINDOWS][2];      /* [day][i] = {from, to} */
	int nwindows[7];
	char (*holidays)[11];                    /* owned */
	size_t nholidays;
	char *json;                              /* owned: the form the
						    database reads */
};

struct cfg_dept {
	char name[CFG_NAME_MAX + 1];
	int handoff_within;                      /* seconds */
};

/* Complaints held at once by an agent whose tier sets no capacity (and
 * whose tier the rules do not name). */
#define CFG_TIER_CAPACITY 10

struct cfg_tier {
	int tier;                                /* 1.. */
	int capacity;                            /* complaints held at once */
};

/* What the rules file declares. */
struct cfg_catalog {
	struct cfg_queue *queues;
	size_t nqueues;
	struct cfg_category *categories;
	size_t ncategories;
	struct cfg_dept *depts;
	size_t ndepts;
	struct cfg_calendar *calendars;
	size_t ncalendars;
	struct cfg_tier *tiers;
	size_t ntiers;
	size_t nrules;                           /* sections counted for RELOAD
						    (every kind, [rule] too) */
	struct rules rules;                      /* [tier N] limits, [user],
						    [chain], [rule],
						    [empowerment]: rules.h */
};

struct config {
	char *path;                /* as given on the command line */
	char *dir;                 /* folder of path, for relative names */

	/* [server] */
	struct cfg_listen listen[CFG_MAX_LISTEN];
	size_t nlisten;
	char *tls_cert;            /* absolute or resolved against dir */
	char *tls_key;
	char *tls_client_ca;       /* NULL when not set */
	int tls_min;               /* 12 or 13 */
	int max_clients;
	int max_line;
	int max_line_login;
	int login_timeout;
	int login_max_failures;
	int idle_timeout;
	int shutdown_grace;
	char currency[4];
	int currency_digits;
	char *timezone;
	bool log_syslog;
	char *metrics;             /* host:port or NULL */
	int hash_threads;          /* password hashing workers (default 2) */
	int argon2_t_cost;         /* default 2 */
	int argon2_m_cost;         /* KiB, default 19456 */
	char *node;                /* this node's name; NULL: host:port */
	int watch_backlog;         /* bytes a watcher may leave unread
				      before BYE overloaded (1 MiB) */
	int sla_sweep_interval;    /* seconds between sweeps (2) */
	int sla_at_risk_percent;   /* at risk below this share of a
				      deadline's span left (25) */
	int next_aging;            /* seconds of waiting that raise a
				      complaint one severity step in NEXT */
	int wrap_up;               /* seconds of wrap-up after an
				      interaction before ready again; 0:
				      none */
	bool offer_work;           /* the server assigns waiting complaints
				      to ready agents itself (no) */
	int followup_after;        /* seconds from a resolution to the
				      desk's call back (2 days); 0: none */
	int output_high_water;     /* bytes queued to a client before reading
				      pauses (default 262144) */

	/* [database] */
	char *db_conninfo;
	char *db_migrate_conninfo; /* --migrate as the schema's owner; NULL:
				      db_conninfo */
	int db_pool_size;
	int db_connect_timeout;    /* seconds, default 5 */
	int db_query_timeout;      /* seconds, default 10 */

	/* [rules] */
	char *rules_file;          /* resolved */
	struct cfg_catalog catalog;
};

/* Receives one error "FILE:LINE: message" (no LF). */
typedef void cfg_error_fn(void *ctx, const char *line);

/* Loads path and the rules file it names. On success returns 0 and sets
 * *out (owned by the caller, freed with config_free). On failure returns
 * the number of errors (>0), reports each through err (may be NULL) and
 * sets *out to NULL. FILE in the messages is the path as the
 * configuration names it (path for the main file, the [rules] file value
 * for the rules file); LINE is 0 for a problem with the whole file. */
int config_load(const char *path, struct config **out, cfg_error_fn *err,
		void *err_ctx) __attribute__((warn_unused_result));

/* Frees and sets *cfg to NULL. Accepts NULL and *cfg == NULL. */
void config_free(struct config **cfg);

/* Reload support: reports through note, one line each ("[database]
 * pool_size changed: takes effect after a restart"), every setting that
 * differs between the running configuration and a newly loaded one but
 * that a reload does not apply (listen, [database]); returns how many.
 * note may be NULL. */
int config_restart_needed(const struct config *old, const struct config *new,
			  cfg_error_fn *note, void *ctx);

/* Lookups in the catalog; NULL when absent. */
const struct cfg_queue *cfg_find_queue(const struct config *cfg,
				       const char *name);
const struct cfg_category *cfg_find_category(const struct config *cfg,
					     const char *name);
const struct cfg_dept *cfg_find_dept(const struct config *cfg,
				     const char *name);
const struct cfg_calendar *cfg_find_calendar(const struct config *cfg,
					     const char *name);
const struct cfg_tier *cfg_find_tier(const struct config *cfg, int tier);

/* The first name of a comma-separated skills list that names neither a
 * queue nor a category, copied into buf (len bytes); NULL when every name
 * is known (a skill names a queue or a category, PROTOCOL §5). */
const char *cfg_unknown_skill(const struct config *cfg, const char *skills,
			      char *buf, size_t len);

/* Parses a duration: "90", "90s", "15m", "4h", "3d" into seconds
 * (1 .. 10 years). */
bool cfg_parse_duration(const char *s, int *seconds)
	__attribute__((warn_unused_result));

#endif
