//! Kafka through librdkafka (the `rdkafka` crate): one producer per outbox, `acks=all`, no
//! delivery deadline (`message.timeout.ms=0`: librdkafka reconnects and retries while the
//! brokers are away). Up to [`super::WINDOW`] messages of the outbox are handed to librdkafka
//! at a time; a message leaves the outbox only when its delivery report says it was stored,
//! so what librdkafka has not yet delivered is still counted in the buffer (and dropped from
//! it, the oldest first, when it is full; a dropped message librdkafka delivers after all is
//! not counted as lost, and nothing newer is dropped for good until librdkafka has either
//! delivered it or given it back: see `Outbox::trim`). A delivery the brokers refused for
//! good (a topic the user may not write, a message too large) is counted as `rejected`; any
//! other failure is produced again. TLS and SASL credentials come from the environment only.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{
    BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext, PurgeConfig,
};
use vpl_compiler::brokers::kafka as list;

use super::{Message, Outbox, WINDOW, lock};

/// How long one poll of librdkafka waits for delivery reports when nothing new is queued.
const POLL: Duration = Duration::from_millis(50);

/// The configuration of the producer for the broker list in `url` (`kafka://…`,
/// `kafkas://…`): TLS from the scheme, SASL when `VPL_KAFKA_USERNAME`/`VPL_KAFKA_PASSWORD`
/// are set, an extra certificate authority from `VPL_KAFKA_CA_FILE`. `env` reads the
/// environment (a table in the tests).
pub(super) fn config(
    url: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ClientConfig, String> {
    let mut config = connection(url, env)?;
    config
        .set("acks", "all")
        .set("message.timeout.ms", "0")
        .set("linger.ms", "5");
    Ok(config)
}

/// What every Kafka client of a run (the `kafka` sink's producer, the consumer of
/// `vplc run --cameras kafka://…`) is configured with for the broker list in `url`: the
/// bootstrap servers, reconnection backoff, TLS from the scheme and SASL and a certificate
/// authority from the environment, as [`config`] says.
pub fn connection(url: &str, env: impl Fn(&str) -> Option<String>) -> Result<ClientConfig, String> {
    let brokers = list::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers.bootstrap())
        .set("reconnect.backoff.ms", "100")
        .set("reconnect.backoff.max.ms", "1000");
    let user = env("VPL_KAFKA_USERNAME");
    let password = env("VPL_KAFKA_PASSWORD");
    let sasl = user.is_some() || password.is_some();
    let protocol = match (brokers.tls, sasl) {
        (false, false) => "plaintext",
        (true, false) => "ssl",
        (false, true) => "sasl_plaintext",
        (true, true) => "sasl_ssl",
    };
    config.set("security.protocol", protocol);
    if sasl {
        let mechanism = env("VPL_KAFKA_SASL_MECHANISM").unwrap_or_else(|| "PLAIN".to_string());
        config
            .set("sasl.mechanism", mechanism)
            .set("sasl.username", user.unwrap_or_default())
            .set("sasl.password", password.unwrap_or_default());
    }
    if let Some(ca) = env("VPL_KAFKA_CA_FILE").filter(|_| brokers.tls) {
        config.set("ssl.ca.location", ca);
    }
    Ok(config)
}

/// What librdkafka's callbacks (run by `poll` on the sender thread) report to the outbox.
struct Context {
    outbox: Arc<Outbox>,
    /// Messages handed to librdkafka whose delivery report has not come.
    in_flight: AtomicUsize,
    /// Messages whose delivery failed for a reason that may pass, or taken back from
    /// librdkafka's queue (purged): handed again if the buffer still holds them.
    again: Mutex<Vec<u64>>,
    /// A delivery succeeded once: a later outage's end counts as a reconnection.
    delivered_once: AtomicBool,
    /// The outage was said (once an outage).
    outage_reported: AtomicBool,
    /// The reasons for rejections already said (each once a sink).
    said: Mutex<Vec<RDKafkaErrorCode>>,
}

/// librdkafka's default `message.max.bytes`: the largest message the producer sends.
const MESSAGE_MAX_BYTES: usize = 1_000_000;

impl Context {
    /// A message refused for good (by librdkafka or by the brokers): counted as rejected,
    /// and the reason said the first time it comes, so nothing is lost without a word.
    fn reject(&self, seq: u64, code: RDKafkaErrorCode, bytes: usize) {
        self.outbox.acknowledged(seq, true);
        let mut said = lock(&self.said);
        if said.contains(&code) {
            return;
        }
        said.push(code);
        let why = match code {
            RDKafkaErrorCode::MessageSizeTooLarge | RDKafkaErrorCode::InvalidMessageSize => {
                format!(
                    "a record of {bytes} bytes is larger than a Kafka message may be \
                     ({MESSAGE_MAX_BYTES} bytes, librdkafka's message.max.bytes, or less where \
                     the topic's max.message.bytes says so)"
                )
            }
            other => format!("a record was refused: {other}"),
        };
        (self.outbox.report)(&format!(
            "{} topic {}: {why}; it is not sent and is counted as rejected (so are the next \
             ones refused for this reason, without another warning)",
            self.outbox.stats.url, self.outbox.topic
        ));
    }
}

