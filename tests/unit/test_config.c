/* test_config.c: unit tests of server/config.c and server/ini.c. Each test
 * writes a configuration and a rules file into a fresh folder under /tmp,
 * loads them and compares values or the exact "FILE:LINE: message" errors
 * against tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "ini.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ERRS 32
#define MAX_WANT 6

/* ---- fixture: a temporary folder and the errors of the last load ---- */

struct fx {
	char dir[64];
	char conf[128];          /* dir/calldeskd.conf */
	char *errs[MAX_ERRS];
	int nerrs;
	struct config *cfg;
	struct config *old;      /* a second one, for reload tests */
};

static void collect(void *ctx, const char *line)
{
	struct fx *fx = ctx;

	if (fx->nerrs < MAX_ERRS)
		fx->errs[fx->nerrs] = strdup(line);
	fx->nerrs++;
}

static void clear_errs(struct fx *fx)
{
	for (int i = 0; i < fx->nerrs && i < MAX_ERRS; i++)
		free(fx->errs[i]);
	fx->nerrs = 0;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);

	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/calldesk-cfg.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->conf, sizeof fx->conf, "%s/calldeskd.conf", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	config_free(&fx->cfg);
	config_free(&fx->old);
	clear_errs(fx);
	/* The folder is ours (mkdtemp) and may hold a sub-folder. */
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static void write_file(const struct fx *fx, const char *name,
		       const char *text, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", fx->dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const struct fx *fx, const char *name,
		       const char *text)
{
	write_file(fx, name, text, strlen(text));
}

/* The main file of most tests: required keys first, so that extra [server]
 * lines start at line 8. */
static const char base_conf[] =
	"[database]\n"                      /* 1 */
	"conninfo = dbname=calldesk\n"      /* 2 */
	"[rules]\n"                         /* 3 */
	"file = rules.conf\n"               /* 4 */
	"[server]\n"                        /* 5 */
	"tls_cert = server.crt\n"           /* 6 */
	"tls_key = server.key\n";           /* 7 */
#define EXTRA_LINE 8

static const char base_rules[] =
	"[queue general]\n"
	"[category general]\n"
	"severity.1 = 1h 1d\n"
	"severity.2 = 2h 2d\n"
	"severity.3 = 3h 3d\n"
	"severity.4 = 4h 4d\n";

/* Loads dir/calldeskd.conf; returns config_load's result. */
static int load(struct fx *fx)
{
	config_free(&fx->cfg);
	clear_errs(fx);
	return config_load(fx->conf, &fx->cfg, collect, fx);
}

/* Writes base_conf + extra (NULL: conf is the whole text) and rules. */
static int load_with(struct fx *fx, const char *conf, const char *extra,
		     const char *rules)
{
	char text[4096];

	if (conf == NULL)
		snprintf(text, sizeof text, "%s%s", base_conf, extra);
	else
		snprintf(text, sizeof text, "%s", conf);
	write_text(fx, "calldeskd.conf", text);
	write_text(fx, "rules.conf", rules != NULL ? rules : base_rules);
	return load(fx);
}

/* Replaces a leading "CONF:" by the path given to config_load. */
static void expand(const struct fx *fx, const char *want, char *out,
		   size_t size)
{
	if (strncmp(want, "CONF:", 5) == 0)
		snprintf(out, size, "%s:%s", fx->conf, want + 5);
	else
		snprintf(out, size, "%s", want);
}

/* The errors must be exactly want[] (NULL-terminated), in order. */
static void check_errors(const struct fx *fx, const char *name, int rc,
			 const char *const *want)
{
	int n = 0;

	while (n < MAX_WANT && want[n] != NULL)
		n++;
	if (rc != n || fx->nerrs != n || (n > 0 && fx->cfg != NULL) ||
	    (n == 0 && fx->cfg == NULL)) {
		for (int i = 0; i < fx->nerrs && i < MAX_ERRS; i++)
			print_message("  got: %s\n", fx->errs[i]);
		fail_msg("%s: want %d errors, got rc %d and %d reported",
			 name, n, rc, fx->nerrs);
	}
	for (int i = 0; i < n; i++) {
		char exp[512];
		expand(fx, want[i], exp, sizeof exp);
		if (strcmp(exp, fx->errs[i]) != 0)
			fail_msg("%s: error %d\n  want: %s\n  got:  %s", name, i,
				 exp, fx->errs[i]);
	}
}

static int int_at(const struct config *cfg, size_t off)
{
	return *(const int *)((const char *)cfg + off);
}

/* ---- defaults ---- */

#define OFF(f) offsetof(struct config, f)

struct int_default {
	const char *key;
	size_t off;
	int want;
};

static const struct int_default int_defaults[] = {
	{ "tls_min", OFF(tls_min), 12 },
	{ "max_clients", OFF(max_clients), 10000 },
	{ "max_line", OFF(max_line), 8192 },
	{ "max_line_login", OFF(max_line_login), 1024 },
	{ "login_timeout", OFF(login_timeout), 30 },
	{ "login_max_failures", OFF(login_max_failures), 5 },
	{ "idle_timeout", OFF(idle_timeout), 900 },
	{ "shutdown_grace", OFF(shutdown_grace), 10 },
	{ "currency_digits", OFF(currency_digits), 2 },
	{ "hash_threads", OFF(hash_threads), 2 },
	{ "argon2_t_cost", OFF(argon2_t_cost), 2 },
	{ "argon2_m_cost", OFF(argon2_m_cost), 19456 },
	{ "output_high_water", OFF(output_high_water), 262144 },
	{ "pool_size", OFF(db_pool_size), 4 },
	{ "connect_timeout", OFF(db_connect_timeout), 5 },
	{ "query_timeout", OFF(db_query_timeout), 10 },
};

