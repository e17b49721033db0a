#!/usr/bin/python3
"""Links of the kind table (POST /v1/namespaces/{ns}/links, PUT on the
item): macvlan and vxlan made for real and read back from the kernel with
`ip -j -d link` (kind, options, parent), shown by GET, kept in the desired
state, made again by start-up after a SIGKILL and a wipe (parents first);
PUT converges mtu/mac/up and answers 409 for options fixed at creation; a
dry run changes nothing; bad input is a 400/404 problem that changes
nothing; a parent netnsd did not create needs no force and is left as it
was. vlan, ipvlan and dummy are tried too: their tests skip, saying why,
only when the kernel answers that it has no such kind."""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check, eq, expect_problem, expect_status, test  # noqa: E402
from topology import (  # noqa: E402
    L,
    expect_unchanged,
    klink,
    kkind,
    kup,
    mk_ns,
    mk_veth,
    setup,
    snapshot,
    state,
    state_link,
)


def info(name, ns):
    l = klink(name, ns)
    check(l is not None, "the kernel has no link %s in %s" % (name, ns))
    return l, (l.get("linkinfo") or {}).get("info_data") or {}


def base(d):
    """Namespace blue with a veth pair ua/ub (up) to stand on."""
    mk_ns(d, "blue")
    mk_veth(d, "blue", "ua", "ub", up=True)


def create(d, ns, body, status=201):
    r = d.post(L(ns), body)
    expect_status(r, status, "POST %s %s" % (body.get("kind"), body.get("name")))
    return r


def unknown_kind(r):
    """Whether an answer is the kernel's "no such kind"."""
    return r.status == 400 and "Unknown device type" in r.json.get("detail", "")


# ---------------------------------------------------------------------------
# macvlan and vxlan, for real


@test
def test_macvlan_create_get_state():
    d = setup()
    base(d)
    r = create(d, "blue", {"name": "mv0", "kind": "macvlan", "parent": "ua",
                           "mode": "private", "up": True})
    eq(r.header("Location"), "/v1/namespaces/blue/links/mv0", "Location")
    eq((r.json["kind"], r.json["parent"], r.json["mode"], r.json["managed"]),
       ("macvlan", "ua", "private", True), "answer")
    l, data = info("mv0", "blue")
    eq(kkind(l), "macvlan", "kernel kind")
    eq(data.get("mode"), "private", "kernel mode")
    eq(l.get("link"), "ua", "kernel parent")
    eq(l.get("ifalias"), "netnsd", "netnsd's alias")
    check(kup(l), "mv0 should be up")
    g = expect_status(d.get(L("blue", "mv0")), 200, "GET").json
    eq((g["kind"], g["parent"], g["mode"], g["in_sync"]),
       ("macvlan", "ua", "private", True), "GET")
    rec = state_link(state(d), "blue", "mv0")
    eq(rec["kind"], "macvlan", "recorded kind")
    eq(rec["options"], {"parent": "ua", "mode": "private"}, "recorded options")
    # The default mode is bridge.
    create(d, "blue", {"name": "mv1", "kind": "macvlan", "parent": "ua"})
    eq(info("mv1", "blue")[1].get("mode"), "bridge", "default mode")
    # Listed with the others, and deleted like any link.
    items = {i["name"]: i for i in d.get(L("blue")).json["items"]}
    eq(items["mv1"]["mode"], "bridge", "listed mode")
    expect_status(d.delete(L("blue", "mv1")), 204, "DELETE")
    check(klink("mv1", "blue") is None, "mv1 should be gone from the kernel")
    check(state_link(state(d), "blue", "mv1") is None,
          "mv1 should be gone from the desired state")


@test
def test_vxlan_create_unicast_and_group():
    d = setup()
    base(d)
    r = create(d, "blue", {"name": "vx0", "kind": "vxlan", "vni": 4242,
                           "local": "198.18.0.1", "remote": "198.18.0.2",
                           "parent": "ua", "learning": False, "up": True})
    eq((r.json["vni"], r.json["local"], r.json["remote"], r.json["dstport"],
        r.json["learning"], r.json["parent"]),
       (4242, "198.18.0.1", "198.18.0.2", 4789, False, "ua"), "answer")
    l, data = info("vx0", "blue")
    eq(kkind(l), "vxlan", "kernel kind")
    eq((data.get("id"), data.get("local"), data.get("remote"),
        data.get("port"), data.get("learning"), data.get("link")),
       (4242, "198.18.0.1", "198.18.0.2", 4789, False, "ua"), "kernel options")
    # A multicast group on an underlay, another port; learning on by default.
    r = create(d, "blue", {"name": "vx1", "kind": "vxlan", "vni": 7,
                           "group": "239.1.1.1", "parent": "ua",
                           "dstport": 8472})
    eq((r.json["group"], r.json["dstport"], r.json["learning"]),
       ("239.1.1.1", 8472, True), "answer")
    data = info("vx1", "blue")[1]
    eq((data.get("group"), data.get("port"), data.get("learning")),
       ("239.1.1.1", 8472, True), "kernel options")
    # IPv6, no underlay.
    create(d, "blue", {"name": "vx6", "kind": "vxlan", "vni": 8,
                       "remote": "2001:db8::2"})
    eq(info("vx6", "blue")[1].get("remote6"), "2001:db8::2", "kernel remote")


