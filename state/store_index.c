/* The store's objects in memory and their prefix index: a hash table of
 * keys and, for every prefix that ends at one of the first '/' of keys,
 * the keys under it, so that store_list() of a namespace's or a link's
 * records visits those alone. */
#include "store_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "key.h"

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

void store_index_init(struct store_index *idx)
{
	idx->sets.name_off = offsetof(struct store_set, prefix);
	idx->entries.name_off = offsetof(struct store_entry, key);
}

void store_index_free(struct store_index *idx)
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
int store_index(struct store *s, const char *key, json_t *value)
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

int store_index_all(struct store *s, json_t *objects)
{
	const char *key;
	json_t *v;

	json_object_foreach(objects, key, v) {
		if (store_index(s, key, v) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Applies one transaction's ops. The ops were checked when the record was
 * read or built, so this cannot fail but for memory. */
int store_apply(struct store *s, json_t *ops)
{
	size_t i;
	json_t *op;

	json_array_foreach(ops, i, op) {
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

static int store_prefix_depth(const char *prefix)
{
	int n = 0;

	for (; *prefix; prefix++)
		n += *prefix == '/';
	return n;
}

/* Whether the index holds a set for exactly the keys under `prefix`. */
bool store_prefix_indexed(const char *prefix, size_t plen)
{
	return plen && plen < STORE_INDEX_PREFIX_MAX &&
	       prefix[plen - 1] == '/' &&
	       store_prefix_depth(prefix) <= STORE_INDEX_DEPTH;
}

/* The set of keys under an indexed `prefix`, NULL when none, and the
 * depth whose links chain it. */
struct store_set *store_index_set(struct store *s, const char *prefix,
				  size_t plen, int *ret_depth)
{
	*ret_depth = store_prefix_depth(prefix) - 1;
	return (struct store_set *)store_hget(&s->index.sets, prefix, plen);
}
