//! Broker sinks: records (JSON lines) → messages to an MQTT broker, a Redis stream or a
//! Kafka topic (`kafka.rs`, through librdkafka).
//!
//! Each `(url, topic)` has one [`Outbox`]: a bounded queue of messages shared by every
//! `vplrecords` writing there, and one thread that connects, sends and reconnects. A
//! message leaves the queue only when the broker has acknowledged it (MQTT's PUBACK at
//! QoS 1, Redis's reply to `XADD`), so a broker that goes away loses nothing the queue
//! still holds: after the reconnection everything unacknowledged is sent again (at least
//! once: a message whose acknowledgement was lost with the connection may arrive twice).
//! When the queue is full the oldest message is dropped and counted ([`BrokerStats`]).
//! Kafka's queue also knows which of its messages librdkafka holds: one of those is only
//! dropped for good once librdkafka gave it back, and nothing newer is dropped for good
//! before that ([`Outbox::trim`]), so what a full buffer loses is exactly the oldest.
//! Credentials and TLS come from the environment and the URL's scheme, never the program.

mod kafka;
mod mqtt;
mod redis;
mod wire;

use std::collections::{BTreeSet, VecDeque};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use vpl_compiler::brokers::{self as address, Address, Protocol};

use crate::pipeline::RunEvent;
use wire::Wire;

pub use kafka::connection as kafka_connection;

/// How long to wait between connection attempts.
pub const RETRY: Duration = Duration::from_secs(1);
/// How long [`finish`] waits, when the run ends, for every broker sink's queue to be
/// acknowledged (all sinks at once); what is left then is counted as undelivered.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Messages sent and not yet acknowledged, at most.
const WINDOW: usize = 512;
/// An idle connection is checked (MQTT PINGREQ, Redis PING) this often.
const IDLE_CHECK: Duration = Duration::from_secs(15);

/// The figures of one broker sink, read by `--stats` and `--metrics` while it runs and
/// after.
#[derive(Debug)]
pub struct BrokerStats {
    pub protocol: Protocol,
    pub url: String,
    pub topic: String,
    pub capacity: u64,
    /// Messages in the queue now (sent or not, not yet acknowledged).
    pub buffered: AtomicU64,
    /// Messages the broker acknowledged.
    pub delivered: AtomicU64,
    /// Oldest messages dropped because the queue was full.
    pub dropped: AtomicU64,
    /// Messages the broker refused for good (a Redis error reply: a key of another type, no
    /// authentication, a cluster's redirect).
    pub rejected: AtomicU64,
    /// Messages still queued when the run ended and the broker stayed away.
    pub undelivered: AtomicU64,
    /// Connections made after the first.
    pub reconnects: AtomicU64,
    pub connected: AtomicBool,
}

static STATS: LazyLock<Mutex<Vec<Arc<BrokerStats>>>> = LazyLock::new(|| Mutex::new(Vec::new()));

/// Outboxes whose sink has stopped, their queues still to deliver: [`finish`] waits for
/// them.
static CLOSED: LazyLock<Mutex<Vec<Arc<Outbox>>>> = LazyLock::new(|| Mutex::new(Vec::new()));

/// What stopped sinks said (a broker lost while their messages are delivered), for the
/// command line to say: taken by [`said`] and by [`finish`].
static SAID: LazyLock<Mutex<Vec<String>>> = LazyLock::new(|| Mutex::new(Vec::new()));

/// What stopped broker sinks said since the last call, oldest first. [`crate::pipeline`]'s
/// run hands these on as [`RunEvent::Broker`] while the pipeline runs, [`finish`] after.
pub fn said() -> Vec<String> {
    std::mem::take(&mut *lock(&SAID))
}

/// Every broker sink this process has opened, in the order they were opened.
pub fn stats() -> Vec<Arc<BrokerStats>> {
    lock(&STATS).clone()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether `location` (a `vplrecords` location) is a broker's address.
pub fn protocol_of(location: &str) -> Option<Protocol> {
    let scheme = location.split_once("://")?.0.to_ascii_lowercase();
    [Protocol::Mqtt, Protocol::Redis, Protocol::Kafka]
        .into_iter()
        .find(|p| {
            let (plain, secure) = p.schemes();
            scheme == plain || scheme == secure
        })
}

/// One queued message: a record's line, and for Kafka its key (`key: stream`).
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub key: Option<Arc<str>>,
    pub text: Arc<str>,
}

