/* Typed desired records. A record is what the store holds under a desired
 * key (key.h): the state a user asked for of one object, which start-up
 * re-applies and drift is measured against. The store keeps them as JSON;
 * this module is the one place that knows their members, so that every
 * reader gets the same answer for the same record, a wrong member is caught
 * where it is read instead of being taken for "not desired", and a new
 * member or link kind is added here once, not in every reader.
 *
 * Parsing never allocates: the strings of a parsed record point into the
 * JSON value it was read from, which must outlive the struct (values the
 * store hands out are never changed in place, see store.h, so holding a
 * reference to the value is enough).
 *
 * Drift (how the kernel differs from a record) is a list of codes, turned
 * into the words the API shows (openapi/openapi.yaml, "drift") by one
 * function, record_drift_words(). */
#ifndef NETNSD_RECORD_H
#define NETNSD_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../api/value.h"
#include "../netlink/link.h"

/* What a stored key names. */
enum record_type {
	RECORD_NS,     /* "ns/<ns>": struct record_ns */
	RECORD_LINK,   /* "link/<ns>/<link>": struct record_link */
	RECORD_ADDR,   /* "addr/<ns>/<link>/<ip>/<len>": struct record_addr */
	RECORD_ROUTE,  /* "route/<ns>/<table>/<ip>/<len>/<metric>": below */
	RECORD_SYSCTL, /* "sysctl/<ns>/<key>": struct record_sysctl */
};

/* The kind of a link record, as stored in "kind". */
enum record_kind {
	/* No "kind": a record of attributes set on a link netnsd did not
	 * create (PATCH of an existing link, a port of a host bridge). */
	RECORD_KIND_NONE,
	RECORD_KIND_VETH,
	RECORD_KIND_BRIDGE,
	/* The kinds of the kind table (state/link_kind.h), made through
	 * POST /v1/namespaces/{ns}/links; their options are in "options". */
	RECORD_KIND_MACVLAN,
	RECORD_KIND_VXLAN,
	RECORD_KIND_VLAN,
	RECORD_KIND_IPVLAN,
	RECORD_KIND_DUMMY,
};

/* Which optional members a link record holds (struct record_link.has). */
enum {
	RECORD_HAS_OWNED = 1u << 0,
	RECORD_HAS_UP = 1u << 1,
	RECORD_HAS_MTU = 1u << 2,
	RECORD_HAS_MAC = 1u << 3,
	RECORD_HAS_MASTER = 1u << 4, /* master may still be NULL: none */
	RECORD_HAS_STP = 1u << 5,
	RECORD_HAS_VLAN_FILTERING = 1u << 6,
	RECORD_HAS_PEER = 1u << 7,
	RECORD_HAS_OPTIONS = 1u << 8, /* a kind of the kind table */
};

struct record_veth {
	const char *peer_ns, *peer_name; /* both set when RECORD_HAS_PEER */
};

struct record_bridge {
	bool stp, vlan_filtering; /* when RECORD_HAS_STP, _VLAN_FILTERING */
};

/* The options of a link of the kind table (state/link_kind.h): which of
 * them are given (LINK_OPT_* bits), the parent by name, and the values as
 * netlink has them (k.parent is not used: the name is what is desired). */
struct record_link_opts {
	unsigned has;
	const char *parent;
	/* The parent's namespace when it is not the link's own (NULL: the
	 * link's own; LINK_OPT_PARENT_NS set when given). */
	const char *parent_ns;
	struct nl_link_opts k;
};

/* A desired link. A member whose bit is clear in `has` is not desired:
 * netnsd leaves that attribute as the kernel has it. */
struct record_link {
	enum record_kind kind;
	unsigned has;
	bool owned; /* netnsd created it, and deletes it */
	bool up;
	uint32_t mtu;
	uint8_t mac[6];
	const char *mac_text; /* as stored, "02:00:00:00:00:01" */
	const char *master;   /* NULL: desired to have none */
	/* Members of the kind, or of a record of attributes on a link of
	 * that kind (RECORD_KIND_NONE may hold stp and vlan_filtering). */
	struct record_veth veth;
	struct record_bridge bridge;
	struct record_link_opts opts; /* when RECORD_HAS_OPTIONS */
};

