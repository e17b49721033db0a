#!/usr/bin/python3
"""Reliability 6: resource leaks.

20,000 requests (NETNSD_LEAK_REQUESTS changes it) of every kind, most on
one keep-alive connection and every tenth on a fresh one: namespaces,
veths (host to namespace, namespace to namespace), bridges, ports,
addresses created, changed (MTU, admin state, rename, move) and deleted;
every GET; reconciles; and requests that fail on purpose (404, 400 for bad
JSON, an unknown field or a bad name, 405, 409 for a duplicate or an
unmanaged host link, 413, 415), plus connections dropped halfway through
their headers or body. Each cycle ends where it began, so after it netnsd
should hold what it held before.

Measured in /proc/PID after a warm-up (the baseline) and at the end, each
time after the socket pool's once-a-second sweep: open file descriptors,
sockets, netlink sockets (socket inodes found in /proc/net/netlink of the
sandbox or of a named namespace), VmRSS, threads, and the nsfs mounts
under /run/netns. Bounds: fds and sockets +8, RSS +8 MiB (+16 MiB under
AddressSanitizer, run with a 4 MiB quarantine; LeakSanitizer also checks
for leaks there at exit), threads and mounts unchanged."""

import json
import os
import re
import socket
import time

import harness as h
from harness import check, eq, expect_status, test
import reliability_util as u
from topology import clean_host_links

REQUESTS = u.env_int("NETNSD_LEAK_REQUESTS", 20000)
FD_BOUND = 8
RSS_BOUND_KIB = (16 if h.SANITIZED else 8) * 1024
MAX_BODY = 65536
EVENTS_HISTORY = 10000  # netnsd's default --events-history

if h.SANITIZED:
    # AddressSanitizer keeps freed memory in a quarantine (256 MiB by
    # default) before it is reused, which RSS would count as growth: a
    # small one lets RSS show real growth. (LeakSanitizer checks at exit.)
    os.environ["ASAN_OPTIONS"] = ":".join(
        x for x in (os.environ.get("ASAN_OPTIONS") or
                    "detect_leaks=1:abort_on_error=1",
                    "quarantine_size_mb=4",
                    "thread_local_quarantine_size_kb=64") if x)


def L(ns, name=None):
    p = "/v1/namespaces/%s/links" % ns
    return p + "/" + name if name else p


