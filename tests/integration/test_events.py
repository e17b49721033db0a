#!/usr/bin/python3
"""The event stream, GET /v1/events (README.md, "Watching"): a change made
with `ip` behind netnsd's back arrives as `source: kernel` and as a `drift`
event; the API's changes arrive in order with growing ids; a client that
resumes with Last-Event-ID misses nothing; one that comes back after the
history moved on, or that reads too slowly, gets `resync` (the slow one
then a closed stream, while the others keep up); the subscriber limit is a
503 with Retry-After; tickets stand in for a token where a browser cannot
send one; filters; a bad query is a 400 problem."""

import http.client
import json
import os
import signal
import socket
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check, eq, expect_problem, expect_status, test  # noqa: E402
from topology import L, clean_host_links, mk_ns, mk_veth  # noqa: E402


class Stream:
    """One subscriber: a raw HTTP/1.1 GET of a text/event-stream, read
    event by event. rcvbuf makes the client's socket buffer small (a slow
    reader); connect=False leaves reading to the caller."""

    def __init__(self, d, path="/v1/events", headers=None, rcvbuf=None,
                 timeout=None):
        self.timeout = timeout or h.scaled(10)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(self.timeout)
        s.connect((h.API_HOST, d.port))
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (h.API_HOST,
                                                             d.port)]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.sock = s
        self.resp = http.client.HTTPResponse(s, method="GET")
        self.resp.begin()
        self.status = self.resp.status
        self.headers = self.resp.msg
        self.body = None
        if self.status != 200:
            self.body = self.resp.read()
        self.comments = 0

    def close(self):
        try:
            self.resp.close()
        finally:
            self.sock.close()

    def next(self, timeout=None):
        """The next event as a dict (id, event, data), or None when the
        server ended the stream."""
        limit = h.Deadline(timeout or self.timeout)
        ev = {}
        while True:
            # Heartbeats are lines too: the wait is bounded over all of
            # them, not per line, or a quiet stream would never time out.
            if limit.left() <= 0:
                raise socket.timeout("no event within %.1f s"
                                     % (timeout or self.timeout))
            self.sock.settimeout(max(0.05, limit.left()))
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode().rstrip("\n")
            if not line:
                if "event" in ev or "data" in ev:
                    if "data" in ev:
                        ev["data"] = json.loads(ev["data"])
                    return ev
                continue
            if line.startswith(":"):
                self.comments += 1
                continue
            k, _, v = line.partition(":")
            ev[k] = v[1:] if v.startswith(" ") else v

    def comment(self, timeout):
        """Reads up to the next comment line; its text."""
        self.sock.settimeout(timeout)
        while True:
            line = self.resp.readline()
            if not line:
                raise h.Failure("the stream ended")
            if line.startswith(b":"):
                return line.decode().strip()

    def until(self, pred, what, timeout=None, limit=100000):
        """Events up to and including the first for which pred is true."""
        seen = []
        d = h.Deadline(timeout or self.timeout)
        for _ in range(limit):
            ev = self.next(timeout=max(0.1, d.left()))
            if ev is None:
                raise h.Failure("the stream ended before %s; saw %s" % (
                    what, [(e.get("event"), e.get("data", {}).get("name"))
                           for e in seen[-10:]]))
            seen.append(ev)
            if pred(ev):
                return seen
        raise h.Failure("no %s in %d events" % (what, limit))


def is_ev(event, name=None, source=None, ns=None, action=None):
    def pred(ev):
        dt = ev.get("data") or {}
        return (ev.get("event") == event and
                (name is None or dt.get("name") == name) and
                (source is None or dt.get("source") == source) and
                (ns is None or dt.get("namespace") == ns) and
                (action is None or dt.get("action") == action))
    return pred


def setup(**kw):
    d = h.daemon(**kw)
    h.on_cleanup(clean_host_links)
    return d


def stream(d, path="/v1/events", **kw):
    s = Stream(d, path, **kw)
    h.on_cleanup(s.close)
    return s


@test
def kernel_change_arrives_as_kernel_and_drift():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "red", "va", "vb", mtu=1400)
    s = stream(d)
    eq(s.status, 200, "GET /v1/events")
    check(s.headers.get("Content-Type", "").startswith("text/event-stream"),
          "Content-Type is %r", s.headers.get("Content-Type"))
    h.ip("link", "set", "va", "mtu", "1280", ns="red")
    seen = s.until(is_ev("link", "va", "kernel", "red", "changed"),
                   "a kernel event for va")
    ev = seen[-1]
    eq(ev["data"]["object"]["mtu"], 1280, "the object as GET shows it now")
    eq(ev["data"]["object"]["in_sync"], False, "in_sync in the object")
    seen = s.until(is_ev("drift", "va", ns="red"), "a drift event for va")
    eq(seen[-1]["data"]["object"]["in_sync"], False, "drift: out of sync")
    # Put back by hand: in sync again, a drift event the other way.
    h.ip("link", "set", "va", "mtu", "1400", ns="red")
    seen = s.until(is_ev("drift", "va", ns="red"), "the drift back")
    eq(seen[-1]["data"]["object"]["in_sync"], True, "drift: in sync again")


@test
def api_changes_in_order_with_growing_ids_and_no_echo():
    d = setup()
    s = stream(d)
    mk_ns(d, "blue")
    mk_veth(d, "blue", "a0", "b0")
    expect_status(d.patch(L("blue", "a0"), {"mtu": 1300}), 200, "PATCH")
    expect_status(d.delete(L("blue", "a0")), 204, "DELETE")
    removed = set()

    def both_gone(ev):
        if is_ev("link", action="removed")(ev):
            removed.add(ev["data"]["name"])
        return removed == {"a0", "b0"}
    seen = s.until(both_gone, "both ends' removal")
    ours = [e for e in seen if e["event"] in ("namespace", "link")]
    got = [(e["event"], e["data"]["action"], e["data"]["name"],
            e["data"]["source"]) for e in ours]
    want = [("namespace", "added", "blue", "api"),
            ("link", "added", "a0", "api"),
            ("link", "added", "b0", "api"),
            ("link", "changed", "a0", "api"),
            ("link", "removed", "a0", "api"),
            ("link", "removed", "b0", "api")]
    # The peer's removal may come before the link's own: both are told.
    eq(got[:4], want[:4], "the API's events, in order")
    eq(sorted(got[4:]), sorted(want[4:]), "both ends' removal")
    ids = [int(e["id"]) for e in seen]
    eq(ids, sorted(set(ids)), "ids only grow")
    check(not any(e["data"]["source"] == "kernel" for e in seen),
          "netnsd's own changes are not told again as the kernel's: %s",
          [(e["event"], e["data"]["name"], e["data"]["source"])
           for e in seen])
    eq(ours[1]["data"]["object"]["peer"], {"namespace": "blue",
                                          "name": "b0"},
       "the object is the link as GET shows it")


