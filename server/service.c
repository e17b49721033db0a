#include "service.h"

#include "../api/bodies.h"
#include "../api/body.h"
#include "converge.h"
#include "metrics.h"

/* Generated at build time from openapi/openapi.yaml. */
extern const char openapi_yaml[];
extern const unsigned long openapi_yaml_len;

/* A 200 with `body` (stolen). */
static int service_reply(struct reply *rep, json_t *body)
{
	rep->status = 200;
	rep->json = body;
	return 0;
}

int service_handle_healthz(struct request *req, struct reply *rep)
{
	(void)req;
	return service_reply(rep, json_pack("{s:s}", "status", "ok"));
}

/* Counts only, no names: /readyz needs no token (see openapi.yaml), and
 * what failed is in the log and in POST /v1/reconcile's answer. */
int service_handle_readyz(struct request *req, struct reply *rep)
{
	struct converge_status st;

	(void)req;
	converge_status(&st);
	if (!st.started)
		return problem_set(
			&rep->problem, 503, "not-ready",
			"the start-up reconcile has not finished yet");
	if (!st.ready)
		return problem_set(
			&rep->problem, 503, "not-ready",
			"the start-up reconcile has not converged yet: %zu "
			"item(s) failed for a reason that may pass and are "
			"being retried (for up to %d s before netnsd says "
			"ready all the same)",
			st.pending, CONVERGE_GRACE_S);
	return service_reply(rep,
			     json_pack("{s:s, s:b, s:I, s:I}", "status",
				       "ready", "converged", st.converged,
				       "pending", (json_int_t)st.pending,
				       "failures", (json_int_t)st.failures));
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

int service_handle_reconcile(struct request *req, struct reply *rep)
{
	json_t *body = NULL;
	int r;

	/* No options yet: any field is one this version does not know. */
	r = body_parse(req->body, req->body_len, true, &body, &rep->problem);
	if (r == 0)
		r = body_check(body, body_empty, "", &rep->problem);
	json_decref(body);
	if (r < 0)
		return r;
	/* Logged and counted there, and retried if it leaves failures that
	 * may pass by themselves. */
	return service_reply(rep, converge_run(req->store, CONVERGE_REQUEST));
}
