#!/usr/bin/python3
"""Reliability 4: faults on the kernel's side.

Behind netnsd's back, with `ip`:

- a namespace is deleted while netnsd holds netlink sockets in it, and
  while clients keep reading it: no answer is a 5xx, netnsd lets the
  namespace really go (the kernel then takes the veth pair that crossed
  into it, which only happens once nothing holds the namespace), GET says
  what is missing (in_sync false, drift), and POST /v1/reconcile brings
  back the namespace, its links and addresses;
- a veth peer's namespace is deleted (the kernel deletes the pair, both
  ends), and a veth end is deleted in the host: the far ends show as
  missing, reconcile recreates the pairs with their MACs, MTUs and
  addresses;
- a bridge is deleted with ports attached: the ports show master drift,
  reconcile recreates the bridge (same MAC, options) and attaches them;
- what reconcile cannot repair is reported, not hidden, and the rest is
  repaired anyway: a desired bridge's name taken by a bridge netnsd did
  not make (left alone, its would-be port not put into it), a namespace
  whose name is taken by a directory.
  Once the obstacles go, a reconcile repairs everything;
- such an impostor in the host namespace stays protected: PATCH and
  DELETE without ?force=true answer 409 and leave it alone.

netnsd must not crash (the harness fails a test whose netnsd died or whose
sanitizers reported anything)."""

import json
import os
import re
import threading
import time

import harness as h
from harness import check, eq, expect_status, test
import reliability_util as u
from topology import clean_host_links


def L(ns, name=None):
    p = "/v1/namespaces/%s/links" % ns
    return p + "/" + name if name else p


def setup():
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    return d


def host_links():
    return {l["ifname"] for l in h.ip_json("link", "show")}


def all_in_sync(d, namespaces):
    problems = u.kernel_vs_desired(u.Desired.fetch(d),
                                   all_namespaces_desired=False)
    problems += u.api_vs_kernel(d, namespaces)
    check(not problems, "not repaired:\n  %s", "\n  ".join(problems))


def link_item(d, ns, name):
    r = d.get(L(ns, name))
    expect_status(r, 200, "GET %s/%s" % (ns, name))
    return r.json


def reconcile(d):
    r = d.post("/v1/reconcile")
    expect_status(r, 200, "POST /v1/reconcile")
    return r.json


class Hammer:
    """Clients reading while the kernel changes under netnsd: every answer
    must come, and none may be a 5xx."""

    def __init__(self, d, paths, threads=4):
        self.d, self.paths = d, paths
        self.stop = threading.Event()
        self.statuses = {}
        self.bad = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,),
                                         daemon=True) for i in range(threads)]
        for t in self.threads:
            t.start()

    def run(self, i):
        c = u.KeepAlive(self.d.port, timeout=h.scaled(10))
        n = i
        while not self.stop.is_set():
            p = self.paths[n % len(self.paths)]
            n += 1
            try:
                r = c.get(p)
                s = r.status
            except Exception as e:  # noqa: BLE001 - any failure counts
                s, r = "error", e
            with self.lock:
                self.statuses[s] = self.statuses.get(s, 0) + 1
                if s == "error" or s >= 500:
                    self.bad.append("GET %s: %r" % (p, r))
        c.close()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(h.scaled(15))
        check(not any(t.is_alive() for t in self.threads),
              "a reader is stuck")
        check(not self.bad, "answers while the kernel changed:\n  %s",
              "\n  ".join(self.bad[:20]))
        return self.statuses


