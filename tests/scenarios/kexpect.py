#!/usr/bin/env python3
"""Derive the anomaly expectations of a kernel-counter scenario.

    kexpect.py SCENARIO --server-ports P[,P..] --pcap LABEL=FILE [--pcap ...]
               --nstat ROLE=AFTER[,BEFORE] [...] [--param KEY=VALUE ...]
               --out-dir DIR

For every --pcap it writes DIR/LABEL.json, to be merged into the
expectation by `ss2json.py --merge` (keys "anomalies", "notes", "tshark" and,
per scenario, "derivation"):

  "anomalies": {"total": {KEY: N}, "by_endpoint": {EP: {KEY: N}}}
      N is an int (exact) or {"min": a, "max": b} (a bound, inclusive).
      EP is the endpoint the anomaly is attributed to, spelled as in
      "endpoints" ("ip:port" for a server, "ip" for a client).
  "tshark": tcp.analysis counts of the capture as Wireshark/tshark sees
      them, total and by sender endpoint (the raw flags, for comparison).

Three sources, each a cross-check of the others:
  1. the kernels' counters (nstat deltas of the namespaces);
  2. a small reference implementation of the per-segment rules of
     ANOMALIES.md (class RuleOracle below), run over the capture with
     tshark's dissection; it is deliberately simple and independent of tcpa;
  3. tshark's own tcp.analysis flags.
Each scenario (derive_* below) states which source decides which count, and
checks the others against it: a hard check that fails makes this script exit
1 (the capture is not what the scenario was built to produce); a soft check
that fails only widens the count to a {"min", "max"} bound and says why in
"notes".
"""

import argparse
import bisect
import ipaddress
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ss2json  # noqa: E402  (same directory)

TSHARK_FLAGS = (
    "retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
    "lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window", "zero_window_probe",
    "zero_window_probe_ack", "window_full", "window_update", "keep_alive", "keep_alive_ack",
    "reused_ports",
)
FIELDS = (
    "frame.number", "frame.time_epoch", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst",
    "ipv6.dst", "tcp.dstport", "tcp.stream", "tcp.flags", "tcp.seq", "tcp.ack", "tcp.len",
    "tcp.window_size_value", "tcp.window_size", "tcp.options.mss_val",
    "tcp.options.timestamp.tsval", "tcp.options.sack_le", "tcp.options.sack_re", "tcp.seq_raw",
    "vlan.id", "ip.id",
) + tuple("tcp.analysis." + f for f in TSHARK_FLAGS)

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

MIN_RTO = 0.200        # ANOMALIES.md: fast retransmission sooner than this after the hole
OOO_DEFAULT = 0.003    # out_of_order window when the RTT is unknown
NAGLE_ACK_DELAY = 0.030
NAGLE_RELEASE = 0.010  # the held segment leaves once the ACK is processed (µs; ms on a busy host)


class CheckFailed(Exception):
    pass


# --------------------------------------------------------------------- input

class Frame:
    __slots__ = ("n", "t", "src", "sport", "dst", "dport", "stream", "flags", "seq", "ack",
                 "len", "win_raw", "win", "mss", "tsval", "sacks", "seq_raw", "vlan", "ts",
                 "tags", "skey", "dkey", "nagle_gap", "gapfill_dt", "ipid", "fast_ok")


def _int(v, default=None):
    if v == "":
        return default
    return int(v, 0)


