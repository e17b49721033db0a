"""Helpers shared by the reliability suites (test_reliability_*.py).

harness.py is shared and not ours to change; what these suites need on top
of it lives here:

- a keep-alive HTTP client (http.client under the hood, answers as
  harness.Response), for suites that make thousands of requests;
- the kernel's whole topology through `ip -j` (links with kind, MTU, MAC,
  admin state, master, veth peer, alias, bridge options, addresses);
- the desired state as GET /v1/state tells it, and a field-by-field
  comparison of the two (`kernel_vs_desired`) that also reports orphans:
  namespaces, netnsd-marked links and addresses the kernel has but the
  desired state does not;
- the API's own view compared with the kernel (`api_vs_kernel`);
- an offline reader of the state files (snapshot + CRC32C journal), so a
  test can check what is on disk before netnsd reads it back;
- private mounts (tmpfs, a loop-mounted ext4) for storage faults, and
  process figures (/proc/PID: fds, sockets, netlink sockets, RSS).

Standard library only, like the harness.
"""

import http.client
import ipaddress
import json
import os
import random
import re
import socket
import subprocess
import tempfile
import threading
import time

import harness as h

NETNSD_ALIAS = "netnsd"


def K(ns):
    """The `ip -n` argument for an API namespace name."""
    return None if ns == "host" else ns


def cidr(text):
    """A CIDR in one canonical spelling ("2001:db8::1/64")."""
    i = ipaddress.ip_interface(text)
    return "%s/%d" % (i.ip.compressed, i.network.prefixlen)


def is_link_local(text):
    return ipaddress.ip_interface(text).ip.is_link_local


def env_float(name, default):
    try:
        return float(os.environ.get(name, ""))
    except ValueError:
        return default


def env_int(name, default):
    try:
        return int(os.environ.get(name, ""))
    except ValueError:
        return default


def say(fmt, *args):
    """A figure or a progress line in the test's output (ctest keeps it)."""
    print("    " + (fmt % args if args else fmt), flush=True)


# ---------------------------------------------------------------------------
# HTTP: keep-alive client


class KeepAlive:
    """One persistent HTTP/1.1 connection to netnsd. request() answers a
    harness.Response; it reconnects when the server closed the connection
    (counted in .reconnects). A failure while sending a request that may
    have reached the server is raised, never retried silently."""

    def __init__(self, port, timeout=None, host=h.API_HOST):
        self.port = port
        self.host = host
        self.timeout = timeout if timeout is not None else h.scaled(30)
        self.conn = None
        self.reconnects = 0
        self.requests = 0

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port,
                                               timeout=self.timeout)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, content_type=None,
                headers=None, retry_idle=True):
        if body is not None and not isinstance(body, (bytes, bytearray, str)):
            body = json.dumps(body)
            if content_type is None:
                content_type = "application/json"
        if isinstance(body, str):
            body = body.encode()
        if content_type is None and body is not None:
            content_type = "application/json"
        hdrs = {}
        if content_type:
            hdrs["Content-Type"] = content_type
        if headers:
            hdrs.update(headers)
        fresh = self.conn is None
        if fresh:
            self._connect()
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            resp = self.conn.getresponse()
            data = resp.read()
        except (http.client.RemoteDisconnected, BrokenPipeError,
                ConnectionResetError, http.client.BadStatusLine):
            # An idle keep-alive connection the server had closed: nothing
            # of the request was read, so it is safe to send it again.
            self.close()
            if fresh or not retry_idle:
                raise
            self.reconnects += 1
            return self.request(method, path, body, content_type, headers,
                                retry_idle=False)
        self.requests += 1
        r = h.Response(resp.status, resp.reason, resp.msg, data)
        if resp.will_close:
            self.close()
            self.reconnects += 1
        return r

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


# ---------------------------------------------------------------------------
# The kernel's view


def kkind(l):
    return (l.get("linkinfo") or {}).get("info_kind")


def bridge_info(l):
    """The info_data of an `ip -j -d` bridge object."""
    return (l.get("linkinfo") or {}).get("info_data") or {}


