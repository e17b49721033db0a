/* The store's contract (store.h) on top of its parts (store_impl.h):
 * open and free, reads under the store's lock, transactions and their
 * undo, and the commit that leaves out what changes nothing. */
#include "store_impl.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"

struct store_txn {
	json_t *ops;  /* [{"set": key, "value": v} | {"del": key}] */
	bool broken;  /* an op could not be recorded: the commit must fail */
	int rev_step; /* +1, or 0 (a marker), or -1 (an undo) */
	bool lazy;    /* need not be durable before an answer */
	bool creates; /* refused past the limit on desired objects */
	/* A change and its undo know each other (store_txn_undo), so that the
	 * undo learns the revision its change made. */
	struct store_txn *undo, *of;
	uint64_t undoes_rev;
};

int store_open(const char *path, struct store **ret, char *err, size_t errlen)
{
	struct store *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->sync_mu, NULL);
	pthread_cond_init(&s->synced, NULL);
	pthread_cond_init(&s->wanted, NULL);
	s->journal_fd = -1;
	s->max_objects = SIZE_MAX;
	s->objects = json_object();
	store_index_init(&s->index);
	s->path = strdup(path);
	if (asprintf(&s->journal_path, "%s.journal", path) < 0)
		s->journal_path = NULL;
	if (!s->objects || !s->path || !s->journal_path) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r = store_journal_open(s, err, errlen);
	if (r < 0)
		goto fail;
	s->synced_seq = s->seq;
	*ret = s;
	return 0;
fail:
	store_free(s);
	return r;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	store_syncer_stop(s);
	store_journal_close(s);
	json_decref(s->objects);
	store_index_free(&s->index);
	free(s->path);
	free(s->journal_path);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->sync_mu);
	pthread_cond_destroy(&s->synced);
	pthread_cond_destroy(&s->wanted);
	free(s);
}

json_t *store_get(struct store *s, const char *key)
{
	json_t *v;

	pthread_mutex_lock(&s->mu);
	v = json_incref(json_object_get(s->objects, key));
	pthread_mutex_unlock(&s->mu);
	return v;
}

json_t *store_list(struct store *s, const char *prefix)
{
	size_t plen = strlen(prefix);
	const char *key;
	json_t *out = json_object(), *v;
	struct store_set *set;
	int d;

	if (!out)
		return NULL;
	pthread_mutex_lock(&s->mu);
	if (store_prefix_indexed(prefix, plen)) {
		/* Indexed: only the matching keys are visited. */
		set = store_index_set(s, prefix, plen, &d);
		for (struct store_entry *e = set ? set->first : NULL; e;
		     e = e->in[d].next)
			json_object_set(out, e->key, e->value);
	} else {
		json_object_foreach(s->objects, key, v)
			if (!strncmp(key, prefix, plen))
				json_object_set(out, key, v);
	}
	pthread_mutex_unlock(&s->mu);
	return out;
}

int store_foreach(struct store *s, const char *prefix, store_foreach_fn fn,
		  void *userdata)
{
	size_t plen = strlen(prefix);
	struct store_set *set;
	const char *key;
	json_t *v;
	int d, r = 0;

	pthread_mutex_lock(&s->mu);
	/* The same keys in the same order as store_list(), without a copy
	 * of the set. */
	if (store_prefix_indexed(prefix, plen)) {
		set = store_index_set(s, prefix, plen, &d);
		for (struct store_entry *e = set ? set->first : NULL; e;
		     e = e->in[d].next) {
			r = fn(e->key, e->value, userdata);
			if (r)
				break;
		}
	} else {
		json_object_foreach(s->objects, key, v) {
			if (strncmp(key, prefix, plen))
				continue;
			r = fn(key, v, userdata);
			if (r)
				break;
		}
	}
	pthread_mutex_unlock(&s->mu);
	return r;
}

void store_locked_copy(struct store *s, void *dst, const void *src, size_t n)
{
	pthread_mutex_lock(&s->mu);
	memcpy(dst, src, n);
	pthread_mutex_unlock(&s->mu);
}

size_t store_count(struct store *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = json_object_size(s->objects);
	pthread_mutex_unlock(&s->mu);
	return n;
}

size_t store_objects(struct store *s)
{
	size_t n;

	store_locked_copy(s, &n, &s->n_objects, sizeof(n));
	return n;
}

void store_set_max_objects(struct store *s, size_t max)
{
	store_locked_copy(s, &s->max_objects, &max, sizeof(max));
}

size_t store_max_objects(struct store *s)
{
	size_t n;

	store_locked_copy(s, &n, &s->max_objects, sizeof(n));
	return n;
}

uint64_t store_revision(struct store *s)
{
	uint64_t n;

	store_locked_copy(s, &n, &s->revision, sizeof(n));
	return n;
}

uint64_t store_seq(struct store *s)
{
	uint64_t n;

	store_locked_copy(s, &n, &s->seq, sizeof(n));
	return n;
}

struct store_txn *store_txn_new(void)
{
	struct store_txn *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->rev_step = 1;
	t->ops = json_array();
	if (!t->ops) {
		free(t);
		return NULL;
	}
	return t;
}

