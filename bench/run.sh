#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tcpa benchmark (not a test): Mpps per RX core and cycles per packet at 1k,
# 100k and 1M concurrent connections, and the same capture through tshark
# and Suricata in the same run, as a ratio.
#
#   bench/run.sh [BUILD_DIR]        (as root; results also in bench/out/results.md)
#
# Three measurements per connection count:
#  - dataplane: the real tcpa binary, one RX core, replaying the capture from
#    memory with the pcap driver's infinite_rx=1 for DURATION seconds.
#    "end-to-end" counts everything the RX core does, the pcap driver's
#    copy of each frame into a fresh mbuf included; "busy" counts tcpa's own
#    work per packet (parse, dispatch, state machine, counts, mbuf free).
#  - engine: bench_engine, the same per-core work on frames in memory,
#    without any driver, state tracking only and with every anomaly rule.
#    The dataplane runs with --rules 0: a capture replayed in a loop repeats
#    old sequence numbers, which the rules would (rightly) flag as a storm
#    of retransmissions; bench_engine replays as a continuing stream instead.
#  - driver alone: the same replay with --rx-only (receive and free), the
#    cost the harness itself puts on the RX core.
#  - tshark -r and suricata -r on the 100k capture: packets / wall second.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=bench/out
DURATION=${DURATION:-10}
ENGINE_REPS=${ENGINE_REPS:-7}
TCPA=$BUILD/app/tcpa/tcpa
GEN=$BUILD/tools/gen/tcpa-gen
ENGINE=$BUILD/bench/bench_engine
mkdir -p "$OUT"
[ -x "$TCPA" ] && [ -x "$GEN" ] && [ -x "$ENGINE" ] || { echo "build first: make build" >&2; exit 1; }

# Hugepages: the flow tables are random-access; 4 KiB pages would add a TLB
# miss to most packets. Reserve 2 MiB pages if we may, else run without.
huge=(--no-huge -m 6000)
if [ "$(id -u)" -eq 0 ]; then
    want=3072
    have=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)
    [ "$have" -ge "$want" ] || echo "$want" >/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
    mountpoint -q /dev/hugepages || { mkdir -p /dev/hugepages; mount -t hugetlbfs nodev /dev/hugepages; }
    free=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
    [ "$free" -ge 2500 ] && huge=(--huge-dir /dev/hugepages --huge-unlink -m 5000)
fi

hz=""
results=()
row() { results+=("$*"); echo "$*"; }

