//! The language server's engine in process, on in-memory files: diagnostics, hovers,
//! completions and quick fixes drawn onto the source text (insta snapshots), definitions,
//! formatting, incremental edits at UTF-16 positions, and compile results cached per version.

use std::cell::Cell;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use vpl_compiler::facts::{FactError, MediaFacts, ModelFacts, VideoFacts};
use vpl_compiler::host::FileProblem;
use vpl_compiler::{Host, MemoryHost};
use vplc::lsp::engine::{Change, Engine, Pos, Range, TargetFile};

const URI: &str = "file:///work/demo.vpl";

/// A clean program with non-ASCII text before some of the names on their lines.
const DEMO: &str = r#"// A demo with non-ASCII text: 🎥 café
const SIZE = 640x640;

/// People and falls, any number of frames a batch.
model det = onnx("models/det_dynamic.onnx", labels: ["person", "fallen"], decoder: yolov8(confidence: 0.4));

pipeline demo {
    let cam = test(pattern: ball, resolution: 1280x720);
    let seen = cam | scale(SIZE, mode: letterbox) | infer(det) | track(iou, max_age: 30);
    seen | json | file("out/🎥 café.jsonl"); seen | overlay | encode(h264) | file("out/a.mp4");
}
"#;

/// The batch-size error of the issue (E0301), a misspelt stage and parameter (E0102,
/// E0104), an unused stream (W0001), after a line of non-ASCII text.
const BROKEN: &str = r#"model det = onnx("models/det_fixed1.onnx", decoder: yolov8());

pipeline p {
    let spare = test();
    [test(), test()] | batch(size: 2) | infer(det) | unbatch | json | stdout;
    file("🎥 café.mp4", lop: true) | decdoe | discard;
}
"#;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models");
    std::fs::read(path.join(name)).expect("fixture models are made by scripts/setup.sh")
}

fn host() -> MemoryHost {
    MemoryHost::new()
        .with_file("/work/models/det_dynamic.onnx", fixture("det_dynamic.onnx"))
        .with_file("/work/models/det_fixed1.onnx", fixture("det_fixed1.onnx"))
        .with_media(
            "/work/🎥 café.mp4",
            MediaFacts {
                container: Some("mp4".into()),
                video: Some(VideoFacts {
                    format: "h264".into(),
                    width: Some(640),
                    height: Some(360),
                    rate: Some((25, 1)),
                    ..VideoFacts::default()
                }),
                duration_ns: None,
            },
        )
}

fn engine(text: &str) -> Engine<MemoryHost> {
    let mut e = Engine::new(host());
    e.open(URI, PathBuf::from("/work/demo.vpl"), 1, text.to_string());
    e
}

/// The position of `‸` in `marked`, which is found in `text` without its marker: a 0-based
/// line and UTF-16 column, counted here independently of the engine.
fn at(text: &str, marked: &str) -> Pos {
    let needle = marked.replace('‸', "");
    let start = text
        .find(&needle)
        .unwrap_or_else(|| panic!("{needle:?} is not in the text"));
    let offset = start + marked.find('‸').expect("a marker");
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].encode_utf16().count();
    Pos::new(line as u32, column as u32)
}

/// The character column of a UTF-16 position on its line, for drawing.
fn char_column(text: &str, pos: Pos) -> usize {
    let line = text.lines().nth(pos.line as usize).unwrap_or("");
    let mut units = 0;
    let mut chars = 0;
    for c in line.chars() {
        if units >= pos.character as usize {
            break;
        }
        units += c.len_utf16();
        chars += 1;
    }
    chars
}

/// `^^^` under `range` on its first line, then `note`.
fn underline(text: &str, range: Range, mark: char, note: &str) -> String {
    let start = char_column(text, range.start);
    let end = if range.end.line == range.start.line {
        char_column(text, range.end)
    } else {
        text.lines()
            .nth(range.start.line as usize)
            .map_or(start, |l| l.chars().count())
    };
    let marks: String = std::iter::repeat_n(mark, (end - start).max(1)).collect();
    let mut out = format!("    │ {}{marks} ", " ".repeat(start));
    let indent = " ".repeat(start + marks.chars().count() + 1);
    for (i, line) in note.lines().enumerate() {
        if i > 0 {
            let _ = write!(out, "\n    │ {indent}");
        }
        out.push_str(line);
    }
    out
}

