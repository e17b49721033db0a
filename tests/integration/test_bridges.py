#!/usr/bin/python3
"""Bridges: create (stp, vlan_filtering, mtu, up, fixed MAC), list, get,
PATCH each setting, ports (PUT 201 then 200, GET, DELETE 204 then 404, a
port outside its bridge's namespace is 404), delete; and two namespaces
that really pass traffic through a bridge in the host namespace."""

import harness as h
from harness import check, eq, expect_problem, expect_status, test
from topology import (klinks, klink, kkind, kup, kaddrs, state, snapshot,
                      expect_unchanged, state_link, setup, mk_ns, mk_veth,
                      mk_bridge, B, P, L, expect_list_is_its_items)



def info_data(name, ns="host"):
    return klink(name, ns)["linkinfo"]["info_data"]


_VLAN = []


def kernel_has_vlan_filtering():
    """Whether this kernel can filter VLANs on a bridge at all (it cannot
    without CONFIG_BRIDGE_VLAN_FILTERING)."""
    if not _VLAN:
        r = h.ip("link", "add", "vlprobe0", "type", "bridge",
                 "vlan_filtering", "1", check=False)
        _VLAN.append(r.returncode == 0)
        h.ip("link", "del", "vlprobe0", check=False)
    return _VLAN[0]


# ---------------------------------------------------------------------------
# Create, get, list


@test
def post_on_a_taken_name_says_whether_put_can_converge_it():
    """POST on a name netnsd's own bridge holds points to PUT; on one held
    by a link netnsd did not make it says so, and points nowhere: a PUT
    would be refused too. Either way the kernel's link is left alone."""
    d = setup()
    expect_status(d.post(B("host"), {"name": "br0"}), 201, "POST br0")
    p = expect_problem(d.post(B("host"), {"name": "br0", "mtu": 1400}), 409,
                       "POST br0 again")
    check(p["type"].endswith(":already-exists"), "type: %r", p)
    check("PUT converges an existing bridge" in p["detail"],
          "the detail should point to PUT: %r", p["detail"])
    h.ip("link", "add", "hbr9", "type", "bridge")
    p = expect_problem(d.post(B("host"), {"name": "hbr9"}), 409,
                       "POST on a bridge netnsd did not make")
    check(p["type"].endswith(":already-exists"), "type: %r", p)
    check("not created by netnsd" in p["detail"]
          and "PUT converges" not in p["detail"],
          "the detail should say netnsd did not make it: %r", p["detail"])
    eq((klink("br0")["mtu"], klink("hbr9").get("ifalias")), (1500, None),
       "kernel mtu of br0, alias of hbr9")


@test
def create_with_stp_mtu_up():
    d = setup()
    r = d.post(B("host"), {"name": "br0", "stp": True, "mtu": 1400,
                           "up": True})
    expect_status(r, 201, "POST bridge")
    eq(r.header("Location"), "/v1/namespaces/host/bridges/br0", "Location")
    o = r.json
    k = klink("br0")
    check(k is not None, "kernel lacks br0")
    eq(kkind(k), "bridge", "kernel kind")
    check(info_data("br0")["stp_state"] != 0, "kernel stp_state: %r",
          info_data("br0")["stp_state"])
    eq(info_data("br0")["vlan_filtering"], 0, "kernel vlan_filtering")
    eq((k["mtu"], kup(k)), (1400, True), "kernel mtu, up")
    eq(k.get("ifalias"), "netnsd", "kernel alias")
    eq((o["kind"], o["stp"], o["vlan_filtering"], o["mtu"], o["up"],
        o["ports"], o["mac"]),
       ("bridge", True, False, 1400, True, [], k["address"]), "answer")
    s = state_link(state(d), "host", "br0")
    eq((s.get("kind"), s.get("stp"), s.get("mtu"), s.get("up")),
       ("bridge", True, 1400, True), "desired state")
    g = expect_status(d.get(B("host", "br0")), 200).json
    eq((g["stp"], g["mtu"], g["ports"], g.get("in_sync")),
       (True, 1400, [], True), "GET bridge")


