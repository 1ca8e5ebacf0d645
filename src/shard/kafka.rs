//! `vplc run --cameras kafka://BROKERS/TOPIC?group=G` (issue 23): the cameras come from a
//! compacted Kafka topic (key = camera id, value = `{"url": …, "params": {…}}`, a null
//! value = removed), and every shard process joins consumer group G on it. Kafka's group
//! protocol decides which process owns which partition; vpl has no coordinator of its own.
//!
//! One thread per run polls a [`BaseConsumer`] (`enable.auto.commit=false`,
//! `auto.offset.reset=earliest`, the `cooperative-sticky` assignor so that a rebalance
//! revokes only the partitions that move). Its context's rebalance callback, run inside
//! `poll` on that thread:
//! - **assigned**: reads each new partition from its beginning (offsets are never
//!   committed: a compacted topic is read whole), its cameras are admitted as they come;
//! - **revoked** (or lost): drains the partition's cameras (as `DELETE /v1/streams/{id}`
//!   does: their records end with `stream_removed`) *before* the partition is given up, so
//!   the member that gets it next starts them only after they stopped here.
//!
//! The latest value of a key wins: messages update the wanted cameras, and the running ones
//! are brought to them ([`Cameras::settle`]) once the messages waiting have been read, so a
//! partition read from its beginning admits each camera once, with its latest entry. An
//! entry that fails admission (`live::admit`, the control API's check) is a warning naming
//! the key, counted, and not tried again until the key gets a new value.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use serde::Deserialize;
use vpl_compiler::pool::Request;

use crate::control::api::{Refused, Streams};

/// The session timeout when the URL gives none: a dead shard's cameras move after it.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one poll waits for a message.
const POLL: Duration = Duration::from_millis(100);
/// Messages read before the running cameras are brought to them, at most.
const BATCH: usize = 256;
/// How long the end of a run waits for the consumer to leave the group.
const LEAVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A `--cameras kafka://BROKERS/TOPIC?group=G[&session_timeout=6s]` source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `kafka://BROKERS` or `kafkas://BROKERS`: the broker list, as the `kafka` sink's.
    pub brokers: String,
    pub topic: String,
    pub group: String,
    pub session_timeout: Duration,
}

/// Whether `--cameras` names a Kafka topic rather than a file.
pub fn is_kafka(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("kafka://") || lower.starts_with("kafkas://")
}

/// `vplc run --cameras kafka://… [--shard I/N]`: the topic and the pool its cameras go
/// into; `None` without `--cameras` or with a cameras file. `--shard` is refused: the
/// group hands out the partitions, and a member's share is whatever it is given.
pub fn for_run(
    cameras: Option<&std::path::Path>,
    shard: Option<super::Shard>,
    plan: &vpl_compiler::plan::Plan,
) -> Result<Option<(Source, String)>, String> {
    let Some(text) = cameras.map(|c| c.to_string_lossy()).filter(|c| is_kafka(c)) else {
        return Ok(None);
    };
    if let Some(shard) = shard {
        return Err(format!(
            "--shard {shard} splits a camera file by hashing the ids; with --cameras {text} the consumer group hands out the topic's partitions, so leave --shard out"
        ));
    }
    let source: Source = text.parse()?;
    let pool = super::the_pool(plan, &format!("--cameras {text}"))?;
    Ok(Some((source, pool.name.clone())))
}

impl std::str::FromStr for Source {
    type Err = String;

