#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A SYN flood as a pcap on standard output: N SYNs from random spoofed
sources (address and port) to one server, spread over a time span ending
just before a given time. Used to check that a flood cannot blind tcpa.

usage: synflood.py COUNT SERVER_IP SERVER_PORT END_TIME [SPAN_S] [SEED]
"""
import random
import socket
import struct
import sys


def main():
    count, server, port, end = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    span = float(sys.argv[5]) if len(sys.argv) > 5 else 20.0
    rnd = random.Random(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
    dst = socket.inet_aton(server)
    out = sys.stdout.buffer
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 96, 1))
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    start = end - span
    rec = struct.Struct("<IIII")
    ip = struct.Struct("!BBHHHBBH4s4s")
    tcp = struct.Struct("!HHIIBBHHH")
    buf = []
    for i in range(count):
        t = start + span * i / count
        src = struct.pack("!I", rnd.getrandbits(32) | 0x01000000)
        hdr_ip = ip.pack(0x45, 0, 40, 0, 0, 64, 6, 0, src, dst)
        hdr_tcp = tcp.pack(rnd.randrange(1024, 65536), port, rnd.getrandbits(32), 0,
                           5 << 4, 0x02, 64240, 0, 0)
        frame = eth + hdr_ip + hdr_tcp
        sec = int(t)
        buf.append(rec.pack(sec, int((t - sec) * 1e6), len(frame), len(frame)) + frame)
        if len(buf) == 4096:
            out.write(b"".join(buf))
            buf.clear()
    out.write(b"".join(buf))


if __name__ == "__main__":
    main()
