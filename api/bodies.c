#include "bodies.h"

const struct body_field body_empty[] = {
	{ NULL, 0, false },
};

const struct body_field body_ns_create[] = {
	{ "name", BODY_STRING, true },
	{ NULL, 0, false },
};

const struct body_field body_ns_put[] = {
	{ "name", BODY_STRING, false },
	{ NULL, 0, false },
};

const struct body_field body_link_patch[] = {
	{ "up", BODY_BOOL, false },
	{ "mtu", BODY_INT, false },
	{ "mac", BODY_STRING, false },
	{ "master", BODY_STRING_OR_NULL, false },
	{ "name", BODY_STRING, false },
	{ "namespace", BODY_STRING, false },
	{ NULL, 0, false },
};

const struct body_field body_link_new[] = {
	{ "name", BODY_STRING, false },
	{ "kind", BODY_STRING, true },
	{ "mtu", BODY_INT, false },
	{ "mac", BODY_STRING, false },
	{ "up", BODY_BOOL, false },
	{ "parent", BODY_STRING, false },
	{ "parent_namespace", BODY_STRING, false },
	{ "mode", BODY_STRING, false },
	{ "vni", BODY_INT, false },
	{ "id", BODY_INT, false },
	{ "local", BODY_STRING, false },
	{ "remote", BODY_STRING, false },
	{ "group", BODY_STRING, false },
	{ "dstport", BODY_INT, false },
	{ "learning", BODY_BOOL, false },
	{ NULL, 0, false },
};

const struct body_field body_link_new_base[] = {
	{ "name", BODY_STRING, false }, { "kind", BODY_STRING, true },
	{ "mtu", BODY_INT, false },	{ "mac", BODY_STRING, false },
	{ "up", BODY_BOOL, false },	{ NULL, 0, false },
};

const struct body_field body_address_create[] = {
	{ "address", BODY_STRING, true },
	{ "nodad", BODY_BOOL, false },
	{ "noprefixroute", BODY_BOOL, false },
	{ "valid_lifetime", BODY_INT, false },
	{ "preferred_lifetime", BODY_INT, false },
	{ NULL, 0, false },
};

const struct body_field body_veth[] = {
	{ "name", BODY_STRING, false }, { "peer", BODY_OBJECT, true },
	{ "mtu", BODY_INT, false },	{ "mac", BODY_STRING, false },
	{ "up", BODY_BOOL, false },	{ NULL, 0, false },
};

const struct body_field body_veth_peer[] = {
	{ "name", BODY_STRING, true }, { "namespace", BODY_STRING, false },
	{ "mtu", BODY_INT, false },    { "mac", BODY_STRING, false },
	{ "up", BODY_BOOL, false },    { NULL, 0, false },
};

const struct body_field body_bridge[] = {
	{ "name", BODY_STRING, false },
	{ "stp", BODY_BOOL, false },
	{ "vlan_filtering", BODY_BOOL, false },
	{ "mtu", BODY_INT, false },
	{ "mac", BODY_STRING, false },
	{ "up", BODY_BOOL, false },
	{ NULL, 0, false },
};

const struct body_field body_bridge_patch[] = {
	{ "stp", BODY_BOOL, false }, { "vlan_filtering", BODY_BOOL, false },
	{ "mtu", BODY_INT, false },  { "up", BODY_BOOL, false },
	{ NULL, 0, false },
};

const struct body_field body_route[] = {
	{ "dst", BODY_STRING, false },
	{ "via", BODY_STRING, false },
	{ "dev", BODY_STRING, false },
	{ "metric", BODY_INT, false },
	{ "table", BODY_INT, false },
	{ "scope", BODY_STRING, false },
	{ NULL, 0, false },
};

const struct body_field body_sysctl[] = {
	{ "value", BODY_STRING, true },
	{ NULL, 0, false },
};

/* A POST requires what its PUT, naming the item in its path, may leave
 * out (the name); the table is the PUT's, the stricter POST checks it. */
const struct body_schema body_schemas[] = {
	{ "EmptyObject", body_empty },
	{ "NamespacePut", body_ns_put },
	{ "NamespaceCreate", body_ns_create },
	{ "LinkPatch", body_link_patch },
	{ "AddressCreate", body_address_create },
	{ "VethPut", body_veth },
	{ "VethPeerCreate", body_veth_peer },
	{ "BridgePut", body_bridge },
	{ "BridgePatch", body_bridge_patch },
	{ "RoutePut", body_route },
	{ "SysctlPut", body_sysctl },
};

const size_t body_n_schemas = sizeof(body_schemas) / sizeof(body_schemas[0]);
