"""Writes the small ONNX models vpl's examples and tests use, with the `onnx` package.

    .venv/bin/python scripts/make_models.py OUT_DIR
    .venv/bin/python scripts/make_models.py --fixtures OUT_DIR

colour_classifier.onnx: a real (if tiny) classifier for secondary inference. It
averages each channel of a crop and returns softmax scores for red, green and blue,
so a mostly-red crop is classified `red`. Input `crop` f32 [N, 3, 64, 64] with a
dynamic batch axis; output `scores` f32 [N, 3]. Its labels are written beside it.

--fixtures: the test models for the type checker (FIXTURES below): one model per
shape situation (dynamic or fixed batch, layouts, channel counts, element types,
YOLOv5 layout, classifiers, two inputs), plus an invalid and a truncated file and
label files. Each model is a real graph that onnxruntime runs; every one is checked
with onnx.checker and run on zeros at generation time, asserting the output shapes.
Nothing is written when every file exists and is newer than this script.

Detectors (input `images`, output `output0`, YOLOv8 layout [N, 4 + C, A]): three
average pools with strides 8, 16 and 32, each flattened to [N, ch, h*w] and
concatenated on the anchor axis (as YOLOv8's three heads), then a 1x1 convolution
to 4 + C channels. The box channels depend on the pixels; the class weights and
biases are zero, so class scores are always 0 and the detectors never fire.
Classifiers (input `input`, output `scores`): global average pool, a linear layer,
softmax.
"""

import os
import sys

# Imported by _import_onnx() so that an up-to-date --fixtures run exits quickly.
np = onnx = ort = TensorProto = helper = None


def _import_onnx() -> None:
    global np, onnx, ort, TensorProto, helper
    import numpy as np
    import onnx
    from onnx import TensorProto, helper


def colour_classifier(path: str) -> None:
    crop = helper.make_tensor_value_info("crop", TensorProto.FLOAT, ["N", 3, 64, 64])
    scores = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 3])
    # Sharpen the channel means (0..1) so the dominant colour wins clearly.
    gain = helper.make_tensor("gain", TensorProto.FLOAT, [], [10.0])
    nodes = [
        helper.make_node("GlobalAveragePool", ["crop"], ["mean"]),
        helper.make_node("Flatten", ["mean"], ["flat"], axis=1),
        helper.make_node("Mul", ["flat", "gain"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["scores"], axis=1),
    ]
    graph = helper.make_graph(nodes, "colour_classifier", [crop], [scores], [gain])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    with open(os.path.splitext(path)[0] + ".labels", "w") as f:
        f.write("red\ngreen\nblue\n")


# ------------------------------------------------------------------ fixtures

# Every file --fixtures writes, in the order they are written.
FIXTURES = [
    "det_dynamic.onnx",
    "det_fixed1.onnx",
    "det_fixed4.onnx",
    "det_coco.onnx",
    "det_nhwc.onnx",
    "det_gray.onnx",
    "det_4ch.onnx",
    "det_rank3.onnx",
    "det_f16.onnx",
    "det_u8.onnx",
    "det_i64.onnx",
    "det_f64_out.onnx",
    "yolov5_like.onnx",
    "det_dynamic_hw.onnx",
    "cls_dynamic.onnx",
    "cls_dynamic.labels",
    "cls_fixed.onnx",
    "cls_4d.onnx",
    "two_inputs.onnx",
    "not_onnx.onnx",
    "truncated.onnx",
    "labels3.txt",
    "labels2_blank_lines.txt",
    "ocr_ctc_plain.onnx",
    # Box decoders (docs/decoders.md): outputs known exactly.
    "box_yolov5.onnx",
    "box_yolox.onnx",
    "box_yolox_open.onnx",
    "box_detr.onnx",
    "box_detr2.onnx",
    "box_ssd.onnx",
    "box_ssd.anchors",
    # Inputs: 4 channels fed, 2 channels refused (E0302).
    "box_in_rgbx.onnx",
    "box_in_2ch.onnx",
    # Ultralytics `names` metadata: three names for two classes (E0311); names with commas.
    "box_names3.onnx",
    "box_names_commas.onnx",
    # Two outputs that could be boxes (and two scores): `boxes:` and `output:` choose.
    "box_two_boxes.onnx",
]

ULTRALYTICS_NAMES = "{0: 'person', 1: 'fallen'}"


def fixtures_fresh(out: str) -> bool:
    """True when every fixture exists and is newer than this script."""
    script = os.stat(os.path.abspath(__file__)).st_mtime_ns
    for name in FIXTURES:
        try:
            if os.stat(os.path.join(out, name)).st_mtime_ns <= script:
                return False
        except FileNotFoundError:
            return False
    return True


class Graph:
    """A small builder: nodes, initializers and fresh tensor names."""

    def __init__(self) -> None:
        self.nodes = []
        self.inits = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, hint: str, array) -> str:
        n = self.name(hint)
        self.inits.append(onnx.numpy_helper.from_array(array, n))
        return n

    def op(self, op_type: str, inputs, out: str = None, **attrs) -> str:
        out = out or self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def model(self, name, inputs, outputs, names: str = None):
        graph = helper.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", 13)],
            producer_name="vpl scripts/make_models.py",
        )
        model.ir_version = 8
        if names is not None:
            helper.set_model_props(model, {"names": names})
        return model


