#!/usr/bin/python3
"""Per-namespace sysctls (README "Sysctls"): GET /v1/namespaces/{ns}/sysctls,
GET|PUT|DELETE .../sysctls/{key} for an allow-list of `net.*` keys.

The kernel's truth is read inside the namespace with
`ip netns exec NS cat /proc/sys/...`, and the host's (the sandbox's own
namespace, where netnsd runs) straight from /proc/sys, before and after.

Run inside the sandbox: tests/sandbox /usr/bin/python3
tests/integration/test_sysctls.py"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import check, eq, expect_problem, expect_status, test  # noqa: E402
from topology import mk_ns, mk_veth, setup, state  # noqa: E402

FWD = "net.ipv4.ip_forward"


def S(ns, key=None):
    p = "/v1/namespaces/%s/sysctls" % ns
    return p if key is None else p + "/" + key


def proc(key):
    """The /proc/sys path of a dotted key whose link name has no dots."""
    return "/proc/sys/" + key.replace(".", "/")


def kread(ns, path):
    """The value of a /proc/sys file inside namespace ns ("host": here)."""
    if ns == "host":
        with open(path) as f:
            return f.read().strip()
    return h.run(["ip", "netns", "exec", ns, "cat", path]).stdout.strip()


def kwrite(ns, path, value):
    h.run(["ip", "netns", "exec", ns, "sh", "-c",
           "echo %s > %s" % (value, path)])


def put(d, ns, key, value, status, what=None, **kw):
    r = d.put(S(ns, key), {"value": value}, **kw)
    expect_status(r, status, what or "PUT %s %s=%s" % (ns, key, value))
    return r


@test
def set_and_get_in_the_namespace_only():
    """A PUT sets the key in the namespace's own /proc/sys (201, then 200),
    the host's stays as it was, and GETs show value, desired, original."""
    d = setup()
    mk_ns(d, "red")
    host_before = kread("host", proc(FWD))
    eq(kread("red", proc(FWD)), "0", "ip_forward of a fresh namespace")

    r = put(d, "red", FWD, "1", 201)
    eq(r.header("Location"), S("red", FWD), "Location")
    eq(r.json, {"key": FWD, "value": "1", "managed": True, "desired": "1",
                "original": "0", "in_sync": True}, "PUT answer")
    eq(kread("red", proc(FWD)), "1", "ip_forward in red")
    eq(kread("host", proc(FWD)), host_before, "ip_forward of the host")

    # IPv6 and a link's own key, and conf.all / conf.default.
    put(d, "red", "net.ipv6.conf.all.forwarding", "1", 201)
    eq(kread("red", "/proc/sys/net/ipv6/conf/all/forwarding"), "1",
       "ipv6 forwarding in red")
    mk_veth(d, "red", "v0", "v1")
    put(d, "red", "net.ipv4.conf.v0.rp_filter", "2", 201)
    eq(kread("red", "/proc/sys/net/ipv4/conf/v0/rp_filter"), "2",
       "rp_filter of red/v0")
    put(d, "red", "net.ipv4.conf.default.arp_ignore", "8", 201)
    eq(kread("red", "/proc/sys/net/ipv4/conf/default/arp_ignore"), "8",
       "arp_ignore of conf.default")

    g = expect_status(d.get(S("red", FWD)), 200, "GET ip_forward")
    eq(g.json["value"], "1", "GET value")
    eq(g.json["in_sync"], True, "GET in_sync")
    g = expect_status(d.get(S("red", "net.ipv4.conf.all.proxy_arp")), 200,
                      "GET an unmanaged key")
    eq(g.json, {"key": "net.ipv4.conf.all.proxy_arp", "value": "0",
                "managed": False}, "unmanaged item")

    items = expect_status(d.get(S("red")), 200, "GET sysctls").json["items"]
    keys = [i["key"] for i in items]
    eq(keys, sorted(keys), "the list is sorted by key")
    for k in (FWD, "net.ipv4.conf.v0.rp_filter", "net.ipv6.conf.lo.accept_ra",
              "net.ipv4.conf.all.arp_announce",
              "net.ipv6.conf.default.disable_ipv6"):
        check(k in keys, "%s is not listed: %r", k, keys)
    byk = {i["key"]: i for i in items}
    eq(byk["net.ipv4.conf.v0.rp_filter"]["desired"], "2", "listed desired")
    eq(byk["net.ipv4.conf.lo.rp_filter"]["managed"], False, "listed lo")

    st = state(d)
    want = {"namespace": "red", "key": FWD, "value": "1", "original": "0"}
    check(want in st["sysctls"], "GET /v1/state lacks %r: %r", want,
          st.get("sysctls"))


