"""The contract check checks: exchanges that break the OpenAPI document are
caught (made up here, and real ones against a copy of the document with a
schema broken on purpose), exchanges that keep it pass, opting out works,
and the answers of http.client connections are checked too."""

import copy
import http.client
import os
import tempfile

import yaml

import contract as c
import harness as h
from harness import check, eq, test

RID = {"X-Request-Id": "abc", "Cache-Control": "no-store"}
JSON = dict(RID, **{"Content-Type": "application/json"})
PROBLEM = dict(RID, **{"Content-Type": "application/problem+json"})
TAG = '"0123456789abcdef0123456789abcdef"'
# What every 200 answer to a GET carries.
GOT = dict(JSON, ETag=TAG)
LINK = (b'{"name":"lo","namespace":"blue","ifindex":1,"kind":"loopback",'
        b'"mtu":65536,"mac":"00:00:00:00:00:00","up":true,"oper_state":'
        b'"unknown","master":null,"peer":null,"addresses":["127.0.0.1/8"],'
        b'"managed":false}\n')


def problem(status, slug, title, extra=b""):
    return (b'{"type":"urn:netnsd:problem:%s","title":"%s","status":%d,'
            b'"detail":"x"%s}' % (slug.encode(), title.encode(), status,
                                  extra))


NOT_FOUND = problem(404, "not-found", "Not Found")


def checker(doc=None):
    return c.Checker(c.Contract(doc or c.doc_path()))


def verdict(ch, method, target, status, headers, body, req_body=None,
            req_headers=None, raw=None):
    if raw is not None:
        req = c.parse_raw_request(raw)
    else:
        req = c.Request(method, target, req_headers, req_body)
    return ch.check(req, c.Answer(status, headers, body))