impl std::ops::Deref for Message {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

struct Queue {
    items: VecDeque<(u64, Message)>,
    next_seq: u64,
    closed: bool,
    /// Kafka: the messages of `items` handed to librdkafka whose delivery report has not
    /// come (it may deliver them at any time).
    held: BTreeSet<u64>,
    /// Kafka: messages dropped from `items` while librdkafka held them, whose delivery
    /// report has not come: each may still be delivered, or be given back (taken back from
    /// librdkafka's queue while the brokers are away), and only then is it lost.
    dropped_held: BTreeSet<u64>,
}

impl Queue {
    fn new() -> Queue {
        Queue {
            items: VecDeque::new(),
            next_seq: 1,
            closed: false,
            held: BTreeSet::new(),
            dropped_held: BTreeSet::new(),
        }
    }
}

/// Says something the user should know (a broker lost, messages dropped): the element
/// posts it as a warning on the bus, which `vplc run` prints.
pub type Reporter = Box<dyn Fn(&str) + Send + Sync>;

/// The queue of one broker sink and what its sender thread needs.
pub struct Outbox {
    address: Address,
    topic: String,
    capacity: usize,
    /// The sender says which messages its client holds ([`Outbox::next_batch`] hands them,
    /// [`Outbox::given_back`] returns them): Kafka, whose librdkafka keeps messages it was
    /// handed and delivers them when it can.
    tracks_held: bool,
    queue: Mutex<Queue>,
    /// Signalled when a message is queued or the outbox closes.
    more: Condvar,
    /// Signalled when messages are acknowledged.
    less: Condvar,
    stats: Arc<BrokerStats>,
    report: Reporter,
    /// Dropping was reported since the buffer last emptied: one warning an episode of a full
    /// buffer, however many reconnections it spans.
    drop_reported: AtomicBool,
    /// The first words of the error replies said so far: each kind of refusal is said once.
    refusals_said: Mutex<Vec<String>>,
}

impl Outbox {
    /// An outbox of `capacity` messages (at least 1) for `topic` at `address`, its figures
    /// in `stats`; nothing sends from it until a sender thread is started for it.
    fn new(
        address: Address,
        topic: &str,
        capacity: usize,
        stats: Arc<BrokerStats>,
        report: Reporter,
    ) -> Outbox {
        Outbox {
            tracks_held: address.protocol == Protocol::Kafka,
            address,
            topic: topic.to_string(),
            capacity: capacity.max(1),
            queue: Mutex::new(Queue::new()),
            more: Condvar::new(),
            less: Condvar::new(),
            stats,
            report,
            drop_reported: AtomicBool::new(false),
            refusals_said: Mutex::new(Vec::new()),
        }
    }

    /// Says `text` to the user: a warning of the sink's element while the pipeline runs;
    /// once the sink has stopped (nobody reads the pipeline's messages then), kept for
    /// [`said`].
    fn say(&self, text: &str) {
        if self.closed() {
            lock(&SAID).push(text.to_string());
        } else {
            (self.report)(text);
        }
    }

    /// A message refused for good, with the broker's reply: said once a kind of reply.
    fn refused(&self, reply: &str) {
        let code = reply.split_whitespace().next().unwrap_or("").to_string();
        {
            let mut said = lock(&self.refusals_said);
            if said.contains(&code) {
                return;
            }
            said.push(code.clone());
        }
        let url = &self.stats.url;
        let text = if code == "MOVED" || code == "ASK" {
            let node = reply.split_whitespace().nth(2).unwrap_or("another node");
            format!(
                "{url} answered `{reply}`: the stream {} is kept by another node of a Redis \
                 Cluster, and vpl does not follow cluster redirects; point the sink at that \
                 node (redis://{node}). Messages are discarded meanwhile (counted as rejected)",
                self.topic
            )
        } else {
            format!(
                "{url} refused a message for {}: `{reply}`; messages it refuses so are \
                 discarded (counted as rejected)",
                self.topic
            )
        };
        self.say(&text);
    }

    fn push(&self, message: &str) {
        self.push_keyed(None, message);
    }

