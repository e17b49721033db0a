"""Integration test harness for netnsd.

Starts the real daemon (NETNSD_BIN) on a free 127.0.0.1 port with a private
state directory, talks HTTP to it byte for byte, and checks the kernel's own
view with `ip -j`. Test files register functions with @test and end with
run_tests(), which prints one line per test and a final "N passed, M failed".

Everything here assumes it runs inside tests/sandbox (a private network and
mount namespace with its own tmpfs on /run); require_sandbox() refuses to go
on otherwise, so that no test can touch the host's namespaces or interfaces.

Standard library only, but for the contract check (contract.py: every
HTTP exchange is validated against openapi/openapi.yaml), which needs
Debian's python3-yaml and python3-jsonschema (scripts/deps test). Requests
the API refuses (bad JSON, bad values, 415, 413) are within the contract:
their documented answers are checked too. Only an exchange the document
does not describe is opted out, deliberately, with outside_contract="why"
(an argument of http_request, raw_request and the Daemon methods) or
`with outside_contract("why"):`.
"""

import atexit
import contextlib
import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

try:
    import contract as _contract
    _CONTRACT_IMPORT_ERROR = None
except ImportError as _e:  # python3-yaml or python3-jsonschema missing
    _contract = None
    _CONTRACT_IMPORT_ERROR = "%s (run scripts/deps test, or apt-get install " \
        "python3-yaml python3-jsonschema)" % _e

NETNS_DIR = "/run/netns"
API_HOST = "127.0.0.1"
MAX_BODY = 1 << 20


# ---------------------------------------------------------------------------
# Sandbox guard

def require_sandbox():
    """Exits unless we are inside tests/sandbox.

    Three independent signs must agree: the environment variable the sandbox
    sets, /run being the sandbox's own tmpfs, and (where it can be read) a
    network namespace other than init's."""
    why = None
    if os.environ.get("NETNSD_IN_SANDBOX") != "1":
        why = "NETNSD_IN_SANDBOX is not 1"
    else:
        try:
            with open("/proc/self/mountinfo") as f:
                mounts = f.read().splitlines()
        except OSError as e:
            mounts = []
            why = "cannot read /proc/self/mountinfo: %s" % e
        if why is None and not any(
                l.split(" - ")[0].split()[4] == "/run"
                and l.split(" - ")[1].split()[1] == "netnsd-test-run"
                for l in mounts if " - " in l):
            why = "/run is not the sandbox's tmpfs"
        if why is None:
            try:
                if os.readlink("/proc/1/ns/net") == os.readlink(
                        "/proc/self/ns/net"):
                    why = "this is the network namespace of pid 1"
            except OSError:
                pass  # not readable from a user namespace: the rest holds
    if why:
        sys.stderr.write(
            "refusing to run outside tests/sandbox (%s); run it as:\n"
            "  tests/sandbox /usr/bin/python3 %s\n" % (why, sys.argv[0]))
        print("0 passed, 1 failed")
        sys.exit(1)


# Importing the harness is already a promise to touch namespaces.
require_sandbox()


# ---------------------------------------------------------------------------
# Timing: sanitizer builds are several times slower

