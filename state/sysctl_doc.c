#include "sysctl_doc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../api/name.h"
#include "key.h"
#include "record.h"
#include "sysctl_key.h"

static bool sysctl_doc_member(const char *k)
{
	return !strcmp(k, "namespace") || !strcmp(k, "key") ||
	       !strcmp(k, "value") || !strcmp(k, "original");
}

int sysctl_doc_read(json_t *o, size_t i, struct doc_sysctl *ret,
		    struct problem *prob)
{
	const char *ns, *key, *value, *why, *k;
	struct sysctl_key sk;
	char at[64];
	json_t *v;
	bool key_ok = false;
	int bad = 0;

	snprintf(at, sizeof(at), "/sysctls/%zu", i);
	if (!json_is_object(o)) {
		problem_field(prob, at, "must be an object");
		return 0;
	}
	json_object_foreach(o, k, v)
	{
		if (!sysctl_doc_member(k))
			bad = problem_field(prob, at, "unknown member %.40s",
					    k);
	}
	ns = json_string_value(json_object_get(o, "namespace"));
	why = ns ? name_check_namespace(ns) : "is required, as a string";
	if (why)
		bad = problem_field(prob, at, "namespace %s", why);
	key = json_string_value(json_object_get(o, "key"));
	if (!key)
		bad = problem_field(prob, at, "key is required, as a string");
	else if (sysctl_key_parse(key, &sk, &why) == -ENOENT)
		bad = problem_field(prob, at,
				    "key is not a sysctl netnsd manages");
	else if (why)
		bad = problem_field(prob, at, "key %s", why);
	else
		key_ok = true;
	value = json_string_value(json_object_get(o, "value"));
	if (key_ok && (why = sysctl_value_check(&sk, value)))
		bad = problem_field(prob, at, "value %s", why);
	if (bad)
		return 0;
	*ret = (struct doc_sysctl){ ns, key, value, i };
	return 1;
}

void sysctl_doc_check_unique(const struct doc_sysctl *s, size_t n,
			     struct problem *prob)
{
	char at[64];

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			if (strcmp(s[i].ns, s[j].ns) ||
			    strcmp(s[i].key, s[j].key))
				continue;
			snprintf(at, sizeof(at), "/sysctls/%zu", s[i].index);
			problem_field(prob, at, "sysctl %s of %s twice",
				      s[i].key, s[i].ns);
			break;
		}
}

static const struct doc_sysctl *sysctl_doc_find(const struct doc_sysctl *s,
						size_t n, const char *ns,
						const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s[i].ns, ns) && !strcmp(s[i].key, key))
			return &s[i];
	return NULL;
}

/* The document's entries: desired already, with the same value, in a
 * namespace that stays. */
static void sysctl_doc_listed(json_t *held, const struct doc_sysctl *s,
			      size_t n,
			      int (*ns_goes)(const char *ns, void *userdata),
			      void *userdata, struct problem *prob)
{
	struct record_sysctl rec;
	char key[KEY_MAX], at[64];

	for (size_t i = 0; i < n; i++) {
		json_t *v;

		snprintf(at, sizeof(at), "/sysctls/%zu", s[i].index);
		if (ns_goes(s[i].ns, userdata)) {
			problem_field(prob, at, "namespace %s is not declared",
				      s[i].ns);
			continue;
		}
		key_sysctl(key, s[i].ns, s[i].key);
		v = json_object_get(held, key);
		if (v && record_sysctl_parse(v, &rec, NULL, 0) == 0 &&
		    !strcmp(rec.value, s[i].value))
			continue;
		problem_field(
			prob, at,
			"PUT /v1/state does not set sysctls yet: PUT /v1/namespaces/%s/sysctls/%s sets it",
			s[i].ns, s[i].key);
	}
}

int sysctl_doc_plan(json_t *held, const struct doc_sysctl *s, size_t n,
		    int (*ns_goes)(const char *ns, void *userdata),
		    void *userdata, struct store_txn *t, struct problem *prob)
{
	char ns[NAME_NS_MAX + 1];
	const char *key, *rest, *slash;
	json_t *v;

	sysctl_doc_listed(held, s, n, ns_goes, userdata, prob);
	json_object_foreach(held, key, v)
	{
		if (strncmp(key, "sysctl/", 7))
			continue;
		rest = key + 7;
		slash = strchr(rest, '/');
		if (!slash || (size_t)(slash - rest) > NAME_NS_MAX)
			continue;
		memcpy(ns, rest, (size_t)(slash - rest));
		ns[slash - rest] = '\0';
		if (sysctl_doc_find(s, n, ns, slash + 1))
			continue;
		if (ns_goes(ns, userdata)) {
			store_txn_del(t, key); /* it goes with its namespace */
			continue;
		}
		problem_field(
			prob, "/sysctls",
			"sysctl %s of %s is desired and left out: PUT /v1/state does not forget sysctls yet; DELETE /v1/namespaces/%s/sysctls/%s does",
			slash + 1, ns, ns, slash + 1);
	}
	return prob->status ? -prob->status : 0;
}