# Each: what, request (method, target, body, headers), answer (status,
# headers, body), and a word the violation must contain.
BAD = [
    ("undocumented status", ("GET", "/v1/namespaces/blue", None, None),
     (500, PROBLEM, problem(500, "internal", "Internal Server Error")),
     "does not document status 500"),
    ("body breaks the schema", ("GET", "/v1/namespaces/blue/links/lo", None,
                                None),
     (200, JSON, LINK.replace(b'"mtu":65536', b'"mtu":"65536"')),
     "mtu"),
    ("unknown field", ("GET", "/v1/namespaces/blue", None, None),
     (200, JSON, b'{"name":"blue","managed":false,"links":1,"x":1}'),
     "Additional properties"),
    ("wrong content type", ("GET", "/v1/namespaces", None, None),
     (200, dict(RID, **{"Content-Type": "text/plain"}), b'{"items":[]}'),
     "is not one of"),
    ("duplicate key", ("GET", "/v1/namespaces", None, None),
     (200, JSON, b'{"items":[],"items":[]}'), "duplicate key"),
    ("no X-Request-Id", ("GET", "/v1/namespaces", None, None),
     (200, {"Content-Type": "application/json",
            "Cache-Control": "no-store"}, b'{"items":[]}'),
     "X-Request-Id"),
    ("request id not echoed", ("GET", "/v1/namespaces", None,
                               {"X-Request-Id": "mine"}),
     (200, JSON, b'{"items":[]}'), "which the answer must carry"),
    ("no Cache-Control", ("GET", "/v1/namespaces", None, None),
     (200, {"X-Request-Id": "a", "Content-Type": "application/json"},
      b'{"items":[]}'), "Cache-Control"),
    ("201 without Location", ("POST", "/v1/namespaces", b'{"name":"blue"}',
                              {"Content-Type": "application/json"}),
     (201, JSON, b'{"name":"blue","managed":true,"links":1,"in_sync":true}'),
     "Location is missing"),
    ("Location to nowhere", ("POST", "/v1/namespaces", b'{"name":"blue"}',
                             {"Content-Type": "application/json"}),
     (201, dict(JSON, Location="/v1/nowhere/blue"),
      b'{"name":"blue","managed":true,"links":1,"in_sync":true}'),
     "no path with a GET"),
    ("accepted body breaks requestBody", ("POST", "/v1/namespaces",
                                          b'{"name":"blue","x":1}',
                                          {"Content-Type":
                                           "application/json"}),
     (201, dict(JSON, Location="/v1/namespaces/blue"),
      b'{"name":"blue","managed":true,"links":1,"in_sync":true}'),
     "requestBody schema"),
    ("accepted body to an operation without one",
     ("DELETE", "/v1/namespaces/b/bridges/br0/ports/va", b'{}',
      {"Content-Type": "application/json"}),
     (204, RID, b""), "takes no request body"),
    ("accepted field the reconcile body refuses",
     ("POST", "/v1/reconcile", b'{"dry_run":true}',
      {"Content-Type": "application/json"}),
     (200, JSON, b'{"actions":[],"failures":[]}'), "requestBody schema"),
    ("Location elsewhere", ("POST", "/v1/namespaces", b'{"name":"blue"}',
                            {"Content-Type": "application/json"}),
     (201, dict(JSON, Location="/healthz"),
      b'{"name":"blue","managed":true,"links":1,"in_sync":true}'),
     "nor below it"),
    ("undeclared query parameter accepted",
     ("GET", "/v1/namespaces?force=true", None, None),
     (200, JSON, b'{"items":[]}'), "not declared"),
    ("bad query value accepted",
     ("DELETE", "/v1/namespaces/blue?force=yes", None, None),
     (204, RID, b""), "query parameter force"),
    ("force=1 accepted",
     ("DELETE", "/v1/namespaces/blue?force=1", None, None),
     (204, RID, b""), "query parameter force"),
    ("GET answered without ETag", ("GET", "/v1/namespaces", None, None),
     (200, JSON, b'{"items":[]}'), "ETag is missing"),
    ("304 without If-None-Match", ("GET", "/v1/namespaces", None, None),
     (304, dict(RID, ETag=TAG), b""), "without If-None-Match"),
    ("304 for another tag", ("GET", "/v1/namespaces", None,
                             {"If-None-Match": '"other"'}),
     (304, dict(RID, ETag=TAG), b""), "does not list"),
    ("304 without ETag", ("GET", "/v1/namespaces", None,
                          {"If-None-Match": "*"}),
     (304, RID, b""), "ETag is missing"),
    ("304 with a body", ("GET", "/v1/namespaces", None,
                         {"If-None-Match": TAG}),
     (304, dict(RID, ETag=TAG), b'{"items":[]}'), "has a body"),
    ("304 to a change", ("DELETE", "/v1/namespaces/blue", None,
                         {"If-None-Match": TAG}),
     (304, dict(RID, ETag=TAG), b""), "does not document status 304"),
    ("412 unasked", ("DELETE", "/v1/namespaces/blue", None, None),
     (412, PROBLEM, problem(412, "precondition-failed",
                            "Precondition Failed")), "without If-Match"),
    ("lower-case method taken for an operation",
     ("delete", "/v1/namespaces/blue", None, None), (204, RID, b""),
     "answers 405"),
    ("absolute-form target not routed",
     ("GET", "http://127.0.0.1/v1/namespaces", None, None),
     (404, PROBLEM, NOT_FOUND), "does not document status 404"),
    ("ambiguous framing not refused",
     ("POST", "/v1/reconcile", b"{}", {"Content-Type": "application/json",
                                      "Content-Length": "2",
                                      "Transfer-Encoding": "chunked"}),
     (200, JSON, b'{"actions":[],"failures":[]}'), "want HTTP 400"),
    ("framing refusal left open",
     ("GET", "/healthz", None, {"Transfer-Encoding": "gzip"}),
     (501, PROBLEM, problem(501, "malformed-request", "Not Implemented")),
     "Connection: close"),
    ("long path not 400", ("GET", "/v1/namespaces/" + "x" * 2100, None,
                           None),
     (404, PROBLEM, NOT_FOUND), "answers 400 invalid-path"),
    ("required body missing", ("POST", "/v1/namespaces", None, None),
     (201, dict(JSON, Location="/v1/namespaces/blue"),
      b'{"name":"blue","managed":true,"links":1,"in_sync":true}'),
     "is required"),
    ("accepted bad path parameter", ("GET", "/v1/namespaces/-x", None, None),
     (200, JSON, b'{"name":"-x","managed":false,"links":1}'),
     "path parameter ns"),
    ("204 with a body", ("DELETE", "/v1/namespaces/blue", None, None),
     (204, dict(JSON), b'{}'), "has a body"),
    ("problem with the wrong slug", ("GET", "/v1/namespaces/x", None, None),
     (404, PROBLEM, problem(404, "conflict", "Not Found")), "names not-found"),
    ("problem with an unknown slug", ("GET", "/v1/namespaces/x", None, None),
     (404, PROBLEM, problem(404, "gone", "Not Found")), "none of the slugs"),
    ("problem status differs", ("GET", "/v1/namespaces/x", None, None),
     (404, PROBLEM, problem(400, "not-found", "Not Found")), "differs"),
    ("problem title", ("GET", "/v1/namespaces/x", None, None),
     (404, PROBLEM, problem(404, "not-found", "Nope")), "reason phrase"),
    ("error as JSON", ("GET", "/v1/namespaces/x", None, None),
     (404, JSON, NOT_FOUND), "is not one of"),
    ("unknown path not 404", ("GET", "/v1/nope", None, None),
     (400, PROBLEM, problem(400, "invalid-path", "Bad Request")),
     "answers 404"),
    ("405 without Allow", ("PATCH", "/v1/namespaces", b"{}",
                           {"Content-Type": "application/json"}),
     (405, PROBLEM, problem(405, "method-not-allowed", "Method Not Allowed")),
     "no Allow"),
    ("405 Allow wrong", ("PATCH", "/v1/namespaces", None, None),
     (405, dict(PROBLEM, Allow="GET"),
      problem(405, "method-not-allowed", "Method Not Allowed")),
     "the document has"),
    ("undeclared method answered 200", ("PATCH", "/v1/namespaces", None, None),
     (200, JSON, b'{"items":[]}'), "answers 405"),
    ("OPTIONS Allow wrong", ("OPTIONS", "/v1/namespaces", None, None),
     (204, dict(RID, Allow="GET, POST"), b""), "the document has"),
    ("HEAD with a body", ("HEAD", "/v1/namespaces", None, None),
     (200, JSON, b'{"items":[]}'), "HEAD with a body"),
    ("library 400 to a clean request", ("GET", "/healthz", None, None),
     (400, {}, b"<html><body>no</body></html>"), "allows only"),
    ("library refusal garbled", (None, None, None, None),
     (400, {}, b"HTTP/1.1 400 Bad Request\r\n\r\n<html></html>"),
     "not a short HTML body"),
    ("NUL in the target not malformed-request",
     ("GET", "/v1/namespaces/a\x00b", None, None),
     (400, PROBLEM, problem(400, "invalid-value", "Bad Request")),
     "names malformed-request"),
    ("CORS origin not echoed", ("GET", "/v1/namespaces", None,
                                {"Origin": "http://a"}),
     (200, dict(JSON, **{"Access-Control-Allow-Origin": "http://b",
                         "Access-Control-Expose-Headers": "Location"}),
      b'{"items":[]}'), "Access-Control-Allow-Origin"),
    ("502 on an operation without it", ("GET", "/healthz", None, None),
     (502, PROBLEM, problem(502, "internal", "Bad Gateway")),
     "does not document status 502"),
    ("metrics as JSON", ("GET", "/metrics", None, None),
     (200, JSON, b'{}'), "is not one of"),
    ("421 with another type", ("GET", "/v1/namespaces", None, None),
     (421, PROBLEM, problem(421, "not-found", "Misdirected Request")),
     "names misdirected-request"),
    ("origin refused without Origin", ("GET", "/v1/namespaces", None, None),
     (403, PROBLEM, problem(403, "origin-not-allowed", "Forbidden")),
     "without Origin"),
    ("preflight on an unknown path without CORS",
     ("OPTIONS", "/v1/nope", None, {"Origin": "http://a",
                                    "Access-Control-Request-Method": "GET"}),
     (204, RID, b""), "answers 404"),
    ("preflight not allowing the asked method",
     ("OPTIONS", "/v1/nope", None, {"Origin": "http://a",
                                    "Access-Control-Request-Method": "PUT"}),
     (204, dict(RID, **{"Access-Control-Allow-Origin": "http://a",
                        "Access-Control-Expose-Headers": "Location",
                        "Access-Control-Allow-Methods": "GET"}), b""),
     "does not list it"),
]

