#!/usr/bin/python3
"""Reliability 5: concurrency.

32 client threads, each with its own keep-alive connection, for 60 s
(NETNSD_CONCURRENCY_SECONDS changes it), do mixed creates, deletes, PATCHes
and GETs on a small pool of overlapping names: 4 namespaces, veths between
the host and them and between them, bridges in the host and in them, ports,
addresses, and now and then a reconcile. Every request must be answered
within a timeout (no deadlock), with one of the statuses its route documents
for such a case (2xx, 404 for a name another client just deleted, 409 for
one it just made) and never a 5xx. Afterwards the desired state, the kernel
(`ip -j`, field by field, orphans included) and the API's answers must
agree exactly.

Then the races on one name: 32 clients released at once on an idempotent
PUT of the same namespace (exactly one 201, the rest 200, one namespace),
a POST of the same namespace and of the same veth (one 201, the rest 409,
one object), a PUT of the same bridge port (one 201, the rest 200), a
DELETE of the same namespace (one 204, the rest 404).

Last, the race the 32 clients run into with the kernel: a request on the
far end of a pair right after its namespace was deleted."""

import json
import threading
import time

import harness as h
from harness import check, eq, expect_status, test
import reliability_util as u
from topology import clean_host_links

SECONDS = u.env_float("NETNSD_CONCURRENCY_SECONDS", 60)
THREADS = 32

NS = ["c0", "c1", "c2", "c3"]


def L(ns, name=None):
    p = "/v1/namespaces/%s/links" % ns
    return p + "/" + name if name else p


GETS = (200, 404)


def choose(R):
    """One request on the shared names: (method, path, body, allowed)."""
    ns = R.choice(NS)
    ns2 = R.choice([n for n in NS if n != ns])
    i = R.randrange(6)
    j = R.randrange(4)
    links = [("host", "cv%d" % i), (ns, "e%d" % i), (ns, "x%d" % j),
             (ns2, "y%d" % j)]
    lns, link = R.choice(links)
    bns, br = R.choice([("host", "cb%d" % R.randrange(2)), (ns, "nb")])
    addr = R.choice(["198.18.50.%d/24" % R.randrange(1, 12),
                     "2001:db8:50::%x/64" % R.randrange(1, 12)])
    x = R.random() * 100
    if x < 35:
        return ("GET", R.choice([
            "/v1/namespaces", "/v1/namespaces/" + ns, L(ns), L(lns, link),
            L(lns, link) + "/addresses", "/v1/namespaces/%s/veths" % ns,
            "/v1/namespaces/%s/bridges" % bns,
            "/v1/namespaces/%s/bridges/%s" % (bns, br),
            "/v1/namespaces/%s/bridges/%s/ports" % (bns, br),
            "/v1/state", "/metrics", "/healthz", L("host")]), None, GETS)
    if x < 42:
        return ("PUT", "/v1/namespaces/" + ns, {}, (200, 201))
    if x < 45:
        return ("POST", "/v1/namespaces", {"name": ns}, (201, 409))
    if x < 47:
        return ("DELETE", "/v1/namespaces/" + ns, None, (204, 404))
    if x < 55:
        return ("POST", "/v1/namespaces/host/veths",
                {"name": "cv%d" % i, "up": R.random() < 0.7,
                 "mtu": R.choice([1400, 1500]),
                 "peer": {"name": "e%d" % i, "namespace": ns,
                          "up": R.random() < 0.7}}, (201, 404, 409))
    if x < 61:
        return ("POST", "/v1/namespaces/%s/veths" % ns,
                {"name": "x%d" % j, "up": True,
                 "peer": {"name": "y%d" % j, "namespace": ns2}},
                (201, 404, 409))
    if x < 65:
        return ("DELETE", "/v1/namespaces/%s/veths/%s" % (lns, link), None,
                (204, 404))
    if x < 69:
        return ("POST", "/v1/namespaces/%s/bridges" % bns,
                {"name": br, "up": R.random() < 0.8,
                 "stp": R.random() < 0.2}, (201, 404, 409))
    if x < 71:
        return ("PATCH", "/v1/namespaces/%s/bridges/%s" % (bns, br),
                R.choice([{"stp": R.random() < 0.5}, {"up": True}]),
                (200, 404))
    if x < 72.5:
        return ("DELETE", "/v1/namespaces/%s/bridges/%s" % (bns, br), None,
                (204, 404))
    if x < 77:
        # A port: the bridge and the link must share a namespace.
        pl = "cv%d" % i if bns == "host" else R.choice(
            ["e%d" % i, "x%d" % j])
        return ("PUT", "/v1/namespaces/%s/bridges/%s/ports/%s"
                % (bns, br, pl), None, (200, 201, 404))
    if x < 79:
        pl = "cv%d" % i if bns == "host" else "e%d" % i
        return ("DELETE", "/v1/namespaces/%s/bridges/%s/ports/%s"
                % (bns, br, pl), None, (204, 404))
    if x < 86:
        body = R.choice([{"mtu": R.choice([1280, 1400, 1500])},
                         {"up": R.random() < 0.7},
                         {"mtu": 1450, "up": True}])
        return ("PATCH", L(lns, link), body, (200, 404))
    if x < 88:
        if lns == "host":
            return ("PATCH", L("host", link),
                    {"master": R.choice(["cb0", "cb1", None])},
                    (200, 404))
        return ("PATCH", L(lns, link), {"master": R.choice(["nb", None])},
                (200, 404))
    if x < 95:
        return ("POST", L(lns, link) + "/addresses", {"address": addr},
                (201, 404, 409))
    if x < 99.3:
        ip_, plen = addr.split("/")
        return ("DELETE", L(lns, link) + "/addresses/%s/%s" % (ip_, plen),
                None, (204, 404))
    return ("POST", "/v1/reconcile", None, (200,))


