#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Compare tcpa's anomaly counts with Wireshark's on the same capture.

usage: compare_flags.py REPORT CAPTURE [CAPTURE ...] --accuracy docs/ACCURACY.md
                        [--truth TRUTH] [--tshark-json FILE] [--two-pass]
                        [--tshark PATH]

REPORT is what `tcpa --pcap CAPTURE --json` printed (a file, or - for stdin);
its "anomalies" object is compared (tcpa-gen's --truth file has one too). The
tshark side is tests/integration/tshark_flags.py's "contract" counts on the
same CAPTURE(s), or a saved `tshark_flags.py --json` output (--tshark-json).

Compared: the ANOMALIES.md keys Wireshark has a flag for, retransmission
fast_retransmission spurious_retransmission out_of_order lost_segment
ack_unseen dup_ack zero_window zero_window_probe window_full keepalive
keepalive_ack tuple_reuse. A key missing from the report (INTERFACES.md: all
are present) fails whatever the accuracy file says.

Differences are allowed only where the accuracy file's table lists them: the
markdown table whose header row has the columns capture, anomaly, tcpa,
tshark and reason (any order; other tables are ignored). A row applies when

    capture  matches the base name (or the path as given) of one CAPTURE,
             shell glob (fnmatch), e.g. `loss-*.pcap` or `*`
    anomaly  is the key
    tcpa     is the report's count, or *
    tshark   is tshark's count, or *

Backticks around cells are ignored.

--truth TRUTH (tcpa-gen's --truth for CAPTURE, made with an impairment
option): also allowed is a difference where the report's count equals the
truth's "anomalies" count (ANOMALIES.md) and tshark's equals the truth's
"wireshark_4_0" count (what the generator knows Wireshark 4.0 flags, e.g. its
ack_unseen rule). REPORT may be the truth itself: then tshark is checked
against the generator's prediction.

Prints one line per key (both counts, ok / allowed / FAIL and the reason),
then "compare_flags: N passed, M failed".
Exit status: 0 no unlisted difference, 1 one at least, 2 unreadable input.
"""
import argparse
import fnmatch
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tshark_flags  # noqa: E402

KEYS = tshark_flags.CONTRACT_KEYS
COLUMNS = ("capture", "anomaly", "tcpa", "tshark", "reason")


def die(msg):
    print("compare_flags: %s" % msg, file=sys.stderr)
    sys.exit(2)


def load_json(path, what):
    try:
        if path == "-":
            return json.load(sys.stdin)
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die("cannot read %s %s: %s" % (what, path, e))


def split_row(line):
    """Cells of a markdown table row, or None if the line is not one."""
    s = line.strip()
    if not s.startswith("|"):
        return None
    s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [c.strip().strip("`").strip() for c in s.split("|")]


def is_separator(cells):
    return all(c and set(c) <= set("-: ") for c in cells)


def parse_accuracy(path):
    """Rows of the allowed-difference table: dicts with the five columns."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        die("cannot read accuracy file %s: %s" % (path, e))
    rows = []
    found = False
    i = 0
    while i < len(lines):
        cells = split_row(lines[i])
        i += 1
        if cells is None:
            continue
        names = [c.lower() for c in cells]
        if not all(col in names for col in COLUMNS):
            continue
        found = True
        idx = {col: names.index(col) for col in COLUMNS}
        while i < len(lines):
            cells = split_row(lines[i])
            if cells is None:
                break
            i += 1
            if is_separator(cells):
                continue
            cells += [""] * (len(names) - len(cells))
            row = {col: cells[idx[col]] for col in COLUMNS}
            if not row["capture"] or not row["anomaly"]:
                continue
            for col in ("tcpa", "tshark"):
                v = row[col]
                if v != "*":
                    try:
                        row[col] = int(v)
                    except ValueError:
                        die("%s: row %r: %s must be a number or *" % (path, row, col))
            rows.append(row)
    if not found:
        die("%s has no table with columns %s" % (path, ", ".join(COLUMNS)))
    return rows


def allowance(rows, captures, key, tcpa, tshark):
    """The first row that allows this difference, or None."""
    names = set()
    for c in captures:
        names.add(c)
        names.add(os.path.basename(c))
    for r in rows:
        if r["anomaly"] != key:
            continue
        if not any(fnmatch.fnmatchcase(n, r["capture"]) for n in names):
            continue
        if r["tcpa"] != "*" and r["tcpa"] != tcpa:
            continue
        if r["tshark"] != "*" and r["tshark"] != tshark:
            continue
        return r
    return None


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Compare tcpa's report anomalies with tshark's flags on the same "
                    "capture; differences only as docs/ACCURACY.md lists them.")
    ap.add_argument("report", metavar="REPORT")
    ap.add_argument("captures", nargs="+", metavar="CAPTURE")
    ap.add_argument("--accuracy", required=True, metavar="ACCURACY.md")
    ap.add_argument("--truth", metavar="TRUTH",
                    help="tcpa-gen truth of CAPTURE: allow its known Wireshark 4.0 counts")
    ap.add_argument("--tshark-json", metavar="FILE",
                    help="tshark_flags.py --json output to use instead of running tshark")
    ap.add_argument("--two-pass", action="store_true", help="run tshark -2")
    ap.add_argument("--tshark", default="tshark", help="tshark binary (default: tshark)")
    args = ap.parse_args(argv)

    report = load_json(args.report, "report")
    anomalies = report.get("anomalies") if isinstance(report, dict) else None
    if not isinstance(anomalies, dict):
        die("%s has no \"anomalies\" object" % args.report)
    rows = parse_accuracy(args.accuracy)
    truth_anom = truth_ws = None
    if args.truth:
        truth = load_json(args.truth, "truth")
        truth_anom = truth.get("anomalies") if isinstance(truth, dict) else None
        truth_ws = truth.get("wireshark_4_0") if isinstance(truth, dict) else None
        if not isinstance(truth_anom, dict) or not isinstance(truth_ws, dict):
            die("%s has no \"anomalies\" and \"wireshark_4_0\" (tcpa-gen --truth with an "
                "impairment option)" % args.truth)
    if args.tshark_json:
        ts = load_json(args.tshark_json, "tshark_flags output")
    else:
        try:
            ts = tshark_flags.analyze(args.captures, args.two_pass, args.tshark)
        except RuntimeError as e:
            die(str(e))
    contract = ts.get("contract") if isinstance(ts, dict) else None
    if not isinstance(contract, dict):
        die("tshark counts have no \"contract\" object")

    print("capture: %s; tshark: %s" % (", ".join(args.captures), ts.get("tshark")))
    print("%-24s %8s %8s  %-8s %s" % ("anomaly", "tcpa", "tshark", "result", "reason"))
    passed = failed = 0
    for key in KEYS:
        tcpa = anomalies.get(key)
        tshark = contract.get(key, 0)
        if isinstance(tcpa, bool) or not isinstance(tcpa, int):
            tcpa_cell = "missing" if tcpa is None else repr(tcpa)
            tcpa = None
        else:
            tcpa_cell = str(tcpa)
        if tcpa is not None and tcpa == tshark:
            passed += 1
            print("%-24s %8s %8d  ok" % (key, tcpa_cell, tshark))
            continue
        if tcpa is None:
            failed += 1
            print("%-24s %8s %8d  %-8s %s" % (key, tcpa_cell, tshark, "FAIL",
                                                "not in the report's anomalies"))
            continue
        row = allowance(rows, args.captures, key, tcpa, tshark)
        if row is None and truth_anom is not None and tcpa == truth_anom.get(key) and \
                tshark == truth_ws.get(key):
            row = {"reason": "--truth: contract count %d, Wireshark 4.0 count %d"
                             % (tcpa, tshark)}
        if row is not None:
            passed += 1
            print("%-24s %8s %8d  %-8s %s" % (key, tcpa_cell, tshark, "allowed", row["reason"]))
        else:
            failed += 1
            print("%-24s %8s %8d  %-8s %s" % (key, tcpa_cell, tshark, "FAIL",
                                                "not listed in %s" % args.accuracy))
    print("compare_flags: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
