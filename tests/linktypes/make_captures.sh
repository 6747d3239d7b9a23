#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Make the link-type and tunnel captures of tests/linktypes/ (README.md says
# what each one is). Run as root: it creates network namespaces, veth, tun
# and vxlan devices, nftables rules in those namespaces, and runs tcpdump.
# Nothing leaves the machine and everything is removed on exit.
#
#   tests/linktypes/make_captures.sh            # all, into tests/linktypes/
#   TCPA_LINKTYPES_DIR=DIR make_captures.sh     # somewhere else
#   TCPA_KEEP_WORK=1 make_captures.sh           # keep the logs
#
# Needs iproute2, tcpdump, ethtool, nft, tshark, mergecap and a python3 with
# scapy (Debian: apt-get install python3-scapy; /usr/bin/python3 is used
# when the first python3 on PATH has no scapy).

set -euo pipefail

DIR=$(cd "$(dirname "$0")" && pwd)
OUT=${TCPA_LINKTYPES_DIR:-$DIR}
PORT=8080
TAG=tlt$$
WORK=
PIDS=()
NSS=()

log() { printf '[linktypes %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'make_captures.sh: error: %s\n' "$*" >&2; exit 1; }

require() {
    local t
    [[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, tcpdump)"
    for t in ip tcpdump ethtool nft tshark mergecap; do
        command -v "$t" >/dev/null 2>&1 || die "missing tool: $t"
    done
    PY=python3
    if ! "$PY" -c 'import scapy' 2>/dev/null; then
        PY=/usr/bin/python3
        "$PY" -c 'import scapy' 2>/dev/null || die "no python3 with scapy (apt-get install python3-scapy)"
    fi
}

# Stop one process started here, by pid: SIG (TERM), then KILL after 2 s.
stop_pid() {
    local pid=$1 sig=${2:-TERM} i
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$? i ns pid
    set +e
    trap - EXIT INT TERM
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        [[ -n ${PIDS[i]} ]] && stop_pid "${PIDS[i]}"
    done
    for ns in "${NSS[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do stop_pid "$pid" KILL; done
        ip netns del "$ns" 2>/dev/null
    done
    if [[ -n $WORK ]]; then
        if ((rc != 0)) || [[ ${TCPA_KEEP_WORK:-0} == 1 ]]; then
            log "work dir kept: $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    exit "$rc"
}

ns_add() {
    ip netns add "$1"
    NSS+=("$1")
    ip -n "$1" link set lo up
}

# Background process: bg NAME CMD...; its pid is $LAST.
bg() {
    local name=$1
    shift
    "$@" >"$WORK/$name.log" 2>&1 &
    LAST=$!
    PIDS+=("$LAST")
}

wait_file() {
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -s $1 ]] && return 0
        sleep 0.1
    done
    die "timed out waiting for $1"
}

# cap_start NAME NS TCPDUMP-ARGS...: a capture into $WORK/NAME.pcap (full
# frames: the largest here is 1518 bytes, lo's are small); $LAST
# is its pid once tcpdump says it is listening.
cap_start() {
    local name=$1 ns=$2 i
    shift 2
    # A large buffer and a snap length just above the largest frame: in
    # immediate mode each frame may take a ring block of its own.
    bg "cap-$name" ip netns exec "$ns" tcpdump -U --immediate-mode -B 16384 -s 2048 \
        -w "$WORK/$name.pcap" "$@"
    for ((i = 0; i < 100; i++)); do
        grep -q 'listening on' "$WORK/cap-$name.log" && return 0
        sleep 0.1
    done
    die "tcpdump $name did not start: $(cat "$WORK/cap-$name.log")"
}

# cap_stop NAME PID [WAIT [COPIES]]: stop it after WAIT seconds, check it
# lost nothing (the filter saw each frame COPIES times: 2 on lo, where
# libpcap drops the outgoing copy), move it to OUT.
cap_stop() {
    local name=$1 pid=$2 wait=${3:-0.3} copies=${4:-1} got recv
    sleep "$wait"
    stop_pid "$pid" INT
    got=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured.*/\1/p' "$WORK/cap-$name.log")
    recv=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter.*/\1/p' "$WORK/cap-$name.log")
    grep -q '^0 packets dropped by kernel' "$WORK/cap-$name.log" ||
        die "$name: kernel dropped packets: $(cat "$WORK/cap-$name.log")"
    [[ -n $got && -n $recv && $((got * copies)) == "$recv" && $got -gt 0 ]] ||
        die "$name: captured $got of $recv"
    cp "$WORK/$name.pcap" "$OUT/$name.pcap"
    log "$name.pcap: $got frames"
}

