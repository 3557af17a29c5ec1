#!/usr/bin/env python3
"""Portability check: serve every HTTP component of a Spin manifest under
`wasmtime serve` (wasmtime-cli 48, the nearest stand-in for `spin up`) and
check one route of each answers 2xx. Run by hand, not in CI.

    python3 scripts/check-wasmtime-serve.py                 # spin.toml, after `cloudfn build`
    python3 scripts/check-wasmtime-serve.py tests/fixtures/spin.toml

The path checked is `[component.X.tool.cloudfn] check_path` when set, else the
route with `:name` segments filled in and a trailing `/...` dropped; with
`check_body` (or binary `check_body_base64`, and optional `check_content_type`)
the check is a POST of it.
Component variables are resolved like Spin does and passed as wasi:config
variables (`-Sconfig -Sconfig-var=name=value`).
"""
import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_path(route, component):
    explicit = component.get("tool", {}).get("cloudfn", {}).get("check_path")
    if explicit:
        return explicit
    if route.endswith("/..."):
        route = route[: -len("/...")] or "/"
    parts = ["x" if p.startswith(":") else p for p in route.split("/")]
    return "/".join(parts) or "/"


def config_flags(manifest, component):
    """The component's Spin variables, resolved as `spin up` would (environment
    `SPIN_VARIABLE_X` first, then the default), as `wasmtime serve` wasi:config flags."""
    app_vars = manifest.get("variables", {})

    def resolve(match):
        name = match.group(1)
        value = os.environ.get(f"SPIN_VARIABLE_{name.upper()}", app_vars.get(name, {}).get("default"))
        if value is None:
            sys.exit(f"variable {name} has no value")
        return value

    variables = component.get("variables", {})
    if not variables:
        return []
    template = re.compile(r"{{\s*(\w+)\s*}}")
    return ["-Sconfig"] + [f"-Sconfig-var={k}={template.sub(resolve, v)}" for k, v in variables.items()]


def main():
    manifest_path = sys.argv[1] if len(sys.argv) > 1 else "spin.toml"
    wasmtime = os.environ.get("WASMTIME") or shutil.which("wasmtime")
    if not wasmtime:
        sys.exit("wasmtime not found: cargo install wasmtime-cli --version 48.0.8 --locked")
    with open(manifest_path, "rb") as f:
        manifest = tomllib.load(f)
    base = os.path.dirname(os.path.abspath(manifest_path))
    failures = 0
    triggers = manifest.get("trigger", {}).get("http", [])
    checked = set()
    skipped = 0
    for trigger in triggers:
        cid, route = trigger["component"], trigger.get("route")
        if cid in checked or not isinstance(route, str):
            continue
        checked.add(cid)
        component = manifest["component"][cid]
        if component.get("tool", {}).get("cloudfn", {}).get("wasmtime_serve") is False:
            print(f"skip {cid:<20} (imports a platform service wasmtime serve does not provide)")
            skipped += 1
            continue
        wasm = os.path.join(base, component["source"])
        path = check_path(route, component)
        tool = component.get("tool", {}).get("cloudfn", {})
        body = tool.get("check_body")
        data = body.encode() if body is not None else None
        if "check_body_base64" in tool:
            data = base64.b64decode(tool["check_body_base64"])
        headers = {"content-type": tool.get("check_content_type", "application/json")} if data else {}
        port = free_port()
        env_flags = [f"--env={k}={v}" for k, v in component.get("environment", {}).items()]
        proc = subprocess.Popen(
            [wasmtime, "serve", "-Scli", "-O", "pooling-allocator", "--addr", f"127.0.0.1:{port}",
             *env_flags, *config_flags(manifest, component), wasm],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        status, detail = None, ""
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers)
                    with urllib.request.urlopen(req, timeout=10) as r:
                        status = r.status
                    break
                except urllib.error.HTTPError as e:
                    status, detail = e.code, e.read()[:200]
                    break
                except OSError:
                    if proc.poll() is not None:
                        detail = proc.stderr.read().decode(errors="replace")[-500:]
                        break
                    time.sleep(0.1)
        finally:
            proc.kill()
            proc.wait()
        ok = status is not None and 200 <= status < 300
        failures += not ok
        method = "POST" if data else "GET"
        print(f"{'ok  ' if ok else 'FAIL'} {cid:<20} {method} {path:<24} -> {status} {detail if not ok else ''}")
    print(f"{len(checked) - skipped - failures} passed, {failures} failed, {skipped} skipped")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
