#include "desired.h"

#include <string.h>

#include "key.h"
#include "link_kind.h"
#include "record.h"
#include "sysctl_apply.h"

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

	json_object_foreach(all, key, v)
		store_txn_del(t, key);
	json_decref(all);
}

/* The routes of ns through link `name` (README.md, "Routes"): forgotten
 * when `name2` is NULL (the link is gone, and the kernel took them),
 * else pointed at the link's new name. */
static void desired_routes_of_link(struct store *s, struct store_txn *t,
				   const char *ns, const char *name,
				   const char *name2)
{
	char prefix[KEY_MAX];
	json_t *routes, *v;
	const char *k;

	key_route_prefix(prefix, ns);
	routes = store_list(s, prefix);
	json_object_foreach(routes, k, v) {
		struct record_route r;

		if (record_route_parse(v, &r, NULL, 0) < 0 || !r.dev ||
		    strcmp(r.dev, name))
			continue;
		r.dev = name2;
		if (name2)
			store_txn_set(t, k, record_route_format(&r));
		else
			store_txn_del(t, k);
	}
	json_decref(routes);
}

/* The record of ns/name and all that hangs on its name: its addresses,
 * routes and sysctls. */
static void desired_forget_one(struct store *s, struct store_txn *t,
			       const char *ns, const char *name)
{
	char key[KEY_MAX];

	key_link(key, ns, name);
	store_txn_del(t, key);
	key_addr_prefix(key, ns, name);
	desired_forget_prefix(s, t, key);
	desired_routes_of_link(s, t, ns, name, NULL);
	sysctl_desired_relocate(s, t, ns, name, NULL, NULL);
}

static void desired_forget_tree(struct store *s, struct store_txn *t,
				const char *ns, const char *name, int depth);

/* The links of other namespaces whose parent is link `name` of `ns`
 * (parent_namespace: README.md, "More link kinds"), or any link of `ns`
 * when `name` is NULL. Each is pointed at ns2/name2, or, when name2 is
 * NULL (the parent is going), forgotten, as the kernel deletes it with its
 * parent. */
static void desired_far_children(struct store *s, struct store_txn *t,
				 const char *ns, const char *name,
				 const char *ns2, const char *name2, int depth)
{
	char cns[NAME_NS_MAX + 1];
	json_t *links, *v;
	const char *k, *slash;

	if (depth > 8)
		return;
	links = store_list(s, "link/");
	json_object_foreach(links, k, v) {
		struct record_link w;

		record_link_read(v, &w);
		if (!(w.has & RECORD_HAS_OPTIONS) || !w.opts.parent ||
		    !w.opts.parent_ns || strcmp(w.opts.parent_ns, ns) ||
		    (name && strcmp(w.opts.parent, name)))
			continue;
		slash = strchr(k + strlen("link/"), '/');
		if (!slash || (size_t)(slash - k) - 5 > NAME_NS_MAX)
			continue;
		snprintf(cns, sizeof(cns), "%.*s", (int)(slash - k) - 5, k + 5);
		if (!name2) {
			desired_forget_tree(s, t, cns, slash + 1, depth + 1);
			continue;
		}
		w.opts.parent = name2;
		w.opts.parent_ns = strcmp(cns, ns2) ? ns2 : NULL;
		if (!w.opts.parent_ns)
			w.opts.has &= ~LINK_OPT_PARENT_NS;
		store_txn_set(t, k, record_link_format(&w));
	}
	json_decref(links);
}

