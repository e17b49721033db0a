/* Unit tests of state/record.c: every form of record the handlers have ever
 * stored parses and formats back to the same JSON, byte for byte; a record
 * with an unknown member or a wrong type is refused with a message, as is
 * a malformed marker of a change in flight; and
 * drift codes become the words the API has always shown. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state/record.h"

#include "check.h"

/* Each writer's records, in its own member order (handlers/link.c's
 * link_record_init, veth.c, bridge.c, the attribute records of PATCH and of
 * ports, state/desired.c's moves), and older forms. */
static const char *const links[] = {
	"{\"kind\":\"veth\",\"owned\":true,\"up\":false}",
	"{\"kind\":\"veth\",\"owned\":true,\"up\":true,\"mtu\":1500,"
	"\"mac\":\"02:00:00:00:00:01\","
	"\"peer\":{\"namespace\":\"blue\",\"name\":\"vb\"}}",
	"{\"kind\":\"veth\",\"owned\":true,\"up\":false,"
	"\"peer\":{\"namespace\":\"blue\",\"name\":\"vb\"},\"master\":\"br0\"}",
	"{\"kind\":\"veth\",\"owned\":true,\"up\":false,\"master\":null,"
	"\"peer\":{\"namespace\":\"blue\",\"name\":\"vb\"}}",
	"{\"kind\":\"bridge\",\"owned\":true,\"up\":true,\"stp\":true,"
	"\"vlan_filtering\":false}",
	"{\"kind\":\"bridge\",\"owned\":true,\"up\":false,\"mtu\":9000,"
	"\"mac\":\"02:aa:bb:cc:dd:ee\"}",
	"{\"owned\":false,\"stp\":true,\"vlan_filtering\":true,\"mtu\":1400,"
	"\"up\":true}",
	"{\"owned\":false,\"up\":true,\"mtu\":1400,"
	"\"mac\":\"02:00:00:00:00:02\",\"master\":\"br0\"}",
	"{\"owned\":false,\"master\":\"br0\"}",
	"{\"owned\":false,\"master\":null}",
	/* Before attribute records were never owned (9772231). */
	"{\"owned\":true,\"up\":false}",
	"{}",
	/* The kind table's (state/link_kind.h), options in "options". */
	"{\"kind\":\"macvlan\",\"owned\":true,\"up\":true,"
	"\"options\":{\"parent\":\"ua\",\"mode\":\"private\"}}",
	"{\"kind\":\"vxlan\",\"owned\":true,\"up\":false,\"mtu\":1400,"
	"\"options\":{\"parent\":\"ua\",\"vni\":42,\"local\":\"198.18.0.1\","
	"\"remote\":\"198.18.0.2\",\"dstport\":4789,\"learning\":true}}",
	"{\"kind\":\"vxlan\",\"owned\":true,\"up\":false,"
	"\"options\":{\"vni\":7,\"group\":\"ff05::1\",\"parent\":\"ua\","
	"\"dstport\":8472,\"learning\":false}}",
	"{\"kind\":\"vlan\",\"owned\":true,\"up\":false,\"master\":\"br0\","
	"\"options\":{\"parent\":\"ua\",\"id\":10}}",
	"{\"kind\":\"ipvlan\",\"owned\":true,\"up\":false,"
	"\"options\":{\"parent\":\"ua\",\"mode\":\"l3\"}}",
	/* A parent in another namespace (README.md, "More link kinds"). */
	"{\"kind\":\"macvlan\",\"owned\":true,\"up\":true,"
	"\"options\":{\"parent\":\"eth0\",\"parent_namespace\":\"host\","
	"\"mode\":\"bridge\"}}",
	"{\"kind\":\"dummy\",\"owned\":true,\"up\":true,"
	"\"mac\":\"02:00:00:00:00:03\",\"options\":{}}",
};

