#!/usr/bin/python3
"""No global stall: a silent namespace costs only its own requests.

One namespace whose kernel never answers must cost its own requests a
bounded wait and a clear problem, and cost nobody else anything. The fault
is made with the testing-only hook `--test-stall-netns slow`: netlink
requests in namespace `slow` are never sent, so every wait for an answer
runs into `--netlink-timeout` (2 s here), exactly as if the kernel kept
quiet (README.md, "Timeouts").

- a request on `slow` answers 504 `kernel-timeout` naming the netlink
  message the kernel left unanswered, within the timeout + 1 s, and changes
  nothing;
- while several requests are stuck on `slow`, requests on other namespaces,
  namespace creations and deletions and reads are answered at once (< 1 s):
  a namespace creation does not run alone behind the daemon-wide lock, so
  it neither waits for the stuck request nor holds up every request after
  it;
- a reconcile waiting to run alone holds other requests up for at most the
  timeout, then they get 503 `busy` with Retry-After;
- a conditional change (If-Match), which runs alone too, waits behind a
  stuck request for at most the timeout; on the silent namespace it is
  answered 504 and changes nothing;
- afterwards the daemon works on, its socket pool gave up every socket of
  `slow` (none is left in it) and no descriptor leaked."""

import threading
import time

import harness as h
from harness import check, eq, expect_problem, expect_status, test
import reliability_util as u
from topology import clean_host_links

TIMEOUT = 2  # --netlink-timeout, seconds
FAST = 1.0   # what "at once" means here, seconds (scaled)
STRIPES = 64  # base/nslock.h


def stripe(name):
    """The lock stripe of a namespace name (base/nslock.c, FNV-1a)."""
    x = 2166136261
    for c in name.encode():
        x = ((x ^ c) * 16777619) & 0xffffffff
    return x % STRIPES


def start(threads=4):
    d = h.daemon(args=["--netlink-timeout", str(TIMEOUT),
                       "--test-stall-netns", "slow",
                       "--threads", str(threads)])
    h.on_cleanup(clean_host_links)
    expect_status(d.post("/v1/namespaces", {"name": "slow"}), 201,
                  "creating slow (its first socket is not the hook's)")
    return d


def timed(fn):
    sw = u.Stopwatch()
    r = fn()
    return r, sw()


def in_background(d, requests):
    """Starts one thread per (method, path, body); returns the threads and
    a list that gets (status, seconds, response) per request."""
    out = []

    def one(method, path, body, _=None):
        sw = u.Stopwatch()
        try:
            r = d.request(method, path, body, timeout=h.scaled(30))
            out.append((r.status, sw(), r, method + " " + path))
        except Exception as e:  # noqa: BLE001
            out.append((repr(e), sw(), None, method + " " + path))
    ts = [threading.Thread(target=one, args=req, daemon=True)
          for req in requests]
    for t in ts:
        t.start()
    return ts, out


@test
def a_request_on_a_silent_namespace_answers_504_naming_the_message():
    d = start()
    r, took = timed(lambda: d.get("/v1/namespaces/slow/links"))
    p = expect_problem(r, 504, "GET on the silent namespace")
    eq(p["type"], "urn:netnsd:problem:kernel-timeout", "problem type")
    check("the kernel did not answer RTM_GETLINK within %d s" % TIMEOUT
          in p["detail"], "the detail names the message: %r", p["detail"])
    check(TIMEOUT - 0.2 < took < TIMEOUT + h.scaled(1),
          "answered after %.2f s, want the timeout (%d s) + < 1 s",
          took, TIMEOUT)

    r, took = timed(lambda: d.post("/v1/namespaces/slow/bridges",
                                   {"name": "sbr"}))
    p = expect_problem(r, 504, "POST of a bridge in the silent namespace")
    check("within %d s" % TIMEOUT in p["detail"] and "RTM_" in p["detail"],
          "the detail names the message: %r", p["detail"])
    check(took < TIMEOUT + h.scaled(1), "answered after %.2f s", took)
    eq([l["ifname"] for l in h.ip_json("link", "show", ns="slow")],
       ["lo"], "links in slow: nothing was made")
    des = u.Desired.fetch(d)
    check(not any("sbr" in k for k in des.key_set()),
          "nothing desired of the refused bridge: %s", sorted(des.key_set()))


