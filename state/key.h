/* Keys of the desired-state map. Names are validated before they get here,
 * and none may contain '/', so keys split back unambiguously. */
#ifndef NETNSD_KEY_H
#define NETNSD_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "../api/name.h"

#define KEY_MAX 192

/* "ns/<ns>" */
void key_ns(char *buf, const char *ns);
/* "link/<ns>/<link>" */
void key_link(char *buf, const char *ns, const char *link);
/* "link/<ns>/" : every link of a namespace */
void key_link_prefix(char *buf, const char *ns);
/* "addr/<ns>/<link>/<ip>/<prefixlen>" */
void key_addr(char *buf, const char *ns, const char *link, const char *cidr);
/* "addr/<ns>/<link>/" or, with link NULL, "addr/<ns>/" */
void key_addr_prefix(char *buf, const char *ns, const char *link);

/* "route/<ns>/<table>/<ip>/<prefixlen>/<metric>": the route's identity in
 * the kernel; `cidr` is its canonical destination ("198.18.8.0/24"). */
void key_route(char *buf, const char *ns, unsigned long table, const char *cidr,
	       unsigned long metric);
/* "route/<ns>/" : every route of a namespace */
void key_route_prefix(char *buf, const char *ns);

/* "sysctl/<ns>/<key>", the key dotted (net.ipv4.ip_forward): no '/' */
void key_sysctl(char *buf, const char *ns, const char *key);
/* "sysctl/<ns>/" : every sysctl of a namespace */
void key_sysctl_prefix(char *buf, const char *ns);

/* Whether `key` is a desired object ("ns/", "link/", "addr/", "route/",
 * "sysctl/"), as opposed to a marker of a change in flight (below). */
bool key_is_desired(const char *key);
/* The namespace a desired object's key names ("link/red/eth0": red),
 * copied into `ns`; false for another key or a name too long. */
bool key_ns_of(const char *key, char ns[NAME_NS_MAX + 1]);

/* Changes in flight, recorded before the kernel is touched and removed once
 * it is done, so that start-up can finish or take back what a crash
 * interrupted. They are not desired state: readers skip them. */
/* "gone-ns/<ns>": a namespace being deleted */
#define KEY_GONE_NS "gone-ns/"
void key_gone_ns(char *buf, const char *ns);
/* "gone-link/<ns>/<link>": a link being deleted */
#define KEY_GONE_LINK "gone-link/"
void key_gone_link(char *buf, const char *ns, const char *link);
/* "moving/<ns>/<link>": a link being renamed or moved to ns/link */
#define KEY_MOVING "moving/"
void key_moving(char *buf, const char *ns, const char *link);
/* "gone-addr/<ns>/<link>/<ip>/<len>": an address being taken off */
#define KEY_GONE_ADDR "gone-addr/"
void key_gone_addr(char *buf, const char *ns, const char *link,
		   const char *cidr);
/* "gone-route/<ns>/<table>/<ip>/<len>/<metric>": a route being deleted;
 * what follows the prefix is its key's, after "route/" */
#define KEY_GONE_ROUTE "gone-route/"
void key_gone_route(char *buf, const char *ns, unsigned long table,
		    const char *cidr, unsigned long metric);
/* "release-ns/<ns>": an adopted namespace being released (its mark off) */
#define KEY_RELEASE_NS "release-ns/"
void key_release_ns(char *buf, const char *ns);
/* "confirm/...": an apply of the whole state waiting for its
 * confirmation (state/apply_state.h) */
#define KEY_CONFIRM "confirm/"
/* Whether `key` is one of the markers above. */
bool key_is_marker(const char *key);

#endif
