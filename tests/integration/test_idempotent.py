#!/usr/bin/python3
"""Nothing changed, nothing moves (README "Desired state"): a request that
changes nothing answers 200 and leaves the revision, the journal (byte for
byte: no record, so no fdatasync either) and the kernel as they were.

A small topology is built by a script of PUTs, POSTs and PATCHes; the
idempotent part of the script (PUT of the namespaces, PUT of a port, PATCH
of links and a bridge to the values they have, POST /v1/reconcile) is then
run again, twice. A real change afterwards still moves the revision by one,
and a refused duplicate writes nothing either."""

import hashlib
import time

import harness as h
from harness import check, eq, expect_status, test
from topology import setup, state

NAMESPACES = ("host", "red", "blue")


def K(ns):
    return None if ns == "host" else ns


def N(ns):
    return "/v1/namespaces/" + ns


def L(ns, link):
    return N(ns) + "/links/" + link


def _stable(value):
    """`ip -j` output without what moves by itself: bridge and port timers
    (hello_timer, gc_timer, ...) and address lifetimes."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items()
                if not k.endswith("_timer") and not k.endswith("_life_time")}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def kernel():
    """Every namespace's `ip -j -d link` and `ip -j addr`, as they stand."""
    return {ns: (_stable(h.ip_json("-d", "link", "show", ns=K(ns))),
                 _stable(h.ip_json("addr", "show", ns=K(ns))))
            for ns in NAMESPACES}


def settled_kernel():
    """The kernel once it stands still: IPv6 duplicate address detection
    and carriers settle in the first second after links come up."""
    deadline = h.Deadline(h.scaled(10))
    last = kernel()
    while True:
        time.sleep(0.3)
        now = kernel()
        if now == last and "tentative" not in repr(now):
            return now
        if deadline.expired():
            raise h.Failure("the kernel did not settle: %r" % (now,))
        last = now


def journal(d):
    """(size, sha256) of the journal file, room included."""
    with open(d.journal, "rb") as f:
        data = f.read()
    return len(data), hashlib.sha256(data).hexdigest()


def build(d):
    """The script's first run: everything is created (201) or changed."""
    for ns in ("red", "blue"):
        expect_status(d.put(N(ns), {}), 201, "PUT namespace " + ns)
    expect_status(d.post(N("red") + "/veths",
                         {"name": "v0", "mtu": 1400,
                          "peer": {"name": "v1", "namespace": "blue"}}),
                  201, "POST veth red/v0")
    expect_status(d.post(N("host") + "/veths",
                         {"name": "idem-h0",
                          "peer": {"name": "h1", "namespace": "red"}}),
                  201, "POST veth host/idem-h0")
    expect_status(d.post(N("red") + "/veths",
                         {"name": "p0", "peer": {"name": "p1"}}),
                  201, "POST veth red/p0")
    expect_status(d.post(N("red") + "/bridges",
                         {"name": "br0", "stp": False, "up": True}),
                  201, "POST bridge red/br0")
    expect_status(d.put(N("red") + "/bridges/br0/ports/p0"), 201,
                  "PUT port red/br0/p0")
    for link, addr in (("v0", "198.18.0.1/24"), ("v0", "2001:db8::1/64"),
                       ("br0", "198.18.1.1/24")):
        expect_status(d.post(L("red", link) + "/addresses",
                             {"address": addr}),
                      201, "POST address %s on red/%s" % (addr, link))
    expect_status(d.post(L("blue", "v1") + "/addresses",
                         {"address": "198.18.0.2/24"}),
                  201, "POST address on blue/v1")
    rerun(d, first=True)


def rerun(d, first=False):
    """The idempotent part of the script: on a re-run, each answers 200."""
    if not first:
        for ns in ("red", "blue"):
            expect_status(d.put(N(ns), {}), 200, "PUT namespace " + ns)
        expect_status(d.put(N("red") + "/bridges/br0/ports/p0"), 200,
                      "PUT port red/br0/p0 again")
    for ns, link, body in (
            ("red", "v0", {"mtu": 1300, "up": True}),
            ("blue", "v1", {"up": True}),
            # The same MAC in capitals, then not: the same record.
            ("red", "p1", {"up": True, "mac": "02:AA:BB:CC:DD:0E"
                           if first else "02:aa:bb:cc:dd:0e"}),
            ("red", "p0", {"up": True, "master": "br0"}),
            ("host", "idem-h0", {"up": True, "mtu": 1450}),
            ("red", "h1", {"up": True, "mtu": 1450, "name": "h1"})):
        expect_status(d.patch(L(ns, link), body), 200,
                      "PATCH %s/%s %r" % (ns, link, body))
    expect_status(d.patch(N("red") + "/bridges/br0",
                            {"stp": False, "up": True}),
                  200, "PATCH bridge red/br0")
    r = expect_status(d.post("/v1/reconcile"), 200, "POST /v1/reconcile")
    if not first:
        eq(r.json["actions"], [], "reconcile actions")
        eq(r.json["failures"], [], "reconcile failures")


@test
def rerun_changes_nothing():
    d = setup()
    build(d)
    before_state = state(d)
    before_journal = journal(d)
    before_kernel = settled_kernel()
    check(before_state["revision"] > 0, "revision: %r", before_state)
    for i in range(2):
        rerun(d)
        now = state(d)
        eq(now["revision"], before_state["revision"],
           "revision after re-run %d" % (i + 1))
        eq(now, before_state, "desired state after re-run %d" % (i + 1))
        eq(journal(d), before_journal,
           "journal (size, sha256) after re-run %d" % (i + 1))
        after = kernel()
        for ns in NAMESPACES:
            eq(after[ns], before_kernel[ns],
               "kernel in %s after re-run %d" % (ns, i + 1))

    # Still a change: one step, one record.
    expect_status(d.patch(L("red", "v0"), {"mtu": 1280}), 200,
                  "PATCH red/v0 mtu 1280")
    eq(state(d)["revision"], before_state["revision"] + 1,
       "revision after a real change")
    check(journal(d) != before_journal, "the journal holds the change")
    # And the state read back after a restart is the same.
    now = state(d)
    d.restart()
    eq(state(d), now, "desired state after a restart")


@test
def refused_duplicate_writes_nothing():
    """A POST of an address that is there already is refused (409), and
    its intent, the same record again, is neither written nor taken back."""
    d = setup()
    expect_status(d.put(N("red"), {}), 201, "PUT namespace red")
    expect_status(d.post(N("red") + "/veths",
                         {"name": "v0", "peer": {"name": "v1"}}),
                  201, "POST veth red/v0")
    expect_status(d.post(L("red", "v0") + "/addresses",
                         {"address": "198.18.2.1/24"}),
                  201, "POST address")
    rev = state(d)["revision"]
    before = journal(d)
    r = d.post(L("red", "v0") + "/addresses", {"address": "198.18.2.1/24"})
    expect_status(r, 409, "POST the same address again")
    eq(state(d)["revision"], rev, "revision")
    eq(journal(d), before, "journal (size, sha256)")


if __name__ == "__main__":
    h.run_tests()
