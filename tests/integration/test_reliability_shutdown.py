#!/usr/bin/python3
"""Reliability 7: graceful shutdown.

Twelve clients stream changes, each request on a fresh connection and each
with an effect of its own that can be looked for (a namespace, a veth pair
from the host into it, an address, an MTU, the deletion of an earlier
pair), while netnsd gets SIGTERM at a random moment; they go on until the
listener refuses them. Eight rounds. netnsd must exit 0 in time, and each
request must have either completed (a 2xx answer, and its change in the
state files and in the kernel, and still there after a restart) or been
refused or closed without an answer (and then nothing of it anywhere:
neither on disk nor in the kernel, where a half-made change would show as
an orphan). Once netnsd is stopped, the kernel must match the desired state
on disk exactly; after the restart, too."""

import json
import threading
import time

import harness as h
from harness import check, expect_status, test
import reliability_util as u
from topology import clean_host_links

ROUNDS = u.env_int("NETNSD_SHUTDOWN_ROUNDS", 8)
CLIENTS = 12


def L(ns, name=None):
    p = "/v1/namespaces/%s/links" % ns
    return p + "/" + name if name else p


class Req:
    """One request and how to tell whether its change is there."""

    def __init__(self, method, path, body, present, obj=None):
        self.method, self.path, self.body = method, path, body
        self.present = present   # (desired, topology) -> bool
        self.obj = obj           # the veth pair it concerns, if any
        self.outcome = None      # "ok", "refused", "cut", or a status
        self.status = None
        self.t0 = self.t1 = None

    def __str__(self):
        return "%s %s %s" % (self.method, self.path,
                             json.dumps(self.body) if self.body else "")


def k_link(topo, ns, name):
    return topo.get(ns, {}).get(name)


class Client:
    def __init__(self, c, rnd_round, port):
        self.c, self.r, self.port = c, rnd_round, port
        self.ns = "g%dr%d" % (c, rnd_round)
        self.reqs = []

    def plan(self):
        """An endless stream of requests, each with a visible effect."""
        ns = self.ns
        yield Req("PUT", "/v1/namespaces/" + ns, {},
                  lambda des, topo: ns in des.namespaces and ns in topo)
        i = 0
        while True:
            v, e = "g%dv%d" % (self.c, i), "e%d" % i
            yield Req("POST", "/v1/namespaces/host/veths",
                      {"name": v, "up": True,
                       "peer": {"name": e, "namespace": ns}},
                      lambda des, topo, v=v, e=e:
                      ("host", v) in des.links and (ns, e) in des.links and
                      bool(k_link(topo, "host", v)) and
                      bool(k_link(topo, ns, e)), v)
            a = "198.18.%d.%d/24" % (70 + self.c, i % 250 + 1)
            yield Req("POST", L(ns, e) + "/addresses", {"address": a},
                      lambda des, topo, e=e, a=a:
                      (ns, e, a) in des.addresses and
                      a in (k_link(topo, ns, e) or {}).get("addresses", []),
                      v)
            m = 1300 + i
            yield Req("PATCH", L("host", v), {"mtu": m},
                      lambda des, topo, v=v, m=m:
                      des.links.get(("host", v), {}).get("mtu") == m and
                      (k_link(topo, "host", v) or {}).get("mtu") == m, v)
            if i % 3 == 2:
                old = "g%dv%d" % (self.c, i - 2)
                yield Req("DELETE", "/v1/namespaces/host/veths/" + old, None,
                          lambda des, topo, old=old:
                          ("host", old) not in des.links and
                          not k_link(topo, "host", old), old)
            i += 1

    def run(self):
        for n, q in enumerate(self.plan()):
            q.t0 = time.monotonic()
            q.rid = "sd-%s-%d" % (self.ns, n)
            try:
                r = h.http_request(self.port, q.method, q.path, q.body,
                                   timeout=h.scaled(20),
                                   headers={"X-Request-Id": q.rid})
            except ConnectionRefusedError:
                q.outcome = "refused"
                self.reqs.append(q)
                return
            except OSError as e:
                q.outcome = "cut"
                q.status = repr(e)
                self.reqs.append(q)
                continue   # try again: refused ends it
            q.t1 = time.monotonic()
            q.status = r.status
            q.outcome = "ok" if r.status < 300 else r.status
            self.reqs.append(q)
            if r.status >= 300:
                return     # what follows would depend on it


