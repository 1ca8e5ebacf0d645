//! Streams admitted into a pool (`pool(max: N, streams: "cameras.yaml") : video<…>`): the
//! entries of a `streams:` file and the requests of `vplc run --control`, both checked by
//! the same rules as a program (the source's parameters against its stdlib declaration,
//! the stream's probed type against the pool's), so a stream that passes runs.

mod entries;

use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};
use serde::{Deserialize, Serialize};

use crate::diagnostics::{Diagnostic, render};
use crate::facts::{FactError, MediaFacts, ModelFacts};
use crate::host::{FileProblem, Host};
use crate::plan::{PoolPlan, PoolType};
use crate::source::{SourceFile, SourceMap};
use entries::{PoolSpec, check_streams, key_text, scalar_text, to_json};

/// Where an admitted stream's frames come from, with every parameter filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StreamSource {
    /// `file://…` or a path, with `file`'s parameters.
    File { path: PathBuf, looping: bool },
    /// `rtsp://…`, with `rtsp`'s parameters.
    Rtsp {
        url: String,
        latency_ns: i64,
        tcp: bool,
        reconnect_ns: i64,
    },
}

/// A stream as a `streams:` file or a control request gives it, before it is checked.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub id: String,
    pub url: String,
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// A stream that passed admission.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Its id, as given: checked to be safe in a path, so `{stream}` becomes the id itself.
    pub id: String,
    /// The URL as given, for `GET /v1/streams`.
    pub url: String,
    pub source: StreamSource,
}

/// The longest stream id, in bytes.
pub const MAX_ID_LEN: usize = 64;

