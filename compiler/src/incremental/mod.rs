//! Compiling a new version of a file from the compilation of the previous one (the language
//! server does it at each keystroke). The data still flows one way, text → syntax tree →
//! resolved → typed, but item by item, and what an item made for the previous version is
//! moved over (its spans moved across the edit, `rebase`) instead of made again when
//! nothing it depends on changed:
//!
//! - **parse**: the driver's turns (`syntax::parse::step`, one item each) before the edit
//!   are kept, and so are those after it once the driver, parsing afresh from the edit, is
//!   back where a turn of the old text began. A turn reads the text from the start of the
//!   turn before it to the end of the turn after it, so one turn of margin is parsed again
//!   on each side.
//! - **constants, models, `use`s** are resolved and checked again every time: a file has a
//!   few, and the facts they read come from the host's caches.
//! - **a pipeline** keeps its resolved and typed form and its diagnostics when its text is
//!   unchanged (its turn was kept), the file names the same items in the same order, and no
//!   constant or model whose text changed is named in it (a model or constant naming a
//!   changed one counts as changed). The `outputs` rules read every model's files, so a
//!   changed model checks those rules again on every pipeline.
//!
//! The memo is one version deep: what the new version did not reuse is dropped with the old
//! compilation. `tests/incremental.rs` compares the result with `compile_whole` after each
//! of many random edits.

pub mod rebase;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rebase::{Edit, Rebase, rebase_diagnostic};

use crate::check::{self, TypedPipeline};
use crate::diagnostics::{self, Diagnostic};
use crate::driver::{Compilation, compile_whole};
use crate::hir;
use crate::host::Host;
use crate::resolve;
use crate::source::{FileId, SourceFile, SourceMap};
use crate::syntax::ast::{self, Item};
use crate::syntax::parse::{self, plain_text, step, too_deep_error};
use crate::syntax::{Mode, comments};

/// What a compilation keeps for the next version of its file.
#[derive(Debug, Clone)]
pub(crate) struct Memo {
    /// The text as the parser read it.
    text: String,
    file: FileId,
    dir: PathBuf,
    steps: Vec<StepMemo>,
    /// Every named item's kind and name, in order: what a pipeline may find by name.
    names: Vec<(&'static str, String)>,
    /// The models bound, by `ModelId`.
    models: Vec<String>,
    /// By index in `program.pipelines`.
    pipelines: Vec<PipelineMemo>,
    /// What this compilation took from the previous one: parser turns, pipelines.
    pub(crate) reused: (usize, usize),
}

#[derive(Debug, Clone)]
struct StepMemo {
    start: usize,
    next: usize,
    /// Its item's index in the syntax tree.
    item: Option<usize>,
    /// Its pipeline's index in the resolved program.
    pipeline: Option<usize>,
    diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Default)]
struct PipelineMemo {
    resolve: Vec<Diagnostic>,
    check: Vec<Diagnostic>,
    outputs: Vec<Diagnostic>,
}

/// The previous compilation taken apart, each part taken when reused.
struct Old {
    memo: Memo,
    comments: Vec<ast::Comment>,
    items: Vec<Option<Item>>,
    hir: Vec<Option<hir::Pipeline>>,
    typed: Vec<Option<TypedPipeline>>,
    edit: Edit,
}

impl Old {
    fn new(previous: Compilation, text: &str, dir: &Path) -> Option<Old> {
        let memo = *previous.memo?;
        if memo.dir != dir {
            return None;
        }
        let edit = diff(&memo.text, text);
        Some(Old {
            memo,
            comments: previous.ast.comments,
            items: previous.ast.items.into_iter().map(Some).collect(),
            hir: previous.program.pipelines.into_iter().map(Some).collect(),
            typed: previous.typed.pipelines.into_iter().map(Some).collect(),
            edit,
        })
    }

    /// Step `i` of the old text, moved onto the new one.
    fn take_step(&mut self, i: usize, file: FileId) -> (Step, Option<Item>) {
        let s = &mut self.memo.steps[i];
        let edit = self.edit;
        let mut diagnostics = std::mem::take(&mut s.diagnostics);
        for d in &mut diagnostics {
            rebase_diagnostic(d, &edit, self.memo.file, file);
        }
        let mut item = s.item.and_then(|i| self.items[i].take());
        if edit.delta() != 0 {
            item.rebase(&edit);
        }
        let step = Step {
            start: edit.offset(s.start),
            next: edit.offset(s.next),
            diagnostics,
            kept: true,
            same: true,
            old_pipeline: s.pipeline,
        };
        (step, item)
    }

