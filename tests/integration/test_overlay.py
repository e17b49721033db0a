#!/usr/bin/python3
"""Two hosts joined by a VXLAN overlay, each with its own netnsd: the way
to span hosts (README.md, "Spanning hosts"). Two network namespaces of the
sandbox stand in for the two hosts, joined by an underlay veth (their
"physical" network, made with ip, not netnsd's); each runs a netnsd of its
own (its own state file and netns directory), reached over a management
veth. Through each daemon's API alone: a vxlan on the underlay, a bridge
with the vxlan as a port, a namespace with a veth into the bridge and an
overlay address. Then a namespace on one host pings the other's, and again
after one daemon is SIGKILLed and its vxlan wiped: start-up makes the
vxlan again with its options and puts it back on its bridge."""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check, eq, expect_status, test  # noqa: E402

VNI = 4200
HOSTS = {
    # host namespace, underlay link and address, management address
    "a": ("ovl-host-a", "ul-a", "198.18.0.1", "198.18.10.2", "198.18.100.1"),
    "b": ("ovl-host-b", "ul-b", "198.18.0.2", "198.18.11.2", "198.18.100.2"),
}


class Node(h.Daemon):
    """A netnsd in the network namespace of one "host", listening on that
    host's management address (the test reaches it through a veth)."""

    def __init__(self, key):
        self.hostns, self.ul, self.ul_addr, self.addr, self.pod_addr = \
            HOSTS[key]
        super().__init__(netns_dir="/run/netnsd-%s" % key)
        # Not on loopback: netnsd wants a token (or TLS) there.
        self.token = secrets.token_hex(16)
        fd, self.token_file = tempfile.mkstemp(dir=self.state_dir)
        os.write(fd, (self.token + "\n").encode())
        os.close(fd)
        os.chmod(self.token_file, 0o600)

    def command(self):
        cmd = super().command()
        cmd[cmd.index("--listen") + 1] = "%s:%d" % (self.addr, self.port)
        # Only the network namespace changes: the netns directory and the
        # namespaces it holds stay visible to the test.
        return (["nsenter", "--net=/run/netns/" + self.hostns] + cmd +
                ["--token-file", self.token_file])

    def request(self, method, path, body=None, **kw):
        kw.setdefault("host", self.addr)
        kw["headers"] = dict(kw.get("headers") or {},
                             Authorization="Bearer " + self.token)
        return h.http_request(self.port, method, path, body=body, **kw)

    def start(self, timeout=None, extra_args=(), ready=True):
        self.spawn(extra_args)

        def ready_now():
            check(self.proc.poll() is None, "netnsd exited:\n%s"
                  % self.log_tail())
            try:
                return self.get("/readyz").status == 200
            except OSError:
                return False
        h.wait_until(ready_now, timeout=h.scaled(10),
                     what="netnsd on %s to be ready" % self.hostns)
        return self


def in_ns(path, *cmd, check_rc=True):
    return h.run(["nsenter", "--net=" + path] + list(cmd), check=check_rc)


def host_ip(node, *args, check_rc=True):
    return h.ip(*args, ns=node.hostns, check=check_rc)


def kernel_link(node, name):
    for l in h.ip_json("-d", "link", "show", ns=node.hostns):
        if l["ifname"] == name:
            return l
    return None


def make_hosts():
    """The two hosts, their underlay and their management links."""
    for i, (key, (hostns, ul, ul_addr, addr, _)) in enumerate(
            sorted(HOSTS.items())):
        h.ip("netns", "add", hostns)
        h.ip("link", "set", "lo", "up", ns=hostns)
        # Management: 198.18.1x.1 here, 198.18.1x.2 on the host.
        h.ip("link", "add", "mg-" + key, "type", "veth", "peer", "name",
             "mg", "netns", hostns)
        h.ip("addr", "add", "198.18.1%d.1/30" % i, "dev", "mg-" + key)
        h.ip("link", "set", "mg-" + key, "up")
        h.ip("addr", "add", addr + "/30", "dev", "mg", ns=hostns)
        h.ip("link", "set", "mg", "up", ns=hostns)
    a, b = HOSTS["a"], HOSTS["b"]
    h.ip("link", "add", a[1], "netns", a[0], "type", "veth", "peer", "name",
         b[1], "netns", b[0])
    for hostns, ul, ul_addr, _, _ in (a, b):
        h.ip("addr", "add", ul_addr + "/24", "dev", ul, ns=hostns)
        h.ip("link", "set", ul, "up", ns=hostns)


