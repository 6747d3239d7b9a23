#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Management socket and tcpactl, against a live tcpa on the DPDK af_packet
# driver in a pair of namespaces (tests/scenarios/lib.sh) while real Linux
# TCP runs through it:
#  - the protocol: help, version, a malformed line answered with an error on
#    a connection that stays usable, an oversized line, 1000 pipelined
#    requests, a silent client and a half-sent request that stall nobody,
#    the 65th client refused, a stale socket file replaced, mode 0660;
#  - tcpactl: exit codes, --json, the CLOSE_WAIT count of a leaking server
#    endpoint rising batch by batch as the kernel's own ss says, and back to
#    0 once the server dies; metrics that parse as Prometheus text and carry
#    that endpoint's gauge; the HTTP listener; DPDK telemetry /tcpa/...
# Prints "test_mgmt: N passed, M failed"; non-zero exit on any failure.
# shellcheck disable=SC1091,SC2016  # lib.sh by path; bash -c '...' scripts take $0 $1
set -euo pipefail
: "${TCPA:?}" "${TCPA_SRC:?}"
TCPACTL=${TCPACTL:-$(dirname "$TCPA")/../tcpactl/tcpactl}
source "$TCPA_SRC/tests/scenarios/lib.sh"

[[ -x $TCPACTL ]] || die "tcpactl not found at $TCPACTL (set TCPACTL)"
scn_init mgmt 8080
topo_up

npass=0
nfail=0
ok() { npass=$((npass + 1)); echo "ok - $*"; }
not_ok() { nfail=$((nfail + 1)); echo "FAIL - $*"; }
# check NAME CMD...: passes when CMD exits 0; its output is shown on failure
check() {
    local name=$1
    shift
    if "$@" >"$WORK/check.log" 2>&1; then
        ok "$name"
    else
        not_ok "$name"
        sed 's/^/    /' "$WORK/check.log"
    fi
}

SOCK=$WORK/tcpa.sock
PREFIX=tcpa-mgmt$$
export TCPA_SOCK=$SOCK
ctl() { "$TCPACTL" --timeout 10 "$@"; }

# Raw socket helper: the checks that tcpactl cannot express.
cat >"$WORK/raw.py" <<'EOF'
import json, os, socket, sys, time

path, what = sys.argv[1], sys.argv[2]

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s, s.makefile("rb")

def ask(s, f, line):
    s.sendall(line + b"\n")
    ans = json.loads(f.readline())
    assert isinstance(ans, dict) and isinstance(ans.get("ok"), bool), ans
    return ans

if what == "stale":             # a socket file nobody listens on
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()
elif what == "malformed":
    s, f = conn()
    for bad in (b"not json", b"[1,2]", b"{\"cmd\": 5}", b"{}", b"{\"cmd\":\"nope\"}",
                b"{\"cmd\":\"help\"", b"\xff\xfe{}"):
        a = ask(s, f, bad)
        assert a["ok"] is False and isinstance(a["error"], str) and a["error"], (bad, a)
        print("error for %r: %s" % (bad, a["error"]))
    a = ask(s, f, b'{"cmd":"version"}')
    assert a["ok"] is True and "version" in a["data"], a
elif what == "oversized":
    s, f = conn()
    a = ask(s, f, b'{"cmd":"help","pad":"' + b"x" * (100 * 1024) + b'"}')
    assert a["ok"] is False and "longer" in a["error"], a
    print("oversized:", a["error"])
    a = ask(s, f, b'{"cmd":"version"}')
    assert a["ok"] is True, a
elif what == "pipeline":        # 1000 requests written at once, then read
    s, f = conn()
    n = 1000
    s.sendall(b''.join(b'{"cmd":"version","i":%d}\n' % i for i in range(n)))
    got = 0
    for i in range(n):
        a = json.loads(f.readline())
        assert a["ok"] is True, a
        got += 1
    print("answers:", got)
    assert got == n
elif what == "sequential":      # 1000 request/answer round trips
    s, f = conn()
    for i in range(1000):
        assert ask(s, f, b'{"cmd":"help"}')["ok"] is True
elif what == "silent":          # idle and half-sent clients stall nobody
    idle, _ = conn()
    half, _ = conn()
    half.sendall(b'{"cmd": "ver')
    s, f = conn()
    t = time.monotonic()
    for i in range(20):
        assert ask(s, f, b'{"cmd":"stats"}')["ok"] is True
    dt = time.monotonic() - t
    print("20 answers in %.3f s beside a silent and a half-sent client" % dt)
    assert dt < 5
    half.sendall(b'sion"}\n')
    hf = half.makefile("rb")
    assert json.loads(hf.readline())["ok"] is True
