//! `vplstamp` on real H.265 streams with B-frames, made by x265 in a temporary directory:
//! the presentation times it gives each access unit are the encoder's own, as `qtdemux`
//! reads them back from the same stream muxed by `mp4mux` straight from the encoder.

use std::path::{Path, PathBuf};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use gstreamer_check::Harness;
use vpl_runtime::elements::stamp::nal::byte_stream_nals;

const FRAME_NS: u64 = 40_000_000;

fn init() {
    gst::init().expect("GStreamer");
    vpl_runtime::elements::register().expect("vpl elements register");
}

/// A fresh temporary directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vpl-stamp-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

/// Plays a gst-launch description to its end; the error on the bus fails the test.
fn run(description: &str) -> gst::Pipeline {
    let pipeline = gst::parse::launch(description)
        .expect("valid pipeline description")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
    pipeline.set_state(gst::State::Playing).expect("plays");
    let bus = pipeline.bus().expect("bus");
    for msg in bus.iter_timed(gst::ClockTime::from_seconds(120)) {
        match msg.view() {
            gst::MessageView::Eos(_) => return pipeline,
            gst::MessageView::Error(e) => {
                let _ = pipeline.set_state(gst::State::Null);
                panic!("{description}: {} ({:?})", e.error(), e.debug());
            }
            _ => {}
        }
    }
    panic!("{description}: no end of stream within two minutes");
}

fn stop(pipeline: gst::Pipeline) {
    pipeline.set_state(gst::State::Null).expect("stops");
}

/// Encodes `frames` 25 fps frames with x265 `options`: the raw stream (`.265`), and the
/// same stream muxed into `.mp4` with the encoder's times.
fn encode(dir: &Path, options: &str, frames: u32) -> (PathBuf, PathBuf) {
    let stream = dir.join("stream.265");
    let reference = dir.join("reference.mp4");
    stop(run(&format!(
        "videotestsrc num-buffers={frames} pattern=ball \
         ! video/x-raw,format=I420,width=64,height=64,framerate=25/1 \
         ! x265enc speed-preset=ultrafast option-string=\"{options}\" \
         ! h265parse ! video/x-h265,stream-format=byte-stream,alignment=au ! tee name=t \
         t. ! queue ! filesink location=\"{}\" \
         t. ! queue ! h265parse ! mp4mux ! filesink location=\"{}\"",
        stream.display(),
        reference.display()
    )));
    (stream, reference)
}

/// The decoding and presentation times, in nanoseconds, of the buffers that reach the
/// appsink `out` of `description`, in the order they came.
fn times(description: &str) -> Vec<(u64, u64)> {
    let pipeline = run(description);
    let sink = pipeline
        .by_name("out")
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .expect("an appsink named out");
    let times = std::iter::from_fn(|| sink.try_pull_sample(gst::ClockTime::ZERO))
        .map(|s| {
            let b = s.buffer().expect("a buffer");
            let dts = b.dts().expect("a decoding time").nseconds();
            let pts = b.pts().expect("a presentation time").nseconds();
            (dts, pts)
        })
        .collect();
    stop(pipeline);
    times
}

const APPSINK: &str = "appsink name=out sync=false wait-on-eos=false";

/// What `qtdemux` reads of an `.mp4`.
fn demuxed(mp4: &Path) -> Vec<(u64, u64)> {
    times(&format!(
        "filesrc location=\"{}\" ! qtdemux ! {APPSINK}",
        mp4.display()
    ))
}

/// The NAL unit type of the first picture (slice segment) in an access unit.
fn picture_type(au: &[u8]) -> Option<u8> {
    byte_stream_nals(au)
        .into_iter()
        .filter_map(|nal| nal.first().map(|b| (b >> 1) & 0x3f))
        .find(|&kind| kind <= 21)
}