class Driver:
    def __init__(self, d):
        self.d = d
        self.c = u.KeepAlive(d.port)
        self.n = 0
        self.statuses = {}
        self.fresh = 0
        self.dropped = 0

    def req(self, method, path, body=None, want=None, **kw):
        self.n += 1
        if self.n % 10 == 0:
            self.fresh += 1
            r = h.http_request(self.d.port, method, path, body, **kw)
        else:
            r = self.c.request(method, path, body, **kw)
        self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
        if want is not None:
            expect_status(r, want, "%s %s %s" % (method, path,
                                                 json.dumps(body)
                                                 if not isinstance(
                                                     body, bytes) else
                                                 "<%d bytes>" % len(body)))
        return r

    def drop_halfway(self, k):
        """A client that goes away in the middle of its request."""
        s = socket.create_connection((h.API_HOST, self.d.port),
                                     timeout=h.scaled(5))
        if k % 2:
            s.sendall(b"GET /v1/namespaces HTTP/1.1\r\n"
                      b"Host: 127.0.0.1\r\nX-A: ")
        else:
            s.sendall(b"POST /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Content-Length: 100\r\n\r\n{\"name\":")
        s.close()
        self.n += 1
        self.dropped += 1

    def bad(self, method, path, body=None, want=None, **kw):
        """A request that fails on purpose, outside the API's contract
        where its body is malformed on purpose."""
        with h.outside_contract("malformed, too large or mistyped on "
                                "purpose, to see it fail without a leak"):
            return self.req(method, path, body, want, **kw)

    def failing(self, ns):
        R, B = self.req, self.bad
        R("GET", "/v1/namespaces/nonesuch", want=404)
        R("GET", L(ns, "nonesuch"), want=404)
        R("GET", "/v1/nonesuch", want=404)
        R("DELETE", L(ns, "kv") + "/addresses/198.18.99.1/24", want=404)
        R("POST", "/v1/namespaces", {"name": "keep"}, want=409)
        R("POST", "/v1/namespaces/%s/veths" % ns,
          {"name": "kv", "peer": {"name": "kw"}}, want=409)
        B("POST", "/v1/namespaces", b"{", want=400)
        B("POST", "/v1/namespaces", {"name": "z", "colour": "red"},
          want=400)
        B("POST", "/v1/namespaces", {"name": "-bad"}, want=400)
        B("PATCH", L(ns, "kv"), {"mtu": 12}, want=400)
        B("POST", "/v1/namespaces", b'{"name":"x"}',
          content_type="text/plain", want=415)
        R("PUT", "/v1/namespaces", {}, want=405)
        R("DELETE", L("host", "ua"), want=409)
        B("POST", "/v1/namespaces", b'{"name":"' + b"x" * (MAX_BODY + 10) +
          b'"}', want=413)

    def light(self, k):
        """Reads, failures and cheap changes on what stays ("keep")."""
        R = self.req
        ns = "keep"
        for p in ("/v1/namespaces", "/v1/namespaces/" + ns, L(ns),
                  L(ns, "kv"), L(ns, "kv") + "/addresses", L("host"),
                  "/v1/namespaces/%s/veths" % ns,
                  "/v1/namespaces/%s/veths/kv" % ns,
                  "/v1/namespaces/%s/bridges" % ns,
                  "/v1/namespaces/%s/bridges/kb" % ns,
                  "/v1/namespaces/%s/bridges/kb/ports" % ns, "/v1/state",
                  "/healthz", "/readyz"):
            R("GET", p, want=200)
        self.failing(ns)
        R("PUT", "/v1/namespaces/" + ns, None, want=200)
        R("PATCH", L(ns, "kv"), {"mtu": 1400 + k % 2, "up": True},
          want=200)
        R("POST", L(ns, "kv") + "/addresses", {"address": "198.18.61.1/24"},
          want=201)
        R("POST", L(ns, "kv") + "/addresses",
          {"address": "2001:db8:61::1/64"}, want=201)
        R("DELETE", L(ns, "kv") + "/addresses/198.18.61.1/24", want=204)
        R("DELETE", L(ns, "kv") + "/addresses/2001:db8:61::1/64", want=204)
        R("PUT", "/v1/namespaces/%s/bridges/kb/ports/kw" % ns, want=201)
        R("DELETE", "/v1/namespaces/%s/bridges/kb/ports/kw" % ns, want=204)
        R("PATCH", L(ns, "kw"), {"name": "kz"}, want=200)
        R("PATCH", L(ns, "kz"), {"name": "kw"}, want=200)
        R("PATCH", "/v1/namespaces/%s/bridges/kb" % ns,
          {"stp": k % 2 == 1}, want=200)
        if k % 10 == 0:
            R("GET", "/metrics", want=200)
            R("GET", "/openapi.yaml", want=200)
            R("POST", "/v1/reconcile", want=200)
            self.drop_halfway(k)

    def heavy(self, k):
        """One round of every kind of change; leaves things as it found
        them."""
        R = self.req
        ns, ns2 = "lk%d" % (k % 3), "lm%d" % (k % 3)
        R("PUT", "/v1/namespaces/" + ns, {}, want=201)
        R("POST", "/v1/namespaces", {"name": ns2}, want=201)
        R("POST", "/v1/namespaces", {"name": ns}, want=409)
        R("POST", "/v1/namespaces/host/veths", {
            "name": "lv", "up": True, "mtu": 1400,
            "peer": {"name": "e0", "namespace": ns, "up": True}}, want=201)
        R("POST", "/v1/namespaces/host/veths", {
            "name": "lv", "peer": {"name": "e9", "namespace": ns}},
            want=409)
        R("POST", "/v1/namespaces/%s/veths" % ns, {
            "name": "a", "peer": {"name": "b", "namespace": ns2}}, want=201)
        R("POST", "/v1/namespaces/%s/veths" % ns, {
            "name": "ia", "peer": {"name": "ib"}}, want=201)
        R("POST", "/v1/namespaces/host/bridges",
          {"name": "lbr", "up": True, "stp": k % 2 == 0}, want=201)
        R("POST", "/v1/namespaces/%s/bridges" % ns, {"name": "nb"},
          want=201)
        R("PUT", "/v1/namespaces/host/bridges/lbr/ports/lv", want=201)
        R("PATCH", L(ns, "ia"), {"master": "nb"}, want=200)
        R("PATCH", "/v1/namespaces/host/bridges/lbr", {"stp": k % 2 == 1},
          want=200)
        R("PATCH", L(ns, "e0"), {"mtu": 1300, "up": True}, want=200)
        R("PATCH", L(ns, "a"), {"name": "a2"}, want=200)
        R("PATCH", L(ns, "a2"), {"namespace": ns2, "name": "a3"},
          want=200)
        R("POST", L(ns, "e0") + "/addresses", {"address": "198.18.60.1/24"},
          want=201)
        R("POST", L(ns, "e0") + "/addresses",
          {"address": "2001:db8:60::1/64"}, want=201)
        R("GET", "/v1/namespaces/host/bridges/lbr/ports", want=200)
        R("GET", L(ns), want=200)
        R("GET", "/v1/namespaces/%s/veths" % ns2, want=200)
        R("DELETE", "/v1/namespaces/host/bridges/lbr/ports/lv", want=204)
        R("DELETE", "/v1/namespaces/%s/bridges/nb" % ns, want=204)
        R("DELETE", "/v1/namespaces/host/bridges/lbr", want=204)
        R("DELETE", "/v1/namespaces/host/veths/lv", want=204)
        R("DELETE", "/v1/namespaces/%s/veths/ia" % ns, want=204)
        R("DELETE", "/v1/namespaces/" + ns2, want=204)
        R("DELETE", "/v1/namespaces/" + ns, want=204)
        R("DELETE", "/v1/namespaces/" + ns, want=404)

    def cycle(self, k):
        if k % 8 == 0:
            self.heavy(k // 8)
        self.light(k)


CONN_TIMEOUT = 2


def figures(d):
    # The socket pool is swept once a second; connections a client left
    # halfway are closed by --connection-timeout at the latest (see
    # a_client_gone_midway_is_let_go_at_once for why that matters).
    time.sleep(CONN_TIMEOUT + 1.5)
    return u.proc_figures(d.proc.pid)


def fill_event_history(d, events=EVENTS_HISTORY + 1000):
    """Fills netnsd's event history (a bounded ring, kept by design) with
    events the size of those the requests cause, so that its growth is
    in the baseline and not taken for a leak: MTU changes of a managed
    link behind netnsd's back, each an event with the link's object."""
    sent = 0
    while sent < events:
        batch = "".join("link set kv mtu %d\n" % (1300 + (sent + i) % 200)
                        for i in range(200))
        h.run(["ip", "-n", "keep", "-batch", "-"], input=batch)
        sent += 200
        time.sleep(0.05)  # as fast as the monitor reads: none dropped
    h.ip("link", "set", "kv", "mtu", "1500", ns="keep")


@test
def twenty_thousand_requests_leave_nothing_behind():
    # The state on a tmpfs: leaks do not depend on the disk, and 20,000
    # requests should not wait for thousands of fdatasyncs.
    d = h.daemon(args=["--max-body", str(MAX_BODY), "--connection-timeout",
                       str(CONN_TIMEOUT)],
                 state_dir=u.mount_tmpfs("64m"))
    h.on_cleanup(clean_host_links)
    h.ip("link", "add", "ua", "type", "veth", "peer", "name", "ub")
    expect_status(d.put("/v1/namespaces/keep", {}), 201)
    expect_status(d.post("/v1/namespaces/keep/veths", {
        "name": "kv", "up": True, "peer": {"name": "kw", "up": True}}), 201)
    expect_status(d.post("/v1/namespaces/keep/bridges",
                         {"name": "kb", "up": True}), 201)
    drv = Driver(d)
    for k in range(16):
        drv.cycle(k)
    fill_event_history(d)
    base = figures(d)
    start_n, sw, k = drv.n, u.Stopwatch(), 16
    while drv.n - start_n < REQUESTS:
        drv.cycle(k)
        k += 1
    took = sw()
    drv.c.close()
    end = figures(d)
    eq(h.netns_list(), ["keep"], "namespaces left")
    u.say("figures: %s", json.dumps({
        "requests": drv.n - start_n, "cycles": k - 16,
        "fresh_connections": drv.fresh, "dropped_halfway": drv.dropped,
        "seconds": round(took, 1),
        "per_second": round((drv.n - start_n) / took),
        "statuses": {str(s): n for s, n in sorted(drv.statuses.items())},
        "baseline": base, "end": end}, sort_keys=True))
    out = []
    for key, bound in (("fds", FD_BOUND), ("sockets", FD_BOUND),
                       ("netlink", FD_BOUND), ("rss_kib", RSS_BOUND_KIB),
                       ("threads", 0), ("netns_mounts", 0)):
        if end[key] > base[key] + bound:
            out.append("%s grew from %d to %d (bound +%d)"
                       % (key, base[key], end[key], bound))
    if out:
        fd_dir = "/proc/%d/fd" % d.proc.pid
        kinds = {}
        for f in os.listdir(fd_dir):
            try:
                t = os.readlink(os.path.join(fd_dir, f))
            except OSError:
                continue
            t = re.sub(r"\[\d+\]", "[...]", t)
            kinds[t] = kinds.get(t, 0) + 1
        out.append("open fds now, by what they are: %s"
                   % json.dumps(kinds, sort_keys=True))
    check(not out, "after %d requests:\n  %s", drv.n - start_n,
          "\n  ".join(out))


HALF_REQUESTS = {
    "the request line only":
        b"GET /v1/namespaces HTTP/1.1\r\n",
    "all headers of a POST, no body":
        b"POST /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n",
    "a POST cut in its body":
        b"POST /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        b'{"name":',
    "a GET cut in a header":
        b"GET /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: ",
}


def close_wait_sockets(pid):
    """Sockets netnsd holds whose peer has closed (state CLOSE-WAIT)."""
    fd_dir = "/proc/%d/fd" % pid
    inodes = set()
    for f in os.listdir(fd_dir):
        try:
            t = os.readlink(os.path.join(fd_dir, f))
        except OSError:
            continue
        if t.startswith("socket:["):
            inodes.add(t[8:-1])
    n = 0
    for table in ("/proc/%d/net/tcp" % pid, "/proc/%d/net/tcp6" % pid):
        try:
            with open(table) as f:
                for line in f.readlines()[1:]:
                    parts = line.split()
                    if parts[3] == "08" and parts[9] in inodes:
                        n += 1
        except OSError:
            pass
    return n


@test
def a_client_gone_midway_is_let_go_at_once():
    """A client that closes its connection in the middle of a request is
    gone: netnsd should close its end when it reads the end of the stream,
    not hold the socket (in CLOSE-WAIT, counting against
    --max-connections and --max-connections-per-ip) until
    --connection-timeout (30 s by default) runs out."""
    d = h.daemon(args=["--connection-timeout", "5"])
    out = []
    held = 0
    for what, data in HALF_REQUESTS.items():
        for _ in range(8):
            s = socket.create_connection((h.API_HOST, d.port),
                                         timeout=h.scaled(5))
            s.sendall(data)
            s.close()
        time.sleep(1.0)
        n = close_wait_sockets(d.proc.pid) - held
        held += n
        if n:
            out.append("%s (%r), then close: 1 s later netnsd still holds "
                       "%d of 8 such connections in CLOSE-WAIT" % (what, data,
                                                                    n))
    if held:
        h.wait_until(lambda: close_wait_sockets(d.proc.pid) == 0,
                     timeout=h.scaled(40), interval=0.5,
                     what="--connection-timeout to close them at least")
    check(not out, "%d of %d cases:\n  %s\n  (all were closed later, by "
          "--connection-timeout 5)", len(out), len(HALF_REQUESTS),
          "\n  ".join(out))


if __name__ == "__main__":
    h.run_tests()
