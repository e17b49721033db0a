#!/usr/bin/python3
"""GET /v1/links: every namespace's links in one answer.
Each item is what GET of the link shows, the namespaces' links are those
`ip -j link` lists in each; the filters ?namespace= (repeatable), ?kind=,
?managed= and ?in_sync= select what they say, drift made with `ip` behind
netnsd's back included; the answer has an ETag that changes with the
topology; bad filters are 400 naming `query.NAME` and change nothing."""

import harness as h
from harness import check, eq, expect_problem, expect_status, test
from topology import (L, P, klinks, mk_bridge, mk_ns, mk_veth, setup, snapshot,
                      expect_unchanged)

ALL = "/v1/links"


def topology(d):
    """a: va (peer b/vb) on bridge br0 with an address; b: vb; c: empty."""
    for ns in ("a", "b", "c"):
        mk_ns(d, ns)
    mk_veth(d, "a", "va", "vb", "b")
    mk_bridge(d, "a", "br0")
    expect_status(d.put(P("a", "br0", "va")), 201, "attach va to br0")
    expect_status(d.post(L("a", "va") + "/addresses",
                         {"address": "198.18.17.1/24"}), 201, "address")


def names(items):
    return sorted((i["namespace"], i["name"]) for i in items)


def get_items(d, query=""):
    r = expect_status(d.get(ALL + query), 200, "GET /v1/links" + query)
    return r.json["items"]


@test
def every_namespace_and_each_item_as_its_get():
    d = setup()
    topology(d)
    items = get_items(d)
    want = sorted((ns, n) for ns in ("a", "b", "c") for n in klinks(ns))
    eq(names(items), want, "links of every namespace vs ip -j link")
    check(not any(i["namespace"] == "host" for i in items),
          "host is listed only when asked for: %r" % names(items))
    for i in items:
        one = expect_status(d.get(L(i["namespace"], i["name"])), 200,
                            "GET of %s/%s" % (i["namespace"], i["name"]))
        eq(i, one.json, "item %s/%s vs its GET" % (i["namespace"], i["name"]))
    # The same order each time: namespaces by name.
    eq([i["namespace"] for i in items],
       sorted(i["namespace"] for i in items), "namespaces in name order")
    va = next(i for i in items if i["name"] == "va")
    eq(va["master"], "br0", "va's bridge")
    eq(va["peer"], {"namespace": "b", "name": "vb"}, "va's peer")
    eq(va["addresses"], ["198.18.17.1/24"], "va's address")


@test
def filters_select_what_they_say():
    d = setup()
    topology(d)
    eq(names(get_items(d, "?namespace=b")), [("b", "lo"), ("b", "vb")],
       "?namespace=b")
    eq(names(get_items(d, "?namespace=b&namespace=c")),
       [("b", "lo"), ("b", "vb"), ("c", "lo")], "?namespace= repeated")
    eq(get_items(d, "?namespace=nosuch"), [], "a namespace that is not")
    eq(names(get_items(d, "?namespace=host")),
       sorted(("host", n) for n in klinks("host")), "?namespace=host")
    eq(names(get_items(d, "?kind=veth")), [("a", "va"), ("b", "vb")],
       "?kind=veth")
    eq(names(get_items(d, "?kind=bridge&namespace=a")), [("a", "br0")],
       "?kind=bridge&namespace=a")
    eq(names(get_items(d, "?managed=true")),
       [("a", "br0"), ("a", "va"), ("b", "vb")], "?managed=true")
    eq(names(get_items(d, "?managed=false")),
       [("a", "lo"), ("b", "lo"), ("c", "lo")], "?managed=false")
    eq(get_items(d, "?in_sync=false"), [], "nothing drifted yet")
    eq(names(get_items(d, "?in_sync=true")),
       [("a", "br0"), ("a", "va"), ("b", "vb")], "?in_sync=true")


@test
def drift_made_with_ip_is_found():
    d = setup()
    topology(d)
    h.ip("link", "set", "va", "mtu", "1400", ns="a")
    drifted = get_items(d, "?in_sync=false")
    eq(names(drifted), [("a", "va")], "?in_sync=false after ip link set mtu")
    check(any("mtu" in x for x in drifted[0]["drift"]),
          "drift names the mtu: %r" % drifted[0])
    # A veth deleted behind netnsd's back: both ends desired, both missing.
    h.ip("link", "del", "vb", ns="b")
    drifted = get_items(d, "?in_sync=false&kind=veth")
    eq(names(drifted), [("a", "va"), ("b", "vb")], "missing ends")
    for i in drifted:
        eq(i["drift"], ["missing"], "drift of %s" % i["name"])


@test
def etag_304_and_a_new_one_after_a_change():
    d = setup()
    topology(d)
    r = expect_status(d.get(ALL), 200, "GET")
    tag = r.header("ETag")
    check(tag and tag.startswith('"'), "a strong ETag: %r" % tag)
    expect_status(d.get(ALL, headers={"If-None-Match": tag}), 304,
                  "unchanged topology")
    h.ip("link", "set", "vb", "mtu", "1400", ns="b")
    r = expect_status(d.get(ALL, headers={"If-None-Match": tag}), 200,
                      "after ip link set mtu")
    check(r.header("ETag") != tag, "the ETag changed")
    eq(r.header("ETag"), d.get(ALL).header("ETag"), "stable ETag")


@test
def bad_filters_are_400_and_change_nothing():
    d = setup()
    topology(d)
    before = snapshot(d, ("a", "b"))
    for query, field in [("?managed=1", "query.managed"),
                         ("?in_sync=yes", "query.in_sync"),
                         ("?in_sync=true&in_sync=false", "query.in_sync"),
                         ("?managed", "query.managed"),
                         ("?namespace=..", "query.namespace"),
                         ("?namespace=a%2Fb", "query.namespace"),
                         ("?namespace=", "query.namespace"),
                         ("?kind=Veth", "query.kind"),
                         ("?kind=veth&kind=bridge", "query.kind"),
                         ("?kind=" + "x" * 17, "query.kind"),
                         ("?force=true", "query.force"),
                         ("?namespaces=a", "query.namespaces")]:
        p = expect_problem(d.get(ALL + query), 400, query, field=field)
        eq(p["type"], "urn:netnsd:problem:invalid-value", query)
    many = "&".join("namespace=n%d" % i for i in range(17))
    expect_problem(d.get(ALL + "?" + many), 400, "17 namespaces",
                   field="query.namespace")
    eq(len(get_items(d, "?" + many.rsplit("&", 1)[0])), 0, "16 are fine")
    expect_unchanged(d, before, "refused GET /v1/links")


if __name__ == "__main__":
    h.run_tests()
