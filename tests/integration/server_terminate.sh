#!/bin/bash
# wdsctl terminate: three wdsget clients receiving a large file all exit
# non-zero with "terminated by server" within two seconds, the session is
# gone from 'wdsctl sessions', and a later request gets a new session.
. "$(dirname "$0")/server_lib.sh"
check_multicast

mkdir "$T/images"
make_file "$T/images/big.img" 64
# 16 MiB/s: the transfer takes ~4 s, long enough to terminate mid-way.
write_config "$T/wdsmcd.conf" <<CONF
[namespace:Images]
path = $T/images
max_rate = 16M
ttl = 0
CONF
start_daemon --config "$T/wdsmcd.conf"

for c in c1 c2 c3; do
    client $c Images big.img
done
wait_until 10 has_session big.img || fail "no session for big.img"
sid=$(session_of big.img)
wait_until 10 session_has_clients "$sid" 3 ||
    fail "session $sid never had 3 clients: $("$WDSCTL" clients "$sid")"
# Mid-transfer: data flowing, nobody done.
wait_until 5 session_sent "$sid" ||
    fail "session $sid sent nothing"

t0=$(now_ms)
"$WDSCTL" terminate --no-wait "$sid" >"$T/terminate.log" 2>&1 || fail "wdsctl terminate failed: $(cat "$T/terminate.log")"
for c in c1 c2 c3; do
    pid_var=PID_$c
    wait_status "${!pid_var}" 3; st=$WAIT_STATUS
    elapsed=$(($(now_ms) - t0))
    [ "$st" != timeout ] || fail "$c still running 3 s after terminate"
    [ "$st" != 0 ] || fail "$c exited 0 after terminate"
    grep -q "terminated by server" "$T/$c.err" || fail "$c: $(cat "$T/$c.err")"
    [ "$elapsed" -le 2000 ] || fail "$c took ${elapsed} ms to exit (limit 2000)"
done
echo "all three clients ended within $elapsed ms"

# The session is gone (it may list as 'ending' for a moment).
wait_until 5 session_gone "$sid" ||
    fail "session $sid still listed: $("$WDSCTL" sessions)"
"$WDSCTL" sessions | grep -Eq "^ *$sid " && fail "session $sid still in 'wdsctl sessions'"
# Unknown now: a clear error, status 1.
st=0
"$WDSCTL" clients "$sid" >"$T/gone.log" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "no session $sid" "$T/gone.log" || fail "clients of a gone session: $st $(cat "$T/gone.log")"

# A later request for the same content gets a new session and completes.
client c4 Images big.img
wait_until 10 has_session big.img || fail "no new session"
sid2=$(session_of big.img)
[ "$sid2" != "$sid" ] || fail "the new request got the terminated session $sid"
wait_status "$PID_c4" 30; st=$WAIT_STATUS
[ "$st" = 0 ] || fail "c4 exited $st: $(cat "$T/c4.err")"
same_file "$T/images/big.img" "$T/c4.out" || fail "c4's copy differs"
echo PASS