@test
def a_silent_namespace_holds_up_no_other():
    # Each request stuck in the kernel holds one HTTP worker thread for up
    # to the timeout: 5 stuck ones need more than the default 4 threads to
    # leave one free (README.md, "Timeouts").
    d = start(threads=8)
    names = ["fast1", "fast2", "newns0", "newns", "newns2", "host"]
    for ns in names:
        check(stripe(ns) != stripe("slow"), "%s shares slow's lock stripe: "
              "pick another name for this test", ns)
    for ns in names[:2]:
        expect_status(d.post("/v1/namespaces", {"name": ns}), 201)
    expect_status(d.post("/v1/namespaces/host/veths", {
        "name": "vf", "peer": {"name": "e0", "namespace": "fast2"}}), 201)
    # Stuck: reads and mutations on slow, and a veth pair between fast2
    # and slow, started together.
    ts, out = in_background(d, [
        ("GET", "/v1/namespaces/slow/links", None),
        ("POST", "/v1/namespaces/slow/bridges", {"name": "b1"}),
        ("POST", "/v1/namespaces/slow/bridges", {"name": "b2"}),
        ("PATCH", "/v1/namespaces/slow/links/lo", {"mtu": 9000}),
        ("POST", "/v1/namespaces/fast2/veths",
         {"name": "vslow", "peer": {"name": "e0", "namespace": "slow"}}),
    ])
    time.sleep(0.3)  # they are all waiting for the kernel now
    slow_ones = []
    # A creation and a read at once: the read must wait neither for the
    # creation nor for what the creation might wait for.
    tc, created = in_background(d, [
        ("POST", "/v1/namespaces", {"name": "newns0"}, None)])
    time.sleep(0.1)
    r, took = timed(lambda: d.get("/v1/namespaces/fast1"))
    expect_status(r, 200, "a read alongside a namespace's creation")
    if took > h.scaled(FAST):
        slow_ones.append("GET /v1/namespaces/fast1 alongside a creation "
                         "took %.2f s" % took)
    tc[0].join(h.scaled(30))
    eq([c[0] for c in created], [201], "the creation alongside")
    if created[0][1] > h.scaled(FAST):
        slow_ones.append("POST /v1/namespaces alongside a read took "
                         "%.2f s" % created[0][1])
    for method, path, body, want in [
            ("POST", "/v1/namespaces", {"name": "newns"}, 201),
            ("GET", "/v1/namespaces/fast1", None, 200),
            ("GET", "/v1/namespaces/fast1/links", None, 200),
            ("POST", "/v1/namespaces/fast1/bridges", {"name": "fb"}, 201),
            ("POST", "/v1/namespaces/host/veths",
             {"name": "vg", "peer": {"name": "e0", "namespace": "fast1"}},
             201),
            ("PUT", "/v1/namespaces/newns2", {}, 201),
            ("DELETE", "/v1/namespaces/newns", None, 204),
            ("GET", "/v1/namespaces/fast2/links/e0", None, 200),
            ("PATCH", "/v1/namespaces/host/links/vg", {"mtu": 1400}, 200),
            ("DELETE", "/v1/namespaces/fast1/bridges/fb", None, 204)]:
        r, took = timed(lambda: d.request(method, path, body))
        expect_status(r, want, "%s %s while slow is stuck" % (method, path))
        if took > h.scaled(FAST):
            slow_ones.append("%s %s took %.2f s" % (method, path, took))
    check(not slow_ones, "while slow's kernel is silent, requests elsewhere "
          "waited:\n  %s", "\n  ".join(slow_ones))
    # fast2 is held by the pair into slow, which waits for slow's kernel:
    # a change to fast2 waits for it, at most the timeout.
    r, took = timed(lambda: d.post("/v1/namespaces/fast2/bridges",
                                   {"name": "fb2"}))
    expect_status(r, (201, 503), "a change to fast2, held by the pair "
                  "into slow")
    check(took < TIMEOUT + h.scaled(1), "a change to fast2 waited %.2f s",
          took)
    for t in ts:
        t.join(h.scaled(30))
    check(len(out) == len(ts), "requests on slow never answered: %d of %d",
          len(ts) - len(out), len(ts))
    for status, took, r, what in out:
        check(status in (503, 504), "%s: want 504 (or 503 busy while "
              "another holds slow), got %s", what, status)
        expect_problem(r, status, what)
        if status == 503:
            check(r.header("Retry-After"), "%s: 503 without Retry-After",
                  what)
        # Its own wait for the lock and its own wait for the kernel.
        check(took < 2 * TIMEOUT + h.scaled(1), "%s answered after %.2f s",
              what, took)
    eq(sorted(l["ifname"] for l in h.ip_json("link", "show", ns="slow")),
       ["lo"], "links in slow: nothing was made")
    check(not any(l["ifname"] == "vslow"
                  for l in h.ip_json("link", "show", ns="fast2")),
          "the refused veth's end in fast2 was left behind")


