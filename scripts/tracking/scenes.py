"""Synthetic tracking scenes with known ground truth, and their detections as vpl records.

    python3 scripts/tracking/scenes.py OUT_DIR [--seed 1] [--frames 300] [--scene NAME ...]
                                       [--oracle]

People walk on a 1280x720 picture at 25 fps. Each scene writes two files:

- `NAME.gt.jsonl`: the ground truth, one line a frame,
  `{"frame": 0, "objects": [{"id": 1, "bbox": {"x", "y", "w", "h"}, "visibility": 0.8}]}`:
  every person at least a quarter inside the picture, its box clipped to the picture, and the
  share of it that nobody in front of it hides (people lower in the picture are closer to
  the camera and hide those behind them). Hidden people stay in the ground truth, as in
  MOTChallenge's.
- `NAME.jsonl`: what a person detector would have found, in vpl's records format
  (docs/records.md), the input of `replay(...)`: one record a frame, objects with `label`
  `person`, `class_id` 0, `confidence` and `bbox`. Detections miss some people (always those
  less than 20% visible, and 4% of the others), jitter the boxes (4% of their size, 8% for
  people partly hidden), score the partly hidden people low (0.12 to 0.45: the case
  ByteTrack's second association is for) and add false positives, mostly weak ones (on the
  background, 0.8 a frame on average, and on the upper half of 10% of the people).

With `--oracle`, also `NAME.oracle.jsonl`: the ground truth as tracker output (records with
`track_id` the ground truth's id), which scores MOTA 1 and IDF1 1.

The scenes:

- `crossing`: pairs of people walking towards each other on nearly the same line, the one
  behind hidden while they pass;
- `occlusion`: people standing or slowly walking while two others, side by side, pass in
  front of them, hidden for up to about 50 frames;
- `reenter`: people walking across behind two pillars (hidden for up to about 30 frames),
  and every third one leaving the picture at an edge and coming back through it after 5 to
  15 frames off it (the same person, the same ground-truth id);
- `crowd`: up to 14 people wandering at once, coming and going through the edges.

Everything derives from `--seed` through Python's own random generator (seeded with a
string, which is hashed the same way on every run and machine): the same arguments write
the same bytes. Only the standard library: it runs with any Python 3.
"""

import argparse
import json
import math
import os
import random
import sys

WIDTH, HEIGHT, RATE = 1280, 720, 25
SCENES = ("crossing", "occlusion", "reenter", "crowd")

# The detector's model (see the module's doc).
LEAST_VISIBLE = 0.2  # less visible than this: never detected
HIGH_VISIBLE = 0.65  # at least this visible: a confident detection
MISS = 0.04
# False positives. A real person detector run with a low threshold finds many weak boxes:
# YOLOv8s (assets/models/person_yolov8s.onnx, scripts/reference_detect.py --confidence 0.1)
# gives on vtest.avi about 2.5 boxes a frame at 0.5 or more and 2.6 between 0.1 and 0.5,
# some of them people, others not. Here: weak boxes on the background, weak boxes on part
# of a person (the upper half, as a duplicate NMS left), and now and then a confident one.
CLUTTER = 0.8  # weak boxes on the background, on average a frame (Poisson)
PART = 0.1  # chance of a weak box on part of each clearly visible person
HIGH_FP = 0.02  # chance of a confident false positive in a frame
JITTER = 0.04  # box noise, a share of the box's size (twice that when partly hidden)


class Person:
    """One person: its box's size and, for each frame it exists on, where its feet are."""

    def __init__(self, pid, width, height):
        self.id = pid
        self.w = width
        self.h = height
        self.feet = {}  # frame -> (x of the feet's middle, y of the feet)

    def box(self, frame):
        fx, fy = self.feet[frame]
        return (fx - self.w / 2, fy - self.h, self.w, self.h)


def person_size(rng, feet_y):
    """A person's box size: taller nearer the camera (lower in the picture)."""
    height = (90 + 110 * (feet_y / HEIGHT)) * rng.uniform(0.9, 1.1)
    return height * rng.uniform(0.36, 0.44), height


def walk(rng, person, start, points, speed):
    """Moves `person` from frame `start` through `points` at about `speed` pixels a frame,
    with a walker's sway; returns the frame after the last."""
    frame = start
    x, y = points[0]
    phase = rng.uniform(0, 2 * math.pi)
    for tx, ty in points[1:]:
        dist = math.hypot(tx - x, ty - y)
        steps = max(1, round(dist / speed))
        for i in range(steps):
            t = i / steps
            sway = 1.5 * math.sin(phase + 0.35 * frame)
            person.feet[frame] = (x + (tx - x) * t + sway, y + (ty - y) * t)
            frame += 1
        x, y = tx, ty
    return frame


