#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../api/name.h"
#include "../netlink/link.h"
#include "dying.h"
#include "../netlink/ns.h"
#include "../server/log.h"
#include "../server/nslock.h"
#include "../state/store.h"

int handler_ns_param(struct request *req, struct reply *rep, bool allow_host,
		     const char **ret_ns)
{
	const char *ns = router_param(req, "ns");
	const char *why = name_check_namespace(ns);

	if (why)
		return problem_field(&rep->problem, "ns", "namespace name %s",
				     why);
	if (!allow_host && name_is_host(ns))
		return problem_set(
			&rep->problem, 409, "reserved-name",
			"'host' is the daemon's own namespace; it cannot be created or deleted");
	*ret_ns = ns;
	return 0;
}

int handler_link_param(struct request *req, struct reply *rep,
		       const char *param, const char **ret_link)
{
	const char *link = router_param(req, param);
	const char *why = name_check_link(link);

	if (why)
		return problem_field(&rep->problem, param, "link name %s", why);
	*ret_link = link;
	return 0;
}

int handler_body(struct request *req, struct reply *rep,
		 const struct body_field *fields, bool allow_empty,
		 json_t **ret)
{
	json_t *body = NULL;
	int r;

	r = body_parse(req->body, req->body_len, allow_empty, &body,
		       &rep->problem);
	if (r < 0)
		return r;
	r = body_check(body, fields, "", &rep->problem);
	if (r < 0) {
		json_decref(body);
		return r;
	}
	*ret = body;
	return 0;
}

int handler_store_failed(struct reply *rep, int err)
{
	bool full = err == -ENOSPC || err == -EDQUOT;

	return problem_set(
		&rep->problem, full ? 507 : 500,
		full ? "insufficient-storage" : "storage-failed",
		"the desired state could not be stored durably (%s); nothing was changed",
		strerror(-err));
}

int handler_reply(struct reply *rep, int status, json_t *body,
		  const char *location_fmt, ...)
{
	va_list ap;

	rep->status = status;
	rep->json = body;
	if (location_fmt) {
		va_start(ap, location_fmt);
		vsnprintf(rep->location, sizeof(rep->location), location_fmt,
			  ap);
		va_end(ap);
	}
	return 0;
}

int handler_ns_sock(struct request *req, struct reply *rep, const char *ns,
		    struct nl_sock **ret)
{
	int r;

	/* A mutation holds the namespace from here until it has answered. */
	if (req->mutates && handler_lock(req, ns, NULL, NULL) < 0)
		return handler_busy(rep, ns, NULL);
	r = nl_ns_get(ns, ret);

	if (r == -ENOENT || r == -EINVAL)
		return problem_set(&rep->problem, 404, "not-found",
				   "namespace %s does not exist", ns);
	if (r < 0)
		return problem_errno(
			&rep->problem, r,
			"opening a netlink socket in the namespace", NULL);
	return 0;
}

int handler_kernel_failed(struct reply *rep, int err, const char *what)
{
	return problem_errno(&rep->problem, err, what, nl_extack());
}

int handler_check_dying(struct reply *rep, const char *ns,
			const struct nl_link *l)
{
	if (!dying_is(ns, l))
		return 0;
	return problem_set(
		&rep->problem, 404, "not-found",
		"link %s in namespace %s is going away with the namespace of its peer",
		l->name, ns);
}

int handler_check_host_link(struct request *req, struct reply *rep,
			    const char *ns, bool managed, const char *link)
{
	if (!name_is_host(ns) || managed || req->force)
		return 0;
	return problem_set(
		&rep->problem, 409, "unmanaged",
		"link %s in the host namespace was not created by netnsd; add ?force=true to change it anyway",
		link);
}

/* A refused commit: past --max-objects (README.md, "Desired state"), or
 * a store failure. */
static int handler_commit_failed(struct request *req, struct reply *rep,
				 int err)
{
	if (err != -STORE_EQUOTA)
		return handler_store_failed(rep, err);
	return problem_set(
		&rep->problem, 403, "quota-exceeded",
		"the desired state may hold at most %zu objects (--max-objects) and holds %zu: this creation would go past the limit; nothing was changed",
		store_max_objects(req->store), store_objects(req->store));
}

