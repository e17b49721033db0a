#!/usr/bin/python3
"""PUT creates or converges every named item, and ?dry_run=true plans
without touching anything (README.md, "Idempotent requests" and "Dry
runs"; openapi.yaml, ensureVeth, ensureBridge, ensureAddress).

- PUT of a veth pair, a bridge, an address and a port: 201 when made, 200
  when it matched or was converged (checked in the kernel with `ip -j`),
  409 when it cannot converge (another kind, another peer, a link netnsd
  did not make), with words that say which, and nothing changed then.
- A whole topology script of PUTs run again changes nothing: 200 every
  time, the revision and the journal as they were.
- A dry run changes nothing in the kernel, on disk or in the revision, and
  the plan it answers is what the real run then does: after the real run,
  the kernel shows every change the plan listed, and a second dry run
  plans nothing.
- Query strings are strict: dry_run=banana is a 400 naming query.dry_run,
  an unknown parameter a 400 naming it."""

import harness as h
from harness import check, eq, expect_problem, expect_status, test
from topology import (kaddrs, kkind, klink, kup, kview, mk_ns, setup, snapshot,
                      expect_unchanged, state)

V = "/v1/namespaces/%s/veths/%s"
B = "/v1/namespaces/%s/bridges/%s"
A = "/v1/namespaces/%s/links/%s/addresses/%s"
P = "/v1/namespaces/%s/bridges/%s/ports/%s"


def journal(d):
    with open(d.journal, "rb") as f:
        return f.read()


def revision(d):
    return state(d)["revision"]


@test
def put_veth_creates_then_converges():
    d = setup()
    mk_ns(d, "red")
    body = {"peer": {"name": "eth0", "namespace": "red"}, "mtu": 1400}
    r = expect_status(d.put(V % ("host", "h-red"), body), 201, "PUT new veth")
    eq(r.headers.get("Location"), V % ("host", "h-red"), "Location")
    eq((kkind(klink("h-red")), klink("h-red")["mtu"]), ("veth", 1400),
       "kernel: made with the body's MTU")
    rev = revision(d)
    # The same body: 200, nothing moves.
    r = expect_status(d.put(V % ("host", "h-red"), body), 200, "PUT again")
    eq(revision(d), rev, "revision after an identical PUT")
    # A different body converges both ends, in the kernel.
    body2 = {"name": "h-red", "up": True,
             "peer": {"name": "eth0", "namespace": "red", "mtu": 1300}}
    r = expect_status(d.put(V % ("host", "h-red"), body2), 200, "converge")
    eq(r.json["up"], True, "answer: up")
    eq(kup(klink("h-red")), True, "kernel: h-red up")
    eq(klink("h-red")["mtu"], 1400, "kernel: an MTU left out stays")
    eq(klink("eth0", "red")["mtu"], 1300, "kernel: the peer's MTU")
    check(revision(d) > rev, "a converging PUT moves the revision")


@test
def put_veth_that_cannot_converge_is_409_and_changes_nothing():
    d = setup()
    mk_ns(d, "red")
    expect_status(d.put(V % ("host", "a"), {"peer": {"name": "b"}}), 201,
                  "PUT a<->b")
    expect_status(d.put(B % ("host", "br0"), {}), 201, "PUT bridge")
    h.ip("link", "add", "ext0", "type", "veth", "peer", "name", "ext1")
    before = snapshot(d, ("host", "red"))
    cases = [
        (V % ("host", "a"), {"peer": {"name": "c"}}, "as its peer"),
        (V % ("host", "br0"), {"peer": {"name": "x"}}, "not a veth"),
        (V % ("host", "ext0"), {"peer": {"name": "ext1"}},
         "not created by netnsd"),
        (B % ("host", "a"), {}, "not a bridge"),
        (V % ("host", "a"), {"name": "z", "peer": {"name": "b"}},
         "the name in the path"),
    ]
    for path, body, words in cases:
        r = d.put(path, body)
        p = expect_problem(r, None, "PUT %s %r" % (path, body))
        check(r.status in (400, 409), "status %d for %s", r.status, words)
        check(words in p["detail"] or words in repr(p.get("errors")),
              "%r should say %r: %r", path, words, p)
        expect_unchanged(d, before, "PUT %s" % path)


