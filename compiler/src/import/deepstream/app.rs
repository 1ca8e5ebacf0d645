//! A deepstream-app config → the program: sources, streammux, the GIEs, the tracker,
//! nvdsanalytics, tiler, OSD and sinks, in DeepStream's order. A config with no sources (an
//! nvinfer or nvdsanalytics file on its own) gives the items it describes.

use super::emit::{Frag, string};
use super::keys::{self, Fate, GroupKind};
use super::nvinfer::{self, Model};
use super::{Importer, Origin, ident};
use crate::diagnostics::Code;

/// The stream type an imported pool is given: what most IP cameras send.
const POOL_TYPE: &str = "h264, 1920x1080, 30fps";

struct Source {
    call: Frag,
    /// Encoded (needs `decode`).
    encoded: bool,
}

pub fn import(im: &mut Importer<'_>, file: usize) -> Frag {
    let groups = im.files[file].ini.groups.clone();
    let is_app = groups.iter().any(|g| keys::app_group(&g.name).is_some());
    if !is_app {
        return standalone(im, file);
    }
    // Kinds, disabled and whole groups.
    let mut live: Vec<(usize, GroupKind)> = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        let Some(kind) = keys::app_group(&g.name) else {
            let s = crate::suggest::did_you_mean(&g.name, keys::APP_GROUPS.iter().copied());
            im.whole_group(
                file,
                gi,
                Code::W0603,
                format!("deepstream-app does not read a group [{}]", g.name),
            );
            if let (Some(s), Some(f)) = (s, im.findings.last_mut()) {
                f.help = Some(format!("did you mean `[{s}]`?"));
                f.suggestion = Some(s.to_string());
            }
            continue;
        };
        im.kinds.insert((file, gi), kind);
        if let GroupKind::Whole(fate) = kind {
            let (code, why) = match fate {
                Fate::Cannot(why) => (Code::E0601, why),
                Fate::Dropped(why) | Fate::Decided(why) => (Code::W0602, why),
                Fate::Mapped => continue,
            };
            im.whole_group(
                file,
                gi,
                code,
                format!("[{}] is not imported: {why}", g.name),
            );
            continue;
        }
        if let Some(e) = im.files[file].ini.find(g, "enable")
            && im.entry(file, e).value.trim() == "0"
        {
            im.whole_group(
                file,
                gi,
                Code::W0602,
                format!("[{}] is disabled (`enable=0`): not imported", g.name),
            );
            continue;
        }
        im.take(file, gi, "enable");
        live.push((gi, kind));
    }
    let of = |k: GroupKind| {
        live.iter()
            .filter(move |(_, kind)| *kind == k)
            .map(|(g, _)| *g)
    };
    let name = ident(
        &im.files[file]
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "imported".into()),
    );
    let mut items: Vec<Frag> = Vec::new();
    let mut body: Vec<Frag> = Vec::new();

    // [tests] file-loop applies to every file source.
    let mut looped = None;
    for g in of(GroupKind::Tests).collect::<Vec<_>>() {
        if let Some((v, e)) = im.int(file, g, "file-loop") {
            looped = Some((v != 0, im.origin(file, e)));
        }
    }

    // Sources.
    let mut sources: Vec<Source> = Vec::new();
    let mut pool: Option<Frag> = None;
    for g in of(GroupKind::Source).collect::<Vec<_>>() {
        sources.extend(source(im, file, g, looped));
    }
    for g in of(GroupKind::SourceList).collect::<Vec<_>>() {
        let multi = im.int(file, g, "use-nvmultiurisrcbin");
        let max = im.int(file, g, "max-batch-size");
        if let Some((1, e)) = multi {
            let n = max.map_or(1, |m| m.0.max(1));
            let at = max
                .map(|m| im.origin(file, m.1))
                .unwrap_or(im.origin(file, e));
            // A pool declares its cameras' type and admits only streams of it; DeepStream's
            // config does not say it (nvmultiurisrcbin decodes anything and streammux scales
            // it), so vpl writes a common one and says so where the pool came from.
            pool = Some(Frag::from(format!("pool(max: {n}) : video<{POOL_TYPE}>")).at(Some(at)));
            im.report(
                file,
                e,
                Code::W0601,
                format!("a pool admits only streams of its declared type; vpl wrote `video<{POOL_TYPE}>`"),
                Some("change the pool's type to your cameras' codec, size and rate: a stream of another type is refused when it is added".into()),
            );
            if let Some((_, l)) = im.value(file, g, "list") {
                im.report(file, l, Code::W0602, "a pool starts empty: add these streams with the control API (`vplc run --control`, POST /v1/pools/cams/streams)".into(), None);
            }
            im.take(file, g, "num-source-bins");
        } else if let Some((list, e)) = im.value(file, g, "list") {
            let at = im.origin(file, e);
            for uri in super::ini::list(&list) {
                if let Some(s) = uri_source(im, file, uri, at, None, looped) {
                    sources.push(s);
                }
            }
            im.take(file, g, "num-source-bins");
            if let Some((_, m)) = max {
                im.report(
                    file,
                    m,
                    Code::W0601,
                    "without nvmultiurisrcbin the streams are those of `list`".into(),
                    None,
                );
            }
        }
    }
    // Streammux.
    let mux = of(GroupKind::Streammux).next();
    let mut mux_size = None;
    let mut scale: Option<Frag> = None;
    let mut mux_batch = None;
    let mut timeout: Option<Frag> = None;
    let mut timeout_entry = None;
    if let Some(m) = mux {
        let w = im.int(file, m, "width");
        let h = im.int(file, m, "height");
        let pad = im.int(file, m, "enable-padding");
        if let (Some((w, we)), Some((h, _))) = (w, h)
            && w > 0
            && h > 0
        {
            mux_size = Some((w, h));
            let mode = if matches!(pad, Some((1, _))) {
                ", mode: letterbox"
            } else {
                ""
            };
            let mut f = Frag::from("scale(");
            f.push_at(format!("{w}x{h}"), Some(im.origin(file, we)));
            f.push_at(mode, pad.map(|p| im.origin(file, p.1)));
            f.push(")");
            scale = Some(f.at(Some(im.group_origin(file, m))));
        }
        mux_batch = im
            .int(file, m, "batch-size")
            .map(|(n, e)| (n, im.origin(file, e), e));
        if let Some((us, e)) = im.int(file, m, "batched-push-timeout") {
            if us < 0 {
                im.report(file, e, Code::W0602, "`batched-push-timeout=-1` (wait for a full batch) has no equivalent: vpl's batches wait at most `timeout` (40ms unless set)".into(), None);
            } else {
                timeout_entry = Some(e);
                timeout = Some(
                    Frag::from(format!("timeout: {}", micros(us))).at(Some(im.origin(file, e))),
                );
            }
        }
    }

    // GIEs.
    let mut models: Vec<Model> = Vec::new();
    let mut gie_groups = of(GroupKind::PrimaryGie).collect::<Vec<_>>();
    gie_groups.extend(of(GroupKind::SecondaryGie));
    for (i, g) in gie_groups.iter().enumerate() {
        let model_name = if i == 0 && of(GroupKind::PrimaryGie).next() == Some(*g) {
            "primary".to_string()
        } else {
            ident(&groups[*g].name)
        };
        if let Some((t, e)) = im.int(file, *g, "plugin-type")
            && t != 0
        {
            im.report(file, e, Code::E0601, "Triton (`plugin-type=1`, nvinferserver) cannot be imported: vpl runs ONNX models with ONNX Runtime".into(), None);
            continue;
        }
        let Some((config, e)) = im.value(file, *g, "config-file") else {
            im.whole_group(
                file,
                *g,
                Code::E0601,
                format!("[{}] names no nvinfer `config-file`", groups[*g].name),
            );
            continue;
        };
        let at = im.origin(file, e);
        let Some(nf) = im.open(file, &config, at, false) else {
            continue;
        };
        if let Some(mut m) = nvinfer::model(im, nf, &model_name, Some((file, *g))) {
            m.item = m.item.at(Some(at));
            models.push(m);
        }
    }

    // Tracker.
    let tracker = of(GroupKind::Tracker)
        .next()
        .map(|t| super::tracker::track(im, file, t));

    // Analytics.
    let mut analyze: Option<Frag> = None;
    if let Some(a) = of(GroupKind::NvdsAnalytics).next()
        && let Some((config, e)) = im.value(file, a, "config-file")
    {
        let at = im.origin(file, e);
        if let Some(af) = im.open(file, &config, at, false) {
            let shapes = super::analytics::shapes(im, af, mux_size);
            items.extend(shapes.items);
            let mut args = Vec::new();
            if !shapes.zones.is_empty() {
                args.push(format!("zones: [{}]", shapes.zones.join(", ")));
            }
            if !shapes.lines.is_empty() {
                args.push(format!("lines: [{}]", shapes.lines.join(", ")));
            }
            analyze = Some(
                Frag::from(format!("analyze({})", args.join(", ")))
                    .at(Some(im.group_origin(file, a))),
            );
        }
    }

    if sources.is_empty() && pool.is_none() {
        // No pipeline without sources: the items only.
        let mut out = Frag::new();
        for m in models {
            out.append(m.item);
            out.push("\n");
        }
        for i in items {
            out.append(i);
        }
        if let Some(t) = tracker {
            out.push(format!(
                "// The tracker this config describes: {}\n",
                t.text
            ));
        }
        return out;
    }

    // The streams.
    let streams = if pool.is_some() { 2 } else { sources.len() };
    let mut frames = Frag::new();
    let each = |s: Source, scale: &Option<Frag>| -> Frag {
        let mut f = s.call;
        if s.encoded {
            f.push(" | decode");
        }
        if let Some(sc) = scale {
            f.push(" | ");
            f.append(sc.clone());
        }
        f
    };
    if let Some(p) = pool {
        frames.append(p);
        frames.push(" | decode");
        if let Some(sc) = &scale {
            frames.push(" | ");
            frames.append(sc.clone());
        }
    } else if sources.len() == 1 {
        frames.append(each(sources.pop().expect("one source"), &scale));
    } else {
        let list: Vec<Frag> = sources.into_iter().map(|s| each(s, &scale)).collect();
        frames.push("[");
        frames.append(Frag::join(list, ", "));
        frames.push("]");
    }
    body.push(
        Frag::from("let frames = ")
            .append(frames)
            .push(";\n")
            .clone(),
    );

    // Inference, tracking, analytics.
    let mut seen = Frag::from("frames");
    let primary = models
        .iter()
        .find(|m| m.name == "primary")
        .or(models.first());
    let batch = primary.and_then(|m| m.batch);
    if let (Some((n, _, e)), Some((b, _))) = (mux_batch, batch)
        && b != n
    {
        im.report(file, e, Code::W0602, format!("vpl batches frames once, for the primary model: its batch-size {b} is used, not the streammux's {n}"), None);
    }
    let size = batch.or(mux_batch.map(|(n, at, _)| (n, at)));
    let batching = !models.is_empty() && (streams > 1 || size.as_ref().is_some_and(|s| s.0 > 1));
    for (i, m) in models.iter().enumerate() {
        let mut call = Frag::from(format!("infer({}", m.name));
        if let Some((n, at)) = &m.every {
            call.push(", ");
            call.push_at(format!("every: {n}"), Some(*at));
        }
        let secondary = i > 0 || m.operate_on.is_some_and(|o| Some(o) != m.gie_id);
        if secondary {
            let upstream = models
                .iter()
                .find(|u| m.operate_on.is_some() && u.gie_id == m.operate_on)
                .or(models.first());
            let labels = upstream.and_then(|u| u.labels.clone());
            let on: Vec<String> = match (&m.classes, &labels) {
                (Some((ids, _)), Some(l)) => ids
                    .iter()
                    .map(|&c| l.get(c as usize).cloned().unwrap_or(format!("class{c}")))
                    .collect(),
                (Some((ids, _)), None) => ids.iter().map(|c| format!("class{c}")).collect(),
                (None, Some(l)) => l.clone(),
                (None, None) => vec!["class0".into()],
            };
            let on: Vec<String> = on.iter().map(|l| string(l)).collect();
            call.push(", ");
            call.push_at(
                format!("on: [{}]", on.join(", ")),
                m.classes.as_ref().map(|c| c.1),
            );
            if let Some((s, at)) = &m.min_size {
                call.push(", ");
                call.push_at(format!("min_size: {s}"), Some(*at));
            }
        }
        call.push(")");
        seen.push("\n    | ");
        if i == 0 && batching {
            let (n, at) = size.unwrap_or((streams as i64, im.group_origin(file, 0)));
            let mut b = Frag::from(format!("batch(size: {n}"));
            if let Some(t) = &timeout {
                b.push(", ");
                b.append(t.clone());
            }
            b.push(")");
            seen.append(b.at(Some(at)));
            seen.push(" | ");
            seen.append(call);
            seen.push(" | unbatch");
        } else {
            seen.append(call);
        }
        if i == 0
            && let Some(t) = tracker.clone()
        {
            seen.push("\n    | ");
            seen.append(t);
        }
    }
    if models.is_empty()
        && let Some(t) = tracker.clone()
    {
        seen.push("\n    | ");
        seen.append(t);
    }
    if let Some(a) = analyze {
        seen.push("\n    | ");
        seen.append(a);
    }
    if !batching && let Some(e) = timeout_entry {
        im.report(file, e, Code::W0601, "nothing is batched (one stream, batches of 1): vpl runs the model on each frame as it comes".into(), None);
    }
    body.push(Frag::from("let seen = ").append(seen).push(";\n").clone());

    // Tiler and OSD.
    let mut shown = Frag::from("seen");
    if let Some(t) = of(GroupKind::TiledDisplay).next() {
        let rows = im.int(file, t, "rows").map_or(1, |r| r.0.max(1));
        let cols = im.int(file, t, "columns").map_or(1, |c| c.0.max(1));
        let w = im.int(file, t, "width").map(|v| v.0);
        let h = im.int(file, t, "height").map(|v| v.0);
        if streams > 1 {
            let res = match (w, h) {
                (Some(w), Some(h)) => format!(", resolution: {w}x{h}"),
                _ => String::new(),
            };
            shown.push(" | ");
            shown.append(
                Frag::from(format!("tile(cols: {cols}, rows: {rows}{res})"))
                    .at(Some(im.group_origin(file, t))),
            );
        } else if let Some(e) = im.files[file].ini.find(&groups[t], "rows") {
            im.report(
                file,
                e,
                Code::W0601,
                "one stream: nothing to tile".into(),
                None,
            );
        }
    }
    if let Some(o) = of(GroupKind::Osd).next() {
        let text = im.int(file, o, "display-text");
        let bbox = im.int(file, o, "display-bbox");
        im.int(file, o, "display-mask");
        if let Some((0, e)) = bbox {
            im.report(
                file,
                e,
                Code::W0602,
                "`overlay` always draws the boxes".into(),
                None,
            );
        }
        let mut f = Frag::from("overlay");
        if let Some((0, e)) = text {
            f.push("(");
            f.push_at("labels: false", Some(im.origin(file, e)));
            f.push(")");
        }
        shown.push(" | ");
        shown.append(f.at(Some(im.group_origin(file, o))));
    }
    let shown_name = if shown.text == "seen" {
        "seen"
    } else {
        body.push(Frag::from("let shown = ").append(shown).push(";\n").clone());
        "shown"
    };

    // Sinks.
    for g in of(GroupKind::Sink).collect::<Vec<_>>() {
        if let Some(s) = sink(im, file, g, shown_name) {
            body.push(s);
        }
    }

    let mut out = Frag::new();
    for m in models {
        out.append(m.item);
        out.push("\n");
    }
    for i in items {
        out.append(i);
    }
    if out.text.ends_with(";\n") {
        out.push("\n");
    }
    out.push(format!("pipeline {name} {{\n"));
    for b in body {
        out.push("    ");
        out.append(b);
    }
    out.push("}\n");
    out
}

