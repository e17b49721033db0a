/* The per-namespace sysctls netnsd reads and sets (openapi/openapi.yaml,
 * "Sysctls"; README.md "Sysctls"): an allow-list of `net.*` keys that
 * live in each network namespace, and the values each accepts. A key is
 * checked here, component by component, before any part of it reaches a
 * path under /proc/sys: a link name is a link name (api/name.h), never
 * '/', '.' or '..'. This file knows no kernel; netlink/sysctl.c reads and
 * writes the files. */
#ifndef NETNSD_SYSCTL_KEY_H
#define NETNSD_SYSCTL_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "../api/name.h"
#include "../api/problem.h"

/* "net.ipv6.conf." + a link name + "." + the longest attribute. */
#define SYSCTL_KEY_MAX 48
/* "/proc/sys/" + the key with '/' for '.' outside the link name. */
#define SYSCTL_PATH_MAX 64
/* The longest value text accepted or read back ("1", "8", ...). */
#define SYSCTL_VALUE_MAX 16

/* Where a key applies. */
enum sysctl_scope {
	SYSCTL_SCOPE_NS,      /* net.ipv4.ip_forward: the namespace */
	SYSCTL_SCOPE_ALL,     /* conf.all: every link */
	SYSCTL_SCOPE_DEFAULT, /* conf.default: links made from now on */
	SYSCTL_SCOPE_LINK,    /* conf.<link>: one link */
};

struct sysctl_key {
	char key[SYSCTL_KEY_MAX];   /* the dotted name, as the API shows it */
	char path[SYSCTL_PATH_MAX]; /* "/proc/sys/net/ipv4/conf/eth0/..." */
	enum sysctl_scope scope;
	char link[NAME_LINK_MAX + 1]; /* SYSCTL_SCOPE_LINK: the link */
	unsigned allowed; /* bit v: the value v is accepted (0..31) */
};

/* Reads a dotted key into `ret`. 0 when it is on the allow-list;
 * -ENOENT when it is well formed but not on it (the API answers 404);
 * -EINVAL when it is malformed (400), with the reason in *why. */
int sysctl_key_parse(const char *key, struct sysctl_key *ret, const char **why);

/* Checks a value for `k`: a decimal number the key accepts, written as
 * the kernel writes it ("1", not "01", "+1" or " 1"). NULL when it is
 * acceptable, else why not (a static string). */
const char *sysctl_value_check(const struct sysctl_key *k, const char *value);

/* Says in `prob`, on `field`, that `value` is refused for `k` (`why`, from
 * sysctl_value_check) and which values it takes. Returns -400. */
int sysctl_value_refuse(struct problem *prob, const char *field,
			const struct sysctl_key *k, const char *value,
			const char *why);

/* Whether `k` names a link's own key (conf.<link>): those are applied once
 * the links exist, the others before (state/sysctl_apply.h). */
static inline bool sysctl_key_is_link(const struct sysctl_key *k)
{
	return k->scope == SYSCTL_SCOPE_LINK;
}

/* Every key of the allow-list for `dev` ("all", "default", a link name, or
 * NULL for the namespace-wide keys): calls fn with each dotted key. A
 * family given (4 or 6) limits it to that family's conf keys. */
void sysctl_key_each(const char *dev, int family,
		     void (*fn)(const char *key, void *userdata),
		     void *userdata);

#endif
