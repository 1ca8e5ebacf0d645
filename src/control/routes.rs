//! The control API's routes: a request (method, path, body) to its answer, over
//! [`Streams`]. No sockets here: the tests drive it directly.

use std::sync::Mutex;

use serde_json::json;
use vpl_compiler::pool::Request as StreamRequest;

use super::api::{Refused, Streams};
use super::deepstream;
use super::http::{Request, Response};

/// What the routes answer from.
pub struct Routes<'a> {
    pub streams: &'a dyn Streams,
    /// The metrics' text, when `--metrics` names the control API's address.
    pub metrics: Option<&'a Mutex<String>>,
}

/// The routes, each with the methods it takes (`405` names them in `Allow`).
enum Route {
    Streams,
    Stream(String),
    PoolStreams(String),
    Live,
    Ready,
    Stop,
    Metrics,
    DeepStreamAdd,
    DeepStreamRemove,
    DeepStreamInfo,
    DeepStreamReady,
}

impl Route {
    fn allowed(&self) -> &'static str {
        match self {
            Route::Streams
            | Route::Live
            | Route::Ready
            | Route::Metrics
            | Route::DeepStreamInfo
            | Route::DeepStreamReady => "GET",
            Route::Stream(_) => "DELETE",
            Route::PoolStreams(_)
            | Route::Stop
            | Route::DeepStreamAdd
            | Route::DeepStreamRemove => "POST",
        }
    }
}

impl Routes<'_> {
    /// The answer to `request`, authorised already.
    pub fn answer(&self, request: &Request) -> Response {
        let route = match self.find(&request.path) {
            Ok(route) => route,
            Err(response) => return response,
        };
        let method = request.method.as_str();
        let allowed = route.allowed();
        if method != allowed {
            return Response::error(
                405,
                format!(
                    "{} takes {allowed}, not {}",
                    request.path,
                    method.escape_debug()
                ),
            )
            .with_header("Allow", allowed);
        }
        match route {
            Route::Streams => Response::json(200, &json!(self.streams.list())),
            Route::Stream(id) => match self.streams.remove(&id) {
                Ok(frames) => Response::json(200, &json!({ "frames": frames })),
                Err(refused) => refusal(refused),
            },
            Route::PoolStreams(pool) => self.add(&pool, request),
            Route::Live => Response::json(200, &json!({ "live": true })),
            Route::Ready if self.streams.ready() => Response::json(200, &json!({ "ready": true })),
            Route::Ready => Response::error(503, "the run is not playing: starting or stopping"),
            Route::Stop => {
                self.streams.stop();
                Response::json(202, &json!({}))
            }
            Route::Metrics => Response {
                status: 200,
                body: self
                    .metrics
                    .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()).clone())
                    .unwrap_or_default(),
                content_type: prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
                headers: Vec::new(),
            },
            Route::DeepStreamAdd => match with_body(request) {
                Ok(body) => deepstream::add(self.streams, body),
                Err(response) => response,
            },
            Route::DeepStreamRemove => match with_body(request) {
                Ok(body) => deepstream::remove(self.streams, body),
                Err(response) => response,
            },
            Route::DeepStreamInfo => deepstream::stream_info(self.streams),
            Route::DeepStreamReady => deepstream::ready(self.streams),
        }
    }

    /// The route at `path`, or the answer when none is (404, 400 for a bad escape).
    fn find(&self, path: &str) -> Result<Route, Response> {
        let parts: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
        let not_found = || {
            Response::error(
                404,
                format!(
                    "no route {}: the control API has /v1/streams, /v1/pools/POOL/streams, /v1/streams/ID, /v1/health/live, /v1/health/ready, /v1/stop{} and DeepStream's /api/v1/stream/add and /api/v1/stream/remove",
                    path.escape_debug(),
                    if self.metrics.is_some() {
                        ", /metrics"
                    } else {
                        ""
                    }
                ),
            )
        };
        Ok(match parts.as_slice() {
            ["v1", "streams"] => Route::Streams,
            ["v1", "streams", id] => Route::Stream(decode(id)?),
            ["v1", "pools", pool, "streams"] => Route::PoolStreams(decode(pool)?),
            ["v1", "health", "live"] => Route::Live,
            ["v1", "health", "ready"] => Route::Ready,
            ["v1", "stop"] => Route::Stop,
            ["metrics"] if self.metrics.is_some() => Route::Metrics,
            ["api", "v1", "stream", "add"] => Route::DeepStreamAdd,
            ["api", "v1", "stream", "remove"] => Route::DeepStreamRemove,
            ["api", "v1", "stream", "get-stream-info"] => Route::DeepStreamInfo,
            ["api", "v1", "health", "get-dsready-state"] => Route::DeepStreamReady,
            _ => return Err(not_found()),
        })
    }

    /// `POST /v1/pools/{pool}/streams`: the body is `{"id", "url", "params"}`, nothing else.
    fn add(&self, pool: &str, request: &Request) -> Response {
        let body = match with_body(request) {
            Ok(body) => body,
            Err(response) => return response,
        };
        let stream: StreamRequest = match serde_json::from_slice(body) {
            Ok(stream) => stream,
            Err(e) => return bad_json(&e, "{\"id\", \"url\", \"params\": {...}}"),
        };
        match self.streams.add(pool, stream) {
            Ok(added) => Response::json(201, &json!(added)),
            Err(refused) => refusal(refused),
        }
    }
}

/// The body of a route that takes one: `Content-Length` is required (411).
pub fn with_body(request: &Request) -> Result<&[u8], Response> {
    if !request.has_length {
        return Err(Response::error(
            411,
            format!(
                "{} {} takes a JSON body: send it with a Content-Length",
                request.method, request.path
            ),
        ));
    }
    Ok(&request.body)
}

/// 400 for a body that is not the JSON expected, saying where and what (`unknown field
/// `x``, `missing field `url``).
pub fn bad_json(e: &serde_json::Error, expected: &str) -> Response {
    let what = match e.classify() {
        serde_json::error::Category::Data => "the body does not have the expected fields",
        serde_json::error::Category::Eof => "the body ends before its JSON does",
        _ => "the body is not JSON",
    };
    Response::error(400, format!("{what}: {e}; expected {expected}"))
}

/// The answer to a request [`Streams`] refused.
pub fn refusal(refused: Refused) -> Response {
    match refused {
        Refused::NotFound(message) => Response::error(404, message),
        Refused::Conflict(message) => Response::error(409, message),
        Refused::Unfit(report) => Response::json(422, &report),
        Refused::Unavailable(message) => Response::error(503, message),
    }
}

/// A path segment, percent-decoded: the name or id it holds, unchanged otherwise.
fn decode(segment: &str) -> Result<String, Response> {
    let bad = || {
        Response::error(
            400,
            format!(
                "the path segment `{}` is not percent-encoded UTF-8",
                segment.escape_debug()
            ),
        )
    };
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return Err(bad());
            }
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}
