/* main.c: calldesk, the console client. Options, the password, and the
 * choice of mode (OPERATIONS.md): one request (-e), a script on standard
 * input, the interactive prompt, or the supervisor board (--watch). Exit
 * 0 on OK, 1 on NO/BAD, 2 on ERR, a failed login or no connection; the
 * worst one for several requests. */
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "board.h"
#include "repl.h"
#include "report.h"
#include "run.h"
#include "session.h"
#include "tty.h"

#ifndef CALLDESK_VERSION
#define CALLDESK_VERSION "0.1.0"
#endif

#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_PORT "7443"
#define CONNECT_TIMEOUT_MS 10000
#define SCRIPT_REPLY_TIMEOUT_MS 300000
/* The board redraws while it waits for nothing else: an answer that takes
 * longer than this is treated as a lost connection (and retried). */
#define BOARD_REPLY_TIMEOUT_MS 30000
#define MAX_EXEC 64
#define LOGIN_TRIES 3

enum mode { MODE_INTERACTIVE, MODE_EXEC, MODE_SCRIPT, MODE_WATCH };

struct options {
	struct conn_params conn;
	const char *user;
	const char *exec[MAX_EXEC];
	size_t nexec;
	bool raw;
	bool watch;
};

static void usage(FILE *f)
{
	fputs("Usage: calldesk [-h HOST] [-p PORT] [--ca FILE] "
	      "[--cert FILE --key FILE] -u USER\n"
	      "                [-e 'VERB ...'] [--raw] [--watch]\n"
	      "\n"
	      "  -h, --host HOST   server (default " DEFAULT_HOST ")\n"
	      "  -p, --port PORT   port (default " DEFAULT_PORT ")\n"
	      "      --ca FILE     CA that signed the server's certificate "
	      "(default $CALLDESK_CA)\n"
	      "      --cert FILE   client certificate, for mutual TLS\n"
	      "      --key FILE    its private key\n"
	      "  -u, --user USER   user name (default $CALLDESK_USER)\n"
	      "  -e, --execute REQ run one request (without tag) and exit\n"
	      "      --raw         print the protocol lines as received\n"
	      "      --watch       supervisor board\n"
	      "      --help        this help\n"
	      "      --version     the version\n"
	      "\n"
	      "Without -e, requests are read from standard input, one a "
	      "line, or typed at a\nprompt when it is a terminal. The "
	      "password comes from $CALLDESK_PASSWORD or is\nasked for. "
	      "Exit status: 0 OK, 1 NO or BAD, 2 ERR, failed login or no "
	      "connection.\n", f);
}

/* Parses argv; returns -1 to go on, otherwise the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_CA = 256, OPT_CERT, OPT_KEY, OPT_RAW, OPT_WATCH, OPT_HELP,
	       OPT_VERSION };
	static const struct option longopts[] = {
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"user", required_argument, NULL, 'u'},
		{"execute", required_argument, NULL, 'e'},
		{"ca", required_argument, NULL, OPT_CA},
		{"cert", required_argument, NULL, OPT_CERT},
		{"key", required_argument, NULL, OPT_KEY},
		{"raw", no_argument, NULL, OPT_RAW},
		{"watch", no_argument, NULL, OPT_WATCH},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	int c;

	o->conn.host = DEFAULT_HOST;
	o->conn.port = DEFAULT_PORT;
	o->conn.connect_timeout_ms = CONNECT_TIMEOUT_MS;
	o->conn.ca = getenv("CALLDESK_CA");
	if (o->conn.ca != NULL && o->conn.ca[0] == '\0')
		o->conn.ca = NULL;
	o->user = getenv("CALLDESK_USER");

	while ((c = getopt_long(argc, argv, "h:p:u:e:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': o->conn.host = optarg; break;
		case 'p': o->conn.port = optarg; break;
		case 'u': o->user = optarg; break;
		case 'e':
			if (o->nexec == MAX_EXEC) {
				fprintf(stderr, "calldesk: too many -e\n");
				return RUN_FAILED;
			}
			o->exec[o->nexec++] = optarg;
			break;
		case OPT_CA: o->conn.ca = optarg; break;
		case OPT_CERT: o->conn.cert = optarg; break;
		case OPT_KEY: o->conn.key = optarg; break;
		case OPT_RAW: o->raw = true; break;
		case OPT_WATCH: o->watch = true; break;
		case OPT_HELP:
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("calldesk %s\n", CALLDESK_VERSION);
			return 0;
		default:
			usage(stderr);
			return RUN_FAILED;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "calldesk: unexpected argument \"%s\" (quote "
				"the request given to -e)\n", argv[optind]);
		return RUN_FAILED;
	}
	if (o->conn.key != NULL && o->conn.cert == NULL) {
		fprintf(stderr, "calldesk: --key needs --cert\n");
		return RUN_FAILED;
	}
	return -1;
}

static bool no_color(void)
{
	const char *v = getenv("NO_COLOR");

	return v != NULL && v[0] != '\0';
}

/* Standard input, one request a line; blank lines and lines starting
 * with '#' are skipped. The report words (stats, export) work here too. */
