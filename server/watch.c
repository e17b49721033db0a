#include "watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/name.h"
#include "../netlink/link.h"
#include "../netlink/monitor.h"
#include "../netlink/ns.h"
#include "../state/drift.h"
#include "autoheal.h"
#include "confirm.h"
#include "../state/key.h"
#include "../state/store.h"
#include "../state/sysctl_key.h"
#include "events.h"
#include "../base/log.h"

static struct store *watch_store;
static bool watch_running;

/* What is known out of sync ("type ns name" -> the object), and each
 * namespace's share of netnsd_drifted_objects (ns -> count), recounted
 * when an event marks it dirty. */
static pthread_mutex_t watch_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *watch_out_of_sync, *watch_counts, *watch_dirty;
/* Namespaces a link of which flipped, to read again: name -> source. */
static json_t *watch_ns_again;
/* This thread tells a batch of notifications and re-reads the namespaces
 * of flipped links once at its end (watch_ns_again_drain): the monitor's
 * (set by watch_idle, which only it calls; watch_kernel is also called on
 * threads that make or delete a namespace, which no idle follows), or a
 * whole-state apply's while it tells what it did (watch_bulk_tell). */
static _Thread_local bool watch_batching;
static bool watch_all_dirty = true;

/* A path segment, percent-encoded but for the plainest bytes. */
static void watch_seg(char *buf, size_t len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.') {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	buf[o] = '\0';
}

/* What GET `path` answers now, or NULL (404, or anything else): the object
 * of an event is exactly what its GET shows. A route's selectors are given
 * as ?table= and ?metric= would be (`sel`, or NULL). */
static json_t *watch_read_sel(const char *path, const uint32_t *sel)
{
	struct request req = {
		.method = "GET", .path = path, .body = "", .store = watch_store
	};
	struct reply rep = { .problem = PROBLEM_INIT };
	const struct route *route = NULL;
	char allow[128];
	json_t *j = NULL;

	if (sel) {
		req.table = sel[0];
		req.metric = sel[1];
		req.query_seen = ROUTE_QUERY_TABLE | ROUTE_QUERY_METRIC;
	}
	if (router_match("GET", path, &route, &req, allow, sizeof(allow),
			 &rep.problem) == 0) {
		nl_request_begin();
		route->handle(&req, &rep);
		if (!rep.problem.status && rep.json)
			j = json_incref(rep.json);
		else if (!rep.problem.status && rep.text)
			j = json_loadb(rep.text, rep.text_len, 0, NULL);
	}
	json_decref(rep.json);
	free(rep.text_owned);
	problem_clear(&rep.problem);
	request_clear(&req);
	return j;
}

static json_t *watch_read(const char *path)
{
	return watch_read_sel(path, NULL);
}

static json_t *watch_read_route(const char *ns, const char *dst,
				unsigned prefixlen, uint32_t table,
				uint32_t metric)
{
	char path[512], a[200], b[200];
	const uint32_t sel[2] = { table, metric };

	watch_seg(a, sizeof(a), ns);
	watch_seg(b, sizeof(b), dst);
	snprintf(path, sizeof(path), "/v1/namespaces/%s/routes/%s/%u", a, b,
		 prefixlen);
	return watch_read_sel(path, sel);
}

static json_t *watch_read_ns(const char *ns)
{
	char path[256], a[200];

	watch_seg(a, sizeof(a), ns);
	snprintf(path, sizeof(path), "/v1/namespaces/%s", a);
	return watch_read(path);
}

static json_t *watch_read_link(const char *ns, const char *link)
{
	char path[512], a[200], b[200];

	watch_seg(a, sizeof(a), ns);
	watch_seg(b, sizeof(b), link);
	snprintf(path, sizeof(path), "/v1/namespaces/%s/links/%s", a, b);
	return watch_read(path);
}

static json_t *watch_read_addr(const char *ns, const char *link, const char *ip,
			       unsigned prefixlen)
{
	char path[768], a[200], b[200], c[200];

	watch_seg(a, sizeof(a), ns);
	watch_seg(b, sizeof(b), link);
	watch_seg(c, sizeof(c), ip);
	snprintf(path, sizeof(path),
		 "/v1/namespaces/%s/links/%s/addresses/%s/%u", a, b, c,
		 prefixlen);
	return watch_read(path);
}

/* Marks namespace `ns` for a recount of its drift. */
static void watch_mark(const char *ns)
{
	pthread_mutex_lock(&watch_mu);
	if (watch_dirty)
		json_object_set_new(watch_dirty, ns, json_true());
	pthread_mutex_unlock(&watch_mu);
}

static void watch_mark_all(void)
{
	pthread_mutex_lock(&watch_mu);
	watch_all_dirty = true;
	pthread_mutex_unlock(&watch_mu);
}

static void watch_drift_again(unsigned type, const char *ns, const char *name,
			      enum events_source src);

/* A `drift` event when the object's in_sync differs from what was known:
 * an object never seen out of sync counts as in sync. */
static void watch_drift(unsigned type, const char *ns, const char *name,
			json_t *obj, enum events_source src)
{
	json_t *in_sync = obj ? json_object_get(obj, "in_sync") : NULL;
	bool out = in_sync && json_is_false(in_sync), was;
	char key[512];

	snprintf(key, sizeof(key), "%s %s %s", events_type_name(type), ns,
		 name);
	pthread_mutex_lock(&watch_mu);
	was = json_object_get(watch_out_of_sync, key) != NULL;
	if (out && !was)
		json_object_set_new(watch_out_of_sync, key, json_true());
	else if (!out && was)
		json_object_del(watch_out_of_sync, key);
	pthread_mutex_unlock(&watch_mu);
	if (out != was)
		events_emit(EVENTS_DRIFT, "changed", ns, name, obj, src);
	/* A change made behind netnsd's back: repaired when asked to. */
	if (out && !was && src == EVENTS_SOURCE_KERNEL)
		autoheal_note(ns, name);
	/* A namespace is in sync when its links are: read again when one
	 * of them flips (either way), and its own flip told; once for all
	 * the flips of a batch (watch_batching), else at once. */
	if (out != was && type == EVENTS_LINK && watch_batching) {
		pthread_mutex_lock(&watch_mu);
		json_object_set_new(watch_ns_again, ns,
				    json_integer((json_int_t)src));
		pthread_mutex_unlock(&watch_mu);
	} else if (out != was && type == EVENTS_LINK) {
		watch_drift_again(EVENTS_NAMESPACE, ns, ns, src);
	}
}

