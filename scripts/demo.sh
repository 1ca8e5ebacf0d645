#!/usr/bin/env bash
# The main job on the bundled example: set up the machine (packages, venv, assets),
# build vplc, and check examples/people.vpl. (Running it arrives with the runtime.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
cargo build --release --locked
./target/release/vplc check examples/people.vpl
