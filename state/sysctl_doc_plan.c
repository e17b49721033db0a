/* PUT /v1/state's sysctls (state/sysctl_doc.h): the planning half, which
 * reads the kernel; the reading of the document is in sysctl_doc.c. */
#include "sysctl_doc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../api/name.h"
#include "../netlink/ns.h"
#include "../netlink/sysctl.h"
#include "doc.h"
#include "key.h"
#include "plan.h"
#include "record.h"
#include "sysctl_key.h"

static const struct doc_sysctl *sysctl_doc_find(const struct doc *d,
						const char *ns, const char *key)
{
	for (size_t i = 0; i < d->n_sysctls; i++)
		if (!strcmp(d->sysctls[i].ns, ns) &&
		    !strcmp(d->sysctls[i].key, key))
			return &d->sysctls[i];
	return NULL;
}

struct sysctl_doc_ctx {
	json_t *held;
	const struct doc *d;
	struct plan *p;
	struct store_txn *t;
	struct problem *prob;
};

/* Whether the document removes namespace `ns` (held, not declared). */
static bool sysctl_doc_ns_goes(struct sysctl_doc_ctx *c, const char *ns)
{
	char key[KEY_MAX];

	key_ns(key, ns);
	return json_object_get(c->held, key) && !doc_has_ns(c->d, ns);
}

/* The kernel's value of `k` in `ns`, into `have`: NULL when the namespace
 * or the file is not there (yet). */
static const char *sysctl_doc_have(const char *ns, const struct sysctl_key *k,
				   char have[SYSCTL_VALUE_MAX])
{
	if (nl_ns_probe(ns) <= 0 ||
	    nl_sysctl_read(ns, k->path, have, SYSCTL_VALUE_MAX) < 0)
		return NULL;
	return have;
}

/* One listed entry: desired as listed, and set in the kernel when it
 * differs. Only in a namespace the document declares: "host" and the
 * namespaces netnsd does not manage need ?force=true, which only the
 * item's PUT takes. */
static int sysctl_doc_entry(struct sysctl_doc_ctx *c,
			    const struct doc_sysctl *e,
			    const struct sysctl_key *k)
{
	char key[KEY_MAX], at[160], have_buf[SYSCTL_VALUE_MAX];
	struct record_sysctl rec = { 0 }, want;
	const char *have;
	json_t *v;
	bool same;

	snprintf(at, sizeof(at), "/sysctls/%zu", e->index);
	if (sysctl_doc_ns_goes(c, e->ns))
		return problem_ns_undeclared(c->prob, at, e->ns);
	key_sysctl(key, e->ns, e->key);
	v = json_object_get(c->held, key);
	same = v && record_sysctl_parse(v, &rec, NULL, 0) == 0 &&
	       !strcmp(rec.value, e->value);
	have = sysctl_doc_have(e->ns, k, have_buf);
	if (same && have && !strcmp(have, e->value))
		return 0;
	if (name_is_host(e->ns) || !doc_has_ns(c->d, e->ns))
		return problem_field(
			c->prob, at,
			"namespace %s is not netnsd's: PUT /v1/namespaces/%s/sysctls/%s?force=true sets it",
			e->ns, e->ns, e->key);
	if (!same) {
		want.value = e->value;
		want.original = v ? rec.original : have;
		store_txn_set(c->t, key, record_sysctl_format(&want));
		if (!v)
			store_txn_creates(c->t);
	}
	snprintf(at, sizeof(at), "/v1/namespaces/%.64s/sysctls/%.48s", e->ns,
		 e->key);
	if (have && !strcmp(have, e->value))
		return plan_record(c->p, v ? PLAN_UPDATE : PLAN_CREATE, e->ns,
				   at, "desired from now on");
	return plan_sysctl(c->p, v ? PLAN_UPDATE : PLAN_CREATE, e->ns, k,
			   e->value, have);
}

/* A held key the document leaves out: forgotten, its original value put
 * back as DELETE does, unless its namespace goes. */
static int sysctl_doc_gone(struct sysctl_doc_ctx *c, const char *ns,
			   const char *key, json_t *v)
{
	char have_buf[SYSCTL_VALUE_MAX], path[192];
	struct record_sysctl rec = { 0 };
	struct sysctl_key k;
	const char *have, *why;

	key_sysctl(path, ns, key);
	store_txn_del(c->t, path);
	if (sysctl_doc_ns_goes(c, ns) || sysctl_key_parse(key, &k, &why) < 0)
		return 0;
	record_sysctl_parse(v, &rec, NULL, 0);
	have = sysctl_doc_have(ns, &k, have_buf);
	if (have && rec.original && !sysctl_value_check(&k, rec.original) &&
	    strcmp(have, rec.original))
		return plan_sysctl(c->p, PLAN_DELETE, ns, &k, rec.original,
				   have);
	snprintf(path, sizeof(path), "/v1/namespaces/%s/sysctls/%s", ns, key);
	return plan_record(c->p, PLAN_DELETE, ns, path, "forgotten");
}

/* The held keys the document leaves out. */
static int sysctl_doc_forget(struct sysctl_doc_ctx *c)
{
	char ns[NAME_NS_MAX + 1];
	const char *key, *rest, *slash;
	json_t *v;
	int r = 0;

	json_object_foreach(c->held, key, v) {
		if (r == -ENOMEM || strncmp(key, "sysctl/", 7))
			continue;
		rest = key + 7;
		slash = strchr(rest, '/');
		if (!slash || (size_t)(slash - rest) > NAME_NS_MAX)
			continue;
		memcpy(ns, rest, (size_t)(slash - rest));
		ns[slash - rest] = '\0';
		if (!sysctl_doc_find(c->d, ns, slash + 1))
			r = sysctl_doc_gone(c, ns, slash + 1, v);
	}
	return r;
}

int sysctl_doc_plan(json_t *held, const struct doc *d, bool link_keys,
		    struct plan *p, struct store_txn *t, struct problem *prob)
{
	struct sysctl_doc_ctx c = { held, d, p, t, prob };
	struct sysctl_key k;
	const char *why;
	int r = 0;

	/* Every problem at once: only running out of memory stops. */
	for (size_t i = 0; r != -ENOMEM && i < d->n_sysctls; i++) {
		if (sysctl_key_parse(d->sysctls[i].key, &k, &why) < 0 ||
		    sysctl_key_is_link(&k) != link_keys)
			continue;
		r = sysctl_doc_entry(&c, &d->sysctls[i], &k);
	}
	if (r != -ENOMEM && !link_keys)
		r = sysctl_doc_forget(&c);
	if (r == -ENOMEM)
		return problem_errno(prob, r, "planning", NULL);
	return prob->status ? -prob->status : 0;
}
