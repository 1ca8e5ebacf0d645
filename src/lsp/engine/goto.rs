//! Offset → where the thing under the cursor is defined: a stream's `let`, a model's or
//! constant's item, or a built-in's declaration in `stdlib/<module>.vpl` of the source
//! tree vplc was built from (the declarations are embedded, the files are there to read).

use std::path::{Path, PathBuf};

use vpl_compiler::SourceFile;
use vpl_compiler::stdlib::{Builtin, MODULES};
use vpl_compiler::syntax::Span;

use super::locate::{self, Found};
use super::{Analysis, Range, text};

#[derive(Debug, Clone, PartialEq)]
pub enum TargetFile {
    /// The document the request was about.
    Document,
    Path(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub file: TargetFile,
    pub range: Range,
}

pub fn definition(file: &SourceFile, analysis: &Analysis, offset: usize) -> Option<Target> {
    let ast = &analysis.compilation.ast;
    let here = |span: Span| Target {
        file: TargetFile::Document,
        range: text::range(file, span),
    };
    match locate::find(ast, offset)? {
        Found::LetName { stmt, .. } => Some(here(stmt.name.span)),
        Found::StreamUse { pipeline, ident } => {
            locate::let_of(pipeline, &ident.name, offset).map(|l| here(l.name.span))
        }
        Found::ValueName { ident } => match locate::model(ast, &ident.name) {
            Some(m) => Some(here(m.name.span)),
            None => locate::constant(ast, &ident.name).map(|c| here(c.name.span)),
        },
        Found::ModelName(m) => Some(here(m.name.span)),
        Found::ConstName(c) => Some(here(c.name.span)),
        Found::CallName { call, role } => {
            let b = locate::builtin(call, role)?;
            Some(in_stdlib(b, b.name_span))
        }
        Found::ArgName { call, role, ident } => {
            let b = locate::builtin(call, role)?;
            let (_, p) = b.param(&ident.name)?;
            Some(in_stdlib(b, p.span))
        }
    }
}

/// A place in the stdlib file that declares `b`.
fn in_stdlib(b: &Builtin, span: Span) -> Target {
    let (module, source) = MODULES.get(b.module).copied().unwrap_or(("", ""));
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("stdlib")
        .join(format!("{module}.vpl"));
    let file = SourceFile::new(path.display().to_string(), &path, source);
    Target {
        file: TargetFile::Path(path),
        range: text::range(&file, span),
    }
}
