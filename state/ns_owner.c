#include "ns_owner.h"

#include <errno.h>

#include "../api/name.h"
#include "../netlink/ns_mark.h"
#include "key.h"
#include "record.h"

enum ns_owner ns_owner_of(struct store *store, const char *ns)
{
	struct record_ns w = { 0 };
	char key[KEY_MAX];
	json_t *rec;
	int marked;

	if (name_is_host(ns))
		return NS_OWNER_OTHER;
	key_ns(key, ns);
	rec = store_get(store, key);
	if (rec)
		record_ns_parse(rec, &w, NULL, 0);
	json_decref(rec);
	/* A record of before the mark vouches for whatever has the name. */
	if (rec && !w.marked)
		return NS_OWNER_NETNSD;
	marked = nl_ns_marked(ns);
	if (!rec)
		return marked == 1 ? NS_OWNER_NETNSD : NS_OWNER_OTHER;
	/* Missing (drift, re-made by reconcile), or lo out of reach for a
	 * moment: the record is the best word there is. */
	return marked == 0 ? NS_OWNER_IMPOSTOR : NS_OWNER_NETNSD;
}

bool ns_owner_managed(struct store *store, const char *ns)
{
	return ns_owner_of(store, ns) == NS_OWNER_NETNSD;
}