static void test_defaults(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };
	char want[256];

	check_errors(fx, "defaults", load_with(fx, NULL, "", NULL), none);
	const struct config *cfg = fx->cfg;
	for (size_t i = 0; i < ARRAY_LEN(int_defaults); i++)
		if (int_at(cfg, int_defaults[i].off) != int_defaults[i].want)
			fail_msg("default %s: want %d, got %d",
				 int_defaults[i].key, int_defaults[i].want,
				 int_at(cfg, int_defaults[i].off));
	assert_int_equal(cfg->nlisten, 1);
	assert_string_equal(cfg->listen[0].host, "127.0.0.1");
	assert_string_equal(cfg->listen[0].port, "7443");
	assert_null(cfg->tls_client_ca);
	assert_null(cfg->metrics);
	assert_string_equal(cfg->currency, "EUR");
	assert_string_equal(cfg->timezone, "UTC");
	assert_false(cfg->log_syslog);
	assert_false(cfg->offer_work);
	assert_string_equal(cfg->db_conninfo, "dbname=calldesk");
	assert_string_equal(cfg->path, fx->conf);
	assert_string_equal(cfg->dir, fx->dir);
	snprintf(want, sizeof want, "%s/rules.conf", fx->dir);
	assert_string_equal(cfg->rules_file, want);
	/* tier 1 exists without being declared */
	assert_int_equal(cfg->catalog.ntiers, 1);
	assert_int_equal(cfg->catalog.tiers[0].tier, 1);
	assert_int_equal(cfg->catalog.tiers[0].capacity, 10);
	assert_int_equal(cfg->catalog.nrules, 2);
}

/* ---- values that are accepted ---- */

struct value_case {
	const char *line;        /* appended to [server] */
	size_t off;
	int want;
};

static const struct value_case int_values[] = {
	{ "tls_min = 1.3\n", OFF(tls_min), 13 },
	{ "tls_min = 1.2\n", OFF(tls_min), 12 },
	{ "max_clients = 1\n", OFF(max_clients), 1 },
	{ "max_clients = 1000000\n", OFF(max_clients), 1000000 },
	{ "max_line = 256\nmax_line_login = 256\n", OFF(max_line), 256 },
	{ "max_line = 1048576\n", OFF(max_line), 1048576 },
	{ "max_line_login = 64\n", OFF(max_line_login), 64 },
	{ "max_line = 65536\nmax_line_login = 65536\n", OFF(max_line_login),
	  65536 },
	{ "login_timeout = 3600\n", OFF(login_timeout), 3600 },
	{ "login_max_failures = 1000\n", OFF(login_max_failures), 1000 },
	{ "idle_timeout = 604800\n", OFF(idle_timeout), 604800 },
	{ "shutdown_grace = 0\n", OFF(shutdown_grace), 0 },
	{ "currency = JPY\n", OFF(currency_digits), 0 },
	{ "currency = KWD\n", OFF(currency_digits), 3 },
	{ "hash_threads = 64\n", OFF(hash_threads), 64 },
	{ "argon2_t_cost = 10\n", OFF(argon2_t_cost), 10 },
	{ "argon2_m_cost = 1024\n", OFF(argon2_m_cost), 1024 },
	{ "output_high_water = 67108864\n", OFF(output_high_water), 67108864 },
	{ "[database]\npool_size = 64\n", OFF(db_pool_size), 64 },
	{ "[database]\nconnect_timeout = 300\n", OFF(db_connect_timeout), 300 },
	{ "[database]\nquery_timeout = 1\n", OFF(db_query_timeout), 1 },
};

struct bool_case {
	const char *line;        /* appended to [server] */
	size_t off;
	bool want;
};

static const struct bool_case bool_values[] = {
	{ "log = syslog\n", OFF(log_syslog), true },
	{ "log = stderr\n", OFF(log_syslog), false },
	{ "offer_work = yes\n", OFF(offer_work), true },
	{ "offer_work = no\n", OFF(offer_work), false },
};

static void test_values(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };

	for (size_t i = 0; i < ARRAY_LEN(int_values); i++) {
		const struct value_case *c = &int_values[i];
		check_errors(fx, c->line, load_with(fx, NULL, c->line, NULL),
			     none);
		int got = int_at(fx->cfg, c->off);
		if (got != c->want)
			fail_msg("'%s': want %d, got %d", c->line, c->want,
				 got);
	}
	for (size_t i = 0; i < ARRAY_LEN(bool_values); i++) {
		const struct bool_case *c = &bool_values[i];
		check_errors(fx, c->line, load_with(fx, NULL, c->line, NULL),
			     none);
		bool got = *(const bool *)(const void *)
			((const char *)fx->cfg + c->off);
		if (got != c->want)
			fail_msg("'%s': want %d, got %d", c->line, c->want,
				 got);
	}
}

static void test_string_values(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };

	check_errors(fx, "strings", load_with(fx, NULL,
		"timezone = Europe/Paris\n"
		"currency = USD\n"
		"metrics = 127.0.0.1:9464\n"
		"tls_client_ca = /etc/ca.pem\n", NULL), none);
	assert_string_equal(fx->cfg->timezone, "Europe/Paris");
	assert_string_equal(fx->cfg->currency, "USD");
	assert_int_equal(fx->cfg->currency_digits, 2);
	assert_string_equal(fx->cfg->metrics, "127.0.0.1:9464");
	assert_string_equal(fx->cfg->tls_client_ca, "/etc/ca.pem");
}

/* ---- listen ---- */

static void test_listen(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };
	static const struct { const char *host, *port; } want[] = {
		{ "0.0.0.0", "7443" }, { "::1", "7443" },
		{ "localhost", "1" }, { "fe80::1%eth0", "65535" },
	};

	check_errors(fx, "listen", load_with(fx, NULL,
		"listen = 0.0.0.0:7443\n"
		"listen = [::1]:7443\n"
		"listen = localhost:1\n"
		"listen = [fe80::1%eth0]:65535\n", NULL), none);
	assert_int_equal(fx->cfg->nlisten, ARRAY_LEN(want));
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		assert_string_equal(fx->cfg->listen[i].host, want[i].host);
		assert_string_equal(fx->cfg->listen[i].port, want[i].port);
	}
}

