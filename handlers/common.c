#include "common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../api/jsonbuf.h"
#include "../api/name.h"
#include "../base/log.h"
#include "../base/nslock.h"
#include "../netlink/link.h"
#include "dying.h"
#include "../netlink/ns.h"
#include "../state/apply.h"
#include "../state/intent.h"
#include "../state/ns_owner.h"
#include "../state/plan.h"
#include "../state/store.h"

int handler_ns_param(struct request *req, struct reply *rep, bool allow_host,
		     const char **ret_ns)
{
	const char *ns = request_param(req, "ns");
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
	const char *link = request_param(req, param);
	const char *why = name_check_link(link);

	if (why)
		return problem_field(&rep->problem, param, "link name %s", why);
	*ret_link = link;
	return 0;
}

int handler_link_path(struct request *req, struct reply *rep, const char *param,
		      const char **ret_ns, const char **ret_link,
		      struct nl_sock **ret_s)
{
	int r = handler_ns_param(req, rep, true, ret_ns);

	if (r == 0)
		r = handler_link_param(req, rep, param, ret_link);
	if (r == 0 && req->mutates)
		r = handler_lock_ns(req, rep, *ret_ns);
	if (r == 0)
		r = handler_ns_sock(req, rep, *ret_ns, ret_s);
	return r;
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

static void handler_location(struct reply *rep, const char *fmt, va_list ap)
{
	if (fmt)
		vsnprintf(rep->location, sizeof(rep->location), fmt, ap);
}

int handler_reply(struct reply *rep, int status, json_t *body,
		  const char *location_fmt, ...)
{
	va_list ap;

	rep->status = status;
	rep->json = body;
	va_start(ap, location_fmt);
	handler_location(rep, location_fmt, ap);
	va_end(ap);
	return 0;
}

int handler_reply_text(struct reply *rep, int status, struct jsonbuf *b,
		       const char *location_fmt, ...)
{
	va_list ap;

	/* The newline a json_t body is sent with (server/http.c), so that
	 * both kinds of answer are the same bytes, and so have the same
	 * ETag. */
	jsonbuf_lit(b, "\n");
	rep->status = status;
	rep->text = rep->text_owned = jsonbuf_steal(b, &rep->text_len);
	rep->content_type = "application/json";
	va_start(ap, location_fmt);
	handler_location(rep, location_fmt, ap);
	va_end(ap);
	return 0;
}

int handler_reply_list(struct reply *rep, struct jsonbuf *b)
{
	jsonbuf_lit(b, "]}");
	if (b->err) {
		jsonbuf_free(b);
		return problem_set(&rep->problem, 500, "internal",
				   "the list could not be written");
	}
	return handler_reply_text(rep, 200, b, NULL);
}

int handler_ns_sock(struct request *req, struct reply *rep, const char *ns,
		    struct nl_sock **ret)
{
	int r;

	(void)req;
	r = nl_ns_get(ns, ret);

	if (r == -ENOENT || r == -EINVAL)
		return problem_ns_missing(&rep->problem, ns);
	if (r < 0)
		return problem_errno(
			&rep->problem, r,
			"opening a netlink socket in the namespace", NULL);
	return 0;
}

int handler_plan_reply(struct reply *rep, const struct plan *p)
{
	json_t *changes = plan_to_json(p);

	if (!changes)
		return problem_errno(&rep->problem, -ENOMEM, "planning", NULL);
	return handler_reply(
		rep, 200,
		json_pack("{s:b, s:o}", "dry_run", 1, "changes", changes),
		NULL);
}

int handler_planned(struct request *req, struct reply *rep,
		    const struct plan *p, int r)
{
	if (r < 0)
		return rep->problem.status ? r
					   : problem_errno(&rep->problem, r,
							   "planning", NULL);
	if (!req->dry_run)
		return 0;
	r = handler_plan_reply(rep, p);
	return r < 0 ? r : 1;
}

int handler_plan_forget(struct plan *p, const char *ns, const char *path)
{
	return plan_record(p, PLAN_DELETE, ns, path,
			   "forgotten: the kernel has it no more");
}

int handler_delete_run(struct request *req, struct reply *rep, struct apply *ap,
		       struct plan *p, int r, struct store_txn *t)
{
	r = handler_planned(req, rep, p, r);
	if (r != 0)
		return r > 0 ? 0 : r; /* a dry run was answered */
	return apply_run(ap, req->store, p, t, false, &rep->problem);
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

/* Links are protected where netnsd does not manage the namespace: in
 * "host", and in namespaces made by others (README.md, "Ownership"). The
 * namespace as the words name it: "the host namespace" or "namespace X,
 * which netnsd does not manage," (with its comma). */
static bool handler_ns_protected(struct request *req, const char *ns,
				 char *words, size_t len)
{
	if (name_is_host(ns)) {
		snprintf(words, len, "the host namespace");
		return true;
	}
	if (ns_owner_managed(req->store, ns))
		return false;
	snprintf(words, len, "namespace %s, which netnsd does not manage,", ns);
	return true;
}

/* 409 unmanaged, unless ?force=true: the `what` named `name` in a
 * protected namespace is not netnsd's (`managed` false); `why` says why
 * the request would change it, `act` what force would do. */
static int handler_check_force(struct request *req, struct reply *rep,
			       const char *ns, bool managed, const char *what,
			       const char *name, const char *why,
			       const char *act)
{
	char where[NAME_NS_MAX + 64];

	if (managed || req->force ||
	    !handler_ns_protected(req, ns, where, sizeof(where)))
		return 0;
	return problem_set(&rep->problem, 409, "unmanaged",
			   "%s %s in %s %s; add ?force=true to %s anyway", what,
			   name, where, why, act);
}

int handler_check_host_link(struct request *req, struct reply *rep,
			    const char *ns, bool managed, const char *link)
{
	return handler_check_force(req, rep, ns, managed, "link", link,
				   "was not created by netnsd", "change it");
}

int handler_check_host_bridge(struct request *req, struct reply *rep,
			      const char *ns, bool managed, const char *bridge,
			      bool attach)
{
	return handler_check_force(
		req, rep, ns, managed, "bridge", bridge,
		attach ? "is not managed by netnsd, and attaching a port changes it"
		       : "is not managed by netnsd, and detaching a port changes it",
		"do it");
}

int handler_commit(struct request *req, struct reply *rep, struct store_txn *t)
{
	return intent_commit(req->store, t, &rep->problem);
}

int handler_intent(struct request *req, struct reply *rep, struct store_txn *t,
		   struct store_txn **ret_undo)
{
	return intent_begin(req->store, t, false, ret_undo, &rep->problem);
}

int handler_intent_long(struct request *req, struct reply *rep,
			struct store_txn *t, struct store_txn **ret_undo)
{
	return intent_begin(req->store, t, true, ret_undo, &rep->problem);
}

void handler_intent_undo(struct request *req, struct store_txn *undo,
			 const char *what)
{
	intent_undo(req->store, undo, what);
}

void handler_done(struct request *req, const char *key)
{
	intent_done(req->store, key);
}

void handler_unlock(struct request *req)
{
	request_unlock(req);
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

int handler_lock_ns(struct request *req, struct reply *rep, const char *ns)
{
	return handler_lock_all(req, rep, &ns, 1);
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