void desired_forget_ns(struct store *s, struct store_txn *t, const char *ns)
{
	char key[KEY_MAX];
	json_t *links, *v;
	const char *k;

	key_link_prefix(key, ns);
	links = store_list(s, key);
	json_object_foreach(links, k, v) {
		struct record_link w;
		const struct record_veth *p = &w.veth;

		record_link_read(v, &w);
		store_txn_del(t, k);
		if ((w.has & RECORD_HAS_PEER) && strcmp(p->peer_ns, ns))
			desired_forget_one(s, t, p->peer_ns, p->peer_name);
	}
	json_decref(links);
	/* Links elsewhere on a parent here go with it. */
	desired_far_children(s, t, ns, NULL, NULL, NULL, 0);
	key_addr_prefix(key, ns, NULL);
	desired_forget_prefix(s, t, key);
	key_route_prefix(key, ns);
	desired_forget_prefix(s, t, key);
	key_sysctl_prefix(key, ns);
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

/* The links of `ns` that name link `name`: a port as its master, and
 * (`children`) a link of the kind table as its parent. Each is pointed at
 * `name2`, or, when that is NULL (`name` is going), a port is left
 * without a master and a child forgotten, as the kernel deletes it with
 * its parent (README.md, "More link kinds"). `depth` bounds a chain of
 * children. */
static void desired_referrers(struct store *s, struct store_txn *t,
			      const char *ns, const char *name,
			      const char *name2, bool children, int depth)
{
	char prefix[KEY_MAX];
	json_t *links, *v;
	const char *k;

	if (depth > 8)
		return;
	key_link_prefix(prefix, ns);
	links = store_list(s, prefix);
	json_object_foreach(links, k, v) {
		struct record_link w;
		bool port, child;

		record_link_read(v, &w);
		port = w.master && !strcmp(w.master, name);
		child = children && (w.has & RECORD_HAS_OPTIONS) &&
			w.opts.parent && !strcmp(w.opts.parent, name);
		if (child && !name2) {
			desired_forget_tree(s, t, ns, k + strlen(prefix),
					    depth + 1);
			continue;
		}
		if (!port && !child)
			continue;
		if (port)
			w.master = name2;
		if (port && !name2)
			w.has &= ~RECORD_HAS_MASTER;
		if (child)
			w.opts.parent = name2;
		store_txn_set(t, k, record_link_format(&w));
	}
	json_decref(links);
}

/* The links of `ns` on link `name`, which moves to ns2/name2: their
 * parent is in ns2 now. */
static void desired_moved_children(struct store *s, struct store_txn *t,
				   const char *ns, const char *name,
				   const char *ns2, const char *name2)
{
	char prefix[KEY_MAX];
	json_t *links, *v;
	const char *k;

	key_link_prefix(prefix, ns);
	links = store_list(s, prefix);
	json_object_foreach(links, k, v) {
		struct record_link w;

		record_link_read(v, &w);
		if (!(w.has & RECORD_HAS_OPTIONS) || !w.opts.parent ||
		    w.opts.parent_ns || strcmp(w.opts.parent, name))
			continue;
		w.opts.parent = name2;
		w.opts.parent_ns = ns2;
		w.opts.has |= LINK_OPT_PARENT_NS;
		store_txn_set(t, k, record_link_format(&w));
	}
	json_decref(links);
}

/* The stored record of ns/name, read into `w` (zeros when there is none):
 * the returned reference keeps the strings of `w` alive. */
static json_t *desired_link_read(struct store *s, const char *ns,
				 const char *name, struct record_link *w)
{
	char key[KEY_MAX];
	json_t *v;

	memset(w, 0, sizeof(*w));
	key_link(key, ns, name);
	v = store_get(s, key);
	if (v)
		record_link_read(v, w);
	return v;
}

json_t *desired_link_edit(struct store *s, const char *ns, const char *name,
			  struct record_link *w)
{
	json_t *v = desired_link_read(s, ns, name, w);

	if (!v)
		w->has = RECORD_HAS_OWNED; /* owned false */
	return v;
}

static void desired_forget_tree(struct store *s, struct store_txn *t,
				const char *ns, const char *name, int depth)
{
	struct record_link w;
	json_t *rec = desired_link_read(s, ns, name, &w);

	desired_forget_one(s, t, ns, name);
	if (w.has & RECORD_HAS_PEER) {
		desired_forget_one(s, t, w.veth.peer_ns, w.veth.peer_name);
		desired_referrers(s, t, w.veth.peer_ns, w.veth.peer_name, NULL,
				  true, depth);
	}
	desired_referrers(s, t, ns, name, NULL, true, depth);
	desired_far_children(s, t, ns, name, NULL, NULL, depth);
	json_decref(rec);
}

void desired_forget_link(struct store *s, struct store_txn *t, const char *ns,
			 const char *name)
{
	desired_forget_tree(s, t, ns, name, 0);
}

/* The far end of a veth moved to ns2/name2 points at its new place. */
static void desired_repoint_peer(struct store *s, struct store_txn *t,
				 const struct record_veth *p, const char *ns2,
				 const char *name2)
{
	struct record_link pw;
	char key[KEY_MAX];
	json_t *v = desired_link_read(s, p->peer_ns, p->peer_name, &pw);

	if (!v)
		return;
	pw.has |= RECORD_HAS_PEER;
	pw.veth.peer_ns = ns2;
	pw.veth.peer_name = name2;
	key_link(key, p->peer_ns, p->peer_name);
	store_txn_set(t, key, record_link_format(&pw));
	json_decref(v);
}

void desired_relocate_link(struct store *s, struct store_txn *t, const char *ns,
			   const char *name, const char *ns2, const char *name2)
{
	bool moved = strcmp(ns, ns2) != 0;
	struct record_link w;
	json_t *rec = desired_link_read(s, ns, name, &w), *addrs, *v;
	char key[KEY_MAX], key2[KEY_MAX];
	const char *k;

	/* Its addresses go along, renamed or moved alike (README.md,
	 * "Addresses"): the caller adds them again where it landed. Also
	 * those of a link with no record of its own. */
	key_addr_prefix(key, ns, name);
	addrs = store_list(s, key);
	json_object_foreach(addrs, k, v) {
		store_txn_del(t, k);
		key_addr(key2, ns2, name2, k + strlen(key));
		store_txn_set(t, key2, json_incref(v));
	}
	json_decref(addrs);
	/* Its conf.<link> sysctls follow a rename (README.md, "Sysctls"),
	 * also for a link with no record of its own. */
	sysctl_desired_relocate(s, t, ns, name, ns2, name2);
	if (!rec)
		return;
	key_link(key, ns, name);
	store_txn_del(t, key);
	if (moved) {
		w.has &= ~RECORD_HAS_MASTER;
		w.master = NULL;
	}
	if (w.has & RECORD_HAS_PEER)
		desired_repoint_peer(s, t, &w.veth, ns2, name2);
	/* A move takes the link's routes out of the kernel, as its
	 * addresses, and its ports out of it; a rename keeps them. Its
	 * children stay where they are, on it: their records name its new
	 * place (parent_namespace). */
	desired_referrers(s, t, ns, name, moved ? NULL : name2, !moved, 0);
	if (moved)
		desired_moved_children(s, t, ns, name, ns2, name2);
	desired_far_children(s, t, ns, name, ns2, name2, 0);
	desired_routes_of_link(s, t, ns, name, moved ? NULL : name2);
	key_link(key2, ns2, name2);
	store_txn_set(t, key2, record_link_format(&w));
	json_decref(rec);
}