@test
def a_put_that_changes_nothing_leaves_the_revision():
    """The same PUT again answers 200 and moves nothing; a new value is one
    revision; the kernel converged behind netnsd's back is 200 too."""
    d = setup()
    mk_ns(d, "red")
    put(d, "red", FWD, "1", 201)
    rev = state(d)["revision"]
    for i in range(3):
        put(d, "red", FWD, "1", 200, "PUT again %d" % i)
        eq(state(d)["revision"], rev, "revision after no-op PUT %d" % i)
    put(d, "red", FWD, "0", 200, "PUT a new value")
    eq(state(d)["revision"], rev + 1, "revision after a change")
    eq(kread("red", proc(FWD)), "0", "ip_forward after the change")
    # The value first found stays the one DELETE puts back.
    g = d.get(S("red", FWD)).json
    eq(g["original"], "0", "original after a second PUT")


@test
def drift_behind_netnsd_s_back_and_reconcile():
    """A value changed with `ip netns exec ... echo` is drift: the item and
    its namespace are not in sync, and reconcile sets it back."""
    d = setup()
    mk_ns(d, "red")
    put(d, "red", FWD, "1", 201)
    kwrite("red", proc(FWD), 0)
    g = expect_status(d.get(S("red", FWD)), 200, "GET drifted").json
    eq(g["in_sync"], False, "in_sync of the drifted key")
    eq(g["drift"], ["value is 0, desired 1"], "drift of the key")
    n = expect_status(d.get("/v1/namespaces/red"), 200, "GET red").json
    eq(n["in_sync"], False, "in_sync of its namespace")
    check(any(FWD in w for w in n["drift"]),
          "the namespace's drift does not name the key: %r", n["drift"])
    r = expect_status(d.post("/v1/reconcile"), 200, "POST /v1/reconcile")
    check(any(FWD in a for a in r.json["actions"]),
          "reconcile did not say it set the key: %r", r.json)
    eq(kread("red", proc(FWD)), "1", "ip_forward after reconcile")
    eq(d.get(S("red", FWD)).json["in_sync"], True, "in_sync after reconcile")
    # A PUT converges it too, as 200, without a new revision.
    kwrite("red", proc(FWD), 0)
    rev = state(d)["revision"]
    put(d, "red", FWD, "1", 200, "PUT over drift")
    eq(kread("red", proc(FWD)), "1", "ip_forward after the PUT")
    eq(state(d)["revision"], rev, "revision after converging drift")

    # A link's key whose link went behind netnsd's back: missing.
    mk_veth(d, "red", "v0", "v1")
    key = "net.ipv4.conf.v0.proxy_arp"
    put(d, "red", key, "1", 201)
    h.ip("-n", "red", "link", "del", "v0")
    g = expect_status(d.get(S("red", key)), 200, "GET of a missing key").json
    eq((g["value"], g["in_sync"], g["drift"]), (None, False, ["missing"]),
       "value, in_sync and drift of a key whose link is gone")
    items = expect_status(d.get(S("red")), 200, "GET sysctls").json["items"]
    eq([i["value"] for i in items if i["key"] == key], [None],
       "the missing key in the list")


@test
def delete_puts_the_original_back():
    """DELETE stops managing the key and restores what netnsd found."""
    d = setup()
    mk_ns(d, "red")
    key = "net.ipv4.conf.all.rp_filter"
    path = "/proc/sys/net/ipv4/conf/all/rp_filter"
    kwrite("red", path, 1)
    put(d, "red", key, "2", 201)
    eq(kread("red", path), "2", "rp_filter set")
    expect_status(d.delete(S("red", key)), 204, "DELETE")
    eq(kread("red", path), "1", "rp_filter after DELETE")
    g = expect_status(d.get(S("red", key)), 200, "GET after DELETE").json
    eq(g, {"key": key, "value": "1", "managed": False}, "item after DELETE")
    check(not state(d)["sysctls"], "a record is left: %r", state(d))
    expect_status(d.delete(S("red", key)), 404, "DELETE again")