/// Why `id` cannot name a stream, or `None` when it can: an id fills `{stream}` in output
/// paths and broker topics, so only ASCII letters, digits, `_`, `-` and `.` are taken, it
/// does not start with `.` (no `..`, no hidden file) and it is 1 to [`MAX_ID_LEN`] long.
pub fn id_problem(id: &str) -> Option<String> {
    if id.is_empty() {
        return Some("a stream id cannot be empty".into());
    }
    if id.len() > MAX_ID_LEN {
        return Some(format!(
            "a stream id is at most {MAX_ID_LEN} bytes long; this one is {}",
            id.len()
        ));
    }
    if id.starts_with('.') {
        return Some(format!(
            "the stream id `{}` starts with `.`; it names a file or folder in output paths",
            id.escape_debug()
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Some(format!(
            "the stream id `{}` has `{}`; ids are ASCII letters, digits, `_`, `-` and `.`, so they are safe in output paths",
            id.escape_debug(),
            c.escape_debug()
        ));
    }
    None
}

/// Checks `request` for `pool`: id, url, params (against the stdlib declaration of `file`
/// or `rtsp`), then the probed type against the pool's. `origin` names the request in the
/// diagnostics' `file` (e.g. "POST /v1/pools/cams/streams"); `base` resolves relative paths.
/// The request is checked as the one entry of a `streams:` file written from it (each
/// value on a line of its own), by the same code as `vplc check` checks the file, so both
/// say the same; the refusal is the `vplc check --format json` object.
pub fn admit(
    pool: &PoolPlan,
    origin: &str,
    request: &Request,
    base: &Path,
    probe: &mut dyn FnMut(&StreamSource) -> Result<MediaFacts, String>,
) -> Result<Entry, serde_json::Value> {
    let text = request_as_yaml(request);
    let mut sources = SourceMap::default();
    let file = sources.add(SourceFile::new(
        origin,
        base.join("request.yaml"),
        text.clone(),
    ));
    let spec = PoolSpec {
        name: &pool.name,
        max: pool.max,
        ty: &pool.ty,
    };
    let mut probe = |s: &StreamSource| Some(probe(s));
    let (mut entries, diagnostics) = check_streams(&spec, &text, file, base, &NoFiles, &mut probe);
    if diagnostics.is_empty()
        && let Some(entry) = entries.pop()
    {
        return Ok(entry);
    }
    let report = render::json_report(&sources, &diagnostics);
    Err(serde_json::to_value(&report).unwrap_or_default())
}

/// The entries of a pool's `streams:` file, already checked by `vplc check`. The plan's
/// `streams_file` is resolved as every path of the plan is (relative to the run's working
/// directory, where the run opens it); where no file is there, it is looked for under
/// `base`. A path `url` of an entry is relative to the streams file's folder: it is given
/// back absolute, so that [`admit`] finds the same file whatever its `base`.
pub fn initial_streams(pool: &PoolPlan, base: &Path) -> Result<Vec<Request>, String> {
    let Some(path) = &pool.streams_file else {
        return Ok(Vec::new());
    };
    let path = if path.is_absolute() || path.exists() {
        path.clone()
    } else {
        base.join(path)
    };
    read_streams_file(&path)
}

/// The requests of the streams file at `path` (a pool's `streams:`, or `vplc run
/// --cameras`): a path `url` is made absolute against the file's folder.
pub fn read_streams_file(path: &Path) -> Result<Vec<Request>, String> {
    let folder = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut requests = requests_of(
        path,
        &std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
    )?;
    for r in &mut requests {
        if let Ok(entries::Target::File(file)) = entries::target_of(&r.url) {
            let joined = crate::host::normalize(&folder.join(file));
            r.url = std::path::absolute(&joined)
                .unwrap_or(joined)
                .display()
                .to_string();
        }
    }
    Ok(requests)
}

/// The requests of a streams file's text (`path` names it in errors).
fn requests_of(path: &Path, text: &str) -> Result<Vec<Request>, String> {
    let docs = MarkedYaml::load_from_str(text)
        .map_err(|e| format!("{} is not YAML: {}", path.display(), e.info()))?;
    let Some(doc) = docs.first() else {
        return Ok(Vec::new());
    };
    let items = match &doc.data {
        YamlData::Sequence(items) => items,
        YamlData::Value(Scalar::Null) => return Ok(Vec::new()),
        _ => return Err(format!("{} is not a list of streams", path.display())),
    };
    items
        .iter()
        .map(|item| {
            let YamlData::Mapping(map) = &item.data else {
                return Err(format!("{}: an entry is not a mapping", path.display()));
            };
            let mut request = Request::default();
            for (key, value) in map {
                match key_text(key).as_deref() {
                    Some("id") => request.id = scalar_text(value).unwrap_or_default(),
                    Some("url") => request.url = scalar_text(value).unwrap_or_default(),
                    Some("params") => {
                        if let YamlData::Mapping(params) = &value.data {
                            for (k, v) in params {
                                request
                                    .params
                                    .insert(key_text(k).unwrap_or_default(), to_json(v));
                            }
                        }
                    }
                    _ => return Err(format!("{}: an entry has an unknown key", path.display())),
                }
            }
            Ok(request)
        })
        .collect()
}

/// One request as the one entry of a streams file: each value on a line of its own,
/// written as JSON (which YAML reads), so a problem points at its line.
fn request_as_yaml(request: &Request) -> String {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = format!(
        "- id: {}\n  url: {}\n",
        quote(&request.id),
        quote(&request.url)
    );
    if !request.params.is_empty() {
        out.push_str("  params:\n");
        for (k, v) in &request.params {
            let value = match v {
                // A string is read as vpl reads a value (`"100ms"` is a duration).
                serde_json::Value::String(s) => quote(s),
                other => other.to_string(),
            };
            out.push_str(&format!("    {}: {value}\n", quote(k)));
        }
    }
    out
}

/// The host of a control request: nothing is looked up before the probe, which reads the
/// stream itself (and says why it cannot).
struct NoFiles;

impl Host for NoFiles {
    fn check_file(&self, _: &Path) -> Result<(), FileProblem> {
        Ok(())
    }

    fn probe_media(&self, _: &Path) -> Result<MediaFacts, FactError> {
        Err(FactError::Unavailable("probed by the run".into()))
    }

    fn model_signature(&self, _: &Path) -> Result<ModelFacts, FactError> {
        Err(FactError::Unavailable("no models here".into()))
    }

    fn read_labels(&self, _: &Path) -> Result<Vec<String>, FactError> {
        Err(FactError::Unavailable("no labels here".into()))
    }
}

/// The streams files of a program's pools, checked at their own lines: each file is added
/// to `sources`, and its problems are diagnostics in it. File entries are probed through
/// the `Host` as `file(...)` is; RTSP entries are not (no network when checking).
/// Each problem also points at the pool's `streams:` argument in the program's `file`, so
/// an editor showing the program shows them there.
pub fn check_program(
    program: &crate::hir::Program,
    typed: &crate::check::Typed,
    host: &dyn Host,
    (sources, file): (&mut SourceMap, crate::source::FileId),
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (p, pipeline) in program.pipelines.iter().enumerate() {
        let flows = pipeline
            .lets
            .iter()
            .map(|l| (Some(l.name.name.as_str()), &l.flow))
            .chain(pipeline.flows.iter().map(|f| (None, &f.flow)));
        let mut pools = Vec::new();
        for (name, flow) in flows {
            pool_calls(flow, name, &mut pools);
        }
        for (name, call) in pools {
            let Some(path) = &call.resolved_path else {
                continue;
            };
            let Some(site) = typed.pipelines.get(p).and_then(|t| t.site(call.id)) else {
                continue;
            };
            let crate::types::Ty::List(items) = &site.output else {
                continue;
            };
            let Some(crate::types::Ty::Video(video)) = items.first() else {
                continue;
            };
            let Ok(text) = host.read_text(path) else {
                // Missing or unreadable: E0109 from name resolution; a host that reads no
                // text leaves the file unchecked.
                continue;
            };
            let ty = PoolType {
                codec: video.format.codec().unwrap_or_default().to_string(),
                width: video.resolution.map_or(0, |r| r.0),
                height: video.resolution.map_or(0, |r| r.1),
                rate: video.rate.map_or((0, 1), |(n, d)| (n as u32, d as u32)),
            };
            let spec = PoolSpec {
                name: name.unwrap_or("pool"),
                max: items.len(),
                ty: &ty,
            };
            let yaml = sources.add(SourceFile::new(
                path.display().to_string(),
                path,
                text.clone(),
            ));
            let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
            let mut probe = |s: &StreamSource| match s {
                StreamSource::File { path, .. } => match host.probe_media(path) {
                    Ok(facts) => Some(Ok(facts)),
                    Err(FactError::Unavailable(_)) => None,
                    Err(FactError::NotFound) => Some(Err("it does not exist".into())),
                    Err(FactError::Unreadable(why) | FactError::Invalid(why)) => Some(Err(why)),
                },
                StreamSource::Rtsp { .. } => None,
            };
            let (_, found) = check_streams(&spec, &text, yaml, &base, host, &mut probe);
            let at = call.bound("streams").map_or(call.span, |a| a.span);
            diagnostics.extend(found.into_iter().map(|d| {
                d.with_label(file, at, format!("in the streams of pool `{}`", spec.name))
            }));
        }
    }
    diagnostics
}

/// The `pool(...)` calls of a flow, with the `let` each is bound to.
fn pool_calls<'a>(
    flow: &'a crate::hir::Flow,
    name: Option<&'a str>,
    out: &mut Vec<(Option<&'a str>, &'a crate::hir::BoundCall)>,
) {
    use crate::hir::Flow;
    match flow {
        Flow::Source { call, .. } => {
            if call.kind == crate::stage::StageKind::Source(crate::stage::Source::Pool) {
                out.push((name, call));
            }
        }
        Flow::Stream { .. } => {}
        Flow::List { items, .. } => {
            for i in items {
                pool_calls(i, None, out);
            }
        }
        Flow::Ascribed { input, .. } => pool_calls(input, name, out),
        Flow::Apply { input, .. } => pool_calls(input, None, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::VideoFacts;
    use crate::plan::{PoolPlan, PoolType};

    fn cams() -> PoolPlan {
        PoolPlan {
            name: "cams".into(),
            max: 3,
            ty: PoolType {
                codec: "h264".into(),
                width: 320,
                height: 240,
                rate: (25, 1),
            },
            type_text: "video<h264, 320x240, 25fps>".into(),
            streams_file: None,
            slots: Vec::new(),
        }
    }

    fn request(id: &str, url: &str, params: serde_json::Value) -> Request {
        Request {
            id: id.into(),
            url: url.into(),
            params: params.as_object().cloned().unwrap_or_default(),
        }
    }

    fn video(format: &str, (width, height): (u32, u32), rate: (u64, u64)) -> MediaFacts {
        MediaFacts {
            container: Some("mp4".into()),
            video: Some(VideoFacts {
                format: format.into(),
                raw: false,
                width: Some(width),
                height: Some(height),
                rate: Some(rate),
                caps: String::new(),
                ..VideoFacts::default()
            }),
            duration_ns: None,
        }
    }

    const ORIGIN: &str = "POST /v1/pools/cams/streams";

    /// Admits `request` into `cams` with a probe that finds `facts`; the probed sources.
    fn admit_with(
        request: &Request,
        facts: Result<MediaFacts, String>,
    ) -> (Result<Entry, serde_json::Value>, Vec<StreamSource>) {
        let mut probed = Vec::new();
        let mut probe = |s: &StreamSource| {
            probed.push(s.clone());
            facts.clone()
        };
        let result = admit(&cams(), ORIGIN, request, Path::new("/srv/vpl"), &mut probe);
        (result, probed)
    }

    /// The one diagnostic of a refusal: its code, message and help.
    fn refused(result: Result<Entry, serde_json::Value>) -> (String, String, String) {
        let report = result.expect_err("refused");
        let diagnostics = report["diagnostics"].as_array().expect("diagnostics");
        assert_eq!(diagnostics.len(), 1, "{report:#}");
        let d = &diagnostics[0];
        assert_eq!(d["file"], ORIGIN, "{report:#}");
        assert_eq!(report["errors"], 1);
        let text = |k: &str| d[k].as_str().unwrap_or_default().to_string();
        (text("code"), text("message"), text("help"))
    }

    #[test]
    fn a_file_that_fits_is_admitted_with_its_parameters() {
        let (result, probed) = admit_with(
            &request(
                "front-door",
                "recordings/front.mp4",
                serde_json::json!({"loop": true}),
            ),
            Ok(video("h264", (320, 240), (25, 1))),
        );
        let source = StreamSource::File {
            path: PathBuf::from("/srv/vpl/recordings/front.mp4"),
            looping: true,
        };
        assert_eq!(
            result,
            Ok(Entry {
                id: "front-door".into(),
                url: "recordings/front.mp4".into(),
                source: source.clone(),
            })
        );
        assert_eq!(probed, vec![source]);
        // `file://` names the same file.
        let (result, _) = admit_with(
            &request("a", "file:///data/front.mp4", serde_json::json!({})),
            Ok(video("h264", (320, 240), (25, 1))),
        );
        assert!(matches!(
            result.map(|e| e.source),
            Ok(StreamSource::File { path, looping: false }) if path == Path::new("/data/front.mp4")
        ));
    }

    #[test]
    fn rtsp_parameters_are_read_as_a_program_writes_them() {
        let (result, probed) = admit_with(
            &request(
                "yard",
                "rtsp://10.0.0.5/s",
                serde_json::json!({"latency": "100ms", "tcp": false, "reconnect": "5s"}),
            ),
            Ok(video("h264", (320, 240), (25, 1))),
        );
        let source = StreamSource::Rtsp {
            url: "rtsp://10.0.0.5/s".into(),
            latency_ns: 100_000_000,
            tcp: false,
            reconnect_ns: 5_000_000_000,
        };
        assert_eq!(result.map(|e| e.source), Ok(source.clone()));
        assert_eq!(probed, vec![source]);
        // The defaults of `rtsp`'s declaration.
        let (result, _) = admit_with(
            &request("yard", "rtsp://10.0.0.5/s", serde_json::json!({})),
            Ok(video("h264", (320, 240), (25, 1))),
        );
        assert_eq!(
            result.map(|e| e.source),
            Ok(StreamSource::Rtsp {
                url: "rtsp://10.0.0.5/s".into(),
                latency_ns: 200_000_000,
                tcp: true,
                reconnect_ns: 2_000_000_000,
            })
        );
    }

    #[test]
    fn a_stream_of_another_size_is_e0201_with_the_scale_fix() {
        let (result, _) = admit_with(
            &request("big", "rtsp://10.0.0.5/s", serde_json::json!({})),
            Ok(video("h264", (640, 480), (25, 1))),
        );
        let (code, message, help) = refused(result);
        assert_eq!(code, "E0201");
        assert!(
            message.contains("640x480") && message.contains("320x240"),
            "{message}"
        );
        assert!(
            help.contains("add `scale(320x240)` after `decode`"),
            "{help}"
        );
    }

    #[test]
    fn an_h265_stream_into_an_h264_pool_is_e0201_naming_both_codecs() {
        let (result, _) = admit_with(
            &request("hevc", "rtsp://10.0.0.5/s", serde_json::json!({})),
            Ok(video("h265", (320, 240), (25, 1))),
        );
        let (code, message, help) = refused(result);
        assert_eq!(code, "E0201");
        assert!(
            message.contains("`h265`") && message.contains("`h264`"),
            "{message}"
        );
        assert!(help.contains("pool of h265 streams"), "{help}");
        let (result, _) = admit_with(
            &request("fast", "rtsp://10.0.0.5/s", serde_json::json!({})),
            Ok(video("h264", (320, 240), (30, 1))),
        );
        let (code, message, _) = refused(result);
        assert_eq!(code, "E0201");
        assert!(message.contains("30fps, not 25fps"), "{message}");
    }

    #[test]
    fn bad_ids_are_e0215_and_nothing_is_probed() {
        for id in ["../etc", "caméra", "", "a/b", ".hidden"] {
            let (result, probed) = admit_with(
                &request(id, "rtsp://10.0.0.5/s", serde_json::json!({})),
                Ok(video("h264", (320, 240), (25, 1))),
            );
            let (code, _, _) = refused(result);
            assert_eq!(code, "E0215", "{id:?}");
            assert!(probed.is_empty(), "{id:?} was probed");
        }
    }

    #[test]
    fn parameters_are_checked_against_the_sources_declaration() {
        let cases = [
            (
                serde_json::json!({"speed": 2}),
                "E0104",
                "`rtsp` has no parameter `speed`",
            ),
            (
                serde_json::json!({"latency": "-5ms"}),
                "E0107",
                "`latency` of `rtsp` is out of range",
            ),
            (
                serde_json::json!({"tcp": "maybe"}),
                "E0106",
                "`tcp` of `rtsp` expects",
            ),
            (
                serde_json::json!({"latency": {"ms": 5}}),
                "E0215",
                "one value, not a mapping",
            ),
        ];
        for (params, want, words) in cases {
            let (result, probed) = admit_with(
                &request("a", "rtsp://10.0.0.5/s", params.clone()),
                Ok(video("h264", (320, 240), (25, 1))),
            );
            let (code, message, _) = refused(result);
            assert_eq!(code, want, "{params}");
            assert!(message.contains(words), "{params}: {message}");
            assert!(probed.is_empty());
        }
        let (result, _) = admit_with(
            &request("a", "x.mp4", serde_json::json!({"loop": 3})),
            Ok(video("h264", (320, 240), (25, 1))),
        );
        assert_eq!(refused(result).0, "E0106");
    }

    #[test]
    fn urls_are_rtsp_file_or_a_path() {
        for url in ["http://10.0.0.5/s", "", "file://", "s3://bucket/cam.mp4"] {
            let (result, probed) = admit_with(
                &request("a", url, serde_json::json!({})),
                Ok(video("h264", (320, 240), (25, 1))),
            );
            assert_eq!(refused(result).0, "E0215", "{url:?}");
            assert!(probed.is_empty());
        }
    }

    #[test]
    fn a_stream_that_cannot_be_probed_is_e0109_naming_it_and_why() {
        let (result, _) = admit_with(
            &request("cam", "rtsp://10.0.0.5/s", serde_json::json!({})),
            Err("no answer to DESCRIBE within 5 s".into()),
        );
        let (code, message, _) = refused(result);
        assert_eq!(code, "E0109");
        assert!(
            message.contains("rtsp://10.0.0.5/s") && message.contains("no answer to DESCRIBE"),
            "{message}"
        );
    }

    #[test]
    fn initial_streams_are_the_requests_of_the_streams_file() {
        let dir = std::env::temp_dir().join(format!("vpl-pool-initial-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(
            dir.join("cameras.yaml"),
            "- id: a\n  url: rtsp://10.0.0.5/s\n  params: {latency: 100ms, tcp: false}\n\
             - {id: b, url: b.mp4}\n",
        )
        .expect("write");
        let mut pool = cams();
        assert_eq!(initial_streams(&pool, &dir), Ok(Vec::new()));
        pool.streams_file = Some(PathBuf::from("cameras.yaml"));
        let requests = initial_streams(&pool, &dir).expect("read");
        assert_eq!(
            requests,
            vec![
                request(
                    "a",
                    "rtsp://10.0.0.5/s",
                    serde_json::json!({"latency": "100ms", "tcp": false})
                ),
                request(
                    "b",
                    &std::path::absolute(dir.join("b.mp4"))
                        .expect("absolute")
                        .display()
                        .to_string(),
                    serde_json::json!({})
                ),
            ]
        );
        // Each is admitted as the control API would admit it.
        let mut probe = |_: &StreamSource| Ok(video("h264", (320, 240), (25, 1)));
        let entry = admit(&pool, "cameras.yaml", &requests[0], &dir, &mut probe).expect("fits");
        assert!(matches!(
            entry.source,
            StreamSource::Rtsp {
                latency_ns: 100_000_000,
                tcp: false,
                ..
            }
        ));
        std::fs::remove_dir_all(&dir).ok();
    }

    /// `vplc check`, the LSP and tests check a streams file through the `Host`: here in
    /// memory, the file edited between two compilations of the same program.
    #[test]
    fn the_streams_file_is_read_through_the_host_at_each_compilation() {
        let program = "pipeline p {\n    let cams = pool(max: 2, streams: \"cams.yaml\") : video<h264, 320x240, 25fps>;\n    cams | decode | json | stdout;\n}\n";
        let compile = |yaml: &str| {
            let host = crate::MemoryHost::new()
                .with_file("/p/live.vpl", program)
                .with_file("/p/cams.yaml", yaml)
                .with_media("/p/front.mp4", video("h264", (320, 240), (25, 1)))
                .with_media("/p/big.mp4", video("h264", (640, 480), (25, 1)));
            let mut sources = SourceMap::default();
            let c = crate::compile(
                &mut sources,
                "live.vpl",
                Path::new("/p/live.vpl"),
                program,
                &host,
            );
            c.diagnostics
                .iter()
                .map(|d| {
                    let file = sources.get(d.primary.file);
                    let (line, _) = file.line_column(d.primary.span.start as usize);
                    (d.code.as_str(), file.name.clone(), line)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(compile("- {id: front, url: front.mp4}\n"), vec![]);
        assert_eq!(
            compile(
                "- {id: front, url: front.mp4}\n- {id: big, url: big.mp4}\n- {id: x, url: nothing.mp4}\n"
            ),
            vec![
                ("E0201", "/p/cams.yaml".to_string(), 2),
                // One stream too many, and its file is missing too.
                ("E0215", "/p/cams.yaml".to_string(), 3),
                ("E0109", "/p/cams.yaml".to_string(), 3),
            ]
        );
    }

    #[test]
    fn a_problem_points_at_the_line_of_the_request_it_is_on() {
        let (result, _) = admit_with(
            &request(
                "a",
                "rtsp://10.0.0.5/s",
                serde_json::json!({"latency": "-5ms"}),
            ),
            Ok(video("h264", (320, 240), (25, 1))),
        );
        let report = result.expect_err("refused");
        // id, url, params, then the parameter: line 4.
        assert_eq!(report["diagnostics"][0]["line"], 4, "{report:#}");
    }

    #[test]
    fn ids_that_could_leave_a_folder_or_not_print_are_refused() {
        assert_eq!(id_problem("cam-1.front_door"), None);
        for bad in [
            "", "../etc", "a/b", "a\\b", ".hidden", "caméra", "a b", "a\u{7}",
        ] {
            assert!(id_problem(bad).is_some(), "{bad:?} taken");
        }
        assert!(id_problem(&"a".repeat(MAX_ID_LEN)).is_none());
        assert!(id_problem(&"a".repeat(MAX_ID_LEN + 1)).is_some());
    }
}