@test
def namespace_deleted_behind_our_back_while_in_use():
    d = setup()
    expect_status(d.put("/v1/namespaces/gone", {}), 201)
    expect_status(d.put("/v1/namespaces/stay", {}), 201)
    expect_status(d.post("/v1/namespaces/host/veths", {
        "name": "hg", "up": True, "mtu": 1400,
        "peer": {"name": "eth0", "namespace": "gone", "up": True,
                 "mtu": 1400, "mac": "02:00:00:00:40:01"}}), 201)
    expect_status(d.post("/v1/namespaces/gone/veths", {
        "name": "gx", "up": True,
        "peer": {"name": "sy", "namespace": "stay", "up": True}}), 201)
    expect_status(d.post("/v1/namespaces/gone/bridges",
                         {"name": "gbr", "up": True, "stp": True}), 201)
    expect_status(d.patch(L("gone", "gx"), {"master": "gbr"}), 200)
    for a in ("198.18.40.1/24", "2001:db8:40::1/64"):
        expect_status(d.post(L("gone", "eth0") + "/addresses",
                             {"address": a}), 201)
    want = u.Desired.fetch(d)
    before = u.strip_volatile(u.kernel_topology(["gone", "stay"]))
    paths = ["/v1/namespaces/gone", L("gone"), L("gone", "eth0"),
             L("gone", "eth0") + "/addresses", "/v1/namespaces/gone/bridges",
             "/v1/namespaces/gone/veths", L("host", "hg"), L("stay", "sy"),
             "/v1/namespaces", "/metrics"]
    # Warm: the pool now holds sockets inside "gone".
    for p in paths * 3:
        d.get(p)
    fig = u.proc_figures(d.proc.pid)
    held = u.netlink_sockets_in(d.proc.pid, "gone")
    check(held > 0, "netnsd should hold netlink sockets in 'gone' now")
    hammer = Hammer(d, paths)
    time.sleep(0.2)
    h.netns_del("gone")
    # The kernel takes the pairs that crossed into "gone" only once nothing
    # holds it: netnsd must let go of its sockets there.
    h.wait_until(lambda: "hg" not in host_links(), timeout=h.scaled(10),
                 what="the host end hg to go with its namespace (netnsd must "
                 "not keep the namespace alive)")
    h.wait_until(lambda: "sy" not in {l["ifname"] for l in h.ip_json(
        "link", "show", ns="stay")}, timeout=h.scaled(10),
        what="stay/sy to go with its peer's namespace")
    time.sleep(0.3)
    statuses = hammer.finish()
    check(d.running(), "netnsd died")

    # The drift is said.
    r = expect_status(d.get("/v1/namespaces/gone"), 200)
    eq((r.json["managed"], r.json["in_sync"], r.json.get("drift")),
       (True, False, ["missing"]), "GET /v1/namespaces/gone")
    listed = {i["name"]: i for i in d.namespaces().values()}
    eq(listed["gone"].get("in_sync"), False, "gone in the namespace list")
    for ns, name in (("host", "hg"), ("stay", "sy")):
        i = link_item(d, ns, name)
        eq((i["in_sync"], i["drift"]), (False, ["missing"]),
           "GET %s/%s" % (ns, name))
    hosts = {i["name"]: i for i in expect_status(
        d.get(L("host")), 200).json["items"]}
    eq(hosts["hg"]["in_sync"], False, "hg in the host's link list")
    m = re.search(rb"^netnsd_drifted_objects (\d+)$", d.get("/metrics").body,
                  re.M)
    check(m and int(m.group(1)) > 0, "netnsd_drifted_objects should count "
          "the drift: %r", m and m.group(0))

    # Reconcile puts it all back.
    rep = reconcile(d)
    eq(rep["failures"], [], "reconcile failures")
    acts = "\n".join(rep["actions"])
    for words in ("created namespace gone", "created veth host/hg",
                  "created veth gone/gx", "created bridge gone/gbr",
                  "198.18.40.1/24", "2001:db8:40::1/64"):
        check(words in acts, "reconcile should say %r:\n%s", words, acts)
    after = u.strip_volatile(u.kernel_topology(["gone", "stay"]))
    diff = u.differences(before, after)
    check(not diff, "after reconcile the topology differs:\n  %s",
          "\n  ".join(diff))
    eq(u.Desired.fetch(d).canonical(), want.canonical(), "desired state")
    all_in_sync(d, ["gone", "stay"])
    eq(reconcile(d), {"actions": [], "failures": []}, "a second reconcile")
    u.say("figures: %s", json.dumps({"reads_while_deleting": statuses,
                                     "fds_before": fig["fds"],
                                     "netlink_sockets_held_in_gone": held}))


