/* pgarray.h: reading PostgreSQL's text form of a one-dimensional text[]
 * ({a,"b c",NULL}), as returned by the server's SQL functions. */
#ifndef CALLDESK_PGARRAY_H
#define CALLDESK_PGARRAY_H

#include <stdbool.h>

#include "proto.h"

/* Reads the next element at *pp into out (reset first); a NULL element
 * gives "" with *is_null set. Returns false at the end of the array. */
bool pgarray_next(const char **pp, struct sbuf *out, bool *is_null);

#endif
