#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Raise a link's GSO and GRO limits past 64 KB for IPv4 as well (BIG TCP),
which iproute2 before 6.3 cannot do: one RTM_NEWLINK with
IFLA_GSO_IPV4_MAX_SIZE and IFLA_GRO_IPV4_MAX_SIZE (Linux 6.3+).
Run inside the link's namespace.

usage: set_gso.py IFNAME SIZE
"""

import socket
import struct
import sys

RTM_NEWLINK = 16
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2
IFLA_GSO_IPV4_MAX_SIZE = 63
IFLA_GRO_IPV4_MAX_SIZE = 64


def main():
    ifname, size = sys.argv[1], int(sys.argv[2])
    index = socket.if_nametoindex(ifname)
    attrs = b''.join(struct.pack('=HHI', 8, t, size)
                     for t in (IFLA_GSO_IPV4_MAX_SIZE, IFLA_GRO_IPV4_MAX_SIZE))
    body = struct.pack('=BxHiII', socket.AF_UNSPEC, 0, index, 0, 0) + attrs
    msg = struct.pack('=IHHII', 16 + len(body), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK,
                      1, 0) + body
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    s.sendto(msg, (0, 0))
    reply = s.recv(4096)
    mtype = struct.unpack_from('=H', reply, 4)[0]
    err = struct.unpack_from('=i', reply, 16)[0] if mtype == NLMSG_ERROR else 0
    if err != 0:
        print('set_gso.py: %s: error %d' % (ifname, -err), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
