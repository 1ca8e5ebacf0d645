//! A deepstream-app config → the program: sources, streammux, the GIEs, the tracker,
//! nvdsanalytics, tiler, OSD and sinks, in DeepStream's order. A config with no sources (an
//! nvinfer or nvdsanalytics file on its own) gives the items it describes.

use super::emit::{Frag, string};
use super::ini::Group;
use super::keys::{self, Fate, GroupKind};
use super::nvinfer::{self, Model};
use super::{Importer, Origin, ident};
use crate::diagnostics::Code;
use sources::Source;

mod sinks;
mod sources;

pub fn import(im: &mut Importer<'_>, file: usize) -> Frag {
    let groups = im.files[file].ini.groups.clone();
    let is_app = groups.iter().any(|g| keys::app_group(&g.name).is_some());
    if !is_app {
        return standalone(im, file);
    }
    let live = live_groups(im, file, &groups);
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
    let (sources, pool) = sources::sources(
        im,
        file,
        &of(GroupKind::Source).collect::<Vec<_>>(),
        &of(GroupKind::SourceList).collect::<Vec<_>>(),
        looped,
    );
    // Streammux.
    let mux = streammux(im, file, of(GroupKind::Streammux).next());

    // GIEs.
    let mut gie_groups = of(GroupKind::PrimaryGie).collect::<Vec<_>>();
    gie_groups.extend(of(GroupKind::SecondaryGie));
    let models = gies(
        im,
        file,
        &groups,
        &gie_groups,
        of(GroupKind::PrimaryGie).next(),
    );

    // Tracker.
    let tracker = of(GroupKind::Tracker)
        .next()
        .map(|t| super::tracker::track(im, file, t));

    // Analytics.
    let analyze = analytics(
        im,
        file,
        of(GroupKind::NvdsAnalytics).next(),
        mux.size,
        &mut items,
    );

    if sources.is_empty() && pool.is_none() {
        // No pipeline without sources: the items only.
        return items_only(models, items, tracker);
    }

    // The streams.
    let streams = if pool.is_some() { 2 } else { sources.len() };
    frames(sources, pool, &mux.scale, &mut body);

    // Inference, tracking, analytics.
    let seen = inference(im, file, &models, &mux, streams, tracker, analyze);
    body.push(Frag::from("let seen = ").append(seen).push(";\n").clone());

    // Tiler and OSD.
    let shown = shown(
        im,
        file,
        &groups,
        of(GroupKind::TiledDisplay).next(),
        of(GroupKind::Osd).next(),
        streams,
    );
    let shown_name = if shown.text == "seen" {
        "seen"
    } else {
        body.push(Frag::from("let shown = ").append(shown).push(";\n").clone());
        "shown"
    };

    // Sinks.
    for g in of(GroupKind::Sink).collect::<Vec<_>>() {
        if let Some(s) = sinks::sink(im, file, g, shown_name) {
            body.push(s);
        }
    }

    assemble(&name, models, items, body)
}

/// The groups of the app config `file` that are imported, with their kinds; groups it
/// does not read, groups vpl has no part for and disabled groups are reported as a whole.
fn live_groups(im: &mut Importer<'_>, file: usize, groups: &[Group]) -> Vec<(usize, GroupKind)> {
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
    live
}

/// The streammux's settings, as vpl writes them.
struct Mux {
    /// The streams' size (`width`×`height`).
    size: Option<(i64, i64)>,
    /// `scale(…)` to that size.
    scale: Option<Frag>,
    /// `batch-size`: the value, where it is, its entry.
    batch: Option<(i64, Origin, usize)>,
    /// `timeout: …` for `batch`, from `batched-push-timeout`, and its entry.
    timeout: Option<Frag>,
    timeout_entry: Option<usize>,
}

/// The `[streammux]` group `mux`.
fn streammux(im: &mut Importer<'_>, file: usize, mux: Option<usize>) -> Mux {
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
    Mux {
        size: mux_size,
        scale,
        batch: mux_batch,
        timeout,
        timeout_entry,
    }
}

/// The models of the GIE groups `gie_groups` (the `[primary-gie]` `primary` first).
fn gies(
    im: &mut Importer<'_>,
    file: usize,
    groups: &[Group],
    gie_groups: &[usize],
    primary: Option<usize>,
) -> Vec<Model> {
    let mut models: Vec<Model> = Vec::new();
    for (i, g) in gie_groups.iter().enumerate() {
        let model_name = if i == 0 && primary == Some(*g) {
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
    models
}

/// The `[nvds-analytics]` group `group`: its zones and lines join `items`; the `analyze`
/// call. `mux_size` is the streams' size.
fn analytics(
    im: &mut Importer<'_>,
    file: usize,
    group: Option<usize>,
    mux_size: Option<(i64, i64)>,
    items: &mut Vec<Frag>,
) -> Option<Frag> {
    let mut analyze: Option<Frag> = None;
    if let Some(a) = group
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
    analyze
}

/// A config with no sources: the items it describes, no pipeline.
fn items_only(models: Vec<Model>, items: Vec<Frag>, tracker: Option<Frag>) -> Frag {
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
    out
}

/// `let frames = …;`: the sources, or the pool, decoded and scaled.
fn frames(
    mut sources: Vec<Source>,
    pool: Option<Frag>,
    scale: &Option<Frag>,
    body: &mut Vec<Frag>,
) {
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
        if let Some(sc) = scale {
            frames.push(" | ");
            frames.append(sc.clone());
        }
    } else if sources.len() == 1 {
        frames.append(each(sources.pop().expect("one source"), scale));
    } else {
        let list: Vec<Frag> = sources.into_iter().map(|s| each(s, scale)).collect();
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
}

/// The models, the tracker and the analytics in DeepStream's order, batched around the
/// primary model: the flow `seen` names.
fn inference(
    im: &mut Importer<'_>,
    file: usize,
    models: &[Model],
    mux: &Mux,
    streams: usize,
    tracker: Option<Frag>,
    analyze: Option<Frag>,
) -> Frag {
    let (mux_batch, timeout, timeout_entry) = (mux.batch, &mux.timeout, mux.timeout_entry);
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
    seen
}

/// The `[tiled-display]` and `[osd]` groups `tiled` and `osd` after `seen`.
fn shown(
    im: &mut Importer<'_>,
    file: usize,
    groups: &[Group],
    tiled: Option<usize>,
    osd: Option<usize>,
    streams: usize,
) -> Frag {
    let mut shown = Frag::from("seen");
    if let Some(t) = tiled {
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
    if let Some(o) = osd {
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
    shown
}

/// The program: the models' and analytics' items, then the pipeline `name`'s `body`.
fn assemble(name: &str, models: Vec<Model>, items: Vec<Frag>, body: Vec<Frag>) -> Frag {
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
