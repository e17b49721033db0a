/* Links (network interfaces) inside one namespace, read and changed over a
 * socket from the namespace pool. */
#ifndef NETNSD_NL_LINK_H
#define NETNSD_NL_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "sock.h"

int nl_link_set_up_index(struct nl_sock *s, int ifindex, bool up);
/* How many links the namespace has. */
int nl_link_count(struct nl_sock *s, int *ret_n);

#endif