def _ns_dump(ns):
    """Links with their details and addresses (one `ip -j -d addr show`),
    and the namespace's nsids when a veth there has its peer elsewhere."""
    links = h.ip_json("-d", "addr", "show", ns=K(ns))
    ids = []
    if any("link_netnsid" in l for l in links):
        ids = h.ip_json("netns", "list-id", ns=K(ns))
    return links, links, ids


def kernel_topology(namespaces):
    """{ns: {ifname: facts}} for "host" and each namespace given that
    exists. facts: kind, mtu, mac, up, master, alias, peer ((ns, name) or
    None for a veth whose peer cannot be found), global addresses,
    all_addresses, ifindex, and for bridges stp and vlan_filtering."""
    dumps = {}
    for ns in ["host"] + sorted(set(namespaces) - {"host"}):
        try:
            dumps[ns] = _ns_dump(ns)
        except AssertionError:
            continue  # gone meanwhile, or never there
    by_index = {ns: {l["ifindex"]: l["ifname"] for l in d[0]}
                for ns, d in dumps.items()}
    topo = {}
    for ns, (links, addrs, ids) in dumps.items():
        nsid_name = {e["nsid"]: e.get("name") or "host" for e in ids
                     if "nsid" in e}
        a_global, a_all = {}, {}
        for l in addrs:
            for a in l.get("addr_info", []):
                c = cidr("%s/%d" % (a["local"], a["prefixlen"]))
                a_all.setdefault(l["ifname"], []).append(c)
                if a.get("scope") == "global":
                    a_global.setdefault(l["ifname"], []).append(c)
        out = {}
        for l in links:
            name = l["ifname"]
            kind = kkind(l)
            peer = None
            if kind == "veth":
                if "link_netnsid" in l:
                    pns = nsid_name.get(l["link_netnsid"], "?")
                    pname = by_index.get(pns, {}).get(l.get("link_index"))
                    peer = (pns, pname) if pname else ("?", None)
                elif "link" in l:
                    peer = (ns, l["link"])
                elif "link_index" in l:
                    peer = (ns, by_index[ns].get(l["link_index"]))
            f = {
                "kind": kind, "mtu": l["mtu"],
                "mac": (l.get("address") or "").lower() or None,
                "up": "UP" in l["flags"], "master": l.get("master"),
                "alias": l.get("ifalias"), "peer": peer,
                "addresses": sorted(a_global.get(name, [])),
                "all_addresses": sorted(a_all.get(name, [])),
                "ifindex": l["ifindex"],
            }
            if kind == "bridge":
                info = (l.get("linkinfo") or {}).get("info_data") or {}
                f["stp"] = info.get("stp_state", 0) != 0
                f["vlan_filtering"] = bool(info.get("vlan_filtering", 0))
            out[name] = f
        topo[ns] = out
    return topo


def strip_volatile(topo):
    """A topology without what a re-creation may change (ifindexes, and
    IPv6 link-local addresses, which come when the kernel sees fit)."""
    return {ns: {n: {k: v for k, v in f.items()
                     if k not in ("ifindex", "all_addresses")}
                 for n, f in links.items()}
            for ns, links in topo.items()}


def differences(a, b, path=""):
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a:
                out.append("%s/%s: appeared as %r" % (path, k, b[k]))
            elif k not in b:
                out.append("%s/%s: missing (was %r)" % (path, k, a[k]))
            else:
                out += differences(a[k], b[k], "%s/%s" % (path, k))
    elif a != b:
        out.append("%s: was %r, now %r" % (path, a, b))
    return out


# ---------------------------------------------------------------------------
# The desired state