@test
def concurrent_changes_of_one_link_are_told_in_the_order_made():
    # Changes of one link are made one at a time (its namespace's lock),
    # but told after the lock is let go, once durable: the last told must
    # be the last made, or a subscriber keeps a state the kernel left.
    d = setup()
    mk_ns(d, "race")
    mk_veth(d, "race", "r0", "r1")
    s = stream(d, "/v1/events?namespace=race&types=link")
    wrong = []
    for rnd in range(40):
        mtus = [1300 + 10 * rnd + k for k in range(4)]
        ts = [threading.Thread(target=lambda m=m: expect_status(
            d.patch(L("race", "r0"), {"mtu": m}), 200, "PATCH"))
            for m in mtus]
        for t in ts:
            t.start()
        for t in ts:
            t.join(h.scaled(30))
        kernel = h.ip_json("link", "show", "r0", ns="race")[0]["mtu"]
        told = []

        def all_four(ev):
            if is_ev("link", "r0", action="changed")(ev):
                told.append(ev["data"]["object"]["mtu"])
            return sorted(told) == mtus
        s.until(all_four, "the round's four changes")
        if told[-1] != kernel:
            wrong.append((rnd, told, kernel))
    eq(wrong, [], "rounds whose last event is not the kernel's MTU "
       "(round, MTUs told in order, the kernel's)")


@test
def renaming_a_veth_end_tells_its_far_end_anew():
    d = setup()
    mk_ns(d, "red")
    mk_ns(d, "blue")
    mk_veth(d, "red", "v0", "p0", peer_ns="blue")
    s = stream(d, "/v1/events?types=link")
    expect_status(d.patch(L("blue", "p0"), {"name": "q0"}), 200, "rename")
    ev = s.until(is_ev("link", "v0", ns="red"), "v0's event")[-1]
    eq((ev["data"]["action"], ev["data"]["source"],
        ev["data"]["object"]["peer"]),
       ("changed", "api", {"namespace": "blue", "name": "q0"}),
       "v0 as its GET shows it now")
    eq(ev["data"]["object"], expect_status(d.get(L("red", "v0")), 200).json,
       "the GET")


@test
def a_veths_far_end_is_told_as_its_get_shows_it():
    # The far end's object is read from the kernel with its peer taken
    # from the answer (not found again with a dump): it must still be
    # exactly what its GET shows, whichever namespace it is in.
    d = setup()
    s = stream(d)
    mk_ns(d, "fa")
    mk_ns(d, "fb")
    cases = [("fa", "fe0", "fb", "fe1"), ("fa", "fe2", "fa", "fe3"),
             ("fa", "fe4", "host", "fe5")]
    for ns, name, pns, peer in cases:
        mk_veth(d, ns, name, peer, peer_ns=pns, mtu=1400)
    r = d.put("/v1/namespaces/fa/veths/fe0",
              {"peer": {"name": "fe1", "namespace": "fb"}, "mtu": 1300})
    expect_status(r, 200, "PUT veth, converging its MTU")
    eq(r.json["mtu"], 1300, "the PUT's answer")
    seen = s.until(is_ev("link", "fe1", action="changed"), "fe1 changed")
    for ns, name, pns, peer in cases + [("fa", "fe0", "fb", "fe1")]:
        evs = [e for e in seen if is_ev("link", peer, ns=pns)(e)]
        check(evs, "an event for the far end %s/%s" % (pns, peer))
        r = d.get(L(pns, peer))
        expect_status(r, 200, "GET the far end")
        eq(evs[-1]["data"]["object"], r.json,
           "the far end %s/%s's event holds its GET" % (pns, peer))
        eq(r.json["peer"], {"namespace": ns, "name": name},
           "and its peer is the end asked for")


@test
def put_is_told_and_a_dry_run_is_not():
    d = setup()
    s = stream(d)
    r = d.put("/v1/namespaces/dr?dry_run=true", {})
    expect_status(r, 200, "a dry run of PUT namespace")
    r = d.put("/v1/namespaces/pv", {})
    expect_status(r, 201, "PUT namespace")
    r = d.put("/v1/namespaces/pv/veths/p0", {"peer": {"name": "p1"}})
    expect_status(r, 201, "PUT veth")
    r = d.put("/v1/namespaces/pv/veths/p0", {"peer": {"name": "p1"},
                                             "mtu": 1400})
    expect_status(r, 200, "PUT veth again, converging its MTU")
    seen = s.until(is_ev("link", "p0", action="changed"), "the second PUT")
    got = [(e["event"], e["data"]["action"], e["data"]["name"])
           for e in seen if e["event"] in ("namespace", "link")]
    eq(got, [("namespace", "added", "pv"), ("link", "added", "p0"),
             ("link", "added", "p1"), ("link", "changed", "p0")],
       "PUTs told, the dry run not")
    eq(seen[-1]["data"]["object"]["mtu"], 1400, "the object after the PUT")


@test
def kind_table_links_and_sysctls_are_told():
    d = setup()
    expect_status(d.put("/v1/namespaces/kt", {}), 201, "PUT namespace")
    expect_status(d.put("/v1/namespaces/kt/veths/u0", {"peer": {"name": "u1"}}),
                  201, "PUT veth")
    s = stream(d)
    expect_status(d.post("/v1/namespaces/kt/links",
                         {"name": "mv0", "kind": "macvlan", "parent": "u0",
                          "mode": "bridge"}), 201, "POST macvlan")
    seen = s.until(is_ev("link", "mv0", source="api", action="added"),
                   "the macvlan told")
    eq(seen[-1]["data"]["object"]["kind"], "macvlan", "its object")
    expect_status(d.put("/v1/namespaces/kt/links/mv0",
                        {"kind": "macvlan", "parent": "u0", "mode": "bridge",
                         "mtu": 1400}), 200, "PUT converging its MTU")
    s.until(is_ev("link", "mv0", source="api", action="changed"),
            "the PUT told")
    expect_status(d.put("/v1/namespaces/kt/sysctls/net.ipv4.ip_forward",
                        {"value": "1"}), 201, "PUT sysctl")
    seen = s.until(is_ev("sysctl", "net.ipv4.ip_forward", source="api",
                         action="added"), "the sysctl told")
    eq(seen[-1]["data"]["object"]["value"], "1", "its object")
    expect_status(d.delete("/v1/namespaces/kt/sysctls/net.ipv4.ip_forward"),
                  204, "DELETE sysctl")
    s.until(is_ev("sysctl", "net.ipv4.ip_forward", action="removed"),
            "its removal told")


@test
def rename_and_move_are_a_removal_and_an_addition():
    d = setup()
    mk_ns(d, "m1")
    mk_ns(d, "m2")
    mk_veth(d, "m1", "e0", "e1")
    s = stream(d, "/v1/events?types=link")
    expect_status(d.patch(L("m1", "e0"), {"name": "e9"}), 200, "rename")
    expect_status(d.patch(L("m1", "e9"), {"namespace": "m2"}), 200, "move")
    seen = s.until(lambda e: is_ev("link", "e1", action="changed")(e) and
                   e["data"]["object"]["peer"]["namespace"] == "m2",
                   "e1 with its peer moved")
    got = [(e["data"]["action"], e["data"]["namespace"], e["data"]["name"],
            e["data"]["source"]) for e in seen]
    # Each time, the far end e1 is told anew: its peer changed.
    eq(got, [("removed", "m1", "e0", "api"), ("added", "m1", "e9", "api"),
             ("changed", "m1", "e1", "api"),
             ("removed", "m1", "e9", "api"), ("added", "m2", "e9", "api"),
             ("changed", "m1", "e1", "api")],
       "a rename, then a move")
    eq(seen[-2]["data"]["object"]["name"], "e9", "the object in m2")
    eq(seen[-1]["data"]["object"]["peer"], {"namespace": "m2", "name": "e9"},
       "e1's peer")