@test
def host_needs_force():
    """The host namespace's sysctls are the host's: read freely, changed
    only with ?force=true (PUT and DELETE), and DELETE puts them back."""
    d = setup()
    before = kread("host", proc(FWD))
    flip = "0" if before == "1" else "1"
    expect_status(d.get(S("host", FWD)), 200, "GET host ip_forward")
    r = d.put(S("host", FWD), {"value": flip})
    expect_problem(r, 409, "PUT host ip_forward without force")
    eq(r.json["type"], "urn:netnsd:problem:unmanaged", "problem type")
    eq(kread("host", proc(FWD)), before, "host ip_forward after the 409")
    check(not state(d)["sysctls"], "the refusal was recorded")

    r = d.put(S("host", FWD) + "?force=true", {"value": flip})
    expect_status(r, 201, "PUT host ip_forward with force")
    eq(kread("host", proc(FWD)), flip, "host ip_forward with force")
    expect_problem(d.delete(S("host", FWD)), 409, "DELETE without force")
    expect_status(d.delete(S("host", FWD) + "?force=true"), 204,
                  "DELETE with force")
    eq(kread("host", proc(FWD)), before, "host ip_forward put back")


@test
def a_namespace_netnsd_does_not_manage_needs_force():
    """A namespace made by `ip netns add` is someone else's: its sysctls
    are read freely but changed only with ?force=true; once it is gone,
    reconcile does not wait for it to come back, and DELETE forgets the
    key."""
    d = setup()
    h.netns_add("other")
    h.on_cleanup(lambda: h.ip("netns", "del", "other", check=False))
    expect_status(d.get(S("other", FWD)), 200, "GET in an unmanaged ns")
    r = d.put(S("other", FWD), {"value": "1"})
    expect_problem(r, 409, "PUT in an unmanaged namespace")
    eq(r.json["type"], "urn:netnsd:problem:unmanaged", "problem type")
    eq(kread("other", proc(FWD)), "0", "ip_forward after the 409")
    expect_status(d.put(S("other", FWD) + "?force=true", {"value": "1"}),
                  201, "PUT with force")
    eq(kread("other", proc(FWD)), "1", "ip_forward with force")
    expect_problem(d.delete(S("other", FWD)), 409, "DELETE without force")
    eq(kread("other", proc(FWD)), "1", "ip_forward after the 409")
    expect_status(d.put(S("other", FWD) + "?force=true", {"value": "1"}),
                  200, "PUT with force again")
    h.netns_del("other")
    r = expect_status(d.post("/v1/reconcile"), 200, "POST /v1/reconcile")
    f = [x for x in r.json["failures"] if FWD in x["object"]]
    check(f and f[0]["transient"] is False,
          "a gone unmanaged namespace is waited for: %r", r.json)
    # Its records can still be forgotten, though there is nothing to
    # put back.
    expect_problem(d.delete(S("other", FWD)), 409, "DELETE without force")
    expect_status(d.delete(S("other", FWD) + "?force=true"), 204,
                  "DELETE in the gone namespace")
    eq(state(d)["sysctls"], [], "records after the DELETE")
    expect_problem(d.delete(S("other", FWD) + "?force=true"), 404,
                   "DELETE again")


@test
def a_dry_run_changes_nothing():
    """?dry_run=true answers the change a PUT or DELETE would make and
    makes none: not the kernel, not the desired state, not revision."""
    d = setup()
    mk_ns(d, "red")
    path = S("red", FWD)
    rev = state(d)["revision"]

    def dry(method, body, want, what):
        r = d.request(method, path + "?dry_run=true", body)
        expect_status(r, 200, what)
        eq(r.json, {"dry_run": True, "changes": want}, what)
        eq(state(d)["revision"], rev, "revision after " + what)

    one = lambda action, detail: [  # noqa: E731
        {"action": action, "path": path, "detail": detail}]
    dry("PUT", {"value": "1"}, one("create", "value 0 -> 1"), "dry PUT")
    eq(kread("red", proc(FWD)), "0", "ip_forward after a dry PUT")
    check(not state(d)["sysctls"], "a dry PUT recorded the key")
    expect_problem(d.put(path + "?dry_run=true", {"value": "2"}), 400,
                   "dry PUT of a bad value", field="value")
    expect_problem(d.delete(path + "?dry_run=true"), 404,
                   "dry DELETE of a key not managed")

    put(d, "red", FWD, "1", 201)
    rev = state(d)["revision"]
    dry("PUT", {"value": "1"}, [], "dry PUT of the same value")
    kwrite("red", proc(FWD), 0)
    dry("PUT", {"value": "1"}, one("update", "value 0 -> 1"),
        "dry PUT over drift")
    eq(kread("red", proc(FWD)), "0", "ip_forward after a dry PUT")
    kwrite("red", proc(FWD), 1)
    dry("DELETE", None, one("delete", "value 1 -> 0 (put back)"),
        "dry DELETE")
    eq(kread("red", proc(FWD)), "1", "ip_forward after a dry DELETE")
    eq(len(state(d)["sysctls"]), 1, "records after a dry DELETE")


