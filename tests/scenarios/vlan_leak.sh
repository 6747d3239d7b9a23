#!/usr/bin/env bash
# vlan_leak: close_wait_leak (30 connections, the same story and the same
# expectation) with every frame carrying an 802.1Q tag, VLAN 42. This kernel
# has no 8021q module, so the tag is made by the kernel's tc BPF path: a
# clsact program on both veth ends pushes the tag on egress
# (bpf_skb_vlan_push) and pops it on ingress (bpf_skb_vlan_pop), see
# bpf/vlan_tag.c. The IP stacks never see a tag; the veth link and the
# capture always do (libpcap rebuilds the tag from the skb's VLAN metadata,
# as with any NIC that strips tags). Needs clang and libbpf-dev.
#   endpoints: server 10.99.0.2:8080 CLOSE_WAIT x30, client 10.99.0.1 FIN_WAIT_2 x30
#   anomalies: close_wait_stuck 30, keepalive 30, keepalive_ack 30
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/lib_kernel.sh"

COUNT=${COUNT:-30}
SIT_S=${SIT_S:-6}
VLAN=${VLAN:-42}

scn_init vlan_leak 8080
kscn_require tshark nstat clang tc
[[ -e /usr/include/bpf/bpf_helpers.h ]] || die "libbpf-dev is missing (bpf/bpf_helpers.h)"
topo_up
vlan_tag_up "$VLAN"
capture_start
nstat_begin

leak_run "$SERVER_IP4:8080"
ksnapshot
capture_stop
bg_stop server
ntag=$(tcpdump -nr "$WORK/cap.pcap" "vlan $VLAN" 2>/dev/null | wc -l)
nall=$(tcpdump -nr "$WORK/cap.pcap" 2>/dev/null | wc -l)
log "frames tagged VLAN $VLAN: $ntag of $nall"
((ntag == nall && nall > 0)) || die "untagged frames in the capture"
kscn_finish --param count="$COUNT" --param sit="$SIT_S" --param vlan="$VLAN" \
    --param close_wait_ss="$(grep -c "^CLOSE-WAIT" "$WORK/ss.txt" || true)"
