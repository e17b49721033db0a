#!/usr/bin/python3
"""Addresses: IPv4 (198.18.0.0/15) and IPv6 (2001:db8::/32) add, list and
delete; canonical form in answers and Location; 409 duplicates, 404 absent,
400 malformed CIDRs; each checked with `ip -j addr` and GET /v1/state."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check, eq, expect_problem, expect_status, test  # noqa: E402

# ---------------------------------------------------------------------------
# Local helpers (kept in this file: harness.py is shared and not ours)

LINK_FIELDS = ("name", "namespace", "ifindex", "kind", "mtu", "mac", "up",
               "oper_state", "master", "peer", "addresses", "managed")


def K(ns):
    """The `ip -n` argument for an API namespace name."""
    return None if ns == "host" else ns


def klinks(ns="host"):
    """{name: `ip -j -d link` object} of a namespace."""
    return {l["ifname"]: l for l in h.ip_json("-d", "link", "show", ns=K(ns))}


def klink(name, ns="host"):
    return klinks(ns).get(name)


def kkind(l):
    return (l.get("linkinfo") or {}).get("info_kind")


def kup(l):
    return "UP" in l["flags"]


def kaddrs(name, ns="host"):
    """Global addresses of a link, as sorted "ip/prefixlen" strings."""
    out = []
    for l in h.ip_json("addr", "show", "dev", name, ns=K(ns)):
        for a in l.get("addr_info", []):
            if a.get("scope") != "link":
                out.append("%s/%d" % (a["local"], a["prefixlen"]))
    return sorted(out)


def kview(ns="host"):
    """What a failed request must not change in a namespace: per link its
    name, kind, mtu, MAC, admin state, master, alias and global addresses."""
    view = {}
    for l in h.ip_json("-d", "link", "show", ns=K(ns)):
        view[l["ifname"]] = (kkind(l), l["mtu"], l.get("address"), kup(l),
                             l.get("master"), l.get("ifalias"))
    for l in h.ip_json("addr", "show", ns=K(ns)):
        view[l["ifname"]] += (tuple(sorted(
            "%s/%d" % (a["local"], a["prefixlen"])
            for a in l.get("addr_info", []) if a.get("scope") != "link")),)
    return view


def kpeer(l, ns="host"):
    """(namespace, name) of a veth's peer as the kernel tells it, or None."""
    if kkind(l) != "veth":
        return None
    if "link_netnsid" not in l:
        return (ns, l["link"]) if "link" in l else None
    ids = h.ip_json("netns", "list-id", ns=K(ns))
    pns = next((e.get("name") for e in ids
                if e.get("nsid") == l["link_netnsid"]), None) or "host"
    for x in klinks(pns).values():
        if x["ifindex"] == l.get("link_index"):
            return (pns, x["ifname"])
    return None


def state(d):
    r = d.get("/v1/state")
    expect_status(r, 200, "GET /v1/state")
    return r.json


def snapshot(d, namespaces=("host",)):
    return ({ns: kview(ns) for ns in namespaces}, state(d))


def expect_unchanged(d, before, what):
    namespaces = tuple(before[0])
    now = snapshot(d, namespaces)
    for ns in namespaces:
        if now[0][ns] != before[0][ns]:
            raise h.Failure("%s changed the kernel in %s:\nbefore %r\nafter  %r"
                            % (what, ns, before[0][ns], now[0][ns]))
    if now[1] != before[1]:
        raise h.Failure("%s changed the desired state:\nbefore %r\nafter  %r"
                        % (what, before[1], now[1]))


def state_link(st, ns, name):
    for l in st["links"]:
        if l["namespace"] == ns and l["name"] == name:
            return l
    return None


def clean_host_links():
    for name in klinks("host"):
        if name != "lo":
            h.ip("link", "del", name, check=False)


def setup():
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    return d


def mk_ns(d, name):
    expect_status(d.put("/v1/namespaces/" + name, {}), 201, "PUT namespace")


def mk_veth(d, ns, name, peer, peer_ns=None, **kw):
    body = dict(name=name, peer={"name": peer})
    if peer_ns:
        body["peer"]["namespace"] = peer_ns
    body.update(kw)
    r = d.post("/v1/namespaces/%s/veths" % ns, body)
    expect_status(r, 201, "POST veth %s/%s" % (ns, name))
    return r.json


def mk_bridge(d, ns, name, **kw):
    body = dict(name=name)
    body.update(kw)
    r = d.post("/v1/namespaces/%s/bridges" % ns, body)
    expect_status(r, 201, "POST bridge %s/%s" % (ns, name))
    return r.json


def L(ns, name=None):
    p = "/v1/namespaces/%s/links" % ns
    return p + "/" + name if name else p



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
