#!/usr/bin/env bash
# ipv6_leak: the close_wait_leak story over IPv6, 10 connections. The proxy on
# [fd99::2]:8080 answers one request per connection and never close()s; the
# client (fd99::1) does one exchange on each, then shutdown()+close() on all
# and exits. 6+ s later: server CLOSE_WAIT x10, client FIN_WAIT_2 x10. As in
# close_wait_leak, each leaked socket sends one keep-alive probe 6 s after
# the client's FIN (TCP_KEEPIDLE 6), answered by the client's FIN_WAIT_2
# mini-socket: the capture's last packets carry packet time past
# close_wait_s.
#   anomalies: close_wait_stuck 10 ([fd99::2]:8080), keepalive 10 (server
#   TcpExtTCPKeepAlive), keepalive_ack 10 (fd99::1).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_kernel.sh"

COUNT=${COUNT:-10}
SIT_S=${SIT_S:-6}

scn_init ipv6_leak 8080
kscn_require tshark nstat
topo_up
capture_start
nstat_begin

bg_start SERVER server "$PY" -u "$PEERS/server.py" --leak --keepalive-idle "$SIT_S" \
    --keepalive-intvl 75 --listen "[$SERVER_IP6]:8080" --ready "$WORK/server.ready"
wait_file "$WORK/server.ready"
in_ns CLIENT "$PY" -u "$PEERS/client.py" --size 300 --gap 0.2 leak --family v6 --count "$COUNT" \
    >"$WORK/client.log" 2>&1
log "client exited after closing $COUNT connections; server sits ${SIT_S}s"
for ((i = 0; i < 50; i++)); do
    n=$(in_ns SERVER ss -tanH state close-wait | wc -l)
    ((n >= COUNT)) && break
    sleep 0.1
done
sleep "$SIT_S"
sleep 0.5
ksnapshot
capture_stop
bg_stop server
last_fin=$(tcpdump -ttnr "$WORK/cap.pcap" 'tcp[tcpflags] & tcp-fin != 0 or (ip6 and ip6[53] & 1 != 0)' 2>/dev/null | tail -1 | cut -d' ' -f1)
last_pkt=$(tcpdump -ttnr "$WORK/cap.pcap" 2>/dev/null | tail -1 | cut -d' ' -f1)
gap=$(awk -v a="$last_fin" -v b="$last_pkt" 'BEGIN{printf "%.3f", b - a}')
log "packet time from the last FIN to the end of the capture: ${gap}s"
awk -v g="$gap" 'BEGIN{exit !(g >= 5.5)}' || die "capture ends only ${gap}s after the last FIN"
kscn_finish --param count="$COUNT" --param sit="$SIT_S" \
    --param close_wait_ss="$(grep -c "^CLOSE-WAIT" "$WORK/ss.txt" || true)"
