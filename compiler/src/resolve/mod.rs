//! Syntax tree → resolved program (`hir`): names bound to definitions, calls bound to
//! stdlib built-ins by role, arguments checked for name, type and range, files checked
//! through the host. Every error of a file is collected; nothing here panics on user input.

mod args;
pub mod errors;

use std::collections::HashMap;
use std::path::Path;

use crate::hir::{self, BoundCall, Flow, LetId, ModelId, Value};
use crate::host::{FileProblem, Host, normalize};
use crate::stdlib::{MODULES, Stdlib, stdlib};
use crate::suggest::did_you_mean;
use crate::syntax::Span;
use crate::syntax::ast::{self, Item, Role, Statement, TermKind};
pub use errors::{NameKind, Place, ResolveError};

pub struct Resolved {
    pub program: hir::Program,
    pub errors: Vec<ResolveError>,
}

/// Resolves one parsed file. `dir` is the directory relative paths are resolved against.
pub fn resolve(file: &ast::SourceFile, dir: &Path, host: &dyn Host) -> Resolved {
    let mut env = Env::new(file, dir, host);
    let pipelines = file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Pipeline(p) => Some(env.r.pipeline(p)),
            _ => None,
        })
        .collect();
    let (consts, models, errors) = env.finish();
    Resolved {
        program: hir::Program {
            consts,
            models,
            pipelines,
        },
        errors,
    }
}

/// Binds a call of a source built outside any program (a pool's stream entry, as
/// `crate::pool` makes it from YAML or a control request): its arguments are checked against
/// the source's stdlib declaration with the same codes and words as in a program, at the
/// spans the call carries; `dir` resolves relative paths. `None` where the source is
/// unknown (reported).
pub fn bind_source(
    call: &ast::Call,
    dir: &Path,
    host: &dyn Host,
) -> (Option<BoundCall>, Vec<ResolveError>) {
    let file = ast::SourceFile::default();
    let mut env = Env::new(&file, dir, host);
    let bound = env
        .r
        .callee(call, Role::Source, Place::Head)
        .map(|id| env.r.bind_call(call, id));
    let (_, _, errors) = env.finish();
    (bound, errors)
}

/// A file's items other than its pipelines, resolved: what every pipeline may name. A
/// pipeline reads nothing else of the file, so pipelines can be resolved one at a time
/// (`crate::incremental`), in the order `resolve` takes them.
pub struct Env<'a> {
    r: Resolver<'a>,
}

impl<'a> Env<'a> {
    /// Names every item, then resolves the `use`s, constants and models in file order.
    pub fn new(file: &'a ast::SourceFile, dir: &'a Path, host: &'a dyn Host) -> Env<'a> {
        let mut r = Resolver {
            lib: stdlib(),
            host,
            dir,
            errors: Vec::new(),
            items: HashMap::new(),
            consts: Vec::new(),
            models: Vec::new(),
            const_values: HashMap::new(),
            calls: 0,
        };
        r.collect_items(file);
        for item in &file.items {
            match item {
                Item::Use(u) => r.check_use(u),
                Item::Const(c) => {
                    let value = r.const_value(c);
                    r.consts.push(hir::Const {
                        name: c.name.clone(),
                        value,
                        span: c.span,
                    });
                }
                Item::Model(m) => {
                    if let Some(call) = r.bind_model(m) {
                        r.models.push(hir::Model {
                            name: m.name.clone(),
                            call,
                            doc: m.doc.clone(),
                            span: m.span,
                        });
                    }
                }
                Item::Pipeline(_) | Item::Builtin(_) => {}
            }
        }
        Env { r }
    }

    /// The errors found so far, taken.
    pub fn take_errors(&mut self) -> Vec<ResolveError> {
        std::mem::take(&mut self.r.errors)
    }

    /// The models bound so far, by `ModelId`.
    pub fn models(&self) -> &[hir::Model] {
        &self.r.models
    }

    pub fn consts(&self) -> &[hir::Const] {
        &self.r.consts
    }

    /// One pipeline of the file, with the errors found in it.
    pub fn pipeline(&mut self, p: &ast::Pipeline) -> (hir::Pipeline, Vec<ResolveError>) {
        let before = std::mem::take(&mut self.r.errors);
        let pipeline = self.r.pipeline(p);
        let errors = std::mem::replace(&mut self.r.errors, before);
        (pipeline, errors)
    }

    /// The constants, the models and the errors not yet taken.
    pub fn finish(self) -> (Vec<hir::Const>, Vec<hir::Model>, Vec<ResolveError>) {
        (self.r.consts, self.r.models, self.r.errors)
    }
}

#[derive(Debug, Clone, Copy)]
enum ItemKind {
    Const,
    Model,
    Pipeline,
    Builtin,
}

impl ItemKind {
    fn words(self) -> &'static str {
        match self {
            ItemKind::Const => "constant",
            ItemKind::Model => "model",
            ItemKind::Pipeline => "pipeline",
            ItemKind::Builtin => "built-in",
        }
    }
}

