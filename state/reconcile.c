#include "reconcile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../api/name.h"
#include "../api/value.h"
#include "../netlink/addr.h"
#include "../netlink/link.h"
#include "../netlink/ns.h"
#include "../netlink/ns_mark.h"
#include "../netlink/route.h"
#include "apply.h"
#include "desired.h"
#include "diff.h"
#include "key.h"
#include "link_kind.h"
#include "ns_owner.h"
#include "route_apply.h"
#include "sysctl_apply.h"

struct reconcile {
	struct store *store;
	json_t *actions;
	json_t *failures;
	/* Keys ("ns/<ns>", "link/<ns>/<name>") of items that failed for a
	 * reason that will not pass: what depends on them will not either. */
	json_t *blocked;
};

/* Whether a kernel refusal may pass by itself, so that trying again later
 * can succeed (README "Start-up and convergence"): a name still held by a
 * link the kernel is tearing down (a namespace's links go some time after
 * the namespace is deleted), a namespace or link not there yet, a busy or
 * short kernel. Anything else (an invalid request, a missing permission,
 * a feature the kernel lacks) fails the same way every time. A kernel that
 * did not answer in time (ETIMEDOUT) is not retried by itself either: a
 * retry reconciles everything under the daemon-wide lock, so each one
 * would hold every request up for the netlink timeout again; it stays
 * reported, and POST /v1/reconcile tries again when asked. */
static bool reconcile_errno_transient(int err)
{
	switch (-err) {
	case EEXIST:
	case ENOENT:
	case ENODEV:
	case EBUSY:
	case EAGAIN:
	case EINTR:
	case ENOBUFS:
	case ENOMEM: return true;
	default: return false;
	}
}

/* Records a failure; `transient` says whether a retry may mend it. */
static void reconcile_failed_as(struct reconcile *rc, const char *object,
				const char *what, int err, bool transient)
{
	const char *msg = nl_extack();
	char text[512];

	/* err 0: not the kernel's refusal; `what` says it all. */
	if (!err)
		snprintf(text, sizeof(text), "%s", what);
	else
		snprintf(text, sizeof(text), "%s: %s", what,
			 *msg ? msg : strerror(-err));
	json_array_append_new(rc->failures,
			      json_pack("{s:s, s:s, s:b}", "object", object,
					"error", text, "transient", transient));
}

/* err 0 is a refusal of netnsd's own (someone else's link holds the
 * name): it will not pass by itself. */
static void reconcile_failed(struct reconcile *rc, const char *object,
			     const char *what, int err)
{
	reconcile_failed_as(rc, object, what, err,
			    err && reconcile_errno_transient(err));
}

static void reconcile_block(struct reconcile *rc, const char *key)
{
	json_object_set_new(rc->blocked, key, json_true());
}

static bool reconcile_blocked(struct reconcile *rc, const char *key)
{
	return json_object_get(rc->blocked, key) != NULL;
}

static void reconcile_block_link(struct reconcile *rc, const char *ns,
				 const char *name)
{
	char key[KEY_MAX];

	key_link(key, ns, name);
	reconcile_block(rc, key);
}

static bool reconcile_link_blocked(struct reconcile *rc, const char *ns,
				   const char *name)
{
	char key[KEY_MAX];

	key_link(key, ns, name);
	return reconcile_blocked(rc, key);
}

static bool reconcile_ns_blocked(struct reconcile *rc, const char *ns)
{
	char key[KEY_MAX];

	key_ns(key, ns);
	return reconcile_blocked(rc, key);
}

/* Why an item of a namespace reconcile left alone is not applied. */
const char reconcile_ns_left_alone[] =
	"its namespace is held by one netnsd did not make, or cannot be made (see the namespace's failure)";

/* A failure because a namespace this item needs is missing passes when
 * that namespace comes, unless its own creation failed for good. */
static void reconcile_failed_ns(struct reconcile *rc, const char *object,
				const char *what, int err, const char *ns)
{
	reconcile_failed_as(rc, object, what, err,
			    !reconcile_ns_blocked(rc, ns));
}

