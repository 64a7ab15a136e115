#!/bin/bash
# wdsfs over a real network session: cp of a 256 MiB image from the mount
# while it is being delivered (server capped at ~100 MB/s, so cp starts
# mid-delivery); the copy's SHA-256 equals the source's.
. "$(dirname "$0")/fsnet_lib.sh"

SIZE=$((256 << 20))
mkimage install.wim $SIZE
IMG="$MNT/$NS/install.wim"
SERVE_MAX_RATE=100000000 start_serve "$NS=$SRC/install.wim"
mount_fs --image "$NS=install.wim" -o timeout=10

[ "$(stat -c %s "$IMG")" = $SIZE ] || fail "st_size $(stat -c %s "$IMG"), want $SIZE"
# The preferred I/O size cp and cat size their reads by (fs/ops.c).
[ "$(stat -c %o "$IMG")" = 1048576 ] || fail "st_blksize $(stat -c %o "$IMG"), want 1048576"
t0=$(now_ms)
timeout 60 cp "$IMG" "$T/copy" || fail "cp failed"
t1=$(now_ms)
echo "cp: $((t1 - t0)) ms"
# At ~100 MB/s the 256 MiB cannot have been there before cp started.
[ $((t1 - t0)) -ge 1500 ] || fail "cp took $((t1 - t0)) ms: was the rate cap applied?"
[ "$(sha "$T/copy")" = "$(sha "$SRC/install.wim")" ] || fail "SHA-256 of the copy differs"
[ "$(field "$NS/install.wim" state)" = complete ] || fail "state $(field "$NS/install.wim" state)"
[ "$(field "$NS/install.wim" sessions)" = 1 ] || fail "sessions $(field "$NS/install.wim" sessions), want 1"
for _ in $(seq 60); do grep -q "left: complete" "$T/serve.log" && break; sleep 0.05; done
grep -q "left: complete" "$T/serve.log" || fail "no LEAVE (complete) in the server log"
unmount_fs
echo PASS
