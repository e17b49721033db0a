#include "sysctl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/bodies.h"
#include "../api/name.h"
#include "../base/log.h"
#include "../netlink/ns.h"
#include "../netlink/sysctl.h"
#include "../state/key.h"
#include "../state/ns_owner.h"
#include "../state/plan.h"
#include "../state/record.h"
#include "../state/store.h"
#include "../state/sysctl_apply.h"
#include "common.h"

/* The item as GET shows it: the kernel's value (`have`, NULL when its
 * file is missing), and, when desired (`rec`), the desired value, the
 * value DELETE puts back, and whether the kernel holds the desired one. */
static json_t *sysctl_item(const char *key, const char *have, json_t *rec)
{
	struct record_drift_item it = { .code = RECORD_DRIFT_VALUE };
	struct record_sysctl r;
	char words[96];
	json_t *o;
	bool in_sync;

	o = json_pack("{s:s, s:s?, s:b}", "key", key, "value", have, "managed",
		      rec != NULL);
	if (!o || !rec || record_sysctl_parse(rec, &r, NULL, 0) < 0)
		return o;
	in_sync = have && !strcmp(have, r.value);
	json_object_set_new(o, "desired", json_string(r.value));
	if (r.original)
		json_object_set_new(o, "original", json_string(r.original));
	json_object_set_new(o, "in_sync", json_boolean(in_sync));
	if (in_sync)
		return o;
	if (!have)
		it.code = RECORD_DRIFT_MISSING;
	it.have[0] = have;
	it.want[0] = r.value;
	record_drift_words(&it, words, sizeof(words));
	json_object_set_new(o, "drift", json_pack("[s]", words));
	return o;
}

/* The namespace of the path, which must exist; a mutation holds its lock
 * from here on (handler_lock), as with every other object in it. */
static int sysctl_ns(struct request *req, struct reply *rep, const char **ret)
{
	const char *ns;
	int r;

	r = handler_ns_param(req, rep, true, &ns);
	if (r < 0)
		return r;
	if (req->mutates && handler_lock(req, ns, NULL, NULL) < 0)
		return handler_busy(rep, ns, NULL);
	r = nl_ns_probe(ns);
	if (r == 0)
		return problem_ns_missing(&rep->problem, ns);
	if (r < 0)
		return problem_errno(&rep->problem, r, "opening the namespace",
				     NULL);
	*ret = ns;
	return 0;
}

/* The key of the path: malformed is 400, well formed but not on the
 * allow-list 404 (README.md, "Sysctls"). Checked before anything else,
 * so that no part of a bad key ever reaches a path. */
static int sysctl_key_of_path(struct request *req, struct reply *rep,
			      struct sysctl_key *k)
{
	const char *why;
	int r = sysctl_key_parse(request_param(req, "key"), k, &why);

	if (r == -EINVAL)
		return problem_field(&rep->problem, "key", "sysctl key %s",
				     why);
	if (r < 0)
		return problem_set(
			&rep->problem, 404, "not-found",
			"%s is not a sysctl netnsd manages (README.md, \"Sysctls\", lists them)",
			request_param(req, "key"));
	return 0;
}

/* Ownership, as for links (README.md, "Ownership"): the sysctls of a
 * namespace netnsd does not manage (the daemon's own, one made by `ip
 * netns add`, one without netnsd's mark under a desired name) are its
 * owner's, changed only with ?force=true (README.md, "Sysctls"). */
static int sysctl_check_owner(struct request *req, struct reply *rep,
			      const char *ns, const char *key)
{
	bool host = name_is_host(ns);

	if (req->force || ns_owner_managed(req->store, ns))
		return 0;
	return problem_set(
		&rep->problem, 409, "unmanaged",
		"%s in %s%s is not netnsd's to change; add ?force=true to change it anyway",
		key, host ? "the host namespace" : "namespace ",
		host ? "" : ns);
}

static int sysctl_missing(struct reply *rep, const char *ns, const char *key)
{
	return problem_set(
		&rep->problem, 404, "not-found",
		"%s does not exist in namespace %s (no such link, or IPv6 is off there)",
		key, ns);
}

/* What a GET of the collection reads inside the namespace: every key of
 * the allow-list with its value, for the namespace and for each entry of
 * the conf directories (all, default, and every link). */
struct sysctl_list_io {
	json_t *values; /* dotted key -> value */
	int err;
};

static void sysctl_list_key(const char *key, void *userdata)
{
	struct sysctl_list_io *io = userdata;
	char have[SYSCTL_VALUE_MAX];
	struct sysctl_key k;
	const char *why;

	if (sysctl_key_parse(key, &k, &why) < 0 ||
	    nl_sysctl_file_read(k.path, have, sizeof(have)) < 0)
		return; /* a link that went meanwhile, a name not ours */
	if (json_object_set_new(io->values, key, json_string(have)) < 0)
		io->err = -ENOMEM;
}

