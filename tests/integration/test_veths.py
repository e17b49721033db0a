#!/usr/bin/python3
"""Veth pairs: create (same namespace, another namespace with the peer
placed directly, per-end mtu/mac/up), list, get, delete (both ends), the
netnsd alias, and refusals (409 taken names, 404 namespaces, 400 bad names
and values) that change nothing in the kernel or the desired state."""

import re
import subprocess
import threading
import time

import harness as h
from harness import check, eq, expect_problem, expect_status, test
from topology import (K, klinks, klink, kkind, kup, kpeer, state, snapshot,
                      expect_unchanged, state_link, setup, mk_ns, mk_veth,
                      mk_bridge, L)



# ---------------------------------------------------------------------------
# Watching the kernel's link notifications


class Monitor:
    """`ip -o monitor link` in one namespace, read by a thread, so a test
    can tell whether a name ever appeared there, even briefly."""

    def __init__(self, ns="host"):
        cmd = ["ip"] + (["-n", ns] if ns != "host" else []) + \
            ["-o", "monitor", "link"]
        self.ns = ns
        self.lines = []
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        h.on_cleanup(self.stop)
        # A marker pair proves the monitor listens before the test acts;
        # made again until seen, since ip may subscribe after the first.
        d = h.Deadline(h.scaled(10))
        while True:
            h.ip("link", "add", "mon0", "type", "veth", "peer", "name",
                 "mon1", ns=K(ns))
            t = h.Deadline(0.2)
            while not self.saw("mon0") and t.left():
                time.sleep(0.01)
            h.ip("link", "del", "mon0", ns=K(ns))
            if self.saw("mon0"):
                break
            check(d.left(), "ip monitor in %s never reported a change", ns)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def saw(self, name):
        pat = re.compile(r"\d+: %s[@:]" % re.escape(name))
        return any(pat.search(l) for l in list(self.lines))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def V(ns, name=None):
    p = "/v1/namespaces/%s/veths" % ns
    return p + "/" + name if name else p


# ---------------------------------------------------------------------------
# Create


@test
def create_with_peer_in_the_same_namespace():
    d = setup()
    r = d.post(V("host"), {"name": "va", "peer": {"name": "vb"}})
    expect_status(r, 201, "POST veth")
    eq(r.header("Location"), "/v1/namespaces/host/veths/va", "Location")
    o = r.json
    eq((o["name"], o["namespace"], o["kind"]), ("va", "host", "veth"),
       "answer")
    eq(o["peer"], {"namespace": "host", "name": "vb"}, "answer peer")
    ks = klinks("host")
    check("va" in ks and "vb" in ks, "kernel lacks an end: %r", sorted(ks))
    eq(kkind(ks["va"]), "veth", "kernel kind of va")
    eq(kpeer(ks["va"]), ("host", "vb"), "kernel peer of va")
    eq(kpeer(ks["vb"]), ("host", "va"), "kernel peer of vb")
    eq(o["ifindex"], ks["va"]["ifindex"], "ifindex")
    eq(o["mac"], ks["va"]["address"], "mac")
    eq((o["up"], kup(ks["va"])), (False, False), "down unless asked")
    st = state(d)
    for n, p in (("va", "vb"), ("vb", "va")):
        s = state_link(st, "host", n)
        check(s is not None, "desired state lacks host/%s: %r", n, st)
        eq(s.get("kind"), "veth", "desired kind of " + n)
        eq(s.get("peer"), {"namespace": "host", "name": p},
           "desired peer of " + n)


