#!/usr/bin/python3
"""Bridges netnsd did not make, --max-objects, and a namespace's in_sync.

Bridge ownership: attaching a port to, or detaching it from, a bridge
in the host namespace that netnsd did not create (`ip link add ... type
bridge`, as docker0 or a LAN bridge would be) changes that bridge, so it
needs ?force=true: PUT and DELETE of the port and PATCH `master` answer 409
`unmanaged` without it and change nothing (`ip -j link`: no master); with
it they work. A bridge netnsd made needs nothing; an unmanaged bridge in a
namespace other than host is not protected (the same rule as links).

Quotas: with --max-objects N, a creation that would take the desired
state past N records (a namespace, each end of a veth, a bridge, an
address) answers 403 `quota-exceeded` naming the limit and the flag, and
changes neither the kernel nor the desired state; changes of existing
objects and deletions always work; a deletion makes room; after a restart
the count is the same.

A namespace's in_sync: GET /v1/namespaces/{ns} and the list say
in_sync false, with a short drift naming the inner object, when something
desired inside the namespace differs (a veth end deleted with `ip -n`, an
MTU changed, an address removed); true again after POST /v1/reconcile;
netnsd_drifted_objects counts the inner objects, not the namespace too."""

import os

import harness as h
from harness import check, eq, expect_problem, expect_status, test
from topology import (klink, kaddrs, snapshot, expect_unchanged, state,
                      state_link, clean_host_links, setup, mk_ns, mk_veth,
                      mk_bridge, B, P, L)


NS = "/v1/namespaces"


def kmaster(name, ns="host"):
    return (klink(name, ns) or {}).get("master")


def expect_unmanaged_bridge(r, bridge, what):
    p = expect_problem(r, 409, what)
    eq(p["type"], "urn:netnsd:problem:unmanaged", what + ": problem type")
    check(bridge in p["detail"] and "not managed by netnsd" in p["detail"]
          and "?force=true" in p["detail"],
          "%s: the detail must name the bridge, say it is not netnsd's and "
          "how to force: %r", what, p["detail"])


# ---------------------------------------------------------------------------
# Bridges netnsd did not create


@test
def attaching_to_an_unmanaged_host_bridge_needs_force():
    d = setup()
    h.ip("link", "add", "lanbr", "type", "bridge")
    mk_veth(d, "host", "hv0", "hv1")
    before = snapshot(d)

    expect_unmanaged_bridge(d.put(P("host", "lanbr", "hv0")), "lanbr",
                            "PUT port on an unmanaged bridge")
    expect_unmanaged_bridge(d.patch(L("host", "hv0"), {"master": "lanbr"}),
                            "lanbr", "PATCH master to an unmanaged bridge")
    eq(kmaster("hv0"), None, "hv0's master in the kernel after the 409s")
    expect_unchanged(d, before, "the refused attachments")

    # With force, both ways work.
    r = expect_status(d.put(P("host", "lanbr", "hv0") + "?force=true"), 201,
                      "PUT port ?force=true")
    eq(r.json["master"], "lanbr", "answer's master")
    eq(kmaster("hv0"), "lanbr", "kernel master after the forced PUT")
    eq(state_link(state(d), "host", "hv0").get("master"), "lanbr",
       "desired master")
    r = expect_status(d.patch(L("host", "hv1") + "?force=true",
                              {"master": "lanbr"}), 200,
                      "PATCH master ?force=true")
    eq(kmaster("hv1"), "lanbr", "kernel master after the forced PATCH")


@test
def detaching_from_an_unmanaged_host_bridge_needs_force():
    d = setup()
    h.ip("link", "add", "lanbr", "type", "bridge")
    mk_veth(d, "host", "hv0", "hv1")
    expect_status(d.put(P("host", "lanbr", "hv0") + "?force=true"), 201)
    expect_status(d.patch(L("host", "hv1") + "?force=true",
                          {"master": "lanbr"}), 200)
    before = snapshot(d)

    expect_unmanaged_bridge(d.delete(P("host", "lanbr", "hv0")), "lanbr",
                            "DELETE port of an unmanaged bridge")
    expect_unmanaged_bridge(d.patch(L("host", "hv1"), {"master": None}),
                            "lanbr", "PATCH master null off an unmanaged "
                            "bridge")
    eq((kmaster("hv0"), kmaster("hv1")), ("lanbr", "lanbr"),
       "masters after the refused detachments")
    expect_unchanged(d, before, "the refused detachments")

    expect_status(d.delete(P("host", "lanbr", "hv0") + "?force=true"), 204,
                  "DELETE port ?force=true")
    expect_status(d.patch(L("host", "hv1") + "?force=true",
                          {"master": None}), 200,
                  "PATCH master null ?force=true")
    eq((kmaster("hv0"), kmaster("hv1")), (None, None),
       "masters after the forced detachments")
    # A PATCH that names no master is no change to the bridge.
    expect_status(d.patch(L("host", "hv1"), {"mtu": 1400}), 200,
                  "PATCH mtu of a link on no bridge")


