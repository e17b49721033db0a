/* Desired sysctls (README.md, "Sysctls"): converging one key to its value,
 * the start-up and POST /v1/reconcile pass over every record, drift, and
 * what follows for the records when a link goes or is renamed. The one
 * function that changes a sysctl, sysctl_apply(), serves the handler and
 * reconcile alike. */
#ifndef NETNSD_SYSCTL_APPLY_H
#define NETNSD_SYSCTL_APPLY_H

#include <jansson.h>
#include <stdbool.h>

#include "store.h"
#include "sysctl_key.h"

/* Converges `k` in namespace `ns` to `want`: reads the value (into
 * `have`, the value found before), and writes `want` when it differs,
 * both in one visit to the namespace. *ret_changed says whether it wrote.
 * -ENOENT when the namespace or the key's file is missing (a conf.<link>
 * key whose link is not there). */
int sysctl_apply(const char *ns, const struct sysctl_key *k, const char *want,
		 char have[SYSCTL_VALUE_MAX], bool *ret_changed);

/* Re-applies every desired sysctl: the namespace-wide, conf.all and
 * conf.default keys when `link_keys` is false (state/reconcile.c calls it
 * right after the namespaces are made, so links made afterwards start from
 * conf.default), the conf.<link> keys when it is true (after the links).
 * Appends what it changed to `actions` (strings) and what failed to
 * `failures` ({"object", "error", "transient"}), as reconcile reports.
 * `blocked` holds the keys ("ns/<ns>", "link/<ns>/<name>") of what
 * reconcile could not make for good: a key of a link there is not
 * written (the name may be held by a link netnsd did not create), and
 * neither is reported as a failure that may pass. */
void sysctl_apply_all(struct store *s, bool link_keys, json_t *actions,
		      json_t *failures, json_t *blocked);

/* Whether the kernel differs from the record `rec` of `key` in `ns`: 1
 * with the drift's words in `buf` ("value is 0, desired 1", "missing"),
 * 0 when it holds the desired value. */
int sysctl_drift(const char *ns, const char *key, json_t *rec, char *buf,
		 size_t len);

/* Adds to `t` what follows for the conf.<link> records of ns/name when
 * the link goes (ns2 NULL: they are forgotten) or is renamed in its
 * namespace (they follow the new name). A move to another namespace
 * forgets them too: the kernel gives a moved link the new namespace's
 * defaults. */
void sysctl_desired_relocate(struct store *s, struct store_txn *t,
			     const char *ns, const char *name, const char *ns2,
			     const char *name2);

#endif
