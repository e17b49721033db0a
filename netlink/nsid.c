#include "nsid.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

#include "link.h"
#include "ns.h"

static int nl_nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	if (nlh->nlmsg_type != RTM_NEWNSID)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(struct rtgenmsg))
	{
		if (mnl_attr_get_type(a) == NETNSA_NSID &&
		    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			*(int *)data = (int)mnl_attr_get_u32(a);
	}
	return MNL_CB_OK;
}

int nl_nsid_of(struct nl_sock *s, int netns_fd, int *ret_id)
{
	char buf[NL_REQ_SIZE];
	struct nlmsghdr *nlh;
	struct rtgenmsg *g;
	int id = -1, r;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNSID;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NETNSA_FD, (uint32_t)netns_fd);
	r = nl_sock_request(s, nlh, nl_nsid_cb, &id);
	if (r < 0)
		return r;
	*ret_id = id;
	return 0;
}

static int nl_nsid_matches(struct nl_sock *s, const char *ns, int nsid)
{
	int fd, id = -1, r;

	r = nl_ns_open_fd(ns, &fd);
	if (r < 0)
		return 0;
	r = nl_nsid_of(s, fd, &id);
	close(fd);
	return r == 0 && id == nsid;
}

/* Remembered answers: (namespace of the socket, id) -> name. A hit is
 * checked with one query before use, since ids are reused. */
#define NL_NSID_CACHE 64
static struct {
	uint64_t gen; /* socket's namespace generation */
	int nsid;
	char name[65];
} nl_nsid_cache[NL_NSID_CACHE];
static pthread_mutex_t nl_nsid_mu = PTHREAD_MUTEX_INITIALIZER;

static void nl_nsid_remember(struct nl_sock *s, int nsid, const char *name)
{
	unsigned i = (unsigned)(s->gen * 31 + (unsigned)nsid) % NL_NSID_CACHE;

	pthread_mutex_lock(&nl_nsid_mu);
	nl_nsid_cache[i].gen = s->gen;
	nl_nsid_cache[i].nsid = nsid;
	snprintf(nl_nsid_cache[i].name, sizeof(nl_nsid_cache[i].name), "%s",
		 name);
	pthread_mutex_unlock(&nl_nsid_mu);
}

static bool nl_nsid_recall(struct nl_sock *s, int nsid, char *name)
{
	unsigned i = (unsigned)(s->gen * 31 + (unsigned)nsid) % NL_NSID_CACHE;
	bool hit;

	pthread_mutex_lock(&nl_nsid_mu);
	hit = nl_nsid_cache[i].gen == s->gen && nl_nsid_cache[i].nsid == nsid &&
	      nl_nsid_cache[i].name[0];
	if (hit)
		strcpy(name, nl_nsid_cache[i].name);
	pthread_mutex_unlock(&nl_nsid_mu);
	return hit;
}

int nl_nsid_name(struct nl_sock *s, int nsid, char *buf, size_t len)
{
	char **names = NULL, cached[65];
	size_t n = 0;
	int r = -ENOENT;

	if (nsid < 0)
		return -ENOENT;
	if (nl_nsid_recall(s, nsid, cached) &&
	    nl_nsid_matches(s, cached, nsid)) {
		snprintf(buf, len, "%s", cached);
		return 0;
	}
	if (nl_nsid_matches(s, "host", nsid)) {
		snprintf(buf, len, "host");
		return 0;
	}
	if (nl_ns_list(&names, &n) < 0)
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (nl_nsid_matches(s, names[i], nsid)) {
			snprintf(buf, len, "%s", names[i]);
			nl_nsid_remember(s, nsid, names[i]);
			r = 0;
			break;
		}
	}
	nl_ns_list_free(names, n);
	return r;
}

int nl_nsid_far_parent(struct nl_sock *s, const struct nl_link *l, char *ns,
		       size_t ns_len, char name[IFNAMSIZ])
{
	struct nl_sock *ps = NULL;
	struct nl_link p;
	int r;

	if (l->link_netnsid < 0 || l->far_parent <= 0)
		return -ENODEV;
	r = nl_nsid_name(s, l->link_netnsid, ns, ns_len);
	if (r == 0)
		r = nl_ns_get(ns, &ps);
	if (r < 0)
		return -ENOENT;
	r = nl_link_get_index(ps, l->far_parent, &p);
	nl_ns_put(ns, ps);
	if (r == 0)
		snprintf(name, IFNAMSIZ, "%s", p.name);
	return r;
}
