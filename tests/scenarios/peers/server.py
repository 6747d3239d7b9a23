#!/usr/bin/env python3
"""Small real-TCP server for the tcpa capture scenarios (stdlib only).

One thread per connection, blocking sockets, so the kernel does all the TCP.

Protocols:
  http  requests end with CRLF CRLF; the answer is "HTTP/1.1 200 OK" with a
        Content-Length body; the size comes from the path (/size/N, default
        64 bytes). "Connection: close" in the request makes the server close
        right after answering (server closes first); otherwise the connection
        is kept and closed when the client's EOF is read (client closes first).
  line  every request is one line ending in \n (e.g. "SELECT 1;"); the answer
        is one line. The connection is closed on EOF.

Behaviours:
  --leak          never close an accepted socket: after the answer it is kept
                  in a list forever, also after the client's EOF (the
                  CLOSE_WAIT leak of a buggy proxy).
  --idle-timeout S  close a connection that carried nothing for S seconds
                  (MySQL wait_timeout).
  --keepalive-idle S  SO_KEEPALIVE on accepted sockets, first probe after S s
                  idle, next probes --keepalive-intvl apart.

Listens on every address given with --listen (host:port, [v6]:port); IPv6
listeners are V6ONLY so IPv4 peers never show up as ::ffff:a.b.c.d.
Writes --ready FILE once listening. Logs one line per event on stdout.
Runs until SIGTERM/SIGINT.
"""

import argparse
import os
import signal
import socket
import sys
import threading
import time

T0 = time.monotonic()
LOCK = threading.Lock()
LEAKED = []  # sockets of --leak, referenced forever


def log(msg):
    with LOCK:
        print("%8.3f %s" % (time.monotonic() - T0, msg), flush=True)


def parse_listen(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return fam, host, int(port)


def http_answer(req):
    head = req.split(b"\r\n")
    first = head[0].decode("latin-1", "replace")
    parts = first.split()
    path = parts[1] if len(parts) > 1 else "/"
    close = any(h.lower().startswith(b"connection:") and b"close" in h.lower() for h in head[1:])
    size = 64
    if path.startswith("/size/"):
        try:
            size = max(0, min(int(path[6:].split("/")[0]), 1 << 20))
        except ValueError:
            pass
    body = (b"tcpa-scenario-body " * (size // 19 + 1))[:size]
    resp = (b"HTTP/1.1 200 OK\r\nServer: tcpa-scenario\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\nConnection: %s\r\n\r\n" % (len(body), b"close" if close else b"keep-alive"))
    return resp + body, close, first


def handle(conn, peer, args):
    name = "%s:%d" % (peer[0], peer[1])
    if args.idle_timeout:
        conn.settimeout(args.idle_timeout)
    buf = b""
    nreq = 0
    while True:
        try:
            data = conn.recv(65536)
        except socket.timeout:
            log("idle-close %s after %.1fs idle (%d requests)" % (name, args.idle_timeout, nreq))
            conn.close()
            return
        except OSError as e:
            log("error %s recv: %s" % (name, e))
            conn.close()
            return
        if not data:
            if args.leak:
                log("eof %s: leaking the socket (no close)" % name)
                with LOCK:
                    LEAKED.append(conn)
                return
            log("eof %s: close (%d requests)" % (name, nreq))
            conn.close()
            return
        buf += data
        while True:
            if args.proto == "http":
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                req, buf = buf[:end], buf[end + 4:]
                resp, close, first = http_answer(req)
            else:
                end = buf.find(b"\n")
                if end < 0:
                    break
                req, buf = buf[:end], buf[end + 1:]
                first = req.decode("latin-1", "replace").strip()
                resp, close = b"OK 1 row: 1\n", False
            nreq += 1
            conn.sendall(resp)
            log("req %s #%d %r -> %d bytes%s" % (name, nreq, first, len(resp),
                                                 ", server closes" if close and not args.leak else ""))
            if close and not args.leak:
                conn.close()
                return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", action="append", required=True, help="addr:port, [v6addr]:port")
    ap.add_argument("--proto", choices=("http", "line"), default="http")
    ap.add_argument("--leak", action="store_true")
    ap.add_argument("--idle-timeout", type=float, default=0.0)
    ap.add_argument("--keepalive-idle", type=int, default=0)
    ap.add_argument("--keepalive-intvl", type=int, default=75)
    ap.add_argument("--backlog", type=int, default=128)
    ap.add_argument("--ready", help="file created once listening")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))

    listeners = []
    for spec in args.listen:
        fam, host, port = parse_listen(spec)
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        s.listen(args.backlog)
        listeners.append(s)
        log("listening on %s" % spec)

    def acceptor(ls):
        while True:
            conn, peer = ls.accept()
            if args.keepalive_idle:
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, args.keepalive_idle)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, args.keepalive_intvl)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 9)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            log("accept %s:%d" % (peer[0], peer[1]))
            threading.Thread(target=handle, args=(conn, peer, args), daemon=True).start()

    for ls in listeners:
        threading.Thread(target=acceptor, args=(ls,), daemon=True).start()
    if args.ready:
        with open(args.ready, "w") as f:
            f.write("%d\n" % os.getpid())
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
