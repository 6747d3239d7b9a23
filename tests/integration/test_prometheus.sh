#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Metrics as operators consume them: a real Prometheus server (Debian's
# package) scrapes `tcpactl metrics --listen` while tcpa runs, and its query
# API must return tcpa's counters and the leaking endpoint's CLOSE_WAIT gauge.
. "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null || { echo "prometheus not installed (deploy/install-deps.sh)"; exit 1; }
TCPACTL=${TCPACTL:?set by meson: path of tcpactl}
sock=$TMP/tcpa.sock
port_m=$((20000 + $$ % 20000))
port_p=$((port_m + 1))

"$TCPA" -l 0-1 --no-huge -m 1024 --no-pci --file-prefix "tcpa-prom$$" --log-level='*:warning' \
    --vdev "net_pcap0,rx_pcap=$TCPA_SRC/tests/captures/close_wait_leak.pcap,infinite_rx=1" -- \
    --duration 60 --mgmt "$sock" --flows_per_core 65536 --endpoints_per_core 1024 \
    >"$TMP/report.json" 2>"$TMP/tcpa.err" &
tcpa_pid=$!
cleanup_hooks+=("kill $tcpa_pid 2>/dev/null; wait $tcpa_pid 2>/dev/null")
for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

"$TCPACTL" -s "$sock" metrics --listen "127.0.0.1:$port_m" >"$TMP/metrics.log" 2>&1 &
m_pid=$!
cleanup_hooks+=("kill $m_pid 2>/dev/null; wait $m_pid 2>/dev/null")

cat >"$TMP/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: tcpa
    static_configs:
      - targets: ['127.0.0.1:$port_m']
YML
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
    --web.listen-address="127.0.0.1:$port_p" >"$TMP/prom.log" 2>&1 &
p_pid=$!
cleanup_hooks+=("kill $p_pid 2>/dev/null; wait $p_pid 2>/dev/null")

query() {
    python3 - "$port_p" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?query=" + urllib.parse.quote(sys.argv[2])
try:
    r = json.load(urllib.request.urlopen(url, timeout=2))
except Exception:
    sys.exit(1)
res = r.get("data", {}).get("result", [])
print(res[0]["value"][1] if res else "")
PY
}

scraped() {
    for i in $(seq 60); do
        v=$(query 'tcpa_packets_total' || true)
        if [ -n "$v" ] && [ "${v%.*}" -gt 0 ]; then
            echo "tcpa_packets_total = $v"
            return 0
        fi
        sleep 0.5
    done
    cat "$TMP/prom.log" | tail -5
    return 1
}
run "Prometheus scrapes tcpactl metrics" scraped

gauge() {
    v=$(query 'tcpa_endpoint_connections{endpoint="10.99.0.2:8080",state="CLOSE_WAIT"}')
    echo "CLOSE_WAIT gauge of 10.99.0.2:8080 = $v"
    [ "$v" = "30" ]
}
run "the leaking endpoint's CLOSE_WAIT gauge is 30" gauge

up() {
    v=$(query 'up{job="tcpa"}')
    [ "$v" = "1" ]
}
run "scrape target is up" up

# Every query of the shipped Grafana dashboard is valid PromQL on the real
# server, and every metric name it names is one tcpa exports.
dashboard() {
    python3 - "$port_p" "$TCPA_SRC/deploy/grafana-dashboard.json" <<'PY'
import json, re, sys, urllib.error, urllib.parse, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}/api/v1/"
def get(path):
    try:
        return json.load(urllib.request.urlopen(base + path, timeout=5))
    except urllib.error.HTTPError as e:
        return json.load(e)
names = set(get("label/__name__/values")["data"])
exprs = []
def walk(o):
    if isinstance(o, dict):
        if isinstance(o.get("expr"), str):
            exprs.append(o["expr"])
        for v in o.values():
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(json.load(open(sys.argv[2])))
assert exprs, "no query in the dashboard"
bad = []
for e in exprs:
    q = e.replace("$instance", ".*").replace("$__rate_interval", "1m").replace("$topk", "10")
    r = get("query?query=" + urllib.parse.quote(q))
    if r.get("status") != "success":
        bad.append(("invalid", e, r.get("error")))
    for n in re.findall(r"\btcpa_[a-z0-9_]+\b", re.sub(r'"[^"]*"', '""', q)):
        if n not in names:
            bad.append(("not exported", n))
    for rx in re.findall(r'__name__=~\\?"([^"\\]+)', q):
        if not any(re.fullmatch(rx, n) for n in names):
            bad.append(("no name matches", rx))
print(len(exprs), "queries,", len(names), "names exported")
assert not bad, bad
PY
}
run "every Grafana query is valid and names exported metrics" dashboard

finish