class Desired:
    """GET /v1/state, indexed: .namespaces (set), .links {(ns, name): rec},
    .addresses set of (ns, link, cidr), .routes {(ns, table, dst, metric):
    rec}, .sysctls {(ns, key): value}, .revision."""

    def __init__(self, doc):
        self.doc = doc
        self.revision = doc.get("revision")
        self.namespaces = {n["name"] for n in doc["namespaces"]}
        self.links = {}
        for l in doc["links"]:
            rec = {k: v for k, v in l.items()
                   if k not in ("namespace", "name")}
            self.links[(l["namespace"], l["name"])] = rec
        self.addresses = {(a["namespace"], a["link"], cidr(a["address"]))
                          for a in doc["addresses"]}
        self.routes = {}
        for r in doc.get("routes", []):
            rec = {k: v for k, v in r.items() if k != "namespace"}
            self.routes[(r["namespace"], r["table"], r["dst"],
                         r["metric"])] = rec
        self.sysctls = {(s["namespace"], s["key"]): s["value"]
                        for s in doc.get("sysctls", [])}

    @classmethod
    def fetch(cls, d):
        r = d.get("/v1/state")
        h.expect_status(r, 200, "GET /v1/state")
        return cls(r.json)

    def key_set(self):
        return ({("ns", n) for n in self.namespaces} |
                {("link",) + k for k in self.links} |
                {("addr",) + a for a in self.addresses} |
                {("route",) + k for k in self.routes} |
                {("sysctl",) + k for k in self.sysctls})

    def canonical(self, keep=None):
        """A comparable form; keep(kind, ns, name) filters objects."""
        keep = keep or (lambda kind, ns, name: True)
        return {
            "namespaces": sorted(n for n in self.namespaces
                                 if keep("ns", n, None)),
            "links": {"%s/%s" % k: v for k, v in sorted(self.links.items())
                      if keep("link", k[0], k[1])},
            "addresses": sorted("%s/%s/%s" % a for a in self.addresses
                                if keep("addr", a[0], a[1])),
            "routes": {"%s/%s/%s/%s" % k: v
                       for k, v in sorted(self.routes.items())
                       if keep("route", k[0], None)},
            "sysctls": {"%s/%s" % k: v for k, v in sorted(self.sysctls.items())
                        if keep("sysctl", k[0], None)},
        }


def kernel_vs_desired(des, topo=None, all_namespaces_desired=True,
                      scope=None):
    """Everything in which the kernel and the desired state differ, in
    words. Every desired namespace, link and address must be there, field
    by field (kind, MTU, MAC, admin state, master, veth peer, bridge
    options, the alias netnsd marks its own links with). Orphans count too:
    a link marked netnsd that is not desired, a global address on a desired
    link that is not desired, and (all_namespaces_desired) a named namespace
    that is not desired. scope(ns, name) limits the check to some links."""
    inscope = scope or (lambda ns, name: True)
    kernel_ns = set(h.netns_list())
    if topo is None:
        topo = kernel_topology(des.namespaces | kernel_ns)
    out = []
    for ns in sorted(des.namespaces):
        if ns not in kernel_ns and inscope(ns, None):
            out.append("namespace %s is desired but missing" % ns)
    if all_namespaces_desired:
        for ns in sorted(kernel_ns - des.namespaces):
            if inscope(ns, None):
                out.append("namespace %s exists but is not desired "
                           "(orphan: %s)" % (ns, "a live namespace"
                                             if h.netns_is_mounted(ns) else
                                             "a file with no namespace "
                                             "mounted on it"))
    for (ns, name), rec in sorted(des.links.items()):
        if not inscope(ns, name):
            continue
        k = topo.get(ns, {}).get(name)
        where = "%s/%s" % (ns, name)
        if k is None:
            if rec.get("owned"):
                out.append("link %s is desired (%s) but missing"
                           % (where, json.dumps(rec, sort_keys=True)))
            continue
        if rec.get("owned"):
            if rec.get("kind") and k["kind"] != rec["kind"]:
                out.append("link %s: kind is %s, desired %s"
                           % (where, k["kind"], rec["kind"]))
            if k["alias"] != NETNSD_ALIAS:
                out.append("link %s: alias is %r, not %r"
                           % (where, k["alias"], NETNSD_ALIAS))
        if "mtu" in rec and k["mtu"] != rec["mtu"]:
            out.append("link %s: mtu is %s, desired %s"
                       % (where, k["mtu"], rec["mtu"]))
        if "mac" in rec and k["mac"] != rec["mac"].lower():
            out.append("link %s: mac is %s, desired %s"
                       % (where, k["mac"], rec["mac"]))
        if "up" in rec and k["up"] != rec["up"]:
            out.append("link %s: up is %s, desired %s"
                       % (where, k["up"], rec["up"]))
        if "master" in rec and k["master"] != rec["master"]:
            out.append("link %s: master is %s, desired %s"
                       % (where, k["master"], rec["master"]))
        for opt in ("stp", "vlan_filtering"):
            if opt in rec and k.get(opt) != rec[opt]:
                out.append("link %s: %s is %s, desired %s"
                           % (where, opt, k.get(opt), rec[opt]))
        if "peer" in rec:
            want = (rec["peer"]["namespace"], rec["peer"]["name"])
            if k["peer"] != want:
                out.append("link %s: peer is %s, desired %s"
                           % (where, k["peer"], want))
        have = set(k["addresses"])
        want = {a[2] for a in des.addresses if a[:2] == (ns, name)}
        for a in sorted(have - want):
            out.append("link %s: address %s is there but not desired "
                       "(orphan)" % (where, a))
    for ns, links in sorted(topo.items()):
        for name, k in sorted(links.items()):
            if (k["alias"] == NETNSD_ALIAS and (ns, name) not in des.links
                    and inscope(ns, name)):
                out.append("link %s/%s (%s) is marked netnsd but not desired "
                           "(orphan)" % (ns, name, k["kind"]))
    for (ns, link, a) in sorted(des.addresses):
        if not inscope(ns, link):
            continue
        k = topo.get(ns, {}).get(link)
        if k is None:
            if ns in topo:
                out.append("address %s on %s/%s: the link is missing"
                           % (a, ns, link))
        elif a not in k["addresses"]:
            out.append("address %s on %s/%s is desired but missing"
                       % (a, ns, link))
    out += routes_vs_desired(des, topo, kernel_ns, inscope)
    for (ns, key), value in sorted(des.sysctls.items()):
        if (ns in kernel_ns or ns == "host") and inscope(ns, None):
            have = sysctl_read(ns, key)
            if have != value:
                out.append("sysctl %s in %s is %s, desired %s"
                           % (key, ns, have, value))
    return out


