#include "namespace.h"

#include <errno.h>
#include <sys/stat.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/bodies.h"
#include "../api/name.h"
#include "../base/log.h"
#include "../netlink/link.h"
#include "../netlink/ns.h"
#include "../netlink/ns_mark.h"
#include "../state/apply.h"
#include "../state/desired.h"
#include "../state/drift.h"
#include "../state/intent.h"
#include "../state/key.h"
#include "../state/ns_owner.h"
#include "../state/record.h"
#include "../state/store.h"
#include "common.h"
#include "dying.h"

/* Words at most in a namespace's drift, then "and N more": a namespace
 * of a thousand links out of sync answers in a few lines. */
#define NS_DRIFT_WORDS 8

/* "in_sync" and "drift" of a managed namespace that exists: in sync only
 * when everything desired inside it is (README.md, "Desired state"). Sets
 * *n_links when it is < 0, from the same dump. */
static void ns_add_sync(struct store *store, const char *ns, json_t *o,
			int *n_links)
{
	json_t *words = json_array();
	size_t drifted = 0;
	int n = 0, r;

	r = drift_ns(store, ns, words, NS_DRIFT_WORDS, &drifted, &n);
	if (r < 0) {
		json_array_clear(words);
		json_array_append_new(
			words, json_sprintf("its links could not be read: %s",
					    strerror(-r)));
	}
	if (*n_links < 0)
		*n_links = r < 0 ? 0 : n;
	json_object_set_new(o, "in_sync", json_boolean(r == 0 && !drifted));
	if (r < 0 || drifted)
		json_object_set(o, "drift", words);
	json_decref(words);
}

/* A desired namespace whose name someone else's has taken: out of sync,
 * and left alone (README.md, "Ownership"). */
static void ns_add_impostor(json_t *o)
{
	json_object_set_new(o, "in_sync", json_false());
	json_object_set_new(
		o, "drift",
		json_pack(
			"[s]",
			"a namespace netnsd did not make has taken its name (its lo lacks netnsd's mark)"));
}

/* `n_links` < 0: count them in the kernel. Otherwise the namespace was
 * made a moment ago, with `n_links` links and nothing desired inside. */
static json_t *ns_to_json(struct store *store, const char *ns, bool exists,
			  int n_links)
{
	bool desired = !name_is_host(ns) && desired_has_ns(store, ns);
	enum ns_owner owner = ns_owner_of(store, ns);
	struct nl_sock *s = NULL;
	json_t *o;
	int n = exists ? n_links : 0;

	/* "links" is set last, in its place: the sync's dump counts them. */
	o = json_pack("{s:s, s:b, s:i}", "name", ns, "managed",
		      owner == NS_OWNER_NETNSD, "links", 0);
	if (o && owner == NS_OWNER_IMPOSTOR)
		ns_add_impostor(o);
	else if (o && desired && exists && n_links < 0)
		ns_add_sync(store, ns, o, &n);
	else if (o && desired)
		json_object_set_new(o, "in_sync", json_boolean(exists));
	if (o && desired && !exists)
		json_object_set_new(o, "drift", json_pack("[s]", "missing"));
	if (n < 0 && nl_ns_get(ns, &s) == 0) {
		if (nl_link_count(s, &n) < 0)
			n = 0;
		nl_ns_put(ns, s);
	}
	if (o)
		json_object_set_new(o, "links", json_integer(n < 0 ? 0 : n));
	return o;
}

int ns_handle_list(struct request *req, struct reply *rep)
{
	json_t *items = json_array(), *desired, *v;
	char **names = NULL;
	const char *key;
	size_t n = 0;
	int r;

	r = nl_ns_list(&names, &n);
	if (r < 0) {
		json_decref(items);
		return problem_errno(&rep->problem, r,
				     "reading the netns directory", NULL);
	}
	for (size_t i = 0; i < n; i++) {
		bool exists = nl_ns_exists(names[i]);

		/* A stray file is no namespace: listed only if desired, as
		 * drift, just as GET on it answers. */
		if (exists || desired_has_ns(req->store, names[i]))
			json_array_append_new(
				items,
				ns_to_json(req->store, names[i], exists, -1));
	}
	/* Desired namespaces missing from the kernel show as drift. */
	desired = store_list(req->store, "ns/");
	json_object_foreach(desired, key, v) {
		const char *ns = key + 3;
		size_t i;

		for (i = 0; i < n; i++)
			if (!strcmp(names[i], ns))
				break;
		if (i == n)
			json_array_append_new(
				items, ns_to_json(req->store, ns, false, 0));
	}
	json_decref(desired);
	nl_ns_list_free(names, n);
	return handler_reply(rep, 200, json_pack("{s:o}", "items", items),
			     NULL);
}

