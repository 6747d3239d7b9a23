#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Agreement with the oracle: on every real capture and on synthetic captures
# with injected loss, capture loss, duplication and reordering, tcpa's
# per-flag counts (retransmission ... keepalive) must equal tshark's
# tcp.analysis flags on the same file, except for the differences that
# docs/ACCURACY.md lists with their reason.
. "$(dirname "$0")/lib.sh"

acc=$TCPA_SRC/docs/ACCURACY.md
cmp_flags="python3 $TCPA_SRC/tests/integration/compare_flags.py --accuracy $acc"

for cap in "$TCPA_SRC"/tests/captures/*.pcap; do
    name=$(basename "$cap" .pcap)
    one() {
        tcpa_pcap --pcap "$1" --json >"$TMP/$2.json" && $cmp_flags "$TMP/$2.json" "$1"
    }
    run "$name: flags agree with tshark (or ACCURACY.md says why not)" one "$cap" "$name"
done

synthetic() {
    local name=$1
    shift
    "$TCPA_GEN" -o "$TMP/$name.pcap" --truth "$TMP/$name.truth.json" "$@" >/dev/null
    tcpa_pcap --pcap "$TMP/$name.pcap" --json >"$TMP/$name.json"
    $cmp_flags --truth "$TMP/$name.truth.json" "$TMP/$name.json" "$TMP/$name.pcap"
}
run "synthetic loss (fast and RTO recovery)" synthetic loss --conns 200 --resp 20000 --loss 3 --seed 31
run "synthetic go-back-N after RTO: SACKed data resent (spurious by SACK, not to Wireshark)" \
    synthetic gbn --conns 200 --resp 20000 --loss 5 --go-back-n --seed 35
run "synthetic capture loss" synthetic taploss --conns 200 --resp 6000 --tap-loss 3 --seed 32
run "synthetic duplication" synthetic dup --conns 200 --resp 6000 --dup 3 --seed 33
run "synthetic reordering" synthetic reorder --conns 200 --resp 6000 --reorder 3 --seed 34

finish
