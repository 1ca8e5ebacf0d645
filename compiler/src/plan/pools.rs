//! What the plan says about pools (`pool(max: N) : video<…>`): each pool is lowered to
//! `max` pre-built slots, every slot a whole chain of elements headed by a `vplslot`
//! element. The runtime binds an admitted stream to a free slot and drains only that slot
//! when the stream leaves; nothing is linked or unlinked while the pipeline plays.

use std::path::PathBuf;

/// The stream type a pool declares, the one every admitted stream must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolType {
    /// vpl's codec name: `h264` or `h265`.
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// Frames per second as a fraction.
    pub rate: (u32, u32),
}

/// One pool of the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct PoolPlan {
    /// The name the program binds the pool to (`let cams = pool(…)`): the pool's name in
    /// the control API (`POST /v1/pools/cams/streams`).
    pub name: String,
    pub max: usize,
    pub ty: PoolType,
    /// The type as `vplc check --types` prints it (`video<h264, 1280x720, 25fps>`).
    pub type_text: String,
    /// The `streams:` file, resolved against the `.vpl` file's folder.
    pub streams_file: Option<PathBuf>,
    /// `max` slots, in order.
    pub slots: Vec<SlotPlan>,
}

/// One pre-built slot of a pool.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotPlan {
    /// Its place in the pool, from 0.
    pub index: usize,
    /// The program's stream index of the slot (records' `stream`, `--stats`' order).
    pub stream: usize,
    /// The `vplslot` element that heads the slot.
    pub head: String,
    /// Every element this slot alone owns, the head first, in plan order. Elements shared
    /// with other slots (a `tile`'s compositor) are not listed.
    pub elements: Vec<String>,
    /// Properties filled in with the admitted stream's id when the slot is bound.
    pub templates: Vec<Template>,
}

/// A string property written with `{stream}` in it, e.g. a file sink's `location`
/// `out/cam_{stream}.mp4`, or a records element's `stream-id` `{stream}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub element: String,
    pub property: String,
    pub text: String,
}

impl Template {
    /// The property's value for the stream `id` (already checked by [`crate::pool`]).
    pub fn fill(&self, id: &str) -> String {
        self.text.replace("{stream}", id)
    }
}
