/* The JSON of links as openapi/openapi.yaml describes them (Link): the kernel's facts, the
 * addresses, a veth's peer by namespace and name, and for managed links
 * whether they match their desired state. */
#ifndef NETNSD_LINK_VIEW_H
#define NETNSD_LINK_VIEW_H

#include <jansson.h>
#include <stdbool.h>

#include "../api/jsonbuf.h"
#include "../netlink/addr.h"
#include "../netlink/link.h"
#include "../netlink/link_index.h"
#include "../netlink/ns.h"
#include "link_want.h"

struct store;
struct link_view;

/* Members a caller adds to each link's object, before its closing brace
 * (a bridge's ports): each written with its leading comma. `l` is NULL for
 * a desired link the kernel lacks. */
typedef void link_extra_fn(const struct link_view *v, const struct nl_link *l,
			   struct jsonbuf *b);

struct link_view {
	struct store *store;
	const char *ns;
	struct nl_sock *sock;
	struct nl_link *links; /* whole dump, or NULL: look up one by one */
	size_t n_links;
	struct nl_addr *addrs; /* whole dump, or NULL */
	size_t n_addrs;
	/* Whole views: the links by name and ifindex, and the addresses
	 * grouped by link (position in `links`): those of link p are
	 * addr_order[addr_first[p] .. addr_first[p + 1]), in dump order. */
	struct link_index index;
	size_t *addr_first;
	size_t *addr_order;
	/* Whole views, on first use: the namespace's desired links and
	 * addresses, and for each link (by position) its desired one. */
	bool wants_loaded;
	struct link_wants *wants;
	const struct link_want **want_of;
	int nsid_cache_id[8];
	char nsid_cache_name[8][65];
	int n_nsid_cache;
	/* The link names of peer namespaces, read once per view. */
	struct {
		char ns[65];
		struct nl_ns_name *names;
		size_t n;
	} peer_names[4];
	int n_peer_names;
	/* Set by a caller that knows a veth's peer already. */
	const char *peer_hint_ns;
	const char *peer_hint_name;
	/* Set by a caller that made the link a moment ago: it has no
	 * addresses to dump. */
	bool hint_no_addresses;
	/* Set by a caller whose objects have members of their own. */
	link_extra_fn *extra;
};

/* Borrows `sock` (a socket inside `ns`). With `whole`, dumps every link and
 * address at once, for collections. */
int link_view_init(struct link_view *v, struct store *store, const char *ns,
		   struct nl_sock *sock, bool whole);
/* Frees what the view holds; safe to call twice. */
void link_view_clear(struct link_view *v);

const struct nl_link *link_view_find(const struct link_view *v,
				     const char *name);
/* The name of link `ifindex` in the view's namespace, or NULL. */
const char *link_view_name_of(struct link_view *v, int ifindex, char *buf);

/* The namespace and name of a veth's peer; false when it cannot be known. */
bool link_view_peer(struct link_view *v, const struct nl_link *l, char *ret_ns,
		    size_t ns_len, char *ret_name);

/* The desired links of a whole view's namespace, or NULL when they could
 * not be read (ask the store then). */
const struct link_wants *link_view_wants(struct link_view *v);

/* Appends the link's JSON object to `b`: the one rendering of a link, for
 * a list and on its own (an answer's body, an event's object) alike.
 * Returns 0, or -EILSEQ (nothing usable written: a name that is not UTF-8)
 * or -ENOMEM; the caller rewinds `b` on failure. */
int link_write_json(struct link_view *v, const struct nl_link *l,
		    struct jsonbuf *b);
/* Appends it as an item of a list (a comma first unless *first); one that
 * cannot be written (a name that is not UTF-8) is left out. */
void link_write_item(struct link_view *v, const struct nl_link *l, bool *first,
		     struct jsonbuf *b);
/* The same for desired link `name` (record `d`), which the kernel does not
 * have; on failure nothing of it stays in `b`. */
int link_missing_write(const struct link_view *v, const char *name,
		       const struct record_link *d, struct jsonbuf *b);

/* Appends, as an item of a list (a comma first unless *first), desired
 * link `name` (record `d`) when the kernel lacks it and it is owned and of
 * `kind` (NULL: any). */
void link_missing_write_json(const struct link_view *v, const char *kind,
			     const char *name, const struct record_link *d,
			     bool *first, struct jsonbuf *b);

/* "veth", "bridge", "loopback", "device", ... */
const char *link_kind_name(const struct nl_link *l);

#endif
