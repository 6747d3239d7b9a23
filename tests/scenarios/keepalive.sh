#!/usr/bin/env bash
# keepalive: a connection pool that keeps its idle connections alive. The
# client opens 3 connections to the HTTP server on :8080, one exchange each,
# then sets SO_KEEPALIVE with TCP_KEEPIDLE 1 s, TCP_KEEPINTVL 1 s,
# TCP_KEEPCNT 3 and idles ~5.4 s. Both sides stay alive: the client kernel
# sends a probe (seq = snd.nxt - 1, no payload) about every second on each
# connection and the server kernel answers each with an ACK.
#   anomalies: keepalive = client TcpExtTCPKeepAlive = the probes in the
#   capture (~5 per connection), keepalive_ack the same number, attributed
#   to 10.99.0.1 and 10.99.0.2:8080; nothing else.
#   endpoints: ESTABLISHED 3 on both sides.
# The snapshot falls between two probe rounds, so kernel and capture agree.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_kernel.sh"

COUNT=${COUNT:-3}
HOLD=${HOLD:-5.4}

scn_init keepalive 8080
kscn_require tshark nstat
topo_up
capture_start
nstat_begin

bg_start SERVER server "$PY" -u "$PEERS/server.py" --listen "$SERVER_IP4:8080" \
    --ready "$WORK/server.ready"
wait_file "$WORK/server.ready"
bg_start CLIENT client "$PY" -u "$KPEER" --server "$SERVER_IP4" --ready "$WORK/client.ready" \
    keepalive --count "$COUNT" --idle 1 --intvl 1 --cnt 3 --hold "$HOLD"
wait_file "$WORK/client.ready" 20
ksnapshot
capture_stop
bg_stop client
bg_stop server
kscn_finish --param count="$COUNT" --param idle=1 --param intvl=1 --param cnt=3
