//! Binding a call's arguments to its built-in's parameters: names, positions, types,
//! ranges and defaults. Part of `resolve`.

use super::{ItemKind, ResolveError, Resolver, model_id};
use crate::hir::{BoundArg, BoundCall, CallId, Value};
use crate::stage::{Geometry, Source, StageKind};
use crate::stdlib::{Builtin, BuiltinId, ParamSpec, ParamType, ValueRange, literal_type};
use crate::suggest::did_you_mean;
use crate::syntax::Span;
use crate::syntax::ast::{self, ExprKind, Role};
use crate::syntax::literal::LitValue;

impl ValueRange {
    /// In words: "at least 1", "from 0.0 to 1.0".
    pub fn describe(&self) -> String {
        let text = self.text;
        let (lo, hi) = text.split_once("..").unwrap_or((text, ""));
        let hi = hi.trim_start_matches('=');
        match (lo.is_empty(), hi.is_empty()) {
            (false, true) => format!("at least {lo}"),
            (true, false) if self.inclusive => format!("at most {hi}"),
            (true, false) => format!("below {hi}"),
            (false, false) if self.inclusive => format!("from {lo} to {hi}"),
            _ => format!("from {lo} up to (not including) {hi}"),
        }
    }
}

/// The parameters that name a file, a directory or a device: a NUL byte in them is E0107.
const PATH_PARAMS: [&str; 7] = [
    "path", "labels", "alphabet", "anchors", "device", "video", "dir",
];

fn lit_value(value: &LitValue) -> Value {
    match *value {
        LitValue::Int(v) => Value::Int(v),
        LitValue::Float(v) => Value::Float(v),
        LitValue::Duration(v) => Value::Duration(v),
        LitValue::Bitrate(v) => Value::Bitrate(v),
        LitValue::Rate { num, den } => Value::Rate { num, den },
        LitValue::Resolution { width, height } => Value::Resolution { width, height },
        LitValue::Invalid => Value::Unset,
    }
}

fn value_number(value: &Value) -> Option<f64> {
    match *value {
        Value::Int(v) | Value::Duration(v) | Value::Bitrate(v) => Some(v as f64),
        Value::Float(v) => Some(v),
        Value::Rate { num, den } => Some(num as f64 / den as f64),
        _ => None,
    }
}

/// Whether `value` (of a constant) fits `ty`; ints are accepted where floats are.
fn fits(value: &Value, ty: &ParamType) -> Option<Value> {
    let ok = |t: ParamType| ty.accepts(&t);
    match value {
        Value::Unset => Some(Value::Unset),
        Value::Int(v) if !ok(ParamType::Int) && ok(ParamType::Float) => {
            Some(Value::Float(*v as f64))
        }
        Value::Int(_) if ok(ParamType::Int) => Some(value.clone()),
        Value::Float(_) if ok(ParamType::Float) => Some(value.clone()),
        Value::Bool(_) if ok(ParamType::Bool) => Some(value.clone()),
        Value::String(_) if ok(ParamType::String) => Some(value.clone()),
        Value::Duration(_) if ok(ParamType::Duration) => Some(value.clone()),
        Value::Bitrate(_) if ok(ParamType::Bitrate) => Some(value.clone()),
        Value::Rate { .. } if ok(ParamType::Framerate) => Some(value.clone()),
        Value::Resolution { .. } if ok(ParamType::Resolution) => Some(value.clone()),
        Value::Symbol(s) if ty.words().contains(&s.as_str()) => Some(value.clone()),
        Value::Decoder(_) if ok(ParamType::Decoder) => Some(value.clone()),
        Value::Tensor(_) if ok(ParamType::Tensor) => Some(value.clone()),
        Value::Shape { call, .. } if ok(shape_type(call)) => Some(value.clone()),
        Value::List(items) => {
            let elem = ty.list_element()?;
            items
                .iter()
                .map(|v| fits(v, elem))
                .collect::<Option<Vec<_>>>()
                .map(Value::List)
        }
        _ => None,
    }
}

/// The parameter type a `zone(...)` or `line(...)` value has.
fn shape_type(call: &BoundCall) -> ParamType {
    match call.kind {
        StageKind::Geometry(Geometry::Line) => ParamType::Line,
        _ => ParamType::Zone,
    }
}

