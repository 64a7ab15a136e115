#!/bin/bash
# wdsget against a server that answers only over MS-WDSC (wdsmcd --no-udp):
# --list shows the image table (text and --json) through WDS_OP_IMG_ENUMERATE,
# --user/--password-file receives a content bit-exact through
# WDSMC_OP_INITIATE (automatic initiation: UDP first, then RPC), a wrong
# password is refused, and a password file others can read is refused
# before anything is sent.
. "$(dirname "$0")/rpc_lib.sh"
check_multicast

mkdir "$T/images"
make_file "$T/images/install.wim" 8
add_user 'LAB\erin' 'Erin pass 4'
printf '%s\n' 'Erin pass 4' >"$T/pw"
chmod 600 "$T/pw"
printf '%s\n' 'wrong' >"$T/badpw"
chmod 600 "$T/badpw"
rpc_config "$T/wdsmcd.conf" <<CONF
[namespace:WDS:Default/install.wim/1]
path = $T/images/install.wim
ttl = 0
CONF
start_daemon --config "$T/wdsmcd.conf" --no-udp
cred=(--user 'LAB\erin' --password-file "$T/pw" --rpc-port "$RPC_PORT")

# The image table.
timeout 30 "$WDSGET" --list 127.0.0.1 "${cred[@]}" >"$T/list.txt" 2>"$T/list.err" ||
    fail "--list: $(cat "$T/list.err")"
cat "$T/list.txt"
grep -q "WDS:Default/install.wim/1" "$T/list.txt" || fail "--list: namespace missing"
timeout 30 "$WDSGET" --list 127.0.0.1 --json "${cred[@]}" >"$T/list.json" 2>"$T/list.err" ||
    fail "--list --json: $(cat "$T/list.err")"
python3 - "$T/list.json" <<'PY' || fail "--list --json: unexpected content"
import json, sys
d = json.load(open(sys.argv[1]))
images = d["images"] if isinstance(d, dict) else d
assert any(i.get("namespace") == "WDS:Default/install.wim/1" for i in images), images
PY

# A download initiated over RPC (UDP is off, so AUTO falls back).
timeout 60 "$WDSGET" -q -s 127.0.0.1 -i 127.0.0.1 -t 10 "${cred[@]}" -o "$T/out.wim" \
    'WDS:Default/install.wim/1' install.wim 2>"$T/get.err" || fail "get: $(cat "$T/get.err")"
same_file "$T/images/install.wim" "$T/out.wim" || fail "the download differs"

# Wrong password: refused, named.
st=0
timeout 30 "$WDSGET" -q -s 127.0.0.1 -i 127.0.0.1 --initiation rpc --user 'LAB\erin' \
    --password-file "$T/badpw" --rpc-port "$RPC_PORT" -o "$T/x" \
    'WDS:Default/install.wim/1' install.wim 2>"$T/bad.err" || st=$?
[ "$st" != 0 ] || fail "wrong password: exit 0"
grep -qi "denied\|permission" "$T/bad.err" || fail "wrong password: $(cat "$T/bad.err")"

# A password file readable by others is refused before any traffic.
chmod 644 "$T/pw"
st=0
timeout 30 "$WDSGET" --list 127.0.0.1 "${cred[@]}" >/dev/null 2>"$T/mode.err" || st=$?
[ "$st" != 0 ] || fail "0644 password file accepted"
grep -q "chmod" "$T/mode.err" || fail "0644 password file: $(cat "$T/mode.err")"
echo PASS
