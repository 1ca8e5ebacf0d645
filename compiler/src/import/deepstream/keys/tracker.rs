//! The keys of the tracker's YAML that the importer maps.

use super::*;

pub const TRACKER_YAML: &[(&str, Fate)] = &[
    ("maxShadowTrackingAge", Mapped),
    ("stateEstimatorType", Mapped),
    ("visualTrackerType", Mapped),
    ("minMatchingScore4Iou", Mapped),
    ("reidType", Mapped),
];
