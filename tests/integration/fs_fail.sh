#!/bin/bash
# wdsfs: the server terminates the session (KICK): parked and later reads of
# missing blocks get EIO, received blocks stay readable, the reason is in
# status; unlinking the control file clears the failure and a new open
# resumes.
. "$(dirname "$0")/fs_lib.sh"

mkimage install.wim $((2 << 20)) # 512 blocks
IMG="$MNT/$NS/install.wim"

echo 200 > "$SRC/.stall_after"
mount_fs --image "$NS=install.wim"
timeout 30 cat "$IMG" > /dev/null 2> "$T/cat.err" &
R=$!
PIDS="$R"
wait_for "$NS/install.wim" session_bytes ge $((200 * 4096))
wait_for "$NS/install.wim" waiters ge 1
touch "$SRC/.fail"
wait $R
PIDS=""
grep -q "Input/output error" "$T/cat.err" || fail "parked reader: $(cat "$T/cat.err"), want EIO"
[ "$(field "$NS/install.wim" state)" = failed ] || fail "state is not failed"
field "$NS/install.wim" last_error | grep -q "terminated by server" ||
    fail "last_error: $(field "$NS/install.wim" last_error)"
grep -q "terminated by server" "$T/daemon.log" || fail "reason not in the log"

# Received blocks readable and correct, missing ones EIO.
out=$(timeout 30 "$RANDREAD" --scan "$SRC/install.wim" "$IMG" 4096) || fail "scan: bad data"
[ "$out" = "ok=200 eio=312 other=0" ] || fail "scan after failure: $out"
out=$(timeout 5 "$RANDREAD" --once "$IMG" 0 $((2 << 20)))
[ "$out" = "err EIO" ] || fail "later read of missing blocks: $out, want EIO"

# Clear it: unlink the control file; a new open resumes from the spool.
rm "$SRC/.fail" "$SRC/.stall_after"
rm "$MNT/.wdsfs/sessions/$NS/install.wim"
timeout 30 cat "$IMG" > "$T/copy" || fail "reading after the failure was cleared"
[ "$(sha "$T/copy")" = "$(sha "$SRC/install.wim")" ] || fail "SHA-256 differs"
[ "$(field "$NS/install.wim" session_bytes)" = $((312 * 4096)) ] || fail "did not resume"
unmount_fs
echo "PASS"
