#!/usr/bin/python3
"""Links: GET (list, one), PATCH (up, mtu, mac, name, namespace, master),
DELETE, bad input that must change nothing, the kernel's own words in a
refusal, and host protection. Every answer is checked against `ip -j`."""

import harness as h
from harness import check, eq, expect_problem, expect_status, test
from topology import (LINK_FIELDS, klinks, klink, kkind, kup, kaddrs, kpeer,
                      state, snapshot, expect_unchanged, state_link, setup,
                      mk_ns, mk_veth, mk_bridge, L,
                      expect_list_is_its_items)


# ---------------------------------------------------------------------------
# GET


@test
def list_host_links_has_loopback_with_every_field():
    d = setup()
    r = expect_status(d.get(L("host")), 200)
    items = r.json["items"]
    check(isinstance(items, list), "items must be a list: %r", r.json)
    names = [i["name"] for i in items]
    eq(sorted(names), sorted(klinks("host")), "link names vs ip -j link")
    lo = next(i for i in items if i["name"] == "lo")
    for f in LINK_FIELDS:
        check(f in lo, "link object lacks %r: %r", f, lo)
    k = klink("lo")
    eq(lo["kind"], "loopback", "kind of lo")
    eq(lo["namespace"], "host", "namespace of lo")
    eq(lo["ifindex"], k["ifindex"], "ifindex of lo")
    eq(lo["mtu"], k["mtu"], "mtu of lo")
    eq(lo["mac"], k["address"], "mac of lo")
    eq(lo["up"], kup(k), "up of lo")
    eq(lo["master"], None, "master of lo")
    eq(lo["peer"], None, "peer of lo")
    eq(lo["managed"], False, "lo is not netnsd's")
    check("127.0.0.1/8" in lo["addresses"], "lo addresses: %r",
          lo["addresses"])


@test
def list_links_of_a_new_namespace_and_a_veth():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red", mtu=1400)
    r = expect_status(d.get(L("red")), 200)
    items = {i["name"]: i for i in r.json["items"]}
    eq(sorted(items), sorted(klinks("red")), "links of red vs ip -n red")
    eq(items["lo"]["kind"], "loopback", "kind of red/lo")
    eq(items["lo"]["up"], kup(klink("lo", "red")), "up of red/lo")
    e = items["eth0"]
    for f in LINK_FIELDS:
        check(f in e, "link object lacks %r: %r", f, e)
    k = klink("eth0", "red")
    eq(e["kind"], "veth", "kind of eth0")
    eq(e["ifindex"], k["ifindex"], "ifindex of eth0")
    eq(e["mac"], k["address"], "mac of eth0")
    eq(e["mtu"], k["mtu"], "mtu of eth0")
    eq(e["peer"], {"namespace": "host", "name": "h-red"}, "peer of eth0")
    eq(kpeer(k, "red"), ("host", "h-red"), "kernel peer of eth0")
    eq(e["managed"], True, "eth0 is netnsd's")
    eq(e["oper_state"], "down", "oper_state of a down veth")


@test
def get_one_link():
    d = setup()
    mk_veth(d, "host", "va", "vb", mtu=1400, up=True)
    r = expect_status(d.get(L("host", "va")), 200)
    k = klink("va")
    o = r.json
    for f in LINK_FIELDS:
        check(f in o, "link object lacks %r: %r", f, o)
    eq(o["name"], "va", "name")
    eq(o["ifindex"], k["ifindex"], "ifindex")
    eq(o["kind"], kkind(k), "kind")
    eq(o["mtu"], 1400, "mtu")
    eq(k["mtu"], 1400, "kernel mtu")
    eq(o["mac"], k["address"], "mac")
    eq(o["up"], True, "up")
    eq(kup(k), True, "kernel admin state")
    eq(o["peer"], {"namespace": "host", "name": "vb"}, "peer")
    r = expect_status(d.get(L("host", "lo")), 200)
    eq(r.json["kind"], "loopback", "GET host/links/lo kind")


