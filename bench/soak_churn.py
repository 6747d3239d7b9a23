#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Short real-TCP connections for bench/soak.sh: the flow table's churn.

  soak_churn.py server --listen 10.97.0.2:8080 --listen [fd97::2]:8080 --ready FILE
  soak_churn.py client --connect 10.97.0.2:8080 --connect [fd97::2]:8080 \
                       --rate 200 --seconds 1800

Each connection: handshake, a one-line request ("MODE SIZE\\n"), a SIZE-byte
answer, then one of three endings, drawn by weight (--mix):
  C  the client closes first (client TIME_WAIT), the usual case;
  S  the server closes first (server TIME_WAIT);
  R  the client aborts with an RST (SO_LINGER 0).
The client paces connections at --rate per second over its --connect
addresses in turn, with --threads workers, and stops by itself after
--seconds; it prints one JSON line of counts at the end. The server runs
until SIGTERM/SIGINT. Standard library only; nothing leaves the namespaces.
"""

import argparse
import json
import random
import signal
import socket
import struct
import sys
import threading
import time


def addr(text):
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    return (socket.AF_INET6 if ":" in host else socket.AF_INET), host, int(port)


# ---- server ----

def serve_one(conn):
    try:
        conn.settimeout(10)
        buf = b""
        while b"\n" not in buf:
            chunk = conn.recv(256)
            if not chunk:
                return
            buf += chunk
        mode, size = buf.split(b"\n", 1)[0].split()
        conn.sendall(b"x" * min(int(size), 1 << 20))
        if mode == b"S":
            return  # we close first
        while conn.recv(4096):  # C: wait for the client's FIN; R: its RST
            pass
    except (OSError, ValueError):
        pass
    finally:
        conn.close()


def server(args):
    socks = []
    for text in args.listen:
        fam, host, port = addr(text)
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        s.listen(1024)
        socks.append(s)

    def accept_loop(s):
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=serve_one, args=(c,), daemon=True).start()

    for s in socks:
        threading.Thread(target=accept_loop, args=(s,), daemon=True).start()
    if args.ready:
        with open(args.ready, "w") as f:
            f.write("ready\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        pass


# ---- client ----

def client(args):
    targets = [addr(t) for t in args.connect]
    mix = []
    for item in args.mix.split(","):
        mode, _, w = item.partition("=")
        mix += [mode.strip().upper()] * int(w)
    if not mix or set(mix) - {"C", "S", "R"}:
        sys.exit("soak_churn: --mix takes C=W,S=W,R=W")
    t0 = time.monotonic()
    end = t0 + args.seconds
    lock = threading.Lock()
    state = {"next": 0}
    counts = {"connections": 0, "errors": 0, "C": 0, "S": 0, "R": 0}
    rng = random.Random(args.seed)

    def take():
        with lock:
            k = state["next"]
            state["next"] = k + 1
            return k, mix[rng.randrange(len(mix))]

    def one(k, mode):
        fam, host, port = targets[k % len(targets)]
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((host, port))
            s.sendall(b"%s %d\n" % (mode.encode(), args.size))
            got = 0
            while got < args.size:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
            if mode == "R":
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif mode == "S":
                while s.recv(4096):  # the server's FIN first
                    pass
            return True
        except OSError:
            return False
        finally:
            s.close()

    def worker():
        while True:
            k, mode = take()
            at = t0 + k / args.rate
            if at >= end:
                return
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            ok = one(k, mode)
            with lock:
                counts["connections"] += 1
                counts[mode] += 1
                counts["errors"] += 0 if ok else 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts["seconds"] = round(time.monotonic() - t0, 3)
    print(json.dumps(counts), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="role", required=True)
    s = sub.add_parser("server")
    s.add_argument("--listen", action="append", required=True)
    s.add_argument("--ready")
    c = sub.add_parser("client")
    c.add_argument("--connect", action="append", required=True)
    c.add_argument("--rate", type=float, default=200, help="connections per second")
    c.add_argument("--seconds", type=float, required=True)
    c.add_argument("--size", type=int, default=2000, help="answer bytes")
    c.add_argument("--mix", default="C=7,S=2,R=1")
    c.add_argument("--threads", type=int, default=8)
    c.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    (server if args.role == "server" else client)(args)


if __name__ == "__main__":
    main()
