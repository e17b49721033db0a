#!/usr/bin/python3
"""Strict query strings and conditional requests (README "Query
parameters", "Conditional requests"): an unknown query parameter or a
boolean other than true/false is a 400 naming `query.NAME` and changes
nothing; every GET answers a strong ETag, If-None-Match gives 304, and
If-Match / If-None-Match make a PUT, PATCH or DELETE conditional (412 and
nothing changed when they do not hold). The kernel's truth is read with
`ip -j`, the desired state and its revision with GET /v1/state."""

import sys
import threading

import harness as h
from harness import check, eq, expect_problem, expect_status, test
from topology import (klink, setup, mk_ns, mk_veth, snapshot, expect_unchanged,
                      state, L)

NS = "/v1/namespaces"


def netns_names():
    return [n["name"] for n in h.ip_json("netns", "list")]


# ---------------------------------------------------------------------------
# Strict query strings


@test
def unknown_query_parameter_is_400_and_changes_nothing():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    before = snapshot(d, ("host", "red"))
    cases = [
        ("GET", NS + "?x=1", "query.x"),
        ("GET", NS + "/red?verbose=true", "query.verbose"),
        ("GET", "/v1/state?force=true", "query.force"),
        ("GET", "/healthz?x", "query.x"),
        ("DELETE", NS + "/red?forse=true", "query.forse"),
        ("DELETE", NS + "/red?force=true&dry_run=yes", "query.dry_run"),
        ("POST", "/v1/reconcile?dry_run=true", "query.dry_run"),
        ("PATCH", L("red", "eth0") + "?mtu=1400", "query.mtu"),
        ("POST", NS + "?force=true", "query.force"),
        ("PUT", NS + "/blue?x=y", "query.x"),
        ("POST", "/v1/reconcile?now=true", "query.now"),
    ]
    for method, path, field in cases:
        body = {"mtu": 1400} if method == "PATCH" else \
            {"name": "green"} if method == "POST" and path.startswith(NS) \
            else None
        r = d.request(method, path, body)
        p = expect_problem(r, 400, "%s %s" % (method, path), field=field)
        eq(p["type"], "urn:netnsd:problem:invalid-value", "type of %s" % path)
    expect_unchanged(d, before, "requests with unknown query parameters")
    check("blue" not in netns_names() and "green" not in netns_names(),
          "a refused PUT or POST made a namespace: %r", netns_names())


@test
def force_is_true_or_false_and_nothing_else():
    d = setup()
    h.netns_add("outside")
    h.ip("link", "add", "hx", "type", "veth", "peer", "name", "hy")
    before = snapshot(d)
    for q in ("force=1", "force=banana", "force=", "force", "force=TRUE",
              "force=%74rue", "force=true&force=false", "force=0"):
        r = d.delete(NS + "/outside?" + q)
        expect_problem(r, 400, "DELETE unmanaged ?" + q, field="query.force")
        check("outside" in netns_names(), "?%s deleted the namespace", q)
        r = d.patch(L("host", "hx") + "?" + q, {"mtu": 1400})
        expect_problem(r, 400, "PATCH unmanaged ?" + q, field="query.force")
        eq(klink("hx")["mtu"], 1500, "mtu of hx after ?" + q)
    expect_unchanged(d, before, "bad values of force")
    # false is false; the same value twice is that value.
    expect_problem(d.delete(NS + "/outside?force=false"), 409,
                   "DELETE unmanaged ?force=false")
    expect_status(d.patch(L("host", "hx") + "?force=true&force=true",
                          {"mtu": 1400}), 200, "PATCH ?force=true twice")
    eq(klink("hx")["mtu"], 1400, "mtu of hx after a forced PATCH")
    expect_status(d.delete(NS + "/outside?force=true"), 204,
                  "DELETE unmanaged ?force=true")
    check("outside" not in netns_names(), "force=true did not delete")


@test
def query_parameter_name_in_the_error_is_short_and_plain():
    d = setup()
    r = d.get(NS + "?" + "%01" + "n" * 5000 + "=1")
    p = expect_problem(r, 400, "a long query parameter name")
    field = p["errors"][0]["field"]
    check(field.startswith("query.%01nnn"), "field: %r", field[:80])
    check(len(field) <= 80 and field.endswith("..."),
          "the field is not cut short: %d bytes", len(field))
    check(len(r.body) < 1024, "the problem is %d bytes", len(r.body))



# ---------------------------------------------------------------------------
# ETag and If-None-Match


def etag(r):
    t = r.header("ETag")
    check(t and t.startswith('"') and t.endswith('"') and len(t) > 2,
          "no strong ETag on %r: %r", r, t)
    return t


def revision(d):
    return state(d)["revision"]


