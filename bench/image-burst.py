#!/usr/bin/env python3
"""A burst of large images against `cloudfn up`, with and without a memory
budget, in one run (not run in CI).

400 requests, 200 at a time, each a 12-megapixel JPEG (4000x3000, made from
a test fixture by image-filter itself) through
`grayscale,blur:2,resize:1024x768`. For each configuration: the host's peak
RSS (VmHWM), the answers by status, and latency percentiles.

Configurations: the default budget (three quarters of this machine's
memory: on 24 GiB, 18 GiB, more than 200 instances of 256 MiB could use, so
like before the budget existed) and `--max-total-memory 1GiB`.

Needs a release build of the host and the components
(`cargo run --release -p cloudfn -- build`).
Usage: python3 bench/image-burst.py [REQUESTS] [CONCURRENCY]
"""

import concurrent.futures
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 400
CONCURRENCY = int(sys.argv[2]) if len(sys.argv) > 2 else 200
OPS = "/image/filter?ops=grayscale,blur:2,resize:1024x768"
CONFIGS = [("default budget", []), ("--max-total-memory 1GiB", ["--max-total-memory", "1GiB"])]


def start(extra):
    data = tempfile.mkdtemp(prefix="cloudfn-burst-")
    host = subprocess.Popen(
        [os.path.join(ROOT, "target/release/cloudfn"), "up", "-f", os.path.join(ROOT, "spin.toml"),
         "--listen", "127.0.0.1:0", "--data-dir", data, *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in host.stdout:
        if line.startswith("Serving http://"):
            hostport = line.strip().removeprefix("Serving http://")
            return host, hostport
    raise SystemExit("cloudfn up did not start")


def post(hostport, path, body, timeout=120):
    host, port = hostport.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    started = time.perf_counter()
    try:
        conn.request("POST", path, body=body, headers={"content-type": "image/jpeg"})
        response = conn.getresponse()
        data = response.read()
        return response.status, data, time.perf_counter() - started
    except OSError as e:
        return f"error: {e.__class__.__name__}", b"", time.perf_counter() - started
    finally:
        conn.close()


def peak_rss(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def main():
    fixture = open(os.path.join(ROOT, "tests/fixtures/jpeg/photo-444-q95.jpg"), "rb").read()
    print(f"{REQUESTS} requests, {CONCURRENCY} at a time, POST {OPS} with a 12-megapixel JPEG\n")
    print("| configuration | peak RSS | answers | p50 | p99 |")
    print("|---|---:|---|---:|---:|")
    for label, extra in CONFIGS:
        host, hostport = start(extra)
        try:
            status, image, _ = post(hostport, "/image/filter?ops=resize:4000x3000:fill&format=jpeg&quality=90", fixture)
            assert status == 200, (status, image[:200])
            baseline = peak_rss(host.pid)
            with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
                results = list(pool.map(lambda _: post(hostport, OPS, image), range(REQUESTS)))
            peak = peak_rss(host.pid)
        finally:
            host.terminate()
            host.wait()
        counts = {}
        for status, _, _ in results:
            counts[status] = counts.get(status, 0) + 1
        answered = sorted(r[2] for r in results if r[0] == 200)
        p50 = statistics.median(answered) if answered else float("nan")
        p99 = answered[int(len(answered) * 0.99) - 1] if answered else float("nan")
        answers = ", ".join(f"{n}× {s}" for s, n in sorted(counts.items(), key=lambda kv: str(kv[0])))
        print(f"| {label} | {peak / 2**30:.2f} GiB (idle {baseline / 2**20:.0f} MiB) | {answers} | {p50 * 1000:.0f} ms | {p99 * 1000:.0f} ms |")
    print(f"\nimage: {len(image)} bytes, 4000x3000")


if __name__ == "__main__":
    main()
