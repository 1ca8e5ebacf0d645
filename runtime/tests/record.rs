//! `vplrecord` on real encoded video: x264enc's frames, a "person" put in the metadata of
//! chosen frames, clips read back. Each trigger gives one playable file (the discoverer
//! reads its duration) whose first frame is a key frame, as long as asked within one GOP;
//! a trigger during a clip extends it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use gstreamer as gst;
use gstreamer::prelude::*;
use gstreamer_app as gst_app;
use vpl_runtime::meta::{Object, ObjectsData, VplObjectsMeta};

const FPS: u64 = 30;
const GOP: u64 = 15;
const FRAME_NS: u64 = 1_000_000_000 / FPS;

fn person() -> Object {
    Object {
        label: "person".into(),
        confidence: 0.9,
        w: 10.0,
        h: 20.0,
        ..Object::default()
    }
}

/// Runs `frames` frames of 30 fps video, a key frame every 15, into `vplrecord` with the
/// objects `people(frame)` on each frame; returns the clips written, in order.
fn record(
    name: &str,
    frames: u64,
    (before_ns, after_ns): (u64, u64),
    count: u32,
    people: fn(u64) -> usize,
) -> Vec<PathBuf> {
    vpl_runtime::elements::register().expect("vpl elements register");
    let dir = std::env::temp_dir().join(format!("vpl-record-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let pipeline = gst::parse::launch(&format!(
        "videotestsrc num-buffers={frames} ! video/x-raw,width=160,height=120,framerate={FPS}/1 \
         ! x264enc key-int-max={GOP} tune=zerolatency ! h264parse config-interval=-1 name=parse \
         ! vplrecord name=rec location={}/clip_{{n}}.mp4 when=person count={count} before={before_ns} after={after_ns}",
        dir.display()
    ))
    .expect("pipeline")
    .downcast::<gst::Pipeline>()
    .expect("a pipeline");
    let parse = pipeline.by_name("parse").expect("parse");
    let n = Arc::new(AtomicU64::new(0));
    parse.static_pad("src").expect("src pad").add_probe(
        gst::PadProbeType::BUFFER,
        move |_, info| {
            let i = n.fetch_add(1, Ordering::SeqCst);
            if let Some(buffer) = info.buffer_mut() {
                let objects = (0..people(i)).map(|_| person()).collect();
                VplObjectsMeta::set(
                    buffer.make_mut(),
                    ObjectsData {
                        frame: i,
                        objects,
                        ..ObjectsData::default()
                    },
                );
            }
            gst::PadProbeReturn::Ok
        },
    );
    pipeline.set_state(gst::State::Playing).expect("plays");
    let bus = pipeline.bus().expect("bus");
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("the run ends");
    if let gst::MessageView::Error(e) = msg.view() {
        panic!("{} ({:?})", e.error(), e.debug());
    }
    pipeline.set_state(gst::State::Null).expect("stops");
    let mut clips: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    clips.sort_by_key(|p| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.strip_prefix("clip_"))
            .and_then(|n| n.parse::<u32>().ok())
    });
    clips
}

/// The clip's duration as the discoverer reads it, in frames.
fn frames_of(clip: &Path) -> f64 {
    let facts = vpl_runtime::probe::probe_media(clip).expect("a playable clip");
    facts.duration_ns.expect("a duration") as f64 / FRAME_NS as f64
}

/// Whether the clip's first frame, as demuxed, is a key frame.
fn starts_with_key_frame(clip: &Path) -> bool {
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={} ! qtdemux ! appsink name=out sync=false",
        clip.display()
    ))
    .expect("pipeline")
    .downcast::<gst::Pipeline>()
    .expect("a pipeline");
    let sink = pipeline
        .by_name("out")
        .expect("appsink")
        .downcast::<gst_app::AppSink>()
        .expect("an appsink");
    pipeline.set_state(gst::State::Playing).expect("plays");
    let sample = sink
        .try_pull_sample(gst::ClockTime::from_seconds(10))
        .expect("a first frame");
    let key = !sample
        .buffer()
        .expect("a buffer")
        .flags()
        .contains(gst::BufferFlags::DELTA_UNIT);
    pipeline.set_state(gst::State::Null).expect("stops");
    key
}

