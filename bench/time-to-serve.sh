#!/usr/bin/env bash
# Time from a fresh clone to `cloudfn up` serving, as the README's first
# command does it, on whatever cargo registry cache this machine has (warm
# if it has built cloudfn before):
#
#   bash bench/time-to-serve.sh [COMMIT]      (default: HEAD)
#
# Clones the repository at COMMIT into a temporary directory with an empty
# target/, runs `cargo build --release -p cloudfn --timings` (the host) and
# then the README's command, `cargo run --release -p cloudfn -- up --build`
# (the components, then serving), and prints each phase's seconds. The
# cargo timings report of the host build is copied to
# target/time-to-serve/<commit>.html. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
commit=$(git rev-parse "${1:-HEAD}")
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

git clone --quiet --no-local . "$work/cloudfn"
git -C "$work/cloudfn" checkout --quiet "$commit"
cd "$work/cloudfn"
# The binary crate's name changed when the host was split into crates.
package=$(grep -q '^name = "cloudfn"$' host/cloudfn/Cargo.toml 2>/dev/null && echo cloudfn || echo cloudfn-host)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

start=$(date +%s.%N)
cargo build --release -p "$package" --timings --quiet 2>&1 | grep -v '^ *Timing report' || true
host_done=$(date +%s.%N)
cargo run --release --quiet -p "$package" -- up --build --listen "127.0.0.1:$port" \
    --data-dir "$work/data" --cache-dir "$work/cache" >"$work/up.log" 2>&1 &
server=$!
until curl -fsS -o /dev/null 2>/dev/null "http://127.0.0.1:$port/"; do
    kill -0 "$server" 2>/dev/null || { cat "$work/up.log" >&2; exit 1; }
    sleep 0.2
done
serving=$(date +%s.%N)

mkdir -p "$OLDPWD/target/time-to-serve"
cp target/cargo-timings/cargo-timing.html "$OLDPWD/target/time-to-serve/${commit:0:7}.html"
printf 'commit %s on %s cores (%s)\n' "${commit:0:7}" "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
awk -v s="$start" -v h="$host_done" -v e="$serving" 'BEGIN {
    printf "host build        %6.0f s\n", h - s
    printf "components+start  %6.0f s\n", e - h
    printf "clone to serving  %6.0f s\n", e - s
}'