@test
def veth_peer_namespace_deleted_and_end_deleted():
    d = setup()
    for ns in ("p1", "p2"):
        expect_status(d.put("/v1/namespaces/" + ns, {}), 201)
    expect_status(d.post("/v1/namespaces/p1/veths", {
        "name": "a", "mtu": 9000, "up": True, "mac": "02:00:00:00:41:0a",
        "peer": {"name": "b", "namespace": "p2", "mtu": 9000, "up": True,
                 "mac": "02:00:00:00:41:0b"}}), 201)
    expect_status(d.post("/v1/namespaces/host/veths", {
        "name": "hv", "up": True,
        "peer": {"name": "c", "namespace": "p2", "up": True}}), 201)
    expect_status(d.post("/v1/namespaces/host/veths", {
        "name": "hw", "up": True,
        "peer": {"name": "w", "namespace": "p1", "up": True}}), 201)
    expect_status(d.post(L("p1", "a") + "/addresses",
                         {"address": "198.18.41.1/24"}), 201)
    expect_status(d.post(L("p2", "b") + "/addresses",
                         {"address": "198.18.41.2/24"}), 201)
    expect_status(d.post(L("p1", "w") + "/addresses",
                         {"address": "2001:db8:41::1/64"}), 201)
    before = u.strip_volatile(u.kernel_topology(["p1", "p2"]))

    h.netns_del("p2")
    h.ip("link", "del", "hw")          # takes p1/w with it
    h.wait_until(lambda: "hv" not in host_links() and "hw" not in
                 host_links(), timeout=h.scaled(10),
                 what="host ends to go")
    h.wait_until(lambda: not {"a", "w"} & {l["ifname"] for l in h.ip_json(
        "link", "show", ns="p1")}, timeout=h.scaled(10),
        what="p1/a and p1/w to go with their peers")
    for ns, name in (("p1", "a"), ("p1", "w"), ("host", "hv"),
                     ("host", "hw")):
        i = link_item(d, ns, name)
        eq((i["in_sync"], i["drift"], i["managed"]),
           (False, ["missing"], True), "GET %s/%s" % (ns, name))
    veths = {i["name"]: i for i in expect_status(
        d.get("/v1/namespaces/p1/veths"), 200).json["items"]}
    eq(sorted(veths), ["a", "w"], "p1's veths, missing ones included")

    rep = reconcile(d)
    eq(rep["failures"], [], "reconcile failures")
    after = u.strip_volatile(u.kernel_topology(["p1", "p2"]))
    diff = u.differences(before, after)
    check(not diff, "after reconcile the topology differs:\n  %s",
          "\n  ".join(diff))
    all_in_sync(d, ["p1", "p2"])
    p = h.run(["ip", "netns", "exec", "p1", "ping", "-c1", "-W2", "-n", "-q",
               "198.18.41.2"], check=False, timeout=15)
    eq(p.returncode, 0, "ping p1 -> p2 after the repair: %s" % p.stdout)


@test
def bridge_deleted_with_ports_attached():
    d = setup()
    expect_status(d.put("/v1/namespaces/q1", {}), 201)
    expect_status(d.post("/v1/namespaces/host/bridges", {
        "name": "kbr", "up": True, "stp": True,
        "mac": "02:00:00:00:42:00"}), 201)
    expect_status(d.post("/v1/namespaces/q1/bridges",
                         {"name": "qbr", "up": True}), 201)
    for i in range(3):
        expect_status(d.post("/v1/namespaces/host/veths", {
            "name": "kp%d" % i, "up": True,
            "peer": {"name": "e%d" % i, "namespace": "q1", "up": True}}),
            201)
        expect_status(d.put("/v1/namespaces/host/bridges/kbr/ports/kp%d"
                            % i), 201)
        expect_status(d.put("/v1/namespaces/q1/bridges/qbr/ports/e%d" % i),
                      201)
    before = u.strip_volatile(u.kernel_topology(["q1"]))
    h.ip("link", "del", "kbr")
    h.ip("link", "del", "qbr", ns="q1")
    for ns, br, port in (("host", "kbr", "kp1"), ("q1", "qbr", "e1")):
        i = link_item(d, ns, br)
        eq((i["in_sync"], i["drift"]), (False, ["missing"]),
           "GET %s/%s" % (ns, br))
        r = expect_status(d.get("/v1/namespaces/%s/bridges/%s" % (ns, br)),
                          200)
        eq(r.json["in_sync"], False, "GET bridge %s/%s" % (ns, br))
        i = link_item(d, ns, port)
        eq((i["in_sync"], i["master"]), (False, None),
           "GET %s/%s" % (ns, port))
        check("master is none, desired %s" % br in i["drift"],
              "drift of %s/%s: %r", ns, port, i["drift"])
    rep = reconcile(d)
    eq(rep["failures"], [], "reconcile failures")
    acts = "\n".join(rep["actions"])
    check("created bridge host/kbr" in acts and "created bridge q1/qbr" in
          acts, "reconcile actions: %s", acts)
    after = u.strip_volatile(u.kernel_topology(["q1"]))
    diff = u.differences(before, after)
    check(not diff, "after reconcile the topology differs:\n  %s",
          "\n  ".join(diff))
    all_in_sync(d, ["q1"])


