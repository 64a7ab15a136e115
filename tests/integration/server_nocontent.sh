#!/bin/bash
# Requests for an unknown namespace or content: wdsget says "no such
# content" and exits non-zero; no session is created.
. "$(dirname "$0")/server_lib.sh"
check_multicast

mkdir "$T/images"
make_file "$T/images/a.img" 1
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
# The known content still works.
client ok Images a.img
wait_status "$PID_ok" 20; st=$WAIT_STATUS
[ "$st" = 0 ] || fail "ok exited $st: $(cat "$T/ok.err")"
same_file "$T/images/a.img" "$T/ok.out" || fail "copy differs"
echo PASS
