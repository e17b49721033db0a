/* Unit tests of state/plan.c, the planner: records and links in, steps out,
 * no kernel. A missing bridge or pair is made; an existing one gets exactly
 * the attributes that differ, each with the value to put back; a link that
 * already matches gets no step at all (so a PUT of the same body changes
 * nothing); what cannot converge is a problem and no step. */
#include <string.h>
#include <net/if.h>

#include "netlink/link.h"
#include "state/link_kind.h"
#include "state/plan.h"

#include "check.h"

static struct record_link bridge_want(void)
{
	struct record_link w = { 0 };

	w.kind = RECORD_KIND_BRIDGE;
	w.has = RECORD_HAS_OWNED | RECORD_HAS_UP | RECORD_HAS_MAC;
	w.owned = true;
	w.up = true;
	memcpy(w.mac, "\x02\x00\x00\x00\x00\x01", 6);
	w.mac_text = "02:00:00:00:00:01";
	return w;
}

static struct nl_link bridge_seen(void)
{
	struct nl_link l = { 0 };

	l.ifindex = 7;
	snprintf(l.name, sizeof(l.name), "br0");
	snprintf(l.kind, sizeof(l.kind), "bridge");
	snprintf(l.alias, sizeof(l.alias), "%s", NL_LINK_ALIAS);
	l.flags = IFF_UP;
	l.mtu = 1500;
	l.has_mac = true;
	memcpy(l.mac, "\x02\x00\x00\x00\x00\x01", 6);
	return l;
}

static void test_bridge_missing_is_made(void)
{
	struct record_link w = bridge_want();
	struct plan_seen seen = { 0 };
	struct problem prob = PROBLEM_INIT;
	struct plan p;

	plan_init(&p);
	CHECK(plan_link(&p, "blue", "br0", &w, &seen, &prob) == 0);
	CHECK(p.n == 1);
	CHECK(p.steps[0].op == PLAN_BRIDGE_ADD);
	CHECK(p.steps[0].action == PLAN_CREATE);
	CHECK(!strcmp(p.steps[0].path, "/v1/namespaces/blue/bridges/br0"));
	CHECK(p.steps[0].a.up && p.steps[0].a.has_mac);
	plan_clear(&p);
}

static void test_matching_link_needs_nothing(void)
{
	struct record_link w = bridge_want();
	struct nl_link l = bridge_seen();
	struct plan_seen seen = { .link = &l };
	struct problem prob = PROBLEM_INIT;
	struct plan p;
	json_t *j;

	plan_init(&p);
	CHECK(plan_link(&p, "blue", "br0", &w, &seen, &prob) == 0);
	CHECK(p.n == 0);
	j = plan_to_json(&p);
	CHECK(j && json_array_size(j) == 0);
	json_decref(j);
	plan_clear(&p);
}

static void test_attributes_converge_with_their_inverse(void)
{
	struct record_link w = bridge_want();
	struct nl_link l = bridge_seen(), br2 = bridge_seen();
	struct plan_seen seen = { .link = &l };
	struct problem prob = PROBLEM_INIT;
	struct plan p;

	w.kind = RECORD_KIND_NONE; /* a port's record of attributes */
	w.has |= RECORD_HAS_MTU | RECORD_HAS_MASTER | RECORD_HAS_STP;
	w.mtu = 1400;
	w.up = false;
	w.master = "br2";
	w.bridge.stp = true;
	br2.ifindex = 9;
	seen.want_master = &br2;
	plan_init(&p);
	CHECK(plan_link(&p, "blue", "br0", &w, &seen, &prob) == 0);
	CHECK(p.n == 2);
	CHECK(p.steps[0].op == PLAN_LINK_SET);
	CHECK(p.steps[0].set.mtu == 1400 && p.steps[0].old.mtu == 1500);
	CHECK(p.steps[0].set.up == 0 && p.steps[0].old.up == 1);
	CHECK(p.steps[0].set.master == 9 && p.steps[0].old.master == 0);
	CHECK(!p.steps[0].set.has_mac); /* the MAC matches */
	CHECK(strstr(p.steps[0].detail, "mtu 1500 -> 1400") != NULL);
	CHECK(strstr(p.steps[0].detail, "master none -> br2") != NULL);
	CHECK(p.steps[1].op == PLAN_BRIDGE_SET);
	CHECK(p.steps[1].bridge.stp == 1 && p.steps[1].bridge_old.stp == 0);
	plan_clear(&p);
}

