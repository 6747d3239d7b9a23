#!/usr/bin/env python3
"""Socket-option peers for the kernel-counter scenarios (stdlib only).

Each subcommand is one side of one scenario in tests/scenarios/; the kernel
does all the TCP, the peers only pick socket options and timing. They log one
line per event on stdout, and those that must stay alive for the snapshot
create --ready FILE when their story is over and then wait to be killed.

Servers:
  listen-only --listen A:P --backlog N
        listen(N) and never accept(): the accept queue fills up.
  slow-reader --listen A:P --rcvbuf B --chunk C --delay S [--pause-at BYTES:SECS ...]
        SO_RCVBUF B on the listener (inherited by the accepted socket),
        accept one connection, recv(C) then sleep S, pausing SECS once the
        byte count first reaches BYTES; answers "OK <n>\\n" at EOF and closes.
  line-echo --listen A:P [--fastopen Q]
        one thread per connection; answers "ACK <n>\\n" (padded to 32 bytes)
        to every complete line ("...\\n"); closes on EOF. --fastopen: accept
        TCP Fast Open (TCP_FASTOPEN, queue Q) on the listener.
  linger-server --listen A:P
        answers one "GET ...\\r\\n\\r\\n" request per connection with a small
        HTTP response, then SO_LINGER {on, 0} and close(): RST, not FIN.
  sink --listen A:P
        reads until EOF, answers "OK <n>\\n" and closes.

Clients:
  burst-connect --count N --hold S [--first K]
        K blocking connect()s one after the other (default 0), then the other
        N - K as non-blocking connect()s at once; watch them for S seconds,
        log which completed; --ready, then wait.
  bulk-send --size N [--nodelay] [--chunk C]
        send N bytes, shutdown(SHUT_WR), read the answer, close.
  write-write-read --iterations N [--nodelay] [--first B] [--second B]
        per iteration: send() a B-byte head, send() the rest of the line,
        then wait for the reply line (the pattern Nagle + delayed ACK stalls).
  keepalive --count N --idle S --intvl S --cnt N --hold S
        N connections to the HTTP server, one exchange each, then
        SO_KEEPALIVE/TCP_KEEPIDLE/TCP_KEEPINTVL/TCP_KEEPCNT and idle; each
        socket waits in recv() until --hold has passed (then --ready, wait)
        or an error (ETIMEDOUT) ends it.
  linger-client --count N
        N connections in a row: request, read the response, then recv()
        until EOF or reset; logs which.
  fast-open --count N --size B
        N connections in a row, each opened by sendto(MSG_FASTOPEN) of one
        B-byte line: the first gets the server's cookie and sends its line
        after the handshake, the next ones carry it in their SYN; read the
        reply, close.

Common: --server (address), --port.
"""

import argparse
import errno
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

T0 = time.monotonic()
LOCK = threading.Lock()


def log(msg):
    with LOCK:
        print("%8.3f %s" % (time.monotonic() - T0, msg), flush=True)


def parse_addr(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return fam, host, int(port)


def listener(spec, backlog=128, rcvbuf=0):
    fam, host, port = parse_addr(spec)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    if rcvbuf:
        # before listen(): the accepted socket inherits it, and the window
        # in the SYN-ACK is already clamped to it
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((host, port))
    s.listen(backlog)
    log("listening on %s backlog %d%s" % (spec, backlog, " rcvbuf %d (kernel: %d)" % (
        rcvbuf, s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)) if rcvbuf else ""))
    return s


def ready(path):
    if path:
        with open(path, "w") as f:
            f.write("%d\n" % os.getpid())


def wait_forever():
    while True:
        time.sleep(3600)


def server_addr(args):
    fam = socket.AF_INET6 if ":" in args.server else socket.AF_INET
    return fam, (args.server, args.port)


def connect(args, timeout=10):
    fam, addr = server_addr(args)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(addr)
    return s


def name(s):
    a = s.getsockname()
    return "%s:%d" % (a[0], a[1])


def recv_until(s, marker):
    buf = b""
    while marker not in buf:
        d = s.recv(4096)
        if not d:
            raise ConnectionError("EOF before %r" % marker)
        buf += d
    return buf


# ---------------------------------------------------------------- servers

def cmd_listen_only(args):
    ls = listener(args.listen, backlog=args.backlog)
    ready(args.ready)
    wait_forever()
    return ls


def cmd_slow_reader(args):
    ls = listener(args.listen, rcvbuf=args.rcvbuf)
    ready(args.ready)
    conn, peer = ls.accept()
    log("accept %s:%d rcvbuf %d" % (peer[0], peer[1],
                                    conn.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)))
    pauses = []
    for p in args.pause_at:
        at, _, secs = p.partition(":")
        pauses.append([int(at), float(secs), False])
    total = 0
    while True:
        d = conn.recv(args.chunk)
        if not d:
            break
        total += len(d)
        for p in pauses:
            if not p[2] and total >= p[0]:
                p[2] = True
                log("read %d bytes: pause %.1fs" % (total, p[1]))
                time.sleep(p[1])
        time.sleep(args.delay)
    log("eof after %d bytes" % total)
    conn.sendall(b"OK %d\n" % total)
    conn.close()
    wait_forever()


