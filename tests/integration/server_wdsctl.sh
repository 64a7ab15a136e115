#!/bin/bash
# wdsctl against a fake wdsmcd control server (python3): argument parsing,
# exit statuses, table and JSON output, terminate's wait, watch frames.
# Needs only wdsctl: WDSCTL=path/to/wdsctl.
set -euo pipefail

WDSCTL=${WDSCTL:?set WDSCTL to the wdsctl binary}
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }

tmp=$(mktemp -d /tmp/wdsctl-test.XXXXXX)
fake_pid=
cleanup() {
    if [ -n "$fake_pid" ]; then
        kill "$fake_pid" 2>/dev/null || true
        wait "$fake_pid" 2>/dev/null || true
    fi
    [ -n "${KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

sock=$tmp/control.sock
export WDSCTL_SOCKET=$sock

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect STATUS PATTERN cmd...: run, check the exit status and that
# stdout+stderr matches the extended regex PATTERN.
expect() {
    local want=$1 pat=$2 got=0
    shift 2
    timeout 20 "$@" >"$tmp/out" 2>&1 || got=$?
    [ "$got" = "$want" ] || { cat "$tmp/out" >&2; fail "'$*' exited $got, expected $want"; }
    grep -Eq -- "$pat" "$tmp/out" || { cat "$tmp/out" >&2; fail "'$*' output lacks /$pat/"; }
}

# --- usage errors: exit 2, before any connection --------------------------
expect 2 'usage: wdsctl' "$WDSCTL"
expect 2 "unknown command 'frobnicate'" "$WDSCTL" frobnicate
expect 2 "'clients' takes 1 argument, not 0" "$WDSCTL" clients
expect 2 "'kick' takes 2 arguments, not 1" "$WDSCTL" kick 1
expect 2 "bad session id 'abc'" "$WDSCTL" clients abc
expect 2 "bad client id '3x'" "$WDSCTL" kick 1 3x
expect 2 "bad --reason 'nice'" "$WDSCTL" kick 1 2 --reason nice
expect 2 "--reason goes with 'kick'" "$WDSCTL" sessions --reason fail
expect 2 "unknown option '--frob'" "$WDSCTL" --frob sessions
expect 2 "bad --count '0'" "$WDSCTL" watch --count 0
expect 0 'Commands:' "$WDSCTL" --help

# --- no daemon: exit 1 naming the socket -----------------------------------
expect 1 "cannot connect to $sock: No such file or directory \(is wdsmcd running" \
    "$WDSCTL" sessions

# --- the fake daemon ------------------------------------------------------
cat >"$tmp/fake.py" <<'EOF'
import json, os, socket, sys, threading
path, log = sys.argv[1], sys.argv[2]
polls = {"n": 0}
SESS = [{"id": 7, "namespace": "Images", "content": "disk.img", "state": "sending",
         "group": "239.192.48.1", "port": 64000, "clients": 2, "content_size": 5000000000,
         "block_size": 8192, "bytes_sent": 4000000000, "rate": 157286400.0,
         "master_client": 11, "lower_stream": False}]
CLIENTS = [{"id": 11, "name": "pc-1", "address": "10.0.0.1:5000", "progress": 80,
            "time_in_session": 65, "rtt_ms": 3, "loss_rate": 0.0125, "master": True,
            "kicked": False},
           {"id": 12, "name": "pc-2", "address": "10.0.0.2:5000", "progress": 40,
            "time_in_session": 3700, "rtt_ms": 12, "loss_rate": 0.0, "master": False,
            "kicked": False}]
def answer(req):
    cmd = req.get("cmd")
    if cmd == "sessions":
        if polls["n"] > 0:          # terminate was asked: gone after 2 polls
            polls["n"] -= 1
            if polls["n"] == 0:
                SESS.clear()
        return {"ok": True, "sessions": SESS}
    if cmd == "clients":
        if req.get("session") != 7 or not SESS:
            return {"ok": False, "error": "no-such-session",
                    "message": "no session %s" % req.get("session")}
        return {"ok": True, "session": 7, "clients": CLIENTS}
    if cmd == "kick":
        if req.get("client") not in (11, 12):
            return {"ok": False, "error": "no-such-client",
                    "message": "no client %s in session 7" % req.get("client")}
        return {"ok": True}
    if cmd == "terminate":
        polls["n"] = 3
        return {"ok": True}
    if cmd == "start":
        return {"ok": True}
    if cmd == "namespaces":
        return {"ok": True, "namespaces": [{"name": "Images", "cast": "auto", "min_clients": 0,
                "block_size": 8192, "slow_client_policy": "none",
                "contents": ["disk.img", "x.wim"]}]}
    return {"ok": False, "error": "unknown-command", "message": "unknown command"}
def serve(conn):
    f = conn.makefile("rwb")
    for line in f:
        req = json.loads(line)
        with open(log, "a") as lf:
            lf.write(json.dumps(req, sort_keys=True) + "\n")
        f.write((json.dumps(answer(req)) + "\n").encode())
        f.flush()
    conn.close()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(8)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
python3 "$tmp/fake.py" "$sock" "$tmp/requests.log" &
fake_pid=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || fail "fake server did not start"

# sessions: a table with the columns the issue asks for.
expect 0 '^ID +NAMESPACE +CONTENT +STATE +CLIENTS +SENT +RATE +GROUP' "$WDSCTL" sessions
grep -Eq '^ 7 +Images +disk\.img +sending +2 +3\.7 GiB +150\.0 MiB/s +239\.192\.48\.1:64000' \
    "$tmp/out" || { cat "$tmp/out"; fail "sessions row"; }

# --json: the daemon's object, one line, parseable.
expect 0 '"sessions"' "$WDSCTL" --json sessions
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["sessions"][0]["id"]==7' \
    "$tmp/out" || fail "sessions --json is not the daemon's JSON"
expect 0 '"clients"' "$WDSCTL" clients 7 --json

# clients: id, name, address, progress, time, RTT, loss, master.
expect 0 '^ID +NAME +ADDRESS +PROGRESS +TIME +RTT +LOSS +MASTER' "$WDSCTL" -S "$sock" clients 7
grep -Eq '^11 +pc-1 +10\.0\.0\.1:5000 +80% +1:05 +3 ms +1\.25% +yes$' "$tmp/out" ||
    { cat "$tmp/out"; fail "clients row 11"; }
grep -Eq '^12 +pc-2 +10\.0\.0\.2:5000 +40% +1:01:40 +12 ms +0\.00% *$' "$tmp/out" ||
    { cat "$tmp/out"; fail "clients row 12"; }

# Unknown session or client: a clear error, exit 1; --json prints the error.
expect 1 '^wdsctl: no session 99$' "$WDSCTL" clients 99
expect 1 'no-such-session' "$WDSCTL" --json clients 99
expect 1 '^wdsctl: no client 13 in session 7$' "$WDSCTL" kick 7 13

# kick sends the reason (fail by default).
expect 0 'client 12 of session 7 kicked \(fallback\)' "$WDSCTL" kick 7 12 --reason fallback
expect 0 'kicked \(fail\)' "$WDSCTL" kick 7 11
grep -q '"cmd": "kick", "reason": "fallback", "session": 7' "$tmp/requests.log" ||
    grep -q '"client": 12, "cmd": "kick", "reason": "fallback", "session": 7' \
        "$tmp/requests.log" || fail "kick request: $(cat "$tmp/requests.log")"

expect 0 "namespace 'Lab' started" "$WDSCTL" start Lab
expect 0 'Images +auto +8192 +none +disk\.img x\.wim' "$WDSCTL" namespaces

# watch without a terminal: N frames, one after the other, no escapes.
expect 0 'session 7 +Images/disk\.img +sending' "$WDSCTL" watch --count 2 --interval 0.1
[ "$(grep -c '^wdsmcd: 1 session' "$tmp/out")" = 2 ] || fail "watch printed not 2 frames"
grep -Eq '^  \[#{24}\.{6}\]  80% +pc-1 ' "$tmp/out" || { cat "$tmp/out"; fail "watch bar"; }
if grep -q $'\033' "$tmp/out"; then fail "watch wrote escapes to a non-terminal"; fi

# terminate waits until the session is gone from 'sessions'.
expect 0 '^session 7 terminated$' "$WDSCTL" terminate 7
expect 0 '^no sessions$' "$WDSCTL" sessions

echo "PASS"
