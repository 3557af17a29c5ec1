#!/usr/bin/env python3
"""Soak test of `cloudfn up`: mixed load for a given time (not run in CI).

One host serves the product manifest plus the misbehaving fixture guest
(at /bad/...). Worker threads loop until the time is up over: every
function's HTTP face with small and large bodies (sentiment JSON and a
1 MiB NDJSON stream, image-filter, the index build, blob put/get/delete of
1 MiB, tweets and the dashboard, the web pages), the misbehaving guests
(endless loop, memory hog, trap, oversized response), and slow clients
that send half a request head and wait. Every 5 s it samples the host's
RSS and open descriptors.

Reports the maximum RSS, RSS after warm-up and at the end, descriptors at
start and end, answers by route and status (flagging any status not
expected for that route), and p50/p99 per route.

Needs the release host, the product components and the fixture guest:
  cargo run --release -p cloudfn -- build
  cargo build --release --target wasm32-wasip2 --manifest-path tests/fixtures/Cargo.toml -p misbehave
Usage: python3 bench/soak.py [MINUTES] [WORKERS]
"""

import http.client
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MINUTES = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
WORKERS = int(sys.argv[2]) if len(sys.argv) > 2 else 12
PHOTO = open(os.path.join(ROOT, "tests/fixtures/jpeg/photo-444-q95.jpg"), "rb").read()
NDJSON = ("".join(json.dumps({"text": f"tweet {i}: I love this so much, but the docs are meh"}) + "\n"
                  for i in range(18000))).encode()
DOCS = "".join(f"d{i}\tthe quick brown fox {i} jumps over the lazy dog number {i % 97}\n"
               for i in range(2000)).encode()
BLOB = os.urandom(1 << 20)

# Statuses each route may answer under load; anything else is flagged.
# Other routes: success (200, 201, 202, 204) or 503 (the host at capacity).
EXPECTED = {
    "bad/loop": {504, 503}, "bad/hog": {500, 503}, "bad/trap": {500, 503},
    "bad/big": {"cut off", 503}, "slow client": {"closed"},
}
SUCCESS = {200, 201, 202, 204}


def manifest(work):
    """The product manifest with absolute paths, plus the misbehaving guest."""
    text = open(os.path.join(ROOT, "spin.toml")).read()
    text = text.replace('"target/wasm32-wasip2/release/', f'"{ROOT}/target/wasm32-wasip2/release/')
    text += f"""
[[trigger.http]]
route = "/bad/..."
component = "misbehave"

[component.misbehave]
source = "{ROOT}/tests/fixtures/target/wasm32-wasip2/release/misbehave.wasm"
"""
    path = os.path.join(work, "spin.toml")
    open(path, "w").write(text)
    return path


def start(work):
    host = subprocess.Popen(
        [os.path.join(ROOT, "target/release/cloudfn"), "up", "-f", manifest(work), "--listen", "127.0.0.1:0",
         "--data-dir", os.path.join(work, "data"), "--cache-dir", os.path.join(work, "cache"),
         "--timeout", "5s", "--max-response-body", "4MiB", "--header-read-timeout", "5s"],
        stdout=subprocess.PIPE, stderr=open(os.path.join(work, "host.log"), "w"), text=True)
    for line in host.stdout:
        if line.startswith("Serving http://"):
            hostname, port = line.strip().removeprefix("Serving http://").rsplit(":", 1)
            return host, (hostname, int(port))
    raise SystemExit("cloudfn up did not start")


class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {}
        self.status = {}

    def add(self, route, status, seconds):
        with self.lock:
            self.status.setdefault(route, {}).setdefault(status, 0)
            self.status[route][status] += 1
            if status in SUCCESS:
                self.latency.setdefault(route, []).append(seconds)


