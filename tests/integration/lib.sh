# Shared helpers of the integration tests (sourced). Each test gets its own
# temp dir and a cleanup trap that kills everything it started.
set -u

T=$(mktemp -d /tmp/wdsmc-it.XXXXXX)
PIDS=""

cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    sleep 0.2
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

# A free UDP port in 20000-59999 (nothing bound to it right now).
free_port() {
    while :; do
        p=$((20000 + RANDOM % 40000))
        ss -uln 2>/dev/null | grep -q ":$p " || { echo "$p"; return; }
    done
}

# Skip unless multicast on loopback works (join a group with 127.0.0.1).
need_loopback_multicast() {
    ip link show lo 2>/dev/null | grep -q UP || skip "loopback is down"
}

# start_server ADDRESS PORT NS=FILE...: runs the test server, waits for ready.
start_server() {
    "$SERVE" "$@" > "$T/serve.out" 2> "$T/serve.err" &
    SERVER_PID=$!
    PIDS="$PIDS $SERVER_PID"
    for _ in $(seq 50); do
        grep -q ready "$T/serve.out" 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$T/serve.err" >&2; fail "server died"; }
        sleep 0.1
    done
    fail "server not ready"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
