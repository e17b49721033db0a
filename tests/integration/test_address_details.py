#!/usr/bin/python3
"""Address details: the options an address is made with, and what the
kernel says of it.

POST of an address takes `nodad` and `noprefixroute` and the valid and
preferred lifetimes (seconds; left out: forever; preferred no longer than
valid); `ip -j addr` shows them as asked. Each address in an answer says
what the kernel says of it: its flags, the lifetimes left ("forever" or
seconds) and a `state`: `tentative` while IPv6 duplicate address detection
runs (a fresh IPv6 address for about a second or two: it cannot be used
yet, though `in_sync` is already true, since in_sync is about the desired
configuration), `dadfailed` when another node holds it, `deprecated`, or
`usable`. `nodad` makes an IPv6 address usable at once. The options are
desired state (GET /v1/state shows them) and come back with the address
at start-up. Bad options answer 400 naming the field and change
nothing."""

import harness as h
from harness import check, eq, expect_problem, expect_status, test
from topology import (snapshot, expect_unchanged, state, setup, mk_ns, mk_veth,
                      L)


def kaddr(ns, link, address):
    """The `ip -j addr` entry of "ip/len" on ns/link, or None."""
    ip_, plen = address.split("/")
    for l in h.ip_json("addr", "show", "dev", link, ns=ns):
        for a in l.get("addr_info", []):
            if a.get("local") == ip_ and a.get("prefixlen") == int(plen):
                return a
    return None


def pair(d):
    """red with a veth pair va <-> vb, both up: DAD runs on it."""
    mk_ns(d, "red")
    mk_veth(d, "red", "va", "vb", up=True)
    h.ip("link", "set", "vb", "up", ns="red")
    h.wait_until(lambda: all(
        "LOWER_UP" in l["flags"]
        for l in h.ip_json("link", "show", ns="red") if l["ifname"] != "lo"),
        what="carrier on va and vb")


def post(d, body, status=201):
    r = d.post(L("red", "va") + "/addresses", body)
    expect_status(r, status, "POST %r" % body)
    return r


def api_addr(d, address):
    r = expect_status(d.get(L("red", "va") + "/addresses/" + address), 200,
                      "GET " + address)
    return r.json


@test
def fresh_ipv6_address_is_tentative_then_usable():
    d = setup()
    pair(d)
    a = "2001:db8:9::1/64"
    r = post(d, {"address": a})
    eq(r.json["in_sync"], True, "in_sync is about the desired config")
    eq(r.json["state"], "tentative", "a fresh IPv6 address")
    check(kaddr("red", "va", a).get("tentative"), "ip -j: tentative %r",
          kaddr("red", "va", a))
    eq(api_addr(d, a)["state"], "tentative", "GET while DAD runs")
    h.wait_until(lambda: not kaddr("red", "va", a).get("tentative"),
                 what="DAD to finish")
    eq(api_addr(d, a)["state"], "usable", "GET after DAD")
    listed = {x["address"]: x for x in
              d.get(L("red", "va") + "/addresses").json["items"]}
    eq(listed[a]["state"], "usable", "listed after DAD")
    eq((listed[a]["valid_lifetime"], listed[a]["preferred_lifetime"]),
       ("forever", "forever"), "default lifetimes")
    eq(kaddr("red", "va", a)["valid_life_time"], 4294967295, "ip -j valid")


@test
def nodad_is_usable_at_once():
    d = setup()
    pair(d)
    a = "2001:db8:9::2/64"
    r = post(d, {"address": a, "nodad": True})
    eq((r.json["state"], r.json["nodad"]), ("usable", True), "answer")
    k = kaddr("red", "va", a)
    check(k.get("nodad") and not k.get("tentative"),
          "ip -j: nodad, not tentative: %r", k)


@test
def duplicate_address_is_dadfailed():
    d = setup()
    pair(d)
    a = "2001:db8:9::3/64"
    h.ip("addr", "add", a, "dev", "vb", "nodad", ns="red")
    post(d, {"address": a})
    h.wait_until(lambda: kaddr("red", "va", a).get("dadfailed"),
                 what="DAD to fail")
    g = api_addr(d, a)
    eq((g["state"], g["in_sync"]), ("dadfailed", True), "GET after DAD")