offloads_off() {
    ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1 || true
}

# The exchange: a server for two connections, a client for IPv4 then IPv6.
exchange() {
    local srv_ns=$1 cli_ns=$2 a4=$3 a6=$4 name=$5
    shift 5
    rm -f "$WORK/$name.ready"
    bg "srv-$name" ip netns exec "$srv_ns" "$PY" -u "$DIR/peers.py" server --port "$PORT" \
        --ready "$WORK/$name.ready" "$@"
    local srv=$LAST
    wait_file "$WORK/$name.ready"
    ip netns exec "$cli_ns" "$PY" -u "$DIR/peers.py" client --port "$PORT" "$@" "$a4" "$a6" \
        || die "$name: client failed"
    wait "$srv" || die "$name: server failed"
}

# Two namespaces joined by a veth pair; a side is "NS:IF:LAST_OCTET".
veth_pair() {
    local net4=$1 net6=$2 a=$3 b=$4 side ns ifn n ns_b ifn_b
    IFS=: read -r ns ifn n <<<"$a"
    IFS=: read -r ns_b ifn_b n <<<"$b"
    ip link add "$ifn" netns "$ns" type veth peer name "$ifn_b" netns "$ns_b"
    for side in "$a" "$b"; do
        IFS=: read -r ns ifn n <<<"$side"
        ip -n "$ns" addr add "$net4.$n/24" dev "$ifn"
        ip -n "$ns" -6 addr add "$net6:$n/64" dev "$ifn" nodad
        offloads_off "$ns" "$ifn"
        ip -n "$ns" link set "$ifn" up
    done
}

# A: veth between two namespaces; Ethernet, cooked v1 and v2, NFLOG at once.
capture_veth() {
    local c=$TAG-c s=$TAG-s p_eth p_sll p_sll2 p_nflog
    ns_add "$c"
    ns_add "$s"
    veth_pair 10.98.0 fd98: "$c:${TAG}c:1" "$s:${TAG}s:2"
    # One packet per netlink message: batches end in an NLMSG_DONE that
    # libpcap 1.10 writes out as a garbage NFLOG record.
    ip netns exec "$s" nft -f - <<EOF
table inet tcpa_lt {
	chain in { type filter hook input priority 0; tcp dport $PORT log group 5 queue-threshold 1; }
	chain out { type filter hook output priority 0; tcp sport $PORT log group 5 queue-threshold 1; }
}
EOF
    cap_start eth "$s" -i "${TAG}s" tcp port "$PORT"
    p_eth=$LAST
    cap_start sll "$s" -i any -y LINUX_SLL tcp port "$PORT"
    p_sll=$LAST
    cap_start sll2 "$s" -i any -y LINUX_SLL2 tcp port "$PORT"
    p_sll2=$LAST
    cap_start nflog "$s" -i nflog:5
    p_nflog=$LAST
    exchange "$s" "$c" 10.98.0.2 fd98::2 veth
    cap_stop eth "$p_eth"
    cap_stop sll "$p_sll"
    cap_stop sll2 "$p_sll2"
    # nfnetlink_log sends what it holds at least once a second.
    cap_stop nflog "$p_nflog" 1.5
}

# B: loopback in one namespace (Ethernet with zero addresses on Linux).
capture_lo() {
    local l=$TAG-l
    ns_add "$l"
    cap_start lo_eth "$l" -i lo tcp port "$PORT"
    local p=$LAST
    exchange "$l" "$l" 127.0.0.1 ::1 lo
    cap_stop lo_eth "$p" 0.3 2
}