def value(name: str, elem_type: int, shape) -> "onnx.ValueInfoProto":
    return helper.make_tensor_value_info(name, elem_type, shape)


def pattern(shape, scale: float):
    """Deterministic small non-zero weights."""
    n = int(np.prod(shape))
    return (((np.arange(n) % 7) - 3) * scale).astype(np.float32).reshape(shape)


def yolo_head(g: Graph, x: str, channels: int, out_channels: int, out: str = None) -> str:
    """[N, channels, H, W] f32 (H, W multiples of 32) -> [N, out_channels, A] with
    A = (H/8)(W/8) + (H/16)(W/16) + (H/32)(W/32)."""
    p8 = g.op("AveragePool", [x], kernel_shape=[8, 8], strides=[8, 8])
    p16 = g.op("AveragePool", [p8], kernel_shape=[2, 2], strides=[2, 2])
    p32 = g.op("AveragePool", [p16], kernel_shape=[2, 2], strides=[2, 2])
    flat_shape = g.const("flat_shape", np.array([0, channels, -1], dtype=np.int64))
    flats = [g.op("Reshape", [p, flat_shape]) for p in (p8, p16, p32)]
    anchors = g.op("Concat", flats, axis=2)
    # 1x1 convolution over the anchors; box rows from the pixels, class rows zero.
    w = np.zeros((out_channels, channels, 1), dtype=np.float32)
    w[:4] = pattern((4, channels, 1), 0.25)
    b = np.zeros((out_channels,), dtype=np.float32)
    b[:4] = [320.0, 320.0, 64.0, 64.0]
    return g.op("Conv", [anchors, g.const("head_w", w), g.const("head_b", b)], out,
                kernel_shape=[1])


def detector(name, in_type, in_shape, out_type, out_shape, classes, *,
             layout="nchw", names=None, extra_scale=False):
    g = Graph()
    x = "images"
    if layout == "nhwc":
        x = g.op("Transpose", [x], perm=[0, 3, 1, 2])
    elif layout == "chw":
        x = g.op("Unsqueeze", [x, g.const("axes", np.array([0], dtype=np.int64))])
    if in_type != TensorProto.FLOAT:
        x = g.op("Cast", [x], to=TensorProto.FLOAT)
    channels = in_shape[-1] if layout == "nhwc" else in_shape[-3]
    last = out_type == TensorProto.FLOAT and not extra_scale
    y = yolo_head(g, x, channels, 4 + classes, "output0" if last else None)
    inputs = [value("images", in_type, in_shape)]
    if extra_scale:
        inputs.append(value("scale", TensorProto.FLOAT, [1]))
        y = g.op("Mul", [y, "scale"], "output0" if out_type == TensorProto.FLOAT else None)
    if out_type != TensorProto.FLOAT:
        g.op("Cast", [y], "output0", to=out_type)
    return g.model(name, inputs, [value("output0", out_type, out_shape)], names)


