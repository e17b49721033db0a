/* The crash-consistency protocol: how a change is recorded around its
 * kernel work so that a crash at any instant leaves something start-up can
 * finish or take back. The design comment at the top of intent.c says the
 * whole protocol; this header is its interface. */
#ifndef NETNSD_INTENT_H
#define NETNSD_INTENT_H

#include <stdbool.h>

#include "../api/problem.h"
#include "store.h"

/* Records `t` (NULL: out of memory) before the kernel is changed, and
 * starts its sync, which runs alongside the kernel work (`long_work`: on
 * another CPU, for work that outlasts a sync; see store_sync_begin). On
 * success *ret_undo is the transaction that takes the record back; on
 * failure `prob` says why (a storage problem, or 403 quota-exceeded for a
 * creation past --max-objects) and nothing was recorded. */
int intent_begin(struct store *s, struct store_txn *t, bool long_work,
		 struct store_txn **ret_undo, struct problem *prob);
/* Takes back an intent the kernel refused; `what` names it for the log. */
void intent_undo(struct store *s, struct store_txn *undo, const char *what);
/* Forgets the in-flight marker `key` (state/key.h) of a change the kernel
 * has made. */
void intent_done(struct store *s, const char *key);
/* Commits `t`, a record made after its kernel work; `prob` as for
 * intent_begin(). */
int intent_commit(struct store *s, struct store_txn *t, struct problem *prob);

#endif
