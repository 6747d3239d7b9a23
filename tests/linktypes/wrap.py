#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Wrap real captured frames into the link types and tunnels this kernel
cannot make (make_captures.sh runs it; README.md lists the results).

The TCP segments are the real ones of eth.pcap (veth), lo_eth.pcap
(loopback) and tun_raw.pcap (tun): every byte from the IP header on is
kept, with its timestamp; only the headers around it are built, by scapy.
check_tshark.py then checks that tshark dissects each file down to the
same TCP segments as its reference.

usage: wrap.py DIR   (reads and writes DIR)
"""

import os
import struct
import sys

from scapy.all import IP, UDP, GRE, VXLAN, Dot1Q, Ether, IPv6, Raw, load_contrib
from scapy.layers.l2 import Dot1AD

load_contrib('mpls')
load_contrib('geneve')
load_contrib('erspan')
from scapy.contrib.erspan import ERSPAN_II, ERSPAN_III, ERSPAN_PlatformSpecific  # noqa: E402
from scapy.contrib.geneve import GENEVE, GeneveOptions  # noqa: E402
from scapy.contrib.mpls import MPLS  # noqa: E402

LT_NULL, LT_ETHERNET, LT_PPP, LT_PPP_HDLC = 0, 1, 9, 50
LT_RAW, LT_C_HDLC, LT_LOOP, LT_IPV4, LT_IPV6 = 101, 104, 108, 228, 229

# The mirror's side: outer addresses of every tunnel built here.
OUT_MAC = dict(src='02:00:00:00:0a:01', dst='02:00:00:00:0a:02')
OUT4 = dict(src='192.0.2.1', dst='192.0.2.2')
OUT6 = dict(src='2001:db8::a1', dst='2001:db8::a2')
TUN_MAC = dict(src='02:00:00:00:0b:01', dst='02:00:00:00:0b:02')


def read_pcap(path):
    """(linktype, [(sec, usec, wirelen, bytes)]) of a classic pcap file."""
    with open(path, 'rb') as f:
        data = f.read()
    magic = data[:4]
    if magic == b'\xd4\xc3\xb2\xa1':
        end = '<'
    elif magic == b'\xa1\xb2\xc3\xd4':
        end = '>'
    else:
        raise ValueError('%s: not a microsecond pcap file' % path)
    linktype = struct.unpack(end + 'I', data[20:24])[0]
    frames, off = [], 24
    while off + 16 <= len(data):
        sec, usec, cap, wire = struct.unpack(end + 'IIII', data[off:off + 16])
        frames.append((sec, usec, wire, data[off + 16:off + 16 + cap]))
        off += 16 + cap
    return linktype, frames


def write_pcap(path, linktype, frames):
    """frames: [(sec, usec, bytes)], each captured whole."""
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, linktype))
        for sec, usec, b in frames:
            f.write(struct.pack('<IIII', sec, usec, len(b), len(b)) + b)


def ip_of(frame):
    """Ethertype and IP packet of an untagged Ethernet frame."""
    return struct.unpack('!H', frame[12:14])[0], frame[14:]


def is_v6(ip):
    return ip[0] >> 4 == 6


def outer4(proto, payload, i):
    return Ether(**OUT_MAC) / IP(id=i + 1, ttl=64, proto=proto, **OUT4) / payload


def outer6(nh, payload):
    return Ether(**OUT_MAC) / IPv6(nh=nh, hlim=64, **OUT6) / payload


def sport_of(frame):
    """VXLAN and Geneve take the UDP source port from a hash of the inner flow."""
    return 49152 + (sum(frame[26:38]) * 2654435761 & 0x3fff)


# Each wrapper: (Ethernet frame of eth.pcap, its index) -> bytes of the new frame.
def w_vxlan(f, i):
    return bytes(outer4(17, UDP(sport=sport_of(f), dport=4789) / VXLAN(vni=1001) / Raw(f), i))


def w_vxlan6_vlan(f, i):
    et, ip = ip_of(f)
    inner = f[:12] + struct.pack('!HHH', 0x8100, 300, et) + ip
    return bytes(outer6(17, UDP(sport=sport_of(f), dport=4789) / VXLAN(vni=1002) / Raw(inner)))


def w_geneve(f, i):
    opt = GeneveOptions(classid=0x0102, type=0x80, data=b'\x00\x00\x00\x2a')
    gen = GENEVE(vni=2002, proto=0x6558, options=[opt])
    return bytes(outer4(17, UDP(sport=sport_of(f), dport=6081) / gen / Raw(f), i))


def w_gre(f, i):
    et, ip = ip_of(f)
    return bytes(outer4(47, GRE(proto=et) / Raw(ip), i))


def w_gre_key(f, i):
    et, ip = ip_of(f)
    gre = GRE(key_present=1, key=0x1234, seqnum_present=1, sequence_number=i + 1, proto=et)
    return bytes(outer4(47, gre / Raw(ip), i))


def w_gretap(f, i):
    return bytes(outer4(47, GRE(proto=0x6558) / Raw(f), i))


def w_erspan2(f, i):
    gre = GRE(seqnum_present=1, sequence_number=i + 1, proto=0x88be)
    span = ERSPAN_II(ver=1, session_id=100, vlan=0, en=0, index=7)
    return bytes(outer4(47, gre / span / Raw(f), i))


def w_erspan3(f, i):
    gre = GRE(seqnum_present=1, sequence_number=i + 1, proto=0x22eb)
    span = ERSPAN_III(ver=2, session_id=200, vlan=0, timestamp=0x10000 + i, ft=0, hw=5, o=1)
    sub = ERSPAN_PlatformSpecific(platf_id=3, info1=0, info2=0x1000 + i)
    return bytes(outer4(47, gre / span / sub / Raw(f), i))


def w_ipip(f, i):
    _, ip = ip_of(f)
    return bytes(outer4(41 if is_v6(ip) else 4, Raw(ip), i))


def w_ip6tnl(f, i):
    _, ip = ip_of(f)
    return bytes(outer6(41 if is_v6(ip) else 4, Raw(ip)))


def w_mpls(f, i):
    _, ip = ip_of(f)
    return bytes(Ether(type=0x8847, **OUT_MAC) / MPLS(label=100, s=0) / MPLS(label=200, s=1) /
                 Raw(ip))


def w_mpls_pw(f, i):
    # An Ethernet pseudowire (RFC 4448) with the control word (RFC 4385).
    cw = struct.pack('!I', (i + 1) & 0xffff)
    return bytes(Ether(type=0x8847, **OUT_MAC) / MPLS(label=300, s=1) / Raw(cw + f))


def w_vlan3(f, i):
    et, ip = ip_of(f)
    return bytes(Ether(src=f[6:12], dst=f[0:6], type=0x88a8) / Dot1AD(vlan=10, type=0x8100) /
                 Dot1Q(vlan=20, type=0x8100) / Dot1Q(vlan=30, type=et) / Raw(ip))


def w_ppp(f, i):
    et, ip = ip_of(f)
    return struct.pack('!H', 0x0057 if et == 0x86dd else 0x0021) + ip


def w_ppp_hdlc(f, i):
    return b'\xff\x03' + w_ppp(f, i)


def w_c_hdlc(f, i):
    et, ip = ip_of(f)
    return struct.pack('!BBH', 0x0f, 0x00, et) + ip


def w_null(f, i):
    # BSD loopback as macOS writes it: host byte order, AF_INET6 30.
    _, ip = ip_of(f)
    return struct.pack('<I', 30 if is_v6(ip) else 2) + ip


def w_loop(f, i):
    # OpenBSD's: network byte order, AF_INET6 24.
    _, ip = ip_of(f)
    return struct.pack('!I', 24 if is_v6(ip) else 2) + ip


FROM_ETH = [
    ('vxlan', LT_ETHERNET, w_vxlan),
    ('vxlan6_vlan', LT_ETHERNET, w_vxlan6_vlan),
    ('geneve', LT_ETHERNET, w_geneve),
    ('gre', LT_ETHERNET, w_gre),
    ('gre_key', LT_ETHERNET, w_gre_key),
    ('gretap', LT_ETHERNET, w_gretap),
    ('erspan2', LT_ETHERNET, w_erspan2),
    ('erspan3', LT_ETHERNET, w_erspan3),
    ('ipip', LT_ETHERNET, w_ipip),
    ('ip6tnl', LT_ETHERNET, w_ip6tnl),
    ('mpls', LT_ETHERNET, w_mpls),
    ('mpls_pw', LT_ETHERNET, w_mpls_pw),
    ('vlan3', LT_ETHERNET, w_vlan3),
    ('ppp', LT_PPP, w_ppp),
    ('ppp_hdlc', LT_PPP_HDLC, w_ppp_hdlc),
    ('c_hdlc', LT_C_HDLC, w_c_hdlc),
]

FROM_LO = [
    ('null', LT_NULL, w_null),
    ('loop', LT_LOOP, w_loop),
]


def wrap_all(d, src, table):
    lt, frames = read_pcap(os.path.join(d, src))
    assert lt == LT_ETHERNET, src
    for name, out_lt, fn in table:
        out = [(sec, usec, fn(b, i)) for i, (sec, usec, _, b) in enumerate(frames)]
        write_pcap(os.path.join(d, name + '.pcap'), out_lt, out)


def split_tun(d):
    """tun_raw.pcap: its IPv4 and IPv6 packets apart, and as Ethernet (the reference)."""
    lt, frames = read_pcap(os.path.join(d, 'tun_raw.pcap'))
    assert lt == LT_RAW, lt
    v4 = [(s, u, b) for s, u, _, b in frames if not is_v6(b)]
    v6 = [(s, u, b) for s, u, _, b in frames if is_v6(b)]
    eth = [(s, u, bytes(Ether(type=0x86dd if is_v6(b) else 0x0800, **TUN_MAC) / Raw(b)))
           for s, u, _, b in frames]
    write_pcap(os.path.join(d, 'ipv4.pcap'), LT_IPV4, v4)
    write_pcap(os.path.join(d, 'ipv6.pcap'), LT_IPV6, v6)
    write_pcap(os.path.join(d, 'tun_eth.pcap'), LT_ETHERNET, eth)


def main():
    d = sys.argv[1]
    wrap_all(d, 'eth.pcap', FROM_ETH)
    wrap_all(d, 'lo_eth.pcap', FROM_LO)
    split_tun(d)
    return 0


if __name__ == '__main__':
    sys.exit(main())
