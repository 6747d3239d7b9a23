#!/usr/bin/env bash
# Regenerate every capture in tests/captures/ (needs root: network namespaces).
#   tests/scenarios/make_all.sh              # all scenarios
#   tests/scenarios/make_all.sh refused ...  # only these
# Runs the scenarios one after the other; exits non-zero if any failed.
# The kernel-counter scenarios (backlog_overflow ... vlan_leak) also need
# tshark and nstat, some nft (nftables), and vlan_leak clang + libbpf-dev.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ALL=(clean_mix close_wait_leak idle_timeout_stale time_wait_churn refused
     backlog_overflow zero_window nagle_delayed_ack nagle_nodelay keepalive
     keepalive_dead_peer linger_abort loss_recovery ipv6_leak vlan_leak fast_open)
if (($# > 0)); then list=("$@"); else list=("${ALL[@]}"); fi

[[ $(id -u) -eq 0 ]] || { echo "make_all: must run as root (network namespaces, tcpdump)" >&2; exit 1; }

failed=()
for name in "${list[@]}"; do
    script=$here/$name.sh
    [[ -x $script ]] || { echo "make_all: no scenario script $script" >&2; failed+=("$name"); continue; }
    echo "=== $name ===" >&2
    if ! "$script"; then
        failed+=("$name")
    fi
done
if ((${#failed[@]})); then
    echo "make_all: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "make_all: all ${#list[@]} scenarios regenerated in $(cd "$here/../captures" && pwd)" >&2
