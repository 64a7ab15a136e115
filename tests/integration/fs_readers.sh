#!/bin/bash
# wdsfs: two readers of one image share one session; two images are
# independent sessions.
. "$(dirname "$0")/fs_lib.sh"

mkimage install.wim $((6 << 20))
mkimage res.rwm $((2 << 20))
IMG="$MNT/$NS/install.wim"

mount_fs --image "$NS=install.wim,res.rwm" -o fake_rate=6
timeout 60 cat "$IMG" > "$T/a" &
A=$!
timeout 60 "$RANDREAD" "$SRC/install.wim" "$IMG" 200 3 > "$T/rr.out" 2>&1 &
B=$!
timeout 60 cat "$MNT/$NS/res.rwm" > "$T/res" &
C=$!
PIDS="$A $B $C"
wait $A || fail "reader 1 failed"
wait $B || { cat "$T/rr.out" >&2; fail "reader 2 (random) failed"; }
wait $C || fail "res.rwm reader failed"
PIDS=""
[ "$(sha "$T/a")" = "$(sha "$SRC/install.wim")" ] || fail "reader 1: SHA-256 differs"
[ "$(sha "$T/res")" = "$(sha "$SRC/res.rwm")" ] || fail "res.rwm: SHA-256 differs"
[ "$(field "$NS/install.wim" sessions)" = 1 ] || fail "readers did not share one session"
[ "$(field "$NS/res.rwm" sessions)" = 1 ] || fail "second image: want its own session"
s1=$(field "$NS/install.wim" session_id)
s2=$(field "$NS/res.rwm" session_id)
[ "$s1" != "$s2" ] || fail "two images share a session id"
[ "$(field "$NS/install.wim" session_bytes)" = $((6 << 20)) ] || fail "blocks delivered twice"
unmount_fs
echo "PASS"