@test
def sigterm_during_requests_completes_or_refuses_each():
    rnd = u.rng("shutdown")
    d = h.daemon()
    h.on_cleanup(clean_host_links)
    findings = []
    fig = {"rounds": 0, "requests": 0, "completed": 0,
           "completed_after_sigterm": 0, "refused": 0,
           "closed_without_answer": 0, "applied_without_answer": 0,
           "error_answers": {},
           "stop_seconds_max": 0.0}
    for rd in range(ROUNDS):
        clients = [Client(c, rd, d.port) for c in range(CLIENTS)]
        threads = [threading.Thread(target=cl.run, daemon=True)
                   for cl in clients]
        for t in threads:
            t.start()
        time.sleep(rnd.uniform(0.15, 0.6) * min(h.TIME_SCALE, 2))
        t_term = time.monotonic()
        try:
            rc = d.stop(timeout=h.scaled(15))
        except AssertionError as e:
            raise h.Failure("round %d: %s" % (rd + 1, e))
        stop_s = time.monotonic() - t_term
        fig["stop_seconds_max"] = max(fig["stop_seconds_max"],
                                      round(stop_s, 2))
        if rc != 0:
            findings.append("round %d: exit status %s on SIGTERM"
                            % (rd + 1, rc))
        for t in threads:
            t.join(h.scaled(30))
            check(not t.is_alive(), "a client did not stop")
        fig["rounds"] += 1

        # netnsd is stopped: what the disk holds, and what the kernel has.
        files = u.StateFiles(d.state_file)
        if files.problems:
            findings.append("round %d: state files: %s"
                            % (rd + 1, files.problems))
        des = files.as_state()
        topo = u.kernel_topology(des.namespaces | set(h.netns_list()))
        for cl in clients:
            # A pair deleted later (answered or not) says nothing any more
            # of the requests that made or changed it.
            gone = {q.obj: n for n, q in enumerate(cl.reqs)
                    if q.method == "DELETE" and q.present(des, topo)}
            for n, q in enumerate(cl.reqs):
                fig["requests"] += 1
                if q.method != "DELETE" and gone.get(q.obj, -1) > n:
                    continue
                there = q.present(des, topo)
                if q.outcome == "ok":
                    fig["completed"] += 1
                    if q.t1 and q.t1 > t_term:
                        fig["completed_after_sigterm"] += 1
                    if not there:
                        findings.append(
                            "round %d: %s answered %s, but its change is "
                            "not (all) on disk and in the kernel"
                            % (rd + 1, q, q.status))
                    continue
                if q.outcome == "refused":
                    fig["refused"] += 1
                elif q.outcome == "cut":
                    fig["closed_without_answer"] += 1
                else:
                    k = str(q.outcome)
                    fig["error_answers"][k] = \
                        fig["error_answers"].get(k, 0) + 1
                if there:
                    fig["applied_without_answer"] += 1
                    findings.append(
                        "round %d: %s (X-Request-Id %s) got no 2xx (%s%s), "
                        "yet its change %s; netnsd logged: %s" % (
                            rd + 1, q, q.rid, q.outcome,
                            ": %s" % q.status if q.status else "",
                            "is there" if q.method != "DELETE" else
                            "(the pair is gone) is there",
                            u.log_lines(d, q.rid, limit=2) or "nothing"))
        problems = u.kernel_vs_desired(des, topo)
        if problems:
            findings.append("round %d: with netnsd stopped, the kernel does "
                            "not match the state on disk:\n      %s"
                            % (rd + 1, "\n      ".join(problems)))
        d.start()
        got = u.Desired.fetch(d)
        if got.canonical() != des.canonical():
            findings.append("round %d: after the restart netnsd serves a "
                            "state other than the files held" % (rd + 1))
        problems = u.kernel_vs_desired(got)
        if problems:
            findings.append("round %d: after the restart, kernel vs "
                            "desired:\n      %s"
                            % (rd + 1, "\n      ".join(problems)))
        # Keep the next round small: forget this round's namespaces.
        for ns in sorted(got.namespaces):
            expect_status(d.delete("/v1/namespaces/" + ns), 204)
        clean_host_links()
        for ns in h.netns_list():
            h.netns_del(ns)
    log_stop = u.log_lines(d, "stopping on")
    u.say("figures: %s", json.dumps(fig, sort_keys=True))
    check(len(log_stop) >= ROUNDS, "netnsd should log why it stops: %r",
          log_stop)
    check(not findings, "%d finding(s) (the first 20):\n  %s",
          len(findings), "\n  ".join(findings[:20]))


if __name__ == "__main__":
    h.run_tests()
