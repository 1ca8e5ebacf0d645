"""Reference detections of the box decoders yolov5 (and YOLOX's grid), detr and ssd for a
video, with numpy and onnxruntime only, written from the models' own papers and exports,
not from vpl's code.

    .venv/bin/python scripts/reference_boxes.py yolov5 MODEL VIDEO --frames 5 --out ref.jsonl
    .venv/bin/python scripts/reference_boxes.py yolov5 MODEL VIDEO --grid 32,64 ...
    .venv/bin/python scripts/reference_boxes.py detr MODEL VIDEO --activation softmax ...
    .venv/bin/python scripts/reference_boxes.py ssd MODEL VIDEO --strides 32,64 --per-cell 2,3 ...
    .venv/bin/python scripts/reference_boxes.py ds_yolo MODEL VIDEO ...
    .venv/bin/python scripts/reference_boxes.py detectnet_v2 MODEL VIDEO ...

Writes one JSON line per frame, {"frame": i, "objects": [{"class_id", "confidence",
"bbox": {"x", "y", "w", "h"}}]}, boxes in source-frame pixels, best first, as
scripts/reference_detect.py does for YOLOv8 (whose frames and letterbox it reuses):

- yolov5: letterbox; rows (cx, cy, w, h, objectness, class scores); confidence =
  objectness x best class score (YOLOv5's `non_max_suppression`, multi_label=False); with
  --grid (YOLOX, decode_in_inference=False), `xy = (out + grid) * stride`,
  `wh = exp(out) * stride` on `meshgrid` grids per stride; greedy per-class NMS;
- detr: stretch (each axis scaled to the input); one output (cx, cy, w, h, scores) or
  `pred_boxes` + `pred_logits`; boxes are fractions of the input; scores by sigmoid,
  softmax without the last ("no object") class (DETR's PostProcess), or none; no NMS;
- ssd: stretch; anchors (cx, cy, 1, 1) at cell centres, `per_cell` a cell, per stride
  (MediaPipe's SsdAnchorsCalculator, fixed_anchor_size); box = anchor + offsets / input
  size x anchor size (TensorsToDetectionsCalculator); sigmoid scores; per-class NMS;
- ds_yolo: letterbox; one output [1, boxes, 6]: x1, y1, x2, y2 in input pixels, score,
  class id (DeepStream-Yolo's export); as its `NvDsInferParseYolo`: a score below the
  confidence drops the row, the corners are clamped to the input, a box under one pixel
  wide or high is dropped, the class id is truncated to an int; then nvinfer's
  `cluster-mode=2`: greedy per-class NMS;
- detectnet_v2: stretch; a coverage grid [1, C, H, W] and a boxes grid [1, 4C, H, W] (told
  by their shapes); as DeepStream's DetectNet_v2 parsing (nvinfer's parseBoundingBox):
  stride = ceil(input / grid), cell centre (column x stride + 0.5) / 35; a cell whose
  coverage reaches the confidence is a box x1 = (out - cx) x -35, y1 = (out - cy) x -35,
  x2 = (out + cx) x 35, y2 = (out + cy) x 35, clipped to [0, input - 1], its size the
  clipped far corner - near corner + 1; then greedy per-class NMS (cluster-mode=2).
"""

import argparse
import json
import os
import sys

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_detect as ref  # noqa: E402


def stretch(image, target):
    """RGB float32 [h, w, 3] -> [1, 3, H, W] scaled per axis (bilinear, half-pixel)."""
    sh, sw = image.shape[:2]
    x0, x1, fx = ref.taps(target[0], sw)
    y0, y1, fy = ref.taps(target[1], sh)
    fx = fx[None, :, None]
    fy = fy[:, None, None]
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    tensor = ((top * (1 - fy) + bottom * fy) / np.float32(255.0)).transpose(2, 0, 1)[None]
    mapping = (np.float32(target[0] / sw), np.float32(target[1] / sh), 0.0, 0.0)
    return np.ascontiguousarray(tensor, dtype=np.float32), mapping


