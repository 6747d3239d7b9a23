#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Synthetic captures with known ground truth (tcpa-gen): every endpoint's
# states at capture end, totals, malformed counts, for many traffic shapes,
# on one and on several RX cores, from one and from several files.
. "$(dirname "$0")/lib.sh"

gen_check() {
    local name=$1
    shift
    "$TCPA_GEN" -o "$TMP/$name.pcap" --truth "$TMP/$name.truth.json" "$@" >/dev/null
    tcpa_pcap --pcap "$TMP/$name.pcap" --json >"$TMP/$name.report.json"
    $CHECK "$TMP/$name.report.json" "$TMP/$name.truth.json"
}

run "default mix, 500 connections" gen_check mix --conns 500 --concurrent 100 --seed 3
run "every fate" gen_check fates --conns 400 --concurrent 400 --seed 4 \
    --mix fin_client=1,fin_server=1,leak=1,open=1,rst=1,refused=1,unanswered=1,half_open=1
run "CLOSE_WAIT leak only" gen_check leak --conns 300 --mix leak=1 --seed 5
run "midstream pickup" gen_check mid --conns 50 --midstream 80 --seed 6
run "IPv6 half the traffic" gen_check v6 --conns 300 --ipv6 50 --seed 7
run "802.1Q tagged" gen_check vlan --conns 200 --vlan 42 --seed 8
run "802.1ad QinQ" gen_check qinq --conns 200 --qinq 100:200 --seed 9
run "malformed frames counted by reason" gen_check bad --conns 100 --malformed 70 --seed 10

# Several RX cores: the single pcap queue is spread by the software hash.
multi() {
    "$TCPA_GEN" -o "$TMP/m.pcap" --truth "$TMP/m.truth.json" --conns 2000 --concurrent 500 \
        --ipv6 20 --seed 11 >/dev/null
    "$TCPA" --lcores=0@0,1@1,2@1,3@0 -- --pcap "$TMP/m.pcap" --json \
        --flows_per_core 65536 --endpoints_per_core 4096 >"$TMP/m.report.json"
    $CHECK "$TMP/m.report.json" "$TMP/m.truth.json" &&
    python3 - "$TMP/m.report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cores = r["totals"]["cores"]
assert len(cores) == 3, cores
assert sum(cores) == r["totals"]["tcp_packets"], cores
assert min(cores) > 0.2 * sum(cores), f"uneven spread {cores}"
assert r["capture"]["wrong_core"] == 0
print("cores", cores)
PY
}
run "three RX cores: same truth, spread, no wrong_core" multi

# Several files are one capture: split one capture in two by connection.
two_files() {
    "$TCPA_GEN" -o "$TMP/s.pcap" --truth "$TMP/s.truth.json" --conns 600 --seed 12 \
        --split 2 --hash-seed 99 >/dev/null
    tcpa_pcap --pcap "$TMP/s.0.pcap" --pcap "$TMP/s.1.pcap" --json >"$TMP/s.report.json"
    $CHECK "$TMP/s.report.json" "$TMP/s.truth.json"
}
run "two --pcap files analyzed as one capture" two_files

finish