@test
def create_with_peer_in_another_namespace_placed_directly():
    d = setup()
    mk_ns(d, "red")
    mon_host = Monitor("host")
    mon_red = Monitor("red")
    r = d.post(V("host"), {"name": "h-red",
                           "peer": {"name": "eth0", "namespace": "red"}})
    expect_status(r, 201, "POST veth")
    eq(r.json["peer"], {"namespace": "red", "name": "eth0"}, "answer peer")
    check("eth0" not in klinks("host"), "kernel: eth0 in host")
    check("h-red" not in klinks("red"), "kernel: h-red in red")
    k = klink("eth0", "red")
    check(k is not None, "kernel: ip -n red lacks eth0")
    eq(kkind(k), "veth", "kind of red/eth0")
    eq(kpeer(k, "red"), ("host", "h-red"), "kernel peer of red/eth0")
    eq(kpeer(klink("h-red"), "host"), ("red", "eth0"),
       "kernel peer of host/h-red")
    h.wait_until(lambda: mon_host.saw("h-red"), what="monitor to see h-red")
    check(not mon_host.saw("eth0"),
          "eth0 appeared in the host namespace, even if briefly (created "
          "then moved?):\n%s", "".join(mon_host.lines))
    check(not mon_red.saw("h-red"),
          "h-red appeared in red:\n%s", "".join(mon_red.lines))
    # Between two namespaces neither of which is host.
    mk_ns(d, "blue")
    r = d.post(V("red"), {"name": "r-blue",
                          "peer": {"name": "b-red", "namespace": "blue"}})
    expect_status(r, 201, "POST veth red <-> blue")
    eq(kpeer(klink("r-blue", "red"), "red"), ("blue", "b-red"),
       "kernel peer of red/r-blue")
    check(not mon_host.saw("r-blue") and not mon_host.saw("b-red"),
          "a red<->blue end appeared in host")


@test
def peer_namespace_defaults_to_the_path_namespace():
    d = setup()
    mk_ns(d, "red")
    r = expect_status(d.post(V("red"), {"name": "a", "peer": {"name": "b"}}),
                      201)
    eq(r.json["peer"], {"namespace": "red", "name": "b"}, "answer peer")
    ks = klinks("red")
    check("a" in ks and "b" in ks, "kernel: both ends in red: %r", sorted(ks))
    check(not ({"a", "b"} & set(klinks("host"))), "an end landed in host")


@test
def create_with_mtu_mac_up_per_end():
    d = setup()
    mk_ns(d, "red")
    r = d.post(V("host"), {
        "name": "h-red", "mtu": 9000, "mac": "02:00:00:00:01:0A", "up": True,
        "peer": {"name": "eth0", "namespace": "red", "mtu": 1400,
                 "mac": "02:00:00:00:01:0b", "up": True}})
    expect_status(r, 201, "POST veth with attributes")
    a, b = klink("h-red"), klink("eth0", "red")
    eq((a["mtu"], a["address"], kup(a)), (9000, "02:00:00:00:01:0a", True),
       "kernel host/h-red")
    eq((b["mtu"], b["address"], kup(b)), (1400, "02:00:00:00:01:0b", True),
       "kernel red/eth0")
    eq((r.json["mtu"], r.json["mac"], r.json["up"]),
       (9000, "02:00:00:00:01:0a", True), "answer")
    st = state(d)
    eq(state_link(st, "red", "eth0").get("mtu"), 1400, "desired peer mtu")
    eq(state_link(st, "red", "eth0").get("up"), True, "desired peer up")
    eq(state_link(st, "host", "h-red").get("mac"), "02:00:00:00:01:0a",
       "desired mac")
    # Only one end up: the other stays down.
    expect_status(d.post(V("host"), {"name": "x1", "up": True,
                                     "peer": {"name": "x2"}}), 201)
    eq((kup(klink("x1")), kup(klink("x2"))), (True, False),
       "admin state per end")
    expect_status(d.post(V("host"), {"name": "y1",
                                     "peer": {"name": "y2", "up": True}}), 201)
    eq((kup(klink("y1")), kup(klink("y2"))), (False, True),
       "admin state per end")
    for n in ("x1", "x2", "y1", "y2"):
        g = expect_status(d.get(V("host", n)), 200).json
        eq(g.get("in_sync"), True, "%s in sync (drift %r)" % (n, g.get("drift")))


