#include "health.h"

#include "common.h"

int health_handle_healthz(struct request *req, struct reply *rep)
{
	(void)req;
	return handler_reply(rep, 200, json_pack("{s:s}", "status", "ok"),
			     NULL);
}
