#!/usr/bin/python3
"""Routes (README.md, "Routes"): IPv4 and IPv6, default routes, tables and
metrics; netnsd's routing protocol as the ownership mark (routes it did not
make are unmanaged and protected); PUT converges and a no-op PUT leaves the
revision; bad input is a 400 naming the field and changes nothing; a
router namespace forwards between two subnets; desired routes come back
after SIGKILL and a wipe with `ip route del`. Every change is checked with
`ip -j route show table all` in the namespace."""

import json
import os

import harness as h
import reliability_util as u
from harness import check, eq, expect_problem, expect_status, test
from topology import mk_ns, mk_veth, setup, state

PROTO = 173  # netnsd's routing protocol (README.md, "Routes")


def R(ns, dst=None, query=""):
    p = "/v1/namespaces/%s/routes" % ns
    return (p + "/" + dst if dst else p) + query


def kroutes(ns):
    """{(dst, table, metric): ip -j route object} of every table."""
    return {(dst, table, metric): r for (table, dst, metric), r in
            u.kernel_routes(ns, proto=None).items()}


def kroute(ns, dst, table=254, metric=None):
    if metric is None:
        metric = 1024 if ":" in dst else 0
    return kroutes(ns).get((dst, table, metric))


def is_ours(r):
    return r is not None and str(r.get("protocol")) in (str(PROTO), "netnsd")


def state_routes(d, ns=None):
    return [r for r in state(d)["routes"]
            if ns is None or r["namespace"] == ns]


def revision(d):
    return state(d)["revision"]


def with_link(d, ns="red", v6=False):
    """ns with a veth end eth0 (peer h-<ns> in host, both up) holding
    198.18.0.2/24 (and 2001:db8::2/64), the peer 198.18.0.1/24."""
    mk_ns(d, ns)
    mk_veth(d, "host", "h-" + ns, "eth0", peer_ns=ns, up=True)
    expect_status(d.patch("/v1/namespaces/%s/links/eth0" % ns, {"up": True}),
                  200, "eth0 up")
    A = "/v1/namespaces/%s/links/eth0/addresses" % ns
    expect_status(d.post(A, {"address": "198.18.0.2/24"}), 201, "address")
    if v6:
        expect_status(d.post(A, {"address": "2001:db8::2/64"}), 201, "v6")
    return d


def snapshot(d, ns="red"):
    return (kroutes(ns), state(d))


def expect_unchanged(d, before, what, ns="red"):
    now = snapshot(d, ns)
    if now[0] != before[0]:
        raise h.Failure("%s changed the kernel's routes:\nbefore %r\nafter  %r"
                        % (what, sorted(before[0]), sorted(now[0])))
    eq(now[1], before[1], what + ": desired state")


# ---------------------------------------------------------------------------


@test
def ipv4_create_get_list_converge_delete():
    d = with_link(setup())
    r = d.post(R("red"), {"dst": "198.18.8.0/24", "via": "198.18.0.1"})
    expect_status(r, 201, "POST route")
    eq(r.header("Location"), "/v1/namespaces/red/routes/198.18.8.0/24",
       "Location")
    eq((r.json["dst"], r.json["via"], r.json["dev"], r.json["metric"],
        r.json["table"], r.json["scope"], r.json["protocol"],
        r.json["managed"], r.json["in_sync"]),
       ("198.18.8.0/24", "198.18.0.1", "eth0", 0, 254, "global", "netnsd",
        True, True), "answer")
    k = kroute("red", "198.18.8.0/24")
    check(k is not None, "kernel lacks the route: %r", kroutes("red"))
    eq((k.get("gateway"), k.get("dev")), ("198.18.0.1", "eth0"), "kernel")
    check(is_ours(k), "kernel route is not marked netnsd's: %r", k)
    metrics = expect_status(d.get("/metrics"), 200).body.decode()
    check('netnsd_managed_objects{kind="route"} 1' in metrics,
          "metrics count the route")
    eq(state_routes(d), [{"namespace": "red", "dst": "198.18.8.0/24",
                          "via": "198.18.0.1", "metric": 0, "table": 254,
                          "scope": "global"}], "desired state")
    g = expect_status(d.get(r.header("Location")), 200, "GET route").json
    eq(g, r.json, "GET = the POST's answer")
    items = expect_status(d.get(R("red")), 200, "list").json["items"]
    by = {(i["dst"], i["table"]): i for i in items}
    eq(by[("198.18.8.0/24", 254)]["managed"], True, "listed as managed")
    conn = by.get(("198.18.0.0/24", 254))
    check(conn and conn["managed"] is False and conn["protocol"] == "kernel"
          and "in_sync" not in conn,
          "the kernel's connected route is listed unmanaged: %r", conn)
    # A PUT to what is there changes nothing, not even the revision.
    rev = revision(d)
    p = d.put(R("red", "198.18.8.0/24"), {"via": "198.18.0.1"})
    expect_status(p, 200, "no-op PUT")
    eq(revision(d), rev, "revision after a no-op PUT")
    # A PUT to another gateway converges the kernel's route.
    p = d.put(R("red", "198.18.8.0/24"),
              {"dst": "198.18.8.0/24", "via": "198.18.0.3", "dev": "eth0"})
    expect_status(p, 200, "converging PUT")
    eq(p.json["via"], "198.18.0.3", "answer via")
    eq(kroute("red", "198.18.8.0/24").get("gateway"), "198.18.0.3",
       "kernel gateway after PUT")
    eq(revision(d), rev + 1, "revision after a converging PUT")
    eq(state_routes(d)[0]["via"], "198.18.0.3", "desired via after PUT")
    expect_status(d.delete(R("red", "198.18.8.0/24")), 204, "DELETE")
    eq(kroute("red", "198.18.8.0/24"), None, "kernel after DELETE")
    eq(state_routes(d), [], "desired state after DELETE")
    expect_problem(d.get(R("red", "198.18.8.0/24")), 404, "GET after DELETE")
    expect_problem(d.delete(R("red", "198.18.8.0/24")), 404,
                   "DELETE again")


