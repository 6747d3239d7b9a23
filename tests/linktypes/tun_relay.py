#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Join two tun devices back to back: every IP packet read from one is
written to the other. Each device is created inside its own network
namespace (setns before TUNSETIFF), so two namespaces talk over a real
point-to-point link whose capture is raw IP (LINKTYPE_RAW).

usage: tun_relay.py NETNS_A TUN_A NETNS_B TUN_B READY_FILE
Runs until killed.
"""

import ctypes
import errno
import fcntl
import os
import select
import struct
import sys

TUNSETIFF = 0x400454ca
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)


def enter_netns(name):
    fd = os.open('/run/netns/' + name, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), 'setns ' + name)
    os.close(fd)


def open_tun(name):
    fd = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    ns_a, tun_a, ns_b, tun_b, ready = sys.argv[1:6]
    enter_netns(ns_a)
    fa = open_tun(tun_a)
    enter_netns(ns_b)
    fb = open_tun(tun_b)
    with open(ready, 'w') as f:
        f.write('ready\n')
    peer = {fa: fb, fb: fa}
    while True:
        r, _, _ = select.select([fa, fb], [], [])
        for fd in r:
            pkt = os.read(fd, 65536)
            try:
                os.write(peer[fd], pkt)
            except OSError as e:
                # The other device is not up yet: lost, as on a wire.
                if e.errno != errno.EIO:
                    raise


if __name__ == '__main__':
    main()
