//! `hls(dir, segment, playlist)` end to end with the real `vplc` binary: a finished
//! playlist of playable segments whose durations add up to the input's, a key frame at the
//! start of each segment and nowhere else, a playlist per stream with `{stream}`, and a
//! playlist finished by Ctrl-C with its last segment listed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{run_ok, temp_dir};

/// Writes `body` as the pipeline of a program in a fresh directory and runs it; the
/// directory.
fn run(name: &str, body: &str) -> PathBuf {
    let dir = temp_dir(name);
    let program = dir.join("p.vpl");
    std::fs::write(&program, format!("pipeline p {{\n{body}\n}}\n")).expect("write");
    run_ok(&program, &[]);
    dir
}

/// A playlist's segments: each file name with its `#EXTINF` duration in seconds; and
/// whether it is finished (`#EXT-X-ENDLIST`).
fn playlist(path: &Path) -> (Vec<(String, f64)>, bool) {
    let text = std::fs::read_to_string(path).expect("the playlist is written");
    assert!(text.starts_with("#EXTM3U"), "{text}");
    let mut segments = Vec::new();
    let mut duration = None;
    for line in text.lines().map(str::trim) {
        if let Some(d) = line.strip_prefix("#EXTINF:") {
            let d = d.split(',').next().unwrap_or_default();
            duration = Some(d.parse::<f64>().expect("an #EXTINF duration"));
        } else if !line.is_empty() && !line.starts_with('#') {
            segments.push((line.to_string(), duration.take().expect("#EXTINF first")));
        }
    }
    (segments, text.contains("#EXT-X-ENDLIST"))
}

/// The duration `gst-discoverer-1.0` finds in a media file, in seconds: the file plays.
/// (tsdemux estimates an MPEG-TS file's duration from its first and last PCRs, scanning
/// chunks of some hundreds of kilobytes: a file much smaller, as a second of a still
/// picture, says 0; the tests' segments are of the SMPTE bars or snow at 4 Mbit/s.)
fn discovered_duration(path: &Path) -> f64 {
    let out = Command::new("gst-discoverer-1.0")
        .arg(path)
        .output()
        .expect("gst-discoverer-1.0 runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}: {text}", path.display());
    assert!(text.contains(": H.264"), "{}: {text}", path.display());
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Duration: "))
        .unwrap_or_else(|| panic!("{}: no duration in {text}", path.display()));
    let parts: Vec<f64> = line
        .split(':')
        .map(|p| p.parse().expect("a number"))
        .collect();
    assert_eq!(parts.len(), 3, "{line}");
    parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

/// The H.264 NAL unit types of an MPEG-TS file's video stream, in the order they are
/// written (decoding order): the payloads of the packets of the PID whose PES stream id
/// is video (0xE0), PES headers removed, split at start codes.
fn nal_types(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).expect("segment");
    assert_eq!(bytes.len() % 188, 0, "whole transport packets");
    let mut video_pid = None;
    let mut es = Vec::new();
    for packet in bytes.chunks(188) {
        assert_eq!(packet[0], 0x47, "sync byte");
        let start = packet[1] & 0x40 != 0;
        let pid = (u16::from(packet[1] & 0x1f) << 8) | u16::from(packet[2]);
        let control = (packet[3] >> 4) & 0x3;
        let mut offset = 4;
        if control & 0x2 != 0 {
            offset += 1 + usize::from(packet[4]);
        }
        if control & 0x1 == 0 || offset >= 188 {
            continue;
        }
        let payload = &packet[offset..];
        if start && payload.starts_with(&[0, 0, 1, 0xe0]) {
            video_pid.get_or_insert(pid);
        }
        if video_pid != Some(pid) {
            continue;
        }
        if start {
            let header = 9 + usize::from(payload[8]);
            es.extend_from_slice(&payload[header..]);
        } else {
            es.extend_from_slice(payload);
        }
    }
    assert!(video_pid.is_some(), "{}: no video PES", path.display());
    es.windows(4)
        .filter(|w| w[0] == 0 && w[1] == 0 && w[2] == 1)
        .map(|w| w[3] & 0x1f)
        .collect()
}

const FRAME_30FPS: f64 = 1.0 / 30.0;

#[test]
fn ten_seconds_make_a_finished_playlist_of_playable_segments() {
    let dir = run(
        "hls-ten",
        "    test(frames: 300, resolution: 320x240, rate: 30fps) | encode(h264) | hls(\"out/live\", segment: 2s, playlist: 10);",
    );
    let live = dir.join("out/live");
    let (segments, finished) = playlist(&live.join("playlist.m3u8"));
    assert!(finished, "the playlist ends with #EXT-X-ENDLIST");
    assert!(segments.len() >= 4, "{segments:?}");
    let mut listed = 0.0;
    let mut played = 0.0;
    for (i, (name, extinf)) in segments.iter().enumerate() {
        let path = live.join(name);
        let duration = discovered_duration(&path);
        // Every segment but the last lasts `segment`, to a frame.
        if i + 1 < segments.len() {
            assert!(
                (extinf - 2.0).abs() <= FRAME_30FPS + 1e-6,
                "{name}: {extinf}"
            );
            assert!((duration - 2.0).abs() <= FRAME_30FPS, "{name}: {duration}");
        }
        listed += extinf;
        played += duration;
    }
    assert!(
        (played - 10.0).abs() <= FRAME_30FPS,
        "the segments play {played} s of 10 s"
    );
    assert!(
        (listed - 10.0).abs() <= FRAME_30FPS + 1e-6,
        "the playlist lists {listed} s of 10 s"
    );
}

