use super::*;
use crate::control::api::{Added, StreamInfo};

/// A pool that admits any url but `bad…` (unfit), holding at most `max` streams; `playing`
/// false answers 503 as a starting run does. Every add and remove is logged.
struct Fake {
    max: usize,
    playing: AtomicBool,
    streams: Mutex<Vec<(String, String)>>,
    log: Mutex<Vec<String>>,
}

impl Fake {
    fn new(max: usize) -> Arc<Fake> {
        Arc::new(Fake {
            max,
            playing: AtomicBool::new(true),
            streams: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
        })
    }

    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .streams
            .lock()
            .unwrap()
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    fn url(&self, id: &str) -> Option<String> {
        let streams = self.streams.lock().unwrap();
        streams
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, u)| u.clone())
    }

    fn log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Streams for Fake {
    fn pools(&self) -> Vec<String> {
        vec!["cams".into()]
    }
    fn list(&self) -> Vec<StreamInfo> {
        Vec::new()
    }
    fn add(&self, pool: &str, request: Request) -> Result<Added, Refused> {
        assert_eq!(pool, "cams");
        if !self.playing.load(Ordering::SeqCst) {
            return Err(Refused::Unavailable("starting".into()));
        }
        if request.url.starts_with("bad") {
            return Err(Refused::Unfit(serde_json::json!({
                "diagnostics": [{"code": "E0903", "message": "no such file"}]
            })));
        }
        let mut streams = self.streams.lock().unwrap();
        if streams.len() >= self.max {
            return Err(Refused::Conflict("pool `cams` is full".into()));
        }
        self.log.lock().unwrap().push(format!("+{}", request.id));
        streams.push((request.id.clone(), request.url));
        Ok(Added {
            id: request.id,
            slot: streams.len() - 1,
            ty: String::new(),
        })
    }
    fn remove(&self, id: &str) -> Result<u64, Refused> {
        let mut streams = self.streams.lock().unwrap();
        let at = streams
            .iter()
            .position(|(i, _)| i == id)
            .ok_or_else(|| Refused::NotFound(id.into()))?;
        streams.remove(at);
        self.log.lock().unwrap().push(format!("-{id}"));
        Ok(0)
    }
    fn ready(&self) -> bool {
        true
    }
    fn stop(&self) {}
}

fn entry(url: &str) -> Vec<u8> {
    serde_json::json!({"url": url, "params": {"loop": true}})
        .to_string()
        .into_bytes()
}

fn member(max: usize) -> (Arc<Fake>, Cameras) {
    let fake = Fake::new(max);
    let cameras = Cameras::new("cams".into(), fake.clone());
    (fake, cameras)
}

#[test]
fn urls_are_read() {
    let s: Source = "kafka://b1:9092,b2/cams.v1?group=vpl&session_timeout=6s"
        .parse()
        .unwrap();
    assert_eq!(
        s,
        Source {
            brokers: "kafka://b1:9092,b2".into(),
            topic: "cams.v1".into(),
            group: "vpl".into(),
            session_timeout: Duration::from_secs(6),
        }
    );
    let s: Source = "KAFKAS://b/t?session_timeout=1500ms&group=g"
        .parse()
        .unwrap();
    assert_eq!(s.brokers, "kafkas://b");
    assert_eq!(s.session_timeout, Duration::from_millis(1500));
    let s: Source = "kafka://b/t?group=g".parse().unwrap();
    assert_eq!(s.session_timeout, SESSION_TIMEOUT);
    assert_eq!(s.to_string(), "kafka://b/t?group=g");
}

#[test]
fn bad_urls_are_said() {
    for (url, said) in [
        ("kafka://b/t", "names no consumer group"),
        ("kafka://b/t?group=", "the consumer group is empty"),
        ("kafka://b?group=g", "names no topic"),
        ("kafka://b/?group=g", "the topic is empty"),
        ("kafka://b/a b?group=g", "not ` `"),
        (
            "kafka://b/t?group=g&acks=all",
            "`acks=all` is not a setting",
        ),
        ("kafka://b/t?group=g&session_timeout=0.5s", "not a duration"),
        ("kafka://b/t?group=g&session_timeout=6", "not a duration"),
        (
            "kafka://u:p@b/t?group=g",
            "`kafka://b/t?group=g`: credentials",
        ),
        ("kafka:///t?group=g", "kafka://"),
        ("/etc/cams.yaml", "is not a Kafka topic"),
    ] {
        let e = url.parse::<Source>().expect_err(url);
        assert!(e.contains(said), "{url}: {e}");
        assert!(!e.contains("u:p@"), "{url}: a secret said: {e}");
    }
    assert!(is_kafka("kafka://b/t") && is_kafka("Kafkas://b/t") && !is_kafka("cams.yaml"));
}

