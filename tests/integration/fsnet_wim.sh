#!/bin/bash
# wdsfs over a real network session with a real WIM: wimlib-imagex capture
# of a generated tree (dirs, ~30 MB of files, a symlink, an empty file),
# served, mounted, and applied with wimapply straight from the mount while
# it arrives; the applied tree equals the source tree (diff -r, per-file
# SHA-256, the symlink's target).
. "$(dirname "$0")/fsnet_lib.sh"

command -v wimlib-imagex > /dev/null || fail "wimlib-imagex (wimtools) is not installed"

TREE=$T/tree
mkdir -p "$TREE/Windows/System32/drivers" "$TREE/Users/Public/Documents" "$TREE/Program Files/App"
head -c $((18 << 20)) /dev/urandom > "$TREE/Windows/System32/ntoskrnl.exe"
head -c $((6 << 20)) /dev/urandom > "$TREE/Windows/System32/drivers/disk.sys"
head -c $((3 << 20)) /dev/urandom > "$TREE/Program Files/App/app.dll"
seq 1 250000 > "$TREE/Windows/setup.log"
head -c 777 /dev/urandom > "$TREE/Users/Public/Documents/small.bin"
: > "$TREE/Users/Public/empty.txt"
ln -s ../Windows/setup.log "$TREE/Users/link-to-log"
wimlib-imagex capture "$TREE" "$SRC/install.wim" "Test" --compress=none > "$T/capture.log" 2>&1 ||
    fail "wimlib-imagex capture: $(cat "$T/capture.log")"
echo "install.wim: $(stat -c %s "$SRC/install.wim") bytes"

IMG="$MNT/$NS/install.wim"
SERVE_MAX_RATE=30000000 start_serve "$NS=$SRC/install.wim"
mount_fs --image "$NS=install.wim" -o timeout=10

mkdir "$T/applied"
timeout 60 wimapply "$IMG" 1 "$T/applied" > "$T/apply.log" 2>&1 ||
    fail "wimapply from the mount: $(cat "$T/apply.log")"
diff -r --no-dereference "$TREE" "$T/applied" || fail "applied tree differs (diff -r)"
(cd "$TREE" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$T/want.sums"
(cd "$T/applied" && find . -type f -print0 | sort -z | xargs -0 sha256sum) > "$T/got.sums"
cmp "$T/want.sums" "$T/got.sums" || fail "per-file SHA-256 differ: $(diff "$T/want.sums" "$T/got.sums")"
[ "$(wc -l < "$T/got.sums")" = 6 ] || fail "want 6 files, got $(wc -l < "$T/got.sums")"
[ -L "$T/applied/Users/link-to-log" ] || fail "symlink not applied as a symlink"
[ "$(readlink "$T/applied/Users/link-to-log")" = ../Windows/setup.log ] ||
    fail "symlink target $(readlink "$T/applied/Users/link-to-log")"
[ -f "$T/applied/Users/Public/empty.txt" ] && [ ! -s "$T/applied/Users/Public/empty.txt" ] ||
    fail "empty file missing or not empty"
[ "$(sha "$IMG")" = "$(sha "$SRC/install.wim")" ] || fail "the WIM's SHA-256 differs"
[ "$(field "$NS/install.wim" sessions)" = 1 ] || fail "sessions $(field "$NS/install.wim" sessions), want 1"
unmount_fs
echo PASS
