//! A pool's stream entries checked, from the YAML of a `streams:` file or of a control
//! request written as one: each field on its own (E0215), the parameters bound as a call of
//! `rtsp` or `file` would be (E0104, E0106, E0107, E0109), the probed type against the
//! pool's (E0201). Diagnostics point at the entry's lines.

use std::collections::HashSet;
use std::path::Path;

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::{Entry, StreamSource, id_problem};
use crate::diagnostics::{Code, Diagnostic};
use crate::facts::MediaFacts;
use crate::host::Host;
use crate::plan::PoolType;
use crate::source::FileId;
use crate::span::Span;
use crate::suggest::did_you_mean;
use crate::syntax::ast;
use crate::syntax::literal::{LitValue, Literal, parse_number};
use crate::types::rate_text;

/// What a pool's entries are checked against.
pub(crate) struct PoolSpec<'a> {
    pub name: &'a str,
    pub max: usize,
    pub ty: &'a PoolType,
}

/// The keys an entry may have.
const ENTRY_KEYS: [&str; 3] = ["id", "url", "params"];

/// An entry that cannot be admitted, for a reason of its own (E0215).
fn unfit(file: FileId, span: Span, message: String, label: &str) -> Diagnostic {
    Diagnostic::new(Code::E0215, file, span, message)
        .with_primary_label(label.to_string())
        .with_help("each stream is `{id, url, params}`: an id of ASCII letters, digits, `_`, `-` and `.`; a url `rtsp://…`, `file://…` or a path; the parameters of `rtsp` or `file` (docs/errors/E0215.md)")
}

/// Byte offsets of the YAML parser's character indices.
struct Offsets(Vec<usize>);

impl Offsets {
    fn of(text: &str) -> Offsets {
        let mut v: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        v.push(text.len());
        Offsets(v)
    }

    fn at(&self, index: usize) -> usize {
        self.0
            .get(index)
            .copied()
            .unwrap_or(*self.0.last().unwrap_or(&0))
    }

    /// From a node's start to the end of its first line: where a block mapping (an entry)
    /// begins, without the lines that follow.
    fn first_line(&self, node: &MarkedYaml, text: &str) -> Span {
        let start = self.at(node.span.start.index());
        let end = self.span(node).end as usize;
        let line_end = text[start..]
            .find(['\n', '\r'])
            .map_or(text.len(), |i| start + i);
        Span::new(start, end.min(line_end).max((start + 1).min(line_end)))
    }

    /// A node's span; a node with no extent (a mapping's start) spans one character.
    fn span(&self, node: &MarkedYaml) -> Span {
        let start = self.at(node.span.start.index());
        let end = self.at(node.span.end.index());
        if end > start {
            Span::new(start, end)
        } else {
            Span::new(start, self.at(node.span.start.index() + 1))
        }
    }
}

