#!/usr/bin/python3
"""Who owns a namespace, and what netnsd may touch in one it does not own.

A namespace's mark: a namespace netnsd makes carries netnsd's mark,
the alias `netnsd-namespace` on its `lo` (`ip -j link`), set before the
namespace gets its name. So with the state file lost, netnsd still knows
its own: GET says managed, DELETE needs no force; a namespace made by
`ip netns add` is still unmanaged (409 without force). A namespace
without the mark under the name of one netnsd marked (an impostor: `ip
netns del` then `ip netns add` of the same name) is not netnsd's: GET
says managed false, in_sync false with the words; DELETE needs force;
reconcile reports it and leaves it. Re-creation at start-up marks again;
adoption (PUT) marks.

Links in a namespace netnsd does not manage: PATCH, DELETE, an
address, a port attach or detach answer 409 `unmanaged` (naming the
namespace "which netnsd does not manage") without ?force=true and change
nothing; with it they work.

A move keeps its addresses: PATCH `namespace` takes the desired
addresses of the link along, in the kernel and in the desired state."""

import os

import harness as h
from harness import check, eq, expect_problem, expect_status, test
from topology import (klink, klinks, kaddrs, snapshot, expect_unchanged, state, setup,
                      mk_ns, mk_veth, L, B, P)

NS = "/v1/namespaces"
MARK = "netnsd-namespace"


def lo_alias(ns):
    return (klink("lo", ns) or {}).get("ifalias")


def lose_state(d):
    """Stops netnsd and deletes its state file and journal, as a lost disk
    would, then starts it again."""
    d.stop()
    for f in (d.state_file, d.journal):
        if os.path.exists(f):
            os.unlink(f)
    d.start()


def expect_unmanaged(r, what, *words):
    p = expect_problem(r, 409, what)
    eq(p["type"], "urn:netnsd:problem:unmanaged", what + ": type")
    for w in words + ("?force=true",):
        check(w in p["detail"], "%s: %r lacks %r", what, p["detail"], w)
    return p


@test
def own_namespace_survives_a_lost_state_file():
    d = setup()
    expect_status(d.post(NS, {"name": "red"}), 201, "POST red")
    mk_ns(d, "blue")  # PUT creates
    eq(lo_alias("red"), MARK, "lo alias of red")
    eq(lo_alias("blue"), MARK, "lo alias of blue")
    check("UP" in klink("lo", "red")["flags"], "lo of red is up")
    h.netns_add("outside")
    check(lo_alias("outside") is None, "ip netns add marks nothing")
    lose_state(d)
    eq(state(d)["namespaces"], [], "the desired state is empty")
    for ns in ("red", "blue"):
        r = expect_status(d.get(NS + "/" + ns), 200, "GET " + ns)
        eq(r.json["managed"], True, ns + " is managed by its mark")
    eq(d.get(NS + "/outside").json["managed"], False, "outside managed")
    listed = {n["name"]: n["managed"] for n in d.get(NS).json["items"]}
    eq(listed, {"red": True, "blue": True, "outside": False}, "the list")
    expect_unmanaged(d.delete(NS + "/outside"), "DELETE outside",
                     "not created by netnsd")
    check("outside" in h.netns_list(), "the refused DELETE deleted it")
    expect_status(d.delete(NS + "/red"), 204, "DELETE red, no force")
    check("red" not in h.netns_list(), "red is gone: %r", h.netns_list())
    expect_status(d.delete(NS + "/outside?force=true"), 204, "forced")


@test
def adoption_and_reboot_mark_it():
    d = setup()
    h.netns_add("green")
    expect_status(d.put(NS + "/green"), 200, "PUT adopts green")
    eq(lo_alias("green"), MARK, "adoption marks lo")
    mk_ns(d, "red")
    d.stop()
    h.simulate_reboot()
    d.start()
    eq(lo_alias("red"), MARK, "re-made at start-up, marked")
    eq(lo_alias("green"), MARK, "green re-made, marked")
    eq(d.get(NS + "/red").json.get("in_sync"), True, "red in sync")


@test
def impostor_is_not_netnsd_s():
    d = setup()
    mk_ns(d, "red")
    h.netns_del("red")
    h.netns_add("red")  # someone else's, under the desired name
    r = expect_status(d.get(NS + "/red"), 200, "GET red")
    eq(r.json["managed"], False, "an impostor is not managed")
    eq(r.json["in_sync"], False, "an impostor is not in sync")
    check("did not make" in " ".join(r.json["drift"]),
          "drift names it: %r", r.json["drift"])
    r = expect_status(d.post("/v1/reconcile", {}), 200, "reconcile")
    fails = [f for f in r.json["failures"] if f["object"] == "namespace red"]
    check(fails and not fails[0]["transient"],
          "reconcile reports the impostor for good: %r", r.json)
    check(lo_alias("red") is None, "reconcile marked someone else's")
    expect_unmanaged(d.delete(NS + "/red"), "DELETE impostor",
                     "lacks netnsd's mark")
    check("red" in h.netns_list(), "refused DELETE deleted it")
    expect_status(d.delete(NS + "/red?force=true"), 204, "forced DELETE")
    check("red" not in h.netns_list(), "red still there")


