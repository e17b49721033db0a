#!/usr/bin/python3
"""Web pages cannot drive netnsd: DNS rebinding (a foreign Host) is refused
421, a request from a foreign Origin 403, both before any handler runs and
with nothing changed in the kernel; what curl and orchestrators send keeps
working, and so do --allowed-host names, the listener's own address and
unix sockets (no Host check there). Also --cors-origin's start-up checks,
and CORS preflights on unknown paths and methods.

Each attack is first shown to be a real one: the same request with a
proper Host, or from an allowed origin, does change the kernel."""

import http.client
import json
import os

import harness as h
from harness import check, eq, expect_problem, expect_status, test

ATTACKER = "rebind.attacker.example"
EVIL = "https://attacker.example"
DASH = "https://dash.example"
# The one non-loopback address: on a veth made inside the sandbox.
OUTSIDE_ADDR = "198.18.6.1"


# ---------------------------------------------------------------------------
# Helpers

def send(port, method, url, host, body=None, headers=None,
         addr=h.API_HOST, unix=None):
    """One request with the Host header given (None: http.client's own),
    over TCP to addr:port or over the unix socket; a checked Response."""
    hdrs = dict(headers or {})
    if host is not None:
        hdrs["Host"] = host  # http.client then sends no Host of its own
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    if unix:
        conn = h.UnixHTTPConnection(unix, h.scaled(10))
    else:
        conn = http.client.HTTPConnection(addr, port, timeout=h.scaled(10))
    try:
        conn.request(method, url, body=body, headers=hdrs)
        r = conn.getresponse()
        return h.Response(r.status, r.reason, r.msg, r.read())
    finally:
        conn.close()


def expect_type(r, status, slug, what):
    p = expect_problem(r, status, what)
    eq(p["type"], "urn:netnsd:problem:" + slug, what + ": problem type")
    return p


def host_veth(name="rb0", peer="rb1"):
    """A veth pair in the sandbox's own namespace, made behind netnsd's
    back: links netnsd does not own, which only ?force=true changes."""
    h.ip("link", "add", name, "type", "veth", "peer", "name", peer)
    h.on_cleanup(lambda: h.ip("link", "del", name, check=False))
    return name


def mtu(link):
    return h.ip_json("link", "show", "dev", link)[0]["mtu"]


def cors_headers(r):
    return {k.lower(): v for k, v in r.headers.items()
            if k.lower().startswith("access-control-")}


def outside_address():
    """Puts OUTSIDE_ADDR on a veth in the sandbox's own namespace."""
    h.ip("link", "add", "org0", "type", "veth", "peer", "name", "org1")
    h.on_cleanup(lambda: h.ip("link", "del", "org0", check=False))
    h.ip("addr", "add", OUTSIDE_ADDR + "/24", "dev", "org0")
    h.ip("link", "set", "org0", "up")
    h.ip("link", "set", "org1", "up")
    return OUTSIDE_ADDR


def desired_but_deleted(d, name):
    """A desired namespace deleted behind netnsd's back: a reconcile would
    make it again, so whether one ran shows in the kernel."""
    expect_status(d.put("/v1/namespaces/" + name), 201, "PUT " + name)
    h.netns_del(name)
    check(name not in h.netns_list(), "%s still there", name)


# ---------------------------------------------------------------------------
# DNS rebinding

