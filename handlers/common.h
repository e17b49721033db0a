/* What every handler does the same way: path parameters, bodies, store
 * failures, answers. */
#ifndef NETNSD_HANDLER_COMMON_H
#define NETNSD_HANDLER_COMMON_H

#include <jansson.h>
#include <stdbool.h>

#include "../api/body.h"
#include "../api/problem.h"
#include "../api/request.h"

struct jsonbuf;

/* The validated {ns} path parameter; "host" only when `allow_host`. */
int handler_ns_param(struct request *req, struct reply *rep, bool allow_host,
		     const char **ret_ns);
/* A validated link-name path parameter called `param`. */
int handler_link_param(struct request *req, struct reply *rep,
		       const char *param, const char **ret_link);

/* The {ns} of the path, the link its `param` names and a socket inside
 * the namespace. A request that changes something takes the namespace's
 * lock here, before it reads, and holds it until it has answered. */
struct nl_sock;
int handler_link_path(struct request *req, struct reply *rep, const char *param,
		      const char **ret_ns, const char **ret_link,
		      struct nl_sock **ret_s);

/* Parses and checks the body against `fields`. */
int handler_body(struct request *req, struct reply *rep,
		 const struct body_field *fields, bool allow_empty,
		 json_t **ret);

/* Answers `status` with `body` (stolen); a 201 also sets Location. */
int handler_reply(struct reply *rep, int status, json_t *body,
		  const char *location_fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with a body written as JSON text (taken from `b`, which is left
 * empty), sent as it is: no json_t is built for it. A failed `b` answers no
 * body, as a NULL json_t does. */
int handler_reply_text(struct reply *rep, int status, struct jsonbuf *b,
		       const char *location_fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Ends a list written into `b` as `{"items":[...` and answers it, 200; a
 * list that could not be written (out of memory) is a 500. */
int handler_reply_list(struct reply *rep, struct jsonbuf *b);

struct nl_sock;
struct store_txn;

/* A socket inside namespace `ns`, or a 404 problem when there is no such
 * namespace. Give it back with nl_ns_put(ns, sock). It takes no lock: a
 * mutation takes its namespaces' locks first (handler_lock_ns,
 * handler_lock), before it reads what is in them. */
int handler_ns_sock(struct request *req, struct reply *rep, const char *ns,
		    struct nl_sock **ret);

/* The answer of a dry run (?dry_run=true): 200 {"dry_run": true,
 * "changes": [...]}, the plan a real run would apply. */
struct plan;
int handler_plan_reply(struct reply *rep, const struct plan *p);
/* After planning, `r` being what the planner returned: its failure as a
 * problem (a negative errno made one), 1 when ?dry_run=true and the plan
 * was answered, or 0 to go on and apply it. */
int handler_planned(struct request *req, struct reply *rep,
		    const struct plan *p, int r);

/* The plan of a DELETE whose object the kernel has no more: its record
 * at `path` forgotten, nothing else. */
int handler_plan_forget(struct plan *p, const char *ns, const char *path);

/* A DELETE's plan carried out, `r` being what the planner returned: a dry
 * run answered, or `p` run with `t` (the records forgotten) committed
 * first. 0 when either is done (the caller tells them by req->dry_run),
 * or a negative errno with the problem set. */
struct apply;
struct store_txn;
int handler_delete_run(struct request *req, struct reply *rep, struct apply *ap,
		       struct plan *p, int r, struct store_txn *t);

/* A kernel failure as a problem, with the kernel's own words. */
int handler_kernel_failed(struct reply *rep, int err, const char *what);

/* Host protection: a link in "host" that netnsd does not own may only be
 * changed with ?force=true. */
int handler_check_host_link(struct request *req, struct reply *rep,
			    const char *ns, bool managed, const char *link);

/* The same for a bridge a port is attached to or detached from: that
 * changes the bridge, so one netnsd did not create in "host" (docker0, a
 * LAN bridge) needs ?force=true too (README.md, "The API in short"). */
int handler_check_host_bridge(struct request *req, struct reply *rep,
			      const char *ns, bool managed, const char *bridge,
			      bool attach);

/* 404 for a link the kernel is about to take away (see dying.h). */
struct nl_link;
int handler_check_dying(struct reply *rep, const char *ns,
			const struct nl_link *l);

/* Takes the locks of the namespaces a mutation touches (NULLs are skipped;
 * see base/nslock.h), before it reads what they hold; they are let go
 * once the handler returns. Returns 1 when locks taken earlier had to be
 * let go on the way: what was read under them must be read again. When a
 * lock stays busy past the wait bound, -ETIMEDOUT, the request holds no
 * lock any more and handler_ns_sock() answers 503 `busy` (later calls fail
 * at once: a request waits out the bound once at most). */
int handler_lock(struct request *req, const char *ns1, const char *ns2,
		 const char *ns3);
/* The lock of one namespace, the 503 `busy` answered on a timeout. */
int handler_lock_ns(struct request *req, struct reply *rep, const char *ns);
/* The same for `n` names, with the 503 `busy` answered on a timeout. */
int handler_lock_all(struct request *req, struct reply *rep,
		     const char *const names[], size_t n);
/* The 503 `busy` answer of a lock wait that ran out for `ns` (or `ns2`). */
int handler_busy(struct reply *rep, const char *ns, const char *ns2);

/* Lets the namespace locks go early: the change is made and recorded, and
 * what is left (the answer's rendering) reads, as a GET would. */
void handler_unlock(struct request *req);

/* Commits `t`; on failure, answers the storage problem, or 403
 * quota-exceeded for a creation (store_txn_creates) past --max-objects. */
int handler_commit(struct request *req, struct reply *rep, struct store_txn *t);

/* Intent first: records `t` (NULL: out of memory) before the kernel is
 * changed, so that a crash in between finds the change desired and start-up
 * completes it; a kernel change never exists without its record. The sync
 * starts at once and runs alongside the kernel work; the answer waits for it
 * as for any commit. *ret_undo takes the record back when the kernel refuses
 * (handler_intent_undo). On failure, answers the storage problem. */
int handler_intent(struct request *req, struct reply *rep, struct store_txn *t,
		   struct store_txn **ret_undo);
/* The same, before kernel work that outlasts a sync (a namespace's
 * creation): the sync starts on another CPU (see store_sync_begin). */
int handler_intent_long(struct request *req, struct reply *rep,
			struct store_txn *t, struct store_txn **ret_undo);
/* Forgets the in-flight marker `key` (see state/key.h) of a change the
 * kernel has made. */
void handler_done(struct request *req, const char *key);
/* Takes back an intent the kernel refused; `what` names it for the log. */
void handler_intent_undo(struct request *req, struct store_txn *undo,
			 const char *what);

#endif
