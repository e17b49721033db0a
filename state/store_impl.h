/* What the parts of the store share, and nobody else: the store's own
 * structure and the functions one part calls in another. The contract is
 * store.h; this header is included only by state/store*.c.
 *  - store.c: the contract's glue (open, reads, transactions, commit);
 *  - store_index.c: the in-memory objects and their prefix index;
 *  - store_journal.c: the files (snapshot, journal, replay, compaction);
 *  - store_sync.c: group commit and the syncer thread. */
#ifndef NETNSD_STORE_IMPL_H
#define NETNSD_STORE_IMPL_H

#include <jansson.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

/* store_list() answers from this index when its prefix ends at one of the
 * first three '/' of keys, so a namespace's or a link's records are found
 * without a scan of everything. */
#define STORE_INDEX_DEPTH 3
/* Longer prefixes are not indexed; a list by one of them scans instead. */
#define STORE_INDEX_PREFIX_MAX 256

/* The index: for every prefix that ends at one of the first three '/' of a
 * key, the keys under it in the order they were first set, which is the
 * order of `objects`. A key has one entry, linked into each of its sets, so
 * it is held once more in all, not once per set, and leaves all its sets in
 * O(1). Values are borrowed: `objects` holds the references. */
struct store_hnode {
	struct store_hnode *next; /* in its hash bucket */
	size_t hash;
};

struct store_htab {
	struct store_hnode **buckets;
	size_t n_buckets; /* 0 or a power of two */
	size_t n;
	size_t name_off; /* where a node's name is, from its start */
};

struct store_set {
	struct store_hnode node;
	struct store_entry *first, *last;
	char prefix[];
};

struct store_entry {
	struct store_hnode node;
	struct {
		struct store_entry *prev, *next;
	} in[STORE_INDEX_DEPTH]; /* its place in the set of each depth */
	json_t *value;
	char key[];
};

struct store_index {
	struct store_htab sets;	   /* prefix -> struct store_set */
	struct store_htab entries; /* key -> struct store_entry */
};

struct store {
	pthread_mutex_t mu;
	json_t *objects;
	struct store_index index;
	size_t n_objects;   /* desired ones: see store_objects() */
	size_t max_objects; /* what a creation may leave */
	uint64_t seq;
	/* What readers see: it grows with each change, stands still for
	 * markers and steps back when a change is taken back. */
	uint64_t revision;
	char *path; /* snapshot */
	char *journal_path;
	int journal_fd;
	off_t journal_size;  /* where the records end and the next one goes */
	off_t journal_alloc; /* the file's length: zeros after journal_size */
	/* Read and accepted: only then may store_free cut the file. */
	bool journal_loaded;
	off_t snapshot_size;
	bool tail_dirty; /* a failed append may have left bytes past the end */
	uint64_t needed_seq; /* the last record store_sync() waits for */
	/* Group commit: appends go on while one thread syncs for all. The
	 * sync's own lock, so that the waiters a sync wakes all at once do not
	 * queue on `mu` in front of the next commit. Taken after `mu` when
	 * both are held; `seq` and `synced_seq` are also read without them,
	 * atomically. */
	pthread_mutex_t sync_mu;
	uint64_t synced_seq;
	bool syncing;
	pthread_cond_t synced;
	/* The syncer thread starts a sync when asked (store_sync_begin). */
	pthread_t syncer;
	bool has_syncer;
	/* The CPUs it may use, and the one it is kept off (-1: none): see
	 * store_syncer_place. */
	cpu_set_t syncer_cpus;
	int syncer_away_from;
	bool syncer_asleep; /* in its wait for work: on no CPU */
	bool sync_wanted;
	bool stopping;
	pthread_cond_t wanted;
};

/* store_index.c */
void store_index_init(struct store_index *idx);
void store_index_free(struct store_index *idx);
/* Adds (value) or removes (NULL) `key` in every index set it belongs to. */
int store_index(struct store *s, const char *key, json_t *value);
/* Indexes every key of `objects` (a snapshot's, just read). */
int store_index_all(struct store *s, json_t *objects);
/* Applies one transaction's ops to the objects and the index. */
int store_apply(struct store *s, json_t *ops);
/* Whether the index holds a set for exactly the keys under `prefix`. */
bool store_prefix_indexed(const char *prefix, size_t plen);
/* The set of keys under an indexed `prefix`, NULL when none, and the
 * depth whose links chain it. */
struct store_set *store_index_set(struct store *s, const char *prefix,
				  size_t plen, int *ret_depth);

/* store.c */
/* Copies `n` bytes of the store's state at `src` to `dst` (or the other
 * way) under s->mu: a field read or set whole, never torn. */
void store_locked_copy(struct store *s, void *dst, const void *src, size_t n);

/* store_journal.c */
/* Creates, locks and reads the snapshot and the journal (store_open). */
int store_journal_open(struct store *s, char *err, size_t errlen);
/* Cuts the room written ahead of the records, and closes the journal. */
void store_journal_close(struct store *s);
/* Appends the record of `ops` as sequence seq + 1 and revision `rev`. On
 * failure nothing of it is left in the journal. Called with s->mu held. */
int store_journal_append(struct store *s, json_t *ops, uint64_t rev);
/* Whether the journal has outgrown the snapshot enough to compact. */
bool store_journal_outgrown(const struct store *s);
/* Writes a snapshot and empties the journal. Called with s->mu held. */
int store_compact_locked(struct store *s);

/* store_sync.c */
/* `upto` and everything before it is on disk. */
void store_synced(struct store *s, uint64_t upto);
/* Stops the syncer thread, when it was started. */
void store_syncer_stop(struct store *s);

#endif
