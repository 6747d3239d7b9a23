#!/usr/bin/env bash
# nagle_delayed_ack: Nagle's algorithm meets delayed ACK. A line server on
# :8080 answers each complete line ("...\n") with a 32-byte reply. The client
# sends each request as two small write()s (a 40-byte head, then a 60-byte
# tail with the newline) and then waits for the reply, 20 times on one
# connection, Nagle on (the default). The head goes out at once; the tail is
# held by Nagle until the head is ACKed, and the server delays that ACK
# (~40 ms, Linux's minimum delayed-ACK time) because it has nothing to send
# before the line is complete: one stall per iteration.
#   anomalies: nagle_delay = the iterations where the head's ACK came >= 30 ms
#   after it and the tail left right after that ACK (measured in the capture;
#   the first exchanges can be fast while the server is still in quick-ACK
#   mode). nagle_nodelay.sh is the same with TCP_NODELAY.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_kernel.sh"

ITER=${ITER:-20}
NODELAY=${NODELAY:-0}
NAME=${NAME:-nagle_delayed_ack}

scn_init "$NAME" 8080
kscn_require tshark nstat
topo_up
capture_start
nstat_begin

bg_start SERVER server "$PY" -u "$KPEER" --ready "$WORK/server.ready" line-echo \
    --listen "$SERVER_IP4:8080"
wait_file "$WORK/server.ready"
nd=()
[[ $NODELAY == 1 ]] && nd=(--nodelay)
in_ns CLIENT "$PY" -u "$KPEER" --server "$SERVER_IP4" write-write-read --iterations "$ITER" \
    --first 40 --second 60 "${nd[@]}" >"$WORK/client.log" 2>&1
log "client: $(tail -1 "$WORK/client.log" | cut -c10-)"
sleep 0.5   # the server's FIN/ACK exchange after the client's close
ksnapshot
capture_stop
bg_stop server
kscn_finish --param iterations="$ITER" --param first=40 --param second=60