for conns in 1000 100000 1000000; do
    case $conns in
    1000000) pkts=5000000 flows=1310720 ;;
    *) pkts=2000000 flows=262144 ;;
    esac
    cap=$OUT/bench_$conns.pcap
    [ -e "$OUT/bench_$conns.0.pcap" ] ||
        "$GEN" -o "$cap" --bench --concurrent "$conns" --packets "$pkts" --split 1 --hash-seed 7 >/dev/null
    cap=$OUT/bench_$conns.0.pcap

    # Three runs of each, the median reported: this VM's timing noise is
    # about +-10% from run to run.
    for rep in 1 2 3; do
        "$TCPA" -l 0-1 "${huge[@]}" --no-pci --file-prefix "tcpa-bench$$" --log-level='*:warning' \
            --vdev "net_pcap0,rx_pcap=$cap,infinite_rx=1" -- --duration "$DURATION" --stats \
            --flows_per_core "$flows" --hash-seed 7 --mbufs $((pkts + 65536)) --mbuf-size 512 \
            --rules 0 --json >"$OUT/report_${conns}_$rep.json" 2>"$OUT/stats_${conns}_$rep.txt"
    done
    # The rules' cost is a difference of two noisy figures: more runs,
    # interleaved, so that a slow spell of the VM hits both alike.
    for rep in $(seq "$ENGINE_REPS"); do
        "$ENGINE" "$cap" --seconds 3 --flows "$flows" --no-rules >"$OUT/engine_${conns}_$rep.txt"
        "$ENGINE" "$cap" --seconds 3 --flows "$flows" >"$OUT/rules_${conns}_$rep.txt"
    done
    # The driver alone: receive and free, no analysis.
    "$TCPA" -l 0-1 "${huge[@]}" --no-pci --file-prefix "tcpa-bench$$" --log-level='*:warning' \
        --vdev "net_pcap0,rx_pcap=$cap,infinite_rx=1" -- --duration "$DURATION" --rx-only \
        --flows_per_core 65536 --mbufs $((pkts + 65536)) --mbuf-size 512 --json \
        >"$OUT/rxonly_$conns.json" 2>/dev/null
    drv_mpps=$(python3 - "$OUT/rxonly_$conns.json" "$DURATION" <<'PY'
import json, sys
n = json.load(open(sys.argv[1]))["totals"]["packets"]
print(f"{n / float(sys.argv[2]) / 1e6:.1f}")
PY
)
    hz=$(sed -n 's/^tsc_hz \([0-9]*\)$/\1/p' "$OUT/stats_${conns}_1.txt")
    read -r e2e_mpps e2e_cyc busy eng_mpps eng_cyc rul_cyc < <(python3 - "$OUT" "$conns" "$hz" "$ENGINE_REPS" <<'PY'
import json, re, statistics, sys
out, conns, hz, reps = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
e2e, busy, eng, engc, rul = [], [], [], [], []
for rep in range(1, reps + 1):
    rul.append(float(re.search(r"Mpps, ([0-9.]+) cycles", open(f"{out}/rules_{conns}_{rep}.txt").read()).group(1)))
    m = re.search(r": ([0-9.]+) Mpps, ([0-9.]+) cycles", open(f"{out}/engine_{conns}_{rep}.txt").read())
    eng.append(float(m.group(1)))
    engc.append(float(m.group(2)))
for rep in (1, 2, 3):
    t = json.load(open(f"{out}/report_{conns}_{rep}.json"))["totals"]
    e2e.append(t["packets"] / t["duration_s"] / 1e6)
    busy.append(float(re.search(r"([0-9.]+) cycles/packet busy",
                                open(f"{out}/stats_{conns}_{rep}.txt").read()).group(1)))
m = statistics.median(e2e)
print(f"{m:.2f} {hz / (m * 1e6):.0f} {statistics.median(busy):.0f} "
      f"{statistics.median(eng):.2f} {statistics.median(engc):.0f} {statistics.median(rul):.0f}")
PY
)
    rul_pct=$(python3 -c "print(f'{($rul_cyc / $eng_cyc - 1) * 100:+.0f}%')")
    row "| $conns | $pkts | $e2e_mpps | $e2e_cyc | $busy | $drv_mpps | $eng_mpps | $eng_cyc | $rul_cyc ($rul_pct) |"
done

# The oracles on the 100k capture, same file, same machine, same run.
cap=$OUT/bench_100000.0.pcap
n=2000000
t0=$(date +%s.%N)
tshark -r "$cap" -q -z io,stat,0 >/dev/null 2>&1
t1=$(date +%s.%N)
tshark_mpps=$(python3 -c "print(f'{$n / ($t1 - $t0) / 1e6:.3f}')")
suri_mpps=n/a
if command -v suricata >/dev/null; then
    rm -rf "$OUT/suricata" && mkdir -p "$OUT/suricata"
    t0=$(date +%s.%N)
    suricata -r "$cap" -k none --runmode single -l "$OUT/suricata" >/dev/null 2>&1 || true
    t1=$(date +%s.%N)
    suri_mpps=$(python3 -c "print(f'{$n / ($t1 - $t0) / 1e6:.3f}')")
