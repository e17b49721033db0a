/* The desired links and addresses of one namespace, read from the store
 * into typed records (state/record.h) once and shared by the requests that
 * follow until the store changes (its sequence number moves on every
 * commit). Listing a thousand links then reads no JSON record at all. */
#ifndef NETNSD_LINK_WANT_H
#define NETNSD_LINK_WANT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../api/name.h"
#include "../state/diff.h"

struct store;

struct link_want {
	const char *name;	 /* the link's name, inside the store key */
	json_t *rec;		 /* the record, held by the snapshot */
	struct record_link want; /* points into rec */
	/* Its desired addresses: cidrs[addr_first .. addr_first + addr_n),
	 * in the store's order. */
	size_t addr_first, addr_n;
};

/* A snapshot: never changed once built, so readers share it. */
struct link_wants {
	struct link_want *items; /* in the store's order */
	size_t n;
	const char **cidrs; /* "198.18.0.1/24", inside the store keys */
	/* Private. */
	int refs;
	struct store *store;
	uint64_t seq;
	char ns[NAME_NS_MAX + 1];
	json_t *links, *addrs;
};

/* The snapshot of `ns` as the store holds it now; 0 or -ENOMEM. Give it
 * back with link_wants_put(). */
int link_wants_get(struct store *store, const char *ns,
		   struct link_wants **ret);
void link_wants_put(struct link_wants *w);

#endif
