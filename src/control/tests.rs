//! The routes driven directly with a stand-in run: every route, every status and body,
//! DeepStream's own bodies, malformed and unexpected requests. (Over TCP: tests/control.rs.)

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use vpl_compiler::pool::Request as StreamRequest;

use super::api::{Added, Refused, StreamInfo, Streams};
use super::auth::{same_token, token_for};
use super::http::{Request, Response};
use super::routes::Routes;

const TYPE: &str = "video<h264, 320x240, 25fps>";

/// A pool of 3 slots that admits any URL but one naming `640x480`, and records every
/// request it is given, as given.
struct StandIn {
    pools: Vec<String>,
    streams: Mutex<Vec<(String, StreamRequest)>>,
    asked: Mutex<Vec<(String, StreamRequest)>>,
    removed: Mutex<Vec<String>>,
    ready: AtomicBool,
    stopped: AtomicBool,
}

impl StandIn {
    fn new(pools: &[&str]) -> StandIn {
        StandIn {
            pools: pools.iter().map(|p| p.to_string()).collect(),
            streams: Mutex::new(Vec::new()),
            asked: Mutex::new(Vec::new()),
            removed: Mutex::new(Vec::new()),
            ready: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        }
    }

    fn unfit() -> Value {
        json!({
            "diagnostics": [{
                "code": "E0201", "severity": "error", "file": "POST /v1/pools/cams/streams",
                "message": "the stream is 640x480; the pool's streams are 320x240",
                "help": "add `scale(320x240)` after `decode`",
            }],
            "errors": 1, "warnings": 0,
        })
    }
}

impl Streams for StandIn {
    fn pools(&self) -> Vec<String> {
        self.pools.clone()
    }

    fn list(&self) -> Vec<StreamInfo> {
        let streams = self.streams.lock().unwrap();
        streams
            .iter()
            .enumerate()
            .map(|(slot, (pool, r))| StreamInfo {
                id: r.id.clone(),
                pool: pool.clone(),
                slot,
                url: r.url.clone(),
                state: "playing".into(),
                ty: TYPE.into(),
                frames: 7,
                fps: 25.0,
                last_error: None,
            })
            .collect()
    }

    fn add(&self, pool: &str, request: StreamRequest) -> Result<Added, Refused> {
        self.asked
            .lock()
            .unwrap()
            .push((pool.to_string(), request.clone()));
        if !self.pools.iter().any(|p| p == pool) {
            return Err(Refused::NotFound(format!("no pool named `{pool}`")));
        }
        if request.url.contains("640x480") {
            return Err(Refused::Unfit(StandIn::unfit()));
        }
        let mut streams = self.streams.lock().unwrap();
        if streams.iter().any(|(_, r)| r.id == request.id) {
            return Err(Refused::Conflict(format!("`{}` is taken", request.id)));
        }
        if streams.len() == 3 {
            return Err(Refused::Conflict(format!("the pool `{pool}` is full")));
        }
        streams.push((pool.to_string(), request.clone()));
        Ok(Added {
            id: request.id,
            slot: streams.len() - 1,
            ty: TYPE.into(),
        })
    }

    fn remove(&self, id: &str) -> Result<u64, Refused> {
        self.removed.lock().unwrap().push(id.to_string());
        let mut streams = self.streams.lock().unwrap();
        match streams.iter().position(|(_, r)| r.id == id) {
            Some(i) => {
                streams.remove(i);
                Ok(42)
            }
            None => Err(Refused::NotFound(format!("no stream `{id}`"))),
        }
    }

    fn ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }
}

fn request(method: &str, path: &str, body: Option<&str>) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        bearer: None,
        has_length: body.is_some(),
        body: body.unwrap_or_default().as_bytes().to_vec(),
    }
}

fn ask(run: &StandIn, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let response: Response = Routes {
        streams: run,
        metrics: None,
    }
    .answer(&request(method, path, body));
    assert_eq!(response.content_type, "application/json");
    let body = serde_json::from_str(&response.body).expect("every answer is JSON");
    (response.status, body)
}

fn error(body: &Value) -> &str {
    body["error"].as_str().expect("an `error` member")
}

