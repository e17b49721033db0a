/* The kind table: the link kinds made through POST and PUT on
 * /v1/namespaces/{ns}/links (openapi/openapi.yaml, "LinkCreate"). A kind
 * is one file, state/kind_<name>.c, that says which options it has, which
 * a new link must be given, its modes and its checks; and one netlink
 * file, netlink/kind_<name>.c, that writes and reads them. Everything
 * else (the body, the stored record, the answer, drift, the plan) is done
 * here once for every kind, from that description.
 *
 * Veth pairs and bridges have collections of their own (/veths, /bridges)
 * and are not in this table. */
#ifndef NETNSD_LINK_KIND_H
#define NETNSD_LINK_KIND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../api/body.h"
#include "../api/problem.h"
#include "record.h"

/* The options a kind may have, as named in a body, a record and a GET. */
enum {
	LINK_OPT_PARENT = 1u << 0,   /* "parent": a link in the namespace */
	LINK_OPT_MODE = 1u << 1,     /* "mode": one of the kind's modes */
	LINK_OPT_VNI = 1u << 2,	     /* "vni": 0 to 16777215 */
	LINK_OPT_ID = 1u << 3,	     /* "id": VLAN id, 1 to 4094 */
	LINK_OPT_LOCAL = 1u << 4,    /* "local": a unicast address */
	LINK_OPT_REMOTE = 1u << 5,   /* "remote" (unicast) or "group" */
	LINK_OPT_DSTPORT = 1u << 6,  /* "dstport": 1 to 65535 */
	LINK_OPT_LEARNING = 1u << 7, /* "learning": a boolean */
	/* "parent_namespace": the namespace the parent is in, when it is
	 * not the link's own (README.md, "More link kinds"); a kind with a
	 * parent has it. */
	LINK_OPT_PARENT_NS = 1u << 8,
};

struct link_mode {
	const char *name;
	uint32_t value; /* as netlink has it */
};

struct link_kind {
	const char *name; /* "macvlan", as the API and the kernel name it */
	enum record_kind kind; /* its netlink half: nl_kind_find(name) */
	unsigned opts;	       /* LINK_OPT_* it has */
	unsigned required;     /* LINK_OPT_* a new link must be given */
	/* Its modes (NULL: none), ended by a NULL name; the first is the
	 * default. */
	const struct link_mode *modes;
	/* Values of options left out of a new link (NULL: none). */
	void (*defaults)(struct record_link_opts *o);
	/* Checks across options (NULL: none): a problem naming a field. */
	int (*check)(const struct record_link_opts *o, struct problem *prob);
};

extern const struct link_kind link_kind_macvlan;
extern const struct link_kind link_kind_vxlan;
extern const struct link_kind link_kind_vlan;
extern const struct link_kind link_kind_ipvlan;
extern const struct link_kind link_kind_dummy;

/* The kind of that name, or of that record kind; NULL when not in the
 * table. */
const struct link_kind *link_kind_named(const char *name);
const struct link_kind *link_kind_of(enum record_kind kind);
/* "macvlan, vxlan, vlan, ipvlan, dummy": what a problem offers. */
const char *link_kind_names(void);

/* The fields of a body of kind `lk`: `base` (ended by a NULL name)
 * followed by the kind's options, in `out` of `cap` entries. */
int link_kind_fields(const struct link_kind *lk, const struct body_field *base,
		     struct body_field *out, size_t cap);

/* The options a body gives, over `o` (a new link's defaults, or what is
 * desired: a PUT leaves the rest as it was); strings point into `body`.
 * Then checked: required options there, and the kind's own checks. */
int link_kind_from_body(const struct link_kind *lk, json_t *body,
			struct record_link_opts *o, struct problem *prob);
/* A new link's options before the body: the kind's defaults. */
void link_kind_init(const struct link_kind *lk, struct record_link_opts *o);

/* The stored "options" of a record; strict as record_link_parse(). */
int link_kind_parse(const struct link_kind *lk, json_t *json,
		    struct record_link_opts *o, char *err, size_t errlen);
/* The options as stored and as a GET shows them (members of a new
 * object); NULL on -ENOMEM. */
json_t *link_kind_format(const struct link_kind *lk,
			 const struct record_link_opts *o);
/* What the kernel's link has of the kind's options, the parent named
 * `parent_name` (NULL: none, or not known) in namespace `parent_ns` (NULL:
 * the link's own). */
void link_kind_from_kernel(const struct link_kind *lk, const struct nl_link *l,
			   const char *parent_name, const char *parent_ns,
			   struct record_link_opts *ret);

/* The first option desired in `want` that `have` has otherwise, the
 * parent and its namespace left out (names: the caller compares them): 1
 * with the
 * option's name and both values in words, 0 when none. */
int link_kind_differs(const struct link_kind *lk,
		      const struct record_link_opts *want,
		      const struct record_link_opts *have, const char **option,
		      char *have_words, char *want_words, size_t len);

/* How a plan shows a new link: "macvlan on eth0, mode bridge". */
void link_kind_detail(const struct link_kind *lk,
		      const struct record_link_opts *o, char *buf, size_t len);

#endif