    /// An item parsed again (a turn of margin around the edit) that came out as it was:
    /// `Some` with the index its pipeline had (if it is one), so that what was made from
    /// it is reused.
    fn same_item(&mut self, new: &parse::Step) -> Option<Option<usize>> {
        let item = new.item.as_ref()?;
        let edit = self.edit;
        let steps = &self.memo.steps;
        let j = steps.partition_point(|s| edit.offset(s.start) < new.start);
        let s = steps.get(j)?;
        if edit.offset(s.start) != new.start
            || edit.offset(s.next) != new.next
            || !edit.clear_of(s.start, s.next)
        {
            return None;
        }
        let mut old = self.items[s.item?].take()?;
        old.rebase(&edit);
        (old == *item).then_some(s.pipeline)
    }

    /// Keeps the old turns that end before the edit (the turn after them reads up to it).
    /// Returns where the driver goes on, and the old turn `k` from which the old turns after
    /// the edit may follow: turn `k + 1` can follow the new turns once they end where turn
    /// `k` ended, `k` starting after the edit (turn `k + 1` reads back into turn `k`). None
    /// when the comments after the edit are not those of the old text.
    fn keep_prefix(
        &mut self,
        file: FileId,
        comments: &[ast::Comment],
        turns: &mut Turns,
    ) -> (usize, Option<usize>) {
        let edit = self.edit;
        let n = self.memo.steps.len();
        let mut pos = 0;
        let mut i = 0;
        while i + 1 < n && self.memo.steps[i + 1].next < edit.start {
            let (s, item) = self.take_step(i, file);
            pos = s.next;
            turns.push(s, item);
            i += 1;
        }
        let suffix_from = if same_comments_after(&self.comments, comments, &edit) {
            (i..n).find(|&k| self.memo.steps[k].start > edit.old_end)
        } else {
            None
        };
        (pos, suffix_from)
    }

    /// Whether the new turns, ending at `pos`, end where the old turn `k` ended (`k` first
    /// moved past the old turns that end before `pos`).
    fn back_in_step(&self, k: &mut usize, pos: usize) -> bool {
        let steps = &self.memo.steps;
        while *k < steps.len() && self.edit.offset(steps[*k].next) < pos {
            *k += 1;
        }
        *k < steps.len() && self.edit.offset(steps[*k].next) == pos
    }

    /// Keeps the old turns from `from` to the end.
    fn keep_suffix(&mut self, from: usize, file: FileId, turns: &mut Turns) {
        for j in from..self.memo.steps.len() {
            let (s, item) = self.take_step(j, file);
            turns.push(s, item);
        }
    }

    /// The old pipeline `index`, resolved, and its diagnostics, moved onto the new text.
    fn take_pipeline(
        &mut self,
        index: usize,
        file: FileId,
    ) -> Option<(hir::Pipeline, PipelineMemo)> {
        let mut h = self.hir[index].take()?;
        let mut m = std::mem::take(&mut self.memo.pipelines[index]);
        if self.edit.delta() != 0 {
            h.rebase(&self.edit);
        }
        for d in m
            .resolve
            .iter_mut()
            .chain(&mut m.check)
            .chain(&mut m.outputs)
        {
            rebase_diagnostic(d, &self.edit, self.memo.file, file);
        }
        Some((h, m))
    }

    /// The old pipeline `index`, typed, moved onto the new text.
    fn take_typed(&mut self, index: usize) -> Option<TypedPipeline> {
        let mut t = self.typed[index].take()?;
        if self.edit.delta() != 0 {
            t.rebase(&self.edit);
        }
        Some(t)
    }
}

/// A turn of the parser in the new version.
struct Step {
    start: usize,
    next: usize,
    diagnostics: Vec<Diagnostic>,
    /// Kept from the old version (not parsed again).
    kept: bool,
    /// Its item is as it was in the old version (kept, or parsed again to the same).
    same: bool,
    /// Kept from the old version: the index its pipeline had there.
    old_pipeline: Option<usize>,
}

/// The bytes that differ between two texts: the common start and end left out.
fn diff(old: &str, new: &str) -> Edit {
    let (a, b) = (old.as_bytes(), new.as_bytes());
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    Edit {
        start: prefix,
        old_end: a.len() - suffix,
        new_end: b.len() - suffix,
    }
}