@test
def a_whole_state_put_is_told_as_the_apis():
    d = setup()
    s = stream(d)
    doc = {"namespaces": [{"name": "ws"}],
           "links": [{"namespace": "ws", "name": "w0", "kind": "veth",
                      "peer": {"namespace": "ws", "name": "w1"}},
                     {"namespace": "ws", "name": "w1", "kind": "veth",
                      "peer": {"namespace": "ws", "name": "w0"}}],
           "addresses": []}
    expect_status(d.put("/v1/state", doc), 200, "PUT /v1/state")
    seen = s.until(is_ev("state", source="api"), "the state event")
    told = {(e["event"], e["data"]["name"], e["data"]["source"])
            for e in seen if e["event"] in ("namespace", "link")}
    check({("namespace", "ws", "api"), ("link", "w0", "api"),
           ("link", "w1", "api")} <= told,
          "what it made, told as the API's, before the state event: %s",
          [(e["event"], e["data"]["name"], e["data"]["source"])
           for e in seen])
    check(not any(e["data"]["source"] == "kernel" for e in seen),
          "none of it as the kernel's")
    # Each object once, as it stands when the apply ends: made is
    # `added`, and nothing in sync is told out of sync.
    once = [(e["event"], e["data"]["namespace"], e["data"]["name"],
             e["data"]["action"]) for e in seen
            if e["event"] in ("namespace", "link")]
    eq(once[0], ("namespace", "ws", "ws", "added"), "the namespace first")
    eq(sorted(once[1:]), [("link", "ws", "w0", "added"),
                          ("link", "ws", "w1", "added")],
       "then its links, each told once")
    eq([e["data"]["object"]["in_sync"] for e in seen
        if e["event"] in ("namespace", "link")], [True] * 3, "in sync")
    drifts = [(e["data"]["name"], e["data"]["object"]["in_sync"])
              for e in seen if e["event"] == "drift"]
    eq(drifts, [], "drift events for a topology in sync")


def side_namespace():
    """Namespace `side`, made with ip (netnsd desires nothing of it), with
    a veth pair x0/x1 to change behind netnsd's back."""
    h.run(["ip", "netns", "add", "side"])
    h.on_cleanup(lambda: h.run(["ip", "netns", "del", "side"], check=False))
    h.ip("link", "add", "x0", "type", "veth", "peer", "name", "x1",
         ns="side")


@test
def a_change_elsewhere_during_a_whole_state_put_is_the_kernels():
    # An apply makes changes for its whole length, and a notification
    # that names no socket (an MTU change) is taken for netnsd's while one
    # is in flight: one from a namespace the apply cannot touch is someone
    # else's, told at once, as the kernel's.
    d = setup()
    side_namespace()
    s = stream(d, "/v1/events?types=link,state")
    doc = big_doc("big", 1, 600, addresses=False)
    out = []

    def put():
        r = d.put("/v1/state", doc, timeout=h.scaled(60))
        out.append((r.status, time.monotonic()))
    t = threading.Thread(target=put, daemon=True)
    t.start()
    h.wait_until(lambda: "big0" in h.netns_list(), timeout=h.scaled(10),
                 what="the apply under way")
    h.ip("link", "set", "x0", "mtu", "1400", ns="side")
    changed = time.monotonic()
    seen = s.until(lambda e: is_ev("link", "x0", ns="side")(e) or
                   is_ev("state")(e), "x0's event or the apply's end")
    t.join(h.scaled(60))
    eq([o[0] for o in out], [200], "PUT /v1/state")
    check(out[0][1] > changed, "the apply had ended before the change: "
          "the test shows nothing")
    check(is_ev("link", "x0", ns="side")(seen[-1]), "x0's change is told "
          "before the apply's end: %s", [(e["event"], e["data"]["name"])
                                         for e in seen[-3:]])
    eq(seen[-1]["data"]["source"], "kernel", "x0's change is someone "
       "else's")


def big_doc(prefix, namespaces, pairs, addresses=True):
    """A whole-state document: namespaces PREFIX0.. with `pairs` veth pairs
    in each (at most 127 with addresses), an address on every link."""
    links, addrs = [], []
    for k in range(namespaces):
        ns = "%s%d" % (prefix, k)
        for i in range(pairs):
            a, b = "a%d" % i, "b%d" % i
            links += [{"namespace": ns, "name": a, "kind": "veth",
                       "peer": {"namespace": ns, "name": b}},
                      {"namespace": ns, "name": b, "kind": "veth",
                       "peer": {"namespace": ns, "name": a}}]
            if not addresses:
                continue
            addrs += [{"namespace": ns, "link": a,
                       "address": "198.18.%d.%d/24" % (k, 2 * i + 1)},
                      {"namespace": ns, "link": b,
                       "address": "198.18.%d.%d/24" % (k, 2 * i + 2)}]
    return {"namespaces": [{"name": "%s%d" % (prefix, k)}
                           for k in range(namespaces)],
            "links": links, "addresses": addrs}


@test
def a_long_request_holds_up_no_stream():
    # libmicrohttpd serves a connection from one of its threads for its
    # whole life: a handler run there would hold the streams of that
    # thread until it ends. Handlers run on threads of their own.
    d = setup()
    side_namespace()
    streams = [stream(d, "/v1/events?namespace=side") for _ in range(16)]
    out = []

    def put():
        r = d.put("/v1/state", big_doc("big", 100, 16),
                  timeout=h.scaled(60))
        out.append((r.status, time.monotonic()))
    t = threading.Thread(target=put, daemon=True)
    t.start()
    h.wait_until(lambda: "big0" in h.netns_list(), timeout=h.scaled(10),
                 what="the apply under way")
    t0 = time.monotonic()
    h.ip("link", "set", "x0", "mtu", "1400", ns="side")
    took = []
    for s in streams:
        s.until(is_ev("link", "x0", ns="side"), "x0's change")
        took.append(time.monotonic() - t0)
    t.join(h.scaled(60))
    eq([o[0] for o in out], [200], "PUT /v1/state")
    end = out[0][1] - t0
    check(end > 0.3, "the apply ended %.2f s after the change: too soon "
          "for the test to show anything", end)
    # Held by the apply, a stream would be told as it ends.
    late = ["stream %d: %.2f s" % (i, x) for i, x in enumerate(took)
            if x > end / 2]
    check(not late, "streams told late (the apply ended after %.2f s), "
          "held by it:\n  %s", end, "\n  ".join(late))


