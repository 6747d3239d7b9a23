#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The man pages name everything the code knows: fails when a configuration
# key (include/tcpa_conf.h), an anomaly or malformed-input name
# (include/tcpa_anom.h, include/tcpa_pkt.h), an option printed by
# 'tcpa --help' or an option or command printed by 'tcpactl --help' is
# missing from the scdoc sources in man/.
#
#   check-man.sh [TCPA TCPACTL]
#
# TCPA and TCPACTL are the built programs (meson passes them); without them
# (a build without DPDK) only the keys and names are checked. TCPA_SRC is the
# source tree (default: the parent of this script's directory).
set -euo pipefail

src=${TCPA_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
tcpa=${1:-}
tcpactl=${2:-}
man8=$src/man/tcpa.8.scd
ctl8=$src/man/tcpactl.8.scd
conf5=$src/man/tcpa.json.5.scd
pass=0
fail=0

for f in "$man8" "$ctl8" "$conf5"; do
    [ -r "$f" ] || { echo "check-man: cannot read $f" >&2; exit 1; }
done

# check WHAT NAME FILE PATTERN: PATTERN (an extended regex) must match FILE.
check() {
    if grep -Eq -- "$4" "$3"; then
        pass=$((pass + 1))
    else
        echo "FAIL: $1 '$2' missing from ${3#"$src"/}"
        fail=$((fail + 1))
    fi
}

# Names of an X-macro list: the first argument of each X(...) between the
# '#define MACRO(X)' line and the first line not ending in a backslash.
xnames() {
    awk -v m="#define $2(X)" '
        index($0, m) == 1 { on = 1; next }
        on { if (match($0, /X\([a-z0-9_]+,/)) print substr($0, RSTART + 2, RLENGTH - 3)
             if ($0 !~ /\\$/) exit }' "$1"
}

# Regex-quote a name (only '.' and '-' occur in ours).
re() { printf '%s' "$1" | sed 's/[.]/\\./g'; }

nkeys=0
for macro in TCPA_CONF_NUM TCPA_CONF_STR; do
    for k in $(xnames "$src/include/tcpa_conf.h" "$macro"); do
        nkeys=$((nkeys + 1))
        # a definition of its own in tcpa.json(5): the key in bold at a line's start
        check "config key" "$k" "$conf5" "^\*$k\*"
        # and the option in tcpa(8)
        opt=--$(printf '%s' "$k" | tr _ -)
        check "option of config key" "$opt" "$man8" "\*$(re "$opt")\*"
    done
done
[ "$nkeys" -gt 0 ] || { echo "FAIL: no keys found in include/tcpa_conf.h (format changed?)"; fail=$((fail + 1)); }

for n in $(xnames "$src/include/tcpa_anom.h" TCPA_ANOMALIES) \
        $(xnames "$src/include/tcpa_pkt.h" TCPA_PKT_MALFORMED); do
    check "anomaly or malformed-input name" "$n" "$man8" "\*$n\*"
done

# Options in a --help text: -x and --long-name words.
opts_of() {
    grep -oE -- '(^|[][ ,|(])--?[A-Za-z][A-Za-z0-9-]*' | sed -E 's/^[][ ,|(]//' | sort -u
}

if [ -n "$tcpa" ]; then
    help=$("$tcpa" --help) || { echo "FAIL: '$tcpa --help' failed"; exit 1; }
    for o in $(printf '%s\n' "$help" | opts_of); do
        check "tcpa --help option" "$o" "$man8" "(^|[^A-Za-z0-9-])$(re "$o")([^A-Za-z0-9-]|\$)"
    done
else
    echo "check-man: no tcpa program given (build without DPDK): tcpa --help not checked"
fi

if [ -n "$tcpactl" ]; then
    help=$("$tcpactl" --help) || { echo "FAIL: '$tcpactl --help' failed"; exit 1; }
    for o in $(printf '%s\n' "$help" | opts_of); do
        check "tcpactl --help option" "$o" "$ctl8" "(^|[^A-Za-z0-9-])$(re "$o")([^A-Za-z0-9-]|\$)"
    done
    # Commands: the first word of each line of the two command lists
    # ("  stats   ...", "  version, help"), each a definition in tcpactl(8).
    cmds=$(printf '%s\n' "$help" | awk '
        /^Commands/ || /^Client commands/ { on = 1; next }
        /^[A-Z]/ { on = 0 }
        on && /^  [a-z]/ { sub(/^  /, ""); if ($0 ~ /^[a-z]+, [a-z]+$/) { gsub(/,/, ""); print; next } print $1 }' |
        tr ' ' '\n' | sort -u)
    [ -n "$cmds" ] || { echo "FAIL: no commands found in tcpactl --help (format changed?)"; fail=$((fail + 1)); }
    for c in $cmds; do
        check "tcpactl command" "$c" "$ctl8" "^\*$c\*"
    done
    # Filters and arguments: KEY= words.
    for k in $(printf '%s\n' "$help" | grep -oE '\[[a-z]+=' | tr -d '[=' | sort -u); do
        check "tcpactl argument" "$k=" "$ctl8" "\*$k="
    done
else
    echo "check-man: no tcpactl program given: tcpactl --help not checked"
fi

echo "check-man: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
