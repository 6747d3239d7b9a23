#!/usr/bin/env python3
"""Small real-TCP clients for the tcpa capture scenarios (stdlib only).

Subcommands (all blocking sockets; the kernel does all the TCP):

  mix --conn FAM:NREQ:CLOSER[:SIZE] ...
        one connection per --conn, in order: NREQ HTTP exchanges (body SIZE
        bytes); CLOSER=client: the client closes after the last answer
        (client closes first); CLOSER=server: the last request carries
        "Connection: close", the server closes first and the client closes
        on EOF. FAM is v4 or v6.
  leak  --count N [--family v4|v6]
        open N connections, one exchange on each (keep-alive), then
        shutdown(SHUT_RDWR)+close() them all and exit (a killed load client).
  pool  --count N --idle S
        line protocol: open N pooled connections, one query each, idle S
        seconds, then one query on each (stale) connection; report what
        came back (EOF, reset), then close them.
  churn --client-close N --server-close M
        N one-shot connections where the client closes first, then M where
        the server closes first (Connection: close), one after the other.
  refused --refused-port P --attempts N --count K --ready FILE
        N connect() attempts to port P (no listener: RST expected), then K
        connections with one exchange each, kept ESTABLISHED; writes FILE
        and waits until killed.

Common: --server4 / --server6 addresses, --port.
"""

import argparse
import signal
import socket
import sys
import time

T0 = time.monotonic()


def log(msg):
    print("%8.3f %s" % (time.monotonic() - T0, msg), flush=True)


def connect(args, fam="v4", port=None):
    host = args.server6 if fam == "v6" else args.server4
    af = socket.AF_INET6 if fam == "v6" else socket.AF_INET
    s = socket.socket(af, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port or args.port))
    return s


def name(s):
    a = s.getsockname()
    return "%s:%d" % (a[0], a[1])


def read_http_response(s, buf=b""):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("EOF inside response header")
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for h in head.split(b"\r\n")[1:]:
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(rest) < length:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("EOF inside response body")
        rest += d
    return head, rest[length:]


def http_exchange(s, path, close=False):
    req = ("GET %s HTTP/1.1\r\nHost: tcpa-scenario\r\nConnection: %s\r\n\r\n"
           % (path, "close" if close else "keep-alive")).encode()
    s.sendall(req)
    head, extra = read_http_response(s)
    if extra:
        raise ConnectionError("unexpected bytes after response")
    return head.split(b"\r\n")[0].decode()


def wait_eof(s):
    while True:
        d = s.recv(65536)
        if not d:
            return


def one_conn(args, fam, nreq, closer, size):
    s = connect(args, fam)
    me = name(s)
    for i in range(nreq):
        last = i == nreq - 1
        status = http_exchange(s, "/size/%d" % size, close=(last and closer == "server"))
        log("%s req %d/%d -> %s" % (me, i + 1, nreq, status))
        if not last:
            time.sleep(args.think)
    if closer == "server":
        wait_eof(s)
        log("%s server closed, client closes" % me)
    else:
        log("%s client closes first" % me)
    s.close()


def cmd_mix(args):
    for spec in args.conn:
        parts = spec.split(":")
        fam, nreq, closer = parts[0], int(parts[1]), parts[2]
        size = int(parts[3]) if len(parts) > 3 else 200
        assert fam in ("v4", "v6") and closer in ("client", "server"), spec
        one_conn(args, fam, nreq, closer, size)
        time.sleep(args.gap)


def cmd_leak(args):
    socks = []
    for i in range(args.count):
        s = connect(args, args.family)
        status = http_exchange(s, "/size/%d" % args.size)
        log("%s exchange -> %s" % (name(s), status))
        socks.append(s)
    time.sleep(args.gap)
    for s in socks:
        me = name(s)
        s.shutdown(socket.SHUT_RDWR)
        s.close()
        log("%s shutdown+close" % me)


def cmd_pool(args):
    pool = []
    for i in range(args.count):
        s = connect(args)
        pool.append(s)
        log("%s pooled" % name(s))
    for i, s in enumerate(pool):
        s.sendall(b"SELECT %d;\n" % (i + 1))
        ans = s.recv(4096)
        log("%s query -> %r" % (name(s), ans))
    log("pool idles %.1fs" % args.idle)
    time.sleep(args.idle)
    names = [name(s) for s in pool]
    for i, s in enumerate(pool):
        s.sendall(b"SELECT %d;\n" % (100 + i + 1))
        log("%s stale query sent" % names[i])
    time.sleep(args.settle)
    for i, s in enumerate(pool):
        try:
            d = s.recv(4096)
            what = "EOF" if not d else repr(d)
        except OSError as e:
            what = "error %s" % e
        log("%s stale query -> %s" % (names[i], what))
        s.close()


def cmd_churn(args):
    for i in range(args.client_close):
        one_conn(args, "v4", 1, "client", args.size)
    for i in range(args.server_close):
        one_conn(args, "v4", 1, "server", args.size)


def cmd_refused(args):
    for i in range(args.attempts):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((args.server4, args.refused_port))
            log("attempt %d: connected?!" % (i + 1))
            sys.exit(2)
        except ConnectionRefusedError:
            log("attempt %d to :%d refused" % (i + 1, args.refused_port))
        finally:
            s.close()
        time.sleep(args.gap)
    keep = []
    for i in range(args.count):
        s = connect(args)
        status = http_exchange(s, "/size/%d" % args.size)
        log("%s exchange -> %s, kept open" % (name(s), status))
        keep.append(s)
    with open(args.ready, "w") as f:
        f.write("ready\n")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server4", default="10.99.0.2")
    ap.add_argument("--server6", default="fd99::2")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--think", type=float, default=0.05, help="pause between requests")
    ap.add_argument("--gap", type=float, default=0.05, help="pause between connections")
    ap.add_argument("--size", type=int, default=200, help="response body size")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("mix")
    p.add_argument("--conn", action="append", required=True)
    p = sub.add_parser("leak")
    p.add_argument("--count", type=int, default=30)
    p.add_argument("--family", choices=("v4", "v6"), default="v4")
    p = sub.add_parser("pool")
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--idle", type=float, default=3.0)
    p.add_argument("--settle", type=float, default=0.3)
    p = sub.add_parser("churn")
    p.add_argument("--client-close", type=int, default=200)
    p.add_argument("--server-close", type=int, default=50)
    p = sub.add_parser("refused")
    p.add_argument("--refused-port", type=int, default=9999)
    p.add_argument("--attempts", type=int, default=20)
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--ready", required=True)
    args = ap.parse_args()
    {"mix": cmd_mix, "leak": cmd_leak, "pool": cmd_pool, "churn": cmd_churn,
     "refused": cmd_refused}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
