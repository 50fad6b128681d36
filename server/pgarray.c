/* pgarray.c: the text form of PostgreSQL arrays. */
#include "pgarray.h"

#include <string.h>

/* Parses one element of a PostgreSQL text[] literal starting at *pp into
 * out; returns false at the end of the array. NULL elements give "" with
 * *is_null set. */
bool pgarray_next(const char **pp, struct sbuf *out, bool *is_null)
{
	const char *p = *pp;
	sbuf_reset(out);
	*is_null = false;
	if (*p == '{')
		p++;
	if (*p == '}' || *p == '\0')
		return false;
	if (*p == '"') {
		p++;
		while (*p != '\0' && *p != '"') {
			if (*p == '\\' && p[1] != '\0')
				p++;
			sbuf_add(out, p, 1);
			p++;
		}
		if (*p == '"')
			p++;
	} else {
		const char *start = p;
		while (*p != '\0' && *p != ',' && *p != '}')
			p++;
		sbuf_add(out, start, (size_t)(p - start));
		if (p - start == 4 && strncmp(start, "NULL", 4) == 0) {
			*is_null = true;
			sbuf_reset(out);
		}
	}
	if (*p == ',')
		p++;
	*pp = p;
	if (out->data == NULL)
		sbuf_add(out, "", 0);
	return true;
}