fn source_line(text: &str, line: u32) -> String {
    format!(
        "{:>3} │ {}",
        line + 1,
        text.lines().nth(line as usize).unwrap_or("")
    )
}

/// The whole source, each line followed by the annotations that start on it.
fn draw(text: &str, annotations: &[(Range, char, String)]) -> String {
    let mut out = String::new();
    for (i, _) in text.lines().enumerate() {
        let _ = writeln!(out, "{}", source_line(text, i as u32));
        for (range, mark, note) in annotations {
            if range.start.line == i as u32 {
                let _ = writeln!(out, "{}", underline(text, *range, *mark, note));
            }
        }
    }
    out
}

fn point(pos: Pos) -> Range {
    Range {
        start: pos,
        end: pos,
    }
}

#[test]
fn diagnostics_drawn_on_the_source() {
    let mut e = engine(BROKEN);
    let (version, problems) = e.diagnostics(URI).expect("the document is open");
    assert_eq!(version, 1);
    let mut annotations = Vec::new();
    for p in &problems {
        let severity = if p.code.as_str().starts_with('E') {
            "error"
        } else {
            "warning"
        };
        annotations.push((
            p.range,
            '^',
            format!("{} {severity}: {}", p.code, p.message),
        ));
        for r in &p.related {
            annotations.push((r.range, '-', format!("{}: {}", p.code, r.message)));
        }
        if let Some(fix) = &p.fix {
            annotations.push((
                fix.range,
                '~',
                format!("quick fix: {} → {:?}", fix.title, fix.new_text),
            ));
        }
    }
    let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["W0001", "E0301", "E0104", "E0102"]);
    insta::assert_snapshot!(draw(BROKEN, &annotations));
}

/// A model with several outputs: the hover lists them and names the one the decoder reads
/// (box regression first, scores last, as MTCNN's RNet).
#[test]
fn a_model_hover_lists_every_output_and_the_one_decoded() {
    use vpl_compiler::facts::{DType, Dim, TensorFacts};
    let tensor = |name: &str, shape: &[Dim]| TensorFacts {
        name: name.into(),
        dtype: DType::F32,
        shape: shape.to_vec(),
    };
    let n = || Dim::Named("N".into());
    let rnet = vpl_compiler::onnx::model_bytes(&ModelFacts {
        inputs: vec![tensor(
            "input_2",
            &[n(), Dim::Fixed(24), Dim::Fixed(24), Dim::Fixed(3)],
        )],
        outputs: vec![
            tensor("dense_2", &[n(), Dim::Fixed(4)]),
            tensor("softmax_1", &[n(), Dim::Fixed(2)]),
        ],
        ..ModelFacts::default()
    });
    let text = "model rnet = onnx(\"models/rnet.onnx\", labels: [\"no\", \"face\"], decoder: classify());\n\
                pipeline p { test() | infer(rnet) | json | stdout; }\n";
    let mut e = Engine::new(host().with_file("/work/models/rnet.onnx", rnet));
    e.open(URI, PathBuf::from("/work/demo.vpl"), 1, text.to_string());
    let hover = e.hover(URI, at(text, "model rn‸et")).expect("a hover");
    assert!(
        hover
            .markdown
            .contains("-> tensor<f32, [N, 4]>, tensor<f32, [N, 2]>")
            && hover
                .markdown
                .contains("Outputs: `dense_2`, `softmax_1`; the decoder reads `softmax_1`.")
            && hover.markdown.contains("Frames are prepared at 24x24."),
        "{}",
        hover.markdown
    );
}

