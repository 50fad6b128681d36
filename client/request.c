/* request.c: preparing the requests the user writes without a tag: find
 * the verb with the shared parser, add idem= where a retry must be safe. */
#include "request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "verbs.h"

bool req_prepare(const char *line, const char *idem_key,
		 struct req_prepared *out)
{
	size_t len = strlen(line);

	memset(out, 0, sizeof *out);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
			   line[len - 1] == ' '))
		len--;
	while (len > 0 && *line == ' ') {
		line++;
		len--;
	}
	if (len == 0)
		return false;

	/* The parser wants a tag: lend it one, then read verb and keys. */
	struct sbuf tagged = {0};
	struct proto_request req = {0};
	const char *error = NULL;
	sbuf_adds(&tagged, "x ");
	sbuf_add(&tagged, line, len);
	enum cd_code rc = sbuf_failed(&tagged) ? CD_INTERNAL :
			  proto_parse(tagged.data, tagged.len,
				      PROTO_PARSE_REQUEST, &req, &error);
	sbuf_add(&out->body, line, len);
	if (rc == CD_OK && req.verb[0] != '\0') {
		out->parsed = true;
		strcpy(out->verb, req.verb);
		strcpy(out->subverb, req.subverb);
		out->has_idem = proto_get(&req, "idem") != NULL;
		if (!out->has_idem && idem_key != NULL &&
		    verb_wants_idem(req.verb, req.subverb)) {
			proto_put_kv(&out->body, "idem", idem_key);
			out->has_idem = true;
		}
	}
	proto_request_clear(&req);
	sbuf_free(&tagged);
	return true;
}

void req_prepared_free(struct req_prepared *r)
{
	if (r == NULL)
		return;
	sbuf_free(&r->body);
	memset(r, 0, sizeof *r);
}

void req_idem_hex(const unsigned char *bytes, char out[REQ_IDEM_KEY_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < REQ_IDEM_KEY_LEN / 2; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 0x0f];
	}
	out[REQ_IDEM_KEY_LEN] = '\0';
}

bool req_is_secret(const char *line)
{
	while (*line == ' ')
		line++;
	if (strncasecmp(line, "LOGIN", 5) == 0 ||
	    strncasecmp(line, "PASSWORD", 8) == 0)
		return true;
	/* Any key ending in "password=", also inside USER ADD/SET. */
	for (const char *p = line; (p = strstr(p, "password=")) != NULL; p++)
		if (p == line || p[-1] == ' ')
			return true;
	return false;
}