class Load:
    def __init__(self, d, seconds, rnd):
        self.d = d
        self.end = time.monotonic() + seconds
        self.seeds = [rnd.randrange(1 << 30) for _ in range(THREADS)]
        self.lock = threading.Lock()
        self.statuses = {}
        self.by_method = {}
        self.bad = []
        self.max_latency = 0.0
        self.requests = 0

    def client(self, k):
        import random
        R = random.Random(self.seeds[k])
        c = u.KeepAlive(self.d.port, timeout=h.scaled(30))
        while time.monotonic() < self.end:
            method, path, body, allowed = choose(R)
            t0 = time.monotonic()
            try:
                r = c.request(method, path, body)
                status, what = r.status, r
            except Exception as e:  # noqa: BLE001 - timeouts, resets
                status, what = "no answer", e
                c.close()
            dt = time.monotonic() - t0
            with self.lock:
                self.requests += 1
                self.max_latency = max(self.max_latency, dt)
                self.statuses[status] = self.statuses.get(status, 0) + 1
                key = "%s %s" % (method, status)
                self.by_method[key] = self.by_method.get(key, 0) + 1
                if status not in allowed:
                    self.bad.append("%.1f s: %s %s %s -> %r (after %.2f s)"
                                    % (time.monotonic() - self.end + SECONDS,
                                       method, path, json.dumps(body), what,
                                       dt))
        c.close()


def settle(d, namespaces, timeout):
    """Desired state, kernel and API compared, once what the kernel does
    asynchronously (the teardown of a deleted namespace) is over."""
    dl = h.Deadline(timeout)
    while True:
        des = u.Desired.fetch(d)
        nss = sorted((set(namespaces) & set(h.netns_list())) |
                     des.namespaces)
        topo = u.kernel_topology(nss)
        problems = u.kernel_vs_desired(des, topo)
        problems += u.api_vs_kernel(d, nss, topo)
        if not problems or dl.expired():
            return des, problems
        time.sleep(0.25)


