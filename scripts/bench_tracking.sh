#!/usr/bin/env bash
# The tracking benchmark (issue 24): vpl's trackers on synthetic scenes with known ground
# truth. scripts/tracking/scenes.py writes four scenes (people crossing, hidden behind
# others, behind pillars and out of the picture, a crowd) and their detections as records;
# each tracker runs on them through `vplc run`:
#
#   replay("SCENE.jsonl", size: 1280x720, rate: 25fps) | TRACKER | json | file("out.jsonl")
#
# and scripts/tracking/score.py scores its tracks with TrackEval (MOTA, IDF1, HOTA, ID
# switches). Prints a markdown table: one row a tracker, all scenes together, then the
# IDF1 and ID switches of each scene.
#
# Usage: [VPLC=…] [REFERENCE_PY=…] scripts/bench_tracking.sh [FRAMES_PER_SCENE] [SEED]
#   (defaults 300 and 1; run scripts/setup.sh first. VPLC=path/to/vplc skips the release
#   build and uses that binary.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
FRAMES="${1:-300}"
SEED="${2:-1}"
OUT=target/bench/tracking
PY=.venv/bin/python
[ -x "$PY" ] || { echo "bench_tracking: $PY not found: run scripts/setup.sh first" >&2; exit 1; }
if [ -z "${VPLC:-}" ]; then
  cargo build --release --locked -q
  VPLC=$PWD/target/release/vplc
fi
export VPL_CACHE_DIR=off
rm -rf "$OUT"
mkdir -p "$OUT/scenes"
"$PY" scripts/tracking/scenes.py "$OUT/scenes" --frames "$FRAMES" --seed "$SEED" >"$OUT/scenes.txt"
SCENES="crossing occlusion reenter crowd"

# The stages between replay and json.
TRACKERS=(
  "track(iou)"
  "track(sort)"
  "filter(min_confidence: 0.5) | track(sort)"
  "track(byte)"
)

now() { date +%s.%N; }
declare -A SCORES TIMES
for entry in "${TRACKERS[@]}"; do
  name="$entry"
  stages="$entry"
  slug="$(printf '%s' "$name" | tr -c 'a-z0-9' '_')"
  pairs=()
  total=0
  for scene in $SCENES; do
    dir="$OUT/$slug"
    mkdir -p "$dir"
    cat >"$dir/$scene.vpl" <<VPL
pipeline bench {
    replay("$PWD/$OUT/scenes/$scene.jsonl", size: 1280x720, rate: 25fps)
        | $stages
        | json | file("$PWD/$dir/$scene.out.jsonl");
}
VPL
    start=$(now)
    "$VPLC" run --quiet "$dir/$scene.vpl"
    end=$(now)
    total=$(awk -v t="$total" -v a="$start" -v b="$end" 'BEGIN {print t + b - a}')
    pairs+=("$OUT/scenes/$scene.gt.jsonl" "$dir/$scene.out.jsonl")
  done
  "$PY" scripts/tracking/score.py --json "${pairs[@]}" >"$dir/score.json"
  SCORES[$name]="$dir/score.json"
  TIMES[$name]="$total"
done

# With REFERENCE_PY (a Python with supervision==0.26.1, see scripts/reference_bytetrack.py):
# supervision's ByteTrack on the same boxes, one row more, and its tracks compared with
# track(byte)'s frame by frame.
ROWS=("${TRACKERS[@]}")
REFERENCE="supervision 0.26.1 ByteTrack (reference)"
if [ -n "${REFERENCE_PY:-}" ]; then
  dir="$OUT/reference"
  mkdir -p "$dir"
  pairs=()
  for scene in $SCENES; do
    "$REFERENCE_PY" scripts/reference_bytetrack.py "$OUT/scenes/$scene.jsonl" --out "$dir/$scene.out.jsonl" >/dev/null
    pairs+=("$OUT/scenes/$scene.gt.jsonl" "$dir/$scene.out.jsonl")
  done
  "$PY" scripts/tracking/score.py --json "${pairs[@]}" >"$dir/score.json"
  SCORES[$REFERENCE]="$dir/score.json"
  TIMES[$REFERENCE]=-  # not a vplc run
  ROWS+=("$REFERENCE")
fi

frames_all=$((FRAMES * 4))
echo "Scenes ($FRAMES frames each, seed $SEED, 1280x720 at 25 fps):"
sed 's/^/- /' "$OUT/scenes.txt"
echo
echo "| tracker | MOTA | IDF1 | HOTA | ID switches | FP | FN | run time, 4 scenes ($frames_all frames) |"
echo "|---|---|---|---|---|---|---|---|"
for entry in "${ROWS[@]}"; do
  name="$entry"
  "$PY" - "${SCORES[$name]}" "$name" "${TIMES[$name]}" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["all"]
name = sys.argv[2].replace("|", "\\|")  # a pipe inside a table cell
print(f"| `{name}` | {m['mota']:.3f} | {m['idf1']:.3f} | {m['hota']:.3f} | {m['id_switches']} "
      f"| {m['false_positives']} | {m['misses']} | {'-' if sys.argv[3] == '-' else f'{float(sys.argv[3]):.2f} s'} |")
PY
done
echo
printf '| tracker |'
for scene in $SCENES; do printf ' %s IDF1 | %s IDs |' "$scene" "$scene"; done
echo
printf '|---|'
for _ in $SCENES; do printf -- '---|---|'; done
echo
for entry in "${ROWS[@]}"; do
  name="$entry"
  "$PY" - "${SCORES[$name]}" "$name" $SCENES <<'PY'
import json, sys
scenes = json.load(open(sys.argv[1]))["scenes"]
cells = [f"{scenes[s]['idf1']:.3f} | {scenes[s]['id_switches']}" for s in sys.argv[3:]]
name = sys.argv[2].replace("|", "\\|")
print(f"| `{name}` | " + " | ".join(cells) + " |")
PY
done
if [ -n "${REFERENCE_PY:-}" ]; then
  echo
  "$PY" - "$OUT" $SCENES <<'PY'
import json, sys
out, scenes = sys.argv[1], sys.argv[2:]
def frames(path):
    return {r["frame"]: sorted((o["track_id"], round(o["bbox"]["x"], 1), round(o["bbox"]["y"], 1),
                                round(o["bbox"]["w"], 1), round(o["bbox"]["h"], 1))
                               for o in r["objects"] if "track_id" in o)
            for r in map(json.loads, open(path))}
same = total = 0
for s in scenes:
    ours, theirs = frames(f"{out}/track_byte_/{s}.out.jsonl"), frames(f"{out}/reference/{s}.out.jsonl")
    for f in ours:
        total += 1
        same += ours[f] == theirs.get(f, [])
print(f"`track(byte)` and the reference: {same} of {total} frames with the same tracks "
      "(ids and boxes to 0.1 pixel)")
PY
fi