@test
def get_and_change_absent_things_is_404():
    d = setup()
    mk_ns(d, "red")
    before = snapshot(d, ("host", "red"))
    for what, r in (
            ("GET absent link", d.get(L("host", "nosuch0"))),
            ("GET link of absent ns", d.get(L("nosuchns", "lo"))),
            ("GET links of absent ns", d.get(L("nosuchns"))),
            ("PATCH absent link", d.patch(L("red", "nosuch0"), {"up": True})),
            ("PATCH link of absent ns", d.patch(L("nosuchns", "lo"),
                                                {"up": True})),
            ("DELETE absent link", d.delete(L("red", "nosuch0"))),
            ("DELETE link of absent ns", d.delete(L("nosuchns", "eth0")))):
        expect_problem(r, 404, what)
    expect_unchanged(d, before, "404 requests")
    check("nosuchns" not in h.netns_list(), "a 404 made a namespace")


@test
def one_link_is_its_list_item_byte_for_byte():
    d = setup()
    mk_ns(d, "one")
    mk_ns(d, "two")
    mk_veth(d, "one", "va", "vb", peer_ns="two", mtu=1400)
    mk_veth(d, "one", "vc", "vd")
    mk_veth(d, "one", "ve", "vf")
    mk_bridge(d, "one", "br0")
    expect_status(d.put("/v1/namespaces/one/bridges/br0/ports/vc"), 201)
    expect_status(d.post(L("one"), {"name": "mv0", "kind": "macvlan",
                                    "parent": "vd", "mode": "bridge"}), 201)
    expect_status(d.post(L("one", "va") + "/addresses",
                         {"address": "198.18.4.1/24"}), 201)
    # Drift, and a desired pair the kernel lacks.
    h.ip("link", "set", "va", "mtu", "1300", ns="one")
    h.ip("link", "del", "ve", ns="one")
    items = expect_list_is_its_items(d, L("one"), lambda n: L("one", n))
    eq(sorted(i["name"] for i in items),
       ["br0", "lo", "mv0", "va", "vc", "vd", "ve", "vf"], "the links")
    va = next(i for i in items if i["name"] == "va")
    eq((va["in_sync"], va["mtu"]), (False, 1300), "va drifted")
    eq(next(i for i in items if i["name"] == "ve")["oper_state"],
       "notpresent", "ve missing")
    expect_list_is_its_items(d, "/v1/namespaces/one/veths",
                             lambda n: "/v1/namespaces/one/veths/" + n)
    # A change answers what its GET then shows, byte for byte.
    put = expect_status(d.put("/v1/namespaces/one/veths/va",
                              {"peer": {"namespace": "two", "name": "vb"},
                               "mtu": 1400}), 200, "PUT veth again")
    eq(put.body, expect_status(d.get(L("one", "va")), 200).body,
       "PUT's answer and GET")


# ---------------------------------------------------------------------------
# PATCH, one attribute at a time


@test
def patch_up_and_down():
    d = setup()
    mk_veth(d, "host", "va", "vb")
    check(not kup(klink("va")), "va starts down")
    r = expect_status(d.patch(L("host", "va"), {"up": True}), 200)
    eq(r.json["up"], True, "answer up")
    eq(kup(klink("va")), True, "kernel: va is up")
    eq(state_link(state(d), "host", "va").get("up"), True, "desired up")
    r = expect_status(d.patch(L("host", "va"), {"up": False}), 200)
    eq(r.json["up"], False, "answer up")
    eq(kup(klink("va")), False, "kernel: va is down")
    eq(state_link(state(d), "host", "va").get("up"), False, "desired up")


@test
def patch_mtu():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "red", "va", "vb")
    r = expect_status(d.patch(L("red", "va"), {"mtu": 1280}), 200)
    eq(r.json["mtu"], 1280, "answer mtu")
    eq(klink("va", "red")["mtu"], 1280, "kernel mtu of red/va")
    eq(klink("vb", "red")["mtu"], 1500, "kernel mtu of the peer stays")
    eq(state_link(state(d), "red", "va").get("mtu"), 1280, "desired mtu")
    r = expect_status(d.patch(L("red", "va"), {"mtu": 9000}), 200)
    eq(klink("va", "red")["mtu"], 9000, "kernel mtu of red/va")
    eq(r.json.get("in_sync"), True, "in_sync after PATCH")


