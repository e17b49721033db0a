#!/usr/bin/python3
"""Reliability 3: storage faults.

- The state directory on a tiny tmpfs, filled up with a file: every kind of
  mutation (22 of them: namespaces created, adopted and deleted; veths,
  bridges, ports, addresses created and deleted; PATCHes of MTU, admin
  state, master, name and namespace) answers 507 with an
  application/problem+json document, and leaves the kernel (every link of
  every namespace, field by field) and the desired state as they were:
  what it changed in the kernel before the store refused is undone. Reads
  go on answering 200. Space freed, the same mutations succeed without a
  restart, and a restart then reads back exactly what was acknowledged.
- The filesystem going read-only under netnsd (ext4 with
  errors=remount-ro, made to fail through /sys/fs/ext4/DEV/trigger_fs_error;
  a tmpfs cannot be remounted read-only while netnsd holds its journal open
  for writing): mutations answer 500 with a problem that says so, nothing
  changes, reads go on; a restart on the read-only filesystem is refused
  with a one-line message; after fsck and a read-write mount, everything
  acknowledged is there.
- The journal file made immutable (chattr +i on ext4; root ignores mode
  bits, so a chmod would not do): the same, and chattr -i makes writes
  work again without a restart.

The ext4 cases need loop devices; where there are none they say so and
pass."""

import json
import os

import harness as h
from harness import check, eq, expect_problem, expect_status, test
import reliability_util as u
from topology import clean_host_links


def L(ns, name=None):
    p = "/v1/namespaces/%s/links" % ns
    return p + "/" + name if name else p


def base(d):
    """Something of every kind for the mutations to work on."""
    for ns in ("sa", "sb"):
        expect_status(d.put("/v1/namespaces/" + ns, {}), 201)
    h.netns_add("sadopt")   # made elsewhere, to be adopted
    expect_status(d.post("/v1/namespaces/host/bridges",
                         {"name": "sbr", "up": True}), 201)
    expect_status(d.post("/v1/namespaces/sa/bridges",
                         {"name": "nbr", "up": True}), 201)
    expect_status(d.post("/v1/namespaces/host/veths", {
        "name": "sv0", "up": True,
        "peer": {"name": "e0", "namespace": "sa", "up": True}}), 201)
    expect_status(d.put("/v1/namespaces/host/bridges/sbr/ports/sv0"), 201)
    expect_status(d.post("/v1/namespaces/sa/veths", {
        "name": "x0", "up": True, "mtu": 1500,
        "peer": {"name": "y0", "namespace": "sb", "up": True}}), 201)
    expect_status(d.post(L("sa", "e0") + "/addresses",
                         {"address": "198.18.30.1/24"}), 201)
    expect_status(d.post(L("sa", "e0") + "/addresses",
                         {"address": "2001:db8:30::1/64"}), 201)


# (method, path, body): each changes something, in the kernel or only in
# the desired state, and each is possible on the base topology.
MUTATIONS = [
    ("POST", "/v1/namespaces", {"name": "snew"}),
    ("PUT", "/v1/namespaces/snew2", {}),
    ("PUT", "/v1/namespaces/sadopt", None),
    ("DELETE", "/v1/namespaces/sb", None),
    ("POST", "/v1/namespaces/host/veths",
     {"name": "sv1", "up": True, "peer": {"name": "e1", "namespace": "sa"}}),
    ("POST", "/v1/namespaces/sa/veths",
     {"name": "x1", "peer": {"name": "y1", "namespace": "sb"}}),
    ("DELETE", "/v1/namespaces/host/veths/sv0", None),
    ("POST", "/v1/namespaces/host/bridges", {"name": "sbr2", "stp": True}),
    ("PATCH", "/v1/namespaces/host/bridges/sbr", {"stp": True, "up": False}),
    ("DELETE", "/v1/namespaces/sa/bridges/nbr", None),
    ("PATCH", L("sa", "e0"), {"mtu": 1400, "up": False}),
    ("PATCH", L("sa", "x0"), {"name": "x9"}),
    ("PATCH", L("sa", "x0"), {"namespace": "sb"}),
    ("PATCH", L("sa", "x0"), {"namespace": "sb", "name": "x7", "mtu": 1300}),
    ("PATCH", L("host", "sv0"), {"master": None}),
    ("PATCH", L("sa", "x0"), {"master": "nbr", "mac": "02:00:00:00:30:30"}),
    ("PUT", "/v1/namespaces/sa/bridges/nbr/ports/x0", None),
    ("DELETE", "/v1/namespaces/host/bridges/sbr/ports/sv0", None),
    ("POST", L("sa", "e0") + "/addresses", {"address": "198.18.30.2/24"}),
    ("POST", L("sa", "e0") + "/addresses", {"address": "2001:db8:30::2/64"}),
    ("DELETE", L("sa", "e0") + "/addresses/198.18.30.1/24", None),
    ("DELETE", L("host", "sv0"), None),
]


