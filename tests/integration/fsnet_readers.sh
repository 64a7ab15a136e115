#!/bin/bash
# wdsfs over real network sessions: two concurrent readers of one image, and
# at the same time one reader each of two other images (a second content of
# the namespace, and a content of another namespace), all bit-exact; one
# session per image (status "sessions":1, one server session per content).
. "$(dirname "$0")/fsnet_lib.sh"

NS2='WDS:Net/other/1'
mkimage a.img $((48 << 20))
mkimage b.img $((40 << 20))
mkimage c.img $((24 << 20))
SERVE_MAX_RATE=30000000 start_serve "$NS=$SRC/a.img" "$NS=$SRC/b.img" "$NS2=$SRC/c.img"
mount_fs --image "$NS=a.img,b.img" --image "$NS2=c.img" -o timeout=10

timeout 60 cp "$MNT/$NS/a.img" "$T/a1" & P1=$!
timeout 60 dd if="$MNT/$NS/a.img" of="$T/a2" bs=256k status=none & P2=$!
timeout 60 cat "$MNT/$NS/b.img" > "$T/b" & P3=$!
timeout 60 cp "$MNT/$NS2/c.img" "$T/c" & P4=$!
PIDS="$P1 $P2 $P3 $P4"
# All four are reading while the data arrives.
wait_for "$NS/a.img" readers eq 2
for p in $P1 $P2 $P3 $P4; do wait $p || fail "a reader failed (pid $p)"; done
PIDS=""

[ "$(sha "$T/a1")" = "$(sha "$SRC/a.img")" ] || fail "a.img reader 1 differs"
[ "$(sha "$T/a2")" = "$(sha "$SRC/a.img")" ] || fail "a.img reader 2 differs"
[ "$(sha "$T/b")" = "$(sha "$SRC/b.img")" ] || fail "b.img differs"
[ "$(sha "$T/c")" = "$(sha "$SRC/c.img")" ] || fail "c.img differs"
for p in "$NS/a.img" "$NS/b.img" "$NS2/c.img"; do
    [ "$(field "$p" sessions)" = 1 ] || fail "$p: sessions $(field "$p" sessions), want 1"
    [ "$(field "$p" state)" = complete ] || fail "$p: state $(field "$p" state)"
done
# The server saw one session per content, with one client each.
for c in "$NS/a.img" "$NS/b.img" "$NS2/c.img"; do
    n=$(grep -cF "($c): " "$T/serve.log")
    [ "$n" = 1 ] || fail "server started $n sessions for $c, want 1"
done
n=$(grep -c " joined" "$T/serve.log")
[ "$n" = 3 ] || fail "$n client joins in the server log, want 3"
unmount_fs
echo PASS
