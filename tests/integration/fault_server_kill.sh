#!/bin/bash
# The server killed with SIGKILL mid-transfer, then restarted. In a namespace
# topology (server + three receivers on a bridge): r1 and r2 run wdsget, r3
# a wdsfs mount with a spool read by cp. After the kill, r1 and r2 exit
# non-zero with "timed out: no packets from SERVER for 5 s" and r3's reader
# gets EIO with the blocks received kept in the spool. With the server back,
# a new wdsget run completes bit-exact (wdsget has no resume: it starts over),
# and a new read through the mount resumes: its session receives only what
# the spool lacked, and the image is bit-exact.
# Usage: fault_server_kill.sh SERVE WDSGET [WDSFS]
SERVE=$1
WDSGET=$2
WDSFS=${3:-${WDSFS:-}}
. "$(dirname "$0")/fault_lib.sh"
topology

MNT=$T/mnt
CACHE=$T/cache
mkdir -p "$MNT" "$CACHE"
DPID=""
use_fs=false
# Without FUSE (a container) the resume half runs with wdsget alone; a
# WDSFS that was given but cannot run is an error, not a reason to skip.
if [ -n "$WDSFS" ] && [ -c /dev/fuse ]; then
    [ -x "$WDSFS" ] || fail "WDSFS=$WDSFS is not executable"
    use_fs=true
fi
# Unmount before the namespaces go (the trap of fault_lib.sh runs after).
fs_cleanup() {
    if grep -q " $MNT " /proc/mounts; then
        fusermount3 -u -z "$MNT" 2> /dev/null || umount -l "$MNT" 2> /dev/null
    fi
    fault_cleanup
}
trap fs_cleanup EXIT

make_image 64
# 64 MiB at 4 MB/s: about 17 s; the kill comes at about a quarter.
SERVE_DEBUG=1 SERVE_MAX_RATE=4000000 start_fserver "$PORT" "Images=$T/image.bin"

if $use_fs; then
    (exec nsenter --net=/run/netns/"$FX-r3" "$WDSFS" "$SRV_IP:$PORT" "$MNT" -f \
        --image Images=image.bin -o "cache=$CACHE,interface=10.77.0.13,timeout=5" \
        >> "$T/wdsfs.log" 2>&1) &
    DPID=$!
    PIDS="$PIDS $DPID"
    for _ in $(seq 100); do
        grep -q " $MNT fuse" /proc/mounts && break
        kill -0 "$DPID" 2> /dev/null || { cat "$T/wdsfs.log"; fail "wdsfs exited before mounting"; }
        sleep 0.05
    done
    grep -q " $MNT fuse" /proc/mounts || fail "wdsfs: not mounted after 5 s"
    IMG=$MNT/Images/image.bin
    cp "$IMG" "$T/r3.bin" 2> "$T/cp1.err" &
    cp1=$!
    PIDS="$PIDS $cp1"
fi
start_get r1 r1 5; p1=$GET_PID
start_get r2 r2 5; p2=$GET_PID

wait_progress r1 12
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2> /dev/null
echo "server killed at $(elapsed) s, r1 had $(progress r1) bytes"

msg="timed out: no packets from $SRV_IP:$PORT for 5 s"
for r in r1 r2; do
    eval "p=\$p${r#r}"
    wait "$p" && fail "$r: wdsget exited 0 with the server dead"
    grep -q "$msg" "$T/$r.err" || { cat "$T/$r.err"; fail "$r: no '$msg'"; }
done
echo "r1, r2 failed with '$msg' at $(elapsed) s"

if $use_fs; then
    wait "$cp1" && fail "r3: cp through the mount succeeded with the server dead"
    grep -q "Input/output error" "$T/cp1.err" || { cat "$T/cp1.err"; fail "r3: cp: no EIO"; }
    got1=$(getfattr --only-values -n user.wdsfs.received "$IMG" 2> /dev/null ||
        python3 -c "import os,sys; print(os.getxattr(sys.argv[1], 'user.wdsfs.received').decode())" "$IMG")
    [ "${got1:-0}" -gt 0 ] || fail "r3: nothing in the spool after the kill"
    echo "r3: cp got EIO; the spool holds $got1 bytes"
fi

start_fserver "$PORT" "Images=$T/image.bin"
start_get r1 r1 10; p1=$GET_PID
start_get r2 r2 10; p2=$GET_PID
if $use_fs; then
    # Clear the failed state; the next read starts a session that resumes.
    rm -f "$MNT/.wdsfs/sessions/Images/image.bin"
    cp "$IMG" "$T/r3.bin" 2> "$T/cp2.err" || { cat "$T/cp2.err"; fail "r3: second cp failed"; }
    [ "$(sha "$T/r3.bin")" = "$WANT" ] || fail "r3: SHA-256 of the resumed image differs"
    st=$(cat "$MNT/.wdsfs/status")
    sb=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["images"][0]["session_bytes"])' "$st")
    [ "$sb" -lt $((64 << 20)) ] || fail "r3: the second session received $sb bytes: no resume"
    [ "$sb" -le $(((64 << 20) - got1 + (4 << 20))) ] ||
        fail "r3: the second session received $sb bytes, more than what was missing"
    echo "r3: resumed: the second session received $sb of $((64 << 20)) bytes"
fi
wait_get $p1 r1
wait_get $p2 r2
echo "ok: server SIGKILL: clear timeouts; re-run bit-exact$($use_fs && echo "; wdsfs resumed") in $(elapsed) s"
