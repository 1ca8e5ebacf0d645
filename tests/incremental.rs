//! Incremental compilation gives what a fresh full check gives. Documents from the examples,
//! the ui tests and a generated file of several models, constants and pipelines go through
//! random edit sequences (typed tokens, deletions, lines copied elsewhere, names of the
//! file's items); after each edit the compilation made from the previous version
//! (`compile_incremental`) must equal `compile_whole` of the same text: the same
//! diagnostics, syntax tree, resolved program and types. Through the real filesystem host,
//! so models and media are read as `vplc` reads them. Fixed seed in CI; `VPL_FUZZ_SEED` /
//! `VPL_FUZZ_CASES` for longer runs.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use proptest::prelude::*;
use vpl_compiler::{Compilation, SourceMap, compile, compile_incremental, compile_whole};
use vplc::host::FsHost;
use vplc::lsp::engine::{Change, Engine, Pos, Range};

/// One host for every case, its facts cached in memory as the language server's are.
static HOST: LazyLock<FsHost> = LazyLock::new(|| FsHost::with_cache_file(None));

const TOKENS: &[&str] = &[
    "|",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ";",
    ",",
    ":",
    "\"",
    "//",
    "/// doc\n",
    "\n",
    " ",
    "let ",
    "pipeline ",
    "model ",
    "const ",
    "decode",
    "infer(",
    "infer(det1)",
    "batch(size: ",
    "SIZE",
    "det0",
    "det1",
    "door",
    "camera_1",
    "src_0",
    "640x640",
    "30fps",
    "4Mbps",
    "é",
    "\r",
    "const SIZE = 320x320;\n",
    "const SPARE = 2;\n",
    "model det2 = onnx(\"missing.onnx\", decoder: yolov8);\n",
    "pipeline extra {\n    test | discard;\n}\n",
    "file(\"out/c0.mp4\")",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Models, constants (one a zone) and pipelines naming them, each in its own way.
fn generated() -> String {
    let model = root().join("tests/fixtures/models/det_dynamic.onnx");
    let model = model.display();
    let mut out = String::from("// several items\nconst SIZE = 640x640;\n");
    out += "const door = zone([[10, 10], [300, 10], [300, 300]], size: 1280x720);\n";
    for m in 0..2 {
        out += &format!(
            "/// Model {m}.\nmodel det{m} = onnx(\"{model}\", labels: [\"person\", \"fallen\"], decoder: yolov8(confidence: 0.4, iou: 0.5));\n"
        );
    }
    for p in 0..4 {
        out += &format!("\n/// Pipeline {p}.\npipeline camera_{p} {{\n");
        out +=
            "    let src_0 = test(pattern: ball, resolution: 1280x720, rate: 30fps, frames: 30);\n";
        out += &format!(
            "    let det_0 = src_0 | scale(SIZE, mode: letterbox) | infer(det{}, every: 2) | track(iou, max_age: 30);\n",
            p % 2
        );
        if p == 2 {
            out += "    det_0 | analyze(zones: [door]) | json | file(\"out/zone.jsonl\");\n";
        }
        out += &format!(
            "    det_0 | overlay | encode(h264, bitrate: 4Mbps) | file(\"out/c{p}.mp4\");\n"
        );
        out += "    det_0 | json | file(\"out/c.jsonl\"); // records\n}\n";
    }
    out
}

/// (path, text): the examples and the generated file at paths where what they name exists.
fn corpus() -> Vec<(PathBuf, String)> {
    let mut dirs = vec![root().join("examples")];
    for phase in std::fs::read_dir(root().join("tests/ui")).expect("tests/ui") {
        dirs.push(phase.expect("entry").path());
    }
    let mut paths: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        paths.extend(
            std::fs::read_dir(&dir)
                .expect("corpus dir")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "vpl")),
        );
    }
    paths.sort();
    let mut texts: Vec<(PathBuf, String)> = paths
        .into_iter()
        .filter_map(|p| Some((p.clone(), std::fs::read_to_string(p).ok()?)))
        .collect();
    assert!(texts.len() >= 10, "a corpus of programs");
    // The generated file three times as often as any other: it has the most to reuse.
    for _ in 0..(texts.len() / 3).max(1) {
        texts.push((root().join("tests/generated.vpl"), generated()));
    }
    texts
}

