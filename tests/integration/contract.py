"""The contract check: every HTTP exchange of the integration tests against
the OpenAPI document (openapi/openapi.yaml, or the file NETNSD_OPENAPI names).

harness.py calls check_http() for each exchange of its HTTP client and
check_raw() for each raw_request(); an exchange that breaks the document
raises ContractViolation (an AssertionError) in the client and is also
recorded, so that the runner fails the test even if the test swallowed the
exception (in a thread, say).

What is checked, for an answer to a documented operation (method and path
as the router matches them; HEAD as the GET of its path, without a body):
- the status code is one of the operation's responses;
- the Content-Type is one of that response's media types (none if the
  response has no content), and the body parses (JSON without duplicate
  keys) and validates against its schema (JSON Schema 2020-12, $refs
  resolved against the whole document); a response without content has an
  empty body;
- the response's required headers (Location, X-Request-Id, the ETag of
  every GET's 200 and 304) are present and match their schemas; a Location
  names a path with a GET operation;
- a 304 answers only a GET (or HEAD) whose If-None-Match lists the ETag it
  carries (or is *), and a 412 only a request with If-Match or
  If-None-Match;
- a problem document's status equals the HTTP status, its title is the
  status's reason phrase (RFC 9110), and its type is one of the slugs the
  document lists (those that the response's own description names, where
  it names any);
- for a 2xx answer: the request body validated against the requestBody
  schema (with a media type it lists), a required body was sent, no body
  was sent to an operation that takes none, and every path parameter
  matched its schema.

Answers outside every operation are checked against the rules of the
document's info.description ("Answers outside the operations below"), and
nothing else is let through:
- a path no route matches: 404 `not-found`;
- a method the path does not serve: 405 `method-not-allowed` with an Allow
  header listing the path's methods;
- OPTIONS: 204 with Allow (the path's methods and OPTIONS), or 404 on an
  unknown path;
- anywhere: 401 `unauthorized` (bearer tokens are checked before the path)
  and, when a body was sent, 413 `body-too-large`;
- anywhere: 421 `misdirected-request` (a Host the server does not answer
  to), 403 `origin-not-allowed` only to a request with an Origin, and 400
  `malformed-request` to one whose Host is repeated or not host[:port];
- OPTIONS that is a CORS preflight (Origin, Access-Control-Request-Method)
  answered with Access-Control-Allow-Origin: 204 on any path, its
  Access-Control-Allow-Methods listing the asked method;
- a raw NUL in the request target: 400 `malformed-request`; ambiguous
  body framing: 400 `malformed-request` (501 for a coding other than
  chunked), with Connection: close;
- a path longer than 2048 bytes: 400 `invalid-path`;
- the HTTP library's own refusals (no X-Request-Id, a short HTML body):
  414 and 431 always, 400, 413 and 505 only for a request that is not
  clean HTTP/1.1 (see Request.clean).
Every answer netnsd makes itself carries X-Request-Id (the client's own when
it sent a plain one of at most 32 characters) and Cache-Control: no-store;
CORS headers only for a request with an Origin, echoing it.

Raw requests (harness.raw_request) are parsed; each answer in the reply is
checked as above, with the method and target of the request line. A
request whose bytes are not clean HTTP/1.1 is only held to what the
document says of such requests. An empty reply (the server closed) is no
exchange.

A request the document refuses (malformed JSON, an unknown field, a bad
value, a wrong media type, a body too large) is not outside the contract:
its answer (400, 415, 413) is documented and checked like any other. Opt
out only an exchange the document does not describe. A test opts an
exchange out, deliberately, with a reason: the
outside_contract="why" argument of harness.http_request() and
harness.raw_request() (and of the Daemon methods), or `with
harness.outside_contract("why"):` around any client's requests.

Environment: NETNSD_OPENAPI (the document), NETNSD_CONTRACT (`strict`, the
default: raise and record; `collect`: record only, fail at the end of the
test; `off`), NETNSD_CONTRACT_STATS (a directory: each test process writes
what it checked there, as JSON).
"""

import json
import os
import re
import threading
import urllib.parse

import yaml
from jsonschema import Draft202012Validator, RefResolver

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DOC = os.path.normpath(os.path.join(HERE, "..", "..", "openapi",
                                            "openapi.yaml"))
METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
           "trace")

# RFC 9110's reason phrases, which a problem's title repeats.
REASONS = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
    413: "Content Too Large", 414: "URI Too Long",
    415: "Unsupported Media Type", 421: "Misdirected Request",
    422: "Unprocessable Content",
    429: "Too Many Requests", 431: "Request Header Fields Too Large",
    500: "Internal Server Error", 501: "Not Implemented",
    503: "Service Unavailable",
    505: "HTTP Version Not Supported", 507: "Insufficient Storage",
}

# The HTTP library's own refusals (libmicrohttpd): statuses and when.
LIBRARY_ALWAYS = (414, 431)

# libyaml's loader when there is one: the same result, ten times faster.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
LIBRARY_UNCLEAN = (400, 413, 505)

