//! Static shards as separate processes (issue 23): three `vplc run --cameras FILE --shard
//! i/3` share six looping cameras and send their records to one six-partition topic of
//! librdkafka's mock cluster (a Kafka-protocol broker inside this test process, as in
//! tests/kafka.rs) with `key: stream`. What the messages say is checked against
//! `vplc::shard::shard_of`; then shard 1 is killed (SIGKILL) and started again with the
//! same ordinal, as a StatefulSet restarts a pod under its name.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{root, temp_dir};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster;
use rdkafka::{Offset, TopicPartitionList};
use vplc::shard::shard_of;

const SHARDS: usize = 3;
const PARTITIONS: i32 = 6;
const TOPIC: &str = "city.records";
/// Six ids the hash spreads two to a shard (asserted below, so a change of the hash that
/// leaves a shard empty says so instead of testing less).
const CAMERAS: [&str; 6] = ["cam-0", "cam-1", "cam-2", "cam-3", "cam-4", "cam-5"];
/// How long any one condition may take to come true: generous, for a loaded 2-core CI.
const DEADLINE: Duration = Duration::from_secs(60);
/// Frames each camera must have sent before the next step (about a second at 25 fps).
const STEP: usize = 25;

/// The shard processes, killed (SIGKILL) and reaped when the test ends however it ends.
struct Shards {
    children: Vec<Option<Child>>,
    dir: PathBuf,
}

impl Drop for Shards {
    fn drop(&mut self) {
        for child in self.children.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Shards {
    /// `vplc run --quiet PROGRAM --cameras cams.yaml --shard i/3 --stats stats-i-RUN.json`,
    /// its standard error in `stderr-i-RUN.txt`.
    fn start(&mut self, i: usize, run: usize) {
        let file = |what: &str, ext: &str| self.dir.join(format!("{what}-{i}-{run}.{ext}"));
        let stderr = std::fs::File::create(file("stderr", "txt")).expect("stderr file");
        let child = Command::new(env!("CARGO_BIN_EXE_vplc"))
            .args(["run", "--quiet", "--stats"])
            .arg(file("stats", "json"))
            .arg(self.dir.join("city.vpl"))
            .arg("--cameras")
            .arg(self.dir.join("cams.yaml"))
            .args(["--shard", &format!("{i}/{SHARDS}")])
            .env("VPL_CACHE_DIR", "off")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("vplc runs");
        self.children[i] = Some(child);
    }

    /// What shard `i`'s run `run` said on standard error.
    fn said(&self, i: usize, run: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("stderr-{i}-{run}.txt"))).unwrap_or_default()
    }

    /// Every shard still running, said (for a failed assertion).
    fn check_running(&mut self) {
        for (i, child) in self.children.iter_mut().enumerate() {
            if let Some(c) = child
                && let Some(status) = c.try_wait().expect("waitable")
            {
                let said: Vec<String> = (0..2).map(|run| self.said(i, run)).collect();
                panic!("shard {i} ended early ({status}): {said:?}");
            }
        }
    }

