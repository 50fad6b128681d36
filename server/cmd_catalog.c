/* cmd_catalog.c: CATEGORY LIST (from the rules in memory), QUEUE LIST and
 * DEPT LIST (the rules' names, with figures from PostgreSQL). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "handlers.h"
#include "server.h"

void cmd_category_list(struct request *rq)
{
	const struct cfg_catalog *cat = &rq->cfg->catalog;
	long long count = 0;
	for (size_t i = 0; i < cat->ncategories; i++) {
		const struct cfg_category *c = &cat->categories[i];
		for (int sev = 1; sev <= CFG_SEVERITIES; sev++) {
			rq_line(rq, "ROW");
			rq_kv(rq, "category", c->name);
			rq_kv_int(rq, "severity", sev);
			rq_kv(rq, "queue", c->queue);
			rq_kv_int(rq, "respond_within", c->sla[sev - 1].respond_within);
			rq_kv_int(rq, "resolve_within", c->sla[sev - 1].resolve_within);
			rq_end_line(rq);
			count++;
		}
	}
	rq_line(rq, "OK");
	rq_kv_int(rq, "count", count);
	rq_end_line(rq);
	rq_finish(rq);
}

bool name_in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len + (comma != NULL ? 1 : 0);
	}
	return false;
}

/* Appends "elem" to a PostgreSQL array literal being built in sb; names
 * hold no quote or backslash, so double quotes are enough. */
static void array_add(struct sbuf *sb, const char *elem)
{
	sbuf_adds(sb, sb->len > 1 ? ",\"" : "\"");
	sbuf_adds(sb, elem);
	sbuf_adds(sb, "\"");
}

void catalog_queue_arrays(const struct config *cfg, const char *only,
			  struct sbuf *queues, struct sbuf *skills)
{
	const struct cfg_catalog *cat = &cfg->catalog;
	sbuf_adds(queues, "{");
	sbuf_adds(skills, "{");
	for (size_t i = 0; i < cat->nqueues; i++) {
		const char *q = cat->queues[i].name;
		if (only != NULL && only[0] != '\0' && !name_in_list(only, q))
			continue;
		char set[1024];
		size_t off = (size_t)snprintf(set, sizeof set, "%s", q);
		for (size_t j = 0; j < cat->ncategories && off < sizeof set; j++)
			if (strcmp(cat->categories[j].queue, q) == 0)
				off += (size_t)snprintf(set + off, sizeof set - off, ",%s",
							cat->categories[j].name);
		array_add(queues, q);
		array_add(skills, set);
	}
	sbuf_adds(queues, "}");
	sbuf_adds(skills, "}");
}

void cmd_queue_list(struct request *rq)
{
	struct sbuf queues = { 0 }, skills = { 0 };
	catalog_queue_arrays(rq->cfg, NULL, &queues, &skills);
	rq_param_caller(rq);
	rq_param(rq, queues.data);
	rq_param(rq, skills.data);
	sbuf_free(&queues);
	sbuf_free(&skills);
	rq_run(rq, "SELECT * FROM cd_queue_list($1, $2, $3, $4)");
}

void cmd_dept_list(struct request *rq)
{
	const struct cfg_catalog *cat = &rq->cfg->catalog;
	struct sbuf depts = { 0 };
	sbuf_adds(&depts, "{");
	for (size_t i = 0; i < cat->ndepts; i++)
		array_add(&depts, cat->depts[i].name);
	sbuf_adds(&depts, "}");
	rq_param_caller(rq);
	rq_param(rq, depts.data);
	sbuf_free(&depts);
	rq_run(rq, "SELECT * FROM cd_dept_list($1, $2, $3)");
}