/* The type of the desired record under `key`; -EINVAL for a marker or an
 * unknown key. */
int record_type_of_key(const char *key, enum record_type *ret);

/* Reads a stored link record. Strict: an unknown member, a wrong type or
 * a malformed value is -EBADMSG with a message in `err`; `ret` then holds
 * every member that could be read, so that a reader that goes on treats
 * the rest as not desired, as before records were typed. */
int record_link_parse(json_t *json, struct record_link *ret, char *err,
		      size_t errlen);
/* The record as the store keeps it (a new object), or NULL (-ENOMEM). The
 * members are those of the parsed record: parse then format gives back
 * the same JSON, byte for byte under JSON_SORT_KEYS (the snapshot's
 * order; the journal keeps its writer's order, which means nothing). */
json_t *record_link_format(const struct record_link *r);
bool record_link_equal(const struct record_link *a,
		       const struct record_link *b);
/* Only the kind of a stored link record (what counting by kind needs),
 * RECORD_KIND_NONE when it has none or one not known. */
enum record_kind record_link_kind_of(json_t *json);
/* "veth", "bridge", a kind of the kind table, or NULL for
 * RECORD_KIND_NONE. */
const char *record_kind_name(enum record_kind k);

/* record_link_parse() for readers that go on past a bad record: the
 * message goes to the warning function (record_set_warn), and `ret`
 * holds what could be read. Returns what record_link_parse() returned. */
int record_link_read(json_t *json, struct record_link *ret);
/* Where record_link_read() says what is wrong with a record; standard
 * error until set (server/main.c sends it to the log). */
void record_set_warn(void (*fn)(const char *msg));

/* Namespace and address records hold nothing yet: `{}`. Anything else
 * is -EBADMSG. */
int record_empty_parse(json_t *json, char *err, size_t errlen);
json_t *record_empty_format(void);

/* A desired namespace. `{}` is a record of a netnsd that did not mark
 * namespaces yet: whatever holds the name is taken as netnsd's.
 * {"marked": true}: netnsd marked the namespace it made or adopted
 * (README.md, "Ownership"), so a namespace under the name without the
 * mark is someone else's. */
struct record_ns {
	bool marked;
	/* Made elsewhere and adopted (PUT): a PUT /v1/state that leaves it
	 * out releases it (forgets it, takes the mark off) rather than
	 * deleting it (README.md, "Declaring a whole topology"). */
	bool adopted;
};

/* Strict as record_link_parse(); `{}` is valid. */
int record_ns_parse(json_t *json, struct record_ns *ret, char *err,
		    size_t errlen);
json_t *record_ns_format(const struct record_ns *r);

/* The lifetime that never ends, as the kernel writes it. */
#define RECORD_LIFETIME_FOREVER 0xffffffffu
/* An address record's defaults: no flags, forever. */
#define RECORD_ADDR_INIT                                                       \
	{                                                                      \
		false, false, RECORD_LIFETIME_FOREVER, RECORD_LIFETIME_FOREVER \
	}

/* A desired address and how it is added (openapi/openapi.yaml,
 * AddressCreate). `{}` is an address with the kernel's defaults: DAD, a
 * prefix route, lifetimes forever. A lifetime is the one asked for, in
 * seconds (RECORD_LIFETIME_FOREVER: forever), given again each time netnsd
 * adds the address. */
struct record_addr {
	bool nodad, noprefixroute;
	uint32_t valid_lft, preferred_lft;
};

/* Strict as record_link_parse(); `{}` is valid. Members are written only
 * when they differ from the defaults, so that parse then format gives
 * back the same JSON. */
int record_addr_parse(json_t *json, struct record_addr *ret, char *err,
		      size_t errlen);
json_t *record_addr_format(const struct record_addr *r);
/* The same, for readers that go on: what could be read, defaults for the
 * rest; a bad record is reported to the warning function. */
void record_addr_read(json_t *json, struct record_addr *ret);

/* Sysctl records ("sysctl/<ns>/<key>", state/sysctl_key.h): the value
 * desired, and the value netnsd found before it first set the key, which
 * DELETE puts back (README.md, "Sysctls"). Both are the kernel's decimal
 * text; `original` is NULL when it was not known. */
struct record_sysctl {
	const char *value;
	const char *original;
};

