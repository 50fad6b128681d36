/* request.h: turning a line typed by a person or a script (without tag)
 * into the body of a request, adding an idempotency key to the requests
 * that change something (PROTOCOL.md §4). Pure code. */
#ifndef CALLDESK_CLIENT_REQUEST_H
#define CALLDESK_CLIENT_REQUEST_H

#include <stdbool.h>

#include "proto.h"

#define REQ_IDEM_KEY_LEN 16

struct req_prepared {
	struct sbuf body;       /* "VERB ... idem=KEY": no tag, no LF; owned */
	char verb[PROTO_WORD_MAX + 1];     /* upper case; "" when unparsed */
	char subverb[PROTO_WORD_MAX + 1];
	bool parsed;            /* false: the line did not parse and goes as
				 * typed, for the server to answer BAD */
	bool has_idem;          /* the body carries an idem key */
};

/* Prepares line (a trailing CR/LF is ignored). idem_key is added as
 * idem=KEY when the verb changes something and the line has no idem key
 * of its own; NULL adds none. Returns false when the line is empty (only
 * spaces): nothing to send. Call req_prepared_free() in every case. */
bool req_prepare(const char *line, const char *idem_key,
		 struct req_prepared *out)
	__attribute__((warn_unused_result));

void req_prepared_free(struct req_prepared *r);

/* Writes REQ_IDEM_KEY_LEN lower-case hex characters and a NUL for the
 * given random bytes (REQ_IDEM_KEY_LEN / 2 of them). */
void req_idem_hex(const unsigned char *bytes, char out[REQ_IDEM_KEY_LEN + 1]);

/* True when the line carries a secret (LOGIN, PASSWORD, a password=
 * key): such lines are kept out of the history file. */
bool req_is_secret(const char *line);

#endif
