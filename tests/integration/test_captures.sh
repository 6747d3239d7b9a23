#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Real Linux TCP captured in network namespaces (tests/scenarios/): every
# endpoint's states at capture end must equal what the kernel's own `ss`
# said at that moment (tests/captures/<name>.expect.json).
. "$(dirname "$0")/lib.sh"

caps="$TCPA_SRC/tests/captures"
n=0
for exp in "$caps"/*.expect.json; do
    [ -e "$exp" ] || continue
    name=$(basename "$exp" .expect.json)
    n=$((n + 1))
    one() {
        tcpa_pcap --pcap "$caps/$1.pcap" --json >"$TMP/$1.json" &&
            $CHECK --only-endpoints "$TMP/$1.json" "$caps/$1.expect.json"
    }
    run "$name: endpoint states equal the kernel's ss" one "$name"
    if grep -q '"anomalies"' "$exp"; then
        run "$name: anomaly counts equal the kernel's and the scenario's" \
            python3 "$TCPA_SRC/tests/integration/check_anomalies.py" "$TMP/$name.json" "$exp"
    fi
done
[ "$n" -gt 0 ] || not_ok "no capture with an expectation found in $caps"

# The packet count must equal what tshark reads from the same file.
count() {
    local want got
    want=$(tshark -r "$caps/close_wait_leak.pcap" -T fields -e frame.number 2>/dev/null | wc -l)
    got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["packets"])' \
        "$TMP/close_wait_leak.json")
    echo "tshark $want, tcpa $got"
    [ "$want" = "$got" ]
}
[ -e "$TMP/close_wait_leak.json" ] && run "close_wait_leak: packet count equals tshark's" count

finish
