//! Broker sinks against real servers started here on free ports (Debian's `mosquitto` and
//! `redis-server`, installed by scripts/setup.sh): round trips, a broker stopped mid-run and
//! restarted (nothing the buffer held is lost), and a full buffer (the oldest dropped,
//! counted).

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::servers::{Server, broker_stats, free_port, mosquitto, redis, redis_frames};
use common::{run_ok, temp_dir};

/// A subscriber to `topic` with a persistent session (`-c`, QoS 1): what the broker holds
/// for it while it reconnects is not lost. Returns once it is subscribed.
fn subscriber(port: u16, topic: &str, id: &str) -> (Server, std::sync::mpsc::Receiver<String>) {
    // Line-buffered: mosquitto_sub holds a pipe's output in a block otherwise.
    let mut child = Command::new("stdbuf")
        .args([
            "-oL",
            "mosquitto_sub",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-t",
            topic,
            "-q",
            "1",
            "-c",
            "-i",
            id,
            "-d",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mosquitto_sub runs (scripts/setup.sh installs mosquitto-clients)");
    let out = BufReader::new(child.stdout.take().expect("piped"));
    // Killed however the test ends, the wait below included.
    let server = Server(child);
    let (tx, rx) = std::sync::mpsc::channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            if line.contains("SUBACK") {
                let _ = ready_tx.send(());
            } else if line.starts_with('{') {
                let _ = tx.send(line);
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the subscriber subscribed");
    (server, rx)
}

/// The frame numbers of the records received, waiting until `want` distinct ones came or
/// 10 s passed.
fn frames_received(rx: &std::sync::mpsc::Receiver<String>, want: usize) -> BTreeSet<u64> {
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        let record: serde_json::Value = serde_json::from_str(&line).expect("a JSON record");
        seen.insert(record["frame"].as_u64().expect("a frame number"));
    }
    seen
}

#[test]
fn mqtt_and_redis_get_every_record() {
    let dir = temp_dir("brokers-round-trip");
    let (mqtt_port, redis_port) = (free_port(), free_port());
    let _broker = mosquitto(mqtt_port, &dir);
    let _cache = redis(redis_port, &dir);
    let (_sub, rx) = subscriber(mqtt_port, "vpl/records", "round-trip");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "pipeline p {{\n    let r = test(frames: 40, resolution: 64x48) | json;\n    \
             r | mqtt(\"mqtt://127.0.0.1:{mqtt_port}\", \"vpl/records\");\n    \
             r | redis(\"redis://127.0.0.1:{redis_port}\", \"vpl:records\");\n    \
             r | file(\"records.jsonl\");\n}}\n"
        ),
    )
    .expect("program written");
    let stats = run_ok(&program, &[]);
    let written: Vec<String> = std::fs::read_to_string(dir.join("records.jsonl"))
        .expect("records written")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(written.len(), 40);
    // The messages are the records, byte for byte, in order.
    let mut received = Vec::new();
    while received.len() < 40 {
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(line) => received.push(line),
            Err(_) => break,
        }
    }
    assert_eq!(received, written);
    assert_eq!(
        redis_frames(redis_port, "vpl:records"),
        (0..40).collect::<Vec<_>>()
    );
    for protocol in ["mqtt", "redis"] {
        let b = broker_stats(&stats, protocol);
        assert_eq!(b["delivered"], 40, "{b}");
        assert_eq!(b["dropped"], 0, "{b}");
        assert_eq!(b["undelivered"], 0, "{b}");
    }
}

