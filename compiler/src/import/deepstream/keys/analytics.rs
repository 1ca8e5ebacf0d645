//! The keys of nvdsanalytics' config: `[property]` and its kinds of analytics groups.

use super::*;

pub const ANALYTICS_PROPERTY: &[(&str, Fate)] = &[
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
];

pub const ROI_FILTERING: &[(&str, Fate)] = &[
    ("enable", Mapped),
    (
        "roi-*",
        Dropped(
            "vpl's `analyze` gives each object the zones it is in but drops none: filter the records",
        ),
    ),
    ("inverse-roi", Dropped("vpl's `analyze` drops no objects")),
    ("class-id", Dropped("vpl's `analyze` drops no objects")),
];

pub const OVERCROWDING: &[(&str, Fate)] = &[
    ("enable", Mapped),
    ("roi-*", Mapped),
    ("object-threshold", Mapped),
    (
        "class-id",
        Decided("vpl counts every class, and each zone's counts by label are in the records"),
    ),
    (
        "time-threshold",
        Dropped("vpl flags overcrowding on the frame it happens"),
    ),
];

pub const LINE_CROSSING: &[(&str, Fate)] = &[
    ("enable", Mapped),
    ("line-crossing-*", Mapped),
    (
        "class-id",
        Decided("vpl counts every class, and each line's counts by label are in the records"),
    ),
    ("extended", Mapped),
    (
        "mode",
        Decided(
            "vpl counts a crossing when a track's anchor passes from one side of the segment to the other",
        ),
    ),
];

pub const DIRECTION_DETECTION: &[(&str, Fate)] = &[
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
];