    fn from_str(given: &str) -> Result<Source, String> {
        // Said without any `user:password@`: credentials come from the environment.
        let shown = without_credentials(given);
        let text = shown.as_str();
        const FORM: &str = "write `kafka://BROKERS/TOPIC?group=GROUP`, e.g. `kafka://broker:9092/cameras?group=vpl`";
        let (scheme, rest) = text
            .split_once("://")
            .filter(|_| is_kafka(text))
            .ok_or_else(|| format!("`{text}` is not a Kafka topic: {FORM}"))?;
        let (brokers, after) = rest
            .split_once('/')
            .ok_or_else(|| format!("`{text}` names no topic: {FORM}"))?;
        let (topic, query) = after.split_once('?').unwrap_or((after, ""));
        let brokers = format!("{}://{brokers}", scheme.to_ascii_lowercase());
        if given != text {
            return Err(format!(
                "`{text}`: credentials are not written in the URL: set VPL_KAFKA_USERNAME and VPL_KAFKA_PASSWORD"
            ));
        }
        vpl_compiler::brokers::kafka::parse(&brokers).map_err(|e| format!("`{text}`: {e}"))?;
        if let Some(why) = topic_problem(topic) {
            return Err(format!("`{text}`: {why}"));
        }
        let mut group = None;
        let mut session_timeout = SESSION_TIMEOUT;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "group" if value.is_empty() => {
                    return Err(format!("`{text}`: the consumer group is empty: {FORM}"));
                }
                "group" => group = Some(value.to_string()),
                "session_timeout" => {
                    session_timeout = duration(value).ok_or_else(|| {
                        format!(
                            "`{text}`: session_timeout `{value}` is not a duration from 1s to 3600s (`6s`, `1500ms`)"
                        )
                    })?;
                }
                _ => {
                    return Err(format!(
                        "`{text}`: `{pair}` is not a setting of a camera topic (`group=GROUP`, `session_timeout=6s`)"
                    ));
                }
            }
        }
        let group = group.ok_or_else(|| {
            format!("`{text}` names no consumer group: every shard joins one, {FORM}")
        })?;
        Ok(Source {
            brokers,
            topic: topic.to_string(),
            group,
            session_timeout,
        })
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}?group={}", self.brokers, self.topic, self.group)
    }
}

/// `text` without the `user:password@` of any of its brokers.
fn without_credentials(text: &str) -> String {
    let (scheme, rest) = text.split_once("://").unwrap_or(("", text));
    let (brokers, after) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let brokers: Vec<&str> = brokers
        .split(',')
        .map(|b| b.rsplit_once('@').map_or(b, |(_, host)| host))
        .collect();
    let scheme = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    format!("{scheme}{}{after}", brokers.join(","))
}

/// Why `topic` cannot be a Kafka topic's name (Kafka's own rule), or `None`.
fn topic_problem(topic: &str) -> Option<String> {
    if topic.is_empty() {
        return Some("the topic is empty: write `kafka://BROKERS/TOPIC?group=GROUP`".into());
    }
    if topic.len() > 249 || topic == "." || topic == ".." {
        return Some(format!("`{topic}` cannot name a Kafka topic"));
    }
    topic
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .map(|c| {
            format!(
                "a Kafka topic's name has only ASCII letters, digits, `.`, `_` and `-`, not `{c}`"
            )
        })
}

/// `6s`, `1.5s` or `1500ms`, from 1 s to an hour (librdkafka's bounds on a session).
fn duration(text: &str) -> Option<Duration> {
    let d = if let Some(ms) = text.strip_suffix("ms") {
        Duration::from_millis(ms.parse().ok()?)
    } else {
        let s: f64 = text.strip_suffix('s')?.parse().ok()?;
        Duration::try_from_secs_f64(s).ok()?
    };
    (Duration::from_secs(1)..=Duration::from_secs(3600))
        .contains(&d)
        .then_some(d)
}

/// A camera's entry as the topic holds it: a cameras file's entry without its id (the key
/// is the id; an `id` given must be the key).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Value {
    #[serde(default)]
    id: Option<String>,
    url: String,
    #[serde(default)]
    params: serde_json::Map<String, serde_json::Value>,
}

/// What the consumer did, for `--stats` and the end of the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Cameras admitted into the pool (again after a new value or a new assignment).
    pub admitted: u64,
    /// Entries that failed admission or were not camera entries.
    pub refused: u64,
    /// Cameras drained: tombstones, new values, partitions revoked.
    pub removed: u64,
    /// Rebalances that assigned or revoked partitions of this member.
    pub rebalances: u64,
}

/// The cameras one member owns, wants and runs.
pub struct Cameras {
    pool: String,
    streams: Arc<dyn Streams>,
    /// The partitions assigned to this member.
    owned: BTreeSet<i32>,
    /// The latest entry of each key read from an owned partition.
    wanted: BTreeMap<String, (i32, Request)>,
    /// The cameras admitted by this member, with the entry each was admitted with.
    running: BTreeMap<String, Request>,
    /// Entries refused: not tried again until their key gets a new value.
    refused: BTreeMap<String, Request>,
    /// Entries waiting for a slot or an id (the pool full, the id taken): said once.
    waiting: BTreeSet<String>,
    /// The run is ending: its streams are finished by the pool, not drained here.
    ending: bool,
    pub counts: Counts,
}

