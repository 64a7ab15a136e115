#!/bin/bash
# wdsfs over a real network session: random offsets and lengths (randread)
# checked against the source while the image is delivered, two readers.
. "$(dirname "$0")/fsnet_lib.sh"

SIZE=$((64 << 20))
mkimage install.wim $SIZE
IMG="$MNT/$NS/install.wim"
SERVE_MAX_RATE=20000000 start_serve "$NS=$SRC/install.wim"
mount_fs --image "$NS=install.wim" -o timeout=10

timeout 60 "$RANDREAD" "$SRC/install.wim" "$IMG" 400 7 300000 > "$T/r1.out" 2>&1 &
R1=$!
timeout 60 "$RANDREAD" "$SRC/install.wim" "$IMG" 400 99 70000 > "$T/r2.out" 2>&1 &
R2=$!
PIDS="$R1 $R2"
# Both started before the image is there: mid-delivery.
sleep 0.5
st=$(field "$NS/install.wim" state)
[ "$st" = receiving ] || [ "$st" = starting ] || fail "state $st half a second in, want receiving"
wait $R1 || fail "randread 1: $(cat "$T/r1.out")"
wait $R2 || fail "randread 2: $(cat "$T/r2.out")"
PIDS=""
cat "$T/r1.out" "$T/r2.out"
# After completion: another pass, and a whole-file compare.
"$RANDREAD" "$SRC/install.wim" "$IMG" 200 3 > "$T/r3.out" 2>&1 || fail "randread 3: $(cat "$T/r3.out")"
timeout 60 cmp "$IMG" "$SRC/install.wim" || fail "image differs"
[ "$(field "$NS/install.wim" sessions)" = 1 ] || fail "sessions $(field "$NS/install.wim" sessions), want 1"
unmount_fs
echo PASS
