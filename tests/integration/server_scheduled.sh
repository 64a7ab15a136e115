#!/bin/bash
# Scheduled-Cast: with min_clients = 3 nothing is sent until the third
# client joins; then all three complete bit-exact. 'wdsctl start' starts a
# namespace that has not reached its min_clients.
. "$(dirname "$0")/server_lib.sh"
check_multicast

mkdir "$T/images"
make_file "$T/images/sched.img" 8
make_file "$T/lab.img" 4
write_config "$T/wdsmcd.conf" <<CONF
[namespace:Sched]
path = $T/images
cast = scheduled
min_clients = 3
ttl = 0

[namespace:Lab]
path = $T/lab.img
cast = scheduled
min_clients = 50
ttl = 0
CONF
start_daemon --config "$T/wdsmcd.conf"

client c1 Sched sched.img
client c2 Sched sched.img
wait_until 10 has_session sched.img || fail "no session"
sid=$(session_of sched.img)
wait_until 10 session_has_clients "$sid" 2 || fail "2 clients never joined: $("$WDSCTL" clients "$sid")"
# Two joined: give the server time in which it must send nothing.
sleep 1.5
sent=$(json_query "[s['bytes_sent'] for s in d['sessions'] if s['id'] == $sid][0]" sessions)
state=$(json_query "[s['state'] for s in d['sessions'] if s['id'] == $sid][0]" sessions)
[ "$sent" = 0 ] || fail "sent $sent bytes with 2 of 3 clients"
[ "$state" = waiting ] || fail "state '$state' with 2 of 3 clients (expected waiting)"
kill -0 "$PID_c1" && kill -0 "$PID_c2" || fail "a client gave up while waiting"

client c3 Sched sched.img
for c in c1 c2 c3; do
    pid_var=PID_$c
    wait_status "${!pid_var}" 30; st=$WAIT_STATUS
    [ "$st" = 0 ] || fail "$c exited $st: $(cat "$T/$c.err")"
    same_file "$T/images/sched.img" "$T/$c.out" || fail "$c's copy differs"
done

# 'wdsctl start' on a namespace far from its min_clients.
client l1 Lab lab.img
wait_until 10 has_session lab.img || fail "no Lab session"
lsid=$(session_of lab.img)
wait_until 10 session_has_clients "$lsid" 1 || fail "l1 never joined"
sleep 0.5
[ "$(json_query "[s['bytes_sent'] for s in d['sessions'] if s['id'] == $lsid][0]" sessions)" = 0 ] ||
    fail "Lab sent data before start"
st=0; "$WDSCTL" start Nope >"$T/start.log" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "no namespace 'Nope'" "$T/start.log" || fail "start Nope: $st $(cat "$T/start.log")"
"$WDSCTL" start Lab || fail "wdsctl start Lab failed"
wait_status "$PID_l1" 30; st=$WAIT_STATUS
[ "$st" = 0 ] || fail "l1 exited $st: $(cat "$T/l1.err")"
same_file "$T/lab.img" "$T/l1.out" || fail "l1's copy differs"
echo PASS
