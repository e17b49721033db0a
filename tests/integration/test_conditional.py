#!/usr/bin/python3
"""Strict query strings and conditional requests (README "Query
parameters", "Conditional requests"): an unknown query parameter or a
boolean other than true/false is a 400 naming `query.NAME` and changes
nothing; every GET answers a strong ETag, If-None-Match gives 304, and
If-Match / If-None-Match make a PUT, PATCH or DELETE conditional (412 and
nothing changed when they do not hold). The kernel's truth is read with
`ip -j`, the desired state and its revision with GET /v1/state."""

import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check, eq, expect_problem, expect_status, test  # noqa: E402
from topology import (  # noqa: E402
    klink, setup, mk_ns, mk_veth, snapshot, expect_unchanged, L)

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
        ("DELETE", NS + "/red?force=true&dry_run=true", "query.dry_run"),
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


if __name__ == "__main__":
    sys.exit(h.run_tests())
