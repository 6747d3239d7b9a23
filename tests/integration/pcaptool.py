#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Rewrite real captures into the odd shapes a field deployment meets.

Plain pcap in (Ethernet, microseconds), frames never edited: only their
timestamps, order, presence or container change, so the TCP inside stays
the real Linux TCP that was captured.

  shift IN OUT BASE_S [--nsec]   timestamps moved so the first is BASE_S
                                 (may be past 2^31); --nsec writes a
                                 nanosecond pcap
  jump IN OUT DONOR DELTA_S K    after record K, a copy of DONOR's first
                                 frame dated DELTA_S from record K
  drop IN OUT N                  drop every Nth TCP segment with payload;
                                 prints "dropped data_segments"
  ifaces IN OUT N                a pcapng of N interfaces: record i goes to
                                 interface i % N; odd interfaces are Linux
                                 cooked (SLL) with the Ethernet header
                                 rewritten, each its own snap length
  vxlan IN OUT VNI               every frame inside VXLAN (IPv4, UDP 4789)
                                 with VNI, as a mirror session delivers it
"""
import struct
import sys


def read_pcap(path):
    d = open(path, "rb").read()
    magic, = struct.unpack("<I", d[:4])
    assert magic == 0xA1B2C3D4, "a little-endian microsecond pcap"
    linktype, = struct.unpack("<I", d[20:24])
    assert linktype == 1, "Ethernet"
    recs, i = [], 24
    while i + 16 <= len(d):
        sec, usec, cl, ol = struct.unpack("<IIII", d[i:i + 16])
        recs.append([sec * 1000000000 + usec * 1000, ol, d[i + 16:i + 16 + cl]])
        i += 16 + cl
    return recs


def write_pcap(path, recs, nsec=False):
    unit = 1 if nsec else 1000
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D if nsec else 0xA1B2C3D4,
                            2, 4, 0, 0, 262144, 1))
        for ns, ol, fr in recs:
            sec, sub = divmod(ns, 1000000000)
            assert 0 <= sec < 2**32, "32-bit unsigned seconds"
            f.write(struct.pack("<IIII", sec, sub // unit, len(fr), ol) + fr)


def payload_len(fr):
    et, off = struct.unpack(">H", fr[12:14])[0], 14
    while et in (0x8100, 0x88A8):
        et, off = struct.unpack(">H", fr[off + 2:off + 4])[0], off + 4
    if et == 0x0800 and fr[off + 9] == 6:
        ihl = (fr[off] & 15) * 4
        total = struct.unpack(">H", fr[off + 2:off + 4])[0]
        return total - ihl - (fr[off + ihl + 12] >> 4) * 4
    if et == 0x86DD and fr[off + 6] == 6:
        plen = struct.unpack(">H", fr[off + 4:off + 6])[0]
        return plen - (fr[off + 40 + 12] >> 4) * 4
    return 0


def shift(args):
    src, dst, base = args[0], args[1], int(float(args[2]) * 1e9)
    recs = read_pcap(src)
    d = base - recs[0][0]
    write_pcap(dst, [[ns + d, ol, fr] for ns, ol, fr in recs], "--nsec" in args)


def jump(args):
    src, dst, donor, delta, k = args[0], args[1], args[2], float(args[3]), int(args[4])
    recs, extra = read_pcap(src), read_pcap(donor)[0]
    extra[0] = recs[k][0] + int(delta * 1e9)
    write_pcap(dst, recs[:k + 1] + [extra] + recs[k + 1:])


def drop(args):
    src, dst, n = args[0], args[1], int(args[2])
    out, data, dropped = [], 0, 0
    for r in read_pcap(src):
        if payload_len(r[2]) > 0:
            data += 1
            if data % n == 0:
                dropped += 1
                continue
        out.append(r)
    write_pcap(dst, out)
    print(dropped, data)


def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def ifaces(args):
    src, dst, n = args[0], args[1], int(args[2])
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    for i in range(n):
        linktype, snap = (113, 65535 + i) if i % 2 else (1, 262144 - i)
        out.append(block(1, struct.pack("<HHI", linktype, 0, snap)))
    for j, (ns, ol, fr) in enumerate(read_pcap(src)):
        i = j % n
        if i % 2:   # SLL: packet type 0 (to us), ARPHRD_ETHER, the source MAC
            fr = struct.pack(">HHH", 0, 1, 6) + fr[6:12] + b"\0\0" + fr[12:]
            ol += 2
        us = ns // 1000
        out.append(block(6, struct.pack("<IIIII", i, us >> 32, us & 0xFFFFFFFF,
                                        len(fr), ol) + fr))
    open(dst, "wb").write(b"".join(out))


def ipv4_sum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s & 0xFFFF) + (s >> 16)
    return ~((s & 0xFFFF) + (s >> 16)) & 0xFFFF


def vxlan(args):
    src, dst, vni = args[0], args[1], int(args[2])
    out = []
    for i, (ns, ol, fr) in enumerate(read_pcap(src)):
        body = struct.pack("!BxxxI", 0x08, vni << 8) + fr
        udp = struct.pack("!HHHH", 49152 + i % 1024, 4789, 8 + len(body), 0) + body
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0,
                                   64, 17, 0, bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])))
        ip[10:12] = struct.pack("!H", ipv4_sum(bytes(ip)))
        eth = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00"
        outer = eth + bytes(ip) + udp
        out.append([ns, ol + len(outer) - len(fr), outer])
    write_pcap(dst, out)


if __name__ == "__main__":
    {"shift": shift, "jump": jump, "drop": drop, "ifaces": ifaces,
     "vxlan": vxlan}[sys.argv[1]](sys.argv[2:])