def world(d):
    """The kernel (every namespace, every link, field by field) and the
    desired state."""
    topo = u.strip_volatile(u.kernel_topology(h.netns_list()))
    return {"netns": h.netns_list(), "kernel": topo,
            "desired": u.Desired.fetch(d).canonical()}


def changes(d, before):
    return u.differences(before, world(d))


READS = ["/healthz", "/readyz", "/v1/namespaces", "/v1/namespaces/sa",
         L("sa"), L("sa", "e0") + "/addresses", "/v1/namespaces/host/bridges",
         "/v1/namespaces/host/bridges/sbr/ports", "/v1/namespaces/sa/veths",
         "/v1/state", "/metrics", "/openapi.yaml"]


def reads_go_on(d):
    for p in READS:
        expect_status(d.get(p), 200, "GET %s while storage fails" % p)


def mutations_fail(d, status, detail_words, ptype=None):
    """Every mutation answers `status` (a problem naming the cause) and
    changes nothing. Goes through all of them, then fails with every
    mutation that broke the rule; one whose undo left the kernel changed
    is put right with POST /v1/reconcile before the next. Returns how many
    were tried."""
    findings = []
    before = world(d)
    for i, (method, path, body) in enumerate(MUTATIONS):
        rid = "storage-fault-%d-%d" % (status, i)
        what = "%s %s %s (X-Request-Id %s)" % (method, path,
                                              json.dumps(body), rid)
        r = d.request(method, path, body, headers={"X-Request-Id": rid})
        try:
            p = expect_problem(r, status, what)
            check(any(w in p["detail"] for w in detail_words),
                  "%s: the problem should say why (%s): %r", what,
                  " or ".join(detail_words), p)
            if ptype:
                check(p["type"].endswith(ptype), "%s: problem type %r, "
                      "want ...%s", what, p["type"], ptype)
        except h.Failure as e:
            findings.append(str(e))
        diff = changes(d, before)
        if diff:
            findings.append("%s answered %d, but the kernel or the desired "
                            "state changed:\n      %s\n    netnsd log:\n"
                            "      %s" % (
                                what, r.status, "\n      ".join(diff),
                                "\n      ".join(u.log_lines(d, rid))))
            d.post("/v1/reconcile")
            diff = changes(d, before)
            if diff:
                # What is left cannot be taken back here: stop with what
                # was found so far.
                findings.append("a reconcile did not undo what %s left "
                                "either:\n      %s"
                                % (what, "\n      ".join(diff)))
                break
    reads_go_on(d)
    check(not findings, "%d of %d failed mutations broke the rule:\n  %s",
          len(findings), len(MUTATIONS), "\n  ".join(findings))
    return len(MUTATIONS)


