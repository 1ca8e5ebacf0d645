"""Reference YOLOv8 detections for a video, with numpy and onnxruntime only.

    .venv/bin/python scripts/reference_detect.py MODEL VIDEO \
        --frames 50 --confidence 0.4 --iou 0.5 --out reference.jsonl

Writes one JSON line per frame, {"frame": i, "objects": [{"class_id", "confidence",
"bbox": {"x", "y", "w", "h"}}]}, boxes in source-frame pixels (top-left and size),
best first (each with its "label" when the model has Ultralytics `names` metadata;
`--size WxH` for a model whose input size is open). vpl's runtime records are compared against this file: same number of boxes
per frame, IoU >= 0.9 per matched box.

It follows the definitions of the runtime's `engine::preprocess` and `engine::decode`
(and Ultralytics' LetterBox / non_max_suppression / scale_boxes):

- frames: `gst-launch-1.0 filesrc ! decodebin ! videoconvert` to raw I420 (what decoders
  give the runtime), converted here with BT.601 limited range and the 2x2 block's chroma,
  rounded to whole values, as the runtime reads I420; or with `--pixels rgb`, to raw RGB
  converted by videoconvert. videoconvert's 8-bit path comes out about 2 levels darker
  than exact BT.601, which moves borderline scores across the threshold on some frames,
  so compare the runtime with the mode matching the format it was fed;
- letterbox to the model's input size: ratio min(W/w, H/h), size rounded half to even,
  centred (odd pixel bottom/right), grey 114 padding; bilinear with half-pixel centres
  and clamped borders (OpenCV INTER_LINEAR); then pixel / 255, NCHW;
- decode [1, 4 + C, A]: class = argmax of the class scores, keep score >= confidence,
  boxes (cx, cy, w, h) mapped back through the letterbox, greedy per-class NMS (drop
  IoU > iou) by confidence (stable order), then clip to the frame, drop empty boxes,
  keep the first --max.
"""

import argparse
import ast
import json
import re
import subprocess
import sys

import numpy as np
import onnxruntime as ort

PAD = 114.0


def video_size(video):
    """(width, height) of the first video stream, from gst-discoverer-1.0."""
    text = subprocess.run(
        ["gst-discoverer-1.0", video], capture_output=True, text=True, check=True
    ).stdout
    width = re.search(r"Width: (\d+)", text)
    height = re.search(r"Height: (\d+)", text)
    if not width or not height:
        sys.exit(f"reference_detect: no video stream found in {video}")
    return int(width.group(1)), int(height.group(1))


def frames(video, count, pixels, width, height):
    """Yields up to `count` frames as float32 RGB arrays [height, width, 3]."""
    fmt = "RGB" if pixels == "rgb" else "I420"
    command = [
        "gst-launch-1.0", "-q", "filesrc", f"location={video}", "!", "decodebin",
        "!", "videoconvert", "!", f"video/x-raw,format={fmt}", "!", "fdsink", "fd=1",
    ]
    if fmt == "RGB":
        stride = (3 * width + 3) // 4 * 4  # GStreamer rounds RGB rows to 4 bytes
        size = stride * height
    else:
        cw, ch = (width + 1) // 2, (height + 1) // 2
        ystride, cstride = (width + 3) // 4 * 4, (cw + 3) // 4 * 4
        luma = ystride * 2 * ch  # GStreamer gives odd heights an extra luma row
        size = luma + 2 * cstride * ch
    with subprocess.Popen(command, stdout=subprocess.PIPE) as process:
        try:
            for _ in range(count):
                data = process.stdout.read(size)
                if len(data) < size:
                    return
                raw = np.frombuffer(data, np.uint8)
                if fmt == "RGB":
                    rows = raw.reshape(height, stride)[:, : 3 * width]
                    yield rows.reshape(height, width, 3).astype(np.float32)
                else:
                    y = raw[: ystride * height].reshape(height, ystride)[:, :width]
                    u_at = luma
                    u = raw[u_at : u_at + cstride * ch].reshape(ch, cstride)[:, :cw]
                    v_at = u_at + cstride * ch
                    v = raw[v_at : v_at + cstride * ch].reshape(ch, cstride)[:, :cw]
                    yield bt601(y, u, v)
        finally:
            process.kill()


def bt601(y, u, v):
    """I420 planes -> RGB, BT.601 limited range, chroma of the 2x2 block, rounded."""
    h, w = y.shape
    u = np.repeat(np.repeat(u, 2, 0), 2, 1)[:h, :w].astype(np.float32) - 128.0
    v = np.repeat(np.repeat(v, 2, 0), 2, 1)[:h, :w].astype(np.float32) - 128.0
    y = (y.astype(np.float32) - 16.0) * np.float32(255.0 / 219.0)
    rgb = np.stack(
        [y + 1.596027 * v, y - 0.391762 * u - 0.812968 * v, y + 2.017232 * u], -1
    )
    return np.floor(np.clip(rgb, 0.0, 255.0) + 0.5).astype(np.float32)


