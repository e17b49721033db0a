#!/usr/bin/python3
"""The dashboard's HTTP side (the page itself is driven
in Chromium by tests/browser/dashboard.js): GET / and its script and style
sheet are served from the binary with a strict Content-Security-Policy
(no inline script) and nosniff, need no bearer token while the API still
does, and the page's own requests (Origin = the server's own origin) are
obeyed while a foreign Origin is still 403 and a foreign Host still 421,
with nothing changed in the kernel."""

import os
import re
import secrets

import harness as h
from harness import check, eq, expect_problem, expect_status, test

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FILES = {"/": ("web/index.html", "text/html; charset=utf-8"),
         "/app.js": ("web/app.js", "text/javascript; charset=utf-8"),
         "/app.css": ("web/app.css", "text/css; charset=utf-8")}


def csp_of(r):
    """The policy as {directive: [sources]}."""
    out = {}
    for part in (r.header("Content-Security-Policy") or "").split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def token_daemon():
    tok = "dash-" + secrets.token_urlsafe(24)
    d = h.tmpdir("netnsd-dash-")
    path = os.path.join(d, "tokens")
    with open(path, "w") as f:
        f.write(tok + "\n")
    os.chmod(path, 0o600)
    dm = h.daemon(start=False)
    dm.start(extra_args=["--token-file", path])
    return dm, tok


@test
def files_are_the_repository_s_with_a_strict_policy():
    d = h.daemon()
    for url, (rel, ctype) in FILES.items():
        r = expect_status(d.get(url), 200, "GET " + url)
        with open(os.path.join(ROOT, rel), "rb") as f:
            eq(r.body, f.read(), "GET %s is %s, byte for byte" % (url, rel))
        eq(r.header("Content-Type"), ctype, "Content-Type of " + url)
        eq(r.header("X-Content-Type-Options"), "nosniff", "nosniff " + url)
        p = csp_of(r)
        eq(p.get("default-src"), ["'none'"], "default-src of " + url)
        eq(p.get("script-src"), ["'self'"], "script-src of " + url)
        eq(p.get("style-src"), ["'self'"], "style-src of " + url)
        eq(p.get("connect-src"), ["'self'"], "connect-src of " + url)
        eq(p.get("frame-ancestors"), ["'none'"], "frame-ancestors " + url)
        check(not any("unsafe" in s for v in p.values() for s in v),
              "no unsafe-* source: %r" % p)
        tag = r.header("ETag")
        expect_status(d.get(url, headers={"If-None-Match": tag}), 304,
                      "GET %s with its ETag" % url)
    # The page runs its own script only: no inline script, no handler
    # attributes, no style attribute, nothing from another origin.
    with open(os.path.join(ROOT, "web/index.html")) as f:
        page = f.read()
    eq(re.findall(r"<script[^>]*>", page),
       ['<script src="/app.js" defer>'], "the page's only script")
    check(not re.search(r"\son[a-z]+\s*=", page), "no on* attributes")
    check(not re.search(r"\sstyle\s*=", page), "no style attributes")
    check(not re.search(r"(src|href)\s*=\s*\"(https?:)?//", page),
          "nothing from another origin")


@test
def every_other_answer_runs_nothing():
    d = h.daemon()
    for r in (d.get("/v1/namespaces"), d.get("/nope"), d.get("/metrics")):
        eq(csp_of(r).get("default-src"), ["'none'"],
           "default-src of a %d answer" % r.status)
        check("script-src" not in csp_of(r), "no script source")
        eq(r.header("X-Content-Type-Options"), "nosniff", "nosniff")


@test
def the_page_needs_no_token_the_api_still_does():
    d, tok = token_daemon()
    for url in FILES:
        expect_status(d.get(url), 200, "GET %s without a token" % url)
    expect_problem(d.get("/v1/links"), 401, "GET /v1/links without")
    expect_problem(d.post("/v1/namespaces", {"name": "tk"}), 401,
                   "POST without a token")
    eq(h.netns_list(), [], "namespaces after the refused POST")
    # Only GET and HEAD of the page are open.
    r = d.post("/", {})
    expect_problem(r, 401, "POST / without a token")
    expect_status(d.get("/v1/links", headers={
        "Authorization": "Bearer " + tok}), 200, "with the token")


def raw_post(d, host, origins, name):
    """POST /v1/namespaces with this Host and these Origin fields; the
    status line's code."""
    body = '{"name":"%s"}' % name
    head = ["POST /v1/namespaces HTTP/1.1", "Host: " + host,
            "Content-Type: application/json",
            "Content-Length: %d" % len(body), "Connection: close"]
    head += ["Origin: " + o for o in origins]
    r = h.raw_request(d.port, ("\r\n".join(head) + "\r\n\r\n" +
                               body).encode())
    return int(r.split(b" ", 2)[1])


@test
def the_page_s_own_requests_are_obeyed_others_refused():
    d = h.daemon()
    own = "http://127.0.0.1:%d" % d.port
    # A cross-site page: refused, nothing made.
    for origin in ("http://attacker.example", "http://127.0.0.1:%d" % (
            d.port + 1), "https://127.0.0.1:%d" % d.port, "null",
            "http://localhost:%d" % d.port, own + "/"):
        r = d.post("/v1/namespaces", {"name": "evil"},
                   headers={"Origin": origin})
        p = expect_problem(r, 403, "POST from %s" % origin)
        eq(p["type"], "urn:netnsd:problem:origin-not-allowed", origin)
    # Two Origin fields are no page's.
    eq(raw_post(d, "127.0.0.1:%d" % d.port, [own, own], "evil"), 403,
       "two Origin fields")
    # DNS rebinding: the Origin matches the Host, but the Host is not ours.
    rebound = "rebind.attacker.example:%d" % d.port
    eq(raw_post(d, rebound, ["http://" + rebound], "evil"), 421,
       "a rebound page")
    eq(h.netns_list(), [], "namespaces after the refused requests")
    # The page's own: Origin is the server's own origin.
    r = d.post("/v1/namespaces", {"name": "mine"}, headers={"Origin": own})
    expect_status(r, 201, "POST from the page's own origin")
    eq(raw_post(d, "localhost:%d" % d.port,
                ["http://localhost:%d" % d.port], "mine2"), 201,
       "POST from http://localhost")
    eq(sorted(h.netns_list()), ["mine", "mine2"], "ip netns list")


if __name__ == "__main__":
    h.run_tests()