static void test_what_cannot_converge(void)
{
	struct record_link w = bridge_want();
	struct nl_link l = bridge_seen();
	struct plan_seen seen = { .link = &l };
	struct problem prob = PROBLEM_INIT;
	struct plan p;

	plan_init(&p);
	snprintf(l.kind, sizeof(l.kind), "veth");
	CHECK(plan_link(&p, "blue", "br0", &w, &seen, &prob) == -409);
	CHECK(strstr(prob.detail, "is a veth, not a bridge") != NULL);
	CHECK(p.n == 0);
	problem_clear(&prob);

	snprintf(l.kind, sizeof(l.kind), "bridge");
	l.alias[0] = '\0'; /* someone else's bridge under the name */
	CHECK(plan_link(&p, "blue", "br0", &w, &seen, &prob) == -409);
	CHECK(strstr(prob.detail, "not created by netnsd") != NULL);
	problem_clear(&prob);

	w.kind = RECORD_KIND_NONE; /* a wanted master that is missing */
	w.owned = false;
	w.has |= RECORD_HAS_MASTER;
	w.master = "nope";
	CHECK(plan_link(&p, "blue", "br0", &w, &seen, &prob) == -404);
	CHECK(p.n == 0);
	problem_clear(&prob);
	plan_clear(&p);
}

static void test_veth_pair(void)
{
	struct record_link a = { 0 }, b = { 0 };
	struct nl_link la = { 0 }, lb = { 0 };
	struct plan_seen none = { 0 }, sa = { .link = &la },
			 sb = { .link = &lb };
	struct problem prob = PROBLEM_INIT;
	struct plan p;

	a.kind = b.kind = RECORD_KIND_VETH;
	a.has = b.has = RECORD_HAS_OWNED | RECORD_HAS_MTU;
	a.owned = b.owned = true;
	a.mtu = b.mtu = 1500;
	plan_init(&p);
	CHECK(plan_veth(&p, "red", "va", &a, &none, "blue", "vb", &b, &none,
			&prob) == 0);
	CHECK(p.n == 1 && p.steps[0].op == PLAN_VETH_ADD);
	CHECK(!strcmp(p.steps[0].b.ns, "blue") &&
	      !strcmp(p.steps[0].b.name, "vb"));
	plan_clear(&p);

	/* Both there and each other's peer: only what differs. */
	snprintf(la.kind, sizeof(la.kind), "veth");
	snprintf(lb.kind, sizeof(lb.kind), "veth");
	snprintf(la.alias, sizeof(la.alias), "%s", NL_LINK_ALIAS);
	snprintf(lb.alias, sizeof(lb.alias), "%s", NL_LINK_ALIAS);
	la.mtu = 1500;
	lb.mtu = 1400;
	sa.peer_ns = "blue";
	sa.peer_name = "vb";
	CHECK(plan_veth(&p, "red", "va", &a, &sa, "blue", "vb", &b, &sb,
			&prob) == 0);
	CHECK(p.n == 1 && p.steps[0].op == PLAN_LINK_SET);
	CHECK(!strcmp(p.steps[0].ns, "blue") && p.steps[0].set.mtu == 1500);
	plan_clear(&p);

	/* Another peer, or only one end there: 409. */
	sa.peer_name = "vc";
	CHECK(plan_veth(&p, "red", "va", &a, &sa, "blue", "vb", &b, &sb,
			&prob) == -409);
	CHECK(strstr(prob.detail, "another peer") != NULL);
	problem_clear(&prob);
	CHECK(plan_veth(&p, "red", "va", &a, &sa, "blue", "vb", &b, &none,
			&prob) == -409);
	CHECK(p.n == 0);
	problem_clear(&prob);
	plan_clear(&p);
}

static void test_addresses(void)
{
	struct plan p;
	struct cidr c;

	CHECK(value_parse_cidr("198.18.0.1/24", &c) == NULL);
	plan_init(&p);
	CHECK(plan_addr(&p, "red", "va", 3, &c, NULL, true, true) == 0);
	CHECK(p.n == 0); /* there already */
	CHECK(plan_addr(&p, "red", "va", 3, &c, NULL, true, false) == 0);
	CHECK(plan_addr(&p, "red", "va", 3, &c, NULL, false, true) == 0);
	CHECK(p.n == 2);
	CHECK(p.steps[0].op == PLAN_ADDR_ADD && p.steps[1].op == PLAN_ADDR_DEL);
	CHECK(!strcmp(p.steps[0].path,
		      "/v1/namespaces/red/links/va/addresses/198.18.0.1/24"));
	CHECK(p.steps[1].action == PLAN_DELETE);
	plan_clear(&p);
}

/* A macvlan on ua (index 3) in blue, as a PUT would record it. */
static struct record_link macvlan_want(void)
{
	struct record_link w = { 0 };

	w.kind = RECORD_KIND_MACVLAN;
	w.has = RECORD_HAS_OWNED | RECORD_HAS_UP | RECORD_HAS_OPTIONS;
	w.owned = true;
	w.up = true;
	link_kind_init(&link_kind_macvlan, &w.opts);
	w.opts.has |= LINK_OPT_PARENT;
	w.opts.parent = "ua";
	w.opts.k.mode = 1; /* private */
	return w;
}

