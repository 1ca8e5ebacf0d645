//! The language server's engine under random editing: documents from the examples and ui
//! tests, edited by random incremental changes (inserted tokens, deletions, ranges out of
//! bounds, surrogate-sized characters), with every request an editor makes after each edit.
//! Nothing may panic. Fixed seed in CI; `VPL_FUZZ_SEED` / `VPL_FUZZ_CASES` for longer runs.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use vpl_compiler::MemoryHost;
use vplc::lsp::engine::{Change, Engine, Pos, Range};

const URI: &str = "file:///work/fuzz.vpl";

/// Tokens an editor session inserts: stage names, punctuation, units, half-typed calls.
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
    "\n",
    " ",
    "let ",
    "pipeline ",
    "model ",
    "decode",
    "infer(",
    "batch(size: ",
    "tile(2, 1)",
    "640x640",
    "30fps",
    "4Mbps",
    "🎥",
    "é",
    "\r",
    "\u{feff}",
    "on: [\"person\"]",
    "every: ",
];

fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("examples")];
    for phase in std::fs::read_dir(root.join("tests/ui")).expect("tests/ui") {
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
    let texts: Vec<String> = paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    assert!(texts.len() >= 10, "a corpus of programs");
    texts
}

#[derive(Debug, Clone)]
struct Edit {
    start: (u32, u32),
    end: (u32, u32),
    token: usize,
    at: (u32, u32),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Lines and columns mostly inside a document, sometimes far outside.
    let line = prop_oneof![8 => 0u32..40, 1 => any::<u32>()];
    let column = prop_oneof![8 => 0u32..80, 1 => any::<u32>()];
    (
        (line.clone(), column.clone()),
        (line.clone(), column.clone()),
        any::<usize>(),
        (line, column),
    )
        .prop_map(|(start, end, token, at)| Edit {
            start,
            end,
            token,
            at,
        })
}

fn fuzz_config(default_cases: u32) -> ProptestConfig {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    ProptestConfig {
        cases: env("VPL_FUZZ_CASES").map_or(default_cases, |n| n as u32),
        rng_seed: proptest::test_runner::RngSeed::Fixed(
            env("VPL_FUZZ_SEED").unwrap_or(0x5eed_0f1f),
        ),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(fuzz_config(1000))]

    #[test]
    fn random_edits_and_requests_never_panic(file in any::<usize>(), edits in prop::collection::vec(edit(), 1..8)) {
        let corpus = corpus();
        let text = corpus[file % corpus.len()].clone();
        let mut e = Engine::new(MemoryHost::new());
        e.open(URI, PathBuf::from("/work/fuzz.vpl"), 1, text);
        for (version, edit) in edits.iter().enumerate() {
            let pos = |(l, c): (u32, u32)| Pos::new(l, c);
            let change = Change {
                range: Some(Range { start: pos(edit.start), end: pos(edit.end) }),
                text: TOKENS[edit.token % TOKENS.len()].to_string(),
            };
            prop_assert!(e.change(URI, version as i32 + 2, vec![change]));
            let at = pos(edit.at);
            let _ = e.diagnostics(URI);
            let _ = e.hover(URI, at);
            let _ = e.definition(URI, at);
            let _ = e.completions(URI, at, edit.token % 2 == 0);
            let _ = e.format(URI);
            if let Some(whole) = e.whole_range(URI) {
                let _ = e.fixes(URI, whole);
            }
            let _ = e.fixes(URI, Range { start: at, end: at });
        }
    }
}