static const char *const bad_links[] = {
	"[]",
	"{\"kind\":\"veth\",\"owned\":true,\"colour\":\"red\"}",
	"{\"kind\":\"dummy\",\"owned\":true}",
	"{\"kind\":1}",
	"{\"owned\":1}",
	"{\"up\":\"yes\"}",
	"{\"mtu\":\"1500\"}",
	"{\"mtu\":-1}",
	"{\"mtu\":1.5}",
	"{\"mac\":\"02:00:00:00:00\"}",
	"{\"mac\":null}",
	"{\"master\":5}",
	"{\"stp\":null}",
	"{\"vlan_filtering\":0}",
	"{\"kind\":\"veth\",\"peer\":\"blue/vb\"}",
	"{\"kind\":\"veth\",\"peer\":{\"namespace\":\"blue\"}}",
	"{\"kind\":\"veth\",\"peer\":{\"namespace\":\"blue\",\"name\":1}}",
	"{\"kind\":\"veth\",\"peer\":{\"namespace\":\"b\",\"name\":\"v\","
	"\"up\":true}}",
	"{\"kind\":\"bridge\",\"peer\":{\"namespace\":\"b\",\"name\":\"v\"}}",
	"{\"kind\":\"veth\",\"stp\":true}",
	"{\"kind\":\"macvlan\",\"owned\":true}",
	"{\"kind\":\"veth\",\"options\":{}}",
	"{\"owned\":false,\"options\":{}}",
	"{\"kind\":\"macvlan\",\"options\":{\"mode\":\"bridge\"}}",
	"{\"kind\":\"macvlan\",\"options\":{\"parent\":\"ua\","
	"\"mode\":\"l2\"}}",
	"{\"kind\":\"macvlan\",\"options\":{\"parent\":\"ua\",\"vni\":1}}",
	"{\"kind\":\"macvlan\",\"options\":[]}",
	"{\"kind\":\"vxlan\",\"options\":{\"remote\":\"198.18.0.2\"}}",
	"{\"kind\":\"vxlan\",\"options\":{\"vni\":16777216}}",
	"{\"kind\":\"vxlan\",\"options\":{\"vni\":1,"
	"\"remote\":\"239.0.0.1\"}}",
	"{\"kind\":\"vxlan\",\"options\":{\"vni\":1,\"group\":\"239.0.0.1\"}}",
	"{\"kind\":\"vxlan\",\"options\":{\"vni\":1,\"dstport\":0}}",
	"{\"kind\":\"vlan\",\"options\":{\"parent\":\"ua\",\"id\":4095}}",
	"{\"kind\":\"vlan\",\"options\":{\"parent\":\"a/b\",\"id\":1}}",
	"{\"kind\":\"macvlan\",\"options\":{\"parent\":\"ua\","
	"\"parent_namespace\":\"a/b\"}}",
	"{\"kind\":\"macvlan\",\"options\":{\"parent\":\"ua\","
	"\"parent_namespace\":7}}",
	"{\"kind\":\"vxlan\",\"options\":{\"vni\":1,"
	"\"parent_namespace\":\"host\"}}",
	"{\"kind\":\"dummy\",\"options\":{\"parent_namespace\":\"host\"}}",
};

/* What the store writes: the snapshot's flags (state/store_journal.c). */
static char *dump(json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

static void test_round_trip(void)
{
	for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++) {
		json_t *in = json_loads(links[i], 0, NULL), *out;
		struct record_link r, again;
		char err[128] = "", *a, *b;

		CHECK(in != NULL);
		CHECK(record_link_parse(in, &r, err, sizeof(err)) == 0);
		if (err[0])
			fprintf(stderr, "%s: %s\n", links[i], err);
		out = record_link_format(&r);
		CHECK(out != NULL);
		a = dump(in);
		b = dump(out);
		CHECK(a && b && !strcmp(a, b));
		CHECK(record_link_parse(out, &again, NULL, 0) == 0);
		CHECK(record_link_equal(&r, &again));
		free(a);
		free(b);
		json_decref(out);
		json_decref(in);
	}
}

static void test_refused(void)
{
	for (size_t i = 0; i < sizeof(bad_links) / sizeof(*bad_links); i++) {
		json_t *in = json_loads(bad_links[i], JSON_DECODE_ANY, NULL);
		struct record_link r;
		char err[128] = "";

		CHECK(in != NULL);
		CHECK(record_link_parse(in, &r, err, sizeof(err)) == -EBADMSG);
		CHECK(!strncmp(err, "link record: ", 13));
		json_decref(in);
	}
}

/* A bad member leaves the good ones read. */
static void test_partial(void)
{
	json_t *in = json_loads("{\"mtu\":1400,\"x\":1,\"up\":true}", 0, NULL);
	struct record_link r;
	char err[128];

	CHECK(record_link_parse(in, &r, err, sizeof(err)) == -EBADMSG);
	CHECK(!strcmp(err, "link record: unknown member x"));
	CHECK(r.mtu == 1400 && r.up && (r.has & RECORD_HAS_MTU));
	json_decref(in);
}