def scene_crossing(rng, frames):
    people = []
    start = 0
    while start < frames - 40:
        y = rng.uniform(300, 650)
        a = Person(len(people) + 1, *person_size(rng, y))
        b = Person(len(people) + 2, *person_size(rng, y))
        speed = rng.uniform(2.5, 5.0)
        dy = rng.uniform(4, 14)  # b a little closer to the camera: it hides a
        xl, xr = rng.uniform(-40, 200), rng.uniform(1080, 1320)
        walk(rng, a, start, [(xl, y), (xr, y + rng.uniform(-10, 10))], speed)
        walk(rng, b, start + rng.randrange(0, 15), [(xr, y + dy), (xl, y + dy)], speed)
        people += [a, b]
        start += rng.randrange(25, 60)
    return people, []


def scene_occlusion(rng, frames):
    people = []
    start = 0
    while start < frames - 40:
        y = rng.uniform(250, 550)
        first = len(people) + 1
        back = Person(first, *person_size(rng, y))
        x = rng.uniform(300, 980)
        length = rng.randrange(70, 140)
        drift = rng.uniform(-0.6, 0.6) * length
        end = (x + drift, y + rng.uniform(-15, 15))
        walk(rng, back, start, [(x, y), end], max(1e-3, math.hypot(drift, end[1] - y)) / length)
        # Two people side by side in front, slowly: the one behind is hidden for up to
        # about 50 frames.
        speed = rng.uniform(1.0, 2.5)
        direction = rng.choice((-1, 1))
        begin = start + rng.randrange(5, 20)
        for k in range(2):
            fy = y + rng.uniform(12, 40)
            front = Person(first + 1 + k, *person_size(rng, fy))
            fx = x - direction * (50 * speed + k * 0.9 * front.w)
            walk(rng, front, begin, [(fx, fy), (fx + direction * 100 * speed, fy + rng.uniform(-8, 8))],
                 speed)
            people.append(front)
        people.insert(len(people) - 2, back)
        start += rng.randrange(30, 70)
    return people, []


def scene_reenter(rng, frames):
    """People walking across behind two pillars (the picture's full height), and some
    stepping out of the picture at an edge and back."""
    pillars = []
    for lo, hi in ((250, 480), (780, 1030)):
        w = rng.uniform(70, 110)
        pillars.append((rng.uniform(lo, hi), 0.0, w, float(HEIGHT)))
    people = []
    start = 0
    while start < frames - 40:
        y = rng.uniform(250, 700)
        p = Person(len(people) + 1, *person_size(rng, y))
        speed = rng.uniform(2.0, 4.5)
        if len(people) % 3 == 2:
            # Out at the nearer edge, off the picture for 5 to 15 frames, and back.
            x_in = rng.uniform(150, 1130)
            side = -0.6 * p.w if x_in < WIDTH / 2 else WIDTH + 0.6 * p.w
            end = walk(rng, p, start, [(x_in, y), (side, y)], speed)
            for f in range(end, end + rng.randrange(5, 16)):
                p.feet[f] = (side, y)
            walk(rng, p, f + 1, [(side, y), (x_in, y + rng.uniform(-30, 30))], speed)
        else:
            left, right = -0.4 * p.w, WIDTH + 0.4 * p.w
            ends = [(left, y), (right, y + rng.uniform(-60, 60))]
            walk(rng, p, start, ends[:: rng.choice((1, -1))], speed)
        people.append(p)
        start += rng.randrange(15, 40)
    return people, pillars


def scene_crowd(rng, frames):
    people = []

    def spawn(first):
        y = rng.uniform(200, 700)
        p = Person(len(people) + 1, *person_size(rng, y))
        if first:
            points = [(rng.uniform(50, 1230), y)]
        else:
            side = rng.choice((-60.0, WIDTH + 60.0))
            points = [(side, y)]
        for _ in range(rng.randrange(2, 5)):
            points.append((rng.uniform(-80, WIDTH + 80), min(710, max(180, points[-1][1] + rng.uniform(-150, 150)))))
        people.append(p)
        return p, points

    starts = [0] * 8 + sorted(rng.randrange(0, frames) for _ in range(10))
    for i, start in enumerate(starts):
        p, points = spawn(i < 8)
        walk(rng, p, start, points, rng.uniform(1.5, 4.5))
    return people, []


def clip(box):
    x, y, w, h = box
    x1, y1 = max(0.0, x), max(0.0, y)
    x2, y2 = min(float(WIDTH), x + w), min(float(HEIGHT), y + h)
    if x2 <= x1 or y2 <= y1:
        return None
    return (x1, y1, x2 - x1, y2 - y1)


def visibility(box, front):
    """The share of `box` (full, unclipped) inside the picture and not behind a box of
    `front`, sampled on a 10x20 grid."""
    x, y, w, h = box
    seen = 0
    for i in range(10):
        px = x + (i + 0.5) * w / 10
        for j in range(20):
            py = y + (j + 0.5) * h / 20
            if not (0 <= px < WIDTH and 0 <= py < HEIGHT):
                continue
            if any(fx <= px < fx + fw and fy <= py < fy + fh for fx, fy, fw, fh in front):
                continue
            seen += 1
    return seen / 200


def rounded(box):
    x, y, w, h = box
    return {"x": round(x, 1), "y": round(y, 1), "w": round(w, 1), "h": round(h, 1)}


