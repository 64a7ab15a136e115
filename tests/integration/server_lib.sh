# shellcheck shell=bash
# Shared helpers of the tests/integration/server_*.sh tests: sourced, not run.
# Each test gets its own temp dir, random ports and multicast groups (so tests
# may run in parallel), and a trap that kills every process it started.
#
# Needs: WDSMCD, WDSCTL, WDSGET (paths of the binaries), python3, sha256sum.

set -euo pipefail

WDSMCD=${WDSMCD:?set WDSMCD to the wdsmcd binary}
WDSCTL=${WDSCTL:?set WDSCTL to the wdsctl binary}
WDSGET=${WDSGET:-}

T=$(mktemp -d "/tmp/${0##*/}.XXXXXX")
PIDS=()
DAEMON_PID=

cleanup() {
    local status=$? i
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    # Stop the daemon the way systemd does, so that a sanitizer build checks
    # its shutdown and leaks; kill it if clients' sessions hold it up.
    if [ -n "$DAEMON_PID" ] && kill -TERM "$DAEMON_PID" 2>/dev/null; then
        for i in $(seq 60); do
            kill -0 "$DAEMON_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -KILL "$DAEMON_PID" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    if grep -Eq 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/wdsmcd.log" 2>/dev/null; then
        echo "FAIL: sanitizer report in wdsmcd's log" >&2
        [ "$status" = 0 ] || [ "$status" = 77 ] && status=1
    fi
    if [ "$status" != 0 ] && [ "$status" != 77 ]; then
        for f in "$T"/*.log "$T"/*.err; do
            [ -s "$f" ] && { echo "--- $f"; tail -n 40 "$f"; }
        done >&2
    fi
    [ -n "${KEEP:-}" ] || rm -rf "$T"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

skip() {
    echo "SKIP: $*"
    exit 77
}

now_ms() { date +%s%3N; }

command -v python3 >/dev/null || skip "python3 not installed"

# Random, currently free resources. MSI port: an ephemeral UDP port the
# kernel hands out; the session pool: 8 ports below the ephemeral range and
# 8 groups of 239.255.x.y, both random, so parallel tests do not meet.
MSI_PORT=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
POOL_PORT=$((20000 + RANDOM % 1500 * 8))
GROUP_A=$((RANDOM % 250 + 1))
GROUP_B=$((RANDOM % 30 * 8 + 1))
GROUP_FIRST=239.255.$GROUP_A.$GROUP_B
GROUP_LAST=239.255.$GROUP_A.$((GROUP_B + 7))
CTL=$T/control.sock
export WDSCTL_SOCKET=$CTL

# Exit 77 unless a datagram sent to a multicast group over loopback, with
# the interface given explicitly, comes back: then the host cannot run these
# tests at all (no multicast on lo, or a firewall in the way).
check_multicast() {
    python3 - "$GROUP_FIRST" "$POOL_PORT" <<'EOF' || skip "multicast over loopback does not work here"
import socket, sys
g, port = sys.argv[1], int(sys.argv[2])
lo = socket.inet_aton("127.0.0.1")
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
r.bind((g, port))
r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(g) + lo)
r.settimeout(2)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, lo)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
s.sendto(b"probe", (g, port))
sys.exit(0 if r.recv(16) == b"probe" else 1)
EOF
}

# make_file PATH MIB: random content.
make_file() {
    head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"
}

# write_config PATH, then namespace sections on stdin are appended.
write_config() {
    {
        echo "[server]"
        echo "address = 127.0.0.1"
        echo "interface = 127.0.0.1"
        echo "msi_port = $MSI_PORT"
        echo "multicast_range = $GROUP_FIRST-$GROUP_LAST"
        echo "port_range = $POOL_PORT-$((POOL_PORT + 7))"
        echo "control_socket = $CTL"
        echo "log_level = debug"
        cat
    } >"$1"
}

# start_daemon ARGS...: run wdsmcd (log in $T/wdsmcd.log) and wait until
# its control socket answers.
start_daemon() {
    "$WDSMCD" "$@" >"$T/wdsmcd.out" 2>"$T/wdsmcd.log" &
    DAEMON_PID=$!
    local i
    for i in $(seq 100); do
        if "$WDSCTL" sessions >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$DAEMON_PID" 2>/dev/null || fail "wdsmcd exited at startup: $(cat "$T/wdsmcd.log")"
        sleep 0.1
    done
    fail "wdsmcd's control socket did not answer within 10 s"
}

# client NAME NAMESPACE CONTENT [wdsget options...]: start wdsget in the
# background writing $T/NAME.out, stderr in $T/NAME.err; its pid is
# recorded as PID_<NAME>.
client() {
    local name=$1 ns=$2 content=$3
    shift 3
    [ -n "$WDSGET" ] || fail "WDSGET not set"
    "$WDSGET" -s "127.0.0.1:$MSI_PORT" -i 127.0.0.1 -n "$name" -q -t 15 -o "$T/$name.out" \
        "$@" "$ns" "$content" 2>"$T/$name.err" &
    PIDS+=($!)
    printf -v "PID_$name" '%s' "$!"
}

# wait_status PID SECONDS: wait for a background process of this shell and
# set WAIT_STATUS to its exit status, or to "timeout" (and kill it) after
# SECONDS. Not in a $(...) subshell: only this shell can reap its children.
wait_status() {
    local pid=$1 deadline=$(($(now_ms) + $2 * 1000))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$(now_ms)" -gt "$deadline" ]; then
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
            WAIT_STATUS=timeout
            return
        fi
        sleep 0.05
    done
    WAIT_STATUS=0
    wait "$pid" || WAIT_STATUS=$?
}

# json_query PYTHON_EXPR WDSCTL_ARGS...: evaluate EXPR with `d` bound to
# wdsctl's --json output.
json_query() {
    local expr=$1
    shift
    "$WDSCTL" --json "$@" | python3 -c "import json,sys; d=json.load(sys.stdin); print($expr)"
}

# wait_until SECONDS COMMAND...: poll COMMAND every 50 ms until it succeeds.
wait_until() {
    local deadline=$(($(now_ms) + $1 * 1000))
    shift
    until "$@"; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.05
    done
}

# The id of the one session of CONTENT (empty when none).
session_of() {
    json_query "' '.join(str(s['id']) for s in d['sessions'] if s['content'] == '$1')" sessions
}

session_clients() {
    json_query "sum(s['clients'] for s in d['sessions'] if s['id'] == $1)" sessions
}

same_file() {
    [ "$(sha256sum <"$1" | cut -d' ' -f1)" = "$(sha256sum <"$2" | cut -d' ' -f1)" ]
}

# Predicates for wait_until.
has_session() { [ -n "$(session_of "$1")" ]; }
session_has_clients() { [ "$(session_clients "$1")" = "$2" ]; }
session_gone() {
    [ "$(json_query "len([s for s in d['sessions'] if s['id'] == $1])" sessions)" = 0 ]
}
session_sent() {
    json_query "[s['bytes_sent'] for s in d['sessions'] if s['id'] == $1] or [0]" sessions |
        python3 -c "import sys; sys.exit(0 if eval(sys.stdin.read())[0] > 0 else 1)"
}