NETNSD_ROUTE_PROTO = 173  # README.md, "Routes"


def kernel_routes(ns, proto=NETNSD_ROUTE_PROTO):
    """The routes of protocol `proto` (netnsd's; None: every route) of
    every table in a namespace ("host": the sandbox's own),
    {(table, dst, metric): ip -j route object}."""
    out = {}
    only = ["proto", str(proto)] if proto is not None else []
    for fam in ("-4", "-6"):
        for r in h.ip_json(fam, "route", "show", "table", "all", *only,
                           ns=None if ns == "host" else ns):
            dst = r["dst"]
            if dst == "default":
                dst = "0.0.0.0/0" if fam == "-4" else "::/0"
            elif "/" not in dst:
                dst += "/32" if fam == "-4" else "/128"
            table = r.get("table", "main")
            table = {"main": 254, "local": 255, "default": 253}.get(
                table, table)
            out[(int(table), dst, r.get("metric", 0))] = r
    return out


def routes_vs_desired(des, topo, kernel_ns, inscope):
    """Routes that differ: a desired route the kernel lacks while its
    device is there and up (the kernel takes a link's routes away while it
    is down, and netnsd puts them back when it comes up), and netnsd's
    route that nothing desires (orphan)."""
    out = []
    for ns in sorted((des.namespaces & kernel_ns) | {"host"}):
        if not inscope(ns, None):
            continue
        have = kernel_routes(ns)
        for (rns, table, dst, metric), rec in sorted(des.routes.items()):
            if rns != ns or (table, dst, metric) in have:
                continue
            dev = topo.get(ns, {}).get(rec.get("dev"))
            if dev is not None and dev["up"]:
                out.append("route %s (table %s, metric %s) in %s is "
                           "desired but missing" % (dst, table, metric, ns))
        for (table, dst, metric), r in sorted(have.items()):
            if (ns, table, dst, metric) not in des.routes:
                out.append("route %s (table %s, metric %s, dev %s) in %s "
                           "is netnsd's but not desired (orphan)"
                           % (dst, table, metric, r.get("dev"), ns))
    return out


