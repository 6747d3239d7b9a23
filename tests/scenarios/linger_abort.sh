#!/usr/bin/env bash
# linger_abort: abortive close. A server on :8080 answers one request per
# connection, then sets SO_LINGER {on, 0} and close()s: the kernel sends a
# RST instead of a FIN and frees the socket at once. 5 connections in a row;
# the client reads the response, then sees ECONNRESET.
#   anomalies: rst_abort 5, attributed to 10.99.0.2:8080 (server TcpOutRsts 5)
#   endpoints: {} (RST leaves no socket on either side, no TIME_WAIT)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_kernel.sh"

COUNT=${COUNT:-5}

scn_init linger_abort 8080
kscn_require tshark nstat
topo_up
capture_start
nstat_begin

bg_start SERVER server "$PY" -u "$KPEER" --ready "$WORK/server.ready" linger-server \
    --listen "$SERVER_IP4:8080"
wait_file "$WORK/server.ready"
in_ns CLIENT "$PY" -u "$KPEER" --server "$SERVER_IP4" linger-client --count "$COUNT" \
    >"$WORK/client.log" 2>&1
nreset=$(grep -c 'connection reset' "$WORK/client.log" || true)
log "client: $nreset of $COUNT connections ended in ECONNRESET"
sleep 0.5
ksnapshot
capture_stop
bg_stop server
nrst=$(pcap_count 'src host 10.99.0.2 and tcp[tcpflags] & tcp-rst != 0')
((nrst == COUNT)) || die "expected $COUNT RSTs from the server, found $nrst"
kscn_finish --param count="$COUNT"
