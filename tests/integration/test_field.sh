#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# What a field deployment meets, on real Linux captures whose frames are
# left untouched (tests/integration/pcaptool.py changes only timestamps,
# order, presence or container):
#  - the clock: one segment dated a year ahead (or behind) does not expire
#    a real CLOSE_WAIT leak; timestamps past 2^31 and 2^32 - 1 s, in
#    microsecond and nanosecond pcaps, are read right;
#  - a pcapng of 126 interfaces of two link types and different snap
#    lengths;
#  - capture loss estimated from ACKs of data never seen, against the
#    same estimate made from tshark's analysis of the file;
#  - exits: usage, unknown option, a prefix another tcpa holds, SIGUSR1,
#    standard input; and nothing left behind in /var/run/dpdk or $TMPDIR.
# Truth: the kernel's ss at capture time (tests/captures/*.expect.json),
# tshark on the same files, and the edits made.
. "$(dirname "$0")/lib.sh"

CAPS=$TCPA_SRC/tests/captures
LEAK=$CAPS/close_wait_leak.pcap
PT="python3 $TCPA_SRC/tests/integration/pcaptool.py"
export TMPDIR=$TMP/tmpdir      # tcpa must leave nothing here
mkdir -p "$TMPDIR"

# leak_exact REPORT [EXPECT]: the leak as the kernel's ss saw it, and its diagnosis
leak_exact() {
    $CHECK "$1" "${2:-$CAPS/close_wait_leak.expect.json}" && python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
srv = {e["endpoint"]: e for e in r["endpoints"]}["10.99.0.2:8080"]
assert srv["anomalies"].get("close_wait_stuck") == 30, srv["anomalies"]
assert any("30 connections stuck in CLOSE_WAIT" in d for d in srv["diagnosis"]), srv["diagnosis"]
assert r["complete"] is True
PY
}

# tshark_times FILE: first and last frame.time_epoch
tshark_times() {
    tshark -r "$1" -T fields -e frame.time_epoch 2>/dev/null | sed -n '1p;$p' | tr '\n' ' '
}

# ---- the clock ----

# One real segment (the first of another capture, a SYN from fd99::1)
# dated DELTA from the 100th frame of the leak: set aside and counted,
# the leak intact. The SYN itself is analyzed: its sender is in SYN_SENT.
python3 - "$CAPS/close_wait_leak.expect.json" "$TMP/j.expect.json" <<'PY'
import json, sys
x = json.load(open(sys.argv[1]))
x["endpoints"]["fd99::1"] = {"role": "client", "states": {"SYN_SENT": 1}}
json.dump(x, open(sys.argv[2], "w"))
PY
jump() {
    $PT jump "$LEAK" "$TMP/j.pcap" "$CAPS/ipv6_leak.pcap" "$1" 100
    local rc=0
    tcpa_pcap --pcap "$TMP/j.pcap" --json >"$TMP/j.json" || rc=$?
    [ "$rc" -eq 0 ] || { echo "exit $rc"; return 1; }
    leak_exact "$TMP/j.json" "$TMP/j.expect.json" &&
        python3 - "$TMP/j.json" $(tshark_times "$LEAK") <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
first, last = float(sys.argv[2]), float(sys.argv[3])
assert r["capture"]["time_jump"] == 1, r["capture"]
# Duration is the capture's own pace, without the outlier.
assert abs(r["totals"]["duration_s"] - (last - first)) < 1e-5, (r["totals"]["duration_s"], last - first)
PY
}
run "a segment dated a year ahead: counted as time_jump, leak of 30 intact" jump 31536000
run "a segment dated a year behind: counted as time_jump, leak of 30 intact" jump -31536000

# The whole capture moved past 2^31 s (2038) and to just below 2^32 s
# (2106), in microsecond and nanosecond pcaps.
shifted() {
    $PT shift "$LEAK" "$TMP/s.pcap" "$1" ${2:+"$2"}
    rm -f "$TMP/s.ev"
    tcpa_pcap --pcap "$TMP/s.pcap" --json --event-log "$TMP/s.ev" >"$TMP/s.json" &&
        leak_exact "$TMP/s.json" &&
        python3 - "$TMP/s.json" "$TMP/s.ev" $(tshark_times "$TMP/s.pcap") <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
first, last = float(sys.argv[3]), float(sys.argv[4])
assert r["capture"]["time_jump"] == 0, r["capture"]
assert abs(r["totals"]["duration_s"] - (last - first)) < 1e-5, (r["totals"]["duration_s"], last - first)
times = [json.loads(l)["time"] for l in open(sys.argv[2])]
assert times and all(first - 1e-3 <= t <= last + 1e-3 for t in times), (first, last, min(times), max(times))
print(len(times), "events between", first, "and", last)
PY
}
run "timestamps past 2^31 s (microseconds)" shifted 2147484000
run "timestamps past 2^31 s (nanoseconds)" shifted 2147484000 --nsec
run "timestamps just below 2^32 s (nanoseconds)" shifted 4294960000 --nsec

