#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Debian package, end to end, as an operator meets it: build it with
# Debian's tools from a clean copy of the tree (dpkg-buildpackage -b), install
# it with apt-get, use it (tcpa --pcap on the sample, the installed
# configuration, man pages, the systemd unit and its exposure), then purge it
# and check that nothing of it is left.
#
#   tests/package/test_package.sh
#
# Needs root (it installs and purges the package 'tcpa' on this machine: a
# tcpa package already installed is purged first) and about 2 minutes.
# Idempotent. Missing build tools are installed by
# deploy/install-deps.sh. TCPA_SRC: the source tree (default:
# this script's tree); TCPA_PKG_KEEP=1 keeps the build directory.
# Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

src=${TCPA_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
sample=$src/tests/captures/close_wait_leak.pcap
pass=0
fail=0
work=
installed=no
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)

ok() { echo "PASS: $*"; pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
die() { echo "FAIL: $*"; echo "package: $pass passed, $((fail + 1)) failed"; exit 1; }
# check DESCRIPTION COMMAND...: one PASS or FAIL line from COMMAND's status.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else bad "$what"; fi
}

cleanup() {
    local rc=$?
    if [ "$installed" = yes ]; then
        echo "package: purging tcpa after an aborted run"
        apt-get purge "${apt_opts[@]}" tcpa >/dev/null 2>&1 || true
    fi
    if [ -n "$work" ] && [ "${TCPA_PKG_KEEP:-0}" != 1 ]; then
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT

[ "$(id -u)" -eq 0 ] || die "needs root: it installs and purges the tcpa package"
[ -r "$sample" ] || die "sample capture $sample missing"
[ -f "$src/debian/control" ] || die "$src has no debian/ directory"
"$src/deploy/install-deps.sh" || die "cannot install the build tools"

version=$(sed -nE "s/^ *version: *'([^']+)'.*/\1/p" "$src/meson.build" | head -1)
debversion=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
[ -n "$version" ] || die "no project version in $src/meson.build"
check "debian/changelog version $debversion is meson's project version $version" \
    test "${debversion%-*}" = "$version"

# A tcpa left by an earlier, killed run: start from nothing.
if dpkg-query -W -f='${Status}' tcpa 2>/dev/null | grep -qv 'not-installed'; then
    echo "package: purging the tcpa package installed before this test"
    apt-get purge "${apt_opts[@]}" tcpa >/dev/null
fi

# ---- build, from a copy: dpkg-buildpackage writes into the parent directory
work=$(mktemp -d /tmp/tcpa-pkg.XXXXXX)
tree=$work/tcpa-$version
mkdir "$tree"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked and untracked files, not ignored ones (no build directories)
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do
            case $f in obj-*/* | debian/tcpa/* | debian/.debhelper/*) continue ;; esac
            [ -e "$f" ] && printf '%s\0' "$f"
        done |
        xargs -0 cp --parents -t "$tree")
else
    tar -C "$src" --exclude='./build*' --exclude='./obj-*' --exclude=./debian/tcpa \
        --exclude=./debian/.debhelper -cf - . | tar -C "$tree" -xf -
fi
echo "package: building tcpa $debversion in $tree"
start=$(date +%s)
if (cd "$tree" && DEB_BUILD_OPTIONS="parallel=$(nproc) noautodbgsym ${DEB_BUILD_OPTIONS:-}" \
        dpkg-buildpackage -b -us -uc) >"$work/build.log" 2>&1; then
    ok "dpkg-buildpackage -b ($(($(date +%s) - start)) s)"
else
    tail -40 "$work/build.log"
    die "dpkg-buildpackage -b failed (log above)"
fi
deb=$work/tcpa_${debversion}_$arch.deb
[ -f "$deb" ] || die "no $deb after the build"
check "nothing written outside the build directory" \
    test -z "$(find "$(dirname "$src")" -maxdepth 1 -newer "$work" -name 'tcpa[_-]*' -print -quit)"

depends=$(dpkg-deb -f "$deb" Depends)
for d in libjansson4 librte-eal librte-ethdev librte-net-pcap librte-net-af-packet \
        librte-mempool-ring librte-bus-pci librte-bus-vdev; do
    check "Depends: names $d" grep -q "\(^\|[ ,]\)$d" <<<"$depends"
done

# ---- install
installed=yes
if apt-get install "${apt_opts[@]}" --no-install-recommends "$deb" >"$work/install.log" 2>&1; then
    ok "apt-get install ./$(basename "$deb")"
else
    cat "$work/install.log"
    die "apt-get install failed"
fi
check "libnuma1 installed (through librte-eal)" \
    sh -c "dpkg-query -W -f='\${Status}' libnuma1 | grep -q 'install ok installed'"
dpkg -L tcpa >"$work/files"
unit=$(grep -E '^(/usr)?/lib/systemd/system/tcpa\.service$' "$work/files" || true)
for f in /usr/sbin/tcpa /usr/bin/tcpactl /etc/tcpa/tcpa.json /etc/default/tcpa \
        /etc/logrotate.d/tcpa /usr/libexec/tcpa/hugepages.sh \
        /usr/share/tcpa/grafana-dashboard.json /usr/lib/sysusers.d/tcpa.conf \
        /usr/share/man/man8/tcpa.8.gz /usr/share/man/man8/tcpactl.8.gz \
        /usr/share/man/man5/tcpa.json.5.gz; do
    check "package holds $f" grep -qx "$f" "$work/files"
done
check "package holds the systemd unit (${unit:-none})" test -n "$unit"
check "/etc/tcpa/tcpa.json is a conffile" \
    sh -c "dpkg-query -W -f='\${Conffiles}' tcpa | grep -q '^ /etc/tcpa/tcpa.json '"
check "group tcpa created" sh -c "getent group tcpa >/dev/null"

# ---- use it
check "tcpa --version is $version" \
    sh -c "/usr/sbin/tcpa --version | grep -qx 'tcpa $version'"
check "tcpactl --version is $version" \
    sh -c "/usr/bin/tcpactl --version | grep -qx 'tcpactl $version'"
cw_ok() {
    "$@" --pcap "$sample" --json >"$work/report.json" 2>"$work/report.err" ||
        { cat "$work/report.err"; return 1; }
    python3 - "$work/report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
ep = [e for e in r["endpoints"] if e["endpoint"] == "10.99.0.2:8080"]
n = ep[0]["states"].get("CLOSE_WAIT", 0) if ep else None
if n != 30:
    sys.exit("10.99.0.2:8080 CLOSE_WAIT: expected 30, got %r" % n)
EOF
}
check "tcpa --pcap close_wait_leak.pcap --json: 30 CLOSE_WAIT on 10.99.0.2:8080" \
    cw_ok /usr/sbin/tcpa
check "tcpa accepts the installed /etc/tcpa/tcpa.json" \
    cw_ok /usr/sbin/tcpa --config /etc/tcpa/tcpa.json

man_has() {   # man_has SECTION PAGE TEXT...
    local out
    out=$(MANWIDTH=200 man -P cat "$1" "$2" 2>/dev/null) || return 1
    shift 2
    for t in "$@"; do grep -qF -- "$t" <<<"$out" || { echo "  man page lacks '$t'"; return 1; }; done
}
check "man tcpa: OPTIONS, --pcap, EXIT STATUS, SIGNALS, FILES" \
    man_has 8 tcpa OPTIONS --pcap "EXIT STATUS" SIGNALS SIGUSR1 FILES /etc/tcpa/tcpa.json
check "man tcpactl: COMMANDS, endpoints, EXIT STATUS" \
    man_has 8 tcpactl COMMANDS endpoints "EXIT STATUS" TCPA_SOCK
check "man 5 tcpa.json: every key section" \
    man_has 5 tcpa.json KEYS close_wait_s flows_per_core "CROSS-KEY RULES"

if command -v logrotate >/dev/null; then
    check "logrotate -d accepts /etc/logrotate.d/tcpa" \
        sh -c 'logrotate -d /etc/logrotate.d/tcpa >/dev/null 2>&1'
fi
check "hugepages.sh is a valid sh script" sh -n /usr/libexec/tcpa/hugepages.sh

if [ -n "$unit" ]; then
    check "unit is Type=notify with ExecReload" \
        sh -c "grep -qx 'Type=notify' '$unit' && grep -q '^ExecReload=' '$unit' && grep -q '^ExecStart=/usr/sbin/tcpa ' '$unit'"
    if command -v systemd-analyze >/dev/null; then
        check "systemd-analyze verify $unit" \
            sh -c "systemd-analyze verify '$unit' >'$work/verify.log' 2>&1 || { cat '$work/verify.log'; false; }"
        if systemd-analyze --help 2>/dev/null | grep -q -- '--offline'; then
            sec=(systemd-analyze security --offline=true "$unit")
        elif [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
            systemctl daemon-reload
            sec=(systemd-analyze security tcpa.service)
        else
            sec=()
            echo "SKIP: systemd-analyze security (no --offline and systemd is not PID 1)"
        fi
        if [ ${#sec[@]} -gt 0 ]; then
            "${sec[@]}" >"$work/security.log" 2>&1 || true
            level=$(sed -nE 's/.*Overall exposure level for tcpa\.service: ([0-9.]+).*/\1/p' "$work/security.log")
            echo "package: systemd-analyze security: exposure ${level:-unknown}"
            check "systemd-analyze security exposure ${level:-unknown} is below 4" \
                awk -v l="${level:-99}" 'BEGIN { exit !(l < 4) }'
        fi
    else
        echo "SKIP: systemd-analyze not installed: unit not verified"
    fi
    # an operator's 'systemctl enable tcpa' must be undone by the purge
    if command -v systemctl >/dev/null; then
        systemctl enable tcpa.service >/dev/null 2>&1 || true
        check "systemctl enable tcpa (for the purge check)" \
            test -L /etc/systemd/system/multi-user.target.wants/tcpa.service
    fi
fi

# ---- purge: nothing of the package is left
if apt-get purge "${apt_opts[@]}" tcpa >"$work/purge.log" 2>&1; then
    installed=no
    ok "apt-get purge tcpa"
else
    cat "$work/purge.log"
    die "apt-get purge tcpa failed"
fi
check "dpkg no longer knows tcpa" \
    sh -c "! dpkg-query -W -f='\${Status}' tcpa 2>/dev/null | grep -q 'ok'"
left=()
while IFS= read -r f; do
    [ "$f" = /. ] && continue
    if [ -e "$f" ] && { [ ! -d "$f" ] || [ "${f#/usr/share/tcpa}" != "$f" ] ||
            [ "${f#/usr/libexec/tcpa}" != "$f" ] || [ "$f" = /etc/tcpa ] ||
            [ "$f" = /usr/share/doc/tcpa ]; }; then
        left+=("$f")
    fi
done <"$work/files"
check "no file of the package left${left:+: ${left[*]}}" test ${#left[@]} -eq 0
stray=()
for p in /etc/tcpa /var/log/tcpa /usr/share/tcpa /usr/libexec/tcpa \
        /lib/systemd/system/tcpa.service /usr/lib/systemd/system/tcpa.service \
        /etc/systemd/system/tcpa.service /etc/systemd/system/multi-user.target.wants/tcpa.service; do
    if [ -e "$p" ] || [ -L "$p" ]; then stray+=("$p"); fi
done
while IFS= read -r f; do stray+=("$f"); done < <(
    find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
        /var/lib/dpkg/info -name 'tcpa[.:]*' 2>/dev/null)
check "no configuration, log, unit or state left${stray:+: ${stray[*]}}" test ${#stray[@]} -eq 0
check "group tcpa removed" sh -c '! getent group tcpa >/dev/null'

echo "package: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