/// Compiles `text` as `driver::compile` does, reusing what `previous` (a compilation of an
/// earlier version of the same file, made with the same host) made for the parts the edit
/// left alone. The diagnostics are those `compile_whole` gives for `text`.
pub fn compile(
    previous: Option<Compilation>,
    sources: &mut SourceMap,
    name: &str,
    path: &Path,
    text: &str,
    host: &dyn Host,
) -> Compilation {
    let plain = plain_text(text);
    if too_deep_error(&plain).is_some() {
        return compile_whole(sources, name, path, text, host);
    }
    let file = sources.add(SourceFile::new(name, path, text));
    let dir = sources.get(file).dir().to_path_buf();
    let plain: &str = &plain;
    let mut old = previous.and_then(|p| Old::new(p, plain, &dir));
    let (turns, tree) = parse(old.as_mut(), plain, file);

    // ---- what pipelines may read of the other items ----
    let names: Vec<(&'static str, String)> = tree
        .items
        .iter()
        .filter_map(|i| Some((kind_of(i), i.name()?.name.clone())))
        .collect();
    let mut env = resolve::Env::new(&tree, &dir, host);
    let env_resolve: Vec<Diagnostic> = env
        .take_errors()
        .iter()
        .map(|e| e.to_diagnostic(file))
        .collect();
    let models: Vec<String> = env.models().iter().map(|m| m.name.name.clone()).collect();
    let same_names = old
        .as_ref()
        .is_some_and(|o| o.memo.names == names && o.memo.models == models);
    let changed = Changed::find(&tree, &turns, plain, old.is_some());
    // Whether a step's pipeline can be moved over as it was.
    let reusable = |s: &Step, p: &ast::Pipeline| -> Option<usize> {
        let index = s.old_pipeline?;
        (same_names && !names_any(&plain[p.span.range()], &changed.names)).then_some(index)
    };

    let mut pipelines = resolve_pipelines(&mut env, &tree, &turns, old.as_mut(), file, reusable);
    let (consts, env_models, rest) = env.finish();
    debug_assert!(
        rest.is_empty(),
        "resolving a pipeline reports nothing of the others"
    );
    let mut program = hir::Program {
        consts,
        models: env_models,
        pipelines: Vec::new(),
    };
    let (typed, env_check) = check_pipelines(
        &program,
        &mut pipelines,
        old.as_mut(),
        (host, &dir, file),
        changed.models,
    );
    let Pipelines { hir, memos, kept } = pipelines;
    program.pipelines = hir
        .into_iter()
        .map(|p| p.expect("every pipeline was resolved or kept"))
        .collect();
    let mut diagnostics = all_diagnostics(&turns.steps, env_resolve, env_check, &memos);
    // A pool's `streams:` file is read again at each version: it is not part of the text.
    let streams = crate::pool::check_program(&program, &typed, host, (sources, file));
    if !streams.is_empty() {
        diagnostics.extend(streams);
        crate::diagnostics::sort(&mut diagnostics);
    }
    let reused = (
        turns.steps.iter().filter(|s| s.kept).count(),
        kept.iter().flatten().count(),
    );
    let memo = Memo {
        reused,
        text: plain.to_string(),
        file,
        dir,
        steps: turns.memos(&tree),
        names,
        models,
        pipelines: memos,
    };
    Compilation {
        file,
        ast: tree,
        program,
        typed,
        diagnostics,
        memo: Some(Box::new(memo)),
    }
}

/// The parser's turns in the new version.
#[derive(Default)]
struct Turns {
    steps: Vec<Step>,
    /// By step: the index of its item in the syntax tree.
    item_of_step: Vec<Option<usize>>,
    /// The items, while the turns are made; then the syntax tree's.
    items: Vec<Item>,
}

impl Turns {
    fn push(&mut self, step: Step, item: Option<Item>) {
        self.item_of_step.push(item.map(|item| {
            self.items.push(item);
            self.items.len() - 1
        }));
        self.steps.push(step);
    }

    /// Each step with its item.
    fn items<'t>(
        &self,
        tree: &'t ast::SourceFile,
    ) -> impl Iterator<Item = (&Step, Option<&'t Item>)> {
        self.steps
            .iter()
            .zip(&self.item_of_step)
            .map(|(s, i)| (s, i.map(|i| &tree.items[i])))
    }

    /// What the next version keeps of the turns: each with the index of its pipeline in the
    /// resolved program (the pipelines in the order of their turns).
    fn memos(self, tree: &ast::SourceFile) -> Vec<StepMemo> {
        let mut index = 0;
        self.steps
            .into_iter()
            .zip(self.item_of_step)
            .map(|(s, item)| {
                let pipeline = match item.map(|i| &tree.items[i]) {
                    Some(Item::Pipeline(_)) => {
                        index += 1;
                        Some(index - 1)
                    }
                    _ => None,
                };
                StepMemo {
                    start: s.start,
                    next: s.next,
                    item,
                    pipeline,
                    diagnostics: s.diagnostics,
                }
            })
            .collect()
    }
}

