#!/usr/bin/python3
"""Securing netnsd: bearer tokens, the refusal of an unguarded non-loopback
listener, unix sockets (mode, group, stale and live sockets, files in the
way), TLS and mutual TLS, CORS, connection and size limits (slowloris, idle
connections, per-IP and global limits, timeouts, header and body limits),
and --user (uid, capabilities of every thread, and that it still works).

Every test is written so that it fails when the protection it is about is
taken away. Certificates are made here with openssl, in a temporary folder;
the only non-loopback address is one put on a veth inside the sandbox."""

import atexit
import errno
import grp
import http.client
import json
import os
import pwd
import resource
import secrets
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import time
import warnings

import harness as h
from harness import check, eq, expect_problem, expect_status, test

CAP_NET_ADMIN = 12
CAP_SYS_ADMIN = 21
KEPT_CAPS = (1 << CAP_NET_ADMIN) | (1 << CAP_SYS_ADMIN)
TEST_USER = "netnsd-test"
# The one non-loopback address: on a veth made inside the sandbox.
OUTSIDE_ADDR = "198.18.5.1"


# ---------------------------------------------------------------------------
# Helpers (kept here: harness.py is shared)

def tmpdir(prefix="netnsd-sec-"):
    return h.tmpdir(prefix)


def write_file(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def new_token():
    return "nt-" + secrets.token_urlsafe(32)


def token_file(tokens, mode=0o600, extra=""):
    d = tmpdir()
    return write_file(os.path.join(d, "tokens"),
                      extra + "".join(t + "\n" for t in tokens), mode)


def bearer(tok):
    return {"Authorization": "Bearer " + tok}


def refused(p, *words):
    """Checks that a run_once() exited with a failure and said why."""
    check(p.returncode not in (0, None),
          "netnsd should have refused to start, exited %d:\n%s",
          p.returncode, p.stderr)
    text = (p.stdout + p.stderr).lower()
    for w in words:
        check(w.lower() in text, "the refusal should mention %r:\n%s", w,
              p.stderr)


def conn_request(conn, method, url, body=None, headers=None):
    """One request on an http.client connection, as a harness Response."""
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, url, body=body, headers=hdrs)
        r = conn.getresponse()
        return h.Response(r.status, r.reason, r.msg, r.read())
    finally:
        conn.close()


def unix_request(path, method, url, body=None, headers=None):
    return conn_request(h.UnixHTTPConnection(path, h.scaled(10)), method, url,
                        body, headers)


def https_request(port, ctx, method, url, body=None, headers=None,
                  host=h.API_HOST):
    conn = http.client.HTTPSConnection(host, port, context=ctx,
                                       timeout=h.scaled(10))
    return conn_request(conn, method, url, body, headers)


def start_with(d, extra, probe):
    """Starts a daemon whose 127.0.0.1 listener the harness cannot probe
    (TLS): waits until probe() answers 200."""
    d.spawn(extra)
    deadline = h.Deadline(h.scaled(10))
    last = None
    while not deadline.expired():
        if d.proc.poll() is not None:
            d.returncode, d.proc = d.proc.returncode, None
            raise h.StartError("netnsd exited with %d during start-up:\n%s"
                               % (d.returncode, d.log_tail()))
        try:
            r = probe()
            if r.status == 200:
                return d
            last = r
        except (OSError, http.client.HTTPException, ssl.SSLError) as e:
            last = e
        time.sleep(0.05)
    raise h.StartError("netnsd did not answer within 10 s (%r):\n%s" % (
        last, d.log_tail()))


def outside_address():
    """Puts OUTSIDE_ADDR on a veth in the sandbox's own namespace."""
    h.ip("link", "add", "sec0", "type", "veth", "peer", "name", "sec1")
    h.on_cleanup(lambda: h.ip("link", "del", "sec0", check=False))
    h.ip("addr", "add", OUTSIDE_ADDR + "/24", "dev", "sec0")
    h.ip("link", "set", "sec0", "up")
    h.ip("link", "set", "sec1", "up")
    return OUTSIDE_ADDR


def kernel_namespaces():
    return h.netns_list()


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(max(n, soft), hard), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    check(soft >= n, "RLIMIT_NOFILE %d is below the %d the test needs",
          soft, n)


def timed_get(port, path="/v1/namespaces", headers=None, host=h.API_HOST,
              timeout=None):
    t = time.monotonic()
    r = h.http_request(port, "GET", path, headers=headers, host=host,
                       timeout=timeout or h.scaled(5))
    return r, time.monotonic() - t


def wait_closed(sock, timeout):
    """Seconds until the peer closed the connection, or None if it stayed
    open for the whole timeout."""
    t = time.monotonic()
    sock.settimeout(timeout)
    try:
        while True:
            c = sock.recv(4096)
            if not c:
                return time.monotonic() - t
    except socket.timeout:
        return None
    except (ConnectionResetError, BrokenPipeError):
        return time.monotonic() - t


def ping(sock, timeout):
    """True if a keep-alive request on this connection is answered 200;
    the connection stays open (and counted) afterwards."""
    try:
        sock.settimeout(timeout)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        resp = http.client.HTTPResponse(sock, method="GET")
        resp.begin()
        resp.read()
        return resp.status == 200 and not resp.will_close
    except (ConnectionResetError, BrokenPipeError, socket.timeout,
            http.client.HTTPException):
        return False


def held_connections(port, n, source=None):
    """n open connections, each served once (so surely counted). The
    connections of the start-up probes may still count for a moment after
    they closed: a refused one is retried for a while."""
    socks = []
    deadline = h.Deadline(h.scaled(3))
    while len(socks) < n:
        s = idle_connections(port, 1, source=source)[0]
        if ping(s, h.scaled(3)):
            socks.append(s)
            continue
        s.close()
        check(not deadline.expired(), "only %d of %d connections from %s "
              "were served", len(socks), n, source or h.API_HOST)
        time.sleep(0.1)
    return socks


def served(sock, timeout):
    """True if a request on this connection is answered 200 within the
    timeout. Over a limit the daemon may close the connection, reset it, or
    leave it unaccepted in the backlog: none of them is served."""
    try:
        sock.settimeout(timeout)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Connection: close\r\n\r\n")
        return sock.recv(4096).startswith(b"HTTP/1.1 200")
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        return False


# ---------------------------------------------------------------------------
# Bearer tokens

@test
def test_token_required_everywhere_but_probes():
    tok, other = new_token(), new_token()
    tf = token_file([tok, other], extra="# operators' tokens\n\n")
    d = h.daemon(start=False)
    d.start(extra_args=["--token-file", tf])

    # The probes answer without credentials.
    for p in ("/healthz", "/readyz"):
        eq(d.get(p).status, 200, "GET %s without a token" % p)

    bad = {
        "no header": None,
        "wrong token": "Bearer " + new_token(),
        "prefix added": "Bearer x" + tok,
        "suffix added": "Bearer " + tok + "x",
        "one char short": "Bearer " + tok[:-1],
        "first char off": "Bearer " + chr(ord(tok[0]) ^ 1) + tok[1:],
        "token and more": "Bearer " + tok + " " + tok,
        "no scheme": tok,
        "basic scheme": "Basic " + tok,
        "scheme glued": "Bearer" + tok,
        "empty bearer": "Bearer ",
        "comment line": "Bearer # operators' tokens",
    }
    for what, value in bad.items():
        for method, path in (("GET", "/v1/namespaces"), ("GET", "/v1/state"),
                             ("GET", "/metrics"), ("GET", "/openapi.yaml")):
            hdrs = {"Authorization": value} if value is not None else None
            r = d.request(method, path, headers=hdrs)
            expect_problem(r, 401, "%s %s with %s" % (method, path, what))
            check((r.header("WWW-Authenticate") or "").lower()
                  .startswith("bearer"),
                  "401 without WWW-Authenticate: Bearer (%s): %r", what,
                  r.header("WWW-Authenticate"))

    # A mutation without the token does nothing.
    r = d.post("/v1/namespaces", {"name": "sneaky"})
    expect_problem(r, 401, "POST without a token")
    r = d.post("/v1/namespaces", {"name": "sneaky"},
               headers={"Authorization": "Bearer " + tok + "x"})
    expect_problem(r, 401, "POST with a token and a suffix")
    eq(kernel_namespaces(), [], "namespaces after refused POSTs")

    # The right token (either line of the file), any case of the scheme.
    for value in ("Bearer " + tok, "Bearer " + other, "bearer " + tok,
                  "BEARER " + tok, "bEaReR " + other):
        r = d.get("/v1/namespaces", headers={"Authorization": value})
        eq(r.status, 200, "GET with %r..." % value[:12])
    r = d.post("/v1/namespaces", {"name": "allowed"}, headers=bearer(tok))
    expect_status(r, 201, "POST with the token")
    eq(kernel_namespaces(), ["allowed"], "namespaces")


