# Shared helpers of the network fault tests (sourced after lib.sh's
# variables are set: SERVE, WDSGET). Each test builds its own topology of
# network namespaces -- a hub namespace holding a bridge, and one namespace
# per node joined to it by a veth pair -- with every address in 10.77.0.0/24
# inside those namespaces; the root namespace is never touched. The trap
# kills every process left in the namespaces, then deletes them (their nft
# tables go with them).
#
#   server  10.77.0.1       r1..r3  10.77.0.11..13     attacker  10.77.0.99
#
# Skips (77) only when namespaces, veth, bridges or nftables are unavailable.
set -u

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FX="wf$$"
HUB="$FX-hub"
NODES=""
SRV_IP=10.77.0.1
MTU=${FAULT_MTU:-1500}
PORT=5041 # MS-WDSMSI port of the server, inside its own namespace

fault_cleanup() {
    local ns
    exec 2> /dev/null # no "Killed" job notices from the teardown
    for ns in $NODES $HUB; do
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    done
    for ns in $NODES $HUB; do
        ip netns del "$ns" 2>/dev/null
    done
    cleanup
}
trap fault_cleanup EXIT

# ns_of NODE: the namespace name of a node (s, r1, r2, r3, x).
ns_of() { echo "$FX-$1"; }
# on NODE CMD...: run CMD in NODE's network namespace (only the network
# namespace: mounts stay shared, unlike `ip netns exec`).
on() {
    local n=$1
    shift
    nsenter --net=/run/netns/"$FX-$n" "$@"
}

need_netns() {
    [ "$(id -u)" = 0 ] || skip "needs root"
    command -v ip > /dev/null || skip "iproute2 missing"
    command -v nft > /dev/null || skip "nftables missing"
    command -v ethtool > /dev/null || skip "ethtool missing"
    command -v nsenter > /dev/null || skip "nsenter missing"
    ip netns add "$HUB" 2> /dev/null || skip "cannot create a network namespace"
    ip -n "$HUB" link add br0 type bridge 2> /dev/null || skip "no bridge support"
    # No IGMP querier here: without snooping the bridge floods multicast.
    ip -n "$HUB" link set br0 type bridge mcast_snooping 0
    ip -n "$HUB" link set br0 up
    ip -n "$HUB" link set lo up
    ip netns exec "$HUB" nft add table netdev probe 2> /dev/null ||
        skip "nftables unusable (no nf_tables netdev family)"
    ip netns exec "$HUB" nft delete table netdev probe
}

# add_node NODE ADDR: a namespace with eth0 = ADDR/24 on the bridge, lo up,
# and multicast routed out of eth0.
add_node() {
    local n=$1 addr=$2 ns="$FX-$1"
    ip netns add "$ns" || fail "ip netns add $ns"
    NODES="$NODES $ns"
    ip -n "$HUB" link add "v-$n" type veth peer name eth0 netns "$ns" ||
        skip "no veth support"
    # Ethernet's 1500-byte MTU by default, as on a real deployment LAN: the
    # server sizes its blocks to fit one datagram (doc/decisions.md 59), so
    # nothing is fragmented. (With 8 KiB blocks every datagram would leave as
    # six IP fragments, and under loss the receiver's reassembly memory fills
    # with incomplete ones until every fragment is dropped.) FAULT_MTU=9000
    # tries jumbo frames.
    ip -n "$HUB" link set "v-$n" mtu "$MTU"
    ip -n "$ns" link set eth0 mtu "$MTU"
    ip -n "$HUB" link set "v-$n" master br0 up
    # A real NIC puts single datagrams on the wire, and where it cannot cut
    # the server's UDP GSO batches (no USO) the kernel does it before the
    # driver. A veth would carry a batch whole to the receiver's socket, and
    # a loss rule would drop 64 KiB at a time: cut them at the node's link.
    on "$n" ethtool -K eth0 tx-udp-segmentation off > /dev/null ||
        fail "ethtool -K eth0 tx-udp-segmentation off in $ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add 224.0.0.0/4 dev eth0
}

