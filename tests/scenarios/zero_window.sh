#!/usr/bin/env bash
# zero_window: a slow reader with a small receive buffer. The server on :8080
# sets SO_RCVBUF 4096 on its listening socket (before listen(), so the
# accepted socket and its SYN-ACK window inherit it; the kernel doubles it),
# accepts one connection and reads 1 KB every 10 ms, pausing 1 s twice (at
# 40 KB and at 120 KB). The client writes 200 KB as fast as it can with
# TCP_NODELAY. The writer fills the reader's window (window_full), the reader
# advertises a zero window (zero_window); during each pause the writer's
# persist timer sends zero-window probes (Linux form: seq = snd.una - 1, no
# payload, which Wireshark calls a keep-alive) until the reader reads again.
#   anomalies: zero_window / window_full (capture, = tshark),
#   zero_window_probe = client TcpExtTCPWinProbe; keepalive 0.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_kernel.sh"

SIZE=${SIZE:-200000}
RCVBUF=${RCVBUF:-4096}
CHUNK=${CHUNK:-1024}
DELAY=${DELAY:-0.01}
PAUSES=(40000:1.0 120000:1.0)

scn_init zero_window 8080
kscn_require tshark nstat
topo_up
capture_start
nstat_begin

pa=()
for p in "${PAUSES[@]}"; do pa+=(--pause-at "$p"); done
bg_start SERVER server "$PY" -u "$KPEER" --ready "$WORK/server.ready" slow-reader \
    --listen "$SERVER_IP4:8080" --rcvbuf "$RCVBUF" --chunk "$CHUNK" --delay "$DELAY" "${pa[@]}"
wait_file "$WORK/server.ready"
in_ns CLIENT "$PY" -u "$KPEER" --server "$SERVER_IP4" bulk-send --size "$SIZE" --nodelay \
    >"$WORK/client.log" 2>&1
log "client: $(tail -1 "$WORK/client.log" | cut -c10-)"
sleep 0.5
ksnapshot
capture_stop
bg_stop server
kscn_finish --param size="$SIZE" --param rcvbuf="$RCVBUF" --param chunk="$CHUNK" \
    --param delay="$DELAY" --param pauses="${PAUSES[*]}"
