#!/usr/bin/python3
"""Drift: change things behind netnsd's back with `ip` (mtu, down,
nomaster, bridge settings, a deleted address, veth, bridge, namespace),
see in_sync false and the drift in plain words, POST /v1/reconcile, and
find the kernel as desired again. Namespace deletion forgets what was
inside."""

import re

import harness as h
from harness import check, eq, expect_status, test
from topology import (klinks, klink, kkind, kup, kaddrs, kpeer, state, setup,
                      mk_ns, mk_veth, mk_bridge, L)



def get_link(d, ns, name):
    return expect_status(d.get(L(ns, name)), 200, "GET %s/%s" % (ns, name)).json


def expect_drift(d, ns, name, words, path=None):
    """GET shows in_sync false and every one of `words` in drift."""
    o = expect_status(d.get(path or L(ns, name)), 200,
                      "GET %s/%s" % (ns, name)).json
    eq(o.get("in_sync"), False, "%s/%s in_sync (drift %r)"
       % (ns, name, o.get("drift")))
    drift = o.get("drift") or []
    for w in words:
        check(w in drift, "%s/%s drift should say %r: %r", ns, name, w, drift)
    return o


def expect_in_sync(d, ns, name, path=None):
    o = expect_status(d.get(path or L(ns, name)), 200,
                      "GET %s/%s" % (ns, name)).json
    eq(o.get("in_sync"), True, "%s/%s in_sync (drift %r)"
       % (ns, name, o.get("drift")))
    check("drift" not in o or o["drift"] in ([], None),
          "%s/%s drift after repair: %r", ns, name, o.get("drift"))
    return o


def reconcile(d):
    r = expect_status(d.post("/v1/reconcile"), 200, "POST /v1/reconcile")
    check(isinstance(r.json.get("actions"), list), "actions: %r", r.json)
    check(isinstance(r.json.get("failures"), list), "failures: %r", r.json)
    return r.json


def topology(d):
    """red wired to br0 in host: br0 (mtu 1400, up), h-red <-> red/eth0
    (both up, mtu 1400), h-red a port of br0, 198.18.0.2/24 on eth0."""
    mk_ns(d, "red")
    mk_bridge(d, "host", "br0", mtu=1400, up=True)
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red", up=True, mtu=1400)
    expect_status(d.patch(L("red", "eth0"), {"mtu": 1400, "up": True}), 200)
    expect_status(d.put("/v1/namespaces/host/bridges/br0/ports/h-red"),
                  (200, 201))
    expect_status(d.post(L("red", "eth0") + "/addresses",
                         {"address": "198.18.0.2/24"}), 201)


# ---------------------------------------------------------------------------


@test
def mtu_changed_behind_our_back():
    d = setup()
    topology(d)
    expect_in_sync(d, "red", "eth0")
    st = state(d)
    h.ip("link", "set", "eth0", "mtu", "1280", ns="red")
    expect_drift(d, "red", "eth0", ["mtu is 1280, desired 1400"])
    eq(state(d), st, "GET /v1/state is the desired state, not the kernel's")
    rep = reconcile(d)
    check(any("mtu" in a for a in rep["actions"]), "actions: %r", rep)
    eq(rep["failures"], [], "failures")
    eq(klink("eth0", "red")["mtu"], 1400, "kernel mtu after reconcile")
    expect_in_sync(d, "red", "eth0")
    eq(reconcile(d)["actions"], [], "a second reconcile has nothing to do")


@test
def link_set_down_behind_our_back():
    d = setup()
    topology(d)
    h.ip("link", "set", "h-red", "down")
    expect_drift(d, "host", "h-red", ["up is false, desired true"])
    # The veths view says the same.
    expect_drift(d, "host", "h-red", ["up is false, desired true"],
                 path="/v1/namespaces/host/veths/h-red")
    rep = reconcile(d)
    check(rep["actions"], "no actions: %r", rep)
    eq(kup(klink("h-red")), True, "kernel admin state after reconcile")
    expect_in_sync(d, "host", "h-red")


@test
def port_detached_behind_our_back():
    d = setup()
    topology(d)
    h.ip("link", "set", "h-red", "nomaster")
    expect_drift(d, "host", "h-red", ["master is none, desired br0"])
    rep = reconcile(d)
    check(any("master" in a for a in rep["actions"]), "actions: %r", rep)
    eq(klink("h-red").get("master"), "br0", "kernel master after reconcile")
    expect_in_sync(d, "host", "h-red")
    g = expect_status(d.get("/v1/namespaces/host/bridges/br0"), 200).json
    eq(g["ports"], ["h-red"], "bridge ports after reconcile")


@test
def bridge_settings_changed_behind_our_back():
    d = setup()
    mk_bridge(d, "host", "br0", stp=True, mtu=1400, up=True)
    h.ip("link", "set", "br0", "type", "bridge", "stp_state", "0")
    h.ip("link", "set", "br0", "mtu", "1300")
    o = expect_drift(d, "host", "br0", ["mtu is 1300, desired 1400"],
                     path="/v1/namespaces/host/bridges/br0")
    check(any(w.startswith("stp is false") for w in o["drift"]),
          "stp drift: %r", o["drift"])
    reconcile(d)
    k = klink("br0")
    eq((k["mtu"], k["linkinfo"]["info_data"]["stp_state"] != 0),
       (1400, True), "kernel after reconcile")
    expect_in_sync(d, "host", "br0", path="/v1/namespaces/host/bridges/br0")


