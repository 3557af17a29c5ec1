#!/usr/bin/env bash
# Logins (one Argon2id verification each, OWASP's parameters) in the sandbox
# against the same verification natively, and GET /blobs/KEY of a 4 KiB file
# with a session against the same request on the anonymous drive:
#
#   bash bench/accounts.sh [LOGINS] [GETS]
#
# Last, authenticated requests/s over 100 sessions of 100 users (a session
# lookup each, `GET /account/session`).
#
# Needs `cargo build --release -p cloudfn`, the components built
# (`cloudfn up --build` once) and curl. Logins run one at a time (the
# latency a user sees); the GETs with wrk when it is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
logins=${1:-50}
gets=${2:-2000}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
SPIN_VARIABLE_DRIVE_ANONYMOUS=true target/release/cloudfn up --listen "127.0.0.1:$port" --data-dir "$data" >"$data/log" 2>&1 &
pid=$!
until curl -s -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.2; done
site="http://127.0.0.1:$port"
json=(-H 'content-type: application/json' -H "origin: $site")
curl -s -c "$data/jar" "${json[@]}" "$site/account/register" \
    -d '{"username": "bench", "password": "correct horse battery"}' >/dev/null
for _ in $(seq "$logins"); do
    curl -s -o /dev/null -w '%{time_total}\n' "${json[@]}" "$site/account/login" \
        -d '{"username": "bench", "password": "correct horse battery"}'
done | sort -n | awk '{t[NR]=$1*1000} END {p50=t[int(NR*0.5)+1]; p99=t[int((NR-1)*0.99)+1];
    printf "sandbox login (HTTP): n=%d p50=%.1f ms p99=%.1f ms (%.1f/s one at a time)\n", NR, p50, p99, 1000/p50}'
cargo run -q --release -p drive-users --example hash_cost -- "$logins"

head -c 4096 /dev/urandom >"$data/file"
curl -s -b "$data/jar" -H "origin: $site" -T "$data/file" "$site/blobs/file" >/dev/null
curl -s -T "$data/file" "$site/blobs/file" >/dev/null
cookie="cloudfn_session=$(awk '$6 == "cloudfn_session" {print $7}' "$data/jar")"
if command -v wrk >/dev/null; then
    echo "GET a 4 KiB blob, anonymous:"; wrk -t2 -c8 -d10s "$site/blobs/file" | grep -E 'Requests/sec|Latency'
    echo "GET a 4 KiB blob, with a session:"; wrk -t2 -c8 -d10s -H "cookie: $cookie" "$site/blobs/file" | grep -E 'Requests/sec|Latency'
else
    for who in anonymous session; do
        h=(); [ "$who" = session ] && h=(-H "cookie: $cookie")
        start=$(date +%s.%N)
        for _ in $(seq "$gets"); do curl -s -o /dev/null "${h[@]}" "$site/blobs/file"; done
        echo "GET 4 KiB, $who: $(python3 -c "print(round($gets/($(date +%s.%N)-$start)))") req/s (curl, one at a time)"
    done
fi

# Many users at once: 100 sessions (one per user), each request a session
# lookup (`GET /account/session`), the cookies taken in turn.
sessions=100
for i in $(seq "$sessions"); do
    curl -s -c - "${json[@]}" "$site/account/register" \
        -d "{\"username\": \"user$i\", \"password\": \"correct horse battery\"}" |
        awk '$6 == "cloudfn_session" {print $7}'
done >"$data/cookies"
if command -v wrk >/dev/null; then
    cat >"$data/rotate.lua" <<LUA
local cookies, n = {}, 0
for line in io.lines("$data/cookies") do cookies[#cookies + 1] = line end
request = function()
  n = n % #cookies + 1
  return wrk.format("GET", "/account/session", { cookie = "cloudfn_session=" .. cookies[n] })
end
LUA
    echo "GET /account/session over $sessions sessions in turn:"
    wrk -t2 -c8 -d10s -s "$data/rotate.lua" "$site" | grep -E 'Requests/sec|Latency|Non-2xx'
fi
