#!/bin/bash
# Issue: the server engine and three wdsget processes on loopback multicast --
# one joining two seconds late, one writing to stdout piped into sha256sum --
# on a random file of 64 MiB and 12345 bytes (a short last block: it ends the
# server's last GSO batch and a GRO message at the receivers); every output
# must match the source's SHA-256.
# Usage: transfer_three_clients.sh SERVE WDSGET
SERVE=$1
WDSGET=$2
. "$(dirname "$0")/lib.sh"
need_loopback_multicast

head -c $(((64 << 20) + 12345)) /dev/urandom > "$T/image.bin"
want=$(sha "$T/image.bin")
port=$(free_port)
# A rate cap stretches the transfer so the late joiner joins mid-session.
SERVE_MAX_RATE=${SERVE_MAX_RATE:-40000000} start_server 127.0.0.1 "$port" "Images=$T/image.bin"

get() { timeout 120 "$WDSGET" -q -s 127.0.0.1:"$port" -i 127.0.0.1 -t 20 "$@"; }

get -o "$T/a.bin" Images image.bin 2> "$T/a.err" & a=$!
( get -o - Images image.bin 2> "$T/b.err" | sha256sum | cut -d' ' -f1 > "$T/b.sha" ) & b=$!
sleep 2
get -o "$T/c.bin" Images image.bin 2> "$T/c.err" & c=$!
PIDS="$PIDS $a $b $c"

wait $a || { cat "$T/a.err"; fail "client a exited $?"; }
wait $b || { cat "$T/b.err"; fail "client b (stdout) failed"; }
wait $c || { cat "$T/c.err"; fail "late client c exited $?"; }

[ "$(sha "$T/a.bin")" = "$want" ] || fail "client a: SHA-256 differs"
[ "$(cat "$T/b.sha")" = "$want" ] || fail "client b (stdout): SHA-256 differs"
[ "$(sha "$T/c.bin")" = "$want" ] || fail "late client c: SHA-256 differs"
echo "ok: three clients, one late, one to stdout: $want"
