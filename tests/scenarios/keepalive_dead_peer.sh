#!/usr/bin/env bash
# keepalive_dead_peer: the server host dies silently under an idle, kept-alive
# connection. As in keepalive, the client opens 2 connections to :8080, one
# exchange each, then SO_KEEPALIVE with TCP_KEEPIDLE 1 s, TCP_KEEPINTVL 1 s,
# TCP_KEEPCNT 3. The first probes are answered. 2.5 s after the exchanges
# the server "loses power": nftables in the server namespace drops every
# packet in and out, and its sockets are destroyed with `ss -K` (the RSTs
# that this makes are dropped by the same rules, as if the host had
# vanished). The capture, on the server's port, still sees what arrives:
# 3 unanswered probes per connection, then the client kernel gives up:
# it sends a RST and the application's recv() fails with ETIMEDOUT.
#   anomalies: keepalive (client TcpExtTCPKeepAlive), keepalive_ack (only the
#   answered ones), rst_abort 2 attributed to 10.99.0.1 (client TcpOutRsts).
#   endpoints: {} (the client's sockets closed with the RST; the server's were
#   destroyed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_kernel.sh"

COUNT=${COUNT:-2}
DIE_AFTER=${DIE_AFTER:-2.5}
CNT=3

scn_init keepalive_dead_peer 8080
kscn_require tshark nstat nft
topo_up
capture_start
nstat_begin

bg_start SERVER server "$PY" -u "$PEERS/server.py" --listen "$SERVER_IP4:8080" \
    --ready "$WORK/server.ready"
wait_file "$WORK/server.ready"
bg_start CLIENT client "$PY" -u "$KPEER" --server "$SERVER_IP4" --ready "$WORK/client.ready" \
    keepalive --count "$COUNT" --idle 1 --intvl 1 --cnt "$CNT" --hold 15
for ((i = 0; i < 100; i++)); do
    grep -q 'connections idle with keepalive' "$WORK/client.log" 2>/dev/null && break
    sleep 0.05
done
grep -q 'connections idle with keepalive' "$WORK/client.log" || die "client did not set up"
sleep "$DIE_AFTER"
in_ns SERVER nft -f - <<'NFT' || die "nft failed"
table inet tcpa_dead {
    chain in  { type filter hook input  priority -200; policy drop; }
    chain out { type filter hook output priority -200; policy drop; }
}
NFT
killed=$(in_ns SERVER ss -K -tnH state established '( sport = :8080 )' | wc -l)
log "server host 'died': all traffic dropped, $killed sockets destroyed (ss -K)"
((killed == COUNT)) || die "ss -K destroyed $killed sockets, expected $COUNT"
wait_file "$WORK/client.ready" 15
log "client: $(grep -c 'Connection timed out' "$WORK/client.log" || true) of $COUNT connections failed with ETIMEDOUT"
sleep 0.3
ksnapshot
capture_stop
bg_stop client
bg_stop server
kscn_finish --param count="$COUNT" --param idle=1 --param intvl=1 --param cnt="$CNT" \
    --param die_after="$DIE_AFTER"
