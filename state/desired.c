#include "desired.h"

#include <string.h>

#include "key.h"

bool desired_has_ns(struct store *s, const char *ns)
{
	char key[KEY_MAX];
	json_t *v;

	key_ns(key, ns);
	v = store_get(s, key);
	json_decref(v);
	return v != NULL;
}

static void desired_forget_prefix(struct store *s, struct store_txn *t,
				  const char *prefix)
{
	json_t *all = store_list(s, prefix), *v;
	const char *key;

	json_object_foreach(all, key, v)
		store_txn_del(t, key);
	json_decref(all);
}

void desired_forget_ns(struct store *s, struct store_txn *t, const char *ns)
{
	char key[KEY_MAX];
	json_t *links, *v;
	const char *k;

	key_link_prefix(key, ns);
	links = store_list(s, key);
	json_object_foreach(links, k, v) {
		json_t *peer = json_object_get(v, "peer");
		const char *pns = json_string_value(json_object_get(peer, "namespace"));
		const char *pname = json_string_value(json_object_get(peer, "name"));

		store_txn_del(t, k);
		if (pns && pname && strcmp(pns, ns)) {
			key_link(key, pns, pname);
			store_txn_del(t, key);
			key_addr_prefix(key, pns, pname);
			desired_forget_prefix(s, t, key);
		}
	}
	json_decref(links);
	key_addr_prefix(key, ns, NULL);
	desired_forget_prefix(s, t, key);
	key_ns(key, ns);
	store_txn_del(t, key);
}