@test
def test_token_never_logged_nor_answered():
    tok = new_token()
    # Near misses are secrets too: a typo of the real token.
    near = [tok + "x", tok[:-1], "x" + tok]
    tf = token_file([tok])
    d = h.daemon(start=False, log_level="debug")
    d.start(extra_args=["--token-file", tf])
    answers = []

    def keep(r):
        answers.append(r.body)
        answers.append(str(r.headers).encode())
        return r

    for value in ["Bearer " + t for t in near] + ["Bearer " + tok,
                                                  "Basic " + tok, tok]:
        hdrs = {"Authorization": value}
        keep(d.get("/v1/namespaces", headers=hdrs))
        keep(d.get("/v1/namespaces/nope", headers=hdrs))
        keep(d.post("/v1/namespaces", {"name": "../x"}, headers=hdrs))
        keep(d.post("/v1/namespaces", "{bad json", headers=hdrs))
        keep(d.request("FROB", "/v1/state", headers=hdrs))
    keep(d.put("/v1/namespaces/t1", headers=bearer(tok)))
    metrics = keep(d.get("/metrics", headers=bearer(tok)))
    eq(metrics.status, 200, "GET /metrics with the token")
    keep(d.get("/v1/state", headers=bearer(tok)))
    d.stop()
    for name in os.listdir(d.state_dir):
        with open(os.path.join(d.state_dir, name), "rb") as f:
            answers.append(f.read())
    log = d.log_text()
    check("GET" in log and "/v1/namespaces" in log,
          "the debug log should record requests (else this test proves "
          "nothing):\n%s", log[-2000:])
    for secret in [tok] + near:
        check(secret not in log, "a token (or a near miss) is in the log")
        for a in answers:
            check(secret.encode() not in a,
                  "a token (or a near miss) is in an answer or the state: "
                  "%r", a[:300])
    # Nor any long run of it (a truncated or partly masked token).
    for i in range(0, len(tok) - 12):
        check(tok[i:i + 12] not in log, "part of the token is in the log")
        check(tok[i:i + 12].encode() not in metrics.body,
              "part of the token is in /metrics")


@test
def test_token_file_must_be_private():
    tok = new_token()
    d = h.daemon(start=False)
    # Anything for group or others is refused, and said in one line that
    # names the file, the mode and the fix.
    for mode in (0o640, 0o660, 0o620, 0o610, 0o604, 0o644, 0o606, 0o666,
                 0o602, 0o601):
        tf = token_file([tok], mode=mode)
        p = d.run_once(extra_args=["--token-file", tf])
        refused(p, "token-file", tf, "%04o" % mode, "chmod 600")
        eq(len(p.stderr.strip().splitlines()), 1,
           "one line for mode %o: %r" % (mode, p.stderr))
    # Owned by someone else (even private to them) is refused.
    tf = token_file([tok], mode=0o600)
    os.chown(tf, 12345, 12345)
    p = d.run_once(extra_args=["--token-file", tf])
    refused(p, "token-file", tf, "uid 12345", "chown")
    # Not a regular file: a directory, a FIFO (which must not hang
    # start-up waiting for a writer).
    for what, make in (("a directory", os.mkdir),
                       ("a FIFO", lambda path: os.mkfifo(path, 0o600))):
        path = os.path.join(tmpdir(), "tokens")
        make(path)
        os.chmod(path, 0o600)
        p = d.run_once(extra_args=["--token-file", path], timeout=5)
        refused(p, "token-file", path, "regular file")
    # The file is checked as opened, through a symlink too: a private
    # target is fine, a link to an open file is not.
    tf = token_file([tok], mode=0o644)
    link = os.path.join(tmpdir(), "tokens")
    os.symlink(tf, link)
    p = d.run_once(extra_args=["--token-file", link])
    refused(p, "token-file", "0644")

    # Private to root: 0600 and 0400.
    for mode in (0o600, 0o400):
        tf = token_file([tok], mode=mode)
        d.start(extra_args=["--token-file", tf])
        eq(d.get("/v1/namespaces", headers=bearer(tok)).status, 200,
           "GET with a %04o root-owned token file" % mode)
        expect_problem(d.get("/v1/namespaces"), 401, "GET without token")
        d.stop()


@test
def test_token_file_may_belong_to_the_user_of_user():
    """Tokens are read before --user drops privileges, so the file may be
    owned by that account (the user netnsd then runs as), and by no other
    account."""
    pw = ensure_user()
    tok = new_token()
    tf = token_file([tok], mode=0o600)
    os.chown(tf, pw.pw_uid, pw.pw_gid)
    d = h.daemon(start=False)
    p = d.run_once(extra_args=["--token-file", tf])
    refused(p, "token-file", "uid %d" % pw.pw_uid)
    # --user wants directories of its own (test_user_* below).
    give_netns_dir(pw)
    d = user_daemon(pw)
    d.start(extra_args=["--token-file", tf, "--user", TEST_USER])
    eq(d.get("/v1/namespaces", headers=bearer(tok)).status, 200,
       "GET with a token file owned by the --user account")
    d.stop()
    os.chown(tf, 12345, 12345)
    p = d.run_once(extra_args=["--token-file", tf, "--user", TEST_USER])
    refused(p, "token-file", "uid 12345")


@test
def test_token_file_without_tokens_refused():
    d = h.daemon(start=False)
    for what, text in (("empty", ""), ("blank lines", "\n\n  \n"),
                       ("comments only", "# nothing here\n#\n")):
        tf = token_file([], extra=text)
        p = d.run_once(extra_args=["--token-file", tf], timeout=3)
        refused(p, "token")
        check("no token" in p.stderr or "empty" in p.stderr,
              "an %s token file should be refused as holding no token: %s",
              what, p.stderr)
    p = d.run_once(extra_args=["--token-file", "/tmp/netnsd-no-such-file"])
    refused(p, "/tmp/netnsd-no-such-file")


@test
def test_token_file_whitespace_around_tokens():
    """A bearer token has no whitespace in it (RFC 6750 b64token), so blanks
    around a line are not part of the token: `echo "$TOKEN " > file` and a
    file with CRLF line ends both work."""
    t1, t2, t3 = new_token(), new_token(), new_token()
    tf = token_file([], extra="  %s  \n%s\t\r\n%s\r\n" % (t1, t2, t3))
    d = h.daemon(start=False)
    d.start(extra_args=["--token-file", tf])
    for t in (t1, t2, t3):
        eq(d.get("/v1/namespaces", headers=bearer(t)).status, 200,
           "GET with a token written with blanks around it")
    # Blanks around a field value are not part of it (RFC 9110, 5.5), in
    # the header as in the file: the same token, however it is padded.
    eq(d.get("/v1/namespaces", headers=bearer(t1 + " ")).status, 200,
       "a token with a trailing blank in the header")
    expect_problem(d.get("/v1/namespaces", headers=bearer(t1 + "x")), 401,
                   "a token with one more character")


# ---------------------------------------------------------------------------
# Non-loopback listeners