/// The run is paced (`--realtime`, 30 fps for 3 s); the broker is stopped after about a
/// second and started again a second later, on the same port. Records made meanwhile wait
/// in the buffer and every one arrives (at least once).
#[test]
fn a_broker_stopped_mid_run_loses_nothing_the_buffer_held() {
    let dir = temp_dir("brokers-restart");
    let (mqtt_port, redis_port) = (free_port(), free_port());
    let mut broker = mosquitto(mqtt_port, &dir);
    let mut cache = redis(redis_port, &dir);
    let (_sub, rx) = subscriber(mqtt_port, "vpl/restart", "restart");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "pipeline p {{\n    let r = test(frames: 90, rate: 30fps, resolution: 64x48) | json;\n    \
             r | mqtt(\"mqtt://127.0.0.1:{mqtt_port}\", \"vpl/restart\");\n    \
             r | redis(\"redis://127.0.0.1:{redis_port}\", \"restart\");\n}}\n"
        ),
    )
    .expect("program written");
    let stats_file = dir.join("stats.json");
    let mut run = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", "--realtime", "--stats"])
        .arg(&stats_file)
        .arg(&program)
        .env("VPL_CACHE_DIR", "off")
        .spawn()
        .expect("vplc runs");
    sleep(Duration::from_millis(1000));
    broker.stop();
    cache.stop();
    sleep(Duration::from_millis(1000));
    let _broker = mosquitto(mqtt_port, &dir);
    let _cache = redis(redis_port, &dir);
    let status = run.wait().expect("vplc ends");
    assert!(status.success());
    let stats = common::stats(&stats_file);
    let all: BTreeSet<u64> = (0..90).collect();
    assert_eq!(frames_received(&rx, 90), all, "{stats}");
    let stored: BTreeSet<u64> = redis_frames(redis_port, "restart").into_iter().collect();
    assert_eq!(stored, all, "{stats}");
    for protocol in ["mqtt", "redis"] {
        let b = broker_stats(&stats, protocol);
        assert!(b["reconnects"].as_u64() >= Some(1), "{b}");
        assert_eq!(b["dropped"], 0, "{b}");
        assert_eq!(b["undelivered"], 0, "{b}");
    }
}

/// No server for the first second of a paced run, and a buffer of 10: the oldest records
/// are dropped and counted, and the 10 newest of that time arrive once the server is up.
#[test]
fn a_full_buffer_drops_the_oldest_and_counts_them() {
    let dir = temp_dir("brokers-full");
    let redis_port = free_port();
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "pipeline p {{\n    test(frames: 60, rate: 30fps, resolution: 64x48) | json\n        \
             | redis(\"redis://127.0.0.1:{redis_port}\", \"full\", buffer: 10);\n}}\n"
        ),
    )
    .expect("program written");
    let stats_file = dir.join("stats.json");
    let run = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet", "--realtime", "--stats"])
        .arg(&stats_file)
        .arg(&program)
        .env("VPL_CACHE_DIR", "off")
        .stderr(Stdio::piped())
        .spawn()
        .expect("vplc runs");
    sleep(Duration::from_millis(1000));
    let _cache = redis(redis_port, &dir);
    let out = run.wait_with_output().expect("vplc ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Said once each, never silently.
    let lost = format!("cannot reach redis://127.0.0.1:{redis_port}");
    assert_eq!(stderr.matches(&lost).count(), 1, "{stderr}");
    assert_eq!(
        stderr.matches("is full: dropping the oldest").count(),
        1,
        "{stderr}"
    );
    let b = broker_stats(&common::stats(&stats_file), "redis");
    let dropped = b["dropped"].as_u64().expect("a count");
    assert!(dropped >= 10, "{b}");
    assert_eq!(b["delivered"].as_u64(), Some(60 - dropped), "{b}");
    assert_eq!(b["undelivered"], 0, "{b}");
    // The dropped ones are the oldest: what arrived is every frame from `dropped` on.
    assert_eq!(
        redis_frames(redis_port, "full"),
        (dropped..60).collect::<Vec<_>>()
    );
}

#[test]
fn messages_a_broker_never_got_are_said_at_the_end() {
    // Nothing listens on the port: the run ends, waits for the broker, and says what it
    // could not deliver, even with --quiet.
    let dir = temp_dir("brokers-away");
    let port = free_port();
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "pipeline p {{\n    test(frames: 3, resolution: 64x48) | json\n        \
             | mqtt(\"mqtt://127.0.0.1:{port}\", \"away\");\n}}\n"
        ),
    )
    .expect("program written");
    let out = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--quiet"])
        .arg(&program)
        .env("VPL_CACHE_DIR", "off")
        .output()
        .expect("vplc runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Every message lost: a status of its own (4), not success.
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    let line =
        format!("vplc: warning: mqtt mqtt://127.0.0.1:{port} (away): 3 messages not delivered");
    assert!(stderr.contains(&line), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "mqtt mqtt://127.0.0.1:{port} (away) delivered none of its 3 messages: exit status 4"
        )),
        "{stderr}"
    );
}

