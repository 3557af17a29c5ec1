#!/usr/bin/env python3
"""The Lambda bootstrap under cargo-lambda's Runtime API emulator, side by
side with its anchors in one run (not run in CI):

1. init: process start -> ready for the first event (the "ready" log line,
   components deserialized from precompiled/), and -> first response,
   for a manifest with no component, one hello component and the product
   manifest (all its components); anchor: a Rust hello Lambda on lambda_runtime
   1.5 built here (spawn -> first response);
2. warm invocations per second of POST /sentiment (one tweet) through the
   emulator's Function URL, one connection (Lambda runs one invocation at a
   time per execution environment), beside the same request to `cloudfn up`
   with one connection and with 16, and the hello Lambda through the same
   emulator (what the emulator itself costs per invocation).

Needs wrk (apt-get install wrk). Usage: python3 bench/lambda.py [RUNS]
With BEFORE_BOOTSTRAP=PATH (another build's bootstrap binary), its init on
the product manifest is measured in the same rounds, from the same
precompiled components.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
DURATION = os.environ.get("DURATION", "10s")
TWEET = '{"text": "Loving the new release, it is GREAT :) but the docs are meh"}'
HELLO_LAMBDA = """use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|e: LambdaEvent<Value>| async move {
        Ok::<Value, Error>(serde_json::json!({"statusCode": 200, "body": "hello", "cookies": [], "echo": e.payload["rawPath"]}))
    }))
    .await
}
"""


def run(*args, **kw):
    subprocess.run(args, check=True, cwd=kw.pop("cwd", ROOT), **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cargo_lambda():
    venv = os.path.join(ROOT, "target/lambda-venv")
    binary = os.path.join(venv, "bin/cargo-lambda")
    if not os.path.exists(binary):
        run(sys.executable, "-m", "venv", venv)
        run(os.path.join(venv, "bin/pip"), "install", "--quiet", "--no-deps", "cargo-lambda==1.9.2")
    return binary


class Emulator:
    def __init__(self, work):
        os.makedirs(os.path.join(work, "emu/src"), exist_ok=True)
        with open(os.path.join(work, "emu/Cargo.toml"), "w") as f:
            f.write('[package]\nname = "bootstrap"\nversion = "0.0.0"\nedition = "2024"\n')
        with open(os.path.join(work, "emu/src/main.rs"), "w") as f:
            f.write("fn main() {}\n")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [cargo_lambda(), "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1",
             "-P", str(self.port), "--manifest-path", os.path.join(work, "emu/Cargo.toml")],
            cwd=os.path.join(work, "emu"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("the emulator did not start")
                time.sleep(0.05)

    def env(self):
        return dict(os.environ,
                    AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{self.port}/.rt",
                    AWS_LAMBDA_FUNCTION_NAME="_", AWS_LAMBDA_FUNCTION_VERSION="1",
                    AWS_LAMBDA_FUNCTION_MEMORY_SIZE="1024", RUST_LOG="info")

    def url(self, path):
        return f"http://127.0.0.1:{self.port}/lambda-url/_{path}"

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def post(url, body):
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def time_init(emulator, command, env, path):
    """(ms to the 'ready' line or None, ms to the first response)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    ready = None
    if "bootstrap" in os.path.basename(command[0]):
        for line in proc.stderr:
            if "cloudfn::lambda" in line and "ready" in line:
                ready = (time.perf_counter() - started) * 1000
                break
    status, _ = post(emulator.url(path), TWEET)
    first = (time.perf_counter() - started) * 1000
    assert status in (200, 404), status
    proc.kill()
    proc.wait()
    return ready, first


def wrk(url, connections, work):
    script = os.path.join(work, "post.lua")
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = {json.dumps(TWEET)}\n")
    out = subprocess.run(["wrk", "-t1" if connections == 1 else "-t2", f"-c{connections}",
                          f"-d{DURATION}", "--latency", "-s", script, url],
                         check=True, capture_output=True, text=True).stdout
    rps = float(next(l.split()[1] for l in out.splitlines() if l.startswith("Requests/sec")))
    p50 = next(l.split()[1] for l in out.splitlines() if l.strip().startswith("50%"))
    non2xx = [l for l in out.splitlines() if "Non-2xx" in l]
    assert not non2xx, non2xx
    return rps, p50