/* Strict: a value and, optionally, the original; both short strings of
 * digits (the keys of the allow-list take small numbers). */
int record_sysctl_parse(json_t *json, struct record_sysctl *ret, char *err,
			size_t errlen);
/* The record as stored (a new object), or NULL (-ENOMEM). */
json_t *record_sysctl_format(const struct record_sysctl *r);

/* Markers of changes in flight (key.h), not desired objects: what
 * start-up needs to finish or take back the change a crash cut short.
 * "gone-link/<ns>/<link>": {"ifindex"}, the link being deleted;
 * "moving/<ns2>/<link2>": {"namespace", "name", "ifindex"}, the link
 * being renamed or moved there from namespace/name; "gone-ns/<ns>": {}. */
struct record_marker {
	int ifindex;
	const char *ns, *name; /* a move's origin; NULL for a delete */
};

/* Strict as record_link_parse(): a move's marker has all three members,
 * a delete's only the index. */
int record_marker_parse(json_t *json, struct record_marker *ret, char *err,
			size_t errlen);
/* {"ifindex"} when m->ns is NULL, else all three; NULL on -ENOMEM. */
json_t *record_marker_format(const struct record_marker *m);

/* How the kernel differs from a record. */
enum record_drift {
	RECORD_DRIFT_MISSING,	     /* "missing" */
	RECORD_DRIFT_MTU,	     /* values: have_n, want_n */
	RECORD_DRIFT_MAC,	     /* have[0], want[0] */
	RECORD_DRIFT_UP,	     /* have[0], want[0]: "true"/"false" */
	RECORD_DRIFT_MASTER,	     /* have[0], want[0]: a name or "none" */
	RECORD_DRIFT_STP,	     /* as up */
	RECORD_DRIFT_VLAN_FILTERING, /* as up */
	RECORD_DRIFT_PEER,	     /* have[0]/have[1], want[0]/want[1] */
	RECORD_DRIFT_IMPOSTOR,	     /* another's link has taken the name */
	RECORD_DRIFT_ADDRESS,	     /* want[0]: the missing "ip/len" */
	RECORD_DRIFT_OPTION,	     /* have[1]: the option; have[0], want[0] */
	RECORD_DRIFT_VALUE,	     /* a sysctl's have[0], want[0] */
	RECORD_DRIFT_N
};

struct record_drift_item {
	enum record_drift code;
	const char *have[2], *want[2];
	long long have_n, want_n;
};

/* The words the API shows for one drift item (at most `len` - 1 bytes,
 * cut short if longer); returns their length as snprintf does. */
int record_drift_words(const struct record_drift_item *it, char *buf,
		       size_t len);

/* ---- Routes ---------------------------------------------------------
 * A desired route (openapi/openapi.yaml, "Route"): {"dst", "via"?,
 * "dev"?, "metric", "table", "scope"}, with via or dev or both. Its key
 * (key_route) repeats dst, table and metric: the route's identity in the
 * kernel. */
struct record_route {
	struct cidr dst;
	const char *dst_text; /* as stored, "198.18.8.0/24" */
	bool has_via;
	uint8_t via[16];      /* of dst's family */
	const char *via_text; /* as stored, or NULL */
	const char *dev;      /* link name, or NULL */
	uint32_t metric;
	uint32_t table;
	uint8_t scope; /* RT_SCOPE_* */
};

/* Strict as record_link_parse(): an unknown member, a wrong type, a value
 * out of range, a via of another family or neither via nor dev is
 * -EBADMSG with a message in `err`. */
int record_route_parse(json_t *json, struct record_route *ret, char *err,
		       size_t errlen);
/* The record as the store keeps it (a new object), or NULL (-ENOMEM);
 * dst_text and via_text are written from dst and via. */
json_t *record_route_format(const struct record_route *r);
/* The same desired route: destination, gateway, device, metric, table and
 * scope. */
bool record_route_equal(const struct record_route *a,
			const struct record_route *b);
/* Route scopes by name as iproute2 prints them ("global", "site", "link",
 * "host"): -EINVAL, or NULL, for another. */
int record_route_scope_parse(const char *name, uint8_t *ret);
const char *record_route_scope_name(uint8_t scope);

#endif