/// An nvinfer, nvdsanalytics, nvdspreprocess or message-converter config on its own.
fn standalone(im: &mut Importer<'_>, file: usize) -> Frag {
    let ini = &im.files[file].ini;
    let numbered = |name: &str, prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let analytics = ini.groups.iter().any(|g| g.name.contains("-stream-"))
        || ini.entries.iter().any(|e| e.key == "config-width");
    let preprocess = ini
        .groups
        .iter()
        .any(|g| g.name == "user-configs" || g.name.starts_with("group-"))
        || ini.entries.iter().any(|e| e.key == "network-input-shape");
    let msgconv = ini.groups.iter().any(|g| {
        numbered(&g.name, "sensor") || numbered(&g.name, "place") || numbered(&g.name, "analytics")
    });
    let mut out = Frag::new();
    if analytics {
        for i in super::analytics::shapes(im, file, None).items {
            out.append(i);
        }
    } else if preprocess || msgconv {
        let (code, why) = if preprocess {
            (
                Code::E0601,
                "an nvdspreprocess config cannot be imported: it changes what the model sees (ROIs, custom tensors); vpl prepares whole frames or crops only",
            )
        } else {
            (
                Code::W0602,
                "a message-converter config has no equivalent in vpl, dropped: vpl writes its own records and event messages",
            )
        };
        for g in 0..im.files[file].ini.groups.len() {
            im.whole_group(file, g, code, why.to_string());
        }
    } else if let Some(m) = nvinfer::model(im, file, "model", None) {
        out.append(m.item);
    }
    out
}

