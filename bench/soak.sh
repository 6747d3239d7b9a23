#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tcpa soak benchmark (not a test): tcpa live, every rule on, for DURATION
# seconds of real Linux TCP at full rate, then four checks:
#   - the mbuf pool is back to its idle baseline once the traffic stops;
#   - every frame is accounted for, exactly (see "Accounting" below);
#   - the report's span of packet time is no longer than tcpa ran;
#   - tcpa's RSS is flat after the first minute (max - min, and slope).
# Figures and findings: docs/RELIABILITY.md, "Soak".
#
#   bench/soak.sh [BUILD_DIR]         (as root; DURATION=120 for a try)
#
# Traffic: two network namespaces joined by a veth pair (offloads off, so
# frames are wire-sized segments), tcpa on the server's veth through DPDK's
# af_packet driver. In the client namespace, for DURATION seconds:
#   - two iperf3 clients of BULK_P parallel connections each, IPv4 at the
#     default MSS and IPv6 at MSS 536 (more frames per byte), each test
#     BULK_ITER seconds long and started again, so bulk connections churn
#     too; a long bulk connection wraps its sequence space in minutes;
#   - CHURN_RATE short connections per second (bench/soak_churn.py), IPv4
#     and IPv6 in turn, ending with the client's FIN, the server's FIN or
#     the client's RST: the flow table fills and empties all along.
# The traffic source (iperf3, the churn peers and the kernel's softirq work
# for them) is pinned to SRC_CPUS (default CPU 0), the CPU tcpa's control
# lcore sleeps on; tcpa's RX core busy-polls CPU 1. Full rate is whatever
# that source reaches on this machine.
#
# Accounting: three equations, each exact at the end (traffic stopped, the
# interface quiet, tcpa's ring drained), all counters since tcpa started:
#   (1) port rx_packets (frames the af_packet driver handed to tcpa)
#         = report totals.packets (frames the RX cores read; stats
#           cores[].packets)
#   (2) totals.packets = totals.tcp_packets + sum(malformed) + ring_full
#       (each frame an RX core reads is analyzed as a TCP segment, or
#        counted by a malformed reason, or counted as dropped on a full
#        dispatch ring)
#   (3) frames the interface carried (kernel rx_packets + tx_packets +
#       tx_dropped: the af_packet socket gets both directions, and taps a
#       frame to send before the driver may drop it)
#         = port rx_packets + rx_missed + rx_nombuf
#       (what never reached the port must be counted as missed)
#
# Every INTERVAL seconds the sampler (bench/soak_stats.py) records through
# `tcpactl --json stats` / `report`, /proc/PID/status, the DPDK heap (EAL
# telemetry), the RX thread's CPU time and the interface's /sys counters; the CSV, tcpa's JSON report, its stderr and a
# markdown summary go to bench/out/soak-DATE/. Exit status 1 when a check
# fails, 2 when the soak could not run.
#
# Environment: DURATION (1800), INTERVAL (10), BULK_P (16), BULK_ITER (60),
# CHURN_RATE (200), AFP_FRAMES (af_packet ring frames, 32768), SRC_CPUS (0),
# RSS_TOL_KB (4096), RSS_SLOPE_KB_H (2048).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=${1:-build}
DURATION=${DURATION:-1800}
INTERVAL=${INTERVAL:-10}
BULK_P=${BULK_P:-16}
BULK_ITER=${BULK_ITER:-60}
CHURN_RATE=${CHURN_RATE:-200}
AFP_FRAMES=${AFP_FRAMES:-32768}
SRC_CPUS=${SRC_CPUS:-0}
RSS_TOL_KB=${RSS_TOL_KB:-4096}
RSS_SLOPE_KB_H=${RSS_SLOPE_KB_H:-2048}
TCPA=$BUILD/app/tcpa/tcpa
TCPACTL=$BUILD/app/tcpactl/tcpactl

