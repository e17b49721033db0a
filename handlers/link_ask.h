/* What a POST or PUT body asks of a link, and the desired record it makes:
 * over the record held, over what the kernel has when nothing is held, or
 * from a new link's defaults (README.md, "Idempotent requests": members a
 * PUT leaves out keep what is desired). */
#ifndef NETNSD_HANDLER_LINK_ASK_H
#define NETNSD_HANDLER_LINK_ASK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "../api/problem.h"
#include "../api/request.h"
#include "../netlink/link.h"
#include "../state/record.h"

struct link_ask {
	const char *name; /* NULL: not given */
	unsigned mtu;	  /* 0: not given */
	bool has_mac;
	uint8_t mac[6];
	int up;			 /* -1: not given */
	int stp, vlan_filtering; /* -1: not given (bridges) */
};

/* Reads and checks the members of `o`, fields named with `prefix` in the
 * problems ("peer."). */
int link_ask_from_json(json_t *o, const char *prefix, struct problem *prob,
		       struct link_ask *ret);

/* The name of the item a PUT (`path_name` set) or a POST names: a PUT's
 * body may leave it out, and if it gives it, it must be the path's. */
int link_ask_name(struct link_ask *ask, const char *path_name,
		  struct problem *prob);

/* `w` edited by what `ask` gives (`mac`: storage for the MAC's text). */
void link_ask_apply(const struct link_ask *ask, struct record_link *w,
		    char mac[18]);

/* The record wanted of a link of `kind` netnsd makes: `held` (NULL: none)
 * edited by `ask`, else what `l` (NULL: absent) has, else defaults: a
 * random MAC chosen now (so the record knows it before the kernel does)
 * and, for a veth, the kernel's MTU of 1500 asked for explicitly. `mac` is
 * storage for the MAC's text; it must outlive `w`. */
int link_ask_record(const struct link_ask *ask, enum record_kind kind,
		    const struct record_link *held, const struct nl_link *l,
		    struct record_link *w, char mac[18], struct problem *prob);

/* What a POST or PUT of a link finds under its name, through `s` (under
 * the namespace's lock): the kernel's link in *l (*exists), and the record
 * held (*held, NULL when none; its strings hold held_w's). A POST
 * (create_only) of a name taken is 409, `what` naming the resource. */
int link_ask_find(struct reply *rep, struct store *store, struct nl_sock *s,
		  const char *ns, const char *name, bool create_only,
		  const char *what, struct nl_link *l, bool *exists,
		  json_t **held, struct record_link *held_w);

/* Plans `want` for ns/name against the kernel (through `s`, under the
 * namespace's lock), records it and applies the plan (state/apply.h). 0
 * with the link as it is now in *ret; 1 when a dry run was answered; or a
 * problem, with nothing changed. */
int link_apply_one(struct request *req, struct reply *rep, struct nl_sock *s,
		   const char *ns, const char *name,
		   const struct record_link *want, struct nl_link *ret);

/* A POST or PUT of one link netnsd makes (a bridge, a link of the kind
 * table) under way: what link_put_read and link_put_open read and found.
 * Zeroed before; link_put_close releases it. */
struct link_put {
	const char *path_name; /* a PUT's name, from the path; NULL: a POST */
	const char *ns;
	/* Another namespace the request reads (a parent's), locked with
	 * `ns`; NULL: none. */
	const char *ns2;
	json_t *body; /* the ask's strings point into it */
	struct link_ask ask;
	struct nl_sock *s;
	struct nl_link l; /* the kernel's link, when `exists` */
	bool exists;
	json_t *held; /* the record held, NULL when none; held_w's strings */
	struct record_link held_w;
};

struct body_field;

/* The path's name (a PUT: `param` names it; a POST: NULL), its {ns} and
 * the body (`fields`), read into `lp` before any lock is taken: a bad
 * request is refused without waiting. */
int link_put_read(struct request *req, struct reply *rep, const char *param,
		  const struct body_field *fields, struct link_put *lp);

/* Then the body's ask and name, the namespace's lock, a socket inside it
 * and what the name holds (link_ask_find, `what` naming the resource). */
int link_put_open(struct request *req, struct reply *rep, const char *what,
		  struct link_put *lp);

/* `want` applied (link_apply_one), then the namespace's lock released
 * (the answer is read without it) and a link made logged. 0, 1 for a dry run answered, or a
 * problem. */
int link_put_apply(struct request *req, struct reply *rep, struct link_put *lp,
		   const struct record_link *want);

void link_put_close(struct link_put *lp);

#endif
