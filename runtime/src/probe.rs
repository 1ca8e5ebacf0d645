//! Media file → `MediaFacts`, with GStreamer's discoverer.
//!
//! The discoverer reads a file only as far as its demuxer and parsers need to tell the
//! container, the streams and their caps; nothing is decoded. Caps names become vpl's short
//! names here by the compiler's one table, `vpl_compiler::media` (`video/x-h264` → `h264`,
//! `video/x-matroska` → `matroska`, raw video → its pixel format), so the compiler never
//! sees GStreamer's vocabulary except in `caps`.

use std::io;
use std::path::Path;
use std::sync::OnceLock;

use gstreamer as gst;
use gstreamer::glib;
use gstreamer_pbutils::prelude::*;
use gstreamer_pbutils::{Discoverer, DiscovererContainerInfo, DiscovererResult};
use vpl_compiler::facts::{FactError, MediaFacts, VideoFacts};
use vpl_compiler::media;

use crate::elements::stamp::nal::byte_stream_nals;
use crate::elements::stamp::{h264, h265};

/// How long the discoverer may take on one file.
const TIMEOUT_SECONDS: u64 = 10;
/// How much of an elementary stream is read for its first pictures.
const FIELD_SCAN_BYTES: u64 = 4 << 20;
/// Pictures read at most: the first ones tell how a stream is coded.
const FIELD_SCAN_PICTURES: usize = 64;

/// Probes the media file at `path`: its container, its duration and its first video stream.
///
/// Errors: `NotFound` when nothing is at `path`; `Unreadable` with the OS's reason when it
/// cannot be opened, or when it is a directory, a FIFO or a device; `Invalid` when GStreamer
/// cannot read it as media or it has no video stream; `Unavailable` when GStreamer itself
/// cannot be initialised. Never panics on a broken file.
pub fn probe_media(path: &Path) -> Result<MediaFacts, FactError> {
    let meta = std::fs::metadata(path).map_err(io_error)?;
    if meta.is_dir() {
        return Err(FactError::Unreadable("it is a directory".into()));
    }
    if !meta.is_file() {
        // Opening a FIFO blocks until someone writes to it, beyond the discoverer's timeout.
        return Err(FactError::Unreadable("it is not a regular file".into()));
    }
    // Surfaces "Permission denied" as the OS says it, rather than GStreamer's vaguer words.
    std::fs::File::open(path).map_err(io_error)?;
    init()?;

    let absolute = std::path::absolute(path).map_err(io_error)?;
    let uri = glib::filename_to_uri(&absolute, None)
        .map_err(|e| FactError::Unreadable(format!("cannot make a URI of this path: {e}")))?;
    let discoverer = Discoverer::new(gst::ClockTime::from_seconds(TIMEOUT_SECONDS))
        .map_err(|e| FactError::Unavailable(format!("GStreamer's discoverer: {e}")))?;
    let info = discoverer.discover_uri(&uri).map_err(|e| {
        FactError::Invalid(if e.matches(gst::StreamError::TypeNotFound) {
            "not a media file GStreamer can read".into()
        } else {
            format!("GStreamer cannot read it: {}", e.message())
        })
    })?;
    match info.result() {
        // With plugins missing, the streams found so far are still described.
        DiscovererResult::Ok | DiscovererResult::MissingPlugins => {}
        DiscovererResult::Timeout => {
            return Err(FactError::Invalid(format!(
                "GStreamer did not finish reading it within {TIMEOUT_SECONDS} s"
            )));
        }
        _ => {
            return Err(FactError::Invalid(
                "not a media file GStreamer can read".into(),
            ));
        }
    }

    let video = info
        .video_streams()
        .into_iter()
        .next()
        .ok_or_else(|| FactError::Invalid("no video stream in this file".into()))?;
    let caps = video.caps().ok_or_else(|| {
        FactError::Invalid("GStreamer found a video stream but not its format".into())
    })?;
    let (format, raw) = match caps.structure(0) {
        Some(s) => video_format(s),
        None => return Err(FactError::Invalid("the video stream has empty caps".into())),
    };
    let rate = video.framerate();
    let interlaced = video.is_interlaced();
    let container = info
        .stream_info()
        .filter(|top| top.is::<DiscovererContainerInfo>())
        .and_then(|top| top.caps())
        .and_then(|caps| caps.structure(0).map(container_name));

    // Only an elementary stream goes through `vplstamp`, which refuses fields.
    let field_coded = container.is_none() && field_coded(path, &format);
    Ok(MediaFacts {
        container,
        video: Some(VideoFacts {
            format,
            raw,
            width: nonzero(video.width()),
            height: nonzero(video.height()),
            rate: reduced(rate.numer(), rate.denom()),
            caps: caps.to_string(),
            interlaced,
            field_coded,
        }),
        duration_ns: info.duration().map(gst::ClockTime::nseconds),
    })
}