def sysctl_entries(st):
    return {(x["namespace"], x["key"]): x for x in st["sysctls"]}


@test
def put_state_sets_and_forgets_sysctls():
    """GET /v1/state lists the desired sysctls and PUT /v1/state takes
    them: back unchanged, a no-op; a new value or key is set in the kernel
    (the value found kept as original), one left out forgotten with its
    original put back, those of a namespace removed go with it; a change
    in "host" is refused (it needs ?force=true), and a step that fails
    takes every sysctl set before it back."""
    d = setup()
    mk_ns(d, "red")
    mk_ns(d, "blue")
    put(d, "red", FWD, "1", 201)
    put(d, "blue", "net.ipv4.conf.all.rp_filter", "2", 201)
    doc = state(d)
    rev = doc["revision"]
    expect_status(d.put("/v1/state", doc), 200, "PUT /v1/state of GET's")
    eq(state(d)["revision"], rev, "revision after the round trip")

    doc = state(d)
    for x in doc["sysctls"]:
        if x["namespace"] == "red":
            x["value"] = "0"
    doc["sysctls"].append({"namespace": "red", "value": "1",
                           "key": "net.ipv4.conf.all.proxy_arp"})
    doc["sysctls"] = [x for x in doc["sysctls"] if x["namespace"] != "blue"]
    r = d.put("/v1/state?dry_run=true", doc)
    expect_status(r, 200, "dry run")
    got = {(c["action"], c["path"], c["detail"]) for c in r.json["changes"]}
    want = {("update", S("red", FWD), "value 1 -> 0"),
            ("create", S("red", "net.ipv4.conf.all.proxy_arp"),
             "value 0 -> 1"),
            ("delete", S("blue", "net.ipv4.conf.all.rp_filter"),
             "value 2 -> 0")}
    eq(got, want, "the dry run's changes")
    eq(kread("red", proc(FWD)), "1", "ip_forward after the dry run")
    expect_status(d.put("/v1/state", doc), 200, "PUT /v1/state with edits")
    eq(kread("red", proc(FWD)), "0", "ip_forward of red")
    eq(kread("red", "/proc/sys/net/ipv4/conf/all/proxy_arp"), "1",
       "proxy_arp of red")
    eq(kread("blue", "/proc/sys/net/ipv4/conf/all/rp_filter"), "0",
       "rp_filter of blue, put back")
    e = sysctl_entries(state(d))
    eq(sorted(e), sorted([("red", FWD),
                          ("red", "net.ipv4.conf.all.proxy_arp")]),
       "desired sysctls after the PUT")
    eq((e[("red", FWD)]["value"], e[("red", FWD)]["original"]), ("0", "0"),
       "value and original of ip_forward")

    # Refused whole, nothing changed: a bad key or value, a change in host.
    rev = state(d)["revision"]
    for what, extra, field in (
            ("a bad key", {"namespace": "red", "key": "net/ipv4",
                           "value": "1"}, "/sysctls/2"),
            ("a bad value", {"namespace": "red", "value": "5",
                             "key": "net.ipv4.conf.all.arp_announce"},
             "/sysctls/2"),
            ("a change in host", {"namespace": "host", "key": FWD,
                                  "value": "1" if kread("host", proc(FWD))
                                  == "0" else "0"}, "/sysctls/2")):
        bad = state(d)
        bad["sysctls"].append(extra)
        expect_problem(d.put("/v1/state", bad), 400,
                       "PUT /v1/state with " + what, field=field)
    eq(state(d)["revision"], rev, "revision after the refusals")

    # A step that fails (a link's key of a link there is not) takes the
    # sysctl set before it back.
    bad = state(d)
    for x in bad["sysctls"]:
        if x["key"] == FWD:
            x["value"] = "1"
    bad["sysctls"].append({"namespace": "red", "value": "1",
                           "key": "net.ipv4.conf.nolink.proxy_arp"})
    r = d.put("/v1/state", bad)
    check(r.status >= 400, "a document with a missing link's key: %r", r)
    eq(kread("red", proc(FWD)), "0", "ip_forward after the refused apply")
    eq(state(d)["revision"], rev, "revision after the refused apply")

    gone = state(d)
    gone["namespaces"] = [n for n in gone["namespaces"]
                          if n["name"] != "red"]
    gone["sysctls"] = []
    expect_status(d.put("/v1/state", gone), 200, "PUT /v1/state without red")
    eq(state(d)["sysctls"], [], "sysctl records after red went")