@test
def test_a_vni_taken_is_said_in_the_kernels_words():
    d = setup()
    base(d)
    create(d, "blue", {"name": "vx0", "kind": "vxlan", "vni": 100})
    before = h.ip_json("link", "show", ns="blue")
    r = create(d, "blue", {"name": "vx1", "kind": "vxlan", "vni": 100},
               status=409)
    check("VNI" in r.json["detail"] and
          "vx1 already exists" not in r.json["detail"],
          "the kernel's reason, not a name taken: %r", r.json["detail"])
    eq(h.ip_json("link", "show", ns="blue"), before, "the kernel's links")


@test
def test_a_macvlan_on_a_macvlan_is_refused():
    # The kernel would put it on the other's parent: not what the record
    # would say.
    d = setup()
    base(d)
    create(d, "blue", {"name": "mv9", "kind": "macvlan", "parent": "ub"})
    before = h.ip_json("link", "show", ns="blue")
    r = create(d, "blue", {"name": "mv8", "kind": "macvlan",
                           "parent": "mv9"}, status=409)
    check("itself a macvlan" in r.json["detail"], "detail: %r",
          r.json["detail"])
    eq(h.ip_json("link", "show", ns="blue"), before, "the kernel's links")
    # The same in one document, with the parent made by the same apply.
    doc = state(d)
    doc["links"] += [
        {"namespace": "blue", "name": "mv7", "kind": "macvlan",
         "options": {"parent": "ub"}},
        {"namespace": "blue", "name": "mv6", "kind": "macvlan",
         "options": {"parent": "mv7"}}]
    p = expect_problem(d.put("/v1/state", doc), 409, "PUT /v1/state")
    check("itself a macvlan" in p["detail"], "detail: %r", p["detail"])
    eq(h.ip_json("link", "show", ns="blue"), before, "the kernel's links")


@test
def test_put_converges_attributes_refuses_options():
    d = setup()
    base(d)
    body = {"kind": "vxlan", "vni": 10, "remote": "198.18.0.2"}
    r = d.put(L("blue", "vx0"), body)
    expect_status(r, 201, "PUT creates")
    rev = state(d)["revision"]
    expect_status(d.put(L("blue", "vx0"), body), 200, "PUT again")
    eq(state(d)["revision"], rev, "a PUT that changes nothing keeps revision")
    # What it leaves out keeps what is desired; mtu, mac and up converge.
    r = d.put(L("blue", "vx0"), {"kind": "vxlan", "mtu": 1400, "up": True,
                                  "mac": "02:00:00:00:00:42"})
    expect_status(r, 200, "PUT mtu/mac/up")
    l = klink("vx0", "blue")
    eq((l["mtu"], l["address"], kup(l)), (1400, "02:00:00:00:00:42", True),
       "kernel after PUT")
    eq(info("vx0", "blue")[1].get("id"), 10, "the vni is kept")
    before = snapshot(d, ("blue",))
    for change, opt in (({"vni": 11}, "vni"), ({"dstport": 4790}, "dstport"),
                        ({"remote": "198.18.0.3"}, "remote")):
        b = dict(kind="vxlan", **change)
        p = expect_problem(d.put(L("blue", "vx0"), b), 409, "PUT " + opt)
        check("delete and create" in p["detail"] and opt in p["detail"],
              "the 409 should say why: %r" % p)
        eq(p["type"], "urn:netnsd:problem:conflict", "problem type")
    # Another kind under the name, another parent.
    expect_problem(d.put(L("blue", "vx0"), {"kind": "macvlan", "parent": "ua"}),
                   409, "PUT of another kind")
    create(d, "blue", {"name": "mv0", "kind": "macvlan", "parent": "ua"})
    before = snapshot(d, ("blue",))
    p = expect_problem(d.put(L("blue", "mv0"), {"kind": "macvlan",
                                                "parent": "ub"}),
                       409, "PUT of another parent")
    check("parent" in p["detail"], "the 409 should name the parent: %r" % p)
    expect_problem(d.put(L("blue", "mv0"), {"kind": "macvlan",
                                            "mode": "vepa"}),
                   409, "PUT of another mode")
    expect_unchanged(d, before, "a PUT refused")
    # POST on a taken name.
    expect_problem(d.post(L("blue"), {"name": "mv0", "kind": "macvlan",
                                      "parent": "ua"}), 409, "POST taken")
    # A link made by someone else is not converged.
    h.ip("link", "add", "dev", "other0", "link", "ua", "type", "macvlan",
         ns="blue")
    expect_problem(d.put(L("blue", "other0"), {"kind": "macvlan",
                                               "parent": "ua"}),
                   409, "PUT over a link netnsd did not make")