@test
def a_refused_whole_state_put_tells_what_it_undid_at_once():
    """A PUT /v1/state refused at a late step made and undid earlier
    ones: what they touched is told when the refusal is answered (as it
    is now, with no `state` event), not held for the next apply."""
    d = setup()
    doc = {"namespaces": [{"name": "wr"}],
           "links": [{"namespace": "wr", "name": "w0", "kind": "veth",
                      "peer": {"namespace": "wr", "name": "w1"}},
                     {"namespace": "wr", "name": "w1", "kind": "veth",
                      "peer": {"namespace": "wr", "name": "w0"}}],
           "addresses": []}
    expect_status(d.put("/v1/state", doc), 200, "PUT /v1/state")
    s = stream(d, "/v1/events?namespace=wr")
    doc["links"][0]["mtu"] = 1400    # made, then undone
    doc["links"][1]["mtu"] = 70000   # refused by the kernel
    expect_problem(d.put("/v1/state", doc), None, "a refused apply")
    eq(h.ip_json("link", "show", "w0", ns="wr")[0]["mtu"], 1500,
       "w0's MTU put back in the kernel")
    seen = s.until(is_ev("link", "w0", "api", "wr"), "w0 told",
                   timeout=h.scaled(5))
    eq(seen[-1]["data"]["object"]["mtu"], 1500, "as it is now")
    check(not any(e["event"] == "state" for e in seen),
          "no state event for a refused apply: %s",
          [e["event"] for e in seen])


@test
def routes_from_the_api_and_from_ip():
    d = setup()
    mk_ns(d, "rt")
    mk_veth(d, "rt", "t0", "t1", up=True)
    expect_status(d.post(L("rt", "t0") + "/addresses",
                         {"address": "198.18.8.1/24"}), 201, "address")
    s = stream(d, "/v1/events?namespace=rt&types=route,drift")
    r = d.post("/v1/namespaces/rt/routes",
               {"dst": "198.18.9.0/24", "via": "198.18.8.2"})
    expect_status(r, 201, "POST route")
    ev = s.until(is_ev("route", "198.18.9.0/24"), "the API's route")[-1]
    eq((ev["data"]["action"], ev["data"]["source"]), ("added", "api"),
       "added through the API")
    eq(ev["data"]["object"]["managed"], True, "the route as GET shows it")
    # Behind netnsd's back: the kernel's, and a drift of the managed one.
    h.ip("route", "del", "198.18.9.0/24", ns="rt")
    seen = s.until(is_ev("drift", "198.18.9.0/24"), "its drift")
    check(any(is_ev("route", "198.18.9.0/24", "kernel", "rt", "removed")(e)
              for e in seen), "the removal, as the kernel's: %s",
          [(e["event"], e["data"]["action"], e["data"]["name"],
            e["data"]["source"]) for e in seen])
    eq(seen[-1]["data"]["object"]["in_sync"], False, "missing")
    h.ip("route", "add", "198.18.10.0/24", "via", "198.18.8.3", ns="rt")
    ev = s.until(is_ev("route", "198.18.10.0/24", "kernel"),
                 "a route made with ip")[-1]
    eq(ev["data"]["object"]["managed"], False, "not netnsd's")


@test
def resume_with_last_event_id_misses_nothing():
    d = setup()
    s = stream(d)
    mk_ns(d, "n1")
    first = s.until(is_ev("namespace", "n1"), "n1")[-1]
    s.close()
    for n in ("n2", "n3", "n4"):
        mk_ns(d, n)
    s2 = stream(d, headers={"Last-Event-ID": first["id"]})
    got = [e["data"]["name"] for e in
           s2.until(is_ev("namespace", "n4"), "n4")
           if e["event"] == "namespace"]
    eq(got, ["n2", "n3", "n4"], "every namespace made while away, in order")
    # ?since= is the same for clients that cannot set headers.
    s3 = stream(d, "/v1/events?since=" + first["id"])
    eq(s3.until(is_ev("namespace", "n2"), "n2")[0]["data"]["name"], "n2",
       "?since= resumes after the id")


@test
def resuming_from_another_run_gives_resync():
    # Ids only grow, across runs too: an id of a run before is older than
    # the history, and a client resuming with it re-reads.
    d = setup()
    s = stream(d, "/v1/events?types=namespace")
    mk_ns(d, "r1")
    first = s.until(is_ev("namespace", "r1"), "r1's event")[-1]
    s.close()
    d.stop()
    d.start()
    s2 = stream(d, "/v1/events?types=namespace")
    mk_ns(d, "r2")
    ev = s2.until(is_ev("namespace", "r2"), "r2's event")[-1]
    check(int(ev["id"]) > int(first["id"]), "ids of the new run (%s) are "
          "past the old run's (%s)", ev["id"], first["id"])
    s3 = stream(d, headers={"Last-Event-ID": first["id"]})
    ev = s3.next()
    eq((ev["event"], ev["data"]["object"]), ("resync", {"reason": "history"}),
       "resuming with an id of the run before")


@test
def a_links_and_namespaces_drift_follow_its_addresses():
    # A link's in_sync covers its desired addresses, and a namespace's its
    # links: an address taken away behind netnsd's back flips both, and
    # putting it back flips them back, each told.
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "red", "v0", "v1")
    expect_status(d.post(L("red", "v0") + "/addresses",
                         {"address": "198.18.0.1/24"}), 201, "address")
    s = stream(d, "/v1/events?namespace=red&types=drift")
    h.ip("addr", "del", "198.18.0.1/24", "dev", "v0", ns="red")
    want = {("link", "v0", False), ("namespace", "red", False)}
    seen = set()

    def flips(ev):
        o = ev["data"]["object"] or {}
        kind = "link" if "kind" in o else "namespace" if "links" in o \
            else "address"
        seen.add((kind, ev["data"]["name"], o.get("in_sync")))
        return want <= seen
    s.until(flips, "v0 and red out of sync")
    expect_status(d.post(L("red", "v0") + "/addresses",
                         {"address": "198.18.0.1/24"}), 201, "put back")
    want = {("link", "v0", True), ("namespace", "red", True)}
    s.until(flips, "v0 and red in sync again")


@test
def a_namespaces_deletion_tells_no_change_to_nothing():
    # The far ends of its veths lose their carrier, then go: they are
    # told removed (as the API's), never changed with no object.
    d = setup()
    mk_ns(d, "red")
    mk_ns(d, "blue")
    mk_veth(d, "red", "v0", "p0", peer_ns="blue", up=True)
    s = stream(d, "/v1/events?namespace=red&types=link")
    expect_status(d.delete("/v1/namespaces/blue"), 204, "DELETE blue")
    seen = s.until(is_ev("link", "v0", action="removed"), "v0's removal")
    bad = [(e["data"]["action"], e["data"]["name"], e["data"]["source"])
           for e in seen if e["data"]["object"] is None and
           e["data"]["action"] != "removed"]
    eq(bad, [], "changes told with no object")
    eq(seen[-1]["data"]["source"], "api", "the removal's source")


@test
def a_reconciles_state_event_comes_after_its_repairs():
    d = setup()
    mk_ns(d, "red")
    for br, body in (("br0", {"up": True}), ("br1", {"mtu": 1400})):
        expect_status(d.put("/v1/namespaces/red/bridges/" + br, body), 201,
                      br)
    h.ip("link", "set", "br0", "down", ns="red")
    h.ip("link", "set", "br1", "mtu", "1300", ns="red")
    s = stream(d, "/v1/events?types=link,state")
    time.sleep(0.2)  # the kernel's changes told before the reconcile
    r = expect_status(d.post("/v1/reconcile"), 200, "reconcile")
    eq(len(r.json["actions"]), 2, "its repairs: %r" % r.json["actions"])
    seen = s.until(is_ev("state"), "the state event")
    repairs = {e["data"]["name"] for e in seen
               if e["event"] == "link" and e["data"]["source"] == "reconcile"}
    eq(repairs, {"br0", "br1"}, "repairs told before the state event")


