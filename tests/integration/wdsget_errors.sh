#!/bin/bash
# wdsget's failure behaviour: every failure exits non-zero with a message that
# names the cause; SIGINT leaves the session (the server sees the LEAVE) and
# exits 130.
# Usage: wdsget_errors.sh SERVE WDSGET
SERVE=$1
WDSGET=$2
. "$(dirname "$0")/lib.sh"
need_loopback_multicast

head -c $((32 << 20)) /dev/urandom > "$T/image.bin"
port=$(free_port)
SERVE_DEBUG=1 SERVE_MAX_RATE=4000000 start_server 127.0.0.1 "$port" "Images=$T/image.bin"
get() { timeout 60 "$WDSGET" -q -s 127.0.0.1:"$port" -i 127.0.0.1 "$@"; }

# Unknown content and unknown namespace: "no such content".
get -o "$T/x" Images nothere.bin 2> "$T/err1" && fail "unknown content: exit 0"
grep -q "no such content" "$T/err1" || { cat "$T/err1"; fail "unknown content: message"; }
get -o "$T/x" Nowhere image.bin 2> "$T/err2" && fail "unknown namespace: exit 0"
grep -q "no such content" "$T/err2" || { cat "$T/err2"; fail "unknown namespace: message"; }

# Usage errors exit 2.
"$WDSGET" -s 127.0.0.1:"$port" onlyone 2> /dev/null; [ $? = 2 ] || fail "usage: exit status"
"$WDSGET" -s 'bad:server:x' Images image.bin 2> /dev/null; [ $? = 2 ] || fail "bad server: exit"

# SIGINT mid-transfer (the rate cap keeps it running): exit 130, LEAVE seen.
# (started directly, not through get(), so that $! is wdsget itself)
"$WDSGET" -q -s 127.0.0.1:"$port" -i 127.0.0.1 -o "$T/y" Images image.bin 2> "$T/err3" & g=$!
PIDS="$PIDS $g"
sleep 2
kill -INT $g
wait $g; st=$?
[ $st = 130 ] || { cat "$T/err3"; fail "SIGINT: exit $st, want 130"; }
grep -q "interrupted" "$T/err3" || fail "SIGINT: message"
sleep 0.5
grep -q "left: cancel" "$T/serve.err" || { cat "$T/serve.err"; fail "server saw no LEAVE(cancelled)"; }

# Server killed mid-transfer: the inactivity timeout names the server.
"$WDSGET" -q -s 127.0.0.1:"$port" -i 127.0.0.1 -t 2 -o "$T/z" Images image.bin 2> "$T/err4" &
g=$!
PIDS="$PIDS $g"
sleep 1.5
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null
wait $g && fail "server gone: exit 0"
grep -q "timed out: no packets from 127.0.0.1:$port for 2 s" "$T/err4" ||
    { cat "$T/err4"; fail "server gone: message"; }
echo "ok: no such content, usage, SIGINT 130 + LEAVE, timeout message"
