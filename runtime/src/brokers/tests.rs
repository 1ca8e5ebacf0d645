//! Broker sinks against fake brokers: a thread that accepts connections and answers
//! each Redis command as its test says.

use super::*;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::AtomicUsize;

/// What the fake broker answers: given the connection's number (from 0), the reply to
/// each command, or `None` to close the connection.
type Answer = fn(usize) -> Option<Vec<u8>>;

/// A fake Redis server on a free port; returns its URL and the connections accepted.
fn fake_redis(answer: Answer) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let url = format!("redis://{}", listener.local_addr().expect("bound"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let n = count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || serve_commands(stream, n, answer));
        }
    });
    (url, accepted)
}

fn serve_commands(mut stream: TcpStream, n: usize, answer: Answer) {
    let mut reader = BufReader::new(stream.try_clone().expect("a clone"));
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let Some(args) = line.trim().strip_prefix('*') else {
            continue;
        };
        for _ in 0..args.parse::<usize>().unwrap_or(0) {
            line.clear();
            let _ = reader.read_line(&mut line);
            let len: usize = line.trim()[1..].parse().unwrap_or(0);
            let mut arg = vec![0; len + 2];
            let _ = reader.read_exact(&mut arg);
        }
        match answer(n) {
            Some(reply) => {
                if stream.write_all(&reply).is_err() {
                    return;
                }
            }
            None => return,
        }
    }
}

const STORED: &[u8] = b"$15\r\n1700000000000-0\r\n";

/// A sink of `count` messages to `url`: its stats and what it said.
fn send(url: &str, count: usize) -> (Arc<BrokerStats>, Arc<Mutex<Vec<String>>>, BrokerOut) {
    let said = Arc::new(Mutex::new(Vec::new()));
    let to = said.clone();
    let mut out = open(
        url,
        "events",
        100,
        Box::new(move |t: &str| lock(&to).push(t.to_string())),
    )
    .expect("a broker address");
    for i in 0..count {
        writeln!(out, "{{\"frame\": {i}}}").expect("queued");
    }
    let stats = out.outbox.stats.clone();
    (stats, said, out)
}

/// Waits (up to 20 s) until `done`.
fn wait_until(done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "not done after 20 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The sink recovers from a first connection that answers `bad`: it reconnects, says
/// so once, and delivers everything.
fn recovers_from(bad: Answer, what: &str) {
    let (url, accepted) = fake_redis(bad);
    let (stats, said, _out) = send(&url, 5);
    wait_until(|| stats.delivered.load(Ordering::Relaxed) == 5);
    assert_eq!(stats.rejected.load(Ordering::Relaxed), 0);
    assert!(stats.reconnects.load(Ordering::Relaxed) >= 1);
    assert!(accepted.load(Ordering::SeqCst) >= 2);
    let said = lock(&said).clone();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains(what), "{said:?}");
}

#[test]
fn garbage_from_redis_is_a_reconnection_and_a_warning_not_a_panic() {
    recovers_from(
        |n| {
            Some(if n == 0 {
                b"\xc3\xa9t\xc3\xa9\r\n".to_vec()
            } else {
                STORED.to_vec()
            })
        },
        "is not a Redis reply (\"été\")",
    );
}

#[test]
fn a_reply_nested_40000_deep_does_not_overflow_the_stack() {
    recovers_from(
        |n| {
            Some(if n == 0 {
                let mut deep = b"*1\r\n".repeat(40_000);
                deep.extend_from_slice(b":1\r\n");
                deep
            } else {
                STORED.to_vec()
            })
        },
        "arrays nested over 8 deep",
    );
}

#[test]
fn passing_redis_errors_are_retried_until_delivered() {
    recovers_from(
        |n| {
            Some(if n == 0 {
                b"-OOM command not allowed when used memory > 'maxmemory'.\r\n".to_vec()
            } else {
                STORED.to_vec()
            })
        },
        "OOM command not allowed",
    );
    recovers_from(
        |n| {
            Some(if n == 0 {
                b"-LOADING Redis is loading the dataset in memory\r\n".to_vec()
            } else {
                STORED.to_vec()
            })
        },
        "LOADING",
    );
}

/// Every message refused for good: counted as rejected, and the reply said once.
fn refused_for_good(reply: Answer, said_once: &[&str]) {
    let (url, _) = fake_redis(reply);
    let (stats, said, _out) = send(&url, 5);
    wait_until(|| stats.rejected.load(Ordering::Relaxed) == 5);
    assert_eq!(stats.delivered.load(Ordering::Relaxed), 0);
    let said = lock(&said).clone();
    assert_eq!(said.len(), 1, "{said:?}");
    for part in said_once {
        assert!(said[0].contains(part), "{part}: {said:?}");
    }
}