@test
def patch_mac():
    d = setup()
    mk_veth(d, "host", "va", "vb")
    r = expect_status(d.patch(L("host", "va"), {"mac": "02:00:5e:10:20:30"}),
                      200)
    eq(r.json["mac"], "02:00:5e:10:20:30", "answer mac")
    eq(klink("va")["address"], "02:00:5e:10:20:30", "kernel mac")
    # Upper case in, canonical lower case out and in the kernel.
    r = expect_status(d.patch(L("host", "va"), {"mac": "02:AB:CD:EF:00:01"}),
                      200)
    eq(klink("va")["address"], "02:ab:cd:ef:00:01", "kernel mac")
    eq(r.json["mac"], "02:ab:cd:ef:00:01", "answer mac")
    eq(r.json.get("in_sync"), True, "in_sync after a MAC in upper case")


@test
def patch_name_renames():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    expect_status(d.patch(L("red", "eth0"), {"mtu": 1400}), 200)
    ifindex = klink("eth0", "red")["ifindex"]
    r = expect_status(d.patch(L("red", "eth0"), {"name": "uplink.1"}), 200)
    eq(r.json["name"], "uplink.1", "answer name")
    ks = klinks("red")
    check("eth0" not in ks, "kernel still has red/eth0: %r", sorted(ks))
    check("uplink.1" in ks, "kernel lacks red/uplink.1: %r", sorted(ks))
    eq(ks["uplink.1"]["ifindex"], ifindex, "renamed, not re-created")
    eq(ks["uplink.1"]["mtu"], 1400, "mtu kept")
    expect_problem(d.get(L("red", "eth0")), 404, "GET old name")
    expect_status(d.get(L("red", "uplink.1")), 200, "GET new name")
    r = expect_status(d.get(L("host", "h-red")), 200)
    eq(r.json["peer"], {"namespace": "red", "name": "uplink.1"},
       "the other end's peer follows the rename")
    eq(r.json.get("in_sync"), True, "other end in sync after rename")
    st = state(d)
    check(state_link(st, "red", "eth0") is None, "state still has red/eth0")
    check(state_link(st, "red", "uplink.1") is not None,
          "state lacks red/uplink.1")


@test
def rename_keeps_addresses_and_ports_follow_a_renamed_bridge():
    d = setup()
    mk_ns(d, "red")
    mk_bridge(d, "red", "br0", up=True)
    mk_veth(d, "red", "va", "vb", up=True)
    expect_status(d.put("/v1/namespaces/red/bridges/br0/ports/va"), 201)
    expect_status(d.post(L("red", "vb") + "/addresses",
                         {"address": "198.18.4.1/24"}), 201)
    expect_status(d.patch(L("red", "br0"), {"name": "br1"}), 200)
    expect_status(d.patch(L("red", "vb"), {"name": "vc"}), 200)
    eq(klink("va", "red").get("master"), "br1", "kernel master after rename")
    eq(kaddrs("vc", "red"), ["198.18.4.1/24"], "kernel keeps the address")
    st = state(d)
    eq(state_link(st, "red", "va").get("master"), "br1",
       "desired master follows the renamed bridge")
    eq([(a["link"], a["address"]) for a in st["addresses"]],
       [("vc", "198.18.4.1/24")], "desired address follows the rename")
    for n in ("va", "vc", "br1"):
        g = expect_status(d.get(L("red", n)), 200).json
        eq(g.get("in_sync"), True, "red/%s in sync (drift %r)"
           % (n, g.get("drift")))
    eq(d.post("/v1/reconcile").json["actions"], [],
       "reconcile after renames has nothing to do")
    eq(sorted(klinks("red")), ["br1", "lo", "va", "vc"], "kernel names")


