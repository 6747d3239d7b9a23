#!/usr/bin/env bash
# refused: 20 connection attempts to 10.99.0.2:9999 where nothing listens
# (each SYN answered by RST/ACK: conn_refused), then 5 successful connections
# to :8080, one exchange each, left open: at the snapshot they are
# ESTABLISHED on both sides.
#   server 10.99.0.2:8080 ESTABLISHED x5, client 10.99.0.1 ESTABLISHED x5
# (port 9999 has no socket at all, so it never appears in the kernel's view;
# it is still listed in server_ports so that the refused endpoint is
# attributed as 10.99.0.2:9999.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ATTEMPTS=${ATTEMPTS:-20}
COUNT=${COUNT:-5}

scn_init refused 8080 9999
topo_up
capture_start

bg_start SERVER server "$PY" -u "$PEERS/server.py" \
    --listen "$SERVER_IP4:8080" --ready "$WORK/server.ready"
wait_file "$WORK/server.ready"

bg_start CLIENT client "$PY" -u "$PEERS/client.py" --size 200 --gap 0.05 refused \
    --refused-port 9999 --attempts "$ATTEMPTS" --count "$COUNT" --ready "$WORK/client.ready"
wait_file "$WORK/client.ready" 20
sleep 0.5   # final ACKs of the last exchange
snapshot
capture_stop
bg_stop client
bg_stop server
nrst=$(pcap_count 'src host 10.99.0.2 and src port 9999 and tcp[tcpflags] & (tcp-rst|tcp-ack) == (tcp-rst|tcp-ack)')
log "RST/ACK from :9999: $nrst (expected $ATTEMPTS)"
((nrst == ATTEMPTS)) || die "expected $ATTEMPTS RST/ACK answers from :9999, found $nrst"
scn_finish
