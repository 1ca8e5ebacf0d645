//! An nvinfer config (`[property]`, `[class-attrs-all]`) → a `model` item, and what
//! `infer` needs to run it (interval, batch size, the objects it runs on).

use super::emit::{Frag, float, string};
use super::keys::GroupKind;
use super::{Importer, Origin};
use crate::diagnostics::Code;

/// What a GIE's model does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Detector,
    Classifier,
    Segmentation,
    Other,
}

pub struct Model {
    pub name: String,
    pub item: Frag,
    pub gie_id: Option<i64>,
    pub operate_on: Option<i64>,
    pub classes: Option<(Vec<i64>, Origin)>,
    pub labels: Option<Vec<String>>,
    pub every: Option<(i64, Origin)>,
    pub batch: Option<(i64, Origin)>,
    pub min_size: Option<(String, Origin)>,
}

/// Keys the app's GIE group may set in place of the nvinfer file's.
const OVERRIDES: &[&str] = &[
    "batch-size",
    "interval",
    "gie-unique-id",
    "labelfile-path",
    "operate-on-gie-id",
    "operate-on-class-ids",
];

/// Reads the nvinfer file `file` (its `[property]` group) as model `name`; `app` is the
/// app config's GIE group that named it, whose keys win (as in deepstream-app).
pub fn model(
    im: &mut Importer<'_>,
    file: usize,
    name: &str,
    app: Option<(usize, usize)>,
) -> Option<Model> {
    let groups = im.files[file].ini.groups.clone();
    let property = group_kinds(im, file, &groups);
    let Some(p) = property else {
        if groups.is_empty() {
            // Nothing read (a Triton config, or only lines that are not `key=value`): the
            // file's own findings say why.
            return None;
        }
        let at = Origin {
            file,
            span: groups.first().map(|g| g.span).unwrap_or_default(),
        };
        im.not_imported.push(format!(
            "{}: no [property] group",
            im.files[file].path.display()
        ));
        im.push_finding(
            Code::E0601,
            at,
            "an nvinfer config with no [property] group cannot be imported".into(),
            None,
        );
        return None;
    };
    let keys = Keys { file, p, app };

    let mut args: Vec<Frag> = Vec::new();
    let (head, onnx) = model_file(im, file, p, &groups, name);
    let labels = label_file(im, keys, &mut args);
    let (kind, network_type) = network(im, file, p);
    let model_path = onnx.as_ref().map(|(path, _)| im.resolve(file, path));
    let decoder = decoder(im, file, p, kind, network_type, model_path.as_deref());
    if let Some(d) = decoder {
        args.push(Frag::from("decoder: ").append(d).clone());
    }
    prepare(im, file, p, &mut args);
    outputs(im, file, p, kind);

    let mut item = head;
    for a in args {
        item.push(",\n    ");
        item.append(a);
    }
    item.push(",\n);\n");

    let Runs {
        gie_id,
        operate_on,
        classes,
        every,
        batch,
        min_size,
    } = runs(im, keys);
    Some(Model {
        name: name.to_string(),
        item,
        gie_id,
        operate_on,
        classes,
        labels,
        every,
        batch,
        min_size,
    })
}

/// Gives each group of the nvinfer file `file` its kind (a group nvinfer does not read, or
/// a `[class-attrs-N]`, is reported as a whole); the index of its `[property]` group.
fn group_kinds(im: &mut Importer<'_>, file: usize, groups: &[super::ini::Group]) -> Option<usize> {
    let mut property = None;
    for (gi, g) in groups.iter().enumerate() {
        let kind = match g.name.as_str() {
            "property" => {
                property = Some(gi);
                GroupKind::Nvinfer
            }
            "class-attrs-all" => GroupKind::ClassAttrs,
            n if n.starts_with("class-attrs-") => {
                im.kinds.insert((file, gi), GroupKind::ClassAttrs);
                im.whole_group(
                    file,
                    gi,
                    Code::W0602,
                    format!("[{n}] has no equivalent in vpl, dropped: vpl has one threshold for every class of a model"),
                );
                continue;
            }
            n => {
                let suggestion = crate::suggest::did_you_mean(n, ["property", "class-attrs-all"]);
                im.whole_group(
                    file,
                    gi,
                    Code::W0603,
                    format!("nvinfer does not read a group [{n}]"),
                );
                if let (Some(s), Some(f)) = (suggestion, im.findings.last_mut()) {
                    f.help = Some(format!("did you mean `{s}`?"));
                    f.suggestion = Some(s.to_string());
                }
                continue;
            }
        };
        im.kinds.insert((file, gi), kind);
    }
    property
}