GOOD = [
    (("GET", "/v1/namespaces/blue/links/lo", None, None), (200, GOT, LINK)),
    (("GET", "/v1/namespaces/blue/links/lo", None,
      {"If-None-Match": '"x", W/%s' % TAG}), (304, dict(RID, ETag=TAG), b"")),
    (("HEAD", "/v1/state", None, {"If-None-Match": "*"}),
     (304, dict(RID, ETag=TAG), b"")),
    (("PATCH", "/v1/namespaces/blue/links/lo", b'{"mtu":1400}',
      {"Content-Type": "application/json", "If-Match": '"stale"'}),
     (412, PROBLEM, problem(412, "precondition-failed",
                            "Precondition Failed"))),
    (("PUT", "/v1/namespaces/blue", None, {"If-None-Match": "*"}),
     (412, PROBLEM, problem(412, "precondition-failed",
                            "Precondition Failed"))),
    (("DELETE", "/v1/namespaces/blue?force=false", None, None),
     (204, RID, b"")),
    (("GET", "/v1/namespaces/x", None, {"X-Request-Id": "abc"}),
     (404, PROBLEM, NOT_FOUND)),
    (("PATCH", "/v1/namespaces", None, None),
     (405, dict(PROBLEM, Allow="GET, POST"),
      problem(405, "method-not-allowed", "Method Not Allowed"))),
    (("OPTIONS", "/v1/namespaces", None, None),
     (204, dict(RID, Allow="GET, POST, OPTIONS"), b"")),
    (("HEAD", "/v1/namespaces", None, None), (200, GOT, b"")),
    (("GET", "/v1//x", None, None), (404, PROBLEM, NOT_FOUND)),
    (("POST", "/v1/nope", b"x" * 10, {"Content-Type": "application/json"}),
     (413, PROBLEM, problem(413, "body-too-large", "Content Too Large"))),
    (("DELETE", "/v1/namespaces/blue", None, None), (204, RID, b"")),
    (("GET", "/healthz", None, {"X-Big": "x" * 100}),
     (431, {}, b"<html><body>too big</body></html>")),
    (("GET", "/v1/namespaces/a%zz", None, None),
     (400, PROBLEM, problem(400, "invalid-path", "Bad Request"))),
    (("GET", "/v1/namespaces/blue", None, None),
     (401, dict(PROBLEM, **{"WWW-Authenticate": 'Bearer realm="netnsd"'}),
      problem(401, "unauthorized", "Unauthorized"))),
    (("delete", "/v1/namespaces/blue", None, None),
     (405, dict(PROBLEM, Allow="GET, PUT, DELETE"),
      problem(405, "method-not-allowed", "Method Not Allowed"))),
    (("GET", "http://127.0.0.1/v1/namespaces", None, None),
     (200, GOT, b'{"items":[]}')),
    (("GET", "/healthz", None, {"Content-Length": "0",
                                "Transfer-Encoding": "chunked"}),
     (400, dict(PROBLEM, Connection="close"),
      problem(400, "malformed-request", "Bad Request"))),
    (("GET", "/nowhere/" + "x" * 2100, None, None),
     (400, PROBLEM, problem(400, "invalid-path", "Bad Request"))),
    (("POST", "/v1/reconcile", b"{}", {"Content-Type": "application/json"}),
     (200, JSON, b'{"actions":[],"failures":[]}')),
    (("GET", "/v1/namespaces/a\x00b", None, None),
     (400, PROBLEM, problem(400, "malformed-request", "Bad Request"))),
    (("PUT", "/v1/nope", None, {"Host": "rebind.example"}),
     (421, PROBLEM, problem(421, "misdirected-request",
                            "Misdirected Request"))),
    (("OPTIONS", "/v1/nope", None, {"Origin": "http://a"}),
     (403, PROBLEM, problem(403, "origin-not-allowed", "Forbidden"))),
    (("GET", "/healthz", None, [("Host", "a"), ("Host", "b")]),
     (400, PROBLEM, problem(400, "malformed-request", "Bad Request"))),
    (("OPTIONS", "/v1/nope", None, {"Origin": "http://a",
                                    "Access-Control-Request-Method": "PUT"}),
     (204, dict(RID, **{"Access-Control-Allow-Origin": "http://a",
                        "Access-Control-Expose-Headers": "Location",
                        "Access-Control-Allow-Methods": "PUT"}), b"")),
    (("OPTIONS", "/v1/namespaces", None,
      {"Origin": "http://a", "Access-Control-Request-Method": "DELETE"}),
     (204, dict(RID, **{"Allow": "GET, POST, OPTIONS",
                        "Access-Control-Allow-Origin": "http://a",
                        "Access-Control-Expose-Headers": "Location",
                        "Access-Control-Allow-Methods":
                        "GET, POST, OPTIONS, DELETE"}), b"")),
]


