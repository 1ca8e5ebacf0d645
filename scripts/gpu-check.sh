#!/usr/bin/env bash
# The GPU check of issue 15, for a machine with an NVIDIA GPU (the GPU kit's b/ part copies
# it there; docs/gpu.md). Prints one table:
#   1. correctness: records of `--backend cuda` against `--backend cpu` on the first 60
#      frames of vtest.avi (as H.264, so NVDEC decodes it): same box counts, IoU >= 0.99;
#   2. throughput of 1, 4 and 16 streams of a 1080p H.264 file made from vtest.avi, with
#      the GPU's busy share (nvidia-smi sampled every 100 ms) and CPU time a frame;
#   3. ONNX Runtime alone (CUDA, batch 1, host input and output) on the same model, in the
#      same run, as the ceiling the 1-stream figure is measured against.
#
#   scripts/gpu-check.sh [--frames N]             (default 300 frames a stream)
#   scripts/gpu-check.sh --compare CPU.jsonl GPU.jsonl   (the correctness step alone)
#
# Finds: vplc ($VPLC, else target/release/vplc, else on PATH), the model
# ($VPL_MODEL, else assets/models/person_yolov8s.onnx or $VPL_FILES/person_yolov8s.onnx),
# vtest.avi ($VPL_VIDEO, else assets/media/vtest.avi or $VPL_FILES/vtest.avi), ONNX Runtime
# GPU ($VPL_ONNXRUNTIME), Python with onnxruntime-gpu and numpy ($VPL_PYTHON, else python3),
# NVRTC for the preprocessing kernel ($VPL_NVRTC, else libnvrtc.so* in Python's packages:
# PyPI nvidia-cuda-nvrtc), the batch-dynamic model ($VPL_BATCH_MODEL, else
# assets/models/person_yolov8s_batch.onnx or $VPL_FILES/person_yolov8s_batch.onnx; rows
# that need it are skipped without it).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
compare="$here/compare_records.py"
py=${VPL_PYTHON:-python3}

if [ "${1:-}" = --compare ]; then
  shift
  exec "$py" "$compare" "$@"
fi
frames=300
while [ $# -gt 0 ]; do
  case $1 in
    --frames) frames=$2; shift 2 ;;
    *) echo "gpu-check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

first() { for f in "$@"; do [ -n "$f" ] && [ -e "$f" ] && { echo "$f"; return; }; done; return 1; }
root=$(cd "$here/.." && pwd)
vplc=$(first "${VPLC:-}" "$root/target/release/vplc" "$(command -v vplc || true)") ||
  { echo "gpu-check.sh: no vplc (set VPLC)" >&2; exit 1; }
model=$(first "${VPL_MODEL:-}" "$root/assets/models/person_yolov8s.onnx" "${VPL_FILES:-/nonexistent}/person_yolov8s.onnx") ||
  { echo "gpu-check.sh: no model (set VPL_MODEL)" >&2; exit 1; }
video=$(first "${VPL_VIDEO:-}" "$root/assets/media/vtest.avi" "${VPL_FILES:-/nonexistent}/vtest.avi") ||
  { echo "gpu-check.sh: no vtest.avi (set VPL_VIDEO)" >&2; exit 1; }
batch_model=$(first "${VPL_BATCH_MODEL:-}" "$root/assets/models/person_yolov8s_batch.onnx" "${VPL_FILES:-/nonexistent}/person_yolov8s_batch.onnx") || batch_model=""
if [ -z "${VPL_NVRTC:-}" ]; then
  VPL_NVRTC=$("$py" -c 'import site; print("\n".join(site.getsitepackages()))' 2>/dev/null |
    while read -r d; do find "$d/nvidia" -name 'libnvrtc.so*' ! -name '*builtins*' 2>/dev/null; done | sort | tail -1 || true)
  [ -n "$VPL_NVRTC" ] && export VPL_NVRTC || echo "gpu-check.sh: no NVRTC found (set VPL_NVRTC): frames are preprocessed on the CPU" >&2
fi
[ -n "${VPL_ONNXRUNTIME:-}" ] || echo "gpu-check.sh: VPL_ONNXRUNTIME is not set: vplc looks for ONNX Runtime itself" >&2
out=${VPL_CHECK_DIR:-$(mktemp -d)/gpu-check}
mkdir -p "$out"
export VPL_CACHE_DIR="$out/cache"
cd "$out"

# --- media: vtest.avi as H.264 in Matroska, at its size and at 1080p (x264 on the CPU, once)
make_h264() { # SIZE-CAPS OUT
  [ -s "$2" ] || gst-launch-1.0 -q filesrc location="$video" ! avidemux ! avdec_msmpeg4 ! videoconvert ! videoscale \
    ! "video/x-raw,format=I420$1" ! x264enc speed-preset=ultrafast key-int-max=30 bitrate=8000 \
    ! h264parse ! matroskamux ! filesink location="$2"
}
make_h264 "" vtest_h264.mkv
make_h264 ",width=1920,height=1080" vtest_1080p.mkv

# --- 1. correctness
cat > detect.vpl <<VPL
model people = onnx("$model", labels: ["person", "fallen"], decoder: yolov8(confidence: 0.4, iou: 0.5));
pipeline detect {
    file("vtest_h264.mkv") | decode | infer(people) | json | file("records.jsonl");
}
VPL
for b in cpu cuda; do
  "$vplc" run --quiet --backend $b --max-frames 60 detect.vpl
  mv records.jsonl "records_$b.jsonl"
