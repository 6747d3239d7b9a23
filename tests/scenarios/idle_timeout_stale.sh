#!/usr/bin/env bash
# idle_timeout_stale: a database-like server on :3306 (line protocol) closes a
# connection after 2 s without traffic (MySQL wait_timeout, short). A client
# pool opens 5 connections, one query on each, then idles 3 s: at 2 s the
# server close()s each one (FIN; idle_close), the client kernel ACKs and sits
# in CLOSE_WAIT because the pool does not notice. After 3 s the pool hands the
# stale connections out again: a query is sent on each (stale_reuse); the
# server's socket is an orphan in FIN_WAIT_2 and answers the payload with RST.
# Then the snapshot.
#
# Kernel view at the end: nothing left. The server's FIN_WAIT_2 orphans are
# destroyed by the RST they send; the client sockets go to CLOSED on the RST
# and CLOSED sockets are no longer hashed, so ss cannot list them (the client
# closes its descriptors anyway). The expectation therefore has no endpoints;
# the story is in the anomalies (idle_close x5 on 10.99.0.2:3306,
# stale_reuse x5 on 10.99.0.1, 5 RSTs from the server).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COUNT=${COUNT:-5}

scn_init idle_timeout_stale 3306
topo_up
capture_start

bg_start SERVER server "$PY" -u "$PEERS/server.py" --proto line --idle-timeout 2 \
    --listen "$SERVER_IP4:3306" --ready "$WORK/server.ready"
wait_file "$WORK/server.ready"

in_ns CLIENT "$PY" -u "$PEERS/client.py" --port 3306 pool --count "$COUNT" --idle 3 --settle 0.3 \
    >"$WORK/client.log" 2>&1
sed 's/^/    client: /' "$WORK/client.log" | grep -E 'stale query ->' >&2 || true
sleep 0.2
snapshot
capture_stop
bg_stop server
nrst=$(tcpdump -nr "$WORK/cap.pcap" 'src host 10.99.0.2 and tcp[tcpflags] & tcp-rst != 0' 2>/dev/null | wc -l)
log "RSTs from the server: $nrst (expected $COUNT)"
((nrst == COUNT)) || die "expected $COUNT RSTs from the server, found $nrst"
scn_finish
