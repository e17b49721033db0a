#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "key.h"

#define STORE_FORMAT  "netnsd-state"
#define STORE_VERSION 1
/* Compaction runs when the journal is larger than both of these, so its
 * O(N) cost is spread over at least as many O(1) commits. */
#define STORE_COMPACT_MIN   (4u << 20)
#define STORE_COMPACT_RATIO 2
/* The journal's file grows by whole steps of zeros written ahead of the
 * records (see store_journal_extend). One page: on a full disk a record
 * still fits exactly where it would without them. */
#define STORE_JOURNAL_STEP 4096

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

static int store_fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, r = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int store_mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

static int store_read_file(const char *path, char **ret_buf, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t done = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto out;
		}
		done += (size_t)n;
	}
	buf[done] = '\0';
	*ret_buf = buf;
	*ret_len = done;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

static int store_write_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* FNV-1a of the first `len` bytes of `name`. */
static size_t store_hash(const char *name, size_t len)
{
	uint64_t h = 14695981039346656037ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

static const char *store_hname(const struct store_htab *t,
			       const struct store_hnode *h)
{
	return (const char *)h + t->name_off;
}

/* The link that points at the node named by the first `len` bytes of
 * `name`, or at the NULL that ends its bucket. */
static struct store_hnode **store_hfind(struct store_htab *t, const char *name,
					size_t len, size_t hash)
{
	struct store_hnode **link;

	if (!t->n_buckets)
		return NULL;
	for (link = &t->buckets[hash & (t->n_buckets - 1)]; *link;
	     link = &(*link)->next) {
		const char *n = store_hname(t, *link);

		if ((*link)->hash == hash && !strncmp(n, name, len) && !n[len])
			break;
	}
	return link;
}

static struct store_hnode *store_hget(struct store_htab *t, const char *name,
				      size_t len)
{
	struct store_hnode **link =
		store_hfind(t, name, len, store_hash(name, len));

	return link ? *link : NULL;
}

/* Adds a node whose name is not in the table yet. */
static int store_hadd(struct store_htab *t, struct store_hnode *h)
{
	struct store_hnode **bucket;

	if (t->n >= t->n_buckets) {
		size_t n = t->n_buckets ? t->n_buckets * 2 : 64;
		struct store_hnode **grown = calloc(n, sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		for (size_t i = 0; i < t->n_buckets; i++) {
			while (t->buckets[i]) {
				struct store_hnode *o = t->buckets[i];

				t->buckets[i] = o->next;
				o->next = grown[o->hash & (n - 1)];
				grown[o->hash & (n - 1)] = o;
			}
		}
		free(t->buckets);
		t->buckets = grown;
		t->n_buckets = n;
	}
	bucket = &t->buckets[h->hash & (t->n_buckets - 1)];
	h->next = *bucket;
	*bucket = h;
	t->n++;
	return 0;
}

static void store_htab_free(struct store_htab *t)
{
	for (size_t i = 0; i < t->n_buckets; i++) {
		while (t->buckets[i]) {
			struct store_hnode *h = t->buckets[i];

			t->buckets[i] = h->next;
			free(h);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	t->n_buckets = 0;
	t->n = 0;
}

static void store_index_init(struct store_index *idx)
{
	idx->sets.name_off = offsetof(struct store_set, prefix);
	idx->entries.name_off = offsetof(struct store_entry, key);
}

static void store_index_free(struct store_index *idx)
{
	store_htab_free(&idx->sets);
	store_htab_free(&idx->entries);
}

/* The prefixes of `key` that are indexed: the length of each, shortest
 * first. Returns how many. */
static int store_index_prefixes(const char *key,
				size_t ret_len[STORE_INDEX_DEPTH])
{
	int depth = 0;

	for (const char *p = key; *p && depth < STORE_INDEX_DEPTH; p++) {
		size_t n = (size_t)(p - key) + 1;

		if (*p != '/')
			continue;
		if (n >= STORE_INDEX_PREFIX_MAX)
			break;
		ret_len[depth++] = n;
	}
	return depth;
}

/* Appends `e` to the set of its prefix of length `len` at `depth`, made
 * when it is the first. */
static int store_index_link(struct store_index *idx, struct store_entry *e,
			    int depth, size_t len)
{
	struct store_set *set =
		(struct store_set *)store_hget(&idx->sets, e->key, len);

	if (!set) {
		set = calloc(1, sizeof(*set) + len + 1);
		if (!set)
			return -ENOMEM;
		memcpy(set->prefix, e->key, len);
		set->node.hash = store_hash(e->key, len);
		if (store_hadd(&idx->sets, &set->node) < 0) {
			free(set);
			return -ENOMEM;
		}
	}
	e->in[depth].prev = set->last;
	if (set->last)
		set->last->in[depth].next = e;
	else
		set->first = e;
	set->last = e;
	return 0;
}

/* Takes `e` out of the set of its prefix of length `len` at `depth`, and
 * drops the set when that was its last key. */
static void store_index_unlink(struct store_index *idx, struct store_entry *e,
			       int depth, size_t len)
{
	size_t hash = store_hash(e->key, len);
	struct store_hnode **link = store_hfind(&idx->sets, e->key, len, hash);
	struct store_set *set;

	if (!link || !*link)
		return;
	set = (struct store_set *)*link;
	if (e->in[depth].prev)
		e->in[depth].prev->in[depth].next = e->in[depth].next;
	else
		set->first = e->in[depth].next;
	if (e->in[depth].next)
		e->in[depth].next->in[depth].prev = e->in[depth].prev;
	else
		set->last = e->in[depth].prev;
	if (!set->first) {
		*link = set->node.next;
		idx->sets.n--;
		free(set);
	}
}

/* Adds (value) or removes (NULL) `key` in every index set it belongs to. A
 * key already there keeps its place and takes the new value. */
static int store_index(struct store *s, const char *key, json_t *value)
{
	struct store_index *idx = &s->index;
	size_t len[STORE_INDEX_DEPTH], klen = strlen(key);
	size_t hash = store_hash(key, klen);
	struct store_hnode **link;
	struct store_entry *e;
	int n = store_index_prefixes(key, len), r;

	if (!n)
		return 0;
	link = store_hfind(&idx->entries, key, klen, hash);
	e = link ? (struct store_entry *)*link : NULL;
	if (!value) {
		if (!e)
			return 0;
		for (int i = 0; i < n; i++)
			store_index_unlink(idx, e, i, len[i]);
		*link = e->node.next;
		idx->entries.n--;
		free(e);
		s->n_objects -= key_is_desired(key);
		return 0;
	}
	if (e) {
		e->value = value;
		return 0;
	}
	e = calloc(1, sizeof(*e) + klen + 1);
	if (!e)
		return -ENOMEM;
	memcpy(e->key, key, klen);
	e->value = value;
	e->node.hash = hash;
	for (int i = 0; i < n; i++) {
		r = store_index_link(idx, e, i, len[i]);
		if (r < 0) {
			while (i-- > 0)
				store_index_unlink(idx, e, i, len[i]);
			free(e);
			return r;
		}
	}
	r = store_hadd(&idx->entries, &e->node);
	if (r < 0) {
		for (int i = 0; i < n; i++)
			store_index_unlink(idx, e, i, len[i]);
		free(e);
		return r;
	}
	s->n_objects += key_is_desired(key);
	return 0;
}

/* Applies one transaction's ops. The ops were checked when the record was
 * read or built, so this cannot fail but for memory. */
static int store_apply(struct store *s, json_t *ops)
{
	size_t i;
	json_t *op;

	json_array_foreach(ops, i, op)
	{
		json_t *set = json_object_get(op, "set");
		const char *key = json_string_value(
			set ? set : json_object_get(op, "del"));
		json_t *value = set ? json_object_get(op, "value") : NULL;

		if (value) {
			if (json_object_set(s->objects, key, value) < 0)
				return -ENOMEM;
		} else {
			json_object_del(s->objects, key);
		}
		if (store_index(s, key, value) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Records are read with NUL allowed in strings, but a key is used as a C
 * string: "a\u0000b" would land on "a". */
static bool store_key_valid(json_t *key)
{
	return json_is_string(key) &&
	       strlen(json_string_value(key)) == json_string_length(key);
}

static bool store_ops_valid(json_t *ops)
{
	size_t i;
	json_t *op;

	if (!json_is_array(ops))
		return false;
	json_array_foreach(ops, i, op)
	{
		json_t *set = json_object_get(op, "set");
		json_t *del = json_object_get(op, "del");

		if (set && store_key_valid(set) && json_object_get(op, "value"))
			continue;
		if (del && store_key_valid(del) && !set)
			continue;
		return false;
	}
	return true;
}

static int store_load_snapshot(struct store *s, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = NULL, *objects, *seq, *rev;
	const char *format;
	json_int_t version;
	char *buf = NULL;
	size_t len;
	int r;

	r = store_read_file(s->path, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		snprintf(err, errlen, "cannot read state file %s: %s", s->path,
			 strerror(-r));
		return r;
	}
	/* JSON_ALLOW_NUL: a string with "\u0000" that a commit wrote must
	 * read back, or the state would no longer open. */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
			  &jerr);
	if (!root) {
		snprintf(
			err, errlen,
			"state file %s is damaged (line %d: %s); it was left as it is",
			s->path, jerr.line, jerr.text);
		r = -EBADMSG;
		goto out;
	}
	format = json_string_value(json_object_get(root, "format"));
	/* Not cut to an int: version 4294967297 is not version 1. */
	version = json_integer_value(json_object_get(root, "version"));
	objects = json_object_get(root, "objects");
	seq = json_object_get(root, "seq");
	if (!format || strcmp(format, STORE_FORMAT) ||
	    !json_is_object(objects) || !json_is_integer(seq) ||
	    json_integer_value(seq) < 0) {
		snprintf(
			err, errlen,
			"state file %s is not a netnsd state snapshot; it was left as it is",
			s->path);
		r = -EBADMSG;
		goto out;
	}
	if (version != STORE_VERSION) {
		snprintf(
			err, errlen,
			"state file %s has format version %" JSON_INTEGER_FORMAT
			", this netnsd reads %d",
			s->path, version, STORE_VERSION);
		r = -EBADMSG;
		goto out;
	}
	json_decref(s->objects);
	s->objects = json_incref(objects);
	{
		const char *key;
		json_t *v;

		json_object_foreach(objects, key, v)
		{
			if (store_index(s, key, v) < 0) {
				snprintf(err, errlen, "out of memory");
				r = -ENOMEM;
				goto out;
			}
		}
	}
	s->seq = (uint64_t)json_integer_value(seq);
	/* Snapshots before the revision had it equal to seq. */
	rev = json_object_get(root, "revision");
	s->revision = json_is_integer(rev) && json_integer_value(rev) >= 0
			      ? (uint64_t)json_integer_value(rev)
			      : s->seq;
	s->snapshot_size = (off_t)len;
	r = 0;
out:
	json_decref(root);
	free(buf);
	return r;
}

/* Parses one journal line (without its newline): "crc32c-hex json". A
 * record holds "seq", "ops", and since sync points were recorded "synced"
 * (the last sequence on disk when it was written, below its own). */
static json_t *store_parse_record(const char *line, size_t len)
{
	char hex[9];
	char *end;
	unsigned long crc;
	json_t *rec, *seq, *synced;

	if (len < 10 || line[8] != ' ')
		return NULL;
	memcpy(hex, line, 8);
	hex[8] = '\0';
	crc = strtoul(hex, &end, 16);
	if (*end || crc != crc32c(line + 9, len - 9))
		return NULL;
	rec = json_loadb(line + 9, len - 9,
			 JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	seq = json_object_get(rec, "seq");
	synced = json_object_get(rec, "synced");
	/* A negative seq would pass, cast, for the one after INT64_MAX, and
	 * then be written back negative into a snapshot no open accepts. */
	if (!rec || !json_is_integer(seq) || json_integer_value(seq) < 0 ||
	    (synced &&
	     (!json_is_integer(synced) || json_integer_value(synced) < 0 ||
	      json_integer_value(synced) >= json_integer_value(seq))) ||
	    !store_ops_valid(json_object_get(rec, "ops"))) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/* The line that begins at `pos`: true when it is whole, a record's length
 * of bytes up to a newline (`*ret_end`) with no NUL in them, which no
 * record holds; false for a piece, which a NUL (zeros: the room, or a
 * hole) or the end of the file cuts at `*ret_end`. */
static bool store_journal_line(const char *buf, size_t len, size_t pos,
			       size_t *ret_end)
{
	const char *nl = memchr(buf + pos, '\n', len - pos);
	size_t end = nl ? (size_t)(nl - buf) : len;
	const char *nul = memchr(buf + pos, '\0', end - pos);

	*ret_end = nul ? (size_t)(nul - buf) : end;
	return nl && !nul;
}

/* Judges a record found past the damage: `lost` is the first sequence the
 * damage took, `prev`/`prev_end` the record found before this one and
 * where it ended. Fills `why` and returns false when the record shows that
 * the damage is no tear. */
static bool store_tail_record(json_t *rec, size_t pos, uint64_t lost,
			      uint64_t prev, size_t prev_end, char *why,
			      size_t whylen)
{
	uint64_t seq =
		(uint64_t)json_integer_value(json_object_get(rec, "seq"));
	json_t *synced = json_object_get(rec, "synced");

	if (!synced) {
		snprintf(
			why, whylen,
			"the record of sequence %llu at byte %zu, written by an older netnsd, cannot tell whether that one was on disk",
			(unsigned long long)seq, pos);
		return false;
	}
	if ((uint64_t)json_integer_value(synced) >= lost) {
		snprintf(
			why, whylen,
			"the record of sequence %llu at byte %zu says sequence %llu was on disk",
			(unsigned long long)seq, pos,
			(unsigned long long)json_integer_value(synced));
		return false;
	}
	if (seq <= prev || (pos == prev_end && seq != prev + 1)) {
		snprintf(
			why, whylen,
			"the record of sequence %llu at byte %zu comes %s sequence %llu",
			(unsigned long long)seq, pos,
			pos == prev_end ? "right after" : "after",
			(unsigned long long)prev);
		return false;
	}
	return true;
}

/* Judges buf[from..len), what follows the last whole record, `last`, by
 * the rule above store_load_journal. Returns 0 for zeros alone (free
 * room), 1 for a tear to cut, or fills `why` and returns -EBADMSG. */
static int store_journal_tail(const char *buf, size_t from, size_t len,
			      uint64_t last, char *why, size_t whylen)
{
	size_t pos = from, end, prev_end = from;
	uint64_t prev = last + 1; /* the first record lost: none before it */
	bool boundary = true;	  /* a record begins at pos */
	bool torn = false;
	json_t *rec;

	while (pos < len) {
		if (!buf[pos]) {
			pos++;
			boundary = false;
			continue;
		}
		torn = true;
		if (!store_journal_line(buf, len, pos, &end)) {
			/* A record's piece that a hole or the end cut. */
			pos = end;
			boundary = false;
			continue;
		}
		rec = store_parse_record(buf + pos, end - pos);
		if (!rec && boundary) {
			/* Every byte of it reached the disk: a bit flipped or
			 * garbage, not a tear. */
			snprintf(why, whylen,
				 "at byte %zu a whole record fails its check",
				 pos);
			return -EBADMSG;
		}
		/* Without a record, the end of one whose start a hole took. */
		if (rec && !store_tail_record(rec, pos, last + 1, prev,
					      prev_end, why, whylen)) {
			json_decref(rec);
			return -EBADMSG;
		}
		if (rec) {
			prev = (uint64_t)json_integer_value(
				json_object_get(rec, "seq"));
			prev_end = end + 1;
		}
		json_decref(rec);
		pos = end + 1;
		boundary = true;
	}
	return torn ? 1 : 0;
}

/* The journal's records follow the snapshot's sequence one by one from the
 * start of the file (records the snapshot holds already, a compaction whose
 * cut was lost, are skipped). Where they stop, the rest of the file must be
 * what a power loss can leave; then it is cut. Anything else stops
 * start-up, and nothing is written.
 *
 * What a power loss leaves: the records up to the last completed
 * fdatasync, whole; after them, the records written since, one after the
 * other in sequence order, of which each page reached the disk in full, in
 * part or not at all, in any order, over zeros (the room written ahead of
 * them) or past the file's end. So, after the last whole record:
 *  - zeros, and pieces of records that zeros or the end of the file cut;
 *  - no whole line (no NUL, up to a newline, where a record begins) that
 *    fails its check: all of it reached the disk as written, so it is a
 *    flipped bit or garbage, even as the last line;
 *  - records only past the first one lost, in order, each one more than
 *    the record right before it;
 *  - and no record that says the first one lost was on disk: each record
 *    carries "synced", the last sequence a completed fdatasync covered
 *    when it was written, so such a record proves the lost one was
 *    answered (a hole in record 18 of 100, a lost page in the middle).
 *    A record from before "synced" existed proves nothing either way: one
 *    past a hole stops start-up.
 * None of what is cut was answered: the sync that would cover it covers
 * the lost record first, and none did. The limit: damage to the last
 * batch, which no record after it vouches for, reads as a tear when it is
 * zeros or a cut (as a power loss leaves it), and is cut. */
static int store_load_journal(struct store *s, char *err, size_t errlen)
{
	char *buf = NULL, why[256];
	size_t len, pos = 0, end;
	uint64_t last = s->seq;
	int r, lineno = 0;

	r = store_read_file(s->journal_path, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		snprintf(err, errlen, "cannot read journal %s: %s",
			 s->journal_path, strerror(-r));
		return r;
	}
	while (pos < len && buf[pos] &&
	       store_journal_line(buf, len, pos, &end)) {
		json_t *rec = store_parse_record(buf + pos, end - pos);
		uint64_t seq;

		lineno++;
		if (!rec) {
			snprintf(
				err, errlen,
				"journal %s is damaged at byte %zu (record %d): a whole record fails its check; it was left as it is",
				s->journal_path, pos, lineno);
			r = -EBADMSG;
			goto out;
		}
		seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
		/* Records the snapshot holds already (a compaction whose
		 * journal cut was lost) are skipped. Every other record must
		 * follow the one before it, the first one the snapshot: a gap
		 * is lost transactions, not a torn tail. */
		if (seq > s->seq || last != s->seq) {
			if (seq != last + 1) {
				json_decref(rec);
				snprintf(
					err, errlen,
					"journal %s is damaged at byte %zu (record %d, sequence %llu after %llu); it was left as it is",
					s->journal_path, pos, lineno,
					(unsigned long long)seq,
					(unsigned long long)last);
				r = -EBADMSG;
				goto out;
			}
			store_apply(s, json_object_get(rec, "ops"));
			last = seq;
			/* Older records have no "rev": one change each. */
			if (json_is_integer(json_object_get(rec, "rev")) &&
			    json_integer_value(json_object_get(rec, "rev")) >=
				    0)
				s->revision = (uint64_t)json_integer_value(
					json_object_get(rec, "rev"));
			else
				s->revision++;
		}
		json_decref(rec);
		pos = end + 1;
	}
	r = store_journal_tail(buf, pos, len, last, why, sizeof(why));
	if (r < 0) {
		snprintf(
			err, errlen,
			"journal %s is damaged at byte %zu (record %d, sequence %llu, %s), and %s; it was left as it is",
			s->journal_path, pos, lineno + 1,
			(unsigned long long)last + 1,
			buf[pos] ? "cut short" : "zeros", why);
		goto out;
	}
	s->seq = last;
	s->journal_size = (off_t)pos;
	s->journal_alloc = (off_t)len;
	/* r: 1 tells the caller to cut the torn tail. */
out:
	free(buf);
	return r;
}

int store_open(const char *path, struct store **ret, char *err, size_t errlen)
{
	struct store *s;
	int r, torn;

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

	r = store_mkdir_parents(path);
	if (r < 0) {
		snprintf(err, errlen, "cannot create the directory of %s: %s",
			 path, strerror(-r));
		goto fail;
	}
	s->journal_fd =
		open(s->journal_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->journal_fd < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot open journal %s: %s",
			 s->journal_path, strerror(-r));
		goto fail;
	}
	if (flock(s->journal_fd, LOCK_EX | LOCK_NB) < 0) {
		r = -errno;
		snprintf(
			err, errlen,
			"state %s is in use by another process (is another netnsd running?)",
			path);
		goto fail;
	}
	r = store_load_snapshot(s, err, errlen);
	if (r < 0)
		goto fail;
	torn = store_load_journal(s, err, errlen);
	if (torn < 0) {
		r = torn;
		goto fail;
	}
	if (torn && ftruncate(s->journal_fd, s->journal_size) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot cut the torn tail of %s: %s",
			 s->journal_path, strerror(-r));
		goto fail;
	}
	/* What was read counts as on disk from here on, and the records
	 * written next say so ("synced"): after a kill, the page cache can
	 * hold records that no sync covered. */
	if (fdatasync(s->journal_fd) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot sync journal %s: %s",
			 s->journal_path, strerror(-r));
		goto fail;
	}
	if (torn)
		s->journal_alloc = s->journal_size;
	s->journal_loaded = true;
	r = store_fsync_dir(s->journal_path);
	if (r < 0) {
		snprintf(err, errlen, "cannot sync the directory of %s: %s",
			 path, strerror(-r));
		goto fail;
	}
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
	if (s->has_syncer) {
		pthread_mutex_lock(&s->sync_mu);
		s->stopping = true;
		pthread_cond_signal(&s->wanted);
		pthread_mutex_unlock(&s->sync_mu);
		pthread_join(s->syncer, NULL);
	}
	/* Stopped, the journal holds its records alone, as readers expect;
	 * the zeros are written again by the next extension. A failure
	 * leaves them, which the next open reads as free room (or, after a
	 * failed append, as a torn tail). A journal that was not read and
	 * accepted is left exactly as it is. */
	if (s->journal_loaded &&
	    (s->journal_alloc > s->journal_size || s->tail_dirty) &&
	    ftruncate(s->journal_fd, s->journal_size) == 0)
		fdatasync(s->journal_fd);
	if (s->journal_fd >= 0)
		close(s->journal_fd);
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

static int store_prefix_depth(const char *prefix)
{
	int n = 0;

	for (; *prefix; prefix++)
		n += *prefix == '/';
	return n;
}

/* Whether the index holds a set for exactly the keys under `prefix`. */
static bool store_prefix_indexed(const char *prefix, size_t plen)
{
	return plen && plen < STORE_INDEX_PREFIX_MAX &&
	       prefix[plen - 1] == '/' &&
	       store_prefix_depth(prefix) <= STORE_INDEX_DEPTH;
}

/* The set of keys under an indexed `prefix`, NULL when none, and the
 * depth whose links chain it. */
static struct store_set *store_index_set(struct store *s, const char *prefix,
					 size_t plen, int *ret_depth)
{
	*ret_depth = store_prefix_depth(prefix) - 1;
	return (struct store_set *)store_hget(&s->index.sets, prefix, plen);
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
		json_object_foreach(s->objects, key,
				    v) if (!strncmp(key, prefix, plen))
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
		json_object_foreach(s->objects, key, v)
		{
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

	pthread_mutex_lock(&s->mu);
	n = s->n_objects;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void store_set_max_objects(struct store *s, size_t max)
{
	pthread_mutex_lock(&s->mu);
	s->max_objects = max;
	pthread_mutex_unlock(&s->mu);
}

size_t store_max_objects(struct store *s)
{
	size_t n;

	pthread_mutex_lock(&s->mu);
	n = s->max_objects;
	pthread_mutex_unlock(&s->mu);
	return n;
}

uint64_t store_revision(struct store *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->mu);
	n = s->revision;
	pthread_mutex_unlock(&s->mu);
	return n;
}

uint64_t store_seq(struct store *s)
{
	uint64_t n;

	pthread_mutex_lock(&s->mu);
	n = s->seq;
	pthread_mutex_unlock(&s->mu);
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
		json_array_foreach(ops, i, op)
		{
			if (json_object_set_new(last, store_op_key(op),
						json_integer((json_int_t)i)) <
			    0)
				goto out;
		}
	}
	json_array_foreach(ops, i, op)
	{
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
	json_array_foreach(ops, i, op)
	{
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
	json_array_foreach(ops, i, op)
	{
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

static int store_compact_locked(struct store *s)
{
	char *tmp = NULL, *text = NULL;
	json_t *root;
	int fd = -1, r;
	size_t len;

	root = json_pack("{s:s, s:i, s:I, s:O}", "format", STORE_FORMAT,
			 "version", STORE_VERSION, "seq", (json_int_t)s->seq,
			 "objects", s->objects);
	if (root)
		json_object_set_new(root, "revision",
				    json_integer((json_int_t)s->revision));
	if (!root)
		return -ENOMEM;
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if (!text || asprintf(&tmp, "%s.tmp", s->path) < 0) {
		r = -ENOMEM;
		tmp = NULL;
		goto out;
	}
	len = strlen(text);
	text[len++] = '\n'; /* replaces the NUL; len counts it */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = store_write_all(fd, text, len, 0);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		goto out_unlink;
	close(fd);
	fd = -1;
	if (rename(tmp, s->path) < 0) {
		r = -errno;
		goto out_unlink;
	}
	r = store_fsync_dir(s->path);
	if (r < 0)
		goto out;
	/* The snapshot now holds every record, which carry seq numbers it
	 * covers: emptying the journal may fail or tear without harm. */
	s->snapshot_size = (off_t)len;
	if (ftruncate(s->journal_fd, 0) < 0) {
		r = -errno;
		goto out;
	}
	/* Empty now, whether or not the sync below succeeds: the next record
	 * goes at the start, and the next sync makes the cut durable too. */
	s->journal_size = 0;
	s->journal_alloc = 0;
	s->tail_dirty = false;
	if (fdatasync(s->journal_fd) < 0) {
		/* As in store_sync_locked: the cut may not be on disk, and
		 * records written at the start from here on could then sit
		 * before old ones a restart would refuse. Stop, and let the
		 * restart read what is really there (the snapshot holds it
		 * all). */
		fprintf(stderr,
			"netnsd: fatal: cannot sync the emptied journal: %s\n",
			strerror(errno));
		abort();
	}
	r = 0;
	goto out;
out_unlink:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(text);
	return r;
}

int store_compact(struct store *s)
{
	int r;

	pthread_mutex_lock(&s->mu);
	r = store_compact_locked(s);
	pthread_mutex_unlock(&s->mu);
	return r;
}

static void store_synced(struct store *s, uint64_t upto);

/* Writes zeros from the end of the journal's file to the step at or after
 * `need`. An append then overwrites blocks the file already has, and its
 * fdatasync writes the record alone, not the inode's new size and blocks
 * as well (on ext4 that is about a third less time and CPU per sync); the
 * inode is written once a step. Zeros are free room to the reader. On
 * failure (a full disk) the file is cut back and the record is appended
 * as it would be without them. */
static void store_journal_extend(struct store *s, off_t need)
{
	static const char zeros[STORE_JOURNAL_STEP];
	off_t to = (need + STORE_JOURNAL_STEP - 1) / STORE_JOURNAL_STEP *
		   STORE_JOURNAL_STEP;
	off_t at = s->journal_alloc;

	while (at < to) {
		size_t n = (size_t)(to - at) < sizeof(zeros) ? (size_t)(to - at)
							     : sizeof(zeros);

		if (store_write_all(s->journal_fd, zeros, n, at) < 0) {
			/* Zeros left past the end would be free room; the
			 * next append or the close cuts them all the same. */
			if (ftruncate(s->journal_fd, s->journal_alloc) < 0)
				s->tail_dirty = true;
			return;
		}
		at += (off_t)n;
	}
	s->journal_alloc = to;
}

int store_commit(struct store *s, struct store_txn *t)
{
	json_t *rec, *ops = NULL, *same = NULL;
	char *json = NULL, *line = NULL;
	bool state;
	uint64_t rev;
	size_t len;
	int r, step;

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
	/* An undo steps back only while the revision is still the one its
	 * change made: after another change in between, a step back would
	 * give a number already shown to a different state. What changes
	 * only markers steps nothing. */
	step = state ? t->rev_step : 0;
	if (step < 0 && (t->undoes_rev != s->revision || s->revision == 0))
		step = 1;
	rev = s->revision + (uint64_t)(int64_t)step;
	/* "synced": what a completed sync covers, so that a reader who
	 * finds this record past damage knows whether the damaged records
	 * were answered (see store_load_journal). Read without `sync_mu`: an
	 * older value only vouches for less. */
	rec = json_pack(
		"{s:I, s:I, s:I, s:O}", "seq", (json_int_t)(s->seq + 1), "rev",
		(json_int_t)rev, "synced",
		(json_int_t)__atomic_load_n(&s->synced_seq, __ATOMIC_ACQUIRE),
		"ops", ops);
	json = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	json_decref(rec);
	if (!json) {
		r = -ENOMEM;
		goto out;
	}
	len = strlen(json);
	line = malloc(len + 11);
	if (!line) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(line, 10, "%08x", crc32c(json, len));
	line[8] = ' ';
	memcpy(line + 9, json, len);
	line[9 + len] = '\n';
	len += 10;

	if (s->tail_dirty) {
		if (ftruncate(s->journal_fd, s->journal_size) < 0) {
			r = -errno;
			goto out;
		}
		s->tail_dirty = false;
		s->journal_alloc = s->journal_size;
	}
	if (s->journal_size + (off_t)len > s->journal_alloc)
		store_journal_extend(s, s->journal_size + (off_t)len);
	r = store_write_all(s->journal_fd, line, len, s->journal_size);
	if (r < 0) {
		/* Nothing of this record may survive: a later record would
		 * otherwise follow garbage. A failed cut is retried before the
		 * next append. */
		if (ftruncate(s->journal_fd, s->journal_size) < 0)
			s->tail_dirty = true;
		else
			s->journal_alloc = s->journal_size;
		goto out;
	}
	s->journal_size += (off_t)len;
	if (s->journal_alloc < s->journal_size)
		s->journal_alloc = s->journal_size;
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

	if (s->journal_size > (off_t)STORE_COMPACT_MIN &&
	    s->journal_size > STORE_COMPACT_RATIO * s->snapshot_size &&
	    store_compact_locked(s) == 0) /* failure keeps the journal valid */
		store_synced(s, s->seq);  /* the snapshot is durable */
out:
	pthread_mutex_unlock(&s->mu);
	json_decref(ops);
	json_decref(same);
	free(json);
	free(line);
	return r;
}

/* Called with s->sync_mu held: `upto` and everything before it is on disk. */
static void store_synced_locked(struct store *s, uint64_t upto)
{
	if (upto > s->synced_seq)
		__atomic_store_n(&s->synced_seq, upto, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&s->synced);
}

static void store_synced(struct store *s, uint64_t upto)
{
	pthread_mutex_lock(&s->sync_mu);
	store_synced_locked(s, upto);
	pthread_mutex_unlock(&s->sync_mu);
}

/* Called with s->sync_mu held, which it drops while it syncs. */
static void store_sync_locked(struct store *s, uint64_t target)
{
	uint64_t upto;
	int r;

	while (s->synced_seq < target) {
		if (s->syncing) {
			pthread_cond_wait(&s->synced, &s->sync_mu);
			continue;
		}
		/* Lead: one fdatasync covers every record written so far,
		 * while others keep appending behind it. */
		s->syncing = true;
		upto = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
		pthread_mutex_unlock(&s->sync_mu);
		r = fdatasync(s->journal_fd);
		if (r < 0) {
			/* After a failed sync the page cache cannot be trusted
			 * to match the disk: stop, and let the restart read
			 * what is really there. */
			fprintf(stderr,
				"netnsd: fatal: cannot sync the journal: %s\n",
				strerror(errno));
			abort();
		}
		pthread_mutex_lock(&s->sync_mu);
		s->syncing = false;
		store_synced_locked(s, upto);
	}
}

static void *store_syncer(void *arg)
{
	struct store *s = arg;

	pthread_mutex_lock(&s->sync_mu);
	while (!s->stopping) {
		if (!s->sync_wanted) {
			s->syncer_asleep = true;
			pthread_cond_wait(&s->wanted, &s->sync_mu);
			s->syncer_asleep = false;
			continue;
		}
		s->sync_wanted = false;
		store_sync_locked(s,
				  __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE));
	}
	pthread_mutex_unlock(&s->sync_mu);
	return NULL;
}

/* With `elsewhere`, keeps the idle syncer off the CPU of the thread about
 * to wake it, when there is another; without, lets it use every CPU again.
 * That thread goes on into long kernel work (unshare); a syncer woken onto
 * the same CPU waits for that work to end (the kernel does not preempt
 * it), and the sync meant to run beside it runs after it instead. A
 * scheduler that knows which CPUs share a cache would move the syncer to
 * an idle one; VMs often do not tell it (a namespace's creation: 810 ->
 * 601 µs here). Not for short work: a veth's creation ends before its sync,
 * and the sync on the other CPU then costs two more cross-CPU wake-ups
 * (430 -> 550 µs of CPU a pair here). A hint only: on any failure the
 * syncer keeps the CPUs it had. Called with s->sync_mu held, while the
 * syncer sleeps in its wait for work: moving a thread that runs costs a
 * migration. */
static void store_syncer_place(struct store *s, bool elsewhere)
{
	cpu_set_t set = s->syncer_cpus;
	int cpu = elsewhere ? sched_getcpu() : -1;

	if (cpu == s->syncer_away_from || CPU_COUNT(&s->syncer_cpus) < 2)
		return;
	if (cpu >= 0) {
		if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &set))
			return;
		CPU_CLR(cpu, &set);
	}
	if (pthread_setaffinity_np(s->syncer, sizeof(set), &set) == 0)
		s->syncer_away_from = cpu;
	else
		CPU_ZERO(&s->syncer_cpus); /* no more tries */
}

void store_sync_begin(struct store *s, bool elsewhere)
{
	uint64_t point = store_sync_point(s);

	pthread_mutex_lock(&s->sync_mu);
	/* Started on first use, so that it is born with the privileges of
	 * the threads that serve requests (after --user dropped them), and
	 * with their CPUs. */
	if (!s->has_syncer) {
		s->has_syncer =
			pthread_create(&s->syncer, NULL, store_syncer, s) == 0;
		s->syncer_away_from = -1;
		if (sched_getaffinity(0, sizeof(s->syncer_cpus),
				      &s->syncer_cpus) < 0)
			CPU_ZERO(&s->syncer_cpus);
	}
	if (s->synced_seq < point && s->has_syncer) {
		if (s->syncer_asleep)
			store_syncer_place(s, elsewhere);
		s->sync_wanted = true;
		pthread_cond_signal(&s->wanted);
	}
	pthread_mutex_unlock(&s->sync_mu);
}

void store_sync(struct store *s)
{
	store_sync_until(s, store_sync_point(s));
}

uint64_t store_sync_point(struct store *s)
{
	uint64_t point;

	pthread_mutex_lock(&s->mu);
	point = s->needed_seq;
	pthread_mutex_unlock(&s->mu);
	return point;
}

void store_sync_until(struct store *s, uint64_t point)
{
	/* Often covered already, by a sync that ran during the request. */
	if (__atomic_load_n(&s->synced_seq, __ATOMIC_ACQUIRE) >= point)
		return;
	pthread_mutex_lock(&s->sync_mu);
	store_sync_locked(s, point);
	pthread_mutex_unlock(&s->sync_mu);
}