elif what == "maxclients":
    cl = [conn() for i in range(64)]
    for s, f in cl:
        assert ask(s, f, b'{"cmd":"version"}')["ok"] is True
    s, f = conn()
    line = f.readline()
    a = json.loads(line)
    assert a["ok"] is False, a
    print("65th client:", a["error"])
    assert f.readline() == b"", "65th client not closed"
    cl[0][1].close()            # the makefile() holds the descriptor too
    cl[0][0].close()
    time.sleep(0.2)
    s, f = conn()
    assert ask(s, f, b'{"cmd":"version"}')["ok"] is True
elif what == "telemetry":       # DPDK telemetry: /tcpa/version, /tcpa/endpoints
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[3])
    s.recv(65536)
    s.send(b"/tcpa/version")
    a = json.loads(s.recv(1 << 20))
    print(a)
    assert a["/tcpa/version"]["version"], a
    s.send(b"/tcpa/endpoints,state=CLOSE_WAIT")
    a = json.loads(s.recv(1 << 20))
    print(json.dumps(a)[:300])
    assert a["/tcpa/endpoints"] is not None
else:
    sys.exit("unknown check " + what)
EOF

# Prometheus text exposition (format 0.0.4), checked independently of tcpactl.
cat >"$WORK/prom.py" <<'EOF'
import re, sys

text = open(sys.argv[1]).read()
want = sys.argv[2] if len(sys.argv) > 2 else None
name_re = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
label_re = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r"^(%s)(\{%s(?:,%s)*\})? (-?[0-9.eE+-]+|NaN|[+-]Inf)$" % (name_re, label_re, label_re))
types, seen, samples, done = {}, set(), {}, set()
assert text.endswith("\n"), "no final newline"
for n, line in enumerate(text.splitlines(), 1):
    m = re.match(r"^# (HELP|TYPE) (%s) (.*)$" % name_re, line)
    if m:
        kind, name, rest = m.groups()
        if kind == "TYPE":
            assert rest in ("counter", "gauge", "untyped", "summary", "histogram"), line
            assert name not in types, "line %d: TYPE twice for %s" % (n, name)
            assert name not in done, "line %d: %s not grouped" % (n, name)
            types[name] = rest
        continue
    assert not line.startswith("#"), "line %d: bad comment %r" % (n, line)
    m = sample.match(line)
    assert m, "line %d: not a sample: %r" % (n, line)
    name, labels, value = m.groups()
    assert name in types, "line %d: %s has no TYPE" % (n, name)
    key = name + (labels or "")
    assert key not in samples, "line %d: duplicate series %s" % (n, key)
    samples[key] = float(value)
    for other in list(types):
        if other != name and other in seen:
            done.add(other)
    seen.add(name)
for need in ("tcpa_packets_total", "tcpa_anomalies_total", "tcpa_malformed_total",
             "tcpa_capture_midstream_total", "tcpa_capture_events_lost_total",
             "tcpa_core_packets_total", "tcpa_endpoint_connections",
             "tcpa_endpoint_anomalies_total"):
    assert need in types, "no family " + need
if want:
    assert want in samples, "no sample %s in:\n%s" % (want, "\n".join(k for k in samples if "endpoint" in k))
    print(want, samples[want])
print(len(types), "families,", len(samples), "samples")
EOF

# CLOSE_WAIT count of an endpoint from `tcpactl --json endpoints` on stdin (0 if absent)
cat >"$WORK/cw.py" <<'EOF'
import json, sys
eps = json.load(sys.stdin)
print(sum(e["states"].get("CLOSE_WAIT", 0) for e in eps if e["endpoint"] == sys.argv[1]))
EOF
cw() { ctl --json endpoints | "$PY" "$WORK/cw.py" "$1"; }
kernel_cw() { in_ns SERVER ss -tanH state close-wait "( sport = :8080 )" | wc -l; }

# ---- start tcpa over a stale socket file ----
"$PY" "$WORK/raw.py" "$SOCK" stale
[[ -S $SOCK ]] || die "could not make a stale socket"
ip netns exec "$NS_S" "$TCPA" -l 0-1 --no-huge -m 512 --no-pci --file-prefix "$PREFIX" \
    --vdev "net_af_packet0,iface=$IFNAME" -- --flows_per_core 65536 --endpoints_per_core 1024 \
    --mgmt "$SOCK" >"$WORK/tcpa.out" 2>"$WORK/tcpa.err" &
