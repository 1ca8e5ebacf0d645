//! The keys of a deepstream-app config's groups.

use super::*;

pub const APPLICATION: &[(&str, Fate)] = &[
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
];

pub const TILED_DISPLAY: &[(&str, Fate)] = &[
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
];

pub const SOURCE: &[(&str, Fate)] = &[
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
];

pub const SOURCE_LIST: &[(&str, Fate)] = &[
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
];

pub const STREAMMUX: &[(&str, Fate)] = &[
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
];

pub const GIE: &[(&str, Fate)] = &[
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
];

pub const TRACKER: &[(&str, Fate)] = &[
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
];

pub const OSD: &[(&str, Fate)] = &[
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
];

pub const SINK: &[(&str, Fate)] = &[
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
];

pub const TESTS: &[(&str, Fate)] = &[("file-loop", Mapped)];

pub const NVDS_ANALYTICS: &[(&str, Fate)] = &[
    ("enable", Mapped),
    ("config-file", Mapped),
    ("gpu-id", GPU),
    (
        "unique-id",
        Decided("vpl names analytics by their zones and lines"),
    ),
];
