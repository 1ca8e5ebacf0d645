//! Running times of one pipeline → running times of another: frames handed from an inner
//! pipeline (a connection, a client's media) to the pipeline that plays them keep their
//! spacing, start at the receiver's "now", and never go backwards across restarts. No two
//! frames are given the same time: a muxer downstream refuses (or silently drops) a frame
//! whose time equals the one before.

/// Maps the timestamps of one run of a stream (one connection) onto the receiver's running
/// time. [`Rebase::restart`] starts a new run; the first frame of each run is placed at the
/// receiver's current running time, or just after the last frame given out if that is later.
///
/// Within a run, the sender's times are kept as they are, but for two repairs that give
/// every frame a time of its own: decoding times strictly increase (a frame whose decoding
/// time is not after the previous one's is moved, presentation time too, to just after it),
/// and a frame given the same presentation time as the frame before it is placed just
/// after that frame. The second is what RTP streams need: `rtpjitterbuffer`, when its clock
/// skew estimate moves back by more than a frame (a loaded machine: packets that arrive
/// late, then some that arrive early), gives a frame the previous frame's time again
/// rather than an earlier one. A presentation time that goes back is kept: that is a
/// stream with B-frames, sent in decoding order.
#[derive(Debug, Default, Clone)]
pub struct Rebase {
    /// Receiver time minus sender time, in ns; fixed at the first frame of a run.
    offset: Option<i64>,
    /// The latest timestamp given out, in ns.
    last: Option<u64>,
    /// The previous frame of this run: its presentation time as the sender gave it, and
    /// as it was given out.
    previous_pts: Option<(u64, u64)>,
    /// The latest decoding time given out, in ns.
    last_dts: Option<u64>,
}

fn signed(ns: u64) -> i64 {
    i64::try_from(ns).unwrap_or(i64::MAX)
}

fn unsigned(ns: i64) -> u64 {
    u64::try_from(ns).unwrap_or(0)
}

impl Rebase {
    /// The stream starts again (a new connection): the next frame sets a new offset.
    pub fn restart(&mut self) {
        self.offset = None;
        self.previous_pts = None;
    }

    /// Maps a frame's `pts` and `dts` (sender running times, ns) given the receiver's running
    /// time `now` (ns). The difference between `pts` and `dts` is kept. A frame with neither
    /// is placed at `now` (or just after the last frame, if that is later).
    pub fn map(
        &mut self,
        now: u64,
        pts: Option<u64>,
        dts: Option<u64>,
    ) -> (Option<u64>, Option<u64>) {
        let floor = self.last.map_or(0, |last| last.saturating_add(1));
        let Some(reference) = dts.or(pts) else {
            let at = now.max(floor);
            self.last = Some(at);
            return (Some(at), Some(at));
        };
        let offset = match self.offset {
            Some(offset) => offset,
            None => {
                let start = now.max(floor);
                let offset = signed(start) - signed(reference);
                self.offset = Some(offset);
                offset
            }
        };
        let shift = |t: Option<u64>| t.map(|t| unsigned(signed(t).saturating_add(offset)));
        let (sent_pts, mut pts, mut dts) = (pts, shift(pts), shift(dts));
        // Decoding order: strictly forward, presentation time moved alike.
        if let (Some(at), Some(last)) = (dts, self.last_dts)
            && at <= last
        {
            let by = last.saturating_add(1) - at;
            dts = Some(at.saturating_add(by));
            pts = pts.map(|t| t.saturating_add(by));
        }
        // The previous frame's presentation time again: just after that frame.
        if let (Some(sent), Some(at), Some((previous_sent, previous_out))) =
            (sent_pts, pts, self.previous_pts)
            && sent == previous_sent
        {
            pts = Some(at.max(previous_out.saturating_add(1)));
        }
        if let (Some(sent), Some(at)) = (sent_pts, pts) {
            self.previous_pts = Some((sent, at));
        }
        if dts.is_some() {
            self.last_dts = dts;
        }
        let latest = pts.max(dts).unwrap_or(0);
        self.last = Some(self.last.map_or(latest, |last| last.max(latest)));
        (pts, dts)
    }
}

#[cfg(test)]
mod tests {
    use super::Rebase;

    const MS: u64 = 1_000_000;

