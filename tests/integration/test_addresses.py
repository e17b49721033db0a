#!/usr/bin/python3
"""Addresses: IPv4 (198.18.0.0/15) and IPv6 (2001:db8::/32) add, list and
delete; canonical form in answers and Location; 409 duplicates, 404 absent,
400 malformed CIDRs; each checked with `ip -j addr` and GET /v1/state."""

import harness as h
from harness import check, eq, expect_problem, expect_status, test
from topology import (kaddrs, state, snapshot, expect_unchanged, setup, mk_ns,
                      mk_veth)



def A(ns, link, ip=None):
    p = "/v1/namespaces/%s/links/%s/addresses" % (ns, link)
    return p + "/" + ip if ip else p


def with_link(d):
    """red with a veth end eth0 (peer h-red in host), and the daemon."""
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    return d


def state_addrs(d, ns=None, link=None):
    return sorted(a["address"] for a in state(d)["addresses"]
                  if (ns is None or a["namespace"] == ns)
                  and (link is None or a["link"] == link))


def api_addrs(d, ns, link):
    r = expect_status(d.get(A(ns, link)), 200, "GET addresses")
    return {i["address"]: i for i in r.json["items"]}


# ---------------------------------------------------------------------------


@test
def ipv4_add_list_delete():
    d = with_link(setup())
    r = d.post(A("red", "eth0"), {"address": "198.18.0.2/24"})
    expect_status(r, 201, "POST address")
    eq(r.header("Location"),
       "/v1/namespaces/red/links/eth0/addresses/198.18.0.2/24", "Location")
    eq(r.json["address"], "198.18.0.2/24", "answer address")
    eq(r.json.get("family"), "ipv4", "answer family")
    eq(kaddrs("eth0", "red"), ["198.18.0.2/24"], "kernel (ip -j addr)")
    eq(state_addrs(d, "red", "eth0"), ["198.18.0.2/24"], "desired state")
    items = api_addrs(d, "red", "eth0")
    check("198.18.0.2/24" in items, "GET addresses lacks it: %r", items)
    eq(items["198.18.0.2/24"]["family"], "ipv4", "family in the list")
    g = expect_status(d.get("/v1/namespaces/red/links/eth0"), 200).json
    check("198.18.0.2/24" in g["addresses"], "link addresses: %r",
          g["addresses"])
    # The Location names the resource that DELETE removes.
    r = expect_status(d.delete(r.header("Location")), 204, "DELETE address")
    eq(r.body, b"", "204 body")
    eq(kaddrs("eth0", "red"), [], "kernel after DELETE")
    eq(state_addrs(d), [], "desired state after DELETE")
    check("198.18.0.2/24" not in api_addrs(d, "red", "eth0"), "still listed")


@test
def ipv6_add_list_delete_canonical():
    d = with_link(setup())
    r = d.post(A("red", "eth0"), {"address": "2001:0DB8:0000:0000::0001/64"})
    expect_status(r, 201, "POST IPv6 address")
    eq(r.json["address"], "2001:db8::1/64", "canonical form in the answer")
    eq(r.json.get("family"), "ipv6", "family")
    eq(r.header("Location"),
       "/v1/namespaces/red/links/eth0/addresses/2001:db8::1/64", "Location")
    eq(kaddrs("eth0", "red"), ["2001:db8::1/64"], "kernel")
    eq(state_addrs(d), ["2001:db8::1/64"], "desired state, canonical")
    items = api_addrs(d, "red", "eth0")
    eq(items.get("2001:db8::1/64", {}).get("family"), "ipv6", "listed")
    # Duplicates in any spelling.
    before = snapshot(d, ("host", "red"))
    for spelling in ("2001:db8::1/64", "2001:DB8:0:0:0:0:0:1/64"):
        r = d.post(A("red", "eth0"), {"address": spelling})
        expect_problem(r, 409, "duplicate %s" % spelling)
        expect_unchanged(d, before, "duplicate %s" % spelling)
    # A non-canonical spelling in the path finds it.
    expect_status(d.delete(A("red", "eth0", "2001:0db8:0::1/64")), 204,
                  "DELETE with a long spelling")
    eq(kaddrs("eth0", "red"), [], "kernel after DELETE")
    eq(state_addrs(d), [], "desired state after DELETE")