def frame_truth(people, pillars, frame):
    """The people on `frame`: (id, clipped box, visibility), in the order of their ids."""
    present = [p for p in people if frame in p.feet]
    present.sort(key=lambda p: -p.feet[frame][1])  # nearest the camera first
    truth, front = [], list(pillars)
    for p in present:
        full = p.box(frame)
        inside = clip(full)
        if inside is not None and inside[2] * inside[3] >= 0.25 * full[2] * full[3]:
            truth.append((p.id, inside, visibility(full, front)))
        front.append(full)
    truth.sort(key=lambda t: t[0])
    return truth


def poisson(rng, mean):
    """A Poisson draw (Knuth's method)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def detect(rng, truth):
    """A detector's objects on one frame: (confidence, box)."""
    found = []
    for _pid, box, vis in truth:
        if vis < LEAST_VISIBLE or rng.random() < MISS:
            continue
        hidden = vis < HIGH_VISIBLE
        score = rng.uniform(0.12, 0.45) if hidden else rng.uniform(0.55, 0.97)
        x, y, w, h = box
        s = JITTER * (2 if hidden else 1)
        jittered = clip((x + rng.gauss(0, s * w), y + rng.gauss(0, s * h),
                         w * (1 + rng.gauss(0, s)), h * (1 + rng.gauss(0, s))))
        if jittered is not None:
            found.append((score, jittered))
        if not hidden and rng.random() < PART:
            found.append((rng.uniform(0.1, 0.4), (x, y, w, h * rng.uniform(0.45, 0.6))))
    clutter = [(0.1, 0.45)] * poisson(rng, CLUTTER)
    if rng.random() < HIGH_FP:
        clutter.append((0.5, 0.7))
    for low, high in clutter:
        fy = rng.uniform(200, 700)
        w, h = person_size(rng, fy)
        box = clip((rng.uniform(0, WIDTH - w), fy - h, w, h))
        if box is not None:
            found.append((rng.uniform(low, high), box))
    rng.shuffle(found)
    return found


def record(name, frame, objects):
    return {
        "pipeline": "scene",
        "stream": 0,
        "source": name,
        "frame": frame,
        "pts_ns": frame * 1_000_000_000 // RATE,
        "width": WIDTH,
        "height": HEIGHT,
        "objects": objects,
    }


def person(confidence, box, track_id=None):
    o = {"label": "person", "class_id": 0, "confidence": round(confidence, 3), "bbox": rounded(box)}
    if track_id is not None:
        o["track_id"] = track_id
    return o


def line(value):
    return json.dumps(value, separators=(", ", ": ")) + "\n"


def write_scene(out_dir, name, seed, frames, oracle):
    rng = random.Random(f"vpl-tracking:{seed}:{name}")
    people, pillars = globals()["scene_" + name](rng, frames)
    detections = random.Random(f"vpl-detections:{seed}:{name}")
    gt_lines, rec_lines, oracle_lines = [], [], []
    counts = {"people": 0, "truth": 0, "detections": 0, "low": 0}
    seen_ids = set()
    for f in range(frames):
        truth = frame_truth(people, pillars, f)
        seen_ids.update(pid for pid, _, _ in truth)
        counts["truth"] += len(truth)
        gt_lines.append(line({"frame": f, "objects": [
            {"id": pid, "bbox": rounded(box), "visibility": round(vis, 3)} for pid, box, vis in truth]}))
        found = detect(detections, truth)
        counts["detections"] += len(found)
        counts["low"] += sum(1 for score, _ in found if score < 0.5)
        rec_lines.append(line(record(name, f, [person(score, box) for score, box in found])))
        if oracle:
            oracle_lines.append(line(record(name, f, [person(1.0, box, pid) for pid, box, _ in truth])))
    counts["people"] = len(seen_ids)
    for suffix, lines in ((".gt.jsonl", gt_lines), (".jsonl", rec_lines), (".oracle.jsonl", oracle_lines)):
        if lines:
            with open(os.path.join(out_dir, name + suffix), "w", encoding="utf-8", newline="\n") as f:
                f.writelines(lines)
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--scene", action="append", choices=SCENES,
                    help="a scene to write (repeatable; default: all)")
    ap.add_argument("--oracle", action="store_true", help="also write NAME.oracle.jsonl")
    args = ap.parse_args()
    if not 10 <= args.frames <= 100_000:
        sys.exit(f"scenes.py: --frames {args.frames}: give 10 to 100000 frames")
    try:
        os.makedirs(args.out_dir, exist_ok=True)
    except OSError as e:
        sys.exit(f"scenes.py: cannot create {args.out_dir}: {e.strerror}")
    for name in args.scene or SCENES:
        try:
            c = write_scene(args.out_dir, name, args.seed, args.frames, args.oracle)
        except OSError as e:
            sys.exit(f"scenes.py: cannot write {name} in {args.out_dir}: {e.strerror}")
        print(f"{name}: {args.frames} frames, {c['people']} people, {c['truth']} boxes, "
              f"{c['detections']} detections ({c['low']} below 0.5)")


if __name__ == "__main__":
    main()
