"""Compares two runs' records (`json | file`), frame by frame: the GPU's against the CPU's.

    python3 scripts/compare_records.py CPU.jsonl GPU.jsonl [--frames 60] [--min-iou 0.99]

For each (stream, frame) of the first FRAMES frames of the first file: the same number of
objects, and each object of the first matched to one of the same label in the second
(greedily, by IoU, best pairs first) with IoU >= MIN_IOU. Prints one line of figures
(`frames 60/60 same count, min IoU 0.9989, max confidence difference 0.0007`); exits 1
when a frame differs, naming it. Only the standard library: it runs where numpy is not.
"""

import argparse
import json
import sys


def load(path):
    frames = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                frames[(r.get("stream", 0), r["frame"])] = r.get("objects", [])
    return frames


def iou(a, b):
    ax2, ay2 = a["x"] + a["w"], a["y"] + a["h"]
    bx2, by2 = b["x"] + b["w"], b["y"] + b["h"]
    iw = max(0.0, min(ax2, bx2) - max(a["x"], b["x"]))
    ih = max(0.0, min(ay2, by2) - max(a["y"], b["y"]))
    inter = iw * ih
    union = a["w"] * a["h"] + b["w"] * b["h"] - inter
    return inter / union if union > 0 else 1.0


def compare(first, second, frames, min_iou):
    keys = sorted(first)[:frames] if frames else sorted(first)
    same, worst_iou, worst_conf, problems = 0, 1.0, 0.0, []
    for key in keys:
        a, b = first[key], second.get(key)
        if b is None:
            problems.append(f"stream {key[0]} frame {key[1]}: missing from the second run")
            continue
        if len(a) != len(b):
            problems.append(
                f"stream {key[0]} frame {key[1]}: {len(a)} objects, then {len(b)}"
            )
            continue
        same += 1
        pairs = sorted(
            (
                (iou(x["bbox"], y["bbox"]), i, j)
                for i, x in enumerate(a)
                for j, y in enumerate(b)
                if x["label"] == y["label"]
            ),
            reverse=True,
        )
        used_a, used_b = set(), set()
        for value, i, j in pairs:
            if i in used_a or j in used_b:
                continue
            used_a.add(i)
            used_b.add(j)
            worst_iou = min(worst_iou, value)
            worst_conf = max(worst_conf, abs(a[i]["confidence"] - b[j]["confidence"]))
            if value < min_iou:
                problems.append(
                    f"stream {key[0]} frame {key[1]}: a {a[i]['label']} at IoU {value:.4f}"
                )
        if len(used_a) != len(a):
            problems.append(f"stream {key[0]} frame {key[1]}: labels differ")
    summary = (
        f"frames {same}/{len(keys)} same count, min IoU {worst_iou:.4f}, "
        f"max confidence difference {worst_conf:.4f}"
    )
    return summary, problems, len(keys)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("first")
    p.add_argument("second")
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--min-iou", type=float, default=0.99)
    a = p.parse_args()
    summary, problems, compared = compare(load(a.first), load(a.second), a.frames, a.min_iou)
    print(summary)
    for problem in problems[:10]:
        print(f"  {problem}", file=sys.stderr)
    if problems or compared == 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
