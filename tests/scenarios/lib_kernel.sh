# shellcheck shell=bash
# shellcheck disable=SC2153  # NS_C, NS_S, IFNAME, WORK, ... are lib.sh's
# Kernel-counter helpers for the tcpa capture scenarios; source after lib.sh:
#
#     source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#     source "$(dirname "${BASH_SOURCE[0]}")/lib_kernel.sh"
#     scn_init NAME PORT...
#     kscn_require tshark nstat [nft clang ...]
#     topo_up                       # or topo_bridge_up (client - bridge ns - server)
#     capture_start                 # or kcap_start LABEL ROLE (several captures)
#     nstat_begin                   # before the first SYN
#     ... peers ...
#     ksnapshot                     # ss -tanH (lib.sh's snapshot) + nstat -az, both namespaces
#     capture_stop                  # or kcap_stop LABEL
#     kscn_finish [kexpect.py options]
#
# kscn_finish writes, as scn_finish does, tests/captures/NAME.{pcap,ss.txt,expect.json};
# the expectation additionally carries "anomalies", "notes", "tshark" (tcp.analysis
# counts of the capture) and "nstat" (kernel counter deltas of both
# namespaces), derived by kexpect.py (per-scenario rules there).
#
# nstat: counters are per network namespace. nstat_begin runs `nstat -n` (with
# a history file in $WORK, so that nothing in /tmp is shared between runs or
# namespaces) and keeps `nstat -az` as the baseline; ksnapshot takes `nstat
# -az` again right after ss. The expectation holds after - before. The
# namespaces are new, so the baseline's TCP counters are all 0 anyway.

KPEER=$PEERS/kpeer.py
export KPEER
NS_B=
KCAP_LABELS=()
KCAP_PIDS=()
KCAP_FILES=()
NSTAT_ROLES=(server client)

kscn_require() {
    local t missing=()
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (Debian: apt-get install tshark iproute2 nftables clang libbpf-dev)"
    # the bridge namespace, if any, goes before lib.sh's cleanup
    trap kscn_cleanup EXIT
}

kscn_cleanup() {
    local rc=$?
    set +e
    if [[ -n $NS_B ]] && ip netns list 2>/dev/null | grep -qw -- "$NS_B"; then
        local pid
        for pid in $(ip netns pids "$NS_B" 2>/dev/null); do _kill_pid "$pid" KILL; done
        ip netns del "$NS_B" 2>/dev/null
    fi
    (exit "$rc")
    scn_cleanup
}

_ns_any() {
    case $1 in
        BRIDGE | bridge) echo "$NS_B" ;;
        *) _ns "$1" ;;
    esac
}

# veth offloads off (wire-sized segments, correct checksums): ns, ifname
_offloads_off() {
    ip netns exec "$1" ethtool -K "$2" tso off gso off gro off lro off tx off rx off sg off >/dev/null 2>&1 \
        || ip netns exec "$1" ethtool -K "$2" tso off gso off gro off tx off sg off >/dev/null 2>&1 \
        || die "ethtool -K $2 (offloads off) failed in $1"
}

