#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The TCP exchange every link-type capture holds, both ends.

server: listen on PORT (IPv4 and IPv6), for each connection read the
        request (REQ bytes), answer RESP bytes, wait for the client's FIN,
        close; write READY once listening, exit after CONNS connections.
client: for each ADDR, connect, send REQ bytes, read RESP bytes, close.

Sizes are small so the captures stay a few KB, and the answer fits in one
segment: NFLOG's output hook sees what TCP built before GSO cut it, so a
larger answer would be one frame there and two on the wire.
"""

import argparse
import socket
import sys


def recv_exact(s, n):
    got = b''
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def server(a):
    socks = []
    for fam, addr in ((socket.AF_INET, '0.0.0.0'), (socket.AF_INET6, '::')):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, a.port))
        s.listen(8)
        socks.append(s)
    with open(a.ready, 'w') as f:
        f.write('ready\n')
    served = 0
    while served < a.conns:
        import select
        r, _, _ = select.select(socks, [], [], 30)
        if not r:
            print('server: timed out', file=sys.stderr)
            return 1
        for ls in r:
            c, _ = ls.accept()
            req = recv_exact(c, a.req)
            if len(req) != a.req:
                print('server: short request', file=sys.stderr)
                return 1
            c.sendall(bytes((i * 7) & 0xff for i in range(a.resp)))
            while c.recv(4096):
                pass
            c.close()
            served += 1
    return 0


def client(a):
    for addr in a.addr:
        fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect((addr, a.port))
        s.sendall(b'R' * a.req)
        resp = recv_exact(s, a.resp)
        if len(resp) != a.resp:
            print('client: short response from %s' % addr, file=sys.stderr)
            return 1
        s.close()
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='role', required=True)
    for role in ('server', 'client'):
        p = sub.add_parser(role)
        p.add_argument('--port', type=int, default=8080)
        p.add_argument('--req', type=int, default=120)
        p.add_argument('--resp', type=int, default=1000)
    sub.choices['server'].add_argument('--ready', required=True)
    sub.choices['server'].add_argument('--conns', type=int, default=2)
    sub.choices['client'].add_argument('addr', nargs='+')
    a = ap.parse_args()
    return server(a) if a.role == 'server' else client(a)


if __name__ == '__main__':
    sys.exit(main())
