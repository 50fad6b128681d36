/* config.c: loads the server configuration (OPERATIONS.md) and the rules
 * file: its catalog (queues, categories, departments, tiers) and the
 * sections of the empowerment rules ([tier N] limits, [user], [chain],
 * [rule], [empowerment]), whose values rules.c parses and decides on.
 *
 * Two tables drive everything: cfg_params[] lists every key of the
 * configuration file with its type, field, default, range and whether a
 * reload may change it; rule_kinds[] lists the section kinds of the rules
 * file with their keys. A new key or a new kind of rules section is one
 * more table entry. Errors are collected, never fatal on the first one. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/stat.h>

#include "ini.h"
#include "rules.h"
#include "values.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MSG_SIZE 256                      /* one parser message */
#define FILE_MAX (16L * 1024 * 1024)      /* larger files are refused */
#define DURATION_MAX (10 * 365 * 86400)   /* ten years, in seconds */
#define DAY 86400

/* ---- error collection ---- */

struct report {
	cfg_error_fn *fn;
	void *ctx;
	int count;
};

static void report(struct report *r, const char *file, unsigned line,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report(struct report *r, const char *file, unsigned line,
		   const char *fmt, ...)
{
	char msg[512];
	char out[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->count++;
	if (r->fn == NULL)
		return;
	snprintf(out, sizeof out, "%s:%u: %s", file, line, msg);
	r->fn(r->ctx, out);
}

/* ---- values ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A whole decimal number in [min, max], through strtol: no '+', no
 * blanks, no junk after it. */
static bool parse_long(const char *s, long min, long max, long *out,
		       char msg[MSG_SIZE])
{
	char *end;
	long v;

	if (!is_digit(s[s[0] == '-']))
		goto not_number;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0')
		goto not_number;
	if (errno == ERANGE || v < min || v > max) {
		snprintf(msg, MSG_SIZE, "%s is out of range %ld..%ld", s, min,
			 max);
		return false;
	}
	*out = v;
	return true;
not_number:
	snprintf(msg, MSG_SIZE, "'%s' is not a whole number", s);
	return false;
}

bool cfg_parse_duration(const char *s, int *seconds)
{
	char *end;
	long long v;
	long long unit;

	if (s == NULL || !is_digit(s[0]))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	switch (*end) {
	case '\0': case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = DAY; break;
	default: return false;
	}
	if (*end != '\0' && end[1] != '\0')
		return false;
	if (errno == ERANGE || v < 1 || v > DURATION_MAX / unit)
		return false;
	*seconds = (int)(v * unit);
	return true;
}

static bool is_host_char(char c, bool bracketed)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
	    c == '.' || c == '-')
		return true;
	return bracketed ? (c == ':' || c == '%') : c == '_';
}

/* "host:port" or "[v6]:port" into out (host without brackets). */
static bool parse_hostport(const char *s, struct cfg_listen *out,
			   char msg[MSG_SIZE])
{
	bool bracketed = s[0] == '[';
	const char *host = s + bracketed;
	const char *colon = bracketed ? strstr(s, "]:") : strrchr(s, ':');
	long port;

	if (colon == NULL || (!bracketed && strchr(s, ':') != colon)) {
		snprintf(msg, MSG_SIZE, "'%s' is not host:port (IPv6 as "
			 "[::1]:7443)", s);
		return false;
	}
	size_t n = (size_t)(colon - host);
	if (n == 0 || n >= sizeof out->host) {
		snprintf(msg, MSG_SIZE, "'%s': bad host length", s);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_host_char(host[i], bracketed)) {
			snprintf(msg, MSG_SIZE, "'%s': bad character in host",
				 s);
			return false;
		}
	}
	if (!parse_long(colon + 1 + bracketed, 1, 65535, &port, msg))
		return false;
	memcpy(out->host, host, n);
	out->host[n] = '\0';
	snprintf(out->port, sizeof out->port, "%ld", port);
	return true;
}

/* ---- paths ---- */

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* name as written, relative to dir unless it is absolute. */
static char *resolve(const char *dir, const char *name)
{
	if (name[0] == '/')
		return strdup(name);
	size_t len = strlen(dir) + 1 + strlen(name) + 1;
	char *p = malloc(len);
	if (p != NULL)
		snprintf(p, len, "%s/%s", dir, name);
	return p;
}

/* Whole file, NUL-terminated; on failure a message and NULL. */
static char *read_file(const char *path, size_t *len, char msg[MSG_SIZE])
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL) {
		snprintf(msg, MSG_SIZE, "cannot open: %s", strerror(errno));
		return NULL;
	}
	for (;;) {
		char *nb = realloc(buf, n + 65536 + 1);
		if (nb == NULL) {
			snprintf(msg, MSG_SIZE, "out of memory");
			goto fail;
		}
		buf = nb;
		size_t got = fread(buf + n, 1, 65536, f);
		n += got;
		if (ferror(f)) {
			snprintf(msg, MSG_SIZE, "cannot read: %s",
				 strerror(errno));
			goto fail;
		}
		if (n > (size_t)FILE_MAX) {
			snprintf(msg, MSG_SIZE, "larger than %ld bytes",
				 FILE_MAX);
			goto fail;
		}
		if (got == 0 || feof(f))
			break;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/* ---- the configuration table ---- */

enum ptype {
	PT_INT,         /* int, min..max */
	PT_STRING,      /* char *, non-empty unless PF_OPTIONAL */
	PT_PATH,        /* char *, resolved against the file's folder */
	PT_LISTEN,      /* struct cfg_listen[], count in aux */
	PT_TLS_VERSION, /* "1.2" or "1.3" into int 12 or 13 */
	PT_CURRENCY,    /* char[4], minor-unit digits in aux */
	PT_LOG,         /* "stderr" or "syslog" into bool (syslog?) */
	PT_HOSTPORT,    /* char *, checked as host:port */
	PT_BOOL,        /* "yes" or "no" into bool */
	PT_TIMEZONE,    /* char *, an IANA time zone name (tz_known) */
};

#define PF_REQUIRED 1u  /* no default: a missing key is an error */
#define PF_OPTIONAL 2u  /* an empty value means "not set" (NULL) */
#define PF_MULTI 4u     /* may be repeated (listen) */
#define PF_RESTART 8u   /* a reload keeps the running value */

struct cfg_param {
	const char *section;
	const char *name;
	enum ptype type;
	size_t offset;     /* field in struct config */
	size_t aux;        /* second field: listen count, currency digits */
	const char *def;   /* default, as it would be written in the file */
	long min, max;     /* PT_INT */
	unsigned flags;
};

#define OFF(f) offsetof(struct config, f)
#define P_INT(sec, key, f, def, lo, hi, fl) \
	{ sec, key, PT_INT, OFF(f), 0, def, lo, hi, fl }
#define P_OF(sec, key, type, f, def, fl) \
	{ sec, key, type, OFF(f), 0, def, 0, 0, fl }

static const struct cfg_param cfg_params[] = {
	{ "server", "listen", PT_LISTEN, OFF(listen), OFF(nlisten),
	  "127.0.0.1:7443", 0, 0, PF_MULTI | PF_RESTART },
	P_OF("server", "tls_cert", PT_PATH, tls_cert, NULL, PF_REQUIRED),
	P_OF("server", "tls_key", PT_PATH, tls_key, NULL, PF_REQUIRED),
	P_OF("server", "tls_client_ca", PT_PATH, tls_client_ca, "",
	     PF_OPTIONAL),
	P_OF("server", "tls_min", PT_TLS_VERSION, tls_min, "1.2", 0),
	P_INT("server", "max_clients", max_clients, "10000", 1, 1000000, 0),
	P_INT("server", "max_line", max_line, "8192", 256, 1048576, 0),
	P_INT("server", "max_line_login", max_line_login, "1024", 64, 65536,
	      0),
	P_INT("server", "login_timeout", login_timeout, "30", 1, 3600, 0),
	P_INT("server", "login_max_failures", login_max_failures, "5", 1,
	      1000, 0),
	P_INT("server", "idle_timeout", idle_timeout, "900", 1, 604800, 0),
	P_INT("server", "shutdown_grace", shutdown_grace, "10", 0, 3600, 0),
	{ "server", "currency", PT_CURRENCY, OFF(currency),
	  OFF(currency_digits), "EUR", 0, 0, 0 },
	P_OF("server", "timezone", PT_TIMEZONE, timezone, "UTC", 0),
	P_OF("server", "log", PT_LOG, log_syslog, "stderr", 0),
	P_OF("server", "metrics", PT_HOSTPORT, metrics, "", PF_OPTIONAL),
	P_INT("server", "hash_threads", hash_threads, "2", 1, 64, 0),
	P_INT("server", "argon2_t_cost", argon2_t_cost, "2", 1, 10, 0),
	P_INT("server", "argon2_m_cost", argon2_m_cost, "19456", 1024,
	      1048576, 0),
	P_INT("server", "output_high_water", output_high_water, "262144",
	      4096, 67108864, 0),
	P_OF("server", "node", PT_STRING, node, "", PF_OPTIONAL | PF_RESTART),
	P_INT("server", "watch_backlog", watch_backlog, "1048576", 4096,
	      1073741824, 0),
	P_INT("server", "sla_sweep_interval", sla_sweep_interval, "2", 1,
	      3600, 0),
	P_INT("server", "sla_at_risk_percent", sla_at_risk_percent, "25", 1,
	      99, 0),
	P_INT("server", "next_aging", next_aging, "1800", 60, 604800, 0),
	P_INT("server", "wrap_up", wrap_up, "0", 0, 3600, 0),
	P_OF("server", "offer_work", PT_BOOL, offer_work, "no", 0),
	P_INT("server", "followup_after", followup_after, "172800", 0,
	      31536000, 0),
	P_OF("database", "conninfo", PT_STRING, db_conninfo, NULL,
	     PF_REQUIRED | PF_RESTART),
	P_OF("database", "migrate_conninfo", PT_STRING, db_migrate_conninfo, "",
	     PF_OPTIONAL | PF_RESTART),
	P_INT("database", "pool_size", db_pool_size, "4", 1, 64, PF_RESTART),
	P_INT("database", "connect_timeout", db_connect_timeout, "5", 1, 300,
	      PF_RESTART),
	P_INT("database", "query_timeout", db_query_timeout, "10", 1, 3600,
	      PF_RESTART),
	P_OF("rules", "file", PT_PATH, rules_file, NULL, PF_REQUIRED),
};

#define NPARAMS ARRAY_LEN(cfg_params)

static void *field(struct config *cfg, size_t off)
{
	return (char *)cfg + off;
}

static const void *cfield(const struct config *cfg, size_t off)
{
	return (const char *)cfg + off;
}

static bool owns_string(enum ptype t)
{
	return t == PT_STRING || t == PT_PATH || t == PT_HOSTPORT ||
	       t == PT_TIMEZONE;
}

/* Gives copy (freshly allocated; NULL when allocation failed) to the
 * string field of p, freeing what was there. */
static bool set_string(struct config *cfg, const struct cfg_param *p,
		       char *copy, char msg[MSG_SIZE])
{
	char **slot = field(cfg, p->offset);

	if (copy == NULL) {
		snprintf(msg, MSG_SIZE, "out of memory");
		return false;
	}
	free(*slot);
	*slot = copy;
	return true;
}

/* An empty value: "not set" for optional keys, an error otherwise. */
static bool empty_ok(const struct cfg_param *p, char msg[MSG_SIZE])
{
	if (p->flags & PF_OPTIONAL)
		return true;
	snprintf(msg, MSG_SIZE, "must not be empty");
	return false;
}

static bool parse_int(struct config *cfg, const struct cfg_param *p,
		      const char *v, char msg[MSG_SIZE])
{
	long n;

	if (!parse_long(v, p->min, p->max, &n, msg))
		return false;
	*(int *)field(cfg, p->offset) = (int)n;
	return true;
}

static bool parse_string(struct config *cfg, const struct cfg_param *p,
			 const char *v, char msg[MSG_SIZE])
{
	if (*v == '\0')
		return empty_ok(p, msg);
	return set_string(cfg, p, strdup(v), msg);
}

static bool parse_path(struct config *cfg, const struct cfg_param *p,
		       const char *v, char msg[MSG_SIZE])
{
	if (*v == '\0')
		return empty_ok(p, msg);
	return set_string(cfg, p, resolve(cfg->dir, v), msg);
}

static bool parse_listen(struct config *cfg, const struct cfg_param *p,
			 const char *v, char msg[MSG_SIZE])
{
	struct cfg_listen *list = field(cfg, p->offset);
	size_t *n = field(cfg, p->aux);
	struct cfg_listen l = { 0 };

	if (*n >= CFG_MAX_LISTEN) {
		snprintf(msg, MSG_SIZE, "more than %d addresses",
			 CFG_MAX_LISTEN);
		return false;
	}
	if (!parse_hostport(v, &l, msg))
		return false;
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(list[i].host, l.host) == 0 &&
		    strcmp(list[i].port, l.port) == 0) {
			snprintf(msg, MSG_SIZE, "'%s' given twice", v);
			return false;
		}
	}
	list[(*n)++] = l;
	return true;
}