@test
def test_put_after_the_state_is_lost_keeps_the_options():
    d = setup()
    base(d)
    create(d, "blue", {"name": "mv0", "kind": "macvlan", "parent": "ua",
                       "mode": "private"})
    d.kill()
    for f in (d.state_file, d.journal):
        if os.path.exists(f):
            os.unlink(f)
    d.start()
    # Adopted again (200: it carries netnsd's mark).
    expect_status(d.put("/v1/namespaces/blue", {}), (200, 201), "PUT ns")
    # The link is netnsd's (its alias says so); what the PUT leaves out is
    # what the link has, not a new link's defaults.
    r = d.put(L("blue", "mv0"), {"kind": "macvlan", "mtu": 1400})
    expect_status(r, 200, "PUT over a link of netnsd's, no record")
    eq((r.json["mode"], r.json["parent"], r.json["mtu"]),
       ("private", "ua", 1400), "answer")
    eq(state_link(state(d), "blue", "mv0")["options"],
       {"parent": "ua", "mode": "private"}, "recorded options")


@test
def test_dry_run_changes_nothing():
    d = setup()
    base(d)
    before = snapshot(d, ("blue",))
    r = d.post(L("blue") + "?dry_run=true",
               {"name": "mv0", "kind": "macvlan", "parent": "ua"})
    expect_status(r, 200, "dry run")
    eq(r.json["dry_run"], True, "dry_run")
    eq([(c["action"], c["path"]) for c in r.json["changes"]],
       [("create", "/v1/namespaces/blue/links/mv0")], "plan")
    check("macvlan" in r.json["changes"][0]["detail"], "detail names the kind")
    expect_unchanged(d, before, "a dry run")
    # A dry run answers the error the real request would.
    expect_problem(d.post(L("blue") + "?dry_run=true",
                          {"name": "mv0", "kind": "macvlan", "parent": "nope"}),
                   404, "dry run with a missing parent")


@test
def test_bad_input_changes_nothing():
    d = setup()
    base(d)
    mk_ns(d, "red")
    mk_veth(d, "red", "ra", "rb")
    before = snapshot(d, ("blue", "red"))
    bad = [
        ({"name": "x0", "kind": "tunnel"}, 400, "kind"),
        ({"name": "x0"}, 400, "kind"),
        ({"name": "x0", "kind": "veth"}, 400, "kind"),
        ({"name": "x0", "kind": "vxlan"}, 400, "vni"),
        ({"name": "x0", "kind": "vxlan", "vni": 16777216}, 400, "vni"),
        ({"name": "x0", "kind": "vxlan", "vni": -1}, 400, "vni"),
        ({"name": "x0", "kind": "vxlan", "vni": "7"}, 400, "vni"),
        ({"name": "x0", "kind": "vxlan", "vni": 7, "remote": "239.1.1.1"},
         400, "remote"),
        ({"name": "x0", "kind": "vxlan", "vni": 7, "group": "198.18.0.2",
          "parent": "ua"}, 400, "group"),
        ({"name": "x0", "kind": "vxlan", "vni": 7, "group": "239.1.1.1"},
         400, "parent"),
        ({"name": "x0", "kind": "vxlan", "vni": 7, "remote": "198.18.0.2",
          "group": "239.1.1.1", "parent": "ua"}, 400, "group"),
        ({"name": "x0", "kind": "vxlan", "vni": 7, "local": "198.18.0.1",
          "remote": "2001:db8::2"}, 400, "local"),
        ({"name": "x0", "kind": "vxlan", "vni": 7, "local": "nope"}, 400,
         "local"),
        ({"name": "x0", "kind": "vxlan", "vni": 7, "dstport": 0}, 400,
         "dstport"),
        ({"name": "x0", "kind": "macvlan"}, 400, "parent"),
        ({"name": "x0", "kind": "macvlan", "parent": "ua", "mode": "l2"},
         400, "mode"),
        ({"name": "x0", "kind": "macvlan", "parent": "ua", "vni": 3}, 400,
         "vni"),
        ({"name": "x0", "kind": "macvlan", "parent": "a/b"}, 400, "parent"),
        ({"name": "x0", "kind": "macvlan", "parent": "x0"}, 400, "parent"),
        ({"name": "x0", "kind": "vlan", "parent": "ua", "id": 0}, 400, "id"),
        ({"name": "x0", "kind": "vlan", "parent": "ua", "id": 4095}, 400,
         "id"),
        ({"name": "x0", "kind": "vlan", "parent": "ua"}, 400, "id"),
        ({"name": "x0", "kind": "ipvlan", "parent": "ua", "mode": "bridge"},
         400, "mode"),
        ({"name": "x 0", "kind": "dummy"}, 400, "name"),
    ]
    for body, status, field in bad:
        expect_problem(d.post(L("blue"), body), status, "POST %r" % body,
                       field=field)
    # A parent that is not there, or is in another namespace: 404.
    for parent in ("nope", "ra"):
        p = expect_problem(d.post(L("blue"), {"name": "x0", "kind": "macvlan",
                                              "parent": parent}),
                           404, "parent %s" % parent)
        check(parent in p["detail"], "the 404 should name the parent: %r" % p)
    expect_problem(d.post(L("nope"), {"name": "x0", "kind": "dummy"}), 404,
                   "a namespace that does not exist")
    expect_unchanged(d, before, "bad input")


