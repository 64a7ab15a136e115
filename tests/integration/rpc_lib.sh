# shellcheck shell=bash
# Shared helpers of the tests/integration/rpc_*.sh tests (wdsmcd's MS-WDSC
# listener): sourced after server_lib.sh, which gives the temp dir, ports,
# cleanup trap and daemon helpers.
#
# Needs: RPC_CALL (tests/integration/rpc_call.c), Debian's python3-impacket
# for /usr/bin/python3 (the scripts below check and skip without it).

. "$(dirname "$0")/server_lib.sh"

RPC_CALL=${RPC_CALL:?set RPC_CALL to the rpc_call binary}
DPY=/usr/bin/python3 # Debian's interpreter, where python3-impacket lives
HERE=$(cd "$(dirname "$0")" && pwd)

# A free TCP port on 127.0.0.1.
RPC_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

need_impacket() {
    "$DPY" -c 'import impacket.dcerpc.v5.rpcrt' 2>/dev/null ||
        skip "python3-impacket is not installed for $DPY (apt-get install python3-impacket)"
}

# impacket ARGS...: the impacket MS-WDSC client against our listener; its
# JSON goes to stdout, its exit status is returned.
impacket() {
    "$DPY" "$HERE/rpc_impacket_client.py" --port "$RPC_PORT" "$@"
}

# add_user NAME PASSWORD [FILE]: through wdsctl, the password on stdin.
add_user() {
    printf '%s\n' "$2" | "$WDSCTL" useradd "$1" --users "${3:-$T/users}" >/dev/null
}

# rpc_config PATH [extra [server] lines on stdin]: write_config plus the RPC
# keys; namespaces are appended by the caller.
rpc_config() {
    {
        echo "rpc_port = $RPC_PORT"
        echo "users_file = $T/users"
        cat
    } | write_config "$1"
}

# json FIELD: read one JSON object on stdin, print FIELD.
json() {
    python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"
}

# daemon_alive: fail unless wdsmcd still runs and answers wdsctl.
daemon_alive() {
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "wdsmcd died: $(tail -20 "$T/wdsmcd.log")"
    "$WDSCTL" sessions >/dev/null || fail "wdsmcd's control socket stopped answering"
}