/// Parses `plain` turn by turn: the old turns before the edit are kept, and so are those
/// after it once the driver, parsing afresh from the edit, is back where one of them began.
fn parse(mut old: Option<&mut Old>, plain: &str, file: FileId) -> (Turns, ast::SourceFile) {
    let comments = comments::scan(plain);
    let mut turns = Turns::default();
    let (mut pos, mut suffix_from) = match old.as_deref_mut() {
        Some(o) => o.keep_prefix(file, &comments, &mut turns),
        None => (0, None),
    };
    loop {
        if let (Some(o), Some(k)) = (old.as_deref_mut(), suffix_from.as_mut())
            && o.back_in_step(k, pos)
        {
            o.keep_suffix(*k + 1, file, &mut turns);
            break;
        }
        let Some(s) = step(plain, &comments, Mode::Program, pos) else {
            break;
        };
        pos = s.next;
        let same = old.as_deref_mut().and_then(|o| o.same_item(&s));
        let fresh = Step {
            start: s.start,
            next: s.next,
            diagnostics: s.errors.iter().map(|e| e.to_diagnostic(file)).collect(),
            kept: false,
            same: same.is_some(),
            old_pipeline: same.flatten(),
        };
        turns.push(fresh, s.item);
    }
    let items = std::mem::take(&mut turns.items);
    (turns, ast::SourceFile { items, comments })
}

/// The constants and models that are new or changed, and those naming them (one naming a
/// changed one counts as changed).
struct Changed<'t> {
    names: HashSet<&'t str>,
    /// Whether a model is among them: the `outputs` rules of every pipeline are checked
    /// again.
    models: bool,
}