def read_frames(pcap):
    cmd = ["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         universal_newlines=True).stdout
    frames = []
    nflag = len(TSHARK_FLAGS)
    for line in out.splitlines():
        v = line.split("\t")
        if len(v) < len(FIELDS):
            v += [""] * (len(FIELDS) - len(v))
        f = Frame()
        f.n = int(v[0])
        f.t = float(v[1])
        f.src = ipaddress.ip_address(v[2] or v[3])
        f.sport = int(v[4])
        f.dst = ipaddress.ip_address(v[5] or v[6])
        f.dport = int(v[7])
        f.stream = int(v[8])
        f.flags = int(v[9], 16)
        f.seq = int(v[10])
        f.ack = int(v[11]) if (f.flags & ACK) and v[11] else None
        f.len = int(v[12])
        f.win_raw = int(v[13])
        f.win = int(v[14])
        f.mss = _int(v[15])
        f.tsval = _int(v[16].split(",")[0]) if v[16] else None
        les = [int(x) for x in v[17].split(",") if x]
        res = [int(x) for x in v[18].split(",") if x]
        f.sacks = list(zip(les, res))
        f.seq_raw = int(v[19])
        f.vlan = _int(v[20].split(",")[0]) if v[20] else None
        f.ipid = _int(v[21]) if v[21] else None
        f.ts = set(TSHARK_FLAGS[i] for i in range(nflag) if v[len(FIELDS) - nflag + i])
        f.tags = set()
        frames.append(f)
    return frames


def ep_key(ip, port, server_ports):
    """Endpoint key as in "endpoints": server "ip:port", client "ip"."""
    if port in server_ports:
        return ss2json.fmt_ep(ip, port)
    return ss2json.fmt_ip(ip)


# ---------------------------------------------------------------- the rules

class Side:
    """What the observer knows of one direction (one sender)."""

    def __init__(self):
        self.syn_seq = None       # raw ISN of its SYN / SYN-ACK
        self.syn_count = 0
        self.synack_count = 0
        self.first_syn_t = None
        self.nxt = None           # highest relative seq + len (+SYN/FIN) sent
        self.seen = []            # merged [lo, hi) payload ranges seen
        self.cum_ack = None       # highest ACK it sent (for the peer's data)
        self.win = None           # last advertised window, bytes
        self.sacks = []           # SACK blocks of its last ACK
        self.prev = None          # (ack, win_raw) of its previous segment
        self.dupacks = 0
        self.mss = None           # MSS it announced in its SYN
        self.ts_on = False
        self.last_data = None     # (t, seq, end, len) of its last payload segment
        self.last_data_acked_t = None
        self.episode = None       # [start_t, recovery_point]: it is signalling loss
        self.sent_t = {}          # relative seq -> time of its last transmission
        self.gap_t = []           # (lo, hi, t) gaps seen in its data (lost_segment)
        self.fin = False
        self.fin_seq = None
        self.rst = False
        self.keepalive_pending = False
        self.zwp_pending = False


def _covered(lo, hi, ranges):
    for a, b in ranges:
        if a <= lo and hi <= b:
            return True
    return False


def _add_range(ranges, lo, hi):
    ranges.append((lo, hi))
    ranges.sort()
    out = []
    for a, b in ranges:
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    ranges[:] = out


class Conn:
    def __init__(self, f):
        self.client = (f.src, f.sport)
        self.server = (f.dst, f.dport)
        self.sides = {}
        self.established = False
        self.rtt = None
        self.syn_t = None
        self.synack_t = None
        self.answer_t = None      # first SYN-ACK or RST from the server
        self.rst_abort = False
        self.handshake_ack = False


class RuleOracle:
    """Per-segment rules of ANOMALIES.md over a capture, as a reference."""

    def __init__(self, frames, server_ports):
        self.frames = frames
        self.server_ports = server_ports
        self.conns = {}
        self.order = []
        for f in frames:
            f.skey = ep_key(f.src, f.sport, server_ports)
            f.dkey = ep_key(f.dst, f.dport, server_ports)
            self.step(f)

    def conn(self, f):
        c = self.conns.get(f.stream)
        if c is None:
            c = self.conns[f.stream] = Conn(f)
            self.order.append(c)
        return c

    def step(self, f):
        c = self.conn(f)
        me = c.sides.setdefault((f.src, f.sport), Side())
        peer = c.sides.setdefault((f.dst, f.dport), Side())
        fl = f.flags
        if fl & SYN:
            if f.mss:
                me.mss = f.mss
            me.ts_on = f.tsval is not None
            if not fl & ACK:
                me.syn_count += 1
                if me.syn_count > 1 and f.seq_raw == me.syn_seq:
                    f.tags.add("syn_retransmit")
                    f.tags.add("retransmission")  # SYN: sequence space seen
                me.syn_seq = f.seq_raw
                if c.syn_t is None:
                    c.syn_t = f.t
            else:
                me.synack_count += 1
                if me.synack_count > 1 and f.seq_raw == me.syn_seq:
                    f.tags.add("synack_retransmit")
                    f.tags.add("retransmission")
                me.syn_seq = f.seq_raw
                if c.synack_t is None:
                    c.synack_t = f.t
                if c.answer_t is None:
                    c.answer_t = f.t
            # the SYN, and the data it carries with Fast Open (RFC 7413)
            me.nxt = max(me.nxt or 0, 1 + f.len)
        if fl & RST:
            me.rst = True
            if not c.established and (f.src, f.sport) == c.server and c.answer_t is None:
                c.answer_t = f.t
                f.tags.add("conn_refused")
            elif c.established and not c.rst_abort:
                c.rst_abort = True
                f.tags.add("rst_abort")
        if (fl & ACK) and not (fl & (SYN | RST)) and not c.established \
                and (f.src, f.sport) == c.client and c.synack_t is not None:
            c.established = True
            c.handshake_ack = True
            if c.syn_t is not None:
                c.rtt = f.t - c.syn_t
        if not (fl & RST) and not (fl & SYN) and f.win_raw == 0:
            f.tags.add("zero_window")

        # --- sequence space of me
        if not (fl & (SYN | RST)):
            self.data(f, c, me, peer)
        if fl & FIN:
            fin_seq = f.seq + f.len
            if me.fin and f.len == 0 and fin_seq == me.fin_seq and not f.tags:
                f.tags.add("retransmission")  # a repeated bare FIN
            me.fin = True
            me.fin_seq = fin_seq
            me.nxt = max(me.nxt or 0, fin_seq + 1)

        # --- me acknowledging peer's data
        if f.ack is not None and not (fl & RST):
            self.acking(f, c, me, peer)
        me.prev = (f.ack, f.win_raw, f.len, fl)

    def data(self, f, c, me, peer):
        nxt = me.nxt if me.nxt is not None else f.seq
        end = f.seq + f.len
        probe_form = f.len <= 1 and not (f.flags & FIN) and (
            (f.seq == nxt - 1) or (f.len == 1 and f.seq == nxt and peer.win == 0))
        if probe_form and (f.len > 0 or f.seq == nxt - 1):
            if peer.win == 0:
                f.tags.add("zero_window_probe")
                me.zwp_pending = True
                return
            if f.seq == nxt - 1:
                f.tags.add("keepalive")
                me.keepalive_pending = True
                return
        if f.len == 0:
            return
        mss = peer.mss or 1460
        full = mss - 12 if me.ts_on else mss
        # fast: sent while the receiver signals loss. Read as Linux's
        # Recovery state: an episode opens with the first ACK that carries
        # SACK blocks or is the 2nd duplicate, and closes when the
        # cumulative ACK reaches what had been sent when it opened; fast if
        # the episode is less than the minimum RTO old.
        ep = peer.episode
        fast_ok = ep is not None and f.t - ep[0] < MIN_RTO
        f.fast_ok = fast_ok
        if end <= nxt:
            # sequence range (partly) below what this sender already sent
            if _covered(f.seq, end, me.seen):
                kind = "retransmission"
                if (peer.cum_ack is not None and end <= peer.cum_ack) or _covered(f.seq, end, peer.sacks):
                    kind = "spurious_retransmission"
            else:
                # fills a gap left by a segment this capture never saw
                gap_t = None
                for lo, hi, t in me.gap_t:
                    if lo < end and f.seq < hi:
                        gap_t = t
                        break
                limit = c.rtt if c.rtt else OOO_DEFAULT
                if gap_t is not None and f.t - gap_t < limit:
                    kind = "out_of_order"
                else:
                    kind = "retransmission"
                f.gapfill_dt = (f.t - gap_t) if gap_t is not None else None
                f.tags.add("gap_fill")
            if kind == "retransmission" and fast_ok:
                kind = "fast_retransmission"
            f.tags.add(kind)
            if kind in ("fast_retransmission", "spurious_retransmission"):
                f.tags.add("retransmission")
        elif f.seq > nxt and me.nxt is not None:
            f.tags.add("lost_segment")
            me.gap_t.append((nxt, f.seq, f.t))
        # window_full: the payload reaches the right edge of the peer's window
        if peer.win is not None and peer.cum_ack is not None and end == peer.cum_ack + peer.win \
                and "keepalive" not in f.tags:
            f.tags.add("window_full")
        # nagle_delay: previous sub-MSS segment, ACKed >= 30 ms later, and this
        # one leaves right after that ACK
        p = me.last_data
        if p is not None and f.len < full and p[3] < full and f.seq == p[2] \
                and me.last_data_acked_t is not None:
            at = me.last_data_acked_t
            if at - p[0] >= NAGLE_ACK_DELAY and 0 <= f.t - at <= NAGLE_RELEASE:
                f.tags.add("nagle_delay")
            f.nagle_gap = (at - p[0], f.t - at)
        if end > nxt:
            me.last_data = (f.t, f.seq, end, f.len)
            me.last_data_acked_t = None
        _add_range(me.seen, f.seq, end)
        me.sent_t[f.seq] = f.t
        me.nxt = max(nxt, end)

    def acking(self, f, c, me, peer):
        a = f.ack
        pure = f.len == 0 and not (f.flags & (SYN | FIN | RST))
        if peer.keepalive_pending and pure:
            f.tags.add("keepalive_ack")
            peer.keepalive_pending = False
        elif peer.zwp_pending and pure:
            f.tags.add("zero_window_probe_ack")
            peer.zwp_pending = False
        elif pure and me.prev is not None and me.prev[0] == a and me.prev[1] == f.win_raw \
                and peer.nxt is not None and peer.nxt > a and "keepalive" not in f.tags \
                and "zero_window_probe" not in f.tags:
            f.tags.add("dup_ack")
        if peer.nxt is not None and a > peer.nxt and c.established:
            f.tags.add("ack_unseen")
        if me.cum_ack is None or a > me.cum_ack:
            me.cum_ack = a
            me.dupacks = 0
        elif a == me.cum_ack and pure:
            me.dupacks += 1
        me.win = f.win
        me.sacks = [(lo, hi) for lo, hi in f.sacks if lo >= a]
        if me.episode is not None and a >= me.episode[1]:
            me.episode = None
        if me.episode is None and (me.dupacks >= 2 or me.sacks) and peer.nxt is not None \
                and peer.nxt > a:
            me.episode = [f.t, peer.nxt]
        ld = peer.last_data
        if ld is not None and peer.last_data_acked_t is None and a >= ld[2]:
            peer.last_data_acked_t = f.t

    # --- summaries
    def count(self, tag, by=None):
        """{endpoint: n} of frames carrying tag; by="sender"|"receiver"."""
        out = {}
        for f in self.frames:
            if tag in f.tags:
                k = f.skey if by != "receiver" else f.dkey
                out[k] = out.get(k, 0) + 1
        return out

    def total(self, tag):
        return sum(1 for f in self.frames if tag in f.tags)


# ----------------------------------------------------------- tshark counts

def tshark_summary(frames, server_ports):
    total = {}
    by = {}
    for f in frames:
        k = ep_key(f.src, f.sport, server_ports)
        for fl in f.ts:
            total[fl] = total.get(fl, 0) + 1
            d = by.setdefault(k, {})
            d[fl] = d.get(fl, 0) + 1
    order = {fl: i for i, fl in enumerate(TSHARK_FLAGS)}
    srt = lambda d: {k: d[k] for k in sorted(d, key=lambda x: order.get(x, 99))}  # noqa: E731
    vlans = sorted(set(f.vlan for f in frames if f.vlan is not None))
    out = {"version": tshark_version(), "frames": len(frames),
           "conversations": len(set(f.stream for f in frames)),
           "total": srt(total), "by_sender": {k: srt(v) for k, v in sorted(by.items())}}
    if vlans:
        out["vlan_ids"] = vlans
    return out


def tshark_version():
    try:
        out = subprocess.run(["tshark", "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True).stdout
        words = out.splitlines()[0].split()
        return "tshark " + next(w for w in words if w[:1].isdigit())
    except (OSError, IndexError, StopIteration):
        return "tshark"


def tshark_count(frames, flag, pred=None):
    return sum(1 for f in frames if flag in f.ts and (pred is None or pred(f)))


# ---------------------------------------------------------------- building

class Result:
    def __init__(self, name, server_ports, frames, oracle, nstat, params):
        self.name = name
        self.server_ports = server_ports
        self.frames = frames
        self.oracle = oracle
        self.nstat = nstat
        self.params = params
        self.total = {}
        self.by_ep = {}
        self.notes = []
        self.derivation = {}
        self.errors = []

    def ns(self, role, counter):
        return self.nstat.get(role, {}).get(counter, 0)

    def put(self, key, value, endpoint=None, how=None):
        """Expected count of anomaly key (int or (min, max)), attributed."""
        if isinstance(value, tuple):
            lo, hi = value
            value = lo if lo == hi else {"min": lo, "max": hi}
        self.total[key] = value
        if endpoint is not None:
            self.by_ep.setdefault(endpoint, {})[key] = value
        if how:
            self.derivation[key] = how

    def hard(self, ok, msg):
        if not ok:
            self.errors.append(msg)
        return ok

    def soft(self, ok, msg):
        if not ok:
            self.notes.append("Cross-check not met (count given as a bound): " + msg)
        return ok

    def to_json(self):
        return {
            "anomalies": {"total": self.total, "by_endpoint": self.by_ep},
            "notes": " ".join(self.notes),
            "derivation": self.derivation,
        }


def pick(r, key, kernel=None, oracle=None, tshark=None, decide="kernel", endpoint=None, what=""):
    """State key from several sources; the deciding one wins if all agree,
    otherwise the count becomes (min, max) of the available sources."""
    srcs = {"kernel": kernel, "rules": oracle, "tshark": tshark}
    vals = {k: v for k, v in srcs.items() if v is not None}
    main = vals[decide]
    # tshark decides only where it is named; otherwise it is a comparison:
    # Wireshark's heuristics differ from ANOMALIES.md in places (fast
    # retransmission, out-of-order), so a difference is noted, not a bound
    voting = {k: v for k, v in vals.items() if k != "tshark" or decide == "tshark"}
    same = all(v == main for v in voting.values())
    how = "%s (%s)" % (what, ", ".join("%s %d" % (k, v) for k, v in vals.items())) if what else \
        ", ".join("%s %d" % (k, v) for k, v in vals.items())
    if "tshark" in vals and vals["tshark"] != main and decide != "tshark":
        r.notes.append("tshark differs on %s: %d against %d." % (key, vals["tshark"], main))
    if same:
        r.put(key, main, endpoint, how)
    else:
        r.soft(False, "%s: %s." % (key, how))
        r.put(key, (min(voting.values()), max(voting.values())), endpoint, how)


# --------------------------------------------------------------- scenarios

def derive_backlog_overflow(r):
    o = r.oracle
    count = int(r.params.get("count", 8))
    syn_to = float(r.params.get("syn_timeout_s", 3))
    server = [k for k in o.count("syn_retransmit", "receiver")] or \
        [ep_key(c.server[0], c.server[1], r.server_ports) for c in o.order]
    server = server[0] if server else None
    client = ep_key(o.order[0].client[0], 0, set()) if o.order else None
    r.hard(len(o.order) == count, "expected %d connections, the capture has %d" % (count, len(o.order)))
    syn_rtx = o.total("syn_retransmit")
    synack_rtx = o.total("synack_retransmit")
    ts_syn = tshark_count(r.frames, "retransmission", lambda f: f.flags & (SYN | ACK) == SYN)
    ts_synack = tshark_count(r.frames, "retransmission", lambda f: f.flags & (SYN | ACK) == SYN | ACK)
    pick(r, "syn_retransmit", kernel=r.ns("client", "TcpExtTCPSynRetrans"), oracle=syn_rtx,
         tshark=ts_syn, endpoint=server,
         what="repeated SYNs (same ISN): client TcpExtTCPSynRetrans; tshark SYN && retransmission")
    pick(r, "synack_retransmit", kernel=r.ns("server", "TcpExtTCPSynRetrans"), oracle=synack_rtx,
         tshark=ts_synack, endpoint=client,
         what="repeated SYN-ACKs: server TcpExtTCPSynRetrans; tshark SYN-ACK && retransmission")
    # syn_unanswered: per connection, first SYN without SYN-ACK/RST within syn_timeout_s
    never, late, border = 0, 0, 0
    waits = []
    for c in o.order:
        if c.answer_t is None:
            never += 1
            waits.append(None)
            continue
        w = c.answer_t - c.syn_t
        waits.append(round(w, 4))
        if w > syn_to + 0.1:
            late += 1
        elif w >= syn_to - 0.1:
            border += 1
    last_t = r.frames[-1].t
    lo, hi = never + late, never + late + border
    r.put("syn_unanswered", (lo, hi), server,
          "connections whose first SYN got no SYN-ACK/RST within %.0f s: never answered %d, "
          "answered > %.1f s after the first SYN %d, answered within 0.1 s of the %.0f s limit %d "
          "(those count or not depending on how the timer meets the SYN-ACK); waits %s"
          % (syn_to, never, syn_to + 0.1, late, syn_to, border, waits))
    for c in o.order:
        if c.answer_t is None:
            r.hard(last_t - c.syn_t > syn_to,
                   "an unanswered SYN is younger than syn_timeout_s at capture end")
    # ANOMALIES.md: a repeated SYN or SYN-ACK is also a retransmission, of
    # its sender (the kernel agrees: TcpRetransSegs counts them)
    rt = o.count("retransmission")
    r.hard(rt.get(client, 0) == syn_rtx and rt.get(server, 0) == synack_rtx
           and sum(rt.values()) == syn_rtx + synack_rtx, "retransmissions other than SYN/SYN-ACK: %s" % rt)
    r.hard(r.ns("client", "TcpRetransSegs") == syn_rtx and r.ns("server", "TcpRetransSegs") == synack_rtx,
           "TcpRetransSegs (client %d, server %d) != repeated SYNs %d / SYN-ACKs %d" % (
               r.ns("client", "TcpRetransSegs"), r.ns("server", "TcpRetransSegs"), syn_rtx, synack_rtx))
    r.total["retransmission"] = syn_rtx + synack_rtx
    r.by_ep.setdefault(client, {})["retransmission"] = syn_rtx
    r.by_ep.setdefault(server, {})["retransmission"] = synack_rtx
    r.derivation["retransmission"] = (
        "the repeated SYNs and SYN-ACKs, attributed to their senders: client TcpRetransSegs %d, "
        "server TcpRetransSegs %d" % (syn_rtx, synack_rtx))
    chal = r.ns("client", "TcpExtTCPChallengeACK")
    r.put("dup_ack", o.total("dup_ack"), None,
          "rules: no data outstanding. The client's answers to the repeated SYN-ACKs are RFC 5961 "
          "challenge ACKs (client TcpExtTCPChallengeACK %d, TcpExtTCPSYNChallenge %d: a SYN on "
          "an ESTABLISHED socket); tshark flags %d of them duplicate_ack" % (
              chal, r.ns("client", "TcpExtTCPSYNChallenge"), tshark_count(r.frames, "duplicate_ack")))
    r.put("conn_refused", 0, None, "no RST in the capture")
    r.hard(o.total("conn_refused") == 0 and not any(f.flags & RST for f in r.frames),
           "unexpected RST")
    r.derivation["kernel"] = {
        "server": {k: r.ns("server", k) for k in (
            "TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtTCPReqQFullDrop",
            "TcpExtTCPSynRetrans", "TcpRetransSegs", "TcpPassiveOpens")},
        "client": {k: r.ns("client", k) for k in (
            "TcpExtTCPSynRetrans", "TcpRetransSegs", "TcpActiveOpens")}}
    n_syn = sum(1 for f in r.frames if f.flags & (SYN | ACK) == SYN)
    n_synack = sum(1 for f in r.frames if f.flags & (SYN | ACK) == SYN | ACK)
    dropped_syns = n_syn - (n_synack - synack_rtx)
    # the client's ACKs on handshakes the server keeps repeating: dropped
    # (accept queue full when the final ACK came)
    rep = set(f.stream for f in r.frames if "synack_retransmit" in f.tags)
    dropped_acks = sum(1 for f in r.frames if f.stream in rep and f.skey == client
                       and f.flags & (SYN | ACK | RST | FIN) == ACK and f.len == 0)
    overflow, drops = r.ns("server", "TcpExtListenOverflows"), r.ns("server", "TcpExtListenDrops")
    qfull = r.ns("server", "TcpExtTCPReqQFullDrop")
    r.hard(drops == dropped_syns + dropped_acks and drops == overflow + qfull,
           "server TcpExtListenDrops %d != unanswered SYNs %d + ACKs of unfinished handshakes %d "
           "(TcpExtListenOverflows %d + TcpExtTCPReqQFullDrop %d)"
           % (drops, dropped_syns, dropped_acks, overflow, qfull))
    r.derivation["syn_frames"] = n_syn
    r.derivation["synack_frames"] = n_synack
    r.derivation["syns_dropped_by_server"] = dropped_syns
    r.derivation["acks_dropped_by_server"] = dropped_acks
    r.notes.append(
        "The client connects once (accept queue 1), then fires %d connect()s at once; the "
        "server's SYN-ACKs leave ~30 ms apart (tbf). %d SYN frames, %d SYN-ACK frames. The "
        "server (listen(%s), tcp_syncookies=0, never accept()s) dropped %d SYNs: %d because 2 "
        "requests were already pending (TcpExtTCPReqQFullDrop) and the rest because the accept "
        "queue was full; and it dropped the final ACK of %d handshake(s) that completed after the "
        "queue filled, %d ACK frames in all (the first ACK and the answers to the repeated "
        "SYN-ACKs): TcpExtListenOverflows %d = full-queue SYN drops + %d ACK drops, "
        "TcpExtListenDrops %d = all drops. The client holds those connections as ESTABLISHED "
        "while the server holds them as SYN_RECEIVED (ss), although the capture shows the ACK. "
        "syn_retransmit and synack_retransmit are exact: the capture's repeated SYNs/SYN-ACKs "
        "equal the senders' own TcpExtTCPSynRetrans (this kernel repeats a SYN every ~1 s for "
        "the first tries: net.ipv4.tcp_syn_linear_timeouts; a SYN-ACK after 1 s, then 2 s). "
        "syn_unanswered is per connection, from the first SYN." % (
            count - 1, n_syn, n_synack, r.params.get("backlog", "?"), dropped_syns, qfull,
            len(rep), dropped_acks, overflow, dropped_acks, drops))


def derive_zero_window(r):
    o = r.oracle
    server = client = None
    if o.order:
        c = o.order[0]
        server = ep_key(c.server[0], c.server[1], r.server_ports)
        client = ep_key(c.client[0], 0, set())
    zw = o.count("zero_window")
    zw_srv = zw.get(server, 0)
    r.hard(set(zw) <= {server}, "zero windows from the writer: %s" % zw)
    ts_zw = tshark_count(r.frames, "zero_window", lambda f: f.skey == server)
    pick(r, "zero_window", oracle=zw_srv, tshark=ts_zw, decide="rules", endpoint=server,
         what="segments from the reader advertising window 0 (rules; tshark zero_window)")
    # transitions to zero: what the kernel counts
    trans = 0
    prev = None
    for f in r.frames:
        if f.skey == server and not (f.flags & (RST | SYN)):
            z = f.win_raw == 0
            if z and prev is False:
                trans += 1
            prev = z
    r.derivation["zero_window_transitions"] = trans
    r.soft(trans == r.ns("server", "TcpExtTCPToZeroWindowAdv"),
           "window drops to zero in the capture %d, server TcpExtTCPToZeroWindowAdv %d"
           % (trans, r.ns("server", "TcpExtTCPToZeroWindowAdv")))
    zwp = o.count("zero_window_probe").get(client, 0)
    ts_zwp = tshark_count(r.frames, "zero_window_probe", lambda f: f.skey == client) + \
        tshark_count(r.frames, "keep_alive", lambda f: f.skey == client)
    pick(r, "zero_window_probe", kernel=r.ns("client", "TcpExtTCPWinProbe"), oracle=zwp,
         tshark=ts_zwp, endpoint=client,
         what="writer's probes into the zero window: client TcpExtTCPWinProbe; tshark "
              "zero_window_probe + keep_alive (Wireshark calls the Linux form, seq = next - 1, "
              "a keep-alive)")
    wf = o.count("window_full").get(client, 0)
    ts_wf = tshark_count(r.frames, "window_full", lambda f: f.skey == client)
    pick(r, "window_full", oracle=wf, tshark=ts_wf, decide="tshark", endpoint=client,
         what="writer's segments that fill the reader's window exactly (tshark window_full; rules)")
    ka = o.total("keepalive")
    r.put("keepalive", ka, None, "probes while the window is open (rules): none expected")
    r.hard(ka == 0, "keepalive-form probes with the window open: %d" % ka)
    rtx = o.total("retransmission")
    r.put("retransmission", rtx, client if rtx else None,
          "rules; kernel client TcpRetransSegs %d" % r.ns("client", "TcpRetransSegs"))
    r.soft(rtx == r.ns("client", "TcpRetransSegs"),
           "retransmissions %d vs client TcpRetransSegs %d" % (rtx, r.ns("client", "TcpRetransSegs")))
    r.notes.append(
        "The reader (SO_RCVBUF %s before listen()) reads %s bytes every %s s with pauses %s; "
        "the writer sends %s bytes with TCP_NODELAY. zero_window counts segments, the kernel's "
        "TcpExtTCPToZeroWindowAdv counts transitions to zero (%d in the capture, kernel %d); "
        "TcpExtTCPWantZeroWindowAdv %d (the reader wanted to shrink below zero), "
        "TcpExtTCPFromZeroWindowAdv %d. Every zero-window probe is the Linux form (seq = "
        "snd.una - 1, no payload), which tshark flags tcp.analysis.keep_alive; by ANOMALIES.md's "
        "precedence it is a zero_window_probe, never a keepalive. The probe answers are "
        "zero_window_probe_ack in the rules (tshark: keep_alive_ack)." % (
            r.params.get("rcvbuf", "?"), r.params.get("chunk", "?"), r.params.get("delay", "?"),
            r.params.get("pauses", "?"), r.params.get("size", "?"), trans,
            r.ns("server", "TcpExtTCPToZeroWindowAdv"), r.ns("server", "TcpExtTCPWantZeroWindowAdv"),
            r.ns("server", "TcpExtTCPFromZeroWindowAdv")))


def _nagle(r, nodelay):
    o = r.oracle
    iters = int(r.params.get("iterations", 20))
    c = o.order[0] if o.order else None
    client = ep_key(c.client[0], 0, set()) if c else None
    r.hard(len(o.order) == 1, "expected 1 connection, got %d" % len(o.order))
    n = o.total("nagle_delay")
    # per iteration: ACK delay of the head segment, release of the tail
    gaps = [getattr(f, "nagle_gap", None) for f in r.frames if f.skey == client and f.len > 0]
    gaps = [g for g in gaps if g is not None]
    near = sum(1 for a, b in gaps if abs(a - NAGLE_ACK_DELAY) < 0.005 and b <= NAGLE_RELEASE)
    lo, hi = max(0, n - near), n + near
    second = int(r.params.get("second", 60))
    tails = [f for f in r.frames if f.skey == client and f.len == second]
    acks_ms = [round(f.nagle_gap[0] * 1000, 1) if getattr(f, "nagle_gap", None) else None
               for f in tails]
    r.derivation["head_ack_delay_before_each_tail_ms"] = acks_ms
    if nodelay:
        # the tail never waits: it leaves right after the head, before any ACK
        tails_before_ack = sum(1 for f in r.frames if f.skey == client and f.len > 0
                               and getattr(f, "nagle_gap", None) is None)
        r.hard(n == 0, "nagle_delay with TCP_NODELAY: %d" % n)
        r.put("nagle_delay", 0, client,
              "TCP_NODELAY: every tail segment leaves before the head's ACK (%d of %d data "
              "segments sent with the previous one unacknowledged)" % (tails_before_ack, 2 * iters))
    else:
        dack = r.ns("server", "TcpExtDelayedACKs")
        r.put("nagle_delay", (min(lo, dack), max(hi, dack)), client,
              "rules: tail segment held until the head's ACK, which came >= 30 ms after the "
              "head (%d of %d iterations; %d within 5 ms of the 30 ms threshold); the server's "
              "TcpExtDelayedACKs %d (one delayed ACK per stall)" % (n, iters, near, dack))
        r.soft(n == dack, "stalls in the capture %d, server TcpExtDelayedACKs %d" % (n, dack))
        r.hard(n <= iters, "more stalls than iterations")
    r.put("retransmission", o.total("retransmission"), None, "rules: none expected")
    r.hard(o.total("retransmission") == 0, "retransmissions in a loss-free run")
    r.notes.append(
        "%d iterations of write(%s B), write(%s B), read(reply) on one connection%s. Stall rule "
        "(ANOMALIES.md nagle_delay): the second (tail) segment follows the first (head) segment "
        "unacknowledged, the head's ACK came >= 30 ms after the head, and the tail left <= 10 ms "
        "after that ACK. Per iteration, ms from the head to its ACK when the tail waited for it "
        "(null: the tail did not wait): %s. Server TcpExtDelayedACKs %d, client %d. A new "
        "connection starts in quick-ACK mode, so the first exchange(s) do not stall." % (
            iters, r.params.get("first", "?"), r.params.get("second", "?"),
            " with TCP_NODELAY" if nodelay else " with Nagle on (default)", acks_ms,
            r.ns("server", "TcpExtDelayedACKs"), r.ns("client", "TcpExtDelayedACKs")))


def derive_nagle_delayed_ack(r):
    _nagle(r, False)


def derive_nagle_nodelay(r):
    _nagle(r, True)


def _keepalive_common(r, sender_role):
    o = r.oracle
    ka = o.count("keepalive")
    kack = o.count("keepalive_ack")
    sender = [c for c in o.order]
    who = ep_key(sender[0].client[0], 0, set()) if sender_role == "client" else \
        ep_key(sender[0].server[0], sender[0].server[1], r.server_ports)
    peer = ep_key(sender[0].server[0], sender[0].server[1], r.server_ports) if sender_role == "client" \
        else ep_key(sender[0].client[0], 0, set())
    r.hard(set(ka) <= {who}, "keep-alives from the wrong side: %s" % ka)
    r.hard(ka.get(who, 0) == r.ns(sender_role, "TcpExtTCPKeepAlive"),
           "probes in the capture %d != %s TcpExtTCPKeepAlive %d (a probe round fell between "
           "the snapshot and the end of the capture?)"
           % (ka.get(who, 0), sender_role, r.ns(sender_role, "TcpExtTCPKeepAlive")))
    pick(r, "keepalive", kernel=r.ns(sender_role, "TcpExtTCPKeepAlive"), oracle=ka.get(who, 0),
         tshark=tshark_count(r.frames, "keep_alive"), endpoint=who,
         what="probes seq = snd.nxt - 1, no payload: %s TcpExtTCPKeepAlive; tshark keep_alive"
              % sender_role)
    pick(r, "keepalive_ack", oracle=kack.get(peer, 0),
         tshark=tshark_count(r.frames, "keep_alive_ack"), decide="rules", endpoint=peer,
         what="answers to them (rules; tshark keep_alive_ack)")
    r.put("zero_window_probe", o.total("zero_window_probe"), None, "rules: the window is open")
    r.hard(o.total("zero_window_probe") == 0, "zero-window probes on an open window")
    r.put("retransmission", o.total("retransmission"), None,
          "rules: a keep-alive (seq = next - 1) is not a retransmission")
    r.hard(o.total("retransmission") == 0, "retransmissions counted")
    r.put("dup_ack", o.total("dup_ack"), None, "rules: nothing outstanding")
    return who, peer


def derive_keepalive(r):
    who, peer = _keepalive_common(r, "client")
    r.put("rst_abort", 0, None, "no RST")
    r.hard(not any(f.flags & RST for f in r.frames), "unexpected RST")
    r.notes.append(
        "%s connections, one exchange each, then idle with SO_KEEPALIVE, TCP_KEEPIDLE %s s, "
        "TCP_KEEPINTVL %s s on the client; the server has no keep-alive. Every probe is answered "
        "(both alive). keepalive is exact: the probes in the capture equal the client's "
        "TcpExtTCPKeepAlive (the snapshot is taken mid-way between two probe rounds). A Linux "
        "zero-window probe has the same form (seq = snd.una - 1); here the window is open, so "
        "these are keep-alives (ANOMALIES.md)." % (
            r.params.get("count", "?"), r.params.get("idle", "?"), r.params.get("intvl", "?")))


def derive_keepalive_dead_peer(r):
    who, peer = _keepalive_common(r, "client")
    o = r.oracle
    count = int(r.params.get("count", 2))
    rst = o.count("rst_abort")
    r.hard(set(rst) <= {who}, "RST from the wrong side: %s" % rst)
    nrst = sum(1 for f in r.frames if f.flags & RST)
    pick(r, "rst_abort", kernel=r.ns("client", "TcpOutRsts"), oracle=rst.get(who, 0),
         endpoint=who, what="client's RST at keep-alive timeout (client TcpOutRsts)")
    r.hard(nrst == count, "expected %d RSTs (one per connection), got %d" % (count, nrst))
    unanswered = o.total("keepalive") - o.total("keepalive_ack")
    r.derivation["unanswered_keepalives"] = unanswered
    r.hard(unanswered == count * int(r.params.get("cnt", 3)),
           "unanswered probes %d, expected TCP_KEEPCNT x connections" % unanswered)
    r.notes.append(
        "%d connections, one exchange each, client SO_KEEPALIVE idle %s s, intvl %s s, "
        "TCP_KEEPCNT %s. After %s s the server host 'dies': nftables in the server namespace "
        "drops everything in and out, and its sockets are destroyed with ss -K (their RSTs are "
        "dropped too: server TcpOutRsts %d, TcpExtTCPAbortFailed %d, nothing on the wire), like "
        "a power loss. The capture "
        "point (the server's port) still sees the client's probes: %d unanswered = TCP_KEEPCNT "
        "per connection. One TCP_KEEPINTVL after the last of them the client kernel gives up: "
        "it SENDS A RST (RST+ACK, seq = snd.nxt, in window) and the application gets ETIMEDOUT; client TcpOutRsts %d, "
        "TcpExtTCPKeepAlive %d, TcpExtTCPAbortOnTimeout %d. rst_abort: the RST is sent on an "
        "established connection, attributed to the client." % (
            count, r.params.get("idle", "?"), r.params.get("intvl", "?"), r.params.get("cnt", "?"),
            r.params.get("die_after", "?"), r.ns("server", "TcpOutRsts"),
            r.ns("server", "TcpExtTCPAbortFailed"), unanswered,
            r.ns("client", "TcpOutRsts"), r.ns("client", "TcpExtTCPKeepAlive"),
            r.ns("client", "TcpExtTCPAbortOnTimeout")))


def derive_linger_abort(r):
    o = r.oracle
    count = int(r.params.get("count", 5))
    c = o.order[0]
    server = ep_key(c.server[0], c.server[1], r.server_ports)
    rst = o.count("rst_abort")
    r.hard(len(o.order) == count, "expected %d connections, got %d" % (count, len(o.order)))
    r.hard(set(rst) <= {server}, "RST from the client: %s" % rst)
    pick(r, "rst_abort", kernel=r.ns("server", "TcpOutRsts"), oracle=rst.get(server, 0),
         endpoint=server, what="server RSTs on established connections (server TcpOutRsts)")
    r.hard(rst.get(server, 0) == count, "expected one RST per connection")
    fins = sum(1 for f in r.frames if f.flags & FIN)
    r.hard(fins == 0, "FINs in the capture: %d" % fins)
    r.put("conn_refused", 0, None, "")
    r.put("retransmission", o.total("retransmission"), None, "rules: none expected")
    r.notes.append(
        "%d connections, one request/response each; the server sets SO_LINGER {1, 0} and "
        "close()s right after writing the response: no FIN, one RST per connection (RST+ACK, "
        "seq = snd.nxt, so in the client's window). Kernel: server TcpOutRsts %d, TcpExtTCPAbortOnData %d (Linux counts a "
        "linger-0 close under TCPAbortOnData, not TCPAbortOnClose, which is for unread data: "
        "TcpExtTCPAbortOnClose %d), TcpEstabResets server %d / client %d. No socket survives "
        "(no TIME_WAIT on either side)." % (
            count, r.ns("server", "TcpOutRsts"), r.ns("server", "TcpExtTCPAbortOnData"),
            r.ns("server", "TcpExtTCPAbortOnClose"), r.ns("server", "TcpEstabResets"),
            r.ns("client", "TcpEstabResets")))


def _leak(r):
    o = r.oracle
    count = int(r.params.get("count", 10))
    c = o.order[0]
    server = ep_key(c.server[0], c.server[1], r.server_ports)
    client = ep_key(c.client[0], 0, set())
    r.hard(len(o.order) == count, "expected %d connections, got %d" % (count, len(o.order)))
    cw = int(r.params.get("close_wait_ss", -1))
    r.hard(cw == count, "ss shows %d CLOSE_WAIT sockets on the server, expected %d" % (cw, count))
    last = r.frames[-1].t
    fins = [f.t for f in r.frames if f.flags & FIN and f.skey == client]
    r.hard(len(fins) == count, "expected %d client FINs, got %d" % (count, len(fins)))
    r.hard(not any(f.flags & FIN for f in r.frames if f.skey == server), "server FIN in the capture")
    ages = sorted(round(last - t, 3) for t in fins)
    r.hard(ages[0] >= 5.0, "a CLOSE_WAIT is only %.3f s old at the last packet" % ages[0])
    r.put("close_wait_stuck", count, server,
          "server CLOSE_WAIT sockets in ss (kernel) %d; their age at the last packet %.3f-%.3f s "
          "(>= close_wait_s 5)" % (cw, ages[0], ages[-1]))
    pick(r, "keepalive", kernel=r.ns("server", "TcpExtTCPKeepAlive"),
         oracle=o.count("keepalive").get(server, 0), tshark=tshark_count(r.frames, "keep_alive"),
         endpoint=server, what="one marker probe per leaked socket (server TcpExtTCPKeepAlive)")
    pick(r, "keepalive_ack", oracle=o.count("keepalive_ack").get(client, 0),
         tshark=tshark_count(r.frames, "keep_alive_ack"), decide="rules", endpoint=client,
         what="answers from the client's FIN_WAIT_2 sockets")
    for k in ("retransmission", "dup_ack", "rst_abort", "zero_window"):
        r.put(k, o.total(k), None, "rules: none expected")
        r.hard(o.total(k) == 0, "%s in the capture: %d" % (k, o.total(k)))
    vl = sorted(set(f.vlan for f in r.frames if f.vlan is not None))
    if r.params.get("vlan"):
        r.hard(vl == [int(r.params["vlan"])] and all(f.vlan is not None for f in r.frames),
               "every frame must carry VLAN %s, got %s" % (r.params["vlan"], vl))


def derive_ipv6_leak(r):
    _leak(r)
    r.notes.append(
        "close_wait_leak over IPv6 ([fd99::2]:8080 <- fd99::1), %s connections; same "
        "keep-alive marker (TCP_KEEPIDLE %s s) so that packet time passes close_wait_s." % (
            r.params.get("count", "?"), r.params.get("sit", "?")))


def derive_vlan_leak(r):
    _leak(r)
    r.notes.append(
        "close_wait_leak with every frame 802.1Q-tagged, VLAN %s, %s connections. The tag is "
        "real kernel path: a tc BPF program (bpf_skb_vlan_push) on egress of both veths, popped "
        "on ingress (bpf_skb_vlan_pop) because this kernel has no 8021q module; tcpdump sees the "
        "tag in the skb metadata (veth does VLAN TX offload) and libpcap writes it into the "
        "frame, as with a NIC that strips tags." % (r.params.get("vlan", "?"), r.params.get("count", "?")))


def derive_loss_recovery(r):
    o = r.oracle
    side = r.params["side"]
    c = o.order[0]
    server = ep_key(c.server[0], c.server[1], r.server_ports)
    client = ep_key(c.client[0], 0, set())
    r.hard(len(o.order) == 1, "expected 1 connection, got %d" % len(o.order))
    k = lambda n: r.ns("client", n)  # noqa: E731  (the sender's kernel)
    rtx_k = k("TcpRetransSegs")
    fast_k = k("TcpExtTCPFastRetrans")
    rule = {t: o.count(t).get(client, 0) for t in (
        "retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order",
        "lost_segment", "window_full", "zero_window_probe", "keepalive")}
    dup = o.count("dup_ack").get(server, 0)
    ts = lambda fl: tshark_count(r.frames, fl, lambda f: f.skey == client)  # noqa: E731
    drops = int(r.params.get("nft_drops", -1))
    recv_rtx = r.params.get("retrans_seen_by_receiver")
    if side == "sender":
        pick(r, "retransmission", kernel=rtx_k, oracle=rule["retransmission"],
             tshark=ts("retransmission"), endpoint=client,
             what="every retransmitted segment (incl. fast and spurious): sender TcpRetransSegs")
        # the kernel counts every recovery retransmission; the rules give a
        # spurious one the spurious label (precedence), so compare the kernel
        # with all retransmissions sent inside a loss episode
        fast_all = sum(1 for f in r.frames if f.skey == client and "retransmission" in f.tags
                       and getattr(f, "fast_ok", False))
        spur_fast = fast_all - rule["fast_retransmission"]
        if fast_all == fast_k:
            r.put("fast_retransmission", rule["fast_retransmission"], client,
                  "sender TcpExtTCPFastRetrans %d = rules: %d retransmissions inside a "
                  "loss episode, of which %d are labelled spurious_retransmission (precedence)"
                  % (fast_k, fast_all, spur_fast))
        else:
            r.soft(False, "fast_retransmission: kernel %d, rules %d (+%d spurious)"
                   % (fast_k, rule["fast_retransmission"], spur_fast))
            lo = min(rule["fast_retransmission"], fast_k - spur_fast)
            hi = max(rule["fast_retransmission"], fast_k - spur_fast)
            r.put("fast_retransmission", (lo, hi), client,
                  "sender TcpExtTCPFastRetrans %d (minus %d labelled spurious), rules %d"
                  % (fast_k, spur_fast, rule["fast_retransmission"]))
        if ts("fast_retransmission") != rule["fast_retransmission"]:
            r.notes.append("tshark calls %d of them fast retransmissions (Wireshark: within "
                           "20 ms of a duplicate ACK only)." % ts("fast_retransmission"))
        pick(r, "spurious_retransmission", oracle=rule["spurious_retransmission"],
             tshark=ts("spurious_retransmission"), decide="rules", endpoint=client,
             what="retransmitted data already ACKed or SACKed (rules; tshark)")
        slow = [f for f in r.frames if f.skey == client and "retransmission" in f.tags
                and "fast_retransmission" not in f.tags and "spurious_retransmission" not in f.tags]
        if slow and rule["fast_retransmission"] != fast_k:
            r.notes.append(
                "Retransmissions that the rules do not call fast (not inside a loss-signalling "
                "episode less than 200 ms old), while the kernel counted every one of its "
                "recovery retransmissions in TcpExtTCPFastRetrans: %s. Linux found these lost by "
                "RACK (time-based: a segment sent after them was acknowledged) or on a partial "
                "ACK, with no SACK block above them and no duplicate ACKs: typically the last "
                "segment of a burst, or a lost retransmission." % ", ".join(
                    "frame %d (seq %d, %d bytes, %.3f ms after the previous ACK)" % (
                        f.n, f.seq, f.len, 1000 * (f.t - max(
                            (g.t for g in r.frames if g.skey == server and g.t <= f.t),
                            default=f.t))) for f in slow))
        r.put("out_of_order", rule["out_of_order"], None, "the sender side sees every segment")
        r.put("lost_segment", rule["lost_segment"], None, "the sender side sees every segment")
        r.hard(rule["lost_segment"] == 0 and rule["out_of_order"] == 0,
               "gaps on the sender side of the loss")
    else:
        seen = int(recv_rtx) if recv_rtx is not None else None
        rtt = c.rtt or OOO_DEFAULT
        fills = [f for f in r.frames if "gap_fill" in f.tags and f.skey == client]
        dups = [f for f in r.frames if f.skey == client and "gap_fill" not in f.tags and (
            f.tags & {"retransmission", "fast_retransmission", "spurious_retransmission"})]
        ooo = rule["out_of_order"]
        retr = rule["retransmission"]
        visible = len(fills) + len(dups)
        r.hard(retr + ooo == visible, "rules: %d + %d != %d" % (retr, ooo, visible))
        if seen is not None:
            r.hard(visible <= seen, "receiver side: %d retransmissions visible, only %d arrived"
                   % (visible, seen))
        # out_of_order vs retransmission of a gap fill hangs on "within the
        # flow's RTT": the handshake RTT here is tens of microseconds and so is
        # a fast retransmission's delay, so the split is stated for an RTT
        # estimate anywhere in [RTT/2, 2 RTT]
        def split(thr):
            o = sum(1 for f in fills if f.gapfill_dt is not None and f.gapfill_dt < thr)
            fa = sum(1 for f in fills if not (f.gapfill_dt is not None and f.gapfill_dt < thr)
                     and f.fast_ok) + sum(1 for f in dups if "fast_retransmission" in f.tags)
            return o, visible - o, fa
        o_lo, rt_hi, fa_hi = split(rtt / 2)
        o_hi, rt_lo, fa_lo = split(rtt * 2)
        o_lo, o_hi = min(o_lo, ooo), max(o_hi, ooo)
        rt_lo, rt_hi = min(rt_lo, retr), max(rt_hi, retr)
        fr = rule["fast_retransmission"]
        fa_lo, fa_hi = min(fa_lo, fr), max(fa_hi, fr)
        r.put("retransmission", (rt_lo, rt_hi), client,
              "retransmitted segments visible at the receiver: %d (retransmission + out_of_order "
              "= %d exactly; rules with the handshake RTT %.0f us: %d retransmission, %d "
              "out_of_order; bounds for an RTT estimate in [RTT/2, 2 RTT])" % (
                  visible, visible, rtt * 1e6, retr, ooo))
        r.put("out_of_order", (o_lo, o_hi), client,
              "gap fills that arrive within the RTT of the segment that left the gap")
        r.put("fast_retransmission", (fa_lo, fa_hi), client,
              "retransmissions (not out_of_order) of a hole the receiver had SACKed, < 200 ms "
              "after; the sender's TcpExtTCPFastRetrans is %d" % fast_k)
        pick(r, "lost_segment", oracle=rule["lost_segment"], tshark=ts("lost_segment"),
             decide="rules", endpoint=client,
             what="segments starting beyond the next expected sequence (the loss is before "
                  "this capture point)")
        r.put("spurious_retransmission", rule["spurious_retransmission"], client, "rules")
        invisible = (seen - visible) if seen is not None else 0
        r.derivation["retransmissions_visible_at_receiver"] = visible
        r.derivation["retransmissions_that_look_new_at_receiver"] = invisible
        r.derivation["handshake_rtt_us"] = round(rtt * 1e6, 1)
        r.derivation["gap_fill_delays_us"] = sorted(
            round(f.gapfill_dt * 1e6) for f in fills if f.gapfill_dt is not None)
        if invisible:
            r.notes.append(
                "%d retransmitted frame(s) reached the receiver but look like new data there: "
                "the original and everything sent after it were lost, so no gap is visible "
                "after the loss point." % invisible)
    pick(r, "dup_ack", oracle=dup, tshark=tshark_count(r.frames, "duplicate_ack",
                                                       lambda f: f.skey == server),
         decide="rules", endpoint=server,
         what="receiver's pure ACKs repeating ack number and window with data outstanding "
              "(rules; tshark duplicate_ack)")
    r.put("ack_unseen", o.total("ack_unseen"), None, "rules")
    r.put("zero_window", o.total("zero_window"), None, "rules")
    r.put("rst_abort", o.total("rst_abort"), None, "rules")
    r.derivation["kernel_sender"] = {n: k(n) for n in (
        "TcpRetransSegs", "TcpExtTCPFastRetrans", "TcpExtTCPSlowStartRetrans", "TcpExtTCPSackRecovery",
        "TcpExtTCPLostRetransmit", "TcpExtTCPTimeouts", "TcpExtTCPLossProbes",
        "TcpExtTCPLossProbeRecovery", "TcpExtTCPSpuriousRTOs", "TcpExtTCPDSACKRecv",
        "TcpExtTCPSACKReorder", "TcpExtTCPRenoRecovery", "TcpExtTCPLossUndo", "TcpExtTCPFullUndo",
        "TcpExtTCPPartialUndo", "TcpExtTCPDSACKUndo", "TcpExtTCPSackRecoveryFail")}
    r.derivation["kernel_receiver"] = {n: r.ns("server", n) for n in (
        "TcpExtTCPOFOQueue", "TcpExtTCPSACKReneging", "TcpExtTCPDSACKOldSent",
        "TcpExtTCPDSACKOfoSent", "TcpExtTCPOFOMerge", "TcpExtTCPSackShifted")}
    r.notes.append(
        "%s bytes client -> server through a Linux bridge whose nftables (family bridge) drops "
        "~%s%% of the client's data frames at random (%d frames dropped by the rule this run, "
        "originals and retransmissions alike). Captured on the %s side (%s). Sender kernel: "
        "TcpRetransSegs %d = TcpExtTCPFastRetrans %d + TcpExtTCPSlowStartRetrans %d + "
        "RTO/probe retransmissions (TcpExtTCPTimeouts %d, TcpExtTCPLossProbes %d); "
        "TcpExtTCPSackRecovery %d recovery episodes, TcpExtTCPLostRetransmit %d. "
        "retransmission counts every retransmitted segment, fast ones included (ANOMALIES.md). "
        "The drops vary from run to run; these numbers belong to this capture only." % (
            r.params.get("size", "?"), r.params.get("loss_pct", "?"), drops, side,
            "before the loss: every segment the sender sent" if side == "sender"
            else "after the loss: what the receiver got", rtx_k, fast_k,
            k("TcpExtTCPSlowStartRetrans"), k("TcpExtTCPTimeouts"), k("TcpExtTCPLossProbes"),
            k("TcpExtTCPSackRecovery"), k("TcpExtTCPLostRetransmit")))


def derive_fast_open(r):
    o = r.oracle
    count = int(r.params.get("count", 10))
    r.hard(len(o.order) == count, "expected %d connections, got %d" % (count, len(o.order)))
    syn_data = [f for f in r.frames if f.flags & SYN and not f.flags & ACK and f.len > 0]
    active = r.ns("client", "TcpExtTCPFastOpenActive")
    passive = r.ns("server", "TcpExtTCPFastOpenPassive")
    r.hard(len(syn_data) == count - 1 == active == passive,
           "SYNs with data %d, client TCPFastOpenActive %d, server TCPFastOpenPassive %d; "
           "expected %d each (the first connection only gets the cookie)" % (
               len(syn_data), active, passive, count - 1))
    for k in ("retransmission", "lost_segment", "ack_unseen", "dup_ack", "out_of_order"):
        r.put(k, o.total(k), None, "rules: none expected")
        r.hard(o.total(k) == 0, "%s in the capture: %d" % (k, o.total(k)))
    for k in ("lost_segment", "ack_lost_segment", "retransmission"):
        r.soft(tshark_count(r.frames, k) == 0, "tshark flags %d frames %s" % (
            tshark_count(r.frames, k), k))
    r.notes.append(
        "%d connections opened with sendto(MSG_FASTOPEN) of a %s-byte line; the first got the "
        "cookie, the %d others carried their line in the SYN (client TcpExtTCPFastOpenActive "
        "%d, server TcpExtTCPFastOpenPassive %d) and the SYN-ACK acknowledged it." % (
            count, r.params.get("size", "100"), len(syn_data), active, passive))


DERIVE = {
    "fast_open": derive_fast_open,
    "backlog_overflow": derive_backlog_overflow,
    "zero_window": derive_zero_window,
    "nagle_delayed_ack": derive_nagle_delayed_ack,
    "nagle_nodelay": derive_nagle_nodelay,
    "keepalive": derive_keepalive,
    "keepalive_dead_peer": derive_keepalive_dead_peer,
    "linger_abort": derive_linger_abort,
    "ipv6_leak": derive_ipv6_leak,
    "vlan_leak": derive_vlan_leak,
    "loss_recovery": derive_loss_recovery,
}


def match_loss(sender_frames, receiver_frames, client_key):
    """Frames of the sender capture that never reached the receiver capture,
    and retransmissions (sender-side rules) that did. Match by IPv4 ID (Linux
    numbers every IPv4 packet of a connected TCP socket: each transmission,
    retransmissions included, has its own ID), raw seq and length."""
    got = set((f.ipid, f.seq_raw, f.len) for f in receiver_frames if f.skey == client_key)
    lost, rtx_through = 0, 0
    for f in sender_frames:
        if f.skey != client_key:
            continue
        k = (f.ipid, f.seq_raw, f.len)
        if k not in got:
            lost += 1
        elif "retransmission" in f.tags or "fast_retransmission" in f.tags \
                or "spurious_retransmission" in f.tags:
            rtx_through += 1
    return lost, rtx_through


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", choices=sorted(DERIVE))
    ap.add_argument("--server-ports", required=True, type=ss2json.parse_ports)
    ap.add_argument("--pcap", action="append", required=True, help="LABEL=FILE")
    ap.add_argument("--nstat", action="append", default=[], help="ROLE=AFTER[,BEFORE]")
    ap.add_argument("--param", action="append", default=[], help="KEY=VALUE (scenario facts)")
    ap.add_argument("--out-dir", required=True)
    args = ap.parse_args()

    ports = set(args.server_ports)
    nstat = ss2json.load_nstat_args(args.nstat)
    params = dict(p.split("=", 1) for p in args.param)
    pcaps = [p.split("=", 1) for p in args.pcap]
    os.makedirs(args.out_dir, exist_ok=True)
    parsed = {}
    for label, path in pcaps:
        frames = read_frames(path)
        if not frames:
            print("kexpect: %s: empty capture" % path, file=sys.stderr)
            return 1
        parsed[label] = (frames, RuleOracle(frames, ports))
    if args.scenario == "loss_recovery":
        sf, so = parsed["sender"]
        rf, _ = parsed["receiver"]
        ck = ep_key(so.order[0].client[0], 0, set())
        lost, through = match_loss(sf, rf, ck)
        params["frames_lost_between_captures"] = str(lost)
        params["retrans_seen_by_receiver"] = str(through)
    rc = 0
    for label, _ in pcaps:
        frames, oracle = parsed[label]
        p = dict(params)
        if args.scenario == "loss_recovery":
            p["side"] = label
        r = Result(args.scenario, ports, frames, oracle, nstat, p)
        DERIVE[args.scenario](r)
        if args.scenario == "loss_recovery":
            lost = int(params["frames_lost_between_captures"])
            r.hard(lost == int(params.get("nft_drops", lost)),
                   "frames missing from the receiver capture %d != nftables drop counter %s"
                   % (lost, params.get("nft_drops")))
            r.derivation["frames_lost_between_captures"] = lost
            r.derivation["retransmissions_that_reached_the_receiver"] = int(params["retrans_seen_by_receiver"])
        out = r.to_json()
        out["tshark"] = tshark_summary(frames, ports)
        for e in r.errors:
            print("kexpect: %s/%s: CHECK FAILED: %s" % (args.scenario, label, e), file=sys.stderr)
            rc = 1
        with open(os.path.join(args.out_dir, label + ".json"), "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
        print("kexpect: %s/%s: %s" % (args.scenario, label, json.dumps(out["anomalies"]["total"])),
              file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
