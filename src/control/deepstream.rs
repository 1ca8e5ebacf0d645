//! DeepStream's REST API (`nvmultiurisrcbin`'s `nvds_rest_server`), mapped onto
//! [`Streams`], so scripts written for DeepStream drive vpl unchanged:
//!
//! - `POST /api/v1/stream/add` with `{"key": "sensor", "value": {"camera_id", "camera_name",
//!   "camera_url", "change": "camera_add", "metadata": {...}}, "headers": {...}}` adds
//!   `camera_id` with `camera_url` to the program's only pool, or to `metadata.pool` when
//!   it has several; `metadata.params` (an object) are the stream's parameters; the rest of
//!   `metadata` is ignored, as DeepStream does (the stream is probed instead).
//! - `POST /api/v1/stream/remove` with `"change": "camera_remove"` removes `camera_id`.
//! - `GET /api/v1/stream/get-stream-info` and `GET /api/v1/health/get-dsready-state`.
//!
//! Answers carry DeepStream's `status` and `reason` (`STREAM_ADD_SUCCESS`,
//! `STREAM_ADD_FAIL`, …). Unlike DeepStream, whose failures are all HTTP 500, a refusal
//! has the HTTP status of the native route (400, 404, 409, 422), with `error` saying why,
//! or for 422 the diagnostics of `vplc check --format json`.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use vpl_compiler::pool::Request as StreamRequest;

use super::api::{Refused, Streams};
use super::http::{Response, reason};
use super::routes::{bad_json, refusal};

/// DeepStream's body of `stream/add` and `stream/remove`. Its other members (`headers`)
/// are taken and ignored, as DeepStream does.
#[derive(Debug, Deserialize)]
struct Body {
    key: String,
    value: Sensor,
}

#[derive(Debug, Deserialize)]
struct Sensor {
    camera_id: String,
    #[serde(default)]
    camera_url: Option<String>,
    change: String,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
}

const EXPECTED: &str = "DeepStream's {\"key\": \"sensor\", \"value\": {\"camera_id\", \"camera_url\", \"change\", \"metadata\": {...}}}";

/// `POST /api/v1/stream/add`.
pub fn add(streams: &dyn Streams, body: &[u8]) -> Response {
    const FAIL: &str = "STREAM_ADD_FAIL";
    let sensor = match sensor(body, &["camera_add", "camera_streaming"]) {
        Ok(sensor) => sensor,
        Err(response) => return reasoned(response, FAIL),
    };
    let Some(url) = sensor.camera_url else {
        return failed(400, FAIL, "`value.camera_url` is missing: the stream's URL");
    };
    let mut metadata = sensor.metadata.unwrap_or_default();
    let pool = match metadata.remove("pool") {
        Some(Value::String(pool)) => pool,
        Some(other) => {
            return failed(
                400,
                FAIL,
                format!("`value.metadata.pool` is {other}: a pool's name, as a string"),
            );
        }
        None => match streams.pools().as_slice() {
            [only] => only.clone(),
            [] => {
                return failed(
                    404,
                    FAIL,
                    "this program has no pool to add a stream to: declare one with `pool(max: N) : video<...>`",
                );
            }
            several => {
                return failed(
                    400,
                    FAIL,
                    format!(
                        "this program has several pools ({}): name one in `value.metadata.pool`",
                        several.join(", ")
                    ),
                );
            }
        },
    };
    let params = match metadata.remove("params") {
        Some(Value::Object(params)) => params,
        None => Map::new(),
        Some(other) => {
            return failed(
                400,
                FAIL,
                format!(
                    "`value.metadata.params` is {other}: the stream's parameters, as an object"
                ),
            );
        }
    };
    let request = StreamRequest {
        id: sensor.camera_id,
        url,
        params,
    };
    match streams.add(&pool, request) {
        Ok(added) => {
            let mut answer = success("STREAM_ADD_SUCCESS");
            answer.insert("id".into(), json!(added.id));
            answer.insert("slot".into(), json!(added.slot));
            answer.insert("type".into(), json!(added.ty));
            Response::json(200, &Value::Object(answer))
        }
        Err(refused) => refused_as(refused, FAIL),
    }
}

