#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Samples and checks of bench/soak.sh.

  soak_stats.py sample --csv FILE --pid PID --sock SOCK --iface IF --tcpactl BIN
                       [--interval 10] [--phase-file F] [--stop-file F] [--once PHASE]
      Runs in tcpa's network namespace (the interface's /sys counters are
      that namespace's). Appends one CSV row per INTERVAL until STOP_FILE
      exists or tcpa is gone; with --once PHASE, one row labelled PHASE.

  soak_stats.py check --csv FILE --report REPORT.json --meta META.json --md SUMMARY.md
      The soak's checks on the samples and tcpa's exit report; writes the
      markdown summary, prints it, exits 1 when a check fails.
"""

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import time

FIELDS = [
    "t_s", "wall", "phase",
    # the port (DPDK af_packet driver) and tcpa's own per-port view
    "port_rx_packets", "port_rx_missed", "port_rx_nombuf", "port_rx_errors",
    # RX cores, summed
    "packets", "tcp_packets", "dispatched", "ring_full", "flows_active", "flows_seen",
    "flows_closed", "flow_evicted", "flow_expired", "ep_full", "timer_full", "events_lost",
    "malformed", "anomalies",
    # packet time the report spans (last - first segment): follows the wall clock
    "pkt_span_s",
    "mempool_in_use", "mempool_free",
    # the tcpa process
    "vm_rss_kb", "rss_anon_kb", "rss_file_kb", "rss_shmem_kb", "vm_hwm_kb", "fds", "threads",
    # DPDK's malloc heap (EAL telemetry /eal/heap_info), "" when unavailable
    "heap_alloc_bytes", "heap_alloc_count",
    # the kernel's interface counters (cumulative since the interface was made)
    "if_rx_packets", "if_tx_packets", "if_rx_dropped", "if_tx_dropped",
    # tcpa's RX core threads (DPDK workers): their share of a CPU, and how
    # often the scheduler took the CPU from them (cumulative)
    "rx_thread_cpu_pct", "rx_thread_nvcsw",
    # the machine
    "cpu0_busy_pct", "cpu1_busy_pct", "loadavg1",
]

CORE_SUM = ["packets", "tcp_packets", "dispatched", "ring_full", "flows_active", "flows_seen",
            "flows_closed", "flow_evicted", "flow_expired", "ep_full", "timer_full",
            "events_lost"]


def ctl(args, cmd):
    out = subprocess.run([args.tcpactl, "-s", args.sock, "--json", "--timeout", "10", cmd],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError("tcpactl %s: %s" % (cmd, out.stderr.strip()))
    return json.loads(out.stdout)


def proc_status(pid):
    want = {"VmRSS": "vm_rss_kb", "RssAnon": "rss_anon_kb", "RssFile": "rss_file_kb",
            "RssShmem": "rss_shmem_kb", "VmHWM": "vm_hwm_kb", "Threads": "threads"}
    row = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in want:
                row[want[k]] = int(v.split()[0])
    row["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    return row


def iface(name):
    row = {}
    for k in ("rx_packets", "tx_packets", "rx_dropped", "tx_dropped"):
        with open("/sys/class/net/%s/statistics/%s" % (name, k)) as f:
            row["if_" + k] = int(f.read())
    return row


def heap_info(path):
    """Socket 0's DPDK heap, from the EAL telemetry socket: (bytes, count)."""
    if not path:
        return "", ""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            s.settimeout(5)
            s.connect(path)
            s.recv(16384)  # the greeting
            s.send(b"/eal/heap_info,0")
            d = json.loads(s.recv(65536).decode())["/eal/heap_info"]
            return int(d["Alloc_size"]), int(d["Alloc_count"])
    except (OSError, ValueError, KeyError, TypeError):
        return "", ""