static void sysctl_list_dir(struct sysctl_list_io *io, int family)
{
	char path[32];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv%d/conf", family);
	d = opendir(path);
	if (!d)
		return; /* IPv6 off in the namespace: no keys of it */
	while ((de = readdir(d)))
		if (!name_check_link(de->d_name))
			sysctl_key_each(de->d_name, family, sysctl_list_key,
					io);
	closedir(d);
}

static int sysctl_list_fn(void *userdata)
{
	struct sysctl_list_io *io = userdata;

	sysctl_key_each(NULL, 0, sysctl_list_key, io);
	sysctl_list_dir(io, 4);
	sysctl_list_dir(io, 6);
	return io->err;
}

static int sysctl_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The items, sorted by key: every key read, and every desired one (a
 * desired key whose file is missing shows "value": null). `want` holds
 * the records under `prefix` ("sysctl/<ns>/"). */
static json_t *sysctl_items(json_t *values, json_t *want, const char *prefix)
{
	size_t n = 0, skip = strlen(prefix);
	size_t cap = json_object_size(values) + json_object_size(want);
	const char **keys = malloc((cap ? cap : 1) * sizeof(*keys));
	json_t *items = json_array(), *v;
	char key[KEY_MAX];
	const char *k;

	if (!keys || !items)
		goto fail;
	json_object_foreach(values, k, v)
		keys[n++] = k;
	json_object_foreach(want, k, v) {
		if (!json_object_get(values, k + skip))
			keys[n++] = k + skip;
	}
	qsort(keys, n, sizeof(*keys), sysctl_cmp);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s%s", prefix, keys[i]);
		v = json_object_get(values, keys[i]);
		if (json_array_append_new(
			    items, sysctl_item(keys[i], json_string_value(v),
					       json_object_get(want, key))) < 0)
			goto fail;
	}
	free(keys);
	return items;
fail:
	free(keys);
	json_decref(items);
	return NULL;
}

int sysctl_handle_list(struct request *req, struct reply *rep)
{
	struct sysctl_list_io io = { .values = json_object() };
	char prefix[KEY_MAX];
	json_t *want, *items;
	const char *ns;
	int r;

	r = sysctl_ns(req, rep, &ns);
	if (r < 0)
		goto out;
	r = io.values ? nl_sysctl_in(ns, sysctl_list_fn, &io) : -ENOMEM;
	if (r < 0) {
		r = problem_errno(&rep->problem, r, "reading the sysctls",
				  NULL);
		goto out;
	}
	key_sysctl_prefix(prefix, ns);
	want = store_list(req->store, prefix);
	items = sysctl_items(io.values, want, prefix);
	json_decref(want);
	if (!items) {
		r = problem_set(&rep->problem, 500, "internal",
				"out of memory");
		goto out;
	}
	r = handler_reply(rep, 200, json_pack("{s:o}", "items", items), NULL);
out:
	json_decref(io.values);
	return r;
}

/* The namespace and key of the path, the kernel's value (have[0] '\0'
 * when its file is missing) and the key's record (NULL: not desired). */
static int sysctl_of_path(struct request *req, struct reply *rep,
			  const char **ret_ns, struct sysctl_key *k,
			  char have[SYSCTL_VALUE_MAX], json_t **ret_rec)
{
	char key[KEY_MAX];
	int r;

	r = sysctl_key_of_path(req, rep, k);
	if (r == 0)
		r = sysctl_ns(req, rep, ret_ns);
	if (r < 0)
		return r;
	r = nl_sysctl_read(*ret_ns, k->path, have, SYSCTL_VALUE_MAX);
	if (r < 0 && r != -ENOENT)
		return problem_errno(&rep->problem, r, "reading the sysctl",
				     NULL);
	if (r < 0)
		have[0] = '\0';
	key_sysctl(key, *ret_ns, k->key);
	*ret_rec = store_get(req->store, key);
	return 0;
}

int sysctl_handle_get(struct request *req, struct reply *rep)
{
	char have[SYSCTL_VALUE_MAX];
	struct sysctl_key k;
	json_t *rec = NULL;
	const char *ns;
	int r;

	r = sysctl_of_path(req, rep, &ns, &k, have, &rec);
	if (r < 0)
		return r;
	if (!have[0] && !rec)
		return sysctl_missing(rep, ns, k.key);
	r = handler_reply(rep, 200,
			  sysctl_item(k.key, have[0] ? have : NULL, rec), NULL);
	json_decref(rec);
	return r;
}

/* The value of a PUT's body, checked for the key. */
/* A stored record netnsd cannot read: its `original` (the value a DELETE
 * puts back) would be lost by going on, so nothing is changed. */
