#!/usr/bin/env bash
# loss_recovery: real loss and SACK recovery. The client and the server are
# joined through a third namespace holding a Linux bridge:
#     client eth0 <-veth-> [bc - br0 - bs] <-veth-> eth0 server
# nftables in the bridge namespace (family bridge, forward hook) drops ~3%
# of the client's data frames at random (numgen random mod 100 < 3; only
# client -> server frames longer than 100 bytes, i.e. with payload: never a
# SYN, FIN or ACK). The client sends 2 MiB to a sink on :8080, half-closes,
# reads the sink's "OK <n>" and closes.
# Two captures of the same connection, headers only (snaplen 96: every
# header is whole, payload is cut; the IP length still tells each segment's
# size):
#     loss_recovery_sender.pcap    on the client's eth0, before the loss
#     loss_recovery_receiver.pcap  on the server's eth0, after the loss
# Each gets its own expectation (same ss snapshot). Expectations: the
# sender's kernel counters (TcpRetransSegs, TcpExtTCPFastRetrans,
# TcpExtTCPSackRecovery, TcpExtTCPLostRetransmit, TcpExtTCPTimeouts, ...),
# the nftables drop counter (= frames of the sender capture missing from the
# receiver capture), the per-segment rules of ANOMALIES.md applied to each
# capture, and tshark's tcp.analysis counts ("tshark").
# The drops are random: every run gives other counts, and each expectation
# describes its own capture only.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_kernel.sh"

SIZE=${SIZE:-2097152}
LOSS_PCT=${LOSS_PCT:-3}
SNAPLEN=96

scn_init loss_recovery 8080
kscn_require tshark nstat nft
topo_bridge_up
ip netns exec "$NS_B" nft -f - <<NFT || die "nft (bridge family) failed"
table bridge tcpa_loss {
    chain fw {
        type filter hook forward priority 0; policy accept;
        ether type ip ip saddr $CLIENT_IP4 ip daddr $SERVER_IP4 tcp dport 8080 ip length > 100 \
            numgen random mod 100 < $LOSS_PCT counter drop
    }
}
NFT
kcap_start sender CLIENT "$SNAPLEN"
kcap_start receiver SERVER "$SNAPLEN"
nstat_begin

bg_start SERVER server "$PY" -u "$KPEER" --ready "$WORK/server.ready" sink --listen "$SERVER_IP4:8080"
wait_file "$WORK/server.ready"
in_ns CLIENT "$PY" -u "$KPEER" --server "$SERVER_IP4" bulk-send --size "$SIZE" \
    >"$WORK/client.log" 2>&1
log "client: $(grep -v answer "$WORK/client.log" | tail -1 | cut -c10-)"
log "server: $(tail -1 "$WORK/server.log" | cut -c10-)"
grep -q "after $SIZE bytes" "$WORK/server.log" || die "the sink did not get $SIZE bytes"
sleep 0.5
ksnapshot
kcap_stop sender
kcap_stop receiver
bg_stop server
drops=$(ip netns exec "$NS_B" nft list chain bridge tcpa_loss fw | sed -n 's/.*counter packets \([0-9]*\) bytes.*/\1/p')
[[ -n $drops ]] || die "cannot read the nftables drop counter"
log "nftables dropped $drops data frames"
kscn_finish --param size="$SIZE" --param loss_pct="$LOSS_PCT" --param nft_drops="$drops"