@test
def ipv6_table_and_metric_selectors():
    d = with_link(setup(), v6=True)
    body = {"dst": "2001:db8:8::/64", "via": "2001:db8::1", "dev": "eth0",
            "table": 100, "metric": 5}
    r = d.post(R("red"), body)
    expect_status(r, 201, "POST IPv6 route")
    loc = "/v1/namespaces/red/routes/2001:db8:8::/64?table=100&metric=5"
    eq(r.header("Location"), loc, "Location names table and metric")
    eq((r.json["family"], r.json["table"], r.json["metric"]),
       ("ipv6", 100, 5), "answer")
    k = kroute("red", "2001:db8:8::/64", table=100, metric=5)
    check(is_ours(k) and k.get("gateway") == "2001:db8::1",
          "kernel (table 100, metric 5): %r", kroutes("red"))
    eq(kroute("red", "2001:db8:8::/64"), None, "nothing in main")
    expect_status(d.get(loc), 200, "GET with selectors")
    expect_problem(d.get(R("red", "2001:db8:8::/64")), 404,
                   "GET without them selects main, 1024")
    expect_problem(d.get(R("red", "2001:db8:8::/64", "?table=100")), 404,
                   "GET with the table only selects metric 1024")
    # IPv6 metric 0 is the kernel's 1024, in the body and in the query.
    r = d.post(R("red"), {"dst": "2001:db8:9::/64", "dev": "eth0",
                          "metric": 0})
    expect_status(r, 201, "POST metric 0")
    eq(r.json["metric"], 1024, "IPv6 metric 0 is 1024")
    eq(r.header("Location"), "/v1/namespaces/red/routes/2001:db8:9::/64",
       "Location without a metric")
    check(is_ours(kroute("red", "2001:db8:9::/64")), "kernel, metric 1024")
    expect_status(d.get(R("red", "2001:db8:9::/64", "?metric=0")), 200,
                  "?metric=0 on IPv6")
    expect_status(d.delete(loc), 204, "DELETE with selectors")
    eq(kroute("red", "2001:db8:8::/64", table=100, metric=5), None,
       "kernel after DELETE")
    eq([r["dst"] for r in state_routes(d)], ["2001:db8:9::/64"],
       "desired state after DELETE")


@test
def default_routes_by_put():
    d = with_link(setup(), v6=True)
    r = d.put(R("red", "0.0.0.0/0"), {"via": "198.18.0.1"})
    expect_status(r, 201, "PUT IPv4 default")
    eq(r.header("Location"), "/v1/namespaces/red/routes/0.0.0.0/0",
       "Location")
    k = kroute("red", "0.0.0.0/0")
    check(is_ours(k) and k["gateway"] == "198.18.0.1",
          "kernel default: %r", kroutes("red"))
    r = d.put(R("red", "::/0"), {"dst": "::/0", "via": "2001:db8::1",
                                 "dev": "eth0"})
    expect_status(r, 201, "PUT IPv6 default")
    k = kroute("red", "::/0")
    check(is_ours(k) and k["gateway"] == "2001:db8::1",
          "kernel IPv6 default: %r", kroutes("red"))
    rev = revision(d)
    expect_status(d.put(R("red", "::/0"), {"via": "2001:db8::1",
                                          "dev": "eth0"}), 200, "again")
    eq(revision(d), rev, "revision after a no-op PUT")
    eq(sorted(r["dst"] for r in state_routes(d)), ["0.0.0.0/0", "::/0"],
       "desired state")


@test
def router_namespace_forwards_between_two_subnets():
    d = setup()
    for ns in ("rtr", "left", "right"):
        mk_ns(d, ns)
    nets = {"left": "198.18.1", "right": "198.18.2"}
    for leaf, net in nets.items():
        expect_status(d.post("/v1/namespaces/%s/veths" % leaf, {
            "name": "eth0", "up": True,
            "peer": {"name": "to-" + leaf, "namespace": "rtr", "up": True}}),
            201, "veth " + leaf)
        expect_status(d.post("/v1/namespaces/%s/links/eth0/addresses" % leaf,
                             {"address": net + ".2/24"}), 201, leaf)
        expect_status(d.post("/v1/namespaces/rtr/links/to-%s/addresses" % leaf,
                             {"address": net + ".1/24"}), 201, "rtr " + leaf)
        for ns in (leaf,):
            expect_status(d.patch("/v1/namespaces/%s/links/lo" % ns,
                                  {"up": True}), 200, "lo up")
    # Forwarding, by hand until the sysctl API exists.
    h.run(["ip", "netns", "exec", "rtr", "sh", "-c",
           "echo 1 > /proc/sys/net/ipv4/ip_forward"])
    # No route yet: left cannot reach right.
    p = h.run(["ip", "netns", "exec", "left", "ping", "-c1", "-W1",
               "198.18.2.2"], check=False)
    check(p.returncode != 0, "ping went through without a route")
    for leaf, net in nets.items():
        expect_status(d.put(R(leaf, "0.0.0.0/0"), {"via": net + ".1"}), 201,
                      "default route of " + leaf)
        check(is_ours(kroute(leaf, "0.0.0.0/0")), "kernel default in %s", leaf)
    for src, dst in (("left", "198.18.2.2"), ("right", "198.18.1.2")):
        p = h.run(["ip", "netns", "exec", src, "ping", "-c2", "-W2", dst],
                  check=False)
        check(p.returncode == 0, "ping from %s to %s: %s", src, dst,
              p.stdout + p.stderr)


