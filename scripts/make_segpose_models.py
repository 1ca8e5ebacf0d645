"""Writes the fixture models of the segmentation and pose decoders, with the `onnx` package.

    .venv/bin/python scripts/make_segpose_models.py OUT_DIR

No real YOLOv8 segmentation or pose ONNX ships in a PyPI package (searched: the
ultralytics wheels carry no weights), so these models output constants, known exactly,
and `scripts/reference_segpose.py` decodes them independently of vpl. Each output is
its constant plus 0 x the mean of the input, so the graph reads its input like a real
model. Input `images` f32 [1, 3, 640, 640] (vtest.avi's 768x576 frames letterbox into it
with scale 5/6 and 80 rows of padding above and below).

- seg_fixture.onnx: `output0` [1, 4 + 2 + 4, 100] (2 classes, 4 mask coefficients) and
  `output1` [1, 4, 160, 160] (prototypes). Objects: SEG_OBJECTS.
- pose_fixture.onnx: `output0` [1, 4 + 1 + 3 x 17, 100], metadata `names` {0: 'person'}
  and `kpt_shape` [17, 3] as Ultralytics writes them. Objects: POSE_OBJECTS.
- sem_fixture.onnx: `output` [1, 3, 160, 160] logits (background, road, car): road in
  the map's rows 110..140, a car disc of radius 15 cells at (100, 90).
- pose_k5.onnx: `output0` [1, 4 + 1 + 3 x 5, 100] zeros: 5 keypoints (not COCO's 17).

Nothing is written when every file exists and is newer than this script.
"""

import os
import sys

FILES = ["seg_fixture.onnx", "pose_fixture.onnx", "sem_fixture.onnx", "pose_k5.onnx"]
ANCHORS = 100
PROTO = 160

# (anchor, class, score, cx, cy, w, h, coefficients), model-input pixels.
SEG_OBJECTS = [
    (3, 0, 0.9, 200.0, 300.0, 160.0, 240.0, [6.0, 0.0, 0.5, 0.0]),
    # Overlaps the first (same class): NMS drops it.
    (10, 0, 0.7, 205.0, 305.0, 160.0, 240.0, [0.0, 6.0, 0.0, 0.0]),
    (20, 1, 0.8, 470.0, 330.0, 220.0, 140.0, [0.0, 5.0, 0.0, 0.0]),
    # Below the default confidence 0.25.
    (30, 1, 0.2, 600.0, 200.0, 40.0, 40.0, [1.0, 1.0, 1.0, 1.0]),
    # In the letterbox's top padding only: nothing of it is in the frame.
    (40, 0, 0.95, 320.0, 40.0, 100.0, 40.0, [1.0, 0.0, 0.0, 0.0]),
]

# A standing figure's 17 COCO keypoints relative to its box centre (fractions of w, h).
FIGURE = [
    (0.0, -0.42), (-0.06, -0.45), (0.06, -0.45), (-0.12, -0.43), (0.12, -0.43),
    (-0.25, -0.28), (0.25, -0.28), (-0.32, -0.1), (0.32, -0.1), (-0.34, 0.06),
    (0.34, 0.06), (-0.15, 0.05), (0.15, 0.05), (-0.16, 0.25), (0.16, 0.25),
    (-0.17, 0.45), (0.17, 0.45),
]
# (anchor, score, cx, cy, w, h, invisible keypoints)
POSE_OBJECTS = [
    (5, 0.85, 220.0, 320.0, 120.0, 300.0, [3, 4]),
    (50, 0.75, 480.0, 300.0, 100.0, 260.0, [15]),
    # Overlaps the first: NMS drops it.
    (60, 0.6, 224.0, 322.0, 120.0, 300.0, []),
]


def fresh(out):
    script = os.stat(os.path.abspath(__file__)).st_mtime_ns
    try:
        return all(os.stat(os.path.join(out, f)).st_mtime_ns > script for f in FILES)
    except FileNotFoundError:
        return False


