#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The command line as a user meets it: help, clear errors for bad input,
# the text report, packet time.
. "$(dirname "$0")/lib.sh"

"$TCPA_GEN" -o "$TMP/a.pcap" --truth "$TMP/a.truth.json" --conns 50 --servers 1 --mix leak=1 >/dev/null

# expect_fail NAME PATTERN CMD...: CMD must exit non-zero and say PATTERN on stderr
expect_fail() {
    local pat=$1
    shift
    if "$@" >"$TMP/out" 2>"$TMP/err"; then
        echo "exited 0"; return 1
    fi
    grep -q -- "$pat" "$TMP/err" || { echo "stderr lacks '$pat':"; cat "$TMP/err"; return 1; }
}

run "--help lists options and config keys" sh -c "'$TCPA' --help | grep -q -- '--pcap' && '$TCPA' --help | grep -q close-wait-s"
run "--version" sh -c "'$TCPA' --version | grep -q '^tcpa '"
run "missing capture file" expect_fail "cannot read capture" "$TCPA" --pcap "$TMP/nope.pcap"
printf 'not a capture at all' >"$TMP/junk.pcap"
run "garbage capture file" expect_fail "cannot read capture" "$TCPA" --pcap "$TMP/junk.pcap"
run "unknown option" expect_fail "unknown option '--frobnicate'" "$TCPA" --frobnicate 1
run "bad config value" expect_fail "close_wait_s" "$TCPA" --pcap "$TMP/a.pcap" --close-wait-s abc
echo '{"flows_per_core": 1024, "nope": 1}' >"$TMP/bad.json"
run "unknown key in config file" expect_fail "nope" "$TCPA" --pcap "$TMP/a.pcap" --config "$TMP/bad.json"
echo '{"flows_per_core": ' >"$TMP/broken.json"
run "broken config file names the line" expect_fail "line" "$TCPA" --pcap "$TMP/a.pcap" --config "$TMP/broken.json"

# A link type tcpa cannot read (802.11 radiotap) is refused with its name.
python3 - "$TMP/wifi.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 127))
PY
run "unreadable link type refused by name" expect_fail "link type IEEE802_11_RADIOTAP" \
    "$TCPA" --pcap "$TMP/wifi.pcap"

text_report() {
    tcpa_pcap --pcap "$TMP/a.pcap" >"$TMP/text" &&
        grep -q "50 connections in CLOSE_WAIT" "$TMP/text" &&
        grep -q "^Diagnosis" "$TMP/text"
}
run "text report leads with the CLOSE_WAIT diagnosis" text_report

config_file() {
    echo '{"flows_per_core": 2048, "endpoints_per_core": 512}' >"$TMP/ok.json"
    "$TCPA" --pcap "$TMP/a.pcap" --config "$TMP/ok.json" --json >"$TMP/c.json" &&
        $CHECK "$TMP/c.json" "$TMP/a.truth.json"
}
run "config file accepted" config_file

# Packet time: duration from the capture's timestamps, as capinfos/tshark say.
duration() {
    tcpa_pcap --pcap "$TMP/a.pcap" --json >"$TMP/d.json"
    python3 - "$TMP/d.json" "$TMP/a.pcap" <<'PY'
import json, subprocess, sys
r = json.load(open(sys.argv[1]))
ts = subprocess.run(["tshark", "-r", sys.argv[2], "-T", "fields", "-e", "frame.time_epoch"],
                    capture_output=True, text=True, check=True).stdout.split()
want = float(ts[-1]) - float(ts[0])
got = r["totals"]["duration_s"]
print("tshark", want, "tcpa", got)
assert abs(want - got) < 1e-5, (want, got)
PY
}
run "duration_s is capture time (tshark)" duration

# A capture cut mid-record: the whole records are analyzed, with a warning.
truncated() {
    local size
    size=$(stat -c %s "$TMP/a.pcap")
    head -c $((size - 30)) "$TMP/a.pcap" >"$TMP/cut.pcap"
    tcpa_pcap --pcap "$TMP/cut.pcap" --json >"$TMP/cut.json" 2>"$TMP/cut.err"
    grep -q "cut short" "$TMP/cut.err"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["totals"]["packets"] > 0' "$TMP/cut.json"
}
run "truncated capture: warning, complete records analyzed" truncated

