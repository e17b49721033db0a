#!/usr/bin/python3
"""PUT /v1/state (README.md, "Declaring a whole topology"): the desired
state becomes the document, as one transaction, checked in the kernel with
`ip -j`.

- From empty: namespaces, a bridge, veth pairs into it, addresses; then a
  ping across the bridge.
- GET then PUT of the same document changes nothing: 200, no changes,
  revision and journal as they were.
- Edits (an MTU, a port moved to another bridge, an address swapped, a
  veth replaced) and deletions (an empty document empties the host of
  netnsd's objects; an adopted namespace is released, not deleted).
- A document with problems is refused whole, every problem listed with a
  JSON pointer, and nothing changes.
- A step the kernel refuses, at the first, a middle and the last position,
  undoes every step before it: kernel, desired state and revision as they
  were, and the answer names the step.
- A dry run plans and changes nothing; If-Match guards the apply."""

import copy
import time

import harness as h
from harness import check, eq, expect_problem, expect_status, test
from topology import kaddrs, kkind, klink, klinks, kup, kview, setup, state


def link(ns, name, kind=None, **kw):
    o = {"namespace": ns, "name": name}
    if kind:
        o["kind"] = kind
    o.update(kw)
    return o


def pair(ns, name, pns, pname, **kw):
    a = link(ns, name, "veth", peer={"namespace": pns, "name": pname}, **kw)
    b = link(pns, pname, "veth", peer={"namespace": ns, "name": name},
             up=True)
    return [a, b]


def lab():
    """Two namespaces on a bridge in host, an address each."""
    return {
        "namespaces": [{"name": "red"}, {"name": "blue"}],
        "links": [link("host", "br0", "bridge", up=True)] +
        pair("host", "h-red", "red", "eth0", up=True, master="br0") +
        pair("host", "h-blue", "blue", "eth0", up=True, master="br0"),
        "addresses": [
            {"namespace": "red", "link": "eth0", "address": "198.18.0.2/24"},
            {"namespace": "blue", "link": "eth0",
             "address": "198.18.0.3/24"}],
    }


def journal(d):
    with open(d.journal, "rb") as f:
        return f.read()


def world():
    """What the kernel has of netnsd's business, in every namespace."""
    return {ns: kview(ns) for ns in ["host"] + sorted(h.netns_list())}


def put_state(d, doc, status=200, query=""):
    r = d.put("/v1/state" + query, doc)
    expect_status(r, status, "PUT /v1/state%s" % query)
    return r


@test
def from_empty_then_a_ping_across_the_bridge():
    d = setup()
    r = put_state(d, lab())
    acts = [(c["action"], c["path"]) for c in r.json["changes"]]
    check(("create", "/v1/namespaces/red") in acts, "changes: %r", acts)
    check(r.json["revision"] > 0, "revision %r", r.json)
    eq(sorted(h.netns_list()), ["blue", "red"], "namespaces")
    eq((kkind(klink("br0")), kup(klink("br0"))), ("bridge", True), "br0")
    for end in ("h-red", "h-blue"):
        eq(klink(end).get("master"), "br0", end + " on br0")
    eq(kaddrs("eth0", "red"), ["198.18.0.2/24"], "red's address")
    deadline = h.Deadline(h.scaled(10))
    while h.run(["ip", "netns", "exec", "red", "ping", "-c1", "-W1",
                 "198.18.0.3"], check=False).returncode != 0:
        check(not deadline.expired(), "red does not reach blue")


@test
def get_then_put_is_a_no_op():
    d = setup()
    put_state(d, lab())
    doc = expect_status(d.get("/v1/state"), 200).json
    rev, jour, kern = doc["revision"], journal(d), world()
    for i in range(2):
        r = put_state(d, doc)
        eq(r.json["changes"], [], "changes of re-PUT %d" % i)
        eq(r.json["revision"], rev, "revision of re-PUT %d" % i)
    eq(journal(d), jour, "journal after the re-PUTs")
    eq(world(), kern, "kernel after the re-PUTs")


@test
def edits_converge_in_the_kernel():
    d = setup()
    put_state(d, lab())
    doc = lab()
    doc["links"].append(link("host", "br1", "bridge", up=True))
    doc["links"][1]["mtu"] = 1400            # h-red
    doc["links"][3]["master"] = "br1"        # h-blue to br1
    doc["addresses"][0]["address"] = "198.18.0.12/24"
    put_state(d, doc)
    eq(klink("h-red")["mtu"], 1400, "h-red mtu")
    eq(kaddrs("eth0", "red"), ["198.18.0.12/24"], "the swapped address")
    # red's pair replaced by another.
    doc["links"][1:3] = pair("host", "h-red2", "red", "eth1", up=True,
                             master="br0")
    doc["addresses"][0]["link"] = "eth1"
    put_state(d, doc)
    eq(klink("h-red"), None, "the old pair is gone")
    eq(klink("h-blue").get("master"), "br1", "h-blue moved to br1")
    eq(klink("eth0", "red"), None, "the old end is gone")
    eq(kaddrs("eth1", "red"), ["198.18.0.12/24"], "the address moved")
    eq(klink("h-red2").get("master"), "br0", "the new pair's port")
    # The same name with another peer: delete, then create.
    doc2 = copy.deepcopy(doc)
    doc2["links"][1:3] = pair("host", "h-red2", "red", "eth2", up=True)
    doc2["addresses"] = doc2["addresses"][1:]
    p = expect_problem(d.put("/v1/state", doc2), 409, "h-red2 re-peered")
    check("peer" in p["detail"], "the 409 says why: %r", p)
    eq(put_state(d, doc).json["changes"], [], "a second PUT: nothing")


