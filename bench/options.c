/* options.c: calldesk-bench's command line: parsing, ranges, defaults. */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: calldesk-bench --ca FILE [options]\n"
	"\n"
	"Opens N TLS connections to calldeskd, logs each in, keeps D requests in\n"
	"flight on each, and reports requests/s and latency percentiles.\n"
	"\n"
	"  -H, --host HOST         server address (default 127.0.0.1)\n"
	"  -p, --port PORT         server port (default 7443)\n"
	"      --ca FILE           CA that signed the server certificate (required)\n"
	"      --servername NAME   name the certificate must carry (default: HOST)\n"
	"      --cert FILE --key FILE   client certificate, for mutual TLS\n"
	"  -c, --conns N           connections (default 50)\n"
	"  -d, --depth D           requests in flight per connection (default 4)\n"
	"  -s, --seconds S         measure for S seconds (default 10; with --requests\n"
	"                          or fanout, 600: a bound, the count ends the run)\n"
	"  -n, --requests R        stop after R measured requests\n"
	"      --warmup S          send for S seconds before measuring (default 0)\n"
	"  -w, --workload W        ping | note | advise | next | fanout | request\n"
	"                          (default ping)\n"
	"  -r, --request 'VERB ..' what each request says after its tag (implies\n"
	"                          --workload request)\n"
	"      --note-size B       note workload: bytes of note text (default 256)\n"
	"      --idem              add a fresh idem=KEY to every request (PROTOCOL\n"
	"                          section 4: writes take the idempotent path)\n"
	"      --advise 'K=V ..'   advise workload: what follows complaint=ID\n"
	"                          (default 'action=refund amount=10.00')\n"
	"      --driver USER       fanout: the agent whose state changes (same password)\n"
	"      --toggles N         fanout: state changes to make (default 500)\n"
	"      --interval MS       fanout: pause after each change's answer (default 10)\n"
	"  -u, --users a,b,...     log in; connection i uses user i modulo the list\n"
	"      --password P        their password (default: $CALLDESK_BENCH_PASSWORD)\n"
	"      --setup-timeout S   seconds to connect and log in (default 30)\n"
	"      --drain-timeout S   seconds to wait for the last answers (default 10)\n"
	"      --connect-burst N   handshakes in progress at once (default 64)\n"
	"  -h, --help\n"
	"\n"
	"Workloads: ping sends `tN PING`; note adds a customer and starts an\n"
	"interaction once per connection, then sends `tN INTERACTION NOTE id=ID\n"
	"text=\"...\"` (a committed write); advise finds a complaint assigned to\n"
	"the user (COMPLAINT LIST), then sends `tN ADVISE complaint=ID ...`; next\n"
	"sets the user ready, then sends `tN NEXT` until the queues are empty and\n"
	"checks that no complaint came twice; fanout has --conns watchers (WATCH)\n"
	"and one driver connection that changes its state --toggles times, and\n"
	"measures from each change sent to its event at each watcher; request\n"
	"sends `tN VERB ...`.\n"
	"Prints one human line and one `RESULT key=value ...` line. Exit status:\n"
	"0 when requests completed with OK, 1 when none did, 2 on a usage error.\n";

enum {
	OPT_CA = 256, OPT_CERT, OPT_KEY, OPT_SERVERNAME, OPT_NOTE_SIZE,
	OPT_PASSWORD, OPT_WARMUP, OPT_SETUP_TIMEOUT, OPT_DRAIN_TIMEOUT,
	OPT_CONNECT_BURST, OPT_IDEM, OPT_ADVISE, OPT_DRIVER, OPT_TOGGLES, OPT_INTERVAL,
};

static const struct option long_options[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "port", required_argument, NULL, 'p' },
	{ "ca", required_argument, NULL, OPT_CA },
	{ "cert", required_argument, NULL, OPT_CERT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "servername", required_argument, NULL, OPT_SERVERNAME },
	{ "conns", required_argument, NULL, 'c' },
	{ "depth", required_argument, NULL, 'd' },
	{ "seconds", required_argument, NULL, 's' },
	{ "requests", required_argument, NULL, 'n' },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "workload", required_argument, NULL, 'w' },
	{ "request", required_argument, NULL, 'r' },
	{ "note-size", required_argument, NULL, OPT_NOTE_SIZE },
	{ "users", required_argument, NULL, 'u' },
	{ "password", required_argument, NULL, OPT_PASSWORD },
	{ "setup-timeout", required_argument, NULL, OPT_SETUP_TIMEOUT },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT },
	{ "connect-burst", required_argument, NULL, OPT_CONNECT_BURST },
	{ "idem", no_argument, NULL, OPT_IDEM },
	{ "advise", required_argument, NULL, OPT_ADVISE },
	{ "driver", required_argument, NULL, OPT_DRIVER },
	{ "toggles", required_argument, NULL, OPT_TOGGLES },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static bool parse_u64(const char *name, const char *s, uint64_t min, uint64_t max,
	uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s[0] == '-' || s[0] == '\0')
		goto bad;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return true;