int handler_check_host_bridge(struct request *req, struct reply *rep,
			      const char *ns, bool managed, const char *bridge,
			      bool attach)
{
	if (!name_is_host(ns) || managed || req->force)
		return 0;
	return problem_set(
		&rep->problem, 409, "unmanaged",
		"bridge %s in the host namespace is not managed by netnsd, and %s a port changes it; add ?force=true to do it anyway",
		bridge, attach ? "attaching" : "detaching");
}

int handler_commit(struct request *req, struct reply *rep, struct store_txn *t)
{
	int r = t ? store_commit(req->store, t) : -ENOMEM;

	return r < 0 ? handler_commit_failed(req, rep, r) : 0;
}

static int handler_intent_sync(struct request *req, struct reply *rep,
			       struct store_txn *t, struct store_txn **ret_undo,
			       bool long_work)
{
	struct store_txn *undo = t ? store_txn_undo(req->store, t) : NULL;
	int r;

	if (!undo)
		return handler_store_failed(rep, -ENOMEM);
	r = store_commit(req->store, t);
	if (r < 0) {
		store_txn_free(undo);
		return handler_commit_failed(req, rep, r);
	}
	/* An intent that records nothing new (the record was there already)
	 * has nothing to sync, and an empty undo. */
	if (r != STORE_UNCHANGED)
		store_sync_begin(req->store, long_work);
	*ret_undo = undo;
	return 0;
}

int handler_intent(struct request *req, struct reply *rep, struct store_txn *t,
		   struct store_txn **ret_undo)
{
	return handler_intent_sync(req, rep, t, ret_undo, false);
}

int handler_intent_long(struct request *req, struct reply *rep,
			struct store_txn *t, struct store_txn **ret_undo)
{
	return handler_intent_sync(req, rep, t, ret_undo, true);
}

void handler_intent_undo(struct request *req, struct store_txn *undo,
			 const char *what)
{
	if (store_commit(req->store, undo) < 0)
		log_error(
			"%s failed in the kernel, and its record could not be taken back: the next reconcile will try it again",
			what);
}

void handler_done(struct request *req, const char *key)
{
	struct store_txn *t = store_txn_new();

	if (t) {
		store_txn_del(t, key);
		store_txn_keep_revision(t);
		store_txn_lazy(t);
	}
	/* Left behind, the marker is harmless: reconcile finds the work
	 * done and forgets it. */
	if (!t || store_commit(req->store, t) < 0)
		log_warn("could not forget the finished change %s", key);
	store_txn_free(t);
}

void handler_unlock(struct request *req)
{
	nslock_release(&req->ns_locks);
}

int handler_busy(struct reply *rep, const char *ns, const char *ns2)
{
	bool two = ns2 && strcmp(ns, ns2);

	return problem_set(
		&rep->problem, 503, "busy",
		"namespace %s%s%s is busy: another change to it (or to a namespace sharing its lock) has not finished within %u s, as when the kernel does not answer; nothing was changed, try again",
		ns, two ? " or " : "", two ? ns2 : "", nl_timeout());
}

int handler_lock(struct request *req, const char *ns1, const char *ns2,
		 const char *ns3)
{
	const char *names[] = { ns1, ns2, ns3 };
	int r;

	if (req->ns_lock_timeout)
		return -ETIMEDOUT;
	r = nslock_acquire(&req->ns_locks, names, 3);
	if (r == -ETIMEDOUT)
		req->ns_lock_timeout = true;
	return r;
}

int handler_lock_all(struct request *req, struct reply *rep,
		     const char *const names[], size_t n)
{
	int r = req->ns_lock_timeout ? -ETIMEDOUT
				     : nslock_acquire(&req->ns_locks, names, n);

	if (r == -ETIMEDOUT) {
		req->ns_lock_timeout = true;
		return handler_busy(rep, names[0], NULL);
	}
	return r;
}
