#!/bin/bash
# wdsfs: a blocked reader and Ctrl-C (EINTR within 1 s), O_NONBLOCK (EAGAIN),
# unlink of the control file (ECANCELED within 1 s), then a new open resumes
# and asks only for the missing blocks.
. "$(dirname "$0")/fs_lib.sh"

mkimage install.wim $((4 << 20)) # 1024 blocks of 4096
IMG="$MNT/$NS/install.wim"
CTL="$MNT/.wdsfs/sessions/$NS/install.wim"

touch "$SRC/.stall"
mount_fs --image "$NS=install.wim"

# SIGINT to a blocked reader that handles it: the read returns EINTR.
"$RANDREAD" --once "$IMG" 0 4096 > "$T/once.out" &
R=$!
PIDS="$R"
wait_for "$NS/install.wim" waiters ge 1
t0=$(now_ms)
kill -INT $R
wait $R
t1=$(now_ms)
PIDS=""
grep -q "err EINTR" "$T/once.out" || fail "interrupted read: $(cat "$T/once.out"), want EINTR"
[ $((t1 - t0)) -lt 1000 ] || fail "interrupted read took $((t1 - t0)) ms"

# Ctrl-C on a foreground cat (default SIGINT: the process dies).
t0=$(now_ms)
timeout -s INT 0.3 cat "$IMG" > /dev/null 2>&1
t1=$(now_ms)
[ $((t1 - t0)) -lt 1300 ] || fail "cat survived SIGINT for $((t1 - t0)) ms"
[ "$(field "$NS/install.wim" waiters)" = 0 ] || fail "waiter left after interrupts"

# O_NONBLOCK and a missing block: EAGAIN at once.
out=$(timeout 5 "$RANDREAD" --once "$IMG" 8192 4096 --nonblock)
[ "$out" = "err EAGAIN" ] || fail "O_NONBLOCK read: $out, want EAGAIN"

# Let 600 of 1024 blocks arrive, block a reader on the rest, cancel.
echo 600 > "$SRC/.stall_after"
rm "$SRC/.stall"
timeout 30 cat "$IMG" > /dev/null 2> "$T/cat.err" &
R=$!
PIDS="$R"
wait_for "$NS/install.wim" session_bytes ge $((600 * 4096))
wait_for "$NS/install.wim" waiters ge 1
t0=$(now_ms)
rm "$CTL" || fail "unlink of the control file failed"
wait $R
rc=$?
t1=$(now_ms)
PIDS=""
[ $rc != 0 ] || fail "cat succeeded after cancel"
grep -q "Operation canceled" "$T/cat.err" || fail "cat: $(cat "$T/cat.err"), want ECANCELED"
[ $((t1 - t0)) -lt 1000 ] || fail "cancel took $((t1 - t0)) ms"
[ "$(field "$NS/install.wim" state)" = cancelled ] || fail "state after cancel"
[ "$(field "$NS/install.wim" bytes_received)" = $((600 * 4096)) ] || fail "received blocks lost"
[ -e "$CTL" ] || fail "the control file should stay"

# A new open starts a new session that resumes: only the 424 missing blocks.
timeout 30 cat "$IMG" > "$T/copy" || fail "reading after cancel"
[ "$(sha "$T/copy")" = "$(sha "$SRC/install.wim")" ] || fail "SHA-256 differs after resume"
[ "$(field "$NS/install.wim" sessions)" = 2 ] || fail "want exactly two sessions"
[ "$(field "$NS/install.wim" session_bytes)" = $((424 * 4096)) ] ||
    fail "resumed session received $(field "$NS/install.wim" session_bytes) bytes, want only the missing"
unmount_fs
echo "PASS"