def placement(source, target):
    """Where the resized picture sits in the target: (x, y, width, height)."""
    (sw, sh), (tw, th) = source, target
    ratio = min(tw / sw, th / sh)
    width = min(max(round(sw * ratio), 1), tw)  # round() is half to even
    height = min(max(round(sh * ratio), 1), th)
    return (tw - width) // 2, (th - height) // 2, width, height


def taps(length, source):
    """Bilinear neighbours and weights along one axis (OpenCV INTER_LINEAR)."""
    s = (np.arange(length, dtype=np.float64) + 0.5) * (source / length) - 0.5
    s = np.clip(s, 0.0, source - 1)
    i0 = np.floor(s).astype(np.int64)
    return i0, np.minimum(i0 + 1, source - 1), (s - i0).astype(np.float32)


def letterbox(image, target):
    """RGB float32 [h, w, 3] -> model input [1, 3, H, W] and (scale_x, scale_y, pad_x, pad_y)."""
    sh, sw = image.shape[:2]
    x, y, width, height = placement((sw, sh), target)
    x0, x1, fx = taps(width, sw)
    y0, y1, fy = taps(height, sh)
    fx = fx[None, :, None]
    fy = fy[:, None, None]
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    canvas = np.full((target[1], target[0], 3), PAD, np.float32)
    canvas[y : y + height, x : x + width] = top * (1 - fy) + bottom * fy
    tensor = (canvas * np.float32(1.0 / 255.0)).transpose(2, 0, 1)[None]
    scale = (np.float32(width) / np.float32(sw), np.float32(height) / np.float32(sh))
    return np.ascontiguousarray(tensor), (scale[0], scale[1], np.float32(x), np.float32(y))


def iou(a, b):
    w = max(min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]), 0.0)
    h = max(min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]), 0.0)
    inter = w * h
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def decode(output, mapping, source, confidence, iou_threshold, limit):
    """One image's [4 + C, A] output -> objects in source pixels, best first."""
    scale_x, scale_y, pad_x, pad_y = mapping
    scores = output[4:]
    classes = scores.argmax(0)
    best = scores.max(0)
    keep = np.nonzero(best >= confidence)[0]
    cx, cy, w, h = output[:4, keep]
    x0 = (cx - w / 2 - pad_x) / scale_x
    y0 = (cy - h / 2 - pad_y) / scale_y
    x1 = (cx + w / 2 - pad_x) / scale_x
    y1 = (cy + h / 2 - pad_y) / scale_y
    candidates = [
        (int(classes[a]), float(best[a]), (float(x0[i]), float(y0[i]),
         float(x1[i] - x0[i]), float(y1[i] - y0[i])))
        for i, a in enumerate(keep)
    ]
    candidates.sort(key=lambda c: -c[1])  # stable: ties keep anchor order
    kept = []
    for c in candidates:
        if not any(k[0] == c[0] and iou(k[2], c[2]) > iou_threshold for k in kept):
            kept.append(c)
    objects = []
    for class_id, conf, (x, y, bw, bh) in kept:
        left, top = min(max(x, 0.0), source[0]), min(max(y, 0.0), source[1])
        right = min(max(x + bw, 0.0), source[0])
        bottom = min(max(y + bh, 0.0), source[1])
        if right > left and bottom > top:
            objects.append({
                "class_id": class_id,
                "confidence": conf,
                "bbox": {"x": left, "y": top, "w": right - left, "h": bottom - top},
            })
    return objects[:limit]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("video")
    parser.add_argument("--frames", type=int, default=50)
    parser.add_argument("--confidence", type=float, default=0.4)
    parser.add_argument("--iou", type=float, default=0.5)
    parser.add_argument("--max", type=int, default=300)
    parser.add_argument("--pixels", choices=["i420", "rgb"], default="i420",
                        help="decode to I420 and convert here (default), or to RGB with videoconvert")
    parser.add_argument("--size", default=None,
                        help="WxH: the input size for a model that leaves it open (NudeNet: 320x320)")
    parser.add_argument("--out", default="reference.jsonl")
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0: its default)")
    args = parser.parse_args()

    options = ort.SessionOptions()
    if args.threads > 0:
        options.intra_op_num_threads = args.threads
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    model_input = session.get_inputs()[0]
    _, _, height, width = model_input.shape
    if args.size:
        width, height = (int(v) for v in args.size.split("x"))
    # Ultralytics' `names` metadata, a Python dict literal: each object gets its label.
    names_text = session.get_modelmeta().custom_metadata_map.get("names")
    names = ast.literal_eval(names_text) if names_text else {}
    source = video_size(args.video)
    with open(args.out, "w") as out:
        for i, image in enumerate(frames(args.video, args.frames, args.pixels, *source)):
            tensor, mapping = letterbox(image, (width, height))
            output = session.run(None, {model_input.name: tensor})[0][0]
            objects = decode(output, mapping, source, args.confidence, args.iou, args.max)
            for o in objects:
                if o["class_id"] in names:
                    o["label"] = names[o["class_id"]]
            out.write(json.dumps({"frame": i, "objects": objects}) + "\n")
            print(f"frame {i}: {len(objects)} boxes", file=sys.stderr)


if __name__ == "__main__":
    main()
