/* Questions and edits of the desired state that span several keys. */
#ifndef NETNSD_DESIRED_H
#define NETNSD_DESIRED_H

#include <stdbool.h>

#include "store.h"

bool desired_has_ns(struct store *s, const char *ns);

/* Adds to `t` the removal of everything desired inside `ns`, and of the far
 * ends (and their addresses) of veths that cross into it: when a namespace
 * goes, the kernel takes every pair with an end inside it. */
void desired_forget_ns(struct store *s, struct store_txn *t, const char *ns);

#endif
