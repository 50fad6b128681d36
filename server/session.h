/* session.h: one client connection: TLS bufferevent, framing limits,
 * timers, the identity after LOGIN, and the one request in flight.
 *
 * Requests are taken one at a time in arrival order, so answers go out in
 * request order even when they wait on the database; later lines stay in
 * the input buffer, whose high-water mark pauses reading. A session is
 * never freed inside its own callback chain: it is marked and freed from a
 * deferred event once no request holds it. */
#ifndef CALLDESK_SESSION_H
#define CALLDESK_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/util.h>

#include "codes.h"
#include "config.h"

struct server;
struct request;
struct bufferevent;
struct event;

enum role {
	ROLE_NONE = 0,
	ROLE_INTEGRATION,
	ROLE_AGENT,
	ROLE_SUPERVISOR,
	ROLE_ADMIN,
};

/* "agent" etc.; ROLE_NONE when unknown. */
enum role role_from_name(const char *name);
const char *role_name(enum role role);

struct session {
	TAILQ_ENTRY(session) link;
	struct server *srv;
	uint64_t id;
	struct bufferevent *bev;
	char peer[64];                /* address:port */
	bool handshaken;
	bool over_limit;              /* beyond max_clients: BYE at once */
	bool closing;                 /* BYE sent, draining output */
	bool dead;                    /* connection gone */
	bool freeing;
	int refs;                     /* the connection + a request in flight */
	struct event *timer;          /* login deadline, then idle deadline */
	struct event *kick;           /* resumes reading on the next turn */
	struct event *reaper;         /* frees the session on the next turn */
	struct request *cur;          /* the request in flight, or NULL */
	size_t strict_bytes;          /* input that arrived before the LOGIN
					 answer: framed with max_line_login */

	/* identity, after LOGIN */
	bool logged_in;
	int64_t uid;
	char user[CFG_NAME_MAX + 1];
	enum role role;
	int tier;
	char skills[512];
	char team[CFG_NAME_MAX + 1];
	char dept[CFG_NAME_MAX + 1];
	bool watching;
	char watch_queues[512];       /* "" = every queue */
	bool login_pending;           /* a LOGIN is being verified */
	bool registered;              /* counted in presence */
};

/* Takes a freshly accepted socket. Returns false (and closes fd) when the
 * session cannot be created. */
bool session_accept(struct server *srv, evutil_socket_t fd,
		    const struct sockaddr *addr, int addrlen)
	__attribute__((warn_unused_result));

/* Called by commands when the request in flight has its whole answer in
 * rq's output. Writes it, releases the request and reads on. */
void session_request_done(struct session *s, struct request *rq);

/* Sends "* BYE code=CODE msg=..." and closes once it is written. */
void session_bye(struct session *s, enum cd_code code, const char *msg);

/* Queues a line (with its LF) outside any request (pushed events). */
void session_push(struct session *s, const char *line, size_t len);

/* Undoes cd_session_start for this connection, once, if it was
 * registered (the connection ended, or it ended during its LOGIN). */
void session_unregister(struct session *s);

/* Re-arms the idle (or login) deadline. */
void session_touch(struct session *s);

/* A change to a user's account (USER SET), as applied to the live
 * sessions of that user. NULL members are left as they are. */
struct user_change {
	const char *user;
	const char *tier;
	const char *skills;
	const char *team;
	const char *dept;
	bool disabled;
};

/* Applies ch to every logged-in session of ch->user on this node; a
 * disabled user's sessions end with BYE disabled, except `keep`, which the
 * caller ends itself after its answer. Returns true when keep is one of
 * that user's sessions. */
bool sessions_user_changed(struct server *srv, const struct user_change *ch,
			   const struct session *keep);

/* Frees a session that has no request in flight. For server shutdown. */
void session_destroy_all(struct server *srv);

#endif