#[derive(Debug, Clone)]
struct Edit {
    /// Where, as a share of the text (in 1/65536).
    at: u16,
    /// How many characters are deleted there.
    delete: usize,
    /// What is inserted: a token, or (odd) a line of the text itself.
    insert: usize,
    from_text: bool,
}

fn edit() -> impl Strategy<Value = Edit> {
    (
        any::<u16>(),
        prop_oneof![4 => Just(0usize), 3 => 1usize..4, 1 => 4usize..120],
        any::<usize>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(at, delete, insert, from_text)| Edit {
            at,
            delete,
            insert,
            from_text,
        })
}

fn apply(text: &str, e: &Edit) -> String {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let n = chars.len();
    let i = (e.at as usize * (n + 1)) >> 16;
    let byte = |k: usize| chars.get(k).map_or(text.len(), |(b, _)| *b);
    let (start, end) = (byte(i), byte((i + e.delete).min(n)));
    let inserted = if e.from_text {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        lines
            .get(e.insert % lines.len().max(1))
            .copied()
            .unwrap_or("")
            .to_string()
    } else {
        TOKENS[e.insert % TOKENS.len()].to_string()
    };
    format!("{}{}{}", &text[..start], inserted, &text[end..])
}

fn whole(path: &Path, text: &str) -> Compilation {
    compile_whole(&mut SourceMap::default(), "t.vpl", path, text, &*HOST)
}

/// Where the two compilations differ, if they do.
fn difference(incremental: &Compilation, fresh: &Compilation) -> Option<String> {
    if incremental.diagnostics != fresh.diagnostics {
        return Some(format!(
            "diagnostics:\nincremental {:#?}\nfull {:#?}",
            incremental.diagnostics, fresh.diagnostics
        ));
    }
    if incremental.ast != fresh.ast {
        return Some("syntax trees differ".into());
    }
    let (a, b) = (
        format!("{:?}", incremental.program),
        format!("{:?}", fresh.program),
    );
    if a != b {
        return Some(format!("resolved programs differ:\n{a}\n{b}"));
    }
    let (a, b) = (
        format!("{:?}", incremental.typed),
        format!("{:?}", fresh.typed),
    );
    if a != b {
        return Some(format!("typed programs differ:\n{a}\n{b}"));
    }
    None
}