#[test]
fn each_segment_starts_with_its_one_key_frame() {
    // 25 fps and 1 s segments: vpl sets the encoder's key-frame interval to 25 frames.
    let dir = run(
        "hls-keys",
        "    test(frames: 125, resolution: 320x240, rate: 25fps) | encode(h264) | hls(\"out/keys\", segment: 1s);",
    );
    let keys = dir.join("out/keys");
    let (segments, finished) = playlist(&keys.join("playlist.m3u8"));
    assert!(finished);
    assert_eq!(segments.len(), 5, "{segments:?}");
    for (name, _) in &segments {
        let types = nal_types(&keys.join(name));
        let first_slice = types
            .iter()
            .position(|t| *t == 1 || *t == 5)
            .expect("a slice");
        assert_eq!(
            types[first_slice], 5,
            "{name} starts with an IDR: {types:?}"
        );
        // Its parameter sets come before it, so a player can start at this segment.
        assert!(
            types[..first_slice].contains(&7) && types[..first_slice].contains(&8),
            "{name}: {types:?}"
        );
        // One key frame a segment: the encoder places them where the segments start.
        let idrs = types.windows(2).filter(|w| w[1] == 5 && w[0] != 5).count()
            + usize::from(types.first() == Some(&5));
        assert_eq!(idrs, 1, "{name}: {types:?}");
    }
}

#[test]
fn a_list_writes_a_playlist_per_stream() {
    let dir = run(
        "hls-list",
        "    [test(frames: 120, resolution: 320x240), test(frames: 60, resolution: 320x240, pattern: snow)]\n        | encode(h264) | hls(\"out/cam_{stream}\", segment: 2s);",
    );
    for (stream, seconds) in [(0, 4.0), (1, 2.0)] {
        let cam = dir.join(format!("out/cam_{stream}"));
        let (segments, finished) = playlist(&cam.join("playlist.m3u8"));
        assert!(finished, "stream {stream}");
        assert_eq!(
            segments.len(),
            seconds as usize / 2,
            "stream {stream}: {segments:?}"
        );
        for (name, _) in &segments {
            assert!(discovered_duration(&cam.join(name)) > 0.0, "{name}");
        }
        let listed: f64 = segments.iter().map(|(_, d)| d).sum();
        assert!(
            (listed - seconds).abs() <= FRAME_30FPS + 1e-6,
            "stream {stream}: {listed} s"
        );
    }
}

#[test]
fn a_playlist_keeps_the_last_segments_listed() {
    let dir = run(
        "hls-window",
        "    test(frames: 240, resolution: 320x240) | encode(h264) | hls(\"out/w\", segment: 1s, playlist: 3);",
    );
    let w = dir.join("out/w");
    let (segments, finished) = playlist(&w.join("playlist.m3u8"));
    assert!(finished);
    let names: Vec<&str> = segments.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["segment00005.ts", "segment00006.ts", "segment00007.ts"]
    );
    // Two more than listed stay on disk for players still reading them; older ones go.
    let mut on_disk: Vec<String> = std::fs::read_dir(&w)
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".ts"))
        .collect();
    on_disk.sort();
    assert_eq!(
        on_disk,
        [
            "segment00003.ts",
            "segment00004.ts",
            "segment00005.ts",
            "segment00006.ts",
            "segment00007.ts"
        ]
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_finishes_the_playlist_with_its_last_segment() {
    let dir = temp_dir("hls-sigint");
    let program = dir.join("live.vpl");
    std::fs::write(
        &program,
        "pipeline p {\n    test(frames: 0, resolution: 320x240) | encode(h264) | hls(\"out/live\", segment: 2s);\n}\n",
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args([
            "run",
            "--quiet",
            "--realtime",
            &program.display().to_string(),
        ])
        .current_dir(&dir)
        .env("VPL_CACHE_DIR", "off")
        .spawn()
        .expect("vplc starts");
    // The playlist is written when the first segment is closed.
    let list = dir.join("out/live/playlist.m3u8");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !list.exists() {
        assert!(Instant::now() < deadline, "no playlist within 60 s");
        if let Some(status) = child.try_wait().expect("wait") {
            panic!("vplc ended early: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(child.wait().expect("vplc ends").code(), Some(130));
    let (segments, finished) = playlist(&list);
    assert!(finished, "an interrupted run finishes its playlist");
    assert!(segments.len() >= 2, "{segments:?}");
    // Every segment written is listed and plays, the one cut short by Ctrl-C too.
    let on_disk = std::fs::read_dir(dir.join("out/live"))
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".ts"))
        .count();
    assert_eq!(on_disk, segments.len());
    for (i, (name, _)) in segments.iter().enumerate() {
        let duration = discovered_duration(&dir.join("out/live").join(name));
        // The last may hold a single frame.
        assert!(
            duration > 0.0 || i + 1 == segments.len(),
            "{name}: {duration}"
        );
    }
}