@test
def netnsd_bridges_and_other_namespaces_need_no_force():
    d = setup()
    mk_bridge(d, "host", "mbr")
    mk_veth(d, "host", "hv0", "hv1")
    expect_status(d.put(P("host", "mbr", "hv0")), 201,
                  "PUT port on netnsd's own bridge")
    expect_status(d.patch(L("host", "hv1"), {"master": "mbr"}), 200,
                  "PATCH master to netnsd's own bridge")
    eq((kmaster("hv0"), kmaster("hv1")), ("mbr", "mbr"), "kernel masters")
    expect_status(d.delete(P("host", "mbr", "hv0")), 204)
    expect_status(d.patch(L("host", "hv1"), {"master": None}), 200)
    # Outside host, as for links, what netnsd did not create is not
    # protected: the namespace is the client's.
    mk_ns(d, "red")
    h.ip("link", "add", "rbr", "type", "bridge", ns="red")
    mk_veth(d, "red", "rv0", "rv1")
    expect_status(d.put(P("red", "rbr", "rv0")), 201,
                  "PUT port on an unmanaged bridge in red")
    eq(kmaster("rv0", "red"), "rbr", "kernel master in red")


# ---------------------------------------------------------------------------
# --max-objects


def expect_quota(r, limit, what):
    p = expect_problem(r, 403, what)
    eq(p["type"], "urn:netnsd:problem:quota-exceeded", what + ": type")
    check(str(limit) in p["detail"] and "--max-objects" in p["detail"],
          "%s: the detail must name the limit and the flag: %r", what,
          p["detail"])


def objects_metric(d):
    r = expect_status(d.get("/metrics"), 200)
    n = 0
    for line in r.body.decode().splitlines():
        if line.startswith("netnsd_managed_objects{"):
            n += int(line.split()[-1])
    return n


@test
def creations_past_max_objects_are_refused():
    d = h.daemon(args=["--max-objects", "5"])
    h.on_cleanup(clean_host_links)
    mk_ns(d, "red")                                        # 1
    mk_veth(d, "host", "hq0", "eth0", peer_ns="red")       # 3: two ends
    mk_bridge(d, "host", "qbr")                            # 4
    expect_status(d.post(L("host", "hq0") + "/addresses",
                         {"address": "198.18.5.1/24"}), 201)  # 5
    eq(objects_metric(d), 5, "managed objects")
    before = snapshot(d, ("host", "red"))
    netns_before = h.netns_list()

    expect_quota(d.post(B("host"), {"name": "qbr2"}), 5, "POST bridge")
    expect_quota(d.post(NS, {"name": "blue"}), 5, "POST namespace")
    expect_quota(d.put(NS + "/blue"), 5, "PUT a new namespace")
    h.netns_add("other")
    netns_before.append("other")
    expect_quota(d.put(NS + "/other"), 5, "PUT adopting a namespace")
    expect_quota(d.post("/v1/namespaces/host/veths",
                        {"name": "hq1", "peer": {"name": "hq2"}}), 5,
                 "POST veth")
    expect_quota(d.post(L("host", "hq0") + "/addresses",
                        {"address": "198.18.5.2/24"}), 5, "POST address")
    eq(h.netns_list(), sorted(netns_before), "namespaces after the 403s")
    eq((klink("qbr2"), klink("hq1")), (None, None), "links after the 403s")
    eq(kaddrs("hq0"), ["198.18.5.1/24"], "addresses after the 403s")
    expect_unchanged(d, before, "the refused creations")
    eq(d.namespaces()["other"]["managed"], False, "other stays unmanaged")

    # Converging and changing what exists is never refused.
    expect_status(d.put(NS + "/red"), 200, "PUT an existing namespace")
    expect_status(d.patch(L("host", "hq0"), {"mtu": 1400}), 200,
                  "PATCH an existing link")
    expect_status(d.put(P("host", "qbr", "hq0")), 201, "PUT a port")
    eq(kmaster("hq0"), "qbr", "kernel master")

    # A deletion makes room for one.
    expect_status(d.delete(B("host", "qbr")), 204, "DELETE bridge")
    expect_status(d.post(B("host"), {"name": "qbr2"}), 201,
                  "POST bridge once there is room")
    check(klink("qbr2") is not None, "kernel lacks qbr2")
    expect_quota(d.post(B("host"), {"name": "qbr3"}), 5, "POST bridge again")

    # The count survives a restart (journal) and a kill.
    for kill in (False, True):
        d.restart(kill=kill)
        expect_quota(d.post(B("host"), {"name": "qbr3"}), 5,
                     "POST bridge after a restart")
        check(klink("qbr3") is None, "qbr3 made after a restart")
    # One room is not enough for a veth pair: each end is an object.
    expect_status(d.delete(L("host", "hq0") + "/addresses/198.18.5.1/24"),
                  204, "DELETE address")
    before = snapshot(d, ("host", "red"))
    expect_quota(d.post("/v1/namespaces/host/veths",
                        {"name": "hq1", "peer": {"name": "hq2"}}), 5,
                 "POST veth with room for one end")
    expect_unchanged(d, before, "the refused veth")
    expect_status(d.post(L("host", "hq0") + "/addresses",
                         {"address": "198.18.5.3/24"}), 201,
                  "POST address with room for it")
    eq(kaddrs("hq0"), ["198.18.5.3/24"], "kernel addresses")
    eq(objects_metric(d), 5, "managed objects at the end")


