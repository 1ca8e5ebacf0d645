#!/usr/bin/env bash
# Runtime benchmarks, side by side in one run (results go to BENCHMARKS.md):
#   1. overhead: decode -> scale -> discard of a 1080p H.264 file, vplc run against the
#      equivalent hand-written gst-launch-1.0 line (hyperfine, 5 runs each);
#   2. detection throughput on vtest.avi: vplc run against ONNX Runtime alone on
#      preprocessed frames, and against a Python + onnxruntime loop (median of 5 runs).
# Usage: scripts/bench_runtime.sh [FRAMES]   (run scripts/setup.sh first)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
FRAMES="${1:-50}"
THREADS=2
OUT=target/bench
mkdir -p "$OUT"
cargo build --release --locked -q
VPLC=./target/release/vplc
PY=.venv/bin/python
MODEL=assets/models/person_yolov8s.onnx
VIDEO=assets/media/vtest.avi
export VPL_CACHE_DIR="$OUT/cache"

HD="$OUT/vtest_1080p.mp4"
if [ ! -f "$HD" ]; then
  gst-launch-1.0 -q filesrc location="$VIDEO" ! avidemux ! avdec_msmpeg4 ! videoconvert ! videoscale \
    ! video/x-raw,format=I420,width=1920,height=1080 ! x264enc speed-preset=veryfast bitrate=8000 \
    ! h264parse ! mp4mux ! filesink location="$HD.part"
  mv "$HD.part" "$HD"
fi
cat > "$OUT/overhead.vpl" <<VPL
pipeline overhead {
    file("vtest_1080p.mp4") | decode | scale(640x360) | discard;
}
VPL
echo "== 1. overhead (decode, scale, discard of 795 frames at 1080p)"
hyperfine --warmup 1 --runs 5 --export-markdown "$OUT/overhead.md" \
  -n "vplc run" "$VPLC run --quiet $OUT/overhead.vpl" \
  -n "gst-launch-1.0" "gst-launch-1.0 -q filesrc location=$HD ! qtdemux ! h264parse ! avdec_h264 ! videoconvert ! videoscale ! video/x-raw,format=I420,width=640,height=360 ! fakesink sync=false"
cat "$OUT/overhead.md"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cat > "$OUT/detect.vpl" <<VPL
model people = onnx("../../$MODEL", labels: ["person", "fallen"], decoder: yolov8(confidence: 0.4, iou: 0.5));

pipeline detect {
    file("../../$VIDEO") | decode | infer(people) | json | file("detect.jsonl");
}
VPL
echo "== 2. detection throughput, $FRAMES frames of vtest.avi, $THREADS threads, median of 5"
vpl_runs=(); ort_runs=(); py_runs=()
for i in 1 2 3 4 5; do
  "$VPLC" run --quiet --threads "$THREADS" --max-frames "$FRAMES" --stats "$OUT/detect_stats.json" "$OUT/detect.vpl"
  vpl_runs+=("$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['fps'][0])" "$OUT/detect_stats.json")")
  ort_runs+=("$("$PY" scripts/bench_ort.py "$MODEL" --frames "$FRAMES" --threads "$THREADS")")
  start=$(date +%s.%N)
  OMP_NUM_THREADS=$THREADS "$PY" scripts/reference_detect.py "$MODEL" "$VIDEO" --frames "$FRAMES" --threads "$THREADS" --out "$OUT/python.jsonl" >/dev/null
  end=$(date +%s.%N)
  py_runs+=("$(echo "$FRAMES / ($end - $start)" | bc -l)")
done
vpl=$(printf '%s\n' "${vpl_runs[@]}" | median)
ortfps=$(printf '%s\n' "${ort_runs[@]}" | median)
py=$(printf '%s\n' "${py_runs[@]}" | median)
printf '| what | fps (median of 5) | runs |\n|---|---|---|\n'
printf '| vplc run (decode, fused preprocess, infer, decode boxes, records) | %.2f | %s |\n' "$vpl" "${vpl_runs[*]}"
printf '| ONNX Runtime alone on preprocessed tensors | %.2f | %s |\n' "$ortfps" "${ort_runs[*]}"
printf '| Python + onnxruntime loop (scripts/reference_detect.py) | %.2f | %s |\n' "$py" "${py_runs[*]}"
printf 'vplc / ORT alone = %.3f (target >= 0.90); vplc / Python = %.3f (target >= 1.3)\n' \
  "$(echo "$vpl / $ortfps" | bc -l)" "$(echo "$vpl / $py" | bc -l)"
