//! What the control API asks of a running program, as a trait: the HTTP side (routes,
//! JSON, tokens, DeepStream's bodies) never touches GStreamer, and its tests drive it with
//! a stand-in.

use serde::Serialize;
use vpl_compiler::pool::Request;

/// A stream of a pool, as `GET /v1/streams` lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamInfo {
    pub id: String,
    pub pool: String,
    pub slot: usize,
    pub url: String,
    /// `starting`, `playing`, `reconnecting`, `draining`.
    pub state: String,
    /// The pool's stream type, as `vplc check --types` prints it.
    #[serde(rename = "type")]
    pub ty: String,
    /// Frames that left the stream's source.
    pub frames: u64,
    /// Frames a second over the last second.
    pub fps: f64,
    pub last_error: Option<String>,
}

/// A stream just admitted: `201 {"id", "slot", "type"}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Added {
    pub id: String,
    pub slot: usize,
    #[serde(rename = "type")]
    pub ty: String,
}

/// Why a request was not carried out, with the HTTP answer each gets.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// 404: no such pool or stream.
    NotFound(String),
    /// 409: the id is taken, or the pool is full.
    Conflict(String),
    /// 422: the stream or its parameters do not fit; the body is a `vplc check --format
    /// json` object (`{"diagnostics": [...], "errors": N, "warnings": N}`).
    Unfit(serde_json::Value),
    /// 503: the run is not ready for it (starting, or stopping).
    Unavailable(String),
}

/// The running program, as the control API drives it. Every method may be called from
/// several connection threads at once.
pub trait Streams: Send + Sync {
    /// The pools' names, in the program's order.
    fn pools(&self) -> Vec<String>;
    /// Every admitted stream, by pool, then slot.
    fn list(&self) -> Vec<StreamInfo>;
    /// Checks `request` against `pool` (parameters, probed type) and binds it to a free
    /// slot. Nothing that fails touches the running pipeline.
    fn add(&self, pool: &str, request: Request) -> Result<Added, Refused>;
    /// Drains the stream's slot and returns once its outputs are finished: the frames
    /// it had.
    fn remove(&self, id: &str) -> Result<u64, Refused>;
    /// The pipeline plays (`/v1/health/ready`).
    fn ready(&self) -> bool;
    /// Ends the run as Ctrl-C does: every output finished, exit 0.
    fn stop(&self);
}
