#!/usr/bin/python3
"""What operators watch netnsd with: Prometheus metrics (checked by
promtool), readiness, request ids, log formats, the config file and
systemd's readiness notification."""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile

import harness as h
from harness import check, eq, expect_status, test

JSON = "application/json"


def metrics(d):
    r = d.get("/metrics")
    expect_status(r, 200, "GET /metrics")
    check(r.header("Content-Type").startswith("text/plain"),
          "metrics content type: %r", r.header("Content-Type"))
    return r.data.decode()


def sample(text, name, **labels):
    """The value of the first sample of `name` with these labels."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all('%s="%s"' % (k, v) in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@test
def metrics_pass_promtool_and_count_what_happened():
    d = h.daemon()
    expect_status(d.put("/v1/namespaces/red"), 201, "PUT red")
    expect_status(d.put("/v1/namespaces/red"), 200, "PUT red again")
    expect_status(d.post("/v1/namespaces/host/veths",
                         {"name": "m0", "peer": {"name": "m1",
                                                 "namespace": "red"}}),
                  201, "POST veth")
    expect_status(d.post("/v1/namespaces/red/links/m1/addresses",
                         {"address": "198.18.9.1/24"}), 201, "POST address")
    # A kernel refusal, counted by errno.
    r = d.patch("/v1/namespaces/red/links/m1", {"mtu": 70000})
    eq(r.status, 400, "PATCH mtu 70000")
    expect_status(d.post("/v1/reconcile"), 200, "POST reconcile")

    text = metrics(d)
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    eq((p.returncode, p.stdout.decode()), (0, ""), "promtool check metrics")

    eq(sample(text, "netnsd_http_requests_total",
              route="/v1/namespaces/{ns}", method="PUT", status="201"), 1.0,
       "PUT namespace 201 counted")
    eq(sample(text, "netnsd_http_requests_total",
              route="/v1/namespaces/{ns}", method="PUT", status="200"), 1.0,
       "PUT namespace 200 counted")
    check((sample(text, "netnsd_http_request_duration_seconds_count",
                  route="/v1/namespaces/{ns}/veths") or 0) >= 1,
          "the latency histogram counts the veth creation")
    check((sample(text, "netnsd_netlink_errors_total", errno="22") or 0)
          >= 1, "EINVAL from the kernel counted:\n%s", text)
    check((sample(text, "netnsd_reconcile_runs_total") or 0) >= 2,
          "start-up and requested reconciles counted")
    eq(sample(text, "netnsd_managed_objects", kind="namespace"), 1.0,
       "managed namespaces")
    eq(sample(text, "netnsd_managed_objects", kind="veth"), 2.0,
       "managed veth ends")
    eq(sample(text, "netnsd_managed_objects", kind="address"), 1.0,
       "managed addresses")
    eq(sample(text, "netnsd_drifted_objects"), 0.0, "nothing drifted yet")

    # Drift behind netnsd's back shows in the gauge.
    h.ip("address", "del", "198.18.9.1/24", "dev", "m1", ns="red")
    h.ip("link", "set", "m0", "mtu", "1280")
    eq(sample(metrics(d), "netnsd_drifted_objects"), 2.0,
       "an address removed and an MTU changed behind netnsd's back")


@test
def readyz_is_503_until_the_startup_reconcile_is_done():
    d = h.daemon()
    for i in range(150):
        expect_status(d.put("/v1/namespaces/r%d" % i), 201, "PUT r%d" % i)
    d.stop()
    h.netns_del_all()
    d.spawn()
    seen = set()
    dl = h.Deadline(h.scaled(30))
    while not dl.expired():
        try:
            st = h.http_request(d.port, "GET", "/readyz", timeout=2).status
        except OSError:
            continue
        seen.add(st)
        if st == 200:
            break
    check(503 in seen, "/readyz never answered 503 while 150 namespaces "
          "came back (seen %r)", seen)
    check(200 in seen, "/readyz never became ready (seen %r)", seen)
    eq(len([n for n in h.netns_list() if n.startswith("r")]), 150,
       "every namespace is back once ready")


@test
def request_ids_are_returned_and_logged():
    d = h.daemon()
    r = d.get("/v1/namespaces")
    rid = r.header("X-Request-Id")
    check(rid and re.fullmatch(r"[0-9a-f]{16}", rid),
          "a generated X-Request-Id: %r", rid)
    ids = {d.get("/healthz").header("X-Request-Id") for _ in range(200)}
    eq(len(ids), 200, "200 requests get 200 different generated ids")
    r = d.get("/v1/namespaces", headers={"X-Request-Id": "client-id.42"})
    eq(r.header("X-Request-Id"), "client-id.42", "a plain client id is kept")
    r = d.get("/v1/namespaces", headers={"X-Request-Id": "bad id\"x"})
    check(re.fullmatch(r"[0-9a-f]{16}", r.header("X-Request-Id") or ""),
          "an unsafe client id is replaced: %r", r.header("X-Request-Id"))
    r = d.get("/v1/namespaces/nope")
    eq(r.status, 404, "GET unknown namespace")
    rid = r.header("X-Request-Id")
    h.wait_until(lambda: rid in d.log_text(), what="the id in the log")
    line = [l for l in d.log_text().splitlines() if rid in l][0]
    for part in ("method=GET", "path=/v1/namespaces/nope", "status=404",
                 "duration_ms="):
        check(part in line, "request log line has %s: %r", part, line)


@test
def json_logs_are_one_object_per_line():
    d = h.daemon(args=["--log-format", "json"])
    expect_status(d.put("/v1/namespaces/j"), 201, "PUT j")
    d.stop()
    lines = [l for l in d.log_text().splitlines()
             if l and not l.startswith("---- ")]
    check(len(lines) >= 4, "some log lines: %r", lines)
    reqs = 0
    for l in lines:
        o = json.loads(l)
        for k in ("time", "level", "msg"):
            check(k in o, "%s in %r", k, l)
        if o["msg"] == "request":
            reqs += 1
            for k in ("request_id", "method", "path", "status",
                      "duration_ms"):
                check(k in o, "%s in the request line %r", k, l)
    check(reqs >= 1, "request lines in JSON")


@test
def logfmt_logs_quote_what_needs_it():
    d = h.daemon(args=["--log-format", "logfmt"])
    d.get("/v1/namespaces/no%20such")
    d.stop()
    lines = [l for l in d.log_text().splitlines()
             if l and not l.startswith("---- ")]
    for l in lines:
        check(re.match(r'time=\S+ level=(debug|info|warn|error) msg=', l),
              "a logfmt line: %r", l)
    check(any('msg=request' in l and 'path=/v1/namespaces/no%20such' in l
              for l in lines), "the request line: %r", lines)


@test
def config_file_sets_flags_and_the_command_line_wins():
    extra = h.free_port()
    cfg = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    cfg.write("# netnsd settings\nlisten = 127.0.0.1:%d\n"
              "log-format = json   # trailing comment\nmax-body = 100\n"
              % extra)
    cfg.close()
    h.on_cleanup(lambda: os.unlink(cfg.name))
    d = h.daemon(start=False)
    d.args = ["--config", cfg.name, "--max-body", "200"]
    d.start()
    # The file's listener and the command line's both serve.
    eq(h.http_request(extra, "GET", "/healthz").status, 200,
       "the listener from the file")
    # max-body from the command line (200) beats the file (100).
    r = d.post("/v1/namespaces", {"name": "x" * 150, "pad": "y" * 10})
    check(r.status != 413, "a 180-byte body under the command line's "
          "200-byte limit: got %d", r.status)
    r = d.post("/v1/namespaces", {"name": "x", "pad": "y" * 300})
    eq(r.status, 413, "a body over 200 bytes")
    check(d.log_text().splitlines()[-1].startswith("{"),
          "log-format = json from the file")

    bad = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
    bad.write("listen = 127.0.0.1:%d\nno-such-setting = 1\n" % h.free_port())
    bad.close()
    h.on_cleanup(lambda: os.unlink(bad.name))
    p = subprocess.run([h.netnsd_bin(), "--config", bad.name],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=10)
    # 2, the status of a bad flag: not a leak checker's own status (the
    # ASan build, when the refused file's text was lost).
    eq(p.returncode, 2, "an unknown setting stops start-up: %r" % p.stderr)
    check(b"no-such-setting" in p.stderr, "the message names it: %r",
          p.stderr)


@test
def systemd_readiness_is_notified():
    sock_path = tempfile.mktemp(prefix="netnsd-notify-", dir="/tmp")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(h.scaled(10))
    h.on_cleanup(lambda: (s.close(), os.unlink(sock_path)))
    port = h.free_port()
    state = tempfile.mkdtemp(prefix="netnsd-test-", dir="/tmp")
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    p = subprocess.Popen([h.netnsd_bin(), "--listen", "127.0.0.1:%d" % port,
                          "--state-file", state + "/state.json"],
                         env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        eq(s.recv(256), b"READY=1", "READY=1 once serving and reconciled")
        eq(h.http_request(port, "GET", "/readyz").status, 200,
           "ready when READY=1 is sent")
        p.terminate()
        eq(s.recv(256), b"STOPPING=1", "STOPPING=1 on SIGTERM")
        eq(p.wait(timeout=h.scaled(10)), 0, "clean exit")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


if __name__ == "__main__":
    sys.exit(h.run_tests())