def call(addr, results, route, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection(*addr, timeout=60)
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        status = response.status
    except http.client.IncompleteRead:
        status, data = "cut off", b""
    except (OSError, http.client.HTTPException) as e:
        status, data = f"error {e.__class__.__name__}", b""
    finally:
        conn.close()
    results.add(route, status, time.perf_counter() - started)
    return status, data


def slow_client(addr, results):
    started = time.perf_counter()
    with socket.create_connection(addr, timeout=30) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: soak\r\n")
        try:
            closed = s.recv(1) == b""
        except OSError:
            closed = True
    results.add("slow client", "closed" if closed else "answered", time.perf_counter() - started)


def one_round(addr, results, worker, n):
    key = f"soak/w{worker}/{n}.bin"
    actions = [
        lambda: call(addr, results, "sentiment", "POST", "/sentiment", json.dumps({"text": "I love it!"}),
                     {"content-type": "application/json"}),
        lambda: call(addr, results, "sentiment ndjson 1 MiB", "POST", "/sentiment", NDJSON,
                     {"content-type": "application/x-ndjson"}),
        lambda: call(addr, results, "image-filter", "POST", "/image/filter?ops=grayscale,blur:1.5,thumbnail:128",
                     PHOTO, {"content-type": "image/jpeg"}),
        lambda: call(addr, results, "index build", "POST", "/index/build", DOCS),
        lambda: (call(addr, results, "blob put 1 MiB", "PUT", "/blobs/" + key, BLOB,
                      {"content-type": "application/octet-stream"}),
                 call(addr, results, "blob get", "GET", "/blobs/" + key),
                 call(addr, results, "blob delete", "DELETE", "/blobs/" + key)),
        lambda: call(addr, results, "social tweets", "POST", "/social/tweets",
                     json.dumps({"id": f"{worker}-{n}", "text": "rust is great", "user": "soak"}),
                     {"content-type": "application/json"}),
        lambda: call(addr, results, "social dashboard", "GET", "/social/dashboard?minutes=5"),
        lambda: call(addr, results, "web /", "GET", "/", headers={"accept-encoding": "gzip"}),
        lambda: call(addr, results, "bad/loop", "GET", "/bad/loop"),
        lambda: call(addr, results, "bad/hog", "GET", "/bad/hog"),
        lambda: call(addr, results, "bad/trap", "GET", "/bad/trap"),
        lambda: call(addr, results, "bad/big", "GET", "/bad/big"),
        lambda: slow_client(addr, results),
    ]
    weights = [10, 2, 4, 2, 2, 4, 3, 6, 1, 1, 1, 1, 1]
    random.choices(actions, weights)[0]()


def sample(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def main():
    work = tempfile.mkdtemp(prefix="cloudfn-soak-")
    host, addr = start(work)
    results = Results()
    deadline = time.time() + MINUTES * 60
    samples = [(0.0, *sample(host.pid))]
    began = time.time()

    def worker(i):
        n = 0
        while time.time() < deadline:
            one_round(addr, results, i, n)
            n += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(WORKERS)]
    for t in threads:
        t.start()
    while time.time() < deadline:
        time.sleep(5)
        samples.append((time.time() - began, *sample(host.pid)))
    for t in threads:
        t.join(timeout=120)
    time.sleep(6)  # let the slow clients' connections close
    end_rss, end_fds = sample(host.pid)
    host.terminate()
    code = host.wait(timeout=60)
    log = open(os.path.join(work, "host.log")).read()

    warm = [s for s in samples if s[0] >= MINUTES * 60 * 0.2]
    warm_rss = warm[0][1] if warm else samples[-1][1]
    print(f"soak: {MINUTES:.0f} min, {WORKERS} workers, host exit code {code} after SIGTERM\n")
    print(f"- RSS: max {max(s[1] for s in samples) / 2**20:.0f} MiB; after warm-up (20%) "
          f"{warm_rss / 2**20:.0f} MiB; at the end {end_rss / 2**20:.0f} MiB "
          f"({(end_rss / warm_rss - 1) * 100:+.1f}%)")
    warm_fds = warm[0][2] if warm else samples[-1][2]
    print(f"- open descriptors: start {samples[0][2]}, after warm-up {warm_fds}, "
          f"max {max(s[2] for s in samples)}, end {end_fds}")
    print(f"- connections closed by the header timeout: "
          f"{len(re.findall('did not arrive within', log))}; panics in the log: {log.count('panicked')}\n")
    print("| route | answers | p50 | p99 | unexpected |")
    print("|---|---|---:|---:|---|")
    for route in sorted(results.status):
        statuses = results.status[route]
        answers = ", ".join(f"{n}× {s}" for s, n in sorted(statuses.items(), key=lambda kv: str(kv[0])))
        allowed = EXPECTED.get(route, SUCCESS | {503})
        odd = ", ".join(f"{n}× {s}" for s, n in statuses.items() if s not in allowed) or "none"
        lat = sorted(results.latency.get(route, []))
        p50 = f"{statistics.median(lat) * 1000:.1f} ms" if lat else "—"
        p99 = f"{lat[max(0, int(len(lat) * 0.99) - 1)] * 1000:.1f} ms" if lat else "—"
        print(f"| {route} | {answers} | {p50} | {p99} | {odd} |")
    print("\nRSS and descriptors over time (s, MiB, fds):")
    step = max(1, len(samples) // 12)
    print(" ".join(f"{t:.0f}s:{r / 2**20:.0f}/{f}" for t, r, f in samples[::step]))


if __name__ == "__main__":
    main()
