#!/usr/bin/env bash
# The main job on the bundled example: set up the machine (packages, venv, assets),
# build vplc, and run examples/people.vpl: people detected and tracked in vtest.avi, written
# to examples/out/people.mp4 (boxes drawn) and examples/out/people.jsonl (records).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
cargo build --release --locked
./target/release/vplc run examples/people.vpl
