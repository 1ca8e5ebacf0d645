"""Scores a tracker's records against ground truth with the MOT metrics of TrackEval.

    python scripts/tracking/score.py GT RECORDS [GT RECORDS ...] [--json] [--names A,B]

GT is a scene's ground truth as scripts/tracking/scenes.py writes it (`NAME.gt.jsonl`);
RECORDS the records a vpl pipeline wrote for it (`... | track(...) | json | file(...)`,
docs/records.md). Each object of the records that has a `track_id` is a tracker output
(hypothesis); objects without one are not tracked and not scored. A record's `frame` says
which ground-truth frame it is (frames without a record have no hypotheses).

A hypothesis matches a ground-truth box when their boxes overlap with IoU >= 0.5, as in
MOTChallenge. The metrics are TrackEval's own (the `trackeval` package, the MOTChallenge
evaluation code): CLEAR MOT (MOTA, MOTP, ID switches, false positives, misses), the
identity metrics (IDF1) and HOTA, per scene and over all the scenes together (counts
summed, as TrackEval combines sequences).

Prints a table, or with `--json` one JSON object: `{"scenes": {NAME: METRICS}, "all":
METRICS}` with METRICS `{"mota", "motp", "idf1", "hota", "id_switches", "false_positives",
"misses", "truth", "hypotheses", "frames"}`. Exits 2 with a message on unreadable input.
"""

import argparse
import json
import os
import sys

import numpy as np
from trackeval.metrics import CLEAR, HOTA, Identity


class Bad(Exception):
    pass


def read_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        yield n, json.loads(line)
                    except json.JSONDecodeError as e:
                        raise Bad(f"{path}:{n}: not JSON: {e.msg}") from None
    except OSError as e:
        raise Bad(f"{path}: {e.strerror}") from None


def box(path, n, obj):
    try:
        b = obj["bbox"]
        values = [float(b[k]) for k in ("x", "y", "w", "h")]
    except (KeyError, TypeError, ValueError):
        raise Bad(f"{path}:{n}: an object without a bbox {{x, y, w, h}}") from None
    return values


def frame_of(path, n, value):
    frame = value.get("frame") if isinstance(value, dict) else None
    if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
        raise Bad(f"{path}:{n}: no frame number (\"frame\": a whole number >= 0)")
    return frame


def twice(path, n, ids, key):
    seen = set()
    for i in ids:
        if i in seen:
            raise Bad(f"{path}:{n}: {key} {i} twice on one frame")
        seen.add(i)


def load_truth(path):
    """frame -> [(id, box)], for frames 0..N-1 (each must be there once)."""
    frames = {}
    for n, r in read_lines(path):
        f = frame_of(path, n, r)
        if f in frames:
            raise Bad(f"{path}:{n}: frame {f} twice")
        objs = r.get("objects")
        if not isinstance(objs, list):
            raise Bad(f"{path}:{n}: no \"objects\" list")
        rows = []
        for o in objs:
            if not isinstance(o, dict) or not isinstance(o.get("id"), int):
                raise Bad(f"{path}:{n}: an object without an id")
            rows.append((o["id"], box(path, n, o)))
        twice(path, n, [i for i, _ in rows], "id")
        frames[f] = rows
    if not frames:
        raise Bad(f"{path}: no frames")
    count = max(frames) + 1
    missing = [f for f in range(count) if f not in frames]
    if missing:
        raise Bad(f"{path}: frame {missing[0]} missing")
    return [frames[f] for f in range(count)]


def load_tracks(path, count):
    """frame -> [(track_id, box)] of the tracked objects, for frames 0..count-1."""
    frames = [[] for _ in range(count)]
    streams = set()
    for n, r in read_lines(path):
        if "event" in r:
            continue  # a pool's `stream_removed` line, not a frame
        f = frame_of(path, n, r)
        streams.add(r.get("stream", 0))
        if len(streams) > 1:
            raise Bad(f"{path}:{n}: records of several streams; score one stream at a time")
        if f >= count:
            raise Bad(f"{path}:{n}: frame {f}, but the ground truth has frames 0 to {count - 1}")
        for o in r.get("objects") or []:
            tid = o.get("track_id") if isinstance(o, dict) else None
            if tid is not None:
                frames[f].append((tid, box(path, n, o)))
        twice(path, n, [i for i, _ in frames[f]], "track_id")
    return frames