static void test_kind_table_link(void)
{
	struct record_link w = macvlan_want();
	struct nl_link ua = bridge_seen(), mv = bridge_seen();
	struct plan_seen seen = { 0 };
	struct problem prob = PROBLEM_INIT;
	struct plan p;

	ua.ifindex = 3;
	snprintf(ua.name, sizeof(ua.name), "ua");
	snprintf(ua.kind, sizeof(ua.kind), "veth");
	plan_init(&p);
	/* No parent: 404, and nothing planned. */
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == -404);
	CHECK(p.n == 0 && strstr(prob.detail, "parent link ua"));
	problem_clear(&prob);
	/* A parent an earlier step makes: by name. */
	seen.parent_planned = true;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == 0);
	CHECK(p.n == 1 && p.steps[0].op == PLAN_LINK_ADD);
	CHECK(p.steps[0].kopts.parent == 0);
	CHECK(!strcmp(p.steps[0].parent_name, "ua"));
	plan_clear(&p);
	seen.parent_planned = false;
	/* Missing: made on the parent, by index, under /links. */
	seen.parent = &ua;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == 0);
	CHECK(p.n == 1 && p.steps[0].op == PLAN_LINK_ADD);
	CHECK(p.steps[0].kind == RECORD_KIND_MACVLAN);
	CHECK(p.steps[0].kopts.parent == 3 && p.steps[0].kopts.mode == 1);
	CHECK(!strcmp(p.steps[0].path, "/v1/namespaces/blue/links/mv0"));
	CHECK(!strcmp(p.steps[0].detail, "macvlan, parent ua, mode private"));
	plan_clear(&p);
	/* There and the same: nothing; another MTU: one LINK_SET. */
	snprintf(mv.name, sizeof(mv.name), "mv0");
	snprintf(mv.kind, sizeof(mv.kind), "macvlan");
	mv.opts.parent = 3;
	mv.opts.mode = 1;
	seen.link = &mv;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == 0);
	CHECK(p.n == 0);
	w.has |= RECORD_HAS_MTU;
	w.mtu = 1400;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == 0);
	CHECK(p.n == 1 && p.steps[0].op == PLAN_LINK_SET);
	CHECK(p.steps[0].set.mtu == 1400 && p.steps[0].old.mtu == 1500);
	plan_clear(&p);
	/* Another mode or parent cannot be converged: 409, no step. */
	mv.opts.mode = 4;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == -409);
	CHECK(p.n == 0 && strstr(prob.detail, "mode bridge, desired private"));
	problem_clear(&prob);
	mv.opts.mode = 1;
	mv.opts.parent = 9;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == -409);
	CHECK(p.n == 0 && strstr(prob.detail, "delete and create"));
	problem_clear(&prob);
	plan_clear(&p);
}

/* A macvlan in blue on eth0 of host (parent_namespace): made through the
 * parent's namespace; a live one is on it when the link names host's id
 * and eth0's index there, not a link of that index in blue. */
static void test_kind_table_far_parent(void)
{
	struct record_link w = macvlan_want();
	struct nl_link eth0 = bridge_seen(), mv = bridge_seen();
	struct plan_seen seen = { 0 };
	struct problem prob = PROBLEM_INIT;
	struct plan p;

	w.opts.parent = "eth0";
	w.opts.parent_ns = "host";
	w.opts.has |= LINK_OPT_PARENT_NS;
	eth0.ifindex = 7;
	snprintf(eth0.name, sizeof(eth0.name), "eth0");
	plan_init(&p);
	seen.parent_nsid = -1;
	seen.parent_ns_missing = true;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == -404);
	CHECK(p.n == 0 && strstr(prob.detail, "namespace host"));
	problem_clear(&prob);
	seen.parent_ns_missing = false;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == -404);
	CHECK(strstr(prob.detail, "eth0 does not exist in namespace host"));
	problem_clear(&prob);
	seen.parent = &eth0;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == 0);
	CHECK(p.n == 1 && p.steps[0].kopts.parent == 7);
	CHECK(!strcmp(p.steps[0].parent_ns, "host"));
	CHECK(!strcmp(
		p.steps[0].detail,
		"macvlan, parent eth0, parent_namespace host, mode private"));
	plan_clear(&p);
	snprintf(mv.name, sizeof(mv.name), "mv0");
	snprintf(mv.kind, sizeof(mv.kind), "macvlan");
	mv.opts.mode = 1;
	mv.opts.parent = -1;
	mv.link_netnsid = 2;
	mv.far_parent = 7;
	seen.link = &mv;
	seen.parent_nsid = 2;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == 0 && p.n == 0);
	/* Another namespace's index 7, or index 7 of blue: not on it. */
	seen.parent_nsid = 3;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == -409);
	CHECK(strstr(prob.detail, "not on parent eth0 in namespace host"));
	problem_clear(&prob);
	seen.parent_nsid = 2;
	mv.link_netnsid = -1;
	mv.opts.parent = 7;
	CHECK(plan_link(&p, "blue", "mv0", &w, &seen, &prob) == -409);
	problem_clear(&prob);
	plan_clear(&p);
}

int main(void)
{
	test_bridge_missing_is_made();
	test_matching_link_needs_nothing();
	test_attributes_converge_with_their_inverse();
	test_what_cannot_converge();
	test_veth_pair();
	test_addresses();
	test_kind_table_link();
	test_kind_table_far_parent();
	return check_report();
}