@test
def create_with_defaults_in_a_namespace():
    d = setup()
    mk_ns(d, "red")
    r = expect_status(d.post(B("red"), {"name": "br1"}), 201)
    eq(r.header("Location"), "/v1/namespaces/red/bridges/br1", "Location")
    k = klink("br1", "red")
    check(k is not None, "ip -n red lacks br1")
    check("br1" not in klinks("host"), "br1 in host")
    eq(info_data("br1", "red")["stp_state"], 0, "kernel stp off by default")
    eq(kup(k), False, "down by default")
    eq((r.json["stp"], r.json["up"]), (False, False), "answer")


@test
def create_as_in_the_contract_example():
    """The BridgeCreate example body of openapi.yaml, vlan_filtering false included."""
    d = setup()
    r = d.post(B("host"), {"name": "br0", "stp": False,
                           "vlan_filtering": False, "mtu": 1500, "up": True})
    expect_status(r, 201, "POST the openapi.yaml example bridge")
    eq(info_data("br0")["vlan_filtering"], 0, "kernel vlan_filtering")
    eq(info_data("br0")["stp_state"], 0, "kernel stp_state")


@test
def vlan_filtering_on_create_and_patch():
    d = setup()
    if kernel_has_vlan_filtering():
        expect_status(d.post(B("host"), {"name": "br0",
                                         "vlan_filtering": True}), 201)
        eq(info_data("br0")["vlan_filtering"], 1, "kernel vlan_filtering")
        r = expect_status(d.patch(B("host", "br0"),
                                  {"vlan_filtering": False}), 200)
        eq(info_data("br0")["vlan_filtering"], 0, "kernel vlan_filtering")
        eq(r.json["vlan_filtering"], False, "answer")
        expect_status(d.patch(B("host", "br0"), {"vlan_filtering": True}), 200)
        eq(info_data("br0")["vlan_filtering"], 1, "kernel vlan_filtering")
        return
    # This kernel cannot filter VLANs: a clear refusal in the kernel's
    # words, and nothing made or stored.
    before = snapshot(d)
    r = d.post(B("host"), {"name": "br0", "vlan_filtering": True})
    p = expect_problem(r, None, "vlan_filtering on a kernel without it")
    check(400 <= r.status < 500, "a client-side status, got %d", r.status)
    check("support" in p["detail"].lower(), "kernel's words: %r", p["detail"])
    expect_unchanged(d, before, "refused vlan_filtering")
    mk_bridge(d, "host", "br1")
    before = snapshot(d)
    r = d.patch(B("host", "br1"), {"vlan_filtering": True, "mtu": 1300})
    expect_problem(r, None, "PATCH vlan_filtering on a kernel without it")
    check(400 <= r.status < 500, "a client-side status, got %d", r.status)
    expect_unchanged(d, before, "refused PATCH vlan_filtering")


@test
def list_bridges_with_ports():
    d = setup()
    mk_bridge(d, "host", "br0")
    mk_bridge(d, "host", "br1")
    mk_veth(d, "host", "va", "vb")
    expect_status(d.put(P("host", "br0", "va")), 201)
    expect_status(d.put(P("host", "br0", "vb")), 201)
    r = expect_status(d.get(B("host")), 200)
    items = {i["name"]: i for i in r.json["items"]}
    eq(sorted(items), ["br0", "br1"], "bridges (no lo, no veths)")
    eq(sorted(items["br0"]["ports"]), ["va", "vb"], "ports of br0")
    eq(items["br1"]["ports"], [], "ports of br1")
    eq(sorted(n for n, l in klinks().items() if l.get("master") == "br0"),
       ["va", "vb"], "kernel ports of br0")
    for path in (B("host", "va"), B("host", "lo"), B("host", "nosuch"),
                 B("nosuchns", "br0"), B("nosuchns")):
        expect_problem(d.get(path), 404, "GET " + path)


