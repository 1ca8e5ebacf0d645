//! One file through the front end: parse, then resolve, collecting every diagnostic.

use std::path::Path;

use crate::check::{self, Typed};
use crate::diagnostics::{self, Diagnostic};
use crate::hir::Program;
use crate::host::Host;
use crate::ir::Graph;
use crate::plan::{Lowered, Plan};
use crate::resolve::resolve;
use crate::source::{FileId, SourceFile, SourceMap};
use crate::syntax::{self, Mode, ast};
use crate::target::Target;

pub struct Compilation {
    pub file: FileId,
    pub ast: ast::SourceFile,
    pub program: Program,
    pub typed: Typed,
    /// Sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// What the next version of the file can reuse (`crate::incremental`).
    pub(crate) memo: Option<Box<crate::incremental::Memo>>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// How many parser turns and pipelines this compilation took over from the previous
    /// version's (`compile_incremental`) instead of making them again.
    pub fn reused(&self) -> (usize, usize) {
        self.memo.as_ref().map_or((0, 0), |m| m.reused)
    }

    /// The index of the pipeline to build: the only one, or the one named.
    pub fn select_pipeline(&self, name: Option<&str>) -> Result<usize, SelectError> {
        let names: Vec<String> = self
            .program
            .pipelines
            .iter()
            .map(|p| p.name.name.clone())
            .collect();
        match name {
            Some(n) => names
                .iter()
                .position(|p| p == n)
                .ok_or(SelectError::Unknown {
                    name: n.to_string(),
                    names,
                }),
            None if names.len() == 1 => Ok(0),
            None if names.is_empty() => Err(SelectError::None),
            None => Err(SelectError::Several { names }),
        }
    }

    /// Lowers a checked pipeline: its optimised graph and its plan. Call only when the
    /// compilation has no errors; an `Err` is a broken invariant of vpl itself.
    pub fn lower(&self, index: usize) -> Result<(Graph, Plan), String> {
        let (graph, lowered) = self.lower_for(index, &Target::cpu())?;
        Ok((graph, lowered.plan))
    }

    /// Lowers a checked pipeline for `target`; what lowering chose for the target (NVDEC,
    /// NVENC or the CPU, and why) ends the graph's pass log.
    pub fn lower_for(&self, index: usize, target: &Target) -> Result<(Graph, Lowered), String> {
        let mut graph = crate::ir::build(&self.program, &self.typed, index);
        crate::ir::passes::optimise(&mut graph)?;
        let lowered = crate::plan::lower_for(&graph, target);
        graph.log.extend(lowered.log.iter().cloned());
        Ok((graph, lowered))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    None,
    Several { names: Vec<String> },
    Unknown { name: String, names: Vec<String> },
}

impl std::fmt::Display for SelectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SelectError::None => f.write_str("the file has no pipeline"),
            SelectError::Several { names } => {
                write!(
                    f,
                    "the file has several pipelines ({}): choose one with --pipeline",
                    names.join(", ")
                )
            }
            SelectError::Unknown { name, names } => {
                write!(
                    f,
                    "no pipeline `{name}` in the file; it has {}",
                    names.join(", ")
                )
            }
        }
    }
}

/// Compiles the text of one `.vpl` file. `name` is shown to users; `path` locates the file
/// so that the paths it names can be resolved. The text is added to `sources`.
/// Item by item (`crate::incremental`), so that the next version of the file can be
/// compiled from this one with `compile_incremental`.
pub fn compile(
    sources: &mut SourceMap,
    name: &str,
    path: &Path,
    text: &str,
    host: &dyn Host,
) -> Compilation {
    crate::incremental::compile(None, sources, name, path, text, host)
}

/// Compiles `text`, a new version of the file `previous` was compiled from (with the same
/// host), reusing what the edit left alone. Same result as `compile`.
pub fn compile_incremental(
    previous: Compilation,
    sources: &mut SourceMap,
    name: &str,
    path: &Path,
    text: &str,
    host: &dyn Host,
) -> Compilation {
    crate::incremental::compile(Some(previous), sources, name, path, text, host)
}

/// Compiles the whole file in one pass per phase: the reference the item-by-item path is
/// tested against (`tests/incremental.rs`).
pub fn compile_whole(
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
    diagnostics.extend(crate::pool::check_program(
        &resolved.program,
        &typed,
        host,
        (sources, file),
    ));
    diagnostics::sort(&mut diagnostics);
    Compilation {
        file,
        ast: parsed.file,
        program: resolved.program,
        typed,
        diagnostics,
        memo: None,
    }
}
