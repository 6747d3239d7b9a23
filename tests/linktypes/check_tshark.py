#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check with tshark that every capture of captures.txt dissects down to
the same TCP segments as its reference, through the encapsulations and
with the tunnel identities the manifest says. make_captures.sh runs it;
it can be run alone on the committed captures.

usage: check_tshark.py [DIR]   (default: this script's directory)
"""

import collections
import os
import subprocess
import sys

FIELDS = ['frame.protocols', 'frame.len', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst',
          'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags',
          'tcp.window_size_value', 'tcp.len', 'vxlan.vni', 'geneve.vni', 'gre.key',
          'erspan.spanid', 'vlan.id']

# tcpa_pkt_encap name -> what tshark's frame.protocols shows for it.
ENCAP_PROTO = {'vlan': 'vlan', 'mpls': 'mpls', 'gre': 'gre', 'erspan2': 'erspan',
               'erspan3': 'erspan', 'vxlan': 'vxlan', 'geneve': 'geneve'}
TUNNEL_FIELD = {'vxlan': 'vxlan.vni', 'geneve': 'geneve.vni', 'gre': 'gre.key',
                'erspan': 'erspan.spanid'}


def manifest(d):
    with open(os.path.join(d, 'captures.txt')) as f:
        for line in f:
            words = line.split('#', 1)[0].split()
            if words:
                yield words[0], words[1], dict(w.split('=', 1) for w in words[2:])


def dissect(path):
    cmd = ['tshark', '-n', '-r', path, '-T', 'fields', '-E', 'occurrence=a',
           '-E', 'aggregator=,', '-E', 'separator=\t']
    for f in FIELDS:
        cmd += ['-e', f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [dict(zip(FIELDS, line.split('\t'))) for line in out.splitlines()]


def last(v, field):
    return v[field].split(',')[-1] if v[field] else ''


def segment(v):
    """The innermost TCP segment of a dissected frame, or None."""
    protos = v['frame.protocols'].split(':')
    if 'tcp' not in protos or '_ws.malformed' in protos:
        return None
    ips = [p for p in protos[:protos.index('tcp')] if p in ('ip', 'ipv6')]
    fam = 'ipv6' if ips[-1] == 'ipv6' else 'ip'
    return (last(v, fam + '.src'), last(v, fam + '.dst'), v['tcp.srcport'], v['tcp.dstport'],
            v['tcp.seq_raw'], v['tcp.ack_raw'], v['tcp.flags'], v['tcp.window_size_value'],
            v['tcp.len'])


def check_encap(name, v, exp):
    protos = v['frame.protocols'].split(':')
    errs = []
    for e in filter(None, exp.get('encap', '').split(',')):
        if e == 'ipip':
            if sum(p in ('ip', 'ipv6') for p in protos) < 2:
                errs.append('no IP in IP')
        elif ENCAP_PROTO[e] not in protos:
            errs.append('no %s in %s' % (ENCAP_PROTO[e], v['frame.protocols']))
    if 'tunnel' in exp:
        kind, ident = exp['tunnel'].split(':')
        got = last(v, TUNNEL_FIELD[kind])
        if not got or int(got, 0) != int(ident, 0):
            errs.append('%s %s, expected %s' % (TUNNEL_FIELD[kind], got, ident))
    if 'vlan' in exp:
        ids = [int(x) for x in v['vlan.id'].split(',') if x]
        got = (ids[-2] << 12 | ids[-1]) if len(ids) > 1 else (ids[-1] if ids else 0)
        if got != int(exp['vlan'], 0):
            errs.append('vlan %d, expected %s' % (got, exp['vlan']))
    return ['%s frame %s: %s' % (name, v['frame.len'], e) for e in errs]


def check_pair(d, name, ref, exp):
    rows = dissect(os.path.join(d, name))
    got = [s for s in map(segment, rows) if s is not None]
    want = []
    for r in ref.split('+'):
        want += [s for s in map(segment, dissect(os.path.join(d, r))) if s is not None]
    if 'family' in exp:
        want = [s for s in want if (':' in s[0]) == (exp['family'] == '6')]
    errs = []
    for v in rows:
        if segment(v) is not None:
            errs += check_encap(name, v, exp)
    if collections.Counter(got) != collections.Counter(want) or not got:
        errs.append('%s: %d segments, %d in %s; they differ' % (name, len(got), len(want), ref))
    return errs[:5], len(got)


def check_continuous(d, name):
    """No segment the sender sent is missing and every one is acknowledged."""
    path = os.path.join(d, name)
    bad = subprocess.run(['tshark', '-n', '-r', path, '-Y',
                          'tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment'],
                         capture_output=True, text=True, check=True).stdout.strip()
    rows = dissect(path)
    big = sum(int(v['frame.len']) > 65535 for v in rows)
    errs = ['%s: tshark sees lost segments:\n%s' % (name, bad)] if bad else []
    return errs, '%d frames, %d over 64 KB' % (len(rows), big)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    errs = []
    for name, ref, exp in manifest(d):
        if exp.get('check') == 'continuous':
            e, what = check_continuous(d, name)
        else:
            e, n = check_pair(d, name, ref, exp)
            what = '%d segments as in %s' % (n, ref)
        errs += e
        print('%-18s %s %s' % (name, 'FAIL' if e else 'ok  ', what))
    for e in errs:
        print(e, file=sys.stderr)
    return 1 if errs else 0


if __name__ == '__main__':
    sys.exit(main())