@test
def created_links_carry_the_netnsd_alias():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    eq(klink("h-red").get("ifalias"), "netnsd", "alias of host/h-red")
    eq(klink("eth0", "red").get("ifalias"), "netnsd", "alias of red/eth0")
    # ip -j link (without -d) shows it too.
    j = h.ip_json("link", "show", "dev", "eth0", ns="red")[0]
    eq(j.get("ifalias"), "netnsd", "ip -j link ifalias")


@test
def each_end_has_one_queue_each_way():
    # Left to the kernel, an end gets a queue per possible CPU, and the
    # creation waits out an RCU grace period per end to use only one.
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    for ns, name in (("host", "h-red"), ("red", "eth0")):
        k = klink(name, ns)
        eq((k.get("num_tx_queues"), k.get("num_rx_queues")), (1, 1),
           "queues (tx, rx) of %s/%s" % (ns, name))


# ---------------------------------------------------------------------------
# List, get


@test
def list_and_get_veths():
    d = setup()
    mk_ns(d, "red")
    mk_bridge(d, "host", "br0")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    mk_veth(d, "host", "va", "vb")
    h.ip("link", "add", "ua", "type", "veth", "peer", "name", "ub")
    r = expect_status(d.get(V("host")), 200)
    items = {i["name"]: i for i in r.json["items"]}
    eq(sorted(items), ["h-red", "ua", "ub", "va", "vb"],
       "veths of host (no lo, no bridge)")
    eq(sorted(items), sorted(n for n, l in klinks("host").items()
                             if kkind(l) == "veth"), "vs ip -j -d link")
    eq(items["h-red"]["peer"], {"namespace": "red", "name": "eth0"},
       "peer of h-red")
    eq(items["va"]["peer"], {"namespace": "host", "name": "vb"}, "peer of va")
    eq(items["ua"]["peer"], {"namespace": "host", "name": "ub"}, "peer of ua")
    eq(items["ua"]["managed"], False, "ip-made veth is not managed")
    eq(items["va"]["managed"], True, "netnsd's veth is managed")
    for n, i in items.items():
        eq(i["kind"], "veth", "kind of " + n)
        eq(i["mac"], klink(n)["address"], "mac of " + n)
    r = expect_status(d.get(V("red")), 200)
    eq([(i["name"], i["peer"]) for i in r.json["items"]],
       [("eth0", {"namespace": "host", "name": "h-red"})], "veths of red")
    g = expect_status(d.get(V("red", "eth0")), 200).json
    eq(g["peer"], {"namespace": "host", "name": "h-red"}, "GET red/eth0 peer")
    eq(g["ifindex"], klink("eth0", "red")["ifindex"], "GET red/eth0 ifindex")
    for path in (V("host", "lo"), V("host", "br0"), V("host", "nosuch"),
                 V("nosuchns", "eth0"), V("nosuchns")):
        expect_problem(d.get(path), 404, "GET " + path)


@test
def peer_names_follow_changes_behind_netnsd():
    """Peers in another namespace are named from a cache of that namespace's
    links, kept while a subscription hears no change: a peer renamed, or a
    pair replaced, behind netnsd's back shows at once, in lists and alone."""
    d = setup()
    mk_ns(d, "red")
    mk_ns(d, "blue")
    for i in range(20):
        mk_veth(d, "red", "r%d" % i, "b%d" % i, peer_ns="blue")

    def peers():
        r = expect_status(d.get(L("red")), 200)
        return {i["name"]: i["peer"] for i in r.json["items"]
                if i["kind"] == "veth"}
    eq(peers()["r3"], {"namespace": "blue", "name": "b3"}, "peer of r3")
    h.ip("link", "set", "b3", "name", "b3x", ns="blue")
    eq(peers()["r3"], {"namespace": "blue", "name": "b3x"},
       "peer of r3 after ip renamed it")
    eq(expect_status(d.get(L("red", "r3")), 200).json["peer"],
       {"namespace": "blue", "name": "b3x"}, "GET red/r3 after the rename")
    h.ip("link", "del", "r5", ns="red")
    h.ip("link", "add", "r5", "netns", "red", "type", "veth", "peer", "name",
         "n5", ns="blue")
    eq(peers()["r5"], {"namespace": "blue", "name": "n5"},
       "peer of a pair ip replaced")
    # More changes at once than the watching socket's small buffer holds:
    # the overflow (ENOBUFS) must drop the names too.
    h.run(["ip", "-n", "blue", "-batch", "-"], input="".join(
        "link set b%d name c%d\n" % (i, i) for i in range(6, 20)))
    want = {n: kpeer(l, "red") for n, l in klinks("red").items()
            if kkind(l) == "veth"}
    got = {n: (p["namespace"], p["name"]) for n, p in peers().items()}
    eq(got, want, "every peer as ip -j link show tells it")


