/* Links (network interfaces) inside one namespace, read and changed over a
 * socket from the namespace pool. Every call returns 0 or a negative errno;
 * the kernel's words are in nl_extack(). */
#ifndef NETNSD_NL_LINK_H
#define NETNSD_NL_LINK_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "sock.h"

/* The alias netnsd gives every link it creates, so that ownership is known
 * from the kernel alone, even without the state file. */
#define NL_LINK_ALIAS "netnsd"
/* The link group every link netnsd creates is born in ("nnsd" in ASCII).
 * The alias can only be set once the link exists; the group rides on the
 * creation itself, so a crash between the two cannot leave a link netnsd
 * made that it does not recognise. Start-up then adds the alias. */
#define NL_LINK_GROUP 0x6e6e7364u

struct nl_kind;

/* The options of a link made on a parent (macvlan, ipvlan, vlan, vxlan),
 * as the kernel reports them or a new link is made with: one struct for
 * every kind, each kind (netlink/kind_*.c) reading and writing its own
 * members. */
struct nl_link_opts {
	int parent;    /* ifindex of the parent (lower) link, 0 for none */
	uint32_t mode; /* MACVLAN_MODE_* or IPVLAN_MODE_* */
	uint32_t vni;  /* vxlan */
	uint16_t id;   /* vlan */
	uint16_t port; /* vxlan destination UDP port, host order */
	bool learning; /* vxlan */
	int local_family, remote_family; /* AF_INET, AF_INET6, or 0: none */
	uint8_t local[16], remote[16];	 /* remote: unicast or group */
};

/* A link as the kernel reports it. */
struct nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[32];	/* IFLA_INFO_KIND, or "" */
	unsigned flags; /* IFF_* */
	unsigned mtu;
	uint8_t mac[6];
	bool has_mac;
	uint8_t operstate; /* IF_OPER_* */
	int master;	   /* ifindex, 0 for none */
	int link;	   /* IFLA_LINK: a veth's peer ifindex */
	int link_netnsid;  /* namespace id of `link`, -1 when local */
	char alias[64];
	uint32_t group; /* IFLA_GROUP */
	/* Bridge settings, when kind is "bridge". */
	uint32_t br_stp_state;
	uint8_t br_vlan_filtering;
	/* Options of the kinds of netlink/kind_*.c; parent is IFLA_LINK
	 * unless the kind says otherwise, -1 when it is in another
	 * namespace: then far_parent is its ifindex in the namespace
	 * link_netnsid names (0: none). */
	struct nl_link_opts opts;
	int far_parent;
};

/* What a new link, or one end of a veth, should be. */
struct nl_link_spec {
	const char *name;
	unsigned mtu;	    /* 0: the kernel's default */
	const uint8_t *mac; /* NULL: random */
	bool up;
	int netns_fd;	 /* -1: the socket's own namespace */
	unsigned queues; /* transmit and receive queues; 0: the kernel's */
	int link;	 /* IFLA_LINK: the parent's ifindex; 0: none */
};

/* A change to an existing link; fields left at their "unchanged" value are
 * not sent. */
struct nl_link_change {
	int ifindex;
	const char *name;   /* rename, or NULL */
	unsigned mtu;	    /* 0: unchanged */
	const uint8_t *mac; /* NULL: unchanged */
	int up;		    /* -1 unchanged, 0 down, 1 up */
	int master;	    /* -1 unchanged, 0 none, else an ifindex */
	int netns_fd;	    /* -1 unchanged, else move there */
	const char *alias;  /* NULL: unchanged */
};

#define NL_LINK_CHANGE_INIT                            \
	{                                              \
		.up = -1, .master = -1, .netns_fd = -1 \
	}

/* Every link of the namespace; free with free(). */
int nl_link_dump(struct nl_sock *s, struct nl_link **ret, size_t *ret_n);
/* One link by name or by index; -ENODEV when there is none. */
int nl_link_get(struct nl_sock *s, const char *name, struct nl_link *ret);
int nl_link_get_index(struct nl_sock *s, int ifindex, struct nl_link *ret);

/* Creates a link of `kind` with kind-specific `kind_data`. With `ret`, the
 * kernel is asked to echo the new link, as it is once made (ifindex 0 when
 * the kernel did not echo it). */
int nl_link_add(struct nl_sock *s, const struct nl_link_spec *spec,
		const struct nl_kind *kind, const void *kind_data,
		struct nl_link *ret);
int nl_link_set(struct nl_sock *s, const struct nl_link_change *c);
int nl_link_del(struct nl_sock *s, int ifindex);

int nl_link_set_up_index(struct nl_sock *s, int ifindex, bool up);
/* How many links the namespace has. */
int nl_link_count(struct nl_sock *s, int *ret_n);

/* Puts a spec's name, mtu, mac, namespace and up flag into a message whose
 * ifinfomsg is `ifm`; shared by new links and a veth's peer. */
void nl_link_put_spec(struct nlmsghdr *nlh, struct ifinfomsg *ifm,
		      const struct nl_link_spec *spec);

/* Marks a link netnsd just created (by name, in `s`) as its own, and sets
 * it up (1), down (0) or leaves it (-1), and its MTU (unless 0), in the same
 * message. */
int nl_link_mark_ours(struct nl_sock *s, const char *name, int up,
		      unsigned mtu);

/* True when netnsd created this link (its alias or its group says so). */
static inline bool nl_link_is_ours(const struct nl_link *l)
{
	return !strcmp(l->alias, NL_LINK_ALIAS) || l->group == NL_LINK_GROUP;
}

#endif