#[test]
fn a_model_hover_says_its_labels_come_from_its_metadata() {
    let text = "model det = onnx(\"models/names.onnx\", decoder: yolov8());\n\
                pipeline p { test() | infer(det) | json | stdout; }\n";
    let mut e =
        Engine::new(host().with_file("/work/models/names.onnx", fixture("box_names_commas.onnx")));
    e.open(URI, PathBuf::from("/work/demo.vpl"), 1, text.to_string());
    let hover = e.hover(URI, at(text, "model d‸et")).expect("a hover");
    assert!(
        hover.markdown.contains(
            "Labels (from the model's `names` metadata): person, standing, it's: fallen."
        ),
        "{}",
        hover.markdown
    );
}

#[test]
fn hovers_drawn_on_the_source() {
    let mut e = engine(DEMO);
    let cursors = [
        "let se‸en",
        "seen | json | file(\"out/🎥 café.jsonl\"); se‸en",
        "let cam = te‸st(",
        "sc‸ale(SIZE",
        "mo‸de: letterbox",
        "infer(d‸et)",
        "model d‸et",
        "scale(SI‸ZE",
        "track(iou, max_a‸ge",
        "| encode(h264) | fi‸le(\"out/a.mp4\")",
        "yolov8(confi‸dence",
    ];
    let mut out = String::new();
    for marked in cursors {
        let pos = at(DEMO, marked);
        let _ = writeln!(out, "{}", source_line(DEMO, pos.line));
        match e.hover(URI, pos) {
            Some(h) => {
                assert!(h.range.start <= pos && pos <= h.range.end, "{marked}");
                let _ = writeln!(out, "{}", underline(DEMO, h.range, '^', "hover"));
                for line in h.markdown.lines() {
                    let _ = writeln!(out, "    ┆ {line}");
                }
            }
            None => {
                let _ = writeln!(out, "{}", underline(DEMO, point(pos), '^', "(no hover)"));
            }
        }
        out.push('\n');
    }
    // Nothing under the cursor: no hover, and positions past the end are harmless.
    assert_eq!(e.hover(URI, at(DEMO, "pipeline demo ‸{")), None);
    assert_eq!(e.hover(URI, Pos::new(999, 999)), None);
    assert_eq!(e.hover(URI, Pos::new(0, 9999)), None);
    assert_eq!(e.hover("file:///not/open.vpl", Pos::new(0, 0)), None);
    insta::assert_snapshot!(out);
}

/// A line being typed, at several points of a pipeline: the text is changed to each
/// `before‸` and completions asked for at the marker.
#[test]
fn completions_drawn_on_the_source() {
    let cases = [
        // After `|`: stages and sinks, with their required parameters as snippets.
        ("    seen | ‸", true),
        ("    seen | sc‸", false),
        // At the head of a flow: sources and the streams defined so far.
        ("    ‸", true),
        // Inside a call: parameter names with type and default, values of the first.
        ("    seen | scale(‸", true),
        ("    seen | scale(640x640, ‸", true),
        ("    seen | scale(mode: ‸", true),
        ("    cam | infer(‸", true),
        ("    cam | track(max_age: 3, ‸", true),
        // In a string or a comment: nothing.
        ("    test() | json | file(\"out/‸", true),
    ];
    let mut out = String::new();
    for (line, snippets) in cases {
        let text = DEMO.replace(
            "    seen | json",
            &format!("{}\n    seen | json", line.replace('‸', "")),
        );
        let mut e = engine(&text);
        let pos = at(&text, &format!("{line}\n    seen | json"));
        let items = e.completions(URI, pos, snippets);
        let _ = writeln!(out, "{}", source_line(&text, pos.line));
        let title = format!(
            "{} completions{}",
            items.len(),
            if snippets { "" } else { " (no snippets)" }
        );
        let _ = writeln!(out, "{}", underline(&text, point(pos), '^', &title));
        for c in items {
            let _ = writeln!(
                out,
                "    │   {:<10} {:<9} {:<28} {}",
                c.label,
                format!("{:?}", c.kind),
                c.insert_text.replace('\n', "⏎"),
                c.detail.unwrap_or_default()
            );
        }
        out.push('\n');
    }
    insta::assert_snapshot!(out);
}

