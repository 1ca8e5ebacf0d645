//! What `vplstamp` reads of an H.265 stream: the sequence and picture parameter sets and
//! the start of each picture's first slice segment, enough to compute its picture order
//! count (ITU-T H.265 §7.3.2.2, §7.3.2.3, §7.3.6.1, §8.3.1), and the time line that turns
//! order counts into presentation times, leading pictures included.

use std::collections::HashMap;

use super::nal::{Bits, unescape};

/// NAL unit types (Table 7-1) that timing reads.
const RADL_N: u8 = 6;
const RASL_R: u8 = 9;
const BLA_W_LP: u8 = 16;
const BLA_W_RADL: u8 = 17;
const IDR_W_RADL: u8 = 19;
const IDR_N_LP: u8 = 20;
const CRA: u8 = 21;
const SPS: u8 = 33;
const PPS: u8 = 34;
const END_OF_SEQUENCE: u8 = 36;
const END_OF_BITSTREAM: u8 = 37;

/// What a sequence parameter set says that timing needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Sps {
    pub separate_colour_plane: bool,
    pub log2_max_poc_lsb: u32,
    /// How many pictures may precede a picture in decoding order and follow it in output
    /// order: `sps_max_num_reorder_pics` of the highest sub-layer.
    pub reorder: u32,
    /// Frames a second from the VUI's timing, as a fraction.
    pub rate: Option<(u32, u32)>,
    /// Each picture is one field (the VUI's `field_seq_flag`): interlaced video.
    pub fields: bool,
}

/// What a picture parameter set says that the slice segment header up to the order count
/// needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pps {
    pub sps: u32,
    pub output_flag_present: bool,
    pub extra_slice_header_bits: u32,
}

/// Skips `profile_tier_level(1, max_sub_layers_minus1)` (§7.3.3).
fn skip_profile_tier_level(r: &mut Bits, sub_layers: usize) -> Option<()> {
    // The general profile (88 bits) and level (8 bits).
    r.skip(96)?;
    let mut present = [(false, false); 6];
    for p in present.iter_mut().take(sub_layers) {
        *p = (r.flag()?, r.flag()?);
    }
    if sub_layers > 0 {
        r.skip(2 * (8 - sub_layers))?;
    }
    for &(profile, level) in present.iter().take(sub_layers) {
        if profile {
            r.skip(88)?;
        }
        if level {
            r.skip(8)?;
        }
    }
    Some(())
}

/// Skips `scaling_list_data()` (§7.3.4).
fn skip_scaling_lists(r: &mut Bits) -> Option<()> {
    for size in 0..4u32 {
        for _ in (0..6).step_by(if size == 3 { 3 } else { 1 }) {
            if r.flag()? {
                if size > 1 {
                    r.se()?;
                }
                for _ in 0..64.min(1 << (4 + 2 * size)) {
                    r.se()?;
                }
            } else {
                r.ue()?;
            }
        }
    }
    Some(())
}

/// Skips the SPS's short-term reference picture set `index` (§7.3.7), given the sizes of
/// the sets before it; returns its size (`NumDeltaPocs`).
fn skip_short_term_set(r: &mut Bits, index: usize, sizes: &[u32]) -> Option<u32> {
    if index > 0 && r.flag()? {
        // Predicted from the set before it (`delta_idx_minus1` is in slice headers only).
        r.bit()?;
        r.ue()?;
        let mut size = 0;
        for _ in 0..=*sizes.get(index - 1)? {
            // `use_delta_flag`, present only where `used_by_curr_pic_flag` is 0, is 1 when
            // absent.
            if r.flag()? || r.flag()? {
                size += 1;
            }
        }
        return Some(size);
    }
    let negative = r.ue()?;
    let positive = r.ue()?;
    if negative > 16 || positive > 16 {
        return None;
    }
    for _ in 0..negative + positive {
        r.ue()?;
        r.bit()?;
    }
    Some(negative + positive)
}

