/* codes.h: every result code of the protocol (PROTOCOL.md §12), with its
 * class and its wire name, in one table (codes.c). */
#ifndef CALLDESK_CODES_H
#define CALLDESK_CODES_H

enum cd_class {
	CD_CLASS_OK,
	CD_CLASS_NO,
	CD_CLASS_BAD,
	CD_CLASS_ERR,
	CD_CLASS_BYE,
	CD_CLASS_INTERNAL, /* never on the wire (CD_EMPTY) */
};

enum cd_code {
	CD_OK = 0,
	CD_EMPTY,
	/* NO */
	CD_AUTH_REQUIRED,
	CD_AUTH_FAILED,
	CD_TOO_MANY_ATTEMPTS,
	CD_FORBIDDEN,
	CD_NOT_FOUND,
	CD_EXISTS,
	CD_INVALID_STATE,
	CD_DENIED,
	CD_FOUR_EYES,
	CD_NO_REPLY,
	CD_OPEN_HANDOFF,
	CD_EMPTY_QUEUE,      /* wire: empty */
	CD_AT_CAPACITY,
	CD_IDEM_CONFLICT,
	CD_INVALID_CONFIG,
	/* BAD */
	CD_UNKNOWN_VERB,
	CD_BAD_ARG,
	CD_MISSING_ARG,
	CD_BAD_ENCODING,
	/* ERR */
	CD_DB_UNAVAILABLE,
	CD_OVERLOADED,
	CD_OUTCOME_UNKNOWN,
	CD_INTERNAL,
	/* BYE */
	CD_BYE_LINE_TOO_LONG,
	CD_BYE_LOGOUT,
	CD_BYE_IDLE,
	CD_BYE_LOGIN_TIMEOUT,
	CD_BYE_SHUTDOWN,
	CD_BYE_OVERLOADED,
	CD_BYE_DISABLED,
	CD_CODE_COUNT
};

/* Class of a code. */
enum cd_class cd_code_class(enum cd_code code);
/* Wire name ("not-found"); "" for CD_OK and CD_EMPTY. */
const char *cd_code_name(enum cd_code code);
/* Class word on the wire: "OK", "NO", "BAD", "ERR", "BYE". */
const char *cd_class_word(enum cd_class cls);
/* Code from its wire name and class word, CD_CODE_COUNT when unknown. */
enum cd_code cd_code_lookup(const char *class_word, const char *name);

#endif
