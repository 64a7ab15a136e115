#!/bin/bash
# An independent client against wdsmcd's MS-WDSC listener: impacket (Debian's
# python3-impacket) binds with NTLMv2 at PKT_PRIVACY and sends WdsRpcMessage
# packets built from the spec in python. INITIATE answers with the session
# wdsctl lists, and a wdsgetclient in that session receives the content
# bit-exact; a wrong password, an unknown user and an unauthenticated caller
# are refused with access denied; IMG_ENUMERATE lists the content.
. "$(dirname "$0")/rpc_lib.sh"
need_impacket
check_multicast

mkdir "$T/images"
make_file "$T/images/disk.img" 6
add_user alice 'Correct horse 1'
add_user 'LAB\bob' 'b0b-pass'
rpc_config "$T/wdsmcd.conf" <<CONF
[namespace:WDS:Default/disk.img/1]
path = $T/images
max_rate = 20M
ttl = 0
CONF
start_daemon --config "$T/wdsmcd.conf"
NS='WDS:Default/disk.img/1'

# INITIATE at PKT_PRIVACY: a session, as wdsctl sees it.
impacket --user alice --password 'Correct horse 1' initiate "$NS" disk.img >"$T/init.json" ||
    fail "impacket INITIATE: $(cat "$T/init.json")"
cat "$T/init.json"
sid=$(json "['session_id']" <"$T/init.json")
[ "$(session_of disk.img)" = "$sid" ] || fail "wdsctl lists session '$(session_of disk.img)', impacket got $sid"
for f in group port content_size block_size; do
    want=$(json_query "[s['$f'] for s in d['sessions'] if s['id'] == $sid][0]" sessions)
    got=$(json "['$f']" <"$T/init.json")
    [ "$want" = "$got" ] || fail "$f: reply says $got, wdsctl $want"
done
[ "$(json "['content_size']" <"$T/init.json")" = "$(stat -c %s "$T/images/disk.img")" ] ||
    fail "ContentSize differs from the file's size"
[ "$(json "['server_port']" <"$T/init.json")" = "$(json "['port']" <"$T/init.json")" ] ||
    fail "TpUniAddress.Port != TpMcAddress.Port"
# SecMode: WDSMCTP_SEC_CHECKSUM both ways (MS-WDSMSI 3.1.5.2, pre-OS client).
[ "$(json "['sec_mode']" <"$T/init.json")" = $((0x00030003)) ] || fail "SecMode"

# A client joins that very session and gets the content bit-exact.
client c1 "$NS" disk.img
wait_until 10 session_has_clients "$sid" 1 || fail "session $sid never got the client: $("$WDSCTL" sessions)"
[ "$(session_of disk.img)" = "$sid" ] || fail "a second session appeared"
wait_status "$PID_c1" 40
[ "$WAIT_STATUS" = 0 ] || fail "wdsget exited $WAIT_STATUS: $(cat "$T/c1.err")"
same_file "$T/images/disk.img" "$T/c1.out" || fail "the received copy differs"

# The same user in its domain, case-insensitively, several calls on one
# connection (sequence numbers and RC4 streams carry on).
impacket --user BOB --domain lab --password 'b0b-pass' --repeat 3 enumerate >"$T/enum.json" ||
    fail "impacket IMG_ENUMERATE: $(cat "$T/enum.json")"
python3 - "$T/enum.json" "$NS" <<'PY' || fail "image list: $(cat "$T/enum.json")"
import json, sys
d = json.load(open(sys.argv[1]))
ims = d["images"]
assert len(ims) == 1, ims
im = ims[0]
assert im["namespace"] == sys.argv[2], im
assert im["path"] == "\\WDS:Default\\disk.img\\1\\disk.img", im
assert im["group"] == "Default" and im["index"] == 1, im
assert im["size"] == 6 * 1024 * 1024, im
PY

# Refusals: Win32 access denied (5) or an RPC fault access_denied.
st=0; impacket --user alice --password 'wrong' initiate "$NS" disk.img >"$T/r.json" || st=$?
[ "$st" = 3 ] || fail "wrong password: exit $st $(cat "$T/r.json")"
st=0; impacket --user mallory --password 'x' initiate "$NS" disk.img >"$T/r.json" || st=$?
[ "$st" = 3 ] || fail "unknown user: exit $st $(cat "$T/r.json")"
st=0; impacket --user bob --domain OTHER --password 'b0b-pass' enumerate >"$T/r.json" || st=$?
[ "$st" = 3 ] || fail "bob outside LAB: exit $st $(cat "$T/r.json")"
st=0; impacket --level none initiate "$NS" disk.img >"$T/r.json" || st=$?
[ "$st" = 3 ] && grep -q '"status": 5' "$T/r.json" || fail "unauthenticated INITIATE: exit $st $(cat "$T/r.json")"
st=0; impacket --level none enumerate >"$T/r.json" || st=$?
[ "$st" = 3 ] && grep -q '"status": 5' "$T/r.json" || fail "unauthenticated IMG_ENUMERATE: exit $st $(cat "$T/r.json")"
# MS-WDSC 3.1.4.1: an authenticated caller must use PKT_PRIVACY.
st=0; impacket --level integrity --user alice --password 'Correct horse 1' enumerate >"$T/r.json" || st=$?
[ "$st" = 3 ] || fail "PKT_INTEGRITY: exit $st $(cat "$T/r.json")"
# Unknown content: the reply carries Win32 2 (MS-WDSMSI decision 4).
st=0; impacket --user alice --password 'Correct horse 1' initiate "$NS" nope.img >"$T/r.json" || st=$?
[ "$st" = 4 ] && grep -q '"error": 2' "$T/r.json" || fail "unknown content: exit $st $(cat "$T/r.json")"
daemon_alive
echo PASS