/* ---- comments ---- */

struct comment_case {
	const char *line;        /* appended to [server] */
	const char *node;    /* expected value */
};

static const struct comment_case comment_cases[] = {
	{ "node = Europe/Paris ; the office\n", "Europe/Paris" },
	{ "node = Europe/Paris\t# tab before\n", "Europe/Paris" },
	{ "node = a;b\n", "a;b" },
	{ "node = a#b\n", "a#b" },
	{ "node = a b;c d ;e\n", "a b;c d" },
	{ "node=x;y\n", "x;y" },
	{ "; node = no\n# node = no\n   ; indented\nnode = yes\n",
	  "yes" },
	{ "node = yes\r\n", "yes" },
	{ "node =   spaced out   \n", "spaced out" },
	{ "[server] ; header with a comment\nnode = hdr\n", "hdr" },
	{ "\n\n   \t\nnode = blank-lines\n", "blank-lines" },
};

static void test_comments(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };

	for (size_t i = 0; i < ARRAY_LEN(comment_cases); i++) {
		const struct comment_case *c = &comment_cases[i];
		check_errors(fx, c->line, load_with(fx, NULL, c->line, NULL),
			     none);
		if (strcmp(fx->cfg->node, c->node) != 0)
			fail_msg("'%s': want '%s', got '%s'", c->line,
				 c->node, fx->cfg->node);
	}
}

/* ---- errors in the main file ---- */

struct error_case {
	const char *name;
	const char *conf;        /* whole main file, or NULL for base_conf + */
	const char *extra;
	const char *want[MAX_WANT];
};

