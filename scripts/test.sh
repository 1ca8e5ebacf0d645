#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this): set-up (idempotent),
# formatting, lints, then every test of the workspace.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
echo "vpl test: cargo fmt --check"
cargo fmt --all -- --check
echo "vpl test: cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "vpl test: cargo clippy -D warnings, GPU feature on (GPU code must not rot)"
cargo clippy --workspace --all-targets --locked --features vpl-runtime/gpu -- -D warnings
echo "vpl test: cargo test"
cargo test --workspace --locked --no-fail-fast
