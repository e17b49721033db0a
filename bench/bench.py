#!/usr/bin/env python3
"""netnsd benchmark: netnsd against iproute2 and raw netlink, side by side.

Run through bench/run, which installs what is missing, builds, and starts this
inside tests/sandbox (a private network and mount namespace with its own
/run). Every scenario (bench/RESULTS.md) runs in the same invocation; each is repeated
REPS times, methods interleaved within a repetition, and the table shows the
median of the absolute figures and the median of the per-repetition ratios.
"""
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLIENT = os.path.join(HERE, ".build", "client")
RAWNL = os.path.join(HERE, ".build", "rawnl")
API_PORT = 18080
NGINX_PORT = 18081
NETNS_DIR = "/run/netns"

ARGS = None
DAEMONS = []
NGINXES = []
WORK = None  # on the real disk: the daemon's state file lives here


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def sh(cmd, check=True, **kw):
    return subprocess.run(cmd, shell=isinstance(cmd, str), check=check,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, **kw)


def children_cpu():
    """CPU seconds (user + system) of every waited-for child so far."""
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd, **kw):
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, **kw)
    t = time.monotonic() - t0
    if r.returncode:
        raise RuntimeError(f"{cmd[:4]} failed: {r.stderr.strip()[:500]}")
    return t


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = p * (len(xs) - 1)
    lo = int(k)
    if lo + 1 >= len(xs):
        return xs[-1]
    return xs[lo] + (k - lo) * (xs[lo + 1] - xs[lo])


# ---------------------------------------------------------------------------
# The machine: wait for the kernel's deferred work (namespace teardown,
# RCU callbacks) to finish before timing the next thing.

