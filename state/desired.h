/* Questions and edits of the desired state that span several keys. */
#ifndef NETNSD_DESIRED_H
#define NETNSD_DESIRED_H

#include <stdbool.h>

#include "record.h"
#include "store.h"

bool desired_has_ns(struct store *s, const char *ns);
bool desired_has_link(struct store *s, const char *ns, const char *name);

/* Adds to `t` the removal of everything desired inside `ns`, and of the far
 * ends (and their addresses) of veths that cross into it: when a namespace
 * goes, the kernel takes every pair with an end inside it. */
void desired_forget_ns(struct store *s, struct store_txn *t, const char *ns);

/* A copy of the desired record of a link, or NULL. */
json_t *desired_link(struct store *s, const char *ns, const char *name);

/* The desired record of a link read into `w`, to be edited and stored
 * with record_link_format(): when there is none, a record of attributes
 * only (owned false: only creation owns). Returns the stored value, which
 * holds the strings of `w` until json_decref(), or NULL. */
json_t *desired_link_edit(struct store *s, const char *ns, const char *name,
			  struct record_link *w);

/* Adds to `t` the removal of a link's record and addresses; for a veth, of
 * its peer's too (the kernel takes both ends); for a bridge, the ports it
 * had forget their desired master; the links of the kind table on it go
 * too, as the kernel takes them along. */
void desired_forget_link(struct store *s, struct store_txn *t, const char *ns,
			 const char *name);

/* Adds to `t` what follows from a link renamed or moved from ns/name to
 * ns2/name2: keys move, addresses included, a veth's peer points at the
 * new place, ports follow a renamed bridge, and links of the kind table a
 * renamed parent. A move drops the master, as the
 * kernel does; its addresses the caller adds again where the link landed. */
void desired_relocate_link(struct store *s, struct store_txn *t, const char *ns,
			   const char *name, const char *ns2,
			   const char *name2);

#endif
