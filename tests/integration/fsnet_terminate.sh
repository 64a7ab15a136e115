#!/bin/bash
# wdsfs over a real network session from wdsmcd: `wdsctl terminate` while
# two readers are blocked on missing data: both get EIO within two seconds;
# the image is failed (the reason in status), blocks already received stay
# readable, and a read spanning the first missing block returns what came
# before it, the next read EIO.
. "$(dirname "$0")/fsnet_lib.sh"

SIZE=$((8 << 20))
mkimage install.wim $SIZE
IMG="$MNT/$NS/install.wim"
start_wdsmcd 1M
mount_fs --image "$NS=install.wim" -o timeout=10

timeout 30 "$RANDREAD" --once "$IMG" $((SIZE - 65536)) 65536 > "$T/r1.out" &
R1=$!
timeout 30 cat "$IMG" > "$T/cat.out" 2> "$T/cat.err" &
R2=$!
PIDS="$R1 $R2"
wait_for "$NS/install.wim" waiters ge 2
wait_for "$NS/install.wim" bytes_received ge $((512 << 10))
sid=$(sessions_json "' '.join(str(s['id']) for s in d['sessions'] if s['content'] == 'install.wim')")
[ -n "$sid" ] || fail "no wdsmcd session for install.wim: $("$WDSCTL" -S "$CTL" sessions)"
[ "$(sessions_json "[s['clients'] for s in d['sessions'] if s['id'] == $sid][0]")" = 1 ] ||
    fail "session $sid should have one client (wdsfs)"
t0=$(now_ms)
"$WDSCTL" -S "$CTL" terminate --no-wait "$sid" > "$T/terminate.log" 2>&1 ||
    fail "wdsctl terminate failed: $(cat "$T/terminate.log")"
wait_pid $R1 5; st1=$WAIT_STATUS; t1=$(now_ms)
wait_pid $R2 5; st2=$WAIT_STATUS; t2=$(now_ms)
PIDS=""
echo "randread: $(cat "$T/r1.out") after $((t1 - t0)) ms; cat: $(cat "$T/cat.err") after $((t2 - t0)) ms"
[ "$st1" != timeout ] && [ "$st2" != timeout ] || fail "a reader still blocked 5 s after terminate"
grep -q "err EIO" "$T/r1.out" || fail "randread got '$(cat "$T/r1.out")', want EIO"
[ "$st2" != 0 ] || fail "cat succeeded after terminate"
grep -q "Input/output error" "$T/cat.err" || fail "cat: '$(cat "$T/cat.err")', want EIO"
[ $((t1 - t0)) -le 2000 ] && [ $((t2 - t0)) -le 2000 ] || fail "EIO took longer than 2 s"
[ "$(field "$NS/install.wim" state)" = failed ] || fail "state $(field "$NS/install.wim" state), want failed"
[ "$(field "$NS/install.wim" last_error)" != null ] || fail "no last_error"
echo "last_error: $(field "$NS/install.wim" last_error)"
# What cat got before the EIO is the source's beginning, and still readable.
got=$(stat -c %s "$T/cat.out")
[ "$got" -gt 0 ] || fail "cat read nothing before EIO"
cmp -n "$got" "$T/cat.out" "$SRC/install.wim" || fail "data before the EIO differs"
timeout 5 "$RANDREAD" --once "$IMG" 0 65536 | grep -q "ok 65536" || fail "received blocks not readable after terminate"
# One read of the whole image: a short read of the received blocks it starts
# with, then EIO at the first missing byte (fs/image.c reply_unfinished).
r=$(timeout 5 "$RANDREAD" --once "$IMG" 0 $SIZE)
short=${r#ok }
[ "$r" != "$short" ] && [ "$short" -gt 0 ] && [ "$short" -lt $SIZE ] ||
    fail "whole-image read after terminate got '$r', want a short read"
[ $((short % 8192)) = 0 ] || fail "short read of $short bytes ends inside a block"
timeout 5 "$RANDREAD" --once "$IMG" "$short" 65536 | grep -q "err EIO" ||
    fail "read at the first missing byte ($short) should be EIO"
echo "after terminate: a whole-image read returned $short bytes, the next EIO"
unmount_fs
echo PASS
