#!/bin/bash
# wdsfs through mount(8) and fstab conventions: `mount -t fuse.wdsfs SERVER
# MNT -o image=...` (mount.fuse3 runs "wdsfs SERVER MNT -o OPTS"), images
# from a config file, `umount` ends the daemon.
. "$(dirname "$0")/fs_lib.sh"

[ "$(id -u)" = 0 ] || fail "needs root for mount(8)"
command -v mount.fuse3 > /dev/null || fail "mount.fuse3 missing (fuse3 package)"
mkimage install.wim $((1 << 20))
mkimage res.rwm 5000
mkdir "$T/bin"
ln -s "$WDSFS" "$T/bin/wdsfs"

# mount(8) with the "-t fuse PROGRAM#SOURCE" form, so the helper finds our
# build of wdsfs (-t fuse.wdsfs needs wdsfs installed in the system PATH:
# mount(8) runs its helpers with a fixed PATH).
mount -t fuse "$T/bin/wdsfs#127.0.0.1" "$MNT" \
    -o "image=$NS=install.wim,image=$NS=res.rwm,cache=$CACHE,fake_source=$SRC,allow_other,nosuid,nodev" ||
    fail "mount -t fuse wdsfs#SERVER"
grep -q "^127.0.0.1:5041 $MNT fuse.wdsfs ro\?.*allow_other\|^127.0.0.1:5041 $MNT fuse.wdsfs " /proc/mounts ||
    fail "/proc/mounts: $(grep "$MNT" /proc/mounts)"
cmp -s "$MNT/$NS/install.wim" "$SRC/install.wim" || fail "read through mount(8)"
cmp -s "$MNT/$NS/res.rwm" "$SRC/res.rwm" || fail "second image"
DPID=$(pgrep -f "wdsfs 127.0.0.1 $MNT" | head -1)
[ -n "$DPID" ] || fail "daemon not found"
umount "$MNT" || fail "umount"
for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$DPID" 2>/dev/null && fail "daemon alive after umount"
DPID=""

# Images from a config file (the fstab line stays short).
cat > "$T/images.conf" <<CONF
# namespace=content[,content]
$NS=install.wim,res.rwm
CONF
# What mount(8) runs for "-t fuse.wdsfs": mount.fuse3 SOURCE MNT -t wdsfs -o OPTS.
PATH="$T/bin:$PATH" mount.fuse3 127.0.0.1:5041 "$MNT" -t wdsfs \
    -o "config=$T/images.conf,cache=$CACHE,fake_source=$SRC" || fail "mount.fuse3 -t wdsfs with config="
cmp -s "$MNT/$NS/res.rwm" "$SRC/res.rwm" || fail "read with config="
DPID=$(pgrep -f "wdsfs 127.0.0.1:5041 $MNT" | head -1)
fusermount3 -u "$MNT" || fail "fusermount3 -u"
for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$DPID" 2>/dev/null && fail "daemon alive after fusermount3 -u"
DPID=""
echo "PASS"
