/* Sysctls in the whole-state document of PUT /v1/state (openapi/openapi.yaml,
 * "StateDocument"; README.md, "Sysctls"). GET /v1/state lists the desired
 * sysctls, so its answer PUT back must be taken as it is. PUT /v1/state
 * makes of them what the item's PUT and DELETE make
 * (/v1/namespaces/{ns}/sysctls/{key}): set and desired, or forgotten with
 * the value found first put back, as steps of the one plan, undone with
 * the others when one fails. */
#ifndef NETNSD_SYSCTL_DOC_H
#define NETNSD_SYSCTL_DOC_H

#include <jansson.h>
#include <stddef.h>

#include "../api/problem.h"
#include "store.h"

/* One entry of the document's "sysctls": namespace, key, value; the
 * strings point into the document. */
struct doc_sysctl {
	const char *ns, *key, *value;
	size_t index; /* in the document's array */
};

/* Reads entry `i` of "sysctls" into `ret`: 1 when it could be read, 0
 * when not (each problem added to `prob`, with its JSON pointer). Its
 * "original" is the server's and is ignored. */
int sysctl_doc_read(json_t *o, size_t i, struct doc_sysctl *ret,
		    struct problem *prob);
/* Entries for the same key of the same namespace, said at the second. */
void sysctl_doc_check_unique(const struct doc_sysctl *s, size_t n,
			     struct problem *prob);

struct doc;
struct plan;

/* The document's sysctls against the records held (`held`, every desired
 * record by key), the namespace-wide, conf.all and conf.default keys
 * (`link_keys` false, planned after the namespaces and before the links,
 * with the forgetting of held keys the document leaves out) or the
 * conf.<link> keys (after the links). A key listed is desired with its
 * value and set in the kernel when it differs; one left out is forgotten,
 * its original value put back, unless its namespace goes. Changes in
 * "host" or a namespace the document does not declare are refused (400
 * naming the entry: they need ?force=true, which only the item's PUT
 * takes). Adds the records to `t`, the steps to `p`. */
int sysctl_doc_plan(json_t *held, const struct doc *d, bool link_keys,
		    struct plan *p, struct store_txn *t, struct problem *prob);

#endif