def rx_threads(pid):
    """(utime+stime seconds, involuntary context switches) of the RX threads."""
    cpu, nv = 0.0, 0
    base = "/proc/%d/task" % pid
    for tid in os.listdir(base):
        try:
            with open("%s/%s/comm" % (base, tid)) as f:
                if not f.read().startswith("rte-worker"):
                    continue
            with open("%s/%s/stat" % (base, tid)) as f:
                st = f.read().rsplit(")", 1)[1].split()
            cpu += (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
            with open("%s/%s/status" % (base, tid)) as f:
                for line in f:
                    if line.startswith("nonvoluntary_ctxt_switches:"):
                        nv += int(line.split()[1])
        except OSError:
            pass
    return cpu, nv


def cpu_times():
    t = {}
    with open("/proc/stat") as f:
        for line in f:
            p = line.split()
            if p[0].startswith("cpu") and p[0] != "cpu":
                v = [int(x) for x in p[1:]]
                idle = v[3] + v[4]
                t[p[0]] = (sum(v[:8]), idle)
    return t


def sample(args, phase, t0, prev_cpu):
    st = ctl(args, "stats")
    an = ctl(args, "report")
    row = {"t_s": round(time.time() - t0, 1), "wall": time.strftime("%H:%M:%S"),
           "phase": phase}
    port = st["ports"][0]
    for k in ("rx_packets", "rx_missed", "rx_nombuf", "rx_errors"):
        row["port_" + k] = port.get(k, 0)
    for k in CORE_SUM:
        row[k] = sum(c.get(k, 0) for c in st["cores"])
    row["malformed"] = sum(an.get("malformed", {}).values())
    row["anomalies"] = sum(an.get("anomalies", {}).values())
    row["pkt_span_s"] = round(an.get("totals", {}).get("duration_s", 0.0), 1)
    row["mempool_in_use"] = st["mempool"]["in_use"]
    row["mempool_free"] = st["mempool"]["free"]
    row.update(proc_status(args.pid))
    row.update(iface(args.iface))
    row["heap_alloc_bytes"], row["heap_alloc_count"] = heap_info(args.telemetry)
    now = time.monotonic()
    rx_cpu, row["rx_thread_nvcsw"] = rx_threads(args.pid)
    if "rx" in prev_cpu and now > prev_cpu["rx"][1]:
        row["rx_thread_cpu_pct"] = round(100.0 * (rx_cpu - prev_cpu["rx"][0]) / (now - prev_cpu["rx"][1]), 1)
    else:
        row["rx_thread_cpu_pct"] = ""
    cpu = cpu_times()
    cpu["rx"] = (rx_cpu, now)
    for i in (0, 1):
        c = "cpu%d" % i
        if c in cpu and c in prev_cpu:
            tot = cpu[c][0] - prev_cpu[c][0]
            idle = cpu[c][1] - prev_cpu[c][1]
            row[c + "_busy_pct"] = round(100.0 * (tot - idle) / tot, 1) if tot > 0 else ""
        else:
            row[c + "_busy_pct"] = ""
    with open("/proc/loadavg") as f:
        row["loadavg1"] = f.read().split()[0]
    return row, cpu


def cmd_sample(args):
    new = not os.path.exists(args.csv) or os.path.getsize(args.csv) == 0
    t0 = args.t0
    with open(args.csv, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        if new:
            w.writeheader()
        prev = cpu_times()
        prev["rx"] = (rx_threads(args.pid)[0], time.monotonic())
        if args.once:
            time.sleep(0.5)  # a short CPU window for the busy figures
            row, _ = sample(args, args.once, t0, prev)
            w.writerow(row)
            return 0
        nxt = time.monotonic()
        while True:
            if args.stop_file and os.path.exists(args.stop_file):
                return 0
            try:
                os.kill(args.pid, 0)
            except OSError:
                return 0
            if time.monotonic() >= nxt:
                phase = "?"
                if args.phase_file and os.path.exists(args.phase_file):
                    with open(args.phase_file) as pf:
                        phase = pf.read().strip() or "?"
                try:
                    row, prev = sample(args, phase, t0, prev)
                    w.writerow(row)
                    f.flush()
                except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as e:
                    print("soak_stats: sample failed: %s" % e, file=sys.stderr)
                nxt += args.interval
            time.sleep(0.2)


# ---- check ----

def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def slope_per_hour(xs, ys):
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx * 3600.0


def cmd_check(args):
    rows = list(csv.DictReader(open(args.csv)))
    rep = json.load(open(args.report))
    meta = json.load(open(args.meta))
    checks = []  # (name, ok, figures)

    def check(name, ok, text):
        checks.append((name, bool(ok), text))

    base = [r for r in rows if r["phase"] == "baseline"]
    final = [r for r in rows if r["phase"] == "final"]
    if not base or not final:
        print("soak_stats: no baseline or final sample in %s" % args.csv, file=sys.stderr)
        return 1
    base, final = base[-1], final[-1]
    I = lambda r, k: int(float(r[k]))  # noqa: E731

    # 1. mempool back to its idle baseline once traffic stopped
    peak = max(I(r, "mempool_in_use") for r in rows)
    check("mempool back to baseline", I(final, "mempool_in_use") == I(base, "mempool_in_use"),
          "in_use idle before traffic %d, after traffic %d (free %d of %d); peak in a sample %d"
          % (I(base, "mempool_in_use"), I(final, "mempool_in_use"), I(final, "mempool_free"),
             I(final, "mempool_in_use") + I(final, "mempool_free"), peak))

    # 2. accounting, three exact equations
    tot = rep["totals"]
    cap = rep["capture"]
    malformed = sum(rep["malformed"].values())
    port_rx = I(final, "port_rx_packets")
    missed = I(final, "port_rx_missed")
    nombuf = I(final, "port_rx_nombuf")
    check("port rx_packets = frames the RX cores took",
          port_rx == tot["packets"] == I(final, "packets"),
          "port rx_packets %d, report totals.packets %d, stats cores[].packets %d"
          % (port_rx, tot["packets"], I(final, "packets")))
    rhs = tot["tcp_packets"] + malformed + cap["ring_full"]
    check("frames taken = analyzed + counted drops",
          tot["packets"] == rhs,
          "totals.packets %d = tcp_packets %d + malformed %d + ring_full %d (= %d, diff %+d)"
          % (tot["packets"], tot["tcp_packets"], malformed, cap["ring_full"], rhs,
             tot["packets"] - rhs))
    # The af_packet socket sees the frames the interface received (rx_packets:
    # those the kernel dropped on arrival, rx_dropped, it never sees) and
    # those it was given to send, taps come before the driver: tx_packets +
    # tx_dropped.
    k_rx = I(final, "if_rx_packets") - meta["if_rx0"]
    k_tx = I(final, "if_tx_packets") - meta["if_tx0"] + I(final, "if_tx_dropped") - meta["if_txd0"]
    kern = k_rx + k_tx
    lost = kern - port_rx
    after = meta.get("if_after_exit")
    stable = after is None or after == [I(final, k) for k in
                                        ("if_rx_packets", "if_tx_packets", "if_tx_dropped")]
    check("interface frames = port rx_packets + counted drops",
          kern == port_rx + missed + nombuf and stable,
          "the interface carried %d frames (kernel rx_packets %d + tx_packets and tx_dropped %d: "
          "the af_packet socket gets both directions); port rx_packets %d; so %d (%.3f%%) never reached the port; tcpa counted "
          "rx_missed %d + rx_nombuf %d (diff %+d)%s"
          % (kern, k_rx, k_tx, port_rx, lost, 100.0 * lost / kern if kern else 0.0, missed,
             nombuf, kern - port_rx - missed - nombuf,
             "" if stable else "; NOTE: frames arrived between the last sample and tcpa's exit"))

    # 3. the live packet clock: the report's span of packet time (first to
    # last segment) cannot exceed the time tcpa ran. One packet stamped in
    # the far future moves the engine's clock there for good (every timed
    # rule and idle timeout after it is judged against that clock).
    span = tot.get("duration_s", 0.0)
    ran = float(final["t_s"]) - meta.get("t_tcpa0", 0.0)
    jumped = [r for r in rows if num(r.get("pkt_span_s")) is not None and num(r["pkt_span_s"]) > ran + 2]
    check("packet clock within the run",
          0 <= span <= ran + 2,
          "report totals.duration_s %.1f s, tcpa ran %.0f s%s"
          % (span, ran,
             (" (%.3g years; first seen in the sample at t = %s s)"
              % (span / 3.156e7, jumped[0]["t_s"])) if jumped else
             (" (%.3g years)" % (span / 3.156e7)) if span > ran + 2 else ""))

    # 4. RSS flat after the first minute. VmRSS = RssAnon (malloc heap) +
    # RssFile (binary, libraries) + RssShmem (DPDK's memory: with --no-huge
    # one shared mapping of fixed size, reserved at start, whose pages are
    # counted once first touched, e.g. as new connections hash into flow
    # table buckets not used before). What can leak: the process's private
    # RSS (RssAnon + RssFile), and DPDK heap allocations made at run time
    # (tcpa makes none after start: the heap's allocated size must not move).
    warm = [r for r in rows if num(r["t_s"]) is not None and num(r["t_s"]) >= meta["t_traffic0"] + 60
            and r["phase"] in ("traffic", "drain", "final")]
    if len(warm) >= 2:
        xs = [float(r["t_s"]) for r in warm]
        vm = [int(r["vm_rss_kb"]) for r in warm]
        priv = [int(r["rss_anon_kb"]) + int(r["rss_file_kb"]) for r in warm]
        shm = [int(r["rss_shmem_kb"]) for r in warm]
        heap = [int(r["heap_alloc_bytes"]) for r in warm if r["heap_alloc_bytes"] != ""]
        fds = [int(r["fds"]) for r in warm]
        spread = max(priv) - min(priv)
        # a slope is judged over 10 minutes or more; a short try only shows it
        long_run = xs[-1] - xs[0] >= 600
        heap_ok = not heap or max(heap) == min(heap)
        check("RSS flat",
              spread <= args.rss_tol_kb and heap_ok and
              (not long_run or abs(slope_per_hour(xs, priv)) <= args.rss_slope_kb_h),
              "after the first minute (%d samples over %.0f s): private RSS (RssAnon + RssFile) "
              "%d..%d kB, max - min %d kB (limit %d), slope %+.0f kB/h (limit %s); DPDK heap "
              "allocated %s; VmRSS %d..%d kB (max - min %d kB, slope %+.0f kB/h), of which "
              "RssShmem (DPDK memory reserved at start, first touches) %d..%d kB; open fds %d..%d"
              % (len(xs), xs[-1] - xs[0], min(priv), max(priv), spread, args.rss_tol_kb,
                 slope_per_hour(xs, priv),
                 args.rss_slope_kb_h if long_run else "%d, judged on 10 min or more" % args.rss_slope_kb_h,
                 ("%d..%d bytes" % (min(heap), max(heap))) if heap else "not read",
                 min(vm), max(vm), max(vm) - min(vm), slope_per_hour(xs, vm), min(shm), max(shm),
                 min(fds), max(fds)))
    else:
        check("RSS flat", False, "fewer than two samples after the first minute: run longer")

    # rate
    traffic = [r for r in rows if r["phase"] == "traffic"]
    rates, trates = [], []
    for a, b in zip(traffic, traffic[1:]):
        dt = float(b["t_s"]) - float(a["t_s"])
        if dt > 0:
            rates.append(sum(I(b, k) - I(a, k) for k in
                             ("if_rx_packets", "if_tx_packets", "if_tx_dropped")) / dt)
            trates.append((I(b, "packets") - I(a, "packets")) / dt)
    tsecs = meta["t_traffic1"] - meta["t_traffic0"]
    # frames lost before the port, per sample (in-flight frames in the
    # af_packet ring make single samples differ by up to its size)
    losses = []
    for a, b in zip(rows, rows[1:]):
        dk = sum(I(b, k) - I(a, k) for k in ("if_rx_packets", "if_tx_packets", "if_tx_dropped"))
        losses.append((dk - (I(b, "port_rx_packets") - I(a, "port_rx_packets")), b["t_s"]))
    worst = max(losses) if losses else (0, "?")
    cpu0 = [num(r["cpu0_busy_pct"]) for r in traffic if num(r["cpu0_busy_pct"]) is not None]
    cpu1 = [num(r["cpu1_busy_pct"]) for r in traffic if num(r["cpu1_busy_pct"]) is not None]
    load = [num(r["loadavg1"]) for r in traffic if num(r["loadavg1"]) is not None]
    rxcpu = [num(r["rx_thread_cpu_pct"]) for r in traffic if num(r["rx_thread_cpu_pct"]) is not None]
    nv = [I(r, "rx_thread_nvcsw") for r in traffic]
    avg = lambda v: sum(v) / len(v) if v else 0.0  # noqa: E731

    ok = all(c[1] for c in checks)
    md = []
    md.append("# tcpa soak %s: %s" % (meta["date"], "PASS" if ok else "FAIL"))
    md.append("")
    md.append("Machine: %s, %s CPUs, kernel %s, DPDK %s; tcpa %s (commit %s)."
              % (meta["cpu_model"], meta["ncpu"], meta["kernel"], meta["dpdk"],
                 rep.get("version", "?"), meta["commit"]))
    md.append("Duration: %.0f s of traffic (%s), samples every %s s; every rule on (default "
              "configuration), af_packet ring %s frames."
              % (tsecs, meta["traffic"], meta["interval"], meta["framecnt"]))
    md.append("")
    md.append("Rate (frames/s the interface carried, both directions, per %s s sample): "
              "mean %.0f, min %.0f, max %.0f; tcpa took mean %.0f frames/s (min %.0f, max %.0f). "
              "Totals: %d frames carried, %d analyzed as TCP segments."
              % (meta["interval"], sum(rates) / len(rates) if rates else 0,
                 min(rates) if rates else 0, max(rates) if rates else 0,
                 sum(trates) / len(trates) if trates else 0, min(trates) if trates else 0,
                 max(trates) if trates else 0, kern, tot["tcp_packets"]))
    md.append("Frames that never reached the port: %d (%.3f%%); the most in one sample: %d, "
              "in the one ending at t = %s s (traffic from t = %.0f s)."
              % (lost, 100.0 * lost / kern if kern else 0.0, worst[0], worst[1],
                 meta["t_traffic0"]))
    md.append("CPU busy during traffic: cpu0 (traffic source, control lcore) %.0f%%, cpu1 "
              "(tcpa's RX core, busy-polls) %.0f%%; load average %.1f mean, %.1f max. "
              "tcpa's RX thread ran %.0f%% of the time (min %.0f%% in a sample), preempted "
              "%.0f times/s by other processes%s."
              % (avg(cpu0), avg(cpu1), avg(load), max(load) if load else 0,
                 avg(rxcpu), min(rxcpu) if rxcpu else 0,
                 (nv[-1] - nv[0]) / tsecs if len(nv) > 1 and tsecs > 0 else 0,
                 "; " + meta["busy"] if meta.get("busy") else ""))
    md.append("Connections: %d seen, %d closed, %d tracked at the end; anomalies counted %d; "
              "capture_loss %.3f%%."
              % (tot["flows_seen"], tot["flows_closed"], tot["flows_active"],
                 sum(rep["anomalies"].values()), cap.get("capture_loss", 0.0)))
    md.append("")
    md.append("| check | result | figures |")
    md.append("|---|---|---|")
    for name, good, text in checks:
        md.append("| %s | %s | %s |" % (name, "pass" if good else "**FAIL**", text))
    md.append("")
    text = "\n".join(md) + "\n"
    with open(args.md, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--csv", required=True)
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--sock", required=True)
    s.add_argument("--iface", required=True)
    s.add_argument("--tcpactl", required=True)
    s.add_argument("--interval", type=float, default=10)
    s.add_argument("--phase-file")
    s.add_argument("--stop-file")
    s.add_argument("--once")
    s.add_argument("--telemetry", help="the EAL telemetry socket (dpdk_telemetry.v2)")
    s.add_argument("--t0", type=float, required=True, help="the soak's start, epoch seconds")
    c = sub.add_parser("check")
    c.add_argument("--csv", required=True)
    c.add_argument("--report", required=True)
    c.add_argument("--meta", required=True)
    c.add_argument("--md", required=True)
    c.add_argument("--rss-tol-kb", type=int, default=4096)
    c.add_argument("--rss-slope-kb-h", type=int, default=2048)
    args = p.parse_args()
    sys.exit(cmd_sample(args) if args.cmd == "sample" else cmd_check(args))


if __name__ == "__main__":
    main()