static void reconcile_did(struct reconcile *rc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reconcile_did(struct reconcile *rc, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_array_append_new(rc->actions, json_string(text));
}

/* Splits "link/<ns>/<name>" (or "addr/<ns>/<link>/<cidr>"). */
static bool reconcile_split(const char *key, size_t skip, char *ns,
			    const char **rest)
{
	const char *p = key + skip, *slash = strchr(p, '/');

	if (!slash || (size_t)(slash - p) > NAME_NS_MAX)
		return false;
	memcpy(ns, p, (size_t)(slash - p));
	ns[slash - p] = '\0';
	*rest = slash + 1;
	return true;
}

/* Whether a link netnsd did not create holds `name` in this namespace. */
static bool reconcile_name_taken(struct nl_sock *s, const char *name)
{
	struct nl_link l;

	return nl_link_get(s, name, &l) == 0 && !nl_link_is_ours(&l);
}

/* A veth pair that could not be made. File exists passes when the name is
 * held by netnsd's own old link that the kernel is still tearing down (or
 * by no visible link at all: the kernel lets a name go a moment after the
 * link), not when a link someone else made holds either end's name. */
static void reconcile_veth_failed(struct reconcile *rc, const char *what,
				  int err, struct nl_sock *s, const char *ns,
				  const char *name, struct nl_sock *ps,
				  const char *pns, const char *pname)
{
	bool transient = reconcile_errno_transient(err);
	json_t *f;

	/* Recorded first, while nl_extack() still has the kernel's words. */
	reconcile_failed_as(rc, what, "creating", err, transient);
	if (err == -EEXIST && (reconcile_name_taken(s, name) ||
			       reconcile_name_taken(ps, pname))) {
		f = json_array_get(rc->failures,
				   json_array_size(rc->failures) - 1);
		json_object_set_new(f, "transient", json_false());
		transient = false;
	}
	if (!transient) {
		reconcile_block_link(rc, ns, name);
		reconcile_block_link(rc, pns, pname);
	}
}

/* One action per attribute a step repaired: its detail says them
 * separated by ", " (plan.c). */
static void reconcile_did_each(struct reconcile *rc, const struct plan_step *st)
{
	const char *part = st->detail, *end;

	for (; *part; part = *end ? end + 2 : end) {
		end = strstr(part, ", ");
		if (!end)
			end = part + strlen(part);
		reconcile_did(rc, "%s/%s: %.*s", st->ns, st->name,
			      (int)(end - part), part);
	}
}

/* Runs the steps of a plan one by one (start-up and reconcile go on past
 * a failure, and report it): 0 when all are done, else the failing step's
 * error, with nl_extack() holding the kernel's words. */
static int reconcile_steps(struct reconcile *rc, const struct plan *p,
			   const struct plan_step **ret_failed)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_step *st = &p->steps[i];
		int r = apply_step(rc->store, st);

		if (r < 0) {
			*ret_failed = st;
			return r;
		}
		if (r > 0)
			continue; /* already so */
		if (st->op == PLAN_NS_ADD)
			reconcile_did(rc, "created namespace %s", st->ns);
		else if (st->op == PLAN_VETH_ADD)
			reconcile_did(rc, "created veth %s/%s <-> %s/%s",
				      st->a.ns, st->a.name, st->b.ns,
				      st->b.name);
		else if (st->op == PLAN_BRIDGE_ADD)
			reconcile_did(rc, "created bridge %s/%s", st->ns,
				      st->name);
		else if (st->op == PLAN_LINK_ADD)
			reconcile_did(rc, "created %s/%s: %s", st->ns, st->name,
				      st->detail);
		else if (st->op == PLAN_ADDR_ADD)
			reconcile_did(rc, "added %s on %s/%s", st->detail,
				      st->ns, st->name);
		else
			reconcile_did_each(rc, st);
	}
	return 0;
}

static void reconcile_namespaces(struct reconcile *rc)
{
	json_t *all = store_list(rc->store, "ns/"), *v;
	const struct plan_step *failed;
	struct plan p;
	const char *key;
	char what[128];
	int r;

	json_object_foreach(all, key, v) {
		const char *ns = key + strlen("ns/");

		snprintf(what, sizeof(what), "namespace %s", ns);
		r = nl_ns_probe(ns);
		if (r > 0 && ns_owner_of(rc->store, ns) == NS_OWNER_IMPOSTOR) {
			/* Someone else's holds the name (README.md,
			 * "Ownership"): it is left alone. */
			reconcile_failed(
				rc, what,
				"held by a namespace netnsd did not make (its lo lacks netnsd's mark)",
				0);
			reconcile_block(rc, key);
		}
		if (r > 0)
			continue;
		if (r < 0) {
			/* Unknown is not absent: never unmount a namespace
			 * that may be live with its links. */
			reconcile_failed(rc, what, "looking for it", r);
			continue;
		}
		/* After a reboot the file may outlive its mount. */
		nl_ns_del(ns);
		plan_init(&p);
		r = plan_ns(&p, ns, true);
		if (r == 0)
			r = reconcile_steps(rc, &p, &failed);
		plan_clear(&p);
		if (r < 0) {
			/* EEXIST here: something that is not a namespace
			 * (a directory, say) holds the name, and stays. */
			bool transient =
				r != -EEXIST && reconcile_errno_transient(r);

			reconcile_failed_as(rc, what, "creating", r, transient);
			if (!transient)
				reconcile_block(rc, key);
		}
	}
	json_decref(all);
}