def cmd_line_echo(args):
    ls = listener(args.listen)
    if args.fastopen:
        ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, args.fastopen)
        log("TCP_FASTOPEN queue %d" % args.fastopen)
    ready(args.ready)

    def handle(conn, peer):
        buf = b""
        n = 0
        while True:
            d = conn.recv(4096)
            if not d:
                log("eof %s:%d after %d lines" % (peer[0], peer[1], n))
                conn.close()
                return
            buf += d
            while b"\n" in buf:
                _, _, buf = buf.partition(b"\n")
                n += 1
                conn.sendall(("ACK %d" % n).encode().ljust(31) + b"\n")

    while True:
        conn, peer = ls.accept()
        log("accept %s:%d" % (peer[0], peer[1]))
        threading.Thread(target=handle, args=(conn, peer), daemon=True).start()


def cmd_linger_server(args):
    ls = listener(args.listen)
    ready(args.ready)
    while True:
        conn, peer = ls.accept()
        req = recv_until(conn, b"\r\n\r\n")
        body = b"linger-0 abort " * 8
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                     % (len(body), body))
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        log("%s:%d %r answered, closed with SO_LINGER 0" % (peer[0], peer[1],
                                                              req.split(b"\r\n")[0]))


def cmd_sink(args):
    ls = listener(args.listen)
    ready(args.ready)
    conn, peer = ls.accept()
    total = 0
    t0 = time.monotonic()
    while True:
        d = conn.recv(65536)
        if not d:
            break
        total += len(d)
    log("eof from %s:%d after %d bytes in %.3fs" % (peer[0], peer[1], total, time.monotonic() - t0))
    conn.sendall(b"OK %d\n" % total)
    conn.close()
    wait_forever()


# ---------------------------------------------------------------- clients

def cmd_burst_connect(args):
    fam, addr = server_addr(args)
    socks = []
    for i in range(args.first):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(args.hold)
        s.connect(addr)
        log("%s: connected (sequential)" % name(s))
        socks.append(s)
    first = list(socks)
    for i in range(args.count - args.first):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            log("connect %d: %s" % (i + 1, os.strerror(err)))
        socks.append(s)
    names = [name(s) for s in socks]
    log("%d connect()s issued at once: %s" % (len(socks) - len(first), " ".join(names[len(first):])))
    pending = dict((s.fileno(), i) for i, s in enumerate(socks) if s not in first)
    deadline = time.monotonic() + args.hold
    while pending and time.monotonic() < deadline:
        _, w, _ = select.select([], list(pending), [], max(0.0, deadline - time.monotonic()))
        for fd in w:
            i = pending.pop(fd)
            err = socks[i].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            log("%s: %s" % (names[i], "connected" if err == 0 else os.strerror(err)))
    for fd, i in sorted(pending.items(), key=lambda kv: kv[1]):
        log("%s: still connecting after %.1fs" % (names[i], args.hold))
    log("hold over: %d connected (by the client kernel), %d pending"
        % (len(socks) - len(pending), len(pending)))
    ready(args.ready)
    wait_forever()


def cmd_bulk_send(args):
    s = connect(args, timeout=30)
    if args.nodelay:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    me = name(s)
    data = (b"tcpa bulk payload " * (args.chunk // 18 + 1))[:args.chunk]
    left = args.size
    t0 = time.monotonic()
    while left > 0:
        n = s.send(data[:min(left, len(data))])
        left -= n
    s.shutdown(socket.SHUT_WR)
    log("%s sent %d bytes in %.3fs, shutdown(SHUT_WR)" % (me, args.size, time.monotonic() - t0))
    ans = recv_until(s, b"\n")
    log("%s answer %r" % (me, ans.strip()))
    s.close()


def cmd_write_write_read(args):
    s = connect(args)
    if args.nodelay:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    me = name(s)
    stalls = []
    for i in range(args.iterations):
        head = ("REQ %03d " % (i + 1)).encode().ljust(args.first, b"h")
        tail = b"t" * (args.second - 1) + b"\n"
        t0 = time.monotonic()
        s.send(head)
        s.send(tail)
        recv_until(s, b"\n")
        dt = (time.monotonic() - t0) * 1000
        stalls.append(dt)
        log("%s iteration %d: %.1f ms" % (me, i + 1, dt))
        if args.think:
            time.sleep(args.think)
    log("%s %d iterations, %d took >= 30 ms, nodelay=%s"
        % (me, args.iterations, sum(1 for d in stalls if d >= 30), bool(args.nodelay)))
    s.close()


def cmd_keepalive(args):
    socks = []
    for i in range(args.count):
        s = connect(args)
        s.sendall(b"GET /size/100 HTTP/1.1\r\nHost: tcpa-scenario\r\n\r\n")
        recv_until(s, b"tcpa-scenario-body")
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, args.idle)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, args.intvl)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, args.cnt)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setblocking(False)
        socks.append(s)
    names = [name(s) for s in socks]
    # drain whatever rest of the response arrived
    time.sleep(0.05)
    for s in socks:
        try:
            while s.recv(65536):
                pass
        except BlockingIOError:
            pass
    log("%d connections idle with keepalive idle=%ds intvl=%ds cnt=%d: %s"
        % (len(socks), args.idle, args.intvl, args.cnt, " ".join(names)))
    live = dict((s.fileno(), i) for i, s in enumerate(socks))
    deadline = time.monotonic() + args.hold
    while live and time.monotonic() < deadline:
        r, _, _ = select.select(list(live), [], [], max(0.0, deadline - time.monotonic()))
        for fd in r:
            i = live[fd]
            try:
                d = socks[i].recv(65536)
                what = "EOF" if not d else "%d unexpected bytes" % len(d)
            except BlockingIOError:
                continue
            except OSError as e:
                what = "error: %s" % (os.strerror(e.errno) if e.errno else e)
            log("%s: %s" % (names[i], what))
            del live[fd]
    log("hold over: %d of %d connections still open" % (len(live), len(socks)))
    ready(args.ready)
    wait_forever()


