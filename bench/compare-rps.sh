#!/usr/bin/env bash
# Two builds of `cloudfn up` side by side, in one run: requests per second
# of the p2 hello component (a fresh instance per request), wrk with 16
# connections, rounds alternating between the two. For checking that a
# change to the host costs the hot path nothing (not run in CI).
#
#   bench/compare-rps.sh BEFORE_BINARY [AFTER_BINARY]
#   ROUNDS=5 DURATION=10s bench/compare-rps.sh /tmp/cloudfn-before
#
# Build BEFORE_BINARY from another commit into the same target directory,
# so only the host crate recompiles:
#   git worktree add /tmp/before COMMIT
#   (cd /tmp/before && CARGO_TARGET_DIR=$PWD/../main/target cargo build --release -p cloudfn)   # -p cloudfn-host before the host was split
#   cp target/release/cloudfn /tmp/cloudfn-before
# Needs: wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."

BEFORE=${1:?usage: bench/compare-rps.sh BEFORE_BINARY [AFTER_BINARY]}
AFTER=${2:-target/release/cloudfn}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
[ "$AFTER" != target/release/cloudfn ] || cargo build --release -q -p cloudfn
cargo build --release -q --target wasm32-wasip2 --manifest-path tests/fixtures/Cargo.toml -p hello-p2

. bench/lib.sh

start() { # binary port (not in a subshell: pids must reach the cleanup)
  "$1" up -f bench/hello.toml --listen "127.0.0.1:$2" --cache-dir "$work/cache-$2" >/dev/null 2>"$work/$2.log" &
  pids+=($!)
  wait_up "http://127.0.0.1:$2/"
}
before_port=$(free_port); start "$BEFORE" "$before_port"
after_port=$(free_port); start "$AFTER" "$after_port"

rps() { wrk -t2 -c"$CONNECTIONS" -d"$DURATION" "http://127.0.0.1:$1/" | awk '/Requests\/sec/ {print $2}'; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load: wrk -t2 -c$CONNECTIONS -d$DURATION, $ROUNDS alternating rounds"
b_all=(); a_all=()
for r in $(seq 1 "$ROUNDS"); do
  b=$(rps "$before_port"); a=$(rps "$after_port")
  printf 'round %s: before %s req/s, after %s req/s\n' "$r" "$b" "$a"
  b_all+=("$b"); a_all+=("$a")
done
b=$(median "${b_all[@]}"); a=$(median "${a_all[@]}")
echo "median: before $b req/s, after $a req/s, after/before $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", a/b}')"