static void test_equal(void)
{
	json_t *a = json_loads(links[1], 0, NULL);
	json_t *b = json_loads(links[1], 0, NULL);
	struct record_link ra, rb;

	CHECK(record_link_parse(a, &ra, NULL, 0) == 0);
	CHECK(record_link_parse(b, &rb, NULL, 0) == 0);
	CHECK(record_link_equal(&ra, &rb));
	rb.mtu = 1400;
	CHECK(!record_link_equal(&ra, &rb));
	rb.mtu = ra.mtu;
	rb.has &= ~RECORD_HAS_MAC;
	CHECK(!record_link_equal(&ra, &rb));
	rb.has = ra.has;
	rb.veth.peer_name = "vc";
	CHECK(!record_link_equal(&ra, &rb));
	json_decref(a);
	json_decref(b);
}

static void test_empty(void)
{
	json_t *ns = record_empty_format(), *bad = json_pack("{s:i}", "x", 1);
	char *text = dump(ns);

	CHECK(record_empty_parse(ns, NULL, 0) == 0);
	CHECK(text && !strcmp(text, "{}"));
	CHECK(record_empty_parse(bad, NULL, 0) == -EBADMSG);
	free(text);
	json_decref(ns);
	json_decref(bad);
}

/* Namespace and address records: `{}` stays valid (records of before
 * their members), parse then format gives the same JSON, bad members are
 * refused. */
static void test_ns_addr(void)
{
	const char *good_ns[] = { "{}", "{\"marked\":true}" };
	const char *good_addr[] = {
		"{}",
		"{\"nodad\":true}",
		"{\"noprefixroute\":true,\"preferred_lifetime\":200,\"valid_lifetime\":300}",
		"{\"preferred_lifetime\":0}",
	};
	const char *bad_addr[] = {
		"{\"nodad\":1}",
		"{\"valid_lifetime\":-1}",
		"{\"valid_lifetime\":4294967295}",
		"{\"valid_lifetime\":10,\"preferred_lifetime\":20}",
		"{\"x\":true}",
		"[]",
	};
	json_t *empty = json_object();
	struct record_addr a;
	struct record_ns n;
	char *text;

	for (size_t i = 0; i < sizeof(good_ns) / sizeof(*good_ns); i++) {
		json_t *j = json_loads(good_ns[i], 0, NULL), *f;

		CHECK(record_ns_parse(j, &n, NULL, 0) == 0);
		f = record_ns_format(&n);
		text = dump(f);
		CHECK(text && !strcmp(text, good_ns[i]));
		free(text);
		json_decref(f);
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof(good_addr) / sizeof(*good_addr); i++) {
		json_t *j = json_loads(good_addr[i], 0, NULL), *f;

		CHECK(record_addr_parse(j, &a, NULL, 0) == 0);
		f = record_addr_format(&a);
		text = dump(f);
		CHECK(text && !strcmp(text, good_addr[i]));
		free(text);
		json_decref(f);
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof(bad_addr) / sizeof(*bad_addr); i++) {
		json_t *j = json_loads(bad_addr[i], 0, NULL);

		CHECK(record_addr_parse(j, &a, NULL, 0) == -EBADMSG);
		json_decref(j);
	}
	record_addr_parse(empty, &a, NULL, 0);
	json_decref(empty);
	CHECK(a.valid_lft == RECORD_LIFETIME_FOREVER &&
	      a.preferred_lft == RECORD_LIFETIME_FOREVER && !a.nodad);
}

static void test_types(void)
{
	enum record_type t;

	CHECK(record_type_of_key("ns/blue", &t) == 0 && t == RECORD_NS);
	CHECK(record_type_of_key("link/blue/v", &t) == 0 && t == RECORD_LINK);
	CHECK(record_type_of_key("addr/blue/v/198.18.0.1/24", &t) == 0 &&
	      t == RECORD_ADDR);
	CHECK(record_type_of_key("route/blue/254/198.18.8.0/24/0", &t) == 0 &&
	      t == RECORD_ROUTE);
	CHECK(record_type_of_key("sysctl/blue/net.ipv4.ip_forward", &t) == 0 &&
	      t == RECORD_SYSCTL);
	CHECK(record_type_of_key("moving/blue/v", &t) == -EINVAL);
}

/* Sysctl records: a value and, optionally, the value found before;
 * anything else (a number, an unknown member, text that is no value) is
 * refused, so that it never reaches /proc/sys. */