def cmd_linger_client(args):
    for i in range(args.count):
        s = connect(args)
        me = name(s)
        s.sendall(b"GET /%d HTTP/1.1\r\nHost: tcpa-scenario\r\n\r\n" % (i + 1))
        buf = recv_until(s, b"\r\n\r\n")
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    end = "EOF"
                    break
                buf += d
        except ConnectionResetError:
            end = "connection reset"
        log("%s: %d bytes, then %s" % (me, len(buf), end))
        s.close()
        time.sleep(args.gap)


def cmd_fast_open(args):
    fam, addr = server_addr(args)
    line = b"x" * (args.size - 1) + b"\n"
    for i in range(args.count):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.sendto(line, socket.MSG_FASTOPEN, addr)   # blocking: connect + send
        s.settimeout(10)
        reply = recv_until(s, b"\n")
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        # tcpi_options (byte 5): TCPI_OPT_SYN_DATA (0x20) when the SYN carried data
        log("%s: reply %r, data in SYN: %s" % (name(s), reply.strip()[:12],
            "yes" if info[5] & 0x20 else "no"))
        s.close()
        time.sleep(args.gap)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default="10.99.0.2")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--ready", help="file created when the story is over (or once listening)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("listen-only")
    p.add_argument("--listen", required=True)
    p.add_argument("--backlog", type=int, default=1)
    p = sub.add_parser("slow-reader")
    p.add_argument("--listen", required=True)
    p.add_argument("--rcvbuf", type=int, default=4096)
    p.add_argument("--chunk", type=int, default=1024)
    p.add_argument("--delay", type=float, default=0.01)
    p.add_argument("--pause-at", action="append", default=[], help="BYTES:SECONDS")
    p = sub.add_parser("line-echo")
    p.add_argument("--listen", required=True)
    p.add_argument("--fastopen", type=int, default=0)
    p = sub.add_parser("linger-server")
    p.add_argument("--listen", required=True)
    p = sub.add_parser("sink")
    p.add_argument("--listen", required=True)
    p = sub.add_parser("burst-connect")
    p.add_argument("--count", type=int, default=8)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--hold", type=float, default=6.0)
    p = sub.add_parser("bulk-send")
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--chunk", type=int, default=16384)
    p.add_argument("--nodelay", action="store_true")
    p = sub.add_parser("write-write-read")
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--first", type=int, default=40)
    p.add_argument("--second", type=int, default=60)
    p.add_argument("--think", type=float, default=0.0)
    p.add_argument("--nodelay", action="store_true")
    p = sub.add_parser("keepalive")
    p.add_argument("--count", type=int, default=3)
    p.add_argument("--idle", type=int, default=1)
    p.add_argument("--intvl", type=int, default=1)
    p.add_argument("--cnt", type=int, default=3)
    p.add_argument("--hold", type=float, default=5.0)
    p = sub.add_parser("fast-open")
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--gap", type=float, default=0.05)
    p = sub.add_parser("linger-client")
    p.add_argument("--count", type=int, default=5)
    p.add_argument("--gap", type=float, default=0.05)
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    cmd = {"listen-only": cmd_listen_only, "slow-reader": cmd_slow_reader,
           "line-echo": cmd_line_echo, "linger-server": cmd_linger_server, "sink": cmd_sink,
           "burst-connect": cmd_burst_connect, "bulk-send": cmd_bulk_send,
           "write-write-read": cmd_write_write_read, "keepalive": cmd_keepalive,
           "linger-client": cmd_linger_client, "fast-open": cmd_fast_open}[args.cmd]
    cmd(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
