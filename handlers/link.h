#ifndef NETNSD_HANDLER_LINK_H
#define NETNSD_HANDLER_LINK_H

#include <stdbool.h>

#include "../api/request.h"
#include "../netlink/link.h"
#include "../state/record.h"

int link_handle_list(struct request *req, struct reply *rep);
int link_handle_get(struct request *req, struct reply *rep);
int link_handle_patch(struct request *req, struct reply *rep);
int link_handle_delete(struct request *req, struct reply *rep);

/* Shared with the veth and bridge resources: `kind` NULL for any link. The
 * list is answered as text, or with `tree` as json_t in rep->json for the
 * caller to add to (bridges get their ports). */
int link_list_kind(struct request *req, struct reply *rep, const char *kind,
		   bool tree);
int link_get_kind(struct request *req, struct reply *rep, const char *param,
		  const char *kind);
int link_delete_kind(struct request *req, struct reply *rep, const char *param,
		     const char *kind);

#endif