#[test]
fn definitions() {
    let mut e = engine(DEMO);
    let text_at = |range: Range, text: &str| -> String {
        let start = char_column(text, range.start);
        let end = char_column(text, range.end);
        text.lines()
            .nth(range.start.line as usize)
            .unwrap_or("")
            .chars()
            .skip(start)
            .take(end - start)
            .collect()
    };
    // A stream used after a non-ASCII string on its line → its `let`.
    let target = e
        .definition(URI, at(DEMO, "café.jsonl\"); se‸en"))
        .expect("a definition");
    assert_eq!(target.file, TargetFile::Document);
    assert_eq!(target.range.start, at(DEMO, "let ‸seen"));
    assert_eq!(text_at(target.range, DEMO), "seen");
    // A model and a constant → their items.
    let model = e.definition(URI, at(DEMO, "infer(d‸et)")).expect("model");
    assert_eq!(model.range.start, at(DEMO, "model ‸det"));
    let constant = e.definition(URI, at(DEMO, "scale(S‸IZE")).expect("const");
    assert_eq!(constant.range.start, at(DEMO, "const ‸SIZE"));
    // A stdlib stage and a parameter → their declarations in stdlib/*.vpl.
    for (marked, file, expected) in [
        ("| sc‸ale(", "video.vpl", "scale"),
        ("| tr‸ack(", "detect.vpl", "track"),
        ("h264) | fi‸le(", "io.vpl", "file"),
        ("let cam = te‸st(", "io.vpl", "test"),
        (
            "mode‸: letterbox",
            "video.vpl",
            "mode: letterbox | stretch = stretch",
        ),
    ] {
        let target = e.definition(URI, at(DEMO, marked)).expect(marked);
        let TargetFile::Path(path) = target.file else {
            panic!("{marked}: not in stdlib");
        };
        assert!(path.ends_with(Path::new("stdlib").join(file)), "{path:?}");
        let stdlib = std::fs::read_to_string(&path).expect("the stdlib file exists");
        assert_eq!(text_at(target.range, &stdlib), expected, "{marked}");
        if expected == "file" {
            // The sink, not the source of the same name.
            let line = stdlib.lines().nth(target.range.start.line as usize);
            assert_eq!(line, Some("builtin sink file("));
        }
    }
    assert_eq!(e.definition(URI, at(DEMO, "pipeline ‸demo")), None);
}

#[test]
fn quick_fixes_replace_the_misspelling() {
    let mut e = engine(BROKEN);
    let whole = Range {
        start: Pos::new(0, 0),
        end: Pos::new(99, 0),
    };
    let fixes = e.fixes(URI, whole);
    let summary: Vec<(String, String)> = fixes
        .iter()
        .map(|(p, f)| (p.code.to_string(), f.new_text.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            ("E0104".to_string(), "loop".to_string()),
            ("E0102".to_string(), "decode".to_string())
        ]
    );
    // Only the fixes whose diagnostic touches the range asked about.
    let line = at(BROKEN, "| dec‸doe");
    let here = e.fixes(URI, point(line));
    assert_eq!(here.len(), 1);
    // Applying them gives a file with neither error left.
    let mut version = 1;
    for (_, fix) in fixes.into_iter().rev() {
        version += 1;
        let change = Change {
            range: Some(fix.range),
            text: fix.new_text,
        };
        assert!(e.change(URI, version, vec![change]));
    }
    let text = e.text(URI).expect("open").to_string();
    assert!(text.contains("file(\"🎥 café.mp4\", loop: true) | decode | discard;"));
    let (_, problems) = e.diagnostics(URI).expect("open");
    let codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
    assert_eq!(codes, ["W0001", "E0301"]);
}