/// Parses an SPS NAL unit (its two header bytes included, escaped as in the stream).
pub fn parse_sps(nal: &[u8]) -> Option<(u32, Sps)> {
    let data = unescape(nal.get(2..)?);
    let mut r = Bits::new(&data);
    r.bits(4)?;
    let sub_layers = r.bits(3)? as usize;
    r.bit()?;
    if sub_layers > 6 {
        return None;
    }
    skip_profile_tier_level(&mut r, sub_layers)?;
    let id = r.ue()?;
    let chroma = r.ue()?;
    let separate_colour_plane = chroma == 3 && r.flag()?;
    r.ue()?;
    r.ue()?;
    if r.flag()? {
        for _ in 0..4 {
            r.ue()?;
        }
    }
    r.ue()?;
    r.ue()?;
    let log2_max_poc_lsb = r.ue()? + 4;
    if id > 15 || log2_max_poc_lsb > 16 {
        return None;
    }
    let every_sub_layer = r.flag()?;
    let mut reorder = 0;
    for _ in if every_sub_layer { 0 } else { sub_layers }..=sub_layers {
        r.ue()?;
        reorder = r.ue()?;
        r.ue()?;
    }
    if reorder > 16 {
        return None;
    }
    let mut sps = Sps {
        separate_colour_plane,
        log2_max_poc_lsb,
        reorder,
        rate: None,
        fields: false,
    };
    // What follows is optional to timing: a VUI that does not parse leaves the defaults.
    let _ = to_vui(&mut r, &sps).and_then(|()| vui(&mut r, &mut sps));
    Some((id, sps))
}

/// Reads on from the reorder depths to the VUI; `None` where the SPS has none.
fn to_vui(r: &mut Bits, sps: &Sps) -> Option<()> {
    for _ in 0..6 {
        r.ue()?;
    }
    if r.flag()? && r.flag()? {
        skip_scaling_lists(r)?;
    }
    r.bit()?;
    r.bit()?;
    if r.flag()? {
        r.skip(8)?;
        r.ue()?;
        r.ue()?;
        r.bit()?;
    }
    let sets = r.ue()?;
    if sets > 64 {
        return None;
    }
    let mut sizes = Vec::with_capacity(sets as usize);
    for index in 0..sets as usize {
        let size = skip_short_term_set(r, index, &sizes)?;
        sizes.push(size);
    }
    if r.flag()? {
        let long_term = r.ue()?;
        if long_term > 32 {
            return None;
        }
        for _ in 0..long_term {
            r.skip(sps.log2_max_poc_lsb as usize + 1)?;
        }
    }
    r.bit()?;
    r.bit()?;
    r.flag()?.then_some(())
}

/// Reads the VUI (§E.2.1) as far as its timing.
fn vui(r: &mut Bits, sps: &mut Sps) -> Option<()> {
    if r.flag()? && r.bits(8)? == 255 {
        r.skip(32)?;
    }
    if r.flag()? {
        r.bit()?;
    }
    if r.flag()? {
        r.skip(4)?;
        if r.flag()? {
            r.skip(24)?;
        }
    }
    if r.flag()? {
        r.ue()?;
        r.ue()?;
    }
    r.bit()?;
    sps.fields = r.flag()?;
    r.bit()?;
    if r.flag()? {
        for _ in 0..4 {
            r.ue()?;
        }
    }
    if r.flag()? {
        let units = r.bits(32)?;
        let scale = r.bits(32)?;
        if units > 0 && scale > 0 {
            sps.rate = Some((scale, units));
        }
    }
    Some(())
}