/* Records the namespace, then creates it (intent first): a crash in between
 * finds it desired and start-up creates it; a refusal takes the record back. */
/* Makes `ns` exist and be desired, through a plan (state/plan.h): created
 * when missing, adopted when made elsewhere, nothing when both already.
 * 0 done, 1 when a dry run was answered, or a problem. */
static int ns_apply(struct request *req, struct reply *rep, const char *ns,
		    bool exists)
{
	const struct record_ns marked = { .marked = true, .adopted = exists };
	struct store_txn *t = NULL;
	struct apply ap = { 0 };
	char key[KEY_MAX], path[128];
	struct plan p = { 0 };
	bool adopt = false;
	int r = 0;

	plan_init(&p);
	snprintf(path, sizeof(path), "/v1/namespaces/%s", ns);
	if (!exists)
		r = plan_ns(&p, ns, true);
	else if ((adopt = !desired_has_ns(req->store, ns)))
		/* Marked already: netnsd's own, whose record was lost. */
		r = nl_ns_marked(ns) == 1
			    ? plan_record(&p, PLAN_UPDATE, ns, path,
					  "netnsd's (marked), recorded again")
			    : plan_ns_mark(&p, ns);
	r = handler_planned(req, rep, &p, r);
	if (r != 0)
		goto out;
	if (p.n == 0)
		goto out;
	t = store_txn_new();
	if (t) {
		key_ns(key, ns);
		store_txn_set(t, key, record_ns_format(&marked));
		store_txn_creates(t); /* a new managed object */
	}
	/* An adoption marks first: the mark is what ownership is judged by
	 * (state/ns_owner.c), so a crash before the record leaves a
	 * namespace netnsd knows as its own, never a record of one it would
	 * take for an impostor. A creation marks inside nl_ns_add(). */
	r = apply_run(&ap, req->store, &p, adopt ? NULL : t, false,
		      &rep->problem);
	if (r == 0 && adopt) {
		r = intent_commit(req->store, t, &rep->problem);
		if (r < 0)
			apply_take_back(&ap, "adopting a namespace");
	}
	if (r == 0)
		log_info("%s namespace %s", exists ? "adopted" : "created", ns);
out:
	apply_end(&ap);
	store_txn_free(t);
	plan_clear(&p);
	return r;
}

int ns_handle_create(struct request *req, struct reply *rep)
{
	json_t *body = NULL;
	const char *ns, *why;
	int r;

	r = handler_body(req, rep, body_ns_create, false, &body);
	if (r < 0)
		return r;
	ns = json_string_value(json_object_get(body, "name"));
	why = name_check_namespace(ns);
	if (why) {
		r = problem_field(&rep->problem, "name", "namespace name %s",
				  why);
		goto out;
	}
	if (name_is_host(ns)) {
		r = problem_field(
			&rep->problem, "name",
			"'host' is reserved for the daemon's own namespace");
		goto out;
	}
	r = handler_lock_all(req, rep, &ns, 1);
	if (r < 0)
		goto out;
	if (nl_ns_exists(ns)) {
		r = problem_ns_exists(&rep->problem, ns);
		goto out;
	}
	r = ns_apply(req, rep, ns, false);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	/* Made just now: it holds lo alone. */
	handler_reply(rep, 201, ns_to_json(req->store, ns, true, 1),
		      "/v1/namespaces/%s", ns);
out:
	json_decref(body);
	return r;
}

