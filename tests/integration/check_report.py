#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Compare a tcpa JSON report with an expectation.

usage: check_report.py [--only-endpoints] REPORT EXPECT

REPORT is what `tcpa --json` printed (a file, or - for stdin). EXPECT is
either tcpa-gen's ground truth (--truth) or a real capture's
tests/captures/NAME.expect.json; both have

    "endpoints": {"ip:port" | "[ip6]:port" | "ip": {"role": R, "states": {STATE: n}}}

and the truth may also have "packets", "tcp_packets", "flows" and
"malformed"; any other key is ignored.

Checks, one compared item each:
- every expected endpoint: the report has it, with the same role and exactly
  the same live state counts. Zero counts on either side and CLOSED on
  either side are ignored (closed sockets are not live, as in ss). An
  expected endpoint with no live state may be absent from the report.
- every report endpoint with a live state that the expectation lacks: fail.
- unless --only-endpoints: "packets", "tcp_packets", "flows" against
  totals.packets, totals.tcp_packets, totals.flows_seen, and each reason of
  "malformed" against the report's malformed (a reason missing = 0), exact.

Prints every mismatch, then "check_report: N passed, M failed". Exit status:
0 all match, 1 a mismatch, 2 unreadable input.
"""
import argparse
import ipaddress
import json
import sys

IGNORED_STATES = {"CLOSED"}
TOTALS = (("packets", "packets"), ("tcp_packets", "tcp_packets"), ("flows", "flows_seen"))


def load(path, what):
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print("check_report: cannot read %s %s: %s" % (what, path, e), file=sys.stderr)
        sys.exit(2)


def live(states):
    """The live, non-zero counts of a states object."""
    if not isinstance(states, dict):
        return {}
    return {s: n for s, n in states.items() if s not in IGNORED_STATES and n}


def report_endpoints(report):
    """Report endpoints as {key: {"role", "states"}} (array per INTERFACES.md)."""
    eps = report.get("endpoints", [])
    if isinstance(eps, dict):
        return {k: {"role": v.get("role"), "states": live(v.get("states"))}
                for k, v in eps.items()}
    out = {}
    for e in eps:
        key = e.get("endpoint")
        if key in out:
            # Should not happen; merge so that nothing is silently dropped.
            for s, n in live(e.get("states")).items():
                out[key]["states"][s] = out[key]["states"].get(s, 0) + n
            continue
        out[key] = {"role": e.get("role"), "states": live(e.get("states"))}
    return out


def canon(key):
    """The address and port of an endpoint key, for a spelling hint only."""
    try:
        if key.startswith("["):
            addr, port = key[1:].split("]:")
            return (ipaddress.ip_address(addr), int(port))
        if key.count(":") == 1:
            addr, port = key.split(":")
            return (ipaddress.ip_address(addr), int(port))
        return (ipaddress.ip_address(key), None)
    except ValueError:
        return None


def fmt(states):
    return "{" + ", ".join("%s: %d" % (s, states[s]) for s in sorted(states)) + "}"


def state_diff(want, got):
    lines = []
    for s in sorted(set(want) | set(got)):
        w, g = want.get(s, 0), got.get(s, 0)
        if w != g:
            lines.append("%s expected %d, got %d" % (s, w, g))
    return "; ".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only-endpoints", action="store_true",
                    help="compare endpoints only, not totals and malformed counts")
    ap.add_argument("report", help="tcpa --json output, or - for stdin")
    ap.add_argument("expect", help="tcpa-gen truth or tests/captures/*.expect.json")
    args = ap.parse_args()

    report = load(args.report, "report")
    expect = load(args.expect, "expectation")
    if not isinstance(report, dict) or not isinstance(expect, dict):
        print("check_report: report and expectation must be JSON objects", file=sys.stderr)
        return 2

    passed, failed = 0, 0
    diffs = []

    def result(ok, msg=None):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            diffs.append(msg)

    got_eps = report_endpoints(report)
    want_eps = expect.get("endpoints", {})
    by_canon = {}
    for key in got_eps:
        c = canon(key) if isinstance(key, str) else None
        if c is not None:
            by_canon.setdefault(c, key)

    for key in sorted(want_eps):
        w = want_eps[key]
        w_role = w.get("role")
        w_states = live(w.get("states"))
        g = got_eps.get(key)
        if g is None:
            if not w_states:
                result(True)
                continue
            hint = ""
            c = canon(key)
            if c is not None and c in by_canon:
                hint = " (the report has %r: same address, spelled differently)" % by_canon[c]
            result(False, "endpoint %s: missing from the report; expected %s %s%s"
                   % (key, w_role, fmt(w_states), hint))
            continue
        problems = []
        if g["role"] != w_role:
            problems.append("role expected %s, got %s" % (w_role, g["role"]))
        if g["states"] != w_states:
            problems.append(state_diff(w_states, g["states"]))
        if problems:
            result(False, "endpoint %s (%s): %s\n    expected %s\n    got      %s"
                   % (key, w_role, "; ".join(problems), fmt(w_states), fmt(g["states"])))
        else:
            result(True)

    for key in sorted(k for k in got_eps if k not in want_eps):
        g = got_eps[key]
        if g["states"]:
            result(False, "endpoint %s (%s): not expected, but the report has live states %s"
                   % (key, g["role"], fmt(g["states"])))

    if not args.only_endpoints:
        totals = report.get("totals", {})
        for ekey, rkey in TOTALS:
            if ekey not in expect:
                continue
            w, g = expect[ekey], totals.get(rkey)
            result(w == g, "totals.%s: expected %s (%s), got %s" % (rkey, w, ekey, g))
        if "malformed" in expect:
            got_mal = report.get("malformed", {})
            want_mal = expect["malformed"]
            for reason in sorted(set(want_mal) | set(got_mal)):
                w, g = want_mal.get(reason, 0), got_mal.get(reason, 0)
                result(w == g, "malformed.%s: expected %s, got %s" % (reason, w, g))

    for d in diffs:
        print("MISMATCH " + d)
    print("check_report: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
