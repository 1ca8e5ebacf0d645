//! What becomes of every key DeepStream reads, group by group: mapped by the importer's
//! code, or one of three findings (vpl decides it, dropped, cannot import) with its reason.
//! A key not in these tables is one DeepStream does not read ("did you mean").

/// What becomes of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// The importer turns it into vpl (a key it does not reach in a given file, because
    /// another key makes it meaningless, is reported as dropped with that reason).
    Mapped,
    /// vpl chooses this itself (W0601).
    Decided(&'static str),
    /// No equivalent in vpl (W0602).
    Dropped(&'static str),
    /// Cannot be imported (E0601).
    Cannot(&'static str),
}

use Fate::*;

const GPU: Fate = Decided("vpl picks the GPU and its memory itself (`vplc run --backend`)");
const MEMORY: Fate = Decided("vpl chooses where frames live in memory");
const STYLE: Fate = Dropped("vpl's `overlay` draws in its own style");
const SYNC: Fate = Decided(
    "vpl's sinks run as fast as the pipeline (`vplc run --realtime` waits for each frame's time)",
);
const PERF: Fate =
    Decided("`vplc run` prints frames and fps; `--stats` and `--metrics` give the figures");
const ENGINE: Fate =
    Dropped("vpl builds and caches its own TensorRT engines (`vplc build --engine`)");
const PRECISION: Fate = Decided(
    "the backend chooses the precision (`--backend tensorrt` runs fp16, int8 with a `MODEL.calib` beside the model)",
);
const RECORD: Fate = Dropped(
    "smart record is vpl's `record` stage, triggered by events in the program: write it by hand",
);

/// The kinds of groups the importer knows, by their name in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Application,
    TiledDisplay,
    Source,
    SourceList,
    SourceAttrAll,
    Streammux,
    PrimaryGie,
    SecondaryGie,
    Tracker,
    Osd,
    Sink,
    Tests,
    NvdsAnalytics,
    /// Whole groups vpl has no part for: one finding at the header.
    Whole(Fate),
    /// nvinfer's `[property]`.
    Nvinfer,
    ClassAttrs,
    /// nvdsanalytics' `[property]`.
    AnalyticsProperty,
    RoiFiltering,
    Overcrowding,
    LineCrossing,
    DirectionDetection,
    /// A section of the tracker's YAML.
    TrackerYaml,
}

/// The group kinds of a deepstream-app config, by name.
pub fn app_group(name: &str) -> Option<GroupKind> {
    let numbered = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    Some(match name {
        "application" => GroupKind::Application,
        "tiled-display" => GroupKind::TiledDisplay,
        "source-list" => GroupKind::SourceList,
        "source-attr-all" => GroupKind::SourceAttrAll,
        "streammux" => GroupKind::Streammux,
        "primary-gie" => GroupKind::PrimaryGie,
        "tracker" => GroupKind::Tracker,
        "osd" => GroupKind::Osd,
        "tests" => GroupKind::Tests,
        "nvds-analytics" => GroupKind::NvdsAnalytics,
        "message-converter" | "message-broker" => GroupKind::Whole(Dropped(
            "vpl writes its own event messages (DeepStream's schema, `events`) and each broker sink connects itself",
        )),
        "img-save" => GroupKind::Whole(Dropped("vpl saves no crops; `record` saves clips")),
        "ds-example" => GroupKind::Whole(Dropped(
            "dsexample is a sample plugin with no vpl equivalent",
        )),
        "pre-process" => GroupKind::Whole(Cannot(
            "nvdspreprocess changes what the model sees (ROIs, custom tensors); vpl prepares whole frames or crops only",
        )),
        "primary-gie-audio" => GroupKind::Whole(Cannot("vpl has no audio models")),
        _ if numbered("source") => GroupKind::Source,
        _ if numbered("sink") => GroupKind::Sink,
        _ if numbered("secondary-gie") => GroupKind::SecondaryGie,
        _ if numbered("message-consumer") => {
            GroupKind::Whole(Dropped("vpl consumes no messages from brokers"))
        }
        _ if numbered("secondary-pre-process") => GroupKind::Whole(Cannot(
            "nvdspreprocess changes what the model sees; vpl prepares crops itself",
        )),
        _ => return None,
    })
}

/// The app config's group names, for "did you mean".
pub const APP_GROUPS: &[&str] = &[
    "application",
    "tiled-display",
    "source0",
    "source-list",
    "source-attr-all",
    "streammux",
    "primary-gie",
    "secondary-gie0",
    "tracker",
    "osd",
    "sink0",
    "tests",
    "nvds-analytics",
    "message-converter",
    "message-consumer0",
    "img-save",
    "pre-process",
    "ds-example",
];

/// Keys of a group kind; `*` at the end of a name matches any suffix (`bbox-border-color0`).
pub fn keys(kind: GroupKind) -> &'static [(&'static str, Fate)] {
    match kind {
        GroupKind::Application => &[
            ("enable-perf-measurement", PERF),
            ("perf-measurement-interval-sec", PERF),
            (
                "gie-kitti-output-dir",
                Dropped("vpl writes JSON records (`json | file(\"….jsonl\")`), not KITTI files"),
            ),
            (
                "kitti-track-output-dir",
                Dropped("vpl writes JSON records (`json | file(\"….jsonl\")`), not KITTI files"),
            ),
            (
                "reid-track-output-dir",
                Dropped("vpl's trackers keep no re-identification features"),
            ),
            (
                "terminated-track-output-dir",
                Dropped("vpl writes JSON records, not KITTI files"),
            ),
            (
                "shadow-track-output-dir",
                Dropped("vpl writes JSON records, not KITTI files"),
            ),
        ],
        GroupKind::TiledDisplay => &[
            ("enable", Mapped),
            ("rows", Mapped),
            ("columns", Mapped),
            ("width", Mapped),
            ("height", Mapped),
            ("gpu-id", GPU),
            ("nvbuf-memory-type", MEMORY),
            ("compute-hw", GPU),
            ("buffer-pool-size", MEMORY),
            (
                "square-seq-grid",
                Dropped("`tile` fills its grid row by row"),
            ),
        ],
        GroupKind::Source | GroupKind::SourceAttrAll => &[
            ("enable", Mapped),
            ("type", Mapped),
            ("uri", Mapped),
            ("num-sources", Mapped),
            ("file-loop", Mapped),
            ("rtsp-reconnect-interval-sec", Mapped),
            ("latency", Mapped),
            ("select-rtp-protocol", Mapped),
            ("camera-v4l2-dev-node", Mapped),
            ("camera-width", Mapped),
            ("camera-height", Mapped),
            ("camera-fps-n", Mapped),
            ("camera-fps-d", Mapped),
            (
                "camera-id",
                Decided("vpl numbers streams in the order they are written"),
            ),
            (
                "source-id",
                Decided("vpl numbers streams in the order they are written"),
            ),
            (
                "camera-csi-sensor-id",
                Cannot("vpl reads V4L2 cameras, not Jetson CSI sensors"),
            ),
            ("gpu-id", GPU),
            ("cudadec-memtype", MEMORY),
            ("nvbuf-memory-type", MEMORY),
            ("num-extra-surfaces", MEMORY),
            ("intra-decode-enable", Dropped("vpl decodes every frame")),
            (
                "low-latency-mode",
                Decided("the decoder's latency is vpl's choice"),
            ),
            (
                "drop-frame-interval",
                Dropped("write `rate(…)` after the source to keep fewer frames"),
            ),
            (
                "rtsp-reconnect-attempts",
                Dropped("vpl reconnects without a limit while the run goes on"),
            ),
            (
                "udp-buffer-size",
                Decided("vpl sizes network buffers itself"),
            ),
            (
                "video-format",
                Decided("vpl converts frames to the format each stage needs"),
            ),
            ("smart-record", RECORD),
            ("smart-rec-*", RECORD),
            ("alsa-device", Cannot("vpl has no audio")),
            ("extract-sei-type5-data", Dropped("vpl reads no SEI data")),
            ("sei-uuid", Dropped("vpl reads no SEI data")),
            (
                "init-rtsp-reconnect-interval",
                Dropped("vpl waits `reconnect` before each try"),
            ),
        ],
        GroupKind::SourceList => &[
            ("num-source-bins", Mapped),
            ("list", Mapped),
            ("use-nvmultiurisrcbin", Mapped),
            ("max-batch-size", Mapped),
            (
                "sensor-id-list",
                Decided("vpl names streams by their index, or a pool's by its id"),
            ),
            (
                "sensor-name-list",
                Decided("vpl names streams by their index, or a pool's by its id"),
            ),
            (
                "stream-name-list",
                Decided("vpl names streams by their index, or a pool's by its id"),
            ),
            (
                "http-ip",
                Decided("`vplc run --control ADDR` serves the stream API"),
            ),
            (
                "http-port",
                Decided("`vplc run --control ADDR` serves the stream API"),
            ),
        ],
        GroupKind::Streammux => &[
            ("batch-size", Mapped),
            ("batched-push-timeout", Mapped),
            ("width", Mapped),
            ("height", Mapped),
            ("enable-padding", Mapped),
            ("live-source", Decided("vpl knows which sources are live")),
            ("gpu-id", GPU),
            ("nvbuf-memory-type", MEMORY),
            ("compute-hw", GPU),
            ("buffer-pool-size", MEMORY),
            (
                "attach-sys-ts-as-ntp",
                Dropped("vpl's records carry stream time (`pts_ns`) and events the wall clock"),
            ),
            (
                "config-file",
                Dropped("the new nvstreammux's config has no vpl equivalent"),
            ),
            ("sync-inputs", Dropped("vpl batches frames as they come")),
            ("max-latency", Dropped("vpl batches frames as they come")),
            (
                "frame-duration",
                Dropped("vpl reads each stream's rate from the stream"),
            ),
            (
                "drop-pipeline-eos",
                Decided("vpl ends the run when every stream has ended"),
            ),
            ("interpolation-method", Decided("vpl picks the scaler")),
            ("num-surfaces-per-frame", MEMORY),
            (
                "async-process",
                Decided("vpl chooses how frames are scaled"),
            ),
            (
                "frame-num-reset-on-eos",
                Dropped("vpl counts frames from each stream's start"),
            ),
            (
                "frame-num-reset-on-stream-reset",
                Dropped("vpl counts frames from each stream's start"),
            ),
            (
                "no-pipeline-eos",
                Decided("vpl ends the run when every stream has ended"),
            ),
        ],
        GroupKind::PrimaryGie | GroupKind::SecondaryGie => &[
            ("enable", Mapped),
            ("config-file", Mapped),
            ("gie-unique-id", Mapped),
            ("operate-on-gie-id", Mapped),
            ("operate-on-class-ids", Mapped),
            ("batch-size", Mapped),
            ("interval", Mapped),
            ("model-engine-file", ENGINE),
            ("labelfile-path", Mapped),
            ("plugin-type", Mapped),
            (
                "input-tensor-meta",
                Cannot("vpl prepares the model's input itself"),
            ),
            ("gpu-id", GPU),
            ("nvbuf-memory-type", MEMORY),
            ("bbox-border-color*", STYLE),
            ("bbox-bg-color*", STYLE),
            (
                "infer-raw-output-dir",
                Dropped("`decoder: raw` puts the outputs in the records instead"),
            ),
            ("audio-transform", Cannot("vpl has no audio models")),
            ("audio-framesize", Cannot("vpl has no audio models")),
            ("audio-hopsize", Cannot("vpl has no audio models")),
        ],
        GroupKind::Tracker => &[
            ("enable", Mapped),
            ("ll-lib-file", Mapped),
            ("ll-config-file", Mapped),
            (
                "tracker-width",
                Decided("vpl tracks boxes at the frame's size"),
            ),
            (
                "tracker-height",
                Decided("vpl tracks boxes at the frame's size"),
            ),
            ("gpu-id", GPU),
            ("compute-hw", GPU),
            (
                "enable-batch-process",
                Decided("vpl tracks each stream on its own"),
            ),
            (
                "enable-past-frame",
                Dropped("vpl's trackers report no past frames"),
            ),
            ("display-tracking-id", Mapped),
            (
                "tracking-id-reset-mode",
                Dropped("vpl's track ids start at 1 on each stream and never reset"),
            ),
            ("tracking-surface-type", Dropped("vpl tracks every object")),
            (
                "input-tensor-meta",
                Dropped("vpl's trackers use no re-identification tensors"),
            ),
            (
                "tensor-meta-gie-id",
                Dropped("vpl's trackers use no re-identification tensors"),
            ),
            ("sub-batches", Decided("vpl tracks each stream on its own")),
            ("user-meta-pool-size", MEMORY),
        ],
        GroupKind::Osd => &[
            ("enable", Mapped),
            ("display-text", Mapped),
            ("display-bbox", Mapped),
            ("display-mask", Mapped),
            ("gpu-id", GPU),
            ("nvbuf-memory-type", MEMORY),
            ("process-mode", GPU),
            ("border-width", STYLE),
            ("border-color", STYLE),
            ("text-size", STYLE),
            ("text-color", STYLE),
            ("text-bg-color", STYLE),
            ("font", STYLE),
            ("show-clock", STYLE),
            ("clock-x-offset", STYLE),
            ("clock-y-offset", STYLE),
            ("clock-text-size", STYLE),
            ("clock-color", STYLE),
            ("hw-blend-color-attr", STYLE),
        ],
        GroupKind::Sink => &[
            ("enable", Mapped),
            ("type", Mapped),
            ("container", Mapped),
            ("codec", Mapped),
            ("bitrate", Mapped),
            ("output-file", Mapped),
            ("rtsp-port", Mapped),
            ("msg-broker-proto-lib", Mapped),
            ("msg-broker-conn-str", Mapped),
            ("topic", Mapped),
            (
                "source-id",
                Decided("a sink gets the streams written before it"),
            ),
            ("sync", SYNC),
            ("qos", SYNC),
            ("gpu-id", GPU),
            ("nvbuf-memory-type", MEMORY),
            (
                "enc-type",
                Decided("vpl encodes with NVENC where it can, else on the CPU"),
            ),
            ("profile", Decided("vpl chooses the encoder's profile")),
            (
                "iframeinterval",
                Decided("vpl chooses the key-frame interval"),
            ),
            (
                "udp-port",
                Decided("vpl's RTSP server needs no UDP port of its own"),
            ),
            (
                "udp-buffer-size",
                Decided("vpl sizes network buffers itself"),
            ),
            (
                "width",
                Dropped("the sink shows frames at the stream's size: write `scale(…)` before it"),
            ),
            (
                "height",
                Dropped("the sink shows frames at the stream's size: write `scale(…)` before it"),
            ),
            (
                "display-id",
                Decided("`display` opens a window on the default display"),
            ),
            (
                "overlay-id",
                Decided("`display` opens a window on the default display"),
            ),
            (
                "offset-x",
                Dropped("`display` opens a window where the window manager puts it"),
            ),
            (
                "offset-y",
                Dropped("`display` opens a window where the window manager puts it"),
            ),
            (
                "link-to-demux",
                Decided("vpl sends each output the streams written before it"),
            ),
            (
                "msg-conv-config",
                Dropped("vpl writes its own messages (`json` records, `events`)"),
            ),
            (
                "msg-conv-payload-type",
                Dropped("vpl writes its own messages (`json` records, `events`)"),
            ),
            (
                "msg-conv-msg2p-lib",
                Dropped("vpl writes its own messages (`json` records, `events`)"),
            ),
            (
                "msg-conv-comp-id",
                Dropped("vpl writes its own messages (`json` records, `events`)"),
            ),
            (
                "msg-conv-frame-interval",
                Dropped("vpl writes one record a frame; `events(every: …)` sets a period"),
            ),
            (
                "msg-conv-msg2p-new-api",
                Dropped("vpl writes its own messages"),
            ),
            (
                "msg-broker-config",
                Dropped("broker settings come from VPL_* environment variables (docs/language.md)"),
            ),
            (
                "msg-broker-comp-id",
                Decided("each broker sink connects itself"),
            ),
            ("disable-msgconv", Dropped("vpl writes its own messages")),
            ("new-api", Dropped("vpl writes its own messages")),
            ("conn-id", Decided("each broker sink connects itself")),
            (
                "sleep-time",
                Dropped("vpl sends each record when it is made"),
            ),
        ],
        GroupKind::Tests => &[("file-loop", Mapped)],
        GroupKind::NvdsAnalytics => &[
            ("enable", Mapped),
            ("config-file", Mapped),
            ("gpu-id", GPU),
            (
                "unique-id",
                Decided("vpl names analytics by their zones and lines"),
            ),
        ],
        GroupKind::Whole(_) => &[],
        GroupKind::Nvinfer => &[
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
                Dropped(
                    "vpl builds engines from the ONNX file; a custom engine builder does not run",
                ),
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
                Decided(
                    "the older `infer-dims` of UFF models: vpl reads the input from the ONNX model",
                ),
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
        ],
        GroupKind::ClassAttrs => &[
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
        ],
        GroupKind::AnalyticsProperty => &[
            ("enable", Mapped),
            ("config-width", Mapped),
            ("config-height", Mapped),
            (
                "osd-mode",
                Decided("`overlay` draws zones, lines and their counts"),
            ),
            ("display-font-size", STYLE),
            ("display-roi", STYLE),
            ("display-line-crossing", STYLE),
            ("display-overcrowding", STYLE),
            ("display-direction", STYLE),
            (
                "obj-cnt-win-in-ms",
                Dropped("vpl counts objects on each frame"),
            ),
        ],
        GroupKind::RoiFiltering => &[
            ("enable", Mapped),
            (
                "roi-*",
                Dropped(
                    "vpl's `analyze` gives each object the zones it is in but drops none: filter the records",
                ),
            ),
            ("inverse-roi", Dropped("vpl's `analyze` drops no objects")),
            ("class-id", Dropped("vpl's `analyze` drops no objects")),
        ],
        GroupKind::Overcrowding => &[
            ("enable", Mapped),
            ("roi-*", Mapped),
            ("object-threshold", Mapped),
            (
                "class-id",
                Decided(
                    "vpl counts every class, and each zone's counts by label are in the records",
                ),
            ),
            (
                "time-threshold",
                Dropped("vpl flags overcrowding on the frame it happens"),
            ),
        ],
        GroupKind::LineCrossing => &[
            ("enable", Mapped),
            ("line-crossing-*", Mapped),
            (
                "class-id",
                Decided(
                    "vpl counts every class, and each line's counts by label are in the records",
                ),
            ),
            ("extended", Mapped),
            (
                "mode",
                Decided(
                    "vpl counts a crossing when a track's anchor passes from one side of the segment to the other",
                ),
            ),
        ],
        GroupKind::DirectionDetection => &[
            ("enable", Mapped),
            (
                "direction-*",
                Dropped(
                    "vpl gives each track's heading in degrees (`heading_deg`) but no named directions",
                ),
            ),
            (
                "class-id",
                Dropped(
                    "vpl gives each track's heading in degrees (`heading_deg`) but no named directions",
                ),
            ),
        ],
        GroupKind::TrackerYaml => &[
            ("maxShadowTrackingAge", Mapped),
            ("stateEstimatorType", Mapped),
            ("visualTrackerType", Mapped),
            ("minMatchingScore4Iou", Mapped),
            ("reidType", Mapped),
        ],
    }
}

/// The fate of `key` in a group of `kind`, `None` when DeepStream does not read it.
pub fn fate(kind: GroupKind, key: &str) -> Option<Fate> {
    if kind == GroupKind::TrackerYaml {
        return Some(
            keys(kind)
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, f)| *f)
                .unwrap_or(Dropped(
                    "vpl's `iou` and `sort` trackers have no such setting",
                )),
        );
    }
    keys(kind)
        .iter()
        .find(|(k, _)| match k.strip_suffix('*') {
            Some(prefix) => key.starts_with(prefix) && key.len() > prefix.len(),
            None => *k == key,
        })
        .map(|(_, f)| *f)
}

/// The names of a kind's keys, for "did you mean".
pub fn names(kind: GroupKind) -> impl Iterator<Item = &'static str> {
    keys(kind).iter().map(|(k, _)| k.trim_end_matches('*'))
}
