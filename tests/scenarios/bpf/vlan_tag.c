/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 802.1Q tagging on a veth, for the vlan_leak capture scenario
 * (tests/scenarios/vlan_leak.sh). The kernel of the capture machine has no
 * 8021q module, so no VLAN device can be made; instead a tc clsact program
 * pushes the tag on egress and another pops it on ingress, on both ends of
 * the veth pair. The IP stacks never see a tag, the wire (and the capture)
 * always does.
 *
 *   clang -O2 -g -target bpf -I/usr/include/$(uname -m)-linux-gnu \
 *         -DVLAN_ID=42 -c vlan_tag.c -o vlan_tag.o
 *   tc qdisc add dev eth0 clsact
 *   tc filter add dev eth0 egress  bpf direct-action obj vlan_tag.o sec tc/vlan_push
 *   tc filter add dev eth0 ingress bpf direct-action obj vlan_tag.o sec tc/vlan_pop
 *
 * bpf_skb_vlan_push() puts the tag into the skb metadata (hardware-accelerated
 * form, as a NIC with tag offload would); veth hands it to the peer as such,
 * and packet sockets (tcpdump) get it in the auxiliary data, from which
 * libpcap rebuilds the tagged frame. Debian 12: apt-get install clang libbpf-dev.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef VLAN_ID
#define VLAN_ID 42
#endif

SEC("tc/vlan_push")
int vlan_push(struct __sk_buff *skb)
{
	if (skb->vlan_present)
		return TC_ACT_OK;
	if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), VLAN_ID) != 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("tc/vlan_pop")
int vlan_pop(struct __sk_buff *skb)
{
	if (skb->vlan_present && (skb->vlan_tci & 0x0fff) == VLAN_ID)
		bpf_skb_vlan_pop(skb);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "Dual BSD/GPL";
