#!/bin/bash
# The wdsfs mount's helpers shared by fs_lib.sh (fake source) and
# fsnet_lib.sh (real server); sourced by both. Needs MNT, T, DPID, fail and
# now_ms from the sourcing library.

mounted() { grep -q " $MNT fuse" /proc/mounts; }

unmount_fs() {
    fusermount3 -u "$MNT" || fail "fusermount3 -u failed"
    wait_daemon_exit 0
}

# wait_daemon_exit CODE: the daemon ends within 20 s (its drain waits up to
# 5 s for sessions to end; a busy machine adds more) with CODE, unmounted.
# An exit slower than 2 s is reported.
wait_daemon_exit() {
    local t0 t1
    t0=$(now_ms)
    for _ in $(seq 400); do
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.05
    done
    t1=$(now_ms)
    kill -0 "$DPID" 2>/dev/null && fail "daemon still running 20 s later"
    [ $((t1 - t0)) -lt 2000 ] ||
        echo "WARNING: wdsfs took $((t1 - t0)) ms to exit: $(grep -h 'without waiting' "$T/daemon.log")" >&2
    wait "$DPID"
    local rc=$?
    DPID=""
    [ "$rc" = "$1" ] || fail "daemon exited $rc, want $1"
    mounted && fail "still mounted after the daemon exited"
    return 0
}

# field PATH KEY: one field of an image in .wdsfs/status.
field() {
    python3 - "$MNT/.wdsfs/status" "$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for img in doc["images"]:
    if img["path"] == sys.argv[2]:
        v = img[sys.argv[3]]
        print("null" if v is None else v)
        break
else:
    sys.exit("no image " + sys.argv[2])
PY
}

# wait_for PATH KEY OP VALUE [SECONDS]: until the status field compares true.
wait_for() {
    local n=$(( ${5:-10} * 20 )) v=""
    for _ in $(seq "$n"); do
        v=$(field "$1" "$2")
        case "$3" in
        eq) [ "$v" = "$4" ] && return 0 ;;
        ge) [ "$v" -ge "$4" ] 2>/dev/null && return 0 ;;
        esac
        sleep 0.05
    done
    fail "status $1 $2=$v, want $3 $4"
}
