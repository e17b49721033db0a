/* Durable desired state: a map from keys ("ns/blue", "link/blue/veth0", ...)
 * to JSON values, kept in memory and on disk as a snapshot plus an
 * append-only journal of transactions. A commit is durable (fdatasync) once
 * store_sync() returns, and costs the same whatever the number of stored
 * objects. */
#ifndef NETNSD_STORE_H
#define NETNSD_STORE_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_txn;

/* Opens (creating when absent) the snapshot at `path` and its journal
 * `path`.journal, and replays them. A torn tail (what a power loss leaves
 * of records no sync covered: zeros, records cut short by zeros or the end
 * of the file, and whole records after them that do not say a lost one was
 * on disk) is dropped; any other damage fails with -EBADMSG, a message in
 * `err` naming the byte, and nothing is written. */
int store_open(const char *path, struct store **ret, char *err, size_t errlen);
void store_free(struct store *s);

/* A new reference to the value stored under `key`, or NULL. Stored values are
 * never modified in place, so readers may keep them after the call. */
json_t *store_get(struct store *s, const char *key);
/* A new object holding every key that starts with `prefix` (new references). */
json_t *store_list(struct store *s, const char *prefix);

/* Calls `fn` for every key that starts with `prefix`, in the order of
 * store_list(), without copying anything. It runs under the store's lock:
 * `fn` must not call into the store, and keeps a value past its return only
 * with json_incref(). A non-zero return of `fn` stops the walk and is
 * returned. */
typedef int (*store_foreach_fn)(const char *key, json_t *value, void *userdata);
int store_foreach(struct store *s, const char *prefix, store_foreach_fn fn,
		  void *userdata);
size_t store_count(struct store *s);
/* How many desired objects the store holds: every record of a namespace,
 * a link (each end of a veth is one) or an address, not the markers of
 * changes in flight (see key.h). Kept as records come and go: O(1). */
size_t store_objects(struct store *s);
/* The most desired objects a creation may leave (--max-objects; no limit
 * until set). Lowering it below what the store holds deletes nothing: only
 * creations are refused until there is room again. */
void store_set_max_objects(struct store *s, size_t max);
size_t store_max_objects(struct store *s);
/* How many journal records there have been (for syncing and tests). */
uint64_t store_seq(struct store *s);
/* The revision readers are shown: one more for each change, the same after
 * a transaction that only keeps markers (store_txn_keep_revision) or whose
 * only changes are markers (see store_commit), one less after an undo
 * (store_txn_undo) that follows its change, so a change taken back leaves
 * it as it was; one more after an undo that another change came before, so
 * a number never names two committed states. */
uint64_t store_revision(struct store *s);

struct store_txn *store_txn_new(void);
void store_txn_free(struct store_txn *t);
/* Steals `value`. */
void store_txn_set(struct store_txn *t, const char *key, json_t *value);
void store_txn_del(struct store_txn *t, const char *key);
size_t store_txn_len(const struct store_txn *t);
/* The key the `i`th change of `t` sets or deletes (i < store_txn_len). */
const char *store_txn_key(const struct store_txn *t, size_t i);
/* The transaction changes no desired state, only markers of changes in
 * flight: the revision stays. */
void store_txn_keep_revision(struct store_txn *t);
/* The transaction need not be durable before the request answers (it only
 * forgets a marker: lost in a crash, start-up finds the work done): it is
 * made durable by the next sync of anything else, and store_sync() does not
 * wait for it. */
void store_txn_lazy(struct store_txn *t);
/* The transaction creates objects: its commit fails with -STORE_EQUOTA,
 * storing nothing, when it would leave more desired objects than the limit
 * and more than there were. Other transactions (changes of what exists,
 * deletions, undos, the reconciler's) are never refused by the limit. */
void store_txn_creates(struct store_txn *t);
/* What a commit refused by the limit returns: an errno that no write,
 * truncate or sync of the journal gives, so it is never a disk's failure. */
#define STORE_EQUOTA ECANCELED
/* A transaction that puts back what `t` would change, as things stand now;
 * committed right after `t`, the revision is back where it was. The keys
 * that the commit of `t` leaves as they were are taken out of it then: the
 * undo of a transaction that changed nothing is empty. */
struct store_txn *store_txn_undo(struct store *s, struct store_txn *t);

/* Appends the transaction to the journal and makes it visible. On failure
 * (-ENOSPC, -EIO, -EROFS, ...) nothing is stored, on disk or in memory.
 * It is durable only once store_sync() has returned.
 * Nothing changed, nothing moves (README.md, "Desired state"): the keys it
 * would leave as they are (set to a value json_equal() to the stored one,
 * or deleted while absent) are left out of the record; a transaction that
 * changes nothing at all writes no record, keeps the revision, needs no
 * sync (store_sync_point() stays), and returns STORE_UNCHANGED. */
int store_commit(struct store *s, struct store_txn *t);
/* What store_commit() returns for a transaction that changes nothing. */
#define STORE_UNCHANGED 1

/* Waits until every transaction committed so far, but lazy ones, is on
 * disk. Concurrent callers share one fdatasync (group commit). A failed sync
 * stops the process: what the disk holds is then unknown, and a restart
 * reads it. */
void store_sync(struct store *s);
/* What store_sync() would wait for now: a request takes it when its handler
 * returns, and waits with store_sync_until() for what it saw and wrote
 * alone, not for the intents that concurrent requests write after it. */
uint64_t store_sync_point(struct store *s);
void store_sync_until(struct store *s, uint64_t point);
/* Starts, on the store's own thread, a sync of what is committed so far and
 * returns at once: the caller's work overlaps the fdatasync, and its
 * store_sync() later waits only for what is left. `elsewhere`: the caller
 * goes on into kernel work that outlasts a sync (a namespace's creation),
 * a hint for where the sync runs. */
void store_sync_begin(struct store *s, bool elsewhere);

/* Writes a snapshot and empties the journal. Called by commits when the
 * journal has outgrown the snapshot; exposed for tests. */
int store_compact(struct store *s);

#endif
