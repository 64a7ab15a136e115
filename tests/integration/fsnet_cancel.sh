#!/bin/bash
# wdsfs over a real network session: a reader blocked on missing data (the
# server at 200 KB/s, the read near the end of the image). Unlinking the
# image's control file makes it fail with ECANCELED within one second, the
# server logs the client's LEAVE (cancelled), the received bytes are kept;
# then, with the server at a higher rate, a new open resumes and completes
# bit-exact, receiving only the missing part.
. "$(dirname "$0")/fsnet_lib.sh"

SIZE=$((4 << 20))
mkimage install.wim $SIZE
IMG="$MNT/$NS/install.wim"
CTL="$MNT/.wdsfs/sessions/$NS/install.wim"
SERVE_MAX_RATE=200000 start_serve "$NS=$SRC/install.wim"
mount_fs --image "$NS=install.wim" -o timeout=10

timeout 30 "$RANDREAD" --once "$IMG" $((SIZE - 65536)) 65536 > "$T/once.out" &
R=$!
PIDS="$R"
wait_for "$NS/install.wim" waiters ge 1
wait_for "$NS/install.wim" bytes_received ge $((256 << 10))
t0=$(now_ms)
rm "$CTL" || fail "unlink of the control file failed"
wait_pid $R 5
t1=$(now_ms)
PIDS=""
[ "$WAIT_STATUS" != timeout ] || fail "the blocked reader did not return within 5 s of the cancel"
echo "reader: $(cat "$T/once.out") after $((t1 - t0)) ms"
grep -q "err ECANCELED" "$T/once.out" || fail "reader got '$(cat "$T/once.out")', want ECANCELED"
[ $((t1 - t0)) -lt 1000 ] || fail "ECANCELED took $((t1 - t0)) ms (limit 1000)"
for _ in $(seq 40); do grep -q "left: cancelled" "$T/serve.log" && break; sleep 0.05; done
grep -q "left: cancelled" "$T/serve.log" || fail "no LEAVE (cancelled) in the server log"
[ "$(field "$NS/install.wim" state)" = cancelled ] || fail "state $(field "$NS/install.wim" state), want cancelled"
[ -e "$CTL" ] || fail "the control file should stay"
kept=$(field "$NS/install.wim" bytes_received)
echo "kept $kept of $SIZE bytes"
[ "$kept" -ge $((256 << 10)) ] && [ "$kept" -lt $SIZE ] || fail "bytes_received after cancel: $kept"
sleep 0.5
[ "$(field "$NS/install.wim" bytes_received)" = "$kept" ] || fail "bytes_received changed after the cancel"

# The same content from a server at a higher rate; a new open resumes.
stop_server
SERVE_MAX_RATE=50000000 start_serve "$NS=$SRC/install.wim"
timeout 30 cat "$IMG" > "$T/copy" || fail "reading after the cancel"
[ "$(sha "$T/copy")" = "$(sha "$SRC/install.wim")" ] || fail "SHA-256 differs after the resume"
[ "$(field "$NS/install.wim" state)" = complete ] || fail "state $(field "$NS/install.wim" state)"
[ "$(field "$NS/install.wim" sessions)" = 2 ] || fail "sessions $(field "$NS/install.wim" sessions), want 2"
sb=$(field "$NS/install.wim" session_bytes)
echo "resumed session received $sb bytes (missing: $((SIZE - kept)))"
[ "$sb" -le $((SIZE - kept)) ] || fail "resumed session received $sb bytes, more than the missing $((SIZE - kept))"
[ "$sb" -gt 0 ] || fail "resumed session received nothing"
unmount_fs
echo PASS