/// Where a model's keys are read: the nvinfer file's `[property]` group, and the app
/// config's GIE group that named it, if any.
#[derive(Clone, Copy)]
struct Keys {
    file: usize,
    p: usize,
    app: Option<(usize, usize)>,
}

impl Keys {
    /// The entry of `key`: the app group's wins over the file's.
    fn pick(self, im: &mut Importer<'_>, key: &str) -> Option<(usize, usize)> {
        let Keys { file, p, app } = self;
        if let Some((af, ag)) = app
            && OVERRIDES.contains(&key)
            && let Some(e) = im.take(af, ag, key)
        {
            if let Some(own) = im.take(file, p, key)
                && im.entry(file, own).value.trim() != im.entry(af, e).value.trim()
            {
                im.report(
                    file,
                    own,
                    Code::W0602,
                    format!("`{key}` is set differently in the app config's GIE group, which DeepStream reads instead"),
                    None,
                );
            }
            return Some((af, e));
        }
        im.take(file, p, key).map(|e| (file, e))
    }
}

/// The integer value of the entry `at` of `key`, reported when it is not one.
fn int_of(
    im: &mut Importer<'_>,
    at: Option<(usize, usize)>,
    key: &str,
) -> Option<(i64, usize, usize)> {
    let (f, e) = at?;
    let text = im.entry(f, e).value.clone();
    match text.trim().parse::<i64>() {
        Ok(v) => Some((v, f, e)),
        Err(_) => {
            im.report(
                f,
                e,
                Code::E0601,
                format!("`{key}={text}` is not an integer"),
                None,
            );
            None
        }
    }
}

/// The model file: the head of the `model` item, and `onnx-file`'s value.
fn model_file(
    im: &mut Importer<'_>,
    file: usize,
    p: usize,
    groups: &[super::ini::Group],
    name: &str,
) -> (Frag, Option<(String, usize)>) {
    // The model file.
    let onnx = im.value(file, p, "onnx-file");
    let mut head = Frag::from(format!("model {name} = onnx("));
    match &onnx {
        Some((path, e)) => {
            let at = im.value_origin(file, *e);
            head.push_at(string(&im.vpl_path(file, path)), Some(at));
        }
        None => {
            let other = [
                "tlt-encoded-model",
                "uff-file",
                "model-file",
                "custom-network-config",
            ]
            .iter()
            .find_map(|k| im.files[file].ini.find(&groups[p], k));
            let at = Origin {
                file,
                span: groups[p].span,
            };
            if other.is_none() {
                im.not_imported.push(format!(
                    "{}: no `onnx-file` (a prebuilt engine only)",
                    im.files[file].path.display()
                ));
                im.push_finding(
                    Code::E0601,
                    at,
                    "no `onnx-file`: vpl runs ONNX models and builds its own engines, so an nvinfer config with only `model-engine-file` cannot be imported".into(),
                    Some("export the network to ONNX and name it in `onnx-file`".into()),
                );
            }
            head.push_at(string("model.onnx"), Some(at));
        }
    }
    (head, onnx)
}

/// The labels (`labelfile-path`): the `labels:` argument, and the labels read, if the file
/// could be read.
fn label_file(im: &mut Importer<'_>, keys: Keys, args: &mut Vec<Frag>) -> Option<Vec<String>> {
    // Labels.
    let mut labels = None;
    if let Some((f, e)) = keys.pick(im, "labelfile-path") {
        let value = im.entry(f, e).value.clone();
        let at = im.value_origin(f, e);
        let path = im.resolve(f, &value);
        if let Ok(text) = (im.read)(&path) {
            // DeepStream reads a detector's labels one a line, a classifier's `;`-separated.
            labels = Some(
                text.lines()
                    .flat_map(|l| l.split(';'))
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>(),
            );
        }
        args.push(
            Frag::from("labels: ")
                .append(Frag::from(string(&im.vpl_path(f, &value))))
                .clone()
                .at(Some(at)),
        );
    }
    labels
}

