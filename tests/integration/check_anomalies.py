#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Compare a tcpa report's anomaly counts with a capture's expectation.

    check_anomalies.py REPORT.json EXPECT.json

EXPECT["anomalies"] = {"total": {name: N | {"min": a, "max": b}},
                       "by_endpoint": {endpoint: {name: N | {...}}}}
taken from the kernel's counters (nstat) or the scenario's construction
(tests/scenarios/). Every listed count must match; unlisted ones are not
checked. Exit 1 on any mismatch; last line "check_anomalies: N passed, M failed".
"""
import json
import sys


def ok(want, got):
    if isinstance(want, dict):
        return want.get("min", 0) <= got <= want.get("max", float("inf"))
    return got == want


def main():
    rep = json.load(open(sys.argv[1]))
    exp = json.load(open(sys.argv[2])).get("anomalies", {})
    eps = {e["endpoint"]: e for e in rep.get("endpoints", [])}
    npass = nfail = 0
    for name, want in exp.get("total", {}).items():
        got = rep["anomalies"].get(name)
        if got is None:
            print(f"FAIL total {name}: not a report key")
            nfail += 1
        elif ok(want, got):
            npass += 1
        else:
            print(f"FAIL total {name}: tcpa {got}, expected {want}")
            nfail += 1
    for ep, counts in exp.get("by_endpoint", {}).items():
        got_ep = eps.get(ep, {}).get("anomalies", {})
        for name, want in counts.items():
            got = got_ep.get(name, 0)
            if ok(want, got):
                npass += 1
            else:
                print(f"FAIL {ep} {name}: tcpa {got}, expected {want}")
                nfail += 1
    print(f"check_anomalies: {npass} passed, {nfail} failed")
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