done
correct=$("$py" "$compare" records_cpu.jsonl records_cuda.jsonl --frames 60 --min-iou 0.99 2>&1) && verdict=pass || verdict=FAIL

# --- GPU busy share while a command runs: nvidia-smi sampled every 100 ms
busy() { # COMMAND... ; prints "wall_s busy_percent"
  local log="$out/smi.$$" start end pid
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -lms 100 > "$log" 2>/dev/null &
    pid=$!
  fi
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  local share="n/a"
  [ -s "$log" ] && share=$(awk -F, '{s += $1; n++} END {if (n) printf "%.0f", s / n}' "$log")
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", b - a}') $share"
}

# --- 2. throughput: N streams of the 1080p file (one file a stream, so each is decoded)
throughput() { # LABEL STREAMS MODEL [ENV=VALUE...]: appends "LABEL|fps|cpu_ms|busy" to rows
  local label=$1 n=$2 m=$3 list="" i; shift 3
  for i in $(seq 0 $((n - 1))); do
    ln -sf vtest_1080p.mkv "cam$i.mkv"
    list="$list${list:+, }file(\"cam$i.mkv\")"
  done
  cat > "streams.vpl" <<VPL
model people = onnx("$m", labels: ["person", "fallen"], decoder: yolov8(confidence: 0.4));
pipeline streams {
    [$list] | decode | infer(people) | json | discard;
}
VPL
  read -r wall share < <(busy env "$@" /usr/bin/time -f '%U %S' -o time.txt \
    "$vplc" run --quiet --backend cuda --max-frames "$frames" --stats stats.json streams.vpl)
  read -r user sys < time.txt
  row=$("$py" - stats.json "$user" "$sys" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
total = sum(s["frames"])
fps = total / s["wall_s"] if s["wall_s"] else 0
cpu_ms = 1000 * (float(sys.argv[2]) + float(sys.argv[3])) / max(total, 1)
print(f"{fps:.1f}|{cpu_ms:.1f}")
PY
)
  rows+=("$label|$row|$share")
}
rows=()
throughput "1 stream, kernel preprocessing" 1 "$model"
throughput "1 stream, CPU preprocessing (VPL_PREPROCESS=cpu)" 1 "$model" VPL_PREPROCESS=cpu
throughput "4 streams" 4 "$model"
throughput "16 streams, batch-1 model" 16 "$model"
[ -n "$batch_model" ] && throughput "16 streams, batch-dynamic model" 16 "$batch_model"

# --- 3. ONNX Runtime alone, CUDA: batch 1 with host input/output; batch 16 of the
# batch-dynamic model with its input on the device (IO binding)
ort=$("$py" - "$model" "${batch_model:-}" <<'PY'
import sys, time
import numpy as np
import onnxruntime as ort
def session(path):
    return ort.InferenceSession(path, providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
s = session(sys.argv[1])
if "CUDAExecutionProvider" not in s.get_providers():
    print("n/a n/a"); sys.exit()
name = s.get_inputs()[0].name
x = np.random.default_rng(0).random((1, 3, 640, 640), dtype=np.float32)
for _ in range(20): s.run(None, {name: x})
n = 300; t = time.perf_counter()
for _ in range(n): s.run(None, {name: x})
one = n / (time.perf_counter() - t)
sixteen = "n/a"
if sys.argv[2]:
    b = session(sys.argv[2])
    x16 = ort.OrtValue.ortvalue_from_numpy(np.random.default_rng(0).random((16, 3, 640, 640), dtype=np.float32), "cuda", 0)
    io = b.io_binding()
    io.bind_ortvalue_input(b.get_inputs()[0].name, x16)
    for o in b.get_outputs(): io.bind_output(o.name, "cpu")
    for _ in range(5): b.run_with_iobinding(io)
    n = 30; t = time.perf_counter()
    for _ in range(n): b.run_with_iobinding(io)
    sixteen = f"{16 * n / (time.perf_counter() - t):.1f}"
print(f"{one:.1f} {sixteen}")
PY
)
read -r ort ort16 <<< "$ort"

gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || echo "no nvidia-smi")
echo
echo "### GPU check: $gpu, $(date -u +%Y-%m-%d), $frames frames a stream"
echo
echo "| what | figure |"
echo "|---|---|"
echo "| correctness, cuda vs cpu, 60 frames of vtest (H.264) | $verdict: $(echo "$correct" | head -1) |"
for r in "${rows[@]}"; do
  IFS='|' read -r label fps cpu share <<< "$r"
  ratio=""
  case $label in
    "1 stream, kernel"*) [[ $ort =~ ^[0-9.]+$ ]] && ratio=$(awk -v a="$fps" -v b="$ort" 'BEGIN {printf "; %.2f of ONNX Runtime alone batch 1", a / b}') ;;
    "16 streams, batch-dynamic"*) [[ $ort16 =~ ^[0-9.]+$ ]] && ratio=$(awk -v a="$fps" -v b="$ort16" 'BEGIN {printf "; %.2f of ONNX Runtime alone batch 16 on the device", a / b}') ;;
  esac
  echo "| $label of 1080p H.264, --backend cuda | $fps fps together$ratio; GPU busy $share%; CPU $cpu ms a frame |"
done
echo "| ONNX Runtime alone (CUDA, batch 1, host input/output) | $ort fps |"
echo "| ONNX Runtime alone (CUDA, batch-dynamic model, batch 16, input on the device) | $ort16 img/s |"
echo
echo "(files in $out)"
[ "$verdict" = pass ]