/* The object that holds one whose state changed (a link its address, a
 * namespace its link), read again for its drift: its in_sync covers what
 * it holds. Only a managed object has one. */
static void watch_drift_again(unsigned type, const char *ns, const char *name,
			      enum events_source src)
{
	json_t *obj = type == EVENTS_LINK ? watch_read_link(ns, name)
					  : watch_read_ns(ns);

	if (obj && json_object_get(obj, "in_sync"))
		watch_drift(type, ns, name, obj, src);
	json_decref(obj);
}

/* A link one of whose addresses changed (`addr`, as its GET shows it, or
 * NULL): read again for its drift, unless nothing of it can flip. Only a
 * desired address counts in a link's in_sync (state/drift.c): one in
 * sync, or one not desired (no in_sync; an IPv6 link-local, a removed
 * one), cannot take its link out of sync, nor bring it back unless it is
 * out. The reads a whole-state apply's thousands of addresses would cost
 * are not made. */
static void watch_addr_link_again(const char *ns, const char *link,
				  json_t *addr, enum events_source src)
{
	char key[512];
	bool link_out;

	snprintf(key, sizeof(key), "%s %s %s", events_type_name(EVENTS_LINK),
		 ns, link);
	pthread_mutex_lock(&watch_mu);
	link_out = json_object_get(watch_out_of_sync, key) != NULL;
	pthread_mutex_unlock(&watch_mu);
	if (!link_out && !json_is_false(json_object_get(addr, "in_sync")))
		return;
	watch_drift_again(EVENTS_LINK, ns, link, src);
}

/* One object told: its event (without an object once it is gone), and
 * its drift when its in_sync flipped. */
static void watch_tell(unsigned type, const char *action, const char *ns,
		       const char *name, json_t *obj, enum events_source src)
{
	events_emit(type, action, ns, name,
		    strcmp(action, "removed") ? obj : NULL, src);
	watch_drift(type, ns, name, obj, src);
}

/* Forgets what was out of sync in a namespace that is gone: it is one
 * missing object now, its contents not counted again (state/drift.h). */
static void watch_drift_forget_ns(const char *ns)
{
	char prefix[128];
	const char *k;
	json_t *v;
	void *tmp;

	pthread_mutex_lock(&watch_mu);
	json_object_foreach_safe(watch_out_of_sync, tmp, k, v) {
		const char *sp = strchr(k, ' ');

		snprintf(prefix, sizeof(prefix), "%s ", ns);
		if (sp && !strncmp(sp + 1, prefix, strlen(prefix)) &&
		    strncmp(k, "namespace ", 10))
			json_object_del(watch_out_of_sync, k);
	}
	pthread_mutex_unlock(&watch_mu);
}

static const char *watch_action(enum monitor_action a)
{
	return a == MONITOR_ADDED     ? "added"
	       : a == MONITOR_REMOVED ? "removed"
				      : "changed";
}

/* The name of link `ifindex` of `ns` now, or false. */
static bool watch_ifname(const char *ns, int ifindex, char *ret)
{
	struct nl_sock *s = NULL;
	struct nl_link l;
	int r;

	if (ifindex <= 0 || nl_ns_get(ns, &s) < 0)
		return false;
	r = nl_link_get_index(s, ifindex, &l);
	nl_ns_put(ns, s);
	if (r < 0)
		return false;
	memcpy(ret, l.name, IFNAMSIZ);
	return true;
}

static void watch_kernel_ns(const struct monitor_note *n,
			    enum events_source src)
{
	json_t *obj = watch_read_ns(n->ns);

	events_emit(EVENTS_NAMESPACE, watch_action(n->action), n->ns, n->ns,
		    n->action == MONITOR_REMOVED ? NULL : obj, src);
	if (n->action == MONITOR_REMOVED)
		watch_drift_forget_ns(n->ns);
	watch_drift(EVENTS_NAMESPACE, n->ns, n->ns, obj, src);
	json_decref(obj);
}

static void watch_kernel_link(const struct monitor_note *n,
			      enum events_source src)
{
	char now[IFNAMSIZ];
	json_t *obj;

	if (!n->name[0])
		return;
	obj = watch_read_link(n->ns, n->name);
	/* A managed link that is gone still has a GET: "missing". Another
	 * one changed and gone already (a far end losing its carrier as its
	 * namespace goes) is told by its removal, not as a change to
	 * nothing; one that could not be read (a slow kernel) is told with
	 * no object, for clients to read it again. */
	if (obj || n->action != MONITOR_CHANGED ||
	    watch_ifname(n->ns, n->ifindex, now))
		watch_tell(EVENTS_LINK, watch_action(n->action), n->ns, n->name,
			   obj, src);
	json_decref(obj);
}

static void watch_kernel_addr(const struct monitor_note *n,
			      enum events_source src)
{
	char link[IFNAMSIZ], name[IFNAMSIZ + INET6_ADDRSTRLEN + 8];
	json_t *obj;

