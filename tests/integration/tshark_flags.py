#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Count Wireshark's TCP analysis flags in a capture, raw and as ANOMALIES.md keys.

usage: tshark_flags.py [--json] [--two-pass] [--tshark PATH] CAPTURE [CAPTURE ...]

Runs tshark once per capture (several captures: counts added up, as tcpa
analyzes several --pcap files as one capture when each connection is in one
file, e.g. tcpa-gen --split) and counts the frames carrying each
tcp.analysis flag:

    retransmission fast_retransmission spurious_retransmission out_of_order
    lost_segment ack_lost_segment duplicate_ack zero_window zero_window_probe
    zero_window_probe_ack window_full keep_alive keep_alive_ack window_update
    reused_ports

Output ("raw", "exclusive", "contract", see below): a table, or with --json
one JSON object

    {"tool": "tshark_flags", "tshark": VERSION, "captures": [...],
     "options": [...tshark -o settings...], "two_pass": false,
     "frames": N, "tcp_frames": N,
     "raw": {FLAG: frames},            # frames with the tcp.analysis.FLAG field
     "exclusive": {...},               # one resend kind per frame (see below)
     "contract": {KEY: count}}         # ANOMALIES.md keys

Mapping to ANOMALIES.md (the "contract" counts):

    retransmission           fast + plain retransmissions (ANOMALIES.md: a fast
                             retransmission is "also counted as retransmission";
                             a spurious one is not)
    fast_retransmission      fast_retransmission
    spurious_retransmission  spurious_retransmission
    out_of_order             out_of_order
    lost_segment             lost_segment
    ack_unseen               ack_lost_segment ("ACKed segment that wasn't captured")
    dup_ack                  duplicate_ack
    zero_window              zero_window
    zero_window_probe        zero_window_probe, plus keep_alive frames sent while
                             the peer's last advertised window was 0 (the Linux
                             probe at next - 1 that Wireshark calls a keep-alive;
                             ANOMALIES.md: "it is not one")
    window_full              window_full
    keepalive                keep_alive frames sent while the peer's window is open
    keepalive_ack            keep_alive_ack
    tuple_reuse              reused_ports

Wireshark's own precedence: its dissector sets exactly one of
retransmission / fast_retransmission / spurious_retransmission per frame, but
the field tcp.analysis.retransmission is added to fast and spurious frames
too (both expert infos are attached). "raw" counts fields as a display filter
sees them (so raw retransmission = all three kinds); "exclusive" is the
dissector's single flag (retransmission = plain ones only). Keep-alives are
never also retransmissions, spurious beats fast beats out-of-order
(tcp.fastrt_supersedes_ooo, default TRUE): the same order as ANOMALIES.md.

Single pass: every tcp.analysis flag is computed while frames are read in
order and stored with the frame; a second pass (-2, --two-pass) shows the same
flags (checked on a tcpa-gen capture with every impairment: same counts, ~5%
slower), so it is only there to check.
Reassembly (tcp.desegment_tcp_streams) is turned off: it changes no analysis
flag and keeps application dissectors from slowing the run. Relative sequence
numbers are irrelevant to the flags and left off.