@test
def put_of_a_missing_pair_desired_with_another_peer_is_409():
    d = setup()
    expect_status(d.put(V % ("host", "va"), {"peer": {"name": "vb"}}), 201,
                  "PUT va<->vb")
    h.ip("link", "del", "dev", "va")  # both ends go, both stay desired
    before = snapshot(d)
    p = expect_problem(d.put(V % ("host", "va"), {"peer": {"name": "vc"}}),
                       409, "PUT va<->vc while va<->vb is desired")
    check("vb" in p["detail"], "the 409 names the desired peer: %r", p)
    expect_unchanged(d, before, "the refused PUT")
    r = expect_status(d.put(V % ("host", "va"), {"peer": {"name": "vb"}}),
                      201, "PUT of the desired pair makes it again")
    eq(r.json["peer"], {"namespace": "host", "name": "vb"}, "peer")
    eq(kkind(klink("vb")), "veth", "kernel: vb back")


@test
def post_stays_create_only():
    d = setup()
    body = {"name": "a", "peer": {"name": "b"}}
    expect_status(d.post("/v1/namespaces/host/veths", body), 201, "POST")
    before = snapshot(d)
    p = expect_problem(d.post("/v1/namespaces/host/veths", body), 409,
                       "POST again")
    check("PUT" in p["detail"], "409 points at PUT: %r", p)
    expect_unchanged(d, before, "POST of an existing pair")


@test
def put_bridge_address_and_port():
    d = setup()
    r = expect_status(d.put(B % ("host", "br0"), {"stp": False}), 201,
                      "PUT bridge")
    mac = r.json["mac"]
    expect_status(d.put(V % ("host", "a"), {"peer": {"name": "b"}}), 201,
                  "PUT veth")
    r = expect_status(d.put(B % ("host", "br0"), {"up": True, "mtu": 1400}),
                      200, "converge bridge")
    k = klink("br0")
    eq((kup(k), k["mtu"], k["address"]), (True, 1400, mac),
       "kernel: bridge converged, its MAC kept")
    # Address: 201, then 200; the kernel has it once.
    path = A % ("host", "a", "198.18.5.1/24")
    expect_status(d.put(path), 201, "PUT address")
    rev = revision(d)
    expect_status(d.put(path, {}), 200, "PUT address again")
    eq(kaddrs("a"), ["198.18.5.1/24"], "kernel addresses")
    eq(revision(d), rev, "revision after PUT of an address it has")
    p = expect_problem(d.put(path, {"address": "198.18.5.1/24"}), 400,
                       "an address PUT with a body member")
    eq(p["errors"][0]["field"], "address", "the unknown member is named")
    # Port: 201, then 200; a body member is refused, as everywhere.
    expect_status(d.put(P % ("host", "br0", "a")), 201, "PUT port")
    eq(klink("a").get("master"), "br0", "kernel: attached")
    expect_status(d.put(P % ("host", "br0", "a"), {}), 200, "PUT port again")
    p = expect_problem(d.put(P % ("host", "br0", "a"), {"vlan": 5}), 400,
                       "a port PUT with a body")
    eq(p["errors"][0]["field"], "vlan", "the unknown member is named")


def script(d):
    """A topology as a pipeline writes it: PUTs only."""
    codes = []
    for path, body in (
            ("/v1/namespaces/red", {}),
            ("/v1/namespaces/blue", {}),
            (B % ("red", "br0"), {"up": True}),
            (V % ("red", "r1"), {"peer": {"name": "b1", "namespace": "blue"},
                                 "up": True}),
            (P % ("red", "br0", "r1"), None),
            (A % ("blue", "b1", "198.18.6.2/24"), None),
            (A % ("blue", "b1", "2001:db8:6::2/64"), None)):
        r = d.put(path, body)
        check(r.status in (200, 201), "PUT %s: %r", path, r)
        codes.append(r.status)
    return codes