/// Checks the text of a `streams:` file (or of one request written as one) for `pool`:
/// the entries that pass, and a diagnostic for each problem, in `file`. `probe` says what a
/// stream holds (`None`: not known now, as an RTSP stream at check time).
pub(crate) fn check_streams(
    pool: &PoolSpec,
    text: &str,
    file: FileId,
    base: &Path,
    host: &dyn Host,
    probe: &mut dyn FnMut(&StreamSource) -> Option<Result<MediaFacts, String>>,
) -> (Vec<Entry>, Vec<Diagnostic>) {
    let offsets = Offsets::of(text);
    let mut diagnostics = Vec::new();
    let docs = match MarkedYaml::load_from_str(text) {
        Ok(docs) => docs,
        Err(e) => {
            let at = offsets.at(e.marker().index());
            let span = Span::new(at, offsets.at(e.marker().index() + 1).max(at));
            diagnostics.push(unfit(
                file,
                span,
                format!(
                    "the streams of pool `{}` are not YAML: {}",
                    pool.name,
                    e.info()
                ),
                "not YAML",
            ));
            return (Vec::new(), diagnostics);
        }
    };
    let items: &[MarkedYaml] = match docs.first().map(|d| &d.data) {
        None | Some(YamlData::Value(Scalar::Null)) => &[],
        Some(YamlData::Sequence(items)) => items,
        Some(_) => {
            diagnostics.push(unfit(
                file,
                offsets.first_line(&docs[0], text),
                format!(
                    "the streams of pool `{}` are a list of `{{id, url, params}}`",
                    pool.name
                ),
                "not a list",
            ));
            return (Vec::new(), diagnostics);
        }
    };
    let mut entries = Vec::new();
    let mut ids: HashSet<String> = HashSet::new();
    for (n, item) in items.iter().enumerate() {
        if n == pool.max {
            diagnostics.push(unfit(
                file,
                offsets.first_line(item, text),
                format!(
                    "pool `{}` holds {} streams at most; this is stream {}",
                    pool.name,
                    pool.max,
                    n + 1
                ),
                "one stream too many",
            ));
        }
        let found = entry(
            pool,
            item,
            (file, text),
            &offsets,
            base,
            host,
            probe,
            &mut ids,
        );
        match found {
            Ok(e) if n < pool.max => entries.push(e),
            Ok(_) => {}
            Err(mut d) => diagnostics.append(&mut d),
        }
    }
    (entries, diagnostics)
}

/// The text of a key, where it is a scalar.
pub(super) fn key_text(node: &MarkedYaml) -> Option<String> {
    scalar_text(node)
}

/// A scalar's text: strings as they are, numbers and booleans as YAML wrote them.
pub(super) fn scalar_text(node: &MarkedYaml) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        YamlData::Representation(s, ..) => Some(s.to_string()),
        YamlData::Tagged(_, inner) => scalar_text(inner),
        _ => None,
    }
}

