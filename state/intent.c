/*
 * The crash-consistency protocol of netnsd.
 *
 * netnsd keeps two truths that must agree: the desired state (the store's
 * records, durable on disk) and the kernel. A change touches both, and the
 * daemon may be killed between any two instructions. The protocol makes
 * every such instant recoverable by start-up (state/reconcile.c), by three
 * rules:
 *
 * 1. Intent first. The record of a creation or of a new attribute is
 *    committed before the kernel is asked (intent_begin). Its sync runs
 *    alongside the kernel work, and the answer waits for it, so a 2xx is
 *    only sent for a change that is durable. A crash after the commit but
 *    before the kernel finds the object desired and missing: start-up
 *    creates it. A crash before the commit leaves neither. So a kernel
 *    object netnsd makes never exists without its record. When the kernel
 *    refuses, the record is taken back (intent_undo) and so is every
 *    kernel step already taken (state/apply.c), in reverse.
 *
 * 2. Markers for what a record cannot say. Deleting or moving a kernel
 *    object cannot be written as a desired record first: the record would
 *    say "absent", and start-up cannot tell absent-and-gone from
 *    absent-and-never-mine. So these write a marker (state/key.h) before
 *    the kernel is touched:
 *      gone-ns/<ns>        a namespace being deleted;
 *      gone-link/<ns>/<l>  a link being deleted, with its ifindex;
 *      gone-addr/<ns>/<l>/<ip>/<len>  an address being taken off;
 *      gone-route/<ns>/<table>/<ip>/<len>/<metric>  a route being
 *                          deleted;
 *      release-ns/<ns>     an adopted namespace being released (its
 *                          mark taken off, the namespace kept);
 *      moving/<ns2>/<l2>   a link being renamed or moved to ns2/l2, with
 *                          where it came from and its ifindex.
 *    The apply layer (state/apply.c) writes the markers of a plan's
 *    deletions and releases into the same commit as its records, so that
 *    a whole-state apply (PUT /v1/state) interrupted anywhere is finished
 *    by start-up: the records say the new state, and the markers what of
 *    the old one must still go.
 *    Markers are not desired state (readers skip them, revision does not
 *    move for them). Once the kernel has done the work, the records change
 *    and the marker is forgotten (intent_done) lazily: a marker left behind
 *    is harmless, because start-up finds the work done.
 *
 * 3. Start-up settles every marker before it converges anything
 *    (reconcile_interrupted in state/reconcile.c):
 *      gone-ns: the namespace goes (also when only its file is left),
 *               unless it is desired again;
 *      gone-link: the link goes if it is still the one being deleted (the
 *               same ifindex, or netnsd's mark) and nothing desires its
 *               name again;
 *      gone-addr: the address goes, unless it is desired again;
 *      gone-route: netnsd's route of that identity goes, unless it is
 *               desired again;
 *      release-ns: the mark goes, unless the namespace is desired again;
 *      moving:  the link goes back to where its records say, unless the
 *               new name became desired for a link of its own.
 *    A marker is forgotten only once settled, so a failure is tried again
 *    at the next start-up or reconcile.
 *
 * What is never done: a kernel object changed before its record when the
 * record could say it; a marker forgotten before the kernel agreed; a
 * record taken back while a kernel step it covers could not be undone (it
 * stays, and reconcile converges to it).
 */
#include "intent.h"

#include <errno.h>
#include <string.h>

#include "../base/log.h"

static int intent_failed(struct store *s, int err, struct problem *prob)
{
	bool full = err == -ENOSPC || err == -EDQUOT;

	if (err == -STORE_EQUOTA)
		return problem_set(
			prob, 403, "quota-exceeded",
			"the desired state may hold at most %zu objects (--max-objects) and holds %zu: this creation would go past the limit; nothing was changed",
			store_max_objects(s), store_objects(s));
	return problem_set(
		prob, full ? 507 : 500,
		full ? "insufficient-storage" : "storage-failed",
		"the desired state could not be stored durably (%s); nothing was changed",
		strerror(-err));
}

int intent_begin(struct store *s, struct store_txn *t, bool long_work,
		 struct store_txn **ret_undo, struct problem *prob)
{
	struct store_txn *undo = t ? store_txn_undo(s, t) : NULL;
	int r;

	if (!undo)
		return intent_failed(s, -ENOMEM, prob);
	r = store_commit(s, t);
	if (r < 0) {
		store_txn_free(undo);
		return intent_failed(s, r, prob);
	}
	/* An intent that records nothing new (the record was there already)
	 * has nothing to sync, and an empty undo. */
	if (r != STORE_UNCHANGED)
		store_sync_begin(s, long_work);
	*ret_undo = undo;
	return 0;
}

void intent_undo(struct store *s, struct store_txn *undo, const char *what)
{
	if (undo && store_commit(s, undo) < 0)
		log_error(
			"%s failed in the kernel, and its record could not be taken back: the next reconcile will try it again",
			what);
}

void intent_done(struct store *s, const char *key)
{
	struct store_txn *t = store_txn_new();

	if (t) {
		store_txn_del(t, key);
		store_txn_keep_revision(t);
		store_txn_lazy(t);
	}
	/* Left behind, the marker is harmless: reconcile finds the work
	 * done and forgets it. */
	if (!t || store_commit(s, t) < 0)
		log_warn("could not forget the finished change %s", key);
	store_txn_free(t);
}

int intent_commit(struct store *s, struct store_txn *t, struct problem *prob)
{
	int r = t ? store_commit(s, t) : -ENOMEM;

	return r < 0 ? intent_failed(s, r, prob) : 0;
}