static void test_sysctls(void)
{
	static const char *const good[] = {
		"{\"value\":\"1\"}",
		"{\"original\":\"0\",\"value\":\"1\"}",
	};
	static const char *const bad[] = {
		"{}",
		"[]",
		"{\"value\":1}",
		"{\"value\":\"\"}",
		"{\"value\":\"1/../x\"}",
		"{\"value\":\"123456789\"}",
		"{\"value\":\"1\",\"x\":\"1\"}",
		"{\"value\":\"1\",\"original\":null}",
		"{\"original\":\"0\"}",
	};
	struct record_sysctl r;
	char err[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		json_t *j = json_loads(good[i], 0, NULL), *back;
		char *text;

		CHECK(record_sysctl_parse(j, &r, err, sizeof(err)) == 0);
		back = record_sysctl_format(&r);
		text = json_dumps(back, JSON_SORT_KEYS | JSON_COMPACT);
		CHECK(text && !strcmp(text, good[i]));
		free(text);
		json_decref(back);
		json_decref(j);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);

		err[0] = '\0';
		CHECK(record_sysctl_parse(j, &r, err, sizeof(err)) == -EBADMSG);
		CHECK(!strncmp(err, "sysctl record", 13));
		json_decref(j);
	}
}

/* The markers of changes in flight: handlers/link.c's forms. */
static void test_markers(void)
{
	static const char *const good[] = {
		"{\"ifindex\":7}",
		"{\"namespace\":\"blue\",\"name\":\"v1\",\"ifindex\":7}",
	};
	static const char *const bad[] = {
		"{}",
		"{\"ifindex\":0}",
		"{\"ifindex\":\"7\"}",
		"{\"namespace\":\"blue\",\"ifindex\":7}",
		"{\"ifindex\":7,\"why\":1}",
	};
	struct record_marker m;

	for (size_t i = 0; i < 2; i++) {
		json_t *in = json_loads(good[i], 0, NULL), *out;
		char *a, *b;

		CHECK(record_marker_parse(in, &m, NULL, 0) == 0);
		CHECK(m.ifindex == 7);
		out = record_marker_format(&m);
		a = dump(in);
		b = dump(out);
		CHECK(a && b && !strcmp(a, b));
		free(a);
		free(b);
		json_decref(out);
		json_decref(in);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		json_t *in = json_loads(bad[i], 0, NULL);
		char err[128] = "";

		CHECK(record_marker_parse(in, &m, err, sizeof(err)) ==
		      -EBADMSG);
		CHECK(!strncmp(err, "marker: ", 8));
		json_decref(in);
	}
}

static void words(enum record_drift code, const char *h0, const char *h1,
		  const char *w0, const char *w1, const char *expect)
{
	struct record_drift_item it = {
		code, { h0, h1 }, { w0, w1 }, 1500, 9000
	};
	char buf[256];

	record_drift_words(&it, buf, sizeof(buf));
	CHECK(!strcmp(buf, expect));
	if (strcmp(buf, expect))
		fprintf(stderr, "  got \"%s\"\n", buf);
}

/* The words state/diff.c has always said (tests/integration assert them). */
static void test_words(void)
{
	words(RECORD_DRIFT_MISSING, NULL, NULL, NULL, NULL, "missing");
	words(RECORD_DRIFT_MTU, NULL, NULL, NULL, NULL,
	      "mtu is 1500, desired 9000");
	words(RECORD_DRIFT_MAC, "none", NULL, "02:00:00:00:00:01", NULL,
	      "mac is none, desired 02:00:00:00:00:01");
	words(RECORD_DRIFT_UP, "false", NULL, "true", NULL,
	      "up is false, desired true");
	words(RECORD_DRIFT_MASTER, NULL, NULL, "br0", NULL,
	      "master is none, desired br0");
	words(RECORD_DRIFT_STP, "true", NULL, "false", NULL,
	      "stp is true, desired false");
	words(RECORD_DRIFT_VLAN_FILTERING, "true", NULL, "false", NULL,
	      "vlan_filtering is true, desired false");
	words(RECORD_DRIFT_PEER, NULL, NULL, "blue", "vb",
	      "peer is unknown/unknown, desired blue/vb");
	words(RECORD_DRIFT_PEER, "red", "va", NULL, NULL,
	      "peer is red/va, desired (null)/(null)");
	words(RECORD_DRIFT_IMPOSTOR, NULL, NULL, NULL, NULL,
	      "a link netnsd did not create has taken its name");
	words(RECORD_DRIFT_ADDRESS, NULL, NULL, "198.18.0.1/24", NULL,
	      "address 198.18.0.1/24 is missing");
}