/// Parses a PPS NAL unit: its id and what the slice segment header needs of it.
pub fn parse_pps(nal: &[u8]) -> Option<(u32, Pps)> {
    let data = unescape(nal.get(2..nal.len().min(16))?);
    let mut r = Bits::new(&data);
    let id = r.ue()?;
    let sps = r.ue()?;
    r.bit()?;
    let output_flag_present = r.flag()?;
    let extra_slice_header_bits = r.bits(3)?;
    (id <= 63 && sps <= 15).then_some((
        id,
        Pps {
            sps,
            output_flag_present,
            extra_slice_header_bits,
        },
    ))
}

/// The NAL length size and the parameter sets of an `hvcC` record (caps' `codec_data`,
/// ISO/IEC 14496-15 §8.3.3).
pub fn hvc_config(data: &[u8]) -> Option<(usize, Vec<&[u8]>)> {
    let size = usize::from(*data.get(21)? & 3) + 1;
    let mut sets = Vec::new();
    let mut i = 23;
    for _ in 0..*data.get(22)? {
        let count = u16::from_be_bytes([*data.get(i + 1)?, *data.get(i + 2)?]);
        i += 3;
        for _ in 0..count {
            let len = usize::from(u16::from_be_bytes([*data.get(i)?, *data.get(i + 1)?]));
            sets.push(data.get(i + 2..i + 2 + len)?);
            i += 2 + len;
        }
    }
    Some((size, sets))
}

/// The most significant part of a picture order count (§8.3.1): the previous one's, or
/// a wrap forward or back where the least significant part jumped by half its range.
pub fn order_count_msb(lsb: i64, (prev_msb, prev_lsb): (i64, i64), max: i64) -> i64 {
    if lsb < prev_lsb && prev_lsb - lsb >= max / 2 {
        prev_msb + max
    } else if lsb > prev_lsb && lsb - prev_lsb > max / 2 {
        prev_msb - max
    } else {
        prev_msb
    }
}

/// Why a picture's presentation time cannot be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum Unsupported {
    /// Each picture is one field (interlaced video, `field_seq_flag`).
    Fields,
}

/// One picture: its order count, where it stands among the pictures around it, and the
/// reorder depth of its SPS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Picture {
    pub poc: i64,
    /// Starts a coded video sequence, its order counts counted afresh: an IDR or BLA
    /// picture, or a CRA picture first in the stream or after an end of sequence
    /// (`NoRaslOutputFlag`, §8.1.3).
    pub starts_sequence: bool,
    /// May have leading pictures (IDR_W_RADL, BLA_W_LP, BLA_W_RADL, CRA).
    pub may_lead: bool,
    /// A leading picture (RADL, RASL): decoded after its IRAP picture, shown before it.
    pub leading: bool,
    pub reorder: u32,
}

/// Parameter sets seen so far and the picture order count state (§8.3.1).
#[derive(Default)]
pub struct Pocs {
    sps: HashMap<u32, Sps>,
    pps: HashMap<u32, Pps>,
    /// The order count of `prevTid0Pic`, the last picture of temporal sub-layer 0 that
    /// is neither leading nor a sub-layer non-reference picture: (msb, lsb).
    prev_tid0: (i64, i64),
    /// A picture came since the stream began or since its last end of sequence.
    in_sequence: bool,
}

impl Pocs {
    /// Reads one NAL unit; returns the picture of a first slice segment whose parameter
    /// sets are known.
    pub fn nal(&mut self, nal: &[u8]) -> Option<Result<Picture, Unsupported>> {
        let header = nal.get(..2)?;
        let kind = (header[0] >> 1) & 0x3f;
        let layer = ((header[0] & 1) << 5) | (header[1] >> 3);
        let temporal_id = (header[1] & 7).checked_sub(1)?;
        // Only the base layer (a multi-layer stream's others are not timed here).
        if layer != 0 {
            return None;
        }
        match kind {
            SPS => {
                let (id, sps) = parse_sps(nal)?;
                self.sps.insert(id, sps);
                None
            }
            PPS => {
                let (id, pps) = parse_pps(nal)?;
                self.pps.insert(id, pps);
                None
            }
            END_OF_SEQUENCE | END_OF_BITSTREAM => {
                self.in_sequence = false;
                None
            }
            0..=RASL_R | BLA_W_LP..=CRA => self.slice(nal, kind, temporal_id),
            _ => None,
        }
    }

