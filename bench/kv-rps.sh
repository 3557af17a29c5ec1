#!/usr/bin/env bash
# Key-value throughput beside plain throughput, in one run, on one `cloudfn
# up`: the p2 hello component (GET /hello/) and a spin-sdk 5.2 counter (GET
# /count, tests/fixtures/kv-counter: fermyon:spin/key-value get + set on the
# default store, an SQLite file), each a fresh instance per request, loaded
# by wrk with 16 connections, rounds alternating. Reports req/s, p99 and the
# ratio.
#
# Needs: wrk (apt-get install wrk). Not run in CI.
#
#   bench/kv-rps.sh            # 3 rounds of 10 s each
#   ROUNDS=5 DURATION=20s bench/kv-rps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
cargo build --release -q -p cloudfn
cargo build --release -q --target wasm32-wasip2 --manifest-path tests/fixtures/Cargo.toml -p hello-p2 -p kv-counter

. bench/lib.sh
port=$(free_port)
RUST_LOG=warn ./target/release/cloudfn up -f bench/kv.toml --listen "127.0.0.1:$port" \
  --cache-dir "$work/cache" --data-dir "$work/data" >"$work/out" 2>"$work/log" &
pids+=($!)
wait_up "http://127.0.0.1:$port/hello/"

run() { # url [wrk args] -> "rps p99_ms"
  local url=$1; shift
  local out rps p99 non2xx
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  [ -z "$non2xx" ] || { echo "$url: $non2xx non-2xx responses" >&2; tail -5 "$work/log" >&2; exit 1; }
  echo "$rps $p99"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS alternating rounds"
printf '%-6s %-26s %12s %10s\n' round component req/s p99_ms
hello=(); hello_p99=(); kv=(); kv_p99=()
for r in $(seq 1 "$ROUNDS"); do
  read -r rps p99 < <(run "http://127.0.0.1:$port/hello/")
  printf '%-6s %-26s %12s %10s\n' "$r" "hello (p2)" "$rps" "$p99"; hello+=("$rps"); hello_p99+=("$p99")
  read -r rps p99 < <(run "http://127.0.0.1:$port/count")
  printf '%-6s %-26s %12s %10s\n' "$r" "key-value counter (get+set)" "$rps" "$p99"; kv+=("$rps"); kv_p99+=("$p99")
done
h=$(median "${hello[@]}"); k=$(median "${kv[@]}")
echo "median req/s: hello $h, counter $k, ratio $(awk -v a="$k" -v b="$h" 'BEGIN {printf "%.2f", a/b}')x"
echo "median p99:   hello $(median "${hello_p99[@]}") ms, counter $(median "${kv_p99[@]}") ms"
# A get then a set is no atomic increment: concurrent requests overwrite
# each other's count, in Spin as here (atomics are wasi:keyvalue's increment).
echo "counter after the run: $(curl -s "http://127.0.0.1:$port/count")"