/// Assigned partitions' cameras are admitted once their messages are read, the latest
/// value of a key winning; messages of partitions not owned are ignored.
#[test]
fn the_latest_entry_of_an_owned_partition_is_admitted() {
    let (fake, mut cams) = member(8);
    cams.assigned(&[0, 1]);
    cams.message(0, "door", Some(&entry("old.mp4")));
    cams.message(0, "door", Some(&entry("door.mp4")));
    cams.message(1, "yard", Some(&entry("yard.mp4")));
    cams.message(2, "gate", Some(&entry("gate.mp4")));
    assert!(!cams.settle());
    assert_eq!(fake.ids(), ["door", "yard"]);
    assert_eq!(fake.url("door").as_deref(), Some("door.mp4"));
    assert_eq!(cams.counts.admitted, 2);
    // Nothing new: nothing done.
    assert!(!cams.settle());
    assert_eq!(fake.log(), ["+door", "+yard"]);
}

/// A new value replaces the camera (drained, then admitted with it); the same value again
/// changes nothing; a tombstone drains it.
#[test]
fn new_values_replace_and_tombstones_remove() {
    let (fake, mut cams) = member(8);
    cams.assigned(&[0]);
    cams.message(0, "door", Some(&entry("door.mp4")));
    cams.settle();
    fake.log();
    cams.message(0, "door", Some(&entry("door.mp4")));
    cams.settle();
    assert!(
        fake.log().is_empty(),
        "the same entry again changes nothing"
    );
    cams.message(0, "door", Some(&entry("door2.mp4")));
    cams.settle();
    assert_eq!(fake.log(), ["-door", "+door"]);
    assert_eq!(fake.url("door").as_deref(), Some("door2.mp4"));
    cams.message(0, "door", None);
    cams.settle();
    assert_eq!(fake.log(), ["-door"]);
    assert!(fake.ids().is_empty());
    assert_eq!(cams.counts.removed, 2);
    assert!(cams.running().is_empty());
}

/// Revoked partitions' cameras are drained at once (in the callback, before the
/// partition is given up); the others keep running.
#[test]
fn revoked_partitions_are_drained_at_once() {
    let (fake, mut cams) = member(8);
    cams.assigned(&[0, 1]);
    cams.message(0, "door", Some(&entry("door.mp4")));
    cams.message(1, "yard", Some(&entry("yard.mp4")));
    cams.settle();
    fake.log();
    cams.revoked(&[1]);
    assert_eq!(fake.log(), ["-yard"]);
    assert_eq!(fake.ids(), ["door"]);
    // A late message of the revoked partition is not taken.
    cams.message(1, "yard", Some(&entry("yard.mp4")));
    cams.settle();
    assert!(fake.log().is_empty());
    assert_eq!(cams.counts.rebalances, 2);
}

/// Unfit entries and values that are not entries are refused, counted, and not tried
/// again until the key has a new value; others are not held up by them.
#[test]
fn refusals_are_counted_and_not_retried() {
    let (fake, mut cams) = member(8);
    cams.assigned(&[0]);
    cams.message(0, "door", Some(&entry("bad.mp4")));
    cams.message(0, "yard", Some(b"not json"));
    cams.message(0, "gate", Some(br#"{"id": "other", "url": "g.mp4"}"#));
    cams.message(0, "hall", Some(&entry("hall.mp4")));
    assert!(!cams.settle());
    assert_eq!(fake.ids(), ["hall"]);
    assert_eq!(cams.counts.refused, 3);
    cams.settle();
    assert_eq!(cams.counts.refused, 3, "not tried again");
    cams.message(0, "door", Some(&entry("door.mp4")));
    cams.settle();
    assert_eq!(fake.ids(), ["door", "hall"]);
    // A running camera whose new value is not an entry stops: the latest value wins.
    cams.message(0, "hall", Some(b"{}"));
    cams.settle();
    assert_eq!(fake.ids(), ["door"]);
    assert_eq!(cams.counts.refused, 4);
}

/// A run not playing yet, or a full pool, leaves cameras waiting; they are admitted once
/// it plays, or a slot frees.
#[test]
fn cameras_wait_for_the_run_and_for_a_slot() {
    let (fake, mut cams) = member(1);
    fake.playing.store(false, Ordering::SeqCst);
    cams.assigned(&[0]);
    cams.message(0, "door", Some(&entry("door.mp4")));
    cams.message(0, "yard", Some(&entry("yard.mp4")));
    assert!(cams.settle(), "waits for the run to play");
    assert!(fake.ids().is_empty());
    fake.playing.store(true, Ordering::SeqCst);
    assert!(cams.settle(), "one waits for a slot");
    assert_eq!(fake.ids(), ["door"]);
    cams.message(0, "door", None);
    assert!(!cams.settle());
    assert_eq!(fake.ids(), ["yard"]);
}

/// Once the run ends the pool finishes its streams itself: a revocation then (the
/// consumer leaving the group) drains nothing more.
#[test]
fn nothing_is_drained_once_the_run_ends() {
    let (fake, mut cams) = member(8);
    cams.assigned(&[0]);
    cams.message(0, "door", Some(&entry("door.mp4")));
    cams.settle();
    fake.log();
    cams.end();
    cams.revoked(&[0]);
    assert!(fake.log().is_empty());
    assert!(!cams.settle());
}