@test
def shipped_rt_protos_file_names_the_protocol():
    """docker/rt_protos.d/netnsd.conf makes `ip route` say `proto netnsd`
    (mounted over /etc/iproute2/rt_protos.d in the sandbox's own mount
    namespace only)."""
    d = with_link(setup())
    expect_status(d.post(R("red"), {"dst": "198.18.8.0/24", "dev": "eth0"}),
                  201, "POST")
    conf = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "docker", "rt_protos.d", "netnsd.conf")
    tmp = "/run/netnsd-test-rt_protos.d"
    os.makedirs(tmp, exist_ok=True)
    with open(conf) as f, open(os.path.join(tmp, "netnsd.conf"), "w") as o:
        o.write(f.read())
    target = "/etc/iproute2/rt_protos.d"
    if not os.path.isdir(target):
        # Made only by a mount over it: never on the host's /etc.
        print("SKIPPED: no %s to mount over" % target)
        return
    h.run(["mount", "--bind", tmp, target])
    h.on_cleanup(lambda: h.run(["umount", target], check=False))
    out = h.run(["ip", "-n", "red", "route", "show", "198.18.8.0/24"]).stdout
    check("proto netnsd" in out, "ip route: %r", out)


@test
def unmanaged_routes_are_protected():
    d = with_link(setup())
    h.ip("route", "add", "198.18.9.0/24", "via", "198.18.0.1", ns="red")
    items = expect_status(d.get(R("red")), 200, "list").json["items"]
    mine = [i for i in items if i["dst"] == "198.18.9.0/24"]
    eq(len(mine), 1, "listed once")
    eq((mine[0]["managed"], mine[0]["protocol"]), (False, "boot"),
       "an `ip route add` route")
    check("in_sync" not in mine[0], "an unmanaged route has no in_sync")
    before = snapshot(d)
    p = expect_problem(d.delete(R("red", "198.18.9.0/24")), 409, "DELETE")
    check(p["type"].endswith(":unmanaged"), "type: %r", p)
    expect_problem(d.put(R("red", "198.18.9.0/24"), {"via": "198.18.0.3"}),
                   409, "PUT")
    p = expect_problem(d.post(R("red"), {"dst": "198.18.9.0/24",
                                         "via": "198.18.0.3"}), 409, "POST")
    check(p["type"].endswith(":already-exists"), "type: %r", p)
    expect_problem(d.delete(R("red", "198.18.0.0/24")), 409,
                   "DELETE of the kernel's connected route")
    expect_unchanged(d, before, "refused changes of unmanaged routes")
    # With force, PUT takes it over, marked netnsd's.
    expect_status(d.put(R("red", "198.18.9.0/24", "?force=true"),
                        {"via": "198.18.0.3"}), 200, "forced PUT")
    k = kroute("red", "198.18.9.0/24")
    check(is_ours(k) and k["gateway"] == "198.18.0.3", "taken over: %r", k)
    h.ip("route", "add", "198.18.10.0/24", "dev", "eth0", ns="red")
    expect_status(d.delete(R("red", "198.18.10.0/24", "?force=true")), 204,
                  "forced DELETE")
    eq(kroute("red", "198.18.10.0/24"), None, "gone after a forced DELETE")


@test
def a_forced_put_replaces_a_multipath_route_whole_or_not_at_all():
    d = with_link(setup(), v6=True)
    h.ip("link", "add", "m0", "type", "veth", "peer", "name", "m1",
         ns="red")
    for link in ("m0", "m1"):
        h.ip("link", "set", link, "up", ns="red")
    h.ip("-6", "addr", "add", "2001:db8:1::1/64", "dev", "m0", "nodad",
         ns="red")
    h.ip("-6", "route", "add", "2001:db8:9::/64",
         "nexthop", "via", "2001:db8::1", "dev", "eth0",
         "nexthop", "via", "2001:db8:1::2", "dev", "m0", ns="red")
    before = snapshot(d)
    # The kernel refuses the new route (its gateway is on no link): the
    # route with two next hops is left whole, not deleted first.
    expect_problem(d.put(R("red", "2001:db8:9::/64", "?force=true"),
                         {"via": "2001:db8:77::1"}), 409,
                   "a gateway the kernel refuses")
    expect_unchanged(d, before, "a refused replace of a multipath route")
    expect_status(d.put(R("red", "2001:db8:9::/64", "?force=true"),
                        {"via": "2001:db8::3", "dev": "eth0"}), 200,
                  "forced PUT")
    k = kroute("red", "2001:db8:9::/64")
    check(is_ours(k) and k.get("gateway") == "2001:db8::3" and
          "nexthops" not in k, "replaced whole, one next hop: %r", k)


@test
def host_routes_need_force_unless_through_netnsd_links():
    d = with_link(setup())
    before = snapshot(d, "host")
    for body in ({"dst": "198.18.50.0/24", "dev": "lo"},
                 {"dst": "198.18.50.0/24", "via": "198.18.0.2"}):
        p = expect_problem(d.post(R("host"), body), 409, "host %r" % body)
        check(p["type"].endswith(":unmanaged"), "type: %r", p)
        expect_problem(d.put(R("host", "198.18.50.0/24"), body), 409,
                       "PUT host %r" % body)
    expect_unchanged(d, before, "refused host routes", ns="host")
    # Through a link netnsd made, no force; through another, with it.
    expect_status(d.post(R("host"), {"dst": "198.18.50.0/24",
                                     "dev": "h-red"}), 201, "h-red")
    check(is_ours(kroute("host", "198.18.50.0/24")), "kernel in host")
    expect_status(d.post(R("host", query="?force=true"),
                         {"dst": "198.18.51.0/24", "dev": "lo"}), 201,
                  "forced")
    check(is_ours(kroute("host", "198.18.51.0/24")), "forced, in host")
    for dst in ("198.18.50.0/24", "198.18.51.0/24"):
        expect_status(d.delete(R("host", dst)), 204, "DELETE " + dst)