# After the fault: one after the other, each possible where the one before
# left things.
RECOVERY = [
    ("POST", "/v1/namespaces", {"name": "snew"}),
    ("PUT", "/v1/namespaces/sadopt", None),
    ("POST", "/v1/namespaces/host/veths",
     {"name": "sv1", "up": True, "peer": {"name": "e1", "namespace": "snew"}}),
    ("POST", "/v1/namespaces/sa/veths",
     {"name": "x1", "peer": {"name": "y1", "namespace": "sb"}}),
    ("POST", "/v1/namespaces/host/bridges", {"name": "sbr2", "stp": True}),
    ("PATCH", "/v1/namespaces/host/bridges/sbr", {"stp": True}),
    ("PATCH", L("sa", "e0"), {"mtu": 1400}),
    ("PATCH", L("sa", "x0"), {"name": "x9"}),
    ("PATCH", L("sa", "x1"), {"namespace": "sadopt", "name": "x7"}),
    ("PUT", "/v1/namespaces/sa/bridges/nbr/ports/x9", None),
    ("PATCH", L("host", "sv1"), {"master": "sbr2"}),
    ("DELETE", "/v1/namespaces/host/bridges/sbr/ports/sv0", None),
    ("POST", L("sa", "e0") + "/addresses", {"address": "198.18.30.2/24"}),
    ("DELETE", L("sa", "e0") + "/addresses/2001:db8:30::1/64", None),
    ("DELETE", "/v1/namespaces/host/veths/sv0", None),
    ("DELETE", "/v1/namespaces/sa/bridges/nbr", None),
    ("DELETE", "/v1/namespaces/sb", None),
]


def mutations_work(d):
    """Mutations succeed again, each in the desired state and the
    kernel."""
    for method, path, body in RECOVERY:
        what = "%s %s %s" % (method, path, json.dumps(body))
        before = u.Desired.fetch(d)
        r = d.request(method, path, body)
        expect_status(r, (200, 201, 204), what)
        after = u.Desired.fetch(d)
        check(after.revision > before.revision,
              "%s succeeded but the desired state did not change", what)
    # The last one deletes sb; the kernel takes sa/x9, the far end of a
    # veth into it, a moment later.
    _, problems = u.kernel_vs_desired_settled(d, h.scaled(3),
                                              all_namespaces_desired=False)
    check(not problems, "after the mutations, kernel vs desired:\n  %s",
          "\n  ".join(problems))
    return len(RECOVERY)


def restart_reads_back(d):
    want = u.Desired.fetch(d).canonical()
    eq(d.stop(), 0, "netnsd exit status on SIGTERM")
    d.start()
    eq(u.Desired.fetch(d).canonical(), want,
       "desired state after a restart")
    problems = u.kernel_vs_desired(u.Desired.fetch(d),
                                   all_namespaces_desired=False)
    check(not problems, "after a restart, kernel vs desired:\n  %s",
          "\n  ".join(problems))


# ---------------------------------------------------------------------------


@test
def full_disk_answers_507_and_undoes_then_recovers():
    state_dir = u.mount_tmpfs("256k")
    d = h.daemon(state_dir=state_dir)
    h.on_cleanup(clean_host_links)
    base(d)
    for c in "01234567":
        expect_status(d.put("/v1/namespaces/" + c, {}), 201)
    filler = u.fill_fs(state_dir)
    # The journal's last page may still hold a few records. Small ones
    # take what is left until the first 507: PATCHes of lo (no kernel
    # change, a record of ~80 bytes), then DELETEs of one-letter
    # namespaces (~90 bytes with their tombstone), then creations of
    # one-letter namespaces (~55 bytes, the smallest record there is).
    probes = fits = 0
    for method, path, body in ([("PATCH", L("sb", "lo"), {"up": True})] * 80
                               + [("DELETE", "/v1/namespaces/" + c, None)
                                  for c in "01234567"]
                               + [("PUT", "/v1/namespaces/" + c, {})
                                  for c in "abcdefghijklmnopqrstuvwxyz"]):
        probes += 1
        r = d.request(method, path, body)
        if r.status == 507:
            if method == "PUT":
                break
            continue
        expect_status(r, (200, 201, 204),
                      "%s %s on a full disk" % (method, path))
        fits += 1
    else:
        raise h.Failure("no 507 after %d requests on a full disk" % probes)
    check(path.split("/")[-1] not in h.netns_files(),
          "the refused PUT left its namespace (or its file) behind")
    n = mutations_fail(d, 507, ["No space left on device"],
                       "insufficient-storage")
    # Still full: the journal is intact and netnsd still runs.
    eq(u.StateFiles(d.state_file).problems, [], "journal while full")
    os.unlink(filler)
    m = mutations_work(d)
    restart_reads_back(d)
    u.say("figures: %s", json.dumps({
        "tmpfs": "256k", "probes_until_full": probes,
        "records_that_still_fit": fits, "refused_with_507": n + 1,
        "succeeded_after_freeing_space": m}))


