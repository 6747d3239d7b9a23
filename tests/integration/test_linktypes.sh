#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every link type and encapsulation tcpa reads (tests/linktypes/): the same
# real Linux exchange captured or wrapped each way must give what its plain
# Ethernet reference gives (endpoints and their states, every anomaly
# count), and the reference what the exchange was (each client closed
# first: TIME_WAIT). Per capture, against tshark on the same file: the TCP
# segment count, the segments counted under each encapsulation the
# manifest names, and the tcp.analysis flags (docs/ACCURACY.md). Tunnel
# identity: endpoints carry it, and two tenants that reuse one 4-tuple in
# two VNIs stay apart unless tunnel_in_key is 0.
. "$(dirname "$0")/lib.sh"

LT=$TCPA_SRC/tests/linktypes
cmp_flags="python3 $TCPA_SRC/tests/integration/compare_flags.py --accuracy $TCPA_SRC/docs/ACCURACY.md"

# report FILE NAME: tcpa's JSON report of FILE into $TMP/NAME.json
report() {
    tcpa_pcap --pcap "$1" --json >"$TMP/$2.json"
}

# The states of every endpoint, the anomaly counts: what must not depend
# on how the segments reached tcpa.
summary() {
    python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
eps = sorted((e["endpoint"], e["role"], sorted(e["states"].items())) for e in r["endpoints"])
print(json.dumps({"endpoints": eps, "anomalies": r["anomalies"]}, sort_keys=True))
PY
}

# The references: one IPv4 and one IPv6 connection (lo_eth: loopback), each
# client closed first and holds TIME_WAIT, nothing anomalous.
reference_truth() {
    report "$LT/$1" ref && python3 - "$TMP/ref.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
clients = {e["endpoint"]: e["states"] for e in r["endpoints"] if e["role"] == "client"}
assert len(clients) == 2 and all(s == {"TIME_WAIT": 1} for s in clients.values()), clients
assert not any(r["anomalies"].values()), r["anomalies"]
assert r["totals"]["flows_seen"] == 2 and r["complete"], r["totals"]
PY
}
for ref in eth.pcap lo_eth.pcap tun_eth.pcap vxlan_real_inner.pcap; do
    run "reference $ref: two connections, clients in TIME_WAIT, no anomaly" reference_truth "$ref"
done

# one CAPTURE REFERENCE OPTS: see the header
one() {
    local cap=$1 ref=$2 opts=$3 name
    name=$(basename "$cap")
    report "$LT/$cap" cap || return 1
    python3 - "$TMP/cap.json" "$LT/$cap" "$opts" <<'PY' || return 1
import json, subprocess, sys
r = json.load(open(sys.argv[1]))
cap, opts = sys.argv[2], dict(w.split("=", 1) for w in sys.argv[3].split())
tcp = subprocess.run(["tshark", "-n", "-r", cap, "-Y", "tcp", "-T", "fields", "-e",
                      "frame.protocols"], capture_output=True, text=True, check=True).stdout.split()
assert r["totals"]["tcp_packets"] == len(tcp), (r["totals"]["tcp_packets"], len(tcp))
# Segments under each encapsulation: tshark's protocol stack of the same frames.
proto = {"vlan": "vlan", "mpls": "mpls", "gre": "gre", "erspan2": "erspan", "erspan3": "erspan",
         "vxlan": "vxlan", "geneve": "geneve", "ipip": None}
want = set(opts.get("encap", "").split(",")) - {""}
for k, n in r["capture"]["encap"].items():
    if k not in want:
        assert n == 0, ("encap", k, n)
    elif proto[k] is not None:
        seen = sum(1 for p in tcp if proto[k] in p.split(":"))
        assert n == seen, ("encap", k, n, seen)
    else:
        assert n == len(tcp), ("encap", k, n, len(tcp))
# Tunnel identity on every endpoint: exact where it fits in the zone.
if "tunnel" in opts:
    kind, ident = opts["tunnel"].split(":")
    for e in r["endpoints"]:
        if "vlan" in opts:
            assert e.get("tunnel") == kind and e.get("zone"), e
        else:
            assert e.get("tunnel") == "%s:%s" % (kind, ident), e
else:
    assert not any("tunnel" in e for e in r["endpoints"]), r["endpoints"]
print(r["totals"]["tcp_packets"], "segments;", {k: v for k, v in r["capture"]["encap"].items() if v})
PY
    $cmp_flags "$TMP/cap.json" "$LT/$cap" >"$TMP/flags.txt" || { cat "$TMP/flags.txt"; return 1; }
    if [ "$ref" = "-" ]; then
        # No reference (BIG TCP/TSO): every byte sent is seen and acknowledged.
        python3 -c "
import json, sys
r = json.load(open('$TMP/cap.json'))
bad = {k: r['anomalies'][k] for k in ('lost_segment', 'ack_unseen', 'retransmission') if r['anomalies'][k]}
mf = {k: v for k, v in r['malformed'].items() if v and k != 'not_tcp'}   # MLD reports are not TCP
assert not bad and not mf, (bad, mf)"
        return
    fi
    local merged=()
    IFS=+ read -r -a merged <<<"$ref"
    local args=()
    for m in "${merged[@]}"; do args+=(--pcap "$LT/$m"); done
    tcpa_pcap "${args[@]}" --json >"$TMP/ref.json" || return 1
    if [[ $opts == *family=* ]]; then
        # The capture holds one family of the reference: compare that family.
        local fam=${opts##*family=}
        fam=${fam%% *}
        python3 - "$TMP/ref.json" "$fam" <<'PY' >"$TMP/ref.f.json"
import json, sys
r = json.load(open(sys.argv[1]))
v6 = sys.argv[2] == "6"
r["endpoints"] = [e for e in r["endpoints"] if (":" in e["endpoint"].rsplit(":", 1)[0]) == v6]
print(json.dumps(r))
PY
        [ "$(summary "$TMP/cap.json")" = "$(summary "$TMP/ref.f.json")" ]
    else
        [ "$(summary "$TMP/cap.json")" = "$(summary "$TMP/ref.json")" ] ||
            { echo "capture:"; summary "$TMP/cap.json"; echo "reference:"; summary "$TMP/ref.json"; return 1; }
    fi
}

while read -r cap ref opts; do
    case $cap in '' | '#'*) continue ;; esac
    run "$cap (reference $ref${opts:+, $opts})" one "$cap" "$ref" "$opts"