    /// The rate the stream's SPS declares, if any.
    pub fn rate(&self) -> Option<(u32, u32)> {
        self.sps.values().find_map(|s| s.rate)
    }

    fn slice(
        &mut self,
        nal: &[u8],
        kind: u8,
        temporal_id: u8,
    ) -> Option<Result<Picture, Unsupported>> {
        let data = unescape(nal.get(2..nal.len().min(64))?);
        let mut r = Bits::new(&data);
        // Only a picture's first slice segment starts it.
        if !r.flag()? {
            return None;
        }
        let irap = kind >= BLA_W_LP;
        if irap {
            r.bit()?;
        }
        let pps = self.pps.get(&r.ue()?)?;
        let sps = self.sps.get(&pps.sps)?;
        if sps.fields {
            return Some(Err(Unsupported::Fields));
        }
        r.skip(pps.extra_slice_header_bits as usize)?;
        r.ue()?;
        if pps.output_flag_present {
            r.bit()?;
        }
        if sps.separate_colour_plane {
            r.bits(2)?;
        }
        let idr = matches!(kind, IDR_W_RADL | IDR_N_LP);
        let lsb = if idr {
            0
        } else {
            i64::from(r.bits(sps.log2_max_poc_lsb)?)
        };
        let starts_sequence = irap && (kind != CRA || !self.in_sequence);
        let msb = if starts_sequence {
            0
        } else {
            order_count_msb(lsb, self.prev_tid0, 1 << sps.log2_max_poc_lsb)
        };
        let leading = (RADL_N..=RASL_R).contains(&kind);
        let sub_layer_non_reference = kind <= 14 && kind.is_multiple_of(2);
        if temporal_id == 0 && !leading && !sub_layer_non_reference {
            self.prev_tid0 = (msb, lsb);
        }
        self.in_sequence = true;
        Some(Ok(Picture {
            poc: msb + lsb,
            starts_sequence,
            may_lead: matches!(kind, BLA_W_LP | BLA_W_RADL | IDR_W_RADL | CRA),
            leading,
            reorder: sps.reorder,
        }))
    }
}

/// One access unit for the [`Timeline`], in decoding order; times in nanoseconds.
#[derive(Debug)]
pub struct Unit<T> {
    pub item: T,
    pub dts: u64,
    pub duration: u64,
    pub picture: Option<Picture>,
}

/// The most access units held back behind a picture that starts a sequence, waiting for
/// the end of its leading pictures (a stream with more is not one an encoder writes).
const MAX_HELD: usize = 64;

/// Turns order counts into presentation times: a picture is shown as many frames after
/// the first picture of its coded video sequence as its order count is above that
/// picture's, the sequence starting at the decoding time of its IRAP picture plus the
/// stream's reorder depth, as an encoder's own times do.
///
/// Leading pictures come after their IRAP picture in decoding order and before it in
/// output order: a picture that starts a sequence and may have them is held back until
/// the first picture that is not one of them, whose arrival says how many frames the
/// sequence starts before its IRAP picture.
pub struct Timeline<T> {
    /// The depth of reordering, fixed at the first picture so times never go back.
    delay: Option<i64>,
    /// The decoding time of the current sequence's IRAP picture and the lowest order count
    /// of the sequence known when it was placed.
    anchor: Option<(u64, i64)>,
    held: Vec<Unit<T>>,
}

impl<T> Default for Timeline<T> {
    fn default() -> Self {
        Timeline {
            delay: None,
            anchor: None,
            held: Vec::new(),
        }
    }
}