@test
def thirty_two_clients_on_overlapping_names():
    rnd = u.rng("concurrency")
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    load = Load(d, SECONDS, rnd)
    sw = u.Stopwatch()
    stuck = u.threads_run([lambda k=k: load.client(k)
                           for k in range(THREADS)],
                          SECONDS + h.scaled(60))
    took = sw()
    check(not stuck, "%d client(s) still waiting for an answer %.0f s after "
          "the end: a deadlock?\n%s", len(stuck), h.scaled(60),
          u.log_lines(d, "error", "warn", limit=20))
    check(d.running(), "netnsd died")
    des, problems = settle(d, NS, h.scaled(10))
    mutations = sum(n for k, n in load.by_method.items()
                    if not k.startswith("GET"))
    u.say("figures: %s", json.dumps({
        "threads": THREADS, "seconds": round(took, 1),
        "requests": load.requests, "mutations": mutations,
        "statuses": {str(k): v for k, v in sorted(
            load.statuses.items(), key=str)},
        "max_latency_s": round(load.max_latency, 3),
        "final_objects": len(des.key_set())}, sort_keys=True))
    out = []
    if load.bad:
        out.append("%d request(s) with an answer outside the documented "
                   "ones (first 30):\n    %s" % (
                       len(load.bad), "\n    ".join(load.bad[:30])))
    if problems:
        out.append("afterwards, desired state, kernel and API disagree:\n"
                   "    %s" % "\n    ".join(problems[:40]))
    check(not out, "\n  ".join(out))


def race(d, n, method, path, body=None):
    """n clients released at once on the same request: their statuses."""
    barrier = threading.Barrier(n)
    out = [None] * n

    def one(k):
        barrier.wait()
        try:
            out[k] = d.request(method, path, body).status
        except Exception as e:  # noqa: BLE001
            out[k] = repr(e)
    stuck = u.threads_run([lambda k=k: one(k) for k in range(n)],
                          h.scaled(60))
    check(not stuck, "%s %s: %d clients got no answer", method, path,
          len(stuck))
    return sorted(out, key=str)


def counts(statuses):
    c = {}
    for s in statuses:
        c[s] = c.get(s, 0) + 1
    return c


@test
def racing_requests_on_one_name_end_with_one_object():
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    rounds = 10
    for r in range(rounds):
        name = "race%d" % r
        eq(counts(race(d, THREADS, "PUT", "/v1/namespaces/" + name, {})),
           {201: 1, 200: THREADS - 1}, "racing PUT /v1/namespaces/" + name)
        eq([n for n in h.netns_list() if n == name], [name],
           "namespaces named %s" % name)
        name = "rpost%d" % r
        eq(counts(race(d, THREADS, "POST", "/v1/namespaces",
                       {"name": name})),
           {201: 1, 409: THREADS - 1}, "racing POST of namespace " + name)
    des = u.Desired.fetch(d)
    eq(sorted(n for n in des.namespaces),
       sorted(["race%d" % r for r in range(rounds)] +
              ["rpost%d" % r for r in range(rounds)]),
       "desired namespaces")
    eq(counts(race(d, THREADS, "POST", "/v1/namespaces/host/veths",
                   {"name": "rv", "peer": {"name": "e0",
                                           "namespace": "race0"}})),
       {201: 1, 409: THREADS - 1}, "racing POST of veth rv")
    expect_status(d.post("/v1/namespaces/host/bridges", {"name": "rbr"}),
                  201)
    eq(counts(race(d, THREADS, "PUT",
                   "/v1/namespaces/host/bridges/rbr/ports/rv")),
       {201: 1, 200: THREADS - 1}, "racing PUT of port rv")
    eq(counts(race(d, THREADS, "POST", L("race0", "e0") + "/addresses",
                   {"address": "198.18.51.1/24"})),
       {201: 1, 409: THREADS - 1}, "racing POST of an address")
    eq(counts(race(d, THREADS, "DELETE", "/v1/namespaces/rpost0")),
       {204: 1, 404: THREADS - 1}, "racing DELETE of namespace rpost0")
    des, problems = settle(d, [], h.scaled(10))
    check(not problems, "afterwards:\n  %s", "\n  ".join(problems))
    eq([l["ifname"] for l in h.ip_json("link", "show")
        if l["ifname"] == "rv"], ["rv"], "veths named rv")