@test
def what_cannot_be_repaired_is_reported_and_the_rest_is_repaired():
    d = setup()
    for ns in ("w1", "w2"):
        expect_status(d.put("/v1/namespaces/" + ns, {}), 201)
    expect_status(d.post("/v1/namespaces/host/bridges",
                         {"name": "xbr", "up": True}), 201)
    expect_status(d.post(L("host", "xbr") + "/addresses",
                         {"address": "198.18.44.1/24"}), 201)
    expect_status(d.post("/v1/namespaces/host/veths", {
        "name": "xp", "up": True,
        "peer": {"name": "e0", "namespace": "w1", "up": True}}), 201)
    expect_status(d.put("/v1/namespaces/host/bridges/xbr/ports/xp"), 201)
    expect_status(d.post("/v1/namespaces/w2/veths", {
        "name": "v", "up": True, "peer": {"name": "e1", "namespace": "w1"}}),
        201)
    expect_status(d.post(L("w2", "v") + "/addresses",
                         {"address": "198.18.43.1/24"}), 201)
    expect_status(d.post(L("w1", "e0") + "/addresses",
                         {"address": "198.18.43.2/24"}), 201)
    before = u.strip_volatile(u.kernel_topology(["w1", "w2"]))

    # Obstacles: xbr's name taken by a bridge netnsd did not make (no
    # alias); w2's name by a directory.
    h.ip("link", "del", "xbr")
    h.ip("link", "add", "xbr", "type", "bridge")
    h.netns_del("w2")
    h.wait_until(lambda: "e1" not in {l["ifname"] for l in h.ip_json(
        "link", "show", ns="w1")}, timeout=h.scaled(10),
        what="w1/e1 to go with w2")
    os.mkdir("/run/netns/w2")
    h.on_cleanup(lambda: os.path.isdir("/run/netns/w2") and
                 os.rmdir("/run/netns/w2"))
    h.ip("link", "del", "xp")          # repairable: comes back
    rep = reconcile(d)
    failed = {f["object"]: f["error"] for f in rep["failures"]}
    soft = []   # every broken expectation of this phase, not just the first

    def expect(cond, msg, *args):
        if not cond:
            soft.append(msg % args if args else msg)
    expect(any("xbr" in o and "did not create" in e
               for o, e in failed.items()),
           "the taken bridge name should be a failure that says why: %r",
           rep)
    expect(any("w2" in o for o in failed),
           "the namespace that cannot be made should be a failure: %r", rep)
    # The impostor is left alone: not brought up, and no port of netnsd's
    # put into it; the rest is repaired.
    other = h.ip_json("-d", "link", "show", "dev", "xbr")[0]
    expect((u.kkind(other), other.get("ifalias"), "UP" in other["flags"])
           == ("bridge", None, False), "the bridge that took xbr's name was "
           "changed: %r", other)
    addrs = [a["local"] for a in h.ip_json("addr", "show", "dev", "xbr")[0]
             .get("addr_info", [])]
    expect("198.18.44.1" not in addrs, "reconcile gave xbr's desired "
           "address to the bridge that took its name: %r", addrs)
    expect(any("198.18.44.1" in o for o in failed),
           "the address that cannot be put back should be a failure: %r",
           rep)
    expect("xp" in host_links(), "the veth xp was not recreated: %r", rep)
    xp = u.kernel_topology([])["host"].get("xp") or {}
    expect(xp.get("master") is None,
           "POST /v1/reconcile made host/xp (netnsd's veth, desired master "
           "xbr) a port of the bridge xbr that netnsd did not create "
           "(kernel: xp master %r; reconcile answered %s)",
           xp.get("master"), json.dumps(rep))
    i = link_item(d, "host", "xp")
    expect(i["in_sync"] is False,
           "GET host/xp says in_sync %r although its desired bridge is not "
           "there (only an impostor of the same name): %r", i["in_sync"], i)
    expect(link_item(d, "host", "xbr")["managed"] is False,
           "xbr (the impostor) shows as managed")
    expect(os.path.isdir("/run/netns/w2"), "the directory was touched")
    check(d.running(), "netnsd died")
    r = expect_status(d.get("/v1/namespaces/w2"), 200)
    expect(r.json["in_sync"] is False, "w2 in sync: %r", r.json)

    # Obstacles gone: everything comes back.
    os.rmdir("/run/netns/w2")
    h.ip("link", "del", "xbr")
    rep = reconcile(d)
    eq(rep["failures"], [], "reconcile failures once the obstacles went")
    after = u.strip_volatile(u.kernel_topology(["w1", "w2"]))
    diff = u.differences(before, after)
    check(not diff, "after reconcile the topology differs:\n  %s",
          "\n  ".join(diff))
    all_in_sync(d, ["w1", "w2"])
    u.say("figures: %s", json.dumps({"failures_reported": sorted(failed)}))
    check(not soft, "%d problem(s) while the obstacles were there:\n  %s",
          len(soft), "\n  ".join(soft))