/// A YAML value as JSON, for [`initial_streams`]' requests.
pub(super) fn to_json(node: &MarkedYaml) -> serde_json::Value {
    match &node.data {
        YamlData::Value(Scalar::Boolean(b)) => serde_json::Value::Bool(*b),
        YamlData::Value(Scalar::Integer(i)) => serde_json::Value::from(*i),
        YamlData::Value(Scalar::FloatingPoint(f)) => serde_json::Value::from(f.into_inner()),
        YamlData::Value(Scalar::Null) => serde_json::Value::Null,
        YamlData::Sequence(items) => items.iter().map(to_json).collect(),
        YamlData::Mapping(map) => map
            .iter()
            .map(|(k, v)| (key_text(k).unwrap_or_default(), to_json(v)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        YamlData::Tagged(_, inner) => to_json(inner),
        _ => scalar_text(node).map_or(serde_json::Value::Null, serde_json::Value::String),
    }
}

/// A parameter's YAML value as the expression a program would have written: `100ms`, `5s`
/// and `true` are read as vpl reads them, so their types and ranges are checked alike.
fn expr_of(node: &MarkedYaml, span: Span) -> Option<ast::Expr> {
    let number = |text: String, value: LitValue| ast::ExprKind::Number(Literal { text, value });
    let kind = match &node.data {
        YamlData::Value(Scalar::Boolean(b)) => ast::ExprKind::Bool(*b),
        YamlData::Value(Scalar::Integer(i)) => number(i.to_string(), LitValue::Int(*i)),
        YamlData::Value(Scalar::FloatingPoint(f)) => {
            number(f.to_string(), LitValue::Float(f.into_inner()))
        }
        YamlData::Value(Scalar::Null) => ast::ExprKind::Wildcard,
        YamlData::Sequence(items) => ast::ExprKind::List(
            items
                .iter()
                .map(|i| expr_of(i, span))
                .collect::<Option<Vec<_>>>()?,
        ),
        YamlData::Tagged(_, inner) => return expr_of(inner, span),
        _ => {
            let text = scalar_text(node)?;
            match parse_number(&text) {
                Ok(value) if text.starts_with(|c: char| c.is_ascii_digit() || c == '-') => {
                    number(text, value)
                }
                _ => ast::ExprKind::String(text),
            }
        }
    };
    Some(ast::Expr { kind, span })
}

/// Where a stream's url points.
pub(super) enum Target {
    Rtsp(String),
    File(String),
}

/// The target of `url`, or why it has none.
pub(super) fn target_of(url: &str) -> Result<Target, String> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("rtsp://") || lower.starts_with("rtsps://") {
        return Ok(Target::Rtsp(url.to_string()));
    }
    if let Some(path) = url.strip_prefix("file://") {
        if path.is_empty() {
            return Err("`file://` names no file".into());
        }
        return Ok(Target::File(path.to_string()));
    }
    if url.is_empty() {
        return Err("the url is empty".into());
    }
    if let Some((scheme, _)) = url.split_once("://") {
        return Err(format!(
            "`{scheme}://` is not a stream vpl reads: a url is `rtsp://…`, `file://…` or a path"
        ));
    }
    if url.contains('\0') {
        return Err("the url holds a NUL byte".into());
    }
    Ok(Target::File(url.to_string()))
}

/// One entry of a streams file: its fields, then the source they make, bound and probed.
#[allow(clippy::too_many_arguments)]
fn entry(
    pool: &PoolSpec,
    item: &MarkedYaml,
    (file, text): (FileId, &str),
    offsets: &Offsets,
    base: &Path,
    host: &dyn Host,
    probe: &mut dyn FnMut(&StreamSource) -> Option<Result<MediaFacts, String>>,
    ids: &mut HashSet<String>,
) -> Result<Entry, Vec<Diagnostic>> {
    let fields = fields(item, (file, text), offsets, ids)?;
    bind(pool, fields, file, base, host, probe)
}

/// An entry's fields, each checked on its own.
struct Fields {
    id: String,
    url: String,
    url_span: Span,
    target: Target,
    item_span: Span,
    args: Vec<ast::Arg>,
}

/// The fields of an entry: `id`, `url` and `params`, with a diagnostic for each problem.
fn fields(
    item: &MarkedYaml,
    (file, text): (FileId, &str),
    offsets: &Offsets,
    ids: &mut HashSet<String>,
) -> Result<Fields, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let item_span = offsets.first_line(item, text);
    let YamlData::Mapping(map) = &item.data else {
        problems.push(unfit(
            file,
            item_span,
            "a stream is a mapping with `id`, `url` and `params`".into(),
            "not a mapping",
        ));
        return Err(problems);
    };
    let (mut id, mut url, mut params) = (None, None, None);
    for (key, value) in map {
        let key_span = offsets.span(key);
        match key_text(key).as_deref() {
            Some("id") => id = Some((scalar_text(value), offsets.span(value))),
            Some("url") => url = Some((scalar_text(value), offsets.span(value))),
            Some("params") => params = Some(value),
            other => {
                let name = other.unwrap_or("?");
                let hint = did_you_mean(name, ENTRY_KEYS)
                    .map_or(String::new(), |s| format!(" (did you mean `{s}`?)"));
                problems.push(unfit(
                    file,
                    key_span,
                    format!("unknown key `{}` in a stream{hint}", name.escape_debug()),
                    "a stream has `id`, `url` and `params`",
                ));
            }
        }
    }
    let id = match id {
        None => {
            problems.push(unfit(
                file,
                item_span,
                "this stream has no `id`".into(),
                "no id",
            ));
            None
        }
        Some((None, span)) => {
            problems.push(unfit(
                file,
                span,
                "a stream's `id` is a string".into(),
                "not a string",
            ));
            None
        }
        Some((Some(text), span)) => match id_problem(&text) {
            Some(problem) => {
                problems.push(unfit(
                    file,
                    span,
                    problem,
                    "an id that cannot name a stream",
                ));
                None
            }
            None if !ids.insert(text.clone()) => {
                problems.push(unfit(
                    file,
                    span,
                    format!("the stream id `{text}` is taken by an earlier stream"),
                    "the same id twice",
                ));
                None
            }
            None => Some(text),
        },
    };
    let url = match url {
        None => {
            problems.push(unfit(
                file,
                item_span,
                "this stream has no `url`".into(),
                "no url",
            ));
            None
        }
        Some((None, span)) => {
            problems.push(unfit(
                file,
                span,
                "a stream's `url` is a string".into(),
                "not a string",
            ));
            None
        }
        Some((Some(text), span)) => match target_of(&text) {
            Ok(target) => Some((text, span, target)),
            Err(problem) => {
                problems.push(unfit(file, span, problem, "not a stream vpl reads"));
                None
            }
        },
    };
    let args = params.map_or_else(Vec::new, |p| arguments(p, file, offsets, &mut problems));
    let (Some(id), Some((url, url_span, target))) = (id, url) else {
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Fields {
        id,
        url,
        url_span,
        target,
        item_span,
        args,
    })
}

