#!/bin/bash
# Our RPC client stack (rpc_assoc + NTLM/SPNEGO providers, via rpc_call)
# against an independent DCE/RPC server: a Samba AD DC, provisioned into a
# temp dir and run in its own network namespace. A MGMT inq_if_ids call at
# PKT_PRIVACY as the domain's Administrator must succeed with NTLM and with
# SPNEGO, list interfaces, and a wrong password must be refused.
. "$(dirname "$0")/rpc_lib.sh"

command -v samba >/dev/null && command -v samba-tool >/dev/null ||
    skip "samba (samba-ad-dc) is not installed"
[ -e /usr/share/samba/setup/provision.ldif ] || [ -d /usr/share/samba/setup ] ||
    skip "samba-ad-provision is not installed"
[ "$(id -u)" = 0 ] || skip "needs root for a network namespace and the DC"
command -v ip >/dev/null || skip "iproute2 is not installed"

NSNAME=wdsrpc$$
ip netns add "$NSNAME" 2>/dev/null || skip "cannot create a network namespace here"
SAMBA_PID=
samba_cleanup() {
    set +e
    # Everything samba started lives in the namespace: TERM, then KILL.
    local pids i
    pids=$(ip netns pids "$NSNAME" 2>/dev/null)
    [ -n "$pids" ] && kill -TERM $pids 2>/dev/null
    for i in $(seq 30); do
        pids=$(ip netns pids "$NSNAME" 2>/dev/null)
        [ -z "$pids" ] && break
        sleep 0.1
    done
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    [ -n "$SAMBA_PID" ] && wait "$SAMBA_PID" 2>/dev/null
    ip netns del "$NSNAME" 2>/dev/null
    return 0
}
trap 'st=$?; samba_cleanup; (exit $st); cleanup' EXIT
on() { ip netns exec "$NSNAME" "$@"; }

IP=10.55.0.1
on ip link set lo up
on ip addr add "$IP/24" dev lo
PASS='Adm1n-Pass!x'
mkdir -p "$T/dc/run"
start=$(now_ms)
on samba-tool domain provision --use-rfc2307 --realm=WDSTEST.LAN --domain=WDSTEST \
    --adminpass="$PASS" --server-role=dc --dns-backend=NONE --targetdir="$T/dc" \
    --host-ip="$IP" --option="interfaces=lo" --option="bind interfaces only=yes" \
    --option="pid directory=$T/dc/run" --option="ncalrpc dir=$T/dc/run/ncalrpc" \
    --option="server services=-dns -kcc -drepl -nbt -winbindd -ntp_signd -dnsupdate -cldap -ldap -kdc" \
    >"$T/provision.log" 2>&1 || skip "samba-tool domain provision failed here: $(tail -3 "$T/provision.log")"
echo "provisioned in $(( ($(now_ms) - start) / 1000 )) s"
on samba -i -s "$T/dc/etc/smb.conf" >"$T/samba.log" 2>&1 &
SAMBA_PID=$!
port_open() { on python3 -c "import socket; socket.create_connection(('$IP', 135), 1)" 2>/dev/null; }
wait_until 30 port_open || skip "samba did not listen on $IP:135 within 30 s: $(tail -5 "$T/samba.log")"

for auth in ntlm spnego; do
    st=0
    RPC_USER=Administrator RPC_DOMAIN=WDSTEST RPC_PASSWORD=$PASS on "$RPC_CALL" "$IP" 135 "$auth" mgmt \
        >"$T/$auth.out" 2>&1 || st=$?
    grep -v '_stub ' "$T/$auth.out"
    [ "$st" = 0 ] || fail "MGMT inq_if_ids with $auth at PKT_PRIVACY: exit $st"
    grep -q '^bound at PKT_PRIVACY' "$T/$auth.out" || fail "$auth: not bound at PKT_PRIVACY"
    # epmapper's own interface is among those listed.
    grep -qi 'if_id e1af8308-5d1f-11c9-91a4-08002b14a0fa' "$T/$auth.out" ||
        fail "$auth: epmapper not among the interfaces"
done
st=0
RPC_USER=Administrator RPC_DOMAIN=WDSTEST RPC_PASSWORD=wrong on "$RPC_CALL" "$IP" 135 ntlm mgmt \
    >"$T/wrong.out" 2>&1 || st=$?
# Samba accepts the rpc_auth3 silently and faults the first call; it sends
# nca_proto_error there rather than access_denied, so either is a refusal.
[ "$st" = 3 ] || { [ "$st" = 1 ] && grep -Eq 'fault: (Protocol error|Permission denied)' "$T/wrong.out"; } ||
    fail "wrong password: exit $st $(cat "$T/wrong.out")"
grep -q '^status 0' "$T/wrong.out" && fail "wrong password: the call succeeded"
echo PASS