	/* Gone with its link: the link's own event says so. */
	if (!watch_ifname(n->ns, n->ifindex, link))
		return;
	snprintf(name, sizeof(name), "%s/%s/%u", link, n->addr, n->prefixlen);
	obj = watch_read_addr(n->ns, link, n->addr, n->prefixlen);
	watch_tell(EVENTS_ADDRESS, watch_action(n->action), n->ns, name, obj,
		   src);
	watch_addr_link_again(n->ns, link, obj, src);
	json_decref(obj);
}

/* A sysctl of the allow-list (README.md, "Sysctls") the kernel told of:
 * its item as its GET shows it; other keys are not netnsd's to tell. */
static void watch_kernel_sysctl_key(const char *ns, const char *key,
				    enum events_source src)
{
	char path[512], a[200], b[200];
	struct sysctl_key k;
	const char *why;
	json_t *obj;

	if (sysctl_key_parse(key, &k, &why) < 0)
		return;
	watch_seg(a, sizeof(a), ns);
	watch_seg(b, sizeof(b), key);
	snprintf(path, sizeof(path), "/v1/namespaces/%s/sysctls/%s", a, b);
	obj = watch_read(path);
	watch_tell(EVENTS_SYSCTL, "changed", ns, key, obj, src);
	json_decref(obj);
}

/* The kernel tells a change of some conf values (RTM_NEWNETCONF): the
 * key is that of conf.all, conf.default or a link's directory. */
static void watch_kernel_sysctl(const struct monitor_note *n,
				enum events_source src)
{
	char dev[IFNAMSIZ], key[SYSCTL_KEY_MAX + 16];
	bool v4 = n->family == AF_INET;

	if (n->ifindex == -1)
		snprintf(dev, sizeof(dev), "all");
	else if (n->ifindex == -2)
		snprintf(dev, sizeof(dev), "default");
	else if (!watch_ifname(n->ns, n->ifindex, dev))
		return;
	snprintf(key, sizeof(key), "net.ipv%d.conf.%s.%s", v4 ? 4 : 6, dev,
		 n->sysctl);
	watch_kernel_sysctl_key(n->ns, key, src);
	/* net.ipv4.ip_forward is conf.all.forwarding under another name:
	 * the kernel tells the one change once. */
	if (v4 && n->ifindex == -1 && !strcmp(n->sysctl, "forwarding"))
		watch_kernel_sysctl_key(n->ns, "net.ipv4.ip_forward", src);
}

/* Whether a desired route has the identity of the notification's. */
static bool watch_route_desired(const struct monitor_note *n, const char *cidr)
{
	char key[KEY_MAX];
	json_t *v;

	key_route(key, n->ns, n->table, cidr, n->metric);
	v = store_get(watch_store, key);
	json_decref(v);
	return v != NULL;
}

static void watch_kernel_route(const struct monitor_note *n,
			       enum events_source src)
{
	char name[INET6_ADDRSTRLEN + 8], dev[IFNAMSIZ];
	json_t *obj;

	snprintf(name, sizeof(name), "%s/%u", n->addr, n->prefixlen);
	/* A route nothing desires (the kernel's own, most often, one per
	 * address added) is told from the notification's facts: its GET
	 * lists every route and link of the namespace, which an apply of
	 * a thousand addresses would pay a thousand times. */
	obj = watch_route_desired(n, name)
		      ? watch_read_route(n->ns, n->addr, n->prefixlen, n->table,
					 n->metric)
		      : NULL;
	/* A route GET cannot show (the kernel's own, say): its facts. */
	if (!obj && n->action != MONITOR_REMOVED) {
		obj = json_pack("{s:s, s:s, s:I, s:I, s:b}", "dst", name,
				"family",
				n->family == AF_INET ? "ipv4" : "ipv6", "table",
				(json_int_t)n->table, "metric",
				(json_int_t)n->metric, "managed", 0);
		if (obj && n->via[0])
			json_object_set_new(obj, "via", json_string(n->via));
		if (obj && watch_ifname(n->ns, n->ifindex, dev))
			json_object_set_new(obj, "dev", json_string(dev));
	}
	watch_tell(EVENTS_ROUTE, watch_action(n->action), n->ns, name, obj,
		   src);
	json_decref(obj);
}

/* Each item of a list GET `path` (of a namespace) whose in_sync flipped,
 * named by its member `name_key`. */
static void watch_redump_list(const char *path, const char *ns, unsigned type,
			      const char *name_key, enum events_source src)
{
	json_t *list = watch_read(path), *o;
	size_t i;

	json_array_foreach(json_object_get(list, "items"), i, o) {
		const char *name =
			json_string_value(json_object_get(o, name_key));

		if (name)
			watch_drift(type, ns, name, o, src);
	}
	json_decref(list);
}

/* The desired addresses of `ns`, each read as its GET shows it (a link's
 * answer lists its addresses as text, without their sync). */
static void watch_redump_addrs(const char *ns, enum events_source src)
{
	char prefix[KEY_MAX], link[IFNAMSIZ], ip[INET6_ADDRSTRLEN];
	const char *k, *rest, *slash;
	json_t *want, *v, *obj;
	unsigned len;

	key_addr_prefix(prefix, ns, NULL);
	want = store_list(watch_store, prefix);
	json_object_foreach(want, k, v) {
		rest = k + strlen(prefix);
		slash = strchr(rest, '/');
		if (!slash || (size_t)(slash - rest) >= sizeof(link) ||
		    sscanf(slash + 1, "%45[^/]/%u", ip, &len) != 2)
			continue;
		memcpy(link, rest, (size_t)(slash - rest));
		link[slash - rest] = '\0';
		obj = watch_read_addr(ns, link, ip, len);
		if (obj)
			watch_drift(EVENTS_ADDRESS, ns, rest, obj, src);
		json_decref(obj);
	}
	json_decref(want);
}

