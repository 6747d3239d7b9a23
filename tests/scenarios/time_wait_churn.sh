#!/usr/bin/env bash
# time_wait_churn: 200 short connections in a row to :8080 (one small
# exchange each) where the client closes first, then 50 where the server
# closes first (Connection: close). Snapshot right after:
#   client 10.99.0.1 TIME_WAIT x200, server 10.99.0.2:8080 TIME_WAIT x50
# (the client side of the last 50 goes CLOSE_WAIT -> LAST_ACK -> CLOSED).
# The server-closes-first connections come last so that no later SYN can
# land on a server-side TIME_WAIT tuple (no tuple_reuse in this capture); the
# client kernel never picks a source port of its own TIME_WAIT sockets
# towards the same destination (tcp_tw_reuse is loopback-only by default).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CLIENT_CLOSE=${CLIENT_CLOSE:-200}
SERVER_CLOSE=${SERVER_CLOSE:-50}

scn_init time_wait_churn 8080
topo_up
capture_start

bg_start SERVER server "$PY" -u "$PEERS/server.py" \
    --listen "$SERVER_IP4:8080" --ready "$WORK/server.ready"
wait_file "$WORK/server.ready"

in_ns CLIENT "$PY" -u "$PEERS/client.py" --size 16 --gap 0.01 churn \
    --client-close "$CLIENT_CLOSE" --server-close "$SERVER_CLOSE" >"$WORK/client.log" 2>&1
sleep 0.3   # last ACKs
snapshot
capture_stop
bg_stop server
nsyn=$(pcap_count 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn')
log "SYNs in capture: $nsyn (expected $((CLIENT_CLOSE + SERVER_CLOSE)))"
((nsyn == CLIENT_CLOSE + SERVER_CLOSE)) || die "capture has $nsyn SYNs, expected $((CLIENT_CLOSE + SERVER_CLOSE))"
scn_finish