bad:
	fprintf(stderr, "calldesk-bench: --%s wants an integer from %llu to %llu, not '%s'\n",
		name, (unsigned long long)min, (unsigned long long)max, s);
	return false;
}

static bool parse_unsigned(const char *name, const char *s, unsigned min, unsigned max,
	unsigned *out)
{
	uint64_t v;

	if (!parse_u64(name, s, min, max, &v))
		return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_seconds(const char *name, const char *s, double min, double max,
	double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < min || v > max) {
		fprintf(stderr, "calldesk-bench: --%s wants seconds from %g to %g, not '%s'\n",
			name, min, max, s);
		return false;
	}
	*out = v;
	return true;
}

/* A user name as PROTOCOL §3 writes it: [a-z0-9][a-z0-9._-]{0,31}. */
static bool valid_user(const char *u)
{
	size_t i, n = strlen(u);

	if (n < 1 || n > 32)
		return false;
	for (i = 0; i < n; i++) {
		char ch = u[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
		if (!alnum && (i == 0 || (ch != '.' && ch != '_' && ch != '-')))
			return false;
	}
	return true;
}

static bool parse_users(struct options *o, const char *list)
{
	char *p, *save = NULL, *tok;

	free(o->users_buf);
	o->users_buf = strdup(list);
	if (o->users_buf == NULL) {
		perror("calldesk-bench");
		return false;
	}
	o->nusers = 0;
	for (p = o->users_buf; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		if (!valid_user(tok)) {
			fprintf(stderr, "calldesk-bench: '%s' is not a user name\n", tok);
			return false;
		}
		if (o->nusers == BENCH_MAX_USERS) {
			fprintf(stderr, "calldesk-bench: at most %d users\n", BENCH_MAX_USERS);
			return false;
		}
		o->users[o->nusers++] = tok;
	}
	if (o->nusers == 0) {
		fprintf(stderr, "calldesk-bench: --users is empty\n");
		return false;
	}
	return true;
}

/* Nothing that would break the line: no control character. */
static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool set_workload(struct options *o, const char *w)
{
	if (strcmp(w, "ping") == 0)
		o->workload = WL_PING;
	else if (strcmp(w, "note") == 0)
		o->workload = WL_NOTE;
	else if (strcmp(w, "request") == 0)
		o->workload = WL_REQUEST;
	else if (strcmp(w, "advise") == 0)
		o->workload = WL_ADVISE;
	else if (strcmp(w, "next") == 0)
		o->workload = WL_NEXT;
	else if (strcmp(w, "fanout") == 0)
		o->workload = WL_FANOUT;
	else {
		fprintf(stderr, "calldesk-bench: unknown workload '%s'"
			" (ping, note, advise, next, fanout, request)\n", w);
		return false;
	}
	o->workload_name = w;
	return true;
}

static bool check(struct options *o, bool seconds_given, bool workload_given)
{
	if (o->ca == NULL) {
		fprintf(stderr, "calldesk-bench: --ca is required (the server is always verified)\n");
		return false;
	}
	if ((o->cert == NULL) != (o->key == NULL)) {
		fprintf(stderr, "calldesk-bench: --cert and --key go together\n");
		return false;
	}
	if (o->request != NULL && !workload_given)
		o->workload = WL_REQUEST, o->workload_name = "request";
	if (o->workload == WL_REQUEST && o->request == NULL) {
		fprintf(stderr, "calldesk-bench: the request workload needs --request 'VERB ...'\n");
		return false;
	}
	if (o->workload != WL_REQUEST && o->request != NULL) {
		fprintf(stderr, "calldesk-bench: --request goes with --workload request\n");
		return false;
	}
	if (o->request != NULL && (o->request[0] == '\0' || !printable(o->request) ||
		strlen(o->request) > 65536)) {
		fprintf(stderr, "calldesk-bench: --request must be one line of printable text\n");
		return false;
	}
	if (o->workload != WL_PING && o->workload != WL_REQUEST && o->nusers == 0) {
		fprintf(stderr, "calldesk-bench: the %s workload needs --users (and a password)\n",
			o->workload_name);
		return false;
	}
	if (o->advise_args != NULL && (o->workload != WL_ADVISE ||
		o->advise_args[0] == '\0' || !printable(o->advise_args) ||
		strlen(o->advise_args) > 1024)) {
		fprintf(stderr, "calldesk-bench: --advise goes with --workload advise, one line of"
			" printable text\n");
		return false;
	}
	if (o->advise_args == NULL)
		o->advise_args = "action=refund amount=10.00";
	if ((o->workload == WL_FANOUT) != (o->driver != NULL)) {
		fprintf(stderr, "calldesk-bench: the fanout workload needs --driver USER,"
			" and only it\n");
		return false;
	}
	if (o->workload == WL_FANOUT && o->idem) {
		fprintf(stderr, "calldesk-bench: --idem does not go with the fanout workload\n");
		return false;
	}
	if (o->nusers > 0) {
		if (o->password == NULL)
			o->password = getenv("CALLDESK_BENCH_PASSWORD");
		if (o->password == NULL) {
			fprintf(stderr, "calldesk-bench: --users needs --password or $CALLDESK_BENCH_PASSWORD\n");
			return false;
		}
		if (!printable(o->password) || strlen(o->password) > 512) {
			fprintf(stderr, "calldesk-bench: the password must be printable, at most 512 bytes\n");
			return false;
		}
	}
	if ((uint64_t)o->conns * o->depth > 16u << 20) {
		fprintf(stderr, "calldesk-bench: conns x depth is at most %u\n", 16u << 20);
		return false;
	}
	if (!seconds_given && (o->requests > 0 || o->workload == WL_FANOUT))
		o->seconds = 600;
	return true;
}

bool options_parse(struct options *o, int argc, char **argv)
{
	bool seconds_given = false, workload_given = false;
	uint64_t v;
	int ch;

	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->port = "7443";
	o->workload = WL_PING;
	o->workload_name = "ping";
	o->conns = 50;
	o->depth = 4;
	o->note_size = 256;
	o->seconds = 10;
	o->setup_timeout = 30;
	o->drain_timeout = 10;
	o->connect_burst = 64;
	o->toggles = 500;
	o->interval_ms = 10;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "H:p:c:d:s:n:w:r:u:h", long_options, NULL)) != -1) {
		switch (ch) {
		case 'H': o->host = optarg; break;
		case 'p':
			if (!parse_u64("port", optarg, 1, 65535, &v))
				return false;
			o->port = optarg;
			break;
		case OPT_CA: o->ca = optarg; break;
		case OPT_CERT: o->cert = optarg; break;
		case OPT_KEY: o->key = optarg; break;
		case OPT_SERVERNAME: o->servername = optarg; break;
		case 'c':
			if (!parse_unsigned("conns", optarg, 1, BENCH_MAX_CONNS, &o->conns))
				return false;
			break;
		case 'd':
			if (!parse_unsigned("depth", optarg, 1, BENCH_MAX_DEPTH, &o->depth))
				return false;
			break;
		case 's':
			if (!parse_seconds("seconds", optarg, 0.1, 86400, &o->seconds))
				return false;
			seconds_given = true;
			break;
		case 'n':
			if (!parse_u64("requests", optarg, 1, UINT64_C(1) << 48, &o->requests))
				return false;
			break;
		case OPT_WARMUP:
			if (!parse_seconds("warmup", optarg, 0, 3600, &o->warmup))
				return false;
			break;
		case 'w':
			if (!set_workload(o, optarg))
				return false;
			workload_given = true;
			break;
		case 'r': o->request = optarg; break;
		case OPT_NOTE_SIZE:
			if (!parse_u64("note-size", optarg, 1, BENCH_MAX_NOTE, &v))
				return false;
			o->note_size = (size_t)v;
			break;
		case 'u':
			if (!parse_users(o, optarg))
				return false;
			break;
		case OPT_PASSWORD: o->password = optarg; break;
		case OPT_SETUP_TIMEOUT:
			if (!parse_seconds("setup-timeout", optarg, 0.1, 3600, &o->setup_timeout))
				return false;
			break;
		case OPT_DRAIN_TIMEOUT:
			if (!parse_seconds("drain-timeout", optarg, 0.1, 3600, &o->drain_timeout))
				return false;
			break;
		case OPT_CONNECT_BURST:
			if (!parse_unsigned("connect-burst", optarg, 1, 10000, &o->connect_burst))
				return false;
			break;
		case OPT_IDEM: o->idem = true; break;
		case OPT_ADVISE: o->advise_args = optarg; break;
		case OPT_DRIVER:
			if (!valid_user(optarg)) {
				fprintf(stderr, "calldesk-bench: '%s' is not a user name\n", optarg);
				return false;
			}
			o->driver = optarg;
			break;
		case OPT_TOGGLES:
			if (!parse_unsigned("toggles", optarg, 1, 1000000, &o->toggles))
				return false;
			break;
		case OPT_INTERVAL:
			if (!parse_unsigned("interval", optarg, 0, 10000, &o->interval_ms))
				return false;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			return false;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "calldesk-bench: unexpected argument '%s'\n", argv[optind]);
		return false;
	}
	return check(o, seconds_given, workload_given);
}

void options_free(struct options *o)
{
	free(o->users_buf);
	o->users_buf = NULL;
	o->nusers = 0;
}