def iou_matrix(a, b):
    if not a or not b:
        return np.zeros((len(a), len(b)))
    a, b = np.asarray(a, float), np.asarray(b, float)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
    y2 = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def sequence(truth, tracks):
    """TrackEval's input for one sequence: ids renumbered 0..n-1, IoU per frame."""
    gt_index, tr_index = {}, {}
    data = {"gt_ids": [], "tracker_ids": [], "similarity_scores": []}
    for gt, tr in zip(truth, tracks):
        data["gt_ids"].append(np.array([gt_index.setdefault(i, len(gt_index)) for i, _ in gt], int))
        data["tracker_ids"].append(np.array([tr_index.setdefault(i, len(tr_index)) for i, _ in tr], int))
        data["similarity_scores"].append(iou_matrix([b for _, b in gt], [b for _, b in tr]))
    data.update(
        num_timesteps=len(truth),
        num_gt_ids=len(gt_index),
        num_tracker_ids=len(tr_index),
        num_gt_dets=sum(len(g) for g in truth),
        num_tracker_dets=sum(len(t) for t in tracks),
    )
    return data


METRICS = (CLEAR({"PRINT_CONFIG": False}), Identity({"PRINT_CONFIG": False}), HOTA())


def evaluate(data):
    return [m.eval_sequence(data) for m in METRICS]


def figures(results, frames):
    clear, ident, hota = results
    return {
        "mota": float(clear["MOTA"]),
        "motp": float(clear["MOTP"]),
        "idf1": float(ident["IDF1"]),
        "hota": float(np.mean(hota["HOTA"])),
        "id_switches": int(clear["IDSW"]),
        "false_positives": int(clear["CLR_FP"]),
        "misses": int(clear["CLR_FN"]),
        "truth": int(clear["CLR_TP"] + clear["CLR_FN"]),
        "hypotheses": int(clear["CLR_TP"] + clear["CLR_FP"]),
        "frames": int(frames),
    }


def fail(message):
    print(f"score.py: {message}", file=sys.stderr)
    sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", metavar="GT RECORDS")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    if len(args.files) % 2:
        fail("give ground truth and records files in pairs: GT RECORDS [GT RECORDS ...]")
    scenes, per_metric, frames = {}, [dict() for _ in METRICS], 0
    try:
        for gt_path, rec_path in zip(args.files[::2], args.files[1::2]):
            name = os.path.basename(gt_path).removesuffix(".jsonl").removesuffix(".gt")
            truth = load_truth(gt_path)
            results = evaluate(sequence(truth, load_tracks(rec_path, len(truth))))
            while name in scenes:
                name += "'"
            scenes[name] = figures(results, len(truth))
            for store, result in zip(per_metric, results):
                store[name] = result
            frames += len(truth)
    except Bad as e:
        fail(str(e))
    combined = [m.combine_sequences(store) for m, store in zip(METRICS, per_metric)]
    out = {"scenes": scenes, "all": figures(combined, frames)}
    if args.json:
        print(json.dumps(out))
        return
    print("| scene | MOTA | IDF1 | HOTA | MOTP | IDs | FP | FN |")
    print("|---|---|---|---|---|---|---|---|")
    for name, m in list(scenes.items()) + [("all", out["all"])]:
        print(f"| {name} | {m['mota']:.3f} | {m['idf1']:.3f} | {m['hota']:.3f} | {m['motp']:.3f} "
              f"| {m['id_switches']} | {m['false_positives']} | {m['misses']} |")


if __name__ == "__main__":
    main()