def sysctl_path(key):
    """/proc/sys of a dotted key (README "Sysctls"); a link's name, the
    part between "conf." and the attribute, may hold dots."""
    parts = key.split(".")
    if len(parts) > 4 and parts[2] == "conf":
        return "/proc/sys/%s/%s/conf/%s/%s" % (
            parts[0], parts[1], ".".join(parts[3:-1]), parts[-1])
    return "/proc/sys/" + "/".join(parts)


def sysctl_read(ns, key):
    """A sysctl's value inside a namespace, read there; None if absent."""
    cmd = ["cat", sysctl_path(key)]
    if ns != "host":
        cmd = ["ip", "netns", "exec", ns] + cmd
    r = h.run(cmd, check=False)
    return r.stdout.strip() if r.returncode == 0 else None


def kernel_vs_desired_settled(d, timeout, **kw):
    """kernel_vs_desired against netnsd's desired state, asked again until
    they agree or `timeout` (seconds) is over: the kernel tears a deleted
    namespace down asynchronously, so the far end of a veth that crossed
    into it goes a moment after the DELETE has answered. Returns the
    desired state and the last list of differences."""
    dl = h.Deadline(timeout)
    while True:
        des = Desired.fetch(d)
        problems = kernel_vs_desired(des, **kw)
        if not problems or dl.expired():
            return des, problems
        time.sleep(0.1)


def api_vs_kernel(d, namespaces, topo=None, scope=None):
    """Compares every GET .../links answer with the kernel: the same links,
    each with the same kind, MTU, MAC, admin state, master, peer and
    addresses; a link is managed when netnsd marked it or desires it as
    owned; every managed link says in_sync true. Also GET /v1/namespaces/X
    for each desired namespace: managed, in sync."""
    inscope = scope or (lambda ns, name: True)
    if topo is None:
        topo = kernel_topology(namespaces)
    des = Desired.fetch(d)
    out = []
    for ns in ["host"] + sorted(set(namespaces) - {"host"}):
        r = d.get("/v1/namespaces/%s/links" % ns)
        if r.status != 200:
            out.append("GET %s links: %r" % (ns, r))
            continue
        items = {i["name"]: i for i in r.json["items"]}
        k = topo.get(ns, {})
        for name in sorted(set(items) | set(k)):
            if not inscope(ns, name):
                continue
            i, kl = items.get(name), k.get(name)
            where = "%s/%s" % (ns, name)
            if i is None:
                out.append("API does not list %s, the kernel has it" % where)
                continue
            if kl is None:
                out.append("API lists %s (in_sync %s, drift %s), the kernel "
                           "does not have it" % (where, i.get("in_sync"),
                                                 i.get("drift")))
                continue
            kind = kl["kind"] or ("loopback" if name == "lo" else "device")
            facts = {"kind": kind, "mtu": kl["mtu"], "mac": kl["mac"],
                     "up": kl["up"], "master": kl["master"],
                     "addresses": [a for a in kl["all_addresses"]
                                   if not is_link_local(a)],
                     "peer": ({"namespace": kl["peer"][0],
                               "name": kl["peer"][1]}
                              if kl["peer"] and kl["peer"][1] else None)}
            got = {"kind": i["kind"], "mtu": i["mtu"],
                   "mac": (i["mac"] or "").lower() or None, "up": i["up"],
                   "master": i["master"],
                   "addresses": sorted(cidr(a) for a in i["addresses"]
                                       if not is_link_local(a)),
                   "peer": i["peer"]}
            for f in facts:
                if facts[f] != got[f]:
                    out.append("API says %s %s is %r, the kernel %r"
                               % (where, f, got[f], facts[f]))
            rec = des.links.get((ns, name))
            managed = kl["alias"] == NETNSD_ALIAS or bool(
                rec and rec.get("owned"))
            if i["managed"] != managed:
                out.append("API says %s managed %s, expected %s"
                           % (where, i["managed"], managed))
            if rec is not None and i.get("in_sync") is not True:
                out.append("API says %s is not in sync: %s"
                           % (where, i.get("drift")))
    for ns in sorted(des.namespaces):
        if not inscope(ns, None):
            continue
        r = d.get("/v1/namespaces/" + ns)
        if r.status != 200 or not r.json.get("managed") or \
                r.json.get("in_sync") is not True:
            out.append("GET /v1/namespaces/%s: %r" % (ns, r))
    return out


