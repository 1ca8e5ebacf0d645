//! `vplc run` on a program with pools: the run is a service. [`Live`] is the
//! [`Streams`](crate::control::api::Streams) the control API drives: a request is admitted
//! by the rules `vplc check` applies to a `streams:` file (`vpl_compiler::pool::admit`,
//! with the stream probed here), then bound to a free slot of the running pipeline's
//! [`Pools`]. Nothing that fails admission touches the pipeline.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use vpl_compiler::plan::PoolPlan;
use vpl_compiler::pool::{Entry, Request, StreamSource};
use vpl_runtime::pool::{PoolError, Pools};

use crate::control::api::{Added, Refused, StreamInfo, Streams};

/// How long a stream asked for may take to show its type.
const PROBE_TIMEOUT: Duration = vpl_runtime::probe::STREAM_PROBE_TIMEOUT;

/// The pools of a running program, as the control API sees them.
pub struct Live {
    plans: Vec<PoolPlan>,
    /// Relative paths of requests resolve against it (the program's folder).
    base: PathBuf,
    /// Set once the pipeline is built.
    pools: OnceLock<Pools>,
    /// The run's "end as Ctrl-C does" flag (the signals' `Interrupt::requested`).
    interrupt: Arc<AtomicBool>,
    playing: AtomicBool,
    stopped: AtomicBool,
    finishing: AtomicBool,
    /// The `streams:` files' entries, admitted before the run, bound once it plays.
    initial: Mutex<Vec<(String, Entry)>>,
    /// Served by the control API: the run goes on with no stream, until stopped.
    service: bool,
}

impl Live {
    /// The pools of `plans`; `initial` are bound once the pipeline plays. A `service`
    /// (`--control`) runs until stopped; otherwise the run ends once every stream has left.
    pub fn new(
        plans: Vec<PoolPlan>,
        base: PathBuf,
        interrupt: Arc<AtomicBool>,
        initial: Vec<(String, Entry)>,
        service: bool,
    ) -> Live {
        Live {
            initial: Mutex::new(initial),
            service,
            plans,
            base,
            pools: OnceLock::new(),
            interrupt,
            playing: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            finishing: AtomicBool::new(false),
        }
    }

    /// The pipeline is built: its pools.
    pub fn attach(&self, pools: Pools) {
        let _ = self.pools.set(pools);
    }

    /// The pipeline plays: the `streams:` files' entries are bound, and streams can be
    /// added from now on. A failure to bind one is said, and the run goes on.
    pub fn playing(&self) {
        self.playing.store(true, Ordering::SeqCst);
        let Some(pools) = self.pools.get() else {
            return;
        };
        let initial = std::mem::take(&mut *self.initial.lock().unwrap_or_else(|p| p.into_inner()));
        for (pool, entry) in initial {
            let id = entry.id.clone();
            if let Err(e) = pools.add(&pool, entry) {
                crate::log::error(format!("vplc: stream `{id}` of pool `{pool}`: {e}"));
            }
        }
        if !self.service {
            pools.end_when_empty();
        }
    }

    /// Whether `POST /v1/stop` asked the run to end.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Called as the run goes: once it is asked to end (a signal, `POST /v1/stop`), every
    /// stream is removed, its outputs finished, and the run ends (once).
    pub fn watch(&self) {
        if self.interrupt.load(Ordering::SeqCst)
            && !self.finishing.swap(true, Ordering::SeqCst)
            && let Some(pools) = self.pools.get()
        {
            let pools = pools.clone();
            std::thread::spawn(move || pools.finish());
        }
    }

    /// The program's streams that are slots of pools, and the pool stream bound to each
    /// now (its id and its frames), by stream index: how `--metrics` labels them.
    pub fn slots(&self) -> (HashSet<usize>, HashMap<usize, (String, u64)>) {
        let slots = self
            .plans
            .iter()
            .flat_map(|p| p.slots.iter().map(|s| s.stream))
            .collect();
        let bound = self
            .pools
            .get()
            .map(|pools| {
                pools
                    .list()
                    .into_iter()
                    .map(|b| (b.stream, (b.id, b.frames)))
                    .collect()
            })
            .unwrap_or_default();
        (slots, bound)
    }

    /// Every stream admitted during the run, for `--stats`.
    pub fn admitted(&self) -> Vec<vpl_runtime::pool::Admitted> {
        self.pools
            .get()
            .map(vpl_runtime::pool::Pools::admitted)
            .unwrap_or_default()
    }

    fn plan(&self, pool: &str) -> Option<&PoolPlan> {
        self.plans.iter().find(|p| p.name == pool)
    }
}

/// Admits `request` into `pool`, probing the stream: the entry, or the `vplc check --format
/// json` object saying why not.
pub fn admit(
    pool: &PoolPlan,
    origin: &str,
    request: &Request,
    base: &Path,
) -> Result<Entry, serde_json::Value> {
    let mut probe = |source: &StreamSource| vpl_runtime::probe::probe_stream(source, PROBE_TIMEOUT);
    vpl_compiler::pool::admit(pool, origin, request, base, &mut probe)
}

impl Streams for Live {
    fn pools(&self) -> Vec<String> {
        self.plans.iter().map(|p| p.name.clone()).collect()
    }