fn describe_value(value: &Value) -> String {
    match value {
        Value::Int(_) => "an integer".into(),
        Value::Float(_) => "a number".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::String(_) => "a string".into(),
        Value::Duration(_) => "a duration".into(),
        Value::Bitrate(_) => "a bitrate".into(),
        Value::Rate { .. } => "a frame rate".into(),
        Value::Resolution { .. } => "a resolution".into(),
        Value::Symbol(s) => format!("`{s}`"),
        Value::List(_) => "a list".into(),
        Value::Model(_) => "a model".into(),
        Value::Decoder(_) => "a decoder".into(),
        Value::Tensor(_) => "a tensor type".into(),
        Value::Shape { call, .. } => format!("a {}", call.name),
        Value::Unset => "`_`".into(),
    }
}

/// The context of one argument, for messages.
struct ArgSite<'b> {
    callee: &'b str,
    param: &'b ParamSpec,
}

impl<'a> Resolver<'a> {
    pub(super) fn bind_call(&mut self, call: &ast::Call, id: BuiltinId) -> BoundCall {
        let b: &'static Builtin = self.lib.get(id);
        let mut slots: Vec<Option<BoundArg>> = vec![None; b.params.len()];
        let mut first_named: Option<Span> = None;
        let mut positional = 0;
        for arg in &call.args {
            let index = match &arg.name {
                Some(name) => {
                    first_named.get_or_insert(name.span);
                    match b.param(&name.name) {
                        Some((i, _)) => i,
                        None => {
                            let names = b.params.iter().map(|p| p.name.as_str());
                            self.errors.push(ResolveError::UnknownParam {
                                span: name.span,
                                name: name.name.clone(),
                                callee: b.name.clone(),
                                suggestion: did_you_mean(&name.name, names).map(str::to_string),
                                params: b.params.iter().map(|p| p.name.clone()).collect(),
                            });
                            continue;
                        }
                    }
                }
                None => {
                    if let Some(named) = first_named {
                        self.errors.push(ResolveError::PositionalAfterNamed {
                            span: arg.span,
                            named,
                        });
                        continue;
                    }
                    if positional >= b.params.len() {
                        self.errors.push(ResolveError::TooManyArgs {
                            span: arg.span,
                            callee: b.name.clone(),
                            max: b.params.len(),
                            signature: b.signature(),
                        });
                        continue;
                    }
                    positional += 1;
                    positional - 1
                }
            };
            if let Some(prev) = &slots[index] {
                self.errors.push(ResolveError::Duplicate {
                    span: arg.span,
                    name: b.params[index].name.clone(),
                    first: prev.span,
                    what: "argument",
                });
                continue;
            }
            let site = ArgSite {
                callee: &b.name,
                param: &b.params[index],
            };
            let value = self.arg_value(&arg.value, &site.param.ty, &site);
            slots[index] = Some(BoundArg {
                value,
                span: arg.value.span,
                given: true,
            });
        }
        let args = slots
            .into_iter()
            .zip(&b.params)
            .map(|(slot, p)| {
                slot.unwrap_or_else(|| {
                    if p.required() {
                        self.errors.push(ResolveError::MissingArg {
                            span: call.span,
                            callee: b.name.clone(),
                            param: p.name.clone(),
                            expected: p.ty.describe(),
                            signature: b.signature(),
                        });
                    }
                    BoundArg {
                        value: self.default_value(p),
                        span: call.span,
                        given: false,
                    }
                })
            })
            .collect::<Vec<_>>();
        self.nul_in_paths(b, &args);
        let resolved_path = self.call_paths(b, &args);
        let resolved_video = self.replay_video(b, &args);
        self.calls += 1;
        BoundCall {
            id: CallId(self.calls - 1),
            builtin: id,
            kind: b.kind,
            name: b.name.clone(),
            role: b.role,
            span: call.span,
            name_span: call.name.span,
            args,
            resolved_path,
            resolved_video,
        }
    }

