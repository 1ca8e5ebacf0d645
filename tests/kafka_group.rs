//! `vplc run --cameras kafka://BROKERS/TOPIC?group=G` (issue 23, dynamic assignment): three
//! shard processes join one consumer group on a six-partition compacted topic of cameras
//! on librdkafka's mock cluster (a Kafka broker run inside this test process, whose
//! consumer-group coordinator implements JoinGroup/SyncGroup/Heartbeat and times out
//! members that stop heartbeating). Each process is watched through its control API's
//! `GET /v1/streams`.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::servers::free_port;
use common::{run_ok, temp_dir, vplc};
use rdkafka::config::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer};
use serde_json::{Value, json};

const TOPIC: &str = "vpl.cameras";
/// The group's session timeout (`?session_timeout=6s`): a killed member's partitions move
/// once it passed.
const SESSION: Duration = Duration::from_secs(6);
/// Admission on a busy machine: the stream probed, its slot bound, its first frame.
const ADMISSION: Duration = Duration::from_secs(20);

/// `GET path` on `addr`: the JSON answer, or `None` where the process does not answer.
fn get(addr: SocketAddr, path: &str) -> Option<(u16, Value)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let head = format!("GET {path} HTTP/1.1\r\nHost: vpl\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n")?.1;
    Some((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// One `vplc run --cameras kafka://…` process in its own folder, killed with the test.
struct Shard {
    child: Child,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Shard {
    fn start(dir: &Path, n: usize, cameras: &str) -> Shard {
        let dir = dir.join(format!("shard{n}"));
        std::fs::create_dir_all(&dir).expect("shard folder");
        std::fs::write(
            dir.join("group.vpl"),
            "pipeline group {\n    let cams = pool(max: 8) : video<h264, 160x120, 10fps>;\n    \
             cams | decode | json | file(\"rec_{stream}.jsonl\");\n}\n",
        )
        .expect("write");
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let log = std::fs::File::create(dir.join("vplc.log")).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_vplc"))
            .args([
                "run",
                "--realtime",
                "--log-timestamps",
                "--control",
                &addr.to_string(),
            ])
            .args(["--cameras", cameras, "--stats", "stats.json", "group.vpl"])
            .current_dir(&dir)
            .env("VPL_CACHE_DIR", "off")
            .env("NO_COLOR", "1")
            .env_remove("VPL_CONTROL_TOKEN")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("vplc starts");
        Shard { child, addr, dir }
    }

    /// The cameras it runs now (id → frames), or `None` where it does not answer.
    fn streams(&self) -> Option<BTreeMap<String, u64>> {
        let (status, body) = get(self.addr, "/v1/streams")?;
        (status == 200).then_some(())?;
        Some(
            body.as_array()?
                .iter()
                .map(|s| {
                    (
                        s["id"].as_str().unwrap_or_default().to_string(),
                        s["frames"].as_u64().unwrap_or(0),
                    )
                })
                .collect(),
        )
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("vplc.log")).unwrap_or_default()
    }
}

impl Drop for Shard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Which live shards run each camera (with at least one frame): camera → shard indexes.
fn placement(shards: &[Option<Shard>]) -> BTreeMap<String, Vec<usize>> {
    let mut placed: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, shard) in shards.iter().enumerate() {
        let Some(shard) = shard else { continue };
        for (id, frames) in shard.streams().unwrap_or_default() {
            if frames > 0 {
                placed.entry(id).or_default().push(i);
            }
        }
    }
    placed
}

/// Polls `check` until it gives a value, for at most `limit`: the value and the time it
/// took; on time out, fails with `what` and the shards' logs.
fn wait_for<T>(
    shards: &[Option<Shard>],
    limit: Duration,
    what: &str,
    mut check: impl FnMut() -> Option<T>,
) -> (T, Duration) {
    let start = Instant::now();
    loop {
        if let Some(value) = check() {
            return (value, start.elapsed());
        }
        if start.elapsed() > limit {
            let logs: Vec<String> = shards
                .iter()
                .flatten()
                .map(|s| format!("--- {}:\n{}", s.dir.display(), s.log()))
                .collect();
            panic!(
                "{what}: not within {limit:?}; now {:?}\n{}",
                placement(shards),
                logs.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `ids`, each on exactly one live shard: the placement.
fn each_once(shards: &[Option<Shard>], ids: &[String]) -> Option<BTreeMap<String, usize>> {
    let placed = placement(shards);
    let keys: Vec<&String> = placed.keys().collect();
    let wanted: Vec<&String> = ids.iter().collect();
    (keys == wanted && placed.values().all(|s| s.len() == 1))
        .then(|| placed.into_iter().map(|(id, s)| (id, s[0])).collect())
}

fn producer(bootstrap: &str) -> BaseProducer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("a producer")
}

/// Produces `key` = `value` (a tombstone for `None`) to `partition` and waits for it.
fn produce(producer: &BaseProducer, partition: i32, key: &str, value: Option<&Value>) {
    let payload = value.map(Value::to_string);
    let mut record = BaseRecord::<str, str>::to(TOPIC)
        .key(key)
        .partition(partition);
    if let Some(p) = &payload {
        record = record.payload(p.as_str());
    }
    producer.send(record).map_err(|(e, _)| e).expect("queued");
    producer.flush(Duration::from_secs(10)).expect("delivered");
}

fn sorted(ids: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut ids: Vec<String> = ids.into_iter().collect();
    ids.sort();
    ids
}

/// Six cameras on six partitions, three members: all six run, none twice; a member killed
/// (SIGKILL) has its cameras taken over by the others within the session timeout plus
/// admission; a produced camera is admitted and a tombstone removes one within 5 s; after
/// the rebalance settles, no camera runs on two live members. Then a member stopped with
/// Ctrl-C leaves the group (the last takes its cameras, its `--stats` count them), and an
/// entry that fails admission is a warning naming its key.
#[test]
fn a_consumer_group_shares_the_cameras_and_takes_over_a_dead_members() {
    let dir = temp_dir("kafka-group");
    let cluster: MockCluster<'static, DefaultProducerContext> =
        MockCluster::new(1).expect("librdkafka's mock cluster starts");
    cluster.create_topic(TOPIC, 6, 1).expect("the topic");
    let bootstrap = cluster.bootstrap_servers();
    let make = dir.join("make.vpl");
    std::fs::write(
        &make,
        "pipeline make {\n    test(pattern: ball, resolution: 160x120, rate: 10fps, frames: 20) \
         | encode(h264) | file(\"cam.mp4\");\n}\n",
    )
    .expect("write");
    run_ok(&make, &[]);
    let media = dir.join("cam.mp4").display().to_string();
    let entry = json!({"url": media, "params": {"loop": true}});
    let kafka = producer(&bootstrap);
    let mut ids: Vec<String> = (0..6).map(|i| format!("cam-{i}")).collect();
    for (p, id) in ids.iter().enumerate() {
        produce(&kafka, p as i32, id, Some(&entry));
    }
    let url = format!("kafka://{bootstrap}/{TOPIC}?group=vpl&session_timeout=6s");
    let mut shards: Vec<Option<Shard>> =
        (0..3).map(|n| Some(Shard::start(&dir, n, &url))).collect();

    // All six admitted, each on exactly one member, every member with some.
    let (placed, took) = wait_for(
        &shards,
        Duration::from_secs(90),
        "six cameras placed",
        || each_once(&shards, &ids).filter(|p| (0..3).all(|s| p.values().any(|v| *v == s))),
    );
    eprintln!("six cameras on three members after {took:?}: {placed:?}");

    // SIGKILL the member with the most cameras: the others take them over.
    let victim = (0..3)
        .max_by_key(|s| placed.values().filter(|v| **v == *s).count())
        .expect("a member");
    let orphans: Vec<String> = sorted(
        placed
            .iter()
            .filter(|(_, s)| **s == victim)
            .map(|(id, _)| id.clone()),
    );
    let mut dead = shards[victim].take().expect("running");
    let killed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    dead.child.kill().expect("SIGKILL");
    let _ = dead.child.wait();
    let (after, took) = wait_for(&shards, SESSION + ADMISSION, "orphans taken over", || {
        each_once(&shards, &ids)
    });
    assert!(after.values().all(|s| *s != victim));
    // scripts/bench_rebalance.py reads this line, and the survivors' logs in `dir`.
    eprintln!(
        "rebalance_s={:.3} killed_ms={} dir={} orphans={orphans:?} -> {after:?}",
        took.as_secs_f64(),
        killed.as_millis(),
        dir.display()
    );
    drop(dead);

    // A new camera is admitted, a tombstone removes one, each within 5 s.
    produce(&kafka, 2, "cam-new", Some(&entry));
    ids.push("cam-new".into());
    let ids_now = sorted(ids.clone());
    let (_, took) = wait_for(&shards, Duration::from_secs(5), "cam-new admitted", || {
        each_once(&shards, &ids_now)
    });
    eprintln!("cam-new admitted after {took:?}");
    let gone = orphans[0].clone();
    let partition = gone
        .trim_start_matches("cam-")
        .parse::<i32>()
        .expect("a number");
    produce(&kafka, partition, &gone, None);
    ids.retain(|id| *id != gone);
    let ids_now = sorted(ids.clone());
    let (_, took) = wait_for(&shards, Duration::from_secs(5), "tombstone removed", || {
        each_once(&shards, &ids_now)
    });
    eprintln!("{gone} removed after {took:?}");
    // Its records on the member that ran it last end with `stream_removed`.
    let last = after[&gone];
    let records = std::fs::read_to_string(
        shards[last]
            .as_ref()
            .expect("live")
            .dir
            .join(format!("rec_{gone}.jsonl")),
    )
    .expect("records");
    let end: Value = serde_json::from_str(records.lines().last().expect("a line")).unwrap();
    assert_eq!(end["event"], "stream_removed", "{end}");
    assert_eq!(end["stream_id"], gone.as_str(), "{end}");

    // Settled: every camera on exactly one live member, the same when asked again.
    let settled = each_once(&shards, &ids_now).expect("settled");
    let again = each_once(&shards, &ids_now).expect("settled");
    assert_eq!(settled, again);

    // Ctrl-C on a member: its streams finished, it leaves the group, and the last member
    // takes its cameras; its statistics count what its consumer did.
    let stopping = (0..3).find(|s| *s != victim).expect("a survivor");
    let mut stopped = shards[stopping].take().expect("running");
    let _ = Command::new("kill")
        .args(["-INT", &stopped.child.id().to_string()])
        .status();
    let (status, _) = wait_for(&shards, Duration::from_secs(30), "Ctrl-C ends it", || {
        stopped.child.try_wait().expect("waits")
    });
    assert_eq!(status.code(), Some(130), "{}", stopped.log());
    let stats = common::stats(&stopped.dir.join("stats.json"));
    let counts = &stats["cameras"];
    assert!(counts["admitted"].as_u64() >= Some(1), "{stats}");
    assert_eq!(counts["refused"], 0, "{stats}");
    assert!(counts["rebalances"].as_u64() >= Some(1), "{stats}");
    drop(stopped);
    let (_, took) = wait_for(
        &shards,
        SESSION + ADMISSION,
        "the last member runs all",
        || each_once(&shards, &ids_now),
    );
    eprintln!("after a member left: the last runs all after {took:?}");

    // An entry that fails admission is a warning naming the key; the run goes on.
    let bad = json!({"url": dir.join("missing.mp4").display().to_string()});
    produce(&kafka, 4, "cam-bad", Some(&bad));
    let last = shards.iter().flatten().next().expect("the last member");
    wait_for(&shards, Duration::from_secs(10), "cam-bad refused", || {
        last.log()
            .contains("camera `cam-bad` (partition 4) is not admitted")
            .then_some(())
    });
    assert_eq!(
        each_once(&shards, &ids_now).map(|p| p.len()),
        Some(ids_now.len()),
        "the others run on, cam-bad not among them"
    );
}

/// `--shard` does not go with a consumer group, and the URL is checked before anything
/// runs; a broker that cannot be reached is said, the run waits, and Ctrl-C ends it.
#[test]
fn the_group_url_is_checked_and_an_absent_broker_waited_for() {
    let dir = temp_dir("kafka-group-checks");
    let program = dir.join("p.vpl");
    std::fs::write(
        &program,
        "pipeline p {\n    let cams = pool(max: 2) : video<h264, 160x120, 10fps>;\n    \
         cams | decode | json | file(\"rec_{stream}.jsonl\");\n}\n",
    )
    .expect("write");
    let p = program.display().to_string();
    let port = free_port();
    let url = format!("kafka://127.0.0.1:{port}/cams?group=g");
    let out = vplc(&["run", "--cameras", &url, "--shard", "0/2", &p]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("leave --shard out"), "{said}");
    let out = vplc(&[
        "run",
        "--cameras",
        &format!("kafka://127.0.0.1:{port}/cams"),
        &p,
    ]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("names no consumer group"), "{said}");

    // Nothing listens on `port`: said, waited for, and Ctrl-C ends the run.
    let log = dir.join("vplc.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vplc"))
        .args(["run", "--cameras", &url, &p])
        .current_dir(&dir)
        .env("VPL_CACHE_DIR", "off")
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("vplc starts");
    let start = Instant::now();
    let said = loop {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if said.contains("retrying, the cameras wait") {
            break said;
        }
        if start.elapsed() > Duration::from_secs(30) || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the absent broker was not said: {said}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(said.contains(&format!("127.0.0.1:{port}")), "{said}");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "Ctrl-C did not end the run: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        status.code(),
        Some(130),
        "{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
}