# topo_bridge_up: client ns eth0 <-veth-> [bridge ns: bc -- br0 -- bs] <-veth-> server ns eth0
# Same addresses as topo_up. The bridge namespace has no IP address; its
# nftables (family bridge) sees every frame that crosses br0.
topo_bridge_up() {
    local ns
    NS_B=tcpa-$$-b
    ip netns add "$NS_C" || die "cannot create network namespace $NS_C"
    ip netns add "$NS_S" || die "cannot create network namespace $NS_S"
    ip netns add "$NS_B" || die "cannot create network namespace $NS_B"
    ip link add "tcpac$$" netns "$NS_C" type veth peer name "tcpabc$$" netns "$NS_B" \
        || die "cannot create veth pair (client)"
    ip link add "tcpas$$" netns "$NS_S" type veth peer name "tcpabs$$" netns "$NS_B" \
        || die "cannot create veth pair (server)"
    ip -n "$NS_C" link set "tcpac$$" name "$IFNAME"
    ip -n "$NS_S" link set "tcpas$$" name "$IFNAME"
    ip -n "$NS_B" link set "tcpabc$$" name bc
    ip -n "$NS_B" link set "tcpabs$$" name bs
    ip -n "$NS_B" link add br0 type bridge stp_state 0 mcast_snooping 0
    ip -n "$NS_B" link set bc master br0
    ip -n "$NS_B" link set bs master br0
    for ns in "$NS_C" "$NS_S" "$NS_B"; do
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 \
            net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.router_solicitations=0 \
            net.ipv6.conf.all.router_solicitations=0 >/dev/null
    done
    ip netns exec "$NS_B" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
    _offloads_off "$NS_C" "$IFNAME"
    _offloads_off "$NS_S" "$IFNAME"
    _offloads_off "$NS_B" bc
    _offloads_off "$NS_B" bs
    ip -n "$NS_C" addr add "$CLIENT_IP4/24" dev "$IFNAME"
    ip -n "$NS_S" addr add "$SERVER_IP4/24" dev "$IFNAME"
    ip -n "$NS_C" -6 addr add "$CLIENT_IP6/64" dev "$IFNAME" nodad
    ip -n "$NS_S" -6 addr add "$SERVER_IP6/64" dev "$IFNAME" nodad
    ip -n "$NS_B" link set bc up
    ip -n "$NS_B" link set bs up
    ip -n "$NS_B" link set br0 up
    ip -n "$NS_C" link set "$IFNAME" up
    ip -n "$NS_S" link set "$IFNAME" up
    local i
    for ((i = 0; i < 50; i++)); do
        ip -n "$NS_C" link show "$IFNAME" | grep -q 'state UP' \
            && ip -n "$NS_S" link show "$IFNAME" | grep -q 'state UP' \
            && ip -n "$NS_B" link show br0 | grep -q 'state UP' && break
        sleep 0.1
    done
    ip -n "$NS_B" link show br0 | grep -q 'state UP' || die "bridge did not come up"
    # the bridge learns both MACs before the first SYN (no flooding surprises)
    ip netns exec "$NS_C" ip neigh replace "$SERVER_IP4" lladdr \
        "$(ip -n "$NS_S" -br link show "$IFNAME" | awk '{print $3}')" dev "$IFNAME" nud permanent
    ip netns exec "$NS_S" ip neigh replace "$CLIENT_IP4" lladdr \
        "$(ip -n "$NS_C" -br link show "$IFNAME" | awk '{print $3}')" dev "$IFNAME" nud permanent
    log "topology up ($CLIENT_IP4 <-> bridge ns $NS_B <-> $SERVER_IP4), offloads off"
}

# kcap_start LABEL CLIENT|SERVER [SNAPLEN]: tcpdump on that namespace's eth0
# into $WORK/LABEL.pcap (filter tcp). Several may run at once.
kcap_start() {
    local label=$1 ns snap=${3:-0} t pid
    ns=$(_ns "$2")
    ip netns exec "$ns" tcpdump -Z root --immediate-mode -U -w "$WORK/$label.pcap" -s "$snap" \
        -i "$IFNAME" tcp 2>"$WORK/tcpdump-$label.log" &
    pid=$!
    BG_PIDS+=("$pid")
    BG_LABELS+=("tcpdump-$label")
    KCAP_LABELS+=("$label")
    KCAP_PIDS+=("$pid")
    KCAP_FILES+=("$WORK/$label.pcap")
    for ((t = 0; t < 100; t++)); do
        grep -q 'listening on' "$WORK/tcpdump-$label.log" 2>/dev/null && break
        kill -0 "$pid" 2>/dev/null || die "tcpdump failed: $(cat "$WORK/tcpdump-$label.log")"
        sleep 0.05
    done
    grep -q 'listening on' "$WORK/tcpdump-$label.log" || die "tcpdump did not start"
    sleep 0.2
    log "capture $label started on $ns/$IFNAME (snaplen ${snap/#0/full})"
}

