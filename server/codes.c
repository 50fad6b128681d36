/* codes.c: the one table of result codes (PROTOCOL.md §12): for each code
 * its class and the name sent on the wire. Everything else about a code
 * (how it is written, how a client reads it back) derives from here. */
#include "codes.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct cd_code_info {
	enum cd_class cls;
	const char *name;
};

/* Indexed by enum cd_code, so the order of the enum cannot drift from
 * the table; a code left out would have a NULL name, which the unit test
 * catches. */
static const struct cd_code_info cd_codes[CD_CODE_COUNT] = {
	[CD_OK]                = { CD_CLASS_OK,       "" },
	[CD_EMPTY]             = { CD_CLASS_INTERNAL, "" },

	[CD_AUTH_REQUIRED]     = { CD_CLASS_NO,  "auth-required" },
	[CD_AUTH_FAILED]       = { CD_CLASS_NO,  "auth-failed" },
	[CD_TOO_MANY_ATTEMPTS] = { CD_CLASS_NO,  "too-many-attempts" },
	[CD_FORBIDDEN]         = { CD_CLASS_NO,  "forbidden" },
	[CD_NOT_FOUND]         = { CD_CLASS_NO,  "not-found" },
	[CD_EXISTS]            = { CD_CLASS_NO,  "exists" },
	[CD_INVALID_STATE]     = { CD_CLASS_NO,  "invalid-state" },
	[CD_DENIED]            = { CD_CLASS_NO,  "denied" },
	[CD_FOUR_EYES]         = { CD_CLASS_NO,  "four-eyes" },
	[CD_NO_REPLY]          = { CD_CLASS_NO,  "no-reply" },
	[CD_OPEN_HANDOFF]      = { CD_CLASS_NO,  "open-handoff" },
	[CD_EMPTY_QUEUE]       = { CD_CLASS_NO,  "empty" },
	[CD_AT_CAPACITY]       = { CD_CLASS_NO,  "at-capacity" },
	[CD_IDEM_CONFLICT]     = { CD_CLASS_NO,  "idem-conflict" },
	[CD_INVALID_CONFIG]    = { CD_CLASS_NO,  "invalid-config" },

	[CD_UNKNOWN_VERB]      = { CD_CLASS_BAD, "unknown-verb" },
	[CD_BAD_ARG]           = { CD_CLASS_BAD, "bad-arg" },
	[CD_MISSING_ARG]       = { CD_CLASS_BAD, "missing-arg" },
	[CD_BAD_ENCODING]      = { CD_CLASS_BAD, "bad-encoding" },

	[CD_DB_UNAVAILABLE]    = { CD_CLASS_ERR, "db-unavailable" },
	[CD_OVERLOADED]        = { CD_CLASS_ERR, "overloaded" },
	[CD_OUTCOME_UNKNOWN]   = { CD_CLASS_ERR, "outcome-unknown" },
	[CD_INTERNAL]          = { CD_CLASS_ERR, "internal" },

	/* The same name as ERR overloaded; the class tells them apart. */
	[CD_BYE_LINE_TOO_LONG] = { CD_CLASS_BYE, "line-too-long" },
	[CD_BYE_LOGOUT]        = { CD_CLASS_BYE, "logout" },
	[CD_BYE_IDLE]          = { CD_CLASS_BYE, "idle" },
	[CD_BYE_LOGIN_TIMEOUT] = { CD_CLASS_BYE, "login-timeout" },
	[CD_BYE_SHUTDOWN]      = { CD_CLASS_BYE, "shutdown" },
	[CD_BYE_OVERLOADED]    = { CD_CLASS_BYE, "overloaded" },
	[CD_BYE_DISABLED]      = { CD_CLASS_BYE, "disabled" },
};

static const char *const cd_class_words[] = {
	[CD_CLASS_OK]       = "OK",
	[CD_CLASS_NO]       = "NO",
	[CD_CLASS_BAD]      = "BAD",
	[CD_CLASS_ERR]      = "ERR",
	[CD_CLASS_BYE]      = "BYE",
	[CD_CLASS_INTERNAL] = "",
};

static bool code_known(enum cd_code code)
{
	/* The enum may be signed or unsigned; compare as int either way. */
	return (int)code >= 0 && (int)code < (int)CD_CODE_COUNT;
}

enum cd_class cd_code_class(enum cd_code code)
{
	return code_known(code) ? cd_codes[code].cls : CD_CLASS_INTERNAL;
}

const char *cd_code_name(enum cd_code code)
{
	return code_known(code) ? cd_codes[code].name : "";
}

const char *cd_class_word(enum cd_class cls)
{
	if ((int)cls < 0 || (int)cls > (int)CD_CLASS_INTERNAL)
		return "";
	return cd_class_words[cls];
}

enum cd_code cd_code_lookup(const char *class_word, const char *name)
{
	if (class_word == NULL || name == NULL || name[0] == '\0')
		return CD_CODE_COUNT;
	for (int i = 0; i < (int)CD_CODE_COUNT; i++) {
		const struct cd_code_info *info = &cd_codes[i];

		if (strcmp(info->name, name) == 0 &&
		    strcmp(cd_class_word(info->cls), class_word) == 0)
			return (enum cd_code)i;
	}
	return CD_CODE_COUNT;
}