@test
def noprefixroute_and_lifetimes():
    d = setup()
    pair(d)
    post(d, {"address": "198.18.9.1/24", "noprefixroute": True,
             "valid_lifetime": 300, "preferred_lifetime": 200})
    k = kaddr("red", "va", "198.18.9.1/24")
    check(k.get("noprefixroute"), "ip -j: noprefixroute %r", k)
    check(290 <= k["valid_life_time"] <= 300 and
          190 <= k["preferred_life_time"] <= 200, "ip -j lifetimes %r", k)
    routes = [r.get("dst") for r in h.ip_json("route", "show", ns="red")]
    check("198.18.9.0/24" not in routes, "a prefix route: %r", routes)
    g = api_addr(d, "198.18.9.1/24")
    check(g["noprefixroute"] and not g["nodad"], "flags %r", g)
    check(290 <= g["valid_lifetime"] <= 300 and
          190 <= g["preferred_lifetime"] <= 200, "API lifetimes %r", g)
    # Only valid: preferred as long.
    post(d, {"address": "2001:db8:9::4/64", "nodad": True,
             "valid_lifetime": 100})
    k = kaddr("red", "va", "2001:db8:9::4/64")
    check(90 <= k["preferred_life_time"] <= 100, "preferred %r", k)
    # Preferred 0: deprecated from the start.
    post(d, {"address": "2001:db8:9::5/64", "nodad": True,
             "preferred_lifetime": 0})
    eq(api_addr(d, "2001:db8:9::5/64")["state"], "deprecated", "pref 0")
    want = {
        "198.18.9.1/24": {"noprefixroute": True, "valid_lifetime": 300,
                          "preferred_lifetime": 200},
        "2001:db8:9::4/64": {"nodad": True, "valid_lifetime": 100,
                             "preferred_lifetime": 100},
        "2001:db8:9::5/64": {"nodad": True, "preferred_lifetime": 0},
    }
    got = {a["address"]: {k: v for k, v in a.items()
                          if k not in ("namespace", "link", "address")}
           for a in state(d)["addresses"]}
    eq(got, want, "desired state")
    # Back at start-up, as asked, after the kernel lost them.
    d.stop()
    for a in want:
        h.ip("addr", "del", a, "dev", "va", ns="red")
    d.start()
    k = kaddr("red", "va", "198.18.9.1/24")
    check(k and k.get("noprefixroute") and 290 <= k["valid_life_time"] <= 300,
          "re-added with its options: %r", k)
    k = kaddr("red", "va", "2001:db8:9::4/64")
    check(k and k.get("nodad") and not k.get("tentative"),
          "re-added with nodad: %r", k)


@test
def bad_options_change_nothing():
    d = setup()
    pair(d)
    before = snapshot(d, ("red",))
    for body, field in (
            ({"address": "198.18.9.1/24", "nodad": True}, "nodad"),
            ({"address": "2001:db8:9::1/64", "valid_lifetime": 10,
              "preferred_lifetime": 20}, "preferred_lifetime"),
            ({"address": "2001:db8:9::1/64", "valid_lifetime": 0},
             "valid_lifetime"),
            ({"address": "2001:db8:9::1/64", "valid_lifetime": -5},
             "valid_lifetime"),
            ({"address": "2001:db8:9::1/64", "valid_lifetime": 4294967295},
             "valid_lifetime"),
            ({"address": "2001:db8:9::1/64", "preferred_lifetime": -1},
             "preferred_lifetime"),
            ({"address": "2001:db8:9::1/64", "valid_lifetime": "forever"},
             "valid_lifetime"),
            ({"address": "2001:db8:9::1/64", "nodad": "yes"}, "nodad")):
        expect_problem(d.post(L("red", "va") + "/addresses", body), 400,
                       "POST %r" % body, field=field)
    expect_unchanged(d, before, "the refused POSTs")


if __name__ == "__main__":
    h.run_tests()
