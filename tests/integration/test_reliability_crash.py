#!/usr/bin/python3
"""Reliability 1: crash consistency.

Three clients stream a mixed workload (namespaces, veths between the host
and namespaces and between namespaces, bridges in the host and inside
namespaces, macvlans in the host, ports, IPv4/IPv6 addresses, routes,
sysctls, PATCHes of MTU, admin state, master and name, deletes of all of
these) while netnsd is SIGKILLed at random moments; some kills land in the
start-up reconcile instead. Each client works on its own names, so its
part of the desired state is known exactly after every answer: it reads
GET /v1/state after each one.

After each kill, before netnsd runs again, the snapshot and journal are
read offline (CRC32C per record; only a torn tail of records no sync
covered may be dropped).
Then netnsd starts, and:

- the state it serves is exactly what the files hold;
- every acknowledged change is there;
- the one request of each client that was in flight is there either
  entirely or not at all (never a part of it);
- a request answered with an error changed nothing;
- after the start-up reconcile the kernel matches the desired state field
  by field (`ip -j`), with nothing netnsd marked as its own left over that
  the desired state does not know (an orphan is a half-change too).

Figures (kills, requests, in-flight requests applied or not, torn tails)
are printed. NETNSD_CRASH_KILLS changes the number of kills (default 30
under load, plus one in start-up every fifth).

Last, damage that no power loss leaves (a zero byte or a lost page in the
middle of the journal, a flipped bit, a record repeated or removed) must
stop start-up with a message naming the byte, and leave both files as they
were; what a power loss does leave (a last record cut short, the pages of
an unsynced last batch reaching the disk out of order) is cut."""

import copy
import hashlib
import http.client
import json
import os
import shutil
import threading
import time

import harness as h
from harness import check, eq, expect_status, test
import reliability_util as u
from topology import clean_host_links

KILLS = u.env_int("NETNSD_CRASH_KILLS", 30)
CLIENTS = 3

ANY = object()   # the model cannot know this value (a MAC chosen by netnsd)
MACVLAN_PARENT = "crashpar"  # a host link of the test's, not netnsd's


# ---------------------------------------------------------------------------
# One client's part of the desired state, and what a request does to it


class View:
    """A client's part of the desired state: ns (set), links
    {(ns, name): record}, addrs {(ns, link, cidr)}, routes
    {(ns, table, dst, metric): record}, sysctls {(ns, key): value}."""

    def __init__(self, ns=(), links=None, addrs=(), routes=None,
                 sysctls=None):
        self.ns = set(ns)
        self.links = dict(links or {})
        self.addrs = set(addrs)
        self.routes = dict(routes or {})
        self.sysctls = dict(sysctls or {})

    @classmethod
    def of(cls, des, prefix):
        mine = lambda ns, name: ns.startswith(prefix) or (  # noqa: E731
            ns == "host" and name is not None and name.startswith(prefix))
        return cls({n for n in des.namespaces if mine(n, None)},
                   {k: v for k, v in des.links.items() if mine(*k)},
                   {a for a in des.addresses if mine(a[0], a[1])},
                   {k: v for k, v in des.routes.items() if mine(k[0], None)},
                   {k: v for k, v in des.sysctls.items()
                    if mine(k[0], None)})

    def copy(self):
        return View(self.ns, copy.deepcopy(self.links), self.addrs,
                    copy.deepcopy(self.routes), self.sysctls)

    def __eq__(self, other):
        return (self.ns, self.links, self.addrs, self.routes,
                self.sysctls) == (other.ns, other.links, other.addrs,
                                  other.routes, other.sysctls)

    def describe(self):
        return json.dumps({"namespaces": sorted(self.ns),
                           "links": {"%s/%s" % k: v for k, v in
                                     sorted(self.links.items())},
                           "addresses": sorted("%s/%s/%s" % a
                                               for a in self.addrs),
                           "routes": {"%s/%s/%s/%s" % k: v for k, v in
                                      sorted(self.routes.items())},
                           "sysctls": {"%s/%s" % k: v for k, v in
                                       sorted(self.sysctls.items())}},
                          sort_keys=True, default=lambda o: "<any>")


def matches(model, actual):
    if model is ANY:
        return True
    if isinstance(model, dict):
        if not isinstance(actual, dict) or set(model) != set(actual):
            return False
        return all(matches(model[k], actual[k]) for k in model)
    return model == actual


def view_matches(model, actual):
    return (model.ns == actual.ns and model.addrs == actual.addrs and
            model.routes == actual.routes and
            model.sysctls == actual.sysctls and
            set(model.links) == set(actual.links) and
            all(matches(model.links[k], actual.links[k])
                for k in model.links))


def drop_link(v, ns, name):
    rec = v.links.pop((ns, name), None)
    v.addrs = {a for a in v.addrs if a[:2] != (ns, name)}
    # The kernel takes a link's routes with it (README.md, "Routes").
    v.routes = {k: r for k, r in v.routes.items()
                if not (k[0] == ns and r.get("dev") == name)}
    return rec