static int sysctl_record_damaged(struct reply *rep, const char *ns,
				 const char *key)
{
	return problem_set(
		&rep->problem, 500, "internal",
		"the desired state's record of %s in namespace %s cannot be read; nothing was changed",
		key, ns);
}

static int sysctl_body_value(struct request *req, struct reply *rep,
			     const struct sysctl_key *k, char *buf, size_t len)
{
	const char *value, *why;
	json_t *body = NULL;
	int r;

	r = handler_body(req, rep, body_sysctl, false, &body);
	if (r < 0)
		return r;
	value = json_string_value(json_object_get(body, "value"));
	why = sysctl_value_check(k, value);
	if (why)
		r = sysctl_value_refuse(&rep->problem, "value", k, value, why);
	else
		snprintf(buf, len, "%s", value);
	json_decref(body);
	return r;
}

/* A dry run (openapi/openapi.yaml, "Plan"): the one change the request
 * would make, in the words and shape of the planner's steps, or none. */
static int sysctl_plan(struct reply *rep, enum plan_action action,
		       const char *ns, const char *key, const char *detail)
{
	char path[192];
	struct plan p;
	int r = 0;

	plan_init(&p);
	snprintf(path, sizeof(path), "/v1/namespaces/%s/sysctls/%s", ns, key);
	if (detail)
		r = plan_record(&p, action, ns, path, detail);
	r = r < 0 ? problem_errno(&rep->problem, r, "planning", NULL)
		  : handler_plan_reply(rep, &p);
	plan_clear(&p);
	return r;
}

/* What a PUT would do: desire the key (`desired` NULL: it is not yet),
 * change the desired value, set the kernel's, or nothing. */
static int sysctl_plan_put(struct reply *rep, const char *ns, const char *key,
			   const char *desired, const char *have,
			   const char *want)
{
	bool set = strcmp(have, want) != 0;
	char detail[96];

	if (set)
		snprintf(detail, sizeof(detail), "value %s -> %s", have, want);
	else
		snprintf(detail, sizeof(detail),
			 "value %s, desired from now on", want);
	if (!desired)
		return sysctl_plan(rep, PLAN_CREATE, ns, key, detail);
	if (strcmp(desired, want))
		return sysctl_plan(rep, PLAN_UPDATE, ns, key, detail);
	return sysctl_plan(rep, PLAN_UPDATE, ns, key, set ? detail : NULL);
}

/* PUT: create or converge (openapi/openapi.yaml, "Sysctls"). The record
 * comes first (intent), then the kernel; the first PUT of a key keeps the
 * value found, which DELETE puts back. 201 when the key becomes desired,
 * 200 when it was; a PUT that changes nothing writes nothing. */
int sysctl_handle_put(struct request *req, struct reply *rep)
{
	struct store_txn *t = NULL, *undo = NULL;
	char have[SYSCTL_VALUE_MAX], want[SYSCTL_VALUE_MAX], key[KEY_MAX];
	struct record_sysctl old = { 0 }, rec;
	json_t *stored = NULL, *now;
	struct sysctl_key k;
	const char *ns = NULL;
	bool changed, created;
	int r;

	r = sysctl_key_of_path(req, rep, &k);
	if (r == 0)
		r = sysctl_body_value(req, rep, &k, want, sizeof(want));
	if (r == 0)
		r = sysctl_of_path(req, rep, &ns, &k, have, &stored);
	if (r < 0)
		return r;
	r = sysctl_check_owner(req, rep, ns, k.key);
	if (r < 0)
		goto out;
	if (!have[0]) {
		r = sysctl_missing(rep, ns, k.key);
		goto out;
	}
	created = !stored;
	if (stored && record_sysctl_parse(stored, &old, NULL, 0) < 0) {
		r = sysctl_record_damaged(rep, ns, k.key);
		goto out;
	}
	if (req->dry_run) {
		r = sysctl_plan_put(rep, ns, k.key, old.value, have, want);
		goto out;
	}
	rec.value = want;
	rec.original = stored ? old.original : have;
	key_sysctl(key, ns, k.key);
	now = record_sysctl_format(&rec);
	t = now ? store_txn_new() : NULL;
	if (t) {
		store_txn_set(t, key, now);
		now = NULL;
		if (!stored)
			store_txn_creates(t);
	}
	json_decref(now);
	r = handler_intent(req, rep, t, &undo);
	if (r < 0)
		goto out;
	r = sysctl_apply(ns, &k, want, have, &changed);
	if (r < 0) {
		r = r == -ENOENT ? sysctl_missing(rep, ns, k.key)
				 : problem_errno(&rep->problem, r,
						 "setting the sysctl", NULL);
		handler_intent_undo(req, undo, "setting a sysctl");
		goto out;
	}
	if (changed)
		log_info("set %s in %s from %s to %s", k.key, ns, have, want);
	json_decref(stored);
	stored = store_get(req->store, key);
	if (created)
		r = handler_reply(rep, 201, sysctl_item(k.key, want, stored),
				  "/v1/namespaces/%s/sysctls/%s", ns, k.key);
	else
		r = handler_reply(rep, 200, sysctl_item(k.key, want, stored),
				  NULL);
out:
	json_decref(stored);
	store_txn_free(t);
	store_txn_free(undo);
	return r;
}

