#!/usr/bin/env bash
# The inverted index end to end, side by side in one run, on one corpus of
# real text (bench/make-corpus.py): `map | sort | reduce` with
#   1. the components in stream mode (cloudfn stream map|reduce),
#   2. the same Rust code built natively (inverted-index's native_stream),
#   3. the textbook Python Hadoop Streaming scripts (fixed only so they run),
# all with the same `LC_ALL=C sort`. Prints wall time and each stage's peak
# RSS (/usr/bin/time), then each phase alone (components vs native) and the
# sort alone. Not run in CI.
#
#   bench/index-pipeline.sh            # 100 MB corpus
#   SIZE=400 SKIP_PYTHON=1 bench/index-pipeline.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-100}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release -q -p cloudfn
cargo build --release -q -p inverted-index --example native_stream
cargo build --release -q --target wasm32-wasip2 -p index-map -p index-reduce
CLOUDFN=target/release/cloudfn
NATIVE=target/release/examples/native_stream
W=target/wasm32-wasip2/release
export LC_ALL=C

python3 bench/make-corpus.py "$SIZE" "$work/corpus.tsv"
SORT="sort -S 1G -T $work"
# Warm the component cache so compile time is not counted.
echo | $CLOUDFN stream map $W/index_map.wasm > /dev/null 2>&1
echo | $CLOUDFN stream reduce $W/index_reduce.wasm > /dev/null 2>&1

run() { # name map-cmd reduce-cmd
  local name=$1 map=$2 reduce=$3 start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/$name.map.rss" $map < "$work/corpus.tsv" 2>"$work/$name.map.err" \
    | $SORT \
    | /usr/bin/time -f "%M" -o "$work/$name.reduce.rss" $reduce > "$work/$name.index" 2>"$work/$name.reduce.err"
  end=$(date +%s.%N)
  printf '%-34s %9.2f s   map peak RSS %6d MiB   reduce peak RSS %6d MiB   %9d index lines\n' \
    "$name" "$(echo "$end - $start" | bc)" \
    $(( $(tail -1 "$work/$name.map.rss") / 1024 )) $(( $(tail -1 "$work/$name.reduce.rss") / 1024 )) \
    "$(wc -l < "$work/$name.index")"
  echo "$end - $start" | bc > "$work/$name.secs"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); corpus ${SIZE} MB"
run "components (cloudfn stream)" "$CLOUDFN stream map $W/index_map.wasm" "$CLOUDFN stream reduce $W/index_reduce.wasm"
run "same Rust code, native" "$NATIVE map" "$NATIVE reduce"
cmp -s "$work/components (cloudfn stream).index" "$work/same Rust code, native.index" \
  && echo "components and native: identical index" || { echo "components and native differ" >&2; exit 1; }
if [ -z "${SKIP_PYTHON:-}" ]; then
  run "textbook Python scripts" "python3 bench/textbook_mapper.py" "python3 bench/textbook_reducer.py"
fi
# Each phase alone (best of 3, output to /dev/null): the sort no longer hides
# the difference between the component and native code.
$NATIVE map < "$work/corpus.tsv" 2>/dev/null > "$work/mapped.tsv"
$SORT < "$work/mapped.tsv" > "$work/sorted.tsv"
best_of_3() { # input cmd...
  local input=$1 best=
  shift
  for _ in 1 2 3; do
    local start end t
    start=$(date +%s.%N); "$@" < "$input" > /dev/null 2>&1; end=$(date +%s.%N)
    t=$(echo "$end - $start" | bc)
    if [ -z "$best" ] || (( $(echo "$t < $best" | bc) )); then best=$t; fi
  done
  echo "$best"
}
for phase in map reduce; do
  input="$work/corpus.tsv"; [ "$phase" = reduce ] && input="$work/sorted.tsv"
  wasm="$W/index_$phase.wasm"
  cs=$(best_of_3 "$input" $CLOUDFN stream "$phase" "$wasm")
  ns=$(best_of_3 "$input" $NATIVE "$phase")
  printf '%-6s alone: components %6.2f s   native %6.2f s   ratio %.2f\n' "$phase" "$cs" "$ns" "$(echo "$cs / $ns" | bc -l)"
done
printf 'sort   alone: %6.2f s for %d MB of pairs (the floor under every pipeline above)\n' \
  "$(best_of_3 "$work/mapped.tsv" $SORT)" $(( $(stat -c %s "$work/mapped.tsv") / 1000000 ))
c=$(cat "$work/components (cloudfn stream).secs"); n=$(cat "$work/same Rust code, native.secs")
echo "components / native time ratio: $(echo "scale=2; $c / $n" | bc)"
if [ -z "${SKIP_PYTHON:-}" ]; then
  p=$(cat "$work/textbook Python scripts.secs")
  echo "Python / components time: $(echo "scale=1; $p / $c" | bc)x"
fi
