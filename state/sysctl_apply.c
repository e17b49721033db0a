#include "sysctl_apply.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../netlink/ns.h"
#include "../netlink/sysctl.h"
#include "desired.h"
#include "key.h"
#include "record.h"

struct sysctl_apply_io {
	const char *path;
	const char *want;
	char *have;
	bool changed;
};

/* Inside the namespace: read, and write only what differs, so that a
 * key already at its value is never written (a write of the same value
 * still runs the kernel's handler: forwarding resets every link's). */
static int sysctl_apply_fn(void *userdata)
{
	struct sysctl_apply_io *io = userdata;
	int r;

	r = nl_sysctl_file_read(io->path, io->have, SYSCTL_VALUE_MAX);
	if (r < 0 || !strcmp(io->have, io->want))
		return r;
	r = nl_sysctl_file_write(io->path, io->want);
	io->changed = r == 0;
	return r;
}

int sysctl_apply(const char *ns, const struct sysctl_key *k, const char *want,
		 char have[SYSCTL_VALUE_MAX], bool *ret_changed)
{
	struct sysctl_apply_io io = { .path = k->path,
				      .want = want,
				      .have = have };
	int r;

	have[0] = '\0';
	r = nl_sysctl_in(ns, sysctl_apply_fn, &io);
	*ret_changed = io.changed;
	return r;
}

/* A failure that may pass by itself: the namespace or the link of the
 * key not there yet (README.md "Start-up and convergence"). */
static bool sysctl_transient(int err)
{
	return err == -ENOENT || err == -EAGAIN || err == -EBUSY ||
	       err == -ENOMEM || err == -EINTR;
}

struct sysctl_apply_pass {
	struct store *store;
	bool link_keys;
	json_t *actions, *failures, *blocked;
};

static void sysctl_failed(struct sysctl_apply_pass *p, const char *what,
			  const char *error, bool transient)
{
	json_array_append_new(
		p->failures, json_pack("{s:s, s:s, s:b}", "object", what,
				       "error", error, "transient", transient));
}

/* Whether reconcile could not make the namespace, or the key's link, for
 * good (its `blocked` keys). */
static bool sysctl_blocked(struct sysctl_apply_pass *p, const char *ns,
			   const struct sysctl_key *k)
{
	char key[KEY_MAX];

	key_ns(key, ns);
	if (json_object_get(p->blocked, key))
		return true;
	if (!sysctl_key_is_link(k))
		return false;
	key_link(key, ns, k->link);
	return json_object_get(p->blocked, key) != NULL;
}

/* Whether a missing namespace may come: netnsd makes the ones it
 * manages; one it was forced into (made by `ip netns add`) that is gone
 * stays gone. */
static bool sysctl_may_come(struct sysctl_apply_pass *p, const char *ns)
{
	return name_is_host(ns) || desired_has_ns(p->store, ns) ||
	       nl_ns_probe(ns) > 0;
}

/* One record of reconcile's pass; `key` is "sysctl/<ns>/<key>". */
static void sysctl_apply_one(struct sysctl_apply_pass *p, const char *key,
			     json_t *v)
{
	const char *rest = key + strlen("sysctl/"), *slash = strchr(rest, '/');
	char ns[NAME_NS_MAX + 1], have[SYSCTL_VALUE_MAX], what[160], err[200];
	struct record_sysctl rec;
	struct sysctl_key k;
	const char *why;
	bool changed;
	int r;

	if (!slash || (size_t)(slash - rest) > NAME_NS_MAX)
		return;
	memcpy(ns, rest, (size_t)(slash - rest));
	ns[slash - rest] = '\0';
	if (name_check_namespace(ns) || sysctl_key_parse(slash + 1, &k, &why))
		return; /* not a key the API can make: nothing to apply */
	if (sysctl_key_is_link(&k) != p->link_keys)
		return;
	snprintf(what, sizeof(what), "sysctl %s in %s", k.key, ns);
	if (record_sysctl_parse(v, &rec, err, sizeof(err)) < 0 ||
	    sysctl_value_check(&k, rec.value)) {
		sysctl_failed(p, what, "its record is damaged", false);
		return;
	}
	/* As for an address: a link's key is never written into a link
	 * netnsd did not create that holds the name. */
	if (sysctl_blocked(p, ns, &k)) {
		sysctl_failed(
			p, what,
			"its namespace or link cannot be made, or the link's name is held by a link netnsd did not create (see their failure)",
			false);
		return;
	}
	r = sysctl_apply(ns, &k, rec.value, have, &changed);
	if (r < 0) {
		snprintf(err, sizeof(err), "setting it: %s%s", strerror(-r),
			 r == -ENOENT ? " (its namespace or link is missing)"
				      : "");
		sysctl_failed(p, what, err,
			      sysctl_transient(r) && sysctl_may_come(p, ns));
		return;
	}
	if (changed)
		json_array_append_new(p->actions,
				      json_sprintf("set %s from %s to %s", what,
						   have, rec.value));
}

void sysctl_apply_all(struct store *s, bool link_keys, json_t *actions,
		      json_t *failures, json_t *blocked)
{
	struct sysctl_apply_pass p = { s, link_keys, actions, failures,
				       blocked };
	/* A copy, not store_foreach(): the kernel is not visited under the
	 * store's lock. */
	json_t *all = store_list(s, "sysctl/"), *v;
	const char *key;

	json_object_foreach(all, key, v)
		sysctl_apply_one(&p, key, v);
	json_decref(all);
}

int sysctl_drift(const char *ns, const char *key, json_t *rec, char *buf,
		 size_t len)
{
	struct record_drift_item it = { .code = RECORD_DRIFT_VALUE };
	char have[SYSCTL_VALUE_MAX];
	struct record_sysctl r;
	struct sysctl_key k;
	const char *why;

	if (sysctl_key_parse(key, &k, &why) < 0 ||
	    record_sysctl_parse(rec, &r, NULL, 0) < 0)
		return 0; /* not desired: nothing to drift from */
	if (nl_sysctl_read(ns, k.path, have, sizeof(have)) < 0) {
		it.code = RECORD_DRIFT_MISSING;
	} else {
		if (!strcmp(have, r.value))
			return 0;
		it.have[0] = have;
		it.want[0] = r.value;
	}
	record_drift_words(&it, buf, len);
	return 1;
}

void sysctl_desired_relocate(struct store *s, struct store_txn *t,
			     const char *ns, const char *name, const char *ns2,
			     const char *name2)
{
	const size_t pre = strlen("net.ipv4.conf.");
	bool follow = ns2 && !strcmp(ns, ns2);
	char prefix[KEY_MAX], key[KEY_MAX], dotted[SYSCTL_KEY_MAX];
	struct sysctl_key k;
	const char *k_, *why;
	json_t *all, *v;

	key_sysctl_prefix(prefix, ns);
	all = store_list(s, prefix);
	json_object_foreach(all, k_, v) {
		if (sysctl_key_parse(k_ + strlen(prefix), &k, &why) < 0 ||
		    !sysctl_key_is_link(&k) || strcmp(k.link, name))
			continue;
		store_txn_del(t, k_);
		if (!follow)
			continue;
		/* "net.ipv4.conf." and "net.ipv6.conf." are as long; the
		 * attribute follows the link's name. */
		snprintf(dotted, sizeof(dotted), "%.*s%s%s", (int)pre, k.key,
			 name2, k.key + pre + strlen(name));
		key_sysctl(key, ns, dotted);
		store_txn_set(t, key, json_incref(v));
	}
	json_decref(all);
}