#[test]
fn a_full_buffer_is_said_once_and_nothing_waits() {
    // Nothing listens: the buffer of 100 fills, the oldest are dropped, said once.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (stats, said, _out) = send(&format!("redis://127.0.0.1:{port}"), 150);
    assert_eq!(stats.dropped.load(Ordering::Relaxed), 50);
    wait_until(|| lock(&said).len() == 2);
    let said = lock(&said).clone();
    assert_eq!(
        said.iter().filter(|s| s.contains("is full")).count(),
        1,
        "{said:?}"
    );
}

/// A Kafka outbox of `capacity` messages with no sender thread: the tests play the
/// sender (what it hands to librdkafka, the delivery reports). Returns it and what it
/// said.
fn kafka_outbox(capacity: usize) -> (Outbox, Arc<Mutex<Vec<String>>>) {
    let said = Arc::new(Mutex::new(Vec::new()));
    let to = said.clone();
    let stats = Arc::new(BrokerStats {
        protocol: Protocol::Kafka,
        url: "kafka://127.0.0.1:9092".into(),
        topic: "t".into(),
        capacity: capacity as u64,
        buffered: AtomicU64::new(0),
        delivered: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        rejected: AtomicU64::new(0),
        undelivered: AtomicU64::new(0),
        reconnects: AtomicU64::new(0),
        connected: AtomicBool::new(false),
    });
    let address = Address {
        protocol: Protocol::Kafka,
        tls: false,
        host: "127.0.0.1".into(),
        port: 9092,
        database: None,
    };
    let report: Reporter = Box::new(move |t: &str| lock(&to).push(t.to_string()));
    (Outbox::new(address, "t", capacity, stats, report), said)
}

/// The messages in the outbox, oldest first, and its dropped count.
fn queued_and_dropped(outbox: &Outbox) -> (Vec<u64>, u64) {
    let seqs = lock(&outbox.queue).items.iter().map(|(s, _)| *s).collect();
    (seqs, outbox.stats.dropped.load(Ordering::Relaxed))
}

fn seqs(batch: Option<Vec<(u64, super::Message)>>) -> Vec<u64> {
    batch.expect("open").iter().map(|(s, _)| *s).collect()
}

/// The brokers are away: librdkafka holds message 1 (the oldest, to learn when they are
/// back). The full buffer drops it, and librdkafka delivers it after all (it was on its
/// way to brokers just back). Nothing newer was dropped for good meanwhile: everything
/// from message 1 on arrives, and nothing counts as dropped.
#[test]
fn a_message_librdkafka_delivers_after_the_full_buffer_dropped_it_costs_no_newer_one() {
    let (outbox, said) = kafka_outbox(3);
    for i in 1..=3 {
        outbox.push(&format!("m{i}"));
    }
    assert_eq!(seqs(outbox.next_batch(0, 1, Duration::ZERO)), [1]);
    outbox.push("m4");
    // Dropped while librdkafka holds it: counted, until its delivery report says.
    assert_eq!(queued_and_dropped(&outbox), (vec![2, 3, 4], 1));
    outbox.push("m5");
    // Message 2 is not dropped while message 1 may still arrive.
    assert_eq!(queued_and_dropped(&outbox), (vec![2, 3, 4, 5], 1));
    // The brokers are back: message 1 is delivered.
    outbox.stats.connected.store(true, Ordering::Relaxed);
    outbox.acknowledged(1, false);
    assert_eq!(queued_and_dropped(&outbox), (vec![2, 3, 4, 5], 0));
    // Made before the sender hands the rest to librdkafka: not dropped for good either.
    outbox.push("m6");
    assert_eq!(queued_and_dropped(&outbox), (vec![2, 3, 4, 5, 6], 0));
    assert_eq!(
        seqs(outbox.next_batch(1, WINDOW, Duration::ZERO)),
        [2, 3, 4, 5, 6]
    );
    // librdkafka has them: the buffer is back to its size.
    assert_eq!(queued_and_dropped(&outbox), (vec![4, 5, 6], 2));
    for seq in 2..=6 {
        outbox.acknowledged(seq, false);
    }
    let stats = &outbox.stats;
    assert_eq!(stats.delivered.load(Ordering::Relaxed), 6);
    assert_eq!(stats.dropped.load(Ordering::Relaxed), 0);
    assert_eq!(stats.buffered.load(Ordering::Relaxed), 0);
    let said = lock(&said).clone();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("is full: dropping the oldest"), "{said:?}");
}