@test
def an_empty_document_deletes_and_releases():
    d = setup()
    h.ip("netns", "add", "ext")
    doc = lab()
    doc["namespaces"].append({"name": "ext"})
    put_state(d, doc)
    check(klink("lo", "ext").get("ifalias") == "netnsd-namespace",
          "ext adopted and marked: %r", klink("lo", "ext"))
    r = put_state(d, {})
    eq(sorted(h.netns_list()), ["ext"], "red and blue deleted, ext kept")
    check(not klink("lo", "ext").get("ifalias"),
          "ext released: its mark is off: %r", klink("lo", "ext"))
    eq(sorted(klinks("host")), ["lo"], "host links")
    st = state(d)
    eq((st["namespaces"], st["links"], st["addresses"]), ([], [], []),
       "desired state")
    check(any(c["action"] == "delete" for c in r.json["changes"]),
          "changes: %r", r.json["changes"])


@test
def a_bad_document_lists_every_problem_and_changes_nothing():
    d = setup()
    put_state(d, lab())
    before, rev = world(), state(d)["revision"]
    doc = lab()
    doc["links"][1]["peer"]["name"] = "nope"          # no such peer
    doc["links"].append(link("host", "br0", "bridge"))  # duplicate
    doc["links"].append(link("green", "x", "bridge"))  # undeclared ns
    doc["addresses"].append({"namespace": "red", "link": "eth0",
                             "address": "198.18.0.2/33"})
    doc["colour"] = "red"
    doc["namespaces"][0]["tint/x"] = 1                # unknown, escaped
    doc["links"][0]["shade"] = 1
    p = expect_problem(d.put("/v1/state", doc), 400, "bad document")
    fields = sorted(e["field"] for e in p["errors"])
    for want in ("/colour", "/links/1/peer", "/links/5", "/links/6/namespace",
                 "/addresses/2", "/namespaces/0/tint~1x"):
        check(want in fields, "%s should be listed: %r", want, fields)
    said = " ".join(e["field"] + " " + e["message"] for e in p["errors"])
    check("shade" in said, "the link's unknown member named: %r", said)
    eq(p["error_count"], len(p["errors"]), "error_count")
    eq(world(), before, "kernel after a refused document")
    eq(state(d)["revision"], rev, "revision")



@test
def every_duplicate_is_listed_at_each_later_occurrence():
    # The document is checked through sorted indexes (state/doc.c): each
    # duplicate is still said at every occurrence after the first, in
    # document order, and a name used once is not listed.
    d = setup()
    doc = lab()
    doc["namespaces"] += [{"name": "red"}, {"name": "green"}, {"name": "red"}]
    doc["links"] += [link("host", "br0", "bridge"), link("red", "eth0"),
                     link("host", "br0", "bridge")]
    doc["addresses"] += [dict(doc["addresses"][1]),
                         {"namespace": "red", "link": "eth0",
                          "address": "198.18.0.9/24"},
                         dict(doc["addresses"][1])]
    p = expect_problem(d.put("/v1/state", doc), 400, "duplicates")
    fields = [e["field"] for e in p["errors"]]
    eq(fields, ["/namespaces/2", "/namespaces/4", "/links/5", "/links/6",
                "/links/7", "/addresses/2", "/addresses/4"],
       "the duplicates, in document order")
    eq(sorted(h.netns_list()), [], "kernel after a refused document")

def refused_at(d, doc, what, step=None):
    before, st = world(), state(d)
    r = d.put("/v1/state", doc)
    p = expect_problem(r, None, what)
    check(r.status in (400, 404, 409), "%s: status %d", what, r.status)
    check("step" in p or p.get("errors"), "%s: which step? %r", what, p)
    if step:
        eq(p.get("step"), step, "the step of " + what)
    eq(world(), before, "kernel after " + what)
    eq(state(d), st, "desired state after " + what)
    return p


