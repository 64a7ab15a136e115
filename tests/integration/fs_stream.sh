#!/bin/bash
# wdsfs -o stream: no spool; memory bounded by the window whatever the image
# size; reading backwards re-requests the blocks (a new session).
. "$(dirname "$0")/fs_lib.sh"

SIZE=$((256 << 20))
mkimage install.wim $SIZE
IMG="$MNT/$NS/install.wim"

mount_fs --image "$NS=install.wim" -o stream,window=4M,fake_block=32768,fake_rate=64
[ "$(field "$NS/install.wim" mode)" = stream ] || fail "not in stream mode"
[ "$(field "$NS/install.wim" spool)" = null ] || fail "stream mode has a spool"
timeout 90 cat "$IMG" | sha256sum | cut -d' ' -f1 > "$T/sum"
[ "$(cat "$T/sum")" = "$(sha "$SRC/install.wim")" ] || fail "streamed SHA-256 differs"
# Sanitizer builds keep freed memory in quarantine: allow for it there.
LIMIT=$((40 << 10))
ldd "$WDSFS" | grep -q libasan && LIMIT=$((64 << 10))
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$DPID/status")
echo "peak RSS ${hwm} KiB for a $((SIZE >> 20)) MiB image, 4 MiB window (limit $LIMIT KiB)"
[ "$hwm" -lt "$LIMIT" ] || fail "peak RSS ${hwm} KiB: memory not bounded by the window"
ls "$CACHE" | grep -q . && fail "stream mode wrote to the cache directory"

# Backwards: a slice near the start, then random reads anywhere.
timeout 60 dd if="$IMG" of="$T/slice" bs=32768 skip=10 count=40 status=none || fail "dd"
dd if="$SRC/install.wim" of="$T/want" bs=32768 skip=10 count=40 status=none
cmp -s "$T/slice" "$T/want" || fail "slice read backwards differs"
timeout 90 "$RANDREAD" "$SRC/install.wim" "$IMG" 40 11 200000 || fail "random reads in stream mode"
[ "$(field "$NS/install.wim" sessions)" -ge 2 ] || fail "going back did not re-request"
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$DPID/status")
[ "$hwm" -lt "$LIMIT" ] || fail "peak RSS ${hwm} KiB after random reads"
unmount_fs
echo "PASS"