def to_source(candidates, mapping, source, iou_threshold, limit):
    """(class, confidence, (cx, cy, w, h) in input pixels) -> objects, best first."""
    scale_x, scale_y, pad_x, pad_y = mapping
    boxes = []
    for class_id, conf, (cx, cy, w, h) in candidates:
        x0 = (cx - w / 2 - pad_x) / scale_x
        y0 = (cy - h / 2 - pad_y) / scale_y
        x1 = (cx + w / 2 - pad_x) / scale_x
        y1 = (cy + h / 2 - pad_y) / scale_y
        boxes.append((class_id, conf, (x0, y0, x1 - x0, y1 - y0)))
    boxes.sort(key=lambda c: -c[1])
    kept = []
    for c in boxes:
        if iou_threshold is None or not any(
                k[0] == c[0] and ref.iou(k[2], c[2]) > iou_threshold for k in kept):
            kept.append(c)
    objects = []
    for class_id, conf, (x, y, bw, bh) in kept:
        left, top = min(max(x, 0.0), source[0]), min(max(y, 0.0), source[1])
        right, bottom = min(max(x + bw, 0.0), source[0]), min(max(y + bh, 0.0), source[1])
        if right > left and bottom > top:
            objects.append({"class_id": int(class_id), "confidence": float(conf),
                            "bbox": {"x": float(left), "y": float(top),
                                     "w": float(right - left), "h": float(bottom - top)}})
    return objects[:limit]


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def scores_of(logits, activation):
    if activation == "sigmoid":
        return sigmoid(logits)
    if activation == "softmax":
        e = np.exp(logits - logits.max(-1, keepdims=True))
        return (e / e.sum(-1, keepdims=True))[..., :-1]
    return logits


