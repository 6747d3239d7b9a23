#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of fuzz_engine into corpus/engine/ (run from anywhere).

Each seed is the first frames of one capture of tests/captures or
tests/linktypes in fuzz_engine.c's input format: a header choosing table
sizes and configuration keys, then one record per frame (length, time code,
link byte, wire length, frame cut to SNAP bytes). A few seeds add what no
capture has: time jumps forward past 2^31 s, back to 0 and backwards,
frames received by the other core, and tables too small for the capture.
REGRESSIONS are the sequences that once broke one of its invariants.
"""

import glob
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, 'corpus', 'engine')

SNAP = 160          # bytes kept of each frame; the wire length keeps the rest
MAX_FRAMES = 120    # frames kept of each capture

# fuzz_engine.c links[]: LINKTYPE_ value -> index. Ethernet takes index 1
# (tcpa_pkt_parse_link, with the wire length); 0 is tcpa_pkt_parse.
LINKS = {1: 1, 0: 2, 108: 3, 101: 4, 12: 5, 14: 6, 228: 7, 229: 8, 113: 9, 276: 10,
         9: 11, 50: 12, 104: 13, 239: 14}
L_UNSUPPORTED = 15

# Link byte bits.
L_CORE1, L_WIRE, L_BURST_END, L_AGE = 0x10, 0x20, 0x40, 0x80

MS = 1000 * 1000
S = 1000 * MS


def read_pcap(b):
    """(ts_ns, linktype, caplen-bytes, wirelen) of every frame of a pcap file."""
    magic = struct.unpack('<I', b[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        e = '<'
    else:
        e = '>'
        magic = struct.unpack('>I', b[:4])[0]
    nsec = magic == 0xa1b23c4d
    lt = struct.unpack(e + 'I', b[20:24])[0]
    off = 24
    while off + 16 <= len(b):
        sec, frac, cl, wl = struct.unpack(e + 'IIII', b[off:off + 16])
        off += 16
        yield sec * S + (frac if nsec else frac * 1000), lt, b[off:off + cl], wl
        off += cl


def read_pcapng(b):
    """The same for a little-endian pcapng file (interface and enhanced packet blocks)."""
    ifaces = []
    off = 0
    while off + 12 <= len(b):
        btype, blen = struct.unpack('<II', b[off:off + 8])
        body = b[off + 8:off + blen - 4]
        if btype == 0x0a0d0d0a:
            ifaces = []
        elif btype == 1:
            ifaces.append(struct.unpack('<H', body[:2])[0])
        elif btype == 6:
            ifc, hi, lo, cl, wl = struct.unpack('<IIIII', body[:20])
            ts_us = hi << 32 | lo
            yield ts_us * 1000, ifaces[ifc], body[20:20 + cl], wl
        off += blen


def read_capture(path):
    b = open(path, 'rb').read()
    if b[:4] == b'\x0a\x0d\x0d\x0a':
        return list(read_pcapng(b))
    return list(read_pcap(b))


def header(flows, endpoints, keys=0, two=False, small_events=False, clock=0,
           zeroed=False, seed=0, keys2=0):
    """fuzz_engine.c's header: capacities and the bits conf_pick() reads."""
    h3 = (1 if two else 0) | (2 if small_events else 0) | clock << 2 | \
        (0x10 if zeroed else 0) | (seed & 7) << 5
    return bytes([(flows - 4) % 61, (endpoints - 8) % 57, keys, h3, keys2])


