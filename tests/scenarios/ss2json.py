#!/usr/bin/env python3
"""Convert `ss -tanH` snapshots into a tcpa scenario expectation (JSON).

    ss2json.py --scenario NAME --server-ports 8080[,3306...] [-o OUT]
               [--nstat ROLE=AFTER[,BEFORE] ...] [--merge JSON ...] SSFILE...

SSFILE holds `ss -tanH` output (lines starting with '#' are labels and are
ignored; several files are concatenated). Rules:
  * LISTEN sockets are skipped;
  * a socket whose local port is one of the server ports is a server socket,
    counted under "ip:port" ("[addr]:port" for IPv6);
  * every other socket is a client socket, counted under its local IP;
  * ss state names become RFC 9293 names as tcpa reports them
    (ESTAB -> ESTABLISHED, CLOSE-WAIT -> CLOSE_WAIT, SYN-RECV -> SYN_RECEIVED,
    UNCONN -> CLOSED, ...);
  * only non-zero counts are written.

IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, from dual-stack listeners) are
written as the IPv4 address, which is what the wire shows. A zone suffix
(%eth0) is dropped.

Output:
  {"scenario": NAME, "server_ports": [..],
   "endpoints": {"10.99.0.2:8080": {"role": "server", "states": {"CLOSE_WAIT": 30}},
                 "10.99.0.1": {"role": "client", "states": {"FIN_WAIT_2": 30}}}}

Optional, for the kernel-counter scenarios (nothing changes without them):
  --nstat ROLE=AFTER[,BEFORE]  `nstat -az` output of one namespace at capture end
        (and before the traffic); adds "nstat": {ROLE: {COUNTER: after - before}}
        with every counter that changed, plus the counters of NSTAT_WATCH that
        this kernel has, also when 0 (so a 0 is explicit).
  --merge JSON  top-level keys of that JSON object are added after
        "endpoints" (e.g. "anomalies", "notes", "tshark" from kexpect.py); a key
        that ss2json writes itself cannot be overridden.
"""

import argparse
import ipaddress
import json
import sys

STATE_MAP = {
    "ESTAB": "ESTABLISHED",
    "SYN-SENT": "SYN_SENT",
    "SYN-RECV": "SYN_RECEIVED",
    "FIN-WAIT-1": "FIN_WAIT_1",
    "FIN-WAIT-2": "FIN_WAIT_2",
    "TIME-WAIT": "TIME_WAIT",
    "CLOSE-WAIT": "CLOSE_WAIT",
    "LAST-ACK": "LAST_ACK",
    "CLOSING": "CLOSING",
    "CLOSED": "CLOSED",
    "UNCONN": "CLOSED",  # ss prints TCP_CLOSE as UNCONN
}
SKIP_STATES = {"LISTEN"}

# kernel counters always written under "nstat" (when this kernel has them)
NSTAT_WATCH = (
    "TcpActiveOpens", "TcpPassiveOpens", "TcpAttemptFails", "TcpEstabResets", "TcpOutRsts",
    "TcpRetransSegs", "TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtTCPReqQFullDrop",
    "TcpExtTCPSynRetrans", "TcpExtTCPFastRetrans", "TcpExtTCPSlowStartRetrans",
    "TcpExtTCPSackRecovery", "TcpExtTCPLostRetransmit", "TcpExtTCPTimeouts",
    "TcpExtTCPLossProbes", "TcpExtTCPSpuriousRTOs", "TcpExtTCPDSACKRecv", "TcpExtTCPKeepAlive",
    "TcpExtTCPAbortOnClose", "TcpExtTCPAbortOnData", "TcpExtTCPAbortOnTimeout",
    "TcpExtTCPWantZeroWindowAdv", "TcpExtTCPToZeroWindowAdv", "TcpExtTCPFromZeroWindowAdv",
    "TcpExtTCPZeroWindowDrop", "TcpExtTCPWinProbe", "TcpExtDelayedACKs", "TcpExtTCPOFOQueue",
)


def split_addr(text):
    """'10.0.0.1:80' / '[fd99::1]:80' / '*:80' -> (ip or None, port)."""
    host, sep, port = text.rpartition(":")
    if not sep:
        raise ValueError("no port in address %r" % text)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.split("%", 1)[0]
    if host in ("*", ""):
        return None, int(port) if port != "*" else 0
    ip = ipaddress.ip_address(host)
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip, int(port) if port != "*" else 0


def fmt_ip(ip):
    return str(ip)


def fmt_ep(ip, port):
    if ip.version == 6:
        return "[%s]:%d" % (ip, port)
    return "%s:%d" % (ip, port)