#[test]
fn streams_are_added_listed_and_removed() {
    let run = StandIn::new(&["cams"]);
    assert_eq!(ask(&run, "GET", "/v1/streams", None), (200, json!([])));
    let (status, body) = ask(
        &run,
        "POST",
        "/v1/pools/cams/streams",
        Some(r#"{"id": "a", "url": "file:///media/a.mp4", "params": {"loop": true}}"#),
    );
    assert_eq!(
        (status, body),
        (201, json!({"id": "a", "slot": 0, "type": TYPE}))
    );
    let asked = run.asked.lock().unwrap().clone();
    assert_eq!(asked[0].0, "cams");
    assert_eq!(asked[0].1.params["loop"], json!(true));
    let (status, body) = ask(&run, "GET", "/v1/streams", None);
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!([{
            "id": "a", "pool": "cams", "slot": 0, "url": "file:///media/a.mp4",
            "state": "playing", "type": TYPE, "frames": 7, "fps": 25.0, "last_error": null,
        }])
    );
    assert_eq!(
        ask(&run, "DELETE", "/v1/streams/a", None),
        (200, json!({"frames": 42}))
    );
    let (status, body) = ask(&run, "DELETE", "/v1/streams/a", None);
    assert_eq!(status, 404);
    assert_eq!(error(&body), "no stream `a`");
}

