#include "sysctl_key.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* One attribute of a family's conf directory, and the values it takes
 * (bit v set: v is accepted). The ranges are the kernel's documented
 * meanings (ip-sysctl): a value outside them is refused here rather than
 * stored as desired and re-applied at every start. */
struct sysctl_attr {
	const char *name;
	unsigned allowed;
};

#define SYSCTL_RANGE(lo, hi) (((2u << (hi)) - 1) & ~((1u << (lo)) - 1))

static const struct sysctl_attr sysctl_v4[] = {
	{ "forwarding", SYSCTL_RANGE(0, 1) },
	{ "rp_filter", SYSCTL_RANGE(0, 2) },
	{ "proxy_arp", SYSCTL_RANGE(0, 1) },
	{ "arp_ignore", SYSCTL_RANGE(0, 3) | 1u << 8 },
	{ "arp_announce", SYSCTL_RANGE(0, 2) },
	{ NULL, 0 },
};

static const struct sysctl_attr sysctl_v6[] = {
	{ "forwarding", SYSCTL_RANGE(0, 1) },
	{ "accept_ra", SYSCTL_RANGE(0, 2) },
	{ "disable_ipv6", SYSCTL_RANGE(0, 1) },
	{ NULL, 0 },
};

#define SYSCTL_IP_FORWARD "net.ipv4.ip_forward"

static const struct sysctl_attr *sysctl_attr_find(const struct sysctl_attr *t,
						  const char *name)
{
	for (; t->name; t++)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

/* The characters of a dotted key: what the allow-list's names and link
 * names (api/name.h) are made of. Anything else is malformed, whatever
 * it is meant to be. */
static const char *sysctl_key_chars(const char *key)
{
	size_t len = strlen(key);

	if (!len)
		return "must not be empty";
	if (len >= SYSCTL_KEY_MAX)
		return "is too long to be a sysctl netnsd manages";
	for (const char *c = key; *c; c++) {
		unsigned char u = (unsigned char)*c;

		if (u == '/' || u == '\\')
			return "is dotted (net.ipv4.ip_forward) and must not contain '/'";
		if (u <= ' ' || u >= 0x7f)
			return "must be printable ASCII without whitespace";
	}
	if (strstr(key, ".."))
		return "must not contain an empty component ('..')";
	return NULL;
}

/* "net.ipv4.conf.<dev>.<attr>" read into k, the family's prefix already
 * matched (`rest` is "<dev>.<attr>"). */
static int sysctl_key_conf(const char *rest, int family, struct sysctl_key *k,
			   const char **why)
{
	const struct sysctl_attr *a;
	const char *dot = strrchr(rest, '.'), *bad;
	char dev[NAME_LINK_MAX + 1];
	size_t n;

	if (!dot || dot == rest) {
		*why = "names no link (conf.all, conf.default or conf.<link>) and attribute";
		return -EINVAL;
	}
	n = (size_t)(dot - rest);
	if (n > NAME_LINK_MAX) {
		*why = "has a link name longer than 15 bytes";
		return -EINVAL;
	}
	memcpy(dev, rest, n);
	dev[n] = '\0';
	bad = name_check_link(dev);
	if (bad) {
		*why = "has a component that is no link name (1-15 bytes, no '/', ':', '.' or '..')";
		return -EINVAL;
	}
	a = sysctl_attr_find(family == 4 ? sysctl_v4 : sysctl_v6, dot + 1);
	if (!a)
		return -ENOENT;
	if (!strcmp(dev, "all"))
		k->scope = SYSCTL_SCOPE_ALL;
	else if (!strcmp(dev, "default"))
		k->scope = SYSCTL_SCOPE_DEFAULT;
	else
		k->scope = SYSCTL_SCOPE_LINK;
	if (k->scope == SYSCTL_SCOPE_LINK)
		snprintf(k->link, sizeof(k->link), "%s", dev);
	k->allowed = a->allowed;
	/* The link name goes into the path as one component, dots and all
	 * (a link "eth0.100" has the directory "conf/eth0.100"). */
	snprintf(k->path, sizeof(k->path), "/proc/sys/net/ipv%d/conf/%s/%s",
		 family, dev, a->name);
	return 0;
}

int sysctl_key_parse(const char *key, struct sysctl_key *ret, const char **why)
{
	static const char v4[] = "net.ipv4.conf.", v6[] = "net.ipv6.conf.";
	int r;

	memset(ret, 0, sizeof(*ret));
	*why = key ? sysctl_key_chars(key) : "is required";
	if (*why)
		return -EINVAL;
	if (!strcmp(key, SYSCTL_IP_FORWARD)) {
		ret->scope = SYSCTL_SCOPE_NS;
		ret->allowed = SYSCTL_RANGE(0, 1);
		snprintf(ret->path, sizeof(ret->path),
			 "/proc/sys/net/ipv4/ip_forward");
		r = 0;
	} else if (!strncmp(key, v4, strlen(v4))) {
		r = sysctl_key_conf(key + strlen(v4), 4, ret, why);
	} else if (!strncmp(key, v6, strlen(v6))) {
		r = sysctl_key_conf(key + strlen(v6), 6, ret, why);
	} else {
		r = -ENOENT;
	}
	if (r == 0)
		snprintf(ret->key, sizeof(ret->key), "%s", key);
	return r;
}

const char *sysctl_value_check(const struct sysctl_key *k, const char *value)
{
	unsigned v = 0;

	if (!value || !*value)
		return "must be a decimal number, as a string (\"1\")";
	if (strlen(value) > 2 || (value[0] == '0' && value[1]))
		return "is not a value it accepts";
	for (const char *c = value; *c; c++) {
		if (*c < '0' || *c > '9')
			return "must be a decimal number, as a string (\"1\")";
		v = v * 10 + (unsigned)(*c - '0');
	}
	if (v >= 32 || !(k->allowed & 1u << v))
		return "is not a value it accepts";
	return NULL;
}

/* The values `k` accepts: "0, 1 or 2". */
static void sysctl_value_allowed(const struct sysctl_key *k, char *buf,
				 size_t len)
{
	unsigned left = k->allowed;
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned v = 0; v < 32 && n < len; v++) {
		if (!(left & 1u << v))
			continue;
		left &= ~(1u << v);
		n += (size_t)snprintf(buf + n, len - n, "%s%u",
				      !n     ? ""
				      : left ? ", "
					     : " or ",
				      v);
	}
}

int sysctl_value_refuse(struct problem *prob, const char *field,
			const struct sysctl_key *k, const char *value,
			const char *why)
{
	char allowed[64];

	sysctl_value_allowed(k, allowed, sizeof(allowed));
	if (!value)
		return problem_field(prob, field, "%s %s (it takes %s)", k->key,
				     why, allowed);
	return problem_field(prob, field,
			     "\"%.16s\" %s: %s takes %s, as a string", value,
			     why, k->key, allowed);
}

void sysctl_key_each(const char *dev, int family,
		     void (*fn)(const char *key, void *userdata),
		     void *userdata)
{
	char key[SYSCTL_KEY_MAX];
	const struct sysctl_attr *a;

	if (!dev) {
		fn(SYSCTL_IP_FORWARD, userdata);
		return;
	}
	if (family != 6)
		for (a = sysctl_v4; a->name; a++) {
			snprintf(key, sizeof(key), "net.ipv4.conf.%s.%s", dev,
				 a->name);
			fn(key, userdata);
		}
	if (family != 4)
		for (a = sysctl_v6; a->name; a++) {
			snprintf(key, sizeof(key), "net.ipv6.conf.%s.%s", dev,
				 a->name);
			fn(key, userdata);
		}
}
