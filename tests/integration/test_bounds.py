#!/usr/bin/python3
"""Bounds on what a client can make netnsd hold or send: the metrics'
label set does not grow with what clients send, and an error document
lists at most 20 errors whatever the body holds.

Every test is written so that it fails when the bound it is about is taken
away."""

import os
import random
import re
import string
import time

import harness as h
from harness import check, eq, expect_problem, expect_status, test
import reliability_util as u

# The fixed label sets of netnsd_http_requests_total (README.md, "Running
# in production", Metrics).
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
           "OTHER"}
SERIES = re.compile(r'^netnsd_http_requests_total\{route="([^"]*)",'
                    r'method="([^"]*)",status="(\d+)"\} (\d+)$')


def requests_series(text):
    """[((route, method, status), count)] of netnsd_http_requests_total."""
    out = []
    for line in text.splitlines():
        m = SERIES.match(line)
        if m:
            out.append(((m.group(1), m.group(2), int(m.group(3))),
                        int(m.group(4))))
    return out


def series_map(samples):
    """The samples as a dict, each series once."""
    out = {}
    for key, count in samples:
        check(key not in out, "series %r twice in /metrics", key)
        out[key] = count
    return out


def metrics_text(c):
    r = c.get("/metrics")
    expect_status(r, 200, "GET /metrics")
    return r.body.decode()


def random_method(rng):
    """A method no route has: long (8 to 40 bytes, like a scanner's
    made-up methods), short, or a known one in lower case."""
    kind = rng.randrange(3)
    if kind == 2:
        return rng.choice(["get", "put", "Post", "delete"]) + \
            rng.choice(string.ascii_uppercase)
    while True:
        n = rng.randrange(8, 41) if kind == 0 else rng.randrange(1, 8)
        m = "".join(rng.choice(string.ascii_uppercase) for _ in range(n))
        # A short one can come out as a method the API knows (PUT, GET):
        # counted under its own name, not OTHER (seed 587293473 did).
        if m not in METHODS:
            return m


@test
def metrics_labels_stay_bounded_under_random_methods_and_paths():
    seed = int(os.environ.get("NETNSD_TEST_SEED", random.randrange(1 << 30)))
    print("seed %d" % seed)
    rng = random.Random(seed)
    d = h.daemon()
    c = u.KeepAlive(d.port)
    expect_status(c.put("/v1/namespaces/red"), 201, "PUT red")
    for _ in range(5):
        expect_status(c.get("/v1/namespaces"), 200, "GET /v1/namespaces")
    before = metrics_text(c)
    base = series_map(requests_series(before))

    sent = {}  # status -> requests answered with it
    n = 2000
    for i in range(n):
        method = random_method(rng)
        if i % 2:
            path = "/zz-%08x/%d" % (rng.randrange(1 << 32), i)
        else:
            path = "/v1/namespaces"  # a known path, an unknown method
        r = c.request(method, path)
        check(r.status in (404, 405), "%s %s answered %d", method, path,
              r.status)
        sent[r.status] = sent.get(r.status, 0) + 1
    for _ in range(7):
        expect_status(c.get("/v1/namespaces"), 200, "GET /v1/namespaces")
    expect_status(c.get("/v1/namespaces/red"), 200, "GET red")
    # A request is counted when libmicrohttpd reports it complete, which
    # can come a moment after its answer (on a connection the server
    # closed, and the client then opened anew): read until the flood is
    # all there, bounded.
    flood = sum(sent.values())
    deadline = time.monotonic() + h.scaled(5)
    while True:
        after = metrics_text(c)
        counted = sum(n for (route, method, _), n in
                      requests_series(after)
                      if (route, method) == ("unmatched", "OTHER"))
        if counted >= flood or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    c.close()
    samples = requests_series(after)
    print("/metrics: %d lines before, %d after %d requests; %d series"
          % (len(before.splitlines()), len(after.splitlines()), n,
             len(samples)))

    # The flood adds a handful of series, not one per request.
    check(len(after.splitlines()) <= len(before.splitlines()) + 60,
          "/metrics grew from %d to %d lines after %d requests with "
          "unknown methods and paths", len(before.splitlines()),
          len(after.splitlines()), n)
    series = series_map(samples)
    openapi = h.http_request(d.port, "GET", "/openapi.yaml").body.decode()
    for route, method, status in series:
        check(method in METHODS, "method label %r is not one of %s",
              method, sorted(METHODS))
        check(route == "unmatched" or
              re.search(r"^  %s:$" % re.escape(route), openapi, re.M),
              "route label %r is neither a route nor unmatched", route)
        check(100 <= status <= 599, "status label %d", status)

    # Every request of the flood is counted, under OTHER and unmatched
    # (a known path with a method it does not serve matched no route).
    for status, count in sent.items():
        key = ("unmatched", "OTHER", status)
        eq(series.get(key, 0) - base.get(key, 0), count,
           "requests counted under %r" % (key,))
    key = ("/v1/namespaces", "GET", 200)
    eq(series.get(key), 12, "GET /v1/namespaces 200 counted")
    eq(series.get(("/v1/namespaces/{ns}", "GET", 200)), 1,
       "GET /v1/namespaces/{ns} 200 counted")
    eq(series.get(("/v1/namespaces/{ns}", "PUT", 201)), 1,
       "PUT /v1/namespaces/{ns} 201 counted")
    m = re.search(r'^netnsd_http_request_duration_seconds_count'
                  r'\{route="unmatched"\} (\d+)$', after, re.M)
    check(m and int(m.group(1)) >= n, "the unmatched latency histogram "
          "counts the flood: %r", m and m.group(0))


@test
def error_document_lists_20_errors_and_counts_them_all():
    d = h.daemon()
    n = 60000
    fields = ",".join('"f%d":0' % i for i in range(n))
    body = '{"name":"amp",%s}' % fields
    check(len(body) < 1 << 20, "the body must fit --max-body: %d bytes",
          len(body))
    r = d.post("/v1/namespaces", body)
    print("%d unknown fields (%d bytes): %d, %d bytes answered"
          % (n, len(body), r.status, len(r.body)))
    expect_problem(r, 400, "POST with %d unknown fields" % n)
    check(len(r.body) < 4096, "the error document is %d bytes", len(r.body))
    errors = r.json.get("errors") or []
    eq(len(errors), 20, "errors[] entries")
    eq(r.json.get("error_count"), n, "error_count")
    eq([e["field"] for e in errors], ["f%d" % i for i in range(20)],
       "errors[] holds the first fields, in order")
    check(all(e["message"] == "unknown field" for e in errors),
          "every listed error is an unknown field: %r", errors)
    # Refused as a whole: nothing was created.
    eq(d.namespaces(), {}, "namespaces after the refused body")
    eq(h.netns_list(), [], "ip netns after the refused body")

    # A few errors: all listed, and counted.
    r = d.post("/v1/namespaces", {"name": "amp", "nmae": 1, "color": 2})
    expect_problem(r, 400, "POST with two unknown fields")
    eq(sorted(e["field"] for e in r.json["errors"]), ["color", "nmae"],
       "both errors listed")
    eq(r.json.get("error_count"), 2, "error_count")


if __name__ == "__main__":
    h.run_tests()