# ---------------------------------------------------------------------------
# Delete


@test
def delete_removes_both_ends():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    mk_veth(d, "host", "va", "vb")
    expect_status(d.post("/v1/namespaces/red/links/eth0/addresses",
                         {"address": "198.18.0.2/24"}), 201)
    r = expect_status(d.delete(V("host", "h-red")), 204)
    eq(r.body, b"", "204 body")
    check("h-red" not in klinks("host"), "kernel: h-red still there")
    h.wait_until(lambda: "eth0" not in klinks("red"),
                 what="red/eth0 to go with its peer")
    st = state(d)
    eq(sorted((l["namespace"], l["name"]) for l in st["links"]),
       [("host", "va"), ("host", "vb")], "desired links left")
    eq(st["addresses"], [], "desired addresses of the deleted pair")
    expect_problem(d.get(V("host", "h-red")), 404, "GET after DELETE")
    expect_problem(d.get(V("red", "eth0")), 404, "GET peer after DELETE")
    expect_problem(d.delete(V("host", "h-red")), 404, "DELETE again")
    # From the peer's side, in the same namespace.
    expect_status(d.delete(V("host", "vb")), 204)
    ks = klinks("host")
    check("va" not in ks and "vb" not in ks, "kernel: %r", sorted(ks))
    eq(state(d)["links"], [], "desired links")
    # Not a veth: 404, and lo stays.
    before = snapshot(d)
    expect_problem(d.delete(V("host", "lo")), 404, "DELETE veths/lo")
    expect_unchanged(d, before, "DELETE veths/lo")


# ---------------------------------------------------------------------------
# Refusals that change nothing


@test
def name_taken_at_either_end_is_409():
    d = setup()
    mk_ns(d, "red")
    mk_bridge(d, "host", "br0")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    before = snapshot(d, ("host", "red"))
    for ns, body in (
            ("host", {"name": "h-red", "peer": {"name": "x1"}}),
            ("host", {"name": "x1", "peer": {"name": "h-red"}}),
            ("host", {"name": "br0", "peer": {"name": "x1"}}),
            ("host", {"name": "lo", "peer": {"name": "x1"}}),
            ("host", {"name": "x1", "peer": {"name": "eth0",
                                             "namespace": "red"}}),
            ("red", {"name": "eth0", "peer": {"name": "x1",
                                              "namespace": "host"}}),
            ("red", {"name": "x1", "peer": {"name": "lo"}})):
        what = "POST %s/veths %r" % (ns, body)
        expect_problem(d.post(V(ns), body), 409, what)
        expect_unchanged(d, before, what)


@test
def unknown_namespace_is_404():
    d = setup()
    mk_ns(d, "red")
    before = snapshot(d, ("host", "red"))
    for ns, body in (
            ("nosuchns", {"name": "x1", "peer": {"name": "x2"}}),
            ("nosuchns", {"name": "x1", "peer": {"name": "x2",
                                                 "namespace": "red"}}),
            ("host", {"name": "x1", "peer": {"name": "x2",
                                             "namespace": "nosuchns"}}),
            ("red", {"name": "x1", "peer": {"name": "x2",
                                            "namespace": "nosuchns"}})):
        what = "POST %s/veths %r" % (ns, body)
        expect_problem(d.post(V(ns), body), 404, what)
        expect_unchanged(d, before, what)
    eq(h.netns_list(), ["red"], "no namespace made by a 404")