/* Route records: parse then format gives the same JSON (sorted keys);
 * every malformed one is refused with a message. */
static void test_routes(void)
{
	static const char *const good[] = {
		"{\"dst\":\"198.18.8.0/24\",\"metric\":0,\"scope\":\"global\","
		"\"table\":254,\"via\":\"198.18.0.1\"}",
		"{\"dev\":\"eth0\",\"dst\":\"0.0.0.0/0\",\"metric\":4294967295,"
		"\"scope\":\"link\",\"table\":4294967295}",
		"{\"dev\":\"eth0\",\"dst\":\"2001:db8:8::/64\",\"metric\":1024,"
		"\"scope\":\"global\",\"table\":100,\"via\":\"2001:db8::1\"}",
		"{\"dev\":\"lo\",\"dst\":\"::/0\",\"metric\":5,"
		"\"scope\":\"global\",\"table\":1}",
	};
	static const char *const bad[] = {
		"[]",
		"{\"dst\":\"198.18.8.0/24\",\"table\":254,\"metric\":0}",
		"{\"via\":\"198.18.0.1\",\"table\":254,\"metric\":0}",
		"{\"dst\":\"198.18.8.0/24\",\"via\":\"198.18.0.1\"}",
		"{\"dst\":\"198.18.8.0/24\",\"via\":\"198.18.0.1\",\"table\":0}",
		"{\"dst\":\"198.18.8.1/24\",\"via\":\"198.18.0.1\",\"table\":1}",
		"{\"dst\":\"198.18.8.0/24\",\"via\":\"2001:db8::1\",\"table\":1}",
		"{\"dst\":\"198.18.8.0/24\",\"via\":\"banana\",\"table\":1}",
		"{\"dst\":\"198.18.8.0/24\",\"dev\":\"e\",\"table\":1,"
		"\"metric\":-1}",
		"{\"dst\":\"198.18.8.0/24\",\"dev\":\"e\",\"table\":1,"
		"\"metric\":4294967296}",
		"{\"dst\":\"198.18.8.0/24\",\"dev\":\"e\",\"table\":1,"
		"\"scope\":\"galaxy\"}",
		"{\"dst\":\"198.18.8.0/24\",\"dev\":\"e\",\"table\":1,"
		"\"proto\":173}",
		"{\"dst\":\"198.18.8.0/24\",\"dev\":7,\"table\":1}",
	};
	struct record_route r, r2;
	char err[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_t *in = json_loads(good[i], 0, NULL), *out;
		char *text;

		CHECK(in && record_route_parse(in, &r, err, sizeof(err)) == 0);
		out = record_route_format(&r);
		text = out ? json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS)
			   : NULL;
		CHECK(text && !strcmp(text, good[i]));
		if (text && strcmp(text, good[i]))
			fprintf(stderr, "  %s\n  %s\n", good[i], text);
		CHECK(record_route_parse(out, &r2, NULL, 0) == 0 &&
		      record_route_equal(&r, &r2));
		free(text);
		json_decref(out);
		json_decref(in);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *in = json_loads(bad[i], 0, NULL);

		err[0] = '\0';
		CHECK(in &&
		      record_route_parse(in, &r, err, sizeof(err)) ==
			      -EBADMSG &&
		      err[0]);
		json_decref(in);
	}
	/* Another gateway, device, scope: another route. */
	{
		json_t *a = json_loads(good[0], 0, NULL);
		json_t *b =
			json_loads("{\"dst\":\"198.18.8.0/24\",\"metric\":0,"
				   "\"scope\":\"global\",\"table\":254,"
				   "\"via\":\"198.18.0.2\"}",
				   0, NULL);

		CHECK(record_route_parse(a, &r, NULL, 0) == 0 &&
		      record_route_parse(b, &r2, NULL, 0) == 0 &&
		      !record_route_equal(&r, &r2));
		json_decref(a);
		json_decref(b);
	}
}

int main(void)
{
	test_round_trip();
	test_refused();
	test_partial();
	test_equal();
	test_empty();
	test_ns_addr();
	test_types();
	test_sysctls();
	test_markers();
	test_words();
	test_routes();
	return check_report();
}
