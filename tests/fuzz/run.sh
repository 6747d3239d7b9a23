#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Run the fuzz targets with libFuzzer (docs/RELIABILITY.md, "Fuzzing").
#
#   tests/fuzz/run.sh [-t SECONDS] [-o DIR] [TARGET...]
#
# Configures $BUILD_FUZZ (default build-fuzz) with clang, libFuzzer,
# AddressSanitizer and UBSan (the libraries instrumented for coverage too,
# TCPA_ASSERT on) unless it is configured already, builds the targets and
# runs each for SECONDS (default 20), one after the other, on one core,
# with its dictionary tests/fuzz/fuzz_TARGET.dict if it has one. New
# inputs go to a scratch directory: the committed corpus is read, never
# written; with -o DIR they and each target's log stay in DIR, else in a
# scratch directory removed when every target ran clean. TARGET defaults to
# every target the build has (mgmt needs DPDK).
#
# Without a clang that links -fsanitize=fuzzer it says so and exits 0, so
# that `make test` runs it wherever it can. Exit status 1 if a target
# crashed, leaked or broke an invariant: its log and the input that did it
# are kept in the directory it names.
set -u
cd "$(dirname "$0")/../.."
secs=20
out=
while getopts t:o: opt; do
    case $opt in
    t) secs=$OPTARG ;;
    o) out=$OPTARG ;;
    *) echo "usage: $0 [-t SECONDS] [-o DIR] [TARGET...]" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
build=${BUILD_FUZZ:-build-fuzz}

if ! echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return d[0] + n; }' |
        clang -x c -fsanitize=fuzzer -o /dev/null - 2>/dev/null; then
    echo "fuzz: SKIP: no clang with -fsanitize=fuzzer (apt-get install clang libclang-rt-14-dev)"
    exit 0
fi
if [ ! -f "$build/build.ninja" ]; then
    CC=clang meson setup "$build" --buildtype=debugoptimized -Dfuzzing_engine=libfuzzer \
        -Db_sanitize=address,undefined -Db_lundef=false -Ddebug_asserts=true \
        '-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined' >/dev/null ||
        exit 1
fi
if [ $# -eq 0 ]; then
    for t in conf engine mgmt pkt; do
        ninja -C "$build" -t query "tests/fuzz/fuzz_$t" >/dev/null 2>&1 && set -- "$@" "$t"
    done
fi
ninja -C "$build" $(printf 'tests/fuzz/fuzz_%s ' "$@") >/dev/null || exit 1

if [ -n "$out" ]; then
    work=$out
    mkdir -p "$work" || exit 1
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/tcpa-fuzz.XXXXXX")
fi
fail=0
for t in "$@"; do
    mkdir -p "$work/$t"
    dict=
    [ -f "tests/fuzz/fuzz_$t.dict" ] && dict=-dict=tests/fuzz/fuzz_$t.dict
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 $dict \
        -artifact_prefix="$work/$t-" "$work/$t" "tests/fuzz/corpus/$t" >"$work/$t.log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t.log")
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/$t.log" | tail -1)
    if [ $rc -eq 0 ]; then
        echo "fuzz_$t: OK: ${secs} s, ${execs:-?} execs, ${rate:-?}/s, ${cov:-no coverage line}"
    else
        echo "fuzz_$t: FAIL (exit $rc): log $work/$t.log, input $(ls "$work/$t-"* 2>/dev/null)"
        grep -m1 -A12 '^==[0-9]*==ERROR\|^SUMMARY\|deadly signal' "$work/$t.log"
        fail=1
    fi
done
[ $fail -eq 0 ] && [ -z "$out" ] && rm -rf "$work"
exit $fail
