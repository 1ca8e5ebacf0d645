//! The shape of vpl's own source, held where a newcomer and a reviewer need it
//! (docs/architecture.md, "Adding a decoder"):
//! - no decoder is compared by its name as a string outside the one table that reads the
//!   source text (`compiler/src/stage.rs`, `StageKind::of`, which looks the names up in the
//!   `decoders!` registry of `compiler/src/decoders/mod.rs`): everywhere else the decoder is
//!   a `stage::Decoder` or the plan's typed spec, so rustc lists every place a new decoder
//!   must be handled;
//! - no file of `compiler/src` or `runtime/src` has more than 800 code lines and no
//!   function more than 150 (blank lines and `//` comments not counted).

use std::path::{Path, PathBuf};

use vpl_compiler::stdlib::stdlib;
use vpl_compiler::syntax::ast::Role;

const MAX_FILE_LINES: usize = 800;
const MAX_FN_LINES: usize = 150;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn sources(dirs: &[&str]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for dir in dirs {
        rust_files(&root().join(dir), &mut files);
    }
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("a readable source file");
            let name = p.strip_prefix(root()).unwrap_or(&p).display().to_string();
            (name, text)
        })
        .collect()
}

fn is_code(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && !t.starts_with("//")
}

/// The text with comments, strings and character literals blanked (newlines kept), so
/// that braces and quotes can be counted. Lifetimes (`'a`) are left as they are.
fn blank(text: &str) -> String {
    let s: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let keep_lines = |chars: &[char], out: &mut String| {
        for c in chars {
            out.push(if *c == '\n' { '\n' } else { ' ' });
        }
    };
    while i < s.len() {
        let rest = &s[i..];
        let ident_before = i > 0 && (s[i - 1].is_alphanumeric() || s[i - 1] == '_');
        if rest.starts_with(&['/', '/']) {
            let end = rest.iter().position(|c| *c == '\n').unwrap_or(rest.len());
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if rest.starts_with(&['/', '*']) {
            let end = (2..rest.len())
                .find(|k| rest[k - 1] == '*' && rest[*k] == '/')
                .map_or(rest.len(), |k| k + 1);
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if !ident_before && raw_string_start(rest).is_some() {
            let (open, hashes) = raw_string_start(rest).expect("checked");
            let mut end = rest.len();
            let mut k = open;
            while k < rest.len() {
                if rest[k] == '"'
                    && rest[k + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|c| **c == '#')
                        .count()
                        == hashes
                {
                    end = k + 1 + hashes;
                    break;
                }
                k += 1;
            }
            keep_lines(&rest[..end.min(rest.len())], &mut out);
            i += end.min(rest.len());
        } else if rest[0] == '"' {
            let mut k = 1;
            while k < rest.len() && rest[k] != '"' {
                k += if rest[k] == '\\' { 2 } else { 1 };
            }
            let end = (k + 1).min(rest.len());
            keep_lines(&rest[..end], &mut out);
            i += end;
        } else if rest[0] == '\'' {
            // A character literal: 'x', '\n', '\u{1F600}', '\''; else a lifetime.
            let end = if rest.len() > 2 && rest[1] != '\\' && rest[2] == '\'' {
                Some(3)
            } else if rest.len() > 2 && rest[1] == '\\' {
                (3..rest.len().min(12))
                    .find(|k| rest[*k] == '\'')
                    .map(|k| k + 1)
            } else {
                None
            };
            match end {
                Some(end) => {
                    keep_lines(&rest[..end], &mut out);
                    i += end;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(rest[0]);
            i += 1;
        }
    }
    out
}

/// `r"`, `r#"`, `br##"` …: the index after the opening quote and the number of hashes.
fn raw_string_start(rest: &[char]) -> Option<(usize, usize)> {
    let mut k = 0;
    if rest.first() == Some(&'b') {
        k += 1;
    }
    if rest.get(k) != Some(&'r') {
        return None;
    }
    k += 1;
    let hashes = rest[k..].iter().take_while(|c| **c == '#').count();
    k += hashes;
    (rest.get(k) == Some(&'"')).then_some((k + 1, hashes))
}

/// Every `fn` with a body: (name, first line (1-based), code lines).
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let blanked = blank(text);
    let lines: Vec<&str> = blanked.lines().collect();
    let original: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let mut depth = 0i64;
        let mut started = false;
        let mut end = None;
        for (j, l) in lines.iter().enumerate().skip(i) {
            for c in l.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        started = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if !started && l.trim_end().ends_with(';') {
                break;
            }
            if started && depth <= 0 {
                end = Some(j);
                break;
            }
        }
        if let Some(end) = end {
            let count = original[i..=end.min(original.len() - 1)]
                .iter()
                .filter(|l| is_code(l))
                .count();
            out.push((name, i + 1, count));
        }
    }
    out
}

fn fn_name(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "fn")?;
    let before_ok = words[..at].iter().all(|w| {
        w.starts_with("pub") || matches!(*w, "const" | "async" | "unsafe" | "extern" | "\"C\"")
    });
    if !before_ok {
        return None;
    }
    let name: String = words
        .get(at + 1)?
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

#[test]
fn no_source_file_is_over_800_code_lines_and_no_function_over_150() {
    let mut over = Vec::new();
    for (name, text) in sources(&["compiler/src", "runtime/src"]) {
        let lines = text.lines().filter(|l| is_code(l)).count();
        if lines > MAX_FILE_LINES {
            over.push(format!("{name}: {lines} code lines"));
        }
        for (f, line, count) in functions(&text) {
            if count > MAX_FN_LINES {
                over.push(format!("{name}:{line}: fn {f} has {count} code lines"));
            }
        }
    }
    assert!(
        over.is_empty(),
        "split these (at most {MAX_FILE_LINES} code lines a file, {MAX_FN_LINES} a function):\n{}",
        over.join("\n")
    );
}

#[test]
fn the_size_count_sees_functions_as_rustc_does() {
    let text = "fn a() {\n    let s = \"}\";\n    let c = '{';\n    // }\n    let r = r#\"{\"#;\n}\nfn b<'x>(v: &'x str) -> &'x str {\n    v\n}\n";
    let found = functions(text);
    assert_eq!(
        found,
        vec![("a".to_string(), 1, 5), ("b".to_string(), 7, 3)]
    );
}

/// Where a decoder's name may stand as text: the table that reads the source text.
const NAME_TABLE: &str = "compiler/src/stage.rs";

/// Lines that compare a word that is also a decoder's name, meaning something else.
const OTHER_MEANINGS: &[(&str, &str)] = &[
    // `video<raw, …>`: any raw video format, a type, not the `raw` decoder.
    ("compiler/src/check/sources.rs", "if n == \"raw\" {"),
];

#[test]
fn no_decoder_is_matched_by_its_name_outside_the_table_that_reads_the_source() {
    let names: Vec<String> = stdlib()
        .names_with_role(Role::Decoder)
        .map(str::to_string)
        .collect();
    assert!(names.len() >= 11, "the stdlib's decoders: {names:?}");
    let mut found = Vec::new();
    for (file, text) in sources(&["compiler/src", "runtime/src", "src"]) {
        if file == NAME_TABLE {
            continue;
        }
        for (n, line) in text.lines().enumerate() {
            if OTHER_MEANINGS.contains(&(file.as_str(), line.trim())) {
                continue;
            }
            let code = line.split("//").next().unwrap_or("");
            for name in &names {
                let quoted = format!("\"{name}\"");
                let Some(at) = code.find(&quoted) else {
                    continue;
                };
                let before = code[..at].trim_end();
                let after = code[at + quoted.len()..].trim_start();
                let compared = before.ends_with("==")
                    || before.ends_with("!=")
                    || after.starts_with("=>")
                    || after.starts_with('|')
                    || before.ends_with('|')
                    || after.starts_with("==")
                    || before.ends_with("Some(")
                    || before.ends_with("matches!(");
                if compared {
                    found.push(format!("{file}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "decoders compared by name (match on `stage::Decoder` or the plan's spec instead; \
         only {NAME_TABLE} reads names):\n{}",
        found.join("\n")
    );
}