/// The sources of a `[sourceN]` group.
fn source(
    im: &mut Importer<'_>,
    file: usize,
    g: usize,
    looped: Option<(bool, Origin)>,
) -> Vec<Source> {
    let header = im.group_origin(file, g);
    let Some((kind, ke)) = im.int(file, g, "type") else {
        im.push_finding(
            Code::E0601,
            header,
            "a source with no `type` cannot be imported".into(),
            None,
        );
        return Vec::new();
    };
    let own_loop = im
        .int(file, g, "file-loop")
        .map(|(v, e)| (v != 0, im.origin(file, e)));
    let looped = own_loop.or(looped);
    match kind {
        1 => {
            let node = im.int(file, g, "camera-v4l2-dev-node").map_or(0, |v| v.0);
            let w = im.int(file, g, "camera-width").map(|v| v.0);
            let h = im.int(file, g, "camera-height").map(|v| v.0);
            let n = im.int(file, g, "camera-fps-n").map(|v| v.0);
            let d = im.int(file, g, "camera-fps-d").map(|v| v.0);
            let size = match (w, h) {
                (Some(w), Some(h)) => format!("{w}x{h}"),
                _ => "_".into(),
            };
            let rate = match (n, d) {
                (Some(n), Some(1) | None) => format!("{n}fps"),
                (Some(n), Some(d)) if d > 0 => format!("{n}/{d}fps"),
                _ => "_".into(),
            };
            let call = Frag::from(format!(
                "camera(device: {}) : video<raw, {size}, {rate}>",
                string(&format!("/dev/video{node}"))
            ))
            .at(Some(header));
            vec![Source {
                call,
                encoded: false,
            }]
        }
        2..=4 => {
            let Some((uri, ue)) = im.value(file, g, "uri") else {
                im.push_finding(
                    Code::E0601,
                    header,
                    "a source with no `uri` cannot be imported".into(),
                    None,
                );
                return Vec::new();
            };
            let count = if kind == 3 {
                im.int(file, g, "num-sources").map_or(1, |n| n.0.max(1))
            } else {
                1
            };
            let at = im.origin(file, ue);
            let mut rtsp_args = Vec::new();
            if let Some((s, e)) = im.int(file, g, "rtsp-reconnect-interval-sec") {
                rtsp_args.push(
                    Frag::from(format!("reconnect: {}s", s.max(0))).at(Some(im.origin(file, e))),
                );
            }
            if let Some((ms, e)) = im.int(file, g, "latency") {
                rtsp_args.push(
                    Frag::from(format!("latency: {}ms", ms.max(0))).at(Some(im.origin(file, e))),
                );
            }
            if let Some((p, e)) = im.int(file, g, "select-rtp-protocol") {
                let tcp = if p == 4 { "true" } else { "false" };
                rtsp_args.push(Frag::from(format!("tcp: {tcp}")).at(Some(im.origin(file, e))));
            }
            let mut out = Vec::new();
            for _ in 0..count.min(1024) {
                if let Some(s) = uri_source(im, file, &uri, at, Some(&rtsp_args), looped) {
                    out.push(s);
                } else {
                    break;
                }
            }
            out
        }
        5 => {
            im.report(
                file,
                ke,
                Code::E0601,
                "a CSI camera (`type=5`) cannot be imported: vpl reads V4L2 cameras (`camera`)"
                    .into(),
                None,
            );
            Vec::new()
        }
        t => {
            im.report(file, ke, Code::E0601, format!("source `type={t}` cannot be imported: vpl reads cameras (1), URIs (2, 3) and RTSP (4)"), None);
            Vec::new()
        }
    }
}

