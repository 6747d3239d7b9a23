#!/usr/bin/env bash
# clean_mix: a healthy HTTP server on :8080. 10 connections carry 20
# request/response exchanges (one-shot and keep-alive); on half of them the
# client closes first, on the other half the server closes first
# (Connection: close). 8 connections over IPv4, the last 2 over IPv6.
# All complete; ~1 s later the snapshot shows TIME_WAIT on whichever side
# closed first and nothing else.
#   server TIME_WAIT: 10.99.0.2:8080 x4, [fd99::2]:8080 x1
#   client TIME_WAIT: 10.99.0.1 x4,       fd99::1 x1
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

scn_init clean_mix 8080
topo_up
capture_start

bg_start SERVER server "$PY" -u "$PEERS/server.py" \
    --listen "$SERVER_IP4:8080" --listen "[$SERVER_IP6]:8080" --ready "$WORK/server.ready"
wait_file "$WORK/server.ready"

# FAM:NREQ:CLOSER[:BODY]  -> 1+1+2+2+3+3+2+2+2+2 = 20 exchanges
in_ns CLIENT "$PY" -u "$PEERS/client.py" --gap 0.1 mix \
    --conn v4:1:server:120   --conn v4:1:client:300 \
    --conn v4:2:server:800   --conn v4:2:client:2000 \
    --conn v4:3:server:4000  --conn v4:3:client:150 \
    --conn v4:2:server:60    --conn v4:2:client:1000 \
    --conn v6:2:server:500   --conn v6:2:client:3000 \
    >"$WORK/client.log" 2>&1

sleep 1
snapshot
capture_stop
bg_stop server
scn_finish
