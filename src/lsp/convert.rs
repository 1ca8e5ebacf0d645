//! Between the protocol's types and the engine's plain ones: positions, ranges, problems,
//! completions, and `file://` URIs ↔ paths.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_types as lsp;
use vpl_compiler::Severity;

use super::engine::{self, Completion, CompletionKind, Pos, Problem, Range};

pub fn pos(p: lsp::Position) -> Pos {
    Pos::new(p.line, p.character)
}

pub fn range(r: lsp::Range) -> Range {
    Range {
        start: pos(r.start),
        end: pos(r.end),
    }
}

pub fn to_pos(p: Pos) -> lsp::Position {
    lsp::Position::new(p.line, p.character)
}

pub fn to_range(r: Range) -> lsp::Range {
    lsp::Range::new(to_pos(r.start), to_pos(r.end))
}

/// The path a document's URI names, for resolving the relative paths in it. A URI that
/// is not `file:` (an unsaved buffer) gets a relative path: the server's directory.
pub fn uri_to_path(uri: &lsp::Uri) -> PathBuf {
    let text = uri.as_str();
    if let Some(rest) = text.strip_prefix("file://") {
        // `file:///a/b`, `file://localhost/a/b`; a query or fragment is not a path.
        let path = rest.find('/').map_or("", |slash| &rest[slash..]);
        let path = path.split(['?', '#']).next().unwrap_or("");
        return PathBuf::from(percent_decode(path));
    }
    let name = text.rsplit(['/', ':']).next().unwrap_or("untitled");
    PathBuf::from(percent_decode(name))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `file:///a/b%20c.vpl`: every byte but the unreserved ones and `/` is percent-encoded.
pub fn path_to_uri(path: &Path) -> Option<lsp::Uri> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let mut text = String::from("file://");
    for b in absolute.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            text.push(b as char);
        } else {
            text.push_str(&format!("%{b:02X}"));
        }
    }
    lsp::Uri::from_str(&text).ok()
}

/// The page about a diagnostic code, `docs/errors/CODE.md` in vplc's source tree, when
/// that tree is still where vplc was built from.
pub fn code_page(code: &str) -> Option<lsp::Uri> {
    let page = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/errors")
        .join(format!("{code}.md"));
    if page.is_file() {
        path_to_uri(&page)
    } else {
        None
    }
}

pub fn diagnostic(
    uri: &lsp::Uri,
    problem: Problem,
    pages: &mut std::collections::HashMap<&'static str, Option<lsp::Uri>>,
) -> lsp::Diagnostic {
    let code = problem.code.as_str();
    let href = pages.entry(code).or_insert_with(|| code_page(code)).clone();
    let related: Vec<lsp::DiagnosticRelatedInformation> = problem
        .related
        .into_iter()
        .map(|r| lsp::DiagnosticRelatedInformation {
            location: lsp::Location::new(uri.clone(), to_range(r.range)),
            message: r.message,
        })
        .collect();
    lsp::Diagnostic {
        range: to_range(problem.range),
        severity: Some(match problem.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(code.to_string())),
        code_description: href.map(|href| lsp::CodeDescription { href }),
        source: Some("vplc".to_string()),
        message: problem.message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

pub fn completion(c: Completion) -> lsp::CompletionItem {
    let kind = match c.kind {
        CompletionKind::Stage | CompletionKind::Source | CompletionKind::Sink => {
            lsp::CompletionItemKind::FUNCTION
        }
        CompletionKind::Parameter => lsp::CompletionItemKind::PROPERTY,
        CompletionKind::Model => lsp::CompletionItemKind::CLASS,
        CompletionKind::Constant => lsp::CompletionItemKind::CONSTANT,
        CompletionKind::Stream => lsp::CompletionItemKind::VARIABLE,
        CompletionKind::Value => lsp::CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Keyword => lsp::CompletionItemKind::KEYWORD,
    };
    lsp::CompletionItem {
        label: c.label,
        kind: Some(kind),
        detail: c.detail,
        documentation: c.documentation.map(|value| {
            lsp::Documentation::MarkupContent(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value,
            })
        }),
        insert_text: Some(c.insert_text),
        insert_text_format: Some(if c.snippet {
            lsp::InsertTextFormat::SNIPPET
        } else {
            lsp::InsertTextFormat::PLAIN_TEXT
        }),
        ..lsp::CompletionItem::default()
    }
}

pub fn location(uri: &lsp::Uri, target: engine::Target) -> Option<lsp::Location> {
    let uri = match target.file {
        engine::TargetFile::Document => uri.clone(),
        engine::TargetFile::Path(path) => path_to_uri(&path)?,
    };
    Some(lsp::Location::new(uri, to_range(target.range)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_paths() {
        let uri = path_to_uri(Path::new("/tmp/a b/café.vpl")).expect("a valid URI");
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/caf%C3%A9.vpl");
        assert_eq!(uri_to_path(&uri), PathBuf::from("/tmp/a b/café.vpl"));
        let local = lsp::Uri::from_str("file://localhost/x/y.vpl").expect("valid");
        assert_eq!(uri_to_path(&local), PathBuf::from("/x/y.vpl"));
        let untitled = lsp::Uri::from_str("untitled:Untitled-1").expect("valid");
        assert_eq!(uri_to_path(&untitled), PathBuf::from("Untitled-1"));
        // A malformed escape is kept as written.
        assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
    }
}
