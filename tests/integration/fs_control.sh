#!/bin/bash
# wdsfs control tree: status JSON, `wdsfs --status`, control file text,
# `add`; errors at mount naming a missing image; too little spool space.
. "$(dirname "$0")/fs_lib.sh"

mkimage install.wim $((1 << 20))
mkimage extra.bin $((512 << 10))
mkimage big.wim $((4 << 20))

# An image the server does not have: mount fails, naming it.
"$WDSFS" 127.0.0.1 "$MNT" -o "cache=$CACHE,fake_source=$SRC" \
    --image "$NS=install.wim,nosuch.wim" > "$T/err" 2>&1 && fail "mount with a missing image"
grep -q "nosuch.wim.*no such namespace or content" "$T/err" || fail "message: $(cat "$T/err")"
mounted && fail "mounted anyway"

# Too little free space for the spool: a clear error suggesting -o stream.
mkdir "$T/small"
mount -t tmpfs -o size=2m tmpfs "$T/small" || fail "cannot mount a tmpfs"
"$WDSFS" 127.0.0.1 "$MNT" -o "cache=$T/small,fake_source=$SRC" \
    --image "$NS=big.wim" > "$T/err" 2>&1 && fail "mount without room for the spool"
umount "$T/small"
grep -q "big.wim: not enough free space.*-o stream" "$T/err" || fail "message: $(cat "$T/err")"

# Background mode (no -f): the parent exits 0 once mounted.
"$WDSFS" 127.0.0.1 "$MNT" -o "cache=$CACHE,fake_source=$SRC,fake_block=4096" \
    --image "$NS=install.wim" > "$T/bg.out" 2>&1 || fail "background mount: $(cat "$T/bg.out")"
[ -s "$T/bg.out" ] && fail "background mount printed: $(cat "$T/bg.out")"
mounted || fail "not mounted after the parent exited"
DPID=$(pgrep -f "^$WDSFS 127.0.0.1 $MNT " | head -1)
[ -n "$DPID" ] || fail "daemon not found"

python3 - "$MNT/.wdsfs/status" <<'PY' || fail "status JSON"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["version"] == 1 and doc["server"] == "127.0.0.1:5041", doc
img = doc["images"][0]
for k in ("path", "state", "bytes_received", "total", "percent", "rate", "session_id",
          "server" if False else "last_error", "mode", "sessions"):
    assert k in img, k
assert img["path"] == "WDS:Default/install.wim/1/install.wim", img
assert img["total"] == 1 << 20 and img["state"] == "idle", img
PY
cat "$MNT/$NS/install.wim" > /dev/null || fail "read"
"$WDSFS" --status "$MNT" > "$T/st" || fail "wdsfs --status"
grep -q "install.wim" "$T/st" && grep -q "100%" "$T/st" && grep -q complete "$T/st" ||
    fail "wdsfs --status output: $(cat "$T/st")"
timeout 5 "$WDSFS" --status "$MNT" --watch > /dev/null || fail "--watch did not end when complete"
grep -q "^state: *complete" "$MNT/.wdsfs/sessions/$NS/install.wim" || fail "control file text"

# add: a new image appears and reads; a missing one fails the write.
echo "WDS:Other/extra/1 extra.bin" > "$MNT/.wdsfs/add" || fail "add"
cmp -s "$MNT/WDS:Other/extra/1/extra.bin" "$SRC/extra.bin" || fail "added image differs"
[ -e "$MNT/.wdsfs/sessions/WDS:Other/extra/1/extra.bin" ] || fail "no control file for the add"
out=$(bash -c "echo 'WDS:Other/x/1=nothere.bin' > '$MNT/.wdsfs/add'" 2>&1) && fail "add of a missing content"
echo "$out" | grep -q "No such file or directory" || fail "add missing: $out"
out=$(bash -c "echo 'WDS:Other/extra/1 extra.bin' > '$MNT/.wdsfs/add'" 2>&1) && fail "duplicate add"
echo "$out" | grep -q "File exists" || fail "duplicate add: $out"
out=$(bash -c "echo 'garbage' > '$MNT/.wdsfs/add'" 2>&1) && fail "malformed add"
echo "$out" | grep -q "Invalid argument" || fail "malformed add: $out"
[ ! -e "$MNT/WDS:Other/x" ] || fail "failed add left a directory"
[ "$(python3 -c "import json;print(len(json.load(open('$MNT/.wdsfs/status'))['images']))")" = 2 ] ||
    fail "status should list 2 images"
fusermount3 -u "$MNT" || fail "fusermount3 -u"
for _ in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$DPID" 2>/dev/null && fail "daemon alive after unmount"
DPID=""
echo "PASS"