def yolov5(outputs, args, size):
    out = outputs[0][0].astype(np.float64)
    if args.grid:
        cells = []
        for s in args.grid:
            ys, xs = np.meshgrid(np.arange(-(-size[1] // s)), np.arange(-(-size[0] // s)),
                                 indexing="ij")
            cells.append(np.stack([xs.ravel(), ys.ravel(), np.full(xs.size, s)], 1))
        cells = np.concatenate(cells)
        out = out.copy()
        out[:, 0:2] = (out[:, 0:2] + cells[:, 0:2]) * cells[:, 2:3]
        out[:, 2:4] = np.exp(out[:, 2:4]) * cells[:, 2:3]
    conf = out[:, 4:5] * out[:, 5:]
    classes, best = conf.argmax(1), conf.max(1)
    return [(classes[i], best[i], tuple(out[i, :4])) for i in np.nonzero(best >= args.confidence)[0]]


def detr(outputs, args, size, names):
    if len(outputs) == 1:
        out = outputs[0][0]
        boxes, logits = out[:, :4], out[:, 4:]
    else:
        by_name = dict(zip(names, outputs))
        boxes = by_name[args.boxes][0]
        logits = next(o for n, o in by_name.items() if n != args.boxes)[0]
    scores = scores_of(logits.astype(np.float64), args.activation)
    classes, best = scores.argmax(1), scores.max(1)
    w, h = size
    return [(classes[i], best[i], (boxes[i, 0] * w, boxes[i, 1] * h, boxes[i, 2] * w,
                                   boxes[i, 3] * h))
            for i in np.nonzero(best >= args.confidence)[0]]


def ssd(outputs, args, size, names):
    by_name = dict(zip(names, outputs))
    boxes = by_name[args.boxes][0].astype(np.float64)
    scores = scores_of(next(o for n, o in by_name.items() if n != args.boxes)[0]
                       .astype(np.float64), args.activation)
    anchors = []
    for s, k in zip(args.strides, args.per_cell):
        gw, gh = -(-size[0] // s), -(-size[1] // s)
        for y in range(gh):
            for x in range(gw):
                anchors += [((x + 0.5) / gw, (y + 0.5) / gh)] * k
    assert len(anchors) == len(boxes), (len(anchors), boxes.shape)
    w, h = size
    classes, best = scores.argmax(1), scores.max(1)
    found = []
    for i in np.nonzero(best >= args.confidence)[0]:
        ax, ay = anchors[i]
        cx = (ax + boxes[i, 0] / w) * w
        cy = (ay + boxes[i, 1] / h) * h
        found.append((classes[i], best[i], (cx, cy, boxes[i, 2], boxes[i, 3])))
    return found


def ds_yolo(outputs, args, size):
    found = []
    for x1, y1, x2, y2, score, cls in outputs[0][0].astype(np.float64):
        if not score >= args.confidence or not cls >= 0:
            continue
        x1, x2 = min(max(x1, 0.0), size[0]), min(max(x2, 0.0), size[0])
        y1, y2 = min(max(y1, 0.0), size[1]), min(max(y2, 0.0), size[1])
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue
        found.append((int(cls), score, ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)))
    return found


def detectnet_v2(outputs, args, size):
    grids = [o[0].astype(np.float64) for o in outputs]
    cov = next(g for g in grids if any(b.shape[0] == 4 * g.shape[0] for b in grids))
    bbox = next(b for b in grids if b.shape[0] == 4 * cov.shape[0])
    classes, rows, columns = cov.shape
    stride_x, stride_y = -(-size[0] // columns), -(-size[1] // rows)
    found = []
    for c in range(classes):
        for r in range(rows):
            for k in range(columns):
                if not cov[c, r, k] >= args.confidence:
                    continue
                cx, cy = (k * stride_x + 0.5) / 35.0, (r * stride_y + 0.5) / 35.0
                x1 = (bbox[4 * c, r, k] - cx) * -35.0
                y1 = (bbox[4 * c + 1, r, k] - cy) * -35.0
                x2 = (bbox[4 * c + 2, r, k] + cx) * 35.0
                y2 = (bbox[4 * c + 3, r, k] + cy) * 35.0
                left, top = min(max(x1, 0), size[0] - 1), min(max(y1, 0), size[1] - 1)
                w = min(max(x2, 0), size[0] - 1) - left + 1
                h = min(max(y2, 0), size[1] - 1) - top + 1
                found.append((c, cov[c, r, k], (left + w / 2, top + h / 2, w, h)))
    return found


def ints(text):
    return [int(v) for v in text.split(",") if v]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("decoder", choices=["yolov5", "detr", "ssd", "ds_yolo", "detectnet_v2"])
    parser.add_argument("model")
    parser.add_argument("video")
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--confidence", type=float, default=None)
    parser.add_argument("--iou", type=float, default=None)
    parser.add_argument("--max", type=int, default=None)
    parser.add_argument("--grid", type=ints, default=[])
    parser.add_argument("--activation", choices=["sigmoid", "softmax", "none"], default="sigmoid")
    parser.add_argument("--boxes", default=None, help="detr, ssd: the boxes output")
    parser.add_argument("--strides", type=ints, default=[8, 16])
    parser.add_argument("--per-cell", type=ints, default=[2, 6])
    parser.add_argument("--out", default="reference.jsonl")
    args = parser.parse_args()
    defaults = {"yolov5": (0.25, 0.45, 300), "detr": (0.5, None, 100), "ssd": (0.5, 0.3, 100),
                "ds_yolo": (0.25, 0.45, 300), "detectnet_v2": (0.2, 0.5, 20)}
    conf, iou, limit = defaults[args.decoder]
    args.confidence = conf if args.confidence is None else args.confidence
    iou = iou if args.iou is None or args.decoder == "detr" else args.iou
    limit = limit if args.max is None else args.max

    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    model_input = session.get_inputs()[0]
    _, _, height, width = model_input.shape
    names = [o.name for o in session.get_outputs()]
    source = ref.video_size(args.video)
    with open(args.out, "w") as out:
        for i, image in enumerate(ref.frames(args.video, args.frames, "i420", *source)):
            if args.decoder in ("yolov5", "ds_yolo"):
                tensor, mapping = ref.letterbox(image, (width, height))
            else:
                tensor, mapping = stretch(image, (width, height))
            outputs = session.run(None, {model_input.name: tensor})
            if args.decoder == "yolov5":
                found = yolov5(outputs, args, (width, height))
            elif args.decoder == "detectnet_v2":
                found = detectnet_v2(outputs, args, (width, height))
            elif args.decoder == "ds_yolo":
                found = ds_yolo(outputs, args, (width, height))
            elif args.decoder == "detr":
                found = detr(outputs, args, (width, height), names)
            else:
                found = ssd(outputs, args, (width, height), names)
            objects = to_source(found, mapping, source, iou, limit)
            out.write(json.dumps({"frame": i, "objects": objects}) + "\n")


if __name__ == "__main__":
    main()