def yolov5_like():
    """[1, 3, 640, 640] -> [1, 25200, 85]: 3 anchors per cell x 8400 cells, 5 + 80."""
    g = Graph()
    y = yolo_head(g, "images", 3, 3 * 85)  # [1, 255, 8400]
    y = g.op("Reshape", [y, g.const("s", np.array([0, 3, 85, -1], dtype=np.int64))])
    y = g.op("Transpose", [y], perm=[0, 1, 3, 2])  # [1, 3, 8400, 85]
    g.op("Reshape", [y, g.const("s", np.array([0, -1, 85], dtype=np.int64))], "output0")
    return g.model("yolov5_like", [value("images", TensorProto.FLOAT, [1, 3, 640, 640])],
                   [value("output0", TensorProto.FLOAT, [1, 25200, 85])])


# Box decoder fixtures: each output is a constant (+ 0 x the input's mean, so the input is
# used), so tests/decoders.rs can check each decoder's arithmetic exactly.
BOX_YOLOV5 = [  # [1, 3, 5 + 2]: cx, cy, w, h, objectness, class scores (64x64 input)
    [32.0, 16.0, 20.0, 10.0, 0.9, 0.2, 0.8],  # 0.72, class 1
    [10.0, 50.0, 8.0, 8.0, 0.5, 0.6, 0.1],    # 0.30, class 0
    [40.0, 40.0, 10.0, 10.0, 0.1, 0.9, 0.9],  # 0.09: below 0.25
]
BOX_YOLOX = [  # [1, 5, 7]: strides 32 (2x2 cells) then 64 (1 cell) over 64x64
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.5, 0.5, 0.6931471805599453, 0.0, 0.9, 0.1, 1.0],  # cell (1, 0): centre (48, 16), 64x32
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    [0.5, 0.5, -1.3862943611198906, -1.3862943611198906, 0.8, 1.0, 0.0],  # (0, 0) @64: centre (32, 32), 16x16
]
BOX_DETR = [  # [1, 4, 4 + 2]: normalised cx, cy, w, h, class probabilities
    [0.5, 0.25, 0.5, 0.25, 0.9, 0.05],
    [0.25, 0.75, 0.25, 0.25, 0.1, 0.7],
    [0.5, 0.25, 0.5, 0.25, 0.6, 0.05],  # overlaps the first: kept, no NMS
    [0.8, 0.8, 0.1, 0.1, 0.2, 0.3],     # below 0.5
]
BOX_DETR2_LOGITS = [  # [1, 3, 2 + 1]: the last logit is "no object"
    [2.0, 0.0, 0.0],
    [0.0, 0.0, 3.0],
    [0.0, 1.0, 0.0],
]
BOX_DETR2_BOXES = [[0.5, 0.5, 0.5, 0.5], [0.2, 0.2, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25]]
# ssd: strides [32, 64], per_cell [2, 3] over 64x64: 2x2x2 + 1x1x3 = 11 anchors.
BOX_SSD_ANCHORS = 11


