#!/usr/bin/python3
"""Hostile input: every request in tests/fixtures/hostile/ is sent byte for
byte to a daemon that serves a small topology (so that the names the
requests aim at exist), and must get exactly the status in its `expect`
file: one well-formed answer, a problem document whenever it has a body
(only the HTTP library's own refusals that openapi.yaml lists, 400, 414,
431 and 505, may be its short HTML page instead), and nothing after it
(the rest of the bytes must not be taken as a second request). After the
whole folder the kernel (`ip netns list`, `ip -j link` and `ip -j addr` in
every namespace) and GET /v1/state are byte for byte what they were before,
and the daemon still answers.

A fixture is a folder NNN-short-name/ holding `request` (the raw bytes, CRLF
line ends, sent as they are, then the sending side is shut) and `expect`
(one line: the status code, or "close" when the daemon may close the
connection, or keep waiting for bytes that never come, without answering;
an answer it does give must then be a 4xx). The folders are made by
tests/fixtures/hostile/make_fixtures.py.

Run one fixture (or a few) by name: test_hostile.py test_fixtures 042 117
(numbers or full folder names)."""

import json
import os
import re
import socket
import sys
import time

import harness as h
from harness import check, eq, test

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "fixtures", "hostile")
MIN_CASES = 100
# The fixtures' size cases are made for this --max-body (and the default
# --max-header-size, 32 KiB).
MAX_BODY = 65536
# How long to wait for an answer: a daemon that waits for a body that never
# comes keeps the connection open; that costs this much per such fixture.
READ_TIMEOUT = h.scaled(2)

# Fixture selection from the command line (after the test names).
_ONLY = [a for a in sys.argv[1:] if not a.startswith("test_")]
sys.argv[1:] = [a for a in sys.argv[1:] if a.startswith("test_")]


def load_fixtures():
    cases = []
    for name in sorted(os.listdir(FIXTURES)):
        d = os.path.join(FIXTURES, name)
        if not os.path.isdir(d) or not re.match(r"[0-9]{3}-", name):
            continue  # make_fixtures.py, README, caches
        with open(os.path.join(d, "request"), "rb") as f:
            data = f.read()
        with open(os.path.join(d, "expect")) as f:
            lines = f.read().splitlines()
        assert len(lines) == 1, "%s/expect must be one line" % name
        want = lines[0].strip()
        assert want == "close" or (want.isdigit() and len(want) == 3), \
            "%s/expect: %r is neither a status nor 'close'" % (name, want)
        cases.append((name, data, want))
    return cases


def selected(cases):
    if not _ONLY:
        return cases
    return [c for c in cases
            if any(c[0] == o or c[0].split("-", 1)[0] == o.zfill(3)
                   for o in _ONLY)]


# ---------------------------------------------------------------------------
# The topology every fixture aims at, made through the API

def build_topology(d):
    """red (managed) with veth va/vb, bridge br0 (vb a port of it), an
    address on va; blue made behind netnsd's back (unmanaged)."""
    def ok(r, what):
        check(r.status in (200, 201, 204), "%s: %r", what, r)

    ok(d.put("/v1/namespaces/red"), "PUT red")
    ok(d.post("/v1/namespaces/red/veths",
              {"name": "va", "peer": {"name": "vb"}, "mtu": 1500}), "veth")
    ok(d.post("/v1/namespaces/red/bridges", {"name": "br0"}), "bridge")
    ok(d.put("/v1/namespaces/red/bridges/br0/ports/vb"), "port")
    ok(d.post("/v1/namespaces/red/links/va/addresses",
              {"address": "198.18.1.1/24"}), "address")
    h.netns_add("blue")
    h.ip("link", "add", "bd0", "type", "veth", "peer", "name", "bd1",
         ns="blue")


def snapshot(d):
    """What no hostile request may change, as raw text."""
    out = {"netns": h.run(["ip", "netns", "list"]).stdout}
    names = ["host"] + h.netns_list()
    for ns in names:
        nsarg = [] if ns == "host" else ["-n", ns]
        out["link " + ns] = h.run(["ip", "-j"] + nsarg + ["link"]).stdout
        out["addr " + ns] = h.run(["ip", "-j"] + nsarg + ["addr"]).stdout
    r = d.get("/v1/state")
    eq(r.status, 200, "GET /v1/state")
    out["state"] = r.body
    return out


