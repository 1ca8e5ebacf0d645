//! Properties of the front end over every example and ui case: `vplc fmt` is idempotent,
//! keeps every comment and keeps the tree; and no input, however mangled, makes the
//! parser, the resolver or the formatter panic.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use vpl_compiler::syntax::{Mode, dump::dump, parse};
use vpl_compiler::{MemoryHost, SourceMap, compile, fmt};

fn corpus() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut dirs = vec![root.join("examples"), root.join("stdlib")];
    for phase in std::fs::read_dir(root.join("tests/ui")).expect("tests/ui") {
        dirs.push(phase.expect("entry").path());
    }
    for dir in dirs {
        for entry in std::fs::read_dir(&dir).expect("corpus dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "vpl") {
                let text = std::fs::read_to_string(&path).expect("corpus file");
                files.push((path, text));
            }
        }
    }
    files.sort();
    files
}

fn mode_of(path: &Path) -> Mode {
    if path.components().any(|c| c.as_os_str() == "stdlib") {
        Mode::Stdlib
    } else {
        Mode::Program
    }
}

fn comment_texts(text: &str, mode: Mode) -> Vec<String> {
    parse(text, mode)
        .file
        .comments
        .iter()
        .map(|c| c.text.trim_end().to_string())
        .collect()
}

#[test]
fn fmt_is_idempotent_keeps_comments_and_tree() {
    let mut formatted_files = 0;
    for (path, text) in corpus() {
        let mode = mode_of(&path);
        let Ok(once) = fmt::format(&text, mode) else {
            continue; // a ui case with syntax errors: fmt refuses it (tested in cli.rs)
        };
        formatted_files += 1;
        let twice = fmt::format(&once, mode).expect("formatted text parses");
        assert_eq!(once, twice, "fmt is not idempotent on {}", path.display());
        assert_eq!(
            comment_texts(&text, mode),
            comment_texts(&once, mode),
            "fmt lost or reordered a comment of {}",
            path.display()
        );
        assert_eq!(
            dump(&parse(&text, mode).file),
            dump(&parse(&once, mode).file),
            "fmt changed the tree of {}",
            path.display()
        );
    }
    assert!(
        formatted_files >= 40,
        "only {formatted_files} corpus files were formatted"
    );
}

#[test]
fn examples_and_stdlib_are_formatted() {
    for (path, text) in corpus() {
        let in_examples = path
            .components()
            .any(|c| c.as_os_str() == "examples" || c.as_os_str() == "stdlib");
        if in_examples {
            let formatted = fmt::format(&text, mode_of(&path)).expect("parses");
            assert_eq!(
                formatted,
                text,
                "{} is not in canonical layout: run `vplc fmt`",
                path.display()
            );
        }
    }
}

/// Runs the whole front end on `text`; the test fails if anything panics.
fn front_end(text: &str) {
    let mut sources = SourceMap::default();
    let host = MemoryHost::new();
    let c = compile(&mut sources, "fuzz.vpl", Path::new("fuzz.vpl"), text, &host);
    let _ = vpl_compiler::diagnostics::render::human_string(&sources, &c.diagnostics);
    let _ = vpl_compiler::diagnostics::render::json(&sources, &c.diagnostics);
    if let Ok(formatted) = fmt::format(text, Mode::Program) {
        let again = fmt::format(&formatted, Mode::Program).expect("formatted text parses");
        assert_eq!(formatted, again, "fmt not idempotent on:\n{text}");
    }
}

/// Found by `mutated_programs_never_panic`: a comment between a model's `)` and its `;`
/// broke the call over lines, and the next `fmt` joined it again.
#[test]
fn a_comment_before_the_semicolon_formats_idempotently() {
    for text in [
        "model people = onnx(\"a.onnx\",\n    labels: [\"person\"],\n)\n/// doc\n;\n",
        "model people = onnx(\"a.onnx\", labels: [\"person\"]) // plain\n;\npipeline p { test() | discard; }\n",
        "const A = 1 // c\n;\n",
        "pipeline p {\n    let a = test() /// d\n    ;\n    a | discard // e\n    ;\n}\n",
    ] {
        front_end(text);
        let once = fmt::format(text, Mode::Program).expect("formats");
        assert_eq!(
            comment_texts(&once, Mode::Program),
            comment_texts(text, Mode::Program)
        );
    }
}

const TOKENS: &[&str] = &[
    "|",
    ";",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "\"",
    ":",
    ",",
    "=",
    "<",
    ">",
    ".",
    "_",
    "let ",
    "model ",
    "pipeline ",
    "const ",
    "use ",
    "builtin ",
    "x",
    "1280x",
    "0fps",
    "30000/1001fps",
    "-4Mbps",
    "4Mbs",
    "é",
    "☕",
    "\n",
    "// c\n",
    "/// d\n",
    "\\",
    "decode",
    "file(\"a.mp4\")",
    "infer(",
    "video<h264, _, _>",
    "tensor<f32, [1, 3]>",
    "99999999999999999999",
    "..",
    "..=",
];

#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, token: usize },
    Duplicate { at: usize, len: usize },
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        let n = chars.len().max(1);
        match *edit {
            Edit::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(chars.len());
                if at < end {
                    chars.drain(at..end);
                }
            }
            Edit::Insert { at, token } => {
                let at = at % (chars.len() + 1);
                let token: Vec<char> = TOKENS[token % TOKENS.len()].chars().collect();
                chars.splice(at..at, token);
            }
            Edit::Duplicate { at, len } => {
                let at = at % n;
                let end = (at + len).min(chars.len());
                let piece: Vec<char> = chars.get(at..end).unwrap_or(&[]).to_vec();
                chars.splice(at..at, piece);
            }
        }
    }
    chars.into_iter().collect()
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..12).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), any::<usize>()).prop_map(|(at, token)| Edit::Insert { at, token }),
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Edit::Duplicate { at, len }),
    ]
}

/// CI runs the fuzzers with a fixed seed, so a failure is the same on every machine and
/// a change that breaks it fails its own commit; `VPL_FUZZ_SEED` and `VPL_FUZZ_CASES`
/// make the longer runs of BENCHMARKS.md ("Fuzzing").
fn fuzz_config(default_cases: u32) -> ProptestConfig {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    ProptestConfig {
        cases: env("VPL_FUZZ_CASES").map_or(default_cases, |n| n as u32),
        rng_seed: proptest::test_runner::RngSeed::Fixed(
            env("VPL_FUZZ_SEED").unwrap_or(0x5eed_0f1f),
        ),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(fuzz_config(1500))]

    #[test]
    fn mutated_programs_never_panic(file in any::<usize>(), edits in prop::collection::vec(edit(), 1..6)) {
        let corpus = corpus();
        let (_, text) = &corpus[file % corpus.len()];
        front_end(&apply(text, &edits));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        front_end(&text);
    }
}