TOKEN = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
# host[:port] as netnsd reads Host (RFC 9110, 7.2).
HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_-]|\.(?!\.))*)"
                  r"(:[0-9]{0,5})?$")


class ContractViolation(AssertionError):
    pass


def mode():
    m = os.environ.get("NETNSD_CONTRACT", "strict").strip().lower()
    return m if m in ("strict", "collect", "off") else "strict"


def doc_path():
    return os.path.abspath(os.environ.get("NETNSD_OPENAPI") or DEFAULT_DOC)


# ---------------------------------------------------------------------------
# Exchanges

def _header_map(headers):
    """{lower-case name: [values]} from a dict, pairs or an HTTPMessage."""
    out = {}
    if headers is None:
        return out
    items = headers.items() if hasattr(headers, "items") else headers
    for k, v in items:
        out.setdefault(str(k).lower(), []).append(str(v))
    return out


def request_path(target):
    """The path of a request target: before the query, and without the
    scheme and authority of an absolute-form target."""
    path = target.split("?", 1)[0]
    m = re.match(r"^(?i:https?)://[^/]*", path)
    if m:
        path = path[m.end():] or "/"
    return path


def framing_status(req):
    """400 or 501 when the request's body framing is one netnsd refuses
    (the description: ambiguous, or a coding other than chunked), else
    None."""
    cl = req.headers.get("content-length", [])
    te = req.headers.get("transfer-encoding", [])
    if (cl and te) or len(set(v.strip() for v in cl)) > 1 or len(te) > 1:
        return 400
    if te and te[0].strip().lower() != "chunked":
        return 501
    return None


def _media_type(value):
    return (value or "").split(";")[0].strip().lower()


class Request:
    """What was sent. target is the request target as sent (str, latin-1
    for raw bytes); body is bytes or None; clean is False when the bytes
    were not plain HTTP/1.1 (a control character, a space or a byte over
    0x7e in the target, a bad method or header, a wrong version)."""

    def __init__(self, method, target, headers=None, body=None,
                 clean=True, via="http"):
        self.method = method
        self.target = target
        self.headers = _header_map(headers)
        self.body = body
        self.via = via
        self.clean = clean and _line_is_clean(method, target) and all(
            TOKEN.match(k.encode("latin-1", "replace")) and
            not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", v)
            for k, vs in self.headers.items() for v in vs)

    def header(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None

    @property
    def has_body(self):
        return bool(self.body)


def _line_is_clean(method, target):
    return (TOKEN.match(method.encode("latin-1", "replace")) is not None and
            re.match(r"^[\x21-\x7e]+$", target) is not None)


class Answer:
    def __init__(self, status, headers, body, reason=""):
        self.status = status
        self.reason = reason
        self.headers = _header_map(headers)
        self.body = body or b""

    def header(self, name):
        v = self.headers.get(name.lower())
        return v[0] if v else None

    @property
    def content_type(self):
        return _media_type(self.header("Content-Type"))


def describe(req, ans):
    """The exchange in a few lines, for a failure message."""
    lines = ["%s %s" % (req.method, _short(req.target, 200))]
    ct = req.header("Content-Type")
    if req.body is not None:
        lines.append("  request  Content-Type %r, body %s" % (
            ct, _short(req.body, 300)))
    if ans is None:
        lines.append("  no answer")
    else:
        lines.append("  answered %d, Content-Type %r, body %s" % (
            ans.status, ans.header("Content-Type"), _short(ans.body, 600)))
    return "\n".join(lines)


def _short(v, n):
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v)
        return repr(v[:n]) + ("... (%d bytes)" % len(v) if len(v) > n else "")
    return repr(v[:n]) + ("..." if len(v) > n else "")


# ---------------------------------------------------------------------------
# The document

class _Op:
    def __init__(self, method, template, item, op):
        self.method = method
        self.template = template
        self.item = item
        self.op = op
        self.id = op.get("operationId") or "%s %s" % (method, template)


def _problem_slug(ans):
    """The slug of a problem document's type, or None."""
    if ans.content_type != "application/problem+json":
        return None
    try:
        t = json.loads(ans.body).get("type")
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    if isinstance(t, str) and t.startswith("urn:netnsd:problem:"):
        return t[len("urn:netnsd:problem:"):]
    return None


def _unique_json(body):
    """json.loads that refuses duplicate keys and non-UTF-8."""
    def pairs(items):
        seen = {}
        for k, v in items:
            if k in seen:
                raise ValueError("duplicate key %r" % k)
            seen[k] = v
        return seen
    text = body.decode("utf-8")
    return json.loads(text, object_pairs_hook=pairs)