@test
def test_non_loopback_listener_needs_a_guard():
    addr = outside_address()
    port = h.free_port()
    spec = "%s:%d" % (addr, port)
    d = h.daemon(start=False)
    for listen in (spec, "0.0.0.0:%d" % port, "[::]:%d" % port):
        p = d.run_once(extra_args=["--listen", listen])
        refused(p, "loopback", "--token-file", "--insecure")
        # Refused before serving anything: nobody answers there.
        with socket.socket() as s:
            s.settimeout(1)
            check(s.connect_ex((addr, port)) != 0,
                  "something listens on %s after the refusal", listen)
    # With a token file: served there, with the token only.
    tok = new_token()
    d.start(extra_args=["--listen", spec, "--token-file", token_file([tok])])
    r = h.http_request(port, "GET", "/v1/namespaces", host=addr)
    expect_problem(r, 401, "GET on %s without the token" % spec)
    r = h.http_request(port, "GET", "/v1/namespaces", host=addr,
                       headers=bearer(tok))
    eq(r.status, 200, "GET on %s with the token" % spec)
    d.stop()

    # With --insecure: served there, without a token.
    d.start(extra_args=["--listen", spec, "--insecure"])
    r = h.http_request(port, "GET", "/v1/namespaces", host=addr)
    eq(r.status, 200, "GET on %s with --insecure" % spec)
    d.stop()

    # With TLS: served there over HTTPS only.
    p = pki()
    ctx = p.context()
    start_with(d, ["--listen", spec] + p.server_args(),
               lambda: https_request(port, ctx, "GET", "/healthz",
                                     host=addr))
    eq(https_request(port, ctx, "GET", "/v1/namespaces", host=addr).status,
       200, "HTTPS GET on %s" % spec)
    reply = h.raw_request(port, b"GET /v1/namespaces HTTP/1.1\r\n"
                          b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n",
                          host=addr,
                          timeout=h.scaled(3),
                          outside_contract="plaintext on a TLS port")
    check(b"items" not in reply, "plaintext served on %s: %r", spec, reply)


# ---------------------------------------------------------------------------
# Unix sockets

def sock_path(name="api.sock"):
    d = tmpdir()
    os.chmod(d, 0o755)
    return os.path.join(d, name)


