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

bool desired_has_link(struct store *s, const char *ns, const char *name)
{
	char key[KEY_MAX];
	json_t *v;

	key_link(key, ns, name);
	v = store_get(s, key);
	json_decref(v);
	return v != NULL;
}

static void desired_forget_prefix(struct store *s, struct store_txn *t,
				  const char *prefix)
{
	json_t *all = store_list(s, prefix), *v;
	const char *key;

	json_object_foreach(all, key, v) store_txn_del(t, key);
	json_decref(all);
}

void desired_forget_ns(struct store *s, struct store_txn *t, const char *ns)
{
	char key[KEY_MAX];
	json_t *links, *v;
	const char *k;

	key_link_prefix(key, ns);
	links = store_list(s, key);
	json_object_foreach(links, k, v)
	{
		json_t *peer = json_object_get(v, "peer");
		const char *pns =
			json_string_value(json_object_get(peer, "namespace"));
		const char *pname =
			json_string_value(json_object_get(peer, "name"));

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

json_t *desired_link(struct store *s, const char *ns, const char *name)
{
	char key[KEY_MAX];
	json_t *v, *copy;

	key_link(key, ns, name);
	v = store_get(s, key);
	copy = v ? json_deep_copy(v) : NULL;
	json_decref(v);
	return copy;
}

/* Rewrites every link of `ns` whose desired master is `bridge`: to
 * `new_master`, or without a master when that is NULL. */
static void desired_repoint_ports(struct store *s, struct store_txn *t,
				  const char *ns, const char *bridge,
				  const char *new_master)
{
	char prefix[KEY_MAX];
	json_t *links, *v;
	const char *k;

	key_link_prefix(prefix, ns);
	links = store_list(s, prefix);
	json_object_foreach(links, k, v)
	{
		const char *m = json_string_value(json_object_get(v, "master"));
		json_t *copy;

		if (!m || strcmp(m, bridge))
			continue;
		copy = json_deep_copy(v);
		if (new_master)
			json_object_set_new(copy, "master",
					    json_string(new_master));
		else
			json_object_del(copy, "master");
		store_txn_set(t, k, copy);
	}
	json_decref(links);
}

static void desired_forget_one(struct store *s, struct store_txn *t,
			       const char *ns, const char *name)
{
	char key[KEY_MAX];
	json_t *addrs, *v;
	const char *k;

	key_link(key, ns, name);
	store_txn_del(t, key);
	key_addr_prefix(key, ns, name);
	addrs = store_list(s, key);
	json_object_foreach(addrs, k, v) store_txn_del(t, k);
	json_decref(addrs);
}

void desired_forget_link(struct store *s, struct store_txn *t, const char *ns,
			 const char *name)
{
	json_t *rec = desired_link(s, ns, name), *peer;

	desired_forget_one(s, t, ns, name);
	peer = json_object_get(rec, "peer");
	if (peer)
		desired_forget_one(
			s, t,
			json_string_value(json_object_get(peer, "namespace")),
			json_string_value(json_object_get(peer, "name")));
	desired_repoint_ports(s, t, ns, name, NULL);
	json_decref(rec);
}

void desired_relocate_link(struct store *s, struct store_txn *t, const char *ns,
			   const char *name, const char *ns2, const char *name2)
{
	bool moved = strcmp(ns, ns2) != 0;
	json_t *rec = desired_link(s, ns, name), *peer, *addrs, *v;
	char key[KEY_MAX], key2[KEY_MAX];
	const char *k;

	if (!rec)
		return;
	key_link(key, ns, name);
	store_txn_del(t, key);
	if (moved)
		json_object_del(rec, "master");
	peer = json_object_get(rec, "peer");
	if (peer) {
		json_t *prec = desired_link(
			s,
			json_string_value(json_object_get(peer, "namespace")),
			json_string_value(json_object_get(peer, "name")));

		if (prec) {
			json_object_set_new(prec, "peer",
					    json_pack("{s:s, s:s}", "namespace",
						      ns2, "name", name2));
			key_link(key2,
				 json_string_value(
					 json_object_get(peer, "namespace")),
				 json_string_value(
					 json_object_get(peer, "name")));
			store_txn_set(t, key2, prec);
		}
	}
	key_addr_prefix(key, ns, name);
	addrs = store_list(s, key);
	json_object_foreach(addrs, k, v)
	{
		store_txn_del(t, k);
		if (!moved) {
			key_addr(key2, ns2, name2, k + strlen(key));
			store_txn_set(t, key2, json_incref(v));
		}
	}
	json_decref(addrs);
	desired_repoint_ports(s, t, ns, name, moved ? NULL : name2);
	key_link(key2, ns2, name2);
	store_txn_set(t, key2, rec);
}
