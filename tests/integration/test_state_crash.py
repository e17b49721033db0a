#!/usr/bin/python3
"""PUT /v1/state survives a crash at any point (README.md, "Declaring a
whole topology"): netnsd is SIGKILLed at random moments of applies that
switch between two overlapping topologies (namespaces made and deleted, a
bridge replaced, ports moved, MTUs and addresses changed). After each
restart and its start-up reconcile:

- the desired state is one of the two documents, whole (never a mix);
- the kernel matches it field by field (`ip -j`), with no orphan: no link
  or namespace netnsd marked that the desired state does not know, no
  address left over on a desired link.

NETNSD_STATE_KILLS sets the number of kills (default 30). The figures
(how many kills left the old state, how many the new) are printed."""

import http.client
import random
import threading
import time

import harness as h
from harness import check, eq, expect_status, test
import reliability_util as u
from topology import setup

KILLS = u.env_int("NETNSD_STATE_KILLS", 30)


def pair(ns, name, pns, pname, **kw):
    a = dict(namespace=ns, name=name, kind="veth", up=True,
             peer={"namespace": pns, "name": pname}, **kw)
    b = dict(namespace=pns, name=pname, kind="veth", up=True,
             peer={"namespace": ns, "name": name})
    return [a, b]


def topology(first, last, bridge, mtu, net):
    """Namespaces s<first>..s<last>, each wired to `bridge` in host."""
    names = ["s%d" % i for i in range(first, last + 1)]
    links = [dict(namespace="host", name=bridge, kind="bridge", up=True)]
    addrs = []
    for n in names:
        links += pair("host", "h-" + n, n, "eth0", mtu=mtu, master=bridge)
        addrs.append({"namespace": n, "link": "eth0",
                      "address": "198.18.%d.%s/24" % (net, n[1:])})
        # One address both have: the link never loses its last IPv4
        # address, which would take every route through it along.
        addrs.append({"namespace": n, "link": "eth0",
                      "address": "198.18.99.%s/24" % n[1:]})
    # Through the device, so that only netnsd takes the old one away.
    routes = [{"namespace": n, "dst": "198.18.%d.0/24" % (net + 100),
               "dev": "eth0"} for n in names]
    return {"namespaces": [{"name": n} for n in names], "links": links,
            "addresses": addrs, "routes": routes}


A = topology(0, 7, "br-a", 1500, 10)
B = topology(4, 11, "br-b", 1400, 11)


def norm(doc):
    """What must match: names, kinds, peers, masters, MTUs, addresses; not
    what netnsd picks (a MAC) or only says (revision, owned)."""
    links = sorted(tuple(sorted((k, repr(v)) for k, v in l.items()
                                if k not in ("mac", "owned")))
                   for l in doc["links"])
    return (sorted(n["name"] for n in doc["namespaces"]), links,
            sorted((a["namespace"], a["link"], a["address"])
                   for a in doc["addresses"]),
            sorted((r["namespace"], r["dst"], r.get("dev"))
                   for r in doc.get("routes", [])))


def routes_vs_kernel(doc):
    """Desired routes the kernel lacks, and netnsd's routes (proto 173)
    nothing desires: both are a mix of old and new."""
    want = {(r["namespace"], r["dst"]) for r in doc.get("routes", [])}
    have = set()
    for ns in h.netns_list():
        for r in h.ip_json("-4", "route", "show", "proto", "173", ns=ns):
            have.add((ns, r["dst"]))
    return sorted(want ^ have)


def put_in_background(port, doc, out):
    def run():
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("PUT", "/v1/state", body=h.json.dumps(doc),
                      headers={"Content-Type": "application/json"})
            out.append(c.getresponse().status)
        except (OSError, http.client.HTTPException) as e:
            out.append(repr(e))
    t = threading.Thread(target=run)
    t.start()
    return t


@test
def kills_during_applies_leave_the_old_or_the_new_state_whole():
    d = setup()
    rnd = u.rng("state-crash")
    # How long one switch takes, to spread the kills over it.
    expect_status(d.put("/v1/state", A), 200, "apply A")
    t0 = time.monotonic()
    expect_status(d.put("/v1/state", B), 200, "apply B")
    span = time.monotonic() - t0
    current, outcomes = B, {"old": 0, "new": 0}
    answered = 0
    for i in range(KILLS):
        target = A if current is B else B
        out = []
        t = put_in_background(d.port, target, out)
        time.sleep(rnd.uniform(0, span * 1.2))
        d.kill()
        t.join(h.scaled(30))
        answered += out == [200]
        d.start()
        got = norm(expect_status(d.get("/v1/state"), 200).json)
        check(got in (norm(A), norm(B)),
              "kill %d: the desired state is neither document: %r", i, got)
        new = got == norm(target)
        outcomes["new" if new else "old"] += 1
        current = target if new else current
        des, problems = u.kernel_vs_desired_settled(d, h.scaled(10))
        problems += ["route %s/%s: desired or netnsd's, not both" % x
                     for x in routes_vs_kernel(
                         expect_status(d.get("/v1/state"), 200).json)]
        check(not problems, "kill %d (%s): the kernel differs from the "
              "desired state:\n  %s", i, "new" if new else "old",
              "\n  ".join(problems))
    u.say("%d kills (an apply takes %.0f ms): %d before the answer, %d of "
          "them left the old state, %d the new", KILLS, span * 1000,
          KILLS - answered, outcomes["old"], outcomes["new"] - answered)
    check(KILLS - answered >= KILLS // 3,
          "too few kills landed before the answer: %d", KILLS - answered)
    eq(outcomes["old"] + outcomes["new"], KILLS, "every kill counted")


if __name__ == "__main__":
    h.run_tests()
