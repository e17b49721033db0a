#include "service.h"

#include <stdatomic.h>

#include "../server/metrics.h"
#include "common.h"

/* Generated at build time from openapi/openapi.yaml. */
extern const char openapi_yaml[];
extern const unsigned long openapi_yaml_len;

static atomic_bool service_ready;

void service_set_ready(bool ready)
{
	atomic_store(&service_ready, ready);
}

int service_handle_healthz(struct request *req, struct reply *rep)
{
	(void)req;
	return handler_reply(rep, 200, json_pack("{s:s}", "status", "ok"),
			     NULL);
}

int service_handle_readyz(struct request *req, struct reply *rep)
{
	(void)req;
	if (!atomic_load(&service_ready))
		return problem_set(
			&rep->problem, 503, "not-ready",
			"the start-up reconcile has not finished yet");
	return handler_reply(rep, 200, json_pack("{s:s}", "status", "ready"),
			     NULL);
}

int service_handle_metrics(struct request *req, struct reply *rep)
{
	size_t len = 0;

	rep->text_owned = metrics_render(req->store, &len);
	if (!rep->text_owned)
		return problem_set(&rep->problem, 500, "internal",
				   "the metrics could not be rendered");
	rep->text = rep->text_owned;
	rep->text_len = len;
	rep->content_type = "text/plain; version=0.0.4; charset=utf-8";
	rep->status = 200;
	return 0;
}

int service_handle_openapi(struct request *req, struct reply *rep)
{
	(void)req;
	rep->text = openapi_yaml;
	rep->text_len = openapi_yaml_len;
	rep->content_type = "application/yaml";
	rep->status = 200;
	return 0;
}
