"""Reference OCR (a DB text detector, then a CTC recogniser on each box) for a video, with
numpy and onnxruntime only:

    .venv/bin/python scripts/reference_ocr.py DET_MODEL REC_MODEL VIDEO \
        --frames 6 --out reference.jsonl

Writes one JSON line per frame, {"frame": i, "objects": [{"confidence", "text", "bbox":
{"x", "y", "w", "h"}}]}, boxes in source-frame pixels, top to bottom. vpl's records of
`infer(det) | infer(rec, on: ["text"])` are compared against it (tests/ocr.rs): the same
strings, boxes IoU >= 0.9.

The definitions are PaddleOCR's (ppocr/postprocess/db_postprocess.py,
rec_postprocess.py, the rec model's `resize_norm_img`), written here independently of
vpl's runtime, with axis-aligned boxes (vpl's `text_boxes` does not rotate them):

- frames: I420 converted to RGB as scripts/reference_detect.py does; models take BGR,
  (pixel / 255 - 0.5) / 0.5, NCHW;
- detector: the frame stretched to the input size (bilinear, half-pixel centres);
  probability map > --thresh; 8-connected regions; each region's box of pixel centres
  (what minAreaRect gives for an upright region), dropped when its short side is below 3;
  score = mean probability over the box's pixels, dropped below --box-thresh; the box
  polygon offset by area * --unclip-ratio / perimeter (pyclipper's round offset, whose
  minimum-area rectangle grows by that distance on each side), dropped when its short side
  is below 5; scaled to the frame and clipped;
- crops: the box's pixels (floor / ceil, widened to even corners for I420, as the runtime
  crops 4:2:0 frames), resized to height 48 keeping the aspect, width
  min(320, ceil(48 * w / h)), padded right with 0 after normalisation;
- recogniser: greedy CTC: argmax per step, blank (0) and repeats dropped, characters from
  the model's `character` metadata (one a line) plus a space as the last class;
  confidence the mean of the kept steps' scores.
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_detect import frames, taps, video_size  # noqa: E402

MIN_SIZE = 3


def resize(image, width, height):
    """RGB float32 [h, w, 3] -> [height, width, 3], bilinear (OpenCV INTER_LINEAR)."""
    sh, sw = image.shape[:2]
    x0, x1, fx = taps(width, sw)
    y0, y1, fy = taps(height, sh)
    fx = fx[None, :, None]
    fy = fy[:, None, None]
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def normalise(image):
    """RGB [h, w, 3] -> BGR CHW, (x / 255 - 0.5) / 0.5."""
    bgr = image[:, :, ::-1] * np.float32(1.0 / 255.0)
    return ((bgr - 0.5) / 0.5).transpose(2, 0, 1).astype(np.float32)


def regions(bitmap):
    """The [x0, y0, x1, y1] boxes of the 8-connected regions of a boolean map, in the order
    their first pixel is met row by row."""
    height, width = bitmap.shape
    todo = set(zip(*np.nonzero(bitmap)))
    boxes = []
    for start in sorted(todo):
        if start not in todo:
            continue
        todo.discard(start)
        stack, ys, xs = [start], [], []
        while stack:
            y, x = stack.pop()
            ys.append(y)
            xs.append(x)
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    n = (y + dy, x + dx)
                    if n in todo:
                        todo.discard(n)
                        stack.append(n)
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
    return boxes


def polygon_area_perimeter(points):
    """Shoelace area and perimeter of a closed polygon."""
    area, length = 0.0, 0.0
    for (xa, ya), (xb, yb) in zip(points, points[1:] + points[:1]):
        area += xa * yb - xb * ya
        length += math.hypot(xb - xa, yb - ya)
    return abs(area) / 2.0, length


def detect(pred, source, thresh, box_thresh, unclip_ratio):
    """[H, W] probability map -> [(x, y, w, h, score)] in frame pixels, top to bottom."""
    height, width = pred.shape
    found = []
    for x0, y0, x1, y1 in regions(pred > thresh):
        if min(x1 - x0, y1 - y0) < MIN_SIZE:
            continue
        score = float(pred[y0 : y1 + 1, x0 : x1 + 1].astype(np.float64).mean())
        if box_thresh > score:
            continue
        corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        area, length = polygon_area_perimeter(corners)
        distance = area * unclip_ratio / length
        bx0, by0, bx1, by1 = x0 - distance, y0 - distance, x1 + distance, y1 + distance
        if min(bx1 - bx0, by1 - by0) < MIN_SIZE + 2:
            continue
        sx, sy = source[0] / width, source[1] / height
        left, right = np.clip([bx0 * sx, bx1 * sx], 0, source[0])
        top, bottom = np.clip([by0 * sy, by1 * sy], 0, source[1])
        if right > left and bottom > top:
            found.append((float(left), float(top), float(right - left), float(bottom - top), score))
    found.sort(key=lambda b: (b[1], b[0]))
    return found


def crop(image, x, y, w, h):
    """The box's pixels, corners widened to even numbers (4:2:0 frames)."""
    fh, fw = image.shape[:2]
    x0, y0 = min(max(int(math.floor(x)), 0), fw), min(max(int(math.floor(y)), 0), fh)
    x1, y1 = min(max(int(math.ceil(x + w)), 0), fw), min(max(int(math.ceil(y + h)), 0), fh)
    x0, y0 = x0 & ~1, y0 & ~1
    x1, y1 = min(x1 + 1, fw) & ~1, min(y1 + 1, fh) & ~1
    return image[y0:y1, x0:x1]


