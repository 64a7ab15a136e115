#!/bin/bash
# Requests for an unknown namespace or content: wdsget says "no such
# content" and exits non-zero; no session is created. A content that turns
# into something else than a file after the daemon listed it fails the
# request when its session is set up, and the daemon serves on.
. "$(dirname "$0")/server_lib.sh"
check_multicast

mkdir "$T/images"
make_file "$T/images/a.img" 1
make_file "$T/images/b.img" 1
start_daemon --address 127.0.0.1 --interface 127.0.0.1 --port "$MSI_PORT" --control "$CTL" \
    --namespace "Images=$T/images"

client n1 Nowhere a.img
client n2 Images missing.img
for c in n1 n2; do
    pid_var=PID_$c
    wait_status "${!pid_var}" 20; st=$WAIT_STATUS
    [ "$st" != timeout ] && [ "$st" != 0 ] || fail "$c exited '$st'"
    grep -q "no such content" "$T/$c.err" || fail "$c: $(cat "$T/$c.err")"
done
[ "$("$WDSCTL" sessions)" = "no sessions" ] || fail "sessions were created: $("$WDSCTL" sessions)"
rm "$T/images/b.img"
mkdir "$T/images/b.img"
client gone Images b.img
wait_status "$PID_gone" 20; st=$WAIT_STATUS
[ "$st" != timeout ] && [ "$st" != 0 ] || fail "gone exited '$st'"
kill -0 "$DAEMON_PID" 2> /dev/null || fail "the daemon died setting up a session for a directory"
# The known content still works.
client ok Images a.img
wait_status "$PID_ok" 20; st=$WAIT_STATUS
[ "$st" = 0 ] || fail "ok exited $st: $(cat "$T/ok.err")"
same_file "$T/images/a.img" "$T/ok.out" || fail "copy differs"
echo PASS
