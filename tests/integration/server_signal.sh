#!/bin/bash
# SIGTERM: every session is terminated (its clients get KICK and report
# "terminated by server"), then wdsmcd exits 0 and removes its socket.
. "$(dirname "$0")/server_lib.sh"
check_multicast

mkdir "$T/images"
make_file "$T/images/a.img" 32
make_file "$T/images/b.img" 32
write_config "$T/wdsmcd.conf" <<CONF
[namespace:Images]
path = $T/images
max_rate = 8M
ttl = 0
CONF
start_daemon --config "$T/wdsmcd.conf"
client a1 Images a.img
client a2 Images a.img
client b1 Images b.img
wait_until 10 has_session a.img && wait_until 10 has_session b.img || fail "no sessions"
wait_until 10 session_has_clients "$(session_of a.img)" 2 || fail "a clients never joined"
wait_until 10 session_has_clients "$(session_of b.img)" 1 || fail "b client never joined"

kill -TERM "$DAEMON_PID"
wait_status "$DAEMON_PID" 15; st=$WAIT_STATUS
DAEMON_PID=
[ "$st" = 0 ] || fail "wdsmcd exited '$st' after SIGTERM"
for c in a1 a2 b1; do
    pid_var=PID_$c
    wait_status "${!pid_var}" 5; st=$WAIT_STATUS
    [ "$st" != timeout ] && [ "$st" != 0 ] || fail "$c exited '$st'"
    grep -q "terminated by server" "$T/$c.err" || fail "$c: $(cat "$T/$c.err")"
done
[ ! -e "$CTL" ] || fail "control socket left behind"
grep -q "terminating 2 sessions" "$T/wdsmcd.log" || fail "log: $(cat "$T/wdsmcd.log")"
echo PASS