@test
def drift_reconcile_and_restart_after_sigkill_and_wipe():
    d = with_link(setup(), v6=True)
    want = {("198.18.8.0/24", 254, 0): {"dst": "198.18.8.0/24",
                                        "via": "198.18.0.1"},
            ("0.0.0.0/0", 254, 0): {"dst": "0.0.0.0/0", "via": "198.18.0.1"},
            ("2001:db8:8::/64", 254, 1024): {"dst": "2001:db8:8::/64",
                                             "via": "2001:db8::1",
                                             "dev": "eth0"},
            ("198.18.16.0/20", 7, 9): {"dst": "198.18.16.0/20",
                                       "dev": "eth0", "table": 7,
                                       "metric": 9}}
    for body in want.values():
        expect_status(d.post(R("red"), body), 201, body["dst"])
    # Wiped by hand: shown missing, then reconcile puts it back.
    h.ip("route", "del", "198.18.8.0/24", ns="red")
    g = expect_status(d.get(R("red", "198.18.8.0/24")), 200, "GET").json
    eq((g["in_sync"], g["drift"]), (False, ["missing"]), "drift")
    n = expect_status(d.get("/v1/namespaces/red"), 200, "GET ns").json
    eq(n["in_sync"], False, "the namespace's in_sync covers its routes")
    check("route 198.18.8.0/24 (table 254, metric 0): missing"
          in n.get("drift", []), "namespace drift: %r", n)
    # Changed by hand (another gateway, still netnsd's): drift says how.
    h.ip("route", "replace", "0.0.0.0/0", "via", "198.18.0.7", "proto",
         str(PROTO), ns="red")
    g = expect_status(d.get(R("red", "0.0.0.0/0")), 200, "GET").json
    eq(g["drift"], ["via is 198.18.0.7, desired 198.18.0.1"], "drift words")
    rec = expect_status(d.post("/v1/reconcile"), 200, "reconcile").json
    check(any("198.18.8.0/24" in a for a in rec["actions"]),
          "reconcile re-added the route: %r", rec)
    eq(rec["failures"], [], "reconcile failures")
    eq(kroute("red", "0.0.0.0/0")["gateway"], "198.18.0.1",
       "reconcile converged the gateway")
    check(is_ours(kroute("red", "198.18.8.0/24")), "re-added")
    # SIGKILL, every route wiped, restart: all come back.
    d.kill()
    for (dst, table, metric) in want:
        h.ip("route", "del", dst, "table", str(table), "metric", str(metric),
             ns="red")
    for key in want:
        eq(kroute("red", key[0], key[1], key[2]), None, "wiped %r" % (key,))
    d.start()
    for key, body in want.items():
        k = kroute("red", key[0], key[1], key[2])
        check(is_ours(k), "%r not re-applied at start-up: %r", key,
              sorted(kroutes("red")))
        if "via" in body:
            eq(k.get("gateway"), body["via"], "gateway of %r" % (key,))
    items = expect_status(d.get(R("red")), 200, "list").json["items"]
    eq(sorted((i["dst"], i["table"], i["metric"]) for i in items
              if i.get("managed")), sorted(want), "managed after start-up")
    check(all(i["in_sync"] for i in items if i.get("managed")),
          "all in sync: %r", items)


def append_record(d, ops):
    """Appends one journal record as netnsd writes it (netnsd stopped):
    the state files as a SIGKILL right after a route's intent leaves them,
    before the kernel was changed."""
    files = u.StateFiles(d.state_file)
    rec = {"seq": files.seq + 1, "rev": files.revision + 1,
           "synced": files.seq, "ops": ops}
    body = json.dumps(rec, separators=(",", ":")).encode()
    with open(d.journal, "r+b") as f:
        f.seek(files.end)
        f.write(b"%08x %s\n" % (u.crc32c(body), body))


@test
def interrupted_route_changes_are_finished_at_start_up():
    """A crash between a route's record (intent first) and the kernel's
    change: start-up makes the kernel match what was recorded."""
    d = with_link(setup())
    expect_status(d.post(R("red"), {"dst": "198.18.8.0/24",
                                    "via": "198.18.0.1"}), 201, "POST")
    eq(d.kill(), -9, "netnsd killed")
    # A POST recorded, not made; a PUT to another gateway recorded, not
    # made.
    append_record(d, [{"set": "route/red/254/198.18.9.0/24/7", "value": {
        "dst": "198.18.9.0/24", "dev": "eth0", "metric": 7, "table": 254,
        "scope": "link"}}])
    append_record(d, [{"set": "route/red/254/198.18.8.0/24/0", "value": {
        "dst": "198.18.8.0/24", "via": "198.18.0.3", "metric": 0,
        "table": 254, "scope": "global"}}])
    d.start()
    k = kroute("red", "198.18.9.0/24", metric=7)
    check(is_ours(k) and k.get("dev") == "eth0", "made at start-up: %r",
          sorted(kroutes("red")))
    eq(kroute("red", "198.18.8.0/24").get("gateway"), "198.18.0.3",
       "converged at start-up")
    items = expect_status(d.get(R("red")), 200, "list").json["items"]
    check(all(i["in_sync"] for i in items if i["managed"]),
          "in sync: %r", items)


