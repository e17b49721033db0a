/* Sysctls in the whole-state document of PUT /v1/state (openapi/openapi.yaml,
 * "StateDocument"; README.md, "Sysctls"). GET /v1/state lists the desired
 * sysctls, so its answer PUT back must be taken as it is. What PUT /v1/state
 * does with them today: those the document lists must be desired with the
 * values it gives (a GET's answer is), and those it leaves out are
 * forgotten only with the namespace the document removes; any other change
 * of a sysctl is refused (400, naming the entry), and is made through
 * /v1/namespaces/{ns}/sysctls/{key}, which sets the kernel, keeps the value
 * found and puts it back. */
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

/* The document's sysctls against the records held (`held`, every desired
 * record by key): adds to `t` the forgetting of those of namespaces the
 * document removes, and refuses (400, every problem at once) any other
 * change. `ns_goes(ns)` says whether the document removes namespace ns. */
int sysctl_doc_plan(json_t *held, const struct doc_sysctl *s, size_t n,
		    int (*ns_goes)(const char *ns, void *userdata),
		    void *userdata, struct store_txn *t, struct problem *prob);

#endif