@test
def address_deleted_behind_our_back():
    d = setup()
    topology(d)
    h.ip("addr", "del", "198.18.0.2/24", "dev", "eth0", ns="red")
    expect_drift(d, "red", "eth0", ["address 198.18.0.2/24 is missing"])
    rep = reconcile(d)
    check(any("198.18.0.2/24" in a for a in rep["actions"]),
          "actions: %r", rep)
    eq(kaddrs("eth0", "red"), ["198.18.0.2/24"], "kernel after reconcile")
    expect_in_sync(d, "red", "eth0")


@test
def veth_deleted_behind_our_back():
    d = setup()
    topology(d)
    before = {n: klink(n) for n in ("h-red",)}
    before_red = klink("eth0", "red")
    h.ip("link", "del", "h-red")
    h.wait_until(lambda: "eth0" not in klinks("red"), what="red/eth0 to go")
    o = expect_drift(d, "host", "h-red", ["missing"],
                     path="/v1/namespaces/host/veths/h-red")
    eq(o["ifindex"], None, "ifindex of a missing link")
    listed = {i["name"]: i for i in
              expect_status(d.get("/v1/namespaces/host/veths"), 200)
              .json["items"]}
    check("h-red" in listed and listed["h-red"].get("in_sync") is False,
          "the missing veth is listed as drift: %r", listed)
    expect_drift(d, "red", "eth0", ["missing"])
    rep = reconcile(d)
    eq(rep["failures"], [], "failures")
    a, b = klink("h-red"), klink("eth0", "red")
    check(a is not None and b is not None, "both ends back: %r %r", a, b)
    eq(kpeer(a), ("red", "eth0"), "kernel peer of h-red")
    for name, k, old in (("h-red", a, before["h-red"]),
                         ("eth0", b, before_red)):
        eq((k["mtu"], k["address"], kup(k)),
           (old["mtu"], old["address"], kup(old)), "kernel %s" % name)
        eq(k.get("ifalias"), "netnsd", "alias of re-created " + name)
    eq(a.get("master"), "br0", "re-created h-red is a port again")
    eq(kaddrs("eth0", "red"), ["198.18.0.2/24"], "address back")
    expect_in_sync(d, "host", "h-red")
    expect_in_sync(d, "red", "eth0")


@test
def bridge_with_ports_deleted_behind_our_back():
    d = setup()
    topology(d)
    mac = klink("br0")["address"]
    h.ip("link", "del", "br0")
    expect_drift(d, "host", "br0", ["missing"],
                 path="/v1/namespaces/host/bridges/br0")
    expect_drift(d, "host", "h-red", ["master is none, desired br0"])
    rep = reconcile(d)
    eq(rep["failures"], [], "failures")
    k = klink("br0")
    check(k is not None, "br0 not re-created: %r", rep)
    eq((kkind(k), k["address"], k["mtu"], kup(k)), ("bridge", mac, 1400, True),
       "re-created bridge: kind, same MAC, mtu, up")
    eq(k.get("ifalias"), "netnsd", "alias of the re-created bridge")
    eq(klink("h-red").get("master"), "br0", "port attached again")
    expect_in_sync(d, "host", "br0", path="/v1/namespaces/host/bridges/br0")
    expect_in_sync(d, "host", "h-red")


@test
def everything_at_once_then_one_reconcile():
    d = setup()
    topology(d)
    h.ip("link", "set", "eth0", "mtu", "1280", ns="red")
    h.ip("link", "set", "h-red", "nomaster")
    h.ip("link", "set", "h-red", "down")
    h.ip("addr", "del", "198.18.0.2/24", "dev", "eth0", ns="red")
    h.ip("link", "set", "br0", "mtu", "1300")
    expect_drift(d, "red", "eth0", ["mtu is 1280, desired 1400",
                                    "address 198.18.0.2/24 is missing"])
    expect_drift(d, "host", "h-red", ["master is none, desired br0",
                                      "up is false, desired true"])
    rep = reconcile(d)
    eq(rep["failures"], [], "failures")
    check(len(rep["actions"]) >= 5, "one action per repair: %r", rep)
    eq(klink("eth0", "red")["mtu"], 1400, "eth0 mtu")
    eq(kaddrs("eth0", "red"), ["198.18.0.2/24"], "eth0 address")
    a = klink("h-red")
    eq((a.get("master"), kup(a)), ("br0", True), "h-red master and up")
    eq(klink("br0")["mtu"], 1400, "br0 mtu")
    for ns, n in (("red", "eth0"), ("host", "h-red"), ("host", "br0")):
        expect_in_sync(d, ns, n)
    eq(reconcile(d)["actions"], [], "nothing left to do")