void store_txn_free(struct store_txn *t)
{
	if (!t)
		return;
	if (t->undo)
		t->undo->of = NULL;
	if (t->of)
		t->of->undo = NULL;
	json_decref(t->ops);
	free(t);
}

void store_txn_set(struct store_txn *t, const char *key, json_t *value)
{
	/* A key that is no JSON string (bad UTF-8) or no memory: never drop
	 * the op silently, fail the whole commit instead. */
	if (json_array_append_new(t->ops, json_pack("{s:s, s:o}", "set", key,
						    "value", value)) < 0)
		t->broken = true;
}

void store_txn_keep_revision(struct store_txn *t)
{
	t->rev_step = 0;
}

void store_txn_lazy(struct store_txn *t)
{
	t->lazy = true;
}

void store_txn_creates(struct store_txn *t)
{
	t->creates = true;
}

void store_txn_del(struct store_txn *t, const char *key)
{
	if (json_array_append_new(t->ops, json_pack("{s:s}", "del", key)) < 0)
		t->broken = true;
}

size_t store_txn_len(const struct store_txn *t)
{
	return json_array_size(t->ops);
}

/* The key an op sets or deletes. */
static const char *store_op_key(json_t *op)
{
	json_t *set = json_object_get(op, "set");

	return json_string_value(set ? set : json_object_get(op, "del"));
}

const char *store_txn_key(const struct store_txn *t, size_t i)
{
	return store_op_key(json_array_get(t->ops, i));
}

struct store_txn *store_txn_undo(struct store *s, struct store_txn *t)
{
	struct store_txn *u = store_txn_new();
	json_t *op;
	size_t i;

	if (!u)
		return NULL;
	u->rev_step = -t->rev_step;
	if (t->undo)
		t->undo->of = NULL;
	t->undo = u;
	u->of = t;
	pthread_mutex_lock(&s->mu);
	/* Reverse order, so that a key touched twice ends as it was. */
	for (i = json_array_size(t->ops); i-- > 0;) {
		const char *key;
		json_t *old;

		op = json_array_get(t->ops, i);
		key = store_op_key(op);
		old = json_object_get(s->objects, key);
		if (old)
			store_txn_set(u, key, json_incref(old));
		else
			store_txn_del(u, key);
	}
	pthread_mutex_unlock(&s->mu);
	return u;
}

/* Nothing changed, nothing moves (README.md, "Desired state"; the
 * revision in openapi/openapi.yaml): a request that changes nothing keeps
 * the revision and writes no journal record, so that a client can tell
 * from the revision whether anything changed, and a pipeline run again
 * costs no fdatasync.
 *
 * It is decided here, at the commit, under the store's lock, and not in
 * each handler: only here is the stored value known for certain, and
 * handlers rewrite whole records built from what they read (a port's
 * record with its "master" set again, a PATCH's record with its fields set
 * again, keys in another order). A key keeps its ops when the value the
 * transaction leaves differs from the stored one; otherwise all its ops
 * go (a set to a value json_equal() to the stored one, a delete of an
 * absent key, a delete and a set back). json_equal() compares objects
 * whatever the order of their keys; an integer never equals a real, but
 * records hold integers only (bodies are checked as such).
 *
 * The protocol built on commits (intent first, handlers/common.c):
 *  - An intent's undo (store_txn_undo) is taken before the intent's commit
 *    and puts back each of its keys. The keys the commit leaves out are
 *    taken out of the undo too: it must not write them back over what
 *    another request may have written since. An intent left out whole
 *    leaves an empty undo, which commits nothing either.
 *  - The revision names the desired state: a transaction whose kept keys
 *    are all markers of changes in flight (key.h), whatever it asked,
 *    steps nothing, and neither does its undo. So a left-out change never
 *    moves the revision, and its undo never steps it back below a number
 *    already shown.
 *  - Markers are changes like any other: one set that was absent, or
 *    deleted that was there, is written.
 * The cost: a hash lookup and json_equal() of one record per key, under
 * the lock the commit takes anyway. */

/* Sets *ret_same to the keys whose value `ops` leaves as it is stored, or
 * NULL when there are none, and *ret_state to whether any other key is
 * state rather than a marker. Called with s->mu held. */
static int store_ops_unchanged(struct store *s, json_t *ops, json_t **ret_same,
			       bool *ret_state)
{
	json_t *last = NULL, *same = NULL, *op;
	size_t i, n = json_array_size(ops);
	int r = -ENOMEM;

	*ret_state = false;
	/* Which op decides each key's value: the last one on it. */
	if (n > 1) {
		last = json_object();
		if (!last)
			return -ENOMEM;
		json_array_foreach(ops, i, op) {
			if (json_object_set_new(last, store_op_key(op),
						json_integer((json_int_t)i)) <
			    0)
				goto out;
		}
	}
	json_array_foreach(ops, i, op) {
		const char *key = store_op_key(op);
		json_t *value = json_object_get(op, "value"); /* NULL: del */
		json_t *now;

		if (last && json_integer_value(json_object_get(last, key)) !=
				    (json_int_t)i)
			continue;
		now = json_object_get(s->objects, key);
		if (value ? now && json_equal(now, value) : !now) {
			if (!same && !(same = json_object()))
				goto out;
			if (json_object_set_new(same, key, json_true()) < 0)
				goto out;
		} else if (!key_is_marker(key)) {
			*ret_state = true;
		}
	}
	*ret_same = same;
	same = NULL;
	r = 0;
out:
	json_decref(last);
	json_decref(same);
	return r;
}

