/* usertool.h: calldeskd --add-user, for operators provisioning the first
 * users before any client can log in. */
#ifndef CALLDESK_USERTOOL_H
#define CALLDESK_USERTOOL_H

#include "config.h"

struct new_user {
	const char *name, *role, *tier, *skills, *team, *dept;
};

/* Reads the password from the first line of standard input, hashes it and
 * inserts the user. Returns 0, or 1 with a message on stderr (a taken
 * name included). Blocking: command line only. */
int usertool_add(const struct config *cfg, const struct new_user *nu);

#endif
