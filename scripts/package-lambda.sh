#!/usr/bin/env bash
# Builds the deployment zip of the Lambda bootstrap for `provided.al2023`:
#
#   bash scripts/package-lambda.sh [x86_64|arm64]   ->  target/lambda/bootstrap-<arch>.zip
#
# The zip holds what Lambda runs from /var/task:
#   bootstrap                                the runtime (this repository's `bootstrap` binary)
#   spin.toml                                the product manifest, unchanged
#   target/wasm32-wasip2/release/*.wasm      the components it names, at the paths it names
#   precompiled/                             the components compiled for a CPU baseline of
#                                            the architecture, so an init deserializes them
#                                            (the other architecture's through qemu-user)
#
# The binary is cross-built with cargo-lambda and Zig (both from PyPI, into
# target/lambda-venv-build), against an old glibc that Amazon Linux 2023
# (glibc 2.34) satisfies; the script prints the newest glibc symbol it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

arch="${1:-x86_64}"
case "$arch" in
    x86_64) triple=x86_64-unknown-linux-gnu; flag=--x86-64 ;;
    arm64) triple=aarch64-unknown-linux-gnu; flag=--arm64 ;;
    *) echo "usage: $0 [x86_64|arm64]" >&2; exit 2 ;;
esac

venv=target/lambda-venv-build
if [ ! -x "$venv/bin/cargo-lambda" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "cargo-lambda==1.9.2"
fi
export PATH="$PWD/$venv/bin:$PATH"

# The components, for wasm32-wasip2, where spin.toml expects them.
cargo build --release --target wasm32-wasip2 --workspace --exclude 'cloudfn*'
# The runtime, cross-built for the Lambda architecture.
rustup target add "$triple" >/dev/null
cargo lambda build --release --package cloudfn-bootstrap "$flag"

stage=target/lambda/stage-$arch
rm -rf "$stage"
mkdir -p "$stage/target/wasm32-wasip2/release"
cp "target/lambda/bootstrap/bootstrap" "$stage/bootstrap"
cp spin.toml "$stage/spin.toml"
# Every .wasm the manifest names (component sources and their dependencies).
grep -o 'target/wasm32-wasip2/release/[A-Za-z0-9_.-]*\.wasm' spin.toml | sort -u |
    while read -r wasm; do cp "$wasm" "$stage/$wasm"; done

# Compile every component now, with the engine the bootstrap builds (a
# fixed CPU baseline of the architecture, so the code loads on any Lambda
# host of it). For the other architecture the bootstrap runs under
# qemu-user with that architecture's C library (Debian: qemu-user,
# libc6-arm64-cross and libgcc-s1-arm64-cross, or the amd64 ones).
qemu_arch=${triple%%-*}
sysroot=/usr/$qemu_arch-linux-gnu
if [ "$qemu_arch" = "$(uname -m)" ]; then
    run=("$stage/bootstrap")
elif command -v "qemu-$qemu_arch" >/dev/null && [ -e "$sysroot/lib/libc.so.6" ]; then
    run=("qemu-$qemu_arch" -L "$sysroot" "$stage/bootstrap")
else
    run=()
    echo "note: no qemu-$qemu_arch and $sysroot here: the components compile at each cold start on $arch" >&2
fi
if [ ${#run[@]} -gt 0 ]; then
    "${run[@]}" precompile --manifest "$stage/spin.toml" --cache-dir "$stage/precompiled"
fi

zip="target/lambda/bootstrap-$arch.zip"
rm -f "$zip"
(cd "$stage" && python3 -m zipfile -c "../bootstrap-$arch.zip" bootstrap spin.toml target $( [ -d precompiled ] && echo precompiled ))
glibc=$(objdump -T "$stage/bootstrap" 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1 || true)
echo "$zip: $(du -h "$zip" | cut -f1), bootstrap needs ${glibc:-an unknown glibc} (Amazon Linux 2023 has GLIBC_2.34)"
