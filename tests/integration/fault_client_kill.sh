#!/bin/bash
# A receiver killed with SIGKILL mid-transfer: the other two complete
# bit-exact without waiting for it, and the server drops the dead client
# after its dead-client timeout (MS-WDSMT ClientDeadTimeout, 60 s by default;
# 12 s here so the test stays short; the survivors still finish well before).
# Usage: fault_client_kill.sh SERVE WDSGET
SERVE=$1
WDSGET=$2
. "$(dirname "$0")/fault_lib.sh"
topology

make_image 64
# 64 MiB at 8 MB/s: about 8 s.
SERVE_DEBUG=1 SERVE_DEAD_TIMEOUT_MS=12000 SERVE_MAX_RATE=8000000 start_fserver "$PORT" "Images=$T/image.bin"

start_get r1 r1 30; p1=$GET_PID
start_get r2 r2 30; p2=$GET_PID
start_get r3 r3 30; p3=$GET_PID

wait_progress r1 8
id=$(sed -n 's/.*client \([0-9a-f]*\) (10\.77\.0\.11:.*joined.*/\1/p' "$T/serve.err" | head -1)
[ -n "$id" ] || { cat "$T/serve.err"; fail "no join of r1 in the server log"; }
kill -9 "$p1"
wait "$p1" 2> /dev/null
killed_at=$SECONDS
echo "killed r1 (client $id) at $(progress r1) bytes, $(elapsed) s"

wait_get $p2 r2
wait_get $p3 r3
took=$((SECONDS - killed_at))
# Unaffected: they finish without waiting for the dead client to be dropped.
[ $took -lt 12 ] || fail "r2 and r3 took $took s after the kill: held back by the dead client"
echo "r2, r3 complete and bit-exact $took s after the kill"

for _ in $(seq 40); do
    grep -q "client $id left: dead" "$T/serve.err" && break
    sleep 1
done
grep -q "client $id left: dead" "$T/serve.err" ||
    { cat "$T/serve.err"; fail "the server never dropped the dead client $id"; }
grep -q "client $id left: \(complete\|cancel\)" "$T/serve.err" && fail "dead client left twice?"
echo "ok: r1 killed; r2, r3 bit-exact; server dropped $id as dead $((SECONDS - killed_at)) s after the kill; total $(elapsed) s"