impl<T> Timeline<T> {
    /// Takes the next access unit in decoding order; returns, in the same order, those
    /// whose presentation time is now known, with it.
    pub fn push(&mut self, unit: Unit<T>) -> Vec<(T, u64)> {
        let mut out = Vec::new();
        if !self.held.is_empty() {
            let leading = unit.picture.is_none_or(|p| p.leading);
            if leading && self.held.len() < MAX_HELD {
                self.held.push(unit);
                return out;
            }
            self.release(&mut out);
        }
        match unit.picture {
            Some(p) if p.starts_sequence && p.may_lead => self.held.push(unit),
            Some(p) => {
                if p.starts_sequence || self.anchor.is_none() {
                    self.anchor = Some((unit.dts, p.poc));
                }
                out.push(self.stamp(unit));
            }
            None => out.push((unit.item, unit.dts)),
        }
        out
    }

    /// The end of the stream: the units still held, with their times.
    pub fn finish(&mut self) -> Vec<(T, u64)> {
        let mut out = Vec::new();
        self.release(&mut out);
        out
    }

    /// Forgets the place in the stream (a flush): what is held is dropped.
    pub fn reset(&mut self) {
        self.anchor = None;
        self.held.clear();
    }

    fn release(&mut self, out: &mut Vec<(T, u64)>) {
        let held = std::mem::take(&mut self.held);
        if let Some((dts, Some(irap))) = held.first().map(|u| (u.dts, u.picture)) {
            let first = held
                .iter()
                .filter_map(|u| u.picture)
                .filter(|p| p.leading)
                .map(|p| p.poc)
                .fold(irap.poc, i64::min);
            self.anchor = Some((dts, first));
        }
        for unit in held {
            out.push(self.stamp(unit));
        }
    }