/// An entry's `params` as the named arguments of a call, each at its line.
fn arguments(
    params: &MarkedYaml,
    file: FileId,
    offsets: &Offsets,
    problems: &mut Vec<Diagnostic>,
) -> Vec<ast::Arg> {
    let mut args = Vec::new();
    match &params.data {
        YamlData::Mapping(map) => {
            for (key, value) in map {
                let key_span = offsets.span(key);
                let value_span = offsets.span(value);
                let name = key_text(key).unwrap_or_default();
                match expr_of(value, value_span) {
                    Some(expr) => args.push(ast::Arg {
                        name: Some(ast::Ident {
                            name,
                            span: key_span,
                        }),
                        value: expr,
                        span: key_span.to(value_span),
                    }),
                    None => problems.push(unfit(
                        file,
                        value_span,
                        format!("the parameter `{name}` is one value, not a mapping"),
                        "not a value",
                    )),
                }
            }
        }
        YamlData::Value(Scalar::Null) => {}
        _ => problems.push(unfit(
            file,
            offsets.span(params),
            "a stream's `params` are a mapping, `{name: value}`".into(),
            "not a mapping",
        )),
    }
    args
}

/// The source an entry's fields make, its parameters bound against `rtsp`'s or `file`'s
/// declaration, and what the probe finds against the pool's type.
fn bind(
    pool: &PoolSpec,
    fields: Fields,
    file: FileId,
    base: &Path,
    host: &dyn Host,
    probe: &mut dyn FnMut(&StreamSource) -> Option<Result<MediaFacts, String>>,
) -> Result<Entry, Vec<Diagnostic>> {
    let Fields {
        id,
        url,
        url_span,
        target,
        item_span,
        args,
    } = fields;
    let (source_name, first) = match &target {
        Target::Rtsp(u) => ("rtsp", u.clone()),
        Target::File(p) => ("file", p.clone()),
    };
    let mut all_args = vec![ast::Arg {
        name: None,
        value: ast::Expr {
            kind: ast::ExprKind::String(first),
            span: url_span,
        },
        span: url_span,
    }];
    all_args.extend(args);
    let call = ast::Call {
        name: ast::Ident {
            name: source_name.into(),
            span: url_span,
        },
        args: all_args,
        bare: false,
        span: item_span,
    };
    let (bound, errors) = crate::resolve::bind_source(&call, base, host);
    if !errors.is_empty() {
        return Err(errors
            .iter()
            .map(|e| {
                let mut d = e.to_diagnostic(file);
                // A stream's path is relative to its streams file, not to a `.vpl` file.
                d.help = d
                    .help
                    .map(|h| h.replace("of the .vpl file", "of the streams file"));
                d
            })
            .collect());
    }
    let Some(bound) = bound else {
        return Err(Vec::new());
    };
    let source = match target {
        Target::Rtsp(url) => StreamSource::Rtsp {
            url,
            latency_ns: bound.int("latency").unwrap_or(0),
            tcp: bound.boolean("tcp").unwrap_or(true),
            reconnect_ns: bound.int("reconnect").unwrap_or(0),
        },
        Target::File(path) => StreamSource::File {
            path: bound
                .resolved_path
                .clone()
                .unwrap_or_else(|| base.join(path)),
            looping: bound.boolean("loop").unwrap_or(false),
        },
    };
    match probe(&source) {
        None => {}
        Some(Err(reason)) => {
            return Err(vec![
                Diagnostic::new(
                    Code::E0109,
                    file,
                    url_span,
                    format!("the stream `{id}` at `{url}` cannot be read: {reason}"),
                )
                .with_primary_label("not a stream that can be read now"),
            ]);
        }
        Some(Ok(facts)) => {
            if let Some(d) = type_problem(pool, &id, &facts, file, url_span) {
                return Err(vec![d]);
            }
            if let (StreamSource::File { path, .. }, true) = (&source, facts.container.is_none()) {
                // A slot plays a file at its frame rate by its frames' times, and an
                // elementary stream (`.h264`) has none.
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| url.clone());
                return Err(vec![
                    Diagnostic::new(
                        Code::E0215,
                        file,
                        url_span,
                        format!(
                            "the stream `{id}` is an elementary stream (`{name}`) with no container: a pool plays a file by its frames' times, and it has none"
                        ),
                    )
                    .with_primary_label("an elementary stream, not a file a pool can play")
                    .with_help(format!(
                        "put it in a container first, e.g. `vplc run` a program with `file({name:?}) | file(\"{stem}.mp4\");`",
                        stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s)
                    )),
                ]);
            }
        }
    }
    Ok(Entry { id, url, source })
}

