#include "reconcile.h"

#include <string.h>

#include "../netlink/ns.h"

struct reconcile {
	struct store *store;
	json_t *actions;
	json_t *failures;
};

static void reconcile_failed(struct reconcile *rc, const char *object,
			     const char *what, int err)
{
	const char *msg = nl_extack();
	char text[512];

	snprintf(text, sizeof(text), "%s: %s", what,
		 *msg ? msg : strerror(-err));
	json_array_append_new(rc->failures, json_pack("{s:s, s:s}", "object",
						      object, "error", text));
}

static void reconcile_namespaces(struct reconcile *rc)
{
	json_t *all = store_list(rc->store, "ns/"), *v;
	const char *key;
	char what[128];
	int r;

	json_object_foreach(all, key, v) {
		const char *ns = key + strlen("ns/");

		if (nl_ns_exists(ns))
			continue;
		/* After a reboot the file may outlive its mount. */
		nl_ns_del(ns);
		r = nl_ns_add(ns);
		snprintf(what, sizeof(what), "namespace %s", ns);
		if (r < 0) {
			reconcile_failed(rc, what, "creating", r);
			continue;
		}
		json_array_append_new(rc->actions,
				      json_sprintf("created namespace %s", ns));
	}
	json_decref(all);
}

json_t *reconcile_run(struct store *s)
{
	struct reconcile rc = { .store = s, .actions = json_array(),
				.failures = json_array() };

	reconcile_namespaces(&rc);
	return json_pack("{s:o, s:o}", "actions", rc.actions, "failures",
			 rc.failures);
}