/* What `ns` holds as it is now, after the kernel dropped notifications:
 * whatever flipped meanwhile is a drift. */
static void watch_redump(const char *ns, enum events_source src)
{
	char path[256], a[200];

	watch_seg(a, sizeof(a), ns);
	snprintf(path, sizeof(path), "/v1/namespaces/%s/links", a);
	watch_redump_list(path, ns, EVENTS_LINK, "name", src);
	watch_redump_addrs(ns, src);
	snprintf(path, sizeof(path), "/v1/namespaces/%s/routes", a);
	watch_redump_list(path, ns, EVENTS_ROUTE, "dst", src);
	snprintf(path, sizeof(path), "/v1/namespaces/%s/sysctls", a);
	watch_redump_list(path, ns, EVENTS_SYSCTL, "key", src);
}

/* A notification of the kernel's. netnsd's own changes asked through the
 * API are told by the API's answer (watch_api), with the object as the
 * request left it: the kernel's echo of them is not told again. */
static void watch_kernel_tell(const struct monitor_note *n,
			      enum events_source src);

/* The objects a whole-state apply changes, told once each when it ends
 * (watch_bulk_end), not once per kernel notification: making a veth pair
 * on a bridge is several notifications of each end, and each telling
 * reads the object as its GET shows it, so a namespace told before its
 * links are made would say they are missing. An object's notifications
 * fold into one action (watch_bulk_fold). */
struct watch_bulk_item {
	struct monitor_note note;
	bool unseen; /* made and gone again within the apply: not told */
};
static struct watch_bulk_item *watch_bulk;
static size_t watch_bulk_n, watch_bulk_cap;
static json_t *watch_bulk_seen; /* "kind ns name" -> index in watch_bulk */
/* The namespaces desired when the apply began: with those desired now,
 * and the host, all it may touch. */
static json_t *watch_bulk_old_ns;

/* Whether the apply under way may touch namespace `ns`. A notification
 * that names no socket is taken for netnsd's while a change of netnsd's
 * is in flight, which an apply makes for its whole length: one from a
 * namespace it cannot touch is someone else's change (README.md,
 * "Watching", "Whose change"). */
static bool watch_bulk_touches(const char *ns)
{
	char key[KEY_MAX];
	json_t *rec;
	bool old;

	if (name_is_host(ns))
		return true;
	pthread_mutex_lock(&watch_mu);
	old = !watch_bulk_old_ns || json_object_get(watch_bulk_old_ns, ns);
	pthread_mutex_unlock(&watch_mu);
	if (old)
		return true;
	key_ns(key, ns);
	rec = store_get(watch_store, key);
	json_decref(rec);
	return rec != NULL;
}

/* What one more notification `n` of an object makes of its telling: made
 * then changed is made, made then gone is nothing (an undone step), gone
 * then made again is changed; else the last one says. */
static void watch_bulk_fold(struct watch_bulk_item *it,
			    const struct monitor_note *n)
{
	enum monitor_action was = it->note.action;
	bool unseen = it->unseen;

	it->note = *n;
	it->unseen = false;
	if (unseen && n->action == MONITOR_REMOVED)
		it->unseen = true;
	else if (unseen)
		it->note.action = MONITOR_ADDED;
	else if (was == MONITOR_ADDED && n->action == MONITOR_REMOVED)
		it->unseen = true;
	else if (was == MONITOR_ADDED)
		it->note.action = MONITOR_ADDED;
	else if (was == MONITOR_REMOVED && n->action == MONITOR_ADDED)
		it->note.action = MONITOR_CHANGED;
}

/* Room for one more item; false when there is none. */
static bool watch_bulk_grow(void)
{
	size_t cap = watch_bulk_cap ? watch_bulk_cap * 2 : 256;
	struct watch_bulk_item *m;

	if (watch_bulk_n < watch_bulk_cap)
		return true;
	m = realloc(watch_bulk, cap * sizeof(*m));
	if (!m)
		return false;
	watch_bulk = m;
	watch_bulk_cap = cap;
	return true;
}

/* Keeps `n` for the end of the apply; false when it cannot (told now). */
static bool watch_bulk_note(const struct monitor_note *n)
{
	char key[200];
	json_t *at;
	bool kept = false;

	/* A sysctl's note names no object the key below tells apart: told
	 * at once. */
	if (n->kind == MONITOR_RESYNC || n->kind == MONITOR_SYSCTL)
		return false;
	snprintf(key, sizeof(key), "%d %s %s %s/%u %u %u", n->kind, n->ns,
		 n->name, n->addr, n->prefixlen, n->table, n->metric);
	pthread_mutex_lock(&watch_mu);
	if (!watch_bulk_seen)
		watch_bulk_seen = json_object();
	at = watch_bulk_seen ? json_object_get(watch_bulk_seen, key) : NULL;
	if (at) {
		watch_bulk_fold(&watch_bulk[json_integer_value(at)], n);
		kept = true;
	} else if (watch_bulk_seen && watch_bulk_grow()) {
		watch_bulk[watch_bulk_n].note = *n;
		watch_bulk[watch_bulk_n].unseen = false;
		kept = json_object_set_new(
			       watch_bulk_seen, key,
			       json_integer((json_int_t)watch_bulk_n)) == 0;
		watch_bulk_n += kept;
	}
	pthread_mutex_unlock(&watch_mu);
	return kept;
}

static void watch_ns_again_drain(void);

/* Tells what the apply changed, each object once, in the order first
 * seen (a namespace before the links made in it); the namespaces of the
 * links that flipped are read again at the end, each once. */