def stable_snapshot(d):
    """A snapshot that stays the same for a moment: nothing is still
    settling in the kernel when the fixtures start."""
    prev = snapshot(d)
    deadline = h.Deadline(h.scaled(10))
    while True:
        time.sleep(0.2)
        cur = snapshot(d)
        if cur == prev or deadline.expired():
            return cur
        prev = cur


def diff_snapshots(before, after):
    lines = []
    for k in sorted(set(before) | set(after)):
        b, a = before.get(k), after.get(k)
        if b != a:
            lines.append("%s changed:\n  before: %r\n  after:  %r" % (
                k, (b or "")[:1500], (a or "")[:1500]))
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Sending one fixture

def send(port, data, timeout):
    """Sends the bytes, half-closes, and reads until the daemon closes.
    Returns (reply bytes, closed): closed is False if the daemon kept the
    connection open past the timeout."""
    sock = socket.create_connection((h.API_HOST, port), timeout=timeout)
    chunks = []
    closed = True
    try:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the daemon answered (and closed) before the end
        while True:
            try:
                c = sock.recv(65536)
            except socket.timeout:
                closed = False
                break
            except ConnectionResetError:
                break
            if not c:
                break
            chunks.append(c)
    finally:
        sock.close()
    return b"".join(chunks), closed


def parse_reply(reply):
    """(status, {lowercase header: value}, body) of the first answer, or
    None when there is no complete status line and header block."""
    head, sep, body = reply.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.split(b"\r\n")
    first = lines[0].split(b" ", 2)
    if len(first) < 2 or not first[0].startswith(b"HTTP/1.") or \
            not first[1].isdigit():
        return None
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        headers[k.strip().lower().decode("latin-1")] = \
            v.strip().decode("latin-1")
    rest = b""
    if "content-length" in headers:
        n = int(headers["content-length"])
        body, rest = body[:n], body[n:]
    return int(first[1]), headers, body, rest


def judge(reply, closed, want, case=None):
    """An error message, or None if the answer is what `expect` says."""
    got = parse_reply(reply)
    if got is not None and got[3].startswith(b"HTTP/1."):
        return "a second answer followed the first: the rest of the " \
               "bytes was taken as another request: %r" % got[3][:300]
    if want == "close":
        # Closed, or still waiting for the rest that never comes: both
        # fine, as long as nothing but a refusal was answered.
        if got is None:
            return None if not reply else \
                "a partial or malformed answer: %r" % reply[:200]
        if not 400 <= got[0] < 500:
            return "answered %d (only a 4xx or a close is acceptable)" % got[0]
        return check_problem(got, case)
    if got is None:
        return "no valid answer (%s): %r" % (
            "closed" if closed else "still open after %.0f s" %
            READ_TIMEOUT, reply[:200])
    if got[0] != int(want):
        return "got %d, want %s: %r" % (got[0], want, got[2][:300])
    return check_problem(got, case)


# The HTTP library's own refusals (libmicrohttpd answers them before netnsd
# sees the request): openapi.yaml allows these statuses, with a short HTML
# body and no Content-Type or X-Request-Id. Every other error is netnsd's,
# a problem document.
LIBRARY_REFUSALS = (400, 414, 431, 505)


# libmicrohttpd 0.9.75 (Debian 12) garbles three of its own refusals: it
# sends the status line and headers twice, before netnsd sees anything. The
# status is still checked for them, and nothing may change; the doubled head
# is an upstream defect (fixed by the parser rewrite of libmicrohttpd 1.0).
UPSTREAM_DOUBLED_HEAD = {"240-http-no-host", "244-http-cl-negative",
                         "245-http-cl-overflow"}


