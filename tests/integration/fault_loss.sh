#!/bin/bash
# Per-receiver loss: in a namespace topology (server + three receivers on a
# bridge), receiver r1 loses 5% and r2 20% of the UDP datagrams arriving on
# its link (nftables, ingress); r3 is clean. All three complete bit-exact.
# r2 writes to standard output, so its blocks wait in memory for the ones
# lost before them.
# Usage: fault_loss.sh SERVE WDSGET
SERVE=$1
WDSGET=$2
. "$(dirname "$0")/fault_lib.sh"
topology

make_image 64
loss r1 5
loss r2 20
start_fserver "$PORT" "Images=$T/image.bin"

start_get r1 r1 30; p1=$GET_PID
GET_STDOUT=1 start_get r2 r2 30; p2=$GET_PID
start_get r3 r3 30; p3=$GET_PID
wait_get $p1 r1
wait_get $p2 r2
wait_get $p3 r3
d1=$(dropped r1)
d2=$(dropped r2)
[ "${d1:-0}" -gt 0 ] && [ "${d2:-0}" -gt 0 ] || fail "the loss rules dropped nothing ($d1, $d2)"
echo "ok: 5% loss (r1, $d1 dropped), 20% loss (r2, $d2 dropped), clean r3: all bit-exact in $(elapsed) s"
