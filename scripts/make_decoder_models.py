"""Writes the fixture models of the decoder checks (issue 19, part B), with the `onnx`
package.

    .venv/bin/python scripts/make_decoder_models.py OUT_DIR

Each model computes its outputs from its input like a real one (constants plus 0 x the
input's mean, or a 1 x 1 convolution), so ONNX Runtime runs it; the values are known, so
tests can state what vpl must read from them.

- dec_text_open.onnx: a DB text detector whose outputs are all open, the channel too, as a
  newer PaddleOCR export declares them: input `x` [n, 3, h, w], output `maps`
  [o0, o1, o2, o3] (it is [n, 1, h, w]: a sigmoid of the pixels' mean, text where bright).
- dec_crnn_tnc.onnx: a CRNN recogniser with a time-major output: input `x` [batch, 3, 32,
  80], output `logits` [20, batch, 37] (T, N, C), the blank the last class; every image
  reads CRNN_TEXT with the alphabet `dec_crnn_tnc.txt` (0-9, a-z).
- dec_detectnet.onnx: DetectNet_v2's grids (TrafficCamNet): input `input_1` [1, 3, 544,
  960], outputs `output_cov/Sigmoid` [1, 3, 34, 60] and `output_bbox/BiasAdd` [1, 12, 34, 60].
- dec_ds_yolo.onnx: a DeepStream-Yolo export: input `input` [1, 3, 640, 640], output
  `output` [1, 8400, 6] (x1, y1, x2, y2, score, class).
- dec_ds_yolo_rows.onnx: a DeepStream-Yolo export that finds boxes: input `input` [1, 3,
  640, 640], output `output` [1, 9, 6], the rows of DS_YOLO_ROWS (x1, y1, x2, y2 in input
  pixels, score, class), each score plus 0.05 x the input's mean, so each frame scores
  its own; rows that overlap, cross the input's edge, are under a pixel wide, score low
  or lie in the letterbox's padding (`ds_yolo`'s run test, scripts/reference_boxes.py).
- dec_detectnet_cells.onnx: DetectNet_v2's grids that find boxes: input `input_1` [1, 3,
  544, 960], outputs `output_cov/Sigmoid` [1, 3, 34, 60] and `output_bbox/BiasAdd`
  [1, 12, 34, 60], the cells of DETECTNET_CELLS holding the values DeepStream decodes to
  their boxes (bbox-norm 35, stride 16, centre offset 0.5), each coverage plus 0.05 x the
  input's mean (`detectnet_v2`'s run test, scripts/reference_boxes.py).
- dec_names_list.onnx: a YOLOv8-shaped detector, output [1, 6, 2100] (2 classes), whose
  `names` metadata is a list, `['person', 'car']`, not Ultralytics' dict.

Nothing is written when every file exists and is newer than this script.
"""

import os
import sys

FILES = ["dec_text_open.onnx", "dec_crnn_tnc.onnx", "dec_crnn_tnc.txt", "dec_detectnet.onnx",
         "dec_ds_yolo.onnx", "dec_ds_yolo_rows.onnx", "dec_detectnet_cells.onnx",
         "dec_names_list.onnx"]

ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
CRNN_TEXT = "vpl2024"
# The best class at each of the 20 steps: characters, `-` the blank (the last class).
CRNN_STEPS = "vv-pll20-24---------"

# x1, y1, x2, y2 (pixels of the 640x640 input), score, class.
DS_YOLO_ROWS = [
    [100, 150, 300, 400, 0.85, 0],
    [110, 160, 310, 410, 0.75, 0],   # overlaps the first, same class
    [110, 160, 310, 410, 0.65, 1],   # the same box, another class
    [500, 100, 700, 300, 0.55, 2],   # beyond the right edge
    [300, 300, 300.5, 400, 0.9, 1],  # half a pixel wide
    [50, 50, 150, 150, 0.1, 0],      # below the default confidence
    [-20, 60, 100, 120, 0.5, 3],     # left of the input, partly in the padding
    [200, 200, 260, 280, 0.4, 5],
    [400, 0, 500, 70, 0.6, 4],       # in the padding above a 4:3 frame
]