static void watch_bulk_tell(void)
{
	bool batching = watch_batching;
	struct watch_bulk_item *items;
	size_t n;

	pthread_mutex_lock(&watch_mu);
	items = watch_bulk;
	n = watch_bulk_n;
	watch_bulk = NULL;
	watch_bulk_n = watch_bulk_cap = 0;
	json_decref(watch_bulk_seen);
	watch_bulk_seen = NULL;
	json_decref(watch_bulk_old_ns);
	watch_bulk_old_ns = NULL;
	pthread_mutex_unlock(&watch_mu);
	watch_batching = true;
	for (size_t i = 0; i < n; i++)
		if (!items[i].unseen)
			watch_kernel_tell(&items[i].note, EVENTS_SOURCE_API);
	free(items);
	watch_ns_again_drain();
	watch_batching = batching;
}

static void watch_kernel(const struct monitor_note *n)
{
	enum events_source src = EVENTS_SOURCE_KERNEL;

	if (n->own)
		src = n->source == MONITOR_SOURCE_RECONCILE
			      ? EVENTS_SOURCE_RECONCILE
			      : EVENTS_SOURCE_API;

	watch_mark(n->ns);
	/* A veth's far end that went with a namespace netnsd deleted: no
	 * answer told it (it goes after the answer), so this is told. */
	if (n->far_end) {
		watch_kernel_tell(n, src);
		return;
	}
	if (n->own && n->source == MONITOR_SOURCE_API)
		return;
	if (n->own && n->source == MONITOR_SOURCE_API_BULK) {
		if (!watch_bulk_touches(n->ns))
			src = EVENTS_SOURCE_KERNEL;
		else if (watch_bulk_note(n))
			return;
	}
	watch_kernel_tell(n, src);
}

/* One notification told: the object read as its GET shows it. */
static void watch_kernel_tell(const struct monitor_note *n,
			      enum events_source src)
{
	switch (n->kind) {
	case MONITOR_NAMESPACE: watch_kernel_ns(n, src); break;
	case MONITOR_LINK: watch_kernel_link(n, src); break;
	case MONITOR_ADDRESS: watch_kernel_addr(n, src); break;
	case MONITOR_ROUTE: watch_kernel_route(n, src); break;
	case MONITOR_SYSCTL: watch_kernel_sysctl(n, src); break;
	case MONITOR_RESYNC:
		events_resync(n->ns, "kernel-overflow");
		watch_redump(n->ns, EVENTS_SOURCE_KERNEL);
		break;
	}
}

/* One namespace's share of netnsd_drifted_objects, as drift_count()
 * counts it. `desired`: the namespaces with desired objects. */
static size_t watch_count_ns(const char *ns, json_t *desired)
{
	size_t n = 0;

	if (!json_object_get(desired, ns))
		return 0;
	if (!nl_ns_exists(ns))
		return 1;
	drift_ns(watch_store, ns, NULL, 0, &n, NULL);
	return n;
}

/* The namespaces to recount, taken out of the marks: the dirty ones, or
 * every one with desired objects (`*all`). Under watch_mu. */
static json_t *watch_take_dirty(json_t *desired, bool *all)
{
	json_t *take = watch_dirty, *fresh = json_object();

	if (!fresh)
		return NULL;
	watch_dirty = fresh;
	*all = watch_all_dirty;
	watch_all_dirty = false;
	if (*all)
		json_object_update(take, desired);
	return take;
}

/* Brings the counts up to date: the dirty namespaces, or all. The kernel
 * is read with watch_mu let go: the monitor's thread takes it for every
 * event, and a namespace slow to answer must not hold the events of the
 * others (a namespace marked meanwhile is counted again next time). */
static void watch_recount(void)
{
	/* One recount at a time (two /metrics at once): else an older read
	 * could be written over a newer one. Not watch_mu: the monitor's
	 * thread never waits for it. */
	static pthread_mutex_t recount_mu = PTHREAD_MUTEX_INITIALIZER;
	json_t *desired, *todo, *n, *v;
	const char *k;
	bool all = false;

	pthread_mutex_lock(&recount_mu);
	desired = drift_desired_namespaces(watch_store);
	if (!desired) {
		pthread_mutex_unlock(&recount_mu);
		return;
	}
	pthread_mutex_lock(&watch_mu);
	todo = watch_take_dirty(desired, &all);
	pthread_mutex_unlock(&watch_mu);
	n = json_object();
	if (todo && n)
		json_object_foreach(todo, k, v)
			json_object_set_new(
				n, k,
				json_integer((json_int_t)watch_count_ns(
					k, desired)));
	pthread_mutex_lock(&watch_mu);
	if (!todo || !n) {
		watch_all_dirty = true; /* out of memory: next time */
	} else {
		if (all)
			json_object_clear(watch_counts);
		json_object_foreach(n, k, v) {
			if (json_integer_value(v))
				json_object_set(watch_counts, k, v);
			else
				json_object_del(watch_counts, k);
		}
	}
	pthread_mutex_unlock(&watch_mu);
	pthread_mutex_unlock(&recount_mu);
	json_decref(n);
	json_decref(todo);
	json_decref(desired);
}

bool watch_drifted(size_t *ret)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	if (!watch_running || monitor_sync(1000) < 0)
		return false;
	watch_recount();
	pthread_mutex_lock(&watch_mu);
	json_object_foreach(watch_counts, k, v)
		n += (size_t)json_integer_value(v);
	pthread_mutex_unlock(&watch_mu);
	*ret = n;
	return true;
}

/* The namespaces whose links flipped in a batch are read again, each
 * once. */
static void watch_ns_again_drain(void)
{
	json_t *todo, *v;
	const char *k;

	pthread_mutex_lock(&watch_mu);
	todo = json_object_size(watch_ns_again) ? watch_ns_again : NULL;
	if (todo)
		watch_ns_again = json_object();
	pthread_mutex_unlock(&watch_mu);
	if (!todo)
		return;
	json_object_foreach(todo, k, v)
		watch_drift_again(EVENTS_NAMESPACE, k, k,
				  (enum events_source)json_integer_value(v));
	json_decref(todo);
}