@test
def a_route_whose_link_is_gone_for_good_is_not_retried():
    """A link netnsd does not know, deleted behind its back: the route's
    failure will not pass by itself, so it neither holds readiness nor is
    retried; made again, the link gets its route back."""
    d = with_link(setup())
    h.ip("link", "add", "x0", "type", "veth", "peer", "name", "x1", ns="red")
    h.ip("link", "set", "x0", "up", ns="red")
    expect_status(d.post(R("red"), {"dst": "198.18.30.0/24", "dev": "x0"}),
                  201, "route on x0")
    h.ip("link", "del", "x0", ns="red")
    rec = expect_status(d.post("/v1/reconcile"), 200, "reconcile").json
    f = [x for x in rec["failures"] if "198.18.30.0/24" in x["object"]]
    check(len(f) == 1 and f[0]["transient"] is False,
          "one failure, not transient: %r", rec)
    d.kill()
    d.start(timeout=h.scaled(3))  # not the 10 s of retries
    r = expect_status(d.get("/readyz"), 200, "ready").json
    eq((r["converged"], r["pending"]), (False, 0), "readiness")
    h.ip("link", "add", "x0", "type", "veth", "peer", "name", "x1", ns="red")
    h.ip("link", "set", "x0", "up", ns="red")
    rec = expect_status(d.post("/v1/reconcile"), 200, "reconcile").json
    eq(rec["failures"], [], "failures once the link is back")
    check(is_ours(kroute("red", "198.18.30.0/24")), "the route is back")


@test
def a_route_whose_gateway_address_goes_comes_back_with_it():
    """Deleting the IPv4 address that puts a route's gateway on a subnet
    takes the route out of the kernel. It stays desired: it is not retried
    for ever (start-up gets ready), and it comes back as soon as the
    address is added again through the API."""
    d = with_link(setup())
    A = "/v1/namespaces/red/links/eth0/addresses/198.18.0.2/24"
    expect_status(d.post(R("red"), {"dst": "198.18.9.0/24",
                                    "via": "198.18.0.1"}), 201, "route")
    expect_status(d.delete(A), 204, "DELETE the gateway's address")
    eq(kroute("red", "198.18.9.0/24"), None, "the kernel took the route")
    g = expect_status(d.get(R("red", "198.18.9.0/24")), 200, "GET").json
    eq((g["in_sync"], g["drift"]), (False, ["missing"]), "its drift")
    rec = expect_status(d.post("/v1/reconcile"), 200, "reconcile").json
    f = [x for x in rec["failures"] if "198.18.9.0/24" in x["object"]]
    check(len(f) == 1 and f[0]["transient"] is False,
          "one failure, not transient (no address of netnsd's would make "
          "the gateway reachable): %r", rec)
    d.kill()
    d.start(timeout=h.scaled(3))  # not the 10 s of retries
    expect_status(d.get("/readyz"), 200, "ready after the restart")
    expect_status(d.put(A), 201, "the address back")
    check(is_ours(kroute("red", "198.18.9.0/24")),
          "the route came back with its gateway's address")
    g = expect_status(d.get(R("red", "198.18.9.0/24")), 200, "GET").json
    eq(g["in_sync"], True, "in sync again")


@test
def bad_input_is_400_and_changes_nothing():
    d = with_link(setup(), v6=True)
    expect_status(d.post(R("red"), {"dst": "198.18.8.0/24",
                                    "via": "198.18.0.1"}), 201, "a route")
    before = snapshot(d)
    cases = [
        ("POST", R("red"), {"via": "198.18.0.1"}, "dst"),
        ("POST", R("red"), {"dst": "198.18.9.1/24", "via": "198.18.0.1"},
         "dst"),
        ("POST", R("red"), {"dst": "198.18.9.0/33", "via": "198.18.0.1"},
         "dst"),
        ("POST", R("red"), {"dst": "banana", "via": "198.18.0.1"}, "dst"),
        ("POST", R("red"), {"dst": "198.18.9.0/24"}, "via"),
        ("POST", R("red"), {"dst": "198.18.9.0/24", "via": "2001:db8::1"},
         "via"),
        ("POST", R("red"), {"dst": "198.18.9.0/24", "via": "198.18.0.1/32"},
         "via"),
        ("POST", R("red"), {"dst": "198.18.9.0/24", "dev": "no/such"},
         "dev"),
        ("POST", R("red"), {"dst": "198.18.9.0/24", "dev": "nosuch0"},
         "dev"),
        ("POST", R("red"), {"dst": "198.18.9.0/24", "via": "198.18.0.1",
                            "metric": -1}, "metric"),
        ("POST", R("red"), {"dst": "198.18.9.0/24", "via": "198.18.0.1",
                            "metric": 4294967296}, "metric"),
        ("POST", R("red"), {"dst": "198.18.9.0/24", "via": "198.18.0.1",
                            "table": 0}, "table"),
        ("POST", R("red"), {"dst": "198.18.9.0/24", "via": "198.18.0.1",
                            "table": "main"}, "table"),
        ("POST", R("red"), {"dst": "198.18.9.0/24", "via": "198.18.0.1",
                            "scope": "galaxy"}, "scope"),
        ("POST", R("red"), {"dst": "2001:db8:9::/64", "dev": "eth0",
                            "scope": "link"}, "scope"),
        ("POST", R("red"), {"dst": "198.18.9.0/24", "via": "198.18.0.1",
                            "gateway": "198.18.0.1"}, "gateway"),
        ("PUT", R("red", "198.18.8.0/24"), {"dst": "198.18.9.0/24",
                                            "via": "198.18.0.1"}, "dst"),
        ("PUT", R("red", "198.18.8.0/24"), {"via": "198.18.0.1",
                                            "table": 100}, "table"),
        ("PUT", R("red", "198.18.8.0/24"), {"via": "198.18.0.1",
                                            "metric": 3}, "metric"),
        ("PUT", R("red", "198.18.8.1/24"), {"via": "198.18.0.1"}, "dst"),
        ("PUT", R("red", "198.18.8.0/24", "?table=abc"), {"via": "198.18.0.1"},
         "query.table"),
        ("PUT", R("red", "198.18.8.0/24", "?metric=01"),
         {"via": "198.18.0.1"}, "query.metric"),
        ("DELETE", R("red", "198.18.8.0/24", "?table=0"), None,
         "query.table"),
        ("DELETE", R("red", "198.18.8.0/24", "?table=4294967296"), None,
         "query.table"),
        ("DELETE", R("red", "198.18.8.0/24", "?via=198.18.0.1"), None,
         "query.via"),
        ("GET", R("red", "198.18.8.0/24", "?metric=-1"), None,
         "query.metric"),
        ("POST", R("red", query="?table=5"), {"dst": "198.18.9.0/24",
                                              "via": "198.18.0.1"},
         "query.table"),
    ]
    for method, path, body, field in cases:
        r = d.request(method, path, body)
        expect_problem(r, 400, "%s %s %r" % (method, path, body), field=field)
    expect_unchanged(d, before, "bad requests")


