/* How many desired objects differ from the kernel right now: one dump of
 * links and addresses per namespace, whatever the number of objects. */
#ifndef NETNSD_DRIFT_H
#define NETNSD_DRIFT_H

#include <jansson.h>
#include <stddef.h>

#include "store.h"

/* What netnsd_drifted_objects counts: each desired object whose own state
 * differs. A missing namespace is one, its contents not counted again; in
 * a namespace that exists, each link whose attributes or port differ, or
 * that is missing, and each missing address, but not the namespace. */
int drift_count(struct store *s, size_t *ret);

/* The namespaces that hold desired objects, once each, as the keys of a
 * new object (their values true); NULL when out of memory. */
json_t *drift_desired_namespaces(struct store *s);

/* The same for what is desired inside namespace `ns` (which exists): how
 * many of its objects differ, and with `words`, appended there in plain
 * words ("link eth0: missing", "link eth0: mtu is 1280, desired 1400",
 * "address 198.18.0.2/24 on eth0: missing"), at most `max` of them, then
 * "and N more". `ret_links` (or NULL): how many links the kernel has
 * there. A namespace whose links or addresses cannot be read returns the
 * error, with its desired links counted as missing. */
int drift_ns(struct store *s, const char *ns, json_t *words, size_t max,
	     size_t *ret_drifted, int *ret_links);

#endif