def check_problem(got, case=None):
    status, headers, body = got[:3]
    if status < 400 or not body:
        return None
    ct = headers.get("content-type", "").split(";")[0].strip().lower()
    if body.startswith(b"HTTP/1.") and case in UPSTREAM_DOUBLED_HEAD:
        return None
    if body.startswith(b"HTTP/1."):
        return "the status line and headers were sent twice, so the body " \
               "the first head announces is the second head: %r" % body[:200]
    if "x-request-id" not in headers:
        if status not in LIBRARY_REFUSALS:
            return "a %d from the HTTP library itself (no X-Request-Id, " \
                   "Content-Type %r): openapi.yaml allows the library only " \
                   "%s; netnsd should answer it, as a problem document: " \
                   "%r" % (status, ct, "/".join(map(str, LIBRARY_REFUSALS)),
                           body[:200])
        if ct not in ("", "text/html") or \
                not body.lower().startswith(b"<html>"):
            return "the HTTP library's %d is not its short HTML page: %r" % (
                status, body[:200])
        return None
    if ct != "application/problem+json":
        return "a %d with a body must be application/problem+json, got " \
               "Content-Type %r: %r" % (status, ct, body[:200])
    try:
        p = json.loads(body)
    except ValueError as e:
        return "problem body is not JSON (%s): %r" % (e, body[:200])
    if not isinstance(p, dict) or p.get("status") != status:
        return "problem status %r differs from %d" % (
            p.get("status") if isinstance(p, dict) else p, status)
    for k in ("type", "title", "detail"):
        if not isinstance(p.get(k), str) or not p[k]:
            return "problem lacks %r: %r" % (k, p)
    return None


# ---------------------------------------------------------------------------

@test
def test_fixture_folder_is_complete():
    cases = load_fixtures()
    check(len(cases) >= MIN_CASES, "only %d fixtures (want at least %d)",
          len(cases), MIN_CASES)
    for name, data, want in cases:
        num, _, short = name.partition("-")
        check(len(num) == 3 and num.isdigit() and short,
              "fixture folder %r is not NNN-short-name", name)
        check(b"\r\n\r\n" in data,
              "%s: the request's head must end with CRLF CRLF", name)
        head = data.split(b"\r\n\r\n", 1)[0]
        check(b"\n" not in head.replace(b"\r\n", b""),
              "%s: bare LF in the request head (use CRLF)", name)


@test
def test_fixtures():
    cases = selected(load_fixtures())
    check(cases, "no fixture selected")
    d = h.daemon(log_level="info", args=["--max-body", str(MAX_BODY)])
    build_topology(d)
    before = stable_snapshot(d)
    failures = []
    first_change = None
    for name, data, want in cases:
        reply, closed = send(d.port, data, READ_TIMEOUT)
        why = judge(reply, closed, want, name)
        # Every answer is held to the document too.
        try:
            h.check_raw_exchange(
                data, reply,
                outside_contract="libmicrohttpd 0.9.75 doubles its own "
                "refusal's head" if name in UPSTREAM_DOUBLED_HEAD else None)
        except AssertionError as e:
            why = (why + "; " if why else "") + str(e)
        if why:
            failures.append("%s: %s" % (name, why))
        # Which fixture changed the desired state first (cheap to ask).
        if first_change is None and d.running():
            r = d.get("/v1/state")
            if r.status != 200 or r.body != before["state"]:
                first_change = name
                failures.append("%s: changed the desired state: %r" % (
                    name, r.body[:300]))
        if not d.running():
            failures.append("%s: netnsd died" % name)
            break
    check(d.running(), "netnsd is not running after the fixtures:\n%s",
          "\n".join(failures))
    r = d.get("/healthz")
    eq(r.status, 200, "GET /healthz after the fixtures")
    after = snapshot(d)
    changed = diff_snapshots(before, after)
    msg = []
    if failures:
        msg.append("%d of %d fixtures answered wrong:\n  %s" % (
            len(failures), len(cases), "\n  ".join(failures)))
    if changed:
        msg.append("the fixtures changed the kernel or the state:\n" +
                   changed)
    check(not msg, "\n".join(msg))


if __name__ == "__main__":
    h.run_tests()