# kcap_stop LABEL: same completeness checks as capture_stop
kcap_stop() {
    local label=$1 i pid='' rc=0 f
    for ((i = 0; i < ${#KCAP_LABELS[@]}; i++)); do
        [[ ${KCAP_LABELS[i]} == "$label" ]] && pid=${KCAP_PIDS[i]} && break
    done
    [[ -n $pid ]] || die "kcap_stop: no capture $label"
    sleep 0.3
    kill -INT "$pid"
    wait "$pid" || rc=$?
    for ((i = 0; i < ${#BG_PIDS[@]}; i++)); do
        [[ ${BG_PIDS[i]} == "$pid" ]] && BG_PIDS[i]=
    done
    f=$WORK/tcpdump-$label.log
    ((rc == 0)) || die "tcpdump ($label) exited with $rc: $(cat "$f")"
    local dropped captured received
    dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$f")
    [[ -z $dropped || $dropped == 0 ]] || die "tcpdump ($label) dropped $dropped packets"
    captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured.*/\1/p' "$f")
    received=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter.*/\1/p' "$f")
    [[ -n $captured && $captured == "$received" ]] \
        || die "tcpdump ($label) wrote $captured packets but its filter saw $received"
    log "capture $label stopped: $(grep 'captured' "$f" || true)"
}

nstat_begin() {
    local role ns
    for role in "${NSTAT_ROLES[@]}"; do
        ns=$(_ns "$role")
        NSTAT_HISTORY=$WORK/nstat-$role.hist ip netns exec "$ns" nstat -n
        NSTAT_HISTORY=$WORK/nstat-$role.hist ip netns exec "$ns" nstat -asz >"$WORK/nstat-$role.before"
    done
    log "nstat reset (${NSTAT_ROLES[*]})"
}

nstat_end() {
    local role ns
    for role in "${NSTAT_ROLES[@]}"; do
        ns=$(_ns "$role")
        NSTAT_HISTORY=$WORK/nstat-$role.hist ip netns exec "$ns" nstat -asz >"$WORK/nstat-$role.after"
    done
}

# ksnapshot: ss of both namespaces (lib.sh) and their kernel counters
ksnapshot() {
    snapshot
    nstat_end
    log "nstat taken"
}

# vlan_tag_up VID: tc BPF on both veth ends: push an 802.1Q tag (VID) on
# egress, pop it on ingress. Needs clang and libbpf-dev (bpf_helpers.h).
vlan_tag_up() {
    local vid=$1 ns
    clang -O2 -g -target bpf -I"/usr/include/$(uname -m)-linux-gnu" -DVLAN_ID="$vid" \
        -c "$SCN_DIR/bpf/vlan_tag.c" -o "$WORK/vlan_tag.o" 2>"$WORK/clang.log" \
        || die "clang could not build bpf/vlan_tag.c: $(cat "$WORK/clang.log")"
    for ns in "$NS_C" "$NS_S"; do
        tc -n "$ns" qdisc add dev "$IFNAME" clsact || die "tc clsact failed in $ns"
        tc -n "$ns" filter add dev "$IFNAME" egress bpf direct-action obj "$WORK/vlan_tag.o" sec tc/vlan_push \
            || die "tc bpf (egress vlan push) failed in $ns"
        tc -n "$ns" filter add dev "$IFNAME" ingress bpf direct-action obj "$WORK/vlan_tag.o" sec tc/vlan_pop \
            || die "tc bpf (ingress vlan pop) failed in $ns"
    done
    log "802.1Q VLAN $vid pushed on egress / popped on ingress by tc BPF on both veths"
}

# kscn_finish [kexpect.py options]: expectation (ss + nstat + derived
# anomalies) for every capture, then copy into the captures dir. With one
# capture (lib.sh's capture_start) the files are NAME.*; with kcap_start
# captures they are NAME_LABEL.* (one expectation per pcap, same ss).
kscn_finish() {
    local ports base label pcap i
    ports=$(IFS=,; echo "${SERVER_PORTS[*]}")
    local nst=()
    for role in "${NSTAT_ROLES[@]}"; do
        nst+=(--nstat "$role=$WORK/nstat-$role.after,$WORK/nstat-$role.before")
    done
    local labels=() pcaps=()
    if ((${#KCAP_LABELS[@]})); then
        for ((i = 0; i < ${#KCAP_LABELS[@]}; i++)); do
            labels+=("${SCN_NAME}_${KCAP_LABELS[i]}")
            pcaps+=("${KCAP_LABELS[i]}=${KCAP_FILES[i]}")
        done
    else
        labels+=("$SCN_NAME")
        pcaps+=("main=$WORK/cap.pcap")
    fi
    "$PY" "$SCN_DIR/kexpect.py" "$SCN_NAME" --server-ports "$ports" "${nst[@]}" \
        "${pcaps[@]/#/--pcap=}" --out-dir "$WORK/derived" "$@" \
        || die "kexpect.py: the capture does not agree with the kernel (see above)"
    for ((i = 0; i < ${#labels[@]}; i++)); do
        label=${labels[i]}
        pcap=${pcaps[i]#*=}
        "$PY" "$SCN_DIR/ss2json.py" --scenario "$label" --server-ports "$ports" "${nst[@]}" \
            --merge "$WORK/derived/${pcaps[i]%%=*}.json" -o "$WORK/expect-$label.json" "$WORK/ss.txt"
        base=$CAPTURES_DIR/$label
        cp "$pcap" "$base.pcap.tmp" && mv -f "$base.pcap.tmp" "$base.pcap"
        cp "$WORK/ss.txt" "$base.ss.txt.tmp" && mv -f "$base.ss.txt.tmp" "$base.ss.txt"
        cp "$WORK/expect-$label.json" "$base.expect.json.tmp" && mv -f "$base.expect.json.tmp" "$base.expect.json"
        local npk size
        npk=$(tcpdump -nr "$base.pcap" 2>/dev/null | wc -l)
        size=$(stat -c %s "$base.pcap")
        log "wrote $base.{pcap,ss.txt,expect.json}: $npk packets, $size bytes"
        log "anomalies: $("$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])).get("anomalies")))' "$base.expect.json")"
    done
}