    #[test]
    fn the_first_frame_starts_at_now_and_spacing_is_kept() {
        let mut r = Rebase::default();
        assert_eq!(
            r.map(5_000 * MS, Some(100 * MS), Some(100 * MS)),
            (Some(5_000 * MS), Some(5_000 * MS))
        );
        // Later frames follow the sender's clock, not the receiver's.
        assert_eq!(
            r.map(5_100 * MS, Some(140 * MS), Some(140 * MS)),
            (Some(5_040 * MS), Some(5_040 * MS))
        );
    }

    #[test]
    fn pts_dts_differences_are_kept() {
        let mut r = Rebase::default();
        let (pts, dts) = r.map(1_000 * MS, Some(180 * MS), Some(100 * MS));
        assert_eq!((pts, dts), (Some(1_080 * MS), Some(1_000 * MS)));
        let (pts, dts) = r.map(1_000 * MS, Some(140 * MS), Some(140 * MS));
        assert_eq!((pts, dts), (Some(1_040 * MS), Some(1_040 * MS)));
    }

    #[test]
    fn a_restart_continues_after_the_last_frame() {
        let mut r = Rebase::default();
        r.map(1_000 * MS, Some(0), Some(0));
        r.map(1_000 * MS, Some(900 * MS), Some(900 * MS));
        // The new connection starts its clock again at 0, and the receiver's clock has
        // not reached the last frame given out: the run continues just after it.
        r.restart();
        let (pts, _) = r.map(1_500 * MS, Some(0), Some(0));
        assert_eq!(pts, Some(1_900 * MS + 1));
        // Later, a restart at a time well past the last frame starts at now.
        r.restart();
        let (pts, _) = r.map(9_000 * MS, Some(7 * MS), Some(7 * MS));
        assert_eq!(pts, Some(9_000 * MS));
    }

    /// What `rtpjitterbuffer` gives under load (no decoding times, as RTP depayloaders
    /// give none): a frame with the previous frame's time, once or several times over.
    #[test]
    fn a_repeated_presentation_time_is_placed_just_after_the_frame_before() {
        let mut r = Rebase::default();
        let mut given = Vec::new();
        for sent in [100, 133, 133, 133, 200, 233] {
            given.push(r.map(1_000 * MS, Some(sent * MS), None).0.expect("a time"));
        }
        assert_eq!(
            given,
            [
                1_000 * MS,
                1_033 * MS,
                1_033 * MS + 1,
                1_033 * MS + 2,
                1_100 * MS,
                1_133 * MS
            ]
        );
        // The same after a reconnection, from its first frame on.
        r.restart();
        let first = r.map(1_050 * MS, Some(7 * MS), None).0.expect("a time");
        assert_eq!(first, 1_133 * MS + 1);
        let second = r.map(1_050 * MS, Some(7 * MS), None).0.expect("a time");
        assert_eq!(second, first + 1);
    }

    #[test]
    fn decoding_times_strictly_increase_and_presentation_times_move_alike() {
        let mut r = Rebase::default();
        assert_eq!(
            r.map(1_000 * MS, Some(180 * MS), Some(100 * MS)),
            (Some(1_080 * MS), Some(1_000 * MS))
        );
        // The same decoding time again, then one before it.
        assert_eq!(
            r.map(1_000 * MS, Some(140 * MS), Some(100 * MS)),
            (Some(1_040 * MS + 1), Some(1_000 * MS + 1))
        );
        assert_eq!(
            r.map(1_000 * MS, Some(120 * MS), Some(90 * MS)),
            (Some(1_030 * MS + 2), Some(1_000 * MS + 2))
        );
    }

    /// B-frames sent in decoding order with presentation times alone: their times go
    /// back, and are kept.
    #[test]
    fn presentation_times_of_reordered_frames_are_kept() {
        let mut r = Rebase::default();
        let given: Vec<u64> = [0, 100, 33, 66, 200]
            .into_iter()
            .map(|sent| r.map(0, Some(sent * MS), None).0.expect("a time"))
            .collect();
        assert_eq!(given, [0, 100 * MS, 33 * MS, 66 * MS, 200 * MS]);
    }

    #[test]
    fn frames_without_timestamps_are_placed_at_now() {
        let mut r = Rebase::default();
        assert_eq!(r.map(300, None, None), (Some(300), Some(300)));
        assert_eq!(r.map(200, None, None), (Some(301), Some(301)));
    }

    #[test]
    fn huge_values_saturate_instead_of_overflowing() {
        let mut r = Rebase::default();
        let (pts, dts) = r.map(u64::MAX, Some(0), Some(0));
        assert!(pts.is_some() && dts.is_some());
        let (pts, _) = r.map(0, Some(u64::MAX), None);
        assert!(pts.is_some());
    }
}
