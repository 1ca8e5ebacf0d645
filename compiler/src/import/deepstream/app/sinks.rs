//! A deepstream-app config's `[sinkN]` groups → flow statements.

use super::super::Importer;
use super::super::emit::{Frag, string};
use crate::diagnostics::Code;

/// A `[sinkN]` group → a flow statement.
pub fn sink(im: &mut Importer<'_>, file: usize, g: usize, shown: &str) -> Option<Frag> {
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
        6 => broker(im, file, g, ke)?,
        t => {
            im.report(file, ke, Code::E0601, format!("sink `type={t}` cannot be imported: vpl has fakesink (1), display (2), file (3), RTSP (4) and broker (6) sinks"), None);
            return None;
        }
    };
    Some(flow.at(Some(header)).push(";\n").clone())
}

/// A broker sink (`type=6`) → the flow that sends the records to it.
fn broker(im: &mut Importer<'_>, file: usize, g: usize, ke: usize) -> Option<Frag> {
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
        im.report(
            file,
            le,
            Code::E0601,
            format!(
                "the broker library `{lib}` cannot be imported: vpl sends to Kafka, MQTT and Redis"
            ),
            None,
        );
        return None;
    };
    let conn = im.value(file, g, "msg-broker-conn-str");
    let topic_key = im.value(file, g, "topic");
    let (host, port, conn_topic, conn_at) = match &conn {
        Some((c, e)) => {
            let parts = super::super::ini::list(c);
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
    Some(f)
}
