//! `vplc run --stats`: the run's figures as one JSON object (spec section 8, with vpl's
//! additions), written to a file opened before the run and refused where it is the
//! program, a file the run reads or an output; and what broker sinks delivered.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Serialize;
use vpl_compiler::plan::{Plan, Prop};

use crate::run::UNDELIVERED;

#[derive(Serialize)]
struct Stats<'a> {
    pipeline: &'a str,
    wall_s: f64,
    frames: Vec<u64>,
    fps: Vec<f64>,
    objects: u64,
    /// Frames a model ran on (vpl's extension of spec §8's statistics).
    inferred: u64,
    /// Frames live sources dropped because the pipeline fell behind them (vpl's extension).
    dropped: u64,
    /// Each broker sink's messages (vpl's extension; absent without broker sinks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    brokers: Vec<BrokerStat>,
    /// A program with pools: each stream admitted during the run (vpl's extension;
    /// `frames` and `fps` above stay by stream index, a pool's slots among them).
    #[serde(skip_serializing_if = "Option::is_none")]
    streams: Option<Vec<PoolStream<'a>>>,
    /// `--cameras kafka://…`: what the consumer of the camera topic did (vpl's extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    cameras: Option<crate::shard::kafka::Counts>,
    exit: &'a str,
}

/// One stream of a pool in the statistics.
#[derive(Serialize)]
struct PoolStream<'a> {
    id: &'a str,
    pool: &'a str,
    slot: usize,
    frames: u64,
    /// `removed`, `ended` or `failed`; `null` for a stream still bound (a run that failed).
    reason: Option<&'a str>,
}

/// One broker sink's figures in the statistics.
#[derive(Serialize)]
pub struct BrokerStat {
    protocol: &'static str,
    url: String,
    topic: String,
    buffer: u64,
    delivered: u64,
    /// Oldest messages dropped because the buffer was full.
    dropped: u64,
    rejected: u64,
    /// Messages still buffered when the run ended and the broker stayed away.
    undelivered: u64,
    reconnects: u64,
}

/// Each broker sink's figures; before the end (a second signal), what is still buffered
/// counts as undelivered.
pub fn broker_stats() -> Vec<BrokerStat> {
    vpl_runtime::brokers::stats()
        .iter()
        .map(|b| BrokerStat {
            protocol: b.protocol.name(),
            url: b.url.clone(),
            topic: b.topic.clone(),
            buffer: b.capacity,
            delivered: b.delivered.load(Ordering::Relaxed),
            dropped: b.dropped.load(Ordering::Relaxed),
            rejected: b.rejected.load(Ordering::Relaxed),
            undelivered: b.undelivered.load(Ordering::Relaxed) + b.buffered.load(Ordering::Relaxed),
            reconnects: b.reconnects.load(Ordering::Relaxed),
        })
        .collect()
}

impl BrokerStat {
    /// Messages that did not reach the broker, for whatever reason.
    fn lost(&self) -> u64 {
        self.dropped + self.rejected + self.undelivered
    }
}

/// Messages a broker never acknowledged are output lost: said even with --quiet.
pub fn say_undelivered(brokers: &[BrokerStat]) {
    for b in brokers {
        if b.undelivered > 0 || b.dropped > 0 || b.rejected > 0 {
            crate::log::warn(format!(
                "vplc: warning: {} {} ({}): {} messages not delivered (still buffered when the \
                 run ended and the broker stayed away), {} dropped when the buffer was full, \
                 {} refused by the broker; {} delivered",
                b.protocol, b.url, b.topic, b.undelivered, b.dropped, b.rejected, b.delivered
            ));
        }
    }
}

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The run's figures, for the statistics.
#[derive(Clone, Default)]
pub struct Figures {
    pub wall: Duration,
    pub frames: Vec<u64>,
    pub objects: u64,
    pub inferred: u64,
    pub dropped: u64,
    /// A program with pools: the streams admitted during the run (empty when none was).
    pub streams: Option<Vec<vpl_runtime::pool::Admitted>>,
    /// `--cameras kafka://…`: the camera topic's consumer's counts.
    pub cameras: Option<crate::shard::kafka::Counts>,
}

impl Figures {
    pub fn fps(&self) -> Vec<f64> {
        self.frames
            .iter()
            .map(|n| *n as f64 / self.wall.as_secs_f64().max(1e-9))
            .collect()
    }
}