#[test]
fn quick_fixes_of_other_spellings() {
    let cases = [
        // A misspelt name, a unit, a module, a word given as a string.
        (
            "pipeline p { test() | infer(dett) | json | stdout; }",
            "det",
        ),
        (
            "pipeline p { test() | batch(size: 1, timeout: 40mz) | discard; }",
            "40ms",
        ),
        (
            "use std.detct;\npipeline p { test() | discard; }",
            "std.detect",
        ),
        ("pipeline p { test() | track(\"iuo\") | discard; }", "iou"),
        // A misspelt label in a list: the string is fixed, its quotes kept.
        (
            "pipeline p { test() | infer(det) | filter(classes: [\"fallen\", \"persn\"]) | json | stdout; }",
            "person",
        ),
    ];
    for (line, fixed) in cases {
        let text = format!(
            "model det = onnx(\"models/det_dynamic.onnx\", labels: [\"person\", \"fallen\"], decoder: yolov8());\n{line}\n"
        );
        let mut e = engine(&text);
        let fixes = e.fixes(
            URI,
            Range {
                start: Pos::new(0, 0),
                end: Pos::new(9, 0),
            },
        );
        let new: Vec<&str> = fixes.iter().map(|(_, f)| f.new_text.as_str()).collect();
        assert!(new.contains(&fixed), "{line}: {new:?}");
    }
}

#[test]
fn formatting() {
    let mut e = engine("pipeline   p{\n  test()|decode  |discard ;}\n");
    assert_eq!(
        e.format(URI).as_deref(),
        Some("pipeline p {\n    test() | decode | discard;\n}\n")
    );
    assert_eq!(
        e.whole_range(URI),
        Some(Range {
            start: Pos::new(0, 0),
            end: Pos::new(2, 0)
        })
    );
    // Syntax errors: no edit at all.
    assert!(e.change(
        URI,
        2,
        vec![Change {
            range: None,
            text: "pipeline p { test() | | discard; }".into()
        }]
    ));
    assert_eq!(e.format(URI), None);
}

#[test]
fn incremental_edits_at_utf16_positions() {
    let mut e = engine("// 🎥 café\npipeline p {\n    test() | discard;\n}\n");
    // Replace `café` (after a two-unit emoji) and insert a stage, in one notification.
    let changes = vec![
        Change {
            range: Some(Range {
                start: Pos::new(0, 6),
                end: Pos::new(0, 10),
            }),
            text: "thé ☕".into(),
        },
        Change {
            range: Some(Range {
                start: Pos::new(2, 10),
                end: Pos::new(2, 10),
            }),
            text: " | decdoe".into(),
        },
    ];
    assert!(e.change(URI, 2, changes));
    assert_eq!(
        e.text(URI),
        Some("// 🎥 thé ☕\npipeline p {\n    test() | decdoe | discard;\n}\n")
    );
    let (version, problems) = e.diagnostics(URI).expect("open");
    assert_eq!(version, 2);
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].range.start, Pos::new(2, 13));
    // Out-of-range and reversed ranges are clamped, never a panic.
    let wild = Change {
        range: Some(Range {
            start: Pos::new(50, 3),
            end: Pos::new(1, 999),
        }),
        text: String::new(),
    };
    assert!(e.change(URI, 3, vec![wild]));
    assert_eq!(e.text(URI), Some("// 🎥 thé ☕\npipeline p {"));
    assert!(e.diagnostics(URI).is_some());
    // Unknown documents are refused.
    assert!(!e.change("file:///other.vpl", 1, Vec::new()));
}

/// Counts the model reads that reach the host.
struct Counting {
    inner: MemoryHost,
    models: Cell<usize>,
}

impl Host for Counting {
    fn check_file(&self, path: &Path) -> Result<(), FileProblem> {
        self.inner.check_file(path)
    }
    fn probe_media(&self, path: &Path) -> Result<MediaFacts, FactError> {
        self.inner.probe_media(path)
    }
    fn model_signature(&self, path: &Path) -> Result<ModelFacts, FactError> {
        self.models.set(self.models.get() + 1);
        self.inner.model_signature(path)
    }
    fn read_labels(&self, path: &Path) -> Result<Vec<String>, FactError> {
        self.inner.read_labels(path)
    }
}

