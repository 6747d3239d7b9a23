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

leak_run "[$SERVER_IP6]:8080" --family v6
ksnapshot
capture_stop
bg_stop server
gap=$(fin_gap)
log "packet time from the last FIN to the end of the capture: ${gap}s"
awk -v g="$gap" 'BEGIN{exit !(g >= 5.5)}' || die "capture ends only ${gap}s after the last FIN"
kscn_finish --param count="$COUNT" --param sit="$SIT_S" \
    --param close_wait_ss="$(grep -c "^CLOSE-WAIT" "$WORK/ss.txt" || true)"