/// A `file://` or `rtsp://` URI → a source call.
fn uri_source(
    im: &mut Importer<'_>,
    file: usize,
    uri: &str,
    at: Origin,
    rtsp_args: Option<&Vec<Frag>>,
    looped: Option<(bool, Origin)>,
) -> Option<Source> {
    if let Some(path) = uri.strip_prefix("file://") {
        let mut call = Frag::from("file(");
        call.push_at(string(&im.vpl_path(file, path)), Some(at));
        if let Some((true, lat)) = looped {
            call.push(", ");
            call.push_at("loop: true", Some(lat));
        }
        call.push(")");
        return Some(Source {
            call: call.at(Some(at)),
            encoded: true,
        });
    }
    if uri.starts_with("rtsp://") || uri.starts_with("rtsps://") {
        let mut call = Frag::from("rtsp(");
        call.push_at(string(uri), Some(at));
        for a in rtsp_args.cloned().unwrap_or_default() {
            call.push(", ");
            call.append(a);
        }
        call.push(")");
        return Some(Source {
            call: call.at(Some(at)),
            encoded: true,
        });
    }
    im.not_imported
        .push(format!("{}: `{uri}`", im.files[file].path.display()));
    im.push_finding(
        Code::E0601,
        at,
        format!("the URI `{uri}` cannot be imported: vpl reads `file://` and `rtsp://` URIs"),
        None,
    );
    None
}