/* The monitor has read all there was. */
static void watch_idle(void)
{
	watch_batching = true;
	watch_ns_again_drain();
}

int watch_start(struct store *store)
{
	int r;

	watch_store = store;
	watch_out_of_sync = json_object();
	watch_counts = json_object();
	watch_dirty = json_object();
	watch_ns_again = json_object();
	if (!watch_out_of_sync || !watch_counts || !watch_dirty ||
	    !watch_ns_again)
		return -ENOMEM;
	r = monitor_start(watch_kernel, watch_idle);
	if (r < 0) {
		log_warn(
			"cannot watch the kernel (%s): the event stream carries the API's changes only",
			strerror(-r));
		return r;
	}
	watch_running = true;
	return 0;
}

void watch_stop(void)
{
	if (watch_running)
		monitor_stop();
	watch_running = false;
}

void watch_reconcile_begin(void)
{
	monitor_set_source(MONITOR_SOURCE_RECONCILE);
}

void watch_reconcile_end(void)
{
	monitor_set_source(MONITOR_SOURCE_API);
	watch_mark_all();
}

/* The pattern's tail after the namespace: which kind of object a route
 * changes (server/routes.c). */
static bool watch_is(const struct route *route, const char *method,
		     const char *pattern)
{
	return !strcmp(route->method, method) &&
	       !strcmp(route->pattern, pattern);
}

static bool watch_is_put_or_delete(const struct route *route,
				   const char *pattern)
{
	return watch_is(route, "PUT", pattern) ||
	       watch_is(route, "DELETE", pattern);
}

#define W_NS   "/v1/namespaces/{ns}"
#define W_LINK W_NS "/links/{link}"
#define W_BR   W_NS "/bridges/{br}"

/* A link's event as the API changed it, with its veth peer's. */
static void watch_api_link(const char *action, const char *ns, const char *name,
			   json_t *obj)
{
	/* A link removed through the API is gone with its record: there is
	 * nothing to read, and nothing of it can be out of sync. */
	json_t *own = obj			  ? json_incref(obj)
		      : strcmp(action, "removed") ? watch_read_link(ns, name)
						  : NULL;

	watch_tell(EVENTS_LINK, action, ns, name, own, EVENTS_SOURCE_API);
	json_decref(own);
	watch_mark(ns);
}

/* The same for an object written as JSON text, told as it is: read only
 * for its drift. */
static void watch_api_link_text(const char *action, const char *ns,
				const char *name, const char *text)
{
	json_t *own = json_loads(text, 0, NULL);

	events_emit_text(EVENTS_LINK, action, ns, name, text,
			 EVENTS_SOURCE_API);
	watch_drift(EVENTS_LINK, ns, name, own, EVENTS_SOURCE_API);
	json_decref(own);
	watch_mark(ns);
}

/* The far end `name` of `ns` of a veth whose other end the API has just
 * answered with (`end`): the object its GET shows, as JSON text, read
 * with `end` as the peer's hint. Without it the GET would find the peer's
 * name with a dump of the peer's namespace, whose cached names every new
 * link there makes stale: one dump per pair, of every link, for a name
 * the answer already holds. NULL when it cannot be read. */
static char *watch_read_far_end(const char *ns, const char *name, json_t *end)
{
	char path[448], a[200], b[200], *text = NULL;
	struct request req = { .method = "GET", .body = "" };
	struct reply rep = { .problem = PROBLEM_INIT };
	const struct route *route = NULL;
	char allow[128];

	req.peer_hint.ns = json_string_value(json_object_get(end, "namespace"));
	req.peer_hint.name = json_string_value(json_object_get(end, "name"));
	req.peer_hint.ifindex =
		(int)json_integer_value(json_object_get(end, "ifindex"));
	watch_seg(a, sizeof(a), ns);
	watch_seg(b, sizeof(b), name);
	snprintf(path, sizeof(path), "/v1/namespaces/%s/links/%s", a, b);
	req.path = path;
	req.store = watch_store;
	if (router_match("GET", path, &route, &req, allow, sizeof(allow),
			 &rep.problem) == 0) {
		nl_request_begin();
		route->handle(&req, &rep);
	}
	/* The body's last newline is no part of an event's one-line data. */
	if (!rep.problem.status && rep.text_owned && rep.text_len &&
	    rep.text_owned[rep.text_len - 1] == '\n') {
		rep.text_owned[rep.text_len - 1] = '\0';
		text = rep.text_owned;
		rep.text_owned = NULL;
	}
	json_decref(rep.json);
	free(rep.text_owned);
	problem_clear(&rep.problem);
	request_clear(&req);
	return text;
}

/* The far end of a veth made by the API: an event of its own, in its
 * namespace. `end`: the answer's object, when it is the other end as it
 * is now. */
static void watch_api_peer(json_t *obj, const char *action, bool fresh)
{
	json_t *peer = json_object_get(obj, "peer");
	const char *pns = json_string_value(json_object_get(peer, "namespace"));
	const char *pname = json_string_value(json_object_get(peer, "name"));
	char *far;

	if (!pns || !pname)
		return;
	far = fresh ? watch_read_far_end(pns, pname, obj) : NULL;
	if (far)
		watch_api_link_text(action, pns, pname, far);
	else
		watch_api_link(action, pns, pname, NULL);
	free(far);
}

