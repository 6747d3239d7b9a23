#!/usr/bin/env bash
# close_wait_leak: the seed story, and the bundled sample for `make run`.
# A "proxy" on :8080 accepts, reads the request, answers, and keeps every
# socket forever without close() (a descriptor leak). A load client opens 30
# connections, one exchange on each, then shutdown()+close() on all of them
# and exits (like a killed load generator). The server sits for 6+ s after the
# last client FIN (longer than close_wait_s = 5 s), then the snapshot:
#   server 10.99.0.2:8080 CLOSE_WAIT x30, client 10.99.0.1 FIN_WAIT_2 x30
# (Linux keeps the orphaned FIN_WAIT_2 for tcp_fin_timeout = 60 s).
# Then the capture stops, then the server is killed.
#
# Packet time needs a packet: a pcap has no "end of capture" timestamp, so an
# analyzer running on packet time would see the capture end right at the last
# FIN/ACK and CLOSE_WAIT would be 0 s old. The proxy therefore has
# SO_KEEPALIVE with TCP_KEEPIDLE = 6 s (as many proxies do): each leaked
# socket sends one keep-alive probe 6 s after the client's FIN, and the
# client's FIN_WAIT_2 socket answers it with an ACK. These 60 segments are the
# capture's last packets and carry packet time past close_wait_s without
# changing any state. KEEPALIVE_MARKER=0 turns them off.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COUNT=${COUNT:-30}
SIT_S=${SIT_S:-6}
KEEPALIVE_MARKER=${KEEPALIVE_MARKER:-1}

scn_init close_wait_leak 8080
topo_up
capture_start

leak_run "$SERVER_IP4:8080"
snapshot
capture_stop
bg_stop server
gap=$(fin_gap)
log "packet time from the last FIN to the end of the capture: ${gap}s"
if [[ $KEEPALIVE_MARKER == 1 ]] && ! awk -v g="$gap" 'BEGIN{exit !(g >= 5.5)}'; then
    die "capture ends only ${gap}s after the last FIN (keep-alive marker missing?)"
fi
scn_finish