/// `POST /api/v1/stream/remove`.
pub fn remove(streams: &dyn Streams, body: &[u8]) -> Response {
    const FAIL: &str = "STREAM_REMOVE_FAIL";
    let sensor = match sensor(body, &["camera_remove"]) {
        Ok(sensor) => sensor,
        Err(response) => return reasoned(response, FAIL),
    };
    match streams.remove(&sensor.camera_id) {
        Ok(frames) => {
            let mut answer = success("STREAM_REMOVE_SUCCESS");
            answer.insert("frames".into(), json!(frames));
            Response::json(200, &Value::Object(answer))
        }
        Err(refused) => refused_as(refused, FAIL),
    }
}

/// `GET /api/v1/stream/get-stream-info`: the streams as DeepStream lists its sensors
/// (`source_id`: the stream's slot in its pool).
pub fn stream_info(streams: &dyn Streams) -> Response {
    let list: Vec<Value> = streams
        .list()
        .into_iter()
        .map(|s| json!({ "camera_id": s.id, "camera_name": s.id, "source_id": s.slot }))
        .collect();
    let mut answer = success("GET_LIVE_STREAM_INFO_SUCCESS");
    answer.insert(
        "stream-info".into(),
        json!({ "stream-count": list.len(), "stream-info": list }),
    );
    Response::json(200, &Value::Object(answer))
}

/// `GET /api/v1/health/get-dsready-state`: `ds-ready` is `YES` while the run plays.
pub fn ready(streams: &dyn Streams) -> Response {
    let mut answer = success("GET_DS_READINESS_INFO_SUCCESS");
    answer.insert(
        "health-info".into(),
        json!({ "ds-ready": if streams.ready() { "YES" } else { "NO" } }),
    );
    Response::json(200, &Value::Object(answer))
}

/// The sensor of a body whose `change` is one of `changes`, or the 400 saying what is
/// wrong.
fn sensor(body: &[u8], changes: &[&str]) -> Result<Sensor, Response> {
    let body: Body = serde_json::from_slice(body).map_err(|e| bad_json(&e, EXPECTED))?;
    if body.key != "sensor" {
        return Err(Response::error(
            400,
            format!(
                "`key` is `{}`; DeepStream's stream requests have `\"key\": \"sensor\"`",
                body.key.escape_debug()
            ),
        ));
    }
    if !changes.contains(&body.value.change.as_str()) {
        return Err(Response::error(
            400,
            format!(
                "`value.change` is `{}`; this route takes `{}`",
                body.value.change.escape_debug(),
                changes.join("` or `")
            ),
        ));
    }
    Ok(body.value)
}

/// `{"status": "HTTP/1.1 200 OK", "reason": reason}`.
fn success(reason: &str) -> Map<String, Value> {
    let mut answer = Map::new();
    answer.insert("status".into(), json!("HTTP/1.1 200 OK"));
    answer.insert("reason".into(), json!(reason));
    answer
}

fn failed(status: u16, why: &str, message: impl Into<String>) -> Response {
    reasoned(Response::error(status, message), why)
}

fn refused_as(refused: Refused, why: &str) -> Response {
    reasoned(refusal(refused), why)
}

/// A native answer given DeepStream's `status` and `reason` beside its own members.
fn reasoned(response: Response, why: &str) -> Response {
    let mut body = match serde_json::from_str::<Value>(&response.body) {
        Ok(Value::Object(body)) => body,
        _ => Map::new(),
    };
    body.insert(
        "status".into(),
        json!(format!(
            "HTTP/1.1 {} {}",
            response.status,
            reason(response.status)
        )),
    );
    body.insert("reason".into(), json!(why));
    Response {
        body: Value::Object(body).to_string(),
        ..response
    }
}