static void watch_api_route(const struct route *route,
			    const struct request *req, const struct reply *rep)
{
	const char *ns = request_param(req, "ns");
	const char *dst = json_string_value(json_object_get(rep->json, "dst"));
	const char *action = !strcmp(route->method, "DELETE") ? "removed"
			     : rep->status == 201	      ? "added"
							      : "changed";
	char name[256];

	if (!ns)
		return;
	if (dst)
		snprintf(name, sizeof(name), "%s", dst);
	else if (request_param(req, "dst") && request_param(req, "prefixlen"))
		snprintf(name, sizeof(name), "%s/%s", request_param(req, "dst"),
			 request_param(req, "prefixlen"));
	else
		return;
	watch_tell(EVENTS_ROUTE, action, ns, name, rep->json,
		   EVENTS_SOURCE_API);
	watch_mark(ns);
}

/* A PATCH may rename a link or move it to another namespace: then it is
 * gone under its old name and there under its new one. */
static void watch_api_patch(const struct request *req, const struct reply *rep)
{
	const char *ns = request_param(req, "ns"),
		   *link = request_param(req, "link");
	json_t *body = json_loadb(req->body, req->body_len, 0, NULL);
	const char *to_ns =
		json_string_value(json_object_get(body, "namespace"));
	const char *to = json_string_value(json_object_get(body, "name"));

	if (!ns || !link) {
		json_decref(body);
		return;
	}
	if (!to_ns)
		to_ns = ns;
	if (!to)
		to = link;
	if (!strcmp(to_ns, ns) && !strcmp(to, link)) {
		watch_api_link("changed", ns, link, rep->json);
	} else {
		watch_api_link("removed", ns, link, NULL);
		watch_api_link("added", to_ns, to, rep->json);
		/* A veth's far end now names it anew as its peer. */
		watch_api_peer(rep->json, "changed", true);
	}
	json_decref(body);
}

static void watch_api_ns(const struct request *req, const struct reply *rep,
			 const char *action)
{
	const char *ns = request_param(req, "ns");
	json_t *obj = rep->json;

	if (!ns)
		ns = json_string_value(json_object_get(obj, "name"));
	if (!ns)
		return;
	if (!strcmp(action, "removed")) {
		watch_drift_forget_ns(ns);
		obj = NULL;
	}
	watch_tell(EVENTS_NAMESPACE, action, ns, ns, obj, EVENTS_SOURCE_API);
	watch_mark(ns);
}

static void watch_api_addr(const struct request *req, const struct reply *rep,
			   const char *action)
{
	const char *ns = request_param(req, "ns"),
		   *link = request_param(req, "link");
	const char *ip = request_param(req, "ip"),
		   *plen = request_param(req, "prefixlen");
	const char *cidr =
		json_string_value(json_object_get(rep->json, "address"));
	char name[256];

	if (!ns || !link)
		return;
	if (cidr)
		snprintf(name, sizeof(name), "%s/%s", link, cidr);
	else if (ip && plen)
		snprintf(name, sizeof(name), "%s/%s/%s", link, ip, plen);
	else
		return;
	watch_tell(EVENTS_ADDRESS, action, ns, name, rep->json,
		   EVENTS_SOURCE_API);
	watch_addr_link_again(ns, link, rep->json, EVENTS_SOURCE_API);
	watch_mark(ns);
}

/* A sysctl set or let go: its drift too, which the kernel's change of it
 * may have flipped (watch_kernel_sysctl). */
static void watch_api_sysctl(const struct request *req, const struct reply *rep,
			     const char *action)
{
	const char *ns = request_param(req, "ns"),
		   *key = request_param(req, "key");
	json_t *obj = strcmp(action, "removed") ? rep->json : NULL;

	if (!ns || !key)
		return;
	watch_tell(EVENTS_SYSCTL, action, ns, key, obj, EVENTS_SOURCE_API);
}

/* A change of the whole desired state (PUT /v1/state, its rollback) has no
 * one object to tell from its answer: what it changes in the kernel is told
 * from the kernel's notifications, as the API's, and a `state` event says
 * it is done. */
void watch_bulk_begin(void)
{
	json_t *old = drift_desired_namespaces(watch_store);

	pthread_mutex_lock(&watch_mu);
	json_decref(watch_bulk_old_ns);
	watch_bulk_old_ns = old;
	pthread_mutex_unlock(&watch_mu);
	monitor_set_source(MONITOR_SOURCE_API_BULK);
}

static void watch_bulk_close(json_t *report, bool told);

void watch_bulk_end(json_t *report, bool told)
{
	watch_bulk_close(report, told);
}

/* The end of an apply: what it changed told, and with `told` a `state`
 * event (a refused apply, whose steps were undone, has none). */
static void watch_bulk_close(json_t *report, bool told)
{
	monitor_set_source(MONITOR_SOURCE_API);
	/* After what the kernel notified of it (bounded: the monitor may be
	 * stuck reading a namespace that does not answer). */
	if (watch_running)
		monitor_sync(1000);
	watch_bulk_tell();
	if (told)
		events_emit(EVENTS_STATE, "changed", NULL, NULL, report,
			    EVENTS_SOURCE_API);
	watch_mark_all();
}

json_t *watch_api_before(const struct route *route, const struct request *req)
{
	const char *ns = request_param(req, "ns");
	const char *name = request_param(req, "name");

	/* Whatever a request before this one on this thread left. */
	monitor_set_source(MONITOR_SOURCE_API);
	if (watch_is(route, "PUT", "/v1/state") && !req->dry_run)
		watch_bulk_begin();

	if (!ns || strcmp(route->method, "DELETE"))
		return NULL;
	if (!strcmp(route->pattern, W_LINK))
		name = request_param(req, "link");
	else if (strcmp(route->pattern, W_NS "/veths/{name}"))
		return NULL;
	/* Its veth peer goes with it: known only before. */
	return name ? watch_read_link(ns, name) : NULL;
}

