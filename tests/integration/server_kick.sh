#!/bin/bash
# wdsctl kick: one of three clients is kicked and exits with the reason; the
# other two complete bit-exact.
. "$(dirname "$0")/server_lib.sh"
check_multicast

mkdir "$T/images"
make_file "$T/images/big.img" 48
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
wait_until 10 has_session big.img || fail "no session"
sid=$(session_of big.img)
wait_until 10 session_has_clients "$sid" 3 ||
    fail "session $sid never had 3 clients: $("$WDSCTL" clients "$sid")"
cid=$(json_query "[c['id'] for c in d['clients'] if c['name'] == 'c2'][0]" clients "$sid")
"$WDSCTL" clients "$sid"

# An unknown client: exit 1, a clear message; bad usage: exit 2.
st=0; "$WDSCTL" kick "$sid" 999999 >"$T/k.log" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "no client 999999 in session $sid" "$T/k.log" || fail "unknown client: $st $(cat "$T/k.log")"
st=0; "$WDSCTL" kick "$sid" "$cid" --reason rude >"$T/k.log" 2>&1 || st=$?
[ "$st" = 2 ] || fail "bad reason: exit $st"

"$WDSCTL" kick "$sid" "$cid" --reason fallback || fail "kick failed"
wait_status "$PID_c2" 5; st=$WAIT_STATUS
[ "$st" != timeout ] && [ "$st" != 0 ] || fail "kicked c2 exited '$st'"
grep -q "kicked by server: use another transfer method" "$T/c2.err" || fail "c2: $(cat "$T/c2.err")"

for c in c1 c3; do
    pid_var=PID_$c
    wait_status "${!pid_var}" 40; st=$WAIT_STATUS
    [ "$st" = 0 ] || fail "$c exited $st: $(cat "$T/$c.err")"
    same_file "$T/images/big.img" "$T/$c.out" || fail "$c's copy differs"
done
echo PASS