struct Resolver<'a> {
    lib: &'static Stdlib,
    host: &'a dyn Host,
    dir: &'a Path,
    errors: Vec<ResolveError>,
    items: HashMap<String, (ItemKind, Span)>,
    consts: Vec<hir::Const>,
    models: Vec<hir::Model>,
    /// Constants by name, with their syntax, resolved on demand (items come in any order).
    const_values: HashMap<String, ConstSlot<'a>>,
    /// The calls bound so far: the next call's `CallId`, counted from 0 in each pipeline.
    calls: u32,
}

enum ConstSlot<'a> {
    Pending(&'a ast::Expr),
    InProgress,
    Done(Value, Span),
}

/// The streams a pipeline has defined so far.
struct Scope<'p> {
    lets: Vec<hir::Let>,
    by_name: HashMap<String, LetId>,
    /// Every `let` of the pipeline, to say "defined later" for a use before definition.
    all: &'p [(String, Span)],
}

impl<'a> Resolver<'a> {
    fn collect_items(&mut self, file: &'a ast::SourceFile) {
        for item in &file.items {
            let (name, kind) = match item {
                Item::Const(c) => {
                    self.const_values
                        .entry(c.name.name.clone())
                        .or_insert(ConstSlot::Pending(&c.value));
                    (&c.name, ItemKind::Const)
                }
                Item::Model(m) => (&m.name, ItemKind::Model),
                Item::Pipeline(p) => (&p.name, ItemKind::Pipeline),
                Item::Builtin(b) => (&b.name, ItemKind::Builtin),
                Item::Use(_) => continue,
            };
            if let Some((_, first)) = self.items.get(&name.name) {
                self.errors.push(ResolveError::Duplicate {
                    span: name.span,
                    name: name.name.clone(),
                    first: *first,
                    what: kind.words(),
                });
            } else {
                self.items.insert(name.name.clone(), (kind, name.span));
            }
        }
    }

    fn check_use(&mut self, u: &ast::UseItem) {
        let path: Vec<&str> = u.path.iter().map(|i| i.name.as_str()).collect();
        let ok = path.len() == 2 && path[0] == "std" && Stdlib::module(path[1]).is_some();
        if ok {
            return;
        }
        let modules: Vec<String> = MODULES.iter().map(|(m, _)| format!("std.{m}")).collect();
        let joined = path.join(".");
        let suggestion =
            did_you_mean(&joined, modules.iter().map(String::as_str)).map(str::to_string);
        let span = match (u.path.first(), u.path.last()) {
            (Some(a), Some(b)) => a.span.to(b.span),
            _ => u.span,
        };
        self.errors.push(ResolveError::UnknownModule {
            span,
            path: joined,
            suggestion,
            modules,
        });
    }

    fn const_value(&mut self, c: &ast::ConstItem) -> Value {
        self.lookup_const(&c.name.name)
            .map(|(v, _)| v)
            .unwrap_or(Value::Unset)
    }

    /// The value of constant `name`, resolving it first if needed.
    fn lookup_const(&mut self, name: &str) -> Option<(Value, Span)> {
        match self.const_values.get(name)? {
            ConstSlot::Done(v, s) => Some((v.clone(), *s)),
            ConstSlot::InProgress => None,
            ConstSlot::Pending(expr) => {
                let expr: &'a ast::Expr = expr;
                self.const_values
                    .insert(name.to_string(), ConstSlot::InProgress);
                let value = self.plain_value(expr);
                self.const_values
                    .insert(name.to_string(), ConstSlot::Done(value.clone(), expr.span));
                Some((value, expr.span))
            }
        }
    }

    fn bind_model(&mut self, m: &ast::ModelItem) -> Option<BoundCall> {
        let call = &m.value;
        let Some((id, _)) = self.lib.lookup_role(&call.name.name, Role::Model) else {
            let suggestion = did_you_mean(&call.name.name, self.lib.names_with_role(Role::Model))
                .map(str::to_string);
            self.errors.push(ResolveError::UnknownStage {
                span: call.name.span,
                name: call.name.name.clone(),
                role: Role::Model,
                suggestion,
            });
            return None;
        };
        Some(self.bind_call(call, id))
    }

