#!/usr/bin/env python3
"""Slow-headers clients against `cloudfn up` (not run in CI).

Opens N connections (default 5,000) that each send a request line and one
header, then nothing, and meanwhile sends a normal request every 100 ms on
a fresh connection. Reports when the stalled connections were closed by the
host, and the normal requests' latency while they were open.

Side by side in one run: the build under test (`target/release/cloudfn`,
default --header-read-timeout 10s) and, when given, an earlier build
(`BEFORE=/path/to/cloudfn`), each serving bench/hello.toml.

Usage: [BEFORE=/tmp/cloudfn-before] python3 bench/stalled-connections.py [N] [SECONDS]
"""

import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 15.0


def start(binary):
    cache = tempfile.mkdtemp(prefix="cloudfn-stall-")
    host = subprocess.Popen(
        [binary, "up", "-f", os.path.join(ROOT, "bench/hello.toml"), "--listen", "127.0.0.1:0",
         "--cache-dir", cache],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in host.stdout:
        if line.startswith("Serving http://"):
            host_, port = line.strip().removeprefix("Serving http://").rsplit(":", 1)
            return host, (host_, int(port))
    raise SystemExit(f"{binary} did not start")


def normal_request(addr):
    started = time.perf_counter()
    with socket.create_connection(addr, timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data[:100]
    return time.perf_counter() - started


def run(binary):
    host, addr = start(binary)
    try:
        selector = selectors.DefaultSelector()
        opened = time.perf_counter()
        for _ in range(N):
            s = socket.create_connection(addr)
            s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n")
            s.setblocking(False)
            selector.register(s, selectors.EVENT_READ)
        opened_in = time.perf_counter() - opened
        closed_at = []
        latencies = []
        start_time = time.perf_counter()
        next_probe = start_time
        while time.perf_counter() - start_time < SECONDS:
            now = time.perf_counter()
            if now >= next_probe:
                latencies.append(normal_request(addr))
                next_probe = now + 0.1
            for key, _ in selector.select(timeout=0.02):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    closed_at.append(time.perf_counter() - start_time)
                    selector.unregister(s)
                    s.close()
        still_open = len(selector.get_map())
        for key in list(selector.get_map().values()):
            key.fileobj.close()
        return opened_in, closed_at, still_open, latencies
    finally:
        host.terminate()
        host.wait()


def main():
    builds = [("this build", os.path.join(ROOT, "target/release/cloudfn"))]
    if os.environ.get("BEFORE"):
        builds.insert(0, ("before", os.environ["BEFORE"]))
    print(f"{N} connections sending a request line and one header, then nothing; "
          f"a normal GET every 100 ms; watched for {SECONDS:.0f} s\n")
    print("| build | closed by the host | closed at (min / median / max) | still open | normal GET p50 / max |")
    print("|---|---:|---|---:|---|")
    for label, binary in builds:
        opened_in, closed, still_open, latencies = run(binary)
        when = (f"{min(closed):.1f} / {statistics.median(closed):.1f} / {max(closed):.1f} s"
                if closed else "—")
        print(f"| {label} | {len(closed)} | {when} | {still_open} | "
              f"{statistics.median(latencies) * 1000:.1f} / {max(latencies) * 1000:.1f} ms "
              f"({len(latencies)} requests) |")
        print(f"<!-- {label}: {N} connections opened in {opened_in:.1f} s -->")


if __name__ == "__main__":
    main()