impl Cameras {
    pub fn new(pool: String, streams: Arc<dyn Streams>) -> Cameras {
        Cameras {
            pool,
            streams,
            owned: BTreeSet::new(),
            wanted: BTreeMap::new(),
            running: BTreeMap::new(),
            refused: BTreeMap::new(),
            waiting: BTreeSet::new(),
            ending: false,
            counts: Counts::default(),
        }
    }

    /// Partitions assigned to this member.
    pub fn assigned(&mut self, partitions: &[i32]) {
        self.owned.extend(partitions);
        self.counts.rebalances += 1;
    }

    /// Partitions taken from this member: their cameras are drained now.
    pub fn revoked(&mut self, partitions: &[i32]) {
        for p in partitions {
            self.owned.remove(p);
        }
        self.wanted.retain(|_, (p, _)| !partitions.contains(p));
        self.counts.rebalances += 1;
        self.remove_unwanted();
    }

    /// A message of `partition`: `key`'s entry, or `None` for a tombstone.
    pub fn message(&mut self, partition: i32, key: &str, value: Option<&[u8]>) {
        if !self.owned.contains(&partition) {
            return;
        }
        let Some(value) = value else {
            // A tombstone removes the key's entry of this partition only.
            if self.wanted.get(key).is_some_and(|(p, _)| *p == partition) {
                self.wanted.remove(key);
            }
            return;
        };
        let entry = serde_json::from_slice::<Value>(value)
            .map_err(|e| {
                format!(
                    "its value is not a camera entry (`{{\"url\": …, \"params\": {{…}}}}`): {e}"
                )
            })
            .and_then(|v| match v.id {
                Some(id) if id != key => Err(format!(
                    "its entry's id `{}` is not its key (leave `id` out)",
                    id.escape_debug()
                )),
                _ => Ok(Request {
                    id: key.to_string(),
                    url: v.url,
                    params: v.params,
                }),
            });
        match entry {
            Ok(request) => {
                self.wanted.insert(key.to_string(), (partition, request));
            }
            Err(why) => {
                // The latest value wins: a camera whose entry became unusable stops.
                self.wanted.remove(key);
                self.refuse(key, partition, &why);
            }
        }
    }

    fn refuse(&mut self, key: &str, partition: i32, why: &str) {
        self.counts.refused += 1;
        crate::log::warn(format!(
            "vplc: camera `{}` (partition {partition}) is not admitted: {why}",
            key.escape_debug()
        ));
    }

    /// Drains every running camera whose wanted entry is gone or changed.
    fn remove_unwanted(&mut self) {
        let unwanted: Vec<String> = self
            .running
            .iter()
            .filter(|(key, request)| self.wanted.get(*key).map(|(_, r)| r) != Some(*request))
            .map(|(key, _)| key.clone())
            .collect();
        for key in unwanted {
            self.running.remove(&key);
            if self.ending {
                continue;
            }
            match self.streams.remove(&key) {
                Ok(frames) => {
                    self.counts.removed += 1;
                    crate::log::info(format!(
                        "vplc: camera `{}` removed after {frames} frames",
                        key.escape_debug()
                    ));
                }
                // Removed already (`DELETE /v1/streams/{id}`), or the run is stopping.
                Err(Refused::NotFound(_) | Refused::Unavailable(_)) => {}
                Err(e) => crate::log::warn(format!(
                    "vplc: camera `{}` could not be removed: {e:?}",
                    key.escape_debug()
                )),
            }
        }
        self.refused
            .retain(|key, request| self.wanted.get(key).map(|(_, r)| r) == Some(&*request));
        self.waiting.retain(|key| self.wanted.contains_key(key));
    }