@test
def move_drops_master_as_the_kernel_does_keeps_addresses():
    d = setup()
    mk_ns(d, "red")
    mk_ns(d, "blue")
    mk_bridge(d, "red", "br0")
    mk_veth(d, "red", "va", "vb")
    expect_status(d.put("/v1/namespaces/red/bridges/br0/ports/va"), 201)
    expect_status(d.post(L("red", "va") + "/addresses",
                         {"address": "198.18.4.1/24"}), 201)
    expect_status(d.patch(L("red", "va"), {"namespace": "blue"}), 200)
    k = klink("va", "blue")
    eq((k.get("master"), kaddrs("va", "blue")), (None, ["198.18.4.1/24"]),
       "kernel: a moved link has no master, and its addresses again")
    st = state(d)
    eq(st["addresses"], [{"namespace": "blue", "link": "va",
                          "address": "198.18.4.1/24"}],
       "desired addresses after the move")
    check(state_link(st, "blue", "va").get("master") is None,
          "desired master after the move: %r", state_link(st, "blue", "va"))
    g = expect_status(d.get(L("blue", "va")), 200).json
    eq(g.get("in_sync"), True, "moved link in sync (drift %r)"
       % g.get("drift"))
    eq(d.post("/v1/reconcile").json["actions"], [],
       "reconcile after a move has nothing to do")


@test
def patch_namespace_moves():
    d = setup()
    mk_ns(d, "red")
    mk_ns(d, "blue")
    mk_veth(d, "red", "va", "vb", mac="02:00:00:00:0a:01", mtu=1400)
    r = expect_status(d.patch(L("red", "va"), {"namespace": "blue"}), 200)
    eq(r.json["namespace"], "blue", "answer namespace")
    check("va" not in klinks("red"), "kernel: va still in red")
    k = klink("va", "blue")
    check(k is not None, "kernel: va not in blue")
    eq(k["address"], "02:00:00:00:0a:01", "MAC kept by the move")
    eq(k["mtu"], 1400, "MTU kept by the move")
    eq(kpeer(k, "blue"), ("red", "vb"), "kernel peer of the moved end")
    r = expect_status(d.get(L("blue", "va")), 200)
    eq(r.json["peer"], {"namespace": "red", "name": "vb"}, "peer of blue/va")
    r = expect_status(d.get(L("red", "vb")), 200)
    eq(r.json["peer"], {"namespace": "blue", "name": "va"}, "peer of red/vb")
    expect_problem(d.get(L("red", "va")), 404, "GET at the old place")
    st = state(d)
    check(state_link(st, "red", "va") is None, "state still has red/va")
    check(state_link(st, "blue", "va") is not None, "state lacks blue/va")


@test
def patch_namespace_and_name_together_keeps_sync():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "va", "vb", up=True)
    r = expect_status(d.patch(L("host", "va"),
                              {"namespace": "red", "name": "eth9"}), 200)
    eq(r.json["name"], "eth9", "answer name")
    k = klink("eth9", "red")
    check(k is not None, "kernel: red/eth9 missing")
    check("va" not in klinks("host"), "kernel: host/va still there")
    # Whatever the daemon decides about the admin state of a moved link,
    # its answer, the kernel and its own desired state must agree.
    eq(r.json["up"], kup(k), "answer up vs kernel")
    g = expect_status(d.get(L("red", "eth9")), 200).json
    eq(g.get("in_sync"), True, "moved link in sync right after its PATCH "
       "(drift %r)" % g.get("drift"))


@test
def patch_master_set_and_clear():
    d = setup()
    mk_bridge(d, "host", "br0")
    mk_veth(d, "host", "va", "vb")
    r = expect_status(d.patch(L("host", "va"), {"master": "br0"}), 200)
    eq(r.json["master"], "br0", "answer master")
    eq(klink("va").get("master"), "br0", "kernel master of va")
    eq(state_link(state(d), "host", "va").get("master"), "br0",
       "desired master")
    r = expect_status(d.patch(L("host", "va"), {"master": None}), 200)
    eq(r.json["master"], None, "answer master")
    eq(klink("va").get("master"), None, "kernel: va has no master")
    eq(state_link(state(d), "host", "va").get("master"), None,
       "desired master")
    eq(expect_status(d.get(L("host", "va")), 200).json.get("in_sync"), True,
       "in sync after detaching")


