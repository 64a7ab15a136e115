#!/bin/bash
# wdsfs: a read-only file system: write, create, chmod, truncate, unlink,
# mkdir, rename, link, setxattr all fail with EROFS; the user.wdsfs.*
# extended attributes report the image's state.
. "$(dirname "$0")/fs_lib.sh"

mkimage install.wim $((1 << 20))
IMG="$MNT/$NS/install.wim"
DIR="$MNT/$NS"

mount_fs --image "$NS=install.wim"

erofs() { # erofs DESCRIPTION COMMAND...
    local what=$1
    shift
    out=$("$@" 2>&1) && fail "$what succeeded"
    echo "$out" | grep -q "Read-only file system" || fail "$what: '$out', want EROFS"
}
erofs "write" sh -c "echo x >> '$IMG'"
erofs "truncating open" sh -c ": > '$IMG'"
erofs "create" touch "$DIR/new"
erofs "chmod" chmod 600 "$IMG"
erofs "truncate" truncate -s 0 "$IMG"
erofs "unlink" rm -f "$IMG"
erofs "mkdir" mkdir "$DIR/sub"
erofs "rmdir" rmdir "$MNT/WDS:Default/install.wim/1"
erofs "rename" mv "$IMG" "$DIR/other"
erofs "link" ln "$IMG" "$DIR/hard"
erofs "symlink" ln -s x "$DIR/sym"
erofs "touch" touch "$IMG"
erofs "write status" sh -c "echo x > '$MNT/.wdsfs/status'"
python3 - "$IMG" <<'PY' || fail "setxattr is not EROFS"
import errno, os, sys
try:
    os.setxattr(sys.argv[1], "user.x", b"1")
except OSError as e:
    sys.exit(0 if e.errno == errno.EROFS else 1)
sys.exit(1)
PY
[ "$(stat -c %a "$IMG")" = 444 ] || fail "image mode is not 0444"
[ -w "$IMG" ] && fail "image writable by access()"

# Extended attributes before and after the transfer.
xattrs() {
    python3 - "$IMG" <<'PY'
import os, sys
p = sys.argv[1]
names = sorted(os.listxattr(p))
print(" ".join(names))
for n in ("state", "progress", "received", "session"):
    print(n, os.getxattr(p, "user.wdsfs." + n).decode())
PY
}
xattrs > "$T/x0"
grep -q "^user.wdsfs.progress user.wdsfs.received user.wdsfs.session user.wdsfs.state$" "$T/x0" ||
    fail "listxattr: $(head -1 "$T/x0")"
grep -q "^state idle$" "$T/x0" || fail "state before open: $(cat "$T/x0")"
grep -q "^progress 0$" "$T/x0" || fail "progress before open"
timeout 30 cat "$IMG" > "$T/copy" || fail "read"
cmp -s "$T/copy" "$SRC/install.wim" || fail "data differs"
xattrs > "$T/x1"
grep -q "^state complete$" "$T/x1" || fail "state after read: $(cat "$T/x1")"
grep -q "^progress 100$" "$T/x1" || fail "progress after read"
grep -q "^received $((1 << 20))$" "$T/x1" || fail "received after read"
grep -q "^session [0-9][0-9]*$" "$T/x1" || fail "session id: $(cat "$T/x1")"
unmount_fs
echo "PASS"