    /// Brings the running cameras to the wanted ones: the unwanted drained, the wanted
    /// admitted. Whether some still wait (the run not playing yet, the pool full).
    pub fn settle(&mut self) -> bool {
        self.remove_unwanted();
        if self.ending {
            return false;
        }
        let mut pending = false;
        let todo: Vec<(String, i32, Request)> = self
            .wanted
            .iter()
            .filter(|(key, (_, request))| {
                !self.running.contains_key(*key) && self.refused.get(*key) != Some(request)
            })
            .map(|(key, (p, request))| (key.clone(), *p, request.clone()))
            .collect();
        for (key, partition, request) in todo {
            match self.streams.add(&self.pool, request.clone()) {
                Ok(added) => {
                    self.counts.admitted += 1;
                    self.waiting.remove(&key);
                    crate::log::info(format!(
                        "vplc: camera `{}` (partition {partition}) admitted into slot {}",
                        key.escape_debug(),
                        added.slot
                    ));
                    self.running.insert(key, request);
                }
                Err(Refused::Unfit(why)) => {
                    self.refuse(&key, partition, &reasons(&why));
                    self.refused.insert(key, request);
                }
                Err(Refused::Unavailable(_)) => pending = true,
                Err(Refused::Conflict(why) | Refused::NotFound(why)) => {
                    pending = true;
                    if self.waiting.insert(key.clone()) {
                        crate::log::warn(format!(
                            "vplc: camera `{}` (partition {partition}) waits: {why}",
                            key.escape_debug()
                        ));
                    }
                }
            }
        }
        pending
    }

    /// The run ends: nothing more is admitted or drained here.
    pub fn end(&mut self) {
        self.ending = true;
    }

    /// The cameras this member runs now.
    pub fn running(&self) -> Vec<String> {
        self.running.keys().cloned().collect()
    }
}

/// A refusal's diagnostics (a `vplc check --format json` object), in one line.
fn reasons(refusal: &serde_json::Value) -> String {
    if let Some(error) = refusal.get("error").and_then(|e| e.as_str()) {
        return error.to_string();
    }
    let said: Vec<String> = refusal["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let message = d.get("message")?.as_str()?;
            Some(match d.get("code").and_then(|c| c.as_str()) {
                Some(code) => format!("{code}: {message}"),
                None => message.to_string(),
            })
        })
        .collect();
    if said.is_empty() {
        refusal.to_string()
    } else {
        said.join("; ")
    }
}

fn lock(cameras: &Mutex<Cameras>) -> MutexGuard<'_, Cameras> {
    cameras.lock().unwrap_or_else(|p| p.into_inner())
}

/// librdkafka's callbacks: rebalances change the cameras; errors are said once an outage.
struct Context {
    cameras: Arc<Mutex<Cameras>>,
    source: String,
    topic: String,
    /// A connection error was said and nothing has come since.
    outage: AtomicBool,
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, text: &str) {
        if matches!(
            level,
            RDKafkaLogLevel::Emerg
                | RDKafkaLogLevel::Alert
                | RDKafkaLogLevel::Critical
                | RDKafkaLogLevel::Error
        ) {
            crate::log::warn(format!("vplc: {}: librdkafka {fac}: {text}", self.source));
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        if !self.outage.swap(true, Ordering::SeqCst) {
            crate::log::warn(format!(
                "vplc: {}: {error} ({reason}); retrying, the cameras wait",
                self.source
            ));
        }
    }
}

impl ConsumerContext for Context {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        let partitions: Vec<i32> = tpl
            .elements()
            .iter()
            .filter(|e| e.topic() == self.topic)
            .map(|e| e.partition())
            .collect();
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let done = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                self.outage.store(false, Ordering::SeqCst);
                crate::log::info(format!(
                    "vplc: {}: partitions {partitions:?} assigned",
                    self.source
                ));
                // A compacted topic is read whole: from its beginning, never a commit.
                let _ = tpl.set_all_offsets(Offset::Beginning);
                lock(&self.cameras).assigned(&partitions);
                if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                crate::log::info(format!(
                    "vplc: {}: partitions {partitions:?} {}",
                    self.source,
                    if consumer.assignment_lost() {
                        "lost"
                    } else {
                        "revoked"
                    }
                ));
                // Drained before the partitions are given up: the next owner starts them
                // only once they stopped here.
                lock(&self.cameras).revoked(&partitions);
                if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                }
            }
            other => {
                crate::log::warn(format!(
                    "vplc: {}: rebalance failed: {other:?}",
                    self.source
                ));
                if cooperative {
                    Ok(())
                } else {
                    consumer.unassign()
                }
            }
        };
        if let Err(e) = done {
            crate::log::warn(format!("vplc: {}: {e}", self.source));
        }
    }
}

