#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Floods cannot blind tcpa: 2,000,000 SYNs from random spoofed sources to
# one server, then a real CLOSE_WAIT leak (tests/captures/close_wait_leak,
# a kernel-checked capture: 30 connections stuck, ss says so). The leak's
# endpoints must still appear with their exact states and diagnosis, with
# the default endpoint table (65,536 per core: the flood's sources give
# way) and with a flow table of 100,000 per core (embryonic flows evicted
# first, the leak's connections kept, memory bounded by the tables).
# The flood is read from standard input, merged by time with the file.
. "$(dirname "$0")/lib.sh"

LEAK=$TCPA_SRC/tests/captures/close_wait_leak.pcap
t0=$(tshark -r "$LEAK" -c1 -T fields -e frame.time_epoch 2>/dev/null)

# flood ARGS...: run tcpa on the flood + leak; report in $TMP/r.json, peak RSS (KiB) in $TMP/rss
flood() {
    python3 - "$TCPA_SRC/tests/integration/synflood.py" "$t0" "$LEAK" "$TMP" "$TCPA" "$@" <<'PY'
import resource, subprocess, sys
gen, t0, leak, tmp, tcpa = sys.argv[1:6]
extra = sys.argv[6:]
g = subprocess.Popen(["python3", gen, "2000000", "10.99.0.9", "80", str(float(t0) - 1), "20"],
                     stdout=subprocess.PIPE)
with open(tmp + "/r.json", "wb") as out:
    rc = subprocess.call([tcpa, "--pcap", "-", "--pcap", leak, "--json", "--config", ""] + extra,
                         stdin=g.stdout, stdout=out)
g.stdout.close()
g.wait()
# The generator's peak is small; tcpa's dominates RUSAGE_CHILDREN's maximum.
open(tmp + "/rss", "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(rc)
PY
}

check_leak() {
    python3 - "$TMP/r.json" "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
eps = {e["endpoint"]: e for e in r["endpoints"]}
srv, cli = eps.get("10.99.0.2:8080"), eps.get("10.99.0.1")
assert srv and cli, "the leak's endpoints are missing"
assert srv["states"] == {"CLOSE_WAIT": 30}, srv["states"]
assert cli["states"] == {"FIN_WAIT_2": 30}, cli["states"]
assert any("30 connections stuck in CLOSE_WAIT" in d for d in srv["diagnosis"]), srv["diagnosis"]
assert srv["anomalies"].get("close_wait_stuck") == 30, srv["anomalies"]
assert eps["10.99.0.9:80"]["anomalies"].get("syn_unanswered", 0) > 0
assert r["totals"]["tcp_packets"] == 2000330, r["totals"]
assert r["complete"] is True
print({k: r["capture"][k] for k in ("ep_evicted", "ep_full", "flow_evicted")})
for cond in sys.argv[2:]:
    assert eval(cond, {}, r["capture"]), cond
PY
}

default_tables() {
    flood && check_leak "ep_evicted > 1000000"
}
run "2M SYNs, default endpoint table: the leak still reported exactly" default_tables

small_flow_table() {
    # Two RX cores' tables: 100,000 flows and 65,536 endpoints each, about
    # 55 MiB per core; the flood's 2M flows alone would need 400 MiB.
    # AddressSanitizer's shadow and quarantine add their own (x1.5).
    local limit=$((256 * 1024))
    [ -z "${ASAN_OPTIONS:-}" ] || limit=$((limit * 3 / 2))
    flood --flows_per_core 100000 && check_leak "flow_evicted > 1000000" &&
        echo "peak RSS $(($(cat "$TMP/rss") / 1024)) MiB" &&
        [ "$(cat "$TMP/rss")" -lt "$limit" ]
}
run "2M SYNs, 100,000 flows per core: embryonic flows evicted, leak kept, RSS bounded" \
    small_flow_table

finish