# pcapng (what Wireshark and recent tcpdump write) gives the same analysis.
pcapng() {
    editcap -F pcapng "$TMP/a.pcap" "$TMP/a.pcapng"
    [ "$(head -c 4 "$TMP/a.pcapng" | od -An -tx1 | tr -d ' ')" = "0a0d0d0a" ]
    tcpa_pcap --pcap "$TMP/a.pcapng" --json >"$TMP/ng.json" &&
        $CHECK "$TMP/ng.json" "$TMP/a.truth.json"
}
run "pcapng capture" pcapng

# Event log: one line per anomaly occurrence, which adds up to the report's
# totals. Capture analysis writes every occurrence whatever event_rate
# says (the rate limit is the appliance's; see reopen below).
evlog() {
    local rate=$1
    "$TCPA_GEN" -o "$TMP/ev.pcap" --conns 300 --seed 21 \
        --mix fin_client=1,refused=2,rst=2,unanswered=1,leak=1 >/dev/null
    rm -f "$TMP/ev.ndjson"
    tcpa_pcap --pcap "$TMP/ev.pcap" --json --event-log "$TMP/ev.ndjson" --event-rate "$rate" \
        >"$TMP/ev.json"
    python3 - "$TMP/ev.json" "$TMP/ev.ndjson" "$rate" <<'PY'
import collections, json, sys
rep = json.load(open(sys.argv[1]))["anomalies"]
lines = [json.loads(l) for l in open(sys.argv[2])]
got = collections.Counter(l["anomaly"] for l in lines if "anomaly" in l)
for l in lines:
    for k, v in l.get("suppressed", {}).items():
        got[k] += v
want = {k: v for k, v in rep.items() if v}
print("report", want, "log", dict(got))
assert dict(got) == want, (dict(got), want)
assert all(set(l) >= {"time", "anomaly", "endpoint", "client", "server"} for l in lines if "anomaly" in l)
assert not any("suppressed" in l for l in lines)
PY
}
run "event log: one line per occurrence" evlog 100000
run "event log: capture analysis is not rate-limited" evlog 3

# logrotate's way: move the file, SIGHUP, and tcpa writes a new one. Then
# the directory goes missing: the reopen fails, what comes meanwhile is
# counted as events_lost, and once the directory is back the next SIGHUP
# reopens the log. Live, the log is rate-limited: suppressed lines say how
# many were not written.
wait_for() {    # wait_for FILE: up to 30 s for it to have bytes
    for i in $(seq 300); do [ -s "$1" ] && return 0; sleep 0.1; done
    return 1
}
reopen() {
    local dir=$TMP/logs log=$TMP/logs/hup.ndjson
    mkdir -p "$dir"
    "$TCPA" -l 0-1 --no-huge -m 512 --no-pci --file-prefix "tcpa-hup$$" --log-level='*:warning' \
        --vdev "net_pcap0,rx_pcap=$TCPA_SRC/tests/captures/idle_timeout_stale.pcap,infinite_rx=1" -- \
        --duration 60 --flows_per_core 16384 --endpoints_per_core 256 --event-log "$log" \
        --event-rate 5 --config "" --json >"$TMP/hup.json" 2>"$TMP/hup.err" &
    local pid=$!
    wait_for "$log"
    mv "$log" "$TMP/hup.1"
    kill -HUP "$pid"
    wait_for "$log"
    mv "$dir" "$TMP/logs.gone"
    kill -HUP "$pid"
    sleep 2
    mkdir -p "$dir"
    kill -HUP "$pid"
    wait_for "$log"
    kill -INT "$pid"
    local rc=0
    wait "$pid" || rc=$?
    echo "exit $rc; lines: first $(wc -l <"$TMP/hup.1"), second $(wc -l <"$TMP/logs.gone/hup.ndjson"), third $(wc -l <"$log")"
    [ "$rc" -eq 0 ] && grep -q "cannot open event log" "$TMP/hup.err" &&
        python3 - "$TMP/hup.1" "$TMP/logs.gone/hup.ndjson" "$log" "$TMP/hup.json" <<'PY'
import json, sys
lines = [json.loads(l) for f in sys.argv[1:4] for l in open(f)]
assert any("suppressed" in l for l in lines), "no suppressed line at event_rate 5"
r = json.load(open(sys.argv[4]))
assert r["capture"]["events_lost"] > 0, r["capture"]
print("events_lost", r["capture"]["events_lost"])
PY
}
run "event log: reopened on SIGHUP, recovers from a missing directory, losses counted" reopen

finish
