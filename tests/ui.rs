//! UI tests: every `tests/ui/<phase>/*.vpl` is checked; its header comment
//! `// expect: E0101, W0001` (or `// expect: clean`) names the codes it must produce, and
//! an insta snapshot holds what a person sees: the source and the rendered diagnostics.

use std::collections::BTreeSet;
use std::path::Path;

use vpl_compiler::diagnostics::render;
use vpl_compiler::{SourceMap, compile};
use vplc::host::FsHost;

/// The codes named by the header comment.
fn expected_codes(text: &str) -> BTreeSet<String> {
    let header = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("// expect:"))
        .expect("a ui case starts with `// expect: CODES` or `// expect: clean`");
    header
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty() && *c != "clean")
        .map(str::to_string)
        .collect()
}

/// The name a ui case is shown under: relative to the repository, so snapshots are stable.
fn display_name(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn ui_cases() {
    let mismatches = std::sync::Mutex::new(Vec::new());
    let host = FsHost::with_cache_file(None);
    insta::glob!("ui/*/*.vpl", |path| {
        let text = std::fs::read_to_string(path).expect("ui case is readable");
        let mut sources = SourceMap::default();
        let name = display_name(path);
        let c = compile(&mut sources, &name, Path::new(&name), &text, &host);
        let produced: BTreeSet<String> = c.diagnostics.iter().map(|d| d.code.to_string()).collect();
        let expected = expected_codes(&text);
        if produced != expected {
            let mut m = mismatches
                .lock()
                .expect("no test thread panicked holding the lock");
            m.push(format!(
                "{name}: expected {expected:?}, produced {produced:?}"
            ));
        }
        let rendered = render::human_string(&sources, &c.diagnostics);
        insta::assert_snapshot!(format!("{text}----- DIAGNOSTICS -----\n{rendered}"));
    });
    let mismatches = mismatches.into_inner().expect("lock is not poisoned");
    assert!(
        mismatches.is_empty(),
        "ui cases with other codes than their header says:\n{}",
        mismatches.join("\n")
    );
}