/* A link, veth or bridge deleted: its far end goes with a veth. */
static void watch_api_link_gone(const struct request *req, json_t *before)
{
	const char *ns = request_param(req, "ns");
	const char *gone = request_param(req, "link");

	if (!gone)
		gone = request_param(req, "name");
	if (!gone)
		gone = request_param(req, "br");
	if (gone)
		watch_api_link("removed", ns, gone, NULL);
	watch_api_peer(before, "removed", false);
}

/* The routes that change links, veths, bridges and their ports; false
 * when `route` is none of them. */
static bool watch_api_links(const struct route *route,
			    const struct request *req, const struct reply *rep,
			    json_t *before)
{
	const char *ns = request_param(req, "ns");
	const char *name =
		json_string_value(json_object_get(rep->json, "name"));
	const char *put = rep->status == 201 ? "added" : "changed";

	if (watch_is(route, "PATCH", W_LINK))
		watch_api_patch(req, rep);
	else if (watch_is(route, "PATCH", W_BR))
		watch_api_link("changed", ns,
			       name ? name : request_param(req, "br"),
			       rep->json);
	else if (watch_is(route, "POST", W_NS "/veths") && name) {
		watch_api_link("added", ns, name, rep->json);
		watch_api_peer(rep->json, "added", true);
	} else if (watch_is(route, "PUT", W_NS "/veths/{name}")) {
		watch_api_link(put, ns, request_param(req, "name"), rep->json);
		watch_api_peer(rep->json, put, true);
	} else if ((watch_is(route, "POST", W_NS "/links") ||
		    watch_is(route, "POST", W_NS "/bridges")) &&
		   name)
		watch_api_link("added", ns, name, rep->json);
	else if (watch_is(route, "PUT", W_LINK))
		watch_api_link(put, ns, request_param(req, "link"), rep->json);
	else if (watch_is(route, "PUT", W_BR))
		watch_api_link(put, ns, request_param(req, "br"), rep->json);
	else if (watch_is(route, "DELETE", W_LINK) ||
		 watch_is(route, "DELETE", W_NS "/veths/{name}") ||
		 watch_is(route, "DELETE", W_BR))
		watch_api_link_gone(req, before);
	else if (watch_is(route, "PUT", W_BR "/ports/{link}") ||
		 watch_is(route, "DELETE", W_BR "/ports/{link}"))
		watch_api_link("changed", ns, request_param(req, "link"), NULL);
	else
		return false;
	return true;
}

/* The routes of namespaces, sysctls, routes and addresses; false when
 * `route` is none of them. */
static bool watch_api_others(const struct route *route,
			     const struct request *req, const struct reply *rep)
{
	const char *put = rep->status == 201 ? "added" : "changed";
	bool del = !strcmp(route->method, "DELETE");

	if (watch_is(route, "POST", "/v1/namespaces"))
		watch_api_ns(req, rep, "added");
	else if (watch_is(route, "PUT", W_NS))
		watch_api_ns(req, rep, put);
	else if (watch_is(route, "DELETE", W_NS))
		watch_api_ns(req, rep, "removed");
	else if (watch_is_put_or_delete(route, W_NS "/sysctls/{key}"))
		watch_api_sysctl(req, rep, del ? "removed" : put);
	else if (watch_is(route, "POST", W_NS "/routes") ||
		 watch_is_put_or_delete(route,
					W_NS "/routes/{dst}/{prefixlen}"))
		watch_api_route(route, req, rep);
	else if (watch_is(route, "POST", W_LINK "/addresses"))
		watch_api_addr(req, rep, "added");
	else if (watch_is_put_or_delete(route,
					W_LINK "/addresses/{ip}/{prefixlen}"))
		watch_api_addr(req, rep, del ? "removed" : put);
	else
		return false;
	return true;
}

static void watch_api_json(const struct route *route, const struct request *req,
			   const struct reply *rep, json_t *before)
{
	/* A dry run changed nothing: its answer is a plan. */
	if (req->dry_run)
		return;
	if (watch_is(route, "PUT", "/v1/state")) {
		/* It may have recorded a confirmation's deadline, which the
		 * main loop sleeps through unless told (server/confirm.h). */
		if (rep->status < 300)
			confirm_armed();
		watch_bulk_close(rep->json, rep->status < 300);
		return;
	}
	if (rep->status >= 300 || watch_api_links(route, req, rep, before) ||
	    watch_api_others(route, req, rep))
		return;
	if (watch_is(route, "POST", "/v1/state/confirm") ||
	    watch_is(route, "POST", "/v1/reconcile")) {
		/* After the repairs, which the monitor tells as it reads
		 * them (bounded, as for a whole-state apply). */
		if (watch_running)
			monitor_sync(1000);
		events_emit(EVENTS_STATE, "changed", NULL, NULL, rep->json,
			    EVENTS_SOURCE_API);
	}
	if (watch_is(route, "POST", "/v1/reconcile"))
		watch_mark_all();
}

/* An answer written as JSON text (a link's, rendered once for the client)
 * is read here for what its events take from it. */
void watch_api(const struct route *route, const struct request *req,
	       const struct reply *rep, json_t *before)
{
	struct reply read = *rep;

	/* A refused change told nothing, but a refused whole-state apply may
	 * have made and undone steps whose notifications it holds: they are
	 * told now, with no `state` event, not folded into the next one. */
	if (rep->problem.status) {
		if (watch_is(route, "PUT", "/v1/state") && !req->dry_run)
			watch_bulk_close(NULL, false);
		return;
	}
	if (!read.json && read.text && read.content_type &&
	    !strcmp(read.content_type, "application/json") &&
	    rep->status < 300 && !req->dry_run)
		read.json = json_loadb(read.text, read.text_len, 0, NULL);
	watch_api_json(route, req, &read, before);
	if (read.json != rep->json)
		json_decref(read.json);
}