@test
def history_overflow_gives_resync():
    d = setup()
    s = stream(d, "/v1/events?types=namespace")
    mk_ns(d, "ovf")
    first = s.until(is_ev("namespace", "ovf"), "ovf")[-1]
    s.close()
    # More than the 10,000 events kept: MTU changes made with `ip`, in
    # batches the monitor keeps up with (a kernel overflow would drop
    # some), until the ids have moved on by more than the history.
    h.ip("link", "add", "ov0", "type", "veth", "peer", "name", "ov1",
         ns="ovf")
    count = stream(d, "/v1/events?namespace=ovf&types=link",
                   timeout=h.scaled(60))
    last = int(first["id"])
    for b in range(100):
        if last > int(first["id"]) + 10100:
            break
        mtus = [1300 + (b * 7 + i) % 150 for i in range(250)] + [1499 - b]
        h.run(["ip", "-n", "ovf", "-batch", "-"], timeout=60,
              input="".join("link set ov0 mtu %d\n" % m for m in mtus))
        ev = count.until(
            lambda e: e["event"] == "link" and e["data"]["object"] and
            e["data"]["object"].get("mtu") == 1499 - b, "batch %d" % b,
            limit=10000)[-1]
        last = int(ev["id"])
    check(last > int(first["id"]) + 10100, "the ids moved on: %d", last)
    mk_ns(d, "after")  # an API event behind all of them
    s2 = stream(d, headers={"Last-Event-ID": first["id"]},
                timeout=h.scaled(60))
    ev = s2.next()
    eq(ev["event"], "resync", "the first event of a resume from too far")
    eq(ev["data"]["object"], {"reason": "history"}, "the reason")
    check(int(ev["id"]) > int(first["id"]) + 10000,
          "the resync's id is where to resume: %s", ev["id"])


@test
def kernel_overflow_gives_resync():
    d = setup()
    mk_ns(d, "burst")
    mk_veth(d, "burst", "k0", "k1", mtu=1400)
    s = stream(d, "/v1/events?types=resync,drift", timeout=h.scaled(60))
    h.ip("link", "set", "k0", "mtu", "1300", ns="burst")
    s.until(is_ev("drift", "k0", ns="burst"), "k0 out of sync")
    # A burst while the monitor cannot read fills its socket: the kernel
    # drops notifications (ENOBUFS), and subscribers are told to re-read.
    # The daemon is stopped for the burst so that this does not depend on
    # which of it and `ip` the scheduler favours.
    batch = "".join("link set k0 mtu %d\nlink set k1 mtu %d\n" % (
        1300 + i % 100, 1300 + i % 100) for i in range(20000))
    os.kill(d.proc.pid, signal.SIGSTOP)
    try:
        h.run(["ip", "-n", "burst", "-batch", "-"], input=batch,
              timeout=120)
    finally:
        os.kill(d.proc.pid, signal.SIGCONT)
    h.ip("link", "set", "k0", "mtu", "1400", ns="burst")
    seen = s.until(lambda e: e["event"] == "resync" or
                   is_ev("drift", "k0", ns="burst")(e),
                   "a resync or k0 back in sync")
    ev = seen[-1]
    eq(ev["event"], "resync", "a burst gives resync")
    eq(ev["data"]["object"], {"reason": "kernel-overflow"}, "the reason")
    eq(ev["data"]["namespace"], "burst", "the namespace that overflowed")
    # Re-read after the resync: k0 is in sync again (its drift is told).
    seen = s.until(is_ev("drift", "k0", ns="burst"), "k0 back in sync")
    eq(seen[-1]["data"]["object"]["in_sync"], True, "in sync")


@test
def slow_subscriber_gets_resync_and_close_while_others_keep_up():
    d = setup(args=["--events-buffer", "500"])
    mk_ns(d, "slow")
    h.ip("link", "add", "s0", "type", "veth", "peer", "name", "s1",
         ns="slow")
    slow = stream(d, "/v1/events?namespace=slow", rcvbuf=4096)
    fast = stream(d, "/v1/events?namespace=slow")
    # Rounds of changes until more has been told than the slow one's
    # socket can hold (the kernel's send buffer grows to 4 MiB: events
    # sent in batches fill it slowly), the fast one reading each through.
    n, told, sent = 3000, 0, 0
    for rnd in range(40):
        if told > 6 << 20:
            break
        batch = "".join("link set s0 mtu %d\n" % (1300 + i % 100)
                        for i in range(n))
        h.run(["ip", "-n", "slow", "-batch", "-"], input=batch,
              timeout=60)
        h.ip("link", "set", "s0", "mtu", str(1400 + rnd), ns="slow")
        sent += n + 1
        # The fast one sees the round's last change (or, should the
        # kernel itself have dropped notifications, a resync) while the
        # slow one sleeps.
        seen = fast.until(lambda e: e["event"] == "resync" or
                          (e["event"] == "link" and
                           e["data"]["object"] and
                           e["data"]["object"].get("mtu") == 1400 + rnd),
                          "round %d's last MTU change" % rnd,
                          limit=n * 4)
        check(seen[-1]["event"] != "resync" or
              seen[-1]["data"]["object"] != {"reason": "slow"},
              "the fast one keeps up: %s", seen[-1])
        told += sum(len(json.dumps(e["data"])) + 30 for e in seen)
    check(told > 6 << 20, "6 MiB of events told: %d bytes", told)
    # The slow one, read at last: events, then resync, then the end.
    events = []
    deadline = h.Deadline(h.scaled(60))
    while deadline.left():
        ev = slow.next()
        if ev is None:
            break
        events.append(ev)
    check(ev is None, "the slow one's stream ended")
    check(events and events[-1]["event"] == "resync",
          "the slow subscriber's last event is resync: %s",
          events[-1:] or "none")
    eq(events[-1]["data"]["object"], {"reason": "slow"}, "the reason")
    check(len(events) < sent, "it was cut off before the end (%d events)",
          len(events))


@test
def subscriber_limit_is_503_with_retry_after():
    d = setup(args=["--max-subscribers", "2"])
    stream(d)
    stream(d)
    r = d.get("/v1/events")
    expect_problem(r, 503, "a third subscriber")
    check(r.header("Retry-After"), "Retry-After on the 503")
    eq(r.json["type"], "urn:netnsd:problem:busy", "problem type")


