#!/usr/bin/python3
"""Convergence of the start-up re-apply: an item that
fails for a reason that passes (a name still held while the kernel tears an
old link down) is retried with backoff until it converges, without anyone
calling POST /v1/reconcile; /readyz says 503 while the start-up re-apply is
still retrying (within its grace window), then 200 with the convergence in
its body; the metrics say the same. A failure that will not pass (a name
taken by a link netnsd did not create) is reported and not retried, and
does not hold readiness back."""

import os
import re
import signal
import time

import harness as h
import reliability_util as u
from harness import check, eq, expect_status, test
from topology import kaddrs, kkind, klinks, kpeer, kup, setup

# The README's walkthrough: two namespaces wired through a host bridge.
WALK = ("red", "blue")


def build_walkthrough(d):
    for ns in WALK:
        expect_status(d.put("/v1/namespaces/" + ns, {}), 201)
    expect_status(d.post("/v1/namespaces/host/bridges",
                         {"name": "br0", "up": True}), 201)
    for i, ns in enumerate(WALK):
        expect_status(d.post("/v1/namespaces/host/veths", {
            "name": "h-" + ns, "up": True,
            "peer": {"name": "eth0", "namespace": ns}}), 201)
        expect_status(d.put("/v1/namespaces/host/bridges/br0/ports/h-" + ns),
                      201)
        expect_status(d.post("/v1/namespaces/%s/links/eth0/addresses" % ns,
                             {"address": "198.18.0.%d/24" % (i + 2)}), 201)
    expect_status(d.patch("/v1/namespaces/red/links/eth0",
                          {"up": True, "mtu": 1400}), 200)
    expect_status(d.patch("/v1/namespaces/blue/links/eth0", {"up": True}),
                  200)


def addrs(name, ns):
    """kaddrs(), or "vanished" for a link that went while it was read."""
    try:
        return kaddrs(name, ns)
    except Exception:  # noqa: BLE001 - ip failed: the link is gone
        return "vanished"


def topology():
    """Per namespace: name -> (kind, mtu, up, master, peer, alias, addrs)."""
    out = {"netns": sorted(h.netns_list())}
    for ns in ["host"] + out["netns"]:
        out[ns] = {n: (kkind(l), l["mtu"], kup(l), l.get("master"),
                       kpeer(l, ns), l.get("ifalias"), addrs(n, ns))
                   for n, l in klinks(ns).items()}
    return out


def readyz(d):
    return d.get("/readyz")


def metrics(d):
    r = expect_status(d.get("/metrics"), 200)
    return r.data.decode()