@test
def test_parent_not_owned_needs_no_force():
    d = setup()
    # A link in the daemon's own namespace that netnsd did not make.
    h.ip("link", "add", "dev", "hosta", "type", "veth", "peer", "name", "hostb")
    h.ip("link", "set", "hosta", "mtu", "1600")
    parent_before = klink("hosta")
    r = create(d, "host", {"name": "mvh", "kind": "macvlan", "parent": "hosta"})
    eq(r.json["managed"], True, "managed")
    eq(klink("mvh").get("link"), "hosta", "kernel parent")
    after = klink("hosta")
    for k in ("mtu", "address", "flags", "ifalias"):
        eq(after.get(k), parent_before.get(k), "the parent's %s" % k)


@test
def test_parent_renamed_or_deleted():
    """A renamed parent is the children's parent under its new name; a
    deleted one takes them along, in the kernel and in the desired state."""
    d = setup()
    base(d)
    create(d, "blue", {"name": "mv0", "kind": "macvlan", "parent": "ua"})
    create(d, "blue", {"name": "vx0", "kind": "vxlan", "vni": 3,
                       "parent": "mv0"})
    expect_status(d.patch(L("blue", "ua"), {"name": "ua2"}), 200, "rename")
    eq(state_link(state(d), "blue", "mv0")["options"]["parent"], "ua2",
       "the recorded parent")
    g = d.get(L("blue", "mv0")).json
    eq((g["parent"], g["in_sync"]), ("ua2", True), "GET after the rename")
    expect_status(d.put(L("blue", "mv0"), {"kind": "macvlan"}), 200,
                  "PUT after the rename")
    expect_status(d.delete("/v1/namespaces/blue/veths/ua2"), 204, "DELETE")
    for n in ("mv0", "vx0"):
        check(klink(n, "blue") is None, "%s should be gone" % n)
        check(state_link(state(d), "blue", n) is None,
              "%s should be forgotten" % n)
    r = expect_status(d.post("/v1/reconcile"), 200, "reconcile")
    eq(r.json["failures"], [], "reconcile failures")


@test
def test_drift_of_an_option():
    d = setup()
    base(d)
    create(d, "blue", {"name": "mv0", "kind": "macvlan", "parent": "ua",
                       "mode": "private"})
    # The mode can be changed behind netnsd's back.
    h.ip("link", "set", "mv0", "type", "macvlan", "mode", "bridge", ns="blue")
    g = d.get(L("blue", "mv0")).json
    eq(g["in_sync"], False, "in_sync")
    eq(g["drift"], ["mode is bridge, desired private"], "drift")


@test
def test_restart_recreates_with_options_parents_first():
    d = setup()
    base(d)
    # A chain: veth ua <- macvlan mv0 <- vxlan "a-vx" (whose record comes
    # first in the store's order, before its parent's).
    create(d, "blue", {"name": "mv0", "kind": "macvlan", "parent": "ua",
                       "mode": "vepa", "up": True, "mtu": 1400})
    create(d, "blue", {"name": "a-vx", "kind": "vxlan", "vni": 99,
                       "remote": "198.18.0.9", "parent": "mv0",
                       "dstport": 4790, "up": True})
    d.kill()
    # Wipe: the veth takes its macvlan along, the vxlan goes by hand.
    h.ip("link", "del", "dev", "a-vx", ns="blue", check=False)
    h.ip("link", "del", "dev", "ua", ns="blue")
    check(klink("mv0", "blue") is None, "mv0 should be gone")
    d.start()
    l, data = info("mv0", "blue")
    eq((kkind(l), data.get("mode"), l.get("link"), l["mtu"], kup(l),
        l.get("ifalias")),
       ("macvlan", "vepa", "ua", 1400, True, "netnsd"), "mv0 made again")
    l, data = info("a-vx", "blue")
    eq((kkind(l), data.get("id"), data.get("remote"), data.get("port"),
        data.get("link"), kup(l)),
       ("vxlan", 99, "198.18.0.9", 4790, "mv0", True), "a-vx made again")
    for n in ("mv0", "a-vx"):
        eq(d.get(L("blue", n)).json["in_sync"], True, "%s in sync" % n)
    # POST /v1/reconcile does the same.
    h.ip("link", "del", "dev", "mv0", ns="blue")
    r = expect_status(d.post("/v1/reconcile"), 200, "reconcile")
    check(any("mv0" in a for a in r.json["actions"]), "reconcile says it: %r"
          % r.json)
    eq(info("mv0", "blue")[1].get("mode"), "vepa", "mv0 made by reconcile")