def forget_link(v, ns, name):
    """What DELETE of a veth or bridge does to the desired state."""
    rec = drop_link(v, ns, name) or {}
    peer = rec.get("peer")
    if peer:
        drop_link(v, peer["namespace"], peer["name"])
    for (lns, _), r in v.links.items():
        if lns == ns and r.get("master") == name:
            del r["master"]


def forget_ns(v, ns):
    for (lns, name), rec in list(v.links.items()):
        if lns != ns:
            continue
        drop_link(v, lns, name)
        peer = rec.get("peer")
        if peer and peer["namespace"] != ns:
            drop_link(v, peer["namespace"], peer["name"])
    v.addrs = {a for a in v.addrs if a[0] != ns}
    v.routes = {k: r for k, r in v.routes.items() if k[0] != ns}
    v.sysctls = {k: x for k, x in v.sysctls.items() if k[0] != ns}
    v.ns.discard(ns)


def rename_link(v, ns, name, new):
    rec = v.links.pop((ns, name))
    peer = rec.get("peer")
    if peer and (peer["namespace"], peer["name"]) in v.links:
        v.links[(peer["namespace"], peer["name"])]["peer"] = {
            "namespace": ns, "name": new}
    v.addrs = {(a[0], new, a[2]) if a[:2] == (ns, name) else a
               for a in v.addrs}
    for k, r in v.routes.items():
        if k[0] == ns and r.get("dev") == name:
            r["dev"] = new
    for (lns, _), r in v.links.items():
        if lns == ns and r.get("master") == name:
            r["master"] = new
    v.links[(ns, new)] = rec


class Op:
    def __init__(self, method, path, body, apply, ok=(200, 201, 204)):
        self.method, self.path, self.body = method, path, body
        self.apply = apply   # View -> None: the change, once applied
        self.ok = ok

    def after(self, before):
        v = before.copy()
        self.apply(v)
        return v

    def __str__(self):
        return "%s %s %s" % (self.method, self.path,
                             json.dumps(self.body) if self.body is not None
                             else "")


def L(ns, name=None):
    p = "/v1/namespaces/%s/links" % ns
    return p + "/" + name if name else p