    /// SIGTERM to every shard (the pod's stop), and each ends within the deadline with
    /// Ctrl-C's status, every output finished.
    fn stop_all(&mut self, runs: [usize; SHARDS]) {
        for child in self.children.iter().flatten() {
            let status = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .expect("kill runs");
            assert!(status.success());
        }
        let deadline = Instant::now() + DEADLINE;
        for (i, slot) in self.children.iter_mut().enumerate() {
            let mut child = slot.take().expect("running");
            let status = loop {
                if let Some(status) = child.try_wait().expect("waitable") {
                    break status;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("shard {i} did not end within {DEADLINE:?} of SIGTERM");
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            let said =
                std::fs::read_to_string(self.dir.join(format!("stderr-{i}-{}.txt", runs[i])))
                    .unwrap_or_default();
            assert_eq!(status.code(), Some(130), "shard {i}: {said}");
        }
    }
}

/// One message of the topic: its partition, its key, and the record.
struct Got {
    partition: i32,
    key: String,
    record: serde_json::Value,
}

/// The messages read so far, by camera (the record's `stream_id`), in partition order.
struct Topic {
    consumer: BaseConsumer,
    by_camera: BTreeMap<String, Vec<Got>>,
}

impl Topic {
    fn new(bootstrap: &str) -> Topic {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", bootstrap)
            .set("group.id", "vpl-shards-test")
            .set("enable.auto.commit", "false")
            .create()
            .expect("a consumer");
        let mut partitions = TopicPartitionList::new();
        for p in 0..PARTITIONS {
            partitions
                .add_partition_offset(TOPIC, p, Offset::Beginning)
                .expect("partition added");
        }
        consumer.assign(&partitions).expect("partitions assigned");
        Topic {
            consumer,
            by_camera: BTreeMap::new(),
        }
    }

    /// Reads until `done` holds of what was read, failing after [`DEADLINE`] (and when a
    /// shard that should run has ended).
    fn read_until(&mut self, shards: &mut Shards, what: &str, done: impl Fn(&Topic) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        while !done(self) {
            assert!(
                Instant::now() < deadline,
                "{what}: not within {DEADLINE:?}; frames so far: {:?}",
                self.frames()
            );
            shards.check_running();
            for _ in 0..100 {
                match self.consumer.poll(Duration::from_millis(100)) {
                    Some(Ok(m)) => {
                        let record: serde_json::Value =
                            serde_json::from_slice(m.payload().expect("a payload"))
                                .expect("a JSON record");
                        let id = record["stream_id"]
                            .as_str()
                            .expect("a pool's record has its stream_id")
                            .to_string();
                        let key = String::from_utf8_lossy(m.key().expect("keyed")).into_owned();
                        self.by_camera.entry(id).or_default().push(Got {
                            partition: m.partition(),
                            key,
                            record,
                        });
                    }
                    Some(Err(e)) => panic!("the consumer fails: {e}"),
                    None => break,
                }
            }
        }
    }

    /// Each camera's frame numbers, in the order read.
    fn frames(&self) -> BTreeMap<&str, Vec<u64>> {
        self.by_camera
            .iter()
            .map(|(id, got)| {
                let frames = got
                    .iter()
                    .filter_map(|g| g.record["frame"].as_u64())
                    .collect();
                (id.as_str(), frames)
            })
            .collect()
    }

    /// Camera `id`'s runs: its frame numbers cut where they start again (a new process),
    /// each with the `frames` of the `stream_removed` line that ended it, if one did.
    fn runs(&self, id: &str) -> Vec<(Vec<u64>, Option<u64>)> {
        let mut runs: Vec<(Vec<u64>, Option<u64>)> = Vec::new();
        for g in self.by_camera.get(id).into_iter().flatten() {
            if let Some(frame) = g.record["frame"].as_u64() {
                let new_run = match runs.last() {
                    None => true,
                    Some((frames, ended)) => {
                        ended.is_some() || frames.last().is_some_and(|l| frame <= *l)
                    }
                };
                if new_run {
                    runs.push((Vec::new(), None));
                }
                runs.last_mut().expect("a run").0.push(frame);
            } else {
                assert_eq!(g.record["event"], "stream_removed", "{}", g.record);
                let run = runs.last_mut().expect("a run before its end");
                run.1 = Some(g.record["frames"].as_u64().expect("frames"));
            }
        }
        runs
    }

    /// How many frames camera `id` has sent in its latest run.
    fn latest(&self, id: &str) -> usize {
        self.runs(id).last().map_or(0, |r| r.0.len())
    }
}

/// The ids a run's statistics list as its pool's streams.
fn streams_of(stats: &Path) -> BTreeSet<String> {
    common::stats(stats)["streams"]
        .as_array()
        .expect("a streams list")
        .iter()
        .map(|s| s["id"].as_str().expect("an id").to_string())
        .collect()
}

/// Three shards, six cameras (one H.264 file looped, `params: {loop: true}`), records to a
/// six-partition topic keyed by camera. The shards are started, each camera's records are
/// read until it has sent [`STEP`] frames; shard 1 is killed and the others go on; shard 1
/// starts again with its ordinal and its cameras resume on it; then all stop (SIGTERM).
/// Checked: every record says the shard `shard_of` predicts for its camera, the union of the
/// shards' cameras is the six and none is on two shards (the records and each run's
/// `--stats`), every message is keyed by its camera, each camera's messages are in one
/// partition across the restart, and their frame numbers are contiguous: one run from 0 to
/// the end for the cameras of shards 0 and 2, two runs each from 0 for shard 1's (the one
/// killed, and the one stopped, which its `stream_removed` line closes with its count).
#[test]
fn three_shards_share_six_cameras_and_a_killed_shard_takes_its_own_back() {
    let predicted: BTreeMap<&str, usize> = CAMERAS
        .iter()
        .map(|id| (*id, shard_of(id, SHARDS)))
        .collect();
    for s in 0..SHARDS {
        assert_eq!(
            predicted.values().filter(|p| **p == s).count(),
            2,
            "two cameras a shard: {predicted:?}"
        );
    }
    let on = |s: usize| -> Vec<&str> {
        CAMERAS
            .iter()
            .copied()
            .filter(|id| predicted[id] == s)
            .collect()
    };

    let dir = temp_dir("shards");
    let cluster = MockCluster::new(1).expect("librdkafka's mock cluster starts");
    cluster
        .create_topic(TOPIC, PARTITIONS, 1)
        .expect("the topic is created");
    let bootstrap = cluster.bootstrap_servers();
    std::fs::write(
        dir.join("city.vpl"),
        format!(
            "pipeline city {{\n    let cams = pool(max: 4) : video<h264, 320x240, 25fps>;\n    \
             cams | json | kafka(\"{bootstrap}\", \"{TOPIC}\", key: stream);\n}}\n"
        ),
    )
    .expect("program written");
    let media = root().join("tests/fixtures/media/h264_320x240_25fps.mp4");
    let list: String = CAMERAS
        .iter()
        .map(|id| {
            format!(
                "- id: {id}\n  url: {}\n  params: {{loop: true}}\n",
                media.display()
            )
        })
        .collect();
    std::fs::write(dir.join("cams.yaml"), list).expect("camera list written");

    let mut shards = Shards {
        children: (0..SHARDS).map(|_| None).collect(),
        dir: dir.clone(),
    };
    for i in 0..SHARDS {
        shards.start(i, 0);
    }
    let mut topic = Topic::new(&bootstrap);
    topic.read_until(&mut shards, "every camera sends", |t| {
        CAMERAS.iter().all(|id| t.latest(id) >= STEP)
    });

    // Shard 1 dies; the others go on.
    let mut killed = shards.children[1].take().expect("shard 1 runs");
    killed.kill().expect("SIGKILL");
    killed.wait().expect("reaped");
    let at_kill: BTreeMap<&str, usize> = CAMERAS.iter().map(|id| (*id, topic.latest(id))).collect();
    let others: Vec<&str> = CAMERAS
        .iter()
        .copied()
        .filter(|id| predicted[id] != 1)
        .collect();
    topic.read_until(&mut shards, "shards 0 and 2 go on", |t| {
        others.iter().all(|id| t.latest(id) >= at_kill[id] + STEP)
    });

    // Shard 1 again, with the same ordinal: its cameras start again from frame 0.
    shards.start(1, 1);
    topic.read_until(&mut shards, "shard 1's cameras resume", |t| {
        on(1).iter().all(|id| {
            let runs = t.runs(id);
            runs.len() == 2 && runs[1].0.len() >= STEP
        })
    });
    shards.stop_all([0, 1, 0]);
    topic.read_until(&mut shards, "every camera's last run is closed", |t| {
        CAMERAS
            .iter()
            .all(|id| t.runs(id).last().is_some_and(|r| r.1.is_some()))
    });

    for id in CAMERAS {
        let got = &topic.by_camera[id];
        let shard = predicted[id];
        // Keyed by the camera, in one partition, the whole time.
        assert!(got.iter().all(|g| g.key == id), "{id}: keyed by its id");
        let partitions: BTreeSet<i32> = got.iter().map(|g| g.partition).collect();
        assert_eq!(partitions.len(), 1, "{id} in one partition: {partitions:?}");
        // Made by the shard the hash predicts, and only by it.
        for g in got.iter().filter(|g| g.record.get("frame").is_some()) {
            assert_eq!(
                g.record["shard"].as_u64(),
                Some(shard as u64),
                "{id}: {}",
                g.record
            );
        }
        let runs = topic.runs(id);
        let want_runs = if shard == 1 { 2 } else { 1 };
        assert_eq!(runs.len(), want_runs, "{id} (shard {shard}): {runs:?}");
        for (frames, _) in &runs {
            let contiguous: Vec<u64> = (0..frames.len() as u64).collect();
            assert_eq!(frames, &contiguous, "{id}: contiguous from 0");
        }
        // The killed run has no end line; the stopped one ends with its count.
        let (last, closed) = runs.last().expect("a run");
        assert_eq!(
            *closed,
            Some(last.len() as u64),
            "{id}: every frame arrived"
        );
        if shard == 1 {
            assert_eq!(runs[0].1, None, "{id}: the killed run was never closed");
            assert!(runs[0].0.len() >= STEP, "{id}");
        } else {
            assert!(
                last.len() >= at_kill[id] + STEP,
                "{id} went on while shard 1 was down"
            );
        }
    }

    // Each run's own account: the union is the six, none on two shards.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, run) in [(0, 0), (1, 1), (2, 0)] {
        let ids = streams_of(&dir.join(format!("stats-{i}-{run}.json")));
        let want: BTreeSet<String> = on(i).iter().map(|s| s.to_string()).collect();
        assert_eq!(ids, want, "shard {i} ran its predicted cameras");
        for id in ids {
            assert_eq!(seen.insert(id.clone(), i), None, "{id} on two shards");
        }
    }
    assert_eq!(
        seen.keys().map(String::as_str).collect::<Vec<_>>(),
        CAMERAS.to_vec()
    );
}