@test
def a_whole_script_of_puts_run_again_changes_nothing():
    d = setup()
    eq(set(script(d)), {201}, "first run: all created")
    rev, jour, kern = revision(d), journal(d), (kview("red"), kview("blue"))
    for i in range(2):
        eq(set(script(d)), {200}, "re-run %d: all 200" % (i + 1))
        eq(revision(d), rev, "revision after re-run %d" % (i + 1))
        eq(journal(d), jour, "journal after re-run %d" % (i + 1))
    eq((kview("red"), kview("blue")), kern, "kernel after the re-runs")


def dry(d, method, path, body=None):
    sep = "&" if "?" in path else "?"
    r = d.request(method, path + sep + "dry_run=true", body)
    expect_status(r, 200, "dry run %s %s" % (method, path))
    eq(r.json["dry_run"], True, "dry_run member")
    return r.json["changes"]


@test
def dry_run_changes_nothing_and_plans_what_the_real_run_does():
    d = setup()
    mk_ns(d, "red")
    expect_status(d.put(B % ("red", "br0"), {}), 201, "PUT bridge")
    cases = [
        ("PUT", V % ("red", "va"), {"peer": {"name": "vb"}, "mtu": 1400},
         [("create", V % ("red", "va"))]),
        ("PUT", B % ("red", "br0"), {"up": True, "mtu": 1300},
         [("update", B % ("red", "br0"))]),
        ("PATCH", "/v1/namespaces/red/links/vb", {"up": True, "mtu": 1280},
         [("update", "/v1/namespaces/red/veths/vb")]),
        ("PUT", P % ("red", "br0", "va"), None,
         [("update", "/v1/namespaces/red/veths/va")]),
        ("PUT", A % ("red", "vb", "198.18.7.1/24"), None,
         [("create", A % ("red", "vb", "198.18.7.1/24"))]),
        ("DELETE", A % ("red", "vb", "198.18.7.1/24"), None,
         [("delete", A % ("red", "vb", "198.18.7.1/24"))]),
        ("DELETE", P % ("red", "br0", "va"), None,
         [("update", "/v1/namespaces/red/veths/va")]),
    ]
    for method, path, body, want in cases:
        before = snapshot(d, ("red",))
        jour = journal(d)
        plan = dry(d, method, path, body)
        eq([(c["action"], c["path"]) for c in plan], want,
           "plan of %s %s" % (method, path))
        expect_unchanged(d, before, "dry run of %s %s" % (method, path))
        eq(journal(d), jour, "journal after a dry run")
        r = d.request(method, path, body)
        check(r.status in (200, 201, 204), "real %s %s: %r", method, path,
              r)
        if method != "DELETE":
            eq(dry(d, method, path, body), [],
               "after the real run, %s %s plans nothing" % (method, path))
    # The kernel has what the plans said.
    eq(klink("vb", "red")["mtu"], 1280, "vb mtu")
    eq(klink("va", "red")["mtu"], 1400, "va mtu")
    eq((kup(klink("br0", "red")), klink("br0", "red")["mtu"]), (True, 1300),
       "br0 up, mtu")
    eq(klink("va", "red").get("master"), None, "va detached again")
    eq(kaddrs("vb", "red"), [], "the address added then deleted")