@test
def rebinding_patch_of_a_host_link_is_refused():
    d = h.daemon()
    link = host_veth()
    before = mtu(link)
    url = "/v1/namespaces/host/links/%s?force=true" % link
    for host in (ATTACKER + ":%d" % d.port, ATTACKER, ATTACKER.upper(),
                 ATTACKER + ".", "localhost.attacker.example",
                 "127.0.0.1.attacker.example", "198.18.0.1:%d" % d.port,
                 "0.0.0.0:%d" % d.port, "[::]:%d" % d.port):
        r = send(d.port, "PATCH", url, host, {"mtu": 1400})
        expect_type(r, 421, "misdirected-request", "PATCH with Host %s" % host)
        eq(mtu(link), before, "MTU of %s after PATCH with Host %s" % (
            link, host))
    # Reads are refused alike: a rebound page learns nothing either.
    r = send(d.port, "GET", "/v1/namespaces/host/links", ATTACKER)
    expect_type(r, 421, "misdirected-request", "GET with a foreign Host")
    check(link.encode() not in r.body, "the link list leaked: %r", r)
    # The absolute form names the server in place of Host.
    r = send(d.port, "PATCH", "http://%s:%d%s" % (ATTACKER, d.port, url),
             "127.0.0.1:%d" % d.port, {"mtu": 1400})
    expect_type(r, 421, "misdirected-request", "absolute-form target")
    eq(mtu(link), before, "MTU after the absolute-form PATCH")
    # The very same request with this server's name is obeyed: the
    # refusal above is the Host check, nothing else.
    r = send(d.port, "PATCH", url, "127.0.0.1:%d" % d.port, {"mtu": 1400})
    expect_status(r, 200, "PATCH with Host 127.0.0.1")
    eq(mtu(link), 1400, "MTU after the proper PATCH")


@test
def a_rebound_reconcile_runs_nothing():
    d = h.daemon()
    desired_but_deleted(d, "rbx")
    r = send(d.port, "POST", "/v1/reconcile", ATTACKER + ":%d" % d.port, {})
    expect_type(r, 421, "misdirected-request", "POST /v1/reconcile")
    eq(h.netns_list(), [], "namespaces after the refused reconcile")
    r = send(d.port, "POST", "/v1/reconcile", "localhost:%d" % d.port,
             {})
    expect_status(r, 200, "POST /v1/reconcile from localhost")
    eq(h.netns_list(), ["rbx"], "namespaces after a reconcile")


@test
def curl_and_orchestrators_keep_working():
    d = h.daemon()
    for host in ("127.0.0.1:%d" % d.port, "127.0.0.1", "localhost:%d" %
                 d.port, "localhost", "LOCALHOST:%d" % d.port, "localhost.",
                 "127.0.0.2:%d" % d.port, "[::1]:%d" % d.port, "[::1]",
                 None):
        r = send(d.port, "GET", "/v1/namespaces", host)
        expect_status(r, 200, "GET with Host %r" % host)
    expect_status(send(d.port, "PUT", "/v1/namespaces/curl1",
                       "localhost:%d" % d.port), 201, "PUT from localhost")
    eq(h.netns_list(), ["curl1"], "namespaces")
    # HTTP/1.0 without Host: no browser sends it (every browser sends
    # Host), so it is answered.
    reply = d.raw(b"GET /v1/namespaces HTTP/1.0\r\n\r\n")
    eq(h.raw_status(reply), 200, "HTTP/1.0 without Host")


@test
def a_malformed_or_repeated_host_is_400():
    d = h.daemon()
    for host_lines in (b"Host: 127.0.0.1\r\nHost: " + ATTACKER.encode(),
                       b"Host: " + ATTACKER.encode() + b"\r\nHost: 127.0.0.1",
                       b"Host:", b"Host: local host", b"Host: ::1",
                       b"Host: 127.0.0.1:80:80", b"Host: 127.0.0.1:http",
                       b"Host: user@127.0.0.1", b"Host: [::1"):
        reply = d.raw(b"PUT /v1/namespaces/mal HTTP/1.1\r\n" + host_lines +
                      b"\r\nConnection: close\r\n\r\n")
        eq(h.raw_status(reply), 400, "PUT with %r" % host_lines)
        check(b"malformed-request" in reply, "not malformed-request: %r",
              reply[:300])
    eq(h.netns_list(), [], "namespaces")