int ns_handle_put(struct request *req, struct reply *rep)
{
	json_t *body = NULL;
	const char *ns, *name;
	int r, status = 200;

	r = handler_ns_param(req, rep, false, &ns);
	if (r < 0)
		return r;
	r = handler_body(req, rep, body_ns_put, true, &body);
	if (r < 0)
		return r;
	name = json_string_value(json_object_get(body, "name"));
	if (name && strcmp(name, ns)) {
		r = problem_field(&rep->problem, "name",
				  "must match the namespace in the path");
		goto out;
	}
	r = handler_lock_all(req, rep, &ns, 1);
	if (r < 0)
		goto out;
	if (!nl_ns_exists(ns))
		status = 201;
	r = ns_apply(req, rep, ns, status == 200);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	handler_reply(rep, status,
		      ns_to_json(req->store, ns, true, status == 201 ? 1 : -1),
		      status == 201 ? "/v1/namespaces/%s" : NULL, ns);
out:
	json_decref(body);
	return r;
}

int ns_handle_get(struct request *req, struct reply *rep)
{
	const char *ns;
	bool exists;
	int r;

	r = handler_ns_param(req, rep, true, &ns);
	if (r < 0)
		return r;
	exists = nl_ns_exists(ns);
	if (!exists && !desired_has_ns(req->store, ns))
		return problem_ns_missing(&rep->problem, ns);
	return handler_reply(rep, 200, ns_to_json(req->store, ns, exists, -1),
			     NULL);
}

/* The namespaces whose records a deletion of `ns` changes, as the
 * deletion itself says (desired_forget_ns: its veths' far ends, links on
 * a parent in it, and theirs in turn), as the keys of a new object; NULL
 * when out of memory. */
static json_t *ns_lock_names(struct store *store, const char *ns)
{
	struct store_txn *t = store_txn_new();
	json_t *names = json_object();
	char at[NAME_NS_MAX + 1];

	if (!t || !names) {
		store_txn_free(t);
		json_decref(names);
		return NULL;
	}
	json_object_set_new(names, ns, json_true());
	desired_forget_ns(store, t, ns);
	for (size_t i = 0; i < store_txn_len(t); i++)
		if (key_ns_of(store_txn_key(t, i), at))
			json_object_set_new(names, at, json_true());
	store_txn_free(t);
	return names;
}

/* Locks `ns` and the namespaces whose records its deletion changes
 * (ns_lock_names): mutations there wait, as they did when a namespace's
 * deletion ran alone. They are read before their locks are held, so only
 * a look made while `ns` was held, that asks for no lock more, is final:
 * a veth into `ns` made meanwhile is seen by it. A set that keeps
 * changing (8 looks) is answered busy. */
static int ns_lock_with_far_ends(struct request *req, struct reply *rep,
				 const char *ns)
{
	const char **names;
	json_t *set, *v;
	const char *k;
	uint64_t before;
	size_t n;
	int r = 0;

	for (int i = 0; i < 8; i++) {
		set = ns_lock_names(req->store, ns);
		names = set ? calloc(json_object_size(set), sizeof(*names))
			    : NULL;
		if (!names) {
			json_decref(set);
			return problem_errno(&rep->problem, -ENOMEM,
					     "locking the namespace", NULL);
		}
		n = 0;
		json_object_foreach(set, k, v)
			names[n++] = k;
		before = req->ns_locks;
		r = handler_lock_all(req, rep, names, n);
		free(names);
		json_decref(set);
		if (r < 0)
			return r;
		if (r == 0 && req->ns_locks == before)
			return 0; /* read under every lock it needs */
	}
	return handler_busy(rep, ns, NULL);
}

/* The far ends of managed veths that cross into `ns`, which go with it:
 * [[namespace, name, ifindex], ...]. */
static json_t *ns_far_ends(struct store *store, const char *ns)
{
	char prefix[KEY_MAX];
	json_t *links, *v, *out = json_array();
	const char *k;

	key_link_prefix(prefix, ns);
	links = store_list(store, prefix);
	json_object_foreach(links, k, v) {
		struct record_link w;
		const char *pns, *pname;
		struct nl_sock *s = NULL;
		struct nl_link l;

		record_link_read(v, &w);
		pns = w.veth.peer_ns;
		pname = w.veth.peer_name;
		if (!(w.has & RECORD_HAS_PEER) || !strcmp(pns, ns) ||
		    nl_ns_get(pns, &s) < 0)
			continue;
		if (nl_link_get(s, pname, &l) == 0)
			json_array_append_new(out, json_pack("[s, s, i]", pns,
							     pname, l.ifindex));
		nl_ns_put(pns, s);
	}
	json_decref(links);
	return out;
}

