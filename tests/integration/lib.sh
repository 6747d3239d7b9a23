# SPDX-License-Identifier: BSD-3-Clause
# Shared by the integration tests: paths from meson's environment, a
# scratch directory removed on exit, and pass/fail bookkeeping.
set -euo pipefail

TCPA=${TCPA:?set by meson: path of the tcpa binary}
TCPA_GEN=${TCPA_GEN:?set by meson: path of tcpa-gen}
TCPA_SRC=${TCPA_SRC:?set by meson: source root}
CHECK="python3 $TCPA_SRC/tests/integration/check_report.py"

TMP=$(mktemp -d /tmp/tcpa-it.XXXXXX)
cleanup_hooks=()
cleanup() {
    local rc=$? f
    for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
    # Sanitized runs (tests/asan/run.sh): UBSan reports only to stderr, and
    # the tests keep tcpa's stderr in files here; a report fails the test.
    if [[ -n ${UBSAN_OPTIONS:-} ]]; then
        while IFS= read -r f; do
            echo "UBSan report in ${f#"$TMP"/}:"
            grep -h -A3 "runtime error:" "$f"
            rc=1
        done < <(grep -rls "runtime error:" "$TMP")
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT

npass=0
nfail=0
ok() { npass=$((npass + 1)); echo "ok - $*"; }
not_ok() { nfail=$((nfail + 1)); echo "FAIL - $*"; }

# run NAME CMD...: a check passes when CMD exits 0
run() {
    local name=$1
    shift
    if "$@" >"$TMP/last.log" 2>&1; then
        ok "$name"
    else
        not_ok "$name"
        sed 's/^/    /' "$TMP/last.log"
    fi
}

finish() {
    echo "$(basename "$0" .sh): $npass passed, $nfail failed"
    [ "$nfail" -eq 0 ]
}

# tcpa with small tables, so that tests run side by side in little memory
tcpa_pcap() {
    "$TCPA" "$@" --flows_per_core 262144 --endpoints_per_core 4096
}