@test
def a_rolled_back_put_state_brings_the_sysctls_back():
    """PUT /v1/state?confirm= that removes a namespace with its sysctls,
    left unconfirmed: the rollback makes the namespace again and sets its
    sysctls in it."""
    d = setup()
    mk_ns(d, "red")
    put(d, "red", FWD, "1", 201)
    put(d, "red", "net.ipv6.conf.default.accept_ra", "2", 201)
    doc = state(d)
    doc["namespaces"], doc["sysctls"] = [], []
    r = d.put("/v1/state?confirm=1", doc)
    expect_status(r, 200, "PUT /v1/state?confirm=1 without red")
    check("red" not in h.netns_list(), "red is still there")
    h.wait_until(lambda: "red" in h.netns_list(), h.scaled(6),
                 what="red back at the deadline")
    h.wait_until(lambda: sysctl_entries(state(d)), h.scaled(3),
                 what="the sysctls desired again")
    eq(kread("red", proc(FWD)), "1", "ip_forward of the re-made red")
    eq(kread("red", "/proc/sys/net/ipv6/conf/default/accept_ra"), "2",
       "conf.default.accept_ra of the re-made red")
    eq(sorted(sysctl_entries(state(d))),
       [("red", "net.ipv4.ip_forward"),
        ("red", "net.ipv6.conf.default.accept_ra")], "desired sysctls")


BAD_KEYS = [
    # (path component as sent, status)
    ("net.ipv4.conf.%2E%2E.rp_filter", 400),
    ("net.ipv4.conf..rp_filter", 400),
    ("net.ipv4.conf.v0%2F..%2F..%2Fall.rp_filter", 400),
    ("net%2Fipv4%2Fip_forward", 400),
    ("..%2F..%2F..%2Fetc%2Fpasswd", 400),
    ("net.ipv4.conf.all.rp_filter%00", 400),  # the router's invalid-path
    ("net.ipv4.conf.a%20b.rp_filter", 400),
    ("net.ipv4.conf.averyveryverylong0.rp_filter", 400),
    ("net.ipv4.conf.all.", 404),
    ("net.ipv4.conf.all.hidden", 404),
    ("net.core.somaxconn", 404),
    ("kernel.hostname", 404),
    ("net.ipv4.ip_forward.", 404),
]

BAD_VALUES = ["2", "01", " 1", "1 ", "+1", "-1", "", "1\n", "x", 1, True,
              None, "100"]


@test
def bad_keys_and_values_change_nothing():
    """Malformed keys and path traversals are 400 naming `key`, keys off
    the allow-list 404, values outside a key's range 400 naming `value`;
    neither the kernel nor the desired state moves."""
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "red", "v0", "v1")
    rev = state(d)["revision"]
    before = (kread("red", proc(FWD)), kread("host", proc(FWD)))
    for key, status in BAD_KEYS:
        for method in ("GET", "PUT", "DELETE"):
            body = {"value": "1"} if method == "PUT" else None
            r = d.request(method, S("red", key), body)
            named = status == 400 and "%00" not in key
            expect_problem(r, status, "%s %s" % (method, key),
                           field="key" if named else None)
    for v in BAD_VALUES:
        r = d.put(S("red", FWD), {"value": v})
        expect_problem(r, 400, "PUT value %r" % (v,), field="value")
    r = d.put(S("red", "net.ipv4.conf.v0.arp_ignore"), {"value": "5"})
    p = expect_problem(r, 400, "arp_ignore 5", field="value")
    # The refusal names the value and what the key takes instead.
    for words in ('"5"', "0, 1, 2, 3 or 8"):
        check(words in p["detail"], "%r lacks %r", p["detail"], words)
    r = d.put(S("red", FWD), {"value": "1", "extra": 1})
    expect_problem(r, 400, "unknown field", field="extra")
    # A link or a namespace that is not there.
    expect_problem(d.put(S("red", "net.ipv4.conf.nope.rp_filter"),
                         {"value": "1"}), 404, "PUT on a missing link")
    expect_problem(d.get(S("red", "net.ipv4.conf.nope.rp_filter")), 404,
                   "GET on a missing link")
    expect_problem(d.put(S("blue", FWD), {"value": "1"}), 404,
                   "PUT in a missing namespace")
    expect_problem(d.get(S("blue")), 404, "GET in a missing namespace")
    eq(state(d)["revision"], rev, "revision after the refusals")
    eq((kread("red", proc(FWD)), kread("host", proc(FWD))), before,
       "ip_forward of red and host after the refusals")
    check(os.path.exists("/etc/passwd"), "still there")