@test
def bad_bodies_are_400():
    d = setup()
    mk_ns(d, "red")
    before = snapshot(d, ("host", "red"))
    cases = [
        ({"name": "abcdefghijklmnop", "peer": {"name": "x2"}}, "name"),
        ({"name": "x1", "peer": {"name": "abcdefghijklmnop"}}, "peer.name"),
        ({"name": "a/b", "peer": {"name": "x2"}}, "name"),
        ({"name": "x1", "peer": {"name": "a/b"}}, "peer.name"),
        ({"name": "a b", "peer": {"name": "x2"}}, "name"),
        ({"name": "a:b", "peer": {"name": "x2"}}, "name"),
        ({"name": "..", "peer": {"name": "x2"}}, "name"),
        ({"name": ".", "peer": {"name": "x2"}}, "name"),
        ({"name": "", "peer": {"name": "x2"}}, "name"),
        ({"name": "x\u00e9", "peer": {"name": "x2"}}, "name"),
        ({"name": "x1", "peer": {"name": "x1"}}, "peer.name"),
        ({"name": "x1", "peer": {"name": "x1", "namespace": "host"}},
         "peer.name"),
        ({"name": "x1", "peer": {"name": "x2", "namespace": "../x"}},
         "peer.namespace"),
        ({"name": "x1"}, "peer"),
        ({"peer": {"name": "x2"}}, "name"),
        ({"name": "x1", "peer": {}}, "peer.name"),
        ({"name": "x1", "peer": "x2"}, "peer"),
        ({"name": 5, "peer": {"name": "x2"}}, "name"),
        ({"name": "x1", "peer": {"name": "x2"}, "bogus": 1}, "bogus"),
        ({"name": "x1", "peer": {"name": "x2", "bogus": 1}}, "peer.bogus"),
        ({"name": "x1", "peer": {"name": "x2"}, "mtu": 67}, "mtu"),
        ({"name": "x1", "peer": {"name": "x2", "mtu": 0}}, "peer.mtu"),
        ({"name": "x1", "peer": {"name": "x2"}, "mtu": "1500"}, "mtu"),
        ({"name": "x1", "peer": {"name": "x2"}, "mac": "zz"}, "mac"),
        ({"name": "x1", "peer": {"name": "x2", "mac": "01:00:00:00:00:01"}},
         "peer.mac"),
        ({"name": "x1", "peer": {"name": "x2"}, "up": 1}, "up"),
    ]
    for body, field in cases:
        what = "POST host/veths %r" % (body,)
        expect_problem(d.post(V("host"), body), 400, what, field=field)
        expect_unchanged(d, before, what)
    for body in ("", "{", "[1]", "null"):
        what = "POST host/veths %r" % body
        expect_problem(d.post(V("host"), body), 400, what)
        expect_unchanged(d, before, what)


@test
def kernel_refusal_leaves_no_half_pair():
    d = setup()
    mk_ns(d, "red")
    before = snapshot(d, ("host", "red"))
    for body in (
            {"name": "x1", "peer": {"name": "x2", "namespace": "red",
                                    "mtu": 70000}},
            {"name": "x1", "mtu": 70000, "peer": {"name": "x2"}},
            {"name": "x1", "up": True, "peer": {"name": "x2", "up": True,
                                                "mtu": 70000}}):
        what = "POST host/veths %r" % (body,)
        p = expect_problem(d.post(V("host"), body), 400, what)
        check(len(p["detail"]) > len("creating the veth pair: "),
              "detail should say why: %r", p["detail"])
        expect_unchanged(d, before, what)


if __name__ == "__main__":
    h.run_tests()