static enum run_code run_script(struct runner *r)
{
	enum run_code worst = RUN_OK;
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, stdin) != -1) {
		const char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
			continue;
		enum run_code code = report_run_line(r, p);
		if (code > worst)
			worst = code;
		if (r->no_connection) {
			fprintf(stderr, "calldesk: stopping the script: no "
					"connection\n");
			break;
		}
	}
	free(line);
	return worst;
}

/* Connects and logs in; at a terminal a refused password is asked for
 * again. *password may be replaced (and is then owned, in *owned). */
static bool first_login(struct session *s, enum mode mode,
			char **owned)
{
	for (int tries = 1;; tries++) {
		if (session_connect(s) == SESSION_DONE)
			return true;
		fprintf(stderr, "calldesk: %s\n", s->error);
		if (mode != MODE_INTERACTIVE || !s->login_refused ||
		    strcmp(s->login_code, "auth-failed") != 0 ||
		    tries == LOGIN_TRIES)
			return false;
		char *again = tty_read_secret("Password: ");
		if (again == NULL)
			return false;
		if (*owned != NULL) {
			OPENSSL_cleanse(*owned, strlen(*owned));
			free(*owned);
		}
		*owned = again;
		s->p.password = again;
		s->login_refused = false;
	}
}

int main(int argc, char **argv)
{
	struct options o = {0};
	int rc = parse_options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	setlocale(LC_CTYPE, "");
	/* A write to a closed connection must fail, not kill us. */
	signal(SIGPIPE, SIG_IGN);

	enum mode mode = o.watch ? MODE_WATCH : o.nexec > 0 ? MODE_EXEC :
			 isatty(STDIN_FILENO) ? MODE_INTERACTIVE : MODE_SCRIPT;
	if (mode == MODE_WATCH && (o.nexec > 0 || o.raw)) {
		fprintf(stderr, "calldesk: --watch takes neither -e nor --raw\n");
		return RUN_FAILED;
	}

	char *owned_user = NULL, *owned_password = NULL;
	if (o.user == NULL || o.user[0] == '\0') {
		if (mode == MODE_INTERACTIVE)
			o.user = owned_user = tty_read_line("User: ");
		if (o.user == NULL || o.user[0] == '\0') {
			fprintf(stderr, "calldesk: no user: give -u USER or set "
					"CALLDESK_USER\n");
			free(owned_user);
			return RUN_FAILED;
		}
	}
	const char *password = getenv("CALLDESK_PASSWORD");
	if (password == NULL) {
		char prompt[128];
		snprintf(prompt, sizeof prompt, "Password for %s: ", o.user);
		password = owned_password = tty_read_secret(prompt);
		if (password == NULL) {
			fprintf(stderr, "calldesk: no password: set "
					"CALLDESK_PASSWORD or run on a terminal\n");
			free(owned_user);
			return RUN_FAILED;
		}
	}

	struct session s;
	struct runner r;
	struct session_params sp = {
		.conn = o.conn,
		.user = o.user,
		.password = password,
		.track_state = mode == MODE_INTERACTIVE,
		.reply_timeout_ms = mode == MODE_INTERACTIVE ? -1 :
				    mode == MODE_WATCH ? BOARD_REPLY_TIMEOUT_MS :
				    SCRIPT_REPLY_TIMEOUT_MS,
		.on_push = run_push,
		.push_ctx = &r,
		.interrupt = mode == MODE_INTERACTIVE ? repl_interrupt_flag() :
			     mode == MODE_WATCH ? board_interrupt_flag() : NULL,
	};
	enum run_code worst = RUN_FAILED;
	bool ready = session_init(&s, &sp);
	runner_init(&r, &s, o.raw, mode == MODE_INTERACTIVE);
	r.ropts.color = isatty(STDOUT_FILENO) && !no_color();
	r.ropts.max_cell = isatty(STDOUT_FILENO) ? 40 : 0;
	r.ropts.currency = s.currency;   /* filled by the LOGIN answer */
	if (!ready)
		fprintf(stderr, "calldesk: %s\n", s.error);
	else if (first_login(&s, mode, &owned_password)) {
		switch (mode) {
		case MODE_EXEC:
			worst = RUN_OK;
			for (size_t i = 0; i < o.nexec; i++) {
				enum run_code code = report_run_line(&r,
								     o.exec[i]);
				if (code > worst)
					worst = code;
			}
			break;
		case MODE_SCRIPT:
			worst = run_script(&r);
			break;
		case MODE_INTERACTIVE:
			worst = repl_run(&r);
			break;
		case MODE_WATCH: {
			char where[300];
			snprintf(where, sizeof where, "%s:%s", o.conn.host,
				 o.conn.port);
			struct board_opts bo = {.color = !no_color(),
						.where = where};
			worst = board_run(&s, &bo);
			break;
		}
		}
	}

	runner_free(&r);
	session_free(&s);
	if (owned_password != NULL) {
		OPENSSL_cleanse(owned_password, strlen(owned_password));
		free(owned_password);
	}
	free(owned_user);
	return (int)worst;
}
