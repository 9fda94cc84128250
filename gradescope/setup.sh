#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/). It puts
# a `derive-check` binary on the PATH:
#   - a prebuilt Linux x86-64 binary shipped in the zip as bin/derive-check
#     is installed as it is;
#   - otherwise derive-check is built from the source shipped in the zip as
#     derive-check/ (this repository), with a Rust toolchain from rustup.
set -euo pipefail
SOURCE="${AUTOGRADER_ROOT:-/autograder}/source"

if [ -x "$SOURCE/bin/derive-check" ]; then
    install -m 755 "$SOURCE/bin/derive-check" /usr/local/bin/derive-check
    exit 0
fi

if [ ! -f "$SOURCE/derive-check/Cargo.toml" ]; then
    echo "setup.sh: ship bin/derive-check or the derive-check source (derive-check/) in the autograder zip" >&2
    exit 1
fi

apt-get update
apt-get install -y --no-install-recommends ca-certificates curl build-essential
if ! command -v cargo >/dev/null 2>&1; then
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
cd "$SOURCE/derive-check"
cargo build --release --locked
install -m 755 target/release/derive-check /usr/local/bin/derive-check