#[test]
fn each_trigger_gives_one_playable_clip_with_its_pre_roll() {
    // 1 s before, 1 s after; people on frames 90–94 (3.0–3.13 s) and 200 (6.67 s).
    let clips = record("two", 300, (1_000_000_000, 1_000_000_000), 1, |i| {
        usize::from((90..95).contains(&i) || i == 200)
    });
    assert_eq!(clips.len(), 2, "{clips:?}");
    // Asked for: 1 s before the first frame with people, to 1 s after the last.
    let asked = [30.0 + 5.0 + 30.0, 30.0 + 1.0 + 30.0];
    for (clip, asked) in clips.iter().zip(asked) {
        let got = frames_of(clip);
        // The clip starts at the key frame at or before the pre-roll: up to one GOP more.
        assert!(
            got >= asked - 1.0 && got <= asked + GOP as f64 + 1.0,
            "{}: {got} frames for {asked} asked",
            clip.display()
        );
        assert!(starts_with_key_frame(clip), "{}", clip.display());
    }
}

#[test]
fn a_trigger_during_a_clip_extends_it() {
    // People on frame 60 and again on 80 (within the 1 s after 60): one clip, to 80 + 1 s.
    let clips = record("extend", 200, (500_000_000, 1_000_000_000), 1, |i| {
        usize::from(i == 60 || i == 80)
    });
    assert_eq!(clips.len(), 1, "{clips:?}");
    let got = frames_of(&clips[0]);
    let asked = 15.0 + 20.0 + 30.0;
    assert!(
        got >= asked - 1.0 && got <= asked + GOP as f64 + 1.0,
        "{got} frames for {asked} asked"
    );
    assert!(starts_with_key_frame(&clips[0]));
}

#[test]
fn no_trigger_no_clip_and_count_is_a_minimum() {
    // One person a frame, two needed: nothing.
    let clips = record("none", 90, (500_000_000, 500_000_000), 2, |_| 1);
    assert!(clips.is_empty(), "{clips:?}");
    let clips = record("two-people", 90, (500_000_000, 500_000_000), 2, |i| {
        if i == 45 { 2 } else { 1 }
    });
    assert_eq!(clips.len(), 1, "{clips:?}");
}

/// Found by a hostile test (issue 19): two `record` sinks that trigger on the same frame
/// could pick the same clip name, and one clip overwrote the other. Three recorders behind
/// one tee, with the same location, trigger on the same frames twice: six clips, each
/// playable and as long as asked.
#[test]
fn recorders_triggered_on_the_same_frames_write_every_clip() {
    vpl_runtime::elements::register().expect("vpl elements register");
    let dir = std::env::temp_dir().join(format!("vpl-record-{}-same", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let recorders = 3;
    let branches: String = (0..recorders)
        .map(|_| {
            format!(
                " t. ! queue ! vplrecord location={}/{{stream}}_{{time}}.mp4 when=person \
                 before=500000000 after=500000000",
                dir.display()
            )
        })
        .collect();
    let pipeline = gst::parse::launch(&format!(
        "videotestsrc num-buffers=150 ! video/x-raw,width=160,height=120,framerate={FPS}/1 \
         ! x264enc key-int-max={GOP} tune=zerolatency ! h264parse config-interval=-1 name=parse \
         ! tee name=t{branches}"
    ))
    .expect("pipeline")
    .downcast::<gst::Pipeline>()
    .expect("a pipeline");
    let parse = pipeline.by_name("parse").expect("parse");
    let n = Arc::new(AtomicU64::new(0));
    parse.static_pad("src").expect("src pad").add_probe(
        gst::PadProbeType::BUFFER,
        move |_, info| {
            let i = n.fetch_add(1, Ordering::SeqCst);
            if let Some(buffer) = info.buffer_mut() {
                let people = usize::from(i == 45 || i == 120);
                VplObjectsMeta::set(
                    buffer.make_mut(),
                    ObjectsData {
                        frame: i,
                        objects: (0..people).map(|_| person()).collect(),
                        ..ObjectsData::default()
                    },
                );
            }
            gst::PadProbeReturn::Ok
        },
    );
    pipeline.set_state(gst::State::Playing).expect("plays");
    let bus = pipeline.bus().expect("bus");
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("the run ends");
    if let gst::MessageView::Error(e) = msg.view() {
        panic!("{} ({:?})", e.error(), e.debug());
    }
    pipeline.set_state(gst::State::Null).expect("stops");
    let clips: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert_eq!(clips.len(), 2 * recorders, "{clips:?}");
    // 0.5 s before and after one frame: 31 frames asked, up to a GOP more for the key frame.
    for clip in &clips {
        let got = frames_of(clip);
        assert!(
            (30.0..=31.0 + GOP as f64 + 1.0).contains(&got),
            "{}: {got} frames",
            clip.display()
        );
        assert!(starts_with_key_frame(clip), "{}", clip.display());
    }
}