/* The plan that makes a missing bridge or veth pair: the record without
 * its master (a port is attached by the attributes pass, once every bridge
 * is there); a veth's far end as its own record says, or by defaults. */
static int reconcile_plan_create(struct reconcile *rc, const char *ns,
				 const char *name,
				 const struct record_link *rec, struct plan *p)
{
	const struct plan_seen none = { 0 };
	struct problem prob = PROBLEM_INIT;
	struct record_link w = *rec, pw;
	char key[KEY_MAX];
	json_t *prec;
	int r;

	w.has &= ~RECORD_HAS_MASTER;
	if (rec->kind == RECORD_KIND_BRIDGE) {
		r = plan_link(p, ns, name, &w, &none, &prob);
		problem_clear(&prob);
		return r;
	}
	key_link(key, rec->veth.peer_ns, rec->veth.peer_name);
	prec = store_get(rc->store, key);
	memset(&pw, 0, sizeof(pw));
	if (prec)
		record_link_read(prec, &pw);
	pw.has &= ~RECORD_HAS_MASTER;
	/* Neither end is looked at: the kernel's EEXIST says when one is
	 * there (reconcile_veth_failed). */
	r = plan_veth(p, ns, name, &w, &none, rec->veth.peer_ns,
		      rec->veth.peer_name, &pw, &none, &prob);
	problem_clear(&prob);
	json_decref(prec);
	return r;
}

/* Creates a missing bridge or veth pair netnsd owns. */
static void reconcile_create(struct reconcile *rc, const char *ns,
			     const char *name, const struct record_link *rec,
			     bool bridges)
{
	const char *kind = record_kind_name(rec->kind);
	const struct plan_step *failed = NULL;
	struct nl_sock *s = NULL, *ps = NULL;
	const char *pns = NULL;
	struct nl_link l;
	struct plan p;
	char what[128];
	int r;

	if (!kind || !rec->owned || link_kind_of(rec->kind) ||
	    (rec->kind == RECORD_KIND_BRIDGE) != bridges ||
	    (rec->kind == RECORD_KIND_VETH && !(rec->has & RECORD_HAS_PEER)))
		return;
	plan_init(&p);
	snprintf(what, sizeof(what), "%s %s/%s", kind, ns, name);
	r = nl_ns_get(ns, &s);
	if (r < 0) {
		reconcile_failed_ns(rc, what, "namespace is missing", r, ns);
		return;
	}
	if (nl_link_get(s, name, &l) == 0)
		goto out;
	if (!bridges) {
		pns = rec->veth.peer_ns;
		r = nl_ns_get(pns, &ps);
		if (r < 0) {
			reconcile_failed_ns(rc, what,
					    "the peer's namespace is missing",
					    r, pns);
			pns = NULL;
			goto out;
		}
	}
	r = reconcile_plan_create(rc, ns, name, rec, &p);
	if (r == 0)
		r = reconcile_steps(rc, &p, &failed);
	if (r < 0 && bridges) {
		reconcile_failed(rc, what, "creating", r);
		if (!reconcile_errno_transient(r))
			reconcile_block_link(rc, ns, name);
	} else if (r < 0) {
		reconcile_veth_failed(rc, what, r, s, ns, name, ps, pns,
				      rec->veth.peer_name);
	}
out:
	plan_clear(&p);
	nl_ns_put(ns, s);
	if (ps)
		nl_ns_put(pns, ps);
}

/* What converging one link holds: the record as it is planned, what the
 * kernel has, the plan, its failed step and problem, and the words that
 * name the link in a failure ("macvlan red/m0"). */
struct reconcile_one {
	struct record_link w;
	struct apply_seen seen;
	struct nl_sock *s;
	struct plan p;
	struct problem prob;
	const struct plan_step *failed;
	char what[128];
};