def box_ssd_outputs():
    boxes = np.zeros((1, BOX_SSD_ANCHORS, 8), dtype=np.float32)  # 4 + 2 keypoints
    scores = np.full((1, BOX_SSD_ANCHORS, 1), -5.0, dtype=np.float32)
    # Anchor 2: cell (1, 0) of the stride-32 grid, centre (48, 16).
    boxes[0, 2, :4] = [-8.0, 4.0, 20.0, 12.0]  # centre (40, 20), 20x12
    scores[0, 2, 0] = 2.0
    # Anchor 9: the stride-64 cell, centre (32, 32).
    boxes[0, 9, :4] = [0.0, 0.0, 32.0, 32.0]
    scores[0, 9, 0] = 1.0
    return boxes, scores


def constant_model(name, outputs, in_shape=(1, 3, 64, 64), out_shapes=None):
    """`outputs`: (name, array) each; the model's outputs are those constants."""
    g = Graph()
    zero = g.op("Mul", [g.op("ReduceMean", ["images"], keepdims=0),
                        g.const("zero", np.array(0.0, dtype=np.float32))])
    declared = []
    for i, (out, array) in enumerate(outputs):
        array = np.asarray(array, dtype=np.float32)
        if out_shapes and isinstance(out_shapes[i][1], str):
            # Rows [0, input height): all of them, but a length ONNX cannot know.
            height = g.op("Slice", [g.op("Shape", ["images"]),
                                    g.const("s", np.array([2], dtype=np.int64)),
                                    g.const("e", np.array([3], dtype=np.int64))])
            array_name = g.op("Slice", [g.const(out, array),
                                        g.const("s", np.array([0], dtype=np.int64)),
                                        height, g.const("a", np.array([1], dtype=np.int64))])
            g.op("Add", [array_name, zero], out)
        else:
            g.op("Add", [g.const(out, array), zero], out)
        shape = out_shapes[i] if out_shapes else list(array.shape)
        declared.append(value(out, TensorProto.FLOAT, shape))
    return g.model(name, [value("images", TensorProto.FLOAT, list(in_shape))], declared)


def channel_means(name, in_shape):
    """[1, 4, H, W] -> [1, 4]: each channel's mean, so `decoder: raw` shows what was fed."""
    g = Graph()
    g.op("ReduceMean", ["images"], "means", axes=[2, 3], keepdims=0)
    return g.model(name, [value("images", TensorProto.FLOAT, in_shape)],
                   [value("means", TensorProto.FLOAT, [in_shape[0], in_shape[1]])])


def classifier(name, in_shape, classes, *, out4d=False):
    g = Graph()
    mean = g.op("GlobalAveragePool", ["input"])  # [N, 3, 1, 1]
    w = pattern((classes, in_shape[1], 1, 1), 0.5)
    b = (np.arange(classes, dtype=np.float32) * 0.01).astype(np.float32)
    logits = g.op("Conv", [mean, g.const("w", w), g.const("b", b)], kernel_shape=[1, 1])
    if out4d:
        g.op("Softmax", [logits], "scores", axis=1)  # [N, C, 1, 1]
        out_shape = [in_shape[0], classes, 1, 1]
    else:
        flat = g.op("Flatten", [logits], axis=1)  # [N, C]
        g.op("Softmax", [flat], "scores", axis=1)
        out_shape = [in_shape[0], classes]
    return g.model(name, [value("input", TensorProto.FLOAT, in_shape)],
                   [value("scores", TensorProto.FLOAT, out_shape)])


def ocr_ctc_plain():
    """A CTC recogniser's shape without PaddleOCR's `character` metadata: [N, 3, 32, W]
    -> [N, W / 4, 5] scores (blank + 4 classes), for the checker's E0316."""
    g = Graph()
    w = pattern((5, 3, 32, 4), 0.1)
    conv = g.op("Conv", ["input", g.const("w", w)], kernel_shape=[32, 4], strides=[32, 4])
    squeezed = g.op("Squeeze", [conv, g.const("axes", np.array([2], np.int64))])
    steps = g.op("Transpose", [squeezed], perm=[0, 2, 1])
    g.op("Softmax", [steps], "scores", axis=2)
    return g.model("ocr_ctc_plain",
                   [value("input", TensorProto.FLOAT, ["batch", 3, 32, "width"])],
                   [value("scores", TensorProto.FLOAT, ["batch", "steps", 5])])


