#ifndef NETNSD_HANDLER_LINK_H
#define NETNSD_HANDLER_LINK_H

#include <stdbool.h>

#include "../netlink/link.h"
#include "../state/record.h"
#include "../server/router.h"

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

/* The name, mtu, mac and up of a new link from a request body, fields named
 * with `prefix` in problems ("peer."). */
struct link_spec_in {
	struct nl_link_spec spec;
	uint8_t mac[6];
};
int link_spec_from_json(json_t *o, const char *prefix, struct reply *rep,
			struct link_spec_in *ret);

/* Puts back the desired addresses of a link (taking a link down, or moving
 * it, drops them in the kernel). */
struct store;
void link_restore_addresses(struct store *store, struct nl_sock *s,
			    const char *ns, const char *name);

/* The desired record of a link netnsd creates, from what the request asked
 * for and the MAC chosen before creation (kept so a re-creation matches):
 * known in full before the kernel is asked. `mac` is storage for its text,
 * which must outlive `w`; store it with record_link_format(). */
void link_record_init(struct record_link *w, enum record_kind kind, json_t *req,
		      const struct nl_link_spec *spec, char mac[18]);

/* Leaves out of `c` what `l` has already, so that a change to the values a
 * link has sends the kernel nothing (README.md, "Desired state": nothing
 * changed, nothing moves). */
void link_change_only_new(struct nl_link_change *c, const struct nl_link *l);

/* Takes back a link this request made and recorded (intent first) when the
 * request fails after all: the link goes (a veth with its peer), then its
 * record (`undo`); a link that cannot be deleted keeps its record. `what`
 * names it for the log. */
struct store_txn;
void link_take_back(struct request *req, struct nl_sock *s, const char *name,
		    struct store_txn *undo, const char *what);