/// What the network is, and its `network-type`.
fn network(im: &mut Importer<'_>, file: usize, p: usize) -> (Kind, Option<(i64, usize)>) {
    // What the network is.
    let network_type = im.int(file, p, "network-type");
    let is_classifier = im.int(file, p, "is-classifier");
    let kind = match (network_type.map(|n| n.0), is_classifier.map(|c| c.0)) {
        (Some(1), _) | (None, Some(1)) => Kind::Classifier,
        (Some(2), _) => Kind::Segmentation,
        (Some(0) | None, _) => Kind::Detector,
        (Some(3), _) => Kind::Other,
        (Some(_), _) => Kind::Other,
    };
    if let (Some((_, e)), Some(_)) = (is_classifier, network_type) {
        im.report(file, e, Code::W0602, "`is-classifier` is an older spelling of `network-type`, which DeepStream reads instead".into(), None);
    }
    (kind, network_type)
}

/// How frames are prepared for the model: resize, colour, scale and mean, input shape.
fn prepare(im: &mut Importer<'_>, file: usize, p: usize, args: &mut Vec<Frag>) {
    // Preparation of frames.
    let keep = im.int(file, p, "maintain-aspect-ratio");
    let symmetric = im.int(file, p, "symmetric-padding");
    let resize = match keep {
        Some((1, e)) => {
            if let Some((0, s)) = symmetric {
                im.report(file, s, Code::W0602, "vpl's letterbox centres the frame: DeepStream's padding on the right and bottom only has no equivalent".into(), None);
            }
            Some(("letterbox", e))
        }
        Some((_, e)) => Some(("stretch", e)),
        None => {
            if let Some((_, s)) = symmetric {
                im.report(
                    file,
                    s,
                    Code::W0602,
                    "`symmetric-padding` has no effect without `maintain-aspect-ratio=1`".into(),
                    None,
                );
            }
            None
        }
    };
    let resize = resize.map(|(r, e)| (r, im.origin(file, e)));
    args.push(
        Frag::from(format!("resize: {}", resize.map_or("stretch", |r| r.0)))
            .at(resize.map(|r| r.1)),
    );
    let color = im.int(file, p, "model-color-format");
    match color {
        Some((1, e)) => args.push(Frag::from("color: bgr").at(Some(im.origin(file, e)))),
        Some((2, e)) => im.report(file, e, Code::W0601, "a gray model: vpl reads the channel count from the model's input and gives it BT.601 luma".into(), None),
        Some((0, e)) => args.push(Frag::from("color: rgb").at(Some(im.origin(file, e)))),
        Some((n, e)) => im.report(file, e, Code::E0601, format!("`model-color-format={n}` is not a colour format DeepStream knows (0 RGB, 1 BGR, 2 gray)"), None),
        None => args.push(Frag::from("color: rgb")),
    }
    // (pixel - offset) × net-scale-factor = pixel × scale - mean with mean = offset × scale.
    let scale = im.float(file, p, "net-scale-factor");
    let factor = scale.map_or(1.0, |s| s.0);
    args.push(
        Frag::from(format!("scale: {}", float(factor))).at(scale.map(|s| im.origin(file, s.1))),
    );
    if let Some((text, e)) = im.value(file, p, "offsets") {
        let parts: Result<Vec<f64>, _> = super::ini::list(&text)
            .iter()
            .map(|v| v.parse::<f64>())
            .collect();
        match parts {
            Ok(offsets) if !offsets.is_empty() => {
                let means: Vec<String> = offsets.iter().map(|o| float(o * factor)).collect();
                args.push(
                    Frag::from(format!("mean: [{}]", means.join(", ")))
                        .at(Some(im.origin(file, e))),
                );
            }
            _ => im.report(
                file,
                e,
                Code::E0601,
                format!("`offsets={text}` is not a list of numbers"),
                None,
            ),
        }
    }
    if let Some((text, e)) = im.value(file, p, "infer-dims") {
        let dims: Result<Vec<u64>, _> = super::ini::list(&text)
            .iter()
            .map(|v| v.parse::<u64>())
            .collect();
        match dims {
            Ok(d) if d.len() == 3 => args.push(
                Frag::from(format!(
                    "input: tensor<f32, [_, {}, {}, {}]>",
                    d[0], d[1], d[2]
                ))
                .at(Some(im.origin(file, e))),
            ),
            _ => im.report(
                file,
                e,
                Code::E0601,
                format!("`infer-dims={text}` is not three integers C;H;W"),
                None,
            ),
        }
    }
}

