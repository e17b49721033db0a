/* Whose a namespace is (README.md, "Ownership"): netnsd's when the desired
 * state holds it or the kernel carries netnsd's mark on it, so that the
 * namespaces netnsd made stay its own when the state file is lost; not
 * netnsd's when a namespace without the mark has taken the name of one
 * netnsd marked (an impostor), nor when neither says it is. */
#ifndef NETNSD_NS_OWNER_H
#define NETNSD_NS_OWNER_H

#include <stdbool.h>

#include "store.h"

enum ns_owner {
	NS_OWNER_OTHER,	   /* "host", or neither desired nor marked */
	NS_OWNER_NETNSD,   /* desired (existing or not), or marked */
	NS_OWNER_IMPOSTOR, /* desired as marked, but the kernel's is not */
};

enum ns_owner ns_owner_of(struct store *store, const char *ns);
/* Whether netnsd manages `ns`: its links may be changed without force. */
bool ns_owner_managed(struct store *store, const char *ns);

#endif