def fixture_models():
    """(file name, model, runs): each run maps input names to concrete shapes and
    gives the expected output shape."""
    F, H, D = TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE
    U8, I64 = TensorProto.UINT8, TensorProto.INT64
    img640 = {"images": [1, 3, 640, 640]}
    out640 = [1, 6, 8400]
    return [
        ("det_dynamic.onnx",
         detector("det_dynamic", F, ["batch", 3, 640, 640], F, ["batch", 6, 8400], 2,
                  names=ULTRALYTICS_NAMES),
         [({"images": [1, 3, 640, 640]}, [1, 6, 8400]),
          ({"images": [2, 3, 640, 640]}, [2, 6, 8400])]),
        ("det_fixed1.onnx",
         detector("det_fixed1", F, [1, 3, 640, 640], F, out640, 2, names=ULTRALYTICS_NAMES),
         [(img640, out640)]),
        ("det_fixed4.onnx",
         detector("det_fixed4", F, [4, 3, 320, 320], F, [4, 7, 2100], 3),
         [({"images": [4, 3, 320, 320]}, [4, 7, 2100])]),
        ("det_coco.onnx",
         detector("det_coco", F, [1, 3, 640, 640], F, [1, 84, 8400], 80),
         [(img640, [1, 84, 8400])]),
        ("det_nhwc.onnx",
         detector("det_nhwc", F, [1, 640, 640, 3], F, out640, 2, layout="nhwc"),
         [({"images": [1, 640, 640, 3]}, out640)]),
        ("det_gray.onnx",
         detector("det_gray", F, [1, 1, 320, 320], F, [1, 6, 2100], 2),
         [({"images": [1, 1, 320, 320]}, [1, 6, 2100])]),
        ("det_4ch.onnx",
         detector("det_4ch", F, [1, 4, 320, 320], F, [1, 6, 2100], 2),
         [({"images": [1, 4, 320, 320]}, [1, 6, 2100])]),
        ("det_rank3.onnx",
         detector("det_rank3", F, [3, 640, 640], F, out640, 2, layout="chw"),
         [({"images": [3, 640, 640]}, out640)]),
        ("det_f16.onnx", detector("det_f16", H, [1, 3, 640, 640], H, out640, 2),
         [(img640, out640)]),
        ("det_u8.onnx", detector("det_u8", U8, [1, 3, 640, 640], F, out640, 2),
         [(img640, out640)]),
        ("det_i64.onnx", detector("det_i64", I64, [1, 3, 640, 640], F, out640, 2),
         [(img640, out640)]),
        ("det_f64_out.onnx", detector("det_f64_out", F, [1, 3, 640, 640], D, out640, 2),
         [(img640, out640)]),
        ("yolov5_like.onnx", yolov5_like(), [(img640, [1, 25200, 85])]),
        ("det_dynamic_hw.onnx",
         detector("det_dynamic_hw", F, [1, 3, "height", "width"], F, [1, 6, "anchors"], 2),
         [({"images": [1, 3, 320, 320]}, [1, 6, 2100]),
          (img640, out640),
          ({"images": [1, 3, 320, 640]}, [1, 6, 4200])]),
        ("cls_dynamic.onnx", classifier("cls_dynamic", ["batch", 3, 224, 224], 10),
         [({"input": [1, 3, 224, 224]}, [1, 10]), ({"input": [2, 3, 224, 224]}, [2, 10])]),
        ("cls_fixed.onnx", classifier("cls_fixed", [1, 3, 64, 64], 3),
         [({"input": [1, 3, 64, 64]}, [1, 3])]),
        ("cls_4d.onnx", classifier("cls_4d", [1, 3, 64, 64], 5, out4d=True),
         [({"input": [1, 3, 64, 64]}, [1, 5, 1, 1])]),
        ("box_yolov5.onnx", constant_model("box_yolov5", [("output0", [BOX_YOLOV5])]),
         [({"images": [1, 3, 64, 64]}, [1, 3, 7])]),
        ("box_yolox.onnx", constant_model("box_yolox", [("output", [BOX_YOLOX])]),
         [({"images": [1, 3, 64, 64]}, [1, 5, 7])]),
        ("box_yolox_open.onnx",
         constant_model("box_yolox_open", [("output", [BOX_YOLOX])],
                        in_shape=(1, 3, "height", "width"), out_shapes=[[1, "anchors", 7]]),
         [({"images": [1, 3, 64, 64]}, [1, 5, 7])]),
        ("box_detr.onnx", constant_model("box_detr", [("output", [BOX_DETR])]),
         [({"images": [1, 3, 64, 64]}, [1, 4, 6])]),
        ("box_detr2.onnx",
         constant_model("box_detr2", [("pred_logits", [BOX_DETR2_LOGITS]),
                                      ("pred_boxes", [BOX_DETR2_BOXES])]),
         [({"images": [1, 3, 64, 64]}, [1, 3, 3])]),
        ("box_ssd.onnx",
         constant_model("box_ssd", [("regressors", box_ssd_outputs()[0]),
                                    ("classificators", box_ssd_outputs()[1])]),
         [({"images": [1, 3, 64, 64]}, [1, BOX_SSD_ANCHORS, 8])]),
        ("box_in_rgbx.onnx", channel_means("box_in_rgbx", [1, 4, 16, 16]),
         [({"images": [1, 4, 16, 16]}, [1, 4])]),
        ("box_in_2ch.onnx",
         detector("box_in_2ch", F, [1, 2, 320, 320], F, [1, 6, 2100], 2),
         [({"images": [1, 2, 320, 320]}, [1, 6, 2100])]),
        ("box_names3.onnx",
         detector("box_names3", F, [1, 3, 320, 320], F, [1, 6, 2100], 2,
                  names="{0: 'person', 1: 'car', 2: 'bike'}"),
         [({"images": [1, 3, 320, 320]}, [1, 6, 2100])]),
        ("box_names_commas.onnx",
         detector("box_names_commas", F, [1, 3, 320, 320], F, [1, 6, 2100], 2,
                  names="{0: 'person, standing', 1: \"it's: fallen\"}"),
         [({"images": [1, 3, 320, 320]}, [1, 6, 2100])]),
        ("box_two_boxes.onnx",
         constant_model("box_two_boxes", [("boxes_a", [BOX_DETR2_BOXES]),
                                          ("boxes_b", [BOX_DETR2_BOXES]),
                                          ("logits", [BOX_DETR2_LOGITS])]),
         [({"images": [1, 3, 64, 64]}, [1, 3, 4])]),
        ("two_inputs.onnx",
         detector("two_inputs", F, [1, 3, 320, 320], F, [1, 6, 2100], 2, extra_scale=True),
         [({"images": [1, 3, 320, 320], "scale": [1]}, [1, 6, 2100])]),
        ("ocr_ctc_plain.onnx", ocr_ctc_plain(),
         [({"input": [1, 3, 32, 100]}, [1, 25, 5]), ({"input": [2, 3, 32, 64]}, [2, 16, 5])]),
    ]


