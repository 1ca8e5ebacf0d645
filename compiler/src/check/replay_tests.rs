//! `replay` on in-memory records: its type from the records (labels, size, tracks), each of
//! its diagnostics (E0216, E0217, E0218, E0109), and what it lowers to.

use std::path::Path;

use crate::diagnostics::Diagnostic;
use crate::facts::{MediaFacts, VideoFacts};
use crate::host::MemoryHost;
use crate::plan::Prop;
use crate::{Compilation, SourceMap, compile};

fn record(stream: u32, frame: u64, width: u32, objects: &str) -> String {
    format!(
        "{{\"pipeline\":\"p\",\"stream\":{stream},\"source\":\"cam.mp4\",\"frame\":{frame},\"pts_ns\":{},\"width\":{width},\"height\":48,\"objects\":[{objects}]}}\n",
        frame * 100_000_000
    )
}

fn object(label: &str, class_id: u32, track: Option<u64>) -> String {
    let track = track.map_or(String::new(), |t| format!(",\"track_id\":{t}"));
    format!(
        "{{\"label\":\"{label}\",\"class_id\":{class_id},\"confidence\":0.5,\"bbox\":{{\"x\":1.0,\"y\":2.0,\"w\":3.0,\"h\":4.0}}{track}}}"
    )
}

fn video(width: u32, duration_s: u64) -> MediaFacts {
    MediaFacts {
        container: Some("mp4".into()),
        video: Some(VideoFacts {
            format: "h264".into(),
            raw: false,
            width: Some(width),
            height: Some(48),
            rate: Some((10, 1)),
            caps: "video/x-h264".into(),
            ..VideoFacts::default()
        }),
        duration_ns: Some(duration_s * 1_000_000_000),
    }
}

fn host() -> MemoryHost {
    let people = record(0, 0, 64, &object("person", 0, Some(1)))
        + &record(
            0,
            4,
            64,
            &[object("car", 2, Some(2)), object("person", 0, Some(1))].join(","),
        );
    let untracked = record(0, 0, 64, &object("person", 0, None));
    MemoryHost::new()
        .with_file("/r/people.jsonl", people.clone())
        .with_file("/r/untracked.jsonl", untracked)
        .with_file(
            "/r/bad.jsonl",
            record(0, 0, 64, "") + "\n{\"frame\": 1, \"objects\": []\n",
        )
        .with_file("/r/two.jsonl", record(0, 0, 64, "") + &record(1, 0, 64, ""))
        .with_file("/r/empty.jsonl", "\n")
        .with_file(
            "/r/events.jsonl",
            "{\"messageid\":\"p-0-1-0\",\"mdsversion\":\"1.0\",\"frame\":3}\n",
        )
        .with_media("/v/cam.mp4", video(64, 10))
        .with_media("/v/wide.mp4", video(128, 10))
        .with_media("/v/short.mp4", video(64, 0))
}

fn compiled(body: &str) -> (Compilation, SourceMap) {
    let text = format!("pipeline p {{\n{body}\n}}\n");
    let mut sources = SourceMap::default();
    let c = compile(
        &mut sources,
        "test.vpl",
        Path::new("/p/test.vpl"),
        &text,
        &host(),
    );
    (c, sources)
}

fn diagnostics(body: &str) -> Vec<Diagnostic> {
    compiled(body).0.diagnostics
}

fn codes(body: &str) -> Vec<String> {
    diagnostics(body)
        .iter()
        .map(|d| d.code.to_string())
        .collect()
}

/// The one diagnostic of `body`, which must have `code`: its message.
fn only(body: &str, code: &str) -> String {
    let d = diagnostics(body);
    assert_eq!(d.len(), 1, "{body}: {d:?}");
    assert_eq!(d[0].code.to_string(), code, "{body}: {d:?}");
    d[0].message.clone()
}

#[test]
fn a_replay_is_raw_video_of_its_size_carrying_the_records_labels_and_tracks() {
    let (c, _) = compiled(
        "    let r = replay(\"/r/people.jsonl\", size: 64x48, rate: 10fps);\n    r | json | file(\"/o/r.jsonl\");",
    );
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let ty = c.typed.pipelines[0].lets[0].2.to_string();
    assert!(ty.starts_with("video<i420, 64x48, 10fps>"), "{ty}");
    assert!(ty.contains("person") && ty.contains("car"), "{ty}");
    assert!(ty.contains("track"), "{ty}");
    // The records' labels are checked downstream as a model's are.
    for body in [
        "    replay(\"/r/people.jsonl\", size: 64x48, rate: 10fps) | filter(classes: [\"car\"]) | json | file(\"/o/r.jsonl\");",
        "    replay(\"/r/people.jsonl\", video: \"/v/cam.mp4\") | track(sort) | overlay | encode(h264) | file(\"/o/r.mp4\");",
        "    replay(\"/r/people.jsonl\", size: 64x48, rate: 10fps) | encode(h264) | record(when: \"person\", path: \"/o/c.mp4\");",
    ] {
        assert_eq!(codes(body), Vec::<String>::new(), "{body}");
    }
    let message = only(
        "    replay(\"/r/people.jsonl\", size: 64x48, rate: 10fps) | filter(classes: [\"dog\"]) | json | file(\"/o/r.jsonl\");",
        "E0207",
    );
    assert!(message.contains("dog"), "{message}");
}