@test
def max_objects_flag_and_config_file():
    d = h.daemon(start=False)
    for bad in ("0", "-1", "x", "1000000001"):
        p = d.run_once(["--max-objects", bad])
        check(p.returncode != 0 and "--max-objects" in p.stderr,
              "--max-objects %s: exit %d, %r", bad, p.returncode, p.stderr)
    conf = os.path.join(d.state_dir, "netnsd.conf")
    with open(conf, "w") as f:
        f.write("max-objects = 1\n")
    d.args = ["--config", conf]
    d.start()
    mk_ns(d, "red")
    expect_quota(d.put(NS + "/blue"), 1, "PUT past max-objects from a file")
    check("blue" not in h.netns_list(), "blue was made")


# ---------------------------------------------------------------------------
# A namespace's in_sync covers what is desired inside it


def ns_item(d, ns):
    return expect_status(d.get(NS + "/" + ns), 200, "GET namespace").json


def drifted_metric(d):
    r = expect_status(d.get("/metrics"), 200)
    for line in r.body.decode().splitlines():
        if line.startswith("netnsd_drifted_objects "):
            return int(line.split()[-1])
    raise h.Failure("no netnsd_drifted_objects in /metrics")


@test
def namespace_in_sync_follows_its_links():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "host", "h-red", "eth0", peer_ns="red", up=True)
    o = ns_item(d, "red")
    eq((o.get("in_sync"), o.get("drift")), (True, None), "red at first")
    eq(drifted_metric(d), 0, "drifted objects at first")

    # The end inside red goes: the kernel takes its host end with it.
    h.ip("link", "del", "eth0", ns="red")
    o = ns_item(d, "red")
    eq(o.get("in_sync"), False, "in_sync of red without its eth0")
    check("link eth0: missing" in (o.get("drift") or []),
          "red's drift must name eth0: %r", o)
    eq(d.namespaces()["red"].get("in_sync"), False, "in_sync in the list")
    eq(d.namespaces()["red"].get("drift"), o.get("drift"), "drift in the list")
    # Counted once per object: eth0 and h-red, not red as well.
    eq(drifted_metric(d), 2, "drifted objects")

    r = expect_status(d.post("/v1/reconcile"), 200, "reconcile")
    eq(r.json["failures"], [], "reconcile failures")
    check(klink("eth0", ns="red") and klink("h-red"),
          "the kernel after reconcile: red/eth0 %r, h-red %r",
          klink("eth0", ns="red"), klink("h-red"))
    o = ns_item(d, "red")
    eq((o.get("in_sync"), o.get("drift")), (True, None), "red reconciled")
    eq(d.namespaces()["red"].get("in_sync"), True, "the list reconciled")
    eq(drifted_metric(d), 0, "drifted objects after reconcile")


@test
def namespace_drift_always_has_words():
    # An address desired on a link netnsd did not create: when that link
    # goes, no "link ...: missing" is said for it (its record holds only
    # attributes), so the address must be said, or the namespace would be
    # out of sync with no words (which openapi.yaml forbids).
    d = setup()
    mk_ns(d, "red")
    h.ip("link", "add", "a0", "type", "veth", "peer", "name", "a1", ns="red")
    expect_status(d.post("/v1/namespaces/red/links/a0/addresses",
                         {"address": "198.18.61.1/24"}), 201, "address")
    h.ip("link", "del", "a0", ns="red")
    o = ns_item(d, "red")
    eq(o.get("in_sync"), False, "in_sync of red without a0")
    check("address 198.18.61.1/24 on a0: missing" in (o.get("drift") or []),
          "red's drift must name the address: %r", o)


@test
def namespace_drift_names_attributes_and_addresses_and_is_bounded():
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "red", "a0", "a1", mtu=1400)
    expect_status(d.post(L("red", "a0") + "/addresses",
                         {"address": "198.18.7.1/24"}), 201)
    h.ip("link", "set", "a0", "mtu", "1280", ns="red")
    h.ip("addr", "del", "198.18.7.1/24", "dev", "a0", ns="red")
    o = ns_item(d, "red")
    eq(o.get("in_sync"), False, "in_sync")
    eq(sorted(o["drift"]), ["address 198.18.7.1/24 on a0: missing",
                            "link a0: mtu is 1280, desired 1400"], "drift")
    eq(drifted_metric(d), 2, "drifted objects: a0 and its address")

    # Many objects out of sync: a few words, then how many more.
    for i in range(12):
        mk_veth(d, "red", "m%d" % i, "n%d" % i)
    for i in range(12):
        h.ip("link", "del", "m%d" % i, ns="red")
    o = ns_item(d, "red")
    eq(len(o["drift"]), 9, "drift words: 8 and a count: %r" % o["drift"])
    eq(o["drift"][-1], "and 18 more", "the count of the rest")
    eq(drifted_metric(d), 26, "drifted objects")


if __name__ == "__main__":
    h.run_tests()