    fn list(&self) -> Vec<StreamInfo> {
        let Some(pools) = self.pools.get() else {
            return Vec::new();
        };
        pools
            .list()
            .into_iter()
            .map(|b| StreamInfo {
                ty: self
                    .plan(&b.pool)
                    .map(|p| p.type_text.clone())
                    .unwrap_or_default(),
                id: b.id,
                pool: b.pool,
                slot: b.slot,
                url: b.url,
                state: b.state.to_string(),
                frames: b.frames,
                fps: b.fps,
                last_error: b.last_error,
            })
            .collect()
    }

    fn add(&self, pool: &str, request: Request) -> Result<Added, Refused> {
        let Some(plan) = self.plan(pool) else {
            return Err(Refused::NotFound(format!(
                "no pool named `{}`",
                pool.escape_debug()
            )));
        };
        let Some(pools) = self.pools.get().filter(|_| self.ready()) else {
            return Err(Refused::Unavailable(
                "the run is not playing (starting, or stopping)".into(),
            ));
        };
        // Said before probing: a taken id or a full pool need no stream.
        let listed = pools.list();
        if listed.iter().any(|b| b.id == request.id) {
            return Err(Refused::Conflict(format!(
                "a stream `{}` is already in the run",
                request.id.escape_debug()
            )));
        }
        if listed.iter().filter(|b| b.pool == pool).count() >= plan.max {
            return Err(Refused::Conflict(format!(
                "pool `{pool}` is full: its {} slots are taken",
                plan.max
            )));
        }
        let origin = format!("POST /v1/pools/{pool}/streams");
        let entry = admit(plan, &origin, &request, &self.base).map_err(Refused::Unfit)?;
        let id = entry.id.clone();
        let slot = pools.add(pool, entry).map_err(refused)?;
        Ok(Added {
            id,
            slot,
            ty: plan.type_text.clone(),
        })
    }

    fn remove(&self, id: &str) -> Result<u64, Refused> {
        let Some(pools) = self.pools.get() else {
            return Err(Refused::NotFound(format!(
                "no stream `{}`",
                id.escape_debug()
            )));
        };
        pools.remove(id).map_err(refused)
    }

    fn ready(&self) -> bool {
        self.playing.load(Ordering::SeqCst)
            && !self.interrupt.load(Ordering::SeqCst)
            && self.pools.get().is_some_and(|p| !p.stopping())
    }

    fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.interrupt.store(true, Ordering::SeqCst);
        self.watch();
    }
}

fn refused(e: PoolError) -> Refused {
    match e {
        PoolError::NotFound(why) => Refused::NotFound(why),
        PoolError::Conflict(why) => Refused::Conflict(why),
        PoolError::Unavailable(why) => Refused::Unavailable(why),
    }
}

/// The streams of every pool's `streams:` file, admitted before the run starts: `Err` is
/// every refusal (a `vplc check --format json` object each), to say before anything runs.
/// The cameras of `vplc run --cameras FILE [--shard I/N]` (`origin`), admitted into the
/// program's one pool in place of its `streams:` file, each checked as a request is.
pub fn camera_entries(
    plans: &[PoolPlan],
    origin: &str,
    cameras: Vec<Request>,
) -> Result<Vec<(String, Entry)>, Vec<serde_json::Value>> {
    let Some(plan) = plans.first() else {
        return Ok(Vec::new());
    };
    let mut entries = Vec::new();
    let mut refusals = Vec::new();
    admit_all(plan, origin, &cameras, &mut entries, &mut refusals);
    if refusals.is_empty() {
        Ok(entries)
    } else {
        Err(refusals)
    }
}

/// Admits `requests` into `plan`'s pool, each checked as a control request is: the
/// admitted into `entries`, the refusals into `refusals`. Relative paths have come back
/// from the streams or cameras file resolved against its folder.
fn admit_all(
    plan: &PoolPlan,
    origin: &str,
    requests: &[Request],
    entries: &mut Vec<(String, Entry)>,
    refusals: &mut Vec<serde_json::Value>,
) {
    let base = std::env::current_dir().unwrap_or_default();
    for request in requests {
        match admit(plan, origin, request, &base) {
            Ok(entry) => entries.push((plan.name.clone(), entry)),
            Err(why) => refusals.push(why),
        }
    }
}

pub fn initial_entries(plans: &[PoolPlan]) -> Result<Vec<(String, Entry)>, Vec<serde_json::Value>> {
    let mut entries = Vec::new();
    let mut refusals = Vec::new();
    for plan in plans {
        let Some(file) = &plan.streams_file else {
            continue;
        };
        // The entries' relative paths come back resolved against the file's folder.
        let base = std::env::current_dir().unwrap_or_default();
        let requests = match vpl_compiler::pool::initial_streams(plan, &base) {
            Ok(requests) => requests,
            Err(why) => {
                refusals.push(serde_json::json!({ "error": why }));
                continue;
            }
        };
        admit_all(
            plan,
            &file.display().to_string(),
            &requests,
            &mut entries,
            &mut refusals,
        );
    }
    if refusals.is_empty() {
        Ok(entries)
    } else {
        Err(refusals)
    }
}