fi
# The rules' cost in instructions, which do not depend on the VM's noise:
# callgrind on bench_engine over a 10k-connection capture, 1 and 4 passes,
# so that loading the capture and zeroing the table cancel out.
# valgrind cannot run AVX-512 code: count on a -Dcpu=generic build (AVX2 at
# most, picked at run time), made beside BUILD when BUILD is a native one.
instr=()
CG_ENGINE=$ENGINE
if meson introspect --buildoptions "$BUILD" 2>/dev/null |
        python3 -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(sys.stdin)}; sys.exit(o.get("cpu") != "native")'; then
    [ -f build-generic/build.ninja ] ||
        meson setup build-generic -Ddpdk=disabled -Dcpu=generic --buildtype=release >/dev/null
    ninja -C build-generic bench/bench_engine >/dev/null
    CG_ENGINE=build-generic/bench/bench_engine
fi
if command -v valgrind >/dev/null; then
    cap10k=$OUT/bench_10000.0.pcap
    [ -e "$cap10k" ] ||
        "$GEN" -o "$OUT/bench_10000.pcap" --bench --concurrent 10000 --packets 300000 --split 1 --hash-seed 7 >/dev/null
    for mode in rules none; do
        arg=(); [ "$mode" = none ] && arg=(--no-rules)
        for loops in 1 4; do
            valgrind --tool=callgrind --callgrind-out-file=/dev/null "$CG_ENGINE" "$cap10k" --flows 65536 \
                --loops "$loops" "${arg[@]}" >"$OUT/cg_${mode}_$loops.txt" 2>&1
        done
    done
    instr=($(python3 - "$OUT" <<'PY'
import re, sys
out = sys.argv[1]
def run(mode, loops):
    t = open(f"{out}/cg_{mode}_{loops}.txt").read()
    ir = int(re.search(r"refs:\s+([0-9,]+)", t).group(1).replace(",", ""))
    seg = int(re.search(r"([0-9]+) segments in", t).group(1))
    return ir, seg
r = {m: [run(m, 1), run(m, 4)] for m in ("rules", "none")}
per = {m: (r[m][1][0] - r[m][0][0]) / (r[m][1][1] - r[m][0][1]) for m in r}
print(f"{per['none']:.0f} {per['rules']:.0f} {(per['rules'] / per['none'] - 1) * 100:+.1f}%")
PY
))
fi

tcpa100k=$(sed -n 's/^| 100000 | [0-9]* | \([0-9.]*\) |.*/\1/p' <(printf '%s\n' "${results[@]}"))

{
    echo "# tcpa benchmark $(date -u +%F)"
    echo
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, TSC ${hz:-?} Hz," \
        "kernel $(uname -r), DPDK $(pkg-config --modversion libdpdk), pages: ${huge[*]}"
    echo
    echo "| connections | capture packets | end-to-end Mpps / RX core | end-to-end cycles/pkt | tcpa busy cycles/pkt | pcap driver alone Mpps | engine-only Mpps | engine-only cycles/pkt | engine with all rules, cycles/pkt |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${results[@]}"
    echo
    echo "Same 100k-connection capture ($n packets):"
    echo
    echo "| tool | Mpps | tcpa end-to-end (one RX core) / tool |"
    echo "|---|---:|---:|"
    echo "| tcpa | $tcpa100k | 1 |"
    echo "| tshark -r (TCP analysis on) | $tshark_mpps | $(python3 -c "print(f'{$tcpa100k / $tshark_mpps:.0f}')") |"
    if [ "$suri_mpps" != n/a ]; then
        echo "| suricata -r --runmode single | $suri_mpps | $(python3 -c "print(f'{$tcpa100k / $suri_mpps:.0f}')") |"
    fi
    if [ ${#instr[@]} -eq 3 ]; then
        echo
        echo "Instructions per segment (callgrind, bench_engine, 10k connections, passes 2-4):" \
            "state tracking ${instr[0]}, with every rule ${instr[1]} (${instr[2]})."
    fi
} | tee "$OUT/results.md"
