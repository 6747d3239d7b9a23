#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of fuzz_pkt into corpus/pkt/ (run from anywhere).

Each file is fuzz_pkt's input: one byte choosing the entry point and link
type (an index into fuzz_pkt.c's entries[]), one byte of extra wire length
(in units of 257 bytes), then the frame.
"""

import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'pkt')

MACS = bytes.fromhex('020000000001020000000002')
V4_SRC = bytes([10, 0, 0, 1])
V4_DST = bytes([10, 0, 0, 2])
V6_SRC = bytes.fromhex('20010db8000000000000000000000001')
V6_DST = bytes.fromhex('20010db8000000000000000000000002')
SYN_OPTS = bytes.fromhex('020405b40402080a0000000100000000' '01030307')
TS_OPTS = bytes.fromhex('0101080a0000000200000001')
SACK_OPTS = bytes.fromhex('0101050a0000100000002000')


def eth(etype, tags=()):
    b = MACS
    for tpid, tci in tags:
        b += struct.pack('!HH', tpid, tci)
    return b + struct.pack('!H', etype)


def tcp(flags, opts=b'', payload=b''):
    doff = 5 + len(opts) // 4
    return struct.pack('!HHIIBBHHH', 40000, 80, 1000, 2000 if flags & 0x10 else 0,
                       doff << 4, flags, 65535, 0, 0) + opts + payload


def ipv4(l4, proto=6, opts=b'', frag=0x4000):
    ihl = 5 + len(opts) // 4
    return struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, ihl * 4 + len(l4), 1, frag,
                       64, proto, 0, V4_SRC, V4_DST) + opts + l4


def ipv6(l4, nh=6, ext=b''):
    return struct.pack('!IHBB16s16s', 0x60000000, len(ext) + len(l4), nh, 64,
                       V6_SRC, V6_DST) + ext + l4


def udp(dport, body):
    return struct.pack('!HHHH', 51000, dport, 8 + len(body), 0) + body


def vxlan(vni, frame):
    return struct.pack('!II', 0x08000000, vni << 8) + frame


def geneve(vni, proto, body, opts=b''):
    return struct.pack('!BBHI', len(opts) // 4, 0, proto, vni << 8) + opts + body


def gre(proto, body, key=None, seq=None, csum=False):
    flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | \
        (0x1000 if seq is not None else 0)
    b = struct.pack('!HH', flags, proto)
    if csum:
        b += bytes(4)
    if key is not None:
        b += struct.pack('!I', key)
    if seq is not None:
        b += struct.pack('!I', seq)
    return b + body


def erspan2(session, frame):
    return struct.pack('!HHI', 0x1000 | 10, session, 0) + frame


def erspan3(session, frame, ft=0, sub=False):
    w = ft << 10 | (1 if sub else 0)
    return struct.pack('!HHIHH', 0x2000 | 10, session, 0x11223344, 0, w) + \
        (bytes(8) if sub else b'') + frame


def mpls(labels, body):
    b = b''
    for i, label in enumerate(labels):
        b += struct.pack('!I', label << 12 | (0x100 if i == len(labels) - 1 else 0) | 64)
    return b + body


def outer4(proto, body):
    return struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(body), 1, 0x4000, 64, proto, 0,
                       bytes([172, 16, 0, 1]), bytes([172, 16, 0, 2])) + body


def nflog(ip, le=True):
    fmt = '<HH' if le else '!HH'

    def tlv(t, v):
        b = struct.pack(fmt, 4 + len(v), t) + v
        return b + bytes(-len(b) % 4)
    return bytes([2, 0, 0, 5]) + tlv(1, bytes([8, 0, 1, 0])) + tlv(10, b'tcpa\0') + tlv(9, ip)


def ext(nh, length8=0):
    n = (length8 + 1) * 8
    return bytes([nh, length8, 1, n - 4]) + bytes(n - 4)


ETH_FRAMES = {
    'v4_syn_opts': eth(0x0800) + ipv4(tcp(0x02, SYN_OPTS)),
    'v4_ack_ts_data': eth(0x0800) + ipv4(tcp(0x18, TS_OPTS, b'hello')),
    'v4_ip_options': eth(0x0800) + ipv4(tcp(0x10), opts=bytes.fromhex('94040000')),
    'v4_sack': eth(0x0800) + ipv4(tcp(0x10, SACK_OPTS)),
    'v4_fragment': eth(0x0800) + ipv4(tcp(0x10), frag=0x2000),
    'v4_udp': eth(0x0800) + ipv4(bytes(8), proto=17),
    'v4_padded': eth(0x0800) + ipv4(tcp(0x10)) + bytes(6),
    'v4_snaplen': (eth(0x0800) + ipv4(tcp(0x18, TS_OPTS, bytes(1000))))[:80],
    'v4_truncated_tcp': (eth(0x0800) + ipv4(tcp(0x02, SYN_OPTS)))[:60],
    'v4_bad_flags': eth(0x0800) + ipv4(tcp(0x03)),
    'v6_synack_opts': eth(0x86dd) + ipv6(tcp(0x12, SYN_OPTS)),
    'v6_ext_hbh_dst': eth(0x86dd) + ipv6(tcp(0x10, TS_OPTS), nh=0,
                                         ext=ext(60) + ext(6, 1)),
    'v6_atomic_frag': eth(0x86dd) + ipv6(tcp(0x10), nh=44,
                                         ext=bytes([6, 0, 0, 0, 0, 0, 0, 1])),
    'v6_truncated_ext': (eth(0x86dd) + ipv6(tcp(0x10), nh=60, ext=ext(6, 2)))[:70],
    'vlan_v4_syn': eth(0x0800, [(0x8100, 100)]) + ipv4(tcp(0x02, SYN_OPTS)),
    'qinq_v6_ack': eth(0x86dd, [(0x88a8, 10), (0x8100, 20)]) + ipv6(tcp(0x10)),
    'arp': eth(0x0806) + bytes(28),
    'short_l2': MACS[:10],
}


# fuzz_pkt.c entries[]: index -> link type.
E_FAST, E_ETH, E_NULL, E_LOOP, E_RAW, E_RAW12, E_RAW14, E_IPV4, E_IPV6, E_SLL, E_SLL2, \
    E_PPP, E_PPP_HDLC, E_C_HDLC, E_NFLOG, E_UNSUPPORTED = range(16)

V4_SEG = ipv4(tcp(0x18, TS_OPTS, b'data'))
V6_SEG = ipv6(tcp(0x12, SYN_OPTS))
INNER = eth(0x0800) + V4_SEG

LINK_FRAMES = {
    'link_null_v4': (E_NULL, 0, struct.pack('<I', 2) + V4_SEG),
    'link_null_v6_darwin': (E_NULL, 0, struct.pack('<I', 30) + V6_SEG),
    'link_loop_v6': (E_LOOP, 0, struct.pack('!I', 24) + V6_SEG),
    'link_raw_v4': (E_RAW, 0, V4_SEG),
    'link_raw12_v6': (E_RAW12, 0, V6_SEG),
    'link_raw14_v4': (E_RAW14, 0, V4_SEG),
    'link_ipv4': (E_IPV4, 0, V4_SEG),
    'link_ipv6': (E_IPV6, 0, V6_SEG),
    'link_sll_v4': (E_SLL, 0, struct.pack('!HHH8sH', 0, 1, 6, bytes(8), 0x0800) + V4_SEG),
    'link_sll2_vlan_v6': (E_SLL2, 0, struct.pack('!HHIHBB8s', 0x8100, 0, 3, 1, 4, 6, bytes(8))
                          + struct.pack('!HH', 42, 0x86dd) + V6_SEG),
    'link_ppp_v4': (E_PPP, 0, b'\x00\x21' + V4_SEG),
    'link_ppp_pfc_hdlc': (E_PPP, 0, b'\xff\x03\x57' + V6_SEG),
    'link_ppp_hdlc_v6': (E_PPP_HDLC, 0, b'\xff\x03\x00\x57' + V6_SEG),
    'link_ppp_hdlc_cisco': (E_PPP_HDLC, 0, b'\x0f\x00\x08\x00' + V4_SEG),
    'link_c_hdlc_mpls': (E_C_HDLC, 0, b'\x8f\x00\x88\x47' + mpls([5], V4_SEG)),
    'link_nflog_le': (E_NFLOG, 0, nflog(V4_SEG)),
    'link_nflog_be_v6': (E_NFLOG, 0, nflog(V6_SEG, le=False)),
    'link_unsupported': (E_UNSUPPORTED, 0, INNER),
    'tso_v4_len0': (E_ETH, 250, eth(0x0800) + V4_SEG[:2] + b'\0\0' + V4_SEG[4:]),
    'tso_v6_len0': (E_ETH, 3, eth(0x86dd) + V6_SEG[:4] + b'\0\0' + V6_SEG[6:]),
    'tso_fast_v4_len0': (E_FAST, 0, eth(0x0800) + V4_SEG[:2] + b'\0\0' + V4_SEG[4:]),
    'tun_vxlan': (E_ETH, 0, eth(0x0800) + outer4(17, udp(4789, vxlan(77, INNER)))),
    'tun_vxlan_8472_v6': (E_FAST, 0, eth(0x86dd) + ipv6(udp(8472, vxlan(78, INNER)), nh=17)),
    'tun_vxlan_vlan_inner': (E_ETH, 0, eth(0x0800) + outer4(17, udp(4789, vxlan(
        9, eth(0x86dd, [(0x8100, 30)]) + V6_SEG)))),
    'tun_geneve_opts': (E_ETH, 0, eth(0x0800) + outer4(17, udp(6081, geneve(
        5, 0x6558, INNER, opts=bytes(8))))),
    'tun_geneve_ip': (E_FAST, 0, eth(0x0800) + outer4(17, udp(6081, geneve(6, 0x86dd, V6_SEG)))),
    'tun_gre_ip': (E_ETH, 0, eth(0x0800) + outer4(47, gre(0x0800, V4_SEG))),
    'tun_gre_key_seq_csum': (E_ETH, 0, eth(0x0800) + outer4(47, gre(0x86dd, V6_SEG, key=7,
                                                                 seq=1, csum=True))),
    'tun_gre_teb': (E_FAST, 0, eth(0x86dd) + ipv6(gre(0x6558, INNER, key=3), nh=47)),
    'tun_erspan1': (E_ETH, 0, eth(0x0800) + outer4(47, gre(0x88be, INNER))),
    'tun_erspan2': (E_ETH, 0, eth(0x0800) + outer4(47, gre(0x88be, erspan2(0x3ff, INNER),
                                                        seq=9))),
    'tun_erspan3_sub': (E_ETH, 0, eth(0x0800) + outer4(47, gre(0x22eb, erspan3(
        4, INNER, sub=True)))),
    'tun_erspan3_ip': (E_FAST, 0, eth(0x0800) + outer4(47, gre(0x22eb, erspan3(
        4, V6_SEG, ft=2)))),
    'tun_ipip': (E_FAST, 0, eth(0x0800) + outer4(4, V4_SEG)),
    'tun_6in4': (E_ETH, 0, eth(0x0800) + outer4(41, V6_SEG)),
    'tun_4in6': (E_ETH, 0, eth(0x86dd) + ipv6(V4_SEG, nh=4)),
    'tun_mpls_stack': (E_FAST, 0, eth(0x8847, [(0x8100, 7)]) + mpls([16, 17, 18], V6_SEG)),
    'tun_mpls_pw': (E_ETH, 0, eth(0x8847) + mpls([1000], bytes(4) + INNER)),
    'tun_vlan3': (E_FAST, 0, eth(0x0800, [(0x88a8, 1), (0x8100, 2), (0x8100, 3)]) + V4_SEG),
    'tun_vlan9100': (E_ETH, 0, eth(0x86dd, [(0x9100, 1)]) + V6_SEG),
    'tun_nested_gre_vxlan': (E_ETH, 0, eth(0x0800) + outer4(47, gre(0x0800, outer4(
        17, udp(4789, vxlan(5, INNER))), key=7))),
}


# Inputs libFuzzer found that broke the parser once, byte for byte.
REGRESSIONS = {
    # A 32-bit jumbo payload length wrapped the datagram's end offset.
    'regress_jumbo_wrap': bytes.fromhex(
        '000002000000000102400000000286dd600114000000002c3c0108010db8000000000000'
        '00000000000100020000000005b60402080404040404c204ffffffcd0000010200000000'
        '0286dd600114000000002c3c00000005b6080404040404c20425'),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.unlink(os.path.join(OUT, old))
    inputs = {}
    for name, frame in ETH_FRAMES.items():
        inputs[name] = (E_FAST, 0, frame)
        inputs['link_eth_' + name] = (E_ETH, 0, frame)
    inputs.update(LINK_FRAMES)
    for name, (entry, wire, frame) in sorted(inputs.items()):
        assert len(frame) < 300, name
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(bytes([entry, wire]) + frame)
    for name, data in sorted(REGRESSIONS.items()):
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
