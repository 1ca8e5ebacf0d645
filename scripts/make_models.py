"""Writes the small ONNX models vpl's examples and tests use, with the `onnx` package.

    .venv/bin/python scripts/make_models.py OUT_DIR

colour_classifier.onnx: a real (if tiny) classifier for secondary inference. It
averages each channel of a crop and returns softmax scores for red, green and blue,
so a mostly-red crop is classified `red`. Input `crop` f32 [N, 3, 64, 64] with a
dynamic batch axis; output `scores` f32 [N, 3]. Its labels are written beside it.
"""

import os
import sys

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


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    colour_classifier(os.path.join(out, "colour_classifier.onnx"))
