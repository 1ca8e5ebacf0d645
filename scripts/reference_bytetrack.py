"""Reference ByteTrack tracks for recorded detections: Roboflow's `supervision.ByteTrack`
(0.26, the last release that ships it; a port of ifzhang/ByteTrack's byte_tracker.py),
which `track(byte)` follows step for step (runtime/src/elements/track/byte.rs).

    python -m venv /tmp/bt && /tmp/bt/bin/pip install supervision==0.26.1
    /tmp/bt/bin/python scripts/reference_bytetrack.py RECORDS.jsonl --out TRACKS.jsonl \
        [--high 0.5] [--match 0.8] [--max-age 30]
    /tmp/bt/bin/python scripts/reference_bytetrack.py --scene DETECTIONS.jsonl [--frames 300] [--seed 24]

RECORDS.jsonl is vpl's records (`... | infer(m) | json`, or any lines with "frame" and
"objects": [{"class_id", "confidence", "bbox": {"x", "y", "w", "h"}}]). TRACKS.jsonl has one
line per frame, {"frame", "objects": [...]}: the detections ByteTrack's confirmed tracks
were associated with on the frame, in their order, each with its "track_id". ByteTrack's
other thresholds are its fixed ones (low 0.1, a new track above high + 0.1), as
`track(byte)`'s defaults are; it ignores classes.

--scene writes a synthetic scene's detections instead (no supervision needed): people
walking across a 1280x720 picture and crossing, jittered; one in front of another makes it
weak (confidence 0.15-0.45) and smaller; misses and weak false positives. Values are
float32, so that vpl (which keeps boxes as f32) and the reference read the same numbers.
"""

import argparse
import json
import sys

import numpy as np


def f32(v):
    return float(np.float32(v))


def scene(frames, seed=24):
    rng = np.random.default_rng(seed)
    people = []
    for i in range(9):
        h = rng.uniform(90, 200)
        start = rng.integers(0, frames // 2)
        left = i % 2 == 0
        x0 = -h * 0.4 if left else 1280.0
        vx = rng.uniform(2.5, 7.0) * (1 if left else -1)
        y0 = rng.uniform(150, 520)
        vy = rng.uniform(-0.8, 0.8)
        people.append((start, x0, y0, vx, vy, h * 0.4, h))
    lines = []
    for frame in range(frames):
        boxes = []
        for start, x0, y0, vx, vy, w, h in people:
            t = frame - start
            if t < 0:
                continue
            x, y = x0 + vx * t, y0 + vy * t
            if x + w < 0 or x > 1280:
                continue
            boxes.append([x, y, w, h])
        objects = []
        for i, (x, y, w, h) in enumerate(boxes):
            # Hidden by a person in front of it (lower on the picture) overlapping it.
            hidden = any(
                j != i
                and oy + oh > y + h
                and min(x + w, ox + ow) - max(x, ox) > 0.4 * w
                and min(y + h, oy + oh) - max(y, oy) > 0.3 * h
                for j, (ox, oy, ow, oh) in enumerate(boxes)
            )
            if rng.random() < 0.04:
                continue
            if hidden:
                score = rng.uniform(0.15, 0.45)
                x, y, w, h = x + 0.05 * w, y + 0.05 * h, 0.9 * w, 0.9 * h
            else:
                score = rng.uniform(0.55, 0.95)
            x += rng.normal(0, 2.0)
            y += rng.normal(0, 2.0)
            w *= 1 + rng.normal(0, 0.02)
            h *= 1 + rng.normal(0, 0.02)
            objects.append((x, y, w, h, score))
        for _ in range(rng.poisson(0.6)):
            w = rng.uniform(30, 80)
            objects.append(
                (rng.uniform(0, 1200), rng.uniform(0, 600), w, 2.2 * w, rng.uniform(0.1, 0.6))
            )
        order = rng.permutation(len(objects))
        lines.append(
            {
                "frame": frame,
                "objects": [
                    {
                        "class_id": 0,
                        "confidence": f32(objects[k][4]),
                        "bbox": {
                            "x": f32(objects[k][0]),
                            "y": f32(objects[k][1]),
                            "w": f32(objects[k][2]),
                            "h": f32(objects[k][3]),
                        },
                    }
                    for k in order
                ],
            }
        )
    return lines


def track(lines, high, matching, max_age):
    """ByteTrack's tracks of each frame, each with the detection it was associated with.

    supervision's `update_with_detections` re-pairs the tracks with the detections by the
    IoU of each track's filtered box, which can name a detection other than the one the
    track was matched to (another weak box over the same person); this asks the tracker
    itself (`update_with_tensors`) and finds each track's detection by its score, which
    ByteTrack copies from the detection that updated the track.
    """
    import supervision as sv

    tracker = sv.ByteTrack(
        track_activation_threshold=high,
        lost_track_buffer=max_age,
        minimum_matching_threshold=matching,
        frame_rate=30,
        minimum_consecutive_frames=1,
    )
    out = []
    for line in lines:
        objects = line.get("objects", [])
        tensors = np.array(
            [
                [o["bbox"]["x"], o["bbox"]["y"], o["bbox"]["x"] + o["bbox"]["w"],
                 o["bbox"]["y"] + o["bbox"]["h"], o["confidence"]]
                for o in objects
            ],
            dtype=np.float64,
        ).reshape(-1, 5)
        kept = []
        for t in tracker.update_with_tensors(tensors):
            same = [i for i in range(len(objects)) if tensors[i, 4] == t.score]
            if len(same) > 1:
                # Equal scores: the box nearest the track's.
                box = np.asarray(t.tlbr)
                same.sort(key=lambda i: float(np.abs(tensors[i, :4] - box).sum()))
            if not same:
                sys.exit(f"frame {line.get('frame')}: no detection scores {t.score}")
            kept.append((same[0], int(t.external_track_id)))
        kept.sort()
        out.append(
            {
                "frame": line.get("frame", len(out)),
                "objects": [dict(objects[i], track_id=tid) for i, tid in kept],
            }
        )
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("records", nargs="?")
    ap.add_argument("--out")
    ap.add_argument("--high", type=float, default=0.5)
    ap.add_argument("--match", type=float, default=0.8)
    ap.add_argument("--max-age", type=int, default=30)
    ap.add_argument("--scene", help="write a synthetic scene's detections here instead")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--seed", type=int, default=24)
    args = ap.parse_args()
    if args.scene:
        lines = scene(args.frames, args.seed)
        dest = args.scene
    else:
        if not args.records or not args.out:
            ap.error("RECORDS and --out are needed (or --scene)")
        with open(args.records) as f:
            lines = [json.loads(l) for l in f if l.strip()]
        lines = track(lines, args.high, args.match, args.max_age)
        dest = args.out
    with open(dest, "w") as f:
        for line in lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")
    print(f"wrote {len(lines)} frames to {dest}", file=sys.stderr)


if __name__ == "__main__":
    main()