static const struct error_case conf_errors[] = {
	/* every range, both ends */
	{ "max_clients low", NULL, "max_clients = 0\n",
	  { "CONF:8: max_clients: 0 is out of range 1..1000000" } },
	{ "max_clients high", NULL, "max_clients = 1000001\n",
	  { "CONF:8: max_clients: 1000001 is out of range 1..1000000" } },
	{ "max_line low", NULL, "max_line = 255\nmax_line_login = 64\n",
	  { "CONF:8: max_line: 255 is out of range 256..1048576" } },
	{ "max_line high", NULL, "max_line = 1048577\n",
	  { "CONF:8: max_line: 1048577 is out of range 256..1048576" } },
	{ "max_line_login low", NULL, "max_line_login = 63\n",
	  { "CONF:8: max_line_login: 63 is out of range 64..65536" } },
	{ "max_line_login high", NULL, "max_line_login = 65537\n",
	  { "CONF:8: max_line_login: 65537 is out of range 64..65536" } },
	{ "login_timeout", NULL, "login_timeout = 0\nlogin_timeout = 9\n",
	  { "CONF:8: login_timeout: 0 is out of range 1..3600",
	    "CONF:9: login_timeout: given twice (first at line 8)" } },
	{ "login_timeout high", NULL, "login_timeout = 3601\n",
	  { "CONF:8: login_timeout: 3601 is out of range 1..3600" } },
	{ "login_max_failures", NULL, "login_max_failures = 1001\n",
	  { "CONF:8: login_max_failures: 1001 is out of range 1..1000" } },
	{ "login_max_failures low", NULL, "login_max_failures = 0\n",
	  { "CONF:8: login_max_failures: 0 is out of range 1..1000" } },
	{ "idle_timeout", NULL, "idle_timeout = 604801\n",
	  { "CONF:8: idle_timeout: 604801 is out of range 1..604800" } },
	{ "idle_timeout low", NULL, "idle_timeout = 0\n",
	  { "CONF:8: idle_timeout: 0 is out of range 1..604800" } },
	{ "shutdown_grace", NULL, "shutdown_grace = -1\n",
	  { "CONF:8: shutdown_grace: -1 is out of range 0..3600" } },
	{ "shutdown_grace high", NULL, "shutdown_grace = 3601\n",
	  { "CONF:8: shutdown_grace: 3601 is out of range 0..3600" } },
	{ "hash_threads", NULL, "hash_threads = 65\n",
	  { "CONF:8: hash_threads: 65 is out of range 1..64" } },
	{ "hash_threads low", NULL, "hash_threads = 0\n",
	  { "CONF:8: hash_threads: 0 is out of range 1..64" } },
	{ "argon2_t_cost", NULL, "argon2_t_cost = 11\n",
	  { "CONF:8: argon2_t_cost: 11 is out of range 1..10" } },
	{ "argon2_t_cost low", NULL, "argon2_t_cost = 0\n",
	  { "CONF:8: argon2_t_cost: 0 is out of range 1..10" } },
	{ "argon2_m_cost", NULL, "argon2_m_cost = 1023\n",
	  { "CONF:8: argon2_m_cost: 1023 is out of range 1024..1048576" } },
	{ "argon2_m_cost high", NULL, "argon2_m_cost = 1048577\n",
	  { "CONF:8: argon2_m_cost: 1048577 is out of range 1024..1048576" } },
	{ "output_high_water", NULL, "output_high_water = 4095\n",
	  { "CONF:8: output_high_water: 4095 is out of range 4096..67108864" } },
	{ "output_high_water high", NULL, "output_high_water = 67108865\n",
	  { "CONF:8: output_high_water: 67108865 is out of range "
	    "4096..67108864" } },
	{ "pool_size", NULL, "[database]\npool_size = 65\n",
	  { "CONF:9: pool_size: 65 is out of range 1..64" } },
	{ "pool_size low", NULL, "[database]\npool_size = 0\n",
	  { "CONF:9: pool_size: 0 is out of range 1..64" } },
	{ "connect_timeout", NULL, "[database]\nconnect_timeout = 301\n",
	  { "CONF:9: connect_timeout: 301 is out of range 1..300" } },
	{ "connect_timeout low", NULL, "[database]\nconnect_timeout = 0\n",
	  { "CONF:9: connect_timeout: 0 is out of range 1..300" } },
	{ "query_timeout", NULL, "[database]\nquery_timeout = 0\n",
	  { "CONF:9: query_timeout: 0 is out of range 1..3600" } },
	{ "query_timeout high", NULL, "[database]\nquery_timeout = 3601\n",
	  { "CONF:9: query_timeout: 3601 is out of range 1..3600" } },
	{ "huge number", NULL, "max_clients = 99999999999999999999999\n",
	  { "CONF:8: max_clients: 99999999999999999999999 is out of range "
	    "1..1000000" } },
	/* not numbers: strtol with checks, never atoi */
	{ "junk after number", NULL, "max_clients = 10x\n",
	  { "CONF:8: max_clients: '10x' is not a whole number" } },
	{ "plus sign", NULL, "max_clients = +10\n",
	  { "CONF:8: max_clients: '+10' is not a whole number" } },
	{ "empty number", NULL, "max_clients =\n",
	  { "CONF:8: max_clients: '' is not a whole number" } },
	{ "decimal", NULL, "idle_timeout = 1.5\n",
	  { "CONF:8: idle_timeout: '1.5' is not a whole number" } },
	/* typed values */
	{ "tls_min", NULL, "tls_min = 1.1\n",
	  { "CONF:8: tls_min: '1.1' is neither 1.2 nor 1.3" } },
	{ "currency", NULL, "currency = XYZ\n",
	  { "CONF:8: currency: 'XYZ' is not a known ISO 4217 currency code" } },
	{ "currency lower", NULL, "currency = eur\n",
	  { "CONF:8: currency: 'eur' is not a known ISO 4217 currency code" } },
	{ "log", NULL, "log = file\n",
	  { "CONF:8: log: 'file' is neither stderr nor syslog" } },
	{ "offer_work", NULL, "offer_work = true\n",
	  { "CONF:8: offer_work: 'true' is neither yes nor no" } },
	{ "timezone empty", NULL, "timezone =\n",
	  { "CONF:8: timezone: must not be empty" } },
	{ "timezone unknown", NULL, "timezone = Mars/Olympus\n",
	  { "CONF:8: timezone: 'Mars/Olympus' is not a time zone of the tz database (/usr/share/zoneinfo)" } },
	{ "timezone shape", NULL, "timezone = ../etc/passwd\n",
	  { "CONF:8: timezone: '../etc/passwd' is not a time zone name (Europe/Paris, UTC)" } },
	{ "listen no port", NULL, "listen = 127.0.0.1\n",
	  { "CONF:8: listen: '127.0.0.1' is not host:port (IPv6 as "
	    "[::1]:7443)" } },
	{ "listen bare v6", NULL, "listen = ::1:7443\n",
	  { "CONF:8: listen: '::1:7443' is not host:port (IPv6 as "
	    "[::1]:7443)" } },
	{ "listen port 0", NULL, "listen = 127.0.0.1:0\n",
	  { "CONF:8: listen: 0 is out of range 1..65535" } },
	{ "listen port 65536", NULL, "listen = [::1]:65536\n",
	  { "CONF:8: listen: 65536 is out of range 1..65535" } },
	{ "listen no host", NULL, "listen = :7443\n",
	  { "CONF:8: listen: ':7443': bad host length" } },
	{ "listen bad host", NULL, "listen = a b:7443\n",
	  { "CONF:8: listen: 'a b:7443': bad character in host" } },
	{ "listen twice", NULL, "listen = 127.0.0.1:1\nlisten = 127.0.0.1:1\n",
	  { "CONF:9: listen: '127.0.0.1:1' given twice" } },
	{ "listen nine", NULL,
	  "listen = h:1\nlisten = h:2\nlisten = h:3\nlisten = h:4\n"
	  "listen = h:5\nlisten = h:6\nlisten = h:7\nlisten = h:8\n"
	  "listen = h:9\n",
	  { "CONF:16: listen: more than 8 addresses" } },
	{ "metrics", NULL, "metrics = 9464\n",
	  { "CONF:8: metrics: '9464' is not host:port (IPv6 as [::1]:7443)" } },
	{ "max_line_login above max_line", NULL,
	  "max_line = 512\nmax_line_login = 1024\n",
	  { "CONF:9: max_line_login (1024) must not exceed max_line (512)" } },
	{ "max_line below default login", NULL, "max_line = 512\n",
	  { "CONF:8: max_line_login (1024) must not exceed max_line (512)" } },
	/* structure */
	{ "unknown key", NULL, "colour = blue\n",
	  { "CONF:8: unknown key 'colour' in [server]" } },
	{ "key of another section", NULL, "pool_size = 4\n",
	  { "CONF:8: unknown key 'pool_size' in [server]" } },
	{ "unknown section", NULL, "[extra]\na = 1\nb = 2\n",
	  { "CONF:8: unknown section [extra]" } },
	{ "repeated key", NULL, "timezone = UTC\ntimezone = CET\n",
	  { "CONF:9: timezone: given twice (first at line 8)" } },
	{ "not a pair", NULL, "just words\n",
	  { "CONF:8: expected 'key = value' or '[section]'" } },
	{ "bad key", NULL, "max clients = 1\n",
	  { "CONF:8: bad key (letters, digits, _ . -)" } },
	{ "empty key", NULL, "= 1\n",
	  { "CONF:8: missing key before '='" } },
	{ "bad header", NULL, "[server\n",
	  { "CONF:8: section header without ']'" } },
	{ "header junk", NULL, "[server] x\n",
	  { "CONF:8: text after the section header" } },
	{ "empty header", NULL, "[ ]\n",
	  { "CONF:8: bad section header" } },
	{ "outside a section", "max_clients = 5\n", NULL,
	  { "CONF:1: 'max_clients' is outside a section",
	    "CONF:0: missing required key 'tls_cert' in [server]",
	    "CONF:0: missing required key 'tls_key' in [server]",
	    "CONF:0: missing required key 'conninfo' in [database]",
	    "CONF:0: missing required key 'file' in [rules]" } },
	{ "required empty", "[server]\ntls_cert =\ntls_key = k\n"
	  "[database]\nconninfo = x\n[rules]\nfile =\n", NULL,
	  { "CONF:2: tls_cert: must not be empty",
	    "CONF:7: file: must not be empty" } },
	{ "all collected", NULL,
	  "max_clients = 0\ntls_min = 2\n[nope]\nx = 1\n[server]\nlog = x\n",
	  { "CONF:8: max_clients: 0 is out of range 1..1000000",
	    "CONF:9: tls_min: '2' is neither 1.2 nor 1.3",
	    "CONF:10: unknown section [nope]",
	    "CONF:13: log: 'x' is neither stderr nor syslog" } },
};