impl ClientContext for Context {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            self.outbox.stats.connected.store(false, Ordering::Relaxed);
            // Drops held back while the brokers took messages can be made now.
            self.outbox.settle();
            if !self.outage_reported.swap(true, Ordering::Relaxed) {
                (self.outbox.report)(&format!(
                    "cannot reach {}: {reason}; librdkafka keeps trying, holding up to {} messages",
                    self.outbox.stats.url, self.outbox.capacity
                ));
            }
        }
    }

    // librdkafka's own log lines (each failed connection) stay out of the run's output:
    // an outage is said once, above.
    fn log(&self, _level: rdkafka::config::RDKafkaLogLevel, _fac: &str, _message: &str) {}
}

impl ProducerContext for Context {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        let stats = &self.outbox.stats;
        match result {
            Ok(_) => {
                if !stats.connected.swap(true, Ordering::Relaxed)
                    && self.delivered_once.swap(true, Ordering::Relaxed)
                {
                    stats.reconnects.fetch_add(1, Ordering::Relaxed);
                }
                self.outage_reported.store(false, Ordering::Relaxed);
                self.outbox.acknowledged(seq as u64, false);
            }
            Err((KafkaError::MessageProduction(code), message)) if refused(*code) => {
                self.reject(seq as u64, *code, message.payload_len());
            }
            Err(_) => {
                self.outbox.given_back(seq as u64);
                lock(&self.again).push(seq as u64);
            }
        }
    }
}

/// Failures that producing again would not cure.
fn refused(code: RDKafkaErrorCode) -> bool {
    matches!(
        code,
        RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::InvalidMessage
            | RDKafkaErrorCode::InvalidMessageSize
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::ClusterAuthorizationFailed
            | RDKafkaErrorCode::InvalidTopic
    )
}

/// The sender thread of a Kafka outbox: hands messages to librdkafka and serves its
/// callbacks until the outbox is closed and empty (or the drain gave up and emptied it).
pub(super) fn sender(outbox: Arc<Outbox>) {
    let context = Context {
        outbox: outbox.clone(),
        in_flight: AtomicUsize::new(0),
        again: Mutex::new(Vec::new()),
        delivered_once: AtomicBool::new(false),
        outage_reported: AtomicBool::new(false),
        said: Mutex::new(Vec::new()),
    };
    let producer: BaseProducer<Context> =
        match config(&outbox.stats.url, |name| std::env::var(name).ok()).and_then(|c| {
            c.create_with_context(context)
                .map_err(|e| format!("{}: {e}", outbox.stats.url))
        }) {
            Ok(p) => p,
            Err(e) => {
                (outbox.report)(&format!("cannot start the Kafka client: {e}"));
                // Nothing can be delivered: let the drain count what is left.
                while outbox.next_batch(u64::MAX, 1, POLL).is_some() {
                    std::thread::sleep(POLL);
                }
                return;
            }
        };
    let topic = outbox.topic.clone();
    // Messages after this one in the buffer have not been handed to librdkafka.
    let mut sent_after = 0u64;
    loop {
        // Failed or taken-back deliveries: hand the buffer from the first of them again
        // (a message after it that librdkafka still held may then arrive twice).
        let again = std::mem::take(&mut *lock(&producer.context().again));
        if let Some(first) = again.iter().min() {
            sent_after = sent_after.min(first - 1);
        }
        let in_flight = producer.context().in_flight.load(Ordering::Relaxed);
        let connected = outbox.stats.connected.load(Ordering::Relaxed);
        // While the brokers are away librdkafka is given one message at a time (the oldest
        // of the buffer, to learn when they are back). When a full buffer drops it, it is
        // taken back from librdkafka's queue: its delivery report (purged) says it is lost,
        // and the drops waiting for it are made (`Outbox::given_back`). One already on its
        // way to brokers that just came back is not in the queue: it is delivered, and
        // nothing newer was dropped meanwhile.
        if !connected && outbox.dropped_while_held() {
            producer.purge(PurgeConfig::default().queue());
        }
        let room = match (connected, in_flight) {
            (true, n) => WINDOW.saturating_sub(n),
            (false, 0) => 1,
            (false, _) => 0,
        };
        let idle = if in_flight == 0 { POLL } else { Duration::ZERO };
        let Some(batch) = outbox.next_batch(sent_after, room, idle) else {
            break;
        };
        for (seq, message) in &batch {
            produce(&producer, &topic, *seq, message);
            sent_after = *seq;
        }
        producer.poll(if batch.is_empty() {
            POLL
        } else {
            Duration::ZERO
        });
    }
    outbox.stats.connected.store(false, Ordering::Relaxed);
    // Dropping the producer purges what it still holds (already counted as undelivered).
    drop(producer);
}

