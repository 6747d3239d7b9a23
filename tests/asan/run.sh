#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run.sh SCRIPT [ARGS...]: run one integration test in a sanitized build
# (meson -Db_sanitize=address,undefined) and fail it when any process it
# started (tcpa, tcpactl, tcpa-gen) reported an error to the sanitizers.
#
# A test's own checks see only exit statuses and outputs, and some expect
# tcpa to fail (bad options, unreadable files) or stop it with a signal: a
# report there, after the expected message, would pass unseen.
#  - AddressSanitizer and LeakSanitizer write their reports to files of this
#    run (log_path, one per pid); any such file fails the test and is shown.
#  - UBSan (GCC's libubsan.so beside libasan.so) writes to stderr whatever
#    log_path says; its reports are fatal (UBSAN_OPTIONS halt_on_error=1,
#    abort_on_error=1) and found in the test's stderr here, and in the files
#    of its scratch directory by tests/integration/lib.sh.
# The options themselves (halt_on_error, detect_leaks) come from the
# environment, as the Makefile's `make test` sets them.
set -uo pipefail

dir=$(mktemp -d /tmp/tcpa-san.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/log"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$dir/log/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$dir/log/ubsan"

# stdout as it is; stderr also copied to a file (pipefail: the test's status)
{ "$@" 2>&1 1>&3 3>&- | tee "$dir/stderr" >&2; } 3>&1
rc=$?
shopt -s nullglob
reports=("$dir"/log/*)
for f in "${reports[@]}"; do
    echo "==== sanitizer report ${f##*/} ===="
    cat "$f"
done
if grep -q "runtime error:" "$dir/stderr"; then
    echo "==== UBSan report(s) in the test's stderr ===="
    grep -A3 "runtime error:" "$dir/stderr"
    reports+=("$dir/stderr")
fi
if ((${#reports[@]} > 0)); then
    echo "$(basename "$1" .sh): sanitizer report(s) above: failed"
    ((rc != 0)) || rc=1
fi
exit "$rc"