static void test_conf_errors(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_LEN(conf_errors); i++) {
		const struct error_case *c = &conf_errors[i];
		int rc = load_with(fx, c->conf, c->extra, NULL);
		check_errors(fx, c->name, rc, c->want);
	}
}

static void test_missing_file(void **state)
{
	struct fx *fx = *state;
	static const char *const want[] = {
		"CONF:0: cannot open: No such file or directory", NULL };

	check_errors(fx, "no file", load(fx), want);
}

static void test_nul_byte(void **state)
{
	struct fx *fx = *state;
	static const char *const want[] = { "CONF:8: NUL byte in line", NULL };
	char text[512];
	size_t n = (size_t)snprintf(text, sizeof text, "%stimezone = a", base_conf);

	text[n++] = '\0';
	memcpy(text + n, "b\n", 2);
	write_file(fx, "calldeskd.conf", text, n + 2);
	write_text(fx, "rules.conf", base_rules);
	check_errors(fx, "nul", load(fx), want);
}

static void test_bom(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };
	char text[512];

	snprintf(text, sizeof text, "\xEF\xBB\xBF%s", base_conf);
	write_text(fx, "calldeskd.conf", text);
	write_text(fx, "rules.conf", base_rules);
	check_errors(fx, "bom", load(fx), none);
}

/* ---- paths ---- */

static void test_relative_paths(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };
	char sub[128], want[256];

	snprintf(sub, sizeof sub, "%s/etc", fx->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_text(fx, "etc/more.conf", base_rules);
	write_text(fx, "calldeskd.conf",
		   "[server]\n"
		   "tls_cert = certs/server.crt\n"
		   "tls_key = /abs/server.key\n"
		   "tls_client_ca = ca.pem\n"
		   "[database]\nconninfo = x\n"
		   "[rules]\nfile = etc/more.conf\n");
	check_errors(fx, "paths", load(fx), none);
	snprintf(want, sizeof want, "%s/certs/server.crt", fx->dir);
	assert_string_equal(fx->cfg->tls_cert, want);
	assert_string_equal(fx->cfg->tls_key, "/abs/server.key");
	snprintf(want, sizeof want, "%s/ca.pem", fx->dir);
	assert_string_equal(fx->cfg->tls_client_ca, want);
	snprintf(want, sizeof want, "%s/etc/more.conf", fx->dir);
	assert_string_equal(fx->cfg->rules_file, want);
}

/* A path without a folder is relative to the working directory. */
static void test_bare_path(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };
	char cwd[512];

	assert_non_null(getcwd(cwd, sizeof cwd));
	write_text(fx, "calldeskd.conf", base_conf);
	write_text(fx, "rules.conf", base_rules);
	assert_int_equal(chdir(fx->dir), 0);
	int rc = config_load("calldeskd.conf", &fx->cfg, collect, fx);
	assert_int_equal(chdir(cwd), 0);
	check_errors(fx, "bare", rc, none);
	assert_string_equal(fx->cfg->dir, ".");
	assert_string_equal(fx->cfg->tls_cert, "./server.crt");
	assert_string_equal(fx->cfg->rules_file, "./rules.conf");
}

