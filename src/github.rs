//! Checked files → GitHub Actions workflow commands (`vplc check --format github`): one
//! `::error` or `::warning` line per diagnostic, which the runner turns into annotations
//! on the pull request. Lines and columns as in `--format json` (1-based, Unicode scalar
//! values, end exclusive); help and secondary labels follow in the message.

use std::fmt::Write;

use vpl_compiler::{Diagnostic, SourceMap};

use crate::commands::Checked;

pub fn annotations(checked: &Checked) -> String {
    render(&checked.sources, &checked.diagnostics, &checked.unreadable)
}

/// One line per diagnostic, then one per file that could not be read.
pub fn render(sources: &SourceMap, diagnostics: &[Diagnostic], unreadable: &[String]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let file = sources.get(d.primary.file);
        let (line, col) = file.line_column(d.primary.span.start as usize);
        let (end_line, end_col) = file.line_column(d.primary.span.end as usize);
        let mut props = format!("file={},line={line}", property(&file.name));
        // GitHub reads columns only when the annotation starts and ends on one line.
        if line == end_line {
            let _ = write!(props, ",col={col},endLine={end_line},endColumn={end_col}");
        } else {
            let _ = write!(props, ",endLine={end_line}");
        }
        let _ = write!(props, ",title={}", property(d.code.as_str()));
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        for l in &d.labels {
            let f = sources.get(l.file);
            let (line, col) = f.line_column(l.span.start as usize);
            let _ = write!(message, "\nnote: {}:{line}:{col}: {}", f.name, l.message);
        }
        let _ = writeln!(out, "::{} {props}::{}", d.severity.as_str(), data(&message));
    }
    for reason in unreadable {
        let reason = reason.strip_prefix("vplc: ").unwrap_or(reason);
        let _ = writeln!(out, "::error title=vplc::{}", data(reason));
    }
    out
}

/// A message, escaped as the runner expects (`%`, CR and LF).
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as a message, and also `:` and `,`, which separate properties.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use vpl_compiler::{MemoryHost, compile};

    use super::*;

    fn lines(name: &str, text: &str) -> String {
        let mut sources = SourceMap::default();
        let c = compile(
            &mut sources,
            name,
            Path::new(name),
            text,
            &MemoryHost::new(),
        );
        render(
            &sources,
            &c.diagnostics,
            &["vplc: cannot read x.vpl: gone".into()],
        )
    }

    #[test]
    fn one_line_per_diagnostic() {
        let out = lines(
            "ci/a,b:c%.vpl",
            "pipeline p {\n    let spare = test();\n    rtsp(\"rtsp://café🎥/x\") | decdoe | discard;\n}\npipeline p { test() | discard; }\n",
        );
        let expected = [
            "::warning file=ci/a%2Cb%3Ac%25.vpl,line=2,col=9,endLine=2,endColumn=14,title=W0001::the stream `spare` is never used%0Ahelp: use it in a flow, remove it, or name it `_spare` to keep it quiet",
            // Columns in scalar values: `🎥` counts one.
            "::error file=ci/a%2Cb%3Ac%25.vpl,line=3,col=30,endLine=3,endColumn=36,title=E0102::unknown stage `decdoe`%0Ahelp: did you mean `decode`?",
            "::error file=ci/a%2Cb%3Ac%25.vpl,line=5,col=10,endLine=5,endColumn=11,title=E0103::`p` is defined more than once%0Ahelp: give each definition its own name%0Anote: ci/a,b:c%25.vpl:1:10: `p` first defined here",
            "::error title=vplc::cannot read x.vpl: gone",
        ];
        assert_eq!(out.lines().collect::<Vec<_>>(), expected, "{out}");
    }

    #[test]
    fn escapes() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
