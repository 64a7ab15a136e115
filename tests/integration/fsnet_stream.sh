#!/bin/bash
# wdsfs -o stream over a real network session: a 1 GiB image piped through
# dd into sha256sum is correct (default 32M window), and the daemon's peak RSS (VmHWM of the -f
# daemon, sampled at the end) stays within 64 MiB: no spool, only the window.
. "$(dirname "$0")/fsnet_lib.sh"

SIZE=$((1 << 30))
mkimage disk.img $SIZE
sha "$SRC/disk.img" > "$T/want" &
SHAPID=$!
IMG="$MNT/$NS/disk.img"
SERVE_MAX_RATE=${FSNET_STREAM_RATE:-400000000} start_serve "$NS=$SRC/disk.img"
mount_fs --image "$NS=disk.img" -o stream,timeout=10

t0=$(now_ms)
got=$(timeout 90 dd if="$IMG" bs=1M status=none | sha256sum | cut -d' ' -f1)
t1=$(now_ms)
wait $SHAPID
echo "1 GiB streamed in $((t1 - t0)) ms"
[ "$got" = "$(cat "$T/want")" ] || fail "SHA-256 of the stream differs"
[ "$(field "$NS/disk.img" mode)" = stream ] || fail "mode $(field "$NS/disk.img" mode), want stream"
ls "$CACHE"/*.data > /dev/null 2>&1 && fail "stream mode wrote a spool"
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$DPID/status")
echo "wdsfs VmHWM: $hwm kB"
[ -n "$hwm" ] && [ "$hwm" -le $((64 << 10)) ] || fail "wdsfs peak RSS ${hwm} kB > 64 MiB"
unmount_fs
echo PASS
