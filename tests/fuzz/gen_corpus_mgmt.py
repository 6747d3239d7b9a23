#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of fuzz_mgmt into corpus/mgmt/ (run from anywhere).

Each seed is fuzz_mgmt's input: request lines, one per line. A line
starting with '/' is a telemetry request ("/tcpa/NAME,PARAMS"); any other
is a line of the management socket (a JSON object). The addresses and
ports are those of the captures fuzz_mgmt analyzes at start, so that the
filters find connections.

The files named found_* are inputs libFuzzer found that reach what the
seeds do not (docs/RELIABILITY.md, "Corpus"); this script keeps them.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'corpus', 'mgmt')


def req(cmd, **args):
    return json.dumps(dict(cmd=cmd, **args), separators=(',', ':'))


SEEDS = {
    'help_version_stats': [req('help'), req('version'), req('stats')],
    'report': [req('report'), req('report', flows=True), req('anomalies')],
    'endpoints': [req('endpoints'), req('endpoints', state='CLOSE_WAIT'),
                  req('endpoints', anomaly='close_wait_stuck', top=1),
                  req('endpoints', state='NOPE'), req('endpoints', top=-1),
                  req('endpoints', anomaly=7)],
    'flows': [req('flows', top=5), req('flows', ip='10.99.0.2', port=8080),
              req('flows', src='fd99::1', dst='fd99::2', dport=8080),
              req('flows', sport=40000, state='FIN_WAIT_2', anomaly='close_wait_stuck'),
              req('flows', anomaly='syn_unanswered', top=0), req('flows', ip='300.1.1.1'),
              req('flows', port=70000), req('flows', state='closed')],
    'config_get_set': [req('config'),
                       req('config', set={'close_wait_s': 1, 'time_wait_s': 2}),
                       req('config', set={'rules': 0, 'nagle-delay-ms': 5}),
                       req('config', set={'flows_per_core': 2048}),
                       req('config', set={'syn_timeout_s': 600}),
                       req('config', set=[1, 2]), req('config', set={'_note': 'x'})],
    'config_then_report': [req('config', set={'close_wait_s': 86400,
                                              'timeout_established_s': 86400}),
                           req('endpoints', top=2), req('flows', top=2)],
    'bad_requests': ['{"cmd": "nope"}', '{"cmd": 5}', '[]', '"help"', '{"cmd"',
                     '{"cmd":"help"} trailing', '\t  \r', '{"cmd":"h\\u00e9lp"}',
                     '{"cmd":"help","cmd":"stats"}', '\udcff\udcfe'],
    'crlf': [req('version') + '\r', '', req('help') + '\r'],
    'telemetry': ['/tcpa/help', '/tcpa/version,', '/tcpa/stats',
                  '/tcpa/endpoints,state=CLOSE_WAIT top=2',
                  '/tcpa/flows,ip=10.99.0.1&top=3', '/tcpa/report,flows=true',
                  '/tcpa/anomalies', '/tcpa/config'],
    'telemetry_json_params': ['/tcpa/flows,{"top": 2, "dport": 8080}',
                              '/tcpa/endpoints,{"anomaly": "keepalive"}',
                              '/tcpa/config,{"set": {"rules": 0}}',
                              '/tcpa/config,set=1', '/tcpa/flows,{bad',
                              '/tcpa/flows,top', '/tcpa/flows,=1', '/tcpa/nope,x=1',
                              '/ethdev/list', '/tcpa/flows,top=99999999999999999999'],
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if not old.startswith(('found_', 'regress_')):
            os.unlink(os.path.join(OUT, old))
    for name, lines in sorted(SEEDS.items()):
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write('\n'.join(lines).encode('utf-8', 'surrogateescape') + b'\n')


if __name__ == '__main__':
    main()