static void reconcile_one_init(struct reconcile_one *o,
			       const struct record_link *rec, const char *kind,
			       const char *ns, const char *name)
{
	memset(o, 0, sizeof(*o));
	o->w = *rec;
	plan_init(&o->p);
	snprintf(o->what, sizeof(o->what), "%s %s/%s", kind, ns, name);
}

static void reconcile_one_clear(struct reconcile_one *o, const char *ns)
{
	problem_clear(&o->prob);
	plan_clear(&o->p);
	nl_ns_put(ns, o->s);
}

/* A link of the kind table whose parent is still missing at the last
 * round: that passes when the parent comes, unless the parent (or its
 * namespace, when it is another) failed for good. */
static void reconcile_parent_missing(struct reconcile *rc, const char *what,
				     const char *ns,
				     const struct record_link *rec)
{
	const char *pns = rec->opts.parent_ns ? rec->opts.parent_ns : ns;
	char why[160];

	if (strcmp(pns, ns))
		snprintf(why, sizeof(why),
			 "its parent %s in namespace %s is missing",
			 rec->opts.parent, pns);
	else
		snprintf(why, sizeof(why), "its parent is missing");
	reconcile_failed_as(
		rc, what, why, -ENODEV,
		!reconcile_link_blocked(rc, pns, rec->opts.parent) &&
			!reconcile_ns_blocked(rc, pns));
}

/* Creates a missing link of the kind table (state/link_kind.h) that
 * netnsd owns, once its parent is there: each round makes those whose
 * parent the rounds before made, and the `last` says a parent still
 * missing. Its master is attached by the attributes pass. */
static void reconcile_create_kind(struct reconcile *rc, const char *ns,
				  const char *name,
				  const struct record_link *rec, bool last)
{
	const struct link_kind *lk = link_kind_of(rec->kind);
	struct reconcile_one o;
	int r;

	if (!lk || !rec->owned || !(rec->has & RECORD_HAS_OPTIONS) ||
	    reconcile_link_blocked(rc, ns, name))
		return;
	reconcile_one_init(&o, rec, lk->name, ns, name);
	r = nl_ns_get(ns, &o.s);
	if (r < 0) {
		if (last)
			reconcile_failed_ns(rc, o.what, "namespace is missing",
					    r, ns);
		return;
	}
	r = apply_see_link(o.s, name, NULL, &o.seen);
	if (r == 0 && o.seen.seen.link)
		goto out;
	if (r == 0)
		r = apply_see_parent(o.s, rec->opts.parent, rec->opts.parent_ns,
				     &o.seen);
	if (r == 0 && rec->opts.parent && !o.seen.seen.parent) {
		if (last)
			reconcile_parent_missing(rc, o.what, ns, rec);
		goto out;
	}
	o.w.has &= ~RECORD_HAS_MASTER;
	if (r == 0)
		r = plan_link(&o.p, ns, name, &o.w, &o.seen.seen, &o.prob);
	if (r == 0)
		r = reconcile_steps(rc, &o.p, &o.failed);
	if (r < 0) {
		reconcile_failed(rc, o.what,
				 o.prob.status ? o.prob.detail : "creating",
				 o.prob.status ? 0 : r);
		if (o.prob.status || !reconcile_errno_transient(r))
			reconcile_block_link(rc, ns, name);
	}
out:
	reconcile_one_clear(&o, ns);
}

/* Whether the desired link ns/name is one netnsd created. */
static bool reconcile_link_owned(struct reconcile *rc, const char *ns,
				 const char *name)
{
	struct record_link w = { 0 };
	char key[KEY_MAX];
	json_t *v;

	key_link(key, ns, name);
	v = store_get(rc->store, key);
	if (v)
		record_link_read(v, &w);
	json_decref(v);
	return w.owned;
}

/* Whether the master a record wants can be given: its bridge is there,
 * and is netnsd's when netnsd made it (never hand a port to someone
 * else's bridge). When not, the failure is said and `w` keeps its master
 * as the link has it. */
static void reconcile_master(struct reconcile *rc, const char *ns,
			     const char *what, const struct apply_seen *seen,
			     struct record_link *w)
{
	const struct nl_link *m = seen->seen.want_master;