@test
def test_whole_state_document():
    """PUT /v1/state with links of the kind table: made on a parent the
    same document declares (listed after them, so made after it), a GET
    of the state put back is a no-op, and leaving them out deletes them."""
    d = setup()
    mv = {"namespace": "blue", "name": "mv0", "kind": "macvlan", "up": True,
          "options": {"parent": "ua", "mode": "vepa"}}
    vx = {"namespace": "blue", "name": "vx0", "kind": "vxlan",
          "master": "br0", "options": {"vni": 5, "remote": "198.18.0.2",
                                       "parent": "mv0", "dstport": 4789,
                                       "learning": True}}
    doc = {"namespaces": [{"name": "blue"}], "addresses": [], "links": [
        vx, mv,
        {"namespace": "blue", "name": "br0", "kind": "bridge", "up": True},
        {"namespace": "blue", "name": "ua", "kind": "veth", "up": True,
         "peer": {"namespace": "blue", "name": "ub"}},
        {"namespace": "blue", "name": "ub", "kind": "veth",
         "peer": {"namespace": "blue", "name": "ua"}}]}
    expect_status(d.put("/v1/state", doc), 200, "PUT /v1/state")
    l, data = info("mv0", "blue")
    eq((data.get("mode"), l.get("link"), kup(l)), ("vepa", "ua", True),
       "mv0 on ua")
    l, data = info("vx0", "blue")
    eq((data.get("id"), data.get("link"), l.get("master")), (5, "mv0", "br0"),
       "vx0 on mv0, in br0")
    st = state(d)
    r = expect_status(d.put("/v1/state", st), 200, "PUT of the GET")
    eq(r.json["changes"], [], "a GET put back changes nothing")
    eq(state(d)["revision"], st["revision"], "revision")
    # Another mode cannot be converged: 409, nothing changed.
    before = snapshot(d, ("blue",))
    bad = dict(st, links=[dict(x, options=dict(x["options"], mode="private"))
                          if x["name"] == "mv0" else x for x in st["links"]])
    expect_problem(d.put("/v1/state", bad), 409, "PUT of another mode")
    expect_unchanged(d, before, "a refused document")
    # Left out: deleted.
    gone = dict(st, links=[x for x in st["links"]
                           if x["name"] not in ("mv0", "vx0")])
    expect_status(d.put("/v1/state", gone), 200, "PUT without them")
    check(klink("mv0", "blue") is None and klink("vx0", "blue") is None,
          "mv0 and vx0 should be gone")


# ---------------------------------------------------------------------------
# A parent in another namespace (parent_namespace): a NIC of the host with
# its macvlan in a container's namespace. A veth end in `host` (of the
# sandbox) plays the NIC.


def host_nic(name="p0"):
    """A veth pair in host that netnsd did not make: p0 is the "NIC"."""
    h.ip("link", "add", "dev", name, "type", "veth", "peer", "name",
         name[:-1] + "1")
    return klink(name)


def on_parent(name, ns, parent, parent_ns):
    """The kernel's word that ns/name is on parent_ns/parent: another
    namespace's id, and that parent's ifindex."""
    l = klink(name, ns)
    check(l is not None, "the kernel has no link %s in %s" % (name, ns))
    p = klink(parent, parent_ns)
    check(p is not None, "no parent %s in %s" % (parent, parent_ns))
    check("link_netnsid" in l,
          "%s/%s should be on a parent in another namespace: %r" % (ns, name, l))
    eq(l.get("link_index"), p["ifindex"], "%s/%s's parent ifindex" % (ns, name))
    return l


