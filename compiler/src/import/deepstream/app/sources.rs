//! A deepstream-app config's sources: `[sourceN]` groups (cameras, files, RTSP) and
//! `[source-list]` (a list of URIs, or a pool with nvmultiurisrcbin).

use super::super::emit::{Frag, string};
use super::super::{Importer, Origin};
use crate::diagnostics::Code;

/// The stream type an imported pool is given: what most IP cameras send.
const POOL_TYPE: &str = "h264, 1920x1080, 30fps";

pub struct Source {
    pub call: Frag,
    /// Encoded (needs `decode`).
    pub encoded: bool,
}

/// The sources of the `[sourceN]` groups `source_groups` and the `[source-list]` groups
/// `lists`: the streams, or a pool; `looped` is `[tests]`' `file-loop`.
pub fn sources(
    im: &mut Importer<'_>,
    file: usize,
    source_groups: &[usize],
    lists: &[usize],
    looped: Option<(bool, Origin)>,
) -> (Vec<Source>, Option<Frag>) {
    let mut sources: Vec<Source> = Vec::new();
    let mut pool: Option<Frag> = None;
    for &g in source_groups {
        sources.extend(source(im, file, g, looped));
    }
    for &g in lists {
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
            for uri in super::super::ini::list(&list) {
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
    (sources, pool)
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