def as_user(user, fn):
    """Runs fn() in a child process as user (uid, gid, groups); returns
    what it printed, a short text."""
    pw = pwd.getpwnam(user)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            out = fn()
        except BaseException as e:  # noqa: BLE001
            out = "exception %r" % e
        os.write(w, str(out).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while True:
        c = os.read(r, 4096)
        if not c:
            break
        data += c
    os.close(r)
    os.waitpid(pid, 0)
    return data.decode()


def try_unix(path):
    try:
        r = unix_request(path, "GET", "/v1/namespaces")
        return "status %d" % r.status
    except PermissionError:
        return "EACCES"
    except OSError as e:
        return "error %s" % errno.errorcode.get(e.errno, e.errno)


@test
def test_unix_socket_default_mode_and_api():
    path = sock_path()
    d = h.daemon(start=False)
    d.start(extra_args=["--listen", "unix:" + path])
    st = os.lstat(path)
    check(stat.S_ISSOCK(st.st_mode), "%s is not a socket", path)
    eq(oct(stat.S_IMODE(st.st_mode)), oct(0o660), "default socket mode")
    eq(st.st_gid, 0, "default socket group")
    r = unix_request(path, "GET", "/v1/namespaces")
    eq(r.status, 200, "GET over the unix socket")
    r = unix_request(path, "POST", "/v1/namespaces", {"name": "viaunix"})
    expect_status(r, 201, "POST over the unix socket")
    eq(kernel_namespaces(), ["viaunix"], "namespaces")
    # Others may not connect at all (0660, root:root).
    eq(as_user("nobody", lambda: try_unix(path)), "EACCES",
       "nobody connecting to a 0660 root:root socket")


@test
def test_unix_socket_mode_and_group():
    group = "nogroup"
    gid = grp.getgrnam(group).gr_gid
    check(pwd.getpwnam("nobody").pw_gid == gid,
          "this test wants nobody's primary group to be nogroup")
    path = sock_path()
    d = h.daemon(start=False)
    d.start(extra_args=["--listen", "unix:" + path, "--socket-mode", "0660",
                        "--socket-group", group])
    st = os.lstat(path)
    eq(oct(stat.S_IMODE(st.st_mode)), oct(0o660), "socket mode")
    eq(st.st_gid, gid, "socket group")
    # A member of the group gets in.
    eq(as_user("nobody", lambda: try_unix(path)), "status 200",
       "nobody (group nogroup) on a 0660 root:nogroup socket")
    d.stop()

    d.start(extra_args=["--listen", "unix:" + path, "--socket-mode", "0600",
                        "--socket-group", group])
    st = os.lstat(path)
    eq(oct(stat.S_IMODE(st.st_mode)), oct(0o600), "socket mode 0600")
    eq(st.st_gid, gid, "socket group")
    eq(as_user("nobody", lambda: try_unix(path)), "EACCES",
       "nobody on a 0600 socket")
    eq(unix_request(path, "GET", "/healthz").status, 200, "root on it")
    d.stop()

    p = d.run_once(extra_args=["--listen", "unix:" + sock_path(),
                               "--socket-group", "no-such-group-here"])
    refused(p, "no-such-group-here")


@test
def test_unix_socket_stale_replaced_live_refused():
    path = sock_path()
    # A stale socket: bound, then its process went away.
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.close()
    eq(try_unix(path), "error ECONNREFUSED", "the stale socket")
    d1 = h.daemon(start=False)
    d1.start(extra_args=["--listen", "unix:" + path])
    eq(unix_request(path, "GET", "/healthz").status, 200, "GET over it")

    # A live one: d1 serves it; a second daemon must leave it alone.
    ino = os.lstat(path).st_ino
    d2 = h.daemon(start=False)
    p = d2.run_once(extra_args=["--listen", "unix:" + path],
                    timeout=h.scaled(5))
    refused(p, path)
    eq(os.lstat(path).st_ino, ino, "the live socket's inode")
    r = unix_request(path, "GET", "/readyz")
    eq(r.status, 200, "d1 still answers on its socket")
    check(d1.running(), "d1 died")


@test
def test_unix_socket_path_taken_by_a_file():
    d = h.daemon(start=False)
    # A regular file with something in it.
    path = sock_path("precious")
    write_file(path, "precious data\n", 0o644)
    p = d.run_once(extra_args=["--listen", "unix:" + path])
    refused(p, path)
    with open(path) as f:
        eq(f.read(), "precious data\n", "the file's content")
    check(stat.S_ISREG(os.lstat(path).st_mode), "no longer a regular file")
    eq(oct(stat.S_IMODE(os.lstat(path).st_mode)), oct(0o644), "file mode")

    # A symlink to a file elsewhere: neither is touched.
    victim = os.path.join(tmpdir(), "victim")
    write_file(victim, "victim\n", 0o644)
    link = sock_path("link.sock")
    os.symlink(victim, link)
    p = d.run_once(extra_args=["--listen", "unix:" + link])
    refused(p, link)
    check(os.path.islink(link), "the symlink was removed")
    with open(victim) as f:
        eq(f.read(), "victim\n", "the symlink's target")
    eq(oct(stat.S_IMODE(os.stat(victim).st_mode)), oct(0o644),
       "the target's mode")

    # A directory.
    dpath = sock_path("dir.sock")
    os.mkdir(dpath)
    p = d.run_once(extra_args=["--listen", "unix:" + dpath])
    refused(p, dpath)
    check(os.path.isdir(dpath), "the directory was removed")


@test
def test_several_listeners_at_once():
    path = sock_path()
    port6 = h.free_port()
    port4 = h.free_port()
    d = h.daemon(start=False)
    d.start(extra_args=["--listen", "[::1]:%d" % port6,
                        "--listen", "unix:" + path,
                        "--listen", "127.0.0.1:%d" % port4])
    eq(d.get("/v1/namespaces").status, 200, "first TCP listener")
    eq(h.http_request(port4, "GET", "/v1/namespaces").status, 200,
       "second TCP listener")
    conn = http.client.HTTPConnection("::1", port6, timeout=h.scaled(5))
    eq(conn_request(conn, "GET", "/v1/namespaces").status, 200, "[::1]")
    r = unix_request(path, "PUT", "/v1/namespaces/multi")
    expect_status(r, 201, "PUT over the unix socket")
    eq(d.get("/v1/namespaces/multi").status, 200, "seen over TCP")


# ---------------------------------------------------------------------------
# TLS

class PKI:
    """A throwaway CA, a server certificate for 127.0.0.1 and client
    certificates; and a second, unrelated CA with its own client."""

    def __init__(self):
        if not shutil.which("openssl"):
            raise AssertionError("openssl is needed (apt-get install openssl)")
        # Made once for the whole file, removed at exit.
        self.dir = tempfile.mkdtemp(prefix="netnsd-pki-", dir="/tmp")
        atexit.register(shutil.rmtree, self.dir, True)
        self.ca = self._ca("ca", "netnsd test CA")
        self.server = self._leaf("server", "ca", "127.0.0.1",
                                 "subjectAltName=IP:127.0.0.1,IP:%s\n"
                                 % OUTSIDE_ADDR +
                                 "extendedKeyUsage=serverAuth\n")
        self.client = self._leaf("client", "ca", "dashboard",
                                 "extendedKeyUsage=clientAuth\n")
        self.rogue_ca = self._ca("rogue", "netnsd test CA")  # same name!
        self.rogue = self._leaf("rogueclient", "rogue", "dashboard",
                                "extendedKeyUsage=clientAuth\n")
        # Self-signed, with the name of the good client.
        self.selfsigned = self._ca("selfsigned", "dashboard")
        # From the right CA but not made for clients: none of them may
        # log in (the server's own certificate is one of them); one with no
        # extended key usage at all may serve any purpose (RFC 5280).
        self.codesigner = self._leaf("codesigner", "ca", "dashboard",
                                     "extendedKeyUsage=codeSigning\n")
        self.noeku = self._leaf("noeku", "ca", "dashboard",
                                "basicConstraints=CA:FALSE\n")

    def _run(self, *args):
        h.run(["openssl"] + list(args), timeout=60)

    def path(self, name, ext):
        return os.path.join(self.dir, "%s.%s" % (name, ext))

    def _ca(self, name, cn):
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                  "-subj", "/CN=" + cn, "-keyout", self.path(name, "key"),
                  "-out", self.path(name, "pem"),
                  "-addext", "basicConstraints=critical,CA:TRUE",
                  "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return (self.path(name, "pem"), self.path(name, "key"))

    def _leaf(self, name, ca, cn, ext):
        csr = self.path(name, "csr")
        extfile = write_file(self.path(name, "ext"), ext)
        self._run("req", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                  "/CN=" + cn, "-keyout", self.path(name, "key"), "-out", csr)
        self._run("x509", "-req", "-in", csr, "-CA", self.path(ca, "pem"),
                  "-CAkey", self.path(ca, "key"), "-set_serial",
                  str(secrets.randbits(60)), "-days", "2", "-extfile",
                  extfile, "-out", self.path(name, "pem"))
        return (self.path(name, "pem"), self.path(name, "key"))

    def server_args(self, client_ca=False):
        a = ["--tls-cert", self.server[0], "--tls-key", self.server[1]]
        if client_ca:
            a += ["--tls-client-ca", self.ca[0]]
        return a

    def context(self, cert=None):
        ctx = ssl.create_default_context(cafile=self.ca[0])
        if cert:
            ctx.load_cert_chain(cert[0], cert[1])
        return ctx


_PKI = None


def pki():
    global _PKI
    if _PKI is None:
        _PKI = PKI()
    return _PKI


def https_refused(port, ctx, path="/v1/namespaces", method="GET",
                  body=None):
    """Sends one request over TLS with ctx; returns how it was refused
    ("handshake: ..." or "401"), or fails if it was served."""
    try:
        r = https_request(port, ctx, method, path, body=body)
    except (ssl.SSLError, ConnectionError, http.client.HTTPException) as e:
        return "handshake: %s" % e.__class__.__name__
    except OSError as e:
        return "refused: %s" % e
    if r.status == 401:
        expect_problem(r, 401, "refused client")
        return "401"
    raise h.Failure("a client without the right certificate was served: %r"
                    % r)


@test
def test_tls():
    p = pki()
    ctx = p.context()
    d = h.daemon(start=False)
    start_with(d, p.server_args(),
               lambda: https_request(d.port, ctx, "GET", "/healthz"))
    r = https_request(d.port, ctx, "GET", "/v1/namespaces")
    eq(r.status, 200, "HTTPS GET")
    r = https_request(d.port, ctx, "PUT", "/v1/namespaces/overtls")
    expect_status(r, 201, "HTTPS PUT")
    # The certificate served is ours, for 127.0.0.1.
    with socket.create_connection((h.API_HOST, d.port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname=h.API_HOST) as t:
            cert = t.getpeercert()
    eq(cert.get("subjectAltName"), (("IP Address", "127.0.0.1"),
                                    ("IP Address", OUTSIDE_ADDR)), "SAN")
    # A client that trusts another CA does not get through.
    other = ssl.create_default_context(cafile=p.rogue_ca[0])
    try:
        https_request(d.port, other, "GET", "/healthz")
        raise h.Failure("a client trusting another CA completed TLS")
    except ssl.SSLCertVerificationError:
        pass

    # Plain HTTP to the TLS port: no answer served, nothing done.
    for req in (b"GET /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Connection: close\r\n\r\n",
                b"PUT /v1/namespaces/plain HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Connection: close\r\n\r\n"):
        reply = h.raw_request(d.port, req, timeout=h.scaled(3))
        check(h.raw_status(reply) not in range(200, 300),
              "plaintext HTTP on the TLS port was served: %r", reply[:200])
        check(b"items" not in reply, "plaintext got data: %r", reply[:200])
    eq(kernel_namespaces(), ["overtls"], "namespaces")
    check(d.running(), "netnsd died of plaintext on its TLS port")

    # A unix socket next to it stays plain (guarded by its mode).
    d.stop()
    path = sock_path()
    start_with(d, p.server_args() + ["--listen", "unix:" + path],
               lambda: https_request(d.port, ctx, "GET", "/healthz"))
    eq(unix_request(path, "GET", "/v1/namespaces").status, 200,
       "plain HTTP on the unix socket next to TLS")


@test
def test_mutual_tls():
    p = pki()
    good = p.context(p.client)
    d = h.daemon(start=False)
    start_with(d, p.server_args(client_ca=True),
               lambda: https_request(d.port, good, "GET", "/healthz"))
    eq(https_request(d.port, good, "GET", "/v1/namespaces").status, 200,
       "client with a certificate from the CA")
    for what, ctx in (("no certificate", p.context()),
                      ("certificate from another CA of the same name",
                       p.context(p.rogue)),
                      ("self-signed certificate with the client's name",
                       p.context(p.selfsigned))):
        how = https_refused(d.port, ctx)
        check(how, "%s: %s", what, how)
        https_refused(d.port, ctx, "/v1/namespaces/mtls-bad", "PUT")
        https_refused(d.port, ctx, "/v1/namespaces", "POST",
                      {"name": "mtls-bad"})
    eq(kernel_namespaces(), [], "namespaces after refused clients")
    r = https_request(d.port, good, "PUT", "/v1/namespaces/mtls-ok")
    expect_status(r, 201, "PUT with the right certificate")
    eq(kernel_namespaces(), ["mtls-ok"], "namespaces")


@test
def test_mutual_tls_client_purpose():
    """A certificate from the CA logs a client in only if it was made for
    client authentication: the server's own certificate (serverAuth) and a
    code-signing one are refused; one with no extended key usage at all is
    taken, as RFC 5280 says (README, Security)."""
    p = pki()
    d = h.daemon(start=False)
    good = p.context(p.client)
    start_with(d, p.server_args(client_ca=True),
               lambda: https_request(d.port, good, "GET", "/healthz"))
    for what, cert in (("the server's certificate", p.server),
                       ("a code-signing certificate", p.codesigner)):
        ctx = p.context(cert)
        how = https_refused(d.port, ctx)
        check(how, "%s: %s", what, how)
        https_refused(d.port, ctx, "/v1/namespaces/eku-bad", "PUT")
    eq(kernel_namespaces(), [], "namespaces after refused clients")
    r = https_request(d.port, good, "PUT", "/v1/namespaces/eku-ok")
    expect_status(r, 201, "PUT with a clientAuth certificate")
    r = https_request(d.port, p.context(p.noeku), "GET", "/v1/namespaces")
    eq(r.status, 200, "GET with a certificate without extended key usage")
    eq(kernel_namespaces(), ["eku-ok"], "namespaces")


def tls_handshake(port, version, ciphers=None):
    """(protocol, cipher) a client limited to one TLS version (and
    ciphers, in OpenSSL's names) agrees with netnsd, or "refused: ..."."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki().ca[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0/1.1
        ctx.minimum_version = ctx.maximum_version = version
    # Security level 0: this client offers what OpenSSL would not.
    ctx.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
    try:
        with socket.create_connection((h.API_HOST, port),
                                      timeout=h.scaled(5)) as s:
            with ctx.wrap_socket(s, server_hostname=h.API_HOST) as t:
                return t.version(), t.cipher()[0]
    except (ssl.SSLError, ConnectionError) as e:
        return "refused: %s" % e.__class__.__name__


V = ssl.TLSVersion


@test
def test_tls_versions_and_ciphers():
    """TLS 1.2 and 1.3 with AEAD ciphers only, unless --tls-priority says
    otherwise; a priority string GnuTLS does not take stops start-up."""
    p = pki()
    ctx = p.context()
    d = h.daemon(start=False)
    start_with(d, p.server_args(),
               lambda: https_request(d.port, ctx, "GET", "/healthz"))
    eq(tls_handshake(d.port, V.TLSv1_3)[0], "TLSv1.3", "TLS 1.3")
    for cipher in ("ECDHE-ECDSA-AES128-GCM-SHA256",
                   "ECDHE-ECDSA-AES256-GCM-SHA384",
                   "ECDHE-ECDSA-CHACHA20-POLY1305"):
        eq(tls_handshake(d.port, V.TLSv1_2, cipher), ("TLSv1.2", cipher),
           "TLS 1.2 with " + cipher)
    for what, version, cipher in (
            ("TLS 1.0", V.TLSv1, None),
            ("TLS 1.1", V.TLSv1_1, None),
            ("TLS 1.2 with CBC and SHA-1", V.TLSv1_2,
             "ECDHE-ECDSA-AES128-SHA"),
            ("TLS 1.2 with CBC and SHA-256", V.TLSv1_2,
             "ECDHE-ECDSA-AES128-SHA256")):
        got = tls_handshake(d.port, version, cipher)
        check(str(got).startswith("refused"), "%s was agreed: %r",
              what, got)
    eq(https_request(d.port, ctx, "GET", "/v1/namespaces").status, 200,
       "HTTPS GET")
    d.stop()

    # The operator's priority string replaces the default.
    start_with(d, p.server_args() + [
        "--tls-priority", "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1"],
        lambda: https_request(d.port, ctx, "GET", "/healthz"))
    check(str(tls_handshake(d.port, V.TLSv1_3)).startswith("refused"),
          "TLS 1.3 was agreed with --tls-priority without it")
    eq(tls_handshake(d.port, V.TLSv1_1)[0], "TLSv1.1",
       "TLS 1.1 allowed by --tls-priority")
    d.stop()

    for bad in ("NORMAL:+NO-SUCH-THING", "", "SECURE128:-VERS-ALL:+"):
        r = d.run_once(p.server_args() + ["--tls-priority", bad])
        refused(r, "--tls-priority")
        if bad:
            check("priority" in r.stderr.lower(), "%s", r.stderr)
    refused(d.run_once(["--tls-priority", "NORMAL"]), "--tls-priority",
            "--tls-cert")


# ---------------------------------------------------------------------------
# CORS

DASH = "https://dash.example"
DASH2 = "http://localhost:3000"


def cors_headers(r):
    return {k.lower(): v for k, v in r.headers.items()
            if k.lower().startswith("access-control-")}


@test
def test_cors():
    tok = new_token()
    d = h.daemon(start=False)
    d.start(extra_args=["--cors-origin", DASH, "--cors-origin", DASH2,
                        "--token-file", token_file([tok])])
    pre = {"Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization, content-type"}

    # Preflight from an allowed origin, without credentials (browsers
    # send none on a preflight).
    for origin in (DASH, DASH2):
        r = d.request("OPTIONS", "/v1/namespaces",
                      headers=dict(pre, Origin=origin))
        check(r.status in (200, 204), "preflight from %s: %r", origin, r)
        c = cors_headers(r)
        eq(c.get("access-control-allow-origin"), origin, "Allow-Origin")
        methods = {m.strip() for m in
                   c.get("access-control-allow-methods", "").split(",")}
        check({"GET", "POST"} <= methods, "Allow-Methods %r",
              c.get("access-control-allow-methods"))
        allowed = {x.strip().lower() for x in
                   c.get("access-control-allow-headers", "").split(",")}
        check({"authorization", "content-type"} <= allowed,
              "Allow-Headers %r", c.get("access-control-allow-headers"))
        check("origin" in (r.header("Vary") or "").lower(),
              "preflight without Vary: Origin: %r", r.headers)
    r = d.request("OPTIONS", "/v1/namespaces/red/links/va",
                  headers=dict(pre, Origin=DASH))
    methods = cors_headers(r).get("access-control-allow-methods", "")
    check("PATCH" in methods and "DELETE" in methods,
          "Allow-Methods for a link: %r", methods)

    # Other origins are refused (403, no CORS header), preflight or not,
    # token or not (test_origin.py has more).
    for origin in ("https://evil.example", DASH + ".evil.example",
                   DASH[:-1], DASH + ":443", "http://dash.example",
                   "null", "*"):
        r = d.request("OPTIONS", "/v1/namespaces",
                      headers=dict(pre, Origin=origin))
        expect_problem(r, 403, "preflight from %r" % origin)
        eq(cors_headers(r), {}, "preflight from %r" % origin)
        r = d.get("/v1/namespaces", headers=dict(bearer(tok), Origin=origin))
        expect_problem(r, 403, "GET from %r" % origin)
        eq(cors_headers(r), {}, "GET from %r" % origin)

    # A real request from an allowed origin: Allow-Origin and Vary.
    r = d.get("/v1/namespaces", headers=dict(bearer(tok), Origin=DASH))
    eq(r.status, 200, "GET from the dashboard")
    eq(r.header("Access-Control-Allow-Origin"), DASH, "Allow-Origin")
    check("origin" in (r.header("Vary") or "").lower(),
          "GET without Vary: Origin: %r", r.headers)
    check(r.header("Access-Control-Allow-Credentials") in (None, "true"),
          "odd Allow-Credentials")
    # A preflight is no way around the token.
    r = d.request("OPTIONS", "/v1/namespaces", headers={"Origin": DASH})
    check("items" not in r.body.decode("latin-1"), "OPTIONS leaked data")
    r = d.post("/v1/namespaces", {"name": "corsy"}, headers={"Origin": DASH})
    expect_problem(r, 401, "POST from the dashboard without a token")
    eq(kernel_namespaces(), [], "namespaces")


@test
def test_no_cors_without_cors_origin():
    d = h.daemon()
    r = d.request("OPTIONS", "/v1/namespaces", headers={
        "Origin": DASH, "Access-Control-Request-Method": "DELETE"})
    expect_problem(r, 403, "preflight with no --cors-origin")
    eq(cors_headers(r), {}, "preflight with no --cors-origin")
    r = d.get("/v1/namespaces", headers={"Origin": DASH})
    expect_problem(r, 403, "GET with no --cors-origin")
    eq(cors_headers(r), {}, "GET with no --cors-origin")


# ---------------------------------------------------------------------------
# Limits

class Slowloris(threading.Thread):
    """Dribbles a request's headers one byte at a time, `interval` apart,
    on `n` connections, until stopped."""

    def __init__(self, port, n=1, interval=1.0):
        super().__init__(daemon=True)
        self.port, self.n, self.interval = port, n, interval
        self.stop_ev = threading.Event()
        self.socks = []
        self.sent = 0
        self.closed_at = {}
        self.start_time = None

    def run(self):
        head = (b"GET /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                b"X-Slow: " + b"s" * 4000 + b"\r\n")
        for _ in range(self.n):
            self.socks.append(socket.create_connection(
                (h.API_HOST, self.port), timeout=5))
        self.start_time = time.monotonic()
        i = 0
        while not self.stop_ev.is_set() and i < len(head):
            for k, s in enumerate(self.socks):
                if k in self.closed_at:
                    continue
                try:
                    s.send(head[i:i + 1])
                except OSError:
                    self.closed_at[k] = time.monotonic() - self.start_time
            i += 1
            self.sent = i
            self.stop_ev.wait(self.interval)

    def stop(self):
        self.stop_ev.set()
        self.join(5)
        for s in self.socks:
            s.close()


def idle_connections(port, n, host=h.API_HOST, source=None):
    socks = []
    h.on_cleanup(lambda: [s.close() for s in socks])
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if source:
            s.bind((source, 0))
        s.settimeout(5)
        s.connect((host, port))
        socks.append(s)
    return socks


@test
def test_slowloris_and_idle_connections_do_not_block_others():
    raise_nofile(1200)
    d = h.daemon(start=False)
    d.start(extra_args=["--max-connections", "2000",
                        "--max-connections-per-ip", "2000"])
    slow = Slowloris(d.port, n=8, interval=1.0)
    slow.start()
    h.on_cleanup(slow.stop)
    idle = idle_connections(d.port, 1000)
    # A few of them half way through a request.
    for s in idle[:50]:
        s.send(b"POST /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Le")
    for s in idle[50:100]:
        s.send(b"POST /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/json\r\nContent-Length: 100\r\n"
               b"\r\n{\"na")
    worst = 0
    deadline = h.Deadline(4)
    n = 0
    while not deadline.expired():
        r, took = timed_get(d.port)
        eq(r.status, 200, "GET while 1000 connections idle")
        worst = max(worst, took)
        r, took = timed_get(d.port, "/healthz")
        worst = max(worst, took)
        n += 1
        time.sleep(0.1)
    r = d.put("/v1/namespaces/busy")
    expect_status(r, 201, "PUT while 1000 connections idle")
    check(worst < h.scaled(1), "a request took %.2f s with 1000 idle "
          "connections and a slowloris (want < %.1f s)", worst, h.scaled(1))
    check(slow.sent >= 3 and not slow.closed_at,
          "the slowloris should still be connected (else this proves "
          "nothing): sent %d, closed %r", slow.sent, slow.closed_at)


@test
def test_slow_headers_dropped_after_timeout():
    """--connection-timeout bounds a slow client too, not only an idle
    one: headers dribbled a byte a second never finish in time."""
    d = h.daemon(start=False)
    d.start(extra_args=["--connection-timeout", "2"])
    slow = Slowloris(d.port, n=1, interval=0.5)
    slow.start()
    h.on_cleanup(slow.stop)
    limit = 2 * 2 + 2
    h.wait_until(lambda: slow.closed_at or
                 (slow.start_time and
                  time.monotonic() - slow.start_time > limit + 1),
                 timeout=limit + 5, what="the slowloris end")
    check(slow.closed_at, "a client sending its headers a byte every 0.5 s "
          "was still connected after %d s with --connection-timeout 2 "
          "(sent %d bytes)", limit, slow.sent)
    eq(d.get("/healthz").status, 200, "GET /healthz")


@test
def test_per_ip_connection_limit():
    d = h.daemon(start=False)
    d.start(extra_args=["--max-connections-per-ip", "5",
                        "--max-connections", "100"])
    held = held_connections(d.port, 5)
    extra = idle_connections(d.port, 1)[0]
    check(not served(extra, 1.5),
          "a 6th connection from 127.0.0.1 was served with a limit of 5")
    # Another address is not affected.
    other = idle_connections(d.port, 1, source="127.0.0.2")[0]
    check(served(other, h.scaled(3)),
          "a connection from 127.0.0.2 was not served")
    # Once one is let go, 127.0.0.1 is served again.
    held[0].close()
    time.sleep(0.3)
    r = h.wait_until(lambda: _get_ok(d.port), timeout=h.scaled(3),
                     what="a free slot for 127.0.0.1")
    check(r, "not served after a connection closed")


def _get_ok(port):
    try:
        return h.http_request(port, "GET", "/healthz",
                              timeout=h.scaled(2)).status == 200
    except (OSError, http.client.HTTPException):
        return False


@test
def test_global_connection_limit():
    d = h.daemon(start=False)
    d.start(extra_args=["--max-connections", "6"])
    held = held_connections(d.port, 3)
    held += held_connections(d.port, 3, source="127.0.0.3")
    # Each with a request in hand (headers in, body still coming): one
    # waiting for its headers would make room (test_front_limits.py).
    for s in held:
        s.sendall(b"POST /v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{")
    time.sleep(0.3)
    extra = idle_connections(d.port, 1, source="127.0.0.4")[0]
    check(not served(extra, 1.5),
          "a 7th connection was served with --max-connections 6")
    for s in held:
        s.close()
    h.wait_until(lambda: _get_ok(d.port), timeout=h.scaled(3),
                 what="served again")


@test
def test_idle_connection_timeout():
    d = h.daemon(start=False)
    d.start(extra_args=["--connection-timeout", "2"])
    s = idle_connections(d.port, 1)[0]
    took = wait_closed(s, 2 + h.scaled(3))
    check(took is not None, "an idle connection was not closed within "
          "%.0f s with --connection-timeout 2", 2 + h.scaled(3))
    check(took > 1.5, "closed after %.2f s, before the timeout", took)
    # A kept-alive connection, idle after one answer, goes the same way.
    s = idle_connections(d.port, 1)[0]
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    s.settimeout(3)
    check(s.recv(4096).startswith(b"HTTP/1.1 200"), "no answer")
    took = wait_closed(s, 2 + h.scaled(3))
    check(took is not None, "a kept-alive connection was not closed")
    # Without the flag (default 30 s) it is still open after 3 s.
    d.stop()
    d.start()
    s = idle_connections(d.port, 1)[0]
    eq(wait_closed(s, 3), None, "idle connection with the default timeout")


@test
def test_header_size_limit():
    d = h.daemon(start=False)
    d.start(extra_args=["--max-header-size", "4096"])
    for what, hdrs in (
            ("one 16 KiB header", {"X-Big": "b" * 16384}),
            ("many headers", [("X-H%d" % i, "v" * 20) for i in range(400)]),
            ("a 16 KiB URL", None)):
        path = "/v1/namespaces" if hdrs else "/v1/" + "u" * 16384
        try:
            r = h.http_request(d.port, "GET", path, headers=hdrs,
                               timeout=h.scaled(5))
            check(r.status in (413, 414, 431), "%s: %r", what, r)
        except (ConnectionError, http.client.HTTPException):
            pass  # closed without an answer: also a refusal
        eq(d.get("/v1/namespaces").status, 200, "GET after %s" % what)
    # Below the limit is fine.
    r = d.get("/v1/namespaces", headers={"X-Small": "s" * 1000})
    eq(r.status, 200, "GET with a 1000-byte header")
    check(d.running(), "netnsd died")


@test
def test_body_size_limit():
    d = h.daemon(start=False)
    d.start(extra_args=["--max-body", "100"])
    pad = "p" * 200
    r = d.post("/v1/namespaces", '{"name":"big","x":"%s"}' % pad)
    expect_problem(r, 413, "POST with a 220-byte body")
    r = d.post("/v1/namespaces", '{"name":"big","x":"%s"}' % pad,
               chunked=True)
    expect_problem(r, 413, "chunked POST with a 220-byte body")
    eq(kernel_namespaces(), [], "namespaces after refused bodies")
    # Exactly 100 bytes is allowed.
    body = '{"name":"ok"}'
    body = body + " " * (100 - len(body))
    r = d.post("/v1/namespaces", body)
    expect_status(r, 201, "POST with a 100-byte body")
    eq(kernel_namespaces(), ["ok"], "namespaces")
    eq(d.get("/healthz").status, 200, "GET /healthz")


# ---------------------------------------------------------------------------
# --user

def ensure_user():
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        h.run(["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", TEST_USER])
        return pwd.getpwnam(TEST_USER)


def caps(status):
    return {k: int(status[k], 16) for k in
            ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def user_root(pw):
    """A 0755 folder for a --user daemon's directories: the user must be
    able to reach them, and a mkdtemp folder is 0700."""
    d = tmpdir("netnsd-user-")
    os.chmod(d, 0o755)
    return d


def user_daemon(pw, state_dir=None, netns_dir=h.NETNS_DIR):
    """A Daemon whose state directory does not exist yet (netnsd makes it
    and gives it to the user) unless state_dir says otherwise."""
    if state_dir is None:
        state_dir = os.path.join(user_root(pw), "state")
    if netns_dir != h.NETNS_DIR:
        h.on_cleanup(lambda: h.simulate_reboot(netns_dir))
    return h.daemon(start=False, state_dir=state_dir, netns_dir=netns_dir)


def give_netns_dir(pw):
    """Hands /run/netns to the user, as an operator would who means it
    (netnsd itself never gives away a directory it did not create)."""
    os.makedirs(h.NETNS_DIR, exist_ok=True)
    st = os.stat(h.NETNS_DIR)
    os.chown(h.NETNS_DIR, pw.pw_uid, pw.pw_gid)
    h.on_cleanup(lambda: os.chown(h.NETNS_DIR, st.st_uid, st.st_gid))


def owner(path):
    st = os.lstat(path)
    return (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))


@test
def test_user_drops_privileges_and_still_works():
    pw = ensure_user()
    give_netns_dir(pw)
    d = user_daemon(pw)
    d.start(extra_args=["--user", TEST_USER])
    pid = d.proc.pid
    tasks = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    check(len(tasks) >= 2, "expected worker threads, got %r", tasks)
    # Capabilities and ids are per thread: every one must have dropped.
    # Nothing is inheritable or ambient (netnsd executes nothing), and
    # no_new_privs is set: no execve could ever give any back.
    want = {"CapInh": 0, "CapPrm": KEPT_CAPS, "CapEff": KEPT_CAPS,
            "CapBnd": KEPT_CAPS, "CapAmb": 0}
    for tid in tasks:
        st = read_status_task(pid, tid)
        what = "thread %d (%s)" % (tid, st.get("Name"))
        eq(st["Uid"].split(), [str(pw.pw_uid)] * 4, what + " Uid")
        eq(st["Gid"].split(), [str(pw.pw_gid)] * 4, what + " Gid")
        eq(st.get("Groups", ""), "", what + " supplementary groups")
        eq(st.get("NoNewPrivs"), "1", what + " NoNewPrivs")
        for k, v in caps(st).items():
            eq(hex(v), hex(want[k]), "%s %s" % (what, k))
    # The state directory did not exist: netnsd made it and gave it.
    eq(owner(d.state_dir), (pw.pw_uid, pw.pw_gid, 0o700),
       "owner and mode of the state directory netnsd made")

    # It still does its job: a namespace, a veth, an address.
    r = d.put("/v1/namespaces/ns-user")
    expect_status(r, 201, "PUT namespace as %s" % TEST_USER)
    r = d.post("/v1/namespaces/ns-user/veths",
               {"name": "uv0", "peer": {"name": "uv1"}, "up": True})
    expect_status(r, 201, "POST veth as %s" % TEST_USER)
    r = d.post("/v1/namespaces/ns-user/links/uv0/addresses",
               {"address": "198.18.7.1/24"})
    expect_status(r, 201, "POST address as %s" % TEST_USER)
    eq(kernel_namespaces(), ["ns-user"], "namespaces")
    links = {l["ifname"]: l for l in h.ip_json("link", ns="ns-user")}
    check({"uv0", "uv1"} <= set(links), "veth ends: %r", sorted(links))
    addrs = [a["local"] + "/%d" % a["prefixlen"]
             for l in h.ip_json("addr", "show", "dev", "uv0", ns="ns-user")
             for a in l["addr_info"] if a["family"] == "inet"]
    eq(addrs, ["198.18.7.1/24"], "uv0 addresses")
    # The desired state is durable: written by the user, so its own.
    files = os.listdir(d.state_dir)
    check(files, "nothing in the state directory")
    for name in files:
        eq(os.stat(os.path.join(d.state_dir, name)).st_uid, pw.pw_uid,
           "owner of %s" % name)
    r = d.delete("/v1/namespaces/ns-user")
    expect_status(r, 204, "DELETE namespace as %s" % TEST_USER)
    eq(kernel_namespaces(), [], "namespaces after DELETE")
    # And it survives a restart as the user on its own state (a directory
    # the user owns is fine, though netnsd did not make it at this start).
    d.stop()
    d.start(extra_args=["--user", TEST_USER])
    eq(d.get("/v1/namespaces").status, 200, "GET after a restart")


@test
def test_user_fresh_netns_dir_made_and_given():
    pw = ensure_user()
    root = user_root(pw)
    nd = os.path.join(root, "netns")
    d = user_daemon(pw, netns_dir=nd)
    d.start(extra_args=["--user", TEST_USER])
    eq(owner(nd), (pw.pw_uid, pw.pw_gid, 0o755),
       "owner and mode of the netns directory netnsd made")
    r = d.put("/v1/namespaces/fresh")
    expect_status(r, 201, "PUT namespace in the fresh directory")
    check(h.netns_is_mounted("fresh", nd), "fresh is not mounted in %s", nd)
    expect_status(d.delete("/v1/namespaces/fresh"), 204, "DELETE")
    eq(h.netns_files(nd), [], "files left in %s" % nd)


@test
def test_user_foreign_directories_refused():
    """A directory netnsd did not make and the user does not own is never
    handed over (`--state-file /var/lib/x.json` would give /var/lib away):
    start-up is refused and the directory keeps its owner."""
    pw = ensure_user()
    root = user_root(pw)
    for uid, gid in ((0, 0), (4242, 4242)):
        sd = os.path.join(root, "state-%d" % uid)
        os.mkdir(sd, 0o755)
        os.chown(sd, uid, gid)
        before = owner(sd)
        d = user_daemon(pw, state_dir=sd)
        p = d.run_once(extra_args=["--user", TEST_USER])
        refused(p, sd, "dedicated")
        eq(owner(sd), before, "owner of %s after the refusal" % sd)
        eq(os.listdir(sd), [], "files made in %s" % sd)
    # /run/netns as the sandbox (and a host) has it: root's.
    os.makedirs(h.NETNS_DIR, exist_ok=True)
    before = owner(h.NETNS_DIR)
    eq(before[0], 0, "owner of %s" % h.NETNS_DIR)
    d = user_daemon(pw)
    p = d.run_once(extra_args=["--user", TEST_USER])
    refused(p, h.NETNS_DIR, "dedicated")
    eq(owner(h.NETNS_DIR), before, "owner of %s after the refusal"
       % h.NETNS_DIR)


@test
def test_writable_directories_refused():
    """A state or netns directory others can write lets them plant or swap
    the files netnsd trusts: refused, with --user and without."""
    pw = ensure_user()
    root = user_root(pw)
    cases = [
        # (what, mode, uid, gid, as the user?)
        ("state", 0o777, 0, 0, False),
        ("state", 0o1777, 0, 0, False),
        ("state", 0o770, 0, 4242, False),
        ("state", 0o707, pw.pw_uid, pw.pw_gid, True),
        ("netns", 0o777, 0, 0, False),
        ("netns", 0o777, pw.pw_uid, pw.pw_gid, True),
    ]
    for i, (what, mode, uid, gid, as_user) in enumerate(cases):
        path = os.path.join(root, "%s-%d" % (what, i))
        os.mkdir(path)
        os.chown(path, uid, gid)
        os.chmod(path, mode)
        before = owner(path)
        if what == "state":
            d = user_daemon(pw, state_dir=path)
        else:
            d = user_daemon(pw, netns_dir=path)
        args = ["--user", TEST_USER] if as_user else []
        p = d.run_once(extra_args=args)
        refused(p, path, "writable")
        eq(owner(path), before, "owner and mode of %s" % path)
    # Group-writable by the service's own group is its own business.
    path = os.path.join(root, "state-group")
    os.mkdir(path)
    os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o770)
    give_netns_dir(pw)
    d = user_daemon(pw, state_dir=path)
    d.start(extra_args=["--user", TEST_USER])
    eq(d.get("/v1/namespaces").status, 200, "GET")


@test
def test_user_shared_accounts_refused():
    """nobody is shared by design (every service that runs as it would own
    netnsd's files), and --user root would drop nothing: both refused,
    before anything is made or given."""
    pw = ensure_user()
    for user, why in (("nobody", "shared"), ("root", "root")):
        d = user_daemon(pw)
        p = d.run_once(extra_args=["--user", user])
        refused(p, user, why)
        check(not os.path.exists(d.state_dir),
              "--user %s: the state directory was made", user)


@test
def test_user_state_symlink_opened_as_the_user():
    """The user owns the state directory, so a file there may be a symlink
    it planted: netnsd must not open or chown it with root's rights."""
    pw = ensure_user()
    give_netns_dir(pw)
    secret_dir = tmpdir()
    # Empty, so that it would pass for an empty journal.
    secret = write_file(os.path.join(secret_dir, "secret"), "")
    before = (owner(secret), open(secret).read())
    sd = os.path.join(user_root(pw), "state")
    os.mkdir(sd, 0o700)
    os.chown(sd, pw.pw_uid, pw.pw_gid)
    os.symlink(secret, os.path.join(sd, "state.json.journal"))
    d = user_daemon(pw, state_dir=sd)
    try:
        p = d.run_once(extra_args=["--user", TEST_USER])
    except AssertionError:
        p = None  # it started: what it did to the file is checked first
    eq((owner(secret), open(secret).read()), before,
       "the file the planted symlink points at")
    check(p is not None, "netnsd started on a journal that is a symlink "
          "to a file the user may not open")
    refused(p, "journal", "permission denied")


@test
def test_namespace_planted_symlink_not_followed():
    """A symlink named like a new namespace in the netns directory: the
    creation is refused and nothing is mounted over its target."""
    d = h.daemon()
    os.makedirs(h.NETNS_DIR, exist_ok=True)
    victim = write_file(os.path.join(tmpdir(), "victim"), "victim\n", 0o644)
    link = os.path.join(h.NETNS_DIR, "planted")
    os.symlink(victim, link)
    h.on_cleanup(lambda: os.path.lexists(link) and os.unlink(link))
    r = d.post("/v1/namespaces", {"name": "planted"})
    expect_problem(r, 409, "POST over a planted symlink")
    check(not h.is_mount_point(victim), "a namespace was mounted on %s",
          victim)
    eq(open(victim).read(), "victim\n", "the victim's content")
    eq(os.readlink(link), victim, "the planted symlink")


class StracedDaemon(h.Daemon):
    """netnsd under strace -f: every mount(2) is traced and held up for a
    while before it runs, so a test can act between a namespace's file
    being made and the namespace being mounted on it."""

    def __init__(self, trace, delay_us, **kw):
        super().__init__(**kw)
        self.trace = trace
        self.delay_us = delay_us

    def command(self):
        # LeakSanitizer cannot work under ptrace: not in this run.
        return ["strace", "-f", "-qq", "-o", self.trace,
                "-E", "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1",
                "-e", "trace=mount,umount2",
                "-e", "inject=mount:delay_enter=%d" % self.delay_us] + \
            super().command()

    def stop(self, sig=signal.SIGTERM, timeout=None):
        # strace passes no signal on: netnsd, its child, gets it, and
        # strace exits with it.
        if self.proc is not None and self.proc.poll() is None:
            pid = self.proc.pid
            with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
                for kid in f.read().split():
                    os.kill(int(kid), sig)
            try:
                self.proc.wait(h.scaled(10))
            except subprocess.TimeoutExpired:
                pass
        return super().stop(sig, timeout)


@test
def test_namespace_create_swap_race():
    """The file of a new namespace swapped for a symlink between its
    creation and the bind mount (what a user sharing the service's uid can
    do in a directory it may write): the mount must land on the file
    netnsd made, never on the symlink's target, and is taken back."""
    trace = os.path.join(tmpdir(), "strace")
    delay = h.scaled(1.0)
    d = StracedDaemon(trace, int(delay * 1e6))
    h._DAEMONS.append(d)
    d.start(timeout=h.scaled(20))
    os.makedirs(h.NETNS_DIR, exist_ok=True)
    victim = write_file(os.path.join(tmpdir(), "victim"), "victim\n", 0o644)
    for how in ("rename", "unlink"):
        name = "race-" + how
        path = os.path.join(h.NETNS_DIR, name)
        moved = os.path.join(h.NETNS_DIR, "moved-" + how)
        answer = []
        t = threading.Thread(target=lambda: answer.append(d.post(
            "/v1/namespaces", {"name": name}, timeout=h.scaled(30))))
        t.start()
        h.wait_until(lambda: os.path.lexists(path), timeout=h.scaled(15),
                     what="%s to be made" % path)
        # The daemon is now held up before its bind mount.
        if how == "rename":
            os.rename(path, moved)
        else:
            os.unlink(path)
        os.symlink(victim, path)
        t.join()
        check(not h.is_mount_point(victim), "%s: a namespace was mounted "
              "on the symlink's target %s", how, victim)
        eq(open(victim).read(), "victim\n", "the victim's content")
        eq(os.readlink(path), victim, "%s: the symlink" % how)
        expect_problem(answer[0], 409, "%s: POST %s" % (how, name))
        if how == "rename":
            check(not h.is_mount_point(moved), "the mount on the file "
                  "netnsd made was not taken back")
            os.unlink(moved)
        os.unlink(path)
    # No mount named the namespace by its path: the bind mounts went
    # through the descriptor of the file netnsd made.
    with open(trace) as f:
        binds = [l for l in f if "ns/net" in l and "mount(" in l]
    check(len(binds) == 2, "two bind mounts expected:\n%s", "".join(binds))
    for l in binds:
        check('"/proc/self/fd/' in l, "a bind mount by path: %s", l)


def read_status_task(pid, tid):
    out = {}
    with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


@test
def test_user_unknown_refused():
    d = h.daemon(start=False)
    p = d.run_once(extra_args=["--user", "no-such-user-netnsd"])
    refused(p, "no-such-user-netnsd")


if __name__ == "__main__":
    h.run_tests()