class Contract:
    def __init__(self, path):
        self.path = path
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.load(f, Loader=_LOADER)
        if not isinstance(self.doc, dict) or \
                not str(self.doc.get("openapi", "")).startswith("3.1"):
            raise ValueError("%s is not an OpenAPI 3.1 document" % path)
        self.resolver = RefResolver(base_uri="urn:netnsd:openapi",
                                    referrer=self.doc)
        self._validators = {}
        self._lock = threading.Lock()
        self.paths = []  # (template, segments, path item)
        for template, item in (self.doc.get("paths") or {}).items():
            segs = template.strip("/").split("/") if template != "/" else []
            self.paths.append((template, segs, item))
        problem = self.resolve(self.doc["components"]["schemas"]["Problem"])
        self.slugs = {t[len("urn:netnsd:problem:"):]
                      for t in problem["properties"]["type"]["enum"]}

    # -- references and schemas ---------------------------------------------

    def resolve(self, obj):
        seen = 0
        while isinstance(obj, dict) and "$ref" in obj and seen < 32:
            ref = obj["$ref"]
            if not ref.startswith("#/"):
                raise ValueError("cannot resolve %r" % ref)
            node = self.doc
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                node = node[part]
            obj = node
            seen += 1
        return obj

    def schema_errors(self, schema, instance, limit=6):
        key = id(schema)
        with self._lock:
            v = self._validators.get(key)
            if v is None:
                v = Draft202012Validator(schema, resolver=self.resolver)
                self._validators[key] = (v, schema)  # keep schema alive
            else:
                v = v[0]
            # RefResolver keeps a scope stack: not for several threads.
            errs = sorted(v.iter_errors(instance),
                          key=lambda e: list(e.absolute_path))
        out = []
        for e in errs[:limit]:
            where = "".join("[%r]" % p for p in e.absolute_path) or "(root)"
            out.append("%s: %s" % (where, _short(e.message, 300)[1:-1]))
        if len(errs) > limit:
            out.append("... and %d more" % (len(errs) - limit))
        return out

    # -- routing --------------------------------------------------------------

    def match(self, target):
        """(template, path item, raw param segments) for the target's path,
        as the router matches it, or None. Query and nothing else split;
        an absolute-form target (RFC 9112, 3.2.2) names its path."""
        path = request_path(target)
        if not path.startswith("/") or len(path) > 2048:
            return None
        segs = path[1:].split("/") if path != "/" else []
        if any(s == "" for s in segs) or len(segs) > 12:
            return None
        best = None
        for template, tsegs, item in self.paths:
            if len(tsegs) != len(segs):
                continue
            params, literal = {}, 0
            for t, s in zip(tsegs, segs):
                if t.startswith("{") and t.endswith("}"):
                    params[t[1:-1]] = s
                elif t == s:
                    literal += 1
                else:
                    break
            else:
                if best is None or literal > best[3]:
                    best = (template, item, params, literal)
        return best[:3] if best else None

    def methods(self, item):
        return {m.upper() for m in item if m in METHODS}

    def operation(self, method, template, item):
        if method != method.upper():
            return None  # methods are case-sensitive: "delete" is not DELETE
        m = method.lower()
        if m == "head" and "head" not in item and "get" in item:
            m = "get"
        op = item.get(m)
        return _Op(m.upper(), template, item, op) if op else None

    def parameters(self, op):
        out = {}
        for p in list(op.item.get("parameters") or []) + \
                list(op.op.get("parameters") or []):
            p = self.resolve(p)
            out[(p["name"], p["in"])] = p
        return out


# ---------------------------------------------------------------------------
# The checks

