#!/bin/bash
# wdsfs: cp, dd slices and random reads while blocks arrive (spool mode);
# unmount exits 0; a remount serves the complete spool without a session.
. "$(dirname "$0")/fs_lib.sh"

mkimage install.wim $((8 << 20))
mkimage res.rwm $(( (1 << 20) + 12345 ))
mkimage boot.wim $(( (3 << 20) + 77 ))
IMG="$MNT/$NS/install.wim"

mount_fs --image "$NS=install.wim,res.rwm,boot.wim" -o fake_rate=8
[ "$(stat -c %s "$IMG")" = $((8 << 20)) ] || fail "st_size is not the content size"
[ "$(field "$NS/install.wim" state)" = idle ] || fail "session joined before open"

# cp while the blocks arrive (about 1.3 s at 8 blocks per 5 ms).
timeout 60 cp "$IMG" "$T/copy" || fail "cp failed"
[ "$(sha "$T/copy")" = "$(sha "$SRC/install.wim")" ] || fail "cp: SHA-256 differs"
[ "$(field "$NS/install.wim" state)" = complete ] || fail "not complete after cp"
[ "$(field "$NS/install.wim" percent)" = 100 ] || fail "percent not 100"

# dd slice of an image still arriving (odd size, short last block).
timeout 60 dd if="$MNT/$NS/res.rwm" of="$T/slice" bs=4096 skip=100 count=50 status=none ||
    fail "dd failed"
dd if="$SRC/res.rwm" of="$T/want" bs=4096 skip=100 count=50 status=none
cmp -s "$T/slice" "$T/want" || fail "dd slice differs"
timeout 60 dd if="$MNT/$NS/res.rwm" of="$T/tail" bs=1000 skip=1048 status=none || fail "dd tail"
dd if="$SRC/res.rwm" of="$T/want" bs=1000 skip=1048 status=none
cmp -s "$T/tail" "$T/want" || fail "dd of the tail differs"

# Random offsets and lengths, each checked against the source.
timeout 60 "$RANDREAD" "$SRC/boot.wim" "$MNT/$NS/boot.wim" 300 7 || fail "random reads"
timeout 60 cat "$MNT/$NS/boot.wim" > "$T/boot" || fail "cat boot.wim"
[ "$(sha "$T/boot")" = "$(sha "$SRC/boot.wim")" ] || fail "boot.wim SHA-256 differs"
timeout 60 cat "$MNT/$NS/res.rwm" > "$T/res" || fail "cat res.rwm"
[ "$(sha "$T/res")" = "$(sha "$SRC/res.rwm")" ] || fail "res.rwm SHA-256 differs"

unmount_fs
ls "$CACHE"/*.bitmap > /dev/null 2>&1 || fail "no bitmap saved at unmount"

# Remount: the spool is complete, so no session is needed (the fake server
# is stalled to prove it) and the image is a plain cached file.
touch "$SRC/.stall"
mount_fs --image "$NS=install.wim,res.rwm,boot.wim"
[ "$(field "$NS/install.wim" state)" = complete ] || fail "spool not resumed as complete"
timeout 10 cat "$IMG" > "$T/copy2" || fail "reading the complete spool"
[ "$(sha "$T/copy2")" = "$(sha "$SRC/install.wim")" ] || fail "resumed spool differs"
[ "$(field "$NS/install.wim" sessions)" = 0 ] || fail "a session started for a complete image"
unmount_fs
echo "PASS"