class Workload:
    """Chooses a client's next request from its part of the desired
    state."""

    def __init__(self, c, rnd):
        self.c = c
        self.p = "k%d" % c
        self.rnd = rnd

    def ns_names(self):
        return [self.p + x for x in "abc"]

    def next(self, v):
        R = self.rnd
        gens = [(3, self.ns_create), (0.4, self.ns_delete),
                (1, self.host_bridge_create), (0.7, self.ns_bridge_create),
                (3, self.host_veth_create), (2, self.ns_veth_create),
                (1.2, self.veth_delete), (0.4, self.bridge_delete),
                (2, self.link_patch), (1.5, self.attach), (0.8, self.detach),
                (0.8, self.bridge_patch), (2.5, self.addr_add),
                (1, self.addr_del), (0.4, self.rename),
                (1.2, self.route_add), (0.5, self.route_del),
                (0.8, self.macvlan_create), (0.4, self.macvlan_delete),
                (1, self.sysctl_put), (0.4, self.sysctl_delete)]
        total = sum(w for w, _ in gens)
        for _ in range(20):
            x = R.uniform(0, total)
            for w, g in gens:
                x -= w
                if x <= 0:
                    break
            op = g(v)
            if op:
                return op
        return None

    # -- generators: each returns an Op or None when it does not apply --

    def ns_create(self, v):
        free = [n for n in self.ns_names() if n not in v.ns]
        if not free:
            return None
        n = self.rnd.choice(free)
        if self.rnd.random() < 0.5:
            return Op("PUT", "/v1/namespaces/" + n, {},
                      lambda m: m.ns.add(n))
        return Op("POST", "/v1/namespaces", {"name": n},
                  lambda m: m.ns.add(n))

    def ns_delete(self, v):
        if len(v.ns) < 2:
            return None
        n = self.rnd.choice(sorted(v.ns))
        return Op("DELETE", "/v1/namespaces/" + n, None,
                  lambda m: forget_ns(m, n))

    def _bridge(self, ns, name):
        up, stp = self.rnd.random() < 0.7, self.rnd.random() < 0.3

        def apply(m):
            m.links[(ns, name)] = {"kind": "bridge", "owned": True, "up": up,
                                   "mac": ANY, "stp": stp}
        return Op("POST", "/v1/namespaces/%s/bridges" % ns,
                  {"name": name, "up": up, "stp": stp}, apply)

    def host_bridge_create(self, v):
        free = ["%sbr%d" % (self.p, i) for i in range(2)
                if ("host", "%sbr%d" % (self.p, i)) not in v.links]
        return self._bridge("host", self.rnd.choice(free)) if free else None

    def ns_bridge_create(self, v):
        free = [n for n in sorted(v.ns) if (n, "nbr") not in v.links]
        return self._bridge(self.rnd.choice(free), "nbr") if free else None

    def _veth(self, ns, name, pns, pname):
        R = self.rnd
        mtu, pmtu = R.choice([1400, 1500, 9000]), R.choice([1400, 1500])
        up, pup = R.random() < 0.7, R.random() < 0.7

        def apply(m):
            m.links[(ns, name)] = {
                "kind": "veth", "owned": True, "up": up, "mtu": mtu,
                "mac": ANY, "peer": {"namespace": pns, "name": pname}}
            m.links[(pns, pname)] = {
                "kind": "veth", "owned": True, "up": pup, "mtu": pmtu,
                "mac": ANY, "peer": {"namespace": ns, "name": name}}
        return Op("POST", "/v1/namespaces/%s/veths" % ns,
                  {"name": name, "mtu": mtu, "up": up,
                   "peer": {"name": pname, "namespace": pns, "mtu": pmtu,
                            "up": pup}}, apply)

    def host_veth_create(self, v):
        if not v.ns:
            return None
        i = self.rnd.randrange(4)
        name, ns = "%sh%d" % (self.p, i), self.rnd.choice(sorted(v.ns))
        if ("host", name) in v.links or (ns, "e%d" % i) in v.links:
            return None
        return self._veth("host", name, ns, "e%d" % i)

    def ns_veth_create(self, v):
        if len(v.ns) < 2:
            return None
        a, b = self.rnd.sample(sorted(v.ns), 2)
        i = self.rnd.randrange(6)
        if (a, "v%d" % i) in v.links or (b, "w%d" % i) in v.links:
            return None
        return self._veth(a, "v%d" % i, b, "w%d" % i)

    def _mine(self, v, kind):
        return sorted(k for k, r in v.links.items() if r.get("kind") == kind)

    def veth_delete(self, v):
        vs = self._mine(v, "veth")
        if not vs:
            return None
        ns, name = self.rnd.choice(vs)
        return Op("DELETE", "/v1/namespaces/%s/veths/%s" % (ns, name), None,
                  lambda m: forget_link(m, ns, name))

    def bridge_delete(self, v):
        bs = self._mine(v, "bridge")
        if not bs:
            return None
        ns, name = self.rnd.choice(bs)
        return Op("DELETE", "/v1/namespaces/%s/bridges/%s" % (ns, name),
                  None, lambda m: forget_link(m, ns, name))

    def link_patch(self, v):
        vs = self._mine(v, "veth")
        if not vs:
            return None
        ns, name = self.rnd.choice(vs)
        body = {}
        if self.rnd.random() < 0.6:
            body["mtu"] = self.rnd.choice([1280, 1400, 1500, 9000])
        if not body or self.rnd.random() < 0.5:
            body["up"] = self.rnd.random() < 0.6

        def apply(m):
            m.links[(ns, name)].update(body)
        return Op("PATCH", L(ns, name), body, apply)

    def attach(self, v):
        pairs = []
        for (ns, name), r in v.links.items():
            if r.get("kind") != "veth" or r.get("master"):
                continue
            for (bns, br), b in v.links.items():
                if bns == ns and b.get("kind") == "bridge":
                    pairs.append((ns, name, br))
        if not pairs:
            return None
        ns, name, br = self.rnd.choice(sorted(pairs))

        def apply(m):
            m.links[(ns, name)]["master"] = br
        if self.rnd.random() < 0.5:
            return Op("PUT", "/v1/namespaces/%s/bridges/%s/ports/%s"
                      % (ns, br, name), None, apply)
        return Op("PATCH", L(ns, name), {"master": br}, apply)

    def detach(self, v):
        ports = sorted((k, r["master"]) for k, r in v.links.items()
                       if r.get("master"))
        if not ports:
            return None
        (ns, name), br = self.rnd.choice(ports)

        def apply(m):
            m.links[(ns, name)]["master"] = None
        if self.rnd.random() < 0.5:
            return Op("DELETE", "/v1/namespaces/%s/bridges/%s/ports/%s"
                      % (ns, br, name), None, apply)
        return Op("PATCH", L(ns, name), {"master": None}, apply)

    def bridge_patch(self, v):
        bs = self._mine(v, "bridge")
        if not bs:
            return None
        ns, name = self.rnd.choice(bs)
        body = self.rnd.choice([{"stp": self.rnd.random() < 0.5},
                                {"up": self.rnd.random() < 0.7},
                                {"stp": False, "up": True}])

        def apply(m):
            m.links[(ns, name)].update(body)
        return Op("PATCH", "/v1/namespaces/%s/bridges/%s" % (ns, name), body,
                  apply)

    def addr_add(self, v):
        vs = self._mine(v, "veth")
        if not vs:
            return None
        ns, name = self.rnd.choice(vs)
        n = self.rnd.randrange(1, 40)
        a = (u.cidr("198.18.%d.%d/24" % (16 + self.c, n))
             if self.rnd.random() < 0.6 else
             u.cidr("2001:db8:%x::%x/64" % (self.c + 1, n)))
        if (ns, name, a) in v.addrs:
            return None
        return Op("POST", L(ns, name) + "/addresses", {"address": a},
                  lambda m: m.addrs.add((ns, name, a)))

    def addr_del(self, v):
        if not v.addrs:
            return None
        ns, name, a = self.rnd.choice(sorted(v.addrs))
        ip, plen = a.split("/")
        return Op("DELETE", L(ns, name) + "/addresses/%s/%s" % (ip, plen),
                  None, lambda m: m.addrs.discard((ns, name, a)))

    def route_add(self, v):
        """A route through a veth end in a namespace: refused (409, nothing
        changed) while the link is down, as the kernel refuses it."""
        vs = [k for k in self._mine(v, "veth") if k[0] != "host"]
        if not vs:
            return None
        ns, name = self.rnd.choice(vs)
        dst = "198.18.%d.%d/32" % (100 + self.c, self.rnd.randrange(1, 40))
        if (ns, 254, dst, 0) in v.routes:
            return None
        rec = {"dst": dst, "dev": name, "metric": 0, "table": 254,
               "scope": "link"}
        return Op("POST", "/v1/namespaces/%s/routes" % ns,
                  {"dst": dst, "dev": name},
                  lambda m: m.routes.__setitem__((ns, 254, dst, 0), rec))

    def route_del(self, v):
        if not v.routes:
            return None
        ns, table, dst, metric = self.rnd.choice(sorted(v.routes))
        return Op("DELETE", "/v1/namespaces/%s/routes/%s" % (ns, dst), None,
                  lambda m: m.routes.pop((ns, table, dst, metric), None))

    def macvlan_create(self, v):
        """A link of the kind table (README.md, "More link kinds"), on a
        host link made for the test, that nothing else changes."""
        free = ["%smv%d" % (self.p, i) for i in range(2)
                if ("host", "%smv%d" % (self.p, i)) not in v.links]
        if not free:
            return None
        name = self.rnd.choice(free)
        mode = self.rnd.choice(["bridge", "private", "vepa"])
        up = self.rnd.random() < 0.7

        def apply(m):
            m.links[("host", name)] = {
                "kind": "macvlan", "owned": True, "up": up,
                "options": {"parent": MACVLAN_PARENT, "mode": mode}}
        return Op("POST", L("host"), {"name": name, "kind": "macvlan",
                                      "parent": MACVLAN_PARENT, "mode": mode,
                                      "up": up}, apply)

    def macvlan_delete(self, v):
        ms = self._mine(v, "macvlan")
        if not ms:
            return None
        ns, name = self.rnd.choice(ms)
        return Op("DELETE", L(ns, name), None,
                  lambda m: forget_link(m, ns, name))

    # Keys of the namespace itself, not of a link (those follow renames and
    # deletions of their link: test_sysctls.py).
    SYSCTLS = {"net.ipv4.ip_forward": "01",
               "net.ipv4.conf.all.rp_filter": "012",
               "net.ipv6.conf.default.accept_ra": "012"}

    def sysctl_put(self, v):
        if not v.ns:
            return None
        ns = self.rnd.choice(sorted(v.ns))
        key = self.rnd.choice(sorted(self.SYSCTLS))
        value = self.rnd.choice(self.SYSCTLS[key])

        def apply(m):
            m.sysctls[(ns, key)] = value
        return Op("PUT", "/v1/namespaces/%s/sysctls/%s" % (ns, key),
                  {"value": value}, apply)

    def sysctl_delete(self, v):
        if not v.sysctls:
            return None
        ns, key = self.rnd.choice(sorted(v.sysctls))
        return Op("DELETE", "/v1/namespaces/%s/sysctls/%s" % (ns, key), None,
                  lambda m: m.sysctls.pop((ns, key), None))

    def rename(self, v):
        vs = [k for k in self._mine(v, "veth") if k[0] != "host"]
        if not vs:
            return None
        ns, name = self.rnd.choice(vs)
        new = "%s%d" % (name[0], self.rnd.randrange(6, 12))
        if (ns, new) in v.links:
            return None
        return Op("PATCH", L(ns, name), {"name": new},
                  lambda m: rename_link(m, ns, name, new))