@test
def several_addresses_and_families_on_one_link():
    d = with_link(setup())
    want = ["198.18.0.2/24", "198.19.255.254/15", "2001:db8:1::2/64",
            "2001:db8:ffff::1/128"]
    for a in want:
        expect_status(d.post(A("red", "eth0"), {"address": a}), 201, a)
    eq(kaddrs("eth0", "red"), sorted(want), "kernel")
    eq(state_addrs(d), sorted(want), "desired state")
    eq(sorted(a for a in api_addrs(d, "red", "eth0")
              if not a.startswith("fe80:")), sorted(want), "GET addresses")
    expect_status(d.delete(A("red", "eth0", "198.19.255.254/15")), 204)
    expect_status(d.delete(A("red", "eth0", "2001:db8:ffff::1/128")), 204)
    eq(kaddrs("eth0", "red"), ["198.18.0.2/24", "2001:db8:1::2/64"],
       "kernel after two DELETEs")
    eq(state_addrs(d), ["198.18.0.2/24", "2001:db8:1::2/64"], "desired")


@test
def listed_addresses_added_through_the_api_are_managed():
    d = with_link(setup())
    for a in ("198.18.0.2/24", "2001:db8::2/64"):
        expect_status(d.post(A("red", "eth0"), {"address": a}), 201, a)
    items = api_addrs(d, "red", "eth0")
    for a in ("198.18.0.2/24", "2001:db8::2/64"):
        check(a in items, "GET addresses lacks %s: %r", a, items)
        eq(items[a]["managed"], True, "%s added through the API: managed" % a)
        eq(items[a].get("in_sync"), True, "%s: in_sync" % a)
    # A managed address that went missing is listed as drift.
    h.ip("addr", "del", "198.18.0.2/24", "dev", "eth0", ns="red")
    items = api_addrs(d, "red", "eth0")
    eq((items.get("198.18.0.2/24") or {}).get("in_sync"), False,
       "missing managed address listed with in_sync false")
    eq(items["198.18.0.2/24"].get("drift"), ["missing"], "its drift")


@test
def same_ip_with_two_prefixes_are_two_addresses():
    d = with_link(setup())
    expect_status(d.post(A("red", "eth0"), {"address": "198.18.0.2/24"}), 201)
    expect_status(d.post(A("red", "eth0"), {"address": "198.18.0.2/25"}), 201)
    eq(kaddrs("eth0", "red"), ["198.18.0.2/24", "198.18.0.2/25"], "kernel")
    expect_status(d.delete(A("red", "eth0", "198.18.0.2/25")), 204)
    eq(kaddrs("eth0", "red"), ["198.18.0.2/24"],
       "kernel: DELETE of /25 must remove /25, not /24")
    eq(state_addrs(d), ["198.18.0.2/24"], "desired state")


@test
def duplicate_is_409():
    d = with_link(setup())
    expect_status(d.post(A("red", "eth0"), {"address": "198.18.0.2/24"}), 201)
    before = snapshot(d, ("host", "red"))
    r = d.post(A("red", "eth0"), {"address": "198.18.0.2/24"})
    expect_problem(r, 409, "duplicate")
    expect_unchanged(d, before, "duplicate")


@test
def delete_absent_is_404():
    d = with_link(setup())
    expect_status(d.post(A("red", "eth0"), {"address": "198.18.0.2/24"}), 201)
    before = snapshot(d, ("host", "red"))
    for path in (A("red", "eth0", "198.18.0.9/24"),
                 A("red", "eth0", "198.18.0.2/23"),
                 A("red", "eth0", "2001:db8::9/64"),
                 A("red", "h-red", "198.18.0.2/24"),
                 A("host", "h-red", "198.18.0.2/24"),
                 A("red", "nosuch", "198.18.0.2/24"),
                 A("nosuchns", "eth0", "198.18.0.2/24")):
        expect_problem(d.delete(path), 404, "DELETE " + path)
        expect_unchanged(d, before, "DELETE " + path)