@test
def restart_after_a_wipe_brings_the_sysctls_back():
    """SIGKILL, every namespace deleted with `ip netns del`, start: the
    namespace is made again with its sysctls, conf.default before its
    links (a re-made veth takes the default), and a link's own key after
    the link."""
    d = setup()
    mk_ns(d, "red")
    mk_ns(d, "blue")
    mk_veth(d, "red", "v0", "v1", peer_ns="blue")
    put(d, "red", FWD, "1", 201)
    put(d, "red", "net.ipv6.conf.all.forwarding", "1", 201)
    # IPv6's conf.default reaches only links made after it is set (IPv4's
    # is copied to existing links too, so it could not tell the order).
    put(d, "red", "net.ipv6.conf.default.accept_ra", "2", 201)
    put(d, "blue", "net.ipv4.conf.v1.rp_filter", "2", 201)
    d.kill()
    h.netns_del_all()
    check(not os.path.exists("/run/netns/red"), "red survived the wipe")
    d.start()
    eq(kread("red", proc(FWD)), "1", "ip_forward of the re-made red")
    eq(kread("red", "/proc/sys/net/ipv6/conf/all/forwarding"), "1",
       "ipv6 forwarding of the re-made red")
    eq(kread("red", "/proc/sys/net/ipv6/conf/default/accept_ra"), "2",
       "conf.default.accept_ra of red")
    # Made after conf.default was set, the veth end took it.
    eq(kread("red", "/proc/sys/net/ipv6/conf/v0/accept_ra"), "2",
       "accept_ra of the re-made red/v0 (conf.default before links)")
    eq(kread("blue", "/proc/sys/net/ipv4/conf/v1/rp_filter"), "2",
       "rp_filter of the re-made blue/v1 (a link's key after links)")
    for ns in ("red", "blue"):
        n = expect_status(d.get("/v1/namespaces/" + ns), 200, ns).json
        eq(n["in_sync"], True, "in_sync of %s after the restart" % ns)


@test
def an_impostor_link_keeps_its_own_sysctls():
    """A link netnsd did not create that took the name of netnsd's while
    it was down is someone else's: start-up and reconcile do not write
    the old link's conf.<link> keys into it, and say so."""
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "red", "v0", "v1")
    put(d, "red", "net.ipv4.conf.v0.rp_filter", "2", 201)
    d.kill()
    h.ip("-n", "red", "link", "del", "v0")
    h.ip("-n", "red", "link", "add", "v0", "type", "veth", "peer", "name",
         "x0")
    path = "/proc/sys/net/ipv4/conf/v0/rp_filter"
    before = kread("red", path)
    d.start()
    eq(kread("red", path), before, "rp_filter of the impostor after start")
    r = expect_status(d.post("/v1/reconcile"), 200, "POST /v1/reconcile")
    eq(kread("red", path), before, "rp_filter of the impostor after reconcile")
    f = [x for x in r.json["failures"]
         if "net.ipv4.conf.v0.rp_filter" in x["object"]]
    check(f and f[0]["transient"] is False,
          "reconcile does not report the key as failed for good: %r", r.json)
    g = expect_status(d.get(S("red", "net.ipv4.conf.v0.rp_filter")), 200,
                      "GET the key").json
    eq(g["in_sync"], False, "in_sync of the key on the impostor")