# ---- pcapng of many interfaces ----

# 126 interfaces, Ethernet and Linux cooked in turn, each its own snap
# length; the leak's frames dealt over them.
many_ifaces() {
    $PT ifaces "$LEAK" "$TMP/m.pcapng" 126
    local want
    want=$(tshark -r "$TMP/m.pcapng" -Y tcp 2>/dev/null | wc -l)
    [ "$(capinfos -I "$TMP/m.pcapng" 2>/dev/null | grep -c 'Interface #')" -eq 126 ] &&
        tcpa_pcap --pcap "$TMP/m.pcapng" --json >"$TMP/m.json" && leak_exact "$TMP/m.json" &&
        python3 -c "
import json, sys
r = json.load(open('$TMP/m.json'))
assert r['totals']['tcp_packets'] == $want, (r['totals'], $want)"
}
run "pcapng of 126 interfaces, two link types, different snap lengths" many_ifaces

# ---- capture loss ----

# The estimate Zeek's capture-loss makes (ACKs of unseen data over ACKs of
# new data), made independently here from tshark's analysis: ACKs of new
# data from the raw acknowledgment numbers, and tshark's own
# ack_lost_segment flags (which count some gaps twice: docs/ACCURACY.md).
tshark_acks() {
    tshark -r "$1" -Y tcp -T fields -E separator=, -e tcp.stream -e tcp.srcport \
        -e tcp.flags.ack -e tcp.ack_raw 2>/dev/null | python3 -c '
import sys
last, acks = {}, 0
for line in sys.stdin:
    s, sp, fa, ack = line.strip().split(",")
    if fa not in ("1", "True"):
        continue
    k, a = (s, sp), int(ack)
    if k not in last or 0 < ((a - last[k]) & 0xffffffff) < 0x80000000:
        acks += 1
        last[k] = a
print(acks)'
}

