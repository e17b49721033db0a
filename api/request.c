#include "request.h"

#include <stdlib.h>
#include <string.h>

#include "../base/nslock.h"
#include "../base/turns.h"

const char *request_param(const struct request *req, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < req->n_params; i++) {
		const char *pn = req->param_names[i];

		if (!strncmp(pn + 1, name, len) && pn[len + 1] == '}')
			return req->params[i];
	}
	return NULL;
}

const char *request_query_value(const struct request *req, unsigned bit,
				size_t n)
{
	for (size_t i = 0; i < req->n_query_values; i++)
		if (req->query_values[i].bit == bit && n-- == 0)
			return req->query_values[i].value;
	return NULL;
}

void request_unlock(struct request *req)
{
	if (req->mutates && !req->has_turn) {
		/* A request that ran alone came after every other. */
		req->turn =
			turn_take(req->alone ? ~(uint64_t)0 : req->ns_locks);
		req->has_turn = true;
	}
	nslock_release(&req->ns_locks);
}

void request_clear(struct request *req)
{
	for (size_t i = 0; i < req->n_params; i++)
		free(req->params[i]);
	req->n_params = 0;
}
