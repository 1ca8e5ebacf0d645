"""Reference decoding of YOLOv8 segmentation, YOLOv8 pose and semantic maps, with numpy
and onnxruntime only, independent of vpl's runtime.

    .venv/bin/python scripts/reference_segpose.py MODEL {seg,pose,semantic} \
        --source 768x576 [--confidence 0.25 --iou 0.45] --out reference.json

Runs MODEL once on a mid-grey letterboxed frame (the fixture models of
scripts/make_segpose_models.py output constants, so the frame does not matter) and
writes {"objects": [...]}: each with "class_id", "confidence", "bbox" {x, y, w, h} in
source pixels, and "mask" (full-frame COCO RLE: {"size": [h, w], "counts"}, column by
column from 0) or "keypoints" ([[x, y, visibility], ...]).

The definitions are Ultralytics' (LetterBox, non_max_suppression, process_mask with
upsampling, scale_boxes, scale_masks, scale_coords), not vpl's:
- letterbox: r = min(W/w, H/h), unpadded size rounded, padding split (top/left
  round(d - 0.1)), so points map back as (p - pad) / r;
- seg: masks = sigmoid(coefficients @ prototypes), cropped to the box scaled to the
  prototypes' grid, upsampled bilinearly (half-pixel centres) to the input size, > 0.5;
  the padding cropped away and the rest resized bilinearly to the source size, > 0.5;
- semantic: argmax of the class map, upsampled nearest to the input size, the padding
  cropped, resized nearest to the source size; one object a class present, confidence
  the mean probability of its map cells (softmax first unless every
  cell's scores already sum to 1).
"""

import argparse
import json

import numpy as np
import onnxruntime as ort


def letterbox(source, size):
    (w, h), (iw, ih) = source, size
    r = min(iw / w, ih / h)
    uw, uh = int(round(w * r)), int(round(h * r))
    dw, dh = (iw - uw) / 2, (ih - uh) / 2
    left, top = int(round(dw - 0.1)), int(round(dh - 0.1))
    return r, left, top, uw, uh