/// Two sinks whose brokers are away: the end-of-run wait is one for both, a Ctrl-C during
/// it ends it at once, and the statistics still say what each sink kept undelivered.
#[test]
fn a_signal_ends_the_wait_for_brokers_and_the_statistics_say_what_stayed() {
    let dir = temp_dir("brokers-wait");
    let (mqtt_port, redis_port) = (free_port(), free_port());
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "pipeline p {{\n    let s = test(frames: 3, resolution: 64x48);\n    \
             s | json | mqtt(\"mqtt://127.0.0.1:{mqtt_port}\", \"away\");\n    \
             s | json | redis(\"redis://127.0.0.1:{redis_port}\", \"away\");\n}}\n"
        ),
    )
    .expect("program written");
    let stats_file = dir.join("stats.json");
    let mut run = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--stats"])
        .arg(&stats_file)
        .arg(&program)
        .env("VPL_CACHE_DIR", "off")
        .stderr(Stdio::piped())
        .spawn()
        .expect("vplc runs");
    let mut stderr = String::new();
    let mut lines = BufReader::new(run.stderr.take().expect("piped")).lines();
    for line in lines.by_ref().map_while(Result::ok) {
        stderr.push_str(&line);
        stderr.push('\n');
        if line.contains("waiting up to 10 s for the brokers to acknowledge 6 messages") {
            let killed = Command::new("kill")
                .args(["-INT", &run.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(killed.success());
            break;
        }
    }
    for line in lines.map_while(Result::ok) {
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let status = run.wait().expect("vplc ends");
    assert_eq!(status.code(), Some(130), "{stderr}");
    let stats = common::stats(&stats_file);
    assert_eq!(stats["exit"], "interrupted", "{stats}");
    for protocol in ["mqtt", "redis"] {
        let b = broker_stats(&stats, protocol);
        assert_eq!(b["undelivered"], 3, "{b}");
        assert_eq!(b["delivered"], 0, "{b}");
        assert!(
            stderr.contains(&format!("{protocol}://127.0.0.1:")),
            "{stderr}"
        );
    }
    assert_eq!(
        stderr.matches("3 messages not delivered").count(),
        2,
        "{stderr}"
    );
}

/// `mqtts://` and `rediss://` with credentials from the environment: a mosquitto that
/// wants TLS and a password, a redis-server that wants TLS and `AUTH`; the certificate
/// authority is the test's own (`VPL_MQTT_CA_FILE`, `VPL_REDIS_CA_FILE`).
#[test]
fn tls_and_credentials_come_from_the_environment() {
    let dir = temp_dir("brokers-tls");
    let (ca, cert, key) = common::servers::certificates(&dir);
    let (mqtt_port, redis_port) = (free_port(), free_port());
    let passwords = dir.join("passwords");
    let made = Command::new("mosquitto_passwd")
        .args(["-c", "-b"])
        .arg(&passwords)
        .args(["vpl", "s3cret"])
        .status()
        .expect("mosquitto_passwd runs");
    assert!(made.success());
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {mqtt_port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n\
             cafile {ca}\ncertfile {cert}\nkeyfile {key}\nuser root\n",
            passwords.display()
        ),
    )
    .expect("config written");
    let _broker = Server(common::servers::spawn(
        "mosquitto",
        &["-c", &conf.display().to_string()],
    ));
    let _cache = Server(common::servers::spawn(
        "redis-server",
        &[
            "--port",
            "0",
            "--tls-port",
            &redis_port.to_string(),
            "--bind",
            "127.0.0.1",
            "--tls-cert-file",
            &cert,
            "--tls-key-file",
            &key,
            "--tls-ca-cert-file",
            &ca,
            "--tls-auth-clients",
            "no",
            "--requirepass",
            "s3cret",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    ));
    common::servers::wait_for_port(mqtt_port);
    common::servers::wait_for_port(redis_port);
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "pipeline p {{\n    let r = test(frames: 25, resolution: 64x48) | json;\n    \
             r | mqtt(\"mqtts://localhost:{mqtt_port}\", \"vpl/tls\");\n    \
             r | redis(\"rediss://localhost:{redis_port}\", \"tls\");\n}}\n"
        ),
    )
    .expect("program written");
    // The run's exit status must be `status` (4: a sink delivered nothing).
    let run = |password: &str, status: i32| {
        let stats_file = dir.join(format!("stats-{password}.json"));
        let out = Command::new(env!("CARGO_BIN_EXE_vplc"))
            .args(["run", "--quiet", "--stats"])
            .arg(&stats_file)
            .arg(&program)
            .env("VPL_CACHE_DIR", "off")
            .env("VPL_MQTT_USERNAME", "vpl")
            .env("VPL_MQTT_PASSWORD", password)
            .env("VPL_REDIS_PASSWORD", password)
            .env("VPL_MQTT_CA_FILE", &ca)
            .env("VPL_REDIS_CA_FILE", &ca)
            .output()
            .expect("vplc runs");
        assert_eq!(
            out.status.code(),
            Some(status),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        common::stats(&stats_file)
    };
    let stats = run("s3cret", 0);
    for protocol in ["mqtt", "redis"] {
        let b = broker_stats(&stats, protocol);
        assert_eq!(b["delivered"], 25, "{b}");
    }
    let out = Command::new("redis-cli")
        .args([
            "--tls",
            "--cacert",
            &ca,
            "-h",
            "localhost",
            "-p",
            &redis_port.to_string(),
        ])
        .args(["-a", "s3cret", "--no-auth-warning", "XLEN", "tls"])
        .output()
        .expect("redis-cli runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "25");
    // A wrong password: nothing is delivered, and the run says so in its figures (after
    // waiting its 10 s for the broker), and exits 4.
    let stats = run("wrong", 4);
    for protocol in ["mqtt", "redis"] {
        let b = broker_stats(&stats, protocol);
        assert_eq!(b["delivered"], 0, "{b}");
        assert_eq!(b["undelivered"], 25, "{b}");
    }
}

/// `{stream}` in an MQTT topic and a Redis stream: each stream of the list reaches a topic of
/// its own, named by the id its records carry (the sources' order, not the list's).
#[test]
fn stream_in_a_topic_gives_each_stream_its_own() {
    let dir = temp_dir("brokers-topic-per-stream");
    let (mqtt_port, redis_port) = (free_port(), free_port());
    let _broker = mosquitto(mqtt_port, &dir);
    let _cache = redis(redis_port, &dir);
    let (_sub0, rx0) = subscriber(mqtt_port, "cams/0/records", "per-stream-0");
    let (_sub1, rx1) = subscriber(mqtt_port, "cams/1/records", "per-stream-1");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        format!(
            "pipeline p {{\n    let a = test(pattern: ball, frames: 20, resolution: 64x48) | json;\n    \
             let b = test(pattern: snow, frames: 30, resolution: 64x48) | json;\n    \
             [b, a] | mqtt(\"mqtt://127.0.0.1:{mqtt_port}\", \"cams/{{stream}}/records\");\n    \
             [b, a] | redis(\"redis://127.0.0.1:{redis_port}\", \"cams:{{stream}}\");\n}}\n"
        ),
    )
    .expect("program written");
    let stats = run_ok(&program, &[]);
    for (rx, stream, source, frames) in [(&rx0, 0, "test:ball", 20), (&rx1, 1, "test:snow", 30)] {
        let mut received = Vec::new();
        while received.len() < frames {
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok(line) => received.push(line),
                Err(_) => break,
            }
        }
        assert_eq!(received.len(), frames, "cams/{stream}/records");
        for line in &received {
            let record: serde_json::Value = serde_json::from_str(line).expect("a JSON record");
            assert_eq!(record["stream"], stream, "{record}");
            assert_eq!(record["source"], source, "{record}");
        }
        assert_eq!(
            redis_frames(redis_port, &format!("cams:{stream}")),
            (0..frames as u64).collect::<Vec<_>>()
        );
    }
    // One buffer (and one entry in the statistics) a topic.
    let topics: BTreeSet<String> = stats["brokers"]
        .as_array()
        .expect("brokers in the statistics")
        .iter()
        .map(|b| {
            format!(
                "{} {}",
                b["protocol"],
                b["topic"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        topics,
        [
            "\"mqtt\" cams/0/records",
            "\"mqtt\" cams/1/records",
            "\"redis\" cams:0",
            "\"redis\" cams:1"
        ]
        .into_iter()
        .map(String::from)
        .collect()
    );
}
