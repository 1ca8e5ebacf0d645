"""Writes the batch-dynamic copy of the person detector, for the batching benchmarks.

    .venv/bin/python scripts/make_batch_dynamic.py IN.onnx OUT.onnx

assets/models/person_yolov8s.onnx has its batch fixed at 1: its input `images` is
[1, 3, 640, 640], its output `output0` [1, 6, 8400], and three Reshape nodes of the
detection head take constant shapes that start with 1 ([1, 66, -1], [1, 4, 16, 8400],
[1, 4, 8400]). The copy gets 0 as the first element of each of those constants (ONNX
Reshape: 0 keeps the input's dimension, so the batch flows through) and `batch` as
dimension 0 of the input and the output; the shapes ONNX inferred for the intermediate
values (value_info) are dropped, since they name the old batch of 1.

Before writing, the copy is run beside the original on the first frame of vtest.avi
(scaled into 640x640 with borders; random pixels where it cannot be decoded): its output
must equal the original's exactly (the graphs compute the same thing); and on a batch of
3, each image's output must match the original's run on that image alone (to 1e-3: a
batch may sum in another order). Otherwise nothing is written. Nothing is written when OUT is newer than IN and this script.
"""

import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

RESHAPE_SHAPES = ([1, 66, -1], [1, 4, 16, 8400], [1, 4, 8400])


def make(model: onnx.ModelProto) -> onnx.ModelProto:
    graph = model.graph
    shape_inputs = {n.input[1] for n in graph.node if n.op_type == "Reshape"}
    changed = []
    for i, init in enumerate(graph.initializer):
        if init.name not in shape_inputs:
            continue
        value = numpy_helper.to_array(init)
        if value.tolist() not in [list(s) for s in RESHAPE_SHAPES]:
            continue
        value = value.copy()
        value[0] = 0
        graph.initializer[i].CopyFrom(numpy_helper.from_array(value, init.name))
        changed.append(value.tolist())
    found = sorted(tuple(s[1:]) for s in changed)
    wanted = sorted(tuple(s[1:]) for s in RESHAPE_SHAPES)
    if found != wanted:
        raise SystemExit(f"expected the Reshape shapes {RESHAPE_SHAPES}; changed {changed}")
    for value in list(graph.input) + list(graph.output):
        dim = value.type.tensor_type.shape.dim[0]
        if dim.dim_value != 1:
            raise SystemExit(f"{value.name}: dimension 0 is {dim}, not 1")
        dim.ClearField("dim_value")
        dim.dim_param = "batch"
    del graph.value_info[:]
    onnx.checker.check_model(model)
    return model


def frame() -> np.ndarray:
    """The first frame of vtest.avi scaled into 640x640 with borders (gst-launch-1.0), as
    [1, 3, 640, 640] f32 in 0..1; random pixels where the video cannot be decoded."""
    import subprocess
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    video = os.path.join(root, "assets", "media", "vtest.avi")
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "frame.rgb")
        pipeline = (
            f"filesrc location={video} ! decodebin ! videoconvert "
            "! videoscale add-borders=true "
            "! video/x-raw,format=RGB,width=640,height=640,pixel-aspect-ratio=1/1 "
            f"! identity eos-after=1 ! filesink location={raw}"
        )
        why = "no frame"
        try:
            subprocess.run(
                ["gst-launch-1.0", "-q", *pipeline.split()], check=True, timeout=300
            )
            pixels = np.fromfile(raw, np.uint8)
            if pixels.size == 640 * 640 * 3:
                image = pixels.reshape(640, 640, 3).transpose(2, 0, 1)[None]
                return image.astype(np.float32) / 255
        except (OSError, subprocess.SubprocessError) as e:
            why = str(e)
    print(f"make_batch_dynamic: vtest.avi not decoded ({why}); comparing on random pixels")
    return np.random.default_rng(7).random((1, 3, 640, 640), dtype=np.float32)


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    source, out = sys.argv[1:]
    newest = max(os.path.getmtime(source), os.path.getmtime(__file__))
    if os.path.exists(out) and os.path.getmtime(out) > newest:
        return
    dynamic = make(onnx.load(source))
    options = ort.SessionOptions()
    original = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    copy = ort.InferenceSession(
        dynamic.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    images = frame()
    rng = np.random.default_rng(1)
    batch = np.concatenate([images, rng.random((2, 3, 640, 640), dtype=np.float32)])
    (want,) = original.run(None, {"images": images})
    (got,) = copy.run(None, {"images": images})
    if got.shape != (1, 6, 8400) or not np.array_equal(got, want):
        raise SystemExit(f"the copy's output differs: max {np.abs(got - want).max()}")
    (got,) = copy.run(None, {"images": batch})
    for i in range(3):
        (one,) = original.run(None, {"images": batch[i : i + 1]})
        # A batch may take other kernels' summation order: equal to float rounding.
        if not np.allclose(got[i : i + 1], one, rtol=0, atol=1e-3):
            raise SystemExit(f"image {i} of a batch of 3 differs: {np.abs(got[i] - one[0]).max()}")
    part = f"{out}.part.{os.getpid()}"
    onnx.save(dynamic, part)
    os.replace(part, out)
    print(f"wrote {out}: batch-dynamic, outputs equal the original's on a frame")


if __name__ == "__main__":
    main()