def resize_bilinear(img, out_h, out_w):
    """[C, H, W] → [C, out_h, out_w], half-pixel centres, clamped edges."""
    _, h, w = img.shape
    ys = np.clip((np.arange(out_h) + 0.5) * h / out_h - 0.5, 0, h - 1)
    xs = np.clip((np.arange(out_w) + 0.5) * w / out_w - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[None, :, None], (xs - x0)[None, None, :]
    top = img[:, y0][:, :, x0] * (1 - fx) + img[:, y0][:, :, x1] * fx
    bottom = img[:, y1][:, :, x0] * (1 - fx) + img[:, y1][:, :, x1] * fx
    return top * (1 - fy) + bottom * fy


def resize_nearest(img, out_h, out_w):
    _, h, w = img.shape
    ys = np.minimum(((np.arange(out_h) + 0.5) * h / out_h).astype(int), h - 1)
    xs = np.minimum(((np.arange(out_w) + 0.5) * w / out_w).astype(int), w - 1)
    return img[:, ys][:, :, xs]


def rle(mask):
    flat = mask.T.reshape(-1)  # column by column
    counts, current, run = [], False, 0
    for v in flat:
        if bool(v) != current:
            counts.append(run)
            current, run = bool(v), 0
        run += 1
    counts.append(run)
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": counts}


def iou_xyxy(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def detections(out, classes, conf, iou, max_det):
    """out [rows, anchors] → [(anchor, class, score, xyxy in input pixels)], NMS'd."""
    scores = out[4:4 + classes]
    cls = scores.argmax(0)
    best = scores.max(0)
    keep = [a for a in np.argsort(-best, kind="stable") if best[a] >= conf]
    found = []
    for a in keep:
        cx, cy, w, h = out[0:4, a]
        box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
        if any(c == cls[a] and iou_xyxy(b, box) > iou for _, c, _, b in found):
            continue
        found.append((int(a), int(cls[a]), float(best[a]), box))
    return found[:max_det]


def to_source(box, lb, source):
    r, left, top, _, _ = lb
    x0 = np.clip((box[0] - left) / r, 0, source[0])
    y0 = np.clip((box[1] - top) / r, 0, source[1])
    x1 = np.clip((box[2] - left) / r, 0, source[0])
    y1 = np.clip((box[3] - top) / r, 0, source[1])
    return [float(x0), float(y0), float(x1), float(y1)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("decoder", choices=["seg", "pose", "semantic"])
    p.add_argument("--source", default="768x576")
    p.add_argument("--confidence", type=float, default=0.25)
    p.add_argument("--iou", type=float, default=0.45)
    p.add_argument("--max", type=int, default=300)
    p.add_argument("--resize", choices=["letterbox", "stretch"],
                   help="how frames were fitted to the input (default: stretch for semantic, "
                        "else letterbox)")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    source = tuple(int(v) for v in a.source.split("x"))
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(a.model, opts, providers=["CPUExecutionProvider"])
    _, _, ih, iw = sess.get_inputs()[0].shape
    outputs = sess.run(None, {sess.get_inputs()[0].name: np.full((1, 3, ih, iw), 114 / 255, np.float32)})
    resize = a.resize or ("stretch" if a.decoder == "semantic" else "letterbox")
    if resize == "stretch" and a.decoder != "semantic":
        p.error("--resize stretch is for semantic only")
    if resize == "letterbox":
        lb = letterbox(source, (iw, ih))
    else:
        lb = (None, 0, 0, iw, ih)
    r, left, top, uw, uh = lb
    objects = []
    if a.decoder == "seg":
        det = next(o for o in outputs if o.ndim == 3)[0]
        protos = next(o for o in outputs if o.ndim == 4)[0]
        m, ph, pw = protos.shape
        classes = det.shape[0] - 4 - m
        for anchor, cls, score, box in detections(det, classes, a.confidence, a.iou, a.max):
            x0, y0, x1, y1 = to_source(box, lb, source)
            if x1 <= x0 or y1 <= y0:
                continue
            coefs = det[4 + classes:, anchor]
            logits = (coefs @ protos.reshape(m, -1)).reshape(ph, pw)
            masks = 1 / (1 + np.exp(-logits))
            # crop_mask on the box scaled to the prototypes' grid
            bx = [box[0] * pw / iw, box[1] * ph / ih, box[2] * pw / iw, box[3] * ph / ih]
            cols, rows = np.arange(pw)[None, :], np.arange(ph)[:, None]
            masks = masks * ((cols >= bx[0]) & (cols < bx[2]) & (rows >= bx[1]) & (rows < bx[3]))
            up = resize_bilinear(masks[None], ih, iw)[0] > 0.5
            cut = up[top:top + uh, left:left + uw].astype(np.float32)
            full = resize_bilinear(cut[None], source[1], source[0])[0] > 0.5
            objects.append({"class_id": cls, "confidence": score,
                            "bbox": {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0},
                            "mask": rle(full)})
    elif a.decoder == "pose":
        out = outputs[0][0]
        k = (out.shape[0] - 5) // 3
        for anchor, cls, score, box in detections(out, 1, a.confidence, a.iou, a.max):
            x0, y0, x1, y1 = to_source(box, lb, source)
            if x1 <= x0 or y1 <= y0:
                continue
            kp = out[5:, anchor].reshape(k, 3)
            points = [[float((x - left) / r), float((y - top) / r), float(v)] for x, y, v in kp]
            objects.append({"class_id": cls, "confidence": score,
                            "bbox": {"x": x0, "y": y0, "w": x1 - x0, "h": y1 - y0},
                            "keypoints": points})
    else:
        scores = outputs[0][0]
        c, mh, mw = scores.shape
        sums = scores.sum(0)
        if (scores >= 0).all() and (np.abs(sums - 1) <= 0.01).all():
            prob = scores  # probabilities already
        else:
            e = np.exp(scores - scores.max(0, keepdims=True))
            prob = e / e.sum(0, keepdims=True)
        best = scores.argmax(0)
        # Stretched: the whole map covers the frame.
        up = resize_nearest(best[None], ih, iw)[0][top:top + uh, left:left + uw]
        full = resize_nearest(up[None], source[1], source[0])[0]
        for cls in range(c):
            cells = best == cls
            region = full == cls
            if not cells.any() or not region.any():
                continue
            ys, xs = np.nonzero(region)
            objects.append({"class_id": cls, "confidence": float(prob[cls][cells].mean()),
                            "bbox": {"x": float(xs.min()), "y": float(ys.min()),
                                     "w": float(xs.max() + 1 - xs.min()),
                                     "h": float(ys.max() + 1 - ys.min())},
                            "mask": rle(region)})
    with open(a.out, "w") as f:
        json.dump({"objects": objects}, f)


if __name__ == "__main__":
    main()
