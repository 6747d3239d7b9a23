# shellcheck shell=bash
# Shared helpers for the tcpa capture scenarios (tests/scenarios/*.sh).
#
# Each scenario builds a private two-namespace topology
#
#     client ns (eth0: 10.99.0.1/24, fd99::1/64) <--veth--> server ns (eth0: 10.99.0.2/24, fd99::2/64)
#
# runs real Linux TCP peers (tests/scenarios/peers/*.py) inside it, captures
# on the server's veth with tcpdump, takes the kernels' own view of the socket
# states (ss -tanH in both namespaces) right before stopping the capture, and
# writes into tests/captures/:
#     NAME.pcap          the capture (pcap, Ethernet, full snaplen)
#     NAME.ss.txt        raw ss output of both namespaces, labelled
#     NAME.expect.json   ss2json.py's expectation derived from it
#
# Nothing leaves the machine: the only links are the veth pair between the two
# namespaces created here. Everything created (namespaces, processes, temp
# dir) is removed by the EXIT trap.
#
# Usage in a scenario script:
#     source "$(dirname "$0")/lib.sh"
#     scn_init NAME PORT [PORT...]      # server ports, used by ss2json.py
#     topo_up
#     capture_start
#     bg_start SERVER srv python3 -u "$PEERS/server.py" ... --ready "$WORK/srv.ready"
#     wait_file "$WORK/srv.ready"
#     in_ns CLIENT python3 -u "$PEERS/client.py" ...
#     snapshot
#     capture_stop
#     scn_finish
#
# Environment:
#     TCPA_CAPTURES_DIR   output directory (default: tests/captures next to this dir)
#     TCPA_KEEP_WORK=1    keep the temp dir (logs) after the run

set -euo pipefail

SCN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$SCN_DIR/peers   # used by the scenario scripts
export PEERS
CAPTURES_DIR=${TCPA_CAPTURES_DIR:-$SCN_DIR/../captures}

CLIENT_IP4=10.99.0.1
SERVER_IP4=10.99.0.2
CLIENT_IP6=fd99::1
SERVER_IP6=fd99::2
IFNAME=eth0

SCN_NAME=${SCN_NAME:-scenario}
NS_C=
NS_S=
WORK=
TCPDUMP_PID=
BG_PIDS=()
BG_LABELS=()
SERVER_PORTS=()