@test
def records_go_with_their_namespace_and_link():
    """Deleting a link forgets its conf.<link> keys; deleting the
    namespace forgets the rest."""
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "red", "v0", "v1")
    put(d, "red", FWD, "1", 201)
    put(d, "red", "net.ipv4.conf.v0.proxy_arp", "1", 201)
    put(d, "red", "net.ipv4.conf.v1.proxy_arp", "1", 201)
    eq(len(state(d)["sysctls"]), 3, "sysctl records")
    expect_status(d.delete("/v1/namespaces/red/veths/v0"), 204, "DELETE veth")
    eq([s["key"] for s in state(d)["sysctls"]], [FWD],
       "records after the veth went")
    expect_status(d.delete("/v1/namespaces/red"), 204, "DELETE red")
    eq(state(d)["sysctls"], [], "records after the namespace went")


@test
def a_renamed_link_keeps_its_keys():
    """A link renamed through the API takes its conf.<link> keys along."""
    d = setup()
    mk_ns(d, "red")
    mk_veth(d, "red", "v0", "v1")
    put(d, "red", "net.ipv4.conf.v0.arp_ignore", "2", 201)
    expect_status(d.patch("/v1/namespaces/red/links/v0", {"name": "w0"}),
                  200, "rename v0")
    eq([s["key"] for s in state(d)["sysctls"]],
       ["net.ipv4.conf.w0.arp_ignore"], "records after the rename")
    g = expect_status(d.get(S("red", "net.ipv4.conf.w0.arp_ignore")), 200,
                      "GET after rename").json
    eq((g["value"], g["in_sync"]), ("2", True), "the renamed link's key")
    # Also a link netnsd did not make, which has no record of its own.
    h.ip("-n", "red", "link", "add", "x0", "type", "veth", "peer", "name",
         "x1")
    put(d, "red", "net.ipv6.conf.x0.accept_ra", "0", 201)
    expect_status(d.patch("/v1/namespaces/red/links/x0", {"name": "y0"}),
                  200, "rename x0")
    eq(sorted(s["key"] for s in state(d)["sysctls"]),
       ["net.ipv4.conf.w0.arp_ignore", "net.ipv6.conf.y0.accept_ra"],
       "records after the second rename")


@test
def a_declared_key_of_no_link_is_not_a_missing_namespace():
    """PUT /v1/state declaring conf.<link> of a link that is nowhere: the
    refusal says the key's file is missing, not that its namespace is,
    and nothing changes."""
    d = setup()
    mk_ns(d, "red")
    doc = state(d)
    rev = doc["revision"]
    doc["sysctls"] = [{"namespace": "red", "value": "1",
                       "key": "net.ipv4.conf.nolink.rp_filter"}]
    p = expect_problem(d.put("/v1/state", doc), 404, "a key of no link")
    check("does not exist" not in p["detail"] and
          "sysctl" in p["detail"], "the words: %r", p["detail"])
    check("red" in h.netns_list(), "red still there")
    eq(state(d)["revision"], rev, "nothing recorded")


@test
def quota_and_conditions():
    """A new key counts against --max-objects (403), a converging PUT does
    not; If-Match guards a PUT (412, nothing changed)."""
    d = h.daemon(args=["--max-objects", "2"])
    mk_ns(d, "red")
    put(d, "red", FWD, "1", 201)
    r = d.put(S("red", "net.ipv4.conf.all.proxy_arp"), {"value": "1"})
    expect_problem(r, 403, "past --max-objects")
    eq(kread("red", "/proc/sys/net/ipv4/conf/all/proxy_arp"), "0",
       "proxy_arp after the 403")
    put(d, "red", FWD, "0", 200, "changing a desired key needs no room")
    m = expect_status(d.get("/metrics"), 200, "GET /metrics").body.decode()
    check('netnsd_managed_objects{kind="sysctl"} 1' in m,
          "the sysctl is not counted in netnsd_managed_objects")

    g = d.get(S("red", FWD))
    tag = g.header("ETag")
    check(tag, "no ETag on a sysctl: %r", g)
    r = d.put(S("red", FWD), {"value": "1"},
              headers={"If-Match": '"0000000000000000"'})
    expect_problem(r, 412, "stale If-Match")
    eq(kread("red", proc(FWD)), "0", "ip_forward after the 412")
    r = d.put(S("red", FWD), {"value": "1"}, headers={"If-Match": tag})
    expect_status(r, 200, "PUT with the current ETag")
    eq(kread("red", proc(FWD)), "1", "ip_forward after the conditional PUT")


if __name__ == "__main__":
    h.run_tests()