/* The kernel's side of a DELETE: the original value put back, unless the
 * key's file has gone (with its link, or its namespace: `ns_gone`).
 * `have` gets the value found, for a revert. */
static int sysctl_restore(struct reply *rep, const char *ns,
			  const struct sysctl_key *k,
			  const struct record_sysctl *rec, bool ns_gone,
			  char have[SYSCTL_VALUE_MAX], bool *ret_changed)
{
	int r;

	*ret_changed = false;
	if (ns_gone || !rec->original || sysctl_value_check(k, rec->original))
		return 0;
	r = sysctl_apply(ns, k, rec->original, have, ret_changed);
	if (r < 0 && r != -ENOENT)
		return problem_errno(&rep->problem, r,
				     "putting back the sysctl's value", NULL);
	return 0;
}

/* What a DELETE would do: forget the key, putting its original value
 * back when the kernel holds another. */
static int sysctl_plan_delete(struct reply *rep, const char *ns,
			      const struct sysctl_key *k,
			      const struct record_sysctl *rec, bool live)
{
	char have[SYSCTL_VALUE_MAX], detail[96];

	if (!live || nl_sysctl_read(ns, k->path, have, sizeof(have)) < 0)
		snprintf(detail, sizeof(detail), "forgotten: %s",
			 live ? "its link is gone" : "its namespace is gone");
	else if (rec->original && !sysctl_value_check(k, rec->original) &&
		 strcmp(have, rec->original))
		snprintf(detail, sizeof(detail), "value %s -> %s (put back)",
			 have, rec->original);
	else
		snprintf(detail, sizeof(detail), "forgotten; value %s stays",
			 have);
	return sysctl_plan(rep, PLAN_DELETE, ns, k->key, detail);
}

/* DELETE: netnsd stops managing the key and puts back the value it found
 * before it first set it (README.md, "Sysctls"); a key whose file has
 * gone with its link, or with its namespace, is only forgotten (so that
 * the records of a namespace deleted behind netnsd's back can go too).
 * The kernel first, then the record: a crash in between leaves the key
 * desired, and start-up sets it again, as for an address. */
int sysctl_handle_delete(struct request *req, struct reply *rep)
{
	char have[SYSCTL_VALUE_MAX], back[SYSCTL_VALUE_MAX], key[KEY_MAX];
	struct record_sysctl rec = { 0 };
	struct store_txn *t = NULL;
	struct sysctl_key k;
	json_t *stored = NULL;
	const char *ns;
	bool changed;
	int r, live;

	r = sysctl_key_of_path(req, rep, &k);
	if (r == 0)
		r = handler_ns_param(req, rep, true, &ns);
	if (r < 0)
		return r;
	if (handler_lock(req, ns, NULL, NULL) < 0)
		return handler_busy(rep, ns, NULL);
	live = nl_ns_probe(ns);
	if (live < 0)
		return problem_errno(&rep->problem, live,
				     "opening the namespace", NULL);
	key_sysctl(key, ns, k.key);
	stored = store_get(req->store, key);
	if (!stored) {
		r = live ? problem_set(&rep->problem, 404, "not-found",
				       "%s is not managed in namespace %s",
				       k.key, ns)
			 : problem_ns_missing(&rep->problem, ns);
		goto out;
	}
	r = sysctl_check_owner(req, rep, ns, k.key);
	if (r < 0)
		goto out;
	if (record_sysctl_parse(stored, &rec, NULL, 0) < 0) {
		r = sysctl_record_damaged(rep, ns, k.key);
		goto out;
	}
	if (req->dry_run) {
		r = sysctl_plan_delete(rep, ns, &k, &rec, live);
		goto out;
	}
	r = sysctl_restore(rep, ns, &k, &rec, !live, have, &changed);
	if (r < 0)
		goto out;
	t = store_txn_new();
	if (t)
		store_txn_del(t, key);
	r = handler_commit(req, rep, t);
	if (r < 0) {
		if (changed)
			sysctl_apply(ns, &k, have, back, &changed);
		goto out;
	}
	if (changed)
		log_info("put %s in %s back to %s", k.key, ns, rec.original);
	r = handler_reply(rep, 204, NULL, NULL);
out:
	json_decref(stored);
	store_txn_free(t);
	return r;
}
