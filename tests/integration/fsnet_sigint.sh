#!/bin/bash
# wdsfs over a real network session: a reader blocked on missing data (slow
# server, read near the end) sent SIGINT returns within one second: EINTR
# with a handler (randread --once), and a plain cat dies. The session goes
# on: the image still completes bit-exact afterwards.
. "$(dirname "$0")/fsnet_lib.sh"

SIZE=$((1 << 20))
mkimage install.wim $SIZE
IMG="$MNT/$NS/install.wim"
SERVE_MAX_RATE=200000 start_serve "$NS=$SRC/install.wim"
mount_fs --image "$NS=install.wim" -o timeout=10

"$RANDREAD" --once "$IMG" $((SIZE - 4096)) 4096 > "$T/once.out" &
R=$!
PIDS="$R"
wait_for "$NS/install.wim" waiters ge 1
t0=$(now_ms)
kill -INT $R
wait_pid $R 5
t1=$(now_ms)
PIDS=""
[ "$WAIT_STATUS" != timeout ] || fail "the reader did not return within 5 s of SIGINT"
echo "reader: $(cat "$T/once.out") after $((t1 - t0)) ms"
grep -q "err EINTR" "$T/once.out" || fail "reader got '$(cat "$T/once.out")', want EINTR"
[ $((t1 - t0)) -lt 1000 ] || fail "SIGINT took $((t1 - t0)) ms (limit 1000)"

# A foreground reader with the default SIGINT action (background jobs of a
# script ignore SIGINT, so timeout runs it and sends the SIGINT, after 0.5 s).
t0=$(now_ms)
timeout -s INT 0.5 dd if="$IMG" of=/dev/null bs=64k skip=12 status=none 2>/dev/null
rc=$?
t1=$(now_ms)
[ $rc = 124 ] || fail "dd exited $rc, want 124 (killed by SIGINT while blocked)"
[ $((t1 - t0)) -lt 1500 ] || fail "dd took $((t1 - t0 - 500)) ms to die of SIGINT"
wait_for "$NS/install.wim" waiters eq 0 2
st=$(field "$NS/install.wim" state)
[ "$st" = receiving ] || fail "state $st after the interrupts, want receiving"

# The session was not disturbed: it completes (1 MiB at 200 KB/s).
timeout 40 cat "$IMG" > "$T/copy" || fail "reading after the interrupts"
[ "$(sha "$T/copy")" = "$(sha "$SRC/install.wim")" ] || fail "SHA-256 differs"
[ "$(field "$NS/install.wim" sessions)" = 1 ] || fail "sessions $(field "$NS/install.wim" sessions), want 1"
unmount_fs
echo PASS
