#!/usr/bin/env bash
# Multi-stream scaling (issue 7): 1, 2, 4 and 8 streams of vtest.avi through one person
# detector run on every 4th frame, then a SORT tracker, records discarded. For each count:
# peak resident memory (GNU time), per-stream fps (vplc's --stats), CPU use. Two tables:
# files as fast as the machine goes, then paced at their 10 fps like live cameras
# (`vplc run --realtime`), which shows where the CPU saturates.
# Usage: scripts/bench_streams.sh [FRAMES_PER_STREAM] [STREAM COUNTS...]
#   (run scripts/setup.sh first; defaults: 200 frames, counts 1 2 4 8)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
FRAMES="${1:-200}"
shift || true
COUNTS="${*:-1 2 4 8}"
OUT=target/bench/streams
mkdir -p "$OUT"
cargo build --release --locked -q
VPLC=$PWD/target/release/vplc
export VPL_CACHE_DIR="$OUT/cache"

# One file per stream: vpl reads one path once (several flows of one file share a decoder),
# and a benchmark of N cameras needs N decoders.
for i in $(seq 0 7); do
  ln -f assets/media/vtest.avi "$OUT/cam$i.avi" 2>/dev/null || cp assets/media/vtest.avi "$OUT/cam$i.avi"
done

for mode in fast realtime; do
flags=""
if [ "$mode" = realtime ]; then flags="--realtime"; fi
echo
echo "### $mode${flags:+ ($flags)}"
printf '| streams | peak RSS (MiB) | RSS per stream over 1 (MiB) | fps per stream (min..max) | total fps | CPU (%% of 2 cores) | wall (s) |\n'
printf '|---|---|---|---|---|---|---|\n'
base_rss=""
for n in $COUNTS; do
  list=""
  for i in $(seq 0 $((n - 1))); do
    list="$list${list:+, }file(\"cam$i.avi\")"
  done
  cat > "$OUT/streams$n.vpl" <<VPL
model people = onnx("$PWD/assets/models/person_yolov8s.onnx",
    labels: ["person", "fallen"],
    decoder: yolov8(confidence: 0.4),
);

pipeline streams$n {
    [$list] | decode | infer(people, every: 4) | track(sort) | json | discard;
}
VPL
  # shellcheck disable=SC2086
  /usr/bin/time -f '%M %e %U %S' -o "$OUT/time$n.txt" \
    "$VPLC" run --quiet $flags --max-frames "$FRAMES" --stats "$OUT/stats$n.json" "$OUT/streams$n.vpl"
  read -r rss_kb wall user sys < "$OUT/time$n.txt"
  rss=$(awk -v k="$rss_kb" 'BEGIN {printf "%.0f", k / 1024}')
  [ -z "$base_rss" ] && base_rss=$rss
  per=$(awk -v r="$rss" -v b="$base_rss" -v n="$n" 'BEGIN {if (n > 1) printf "%.1f", (r - b) / (n - 1); else print "-"}')
  fps=$(python3 -c "import json,sys; s=json.load(open('$OUT/stats$n.json')); f=s['fps']; print(f'{min(f):.1f}..{max(f):.1f} | {sum(s[\"frames\"])/s[\"wall_s\"]:.1f}')")
  cpu=$(awk -v u="$user" -v s="$sys" -v w="$wall" 'BEGIN {printf "%.0f", 100 * (u + s) / w / 2}')
  printf '| %s | %s | %s | %s | %s | %s |\n' "$n" "$rss" "$per" "$fps" "$cpu" "$wall"
done
done
