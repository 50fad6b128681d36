/* bench.h: the shared state of calldesk-bench, the load generator.
 *
 * One process, one libevent loop, N TLS connections. The run goes through
 * phases (calldesk-bench.c): set-up (connect, log in, create what the workload
 * needs), an optional warm-up, the measurement, and a drain that waits for
 * the answers still owed. Each connection (conn.c) keeps up to `depth`
 * requests in flight; answers come back in order, so a ring of send times
 * indexed by the request number is all the bookkeeping a request needs.
 *
 * The fanout workload is different: opt.conns watchers send nothing after
 * their WATCH, and one more connection, the driver, changes its agent
 * state opt.toggles times, one request at a time; each watcher matches the
 * driver's agent events to the changes, in order (conn.c). */
#ifndef CALLDESK_BENCH_H
#define CALLDESK_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "hist.h"

#define BENCH_MAX_CONNS 100000
#define BENCH_MAX_DEPTH 4096
#define BENCH_MAX_NOTE 1048576
#define BENCH_MAX_USERS 1024
/* Longest answer line kept: only the first tokens matter. */
#define BENCH_SCRATCH 4096
/* Bytes buffered without a line end before the server is called broken. */
#define BENCH_MAX_PENDING (4u << 20)
/* Distinct answer codes counted; the rest go into the last slot. */
#define BENCH_MAX_CODES 16

enum workload { WL_PING, WL_NOTE, WL_REQUEST, WL_ADVISE, WL_NEXT, WL_FANOUT };

/* What the command line says (options.c). Strings point into argv or into
 * `users_buf`; nothing here changes after parsing. */
struct options {
	const char *host, *port, *servername;
	const char *ca, *cert, *key;
	enum workload workload;
	const char *workload_name;
	const char *request;            /* WL_REQUEST: "VERB ..." after the tag */
	const char *password;
	char *users_buf;                /* owned: the --users copy, cut at commas */
	const char *users[BENCH_MAX_USERS];
	unsigned nusers;
	unsigned conns, depth;
	size_t note_size;
	uint64_t requests;              /* 0: no count limit */
	double seconds, warmup, setup_timeout, drain_timeout;
	unsigned connect_burst;         /* handshakes in progress at once */
	bool idem;                      /* add idem=KEY to every measured request */
	const char *advise_args;        /* WL_ADVISE: what follows complaint=ID */
	const char *driver;             /* WL_FANOUT: the agent whose state changes */
	unsigned toggles;               /* WL_FANOUT: state changes to make */
	unsigned interval_ms;           /* WL_FANOUT: pause after each answer */
};

enum phase { PH_SETUP, PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_DONE };

/* Final answers to measured requests, and what went wrong elsewhere. */
struct counters {
	uint64_t ok, no, bad, err;
	uint64_t rows;
	uint64_t unanswered;    /* in flight when their connection closed or the drain ended */
	unsigned setup_failed;  /* connections that never became ready */
	unsigned lost;          /* ready connections closed during the run */
	unsigned byes;          /* "* BYE" pushes received */
	unsigned protocol;      /* answers that broke the protocol */
};

struct code_count {
	char name[48];          /* "ERR db-unavailable", "setup NO auth-failed" */
	uint64_t n;
};

struct conn;

struct bench {
	struct options opt;
	struct event_base *base;
	SSL_CTX *ssl_ctx;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool host_is_ip;
	const char *verify_name;        /* the name or address the certificate must show */

	struct conn *conns;             /* nconns of them */
	unsigned nconns;                /* opt.conns, and the fanout driver */
	uint64_t *sent_at;              /* nconns * opt.depth send times (ns) */
	unsigned next_connect;          /* the next connection to start */
	bool starting;                  /* inside conns_connect_more */
	unsigned connecting;            /* handshakes in progress */
	unsigned settled;               /* ready or failed during set-up */
	unsigned ready;                 /* ready for the run (or running) */
	unsigned open;                  /* not closed */