@test
def namespace_delete_forgets_everything_inside():
    d = setup()
    topology(d)
    mk_ns(d, "blue")
    mk_veth(d, "blue", "b0", "b1", mtu=1300)
    expect_status(d.post(L("blue", "b0") + "/addresses",
                         {"address": "198.18.7.1/24"}), 201)
    expect_status(d.delete("/v1/namespaces/red"), 204, "DELETE namespace")
    h.wait_until(lambda: "h-red" not in klinks(), what="h-red to go with red")
    st = state(d)
    eq([n["name"] for n in st["namespaces"]], ["blue"], "namespaces")
    eq(sorted((l["namespace"], l["name"]) for l in st["links"]),
       [("blue", "b0"), ("blue", "b1"), ("host", "br0")],
       "links left in the desired state (the host end of red's veth goes too)")
    eq([(a["namespace"], a["address"]) for a in st["addresses"]],
       [("blue", "198.18.7.1/24")], "addresses left")
    listed = [i["name"] for i in
              expect_status(d.get(L("host")), 200).json["items"]]
    check("h-red" not in listed, "h-red still listed (as drift?): %r", listed)
    rep = reconcile(d)
    check(not any(re.search(r"\bred/|namespace red\b", a)
                  for a in rep["actions"]),
          "reconcile brought red back: %r", rep)
    check("red" not in h.netns_list(), "namespace red exists again")
    check("h-red" not in klinks(), "h-red exists again")
    eq(klink("b0", "blue")["mtu"], 1300, "blue untouched")
    expect_in_sync(d, "host", "br0")


@test
def peer_namespace_deleted_behind_our_back():
    d = setup()
    topology(d)
    h.netns_del("red")
    # Right away, while the kernel may still be tearing it down: no crash.
    for path in (L("host"), "/v1/namespaces/host/veths",
                 "/v1/namespaces/host/veths/h-red", "/v1/namespaces",
                 "/v1/state", "/v1/namespaces/host/bridges/br0"):
        expect_status(d.get(path), 200, "GET " + path)
    expect_status(d.get("/v1/namespaces/red"), (200, 404), "GET red")
    h.wait_until(lambda: "h-red" not in klinks(), what="h-red to go with red")
    o = expect_drift(d, "host", "h-red", ["missing"],
                     path="/v1/namespaces/host/veths/h-red")
    eq(o["peer"], {"namespace": "red", "name": "eth0"}, "desired peer shown")
    r = d.get("/v1/namespaces/red")
    expect_status(r, (200, 404), "GET red after deletion")
    if r.status == 200:
        eq(r.json.get("in_sync"), False, "red in_sync")
    check(d.running(), "netnsd died")
    rep = reconcile(d)
    eq(rep["failures"], [], "failures")
    check("red" in h.netns_list(), "reconcile re-creates red")
    eq(kpeer(klink("h-red")), ("red", "eth0"), "veth back across namespaces")
    eq(kaddrs("eth0", "red"), ["198.18.0.2/24"], "address back")
    eq(klink("h-red").get("master"), "br0", "port back")
    expect_in_sync(d, "host", "h-red")
    expect_in_sync(d, "red", "eth0")


@test
def reconcile_goes_on_past_a_failure_and_leaves_an_impostor_alone():
    d = setup()
    topology(d)
    h.ip("link", "del", "h-red")
    h.wait_until(lambda: "eth0" not in klinks("red"), what="red/eth0 to go")
    # Someone else takes the name in the host namespace.
    h.ip("link", "add", "h-red", "type", "veth", "peer", "name", "zz")
    h.ip("link", "set", "h-red", "mtu", "1234")
    h.ip("link", "set", "br0", "mtu", "1300")
    impostor = klink("h-red")
    rep = reconcile(d)
    check(d.running(), "netnsd died")
    check(any("h-red" in f.get("object", "") or "eth0" in f.get("object", "")
              for f in rep["failures"]),
          "the veth that cannot be made is reported: %r", rep)
    check(any("br0" in a and "mtu" in a for a in rep["actions"]),
          "reconcile goes on with the rest: %r", rep)
    eq(klink("br0")["mtu"], 1400, "br0 repaired")
    k = klink("h-red")
    eq((k["ifindex"], k["mtu"], kup(k), k.get("master"), kpeer(k)),
       (impostor["ifindex"], 1234, False, None, ("host", "zz")),
       "an unmanaged link in host that took the name is not touched")
    expect_drift(d, "host", "h-red", [])


@test
def reconcile_leaves_unmanaged_things_alone():
    d = setup()
    topology(d)
    h.ip("link", "add", "ua", "type", "veth", "peer", "name", "ub")
    h.ip("link", "set", "ua", "mtu", "1234")
    h.ip("addr", "add", "198.18.9.9/24", "dev", "eth0", ns="red")
    rep = reconcile(d)
    eq(rep["actions"], [], "nothing to do")
    eq(klink("ua")["mtu"], 1234, "unmanaged link untouched")
    eq(kaddrs("eth0", "red"), ["198.18.0.2/24", "198.18.9.9/24"],
       "extra address untouched")


if __name__ == "__main__":
    h.run_tests()