@test
def a_request_right_after_a_namespace_delete_sees_its_pairs_gone():
    """The kernel takes the veth pairs of a deleted namespace a moment
    after the namespace goes (its teardown is asynchronous). A client that
    acts on the far end right after the 204, as the 32 clients above do
    now and then, must not find it, nor leave desired state behind for a
    link that is about to vanish, which no reconcile could then make, or
    report."""
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    c = u.KeepAlive(d.port)
    out = []
    rounds = 10
    for i in range(rounds):
        expect_status(c.put("/v1/namespaces/gx", {}), (200, 201))
        expect_status(c.post("/v1/namespaces/host/veths", {
            "name": "gv", "peer": {"name": "e", "namespace": "gx"}}), 201)
        expect_status(c.delete("/v1/namespaces/gx"), 204)
        r = c.patch(L("host", "gv"), {"mtu": 1400})
        if r.status != 404:
            out.append("round %d: DELETE /v1/namespaces/gx answered 204, "
                       "then PATCH /v1/namespaces/host/links/gv {\"mtu\": "
                       "1400} (the host end of the pair into gx) answered "
                       "%d" % (i + 1, r.status))
        h.wait_until(lambda: "gv" not in {l["ifname"] for l in h.ip_json(
            "link", "show")}, timeout=h.scaled(10), what="gv to go")
        rec = u.Desired.fetch(d).links.get(("host", "gv"))
        if rec is not None:
            g = c.get(L("host", "gv")).json
            rep = c.post("/v1/reconcile").json
            out.append("round %d: the desired state now holds host/gv %s "
                       "for a link the kernel took away: GET says in_sync "
                       "%s, drift %s, kind %r; POST /v1/reconcile answers "
                       "%s" % (i + 1, json.dumps(rec), g.get("in_sync"),
                               g.get("drift"), g.get("kind"),
                               json.dumps(rep)))
            c.delete(L("host", "gv"))
    c.close()
    check(not out, "%d problem(s) in %d rounds (the first 4):\n  %s",
          len(out), rounds, "\n  ".join(out[:4]))


@test
def listing_links_while_they_change_never_fails():
    """A link dump that the kernel flags as interrupted (links changed while
    it ran: NLM_F_DUMP_INTR) is read to its end and taken again, never
    answered 500. 120 pairs with addresses make every dump several
    messages long; a thread adds and deletes pairs and addresses with ip
    meanwhile."""
    d = h.daemon()
    expect_status(d.put("/v1/namespaces/churn", {}), 201)
    h.run(["ip", "-n", "churn", "-batch", "-"], input="".join(
        "link add s%d type veth peer name t%d\n"
        "addr add 198.18.%d.%d/32 dev s%d\n" % (i, i, 1 + i // 200,
                                                 1 + i % 200, i)
        for i in range(120)))
    stop = threading.Event()

    def churn():
        i = 0
        while not stop.is_set():
            h.run(["ip", "-n", "churn", "-batch", "-"], check=False,
                  input="link add x%d type veth peer name y%d\n"
                        "addr add 198.19.0.1/32 dev s0\n"
                        "addr add 2001:db8::1/128 dev s0\n"
                        "addr del 198.19.0.1/32 dev s0\n"
                        "addr del 2001:db8::1/128 dev s0\n"
                        "link del x%d\n" % (i, i, i))
            i += 1
    t = threading.Thread(target=churn, daemon=True)
    t.start()
    c = u.KeepAlive(d.port)
    statuses = {}
    try:
        dl = h.Deadline(h.scaled(4))
        while not dl.expired():
            r = c.get(L("churn"))
            statuses[r.status] = statuses.get(r.status, 0) + 1
            if r.status != 200:
                break
            names = {l["name"] for l in r.json["items"]}
            check({"s0", "t119"} <= names,
                  "a list in the middle of changes lost steady links")
    finally:
        stop.set()
        t.join(h.scaled(10))
        c.close()
    eq(set(statuses), {200}, "GET links while links change: %s" % statuses)


if __name__ == "__main__":
    h.run_tests()