    /// A NUL byte in a parameter that names a file or a device (E0107): the operating
    /// system takes a name only up to its first NUL, so `"in.mp4\0.mp4"` would read or
    /// write `in.mp4`, not the file the program names.
    fn nul_in_paths(&mut self, b: &Builtin, args: &[BoundArg]) {
        for (param, arg) in b.params.iter().zip(args) {
            if !PATH_PARAMS.contains(&param.name.as_str()) {
                continue;
            }
            if let Value::String(path) = &arg.value
                && path.contains('\0')
            {
                self.errors.push(ResolveError::NulInPath {
                    span: arg.span,
                    callee: b.name.clone(),
                    param: param.name.clone(),
                });
            }
        }
    }

    /// Checks the files a call reads and resolves the path it names.
    fn call_paths(&mut self, b: &Builtin, args: &[BoundArg]) -> Option<std::path::PathBuf> {
        if b.kind == StageKind::Source(Source::Pool) {
            return self.streams_file(b, args);
        }
        // `hls(dir)` names a directory it writes: resolved as a sink's path is.
        let path_index = b.param("path").or_else(|| b.param("dir")).map(|(i, _)| i)?;
        let BoundArg {
            value: Value::String(path),
            span,
            ..
        } = &args[path_index]
        else {
            return None;
        };
        let reads = matches!(
            (b.role, b.name.as_str()),
            (Role::Source, "file") | (Role::Model, _)
        ) || b.kind == StageKind::Source(Source::Replay);
        // A NUL byte in the path is E0107 (`nul_in_paths`): no file is looked for.
        if !reads || path.contains('\0') {
            return Some(crate::host::normalize(&self.dir.join(path)));
        }
        let what = if b.role == Role::Model {
            "model file"
        } else if b.kind == StageKind::Source(Source::Replay) {
            "records file"
        } else {
            "media file"
        };
        let resolved = self.check_file(*span, path, what);
        if let Some((i, _)) = b.param("labels")
            && let BoundArg {
                value: Value::String(labels),
                span,
                given: true,
            } = &args[i]
            && !labels.contains('\0')
        {
            self.check_file(*span, labels, "labels file");
        }
        Some(resolved)
    }

    /// `replay(video:)`: the video, resolved and looked for; `None` where none is named.
    fn replay_video(&mut self, b: &Builtin, args: &[BoundArg]) -> Option<std::path::PathBuf> {
        if b.kind != StageKind::Source(Source::Replay) {
            return None;
        }
        let (path, span) = named_path(b, args, "video")?;
        Some(self.check_file(span, path, "media file"))
    }

    /// A pool's `streams:` file, resolved and looked for; `None` where it names none (`""`).
    fn streams_file(&mut self, b: &Builtin, args: &[BoundArg]) -> Option<std::path::PathBuf> {
        let (path, span) = named_path(b, args, "streams").filter(|(p, _)| !p.is_empty())?;
        Some(self.check_file(span, path, "streams file"))
    }

    /// The declared default of a parameter, as a value (stdlib defaults are trusted).
    fn default_value(&mut self, p: &ParamSpec) -> Value {
        let Some(expr) = &p.default else {
            return Value::Unset;
        };
        match &expr.kind {
            ExprKind::Name(n) => {
                if p.ty.accepts(&ParamType::Decoder)
                    && let Some((id, _)) = self.lib.lookup_role(&n.name, Role::Decoder)
                {
                    let call = ast::Call {
                        name: n.clone(),
                        args: Vec::new(),
                        bare: true,
                        span: expr.span,
                    };
                    return Value::Decoder(Box::new(self.bind_call(&call, id)));
                }
                Value::Symbol(n.name.clone())
            }
            _ => self.literal_expr(expr),
        }
    }

    /// The value of an expression without a user scope (literals and lists of them).
    fn literal_expr(&self, expr: &ast::Expr) -> Value {
        match &expr.kind {
            ExprKind::Number(l) => lit_value(&l.value),
            ExprKind::String(s) => Value::String(s.clone()),
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::List(items) => {
                Value::List(items.iter().map(|e| self.literal_expr(e)).collect())
            }
            ExprKind::Name(n) => Value::Symbol(n.name.clone()),
            ExprKind::Type(t) => Value::Tensor(t.clone()),
            ExprKind::Wildcard | ExprKind::Call(_) => Value::Unset,
        }
    }