	enum phase phase;
	uint64_t inflight;              /* requests sent and not answered, all connections */
	uint64_t sent_measured;         /* requests sent since the measurement began */
	uint64_t t_measure;             /* measurement start; UINT64_MAX before */
	uint64_t t_stop;                /* when sending stopped */
	uint64_t t_last;                /* the last measured final answer */
	struct event *timer;            /* ends the current phase */
	struct event *sigint, *sigterm;
	unsigned interrupts;
	int signal;                     /* the last one received, re-raised at exit */

	char *note_text;                /* WL_NOTE: opt.note_size bytes, owned */

	/* WL_ADVISE: the decisions answered (measured OKs). */
	uint64_t allow, escalate, deny;

	/* WL_NEXT: every complaint answered OK, in any phase (ids, owned),
	 * the NO empty answers, and connections told empty with nothing in
	 * flight: they send no more. */
	uint64_t *taken;
	size_t ntaken, taken_cap;
	uint64_t empty;
	unsigned exhausted;

	/* WL_FANOUT */
	uint64_t *toggle_at;            /* opt.toggles send times (ns), owned */
	unsigned toggles_sent;
	unsigned watching;              /* watchers running when the changes began */
	bool driver_ready;              /* the driver is running */
	struct event *toggle_timer;     /* the pause between two changes */
	struct hist hist_req;           /* the driver's answers, ns */
	uint64_t ev_matched;            /* (watcher, change) pairs delivered */
	uint64_t ev_stray;              /* driver events matching no change */
	uint64_t t_first_event, t_last_event;
	char run_id[16];                /* --idem: keys are RUN.CONN.SEQ */
	struct hist hist;               /* latency of OK answers, ns */
	struct counters c;
	struct code_count codes[BENCH_MAX_CODES];
	unsigned ncodes;
	unsigned complaints;            /* error messages printed so far */
	char scratch[BENCH_SCRATCH];    /* the answer line being read */
};

/* options.c: fills *o from argv; on a usage error prints why and returns
 * false. options_free releases users_buf. */
bool options_parse(struct options *o, int argc, char **argv)
	__attribute__((warn_unused_result));
void options_free(struct options *o);

/* calldesk-bench.c: phase changes, called by the connections. */
uint64_t now_ns(void);
/* A connection finished its set-up, or failed before the run: maybe start. */
void bench_settled(struct bench *b);
/* A connection closed during the run: maybe nothing is left to wait for. */
void bench_conn_gone(struct bench *b);
/* An answer came: maybe the drain is over, or the request count reached. */
void bench_answered(struct bench *b);
/* May another request be sent now? Counts it when so. */
bool bench_may_send(struct bench *b);
/* next: a connection was told the queues are empty and has nothing in
 * flight; when all are, the run is over. */
void bench_exhausted(struct bench *b);
/* fanout: the driver's change was answered; the next one after the pause. */
void bench_toggled(struct bench *b);
/* Counts an answer code under `name` ("NO auth-failed"). */
void bench_count_code(struct bench *b, const char *cls, const char *code, bool setup);
/* Prints a message about connection i to stderr, the first few times only. */
void bench_complain(struct bench *b, unsigned i, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* conn.c */
bool conns_init(struct bench *b) __attribute__((warn_unused_result));
/* Starts connections until opt.connect_burst handshakes are in progress. */
void conns_connect_more(struct bench *b);
/* Starts sending on every ready connection. */
void conns_start(struct bench *b, uint64_t now);
/* Closes the connections that are not ready (at the set-up deadline). */
void conns_drop_unready(struct bench *b);
/* Closes and frees every connection. */
void conns_free(struct bench *b);
/* fanout: the driver sends the next state change. */
void conns_toggle(struct bench *b, uint64_t now);
/* fanout: has every running watcher seen every change sent? */
bool conns_caught_up(const struct bench *b);
/* fanout: the state the driver asks for in change number k (0-based). */
const char *toggle_state(unsigned k);

#endif