/* A new array of the ops of `ops` on keys not in `keys`. */
static json_t *store_ops_without(json_t *ops, json_t *keys)
{
	json_t *out = json_array(), *op;
	size_t i;

	if (!out)
		return NULL;
	json_array_foreach(ops, i, op) {
		if (!json_object_get(keys, store_op_key(op)) &&
		    json_array_append(out, op) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* After the commit of `t` left out the keys `same` (NULL: none), and
 * changed state or only markers: its undo forgets those keys, and steps no
 * revision when `t` stepped none. Without memory to forget them, the undo
 * writes them as they were before `t`: most likely what they are, and then
 * left out in turn. */
static void store_txn_undo_narrow(struct store_txn *t, json_t *same, bool state)
{
	struct store_txn *u = t->undo;
	json_t *ops;

	if (!u)
		return;
	if (!state && u->rev_step < 0)
		u->rev_step = 0;
	if (!same)
		return;
	ops = store_ops_without(u->ops, same);
	if (!ops)
		return;
	json_decref(u->ops);
	u->ops = ops;
}

/* Whether committing `ops` would leave more desired objects than the limit
 * allows, and more than there are now. Called with s->mu held, so that
 * concurrent creations cannot both take the last room. A creation sets
 * each key once, which the count below assumes (a key set and deleted
 * again changes nothing, and is gone from `ops`). */
static bool store_txn_over_limit(struct store *s, const struct store_txn *t,
				 json_t *ops)
{
	size_t i, added = 0, removed = 0;
	json_t *op;

	if (!t->creates)
		return false;
	json_array_foreach(ops, i, op) {
		const char *key = store_op_key(op);
		bool set = json_object_get(op, "set") != NULL;
		bool had;

		if (!key || !key_is_desired(key))
			continue;
		had = json_object_get(s->objects, key) != NULL;
		if (set && !had)
			added++;
		else if (!set && had)
			removed++;
	}
	return added > removed &&
	       s->n_objects + (added - removed) > s->max_objects;
}

/* The revision a commit of `t` leaves. An undo steps back only while the
 * revision is still the one its change made: after another change in
 * between, a step back would give a number already shown to a different
 * state. What changes only markers (`state` false) steps nothing. Called
 * with s->mu held. */
static uint64_t store_txn_revision(struct store *s, const struct store_txn *t,
				   bool state)
{
	int step = state ? t->rev_step : 0;

	if (step < 0 && (t->undoes_rev != s->revision || s->revision == 0))
		step = 1;
	return s->revision + (uint64_t)(int64_t)step;
}

int store_commit(struct store *s, struct store_txn *t)
{
	json_t *ops = NULL, *same = NULL;
	bool state;
	uint64_t rev;
	int r;

	if (t->broken)
		return -EINVAL;
	if (!json_array_size(t->ops))
		return STORE_UNCHANGED;
	pthread_mutex_lock(&s->mu);
	/* What is the same already is left out (see store_ops_unchanged). */
	r = store_ops_unchanged(s, t->ops, &same, &state);
	if (r < 0)
		goto out;
	ops = same ? store_ops_without(t->ops, same) : json_incref(t->ops);
	if (!ops) {
		r = -ENOMEM;
		goto out;
	}
	if (!json_array_size(ops)) {
		store_txn_undo_narrow(t, same, false);
		r = STORE_UNCHANGED;
		goto out;
	}
	/* seq is stored as a JSON integer, which is signed: one more would
	 * make a snapshot that no open accepts. */
	if (s->seq >= INT64_MAX) {
		r = -EOVERFLOW;
		goto out;
	}
	if (store_txn_over_limit(s, t, ops)) {
		r = -STORE_EQUOTA;
		goto out;
	}
	rev = store_txn_revision(s, t, state);
	r = store_journal_append(s, ops, rev);
	if (r < 0)
		goto out;
	/* Released: a syncer that reads this number without `mu` syncs
	 * after the record's write. */
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
	s->revision = rev;
	if (t->undo)
		t->undo->undoes_rev = rev;
	store_txn_undo_narrow(t, same, state);
	if (!t->lazy)
		s->needed_seq = s->seq;
	r = store_apply(s, ops);
	if (r < 0)
		goto out;

	if (store_journal_outgrown(s) &&
	    store_compact_locked(s) == 0) /* failure keeps the journal valid */
		store_synced(s, s->seq);  /* the snapshot is durable */
out:
	pthread_mutex_unlock(&s->mu);
	json_decref(ops);
	json_decref(same);
	return r;
}