    fn pipeline(&mut self, p: &ast::Pipeline) -> hir::Pipeline {
        self.calls = 0;
        let all: Vec<(String, Span)> = p
            .body
            .iter()
            .filter_map(|s| match s {
                Statement::Let(l) => Some((l.name.name.clone(), l.name.span)),
                Statement::Flow(_) => None,
            })
            .collect();
        let mut scope = Scope {
            lets: Vec::new(),
            by_name: HashMap::new(),
            all: &all,
        };
        let mut flows = Vec::new();
        // Lets that redefine a name or failed to parse: already errors, so never also "unused".
        let mut redefined = Vec::new();
        for stmt in &p.body {
            match stmt {
                Statement::Let(l) => {
                    let flow = self.flow(&l.flow, &mut scope, true);
                    let name = &l.name;
                    let id = LetId(scope.lets.len() as u32);
                    if matches!(l.flow.head.kind, TermKind::Error) {
                        redefined.push(id);
                    }
                    if let Some(&LetId(first)) = scope.by_name.get(&name.name) {
                        redefined.push(id);
                        self.errors.push(ResolveError::Duplicate {
                            span: name.span,
                            name: name.name.clone(),
                            first: scope.lets[first as usize].name.span,
                            what: "stream",
                        });
                    } else if let Some((kind, first)) = self.items.get(&name.name) {
                        redefined.push(id);
                        self.errors.push(ResolveError::Duplicate {
                            span: name.span,
                            name: name.name.clone(),
                            first: *first,
                            what: kind.words(),
                        });
                    }
                    scope.by_name.entry(name.name.clone()).or_insert(id);
                    scope.lets.push(hir::Let {
                        name: name.clone(),
                        broken: flow.is_none(),
                        flow: flow.unwrap_or(Flow::List {
                            items: Vec::new(),
                            span: l.flow.span,
                            ascription: None,
                        }),
                        uses: Vec::new(),
                    });
                }
                Statement::Flow(f) => {
                    if let Some(flow) = self.flow(&f.flow, &mut scope, false) {
                        flows.push(hir::FlowStatement { flow, span: f.span });
                    }
                }
            }
        }
        for (i, l) in scope.lets.iter().enumerate() {
            if l.uses.is_empty()
                && !l.name.name.starts_with('_')
                && !redefined.contains(&LetId(i as u32))
            {
                self.errors.push(ResolveError::Unused {
                    span: l.name.span,
                    name: l.name.name.clone(),
                });
            }
        }
        hir::Pipeline {
            name: p.name.clone(),
            lets: scope.lets,
            flows,
            span: p.span,
        }
    }

    /// Resolves a flow. `in_let`: the flow is bound by `let`, so it must not end in a sink;
    /// otherwise it is a statement and must end in one (E0203). `None` when the head
    /// could not be resolved.
    fn flow(&mut self, flow: &ast::Flow, scope: &mut Scope, in_let: bool) -> Option<Flow> {
        let mut current = self.term(&flow.head, scope);
        let last_index = flow.stages.len().checked_sub(1);
        for (i, stage) in flow.stages.iter().enumerate() {
            let is_last = Some(i) == last_index;
            let role = if is_last
                && !in_let
                && self.lib.lookup_role(&stage.name.name, Role::Sink).is_some()
            {
                Role::Sink
            } else {
                Role::Stage
            };
            let call = self.stage_call(stage, role, is_last, in_let);
            current = match (current, call) {
                (Some(input), Some(call)) => Some(Flow::Apply {
                    input: Box::new(input),
                    call,
                }),
                _ => None,
            };
        }
        if !in_let {
            let ends_in_sink = match flow.stages.last() {
                Some(s) => {
                    self.lib.lookup_role(&s.name.name, Role::Sink).is_some()
                        || self.lib.lookup(&s.name.name).next().is_none()
                }
                None => false,
            };
            let head_is_bad = current.is_none() && flow.stages.is_empty();
            if !ends_in_sink && !head_is_bad {
                let last = flow.stages.last().map(|s| (s.name.name.clone(), s.span));
                self.errors.push(ResolveError::NoSink {
                    span: flow.span,
                    last,
                });
            }
        }
        current
    }

    fn term(&mut self, term: &ast::Term, scope: &mut Scope) -> Option<Flow> {
        let ascription = term.ascription.clone();
        match &term.kind {
            TermKind::Error => None,
            TermKind::Call(call) => {
                let id = self.callee(call, Role::Source, Place::Head)?;
                Some(Flow::Source {
                    call: self.bind_call(call, id),
                    ascription,
                })
            }
            TermKind::Name(name) => {
                if let Some(&id) = scope.by_name.get(&name.name) {
                    scope.lets[id.0 as usize].uses.push(name.span);
                    return Some(Flow::Stream {
                        id,
                        span: name.span,
                        ascription,
                    });
                }
                // A bare source with no required argument reads as its call: `test | ...`.
                if let Some((id, b)) = self.lib.lookup_role(&name.name, Role::Source)
                    && b.params.iter().all(|p| !p.required())
                {
                    let call = ast::Call {
                        name: name.clone(),
                        args: Vec::new(),
                        bare: true,
                        span: name.span,
                    };
                    return Some(Flow::Source {
                        call: self.bind_call(&call, id),
                        ascription,
                    });
                }
                self.unknown_stream(name, scope);
                None
            }
            TermKind::List(flows) => {
                let items: Vec<Option<Flow>> =
                    flows.iter().map(|f| self.flow_in_list(f, scope)).collect();
                let items: Option<Vec<Flow>> = items.into_iter().collect();
                Some(Flow::List {
                    items: items?,
                    span: term.span,
                    ascription,
                })
            }
            TermKind::Paren(inner) => {
                let flow = self.flow_in_list(inner, scope)?;
                match ascription {
                    None => Some(flow),
                    Some(ascription) => Some(Flow::Ascribed {
                        input: Box::new(flow),
                        ascription,
                        span: term.span,
                    }),
                }
            }
        }
    }