@test
def test_parent_namespace_host_nic():
    d = setup()
    nic = host_nic()
    mk_ns(d, "blue")
    # No force: the NIC is not changed.
    r = create(d, "blue", {"name": "mv0", "kind": "macvlan", "parent": "p0",
                           "parent_namespace": "host", "up": True})
    eq((r.json["parent"], r.json["parent_namespace"], r.json["in_sync"]),
       ("p0", "host", True), "answer")
    l = on_parent("mv0", "blue", "p0", "host")
    eq((kkind(l), l.get("ifalias")), ("macvlan", "netnsd"), "kernel kind, alias")
    check(klink("mv0") is None, "mv0 should not be left in host")
    after = klink("p0")
    for k in ("mtu", "address", "flags", "ifalias", "ifindex"):
        eq(after.get(k), nic.get(k), "the NIC's %s" % k)
    g = expect_status(d.get(L("blue", "mv0")), 200, "GET").json
    eq((g["parent"], g["parent_namespace"], g["in_sync"]),
       ("p0", "host", True), "GET")
    eq(state_link(state(d), "blue", "mv0")["options"],
       {"parent": "p0", "parent_namespace": "host", "mode": "bridge"},
       "recorded options")
    # The document put back plans nothing: the parent is where it is.
    st = state(d)
    r = expect_status(d.put("/v1/state", st), 200, "PUT of the GET")
    eq(r.json["changes"], [], "a GET put back changes nothing")
    # Deleted behind netnsd's back: reconcile makes it again, in blue, on
    # host's p0.
    h.ip("link", "del", "dev", "mv0", ns="blue")
    r = expect_status(d.post("/v1/reconcile"), 200, "reconcile")
    eq(r.json["failures"], [], "reconcile failures")
    on_parent("mv0", "blue", "p0", "host")
    eq(d.get(L("blue", "mv0")).json["in_sync"], True, "in sync again")
    # A parent of the same name in blue is not it: the drift says so.
    h.ip("link", "del", "dev", "mv0", ns="blue")
    h.ip("link", "add", "dev", "p0", "type", "veth", "peer", "name", "q0",
         ns="blue")
    h.ip("link", "add", "link", "p0", "name", "mv0", "type", "macvlan",
         ns="blue")
    h.ip("link", "set", "dev", "mv0", "alias", "netnsd", ns="blue")
    g = d.get(L("blue", "mv0")).json
    eq((g["parent"], g.get("parent_namespace"), g["in_sync"]),
       ("p0", None, False), "GET of a macvlan on blue's own p0")
    check("parent_namespace is none, desired host" in g["drift"],
          "the drift names the parent's namespace: %r" % g["drift"])


@test
def test_parent_namespace_restart_recreates_parents_first():
    """Wiped as by a reboot (the namespaces and host's links gone): start-up
    makes the namespaces, the parents, then the macvlans on them, across
    namespaces."""
    d = setup()
    mk_ns(d, "blue")
    mk_ns(d, "red")
    # A parent netnsd made, in red; a host NIC made again by hand.
    mk_veth(d, "red", "ra", "rb", up=True)
    host_nic()
    create(d, "blue", {"name": "mv0", "kind": "macvlan", "parent": "ra",
                       "parent_namespace": "red", "mode": "vepa", "up": True})
    create(d, "blue", {"name": "mvh", "kind": "macvlan", "parent": "p0",
                       "parent_namespace": "host", "mode": "private"})
    d.kill()
    h.netns_del_all()
    h.ip("link", "del", "dev", "p0")
    h.wait_until(lambda: "blue" not in h.netns_list(), what="blue to go")
    host_nic()
    d.start()
    l = on_parent("mv0", "blue", "ra", "red")
    eq((l["linkinfo"]["info_data"].get("mode"), kup(l), l.get("ifalias")),
       ("vepa", True, "netnsd"), "mv0 made again")
    l = on_parent("mvh", "blue", "p0", "host")
    eq(l["linkinfo"]["info_data"].get("mode"), "private", "mvh made again")
    for n, p in (("mv0", "red"), ("mvh", "host")):
        g = d.get(L("blue", n)).json
        eq((g["parent_namespace"], g["in_sync"]), (p, True), "%s GET" % n)
    r = expect_status(d.post("/v1/reconcile"), 200, "reconcile")
    eq(r.json["failures"], [], "reconcile failures")


@test
def test_moved_macvlan_is_made_again_on_its_parent():
    """A macvlan moved out of its parent's namespace stays on the parent;
    its record says where the parent is, so a macvlan deleted behind
    netnsd's back is made again on it (it was "its parent is missing",
    transient, forever)."""
    d = setup()
    base(d)
    mk_ns(d, "red")
    create(d, "blue", {"name": "mv0", "kind": "macvlan", "parent": "ua",
                       "up": True})
    r = d.patch(L("blue", "mv0"), {"namespace": "red"})
    expect_status(r, 200, "PATCH namespace")
    # Deleted behind netnsd's back: made again, in red, on blue's ua.
    h.ip("link", "del", "dev", "mv0", ns="red")
    r = expect_status(d.post("/v1/reconcile"), 200, "reconcile")
    eq(r.json["failures"], [], "reconcile failures")
    on_parent("mv0", "red", "ua", "blue")
    eq(state_link(state(d), "red", "mv0")["options"],
       {"parent": "ua", "parent_namespace": "blue", "mode": "bridge"},
       "recorded options after the move")
    g = d.get(L("red", "mv0")).json
    eq((g["parent"], g.get("parent_namespace"), g["in_sync"]),
       ("ua", "blue", True), "GET in red")
    # Back into the parent's namespace: parent_namespace goes.
    r = expect_status(d.patch(L("red", "mv0"), {"namespace": "blue"}), 200,
                      "PATCH back")
    check("parent_namespace" not in r.json, "no parent_namespace: %r" % r.json)
    eq(state_link(state(d), "blue", "mv0")["options"],
       {"parent": "ua", "mode": "bridge"}, "recorded options back home")
    eq(klink("mv0", "blue").get("link"), "ua", "kernel parent, at home")


