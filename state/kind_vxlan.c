/* vxlan: `vni`, `local`, `remote` or `group`, `dstport` (4789 unless
 * given: the IANA port, where the kernel would pick Linux's old 8472),
 * `parent` (the underlay, optional) and `learning` (openapi/openapi.yaml,
 * "LinkCreate"). */
#include <sys/socket.h>

#include "link_kind.h"

static void kind_vxlan_defaults(struct record_link_opts *o)
{
	o->k.port = 4789;
	o->k.learning = true;
	o->has |= LINK_OPT_DSTPORT | LINK_OPT_LEARNING;
}

/* Addresses of one family; a multicast group is joined on an underlay
 * link, which must then be named (the kernel refuses it otherwise). */
static int kind_vxlan_check(const struct record_link_opts *o,
			    struct problem *prob)
{
	bool group =
		(o->has & LINK_OPT_REMOTE) &&
		(o->k.remote_family == AF_INET ? (o->k.remote[0] & 0xf0) == 0xe0
					       : o->k.remote[0] == 0xff);

	if ((o->has & LINK_OPT_LOCAL) && (o->has & LINK_OPT_REMOTE) &&
	    o->k.local_family != o->k.remote_family)
		return problem_field(prob, "local",
				     "must be of the same family as %s",
				     group ? "group" : "remote");
	if (group && !(o->has & LINK_OPT_PARENT))
		return problem_field(prob, "parent",
				     "is required with a multicast group");
	return 0;
}

const struct link_kind link_kind_vxlan = {
	.name = "vxlan",
	.kind = RECORD_KIND_VXLAN,
	.opts = LINK_OPT_PARENT | LINK_OPT_PARENT_NS | LINK_OPT_VNI |
		LINK_OPT_LOCAL | LINK_OPT_REMOTE | LINK_OPT_DSTPORT |
		LINK_OPT_LEARNING,
	.required = LINK_OPT_VNI,
	.defaults = kind_vxlan_defaults,
	.check = kind_vxlan_check,
};
