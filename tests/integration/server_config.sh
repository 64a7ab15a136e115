#!/bin/bash
# wdsmcd's configuration errors: a bad config file or option gives a message
# naming the file, line (or option) and problem, and exit status 2. Also:
# --check, the control socket's mode, and refusing a live control socket.
# Needs only wdsmcd and wdsctl (no multicast).
. "$(dirname "$0")/server_lib.sh"

mkdir "$T/images"
echo data >"$T/images/a.img"

# expect_fail STATUS PATTERN ARGS...: wdsmcd exits STATUS, stderr matches.
expect_fail() {
    local want=$1 pat=$2 st=0
    shift 2
    timeout 10 "$WDSMCD" "$@" >"$T/out.log" 2>"$T/err.log" || st=$?
    [ "$st" = "$want" ] || fail "wdsmcd $* exited $st (expected $want): $(cat "$T/err.log")"
    grep -Eq -- "$pat" "$T/err.log" || fail "wdsmcd $*: stderr lacks /$pat/: $(cat "$T/err.log")"
}

conf=$T/bad.conf
printf '[server]\nmsi_port = 5041\n\n[namespace:Images]\npath = %s\nblock_size = 100\n' \
    "$T/images" >"$conf"
expect_fail 2 "^wdsmcd: $conf:6: block_size '100': expected 512-65448 bytes$" --config "$conf"

printf '[server]\nmsi_port = 5041\nfrobnicate = yes\n' >"$conf"
expect_fail 2 "^wdsmcd: $conf:3: unknown key 'frobnicate' in \[server\]$" -c "$conf"

printf '[server]\nthis is not ini\n' >"$conf"
expect_fail 2 "^wdsmcd: $conf:2: syntax error" -c "$conf"

printf '[namespace:Images]\npath = %s/nonexistent\n' "$T" >"$conf"
expect_fail 2 "^wdsmcd: $conf:1: namespace 'Images': path '$T/nonexistent': No such file or directory$" \
    -c "$conf"

printf '[namespace:Images]\npath = %s\ncast = scheduled\nmin_clients = 201\n' "$T/images" >"$conf"
expect_fail 2 "^wdsmcd: $conf:4: min_clients '201': expected 1-200$" -c "$conf"

expect_fail 2 "^wdsmcd: $T/none.conf: No such file or directory$" -c "$T/none.conf"
expect_fail 2 "^wdsmcd: --port '99999': not a port number" --port 99999 -n "I=$T/images"
expect_fail 2 "^wdsmcd: --namespace 'Images': expected NAME=PATH" --namespace Images
expect_fail 2 "^wdsmcd: unknown option '--bogus'" --bogus
expect_fail 2 "^wdsmcd: no namespace to serve" --port 5041
expect_fail 2 "^wdsmcd: --namespace: namespace 'I': path '/nonexistent': No such file" \
    -n I=/nonexistent

# --check: valid configuration, listed, exit 0.
write_config "$T/good.conf" <<CONF
send_buffer = 1M
[namespace:Images]
path = $T/images
CONF
"$WDSMCD" --check -c "$T/good.conf" >"$T/check.log" 2>&1 || fail "--check: $(cat "$T/check.log")"
grep -q "namespace 'Images'" "$T/check.log" && grep -q "a.img" "$T/check.log" &&
    grep -q "send buffer 1048576 bytes per session" "$T/check.log" ||
    fail "--check output: $(cat "$T/check.log")"
[ ! -e "$CTL" ] || fail "--check created the control socket"

# A running daemon: socket mode 0600; a second daemon on the same control
# socket is refused (exit 1) and leaves the first one working.
start_daemon -c "$T/good.conf"
[ "$(stat -c %a "$CTL")" = 600 ] || fail "control socket mode $(stat -c %a "$CTL")"
other_port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_fail 1 "$CTL: another process is listening on it \(is wdsmcd already running\?\)" \
    -c "$T/good.conf" --port "$other_port"
"$WDSCTL" namespaces | grep -q "Images" || fail "first daemon no longer answers"

# SIGTERM with no sessions: exit 0, socket removed.
kill -TERM "$DAEMON_PID"
wait_status "$DAEMON_PID" 10; st=$WAIT_STATUS
DAEMON_PID=
[ "$st" = 0 ] || fail "wdsmcd exited $st after SIGTERM"
[ ! -e "$CTL" ] || fail "control socket left behind"

# A stale socket (daemon killed) is replaced.
start_daemon -c "$T/good.conf"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
DAEMON_PID=
[ -S "$CTL" ] || fail "expected a stale socket after SIGKILL"
start_daemon -c "$T/good.conf"
echo PASS
