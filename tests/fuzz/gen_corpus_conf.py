#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of fuzz_conf into corpus/conf/ (run from anywhere).

Each seed is fuzz_conf's input: a flags byte (bit 0: the JSON object is
applied live_only; bit 1: the keys are set again live_only), then NUL
separated sections: the file's text, the JSON object's text, and one
"--key=value" per section. The first seed is config/tcpa.json as shipped.

The files named found_* are inputs libFuzzer found that reach what the
seeds do not (docs/RELIABILITY.md, "Corpus"); this script keeps them.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, 'corpus', 'conf')

LIVE_SET, LIVE_KEYS = 1, 2


def seed(flags, file_text='', obj='', keys=()):
    parts = [file_text.encode() if isinstance(file_text, str) else file_text,
             obj.encode() if isinstance(obj, str) else obj]
    parts += [k.encode() if isinstance(k, str) else k for k in keys]
    return bytes([flags]) + b'\0'.join(parts)


def shipped():
    with open(os.path.join(ROOT, 'config', 'tcpa.json')) as f:
        return f.read()


SEEDS = {
    'shipped_file': lambda: seed(0, shipped()),
    'shipped_as_set_live': lambda: seed(LIVE_SET, '', shipped()),
    'file_and_keys': lambda: seed(0, json.dumps({
        'flows_per_core': 4096, 'endpoints-per-core': 1024, 'mgmt': '/tmp/t.sock',
        '_note': 'ignored'}), '', ['--time-wait-s=30', '--ring-size=0x400',
                                   '--event_log=/tmp/ev.ndjson', 'lcores=0-2']),
    'set_live': lambda: seed(LIVE_SET, '', json.dumps({
        'close_wait_s': 10, 'idle-close-s': 3, 'rules': 0, 'report_endpoints': 0,
        'event_rate': 1000000}), ['--nagle-delay-ms=50']),
    'set_live_refused': lambda: seed(LIVE_SET | LIVE_KEYS, '', json.dumps({
        'flows_per_core': 2048}), ['--mgmt=/x', '--min-rto-ms=1']),
    'set_cross_key': lambda: seed(LIVE_SET, '', json.dumps({
        'syn_timeout_s': 60, 'timeout_syn_s': 10})),
    'hash_seed_string': lambda: seed(0, json.dumps({
        'hash_seed': '18446744073709551615'}), json.dumps({'hash_seed': 9007199254740993}),
        ['hash_seed=0xffffffffffffffff']),
    'duplicates': lambda: seed(0, '{"time_wait_s": 1, "time_wait_s": 2}',
                               '{"time-wait-s": 1, "time_wait_s": 2}'),
    'bad_values': lambda: seed(0, '{"ring_size": 3000}', '{"rules": 2.5, "mgmt": 7}',
                               ['--rules=-1', '--flows-per-core=', '--time-wait-s=99999999999'
                                '999999999999', '--close-wait-s', '--nope=1', '=']),
    'strings': lambda: seed(0, json.dumps({'mgmt': '/run/' + 'x' * 120 + '.sock',
                                           'event_log': 'caf\u00e9 \u2603'}),
                            '{"lcores": "a\\u0000b"}', ['--lcores=' + 'y' * 300]),
    'not_objects': lambda: seed(0, '[1, 2, 3]', '"time_wait_s"', ['time_wait_s=1 ']),
    'truncated_json': lambda: seed(0, '{"time_wait_s": 1, "close', '{"a":'),
    'deep_json': lambda: seed(0, '{"_x": ' + '[' * 64 + ']' * 64 + '}', '{"_y": {"z": null}}'),
    'minimal_timeouts': lambda: seed(LIVE_SET, json.dumps({
        'time_wait_s': 1, 'timeout_closing_s': 1, 'timeout_established_s': 1,
        'close_wait_s': 1, 'idle_close_s': 1, 'syn_timeout_s': 1, 'timeout_syn_s': 1}),
        json.dumps({'timeout_established_s': 2000000, 'time_wait_s': 3600,
                    'timeout_closing_s': 86400})),
    'invalid_utf8': lambda: seed(0, b'{"mgmt": "\xff\xfe"}', b'{"event_log": "\xc3"}',
                                 [b'--event-log=\xc3\x28']),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        if not old.startswith(('found_', 'regress_')):
            os.unlink(os.path.join(OUT, old))
    for name, make in sorted(SEEDS.items()):
        with open(os.path.join(OUT, name), 'wb') as f:
            f.write(make())


if __name__ == '__main__':
    main()
