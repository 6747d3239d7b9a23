#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of fuzz_pkt into corpus/pkt/ (run from tests/fuzz/)."""

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


def ext(nh, length8=0):
    n = (length8 + 1) * 8
    return bytes([nh, length8, 1, n - 4]) + bytes(n - 4)


FRAMES = {
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


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, frame in sorted(FRAMES.items()):
        assert len(frame) < 200, name
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(frame)


if __name__ == '__main__':
    main()
