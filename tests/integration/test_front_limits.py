#!/usr/bin/python3
"""What a client costs netnsd before it is known:
a request without credentials is refused as soon as its headers are in, so
its body is never stored and 100 Continue is never sent; a connection that
does not finish its headers within --header-timeout is closed, and one still
waiting for its headers makes room for a newcomer when the connection table
is full.

Every test fails when the protection it is about is taken away: bodies
buffered before the token check grow the daemon by a mebibyte each, and
half-open connections hold the table until --connection-timeout."""

import os
import secrets
import select
import socket
import time

import harness as h
from harness import check, eq, expect_status, test

MIB = 1 << 20


def tmpdir():
    return h.tmpdir("netnsd-front-")


def token_daemon(extra=()):
    """A daemon with one bearer token; returns (daemon, token)."""
    tok = "nt-" + secrets.token_urlsafe(32)
    path = os.path.join(tmpdir(), "tokens")
    with open(path, "w") as f:
        f.write(tok + "\n")
    os.chmod(path, 0o600)
    d = h.daemon(start=False)
    d.start(extra_args=["--token-file", path] + list(extra))
    return d, tok


def proc_status_kib(pid, field):
    """A figure of /proc/PID/status in KiB (VmRSS, VmHWM)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, pid))


def connect(port, source=None, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    h.on_cleanup(s.close)
    if source:
        s.bind((source, 0))
    s.settimeout(timeout)
    s.connect((h.API_HOST, port))
    return s


def send_all_but_last(socks, total, deadline):
    """Sends total bytes of body but the last on every socket at once;
    a socket the server closed or reset is dropped. Returns how many
    sockets took the whole of it."""
    left = {s: total - 1 for s in socks}
    chunk = b"x" * 65536
    for s in socks:
        s.setblocking(False)
    done = 0
    while left and not deadline.expired():
        _, writable, _ = select.select([], list(left), [], 0.2)
        for s in writable:
            try:
                n = s.send(chunk[:min(len(chunk), left[s])])
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                del left[s]  # answered and closed: what is wanted
                continue
            left[s] -= n
            if not left[s]:
                del left[s]
                done += 1
    return done


def read_reply(s, timeout):
    """Bytes the server sends until it closes or goes quiet."""
    s.setblocking(True)
    s.settimeout(timeout)
    chunks = []
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
    except (socket.timeout, ConnectionResetError):
        pass
    return b"".join(chunks)


# ---------------------------------------------------------------------------
# Credentials before bodies

@test
def test_unauthenticated_bodies_are_not_buffered():
    """64 token-less clients each send a 1 MiB body (all but its last
    byte, so that nothing completes): netnsd must not grow by their
    bodies. Buffered before the token check, they cost 64 MiB or more."""
    n = 64
    d, _ = token_daemon(["--max-connections-per-ip", "1000"])
    pid = d.proc.pid
    eq(d.get("/healthz").status, 200, "probe")
    rss0 = proc_status_kib(pid, "VmRSS")
    hwm0 = proc_status_kib(pid, "VmHWM")
    socks = []
    for i in range(n):
        s = connect(d.port, source="127.0.0.%d" % (2 + i % 8))
        s.sendall(b"POST /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % MIB)
        socks.append(s)
    t = time.monotonic()
    whole = send_all_but_last(socks, MIB, h.Deadline(h.scaled(12)))
    time.sleep(0.3)  # let the daemon take in what is in flight
    rss1 = proc_status_kib(pid, "VmRSS")
    hwm1 = proc_status_kib(pid, "VmHWM")
    took = time.monotonic() - t
    # The answers, for those that could still read one.
    answers = [read_reply(s, 1)[:12] for s in socks[:4]]
    for s in socks:
        s.close()
    grew = max(hwm1 - hwm0, rss1 - rss0)
    print("  %d token-less 1 MiB bodies (%d sent whole) in %.1f s: "
          "VmRSS %d -> %d KiB, VmHWM %d -> %d KiB" % (
              n, whole, took, rss0, rss1, hwm0, hwm1))
    check(grew < 16 * 1024, "netnsd grew by %d KiB for %d token-less "
          "bodies of 1 MiB (want < 16 MiB: the bodies must not be "
          "stored before the token is checked)", grew, n)
    for a in answers:
        check(a in (b"", b"HTTP/1.1 401"), "a token-less client got %r", a)
    check(d.running(), "netnsd died")
    eq(h.netns_list(), [], "namespaces")


@test
def test_expect_100_continue_only_after_authentication():
    d, tok = token_daemon()
    body = b'{"name":"expect"}'
    head = ("POST /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n"
            "Expect: 100-continue\r\n" % (d.port, len(body))).encode()
    # No token: the 401 comes at once, and no 100 Continue before it.
    for what, extra in (("no token", b""),
                        ("a wrong token",
                         b"Authorization: Bearer nt-wrong\r\n")):
        s = connect(d.port)
        s.sendall(head + extra + b"\r\n")
        s.settimeout(h.scaled(3))
        try:
            first = s.recv(65536)
        except socket.timeout:
            first = b""
        rest = read_reply(s, h.scaled(2))
        s.close()
        reply = first + rest
        check(not reply.startswith(b"HTTP/1.1 100"),
              "%s: 100 Continue was sent before authentication: %r",
              what, reply[:200])
        eq(h.raw_status(reply), 401, "%s: status (reply %r)" % (
            what, reply[:200]))
        check(b"100 Continue" not in reply, "%s: %r", what, reply[:300])
        check(b"unauthorized" in reply, "%s: no problem document: %r",
              what, reply[:300])
        h.check_raw_exchange(head + extra + b"\r\n", reply)
    # With the token: 100 Continue, then the body, then 201.
    s = connect(d.port)
    s.sendall(head + b"Authorization: Bearer " + tok.encode() +
              b"\r\nConnection: close\r\n\r\n")
    s.settimeout(h.scaled(3))
    first = s.recv(65536)
    check(first.startswith(b"HTTP/1.1 100"),
          "an authenticated client got no 100 Continue: %r", first[:200])
    s.sendall(body)
    reply = read_reply(s, h.scaled(5))
    eq(h.raw_status(reply), 201, "status after 100 Continue (%r)" %
       reply[:200])
    eq(h.netns_list(), ["expect"], "namespaces")
    # Probes stay open without a token.
    eq(d.get("/healthz").status, 200, "GET /healthz without a token")
    eq(d.get("/readyz").status, 200, "GET /readyz without a token")


# ---------------------------------------------------------------------------
# Half-open connections

def half_open(port, n, sources):
    """n connections, spread over the source addresses, each with a
    request line begun and never finished."""
    socks = []
    for i in range(n):
        s = connect(port, source=sources[i % len(sources)])
        s.sendall(b"GET /v1/namesp")
        socks.append(s)
    return socks


def get_within(port, seconds, source=None):
    """Seconds a GET /v1/namespaces took to be answered 200 on a new
    connection, or None if it was not within `seconds`."""
    t = time.monotonic()
    try:
        s = connect(port, source=source, timeout=seconds)
        s.sendall(b"GET /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Connection: close\r\n\r\n")
        reply = read_reply(s, seconds)
        s.close()
    except OSError:
        return None
    took = time.monotonic() - t
    return took if h.raw_status(reply) == 200 and took < seconds else None


@test
def test_half_open_connections_do_not_shut_out_clients():
    """A table full of connections that never finish their headers, from
    several addresses: new clients are still served at once."""
    d = h.daemon(start=False)
    d.start(extra_args=["--max-connections", "24"])
    sources = ["127.0.0.%d" % i for i in range(10, 16)]
    held = half_open(d.port, 24, sources)
    time.sleep(0.5)  # accepted and counted
    for i in range(5):
        took = get_within(d.port, h.scaled(2))
        check(took is not None, "client %d was not served within %.0f s "
              "while 24 half-open connections filled --max-connections 24",
              i + 1, h.scaled(2))
    # More half-open ones keep coming: still served.
    held += half_open(d.port, 24, sources)
    time.sleep(0.3)
    check(get_within(d.port, h.scaled(2), source="127.0.0.20") is not None,
          "not served after a second wave of half-open connections")
    r = d.put("/v1/namespaces/room")
    expect_status(r, 201, "PUT with the table full of half-open "
                  "connections")
    eq(h.netns_list(), ["room"], "namespaces")
    check(d.running(), "netnsd died")


def wait_closed(s, timeout):
    """Seconds until the server closed s, or None."""
    t = time.monotonic()
    s.settimeout(timeout)
    try:
        while True:
            if not s.recv(4096):
                return time.monotonic() - t
    except socket.timeout:
        return None
    except ConnectionResetError:
        return time.monotonic() - t


@test
def test_header_timeout():
    """A connection that has not sent its headers within --header-timeout
    (here 2 s, from a --config file) is closed; one whose headers are in
    may take longer over its body (--connection-timeout, 30 s)."""
    cfg = os.path.join(tmpdir(), "netnsd.conf")
    with open(cfg, "w") as f:
        f.write("header-timeout = 2\n")
    d = h.daemon(start=False)
    d.start(extra_args=["--config", cfg])
    s = connect(d.port)
    s.sendall(b"GET /v1/namespaces HTT")
    slow_body = connect(d.port)
    body = b'{"name":"slowbody"}'
    slow_body.sendall(b"POST /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Connection: close\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body[:5])
    took = wait_closed(s, 2 + h.scaled(3))
    check(took is not None, "a connection without complete headers was "
          "still open after %.0f s with header-timeout = 2",
          2 + h.scaled(3))
    check(took > 1.5, "closed after %.2f s, before the timeout", took)
    time.sleep(1)
    slow_body.sendall(body[5:])
    reply = read_reply(slow_body, h.scaled(5))
    eq(h.raw_status(reply), 201, "a body sent over 3 s after its headers "
       "(reply %r)" % reply[:200])
    # A kept-alive connection waits for the next request's headers.
    k = connect(d.port)
    k.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    check(k.recv(4096).startswith(b"HTTP/1.1 200"), "no answer")
    took = wait_closed(k, 2 + h.scaled(3))
    check(took is not None and took > 1.5, "an idle kept-alive connection "
          "closed after %r s with header-timeout = 2", took)
    # The default (10 s) leaves such a connection open for 3 s.
    d.stop()
    d.start()
    s = connect(d.port)
    s.sendall(b"GET /v1/namespaces HTT")
    eq(wait_closed(s, 3), None, "half a request line, default timeout")


@test
def test_header_timeout_bad_values_refused():
    d = h.daemon(start=False)
    for v in ("0", "-1", "ten", "86401", ""):
        p = d.run_once(["--header-timeout", v])
        check(p.returncode not in (0, None), "--header-timeout %r was "
              "accepted", v)
        check("header-timeout" in p.stderr, "the refusal of %r should "
              "name the flag: %s", v, p.stderr)


if __name__ == "__main__":
    h.run_tests()