def seg_outputs(np):
    det = np.zeros((1, 4 + 2 + 4, ANCHORS), dtype=np.float32)
    for a, cls, score, cx, cy, w, h, coefs in SEG_OBJECTS:
        det[0, 0:4, a] = [cx, cy, w, h]
        det[0, 4 + cls, a] = score
        det[0, 6:10, a] = coefs
    v, u = np.mgrid[0:PROTO, 0:PROTO].astype(np.float32) + 0.5  # cell centres
    protos = np.zeros((1, 4, PROTO, PROTO), dtype=np.float32)
    # 0: a disc of radius 12 cells (48 input pixels) at the first object's centre.
    protos[0, 0] = np.where((u - 50) ** 2 + (v - 75) ** 2 <= 12 ** 2, 1.0, -1.0)
    # 1: a rectangle (input x 380..600, y 280..380), wider than the third object's box.
    protos[0, 1] = np.where((u >= 95) & (u < 150) & (v >= 70) & (v < 95), 1.0, -1.0)
    # 2: a checker pattern, small next to the first object's disc.
    protos[0, 2] = np.where(((u.astype(int) // 4) + (v.astype(int) // 4)) % 2 == 0, 0.6, -0.6)
    protos[0, 3] = 1.0
    return det, protos


def pose_output(np):
    out = np.zeros((1, 4 + 1 + 3 * 17, ANCHORS), dtype=np.float32)
    for a, score, cx, cy, w, h, hidden in POSE_OBJECTS:
        out[0, 0:5, a] = [cx, cy, w, h, score]
        for k, (fx, fy) in enumerate(FIGURE):
            out[0, 5 + 3 * k:8 + 3 * k, a] = [cx + fx * w, cy + fy * h,
                                             0.3 if k in hidden else 0.9]
    return out


def sem_output(np):
    v, u = np.mgrid[0:PROTO, 0:PROTO].astype(np.float32) + 0.5
    out = np.zeros((1, 3, PROTO, PROTO), dtype=np.float32)
    out[0, 0] = 1.0
    out[0, 1] = np.where((v >= 110) & (v < 140), 3.0, 0.0)
    out[0, 2] = np.where((u - 100) ** 2 + (v - 90) ** 2 <= 15 ** 2, 3.0, 0.0)
    return out


def constant_model(name, outputs, metadata=None):
    """A model whose outputs are `outputs` ({name: array}) + 0 x mean(images)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    import numpy as np

    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
    ]
    inits = [numpy_helper.from_array(np.zeros((1,), dtype=np.float32), "zero")]
    values = []
    for out_name, array in outputs.items():
        inits.append(numpy_helper.from_array(array, f"{out_name}_value"))
        nodes.append(helper.make_node("Add", [f"{out_name}_value", "nothing"], [out_name]))
        values.append(helper.make_tensor_value_info(out_name, TensorProto.FLOAT, list(array.shape)))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 640, 640])],
        values, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="vpl scripts/make_segpose_models.py")
    model.ir_version = 8
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.checker.check_model(model, full_check=True)
    return model


def check(data, outputs):
    """onnxruntime gives exactly the constants."""
    import numpy as np
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    got = sess.run(None, {"images": np.full((1, 3, 640, 640), 0.5, dtype=np.float32)})
    for (name, want), have in zip(outputs.items(), got):
        assert np.array_equal(want, have), name


def main(argv):
    if len(argv) != 1:
        print("usage: make_segpose_models.py OUT_DIR", file=sys.stderr)
        return 2
    out = argv[0]
    if fresh(out):
        return 0
    import numpy as np

    det, protos = seg_outputs(np)
    models = {
        "seg_fixture.onnx": ({"output0": det, "output1": protos}, None),
        "pose_fixture.onnx": ({"output0": pose_output(np)},
                              {"names": "{0: 'person'}", "kpt_shape": "[17, 3]"}),
        "sem_fixture.onnx": ({"output": sem_output(np)}, None),
        "pose_k5.onnx": ({"output0": np.zeros((1, 20, ANCHORS), dtype=np.float32)}, None),
    }
    os.makedirs(out, exist_ok=True)
    for file_name in FILES:
        outputs, metadata = models[file_name]
        data = constant_model(file_name[:-5], outputs, metadata).SerializeToString()
        check(data, outputs)
        path = os.path.join(out, file_name)
        part = f"{path}.part.{os.getpid()}"
        with open(part, "wb") as f:
            f.write(data)
        os.replace(part, path)
    print(f"vpl setup: segmentation and pose fixture models made in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