tcpa_pid=$!
tcpa_slot=${#BG_PIDS[@]}
BG_PIDS+=("$tcpa_pid")    # lib.sh's cleanup stops it if a check dies
BG_LABELS+=(tcpa)
for ((i = 0; i < 300; i++)); do     # up to 30 s: EAL start-up on a loaded machine
    ctl version >/dev/null 2>&1 && break
    kill -0 "$tcpa_pid" 2>/dev/null || die "tcpa exited early: $(cat "$WORK/tcpa.err")"
    sleep 0.1
done
check "tcpa serves a stale socket path" ctl version
check "socket mode 0660" test "$(stat -c %a "$SOCK")" = 660

# ---- protocol ----
check "help lists the commands" bash -c '
    "$0" --json help | "$1" -c "import json,sys; d=json.load(sys.stdin); \
want={\"anomalies\",\"config\",\"endpoints\",\"flows\",\"help\",\"report\",\"stats\",\"version\"}; \
assert want <= set(d), d; assert all(isinstance(v,str) and v for v in d.values())"' "$TCPACTL" "$PY"
check "version" bash -c '"$0" --json version | "$1" -c "import json,sys; \
d=json.load(sys.stdin); assert d[\"version\"] and d[\"dpdk\"], d"' "$TCPACTL" "$PY"
check "malformed requests get errors, the connection stays usable" "$PY" "$WORK/raw.py" "$SOCK" malformed
check "oversized request gets an error, the connection stays usable" "$PY" "$WORK/raw.py" "$SOCK" oversized
check "1000 pipelined requests on one connection all answered" "$PY" "$WORK/raw.py" "$SOCK" pipeline
check "1000 request/answer round trips on one connection" "$PY" "$WORK/raw.py" "$SOCK" sequential
check "silent and half-sent clients do not stall others" "$PY" "$WORK/raw.py" "$SOCK" silent
check "65th client refused with an error line, slots reused" "$PY" "$WORK/raw.py" "$SOCK" maxclients

# ---- tcpactl exit codes and text ----
set +e
"$TCPACTL" -s "$WORK/nonexistent.sock" version >/dev/null 2>"$WORK/e2.txt"; rc2=$?
ctl endpoints state=NOT_A_STATE >/dev/null 2>"$WORK/e1.txt"; rc1=$?
ctl endpoints notapair >/dev/null 2>&1; rc3=$?
set -e
check "cannot connect: exit 2, message names the socket" \
    bash -c "[ $rc2 = 2 ] && grep -q nonexistent.sock '$WORK/e2.txt'"
check "server error: exit 1, message on stderr" bash -c "[ $rc1 = 1 ] && grep -q NOT_A_STATE '$WORK/e1.txt'"
check "usage error: exit 2" test "$rc3" = 2
check "config set changes a live key" bash -c '"$0" config set close_wait_s=9 >/dev/null &&
    "$0" --json config get close_wait_s | grep -q "\"close_wait_s\": 9" &&
    "$0" config set close_wait_s=5 >/dev/null' "$TCPACTL"
for c in stats anomalies report flows version config help; do
    check "tcpactl $c (text)" ctl "$c"
done

# ---- CLOSE_WAIT leak, seen live ----
bg_start SERVER leakysrv "$PY" -u "$PEERS/server.py" --leak --listen "$SERVER_IP4:8080" \
    --ready "$WORK/server.ready"
wait_file "$WORK/server.ready"
counts=()
for batch in 1 2 3; do
    in_ns CLIENT "$PY" -u "$PEERS/client.py" --gap 0.02 leak --count 10 >>"$WORK/client.log" 2>&1
    want=$((batch * 10))
    for ((i = 0; i < 50; i++)); do
        [[ $(kernel_cw) -ge $want ]] && [[ $(cw "$SERVER_IP4:8080") -ge $want ]] && break
        sleep 0.1
    done
    counts+=("$(kernel_cw)/$(cw "$SERVER_IP4:8080")")
done
echo "CLOSE_WAIT after each batch (kernel/tcpa): ${counts[*]}"
check "CLOSE_WAIT of the leaking endpoint rises with the kernel's" \
    test "${counts[*]}" = "10/10 20/20 30/30"
ctl endpoints >"$WORK/endpoints.txt"
cat "$WORK/endpoints.txt"
check "endpoints table: CLOSE_WAIT column and diagnosis" bash -c \
    "grep -q 'CLOSE_WAIT' '$WORK/endpoints.txt' && grep -Eq '^$SERVER_IP4:8080 +server +30 +- +30 +[0-9]+ connections? (stuck )?in CLOSE_WAIT' '$WORK/endpoints.txt'"
ctl endpoints state=CLOSE_WAIT top=1 --json >"$WORK/top1.json"
check "endpoints filters: state, top" "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]));
assert len(d) == 1 and d[0]["endpoint"] == sys.argv[2], d' "$WORK/top1.json" "$SERVER_IP4:8080"
check "flows filter by state" bash -c '"$0" --json flows state=CLOSE_WAIT | "$1" -c "import json,sys;
d=json.load(sys.stdin); assert len(d) == 30 and all(f[\"server_state\"] == \"CLOSE_WAIT\" for f in d), len(d)"' \
    "$TCPACTL" "$PY"

ctl metrics >"$WORK/metrics.txt"
check "metrics parse and carry the endpoint's CLOSE_WAIT gauge" "$PY" "$WORK/prom.py" "$WORK/metrics.txt" \
    "tcpa_endpoint_connections{endpoint=\"$SERVER_IP4:8080\",role=\"server\",state=\"CLOSE_WAIT\"}"
check "metrics: gauge value 30" grep -q \
    "^tcpa_endpoint_connections{endpoint=\"$SERVER_IP4:8080\",role=\"server\",state=\"CLOSE_WAIT\"} 30\$" \
    "$WORK/metrics.txt"
if command -v promtool >/dev/null 2>&1; then
    check "promtool check metrics" bash -c "promtool check metrics <'$WORK/metrics.txt'"
fi

port=$((20000 + $$ % 20000))
"$TCPACTL" metrics --listen "127.0.0.1:$port" >"$WORK/http.log" 2>&1 &
http_pid=$!
http_slot=${#BG_PIDS[@]}
BG_PIDS+=("$http_pid")
BG_LABELS+=(http)
sleep 0.3
check "metrics over HTTP on loopback" "$PY" -c 'import sys, urllib.request, time
for i in range(30):
    try:
        r = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=10)
        break
    except OSError:
        time.sleep(0.1)
body = r.read().decode()
assert r.status == 200 and "text/plain" in r.headers["Content-Type"], r.headers
assert "tcpa_up 1" in body and "tcpa_endpoint_connections{" in body, body[:500]' "$port"
kill "$http_pid" 2>/dev/null || true
wait "$http_pid" 2>/dev/null || true
BG_PIDS[http_slot]=
set +e
"$TCPACTL" metrics --listen "0.0.0.0:$port" >/dev/null 2>&1; rc=$?
set -e
check "metrics --listen refuses a non-loopback address" test "$rc" = 2

tel=/var/run/dpdk/$PREFIX/dpdk_telemetry.v2
if [[ -S $tel ]]; then
    check "DPDK telemetry /tcpa/version and /tcpa/endpoints" "$PY" "$WORK/raw.py" "$SOCK" telemetry "$tel"
else
    echo "ok - DPDK telemetry socket absent ($tel): skipped"
fi

# ---- the leaking server dies: its sockets close, CLOSE_WAIT goes back to 0 ----
bg_stop leakysrv
for ((i = 0; i < 100; i++)); do
    [[ $(cw "$SERVER_IP4:8080") == 0 ]] && break
    sleep 0.1
done
check "CLOSE_WAIT back to 0 once the server is gone (kernel: $(kernel_cw))" \
    test "$(cw "$SERVER_IP4:8080")" = 0

# ---- shutdown removes the socket ----
kill -INT "$tcpa_pid"
rc=0
wait "$tcpa_pid" || rc=$?
BG_PIDS[tcpa_slot]=
check "tcpa exits 0 on SIGINT" test "$rc" = 0
check "socket removed at exit" test ! -e "$SOCK"
rm -rf "/var/run/dpdk/$PREFIX"   # this run's EAL runtime files

echo "test_mgmt: $npass passed, $nfail failed"
if ((nfail > 0)); then
    echo "--- tcpa stderr ---"
    cat "$WORK/tcpa.err"
    exit 1
fi
exit 0
