#include "ns_mark.h"

#include <string.h>

#include "../api/name.h"
#include "link.h"
#include "ns.h"

/* A namespace's loopback is always its first link. */
#define NL_NS_LO_INDEX 1

int nl_ns_mark_set(struct nl_sock *s, int up)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;

	c.ifindex = NL_NS_LO_INDEX;
	c.up = up;
	c.alias = NL_NS_ALIAS;
	return nl_link_set(s, &c);
}

int nl_ns_mark_clear(struct nl_sock *s)
{
	struct nl_link_change c = NL_LINK_CHANGE_INIT;

	/* An empty alias is how the kernel is told to drop it. */
	c.ifindex = NL_NS_LO_INDEX;
	c.alias = "";
	return nl_link_set(s, &c);
}

int nl_ns_mark_read(struct nl_sock *s)
{
	struct nl_link lo;
	int r = nl_link_get_index(s, NL_NS_LO_INDEX, &lo);

	if (r < 0)
		return r;
	return !strcmp(lo.alias, NL_NS_ALIAS);
}

int nl_ns_marked(const char *ns)
{
	struct nl_sock *s = NULL;
	int r;

	if (name_is_host(ns))
		return 0;
	r = nl_ns_get(ns, &s);
	if (r < 0)
		return r;
	r = nl_ns_mark_read(s);
	nl_ns_put(ns, s);
	return r;
}
