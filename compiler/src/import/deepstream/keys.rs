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

mod analytics;
mod app;
mod nvinfer;
mod tracker;

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
        GroupKind::Application => app::APPLICATION,
        GroupKind::TiledDisplay => app::TILED_DISPLAY,
        GroupKind::Source | GroupKind::SourceAttrAll => app::SOURCE,
        GroupKind::SourceList => app::SOURCE_LIST,
        GroupKind::Streammux => app::STREAMMUX,
        GroupKind::PrimaryGie | GroupKind::SecondaryGie => app::GIE,
        GroupKind::Tracker => app::TRACKER,
        GroupKind::Osd => app::OSD,
        GroupKind::Sink => app::SINK,
        GroupKind::Tests => app::TESTS,
        GroupKind::NvdsAnalytics => app::NVDS_ANALYTICS,
        GroupKind::Whole(_) => &[],
        GroupKind::Nvinfer => nvinfer::NVINFER,
        GroupKind::ClassAttrs => nvinfer::CLASS_ATTRS,
        GroupKind::AnalyticsProperty => analytics::ANALYTICS_PROPERTY,
        GroupKind::RoiFiltering => analytics::ROI_FILTERING,
        GroupKind::Overcrowding => analytics::OVERCROWDING,
        GroupKind::LineCrossing => analytics::LINE_CROSSING,
        GroupKind::DirectionDetection => analytics::DIRECTION_DETECTION,
        GroupKind::TrackerYaml => tracker::TRACKER_YAML,
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