#[test]
fn refusals_get_their_statuses_and_422_the_check_report() {
    let run = StandIn::new(&["cams"]);
    let add = |id: &str, url: &str| {
        ask(
            &run,
            "POST",
            "/v1/pools/cams/streams",
            Some(&json!({"id": id, "url": url}).to_string()),
        )
    };
    assert_eq!(add("a", "a.mp4").0, 201);
    let (status, body) = add("a", "other.mp4");
    assert_eq!((status, error(&body)), (409, "`a` is taken"));
    assert_eq!(add("b", "b.mp4").0, 201);
    assert_eq!(add("c", "c.mp4").0, 201);
    let (status, body) = add("d", "d.mp4");
    assert_eq!((status, error(&body)), (409, "the pool `cams` is full"));
    let (status, body) = add("e", "cam_640x480.mp4");
    assert_eq!((status, body), (422, StandIn::unfit()));
    let (status, body) = ask(
        &run,
        "POST",
        "/v1/pools/dogs/streams",
        Some(r#"{"id": "x", "url": "x.mp4"}"#),
    );
    assert_eq!((status, error(&body)), (404, "no pool named `dogs`"));
}

#[test]
fn malformed_bodies_and_unknown_or_missing_fields_are_400_saying_which() {
    let run = StandIn::new(&["cams"]);
    let post = |body: &str| ask(&run, "POST", "/v1/pools/cams/streams", Some(body));
    let (status, body) = post(r#"{"id": "a", "url": "#);
    assert_eq!(status, 400);
    assert!(
        error(&body).starts_with("the body ends before its JSON does"),
        "{body}"
    );
    let (status, body) = post("id=a&url=b");
    assert_eq!(status, 400);
    assert!(error(&body).starts_with("the body is not JSON"), "{body}");
    let (status, body) = post(r#"{"id": "a", "url": "a.mp4", "name": "front door"}"#);
    assert_eq!(status, 400);
    assert!(error(&body).contains("unknown field `name`"), "{body}");
    let (status, body) = post(r#"{"id": "a"}"#);
    assert_eq!(status, 400);
    assert!(error(&body).contains("missing field `url`"), "{body}");
    let (status, body) = post(r#"{"id": 7, "url": "a.mp4"}"#);
    assert_eq!(status, 400);
    assert!(error(&body).contains("invalid type: integer `7`"), "{body}");
    assert!(run.asked.lock().unwrap().is_empty(), "none reached the run");
    // A body without Content-Length.
    let (status, body) = ask(&run, "POST", "/v1/pools/cams/streams", None);
    assert_eq!(status, 411);
    assert!(error(&body).contains("Content-Length"), "{body}");
}

/// The routes do not judge ids: the run's admission does (and refuses these, 422), so the
/// rule lives in one place.
#[test]
fn unicode_and_dot_dot_ids_reach_the_run_unchanged() {
    let run = StandIn::new(&["cams"]);
    for id in ["caméra-1", "../../etc/passwd", "a/b", "\u{7}"] {
        let body = json!({"id": id, "url": "a.mp4"}).to_string();
        ask(&run, "POST", "/v1/pools/cams/streams", Some(&body));
    }
    let ids: Vec<String> = run
        .asked
        .lock()
        .unwrap()
        .iter()
        .map(|(_, r)| r.id.clone())
        .collect();
    assert_eq!(ids, ["caméra-1", "../../etc/passwd", "a/b", "\u{7}"]);
    // In a path, percent-encoded.
    ask(&run, "DELETE", "/v1/streams/cam%C3%A9ra-1", None);
    ask(&run, "DELETE", "/v1/streams/..%2F..%2Fetc%2Fpasswd", None);
    assert_eq!(
        *run.removed.lock().unwrap(),
        ["caméra-1", "../../etc/passwd"]
    );
    let (status, body) = ask(&run, "DELETE", "/v1/streams/%C3", None);
    assert_eq!(status, 400);
    assert!(error(&body).contains("not percent-encoded UTF-8"), "{body}");
    let (status, _) = ask(&run, "DELETE", "/v1/streams/a%zz", None);
    assert_eq!(status, 400);
    // `..` as a segment of its own is no route.
    assert_eq!(ask(&run, "DELETE", "/v1/streams/../etc", None).0, 404);
}

#[test]
fn unknown_routes_are_404_and_wrong_methods_405() {
    let run = StandIn::new(&["cams"]);
    let (status, body) = ask(&run, "GET", "/v2/streams", None);
    assert_eq!(status, 404);
    assert!(error(&body).starts_with("no route /v2/streams"), "{body}");
    assert_eq!(
        ask(&run, "GET", "/metrics", None).0,
        404,
        "no --metrics here"
    );
    let response = Routes {
        streams: &run,
        metrics: None,
    }
    .answer(&request("GET", "/v1/stop", None));
    assert_eq!(response.status, 405);
    assert_eq!(response.headers, [("Allow", "POST".to_string())]);
    assert_eq!(ask(&run, "POST", "/v1/streams", Some("{}")).0, 405);
    assert_eq!(ask(&run, "GET", "/v1/streams/a", None).0, 405);
    assert_eq!(ask(&run, "PUT", "/v1/health/live", None).0, 405);
    assert!(!run.stopped.load(Ordering::SeqCst));
}

#[test]
fn health_and_stop() {
    let run = StandIn::new(&[]);
    assert_eq!(
        ask(&run, "GET", "/v1/health/live", None),
        (200, json!({"live": true}))
    );
    let (status, body) = ask(&run, "GET", "/v1/health/ready", None);
    assert_eq!(status, 503);
    assert!(error(&body).contains("not playing"), "{body}");
    run.ready.store(true, Ordering::SeqCst);
    assert_eq!(
        ask(&run, "GET", "/v1/health/ready", None),
        (200, json!({"ready": true}))
    );
    assert_eq!(ask(&run, "POST", "/v1/stop", None), (202, json!({})));
    assert!(run.stopped.load(Ordering::SeqCst));
}

#[test]
fn metrics_are_served_when_given() {
    let run = StandIn::new(&[]);
    let text = Mutex::new("vpl_frames_total{stream=\"0\"} 3\n".to_string());
    let response = Routes {
        streams: &run,
        metrics: Some(&text),
    }
    .answer(&request("GET", "/metrics", None));
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "vpl_frames_total{stream=\"0\"} 3\n");
    assert!(response.content_type.starts_with("text/plain"));
}

/// DeepStream's own body, as its documentation's `curl` sends it.
fn deepstream_body(id: &str, url: &str, change: &str, metadata: Value) -> String {
    json!({
        "key": "sensor",
        "value": {
            "camera_id": id,
            "camera_name": "front_door",
            "camera_url": url,
            "change": change,
            "metadata": metadata,
        },
        "headers": {"source": "vst", "created_at": "2021-06-01T14:34:13.417Z"},
    })
    .to_string()
}

#[test]
fn deepstreams_bodies_add_and_remove_streams() {
    let run = StandIn::new(&["cams"]);
    let ds_meta = json!({"resolution": "1920 x1080", "codec": "h264", "framerate": 30});
    let body = deepstream_body(
        "uniqueSensorID1",
        "file:///media/a.mp4",
        "camera_add",
        ds_meta.clone(),
    );
    let (status, answer) = ask(&run, "POST", "/api/v1/stream/add", Some(&body));
    assert_eq!(
        (status, answer),
        (
            200,
            json!({"status": "HTTP/1.1 200 OK", "reason": "STREAM_ADD_SUCCESS",
                   "id": "uniqueSensorID1", "slot": 0, "type": TYPE})
        )
    );
    assert_eq!(
        run.asked.lock().unwrap()[0],
        (
            "cams".to_string(),
            StreamRequest {
                id: "uniqueSensorID1".into(),
                url: "file:///media/a.mp4".into(),
                params: Default::default(),
            }
        )
    );
    // Again: the id is taken.
    let (status, answer) = ask(&run, "POST", "/api/v1/stream/add", Some(&body));
    assert_eq!(status, 409);
    assert_eq!(answer["reason"], "STREAM_ADD_FAIL");
    assert_eq!(answer["status"], "HTTP/1.1 409 Conflict");
    assert_eq!(answer["error"], "`uniqueSensorID1` is taken");
    // A stream that does not fit: the check report, with DeepStream's members.
    let body = deepstream_body("b", "rtsp://cam/640x480", "camera_add", ds_meta.clone());
    let (status, answer) = ask(&run, "POST", "/api/v1/stream/add", Some(&body));
    assert_eq!(status, 422);
    assert_eq!(answer["reason"], "STREAM_ADD_FAIL");
    assert_eq!(answer["diagnostics"], StandIn::unfit()["diagnostics"]);
    // GET stream info and readiness, as DeepStream answers them.
    let (status, answer) = ask(&run, "GET", "/api/v1/stream/get-stream-info", None);
    assert_eq!(status, 200);
    assert_eq!(
        answer,
        json!({"status": "HTTP/1.1 200 OK", "reason": "GET_LIVE_STREAM_INFO_SUCCESS",
               "stream-info": {"stream-count": 1, "stream-info": [
                   {"camera_id": "uniqueSensorID1", "camera_name": "uniqueSensorID1", "source_id": 0}]}})
    );
    let (_, answer) = ask(&run, "GET", "/api/v1/health/get-dsready-state", None);
    assert_eq!(answer["health-info"]["ds-ready"], "NO");
    // Remove, DeepStream's way.
    let body = deepstream_body(
        "uniqueSensorID1",
        "file:///media/a.mp4",
        "camera_remove",
        ds_meta,
    );
    let (status, answer) = ask(&run, "POST", "/api/v1/stream/remove", Some(&body));
    assert_eq!(
        (status, answer),
        (
            200,
            json!({"status": "HTTP/1.1 200 OK", "reason": "STREAM_REMOVE_SUCCESS", "frames": 42})
        )
    );
    let (status, answer) = ask(&run, "POST", "/api/v1/stream/remove", Some(&body));
    assert_eq!(status, 404);
    assert_eq!(answer["reason"], "STREAM_REMOVE_FAIL");
    // A remove body with only the id, as DeepStream's samples also send.
    ask(
        &run,
        "POST",
        "/api/v1/stream/add",
        Some(&deepstream_body("c", "c.mp4", "camera_add", json!({}))),
    );
    let only_id = r#"{"key": "sensor", "value": {"camera_id": "c", "change": "camera_remove"}}"#;
    assert_eq!(
        ask(&run, "POST", "/api/v1/stream/remove", Some(only_id)).0,
        200
    );
}

#[test]
fn deepstream_bodies_choose_the_pool_and_carry_params() {
    let run = StandIn::new(&["cams", "doors"]);
    let body = deepstream_body("a", "a.mp4", "camera_add", json!({}));
    let (status, answer) = ask(&run, "POST", "/api/v1/stream/add", Some(&body));
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("several pools (cams, doors): name one in `value.metadata.pool`"),
        "{answer}"
    );
    let body = deepstream_body(
        "a",
        "a.mp4",
        "camera_add",
        json!({"pool": "doors", "params": {"loop": true}, "codec": "h264"}),
    );
    assert_eq!(ask(&run, "POST", "/api/v1/stream/add", Some(&body)).0, 200);
    let (pool, request) = run.asked.lock().unwrap()[0].clone();
    assert_eq!(pool, "doors");
    assert_eq!(
        request.params,
        json!({"loop": true}).as_object().unwrap().clone()
    );
    // No pool at all, and none named.
    let none = StandIn::new(&[]);
    let body = deepstream_body("a", "a.mp4", "camera_add", json!({"codec": "h264"}));
    let (status, answer) = ask(&none, "POST", "/api/v1/stream/add", Some(&body));
    assert_eq!(status, 404, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .starts_with("this program has no pool to add a stream to"),
        "{answer}"
    );
    assert!(none.asked.lock().unwrap().is_empty());
}

#[test]
fn deepstream_bodies_that_are_not_theirs_are_400() {
    let run = StandIn::new(&["cams"]);
    let post = |path: &str, body: &str| ask(&run, "POST", path, Some(body));
    let (status, answer) = post("/api/v1/stream/add", "{");
    assert_eq!(
        (status, &answer["reason"]),
        (400, &json!("STREAM_ADD_FAIL"))
    );
    let (status, answer) = post(
        "/api/v1/stream/add",
        &deepstream_body("a", "a.mp4", "camera_remove", json!({})),
    );
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("takes `camera_add` or `camera_streaming`"),
        "{answer}"
    );
    let (status, answer) = post(
        "/api/v1/stream/add",
        &deepstream_body("a", "a.mp4", "camera_add", json!({})).replace("sensor", "roi"),
    );
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("\"key\": \"sensor\""),
        "{answer}"
    );
    let (status, answer) = post(
        "/api/v1/stream/add",
        r#"{"key": "sensor", "value": {"camera_id": "a", "change": "camera_add"}}"#,
    );
    assert_eq!(status, 400);
    assert!(
        answer["error"].as_str().unwrap().contains("camera_url"),
        "{answer}"
    );
    let (status, answer) = post(
        "/api/v1/stream/remove",
        r#"{"key": "sensor", "value": {"change": "camera_remove"}}"#,
    );
    assert_eq!(
        (status, &answer["reason"]),
        (400, &json!("STREAM_REMOVE_FAIL"))
    );
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("missing field `camera_id`"),
        "{answer}"
    );
    assert!(run.asked.lock().unwrap().is_empty());
    assert!(run.removed.lock().unwrap().is_empty());
}

