//! `probe_media` on the fixtures `scripts/make_media.sh` makes (run `scripts/setup.sh`
//! first) and on `assets/media/vtest.avi`.

use std::path::{Path, PathBuf};

use vpl_compiler::facts::{FactError, MediaFacts, VideoFacts};
use vpl_runtime::probe::probe_media;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/media")
        .join(name)
}

fn probe(path: PathBuf) -> MediaFacts {
    match probe_media(&path) {
        Ok(facts) => facts,
        Err(e) => panic!(
            "probing {} failed: {e:?} (run scripts/setup.sh?)",
            path.display()
        ),
    }
}

/// What a probe must find: container, format, raw, width, height, rate.
struct Expect {
    container: &'static str,
    format: &'static str,
    raw: bool,
    size: (u32, u32),
    rate: (u64, u64),
}

fn check(path: PathBuf, want: Expect) -> MediaFacts {
    let facts = probe(path.clone());
    let what = path.display();
    assert_eq!(
        facts.container.as_deref(),
        Some(want.container),
        "{what}: container"
    );
    let video: &VideoFacts = facts.video.as_ref().expect("a video stream");
    assert_eq!(
        video.format, want.format,
        "{what}: format (caps {})",
        video.caps
    );
    assert_eq!(video.raw, want.raw, "{what}: raw");
    assert_eq!(
        (video.width, video.height),
        (Some(want.size.0), Some(want.size.1)),
        "{what}: size"
    );
    assert_eq!(video.rate, Some(want.rate), "{what}: rate");
    facts
}

/// Checks a fixture of 20 frames: the duration says every frame made it into the file.
fn check_fixture(name: &str, want: Expect) {
    let (rate, width) = (want.rate, want.size.0);
    let facts = check(fixture(name), want);
    let expected = 20 * 1_000_000_000 * rate.1 / rate.0;
    let duration = facts.duration_ns.expect("a duration");
    assert!(
        duration.abs_diff(expected) < 1_000_000,
        "{name}: duration {duration} ns, expected {expected}"
    );
    let caps = &facts.video.as_ref().expect("video").caps;
    assert!(
        caps.contains(&format!("width=(int){width}")),
        "{name}: caps {caps}"
    );
}

#[test]
fn h264_in_mp4() {
    check_fixture(
        "h264_640x360_25fps.mp4",
        Expect {
            container: "mp4",
            format: "h264",
            raw: false,
            size: (640, 360),
            rate: (25, 1),
        },
    );
}

#[test]
fn h264_in_matroska() {
    check_fixture(
        "h264_320x240_30fps.mkv",
        Expect {
            container: "matroska",
            format: "h264",
            raw: false,
            size: (320, 240),
            rate: (30, 1),
        },
    );
}

#[test]
fn vp8_in_webm() {
    check_fixture(
        "vp8_320x240_30fps.webm",
        Expect {
            container: "webm",
            format: "vp8",
            raw: false,
            size: (320, 240),
            rate: (30, 1),
        },
    );
}

#[test]
fn mjpeg_in_avi() {
    check_fixture(
        "mjpeg_320x240_15fps.avi",
        Expect {
            container: "avi",
            format: "jpeg",
            raw: false,
            size: (320, 240),
            rate: (15, 1),
        },
    );
}

#[test]
fn odd_size() {
    check_fixture(
        "mjpeg_odd_321x241_25fps.mkv",
        Expect {
            container: "matroska",
            format: "jpeg",
            raw: false,
            size: (321, 241),
            rate: (25, 1),
        },
    );
}

#[test]
fn raw_video_is_named_by_pixel_format() {
    check_fixture(
        "raw_i420_160x120_10fps.mkv",
        Expect {
            container: "matroska",
            format: "i420",
            raw: true,
            size: (160, 120),
            rate: (10, 1),
        },
    );
}

/// The real test video: MS-MPEG-4 v3 in AVI, 795 frames at 10 fps. GStreamer's avidemux
/// calls its DIV3 fourcc `video/x-divx, divxversion=3`.
#[test]
fn vtest_avi() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/media/vtest.avi");
    let facts = check(
        path,
        Expect {
            container: "avi",
            format: "msmpeg4",
            raw: false,
            size: (768, 576),
            rate: (10, 1),
        },
    );
    let duration = facts.duration_ns.expect("a duration");
    assert!(
        duration.abs_diff(79_500_000_000) < 1_000_000,
        "duration {duration} ns"
    );
}

/// An elementary stream has no container: lowering parses it instead of demuxing it.
#[test]
fn elementary_streams_have_no_container() {
    for (name, codec) in [
        ("h264_320x240_25fps.h264", "h264"),
        ("h265_320x240_25fps.265", "h265"),
    ] {
        let facts = probe(fixture(name));
        assert_eq!(facts.container, None, "{name}");
        let video = facts.video.expect("a video stream");
        assert_eq!(video.format, codec, "{name}");
        assert!(!video.raw, "{name}");
        assert_eq!(
            (video.width, video.height),
            (Some(320), Some(240)),
            "{name}"
        );
    }
}

#[test]
fn missing_file_is_not_found() {
    assert_eq!(
        probe_media(&fixture("no_such_file.mp4")),
        Err(FactError::NotFound)
    );
}

#[test]
fn directory_is_unreadable() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/media");
    assert!(matches!(probe_media(&dir), Err(FactError::Unreadable(_))));
}

#[test]
fn device_is_unreadable() {
    assert_eq!(
        probe_media(Path::new("/dev/null")),
        Err(FactError::Unreadable("it is not a regular file".into()))
    );
}

#[test]
fn truncated_file_is_invalid() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let bytes = std::fs::read(fixture("h264_640x360_25fps.mp4")).expect("read fixture");
    for (name, len) in [("empty.mp4", 0), ("truncated.mp4", 3000)] {
        let path = dir.join(name);
        std::fs::write(&path, &bytes[..len]).expect("write truncated copy");
        assert!(
            matches!(probe_media(&path), Err(FactError::Invalid(_))),
            "{name}"
        );
    }
}

#[test]
fn text_file_is_invalid() {
    assert_eq!(
        probe_media(&fixture("not_media.mp4")),
        Err(FactError::Invalid(
            "not a media file GStreamer can read".into()
        ))
    );
}

#[test]
fn audio_only_is_invalid() {
    assert_eq!(
        probe_media(&fixture("audio_only.ogg")),
        Err(FactError::Invalid("no video stream in this file".into()))
    );
}

/// The URI is escaped properly: a space and a non-ASCII letter in the path are fine, and so is
/// a relative path.
#[test]
fn path_with_space_and_accent() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("probe dir é");
    std::fs::create_dir_all(&dir).expect("make temp dir");
    let copy = dir.join("vidéo #1 100%.mkv");
    std::fs::copy(fixture("h264_320x240_30fps.mkv"), &copy).expect("copy fixture");
    check(
        copy,
        Expect {
            container: "matroska",
            format: "h264",
            raw: false,
            size: (320, 240),
            rate: (30, 1),
        },
    );
}

#[test]
fn relative_path() {
    // Tests run in the package directory.
    check(
        PathBuf::from("../tests/fixtures/media/vp8_320x240_30fps.webm"),
        Expect {
            container: "webm",
            format: "vp8",
            raw: false,
            size: (320, 240),
            rate: (30, 1),
        },
    );
}