@test
def a_reconcile_waiting_for_a_stuck_request_holds_others_up_boundedly():
    d = start()
    expect_status(d.post("/v1/namespaces", {"name": "fast1"}), 201)
    ts, out = in_background(d, [
        ("GET", "/v1/namespaces/slow/links", None)])
    time.sleep(0.3)
    ts2, out2 = in_background(d, [("POST", "/v1/reconcile", None)])
    time.sleep(0.3)  # the reconcile now waits to run alone
    r, took = timed(lambda: d.get("/v1/namespaces/fast1"))
    expect_status(r, (200, 503), "GET while a reconcile waits")
    if r.status == 503:
        eq(r.json["type"], "urn:netnsd:problem:busy", "problem type")
        check(r.header("Retry-After"), "503 without Retry-After")
    check(took < TIMEOUT + h.scaled(1), "GET held up %.2f s behind a "
          "waiting reconcile", took)
    for t in ts + ts2:
        t.join(h.scaled(60))
    check(len(out) == 1 and len(out2) == 1, "a request never answered")
    expect_status(d.get("/v1/namespaces/fast1"), 200, "afterwards")


@test
def a_conditional_change_runs_alone_boundedly():
    # A change with If-Match runs alone (README.md, "Conditional
    # requests"): behind a request stuck in the kernel it waits at most the
    # timeout; on the silent namespace itself the GET it compares with
    # times out, and nothing is changed.
    d = start()
    expect_status(d.post("/v1/namespaces", {"name": "fast1"}), 201)
    ts, out = in_background(d, [
        ("GET", "/v1/namespaces/slow/links", None)])
    time.sleep(0.3)
    r, took = timed(lambda: d.patch("/v1/namespaces/fast1/links/lo",
                                    {"up": True}, headers={"If-Match": "*"}))
    expect_status(r, (200, 503), "a conditional PATCH behind a stuck GET")
    if r.status == 503:
        eq(r.json["type"], "urn:netnsd:problem:busy", "problem type")
        check(r.header("Retry-After"), "503 without Retry-After")
    check(took < TIMEOUT + h.scaled(1), "the conditional PATCH waited "
          "%.2f s", took)
    for t in ts:
        t.join(h.scaled(30))
    check(len(out) == 1, "the stuck GET was never answered")
    r, took = timed(lambda: d.patch("/v1/namespaces/slow/links/lo",
                                    {"mtu": 1400}, headers={"If-Match": "*"}))
    p = expect_problem(r, 504, "a conditional PATCH on the silent namespace")
    eq(p["type"], "urn:netnsd:problem:kernel-timeout", "problem type")
    check(took < TIMEOUT + h.scaled(1), "answered after %.2f s", took)
    eq([l["mtu"] for l in h.ip_json("link", "show", "lo", ns="slow")],
       [65536], "mtu of lo in slow")
    expect_status(d.get("/v1/namespaces/fast1"), 200, "afterwards")

@test
def a_silent_namespace_at_start_up_is_not_retried():
    # The start-up re-apply meets the silent namespace: its failure is
    # reported as one that will not pass by itself, not retried (each
    # retry would run under the daemon-wide lock and hold every request
    # up for the timeout again), and readiness does not wait for it.
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    expect_status(d.put("/v1/namespaces/slow", {}), 201)
    expect_status(d.put("/v1/namespaces/fast1", {}), 201)
    expect_status(d.post("/v1/namespaces/slow/veths", {
        "name": "v0", "peer": {"name": "v1"}}), 201)
    d.stop()
    h.ip("link", "del", "v0", ns="slow")  # something for the re-apply
    sw = u.Stopwatch()
    d.start(extra_args=["--netlink-timeout", str(TIMEOUT),
                        "--test-stall-netns", "slow"])
    ready = sw()
    check(ready < 2 * TIMEOUT + h.scaled(1), "ready after %.2f s: the "
          "silent namespace held readiness back", ready)
    time.sleep(3 * TIMEOUT)  # retries would have run by now
    text = expect_status(d.get("/metrics"), 200).data.decode()
    runs = [line for line in text.splitlines()
            if line.startswith("netnsd_reconcile_runs_total ")]
    eq(runs, ["netnsd_reconcile_runs_total 1"],
       "reconcile runs after start-up with a silent namespace")
    r, took = timed(lambda: d.get("/v1/namespaces/fast1"))
    expect_status(r, 200, "a read of another namespace")
    check(took < h.scaled(FAST), "a read of fast1 took %.2f s", took)


