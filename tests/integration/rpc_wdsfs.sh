#!/bin/bash
# End to end over RPC only: wdsmcd with MS-WDSMSI over UDP turned off
# (--no-udp) and its MS-WDSC listener on loopback; wdsfs SERVER MNT --user
# (no --image) lists the server's images through WDS_OP_IMG_ENUMERATE,
# mounts them, and a cp of one through WDSMC_OP_INITIATE + MS-WDSMT is
# bit-exact.
. "$(dirname "$0")/rpc_lib.sh"
WDSFS=${WDSFS:?set WDSFS to the wdsfs binary}
[ -x "$WDSFS" ] || skip "wdsfs not built"
[ -c /dev/fuse ] || skip "/dev/fuse missing"
command -v fusermount3 >/dev/null || skip "fusermount3 missing"
check_multicast

MNT=$T/mnt
mkdir "$MNT" "$T/images" "$T/cache"
make_file "$T/images/install.wim" 12
make_file "$T/images/boot.img" 1
add_user 'LAB\erin' 'Erin pass 4'
printf '%s\n' 'Erin pass 4' >"$T/pw"
chmod 600 "$T/pw"
rpc_config "$T/wdsmcd.conf" <<CONF
[namespace:WDS:Default/install.wim/1]
path = $T/images/install.wim
ttl = 0
max_rate = 40M
[namespace:Tools]
path = $T/images/boot.img
ttl = 0
CONF
start_daemon --config "$T/wdsmcd.conf" --no-udp
grep -q "MS-WDSMSI over UDP off" "$T/wdsmcd.log" || fail "UDP still on"

FS_PID=
fs_cleanup() {
    set +e
    if grep -q " $MNT fuse" /proc/mounts; then
        fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -u -z "$MNT" 2>/dev/null
    fi
    [ -n "$FS_PID" ] && kill -TERM "$FS_PID" 2>/dev/null
    return 0
}
trap 'st=$?; fs_cleanup; (exit $st); cleanup' EXIT

"$WDSFS" 127.0.0.1 "$MNT" -f --user 'LAB\erin' --password-file "$T/pw" --rpc-port "$RPC_PORT" \
    -o "interface=127.0.0.1,cache=$T/cache" >"$T/wdsfs.log" 2>&1 &
FS_PID=$!
mounted() { grep -q " $MNT fuse" /proc/mounts; }
wait_until 15 mounted || fail "wdsfs did not mount: $(cat "$T/wdsfs.log")"
find "$MNT" -not -path '*/.wdsfs*' | sed "s|$MNT|MNT|" | sort | tee "$T/tree.txt"
img=$MNT/Default/install.wim/1/install.wim
[ -f "$img" ] || fail "install.wim not listed where expected"
[ -f "$MNT/Tools/boot.img/1/boot.img" ] || fail "boot.img not listed"
[ "$(stat -c %s "$img")" = $((12 << 20)) ] || fail "install.wim size $(stat -c %s "$img")"
timeout 60 cp "$img" "$T/copy.wim" || fail "cp failed: $(tail -5 "$T/wdsfs.log")"
same_file "$T/images/install.wim" "$T/copy.wim" || fail "the copy differs"
grep -q "rpc: .*erin.* initiated 'WDS:Default/install.wim/1' 'install.wim'" "$T/wdsmcd.log" ||
    fail "wdsmcd did not log an RPC initiation"
fusermount3 -u "$MNT" || fail "unmount"
wait_status "$FS_PID" 10; FS_PID=
[ "$WAIT_STATUS" = 0 ] || fail "wdsfs exited $WAIT_STATUS"
# A wrong password: the mount fails with access denied.
printf 'wrong\n' >"$T/pw"
st=0; timeout 20 "$WDSFS" 127.0.0.1 "$MNT" -f --user 'LAB\erin' --password-file "$T/pw" \
    --rpc-port "$RPC_PORT" -o "interface=127.0.0.1,cache=$T/cache" >"$T/wdsfs2.log" 2>&1 || st=$?
[ "$st" != 0 ] && grep -qi "access denied" "$T/wdsfs2.log" || fail "wrong password: exit $st $(cat "$T/wdsfs2.log")"
daemon_alive
echo PASS