def _binary_is_sanitized(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"AddressSanitizer" in data or b"__asan_init" in data


def netnsd_bin():
    b = os.environ.get("NETNSD_BIN")
    if not b:
        here = os.path.dirname(os.path.abspath(__file__))
        b = os.path.join(here, "..", "..", "build", "netnsd")
    return os.path.abspath(b)


_BIN_COPY = None


def netnsd_run_bin():
    """A private copy of the binary, made once per run, so that a rebuild
    while the tests run cannot swap or half-write the program under them."""
    global _BIN_COPY
    if _BIN_COPY is None:
        d = tempfile.mkdtemp(prefix="netnsd-bin-", dir="/tmp")
        _BIN_COPY = os.path.join(d, "netnsd")
        shutil.copy2(netnsd_bin(), _BIN_COPY)
        atexit.register(shutil.rmtree, d, True)
    return _BIN_COPY


SANITIZED = _binary_is_sanitized(netnsd_bin())
TIME_SCALE = float(os.environ.get("NETNSD_TEST_TIME_SCALE",
                                  "4" if SANITIZED else "1"))


def scaled(seconds):
    return seconds * TIME_SCALE


class Deadline:
    """A time budget: `while d.left(): ...`."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self):
        return max(0.0, self.end - time.monotonic())

    def expired(self):
        return time.monotonic() >= self.end


# ---------------------------------------------------------------------------
# Commands and the kernel's view

def run(args, check=True, timeout=30, input=None):
    """Runs a command, returns CompletedProcess with text stdout/stderr."""
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, input=input)
    if check and p.returncode != 0:
        raise AssertionError("command %r failed (%d): %s" % (
            args, p.returncode, p.stderr.strip()))
    return p


def ip(*args, ns=None, check=True):
    cmd = ["ip"]
    if ns is not None:
        cmd += ["-n", ns]
    return run(cmd + list(args), check=check)


def ip_json(*args, ns=None):
    """`ip -j [-n ns] args...`, parsed. An empty answer is []."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = tuple(args[0])
    cmd = ["ip", "-j"]
    if ns is not None:
        cmd += ["-n", ns]
    out = run(cmd + list(args)).stdout.strip()
    return json.loads(out) if out else []


def netns_list():
    """Sorted names that `ip netns list` reports."""
    return sorted(e["name"] for e in ip_json("netns", "list"))


def netns_files(netns_dir=NETNS_DIR):
    """Sorted names of the files in the netns directory."""
    try:
        return sorted(os.listdir(netns_dir))
    except FileNotFoundError:
        return []


def netns_is_mounted(name, netns_dir=NETNS_DIR):
    """True if a namespace (nsfs) is mounted on netns_dir/name."""
    path = os.path.join(netns_dir, name)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields = left.split()
            if len(fields) > 4 and fields[4] == path and \
                    right.split()[:1] == ["nsfs"]:
                return True
    return False


def netns_add(name):
    """Makes a namespace behind netnsd's back, as an operator would."""
    ip("netns", "add", name)


def netns_del(name):
    ip("netns", "del", name)


def netns_del_all(netns_dir=NETNS_DIR):
    """Removes every named namespace, as a reboot would (files included)."""
    if not netns_files(netns_dir):
        return
    if netns_dir == NETNS_DIR:
        run(["ip", "-all", "netns", "delete"], check=False)
    for name in netns_files(netns_dir):
        path = os.path.join(netns_dir, name)
        # What ip netns del left (a file without a mount, say): by hand.
        while run(["umount", "-l", path], check=False).returncode == 0:
            pass
        try:
            os.unlink(path)
        except IsADirectoryError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def simulate_reboot(netns_dir=NETNS_DIR):
    """What a reboot does to named namespaces: they are all gone, and so is
    the netns directory itself (it lives on a tmpfs), mount point and all."""
    netns_del_all(netns_dir)
    # ip netns and netnsd make the directory a (shared) bind mount of itself.
    for _ in range(8):
        if run(["umount", netns_dir], check=False).returncode != 0:
            break
    try:
        os.rmdir(netns_dir)
    except FileNotFoundError:
        pass


def is_mount_point(path):
    path = os.path.abspath(path)
    with open("/proc/self/mountinfo") as f:
        return any(len(l.split()) > 4 and l.split()[4] == path for l in f)


def link_in_ns(ns, link="lo"):
    """The `ip -j link show` object for one link inside a namespace."""
    links = ip_json("link", "show", "dev", link, ns=ns)
    assert len(links) == 1, "ip -n %s link show %s: %r" % (ns, link, links)
    return links[0]


# ---------------------------------------------------------------------------
# HTTP

class Response:
    """One HTTP answer. Unpacks as (status, headers, data), where data is the
    parsed JSON for a JSON or problem+json answer, else the raw bytes."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage: case-insensitive
        self.body = body
        self.json = None
        self.json_error = None
        sent = getattr(headers, "_netnsd_sent", None)
        if sent is not None:
            # An answer read by an http.client connection (a keep-alive or
            # TLS client of a test): checked here, once.
            del headers._netnsd_sent
            check_exchange(sent[0], sent[1], self, body=sent[2],
                           headers=sent[3], outside_contract=sent[4])
        ct = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        self.content_type = ct
        if ct in ("application/json", "application/problem+json") and body:
            try:
                self.json = json.loads(body)
            except ValueError as e:
                self.json_error = str(e)

    @property
    def data(self):
        return self.json if self.json is not None else self.body

    def header(self, name):
        return self.headers.get(name)

    def __iter__(self):
        return iter((self.status, self.headers, self.data))

    def __repr__(self):
        body = self.body[:400]
        return "<HTTP %d %s %s %r>" % (self.status, self.reason,
                                       self.content_type, body)


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now. The sandbox
    owns its network namespace, so nobody else can take it meanwhile."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((API_HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _send_interruptible(sock, data, timeout):
    """Sends data, but stops as soon as the server answered (an early 413)
    or closed: a server that refuses a body does not have to read it."""
    view = memoryview(data)
    deadline = Deadline(timeout)
    while view:
        r, w, _ = select.select([sock], [sock], [], deadline.left())
        if r:
            return False  # an answer (or a close) came before the end
        if not w:
            raise TimeoutError("sending the request timed out")
        try:
            n = sock.send(view[:65536])
        except (BrokenPipeError, ConnectionResetError):
            return False
        view = view[n:]
    return True


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket (a --listen unix:PATH listener)."""

    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def http_request(port, method, path, body=None, content_type=None,
                 headers=None, chunked=False, timeout=None, host=API_HOST,
                 outside_contract=None):
    """Sends one request exactly as given and returns a Response, checked
    against the OpenAPI document (see check_exchange) unless
    outside_contract gives the reason why this exchange is not.

    body: None (no body), bytes, str, or any other value (sent as JSON, with
    Content-Type application/json unless content_type says otherwise).
    content_type: the header value; "" leaves the header out.
    headers: extra headers (a dict or a list of pairs), sent verbatim.
    chunked: send the body with Transfer-Encoding: chunked (in 64 KiB chunks)
    instead of Content-Length."""
    if timeout is None:
        timeout = scaled(15)
    if body is not None and not isinstance(body, (bytes, bytearray, str)):
        body = json.dumps(body)
        if content_type is None:
            content_type = "application/json"
    if isinstance(body, str):
        body = body.encode()
    if content_type is None and body is not None:
        content_type = "application/json"
    lines = ["%s %s HTTP/1.1" % (method, path),
             "Host: %s:%d" % (host, port),
             "Connection: close"]
    if content_type:
        lines.append("Content-Type: %s" % content_type)
    if body is not None:
        if chunked:
            lines.append("Transfer-Encoding: chunked")
        else:
            lines.append("Content-Length: %d" % len(body))
    if headers:
        items = headers.items() if isinstance(headers, dict) else headers
        lines += ["%s: %s" % (k, v) for k, v in items]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    payload = b""
    if body is not None:
        if chunked:
            parts = [body[i:i + 65536] for i in range(0, len(body), 65536)]
            payload = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts)
            payload += b"0\r\n\r\n"
        else:
            payload = bytes(body)

    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        _send_interruptible(sock, head + payload, timeout)
        sock.settimeout(timeout)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        data = resp.read()
        r = Response(resp.status, resp.reason, resp.msg, data)
    finally:
        sock.close()
    sent_headers = [("Content-Type", content_type)] if content_type else []
    if body is not None:
        sent_headers.append(("Transfer-Encoding", "chunked") if chunked
                            else ("Content-Length", str(len(body))))
    if headers:
        sent_headers += list(headers.items() if isinstance(headers, dict)
                             else headers)
    check_exchange(method, path, r, body=body, headers=sent_headers,
                   outside_contract=outside_contract)
    return r