def recognise_input(piece, height=48, width=320):
    ch, cw = piece.shape[:2]
    resized_w = min(width, int(math.ceil(height * cw / ch)))
    tensor = np.zeros((3, height, width), np.float32)
    tensor[:, :, :resized_w] = normalise(resize(piece, resized_w, height))
    return tensor


def ctc(scores, characters):
    best = scores.argmax(1)
    probs = scores.max(1)
    text, kept = [], []
    for t, k in enumerate(best):
        if k != 0 and not (t > 0 and best[t - 1] == k):
            text.append(characters[k - 1] if k - 1 < len(characters) else "\ufffd")
            kept.append(float(probs[t]))
    return "".join(text), (sum(kept) / len(kept) if kept else 0.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("det")
    parser.add_argument("rec")
    parser.add_argument("video")
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--thresh", type=float, default=0.3)
    parser.add_argument("--box-thresh", type=float, default=0.6)
    parser.add_argument("--unclip-ratio", type=float, default=1.5)
    parser.add_argument("--out", default="reference.jsonl")
    args = parser.parse_args()

    options = ort.SessionOptions()
    det = ort.InferenceSession(args.det, options, providers=["CPUExecutionProvider"])
    rec = ort.InferenceSession(args.rec, options, providers=["CPUExecutionProvider"])
    meta = {p.key: p.value for p in onnx.load(args.rec, load_external_data=False).metadata_props}
    characters = meta["character"].split("\n")
    classes = rec.get_outputs()[0].shape[2]
    if len(characters) + 2 == classes:
        characters.append(" ")
    source = video_size(args.video)
    with open(args.out, "w") as out:
        for i, image in enumerate(frames(args.video, args.frames, "i420", *source)):
            # The detector runs at the frame's size (a multiple of 32 in the tests).
            tensor = normalise(resize(image, source[0], source[1]))[None]
            pred = det.run(None, {det.get_inputs()[0].name: tensor})[0][0, 0]
            boxes = detect(pred, source, args.thresh, args.box_thresh, args.unclip_ratio)
            objects = []
            if boxes:
                batch = np.stack([recognise_input(crop(image, *b[:4])) for b in boxes])
                scores = rec.run(None, {rec.get_inputs()[0].name: batch})[0]
                for (x, y, w, h, score), s in zip(boxes, scores):
                    text, _ = ctc(s, characters)
                    objects.append({"confidence": score, "text": text,
                                    "bbox": {"x": x, "y": y, "w": w, "h": h}})
            out.write(json.dumps({"frame": i, "objects": objects}, ensure_ascii=False) + "\n")
            print(f"frame {i}: {[o['text'] for o in objects]}", file=sys.stderr)


if __name__ == "__main__":
    main()