loss() {
    local cap=$1 every=$2 f=$TMP/l.pcap dropped=0 data=0
    if [ "$every" -gt 0 ]; then
        read -r dropped data < <($PT drop "$cap" "$f" "$every")
    else
        cp "$cap" "$f"
    fi
    tcpa_pcap --pcap "$f" --json >"$TMP/l.json" &&
        python3 - "$TMP/l.json" "$(tshark_acks "$f")" "$dropped" "$data" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
acks, dropped, data = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
est, gaps = r["capture"]["capture_loss"], r["anomalies"]["ack_unseen"]
# The base: every ACK of new data, as tshark's numbers say.
assert r["totals"]["acks"] == acks, (r["totals"]["acks"], acks)
assert abs(est - 100.0 * gaps / acks) < 1e-9, (est, gaps, acks)
truth = 100.0 * dropped / data if data else 0.0
print(f"dropped {dropped}/{data} = {truth:.2f}% of data segments; estimate {est:.2f}% ({gaps}/{acks})")
if dropped == 0:
    assert est == 0.0
else:
    # An estimate from ACKs: short exchanges have more ACKs per data
    # segment than bulk ones (docs/ACCURACY.md, "Capture loss").
    assert truth / 4 <= est <= truth * 2, (est, truth)
PY
}
for cap in "$CAPS"/*.pcap; do
    run "$(basename "$cap" .pcap): no capture loss when nothing was dropped" loss "$cap" 0
done
for cap in loss_recovery_sender time_wait_churn zero_window close_wait_leak; do
    run "$cap: every 10th data segment dropped by the capture point" loss "$CAPS/$cap.pcap" 10
    run "$cap: every 30th data segment dropped by the capture point" loss "$CAPS/$cap.pcap" 30
done

# ---- exits ----

# expect_exit STATUS PATTERN CMD...: CMD exits STATUS and says PATTERN on stderr
expect_exit() {
    local want=$1 pat=$2 rc=0
    shift 2
    "$@" </dev/null >"$TMP/out" 2>"$TMP/err" || rc=$?
    [ "$rc" -eq "$want" ] || { echo "exit $rc, want $want"; cat "$TMP/err"; return 1; }
    grep -q -- "$pat" "$TMP/err" || { echo "stderr lacks '$pat':"; cat "$TMP/err"; return 1; }
}
run "no arguments: usage, exit 2, no EAL" sh -c "
    rc=0; '$TCPA' </dev/null >'$TMP/o' 2>'$TMP/e' || rc=\$?
    [ \$rc -eq 2 ] && grep -q '^Usage: tcpa' '$TMP/e' && ! grep -q '^EAL:' '$TMP/e'"
run "--bogus: unknown option, exit 2" expect_exit 2 "unknown option '--bogus'" "$TCPA" --bogus
run "bad value: exit 2" expect_exit 2 "close_wait_s" "$TCPA" --pcap "$LEAK" --close-wait-s abc
run "missing capture: exit 1" expect_exit 1 "cannot read capture" "$TCPA" --pcap "$TMP/none.pcap"
run "--help states the exit statuses" sh -c "'$TCPA' --help | grep -q '3 interrupted before the capture'"

stdin_input() {
    cat "$LEAK" | tcpa_pcap --pcap - --json >"$TMP/in.json" && leak_exact "$TMP/in.json" &&
        gzip -c "$LEAK" >"$TMP/leak.pcap.gz" &&
        zcat "$TMP/leak.pcap.gz" | tcpa_pcap --pcap - --json >"$TMP/gz.json" && leak_exact "$TMP/gz.json"
}
run "--pcap - reads standard input (cat, zcat)" stdin_input

# Live on the pcap driver: a second tcpa on the same EAL prefix is told
# why it cannot start; SIGUSR1 prints the report so far and tcpa goes on;
# SIGTERM ends it with its report and removes its runtime directory.
PREFIX=tcpa-field$$
# (arrays, not a function: a function run with & is a shell that signals would hit)
LIVE_EAL=("$TCPA" -l 0-1 --no-huge -m 256 --no-pci --file-prefix "$PREFIX" --log-level='*:warning'
    --vdev "net_pcap0,rx_pcap=$LEAK,infinite_rx=1")
LIVE_OPTS=(--flows_per_core 16384 --endpoints_per_core 256 --config "")
live_exits() {
    "${LIVE_EAL[@]}" -- --duration 60 --mgmt "$TMP/1.sock" --json "${LIVE_OPTS[@]}" \
        >"$TMP/live.json" 2>"$TMP/live.err" &
    local pid=$! rc=0 i
    for i in $(seq 100); do [ -S "$TMP/1.sock" ] && break; sleep 0.1; done
    expect_exit 1 "already runs DPDK with file prefix '$PREFIX'" \
        "${LIVE_EAL[@]}" -- --duration 5 --mgmt "$TMP/2.sock" "${LIVE_OPTS[@]}" ||
        { kill "$pid"; return 1; }
    kill -USR1 "$pid"
    for i in $(seq 50); do grep -q "SIGUSR1: the report so far" "$TMP/live.err" && break; sleep 0.1; done
    kill -0 "$pid" || { echo "SIGUSR1 ended tcpa"; return 1; }
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    echo "exit $rc"
    [ "$rc" -eq 0 ] && grep -q "SIGUSR1: the report so far" "$TMP/live.err" &&
        python3 -c "import json; r = json.load(open('$TMP/live.json')); assert r['complete'] is True" &&
        [ ! -e "/var/run/dpdk/$PREFIX" ] && [ ! -e "$TMP/1.sock" ]
}
run "live: locked prefix explained (exit 1), SIGUSR1 reports and goes on, SIGTERM exit 0" live_exits

# Capture analysis runs without the EAL: nothing in /var/run/dpdk, and no
# temporary copy when several inputs are merged, even when interrupted.
leftovers() {
    local before after rc=0
    before=$(ls /var/run/dpdk 2>/dev/null | sort)
    tcpa_pcap --pcap "$LEAK" --pcap "$CAPS/ipv6_leak.pcap" >/dev/null
    mkfifo "$TMP/fifo"
    sleep 30 >"$TMP/fifo" &
    local hold=$!
    "$TCPA" --pcap "$TMP/fifo" --pcap "$LEAK" --json >"$TMP/int.json" 2>/dev/null &
    local pid=$!
    sleep 1
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    kill "$hold" 2>/dev/null || true
    after=$(ls /var/run/dpdk 2>/dev/null | sort)
    echo "interrupted merge: exit $rc; TMPDIR: $(ls -A "$TMPDIR" | wc -l) entries"
    [ "$rc" -eq 3 ] && [ "$before" = "$after" ] && [ -z "$(ls -A "$TMPDIR")" ] &&
        python3 -c "import json; assert json.load(open('$TMP/int.json'))['complete'] is False"
}
run "nothing left in /var/run/dpdk or TMPDIR; interrupted merge exits 3, complete false" leftovers

finish
