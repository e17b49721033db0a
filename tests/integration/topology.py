"""Helpers shared by the topology tests: the kernel's view of links and
addresses (`ip -j`), snapshots to prove a refused request changed nothing,
and short ways to build namespaces, veths and bridges through the API."""

import harness as h
from harness import check, eq, expect_status
# ---------------------------------------------------------------------------
# Local helpers (kept in this file: harness.py is shared and not ours)

LINK_FIELDS = ("name", "namespace", "ifindex", "kind", "mtu", "mac", "up",
               "oper_state", "master", "peer", "addresses", "managed")


def K(ns):
    """The `ip -n` argument for an API namespace name."""
    return None if ns == "host" else ns


def klinks(ns="host"):
    """{name: `ip -j -d link` object} of a namespace."""
    return {l["ifname"]: l for l in h.ip_json("-d", "link", "show", ns=K(ns))}


def klink(name, ns="host"):
    return klinks(ns).get(name)


def kkind(l):
    return (l.get("linkinfo") or {}).get("info_kind")


def kup(l):
    return "UP" in l["flags"]


def kaddrs(name, ns="host"):
    """Global addresses of a link, as sorted "ip/prefixlen" strings."""
    out = []
    for l in h.ip_json("addr", "show", "dev", name, ns=K(ns)):
        for a in l.get("addr_info", []):
            if a.get("scope") != "link":
                out.append("%s/%d" % (a["local"], a["prefixlen"]))
    return sorted(out)


def kview(ns="host"):
    """What a failed request must not change in a namespace: per link its
    name, kind, mtu, MAC, admin state, master, alias and global addresses."""
    view = {}
    for l in h.ip_json("-d", "link", "show", ns=K(ns)):
        view[l["ifname"]] = (kkind(l), l["mtu"], l.get("address"), kup(l),
                             l.get("master"), l.get("ifalias"))
    for l in h.ip_json("addr", "show", ns=K(ns)):
        view[l["ifname"]] += (tuple(sorted(
            "%s/%d" % (a["local"], a["prefixlen"])
            for a in l.get("addr_info", []) if a.get("scope") != "link")),)
    return view


def kpeer(l, ns="host"):
    """(namespace, name) of a veth's peer as the kernel tells it, or None."""
    if kkind(l) != "veth":
        return None
    if "link_netnsid" not in l:
        return (ns, l["link"]) if "link" in l else None
    ids = h.ip_json("netns", "list-id", ns=K(ns))
    pns = next((e.get("name") for e in ids
                if e.get("nsid") == l["link_netnsid"]), None) or "host"
    for x in klinks(pns).values():
        if x["ifindex"] == l.get("link_index"):
            return (pns, x["ifname"])
    return None


def state(d):
    r = d.get("/v1/state")
    expect_status(r, 200, "GET /v1/state")
    return r.json


def snapshot(d, namespaces=("host",)):
    return ({ns: kview(ns) for ns in namespaces}, state(d))


def expect_unchanged(d, before, what):
    namespaces = tuple(before[0])
    now = snapshot(d, namespaces)
    for ns in namespaces:
        if now[0][ns] != before[0][ns]:
            raise h.Failure("%s changed the kernel in %s:\nbefore %r\nafter  %r"
                            % (what, ns, before[0][ns], now[0][ns]))
    if now[1] != before[1]:
        raise h.Failure("%s changed the desired state:\nbefore %r\nafter  %r"
                        % (what, before[1], now[1]))


def state_link(st, ns, name):
    for l in st["links"]:
        if l["namespace"] == ns and l["name"] == name:
            return l
    return None


def clean_host_links():
    for name in klinks("host"):
        if name != "lo":
            # "dev": a name such as "a" would be read as a keyword.
            h.ip("link", "del", "dev", name, check=False)


def setup():
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    return d


def mk_ns(d, name):
    expect_status(d.put("/v1/namespaces/" + name, {}), 201, "PUT namespace")


def mk_veth(d, ns, name, peer, peer_ns=None, **kw):
    body = dict(name=name, peer={"name": peer})
    if peer_ns:
        body["peer"]["namespace"] = peer_ns
    body.update(kw)
    r = d.post("/v1/namespaces/%s/veths" % ns, body)
    expect_status(r, 201, "POST veth %s/%s" % (ns, name))
    return r.json


def mk_bridge(d, ns, name, **kw):
    body = dict(name=name)
    body.update(kw)
    r = d.post("/v1/namespaces/%s/bridges" % ns, body)
    expect_status(r, 201, "POST bridge %s/%s" % (ns, name))
    return r.json


def expect_list_is_its_items(d, path, item_path):
    """A list's bytes are its items' own GETs (item_path(name)), byte for
    byte and in its order, as one writer renders a link either way; each
    item's GET ends with a newline, keeps its ETag from one GET to the
    next, and HEAD and If-None-Match agree with it. Returns the items."""
    r = expect_status(d.get(path), 200, "GET " + path)
    bodies = []
    for it in r.json["items"]:
        p = item_path(it["name"])
        one = expect_status(d.get(p), 200, "GET " + p)
        tag = one.header("ETag")
        check(one.body.endswith(b"}\n"), "%s ends %r", p, one.body[-8:])
        eq(expect_status(d.get(p), 200).header("ETag"), tag,
           "ETag of %s again" % p)
        head = expect_status(d.request("HEAD", p), 200, "HEAD " + p)
        eq((head.header("ETag"), head.header("Content-Length")),
           (tag, str(len(one.body))), "HEAD " + p)
        expect_status(d.get(p, headers={"If-None-Match": tag}), 304,
                      "If-None-Match " + p)
        bodies.append(one.body[:-1])
    eq(r.body, b'{"items":[' + b",".join(bodies) + b']}\n',
       "%s, item by item" % path)
    return r.json["items"]


def L(ns, name=None):
    p = "/v1/namespaces/%s/links" % ns
    return p + "/" + name if name else p


def B(ns, name=None):
    p = "/v1/namespaces/%s/bridges" % ns
    return p + "/" + name if name else p


def P(ns, br, port=None):
    p = B(ns, br) + "/ports"
    return p + "/" + port if port else p