@test
def patch_several_attributes_at_once():
    d = setup()
    mk_bridge(d, "host", "br0")
    mk_veth(d, "host", "va", "vb")
    r = expect_status(d.patch(L("host", "va"), {
        "up": True, "mtu": 1400, "mac": "02:00:00:00:00:42",
        "master": "br0"}), 200)
    k = klink("va")
    eq((kup(k), k["mtu"], k["address"], k.get("master")),
       (True, 1400, "02:00:00:00:00:42", "br0"), "kernel after PATCH")
    eq((r.json["up"], r.json["mtu"], r.json["mac"], r.json["master"]),
       (True, 1400, "02:00:00:00:00:42", "br0"), "answer after PATCH")


# ---------------------------------------------------------------------------
# Bad input: the right problem, and nothing changes


@test
def patch_bad_values_change_nothing():
    d = setup()
    mk_ns(d, "red")
    mk_bridge(d, "host", "br0")
    mk_veth(d, "host", "va", "vb", peer_ns="red", mtu=1400)
    mk_veth(d, "host", "xa", "xb")
    before = snapshot(d, ("host", "red"))
    cases = [
        ({"mtu": 0}, 400, "mtu"),
        ({"mtu": -1}, 400, "mtu"),
        ({"mtu": 67}, 400, "mtu"),
        ({"mtu": 1000000000000}, 400, "mtu"),
        ('{"mtu": 1e12}', 400, "mtu"),
        ({"mtu": "1500"}, 400, "mtu"),
        ({"mtu": 1500.5}, 400, "mtu"),
        ({"mtu": True}, 400, "mtu"),
        ({"mtu": None}, 400, "mtu"),
        ({"mac": "zz"}, 400, "mac"),
        ({"mac": "zz:zz:zz:zz:zz:zz"}, 400, "mac"),
        ({"mac": "01:00:5e:00:00:01"}, 400, "mac"),
        ({"mac": "ff:ff:ff:ff:ff:ff"}, 400, "mac"),
        ({"mac": "00:00:00:00:00:00"}, 400, "mac"),
        ({"mac": "02:00:00:00:00:01:02"}, 400, "mac"),
        ({"mac": 2}, 400, "mac"),
        ({"name": "abcdefghijklmnop"}, 400, "name"),
        ({"name": "a/b"}, 400, "name"),
        ({"name": ""}, 400, "name"),
        ({"name": "a b"}, 400, "name"),
        ({"name": "a:b"}, 400, "name"),
        ({"name": ".."}, 400, "name"),
        ({"up": "yes"}, 400, "up"),
        ({"bogus": 1}, 400, "bogus"),
        ({"mtu": 1400, "bogus": 1}, 400, "bogus"),
        ({"namespace": "../etc"}, 400, "namespace"),
        ({"namespace": "nosuchns"}, 404, None),
        ({"master": "nosuchbr"}, 404, None),
        ({"master": "xb"}, 400, None),
        ({"master": "lo"}, 400, None),
        ({"master": "va"}, 400, None),
        # A valid change next to a bad one must not be half applied.
        ({"up": True, "mtu": 67}, 400, "mtu"),
        ({"mtu": 1280, "mac": "01:00:00:00:00:01"}, 400, "mac"),
        ({"mtu": 1280, "master": "nosuchbr"}, 404, None),
        ({"up": True, "namespace": "nosuchns"}, 404, None),
        ({"mtu": 1280, "master": "xb"}, 400, None),
    ]
    for body, status, field in cases:
        what = "PATCH host/va %s" % (body,)
        r = d.patch(L("host", "va"), body)
        expect_problem(r, status, what, field=field)
        expect_unchanged(d, before, what)
    # Not JSON, not an object, wrong content type.
    for body, ct, status in (("{", None, 400), ("[]", None, 400),
                             ('{"mtu": 1400}', "text/plain", 415)):
        r = d.patch(L("host", "va"), body, content_type=ct)
        expect_problem(r, status, "PATCH %r (%s)" % (body, ct))
        expect_unchanged(d, before, "PATCH %r" % body)


