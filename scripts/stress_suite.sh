#!/usr/bin/env bash
# Runs the test suite RUNS times in a row with two CPU-bound processes beside it (a loaded
# machine, where start-up races show), and reports how many runs were green.
#
#   scripts/stress_suite.sh [RUNS] [CARGO TEST ARGUMENTS...]
#
# RUNS defaults to 10; the arguments default to the whole workspace (`--workspace`). To
# stress some test binaries only: `scripts/stress_suite.sh 10 --test rtsp -p vplc`, or
# `scripts/stress_suite.sh 10 -p vpl-runtime --test rtsp`. The busy processes are always
# ended on exit (Ctrl-C included). Exit status 0 only when every run was green; each failed
# run's output is kept in target/stress/run-N.log.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs="${1:-10}"
shift || true
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/stress_suite.sh [RUNS] [CARGO TEST ARGUMENTS...]" >&2
    exit 2
fi
args=("$@")
if [ ${#args[@]} -eq 0 ]; then
    args=(--workspace)
fi

busy=()
stop_busy() {
    for pid in "${busy[@]}"; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    busy=()
}
trap stop_busy EXIT
trap 'stop_busy; exit 130' INT TERM

# Built once, before the load, so that every run tests and none compiles.
cargo test --locked --no-run "${args[@]}" || exit 1

for _ in 1 2; do
    (while :; do :; done) &
    busy+=("$!")
done

mkdir -p target/stress
green=0
for run in $(seq 1 "$runs"); do
    log="target/stress/run-$run.log"
    if cargo test --locked --no-fail-fast "${args[@]}" >"$log" 2>&1; then
        green=$((green + 1))
        rm -f "$log"
        echo "stress: run $run of $runs green"
    else
        echo "stress: run $run of $runs FAILED (output in $log):"
        grep -E "^test .* FAILED$|panicked at" "$log" | head -20
    fi
done
stop_busy
echo "stress: $green of $runs green under load (cargo test ${args[*]})"
[ "$green" -eq "$runs" ]
