"""Restarts, crashes and start-up failures: the desired state survives, and
a daemon that cannot trust its state refuses to start without touching it.

Run inside the sandbox: tests/sandbox /usr/bin/python3 tests/integration/test_restart.py
(ctest does this, with NETNSD_BIN set)."""

import http.client
import os
import random
import signal
import socket
import threading
import time
import urllib.parse

from harness import (NETNS_DIR, Deadline, check, daemon, eq, expect_problem,
                     expect_status, is_mount_point, link_in_ns, netns_add,
                     netns_del_all, netns_files, netns_is_mounted, netns_list,
                     run, run_tests, scaled, simulate_reboot, test)

COLL = "/v1/namespaces"


def item(ns):
    return "%s/%s" % (COLL, urllib.parse.quote(ns, safe=""))


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def ns_inode(ns):
    return os.stat(os.path.join(NETNS_DIR, ns)).st_ino


def assert_restored(d, want):
    """Exactly want is in the kernel and in the API, managed and in sync."""
    want = sorted(want)
    eq(netns_list(), want, "ip netns list")
    eq(netns_files(), want, "files in %s" % NETNS_DIR)
    items = d.namespaces()
    eq(sorted(items), want, "GET %s" % COLL)
    for ns in want:
        check(netns_is_mounted(ns), "%s is not a mounted namespace", ns)
        i = items[ns]
        eq(i["managed"], True, "managed of %s" % ns)
        eq(i.get("in_sync"), True, "in_sync of %s in the list" % ns)
        g = expect_status(d.get(item(ns)), 200, "GET %s" % ns)
        eq(g.json.get("in_sync"), True, "in_sync of GET %s" % ns)
        lo = link_in_ns(ns, "lo")
        check("UP" in lo["flags"], "lo is not UP in restored %s: %r", ns, lo)


def one_line(p, what):
    """The refusal is one line on stderr, and nothing else."""
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    check(len(lines) == 1, "%s: want a one-line message on stderr, got "
          "%d lines:\n%s", what, len(lines), p.stderr)
    return lines[0]


# ---------------------------------------------------------------------------
# restart brings back exactly the desired namespaces

@test
def restart_restores_exactly_the_desired():
    d = daemon()
    for ns in ("alpha", "bravo", "charlie"):
        expect_status(d.post(COLL, {"name": ns}), 201, "POST " + ns)
    expect_status(d.put(item("delta")), 201, "PUT delta")
    expect_status(d.delete(item("bravo")), 204, "DELETE bravo")
    netns_add("adopted")
    expect_status(d.put(item("adopted")), (200, 201), "PUT adopts")
    netns_add("stranger")  # never managed: must not come back
    desired = ["adopted", "alpha", "charlie", "delta"]

    eq(d.stop(), 0, "exit status on SIGTERM")
    netns_del_all()  # as a reboot would
    eq(netns_list(), [], "ip netns list after the 'reboot'")

    d.start()
    assert_restored(d, desired)
    expect_problem(d.get(item("bravo")), 404, "the deleted one")
    expect_problem(d.get(item("stranger")), 404, "the unmanaged one")

    # A start with everything already in place changes nothing.
    inodes = {ns: ns_inode(ns) for ns in desired}
    eq(d.restart(), 0, "exit status on SIGTERM")
    assert_restored(d, desired)
    eq({ns: ns_inode(ns) for ns in desired}, inodes,
       "a restart replaced namespaces that were in place")

    # A real reboot also takes the netns directory away (it is on a tmpfs).
    eq(d.stop(), 0, "exit status on SIGTERM")
    simulate_reboot()
    check(not os.path.exists(NETNS_DIR), "%s survived the reboot", NETNS_DIR)
    d.start()
    assert_restored(d, desired)


@test
def restart_after_sigkill_and_reboot():
    d = daemon()
    for ns in ("one", "two", "three"):
        expect_status(d.put(item(ns)), 201, "PUT " + ns)
    expect_status(d.delete(item("two")), 204)
    eq(d.kill(), -signal.SIGKILL, "killed")
    netns_del_all()
    d.start()
    assert_restored(d, ["one", "three"])