def sample(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def hold_name(name, ours):
    """A veth end named `name` in the host, as the kernel leaves netnsd's
    old end while it tears a deleted namespace down (ours: it carries
    netnsd's mark), or as someone else made it (not ours)."""
    h.ip("link", "add", name, "type", "veth", "peer", "name", name + "-x")
    if ours:
        h.ip("link", "set", name, "alias", "netnsd")
    h.on_cleanup(lambda: h.ip("link", "del", name, check=False))


def kill_and_drop_red(d):
    """SIGKILL, then red goes (and h-red with it, once the kernel is done)."""
    eq(d.kill(), -signal.SIGKILL, "netnsd killed")
    h.ip("netns", "del", "red")
    h.wait_until(lambda: "h-red" not in klinks("host"), timeout=h.scaled(10),
                 what="h-red to go with red")


def seen_not_ready(d, seconds):
    """Polls /readyz for a while; returns the first 503 answer given after
    the start-up run (while it retries), or None."""
    dl = h.Deadline(seconds)
    while not dl.expired():
        try:
            r = readyz(d)
        except OSError:
            time.sleep(0.02)
            continue
        if r.status == 503 and "not finished" not in r.json["detail"]:
            return r
        if r.status == 200:
            return None
        time.sleep(0.02)
    return None


def setup_stopped_first():
    """setup(), and netnsd stopped before the links are cleaned: a daemon
    still retrying would make them again."""
    d = setup()
    h.on_cleanup(lambda: d.stop(timeout=h.scaled(10)))
    return d


def wait_ready(d, timeout):
    def ready():
        try:
            r = readyz(d)
        except OSError:
            return None
        return r if r.status == 200 else None
    return h.wait_until(ready, timeout=timeout, what="/readyz to say 200")


@test
def a_name_held_at_startup_is_retried_until_it_converges():
    d = setup_stopped_first()
    build_walkthrough(d)
    before = topology()
    kill_and_drop_red(d)
    # The old end of red's pair is still there (netnsd's mark, its peer
    # elsewhere): creating red/eth0 <-> h-red fails with File exists.
    hold_name("h-red", ours=True)
    d.spawn()
    t0 = time.monotonic()
    r = seen_not_ready(d, h.scaled(5))
    check(r is not None, "/readyz never said 503 while h-red was held: %r",
          readyz(d).json)
    eq(r.json["type"], "urn:netnsd:problem:not-ready", "problem type")
    check("retr" in r.json["detail"], "the detail says it is retrying: %r",
          r.json["detail"])
    text = metrics(d)
    eq(sample(text, "netnsd_reconcile_converged"), 0.0,
       "converged gauge while h-red is held")
    check((sample(text, "netnsd_reconcile_pending_items") or 0) >= 1,
          "pending items while h-red is held:\n%s", text)
    # Held for a second: retried all along, and still not ready.
    time.sleep(max(0, 1.0 - (time.monotonic() - t0)))
    eq(readyz(d).status, 503, "/readyz a second after start, h-red held")
    h.ip("link", "del", "h-red")
    r = wait_ready(d, h.scaled(10))
    took = time.monotonic() - t0
    eq(r.json, {"status": "ready", "converged": True, "pending": 0,
                "failures": 0}, "/readyz once converged")
    expect_same(before, topology(), "after the retries")
    text = metrics(d)
    eq(sample(text, "netnsd_reconcile_converged"), 1.0, "converged gauge")
    eq(sample(text, "netnsd_reconcile_pending_items"), 0.0, "pending items")
    check("path=/v1/reconcile" not in d.log_text(),
          "nobody called POST /v1/reconcile")
    check(re.search(r"reconcile converged after [1-9]\d* retr",
                    d.log_text()), "the log says it converged after retries")
    u.say("figures: ready %.2f s after start (h-red held 1 s)", took)
    eq(d.post("/v1/reconcile").json, {"actions": [], "failures": []},
       "nothing left to do")


def expect_same(before, after, what):
    diff = []
    for ns in sorted(set(before) | set(after)):
        if before.get(ns) != after.get(ns):
            diff.append("%s: was %r\n    now %r" % (ns, before.get(ns),
                                                   after.get(ns)))
    check(not diff, "%s: the topology differs:\n  %s", what,
          "\n  ".join(diff))


@test
def kill_netns_del_restart_at_once_always_comes_back_whole():
    """A crash and a lost namespace at once: kill -9, `ip netns del red`
    (or the README's whole reboot: red, blue and br0), restart at once; the
    topology must be whole as soon as /readyz says ready, every time."""
    d = setup_stopped_first()
    build_walkthrough(d)
    before = topology()
    rounds = int(os.environ.get("NETNSD_CONVERGE_ROUNDS", "8"))
    broken, starts = [], []
    for i in range(rounds):
        d.kill()
        h.ip("netns", "del", "red")
        if i % 2:
            h.ip("netns", "del", "blue")
            h.ip("link", "del", "br0")
        t0 = time.monotonic()
        d.start()
        starts.append(time.monotonic() - t0)
        after = topology()
        if after != before:
            broken.append(i)
            u.say("round %d: not whole once ready: host %r, red %r", i,
                  sorted(after["host"]), sorted(after.get("red") or []))
            # Put it right for the next round.
            d.post("/v1/reconcile")
            h.wait_until(lambda: topology() == before, timeout=h.scaled(10),
                         what="the topology after a reconcile")
    u.say("figures: %d rounds, %d of them retried, ready after %.2f-%.2f s",
          rounds, d.log_text().count("reconcile converged after"),
          min(starts), max(starts))
    check(not broken, "%d of %d restarts were not whole once ready "
          "(rounds %r)", len(broken), rounds, broken)
    eq(readyz(d).json["converged"], True, "converged")


@test
def an_impostor_that_stays_is_reported_and_does_not_hold_readiness():
    d = setup_stopped_first()
    build_walkthrough(d)
    before = topology()
    kill_and_drop_red(d)
    hold_name("h-red", ours=False)
    t0 = time.monotonic()
    d.start()
    took = time.monotonic() - t0
    check(took < 5, "ready %.1f s after start: a failure that will not pass "
          "must not hold readiness for the grace window", took)
    r = readyz(d)
    eq((r.status, r.json.get("converged"), r.json.get("pending")),
       (200, False, 0), "/readyz with an impostor: %r" % r.json)
    check(r.json["failures"] >= 1, "failures counted: %r", r.json)
    check("did not create" in d.log_text(), "the log says why")
    runs = sample(metrics(d), "netnsd_reconcile_runs_total")
    time.sleep(1.5)
    text = metrics(d)
    eq(sample(text, "netnsd_reconcile_runs_total"), runs,
       "no retries of a failure that will not pass")
    eq(sample(text, "netnsd_reconcile_converged"), 0.0, "converged gauge")
    eq(sample(text, "netnsd_reconcile_pending_items"), 0.0, "pending")
    rep = d.post("/v1/reconcile").json
    check(rep["failures"] and not any(f["transient"]
                                      for f in rep["failures"]),
          "every failure marked as one that will not pass: %r", rep)
    check(any("did not create" in f["error"] for f in rep["failures"]),
          "the answer says why: %r", rep)
    runs = sample(metrics(d), "netnsd_reconcile_runs_total")
    time.sleep(0.5)
    eq(sample(metrics(d), "netnsd_reconcile_runs_total"), runs,
       "no retries after POST /v1/reconcile either")
    # The impostor is left alone.
    x = klinks("host")["h-red"]
    eq((x.get("ifalias"), x.get("master")), (None, None), "the impostor")
    # Gone: a reconcile repairs everything, and says converged.
    h.ip("link", "del", "h-red")
    eq(d.post("/v1/reconcile").json["failures"], [], "failures")
    eq(readyz(d).json, {"status": "ready", "converged": True, "pending": 0,
                        "failures": 0}, "/readyz after the reconcile")
    eq(sample(metrics(d), "netnsd_reconcile_converged"), 1.0, "gauge")
    expect_same(before, topology(), "after the impostor went")


@test
def a_reconcile_on_request_that_fails_for_a_while_is_retried_too():
    d = setup_stopped_first()
    build_walkthrough(d)
    before = topology()
    h.ip("netns", "del", "red")
    h.wait_until(lambda: "h-red" not in klinks("host"), timeout=h.scaled(10),
                 what="h-red to go with red")
    hold_name("h-red", ours=True)
    rep = expect_status(d.post("/v1/reconcile"), 200).json
    check(any(f["transient"] and "File exists" in f["error"]
              for f in rep["failures"]),
          "File exists, marked transient: %r", rep)
    r = readyz(d)
    eq((r.status, r.json["converged"], r.json["pending"] >= 1),
       (200, False, True), "/readyz stays 200 once ready: %r" % r.json)
    h.ip("link", "del", "h-red")
    h.wait_until(lambda: readyz(d).json["converged"], timeout=h.scaled(10),
                 what="convergence without another POST /v1/reconcile")
    expect_same(before, topology(), "after the retries")
    eq(sample(metrics(d), "netnsd_reconcile_pending_items"), 0.0, "pending")


@test
def readiness_does_not_wait_forever_and_retries_go_on_then_sigterm():
    """A transient failure that lasts: after the grace window /readyz says
    200 (converged false); retries go on at their capped period and
    converge once the name is free; SIGTERM during retries exits 0 at
    once."""
    d = setup_stopped_first()
    build_walkthrough(d)
    before = topology()
    kill_and_drop_red(d)
    hold_name("h-red", ours=True)
    d.spawn()
    t0 = time.monotonic()
    check(seen_not_ready(d, h.scaled(5)) is not None, "/readyz never said 503")
    r = wait_ready(d, h.scaled(20))
    took = time.monotonic() - t0
    check(5 <= took <= 15, "ready after %.1f s: the grace window is 10 s",
          took)
    eq((r.json["converged"], r.json["pending"] >= 1), (False, True),
       "/readyz after the grace window: %r" % r.json)
    runs = sample(metrics(d), "netnsd_reconcile_runs_total")
    h.ip("link", "del", "h-red")
    h.wait_until(lambda: readyz(d).json["converged"], timeout=h.scaled(10),
                 what="convergence after the name was freed")
    expect_same(before, topology(), "after the late convergence")
    check(sample(metrics(d), "netnsd_reconcile_runs_total") > runs,
          "retries went on after ready")
    # SIGTERM while retrying: hold the name again and make it fail.
    d.kill()
    h.ip("netns", "del", "red")
    h.wait_until(lambda: "h-red" not in klinks("host"), timeout=h.scaled(10),
                 what="h-red to go")
    hold_name("h-red", ours=True)
    d.spawn()
    check(seen_not_ready(d, h.scaled(5)) is not None, "/readyz never said 503")
    time.sleep(0.5)
    t1 = time.monotonic()
    eq(d.stop(signal.SIGTERM, timeout=h.scaled(5)), 0, "exit status")
    stop = time.monotonic() - t1
    check(stop < 1.0, "SIGTERM during retries took %.2f s", stop)
    u.say("figures: ready after %.1f s (grace), stopped in %.2f s", took,
          stop)


if __name__ == "__main__":
    h.run_tests()