@test
def allowed_host_names_are_answered():
    cfg_dir = h.tmpdir("netnsd-origin-")
    cfg = os.path.join(cfg_dir, "netnsd.conf")
    with open(cfg, "w") as f:
        f.write("allowed-host = files.example\n")
    d = h.daemon(args=["--allowed-host", "NetNSD.Example.",
                       "--allowed-host", "198.18.9.9", "--config", cfg])
    for host in ("netnsd.example:%d" % d.port, "netnsd.example",
                 "NETNSD.EXAMPLE:%d" % d.port, "files.example:%d" % d.port,
                 "198.18.9.9:%d" % d.port):
        expect_status(send(d.port, "GET", "/v1/namespaces", host), 200,
                      "GET with Host %s" % host)
    expect_status(send(d.port, "PUT", "/v1/namespaces/named",
                       "netnsd.example:%d" % d.port), 201,
                  "PUT by the allowed name")
    for host in ("x.netnsd.example", "netnsd.example.attacker.example",
                 "netnsd.exampl", ATTACKER, "198.18.9.8"):
        r = send(d.port, "PUT", "/v1/namespaces/other", host)
        expect_type(r, 421, "misdirected-request", "PUT with Host " + host)
    eq(h.netns_list(), ["named"], "namespaces")


@test
def a_non_loopback_listener_answers_its_own_address():
    addr = outside_address()
    port = h.free_port()
    d = h.daemon(args=["--listen", "%s:%d" % (addr, port), "--insecure"])
    for host in ("%s:%d" % (addr, port), addr, "127.0.0.1:%d" % port,
                 "localhost"):
        expect_status(send(port, "GET", "/v1/namespaces", host, addr=addr),
                      200, "GET on %s with Host %s" % (addr, host))
    for host in (ATTACKER, "netnsd.example", "198.18.6.2:%d" % port):
        r = send(port, "PUT", "/v1/namespaces/far", host, addr=addr)
        expect_type(r, 421, "misdirected-request",
                    "PUT on %s with Host %s" % (addr, host))
    # The loopback listener of the same daemon does not answer to the
    # other address: its own is 127.0.0.1.
    r = send(d.port, "PUT", "/v1/namespaces/far", addr)
    expect_type(r, 421, "misdirected-request", "Host %s on loopback" % addr)
    eq(h.netns_list(), [], "namespaces")


@test
def a_wildcard_listener_answers_the_address_connected_to():
    addr = outside_address()
    port = h.free_port()
    h.daemon(args=["--listen", "0.0.0.0:%d" % port, "--insecure"])
    expect_status(send(port, "GET", "/v1/namespaces", "%s:%d" % (addr, port),
                       addr=addr), 200, "Host %s, connected to it" % addr)
    r = send(port, "GET", "/v1/namespaces", "%s:%d" % (addr, port))
    expect_type(r, 421, "misdirected-request",
                "Host %s, connected to 127.0.0.1" % addr)
    r = send(port, "GET", "/v1/namespaces", "0.0.0.0:%d" % port, addr=addr)
    expect_type(r, 421, "misdirected-request", "Host 0.0.0.0")


@test
def unix_sockets_skip_the_host_check_not_the_origin_check():
    sock_dir = h.tmpdir("netnsd-origin-")
    path = os.path.join(sock_dir, "api.sock")
    d = h.daemon(args=["--listen", "unix:" + path])
    r = send(0, "PUT", "/v1/namespaces/sock", ATTACKER, unix=path)
    expect_status(r, 201, "PUT over the unix socket with a foreign Host")
    r = send(0, "PUT", "/v1/namespaces/sock2", "localhost",
             headers={"Origin": EVIL}, unix=path)
    expect_type(r, 403, "origin-not-allowed", "a foreign Origin over unix")
    eq(h.netns_list(), ["sock"], "namespaces")
    # The TCP listener of the same daemon still checks Host.
    r = send(d.port, "PUT", "/v1/namespaces/sock3", ATTACKER)
    expect_type(r, 421, "misdirected-request", "TCP with a foreign Host")
    eq(h.netns_list(), ["sock"], "namespaces")


