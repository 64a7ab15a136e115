#!/bin/bash
# Multistream: a client throttled by a small cache (wdsget -o - -c 64K into a
# slow reader) is demoted to a lower-rate session and still completes
# bit-exact, while the fast clients finish at full speed.
. "$(dirname "$0")/server_lib.sh"
check_multicast

mkdir "$T/images"
make_file "$T/images/big.img" 96
# The slow reader takes 64 KiB every 25 ms: ~2.5 MiB/s, below min_rate. As
# master client it paces the session until it is demoted: the engine acts
# after ~10 s of progress reports below min_rate (they come every ~5 s), so
# the demotion comes 15-25 s in, with a fifth of the file or more to go.
write_config "$T/wdsmcd.conf" <<CONF
[namespace:Images]
path = $T/images
ttl = 0
slow_client_policy = multistream
min_rate = 8M
demote_rate = 4M
CONF
start_daemon --config "$T/wdsmcd.conf"

cat >"$T/slow_reader.py" <<'PY'
import sys, time
out = open(sys.argv[1], "wb")
while True:
    b = sys.stdin.buffer.read(65536)
    if not b:
        break
    out.write(b)
    time.sleep(0.025)
PY
( set -o pipefail
  "$WDSGET" -s "127.0.0.1:$MSI_PORT" -i 127.0.0.1 -n slow -q -t 20 -c 64K -o - Images big.img \
      2>"$T/slow.err" | python3 "$T/slow_reader.py" "$T/slow.out" ) &
PIDS+=($!)
PID_slow=$!
wait_until 10 has_session big.img || fail "no session"
sid=$(session_of big.img)
client f1 Images big.img
client f2 Images big.img

# The engine judges a client slow after ~10 s below min_rate; wait for the
# demotion, seen as a lower-stream session of the content.
lower_exists() {
    [ "$(json_query "len([s for s in d['sessions'] if s['lower_stream']])" sessions)" != 0 ]
}
wait_until 35 lower_exists || fail "no lower stream appeared: $("$WDSCTL" sessions)"
t_demote=$(now_ms)
grep -q "demoted to" "$T/wdsmcd.log" || fail "no demotion in the log"
"$WDSCTL" sessions

# Fast clients: done soon after the slow one left their session.
for c in f1 f2; do
    pid_var=PID_$c
    wait_status "${!pid_var}" 20; st=$WAIT_STATUS
    [ "$st" = 0 ] || fail "$c exited $st: $(cat "$T/$c.err")"
    same_file "$T/images/big.img" "$T/$c.out" || fail "$c's copy differs"
done
fast_ms=$(($(now_ms) - t_demote))
echo "fast clients done ${fast_ms} ms after the demotion"
# What is left (20 MiB or more) takes about a second at full speed on
# loopback; 4 s allows a loaded CI machine but not a session still paced by
# the slow client (8 s or more).
[ "$fast_ms" -lt 4000 ] || fail "fast clients took ${fast_ms} ms after the demotion"
kill -0 "$PID_slow" 2>/dev/null && echo "slow client still receiving, as expected"

wait_status "$PID_slow" 45; st=$WAIT_STATUS
[ "$st" = 0 ] || fail "slow client exited $st: $(cat "$T/slow.err")"
same_file "$T/images/big.img" "$T/slow.out" || fail "slow client's copy differs"
echo PASS