/// Whether the first pictures of the H.264 or H.265 elementary stream at `path` are coded
/// as separate fields, read as `vplstamp` reads them at run time (the same parsers), so that
/// `check` refuses what the run would. A stream that turns to fields after its first
/// [`FIELD_SCAN_PICTURES`] pictures, or its first [`FIELD_SCAN_BYTES`], is found at run time.
fn field_coded(path: &Path, codec: &str) -> bool {
    use std::io::Read;
    let mut data = Vec::new();
    let read = std::fs::File::open(path)
        .and_then(|file| file.take(FIELD_SCAN_BYTES).read_to_end(&mut data));
    if read.is_err() {
        return false;
    }
    let mut nals = byte_stream_nals(&data);
    if data.len() as u64 == FIELD_SCAN_BYTES {
        // Cut where the read ended.
        nals.pop();
    }
    first_pictures_are_fields(codec, &nals)
}

/// Whether one of the first pictures of these NAL units is a field `vplstamp` refuses.
fn first_pictures_are_fields(codec: &str, nals: &[&[u8]]) -> bool {
    let (mut avc, mut hevc) = (h264::Pocs::default(), h265::Pocs::default());
    let mut is_field = |nal: &[u8]| match codec {
        "h264" => avc
            .nal(nal)
            .map(|p| matches!(p, Err(h264::Unsupported::Fields))),
        "h265" => hevc
            .nal(nal)
            .map(|p| matches!(p, Err(h265::Unsupported::Fields))),
        _ => None,
    };
    nals.iter()
        .filter_map(|nal| is_field(nal))
        .take(FIELD_SCAN_PICTURES)
        .any(|field| field)
}