    /// The value of a constant's expression: no expected type yet; checked where used.
    pub(super) fn plain_value(&mut self, expr: &ast::Expr) -> Value {
        match &expr.kind {
            ExprKind::Name(n) => {
                if self.const_values.contains_key(&n.name) {
                    return self
                        .lookup_const(&n.name)
                        .map(|(v, _)| v)
                        .unwrap_or(Value::Unset);
                }
                Value::Symbol(n.name.clone())
            }
            ExprKind::List(items) => {
                Value::List(items.iter().map(|e| self.plain_value(e)).collect())
            }
            ExprKind::Call(c) => match self.lib.lookup_role(&c.name.name, Role::Geometry) {
                Some((id, _)) => Value::Shape {
                    name: None,
                    call: Box::new(self.bind_call(c, id)),
                },
                None => self.decoder_call(c),
            },
            _ => self.literal_expr(expr),
        }
    }

    /// `yolov8(...)` where a decoder is expected; an unknown name is E0102.
    fn decoder_call(&mut self, c: &ast::Call) -> Value {
        if let Some((id, _)) = self.lib.lookup_role(&c.name.name, Role::Decoder) {
            return Value::Decoder(Box::new(self.bind_call(c, id)));
        }
        let suggestion =
            did_you_mean(&c.name.name, self.lib.names_with_role(Role::Decoder)).map(str::to_string);
        self.errors.push(ResolveError::UnknownStage {
            span: c.name.span,
            name: c.name.name.clone(),
            role: Role::Decoder,
            suggestion,
        });
        Value::Unset
    }

    fn wrong_type(
        &mut self,
        span: Span,
        site: &ArgSite,
        ty: &ParamType,
        found: String,
        suggestion: Option<String>,
    ) -> Value {
        self.errors.push(ResolveError::WrongType {
            span,
            callee: site.callee.to_string(),
            param: site.param.name.clone(),
            expected: ty.describe(),
            found,
            suggestion,
        });
        Value::Unset
    }

    fn check_range(&mut self, value: Value, span: Span, text: &str, site: &ArgSite) -> Value {
        if let (Some(range), Some(v)) = (site.param.range, value_number(&value))
            && !range.contains(v)
        {
            self.errors.push(ResolveError::OutOfRange {
                span,
                callee: site.callee.to_string(),
                param: site.param.name.clone(),
                value: text.to_string(),
                range: range.describe(),
            });
            return Value::Unset;
        }
        value
    }