/// Hands one message to librdkafka, waiting while its own queue is full. A keyed message
/// goes to the partition of its key (librdkafka's default partitioner, murmur2 as the Java
/// client's), so one stream's messages stay in one partition, in order.
fn produce(producer: &BaseProducer<Context>, topic: &str, seq: u64, message: &Message) {
    producer.context().in_flight.fetch_add(1, Ordering::Relaxed);
    let mut record =
        BaseRecord::<str, str, usize>::with_opaque_to(topic, seq as usize).payload(&**message);
    if let Some(key) = &message.key {
        record = record.key(&**key);
    }
    loop {
        match producer.send(record) {
            Ok(()) => return,
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                producer.poll(POLL);
            }
            Err((e, _)) => {
                // Not accepted at all (a message over message.max.bytes, a topic name
                // librdkafka refuses): produced again later would fail the same way.
                producer.context().in_flight.fetch_sub(1, Ordering::Relaxed);
                let code = e
                    .rdkafka_error_code()
                    .unwrap_or(RDKafkaErrorCode::InvalidMessage);
                producer.context().reject(seq, code, message.len());
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::config;
    use std::io::Write;
    use std::sync::atomic::Ordering;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// A record over librdkafka's message.max.bytes is refused before it leaves: it is
    /// counted as rejected and said once, the records around it are unaffected (no broker
    /// is needed: nothing reaches one).
    #[test]
    fn a_record_too_large_for_kafka_is_said_and_counted() {
        let said = Arc::new(Mutex::new(Vec::<String>::new()));
        let into = said.clone();
        let report: crate::brokers::Reporter =
            Box::new(move |text: &str| into.lock().expect("not poisoned").push(text.into()));
        // A port nothing listens on: the brokers stay away.
        let mut out =
            crate::brokers::open("kafka://127.0.0.1:9", "big", 10, report).expect("a Kafka outbox");
        let big = format!("{{\"data\": \"{}\"}}\n", "x".repeat(1_200_000));
        out.write_all(big.as_bytes()).expect("queued");
        out.write_all(big.as_bytes()).expect("queued");
        let stats = crate::brokers::stats()
            .into_iter()
            .rev()
            .find(|s| s.topic == "big")
            .expect("the sink's statistics");
        let deadline = Instant::now() + Duration::from_secs(10);
        while stats.rejected.load(Ordering::Relaxed) < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(stats.rejected.load(Ordering::Relaxed), 2);
        let said = said.lock().expect("not poisoned").clone();
        let about: Vec<&String> = said
            .iter()
            .filter(|t| t.contains("1200012 bytes"))
            .collect();
        assert_eq!(about.len(), 1, "said once: {said:?}");
        assert!(about[0].contains("message.max.bytes") && about[0].contains("rejected"));
        // Nothing is left to wait for at the end.
        assert_eq!(stats.buffered.load(Ordering::Relaxed), 0);
        drop(out);
    }

    fn with(url: &str, vars: &[(&str, &str)]) -> Vec<(String, String)> {
        let c = config(url, |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
        .expect("a configuration");
        let mut keys: Vec<(String, String)> = [
            "bootstrap.servers",
            "acks",
            "security.protocol",
            "sasl.mechanism",
            "sasl.username",
            "sasl.password",
            "ssl.ca.location",
        ]
        .iter()
        .filter_map(|k| c.get(k).map(|v| (k.to_string(), v.to_string())))
        .collect();
        keys.sort();
        keys
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = p
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn security_comes_from_the_scheme_and_the_environment() {
        assert_eq!(
            with("kafka://a:9092,b:9093", &[("VPL_KAFKA_CA_FILE", "/ca.pem")]),
            pairs(&[
                ("bootstrap.servers", "a:9092,b:9093"),
                ("acks", "all"),
                ("security.protocol", "plaintext"),
            ])
        );
        assert_eq!(
            with("kafkas://a:9093", &[("VPL_KAFKA_CA_FILE", "/ca.pem")]),
            pairs(&[
                ("bootstrap.servers", "a:9093"),
                ("acks", "all"),
                ("security.protocol", "ssl"),
                ("ssl.ca.location", "/ca.pem"),
            ])
        );
        let sasl = [
            ("VPL_KAFKA_USERNAME", "vpl"),
            ("VPL_KAFKA_PASSWORD", "s3cret"),
        ];
        assert_eq!(
            with("kafka://a:9092", &sasl),
            pairs(&[
                ("bootstrap.servers", "a:9092"),
                ("acks", "all"),
                ("security.protocol", "sasl_plaintext"),
                ("sasl.mechanism", "PLAIN"),
                ("sasl.username", "vpl"),
                ("sasl.password", "s3cret"),
            ])
        );
        let scram = [
            ("VPL_KAFKA_USERNAME", "vpl"),
            ("VPL_KAFKA_PASSWORD", "s3cret"),
            ("VPL_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        ];
        let c = with("kafkas://a:9093", &scram);
        assert!(c.contains(&("security.protocol".into(), "sasl_ssl".into())));
        assert!(c.contains(&("sasl.mechanism".into(), "SCRAM-SHA-512".into())));
    }
}
