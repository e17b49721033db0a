#!/usr/bin/python3
"""An idle daemon sleeps (README.md, "Watching"): with namespaces watched
and nothing happening, none of its threads is woken, so it takes no CPU at
all; and the socket pool still lets go of a namespace deleted behind
netnsd's back, told by the event monitor (inotify on the netns directory,
the mount table) rather than found by a sweep on a clock.

How "no wake-up" is measured: for every thread of the daemon,
/proc/PID/task/TID/status counts voluntary context switches (each time the
thread blocked: every wake-up of a sleeping thread ends in one) and
nonvoluntary ones (it was preempted while running), and
/proc/PID/task/TID/schedstat gives the time it spent on a CPU, in
nanoseconds. A thread that is never woken adds 0 to all three. utime and
stime (/proc/PID/task/TID/stat) are printed too, but they are sampled at
the timer tick (10 ms here): a wake-up a second costs ~1 tick in 10 s, so
they are too coarse to assert on."""

import glob
import os
import socket
import time

import harness as h
from harness import check, eq, expect_status, test
from reliability_util import netlink_sockets_in
from topology import L, clean_host_links, mk_ns, mk_veth

WINDOW_S = 3.0  # three ticks of a once-a-second clock
SETTLE_S = 2.0  # connections closed, the monitor's batched look done


def threads(pid):
    """tid -> (name, ticks, voluntary, nonvoluntary, ns on a CPU)."""
    out = {}
    for t in glob.glob("/proc/%d/task/*" % pid):
        try:
            with open(t + "/stat") as f:
                st = f.read()
            with open(t + "/status") as f:
                status = f.read().splitlines()
            run_ns = 0
            if os.path.exists(t + "/schedstat"):
                with open(t + "/schedstat") as f:
                    run_ns = int(f.read().split()[0])
        except OSError:
            continue  # a thread that ended
        name = st[st.index("(") + 1:st.rindex(")")]
        f = st[st.rindex(")") + 2:].split()
        cs = {l.split(":")[0]: int(l.split()[1]) for l in status
              if l.endswith("ctxt_switches") or "ctxt_switches:" in l}
        out[t.rsplit("/", 1)[1]] = (
            name, int(f[11]) + int(f[12]),
            cs.get("voluntary_ctxt_switches", 0),
            cs.get("nonvoluntary_ctxt_switches", 0), run_ns)
    return out


def wakeups(pid, window=WINDOW_S):
    """Per thread, what `window` seconds of doing nothing cost it: a list
    of (tid, name, ticks, voluntary, nonvoluntary, ns) for those that
    were woken, and the totals."""
    before = threads(pid)
    time.sleep(window)
    after = threads(pid)
    woken, total = [], [0, 0, 0, 0]
    for tid, a in sorted(after.items(), key=lambda kv: int(kv[0])):
        b = before.get(tid, (a[0], 0, 0, 0, 0))
        d = [a[i] - b[i] for i in range(1, 5)]
        total = [x + y for x, y in zip(total, d)]
        if any(d[1:]):
            woken.append((tid, a[0]) + tuple(d))
    return woken, total


def populated(d):
    """A daemon watching namespaces made both ways, with sockets pooled in
    them, a veth across two of them (down: an IPv6 link that is up keeps
    the kernel busy for a while, which would be its wake-ups, not ours)
    and a desired sysctl."""
    for i in range(8):
        mk_ns(d, "ia%d" % i)
        h.netns_add("ib%d" % i)
    mk_veth(d, "ia0", "iv0", "iv1", peer_ns="ia1")
    expect_status(d.put("/v1/namespaces/ia2/sysctls/net.ipv4.ip_forward",
                        {"value": "1"}), 201, "PUT sysctl")
    for i in range(8):
        expect_status(d.get(L("ia%d" % i)), 200, "GET links")
        expect_status(d.get(L("ib%d" % i)), 200, "GET links")
    h.wait_until(lambda: expect_status(d.get("/v1/namespaces"), 200).json,
                 what="the namespaces listed")


def expect_idle(d, what):
    woken, total = wakeups(d.proc.pid)
    check(not woken,
          "%s: no thread of netnsd may wake in %.0f s; woken (tid, name, "
          "ticks, voluntary, nonvoluntary switches, ns on a CPU): %s",
          what, WINDOW_S, woken)
    eq(total[1:], [0, 0, 0], "%s: context switches and CPU time" % what)


@test
def an_idle_daemon_is_never_woken():
    d = h.daemon(log_level="info")
    h.on_cleanup(clean_host_links)
    populated(d)
    time.sleep(SETTLE_S)
    expect_idle(d, "idle with 16 namespaces")
    # An open connection is work (the sweep of slow connections): the
    # clock runs while it is there, and stops once it is closed.
    c = socket.create_connection((h.API_HOST, d.port))
    time.sleep(0.3)
    woken, _ = wakeups(d.proc.pid, 1.5)
    check(woken, "with a connection open, the main loop keeps its clock")
    c.close()
    time.sleep(SETTLE_S)
    expect_idle(d, "idle again once the connection is closed")
    # So is a subscriber (its heartbeats).
    with h.outside_contract("a raw event stream, read by nobody"):
        c = socket.create_connection((h.API_HOST, d.port))
        c.sendall(b"GET /v1/events HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (
            h.API_HOST.encode(), d.port))
        time.sleep(0.3)
        woken, _ = wakeups(d.proc.pid, 1.5)
        check(woken, "with a subscriber, the main loop keeps its clock")
        c.close()


@test
def a_namespace_deleted_behind_our_back_is_let_go_without_a_clock():
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    for ns, end in (("lg", "lg1"), ("lu", "lu1")):
        mk_ns(d, ns)
        mk_veth(d, ns, end[:-1] + "0", end, peer_ns="host")
        # The pool now holds sockets in it (and the names cache its
        # watch), which would keep it, and the host end, alive.
        for _ in range(3):
            expect_status(d.get(L(ns)), 200, "GET links")
            expect_status(d.get(L("host", end)), 200, "GET the host end")
        check(netlink_sockets_in(d.proc.pid, ns, monitor=False) > 0,
              "netnsd should pool netlink sockets in %s now" % ns)
    # No request from here on: what lets go is the monitor's news alone.
    # `ip netns del` (an unmount, then the file removed) ...
    h.netns_del("lg")
    h.wait_until(lambda: h.run(["ip", "link", "show", "lg1"],
                               check=False).returncode != 0,
                 timeout=h.scaled(3),
                 what="the host end lg1 to go with its namespace (netnsd "
                 "must not keep the namespace alive)")
    # ... and a bare unmount, the file left behind.
    h.run(["umount", "/run/netns/lu"])
    h.wait_until(lambda: h.run(["ip", "link", "show", "lu1"],
                               check=False).returncode != 0,
                 timeout=h.scaled(3),
                 what="the host end lu1 to go with its namespace")
    os.unlink("/run/netns/lu")
    check(d.running(), "netnsd died")


if __name__ == "__main__":
    h.run_tests()