def ext4_or_skip(what):
    m = u.loop_ext4()
    if m is None:
        u.say("SKIPPED %s: no loop device or mkfs.ext4 here", what)
    return m


@test
def filesystem_going_read_only_answers_500_and_changes_nothing():
    m = ext4_or_skip("read-only filesystem")
    if m is None:
        return
    path, img = m
    state_dir = os.path.join(path, "state")
    d = h.daemon(state_dir=state_dir)
    h.on_cleanup(clean_host_links)
    base(d)
    want = u.Desired.fetch(d).canonical()
    dev = os.path.basename(u.mount_source(path))
    trigger = "/sys/fs/ext4/%s/trigger_fs_error" % dev
    if not os.path.exists(trigger):
        u.say("SKIPPED read-only filesystem: no %s", trigger)
        return
    with open(trigger, "w") as f:
        f.write("1")
    h.wait_until(lambda: "ro" in u.mount_options(path).split(",") or
                 "emergency_ro" in u.mount_options(path),
                 what="the filesystem to go read-only")
    n = mutations_fail(d, 500, ["Read-only file system"], "storage-failed")
    check(d.running(), "netnsd stopped")
    eq(d.stop(), 0, "exit status on SIGTERM with a read-only state")
    p = d.run_once()
    check(p.returncode != 0, "netnsd started on a read-only state dir")
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    eq(len(lines), 1, "lines of the refusal: %r" % lines)
    check("Read-only file system" in lines[0], "the refusal should say why: "
          "%r", lines[0])
    # The disk is repaired, mounted read-write again: all is there.
    h.run(["umount", path])
    h.run(["e2fsck", "-fy", img], check=False)
    h.run(["mount", "-o", "loop", img, path])
    d.start()
    eq(u.Desired.fetch(d).canonical(), want, "desired state after repair")
    problems = u.kernel_vs_desired(u.Desired.fetch(d),
                                   all_namespaces_desired=False)
    check(not problems, "kernel vs desired after repair:\n  %s",
          "\n  ".join(problems))
    u.say("figures: %s", json.dumps({"refused_with_500": n}))


@test
def immutable_journal_answers_500_then_recovers_without_restart():
    m = ext4_or_skip("immutable journal")
    if m is None:
        return
    path, img = m
    d = h.daemon(state_dir=os.path.join(path, "state"))
    h.on_cleanup(clean_host_links)
    h.on_cleanup(lambda: h.run(["chattr", "-i", d.journal], check=False))
    base(d)
    pid = d.proc.pid
    h.run(["chattr", "+i", d.journal])
    n = mutations_fail(d, 500, ["Operation not permitted"],
                       "storage-failed")
    h.run(["chattr", "-i", d.journal])
    m2 = mutations_work(d)
    eq(d.proc.pid, pid, "the same netnsd process (no restart)")
    eq(u.StateFiles(d.state_file).problems, [], "journal after the fault")
    restart_reads_back(d)
    u.say("figures: %s", json.dumps({"refused_with_500": n,
                                     "succeeded_after_chattr_-i": m2}))


if __name__ == "__main__":
    h.run_tests()