@test
def dry_runs_of_namespaces_and_deletions():
    d = setup()
    names = lambda: sorted(h.netns_list())  # noqa: E731
    jour, rev = journal(d), revision(d)
    eq(dry(d, "POST", "/v1/namespaces", {"name": "red"}),
       [{"action": "create", "path": "/v1/namespaces/red",
         "detail": "namespace"}], "plan of POST namespace")
    eq(dry(d, "PUT", "/v1/namespaces/blue", {}),
       [{"action": "create", "path": "/v1/namespaces/blue",
         "detail": "namespace"}], "plan of PUT namespace")
    eq((names(), journal(d), revision(d)), ([], jour, rev),
       "no namespace, record or revision after the dry runs")
    mk_ns(d, "red")
    h.ip("netns", "add", "ext")
    eq([c["path"] for c in dry(d, "PUT", "/v1/namespaces/ext", {})],
       ["/v1/namespaces/ext"], "plan of an adoption")
    expect_status(d.put(V % ("red", "va"), {"peer": {"name": "vb"}}), 201,
                  "PUT veth")
    before, jour = snapshot(d, ("red",)), journal(d)
    eq([(c["action"], c["path"]) for c in
        dry(d, "DELETE", V % ("red", "va"))],
       [("delete", V % ("red", "va"))], "plan of DELETE veth")
    eq([(c["action"], c["path"]) for c in
        dry(d, "DELETE", "/v1/namespaces/red")],
       [("delete", "/v1/namespaces/red")], "plan of DELETE namespace")
    expect_unchanged(d, before, "dry runs of deletions")
    eq(journal(d), jour, "journal after dry runs of deletions")
    check("red" in names(), "red is still there: %r", names())
    expect_status(d.delete(V % ("red", "va")), 204, "real DELETE veth")
    eq(klink("va", "red"), None, "kernel: va gone")
    expect_status(d.delete("/v1/namespaces/red"), 204, "real DELETE ns")
    check("red" not in names(), "red is gone: %r", names())


@test
def dry_run_gives_the_error_the_real_run_would():
    d = setup()
    mk_ns(d, "red")
    expect_status(d.put(V % ("red", "a"), {"peer": {"name": "b"}}), 201,
                  "PUT veth")
    before = snapshot(d, ("red",))
    p = expect_problem(d.put(V % ("red", "a") + "?dry_run=true",
                             {"peer": {"name": "c"}}), 409,
                       "dry run of a PUT that cannot converge")
    check("as its peer" in p["detail"], "detail: %r", p)
    expect_problem(d.patch("/v1/namespaces/red/links/a?dry_run=true",
                           {"master": "nope"}), 404,
                   "dry run of a PATCH to a missing bridge")
    expect_unchanged(d, before, "refused dry runs")


@test
def strict_query_strings():
    d = setup()
    mk_ns(d, "red")
    before = snapshot(d, ("red",))
    for q in ("dry_run=banana", "dry_run=1", "dry_run="):
        p = expect_problem(
            d.put(V % ("red", "a") + "?" + q, {"peer": {"name": "b"}}), 400,
            "?" + q)
        eq(p["errors"][0]["field"], "query.dry_run", "field of ?" + q)
    p = expect_problem(d.put(V % ("red", "a") + "?dryrun=true",
                             {"peer": {"name": "b"}}), 400, "?dryrun")
    eq(p["errors"][0]["field"], "query.dryrun", "an unknown parameter")
    p = expect_problem(d.put(V % ("red", "a") + "?force=true",
                             {"peer": {"name": "b"}}), 400,
                       "force on a PUT of a veth")
    eq(p["errors"][0]["field"], "query.force", "force is not taken here")
    expect_unchanged(d, before, "refused query strings")


@test
def conditional_puts():
    d = setup()
    r = expect_status(d.put(B % ("host", "br0"), {}), 201, "PUT bridge")
    etag = expect_status(d.get(B % ("host", "br0")), 200).headers["ETag"]
    before = snapshot(d)
    expect_problem(d.put(B % ("host", "br0"), {"up": True},
                         headers={"If-None-Match": "*"}), 412,
                   "If-None-Match: * on an existing bridge")
    expect_problem(d.put(B % ("host", "br0"), {"up": True},
                         headers={"If-Match": '"0000"'}), 412,
                   "If-Match with a stale tag")
    expect_unchanged(d, before, "refused conditional PUTs")
    expect_status(d.put(B % ("host", "br0"), {"up": True},
                        headers={"If-Match": etag}), 200,
                  "If-Match with the current tag")
    eq(kup(klink("br0")), True, "kernel: br0 up")
    expect_status(d.put(V % ("host", "a"), {"peer": {"name": "b"}},
                        headers={"If-None-Match": "*"}), 201,
                  "If-None-Match: * creates")
    eq(r.status, 201, "first PUT")


if __name__ == "__main__":
    h.run_tests()