impl<'t> Changed<'t> {
    fn find(tree: &'t ast::SourceFile, turns: &Turns, plain: &str, has_old: bool) -> Changed<'t> {
        let mut names: HashSet<&str> = HashSet::new();
        for (s, item) in turns.items(tree) {
            if let Some(item) = item
                && !s.same
                && let Item::Const(_) | Item::Model(_) | Item::Builtin(_) = item
                && let Some(n) = item.name()
            {
                names.insert(&n.name);
            }
        }
        if !has_old || names.is_empty() {
            return Changed {
                names,
                models: false,
            };
        }
        loop {
            let before = names.len();
            for item in &tree.items {
                if let Item::Const(_) | Item::Model(_) = item
                    && let Some(n) = item.name()
                    && !names.contains(n.name.as_str())
                    && names_any(&plain[item.span().range()], &names)
                {
                    names.insert(&n.name);
                }
            }
            if names.len() == before {
                break;
            }
        }
        let models = tree
            .items
            .iter()
            .any(|i| matches!(i, Item::Model(m) if names.contains(m.name.name.as_str())));
        Changed { names, models }
    }
}

/// The pipelines of the new version, in the order of the resolved program.
struct Pipelines {
    hir: Vec<Option<hir::Pipeline>>,
    memos: Vec<PipelineMemo>,
    /// Moved over from the old version: the index each had there.
    kept: Vec<Option<usize>>,
}

/// Resolves the pipelines that need it; moves over, with their diagnostics, those that
/// `reusable` says can be kept.
fn resolve_pipelines(
    env: &mut resolve::Env,
    tree: &ast::SourceFile,
    turns: &Turns,
    mut old: Option<&mut Old>,
    file: FileId,
    reusable: impl Fn(&Step, &ast::Pipeline) -> Option<usize>,
) -> Pipelines {
    let mut out = Pipelines {
        hir: Vec::new(),
        memos: Vec::new(),
        kept: Vec::new(),
    };
    for (s, item) in turns.items(tree) {
        let Some(Item::Pipeline(p)) = item else {
            continue;
        };
        let taken = match (reusable(s, p), old.as_deref_mut()) {
            (Some(index), Some(o)) => o.take_pipeline(index, file).map(|kept| (index, kept)),
            _ => None,
        };
        match taken {
            Some((index, (h, m))) => {
                out.hir.push(Some(h));
                out.memos.push(m);
                out.kept.push(Some(index));
            }
            None => {
                let (h, errors) = env.pipeline(p);
                out.hir.push(Some(h));
                out.memos.push(PipelineMemo {
                    resolve: errors.iter().map(|e| e.to_diagnostic(file)).collect(),
                    ..PipelineMemo::default()
                });
                out.kept.push(None);
            }
        }
    }
    out
}

/// Checks the pipelines that were resolved again; the kept ones keep their typed form (and
/// their `outputs` rules are checked again when a model changed). Returns the typed program
/// and what checking the constants and models reported.
fn check_pipelines(
    program: &hir::Program,
    pipelines: &mut Pipelines,
    mut old: Option<&mut Old>,
    (host, dir, file): (&dyn Host, &Path, FileId),
    models_changed: bool,
) -> (check::Typed, Vec<Diagnostic>) {
    let mut session = check::Session::new(program, host, dir);
    let env_check: Vec<Diagnostic> = session
        .take_errors()
        .iter()
        .map(|e| e.to_diagnostic(file))
        .collect();
    let mut typed_pipelines = Vec::new();
    for ((h, m), k) in pipelines
        .hir
        .iter()
        .zip(&mut pipelines.memos)
        .zip(&pipelines.kept)
    {
        let h = h.as_ref().expect("every pipeline was resolved or kept");
        let taken = match (k, old.as_deref_mut()) {
            (Some(index), Some(o)) => o.take_typed(*index),
            _ => None,
        };
        let typed = match taken {
            Some(t) => {
                if models_changed {
                    m.outputs = session
                        .outputs(h, &t, dir)
                        .iter()
                        .map(|e| e.to_diagnostic(file))
                        .collect();
                }
                t
            }
            None => {
                let (t, errors, outputs) = session.pipeline(h, dir);
                m.check = errors.iter().map(|e| e.to_diagnostic(file)).collect();
                m.outputs = outputs.iter().map(|e| e.to_diagnostic(file)).collect();
                t
            }
        };
        typed_pipelines.push(typed);
    }
    let typed = check::Typed {
        models: session.finish(),
        pipelines: typed_pipelines,
    };
    (typed, env_check)
}

/// The diagnostics, in the order `compile_whole` finds them.
fn all_diagnostics(
    steps: &[Step],
    env_resolve: Vec<Diagnostic>,
    env_check: Vec<Diagnostic>,
    memos: &[PipelineMemo],
) -> Vec<Diagnostic> {
    let mut all: Vec<Diagnostic> = Vec::new();
    for s in steps {
        all.extend(s.diagnostics.iter().cloned());
    }
    all.extend(env_resolve);
    all.extend(memos.iter().flat_map(|m| m.resolve.iter().cloned()));
    all.extend(env_check);
    all.extend(memos.iter().flat_map(|m| m.check.iter().cloned()));
    all.extend(memos.iter().flat_map(|m| m.outputs.iter().cloned()));
    diagnostics::sort(&mut all);
    all
}

fn kind_of(item: &Item) -> &'static str {
    match item {
        Item::Use(_) => "use",
        Item::Const(_) => "const",
        Item::Model(_) => "model",
        Item::Pipeline(_) => "pipeline",
        Item::Builtin(_) => "builtin",
    }
}

/// Whether `text` has one of `names` as a word.
fn names_any(text: &str, names: &HashSet<&str>) -> bool {
    !names.is_empty()
        && text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| names.contains(w))
}

/// The comments after the edit are those of the old text, moved: the turns kept there
/// read the same comments.
fn same_comments_after(old: &[ast::Comment], new: &[ast::Comment], edit: &Edit) -> bool {
    let old_tail = &old[old.partition_point(|c| (c.span.start as usize) < edit.old_end)..];
    let new_tail = &new[new.partition_point(|c| (c.span.start as usize) < edit.new_end)..];
    old_tail.len() == new_tail.len()
        && old_tail
            .iter()
            .zip(new_tail)
            .all(|(a, b)| a.text == b.text && a.doc == b.doc && edit.span(a.span) == b.span)
}