@test
def violations_are_caught():
    ch = checker()
    for what, (m, t, b, rh), (st, hd, body), word in BAD:
        raw = None
        if m is None:
            raw = b"GET /v1/namespaces HTTP/1.1\r\n\r\n"  # no Host: unclean
        got = verdict(ch, m, t, st, hd, body, b, rh, raw=raw)
        check(got, "%s: no violation found", what)
        check(any(word in g for g in got), "%s: want a violation about %r, "
              "got %r", what, word, got)


@test
def conforming_exchanges_pass():
    ch = checker()
    for (m, t, b, rh), (st, hd, body) in GOOD:
        eq(verdict(ch, m, t, st, hd, body, b, rh), [],
           "violations of %s %r answered %d" % (m, t[:40], st))


@test
def raw_replies_are_parsed():
    ch = checker()
    req = c.parse_raw_request(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    check(req is not None and req.clean, "a clean raw request: %r", req)
    answers = c.parse_raw_reply(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Request-Id:"
        b" a\r\nCache-Control: no-store\r\nETag: \"x\"\r\n"
        b"Content-Length: 16\r\n\r\n"
        b'{"status":"ok"}\n')
    eq(len(answers), 1, "answers")
    eq(ch.check(req, answers[0][0]), [], "violations")
    bad = c.parse_raw_request(b"GET /healthz HTTP/9.9\r\n\r\n")
    check(not bad.clean, "HTTP/9.9 taken as clean")


def broken_doc():
    """A copy of the document in which Link.mtu is a string."""
    with open(c.doc_path()) as f:
        doc = yaml.safe_load(f)
    doc = copy.deepcopy(doc)
    doc["components"]["schemas"]["Link"]["properties"]["mtu"] = {
        "type": "string"}
    fd, path = tempfile.mkstemp(prefix="netnsd-broken-", suffix=".yaml")
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(doc, f)
    h.on_cleanup(lambda: os.unlink(path))
    return path


@test
def a_broken_schema_fails_real_exchanges():
    d = h.daemon()
    ch = checker(broken_doc())
    r = d.get("/v1/namespaces/host/links/lo")
    eq(r.status, 200, "GET lo")
    req = c.Request("GET", "/v1/namespaces/host/links/lo")
    got = ch.check(req, c.Answer(r.status, r.headers, r.body))
    check(any("mtu" in g for g in got),
          "Link.mtu as a string should break GET lo: %r", got)


@test
def http_client_answers_are_checked_and_opt_out_works():
    d = h.daemon()
    rec = c.RECORDER
    saved = rec.load()
    rec._checker = checker(broken_doc())
    mode = os.environ.get("NETNSD_CONTRACT")
    os.environ["NETNSD_CONTRACT"] = "strict"  # raise, whatever the run says
    caught = None
    try:
        conn = http.client.HTTPConnection(h.API_HOST, d.port, timeout=10)
        conn.request("GET", "/v1/namespaces/host/links/lo")
        resp = conn.getresponse()
        try:
            h.Response(resp.status, resp.reason, resp.msg, resp.read())
        except c.ContractViolation as e:
            caught = str(e)
        conn.close()
        try:
            d.get("/v1/namespaces/host/links/lo")
        except c.ContractViolation as e:
            caught2 = str(e)
        else:
            caught2 = None
        with h.outside_contract("the self-test's broken document"):
            d.get("/v1/namespaces/host/links/lo")
        d.get("/v1/namespaces/host/links/lo", outside_contract="self-test")
    finally:
        rec._checker = saved
        recorded = rec.take()
        if mode is None:
            del os.environ["NETNSD_CONTRACT"]
        else:
            os.environ["NETNSD_CONTRACT"] = mode
    check(caught and "mtu" in caught,
          "an http.client answer was not checked: %r", caught)
    check(caught2 and "mtu" in caught2,
          "a harness answer was not checked: %r", caught2)
    eq(len(recorded), 2, "recorded violations (the exempt ones are not)")


def schema_accepts(contract, schema, value):
    return not contract.schema_errors(contract.resolve(schema), value)


def refused_on(r, field):
    """The server refused the request for `field` (a 400 naming it)."""
    return r.status == 400 and any(
        e.get("field") == field for e in (r.json or {}).get("errors", []))


# Each value once as the server sees it and once as the schema does.
IPS = ["00", "0", "1.2.3.4", "01.2.3.4", "198.18.0.1", "256.1.1.1",
       "1.2.3", "1.2.3.4.5", "::", "::1", "1::", "2001:db8::1",
       "1::2::3", ":::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9",
       "::ffff:198.18.0.1", "00000::", "2001:DB8::A", "fe80::1%25lo"]
CIDRS = ["00/0", "198.18.0.1/24", "198.18.0.1/32", "198.18.0.1/33",
         "198.18.0.1/024", "2001:db8::1/64", "2001:db8::1/128",
         "2001:db8::1/129", "1.2.3/8", "0.0.0.0/0", "::/0", "::1/00"]
LINKS = [("lo", "lo"), ("caf%C3%A9", "caf\u00e9"), ("a%2Bb", "a+b"),
         ("x" * 15, "x" * 15), ("%7E!", "~!"), ("a%7Fb", "a\x7fb")]


@test
def schemas_are_as_strict_as_the_server():
    # openapi.yaml must refuse exactly what the server refuses, so that a
    # client validating with it is neither stricter nor looser.
    d = h.daemon()
    con = c.Contract(c.doc_path())
    params = con.doc["components"]["parameters"]
    wrong = []
    for ip in IPS:
        r = d.get("/v1/namespaces/host/links/lo/addresses/%s/8" % ip)
        server = not refused_on(r, "ip")
        schema = schema_accepts(con, params["ipPath"]["schema"],
                                ip.replace("%25", "%"))
        if server != schema:
            wrong.append("ip %r: server %s, schema %s" % (ip, server, schema))
    cidr = con.doc["components"]["schemas"]["Cidr"]
    for a in CIDRS:
        with h.outside_contract("a body the schema may refuse, on purpose"):
            r = d.post("/v1/namespaces/host/links/nosuch/addresses",
                       {"address": a})
        server = not refused_on(r, "address")
        if server != schema_accepts(con, cidr, a):
            wrong.append("address %r: server %s" % (a, server))
    for raw, name in LINKS:
        r = d.get("/v1/namespaces/host/links/" + raw)
        server = not refused_on(r, "link")
        schema = schema_accepts(con, params["linkPath"]["schema"], name)
        if server != schema:
            wrong.append("link %r: server %s, schema %s" % (name, server,
                                                          schema))
    check(not wrong, "schema and server disagree:\n  %s", "\n  ".join(wrong))


if __name__ == "__main__":
    h.run_tests()
