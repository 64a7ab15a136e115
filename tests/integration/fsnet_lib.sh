# shellcheck shell=bash
# Shared helpers of the wdsfs REAL-network integration tests (sourced): a
# local server (tests/integration/serve or wdsmcd) on loopback multicast
# (127.0.0.1, TTL 0) and a real FUSE mount of wdsfs (-o interface=127.0.0.1),
# each test in its own temp dir. The trap always unmounts (fusermount3 -u,
# then -uz) and kills what the test started; a watchdog lazily unmounts and
# ends the test after FSNET_LIMIT seconds, so nothing blocks for ever.
# Skips (77) only without /dev/fuse.
#
# Needs: WDSFS, SERVE, RANDREAD (and WDSMCD, WDSCTL for the wdsmcd tests).
set -u

[ -c /dev/fuse ] || { echo "SKIP: /dev/fuse missing"; exit 77; }
WDSFS=${WDSFS:?set WDSFS to the wdsfs binary}
SERVE=${SERVE:?set SERVE to the serve binary}
RANDREAD=${RANDREAD:?set RANDREAD to the randread binary}
WDSMCD=${WDSMCD:-}
WDSCTL=${WDSCTL:-}

T=$(mktemp -d "/tmp/${0##*/}.XXXXXX")
SRC=$T/src
MNT=$T/mnt
CACHE=$T/cache
mkdir -p "$SRC" "$MNT" "$CACHE"
PIDS=""        # readers and helpers: killed first
DPID=""        # the wdsfs daemon (-f, background)
SERVER_PID=""  # serve or wdsmcd
WATCHDOG=""
NS='WDS:Net/install.wim/1'

cleanup() {
    local status=$?
    [ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    if mountpoint -q "$MNT" 2>/dev/null || grep -q " $MNT " /proc/mounts; then
        fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null ||
            umount -l "$MNT" 2>/dev/null
    fi
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
    sleep 0.2
    for p in $PIDS $DPID $SERVER_PID; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ "$status" != 0 ] && [ "$status" != 77 ]; then
        for f in "$T"/*.log; do
            [ -s "$f" ] && { echo "--- $f (last 25 lines)"; tail -n 25 "$f"; }
        done >&2
    fi
    [ -n "${KEEP:-}" ] || rm -rf "$T"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Watchdog: a lazy unmount makes any reader stuck in the mount fail
# (ENOTCONN), then the test shell is ended (its EXIT trap cleans up).
FSNET_LIMIT=${FSNET_LIMIT:-100}
( sleep "$FSNET_LIMIT" </dev/null >/dev/null 2>&1; echo "FAIL: watchdog: test still running after $FSNET_LIMIT s" >&2
  fusermount3 -u -z "$MNT" 2>/dev/null; kill -TERM $$ ) &
WATCHDOG=$!

fail() { echo "FAIL: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# A free UDP port, bound by nobody right now.
free_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)

# mkimage NAME BYTES: random content in $SRC.
mkimage() { head -c "$2" /dev/urandom > "$SRC/$1"; }

# start_serve NS=FILE...: the minimal server on 127.0.0.1:$PORT (env
# SERVE_MAX_RATE as set by the caller); log in $T/serve.log.
start_serve() {
    SERVE_DEBUG=1 "$SERVE" 127.0.0.1 "$PORT" "$@" > "$T/serve.out" 2>> "$T/serve.log" &
    SERVER_PID=$!
    for _ in $(seq 100); do
        grep -q ready "$T/serve.out" 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || fail "serve exited at startup"
        sleep 0.05
    done
    fail "serve not ready after 5 s"
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill "$SERVER_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}

# wdsmcd: random session pool (ports and groups), control socket in $T.
POOL_PORT=$((20000 + RANDOM % 1500 * 8))
GROUP_A=$((RANDOM % 250 + 1))
GROUP_B=$((RANDOM % 30 * 8 + 1))
CTL=$T/control.sock

# start_wdsmcd MAX_RATE: serve every file of $SRC as namespace $NS.
start_wdsmcd() {
    [ -n "$WDSMCD" ] && [ -n "$WDSCTL" ] || fail "set WDSMCD and WDSCTL"
    cat > "$T/wdsmcd.conf" <<CONF
[server]
address = 127.0.0.1
interface = 127.0.0.1
msi_port = $PORT
multicast_range = 239.255.$GROUP_A.$GROUP_B-239.255.$GROUP_A.$((GROUP_B + 7))
port_range = $POOL_PORT-$((POOL_PORT + 7))
control_socket = $CTL
log_level = debug

[namespace:$NS]
path = $SRC
max_rate = $1
ttl = 0
CONF
    "$WDSMCD" --config "$T/wdsmcd.conf" > "$T/wdsmcd.out" 2>> "$T/wdsmcd.log" &
    SERVER_PID=$!
    for _ in $(seq 100); do
        "$WDSCTL" -S "$CTL" sessions > /dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || fail "wdsmcd exited at startup"
        sleep 0.05
    done
    fail "wdsmcd's control socket did not answer within 5 s"
}

# sessions_json PYTHON_EXPR: EXPR with d = wdsctl sessions --json.
sessions_json() {
    "$WDSCTL" -S "$CTL" --json sessions |
        python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

# mount_fs ARGS...: wdsfs -f in the background (DPID), waits until mounted.
mount_fs() {
    "$WDSFS" "127.0.0.1:$PORT" "$MNT" -f -o "interface=127.0.0.1,cache=$CACHE" "$@" \
        >> "$T/daemon.log" 2>&1 &
    DPID=$!
    for _ in $(seq 200); do
        mounted && return 0
        kill -0 "$DPID" 2>/dev/null || { DPID=""; fail "wdsfs exited before mounting"; }
        sleep 0.05
    done
    fail "not mounted after 10 s"
}

# wait_pid PID SECONDS: wait for a background child; WAIT_STATUS is its
# exit status, or "timeout" (then it is killed).
wait_pid() {
    local deadline=$(( $(now_ms) + $2 * 1000 ))
    while kill -0 "$1" 2>/dev/null; do
        if [ "$(now_ms)" -gt "$deadline" ]; then
            kill -9 "$1" 2>/dev/null
            wait "$1" 2>/dev/null
            WAIT_STATUS=timeout
            return
        fi
        sleep 0.02
    done
    WAIT_STATUS=0
    wait "$1" || WAIT_STATUS=$?
}

. "$(dirname "${BASH_SOURCE[0]}")/mount_lib.sh"