pub fn stats_text(pipeline: &str, f: &Figures, brokers: Vec<BrokerStat>, exit: &str) -> String {
    let stats = Stats {
        pipeline,
        wall_s: (f.wall.as_secs_f64() * 1000.0).round() / 1000.0,
        frames: f.frames.clone(),
        fps: f.fps().iter().map(|x| (x * 10.0).round() / 10.0).collect(),
        objects: f.objects,
        inferred: f.inferred,
        dropped: f.dropped,
        brokers,
        streams: f.streams.as_ref().map(|streams| {
            streams
                .iter()
                .map(|a| PoolStream {
                    id: &a.id,
                    pool: &a.pool,
                    slot: a.slot,
                    frames: a.frames,
                    reason: a.reason,
                })
                .collect()
        }),
        cameras: f.cameras.clone(),
        exit,
    };
    serde_json::to_string(&stats).unwrap_or_default() + "\n"
}

/// The `--stats` file, opened (not emptied) when the run starts.
pub struct StatsOut {
    pub path: PathBuf,
    file: File,
}

impl StatsOut {
    /// Opens `path` for the statistics of a run of `program`: refused where it is the
    /// program, a file the run reads or an output (the same file by device and inode, or
    /// the same path), or cannot be written (a device that refuses writes, `/dev/full`, is
    /// found by writing nothing to it; a FIFO nobody reads is refused rather than waited
    /// for).
    pub fn open(
        path: &Path,
        program: &Path,
        plan: &Plan,
        c: &vpl_compiler::Compilation,
    ) -> Result<StatsOut, String> {
        let dir = program.parent().unwrap_or(Path::new(""));
        let mut taken: Vec<(PathBuf, &str)> = vec![(program.to_path_buf(), "the program")];
        for e in &plan.elements {
            for (name, value) in &e.props {
                if let (Prop::Str(v), "location" | "path" | "model") = (value, name.as_str())
                    && !v.contains("://")
                {
                    taken.push((PathBuf::from(v), "a file the program reads or writes"));
                }
            }
        }
        for m in &c.program.models {
            for key in ["path", "labels"] {
                if let Some(v) = m.call.string(key) {
                    taken.push((dir.join(v), "a file the program reads"));
                }
            }
        }
        let here = identity(path);
        let resolved = absolute(path);
        for (other, what) in &taken {
            let same = match (&here, identity(other)) {
                (Some(a), Some(b)) => *a == b,
                _ => resolved.is_some() && resolved == absolute(other),
            };
            if same {
                return Err(format!(
                    "it is {what} ({}): nothing was written",
                    other.display()
                ));
            }
        }
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .custom_flags(libc_o_nonblock())
            .open(path)
            .map_err(|e| match e.raw_os_error() {
                Some(6) => "it is a FIFO that nobody reads".to_string(),
                _ => e.to_string(),
            })?;
        let mut out = StatsOut {
            path: path.to_path_buf(),
            file,
        };
        if !out.regular() {
            // Nothing written, but a device that refuses every write says so.
            let _ = out.file.write(&[]).map_err(|e| e.to_string())?;
        }
        Ok(out)
    }

    fn regular(&self) -> bool {
        self.file.metadata().is_ok_and(|m| m.is_file())
    }

    /// Replaces the file's content by `text`.
    pub fn write(&mut self, text: &str) -> std::io::Result<()> {
        if self.regular() {
            self.file.set_len(0)?;
            self.file.seek(SeekFrom::Start(0))?;
            self.file.write_all(text.as_bytes())?;
            self.file.sync_all()
        } else {
            self.file.write_all(text.as_bytes())?;
            self.file.flush()
        }
    }
}

/// `O_NONBLOCK`: opening a FIFO for writing does not wait for a reader.
fn libc_o_nonblock() -> i32 {
    0o4000
}

/// A file's device and inode, where it exists.
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// `path` made absolute, its directory resolved (the file itself may not exist yet).
fn absolute(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Some(std::fs::canonicalize(dir).ok()?.join(name))
}

/// Whether every broker sink delivered something; each that delivered none of its
/// messages is said, with the exit status it makes.
pub fn all_delivered(brokers: &[BrokerStat]) -> bool {
    let mut all = true;
    for b in brokers.iter().filter(|b| b.delivered == 0 && b.lost() > 0) {
        crate::log::error(format!(
            "vplc: {} {} ({}) delivered none of its {} messages: exit status {UNDELIVERED}",
            b.protocol,
            b.url,
            b.topic,
            b.lost()
        ));
        all = false;
    }
    all
}
