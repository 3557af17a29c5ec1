#!/usr/bin/env bash
# The README's test command: installs what the tests need and this machine
# lacks, then runs every test (unit and end-to-end):
#
#   bash scripts/test.sh [ARGS…]      ARGS go to `cargo test` (a test name filter, `-- --nocapture`, …)
#
# The end-to-end tests start real servers and a real browser from Debian's
# packages (each on 127.0.0.1, a free port, a throwaway data directory):
# Redis, PostgreSQL, MariaDB, mosquitto, Chromium; Python's venv for the tools they
# take from PyPI (cargo-lambda's Lambda emulator, moto), Node.js and npm for
# the browser tests. Missing packages are installed with apt-get, as root or
# through sudo; without either the script prints the one line to run. With
# the servers already installed, `cargo test --release --workspace` is the
# same thing. .ci/run calls this script.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v mariadb-install-db >/dev/null || missing+=(mariadb-server)
# The web tier's browser tests: Debian's Chromium, with a font for its screenshots.
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v cc >/dev/null || missing+=(gcc libc6-dev)

if [ ${#missing[@]} -gt 0 ]; then
    install=(apt-get install -y -qq --no-install-recommends "${missing[@]}")
    if [ "$(id -u)" = 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null; then
        sudo=(sudo)
    else
        echo "scripts/test.sh: the tests need Debian packages this machine lacks; as root, run:" >&2
        echo "  apt-get update && ${install[*]}" >&2
        exit 1
    fi
    echo "scripts/test.sh: installing from Debian: ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" "${install[@]}"
fi

# playwright-core, which drives Chromium in the browser tests, needs Node.js
# 20 or newer: Debian 13 has it, Debian 12's own nodejs is 18.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
    echo "scripts/test.sh: the browser tests need Node.js 20 or newer (playwright-core);" \
        "this machine has $(node --version 2>/dev/null || echo none): install a newer one" \
        "(Debian 13's nodejs, or NodeSource's for Debian 12) and run this again" >&2
    exit 1
fi

# The pinned toolchain and its targets (rust-toolchain.toml): wasm32-wasip2
# for the components, wasm32-wasip1 and wasm32-unknown-unknown for the
# core-module fixtures.
rustup toolchain install
rustup target add wasm32-wasip2 wasm32-wasip1 wasm32-unknown-unknown

cargo test --release --workspace "$@"