/// E0201 where a probed stream does not fit the pool's type, with the fix.
fn type_problem(
    pool: &PoolSpec,
    id: &str,
    facts: &MediaFacts,
    file: FileId,
    span: Span,
) -> Option<Diagnostic> {
    let want = pool.ty;
    let want_text = format!(
        "video<{}, {}x{}, {}>",
        want.codec,
        want.width,
        want.height,
        rate_text(u64::from(want.rate.0), u64::from(want.rate.1.max(1)))
    );
    let mismatch = |what: String, help: String| {
        Some(
            Diagnostic::new(
                Code::E0201,
                file,
                span,
                format!(
                    "the stream `{id}` does not fit pool `{}`, which takes {want_text}: {what}",
                    pool.name
                ),
            )
            .with_primary_label(what)
            .with_help(help),
        )
    };
    let Some(video) = &facts.video else {
        return mismatch(
            "it has no video stream".into(),
            "give the pool a video stream".into(),
        );
    };
    if video.raw || video.format != want.codec {
        let found = if video.raw {
            format!("raw video (`{}`)", video.format)
        } else {
            format!("`{}`", video.format)
        };
        return mismatch(
            format!("it is {found}, not `{}`", want.codec),
            format!(
                "re-encode the stream as {} (`decode | encode({})` in a program that writes it), or add it to a pool of {} streams",
                want.codec, want.codec, video.format
            ),
        );
    }
    if let (Some(w), Some(h)) = (video.width, video.height)
        && (w, h) != (want.width, want.height)
    {
        return mismatch(
            format!("it is {w}x{h}, not {}x{}", want.width, want.height),
            format!(
                "add `scale({}x{})` after `decode` where the stream is made, or set the camera to {}x{}",
                want.width, want.height, want.width, want.height
            ),
        );
    }
    if let Some((n, d)) = video.rate
        && n * u64::from(want.rate.1) != u64::from(want.rate.0) * d
    {
        let want_rate = rate_text(u64::from(want.rate.0), u64::from(want.rate.1.max(1)));
        return mismatch(
            format!("it runs at {}, not {want_rate}", rate_text(n, d.max(1))),
            format!(
                "add `rate({want_rate})` after `decode` where the stream is made, or set the camera to {want_rate}"
            ),
        );
    }
    None
}