@test
def one_bridge_is_its_list_item_byte_for_byte():
    d = setup()
    mk_ns(d, "bb")
    mk_bridge(d, "bb", "br0", stp=True)
    mk_bridge(d, "bb", "br1")
    mk_bridge(d, "bb", "brx")
    for a, b in (("pa", "qa"), ("pb", "qb"), ("pc", "qc")):
        mk_veth(d, "bb", a, b)
    for br, port in (("br0", "pa"), ("br0", "pb"), ("br1", "pc")):
        expect_status(d.put(P("bb", br, port)), 201, "PUT port")
    h.ip("link", "del", "brx", ns="bb")  # desired, and missing
    items = expect_list_is_its_items(d, B("bb"), lambda n: B("bb", n))
    eq({i["name"]: i["ports"] for i in items},
       {"br0": ["pa", "pb"], "br1": ["pc"], "brx": []}, "ports")
    ports = expect_list_is_its_items(d, P("bb", "br0"),
                                     lambda n: P("bb", "br0", n))
    eq([(p["name"], p["master"]) for p in ports],
       [("pa", "br0"), ("pb", "br0")], "br0's ports")
    put = expect_status(d.put(B("bb", "br0"), {"stp": True}), 200,
                        "PUT bridge again")
    eq(put.body, expect_status(d.get(B("bb", "br0")), 200).body,
       "PUT's answer and GET")
    put = expect_status(d.put(P("bb", "br0", "pa")), 200, "PUT port again")
    eq(put.body, expect_status(d.get(P("bb", "br0", "pa")), 200).body,
       "PUT port's answer and GET")


# ---------------------------------------------------------------------------
# Fixed MAC


@test
def fixed_mac_survives_ports_joining_and_leaving():
    d = setup()
    o = mk_bridge(d, "host", "br0", up=True)
    mac = klink("br0")["address"]
    eq(o["mac"], mac, "answer mac vs kernel")
    # Ports with MACs lower than any the bridge could have chosen: without
    # a fixed MAC the kernel would take the lowest port's.
    mk_veth(d, "host", "p1", "q1", mac="02:00:00:00:00:01", up=True)
    mk_veth(d, "host", "p2", "q2", mac="00:00:00:00:00:02", up=True)
    steps = (("PUT", "p1"), ("PUT", "p2"), ("DELETE", "p1"),
             ("DELETE", "p2"), ("PUT", "p2"))
    for method, port in steps:
        r = d.request(method, P("host", "br0", port))
        expect_status(r, (201, 204), "%s port %s" % (method, port))
        eq(klink("br0")["address"], mac,
           "bridge MAC after %s %s" % (method, port))
    g = expect_status(d.get(B("host", "br0")), 200).json
    eq((g["mac"], g.get("in_sync")), (mac, True), "GET bridge")
    eq(state_link(state(d), "host", "br0").get("mac"), mac, "desired mac")


@test
def given_mac_is_used():
    d = setup()
    r = expect_status(d.post(B("host"), {"name": "br0",
                                         "mac": "02:00:00:aa:bb:cc"}), 201)
    eq(klink("br0")["address"], "02:00:00:aa:bb:cc", "kernel mac")
    eq(r.json["mac"], "02:00:00:aa:bb:cc", "answer mac")


# ---------------------------------------------------------------------------
# PATCH


@test
def patch_each_setting():
    d = setup()
    mk_bridge(d, "host", "br0")
    r = expect_status(d.patch(B("host", "br0"), {"stp": True}), 200)
    check(info_data("br0")["stp_state"] != 0, "kernel stp on")
    eq(r.json["stp"], True, "answer stp")
    eq(state_link(state(d), "host", "br0").get("stp"), True, "desired stp")
    expect_status(d.patch(B("host", "br0"), {"stp": False}), 200)
    eq(info_data("br0")["stp_state"], 0, "kernel stp off")
    eq(state_link(state(d), "host", "br0").get("stp"), False, "desired stp")
    r = expect_status(d.patch(B("host", "br0"), {"mtu": 1300}), 200)
    eq(klink("br0")["mtu"], 1300, "kernel mtu")
    eq(r.json["mtu"], 1300, "answer mtu")
    eq(state_link(state(d), "host", "br0").get("mtu"), 1300, "desired mtu")
    expect_status(d.patch(B("host", "br0"), {"up": True}), 200)
    eq(kup(klink("br0")), True, "kernel up")
    eq(state_link(state(d), "host", "br0").get("up"), True, "desired up")
    expect_status(d.patch(B("host", "br0"), {"up": False}), 200)
    eq(kup(klink("br0")), False, "kernel down")
    r = expect_status(d.patch(B("host", "br0"),
                              {"stp": True, "mtu": 1450, "up": True}), 200)
    k = klink("br0")
    eq((info_data("br0")["stp_state"] != 0, k["mtu"], kup(k)),
       (True, 1450, True), "kernel after a PATCH of three settings")
    eq(r.json.get("in_sync"), True, "in_sync")


