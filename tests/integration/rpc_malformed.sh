#!/bin/bash
# Malformed input at wdsmcd's MS-WDSC listener: bad PDUs, bad auth tokens,
# bad NDR, MS-WDSC packets with lying sizes and counts, an oversized stub,
# more connections than allowed. Each is refused (bind_nak, fault, Win32
# error or a closed connection), the daemon keeps running and answering, and
# (in a sanitizer build) reports nothing.
. "$(dirname "$0")/rpc_lib.sh"
need_impacket

mkdir "$T/images"
make_file "$T/images/a.img" 1
add_user dave 'Dave-Pass 3'
rpc_config "$T/wdsmcd.conf" <<CONF
[namespace:Images]
path = $T/images
ttl = 0
CONF
start_daemon --config "$T/wdsmcd.conf"

"$DPY" "$HERE/rpc_malformed_client.py" 127.0.0.1 "$RPC_PORT" dave 'Dave-Pass 3' >"$T/cases.log" 2>&1 ||
    { cat "$T/cases.log"; fail "a malformed case was not refused cleanly"; }
cat "$T/cases.log"
daemon_alive
# The anonymous NTLM logon without allow_anonymous: bind refused or call denied.
st=0; "$RPC_CALL" 127.0.0.1 "$RPC_PORT" ntlm enumerate >"$T/anon.log" 2>&1 || st=$?
[ "$st" = 3 ] || fail "anonymous logon: exit $st $(cat "$T/anon.log")"
daemon_alive
echo PASS
