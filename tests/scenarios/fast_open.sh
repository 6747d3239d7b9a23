#!/usr/bin/env bash
# fast_open: TCP Fast Open (RFC 7413). Both kernels allow it
# (net.ipv4.tcp_fastopen=3), a line server on :8080 sets TCP_FASTOPEN on its
# listener, and the client opens COUNT connections in a row with
# sendto(MSG_FASTOPEN) of one 100-byte line: the first asks for a cookie and
# sends its line after the handshake; every later one carries its line in
# the SYN, which the server's SYN-ACK acknowledges. Each reads the reply and
# closes (the client closes first: TIME_WAIT on its side).
#   anomalies: none. The SYN's data is sequence space: the segment after it
#   is not a lost_segment, the SYN-ACK's ACK of it is not ack_unseen.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_kernel.sh"

COUNT=${COUNT:-10}

scn_init fast_open 8080
kscn_require tshark nstat
topo_up
in_ns CLIENT sysctl -qw net.ipv4.tcp_fastopen=3
in_ns SERVER sysctl -qw net.ipv4.tcp_fastopen=3
capture_start
nstat_begin

bg_start SERVER server "$PY" -u "$KPEER" --ready "$WORK/server.ready" line-echo \
    --listen "$SERVER_IP4:8080" --fastopen 16
wait_file "$WORK/server.ready"
in_ns CLIENT "$PY" -u "$KPEER" --server "$SERVER_IP4" fast-open --count "$COUNT" --size 100 \
    >"$WORK/client.log" 2>&1
log "client: $(grep -c 'data in SYN: yes' "$WORK/client.log") of $COUNT with data in the SYN"
sleep 0.5   # the server's FIN after the client's
ksnapshot
capture_stop
bg_stop server
kscn_finish --param count="$COUNT"
