#!/bin/bash
# wdsfs over a real network session: dd bs=1M skip=N count=M of a middle
# slice while the image arrives equals the same slice of the source.
. "$(dirname "$0")/fsnet_lib.sh"

mkimage install.wim $((96 << 20))
IMG="$MNT/$NS/install.wim"
SERVE_MAX_RATE=40000000 start_serve "$NS=$SRC/install.wim"
mount_fs --image "$NS=install.wim" -o timeout=10

SKIP=37; COUNT=21
timeout 60 dd if="$IMG" of="$T/slice" bs=1M skip=$SKIP count=$COUNT status=none ||
    fail "dd from the mount failed"
dd if="$SRC/install.wim" of="$T/want" bs=1M skip=$SKIP count=$COUNT status=none
[ "$(stat -c %s "$T/slice")" = $((COUNT << 20)) ] || fail "slice is $(stat -c %s "$T/slice") bytes"
cmp "$T/slice" "$T/want" || fail "the slice differs from the source's"
[ "$(sha "$T/slice")" = "$(sha "$T/want")" ] || fail "SHA-256 of the slice differs"

# An unaligned slice (odd block size) too, and the last partial megabyte.
timeout 60 dd if="$IMG" of="$T/odd" bs=12345 skip=3001 count=77 status=none || fail "dd odd"
dd if="$SRC/install.wim" of="$T/odd.want" bs=12345 skip=3001 count=77 status=none
cmp "$T/odd" "$T/odd.want" || fail "the unaligned slice differs"
timeout 60 dd if="$IMG" of="$T/tail" bs=1M skip=95 status=none || fail "dd tail"
dd if="$SRC/install.wim" of="$T/tail.want" bs=1M skip=95 status=none
cmp "$T/tail" "$T/tail.want" || fail "the last megabyte differs"
unmount_fs
echo PASS