@test
def etag_is_stable_and_changes_with_the_representation():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    paths = [NS, NS + "/red", L("red"), L("red", "eth0"),
             L("red", "eth0") + "/addresses", NS + "/red/veths",
             NS + "/host/veths/h-red", NS + "/red/bridges", "/v1/state"]
    first, bodies = {}, {}
    for p in paths:
        a = expect_status(d.get(p), 200, "GET " + p)
        b = expect_status(d.get(p), 200, "GET " + p + " again")
        eq(etag(a), etag(b), "ETag of two GETs of %s" % p)
        eq(a.body, b.body, "two GETs of %s" % p)
        first[p] = etag(a)
        bodies[a.body] = etag(a)
    # One ETag per body: the same bytes, the same tag, and no other.
    eq(len(set(first.values())), len(bodies), "ETags of %d different bodies"
       % len(bodies))
    # HEAD answers the same ETag as GET.
    eq(etag(expect_status(d.request("HEAD", L("red", "eth0")), 200, "HEAD")),
       first[L("red", "eth0")], "ETag of HEAD")
    # A change through the API changes what shows it, and only that.
    expect_status(d.patch(L("red", "eth0"), {"mtu": 1400}), 200, "PATCH")
    eq(klink("eth0", "red")["mtu"], 1400, "mtu of eth0 in the kernel")
    for p in (L("red"), L("red", "eth0"), "/v1/state"):
        check(etag(d.get(p)) != first[p], "the ETag of %s did not change", p)
    eq(etag(d.get(NS + "/red/bridges")), first[NS + "/red/bridges"],
       "the ETag of an unchanged collection")
    # So does a change behind netnsd's back: the ETag is of what the
    # kernel shows now.
    before = etag(d.get(L("red", "eth0")))
    h.ip("link", "set", "eth0", "mtu", "1300", ns="red")
    check(etag(d.get(L("red", "eth0"))) != before,
          "the ETag did not follow the kernel")


@test
def if_none_match_gives_304_without_a_body():
    d = setup()
    mk_ns(d, "red")
    for p in (NS + "/red", NS, L("red", "lo"), "/v1/state", "/healthz"):
        r = expect_status(d.get(p), 200, "GET " + p)
        t = etag(r)
        for inm in (t, "W/" + t, '"nope", ' + t, "*"):
            for method in ("GET", "HEAD"):
                r2 = d.request(method, p, headers={"If-None-Match": inm})
                eq(r2.status, 304, "%s %s If-None-Match: %s" % (
                    method, p, inm))
                eq(r2.body, b"", "a 304's body")
                eq(r2.header("ETag"), t, "a 304's ETag")
                eq(r2.header("Content-Type"), None, "a 304's Content-Type")
        r2 = expect_status(d.get(p, headers={"If-None-Match": '"nope"'}),
                           200, "GET %s with another tag" % p)
        eq(r2.body, r.body, "the body after a tag that does not match")
    # An item that does not exist is still 404.
    expect_problem(d.get(NS + "/blue", headers={"If-None-Match": "*"}), 404,
                   "If-None-Match: * on what does not exist")


# ---------------------------------------------------------------------------
# If-Match and If-None-Match on changes


@test
def stale_if_match_on_patch_is_412_and_changes_nothing():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    old = etag(d.get(L("red", "eth0")))
    expect_status(d.patch(L("red", "eth0"), {"mtu": 1400}), 200,
                  "a change by another client")
    before = snapshot(d, ("host", "red"))
    rev = revision(d)
    for tag in (old, "W/" + etag(d.get(L("red", "eth0"))), '"x"', "x"):
        r = d.patch(L("red", "eth0"), {"mtu": 1300},
                    headers={"If-Match": tag})
        p = expect_problem(r, 412, "PATCH If-Match: " + tag)
        eq(p["type"], "urn:netnsd:problem:precondition-failed", "type")
        eq(klink("eth0", "red")["mtu"], 1400, "mtu after a 412")
        eq(revision(d), rev, "revision after a 412")
    expect_unchanged(d, before, "PATCH with a stale If-Match")
    # The current one, or *, lets it through.
    cur = etag(d.get(L("red", "eth0")))
    expect_status(d.patch(L("red", "eth0"), {"mtu": 1300},
                          headers={"If-Match": '"x", ' + cur}), 200,
                  "PATCH If-Match: current")
    eq(klink("eth0", "red")["mtu"], 1300, "mtu after If-Match: current")
    check(revision(d) > rev, "revision did not move")
    expect_status(d.patch(L("red", "eth0"), {"mtu": 1350},
                          headers={"If-Match": "*"}), 200,
                  "PATCH If-Match: *")
    eq(klink("eth0", "red")["mtu"], 1350, "mtu after If-Match: *")
    # The ETag the 412 was about is the one a GET answers now.
    r = d.patch(L("red", "eth0"), {"mtu": 1300}, headers={"If-Match": old})
    cur = etag(d.get(L("red", "eth0")))
    check(cur in expect_problem(r, 412, "stale again")["detail"],
          "the 412 does not name the current ETag %s: %r", cur, r)


