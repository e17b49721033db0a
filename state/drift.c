#include "drift.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../api/name.h"
#include "../api/value.h"
#include "../netlink/addr.h"
#include "../netlink/link.h"
#include "../netlink/ns.h"
#include "diff.h"
#include "key.h"

static const struct nl_link *drift_find(const struct nl_link *links, size_t n,
					const char *name, int ifindex)
{
	for (size_t i = 0; i < n; i++)
		if (name ? !strcmp(links[i].name, name)
			 : links[i].ifindex == ifindex)
			return &links[i];
	return NULL;
}

/* Counts drifted links and addresses of one namespace. */
static size_t drift_ns(struct store *s, const char *ns)
{
	struct nl_link *links = NULL;
	struct nl_addr *addrs = NULL;
	struct nl_sock *sock = NULL;
	size_t n_links = 0, n_addrs = 0, drifted = 0;
	char prefix[KEY_MAX];
	json_t *recs, *v;
	const char *k;

	if (nl_ns_get(ns, &sock) < 0 ||
	    nl_link_dump(sock, &links, &n_links) < 0 ||
	    nl_addr_dump(sock, 0, &addrs, &n_addrs) < 0)
		n_links = n_addrs = 0;
	key_link_prefix(prefix, ns);
	recs = store_list(s, prefix);
	json_object_foreach(recs, k, v)
	{
		const struct nl_link *l =
			drift_find(links, n_links, k + strlen(prefix), 0);
		const struct nl_link *m;
		struct diff_link d;

		if (!l) {
			drifted += json_is_true(json_object_get(v, "owned"));
			continue;
		}
		m = l->master ? drift_find(links, n_links, NULL, l->master)
			      : NULL;
		if (diff_link(v, l, m ? m->name : NULL, NULL, NULL, &d) < 0)
			continue;
		/* The peer is not looked up here; its words are not drift. */
		if (json_array_size(d.drift) >
		    (json_object_get(v, "peer") ? 1u : 0u))
			drifted++;
		diff_link_clear(&d);
	}
	json_decref(recs);
	key_addr_prefix(prefix, ns, NULL);
	recs = store_list(s, prefix);
	json_object_foreach(recs, k, v)
	{
		const char *rest = k + strlen(prefix),
			   *slash = strchr(rest, '/');
		const struct nl_link *l;
		char link[IFNAMSIZ];
		struct cidr c;
		bool found = false;

		if (!slash || (size_t)(slash - rest) >= sizeof(link) ||
		    value_parse_cidr(slash + 1, &c))
			continue;
		memcpy(link, rest, (size_t)(slash - rest));
		link[slash - rest] = '\0';
		l = drift_find(links, n_links, link, 0);
		for (size_t i = 0; l && i < n_addrs; i++)
			if (addrs[i].ifindex == l->ifindex &&
			    value_cidr_equal(&addrs[i].cidr, &c))
				found = true;
		drifted += !found;
	}
	json_decref(recs);
	free(links);
	free(addrs);
	nl_ns_put(ns, sock);
	return drifted;
}

/* Collects, once each, the namespaces that have desired objects. */
static int drift_note_ns(const char *k, json_t *v, void *userdata)
{
	const char *p = strchr(k, '/'), *q;
	char ns[NAME_NS_MAX + 1];

	(void)v;
	if (!p || (strncmp(k, "ns/", 3) && strncmp(k, "link/", 5) &&
		   strncmp(k, "addr/", 5)))
		return 0; /* a change in flight (key.h): not desired */
	q = strncmp(k, "ns/", 3) ? strchr(p + 1, '/') : p + 1 + strlen(p + 1);
	if (!q || (size_t)(q - p - 1) > NAME_NS_MAX)
		return 0;
	memcpy(ns, p + 1, (size_t)(q - p - 1));
	ns[q - p - 1] = '\0';
	json_object_set_new(userdata, ns, json_true());
	return 0;
}

int drift_count(struct store *s, size_t *ret)
{
	json_t *nss = json_object(), *v;
	const char *k;
	size_t n = 0;

	if (!nss)
		return -ENOMEM;
	store_foreach(s, "", drift_note_ns, nss);
	json_object_foreach(nss, k, v)
	{
		if (!nl_ns_exists(k)) {
			n++; /* the namespace, and everything in it, is missing */
			continue;
		}
		n += drift_ns(s, k);
	}
	json_decref(nss);
	*ret = n;
	return 0;
}