/* Errors in the rules file name it as the configuration writes it. */
static void test_rules_file_name(void **state)
{
	struct fx *fx = *state;
	static const char *const want[] = {
		"etc/../etc/r.conf:2: unknown key 'colour' in [queue general]",
		NULL };
	char sub[128], text[512];

	snprintf(sub, sizeof sub, "%s/etc", fx->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_text(fx, "etc/r.conf", "[queue general]\ncolour = red\n"
		   "[category general]\nseverity.1 = 1 1\nseverity.2 = 1 1\n"
		   "severity.3 = 1 1\nseverity.4 = 1 1\n");
	snprintf(text, sizeof text, "[server]\ntls_cert = c\ntls_key = k\n"
		 "[database]\nconninfo = x\n[rules]\n"
		 "file = etc/../etc/r.conf   ; comment\n");
	write_text(fx, "calldeskd.conf", text);
	check_errors(fx, "rules name", load(fx), want);

	snprintf(text, sizeof text, "[server]\ntls_cert = c\ntls_key = k\n"
		 "max_clients = 0\n[database]\nconninfo = x\n[rules]\n"
		 "file = nowhere/r.conf\n");
	write_text(fx, "calldeskd.conf", text);
	static const char *const both[] = {
		"CONF:4: max_clients: 0 is out of range 1..1000000",
		"nowhere/r.conf:0: cannot open: No such file or directory",
		NULL };
	check_errors(fx, "rules missing", load(fx), both);
}

/* ---- the rules file ---- */

static const char full_rules[] =
	"# a catalog\n"
	"[queue general]\n"
	"[queue billing]\n"
	"[queue tech]\n"
	"\n"
	"[category billing]\n"                 /* queue: namesake */
	"severity.1 = 90 15m\n"
	"severity.2 = 90s 4h\n"
	"severity.3 = 4h 3d ; comment\n"
	"severity.4 = 1d 1d\n"
	"[category technical]\n"
	"queue = tech\n"
	"severity.4 = 1 2\n"
	"severity.3 = 3 4\n"
	"severity.2 = 5 6\n"
	"severity.1 = 7 8\n"
	"[category other]\n"                   /* queue: general */
	"severity.1 = 1m 1h\n"
	"severity.2 = 1m 1h\n"
	"severity.3 = 1m 1h\n"
	"severity.4 = 1m 1h\n"
	"[dept billing-office]\n"
	"handoff_within = 2d\n"
	"[dept logistics]\n"                   /* default 1d */
	"[tier 3]\n"
	"capacity = 30\n"
	"[tier 2]\n"                           /* default 10 */
	"[tier 1]\n"
	"capacity = 1000\n";

static void test_rules_values(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };

	check_errors(fx, "catalog", load_with(fx, NULL, "", full_rules), none);
	const struct config *cfg = fx->cfg;
	const struct cfg_catalog *c = &cfg->catalog;
	assert_int_equal(c->nqueues, 3);
	assert_int_equal(c->ncategories, 3);
	assert_int_equal(c->ndepts, 2);
	assert_int_equal(c->ntiers, 3);
	assert_int_equal(c->nrules, 11);

	assert_string_equal(c->queues[1].name, "billing");
	assert_non_null(cfg_find_queue(cfg, "tech"));
	assert_null(cfg_find_queue(cfg, "technical"));

	const struct cfg_category *k = cfg_find_category(cfg, "billing");
	assert_non_null(k);
	assert_string_equal(k->queue, "billing");
	assert_int_equal(k->sla[0].respond_within, 90);
	assert_int_equal(k->sla[0].resolve_within, 900);
	assert_int_equal(k->sla[1].respond_within, 90);
	assert_int_equal(k->sla[1].resolve_within, 4 * 3600);
	assert_int_equal(k->sla[2].respond_within, 4 * 3600);
	assert_int_equal(k->sla[2].resolve_within, 3 * 86400);
	assert_int_equal(k->sla[3].respond_within, 86400);
	assert_int_equal(k->sla[3].resolve_within, 86400);

	k = cfg_find_category(cfg, "technical");
	assert_non_null(k);
	assert_string_equal(k->queue, "tech");
	for (int s = 0; s < CFG_SEVERITIES; s++) {
		assert_int_equal(k->sla[s].respond_within, 7 - 2 * s);
		assert_int_equal(k->sla[s].resolve_within, 8 - 2 * s);
	}
	k = cfg_find_category(cfg, "other");
	assert_non_null(k);
	assert_string_equal(k->queue, "general");
	assert_null(cfg_find_category(cfg, "general"));

	assert_int_equal(cfg_find_dept(cfg, "billing-office")->handoff_within,
			 2 * 86400);
	assert_int_equal(cfg_find_dept(cfg, "logistics")->handoff_within,
			 86400);
	assert_null(cfg_find_dept(cfg, "tech"));

	/* sorted by tier */
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(c->tiers[i].tier, (int)i + 1);
	assert_int_equal(cfg_find_tier(cfg, 1)->capacity, 1000);
	assert_int_equal(cfg_find_tier(cfg, 2)->capacity, 10);
	assert_int_equal(cfg_find_tier(cfg, 3)->capacity, 30);
	assert_null(cfg_find_tier(cfg, 4));
}

#define SEV4 "severity.1 = 1 1\nseverity.2 = 1 1\nseverity.3 = 1 1\n" \
	     "severity.4 = 1 1\n"

struct rules_case {
	const char *name;
	const char *rules;
	const char *want[MAX_WANT];
};

