//! The generated parts of docs/language.md, vpl's language reference: every built-in of
//! `stdlib/*.vpl` (signature, parameters with types, ranges, defaults and docs) and every
//! diagnostic code with its one-line meaning. `tests/language_doc.rs` fails when the file
//! and these drift apart; `VPL_BLESS=1 cargo test --test language_doc` rewrites the blocks.

use std::fmt::Write as _;

use vpl_compiler::Code;
use vpl_compiler::stdlib::{Builtin, MODULES, stdlib};

/// Marks the block of built-ins in docs/language.md.
pub const STDLIB_BEGIN: &str = "<!-- generated from stdlib/*.vpl: begin -->";
pub const STDLIB_END: &str = "<!-- generated from stdlib/*.vpl: end -->";
/// Marks the table of codes in docs/language.md.
pub const CODES_BEGIN: &str = "<!-- generated from the codes: begin -->";
pub const CODES_END: &str = "<!-- generated from the codes: end -->";

/// Every built-in, module by module, in the order of its declaration.
pub fn builtins_markdown() -> String {
    let lib = stdlib();
    let mut out = String::new();
    for (module, (name, _)) in MODULES.iter().enumerate() {
        let _ = writeln!(out, "### `std.{name}`\n");
        for builtin in lib.builtins.iter().filter(|b| b.module == module) {
            builtin_section(&mut out, builtin);
        }
    }
    out
}

fn builtin_section(out: &mut String, b: &Builtin) {
    let _ = writeln!(out, "#### `{}` ({})\n", b.name, b.role.as_str());
    if let Some(doc) = &b.doc {
        let _ = writeln!(out, "{}\n", doc.trim());
    }
    let _ = writeln!(out, "```vpl\n{}\n```\n", b.signature());
    if b.params.is_empty() {
        return;
    }
    out.push_str("| parameter | type | default | meaning |\n|---|---|---|---|\n");
    for p in &b.params {
        let mut ty = p.ty.describe();
        if let Some(range) = &p.range {
            let _ = write!(ty, ", `{}`", range.text);
        }
        let default = match p.text.split_once(" = ") {
            Some((_, d)) if d.trim() == "_" => "chosen by vpl".to_string(),
            Some((_, d)) => format!("`{}`", d.trim()),
            None => "required".to_string(),
        };
        let doc = p
            .doc
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            p.name,
            cell(&ty),
            cell(&default),
            cell(&doc)
        );
    }
    out.push('\n');
}

/// A table cell: pipes escaped, so `a | b` in a type or a doc stays in its cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// One row a code: the code, its severity and what it means.
pub fn codes_markdown() -> String {
    let mut out = String::from("| code | severity | meaning |\n|---|---|---|\n");
    for code in Code::ALL {
        let severity = match code.severity() {
            vpl_compiler::Severity::Error => "error",
            vpl_compiler::Severity::Warning => "warning",
        };
        let _ = writeln!(
            out,
            "| [{c}](errors/{c}.md) | {severity} | {} |",
            cell(code.summary()),
            c = code.as_str()
        );
    }
    out
}

/// `doc` with the text between `begin` and `end` replaced by `block`; `None` when the
/// markers are missing.
pub fn replace_block(doc: &str, begin: &str, end: &str, block: &str) -> Option<String> {
    let start = doc.find(begin)? + begin.len();
    let stop = start + doc[start..].find(end)?;
    Some(format!(
        "{}\n\n{}\n{}",
        &doc[..start],
        block.trim_end(),
        &doc[stop..]
    ))
}

/// docs/language.md as it should be: its generated blocks renewed.
pub fn renew(doc: &str) -> Option<String> {
    let doc = replace_block(doc, STDLIB_BEGIN, STDLIB_END, &builtins_markdown())?;
    replace_block(&doc, CODES_BEGIN, CODES_END, &codes_markdown())
}
