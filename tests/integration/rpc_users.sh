#!/bin/bash
# The users file and 'wdsctl useradd/userdel': passwords only from stdin or
# the terminal, stored as NT hashes in a mode 0600 file that wdsmcd re-reads
# when it changes (users added, removed or re-keyed take effect at the next
# logon); unsafe files refused; allow_anonymous; option conflicts.
. "$(dirname "$0")/rpc_lib.sh"

U=$T/users
# Usage errors: exit 2, nothing written.
st=0; "$WDSCTL" useradd alice secret --users "$U" </dev/null >"$T/o" 2>&1 || st=$?
[ "$st" = 2 ] || fail "password in argv: exit $st"
st=0; "$WDSCTL" useradd 'a:b' --users "$U" </dev/null >"$T/o" 2>&1 || st=$?
[ "$st" = 2 ] || fail "bad name: exit $st"
st=0; "$WDSCTL" useradd alice --users "$U" </dev/null >"$T/o" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "no password" "$T/o" || fail "no password: exit $st $(cat "$T/o")"
st=0; printf '\n' | "$WDSCTL" useradd alice --users "$U" >"$T/o" 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "empty password" "$T/o" || fail "empty password: exit $st"
[ ! -e "$U" ] || fail "a refused useradd wrote the file"
st=0; "$WDSCTL" sessions --users "$U" >"$T/o" 2>&1 || st=$?
[ "$st" = 2 ] || fail "--users with sessions: exit $st"

add_user alice 'first pass'
[ "$(stat -c %a "$U")" = 600 ] || fail "users file mode $(stat -c %a "$U")"
grep -Eq '^alice:[0-9a-f]{32}$' "$U" || fail "users file: $(cat "$U")"
# MD4(UTF-16LE("first pass")), computed independently once with
# printf 'first pass' | iconv -t UTF-16LE | openssl dgst -md4 -provider legacy
want=6110c7917938df57ceed79316d751365
grep -q "^alice:$want\$" "$U" || fail "NT hash differs from MD4(UTF-16LE(password)) = $want"
grep -q 'first pass' "$U" && fail "the password itself is in the file"

mkdir "$T/images"
make_file "$T/images/a.img" 1
rpc_config "$T/wdsmcd.conf" <<CONF
[namespace:Images]
path = $T/images
ttl = 0
CONF

# An unsafe users file: wdsmcd refuses to start (exit 2).
chmod 644 "$U"
st=0; timeout 10 "$WDSMCD" -c "$T/wdsmcd.conf" >"$T/o" 2>&1 || st=$?
[ "$st" = 2 ] && grep -q "chmod 600" "$T/o" || fail "mode 0644 users file: exit $st $(cat "$T/o")"
chmod 600 "$U"
"$WDSMCD" --check -c "$T/wdsmcd.conf" >"$T/o" 2>&1 || fail "--check: $(cat "$T/o")"
grep -q "MS-WDSC (RPC) port $RPC_PORT" "$T/o" || fail "--check: $(cat "$T/o")"
st=0; timeout 10 "$WDSMCD" -c "$T/wdsmcd.conf" --no-udp --rpc-port 0 >"$T/o" 2>&1 || st=$?
[ "$st" = 2 ] || fail "--no-udp --rpc-port 0: exit $st"

start_daemon -c "$T/wdsmcd.conf" --no-udp
grep -q "MS-WDSMSI over UDP off" "$T/wdsmcd.log" || fail "--no-udp not in the log"
call() { # USER PASSWORD [DOMAIN]: exit status of an IMG_ENUMERATE
    local st=0
    RPC_USER=$1 RPC_PASSWORD=$2 RPC_DOMAIN=${3:-} "$RPC_CALL" 127.0.0.1 "$RPC_PORT" ntlm enumerate \
        >"$T/call.out" 2>&1 || st=$?
    return $st
}
call alice 'first pass' || fail "alice: $(cat "$T/call.out")"
st=0; call bob 'bob pass' || st=$?; [ "$st" = 3 ] || fail "bob before useradd: $st"
add_user bob 'bob pass'
call bob 'bob pass' || fail "bob after useradd (no restart): $(cat "$T/call.out")"
add_user alice 'second pass'
st=0; call alice 'first pass' || st=$?; [ "$st" = 3 ] || fail "alice's old password: $st"
call alice 'second pass' || fail "alice's new password: $(cat "$T/call.out")"
"$WDSCTL" userdel bob --users "$U" >/dev/null || fail "userdel bob"
st=0; call bob 'bob pass' || st=$?; [ "$st" = 3 ] || fail "bob after userdel: $st"
st=0; "$WDSCTL" userdel bob --users "$U" >"$T/o" 2>&1 || st=$?
[ "$st" = 1 ] || fail "userdel of a missing user: exit $st"
# USER@DOMAIN is stored as DOMAIN\USER, and a logon with a user principal
# name and no domain finds it, as does one with the domain apart.
add_user carol@lab 'carol pass'
grep -q '^lab\\carol:' "$U" || fail "carol@lab stored as: $(grep carol "$U")"
call carol 'carol pass' lab || fail "LAB\\carol: $(cat "$T/call.out")"
call carol@lab 'carol pass' || fail "carol@lab, no domain: $(cat "$T/call.out")"
st=0; call carol@other 'carol pass' || st=$?; [ "$st" = 3 ] || fail "carol@other: $st"
# A users file made unsafe while running authenticates nobody.
chmod 640 "$U"
st=0; call alice 'second pass' || st=$?; [ "$st" = 3 ] || fail "alice with a mode 0640 file: $st"
grep -q "chmod 600" "$T/wdsmcd.log" || fail "no complaint about the mode in the log"
chmod 600 "$U"
call alice 'second pass' || fail "alice once the mode is fixed: $(cat "$T/call.out")"
# Unauthenticated callers are refused (Win32 5) ...
st=0; "$RPC_CALL" 127.0.0.1 "$RPC_PORT" none enumerate >"$T/o" 2>&1 || st=$?
[ "$st" = 3 ] || fail "unauthenticated: $st"
daemon_alive
kill -TERM "$DAEMON_PID"; wait_status "$DAEMON_PID" 10; DAEMON_PID=
[ "$WAIT_STATUS" = 0 ] || fail "wdsmcd exited $WAIT_STATUS on SIGTERM"

# ... unless allow_anonymous, which lets in the anonymous logon too.
sed -i "s|^rpc_port = .*|&\nallow_anonymous = yes|" "$T/wdsmcd.conf"
start_daemon -c "$T/wdsmcd.conf"
"$RPC_CALL" 127.0.0.1 "$RPC_PORT" none enumerate >"$T/o" 2>&1 || fail "anonymous, allowed: $(cat "$T/o")"
"$RPC_CALL" 127.0.0.1 "$RPC_PORT" ntlm initiate Images a.img >"$T/o" 2>&1 ||
    fail "anonymous NTLM logon, allowed: $(cat "$T/o")"
grep -q '^SessionId = ' "$T/o" || fail "no session for the anonymous caller"
daemon_alive
echo PASS