static const struct rules_case rules_errors[] = {
	{ "unknown kind", "[queue q]\n[category q]\n" SEV4 "[ruleset x]\n"
	  "a = 1\n",
	  { "rules.conf:7: unknown section kind 'ruleset' in [ruleset x]" } },
	{ "unknown key", "[queue q]\nsize = 3\n[category q]\n" SEV4,
	  { "rules.conf:2: unknown key 'size' in [queue q]" } },
	{ "bad name", "[queue Billing]\n[queue q]\n[category q]\n" SEV4,
	  { "rules.conf:1: [queue Billing]: 'Billing' is not a name "
	    "([a-z0-9][a-z0-9._-]{0,31})" } },
	{ "long name", "[queue q]\n[category "
	  "abcdefghijklmnopqrstuvwxyz0123456]\n" SEV4 "[category q]\n" SEV4,
	  { "rules.conf:2: [category abcdefghijklmnopqrstuvwxyz0123456]: "
	    "'abcdefghijklmnopqrstuvwxyz0123456' is not a name "
	    "([a-z0-9][a-z0-9._-]{0,31})" } },
	{ "no name", "[queue]\n[queue q]\n[category q]\n" SEV4,
	  { "rules.conf:1: expected [queue NAME] with NAME a name "
	    "([a-z0-9][a-z0-9._-]{0,31}), not [queue]" } },
	{ "two names", "[queue a b]\n[queue q]\n[category q]\n" SEV4,
	  { "rules.conf:1: expected [queue NAME] with NAME a name "
	    "([a-z0-9][a-z0-9._-]{0,31}), not [queue a b]" } },
	{ "duplicate", "[queue q]\n[category q]\n" SEV4 "[queue q]\n",
	  { "rules.conf:7: [queue q] declared twice (first at line 1)" } },
	{ "duplicate category", "[queue q]\n[category q]\n" SEV4
	  "[category q]\n" SEV4,
	  { "rules.conf:7: [category q] declared twice (first at line 2)" } },
	{ "missing severity", "[queue q]\n[category q]\nseverity.1 = 1 1\n"
	  "severity.3 = 1 1\n[category r]\nqueue = q\n",
	  { "rules.conf:2: [category q]: severity.2 missing (severity.2 = "
	    "RESPOND RESOLVE)",
	    "rules.conf:2: [category q]: severity.4 missing (severity.4 = "
	    "RESPOND RESOLVE)",
	    "rules.conf:5: [category r]: severity.1 missing (severity.1 = "
	    "RESPOND RESOLVE)",
	    "rules.conf:5: [category r]: severity.2 missing (severity.2 = "
	    "RESPOND RESOLVE)",
	    "rules.conf:5: [category r]: severity.3 missing (severity.3 = "
	    "RESPOND RESOLVE)",
	    "rules.conf:5: [category r]: severity.4 missing (severity.4 = "
	    "RESPOND RESOLVE)" } },
	{ "respond after resolve", "[queue q]\n[category q]\n"
	  "severity.1 = 1 1\nseverity.2 = 2d 1d\nseverity.3 = 1 1\n"
	  "severity.4 = 1 1\n",
	  { "rules.conf:4: severity.2: respond time 2d exceeds resolve "
	    "time 1d" } },
	{ "bad duration", "[queue q]\n[category q]\n"
	  "severity.1 = 1 1\nseverity.2 = 1 1\nseverity.3 = 1x 1\n"
	  "severity.4 = 1 1\n",
	  { "rules.conf:5: severity.3: '1x 1' is not two durations (90, 90s, "
	    "15m, 4h, 3d)" } },
	{ "one duration", "[queue q]\n[category q]\n"
	  "severity.1 = 1h\nseverity.2 = 1 1\nseverity.3 = 1 1 1\n"
	  "severity.4 = 1 1\n",
	  { "rules.conf:3: severity.1: expected two durations, respond and "
	    "resolve (as in '1h 2d'), not '1h'",
	    "rules.conf:5: severity.3: expected two durations, respond and "
	    "resolve (as in '1h 2d'), not '1 1 1'" } },
	{ "severity 5", "[queue q]\n[category q]\n" SEV4 "severity.5 = 1 1\n",
	  { "rules.conf:7: unknown key 'severity.5' in [category q]" } },
	{ "repeated key", "[queue q]\n[category q]\n" SEV4 "severity.1 = 2 2\n",
	  { "rules.conf:7: severity.1: given twice (first at line 3)" } },
	{ "undeclared queue", "[queue q]\n[category q]\nqueue = nope\n" SEV4,
	  { "rules.conf:3: queue: 'nope' is not declared ([queue nope])" } },
	{ "bad queue name", "[queue q]\n[category q]\nqueue = No\n" SEV4,
	  { "rules.conf:3: queue: 'No' is not a queue name" } },
	{ "no default queue", "[queue q]\n[category c]\n" SEV4,
	  { "rules.conf:2: [category c]: no queue named 'c' nor 'general' is "
	    "declared; set queue = NAME" } },
	{ "queue declared later", "[category c]\nqueue = q\n" SEV4
	  "[queue q]\n", { NULL } },
	{ "no queue", "[category c]\n" SEV4,
	  { "rules.conf:0: no [queue NAME] declared" } },
	{ "no category", "[queue q]\n",
	  { "rules.conf:0: no [category NAME] declared" } },
	{ "empty file", "",
	  { "rules.conf:0: no [queue NAME] declared",
	    "rules.conf:0: no [category NAME] declared" } },
	{ "dept duration", "[queue q]\n[category q]\n" SEV4
	  "[dept d]\nhandoff_within = 0\n[dept e]\nhandoff_within = 3651d\n"
	  "[dept f]\nhandoff_within = 3650d\n",
	  { "rules.conf:8: handoff_within: '0' is not a duration (90, 90s, "
	    "15m, 4h, 3d)",
	    "rules.conf:10: handoff_within: '3651d' is not a duration (90, "
	    "90s, 15m, 4h, 3d)" } },
	{ "tier numbers", "[queue q]\n[category q]\n" SEV4
	  "[tier 0]\n[tier 10]\n[tier x]\n[tier 9]\n",
	  { "rules.conf:7: [tier 0]: '0' is not a number from 1 to 9",
	    "rules.conf:8: [tier 10]: '10' is not a number from 1 to 9",
	    "rules.conf:9: [tier x]: 'x' is not a number from 1 to 9" } },
	{ "tier capacity", "[queue q]\n[category q]\n" SEV4
	  "[tier 1]\ncapacity = 0\n[tier 2]\ncapacity = 1001\n"
	  "[tier 3]\ncapacity = ten\n",
	  { "rules.conf:8: capacity: 0 is out of range 1..1000",
	    "rules.conf:10: capacity: 1001 is out of range 1..1000",
	    "rules.conf:12: capacity: 'ten' is not a whole number" } },
	{ "outside a section", "a = 1\n[queue q]\n[category q]\n" SEV4,
	  { "rules.conf:1: 'a' is outside a section" } },
	{ "syntax", "[queue q]\n[category q]\n" SEV4 "[dept d\n",
	  { "rules.conf:7: section header without ']'" } },
	{ "keys of a bad section are skipped", "[queue q]\n[category q]\n"
	  SEV4 "[team x]\nlead = y\nsize = 3\n",
	  { "rules.conf:7: unknown section kind 'team' in [team x]" } },
};

static void test_rules_errors(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < ARRAY_LEN(rules_errors); i++) {
		const struct rules_case *c = &rules_errors[i];
		int rc = load_with(fx, NULL, "", c->rules);
		check_errors(fx, c->name, rc, c->want);
	}
}

/* ---- durations ---- */

struct duration_case {
	const char *s;
	int want;                /* 0: refused */
};