@test
def restart_replaces_stale_files():
    # The file outlived its mount (the netns directory on a disk, say): the
    # start-up reconcile must mount a namespace on it again.
    d = daemon()
    for ns in ("blue", "red"):
        expect_status(d.post(COLL, {"name": ns}), 201)
    eq(d.stop(), 0, "exit status on SIGTERM")
    run(["umount", "-l", os.path.join(NETNS_DIR, "blue")])
    check("blue" in netns_files(), "the stale file is gone")
    check(not netns_is_mounted("blue"), "blue is still mounted")
    d.start()
    assert_restored(d, ["blue", "red"])


@test
def restart_forgets_namespaces_deleted_with_force():
    d = daemon()
    netns_add("outside")
    expect_status(d.post(COLL, {"name": "mine"}), 201)
    expect_status(d.delete(item("outside") + "?force=true"), 204)
    eq(d.stop(), 0, "exit status on SIGTERM")
    netns_del_all()
    d.start()
    assert_restored(d, ["mine"])


@test
def startup_reconcile_does_not_follow_symlinks():
    # A desired namespace whose entry was replaced by a symlink to some
    # mount point: re-creating it must not unmount what the link points to.
    d = daemon()
    expect_status(d.post(COLL, {"name": "blue"}), 201)
    eq(d.stop(), 0, "exit status on SIGTERM")
    netns_del_all()
    victim = "/run/netnsd-test-victim"
    os.makedirs(victim, exist_ok=True)
    run(["mount", "-t", "tmpfs", "victim", victim])
    try:
        os.symlink(victim, os.path.join(NETNS_DIR, "blue"))
        try:
            d.start()
        except Exception:  # noqa: BLE001 - refusing to start is fine too
            pass
        check(is_mount_point(victim), "the start-up reconcile unmounted %s, "
              "the target of the symlink %s/blue", victim, NETNS_DIR)
    finally:
        while run(["umount", victim], check=False).returncode == 0:
            pass
        os.rmdir(victim)


