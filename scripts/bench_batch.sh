#!/usr/bin/env bash
# The batcher on the CPU (issue 15): 1 stream and 4 streams of vtest.avi into the
# batch-dynamic copy of the person detector (implicit batching: the batch is the number of
# streams), and, for comparison, 4 streams into the original model whose batch is fixed at
# 1 (one run per frame). Records discarded. For each: total fps over the frames of every
# stream (vplc's --stats), CPU seconds a frame (GNU time), wall time, and from the
# `vplbatch` debug log: the model runs, their sizes, and vpl's own time a run (assembling
# the batch input and cutting the outputs, outside ONNX Runtime; median).
# Usage: scripts/bench_batch.sh [FRAMES_PER_STREAM] [THREADS]
#   (run scripts/setup.sh first; defaults: 40 frames, 2 threads a model)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
FRAMES="${1:-40}"
THREADS="${2:-2}"
OUT=target/bench/batch
mkdir -p "$OUT"
# VPLC=path runs another build (the "before" figures of BENCHMARKS.md).
if [ -z "${VPLC:-}" ]; then
  cargo build --release --locked -q -p vplc
  VPLC="${CARGO_TARGET_DIR:-$PWD/target}/release/vplc"
fi
export VPL_CACHE_DIR="$OUT/cache"

MODEL="$PWD/assets/models/person_yolov8s.onnx"
BATCH="$PWD/assets/models/person_yolov8s_batch.onnx"
if [ ! -f "$BATCH" ]; then
  BATCH="$PWD/$OUT/person_yolov8s_batch.onnx"
  .venv/bin/python scripts/make_batch_dynamic.py "$MODEL" "$BATCH"
fi
# One file per stream: N cameras need N decoders.
for i in 0 1 2 3; do
  ln -f assets/media/vtest.avi "$OUT/cam$i.avi" 2>/dev/null || cp assets/media/vtest.avi "$OUT/cam$i.avi"
done

printf '| model | streams | frames | total fps | CPU s a frame | wall (s) | model runs: sizes (count) | vpl ms a run |\n'
printf '|---|---|---|---|---|---|---|---|\n'
run() { # NAME MODEL STREAMS
  local name=$1 model=$2 n=$3 list=""
  for i in $(seq 0 $((n - 1))); do list="$list${list:+, }file(\"cam$i.avi\")"; done
  cat > "$OUT/$name.vpl" <<VPL
model people = onnx("$model", labels: ["person", "fallen"], decoder: yolov8(confidence: 0.4));

pipeline $name {
    [$list] | decode | infer(people) | json | discard;
}
VPL
  GST_DEBUG=vplbatch:5 GST_DEBUG_NO_COLOR=1 GST_DEBUG_FILE="$OUT/$name.log" \
  /usr/bin/time -f '%e %U %S' -o "$OUT/$name.time" \
    "$VPLC" run --quiet --threads "$THREADS" --max-frames "$FRAMES" --stats "$OUT/$name.json" "$OUT/$name.vpl"
  read -r wall user sys < "$OUT/$name.time"
  python3 - "$OUT/$name.json" "$OUT/$name.log" "$(basename "$model")" "$n" "$wall" "$user" "$sys" <<'PY'
import collections, json, re, statistics, sys
stats, log, model, n = sys.argv[1:5]
wall, user, sys_ = map(float, sys.argv[5:])
s = json.load(open(stats))
frames = sum(s["frames"])
runs = [(int(m[1]), float(m[2]) - float(m[3]))
        for m in re.finditer(r"batch of (\d+) images: ([\d.]+) ms, model ([\d.]+) ms", open(log).read())]
sizes = collections.Counter(size for size, _ in runs)
sizes = ", ".join(f"{k} ({v})" for k, v in sorted(sizes.items(), reverse=True))
vpl = statistics.median(t for _, t in runs) if runs else float("nan")
print(f"| {model} | {n} | {frames} | {frames / s['wall_s']:.2f} | {(user + sys_) / frames:.3f} | {wall:.1f} | {len(runs)}: {sizes} | {vpl:.2f} |")
PY
}
run batch1 "$BATCH" 1
run batch4 "$BATCH" 4
run fixed4 "$MODEL" 4
