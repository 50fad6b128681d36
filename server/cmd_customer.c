/* cmd_customer.c: CUSTOMER FIND (ADD, GET, SET and ERASE are single SQL
 * functions run by cmd_sql from the command table). */
#include <string.h>

#include "commands.h"
#include "handlers.h"

#define LIST_DEFAULT 100

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