	if (!(w->has & RECORD_HAS_MASTER) || !w->master ||
	    (seen->seen.master_name &&
	     !strcmp(seen->seen.master_name, w->master)))
		return;
	if (!m) {
		reconcile_failed_as(rc, what, "its bridge is missing", -ENODEV,
				    !reconcile_link_blocked(rc, ns, w->master));
		w->has &= ~RECORD_HAS_MASTER;
	} else if (reconcile_link_owned(rc, ns, w->master) &&
		   !nl_link_is_ours(m)) {
		reconcile_failed(
			rc, what,
			"its bridge's name is taken by a link netnsd did not create",
			0);
		w->has &= ~RECORD_HAS_MASTER;
	}
}

/* Converges mtu, mac, up, bridge settings and master of an existing link:
 * the plan of state/plan.h, run step by step. */
static void reconcile_attributes(struct reconcile *rc, const char *ns,
				 const char *name,
				 const struct record_link *rec)
{
	const char *master = rec->has & RECORD_HAS_MASTER ? rec->master : NULL;
	struct reconcile_one o;
	int r;

	reconcile_one_init(&o, rec, "link", ns, name);
	if (nl_ns_get(ns, &o.s) < 0)
		return; /* already reported by the creation pass */
	r = apply_see_link(o.s, name, master, &o.seen);
	if (r == 0 && !o.seen.seen.link)
		r = -ENODEV;
	if (r < 0) {
		if (!rec->owned)
			reconcile_failed(rc, o.what, "the link is missing", r);
		goto out;
	}
	if (rec->owned && !nl_link_is_ours(&o.seen.link)) {
		/* Someone else's link took the name: never touch it. */
		reconcile_failed(
			rc, o.what,
			"a link netnsd did not create has taken its name", 0);
		reconcile_block_link(rc, ns, name);
		goto out;
	}
	reconcile_master(rc, ns, o.what, &o.seen, &o.w);
	/* The kind is checked above (the name is netnsd's link): what is
	 * left to plan is attributes. */
	o.w.kind = RECORD_KIND_NONE;
	r = plan_link(&o.p, ns, name, &o.w, &o.seen.seen, &o.prob);
	if (r < 0)
		reconcile_failed(rc, o.what, o.prob.detail, 0);
	else if ((r = reconcile_steps(rc, &o.p, &o.failed)) < 0)
		reconcile_failed(rc, o.what,
				 o.failed->op == PLAN_BRIDGE_SET
					 ? "setting bridge options"
					 : "converging",
				 r);
out:
	reconcile_one_clear(&o, ns);
}

/* A link whose namespace (or far end's) reconcile left alone, someone
 * else's holding its name or failing for good, is not made or changed
 * there: said once, at the first pass, and its addresses skip it too. */
static bool reconcile_link_ns_blocked(struct reconcile *rc, const char *ns,
				      const char *name,
				      const struct record_link *rec, bool say)
{
	const char *other = NULL;
	char what[128];

	if (reconcile_ns_blocked(rc, ns))
		other = ns;
	else if (rec->kind == RECORD_KIND_VETH &&
		 (rec->has & RECORD_HAS_PEER) &&
		 reconcile_ns_blocked(rc, rec->veth.peer_ns))
		other = rec->veth.peer_ns;
	if (!other)
		return false;
	if (say) {
		snprintf(what, sizeof(what), "link %s/%s", ns, name);
		reconcile_failed_as(rc, what, reconcile_ns_left_alone, 0,
				    false);
		reconcile_block_link(rc, ns, name);
	}
	return true;
}

/* How deep links of the kind table may stand on each other. */
#define RECONCILE_KIND_ROUNDS 4

static void reconcile_links(struct reconcile *rc)
{
	json_t *all = store_list(rc->store, "link/"), *v;
	const char *key, *name;
	char ns[NAME_NS_MAX + 1];
	struct record_link rec;

	/* Bridges before veths, so ports have somewhere to go; then the
	 * kind table's links, parents before children (a vlan on a macvlan
	 * on a veth: one round per level, up to RECONCILE_KIND_ROUNDS).
	 * Each pass reads the records again (cheap: nothing is allocated); a
	 * bad one is said by the first only. */
	for (int pass = 0; pass < 3 + RECONCILE_KIND_ROUNDS; pass++) {
		json_object_foreach(all, key, v) {
			if (!reconcile_split(key, strlen("link/"), ns, &name))
				continue;
			if (pass == 0)
				record_link_read(v, &rec);
			else
				record_link_parse(v, &rec, NULL, 0);
			if (reconcile_link_ns_blocked(rc, ns, name, &rec,
						      pass == 0))
				continue;
			if (pass < 2)
				reconcile_create(rc, ns, name, &rec, pass == 0);
			else if (pass < 2 + RECONCILE_KIND_ROUNDS)
				reconcile_create_kind(
					rc, ns, name, &rec,
					pass == 1 + RECONCILE_KIND_ROUNDS);
			else
				reconcile_attributes(rc, ns, name, &rec);
		}
	}
	json_decref(all);
}