@test
def test_parent_namespace_goes_with_its_parent():
    """Renaming the parent repoints the macvlans on it in other namespaces;
    deleting it, or its namespace, takes them along, in the kernel and in
    the desired state."""
    d = setup()
    mk_ns(d, "blue")
    mk_ns(d, "red")
    mk_veth(d, "red", "ra", "rb")
    create(d, "blue", {"name": "mv0", "kind": "macvlan", "parent": "ra",
                       "parent_namespace": "red"})
    expect_status(d.patch(L("red", "ra"), {"name": "ra2"}), 200, "rename")
    eq(state_link(state(d), "blue", "mv0")["options"]["parent"], "ra2",
       "the recorded parent")
    eq(d.get(L("blue", "mv0")).json["in_sync"], True, "in sync")
    # The parent moved to blue: the macvlan is on it, in its namespace.
    expect_status(d.patch(L("red", "ra2"), {"namespace": "blue"}), 200, "move")
    eq(state_link(state(d), "blue", "mv0")["options"],
       {"parent": "ra2", "mode": "bridge"}, "the parent came home")
    eq(d.get(L("blue", "mv0")).json["in_sync"], True, "in sync")
    expect_status(d.patch(L("blue", "ra2"), {"namespace": "red"}), 200,
                  "move back")
    eq(state_link(state(d), "blue", "mv0")["options"]["parent_namespace"],
       "red", "the parent left again")
    # Deleting the parent's namespace takes the macvlan along.
    expect_status(d.delete("/v1/namespaces/red"), 204, "DELETE red")
    h.wait_until(lambda: klink("mv0", "blue") is None,
                 what="mv0 to go with its parent")
    check(state_link(state(d), "blue", "mv0") is None, "mv0 forgotten")
    r = expect_status(d.post("/v1/reconcile"), 200, "reconcile")
    eq(r.json["failures"], [], "reconcile failures")


@test
def test_parent_namespace_deletion_waits_for_its_children():
    """Deleting a namespace forgets the records of links on a parent there
    in other namespaces: it takes their namespaces' locks, so a request
    changing one of them (stuck here on a silent kernel, the test hook
    --test-stall-netns) finishes first rather than having its record
    forgotten under it."""
    d = setup()
    mk_ns(d, "slow")
    mk_ns(d, "red")
    mk_veth(d, "red", "ra", "rb")
    create(d, "slow", {"name": "mv0", "kind": "macvlan", "parent": "ra",
                       "parent_namespace": "red"})
    d.stop()
    timeout = max(2, round(h.scaled(2)))
    d.start(extra_args=["--netlink-timeout", str(timeout),
                        "--test-stall-netns", "slow"])
    done = {}

    def patch():
        r = d.patch(L("slow", "mv0"), {"mtu": 1400})
        done["patch"] = (r.status, time.monotonic())
    t = threading.Thread(target=patch, daemon=True)
    t.start()
    started = time.monotonic()
    time.sleep(h.scaled(0.3))  # the PATCH holds slow's lock, stuck
    r = d.delete("/v1/namespaces/red")
    done["delete"] = (r.status, time.monotonic())
    t.join(h.scaled(30))
    eq((done["patch"][0], done["delete"][0]), (504, 204), "statuses")
    # The two answers come at once when the PATCH lets go: which one the
    # client reads first is the scheduler's; that the DELETE waited for
    # the PATCH's timeout is not.
    check(done["delete"][1] - started >= timeout - 0.1,
          "DELETE red should wait for the request in slow (its netlink "
          "timeout %d s): %r", timeout,
          {k: (v[0], round(v[1] - started, 3)) for k, v in done.items()})
    check(state_link(state(d), "slow", "mv0") is None, "mv0 forgotten")


@test
def test_parent_namespace_in_a_whole_state_document():
    """PUT /v1/state: a macvlan in blue on a veth of red, listed before
    both, is made after them; its parent's namespace must be declared."""
    d = setup()
    mv = {"namespace": "blue", "name": "mv0", "kind": "macvlan", "up": True,
          "options": {"parent": "ra", "parent_namespace": "red",
                      "mode": "bridge"}}
    veths = [{"namespace": "red", "name": "ra", "kind": "veth", "up": True,
              "peer": {"namespace": "red", "name": "rb"}},
             {"namespace": "red", "name": "rb", "kind": "veth",
              "peer": {"namespace": "red", "name": "ra"}}]
    doc = {"namespaces": [{"name": "blue"}, {"name": "red"}],
           "addresses": [], "links": [mv] + veths}
    before = snapshot(d, ("host",))
    bad = dict(doc, namespaces=[{"name": "blue"}],
               links=[dict(mv, options=dict(mv["options"],
                                            parent_namespace="green"))])
    expect_problem(d.put("/v1/state", bad), 400, "undeclared namespace",
                   field="/links/0/options/parent_namespace")
    expect_unchanged(d, before, "a refused document")
    expect_status(d.put("/v1/state", doc), 200, "PUT /v1/state")
    on_parent("mv0", "blue", "ra", "red")
    st = state(d)
    eq(state_link(st, "blue", "mv0")["options"], mv["options"], "recorded")
    r = expect_status(d.put("/v1/state", st), 200, "PUT of the GET")
    eq(r.json["changes"], [], "a GET put back changes nothing")


