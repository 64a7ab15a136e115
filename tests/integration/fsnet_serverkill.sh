#!/bin/bash
# wdsfs over a real network session from wdsmcd: the server is killed (-9)
# mid-transfer; blocked readers get EIO after the inactivity timeout
# (-o timeout=3). Then the server is restarted (same content) and wdsfs
# remounted with the same cache dir: the image completes bit-exact, and the
# server's counters (wdsctl sessions --json bytes_sent) show that only the
# missing part was sent.
. "$(dirname "$0")/fsnet_lib.sh"

SIZE=$((32 << 20))
mkimage install.wim $SIZE
IMG="$MNT/$NS/install.wim"
start_wdsmcd 8M
mount_fs --image "$NS=install.wim" -o timeout=3

timeout 40 cat "$IMG" > "$T/cat.out" 2> "$T/cat.err" &
R1=$!
timeout 40 "$RANDREAD" --once "$IMG" $((SIZE - 4096)) 4096 > "$T/r1.out" &
R2=$!
PIDS="$R1 $R2"
wait_for "$NS/install.wim" bytes_received ge $((8 << 20))
kill -9 "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null
SERVER_PID=""
t0=$(now_ms)
wait_pid $R1 10; st1=$WAIT_STATUS; t1=$(now_ms)
wait_pid $R2 10; st2=$WAIT_STATUS; t2=$(now_ms)
PIDS=""
echo "cat: $(cat "$T/cat.err") after $((t1 - t0)) ms; randread: $(cat "$T/r1.out") after $((t2 - t0)) ms"
[ "$st1" != timeout ] && [ "$st2" != timeout ] || fail "a reader still blocked 10 s after the server died"
grep -q "Input/output error" "$T/cat.err" || fail "cat: '$(cat "$T/cat.err")', want EIO"
grep -q "err EIO" "$T/r1.out" || fail "randread got '$(cat "$T/r1.out")', want EIO"
# The timeout is 3 s: not long before, not much after.
[ $((t1 - t0)) -ge 2000 ] && [ $((t2 - t0)) -le 6000 ] ||
    fail "EIO after $((t1 - t0))/$((t2 - t0)) ms, want about 3 s"
[ "$(field "$NS/install.wim" state)" = failed ] || fail "state $(field "$NS/install.wim" state), want failed"
kept=$(field "$NS/install.wim" bytes_received)
echo "kept $kept of $SIZE bytes; last_error: $(field "$NS/install.wim" last_error)"
[ "$kept" -ge $((8 << 20)) ] && [ "$kept" -lt $SIZE ] || fail "bytes_received $kept"
unmount_fs

# Same server configuration and content, same cache dir.
rm -f "$CTL"
start_wdsmcd 8M
mount_fs --image "$NS=install.wim" -o timeout=3
have=$(field "$NS/install.wim" bytes_received)
[ "$have" -ge "$kept" ] || fail "after remount bytes_received $have < $kept kept before"
# Sample the server's counter while the rest arrives (the session ends with
# its last client, so the last sample is at most ~100 ms before the end).
( while :; do
      "$WDSCTL" -S "$CTL" --json sessions 2>/dev/null
      sleep 0.05
  done > "$T/sessions.jsonl" ) &
POLL=$!
PIDS="$POLL"
timeout 40 cp "$IMG" "$T/copy" || fail "reading after the restart"
kill $POLL; wait $POLL 2>/dev/null
PIDS=""
[ "$(sha "$T/copy")" = "$(sha "$SRC/install.wim")" ] || fail "SHA-256 differs after the restart"
[ "$(field "$NS/install.wim" state)" = complete ] || fail "state $(field "$NS/install.wim" state)"
sent=$(python3 - "$T/sessions.jsonl" <<'PY'
import json, sys
m = 0
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    for s in d.get("sessions", []):
        if s["content"] == "install.wim":
            m = max(m, s["bytes_sent"])
print(m)
PY
)
missing=$((SIZE - have))
sb=$(field "$NS/install.wim" session_bytes)
echo "restart: had $have, missing $missing; server sent >= $sent; wdsfs session received $sb"
slack=$((1 << 20))
[ "$sent" -gt 0 ] || fail "never saw the server's session"
[ "$sent" -le $((missing + slack)) ] ||
    fail "server sent $sent bytes for $missing missing: more than the missing part"
# The last sample is near the end: at 8 MiB/s, within ~2 MiB of it.
[ "$sent" -ge $((missing - (2 << 20))) ] || fail "last sample of bytes_sent ($sent) too early to judge"
[ "$sb" -le "$missing" ] || fail "wdsfs received $sb bytes in the new session for $missing missing"
unmount_fs
echo PASS