/// The NAL unit types of a raw stream's pictures, in decoding order.
fn picture_types(stream: &Path) -> Vec<u8> {
    let data = std::fs::read(stream).expect("the stream");
    let mut types = Vec::new();
    for nal in byte_stream_nals(&data) {
        let Some(&b) = nal.first() else { continue };
        let kind = (b >> 1) & 0x3f;
        // The first slice segment of a picture has `first_slice_segment_in_pic_flag` set.
        if kind <= 21 && nal.get(2).is_some_and(|b| b & 0x80 != 0) {
            types.push(kind);
        }
    }
    types
}

/// `vplstamp`'s times for the raw stream are the encoder's, frame for frame; shown in
/// order of their times, the frames are one frame apart, none twice; none is shown before
/// it is decoded. Muxed by `mp4mux` after `vplstamp` (NAL units with length prefixes and
/// parameter sets in `codec_data`), the stream reads back with the same times.
fn assert_encoders_times(dir: &Path, stream: &Path, reference: &Path, frames: usize) {
    let expected = demuxed(reference);
    assert_eq!(expected.len(), frames, "the reference holds every frame");
    let stamped = times(&format!(
        "filesrc location=\"{}\" ! h265parse ! vplstamp ! {APPSINK}",
        stream.display()
    ));
    assert_eq!(stamped.len(), frames, "every access unit comes out once");
    let pts: Vec<u64> = stamped.iter().map(|&(_, pts)| pts).collect();
    let want: Vec<u64> = expected.iter().map(|&(_, pts)| pts).collect();
    assert_eq!(pts, want, "presentation times, in decoding order");
    let mut shown = pts.clone();
    shown.sort_unstable();
    for pair in shown.windows(2) {
        assert_eq!(pair[1] - pair[0], FRAME_NS, "one frame apart: {shown:?}");
    }
    for &(dts, pts) in &stamped {
        assert!(pts >= dts, "shown at {pts} before it is decoded at {dts}");
    }

    let copy = dir.join("copy.mp4");
    stop(run(&format!(
        "filesrc location=\"{}\" ! h265parse ! vplstamp ! mp4mux ! filesink location=\"{}\"",
        stream.display(),
        copy.display()
    )));
    let read: Vec<u64> = demuxed(&copy).iter().map(|&(_, pts)| pts).collect();
    assert_eq!(read, want, "the copy's times, read back by qtdemux");
}

