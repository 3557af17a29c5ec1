#!/usr/bin/env bash
# Events per second end to end (publish -> handler done -> acknowledged)
# through the embedded broker, and through a real redis-server (`--redis`),
# at 1 and 16 publishers (`cloudfn events publish --ndjson`, one process
# each), with a trivial handler (bench/events.toml). Each message is
# counted when its delivery's log line says `outcome=handled`; latency is
# the line's `queued_ms + duration_ms` (publish to handled; the embedded
# broker only: a Redis server does not say when a message was published).
# Saturated runs publish faster than the consumer drains, so their latency
# is time spent queued; one run paced at PACED events/s shows the latency
# of an event that does not wait behind others.
#
# Each path runs twice: with the consumer in Spin's order (the default, one
# message at a time) and opted in to CONCURRENCY deliveries at once
# (`[component.noop.tool.cloudfn.events] concurrency`).
#
# Needs: redis-server (apt-get install redis-server). Not run in CI.
#
#   bench/events-rps.sh                 # 50,000 events per run
#   EVENTS=200000 bench/events-rps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=${EVENTS:-50000}
PACED=${PACED:-5000}
CONCURRENCY=${CONCURRENCY:-16}

command -v redis-server >/dev/null || { echo "redis-server not found: apt-get install redis-server" >&2; exit 1; }
cargo build --release -q -p cloudfn
cargo build --release -q --target wasm32-wasip2 --manifest-path tests/fixtures/Cargo.toml -p redis-v2

. bench/lib.sh
cloudfn=./target/release/cloudfn
# The opted-in variant of the manifest, beside it (its source path is relative).
manifest=bench/events.toml
concurrent=bench/.events-concurrent.toml
{ cat bench/events.toml; printf '\n[component.noop.tool.cloudfn.events]\nconcurrency = %s\n' "$CONCURRENCY"; } >"$concurrent"
trap 'cleanup; rm -f "$concurrent"' EXIT

# $1 publishers: one NDJSON file of EVENTS/$1 lines each.
feeds() {
  rm -f "$work"/feed.*
  python3 - "$EVENTS" "$1" "$work" <<'PY'
import sys
n, p, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for j in range(p):
    with open(f"{work}/feed.{j}", "w") as f:
        f.writelines(f"noop {i}\n" for i in range(j, n, p))
PY
}

# mode publishers log -> prints "events/s p50_ms p99_ms"
run() {
  local mode=$1 publishers=$2 log=$3 rate=${4:-} before start now done_count
  local publisher_pids=()
  feeds "$publishers"
  before=$(grep -c 'outcome=handled' "$log" || true)
  start=$(date +%s.%N)
  for f in "$work"/feed.*; do
    if [ "$mode" = redis ]; then
      $cloudfn events -f "$manifest" --redis "$redis_url" publish bench --ndjson "$f" >/dev/null &
      publisher_pids+=($!)
    else
      $cloudfn events -f "$manifest" --data-dir "$work/data" publish bench --ndjson "$f" ${rate:+--rate "$rate"} >/dev/null &
      publisher_pids+=($!)
    fi
  done
  while :; do
    local running=()
    for p in "${publisher_pids[@]}"; do
      if kill -0 "$p" 2>/dev/null; then running+=("$p"); elif ! wait "$p"; then echo "a publisher failed" >&2; exit 1; fi
    done
    publisher_pids=("${running[@]}")
    done_count=$(( $(grep -c 'outcome=handled' "$log" || true) - before ))
    [ "$done_count" -ge "$EVENTS" ] && break
    sleep 0.05
  done
  now=$(date +%s.%N)
  tail -n +"$((before + 1))" <(grep 'outcome=handled' "$log") | python3 -c '
import re, sys
lat = []
for line in sys.stdin:
    q = re.search(r"queued_ms=\"?(\d+)", line); d = re.search(r"duration_ms=([\d.]+)", line)
    if q and d: lat.append(int(q.group(1)) + float(d.group(1)))
lat.sort()
pct = lambda p: f"{lat[min(len(lat)-1, int(p*len(lat)))]:.1f}" if lat else "n/a"
n, s = int(sys.argv[1]), float(sys.argv[2])
print(f"{n/s:.0f} {pct(0.5)} {pct(0.99)}")' "$EVENTS" "$(echo "$now - $start" | bc -l)"
}

start_host() { # log [flags]
  local log=$1; shift
  local port; port=$(free_port)
  RUST_LOG=info NO_COLOR=1 $cloudfn up -f "$manifest" --listen "127.0.0.1:$port" \
    --cache-dir "$work/cache" --data-dir "$work/data" "$@" >"$work/out" 2>"$log" &
  pids+=($!)
  for _ in $(seq 1 300); do grep -q '^Subscriptions' "$work/out" 2>/dev/null && return; sleep 0.1; done
  echo "cloudfn up did not start:" >&2; cat "$log" >&2; exit 1
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "events per run: $EVENTS, trivial handler (tests/fixtures/redis-v2, noop)"
printf '%-22s %-16s %-11s %10s %9s %9s\n' path consumer publishers events/s p50_ms p99_ms

redis_port=$(free_port); redis_url="redis://127.0.0.1:$redis_port"
(cd "$work" && exec redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no) >/dev/null &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

for consumer in in-order "$CONCURRENCY at once"; do
  if [ "$consumer" = in-order ]; then manifest=bench/events.toml; else manifest=$concurrent; fi
  rm -rf "$work/data"
  start_host "$work/embedded.log"
  for p in 1 16; do
    read -r eps p50 p99 < <(run embedded "$p" "$work/embedded.log")
    printf '%-22s %-16s %-11s %10s %9s %9s\n' "embedded broker" "$consumer" "$p" "$eps" "$p50" "$p99"
  done
  # Saturated runs measure queueing; a paced one shows the latency of one event.
  read -r eps p50 p99 < <(run embedded 1 "$work/embedded.log" "$PACED")
  printf '%-22s %-16s %-11s %10s %9s %9s\n' "embedded broker" "$consumer" "1 at $PACED/s" "$eps" "$p50" "$p99"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

  start_host "$work/redis.log" --redis "$redis_url"
  for p in 1 16; do
    read -r eps p50 p99 < <(run redis "$p" "$work/redis.log")
    printf '%-22s %-16s %-11s %10s %9s %9s\n' "redis-server (--redis)" "$consumer" "$p" "$eps" "$p50" "$p99"
  done
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
done