static void reconcile_addresses(struct reconcile *rc)
{
	json_t *all = store_list(rc->store, "addr/"), *v;
	char ns[NAME_NS_MAX + 1], link[IFNAMSIZ], what[256];
	const char *key, *rest, *slash;
	struct nl_sock *s = NULL;
	struct nl_link l;
	struct cidr c;
	int r;

	json_object_foreach(all, key, v) {
		if (!reconcile_split(key, strlen("addr/"), ns, &rest))
			continue;
		slash = strchr(rest, '/');
		if (!slash || (size_t)(slash - rest) >= sizeof(link) ||
		    value_parse_cidr(slash + 1, &c))
			continue;
		memcpy(link, rest, (size_t)(slash - rest));
		link[slash - rest] = '\0';
		snprintf(what, sizeof(what), "address %s on %s/%s", slash + 1,
			 ns, link);
		if (reconcile_ns_blocked(rc, ns)) {
			reconcile_failed(rc, what, reconcile_ns_left_alone, 0);
			continue;
		}
		/* Its link failed for good, its name perhaps held by a link
		 * netnsd did not create: an address put there would change
		 * someone else's link. */
		if (reconcile_link_blocked(rc, ns, link)) {
			reconcile_failed(
				rc, what,
				"its link cannot be made, or its name is held by a link netnsd did not create (see the link's failure)",
				0);
			continue;
		}
		if (nl_ns_get(ns, &s) < 0)
			continue;
		r = nl_link_get(s, link, &l);
		if (r == 0) {
			const struct plan_step *failed;
			struct record_addr opts;
			struct plan p;

			plan_init(&p);
			record_addr_read(v, &opts);
			r = plan_addr(&p, ns, link, l.ifindex, &c, &opts, true,
				      false);
			if (r == 0)
				r = reconcile_steps(rc, &p, &failed);
			if (r < 0)
				reconcile_failed(rc, what, "adding", r);
			plan_clear(&p);
		} else {
			reconcile_failed_as(
				rc, what, "the link is missing", r,
				reconcile_errno_transient(r) &&
					!reconcile_link_blocked(rc, ns, link));
		}
		nl_ns_put(ns, s);
		s = NULL;
	}
	json_decref(all);
}

/* Each of the three below finishes or takes back one interrupted change
 * and returns whether it is settled (done, or nothing left to do): only
 * then is its marker forgotten, so a failure is tried again next time. */

/* A deletion a crash interrupted, after its records were forgotten: the
 * namespace goes, unless it is desired again. */
static bool reconcile_gone_ns(struct reconcile *rc, const char *ns)
{
	char what[128];
	int r;

	if (desired_has_ns(rc->store, ns))
		return true;
	/* Also when only the file is left: the crash came between the
	 * unmount and the unlink. */
	r = nl_ns_del(ns);
	if (r == -ENOENT)
		return true;
	snprintf(what, sizeof(what), "namespace %s", ns);
	if (r < 0) {
		reconcile_failed(rc, what, "finishing an interrupted delete",
				 r);
		return false;
	}
	reconcile_did(rc, "finished the interrupted delete of namespace %s",
		      ns);
	return true;
}

/* The same for a link: it goes if it is still the one being deleted (the
 * same index, or netnsd's mark) and nothing desires its name again. */
static bool reconcile_gone_link(struct reconcile *rc, const char *ns,
				const char *name, json_t *v)
{
	struct record_marker mk;
	int ifindex;
	struct nl_sock *s = NULL;
	char key[KEY_MAX];
	struct nl_link l;
	bool settled = true;
	int r;

	/* A marker that does not parse leaves only netnsd's mark to go by. */
	record_marker_parse(v, &mk, NULL, 0);
	ifindex = mk.ifindex;
	/* Desired again, or its namespace (and the link with it) gone. */
	if (desired_has_link(rc->store, ns, name) || nl_ns_get(ns, &s) < 0)
		return true;
	if (nl_link_get(s, name, &l) == 0 &&
	    (l.ifindex == ifindex || nl_link_is_ours(&l))) {
		r = nl_link_del(s, l.ifindex);
		snprintf(key, sizeof(key), "link %s/%s", ns, name);
		settled = r == 0 || r == -ENODEV;
		if (!settled)
			reconcile_failed(rc, key,
					 "finishing an interrupted delete", r);
		else
			reconcile_did(
				rc, "finished the interrupted delete of %s/%s",
				ns, name);
	}
	nl_ns_put(ns, s);
	return settled;
}

