//! The app's `[tracker]` group and its `ll-config-file` YAML → `track(iou | sort, ...)`.

use super::emit::{Frag, float};
use super::keys::GroupKind;
use super::{Importer, Origin};
use crate::diagnostics::Code;

/// The `track` call for the `[tracker]` group `group` of file `file`.
pub fn track(im: &mut Importer<'_>, file: usize, group: usize) -> Frag {
    let header = im.group_origin(file, group);
    let mut kind = "iou";
    let mut kind_at: Option<Origin> = None;
    let mut params: Vec<Frag> = Vec::new();
    if let Some((lib, e)) = im.value(file, group, "ll-lib-file")
        && !lib.contains("nvmultiobjecttracker")
    {
        im.report(file, e, Code::E0601, format!("the tracker library `{lib}` cannot be imported: vpl's trackers replace NvMultiObjectTracker only"), None);
    }
    if let Some((configs, e)) = im.value(file, group, "ll-config-file") {
        let list = super::ini::list(&configs);
        if list.len() > 1 {
            im.report(
                file,
                e,
                Code::W0602,
                "one tracker config a sub-batch has no equivalent: vpl reads the first".into(),
                None,
            );
        }
        if let Some(first) = list.first() {
            let at = im.origin(file, e);
            if let Some(y) = im.open(file, first, at, true) {
                let (k, at, p) = yaml(im, y);
                kind = k;
                kind_at = at;
                params = p;
            }
        }
    }
    if let Some((0, e)) = im.int(file, group, "display-tracking-id") {
        im.report(
            file,
            e,
            Code::W0601,
            "the track ids are drawn by `overlay(tracks: true)`; the importer keeps them".into(),
            None,
        );
    }
    let mut call = Frag::new();
    call.push("track(");
    call.push_at(kind, kind_at);
    for p in params {
        call.push(", ");
        call.append(p);
    }
    call.push(")");
    call.at(Some(header))
}

/// Reads the tracker's YAML: the kind (`iou`, or `sort` with a state estimator), and its
/// `max_age` and `iou`.
fn yaml(im: &mut Importer<'_>, file: usize) -> (&'static str, Option<Origin>, Vec<Frag>) {
    let groups = im.files[file].ini.groups.clone();
    for gi in 0..groups.len() {
        im.kinds.insert((file, gi), GroupKind::TrackerYaml);
    }
    let find = |im: &mut Importer<'_>, key: &str| -> Option<(f64, usize, usize)> {
        for gi in 0..groups.len() {
            if let Some((v, e)) = im.float(file, gi, key) {
                return Some((v, gi, e));
            }
        }
        None
    };
    let mut kind = "iou";
    let mut at = None;
    let mut params = Vec::new();
    if let Some((v, _, e)) = find(im, "stateEstimatorType")
        && v >= 1.0
    {
        kind = "sort";
        at = Some(im.origin(file, e));
    }
    if let Some((v, _, e)) = find(im, "visualTrackerType")
        && v >= 1.0
    {
        im.report(file, e, Code::W0602, "NvDCF's visual tracker has no equivalent in vpl, dropped: the importer tracks with `sort` (boxes and a Kalman filter) instead".into(), None);
        kind = "sort";
    }
    if let Some((v, _, e)) = find(im, "reidType")
        && v >= 1.0
    {
        im.report(
            file,
            e,
            Code::W0602,
            "re-identification has no equivalent in vpl, dropped".into(),
            None,
        );
    }
    if let Some((v, _, e)) = find(im, "maxShadowTrackingAge") {
        let age = v.round().max(1.0) as i64;
        params.push(Frag::from(format!("max_age: {age}")).at(Some(im.origin(file, e))));
    }
    if let Some((v, _, e)) = find(im, "minMatchingScore4Iou") {
        if v > 0.0 && v <= 1.0 {
            params.push(Frag::from(format!("iou: {}", float(v))).at(Some(im.origin(file, e))));
        } else {
            im.report(
                file,
                e,
                Code::W0602,
                format!("a minimum IOU of {v} has no equivalent: vpl keeps its default, 0.3"),
                None,
            );
        }
    }
    (kind, at, params)
}

/// A tracker YAML given on its own: its keys accounted for, no program.
pub fn standalone_yaml(im: &mut Importer<'_>, file: usize) -> Frag {
    let (kind, _, params) = yaml(im, file);
    let mut text = format!("// The tracker this config describes: track({kind}");
    for p in params {
        text.push_str(", ");
        text.push_str(&p.text);
    }
    text.push_str(")\n");
    Frag::from(text)
}
