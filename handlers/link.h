#ifndef NETNSD_HANDLER_LINK_H
#define NETNSD_HANDLER_LINK_H

#include <stdbool.h>

#include "../api/request.h"
#include "../netlink/link.h"
#include "../state/record.h"
#include "link_view.h"

int link_handle_list(struct request *req, struct reply *rep);
int link_handle_get(struct request *req, struct reply *rep);
int link_handle_patch(struct request *req, struct reply *rep);
int link_handle_delete(struct request *req, struct reply *rep);

/* Shared with the veth and bridge resources: `kind` NULL for any link, and
 * `extra` (or NULL) the members of the kind's own (a bridge's ports).
 * Answered as text (handler_reply_text). */
int link_list_kind(struct request *req, struct reply *rep, const char *kind,
		   link_extra_fn *extra);
int link_get_kind(struct request *req, struct reply *rep, const char *param,
		  const char *kind, link_extra_fn *extra);
int link_delete_kind(struct request *req, struct reply *rep, const char *param,
		     const char *kind);

#endif