# ---------------------------------------------------------------------------
# Cross-site requests

@test
def cross_site_text_plain_post_is_refused():
    d = h.daemon()
    desired_but_deleted(d, "xs")
    # What a form of another site posts (enctype text/plain, no field):
    # a "simple" request, sent by the browser without a preflight. Another
    # port of the same host is another site (a local web app); the
    # server's own origin is its dashboard's (test_dashboard).
    for origin in (EVIL, "null", "http://127.0.0.1:%d" % (d.port + 1),
                   "https://127.0.0.1:%d" % d.port):
        r = send(d.port, "POST", "/v1/reconcile", "127.0.0.1:%d" % d.port,
                 b"", {"Content-Type": "text/plain", "Origin": origin})
        expect_type(r, 403, "origin-not-allowed", "POST from %s" % origin)
        eq(cors_headers(r), {}, "CORS headers for %s" % origin)
        eq(h.netns_list(), [], "namespaces after the POST from %s (the "
           "reconcile must not have run)" % origin)
    # The same request without Origin (curl) runs the reconcile.
    r = send(d.port, "POST", "/v1/reconcile", "127.0.0.1:%d" % d.port, b"",
             {"Content-Type": "text/plain"})
    expect_status(r, 200, "POST without Origin")
    eq(h.netns_list(), ["xs"], "namespaces after the reconcile")


@test
def a_foreign_origin_is_refused_everywhere():
    d = h.daemon(args=["--cors-origin", DASH])
    link = host_veth("rc0", "rc1")
    before = mtu(link)
    for method, url, body in (
            ("PATCH", "/v1/namespaces/host/links/%s?force=true" % link,
             {"mtu": 1400}),
            ("PUT", "/v1/namespaces/xo", None),
            ("GET", "/v1/namespaces", None),
            ("GET", "/v1/nowhere", None),
            ("DELETE", "/v1/namespaces", None)):
        r = send(d.port, method, url, None, body, {"Origin": EVIL})
        expect_type(r, 403, "origin-not-allowed", "%s %s" % (method, url))
        eq(cors_headers(r), {}, "CORS headers of the refusal")
    # A preflight from a foreign origin, on a known path and an unknown
    # one, is refused too.
    for url in ("/v1/namespaces/xo", "/v1/nowhere"):
        r = send(d.port, "OPTIONS", url, None, None, {
            "Origin": EVIL, "Access-Control-Request-Method": "PUT"})
        expect_type(r, 403, "origin-not-allowed", "preflight on " + url)
        eq(cors_headers(r), {}, "CORS headers of the refused preflight")
    eq(mtu(link), before, "MTU of %s" % link)
    eq(h.netns_list(), [], "namespaces")