def main():
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")
    work = tempfile.mkdtemp(prefix="cloudfn-lambda-bench-")
    run("cargo", "build", "--release", "-q", "-p", "cloudfn-bootstrap", "-p", "cloudfn")
    run("cargo", "build", "--release", "-q", "--target", "wasm32-wasip2", "--workspace", "--exclude", "cloudfn*")
    run("cargo", "build", "--release", "-q", "--target", "wasm32-wasip2",
        "--manifest-path", "tests/fixtures/Cargo.toml", "-p", "hello-p2")
    # The anchor: a hello Lambda on the same lambda_runtime, built here.
    hello = os.path.join(ROOT, "target/bench-hello-lambda")
    os.makedirs(os.path.join(hello, "src"), exist_ok=True)
    with open(os.path.join(hello, "Cargo.toml"), "w") as f:
        f.write('[package]\nname = "hello-lambda"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n'
                '[dependencies]\nlambda_runtime = "1.5"\nserde_json = "1"\n'
                'tokio = { version = "1", features = ["macros", "rt-multi-thread"] }\n'
                '[profile.release]\nstrip = true\n')
    with open(os.path.join(hello, "src/main.rs"), "w") as f:
        f.write(HELLO_LAMBDA)
    run("cargo", "build", "--release", "-q", "--manifest-path", os.path.join(hello, "Cargo.toml"))
    hello_bin = os.path.join(hello, "target/release/hello-lambda")
    bootstrap = os.path.join(ROOT, "target/release/bootstrap")

    manifests = {}
    empty = os.path.join(work, "empty.toml")
    with open(empty, "w") as f:
        f.write('spin_manifest_version = 2\n[application]\nname = "empty"\n')
    manifests["no component (engine only)"] = (empty, "/")
    manifests["one component (hello p2)"] = (os.path.join(ROOT, "bench/hello.toml"), "/")
    with open(os.path.join(ROOT, "spin.toml")) as f:
        components = sum(1 for line in f if line.startswith("[component.") and line.count(".") == 1)
    PRODUCT = f"product, {components} components"
    manifests[PRODUCT] = (os.path.join(ROOT, "spin.toml"), "/sentiment")
    caches = {}
    for name, (manifest, _) in manifests.items():
        cache = os.path.join(work, f"cache-{len(caches)}")
        run(bootstrap, "precompile", "--manifest", manifest, "--cache-dir", cache,
            stdout=subprocess.DEVNULL)
        caches[name] = cache

    print(f"init, {RUNS} runs each, median (min): process start -> ready | -> first response")
    rows = [("Rust hello Lambda (lambda_runtime 1.5)", [hello_bin], None, "/")]
    rows += [(name, [bootstrap], manifest, path) for name, (manifest, path) in manifests.items()]
    before = os.environ.get("BEFORE_BOOTSTRAP")
    if before:
        name = f"{PRODUCT}, before ({os.path.basename(os.path.dirname(before)) or before})"
        caches[name] = caches[PRODUCT]
        rows.append((name, [before], *manifests[PRODUCT]))
    results = {name: [] for name, *_ in rows}
    for _ in range(RUNS):  # rounds interleave the rows
        for name, command, manifest, path in rows:
            emulator = Emulator(work)  # a fresh one: no event left queued
            env = emulator.env()
            if manifest:
                env.update(CLOUDFN_MANIFEST=manifest, CLOUDFN_CACHE_DIR=caches[name],
                           CLOUDFN_DATA_DIR=os.path.join(work, "data"))
            results[name].append(time_init(emulator, command, env, path))
            emulator.stop()
    for name, *_ in rows:
        ready = [r for r, _ in results[name] if r is not None]
        first = [f for _, f in results[name]]
        ready_text = f"{statistics.median(ready):7.1f} ms ({min(ready):.1f})" if ready else "      -"
        print(f"  {name:42} {ready_text} | {statistics.median(first):7.1f} ms ({min(first):.1f})")

    print(f"warm POST /sentiment (one tweet), wrk {DURATION}:")
    emulator = Emulator(work)
    env = emulator.env()
    env.update(CLOUDFN_MANIFEST=os.path.join(ROOT, "spin.toml"),
               CLOUDFN_CACHE_DIR=caches[PRODUCT],
               CLOUDFN_DATA_DIR=os.path.join(work, "data"), RUST_LOG="warn")
    boot = subprocess.Popen([bootstrap], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    up = subprocess.Popen([os.path.join(ROOT, "target/release/cloudfn"), "up", "-f", "spin.toml",
                           "--listen", f"127.0.0.1:{port}", "--cache-dir", os.path.join(work, "up-cache"),
                           "--data-dir", os.path.join(work, "up-data")],
                          cwd=ROOT, env=dict(os.environ, RUST_LOG="warn"),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                post(f"http://127.0.0.1:{port}/sentiment", TWEET)
                post(emulator.url("/sentiment"), TWEET)
                break
            except OSError:
                time.sleep(0.1)
        lam = wrk(emulator.url("/sentiment"), 1, work)
        # The emulator's own cost per invocation: the hello Lambda behind it.
        hello_emulator = Emulator(work)
        hello_proc = subprocess.Popen([hello_bin], env=hello_emulator.env(),
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                post(hello_emulator.url("/"), TWEET)
                break
            except OSError:
                time.sleep(0.1)
        anchor = wrk(hello_emulator.url("/"), 1, work)
        hello_proc.kill()
        hello_proc.wait()
        hello_emulator.stop()
        up1 = wrk(f"http://127.0.0.1:{port}/sentiment", 1, work)
        up16 = wrk(f"http://127.0.0.1:{port}/sentiment", 16, work)
        print(f"  Lambda bootstrap via the emulator, 1 connection: {lam[0]:9.0f} req/s, p50 {lam[1]}")
        print(f"  Rust hello Lambda via the emulator, 1 connection: {anchor[0]:8.0f} req/s, p50 {anchor[1]}")
        print(f"  cloudfn up, 1 connection:                        {up1[0]:9.0f} req/s, p50 {up1[1]}")
        print(f"  cloudfn up, 16 connections:                      {up16[0]:9.0f} req/s, p50 {up16[1]}")
        print(f"  ratio (1 connection): {lam[0] / up1[0]:.2f}")
    finally:
        for p in (boot, up):
            p.kill()
            p.wait()
        emulator.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