@test
def a_subscriber_that_goes_away_frees_its_place_at_once():
    # A stream waiting for events is polled by no one: its client's close
    # must still be seen at once, not at the next heartbeat (15 s), or a
    # dashboard reloaded a few times fills --max-subscribers.
    d = setup(args=["--max-subscribers", "1"])

    def a_place():
        s = Stream(d, "/v1/events?types=resync")
        if s.status == 200:
            return s
        eq(s.status, 503, "refused only for the limit")
        s.close()
        return None
    for i in range(4):
        t0 = time.monotonic()
        s = h.wait_until(a_place, timeout=h.scaled(5),
                         what="a place for subscriber %d" % (i + 1))
        took = time.monotonic() - t0
        check(took < h.scaled(1), "subscriber %d waited %.2f s for the "
              "place of one that had gone", i + 1, took)
        s.close()


@test
def a_client_that_shuts_only_its_sending_side_keeps_its_stream():
    d = setup()
    s = stream(d, "/v1/events?types=namespace")
    s.sock.shutdown(socket.SHUT_WR)  # a FIN: "I will send nothing more"
    time.sleep(0.3)
    mk_ns(d, "half")
    s.until(is_ev("namespace", "half", action="added"), "its event")


@test
def counting_drift_in_a_silent_namespace_holds_no_others_events():
    # netnsd_drifted_objects is counted when /metrics is read, by reading
    # each namespace marked since: a namespace whose kernel does not
    # answer (the test hook --test-stall-netns) makes that read wait for
    # --netlink-timeout, but must not hold the events of the others.
    d = setup()
    mk_ns(d, "slow")
    mk_ns(d, "quick")
    mk_veth(d, "slow", "s0", "s1")
    mk_veth(d, "quick", "q0", "q1")
    d.stop()
    # Scaled with the build (ASan), so that a wait for it is always longer
    # than what "at once" allows.
    timeout = max(2, round(h.scaled(2)))
    d.start(extra_args=["--netlink-timeout", str(timeout),
                        "--test-stall-netns", "slow"])
    s = stream(d, "/v1/events?namespace=quick&types=drift")
    out = []
    t = threading.Thread(target=lambda: out.append(
        d.get("/metrics", timeout=h.scaled(30)).status), daemon=True)
    t.start()  # counts every namespace once after start-up: slow too
    time.sleep(h.scaled(0.3))
    t0 = time.monotonic()
    h.ip("link", "set", "q0", "mtu", "1300", ns="quick")
    s.until(is_ev("drift", "q0", ns="quick"), "q0's drift")
    took = time.monotonic() - t0
    t.join(h.scaled(30))
    eq(out, [200], "/metrics")
    check(took < timeout / 2, "q0's drift took %.2f s to be told, behind "
          "the count of slow's drift", took)


@test
def streams_hold_no_worker_and_keep_alive():
    # One worker thread: streams waiting for events must not hold it.
    d = setup(args=["--threads", "1"])
    streams = [stream(d) for _ in range(4)]
    for i in range(3):
        expect_status(d.get("/v1/namespaces"), 200, "a request beside 4 "
                      "open streams, with one worker")
    mk_ns(d, "kw")
    for s in streams:
        s.until(is_ev("namespace", "kw"), "the event on every stream")
    # Quiet for 15 s: a comment line keeps proxies from closing it.
    t0 = time.monotonic()
    eq(streams[0].comment(h.scaled(25)), ": keep-alive", "the comment")
    took = time.monotonic() - t0
    check(13 <= took <= h.scaled(20), "after about 15 s: %.1f s", took)
    # SIGTERM: every stream ends, and netnsd exits at once, cleanly.
    t0 = time.monotonic()
    eq(d.stop(), 0, "exit status on SIGTERM with 4 streams open")
    check(time.monotonic() - t0 < 2, "stopped within 2 s: %.1f s",
          time.monotonic() - t0)
    for s in streams:
        eq(s.next(timeout=5), None, "the stream ended")


@test
def tickets_when_tokens_are_on():
    tokfile = os.path.join(tempfile.mkdtemp(dir="/tmp"), "tokens")
    with open(tokfile, "w") as f:
        f.write("s3cret-token-for-events\n")
    os.chmod(tokfile, 0o600)
    d = setup(args=["--token-file", tokfile])
    auth = {"Authorization": "Bearer s3cret-token-for-events"}
    s = stream(d)
    eq(s.status, 401, "no token, no stream")
    r = expect_status(d.post("/v1/events/tickets", headers=auth), 200,
                      "POST /v1/events/tickets")
    ticket = r.json["ticket"]
    eq(r.json["expires_in"], 60, "valid for 60 s")
    s = stream(d, "/v1/events?ticket=" + ticket)
    eq(s.status, 200, "the ticket opens the stream")
    expect_status(d.put("/v1/namespaces/tk", {}, headers=auth), 201, "PUT")
    s.until(is_ev("namespace", "tk"), "an event through a ticket's stream")
    s2 = stream(d, "/v1/events?ticket=" + ticket)
    eq(s2.status, 401, "a ticket is good once")
    said = json.loads(s2.body)["detail"]
    check("this ticket cannot be used" in said and "get a new one" in said,
          "a used ticket is said as one: %r", said)
    s3 = stream(d, "/v1/events?ticket=" + "0" * 32)
    eq(s3.status, 401, "a made-up ticket is nothing")
    s4 = stream(d, "/v1/events", headers=auth)
    eq(s4.status, 200, "the token itself works too")


@test
def a_ticket_refused_a_stream_is_good_for_a_retry():
    tokfile = os.path.join(tempfile.mkdtemp(dir="/tmp"), "tokens")
    with open(tokfile, "w") as f:
        f.write("s3cret-token-for-events\n")
    os.chmod(tokfile, 0o600)
    d = setup(args=["--token-file", tokfile, "--max-subscribers", "1"])
    auth = {"Authorization": "Bearer s3cret-token-for-events"}
    held = stream(d, "/v1/events", headers=auth)
    eq(held.status, 200, "the one place, taken")
    ticket = expect_status(d.post("/v1/events/tickets", headers=auth), 200,
                           "a ticket").json["ticket"]
    eq(stream(d, "/v1/events?ticket=%s&types=bogus" % ticket).status, 400,
       "a bad query")
    eq(stream(d, "/v1/events?ticket=" + ticket).status, 503,
       "at the subscriber limit")
    held.close()
    s = h.wait_until(lambda: (lambda x: x if x.status == 200 else None)(
        stream(d, "/v1/events?ticket=" + ticket)), timeout=h.scaled(5),
        what="the retry with the same ticket")
    eq(s.status, 200, "the ticket opens the stream at last")
    eq(stream(d, "/v1/events?ticket=" + ticket).status, 401,
       "and is used up then")


@test
def filters_by_namespace_and_type():
    d = setup()
    by_ns = stream(d, "/v1/events?namespace=f2&namespace=f3")
    by_type = stream(d, "/v1/events?types=namespace")
    for n in ("f1", "f2", "f3"):
        mk_ns(d, n)
    mk_veth(d, "f1", "x0", "x1")
    mk_veth(d, "f3", "y0", "y1", peer_ns="f2")
    seen = by_ns.until(is_ev("link", "y1"), "f2's link")
    eq(sorted({e["data"]["namespace"] for e in seen}), ["f2", "f3"],
       "only the namespaces asked for")
    seen = by_type.until(is_ev("namespace", "f3"), "f3")
    eq({e["event"] for e in seen}, {"namespace"}, "only the types asked for")
    mk_ns(d, "f4")
    seen = by_type.until(is_ev("namespace", "f4"), "f4")
    eq([e["event"] for e in seen], ["namespace"],
       "no link event came between")