@test
def an_allowed_origin_works():
    d = h.daemon(args=["--cors-origin", DASH])
    desired_but_deleted(d, "dash")
    r = send(d.port, "OPTIONS", "/v1/reconcile", None, None, {
        "Origin": DASH, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    eq(r.status, 204, "preflight from %s" % DASH)
    eq(cors_headers(r).get("access-control-allow-origin"), DASH,
       "Allow-Origin of the preflight")
    r = send(d.port, "POST", "/v1/reconcile", None, {}, {"Origin": DASH})
    expect_status(r, 200, "POST /v1/reconcile from %s" % DASH)
    eq(r.header("Access-Control-Allow-Origin"), DASH, "Allow-Origin")
    eq(h.netns_list(), ["dash"], "namespaces after the reconcile")


# ---------------------------------------------------------------------------
# --cors-origin at start-up, preflights on unknown paths/methods

@test
def cors_origins_no_browser_sends_are_refused_at_start_up():
    d = h.daemon(start=False)
    for bad, word in (("http://dash.example:9000/", "path"),
                      ("http://dash.example/app", "path"),
                      ("dash.example:9000", "scheme://host"),
                      ("ftp://dash.example", "http or https"),
                      ("*", "list each origin"),
                      ("null", "file://"),
                      ("https://dash.example:0", "port"),
                      ("https://user@dash.example", "host name")):
        p = d.run_once(["--cors-origin", bad])
        check(p.returncode not in (0, None),
              "--cors-origin %r: netnsd started (exit %r)", bad, p.returncode)
        lines = p.stderr.strip().splitlines()
        eq(len(lines), 1, "the refusal of %r in one line: %r" % (bad, lines))
        check("--cors-origin '%s'" % bad in lines[0] and word in lines[0],
              "the refusal of %r should name it and say %r: %r",
              bad, word, lines[0])
    for bad in ("netnsd.example:8080", "*", "http://netnsd.example"):
        p = d.run_once(["--allowed-host", bad])
        check(p.returncode not in (0, None) and "--allowed-host" in p.stderr,
              "--allowed-host %r: exit %r, %r", bad, p.returncode, p.stderr)
    eq(h.netns_list(), [], "namespaces")


@test
def cors_origins_are_compared_as_browsers_send_them():
    d = h.daemon(args=["--cors-origin", "HTTPS://Dash.Example:443",
                       "--cors-origin", "http://[::1]:9000"])
    for origin in (DASH, "http://[::1]:9000"):
        r = send(d.port, "GET", "/v1/namespaces", None, None,
                 {"Origin": origin})
        expect_status(r, 200, "GET from %s" % origin)
        eq(r.header("Access-Control-Allow-Origin"), origin, "Allow-Origin")
    r = send(d.port, "GET", "/v1/namespaces", None, None,
             {"Origin": "https://dash.example:8443"})
    expect_type(r, 403, "origin-not-allowed", "another port")


@test
def preflight_on_unknown_paths_and_methods_lets_the_real_answer_through():
    d = h.daemon(args=["--cors-origin", DASH])
    # An unknown path: the preflight succeeds (a browser needs a 2xx), so
    # that the request itself is sent and shows its 404.
    r = send(d.port, "OPTIONS", "/v1/nowhere", None, None, {
        "Origin": DASH, "Access-Control-Request-Method": "GET"})
    eq(r.status, 204, "preflight on an unknown path: %r" % r)
    c = cors_headers(r)
    eq(c.get("access-control-allow-origin"), DASH, "Allow-Origin")
    check("GET" in c.get("access-control-allow-methods", ""),
          "Allow-Methods %r", c)
    check(r.header("Allow") is None, "Allow on an unknown path: %r",
          r.header("Allow"))
    r = send(d.port, "GET", "/v1/nowhere", None, None, {"Origin": DASH})
    expect_type(r, 404, "not-found", "GET /v1/nowhere")
    eq(r.header("Access-Control-Allow-Origin"), DASH, "Allow-Origin of 404")
    # A method the path does not serve: allowed by the preflight, so that
    # the request shows its 405 (Allow still says what the path serves).
    r = send(d.port, "OPTIONS", "/v1/namespaces", None, None, {
        "Origin": DASH, "Access-Control-Request-Method": "DELETE"})
    eq(r.status, 204, "preflight of DELETE /v1/namespaces: %r" % r)
    methods = {m.strip() for m in cors_headers(r).get(
        "access-control-allow-methods", "").split(",")}
    check("DELETE" in methods, "Allow-Methods %r", methods)
    check("DELETE" not in r.header("Allow"), "Allow %r", r.header("Allow"))
    r = send(d.port, "DELETE", "/v1/namespaces", None, None,
             {"Origin": DASH})
    expect_type(r, 405, "method-not-allowed", "DELETE /v1/namespaces")
    eq(r.header("Access-Control-Allow-Origin"), DASH, "Allow-Origin of 405")
    # Without an allowed origin nothing changes: OPTIONS on an unknown
    # path is 404.
    r = send(d.port, "OPTIONS", "/v1/nowhere", None)
    expect_type(r, 404, "not-found", "plain OPTIONS on an unknown path")


h.run_tests()
