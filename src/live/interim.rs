//! Stand-in for `vpl_compiler::pool::{admit, initial_streams}` while the compiler's side of
//! issue 21 is not merged here: the same signatures and the same `vplc check --format json`
//! shape, with a smaller set of checks (the id rule, the URL's scheme, `file`'s `loop`,
//! the probed codec, size and rate against the pool's). Goes when the compiler's lands.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use vpl_compiler::facts::MediaFacts;
use vpl_compiler::plan::PoolPlan;
use vpl_compiler::pool::{Entry, Request, StreamSource, id_problem};

fn refusal(origin: &str, code: &str, message: String, help: Option<String>) -> Value {
    json!({
        "diagnostics": [{
            "code": code,
            "severity": "error",
            "message": message,
            "file": origin,
            "labels": [],
            "help": help,
        }],
        "errors": 1,
        "warnings": 0,
    })
}

pub fn admit(
    pool: &PoolPlan,
    origin: &str,
    request: &Request,
    base: &Path,
    probe: &mut dyn FnMut(&StreamSource) -> Result<MediaFacts, String>,
) -> Result<Entry, Value> {
    if let Some(why) = id_problem(&request.id) {
        return Err(refusal(origin, "E0215", why, None));
    }
    let url = request.url.as_str();
    let source = if url.starts_with("rtsp://") {
        StreamSource::Rtsp {
            url: url.to_string(),
            latency_ns: 200_000_000,
            tcp: true,
            reconnect_ns: 2_000_000_000,
        }
    } else if url.contains("://") && !url.starts_with("file://") {
        return Err(refusal(
            origin,
            "E0215",
            format!("`{url}` is neither rtsp://, file:// nor a path"),
            None,
        ));
    } else {
        let path = PathBuf::from(url.strip_prefix("file://").unwrap_or(url));
        let looping = match request.params.get("loop") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(refusal(origin, "E0106", "`loop` is a bool".into(), None));
            }
        };
        StreamSource::File {
            path: if path.is_absolute() {
                path
            } else {
                base.join(path)
            },
            looping,
        }
    };
    if let Some(unknown) = request.params.keys().find(|k| k.as_str() != "loop") {
        return Err(refusal(
            origin,
            "E0104",
            format!("unknown parameter `{unknown}`"),
            None,
        ));
    }
    if matches!(source, StreamSource::Rtsp { .. }) && !request.params.is_empty() {
        return Err(refusal(
            origin,
            "E0104",
            "`rtsp` has no `loop`".into(),
            None,
        ));
    }
    let facts = probe(&source)
        .map_err(|why| refusal(origin, "E0109", format!("cannot read `{url}`: {why}"), None))?;
    let Some(video) = facts.video else {
        return Err(refusal(
            origin,
            "E0109",
            format!("`{url}` has no video"),
            None,
        ));
    };
    let ty = &pool.ty;
    if video.format != ty.codec {
        return Err(refusal(
            origin,
            "E0201",
            format!(
                "`{url}` is {} video, but pool `{}` takes {}",
                video.format, pool.name, ty.codec
            ),
            Some(format!("give pool `{}` a {} stream", pool.name, ty.codec)),
        ));
    }
    if (video.width, video.height) != (Some(ty.width), Some(ty.height)) {
        let (w, h) = (video.width.unwrap_or(0), video.height.unwrap_or(0));
        return Err(refusal(
            origin,
            "E0201",
            format!(
                "`{url}` is {w}x{h}, but pool `{}` takes {}x{}",
                pool.name, ty.width, ty.height
            ),
            Some(format!(
                "add `scale({}x{})` after `decode`",
                ty.width, ty.height
            )),
        ));
    }
    let rate = (u64::from(ty.rate.0), u64::from(ty.rate.1));
    if video.rate.is_some_and(|r| r != rate) {
        return Err(refusal(
            origin,
            "E0201",
            format!("`{url}` does not have pool `{}`'s frame rate", pool.name),
            None,
        ));
    }
    Ok(Entry {
        id: request.id.clone(),
        url: request.url.clone(),
        source,
    })
}

pub fn initial_streams(pool: &PoolPlan, base: &Path) -> Result<Vec<Request>, String> {
    match &pool.streams_file {
        None => Ok(Vec::new()),
        Some(path) => Err(format!(
            "{}: `streams:` files are read once the compiler's side of pools is merged",
            base.join(path).display()
        )),
    }
}