/* A rename or move a crash interrupted before it was recorded: the records
 * still name the link as it was, so it goes back there (unless the new
 * name has become desired since, for a link of its own). */
static bool reconcile_moving(struct reconcile *rc, const char *ns2,
			     const char *name2, json_t *v)
{
	struct record_marker mk;
	int ok = record_marker_parse(v, &mk, NULL, 0);
	const char *ns = mk.ns, *name = mk.name;
	int ifindex = mk.ifindex;
	struct nl_link_change c = NL_LINK_CHANGE_INIT;
	struct nl_sock *s = NULL, *s_old = NULL;
	struct nl_link l, old;
	char what[128];
	bool settled = true;
	int fd = -1, r;

	/* A marker that names no valid origin is forgotten. */
	if (ok < 0 || !ns || name_check_namespace(ns) || name_check_link(name))
		return true;
	if (desired_has_link(rc->store, ns2, name2))
		return true;
	if (nl_ns_get(ns2, &s) < 0 || nl_ns_get(ns, &s_old) < 0)
		goto out;
	if (nl_link_get(s, name2, &l) < 0 ||
	    (l.ifindex != ifindex && !nl_link_is_ours(&l)) ||
	    nl_link_get(s_old, name, &old) == 0)
		goto out;
	c.ifindex = l.ifindex;
	c.name = strcmp(name, name2) ? name : NULL;
	r = strcmp(ns, ns2) ? nl_ns_open_fd(ns, &fd) : 0;
	c.netns_fd = fd;
	if (r == 0)
		r = nl_link_set(s, &c);
	snprintf(what, sizeof(what), "link %s/%s", ns2, name2);
	settled = r == 0;
	if (!settled)
		reconcile_failed(rc, what, "taking back an interrupted rename",
				 r);
	else
		reconcile_did(
			rc,
			"took %s/%s back to %s/%s: its rename was interrupted",
			ns2, name2, ns, name);
out:
	if (fd >= 0)
		close(fd);
	if (s)
		nl_ns_put(ns2, s);
	if (s_old)
		nl_ns_put(ns, s_old);
	return settled;
}

/* An address being taken off ("<link>/<ip>/<len>" in `rest`): it goes,
 * unless it is desired again. */
static bool reconcile_gone_addr(struct reconcile *rc, const char *ns,
				const char *rest)
{
	const char *slash = strchr(rest, '/');
	char link[IFNAMSIZ], key[KEY_MAX], what[160];
	struct nl_sock *s = NULL;
	struct nl_link l;
	struct cidr c;
	json_t *v;
	int r;

	if (!slash || (size_t)(slash - rest) >= sizeof(link) ||
	    value_parse_cidr(slash + 1, &c))
		return true;
	memcpy(link, rest, (size_t)(slash - rest));
	link[slash - rest] = '\0';
	key_addr(key, ns, link, slash + 1);
	v = store_get(rc->store, key);
	json_decref(v);
	if (v || nl_ns_get(ns, &s) < 0)
		return true;
	r = nl_link_get(s, link, &l);
	if (r == 0)
		r = nl_addr_del(s, l.ifindex, &c);
	nl_ns_put(ns, s);
	if (r == 0 || r == -ENODEV || r == -EADDRNOTAVAIL)
		return true;
	snprintf(what, sizeof(what), "address %s on %s/%s", slash + 1, ns,
		 link);
	reconcile_failed(rc, what, "finishing an interrupted delete", r);
	return false;
}

/* A route being deleted ("<ns>/<table>/<ip>/<len>/<metric>" in `rest`):
 * netnsd's route of that identity goes, unless it is desired again. */