# ---------------------------------------------------------------------------
# A client


class Client:
    def __init__(self, c, port, rnd):
        self.c = c
        self.port = port
        self.work = Workload(c, rnd)
        self.prefix = self.work.p
        self.cur = None          # View: exact, from GET /v1/state
        self.inflight = None     # (Op, View before) with no answer
        self.acked_unseen = None  # (Op, View before): 2xx, state not read
        self.errors = []         # properties broken while running
        self.acked = self.failed = 0
        self.statuses = {}

    def sync(self, des):
        self.cur = View.of(des, self.prefix)
        self.inflight = self.acked_unseen = None

    def _state(self):
        r = h.http_request(self.port, "GET", "/v1/state",
                           timeout=h.scaled(20))
        if r.status != 200:
            raise OSError("GET /v1/state answered %d" % r.status)
        return View.of(u.Desired(r.json), self.prefix)

    def run(self, stop):
        while not stop.is_set():
            op = self.work.next(self.cur)
            if op is None:
                time.sleep(0.01)
                continue
            before = self.cur
            self.inflight = (op, before)
            try:
                r = h.http_request(self.port, op.method, op.path, op.body,
                                   timeout=h.scaled(20))
            except ConnectionRefusedError:
                self.inflight = None   # never reached netnsd
                return
            except (OSError, http.client.HTTPException):
                return                 # in flight when netnsd died
            self.inflight = None
            self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
            if r.status >= 500:
                self.errors.append("%s answered %r" % (op, r))
            ok = r.status in op.ok
            if ok:
                self.acked += 1
                self.acked_unseen = (op, before)
            else:
                self.failed += 1
            try:
                now = self._state()
            except (OSError, http.client.HTTPException):
                return
            if ok:
                self.acked_unseen = None
                want = op.after(before)
                if not view_matches(want, now):
                    self.errors.append(
                        "%s answered %d but the desired state is not what "
                        "it asked for:\n  want %s\n  got  %s"
                        % (op, r.status, want.describe(), now.describe()))
            elif now != before:
                self.errors.append(
                    "%s answered %d but changed the desired state:\n"
                    "  before %s\n  after  %s" % (op, r.status,
                                                  before.describe(),
                                                  now.describe()))
            self.cur = now

    def judge(self, actual):
        """After a restart: the part of the state must be what was
        acknowledged, plus the request in flight entirely or not at all.
        Returns (outcome, problem or None)."""
        if self.acked_unseen:
            op, before = self.acked_unseen
            want = op.after(before)
            if view_matches(want, actual):
                return "acked", None
            return "acked", ("%s was acknowledged but is not in the state "
                             "after the crash:\n  want %s\n  got  %s"
                             % (op, want.describe(), actual.describe()))
        if self.inflight:
            op, before = self.inflight
            if actual == before:
                return "not applied", None
            after = op.after(before)
            if view_matches(after, actual):
                return "applied", None
            return "half", ("%s was in flight; the state after the crash is "
                            "neither without it nor with all of it:\n"
                            "  before %s\n  after  %s\n  got    %s"
                            % (op, before.describe(), after.describe(),
                               actual.describe()))
        if actual == self.cur:
            return "idle", None
        return "idle", ("no request was in flight, yet the state changed:\n"
                        "  want %s\n  got  %s" % (self.cur.describe(),
                                                  actual.describe()))


