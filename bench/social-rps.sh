#!/usr/bin/env bash
# The Social Media Analytics pipeline end to end on `cloudfn up` with the
# product spin.toml and the embedded broker: tweets POSTed as NDJSON to the
# listener (CHUNK per request, CLIENTS requests at once) -> `feed` -> the
# consumer scores each and folds it into the key-value aggregates. Done when
# the dashboard's totals count every tweet; tweets/s is that count over the
# time from the first POST. Each tweet mentions one keyword, so the counts
# add up to the tweets sent.
#
# Side by side, in the same run and on the same texts: the sentiment
# function scoring them over HTTP (NDJSON, the same CHUNK and CLIENTS),
# the work without the queue, the fresh instance per tweet and the store.
#
# Not run in CI.
#
#   bench/social-rps.sh                       # 50,000 tweets
#   TWEETS=100000 CLIENTS=8 bench/social-rps.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TWEETS=${TWEETS:-50000}
CHUNK=${CHUNK:-1000}
CLIENTS=${CLIENTS:-4}

# CLOUDFN: another build of the host to measure (default: this tree's);
# MANIFEST: another manifest beside spin.toml (default: spin.toml).
CLOUDFN=${CLOUDFN:-./target/release/cloudfn}
MANIFEST=${MANIFEST:-spin.toml}
[ "$CLOUDFN" != ./target/release/cloudfn ] || cargo build --release -q -p cloudfn
cargo build --release -q --target wasm32-wasip2 --workspace --exclude 'cloudfn*'

. bench/lib.sh
port=$(free_port)
$CLOUDFN up -f "$MANIFEST" --data-dir "$work/data" --listen "127.0.0.1:$port" >"$work/up.log" 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$port/social/dashboard"

python3 - "$TWEETS" "$CHUNK" "$work" <<'PY'
import json, sys
n, chunk, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
texts = [json.loads(l)["text"] for l in open("functions/sentiment-score/tests/parity/corpus.jsonl")]
keywords = ["rust", "wasm", "webassembly", "serverless", "cloud"]
for c in range(0, n, chunk):
    with open(f"{work}/tweets.{c // chunk:06d}", "w") as f, open(f"{work}/texts.{c // chunk:06d}", "w") as g:
        for i in range(c, min(n, c + chunk)):
            text = f"{texts[i % len(texts)]} #{keywords[i % len(keywords)]}"
            minute = (i * 10 // n) % 60
            f.write(json.dumps({"id": str(i), "text": text, "created_at": f"2026-12-02T10:{minute:02d}:{i % 60:02d}Z"}) + "\n")
            g.write(json.dumps({"text": text}) + "\n")
PY

post() { # path files...
  local path=$1; shift
  printf '%s\n' "$@" | xargs -P "$CLIENTS" -I{} curl -sf -o /dev/null -H 'content-type: application/x-ndjson' \
    --data-binary @{} "http://127.0.0.1:$port$path"
}
counted() {
  curl -sf "http://127.0.0.1:$port/social/dashboard?minutes=1440" |
    python3 -c 'import json,sys; print(sum(k["count"] for k in json.load(sys.stdin)["totals"].values()))'
}

start=$(date +%s.%N)
post /sentiment "$work"/texts.*
end=$(date +%s.%N)
score_rate=$(python3 -c "print(round($TWEETS / ($end - $start)))")

start=$(date +%s.%N)
post /social/tweets "$work"/tweets.*
posted=$(date +%s.%N)
while [ "$(counted)" -lt "$TWEETS" ]; do sleep 0.05; done
end=$(date +%s.%N)
python3 - "$TWEETS" "$start" "$posted" "$end" "$score_rate" "$CHUNK" "$CLIENTS" <<'PY'
import sys
n, start, posted, end, score, chunk, clients = sys.argv[1:]
n = int(n); start, posted, end, score = float(start), float(posted), float(end), int(score)
social = n / (end - start)
print(f"tweets: {n} in NDJSON requests of {chunk}, {clients} at once")
print(f"sentiment function (scoring only, over HTTP): {score:,} tweets/s")
print(f"social pipeline (ingest -> feed -> scored and aggregated): {social:,.0f} tweets/s "
      f"(ingest done after {posted - start:.2f} s, all aggregated after {end - start:.2f} s)")
print(f"ratio social / scoring only: {social / score:.2f}x")
PY
grep -c 'outcome=handled' "$work/up.log" | sed 's/^/deliveries logged handled: /'
grep -v 'outcome=handled' "$work/up.log" | grep -c 'cloudfn::event' | sed 's/^/deliveries not handled: /'
