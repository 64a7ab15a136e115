# Shared helpers of the wdsfs integration tests (sourced). Each test mounts a
# real FUSE file system served by the fake source (-o fake_source=DIR: blocks
# of local files in shuffled order), in its own temp dir; the trap always
# unmounts and kills what the test started. Skips (77) only without FUSE.
set -u

[ -c /dev/fuse ] || { echo "SKIP: /dev/fuse missing"; exit 77; }
WDSFS=${WDSFS:?set WDSFS to the wdsfs binary}
RANDREAD=${RANDREAD:?set RANDREAD to the randread binary}

T=$(mktemp -d /tmp/wdsfs-it.XXXXXX)
SRC=$T/src
MNT=$T/mnt
CACHE=$T/cache
mkdir -p "$SRC" "$MNT" "$CACHE"
PIDS=""
DPID=""
NS='WDS:Default/install.wim/1'

cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    if grep -q " $MNT " /proc/mounts; then
        fusermount3 -u -z "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
    fi
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null
    sleep 0.2
    for p in $PIDS $DPID; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    grep -q " $T/" /proc/mounts && umount -l "$T"/* 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    if [ -s "$T/daemon.log" ]; then
        echo "--- daemon log (last 30 lines)" >&2
        tail -n 30 "$T/daemon.log" >&2
    fi
    exit 1
}

# mkimage NAME BYTES: a random source file the fake server serves.
mkimage() { head -c "$2" /dev/urandom > "$SRC/$1"; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

# mount_fs ARGS...: run wdsfs in the foreground (background job, DPID), wait
# until mounted. Default options: our cache dir and the fake source.
mount_fs() {
    "$WDSFS" 127.0.0.1 "$MNT" -f -o "cache=$CACHE,fake_source=$SRC,fake_block=4096" "$@" \
        >> "$T/daemon.log" 2>&1 &
    DPID=$!
    for _ in $(seq 100); do
        mounted && return 0
        kill -0 "$DPID" 2>/dev/null || fail "wdsfs exited before mounting"
        sleep 0.05
    done
    fail "not mounted after 5 s"
}

now_ms() { date +%s%3N; }

. "$(dirname "${BASH_SOURCE[0]}")/mount_lib.sh"