# topology: server and three receivers.
topology() {
    need_netns
    add_node s "$SRV_IP"
    add_node r1 10.77.0.11
    add_node r2 10.77.0.12
    add_node r3 10.77.0.13
}

rip() { case $1 in r1) echo 10.77.0.11 ;; r2) echo 10.77.0.12 ;; r3) echo 10.77.0.13 ;; esac; }

# start_fserver PORT NS=FILE...: the test server in namespace s (TTL 1, so
# multicast crosses the veths), waits for "ready". Env as for serve.
# Appends to $T/serve.err so a restarted server keeps the earlier log.
start_fserver() {
    # exec, so that $! is the server itself (nsenter does not fork for a
    # network namespace) and SIGKILL reaches it.
    (SERVE_TTL=1 exec nsenter --net=/run/netns/"$FX-s" "$SERVE" "$SRV_IP" "$@" \
        > "$T/serve.out" 2>> "$T/serve.err") &
    SERVER_PID=$!
    PIDS="$PIDS $SERVER_PID"
    for _ in $(seq 50); do
        grep -q ready "$T/serve.out" 2> /dev/null && return 0
        kill -0 "$SERVER_PID" 2> /dev/null || { cat "$T/serve.err" >&2; fail "server died"; }
        sleep 0.1
    done
    fail "server not ready"
}

# start_get NODE NAME TIMEOUT_S: wdsget in NODE writing $T/NAME.bin (stderr
# $T/NAME.err); the pid (wdsget itself) goes to GET_PID. With GET_STDOUT=1
# it writes to standard output (-o -, blocks put in order in memory) and
# the shell puts that in $T/NAME.bin.
start_get() {
    local n=$1 name=$2 to=$3 out="$T/$2.bin" stdout=/dev/null
    [ "${GET_STDOUT:-0}" = 1 ] && out=- stdout="$T/$2.bin"
    (exec nsenter --net=/run/netns/"$FX-$n" "$WDSGET" -q -s "$SRV_IP:$PORT" -i "$(rip "$n")" \
        -t "$to" -n "$name" -o "$out" Images image.bin 2> "$T/$name.err" > "$stdout") &
    GET_PID=$!
    PIDS="$PIDS $GET_PID"
}

# wait_get PID NAME: the wdsget must exit 0 and its output match the source.
wait_get() {
    wait "$1" || { cat "$T/$2.err" >&2; fail "$2: wdsget exited non-zero"; }
    [ "$(sha "$T/$2.bin")" = "$WANT" ] || fail "$2: SHA-256 differs from the source"
}

# loss NODE PERCENT: drop PERCENT% of the UDP datagrams arriving at NODE's
# eth0 (ingress, netdev family), counted.
loss() {
    on "$1" nft -f - << EOF || fail "nft loss rule on $1"
table netdev loss {
    chain in {
        type filter hook ingress device eth0 priority 0;
        ${LOSS_MATCH:-meta l4proto udp} numgen random mod 100 < $2 counter drop
    }
}
EOF
}

# dropped NODE: packets the loss rule of NODE dropped.
dropped() {
    on "$1" nft list table netdev loss | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}

# make_image MiB: $T/image.bin of random bytes; WANT its SHA-256.
make_image() {
    head -c $(($1 << 20)) /dev/urandom > "$T/image.bin"
    WANT=$(sha "$T/image.bin")
}

# progress NAME: bytes written so far to $T/NAME.bin (allocated, since
# -o FILE is sparse until complete).
progress() { du -B1 "$T/$1.bin" 2> /dev/null | cut -f1; }

# wait_progress NODE MIB: wait up to 10 s for NODE's output to hold MIB MiB;
# fail otherwise (so a fault is injected mid-transfer, not before).
wait_progress() {
    for _ in $(seq 100); do
        [ "$(progress "$1")" -ge $(($2 << 20)) ] 2> /dev/null && return 0
        sleep 0.1
    done
    fail "$1 received under $2 MiB in 10 s"
}

elapsed() { echo $((SECONDS - START)); }
START=$SECONDS
