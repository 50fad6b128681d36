/* cmd_customer.c: CUSTOMER ADD, GET, SET, FIND. */
#include <string.h>

#include "commands.h"
#include "handlers.h"

#define LIST_DEFAULT 100

void cmd_customer_add(struct request *rq)
{
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "name"));
	rq_param(rq, rq_arg(rq, "phone"));
	rq_param(rq, rq_arg(rq, "email"));
	rq_param(rq, rq_arg(rq, "vip"));
	rq_param(rq, rq_arg(rq, "ref"));
	rq_run(rq, "SELECT * FROM cd_customer_add($1, $2, $3, $4, $5, $6, $7)");
}

void cmd_customer_get(struct request *rq)
{
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "id"));
	rq_run(rq, "SELECT * FROM cd_customer_get($1, $2, $3)");
}

void cmd_customer_set(struct request *rq)
{
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "id"));
	rq_param(rq, rq_arg(rq, "name"));
	rq_param(rq, rq_arg(rq, "phone"));
	rq_param(rq, rq_arg(rq, "email"));
	rq_param(rq, rq_arg(rq, "vip"));
	rq_param(rq, rq_arg(rq, "ref"));
	rq_run(rq, "SELECT * FROM cd_customer_set($1, $2, $3, $4, $5, $6, $7, $8)");
}

void cmd_customer_find(struct request *rq)
{
	const char *limit = rq_arg(rq, "limit");
	rq_param_caller(rq);
	rq_param(rq, rq_arg(rq, "phone"));
	rq_param(rq, rq_arg(rq, "email"));
	rq_param(rq, rq_arg(rq, "name"));
	rq_param(rq, rq_arg(rq, "ref"));
	if (limit != NULL)
		rq_param(rq, limit);
	else
		rq_param_int(rq, LIST_DEFAULT);
	rq_run(rq, "SELECT * FROM cd_customer_find($1, $2, $3, $4, $5, $6, $7)");
}