# ---------------------------------------------------------------------------


def is_orphan(p):
    """Whether a kernel_vs_desired problem is a kernel object the desired
    state does not know."""
    return "(orphan" in p or (p.startswith("link ") and
                               "marked netnsd" in p)


def clean_kernel_orphans(problems):
    """Takes away orphans reported by kernel_vs_desired, so that the next
    round is judged on its own."""
    for p in problems:
        words = p.split()
        if p.startswith("namespace ") and "(orphan)" in p:
            h.run(["ip", "netns", "del", words[1]], check=False)
        elif p.startswith("link ") and "marked netnsd" in p:
            ns, name = words[1].split("/", 1)
            h.run(["ip"] + (["-n", ns] if ns != "host" else []) +
                  ["link", "del", name], check=False)
        elif p.startswith("link ") and "address" in p and "(orphan)" in p:
            ns, name = words[1].rstrip(":").split("/", 1)
            h.run(["ip"] + (["-n", ns] if ns != "host" else []) +
                  ["addr", "del", words[3], "dev", name], check=False)


@test
def sigkill_under_a_mixed_workload():
    rnd = u.rng("crash")
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    h.ip("link", "add", MACVLAN_PARENT, "type", "veth", "peer", "name",
         MACVLAN_PARENT + "1")
    clients = [Client(c, d.port, rnd) for c in range(CLIENTS)]
    des = u.Desired.fetch(d)
    for cl in clients:
        cl.sync(des)
    findings = []
    fig = {"kills": 0, "kills_in_startup": 0, "acked": 0, "failed": 0,
           "inflight_applied": 0, "inflight_not_applied": 0,
           "acked_unseen": 0, "torn_tails": 0, "journal_records": 0,
           "max_objects": 0, "max_routes": 0, "orphans": 0,
           "interrupted": 0,
           "statuses": {}}
    sw = u.Stopwatch()
    for k in range(KILLS):
        stop = threading.Event()
        threads = [threading.Thread(target=cl.run, args=(stop,), daemon=True)
                   for cl in clients]
        for t in threads:
            t.start()
        time.sleep(rnd.uniform(0.03, 0.6) * min(h.TIME_SCALE, 2))
        eq(d.kill(), -9, "netnsd killed")
        fig["kills"] += 1
        stop.set()
        for t in threads:
            t.join(h.scaled(30))
            check(not t.is_alive(), "a client did not stop after the kill")
        inflight = ["%s: %s" % (cl.prefix, cl.inflight[0])
                    for cl in clients if cl.inflight]

        # What is on disk, read as netnsd would read it.
        files = u.StateFiles(d.state_file)
        if files.problems:
            findings.append("kill %d: the state files do not load: %s"
                            % (k + 1, files.problems))
        fig["torn_tails"] += files.torn > 0
        fig["journal_records"] = files.records

        if k % 5 == 4:
            # Now a kill during the start-up reconcile.
            d.spawn()
            time.sleep(rnd.uniform(0.0, 0.08) * h.TIME_SCALE)
            d.kill()
            fig["kills"] += 1
            fig["kills_in_startup"] += 1
        try:
            d.start()
        except h.StartError as e:
            raise h.Failure("kill %d: netnsd does not start again: %s"
                            % (k + 1, e))
        des, problems = u.kernel_vs_desired_settled(d, h.scaled(3))
        fig["max_objects"] = max(fig["max_objects"], len(des.key_set()))
        fig["max_routes"] = max(fig["max_routes"], len(des.routes))
        # Start-up finishes or takes back the changes in flight, then
        # forgets their markers: the revision stays.
        markers = [key for key in files.objects
                   if key.startswith(("gone-ns/", "gone-link/", "moving/"))]
        fig["interrupted"] += len(markers)
        if des.canonical() != files.as_state().canonical() or \
                des.revision != files.revision:
            findings.append("kill %d: netnsd serves a state (revision %s) "
                            "other than the files hold (revision %s, seq "
                            "%s)" % (k + 1, des.revision, files.revision,
                                     files.seq))
        for cl in clients:
            outcome, problem = cl.judge(View.of(des, cl.prefix))
            if outcome == "applied":
                fig["inflight_applied"] += 1
            elif outcome == "not applied":
                fig["inflight_not_applied"] += 1
            elif outcome == "acked":
                fig["acked_unseen"] += 1
            if problem:
                findings.append("kill %d, client %s: %s"
                                % (k + 1, cl.prefix, problem))
            findings += ["kill %d, client %s, while running: %s"
                         % (k + 1, cl.prefix, e) for e in cl.errors]
            cl.errors = []
        # An orphan (a kernel object the desired state does not know) is a
        # half-change like any other: creations are recorded before the
        # kernel is asked, deletions and renames leave a marker that
        # start-up finishes or takes back.
        orphans = [p for p in problems if is_orphan(p)]
        fig["orphans"] += len(orphans)
        if problems:
            findings.append(
                "kill %d: after start-up the kernel does not match the "
                "desired state (in flight: %s):\n      %s"
                % (k + 1, "; ".join(inflight) or "nothing",
                   "\n      ".join(problems)))
        if problems:
            clean_kernel_orphans(problems)
            d.post("/v1/reconcile")
        for cl in clients:
            cl.sync(des)
    for cl in clients:
        fig["acked"] += cl.acked
        fig["failed"] += cl.failed
        for s, n in cl.statuses.items():
            fig["statuses"][s] = fig["statuses"].get(s, 0) + n
    # The API agrees with the kernel at the end, too.
    des = u.Desired.fetch(d)
    api = u.api_vs_kernel(d, des.namespaces)
    if api:
        findings.append("at the end, the API and the kernel disagree:\n"
                        "      " + "\n      ".join(api))
    u.say("figures: %s (%.1f s)", json.dumps(fig, sort_keys=True), sw())
    check(not findings, "%d finding(s):\n  %s", len(findings),
          "\n  ".join(findings))