static const struct duration_case durations[] = {
	{ "90", 90 }, { "90s", 90 }, { "15m", 900 }, { "4h", 14400 },
	{ "3d", 259200 }, { "1", 1 }, { "3650d", 315360000 },
	{ "315360000", 315360000 }, { "0", 0 }, { "0s", 0 }, { "", 0 },
	{ "s", 0 }, { "-5", 0 }, { "+5", 0 }, { " 5", 0 }, { "5 ", 0 },
	{ "5x", 0 }, { "5ss", 0 }, { "1.5h", 0 }, { "3651d", 0 },
	{ "315360001", 0 }, { "99999999999999999999d", 0 }, { "5M", 0 },
	{ "1w", 0 },
};

/* Sections of the rules file's kinds may stand in calldeskd.conf too
 * (OPERATIONS.md: "set either here or in the rules file"), read after the
 * rules file; their errors name the configuration. */
static void test_rules_in_conf(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };
	static const char *const twice[] = {
		"CONF:8: [queue general] declared twice (first at rules.conf:1)",
		NULL };
	static const char *const bad_key[] = {
		"CONF:9: unknown key 'bogus' in [queue x]", NULL };

	check_errors(fx, "rules in conf", load_with(fx, NULL,
		"[queue extra]\n[category extra]\nqueue = extra\n"
		"severity.1 = 1h 1d\nseverity.2 = 2h 2d\n"
		"severity.3 = 3h 3d\nseverity.4 = 4h 4d\n", NULL), none);
	assert_non_null(cfg_find_queue(fx->cfg, "extra"));
	assert_non_null(cfg_find_queue(fx->cfg, "general"));
	assert_non_null(cfg_find_category(fx->cfg, "extra"));
	assert_non_null(cfg_find_category(fx->cfg, "general"));
	check_errors(fx, "declared in both", load_with(fx, NULL,
		"[queue general]\n", NULL), twice);
	check_errors(fx, "bad key in conf", load_with(fx, NULL,
		"[queue x]\nbogus = 1\n", NULL), bad_key);
}

static void test_durations(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(durations); i++) {
		int got = -1;
		bool ok = cfg_parse_duration(durations[i].s, &got);
		if (ok != (durations[i].want != 0) ||
		    (ok && got != durations[i].want))
			fail_msg("duration '%s': want %d, got %s %d",
				 durations[i].s, durations[i].want,
				 ok ? "ok" : "refused", got);
	}
	int x;
	assert_false(cfg_parse_duration(NULL, &x));
}

/* ---- reload ---- */

static void test_restart_needed(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };

	check_errors(fx, "old", load_with(fx, NULL, "max_clients = 5\n", NULL),
		     none);
	fx->old = fx->cfg;
	fx->cfg = NULL;
	check_errors(fx, "same", load_with(fx, NULL, "max_clients = 5\n",
					   NULL), none);
	assert_int_equal(config_restart_needed(fx->old, fx->cfg, NULL, NULL),
			 0);

	check_errors(fx, "new", load_with(fx, NULL, "max_clients = 6\n"
		"listen = [::1]:7443\n[database]\npool_size = 8\n", NULL),
		none);
	clear_errs(fx);
	assert_int_equal(config_restart_needed(fx->old, fx->cfg, collect, fx),
			 2);
	assert_int_equal(fx->nerrs, 2);
	assert_string_equal(fx->errs[0], "[server] listen changed: takes "
			    "effect after a restart");
	assert_string_equal(fx->errs[1], "[database] pool_size changed: takes "
			    "effect after a restart");
	config_free(&fx->old);
	assert_null(fx->old);
}

/* ---- the shipped examples ---- */

static bool find_conf(char *out, size_t size)
{
	static const char *const rel[] = { "conf", "../conf", "../../conf" };
	const char *env = getenv("CALLDESK_CONF_DIR");
	const char *srcdir = getenv("srcdir");

	if (env != NULL) {
		snprintf(out, size, "%s/calldeskd.conf", env);
		return access(out, R_OK) == 0;
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ARRAY_LEN(rel); i++) {
			if (pass == 1 && srcdir == NULL)
				break;
			snprintf(out, size, "%s%s%s/calldeskd.conf",
				 pass == 1 ? srcdir : "", pass == 1 ? "/" : "",
				 rel[i]);
			if (access(out, R_OK) == 0)
				return true;
		}
	}
	return false;
}

static void test_examples(void **state)
{
	struct fx *fx = *state;
	static const char *const none[] = { NULL };
	char path[512];

	if (!find_conf(path, sizeof path))
		skip();
	int rc = config_load(path, &fx->cfg, collect, fx);
	check_errors(fx, path, rc, none);
	const struct config *cfg = fx->cfg;
	assert_int_equal(cfg->nlisten, 1);
	assert_string_equal(cfg->listen[0].port, "7443");
	assert_string_equal(cfg->db_conninfo,
			    "host=/var/run/postgresql dbname=calldesk");
	assert_int_equal(cfg->catalog.nqueues, 4);
	assert_int_equal(cfg->catalog.ncategories, 4);
	assert_int_equal(cfg->catalog.ntiers, 5);
	assert_string_equal(cfg_find_category(cfg, "technical")->queue, "tech");
	assert_string_equal(cfg_find_category(cfg, "delivery")->queue,
			    "delivery");
	assert_non_null(cfg_find_dept(cfg, "billing-office"));
	assert_non_null(cfg_find_dept(cfg, "logistics"));
	assert_non_null(cfg_find_dept(cfg, "technical-support"));
}

static void test_free_null(void **state)
{
	struct config *none = NULL;

	(void)state;
	config_free(NULL);
	config_free(&none);
	assert_null(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_listen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conf_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_nul_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_paths, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bare_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules_file_name, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rules_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rules_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rules_in_conf, setup,
						teardown),
		cmocka_unit_test(test_durations),
		cmocka_unit_test_setup_teardown(test_restart_needed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_examples, setup, teardown),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
