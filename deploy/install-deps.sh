#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install what tcpa needs from Debian 12's packages, and nothing else.
# Idempotent: only missing packages are installed, apt's lists are refreshed
# only when something is missing. Run as root (make run / make test do).
set -euo pipefail

# build: compiler, meson, DPDK 22.11 LTS, libnuma, jansson, scdoc (man pages)
# tests: python3, the oracles (tshark, ss from iproute2), capture and traffic tools,
# a Prometheus server to scrape the metrics, and what tests/package needs to
# build the Debian package with Debian's tools, install it and read its man pages,
# clang's libFuzzer for the short fuzzing runs of make test
pkgs=(
    gcc make pkg-config meson ninja-build scdoc
    libdpdk-dev dpdk libnuma-dev libjansson-dev
    python3 iproute2 tcpdump tshark nftables tcpreplay ethtool procps prometheus
    build-essential debhelper dpkg-dev fakeroot man-db
    clang libclang-rt-14-dev
)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