def _dims(shape):
    return [d if isinstance(d, int) else None for d in shape]


def _declared(v):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param
            for d in v.type.tensor_type.shape.dim]


def check_fixture(file_name, model, data, runs) -> None:
    """onnx.checker (with strict shape inference) and onnxruntime on zeros."""
    import onnxruntime as ort

    onnx.checker.check_model(model, full_check=True)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    declared_in = {v.name: _declared(v) for v in model.graph.input}
    declared_out = _declared(model.graph.output[0])
    got_in = {i.name: i.shape for i in sess.get_inputs()}
    # onnxruntime reports symbolic dims by their names; check they came through.
    assert got_in == declared_in, (file_name, got_in, declared_in)
    assert sess.get_outputs()[0].shape == declared_out, (file_name, sess.get_outputs()[0].shape)
    elem = {v.name: v.type.tensor_type.elem_type for v in model.graph.input}
    out_elem = helper.tensor_dtype_to_np_dtype(model.graph.output[0].type.tensor_type.elem_type)
    for shapes, expected in runs:
        feeds = {n: np.zeros(s, dtype=helper.tensor_dtype_to_np_dtype(elem[n]))
                 for n, s in shapes.items()}
        y = sess.run(None, feeds)[0]
        assert list(y.shape) == expected, f"{file_name}: output {list(y.shape)}, expected {expected}"
        assert y.dtype == out_elem, f"{file_name}: output {y.dtype}, expected {out_elem}"
        for want, got in zip(declared_out, y.shape):
            assert not isinstance(want, int) or want == got, (file_name, declared_out, y.shape)
        assert np.all(np.isfinite(y.astype(np.float64))), file_name


