//! stdlib/*.vpl (embedded at build time) → the table of built-in stages: name, role,
//! parameters with types, ranges and defaults, and docs, and each one's `StageKind`, which
//! the checker, the IR builder and lowering match on.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::stage::StageKind;
use crate::syntax::ast::{self, Expr, Role, TypeKind};
use crate::syntax::literal::LitValue;
use crate::syntax::{Mode, Span, parse};

/// The stdlib modules, as `use std.NAME;` names them.
pub const MODULES: &[(&str, &str)] = &[
    ("io", include_str!("../../stdlib/io.vpl")),
    ("video", include_str!("../../stdlib/video.vpl")),
    ("detect", include_str!("../../stdlib/detect.vpl")),
    ("analytics", include_str!("../../stdlib/analytics.vpl")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BuiltinId(pub u32);

#[derive(Debug, Clone)]
pub struct Builtin {
    pub name: String,
    pub role: Role,
    pub kind: StageKind,
    pub params: Vec<ParamSpec>,
    pub doc: Option<String>,
    /// Index into `MODULES`, and the declaration's place there.
    pub module: usize,
    pub span: Span,
    pub name_span: Span,
}

impl Builtin {
    pub fn param(&self, name: &str) -> Option<(usize, &ParamSpec)> {
        self.params.iter().enumerate().find(|(_, p)| p.name == name)
    }

    /// `scale(resolution: resolution, mode: letterbox | stretch = stretch)`
    pub fn signature(&self) -> String {
        let params: Vec<String> = self.params.iter().map(ParamSpec::signature).collect();
        format!(
            "{} {}({})",
            self.role.as_str(),
            self.name,
            params.join(", ")
        )
    }
}

#[derive(Debug, Clone)]
pub struct ParamSpec {
    pub name: String,
    pub ty: ParamType,
    pub range: Option<ValueRange>,
    /// `None`: required. `Some` holds the declared default (`_` means "chosen later").
    pub default: Option<Expr>,
    pub doc: Option<String>,
    pub span: Span,
    /// The declaration as written, e.g. `mode: letterbox | stretch = stretch`.
    pub text: String,
}

impl ParamSpec {
    pub fn required(&self) -> bool {
        self.default.is_none()
    }

    pub fn signature(&self) -> String {
        self.text.clone()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueRange {
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub inclusive: bool,
    /// As declared, for messages: `0.0..=1.0`.
    pub text: &'static str,
}

impl ValueRange {
    pub fn contains(&self, v: f64) -> bool {
        self.min.is_none_or(|m| v >= m)
            && self
                .max
                .is_none_or(|m| if self.inclusive { v <= m } else { v < m })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamType {
    String,
    Bool,
    Int,
    Float,
    Duration,
    Bitrate,
    Framerate,
    Resolution,
    Model,
    Decoder,
    Tensor,
    /// A `zone(...)`, usually a constant.
    Zone,
    /// A `line(...)`, usually a constant.
    Line,
    List(Box<ParamType>),
    /// One of these words: `iou | sort`.
    Enum(Vec<String>),
    Union(Vec<ParamType>),
}

impl ParamType {
    /// How users call a value of this type: "a duration", "`iou` or `sort`".
    pub fn describe(&self) -> String {
        match self {
            ParamType::String => "a string".into(),
            ParamType::Bool => "`true` or `false`".into(),
            ParamType::Int => "an integer".into(),
            ParamType::Float => "a number".into(),
            ParamType::Duration => "a duration such as `40ms`".into(),
            ParamType::Bitrate => "a bitrate such as `4Mbps`".into(),
            ParamType::Framerate => "a frame rate such as `30fps`".into(),
            ParamType::Resolution => "a resolution such as `1280x720`".into(),
            ParamType::Model => "a model name".into(),
            ParamType::Decoder => {
                "a decoder such as `yolov8(...)`, `classify(...)` or `raw`".into()
            }
            ParamType::Tensor => "a tensor type such as `tensor<f32, [1, 3, 640, 640]>`".into(),
            ParamType::Zone => "a zone such as `zone([[0, 0], [10, 0], [10, 10]])`".into(),
            ParamType::Line => "a line such as `line([[0, 5], [10, 5]])`".into(),
            ParamType::List(t) => format!("a list of {}", plural(&t.describe())),
            ParamType::Enum(words) => one_of(words),
            ParamType::Union(ts) => {
                let parts: Vec<String> = ts.iter().map(|t| t.describe()).collect();
                parts.join(" or ")
            }
        }
    }

    /// The enum words this type accepts, if any.
    pub fn words(&self) -> Vec<&str> {
        match self {
            ParamType::Enum(w) => w.iter().map(String::as_str).collect(),
            ParamType::Union(ts) => ts.iter().flat_map(|t| t.words()).collect(),
            _ => Vec::new(),
        }
    }

    pub fn accepts(&self, want: &ParamType) -> bool {
        match self {
            ParamType::Union(ts) => ts.iter().any(|t| t.accepts(want)),
            other => other == want,
        }
    }

    pub fn list_element(&self) -> Option<&ParamType> {
        match self {
            ParamType::List(t) => Some(t),
            ParamType::Union(ts) => ts.iter().find_map(|t| t.list_element()),
            _ => None,
        }
    }
}

fn plural(s: &str) -> String {
    let s = s.trim_start_matches("a ").trim_start_matches("an ");
    let head = s.split(" such as").next().unwrap_or(s);
    format!("{head}s")
}

pub fn one_of(words: &[String]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

#[derive(Debug, Default)]
pub struct Stdlib {
    pub builtins: Vec<Builtin>,
    by_name: HashMap<String, Vec<BuiltinId>>,
    /// Declarations with no `StageKind`, left out (a test keeps this empty).
    pub unkinded: Vec<String>,
}

impl Stdlib {
    pub fn get(&self, id: BuiltinId) -> &Builtin {
        &self.builtins[id.0 as usize]
    }

    /// Every declaration of `name` (a name may be both a source and a sink: `file`).
    pub fn lookup(&self, name: &str) -> impl Iterator<Item = (BuiltinId, &Builtin)> {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|id| (*id, self.get(*id)))
    }

    pub fn lookup_role(&self, name: &str, role: Role) -> Option<(BuiltinId, &Builtin)> {
        self.lookup(name).find(|(_, b)| b.role == role)
    }

    pub fn names_with_role(&self, role: Role) -> impl Iterator<Item = &str> {
        self.builtins
            .iter()
            .filter(move |b| b.role == role)
            .map(|b| b.name.as_str())
    }

    pub fn module(name: &str) -> Option<usize> {
        MODULES.iter().position(|(n, _)| *n == name)
    }
}

/// The stdlib, parsed once. Its files are part of the build and are checked by a test
/// (`stdlib_is_clean`), so a broken stdlib never reaches users.
pub fn stdlib() -> &'static Stdlib {
    static STDLIB: OnceLock<Stdlib> = OnceLock::new();
    STDLIB.get_or_init(load)
}

fn load() -> Stdlib {
    let mut lib = Stdlib::default();
    for (module, (_, text)) in MODULES.iter().enumerate() {
        let parsed = parse(text, Mode::Stdlib);
        for item in parsed.file.items {
            let ast::Item::Builtin(decl) = item else {
                continue;
            };
            let Some(kind) = StageKind::of(decl.role, &decl.name.name) else {
                lib.unkinded
                    .push(format!("{} {}", decl.role.as_str(), decl.name.name));
                continue;
            };
            let params = decl
                .params
                .iter()
                .map(|p| ParamSpec {
                    name: p.name.name.clone(),
                    ty: param_type(&p.ty),
                    range: p.range.as_ref().map(|r| ValueRange {
                        min: r.min.as_ref().and_then(|l| l.value.as_f64()),
                        max: r.max.as_ref().and_then(|l| l.value.as_f64()),
                        inclusive: r.inclusive,
                        text: text[r.span.range()].trim_start_matches("in").trim(),
                    }),
                    default: p.default.clone(),
                    doc: p.doc.clone(),
                    span: p.span,
                    text: text[p.span.range()]
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                })
                .collect();
            let id = BuiltinId(lib.builtins.len() as u32);
            lib.by_name
                .entry(decl.name.name.clone())
                .or_default()
                .push(id);
            lib.builtins.push(Builtin {
                name: decl.name.name,
                role: decl.role,
                kind,
                params,
                doc: decl.doc,
                module,
                span: decl.span,
                name_span: decl.name.span,
            });
        }
    }
    lib
}

fn param_type(ty: &ast::TypeExpr) -> ParamType {
    match &ty.kind {
        TypeKind::Wildcard => ParamType::Union(Vec::new()),
        TypeKind::List(inner) => ParamType::List(Box::new(param_type(inner))),
        TypeKind::Union(parts) => {
            let mut words = Vec::new();
            let mut types = Vec::new();
            for part in parts.iter().map(param_type) {
                match part {
                    ParamType::Enum(w) => words.extend(w),
                    other => types.push(other),
                }
            }
            if types.is_empty() {
                return ParamType::Enum(words);
            }
            if !words.is_empty() {
                types.push(ParamType::Enum(words));
            }
            ParamType::Union(types)
        }
        TypeKind::Named { name, .. } => match name.name.as_str() {
            "string" => ParamType::String,
            "bool" => ParamType::Bool,
            "int" => ParamType::Int,
            "float" => ParamType::Float,
            "duration" => ParamType::Duration,
            "bitrate" => ParamType::Bitrate,
            "framerate" => ParamType::Framerate,
            "resolution" => ParamType::Resolution,
            "model" => ParamType::Model,
            "decoder" => ParamType::Decoder,
            "tensor" => ParamType::Tensor,
            "zone" => ParamType::Zone,
            "line" => ParamType::Line,
            word => ParamType::Enum(vec![word.to_string()]),
        },
    }
}

/// The kind of value a literal is, as a parameter type.
pub fn literal_type(value: &LitValue) -> Option<ParamType> {
    Some(match value {
        LitValue::Int(_) => ParamType::Int,
        LitValue::Float(_) => ParamType::Float,
        LitValue::Duration(_) => ParamType::Duration,
        LitValue::Bitrate(_) => ParamType::Bitrate,
        LitValue::Rate { .. } => ParamType::Framerate,
        LitValue::Resolution { .. } => ParamType::Resolution,
        LitValue::Invalid => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adding a built-in to `stdlib/*.vpl` without a `StageKind` (so without behaviour in
    /// the checker, the IR builder and lowering) fails here.
    #[test]
    fn every_builtin_has_a_kind() {
        let lib = stdlib();
        assert!(
            lib.unkinded.is_empty(),
            "built-ins with no StageKind (add them to compiler/src/stage.rs): {:?}",
            lib.unkinded
        );
        let declared: usize = MODULES
            .iter()
            .map(|(_, text)| {
                parse(text, Mode::Stdlib)
                    .file
                    .items
                    .iter()
                    .filter(|i| matches!(i, ast::Item::Builtin(_)))
                    .count()
            })
            .sum();
        assert_eq!(lib.builtins.len(), declared);
        for b in &lib.builtins {
            assert_eq!(b.kind.role(), b.role, "{}", b.name);
            assert_eq!(StageKind::of(b.role, &b.name), Some(b.kind));
        }
    }

    #[test]
    fn stdlib_is_clean() {
        for (name, text) in MODULES {
            let parsed = parse(text, Mode::Stdlib);
            assert!(
                parsed.errors.is_empty(),
                "stdlib/{name}.vpl: {:?}",
                parsed.errors
            );
        }
        let lib = stdlib();
        // Every stage of spec section 6, with its role.
        for (name, role) in [
            ("file", Role::Source),
            ("rtsp", Role::Source),
            ("test", Role::Source),
            ("camera", Role::Source),
            ("decode", Role::Stage),
            ("encode", Role::Stage),
            ("convert", Role::Stage),
            ("scale", Role::Stage),
            ("rate", Role::Stage),
            ("batch", Role::Stage),
            ("unbatch", Role::Stage),
            ("infer", Role::Stage),
            ("track", Role::Stage),
            ("filter", Role::Stage),
            ("overlay", Role::Stage),
            ("tile", Role::Stage),
            ("json", Role::Stage),
            ("file", Role::Sink),
            ("stdout", Role::Sink),
            ("discard", Role::Sink),
            ("display", Role::Sink),
            ("rtsp_out", Role::Sink),
            ("onnx", Role::Model),
            ("yolov8", Role::Decoder),
            ("classify", Role::Decoder),
            ("raw", Role::Decoder),
            ("yolov8_seg", Role::Decoder),
            ("yolov8_pose", Role::Decoder),
            ("semantic", Role::Decoder),
            ("analyze", Role::Stage),
            ("events", Role::Stage),
            ("zone", Role::Geometry),
            ("line", Role::Geometry),
        ] {
            let (_, b) = lib
                .lookup_role(name, role)
                .unwrap_or_else(|| panic!("{name} is not declared as a {}", role.as_str()));
            assert!(b.doc.is_some(), "{name} has no doc comment");
            for p in &b.params {
                assert!(p.doc.is_some(), "{name}({}) has no doc comment", p.name);
            }
        }
        let (_, track) = lib.lookup_role("track", Role::Stage).unwrap();
        assert_eq!(
            track.params[0].ty,
            ParamType::Enum(vec!["iou".into(), "sort".into(), "byte".into()])
        );
        assert_eq!(track.params[2].range.unwrap().text, "0.0..=1.0");
        for name in ["high", "low", "new_track", "match"] {
            let (_, p) = track.param(name).expect("byte's thresholds");
            assert_eq!(p.range.unwrap().text, "0.0..=1.0", "{name}");
        }
        let (_, scale) = lib.lookup_role("scale", Role::Stage).unwrap();
        assert!(scale.params[0].required() && !scale.params[1].required());
    }
}
