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
	json_object_foreach(o, k, v) {
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
		bad = sysctl_value_refuse(prob, at, &sk, value, why);
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
