#include "key.h"

#include <stdio.h>
#include <string.h>

void key_ns(char *buf, const char *ns)
{
	snprintf(buf, KEY_MAX, "ns/%s", ns);
}

void key_link(char *buf, const char *ns, const char *link)
{
	snprintf(buf, KEY_MAX, "link/%s/%s", ns, link);
}

void key_link_prefix(char *buf, const char *ns)
{
	snprintf(buf, KEY_MAX, "link/%s/", ns);
}

void key_addr(char *buf, const char *ns, const char *link, const char *cidr)
{
	snprintf(buf, KEY_MAX, "addr/%s/%s/%s", ns, link, cidr);
}

void key_addr_prefix(char *buf, const char *ns, const char *link)
{
	if (link)
		snprintf(buf, KEY_MAX, "addr/%s/%s/", ns, link);
	else
		snprintf(buf, KEY_MAX, "addr/%s/", ns);
}

void key_route(char *buf, const char *ns, unsigned long table, const char *cidr,
	       unsigned long metric)
{
	snprintf(buf, KEY_MAX, "route/%s/%lu/%s/%lu", ns, table, cidr, metric);
}

void key_route_prefix(char *buf, const char *ns)
{
	snprintf(buf, KEY_MAX, "route/%s/", ns);
}

void key_sysctl(char *buf, const char *ns, const char *key)
{
	snprintf(buf, KEY_MAX, "sysctl/%s/%s", ns, key);
}

void key_sysctl_prefix(char *buf, const char *ns)
{
	snprintf(buf, KEY_MAX, "sysctl/%s/", ns);
}

void key_gone_ns(char *buf, const char *ns)
{
	snprintf(buf, KEY_MAX, KEY_GONE_NS "%s", ns);
}

void key_gone_link(char *buf, const char *ns, const char *link)
{
	snprintf(buf, KEY_MAX, KEY_GONE_LINK "%s/%s", ns, link);
}

void key_moving(char *buf, const char *ns, const char *link)
{
	snprintf(buf, KEY_MAX, KEY_MOVING "%s/%s", ns, link);
}

void key_gone_route(char *buf, const char *ns, unsigned long table,
		    const char *cidr, unsigned long metric)
{
	snprintf(buf, KEY_MAX, KEY_GONE_ROUTE "%s/%lu/%s/%lu", ns, table, cidr,
		 metric);
}

void key_gone_addr(char *buf, const char *ns, const char *link,
		   const char *cidr)
{
	snprintf(buf, KEY_MAX, KEY_GONE_ADDR "%s/%s/%s", ns, link, cidr);
}

void key_release_ns(char *buf, const char *ns)
{
	snprintf(buf, KEY_MAX, KEY_RELEASE_NS "%s", ns);
}

bool key_is_desired(const char *key)
{
	return !strncmp(key, "ns/", 3) || !strncmp(key, "link/", 5) ||
	       !strncmp(key, "addr/", 5) || !strncmp(key, "route/", 6) ||
	       !strncmp(key, "sysctl/", 7);
}

bool key_is_marker(const char *key)
{
	return !strncmp(key, KEY_GONE_NS, strlen(KEY_GONE_NS)) ||
	       !strncmp(key, KEY_GONE_LINK, strlen(KEY_GONE_LINK)) ||
	       !strncmp(key, KEY_MOVING, strlen(KEY_MOVING)) ||
	       !strncmp(key, KEY_GONE_ADDR, strlen(KEY_GONE_ADDR)) ||
	       !strncmp(key, KEY_RELEASE_NS, strlen(KEY_RELEASE_NS)) ||
	       !strncmp(key, KEY_GONE_ROUTE, strlen(KEY_GONE_ROUTE)) ||
	       !strncmp(key, KEY_CONFIRM, strlen(KEY_CONFIRM));
}

bool key_ns_of(const char *key, char ns[NAME_NS_MAX + 1])
{
	const char *p = strchr(key, '/'), *q;

	if (!p || !key_is_desired(key))
		return false;
	q = strncmp(key, "ns/", 3) ? strchr(p + 1, '/') : p + 1 + strlen(p + 1);
	if (!q || (size_t)(q - p - 1) > NAME_NS_MAX)
		return false;
	memcpy(ns, p + 1, (size_t)(q - p - 1));
	ns[q - p - 1] = '\0';
	return true;
}