@test
def conflicts_and_conditional_requests():
    d = with_link(setup())
    body = {"dst": "198.18.8.0/24", "via": "198.18.0.1"}
    expect_status(d.post(R("red"), body), 201, "POST")
    before = snapshot(d)
    p = expect_problem(d.post(R("red"), body), 409, "POST again")
    check(p["type"].endswith(":already-exists"), "type: %r", p)
    # A gateway the namespace cannot reach: the kernel's words, 409.
    p = expect_problem(d.post(R("red"), {"dst": "198.18.9.0/24",
                                         "via": "198.19.99.1"}), 409,
                       "unreachable gateway")
    check("gateway 198.19.99.1 is not reachable" in p["detail"],
          "names the gateway: %r", p)
    p = expect_problem(d.put(R("red", "198.18.9.0/24"),
                             {"via": "198.19.99.1"}),
                       409, "PUT with an unreachable gateway")
    check("gateway 198.19.99.1 is not reachable" in p["detail"],
          "names the gateway: %r", p)
    # IPv6 says "No route to host" where IPv4 says the net is unreachable.
    p = expect_problem(d.post(R("red"), {"dst": "2001:db8:8::/64",
                                         "via": "2001:db8:99::1",
                                         "dev": "eth0"}), 409,
                       "unreachable IPv6 gateway")
    check("gateway 2001:db8:99::1 is not reachable through eth0"
          in p["detail"], "names the gateway and link: %r", p)
    expect_unchanged(d, before, "refused requests")
    g = expect_status(d.get(R("red", "198.18.8.0/24")), 200, "GET")
    etag = g.header("ETag")
    check(etag, "GET has an ETag")
    expect_status(d.get(R("red", "198.18.8.0/24"),
                        headers={"If-None-Match": etag}), 304, "304")
    expect_problem(d.put(R("red", "198.18.8.0/24"), {"via": "198.18.0.3"},
                         headers={"If-None-Match": "*"}), 412,
                   "If-None-Match: * on an existing route")
    expect_problem(d.delete(R("red", "198.18.8.0/24"),
                            headers={"If-Match": '"0000000000000000"'}),
                   412, "If-Match with another tag")
    expect_unchanged(d, before, "failed preconditions")
    expect_status(d.put(R("red", "198.18.8.0/24"), {"via": "198.18.0.3"},
                        headers={"If-Match": etag}), 200, "If-Match")
    eq(kroute("red", "198.18.8.0/24")["gateway"], "198.18.0.3", "kernel")
    # Conditional requests read the route the selectors name.
    expect_status(d.put(R("red", "198.18.8.0/24", "?table=9"),
                        {"dev": "eth0"}, headers={"If-None-Match": "*"}),
                  201, "If-None-Match: * on another table's route")


@test
def dry_runs_plan_and_change_nothing():
    d = with_link(setup())
    dry = "?dry_run=true"
    before = snapshot(d)
    r = expect_status(d.post(R("red", query=dry), {
        "dst": "198.18.8.0/24", "via": "198.18.0.1"}), 200, "POST dry run")
    eq(r.json, {"dry_run": True, "changes": [{
        "action": "create", "path": "/v1/namespaces/red/routes/198.18.8.0/24",
        "detail": "route 198.18.8.0/24 via 198.18.0.1 table 254 metric 0 "
                  "scope global"}]}, "the plan")
    r = expect_status(d.put(R("red", "198.18.8.0/24", dry + "&table=5"),
                            {"dev": "eth0"}), 200, "PUT dry run")
    eq([(c["action"], c["path"]) for c in r.json["changes"]],
       [("create", "/v1/namespaces/red/routes/198.18.8.0/24?table=5")],
       "PUT's plan")
    expect_unchanged(d, before, "dry runs of creations")
    expect_status(d.post(R("red"), {"dst": "198.18.8.0/24",
                                    "via": "198.18.0.1"}), 201, "POST")
    before = snapshot(d)
    r = expect_status(d.put(R("red", "198.18.8.0/24", dry),
                            {"via": "198.18.0.1"}), 200, "no-op dry run")
    eq(r.json["changes"], [], "nothing to change")
    r = expect_status(d.put(R("red", "198.18.8.0/24", dry),
                            {"via": "198.18.0.3"}), 200, "update dry run")
    eq([(c["action"], c["detail"]) for c in r.json["changes"]],
       [("update", "via is 198.18.0.1, desired 198.18.0.3")], "plan")
    r = expect_status(d.delete(R("red", "198.18.8.0/24", dry)), 200,
                      "DELETE dry run")
    eq([(c["action"], c["detail"]) for c in r.json["changes"]],
       [("delete", "route removed and forgotten")], "plan")
    # The error the real request would answer.
    expect_problem(d.post(R("red", query=dry), {"dst": "198.18.8.0/24",
                                                "via": "198.18.0.1"}), 409,
                   "POST dry run of an existing route")
    expect_problem(d.delete(R("red", "198.18.8.0/24", "?dry_run=yes")), 400,
                   "dry_run=yes", field="query.dry_run")
    expect_unchanged(d, before, "dry runs")