@test
def bad_cidr_forms_are_400():
    d = with_link(setup())
    expect_status(d.post(A("red", "eth0"), {"address": "198.18.0.2/24"}), 201)
    before = snapshot(d, ("host", "red"))
    for a in ("198.18.0.3", "198.18.0.3/33", "2001:db8::3/129",
              "2001:db8::3", "garbage", "garbage/24", "198.18.0.3/024",
              "198.18.0.3/", "/24", "198.18.0.3/-1", "198.18.0.3/+24",
              "198.18.0.3/ 24", "198.18.0.3/24 ", " 198.18.0.3/24",
              "198.18.0.3/2x", "198.18.0.3/24/24", "198.18.0.256/24",
              "198.18.0/24", "198.018.0.3/24", "2001:db8:::3/64",
              "2001:db8::3/064", "", "198.18.0.3/1e1",
              "198.18.0.3/99999999999999999999"):
        what = "POST address %r" % a
        expect_problem(d.post(A("red", "eth0"), {"address": a}), 400, what,
                       field="address")
        expect_unchanged(d, before, what)
    for body in ({"address": 24}, {"address": None}, {},
                 {"address": "198.18.0.3/24", "bogus": 1}, "[]", "{"):
        what = "POST %r" % (body,)
        expect_problem(d.post(A("red", "eth0"), body), 400, what)
        expect_unchanged(d, before, what)
    for ip, plen in (("198.18.0.2", "33"), ("198.18.0.2", "024"),
                     ("garbage", "24"), ("2001:db8::1", "129"),
                     ("198.18.0.2", "x")):
        path = A("red", "eth0", "%s/%s" % (ip, plen))
        expect_problem(d.delete(path), 400, "DELETE " + path)
        expect_unchanged(d, before, "DELETE " + path)


@test
def unknown_link_or_namespace_is_404():
    d = with_link(setup())
    before = snapshot(d, ("host", "red"))
    for path in (A("red", "nosuch"), A("nosuchns", "eth0"),
                 A("host", "eth0")):
        expect_problem(d.post(path, {"address": "198.18.0.2/24"}), 404,
                       "POST " + path)
        expect_problem(d.get(path), 404, "GET " + path)
        expect_unchanged(d, before, "POST " + path)


@test
def addresses_on_host_links():
    d = setup()
    mk_veth(d, "host", "va", "vb")
    expect_status(d.post(A("host", "va"), {"address": "198.18.1.1/24"}), 201)
    eq(kaddrs("va"), ["198.18.1.1/24"], "kernel")
    # An interface netnsd did not make: protected unless forced.
    h.ip("link", "add", "ua", "type", "veth", "peer", "name", "ub")
    before = snapshot(d)
    expect_problem(d.post(A("host", "ua"), {"address": "198.18.2.1/24"}), 409,
                   "address on an unmanaged host link")
    expect_unchanged(d, before, "address on an unmanaged host link")
    expect_status(d.post(A("host", "ua") + "?force=true",
                         {"address": "198.18.2.1/24"}), 201, "forced")
    eq(kaddrs("ua"), ["198.18.2.1/24"], "kernel after forced POST")
    h.ip("addr", "add", "198.18.3.1/24", "dev", "ub")
    before = snapshot(d)
    expect_problem(d.delete(A("host", "ub", "198.18.3.1/24")), 409,
                   "DELETE address of an unmanaged host link")
    expect_unchanged(d, before, "DELETE on an unmanaged host link")
    expect_status(d.delete(A("host", "ub", "198.18.3.1/24") + "?force=true"),
                  204, "forced DELETE")
    eq(kaddrs("ub"), [], "kernel after forced DELETE")


@test
def addresses_made_by_ip_are_listed_unmanaged_and_deletable():
    d = with_link(setup())
    h.ip("addr", "add", "198.18.5.5/24", "dev", "eth0", ns="red")
    items = api_addrs(d, "red", "eth0")
    check("198.18.5.5/24" in items, "ip-made address not listed: %r", items)
    eq(items["198.18.5.5/24"]["managed"], False, "ip-made is unmanaged")
    check("in_sync" not in items["198.18.5.5/24"] or
          items["198.18.5.5/24"]["in_sync"] is True, "in_sync of unmanaged")
    expect_status(d.delete(A("red", "eth0", "198.18.5.5/24")), 204)
    eq(kaddrs("eth0", "red"), [], "kernel after DELETE")


if __name__ == "__main__":
    h.run_tests()
