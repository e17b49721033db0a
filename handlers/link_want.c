#include "link_want.h"

#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../state/key.h"
#include "../state/store.h"

/* A few namespaces' snapshots; the oldest slot is reused. */
#define LINK_WANTS_SLOTS 8
static struct link_wants *link_wants_cache[LINK_WANTS_SLOTS];
static unsigned link_wants_next;
static pthread_mutex_t link_wants_mu = PTHREAD_MUTEX_INITIALIZER;

static void link_wants_free(struct link_wants *w)
{
	if (!w)
		return;
	json_decref(w->links);
	json_decref(w->addrs);
	free(w->items);
	free(w->cidrs);
	free(w);
}

void link_wants_put(struct link_wants *w)
{
	int refs;

	if (!w)
		return;
	pthread_mutex_lock(&link_wants_mu);
	refs = --w->refs;
	pthread_mutex_unlock(&link_wants_mu);
	if (!refs)
		link_wants_free(w);
}

static int link_wants_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct link_want *const *)a)->name,
		      (*(const struct link_want *const *)b)->name);
}

/* Gives each link its addresses: keys "addr/<ns>/<link>/<ip>/<len>", the
 * link ending at the first '/' after the prefix (names have none). */
static int link_wants_group_addrs(struct link_wants *w, size_t plen)
{
	size_t n = json_object_size(w->addrs), i = 0, k;
	struct link_want **sorted, key, *keyp = &key, **hit;
	char name[IFNAMSIZ];
	const char *ak, *rest, *slash;
	const char **cidr = calloc(n ? n : 1, sizeof(*cidr));
	long *of = calloc(n ? n : 1, sizeof(*of));
	json_t *x;
	int r = -ENOMEM;

	sorted = calloc(w->n ? w->n : 1, sizeof(*sorted));
	w->cidrs = calloc(n ? n : 1, sizeof(*w->cidrs));
	if (!cidr || !of || !sorted || !w->cidrs)
		goto out;
	for (k = 0; k < w->n; k++)
		sorted[k] = &w->items[k];
	qsort(sorted, w->n, sizeof(*sorted), link_wants_cmp);
	key.name = name;
	json_object_foreach(w->addrs, ak, x) {
		rest = ak + plen;
		slash = strchr(rest, '/');
		of[i] = -1;
		if (slash && (size_t)(slash - rest) < sizeof(name)) {
			memcpy(name, rest, (size_t)(slash - rest));
			name[slash - rest] = '\0';
			hit = bsearch(&keyp, sorted, w->n, sizeof(*sorted),
				      link_wants_cmp);
			if (hit) {
				of[i] = *hit - w->items;
				cidr[i] = slash + 1;
				w->items[of[i]].addr_n++;
			}
		}
		i++;
	}
	/* Counting sort by link, stable: the store's order within each. */
	for (k = 1; k < w->n; k++)
		w->items[k].addr_first =
			w->items[k - 1].addr_first + w->items[k - 1].addr_n;
	for (k = 0; k < w->n; k++)
		w->items[k].addr_n = 0;
	for (i = 0; i < n; i++) {
		struct link_want *it;

		if (of[i] < 0)
			continue;
		it = &w->items[of[i]];
		w->cidrs[it->addr_first + it->addr_n++] = cidr[i];
	}
	r = 0;
out:
	free(cidr);
	free(of);
	free(sorted);
	return r;
}

static int link_wants_build(struct store *store, const char *ns, uint64_t seq,
			    struct link_wants **ret)
{
	struct link_wants *w = calloc(1, sizeof(*w));
	char prefix[KEY_MAX];
	const char *k;
	size_t plen, i = 0;
	json_t *rec;

	if (!w)
		return -ENOMEM;
	w->refs = 1;
	w->store = store;
	w->seq = seq;
	snprintf(w->ns, sizeof(w->ns), "%s", ns);
	key_link_prefix(prefix, ns);
	plen = strlen(prefix);
	w->links = store_list(store, prefix);
	key_addr_prefix(prefix, ns, NULL);
	w->addrs = store_list(store, prefix);
	if (!w->links || !w->addrs)
		goto fail;
	w->items = calloc(json_object_size(w->links) ?: 1, sizeof(*w->items));
	if (!w->items)
		goto fail;
	json_object_foreach(w->links, k, rec) {
		w->items[i].name = k + plen;
		w->items[i].rec = rec;
		record_link_read(rec, &w->items[i].want);
		i++;
	}
	w->n = i;
	if (link_wants_group_addrs(w, strlen(prefix)) < 0)
		goto fail;
	*ret = w;
	return 0;
fail:
	link_wants_free(w);
	return -ENOMEM;
}

int link_wants_get(struct store *store, const char *ns, struct link_wants **ret)
{
	/* Read before the records: a commit in between leaves the snapshot
	 * under the older number, to be rebuilt, never trusted too long. */
	uint64_t seq = store_seq(store);
	struct link_wants *w, *old = NULL;
	unsigned i;
	int r;

	pthread_mutex_lock(&link_wants_mu);
	for (i = 0; i < LINK_WANTS_SLOTS; i++) {
		w = link_wants_cache[i];
		if (w && w->store == store && w->seq == seq &&
		    !strcmp(w->ns, ns)) {
			w->refs++;
			pthread_mutex_unlock(&link_wants_mu);
			*ret = w;
			return 0;
		}
	}
	pthread_mutex_unlock(&link_wants_mu);

	r = link_wants_build(store, ns, seq, &w);
	if (r < 0)
		return r;
	pthread_mutex_lock(&link_wants_mu);
	for (i = 0; i < LINK_WANTS_SLOTS; i++)
		if (link_wants_cache[i] && !strcmp(link_wants_cache[i]->ns, ns))
			break;
	if (i == LINK_WANTS_SLOTS)
		i = link_wants_next++ % LINK_WANTS_SLOTS;
	old = link_wants_cache[i];
	if (old && --old->refs)
		old = NULL; /* still in use: its last reader frees it */
	link_wants_cache[i] = w;
	w->refs++; /* the cache's */
	pthread_mutex_unlock(&link_wants_mu);
	link_wants_free(old);
	*ret = w;
	return 0;
}
