//! The `vplanalyze` element: the analyzer run on each buffer, configured by its `config`
//! property (the element's GObject code is `transform::analytics_element!`).

use std::sync::LazyLock;

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::subclass::prelude::*;
use vpl_compiler::analytics::AnalyzeConfig;

use crate::analytics::Analyzer;
use crate::elements::transform::{AnalyticsStage, analytics_element};
use crate::meta::ObjectsData;

impl AnalyticsStage for Analyzer {
    type Config = AnalyzeConfig;
    const DEFAULT_CONFIG: &'static str = r#"{"zones":[],"lines":[]}"#;
    const BLURB: &'static str = "Zones and lines, as JSON (vpl_compiler::analytics::AnalyzeConfig)";
    const WHAT: &'static str = "analytics";

    fn new(config: AnalyzeConfig) -> Self {
        Analyzer::new(config)
    }

    fn describe(config: &AnalyzeConfig) -> String {
        format!("{} zones, {} lines", config.zones.len(), config.lines.len())
    }

    fn on_frame(&mut self, data: &mut ObjectsData, pts_ns: u64) {
        self.process(data, pts_ns);
    }
}

analytics_element! {
    VplAnalyze: super::VplAnalyze, Analyzer,
    category: ("vplanalyze", "vpl zone and line analytics"),
    metadata: (
        "vpl analytics",
        "Filter/Analyzer/Video",
        "Counts objects in zones and tracks crossing lines"
    )
}