@test
def patch_refusals_change_nothing():
    d = setup()
    mk_ns(d, "red")
    mk_bridge(d, "host", "br0", mtu=1400)
    mk_veth(d, "host", "va", "vb")
    before = snapshot(d, ("host", "red"))
    for path, body, status, field in (
            (B("host", "br0"), {"mac": "02:00:00:00:00:01"}, 400, "mac"),
            (B("host", "br0"), {"name": "br9"}, 400, "name"),
            (B("host", "br0"), {"bogus": True}, 400, "bogus"),
            (B("host", "br0"), {"mtu": 67}, 400, "mtu"),
            (B("host", "br0"), {"mtu": "1500"}, 400, "mtu"),
            (B("host", "br0"), {"stp": "yes"}, 400, "stp"),
            (B("host", "br0"), {"up": True, "mtu": 0}, 400, "mtu"),
            (B("host", "br0"), {"stp": True, "mtu": 70000}, 400, None),
            (B("host", "nosuch"), {"stp": True}, 404, None),
            (B("host", "va"), {"stp": True}, 404, None),
            (B("host", "lo"), {"up": False}, 404, None),
            (B("nosuchns", "br0"), {"stp": True}, 404, None),
            (B("red", "br0"), {"stp": True}, 404, None)):
        what = "PATCH %s %r" % (path, body)
        expect_problem(d.patch(path, body), status, what, field=field)
        expect_unchanged(d, before, what)


@test
def bridge_mtu_stays_when_ports_join():
    d = setup()
    mk_bridge(d, "host", "br0", mtu=1400, up=True)
    mk_veth(d, "host", "va", "vb", up=True)
    eq(klink("va")["mtu"], 1500, "port mtu")
    expect_status(d.put(P("host", "br0", "va")), 201)
    eq(klink("br0")["mtu"], 1400, "kernel mtu of the bridge after a 1500 "
       "port joined (the desired 1400 must stick)")
    g = expect_status(d.get(B("host", "br0")), 200).json
    eq(g.get("in_sync"), True, "bridge in sync (drift %r)" % g.get("drift"))


# ---------------------------------------------------------------------------
# Ports


@test
def ports_attach_idempotent_list_detach():
    d = setup()
    mk_bridge(d, "host", "br0")
    mk_veth(d, "host", "va", "vb")
    r = expect_status(d.put(P("host", "br0", "va")), 201, "PUT port")
    eq(r.header("Location"), "/v1/namespaces/host/bridges/br0/ports/va",
       "Location")
    eq((r.json["name"], r.json["master"]), ("va", "br0"), "answer")
    eq(klink("va").get("master"), "br0", "kernel master")
    r = expect_status(d.put(P("host", "br0", "va")), 200, "PUT port again")
    eq(r.json["master"], "br0", "answer")
    eq(klink("va").get("master"), "br0", "kernel master")
    eq(state_link(state(d), "host", "va").get("master"), "br0",
       "desired master")
    r = expect_status(d.get(P("host", "br0")), 200)
    eq([(i["name"], i["master"]) for i in r.json["items"]], [("va", "br0")],
       "GET ports")
    eq(r.json["items"][0]["ifindex"], klink("va")["ifindex"], "port ifindex")
    eq(expect_status(d.get(B("host", "br0")), 200).json["ports"], ["va"],
       "GET bridge ports")
    r = expect_status(d.delete(P("host", "br0", "va")), 204, "DELETE port")
    eq(klink("va").get("master"), None, "kernel: detached")
    check("va" in klinks(), "detaching must not delete the link")
    eq(state_link(state(d), "host", "va").get("master"), None,
       "desired master")
    before = snapshot(d)
    expect_problem(d.delete(P("host", "br0", "va")), 404, "DELETE port again")
    expect_unchanged(d, before, "DELETE port again")
    eq(expect_status(d.get(P("host", "br0")), 200).json["items"], [],
       "GET ports after detach")


