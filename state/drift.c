#include "drift.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../api/name.h"
#include "../api/value.h"
#include "../netlink/addr.h"
#include "../netlink/link.h"
#include "../netlink/link_index.h"
#include "../netlink/ns.h"
#include "diff.h"
#include "key.h"
#include "route_apply.h"
#include "sysctl_apply.h"

/* What the kernel has in one namespace, found in constant or log time:
 * a namespace's GET reads it, and may hold thousands of links. */
struct drift_kernel {
	struct nl_link *links;
	size_t n_links;
	struct link_index idx;
	struct nl_addr *addrs; /* sorted by ifindex */
	size_t n_addrs;
};

static int drift_addr_cmp(const void *a, const void *b)
{
	int x = ((const struct nl_addr *)a)->ifindex;
	int y = ((const struct nl_addr *)b)->ifindex;

	return (x > y) - (x < y);
}

/* Whether link `ifindex` has address `c`. */
static bool drift_has_addr(const struct drift_kernel *k, int ifindex,
			   const struct cidr *c)
{
	size_t lo = 0, hi = k->n_addrs;

	while (lo < hi) { /* the first of the link's addresses */
		size_t mid = lo + (hi - lo) / 2;

		if (k->addrs[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < k->n_addrs && k->addrs[lo].ifindex == ifindex; lo++)
		if (value_cidr_equal(&k->addrs[lo].cidr, c))
			return true;
	return false;
}

/* One namespace's scan: what differs, counted, and said in words. */
struct drift_scan {
	json_t *words; /* or NULL: count only */
	size_t max;    /* words said at most, then "and N more" */
	size_t more;   /* words not said */
	size_t drifted;
};

static void drift_say(struct drift_scan *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void drift_say(struct drift_scan *d, const char *fmt, ...)
{
	char text[320];
	va_list ap;

	if (!d->words)
		return;
	if (json_array_size(d->words) >= d->max) {
		d->more++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_array_append_new(d->words, json_string(text));
}

/* A drift of a link that needs no values, in the API's words. */
static void drift_say_code(struct drift_scan *d, const char *name,
			   enum record_drift code)
{
	struct record_drift_item it = { .code = code };
	char text[128];

	record_drift_words(&it, text, sizeof(text));
	drift_say(d, "link %s: %s", name, text);
}

/* A desired link: missing, or its attributes and port (master) differ. */
static void drift_link(struct drift_scan *d, const char *name, json_t *rec,
		       const struct drift_kernel *k)
{
	const struct nl_link *l = link_index_name(&k->idx, name);
	const struct nl_link *m;
	struct record_link w;
	struct diff_link dl;
	size_t i, n;
	json_t *x;

	record_link_read(rec, &w);
	if (!l) {
		/* A record of attributes only (a link netnsd did not create)
		 * is not an object of its own once the link is gone. */
		if (w.owned) {
			d->drifted++;
			drift_say_code(d, name, RECORD_DRIFT_MISSING);
		}
		return;
	}
	/* The peer is another object, checked in its own namespace (and
	 * shown on the link itself): not looked up here. */
	w.has &= ~RECORD_HAS_PEER;
	m = l->master ? link_index_ifindex(&k->idx, l->master) : NULL;
	if (diff_link_want(&w, l, m ? m->name : NULL, NULL, NULL, &dl) < 0)
		return;
	n = json_array_size(dl.drift);
	json_array_foreach(dl.drift, i, x)
		drift_say(d, "link %s: %s", name, json_string_value(x));
	d->drifted += n > 0;
	diff_link_clear(&dl);
}

/* Whether drift_link() said link `name` is missing: the kernel lacks it
 * and the scan read an owned record of it, so its addresses, gone with it,
 * need no words of their own. A record written after the scan read them
 * (by a request running alongside), or one of attributes only, was not
 * said: its addresses are, so that a drift is never without its words. */
static bool drift_link_said_missing(const char *ns, const char *name,
				    const struct nl_link *l, json_t *links)
{
	struct record_link w;
	char key[KEY_MAX];
	json_t *rec;

	if (l)
		return false;
	key_link(key, ns, name);
	rec = json_object_get(links, key);
	if (!rec)
		return false;
	/* drift_link() read it already, and said what is wrong with it. */
	record_link_parse(rec, &w, NULL, 0);
	return w.owned;
}

/* A desired address ("<link>/<ip>/<len>" after the prefix): on its link?
 * `links` are the namespace's link records the scan read before it. */
static void drift_addr(struct drift_scan *d, const char *ns, const char *rest,
		       const struct drift_kernel *k, json_t *links)
{
	const char *slash = strchr(rest, '/');
	const struct nl_link *l;
	char link[IFNAMSIZ];
	struct cidr c;

	if (!slash || (size_t)(slash - rest) >= sizeof(link) ||
	    value_parse_cidr(slash + 1, &c))
		return;
	memcpy(link, rest, (size_t)(slash - rest));
	link[slash - rest] = '\0';
	l = link_index_name(&k->idx, link);
	if (l && drift_has_addr(k, l->ifindex, &c))
		return;
	d->drifted++;
	if (!drift_link_said_missing(ns, link, l, links))
		drift_say(d, "address %s on %s: missing", slash + 1, link);
}

/* The namespace's desired sysctls (README.md, "Sysctls"). */
static void drift_sysctls(struct drift_scan *d, struct store *s, const char *ns)
{
	char prefix[KEY_MAX], words[96];
	json_t *recs, *v;
	const char *k;

	key_sysctl_prefix(prefix, ns);
	recs = store_list(s, prefix);
	json_object_foreach(recs, k, v) {
		if (!sysctl_drift(ns, k + strlen(prefix), v, words,
				  sizeof(words)))
			continue;
		d->drifted++;
		drift_say(d, "sysctl %s: %s", k + strlen(prefix), words);
	}
	json_decref(recs);
}

int drift_ns(struct store *s, const char *ns, json_t *words, size_t max,
	     size_t *ret_drifted, int *ret_links)
{
	struct drift_scan d = { words, max, 0, 0 };
	struct drift_kernel kn = { 0 };
	struct nl_sock *sock = NULL;
	char prefix[KEY_MAX];
	json_t *recs, *links, *v;
	const char *k;
	size_t n;
	int r;

	r = nl_ns_get(ns, &sock);
	if (r == 0)
		r = nl_link_dump(sock, &kn.links, &kn.n_links);
	if (r == 0)
		r = nl_addr_dump(sock, 0, &kn.addrs, &kn.n_addrs);
	if (r < 0)
		kn.n_links = kn.n_addrs = 0;
	/* Built over no links, the index finds none: all count missing. */
	if (link_index_build(&kn.idx, kn.links, kn.n_links) < 0 && r == 0)
		r = -ENOMEM;
	if (kn.n_addrs)
		qsort(kn.addrs, kn.n_addrs, sizeof(*kn.addrs), drift_addr_cmp);
	key_link_prefix(prefix, ns);
	links = store_list(s, prefix);
	json_object_foreach(links, k, v)
		drift_link(&d, k + strlen(prefix), v, &kn);
	key_addr_prefix(prefix, ns, NULL);
	recs = store_list(s, prefix);
	json_object_foreach(recs, k, v)
		drift_addr(&d, ns, k + strlen(prefix), &kn, links);
	json_decref(recs);
	drift_sysctls(&d, s, ns);
	json_decref(links);
	/* Routes, after what they go through (README.md, "Routes"). */
	recs = json_array();
	d.drifted += route_drift_ns(s, ns, r == 0 ? sock : NULL, &kn.idx, recs);
	json_array_foreach(recs, n, v)
		drift_say(&d, "%s", json_string_value(v));
	json_decref(recs);
	if (d.more && words)
		json_array_append_new(words,
				      json_sprintf("and %zu more", d.more));
	if (ret_links)
		*ret_links = (int)kn.n_links;
	*ret_drifted = d.drifted;
	link_index_clear(&kn.idx);
	free(kn.links);
	free(kn.addrs);
	if (sock)
		nl_ns_put(ns, sock);
	return r;
}

/* Collects, once each, the namespaces that have desired objects. */
static int drift_note_ns(const char *k, json_t *v, void *userdata)
{
	char ns[NAME_NS_MAX + 1];

	(void)v;
	/* A marker of a change in flight (key.h) is not desired. */
	if (key_ns_of(k, ns))
		json_object_set_new(userdata, ns, json_true());
	return 0;
}

json_t *drift_desired_namespaces(struct store *s)
{
	json_t *nss = json_object();

	if (nss)
		store_foreach(s, "", drift_note_ns, nss);
	return nss;
}

int drift_count(struct store *s, size_t *ret)
{
	json_t *nss = drift_desired_namespaces(s), *v;
	const char *k;
	size_t n = 0, one;

	if (!nss)
		return -ENOMEM;
	json_object_foreach(nss, k, v) {
		if (!nl_ns_exists(k)) {
			n++; /* the namespace, and everything in it, is missing */
			continue;
		}
		/* Unreadable, its links count as missing. */
		drift_ns(s, k, NULL, 0, &one, NULL);
		n += one;
	}
	json_decref(nss);
	*ret = n;
	return 0;
}