    fn stamp(&mut self, unit: Unit<T>) -> (T, u64) {
        let (Some(p), Some((anchor_dts, anchor_poc))) = (unit.picture, self.anchor) else {
            return (unit.item, unit.dts);
        };
        let delay = *self.delay.get_or_insert(i64::from(p.reorder));
        let steps = p.poc.saturating_sub(anchor_poc).saturating_add(delay);
        let span = unit.duration.saturating_mul(steps.unsigned_abs());
        let pts = if steps >= 0 {
            anchor_dts.saturating_add(span)
        } else {
            anchor_dts.saturating_sub(span)
        };
        (unit.item, pts.max(unit.dts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `hvcC` record h265parse made of an x265 stream (`bframes=3:b-pyramid=1`,
    /// Main, 160x128, 25 fps).
    const X265_HVCC: &str = "0101600000009000000000003ff000fcfdf8f800000f03200001001840010c01\
        ffff01600000030090000003000003003f959409210001003142010101600000030090000003000003\
        003fa0142020596565924cafff000100016a0c0c0c08000003000800000300c84022000100074401c1\
        72b46240";

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn x265_parameter_sets() {
        let record = hex(X265_HVCC);
        let (size, sets) = hvc_config(&record).expect("hvcC");
        assert_eq!(size, 4);
        assert_eq!(sets.len(), 3, "VPS, SPS, PPS");
        let (id, sps) = parse_sps(sets[1]).expect("sps");
        assert_eq!(id, 0);
        assert_eq!(sps.log2_max_poc_lsb, 8, "{sps:?}");
        assert_eq!(sps.reorder, 2, "x265's B-pyramid");
        assert_eq!(
            sps.rate,
            Some((25, 1)),
            "the VUI's timing, read past the RPS"
        );
        assert!(!sps.fields && !sps.separate_colour_plane);
        let (id, pps) = parse_pps(sets[2]).expect("pps");
        assert_eq!(id, 0);
        assert_eq!(
            pps,
            Pps {
                sps: 0,
                output_flag_present: false,
                extra_slice_header_bits: 0
            }
        );
    }

    #[test]
    fn order_count_wraps_forward_and_back() {
        let max = 16;
        assert_eq!(order_count_msb(2, (0, 14), max), 16, "14 → 18");
        assert_eq!(order_count_msb(14, (16, 2), max), 0, "18 → 14");
        assert_eq!(
            order_count_msb(9, (16, 2), max),
            16,
            "less than half the range"
        );
    }

    /// Writes bits for the slice segment headers of the tests.
    struct Writer(Vec<bool>);

    impl Writer {
        fn bits(&mut self, v: u32, n: u32) -> &mut Self {
            for i in (0..n).rev() {
                self.0.push((v >> i) & 1 == 1);
            }
            self
        }

        fn ue(&mut self, v: u32) -> &mut Self {
            let n = 32 - (v + 1).leading_zeros();
            self.bits(0, n - 1).bits(v + 1, n)
        }

        fn nal(&mut self, kind: u8, temporal_id: u8) -> Vec<u8> {
            self.0.push(true);
            while !self.0.len().is_multiple_of(8) {
                self.0.push(false);
            }
            let mut out = vec![kind << 1, temporal_id + 1];
            out.extend(
                self.0
                    .chunks(8)
                    .map(|c| c.iter().fold(0u8, |b, &bit| (b << 1) | u8::from(bit))),
            );
            out
        }
    }

    /// A stream's pictures, each `(NAL type, temporal id, order count lsb)`, read with the
    /// x265 parameter sets (4 bits of lsb, as x265's `log2-max-poc-lsb=4` writes).
    fn order_counts(pictures: &[(u8, u8, u32)]) -> Vec<Picture> {
        let mut pocs = Pocs::default();
        let record = hex(X265_HVCC);
        let (_, sets) = hvc_config(&record).expect("hvcC");
        let (id, mut sps) = parse_sps(sets[1]).expect("sps");
        sps.log2_max_poc_lsb = 4;
        pocs.sps.insert(id, sps);
        pocs.nal(sets[2]);
        pictures
            .iter()
            .map(|&(kind, tid, lsb)| {
                let mut w = Writer(Vec::new());
                w.bits(1, 1);
                if kind >= BLA_W_LP {
                    w.bits(0, 1);
                }
                w.ue(0).ue(1);
                if !matches!(kind, IDR_W_RADL | IDR_N_LP) {
                    w.bits(lsb, 4);
                }
                let nal = w.nal(kind, tid);
                pocs.nal(&nal).expect("a picture").expect("supported")
            })
            .collect()
    }

    #[test]
    fn order_counts_follow_the_previous_sub_layer_0_reference_picture() {
        let pictures = order_counts(&[
            (IDR_N_LP, 0, 0),
            (1, 0, 8),   // TRAIL_R 8
            (0, 0, 4),   // TRAIL_N 4: not prevTid0Pic
            (1, 0, 15),  // 15
            (1, 1, 2),   // 18 at temporal sub-layer 1: not prevTid0Pic
            (CRA, 0, 6), // 22, the CRA mid-stream counts on
            (8, 0, 3),   // RASL_N 19
            (1, 0, 14),  // 30
            (1, 0, 1),   // 33
        ]);
        let pocs: Vec<i64> = pictures.iter().map(|p| p.poc).collect();
        assert_eq!(pocs, [0, 8, 4, 15, 18, 22, 19, 30, 33]);
        assert!(pictures[0].starts_sequence && !pictures[0].may_lead);
        assert!(!pictures[5].starts_sequence && pictures[5].may_lead);
        assert!(pictures[6].leading);
    }

    #[test]
    fn a_cra_first_or_after_an_end_of_sequence_starts_one() {
        let mut pocs = order_counts(&[(CRA, 0, 12)]);
        assert_eq!(pocs.remove(0).poc, 12);
        let mut state = Pocs::default();
        let record = hex(X265_HVCC);
        let (_, sets) = hvc_config(&record).expect("hvcC");
        for set in &sets {
            state.nal(set);
        }
        let slice = |kind: u8, lsb: u32| {
            let mut w = Writer(Vec::new());
            w.bits(1, 1);
            if kind >= BLA_W_LP {
                w.bits(0, 1);
            }
            w.ue(0).ue(1).bits(lsb, 8);
            w.nal(kind, 0)
        };
        let first = state.nal(&slice(CRA, 200)).expect("picture").expect("ok");
        assert!(first.starts_sequence && first.poc == 200);
        let next = state.nal(&slice(1, 10)).expect("picture").expect("ok");
        assert_eq!(next.poc, 266, "wrapped past 255");
        let again = state.nal(&slice(CRA, 40)).expect("picture").expect("ok");
        assert!(!again.starts_sequence && again.poc == 296);
        assert_eq!(state.nal(&[END_OF_SEQUENCE << 1, 1]), None);
        let after = state.nal(&slice(CRA, 40)).expect("picture").expect("ok");
        assert!(after.starts_sequence && after.poc == 40);
    }

    fn picture(poc: i64, kind: u8) -> Option<Picture> {
        Some(Picture {
            poc,
            starts_sequence: matches!(kind, IDR_W_RADL | IDR_N_LP),
            may_lead: kind == IDR_W_RADL,
            leading: (RADL_N..=RASL_R).contains(&kind),
            reorder: 2,
        })
    }

    /// Presentation times, in frames, of pictures given in decoding order as
    /// `(order count, NAL type)`, one frame apart in decoding time.
    fn times(pictures: &[(i64, u8)]) -> Vec<u64> {
        let mut line = Timeline::default();
        let mut out = Vec::new();
        for (i, &(poc, kind)) in pictures.iter().enumerate() {
            out.extend(line.push(Unit {
                item: i,
                dts: i as u64,
                duration: 1,
                picture: picture(poc, kind),
            }));
        }
        out.extend(line.finish());
        let order: Vec<usize> = out.iter().map(|&(i, _)| i).collect();
        assert_eq!(
            order,
            (0..pictures.len()).collect::<Vec<_>>(),
            "decoding order"
        );
        out.into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn b_pyramid_times_follow_output_order_after_the_reorder_delay() {
        // I0 P4 B2 b1 b3 P8 B6 b5 b7
        let t = times(&[
            (0, IDR_N_LP),
            (4, 1),
            (2, 1),
            (1, 0),
            (3, 0),
            (8, 1),
            (6, 1),
            (5, 0),
            (7, 0),
        ]);
        assert_eq!(t, [2, 6, 4, 3, 5, 10, 8, 7, 9]);
    }

    #[test]
    fn leading_pictures_of_a_later_idr_follow_the_sequence_before_it() {
        // I0 P3 b1 b2 | IDR_W_RADL 0, its RADL -2 and -1, then P3 b1 b2.
        let t = times(&[
            (0, IDR_N_LP),
            (3, 1),
            (1, 0),
            (2, 0),
            (0, IDR_W_RADL),
            (-2, 7),
            (-1, 6),
            (3, 1),
            (1, 0),
            (2, 0),
        ]);
        assert_eq!(t, [2, 5, 3, 4, 8, 6, 7, 11, 9, 10]);
    }

    #[test]
    fn an_idr_without_leading_pictures_is_held_only_until_the_next_picture() {
        let mut line = Timeline::default();
        let unit = |item: u64, poc, kind| Unit {
            item,
            dts: item * 40,
            duration: 40,
            picture: picture(poc, kind),
        };
        assert!(line.push(unit(0, 0, IDR_W_RADL)).is_empty());
        assert_eq!(line.push(unit(1, 1, 1)), [(0, 80), (1, 120)]);
        assert_eq!(line.push(unit(2, 0, IDR_W_RADL)), []);
        assert_eq!(line.finish(), [(2, 160)]);
    }
}
