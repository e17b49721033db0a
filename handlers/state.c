#include "state.h"

#include <string.h>

#include "../server/log.h"
#include "../server/metrics.h"
#include "../state/reconcile.h"
#include "../state/store.h"
#include "common.h"

/* The desired state as three lists a client can read without knowing the
 * store's keys. */
int state_handle_get(struct request *req, struct reply *rep)
{
	json_t *all = store_list(req->store, ""), *v;
	json_t *nss = json_array(), *links = json_array(),
	       *addrs = json_array();
	const char *key;

	json_object_foreach(all, key, v)
	{
		char buf[256];
		char *a, *b, *rest;

		snprintf(buf, sizeof(buf), "%s", key);
		a = strchr(buf, '/');
		if (!a)
			continue;
		*a++ = '\0';
		if (!strcmp(buf, "ns")) {
			json_array_append_new(nss,
					      json_pack("{s:s}", "name", a));
			continue;
		}
		b = strchr(a, '/');
		if (!b)
			continue;
		*b++ = '\0';
		if (!strcmp(buf, "link")) {
			json_t *o = json_deep_copy(v);

			json_object_set_new(o, "namespace", json_string(a));
			json_object_set_new(o, "name", json_string(b));
			json_array_append_new(links, o);
		} else if (!strcmp(buf, "addr") && (rest = strchr(b, '/'))) {
			*rest++ = '\0';
			json_array_append_new(addrs,
					      json_pack("{s:s, s:s, s:s}",
							"namespace", a, "link",
							b, "address", rest));
		}
	}
	json_decref(all);
	return handler_reply(rep, 200,
			     json_pack("{s:I, s:o, s:o, s:o}", "revision",
				       (json_int_t)store_revision(req->store),
				       "namespaces", nss, "links", links,
				       "addresses", addrs),
			     NULL);
}

int state_handle_reconcile(struct request *req, struct reply *rep)
{
	static const struct body_field fields[] = { { NULL, 0, false } };
	json_t *report, *v, *body = NULL;
	size_t i;
	int r;

	/* No options yet: any field is one this version does not know. */
	r = handler_body(req, rep, fields, true, &body);
	json_decref(body);
	if (r < 0)
		return r;
	report = reconcile_run(req->store);
	json_array_foreach(json_object_get(report, "actions"), i, v)
		log_info("reconcile: %s", json_string_value(v));
	json_array_foreach(json_object_get(report, "failures"), i, v)
		log_warn("reconcile: %s failed: %s",
			 json_string_value(json_object_get(v, "object")),
			 json_string_value(json_object_get(v, "error")));
	metrics_reconcile(json_array_size(json_object_get(report, "actions")),
			  json_array_size(json_object_get(report, "failures")));
	return handler_reply(rep, 200, report, NULL);
}