def _must_not_load(file_name, data) -> None:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 4
    try:
        ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    except Exception:
        return
    raise AssertionError(f"{file_name}: onnxruntime loads it, but it must be invalid")


def make_fixtures(out: str) -> None:
    contents = {}
    for file_name, model, runs in fixture_models():
        data = model.SerializeToString()
        check_fixture(file_name, model, data, runs)
        contents[file_name] = data
    contents["cls_dynamic.labels"] = (
        "cat\ndog\nbird\nfish\nhorse\nsheep\ncow\ndeer\nfrog\nship\n").encode()
    contents["not_onnx.onnx"] = b"this is not an ONNX model\n"
    contents["truncated.onnx"] = contents["det_fixed1.onnx"][:200]
    contents["labels3.txt"] = b"person\ncar\nbike\n"
    contents["labels2_blank_lines.txt"] = b"person\n\nfallen\n\n"
    # The anchors ssd(strides: [32, 64], per_cell: [2, 3]) makes over 64x64, as a file.
    lines = []
    for stride, per_cell in ((32, 2), (64, 3)):
        cells = 64 // stride
        for y in range(cells):
            for x in range(cells):
                lines += [f"{(x + 0.5) / cells} {(y + 0.5) / cells} 1 1"] * per_cell
    assert len(lines) == BOX_SSD_ANCHORS
    contents["box_ssd.anchors"] = ("\n".join(lines) + "\n").encode()
    _must_not_load("not_onnx.onnx", contents["not_onnx.onnx"])
    _must_not_load("truncated.onnx", contents["truncated.onnx"])
    assert sorted(contents) == sorted(FIXTURES), sorted(set(contents) ^ set(FIXTURES))

    os.makedirs(out, exist_ok=True)
    parts = []
    try:
        for file_name in FIXTURES:
            path = os.path.join(out, file_name)
            part = f"{path}.part.{os.getpid()}"
            parts.append(part)
            with open(part, "wb") as f:
                f.write(contents[file_name])
            os.replace(part, path)
            parts.pop()
    finally:
        for part in parts:
            try:
                os.remove(part)
            except FileNotFoundError:
                pass


def main(argv) -> int:
    if len(argv) == 2 and argv[0] == "--fixtures":
        out = argv[1]
        if fixtures_fresh(out):
            return 0
        _import_onnx()
        make_fixtures(out)
        print(f"vpl setup: fixture models made in {out}")
        return 0
    if argv and argv[0] != "--fixtures":
        _import_onnx()
        out = argv[0]
        os.makedirs(out, exist_ok=True)
        colour_classifier(os.path.join(out, "colour_classifier.onnx"))
        return 0
    print("usage: make_models.py OUT_DIR | make_models.py --fixtures OUT_DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