/// How long [`probe_stream`] waits for a stream's type unless told otherwise.
pub const STREAM_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Probes a stream a pool is asked to admit: a file through the discoverer (as
/// [`probe_media`]), an RTSP stream by connecting to it (DESCRIBE, SETUP) and parsing its
/// first key frame, whose caps give its codec, size and rate. Gives up after `timeout`.
/// The error is one line that says why, for a diagnostic naming the stream's URL.
pub fn probe_stream(
    source: &vpl_compiler::pool::StreamSource,
    timeout: std::time::Duration,
) -> Result<MediaFacts, String> {
    use vpl_compiler::pool::StreamSource;
    match source {
        StreamSource::File { path, .. } => probe_media(path).map_err(|e| match e {
            FactError::NotFound => "no such file".to_string(),
            FactError::Unreadable(why) | FactError::Invalid(why) | FactError::Unavailable(why) => {
                why
            }
        }),
        StreamSource::Rtsp {
            url,
            latency_ns,
            tcp,
            ..
        } => probe_rtsp(url, *latency_ns, *tcp, timeout),
    }
}

/// The facts of the RTSP stream at `url`, from its first parsed key frame.
fn probe_rtsp(
    url: &str,
    latency_ns: i64,
    tcp: bool,
    timeout: std::time::Duration,
) -> Result<MediaFacts, String> {
    use gstreamer_app as gst_app;
    init().map_err(|e| format!("{e:?}"))?;
    crate::elements::register().map_err(|e| e.to_string())?;
    let make = |factory: &str| {
        gst::ElementFactory::make(factory)
            .build()
            .map_err(|_| format!("GStreamer has no `{factory}` here"))
    };
    let pipeline = gst::Pipeline::new();
    let source = make("vplrtspsrc")?;
    source.set_property("location", url);
    source.set_property("reconnect", 0u64);
    source.set_property(
        "latency",
        u32::try_from(latency_ns.max(0) / 1_000_000).unwrap_or(u32::MAX),
    );
    source.set_property("protocols", if tcp { "tcp" } else { "udp" });
    let parse = make("parsebin")?;
    let appsink = gst_app::AppSink::builder()
        .sync(false)
        .max_buffers(1)
        .build();
    pipeline
        .add_many([&source, &parse, appsink.upcast_ref()])
        .map_err(|e| e.to_string())?;
    source.link(&parse).map_err(|e| e.to_string())?;
    let sink = appsink.clone();
    parse.connect_pad_added(move |_, pad| {
        if let Some(sinkpad) = sink.static_pad("sink")
            && !sinkpad.is_linked()
        {
            let _ = pad.link(&sinkpad);
        }
    });
    let outcome = first_caps(&pipeline, &appsink, timeout);
    let _ = pipeline.set_state(gst::State::Null);
    let caps = outcome?;
    let s = caps
        .structure(0)
        .ok_or_else(|| "the stream's frames have empty caps".to_string())?;
    let (format, raw) = video_format(s);
    let int = |field: &str| s.get::<i32>(field).ok().and_then(|n| u32::try_from(n).ok());
    let rate = s
        .get::<gst::Fraction>("framerate")
        .ok()
        .and_then(|r| reduced(r.numer(), r.denom()));
    Ok(MediaFacts {
        container: None,
        video: Some(VideoFacts {
            format,
            raw,
            width: int("width").and_then(nonzero),
            height: int("height").and_then(nonzero),
            rate,
            caps: caps.to_string(),
            // Fields are found in a file's first pictures; a camera's are not read here.
            ..VideoFacts::default()
        }),
        duration_ns: None,
    })
}

/// The caps of the first frame `appsink` gets once `pipeline` plays, within `timeout`.
fn first_caps(
    pipeline: &gst::Pipeline,
    appsink: &gstreamer_app::AppSink,
    timeout: std::time::Duration,
) -> Result<gst::Caps, String> {
    let deadline = std::time::Instant::now() + timeout;
    let bus = pipeline.bus().ok_or("the probe's pipeline has no bus")?;
    pipeline
        .set_state(gst::State::Playing)
        .map_err(|_| "the stream cannot be opened".to_string())?;
    loop {
        if let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error, gst::MessageType::Eos]) {
            return Err(match msg.view() {
                gst::MessageView::Error(e) => e.error().to_string(),
                _ => "the stream ended before its first frame".into(),
            });
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(format!(
                "no frame within {} s",
                timeout.as_secs_f64().to_string().trim_end_matches(".0")
            ));
        }
        let wait = gst::ClockTime::from_mseconds(left.as_millis().min(100) as u64);
        if let Some(caps) = appsink.try_pull_sample(wait).and_then(|s| s.caps_owned()) {
            return Ok(caps);
        }
    }
}

/// Initialises GStreamer the first time; later calls return the first call's outcome.
fn init() -> Result<(), FactError> {
    static INIT: OnceLock<Result<(), String>> = OnceLock::new();
    INIT.get_or_init(|| gst::init().map_err(|e| format!("GStreamer cannot start: {e}")))
        .clone()
        .map_err(FactError::Unavailable)
}

fn io_error(e: io::Error) -> FactError {
    match e.kind() {
        io::ErrorKind::NotFound => FactError::NotFound,
        _ => FactError::Unreadable(e.to_string()),
    }
}

/// vpl's short name for a container's caps.
fn container_name(s: &gst::StructureRef) -> String {
    match s.name().as_str() {
        "video/quicktime" if s.get::<&str>("variant") == Ok("apple") => "mov",
        other => media::container_of_caps(other).unwrap_or(other),
    }
    .to_string()
}