# ---------------------------------------------------------------------------
# Each way a crash can interrupt a change, made on purpose


def append_record(d, ops, step=1):
    """Appends one journal record as netnsd writes it (netnsd must not be
    running): the kernel half of a change is then done by hand, and the
    state files look as they would after a SIGKILL at that moment."""
    files = u.StateFiles(d.state_file)
    rec = {"seq": files.seq + 1, "rev": files.revision + step,
           "synced": files.seq, "ops": ops}
    body = json.dumps(rec, separators=(",", ":")).encode()
    with open(d.journal, "r+b") as f:
        f.seek(files.end)  # over the room that follows the records
        f.write(b"%08x %s\n" % (u.crc32c(body), body))


@test
def interrupted_changes_are_finished_or_taken_back():
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    for ns in ("ia", "ib"):
        expect_status(d.put("/v1/namespaces/" + ns, {}), 201)
    for name, peer in (("d0", "p0"), ("r0", "q0"), ("m0", "n0")):
        expect_status(d.post("/v1/namespaces/ia/veths",
                             {"name": name, "up": True,
                              "peer": {"name": peer, "namespace": "ib"}}),
                      201)
    expect_status(d.put("/v1/namespaces/igone", {}), 201)
    r0 = h.ip_json("link", "show", "r0", ns="ia")[0]
    m0 = h.ip_json("link", "show", "m0", ns="ia")[0]
    rev = u.Desired.fetch(d).revision
    eq(d.kill(), -9, "netnsd killed")
    seq0 = u.StateFiles(d.state_file).seq

    # 1. DELETE of veth ia/d0: records forgotten with a tombstone, then the
    #    kill before the kernel delete.
    d0 = h.ip_json("link", "show", "d0", ns="ia")[0]
    append_record(d, [{"del": "link/ia/d0"}, {"del": "link/ib/p0"},
                      {"set": "gone-link/ia/d0",
                       "value": {"ifindex": d0["ifindex"]}}])
    # 2. DELETE of namespace igone: the same, killed between the unmount
    #    and the unlink (only the file is left).
    append_record(d, [{"del": "ns/igone"},
                      {"set": "gone-ns/igone", "value": {}}])
    h.run(["umount", os.path.join(h.NETNS_DIR, "igone")])
    # 3. PATCH name r0 -> r5: the marker, then the kernel rename, then the
    #    kill before the records moved.
    append_record(d, [{"set": "moving/ia/r5",
                       "value": {"namespace": "ia", "name": "r0",
                                 "ifindex": r0["ifindex"]}}], step=0)
    h.ip("link", "set", "r0", "name", "r5", ns="ia")
    # 4. PATCH namespace ia -> ib (and name m7): the same, across
    #    namespaces.
    append_record(d, [{"set": "moving/ib/m7",
                       "value": {"namespace": "ia", "name": "m0",
                                 "ifindex": m0["ifindex"]}}], step=0)
    h.ip("link", "set", "m0", "netns", "ib", "name", "m7", ns="ia")
    # 5. POST bridge ia/br: recorded, created in netnsd's group, killed
    #    before the alias was set.
    append_record(d, [{"set": "link/ia/br",
                       "value": {"kind": "bridge", "owned": True,
                                 "up": True, "mac": "02:00:00:00:00:b1"}}])
    h.ip("link", "add", "name", "br", "address", "02:00:00:00:00:b1",
         "group", str(0x6e6e7364), "type", "bridge", ns="ia")
    # 6. DELETE of namespace istuck, whose finishing fails at start-up:
    #    its path is a directory with something in it, which no unlink
    #    removes. The marker must stay until a later reconcile succeeds.
    append_record(d, [{"set": "gone-ns/istuck", "value": {}}], step=0)
    stuck = os.path.join(h.NETNS_DIR, "istuck")
    os.makedirs(os.path.join(stuck, "x"))
    h.on_cleanup(lambda: shutil.rmtree(stuck, ignore_errors=True))
    files = u.StateFiles(d.state_file)
    eq(files.problems, [], "the hand-made records load")
    eq((files.torn, files.seq), (0, seq0 + 6),
       "torn bytes and last sequence after the six hand-made records")

    d.start()
    check("gone-ns/istuck" in u.StateFiles(d.state_file).objects,
          "a marker whose work failed was forgotten at start-up")
    shutil.rmtree(stuck)
    expect_status(d.post("/v1/reconcile"), 200)
    des, problems = u.kernel_vs_desired_settled(d, h.scaled(5))
    eq(problems, [], "after start-up the kernel matches the desired state")
    check(("ia", "d0") not in des.links and ("ib", "p0") not in des.links,
          "the deleted veth stays forgotten")
    check("d0" not in [l["ifname"] for l in h.ip_json("link", "show",
                                                        ns="ia")] and
          "p0" not in [l["ifname"] for l in h.ip_json("link", "show",
                                                     ns="ib")],
          "the deleted veth is gone, both ends")
    check("igone" not in h.netns_list(), "the namespace file is gone")
    eq(h.ip_json("link", "show", "r0", ns="ia")[0]["ifindex"],
       r0["ifindex"], "the renamed link is back under its old name")
    eq(h.ip_json("link", "show", "m0", ns="ia")[0]["address"],
       m0["address"], "the moved link is back in its namespace")
    eq(h.ip_json("link", "show", "br", ns="ia")[0].get("ifalias"),
       "netnsd", "the bridge born in netnsd's group got its mark")
    eq(des.revision, rev + 3, "one revision per change, none for markers")
    check(not [k for k in u.StateFiles(d.state_file).objects
               if k.startswith(("gone-", "moving/"))],
          "the markers are forgotten")


