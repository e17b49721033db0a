#include "link_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: names are short and this spreads them well enough. */
static size_t link_index_hash_name(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	return h;
}

static size_t link_index_hash_ifindex(int ifindex)
{
	uint32_t h = (uint32_t)ifindex * 2654435761u;

	/* The table takes the low bits, which a product alone leaves the
	 * same for indexes that share theirs: fold the high bits in. */
	return h ^ (h >> 16);
}

int link_index_build(struct link_index *x, const struct nl_link *links,
		     size_t n)
{
	size_t slots = 16, i, k;

	memset(x, 0, sizeof(*x));
	if (n >= UINT32_MAX / 2)
		return -ENOMEM;
	/* At most half full, so probes stay short. */
	while (slots < 2 * n)
		slots *= 2;
	x->by_name = calloc(slots, sizeof(*x->by_name));
	x->by_ifindex = calloc(slots, sizeof(*x->by_ifindex));
	if (!x->by_name || !x->by_ifindex) {
		link_index_clear(x);
		return -ENOMEM;
	}
	x->links = links;
	x->n = n;
	x->mask = slots - 1;
	for (i = 0; i < n; i++) {
		for (k = link_index_hash_name(links[i].name) & x->mask;
		     x->by_name[k]; k = (k + 1) & x->mask)
			if (!strcmp(links[x->by_name[k] - 1].name,
				    links[i].name))
				break;
		if (!x->by_name[k])
			x->by_name[k] = (uint32_t)i + 1;
		for (k = link_index_hash_ifindex(links[i].ifindex) & x->mask;
		     x->by_ifindex[k]; k = (k + 1) & x->mask)
			if (links[x->by_ifindex[k] - 1].ifindex ==
			    links[i].ifindex)
				break;
		if (!x->by_ifindex[k])
			x->by_ifindex[k] = (uint32_t)i + 1;
	}
	return 0;
}

void link_index_clear(struct link_index *x)
{
	if (!x)
		return;
	free(x->by_name);
	free(x->by_ifindex);
	memset(x, 0, sizeof(*x));
}

const struct nl_link *link_index_name(const struct link_index *x,
				      const char *name)
{
	size_t k;

	if (!x->by_name)
		return NULL;
	for (k = link_index_hash_name(name) & x->mask; x->by_name[k];
	     k = (k + 1) & x->mask)
		if (!strcmp(x->links[x->by_name[k] - 1].name, name))
			return &x->links[x->by_name[k] - 1];
	return NULL;
}

const struct nl_link *link_index_ifindex(const struct link_index *x,
					 int ifindex)
{
	size_t k;

	if (!x->by_ifindex)
		return NULL;
	for (k = link_index_hash_ifindex(ifindex) & x->mask; x->by_ifindex[k];
	     k = (k + 1) & x->mask)
		if (x->links[x->by_ifindex[k] - 1].ifindex == ifindex)
			return &x->links[x->by_ifindex[k] - 1];
	return NULL;
}
