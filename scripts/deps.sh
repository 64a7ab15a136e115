#!/bin/sh
# Installs every Debian 12 package wdsfs needs to build and test.
# Idempotent: does nothing when they are all present. Needs root.
set -eu

PKGS="
  gcc libc6-dev pkg-config meson ninja-build python3
  clang lld libclang-rt-14-dev clang-format
  libuv1-dev libfuse3-dev fuse3 libcmocka-dev libinih-dev libjson-c-dev libssl-dev
  scdoc iproute2 nftables ethtool kmod procps
  udpcast uftp wimtools valgrind
  nettle-dev
  python3-impacket samba samba-ad-dc samba-ad-provision tshark
"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
