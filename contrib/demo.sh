#!/bin/bash
# The README's main job, end to end on this machine:
#   1. build wdsfs, wdsmcd and wdsctl (installing what is missing)
#   2. make a sample image: a real WIM captured from a generated tree with
#      wimlib when wimtools is installed, else 64 MiB of random data
#   3. serve it with wdsmcd on loopback multicast (127.0.0.1, TTL 0)
#   4. mount the server's image with wdsfs and cp it out while it arrives
#   5. verify the copy's SHA-256 against the source, show the status
#      (wdsfs --status, wdsctl sessions), unmount, stop the server
# Needs root (FUSE mounts). Exits non-zero if anything does not match.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
WDSFS=$top/build/fs/wdsfs
WDSMCD=$top/build/contrib/wdsmcd
WDSCTL=$top/build/contrib/wdsctl

T=$(mktemp -d /tmp/wdsfs-demo.XXXXXX)
server=""
cleanup() {
    mountpoint -q "$T/mnt" 2>/dev/null && fusermount3 -u "$T/mnt" 2>/dev/null
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/images" "$T/mnt" "$T/cache"

step() { printf '\n== %s\n' "$*"; }

step "sample image"
if command -v wimlib-imagex >/dev/null; then
    mkdir -p "$T/tree/Windows/System32" "$T/tree/Users/Public"
    head -c $((24 << 20)) /dev/urandom > "$T/tree/Windows/System32/ntoskrnl.bin"
    head -c $((8 << 20)) /dev/urandom > "$T/tree/Users/Public/data.bin"
    seq 1 200000 > "$T/tree/Windows/setup.log"
    wimlib-imagex capture "$T/tree" "$T/images/install.wim" "Demo" --compress=none >/dev/null
    image=install.wim
else
    head -c $((64 << 20)) /dev/urandom > "$T/images/disk.img"
    image=disk.img
fi
ls -l "$T/images/$image"
want=$(sha256sum "$T/images/$image" | cut -d' ' -f1)

step "wdsmcd serving namespace 'Images' on 127.0.0.1"
port=$((20000 + RANDOM % 20000))
cat > "$T/wdsmcd.conf" <<CONF
[server]
msi_port = $port
address = 127.0.0.1
interface = 127.0.0.1
control_socket = $T/control.sock

[namespace:Images]
path = $T/images
ttl = 0
CONF
"$WDSMCD" --config "$T/wdsmcd.conf" 2> "$T/wdsmcd.log" &
server=$!
for _ in $(seq 50); do [ -S "$T/control.sock" ] && break; sleep 0.1; done
[ -S "$T/control.sock" ] || { cat "$T/wdsmcd.log"; exit 1; }

step "mount with wdsfs"
"$WDSFS" "127.0.0.1:$port" "$T/mnt" --image "Images=$image" \
    -o interface=127.0.0.1,cache="$T/cache"
find "$T/mnt" -maxdepth 2 | sed "s|$T/mnt|MNT|"

step "cp MNT/Images/$image while it arrives"
time cp "$T/mnt/Images/$image" "$T/copy"

step "verify"
got=$(sha256sum "$T/copy" | cut -d' ' -f1)
echo "source $want"
echo "copy   $got"
[ "$got" = "$want" ] || { echo "demo: SHA-256 MISMATCH" >&2; exit 1; }
if [ "$image" = install.wim ]; then
    wimlib-imagex info "$T/mnt/Images/$image" | grep -E "^(Image Count|Name|Total Bytes)" || true
fi

step "status"
"$WDSFS" --status "$T/mnt"
"$WDSCTL" -S "$T/control.sock" sessions

step "unmount, stop the server"
fusermount3 -u "$T/mnt"
kill "$server"; wait "$server" || true; server=""
echo
echo "demo: $image received over WDS multicast through wdsfs, SHA-256 verified"
