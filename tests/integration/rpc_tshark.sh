#!/bin/bash
# Wireshark as an independent NTLMSSP/DCE-RPC decoder: capture our client
# (rpc_call, wdsfs's rpc_assoc + NTLM/SPNEGO providers) talking to wdsmcd at
# PKT_PRIVACY on loopback; tshark, given the password, must decrypt both
# directions to exactly the stubs the two sides sent, and dissect the request
# stub as WdsRpcMessage carrying the UTF-16 namespace name.
. "$(dirname "$0")/rpc_lib.sh"
command -v tshark >/dev/null || skip "tshark is not installed"
command -v dumpcap >/dev/null || skip "dumpcap (wireshark-common) is not installed"

PW='Tshark-Pass 9'
mkdir "$T/images"
make_file "$T/images/a.img" 1
add_user carol "$PW"
rpc_config "$T/wdsmcd.conf" <<CONF
[namespace:TsharkSpace]
path = $T/images
ttl = 0
CONF
start_daemon --config "$T/wdsmcd.conf"

dumpcap -q -i lo -f "tcp port $RPC_PORT" -w "$T/cap.pcapng" >"$T/dumpcap.log" 2>&1 &
CAP=$!
PIDS+=("$CAP")
wait_until 10 grep -q "File:" "$T/dumpcap.log" 2>/dev/null || true
sleep 0.5
kill -0 "$CAP" 2>/dev/null || skip "cannot capture on lo here: $(cat "$T/dumpcap.log")"

for auth in ntlm spnego; do
    RPC_USER=carol RPC_PASSWORD=$PW "$RPC_CALL" 127.0.0.1 "$RPC_PORT" "$auth" initiate TsharkSpace a.img \
        >"$T/$auth.out" 2>&1 || fail "rpc_call $auth: $(cat "$T/$auth.out")"
done
sleep 0.5
kill -INT "$CAP"
wait "$CAP" 2>/dev/null || true

tsh() {
    tshark -r "$T/cap.pcapng" -o "ntlmssp.nt_password:$PW" -d "tcp.port==$RPC_PORT,dcerpc" "$@" 2>/dev/null
}
# One line per request/response: type, call id, decrypted stub.
tsh -Y 'dcerpc.pkt_type == 0 || dcerpc.pkt_type == 2' -T fields -e tcp.stream \
    -e dcerpc.pkt_type -e dcerpc.decrypted_stub_data >"$T/fields.txt"
[ "$(wc -l <"$T/fields.txt")" = 4 ] || fail "expected 2 requests and 2 responses, got: $(cat "$T/fields.txt")"
stream=0
for auth in ntlm spnego; do
    req=$(sed -n 's/^request_stub //p' "$T/$auth.out")
    rsp=$(sed -n 's/^response_stub //p' "$T/$auth.out")
    [ -n "$req" ] && [ -n "$rsp" ] || fail "$auth: rpc_call printed no stubs"
    while IFS=$'\t' read -r s type data; do
        [ "$s" = "$stream" ] || continue
        want=$req
        [ "$type" = 2 ] && want=$rsp
        data=${data//:/}
        # tshark shows stub + auth padding (zeros up to a 16-byte boundary).
        [ "${data:0:${#want}}" = "$want" ] || fail "$auth: tshark decrypted type $type to $data, sent $want"
        pad=${data:${#want}}
        [ "${#pad}" -lt 32 ] && [ -z "${pad//0/}" ] || fail "$auth: unexpected bytes after the stub: $pad"
        echo "$auth: packet type $type decrypted to the $(( ${#want} / 2 ))-byte stub that was sent"
    done <"$T/fields.txt"
    stream=$((stream + 1))
done

# The dissection names the user and shows the namespace in the decrypted
# request (UTF-16LE "TsharkSpace").
tsh -V -x >"$T/verbose.txt"
grep -Eq 'User( name)?: .*carol' "$T/verbose.txt" ||
    fail "tshark did not show the NTLMSSP user"
ns_hex=$(printf 'TsharkSpace' | iconv -t UTF-16LE | od -An -tx1 | tr -d ' \n')
grep -q "$ns_hex" <(tr -d ':' <"$T/fields.txt") || fail "namespace not in the decrypted request"
grep -q 'Decrypted stub data' "$T/verbose.txt" || fail "tshark -V shows no decrypted stub"
daemon_alive
echo PASS