@test
def mtu_above_device_max_gives_kernel_words():
    d = setup()
    mk_veth(d, "host", "va", "vb")
    k = klink("va")
    check(k.get("max_mtu", 65535) < 70000, "veth max_mtu %r", k.get("max_mtu"))
    before = snapshot(d)
    r = d.patch(L("host", "va"), {"mtu": 70000})
    p = expect_problem(r, 400, "PATCH mtu 70000")
    check("maximum" in p["detail"].lower(),
          "detail should carry the kernel's words (MTU greater than device "
          "maximum): %r", p["detail"])
    expect_unchanged(d, before, "PATCH mtu 70000")
    # The same with up: the kernel refuses the MTU, the link stays down.
    r = d.patch(L("host", "va"), {"mtu": 70000, "up": True,
                                  "mac": "02:00:00:00:77:77"})
    expect_problem(r, 400, "PATCH mtu 70000 + up + mac")
    expect_unchanged(d, before, "PATCH mtu 70000 + up + mac")


@test
def rename_to_a_taken_name_is_refused_and_changes_nothing():
    d = setup()
    mk_veth(d, "host", "va", "vb")
    before = snapshot(d)
    r = d.patch(L("host", "va"), {"name": "vb", "mtu": 1280})
    p = expect_problem(r, 409, "rename to a taken name")
    eq((p["type"], p["detail"]),
       ("urn:netnsd:problem:already-exists",
        "a link named vb already exists in namespace host"),
       "the taken name in words, not the kernel's")
    expect_unchanged(d, before, "rename to a taken name")
    r = d.patch(L("host", "va") + "?dry_run=true", {"name": "vb"})
    expect_problem(r, 409, "a dry run of it")


@test
def move_to_a_namespace_where_the_name_is_taken_changes_nothing():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "va", "vb", mtu=1400)
    mk_veth(d, "red", "va", "vc")
    before = snapshot(d, ("host", "red"))
    r = d.patch(L("host", "va"), {"namespace": "red"})
    p = expect_problem(r, 409, "move onto a taken name")
    eq(p["detail"], "a link named va already exists in namespace red",
       "the taken name in words")
    expect_unchanged(d, before, "move onto a taken name")


# ---------------------------------------------------------------------------
# Host protection


@test
def host_links_not_made_by_netnsd_are_protected():
    d = setup()
    h.ip("link", "add", "hx", "type", "veth", "peer", "name", "hy")
    h.ip("link", "set", "hx", "mtu", "1450")
    r = expect_status(d.get(L("host", "hx")), 200)
    eq(r.json["managed"], False, "an ip-made link is not managed")
    eq(r.json["kind"], "veth", "kind")
    eq(r.json["peer"], {"namespace": "host", "name": "hy"}, "peer")
    check(klink("hx").get("ifalias") is None, "ip-made link has an alias")
    before = snapshot(d)
    for body in ({"mtu": 1400}, {"up": True}, {"name": "hz"},
                 {"mac": "02:00:00:00:00:99"}):
        r = d.patch(L("host", "hx"), body)
        expect_problem(r, 409, "PATCH unmanaged %r" % body)
        expect_unchanged(d, before, "PATCH unmanaged %r" % body)
    for q in ("", "?force=false"):
        r = d.delete(L("host", "hx") + q)
        expect_problem(r, 409, "DELETE unmanaged" + q)
        expect_unchanged(d, before, "DELETE unmanaged" + q)
    # A force that is neither true nor false is refused before anything.
    for q in ("?force=0", "?force=1"):
        r = d.delete(L("host", "hx") + q)
        expect_problem(r, 400, "DELETE unmanaged" + q, field="query.force")
        expect_unchanged(d, before, "DELETE unmanaged" + q)
    r = d.post(L("host", "hx") + "/addresses", {"address": "198.18.9.1/24"})
    expect_problem(r, 409, "address on an unmanaged host link")
    expect_unchanged(d, before, "address on an unmanaged host link")
    # Bridges made by ip are protected too.
    h.ip("link", "add", "hbr", "type", "bridge")
    before = snapshot(d)
    expect_problem(d.put("/v1/namespaces/host/bridges/hbr/ports/hx"), 409,
                   "attach an unmanaged port")
    expect_problem(d.patch("/v1/namespaces/host/bridges/hbr", {"stp": True}),
                   409, "PATCH an unmanaged bridge")
    expect_problem(d.delete("/v1/namespaces/host/bridges/hbr"), 409,
                   "DELETE an unmanaged bridge")
    expect_unchanged(d, before, "changes to an unmanaged bridge")

    # With force, they work.
    r = expect_status(d.patch(L("host", "hx") + "?force=true",
                              {"mtu": 1400, "up": True}), 200)
    k = klink("hx")
    eq((k["mtu"], kup(k)), (1400, True), "kernel after forced PATCH")
    r = expect_status(d.delete(L("host", "hx") + "?force=true"), 204)
    ks = klinks("host")
    check("hx" not in ks and "hy" not in ks,
          "forced DELETE must remove both ends: %r", sorted(ks))
    expect_status(d.delete("/v1/namespaces/host/bridges/hbr?force=true"), 204)
    check("hbr" not in klinks("host"), "forced bridge DELETE")