@test
def port_moves_from_another_bridge():
    d = setup()
    mk_bridge(d, "host", "br0")
    mk_bridge(d, "host", "br1")
    mk_veth(d, "host", "va", "vb")
    expect_status(d.put(P("host", "br1", "va")), 201)
    r = d.put(P("host", "br0", "va"))
    expect_status(r, (200, 201), "PUT a port of br1 into br0")
    eq(klink("va").get("master"), "br0", "kernel master")
    eq(state_link(state(d), "host", "va").get("master"), "br0",
       "desired master")


@test
def port_refusals_change_nothing():
    d = setup()
    mk_ns(d, "red")
    mk_bridge(d, "host", "br0")
    mk_bridge(d, "red", "brr")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red")
    mk_veth(d, "red", "ra", "rb")
    mk_veth(d, "host", "va", "vb")
    before = snapshot(d, ("host", "red"))
    for method, path, status in (
            # Ports must be in their bridge's namespace.
            ("PUT", P("host", "br0", "eth0"), 404),
            ("PUT", P("host", "br0", "ra"), 404),
            ("PUT", P("red", "brr", "h-red"), 404),
            ("PUT", P("red", "brr", "va"), 404),
            ("PUT", P("host", "br0", "nosuch"), 404),
            ("PUT", P("host", "nosuch", "va"), 404),
            ("PUT", P("host", "vb", "va"), 404),
            ("PUT", P("nosuchns", "br0", "va"), 404),
            ("PUT", P("host", "br0", "br0"), 400),
            ("PUT", P("host", "br0", "a:b"), 400),
            ("DELETE", P("host", "br0", "va"), 404),
            ("DELETE", P("host", "br0", "nosuch"), 404),
            ("DELETE", P("host", "nosuch", "va"), 404),
            ("DELETE", P("red", "brr", "h-red"), 404),
            ("GET", P("host", "nosuch"), 404),
            ("GET", P("host", "va"), 404)):
        what = "%s %s" % (method, path)
        expect_problem(d.request(method, path), status, what)
        expect_unchanged(d, before, what)
    # The same through PATCH master: the bridge must be in the link's
    # namespace.
    for ns, link, br in (("red", "eth0", "br0"), ("host", "h-red", "brr"),
                         ("host", "va", "eth0")):
        what = "PATCH %s/%s master %s" % (ns, link, br)
        expect_problem(d.patch(L(ns, link), {"master": br}), 404, what)
        expect_unchanged(d, before, what)


@test
def a_full_bridge_refuses_another_port_with_409():
    """The kernel numbers at most 1,023 ports (EXFULL after that)."""
    d = setup()
    mk_ns(d, "big")
    mk_bridge(d, "big", "brb")
    # 512 pairs made and attached by ip in one batch each: quick, and not
    # the subject of this test.
    h.run(["ip", "-n", "big", "-batch", "-"], input="".join(
        "link add p%d type veth peer name q%d\n" % (i, i)
        for i in range(1, 513)))
    h.run(["ip", "-n", "big", "-batch", "-"], input="".join(
        "link set %s%d master brb\n" % (e, i)
        for i in range(1, 513) for e in "pq")[:-len("link set q512 master brb\n")])
    ports = [n for n, l in klinks("big").items() if l.get("master") == "brb"]
    eq(len(ports), 1023, "ports attached by ip")
    before = snapshot(d, ("big",))
    r = d.put(P("big", "brb", "q512"))
    p = expect_problem(r, 409, "PUT the 1,024th port")
    check(p["detail"], "detail")
    expect_unchanged(d, before, "PUT the 1,024th port")
    r = d.patch(L("big", "q512"), {"master": "brb"})
    expect_problem(r, 409, "PATCH master of the 1,024th port")
    expect_unchanged(d, before, "PATCH master of the 1,024th port")
    # One leaves, and the next one fits.
    expect_status(d.delete(P("big", "brb", "p1")), 204)
    expect_status(d.put(P("big", "brb", "q512")), 201)
    eq(klink("q512", "big").get("master"), "brb", "kernel master")