/// The consumer of a run: [`Member::finish`] leaves the group once the run ended.
pub struct Member {
    cameras: Arc<Mutex<Cameras>>,
    stop: Arc<AtomicBool>,
    left: std::sync::mpsc::Receiver<()>,
}

impl Member {
    /// What the consumer did so far.
    pub fn counts(&self) -> Counts {
        lock(&self.cameras).counts.clone()
    }

    /// The run's streams are finished: the consumer leaves the group (its partitions go
    /// to the others at once), waiting for it at most [`LEAVE_TIMEOUT`].
    pub fn finish(self) -> Counts {
        lock(&self.cameras).end();
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.left.recv_timeout(LEAVE_TIMEOUT);
        self.counts()
    }
}

/// Joins `source`'s group and admits the cameras of the partitions it gets into `pool` of
/// `streams`, on a thread of its own, until [`Member::finish`]. `interrupt` set: nothing
/// more is admitted (the run is ending).
pub fn join(
    source: &Source,
    pool: String,
    streams: Arc<dyn Streams>,
    interrupt: Arc<AtomicBool>,
) -> Result<Member, String> {
    let mut config =
        vpl_runtime::brokers::kafka_connection(&source.brokers, |name| std::env::var(name).ok())?;
    let session = source.session_timeout.as_millis();
    config
        .set("group.id", &source.group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .set("session.timeout.ms", session.to_string())
        .set("heartbeat.interval.ms", (session / 3).max(100).to_string())
        .set("topic.metadata.refresh.interval.ms", "5000");
    let cameras = Arc::new(Mutex::new(Cameras::new(pool, streams)));
    let context = Context {
        cameras: cameras.clone(),
        source: source.to_string(),
        topic: source.topic.clone(),
        outage: AtomicBool::new(false),
    };
    let consumer: BaseConsumer<Context> = config
        .create_with_context(context)
        .map_err(|e| format!("{source}: cannot start the Kafka consumer: {e}"))?;
    consumer
        .subscribe(&[&source.topic])
        .map_err(|e| format!("{source}: cannot subscribe: {e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let (left_tx, left) = std::sync::mpsc::channel();
    let thread_cameras = cameras.clone();
    let thread_stop = stop.clone();
    std::thread::Builder::new()
        .name("vpl-cameras".into())
        .spawn(move || {
            consume(&consumer, &thread_cameras, &thread_stop, &interrupt);
            drop(consumer);
            let _ = left_tx.send(());
        })
        .map_err(|e| format!("cannot start the camera consumer: {e}"))?;
    Ok(Member {
        cameras,
        stop,
        left,
    })
}

/// The consumer's loop: messages update the wanted cameras; once those waiting are read
/// (or [`BATCH`] of them), the running cameras are brought to them.
fn consume(
    consumer: &BaseConsumer<Context>,
    cameras: &Mutex<Cameras>,
    stop: &AtomicBool,
    interrupt: &AtomicBool,
) {
    let mut unsettled = false;
    let mut read = 0;
    while !stop.load(Ordering::SeqCst) {
        if interrupt.load(Ordering::SeqCst) {
            lock(cameras).end();
        }
        let polled = consumer.poll(POLL);
        let idle = polled.is_none();
        match polled {
            Some(Ok(message)) => {
                consumer.context().outage.store(false, Ordering::SeqCst);
                take(&mut lock(cameras), &message);
                unsettled = true;
                read += 1;
            }
            Some(Err(e)) => consumer
                .context()
                .error(e, "while reading the camera topic"),
            None => {}
        }
        if unsettled && (idle || read >= BATCH) {
            unsettled = lock(cameras).settle();
            read = 0;
        }
    }
}

/// A message of the camera topic, handed to `cameras`.
fn take(cameras: &mut Cameras, message: &BorrowedMessage<'_>) {
    let Some(key) = message.key().and_then(|k| std::str::from_utf8(k).ok()) else {
        cameras.counts.refused += 1;
        crate::log::warn(format!(
            "vplc: a message of partition {} at offset {} has no key (the camera id, UTF-8): skipped",
            message.partition(),
            message.offset()
        ));
        return;
    };
    cameras.message(message.partition(), key, message.payload());
}

#[cfg(test)]
#[path = "kafka_tests.rs"]
mod tests;