/// A run that is starting or stopping refuses changes: 503 with its reason.
#[test]
fn a_run_not_ready_for_a_change_is_503() {
    struct Stopping;
    impl Streams for Stopping {
        fn pools(&self) -> Vec<String> {
            vec!["cams".into()]
        }
        fn list(&self) -> Vec<StreamInfo> {
            Vec::new()
        }
        fn add(&self, _: &str, _: StreamRequest) -> Result<Added, Refused> {
            Err(Refused::Unavailable("the run is stopping".into()))
        }
        fn remove(&self, _: &str) -> Result<u64, Refused> {
            Err(Refused::Unavailable("the run is stopping".into()))
        }
        fn ready(&self) -> bool {
            false
        }
        fn stop(&self) {}
    }
    let answer = |method: &str, path: &str, body: Option<&str>| {
        let response = Routes {
            streams: &Stopping,
            metrics: None,
        }
        .answer(&request(method, path, body));
        (
            response.status,
            serde_json::from_str::<Value>(&response.body).unwrap(),
        )
    };
    let body = r#"{"id": "a", "url": "a.mp4"}"#;
    assert_eq!(
        answer("POST", "/v1/pools/cams/streams", Some(body)),
        (503, json!({"error": "the run is stopping"}))
    );
    assert_eq!(
        answer("DELETE", "/v1/streams/a", None),
        (503, json!({"error": "the run is stopping"}))
    );
    let (status, ds) = answer(
        "POST",
        "/api/v1/stream/add",
        Some(&deepstream_body("a", "a.mp4", "camera_add", json!({}))),
    );
    assert_eq!((status, &ds["reason"]), (503, &json!("STREAM_ADD_FAIL")));
    assert_eq!(ds["status"], "HTTP/1.1 503 Service Unavailable");
}

#[test]
fn a_reachable_address_needs_a_token_compared_whole() {
    let loopback = "127.0.0.1:9000".parse().unwrap();
    let v6_loopback = "[::1]:9000".parse().unwrap();
    let everywhere = "0.0.0.0:9000".parse().unwrap();
    assert_eq!(token_for(loopback, None), Ok(None));
    assert_eq!(token_for(v6_loopback, None), Ok(None));
    assert_eq!(
        token_for(loopback, Some("s3".into())),
        Ok(Some("s3".into()))
    );
    let refused = token_for(everywhere, None).unwrap_err();
    assert!(refused.contains("VPL_CONTROL_TOKEN"), "{refused}");
    assert!(
        token_for(everywhere, Some(String::new())).is_err(),
        "an empty token is none"
    );
    assert_eq!(
        token_for(everywhere, Some("s3".into())),
        Ok(Some("s3".into()))
    );
    assert!(same_token("secret", "secret"));
    assert!(!same_token("secreT", "secret"));
    assert!(!same_token("secret-and-more", "secret"));
    assert!(!same_token("", "secret"));
}