# class, grid row, grid column, coverage, box (x1, y1, x2, y2 in pixels of the 960x544 input).
DETECTNET_CELLS = [
    (0, 10, 20, 0.85, (300, 140, 380, 200)),
    (0, 10, 21, 0.75, (305, 142, 384, 204)),   # overlaps the first, same class
    (1, 10, 21, 0.65, (305, 142, 384, 204)),   # the same box, another class
    (2, 30, 55, 0.55, (850, 450, 1000, 560)),  # past the input's corner
    (0, 5, 5, 0.1, (60, 60, 120, 120)),        # below the default confidence
    (1, 0, 0, 0.5, (-10, -10, 40, 30)),        # past the input's top left
    (2, 20, 40, 0.45, (600, 300, 700, 400)),
]


def fresh(out):
    script = os.stat(os.path.abspath(__file__)).st_mtime_ns
    try:
        return all(os.stat(os.path.join(out, f)).st_mtime_ns > script for f in FILES)
    except FileNotFoundError:
        return False


def save(model, path, metadata=None):
    import onnx
    from onnx import helper

    model.ir_version = 8
    if metadata:
        helper.set_model_props(model, metadata)
    onnx.checker.check_model(model, full_check=True)
    tmp = path + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, path)
    return model.SerializeToString()


def make(name, nodes, inputs, outputs, inits):
    from onnx import helper

    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                             producer_name="vpl scripts/make_decoder_models.py")


def constants(name, input_name, in_shape, outputs):
    """Outputs `outputs` ({name: array}) + 0 x mean(input)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("ReduceMean", [input_name], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
    ]
    inits = [numpy_helper.from_array(np.zeros((1,), dtype=np.float32), "zero")]
    values = []
    for i, (out, array) in enumerate(outputs.items()):
        inits.append(numpy_helper.from_array(array.astype(np.float32), f"value{i}"))
        nodes.append(helper.make_node("Add", [f"value{i}", "nothing"], [out]))
        values.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, list(array.shape)))
    return make(name, nodes,
                [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, in_shape)],
                values, inits)


def text_open():
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = np.full((1, 3, 1, 1), 20.0 / 3.0, dtype=np.float32)
    b = np.array([-10.0], dtype=np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["logit"], kernel_shape=[1, 1]),
        helper.make_node("Sigmoid", ["logit"], ["maps"]),
    ]
    return make("dec_text_open", nodes,
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, "h", "w"])],
                [helper.make_tensor_value_info("maps", TensorProto.FLOAT,
                                               ["o0", "o1", "o2", "o3"])],
                [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])


def crnn_scores():
    import numpy as np

    classes = len(ALPHABET) + 1
    scores = np.full((len(CRNN_STEPS), 1, classes), 0.1 / (classes - 1), dtype=np.float32)
    for t, c in enumerate(CRNN_STEPS):
        k = classes - 1 if c == "-" else ALPHABET.index(c)
        scores[t, 0, k] = 0.9
    return scores


def crnn_tnc():
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Unsqueeze", ["mean", "axes"], ["per_image"]),
        helper.make_node("Mul", ["per_image", "zero"], ["nothing"]),
        helper.make_node("Add", ["scores", "nothing"], ["logits"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([0, 2], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.zeros((1,), dtype=np.float32), "zero"),
        numpy_helper.from_array(crnn_scores(), "scores"),
    ]
    return make("dec_crnn_tnc", nodes,
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 32, 80])],
                [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                               [len(CRNN_STEPS), "batch", len(ALPHABET) + 1])],
                inits)


def ds_yolo_rows():
    """DS_YOLO_ROWS, each score + 0.05 x mean(input)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rows = np.array([DS_YOLO_ROWS], dtype=np.float32)
    per_mean = np.zeros_like(rows)
    per_mean[..., 4] = 0.05
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Mul", ["mean", "per_mean"], ["delta"]),
        helper.make_node("Add", ["rows", "delta"], ["output"]),
    ]
    inits = [numpy_helper.from_array(rows, "rows"), numpy_helper.from_array(per_mean, "per_mean")]
    return make("dec_ds_yolo_rows", nodes,
                [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 640, 640])],
                [helper.make_tensor_value_info("output", TensorProto.FLOAT, list(rows.shape))],
                inits)