@test
def bad_queries_are_400_problems():
    d = setup()
    for q, field in (("since=abc", "query.since"),
                     ("since=-1", "query.since"),
                     ("types=link,bogus", "query.types"),
                     ("types=", "query.types"),
                     ("namespace=a/b", "query.namespace"),
                     ("namespace=" + "x" * 80, "query.namespace"),
                     ("colour=red", "query.colour")):
        expect_problem(d.get("/v1/events?" + q), 400, q, field=field)
    r = d.get("/v1/events", headers={"Last-Event-ID": "x1"})
    expect_problem(r, 400, "Last-Event-ID: x1",
                   field="header.Last-Event-ID")
    eq(h.run(["ip", "netns", "list"]).stdout.strip(), "",
       "nothing changed")


@test
def namespaces_made_with_ip_are_watched():
    d = setup()
    s = stream(d)
    # ip netns add makes the file first and mounts on it next: the
    # monitor notices the namespace once it is one, and watches it.
    h.ip("netns", "add", "outside")
    s.until(is_ev("namespace", "outside", "kernel", action="added"),
            "the namespace made with ip")
    h.ip("link", "add", "o0", "type", "veth", "peer", "name", "o1",
         ns="outside")
    seen = s.until(is_ev("link", "o0", "kernel", "outside", "added"),
                   "a link made inside it with ip")
    eq(seen[-1]["data"]["object"]["managed"], False, "not netnsd's")
    h.ip("address", "add", "198.18.7.1/24", "dev", "o0", ns="outside")
    s.until(is_ev("address", "o0/198.18.7.1/24", "kernel", "outside",
                  "added"), "its address")


@test
def reconcile_repairs_arrive_as_reconcile():
    d = setup()
    mk_ns(d, "rc")
    mk_veth(d, "rc", "r0", "r1")
    s = stream(d, "/v1/events?namespace=rc")
    h.ip("link", "del", "r0", ns="rc")
    # Both ends go (r1 with r0): each a kernel event and a drift.
    drifted = set()

    def both_drifted(ev):
        if is_ev("drift", source="kernel", ns="rc")(ev):
            drifted.add(ev["data"]["name"])
        return {"r0", "r1", "rc"} <= drifted  # rc: the namespace
    seen = s.until(both_drifted, "both ends missing: drifts")
    check(any(is_ev("link", "r0", "kernel", "rc", "removed")(e)
              for e in seen), "the deletion behind netnsd's back")
    expect_status(d.post("/v1/reconcile"), 200, "POST /v1/reconcile")
    back = set()

    def both_back(ev):
        if is_ev("drift", ns="rc")(ev) and ev["data"]["object"]["in_sync"]:
            back.add(ev["data"]["name"])
        return {"r0", "r1", "rc"} <= back
    seen = s.until(both_back, "both ends back in sync")
    check(any(is_ev("link", "r0", "reconcile", "rc", "added")(e)
              for e in seen),
          "the repair is told as reconcile's: %s",
          [(e["event"], e["data"]["name"], e["data"]["source"])
           for e in seen])
    check(not any(e["data"]["source"] == "kernel" for e in seen),
          "none of the repair is told as the kernel's: %s",
          [(e["event"], e["data"]["action"], e["data"]["name"],
            e["data"]["source"]) for e in seen])


@test
def a_deleted_namespace_is_not_kept_alive():
    d = setup()
    mk_ns(d, "gone")
    mk_veth(d, "gone", "g0", "g1", peer_ns="host")
    s = stream(d)
    # Deleted behind netnsd's back: the monitor lets go, so the kernel
    # really deletes it, and the veth's far end in the host goes with it.
    h.ip("netns", "del", "gone")
    s.until(is_ev("namespace", "gone", "kernel", action="removed"),
            "the namespace's removal")
    h.wait_until(lambda: h.run(["ip", "link", "show", "g1"],
                               check=False).returncode != 0,
                 what="the host end g1 to go with the namespace")
    # Unmounted, its file left behind: gone as well.
    mk_ns(d, "gone3")
    mk_veth(d, "gone3", "j0", "j1", peer_ns="host")
    h.run(["umount", "/run/netns/gone3"])
    s.until(is_ev("namespace", "gone3", "kernel", action="removed"),
            "the unmounted namespace's removal")
    h.wait_until(lambda: h.run(["ip", "link", "show", "j1"],
                               check=False).returncode != 0,
                 what="the host end j1 to go with the namespace")
    # Deleted through the API: the monitor's socket was closed before the
    # namespace was unmounted, and the kernel lets it go.
    mk_ns(d, "gone2")
    mk_veth(d, "gone2", "h0", "h1", peer_ns="host")
    expect_status(d.delete("/v1/namespaces/gone2"), 204, "DELETE")
    h.wait_until(lambda: h.run(["ip", "link", "show", "h1"],
                               check=False).returncode != 0,
                 what="the host end h1 to go with the namespace")


@test
def far_ends_of_a_deleted_namespaces_veths_are_told_as_the_apis():
    # Deleting a namespace takes its veths' far ends in other namespaces
    # with it; the kernel removes them once it dismantles the namespace,
    # after the answer. Their removal is the API's doing, and told as such
    # (not as the kernel's), once each.
    d = setup()
    mk_ns(d, "fd")
    mk_ns(d, "fk")
    mk_veth(d, "fd", "fx0", "fx1", peer_ns="fk")
    mk_veth(d, "fd", "fy0", "fy1", peer_ns="host")
    mk_veth(d, "fd", "fz0", "fz1")
    s = stream(d)
    expect_status(d.delete("/v1/namespaces/fd"), 204, "DELETE namespace")
    h.wait_until(lambda: h.run(["ip", "link", "show", "fy1"],
                               check=False).returncode != 0 and
                 "fx1" not in {l["ifname"] for l in h.ip_json(
                     "link", "show", ns="fk")},
                 what="the far ends to go with the namespace")
    # A marker after the far ends are gone: every event they caused was
    # queued before it.
    mk_ns(d, "fmark")
    seen = s.until(is_ev("namespace", "fmark", action="added"), "the marker")
    far = [(e["data"]["namespace"], e["data"]["name"], e["data"]["action"],
            e["data"]["source"]) for e in seen
           if e["event"] == "link" and e["data"]["name"] in ("fx1", "fy1")]
    eq(sorted(far), [("fk", "fx1", "removed", "api"),
                     ("host", "fy1", "removed", "api")],
       "the far ends' removal, told once each, as the API's")
    check(not any(e["data"]["source"] == "kernel" for e in seen),
          "nothing of the deletion is told as the kernel's: %s",
          [(e["event"], e["data"]["name"], e["data"]["source"])
           for e in seen])
    # Deleted behind netnsd's back instead: the same far ends are the
    # kernel's.
    mk_ns(d, "fb")
    mk_veth(d, "fb", "fw0", "fw1", peer_ns="fk")
    h.netns_del("fb")
    s.until(is_ev("link", "fw1", "kernel", "fk", "removed"),
            "the far end of a namespace deleted with ip, as the kernel's")


