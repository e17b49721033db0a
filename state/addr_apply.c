#include "addr_apply.h"

void addr_apply_opts(const struct record_addr *w, struct nl_addr_opts *ret)
{
	ret->nodad = w->nodad;
	ret->noprefixroute = w->noprefixroute;
	/* The record's forever is the kernel's. */
	ret->valid_lft = w->valid_lft;
	ret->preferred_lft = w->preferred_lft;
}

int addr_apply_add(struct nl_sock *s, int ifindex, const struct cidr *c,
		   json_t *rec)
{
	struct nl_addr_opts o = NL_ADDR_OPTS_INIT;
	struct record_addr w;

	if (rec) {
		record_addr_read(rec, &w);
		addr_apply_opts(&w, &o);
	}
	return nl_addr_add_opts(s, ifindex, c, &o);
}