def detectnet_cells():
    """DETECTNET_CELLS as DetectNet_v2's grids, each coverage + 0.05 x mean(input)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    classes, rows, columns, stride, norm = 3, 34, 60, 16, 35.0
    coverage = np.zeros((1, classes, rows, columns), dtype=np.float32)
    boxes = np.zeros((1, 4 * classes, rows, columns), dtype=np.float32)
    for c, r, k, cov, (x1, y1, x2, y2) in DETECTNET_CELLS:
        cx, cy = (k * stride + 0.5) / norm, (r * stride + 0.5) / norm
        coverage[0, c, r, k] = cov
        boxes[0, 4 * c:4 * c + 4, r, k] = [cx - x1 / norm, cy - y1 / norm,
                                           x2 / norm - cx, y2 / norm - cy]
    per_mean = (coverage > 0).astype(np.float32) * 0.05
    nodes = [
        helper.make_node("ReduceMean", ["input_1"], ["mean"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Mul", ["mean", "per_mean"], ["delta"]),
        helper.make_node("Add", ["coverage", "delta"], ["output_cov/Sigmoid"]),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["boxes", "nothing"], ["output_bbox/BiasAdd"]),
    ]
    inits = [numpy_helper.from_array(coverage, "coverage"),
             numpy_helper.from_array(per_mean, "per_mean"),
             numpy_helper.from_array(boxes, "boxes"),
             numpy_helper.from_array(np.zeros((1,), dtype=np.float32), "zero")]
    return make("dec_detectnet_cells", nodes,
                [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, [1, 3, 544, 960])],
                [helper.make_tensor_value_info("output_cov/Sigmoid", TensorProto.FLOAT,
                                               list(coverage.shape)),
                 helper.make_tensor_value_info("output_bbox/BiasAdd", TensorProto.FLOAT,
                                               list(boxes.shape))],
                inits)


def run(data, input_name, shape):
    import numpy as np
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {input_name: np.zeros(shape, dtype=np.float32)})


def main(argv):
    if len(argv) != 1:
        print("usage: make_decoder_models.py OUT_DIR", file=sys.stderr)
        return 2
    out = argv[0]
    if fresh(out):
        return 0
    import numpy as np

    os.makedirs(out, exist_ok=True)
    data = save(text_open(), os.path.join(out, "dec_text_open.onnx"))
    (maps,) = run(data, "x", (1, 3, 576, 768))
    assert maps.shape == (1, 1, 576, 768), maps.shape

    data = save(crnn_tnc(), os.path.join(out, "dec_crnn_tnc.onnx"))
    (logits,) = run(data, "x", (2, 3, 32, 80))
    assert logits.shape == (20, 2, 37), logits.shape
    with open(os.path.join(out, "dec_crnn_tnc.txt"), "w", encoding="utf-8") as f:
        f.write("".join(c + "\n" for c in ALPHABET))

    grid = np.zeros((1, 3, 34, 60), dtype=np.float32)
    save(constants("dec_detectnet", "input_1", [1, 3, 544, 960],
                   {"output_cov/Sigmoid": grid,
                    "output_bbox/BiasAdd": np.zeros((1, 12, 34, 60), dtype=np.float32)}),
         os.path.join(out, "dec_detectnet.onnx"))
    save(constants("dec_ds_yolo", "input", [1, 3, 640, 640],
                   {"output": np.zeros((1, 8400, 6), dtype=np.float32)}),
         os.path.join(out, "dec_ds_yolo.onnx"))
    data = save(ds_yolo_rows(), os.path.join(out, "dec_ds_yolo_rows.onnx"))
    (rows,) = run(data, "input", (1, 3, 640, 640))
    assert rows.shape == (1, len(DS_YOLO_ROWS), 6), rows.shape
    data = save(detectnet_cells(), os.path.join(out, "dec_detectnet_cells.onnx"))
    cov, bbox = run(data, "input_1", (1, 3, 544, 960))
    assert cov.shape == (1, 3, 34, 60) and bbox.shape == (1, 12, 34, 60), (cov.shape, bbox.shape)
    save(constants("dec_names_list", "images", [1, 3, 320, 320],
                   {"output0": np.zeros((1, 6, 2100), dtype=np.float32)}),
         os.path.join(out, "dec_names_list.onnx"), {"names": "['person', 'car']"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