    /// Queues `message` with Kafka's message `key` (the other brokers have none).
    fn push_keyed(&self, key: Option<&str>, message: &str) {
        let mut q = lock(&self.queue);
        let seq = q.next_seq;
        q.next_seq += 1;
        q.items.push_back((
            seq,
            Message {
                key: key.map(Arc::from),
                text: Arc::from(message),
            },
        ));
        let dropped = self.trim(&mut q);
        drop(q);
        self.more.notify_one();
        self.dropping(dropped);
    }

    /// Drops the oldest messages while the queue holds more than its capacity, and counts
    /// them; returns how many. For Kafka, a message librdkafka holds leaves the queue at
    /// once, counted as dropped, but it may still be delivered (then it is not counted,
    /// [`Outbox::acknowledged`]) or given back ([`Outbox::given_back`]: the sender takes it
    /// back from librdkafka while the brokers are away). Until then, and while the brokers
    /// take messages (the sender is about to hand the next ones to librdkafka, which will
    /// deliver them), no message librdkafka does not hold is dropped for good: that would
    /// lose a message newer than one that arrives. The queue then holds more than its
    /// capacity for a moment, [`WINDOW`] messages more at most.
    fn trim(&self, q: &mut Queue) -> u64 {
        let mut dropped = 0;
        while q.items.len() > self.capacity {
            let Some(&(seq, _)) = q.items.front() else {
                break;
            };
            if q.held.remove(&seq) {
                q.dropped_held.insert(seq);
            } else if self.tracks_held
                && q.items.len() <= self.capacity + WINDOW
                && (!q.dropped_held.is_empty() || self.stats.connected.load(Ordering::Relaxed))
            {
                break;
            }
            q.items.pop_front();
            dropped += 1;
        }
        self.stats.dropped.fetch_add(dropped, Ordering::Relaxed);
        self.stats
            .buffered
            .store(q.items.len() as u64, Ordering::Relaxed);
        dropped
    }

    /// Says, once an episode of a full buffer, that messages are being dropped; called
    /// with the queue unlocked (`say` looks at it).
    fn dropping(&self, dropped: u64) {
        if dropped > 0 && !self.drop_reported.swap(true, Ordering::Relaxed) {
            self.say(&format!(
                "the buffer of {} messages for {} ({}) is full: dropping the oldest (counted in the statistics)",
                self.capacity, self.stats.url, self.topic
            ));
        }
    }

    /// Drops what [`Outbox::trim`] can drop now: after the brokers went away.
    fn settle(&self) {
        let dropped = self.trim(&mut lock(&self.queue));
        self.dropping(dropped);
    }

    /// Message `seq` came back from the client undelivered (taken back from librdkafka's
    /// queue, or failed for a reason that may pass): it is no longer held. One the full
    /// queue dropped meanwhile is lost now, and the drops it held back can be made.
    fn given_back(&self, seq: u64) {
        let mut q = lock(&self.queue);
        q.held.remove(&seq);
        q.dropped_held.remove(&seq);
        let dropped = self.trim(&mut q);
        drop(q);
        self.dropping(dropped);
    }

    /// A message the full queue dropped while the client held it may still be delivered:
    /// the sender takes it back from librdkafka while the brokers are away.
    fn dropped_while_held(&self) -> bool {
        !lock(&self.queue).dropped_held.is_empty()
    }

    fn acknowledged(&self, seq: u64, rejected: bool) {
        let mut q = lock(&self.queue);
        q.held.remove(&seq);
        match q.items.iter().position(|(s, _)| *s == seq) {
            Some(at) => {
                q.items.remove(at);
            }
            // Dropped from the full queue while in flight, and it arrived after all: not
            // lost, so not counted as dropped.
            None if !self.tracks_held || q.dropped_held.remove(&seq) => {
                let _ =
                    self.stats
                        .dropped
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| d.checked_sub(1));
            }
            // Given up on at the end of the run (counted as undelivered).
            None => {}
        }
        let counter = if rejected {
            &self.stats.rejected
        } else {
            &self.stats.delivered
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.stats
            .buffered
            .store(q.items.len() as u64, Ordering::Relaxed);
        if q.items.is_empty() {
            self.drop_reported.store(false, Ordering::Relaxed);
        }
        let dropped = self.trim(&mut q);
        drop(q);
        self.less.notify_all();
        self.dropping(dropped);
    }