@test
def routes_go_with_their_link_and_namespace():
    d = with_link(setup())
    expect_status(d.post(R("red"), {"dst": "198.18.8.0/24", "dev": "eth0"}),
                  201, "route on eth0")
    mk_ns(d, "blue")
    expect_status(d.post(R("blue"), {"dst": "198.18.8.0/24",
                                     "dev": "lo"}), 201, "route in blue")
    # A rename takes the routes along, in the kernel and as desired.
    expect_status(d.patch("/v1/namespaces/red/links/eth0", {"name": "eth1"}),
                  200, "rename")
    eq([r.get("dev") for r in state_routes(d, "red")], ["eth1"],
       "desired dev after a rename")
    g = expect_status(d.get(R("red", "198.18.8.0/24")), 200, "GET").json
    eq((g["dev"], g["in_sync"]), ("eth1", True), "in sync after a rename")
    eq(kroute("red", "198.18.8.0/24")["dev"], "eth1",
       "the kernel's route follows the rename")
    expect_status(d.delete("/v1/namespaces/red/veths/eth1"), 204, "veth")
    eq(state_routes(d, "red"), [], "the link's routes are forgotten")
    eq(kroute("red", "198.18.8.0/24"), None, "and gone from the kernel")
    expect_status(d.delete("/v1/namespaces/blue"), 204, "namespace")
    eq(state_routes(d), [], "the namespace's routes are forgotten")


@test
def put_state_brings_a_link_up_and_routes_through_it():
    """One document takes a link from down to up and adds a route through
    it: the link's coming up puts its desired routes back, and the
    route's own step, planned before, finds it there and is satisfied."""
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "red", "u0", "u1")  # down
    expect_status(d.post("/v1/namespaces/red/links/u0/addresses",
                         {"address": "198.18.0.2/24"}), 201, "address")
    doc = state(d)
    for link in doc["links"]:
        if link["name"] in ("u0", "u1"):
            link["up"] = True
    doc["routes"] = [{"namespace": "red", "dst": "198.18.12.0/24",
                      "dev": "u0"}]
    expect_status(d.put("/v1/state", doc), 200, "PUT: up, and a route")
    k = kroute("red", "198.18.12.0/24")
    check(is_ours(k) and k["dev"] == "u0", "the route in the kernel: %r", k)
    check("UP" in h.ip_json("link", "show", "u0", ns="red")[0]["flags"],
          "u0 up in the kernel")


@test
def put_state_declares_routes():
    """PUT /v1/state declares routes like the rest (README.md, "Declaring
    a whole topology"): a GET's answer PUT back is a no-op; routes the
    document adds are added, those it leaves out deleted, in the kernel;
    a route through a link the document drops is refused with a pointer."""
    d = with_link(setup())
    mk_ns(d, "blue")
    expect_status(d.post(R("red"), {"dst": "198.18.8.0/24",
                                    "via": "198.18.0.1"}), 201, "via")
    expect_status(d.post(R("red"), {"dst": "198.18.9.0/24", "dev": "eth0"}),
                  201, "dev eth0")
    expect_status(d.post(R("blue"), {"dst": "198.18.10.0/24", "dev": "lo"}),
                  201, "in blue")
    doc = state(d)
    rev = doc["revision"]
    r = expect_status(d.put("/v1/state", doc), 200, "GET's answer PUT back")
    eq((r.json["revision"], r.json["changes"]), (rev, []), "a no-op")
    eq(len(state_routes(d)), 3, "routes kept")
    # Blue goes with its route; red's dev route is replaced by another.
    doc2 = dict(doc)
    doc2["namespaces"] = [n for n in doc["namespaces"] if n["name"] != "blue"]
    doc2["routes"] = [x for x in doc["routes"]
                      if x["dst"] == "198.18.8.0/24"] + [
        {"namespace": "red", "dst": "198.18.11.0/24", "dev": "eth0"}]
    r = expect_status(d.put("/v1/state?dry_run=true", doc2), 200, "dry run")
    acts = sorted((c["action"], c["path"]) for c in r.json["changes"])
    check(("delete", "/v1/namespaces/red/routes/198.18.9.0/24") in acts and
          ("create", "/v1/namespaces/red/routes/198.18.11.0/24") in acts,
          "the plan: %r", acts)
    expect_status(d.put("/v1/state", doc2), 200, "PUT")
    k = kroutes("red")
    check(("198.18.11.0/24", 254, 0) in k and
          ("198.18.9.0/24", 254, 0) not in k and
          ("198.18.8.0/24", 254, 0) in k, "kernel routes of red: %r",
          sorted(k))
    eq(sorted((x["namespace"], x["dst"]) for x in state_routes(d)),
       [("red", "198.18.11.0/24"), ("red", "198.18.8.0/24")],
       "desired routes")
    # A route through a link the document drops: refused, with where.
    doc3 = dict(doc2)
    doc3["links"] = [l for l in doc2["links"]
                     if (l["namespace"], l["name"]) not in
                     (("red", "eth0"), ("host", "h-red"))]
    doc3["addresses"] = []
    before = snapshot(d)
    p = expect_problem(d.put("/v1/state", doc3), 404, "a route on eth0")
    check(any(e["field"].startswith("/routes/") for e in p["errors"]),
          "the pointer: %r", p)
    expect_unchanged(d, before, "a refused document")