def time_code(prev, ts):
    """The shortest time code taking fuzz_engine from prev to ts (ns)."""
    d = ts - prev
    if d == 0:
        return b'\xff', ts
    if 0 < d < 65536 * 1000 and d % 1000 == 0:
        return bytes([0xf3]) + struct.pack('<H', d // 1000), ts
    if 0 < d < 128 * MS and d % MS == 0:
        return bytes([d // MS]), ts
    if 0 < d < 64 * S and d % S == 0:
        return bytes([0x80 + d // S]), ts
    return b'\xf0' + struct.pack('<Q', ts % (1 << 64)), ts % (1 << 64)


def record(prev, ts, link, frame, wirelen, flags=0):
    """One record; returns (bytes, the time fuzz_engine is at after it)."""
    tc, now = time_code(prev, ts)
    cut = frame[:SNAP]
    extra = max(wirelen, len(frame)) - len(cut)
    if extra > 0xffff:
        extra = 0xffff
    lb = link | flags | (L_WIRE if extra else 0)
    b = struct.pack('<H', len(cut)) + tc + bytes([lb])
    if extra:
        b += struct.pack('<H', extra)
    return b + cut, now


def records(frames, flags_of=lambda i: 0, times=None):
    """Records of every frame; the burst ends every 8 frames, age every 16."""
    out = b''
    now = 1700000000 * S    # fuzz_engine's time before the first record
    for i, (ts, lt, frame, wl) in enumerate(frames):
        if times is not None:
            ts = times(i, ts)
        flags = (L_BURST_END if i % 8 == 7 else 0) | (L_AGE if i % 16 == 15 else 0)
        b, now = record(now, ts, LINKS.get(lt, L_UNSUPPORTED), frame, wl,
                        flags | flags_of(i))
        out += b
    return out


def write(name, data):
    assert len(data) < 64 * 1024, name
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


def variants(name, frames):
    """The extra seeds of a capture: what no capture shows."""
    t0 = frames[0][0]
    # Time past 2^31 s (2038) and beyond, then back to 0, then on.
    jumps = {20: 1 << 62, 40: 0, 60: t0}

    def jumped(i, ts):
        base = max(k for k in [0] + list(jumps) if k <= i)
        return ts if base == 0 else (ts - t0 + jumps[base]) % (1 << 64)
    write(name + '_jumps', header(64, 64, two=True) + records(frames, times=jumped))
    # Backwards by a second every tenth frame: reordered merges, clock steps.
    write(name + '_back', header(32, 16, keys=0xff, clock=1) + records(
        frames, times=lambda i, ts: ts - S if i % 10 == 9 else ts))
    # Every other frame received by core 1 (RSS not symmetric), tiny tables.
    write(name + '_tiny', header(4, 8, keys=0x5f, two=True, small_events=True,
                                 zeroed=True, seed=3, keys2=0x07) +
          records(frames, flags_of=lambda i: L_CORE1 if i % 2 else 0))


def tcp4(src, dst, sport, dport, seq, ack, flags):
    """An Ethernet frame of one IPv4 TCP segment without options or payload."""
    tcp = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0,
                     bytes(src), bytes(dst)) + tcp
    return bytes.fromhex('020000000001020000000002') + b'\x08\x00' + ip


FIN, SYN, ACK = 0x01, 0x02, 0x10
CLI, SRV = (10, 0, 0, 1), (10, 0, 0, 2)


def c2s(seq, ack, flags):
    return tcp4(CLI, SRV, 40000, 80, seq, ack, flags)


def s2c(seq, ack, flags):
    return tcp4(SRV, CLI, 80, 40000, seq, ack, flags)


def sequence(hdr, steps):
    """hdr, then one record per (time code, frame), each ending its burst and aging."""
    return hdr + b''.join(struct.pack('<H', len(fr)) + tc + bytes([L_BURST_END | L_AGE]) + fr
                          for tc, fr in steps)


# Sequences that broke an invariant of fuzz_engine once (the commit that
# fixed each names it). Picked up midstream (an ACK first), the client
# guessed by the lower port is 10.0.0.1:40000 until a SYN-ACK says otherwise.
REGRESSIONS = {
    # The client side stuck in CLOSE_WAIT (close_wait_s 1, 3 s pass), then
    # its SYN-ACK swaps the roles: the close_wait_stuck gauge stayed behind.
    'regress_cw_stuck_roles': sequence(header(64, 64, keys=0x02), [
        (b'\x00', c2s(1000, 2000, ACK)), (b'\x01', s2c(2000, 1000, FIN | ACK)),
        (b'\x01', c2s(1000, 2001, ACK)), (b'\x83', c2s(1000, 2001, ACK)),
        (b'\x83', c2s(1000, 2001, ACK)), (b'\x01', c2s(5000, 2001, SYN | ACK)),
        (b'\x01', c2s(1000, 2001, FIN | ACK))]),
    # The client closes first (TIME_WAIT), then sends a SYN-ACK: rebound to
    # its record as a server, TIME_WAIT and all, above that record's peak.
    'regress_tw_peak_roles': sequence(header(64, 64), [
        (b'\x00', c2s(1000, 2000, ACK)), (b'\x01', c2s(1000, 2000, FIN | ACK)),
        (b'\x01', s2c(2000, 1001, FIN | ACK)), (b'\x01', c2s(1001, 2001, ACK)),
        (b'\x01', c2s(7000, 2001, SYN | ACK)), (b'\x01', c2s(1001, 2001, ACK))]),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.unlink(os.path.join(OUT, old))
    paths = sorted(glob.glob(os.path.join(ROOT, 'tests', 'captures', '*.pcap')) +
                   glob.glob(os.path.join(ROOT, 'tests', 'linktypes', '*.pcap*')))
    for path in paths:
        name = os.path.basename(os.path.dirname(path)) + '_' + \
            os.path.splitext(os.path.basename(path))[0]
        frames = read_capture(path)[:MAX_FRAMES]
        # Table sizes and keys vary with the name, the same on every run.
        h = zlib.crc32(name.encode())
        write(name, header(4 + h % 61, 8 + (h >> 8) % 57, keys=(h >> 16) & 0x7f,
                           two=bool(h & 0x1000000), clock=(h >> 25) & 3,
                           zeroed=bool(h & 0x8000000), seed=h >> 28,
                           keys2=(h >> 3) & 7) + records(frames))
        if name in ('captures_close_wait_leak', 'captures_time_wait_churn',
                    'captures_refused', 'captures_zero_window', 'linktypes_mixed'):
            variants(name, frames)
    for name, data in sorted(REGRESSIONS.items()):
        write(name, data)


if __name__ == '__main__':
    main()
