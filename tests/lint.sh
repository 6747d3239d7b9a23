#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Module boundaries (docs/DESIGN.md, STYLE.md): DPDK only in app/, jansson
# only in lib/report, lib/conf and app/, no lib module including an app
# header, an SPDX line first in every source file.
set -u
cd "${TCPA_SRC:?}"
fail=0
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }

for f in $(grep -rl --include='*.[ch]' '#include <rte_' lib include tools bench tests 2>/dev/null); do
    bad "$f includes DPDK (only app/ may)"
done
for f in $(grep -rl --include='*.[ch]' '#include <jansson.h>' lib include tools bench 2>/dev/null); do
    case $f in lib/report/* | lib/conf/*) ;; *) bad "$f includes jansson.h (only lib/report, lib/conf, app/)" ;; esac
done
for f in $(grep -rl --include='*.[ch]' 'tcpa_app.h' lib include 2>/dev/null); do
    bad "$f includes an app header"
done
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find lib include app tools bench tests -name '*.[ch]'); do
    head -1 "$f" | grep -q 'SPDX-License-Identifier' || bad "$f: no SPDX line first"
done
if [ "$fail" -eq 0 ]; then
    echo "lint: 4 passed, 0 failed"
else
    echo "lint: $((4 - (fail > 4 ? 4 : fail))) passed, $fail failed"
fi
[ "$fail" -eq 0 ]