/* Whether a file is left under the namespace's name, not mounted. */
static bool ns_stale_file(const char *ns)
{
	char path[PATH_MAX];
	struct stat st;

	return nl_ns_path(ns, path, sizeof(path)) == 0 &&
	       fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* The dry run of clearing such a file. */
static int ns_plan_stale(struct reply *rep, const char *ns)
{
	char path[128];
	struct plan p = { 0 };
	int r;

	plan_init(&p);
	snprintf(path, sizeof(path), "/v1/namespaces/%s", ns);
	r = plan_record(&p, PLAN_DELETE, ns, path,
			"the file left of a namespace no longer mounted");
	r = r < 0 ? problem_errno(&rep->problem, r, "planning", NULL)
		  : handler_plan_reply(rep, &p);
	plan_clear(&p);
	return r;
}

int ns_handle_delete(struct request *req, struct reply *rep)
{
	struct store_txn *t = NULL;
	struct apply ap = { 0 };
	struct plan p = { 0 };
	json_t *far = NULL, *x;
	char key[KEY_MAX];
	const char *ns;
	size_t i;
	enum ns_owner owner;
	bool exists, managed;
	int r;

	r = handler_ns_param(req, rep, false, &ns);
	if (r == 0)
		r = ns_lock_with_far_ends(req, rep, ns);
	if (r < 0)
		return r;
	exists = nl_ns_exists(ns);
	owner = ns_owner_of(req->store, ns);
	managed = owner == NS_OWNER_NETNSD;
	if (!exists && !managed) {
		/* A stale file with no namespace mounted on it may be
		 * cleared when forced. */
		if (req->force && req->dry_run && ns_stale_file(ns))
			return ns_plan_stale(rep, ns);
		if (req->force && !req->dry_run && nl_ns_del(ns) == 0)
			return handler_reply(rep, 204, NULL, NULL);
		return problem_ns_missing(&rep->problem, ns);
	}
	if (!managed && !req->force)
		return problem_set(
			&rep->problem, 409, "unmanaged",
			owner == NS_OWNER_IMPOSTOR
				? "namespace %s is not the one netnsd made: its lo lacks netnsd's mark, so someone else's has taken the name; add ?force=true to delete it anyway"
				: "namespace %s was not created by netnsd; add ?force=true to delete it anyway",
			ns);

	/* Forget first, then delete: a namespace cannot be brought back, but
	 * a forgotten state can be written back. The plan's deletion writes
	 * its marker with the records (state/intent.c). */
	plan_init(&p);
	snprintf(key, sizeof(key), "/v1/namespaces/%s", ns);
	r = exists ? plan_ns(&p, ns, false) : handler_plan_forget(&p, ns, key);
	/* A dry run is answered before the far ends and the records are
	 * read: it needs neither. */
	r = handler_planned(req, rep, &p, r);
	if (r != 0) {
		r = r > 0 ? 0 : r;
		goto out;
	}
	/* The far ends are read before the records go. */
	far = ns_far_ends(req->store, ns);
	t = store_txn_new();
	if (t)
		desired_forget_ns(req->store, t, ns);
	r = apply_run(&ap, req->store, &p, t, false, &rep->problem);
	if (r < 0)
		goto out;
	json_array_foreach(far, i, x)
		dying_add(json_string_value(json_array_get(x, 0)),
			  json_string_value(json_array_get(x, 1)),
			  (int)json_integer_value(json_array_get(x, 2)));
	log_info("deleted namespace %s", ns);
	r = handler_reply(rep, 204, NULL, NULL);
out:
	apply_end(&ap);
	plan_clear(&p);
	json_decref(far);
	store_txn_free(t);
	return r;
}