class Checker:
    def __init__(self, contract):
        self.c = contract
        self.counts = {}
        self._lock = threading.Lock()
        self.problem_schema = {"$ref": "#/components/schemas/Problem"}

    def count(self, key):
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + 1

    # -- one answer -----------------------------------------------------------

    def check(self, req, ans):
        """A list of what is wrong with this exchange (empty: fine)."""
        out = []
        if ans is None:
            return out
        library = ans.header("X-Request-Id") is None and \
            not ans.content_type.startswith("application/")
        if library:
            self._library_refusal(req, ans, out)
            self.count("(library refusal) %d" % ans.status)
            return out
        self._netnsd_headers(req, ans, out)
        if "\x00" in req.target:
            # The request line is malformed: only this answer is allowed.
            self._problem(req, ans, out, slugs={"malformed-request"},
                          status=400)
            self.count("(malformed request line) %d" % ans.status)
            return out
        if req.via == "raw-unsplittable":
            # We cannot tell what netnsd made of the request line.
            self._problem(req, ans, out, status=None)
            self.count("(unparsed request line) %d" % ans.status)
            return out

        framing = framing_status(req)
        if framing:
            # Ambiguous body framing: refused on every path, before all
            # else netnsd checks.
            self._problem(req, ans, out, slugs={"malformed-request"},
                          status=framing)
            if (ans.header("Connection") or "").lower() != "close":
                out.append("a refusal of ambiguous framing without "
                           "Connection: close")
            self.count("(ambiguous framing) %d" % ans.status)
            return out
        if self._host_or_origin(req, ans, out):
            return out
        m = self.c.match(req.target)
        method = req.method
        if ans.status == 401:
            self._problem(req, ans, out, slugs={"unauthorized"}, status=401)
            self._www_authenticate(ans, out)
            self.count("(any) 401")
            return out
        if len(request_path(req.target)) > 2048:
            self._outside(req, ans, out, "invalid-path", 400,
                          "(path over 2048 bytes)")
            return out
        slashed = self._slashed(req.target)
        if slashed is not None:
            self._trailing_slash(req, ans, slashed, out)
            return out
        if method == "OPTIONS":
            self._options(req, ans, m, out)
            return out
        if m is None:
            self._outside(req, ans, out, "not-found", 404, "(unknown path)")
            return out
        template, item, params = m
        op = self.c.operation(method, template, item)
        if op is None:
            self._outside(req, ans, out, "method-not-allowed", 405,
                          "(undeclared method)", item=item)
            return out
        self._operation(req, ans, op, params, out)
        return out

    # -- what the description says of answers outside the operations --------

    def _host_or_origin(self, req, ans, out):
        """The refusals of a request's Host or Origin, on every path before
        the bearer token: True when this answer is one of them."""
        slug = _problem_slug(ans)
        hosts = req.headers.get("host", [])
        if ans.status == 421:
            self._problem(req, ans, out, slugs={"misdirected-request"},
                          status=421)
        elif ans.status == 403 and slug == "origin-not-allowed":
            self._problem(req, ans, out, slugs={slug}, status=403)
            if req.header("Origin") is None:
                out.append("403 origin-not-allowed to a request without "
                           "Origin")
            if ans.header("Access-Control-Allow-Origin") is not None:
                out.append("a refused Origin got Access-Control-Allow-Origin")
        elif ans.status == 400 and slug == "malformed-request" and (
                len(hosts) > 1 or (hosts and not HOST.match(hosts[0]))):
            self._problem(req, ans, out, slugs={slug}, status=400)
        else:
            return False
        self.count("(any) %d %s" % (ans.status, slug))
        return True

    def _library_refusal(self, req, ans, out):
        allowed = set(LIBRARY_ALWAYS)
        if not req.clean:
            allowed |= set(LIBRARY_UNCLEAN)
        if ans.status not in allowed:
            out.append(
                "an answer without X-Request-Id (the HTTP library's own "
                "refusal) with status %d: the document allows only %s for "
                "%s request" % (
                    ans.status, "/".join(map(str, sorted(allowed))),
                    "a clean" if req.clean else "a malformed"))
        if ans.content_type not in ("", "text/html"):
            out.append("the HTTP library's refusal has Content-Type %r, "
                       "not text/html" % ans.header("Content-Type"))
        body = ans.body.lstrip()
        if req.method != "HEAD" and not (
                body[:6].lower() == b"<html>" and
                body.rstrip().lower().endswith(b"</html>") and
                len(ans.body) <= 1024):
            out.append("the HTTP library's refusal is not a short HTML "
                       "body: %s" % _short(ans.body, 200))

    def _netnsd_headers(self, req, ans, out):
        rid = ans.header("X-Request-Id")
        if not rid or not REQUEST_ID.match(rid):
            out.append("X-Request-Id %r does not match %s" % (
                rid, REQUEST_ID.pattern))
        given = req.header("X-Request-Id")
        if given and REQUEST_ID.match(given) and rid != given:
            out.append("X-Request-Id %r: the client sent %r, which the "
                       "answer must carry" % (rid, given))
        cc = ans.header("Cache-Control")
        if cc != "no-store":
            out.append("Cache-Control %r, want no-store" % cc)
        acao = ans.header("Access-Control-Allow-Origin")
        origin = req.header("Origin")
        if acao is not None:
            if origin is None or acao != origin:
                out.append("Access-Control-Allow-Origin %r for a request "
                           "with Origin %r" % (acao, origin))
            if not ans.header("Access-Control-Expose-Headers"):
                out.append("Access-Control-Allow-Origin without "
                           "Access-Control-Expose-Headers")

    def _www_authenticate(self, ans, out):
        hdr = self.c.doc["components"]["headers"].get("WWWAuthenticate")
        v = ans.header("WWW-Authenticate")
        if hdr and v is not None:
            out += ["WWW-Authenticate: " + e for e in self.c.schema_errors(
                self.c.resolve(hdr)["schema"], v)]

    def _options(self, req, ans, m, out):
        asked = req.header("Access-Control-Request-Method")
        preflight = bool(req.header("Origin") and asked and ans.header(
            "Access-Control-Allow-Origin"))
        if m is None and not (preflight and ans.status == 204):
            self._outside(req, ans, out, "not-found", 404,
                          "OPTIONS (unknown path)")
            return
        self.count("OPTIONS%s %d" % (" (preflight)" if preflight else "",
                                     ans.status))
        if ans.status != 204:
            out.append("OPTIONS on %s: want 204, got %d" % (m[0], ans.status))
            return
        if m is not None:
            self._allow(ans, self.c.methods(m[1]) | {"OPTIONS"}, out)
        elif ans.header("Allow") is not None:
            out.append("a preflight on an unknown path with Allow %r" %
                       ans.header("Allow"))
        if ans.body:
            out.append("a 204 with a body")
        if req.header("Origin") and ans.header("Access-Control-Allow-Origin") \
                and not ans.header("Access-Control-Allow-Methods"):
            out.append("a CORS preflight without Access-Control-Allow-Methods")
        elif preflight:
            methods = {x.strip() for x in ans.header(
                "Access-Control-Allow-Methods").split(",")}
            if asked.strip() not in methods:
                out.append("a CORS preflight for %s whose Access-Control-"
                           "Allow-Methods %r does not list it" % (
                               asked, ans.header(
                                   "Access-Control-Allow-Methods")))

    def _allow(self, ans, want, out, refused=None):
        a = ans.header("Allow")
        if a is None:
            out.append("no Allow header (want %s)" % ", ".join(sorted(want)))
            return
        got = {x.strip() for x in a.split(",") if x.strip()}
        extra = got - want - {"HEAD", "OPTIONS"}
        if not want - {"OPTIONS"} <= got or extra or \
                ("OPTIONS" in want and "OPTIONS" not in got):
            out.append("Allow %r, but the document has %s" % (
                a, ", ".join(sorted(want))))
        if refused and refused in got:
            out.append("Allow %r lists the refused method %s" % (a, refused))

    def _slashed(self, target):
        """The target without the trailing slash of its path, when that
        path (with one trailing slash) names a known path, else None."""
        path = request_path(target)
        if len(path) < 2 or not path.endswith("/") or path.endswith("//"):
            return None
        if self.c.match(path[:-1]) is None:
            return None
        query = target.split("?", 1)[1:]
        return path[:-1] + ("?" + query[0] if query else "")

    def _trailing_slash(self, req, ans, want_location, out):
        """The description: 308 with Location and no body, whatever the
        method; no handler runs."""
        self.count("(trailing slash) %d" % ans.status)
        if ans.status != 308:
            out.append("a known path with a trailing slash answers 308, "
                       "got %d" % ans.status)
            return
        if ans.body:
            out.append("a 308 for a trailing slash has no body, got %r"
                       % ans.body[:100])
        if ans.header("Location") != want_location:
            out.append("a 308 for a trailing slash must send Location: %s, "
                       "got %r" % (want_location, ans.header("Location")))

    def _outside(self, req, ans, out, slug, status, what, item=None):
        """An answer to no operation: the description's rules."""
        self.count("%s %d" % (what, ans.status))
        if ans.status == 413 and req.has_body:
            self._problem(req, ans, out, slugs={"body-too-large"}, status=413)
            return
        if ans.status != status:
            out.append("%s: %s answers %d %s (the document's info.description"
                       "), got %d" % (what, req.method, status, slug,
                                      ans.status))
            if ans.status >= 400:
                self._problem(req, ans, out, status=None)
            return
        self._problem(req, ans, out, slugs={slug}, status=status)
        if status == 405:
            self._allow(ans, self.c.methods(item), out, refused=req.method)

    def _problem(self, req, ans, out, slugs=None, status=None):
        """A problem document, as the description and Problem say."""
        if status is not None and ans.status != status:
            out.append("want HTTP %d, got %d" % (status, ans.status))
        if ans.content_type != "application/problem+json":
            out.append("an error must be application/problem+json, got "
                       "Content-Type %r" % ans.header("Content-Type"))
            return
        if req.method == "HEAD":
            if ans.body:
                out.append("an answer to HEAD with a body")
            return
        self._json_body(ans, self.problem_schema, out, "Problem")
        self._problem_fields(ans, out, slugs)

    def _problem_fields(self, ans, out, slugs):
        try:
            p = _unique_json(ans.body)
        except ValueError:
            return  # reported by _json_body
        if not isinstance(p, dict):
            return
        if p.get("status") != ans.status:
            out.append("problem status %r differs from HTTP %d" % (
                p.get("status"), ans.status))
        want = REASONS.get(ans.status)
        if want and p.get("title") != want:
            out.append("problem title %r, want the reason phrase %r" % (
                p.get("title"), want))
        t = p.get("type")
        if isinstance(t, str) and t.startswith("urn:netnsd:problem:"):
            slug = t[len("urn:netnsd:problem:"):]
            if slug not in self.c.slugs:
                out.append("problem type %r is none of the slugs Problem.type"
                           " lists" % t)
            elif slugs and slug not in slugs:
                out.append("problem type %r; for this answer the document "
                           "names %s" % (t, ", ".join(sorted(slugs))))

    # -- an operation ------------------------------------------------------

    def _operation(self, req, ans, op, params, out):
        responses = op.op.get("responses") or {}
        key = str(ans.status)
        if key not in responses:
            key = "%dXX" % (ans.status // 100)
            if key not in responses:
                # `default` is the HTTP library's refusal, which never
                # reaches here (no X-Request-Id): netnsd's own answers
                # must each be listed under their status.
                key = None
        head = req.method == "HEAD"
        self.count("%s%s %d" % (op.id, " (HEAD)" if head else "", ans.status))
        if key is None:
            if ans.status == 413 and req.has_body:
                # The description: a body over --max-body is 413, anywhere.
                self._problem(req, ans, out, slugs={"body-too-large"},
                              status=413)
                return
            out.append("%s (%s %s) does not document status %d (it has %s)"
                       % (op.id, op.method, op.template, ans.status,
                          ", ".join(sorted(map(str, responses)))))
            if ans.status >= 400:
                self._problem(req, ans, out, status=None)
            return
        resp = self.c.resolve(responses[key])
        self._response_headers(req, ans, resp, out)
        content = resp.get("content") or {}
        if not content:
            if ans.body:
                out.append("%s %d has no content in the document, but the "
                           "answer has a body" % (op.id, ans.status))
            if ans.header("Content-Type") and not head:
                out.append("%s %d has no content in the document, but the "
                           "answer has Content-Type %r" % (
                               op.id, ans.status, ans.header("Content-Type")))
        else:
            media = self._media(content, ans.content_type)
            if media is None:
                out.append("%s %d: Content-Type %r is not one of %s" % (
                    op.id, ans.status, ans.header("Content-Type"),
                    ", ".join(content)))
            elif head:
                if ans.body:
                    out.append("an answer to HEAD with a body")
            else:
                self._body(ans, media, content[media], out,
                           "%s %d" % (op.id, ans.status))
        if ans.content_type == "application/problem+json" and not head:
            self._problem_fields(ans, out, self._slugs(resp))
        self._conditional(req, ans, op, out)
        if 200 <= ans.status < 300:
            self._accepted_request(req, op, params, out)

    def _conditional(self, req, ans, op, out):
        """The Conventions on conditional requests: a 304 only to a GET
        whose If-None-Match lists the ETag it answers (or is *); a 412 only
        to a request with If-Match or If-None-Match."""
        inm = ", ".join(req.headers.get("if-none-match", []))
        if ans.status == 304:
            etag = ans.header("ETag")
            if op.method != "GET":
                out.append("a 304 to %s" % req.method)
            elif not inm:
                out.append("a 304 to a request without If-None-Match")
            elif etag and inm.strip() != "*" and etag not in {
                    t.strip()[2:] if t.strip().startswith("W/")
                    else t.strip() for t in inm.split(",")}:
                out.append("a 304 with ETag %r, which If-None-Match %r does "
                           "not list" % (etag, inm))
        if ans.status == 412 and not inm and \
                not req.headers.get("if-match"):
            out.append("a 412 to a request without If-Match or "
                       "If-None-Match")

    def _media(self, content, ct):
        if ct in content:
            return ct
        for k in content:
            if k.endswith("/*") and ct.startswith(k[:-1]) or k == "*/*":
                return k
        return None

    def _slugs(self, resp):
        words = set(re.findall(r"`([a-z0-9-]+)`", resp.get("description", "")))
        return words & self.c.slugs or None

    def _body(self, ans, media, mobj, out, what):
        schema = mobj.get("schema")
        if media.endswith("json") or media.endswith("+json"):
            self._json_body(ans, schema, out, what)
            return
        try:
            text = ans.body.decode("utf-8")
        except UnicodeDecodeError as e:
            out.append("%s: the %s body is not UTF-8: %s" % (what, media, e))
            return
        if media in ("application/yaml", "application/x-yaml"):
            # A YAML body's schema describes the parsed document, as a
            # client that parses it sees it.
            try:
                text = yaml.load(text, Loader=_LOADER)
            except yaml.YAMLError as e:
                out.append("%s: the YAML body does not parse: %s" % (
                    what, _short(str(e), 300)))
                return
            if not isinstance(text, dict) or "openapi" not in text:
                out.append("%s: the YAML body is no OpenAPI document" % what)
        if schema is not None:
            out += ["%s body %s" % (what, e)
                    for e in self.c.schema_errors(schema, text)]

    def _json_body(self, ans, schema, out, what):
        try:
            data = _unique_json(ans.body)
        except (ValueError, UnicodeDecodeError) as e:
            out.append("%s: the body is not JSON: %s" % (what, e))
            return
        if schema is not None:
            out += ["%s body %s" % (what, e)
                    for e in self.c.schema_errors(schema, data)]

    def _response_headers(self, req, ans, resp, out):
        for name, h in (resp.get("headers") or {}).items():
            h = self.c.resolve(h)
            v = ans.header(name)
            if v is None:
                if h.get("required"):
                    out.append("the documented header %s is missing" % name)
                continue
            if h.get("schema") is not None:
                out += ["header %s: %s" % (name, e)
                        for e in self.c.schema_errors(h["schema"], v)]
            if name.lower() == "location":
                self._location(req, v, out)

    def _location(self, req, v, out):
        """The path of the created resource: where a GET answers, the
        request's own path (PUT) or below it (POST on a collection)."""
        u = urllib.parse.urlsplit(v)
        if u.scheme or u.netloc or not u.path.startswith("/"):
            out.append("Location %r is not an absolute path" % v)
            return
        m = self.c.match(u.path)
        if m is None or "get" not in m[1]:
            out.append("Location %r names no path with a GET operation" % v)
        path = request_path(req.target)
        if u.path != path and not u.path.startswith(path.rstrip("/") + "/"):
            out.append("Location %r is neither the request's path %r nor "
                       "below it" % (v, path))

    # -- what a 2xx says about the request ----------------------------------

    def _accepted_request(self, req, op, params, out):
        rb = op.op.get("requestBody")
        rb = self.c.resolve(rb) if rb else None
        where = "%s accepted the request (2xx), but" % op.id
        if req.has_body:
            if rb is None:
                out.append("%s the operation takes no request body and one "
                           "was sent: %s" % (where, _short(req.body, 200)))
            else:
                ct = _media_type(req.header("Content-Type"))
                content = rb.get("content") or {}
                media = self._media(content, ct)
                if media is None:
                    out.append("%s the request's Content-Type %r is not one "
                               "of %s" % (where, req.header("Content-Type"),
                                          ", ".join(content)))
                else:
                    try:
                        data = _unique_json(bytes(req.body))
                    except (ValueError, UnicodeDecodeError) as e:
                        out.append("%s the request body is not JSON: %s" % (
                            where, e))
                    else:
                        schema = content[media].get("schema")
                        if schema is not None:
                            out += ["%s the request body breaks the "
                                    "requestBody schema: %s" % (where, e)
                                    for e in self.c.schema_errors(schema,
                                                                  data)]
        elif rb is not None and rb.get("required"):
            out.append("%s its requestBody is required and none was sent"
                       % where)
        declared = self.c.parameters(op)
        query = req.target.split("?", 1)[1] if "?" in req.target else ""
        for name, raw in urllib.parse.parse_qsl(query,
                                                keep_blank_values=True):
            p = declared.get((name, "query"))
            if p is None:
                out.append("%s the query parameter %r is not declared for "
                           "the operation" % (where, name))
                continue
            schema = self.c.resolve(p.get("schema") or {})
            value = raw
            if schema.get("type") == "array":
                # Form style, exploded (repeatable): each occurrence is one
                # item of the array.
                p = {"schema": schema.get("items") or {}}
                schema = self.c.resolve(p["schema"])
            if schema.get("type") == "boolean":
                # The document's Conventions: `true` or `false`, nothing
                # else.
                value = {"true": True, "false": False}.get(raw, raw)
            elif schema.get("type") == "integer" and raw.isdigit() and \
                    (raw == "0" or not raw.startswith("0")):
                # Decimal digits, without sign or leading zero.
                value = int(raw)
            out += ["%s query parameter %s=%r breaks its schema: %s" % (
                where, name, raw, e)
                for e in self.c.schema_errors(p.get("schema") or {}, value)]
        for name, raw in params.items():
            p = declared.get((name, "path"))
            if p is None:
                out.append("path parameter {%s} is not declared for %s" % (
                    name, op.id))
                continue
            try:
                value = urllib.parse.unquote_to_bytes(raw).decode("utf-8")
            except UnicodeDecodeError:
                value = urllib.parse.unquote_to_bytes(raw).decode(
                    "utf-8", "replace")
            schema = self.c.resolve(p.get("schema") or {})
            if schema.get("type") == "integer" and \
                    re.match(r"^(0|[1-9][0-9]*)$", value):
                value = int(value)
            errs = self.c.schema_errors(p.get("schema") or {}, value)
            out += ["%s path parameter %s=%r breaks its schema: %s" % (
                where, name, value, e) for e in errs]


# ---------------------------------------------------------------------------
# Raw bytes

def parse_raw_request(data):
    """A Request from raw bytes, or None when not even a request line can be
    found. Anything but clean, complete HTTP/1.1 gives clean=False."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    clean = bool(sep)
    if len(parts) < 3:
        return None
    via = "raw"
    if len(parts) != 3:
        clean = False
        via = "raw-unsplittable"
    method, version = parts[0], parts[-1]
    target = b" ".join(parts[1:-1])
    if version not in (b"HTTP/1.1", b"HTTP/1.0"):
        clean = False
    headers = []
    for l in lines[1:]:
        k, colon, v = l.partition(b":")
        if not colon or not TOKEN.match(k):
            clean = False
            continue
        headers.append((k.decode("latin-1"), v.strip().decode("latin-1")))
    hmap = _header_map(headers)
    body = None
    cl = hmap.get("content-length")
    if "transfer-encoding" in hmap or "host" not in hmap or \
            (cl and (len(cl) > 1 or not cl[0].isdigit())):
        clean = False
    elif cl:
        n = int(cl[0])
        body = rest[:n]
        if len(rest) != n:
            clean = False
    elif rest:
        clean = False
    return Request(method.decode("latin-1"), target.decode("latin-1"),
                   headers, body, clean=clean, via=via)


def parse_raw_reply(reply, head_request=False):
    """[(Answer or None, problem)]: each answer in the bytes, in order; a
    problem string where the bytes are no HTTP answer."""
    out = []
    pos = 0
    while pos < len(reply):
        end = reply.find(b"\r\n\r\n", pos)
        if end < 0:
            out.append((None, "a truncated or malformed answer: %s" %
                        _short(reply[pos:], 200)))
            break
        lines = reply[pos:end].split(b"\r\n")
        m = re.match(rb"^HTTP/1\.[01] (\d{3})(?: (.*))?$", lines[0])
        if not m:
            out.append((None, "not an HTTP status line: %s" %
                        _short(reply[pos:], 200)))
            break
        headers = []
        for l in lines[1:]:
            k, colon, v = l.partition(b":")
            if not colon:
                out.append((None, "a malformed header line %r" % l[:100]))
            headers.append((k.decode("latin-1").strip(),
                            v.strip().decode("latin-1")))
        hmap = _header_map(headers)
        pos = end + 4
        status = int(m.group(1))
        cl = hmap.get("content-length")
        if head_request or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif cl:
            if len(set(cl)) != 1 or not cl[0].isdigit():
                out.append((None, "a bad Content-Length %r" % cl))
                break
            n = int(cl[0])
            body = reply[pos:pos + n]
            if len(body) < n:
                out.append((None, "an answer shorter than its "
                            "Content-Length: %s" % _short(reply[pos:], 200)))
                break
            pos += n
        else:
            body, pos = reply[pos:], len(reply)
        out.append((Answer(status, headers, body,
                           (m.group(2) or b"").decode("latin-1")), None))
    return out


# ---------------------------------------------------------------------------
# The recorder the harness uses

class Recorder:
    """Loads the document once, checks exchanges, keeps the violations of
    the current test."""

    def __init__(self):
        self._contract = None
        self._checker = None
        self._error = None
        self._lock = threading.Lock()
        self.violations = []
        self.checked = 0
        self.exempt = {}
        self.local = threading.local()

    def load(self):
        """The Checker, loading the document on first use; raises a clear
        error when it cannot be read."""
        with self._lock:
            if self._checker is None and self._error is None:
                try:
                    self._contract = Contract(doc_path())
                    self._checker = Checker(self._contract)
                except Exception as e:  # noqa: BLE001 - report, once
                    self._error = "the contract check cannot load %s: %s" % (
                        doc_path(), e)
            if self._error:
                raise ContractViolation(self._error)
            return self._checker

    def exempt_reason(self, reason=None):
        if reason is None:
            stack = getattr(self.local, "stack", None)
            reason = stack[-1] if stack else None
        return reason

    def _record(self, req, ans, problems):
        if not problems:
            return
        text = "contract violation (%s):\n%s\n%s" % (
            os.path.basename(doc_path()), describe(req, ans),
            "\n".join("  - " + p for p in problems))
        with self._lock:
            self.violations.append(text)
        if mode() == "strict":
            raise ContractViolation(text)

    def exchange(self, req, ans, reason=None):
        """Checks one exchange of a well-formed HTTP client."""
        if mode() == "off":
            return
        reason = self.exempt_reason(reason)
        if reason:
            with self._lock:
                self.exempt[reason] = self.exempt.get(reason, 0) + 1
            return
        checker = self.load()
        problems = checker.check(req, ans)
        with self._lock:
            self.checked += 1
        self._record(req, ans, problems)

    def raw(self, data, reply, reason=None):
        """Checks the answers in a raw reply to raw request bytes."""
        if mode() == "off" or not reply:
            return
        reason = self.exempt_reason(reason)
        if reason:
            with self._lock:
                self.exempt[reason] = self.exempt.get(reason, 0) + 1
            return
        checker = self.load()
        req = parse_raw_request(bytes(data))
        answers = parse_raw_reply(reply, head_request=bool(
            req and req.method == "HEAD"))
        if req is None:
            req = Request("(no request line)", repr(bytes(data[:60])),
                          clean=False, via="raw-unsplittable")
        problems = []
        # Several answers to one request: only when it was several
        # requests (pipelined), which a raw request that is not clean is
        # not taken to be.
        if len([a for a, _ in answers if a]) > 1 and not req.clean:
            problems.append("%d answers to one request: %s" % (
                len(answers), _short(reply, 300)))
        for ans, why in answers:
            if why:
                problems.append(why)
            elif ans is not None:
                problems += checker.check(req, ans)
        with self._lock:
            self.checked += 1
        self._record(req, answers[0][0] if answers else None, problems)

    def take(self):
        """The violations recorded since the last call."""
        with self._lock:
            v, self.violations = self.violations, []
        return v

    def summary(self):
        if mode() == "off":
            return "contract check OFF (NETNSD_CONTRACT=off)"
        c = self._checker
        kinds = len(c.counts) if c else 0
        s = "contract: %d exchanges checked against %s (%d operation/status " \
            "pairs and other answers)" % (self.checked, doc_path(), kinds)
        if self.exempt:
            s += "; %d exempt by the test: %s" % (
                sum(self.exempt.values()),
                "; ".join("%s (%d)" % (r, n)
                          for r, n in sorted(self.exempt.items())))
        return s

    def write_stats(self, name):
        d = os.environ.get("NETNSD_CONTRACT_STATS")
        if not d or self._checker is None:
            return
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name + ".json"), "w") as f:
            json.dump({"checked": self.checked, "exempt": self.exempt,
                       "counts": self._checker.counts}, f, indent=1,
                      sort_keys=True)


RECORDER = Recorder()