@test
def a_namespace_that_cannot_be_looked_at_is_not_remade():
    # Out of descriptors, netnsd cannot open a namespace's file: that says
    # nothing of whether the namespace is there, and a reconcile must not
    # take it for missing (it would unmount a live namespace and its links
    # to make it anew).
    d = setup()
    expect_status(d.put("/v1/namespaces/keep", {}), 201)
    expect_status(d.post("/v1/namespaces/keep/veths", {
        "name": "k0", "peer": {"name": "k1"}}), 201)
    c = u.KeepAlive(d.port)
    expect_status(c.get("/healthz"), 200)
    pid = d.proc.pid
    used = {int(f) for f in os.listdir("/proc/%d/fd" % pid)}
    fds = min(set(range(len(used) + 1)) - used)  # the lowest free one
    soft = h.run(["prlimit", "--pid", str(pid), "--nofile", "-o", "SOFT",
                  "--noheadings"]).stdout.strip()
    h.run(["prlimit", "--pid", str(pid), "--nofile=%d:" % fds])
    try:
        r = c.post("/v1/reconcile")
    finally:
        h.run(["prlimit", "--pid", str(pid), "--nofile=%s:" % soft])
    c.close()
    check(h.netns_is_mounted("keep"), "reconcile unmounted the live "
          "namespace keep it could not look at")
    names = {l["ifname"] for l in h.ip_json("link", "show", ns="keep")}
    check({"k0", "k1"} <= names, "keep's links after the reconcile: %r",
          sorted(names))
    if r.status == 200:
        check(not any("created namespace keep" in a
                      for a in r.json["actions"]),
              "reconcile made keep anew: %r", r.json)


@test
def an_impostor_that_took_a_desired_name_stays_protected():
    """In the host namespace, links netnsd did not create answer 409 to
    PATCH and DELETE without ?force=true. That must hold as well for one
    that took the name of a link netnsd desires, after the original was
    deleted behind its back."""
    d = setup()
    expect_status(d.post("/v1/namespaces/host/bridges",
                         {"name": "ibr", "up": True}), 201)
    h.ip("link", "del", "ibr")
    h.ip("link", "add", "ibr", "type", "bridge")
    h.ip("link", "set", "ibr", "mtu", "1300")
    soft = []
    for method, path, body in (
            ("PATCH", L("host", "ibr"), {"mtu": 1400}),
            ("PATCH", "/v1/namespaces/host/bridges/ibr", {"stp": True}),
            ("DELETE", "/v1/namespaces/host/bridges/ibr", None),
            ("DELETE", L("host", "ibr"), None)):
        r = d.request(method, path, body)
        k = [l for l in h.ip_json("-d", "link", "show")
             if l["ifname"] == "ibr"]
        if r.status != 409 or not k or k[0]["mtu"] != 1300 or \
                k[0].get("ifalias"):
            now = "deleted" if not k else "mtu %s, stp_state %s, alias %r" % (
                k[0]["mtu"], u.bridge_info(k[0]).get("stp_state"),
                k[0].get("ifalias"))
            soft.append("%s %s %s answered %d (want 409); the bridge "
                        "netnsd did not create (mtu 1300, stp_state 0, "
                        "alias None) is now: %s" % (
                            method, path, json.dumps(body), r.status, now))
        if not k:
            h.ip("link", "add", "ibr", "type", "bridge")
            h.ip("link", "set", "ibr", "mtu", "1300")
    check(not soft, "%d problem(s):\n  %s", len(soft), "\n  ".join(soft))


if __name__ == "__main__":
    h.run_tests()