log() { printf '[%s %s] %s\n' "$SCN_NAME" "$(date +%T.%3N)" "$*" >&2; }
die() { printf '%s: error: %s\n' "$SCN_NAME" "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------
# preconditions

scn_require() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, tcpdump)"
    local t missing=()
    for t in ip ss tcpdump ethtool python3 sysctl mktemp; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    ((${#missing[@]} == 0)) || die "missing tools: ${missing[*]} (Debian: apt-get install iproute2 tcpdump ethtool python3 procps)"
    PY=$(command -v python3)
    "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 7) else 1)' \
        || die "python3 >= 3.7 required"
}

# ---------------------------------------------------------------------------
# setup / teardown

# scn_init NAME PORT...: check preconditions, name the namespaces, make the
# temp dir and install the cleanup trap.
scn_init() {
    SCN_NAME=$1; shift
    (($# > 0)) || die "scn_init: no server port given"
    SERVER_PORTS=("$@")
    scn_require
    NS_C=tcpa-$$-c
    NS_S=tcpa-$$-s
    WORK=$(mktemp -d "/tmp/tcpa-$SCN_NAME.XXXXXX")
    trap scn_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    mkdir -p "$CAPTURES_DIR"
    CAPTURES_DIR=$(cd "$CAPTURES_DIR" && pwd)
    log "namespaces $NS_C / $NS_S, work dir $WORK"
}

# kill one process we started, by pid: TERM, then KILL after 2 s.
_kill_pid() {
    local pid=$1 sig=${2:-TERM} i
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill "-$sig" "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}

scn_cleanup() {
    local rc=$? i ns pid
    set +e
    trap - EXIT INT TERM
    if [[ -n $TCPDUMP_PID ]]; then _kill_pid "$TCPDUMP_PID" INT; TCPDUMP_PID=; fi
    for ((i = ${#BG_PIDS[@]} - 1; i >= 0; i--)); do
        [[ -n ${BG_PIDS[i]} ]] && _kill_pid "${BG_PIDS[i]}"
    done
    # anything still inside our own namespaces was started by this script
    for ns in "$NS_C" "$NS_S"; do
        [[ -n $ns ]] || continue
        ip netns list 2>/dev/null | grep -qw -- "$ns" || continue
        for pid in $(ip netns pids "$ns" 2>/dev/null); do _kill_pid "$pid" KILL; done
        ip netns del "$ns" 2>/dev/null
    done
    if ((rc != 0)) && [[ -n $WORK && -d $WORK ]]; then
        for f in "$WORK"/*.log; do
            [[ -f $f ]] || continue
            echo "----- $f (tail) -----" >&2
            tail -n 20 "$f" >&2
        done
    fi
    if [[ -n $WORK && -d $WORK ]]; then
        if [[ ${TCPA_KEEP_WORK:-0} == 1 ]] || ((rc != 0)); then
            log "kept work dir $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    ((rc == 0)) || log "FAILED (exit $rc)"
    exit "$rc"
}

# topo_up: the two namespaces and the veth pair, offloads off so that the
# capture shows wire-sized segments with correct checksums.
topo_up() {
    local ns
    ip netns add "$NS_C" || die "cannot create network namespace $NS_C"
    ip netns add "$NS_S" || die "cannot create network namespace $NS_S"
    ip link add "tcpac$$" netns "$NS_C" type veth peer name "tcpas$$" netns "$NS_S" \
        || die "cannot create veth pair"
    ip -n "$NS_C" link set "tcpac$$" name "$IFNAME"
    ip -n "$NS_S" link set "tcpas$$" name "$IFNAME"
    for ns in "$NS_C" "$NS_S"; do
        ip -n "$ns" link set lo up
        # keep IPv6 quiet and deterministic: no autoconf, no router solicitations
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_ra=0 \
            net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.router_solicitations=0 \
            net.ipv6.conf.all.router_solicitations=0 >/dev/null
        ip netns exec "$ns" ethtool -K "$IFNAME" tso off gso off gro off lro off \
            tx off rx off sg off >/dev/null 2>&1 \
            || ip netns exec "$ns" ethtool -K "$IFNAME" tso off gso off gro off tx off sg off >/dev/null 2>&1 \
            || die "ethtool -K $IFNAME (offloads off) failed in $ns"
        local feat
        feat=$(ip netns exec "$ns" ethtool -k "$IFNAME")
        grep -Eq '^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload): on' <<<"$feat" \
            && die "offloads still on in $ns: $(grep -E 'segmentation-offload|receive-offload' <<<"$feat" | tr '\n' ' ')"
    done
    ip -n "$NS_C" addr add "$CLIENT_IP4/24" dev "$IFNAME"
    ip -n "$NS_S" addr add "$SERVER_IP4/24" dev "$IFNAME"
    ip -n "$NS_C" -6 addr add "$CLIENT_IP6/64" dev "$IFNAME" nodad
    ip -n "$NS_S" -6 addr add "$SERVER_IP6/64" dev "$IFNAME" nodad
    ip -n "$NS_C" link set "$IFNAME" up
    ip -n "$NS_S" link set "$IFNAME" up
    # wait for carrier on both ends (no ping: iputils is not a dependency;
    # the peers fail loudly if the link does not work)
    local i
    for ((i = 0; i < 50; i++)); do
        ip -n "$NS_C" link show "$IFNAME" | grep -q 'state UP' \
            && ip -n "$NS_S" link show "$IFNAME" | grep -q 'state UP' && break
        sleep 0.1
    done
    ip -n "$NS_C" link show "$IFNAME" | grep -q 'state UP' || die "client veth did not come up"
    ip -n "$NS_S" link show "$IFNAME" | grep -q 'state UP' || die "server veth did not come up"
    [[ -z $(ip -n "$NS_S" -6 addr show dev "$IFNAME" scope global tentative) ]] \
        || die "server IPv6 address still tentative"
    log "topology up ($CLIENT_IP4,$CLIENT_IP6 <-> $SERVER_IP4,$SERVER_IP6), offloads off"
}

# ns_sysctl CLIENT|SERVER key=value...: per-namespace sysctl
ns_sysctl() {
    local ns; ns=$(_ns "$1"); shift
    ip netns exec "$ns" sysctl -qw "$@" >/dev/null
}

_ns() {
    case $1 in
        CLIENT | client) echo "$NS_C" ;;
        SERVER | server) echo "$NS_S" ;;
        *) die "unknown namespace role $1" ;;
    esac
}

# in_ns CLIENT|SERVER cmd...: run in the foreground inside a namespace
in_ns() {
    local ns; ns=$(_ns "$1"); shift
    ip netns exec "$ns" "$@"
}

# bg_start CLIENT|SERVER LABEL cmd...: start a background process inside a
# namespace, output in $WORK/LABEL.log; its pid is kept for cleanup and is
# returned in BG_LAST_PID.
bg_start() {
    local ns label; ns=$(_ns "$1"); label=$2; shift 2
    ip netns exec "$ns" "$@" >"$WORK/$label.log" 2>&1 &
    BG_LAST_PID=$!
    BG_PIDS+=("$BG_LAST_PID")
    BG_LABELS+=("$label")
    log "started $label (pid $BG_LAST_PID) in $ns"
}

# bg_stop LABEL: stop a background process started with bg_start
bg_stop() {
    local label=$1 i
    for ((i = 0; i < ${#BG_PIDS[@]}; i++)); do
        if [[ ${BG_LABELS[i]} == "$label" && -n ${BG_PIDS[i]} ]]; then
            _kill_pid "${BG_PIDS[i]}"
            BG_PIDS[i]=
            log "stopped $label"
            return 0
        fi
    done
    die "bg_stop: no running process labelled $label"
}

# bg_wait LABEL [TIMEOUT_S]: wait for a background process to exit by itself
bg_wait() {
    local label=$1 timeout=${2:-30} i pid='' t rc
    for ((i = 0; i < ${#BG_PIDS[@]}; i++)); do
        [[ ${BG_LABELS[i]} == "$label" ]] && pid=${BG_PIDS[i]} && break
    done
    [[ -n $pid ]] || die "bg_wait: no process labelled $label"
    for ((t = 0; t < timeout * 10; t++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && die "$label did not finish within ${timeout}s"
    rc=0; wait "$pid" || rc=$?
    BG_PIDS[i]=
    ((rc == 0)) || die "$label exited with status $rc (log: $WORK/$label.log)"
}

# wait_file FILE [TIMEOUT_S]
wait_file() {
    local f=$1 timeout=${2:-10} t
    for ((t = 0; t < timeout * 20; t++)); do
        [[ -e $f ]] && return 0
        sleep 0.05
    done
    die "timed out waiting for $f"
}

# ---------------------------------------------------------------------------
# capture and snapshot

capture_start() {
    local t
    # -Z root: Debian's tcpdump otherwise drops to user tcpdump before opening
    # the output file. Filter "tcp" matches IPv4 and IPv6 TCP.
    # --immediate-mode: hand each packet over as it arrives instead of per
    # TPACKET_V3 block, so nothing is left in the ring when SIGINT comes.
    ip netns exec "$NS_S" tcpdump -Z root --immediate-mode -U -w "$WORK/cap.pcap" -s 0 -i "$IFNAME" tcp \
        2>"$WORK/tcpdump.log" &
    TCPDUMP_PID=$!
    for ((t = 0; t < 100; t++)); do
        grep -q 'listening on' "$WORK/tcpdump.log" 2>/dev/null && break
        kill -0 "$TCPDUMP_PID" 2>/dev/null || die "tcpdump failed: $(cat "$WORK/tcpdump.log")"
        sleep 0.05
    done
    grep -q 'listening on' "$WORK/tcpdump.log" || die "tcpdump did not start: $(cat "$WORK/tcpdump.log")"
    sleep 0.2   # let the packet socket settle before the first SYN
    log "capture started on $NS_S/$IFNAME"
}

# snapshot: the kernels' own view, both namespaces, labelled
snapshot() {
    local out=$WORK/ss.txt
    {
        echo "# tcpa scenario $SCN_NAME: kernel socket states at capture end ($(date -u +%FT%T.%3NZ))"
        echo "# server ports: ${SERVER_PORTS[*]}"
        echo "# --- server namespace ($SERVER_IP4 $SERVER_IP6): ss -tanH ---"
        ip netns exec "$NS_S" ss -tanH
        echo "# --- client namespace ($CLIENT_IP4 $CLIENT_IP6): ss -tanH ---"
        ip netns exec "$NS_C" ss -tanH
    } >"$out"
    log "snapshot taken ($(grep -vc '^#' "$out") sockets incl. listeners)"
}

capture_stop() {
    [[ -n $TCPDUMP_PID ]] || die "capture_stop: no capture running"
    sleep 0.3   # let tcpdump drain its ring buffer before SIGINT
    kill -INT "$TCPDUMP_PID"
    local rc=0
    wait "$TCPDUMP_PID" || rc=$?
    TCPDUMP_PID=
    ((rc == 0)) || die "tcpdump exited with $rc: $(cat "$WORK/tcpdump.log")"
    local dropped
    dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$WORK/tcpdump.log")
    [[ -z $dropped || $dropped == 0 ]] || die "tcpdump dropped $dropped packets"
    local captured received
    captured=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured.*/\1/p' "$WORK/tcpdump.log")
    received=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter.*/\1/p' "$WORK/tcpdump.log")
    [[ -n $captured && $captured == "$received" ]] \
        || die "tcpdump wrote $captured packets but its filter saw $received (capture incomplete)"
    log "capture stopped: $(grep 'captured' "$WORK/tcpdump.log" || true)"
}

# ---------------------------------------------------------------------------
# results

# scn_finish: expectation JSON, move results into the captures dir, summary
scn_finish() {
    local ports
    ports=$(IFS=,; echo "${SERVER_PORTS[*]}")
    "$PY" "$SCN_DIR/ss2json.py" --scenario "$SCN_NAME" --server-ports "$ports" \
        -o "$WORK/expect.json" "$WORK/ss.txt"
    local base=$CAPTURES_DIR/$SCN_NAME
    cp "$WORK/cap.pcap" "$base.pcap.tmp" && mv -f "$base.pcap.tmp" "$base.pcap"
    cp "$WORK/ss.txt" "$base.ss.txt.tmp" && mv -f "$base.ss.txt.tmp" "$base.ss.txt"
    cp "$WORK/expect.json" "$base.expect.json.tmp" && mv -f "$base.expect.json.tmp" "$base.expect.json"
    local npk size
    npk=$(tcpdump -nr "$base.pcap" 2>/dev/null | wc -l)
    size=$(stat -c %s "$base.pcap")
    log "wrote $base.{pcap,ss.txt,expect.json}: $npk packets, $size bytes"
    log "expectation: $(tr -d ' \n' <"$base.expect.json")"
}

# leak_run LISTEN [CLIENT_OPTION...]: the close_wait_leak story up to the
# snapshot. A server on LISTEN answers one request per connection and never
# close()s; unless KEEPALIVE_MARKER=0 it sends one keep-alive probe SIT_S
# after each client FIN (packet time needs a packet: see close_wait_leak.sh).
# The client makes COUNT connections (CLIENT_OPTIONs go to its "leak"
# command), closes them and exits; then wait until all COUNT server sockets
# are in CLOSE_WAIT, and SIT_S s more for the probes.
leak_run() {
    local listen=$1 ka=() i n
    shift
    if [[ ${KEEPALIVE_MARKER:-1} == 1 ]]; then ka=(--keepalive-idle "$SIT_S" --keepalive-intvl 75); fi
    bg_start SERVER server "$PY" -u "$PEERS/server.py" --leak "${ka[@]}" \
        --listen "$listen" --ready "$WORK/server.ready"
    wait_file "$WORK/server.ready"
    in_ns CLIENT "$PY" -u "$PEERS/client.py" --size 300 --gap 0.2 leak "$@" --count "$COUNT" \
        >"$WORK/client.log" 2>&1
    log "client exited after closing $COUNT connections; server sits ${SIT_S}s"
    for ((i = 0; i < 50; i++)); do
        n=$(in_ns SERVER ss -tanH state close-wait | wc -l)
        ((n >= COUNT)) && break
        sleep 0.1
    done
    sleep "$SIT_S"
    sleep 0.5   # the keep-alive probes fire at SIT_S after each FIN
}

# fin_gap: packet time (s) from the (work) capture's last FIN, IPv4 or IPv6,
# to its last packet.
fin_gap() {
    local last_fin last_pkt
    last_fin=$(tcpdump -ttnr "$WORK/cap.pcap" 'tcp[tcpflags] & tcp-fin != 0 or (ip6 and ip6[53] & 1 != 0)' \
        2>/dev/null | tail -1 | cut -d' ' -f1)
    last_pkt=$(tcpdump -ttnr "$WORK/cap.pcap" 2>/dev/null | tail -1 | cut -d' ' -f1)
    awk -v a="$last_fin" -v b="$last_pkt" 'BEGIN{printf "%.3f", b - a}'
}

# pcap_count FILTER...: number of packets of the (work) capture matching a tcpdump filter
pcap_count() {
    tcpdump -nr "$WORK/cap.pcap" "$@" 2>/dev/null | wc -l
}