@test
def test_parent_namespace_bad_input_and_dry_run():
    d = setup()
    base(d)
    host_nic()
    before = snapshot(d, ("blue", "host"))
    mv = {"name": "x0", "kind": "macvlan", "parent": "p0"}
    for pns, field in (("a/b", "parent_namespace"), ("", "parent_namespace"),
                       (".", "parent_namespace"), (7, "parent_namespace")):
        expect_problem(d.post(L("blue"), dict(mv, parent_namespace=pns)), 400,
                       "parent_namespace %r" % (pns,), field=field)
    # parent_namespace without a parent (a vxlan's is optional).
    expect_problem(d.post(L("blue"), {"name": "x0", "kind": "vxlan", "vni": 3,
                                      "parent_namespace": "host"}),
                   400, "no parent", field="parent_namespace")
    p = expect_problem(d.post(L("blue"), dict(mv, parent_namespace="nope")),
                       404, "a namespace that does not exist")
    check("nope" in p["detail"], "the 404 should name it: %r" % p)
    p = expect_problem(d.post(L("blue"), dict(mv, parent="p9",
                                              parent_namespace="host")),
                       404, "a parent not there")
    check("p9" in p["detail"] and "host" in p["detail"],
          "the 404 should name parent and namespace: %r" % p)
    # p0 is in host, not in blue.
    expect_problem(d.post(L("blue"), mv), 404, "p0 is not in blue")
    r = expect_status(d.post(L("blue") + "?dry_run=true",
                             dict(mv, parent_namespace="host")), 200, "dry run")
    eq([(c["action"], c["path"]) for c in r.json["changes"]],
       [("create", "/v1/namespaces/blue/links/x0")], "plan")
    check("parent_namespace host" in r.json["changes"][0]["detail"],
          "the plan names the parent's namespace: %r" % r.json)
    expect_problem(d.post(L("blue") + "?dry_run=true",
                          dict(mv, parent_namespace="nope")),
                   404, "dry run, missing namespace")
    expect_unchanged(d, before, "bad input")
    check(klink("x0") is None, "nothing made in host")
    # The link's own namespace is no other: kept without it.
    create(d, "blue", {"name": "x0", "kind": "macvlan", "parent": "ua",
                       "parent_namespace": "blue"})
    eq(state_link(state(d), "blue", "x0")["options"],
       {"parent": "ua", "mode": "bridge"}, "own namespace dropped")


# ---------------------------------------------------------------------------
# Kinds this kernel may not have


def try_kind(d, body, what):
    r = d.post(L("blue"), body)
    if unknown_kind(r):
        print("    SKIP %s: the kernel has no %s: %s" % (
            what, body["kind"], r.json["detail"]))
        # Refused by the kernel: nothing left behind.
        check(klink(body["name"], "blue") is None, "nothing made")
        check(state_link(state(d), "blue", body["name"]) is None,
              "nothing recorded")
        return None
    expect_status(r, 201, "POST %s" % what)
    return r


@test
def test_dummy():
    d = setup()
    base(d)
    r = try_kind(d, {"name": "d0", "kind": "dummy", "up": True}, "dummy")
    if r:
        eq(kkind(klink("d0", "blue")), "dummy", "kernel kind")


@test
def test_vlan():
    d = setup()
    base(d)
    r = try_kind(d, {"name": "ua.10", "kind": "vlan", "parent": "ua",
                     "id": 10}, "vlan")
    if r:
        l, data = info("ua.10", "blue")
        eq((kkind(l), data.get("id"), l.get("link")), ("vlan", 10, "ua"),
           "kernel")
        eq((r.json["id"], r.json["parent"]), (10, "ua"), "answer")


@test
def test_ipvlan():
    d = setup()
    base(d)
    r = try_kind(d, {"name": "ipv0", "kind": "ipvlan", "parent": "ua",
                     "mode": "l3"}, "ipvlan")
    if r:
        l, data = info("ipv0", "blue")
        eq((kkind(l), data.get("mode"), l.get("link")), ("ipvlan", "l3", "ua"),
           "kernel")


if __name__ == "__main__":
    h.run_tests()
