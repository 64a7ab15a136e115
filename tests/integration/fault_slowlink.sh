#!/bin/bash
# A link slower than the server, with a small send buffer: the server's link
# is shaped to 300 Mbit/s (tbf on its eth0, whose queue holds the server's
# datagrams against its send buffer, as a NIC's queue does) and each session
# socket has 64 KiB of send buffer, so the kernel refuses datagrams while the
# queue drains. Decision 65: the server waits for room and sends them then;
# none is lost to the full socket, so the two receivers complete bit-exact
# without repairs for datagrams that never left.
# Usage: fault_slowlink.sh SERVE WDSGET
SERVE=$1
WDSGET=$2
. "$(dirname "$0")/fault_lib.sh"
topology

on s tc qdisc replace dev eth0 root tbf rate 300mbit burst 64k limit 4m ||
    skip "no tbf qdisc"
make_image 32
SERVE_SNDBUF=65536 start_fserver "$PORT" "Images=$T/image.bin"

start_get r1 r1 60; p1=$GET_PID
start_get r2 r2 60; p2=$GET_PID
wait_get $p1 r1
wait_get $p2 r2
stop_server() { kill -TERM "$SERVER_PID" 2> /dev/null; wait "$SERVER_PID" 2> /dev/null; }
stop_server
line=$(grep -o 'sent [0-9]* ODATA, [0-9]* RDATA.*' "$T/serve.err" | tail -1)
[ -n "$line" ] || fail "no session summary in the server's log: $(tail -5 "$T/serve.err")"
waits=$(sed -n 's/.*; \([0-9]*\) waits for a full socket.*/\1/p' <<< "$line")
lost=$(sed -n 's/.*, \([0-9]*\) datagrams lost at the socket.*/\1/p' <<< "$line")
rdata=$(sed -n 's/.* ODATA, \([0-9]*\) RDATA.*/\1/p' <<< "$line")
[ "${waits:-0}" -gt 0 ] || fail "the socket never filled, nothing tested: $line"
[ "$lost" = 0 ] || fail "$lost datagrams lost to the full socket: $line"
[ "${rdata:-1}" -le 100 ] || fail "$rdata repairs on a lossless link: $line"
echo "ok: 300 Mbit/s link, 64 KiB send buffer: $waits waits for room, none lost, $rdata repairs; both bit-exact in $(elapsed) s"