/// A `[sinkN]` group → a flow statement.
fn sink(im: &mut Importer<'_>, file: usize, g: usize, shown: &str) -> Option<Frag> {
    let header = im.group_origin(file, g);
    let Some((kind, ke)) = im.int(file, g, "type") else {
        im.push_finding(
            Code::E0601,
            header,
            "a sink with no `type` cannot be imported".into(),
            None,
        );
        return None;
    };
    let type_at = im.origin(file, ke);
    let bitrate = |im: &mut Importer<'_>| {
        im.int(file, g, "bitrate").map(|(b, e)| {
            Frag::from(format!(", bitrate: {}bps", b.max(1))).at(Some(im.origin(file, e)))
        })
    };
    let flow = match kind {
        1 => Frag::from(format!("{shown} | "))
            .append(Frag::from("discard").at(Some(type_at)))
            .clone(),
        2 | 5 => Frag::from(format!("{shown} | "))
            .append(Frag::from("display").at(Some(type_at)))
            .clone(),
        3 => {
            let container = im.int(file, g, "container").map_or(1, |c| c.0);
            let ext = if container == 2 { "mkv" } else { "mp4" };
            let codec = match im.int(file, g, "codec") {
                Some((2, _)) => "h265",
                Some((1, _)) | None => "h264",
                Some((c, e)) => {
                    im.report(
                        file,
                        e,
                        Code::E0601,
                        format!(
                            "`codec={c}` cannot be imported: vpl encodes h264 (1) and h265 (2)"
                        ),
                        None,
                    );
                    return None;
                }
            };
            let rate = bitrate(im).unwrap_or_default();
            let path = im
                .value(file, g, "output-file")
                .map(|(p, e)| Frag::from(string(&p)).at(Some(im.origin(file, e))))
                .unwrap_or(Frag::from(string(&format!("out.{ext}"))));
            let mut f = Frag::from(format!("{shown} | encode({codec}"));
            f.append(rate);
            f.push(") | file(");
            f.append(path);
            f.push(")");
            f
        }
        4 => {
            let rate = bitrate(im).unwrap_or_default();
            let codec = im.int(file, g, "codec");
            if let Some((c, e)) = codec
                && c != 1
            {
                im.report(
                    file,
                    e,
                    Code::W0602,
                    "vpl serves RTSP in h264 only".into(),
                    None,
                );
            }
            let port = im
                .int(file, g, "rtsp-port")
                .map(|(p, e)| Frag::from(format!("port: {p}")).at(Some(im.origin(file, e))))
                .unwrap_or(Frag::from("port: 8554"));
            let mut f = Frag::from(format!("{shown} | encode(h264"));
            f.append(rate);
            f.push(") | rtsp_out(");
            f.append(port);
            f.push(", path: \"/ds-test\")");
            f
        }
        6 => {
            let (lib, le) = match im.value(file, g, "msg-broker-proto-lib") {
                Some(v) => v,
                None => {
                    im.report(
                        file,
                        ke,
                        Code::E0601,
                        "a broker sink with no `msg-broker-proto-lib` cannot be imported".into(),
                        None,
                    );
                    return None;
                }
            };
            let proto = if lib.contains("kafka") {
                "kafka"
            } else if lib.contains("mqtt") {
                "mqtt"
            } else if lib.contains("redis") {
                "redis"
            } else {
                im.report(file, le, Code::E0601, format!("the broker library `{lib}` cannot be imported: vpl sends to Kafka, MQTT and Redis"), None);
                return None;
            };
            let conn = im.value(file, g, "msg-broker-conn-str");
            let topic_key = im.value(file, g, "topic");
            let (host, port, conn_topic, conn_at) = match &conn {
                Some((c, e)) => {
                    let parts = super::ini::list(c);
                    (
                        parts.first().map(|s| s.to_string()),
                        parts.get(1).map(|s| s.to_string()),
                        parts.get(2).map(|s| s.to_string()),
                        Some(im.origin(file, *e)),
                    )
                }
                None => (None, None, None, None),
            };
            let Some(host) = host else {
                im.report(file, le, Code::E0601, "a broker sink with no host in `msg-broker-conn-str` cannot be imported (a `msg-broker-config` file's address is not read)".into(), None);
                return None;
            };
            let topic = match (&topic_key, conn_topic) {
                (Some((t, e)), _) => Frag::from(string(t)).at(Some(im.origin(file, *e))),
                (None, Some(t)) => Frag::from(string(&t)).at(conn_at),
                (None, None) => {
                    im.report(
                        file,
                        le,
                        Code::E0601,
                        "a broker sink with no `topic` cannot be imported".into(),
                        None,
                    );
                    return None;
                }
            };
            let address = match (proto, port) {
                ("kafka", Some(p)) => format!("{host}:{p}"),
                ("kafka", None) => host,
                (scheme, Some(p)) => format!("{scheme}://{host}:{p}"),
                (scheme, None) => format!("{scheme}://{host}"),
            };
            let key = match proto {
                "redis" => "stream",
                _ => "topic",
            };
            let mut f = Frag::from("seen | json | ");
            let mut call = Frag::from(format!("{proto}("));
            call.push_at(string(&address), conn_at);
            call.push(format!(", {key}: "));
            call.append(topic);
            call.push(")");
            f.append(call.at(Some(im.origin(file, le))));
            f
        }
        t => {
            im.report(file, ke, Code::E0601, format!("sink `type={t}` cannot be imported: vpl has fakesink (1), display (2), file (3), RTSP (4) and broker (6) sinks"), None);
            return None;
        }
    };
    Some(flow.at(Some(header)).push(";\n").clone())
}

/// Microseconds as a vpl duration, in the largest unit that keeps it whole.
pub fn micros(us: i64) -> String {
    if us == 0 {
        "0ms".into()
    } else if us % 1_000_000 == 0 {
        format!("{}s", us / 1_000_000)
    } else if us % 1000 == 0 {
        format!("{}ms", us / 1000)
    } else {
        format!("{us}us")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timeouts_in_the_largest_whole_unit() {
        assert_eq!(super::micros(40_000), "40ms");
        assert_eq!(super::micros(4_000_000), "4s");
        assert_eq!(super::micros(33_333), "33333us");
        assert_eq!(super::micros(0), "0ms");
    }
}
