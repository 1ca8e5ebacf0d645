//! The `vplevents` element: the event maker run on each buffer, configured by its `config`
//! property (the element's GObject code is `transform::analytics_element!`).

use std::sync::LazyLock;

use gstreamer as gst;
use gstreamer::glib;
use gstreamer::subclass::prelude::*;
use gstreamer_base as gst_base;
use gstreamer_base::subclass::prelude::*;
use vpl_compiler::analytics::EventsConfig;

use crate::analytics::EventMaker;
use crate::elements::transform::{AnalyticsStage, analytics_element};
use crate::meta::ObjectsData;

impl AnalyticsStage for EventMaker {
    type Config = EventsConfig;
    const DEFAULT_CONFIG: &'static str = r#"{"on":[],"every_ns":0}"#;
    const BLURB: &'static str =
        "Events sent and rate limit, as JSON (vpl_compiler::analytics::EventsConfig)";
    const WHAT: &'static str = "events";

    fn new(config: EventsConfig) -> Self {
        let counter = crate::analytics::stream_counter(config.stream);
        EventMaker::new(config).numbered_by(counter)
    }

    fn describe(config: &EventsConfig) -> String {
        format!(
            "events {:?}, at most one every {} ns",
            config.on, config.every_ns
        )
    }

    /// The events of this frame go into the meta's `events`, dated by the wall clock.
    fn on_frame(&mut self, data: &mut ObjectsData, pts_ns: u64) {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        data.events = Some(self.process(data, pts_ns, now_ms));
    }

    /// Tracks still inside zones exit them.
    fn on_leave(&mut self, pts_ns: u64) -> Option<ObjectsData> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let events = self.leave(pts_ns, now_ms);
        (!events.is_empty()).then(|| ObjectsData {
            events: Some(events),
            ..ObjectsData::default()
        })
    }
}

analytics_element! {
    VplEvents: super::VplEvents, EventMaker,
    category: ("vplevents", "vpl analytics events"),
    metadata: (
        "vpl events",
        "Filter/Analyzer/Video",
        "Turns zone and line analytics into event messages"
    )
}