def convert(lines, scenario, server_ports):
    endpoints = {}
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) < 5:
            raise ValueError("line %d: not an `ss -tanH` line: %r" % (lineno, raw))
        ss_state, local, _peer = fields[0], fields[3], fields[4]
        if ss_state in SKIP_STATES:
            continue
        if ss_state not in STATE_MAP:
            raise ValueError("line %d: unknown ss state %r" % (lineno, ss_state))
        state = STATE_MAP[ss_state]
        ip, port = split_addr(local)
        if ip is None:
            raise ValueError("line %d: socket without local address: %r" % (lineno, raw))
        if port in server_ports:
            key, role = fmt_ep(ip, port), "server"
        else:
            key, role = fmt_ip(ip), "client"
        ep = endpoints.setdefault(key, {"role": role, "states": {}})
        if ep["role"] != role:
            raise ValueError("endpoint %s seen as both client and server" % key)
        ep["states"][state] = ep["states"].get(state, 0) + 1

    def order(item):
        key, ep = item
        ip, _, port = key.rpartition(":") if ep["role"] == "server" else (key, "", "")
        ip = ip.strip("[]")
        return (0 if ep["role"] == "server" else 1,
                ipaddress.ip_address(ip).version,
                ipaddress.ip_address(ip).packed,
                int(port or 0))

    out_eps = {}
    for key, ep in sorted(endpoints.items(), key=order):
        states = {s: n for s, n in sorted(ep["states"].items()) if n}
        if states:
            out_eps[key] = {"role": ep["role"], "states": states}
    return {"scenario": scenario, "server_ports": sorted(server_ports), "endpoints": out_eps}


def parse_nstat(path):
    """`nstat -a[z]` output -> {counter: int} (header lines '#' skipped)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if len(fields) < 2 or line.startswith("#"):
                continue
            try:
                out[fields[0]] = int(fields[1])
            except ValueError:
                raise ValueError("%s: not nstat output: %r" % (path, line))
    return out


def load_nstat_args(specs):
    """["ROLE=AFTER[,BEFORE]", ...] -> {ROLE: {counter: delta}} (all counters)."""
    result = {}
    for spec in specs:
        role, sep, files = spec.partition("=")
        if not sep or not role:
            raise ValueError("--nstat wants ROLE=AFTER[,BEFORE], got %r" % spec)
        after_f, _, before_f = files.partition(",")
        after = parse_nstat(after_f)
        before = parse_nstat(before_f) if before_f else {}
        result[role] = {k: v - before.get(k, 0) for k, v in after.items()}
    return result


def nstat_section(deltas):
    out = {}
    for role, counters in deltas.items():
        keep = {k: v for k, v in counters.items() if v or k in NSTAT_WATCH}
        out[role] = dict(sorted(keep.items()))
    return out


def parse_ports(text):
    ports = []
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        port = int(part)
        if not 0 < port < 65536:
            raise argparse.ArgumentTypeError("bad port %r" % part)
        ports.append(port)
    if not ports:
        raise argparse.ArgumentTypeError("no server port")
    return ports


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--server-ports", required=True, type=parse_ports,
                    help="comma-separated server ports, e.g. 8080,9999")
    ap.add_argument("-o", "--output", help="output file (default stdout)")
    ap.add_argument("--nstat", action="append", default=[], metavar="ROLE=AFTER[,BEFORE]",
                    help="nstat -az of a namespace at the end (and before): adds \"nstat\"")
    ap.add_argument("--merge", action="append", default=[], metavar="JSON",
                    help="add this JSON object's keys (anomalies, notes, ...)")
    ap.add_argument("ssfiles", nargs="+", help="ss -tanH output ('-' = stdin)")
    args = ap.parse_args(argv)

    lines = []
    for name in args.ssfiles:
        if name == "-":
            lines.extend(sys.stdin.read().splitlines())
        else:
            with open(name, encoding="utf-8") as f:
                lines.extend(f.read().splitlines())
    try:
        result = convert(lines, args.scenario, set(args.server_ports))
        for path in args.merge:
            with open(path, encoding="utf-8") as f:
                extra = json.load(f)
            if not isinstance(extra, dict):
                raise ValueError("%s: not a JSON object" % path)
            for k, v in extra.items():
                if k in ("scenario", "server_ports", "endpoints"):
                    raise ValueError("%s: may not override %r" % (path, k))
                result[k] = v
        if args.nstat:
            result["nstat"] = nstat_section(load_nstat_args(args.nstat))
    except (OSError, ValueError) as e:
        print("ss2json: %s" % e, file=sys.stderr)
        return 1
    text = json.dumps(result, indent=2) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