# ---------------------------------------------------------------------------
# Delete


@test
def delete_bridge():
    d = setup()
    mk_bridge(d, "host", "br0", stp=True, up=True)
    mk_veth(d, "host", "va", "vb")
    expect_status(d.put(P("host", "br0", "va")), 201)
    r = expect_status(d.delete(B("host", "br0")), 204, "DELETE bridge")
    eq(r.body, b"", "204 body")
    ks = klinks()
    check("br0" not in ks, "kernel: br0 still there")
    check("va" in ks, "kernel: the port went with its bridge")
    eq(ks["va"].get("master"), None, "kernel: port detached")
    st = state(d)
    check(state_link(st, "host", "br0") is None, "desired state keeps br0")
    check(state_link(st, "host", "va").get("master") in (None,),
          "the port still wants br0: %r", state_link(st, "host", "va"))
    g = expect_status(d.get("/v1/namespaces/host/links/va"), 200).json
    eq(g.get("in_sync"), True, "former port in sync (drift %r)"
       % g.get("drift"))
    expect_problem(d.get(B("host", "br0")), 404, "GET after DELETE")
    expect_problem(d.delete(B("host", "br0")), 404, "DELETE again")
    d.post("/v1/reconcile")
    check("br0" not in klinks(), "reconcile re-created a deleted bridge")
    # Not a bridge: 404 and nothing changes.
    before = snapshot(d)
    expect_problem(d.delete(B("host", "va")), 404, "DELETE bridges/va")
    expect_problem(d.delete(B("host", "lo")), 404, "DELETE bridges/lo")
    expect_unchanged(d, before, "DELETE of a non-bridge")


# ---------------------------------------------------------------------------
# Traffic


def ping(ns, addr, timeout=2):
    return h.run(["ip", "netns", "exec", ns, "ping", "-c1", "-W%d" % timeout,
                  "-n", "-q", addr], check=False, timeout=timeout + 10)


@test
def two_namespaces_talk_through_a_bridge():
    d = setup()
    for ns in ("red", "blue"):
        mk_ns(d, ns)
    mk_bridge(d, "host", "br0", up=True)
    for ns, addr in (("red", "198.18.0.2/24"), ("blue", "198.18.0.3/24")):
        mk_veth(d, "host", "h-" + ns, "eth0", peer_ns=ns, up=True)
        expect_status(d.put(P("host", "br0", "h-" + ns)), 201)
        expect_status(d.post("/v1/namespaces/%s/links/eth0/addresses" % ns,
                             {"address": addr}), 201)
        expect_status(d.patch("/v1/namespaces/%s/links/eth0" % ns,
                              {"up": True}), 200)
        expect_status(d.patch("/v1/namespaces/%s/links/lo" % ns,
                              {"up": True}), 200)
        eq(kaddrs("eth0", ns), [addr], "kernel address in " + ns)
        eq(kup(klink("eth0", ns)), True, "kernel: %s/eth0 up" % ns)
    eq(sorted(n for n, l in klinks().items() if l.get("master") == "br0"),
       ["h-blue", "h-red"], "kernel ports")
    p = ping("red", "198.18.0.3")
    eq(p.returncode, 0, "ping red -> blue:\n%s%s" % (p.stdout, p.stderr))
    p = ping("blue", "198.18.0.2")
    eq(p.returncode, 0, "ping blue -> red:\n%s%s" % (p.stdout, p.stderr))
    # The bridge is what carries it: without the port, no answer.
    expect_status(d.delete(P("host", "br0", "h-blue")), 204)
    p = ping("red", "198.18.0.3", timeout=1)
    check(p.returncode != 0, "ping still answered with blue detached")
    expect_status(d.put(P("host", "br0", "h-blue")), 201)
    p = ping("red", "198.18.0.3")
    eq(p.returncode, 0, "ping after re-attaching:\n%s" % p.stdout)


if __name__ == "__main__":
    h.run_tests()