#[test]
fn one_compilation_per_version() {
    let mut e = Engine::new(Counting {
        inner: host(),
        models: Cell::new(0),
    });
    e.open(URI, PathBuf::from("/work/demo.vpl"), 1, DEMO.to_string());
    // Opening compiles nothing; asking does, once for all the questions about a version.
    assert_eq!(e.host().models.get(), 0);
    let _ = e.diagnostics(URI);
    let _ = e.hover(URI, at(DEMO, "infer(d‸et)"));
    let _ = e.completions(URI, at(DEMO, "infer(‸det)"), true);
    let _ = e.definition(URI, at(DEMO, "infer(d‸et)"));
    let _ = e.diagnostics(URI);
    assert_eq!(e.host().models.get(), 1);
    // Several edits before the next question: one compilation.
    for version in 2..5 {
        let edit = Change {
            range: Some(point(Pos::new(0, 0))),
            text: "// edit\n".into(),
        };
        e.change(URI, version, vec![edit]);
    }
    let _ = e.diagnostics(URI);
    assert_eq!(e.host().models.get(), 2);
}

/// A zone's or a line's hover says where it lies, at its declaration and where `analyze`
/// uses it.
#[test]
fn zones_and_lines_hover_with_where_they_lie() {
    let text = "/// The paved square.\n\
                const square = zone([[480, 200], [768, 200], [768, 420], [480, 420]], size: 768x576, crowd: 3);\n\
                const post = line([[0.5, 0.9], [0.5, 0.2]], direction: forward);\n\
                pipeline p { test() | analyze(zones: [square], lines: [post]) | json | stdout; }\n";
    let mut e = Engine::new(host());
    e.open(URI, PathBuf::from("/work/demo.vpl"), 1, text.to_string());
    let declared = e.hover(URI, at(text, "const squ‸are")).expect("a hover");
    assert!(
        declared.markdown.contains(
            "Zone of 4 points in pixels of 768x576 frames: x 480 to 768, y 200 to 420. Overcrowded above 3 objects."
        ) && declared.markdown.contains("The paved square."),
        "{}",
        declared.markdown
    );
    let used = e.hover(URI, at(text, "zones: [squ‸are]")).expect("a hover");
    assert_eq!(used.markdown, declared.markdown);
    let line = e.hover(URI, at(text, "lines: [po‸st]")).expect("a hover");
    assert!(
        line.markdown.contains(
            "Line from [0.5, 0.9] to [0.5, 0.2] in fractions of the frame (0 to 1), any size; counts forward crossings only"
        ),
        "{}",
        line.markdown
    );
}

/// A pool's `streams:` file is checked with the program; an editor shows its problems on
/// the `streams:` argument, each with the file, line and column it is at.
#[test]
fn streams_file_problems_show_on_the_streams_argument() {
    let text = "pipeline p {\n    let cams = pool(max: 2, streams: \"cams.yaml\") : video<h264, 640x360, 25fps>;\n    cams | decode | json | stdout;\n}\n";
    let host = host().with_file(
        "/work/cams.yaml",
        "- {id: front, url: \"🎥 café.mp4\"}\n- {id: ../up, url: \"rtsp://10.0.0.5/s\"}\n",
    );
    let mut e = Engine::new(host);
    e.open(URI, PathBuf::from("/work/demo.vpl"), 1, text.to_string());
    let (_, problems) = e.diagnostics(URI).expect("open");
    assert_eq!(problems.len(), 1, "{problems:#?}");
    let p = &problems[0];
    assert_eq!(p.code.as_str(), "E0215");
    assert!(
        p.message
            .starts_with("/work/cams.yaml:2:8: the stream id `../up`"),
        "{}",
        p.message
    );
    assert_eq!(p.range.start, at(text, "streams: ‸\"cams.yaml\""));
}
