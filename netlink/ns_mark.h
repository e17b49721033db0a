/* netnsd's mark on a namespace it made or adopted: an alias on the
 * namespace's loopback, which lives exactly as long as the namespace, so
 * that ownership is known from the kernel alone, even without the state
 * file (README.md, "Ownership"), as the alias on links (link.h) does. */
#ifndef NETNSD_NL_NS_MARK_H
#define NETNSD_NL_NS_MARK_H

#include <stdbool.h>

#include "sock.h"

/* Not NL_LINK_ALIAS: lo itself is no link netnsd created. */
#define NL_NS_ALIAS "netnsd-namespace"

/* Sets the mark, and lo up (1), down (0) or as it is (-1), in one message
 * on a socket inside the namespace. */
int nl_ns_mark_set(struct nl_sock *s, int up);
/* Takes the mark off (an adoption that could not be recorded). */
int nl_ns_mark_clear(struct nl_sock *s);
/* 1 marked, 0 not, or a negative errno when lo cannot be read. */
int nl_ns_mark_read(struct nl_sock *s);
/* The same by name: opens a pooled socket in `ns`. "host" is never
 * marked. */
int nl_ns_marked(const char *ns);

#endif
