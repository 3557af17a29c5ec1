#!/usr/bin/env bash
# Upload and download of one 1 GiB file over loopback, side by side in one
# run: `cloudfn up` (blob-upload component, filesystem store) and s3s-fs (a
# real S3 server over a folder, the anchor), three alternating rounds, median
# MB/s, plus the growth of each server's RSS during the transfers.
#
#   cargo install s3s-fs --version 0.14.1 --features binary --locked   # rustc 1.95
#   cargo build --release -p cloudfn && cargo run --release -p cloudfn -- build
#   bash bench/blob-throughput.sh
#
# Run by hand, not in CI. Needs curl >= 7.75 (--aws-sigv4).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
SIZE_MIB=${SIZE_MIB:-1024}
WORK=$(mktemp -d /tmp/cloudfn-blob-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

head -c $((SIZE_MIB << 20)) /dev/urandom > "$WORK/file"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

CF_PORT=$(free_port)
mkdir -p "$WORK/cf-data"
target/release/cloudfn up -f spin.toml --listen "127.0.0.1:$CF_PORT" --data-dir "$WORK/cf-data" >/dev/null 2>"$WORK/cf.log" &
CF_PID=$!
S3_PORT=$(free_port)
mkdir -p "$WORK/s3-data/bench"
s3s-fs --host 127.0.0.1 --port "$S3_PORT" --access-key bench --secret-key benchsecret "$WORK/s3-data" >"$WORK/s3.log" 2>&1 &
S3_PID=$!
for url in "http://127.0.0.1:$CF_PORT/blobs" "http://127.0.0.1:$S3_PORT/"; do
  for _ in $(seq 100); do curl -s -o /dev/null "$url" && break; sleep 0.1; done
done

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# Runs a command while sampling the RSS of PID every 20 ms; prints "seconds peak_growth_kib".
measure() {
  local pid=$1; shift
  local base; base=$(rss_kib "$pid")
  local peak=$base
  "$@" & local cmd=$!
  local t0; t0=$(date +%s.%N)
  while kill -0 "$cmd" 2>/dev/null; do
    local now; now=$(rss_kib "$pid"); (( now > peak )) && peak=$now
    sleep 0.02
  done
  wait "$cmd"
  local t1; t1=$(date +%s.%N)
  echo "$(echo "$t1 - $t0" | bc) $((peak - base))"
}
S3_AUTH=(--aws-sigv4 "aws:amz:us-east-1:s3" --user bench:benchsecret -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
cf_up()   { curl -sf -o /dev/null -T "$WORK/file" "http://127.0.0.1:$CF_PORT/blobs/bench/file"; }
cf_down() { curl -sf -o /dev/null "http://127.0.0.1:$CF_PORT/blobs/bench/file"; }
s3_up()   { curl -sf -o /dev/null -T "$WORK/file" "${S3_AUTH[@]}" "http://127.0.0.1:$S3_PORT/bench/file"; }
s3_down() { curl -sf -o /dev/null "${S3_AUTH[@]}" "http://127.0.0.1:$S3_PORT/bench/file"; }

declare -A times growth
for round in $(seq "$ROUNDS"); do
  for case in cf_up s3_up cf_down s3_down; do
    pid=$CF_PID; [[ $case == s3_* ]] && pid=$S3_PID
    read -r secs grew < <(measure "$pid" "$case")
    times[$case]+="$secs "; growth[$case]+="$grew "
    printf 'round %d %-8s %6.2f s %8.1f MB/s  RSS +%d MiB\n' "$round" "$case" "$secs" \
      "$(echo "$SIZE_MIB * 1.048576 / $secs" | bc -l)" $((grew / 1024))
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median of $ROUNDS rounds, $SIZE_MIB MiB over loopback:"
for case in cf_up s3_up cf_down s3_down; do
  secs=$(echo "${times[$case]}" | median); grew=$(echo "${growth[$case]}" | tr ' ' '\n' | sort -g | tail -1)
  printf '  %-8s %8.1f MB/s  max RSS growth %d MiB\n' "$case" "$(echo "$SIZE_MIB * 1.048576 / $secs" | bc -l)" $((grew / 1024))
done
cmp "$WORK/file" <(curl -sf "http://127.0.0.1:$CF_PORT/blobs/bench/file") && echo "cloudfn round trip: identical bytes"
