#!/usr/bin/env bash
# Throughput side by side, in one run, on one machine: `cloudfn up` vs
# `wasmtime serve` (wasmtime-cli 48, -Scli -O pooling-allocator; -Scli because
# Rust std imports wasi:cli/environment), both serving the
# same p2 hello component with a fresh instance per request, loaded by wrk
# with 16 connections. Rounds alternate between the two servers.
#
# Needs: wrk (apt-get install wrk) and wasmtime-cli 48
# (cargo install wasmtime-cli --version 48.0.8 --locked). Not run in CI.
#
#   bench/http-rps.sh            # 3 rounds of 10 s each
#   ROUNDS=5 DURATION=20s bench/http-rps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 1; }
WASMTIME=${WASMTIME:-$(command -v wasmtime || true)}
[ -n "$WASMTIME" ] || { echo "wasmtime not found: cargo install wasmtime-cli --version 48.0.8 --locked" >&2; exit 1; }

cargo build --release -q -p cloudfn
cargo build --release -q --target wasm32-wasip2 --manifest-path tests/fixtures/Cargo.toml -p hello-p2
WASM=tests/fixtures/target/wasm32-wasip2/release/hello_p2.wasm

. bench/lib.sh

cf_port=$(free_port)
./target/release/cloudfn up -f bench/hello.toml --listen "127.0.0.1:$cf_port" --cache-dir "$work/cache" \
  >"$work/cloudfn.out" 2>"$work/cloudfn.log" &
pids+=($!)
wt_port=$(free_port)
"$WASMTIME" serve -Scli -O pooling-allocator --addr "127.0.0.1:$wt_port" "$WASM" >"$work/wasmtime.out" 2>"$work/wasmtime.log" &
pids+=($!)
# For reference only (not the anchor): wasmtime serve given the same pool
# tuning cloudfn uses (PAGEMAP_SCAN reset, 4 MiB linear memory kept resident).
wtt_port=$(free_port)
"$WASMTIME" serve -Scli -O pooling-allocator -O pooling-pagemap-scan=auto \
  -O pooling-memory-keep-resident=$((4 << 20)) -O pooling-table-keep-resident=$((64 << 10)) \
  --addr "127.0.0.1:$wtt_port" "$WASM" >"$work/wasmtime-tuned.out" 2>"$work/wasmtime-tuned.log" &
pids+=($!)
wait_up "http://127.0.0.1:$cf_port/"
wait_up "http://127.0.0.1:$wt_port/"
wait_up "http://127.0.0.1:$wtt_port/"

run() { # name url -> "rps p99_ms"
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$2")
  local rps p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  [ -z "$non2xx" ] || { echo "$1: $non2xx non-2xx responses" >&2; exit 1; }
  echo "$rps $p99"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "wasmtime: $("$WASMTIME" --version)"
echo "load: wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS alternating rounds"
printf '%-6s %-24s %12s %10s\n' round server req/s p99_ms
cf_all=(); wt_all=(); cf_p99=(); wt_p99=(); wtt_all=(); wtt_p99=()
for r in $(seq 1 "$ROUNDS"); do
  read -r rps p99 < <(run cloudfn "http://127.0.0.1:$cf_port/")
  printf '%-6s %-24s %12s %10s\n' "$r" "cloudfn up" "$rps" "$p99"; cf_all+=("$rps"); cf_p99+=("$p99")
  read -r rps p99 < <(run wasmtime "http://127.0.0.1:$wt_port/")
  printf '%-6s %-24s %12s %10s\n' "$r" "wasmtime serve" "$rps" "$p99"; wt_all+=("$rps"); wt_p99+=("$p99")
  read -r rps p99 < <(run wasmtime-tuned "http://127.0.0.1:$wtt_port/")
  printf '%-6s %-24s %12s %10s\n' "$r" "wasmtime serve (tuned)" "$rps" "$p99"; wtt_all+=("$rps"); wtt_p99+=("$p99")
done
cf=$(median "${cf_all[@]}"); wt=$(median "${wt_all[@]}")
cfp=$(median "${cf_p99[@]}"); wtp=$(median "${wt_p99[@]}")
echo "median req/s: cloudfn up $cf, wasmtime serve $wt, ratio $(awk -v a="$cf" -v b="$wt" 'BEGIN {printf "%.2f", a/b}')x"
echo "median p99:   cloudfn up ${cfp} ms, wasmtime serve ${wtp} ms"
echo "reference:    wasmtime serve (tuned) $(median "${wtt_all[@]}") req/s, p99 $(median "${wtt_p99[@]}") ms"
