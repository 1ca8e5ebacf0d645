//! One file through the front end: parse, then resolve, collecting every diagnostic.

use std::path::Path;

use crate::check::{self, Typed};
use crate::diagnostics::{self, Diagnostic};
use crate::hir::Program;
use crate::host::Host;
use crate::resolve::resolve;
use crate::source::{FileId, SourceFile, SourceMap};
use crate::syntax::{self, Mode, ast};

pub struct Compilation {
    pub file: FileId,
    pub ast: ast::SourceFile,
    pub program: Program,
    pub typed: Typed,
    /// Sorted by position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Compiles the text of one `.vpl` file. `name` is shown to users; `path` locates the file
/// so that the paths it names can be resolved. The text is added to `sources`.
pub fn compile(
    sources: &mut SourceMap,
    name: &str,
    path: &Path,
    text: &str,
    host: &dyn Host,
) -> Compilation {
    let file = sources.add(SourceFile::new(name, path, text));
    let parsed = syntax::parse(text, Mode::Program);
    let mut diagnostics: Vec<Diagnostic> = parsed
        .errors
        .iter()
        .map(|e| e.to_diagnostic(file))
        .collect();
    let dir = sources.get(file).dir().to_path_buf();
    let resolved = resolve(&parsed.file, &dir, host);
    diagnostics.extend(resolved.errors.iter().map(|e| e.to_diagnostic(file)));
    let (typed, type_errors) = check::check(&resolved.program, host, &dir);
    diagnostics.extend(type_errors.iter().map(|e| e.to_diagnostic(file)));
    diagnostics::sort(&mut diagnostics);
    Compilation {
        file,
        ast: parsed.file,
        program: resolved.program,
        typed,
        diagnostics,
    }
}
