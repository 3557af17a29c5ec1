#!/usr/bin/env python3
"""Process start to first 200 for `cloudfn up` with a warm component cache.

Runs the release binary on bench/hello.toml: one start to warm the cache, then
RUNS timed starts, each from spawn until a GET answers 200. Not run in CI.

    cargo build --release -p cloudfn && python3 bench/startup.py
"""
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(os.environ.get("RUNS", "20"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_to_first_200(cache):
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [os.path.join(ROOT, "target/release/cloudfn"), "up", "-f", os.path.join(ROOT, "bench/hello.toml"),
         "--listen", f"127.0.0.1:{port}", "--cache-dir", cache],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/")
                if conn.getresponse().status == 200:
                    return (time.perf_counter() - started) * 1000
            except OSError:
                time.sleep(0.001)
            if proc.poll() is not None:
                sys.exit("cloudfn up exited")
    finally:
        proc.kill()
        proc.wait()


def main():
    subprocess.run(["cargo", "build", "--release", "-q", "--target", "wasm32-wasip2", "--manifest-path",
                    os.path.join(ROOT, "tests/fixtures/Cargo.toml"), "-p", "hello-p2"], check=True)
    with tempfile.TemporaryDirectory() as cache:
        cold = start_to_first_200(cache)
        warm = [start_to_first_200(cache) for _ in range(RUNS)]
    print(f"cold cache: {cold:.1f} ms")
    print(f"warm cache: median {statistics.median(warm):.1f} ms, max {max(warm):.1f} ms over {RUNS} starts")


if __name__ == "__main__":
    main()