#[test]
fn crossings_need_tracks_in_the_records_or_a_track_stage() {
    let analyze = "analyze(lines: [gate]) | events(on: [crossing]) | file(\"/o/e.jsonl\");";
    let consts = "const gate = line([[0, 0], [64, 48]], size: 64x48);\n";
    let text = |records: &str, track: &str| {
        format!(
            "{consts}pipeline p {{\n    replay(\"/r/{records}.jsonl\", size: 64x48, rate: 10fps) | {track}{analyze}\n}}\n"
        )
    };
    let check = |text: String| {
        let mut sources = SourceMap::default();
        compile(&mut sources, "t.vpl", Path::new("/p/t.vpl"), &text, &host())
            .diagnostics
            .iter()
            .map(|d| d.code.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(check(text("people", "")), Vec::<String>::new());
    assert_eq!(
        check(text("untracked", "track(sort) | ")),
        Vec::<String>::new()
    );
    assert_eq!(check(text("untracked", "")), ["E0405"]);
}

#[test]
fn e0217_the_frames_are_given_one_way() {
    for (args, words) in [
        ("", "`video:` or `size:` and `rate:`"),
        (", video: \"/v/cam.mp4\", size: 64x48", "not both"),
        (", video: \"/v/cam.mp4\", rate: 10fps", "not both"),
        (", size: 64x48", "`rate:`"),
    ] {
        let body = format!("    replay(\"/r/people.jsonl\"{args}) | json | file(\"/o/r.jsonl\");");
        let message = only(&body, "E0217");
        assert!(message.contains(words), "{args}: {message}");
    }
}

#[test]
fn e0216_names_the_line_that_is_not_a_record() {
    let at = |file: &str| {
        only(
            &format!(
                "    replay(\"/r/{file}.jsonl\", size: 64x48, rate: 10fps) | json | file(\"/o/r.jsonl\");"
            ),
            "E0216",
        )
    };
    let bad = at("bad");
    assert!(bad.contains("line 3") && bad.contains("not JSON"), "{bad}");
    let two = at("two");
    assert!(
        two.contains("several streams") && two.contains("line 2"),
        "{two}"
    );
    assert!(at("empty").contains("no frame record"));
    assert!(at("events").contains("event message"));
}

#[test]
fn e0218_records_of_another_size_or_longer_than_the_video() {
    let body = |args: &str| {
        format!("    replay(\"/r/people.jsonl\", {args}) | json | file(\"/o/r.jsonl\");")
    };
    let message = only(&body("size: 128x48, rate: 10fps"), "E0218");
    assert!(
        message.contains("64x48") && message.contains("128x48"),
        "{message}"
    );
    let message = only(&body("video: \"/v/wide.mp4\""), "E0218");
    assert!(message.contains("the video gives 128x48"), "{message}");
    let message = only(&body("video: \"/v/short.mp4\""), "E0218");
    assert!(
        message.contains("frame 4") && message.contains("0 frames"),
        "{message}"
    );
}

#[test]
fn missing_files_are_e0109() {
    assert_eq!(
        codes(
            "    replay(\"/r/none.jsonl\", size: 64x48, rate: 10fps) | json | file(\"/o/r.jsonl\");"
        ),
        ["E0109"]
    );
    assert_eq!(
        codes(
            "    replay(\"/r/people.jsonl\", video: \"/v/none.mp4\") | json | file(\"/o/r.jsonl\");"
        ),
        ["E0109"]
    );
}

#[test]
fn black_frames_lower_to_a_test_source_of_the_records_length() {
    let (c, _) = compiled(
        "    replay(\"/r/people.jsonl\", size: 64x48, rate: 10fps) | track(sort) | json | file(\"/o/r.jsonl\");",
    );
    let (_, plan) = c.lower(0).expect("lowers");
    let factories: Vec<&str> = plan.elements.iter().map(|e| e.factory.as_str()).collect();
    assert_eq!(
        &factories[..3],
        ["videotestsrc", "capsfilter", "vplreplay"],
        "{factories:?}"
    );
    let prop = |i: usize, name: &str| {
        plan.elements[i]
            .props
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
    };
    assert_eq!(prop(0, "num-buffers"), Some(Prop::Int(5)), "frames 0 to 4");
    assert_eq!(prop(0, "pattern"), Some(Prop::Enum("black".into())));
    assert_eq!(
        prop(1, "caps"),
        Some(Prop::Caps(
            "video/x-raw,format=I420,width=64,height=48,framerate=10/1".into()
        ))
    );
    assert_eq!(
        prop(2, "location"),
        Some(Prop::Str("/r/people.jsonl".into()))
    );
    assert!(
        matches!(
            plan.elements[2].role,
            Some(crate::plan::Role::Progress { .. })
        ),
        "frames are counted where the objects go on: {:?}",
        plan.elements[2].role
    );
}

#[test]
fn a_video_is_demuxed_and_decoded_before_the_objects_go_on() {
    let (c, _) = compiled(
        "    replay(\"/r/people.jsonl\", video: \"/v/cam.mp4\") | json | file(\"/o/r.jsonl\");",
    );
    assert!(!c.has_errors(), "{:?}", c.diagnostics);
    let (_, plan) = c.lower(0).expect("lowers");
    let factories: Vec<&str> = plan.elements.iter().map(|e| e.factory.as_str()).collect();
    assert_eq!(
        &factories[..7],
        [
            "filesrc",
            "qtdemux",
            "h264parse",
            "avdec_h264",
            "videoconvert",
            "capsfilter",
            "vplreplay"
        ],
        "{factories:?}"
    );
    let dynamic: Vec<(&str, &str)> = plan
        .links
        .iter()
        .filter(|l| l.dynamic)
        .map(|l| (l.from.as_str(), l.to.as_str()))
        .collect();
    assert_eq!(dynamic, [("n0_replay_demux", "n0_replay_decode_parse")]);
}

#[test]
fn a_replay_may_not_overwrite_the_records_it_reads() {
    assert_eq!(
        codes(
            "    replay(\"/r/people.jsonl\", size: 64x48, rate: 10fps) | track(sort) | json | file(\"/r/people.jsonl\");"
        ),
        ["E0210"]
    );
}
