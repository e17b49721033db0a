/* What must change: from a desired record and what the kernel has of it, the
 * ordered steps that make the kernel so. The planner is pure: it reads
 * structs (records of record.h, links as netlink/link.h describes them) and
 * writes steps, and never asks the kernel or the store anything, so that a
 * dry run (the steps rendered) and a real run (the same steps given to
 * apply.h) cannot disagree, and so that it is tested without a kernel.
 *
 * A plan is built by one caller for one request (or one reconcile pass),
 * under the namespace locks that keep what it read true until it is run. */
#ifndef NETNSD_PLAN_H
#define NETNSD_PLAN_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../api/name.h"
#include "../api/problem.h"
#include "../api/value.h"
#include "../netlink/bridge.h"
#include "../netlink/link.h"
#include "../netlink/route.h"
#include "record.h"
#include "sysctl_key.h"

/* How a step shows in a plan (openapi/openapi.yaml, "Change"). */
enum plan_action { PLAN_CREATE, PLAN_UPDATE, PLAN_DELETE };

enum plan_op {
	PLAN_BRIDGE_ADD, /* a bridge, from `a` and `bridge` */
	PLAN_VETH_ADD,	 /* a veth pair, ends `a` and `b` */
	PLAN_LINK_SET,	 /* attributes of link `ifindex`: `set`, back: `old` */
	PLAN_BRIDGE_SET, /* bridge options: `bridge`, back: `bridge_old` */
	PLAN_ADDR_ADD,	 /* `addr` on link `ifindex`, back: delete it */
	PLAN_ADDR_DEL,	 /* the reverse */
	/* A rename or move of link `a` to `b`: planned here for a dry run,
	 * run under its marker by the PATCH of a link (state/intent.c). */
	PLAN_LINK_MOVE,
	PLAN_NS_ADD, /* namespace `ns`, back: delete it */
	/* The two below cannot be undone: a plan has them last, and apply
	 * writes their marker (state/intent.c) with the records. */
	PLAN_NS_DEL,	/* namespace `ns`, and all in it */
	PLAN_LINK_DEL,	/* link `ifindex` (a veth with its peer) */
	PLAN_RECORD,	/* no kernel work: an object becomes desired */
	PLAN_NS_MARK,	/* netnsd's mark on the namespace's lo, back: off */
	PLAN_NS_UNMARK, /* the mark off (a release), back: on */
	/* Route `route` added (or replacing `old_route` when has_old), its
	 * device `dev` looked up when the step runs; back: deleted, or the
	 * old one put back. */
	PLAN_ROUTE_SET,
	PLAN_ROUTE_DEL, /* route `old_route` deleted; back: added again */
	/* A link of the kind table (state/link_kind.h), from `a`, `kind`
	 * and `kopts` (its parent by index); back: delete it. */
	PLAN_LINK_ADD,
	/* Sysctl `sysctl.path` of `ns` set, back: `sysctl.old` when known
	 * (README.md, "Sysctls"). */
	PLAN_SYSCTL_SET,
};

/* A link to be made: the values of its record, copied so that a plan does
 * not depend on the JSON the record was read from. */
struct plan_link_spec {
	char ns[NAME_NS_MAX + 1];
	char name[IFNAMSIZ];
	unsigned mtu; /* 0: the kernel's default */
	bool up;
	bool has_mac;
	uint8_t mac[6];
};

/* Attributes one LINK_SET changes; what it does not change is -1 (up,
 * master), 0 (mtu) or false. */
struct plan_attrs {
	unsigned mtu;
	bool has_mac;
	uint8_t mac[6];
	int up;
	int master; /* 0: detach; an ifindex, or PLAN_MASTER_BY_NAME: attach */
	char master_name[IFNAMSIZ];
	bool mark; /* give it netnsd's alias (it was born, not yet marked) */
};

/* The master is the bridge named master_name, looked up when the step
 * runs: a bridge made by the same plan has no index before. */
#define PLAN_MASTER_BY_NAME (-2)

struct plan_step {
	enum plan_op op;
	enum plan_action action;
	char path[192];	  /* the API path of the object it changes */
	char detail[256]; /* "mtu 1500 -> 1400", "veth pair with ns2/b" */
	char ns[NAME_NS_MAX + 1];
	char name[IFNAMSIZ];
	int ifindex; /* 0: link `name`, looked up when the step runs */
	struct plan_link_spec a, b;
	struct plan_attrs set, old;
	struct nl_bridge_spec bridge, bridge_old;
	struct cidr addr;
	struct record_addr addr_opts; /* ADDR_ADD: how it is added */
	enum record_kind kind;	      /* LINK_ADD */
	struct nl_link_opts kopts;    /* LINK_ADD */
	/* LINK_ADD: the parent by name, when kopts.parent is 0 because the
	 * same plan makes it. */
	char parent_name[IFNAMSIZ];
	/* LINK_ADD: the parent's namespace when it is not the link's ("":
	 * the link's): the link is made there and moved at once. */
	char parent_ns[NAME_NS_MAX + 1];
	struct nl_route route, old_route; /* ROUTE_SET, ROUTE_DEL */
	bool has_old;
	char dev[IFNAMSIZ]; /* ROUTE_SET: "" for none */
	struct {
		char path[SYSCTL_PATH_MAX];
		char set[SYSCTL_VALUE_MAX],
			old[SYSCTL_VALUE_MAX]; /* "": none */
	} sysctl;			       /* SYSCTL_SET */
};