def kthread_ticks():
    """CPU ticks used so far by kernel threads (kworkers running namespace
    teardown, RCU, softirqs): the deferred work of what we just did, and not
    whatever else the machine runs in user space."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read()
        except OSError:
            continue
        v = st[st.rindex(")") + 2:].split()
        # v[0] is field 3 (state): ppid is v[1], flags v[6], utime v[11], stime v[12]
        if int(v[6]) & 0x00200000:  # PF_KTHREAD
            total += int(v[11]) + int(v[12])
    return total


def settle(timeout=30.0, interval=0.25, max_share=0.1):
    """Waits until the kernel threads are quiet: below max_share of one CPU
    for two intervals running."""
    hz = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + timeout
    calm = 0
    prev = kthread_ticks()
    while time.monotonic() < deadline:
        time.sleep(interval)
        cur = kthread_ticks()
        if (cur - prev) / hz < max_share * interval:
            calm += 1
            if calm >= 2:
                return
        else:
            calm = 0
        prev = cur


def netns_list():
    try:
        return sorted(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return []


def netns_clear():
    """Every namespace gone, in bulk (ip netns del), then settle."""
    names = netns_list()
    if names:
        batch("".join(f"netns del {n}\n" for n in names))
    settle()


def batch(text, ns=None):
    path = os.path.join(WORK, "batch.txt")
    with open(path, "w") as f:
        f.write(text)
    cmd = ["ip"] + (["-n", ns] if ns else []) + ["-batch", path]
    return timed(cmd)


def ip_each(cmds):
    """One ip process per command, as a shell script orchestrator would."""
    t0 = time.monotonic()
    for c in cmds:
        r = subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode:
            raise RuntimeError(f"{c} failed: {r.stderr.decode()[:300]}")
    return time.monotonic() - t0


# ---------------------------------------------------------------------------
# The daemon.

class Daemon:
    def __init__(self, name, fresh=True, extra=(), binary=None):
        self.binary = binary or ARGS.netnsd
        self.dir = os.path.join(WORK, name)
        if fresh and os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir, exist_ok=True)
        self.state = os.path.join(self.dir, "state.json")
        self.extra = list(extra)
        self.proc = None
        DAEMONS.append(self)

    def start(self, wait=True):
        logf = open(os.path.join(self.dir, "daemon.log"), "a")
        cmd = [self.binary, "--listen", f"127.0.0.1:{API_PORT}",
               "--state-file", self.state, "--netns-dir", NETNS_DIR] + self.extra
        if ARGS.perf:
            # on-CPU samples and every context switch (off-CPU stacks)
            cmd = ["perf", "record", "-q", "-g", "-e", "cpu-clock",
                   "-e", "sched:sched_switch", "-o",
                   os.path.join(self.dir, f"perf.{int(time.time()*1000)}.data"),
                   "--"] + cmd
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=logf, stderr=logf)
        logf.close()
        if wait:
            return self.wait_ready()
        return None

    def pid(self):
        if not ARGS.perf:
            return self.proc.pid
        out = sh(["pgrep", "-P", str(self.proc.pid)], check=False).stdout.split()
        return int(out[0]) if out else self.proc.pid

    def wait_ready(self, timeout=600):
        """Seconds from exec to the first 200 from /readyz."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"netnsd exited: see {self.dir}/daemon.log")
            try:
                s = socket.create_connection(("127.0.0.1", API_PORT), timeout=5)
                s.sendall(b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                s.close()
                if data.startswith(b"HTTP/1.1 200"):
                    return time.monotonic() - self.t_start
            except OSError:
                pass
            time.sleep(0.001)
        raise RuntimeError("netnsd did not become ready")

    def cpu(self):
        """CPU seconds the daemon's threads have run so far (schedstat:
        nanoseconds, unlike the 10 ms ticks of /proc/PID/stat; threads
        that have exited are not counted, and MHD's workers never exit)."""
        total = 0
        base = f"/proc/{self.pid()}/task"
        for tid in os.listdir(base):
            try:
                with open(f"{base}/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except OSError:
                pass
        return total / 1e9

    def status(self, field):
        with open(f"/proc/{self.pid()}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def http(method, path, body=None):
    s = socket.create_connection(("127.0.0.1", API_PORT), timeout=120)
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    s.sendall(head.encode() + b"\r\n" + data)
    resp = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        resp += chunk
    s.close()
    head, _, payload = resp.partition(b"\r\n\r\n")
    return int(head.split()[1]), payload.decode(errors="replace")


def client(lines, threads=1, repeat=1, latfile=None, keep_going=False):
    path = os.path.join(WORK, "script.txt")
    with open(path, "w") as f:
        f.write("".join(l + "\n" for l in lines))
    cmd = [CLIENT, "-p", str(API_PORT), "-t", str(threads), "-r", str(repeat)]
    if latfile:
        cmd += ["-L", latfile]
    if keep_going:
        cmd += ["-k"]
    r = subprocess.run(cmd + [path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if r.returncode and not keep_going:
        raise RuntimeError(f"client: {r.stderr.strip()[:800]}")
    return json.loads(r.stdout)


def post_veth(ns, name, pns, pname):
    return ('POST /v1/namespaces/%s/veths {"name":"%s","peer":{"name":"%s","namespace":"%s"}}'
            % (ns, name, pname, pns))


def ab_pairs(indices):
    """The scenarios' veth pairs: a/v<i> with its peer b/p<i>."""
    return [post_veth("a", f"v{i}", "b", f"p{i}") for i in indices]


def daemon_with(name, namespaces):
    """A fresh netnsd on an empty kernel, holding `namespaces`."""
    netns_clear()
    d = Daemon(name)
    d.start()
    api_ns_create(namespaces)
    return d


def api_ns_create(names):
    return client(['POST /v1/namespaces {"name":"%s"}' % n for n in names])


def api_ns_delete(names):
    return client(["DELETE /v1/namespaces/%s" % n for n in names])


def rawnl(*args):
    r = sh([RAWNL] + [str(a) for a in args])
    return json.loads(r.stdout)


def wrk(url):
    r = sh(["wrk", "-t", str(ARGS.wrk_threads), "-c", str(ARGS.wrk_conns),
            "-d", f"{ARGS.wrk_secs}s", "--latency", url])
    out = r.stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res = {"rps": float(m.group(1)) if m else None}

    def us(v, unit):
        return float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]
    for p in ("50", "90", "99"):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        res[f"p{p}_us"] = us(*m.groups()) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors:.*", out)
    res["socket_errors"] = m.group(0) if m else ""
    return res


# ---------------------------------------------------------------------------
# Results: each scenario returns {metric: value} per repetition.

RESULTS = {}  # scenario -> list of dicts
LOAD = []  # load averages at the start and the end
ERRORS = []


def machine_cpu():
    """(busy, total) jiffies of all CPUs from /proc/stat: how much of the
    machine was in use, whoever used it."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v) - idle, sum(v)


def record(scn, rep, **kv):
    RESULTS.setdefault(scn, [])
    while len(RESULTS[scn]) <= rep:
        RESULTS[scn].append({})
    RESULTS[scn][rep].update(kv)


def m(scn, key):
    return med([r.get(key) for r in RESULTS.get(scn, [])])


def ratio_med(scn, num, den):
    """Median over repetitions of the per-repetition ratio."""
    rs = []
    for r in RESULTS.get(scn, []):
        if r.get(num) is not None and r.get(den):
            rs.append(r[num] / r[den])
    return med(rs)


# ---------------------------------------------------------------------------
# Scenarios.

def scn_fsync(rep):
    path = os.path.join(WORK, "fsync.test")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    rec = b"x" * 300
    lat = []
    for _ in range(ARGS.fsync_n):
        os.write(fd, rec)
        t0 = time.perf_counter()
        os.fdatasync(fd)
        lat.append((time.perf_counter() - t0) * 1e6)
    os.close(fd)
    os.unlink(path)
    record("fsync", rep, fdatasync_us=med(lat), fdatasync_p90_us=pct(lat, 0.9))


def scn_create_delete(rep):
    """Scenario 1: N veth pairs across two namespaces, and namespaces."""
    N, NS = ARGS.n, ARGS.n_ns
    pairs = range(N)

    # netnsd
    d = daemon_with("s1", ["a", "b"])
    settle()
    cpu0 = d.cpu()
    c = client(ab_pairs(pairs))
    record("s1", rep, api_create_cpu=d.cpu() - cpu0)
    record("s1", rep, api_create_s=c["elapsed_s"], api_create_p50=c["lat_us"]["median"],
           api_create_p90=c["lat_us"]["p90"], api_create_p99=c["lat_us"]["p99"])
    settle()
    c = client([f"DELETE /v1/namespaces/a/veths/v{i}" for i in pairs])
    record("s1", rep, api_delete_s=c["elapsed_s"], api_delete_p50=c["lat_us"]["median"],
           api_delete_p99=c["lat_us"]["p99"])
    api_ns_delete(["a", "b"])
    settle()
    c = api_ns_create([f"n{i}" for i in range(NS)])
    record("s1", rep, api_nscreate_s=c["elapsed_s"], api_nscreate_p50=c["lat_us"]["median"],
           api_nscreate_p99=c["lat_us"]["p99"])
    settle()
    c = api_ns_delete([f"n{i}" for i in range(NS)])
    record("s1", rep, api_nsdelete_s=c["elapsed_s"])
    d.stop()

    # ip -batch: the ends made in place, from a socket in "a", as netnsd does
    netns_clear()
    batch("netns add a\nnetns add b\n")
    settle()
    cpu0 = children_cpu()
    t = batch("".join(f"link add v{i} type veth peer name p{i} netns b\n" for i in pairs), ns="a")
    record("s1", rep, batch_create_s=t, batch_create_cpu=children_cpu() - cpu0)
    settle()
    t = batch("".join(f"link del v{i}\n" for i in pairs), ns="a")
    record("s1", rep, batch_delete_s=t)
    # the same kernel work as netnsd asks for: one queue each way per end
    netns_clear()
    batch("netns add a\nnetns add b\n")
    settle()
    cpu0 = children_cpu()
    t = batch(batch_veths_one_queue(pairs), ns="a")
    record("s1", rep, batch1q_create_s=t, batch1q_create_cpu=children_cpu() - cpu0)
    netns_clear()
    t = batch("".join(f"netns add n{i}\n" for i in range(NS)))
    record("s1", rep, batch_nscreate_s=t)
    settle()
    t = batch("".join(f"netns del n{i}\n" for i in range(NS)))
    record("s1", rep, batch_nsdelete_s=t)

    # one ip process per pair
    netns_clear()
    batch("netns add a\nnetns add b\n")
    settle()
    t = ip_each([["ip", "-n", "a", "link", "add", f"v{i}", "type", "veth", "peer",
                  "name", f"p{i}", "netns", "b"] for i in pairs])
    record("s1", rep, each_create_s=t)
    settle()
    t = ip_each([["ip", "-n", "a", "link", "del", f"v{i}"] for i in pairs])
    record("s1", rep, each_delete_s=t)
    netns_clear()
    t = ip_each([["ip", "netns", "add", f"n{i}"] for i in range(NS)])
    record("s1", rep, each_nscreate_s=t)
    settle()
    t = ip_each([["ip", "netns", "del", f"n{i}"] for i in range(NS)])
    record("s1", rep, each_nsdelete_s=t)

    # raw netlink, one request and ACK per pair
    netns_clear()
    batch("netns add a\nnetns add b\n")
    settle()
    cpu0 = children_cpu()
    r = rawnl("veth-add", "a", "b", "v", "p", N)
    record("s1", rep, raw_create_s=r["elapsed_s"], raw_create_cpu=children_cpu() - cpu0)
    netns_clear()
    # the kernel's cost of what netnsd does per namespace: ip netns add's
    # work plus lo brought up over a socket opened inside
    r = rawnl("ns-add", "n", NS)
    record("s1", rep, raw_nscreate_s=r["elapsed_s"])
    netns_clear()


def batch_veths_one_queue(pairs):
    """ip -batch lines for pairs v<i> <-> b/p<i> with one transmit and
    receive queue per end, as netnsd makes them (the kernel's default is one
    per possible CPU, shrunk to one active after an RCU grace period)."""
    q = "numtxqueues 1 numrxqueues 1"
    return "".join(f"link add v{i} {q} type veth peer name p{i} {q} netns b\n" for i in pairs)


def scn_concurrent(rep):
    """Scenario 2: the same N creations from 8 clients at once."""
    N, C = ARGS.n, ARGS.clients
    d = daemon_with("s2", ["a", "b"])
    settle()
    cpu0, m0 = d.cpu(), machine_cpu()
    c = client(ab_pairs(range(N)), threads=C)
    m1 = machine_cpu()
    record("s2", rep, api8_cpu=d.cpu() - cpu0,
           api8_busy=(m1[0] - m0[0]) / max(m1[1] - m0[1], 1))
    record("s2", rep, api8_s=c["elapsed_s"], api8_p50=c["lat_us"]["median"],
           api8_p99=c["lat_us"]["p99"])
    d.stop()
    # the sequential client, same run, for the effect of group commit
    d = daemon_with("s2", ["a", "b"])
    settle()
    c = client(ab_pairs(range(N)))
    record("s2", rep, api1_s=c["elapsed_s"])
    d.stop()
    netns_clear()

    batch("netns add a\nnetns add b\n")
    settle()
    t = batch("".join(f"link add v{i} type veth peer name p{i} netns b\n" for i in range(N)), ns="a")
    record("s2", rep, batch_s=t)
    netns_clear()
    batch("netns add a\nnetns add b\n")
    settle()
    t = batch(batch_veths_one_queue(range(N)), ns="a")
    record("s2", rep, batch1q_s=t)
    netns_clear()

    # 8 ip -batch processes at once (rtnl_lock serialises them)
    batch("netns add a\nnetns add b\n")
    settle()
    files = []
    for k in range(C):
        p = os.path.join(WORK, f"batch{k}.txt")
        with open(p, "w") as f:
            for i in range(k * N // C, (k + 1) * N // C):
                f.write(f"link add v{i} type veth peer name p{i} netns b\n")
        files.append(p)
    t0 = time.monotonic()
    procs = [subprocess.Popen(["ip", "-n", "a", "-batch", p]) for p in files]
    rc = [p.wait() for p in procs]
    record("s2", rep, batch8_s=time.monotonic() - t0)
    if any(rc):
        raise RuntimeError("parallel ip -batch failed")
    netns_clear()


def scn_growth(rep):
    """Scenario 3: per-creation time for objects 0-99 vs G-100..G-1."""
    G, W = ARGS.growth, 100
    d = daemon_with("s3", ["a", "b"])
    settle()
    lines = ab_pairs(range(G))
    lat = []
    cpu = []
    # three runs of the client on one daemon: the first W, the middle, the
    # last W; the daemon's CPU time is read around the first and the last
    for lo, hi, timed_cpu in ((0, W, True), (W, G - W, False), (G - W, G, True)):
        lf = os.path.join(WORK, f"growth{lo}.lat")
        if timed_cpu:
            settle()
        cpu0 = d.cpu()
        client(lines[lo:hi], latfile=lf)
        if timed_cpu:
            cpu.append((d.cpu() - cpu0) / (hi - lo) * 1e6)
        with open(lf) as f:
            lat += [float(x) for x in f]
    first, last = lat[:W], lat[G - W:G]
    record("s3", rep, api_first_cpu_us=cpu[0], api_last_cpu_us=cpu[1],
           api_first_us=sum(first) / W, api_last_us=sum(last) / W,
           api_first_p50=med(first), api_last_p50=med(last), objects=G * 2)
    # tearing down what grew: one request for each namespace
    settle()
    c = api_ns_delete(["a", "b"])
    record("s3", rep, api_teardown_s=c["elapsed_s"])
    d.stop()
    netns_clear()

    batch("netns add a\nnetns add b\n")
    settle()
    def chunk(lo, hi):
        return "".join(f"link add v{i} type veth peer name p{i} netns b\n" for i in range(lo, hi))
    t1 = batch(chunk(0, W), ns="a")
    batch(chunk(W, G - W), ns="a")
    settle()
    t2 = batch(chunk(G - W, G), ns="a")
    record("s3", rep, batch_first_us=t1 / W * 1e6, batch_last_us=t2 / W * 1e6)
    netns_clear()


def scn_list(rep):
    """Scenario 4: GET a namespace's links, 1,000 of them."""
    N = ARGS.list_n
    d = daemon_with("s4", ["a", "b"])
    client(ab_pairs(range(N)))
    settle()
    c = client(["GET /v1/namespaces/a/links"], repeat=ARGS.list_reps)
    record("s4", rep, api_p50=c["lat_us"]["median"], api_p90=c["lat_us"]["p90"],
           api_p99=c["lat_us"]["p99"], api_rps1=c["rps"])
    settle()
    w = wrk(f"http://127.0.0.1:{API_PORT}/v1/namespaces/a/links")
    record("s4", rep, api_wrk_rps=w["rps"], api_wrk_p50=w["p50_us"], api_wrk_p99=w["p99_us"])
    r = rawnl("dump", "a", ARGS.list_reps)
    record("s4", rep, raw_p50=r["lat_us"]["median"], raw_p90=r["lat_us"]["p90"],
           raw_p99=r["lat_us"]["p99"], links=r["links"])
    r = rawnl("dump", "a", ARGS.list_reps, "addr")
    record("s4", rep, rawaddr_p50=r["lat_us"]["median"])
    lat = []
    for _ in range(ARGS.ipj_reps):
        lat.append(timed(["ip", "-n", "a", "-j", "link", "show"]) * 1e6)
    record("s4", rep, ipj_p50=med(lat), ipj_p90=pct(lat, 0.9))
    d.stop()
    netns_clear()


NGINX_CONF = """daemon off;
master_process on;
worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    {access_log};
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    default_type application/json;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
        location / {{ }}
    }}
}}
"""


def nginx_start(logging):
    """nginx on NGINX_PORT, as Debian ships it (a line per request in
    access.log, on the same disk as netnsd's log) or with access_log off."""
    ndir = os.path.join(WORK, "nginx")
    os.makedirs(os.path.join(ndir, "www"), exist_ok=True)
    os.makedirs(os.path.join(ndir, "tmp"), exist_ok=True)
    with open(os.path.join(ndir, "www", "healthz"), "w") as f:
        f.write('{"status":"ok"}\n')  # the same 16 bytes as netnsd's answer
    with open(os.path.join(ndir, "nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(dir=ndir, port=NGINX_PORT, access_log=(
            f"access_log {ndir}/access.log" if logging else "access_log off")))
    ng = subprocess.Popen([ARGS.nginx, "-c", os.path.join(ndir, "nginx.conf"), "-p", ndir],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    NGINXES.append(ng)
    for _ in range(2000):
        try:
            socket.create_connection(("127.0.0.1", NGINX_PORT), timeout=1).close()
            break
        except OSError:
            time.sleep(0.005)
    return ng


def nginx_stop(ng):
    if ng.poll() is not None:
        return
    ng.send_signal(signal.SIGQUIT)
    try:
        ng.wait(timeout=10)
    except subprocess.TimeoutExpired:
        ng.kill()
        ng.wait()


def scn_healthz(rep):
    """Scenario 5: /healthz against nginx serving a 16-byte static file."""
    netns_clear()
    # As shipped: netnsd logs every request (info), nginx too (access_log);
    # then both with no per-request log line.
    for tag, logging in (("", True), ("quiet_", False)):
        d = Daemon("s5", extra=() if logging else ("--log-level", "warn"))
        d.start()
        ng = nginx_start(logging)
        settle()
        order = [("api", API_PORT), ("nginx", NGINX_PORT)]
        if rep % 2:
            order.reverse()
        for name, port in order:
            w = wrk(f"http://127.0.0.1:{port}/healthz")
            record("s5", rep, **{f"{tag}{name}_rps": w["rps"], f"{tag}{name}_p50": w["p50_us"],
                                 f"{tag}{name}_p99": w["p99_us"], f"{tag}{name}_non2xx": w["non2xx"]})
            if w["non2xx"]:
                raise RuntimeError(f"{name}: {w['non2xx']} answers were not 2xx")
            settle()
        if logging:
            # one keep-alive connection, one request at a time
            for name, port in order:
                cmd = [CLIENT, "-p", str(port), "-r", str(ARGS.healthz_seq), "-"]
                r = subprocess.run(cmd, input="GET /healthz\n", stdout=subprocess.PIPE,
                                   text=True, check=True)
                c = json.loads(r.stdout)
                record("s5", rep, **{f"{name}_seq_p50": c["lat_us"]["median"],
                                     f"{name}_seq_rps": c["rps"]})
        nginx_stop(ng)
        d.stop()


def topology_lines(n_ns, n_veth):
    """n_veth pairs spread over n_ns namespaces, each end in place."""
    return [post_veth(f"t{i % n_ns}", f"r{i}", f"t{(i + 1) % n_ns}", f"s{i}")
            for i in range(n_veth)]


def scn_reapply(rep):
    """Scenario 6: start-up re-apply of M namespaces and V veths."""
    M, V = ARGS.re_ns, ARGS.re_veth
    netns_clear()
    d = Daemon("s6")
    empty = d.start()
    api_ns_create([f"t{i}" for i in range(M)])
    client(topology_lines(M, V))
    d.stop()
    netns_clear()  # the "reboot": the kernel has nothing of it any more
    ready = d.start()
    reapply_cpu = d.cpu()
    # all there?
    n = sum(int(sh([RAWNL, "count", f"t{i}"]).stdout) for i in range(M))
    if n != 2 * V + M:
        raise RuntimeError(f"re-apply made {n} links, expected {2 * V + M}")
    d.stop()
    record("s6", rep, api_reapply_s=ready, api_empty_start_s=empty, api_reapply_cpu=reapply_cpu)
    netns_clear()
    text = "".join(f"netns add t{i}\n" for i in range(M))
    text += "".join(f"link add r{i} netns t{i % M} type veth peer name s{i} netns t{(i + 1) % M}\n"
                    for i in range(V))
    cpu0 = children_cpu()
    t = batch(text)
    record("s6", rep, batch_s=t, batch_cpu=children_cpu() - cpu0)
    netns_clear()


def scn_memory(rep):
    """Scenario 7: peak RSS with T managed objects above the empty daemon."""
    T = ARGS.objects
    n_ns = max(1, T // 100)
    while (T - n_ns) % 4:
        n_ns += 1
    pairs = (T - n_ns) // 4
    netns_clear()
    d = Daemon("s7")
    d.start()
    # warm up: every path once, then back to no objects at all
    client(["GET /healthz"] * 50 + ["GET /v1/namespaces", "GET /metrics"])
    api_ns_create(["w0", "w1"])
    client([post_veth("w0", "x", "w1", "y"),
            'POST /v1/namespaces/w0/links/x/addresses {"address":"198.18.255.1/24"}',
            "GET /v1/namespaces/w0/links", "GET /v1/state"])
    api_ns_delete(["w0", "w1"])
    empty_hwm, empty_rss = d.status("VmHWM"), d.status("VmRSS")
    api_ns_create([f"m{i}" for i in range(n_ns)])
    lines = []
    for i in range(pairs):
        lines.append(post_veth(f"m{i % n_ns}", f"a{i}", f"m{(i + 1) % n_ns}", f"b{i}"))
    client(lines, threads=1)
    lines = []
    for i in range(pairs):
        for j, (ns, name) in enumerate(((f"m{i % n_ns}", f"a{i}"), (f"m{(i + 1) % n_ns}", f"b{i}"))):
            k = 2 * i + j + 1
            lines.append('POST /v1/namespaces/%s/links/%s/addresses {"address":"198.%d.%d.%d/24"}'
                         % (ns, name, 18 + (k >> 16), (k >> 8) & 255, k & 255))
    client(lines, threads=1)
    made_hwm = d.status("VmHWM")
    # a read of everything, as a dashboard would
    client(["GET /v1/state", "GET /v1/namespaces"] + [f"GET /v1/namespaces/m{i}/links" for i in range(min(n_ns, 10))])
    _, metrics = http("GET", "/metrics")
    count = sum(int(float(x)) for x in re.findall(r'^netnsd_managed_objects\{[^}]*\} (\S+)', metrics, re.M))
    full_hwm, full_rss = d.status("VmHWM"), d.status("VmRSS")
    d.stop()
    # restarted on that state (the topology still in the kernel)
    d.start()
    restart_hwm = d.status("VmHWM")
    d.stop()
    record("s7", rep, objects=count, empty_hwm=empty_hwm, empty_rss=empty_rss,
           full_hwm=full_hwm, full_rss=full_rss, restart_hwm=restart_hwm,
           made_hwm=made_hwm, per_obj_made=(made_hwm - empty_hwm) / max(1, count),
           per_obj=(full_hwm - empty_hwm) / max(1, count),
           per_obj_restart=(restart_hwm - empty_hwm) / max(1, count),
           state_bytes=sum(os.path.getsize(f) for f in (d.state, d.state + ".journal")
                           if os.path.exists(f)))
    netns_clear()


def watch_del(ns, count):
    p = subprocess.Popen([RAWNL, "watch-del", ns, str(count), "120"],
                         stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        raise RuntimeError("watch-del did not start")
    return p


def watch_result(p):
    out, _ = p.communicate(timeout=180)
    return json.loads(out)


def scn_nsdelete(rep):
    """Scenario 8: delete a namespace holding K managed veths."""
    K = ARGS.k
    d = daemon_with("s8", ["x", "y"])
    client([post_veth("x", f"u{i}", "y", f"w{i}") for i in range(K)])
    settle()
    p = watch_del("y", K)
    c = client(["DELETE /v1/namespaces/x"])
    w = watch_result(p)
    record("s8", rep, api_reply_s=c["elapsed_s"],
           api_gone_s=w["t_last"] - c["t_start"] if w["deleted"] >= K else None)
    api_ns_delete(["y"])
    d.stop()
    netns_clear()

    batch("netns add x\nnetns add y\n")
    batch("".join(f"link add u{i} type veth peer name w{i} netns y\n" for i in range(K)), ns="x")
    settle()
    p = watch_del("y", K)
    t0 = time.monotonic()
    subprocess.run(["ip", "netns", "del", "x"], check=True)
    t1 = time.monotonic()
    w = watch_result(p)
    record("s8", rep, ip_reply_s=t1 - t0,
           ip_gone_s=w["t_last"] - t0 if w["deleted"] >= K else None)
    netns_clear()


# ---------------------------------------------------------------------------
# Scenario 9: the whole topology in one request (PUT /v1/state).

def s9_addr(i):
    """The address of pair i: a /30 of its own in 198.18.0.0/15."""
    a = (198 << 24) | (18 << 16) | (4 * i + 1)
    return f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}/30"


def s9_ns(i, n_ns, n_pairs):
    """The namespace of pair i: n_pairs / n_ns pairs in each."""
    return f"t{i * n_ns // n_pairs}"


def s9_doc(n_ns, n_pairs):
    """The topology as a PUT /v1/state document: namespaces t<k>, bridge
    br0 in host, veths h<i> (host, on br0) <-> t<k>/e<i>, an address on
    each e<i>."""
    links = [{"namespace": "host", "name": "br0", "kind": "bridge", "up": True}]
    addrs = []
    for i in range(n_pairs):
        ns = s9_ns(i, n_ns, n_pairs)
        links.append({"namespace": "host", "name": f"h{i}", "kind": "veth", "up": True,
                      "master": "br0", "peer": {"namespace": ns, "name": f"e{i}"}})
        links.append({"namespace": ns, "name": f"e{i}", "kind": "veth", "up": True,
                      "peer": {"namespace": "host", "name": f"h{i}"}})
        addrs.append({"namespace": ns, "link": f"e{i}", "address": s9_addr(i)})
    return {"namespaces": [{"name": f"t{k}"} for k in range(n_ns)],
            "links": links, "addresses": addrs}


def s9_put(doc, query=""):
    """One PUT /v1/state over bench/client: its answer's time in s."""
    c = client([f"PUT /v1/state{query} " + json.dumps(doc, separators=(",", ":"))])
    return c["elapsed_s"]


def s9_each_lines(n_ns, n_pairs):
    """The same topology through one request per object."""
    lines = ['POST /v1/namespaces {"name":"t%d"}' % k for k in range(n_ns)]
    lines.append('POST /v1/namespaces/host/bridges {"name":"br0","up":true}')
    for i in range(n_pairs):
        lines.append('POST /v1/namespaces/host/veths {"name":"h%d","up":true,'
                     '"peer":{"name":"e%d","namespace":"%s","up":true}}'
                     % (i, i, s9_ns(i, n_ns, n_pairs)))
    lines += [f"PUT /v1/namespaces/host/bridges/br0/ports/h{i}" for i in range(n_pairs)]
    lines += ['POST /v1/namespaces/%s/links/e%d/addresses {"address":"%s"}'
              % (s9_ns(i, n_ns, n_pairs), i, s9_addr(i)) for i in range(n_pairs)]
    return lines


def s9_batch_host(n_ns, n_pairs):
    """ip -batch from host: the namespaces, the bridge, the veths with their
    master, one queue each way per end (what netnsd asks for)."""
    q = "numtxqueues 1 numrxqueues 1"
    text = "".join(f"netns add t{k}\n" for k in range(n_ns))
    text += "link add br0 up type bridge\n"
    text += "".join(f"link add h{i} {q} master br0 up type veth peer name e{i} {q} "
                    f"netns {s9_ns(i, n_ns, n_pairs)}\n" for i in range(n_pairs))
    return text


def s9_batch_ns(n_ns, n_pairs):
    """Per namespace, the ip -batch lines that bring its ends up and
    address them (a batch cannot change namespace: one ip -n each)."""
    per = {}
    for i in range(n_pairs):
        per.setdefault(s9_ns(i, n_ns, n_pairs), []).append(
            f"link set e{i} up\naddr add {s9_addr(i)} dev e{i}\n")
    return {ns: "".join(v) for ns, v in per.items()}


def s9_batch_build(n_ns, n_pairs):
    """The whole topology with ip: one host batch, then one ip -n NS
    -batch per namespace. (host s, namespaces s)."""
    t_host = batch(s9_batch_host(n_ns, n_pairs))
    t_ns = 0.0
    for ns, text in s9_batch_ns(n_ns, n_pairs).items():
        t_ns += batch(text, ns=ns)
    return t_host, t_ns


def s9_batch_teardown(n_ns, n_pairs):
    """What PUT {} does, as one ip -batch: each host end deleted (its peer
    goes with it), the bridge, the namespaces."""
    text = "".join(f"link del h{i}\n" for i in range(n_pairs))
    text += "link del br0\n"
    text += "".join(f"netns del t{k}\n" for k in range(n_ns))
    return batch(text)


def s9_check(n_ns, n_pairs):
    """The kernel has the topology: every namespace, every port on br0
    and up, the first namespace's ends addressed."""
    if len(netns_list()) != n_ns:
        raise RuntimeError(f"{len(netns_list())} namespaces, expected {n_ns}")
    ports = json.loads(sh(["ip", "-j", "link", "show", "master", "br0"]).stdout)
    up = [p for p in ports if "UP" in p.get("flags", [])]
    if len(ports) != n_pairs or len(up) != n_pairs:
        raise RuntimeError(f"br0 has {len(ports)} ports ({len(up)} up), expected {n_pairs}")
    ns = s9_ns(0, n_ns, n_pairs)
    want = {s9_addr(i).split("/")[0] for i in range(n_pairs) if s9_ns(i, n_ns, n_pairs) == ns}
    have = set()
    for l in json.loads(sh(["ip", "-n", ns, "-j", "addr", "show"]).stdout):
        if l["ifname"] != "lo" and "UP" in l.get("flags", []):
            have |= {a["local"] for a in l.get("addr_info", []) if a["family"] == "inet"}
    if have != want:
        raise RuntimeError(f"{ns} has addresses {sorted(have)}, expected {sorted(want)}")


def s9_syncs(d, doc):
    """fdatasync and fsync calls of the daemon's threads during one PUT
    of `doc` (strace attached around it, and for a second after it, so
    that a lazy write that follows is counted too); the PUT is not timed."""
    out = os.path.join(WORK, "strace.txt")
    p = subprocess.Popen(["strace", "-f", "-c", "-e", "trace=fdatasync,fsync",
                          "-o", out, "-p", str(d.pid())],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached to every thread
    s9_put(doc)
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    p.wait(timeout=30)
    n = 0
    with open(out) as f:
        for line in f:
            v = line.split()
            if v and v[-1] in ("fdatasync", "fsync") and v[3].isdigit():
                n += int(v[3])
    return n


def scn_state(rep):
    """Scenario 9: a whole topology in one PUT /v1/state."""
    NS, P = ARGS.s9_ns, ARGS.s9_pairs
    doc = s9_doc(NS, P)
    record("s9", rep, load1=os.getloadavg()[0])

    def netnsd():
        netns_clear()
        d = Daemon("s9")
        d.start()
        settle()
        cpu0 = d.cpu()
        record("s9", rep, api_dry_empty_s=s9_put(doc, "?dry_run=true"))
        record("s9", rep, api_dry_empty_cpu=d.cpu() - cpu0)
        settle()
        cpu0 = d.cpu()
        record("s9", rep, api_apply_s=s9_put(doc))
        record("s9", rep, api_apply_cpu=d.cpu() - cpu0)
        s9_check(NS, P)
        settle()
        record("s9", rep, api_dry_s=s9_put(doc, "?dry_run=true"))
        cpu0 = d.cpu()
        record("s9", rep, api_noop_s=s9_put(doc))
        record("s9", rep, api_noop_cpu=d.cpu() - cpu0)
        status, body = http("GET", "/v1/state")
        n = len(json.loads(body)["links"]) if status == 200 else -1
        if n != 2 * P + 1:
            raise RuntimeError(f"GET /v1/state has {n} links, expected {2 * P + 1}")
        settle()
        cpu0 = d.cpu()
        record("s9", rep, api_teardown_s=s9_put({}))
        record("s9", rep, api_teardown_cpu=d.cpu() - cpu0)
        if netns_list():
            raise RuntimeError(f"PUT {{}} left namespaces {netns_list()[:5]}")
        d.stop()
        settle()

    def ip():
        netns_clear()
        cpu0 = children_cpu()
        t_host, t_ns = s9_batch_build(NS, P)
        record("s9", rep, batch_host_s=t_host, batch_ns_s=t_ns, batch_s=t_host + t_ns,
               batch_cpu=children_cpu() - cpu0)
        s9_check(NS, P)
        # what starting one ip -n NS -batch costs, with nothing to do
        empty = os.path.join(WORK, "empty.txt")
        open(empty, "w").close()
        t0 = time.monotonic()
        for k in range(NS):
            timed(["ip", "-n", f"t{k}", "-batch", empty])
        record("s9", rep, batch_spawn_s=time.monotonic() - t0)
        settle()
        cpu0 = children_cpu()
        record("s9", rep, batch_teardown_s=s9_batch_teardown(NS, P))
        record("s9", rep, batch_teardown_cpu=children_cpu() - cpu0)
        settle()

    for f in ((netnsd, ip) if rep % 2 == 0 else (ip, netnsd)):
        f()

    # today's API: one request per object, on one keep-alive connection
    netns_clear()
    d = Daemon("s9")
    d.start()
    settle()
    # kept going past a failed answer, which is counted (a PUT of a port
    # reads every link and address of host first, and has answered 500,
    # changing nothing, when that dump was interrupted time after time);
    # the kernel is checked when every answer was a success
    c = client(s9_each_lines(NS, P), keep_going=True)
    record("s9", rep, each_s=c["elapsed_s"], each_n=len(s9_each_lines(NS, P)),
           each_errors=c["errors"])
    if not c["errors"]:
        s9_check(NS, P)
    s9_put({})
    # fdatasync calls per apply, counted once (they do not vary), for
    # two sizes of the document
    if rep == 0 and shutil.which("strace"):
        for tag, (n_ns, n_p) in (("small", (max(1, NS // 10), P // 10)), ("", (NS, P))):
            netns_clear()
            record("s9", rep, **{f"syncs_{tag or 'full'}": s9_syncs(d, s9_doc(n_ns, n_p)),
                                 f"syncs_{tag or 'full'}_pairs": n_p})
            record("s9", rep, **{f"syncs_{tag or 'full'}_teardown": s9_syncs(d, {})})
# Scenario 10: the event stream (GET /v1/events).

EVSTREAM = os.path.join(HERE, ".build", "evstream")


def proc_ut_st(pid):
    """(utime, stime) of a process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        v = f.read()
    v = v[v.rindex(")") + 2:].split()
    return int(v[11]), int(v[12])


def proc_ticks(pid):
    return sum(proc_ut_st(pid))


def proc_switches(pid):
    """Context switches of every thread so far: each wake-up is one."""
    total = 0
    base = f"/proc/{pid}/task"
    for tid in os.listdir(base):
        try:
            with open(f"{base}/{tid}/status") as f:
                for line in f:
                    if "ctxt_switches:" in line:
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def ev_subscribers(n, marker, timeout=180):
    """bench/evstream sub: n streams open and begun, or an error."""
    import select
    p = subprocess.Popen([EVSTREAM, "sub", str(API_PORT), str(n), marker, str(timeout)],
                         stdout=subprocess.PIPE, text=True)
    r, _, _ = select.select([p.stdout], [], [], 30)
    if not r or p.stdout.readline().strip() != "ready":
        p.kill()
        p.wait()
        raise RuntimeError(f"{n} subscribers did not all begin")
    return p


def thread_cpu(pid, tid):
    """Run time of one thread so far, in seconds (schedstat)."""
    try:
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            return int(f.read().split()[0]) / 1e9
    except OSError:
        return None


def ev_add(rep, **kv):
    """Adds to the repetition's sums (a figure taken over several turns)."""
    rs = RESULTS.get("s10", [])
    cur = rs[rep] if len(rs) > rep else {}
    record("s10", rep, **{k: cur.get(k, 0) + v for k, v in kv.items()})


def ev_create(d, tag, rep, subs, pre=""):
    """N veth pairs a/v<i> - b/p<i> through the API, with `subs` subscribers
    reading every event (or none); then the pairs are gone again. `pre`
    prefixes the figures' names (those of --netnsd-base)."""
    N = ARGS.n
    settle()
    p = ev_subscribers(subs, "s10end") if subs else None
    cpu0, m0, us0 = d.cpu(), machine_cpu(), proc_ut_st(d.pid())
    k0 = children_cpu()  # the client's, and the subscribers' process
    c = client(ab_pairs(range(N)))
    m1, us1 = machine_cpu(), proc_ut_st(d.pid())
    tag = pre + tag
    ev_add(rep, **{f"{tag}_s": c["elapsed_s"], f"{tag}_cpu": d.cpu() - cpu0,
                   f"{tag}_utime": us1[0] - us0[0], f"{tag}_stime": us1[1] - us0[1],
                   f"{tag}_busy_j": m1[0] - m0[0], f"{tag}_all_j": m1[1] - m0[1],
                   f"{tag}_turns": 1})
    if not p:
        ev_add(rep, **{f"{tag}_readers_cpu": children_cpu() - k0})
    if p:
        api_ns_create(["s10end"])  # the marker: every subscriber stops at it
        out, _ = p.communicate(timeout=240)
        sub = json.loads(out)
        ev_add(rep, **{f"{tag}_readers_cpu": children_cpu() - k0})
        ev_add(rep, **{pre + "sub_n": subs, pre + "sub_complete": sub["complete"],
                       pre + "sub_resynced": sub["resynced"],
                       pre + "sub_short": subs - sub["complete"] - sub["resynced"],
                       pre + "sub_gaps": sub["gaps"]})
        cur = RESULTS["s10"][rep]
        record("s10", rep, **{pre + "sub_events_min": min(cur.get(pre + "sub_events_min", 1 << 62), sub["events_min"]),
                              pre + "sub_events_max": max(cur.get(pre + "sub_events_max", 0), sub["events_max"])})
        if sub["events_min"] < 2 * N + 1 and not sub["resynced"]:
            ERRORS.append(f"s10 repetition {rep + 1}: a subscriber saw "
                          f"{sub['events_min']} events, fewer than {2 * N + 1}")
    api_ns_delete(["a", "b"] + (["s10end"] if subs else []))
    api_ns_create(["a", "b"])


def ev_daemon(namespaces, binary=None):
    """A fresh netnsd holding `namespaces`, with room for the subscribers:
    S streams from one address, and the client's connection."""
    S = ARGS.ev_subs
    netns_clear()
    d = Daemon("s10", extra=("--max-subscribers", str(S + 16),
                             "--max-connections-per-ip", str(S + 64)),
               binary=binary)
    d.start()
    api_ns_create(namespaces)
    return d


def scn_events(rep):
    """Scenario 10: event latency, 100 subscribers, idle CPU."""
    NS, S = ARGS.ev_ns, ARGS.ev_subs
    record("s10", rep, load1=os.getloadavg()[0])

    # On a daemon watching NS namespaces (made through the API):
    d = ev_daemon([f"e{i}" for i in range(NS)] + ["a", "b"])
    settle()

    # 3. Idle: nothing changes anywhere; the daemon should not run at all.
    pid = d.pid()
    t0, c0, w0, h0 = proc_ticks(pid), d.cpu(), proc_switches(pid), thread_cpu(pid, pid)
    time.sleep(ARGS.ev_idle_s)
    t1, c1, w1, h1 = proc_ticks(pid), d.cpu(), proc_switches(pid), thread_cpu(pid, pid)
    record("s10", rep, idle_ticks=t1 - t0, idle_cpu_s=c1 - c0, idle_switches=w1 - w0,
           idle_main_cpu_s=None if h0 is None or h1 is None else h1 - h0,
           idle_hz=os.sysconf("SC_CLK_TCK"))

    # 1. A kernel change in one of NS namespaces to a subscriber's receipt.
    r = json.loads(sh([EVSTREAM, "lat", str(API_PORT), "e", str(NS),
                       str(ARGS.ev_samples)], timeout=600).stdout)
    record("s10", rep, lat_n=r["samples"], lat_lost=r["lost"],
           lat_not_kernel=r["not_kernel"], lat_p50=r["lat_us"]["median"],
           lat_p90=r["lat_us"]["p90"], lat_p99=r["lat_us"]["p99"],
           lat_max=r["lat_us"]["max"])

    # For reference: the same creations, no subscriber, with NS watched.
    ev_create(d, "bigns", rep, 0)
    d.stop()

    # 2. N veth pairs through the API with S subscribers and without, in
    # turns on one daemon holding only a and b (what the subscribers cost,
    # apart from what watching many namespaces costs): two turns each,
    # the order alternating between repetitions. With --netnsd-base, the
    # same turns on that binary too, the binaries' order alternating.
    turns = [0, S, S, 0] if rep % 2 == 0 else [S, 0, 0, S]
    arms = [(None, "")] + ([(ARGS.netnsd_base, "base_")] if ARGS.netnsd_base else [])
    for binary, pre in (arms if rep % 2 == 0 else arms[::-1]):
        d = ev_daemon(["a", "b"], binary=binary)
        for subs in turns:
            ev_create(d, "subs" if subs else "nosubs", rep, subs, pre)
        d.stop()
    netns_clear()


SCENARIOS = [
    ("fsync", scn_fsync),
    ("s5", scn_healthz),
    ("s4", scn_list),
    ("s1", scn_create_delete),
    ("s2", scn_concurrent),
    ("s3", scn_growth),
    ("s6", scn_reapply),
    ("s8", scn_nsdelete),
    ("s7", scn_memory),
    ("s9", scn_state),
    # scenario 10: the event stream
    ("s10", scn_events),
]


# ---------------------------------------------------------------------------
# Report.

def dv(a, b):
    return None if a is None or not b else a / b


def fmt_t(s):
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def fmt_us(us):
    return "-" if us is None else fmt_t(us / 1e6)


def fmt_x(r):
    return "-" if r is None else (f"{r:.3g}x" if r < 10 else f"{r:.1f}x")


def fmt_rate(r):
    return "-" if r is None else f"{r:,.0f}/s"


def fmt_b(b):
    if b is None:
        return "-"
    if b >= 1 << 20:
        return f"{b / (1 << 20):.1f} MiB"
    if b >= 1 << 10:
        return f"{b / (1 << 10):.1f} KiB"
    return f"{b:.0f} B"


def verdict(ok):
    return "-" if ok is None else ("**met**" if ok else "**MISSED**")


def build_table():
    """Rows: scenario, what, netnsd, baseline(s), ratio, target, verdict."""
    rows, targets = [], []
    N, NS = ARGS.n, ARGS.n_ns

    def add(scn, what, api, base, ratio, target="", ok=None):
        rows.append((scn, what, api, base, ratio, target, verdict(ok)))
        if target:
            targets.append((scn, what, target, ratio, ok))

    if "s1" in RESULTS:
        r_b = ratio_med("s1", "api_create_s", "batch_create_s")
        r_e = ratio_med("s1", "each_create_s", "api_create_s")
        ok = None if r_b is None else (r_b <= 1.5 and r_e >= 3)
        add("1", f"create {N} veth pairs (per pair)",
            f"{fmt_t(m('s1', 'api_create_s'))} ({fmt_t(dv(m('s1', 'api_create_s'), N))}; p50 {fmt_us(m('s1', 'api_create_p50'))}, p90 {fmt_us(m('s1', 'api_create_p90'))}, p99 {fmt_us(m('s1', 'api_create_p99'))})",
            f"ip -batch {fmt_t(m('s1', 'batch_create_s'))} ({fmt_t(dv(m('s1', 'batch_create_s'), N))}); "
            f"ip per pair {fmt_t(m('s1', 'each_create_s'))} ({fmt_t(dv(m('s1', 'each_create_s'), N))}); "
            f"ip -batch with one queue per end, the kernel work netnsd asks for, {fmt_t(m('s1', 'batch1q_create_s'))} ({fmt_t(dv(m('s1', 'batch1q_create_s'), N))}); "
            f"raw netlink, one queue per end too, {fmt_t(m('s1', 'raw_create_s'))} ({fmt_t(dv(m('s1', 'raw_create_s'), N))})",
            f"{fmt_x(r_b)} of ip -batch; ip per pair {fmt_x(r_e)} slower; {fmt_x(ratio_med('s1', 'api_create_s', 'batch1q_create_s'))} of ip -batch with one queue; {fmt_x(ratio_med('s1', 'api_create_s', 'raw_create_s'))} of raw",
            "≤ 1.5x ip -batch, ip per pair ≥ 3x slower", ok)
        add("1", f"CPU time to create {N} veth pairs (per pair; netnsd: the daemon alone)",
            fmt_t(dv(m("s1", "api_create_cpu"), N)),
            f"ip -batch {fmt_t(dv(m('s1', 'batch_create_cpu'), N))}; with one queue {fmt_t(dv(m('s1', 'batch1q_create_cpu'), N))}; raw netlink {fmt_t(dv(m('s1', 'raw_create_cpu'), N))}",
            f"{fmt_x(ratio_med('s1', 'api_create_cpu', 'batch_create_cpu'))} of ip -batch")
        add("1", f"delete {N} veth pairs, one by one",
            f"{fmt_t(m('s1', 'api_delete_s'))} ({fmt_t(dv(m('s1', 'api_delete_s'), N))}; p50 {fmt_us(m('s1', 'api_delete_p50'))}, p99 {fmt_us(m('s1', 'api_delete_p99'))})",
            f"ip -batch {fmt_t(m('s1', 'batch_delete_s'))} ({fmt_t(dv(m('s1', 'batch_delete_s'), N))}); "
            f"ip per pair {fmt_t(m('s1', 'each_delete_s'))} ({fmt_t(dv(m('s1', 'each_delete_s'), N))})",
            f"{fmt_x(ratio_med('s1', 'api_delete_s', 'batch_delete_s'))} of ip -batch; ip per pair {fmt_x(ratio_med('s1', 'each_delete_s', 'api_delete_s'))} slower")
        r_b = ratio_med("s1", "api_nscreate_s", "batch_nscreate_s")
        r_e = ratio_med("s1", "each_nscreate_s", "api_nscreate_s")
        ok = None if r_b is None else (r_b <= 1.5 and r_e >= 3)
        add("1", f"create {NS} namespaces (per namespace)",
            f"{fmt_t(m('s1', 'api_nscreate_s'))} ({fmt_t(dv(m('s1', 'api_nscreate_s'), NS))}; p50 {fmt_us(m('s1', 'api_nscreate_p50'))}, p99 {fmt_us(m('s1', 'api_nscreate_p99'))})",
            f"ip -batch {fmt_t(m('s1', 'batch_nscreate_s'))} ({fmt_t(dv(m('s1', 'batch_nscreate_s'), NS))}); "
            f"ip per namespace {fmt_t(m('s1', 'each_nscreate_s'))} ({fmt_t(dv(m('s1', 'each_nscreate_s'), NS))}); "
            f"raw, the same work (lo up too) {fmt_t(m('s1', 'raw_nscreate_s'))} ({fmt_t(dv(m('s1', 'raw_nscreate_s'), NS))})",
            f"{fmt_x(r_b)} of ip -batch; ip per namespace {fmt_x(r_e)} slower; {fmt_x(ratio_med('s1', 'api_nscreate_s', 'raw_nscreate_s'))} of raw",
            "≤ 1.5x ip -batch, ip per namespace ≥ 3x slower", ok)
        add("1", f"delete {NS} namespaces",
            f"{fmt_t(m('s1', 'api_nsdelete_s'))} ({fmt_t(dv(m('s1', 'api_nsdelete_s'), NS))})",
            f"ip -batch {fmt_t(m('s1', 'batch_nsdelete_s'))}; ip per namespace {fmt_t(m('s1', 'each_nsdelete_s'))}",
            f"{fmt_x(ratio_med('s1', 'api_nsdelete_s', 'batch_nsdelete_s'))} of ip -batch")
    if "s2" in RESULTS:
        C = ARGS.clients
        r = ratio_med("s2", "batch_s", "api8_s")  # rate ratio = inverse time ratio
        add("2", f"create {N} veth pairs, {C} clients (throughput)",
            f"{fmt_rate(dv(N, m('s2', 'api8_s')))} ({fmt_t(m('s2', 'api8_s'))}; p50 {fmt_us(m('s2', 'api8_p50'))}, p99 {fmt_us(m('s2', 'api8_p99'))}); 1 client {fmt_rate(dv(N, m('s2', 'api1_s')))}",
            f"ip -batch {fmt_rate(dv(N, m('s2', 'batch_s')))}; {C} ip -batch at once {fmt_rate(dv(N, m('s2', 'batch8_s')))}; ip -batch with one queue per end {fmt_rate(dv(N, m('s2', 'batch1q_s')))}",
            f"{fmt_x(r)} the rate of ip -batch; {fmt_x(ratio_med('s2', 'batch1q_s', 'api8_s'))} that of ip -batch with one queue; {fmt_x(ratio_med('s2', 'api1_s', 'api8_s'))} the 1-client rate; daemon CPU {fmt_t(dv(m('s2', 'api8_cpu'), N))} per pair; the machine's CPUs {m('s2', 'api8_busy') * 100:.0f}% busy meanwhile",
            "≥ 0.8x ip -batch's rate", None if r is None else r >= 0.8)
    if "s3" in RESULTS:
        G = ARGS.growth
        # per-creation medians: a handful of requests stalled by other work
        # on the machine would otherwise decide the mean
        r = ratio_med("s3", "api_last_p50", "api_first_p50")
        add("3", f"growth: per creation, pairs 0-99 vs {G - 100}-{G - 1}",
            f"p50 {fmt_us(m('s3', 'api_first_p50'))} → {fmt_us(m('s3', 'api_last_p50'))} (mean {fmt_us(m('s3', 'api_first_us'))} → {fmt_us(m('s3', 'api_last_us'))}, {fmt_x(ratio_med('s3', 'api_last_us', 'api_first_us'))})",
            f"ip -batch {fmt_us(m('s3', 'batch_first_us'))} → {fmt_us(m('s3', 'batch_last_us'))} ({fmt_x(ratio_med('s3', 'batch_last_us', 'batch_first_us'))})",
            f"{fmt_x(r)} (medians)", "≤ 1.2x", None if r is None else r <= 1.2)
        add("3", "growth: the daemon's CPU time per creation, same windows",
            f"{fmt_us(m('s3', 'api_first_cpu_us'))} → {fmt_us(m('s3', 'api_last_cpu_us'))}", "",
            fmt_x(ratio_med("s3", "api_last_cpu_us", "api_first_cpu_us")))
        add("3", f"tear down the {G} pairs: DELETE both namespaces",
            fmt_t(m("s3", "api_teardown_s")), "", "")
    if "s4" in RESULTS:
        L = ARGS.list_n
        r_raw = ratio_med("s4", "api_p50", "raw_p50")
        r_ip = ratio_med("s4", "api_p50", "ipj_p50")
        ok = None if r_raw is None else (r_raw <= 2 and r_ip < 1)
        add("4", f"GET a namespace's links ({L} veth ends + lo), latency",
            f"p50 {fmt_us(m('s4', 'api_p50'))}, p90 {fmt_us(m('s4', 'api_p90'))}, p99 {fmt_us(m('s4', 'api_p99'))}",
            f"raw link dump p50 {fmt_us(m('s4', 'raw_p50'))} (links+addresses {fmt_us(m('s4', 'rawaddr_p50'))}); "
            f"ip -j link show p50 {fmt_us(m('s4', 'ipj_p50'))}",
            f"{fmt_x(r_raw)} of raw dump; {fmt_x(r_ip)} of ip -j",
            "≤ 2x raw dump, < 1x ip -j link show", ok)
        add("4", f"GET links, wrk -t{ARGS.wrk_threads} -c{ARGS.wrk_conns}",
            f"{fmt_rate(m('s4', 'api_wrk_rps'))} (p50 {fmt_us(m('s4', 'api_wrk_p50'))}, p99 {fmt_us(m('s4', 'api_wrk_p99'))})",
            f"raw dumps, 1 thread: {fmt_rate(dv(1e6, m('s4', 'raw_p50')))}", "")
    if "s5" in RESULTS:
        r = ratio_med("s5", "api_rps", "nginx_rps")
        add("5", f"GET /healthz, wrk -t{ARGS.wrk_threads} -c{ARGS.wrk_conns} -d{ARGS.wrk_secs}s, both as shipped: a log line per request",
            f"{fmt_rate(m('s5', 'api_rps'))} (p50 {fmt_us(m('s5', 'api_p50'))}, p99 {fmt_us(m('s5', 'api_p99'))})",
            f"nginx {fmt_rate(m('s5', 'nginx_rps'))} (p50 {fmt_us(m('s5', 'nginx_p50'))}, p99 {fmt_us(m('s5', 'nginx_p99'))})",
            fmt_x(r), "≥ 0.8x nginx", None if r is None else r >= 0.8)
        add("5", "GET /healthz, the same with no per-request log (netnsd --log-level warn, nginx access_log off)",
            f"{fmt_rate(m('s5', 'quiet_api_rps'))} (p50 {fmt_us(m('s5', 'quiet_api_p50'))}, p99 {fmt_us(m('s5', 'quiet_api_p99'))})",
            f"nginx {fmt_rate(m('s5', 'quiet_nginx_rps'))} (p50 {fmt_us(m('s5', 'quiet_nginx_p50'))}, p99 {fmt_us(m('s5', 'quiet_nginx_p99'))})",
            fmt_x(ratio_med("s5", "quiet_api_rps", "quiet_nginx_rps")))
        add("5", "GET /healthz, 1 connection, sequential, as shipped",
            f"p50 {fmt_us(m('s5', 'api_seq_p50'))} ({fmt_rate(m('s5', 'api_seq_rps'))})",
            f"nginx p50 {fmt_us(m('s5', 'nginx_seq_p50'))} ({fmt_rate(m('s5', 'nginx_seq_rps'))})",
            fmt_x(ratio_med("s5", "api_seq_rps", "nginx_seq_rps")))
    if "s6" in RESULTS:
        r = ratio_med("s6", "api_reapply_s", "batch_s")
        add("6", f"start-up re-apply of {ARGS.re_ns} namespaces + {ARGS.re_veth} veths (exec to /readyz 200)",
            f"{fmt_t(m('s6', 'api_reapply_s'))} (empty state: {fmt_t(m('s6', 'api_empty_start_s'))}); CPU {fmt_t(m('s6', 'api_reapply_cpu'))}",
            f"ip -batch {fmt_t(m('s6', 'batch_s'))}; CPU {fmt_t(m('s6', 'batch_cpu'))}",
            f"{fmt_x(r)}; CPU {fmt_x(ratio_med('s6', 'api_reapply_cpu', 'batch_cpu'))}", "≤ 1.5x ip -batch",
            None if r is None else r <= 1.5)
    if "s7" in RESULTS:
        pb = m("s7", "per_obj")
        add("7", f"peak RSS (VmHWM) with {int(m('s7', 'objects') or 0):,} managed objects",
            f"{fmt_b(m('s7', 'full_hwm'))} vs empty {fmt_b(m('s7', 'empty_hwm'))}: {fmt_b(pb)} per object, after reading "
            f"GET /v1/state, /v1/namespaces and 10 link lists; {fmt_b(m('s7', 'made_hwm'))} ({fmt_b(m('s7', 'per_obj_made'))} per object) "
            f"after creating them, before any read; restarted on that state: {fmt_b(m('s7', 'restart_hwm'))} ({fmt_b(m('s7', 'per_obj_restart'))} per object)",
            f"state on disk {fmt_b(m('s7', 'state_bytes'))}", f"{fmt_b(pb)}/object",
            "≤ 2 KiB per object", None if pb is None else pb <= 2048)
    if "s8" in RESULTS:
        r = ratio_med("s8", "api_gone_s", "ip_gone_s")
        add("8", f"delete a namespace holding {ARGS.k} managed veths (until the last peer is gone)",
            f"{fmt_t(m('s8', 'api_gone_s'))} (answer after {fmt_t(m('s8', 'api_reply_s'))})",
            f"ip netns del {fmt_t(m('s8', 'ip_gone_s'))} (returns after {fmt_t(m('s8', 'ip_reply_s'))})",
            fmt_x(r), "≤ 2x ip netns del", None if r is None else r <= 2)
    if "s9" in RESULTS:
        NS9, P9 = ARGS.s9_ns, ARGS.s9_pairs
        r = ratio_med("s9", "api_apply_s", "batch_s")
        kernel = [x.get("batch_s") - x.get("batch_spawn_s") for x in RESULTS["s9"]
                  if x.get("batch_s") is not None and x.get("batch_spawn_s") is not None]
        r_k = med([x["api_apply_s"] / (x["batch_s"] - x["batch_spawn_s"]) for x in RESULTS["s9"]
                   if x.get("api_apply_s") and x.get("batch_s") and x.get("batch_spawn_s") is not None])
        add("9", f"apply from empty, one PUT /v1/state: {NS9} namespaces, a bridge, {P9} veth pairs (host end on the bridge), {P9} addresses",
            f"{fmt_t(m('s9', 'api_apply_s'))}; daemon CPU {fmt_t(m('s9', 'api_apply_cpu'))}",
            f"ip -batch {fmt_t(m('s9', 'batch_s'))} (one host batch {fmt_t(m('s9', 'batch_host_s'))}, then one ip -n NS -batch per namespace {fmt_t(m('s9', 'batch_ns_s'))}, of which starting {NS9} ip processes {fmt_t(m('s9', 'batch_spawn_s'))}); CPU {fmt_t(m('s9', 'batch_cpu'))}",
            f"{fmt_x(r)} of ip -batch; {fmt_x(r_k)} of ip -batch without its process starts ({fmt_t(med(kernel))})",
            "≤ 1.3x ip -batch", None if r is None else r <= 1.3)
        r = ratio_med("s9", "each_s", "api_apply_s")
        errs = sum(x.get("each_errors") or 0 for x in RESULTS["s9"])
        add("9", f"the same through one request per object ({int(m('s9', 'each_n') or 0):,} requests, one keep-alive connection)",
            fmt_t(m("s9", "api_apply_s")),
            f"per object {fmt_t(m('s9', 'each_s'))}" + (f" ({errs} answers not 2xx in all repetitions)" if errs else ""),
            f"{fmt_x(r)} faster", "≥ 5x faster", None if r is None else r >= 5)
        v = m("s9", "api_dry_empty_s")
        add("9", "dry run of the document (?dry_run=true), on an empty host",
            f"{fmt_t(v)} (daemon CPU {fmt_t(m('s9', 'api_dry_empty_cpu'))}); with the topology in place {fmt_t(m('s9', 'api_dry_s'))}", "", "",
            "≤ 50 ms", None if v is None else v <= 0.05)
        v = m("s9", "api_noop_s")
        add("9", "no-op PUT of the same document, the topology in place",
            f"{fmt_t(v)} (daemon CPU {fmt_t(m('s9', 'api_noop_cpu'))})", "", "",
            "≤ 150 ms", None if v is None else v <= 0.15)
        r = ratio_med("s9", "api_teardown_s", "batch_teardown_s")
        add("9", "tear it down: PUT of {}",
            f"{fmt_t(m('s9', 'api_teardown_s'))} (daemon CPU {fmt_t(m('s9', 'api_teardown_cpu'))})",
            f"ip -batch: link del of each host end, of br0, netns del of each namespace {fmt_t(m('s9', 'batch_teardown_s'))} (CPU {fmt_t(m('s9', 'batch_teardown_cpu'))})",
            fmt_x(r), "≤ 1.5x ip", None if r is None else r <= 1.5)
        sm, fu = m("s9", "syncs_small"), m("s9", "syncs_full")
        if sm is not None and fu is not None:
            add("9", "fdatasync + fsync calls per apply (strace -c of the daemon's threads)",
                f"{int(m('s9', 'syncs_small_pairs'))} pairs: {int(sm)} (teardown {int(m('s9', 'syncs_small_teardown'))}); "
                f"{int(m('s9', 'syncs_full_pairs'))} pairs: {int(fu)} (teardown {int(m('s9', 'syncs_full_teardown'))})",
                "", "",
                "a constant", sm == fu and m("s9", "syncs_small_teardown") == m("s9", "syncs_full_teardown"))
    # scenario 10: the event stream
    if "s10" in RESULTS:
        NSE, S = ARGS.ev_ns, ARGS.ev_subs
        p99 = m("s10", "lat_p99")
        lost = sum(r.get("lat_lost", 0) for r in RESULTS["s10"])
        ok = None if p99 is None else p99 <= 50e3
        add("10", f"kernel change → a subscriber's receipt: lo's MTU set over netlink in one of {NSE:,} monitored namespaces (a different one each time), {int(m('s10', 'lat_n') or 0)} samples a repetition",
            f"p50 {fmt_us(m('s10', 'lat_p50'))}, p90 {fmt_us(m('s10', 'lat_p90'))}, p99 {fmt_us(p99)} (max {fmt_us(m('s10', 'lat_max'))}); "
            f"{lost} lost (none within 2 s; in the percentiles at 2 s); {sum(r.get('lat_not_kernel', 0) for r in RESULTS['s10'])} not marked source kernel",
            "", "", "p99 ≤ 50 ms", ok)
        r = ratio_med("s10", "nosubs_s", "subs_s")  # rate ratio = inverse time ratio
        have = [r_ for r_ in RESULTS["s10"] if "sub_n" in r_]
        short = sum(r_["sub_short"] for r_ in have)
        ok = None if r is None or not have else (r >= 0.9 and short == 0)
        T = int(m("s10", "subs_turns") or 0)

        def rate(tag):
            return dv(N * (m("s10", f"{tag}_turns") or 1), m("s10", f"{tag}_s"))

        def busy(tag):
            return med([dv(r_.get(f"{tag}_busy_j"), r_.get(f"{tag}_all_j")) for r_ in RESULTS["s10"]])

        def pct_(x):
            return "-" if x is None else f"{x * 100:.0f}%"

        def sys_(tag):
            return pct_(med([dv(r_.get(f"{tag}_stime"), (r_.get(f"{tag}_utime") or 0) + (r_.get(f"{tag}_stime") or 0))
                             for r_ in RESULTS["s10"]]))
        add("10", f"create {N} veth pairs (1 client) with {S} subscribers reading every event; {T} turns each way a repetition, in alternating order",
            f"{fmt_rate(rate('subs'))}; every subscriber {int(m('s10', 'sub_events_min') or 0):,}-{int(m('s10', 'sub_events_max') or 0):,} events a turn ({2 * N + 1:,} made): "
            f"{sum(r_['sub_complete'] for r_ in have)} of {sum(r_['sub_n'] for r_ in have)} streams complete, "
            f"{sum(r_['sub_resynced'] for r_ in have)} told resync, {short} short; "
            f"daemon CPU {fmt_t(dv(m('s10', 'subs_cpu'), N * (m('s10', 'subs_turns') or 1)))} per pair ({sys_('subs')} in the kernel); "
            f"the client and the subscribers' process {fmt_t(dv(m('s10', 'subs_readers_cpu'), N * (m('s10', 'subs_turns') or 1)))} per pair; the machine's CPUs {pct_(busy('subs'))} busy",
            f"no subscriber {fmt_rate(rate('nosubs'))}; daemon CPU {fmt_t(dv(m('s10', 'nosubs_cpu'), N * (m('s10', 'nosubs_turns') or 1)))} per pair ({sys_('nosubs')} in the kernel); "
            f"the client {fmt_t(dv(m('s10', 'nosubs_readers_cpu'), N * (m('s10', 'nosubs_turns') or 1)))} per pair; CPUs {pct_(busy('nosubs'))} busy",
            f"{fmt_x(r)} the rate without; daemon CPU {fmt_x(ratio_med('s10', 'subs_cpu', 'nosubs_cpu'))}",
            "≥ 0.9x the rate without subscribers; each gets every event or a resync", ok)
        if any("base_subs_s" in r_ for r_ in RESULTS["s10"]):
            rb = ratio_med("s10", "base_nosubs_s", "base_subs_s")
            add("10", f"the same turns on --netnsd-base ({os.path.basename(ARGS.netnsd_base)}), in the same repetitions",
                f"{fmt_rate(rate('base_subs'))}; {sum(r_.get('base_sub_complete', 0) for r_ in RESULTS['s10'])} of "
                f"{sum(r_.get('base_sub_n', 0) for r_ in RESULTS['s10'])} streams complete; "
                f"daemon CPU {fmt_t(dv(m('s10', 'base_subs_cpu'), N * (m('s10', 'base_subs_turns') or 1)))} per pair ({sys_('base_subs')} in the kernel); "
                f"the client and the subscribers' process {fmt_t(dv(m('s10', 'base_subs_readers_cpu'), N * (m('s10', 'base_subs_turns') or 1)))} per pair; CPUs {pct_(busy('base_subs'))} busy",
                f"no subscriber {fmt_rate(rate('base_nosubs'))}; daemon CPU {fmt_t(dv(m('s10', 'base_nosubs_cpu'), N * (m('s10', 'base_nosubs_turns') or 1)))} per pair",
                f"{fmt_x(rb)} the rate without; daemon CPU {fmt_x(ratio_med('s10', 'base_subs_cpu', 'base_nosubs_cpu'))}")
        add("10", f"the same {N} pairs, no subscriber, on the daemon watching {NSE:,} namespaces",
            f"{fmt_rate(rate('bigns'))}; daemon CPU {fmt_t(dv(m('s10', 'bigns_cpu'), N))} per pair",
            f"2 namespaces watched: {fmt_rate(rate('nosubs'))}",
            f"{fmt_x(med([dv(dv(r_.get('nosubs_s'), r_.get('nosubs_turns')), r_.get('bigns_s')) for r_ in RESULTS['s10']]))} the rate; daemon CPU "
            f"{fmt_x(med([dv(r_.get('bigns_cpu'), dv(r_.get('nosubs_cpu'), r_.get('nosubs_turns'))) for r_ in RESULTS['s10']]))}")
        tk = [r_["idle_ticks"] for r_ in RESULTS["s10"] if "idle_ticks" in r_]
        hz = m("s10", "idle_hz") or 100
        # no polling: nothing charged, and not one wake-up either (a
        # wake-up too short to be charged a tick is still polling)
        sw = [r_["idle_switches"] for r_ in RESULTS["s10"] if "idle_switches" in r_]
        ok = None if not tk else max(tk) == 0 and max(sw) == 0
        add("10", f"daemon CPU, {NSE:,} namespaces monitored and idle for {ARGS.ev_idle_s:g} s",
            f"utime+stime {int(m('s10', 'idle_ticks') or 0)} ticks (max {max(tk) if tk else '-'} over repetitions; 1 tick = {1000 / hz:g} ms); "
            f"run time {fmt_t(m('s10', 'idle_cpu_s'))}, of which the main thread {fmt_t(m('s10', 'idle_main_cpu_s'))}; {int(m('s10', 'idle_switches') or 0)} context switches",
            "", "", "0 (no polling: no tick, no wake-up)", ok)
    if "fsync" in RESULTS:
        add("-", "fdatasync of a 300-byte append on the state file's disk",
            f"p50 {fmt_us(m('fsync', 'fdatasync_us'))}, p90 {fmt_us(m('fsync', 'fdatasync_p90_us'))}", "", "")
    return rows, targets


def machine():
    def first(cmd):
        try:
            return sh(cmd, check=False).stdout.strip()
        except Exception:
            return ""
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = ""
    with open("/proc/meminfo") as f:
        mem = f.readline().split(":")[1].strip()
    src = first(["findmnt", "-n", "-o", "SOURCE,FSTYPE,OPTIONS", "-T", WORK])
    dev = src.split()[0] if src else ""
    rota = ""
    if dev.startswith("/dev/"):
        base = re.sub(r"p?\d+$", "", os.path.basename(dev)) if not os.path.exists(
            f"/sys/block/{os.path.basename(dev)}") else os.path.basename(dev)
        try:
            with open(f"/sys/block/{base}/queue/rotational") as f:
                rota = "(kernel says " + ("rotational" if f.read().strip() == "1" else "non-rotational") + ")"
        except OSError:
            pass
    virt = first(["systemd-detect-virt"]) or ("hypervisor" if "hypervisor" in open("/proc/cpuinfo").read() else "")
    git = first(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    dirty = first(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    return [
        ("CPU", f"{model}, {os.cpu_count()} CPUs (nproc {first(['nproc'])})"),
        ("memory", mem),
        ("kernel", f"{platform.release()} ({platform.machine()}){', ' + virt if virt else ''}"),
        ("OS", first(["sh", "-c", ". /etc/os-release && echo $PRETTY_NAME"])),
        ("state file disk", f"{WORK}: {src} {rota}".strip()),
        ("netnsd", (os.environ.get("NETNSD_REV") or f"{ARGS.netnsd} (git {git}{' + local changes' if dirty else ''})")
         + ", RelWithDebInfo, default flags (--threads 4, log level info, to a file on the same disk)"),
        ("tools", "; ".join(x for x in [
            first(["ip", "-V"]), first(["sh", "-c", f"{ARGS.nginx} -v 2>&1"]),
            first(["sh", "-c", "wrk -v 2>&1 | head -1"]).split(" [")[0],
            first(["sh", "-c", "cc --version | head -1"])] if x)),
        ("sandbox", "tests/sandbox: private network + mount namespace, tmpfs /run"),
        ("load average", " → ".join("/".join(f"{x:.1f}" for x in l) for l in LOAD)
         + " (1/5/15 min, at the start → at the end: other work on the machine)"),
    ]


def render(rows, targets, started, elapsed):
    out = []
    mode = "quick" if ARGS.quick else "full"
    out.append(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, "
               f"{mode} mode, {ARGS.reps} repetition(s) per scenario (medians shown; "
               f"ratios are medians of per-repetition ratios), {elapsed / 60:.1f} min in all.\n")
    out.append("| | |\n|---|---|")
    for k, v in machine():
        out.append(f"| {k} | {v} |")
    out.append("")
    out.append("| # | measure | netnsd | baseline | ratio | target | |")
    out.append("|---|---|---|---|---|---|---|")
    for r in rows:
        out.append("| " + " | ".join(str(x) for x in r) + " |")
    if ERRORS:
        out.append("Failures during this run:\n")
        out.extend(f"- {e}" for e in ERRORS)
        out.append("")
    return "\n".join(out)


RESULTS_HEAD = """# netnsd benchmark results

Produced by `bench/run` (see `bench/README.md`); the tables between the
markers are rewritten by each run, the analysis below them is kept.

"""
BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def write_results(text):
    path = ARGS.out
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in old and END in old:
        new = old[:old.index(BEGIN)] + block + old[old.index(END) + len(END):]
    else:
        new = RESULTS_HEAD + block + "\n"
    with open(path, "w") as f:
        f.write(new)


def main():
    global ARGS, WORK
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small N, one repetition (< 2 min)")
    ap.add_argument("--reps", type=int, help="repetitions per scenario (default 3, quick 1)")
    ap.add_argument("--only", help="comma-separated scenarios: fsync,s1,...,s9")
    ap.add_argument("--netnsd", default=os.path.join(ROOT, "build", "netnsd"))
    ap.add_argument("--nginx", default=shutil.which("nginx") or "/usr/sbin/nginx")
    ap.add_argument("--workdir", default="/var/tmp",
                    help="where the state files go: a real disk, not tmpfs")
    ap.add_argument("--out", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--no-write", action="store_true", help="do not write RESULTS.md")
    ap.add_argument("--perf", action="store_true", help="run the daemon under perf record -g")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--netnsd-base", help="scenario 10: also run the subscriber turns on this "
                    "binary (say, main's), in turns with --netnsd, for a side-by-side figure")
    ARGS = ap.parse_args()
    q = ARGS.quick
    ARGS.reps = ARGS.reps or (1 if q else 3)
    ARGS.n = 100 if q else 1000
    ARGS.n_ns = 20 if q else 100
    ARGS.clients = 8
    ARGS.growth = 600 if q else 3100
    ARGS.list_n = 1000
    ARGS.list_reps = 50 if q else 200
    ARGS.ipj_reps = 10 if q else 30
    ARGS.wrk_threads, ARGS.wrk_conns = 2, 16
    ARGS.wrk_secs = 2 if q else 5
    ARGS.healthz_seq = 2000 if q else 10000
    ARGS.re_ns, ARGS.re_veth = (20, 200) if q else (100, 1000)
    ARGS.objects = 1000 if q else 10000
    ARGS.k = 200 if q else 1000
    ARGS.fsync_n = 100 if q else 500
    ARGS.s9_ns, ARGS.s9_pairs = (20, 200) if q else (100, 1000)
    # scenario 10: namespaces monitored, latency samples, subscribers, idle time
    ARGS.ev_ns = 100 if q else 1000
    ARGS.ev_samples = 200 if q else 300
    ARGS.ev_subs = 100
    ARGS.ev_idle_s = 5 if q else 10

    if os.environ.get("NETNSD_IN_SANDBOX") != "1":
        sys.exit("bench.py runs inside tests/sandbox; use bench/run")
    for tool in (ARGS.netnsd, CLIENT, RAWNL, EVSTREAM):
        if not os.access(tool, os.X_OK):
            sys.exit(f"missing {tool}: use bench/run, which builds it")
    WORK = tempfile.mkdtemp(prefix="netnsd-bench.", dir=ARGS.workdir)
    os.chmod(WORK, 0o755)  # nginx's workers read their files from here
    fs = sh(["findmnt", "-n", "-o", "FSTYPE", "-T", WORK], check=False).stdout.strip()
    if fs in ("tmpfs", "ramfs"):
        log(f"warning: {WORK} is on {fs}: fsync costs nothing there")
    only = set(ARGS.only.split(",")) if ARGS.only else None

    def stop_on(sig, frame):
        raise SystemExit(f"stopped by signal {sig}")
    signal.signal(signal.SIGTERM, stop_on)
    signal.signal(signal.SIGHUP, stop_on)
    if ARGS.perf:
        subprocess.run(["mount", "-t", "tracefs", "tracefs", "/sys/kernel/tracing"],
                       stderr=subprocess.DEVNULL)
    LOAD.append(os.getloadavg())
    started = time.time()
    t0 = time.monotonic()
    try:
        for name, fn in SCENARIOS:
            if only and name not in only:
                continue
            for rep in range(ARGS.reps):
                log(f"{name} ({fn.__doc__.strip().splitlines()[0] if fn.__doc__ else name}) "
                    f"repetition {rep + 1}/{ARGS.reps}")
                ts = time.monotonic()
                try:
                    fn(rep)
                except Exception as e:  # keep going: the table shows "-"
                    import traceback
                    traceback.print_exc()
                    record(name, rep, error=str(e)[:300])
                    ERRORS.append(f"{name} repetition {rep + 1}: {str(e)[:300]}")
                    for d in DAEMONS:
                        d.stop()
                    for ng in NGINXES:
                        nginx_stop(ng)
                    netns_clear()
                log(f"  done in {time.monotonic() - ts:.1f} s: "
                    + json.dumps({k: (round(v, 6) if isinstance(v, float) else v)
                                  for k, v in RESULTS.get(name, [{}])[rep].items()}))
    finally:
        # whatever happened: nothing of ours keeps running
        for d in DAEMONS:
            d.stop()
        for ng in NGINXES:
            nginx_stop(ng)
        try:
            netns_clear()
        except Exception:
            pass
        with open(os.path.join(WORK, "raw.json"), "w") as f:
            json.dump({"args": vars(ARGS), "results": RESULTS}, f, indent=1)
    elapsed = time.monotonic() - t0
    LOAD.append(os.getloadavg())
    rows, targets = build_table()
    text = render(rows, targets, started, elapsed)
    print(text)
    if not ARGS.no_write:
        write_results(text)
        log(f"wrote {ARGS.out}")
    with open(os.path.join(HERE, ".build", "last-run.json"), "w") as f:
        json.dump({"args": vars(ARGS), "results": RESULTS}, f, indent=1)
    if not ARGS.keep:
        shutil.rmtree(WORK, ignore_errors=True)
    else:
        log(f"kept {WORK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
