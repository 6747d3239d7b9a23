#!/usr/bin/env bash
# backlog_overflow: a server on :8080 calls listen(1) and never accept()s
# (tcp_syncookies=0 in its namespace). A client connects once, then fires 7
# more non-blocking connect()s at once and watches them for 6 s. Linux: the accept queue is
# full at 2 (> backlog), a new request is refused while 2 are pending. The
# server's uplink is slow (tc tbf 20 kbit/s, burst 80 B: its SYN-ACKs leave
# ~30 ms apart), so several handshakes are in flight at once: the kernel
# drops SYNs (the client repeats them every ~1 s: syn_retransmit; those
# connections are never answered: syn_unanswered), and drops the final ACK of
# a handshake that it answered while the accept queue had room but that
# completed after it filled (the client is ESTABLISHED, the server still
# SYN_RECEIVED and repeats its SYN-ACK: synack_retransmit).
# Expectations: the kernels' counters (server TcpExtListenOverflows,
# TcpExtListenDrops, TcpExtTCPReqQFullDrop; TcpExtTCPSynRetrans of each side =
# the repeats in the capture) and ss. The snapshot is taken 6 s after the
# SYNs, between the retransmissions at +3 s and +7 s.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_kernel.sh"

COUNT=${COUNT:-8}
BACKLOG=${BACKLOG:-1}
HOLD=${HOLD:-6}

scn_init backlog_overflow 8080
kscn_require tshark nstat
topo_up
ns_sysctl SERVER net.ipv4.tcp_syncookies=0 net.core.somaxconn=128
# slow server uplink: one 74-byte SYN-ACK per 32 ms (no frame here is larger
# than the 80-byte bucket)
tc -n "$NS_S" qdisc add dev "$IFNAME" root tbf rate 20kbit burst 80 limit 10000 \
    || die "tc tbf on the server's veth failed"
capture_start
nstat_begin

bg_start SERVER server "$PY" -u "$KPEER" --ready "$WORK/server.ready" listen-only \
    --listen "$SERVER_IP4:8080" --backlog "$BACKLOG"
wait_file "$WORK/server.ready"
bg_start CLIENT client "$PY" -u "$KPEER" --server "$SERVER_IP4" --ready "$WORK/client.ready" \
    burst-connect --count "$COUNT" --first 1 --hold "$HOLD"
wait_file "$WORK/client.ready" $((HOLD + 10))
ksnapshot
capture_stop
bg_stop client
bg_stop server
log "client: $(grep 'hold over' "$WORK/client.log" | cut -c10-)"
kscn_finish --param count="$COUNT" --param backlog="$BACKLOG" --param syn_timeout_s=3