/// vpl's name for a video stream's caps, and whether the video is raw. Raw video is named by
/// its pixel format (`I420` → `i420`).
fn video_format(s: &gst::StructureRef) -> (String, bool) {
    let version = |field: &str| s.get::<i32>(field).ok();
    let name = match s.name().as_str() {
        "video/x-raw" => {
            let format = s
                .get::<&str>("format")
                .map_or("video/x-raw".into(), str::to_lowercase);
            return (format, true);
        }
        other => media::codec_of_caps(other, version).unwrap_or(other),
    };
    (name.to_string(), false)
}

fn nonzero(n: u32) -> Option<u32> {
    (n > 0).then_some(n)
}

/// `num/den` in lowest terms; `None` for 0/1 (variable or unknown rate) or a nonsense fraction.
fn reduced(num: i32, den: i32) -> Option<(u64, u64)> {
    let (num, den) = (u64::try_from(num).ok()?, u64::try_from(den).ok()?);
    if num == 0 || den == 0 {
        return None;
    }
    let (mut a, mut b) = (num, den);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    Some((num / a, den / a))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn caps(text: &str) -> gst::Caps {
        init().expect("GStreamer initialises");
        gst::Caps::from_str(text).expect("valid caps")
    }

    #[test]
    fn video_formats_get_vpl_names() {
        let cases = [
            ("video/x-h264, stream-format=avc", "h264", false),
            ("video/x-h265", "h265", false),
            ("video/x-vp8", "vp8", false),
            ("video/x-vp9", "vp9", false),
            ("video/x-av1", "av1", false),
            ("video/mpeg, mpegversion=1", "mpeg2", false),
            ("video/mpeg, mpegversion=2", "mpeg2", false),
            ("video/mpeg, mpegversion=4", "mpeg4", false),
            ("video/x-msmpeg, msmpegversion=43", "msmpeg4", false),
            ("video/x-divx, divxversion=3", "msmpeg4", false),
            ("video/x-divx, divxversion=5", "mpeg4", false),
            ("video/x-xvid", "mpeg4", false),
            ("image/jpeg", "jpeg", false),
            ("video/x-theora", "theora", false),
            ("video/x-wmv, wmvversion=3", "video/x-wmv", false),
            ("video/x-raw, format=I420", "i420", true),
            ("video/x-raw, format=NV12", "nv12", true),
            ("video/x-raw, format=BGRx", "bgrx", true),
            ("video/x-raw, format=GRAY8", "gray8", true),
            ("video/x-raw", "video/x-raw", true),
        ];
        for (text, name, raw) in cases {
            let c = caps(text);
            let s = c.structure(0).expect("one structure");
            assert_eq!(video_format(s), (name.to_string(), raw), "{text}");
        }
    }

    #[test]
    fn containers_get_short_names() {
        let cases = [
            ("video/quicktime, variant=iso", "mp4"),
            ("video/quicktime", "mp4"),
            ("video/quicktime, variant=apple", "mov"),
            ("video/x-matroska", "matroska"),
            ("video/webm", "webm"),
            ("video/x-msvideo", "avi"),
            ("video/mpegts, systemstream=true", "mpegts"),
            ("application/ogg", "ogg"),
            ("video/x-flv", "video/x-flv"),
        ];
        for (text, name) in cases {
            let c = caps(text);
            assert_eq!(
                container_name(c.structure(0).expect("one structure")),
                name,
                "{text}"
            );
        }
    }

    #[test]
    fn rates_are_reduced_and_unknown_is_none() {
        assert_eq!(reduced(30, 1), Some((30, 1)));
        assert_eq!(reduced(50, 2), Some((25, 1)));
        assert_eq!(reduced(60000, 2002), Some((30000, 1001)));
        assert_eq!(reduced(0, 1), None);
        assert_eq!(reduced(25, 0), None);
        assert_eq!(reduced(-1, 1), None);
    }
}