@test
def if_none_match_star_on_put_creates_only():
    d = setup()
    mk_ns(d, "red")
    rev = revision(d)
    r = d.put(NS + "/red", {}, headers={"If-None-Match": "*"})
    expect_problem(r, 412, "PUT If-None-Match: * of an existing namespace")
    eq(revision(d), rev, "revision after a 412")
    r = expect_status(d.put(NS + "/blue", {},
                            headers={"If-None-Match": "*"}), 201,
                      "PUT If-None-Match: * of a new namespace")
    check("blue" in netns_names(), "blue is not in ip netns list")
    # If-Match on what does not exist: 412, nothing made.
    expect_problem(d.put(NS + "/green", {}, headers={"If-Match": "*"}), 412,
                   "PUT If-Match: * of a new namespace")
    check("green" not in netns_names(), "a 412 made a namespace")


@test
def stale_if_match_on_delete_is_412_and_deletes_nothing():
    d = setup()
    mk_ns(d, "red")
    old = etag(d.get(NS + "/red"))
    # Another client adds a link: the namespace's `links` count changes.
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    before = snapshot(d, ("host", "red"))
    rev = revision(d)
    for path in (NS + "/red", NS + "/host/veths/h-red", L("red", "eth0")):
        r = d.delete(path, headers={"If-Match": old})
        expect_problem(r, 412, "DELETE %s with a stale If-Match" % path)
    check("red" in netns_names(), "red left ip netns list")
    eq(revision(d), rev, "revision after the 412s")
    expect_unchanged(d, before, "DELETE with a stale If-Match")
    # If-None-Match with the current tag is a 412 for a change too.
    expect_problem(d.delete(NS + "/red", headers={
        "If-None-Match": etag(d.get(NS + "/red"))}), 412,
        "DELETE If-None-Match: current")
    expect_status(d.delete(NS + "/red", headers={
        "If-Match": etag(d.get(NS + "/red"))}), 204,
        "DELETE with the current If-Match")
    check("red" not in netns_names(), "red is still in ip netns list")
    expect_problem(d.delete(NS + "/red", headers={"If-Match": "*"}), 412,
                   "DELETE If-Match: * of what is gone")


@test
def post_to_a_collection_ignores_preconditions():
    d = setup()
    mk_ns(d, "red")
    r = d.post(NS + "/red/veths", {"name": "va", "peer": {"name": "vb"}},
               headers={"If-Match": '"nope"', "If-None-Match": "*"})
    expect_status(r, 201, "POST with If-Match and If-None-Match")
    check(klink("va", "red") is not None, "va is not in the kernel")


@test
def two_clients_with_the_same_etag_one_wins():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    # Four clients read the same ETag and PATCH at once, 20 times: check
    # and change are one step, so exactly one wins each time. Every MTU
    # differs from the one before, since a PATCH that changes nothing
    # leaves the ETag as it was (and another If-Match with it may pass).
    for rnd in range(20):
        tag = etag(d.get(L("red", "eth0")))
        rev = revision(d)
        mtus = (1210 + rnd, 1310 + rnd, 1410 + rnd, 1510 + rnd)
        gate = threading.Barrier(len(mtus))
        answers = {}

        def client(mtu):
            gate.wait()
            answers[mtu] = d.patch(L("red", "eth0"), {"mtu": mtu},
                                   headers={"If-Match": tag})

        threads = [threading.Thread(target=client, args=(m,)) for m in mtus]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        won = [m for m in mtus if answers[m].status == 200]
        lost = [m for m in mtus if answers[m].status == 412]
        eq((len(won), len(lost)), (1, 3), "round %d: winners and losers %r"
           % (rnd, {m: a.status for m, a in answers.items()}))
        expect_problem(answers[lost[0]], 412, "the loser")
        eq(klink("eth0", "red")["mtu"], won[0], "round %d: the kernel's mtu"
           % rnd)
        eq(revision(d), rev + 1, "round %d: one change, one revision" % rnd)



@test
def a_browser_may_read_the_etag_and_send_preconditions():
    dash = "https://dash.example"
    d = h.daemon(args=["--cors-origin", dash])
    r = expect_status(d.get(NS, headers={"Origin": dash}), 200, "GET")
    exposed = [x.strip() for x in
               r.header("Access-Control-Expose-Headers").split(",")]
    check("ETag" in exposed, "ETag is not exposed: %r", exposed)
    r = expect_status(d.request("OPTIONS", NS + "/red", headers={
        "Origin": dash, "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "if-match"}), 204, "preflight")
    allowed = [x.strip().lower() for x in
               r.header("Access-Control-Allow-Headers").split(",")]
    for name in ("if-match", "if-none-match"):
        check(name in allowed, "%s is not allowed: %r", name, allowed)


if __name__ == "__main__":
    sys.exit(h.run_tests())