# ---------------------------------------------------------------------------
# Damage that no power loss leaves


def journal_records(data):
    """(start, end) of each whole record, up to the zeros of the room."""
    out, pos = [], 0
    while pos < len(data) and data[pos] != 0:
        nl = data.find(b"\n", pos)
        if nl < 0:
            break
        out.append((pos, nl + 1))
        pos = nl + 1
    return out


def digest(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
        return None


def fold_into_snapshot(d):
    """What netnsd's compaction leaves (netnsd stopped): the records in a
    snapshot, the journal empty."""
    files = u.StateFiles(d.state_file)
    eq(files.problems, [], "the state files load")
    snap = {"format": "netnsd-state", "version": 1, "seq": files.seq,
            "revision": files.revision, "objects": files.objects}
    with open(d.state_file + ".tmp", "w") as f:
        f.write(json.dumps(snap, separators=(",", ":"), sort_keys=True))
        f.write("\n")
    os.rename(d.state_file + ".tmp", d.state_file)
    open(d.journal, "wb").close()


def record_line(rec):
    body = json.dumps(rec, separators=(",", ":")).encode()
    return b"%08x %s\n" % (u.crc32c(body), body)


@test
def damage_no_power_loss_leaves_stops_startup():
    d = h.daemon()
    names = ["jd%03d" % i for i in range(270)]
    for ns in names[:10]:
        expect_status(d.put("/v1/namespaces/" + ns, {}), 201)
    eq(d.stop(), 0, "exit status on SIGTERM")
    fold_into_snapshot(d)
    d.start()
    for ns in names[10:]:
        expect_status(d.put("/v1/namespaces/" + ns, {}), 201)
    kernel = h.netns_list()
    eq(d.kill(), -9, "netnsd killed")
    good = open(d.journal, "rb").read()
    recs = journal_records(good)
    check(len(recs) >= 250 and recs[-1][1] > 4 * 4096 and
          not good[recs[-1][1]:].strip(b"\0"),
          "want 250+ records over 16 KiB, then the room: %d records, "
          "%d bytes", len(recs), len(good))
    snap = digest(d.state_file)
    check(snap is not None, "a snapshot is there")
    k = 17  # the 18th record
    rk, rk1 = recs[k], recs[k + 1]
    in_page = [r for r in recs if r[0] <= 4096 < r[1]][0]

    def zero_byte(b):
        b[(rk[0] + rk[1]) // 2] = 0

    def zero_page(b):
        b[4096:8192] = bytes(4096)

    def flip_bit(b):
        i = b.index(b"ns/jd", rk[0]) + 3
        b[i] ^= 0x01  # 'j' -> 'k'

    def repeat(b):
        b[rk1[0]:rk1[0]] = b[rk[0]:rk[1]]

    def remove(b):
        del b[rk[0]:rk[1]]

    for damage, at, what in [(zero_byte, rk[0], "one zero byte in record 18"),
                             (zero_page, in_page[0], "the page at 4096 lost"),
                             (flip_bit, rk[0], "a bit flipped in record 18"),
                             (repeat, rk1[0], "record 18 twice"),
                             (remove, rk[0], "record 18 removed")]:
        b = bytearray(good)
        damage(b)
        with open(d.journal, "wb") as f:
            f.write(b)
        journal = digest(d.journal)
        p = d.run_once()
        check(p.returncode > 0, "%s: want a non-zero exit, got %d", what,
              p.returncode)
        lines = [l for l in p.stderr.splitlines() if l.strip()]
        check(len(lines) == 1 and d.journal in lines[0] and
              "damaged at byte %d " % at in lines[0],
              "%s: want one line naming the journal and byte %d, got %r",
              what, at, p.stderr)
        eq(digest(d.journal), journal, "journal after the refused start (%s)"
           % what)
        eq(digest(d.state_file), snap, "snapshot after the refused start (%s)"
           % what)
        eq(h.netns_list(), kernel, "namespaces after the refused start (%s)"
           % what)

    # A power loss: the last record cut short where the room begins.
    last = recs[-1]
    b = bytearray(good)
    b[(last[0] + last[1]) // 2:] = bytes(len(b) - (last[0] + last[1]) // 2)
    with open(d.journal, "wb") as f:
        f.write(b)
    d.start()
    got = u.Desired.fetch(d).namespaces
    eq(sorted(got), names[:-1], "desired after a torn last record")
    eq(d.stop(), 0, "exit status on SIGTERM")
    after = open(d.journal, "rb").read()
    check(after.startswith(good[:last[0]]) and
          good[last[0]:last[1] - 1] not in after,
          "the records before the torn one are kept, the torn one gone")

    # A power loss amid a batch no sync covered: three records, each
    # saying the last one on disk was the one before the batch; the pages
    # of the first two lost, the third whole. Cut, the hole too.
    with open(d.journal, "wb") as f:
        f.write(good)
    files = u.StateFiles(d.state_file)
    eq(files.problems, [], "the journal loads again")
    value = files.objects["ns/" + names[0]]
    batch = b"".join(record_line({"seq": files.seq + i,
                                  "rev": files.revision + i,
                                  "synced": files.seq,
                                  "ops": [{"set": "ns/jbatch%d" % i,
                                           "value": value}]})
                     for i in (1, 2, 3))
    b = bytearray(good[:last[1]] + batch + bytes(4096))
    first = batch.index(b"\n") + 1
    b[last[1] + 20:last[1] + first + 30] = bytes(first + 10)
    with open(d.journal, "wb") as f:
        f.write(b)
    d.start()
    got = u.Desired.fetch(d).namespaces
    eq(sorted(got), names, "desired after an unsynced batch out of order")
    eq(d.stop(), 0, "exit status on SIGTERM")
    after = open(d.journal, "rb").read()
    check(after.startswith(good[:last[1]]) and b"jbatch" not in after and
          b"\0" not in after,
          "the journal is cut back to the last whole record, hole and all")


if __name__ == "__main__":
    h.run_tests()
