/* Links the kernel is about to take away: the far ends of veths whose other
 * end went with a deleted namespace. Namespace teardown is asynchronous, and
 * the answer to DELETE does not wait for it, so for a moment such a link is
 * still there; a change to it then would be stored for a link that is gone
 * an instant later. Requests on them answer 404 instead. */
#ifndef NETNSD_DYING_H
#define NETNSD_DYING_H

#include <stdbool.h>

struct nl_link;

void dying_add(const char *ns, const char *name, int ifindex);
/* Whether `l` in `ns` is on its way out. */
bool dying_is(const char *ns, const struct nl_link *l);

#endif
