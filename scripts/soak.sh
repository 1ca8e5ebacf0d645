#!/usr/bin/env bash
# Soak (issue "Nothing lost, nothing hangs"): examples/people.vpl's pipeline on vtest.avi
# with `loop: true`, paced like a live camera (`vplc run --realtime`), for MINUTES
# minutes; the resident memory of vplc sampled every 10 s. Prints the samples, then the
# memory slope after the first minute (least squares, KiB/s; target: under 1 KiB/s).
# Usage: scripts/soak.sh [MINUTES]   (run scripts/setup.sh first; default 30)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
MINUTES="${1:-30}"
OUT=target/bench/soak
mkdir -p "$OUT"
cargo build --release --locked -q
VPLC=$PWD/target/release/vplc
export VPL_CACHE_DIR="$OUT/cache"

cat > "$OUT/soak.vpl" <<VPL
model people = onnx("$PWD/assets/models/person_yolov8s.onnx",
    labels: ["person", "fallen"],
    decoder: yolov8(confidence: 0.4, iou: 0.5),
);

pipeline soak {
    let cam = file("$PWD/assets/media/vtest.avi", loop: true);
    let tracked = cam | decode | infer(people) | track(iou, max_age: 30);
    tracked | overlay | encode(h264, bitrate: 2Mbps) | file("$PWD/$OUT/soak.mp4");
    tracked | json | file("$PWD/$OUT/soak.jsonl");
}
VPL

"$VPLC" run --quiet --realtime --stats "$OUT/stats.json" "$OUT/soak.vpl" &
pid=$!
samples="$OUT/rss.csv"
echo "seconds,rss_kib" > "$samples"
end=$((SECONDS + MINUTES * 60))
start=$SECONDS
while [ $SECONDS -lt $end ] && kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [ -n "$rss" ] && echo "$((SECONDS - start)),$rss" >> "$samples"
  sleep 10
done
kill -INT "$pid" 2>/dev/null || true
status=0
wait "$pid" || status=$?
echo "vplc exit status: $status (130: ended by the interrupt after finishing its files)"
python3 - "$samples" "$OUT/stats.json" <<'PY'
import csv, json, sys
rows = [(int(r["seconds"]), int(r["rss_kib"])) for r in csv.DictReader(open(sys.argv[1]))]
late = [(t, m) for t, m in rows if t >= 60]
n = len(late)
if n < 2:
    sys.exit("too few samples after the first minute")
mt = sum(t for t, _ in late) / n
mm = sum(m for _, m in late) / n
slope = sum((t - mt) * (m - mm) for t, m in late) / sum((t - mt) ** 2 for t, _ in late)
stats = json.load(open(sys.argv[2]))
print(f"samples: {len(rows)}; RSS first {rows[0][1] / 1024:.0f} MiB, at 60 s {late[0][1] / 1024:.0f} MiB, "
      f"last {rows[-1][1] / 1024:.0f} MiB, max {max(m for _, m in rows) / 1024:.0f} MiB")
print(f"frames: {stats['frames']}, fps: {stats['fps']}, exit: {stats['exit']}")
print(f"memory slope after the first minute: {slope:.3f} KiB/s (target: under 1 KiB/s)")
PY