# ---------------------------------------------------------------------------
# The state files, read offline

_CRC32C = []


def crc32c(data):
    if not _CRC32C:
        for i in range(256):
            c = i
            for _ in range(8):
                c = 0x82f63b78 ^ (c >> 1) if c & 1 else c >> 1
            _CRC32C.append(c)
    c = 0xffffffff
    for b in data:
        c = _CRC32C[(c ^ b) & 0xff] ^ (c >> 8)
    return c ^ 0xffffffff


def _journal_record(line):
    """A journal line (without its newline) as netnsd reads it, or None."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    try:
        if int(line[:8], 16) != crc32c(line[9:]):
            return None
        rec = json.loads(line[9:])
    except ValueError:
        return None
    if not isinstance(rec, dict) or not isinstance(rec.get("seq"), int) \
            or rec["seq"] < 0 or not isinstance(rec.get("ops"), list):
        return None
    synced = rec.get("synced", 0)
    if not isinstance(synced, int) or not 0 <= synced < rec["seq"]:
        return None
    return rec


def _journal_tail(data, pos, last):
    """What follows the last whole record (sequence `last`, ending at
    `pos`): None when it is zeros or what a power loss leaves of records
    no sync covered (pieces cut by zeros or the end, records after the
    lost one that do not say it was on disk), else why start-up stops."""
    prev, prev_end, boundary = last + 1, pos, True
    while pos < len(data):
        if data[pos] == 0:
            pos, boundary = pos + 1, False
            continue
        nl = data.find(b"\n", pos)
        end = nl if nl >= 0 else len(data)
        z = data.find(b"\0", pos, end)
        if z >= 0 or nl < 0:
            pos, boundary = (z if z >= 0 else end), False
            continue
        rec = _journal_record(data[pos:nl])
        if rec is None and boundary:
            return "journal record at byte %d is damaged" % pos
        if rec is not None:
            if "synced" not in rec or rec["synced"] > last:
                return ("journal record at byte %d (sequence %d) vouches "
                        "for sequence %d, lost" % (pos, rec["seq"],
                                                     last + 1))
            if rec["seq"] <= prev or (pos == prev_end and
                                      rec["seq"] != prev + 1):
                return "journal sequence %d after %d" % (rec["seq"], prev)
            prev, prev_end = rec["seq"], nl + 1
        pos, boundary = nl + 1, True
    return None


class StateFiles:
    """What the snapshot and journal hold, read as netnsd would: .objects
    (key -> value), .seq, .revision (what GET /v1/state calls revision: a
    record's "rev", or one more per record without it), .records (journal
    records applied), .torn (bytes of a torn tail netnsd cuts), .problems
    (anything that would stop start-up), .end (where the records end: the
    journal's trailing zeros are room netnsd wrote ahead of them)."""

    def __init__(self, state_file):
        self.objects = {}
        self.seq = 0
        self.revision = 0
        self.records = 0
        self.torn = 0
        self.problems = []
        try:
            with open(state_file, "rb") as f:
                snap = json.loads(f.read())
            if snap.get("format") != "netnsd-state" or \
                    not isinstance(snap.get("objects"), dict):
                self.problems.append("snapshot is not a netnsd state")
            else:
                self.objects = dict(snap["objects"])
                self.seq = snap["seq"]
                self.revision = snap.get("revision", self.seq)
        except FileNotFoundError:
            pass
        except ValueError as e:
            self.problems.append("snapshot does not parse: %s" % e)
        try:
            with open(state_file + ".journal", "rb") as f:
                data = f.read()
        except FileNotFoundError:
            data = b""
        # Whole records (no NUL, up to a newline) one after the other;
        # what follows must be what a power loss leaves (see _tail), as
        # README's "Durable state" says.
        pos, last = 0, self.seq
        while pos < len(data) and data[pos] != 0:
            nl = data.find(b"\n", pos)
            if nl < 0 or b"\0" in data[pos:nl]:
                break
            rec = _journal_record(data[pos:nl])
            if rec is None:
                self.problems.append("journal record at byte %d is "
                                     "damaged" % pos)
                break
            seq = rec.get("seq")
            if seq > self.seq or last != self.seq:
                if seq != last + 1:
                    self.problems.append("journal sequence %s after %s"
                                         % (seq, last))
                    break
                for op in rec["ops"]:
                    if "set" in op:
                        self.objects[op["set"]] = op["value"]
                    else:
                        self.objects.pop(op["del"], None)
                last = seq
                rev = rec.get("rev")
                self.revision = rev if isinstance(rev, int) else \
                    self.revision + 1
                self.records += 1
            pos = nl + 1
        if not self.problems:
            problem = _journal_tail(data, pos, last)
            if problem:
                self.problems.append(problem)
            elif data[pos:].strip(b"\0"):
                self.torn = len(data) - pos
        self.seq = last
        self.end = pos

    def as_state(self):
        """The same lists GET /v1/state answers."""
        nss, links, addrs, routes, sysctls = [], [], [], [], []
        for key, v in self.objects.items():
            kind, _, rest = key.partition("/")
            if kind == "ns":
                nss.append({"name": rest})
            elif kind == "link":
                ns, _, name = rest.partition("/")
                o = dict(v)
                o.update(namespace=ns, name=name)
                links.append(o)
            elif kind == "addr":
                ns, _, rest2 = rest.partition("/")
                link, _, c = rest2.partition("/")
                addrs.append({"namespace": ns, "link": link, "address": c})
            elif kind == "route":
                o = dict(v)
                o["namespace"] = rest.partition("/")[0]
                routes.append(o)
            elif kind == "sysctl":
                ns, _, key = rest.partition("/")
                sysctls.append({"namespace": ns, "key": key,
                                "value": v.get("value")})
        return Desired({"revision": self.revision, "namespaces": nss,
                        "links": links, "addresses": addrs,
                        "routes": routes, "sysctls": sysctls})


# ---------------------------------------------------------------------------
# Private mounts for storage faults (the sandbox's mount namespace is ours)


def mount_tmpfs(size):
    """A fresh tmpfs of `size` (e.g. "256k") on a new directory; unmounted
    after the test."""
    path = tempfile.mkdtemp(prefix="netnsd-tmpfs-", dir="/tmp")
    h.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size,
           "netnsd-test-state", path])
    h.on_cleanup(lambda: (h.run(["umount", "-l", path], check=False),
                          os.rmdir(path)))
    return path


