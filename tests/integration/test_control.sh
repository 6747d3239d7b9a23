#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# One client cannot stall the control plane. tcpa holds a million
# connections (spoofed SYNs read from a FIFO that stays open, so tcpa keeps
# serving); one client pipelines 20 heavy requests (the whole report with
# every flow) and never reads. Meanwhile another client's stats round
# trips stay under 1 s, tcpa's memory grows by less than 256 MiB, and
# SIGTERM ends tcpa with its report in under 5 s. Also: idle clients are
# closed after mgmt_idle_s, and listings say how many there are in all.
. "$(dirname "$0")/lib.sh"

fifo=$TMP/in.fifo
sock=$TMP/tcpa.sock
mkfifo "$fifo"
"$TCPA" --pcap "$fifo" --mgmt "$sock" --json --config "" --mgmt-idle-s 3 \
    >"$TMP/report.json" 2>"$TMP/tcpa.err" &
tcpa_pid=$!
cleanup_hooks+=("kill -9 $tcpa_pid 2>/dev/null")
# The writer keeps the FIFO open after the flood: tcpa waits for more input.
(python3 "$TCPA_SRC/tests/integration/synflood.py" 1000000 10.99.0.9 80 1700000000 10;
    sleep 600) >"$fifo" &
writer=$!
cleanup_hooks+=("pkill -P $writer 2>/dev/null; kill $writer 2>/dev/null")

rc_py=0
python3 - "$sock" "$tcpa_pid" "$TMP" <<'PY' || rc_py=$?
import json, os, socket, sys, time
sock, pid, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def rss_mib():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS:"):
            return int(l.split()[1]) / 1024

def connect():
    for _ in range(300):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            return s
        except OSError:
            time.sleep(0.1)
    sys.exit("no management socket")

def ask(s, f, req):
    t = time.monotonic()
    s.sendall(json.dumps(req).encode() + b"\n")
    a = json.loads(f.readline())
    return a, time.monotonic() - t

c = connect()
cf = c.makefile("rb")
for _ in range(600):
    a, _ = ask(c, cf, {"cmd": "stats"})
    if sum(x["flows_active"] for x in a["data"]["cores"]) >= 1000000:
        break
    time.sleep(0.1)
else:
    sys.exit("the flood did not arrive")
a, _ = ask(c, cf, {"cmd": "flows", "top": 5})
assert a["total"] == 1000000 and a["shown"] == 5 and len(a["data"]) == 5, \
    {k: a[k] for k in ("total", "shown")}
a, _ = ask(c, cf, {"cmd": "flows", "top": 3, "offset": 10})
assert a["total"] == 1000000 and len(a["data"]) == 3
a, _ = ask(c, cf, {"cmd": "flows", "top": 0, "port": 80, "sport": 1})
assert a["data"] == [] and a["total"] == 0, a
a, _ = ask(c, cf, {"cmd": "endpoints", "top": 2})
assert a["shown"] == 2 and a["total"] >= 2, a
print("listings say total and shown")
base = rss_mib()

heavy = socket.socket(socket.AF_UNIX)
heavy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
heavy.connect(sock)
heavy.sendall(b'{"cmd":"report","flows":true}\n' * 20)     # and never reads
worst = 0.0
for _ in range(30):
    a, dt = ask(c, cf, {"cmd": "stats"})
    assert a["ok"], a
    worst = max(worst, dt)
    time.sleep(0.1)
grow = rss_mib() - base
print(f"stats round trip at worst {worst * 1000:.0f} ms beside the heavy client; "
      f"RSS {base:.0f} MiB -> +{grow:.0f} MiB")
assert worst < 1.0, worst
assert grow < 256, grow

# An idle client is closed after mgmt_idle_s (3 s here).
idle = connect()
idle.settimeout(10)
t = time.monotonic()
assert idle.recv(1) == b"", "idle client not closed"
print(f"idle client closed after {time.monotonic() - t:.1f} s")

t = time.monotonic()
os.kill(pid, 15)
for _ in range(500):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            break
    except ChildProcessError:
        pass
    time.sleep(0.01)
dt = time.monotonic() - t
print(f"SIGTERM to exit: {dt:.2f} s")
open(tmp + "/term_s", "w").write(str(dt))
PY
rc=0
wait "$tcpa_pid" || rc=$?

term() {
    [ "$rc_py" -eq 0 ] && [ "$rc" -eq 3 ] &&
        python3 - "$TMP/report.json" "$(cat "$TMP/term_s")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["complete"] is False, "an interrupted analysis must say so"
assert r["totals"]["flows_active"] >= 1000000, r["totals"]
assert float(sys.argv[2]) < 5.0, sys.argv[2]
print("exit 3, complete: false, report printed")
PY
}
run "heavy client: stats under 1 s, RSS +<256 MiB, SIGTERM exits 3 with the report in <5 s" term
finish