@test
def a_change_slow_to_answer_holds_up_no_change_elsewhere():
    # Changes are told to subscribers in the order they were made, but
    # only changes under a common lock wait for each other: a PATCH whose
    # answer reads the silent namespace (its veth's far end is there) must
    # not hold up the events, and so the answers, of changes elsewhere.
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    for ns in ("slow", "fast1", "fast2"):
        expect_status(d.put("/v1/namespaces/" + ns, {}), 201)
    expect_status(d.post("/v1/namespaces/fast1/veths", {
        "name": "v0", "peer": {"name": "v1", "namespace": "slow"}}), 201)
    expect_status(d.post("/v1/namespaces/fast2/bridges", {"name": "br"}),
                  201)
    d.stop()
    # The timeout scales with the build (ASan), so that a wait for it is
    # always longer than what "at once" allows.
    timeout = max(TIMEOUT, round(h.scaled(TIMEOUT)))
    d.start(extra_args=["--netlink-timeout", str(timeout),
                        "--test-stall-netns", "slow", "--threads", "8"])
    ts, out = in_background(d, [
        ("PATCH", "/v1/namespaces/fast1/links/v0", {"mtu": 1400})])
    time.sleep(h.scaled(0.3))  # its change is made; its answer waits
    slow_ones = []
    for mtu in (1300, 1301, 1302):
        r, took = timed(lambda: d.patch("/v1/namespaces/fast2/links/br",
                                        {"mtu": mtu}))
        expect_status(r, 200, "a change of fast2")
        if took > timeout / 2:
            slow_ones.append("PATCH fast2/br took %.2f s" % took)
    for t in ts:
        t.join(h.scaled(30))
    check(out and out[0][1] > timeout - 0.5, "the PATCH of v0 did not "
          "wait for slow (%r): the test shows nothing", out)
    check(not slow_ones, "changes of fast2 waited for the answer of a "
          "change of fast1:\n  %s", "\n  ".join(slow_ones))


@test
def afterwards_the_daemon_works_and_nothing_leaked():
    d = start()
    expect_status(d.post("/v1/namespaces", {"name": "fast1"}), 201)
    for _ in range(3):  # warm the socket pool as the storm below will
        expect_status(d.get("/v1/namespaces/fast1/links"), 200)
        expect_status(d.get("/v1/namespaces/host/links"), 200)
    before = u.proc_figures(d.proc.pid)
    ts, out = in_background(d, [
        ("GET", "/v1/namespaces/slow/links", None)] * 4 + [
        ("POST", "/v1/namespaces/slow/bridges", {"name": "b%d" % i})
        for i in range(4)])
    for t in ts:
        t.join(h.scaled(30))
    eq(len(out), 8, "answers")
    eq(u.netlink_sockets_in(d.proc.pid, "slow", monitor=False), 0,
       "netlink sockets netnsd holds in slow (each that timed out is "
       "closed, never pooled)")
    for _ in range(3):
        expect_status(d.get("/v1/namespaces/fast1/links"), 200)
        expect_status(d.get("/v1/namespaces/host/links"), 200)
    # A connection's socket is closed by the server just after the client
    # has read the answer ("Connection: close"), so one may still be open
    # at the instant the client returns: a leak is what stays, within a
    # bounded wait.
    deadline = h.Deadline(h.scaled(2))
    while True:
        after = u.proc_figures(d.proc.pid)
        settled = (after["fds"] <= before["fds"] and
                   after["netlink"] <= before["netlink"])
        if settled or deadline.expired():
            break
        time.sleep(0.05)
    u.say("figures: before %s, after %s", before, after)
    check(settled, "descriptors leaked: before %s, after %s", before, after)
    expect_status(d.delete("/v1/namespaces/slow"), 204)
    check("slow" not in h.netns_list(), "slow is still there")
    expect_status(d.post("/v1/namespaces/fast1/bridges", {"name": "br"}),
                  201, "a mutation afterwards")


if __name__ == "__main__":
    h.run_tests()
