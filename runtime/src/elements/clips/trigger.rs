//! What `vplrecord` decides, frame by frame, without GStreamer: when a clip starts and
//! ends, and which frames of the pre-roll ring it starts with. Times are the frames'
//! timestamps in nanoseconds.

use std::collections::VecDeque;

/// The settings of a recorder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub before_ns: u64,
    pub after_ns: u64,
}

/// A frame as the recorder sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub time_ns: u64,
    pub key: bool,
    /// The condition holds on this frame.
    pub hit: bool,
}

/// What to do with a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing to write.
    Keep,
    /// Open a clip and write the ring's frames (the indices of the frames kept so far,
    /// oldest first, this one included).
    Start { from_ring: usize },
    /// Write this frame to the open clip.
    Write,
    /// Write this frame, then finish the clip.
    WriteAndFinish,
}

/// The recorder's state: the ring's frame times and key flags (the frames themselves are
/// kept by the caller in the same order) and the open clip's end.
#[derive(Debug, Default)]
pub struct Recorder {
    ring: VecDeque<(u64, bool)>,
    /// The open clip ends at the first frame at or after this time.
    until: Option<u64>,
}

impl Recorder {
    /// Takes one frame; returns what to do and how many of the ring's oldest frames the
    /// caller drops (done before the action: `Start::from_ring` counts what is left).
    pub fn push(&mut self, timing: Timing, frame: Frame) -> (usize, Action) {
        self.ring.push_back((frame.time_ns, frame.key));
        let dropped = self.trim(timing, frame.time_ns);
        let action = match self.until {
            Some(until) => {
                let until = if frame.hit {
                    frame.time_ns.saturating_add(timing.after_ns)
                } else {
                    until
                };
                if frame.time_ns >= until {
                    self.until = None;
                    Action::WriteAndFinish
                } else {
                    self.until = Some(until);
                    Action::Write
                }
            }
            // A clip starts at a key frame: with none yet, the trigger waits for one.
            None if frame.hit && self.ring.front().is_some_and(|f| f.1) => {
                self.until = Some(frame.time_ns.saturating_add(timing.after_ns));
                Action::Start {
                    from_ring: self.ring.len(),
                }
            }
            None => Action::Keep,
        };
        (dropped, action)
    }

    /// Whether a clip is open.
    pub fn recording(&self) -> bool {
        self.until.is_some()
    }

    /// Drops the ring's frames older than the newest key frame at or before `now - before`
    /// (and any frames before the first key frame): what is left starts at a key frame
    /// and covers `before`.
    fn trim(&mut self, timing: Timing, now: u64) -> usize {
        let start = now.saturating_sub(timing.before_ns);
        let keep_from = self
            .ring
            .iter()
            .enumerate()
            .rfind(|(_, (t, key))| *key && *t <= start)
            .map(|(i, _)| i)
            .or_else(|| self.ring.iter().position(|(_, key)| *key))
            .unwrap_or(self.ring.len());
        self.ring.drain(..keep_from);
        keep_from
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: u64 = 100_000_000; // 10 fps

    /// Frames 0..n at 10 fps, a key frame every `gop`, hits where `hit(i)`; returns the
    /// clips as (first frame, last frame).
    fn clips(n: u64, gop: u64, timing: Timing, hit: impl Fn(u64) -> bool) -> Vec<(u64, u64)> {
        let mut r = Recorder::default();
        let mut ring: VecDeque<u64> = VecDeque::new();
        let mut out = Vec::new();
        let mut open: Option<(u64, u64)> = None;
        for i in 0..n {
            ring.push_back(i);
            let (dropped, action) = r.push(
                timing,
                Frame {
                    time_ns: i * FRAME,
                    key: i % gop == 0,
                    hit: hit(i),
                },
            );
            ring.drain(..dropped);
            match action {
                Action::Keep => {}
                Action::Start { from_ring } => {
                    assert_eq!(from_ring, ring.len());
                    open = Some((ring[0], i));
                }
                Action::Write => open.as_mut().expect("open").1 = i,
                Action::WriteAndFinish => {
                    let (first, _) = open.take().expect("open");
                    out.push((first, i));
                }
            }
        }
        out.extend(open);
        out
    }

    #[test]
    fn a_clip_starts_at_the_key_frame_before_the_pre_roll() {
        let timing = Timing {
            before_ns: 2 * 10 * FRAME,
            after_ns: 3 * 10 * FRAME,
        };
        // Hit at frame 50 (5 s): pre-roll from 3 s, key frames every 8 frames → frame 24.
        assert_eq!(clips(200, 8, timing, |i| i == 50), vec![(24, 80)]);
    }

    #[test]
    fn overlapping_triggers_extend_the_clip() {
        let timing = Timing {
            before_ns: 10 * FRAME,
            after_ns: 20 * FRAME,
        };
        // 40 and 55 overlap (55 < 40 + 20): one clip to 75; 120 is another.
        assert_eq!(
            clips(200, 10, timing, |i| i == 40 || i == 55 || i == 120),
            vec![(30, 75), (110, 140)]
        );
    }

    #[test]
    fn a_trigger_before_any_key_frame_waits_for_one() {
        let timing = Timing {
            before_ns: 0,
            after_ns: 5 * FRAME,
        };
        let mut r = Recorder::default();
        // Not kept: a clip could not start with it.
        let pushed = r.push(
            timing,
            Frame {
                time_ns: 0,
                key: false,
                hit: true,
            },
        );
        assert_eq!(pushed, (1, Action::Keep));
        let pushed = r.push(
            timing,
            Frame {
                time_ns: FRAME,
                key: true,
                hit: true,
            },
        );
        assert_eq!(pushed, (0, Action::Start { from_ring: 1 }));
    }

    #[test]
    fn the_ring_holds_one_gop_more_than_the_pre_roll() {
        let timing = Timing {
            before_ns: 10 * FRAME,
            after_ns: 0,
        };
        let mut r = Recorder::default();
        for i in 0..1000 {
            r.push(
                timing,
                Frame {
                    time_ns: i * FRAME,
                    key: i % 25 == 0,
                    hit: false,
                },
            );
            assert!(r.ring.len() <= 10 + 25 + 1, "{}", r.ring.len());
        }
    }
}