fn fuzz_config(default_cases: u32) -> ProptestConfig {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    ProptestConfig {
        cases: env("VPL_FUZZ_CASES").map_or(default_cases, |n| n as u32),
        rng_seed: proptest::test_runner::RngSeed::Fixed(env("VPL_FUZZ_SEED").unwrap_or(0x1c_7e57)),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Edits `text` by `edits`; after each, the incremental compilation must equal the full one.
fn check_edits(path: &Path, mut text: String, edits: &[Edit]) -> Result<(), TestCaseError> {
    let mut previous = compile(&mut SourceMap::default(), "t.vpl", path, &text, &*HOST);
    if let Some(d) = difference(&previous, &whole(path, &text)) {
        return Err(TestCaseError::fail(format!(
            "first compilation of\n{text}\n{d}"
        )));
    }
    for e in edits {
        text = apply(&text, e);
        let next = compile_incremental(
            previous,
            &mut SourceMap::default(),
            "t.vpl",
            path,
            &text,
            &*HOST,
        );
        if let Some(d) = difference(&next, &whole(path, &text)) {
            return Err(TestCaseError::fail(format!(
                "after {e:?}, text\n{text}\n{d}"
            )));
        }
        previous = next;
    }
    Ok(())
}

proptest! {
    #![proptest_config(fuzz_config(300))]

    #[test]
    fn every_edit_compiles_as_a_fresh_full_check(file in any::<usize>(), edits in prop::collection::vec(edit(), 1..12)) {
        let corpus = corpus();
        let (path, text) = corpus[file % corpus.len()].clone();
        check_edits(&path, text, &edits)?;
    }

    /// The file with the most to reuse, edited mostly a character at a time: values of
    /// constants and models change while every name stays.
    #[test]
    fn small_edits_of_many_items_compile_as_a_fresh_full_check(edits in prop::collection::vec(edit().prop_map(|e| Edit {
        // Half of them in the constants and models at the top.
        at: if e.insert % 2 == 0 { e.at / 4 } else { e.at },
        delete: e.delete % 3,
        ..e
    }), 1..16)) {
        check_edits(&root().join("tests/generated.vpl"), generated(), &edits)?;
    }
}

/// The language server's documents: each version's diagnostics are those of a document
/// opened afresh with its text, through several edits in one change and plain typing.
#[test]
fn the_language_server_publishes_what_a_fresh_document_would() {
    let path = root().join("tests/generated.vpl");
    let uri = "file:///generated.vpl";
    let mut text = generated();
    let mut engine = Engine::new(FsHost::with_cache_file(None));
    engine.open(uri, path.clone(), 1, text.clone());
    let _ = engine.diagnostics(uri);
    let typed = [
        "infer(",
        "det1",
        ")",
        " |",
        " zzz",
        "\n",
        "let x = src_0;",
        "}",
        "{",
        "det2",
    ];
    let mut version = 1;
    for (n, token) in typed.iter().enumerate() {
        // Typed somewhere along the file, two changes in one message every third time.
        let line = (n * 7) % text.lines().count();
        let mut changes = vec![Change {
            range: Some(Range {
                start: Pos::new(line as u32, 4),
                end: Pos::new(line as u32, 4),
            }),
            text: token.to_string(),
        }];
        if n % 3 == 0 {
            changes.push(Change {
                range: Some(Range {
                    start: Pos::new(0, 0),
                    end: Pos::new(0, 2),
                }),
                text: String::new(),
            });
        }
        version += 1;
        assert!(engine.change(uri, version, changes));
        let (v, problems) = engine.diagnostics(uri).expect("open");
        assert_eq!(v, version);
        text = engine.text(uri).expect("open").to_string();
        let mut fresh = Engine::new(FsHost::with_cache_file(None));
        fresh.open(uri, path.clone(), version, text.clone());
        let (_, expected) = fresh.diagnostics(uri).expect("open");
        assert_eq!(problems, expected, "after typing {token:?}:\n{text}");
    }
}

/// What an edit leaves alone is reused: typing in one pipeline checks that pipeline (and
/// the turn of margin the parser takes on each side, found unchanged), and an edit to a
/// model checks again the pipelines that name it. Each result equals a full check.
#[test]
fn an_edit_checks_again_only_what_depends_on_it() {
    let path = root().join("tests/generated.vpl");
    let text = generated();
    let mut previous = compile(&mut SourceMap::default(), "t.vpl", &path, &text, &*HOST);
    assert_eq!(previous.program.pipelines.len(), 4);
    let edit = |previous: Compilation, from: &str, to: &str, text: &mut String| {
        assert!(text.contains(from), "{from}");
        *text = text.replacen(from, to, 1);
        let next = compile_incremental(
            previous,
            &mut SourceMap::default(),
            "t.vpl",
            &path,
            text,
            &*HOST,
        );
        assert_eq!(
            difference(&next, &whole(&path, text)),
            None,
            "after {from:?} → {to:?}"
        );
        next
    };
    let mut text = text;
    // Typing inside camera_2 (the middle): the other three pipelines are kept.
    previous = edit(previous, "out/c2.mp4", "out/c2x.mp4", &mut text);
    assert_eq!(previous.reused().1, 3);
    // An inserted line above everything moves every span; nothing is checked again but
    // the first pipeline's neighbour turns (which are equal, so reused too).
    previous = edit(
        previous,
        "// several items\n",
        "// several items\n\n// more\n",
        &mut text,
    );
    assert_eq!(previous.reused().1, 4);
    // det1's labels: camera_1 and camera_3 name det1 and are checked again.
    previous = edit(
        previous,
        "model det1 = onnx(",
        "model det1 = onnx(",
        &mut text,
    );
    let at = text.find("model det1").expect("det1");
    let labels = text[at..].find("\"fallen\"").expect("labels") + at;
    text.replace_range(labels..labels + 8, "\"down\"");
    previous = compile_incremental(
        previous,
        &mut SourceMap::default(),
        "t.vpl",
        &path,
        &text,
        &*HOST,
    );
    assert_eq!(difference(&previous, &whole(&path, &text)), None);
    assert_eq!(
        previous.reused().1,
        2,
        "camera_0 and camera_2 name det0 only"
    );
    // A constant's value: every pipeline names SIZE.
    previous = edit(previous, "SIZE = 640x640", "SIZE = 320x320", &mut text);
    assert_eq!(previous.reused().1, 0);
    // An error typed in camera_3 is reported as a full check reports it.
    previous = edit(
        previous,
        "| json | file(\"out/c.jsonl\"); // records\n}\n\n",
        "| jsn | file(\"out/c.jsonl\");\n}\n\n",
        &mut text,
    );
    assert!(previous.has_errors());
}

/// Of two names as close to a misspelt one, the suggestion does not depend on the order a
/// hash table gives them in (a full check and an incremental one must agree).
/// The parser's turns are kept on both sides of an edit: typing inside camera_1 parses
/// again its turn and the turn of margin on each side, and keeps the others (those after
/// the edit once the parser is back where one of them began).
#[test]
fn an_edit_parses_again_only_its_turn_and_one_on_each_side() {
    let path = root().join("tests/generated.vpl");
    let text = generated();
    let previous = compile(&mut SourceMap::default(), "t.vpl", &path, &text, &*HOST);
    let text = text.replacen("out/c1.mp4", "out/c1x.mp4", 1);
    let next = compile_incremental(
        previous,
        &mut SourceMap::default(),
        "t.vpl",
        &path,
        &text,
        &*HOST,
    );
    assert_eq!(difference(&next, &whole(&path, &text)), None);
    let items = next.ast.items.len();
    assert!(
        next.ast.items[items - 3]
            .name()
            .is_some_and(|n| n.name == "camera_1"),
        "camera_1 is the third item from the end, so turns are kept after the edit too"
    );
    assert_eq!(next.reused().0, items - 3);
}

#[test]
fn a_suggestion_among_equals_is_the_same_every_time() {
    let text = "const ab1 = 1;\nconst ab2 = 2;\npipeline p {\n    let s1 = test;\n    let s2 = test;\n    s3 | tile(ab3, 1) | discard;\n}\n";
    let suggestions = |c: &Compilation| -> Vec<Option<String>> {
        c.diagnostics.iter().map(|d| d.suggestion.clone()).collect()
    };
    let host = vpl_compiler::MemoryHost::new();
    let first = compile_whole(
        &mut SourceMap::default(),
        "t.vpl",
        Path::new("t.vpl"),
        text,
        &host,
    );
    assert!(
        suggestions(&first).iter().flatten().count() >= 2,
        "{:?}",
        first.diagnostics
    );
    for _ in 0..20 {
        let again = compile_whole(
            &mut SourceMap::default(),
            "t.vpl",
            Path::new("t.vpl"),
            text,
            &host,
        );
        assert_eq!(suggestions(&again), suggestions(&first));
    }
}