@test
def concurrent_operations_stay_consistent():
    # Clients racing on a few names: every answer is one the contract
    # allows, the API and the kernel agree at the end, and a reboot brings
    # back exactly that set.
    d = daemon()
    names = ["c%d" % i for i in range(8)]
    allowed = {"POST": {201, 409}, "PUT": {200, 201}, "DELETE": {204, 404},
               "GET": {200, 404}}
    bad = []
    lock = threading.Lock()
    seed = int(os.environ.get("NETNSD_TEST_SEED", str(int(time.time()))))

    def client(tid):
        rng = random.Random(seed + tid)
        for _ in range(30):
            ns = rng.choice(names)
            method = rng.choice(sorted(allowed))
            if method == "POST":
                r = d.post(COLL, {"name": ns})
            else:
                r = d.request(method, item(ns))
            if r.status not in allowed[method]:
                with lock:
                    bad.append((method, ns, r))

    threads = [threading.Thread(target=client, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not bad, "answers outside the contract: %r", bad[:5])
    items = d.namespaces()
    eq(sorted(items), netns_list(), "API list vs ip netns list")
    for ns, i in items.items():
        eq(i["managed"], True, "managed of %s" % ns)
        eq(i.get("in_sync"), True, "in_sync of %s" % ns)
    want = sorted(items)
    eq(d.stop(), 0, "exit status on SIGTERM")
    simulate_reboot()
    d.start()
    assert_restored(d, want)


# ---------------------------------------------------------------------------
# start-up refuses a state it cannot trust, and leaves it as it was

def prepared_state(names=("keep",)):
    """A daemon (stopped) whose state holds names, in its journal."""
    d = daemon()
    for ns in names:
        expect_status(d.post(COLL, {"name": ns}), 201)
    eq(d.stop(), 0, "exit status on SIGTERM")
    netns_del_all()
    return d


@test
def unparseable_state_file_stops_startup():
    variants = [
        (b"{ this is not json", "not JSON"),
        (b'{"format":"netnsd-state","version":1,"seq":1,"objects":{"ns/a":',
         "truncated JSON"),
        (b'{"format":"netnsd-state","version":1} trailing', "trailing garbage"),
        (b'{"hello": "world"}\n', "JSON but not a snapshot"),
        (b'[1, 2, 3]\n', "an array"),
        (b'{"format":"netnsd-state","version":999,"seq":0,"objects":{}}\n',
         "a future format version"),
        (b"\x00\xff\xfe\x01binary", "binary garbage"),
    ]
    d = prepared_state()
    journal = read_bytes(d.journal)
    for content, why in variants:
        with open(d.state_file, "wb") as f:
            f.write(content)
        p = d.run_once()
        check(p.returncode != 0, "state file with %s: netnsd exited 0", why)
        check(p.returncode > 0, "state file with %s: netnsd died of signal "
              "%d", why, -p.returncode)
        line = one_line(p, "state file with " + why)
        check(d.state_file in line or "state" in line.lower(),
              "state file with %s: the message should name the state file:"
              " %r", why, line)
        eq(read_bytes(d.state_file), content,
           "state file with %s after the refused start" % why)
        eq(read_bytes(d.journal), journal,
           "journal after the refused start (state file with %s)" % why)
        eq(netns_list(), [], "a refused start applied something (%s)" % why)
    # Once the operator puts a good state back, it starts.
    os.unlink(d.state_file)
    d.start()
    assert_restored(d, ["keep"])


@test
def damaged_journal_record_stops_startup():
    d = prepared_state(("first", "second", "third"))
    journal = read_bytes(d.journal)
    lines = journal.split(b"\n")
    check(len([l for l in lines if l]) >= 3, "expected 3 journal records: %r",
          journal)
    # Damage the first record (not the last): that is no torn tail but lost
    # history, so the daemon must stop and keep the file for a human.
    first = bytearray(lines[0])
    pos = first.index(b"first")
    first[pos] = ord("F")
    damaged = b"\n".join([bytes(first)] + lines[1:])
    with open(d.journal, "wb") as f:
        f.write(damaged)
    state = read_bytes(d.state_file) if os.path.exists(d.state_file) else None
    p = d.run_once()
    check(p.returncode > 0, "damaged journal: want a non-zero exit, got %d",
          p.returncode)
    one_line(p, "damaged journal")
    eq(read_bytes(d.journal), damaged, "journal after the refused start")
    eq(read_bytes(d.state_file) if os.path.exists(d.state_file) else None,
       state, "state file after the refused start")
    eq(netns_list(), [], "a refused start applied something")


@test
def torn_journal_tail_is_dropped():
    for tail, why in [
            (b'0badc0de {"seq":99,"ops":[{"set":"ns/torn","val', "half a record"),
            (b"\x00" * 100, "zeros (free room, cut at the stop)"),
            (b"7", "one byte")]:
        d = prepared_state(("x", "y"))
        good = read_bytes(d.journal)
        check(good.endswith(b"\n"), "a clean journal ends with a newline")
        with open(d.journal, "ab") as f:
            f.write(tail)
        d.start()
        assert_restored(d, ["x", "y"])
        check("torn" not in d.namespaces(), "the torn record was applied")
        # New records go after the good ones, not glued to the torn bytes
        # (the restart below proves the new record reads back).
        expect_status(d.post(COLL, {"name": "z"}), 201, "POST after " + why)
        eq(d.stop(), 0, "exit status on SIGTERM")
        after = read_bytes(d.journal)
        check(after.startswith(good), "the good records changed (%s)", why)
        rest = after[len(good):]
        check(rest.endswith(b"\n") and b"ns/z" in rest and b"\x00" not in
              rest and not rest.startswith(tail + b"\n")
              and b"torn" not in rest,
              "after a torn tail (%s) the journal continues with %r", why,
              rest[:200])
        netns_del_all()
        d.start()
        assert_restored(d, ["x", "y", "z"])
        d.stop()
        netns_del_all()


# ---------------------------------------------------------------------------
# start-up failures and flags

@test
def port_in_use_stops_startup():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        d = daemon(start=False, port=port)
        p = d.run_once()
        check(p.returncode > 0, "port in use: want a non-zero exit, got %d",
              p.returncode)
        line = one_line(p, "port in use")
        check(str(port) in line, "the message should name the port: %r", line)
    finally:
        s.close()


@test
def second_instance_is_refused():
    first = daemon()
    expect_status(first.post(COLL, {"name": "a"}), 201)
    # Same port, other state.
    other = daemon(start=False, port=first.port)
    p = other.run_once()
    check(p.returncode > 0, "second daemon on the same port: exit %d",
          p.returncode)
    one_line(p, "second daemon on the same port")
    # Same state, other port: two writers would corrupt the journal.
    twin = daemon(start=False, state_dir=first.state_dir)
    p = twin.run_once()
    check(p.returncode > 0, "second daemon on the same state: exit %d",
          p.returncode)
    one_line(p, "second daemon on the same state")
    # The first one did not notice.
    expect_status(first.post(COLL, {"name": "b"}), 201)
    eq(sorted(first.namespaces()), ["a", "b"], "first daemon's namespaces")
    eq(first.stop(), 0, "exit status on SIGTERM")
    netns_del_all()
    first.start()
    assert_restored(first, ["a", "b"])


@test
def bad_flags_stop_startup():
    d = daemon(start=False)
    cases = [
        ["--bogus"],
        ["-x"],
        ["--listen"],
        ["--listen", "nonsense"],
        ["--listen", "127.0.0.1:99999"],
        ["--listen", "127.0.0.1:"],
        ["--listen", "256.0.0.1:8080"],
        ["--max-body", "abc"],
        ["--max-body", "-5"],
        ["--threads", "0"],
        ["--log-level", "loud"],
        ["--state-file", ""],
        ["--netns-dir", ""],
        ["--events-buffer", "8000"],  # more than half of the history
        ["unexpected-argument"],
    ]
    failures = []
    for extra in cases:
        try:
            p = d.run_once(extra_args=extra, timeout=scaled(2))
            check(p.returncode > 0, "%r: want a non-zero exit, got %d",
                  extra, p.returncode)
            one_line(p, repr(extra))
            eq(netns_list(), [], "namespaces after %r" % extra)
        except AssertionError as e:
            failures.append(str(e).splitlines()[0])
    check(not failures, "%d of %d bad command lines were not refused:\n%s",
          len(failures), len(cases), "\n".join(failures))
    p = d.run_once(args=["--help"])
    eq(p.returncode, 0, "--help exit status")
    for flag in ("--listen", "--state-file", "--netns-dir", "--help",
                 "--version"):
        check(flag in p.stdout, "--help does not mention %s", flag)
    p = d.run_once(args=["--version"])
    eq(p.returncode, 0, "--version exit status")
    check(p.stdout.startswith("netnsd"), "--version says %r", p.stdout)


@test
def sigterm_and_sigint_stop_cleanly():
    d = daemon()
    expect_status(d.post(COLL, {"name": "stays"}), 201)
    eq(d.stop(signal.SIGTERM), 0, "exit status on SIGTERM")
    # Stopping the daemon does not take the network down.
    eq(netns_list(), ["stays"], "namespaces after SIGTERM")
    d.start()
    eq(d.stop(signal.SIGINT), 0, "exit status on SIGINT")
    # With a client holding a half-sent request, it still stops promptly.
    d.start()
    c = socket.create_connection(("127.0.0.1", d.port))
    try:
        c.sendall(b"PUT /v1/namespaces/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 100"
                  b"\r\n\r\n{")
        time.sleep(0.1)
        t0 = time.monotonic()
        eq(d.stop(signal.SIGTERM, timeout=scaled(5)), 0,
           "exit status on SIGTERM with a client mid-request")
        check(time.monotonic() - t0 < scaled(5), "stopping took too long")
    finally:
        c.close()
    eq(netns_list(), ["stays"], "namespaces after the stops")
    d.start()
    assert_restored(d, ["stays"])


# ---------------------------------------------------------------------------
# SIGKILL while clients stream PUTs: no acknowledged namespace is lost

@test
def sigkill_while_streaming_puts_loses_nothing():
    rounds = 5
    n_clients = 2
    budget = Deadline(scaled(30))
    rng = random.Random(int(os.environ.get("NETNSD_TEST_SEED",
                                           str(int(time.time())))))
    d = daemon()
    acked = set()    # answered 2xx: must survive
    unsure = set()   # sent, no answer: may or may not exist
    lock = threading.Lock()
    total_acked = 0
    done_rounds = 0

    for rnd in range(rounds):
        if rnd and budget.expired():
            break
        stop = threading.Event()
        count = [0]
        errors = []

        def client(tid):
            i = 0
            while not stop.is_set():
                name = "r%d-c%d-%d" % (rnd, tid, i)
                with lock:
                    unsure.add(name)
                try:
                    r = d.put(item(name), timeout=scaled(10))
                except (OSError, http.client.HTTPException):
                    return  # the daemon died under us
                if r.status not in (200, 201):
                    with lock:
                        errors.append((name, r))
                    return
                with lock:
                    acked.add(name)
                    unsure.discard(name)
                    count[0] += 1
                i += 1

        threads = [threading.Thread(target=client, args=(t,), daemon=True)
                   for t in range(n_clients)]
        for t in threads:
            t.start()
        # Kill at a random moment, after a random number of answers.
        target = rng.randint(3, 40)
        wait = Deadline(scaled(10))
        while count[0] < target and not wait.expired() and not errors:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.01))
        d.kill()
        stop.set()
        for t in threads:
            t.join(scaled(15))
            check(not t.is_alive(), "a client thread hangs after the kill")
        check(not errors, "round %d: a PUT failed: %r", rnd, errors[:3])
        check(count[0] >= 3, "round %d: only %d PUTs answered before the "
              "kill", rnd, count[0])
        total_acked += count[0]

        # Most rounds, a "reboot": the kernel forgets everything and only
        # the stored desired state can bring the namespaces back.
        reboot = rnd % 3 != 2
        if rnd % 3 == 0:
            simulate_reboot()
        elif rnd % 3 == 1:
            netns_del_all()
        d.start(timeout=scaled(30))
        items = d.namespaces()
        managed = {n for n, i in items.items() if i["managed"]}
        kernel = set(netns_list())
        lost = sorted(acked - managed)
        check(not lost, "round %d%s: %d acknowledged namespaces are not "
              "managed after the restart: %r", rnd,
              " (reboot)" if reboot else "", len(lost), lost[:10])
        lost = sorted(acked - kernel)
        check(not lost, "round %d%s: %d acknowledged namespaces are missing "
              "from ip netns list: %r", rnd, " (reboot)" if reboot else "",
              len(lost), lost[:10])
        bogus = sorted(managed - acked - unsure)
        check(not bogus, "round %d: managed namespaces nobody asked for: %r",
              rnd, bogus[:10])
        stale = sorted(n for n in acked if items[n].get("in_sync") is not True)
        check(not stale, "round %d: acknowledged namespaces not in sync: %r",
              rnd, stale[:10])
        done_rounds += 1
    print("    %d rounds, %d acknowledged PUTs, %d namespaces at the end" % (
        done_rounds, total_acked, len(netns_list())))
    check(done_rounds >= 2, "only %d rounds in the time budget", done_rounds)


if __name__ == "__main__":
    run_tests()