    fn arg_value(&mut self, expr: &ast::Expr, ty: &ParamType, site: &ArgSite) -> Value {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Wildcard => {
                if site.param.required() {
                    self.wrong_type(span, site, ty, "`_`".into(), None)
                } else {
                    Value::Unset
                }
            }
            ExprKind::Number(lit) => {
                let Some(found) = literal_type(&lit.value) else {
                    return Value::Unset;
                };
                let value = lit_value(&lit.value);
                let value = if ty.accepts(&found) {
                    value
                } else if found == ParamType::Int && ty.accepts(&ParamType::Float) {
                    Value::Float(value_number(&value).unwrap_or_default())
                } else {
                    let found = format!("{} `{}`", lit.value.kind_name(), lit.text);
                    return self.wrong_type(span, site, ty, found, None);
                };
                self.check_range(value, span, &lit.text, site)
            }
            ExprKind::String(s) => {
                if ty.accepts(&ParamType::String) {
                    Value::String(s.clone())
                } else {
                    let suggestion = did_you_mean(s, ty.words()).map(str::to_string);
                    self.wrong_type(span, site, ty, "a string".into(), suggestion)
                }
            }
            ExprKind::Bool(b) => {
                if ty.accepts(&ParamType::Bool) {
                    Value::Bool(*b)
                } else {
                    self.wrong_type(span, site, ty, format!("`{b}`"), None)
                }
            }
            ExprKind::List(items) => match ty.list_element() {
                Some(elem) => {
                    let elem = elem.clone();
                    Value::List(
                        items
                            .iter()
                            .map(|e| self.arg_value(e, &elem, site))
                            .collect(),
                    )
                }
                None => self.wrong_type(span, site, ty, "a list".into(), None),
            },
            ExprKind::Type(t) => {
                if ty.accepts(&ParamType::Tensor) {
                    Value::Tensor(t.clone())
                } else {
                    self.wrong_type(span, site, ty, "a type".into(), None)
                }
            }
            ExprKind::Call(c) => {
                if (ty.accepts(&ParamType::Zone) || ty.accepts(&ParamType::Line))
                    && let Some((id, _)) = self.lib.lookup_role(&c.name.name, Role::Geometry)
                {
                    let value = Value::Shape {
                        name: None,
                        call: Box::new(self.bind_call(c, id)),
                    };
                    return match fits(&value, ty) {
                        Some(v) => v,
                        None => self.wrong_type(span, site, ty, describe_value(&value), None),
                    };
                }
                if !ty.accepts(&ParamType::Decoder) {
                    return self.wrong_type(
                        span,
                        site,
                        ty,
                        format!("a call to `{}`", c.name.name),
                        None,
                    );
                }
                self.decoder_call(c)
            }
            ExprKind::Name(n) => self.name_value(n, ty, site),
        }
    }

    fn name_value(&mut self, n: &ast::Ident, ty: &ParamType, site: &ArgSite) -> Value {
        let span = n.span;
        let words = ty.words();
        if words.contains(&n.name.as_str()) {
            return Value::Symbol(n.name.clone());
        }
        if ty.accepts(&ParamType::Model) {
            if let Some(id) = model_id(&self.models, &n.name) {
                return Value::Model(id);
            }
            if matches!(self.items.get(&n.name), Some((ItemKind::Model, _))) {
                // Declared, but its declaration had errors of its own.
                return Value::Unset;
            }
        }
        if ty.accepts(&ParamType::Decoder)
            && let Some((id, _)) = self.lib.lookup_role(&n.name, Role::Decoder)
        {
            let call = ast::Call {
                name: n.clone(),
                args: Vec::new(),
                bare: true,
                span,
            };
            return Value::Decoder(Box::new(self.bind_call(&call, id)));
        }
        if self.const_values.contains_key(&n.name) {
            let Some((value, _)) = self.lookup_const(&n.name) else {
                return Value::Unset;
            };
            return match fits(&value, ty) {
                Some(Value::Shape { call, .. }) => Value::Shape {
                    name: Some(n.name.clone()),
                    call,
                },
                Some(v) => self.check_range(v, span, &n.name, site),
                None => {
                    let found = format!("the constant `{}` ({})", n.name, describe_value(&value));
                    self.wrong_type(span, site, ty, found, None)
                }
            };
        }
        if !words.is_empty() {
            let suggestion = did_you_mean(&n.name, words).map(str::to_string);
            return self.wrong_type(span, site, ty, format!("`{}`", n.name), suggestion);
        }
        let (kind, candidates): (_, Vec<&str>) = if ty.accepts(&ParamType::Model) {
            (
                super::NameKind::Model,
                self.models.iter().map(|m| m.name.name.as_str()).collect(),
            )
        } else {
            (super::NameKind::Value, {
                // Sorted: of two names as close, the suggestion is the same every run.
                let mut names: Vec<&str> = self.const_values.keys().map(String::as_str).collect();
                names.sort_unstable();
                names
            })
        };
        let suggestion = did_you_mean(&n.name, candidates).map(str::to_string);
        self.errors.push(ResolveError::UnknownName {
            span,
            name: n.name.clone(),
            kind,
            suggestion,
            defined_later: None,
        });
        Value::Unset
    }
}

/// The string argument of `param` and its span, where it is one a file can be looked for
/// under (no NUL byte: E0107 says that one).
fn named_path<'a>(b: &Builtin, args: &'a [BoundArg], param: &str) -> Option<(&'a str, Span)> {
    let index = b.param(param).map(|(i, _)| i)?;
    match &args[index] {
        BoundArg {
            value: Value::String(path),
            span,
            ..
        } if !path.contains('\0') => Some((path.as_str(), *span)),
        _ => None,
    }
}
