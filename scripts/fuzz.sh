#!/usr/bin/env bash
# Runs every fuzz target (or those named) for SECONDS each, with libFuzzer
# through cargo fuzz (`cargo install cargo-fuzz`; works on the stable
# toolchain with `-s none`: no sanitizer, Rust's own checks and panics are
# what is caught). Corpora grow in fuzz/corpus/<target> (seeded from the
# repository's fixtures on the first run), crashes land in
# fuzz/artifacts/<target>/. A crash becomes a regression test named after
# what it pins (see SECURITY.md). Not run in CI.
#
#   scripts/fuzz.sh 300                    # five minutes each
#   scripts/fuzz.sh 60 image_decode routes
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

SECONDS_EACH=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz not found: cargo install cargo-fuzz --locked" >&2; exit 1; }
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo fuzz list)

seed() { # target files...
  local dir="corpus/$1"; shift
  [ -d "$dir" ] && return 0
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/$(basename "$f")-$(sha1sum "$f" | cut -c1-8)"; done
  return 0
}
seed manifest ../spin.toml ../tests/fixtures/spin.toml ../bench/*.toml
seed image_decode ../tests/fixtures/jpeg/*.jpg ../functions/web/assets/static/icon.svg
printf '{"specversion":"1.0","id":"1","source":"/blobs","type":"dev.cloudfn.blob.created","subject":"a.jpg","datacontenttype":"application/json","data":{"key":"a.jpg","size":3,"sha256":"00","content_type":"image/jpeg","created":"2026-12-06T00:00:00Z"}}' > /tmp/cloudfn-event-seed && seed cloudevents /tmp/cloudfn-event-seed
printf '/blobs/...\n/blobs/a/b\n' > /tmp/cloudfn-route-seed && seed routes /tmp/cloudfn-route-seed
printf 'grayscale,blur:2,resize:800x600:cover,crop:1:2:3x4' > /tmp/cloudfn-ops-seed && seed image_ops /tmp/cloudfn-ops-seed
printf 'd1\tThe cat sat\nhello\td1\t1\td2\t2\n' > /tmp/cloudfn-lines-seed && seed streaming_lines /tmp/cloudfn-lines-seed
printf '\x03{"text": "I love it"}\n"great"\n{"texts": ["a", "b"]}' > /tmp/cloudfn-ndjson-seed && seed sentiment_bodies /tmp/cloudfn-ndjson-seed
printf 'bytes=0-1023, -5' > /tmp/cloudfn-range-seed && seed blob_requests /tmp/cloudfn-range-seed

cargo fuzz build -s none -O
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  echo "== $target: ${SECONDS_EACH}s"
  cargo fuzz run -s none -O "$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -max_len=1048576 -rss_limit_mb=4096 -print_final_stats=1 2>&1 |
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|thread .* panicked|SUMMARY|Test unit written)' || true
  if compgen -G "artifacts/$target/crash-*" >/dev/null; then
    echo "!! $target: crashes in fuzz/artifacts/$target/"
  fi
done