def proc_sys_write(ns, key, value):
    """A sysctl written behind netnsd's back, as sysctl -w would."""
    path = "/proc/sys/" + key.replace(".", "/")
    h.run(["ip", "netns", "exec", ns, "sh", "-c",
           "echo %s > %s" % (value, path)])


@test
def sysctls_changed_behind_our_back_are_told_as_kernel():
    # The kernel tells changes of forwarding, rp_filter and proxy_arp
    # (RTM_NEWNETCONF): each arrives as a `sysctl` event of source kernel,
    # and a managed one out of its desired value as a `drift`.
    d = setup()
    mk_ns(d, "sy")
    mk_veth(d, "sy", "sy0", "sy1")
    rp = "net.ipv4.conf.all.rp_filter"
    expect_status(d.put("/v1/namespaces/sy/sysctls/" + rp, {"value": "1"}),
                  201, "PUT sysctl")
    s = stream(d)
    proc_sys_write("sy", rp, "2")
    seen = s.until(is_ev("sysctl", rp, "kernel", "sy", "changed"),
                   "the kernel's rp_filter change")
    eq((seen[-1]["data"]["object"]["value"],
        seen[-1]["data"]["object"]["in_sync"]), ("2", False),
       "the sysctl as its GET shows it")
    seen = s.until(is_ev("drift", rp, ns="sy"), "its drift")
    eq(seen[-1]["data"]["object"]["in_sync"], False, "drift: out of sync")
    # A link's own key, unmanaged: told, no drift.
    proc_sys_write("sy", "net.ipv4.conf.sy0.forwarding", "1")
    seen = s.until(is_ev("sysctl", "net.ipv4.conf.sy0.forwarding", "kernel",
                         "sy"), "a link's forwarding")
    eq(seen[-1]["data"]["object"]["value"], "1", "its value")
    # ip_forward is conf.all.forwarding: both keys are told.
    proc_sys_write("sy", "net.ipv4.ip_forward", "1")
    want = {"net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding"}
    got = set()

    def both(ev):
        if is_ev("sysctl", source="kernel", ns="sy")(ev):
            got.add(ev["data"]["name"])
        return want <= got
    s.until(both, "ip_forward and conf.all.forwarding")
    proc_sys_write("sy", "net.ipv6.conf.all.forwarding", "1")
    s.until(is_ev("sysctl", "net.ipv6.conf.all.forwarding", "kernel", "sy"),
            "IPv6 forwarding")
    # Put back through the API: told once, as the API's, not echoed as
    # the kernel's; and a key the kernel does not tell (arp_ignore) is
    # only seen when read.
    expect_status(d.put("/v1/namespaces/sy/sysctls/" + rp, {"value": "1"}),
                  200, "PUT sysctl back")
    proc_sys_write("sy", "net.ipv4.conf.all.arp_ignore", "1")
    mk_ns(d, "symark")
    seen = s.until(is_ev("namespace", "symark"), "the marker")
    told = [(e["data"]["name"], e["data"]["source"]) for e in seen
            if e["event"] == "sysctl"]
    eq(told, [(rp, "api")], "after the API's PUT: its one event")
    check(any(is_ev("drift", rp, ns="sy")(e) and
              e["data"]["object"]["in_sync"] for e in seen),
          "the drift back in sync")


class RawStream:
    """One subscriber read as the bytes on the wire: its chunks (each one
    call of netnsd's reader, so one send), not its events."""

    def __init__(self, d, path):
        s = socket.create_connection((h.API_HOST, d.port),
                                     timeout=h.scaled(10))
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (
            path, h.API_HOST, d.port)).encode())
        self.sock = s
        self.f = s.makefile("rb")
        head = []
        while True:
            line = self.f.readline()
            if line in (b"\r\n", b""):
                break
            head.append(line.decode().strip().lower())
        check(head and head[0].startswith("http/1.1 200"), "200: %s",
              head[:1])
        check("transfer-encoding: chunked" in head, "chunked: %s", head)

    def close(self):
        self.f.close()
        self.sock.close()

    def chunk(self):
        size = int(self.f.readline().split(b";")[0], 16)
        data = self.f.read(size)
        eq(self.f.read(2), b"\r\n", "a chunk's end")
        return data


def nl_set_mtu(sock, ifindex, mtu):
    """One RTM_NEWLINK setting a link's MTU, over rtnetlink, answered: a
    change a few microseconds long, so that the test paces the events."""
    body = (struct.pack("BxHiII", socket.AF_UNSPEC, 0, ifindex, 0, 0) +
            struct.pack("HHI", 8, 4, mtu))  # IFLA_MTU
    sock.send(struct.pack("IHHII", 16 + len(body), 16, 1 | 4, mtu, 0) +
              body)  # RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK
    ack = sock.recv(4096)
    eq(struct.unpack_from("i", ack, 16)[0], 0, "the kernel's answer")


@test
def paced_events_come_in_few_sends_of_whole_ordered_frames():
    # Wake-ups are coalesced (README.md, "Watching"): events a
    # millisecond apart reach a subscriber a few at a time, each send
    # holding every event since the last one (not one send per event),
    # and each send still holds whole frames, in order.
    d = setup()
    h.ip("link", "add", "fb0", "type", "veth", "peer", "name", "fb1")
    raw = RawStream(d, "/v1/events?namespace=host&types=link")
    h.on_cleanup(raw.close)
    eq(raw.chunk(), b": netnsd events\n\n", "the opening comment")
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                       socket.NETLINK_ROUTE)
    h.on_cleanup(nl.close)
    fb0 = socket.if_nametoindex("fb0")
    n = 150
    for i in range(n):
        nl_set_mtu(nl, fb0, 1300 + i)
        time.sleep(0.001)
    nl_set_mtu(nl, fb0, 1499)
    chunks, ids, last = 0, [], None
    while not (last and last["object"] and last["object"]["mtu"] == 1499):
        data = raw.chunk().decode()
        chunks += 1
        check(data.endswith("\n\n"), "a send ends with a whole frame: "
              "...%r", data[-80:])
        for frame in data[:-2].split("\n\n"):
            lines = frame.split("\n")
            check(len(lines) == 3 and lines[0].startswith("id: ") and
                  lines[1] == "event: link" and
                  lines[2].startswith("data: "),
                  "a whole frame: %r", frame[:200])
            ids.append(int(lines[0][4:]))
            data = json.loads(lines[2][6:])
            # The pair's creation, made just before the stream began,
            # may still be told when the monitor is slow: fb1's too.
            check(data["name"] in ("fb0", "fb1"), "a link of the pair: %r",
                  data["name"])
            if data["name"] == "fb0":
                last = data
    eq(ids, sorted(set(ids)), "ids grow, none twice")
    # Changes the monitor reads after the next one was made are told as
    # what the link is then: about one event a change at most (and the
    # link's own, as its creation or carrier, when told late).
    check(n // 2 <= len(ids) <= n + 5, "the changes told: %d events",
          len(ids))
    check(chunks * 2 <= len(ids), "%d events came in %d sends: at least "
          "2 a send on average", len(ids), chunks)

if __name__ == "__main__":
    h.run_tests()
