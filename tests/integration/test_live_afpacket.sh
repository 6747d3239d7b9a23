#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Live path: tcpa on the DPDK af_packet driver, attached to the server's
# veth in a pair of namespaces, while real Linux TCP runs through it (a
# CLOSE_WAIT leak and clean exchanges). At the end, the endpoint states of
# the report must equal the kernels' own `ss` and the TCP segment count the
# count tcpdump saw on the same interface.
#
# With VXLAN=VNI (test_live_vxlan.sh) the peers talk over a Linux vxlan
# device whose underlay is that veth: tcpa sees only VXLAN, as on a cloud
# traffic mirror, and must report the inner endpoints with their VNI.
set -euo pipefail
: "${TCPA:?}" "${TCPA_SRC:?}"
source "$TCPA_SRC/tests/scenarios/lib.sh"

VXLAN=${VXLAN:-}
scn_init "live_afpacket${VXLAN:+_vxlan}" 8080
topo_up
filter=tcp
if [ -n "$VXLAN" ]; then
    # The overlay: 10.96.0.0/24 and fd96::/64 over the veth's 10.99.0.0/24.
    for x in "$NS_C:1:2" "$NS_S:2:1"; do
        IFS=: read -r ns n peer <<<"$x"
        ip -n "$ns" link add vxl0 type vxlan id "$VXLAN" dstport 4789 \
            local "10.99.0.$n" remote "10.99.0.$peer" dev "$IFNAME"
        ip -n "$ns" addr add "10.96.0.$n/24" dev vxl0
        ip -n "$ns" -6 addr add "fd96::$n/64" dev vxl0 nodad
        ip netns exec "$ns" ethtool -K vxl0 tso off gso off gro off tx off sg off >/dev/null 2>&1 || true
        ip -n "$ns" link set vxl0 up
    done
    SERVER_IP4=10.96.0.2 SERVER_IP6=fd96::2
    filter="udp port 4789"
fi

ip netns exec "$NS_S" tcpdump --immediate-mode -U -n -i "$IFNAME" -w "$WORK/dump.pcap" $filter >"$WORK/tcpdump.log" 2>&1 &
dump_pid=$!
ip netns exec "$NS_S" "$TCPA" -l 0-1 --no-huge -m 512 --no-pci --file-prefix "tcpa-live$$" \
    --vdev "net_af_packet0,iface=$IFNAME" -- --flows_per_core 65536 --endpoints_per_core 1024 \
    --mgmt "$WORK/tcpa.sock" --json >"$WORK/report.json" 2>"$WORK/tcpa.err" &
tcpa_pid=$!
for ((i = 0; i < 100; i++)); do
    grep -q "analyzing" "$WORK/tcpa.err" && break
    kill -0 "$tcpa_pid" 2>/dev/null || { cat "$WORK/tcpa.err"; die "tcpa exited early"; }
    sleep 0.1
done
grep -q "analyzing" "$WORK/tcpa.err" || die "tcpa did not start: $(cat "$WORK/tcpa.err")"
sleep 0.5   # tcpdump too

bg_start SERVER leakysrv "$PY" -u "$PEERS/server.py" --leak --listen "$SERVER_IP4:8080" \
    --listen "[$SERVER_IP6]:8080" --ready "$WORK/server.ready"
wait_file "$WORK/server.ready"
in_ns CLIENT "$PY" -u "$PEERS/client.py" --server4 "$SERVER_IP4" --server6 "$SERVER_IP6" \
    --gap 0.02 leak --count 20 >"$WORK/client.log" 2>&1
for ((i = 0; i < 50; i++)); do
    (($(in_ns SERVER ss -tanH state close-wait | wc -l) >= 20)) && break
    sleep 0.1
done
sleep 0.5
snapshot
sleep 0.5   # let the RX core read the last frames
kill -INT "$tcpa_pid"
wait "$tcpa_pid" || die "tcpa failed: $(cat "$WORK/tcpa.err")"
kill -TERM "$dump_pid"; wait "$dump_pid" || true

"$PY" "$SCN_DIR/ss2json.py" --scenario live --server-ports 8080 -o "$WORK/expect.json" "$WORK/ss.txt"
fail=0
python3 "$TCPA_SRC/tests/integration/check_report.py" --only-endpoints \
    "$WORK/report.json" "$WORK/expect.json" || fail=1
want=$(tshark -r "$WORK/dump.pcap" -Y tcp 2>/dev/null | wc -l)
got=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["tcp_packets"])' \
    "$WORK/report.json")
echo "TCP segments: tcpdump $want, tcpa $got"
[ "$want" -gt 0 ] && [ "$want" = "$got" ] || fail=1
grep -q '"CLOSE_WAIT": 20' "$WORK/report.json" || fail=1
if [ -n "$VXLAN" ]; then
    # Every segment came through VXLAN, and every endpoint says which VNI.
    "$PY" - "$WORK/report.json" "$VXLAN" "$want" <<'PY' || fail=1
import json, sys
r, vni, want = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3])
assert r["capture"]["encap"]["vxlan"] == want, (r["capture"]["encap"], want)
bad = [e["endpoint"] for e in r["endpoints"] if e.get("tunnel") != "vxlan:" + vni]
assert not bad, ("endpoints without their VNI", bad)
assert any(e["endpoint"] == "10.96.0.2:8080" for e in r["endpoints"])
print("VXLAN: %d segments, every endpoint in vxlan:%s" % (want, vni))
PY
fi
if [ $fail -eq 0 ]; then
    echo "$(basename "$0" .sh): 1 passed, 0 failed"
else
    cat "$WORK/report.json" "$WORK/tcpa.err"
    echo "$(basename "$0" .sh): 0 passed, 1 failed"
fi
exit $fail