die() { echo "soak: $*" >&2; exit 2; }
log() { echo "[soak $(date +%T)] $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces)"
[[ -x $TCPA && -x $TCPACTL ]] || die "build first: meson setup $BUILD --buildtype=release && ninja -C $BUILD"
for t in ip ethtool iperf3 python3 taskset; do
    command -v "$t" >/dev/null || die "missing $t (Debian: apt-get install iproute2 ethtool iperf3 python3 util-linux)"
done
((DURATION >= 30)) || die "DURATION must be at least 30 s"
PY=$(command -v python3)

STAMP=$(date +%Y%m%d-%H%M%S)
OUT=$SRC/bench/out/soak-$STAMP
mkdir -p "$OUT"
TMPD=$(mktemp -d /tmp/tcpa-soak.XXXXXX)
SOCK=$TMPD/tcpa.sock
NS_C=tcpa-soak$$-c
NS_S=tcpa-soak$$-s
IFNAME=eth0
C4=10.97.0.1 S4=10.97.0.2 C6=fd97::1 S6=fd97::2
PREFIX=tcpa-soak$$
TCPA_PID='' SAMPLER_PID=''
BG_PIDS=()

# ---- clean-up: only what this script started ----
kill_pid() {
    local pid=$1 sig=${2:-TERM} i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    local rc=$? pid ns
    set +e
    trap - EXIT INT TERM
    [[ -n $SAMPLER_PID ]] && kill_pid "$SAMPLER_PID"
    [[ -n $TCPA_PID ]] && kill_pid "$TCPA_PID" INT
    for pid in "${BG_PIDS[@]}"; do kill_pid "$pid"; done
    for ns in "$NS_C" "$NS_S"; do
        ip netns list 2>/dev/null | grep -qw -- "$ns" || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill_pid "$pid" KILL; done
        ip netns del "$ns" 2>/dev/null
    done
    [[ -d /var/run/dpdk/$PREFIX ]] && rm -rf "/var/run/dpdk/$PREFIX"
    rm -rf "$TMPD"
    ((rc == 0 || rc == 1)) || log "stopped (exit $rc); logs in $OUT"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- topology ----
ifc() { ip netns exec "$NS_S" cat "/sys/class/net/$IFNAME/statistics/$1"; }
ifpair() { echo "$(ifc rx_packets) $(ifc tx_packets) $(ifc tx_dropped)"; }
# wait until the interface carried nothing for 3 s (at most $1 s)
quiet() {
    local last now i
    last=$(ifpair)
    for ((i = 0; i < $1; i++)); do
        sleep 3
        now=$(ifpair)
        [[ $now == "$last" ]] && return 0
        last=$now
    done
    log "interface still busy after $1 rounds: $now"
}

ip netns add "$NS_C"
ip netns add "$NS_S"
ip link add "sk$$c" netns "$NS_C" type veth peer name "sk$$s" netns "$NS_S"
ip -n "$NS_C" link set "sk$$c" name "$IFNAME"
ip -n "$NS_S" link set "sk$$s" name "$IFNAME"
for ns in "$NS_C" "$NS_S"; do
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
        net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0
    ip netns exec "$ns" ethtool -K "$IFNAME" tso off gso off gro off tx off rx off sg off >/dev/null 2>&1 ||
        ip netns exec "$ns" ethtool -K "$IFNAME" tso off gso off gro off tx off sg off >/dev/null
done
ip -n "$NS_C" addr add "$C4/24" dev "$IFNAME"
ip -n "$NS_S" addr add "$S4/24" dev "$IFNAME"
ip -n "$NS_C" -6 addr add "$C6/64" dev "$IFNAME" nodad
ip -n "$NS_S" -6 addr add "$S6/64" dev "$IFNAME" nodad
ip -n "$NS_C" link set "$IFNAME" up
ip -n "$NS_S" link set "$IFNAME" up
sleep 1
ip -n "$NS_S" link show "$IFNAME" | grep -q 'state UP' || die "veth did not come up"
quiet 20   # link-local DAD and MLD reports done

# ---- tcpa ----
T0=$(date +%s.%N)
read -r RX0 TX0 TXD0 < <(ifpair)
echo idle >"$TMPD/phase"
ip netns exec "$NS_S" "$TCPA" -l 0-1 --no-pci --file-prefix "$PREFIX" --log-level='*:warning' \
    --vdev "net_af_packet0,iface=$IFNAME,framecnt=$AFP_FRAMES" -- \
    --config '' --mgmt "$SOCK" --stats --json >"$OUT/report.json" 2>"$OUT/tcpa.err" &
TCPA_PID=$!
for ((i = 0; i < 200; i++)); do
    grep -q analyzing "$OUT/tcpa.err" 2>/dev/null && [[ -S $SOCK ]] && break
    kill -0 "$TCPA_PID" 2>/dev/null || die "tcpa exited: $(cat "$OUT/tcpa.err")"
    sleep 0.1
done
grep -q analyzing "$OUT/tcpa.err" || die "tcpa did not start: $(cat "$OUT/tcpa.err")"
log "tcpa $TCPA_PID live on $NS_S/$IFNAME; out: $OUT"
"$TCPACTL" -s "$SOCK" --json config >"$OUT/config.json"
sleep 3
# the sampler runs beside the traffic source, off tcpa's RX core
sampler() {
    taskset -c "$SRC_CPUS" ip netns exec "$NS_S" "$PY" "$SRC/bench/soak_stats.py" sample \
        --csv "$OUT/samples.csv" --pid "$TCPA_PID" --sock "$SOCK" --iface "$IFNAME" \
        --tcpactl "$TCPACTL" --telemetry "/var/run/dpdk/$PREFIX/dpdk_telemetry.v2" --t0 "$T0" "$@"
}
sampler --once baseline

# ---- traffic ----
SRCX=(taskset -c "$SRC_CPUS")
in_c() { "${SRCX[@]}" ip netns exec "$NS_C" "$@"; }
in_s() { "${SRCX[@]}" ip netns exec "$NS_S" "$@"; }
in_s iperf3 -s -i 0 -B "$S4" -p 5201 >"$OUT/iperf3-server4.log" 2>&1 &
BG_PIDS+=($!)
in_s iperf3 -s -i 0 -B "$S6" -p 5202 >"$OUT/iperf3-server6.log" 2>&1 &
BG_PIDS+=($!)
in_s "$PY" -u "$SRC/bench/soak_churn.py" server --listen "$S4:8080" --listen "[$S6]:8080" \
    --ready "$TMPD/churn.ready" >"$OUT/churn-server.log" 2>&1 &
BG_PIDS+=($!)
for ((i = 0; i < 100; i++)); do [[ -e $TMPD/churn.ready ]] && break; sleep 0.1; done
[[ -e $TMPD/churn.ready ]] || die "churn server did not start"
sleep 1   # iperf3 servers listening

echo traffic >"$TMPD/phase"
sampler --interval "$INTERVAL" --phase-file "$TMPD/phase" --stop-file "$TMPD/stop" \
    2>"$OUT/sampler.err" &
SAMPLER_PID=$!
T1=$(date +%s.%N)
END=$(($(date +%s) + DURATION))
# bulk NAME IPERF3-ARGS...: back-to-back iperf3 tests until END
bulk() {
    local name=$1 left t n=0
    shift
    while :; do
        left=$((END - $(date +%s)))
        t=$((left < BULK_ITER ? left : BULK_ITER))
        ((t >= 2)) || break
        in_c iperf3 "$@" -i 0 -P "$BULK_P" -t "$t" >>"$OUT/iperf3-$name.log" 2>&1 ||
            { echo "iperf3 $name test $n failed" >>"$OUT/iperf3-$name.log"; sleep 1; }
        n=$((n + 1))
    done
}
bulk v4 -c "$S4" -p 5201 &
BG_PIDS+=($!)
bulk v6 -6 -c "$S6" -p 5202 -M 536 &
BG_PIDS+=($!)
in_c "$PY" -u "$SRC/bench/soak_churn.py" client --connect "$S4:8080" --connect "[$S6]:8080" \
    --rate "$CHURN_RATE" --seconds "$DURATION" >"$OUT/churn-client.log" 2>&1 &
churn=$!
BG_PIDS+=("$churn")
log "traffic for $DURATION s: 2 x $BULK_P iperf3 connections (${BULK_ITER} s tests), $CHURN_RATE short connections/s"
wait "${BG_PIDS[@]:3}" || log "a traffic source failed (see $OUT/*.log)"
T2=$(date +%s.%N)

# ---- drain and stop ----
echo drain >"$TMPD/phase"
for pid in "${BG_PIDS[@]:0:3}"; do kill_pid "$pid"; done
BG_PIDS=()
log "traffic done; waiting for the interface to go quiet"
quiet 40
touch "$TMPD/stop"
wait "$SAMPLER_PID" || true
SAMPLER_PID=''
sampler --once final
read -r RXF TXF TXDF < <(ifpair)
kill -INT "$TCPA_PID"
wait "$TCPA_PID" || die "tcpa failed: $(tail -5 "$OUT/tcpa.err")"
TCPA_PID=''
read -r RXE TXE TXDE < <(ifpair)
[[ "$RXF $TXF $TXDF" == "$RXE $TXE $TXDE" ]] || log "frames arrived between the last sample and tcpa's exit"

# what limited the rate: tcpa's own work on its RX core, from --stats
busy=$("$PY" - "$OUT/tcpa.err" "$T1" "$T2" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
hz = re.search(r"^tsc_hz (\d+)$", t, re.M)
cores = re.findall(r"rx (\d+) frames, analyzed (\d+) segments, ([0-9.]+) cycles/packet busy", t)
if hz and cores:
    secs = float(sys.argv[3]) - float(sys.argv[2])
    cyc = sum(max(int(a), int(b)) * float(c) for a, b, c in cores)
    per = sum(float(c) for _, _, c in cores) / len(cores)
    print(f"tcpa's own work (parse, state machine, rules; the driver's rx_burst excluded) "
          f"was {100 * cyc / (int(hz.group(1)) * secs):.0f}% of the traffic's wall time, "
          f"{per:.0f} cycles/packet")
PY
)
"$PY" - "$OUT/meta.json" <<PY
import json, sys
json.dump({
    "date": "$(date -u +%F)", "cpu_model": "$(lscpu | sed -n 's/^Model name: *//p')",
    "ncpu": $(nproc), "kernel": "$(uname -r)",
    "dpdk": "$(pkg-config --modversion libdpdk 2>/dev/null || echo '?')",
    "commit": "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- app lib include 2>/dev/null || echo '+dirty')",
    "traffic": "2 x $BULK_P iperf3 connections in ${BULK_ITER} s tests (IPv4 MSS 1448, IPv6 MSS 536) + $CHURN_RATE short connections/s, source on CPU $SRC_CPUS",
    "interval": $INTERVAL, "framecnt": $AFP_FRAMES,
    "if_rx0": $RX0, "if_tx0": $TX0, "if_txd0": $TXD0, "if_after_exit": [$RXE, $TXE, $TXDE],
    "t_traffic0": $T1 - $T0, "t_traffic1": $T2 - $T0,
    "busy": """$busy""",
}, open(sys.argv[1], "w"), indent=1)
PY
rc=0
"$PY" "$SRC/bench/soak_stats.py" check --csv "$OUT/samples.csv" --report "$OUT/report.json" \
    --meta "$OUT/meta.json" --md "$OUT/summary.md" --rss-tol-kb "$RSS_TOL_KB" \
    --rss-slope-kb-h "$RSS_SLOPE_KB_H" || rc=$?
log "samples: $OUT/samples.csv; summary: $OUT/summary.md"
exit "$rc"
