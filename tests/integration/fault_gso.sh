#!/bin/bash
# UDP GSO both ways on a 1500-byte Ethernet link. With the default block size
# a datagram fits the MTU and the server's batches are cut at its link; a
# 5%-loss receiver still completes bit-exact. With 8 KiB blocks (configured
# past the MTU: every datagram leaves as IP fragments) the kernel refuses GSO;
# the server says so, falls back to one send per datagram, and the receiver
# completes bit-exact.
# Usage: fault_gso.sh SERVE WDSGET
SERVE=$1
WDSGET=$2
. "$(dirname "$0")/fault_lib.sh"
topology

make_image 32
loss r1 5
start_fserver "$PORT" "Images=$T/image.bin"
start_get r1 r1 30; p1=$GET_PID
start_get r3 r3 30; p3=$GET_PID
wait_get $p1 r1
wait_get $p3 r3
[ "$(dropped r1)" -gt 1000 ] ||
    fail "r1 lost $(dropped r1) packets: batches reached it whole, not cut into datagrams"
! grep -q "UDP GSO refused" "$T/serve.err" || { cat "$T/serve.err"; fail "GSO refused on a path that fits"; }
kill "$SERVER_PID"
wait "$SERVER_PID" 2> /dev/null
echo "default blocks: bit-exact, $(dropped r1) datagrams dropped at 5%, no fallback"

SERVE_BLOCK_SIZE=8192 start_fserver "$PORT" "Images=$T/image.bin"
start_get r3 r3b 30; p3=$GET_PID
wait_get $p3 r3b
grep -q "UDP GSO refused" "$T/serve.err" || { cat "$T/serve.err"; fail "no GSO fallback logged"; }
echo "ok: GSO batches cut at the link; 8 KiB blocks over MTU 1500 fell back, bit-exact in $(elapsed) s"