@test
def nothing_is_built_in_an_impostor():
    """Reconcile and start-up leave an impostor whole: no link, address,
    route or veth end of netnsd's goes into it, and the far end of a pair
    into it is not made in the namespace netnsd does own."""
    d = setup()
    mk_ns(d, "red")
    mk_ns(d, "blue")
    mk_veth(d, "red", "va", "vb", up=True)
    mk_veth(d, "blue", "x", "y", peer_ns="red", up=True)
    expect_status(d.post(NS + "/red/links/va/addresses",
                         {"address": "198.18.5.1/24"}), 201, "address")
    expect_status(d.post(NS + "/red/routes", {
        "dst": "198.18.9.0/24", "via": "198.18.5.2", "dev": "va"}),
        201, "route")
    h.netns_del("red")
    h.netns_add("red")
    h.wait_until(lambda: klink("x", "blue") is None, what="x goes with y")

    def left_alone(what):
        eq(sorted(klinks("red")), ["lo"], what + ": red's links")
        check(klink("x", "blue") is None, "%s: blue/x made", what)
        check(lo_alias("red") is None, "%s: red marked", what)

    r = expect_status(d.post("/v1/reconcile", {}), 200, "reconcile")
    left_alone("reconcile")
    eq(r.json["actions"], [], "reconcile did something")
    failed = {f["object"]: f["transient"] for f in r.json["failures"]}
    for obj in ("namespace red", "link red/va", "link blue/x",
                "address 198.18.5.1/24 on red/va"):
        eq(failed.get(obj), False, "%s: failure for good in %r"
           % (obj, r.json["failures"]))
    check(any(o.startswith("route 198.18.9.0/24") and not t
              for o, t in failed.items()), "the route's failure: %r",
          r.json["failures"])
    d.stop()
    d.start()
    left_alone("start-up")


@test
def links_in_unmanaged_namespace_are_protected():
    d = setup()
    h.netns_add("ext")
    h.ip("link", "add", "ea", "type", "veth", "peer", "name", "eb", ns="ext")
    h.ip("link", "add", "xbr", "type", "bridge", ns="ext")
    h.ip("link", "set", "eb", "master", "xbr", ns="ext")
    before = snapshot(d, ("ext",))
    words = ("ext", "which netnsd does not manage")
    expect_unmanaged(d.patch(L("ext", "ea"), {"mtu": 1400}), "PATCH", *words)
    expect_unmanaged(d.delete(L("ext", "ea")), "DELETE link", *words)
    expect_unmanaged(d.post(L("ext", "ea") + "/addresses",
                            {"address": "198.18.7.1/24"}), "POST address",
                     *words)
    expect_unmanaged(d.put(P("ext", "xbr", "ea")), "PUT port", *words)
    expect_unmanaged(d.delete(P("ext", "xbr", "eb")), "DELETE port", *words)
    expect_unmanaged(d.patch(L("ext", "eb"), {"master": None}),
                     "PATCH master null", *words)
    expect_unmanaged(d.delete(B("ext", "xbr")), "DELETE bridge", *words)
    expect_unchanged(d, before, "the refused changes")
    # Forced, they work.
    expect_status(d.patch(L("ext", "ea") + "?force=true", {"mtu": 1400}),
                  200, "forced PATCH")
    eq(klink("ea", "ext")["mtu"], 1400, "kernel mtu")
    expect_status(d.delete(L("ext", "ea") + "?force=true"), 204, "forced")
    check(klink("ea", "ext") is None, "ea still there")
    # Adopted, the namespace is netnsd's: its links need no force.
    h.ip("link", "add", "ec", "type", "veth", "peer", "name", "ed", ns="ext")
    expect_status(d.put(NS + "/ext"), 200, "adopt ext")
    expect_status(d.patch(L("ext", "ec"), {"mtu": 1300}), 200, "PATCH")
    eq(klink("ec", "ext")["mtu"], 1300, "kernel mtu after adoption")


@test
def links_in_own_namespace_need_no_force_after_state_loss():
    d = setup()
    mk_ns(d, "red")
    h.ip("link", "add", "ra", "type", "veth", "peer", "name", "rb", ns="red")
    lose_state(d)
    expect_status(d.patch(L("red", "ra"), {"mtu": 1400}), 200, "PATCH")
    eq(klink("ra", "red")["mtu"], 1400, "kernel mtu")


@test
def move_keeps_addresses():
    d = setup()
    mk_ns(d, "red")
    mk_ns(d, "blue")
    mk_veth(d, "red", "va", "vb")
    for a in ("198.18.8.1/24", "2001:db8:8::1/64"):
        expect_status(d.post(L("red", "va") + "/addresses", {"address": a}),
                      201, "POST " + a)
    r = expect_status(d.patch(L("red", "va"), {"namespace": "blue"}), 200,
                      "move va to blue")
    want = ["198.18.8.1/24", "2001:db8:8::1/64"]
    eq(kaddrs("va", "blue"), want, "kernel addresses in blue")
    got = sorted((a["namespace"], a["link"], a["address"])
                 for a in state(d)["addresses"])
    eq(got, [("blue", "va", a) for a in want], "desired addresses")
    r = expect_status(d.get(L("blue", "va") + "/addresses"), 200, "list")
    for a in r.json["items"]:
        if a["address"] in want:
            eq(a.get("in_sync"), True, a["address"] + " in sync")
    # And they stay through a restart's reconcile.
    d.restart(kill=True)
    eq(kaddrs("va", "blue"), want, "kernel addresses after a restart")
    eq(d.get(NS + "/blue").json["in_sync"], True, "blue in sync")


if __name__ == "__main__":
    h.run_tests()
