//! The keys of nvinfer's config: `[property]` and `[class-attrs-*]`.

use super::*;

pub const NVINFER: &[(&str, Fate)] = &[
    ("onnx-file", Mapped),
    ("labelfile-path", Mapped),
    ("net-scale-factor", Mapped),
    ("offsets", Mapped),
    ("model-color-format", Mapped),
    ("infer-dims", Mapped),
    ("maintain-aspect-ratio", Mapped),
    ("symmetric-padding", Mapped),
    ("interval", Mapped),
    ("cluster-mode", Mapped),
    ("batch-size", Mapped),
    ("network-type", Mapped),
    ("is-classifier", Mapped),
    ("process-mode", Mapped),
    ("gie-unique-id", Mapped),
    ("operate-on-gie-id", Mapped),
    ("operate-on-class-ids", Mapped),
    ("parse-bbox-func-name", Mapped),
    ("custom-lib-path", Mapped),
    (
        "num-detected-classes",
        Decided(
            "vpl reads the number of classes from the model's output and checks the labels against it",
        ),
    ),
    ("input-object-min-width", Mapped),
    ("input-object-min-height", Mapped),
    (
        "input-object-max-width",
        Dropped("`infer(on: …)` has a minimum size only"),
    ),
    (
        "input-object-max-height",
        Dropped("`infer(on: …)` has a minimum size only"),
    ),
    (
        "classifier-threshold",
        Dropped("`classify` keeps the top class whatever its confidence"),
    ),
    (
        "classifier-async-mode",
        Decided("vpl classifies each object on the frame it is found"),
    ),
    (
        "secondary-reinfer-interval",
        Dropped("vpl classifies objects on every frame the model runs"),
    ),
    (
        "segmentation-threshold",
        Dropped("`semantic` keeps each pixel's most likely class"),
    ),
    (
        "output-blob-names",
        Decided(
            "vpl reads the model's outputs and picks the one its decoder reads (`output:` names one)",
        ),
    ),
    ("output-tensor-meta", Mapped),
    ("model-engine-file", ENGINE),
    ("int8-calib-file", PRECISION),
    ("network-mode", PRECISION),
    (
        "workspace-size",
        Decided("vpl sizes TensorRT's workspace itself"),
    ),
    ("gpu-id", GPU),
    ("nvbuf-memory-type", MEMORY),
    ("scaling-filter", Decided("vpl picks the scaler")),
    ("scaling-compute-hw", GPU),
    (
        "engine-create-func-name",
        Dropped("vpl builds engines from the ONNX file; a custom engine builder does not run"),
    ),
    (
        "parse-classifier-func-name",
        Cannot("a custom classifier parser: vpl's `classify` reads [N, C] scores only"),
    ),
    (
        "custom-network-config",
        Cannot("a custom network config: vpl reads ONNX models only"),
    ),
    (
        "tlt-encoded-model",
        Cannot("a TAO (.etlt) model: export it to ONNX, then name it in `onnx-file`"),
    ),
    (
        "tlt-model-key",
        Cannot("a TAO (.etlt) model: export it to ONNX, then name it in `onnx-file`"),
    ),
    (
        "uff-file",
        Cannot("a UFF model: vpl reads ONNX models only"),
    ),
    (
        "uff-input-blob-name",
        Cannot("a UFF model: vpl reads ONNX models only"),
    ),
    (
        "uff-input-dims",
        Cannot("a UFF model: vpl reads ONNX models only"),
    ),
    (
        "uff-input-order",
        Cannot("a UFF model: vpl reads ONNX models only"),
    ),
    (
        "model-file",
        Cannot("a Caffe model: vpl reads ONNX models only"),
    ),
    (
        "proto-file",
        Cannot("a Caffe model: vpl reads ONNX models only"),
    ),
    (
        "mean-file",
        Cannot("a per-pixel mean image: vpl subtracts one mean a channel (`mean:`)"),
    ),
    (
        "enable-dla",
        Decided("vpl runs models on the GPU or the CPU"),
    ),
    (
        "use-dla-core",
        Decided("vpl runs models on the GPU or the CPU"),
    ),
    (
        "force-implicit-batch-dim",
        Decided("vpl reads the batch dimension from the model"),
    ),
    (
        "infer-dims-order",
        Decided("vpl reads the layout (NCHW or NHWC) from the model"),
    ),
    (
        "input-dims",
        Decided("the older `infer-dims` of UFF models: vpl reads the input from the ONNX model"),
    ),
    (
        "output-io-formats",
        Decided("the backend chooses the tensors' formats"),
    ),
    ("layer-device-precision", PRECISION),
    (
        "disable-output-host-copy",
        Decided("vpl copies outputs where its decoders run"),
    ),
    ("symmetric-padding", Mapped),
    (
        "crop-objects-to-roi-boundary",
        Decided("vpl crops objects to the frame"),
    ),
    (
        "filter-out-class-ids",
        Dropped("write `filter(classes: …)` after `infer`"),
    ),
    ("output-instance-mask", Mapped),
    (
        "parse-bbox-instance-mask-func-name",
        Cannot("a custom instance-mask parser: vpl has no decoder for it"),
    ),
    ("enable-dbscan", Dropped("vpl merges boxes with NMS only")),
    ("maintain-aspect-ratio", Mapped),
    ("tensor-meta-pool-size", MEMORY),
    (
        "num-detected-classes",
        Decided("vpl reads the number of classes from the model's output"),
    ),
];

pub const CLASS_ATTRS: &[(&str, Fate)] = &[
    ("pre-cluster-threshold", Mapped),
    ("nms-iou-threshold", Mapped),
    ("topk", Mapped),
    (
        "post-cluster-threshold",
        Dropped("vpl filters on one confidence, before NMS"),
    ),
    ("eps", Dropped("vpl merges boxes with NMS only (no DBSCAN)")),
    (
        "minBoxes",
        Dropped("vpl merges boxes with NMS only (no DBSCAN)"),
    ),
    (
        "dbscan-min-score",
        Dropped("vpl merges boxes with NMS only (no DBSCAN)"),
    ),
    (
        "group-threshold",
        Dropped("vpl merges boxes with NMS only (no OpenCV grouping)"),
    ),
    (
        "roi-top-offset",
        Dropped("vpl keeps boxes anywhere in the frame"),
    ),
    (
        "roi-bottom-offset",
        Dropped("vpl keeps boxes anywhere in the frame"),
    ),
    (
        "detected-min-w",
        Dropped("write `filter(…)`; vpl has no minimum box size after a detector"),
    ),
    (
        "detected-min-h",
        Dropped("write `filter(…)`; vpl has no minimum box size after a detector"),
    ),
    (
        "detected-max-w",
        Dropped("vpl has no maximum box size after a detector"),
    ),
    (
        "detected-max-h",
        Dropped("vpl has no maximum box size after a detector"),
    ),
    ("border-color", STYLE),
    ("bg-color", STYLE),
];
