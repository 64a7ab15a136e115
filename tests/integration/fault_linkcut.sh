#!/bin/bash
# A receiver's link cut for 10 s mid-transfer, then restored: in a namespace
# topology (server + three receivers on a bridge), r1's port on the bridge goes
# down at about a quarter of a rate-capped transfer and comes back 10 s
# later; r1 catches up and completes, and all three outputs are bit-exact.
# Usage: fault_linkcut.sh SERVE WDSGET
SERVE=$1
WDSGET=$2
. "$(dirname "$0")/fault_lib.sh"
topology

make_image 64
# 64 MiB at 4 MB/s: about 17 s, so the cut falls mid-transfer.
SERVE_DEBUG=1 SERVE_MAX_RATE=4000000 start_fserver "$PORT" "Images=$T/image.bin"

# The receivers' inactivity timeout (30 s) outlasts the cut.
start_get r1 r1 30; p1=$GET_PID
start_get r2 r2 30; p2=$GET_PID
start_get r3 r3 30; p3=$GET_PID

wait_progress r1 12
ip -n "$HUB" link set v-r1 down
cut_at=$(progress r1)
sleep 10
during=$(progress r1)
[ "$during" -le $((cut_at + (1 << 20))) ] || fail "r1 kept receiving with its link cut"
ip -n "$HUB" link set v-r1 up
echo "cut r1 at $cut_at bytes; restored at $(elapsed) s"

wait_get $p2 r2
wait_get $p3 r3
wait_get $p1 r1
echo "ok: r1's link cut for 10 s at $cut_at bytes; it caught up; all bit-exact in $(elapsed) s"