@test
def a_refused_step_undoes_every_step_before_it():
    d = setup()
    put_state(d, lab())
    # First position: a new bridge whose name someone else's link holds.
    h.ip("link", "add", "taken", "type", "veth", "peer", "name", "taken1")
    doc = lab()
    doc["links"].insert(0, link("host", "taken", "bridge"))
    refused_at(d, doc, "a name held by someone else's link")
    # Middle and last: MTUs the veth cannot take, after other changes.
    doc = lab()
    doc["namespaces"].append({"name": "green"})
    doc["links"] += pair("host", "h-green", "green", "eth0", up=True,
                         master="br0")
    doc["links"][1]["mtu"] = 70000
    p = refused_at(d, doc, "an MTU the kernel refuses (middle)",
                   {"action": "update",
                    "path": "/v1/namespaces/host/veths/h-red"})
    check("maximum" in p["detail"].lower() or "mtu" in p["detail"],
          "the kernel's words: %r", p["detail"])
    check("green" not in h.netns_list(), "green was made and undone")
    doc = lab()
    doc["links"] += [link("host", "h-extra", "bridge", up=True)]
    doc["addresses"].append({"namespace": "blue", "link": "eth0",
                             "address": "198.18.0.99/24",
                             "valid_lifetime": 10,
                             "preferred_lifetime": 10})
    doc["links"][4]["mtu"] = 70000   # blue/eth0, after a new bridge
    refused_at(d, doc, "an MTU the kernel refuses (late)",
               {"action": "update",
                "path": "/v1/namespaces/blue/veths/eth0"})
    check(klink("h-extra") is None, "the new bridge was undone")


@test
def dry_run_and_if_match():
    d = setup()
    r = put_state(d, lab(), query="?dry_run=true")
    eq(r.json["dry_run"], True, "a plan")
    check(len(r.json["changes"]) >= 5, "plan: %r", r.json["changes"])
    eq(h.netns_list(), [], "a dry run made nothing")
    eq(state(d)["revision"], 0, "revision after the dry run")
    plan = [(c["action"], c["path"]) for c in r.json["changes"]]
    r = put_state(d, lab())
    eq([(c["action"], c["path"]) for c in r.json["changes"]], plan,
       "the real run did what the dry run said")
    etag = expect_status(d.get("/v1/state"), 200).headers["ETag"]
    d.put("/v1/namespaces/other", {})   # someone else changes the state
    doc = copy.deepcopy(lab())
    expect_problem(d.put("/v1/state", doc, headers={"If-Match": etag}), 412,
                   "a stale If-Match")
    check("other" in h.netns_list(), "the 412 changed nothing")


def wait_until(fn, seconds, what):
    deadline = h.Deadline(h.scaled(seconds))
    while not fn():
        check(not deadline.expired(), "%s: not within %d s", what, seconds)
        time.sleep(0.1)


@test
def commit_confirm_rolls_back_unless_confirmed():
    d = setup()
    put_state(d, lab())
    before, rev = world(), state(d)["revision"]
    doc = lab()
    doc["namespaces"].append({"name": "green"})
    r = put_state(d, doc, query="?confirm=2")
    check("confirm_by" in r.json, "confirm_by: %r", r.json)
    check("green" in h.netns_list(), "applied at once")
    # Another confirm-apply waits for this one.
    expect_problem(d.put("/v1/state?confirm=5", lab()), 409,
                   "a second apply to confirm")
    wait_until(lambda: "green" not in h.netns_list(), 6,
               "rolled back at the deadline")
    eq(world(), before, "the kernel after the rollback")
    check(state(d)["revision"] > rev, "the rollback is a change")
    expect_problem(d.post("/v1/state/confirm"), 404, "nothing to confirm")
    # Confirmed in time: it stays.
    r = put_state(d, doc, query="?confirm=2")
    r = expect_status(d.post("/v1/state/confirm"), 200, "confirm")
    eq(r.json["confirmed"], True, "confirmed")
    time.sleep(h.scaled(3))
    check("green" in h.netns_list(), "a confirmed apply stays")
    for q in ("0", "-1", "abc", "86401", "01"):
        p = expect_problem(d.put("/v1/state?confirm=" + q, lab()), 400,
                           "?confirm=" + q)
        eq(p["errors"][0]["field"], "query.confirm", "field")


@test
def commit_confirm_holds_across_a_restart():
    d = setup()
    put_state(d, lab())
    before = world()
    doc = lab()
    doc["namespaces"].append({"name": "green"})
    put_state(d, doc, query="?confirm=3")
    d.stop()
    d.start()           # before the deadline: rolled back on time
    check("green" in h.netns_list(), "still there before the deadline")
    wait_until(lambda: "green" not in h.netns_list(), 8,
               "rolled back after a restart")
    eq(world(), before, "the kernel after the rollback")
    put_state(d, doc, query="?confirm=1")
    d.kill()
    time.sleep(h.scaled(2))  # the deadline passes while netnsd is down
    d.start()
    wait_until(lambda: "green" not in h.netns_list(), 5,
               "rolled back at start-up, the deadline past")
    eq(world(), before, "the kernel after the start-up rollback")


if __name__ == "__main__":
    h.run_tests()