static bool reconcile_gone_route(struct reconcile *rc, const char *rest)
{
	char ns[NAME_NS_MAX + 1], ip[64], key[KEY_MAX], what[160], len[8];
	char cidr[80];
	unsigned long table, metric;
	struct nl_route *routes = NULL;
	const struct nl_route *have;
	struct nl_sock *s = NULL;
	struct cidr c;
	size_t n = 0;
	json_t *v;
	int r;

	if (sscanf(rest, "%64[^/]/%lu/%63[^/]/%7[0-9]/%lu", ns, &table, ip, len,
		   &metric) != 5 ||
	    value_parse_ip_prefix(ip, len, &c))
		return true;
	snprintf(cidr, sizeof(cidr), "%s/%s", ip, len);
	key_route(key, ns, table, cidr, metric);
	v = store_get(rc->store, key);
	json_decref(v);
	if (v || nl_ns_get(ns, &s) < 0)
		return true;
	r = nl_route_dump(s, &routes, &n);
	have = r == 0 ? nl_route_find(routes, n, &c, (uint32_t)table,
				      (uint32_t)metric)
		      : NULL;
	if (have && have->protocol == NL_ROUTE_PROTO)
		r = nl_route_del(s, have);
	free(routes);
	nl_ns_put(ns, s);
	if (r == 0 || r == -ESRCH || r == -ENOENT)
		return true;
	snprintf(what, sizeof(what), "route %s/%s in %s", ip, len, ns);
	reconcile_failed(rc, what, "finishing an interrupted delete", r);
	return false;
}

/* An adopted namespace being released: its mark goes, unless it is
 * desired again. */
static bool reconcile_release_ns(struct reconcile *rc, const char *ns)
{
	struct nl_sock *s = NULL;
	char what[128];
	int r;

	if (desired_has_ns(rc->store, ns) || nl_ns_get(ns, &s) < 0)
		return true;
	r = nl_ns_mark_clear(s);
	nl_ns_put(ns, s);
	if (r == 0)
		return true;
	snprintf(what, sizeof(what), "namespace %s", ns);
	reconcile_failed(rc, what, "finishing an interrupted release", r);
	return false;
}

/* Finishes or takes back the changes a crash interrupted (see key.h), then
 * forgets them. */
static void reconcile_interrupted(struct reconcile *rc)
{
	static const char *const prefixes[] = {
		KEY_GONE_NS,   KEY_GONE_LINK,  KEY_MOVING,
		KEY_GONE_ADDR, KEY_RELEASE_NS, KEY_GONE_ROUTE,
	};
	struct store_txn *t = store_txn_new();
	char ns[NAME_NS_MAX + 1];
	const char *key, *name;
	json_t *all, *v;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++) {
		size_t skip = strlen(prefixes[i]);

		all = store_list(rc->store, prefixes[i]);
		json_object_foreach(all, key, v) {
			bool settled = true; /* a key that names nothing too */

			if (i == 0)
				settled = reconcile_gone_ns(rc, key + skip);
			else if (i == 4)
				settled = reconcile_release_ns(rc, key + skip);
			else if (i == 5)
				settled = reconcile_gone_route(rc, key + skip);
			else if (!reconcile_split(key, skip, ns, &name))
				;
			else if (i == 1)
				settled = reconcile_gone_link(rc, ns, name, v);
			else if (i == 2)
				settled = reconcile_moving(rc, ns, name, v);
			else
				settled = reconcile_gone_addr(rc, ns, name);
			if (t && settled)
				store_txn_del(t, key);
		}
		json_decref(all);
	}
	if (t)
		store_txn_keep_revision(t);
	if (t && store_txn_len(t) > 0) {
		int r = store_commit(rc->store, t);

		if (r < 0)
			reconcile_failed(rc, "desired state",
					 "forgetting finished changes", r);
	}
	store_txn_free(t);
}

json_t *reconcile_run(struct store *s)
{
	struct reconcile rc = { .store = s,
				.actions = json_array(),
				.failures = json_array(),
				.blocked = json_object() };

	reconcile_interrupted(&rc);
	reconcile_namespaces(&rc);
	/* Sysctls before links: a link made next starts from conf.default
	 * (README.md, "Sysctls"); conf.<link> keys once their links exist. */
	sysctl_apply_all(s, false, rc.actions, rc.failures, rc.blocked);
	reconcile_links(&rc);
	sysctl_apply_all(s, true, rc.actions, rc.failures, rc.blocked);
	reconcile_addresses(&rc);
	/* Routes need their links and the addresses of their gateways. */
	route_reconcile(s, rc.actions, rc.failures, rc.blocked);
	json_decref(rc.blocked);
	return json_pack("{s:o, s:o}", "actions", rc.actions, "failures",
			 rc.failures);
}
