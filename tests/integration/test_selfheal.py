#!/usr/bin/python3
"""Self-healing (README.md, "Self-healing"): with --reconcile=auto, a
change made behind netnsd's back to an object it manages is repaired
within a second, seen in the kernel (`ip -j`), in the metrics and in the
event stream as a `reconcile` change; one changed again and again is
repaired after a growing wait, not fought over in a loop. With the
default, --reconcile=manual, it stays as the kernel has it and is only
reported."""

import re
import time

import harness as h
from harness import check, eq, expect_status, test
from topology import klink, kup, setup


def metric(d, name):
    text = expect_status(d.get("/metrics"), 200).body.decode()
    m = re.search(r"^%s (\d+)$" % name, text, re.M)
    return int(m.group(1)) if m else None


def veth(d):
    expect_status(d.put("/v1/namespaces/host/veths/sh0",
                        {"peer": {"name": "sh1"}, "up": True}), 201,
                  "PUT veth")
    h.ip("link", "set", "dev", "sh1", "up")


def wait_for(fn, seconds):
    deadline = h.Deadline(h.scaled(seconds))
    while not fn():
        if deadline.expired():
            return False
        time.sleep(0.05)
    return True


@test
def auto_repairs_a_link_set_down_within_a_second():
    d = h.daemon(args=["--reconcile", "auto"])
    h.on_cleanup(lambda: h.ip("link", "del", "dev", "sh0", check=False))
    veth(d)
    before = metric(d, "netnsd_selfheal_repairs_total")
    t0 = time.monotonic()
    h.ip("link", "set", "dev", "sh0", "down")
    check(wait_for(lambda: kup(klink("sh0")), 3),
          "sh0 is still down 3 s after `ip link set down`")
    took = time.monotonic() - t0
    check(took < h.scaled(1.0) + 0.5, "repaired in %.2f s", took)
    h.ip("link", "set", "dev", "sh0", "mtu", "1280")
    check(wait_for(lambda: klink("sh0")["mtu"] == 1500, 3),
          "the MTU is not repaired: %r", klink("sh0")["mtu"])
    check(metric(d, "netnsd_selfheal_repairs_total") >= before + 2,
          "repairs counted: %r", metric(d, "netnsd_selfheal_repairs_total"))
    r = expect_status(d.get("/v1/namespaces/host/veths/sh0"), 200)
    eq(r.json["in_sync"], True, "in sync again")


@test
def an_object_changed_again_and_again_waits_longer_each_time():
    d = h.daemon(args=["--reconcile", "auto"])
    h.on_cleanup(lambda: h.ip("link", "del", "dev", "sh0", check=False))
    veth(d)
    waits = []
    for _ in range(4):
        t0 = time.monotonic()
        h.ip("link", "set", "dev", "sh0", "down")
        check(wait_for(lambda: kup(klink("sh0")), 10), "not repaired")
        waits.append(time.monotonic() - t0)
    check(waits[-1] > waits[0] + 0.5,
          "the wait should grow with each repeat: %r", waits)
    check(metric(d, "netnsd_selfheal_deferred_total") >= 2,
          "deferred repairs counted: %r",
          metric(d, "netnsd_selfheal_deferred_total"))


@test
def manual_reports_and_repairs_nothing():
    d = setup()
    veth(d)
    h.ip("link", "set", "dev", "sh0", "down")
    time.sleep(h.scaled(1.5))
    eq(kup(klink("sh0")), False, "still down with --reconcile=manual")
    r = expect_status(d.get("/v1/namespaces/host/veths/sh0"), 200)
    eq(r.json["in_sync"], False, "reported as drift")
    eq(metric(d, "netnsd_selfheal_repairs_total"), 0, "no repair")


@test
def a_bad_mode_stops_start_up():
    d = h.daemon(start=False)
    p = d.run_once(extra_args=["--reconcile", "sometimes"])
    check(p.returncode != 0, "netnsd started with --reconcile=sometimes")
    check("auto or manual" in p.stderr, "the message: %r", p.stderr)


if __name__ == "__main__":
    h.run_tests()