struct plan {
	struct plan_step *steps;
	size_t n, cap;
};

/* What the kernel has of one desired link, as the planner needs it. */
struct plan_seen {
	const struct nl_link *link; /* NULL: nothing has the name */
	const char *master_name;    /* the name of link->master, or NULL */
	/* The bridge the record wants as master, when it wants one:
	 * NULL when nothing has that name. */
	const struct nl_link *want_master;
	/* A veth's peer as the kernel has it, NULL when not known. */
	const char *peer_ns, *peer_name;
	/* The link the record names as its parent (a kind of the kind
	 * table), NULL when nothing has that name; parent_planned when an
	 * earlier step of the same plan makes it (PUT /v1/state). */
	const struct nl_link *parent;
	bool parent_planned;
	/* The kind of a parent the same plan makes ("macvlan"), or NULL. */
	const char *parent_planned_kind;
	/* When the record's parent is in another namespace: whether that
	 * namespace is missing, and the id the link's namespace gives it
	 * (-1: none yet), which the link reports its parent by. */
	bool parent_ns_missing;
	int parent_nsid;
};

void plan_init(struct plan *p);
void plan_clear(struct plan *p);

/* Steps that make the link `ns`/`name` as `want` says: a bridge or a link
 * of the kind table made when missing (an owned record; its parent must be
 * seen->parent), attributes converged when it exists; options of the kind
 * table that differ cannot be converged (409: delete and create). The
 * record's master must be seen->want_master. A problem, and no step, when
 * it cannot converge: another kind under the name, a link netnsd did not
 * make where it wants its own (409), a bridge or link that is missing or is
 * not a bridge (404, 400). A veth is made by plan_veth(); a veth record
 * given here is only converged. */
int plan_link(struct plan *p, const char *ns, const char *name,
	      const struct record_link *want, const struct plan_seen *seen,
	      struct problem *prob);

/* The same for a veth pair: made when neither end exists, both ends
 * converged when both exist and are each other's peers; 409 otherwise. */
int plan_veth(struct plan *p, const char *ns, const char *name,
	      const struct record_link *want_a, const struct plan_seen *seen_a,
	      const char *pns, const char *pname,
	      const struct record_link *want_b, const struct plan_seen *seen_b,
	      struct problem *prob);

/* Link ns/name (`ifindex`, 0 when the same plan makes it) attached to
 * bridge `master` (NULL: detached) when its master now, `have` (NULL:
 * none; index `have_index`), is another; `kind` names its path. */
int plan_attach(struct plan *p, const char *ns, const char *name, int ifindex,
		enum record_kind kind, const char *have, int have_index,
		const char *master);

/* An address on link `ifindex`, added with `opts` (NULL: the defaults)
 * when `present` is false (or taken away when `add` is false and it is
 * present). */
int plan_addr(struct plan *p, const char *ns, const char *link, int ifindex,
	      const struct cidr *c, const struct record_addr *opts, bool add,
	      bool present);

/* A namespace made (`add`) or deleted. */
int plan_ns(struct plan *p, const char *ns, bool add);
/* netnsd's mark put on namespace `ns` (an adoption), or taken off (a
 * release: `mark` false). */
int plan_ns_mark(struct plan *p, const char *ns);
int plan_ns_release(struct plan *p, const char *ns);
/* Link ns/name (index `ifindex`, of `kind` as the API names it: "veth",
 * "bridge" or NULL for another) deleted. */
int plan_link_del(struct plan *p, const char *ns, const char *name, int ifindex,
		  const char *kind);
/* A change of the desired state alone (an object adopted, `update`, or
 * forgotten when the kernel has it no more, `delete`): `path` and why. */
int plan_record(struct plan *p, enum plan_action action, const char *ns,
		const char *path, const char *detail);

/* Route `want` of namespace `ns` (its device named `dev`, NULL: none)
 * made so: added, or replacing `have` (NULL: none there); `path` is its
 * API path. */
int plan_route_set(struct plan *p, const char *ns, const char *path,
		   const struct nl_route *want, const char *dev,
		   const struct nl_route *have, const char *detail);
/* Route `have` (as a dump gave it) of namespace `ns` deleted. */
int plan_route_del(struct plan *p, const char *ns, const char *path,
		   const struct nl_route *have);

/* Sysctl `k` of namespace `ns` set to `set`; `old` is the value it has
 * (NULL when not known: a namespace or link the plan makes first), which
 * an undo puts back. */
int plan_sysctl(struct plan *p, enum plan_action action, const char *ns,
		const struct sysctl_key *k, const char *set, const char *old);

/* The rename or move of ns/name to ns2/name2. */
int plan_move(struct plan *p, const char *ns, const char *name, const char *ns2,
	      const char *name2);

/* The plan as the API shows it: [{"action", "path", "detail"}]. */
json_t *plan_to_json(const struct plan *p);
const char *plan_action_name(enum plan_action a);

#endif