/// Open GOPs: a CRA picture every 24 frames with RASL pictures shown before it, x265's
/// B-pyramid, and order counts past the 8 bits of their least significant part (300
/// frames, counted on across the CRA pictures).
#[test]
fn open_gop_cra_and_rasl_pictures_get_the_encoders_times() {
    init();
    let dir = temp_dir("open-gop");
    let frames = 300;
    let (stream, reference) = encode(
        &dir,
        "bframes=3:b-pyramid=1:b-adapt=0:keyint=24:min-keyint=24",
        frames,
    );
    let types = picture_types(&stream);
    assert_eq!(types.len(), frames as usize);
    assert!(types.contains(&21), "CRA pictures: {types:?}");
    assert!(types.contains(&8) || types.contains(&9), "RASL: {types:?}");
    assert_encoders_times(&dir, &stream, &reference, frames as usize);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Closed GOPs: an IDR picture every 12 frames, each with two RADL pictures that are
/// decoded after it and shown before it, so the IDR picture is shown two frames later
/// than its order count alone says.
#[test]
fn leading_pictures_of_an_idr_get_the_encoders_times() {
    init();
    let dir = temp_dir("radl");
    let frames = 60;
    let (stream, reference) = encode(
        &dir,
        "bframes=3:b-pyramid=1:b-adapt=0:keyint=12:min-keyint=12:open-gop=0:radl=2",
        frames,
    );
    let types = picture_types(&stream);
    assert!(types.contains(&19), "IDR_W_RADL pictures: {types:?}");
    assert!(types.contains(&6) || types.contains(&7), "RADL: {types:?}");
    assert_encoders_times(&dir, &stream, &reference, frames as usize);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An IDR picture that may have leading pictures is held back until the next picture
/// that is not one of them: where the stream ends first, the end of stream lets it and
/// its leading pictures out, with the encoder's times.
#[test]
fn held_pictures_come_out_at_the_end_of_the_stream() {
    init();
    let dir = temp_dir("held");
    let (stream, reference) = encode(
        &dir,
        "bframes=3:b-pyramid=1:b-adapt=0:keyint=12:min-keyint=12:open-gop=0:radl=2",
        40,
    );
    let expected: Vec<u64> = demuxed(&reference).iter().map(|&(_, p)| p).collect();
    // The stream's access units, as h265parse cuts them.
    let pipeline = run(&format!(
        "filesrc location=\"{}\" ! h265parse \
         ! video/x-h265,stream-format=byte-stream,alignment=au ! {APPSINK}",
        stream.display()
    ));
    let sink = pipeline
        .by_name("out")
        .and_then(|e| e.downcast::<gst_app::AppSink>().ok())
        .expect("appsink");
    let samples: Vec<gst::Sample> =
        std::iter::from_fn(|| sink.try_pull_sample(gst::ClockTime::ZERO)).collect();
    stop(pipeline);
    let caps = samples[0].caps().expect("caps").to_owned();
    let units: Vec<gst::Buffer> = samples
        .iter()
        .map(|s| s.buffer_owned().expect("buffer"))
        .collect();
    let kinds: Vec<Option<u8>> = units
        .iter()
        .map(|b| picture_type(&b.map_readable().expect("readable")))
        .collect();
    // Cut after the last IDR picture's leading pictures.
    let idr = kinds
        .iter()
        .rposition(|&k| k == Some(19))
        .expect("an IDR_W_RADL picture");
    let end = idr
        + 1
        + kinds[idr + 1..]
            .iter()
            .take_while(|k| matches!(k, Some(6..=9)))
            .count();
    assert!(
        end > idr + 1,
        "the IDR picture has leading pictures: {kinds:?}"
    );

    let mut h = Harness::new("vplstamp");
    h.set_src_caps(caps);
    let mut out = Vec::new();
    for unit in &units[..end] {
        assert_eq!(h.push(unit.clone()), Ok(gst::FlowSuccess::Ok));
        while let Some(b) = h.try_pull() {
            out.push(b);
        }
    }
    assert_eq!(
        out.len(),
        idr,
        "the IDR picture and its leading pictures are held"
    );
    assert!(h.push_event(gst::event::Eos::new()));
    while let Some(b) = h.try_pull() {
        out.push(b);
    }
    let pts: Vec<u64> = out
        .iter()
        .map(|b| b.pts().expect("a presentation time").nseconds())
        .collect();
    assert_eq!(
        pts,
        expected[..end],
        "in decoding order, the encoder's times"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Field-coded H.265 (each picture one field, x265's `interlace`) is refused with a message
/// that says what to do, not given times that would be wrong.
#[test]
fn field_coded_streams_are_refused_with_a_message() {
    init();
    let dir = temp_dir("fields");
    let (stream, _) = encode(&dir, "interlace=tff", 10);
    let description = format!(
        "filesrc location=\"{}\" ! h265parse ! vplstamp ! fakesink",
        stream.display()
    );
    let pipeline = gst::parse::launch(&description)
        .expect("valid pipeline description")
        .downcast::<gst::Pipeline>()
        .expect("a pipeline");
    pipeline.set_state(gst::State::Playing).expect("plays");
    let bus = pipeline.bus().expect("bus");
    let error = bus
        .iter_timed(gst::ClockTime::from_seconds(120))
        .find_map(|msg| match msg.view() {
            // The element's words are the error's details.
            gst::MessageView::Error(e) => Some(format!("{}: {:?}", e.error(), e.debug())),
            gst::MessageView::Eos(_) => Some(String::new()),
            _ => None,
        })
        .expect("an error or the end of the stream");
    stop(pipeline);
    assert!(
        error.contains("separate fields (interlaced)") && error.contains("encode(h265)"),
        "{error:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
