#!/bin/bash
# wdsfs: SIGTERM to the daemon while a reader is blocked: the reader gets
# ECANCELED, the mount goes away, the spool is saved, the daemon exits 0.
# Same for SIGINT on the daemon.
. "$(dirname "$0")/fs_lib.sh"

mkimage install.wim $((2 << 20)) # 512 blocks
IMG="$MNT/$NS/install.wim"

for sig in TERM INT; do
    rm -f "$SRC/.stall"
    echo 100 > "$SRC/.stall_after"
    mount_fs --image "$NS=install.wim"
    "$RANDREAD" --once "$IMG" 0 $((2 << 20)) > "$T/once.out" &
    R=$!
    PIDS="$R"
    wait_for "$NS/install.wim" waiters ge 1
    t0=$(now_ms)
    kill -$sig "$DPID"
    wait $R
    t1=$(now_ms)
    PIDS=""
    grep -q "err ECANCELED" "$T/once.out" || fail "SIG$sig: reader got $(cat "$T/once.out")"
    [ $((t1 - t0)) -lt 1000 ] || fail "SIG$sig: reader answered after $((t1 - t0)) ms"
    wait_daemon_exit 0
    grep -q "stopping" "$T/daemon.log" || fail "no stop message"
    ls "$CACHE"/*.bitmap > /dev/null 2>&1 || fail "SIG$sig: spool bitmap not saved"
done

# The blocks of both runs were kept: a third mount resumes from 200 blocks.
rm -f "$SRC/.stall_after"
mount_fs --image "$NS=install.wim"
[ "$(field "$NS/install.wim" bytes_received)" -ge $((200 * 4096)) ] ||
    fail "spool lost blocks across SIGTERM: $(field "$NS/install.wim" bytes_received)"
timeout 30 cat "$IMG" > "$T/copy" || fail "final read"
[ "$(sha "$T/copy")" = "$(sha "$SRC/install.wim")" ] || fail "SHA-256 differs"
unmount_fs
echo "PASS"
