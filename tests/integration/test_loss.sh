#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Loss is visible, live on af_packet: frames are replayed onto a veth pair
# faster than tcpa can read them (tcpreplay --topspeed of a 1,000,000-frame
# capture), so the kernel drops some before tcpa sees them. Every frame the
# receiving interface carried must be accounted for: its kernel count
# (rx_packets + tx_packets, what the af_packet socket sees) equals tcpa's
# stats ports[].rx_packets + rx_missed within 0.1% once the port is quiet.
# Also: live packet time is the wall clock (the event log's timestamps are
# within a minute of date(1)), and the report says whether tcpa's own
# estimate of capture loss saw anything.
set -euo pipefail
: "${TCPA:?}" "${TCPA_SRC:?}" "${TCPA_GEN:?}" "${TCPACTL:?}"
source "$TCPA_SRC/tests/scenarios/lib.sh"

command -v tcpreplay >/dev/null || die "tcpreplay not installed (deploy/install-deps.sh)"
scn_init loss 8080
topo_up

"$TCPA_GEN" -o "$WORK/bench.pcap" --bench --concurrent 10000 --packets 1000000 --split 1 \
    --hash-seed 7 >/dev/null
cap=$WORK/bench.0.pcap
sock=$WORK/tcpa.sock
kcount() { echo $(($(ip netns exec "$NS_S" cat /sys/class/net/$IFNAME/statistics/rx_packets) + \
    $(ip netns exec "$NS_S" cat /sys/class/net/$IFNAME/statistics/tx_packets))); }

k0=$(kcount)
ip netns exec "$NS_S" "$TCPA" -l 0-1 --no-huge -m 512 --no-pci --file-prefix "tcpa-loss$$" \
    --vdev "net_af_packet0,iface=$IFNAME" -- --flows_per_core 65536 --endpoints_per_core 4096 \
    --mgmt "$sock" --event-log "$WORK/events.ndjson" --event-rate 20 --config "" \
    --json >"$WORK/report.json" 2>"$WORK/tcpa.err" &
tcpa_pid=$!
for ((i = 0; i < 300; i++)); do
    grep -q "analyzing" "$WORK/tcpa.err" && break
    kill -0 "$tcpa_pid" 2>/dev/null || die "tcpa exited early: $(cat "$WORK/tcpa.err")"
    sleep 0.1
done
in_ns CLIENT tcpreplay --topspeed -i "$IFNAME" "$cap" >"$WORK/replay.log" 2>&1 ||
    die "tcpreplay failed: $(cat "$WORK/replay.log")"
sleep 2         # quiet: the RX core reads what is left in the ring
k1=$(kcount)
"$TCPACTL" -s "$sock" --json stats >"$WORK/stats.json"
now=$(date +%s)
kill -INT "$tcpa_pid"
wait "$tcpa_pid" || die "tcpa failed: $(cat "$WORK/tcpa.err")"

python3 - "$WORK/stats.json" "$((k1 - k0))" "$now" "$WORK/events.ndjson" <<'PY'
import json, sys
st = json.load(open(sys.argv[1]))
kernel, now = int(sys.argv[2]), float(sys.argv[3])
p = st["ports"][0]
seen = p["rx_packets"] + p["rx_missed"]
print(f"kernel carried {kernel}, tcpa read {p['rx_packets']}, missed {p['rx_missed']}"
      f" ({100.0 * p['rx_missed'] / max(kernel, 1):.1f}%), sum {seen}")
assert kernel > 900000, kernel
assert abs(seen - kernel) <= kernel / 1000, (seen, kernel)
times = [json.loads(l).get("time") for l in open(sys.argv[4])]
times = [t for t in times if t is not None]
assert times, "no event logged"
assert all(abs(t - now) < 60 for t in times), (min(times), max(times), now)
print(f"{len(times)} event lines, times within {max(abs(t - now) for t in times):.1f} s of date(1)")
PY
echo "test_loss: 1 passed, 0 failed"