static bool parse_tls_version(struct config *cfg, const struct cfg_param *p,
			      const char *v, char msg[MSG_SIZE])
{
	int *slot = field(cfg, p->offset);

	if (strcmp(v, "1.2") == 0) {
		*slot = 12;
	} else if (strcmp(v, "1.3") == 0) {
		*slot = 13;
	} else {
		snprintf(msg, MSG_SIZE, "'%s' is neither 1.2 nor 1.3", v);
		return false;
	}
	return true;
}

static bool parse_currency(struct config *cfg, const struct cfg_param *p,
			   const char *v, char msg[MSG_SIZE])
{
	int digits = strlen(v) == 3 ? val_currency_digits(v) : -1;

	if (digits < 0) {
		snprintf(msg, MSG_SIZE, "'%s' is not a known ISO 4217 "
			 "currency code", v);
		return false;
	}
	memcpy(field(cfg, p->offset), v, 4);
	*(int *)field(cfg, p->aux) = digits;
	return true;
}

/* One of two words into a bool field: word a gives a_value, word b the
 * other value. */
static bool parse_either(struct config *cfg, const struct cfg_param *p,
			 const char *v, const char *a, bool a_value,
			 const char *b, char msg[MSG_SIZE])
{
	bool *f = field(cfg, p->offset);

	if (strcmp(v, a) == 0) {
		*f = a_value;
	} else if (strcmp(v, b) == 0) {
		*f = !a_value;
	} else {
		snprintf(msg, MSG_SIZE, "'%s' is neither %s nor %s", v, a, b);
		return false;
	}
	return true;
}

static bool parse_log(struct config *cfg, const struct cfg_param *p,
		      const char *v, char msg[MSG_SIZE])
{
	return parse_either(cfg, p, v, "stderr", false, "syslog", msg);
}

/* Is there a file dir/name, each part of name matched without regard to
 * letter case (PostgreSQL matches zone names so)? */