/// Outputs vpl does not attach as nvinfer does.
fn outputs(im: &mut Importer<'_>, file: usize, p: usize, kind: Kind) {
    if let Some((n, e)) = im.int(file, p, "output-tensor-meta")
        && n != 0
        && kind != Kind::Other
    {
        im.report(
            file,
            e,
            Code::W0602,
            "the outputs are decoded, not attached as tensors: write `decoder: raw` to keep them"
                .into(),
            None,
        );
    }
    for key in ["output-instance-mask"] {
        if let Some((n, e)) = im.int(file, p, key)
            && n != 0
        {
            im.report(file, e, Code::E0601, "instance masks from a custom parser cannot be imported: vpl's masks come from `yolov8_seg`".into(), None);
        }
    }
}

/// How a model runs: its GIE ids, the objects it runs on, interval, batch, smallest object.
struct Runs {
    gie_id: Option<i64>,
    operate_on: Option<i64>,
    classes: Option<(Vec<i64>, Origin)>,
    every: Option<(i64, Origin)>,
    batch: Option<(i64, Origin)>,
    min_size: Option<(String, Origin)>,
}

fn runs(im: &mut Importer<'_>, keys: Keys) -> Runs {
    let Keys { file, p, .. } = keys;
    // How it runs.
    let at = keys.pick(im, "gie-unique-id");
    let gie_id = int_of(im, at, "gie-unique-id").map(|v| v.0);
    let at = keys.pick(im, "operate-on-gie-id");
    let operate_on = int_of(im, at, "operate-on-gie-id").map(|v| v.0);
    let classes = keys.pick(im, "operate-on-class-ids").and_then(|(f, e)| {
        let text = im.entry(f, e).value.clone();
        let ids: Result<Vec<i64>, _> = super::ini::list(&text)
            .iter()
            .map(|v| v.parse::<i64>())
            .collect();
        match ids {
            Ok(ids) => Some((ids, im.origin(f, e))),
            Err(_) => {
                im.report(
                    f,
                    e,
                    Code::E0601,
                    format!("`operate-on-class-ids={text}` is not a list of integers"),
                    None,
                );
                None
            }
        }
    });
    let at = keys.pick(im, "interval");
    let every = int_of(im, at, "interval").map(|(n, f, e)| (n.saturating_add(1), im.origin(f, e)));
    let at = keys.pick(im, "batch-size");
    let batch = int_of(im, at, "batch-size").map(|(n, f, e)| (n, im.origin(f, e)));
    im.take(file, p, "process-mode");
    let min_w = im.int(file, p, "input-object-min-width");
    let min_h = im.int(file, p, "input-object-min-height");
    let min_size = match (min_w, min_h) {
        (None, None) => None,
        (w, h) => {
            let at = im.origin(file, w.or(h).map(|x| x.1).unwrap_or_default());
            Some((
                format!(
                    "{}x{}",
                    w.map_or(1, |x| x.0.max(1)),
                    h.map_or(1, |x| x.0.max(1))
                ),
                at,
            ))
        }
    };
    Runs {
        gie_id,
        operate_on,
        classes,
        every,
        batch,
        min_size,
    }
}