# C: two tun devices joined back to back by tun_relay.py: raw IP.
capture_tun() {
    local t1=$TAG-t1 t2=$TAG-t2 ns dev n x
    ns_add "$t1"
    ns_add "$t2"
    bg relay "$PY" -u "$DIR/tun_relay.py" "$t1" "${TAG}a" "$t2" "${TAG}b" "$WORK/relay.ready"
    wait_file "$WORK/relay.ready"
    for x in "$t1:${TAG}a:1" "$t2:${TAG}b:2"; do
        IFS=: read -r ns dev n <<<"$x"
        ip -n "$ns" addr add "10.97.0.$n/24" dev "$dev"
        ip -n "$ns" -6 addr add "fd97::$n/64" dev "$dev" nodad
        ip -n "$ns" link set "$dev" up
    done
    cap_start tun_raw "$t2" -i "${TAG}b" tcp port "$PORT"
    local p=$LAST
    exchange "$t2" "$t1" 10.97.0.2 fd97::2 tun
    cap_stop tun_raw "$p"
}

# D: a Linux vxlan device over a veth underlay: the underlay's capture is
# real VXLAN, the vxlan device's the inner Ethernet frames (its reference).
capture_vxlan() {
    local x1=$TAG-x1 x2=$TAG-x2 p_out p_in ns n peer x
    ns_add "$x1"
    ns_add "$x2"
    veth_pair 192.168.97 fd97:1: "$x1:${TAG}u1:1" "$x2:${TAG}u2:2"
    for x in "$x1:1:2" "$x2:2:1"; do
        IFS=: read -r ns n peer <<<"$x"
        ip -n "$ns" link add vxl0 type vxlan id 4242 dstport 4789 \
            local "192.168.97.$n" remote "192.168.97.$peer" dev "${TAG}u$n"
        ip -n "$ns" addr add "10.96.0.$n/24" dev vxl0
        ip -n "$ns" -6 addr add "fd96::$n/64" dev vxl0 nodad
        offloads_off "$ns" vxl0
        ip -n "$ns" link set vxl0 up
    done
    cap_start vxlan_real "$x2" -i "${TAG}u2" udp port 4789
    p_out=$LAST
    cap_start vxlan_real_inner "$x2" -i vxl0 tcp port "$PORT"
    p_in=$LAST
    exchange "$x2" "$x1" 10.96.0.2 fd96::2 vxlan
    cap_stop vxlan_real "$p_out"
    cap_stop vxlan_real_inner "$p_in"
}

# E: TSO and BIG TCP on the sending host: segments up to 150000 bytes,
# IPv4 total length 0 past 64 KB, captured with a 200-byte snap length.
capture_big_tso() {
    local b1=$TAG-b1 b2=$TAG-b2 ns dev n x
    ns_add "$b1"
    ns_add "$b2"
    ip link add "${TAG}b1" netns "$b1" type veth peer name "${TAG}b2" netns "$b2"
    for x in "$b1:${TAG}b1:1" "$b2:${TAG}b2:2"; do
        IFS=: read -r ns dev n <<<"$x"
        ip -n "$ns" addr add "10.95.0.$n/24" dev "$dev"
        ip -n "$ns" -6 addr add "fd95::$n/64" dev "$dev" nodad
        ip -n "$ns" link set "$dev" gso_max_size 150000 gro_max_size 150000
        ip netns exec "$ns" "$PY" "$DIR/set_gso.py" "$dev" 150000 \
            || log "no IPv4 BIG TCP on this kernel: IPv4 segments stay under 64 KB"
        ip -n "$ns" link set "$dev" up
    done
    # IPv6 BIG TCP segments carry a Hop-by-hop header (jumbo payload), which
    # "tcp port" does not look past.
    cap_start big_tso "$b2" -i "${TAG}b2" -s 200 "tcp port $PORT or (ip6 and ip6[6] == 0)"
    local p=$LAST
    exchange "$b2" "$b1" 10.95.0.2 fd95::2 big --resp 300000
    cap_stop big_tso "$p"
}

main() {
    require
    WORK=$(mktemp -d /tmp/tcpa-linktypes.XXXXXX)
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    mkdir -p "$OUT"
    OUT=$(cd "$OUT" && pwd)
    capture_veth
    capture_lo
    capture_tun
    capture_vxlan
    capture_big_tso
    log "wrapping the real frames into the other link types and tunnels"
    "$PY" "$DIR/wrap.py" "$OUT"
    mergecap -F pcapng -w "$OUT/mixed.pcapng" "$OUT/lo_eth.pcap" "$OUT/tun_raw.pcap"
    log "checking every capture against its reference with tshark"
    "$PY" "$DIR/check_tshark.py" "$OUT"
}

main "$@"