@test
def links_in_unmanaged_namespaces_are_protected_like_host_links():
    d = setup()
    h.netns_add("ext")
    h.ip("link", "add", "ea", "type", "veth", "peer", "name", "eb", ns="ext")
    expect_problem(d.patch(L("ext", "ea"), {"mtu": 1400}), 409, "PATCH")
    eq(klink("ea", "ext")["mtu"], 1500, "kernel mtu after the 409")
    r = expect_status(d.patch(L("ext", "ea") + "?force=true",
                              {"mtu": 1400}), 200)
    eq(klink("ea", "ext")["mtu"], 1400, "kernel mtu")
    expect_status(d.delete(L("ext", "ea") + "?force=true"), 204)
    check(not ({"ea", "eb"} & set(klinks("ext"))), "both ends gone")


@test
def netnsd_links_in_host_are_marked_and_need_no_force():
    d = setup()
    mk_veth(d, "host", "va", "vb")
    for n in ("va", "vb"):
        eq(klink(n).get("ifalias"), "netnsd", "alias of " + n)
    r = expect_status(d.get(L("host", "va")), 200)
    eq(r.json["managed"], True, "managed")
    expect_status(d.patch(L("host", "va"), {"mtu": 1300}), 200)
    eq(klink("va")["mtu"], 1300, "kernel mtu")


# ---------------------------------------------------------------------------
# DELETE


@test
def delete_veth_end_through_links_removes_both_ends():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    expect_status(d.post(L("red", "eth0") + "/addresses",
                         {"address": "198.18.0.2/24"}), 201)
    r = expect_status(d.delete(L("red", "eth0")), 204)
    eq(r.body, b"", "204 has no body")
    check("eth0" not in klinks("red"), "kernel: red/eth0 still there")
    h.wait_until(lambda: "h-red" not in klinks("host"),
                 what="host/h-red to go with its peer")
    st = state(d)
    eq([l for l in st["links"] if l["name"] in ("h-red", "eth0")], [],
       "desired state of both ends")
    eq(st["addresses"], [], "desired addresses of the deleted link")
    expect_problem(d.get(L("red", "eth0")), 404, "GET after DELETE")
    expect_problem(d.get(L("host", "h-red")), 404, "GET peer after DELETE")
    expect_problem(d.delete(L("red", "eth0")), 404, "DELETE again")
    eq(d.post("/v1/reconcile").json["actions"], [],
       "reconcile must not bring a deleted veth back")
    check("h-red" not in klinks("host"), "reconcile re-created h-red")


@test
def delete_a_bridge_through_links_detaches_its_ports():
    d = setup()
    mk_bridge(d, "host", "br0")
    mk_veth(d, "host", "va", "vb")
    expect_status(d.put("/v1/namespaces/host/bridges/br0/ports/va"), 201)
    expect_status(d.delete(L("host", "br0")), 204)
    ks = klinks("host")
    check("br0" not in ks, "kernel: br0 still there")
    check("va" in ks and ks["va"].get("master") is None,
          "port left without master: %r", ks.get("va"))
    g = expect_status(d.get(L("host", "va")), 200).json
    eq(g.get("in_sync"), True, "former port in sync (drift %r)"
       % g.get("drift"))


if __name__ == "__main__":
    h.run_tests()
