#include "address_opts.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>

#include "../state/addr_apply.h"

/* The longest finite lifetime: one more is the kernel's forever. */
#define ADDRESS_LIFETIME_MAX (NL_ADDR_FOREVER - 1)

static int address_opts_lifetime(json_t *body, const char *field,
				 json_int_t min, uint32_t *ret,
				 struct reply *rep)
{
	json_t *v = json_object_get(body, field);
	json_int_t n = json_integer_value(v);

	if (!v)
		return 0;
	if (n < min || n > ADDRESS_LIFETIME_MAX)
		return problem_field(
			&rep->problem, field,
			"must be a whole number of seconds from %lld to %lu (leave it out for forever)",
			(long long)min, (unsigned long)ADDRESS_LIFETIME_MAX);
	*ret = (uint32_t)n;
	return 1;
}

int address_opts_parse(json_t *body, const struct cidr *c,
		       struct record_addr *ret, struct reply *rep)
{
	int has_valid, has_pref;

	memset(ret, 0, sizeof(*ret));
	ret->valid_lft = ret->preferred_lft = RECORD_LIFETIME_FOREVER;
	ret->nodad = json_is_true(json_object_get(body, "nodad"));
	ret->noprefixroute =
		json_is_true(json_object_get(body, "noprefixroute"));
	if (ret->nodad && c->family != AF_INET6)
		return problem_field(
			&rep->problem, "nodad",
			"applies to IPv6 addresses only: IPv4 has no duplicate address detection to skip");
	/* A valid lifetime of 0 is no address at all; the kernel says so. */
	has_valid = address_opts_lifetime(body, "valid_lifetime", 1,
					  &ret->valid_lft, rep);
	if (has_valid < 0)
		return has_valid;
	has_pref = address_opts_lifetime(body, "preferred_lifetime", 0,
					 &ret->preferred_lft, rep);
	if (has_pref < 0)
		return has_pref;
	/* Only a valid lifetime: preferred as long as it is valid. */
	if (has_valid && !has_pref)
		ret->preferred_lft = ret->valid_lft;
	if (ret->preferred_lft > ret->valid_lft)
		return problem_field(
			&rep->problem, "preferred_lifetime",
			"must not be longer than valid_lifetime (%lu s)",
			(unsigned long)ret->valid_lft);
	return 0;
}

int address_opts_add(struct nl_sock *s, int ifindex, const struct cidr *c,
		     const struct record_addr *w)
{
	struct nl_addr_opts o;

	addr_apply_opts(w, &o);
	return nl_addr_add_opts(s, ifindex, c, &o);
}

static json_t *address_opts_lifetime_json(uint32_t lft)
{
	return lft == NL_ADDR_FOREVER ? json_string("forever")
				      : json_integer(lft);
}

/* Unusable first: a failed or tentative address is not used even when
 * its preferred lifetime is over as well. */
static const char *address_opts_state(const struct nl_addr *a)
{
	if (a->flags & IFA_F_DADFAILED)
		return "dadfailed";
	if (a->flags & IFA_F_TENTATIVE)
		return "tentative";
	if ((a->flags & IFA_F_DEPRECATED) || a->preferred_lft == 0)
		return "deprecated";
	return "usable";
}

void address_opts_render(json_t *o, const struct nl_addr *a)
{
	if (!o)
		return;
	json_object_set_new(o, "state", json_string(address_opts_state(a)));
	json_object_set_new(o, "nodad", json_boolean(a->flags & IFA_F_NODAD));
	json_object_set_new(o, "noprefixroute",
			    json_boolean(a->flags & IFA_F_NOPREFIXROUTE));
	json_object_set_new(o, "valid_lifetime",
			    address_opts_lifetime_json(a->valid_lft));
	json_object_set_new(o, "preferred_lifetime",
			    address_opts_lifetime_json(a->preferred_lft));
}

const struct nl_addr *address_opts_find(const struct nl_addr *addrs, size_t n,
					const struct cidr *c)
{
	for (size_t i = 0; i < n; i++)
		if (value_cidr_equal(&addrs[i].cidr, c))
			return &addrs[i];
	return NULL;
}

void address_opts_describe(json_t *o, struct nl_sock *s, int ifindex,
			   const struct cidr *c)
{
	struct nl_addr *addrs = NULL;
	const struct nl_addr *a;
	size_t n = 0;

	if (nl_addr_dump(s, ifindex, &addrs, &n) < 0)
		return;
	a = address_opts_find(addrs, n, c);
	if (a)
		address_opts_render(o, a);
	free(addrs);
}