    /// Messages after `after` not yet sent on this connection, at most `room`; `None` when
    /// the outbox is closed and empty. Waits up to `idle` for one. Kafka: the messages
    /// returned are held by librdkafka from now on.
    fn next_batch(&self, after: u64, room: usize, idle: Duration) -> Option<Vec<(u64, Message)>> {
        let mut q = lock(&self.queue);
        let deadline = Instant::now() + idle;
        loop {
            if q.closed && q.items.is_empty() {
                return None;
            }
            let batch: Vec<_> = q
                .items
                .iter()
                .filter(|(s, _)| *s > after)
                .take(room)
                .cloned()
                .collect();
            let now = Instant::now();
            if !batch.is_empty() || room == 0 || now >= deadline || q.closed {
                if self.tracks_held && !batch.is_empty() {
                    q.held.extend(batch.iter().map(|(s, _)| *s));
                    // Drops held back until librdkafka had these.
                    let dropped = self.trim(&mut q);
                    drop(q);
                    self.dropping(dropped);
                }
                return Some(batch);
            }
            q = self
                .more
                .wait_timeout(q, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn closed(&self) -> bool {
        lock(&self.queue).closed
    }

    /// Closes the outbox: no more messages come; the sender delivers what is queued.
    fn close(&self) {
        lock(&self.queue).closed = true;
        self.more.notify_all();
    }

    /// Gives up on what is still queued: counted as undelivered; the sender then ends.
    fn give_up(&self) {
        let mut q = lock(&self.queue);
        let left = q.items.len() as u64;
        q.items.clear();
        q.held.clear();
        q.dropped_held.clear();
        self.stats.undelivered.fetch_add(left, Ordering::Relaxed);
        self.stats.buffered.store(0, Ordering::Relaxed);
        drop(q);
        self.more.notify_all();
        self.less.notify_all();
    }

    fn queued(&self) -> u64 {
        lock(&self.queue).items.len() as u64
    }
}

/// Waits for every stopped broker sink to deliver its queue, all at once: until they are
/// empty, `timeout` passed, or `stop` (polled about 20 times a second: a signal) says to
/// stop waiting. What is left is counted as undelivered. `on_event` is told, once and only
/// when there is something to wait for, how many messages are queued
/// ([`RunEvent::WaitingForBrokers`]), and what the sinks say meanwhile
/// ([`RunEvent::Broker`]). Returns whether `stop` cut the wait short.
pub fn finish(
    timeout: Duration,
    stop: &dyn Fn() -> bool,
    on_event: &mut dyn FnMut(RunEvent),
) -> bool {
    let outboxes: Vec<Arc<Outbox>> = std::mem::take(&mut *lock(&CLOSED));
    for o in &outboxes {
        o.close();
    }
    let deadline = Instant::now() + timeout;
    let mut told = false;
    let mut cut = false;
    let say = |on_event: &mut dyn FnMut(RunEvent)| {
        for text in said() {
            on_event(RunEvent::Broker(text));
        }
    };
    loop {
        say(on_event);
        let queued: u64 = outboxes.iter().map(|o| o.queued()).sum();
        if queued == 0 || Instant::now() >= deadline {
            break;
        }
        if stop() {
            cut = true;
            break;
        }
        if !told {
            told = true;
            on_event(RunEvent::WaitingForBrokers(queued));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    for o in &outboxes {
        o.give_up();
    }
    say(on_event);
    cut
}

/// One connection's protocol: MQTT or Redis.
trait Session {
    /// Queues message `seq` for sending; returns the id its acknowledgement will carry.
    fn send(&mut self, wire: &mut Wire, seq: u64, message: &str) -> io::Result<Ack>;
    /// Checks an idle connection: a ping, and the answer that will come for it.
    fn ping(&mut self, wire: &mut Wire) -> io::Result<Ack>;
    /// Reads the broker's next answer.
    fn read_ack(&mut self, wire: &mut Wire) -> io::Result<Ack>;
}

/// An answer of the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ack {
    /// The message with this id (MQTT packet id) was stored.
    Id(u16),
    /// The oldest message in flight was stored (Redis answers in order).
    Next,
    /// The oldest message in flight was refused for good, with the broker's reply.
    RefusedNext(String),
    /// MQTT's answer to a ping.
    Pong,
}

fn open_session(address: &Address, topic: &str) -> io::Result<(Wire, Box<dyn Session + Send>)> {
    let mut wire = Wire::connect(address)?;
    let session: Box<dyn Session + Send> = match address.protocol {
        Protocol::Mqtt => Box::new(mqtt::Mqtt::start(&mut wire, topic)?),
        Protocol::Redis => Box::new(redis::Redis::start(&mut wire, address, topic)?),
        // librdkafka keeps its own connections: `kafka::sender`.
        Protocol::Kafka => {
            return Err(io::Error::other("Kafka has its own sender"));
        }
    };
    Ok((wire, session))
}

/// Connects, sends and reconnects until the outbox is closed and empty (or the drain
/// gives up, which empties it).
fn sender(outbox: Arc<Outbox>) {
    let mut connections = 0u64;
    // Said once an outage, not at each attempt.
    let mut outage_reported = false;
    let url = &outbox.stats.url;
    loop {
        if outbox.closed() && lock(&outbox.queue).items.is_empty() {
            return;
        }
        let problem = match open_session(&outbox.address, &outbox.topic) {
            Ok((mut wire, mut session)) => {
                if connections > 0 {
                    outbox.stats.reconnects.fetch_add(1, Ordering::Relaxed);
                }
                connections += 1;
                outbox.stats.connected.store(true, Ordering::Relaxed);
                let mut progress = false;
                let served = serve(&outbox, &mut wire, session.as_mut(), &mut progress);
                outbox.stats.connected.store(false, Ordering::Relaxed);
                let Err(e) = served else {
                    return;
                };
                if progress {
                    // It worked for a while: a broker restarting, a connection cut. Try
                    // again at once; a failure to connect is said then.
                    outage_reported = false;
                    continue;
                }
                // Accepted, then nothing acknowledged: a broker that closes the connection
                // (a topic it forbids, a proxy with no server behind it), answers garbage
                // or is busy. Said once, and tried again after a pause, not in a loop.
                let closed = matches!(
                    e.kind(),
                    io::ErrorKind::UnexpectedEof
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                );
                let e = if closed {
                    "it closed it before acknowledging anything".to_string()
                } else {
                    e.to_string()
                };
                format!(
                    "{url} accepted the connection but {}; reconnecting every {} s, holding up to {} messages",
                    e.strip_prefix("it ").unwrap_or(&e),
                    RETRY.as_secs(),
                    outbox.capacity
                )
            }
            Err(e) => format!(
                "cannot reach {url}: {e}; trying again every {} s, holding up to {} messages",
                RETRY.as_secs(),
                outbox.capacity
            ),
        };
        if !outage_reported {
            outage_reported = true;
            outbox.say(&problem);
        }
        let q = lock(&outbox.queue);
        if q.closed && q.items.is_empty() {
            return;
        }
        // Woken early only by the drain giving up (the queue emptied).
        let _ = outbox.less.wait_timeout(q, RETRY);
    }
}

/// Sends on one connection until it fails (`Err`) or the outbox is done (`Ok`); `progress`
/// turns true when the broker acknowledges something.
fn serve(
    outbox: &Outbox,
    wire: &mut Wire,
    session: &mut dyn Session,
    progress: &mut bool,
) -> io::Result<()> {
    // Sent and not yet answered, in order: a message's seq (`None` for a ping) and the
    // answer that will acknowledge it.
    let mut in_flight: VecDeque<(Option<u64>, Ack)> = VecDeque::new();
    let mut sent_after = 0u64;
    loop {
        let idle = if in_flight.is_empty() {
            IDLE_CHECK
        } else {
            Duration::ZERO
        };
        let Some(batch) = outbox.next_batch(sent_after, WINDOW - in_flight.len(), idle) else {
            let _ = wire.flush();
            return Ok(());
        };
        for (seq, message) in &batch {
            let answer = session.send(wire, *seq, message)?;
            in_flight.push_back((Some(*seq), answer));
            sent_after = *seq;
        }
        if in_flight.is_empty() {
            // Idle: make sure the connection is still there.
            let answer = session.ping(wire)?;
            in_flight.push_back((None, answer));
        }
        wire.flush()?;
        // One answer, then look for more to send: the window stays full.
        let answer = session.read_ack(wire)?;
        *progress = true;
        let at = match &answer {
            Ack::Next | Ack::RefusedNext(_) => Some(0),
            other => in_flight.iter().position(|(_, a)| a == other),
        };
        let found = at.and_then(|at| in_flight.remove(at));
        if let Ack::RefusedNext(reply) = &answer {
            outbox.refused(reply);
        }
        if let Some((Some(seq), _)) = found {
            // A message dropped from a full queue while in flight is not found there.
            outbox.acknowledged(seq, matches!(answer, Ack::RefusedNext(_)));
        }
    }
}

/// The [`Write`] end a `vplrecords` writes its lines to: each line is one message.
pub struct BrokerOut {
    outbox: Arc<Outbox>,
    partial: Vec<u8>,
}

impl Write for BrokerOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.partial.extend_from_slice(buf);
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..end]);
            if !text.is_empty() {
                self.outbox.push(&text);
            }
        }
        Ok(buf.len())
    }

