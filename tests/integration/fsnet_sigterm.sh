#!/bin/bash
# wdsfs over a real network session: SIGTERM to the daemon (-f) while a
# reader is blocked on missing data: the reader gets ECANCELED within one
# second, the client's LEAVE (cancelled) reaches the server, nothing is left
# mounted and the daemon exits 0.
. "$(dirname "$0")/fsnet_lib.sh"

SIZE=$((4 << 20))
mkimage install.wim $SIZE
IMG="$MNT/$NS/install.wim"
SERVE_MAX_RATE=200000 start_serve "$NS=$SRC/install.wim"
mount_fs --image "$NS=install.wim" -o timeout=10

"$RANDREAD" --once "$IMG" $((SIZE - 65536)) 65536 > "$T/once.out" &
R=$!
PIDS="$R"
wait_for "$NS/install.wim" waiters ge 1
wait_for "$NS/install.wim" bytes_received ge 1
grep -q " joined" "$T/serve.log" || fail "the client has not joined"
t0=$(now_ms)
kill -TERM "$DPID"
wait_pid $R 5
t1=$(now_ms)
PIDS=""
[ "$WAIT_STATUS" != timeout ] || fail "the blocked reader did not return within 5 s of SIGTERM"
echo "reader: $(cat "$T/once.out") after $((t1 - t0)) ms"
grep -q "err ECANCELED" "$T/once.out" || fail "reader got '$(cat "$T/once.out")', want ECANCELED"
[ $((t1 - t0)) -lt 1000 ] || fail "ECANCELED took $((t1 - t0)) ms (limit 1000)"
wait_daemon_exit 0
for _ in $(seq 40); do grep -q "left: cancelled" "$T/serve.log" && break; sleep 0.05; done
grep -q "left: cancelled" "$T/serve.log" || fail "no LEAVE (cancelled) in the server log"
mountpoint -q "$MNT" && fail "$MNT is still a mount point"
grep -q " $MNT " /proc/mounts && fail "$MNT still in /proc/mounts"
grep -q "stopping" "$T/daemon.log" || fail "no stop message in the daemon's log"
ls "$CACHE"/*.bitmap > /dev/null 2>&1 || fail "spool bitmap not saved"
echo PASS