def fill_fs(path):
    """Fills the filesystem holding `path` with one file; returns its
    name. Writes in ever smaller pieces until not one byte more fits."""
    filler = os.path.join(path, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        chunk = 1 << 20
        while chunk >= 1:
            try:
                os.write(fd, b"\0" * chunk)
            except OSError:
                chunk //= 2
    finally:
        os.close(fd)
    return filler


def loop_ext4(size_mb=16, options="errors=remount-ro"):
    """An ext4 filesystem on a loop device, mounted on a new directory, or
    None when this machine cannot make one (no loop devices, no mkfs)."""
    if not os.path.exists("/dev/loop-control"):
        return None
    img = tempfile.mktemp(prefix="netnsd-ext4-", suffix=".img", dir="/tmp")
    path = tempfile.mkdtemp(prefix="netnsd-ext4-", dir="/tmp")
    try:
        with open(img, "wb") as f:
            f.truncate(size_mb << 20)
        if h.run(["mkfs.ext4", "-q", "-F", img], check=False).returncode:
            raise OSError("mkfs.ext4 failed")
        if h.run(["mount", "-o", "loop," + options, img, path],
                 check=False).returncode:
            raise OSError("mount -o loop failed")
    except (OSError, subprocess.SubprocessError):
        try:
            os.unlink(img)
            os.rmdir(path)
        except OSError:
            pass
        return None

    def cleanup():
        h.run(["umount", "-l", path], check=False)
        for f in (img,):
            try:
                os.unlink(f)
            except OSError:
                pass
        try:
            os.rmdir(path)
        except OSError:
            pass
    h.on_cleanup(cleanup)
    return path, img


def mount_source(path):
    """The device mounted on path (findmnt)."""
    return h.run(["findmnt", "-n", "-o", "SOURCE", "--target", path]
                 ).stdout.strip()


def mount_options(path):
    return h.run(["findmnt", "-n", "-o", "OPTIONS", "--target", path]
                 ).stdout.strip()


# ---------------------------------------------------------------------------
# Process figures


def socket_inodes(pid):
    fd_dir = "/proc/%d/fd" % pid
    out = set()
    for fd in os.listdir(fd_dir):
        try:
            t = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", t)
        if m:
            out.add(int(m.group(1)))
    return out


# The groups (/proc/net/netlink's hex column) of the event monitor's one
# socket per namespace: link, IPv4/IPv6 address, route and netconf
# (sysctl) notifications.
MONITOR_GROUPS = "01800551"


def netlink_sockets_in(pid, ns, monitor=True):
    """How many netlink sockets process pid holds inside namespace ns;
    monitor=False leaves out the event monitor's, which is held, by design,
    as long as the namespace exists (README.md, "Watching")."""
    p = h.run(["ip", "netns", "exec", ns, "cat", "/proc/net/netlink"],
              check=False)
    inodes = {int(l.split()[-1]) for l in p.stdout.splitlines()[1:]
              if l.split() and (monitor or l.split()[3] != MONITOR_GROUPS)}
    return len(inodes & socket_inodes(pid))


def proc_figures(pid):
    """fds, socket fds, netlink socket fds (inodes found in the
    /proc/net/netlink of the sandbox or of any named namespace), VmRSS in
    KiB, threads, and mounts under /run/netns."""
    fd_dir = "/proc/%d/fd" % pid
    fds = os.listdir(fd_dir)
    socks = []
    for fd in fds:
        try:
            t = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", t)
        if m:
            socks.append(int(m.group(1)))
    nl_inodes = set()
    for ns in [None] + h.netns_list():
        cmd = ["cat", "/proc/net/netlink"]
        if ns:
            cmd = ["ip", "netns", "exec", ns] + cmd
        p = h.run(cmd, check=False)
        for line in p.stdout.splitlines()[1:]:
            parts = line.split()
            if parts:
                nl_inodes.add(int(parts[-1]))
    status = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            status[k] = v.strip()
    with open("/proc/self/mountinfo") as f:
        mounts = sum(1 for l in f if " /run/netns/" in l)
    return {
        "fds": len(fds),
        "sockets": len(socks),
        "netlink": sum(1 for s in socks if s in nl_inodes),
        "rss_kib": int(status["VmRSS"].split()[0]),
        "threads": int(status["Threads"]),
        "netns_mounts": mounts,
    }


# ---------------------------------------------------------------------------
# Small things


def rng(seed_name):
    """A random generator whose seed is printed, so a failing run can be
    repeated with NETNSD_TEST_SEED."""
    seed = os.environ.get("NETNSD_TEST_SEED")
    seed = int(seed) if seed else random.randrange(1 << 30)
    say("%s: seed %d (NETNSD_TEST_SEED=%d repeats it)", seed_name, seed, seed)
    return random.Random(seed)


class Stopwatch:
    def __init__(self):
        self.t0 = time.monotonic()

    def __call__(self):
        return time.monotonic() - self.t0


def threads_run(fns, timeout):
    """Starts one thread per callable, joins them all within `timeout`;
    returns the names of those still running (stuck)."""
    ts = [threading.Thread(target=f, daemon=True) for f in fns]
    for t in ts:
        t.start()
    d = h.Deadline(timeout)
    for t in ts:
        t.join(d.left())
    return [t.name for t in ts if t.is_alive()]


def log_lines(d, *needles, limit=20):
    """Lines of the daemon's log that contain any of the needles."""
    out = [l for l in d.log_text().splitlines()
           if any(n in l for n in needles)]
    return out[-limit:]