/// The decoder call for the model's parser and clustering.
fn decoder(
    im: &mut Importer<'_>,
    file: usize,
    p: usize,
    kind: Kind,
    network_type: Option<(i64, usize)>,
    model: Option<&std::path::Path>,
) -> Option<Frag> {
    let parser = im.value(file, p, "parse-bbox-func-name");
    let lib = im.value(file, p, "custom-lib-path");
    match kind {
        Kind::Classifier => return Some(Frag::from("classify(top: 1)")),
        Kind::Segmentation => return Some(Frag::from("semantic()")),
        Kind::Other => {
            if let Some((n, e)) = network_type {
                if n == 3 {
                    im.report(file, e, Code::E0601, "instance segmentation (`network-type=3`) reads its masks with a custom parser vpl has no decoder for".into(), Some("export a YOLOv8-seg model and write `decoder: yolov8_seg()`".into()));
                } else {
                    return Some(Frag::from("raw").at(Some(im.origin(file, e))));
                }
            }
            return None;
        }
        Kind::Detector => {}
    }
    // [class-attrs-all]
    let attrs = im.files[file]
        .ini
        .groups
        .iter()
        .position(|g| g.name == "class-attrs-all");
    let mut params: Vec<Frag> = Vec::new();
    if let Some(a) = attrs
        && let Some((v, e)) = im.float(file, a, "pre-cluster-threshold")
    {
        params.push(Frag::from(format!("confidence: {}", float(v))).at(Some(im.origin(file, e))));
    }
    let cluster = im.int(file, p, "cluster-mode");
    let nms = matches!(cluster, Some((2, _)) | None);
    match cluster {
        Some((2, _)) | None => {}
        Some((m, e)) => {
            let what = match m {
                0 => "OpenCV's group rectangles",
                1 => "DBSCAN",
                3 => "DBSCAN then NMS",
                4 => "no clustering",
                _ => "an unknown cluster mode",
            };
            im.report(file, e, Code::W0602, format!("`cluster-mode={m}` ({what}) has no equivalent in vpl, dropped: vpl merges boxes with per-class NMS"), None);
        }
    }
    if let Some(a) = attrs {
        if let Some((v, e)) = im.float(file, a, "nms-iou-threshold") {
            if nms {
                params.push(Frag::from(format!("iou: {}", float(v))).at(Some(im.origin(file, e))));
            } else {
                im.report(
                    file,
                    e,
                    Code::W0602,
                    "`nms-iou-threshold` has no effect without `cluster-mode=2`".into(),
                    None,
                );
            }
        }
        if let Some((v, e)) = im.int(file, a, "topk")
            && v > 0
        {
            params.push(Frag::from(format!("max: {v}")).at(Some(im.origin(file, e))));
        }
    }
    let name = match &parser {
        None => "detectnet_v2",
        Some((f, _)) if f == "NvDsInferParseYolo" || f == "NvDsInferParseYoloCuda" => "ds_yolo",
        Some((f, e)) => {
            let outputs = model
                .zip(im.host)
                .and_then(|(path, host)| host.model_signature(path).ok())
                .map(|facts| {
                    let shapes: Vec<String> = facts
                        .outputs
                        .iter()
                        .map(|o| format!("`{}` {}", o.name, o.signature()))
                        .collect();
                    format!(" (the model's outputs: {})", shapes.join(", "))
                })
                .unwrap_or_default();
            let message = format!(
                "the custom parser `{f}` cannot be imported: vpl has no decoder for it{outputs}"
            );
            im.report(file, *e, Code::E0601, message, Some("vpl's decoders: yolov8, yolov5, detr, ssd, ds_yolo, detectnet_v2 (docs/decoders.md); `vplc check` names the model's output shapes against the one you choose".into()));
            if let Some((_, l)) = lib {
                im.report(
                    file,
                    l,
                    Code::W0602,
                    "the custom library's parser is not imported (above)".into(),
                    None,
                );
            }
            return None;
        }
    };
    // DeepStream's default parser has no key: the `[property]` group stands for it.
    let at = Some(match &parser {
        Some((_, e)) => im.origin(file, *e),
        None => im.group_origin(file, p),
    });
    if let Some((_, l)) = lib {
        im.report(
            file,
            l,
            Code::W0601,
            format!("vpl's `{name}` decoder reads the outputs in place of this library"),
            None,
        );
    }
    let mut call = Frag::from(format!("{name}("));
    call.append(Frag::join(params, ", "));
    call.push(")");
    Some(call.at(at))
}
