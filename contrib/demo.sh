#!/bin/sh
# The README's main job. Today: build, then decode a capture of every packet
# type of MS-WDSMT, MS-WDSMA and MS-WDSMSI (the hand-written golden vectors)
# with wdsmc-dump, printing each field and checking that re-encoding gives
# the identical bytes. As the transport and wdsfs land this becomes the full
# demo: a local server on loopback, a wdsfs mount, cp, SHA-256 check.
set -eu
cd "$(dirname "$0")/.."

scripts/deps.sh
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null

corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
build/tests/fuzz/gen_corpus "$corpus"
build/contrib/wdsmc-dump/wdsmc-dump --verify "$corpus"/msi/* "$corpus"/mt/* "$corpus"/ma/*
n=$(ls "$corpus"/*/* | wc -l)
echo "demo: $n datagrams decoded and re-encoded bit-exact"