Exit status: 0, or 2 when tshark cannot read a capture.
"""
import argparse
import json
import shutil
import subprocess
import sys

# tcp.analysis.<name>, in output order.
RAW_FLAGS = (
    "retransmission", "fast_retransmission", "spurious_retransmission",
    "out_of_order", "lost_segment", "ack_lost_segment", "duplicate_ack",
    "zero_window", "zero_window_probe", "zero_window_probe_ack", "window_full",
    "keep_alive", "keep_alive_ack", "window_update", "reused_ports",
)

# ANOMALIES.md keys tshark can be compared on, in output order.
CONTRACT_KEYS = (
    "retransmission", "fast_retransmission", "spurious_retransmission",
    "out_of_order", "lost_segment", "ack_unseen", "dup_ack", "zero_window",
    "zero_window_probe", "window_full", "keepalive", "keepalive_ack",
    "tuple_reuse",
)

# Raw flag -> contract key where the mapping is one to one.
DIRECT = {
    "out_of_order": "out_of_order",
    "lost_segment": "lost_segment",
    "ack_lost_segment": "ack_unseen",
    "duplicate_ack": "dup_ack",
    "zero_window": "zero_window",
    "zero_window_probe": "zero_window_probe",
    "window_full": "window_full",
    "keep_alive_ack": "keepalive_ack",
    "reused_ports": "tuple_reuse",
}

TSHARK_OPTIONS = (
    "tcp.analyze_sequence_numbers:TRUE",
    "tcp.relative_sequence_numbers:FALSE",
    "tcp.desegment_tcp_streams:FALSE",
    "tcp.fastrt_supersedes_ooo:TRUE",
)

BASE_FIELDS = ("frame.number", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport",
               "tcp.window_size_value")


def tshark_version(tshark):
    try:
        out = subprocess.run([tshark, "--version"], capture_output=True, text=True,
                             check=False).stdout
    except OSError:
        return None
    first = out.splitlines()[0] if out else ""
    return first.strip()


def tshark_cmd(tshark, capture, two_pass):
    cmd = [tshark, "-n", "-r", capture]
    if two_pass:
        cmd.append("-2")
    for o in TSHARK_OPTIONS:
        cmd += ["-o", o]
    cmd += ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
    for f in BASE_FIELDS:
        cmd += ["-e", f]
    for f in RAW_FLAGS:
        cmd += ["-e", "tcp.analysis." + f]
    return cmd


def empty_counts():
    return {
        "frames": 0,
        "tcp_frames": 0,
        "raw": {f: 0 for f in RAW_FLAGS},
        "exclusive": {"retransmission": 0, "fast_retransmission": 0,
                      "spurious_retransmission": 0},
        "contract": {k: 0 for k in CONTRACT_KEYS},
    }


def count_capture(tshark, capture, two_pass, acc):
    """Add the flags of one capture to acc; raise RuntimeError on a tshark failure."""
    cmd = tshark_cmd(tshark, capture, two_pass)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    nbase = len(BASE_FIELDS)
    # Per stream: {(addr, port): last raw window advertised}.
    windows = {}
    for line in proc.stdout:
        cols = line.rstrip("\n").split("\t")
        acc["frames"] += 1
        if len(cols) < nbase + len(RAW_FLAGS) or cols[1] == "":
            continue
        acc["tcp_frames"] += 1
        stream = cols[1]
        me = (cols[2] or cols[3], cols[4])
        try:
            win = int(cols[5]) if cols[5] else None
        except ValueError:
            win = None
        peers = windows.setdefault(stream, {})
        peer_win = None
        for ep, w in peers.items():
            if ep != me:
                peer_win = w
        flags = {f for f, v in zip(RAW_FLAGS, cols[nbase:]) if v != ""}
        raw = acc["raw"]
        con = acc["contract"]
        for f in flags:
            raw[f] += 1
        # Wireshark's single resend kind, ANOMALIES.md's counting.
        if "spurious_retransmission" in flags:
            acc["exclusive"]["spurious_retransmission"] += 1
            con["spurious_retransmission"] += 1
        elif "fast_retransmission" in flags:
            acc["exclusive"]["fast_retransmission"] += 1
            con["fast_retransmission"] += 1
            con["retransmission"] += 1
        elif "retransmission" in flags:
            acc["exclusive"]["retransmission"] += 1
            con["retransmission"] += 1
        for f, k in DIRECT.items():
            if f in flags:
                con[k] += 1
        if "keep_alive" in flags:
            if peer_win == 0:
                con["zero_window_probe"] += 1
            else:
                con["keepalive"] += 1
        if win is not None:
            peers[me] = win
    err = proc.stderr.read()
    rc = proc.wait()
    if rc != 0:
        raise RuntimeError("tshark failed on %s (exit %d): %s" % (capture, rc, err.strip()))


def analyze(captures, two_pass=False, tshark="tshark"):
    """Run tshark on each capture; return the result object (see module doc)."""
    path = shutil.which(tshark)
    if path is None:
        raise RuntimeError("tshark not found (%s)" % tshark)
    acc = empty_counts()
    for cap in captures:
        count_capture(path, cap, two_pass, acc)
    out = {"tool": "tshark_flags", "tshark": tshark_version(path),
           "captures": list(captures), "options": list(TSHARK_OPTIONS),
           "two_pass": bool(two_pass)}
    out.update(acc)
    return out


def print_table(res, fp=sys.stdout):
    print("tshark: %s; %d frames, %d TCP; %s" % (res["tshark"], res["frames"],
          res["tcp_frames"], ", ".join(res["captures"])), file=fp)
    print("%-26s %10s    %-26s %10s" % ("tcp.analysis flag", "frames", "ANOMALIES.md key",
                                         "count"), file=fp)
    raw = list(RAW_FLAGS)
    keys = list(CONTRACT_KEYS)
    for i in range(max(len(raw), len(keys))):
        left = "%-26s %10d" % (raw[i], res["raw"][raw[i]]) if i < len(raw) else " " * 37
        right = "%-26s %10d" % (keys[i], res["contract"][keys[i]]) if i < len(keys) else ""
        print("%s    %s" % (left, right), file=fp)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Count Wireshark's tcp.analysis flags and map them to "
                    "ANOMALIES.md keys.")
    ap.add_argument("captures", nargs="+", metavar="CAPTURE")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--two-pass", action="store_true",
                    help="run tshark -2 (same flags, twice the time)")
    ap.add_argument("--tshark", default="tshark", help="tshark binary (default: tshark)")
    args = ap.parse_args(argv)
    try:
        res = analyze(args.captures, args.two_pass, args.tshark)
    except RuntimeError as e:
        print("tshark_flags: %s" % e, file=sys.stderr)
        return 2
    if args.json:
        json.dump(res, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print_table(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