    /// A flow nested in a list or parentheses: a stream, not a statement.
    fn flow_in_list(&mut self, flow: &ast::Flow, scope: &mut Scope) -> Option<Flow> {
        self.flow(flow, scope, true)
    }

    fn unknown_stream(&mut self, name: &ast::Ident, scope: &Scope) {
        if let Some((kind, _)) = self.items.get(&name.name) {
            let is = match kind {
                ItemKind::Model => "a model",
                ItemKind::Const => "a constant",
                ItemKind::Pipeline => "a pipeline",
                ItemKind::Builtin => "a built-in",
            };
            self.errors.push(ResolveError::NotAStream {
                span: name.span,
                name: name.name.clone(),
                is,
            });
            return;
        }
        if self.lib.lookup(&name.name).next().is_some() {
            let roles: Vec<Role> = self.lib.lookup(&name.name).map(|(_, b)| b.role).collect();
            self.errors.push(ResolveError::RoleMisuse {
                span: name.span,
                name: name.name.clone(),
                roles,
                place: Place::Head,
            });
            return;
        }
        let defined_later = scope
            .all
            .iter()
            .find(|(n, s)| *n == name.name && s.start > name.span.start)
            .map(|(_, s)| *s);
        // Sorted: of two names as close, the suggestion is the same every run.
        let mut candidates: Vec<&str> = scope.by_name.keys().map(String::as_str).collect();
        candidates.sort_unstable();
        let suggestion = did_you_mean(&name.name, candidates).map(str::to_string);
        self.errors.push(ResolveError::UnknownName {
            span: name.span,
            name: name.name.clone(),
            kind: NameKind::Stream,
            suggestion,
            defined_later,
        });
    }

    fn stage_call(
        &mut self,
        call: &ast::Call,
        role: Role,
        is_last: bool,
        in_let: bool,
    ) -> Option<BoundCall> {
        let place = if is_last && in_let {
            Place::LetEnd
        } else {
            Place::Middle
        };
        let id = self.callee(call, role, place)?;
        Some(self.bind_call(call, id))
    }

    /// Finds the built-in `call` names in the `wanted` role, reporting E0102 or E0110.
    fn callee(
        &mut self,
        call: &ast::Call,
        wanted: Role,
        place: Place,
    ) -> Option<crate::stdlib::BuiltinId> {
        let name = &call.name;
        if let Some((id, _)) = self.lib.lookup_role(&name.name, wanted) {
            return Some(id);
        }
        let roles: Vec<Role> = self.lib.lookup(&name.name).map(|(_, b)| b.role).collect();
        if roles.is_empty() {
            let candidates: Vec<&str> = match wanted {
                Role::Stage => self
                    .lib
                    .names_with_role(Role::Stage)
                    .chain(self.lib.names_with_role(Role::Sink))
                    .collect(),
                other => self.lib.names_with_role(other).collect(),
            };
            let suggestion = did_you_mean(&name.name, candidates).map(str::to_string);
            self.errors.push(ResolveError::UnknownStage {
                span: name.span,
                name: name.name.clone(),
                role: wanted,
                suggestion,
            });
        } else {
            self.errors.push(ResolveError::RoleMisuse {
                span: call.span,
                name: name.name.clone(),
                roles,
                place,
            });
        }
        None
    }

    fn check_file(&mut self, span: Span, path: &str, what: &'static str) -> std::path::PathBuf {
        let resolved = normalize(&self.dir.join(path));
        if let Err(problem) = self.host.check_file(&resolved) {
            self.errors.push(ResolveError::FileProblem {
                span,
                path: path.to_string(),
                resolved: resolved.clone(),
                problem,
                what,
            });
        }
        resolved
    }
}

impl FileProblem {
    pub fn is_not_found(&self) -> bool {
        matches!(self, FileProblem::NotFound)
    }
}

/// Models by name, for binding `infer(model)` arguments.
fn model_id(models: &[hir::Model], name: &str) -> Option<ModelId> {
    models
        .iter()
        .position(|m| m.name.name == name)
        .map(|i| ModelId(i as u32))
}