def raw_request(port, data, timeout=None, host=API_HOST,
                outside_contract=None):
    """Sends raw bytes (possibly malformed HTTP) and returns every byte the
    server sent back until it closed the connection or went quiet. The
    answers in them are checked against what the OpenAPI document says of
    such requests (see contract.py) unless outside_contract says why not."""
    if timeout is None:
        timeout = scaled(5)
    sock = socket.create_connection((host, port), timeout=timeout)
    chunks = []
    try:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        while True:
            try:
                c = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not c:
                break
            chunks.append(c)
    finally:
        sock.close()
    reply = b"".join(chunks)
    check_raw_exchange(data, reply, outside_contract)
    return reply


def _contract_mode():
    return os.environ.get("NETNSD_CONTRACT", "strict").strip().lower()


def check_exchange(method, path, response, body=None, headers=None,
                   outside_contract=None):
    """Checks one HTTP exchange against the OpenAPI document: method and
    request target as sent, the Response, the request body (bytes, str or a
    JSON value) and the request headers that were sent (a dict or pairs;
    Content-Type, Origin and X-Request-Id matter). Raises
    contract.ContractViolation (an AssertionError) when the exchange breaks
    the document, and records it so that the test fails even if the
    exception is caught. harness's own clients call this; a test with a
    client of its own can too."""
    if _contract is None:
        if _contract_mode() == "off":
            return
        raise AssertionError(_CONTRACT_IMPORT_ERROR)
    if body is not None and not isinstance(body, (bytes, bytearray, str)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    req = _contract.Request(method, path, headers, body)
    ans = _contract.Answer(response.status, response.headers, response.body,
                           response.reason)
    _contract.RECORDER.exchange(req, ans, outside_contract)


def check_raw_exchange(data, reply, outside_contract=None):
    """Checks the answers in reply, the bytes a server sent back to the raw
    request bytes data, as raw_request() does: for a test that talks over
    a socket of its own."""
    if _contract is not None:
        _contract.RECORDER.raw(data, reply, outside_contract)
    elif _contract_mode() != "off":
        raise AssertionError(_CONTRACT_IMPORT_ERROR)


@contextlib.contextmanager
def outside_contract(reason):
    """`with outside_contract("why"):` exempts every exchange this thread
    makes meanwhile from the contract check: for requests that are
    deliberately outside the OpenAPI document. Say why."""
    if not reason or not isinstance(reason, str):
        raise ValueError("outside_contract needs a reason")
    if _contract is None:
        yield
        return
    local = _contract.RECORDER.local
    stack = getattr(local, "stack", None)
    if stack is None:
        stack = local.stack = []
    stack.append(reason)
    try:
        yield
    finally:
        stack.pop()


def _contract_shim():
    """Lets the answers of http.client connections (the keep-alive and TLS
    clients some tests have of their own) be checked too: the connection
    remembers what it sent, and the harness Response built from the answer
    checks the exchange. Nothing else about http.client changes."""
    conn = http.client.HTTPConnection
    if getattr(conn, "_netnsd_shim", False):
        return
    request, getresponse = conn.request, conn.getresponse

    def shim_request(self, method, url, body=None, headers={}, *,
                     encode_chunked=False):
        sent = body if isinstance(body, (bytes, bytearray, str)) else None
        self._netnsd_sent = (method, url, sent, dict(headers or {}),
                             _contract.RECORDER.exempt_reason()
                             if _contract else None)
        return request(self, method, url, body, headers,
                       encode_chunked=encode_chunked)

    def shim_getresponse(self):
        resp = getresponse(self)
        sent = getattr(self, "_netnsd_sent", None)
        if sent is not None:
            self._netnsd_sent = None
            try:
                resp.msg._netnsd_sent = sent
            except AttributeError:
                pass
        return resp

    conn.request = shim_request
    conn.getresponse = shim_getresponse
    conn._netnsd_shim = True


_contract_shim()


def raw_status(reply):
    """The status code on the first line of a raw HTTP reply, or None."""
    first = reply.split(b"\r\n", 1)[0].split()
    if len(first) >= 2 and first[0].startswith(b"HTTP/") and first[1].isdigit():
        return int(first[1])
    return None


# ---------------------------------------------------------------------------
# The daemon

class StartError(Exception):
    pass


def _env():
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


class Daemon:
    """One netnsd process and its state directory, restartable on the same
    state. Use through daemon() so that the runner cleans it up."""

    def __init__(self, state_dir=None, port=None, args=(),
                 netns_dir=NETNS_DIR, log_level="debug"):
        self.bin = netnsd_run_bin()
        self.state_dir = state_dir or tempfile.mkdtemp(prefix="netnsd-test-",
                                                      dir="/tmp")
        self.state_file = os.path.join(self.state_dir, "state.json")
        self.journal = self.state_file + ".journal"
        self.netns_dir = netns_dir
        self.port = port or free_port()
        self.args = list(args)
        self.log_level = log_level
        # The log lives apart from the state so that a test may wipe or
        # replace the state directory and the runner can still print it.
        self.log_dir = tempfile.mkdtemp(prefix="netnsd-log-", dir="/tmp")
        self.log_path = os.path.join(self.log_dir, "netnsd.log")
        self.proc = None
        self.returncode = None
        self.starts = 0

    # -- process control ---------------------------------------------------

    def command(self):
        cmd = [self.bin, "--listen", "%s:%d" % (API_HOST, self.port),
               "--state-file", self.state_file]
        if self.netns_dir != NETNS_DIR:
            cmd += ["--netns-dir", self.netns_dir]
        if self.log_level:
            cmd += ["--log-level", self.log_level]
        return cmd + self.args

    def spawn(self, extra_args=()):
        """Starts the process without waiting for it to serve."""
        assert self.proc is None, "netnsd is already running"
        self.starts += 1
        log = open(self.log_path, "ab")
        log.write(("---- start %d: %s\n" % (
            self.starts, " ".join(self.command() + list(extra_args))))
            .encode())
        log.flush()
        self.proc = subprocess.Popen(self.command() + list(extra_args),
                                     stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, env=_env())
        log.close()
        self.returncode = None
        return self.proc

    def start(self, timeout=None, extra_args=(), ready=True):
        """Starts netnsd and waits until GET /healthz answers 200 and, with
        ready, until the start-up reconcile is over: GET /readyz answers 200
        (a daemon without /readyz, 404, is ready once it is healthy)."""
        if timeout is None:
            timeout = scaled(10)
        self.spawn(extra_args)
        d = Deadline(timeout)
        path = "/healthz"
        while True:
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                self.returncode = rc
                raise StartError("netnsd exited with %d during start-up:\n%s"
                                 % (rc, self.log_tail()))
            try:
                r = http_request(self.port, "GET", path,
                                 timeout=max(0.5, min(2, d.left())))
                if r.status == 200 and path == "/healthz" and ready:
                    path = "/readyz"
                    continue
                if r.status == 200 or (path == "/readyz" and
                                       r.status == 404):
                    return self
            except (OSError, http.client.HTTPException):
                pass
            if d.expired():
                self.kill()
                raise StartError("netnsd did not answer %s within %.0f s:"
                                 "\n%s" % (path, timeout, self.log_tail()))
            time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """Sends sig and waits for the exit; returns the exit status
        (negative: killed by that signal). Kills it if it hangs."""
        if self.proc is None:
            return self.returncode
        if timeout is None:
            timeout = scaled(10)
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.returncode = None
            raise AssertionError("netnsd did not stop on %s within %.0f s"
                                 % (signal.Signals(sig).name, timeout))
        self.proc = None
        self.returncode = rc
        return rc

    def kill(self):
        """SIGKILL, as a crash or the OOM killer would."""
        return self.stop(signal.SIGKILL)

    def restart(self, kill=False, timeout=None):
        rc = self.kill() if kill else self.stop()
        self.start(timeout=timeout)
        return rc

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def run_once(self, extra_args=(), timeout=None, args=None,
                 log_level="error"):
        """Runs netnsd expecting it to exit by itself (bad flags, bad state):
        returns CompletedProcess with its stdout and stderr as text. By
        default only errors are logged, so stderr holds just the reason."""
        if timeout is None:
            timeout = scaled(10)
        if args is not None:
            cmd = [self.bin] + list(args)
        else:
            saved, self.log_level = self.log_level, log_level
            cmd = self.command() + list(extra_args)
            self.log_level = saved
        try:
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=timeout, env=_env())
        except subprocess.TimeoutExpired as e:
            raise AssertionError("netnsd %r did not exit within %.0f s "
                                 "(it should have refused to start)"
                                 % (cmd[1:], timeout)) from e
        with open(self.log_path, "a") as log:
            log.write("---- run: %s -> %d\n%s%s" % (
                " ".join(cmd), p.returncode, p.stdout, p.stderr))
        return p

    # -- logs ----------------------------------------------------------------

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, lines=60):
        return "\n".join(self.log_text().splitlines()[-lines:])

    # -- HTTP ----------------------------------------------------------------

    def request(self, method, path, body=None, **kw):
        return http_request(self.port, method, path, body=body, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def raw(self, data, **kw):
        return raw_request(self.port, data, **kw)

    # -- namespaces ----------------------------------------------------------

    def namespaces(self):
        """GET /v1/namespaces as {name: item}."""
        r = self.get("/v1/namespaces")
        assert r.status == 200, r
        return {i["name"]: i for i in r.json["items"]}

    def cleanup(self):
        if self.proc is not None:
            try:
                self.stop(timeout=scaled(5))
            except AssertionError:
                pass
        shutil.rmtree(self.state_dir, ignore_errors=True)

    def remove_log(self):
        shutil.rmtree(self.log_dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# Assertions

class Failure(AssertionError):
    pass


def check(cond, msg="check failed", *args):
    if not cond:
        raise Failure(msg % args if args else msg)


def eq(got, want, what="value"):
    if got != want:
        raise Failure("%s: got %r, want %r" % (what, got, want))


def expect_status(resp, status, what=""):
    want = status if isinstance(status, (tuple, list, set)) else (status,)
    if resp.status not in want:
        raise Failure("%sexpected HTTP %s, got %r" % (
            what + ": " if what else "", "/".join(map(str, want)), resp))
    if resp.status >= 400:
        expect_problem(resp, resp.status, what)
    return resp


def expect_problem(resp, status=None, what="", field=None):
    """Checks an RFC 9457 problem document: its media type and its type,
    title, status and detail members (and, if given, an errors[] entry
    naming field)."""
    pre = what + ": " if what else ""
    if status is not None and resp.status != status:
        raise Failure("%sexpected HTTP %d, got %r" % (pre, status, resp))
    if resp.content_type != "application/problem+json":
        raise Failure("%san error must be application/problem+json, got "
                      "Content-Type %r in %r" % (
                          pre, resp.header("Content-Type"), resp))
    p = resp.json
    if not isinstance(p, dict):
        raise Failure("%sproblem body is not a JSON object: %r (%s)" % (
            pre, resp.body[:300], resp.json_error))
    for k in ("type", "title", "status", "detail"):
        if k not in p:
            raise Failure("%sproblem lacks %r: %r" % (pre, k, p))
    for k in ("type", "title", "detail"):
        if not isinstance(p[k], str) or not p[k]:
            raise Failure("%sproblem %r must be a non-empty string: %r" % (
                pre, k, p))
    if p["status"] != resp.status:
        raise Failure("%sproblem status %r differs from HTTP status %d" % (
            pre, p["status"], resp.status))
    if "errors" in p:
        if not isinstance(p["errors"], list) or not all(
                isinstance(e, dict) and isinstance(e.get("field"), str)
                and isinstance(e.get("message"), str) for e in p["errors"]):
            raise Failure("%sproblem errors[] malformed: %r" % (pre, p))
    if field is not None:
        fields = [e.get("field") for e in p.get("errors", [])]
        if field not in fields:
            raise Failure("%sproblem should name field %r in errors[]: %r" % (
                pre, field, p))
    return p


def wait_until(pred, timeout=None, interval=0.02, what="condition"):
    if timeout is None:
        timeout = scaled(5)
    d = Deadline(timeout)
    while True:
        v = pred()
        if v:
            return v
        if d.expired():
            raise Failure("timed out after %.1f s waiting for %s" % (
                timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Registry and runner

_TESTS = []
_DAEMONS = []
_CLEANUPS = []


def test(fn):
    """Registers a test function (no arguments)."""
    _TESTS.append(fn)
    return fn


def daemon(**kw):
    """A Daemon that the runner stops and removes after the current test.
    start=False leaves it unstarted."""
    start = kw.pop("start", True)
    d = Daemon(**kw)
    _DAEMONS.append(d)
    if start:
        d.start()
    return d


def on_cleanup(fn):
    """Runs fn after the current test, pass or fail."""
    _CLEANUPS.append(fn)


def tmpdir(prefix="netnsd-tmp-"):
    """A new directory under /tmp, removed with all it holds after the
    current test."""
    d = tempfile.TemporaryDirectory(prefix=prefix, dir="/tmp",
                                    ignore_cleanup_errors=True)
    on_cleanup(d.cleanup)
    return d.name


def _cleanup_test():
    errors = []
    while _CLEANUPS:
        fn = _CLEANUPS.pop()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report, keep cleaning
            errors.append("cleanup %r: %s" % (fn, e))
    crashed = []
    for d in _DAEMONS:
        if d.proc is not None and d.proc.poll() is not None:
            crashed.append(d)  # died during the test without being asked
            d.returncode = d.proc.returncode
            d.proc = None
    for d in _DAEMONS:
        if d.proc is not None:
            try:
                rc = d.stop(timeout=scaled(10))
                if rc != 0:
                    errors.append("netnsd exited with %s on SIGTERM at the "
                                  "end of the test" % rc)
            except AssertionError as e:
                errors.append(str(e))
        d.cleanup()
    _DAEMONS.clear()
    netns_del_all()
    os.makedirs(NETNS_DIR, exist_ok=True)  # a test may have "rebooted"
    return errors, crashed


def _sanitizer_report(text):
    return any(s in text for s in ("AddressSanitizer", "LeakSanitizer",
                                   "UndefinedBehaviorSanitizer",
                                   "runtime error:"))


def run_tests(argv=None):
    """Runs every registered test (or those named on the command line), each
    with a clean /run/netns, and exits with the summary line."""
    require_sandbox()
    argv = sys.argv[1:] if argv is None else argv
    selected = [t for t in _TESTS if not argv or t.__name__ in argv]
    if not os.access(netnsd_bin(), os.X_OK):
        print("netnsd binary %s is missing (set NETNSD_BIN)" % netnsd_bin())
        print("0 passed, 1 failed")
        sys.exit(1)
    if _contract_mode() != "off":
        why = _CONTRACT_IMPORT_ERROR
        if why is None:
            try:
                _contract.RECORDER.load()
            except AssertionError as e:
                why = str(e)
        if why:
            print("the contract check cannot run: %s" % why)
            print("0 passed, 1 failed")
            sys.exit(1)
    print("netnsd: %s%s" % (netnsd_bin(),
                            " (sanitized, time x%g)" % TIME_SCALE
                            if SANITIZED else ""))
    sys.stdout.flush()
    netns_del_all()
    passed = failed = 0
    total_start = time.monotonic()
    for t in selected:
        start = time.monotonic()
        if _contract is not None:
            _contract.RECORDER.take()
        try:
            t()
            err = None
        except Exception:  # noqa: BLE001 - every failure is reported
            err = traceback.format_exc()
        daemons = list(_DAEMONS)
        logs = {}
        cleanup_errors, crashed = _cleanup_test()
        for d in daemons:
            logs[d] = d.log_text()
        if err is None and crashed:
            err = "netnsd exited by itself during the test (status %s)" % (
                ", ".join(str(d.returncode) for d in crashed))
        if err is None:
            bad = [d for d in daemons if _sanitizer_report(logs[d])]
            if bad:
                err = "a sanitizer reported an error in netnsd (see log)"
        if err is None and cleanup_errors:
            err = "\n".join(cleanup_errors)
        violations = _contract.RECORDER.take() if _contract else []
        # Those the test's own exception already tells are not repeated.
        violations = [v for v in violations if err is None or v not in err]
        if violations:
            more = "%d contract violation%s in this test:\n%s" % (
                len(violations), "" if len(violations) == 1 else "s",
                "\n".join(violations[:20]))
            if len(violations) > 20:
                more += "\n... and %d more" % (len(violations) - 20)
            err = more if err is None else err.rstrip() + "\n" + more
        took = time.monotonic() - start
        if err is None:
            passed += 1
            print("PASS %s (%.2f s)" % (t.__name__, took))
        else:
            failed += 1
            print("FAIL %s (%.2f s)" % (t.__name__, took))
            print("    " + err.rstrip().replace("\n", "\n    "))
            for i, d in enumerate(daemons):
                print("    --- netnsd log %d (%s) ---" % (i + 1, d.log_path))
                text = logs[d].rstrip().splitlines()
                if len(text) > 200:
                    print("    [... %d earlier lines ...]" % (len(text) - 200))
                    text = text[-200:]
                for line in text:
                    print("    | " + line)
        for d in daemons:
            d.remove_log()
        sys.stdout.flush()
    if _contract is not None:
        print(_contract.RECORDER.summary())
        _contract.RECORDER.write_stats(
            os.path.splitext(os.path.basename(sys.argv[0]))[0])
    print("(%.1f s)" % (time.monotonic() - total_start))
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    sys.exit(1 if failed else 0)