def cleanup(nodes):
    for n in nodes:
        if n.proc is not None:
            n.stop()
    for key in HOSTS:
        d = "/run/netnsd-%s" % key
        for name in os.listdir(d) if os.path.isdir(d) else []:
            subprocess.run(["umount", "-l", os.path.join(d, name)],
                           stderr=subprocess.DEVNULL)
        shutil.rmtree(d, ignore_errors=True)
    for key in sorted(HOSTS):
        h.ip("link", "del", "dev", "mg-" + key, check=False)


def build(node, remote):
    """The overlay on one host, through its own API only."""
    r = node.post("/v1/namespaces/host/links", {
        "name": "vx0", "kind": "vxlan", "vni": VNI, "local": node.ul_addr,
        "remote": remote, "parent": node.ul, "up": True})
    expect_status(r, 201, "vxlan on %s" % node.hostns)
    expect_status(node.post("/v1/namespaces/host/bridges",
                            {"name": "br0", "up": True}), 201, "bridge")
    expect_status(node.put("/v1/namespaces/host/bridges/br0/ports/vx0"), 201,
                  "vxlan into the bridge")
    expect_status(node.put("/v1/namespaces/pod", {}), 201, "namespace")
    expect_status(node.post("/v1/namespaces/host/veths", {
        "name": "vpod", "up": True,
        "peer": {"name": "eth0", "namespace": "pod", "up": True}}), 201,
        "veth into the namespace")
    expect_status(node.put("/v1/namespaces/host/bridges/br0/ports/vpod"),
                  201, "veth into the bridge")
    expect_status(node.post("/v1/namespaces/pod/links/eth0/addresses",
                            {"address": node.pod_addr + "/24"}), 201,
                  "overlay address")


def ping(src, dst):
    r = in_ns(src.netns_dir + "/pod", "ping", "-c", "3", "-i", "0.2", "-w",
              "10", dst.pod_addr, check_rc=False)
    check(r.returncode == 0, "ping %s -> %s over the overlay failed:\n%s%s"
          % (src.hostns, dst.pod_addr, r.stdout, r.stderr))


@test
def test_overlay_between_two_hosts():
    nodes = []
    h.on_cleanup(lambda: cleanup(nodes))
    make_hosts()
    a, b = Node("a"), Node("b")
    nodes += [a, b]
    h._DAEMONS.extend(nodes)
    for n in nodes:
        os.makedirs(n.netns_dir, exist_ok=True)
        n.start()
    build(a, b.ul_addr)
    build(b, a.ul_addr)
    # The kernel of each host has the vxlan on its underlay, in the bridge.
    for n, remote in ((a, b.ul_addr), (b, a.ul_addr)):
        l = kernel_link(n, "vx0")
        data = l["linkinfo"]["info_data"]
        eq((data["id"], data["local"], data["remote"], data["port"],
            data["link"], l.get("master")),
           (VNI, n.ul_addr, remote, 4789, n.ul, "br0"),
           "vxlan on %s" % n.hostns)
    ping(a, b)
    ping(b, a)
    # Host b's netnsd dies and its vxlan is wiped: start-up makes it again,
    # with its options, back in its bridge, and the overlay carries again.
    b.kill()
    host_ip(b, "link", "del", "dev", "vx0")
    b.start()
    l = kernel_link(b, "vx0")
    check(l is not None, "start-up should make vx0 again")
    data = l["linkinfo"]["info_data"]
    eq((data["id"], data["remote"], data["link"], l.get("master"),
        "UP" in l["flags"]),
       (VNI, a.ul_addr, b.ul, "br0", True), "vx0 made again")
    ping(a, b)
    # The underlay link is not netnsd's, and was not changed.
    eq(b.get("/v1/namespaces/host/links/" + b.ul).json["managed"], False,
       "the underlay is not managed")


if __name__ == "__main__":
    h.run_tests()