static bool tz_file(const char *dir, const char *name)
{
	char path[PATH_MAX], part[PATH_MAX];
	const char *p = name;
	struct stat st;

	snprintf(path, sizeof path, "%s", dir);
	while (*p != '\0') {
		size_t n = strcspn(p, "/");
		DIR *d;
		struct dirent *e;
		bool found = false;

		if (n == 0 || n >= sizeof part)
			return false;
		memcpy(part, p, n);
		part[n] = '\0';
		if ((d = opendir(path)) == NULL)
			return false;
		while (!found && (e = readdir(d)) != NULL) {
			if (strcasecmp(e->d_name, part) != 0)
				continue;
			size_t len = strlen(path);
			found = len + 1 + strlen(e->d_name) < sizeof path;
			if (found)
				snprintf(path + len, sizeof path - len, "/%s",
					 e->d_name);
		}
		closedir(d);
		if (!found)
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Is name a time zone that PostgreSQL will know (Europe/Paris, UTC)? Its
 * shape, and, where this machine has the tz database (TZDIR or
 * /usr/share/zoneinfo, which PostgreSQL's packages use too), a file of
 * that name in it; without one, the shape only. */
static bool tz_known(const char *name, char msg[MSG_SIZE])
{
	const char *dir = getenv("TZDIR");
	struct stat st;
	size_t n = strlen(name);

	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	if (n == 0 || n > 64 || name[0] == '/' || strstr(name, "..") != NULL ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789/_+-") != n) {
		snprintf(msg, MSG_SIZE, "'%s' is not a time zone name "
			 "(Europe/Paris, UTC)", name);
		return false;
	}
	if (strcasecmp(name, "UTC") == 0 || stat(dir, &st) != 0 ||
	    !S_ISDIR(st.st_mode))
		return true;
	if (!tz_file(dir, name)) {
		snprintf(msg, MSG_SIZE, "'%s' is not a time zone of the tz "
			 "database (%s)", name, dir);
		return false;
	}
	return true;
}

static bool parse_timezone(struct config *cfg, const struct cfg_param *p,
			   const char *v, char msg[MSG_SIZE])
{
	if (*v == '\0')
		return empty_ok(p, msg);
	if (!tz_known(v, msg))
		return false;
	return set_string(cfg, p, strdup(v), msg);
}

static bool parse_bool(struct config *cfg, const struct cfg_param *p,
		       const char *v, char msg[MSG_SIZE])
{
	return parse_either(cfg, p, v, "yes", true, "no", msg);
}

static bool parse_hostport_string(struct config *cfg,
				  const struct cfg_param *p, const char *v,
				  char msg[MSG_SIZE])
{
	struct cfg_listen l;

	if (*v == '\0')
		return empty_ok(p, msg);
	if (!parse_hostport(v, &l, msg))
		return false;
	return set_string(cfg, p, strdup(v), msg);
}

typedef bool parse_fn(struct config *cfg, const struct cfg_param *p,
		      const char *value, char msg[MSG_SIZE]);

static parse_fn *const parsers[] = {
	[PT_INT] = parse_int,
	[PT_STRING] = parse_string,
	[PT_PATH] = parse_path,
	[PT_LISTEN] = parse_listen,
	[PT_TLS_VERSION] = parse_tls_version,
	[PT_CURRENCY] = parse_currency,
	[PT_LOG] = parse_log,
	[PT_HOSTPORT] = parse_hostport_string,
	[PT_BOOL] = parse_bool,
	[PT_TIMEZONE] = parse_timezone,
};

static bool str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Same value in both configurations? */
static bool param_equal(const struct config *a, const struct config *b,
			const struct cfg_param *p)
{
	const void *fa = cfield(a, p->offset);
	const void *fb = cfield(b, p->offset);

	switch (p->type) {
	case PT_INT:
	case PT_TLS_VERSION:
		return *(const int *)fa == *(const int *)fb;
	case PT_LOG:
	case PT_BOOL:
		return *(const bool *)fa == *(const bool *)fb;
	case PT_CURRENCY:
		return memcmp(fa, fb, 4) == 0;
	case PT_LISTEN: {
		const struct cfg_listen *la = fa, *lb = fb;
		size_t n = *(const size_t *)cfield(a, p->aux);
		if (n != *(const size_t *)cfield(b, p->aux))
			return false;
		for (size_t i = 0; i < n; i++)
			if (strcmp(la[i].host, lb[i].host) != 0 ||
			    strcmp(la[i].port, lb[i].port) != 0)
				return false;
		return true;
	}
	case PT_STRING:
	case PT_PATH:
	case PT_HOSTPORT:
	case PT_TIMEZONE:
		return str_eq(*(char *const *)fa, *(char *const *)fb);
	}
	return false;
}

static const struct cfg_param *find_param(const char *section,
					  const char *key, size_t *index)
{
	for (size_t i = 0; i < NPARAMS; i++) {
		if (strcmp(cfg_params[i].section, section) == 0 &&
		    strcmp(cfg_params[i].name, key) == 0) {
			*index = i;
			return &cfg_params[i];
		}
	}
	return NULL;
}

/* The table's spelling of a section name, NULL when unknown. */
static const char *known_section(const char *name)
{
	for (size_t i = 0; i < NPARAMS; i++)
		if (strcmp(cfg_params[i].section, name) == 0)
			return cfg_params[i].section;
	return NULL;
}

/* ---- the configuration file ---- */

struct main_load {
	struct config *cfg;
	struct report *rep;
	const char *section;      /* current known section, or NULL */
	bool in_unknown;          /* keys of an unknown section are skipped */
	unsigned seen[NPARAMS];   /* line of the first setting, 0 = unset */
	const char *raw[NPARAMS]; /* value as written (into the file text) */
	bool failed[NPARAMS];     /* a value was refused */
};

static void main_error(void *ctx, unsigned line, const char *msg)
{
	struct main_load *ml = ctx;

	report(ml->rep, ml->cfg->path, line, "%s", msg);
}

static bool rules_kind_section(const char *text);

/* Sections of the rules file's kinds ([queue billing], [tier 2], ...) may
 * stand here too; load_rules reads them in a second pass. */
static void main_section(void *ctx, unsigned line, const char *name)
{
	struct main_load *ml = ctx;

	ml->section = known_section(name);
	ml->in_unknown = ml->section == NULL;
	if (ml->section == NULL && !rules_kind_section(name))
		report(ml->rep, ml->cfg->path, line, "unknown section [%s]",
		       name);
}

static void main_key(void *ctx, unsigned line, const char *key,
		     const char *value)
{
	struct main_load *ml = ctx;
	const char *file = ml->cfg->path;
	const struct cfg_param *p;
	char msg[MSG_SIZE];
	size_t i;

	if (ml->section == NULL) {
		if (!ml->in_unknown)
			report(ml->rep, file, line,
			       "'%s' is outside a section", key);
		return;
	}
	p = find_param(ml->section, key, &i);
	if (p == NULL) {
		report(ml->rep, file, line, "unknown key '%s' in [%s]", key,
		       ml->section);
		return;
	}
	if (ml->seen[i] != 0 && !(p->flags & PF_MULTI)) {
		report(ml->rep, file, line, "%s: given twice (first at line "
		       "%u)", key, ml->seen[i]);
		return;
	}
	if (ml->seen[i] == 0) {
		ml->seen[i] = line;
		ml->raw[i] = value;
	}
	if (!parsers[p->type](ml->cfg, p, value, msg)) {
		ml->failed[i] = true;
		report(ml->rep, file, line, "%s: %s", key, msg);
	}
}

/* Index of a key that is in the table. */
static size_t param_index(const char *section, const char *key)
{
	size_t i = 0;

	(void)find_param(section, key, &i);
	return i;
}

/* max_line_login <= max_line, reported where the smaller one is set. */
static void check_max_line(struct main_load *ml)
{
	const struct config *cfg = ml->cfg;
	size_t login = param_index("server", "max_line_login");
	size_t line = param_index("server", "max_line");

	if (ml->failed[login] || ml->failed[line] ||
	    cfg->max_line_login <= cfg->max_line)
		return;
	report(ml->rep, cfg->path, ml->seen[login] != 0 ? ml->seen[login] :
	       ml->seen[line], "max_line_login (%d) must not exceed max_line "
	       "(%d)", cfg->max_line_login, cfg->max_line);
}

/* Defaults, required keys, and the checks that span keys. */
static void main_finish(struct main_load *ml)
{
	struct config *cfg = ml->cfg;
	char msg[MSG_SIZE];

	for (size_t i = 0; i < NPARAMS; i++) {
		const struct cfg_param *p = &cfg_params[i];
		if (ml->seen[i] != 0)
			continue;
		if (p->flags & PF_REQUIRED)
			report(ml->rep, cfg->path, 0, "missing required key "
			       "'%s' in [%s]", p->name, p->section);
		else if (!parsers[p->type](cfg, p, p->def, msg))
			report(ml->rep, cfg->path, 0, "default of %s: %s",
			       p->name, msg);
	}
	check_max_line(ml);
}

/* ---- the rules file: catalog ---- */

#define RULE_MAX_KEYS 16

struct rule_kind;

/* One section of the rules file, kept for messages and late checks. */
struct rule_decl {
	const struct rule_kind *kind;
	char name[CFG_NAME_MAX + 1];
	const char *file;                   /* where it stands (rules file or
					       configuration), for messages */
	unsigned line;
	size_t index;                       /* in the kind's catalog array */
	unsigned key_line[RULE_MAX_KEYS];   /* per key of the kind, 0 = unset */
};

struct rules_load {
	struct cfg_catalog *cat;
	struct report *rep;
	const char *file;        /* as the configuration names it */
	int digits;              /* of the currency, for amounts */
	struct rule_decl *decls;
	size_t ndecls;
	bool in_section;         /* decls[ndecls - 1] takes the keys */
	bool skipping;           /* after a bad header: its keys are ignored */
	/* The first [rule] without conditions: later rules are unreachable. */
	unsigned catchall_line;
	char catchall[CFG_NAME_MAX + 1];
};

struct rule_key {
	const char *name;
	int arg;                 /* severity.N: N */
	bool (*set)(struct rules_load *rl, const struct rule_decl *d, int arg,
		    const char *value, char msg[MSG_SIZE]);
};

struct rule_kind {
	const char *kind;
	const char *name_form;                  /* for messages; NULL: the
						   section has no name, as
						   [empowerment] */
	bool (*valid_name)(const char *name);
	bool (*open)(struct rules_load *rl, struct rule_decl *d);
	/* after the section's last key: what the section itself requires */
	void (*close)(struct rules_load *rl, const struct rule_decl *d);
	/* after the whole file: references to other sections */
	void (*finish)(struct rules_load *rl, const struct rule_decl *d);
	const struct rule_key *keys;
	size_t nkeys;
};

/* Makes room for element n (zeroed) in arr of n elements; returns the
 * new array, or NULL when memory is short (arr is then unchanged). */
static void *grow(void *arr, size_t n, size_t size)
{
	char *p = realloc(arr, (n + 1) * size);

	if (p != NULL)
		memset(p + n * size, 0, size);
	return p;
}

static const struct cfg_queue *cat_find_queue(const struct cfg_catalog *c,
					      const char *name)
{
	for (size_t i = 0; i < c->nqueues; i++)
		if (strcmp(c->queues[i].name, name) == 0)
			return &c->queues[i];
	return NULL;
}

static const struct cfg_tier *cat_find_tier(const struct cfg_catalog *c,
					    int tier)
{
	for (size_t i = 0; i < c->ntiers; i++)
		if (c->tiers[i].tier == tier)
			return &c->tiers[i];
	return NULL;
}

static bool valid_tier(const char *name)
{
	return name[0] >= '1' && name[0] <= '9' && name[1] == '\0';
}

static bool open_queue(struct rules_load *rl, struct rule_decl *d)
{
	struct cfg_catalog *c = rl->cat;
	struct cfg_queue *q = grow(c->queues, c->nqueues, sizeof *q);

	if (q == NULL)
		return false;
	c->queues = q;
	q += c->nqueues;
	memcpy(q->name, d->name, sizeof q->name);
	d->index = c->nqueues++;
	return true;
}

static bool open_category(struct rules_load *rl, struct rule_decl *d)
{
	struct cfg_catalog *c = rl->cat;
	struct cfg_category *k = grow(c->categories, c->ncategories, sizeof *k);

	if (k == NULL)
		return false;
	c->categories = k;
	k += c->ncategories;
	memcpy(k->name, d->name, sizeof k->name);
	d->index = c->ncategories++;
	return true;
}

static bool open_dept(struct rules_load *rl, struct rule_decl *d)
{
	struct cfg_catalog *c = rl->cat;
	struct cfg_dept *t = grow(c->depts, c->ndepts, sizeof *t);

	if (t == NULL)
		return false;
	c->depts = t;
	t += c->ndepts;
	memcpy(t->name, d->name, sizeof t->name);
	t->handoff_within = DAY;
	d->index = c->ndepts++;
	return true;
}

static bool open_tier(struct rules_load *rl, struct rule_decl *d)
{
	struct cfg_catalog *c = rl->cat;
	struct cfg_tier *t = grow(c->tiers, c->ntiers, sizeof *t);

	if (t == NULL)
		return false;
	c->tiers = t;
	t += c->ntiers;
	t->tier = d->name[0] - '0';
	t->capacity = CFG_TIER_CAPACITY;
	d->index = c->ntiers++;
	return true;
}

static bool set_cat_queue(struct rules_load *rl, const struct rule_decl *d,
			  int arg, const char *v, char msg[MSG_SIZE])
{
	(void)arg;
	if (!val_name(v)) {
		snprintf(msg, MSG_SIZE, "'%s' is not a queue name", v);
		return false;
	}
	/* Whether the queue is declared is checked at the end of the file:
	 * categories may come before their queues. */
	memcpy(rl->cat->categories[d->index].queue, v, strlen(v) + 1);
	return true;
}

/* Copies the next blank-separated word of *s into out[32]; false when
 * there is none or it is too long. */
static bool next_word(const char **s, char out[32])
{
	const char *w = *s + strspn(*s, " \t");
	size_t n = strcspn(w, " \t");

	if (n == 0 || n >= 32)
		return false;
	memcpy(out, w, n);
	out[n] = '\0';
	*s = w + n;
	return true;
}

/* "severity.N = RESPOND RESOLVE": two durations, respond <= resolve. */
static bool set_cat_sla(struct rules_load *rl, const struct rule_decl *d,
			int arg, const char *v, char msg[MSG_SIZE])
{
	char respond[32], resolve[32];
	const char *rest = v;
	struct cfg_sla sla;

	if (!next_word(&rest, respond) || !next_word(&rest, resolve) ||
	    rest[strspn(rest, " \t")] != '\0') {
		snprintf(msg, MSG_SIZE, "expected two durations, respond "
			 "and resolve (as in '1h 2d'), not '%s'", v);
		return false;
	}
	if (!cfg_parse_duration(respond, &sla.respond_within) ||
	    !cfg_parse_duration(resolve, &sla.resolve_within)) {
		snprintf(msg, MSG_SIZE, "'%s' is not two durations (90, 90s, "
			 "15m, 4h, 3d)", v);
		return false;
	}
	if (sla.respond_within > sla.resolve_within) {
		snprintf(msg, MSG_SIZE, "respond time %s exceeds resolve "
			 "time %s", respond, resolve);
		return false;
	}
	rl->cat->categories[d->index].sla[arg - 1] = sla;
	return true;
}

/* ---- [calendar NAME]: business hours ---- */

static bool open_calendar(struct rules_load *rl, struct rule_decl *d)
{
	struct cfg_catalog *c = rl->cat;
	struct cfg_calendar *k = grow(c->calendars, c->ncalendars, sizeof *k);

	if (k == NULL)
		return false;
	c->calendars = k;
	k += c->ncalendars;
	memset(k, 0, sizeof *k);
	memcpy(k->name, d->name, sizeof k->name);
	snprintf(k->timezone, sizeof k->timezone, "UTC");
	d->index = c->ncalendars++;
	return true;
}

static bool set_cal_timezone(struct rules_load *rl, const struct rule_decl *d,
			     int arg, const char *v, char msg[MSG_SIZE])
{
	(void)arg;
	size_t n = strlen(v);
	if (n >= sizeof rl->cat->calendars[0].timezone) {
		snprintf(msg, MSG_SIZE, "'%s' is not a time zone name "
			 "(Europe/Paris, UTC)", v);
		return false;
	}
	if (!tz_known(v, msg))
		return false;
	memcpy(rl->cat->calendars[d->index].timezone, v, n + 1);
	return true;
}

/* "HH:MM" into minutes; 24:00 allowed as an end. */
static bool parse_hhmm(const char *s, size_t len, int *out)
{
	if (len != 5 || s[2] != ':' || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return false;
	int h = (s[0] - '0') * 10 + (s[1] - '0');
	int m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return false;
	*out = h * 60 + m;
	return true;
}

/* monday = 09:00-12:30, 13:30-17:00 | closed */
static bool set_cal_day(struct rules_load *rl, const struct rule_decl *d,
			int arg, const char *v, char msg[MSG_SIZE])
{
	struct cfg_calendar *k = &rl->cat->calendars[d->index];
	int day = arg - 1, n = 0, last_end = -1;

	k->nwindows[day] = 0;
	if (strcmp(v, "closed") == 0)
		return true;
	for (const char *p = v; *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ", ");
		const char *dash = memchr(p, '-', len);
		int from, to;
		if (dash == NULL || !parse_hhmm(p, (size_t)(dash - p), &from) ||
		    !parse_hhmm(dash + 1, len - (size_t)(dash - p) - 1, &to) ||
		    from >= to || from < last_end) {
			snprintf(msg, MSG_SIZE, "'%s' is not a list of opening "
				 "hours in order (09:00-12:30, 13:30-17:00) "
				 "or closed", v);
			return false;
		}
		if (n == CFG_CAL_WINDOWS) {
			snprintf(msg, MSG_SIZE, "at most %d opening windows a "
				 "day", CFG_CAL_WINDOWS);
			return false;
		}
		k->windows[day][n][0] = from;
		k->windows[day][n][1] = to;
		last_end = to;
		n++;
		p += len;
	}
	k->nwindows[day] = n;
	return true;
}

/* holidays = 2026-12-25, 2027-01-01 */
static bool set_cal_holidays(struct rules_load *rl, const struct rule_decl *d,
			     int arg, const char *v, char msg[MSG_SIZE])
{
	struct cfg_calendar *k = &rl->cat->calendars[d->index];
	(void)arg;
	for (const char *p = v; *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ", ");
		if (len == 0)
			break;
		char day[32];
		int64_t epoch;
		snprintf(day, sizeof day, "%.*sT00:00:00Z", (int)len, p);
		if (len != 10 || !val_time_parse(day, &epoch)) {
			snprintf(msg, MSG_SIZE, "'%.*s' is not a date "
				 "(YYYY-MM-DD)", (int)len, p);
			return false;
		}
		char (*h)[11] = grow(k->holidays, k->nholidays, sizeof *h);
		if (h == NULL) {
			snprintf(msg, MSG_SIZE, "out of memory");
			return false;
		}
		k->holidays = h;
		memcpy(k->holidays[k->nholidays++], p, 10);
		k->holidays[k->nholidays - 1][10] = '\0';
		p += len;
	}
	return true;
}

/* The calendar as the database's cd_deadline() reads it. */
static void close_calendar(struct rules_load *rl, const struct rule_decl *d)
{
	struct cfg_calendar *k = &rl->cat->calendars[d->index];
	size_t cap = 256 + 7 * CFG_CAL_WINDOWS * 24 + k->nholidays * 16;
	char *j = malloc(cap);
	int open = 0;
	if (j == NULL)
		return;
	size_t off = (size_t)snprintf(j, cap, "{\"tz\": \"%s\", \"days\": {",
				      k->timezone);
	for (int day = 0; day < 7; day++) {
		off += (size_t)snprintf(j + off, cap - off, "%s\"%d\": [",
					day ? ", " : "", day + 1);
		for (int i = 0; i < k->nwindows[day]; i++, open++)
			off += (size_t)snprintf(j + off, cap - off, "%s[%d, %d]",
						i ? ", " : "",
						k->windows[day][i][0],
						k->windows[day][i][1]);
		off += (size_t)snprintf(j + off, cap - off, "]");
	}
	off += (size_t)snprintf(j + off, cap - off, "}, \"holidays\": [");
	for (size_t i = 0; i < k->nholidays; i++)
		off += (size_t)snprintf(j + off, cap - off, "%s\"%s\"",
					i ? ", " : "", k->holidays[i]);
	snprintf(j + off, cap - off, "]}");
	free(k->json);
	k->json = j;
	if (open == 0)
		report(rl->rep, d->file, d->line, "[calendar %s]: open on no "
		       "day (monday = 09:00-17:00 ...)", d->name);
}

static bool set_cat_calendar(struct rules_load *rl, const struct rule_decl *d,
			     int arg, const char *v, char msg[MSG_SIZE])
{
	(void)arg;
	if (!val_name(v)) {
		snprintf(msg, MSG_SIZE, "'%s' is not a calendar name", v);
		return false;
	}
	memcpy(rl->cat->categories[d->index].calendar, v, strlen(v) + 1);
	return true;
}

static bool set_dept_handoff(struct rules_load *rl, const struct rule_decl *d,
			     int arg, const char *v, char msg[MSG_SIZE])
{
	(void)arg;
	if (!cfg_parse_duration(v, &rl->cat->depts[d->index].handoff_within)) {
		snprintf(msg, MSG_SIZE, "'%s' is not a duration (90, 90s, "
			 "15m, 4h, 3d)", v);
		return false;
	}
	return true;
}

static bool set_tier_capacity(struct rules_load *rl, const struct rule_decl *d,
			      int arg, const char *v, char msg[MSG_SIZE])
{
	long n;

	(void)arg;
	if (!parse_long(v, 1, 1000, &n, msg))
		return false;
	rl->cat->tiers[d->index].capacity = (int)n;
	return true;
}

/* ---- the rules file: empowerment sections (values parsed by rules.c) ---- */

static struct rules *rules_in(struct rules_load *rl)
{
	return &rl->cat->rules;
}

static bool cat_has_dept(const struct cfg_catalog *c, const char *name)
{
	for (size_t i = 0; i < c->ndepts; i++)
		if (strcmp(c->depts[i].name, name) == 0)
			return true;
	return false;
}

/* An approver written at line (for key) must name a declared dept:. */
static void check_approver(struct rules_load *rl, unsigned line,
			   const char *key, const char *approver)
{
	const char *dept = rules_approver_dept(approver);

	if (dept != NULL && !cat_has_dept(rl->cat, dept))
		report(rl->rep, rl->file, line, "%s: dept '%s' is not declared "
		       "([dept %s])", key, dept, dept);
}

/* [tier N]: "refund = 50.00", "replacement = yes", "daily_budget = ..." */
static struct rules_tier *tier_rules(struct rules_load *rl,
				     const struct rule_decl *d)
{
	return &rules_in(rl)->tier[d->name[0] - '0'];
}

static bool set_tier_grant(struct rules_load *rl, const struct rule_decl *d,
			   int arg, const char *v, char msg[MSG_SIZE])
{
	return rules_parse_grant(arg, v, rl->digits,
				 &tier_rules(rl, d)->limit[arg], msg, MSG_SIZE);
}

static bool set_tier_budget(struct rules_load *rl, const struct rule_decl *d,
			    int arg, const char *v, char msg[MSG_SIZE])
{
	struct rules_tier *t = tier_rules(rl, d);

	(void)arg;
	if (!rules_parse_money(v, rl->digits, &t->daily_budget, msg, MSG_SIZE))
		return false;
	t->has_budget = true;
	return true;
}

/* A tier that may grant money needs a budget to grant it from. */
static void close_tier(struct rules_load *rl, const struct rule_decl *d)
{
	const struct rules_tier *t = tier_rules(rl, d);

	if (t->has_budget)
		return;
	for (size_t a = 0; a < RULES_NMONEY; a++) {
		if (t->limit[a] > 0) {
			report(rl->rep, d->file, d->line, "[tier %s]: "
			       "daily_budget missing (%s is allowed, and money "
			       "actions draw on it)", d->name,
			       rules_action_name(a));
			return;
		}
	}
}

/* [user NAME]: a personal daily budget. */
static bool valid_user(const char *name)
{
	return val_name(name) && strcmp(name, "me") != 0;
}

static bool open_user(struct rules_load *rl, struct rule_decl *d)
{
	struct rules *r = rules_in(rl);
	struct rules_user *u = grow(r->users, r->nusers, sizeof *u);

	if (u == NULL)
		return false;
	r->users = u;
	u += r->nusers;
	memcpy(u->name, d->name, sizeof u->name);
	d->index = r->nusers++;
	return true;
}

static bool set_user_budget(struct rules_load *rl, const struct rule_decl *d,
			    int arg, const char *v, char msg[MSG_SIZE])
{
	(void)arg;
	return rules_parse_money(v, rl->digits,
				 &rules_in(rl)->users[d->index].daily_budget,
				 msg, MSG_SIZE);
}

static void close_user(struct rules_load *rl, const struct rule_decl *d)
{
	if (d->key_line[0] == 0)
		report(rl->rep, d->file, d->line, "[user %s]: daily_budget "
		       "missing (daily_budget = AMOUNT)", d->name);
}

/* [chain NAME]: key 0 is actions, key N is level.N. */
static bool open_chain(struct rules_load *rl, struct rule_decl *d)
{
	struct rules *r = rules_in(rl);
	struct rules_chain *c = grow(r->chains, r->nchains, sizeof *c);

	if (c == NULL)
		return false;
	r->chains = c;
	c += r->nchains;
	memcpy(c->name, d->name, sizeof c->name);
	c->line = d->line;
	d->index = r->nchains++;
	return true;
}

/* The decl of chain i (chains and their decls come in the same order). */
static const struct rule_decl *chain_decl(const struct rules_load *rl,
					  const struct rule_kind *kind,
					  size_t i)
{
	for (size_t k = 0; k < rl->ndecls; k++)
		if (rl->decls[k].kind == kind && rl->decls[k].index == i)
			return &rl->decls[k];
	return NULL;
}

static bool set_chain_actions(struct rules_load *rl, const struct rule_decl *d,
			      int arg, const char *v, char msg[MSG_SIZE])
{
	struct rules *r = rules_in(rl);
	unsigned mask;

	(void)arg;
	if (!rules_parse_actions(v, &mask, msg, MSG_SIZE))
		return false;
	/* An action has one chain, so that its escalations have one path. */
	for (size_t i = 0; i < d->index; i++) {
		unsigned both = r->chains[i].actions & mask;
		if (both == 0)
			continue;
		size_t a = (size_t)__builtin_ctz(both);
		snprintf(msg, MSG_SIZE, "'%s' is already in [chain %s] (line "
			 "%u)", rules_action_name(a), r->chains[i].name,
			 r->chains[i].line);
		return false;
	}
	r->chains[d->index].actions = mask;
	return true;
}

static bool set_chain_level(struct rules_load *rl, const struct rule_decl *d,
			    int arg, const char *v, char msg[MSG_SIZE])
{
	struct rules_chain *c = &rules_in(rl)->chains[d->index];

	return rules_parse_level(v, rl->digits, &c->level[arg - 1], msg,
				 MSG_SIZE);
}

/* Levels 1..top without gaps, each taking more than the one below. */
static void close_chain(struct rules_load *rl, const struct rule_decl *d)
{
	struct rules_chain *c = &rules_in(rl)->chains[d->index];
	int top = 0;

	for (int n = 1; n <= RULES_MAX_LEVELS; n++)
		if (d->key_line[n] != 0)
			top = n;
	if (top == 0)
		report(rl->rep, d->file, d->line, "[chain %s]: no levels "
		       "(level.1 = APPROVER [up to AMOUNT] within DURATION)",
		       d->name);
	for (int n = 2; n <= top; n++) {
		const struct rules_level *lo = &c->level[n - 2];
		const struct rules_level *hi = &c->level[n - 1];
		unsigned line = d->key_line[n];
		char a[32], b[32];
		if (line == 0)
			continue;
		if (d->key_line[n - 1] == 0) {
			report(rl->rep, rl->file, line, "level.%d given "
			       "without level.%d", n, n - 1);
			continue;
		}
		/* An approver of "" is a level that did not parse. */
		if (lo->approver[0] == '\0' || hi->approver[0] == '\0')
			continue;
		/* Levels are climbed in order (deadline, raise): each
		 * takes at least what the one below takes. */
		if (lo->up_to < 0 && hi->up_to >= 0) {
			val_money_format(hi->up_to, rl->digits, a);
			report(rl->rep, rl->file, line, "level.%d: up to %s, "
			       "but level.%d takes any amount", n, a, n - 1);
		} else if (hi->up_to >= 0 && hi->up_to <= lo->up_to) {
			val_money_format(hi->up_to, rl->digits, a);
			val_money_format(lo->up_to, rl->digits, b);
			report(rl->rep, rl->file, line, "level.%d: up to %s is "
			       "not above level.%d's %s", n, a, n - 1, b);
		}
	}
	c->nlevels = top;
	if (d->key_line[0] != 0)
		return;
	for (size_t i = 0; i < d->index; i++) {
		const struct rule_decl *o = chain_decl(rl, d->kind, i);
		if (o != NULL && o->key_line[0] == 0) {
			report(rl->rep, d->file, d->line, "[chain %s]: no "
			       "actions, and [chain %s] (line %u) already "
			       "takes the actions no chain names", d->name,
			       o->name, o->line);
			return;
		}
	}
}

static void finish_chain(struct rules_load *rl, const struct rule_decl *d)
{
	const struct rules_chain *c = &rules_in(rl)->chains[d->index];

	for (int n = 1; n <= c->nlevels; n++) {
		char key[24];
		if (d->key_line[n] == 0)
			continue;
		snprintf(key, sizeof key, "level.%d", n);
		check_approver(rl, d->key_line[n], key,
			       c->level[n - 1].approver);
	}
}

/* [rule NAME]: where its keys sit in rule_keys[] (and key_line[]); the
 * conditions come before RK_DECISION. */
enum {
	RK_ACTION, RK_CATEGORY, RK_SEVERITY, RK_TIER, RK_VIP, RK_AMOUNT,
	RK_CUSTOMER_30D, RK_AGENT_TODAY, RK_AGE, RK_RESOLVE_LEFT,
	RK_DECISION, RK_JUSTIFY_LATER, RK_JUSTIFY_WITHIN, RK_MESSAGE,
	RK_COUNT
};

/* Names the engine gives its own decisions. */
static const char *const builtin_rules[] = {
	"default", "tier-limit", "daily-budget", "customer-cap",
	"unknown-action", "bad-amount",
};

static struct rules_rule *rule_of(struct rules_load *rl,
				  const struct rule_decl *d)
{
	return &rules_in(rl)->rules[d->index];
}

static bool open_rule(struct rules_load *rl, struct rule_decl *d)
{
	struct rules *r = rules_in(rl);
	struct rules_rule *x = grow(r->rules, r->nrules, sizeof *x);

	if (x == NULL)
		return false;
	r->rules = x;
	x += r->nrules;
	memcpy(x->name, d->name, sizeof x->name);
	x->line = d->line;
	x->vip = -1;
	x->justify_later = -1;
	d->index = r->nrules++;
	return true;
}

static bool set_rule_actions(struct rules_load *rl, const struct rule_decl *d,
			     int arg, const char *v, char msg[MSG_SIZE])
{
	(void)arg;
	return rules_parse_actions(v, &rule_of(rl, d)->actions, msg, MSG_SIZE);
}

/* "billing, delivery": whether they are declared is checked at the end. */
static bool parse_categories(struct rules_rule *x, const char *v,
			     char msg[MSG_SIZE])
{
	size_t n = 0;

	for (const char *p = v; *p != '\0'; p++)
		n += *p == ',';
	x->categories = calloc(n + 1, sizeof *x->categories);
	if (x->categories == NULL) {
		snprintf(msg, MSG_SIZE, "out of memory");
		return false;
	}
	/* Items between commas, blanks around them dropped. */
	for (const char *p = v;; p++) {
		size_t len;
		char *name = x->categories[x->ncategories];
		p += strspn(p, " \t");
		len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			snprintf(msg, MSG_SIZE, "expected category names "
				 "separated by commas, not '%s'", v);
			return false;
		}
		if (len > CFG_NAME_MAX) {
			snprintf(msg, MSG_SIZE, "'%.*s' is not a category name",
				 (int)len, p);
			return false;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		if (!val_name(name)) {
			snprintf(msg, MSG_SIZE, "'%s' is not a category name",
				 name);
			return false;
		}
		for (size_t i = 0; i < x->ncategories; i++) {
			if (strcmp(x->categories[i], name) == 0) {
				snprintf(msg, MSG_SIZE, "'%s' is listed twice",
					 name);
				return false;
			}
		}
		x->ncategories++;
		p += strcspn(p, ",");
		if (*p == '\0')
			return true;
	}
}

/* On failure no list is kept, so that the end-of-file check does not
 * report the half that was read. */
static bool set_rule_categories(struct rules_load *rl,
				const struct rule_decl *d, int arg,
				const char *v, char msg[MSG_SIZE])
{
	struct rules_rule *x = rule_of(rl, d);

	(void)arg;
	if (parse_categories(x, v, msg))
		return true;
	free(x->categories);
	x->categories = NULL;
	x->ncategories = 0;
	return false;
}

static bool set_rule_range(struct rules_load *rl, const struct rule_decl *d,
			   int arg, const char *v, char msg[MSG_SIZE])
{
	struct rules_rule *x = rule_of(rl, d);

	if (!rules_parse_range((enum rules_cond)arg, v, rl->digits,
			       &x->range[arg], msg, MSG_SIZE))
		return false;
	x->ranges |= 1u << arg;
	return true;
}

static bool set_rule_vip(struct rules_load *rl, const struct rule_decl *d,
			 int arg, const char *v, char msg[MSG_SIZE])
{
	bool yes;

	(void)arg;
	if (!val_bool(v, &yes)) {
		snprintf(msg, MSG_SIZE, "'%s' is not yes or no", v);
		return false;
	}
	rule_of(rl, d)->vip = yes;
	return true;
}

static bool set_rule_decision(struct rules_load *rl, const struct rule_decl *d,
			      int arg, const char *v, char msg[MSG_SIZE])
{
	struct rules_rule *x = rule_of(rl, d);

	(void)arg;
	if (!rules_parse_verdict(v, &x->verdict, msg, MSG_SIZE))
		return false;
	x->has_verdict = true;
	return true;
}

static bool set_rule_justify(struct rules_load *rl, const struct rule_decl *d,
			     int arg, const char *v, char msg[MSG_SIZE])
{
	bool yes;

	(void)arg;
	if (!val_bool(v, &yes)) {
		snprintf(msg, MSG_SIZE, "'%s' is not yes or no", v);
		return false;
	}
	rule_of(rl, d)->justify_later = yes;
	return true;
}

static bool set_rule_justify_within(struct rules_load *rl,
				    const struct rule_decl *d, int arg,
				    const char *v, char msg[MSG_SIZE])
{
	(void)arg;
	if (!cfg_parse_duration(v, &rule_of(rl, d)->justify_within)) {
		snprintf(msg, MSG_SIZE, "'%s' is not a duration (90, 90s, "
			 "15m, 4h, 3d)", v);
		return false;
	}
	return true;
}

static bool set_rule_message(struct rules_load *rl, const struct rule_decl *d,
			     int arg, const char *v, char msg[MSG_SIZE])
{
	struct rules_rule *x = rule_of(rl, d);
	size_t len = strlen(v);

	(void)arg;
	if (len >= sizeof x->message) {
		snprintf(msg, MSG_SIZE, "longer than %zu characters",
			 sizeof x->message - 1);
		return false;
	}
	if (!val_utf8(v, len)) {
		snprintf(msg, MSG_SIZE, "not valid UTF-8");
		return false;
	}
	memcpy(x->message, v, len + 1);
	return true;
}

static void close_rule(struct rules_load *rl, const struct rule_decl *d)
{
	const struct rules_rule *x = rule_of(rl, d);
	bool conditions = false;

	for (size_t i = 0; i < ARRAY_LEN(builtin_rules); i++)
		if (strcmp(d->name, builtin_rules[i]) == 0)
			report(rl->rep, d->file, d->line, "[rule %s]: '%s' is "
			       "the name of a built-in decision; choose "
			       "another", d->name, d->name);
	if (d->key_line[RK_DECISION] == 0)
		report(rl->rep, d->file, d->line, "[rule %s]: decision "
		       "missing (decision = allow | escalate | deny)", d->name);
	if (d->key_line[RK_JUSTIFY_LATER] != 0 && x->has_verdict &&
	    x->verdict.decision != RULES_ALLOW)
		report(rl->rep, d->file, d->key_line[RK_JUSTIFY_LATER],
		       "justify_later: only a rule that decides allow lets the "
		       "agent justify later");
	if (d->key_line[RK_JUSTIFY_WITHIN] != 0 && x->justify_later == 0)
		report(rl->rep, d->file, d->key_line[RK_JUSTIFY_WITHIN],
		       "justify_within: this rule says justify_later = no");
	for (int k = 0; k < RK_DECISION; k++)
		if (d->key_line[k] != 0)
			conditions = true;
	if (rl->catchall_line != 0) {
		report(rl->rep, d->file, d->line, "[rule %s] is never "
		       "reached: [rule %s] (line %u) has no conditions and "
		       "matches first", d->name, rl->catchall,
		       rl->catchall_line);
	} else if (!conditions) {
		rl->catchall_line = d->line;
		memcpy(rl->catchall, d->name, sizeof rl->catchall);
	}
}

static void finish_rule(struct rules_load *rl, const struct rule_decl *d)
{
	const struct rules_rule *x = rule_of(rl, d);

	for (size_t i = 0; i < x->ncategories; i++) {
		const char *k = x->categories[i];
		bool found = false;
		for (size_t j = 0; j < rl->cat->ncategories; j++)
			if (strcmp(rl->cat->categories[j].name, k) == 0)
				found = true;
		if (!found)
			report(rl->rep, d->file, d->key_line[RK_CATEGORY],
			       "category: '%s' is not declared ([category %s])",
			       k, k);
	}
	if (x->has_verdict)
		check_approver(rl, d->key_line[RK_DECISION], "decision",
			       x->verdict.approver);
}

/* [empowerment]: what holds for every request. */
enum { EK_DEFAULT, EK_CUSTOMER_CAP, EK_CUSTOMER_CAP_VIP, EK_OVER_CAP,
       EK_JUSTIFY_LATER, EK_JUSTIFY_WITHIN };

static bool open_empowerment(struct rules_load *rl, struct rule_decl *d)
{
	rules_in(rl)->policy.line = d->line;
	return true;
}

static bool set_emp_default(struct rules_load *rl, const struct rule_decl *d,
			    int arg, const char *v, char msg[MSG_SIZE])
{
	struct rules_policy *p = &rules_in(rl)->policy;

	(void)d;
	(void)arg;
	if (!rules_parse_verdict(v, &p->fallback, msg, MSG_SIZE))
		return false;
	p->has_fallback = true;
	return true;
}

static bool set_emp_cap(struct rules_load *rl, const struct rule_decl *d,
			int arg, const char *v, char msg[MSG_SIZE])
{
	struct rules_policy *p = &rules_in(rl)->policy;

	(void)d;
	return rules_parse_money(v, rl->digits, arg == EK_CUSTOMER_CAP ?
				 &p->customer_cap : &p->customer_cap_vip, msg,
				 MSG_SIZE);
}

static bool set_emp_over_cap(struct rules_load *rl, const struct rule_decl *d,
			     int arg, const char *v, char msg[MSG_SIZE])
{
	struct rules_verdict vd;

	(void)d;
	(void)arg;
	if (!rules_parse_verdict(v, &vd, msg, MSG_SIZE))
		return false;
	if (vd.decision == RULES_ALLOW) {
		snprintf(msg, MSG_SIZE, "must be escalate or deny (a cap that "
			 "allows is no cap)");
		return false;
	}
	rules_in(rl)->policy.over_cap = vd;
	return true;
}

static bool set_emp_justify(struct rules_load *rl, const struct rule_decl *d,
			    int arg, const char *v, char msg[MSG_SIZE])
{
	(void)d;
	(void)arg;
	return rules_parse_actions(v, &rules_in(rl)->policy.justify_later, msg,
				   MSG_SIZE);
}

static bool set_emp_justify_within(struct rules_load *rl,
				   const struct rule_decl *d, int arg,
				   const char *v, char msg[MSG_SIZE])
{
	(void)d;
	(void)arg;
	if (!cfg_parse_duration(v, &rules_in(rl)->policy.justify_within)) {
		snprintf(msg, MSG_SIZE, "'%s' is not a duration (90, 90s, "
			 "15m, 4h, 3d)", v);
		return false;
	}
	return true;
}

static void close_empowerment(struct rules_load *rl, const struct rule_decl *d)
{
	if (d->key_line[EK_DEFAULT] == 0)
		report(rl->rep, d->file, d->line, "[empowerment]: default "
		       "missing (default = allow | escalate | deny)");
}

static void finish_empowerment(struct rules_load *rl,
			       const struct rule_decl *d)
{
	const struct rules_policy *p = &rules_in(rl)->policy;

	if (p->has_fallback)
		check_approver(rl, d->key_line[EK_DEFAULT], "default",
			       p->fallback.approver);
	if (d->key_line[EK_OVER_CAP] != 0)
		check_approver(rl, d->key_line[EK_OVER_CAP], "over_cap",
			       p->over_cap.approver);
}

/* Where [category] keys sit in category_keys[] (and so in key_line[]). */
enum { CAT_KEY_QUEUE = 0, CAT_KEY_SEVERITY = 1,
       CAT_KEY_CALENDAR = 1 + CFG_SEVERITIES };

static void close_category(struct rules_load *rl, const struct rule_decl *d)
{
	for (int s = 1; s <= CFG_SEVERITIES; s++)
		if (d->key_line[CAT_KEY_SEVERITY + s - 1] == 0)
			report(rl->rep, d->file, d->line, "[category %s]: "
			       "severity.%d missing (severity.%d = RESPOND "
			       "RESOLVE)", d->name, s, s);
}

/* A category's queue: as given and declared, else its namesake, else
 * "general". */
static void resolve_queue(struct rules_load *rl, const struct rule_decl *d)
{
	struct cfg_category *k = &rl->cat->categories[d->index];

	if (k->calendar[0] != '\0') {
		bool known = false;
		for (size_t i = 0; i < rl->cat->ncalendars; i++)
			if (strcmp(rl->cat->calendars[i].name, k->calendar) == 0)
				known = true;
		if (!known)
			report(rl->rep, d->file, d->key_line[CAT_KEY_CALENDAR],
			       "calendar: '%s' is not declared ([calendar %s])",
			       k->calendar, k->calendar);
	}

	if (rl->cat->nqueues == 0)
		return;   /* "no [queue NAME] declared" says it all */
	if (d->key_line[CAT_KEY_QUEUE] != 0) {
		if (k->queue[0] != '\0' && cat_find_queue(rl->cat, k->queue)
		    == NULL)
			report(rl->rep, d->file, d->key_line[CAT_KEY_QUEUE],
			       "queue: "
			       "'%s' is not declared ([queue %s])", k->queue,
			       k->queue);
		return;
	}
	const char *fallback[] = { k->name, "general" };
	for (size_t i = 0; i < ARRAY_LEN(fallback); i++) {
		if (cat_find_queue(rl->cat, fallback[i]) != NULL) {
			memcpy(k->queue, fallback[i], strlen(fallback[i]) + 1);
			return;
		}
	}
	report(rl->rep, d->file, d->line, "[category %s]: no queue named "
	       "'%s' nor 'general' is declared; set queue = NAME", k->name,
	       k->name);
}

/* key_line[] follows this order: queue first, then severity.1..4. */
static const struct rule_key category_keys[] = {
	{ "queue", 0, set_cat_queue },
	{ "severity.1", 1, set_cat_sla },
	{ "severity.2", 2, set_cat_sla },
	{ "severity.3", 3, set_cat_sla },
	{ "severity.4", 4, set_cat_sla },
	{ "calendar", 0, set_cat_calendar },
};
static const struct rule_key calendar_keys[] = {
	{ "timezone", 0, set_cal_timezone },
	{ "monday", 1, set_cal_day },
	{ "tuesday", 2, set_cal_day },
	{ "wednesday", 3, set_cal_day },
	{ "thursday", 4, set_cal_day },
	{ "friday", 5, set_cal_day },
	{ "saturday", 6, set_cal_day },
	{ "sunday", 7, set_cal_day },
	{ "holidays", 0, set_cal_holidays },
};
static const struct rule_key dept_keys[] = {
	{ "handoff_within", 0, set_dept_handoff },
};
/* The action keys take the action's index in rules.h's order. */
static const struct rule_key tier_keys[] = {
	{ "capacity", 0, set_tier_capacity },
	{ "refund", 0, set_tier_grant },
	{ "credit", 1, set_tier_grant },
	{ "voucher", 2, set_tier_grant },
	{ "fee-waiver", 3, set_tier_grant },
	{ "apology", 4, set_tier_grant },
	{ "explanation", 5, set_tier_grant },
	{ "callback", 6, set_tier_grant },
	{ "replacement", 7, set_tier_grant },
	{ "repair", 8, set_tier_grant },
	{ "daily_budget", 0, set_tier_budget },
};
static const struct rule_key user_keys[] = {
	{ "daily_budget", 0, set_user_budget },
};
/* key_line[N] is level.N. */
static const struct rule_key chain_keys[] = {
	{ "actions", 0, set_chain_actions },
	{ "level.1", 1, set_chain_level },
	{ "level.2", 2, set_chain_level },
	{ "level.3", 3, set_chain_level },
	{ "level.4", 4, set_chain_level },
	{ "level.5", 5, set_chain_level },
	{ "level.6", 6, set_chain_level },
	{ "level.7", 7, set_chain_level },
	{ "level.8", 8, set_chain_level },
	{ "level.9", 9, set_chain_level },
};
/* In RK_ order; a range condition's arg is its enum rules_cond. */
static const struct rule_key rule_keys[] = {
	{ "action", 0, set_rule_actions },
	{ "category", 0, set_rule_categories },
	{ "severity", RULES_C_SEVERITY, set_rule_range },
	{ "tier", RULES_C_TIER, set_rule_range },
	{ "vip", 0, set_rule_vip },
	{ "amount", RULES_C_AMOUNT, set_rule_range },
	{ "customer_30d", RULES_C_CUSTOMER_30D, set_rule_range },
	{ "agent_today", RULES_C_AGENT_TODAY, set_rule_range },
	{ "age", RULES_C_AGE, set_rule_range },
	{ "resolve_left", RULES_C_RESOLVE_LEFT, set_rule_range },
	{ "decision", 0, set_rule_decision },
	{ "justify_later", 0, set_rule_justify },
	{ "justify_within", 0, set_rule_justify_within },
	{ "message", 0, set_rule_message },
};
/* In EK_ order. */
static const struct rule_key empowerment_keys[] = {
	{ "default", EK_DEFAULT, set_emp_default },
	{ "customer_cap", EK_CUSTOMER_CAP, set_emp_cap },
	{ "customer_cap_vip", EK_CUSTOMER_CAP_VIP, set_emp_cap },
	{ "over_cap", EK_OVER_CAP, set_emp_over_cap },
	{ "justify_later", EK_JUSTIFY_LATER, set_emp_justify },
	{ "justify_within", EK_JUSTIFY_WITHIN, set_emp_justify_within },
};
/* A kind with more keys needs a larger RULE_MAX_KEYS. */
_Static_assert(ARRAY_LEN(category_keys) <= RULE_MAX_KEYS, "key_line size");
_Static_assert(ARRAY_LEN(dept_keys) <= RULE_MAX_KEYS, "key_line size");
_Static_assert(ARRAY_LEN(tier_keys) <= RULE_MAX_KEYS, "key_line size");
_Static_assert(ARRAY_LEN(chain_keys) == RULES_MAX_LEVELS + 1,
	       "chain_keys: actions + one per level");
_Static_assert(ARRAY_LEN(chain_keys) <= RULE_MAX_KEYS, "key_line size");
_Static_assert(ARRAY_LEN(rule_keys) == RK_COUNT, "rule_keys: one per RK_");
_Static_assert(ARRAY_LEN(rule_keys) <= RULE_MAX_KEYS, "key_line size");
_Static_assert(ARRAY_LEN(empowerment_keys) == EK_JUSTIFY_WITHIN + 1,
	       "empowerment_keys: one per EK_");
_Static_assert(ARRAY_LEN(tier_keys) == RULES_NACTIONS + 2,
	       "tier_keys: capacity, one per action, daily_budget");
_Static_assert(RULES_NAME_MAX == CFG_NAME_MAX, "one name length");
_Static_assert(CFG_SEVERITIES + 2 == ARRAY_LEN(category_keys),
	       "category_keys: queue, one per severity, calendar");
_Static_assert(ARRAY_LEN(calendar_keys) <= RULE_MAX_KEYS, "key_line size");

#define NAME_FORM "a name ([a-z0-9][a-z0-9._-]{0,31})"

static const struct rule_kind rule_kinds[] = {
	{ "queue", NAME_FORM, val_name, open_queue, NULL, NULL, NULL, 0 },
	{ "category", NAME_FORM, val_name, open_category, close_category,
	  resolve_queue, category_keys, ARRAY_LEN(category_keys) },
	{ "dept", NAME_FORM, val_name, open_dept, NULL, NULL, dept_keys,
	  ARRAY_LEN(dept_keys) },
	{ "calendar", NAME_FORM, val_name, open_calendar, close_calendar, NULL,
	  calendar_keys, ARRAY_LEN(calendar_keys) },
	{ "tier", "a number from 1 to 9", valid_tier, open_tier, close_tier,
	  NULL, tier_keys, ARRAY_LEN(tier_keys) },
	{ "user", "a user name ([a-z0-9][a-z0-9._-]{0,31}, not me)",
	  valid_user, open_user, close_user, NULL, user_keys,
	  ARRAY_LEN(user_keys) },
	{ "chain", NAME_FORM, val_name, open_chain, close_chain, finish_chain,
	  chain_keys, ARRAY_LEN(chain_keys) },
	{ "rule", NAME_FORM, val_name, open_rule, close_rule, finish_rule,
	  rule_keys, ARRAY_LEN(rule_keys) },
	{ "empowerment", NULL, NULL, open_empowerment, close_empowerment,
	  finish_empowerment, empowerment_keys, ARRAY_LEN(empowerment_keys) },
};

static const struct rule_kind *find_kind(const char *word, size_t len)
{
	for (size_t i = 0; i < ARRAY_LEN(rule_kinds); i++)
		if (strlen(rule_kinds[i].kind) == len &&
		    memcmp(rule_kinds[i].kind, word, len) == 0)
			return &rule_kinds[i];
	return NULL;
}

static const struct rule_decl *find_decl(const struct rules_load *rl,
					 const struct rule_kind *kind,
					 const char *name)
{
	for (size_t i = 0; i < rl->ndecls; i++)
		if (rl->decls[i].kind == kind &&
		    strcmp(rl->decls[i].name, name) == 0)
			return &rl->decls[i];
	return NULL;
}

/* Is "[text]" a section of one of the rules file's kinds? */
static bool rules_kind_section(const char *text)
{
	return find_kind(text, strcspn(text, " \t")) != NULL;
}

static void rules_error(void *ctx, unsigned line, const char *msg)
{
	struct rules_load *rl = ctx;

	report(rl->rep, rl->file, line, "%s", msg);
}

static void close_section(struct rules_load *rl)
{
	if (rl->in_section) {
		const struct rule_decl *d = &rl->decls[rl->ndecls - 1];
		if (d->kind->close != NULL)
			d->kind->close(rl, d);
	}
	rl->in_section = false;
}

/* Checks "[KIND NAME]"; on success sets *kind and *name. */
static bool split_header(struct rules_load *rl, unsigned line,
			 const char *text, const struct rule_kind **kind,
			 const char **name)
{
	size_t klen = strcspn(text, " \t");
	const char *n = text + klen + strspn(text + klen, " \t");

	*kind = find_kind(text, klen);
	*name = n;
	if (*kind == NULL) {
		report(rl->rep, rl->file, line, "unknown section kind "
		       "'%.*s' in [%s]", (int)klen, text, text);
		return false;
	}
	if ((*kind)->name_form == NULL) {
		if (*n == '\0')
			return true;
		report(rl->rep, rl->file, line, "expected [%s] without a "
		       "name, not [%s]", (*kind)->kind, text);
		return false;
	}
	if (*n == '\0' || n[strcspn(n, " \t")] != '\0') {
		report(rl->rep, rl->file, line, "expected [%s NAME] with NAME "
		       "%s, not [%s]", (*kind)->kind, (*kind)->name_form, text);
		return false;
	}
	if (strlen(n) > CFG_NAME_MAX || !(*kind)->valid_name(n)) {
		report(rl->rep, rl->file, line, "[%s]: '%s' is not %s", text,
		       n, (*kind)->name_form);
		return false;
	}
	return true;
}

static void rules_section(void *ctx, unsigned line, const char *text)
{
	struct rules_load *rl = ctx;
	const struct rule_kind *kind;
	const struct rule_decl *dup;
	const char *name;

	close_section(rl);
	rl->cat->nrules++;
	rl->skipping = true;
	if (!split_header(rl, line, text, &kind, &name))
		return;
	dup = find_decl(rl, kind, name);
	if (dup != NULL && strcmp(dup->file, rl->file) == 0) {
		report(rl->rep, rl->file, line, "[%s%s%s] declared twice "
		       "(first at line %u)", kind->kind,
		       *name != '\0' ? " " : "", name, dup->line);
		return;
	}
	if (dup != NULL) {
		report(rl->rep, rl->file, line, "[%s%s%s] declared twice "
		       "(first at %s:%u)", kind->kind,
		       *name != '\0' ? " " : "", name, dup->file, dup->line);
		return;
	}
	struct rule_decl *d = grow(rl->decls, rl->ndecls, sizeof *d);
	if (d == NULL) {
		report(rl->rep, rl->file, line, "out of memory");
		return;
	}
	rl->decls = d;
	d += rl->ndecls;
	d->kind = kind;
	d->file = rl->file;
	d->line = line;
	memcpy(d->name, name, strlen(name) + 1);
	if (!kind->open(rl, d)) {
		report(rl->rep, rl->file, line, "out of memory");
		return;
	}
	rl->ndecls++;
	rl->in_section = true;
	rl->skipping = false;
}

static void rules_key(void *ctx, unsigned line, const char *key,
		      const char *value)
{
	struct rules_load *rl = ctx;
	struct rule_decl *d;
	char msg[MSG_SIZE];

	if (!rl->in_section) {
		if (!rl->skipping)
			report(rl->rep, rl->file, line,
			       "'%s' is outside a section", key);
		return;
	}
	d = &rl->decls[rl->ndecls - 1];
	for (size_t i = 0; i < d->kind->nkeys; i++) {
		const struct rule_key *k = &d->kind->keys[i];
		if (strcmp(k->name, key) != 0)
			continue;
		if (d->key_line[i] != 0) {
			report(rl->rep, rl->file, line, "%s: given twice "
			       "(first at line %u)", key, d->key_line[i]);
			return;
		}
		d->key_line[i] = line;
		if (!k->set(rl, d, k->arg, value, msg))
			report(rl->rep, rl->file, line, "%s: %s", key, msg);
		return;
	}
	report(rl->rep, rl->file, line, "unknown key '%s' in [%s %s]", key,
	       d->kind->kind, d->name);
}

static int tier_order(const void *a, const void *b)
{
	const struct cfg_tier *x = a, *y = b;

	return (x->tier > y->tier) - (x->tier < y->tier);
}

/* Checks that need the whole file. */
static void rules_finish(struct rules_load *rl)
{
	struct cfg_catalog *c = rl->cat;

	close_section(rl);
	if (c->nqueues == 0)
		report(rl->rep, rl->file, 0, "no [queue NAME] declared");
	if (c->ncategories == 0)
		report(rl->rep, rl->file, 0, "no [category NAME] declared");
	for (size_t i = 0; i < rl->ndecls; i++)
		if (rl->decls[i].kind->finish != NULL)
			rl->decls[i].kind->finish(rl, &rl->decls[i]);
	if (c->rules.nrules > 0 && c->rules.policy.line == 0)
		report(rl->rep, rl->file, 0, "[rule] sections need an "
		       "[empowerment] section with default = allow | escalate "
		       "| deny");
	if (cat_find_tier(c, 1) == NULL) {
		struct cfg_tier *t = grow(c->tiers, c->ntiers, sizeof *t);
		if (t == NULL) {
			report(rl->rep, rl->file, 0, "out of memory");
			return;
		}
		c->tiers = t;
		t[c->ntiers++] = (struct cfg_tier){ .tier = 1,
						    .capacity = CFG_TIER_CAPACITY };
	}
	qsort(c->tiers, c->ntiers, sizeof *c->tiers, tier_order);
}

/* The second pass over the configuration file: its sections of the rules
 * file's kinds, read as if they followed the rules file (the other
 * sections, and the file's syntax, the first pass has checked). */
struct conf_rules {
	struct rules_load *rl;
	bool in_rules;
};

static void conf_rules_section(void *ctx, unsigned line, const char *text)
{
	struct conf_rules *cr = ctx;

	cr->in_rules = rules_kind_section(text);
	if (cr->in_rules)
		rules_section(cr->rl, line, text);
	else
		close_section(cr->rl);
}

static void conf_rules_key(void *ctx, unsigned line, const char *key,
			   const char *value)
{
	struct conf_rules *cr = ctx;

	if (cr->in_rules)
		rules_key(cr->rl, line, key, value);
}

static void conf_rules_error(void *ctx, unsigned line, const char *msg)
{
	(void)ctx;
	(void)line;
	(void)msg;
}

static void load_conf_rules(struct config *cfg, struct rules_load *rl)
{
	static const struct ini_handler h = { conf_rules_section,
					      conf_rules_key,
					      conf_rules_error };
	struct conf_rules cr = { .rl = rl, .in_rules = false };
	char msg[MSG_SIZE];
	size_t len;
	char *text = read_file(cfg->path, &len, msg);

	if (text == NULL) {
		report(rl->rep, cfg->path, 0, "%s", msg);
		return;
	}
	const char *rules_name = rl->file;
	close_section(rl);
	rl->file = cfg->path;
	ini_parse(text, len, &h, &cr);
	close_section(rl);
	rl->file = rules_name;
	free(text);
}

/* name: the [rules] file value as written (for messages). */
static void load_rules(struct config *cfg, const char *name,
		       struct report *rep)
{
	static const struct ini_handler h = { rules_section, rules_key,
					      rules_error };
	struct rules_load rl = { .cat = &cfg->catalog, .rep = rep,
				 .file = name,
				 .digits = cfg->currency_digits };
	char msg[MSG_SIZE];
	size_t len;
	char *text = read_file(cfg->rules_file, &len, msg);

	rules_init(&cfg->catalog.rules, cfg->currency_digits);
	if (text == NULL) {
		report(rep, name, 0, "%s", msg);
		return;
	}
	/* Rules sections that name files (later) resolve them against the
	 * folder of cfg->rules_file, not of the configuration. */
	ini_parse(text, len, &h, &rl);
	load_conf_rules(cfg, &rl);
	rules_finish(&rl);
	free(rl.decls);
	free(text);
}

/* ---- public ---- */

static void catalog_free(struct cfg_catalog *c)
{
	for (size_t i = 0; i < c->ncalendars; i++) {
		free(c->calendars[i].holidays);
		free(c->calendars[i].json);
	}
	free(c->calendars);
	free(c->queues);
	free(c->categories);
	free(c->depts);
	free(c->tiers);
	rules_clear(&c->rules);
	memset(c, 0, sizeof *c);
}

void config_free(struct config **cfgp)
{
	struct config *cfg;

	if (cfgp == NULL || *cfgp == NULL)
		return;
	cfg = *cfgp;
	for (size_t i = 0; i < NPARAMS; i++)
		if (owns_string(cfg_params[i].type))
			free(*(char **)field(cfg, cfg_params[i].offset));
	catalog_free(&cfg->catalog);
	free(cfg->path);
	free(cfg->dir);
	free(cfg);
	*cfgp = NULL;
}

int config_load(const char *path, struct config **out, cfg_error_fn *err,
		void *err_ctx)
{
	static const struct ini_handler h = { main_section, main_key,
					      main_error };
	struct report rep = { .fn = err, .ctx = err_ctx };
	struct main_load *ml = NULL;
	struct config *cfg = calloc(1, sizeof *cfg);
	char msg[MSG_SIZE];
	char *text = NULL;
	size_t len;

	*out = NULL;
	if (cfg == NULL || (cfg->path = strdup(path)) == NULL ||
	    (cfg->dir = dir_of(path)) == NULL ||
	    (ml = calloc(1, sizeof *ml)) == NULL) {
		report(&rep, path, 0, "out of memory");
		goto done;
	}
	text = read_file(path, &len, msg);
	if (text == NULL) {
		report(&rep, path, 0, "%s", msg);
		goto done;
	}
	ml->cfg = cfg;
	ml->rep = &rep;
	ini_parse(text, len, &h, ml);
	main_finish(ml);
	if (cfg->rules_file != NULL)
		load_rules(cfg, ml->raw[param_index("rules", "file")], &rep);
done:
	free(text);
	free(ml);
	if (rep.count > 0)
		config_free(&cfg);
	*out = cfg;
	return rep.count;
}

int config_restart_needed(const struct config *old, const struct config *new,
			  cfg_error_fn *note, void *ctx)
{
	int n = 0;

	for (size_t i = 0; i < NPARAMS; i++) {
		const struct cfg_param *p = &cfg_params[i];
		char line[128];
		if (!(p->flags & PF_RESTART) || param_equal(old, new, p))
			continue;
		n++;
		if (note == NULL)
			continue;
		snprintf(line, sizeof line, "[%s] %s changed: takes effect "
			 "after a restart", p->section, p->name);
		note(ctx, line);
	}
	return n;
}

const struct cfg_queue *cfg_find_queue(const struct config *cfg,
				       const char *name)
{
	return cat_find_queue(&cfg->catalog, name);
}

const struct cfg_category *cfg_find_category(const struct config *cfg,
					     const char *name)
{
	const struct cfg_catalog *c = &cfg->catalog;

	for (size_t i = 0; i < c->ncategories; i++)
		if (strcmp(c->categories[i].name, name) == 0)
			return &c->categories[i];
	return NULL;
}

const char *cfg_unknown_skill(const struct config *cfg, const char *skills,
			      char *buf, size_t len)
{
	for (const char *p = skills; p != NULL && *p != '\0';) {
		size_t n = strcspn(p, ",");
		snprintf(buf, len, "%.*s", (int)n, p);
		if (cfg_find_queue(cfg, buf) == NULL &&
		    cfg_find_category(cfg, buf) == NULL)
			return buf;
		p += n + (p[n] == ',' ? 1 : 0);
	}
	return NULL;
}

const struct cfg_calendar *cfg_find_calendar(const struct config *cfg,
					     const char *name)
{
	const struct cfg_catalog *c = &cfg->catalog;

	for (size_t i = 0; i < c->ncalendars; i++)
		if (strcmp(c->calendars[i].name, name) == 0)
			return &c->calendars[i];
	return NULL;
}

const struct cfg_dept *cfg_find_dept(const struct config *cfg,
				     const char *name)
{
	const struct cfg_catalog *c = &cfg->catalog;

	for (size_t i = 0; i < c->ndepts; i++)
		if (strcmp(c->depts[i].name, name) == 0)
			return &c->depts[i];
	return NULL;
}

const struct cfg_tier *cfg_find_tier(const struct config *cfg, int tier)
{
	return cat_find_tier(&cfg->catalog, tier);
}