/// As above, but message 1 is taken back from librdkafka's queue (purged, the brokers
/// still away): it is lost, and so is message 2, whose drop waited for it. The newest
/// three arrive.
#[test]
fn a_message_taken_back_from_librdkafka_is_dropped_with_those_that_waited_for_it() {
    let (outbox, _) = kafka_outbox(3);
    for i in 1..=3 {
        outbox.push(&format!("m{i}"));
    }
    assert_eq!(seqs(outbox.next_batch(0, 1, Duration::ZERO)), [1]);
    outbox.push("m4");
    outbox.push("m5");
    assert_eq!(queued_and_dropped(&outbox), (vec![2, 3, 4, 5], 1));
    outbox.given_back(1);
    assert_eq!(queued_and_dropped(&outbox), (vec![3, 4, 5], 2));
    // Nothing held: the oldest goes at once.
    outbox.push("m6");
    assert_eq!(queued_and_dropped(&outbox), (vec![4, 5, 6], 3));
    outbox.stats.connected.store(true, Ordering::Relaxed);
    assert_eq!(
        seqs(outbox.next_batch(0, WINDOW, Duration::ZERO)),
        [4, 5, 6]
    );
    for seq in 4..=6 {
        outbox.acknowledged(seq, false);
    }
    assert_eq!(outbox.stats.delivered.load(Ordering::Relaxed), 3);
    assert_eq!(outbox.stats.dropped.load(Ordering::Relaxed), 3);
}

/// While the brokers take messages, one librdkafka is about to be handed is not dropped
/// for good; once they are away (librdkafka said so), the oldest are.
#[test]
fn drops_waiting_for_librdkafka_are_made_once_the_brokers_are_away() {
    let (outbox, _) = kafka_outbox(3);
    outbox.stats.connected.store(true, Ordering::Relaxed);
    for i in 1..=5 {
        outbox.push(&format!("m{i}"));
    }
    assert_eq!(queued_and_dropped(&outbox), (vec![1, 2, 3, 4, 5], 0));
    outbox.stats.connected.store(false, Ordering::Relaxed);
    outbox.settle();
    assert_eq!(queued_and_dropped(&outbox), (vec![3, 4, 5], 2));
}

#[test]
fn lasting_redis_errors_are_said_once_with_their_text() {
    refused_for_good(
        |_| Some(b"-NOAUTH Authentication required.\r\n".to_vec()),
        &["`NOAUTH Authentication required.`", "counted as rejected"],
    );
}

#[test]
fn a_cluster_redirect_is_named() {
    refused_for_good(
        |_| Some(b"-MOVED 3999 127.0.0.1:6381\r\n".to_vec()),
        &[
            "`MOVED 3999 127.0.0.1:6381`",
            "does not follow cluster redirects",
            "redis://127.0.0.1:6381",
        ],
    );
}

#[test]
fn a_broker_that_accepts_then_closes_is_not_reconnected_in_a_loop() {
    // Redis: closed at the first command; MQTT: CONNACK, then closed at the PUBLISH
    // (what mosquitto does for a topic it forbids).
    let (redis_url, redis_accepted) = fake_redis(|_| None);
    let mqtt = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let mqtt_url = format!("mqtt://{}", mqtt.local_addr().expect("bound"));
    let mqtt_accepted = Arc::new(AtomicUsize::new(0));
    let count = mqtt_accepted.clone();
    std::thread::spawn(move || {
        for mut stream in mqtt.incoming().map_while(Result::ok) {
            count.fetch_add(1, Ordering::SeqCst);
            let mut connect = [0u8; 2];
            let _ = stream.read_exact(&mut connect);
            let mut rest = vec![0u8; connect[1] as usize];
            let _ = stream.read_exact(&mut rest);
            let _ = stream.write_all(&[0x20, 2, 0, 0]);
            let _ = stream.read(&mut [0u8; 64]);
        }
    });
    let (redis_stats, redis_said, _r) = send(&redis_url, 5);
    let (mqtt_stats, mqtt_said, _m) = send(&mqtt_url, 5);
    std::thread::sleep(Duration::from_secs(2));
    // About one connection a second, not thousands.
    for (accepted, stats, said) in [
        (&redis_accepted, &redis_stats, &redis_said),
        (&mqtt_accepted, &mqtt_stats, &mqtt_said),
    ] {
        let n = accepted.load(Ordering::SeqCst);
        assert!((1..=5).contains(&n), "{} connections in 2 s", n);
        assert_eq!(stats.delivered.load(Ordering::Relaxed), 0);
        let said = lock(said).clone();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].contains("accepted the connection but closed it before acknowledging anything"),
            "{said:?}"
        );
    }
}