@test
def put_state_reads_routes_as_a_post_does():
    # One spelling of a destination, IPv6's metric 0 as 1024 and the
    # scope a POST gives: a document's route is recorded as the same
    # route made by POST would be, so GET /v1/state PUT back is a no-op.
    d = with_link(setup(), v6=True)
    doc = state(d)
    doc["routes"] = [
        {"namespace": "red", "dst": "2001:DB8:94::/48", "dev": "eth0",
         "metric": 0},
        {"namespace": "red", "dst": "198.18.9.0/24", "dev": "eth0"}]
    expect_status(d.put("/v1/state", doc), 200, "PUT")
    eq(sorted((x["dst"], x["metric"], x["scope"]) for x in state_routes(d)),
       [("198.18.9.0/24", 0, "link"), ("2001:db8:94::/48", 1024, "global")],
       "the routes recorded")
    check(is_ours(kroute("red", "2001:db8:94::/48")), "the IPv6 route: %r",
          kroutes("red"))
    eq(kroute("red", "198.18.9.0/24").get("scope"), "link", "its scope")
    for x in expect_status(d.get(R("red")), 200).json["items"]:
        if x["managed"]:
            eq(x["in_sync"], True, "%s in sync" % x["dst"])
    again = state(d)
    r = expect_status(d.put("/v1/state", again), 200, "GET's answer back")
    eq((r.json["revision"], r.json["changes"]), (again["revision"], []),
       "a no-op")
    before = snapshot(d)
    bad = state(d)
    bad["routes"].append({"namespace": "red", "dst": "2001:db8:95::/48",
                          "dev": "eth0", "scope": "link"})
    expect_problem(d.put("/v1/state", bad), 400, "IPv6 scope link",
                   field="/routes/2/scope")
    expect_unchanged(d, before, "a refused document")


@test
def put_state_with_a_gateway_on_no_link_is_a_conflict():
    d = with_link(setup())
    before = snapshot(d)
    doc = state(d)
    doc["routes"] = [{"namespace": "red", "dst": "198.18.91.0/24",
                      "via": "198.18.200.1"}]
    p = expect_problem(d.put("/v1/state", doc), 409, "unreachable gateway")
    eq(p["type"], "urn:netnsd:problem:conflict", "type")
    eq(p["step"]["path"], "/v1/namespaces/red/routes/198.18.91.0/24",
       "the step")
    expect_unchanged(d, before, "a refused document")


@test
def a_route_of_another_type_in_its_place_is_drift():
    d = with_link(setup(), v6=True)
    # A prohibit route's device is lo: only its type differs.
    expect_status(d.put(R("red", "2001:db8:70::/48"), {"dev": "lo"}), 201,
                  "PUT")
    h.ip("-6", "route", "replace", "prohibit", "2001:db8:70::/48", "proto",
         str(PROTO), "metric", "1024", ns="red")
    g = expect_status(d.get(R("red", "2001:db8:70::/48")), 200, "GET").json
    eq((g["in_sync"], g["drift"]), (False, ["type is prohibit, desired "
                                            "unicast"]), "drift")
    expect_status(d.post("/v1/reconcile"), 200, "reconcile")
    k = kroute("red", "2001:db8:70::/48")
    check(k and k.get("type", "unicast") == "unicast" and
          k.get("dev") == "lo", "mended: %r", k)


@test
def a_link_brought_back_up_gets_its_routes_back():
    """Taking a link down takes the routes through it, and bringing it up
    does not return them: netnsd puts the desired ones back."""
    d = with_link(setup())
    expect_status(d.post(R("red"), {"dst": "198.18.9.0/24", "dev": "eth0"}),
                  201, "a route through eth0")
    L = "/v1/namespaces/red/links/eth0"
    expect_status(d.patch(L, {"up": False}), 200, "eth0 down")
    check(("198.18.9.0/24", 254, 0) not in kroutes("red"),
          "the kernel took the route with the link: %r", sorted(kroutes("red")))
    expect_status(d.patch(L, {"up": True}), 200, "eth0 up")
    check(("198.18.9.0/24", 254, 0) in kroutes("red"),
          "the route is back with the link: %r", sorted(kroutes("red")))
    r = expect_status(d.get(R("red", "198.18.9.0/24")), 200, "GET route")
    eq(r.json.get("in_sync"), True, "in sync")


@test
def max_objects_counts_routes():
    d = h.daemon(args=["--max-objects", "7"])
    h.on_cleanup(lambda: h.ip("link", "del", "h-red", check=False))
    with_link(d)  # ns, two link records, an address: 4
    n = len(state(d)["namespaces"]) + len(state(d)["links"]) + \
        len(state(d)["addresses"])
    for i in range(7 - n):
        expect_status(d.post(R("red"), {"dst": "198.18.%d.0/24" % (20 + i),
                                        "dev": "eth0"}), 201, "route %d" % i)
    before = snapshot(d)
    p = expect_problem(d.post(R("red"), {"dst": "198.18.40.0/24",
                                         "dev": "eth0"}), 403, "past it")
    check(p["type"].endswith(":quota-exceeded"), "type: %r", p)
    expect_unchanged(d, before, "a refused creation")


if __name__ == "__main__":
    h.run_tests()