done <"$LT/captures.txt"

# Two tenants reuse the same addresses and ports in VNI 1 and VNI 2: the
# CLOSE_WAIT leak (30 connections, kernel-checked) once in each.
tenants() {
    local pt="python3 $TCPA_SRC/tests/integration/pcaptool.py"
    $pt vxlan "$TCPA_SRC/tests/captures/close_wait_leak.pcap" "$TMP/v1.pcap" 1 &&
        $pt vxlan "$TCPA_SRC/tests/captures/close_wait_leak.pcap" "$TMP/v2.pcap" 2 &&
        mergecap -F pcap -w "$TMP/v12.pcap" "$TMP/v1.pcap" "$TMP/v2.pcap" &&
        [ "$(tshark -r "$TMP/v12.pcap" -Y 'vxlan.vni == 2 && tcp' 2>/dev/null | wc -l)" -eq 330 ] &&
        tcpa_pcap --pcap "$TMP/v12.pcap" --json >"$TMP/t.json" &&
        tcpa_pcap --pcap "$TMP/v12.pcap" --json --tunnel-in-key 0 >"$TMP/t0.json" &&
        python3 - "$TMP/t.json" "$TMP/t0.json" <<'PY'
import json, sys
r, r0 = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
eps = {(e["endpoint"], e.get("tunnel")): e for e in r["endpoints"]}
for vni in (1, 2):
    srv = eps[("10.99.0.2:8080", "vxlan:%d" % vni)]
    assert srv["states"] == {"CLOSE_WAIT": 30} and srv["anomalies"]["close_wait_stuck"] == 30, srv
    assert eps[("10.99.0.1", "vxlan:%d" % vni)]["states"] == {"FIN_WAIT_2": 30}
assert r["totals"]["flows_seen"] == 60 and r["anomalies"]["retransmission"] == 0
assert r["capture"]["encap"]["vxlan"] == 660
# Without the identity in the key the tenants' segments mix: 30 connections, each
# segment seen twice.
assert r0["totals"]["flows_seen"] == 30 and r0["anomalies"]["retransmission"] > 0, r0["totals"]
assert not any("tunnel" in e for e in r0["endpoints"])
print("two tenants: 60 connections apart; with tunnel_in_key 0:", r0["totals"]["flows_seen"],
      "connections,", r0["anomalies"]["retransmission"], "false retransmissions")
PY
}
run "two tenants in two VNIs stay apart; tunnel_in_key 0 mixes them" tenants

# VXLAN on another UDP port is read once vxlan_ports names it.
other_port() {
    python3 - "$LT/vxlan.pcap" "$TMP/p8472.pcap" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
i = 24
while i < len(d):
    cl = struct.unpack_from("<I", d, i + 8)[0]
    f = i + 16
    if d[f + 12:f + 14] == b"\x08\x00" and d[f + 23] == 17:    # IPv4/UDP
        u = f + 14 + (d[f + 14] & 15) * 4
        if struct.unpack_from("!H", d, u + 2)[0] == 4789:
            struct.pack_into("!HH", d, u + 2, 8472, 0)          # port, no checksum
    i = f + cl
open(sys.argv[2], "wb").write(d)
PY
    tcpa_pcap --pcap "$TMP/p8472.pcap" --json >"$TMP/a.json" &&
        tcpa_pcap --pcap "$TMP/p8472.pcap" --json --vxlan-ports 8472 >"$TMP/b.json" &&
        python3 - "$TMP/a.json" "$TMP/b.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a["totals"]["tcp_packets"] == 0 and a["malformed"]["not_tcp"] > 0, a["malformed"]
assert b["totals"]["tcp_packets"] == a["malformed"]["not_tcp"] == b["capture"]["encap"]["vxlan"]
PY
}
run "VXLAN on UDP 8472: not_tcp until vxlan_ports names it" other_port

finish