    /// Lines are queued as they are written; delivery is the sender thread's.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl BrokerOut {
    /// Where lines with a message key go: the same queue as the lines written.
    pub fn keyed(&self) -> KeyedOut {
        KeyedOut {
            outbox: self.outbox.clone(),
        }
    }
}

/// Queues lines with a message key (Kafka's `key: stream`) beside a [`BrokerOut`], which
/// keeps the queue open.
pub struct KeyedOut {
    outbox: Arc<Outbox>,
}

impl KeyedOut {
    /// Queues `line` (one record, with or without its `\n`) as one message keyed `key`.
    pub fn send(&self, key: &str, line: &str) {
        let text = line.strip_suffix('\n').unwrap_or(line);
        if !text.is_empty() {
            self.outbox.push_keyed(Some(key), text);
        }
    }
}

impl Drop for BrokerOut {
    fn drop(&mut self) {
        // The last stream of the sink has stopped: the sender delivers what is left, and
        // `finish` waits for it (for every sink at once).
        self.outbox.close();
        lock(&CLOSED).push(self.outbox.clone());
    }
}

/// A new outbox and its sender thread for the broker sink at `url`, `topic`; the streams
/// of one sink share it through `records::writer`'s table. Fails only on an address
/// that is not a broker's (the checker rejects those first).
pub fn open(url: &str, topic: &str, capacity: usize, report: Reporter) -> io::Result<BrokerOut> {
    let protocol = protocol_of(url).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{url} is not a broker address"),
        )
    })?;
    let address = match protocol {
        // A list of brokers: the first stands for them all here (TLS, the CA file);
        // `kafka::config` reads the whole list.
        Protocol::Kafka => vpl_compiler::brokers::kafka::parse(url).map(|b| {
            let (host, port) = b.servers[0].clone();
            Address {
                protocol,
                tls: b.tls,
                host,
                port,
                database: None,
            }
        }),
        _ => address::parse(protocol, url),
    }
    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{url}: {e}")))?;
    // A certificate authority that cannot be read is said when the run starts, not
    // retried for ever.
    if address.tls {
        wire::extra_root(&address)?;
    }
    let stats = Arc::new(BrokerStats {
        protocol,
        url: url.to_string(),
        topic: topic.to_string(),
        capacity: capacity.max(1) as u64,
        buffered: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        rejected: AtomicU64::new(0),
        undelivered: AtomicU64::new(0),
        reconnects: AtomicU64::new(0),
        connected: AtomicBool::new(false),
    });
    lock(&STATS).push(stats.clone());
    let outbox = Arc::new(Outbox::new(address, topic, capacity, stats, report));
    let thread_outbox = outbox.clone();
    std::thread::Builder::new()
        .name(format!("vpl-{}", protocol.name()))
        .spawn(move || match protocol {
            Protocol::Kafka => kafka::sender(thread_outbox),
            _ => sender(thread_outbox),
        })?;
    Ok(BrokerOut {
        outbox,
        partial: Vec::new(),
    })
}

#[cfg(test)]
mod tests;
