//! What `vplstamp` reads of an H.264 stream: the sequence and picture parameter sets and
//! the start of each picture's first slice, enough to compute its picture order count
//! (ITU-T H.264 §7.3.2.1, §7.3.2.2, §7.3.3, §8.2.1) and so its presentation time.

use std::collections::HashMap;

use super::nal::{Bits, unescape};

/// What a sequence parameter set says that timing needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Sps {
    pub separate_colour_plane: bool,
    pub log2_max_frame_num: u32,
    pub poc_type: u32,
    pub log2_max_poc_lsb: u32,
    pub frame_mbs_only: bool,
    /// How many frames may precede a frame in decoding order and follow it in output
    /// order: the VUI's `max_num_reorder_frames`, or else the most the level's picture
    /// buffer can hold (0 where pictures are never reordered, picture order count type 2).
    pub reorder: u32,
    /// Frames a second from the VUI's timing, as a fraction.
    pub rate: Option<(u32, u32)>,
}

fn skip_scaling_list(r: &mut Bits, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i32, 8i32);
    for _ in 0..size {
        if next != 0 {
            let delta = r.se()?;
            next = (last + delta + 256).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

fn skip_hrd(r: &mut Bits) -> Option<()> {
    let count = r.ue()? + 1;
    if count > 32 {
        return None;
    }
    r.bits(8)?;
    for _ in 0..count {
        r.ue()?;
        r.ue()?;
        r.bit()?;
    }
    r.bits(20)?;
    Some(())
}

/// The largest decoded picture buffer of a level, in macroblocks (Table A-1).
fn max_dpb_mbs(level: u32) -> u32 {
    match level {
        0..=11 => 900,
        12 | 13 | 20 => 2376,
        21 => 4752,
        22 | 30 => 8100,
        31 => 18000,
        32 => 20480,
        40 | 41 => 32768,
        42 => 34816,
        50 => 110_400,
        51 | 52 => 184_320,
        _ => 696_320,
    }
}

/// Parses an SPS NAL unit (its header byte included, escaped as in the stream).
pub fn parse_sps(nal: &[u8]) -> Option<(u32, Sps)> {
    let data = unescape(nal.get(1..)?);
    let mut r = Bits::new(&data);
    let profile = r.bits(8)?;
    r.bits(8)?;
    let level = r.bits(8)?;
    let id = r.ue()?;
    let mut separate_colour_plane = false;
    if [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].contains(&profile) {
        let chroma = r.ue()?;
        if chroma == 3 {
            separate_colour_plane = r.flag()?;
        }
        r.ue()?;
        r.ue()?;
        r.bit()?;
        if r.flag()? {
            for i in 0..if chroma == 3 { 12 } else { 8 } {
                if r.flag()? {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    let log2_max_frame_num = r.ue()? + 4;
    let poc_type = r.ue()?;
    let mut log2_max_poc_lsb = 0;
    match poc_type {
        0 => log2_max_poc_lsb = r.ue()? + 4,
        1 => {
            r.bit()?;
            r.se()?;
            r.se()?;
            for _ in 0..r.ue()?.min(255) {
                r.se()?;
            }
        }
        _ => {}
    }
    if log2_max_frame_num > 16 || log2_max_poc_lsb > 16 {
        return None;
    }
    r.ue()?;
    r.bit()?;
    let width_mbs = r.ue()? + 1;
    let height_units = r.ue()? + 1;
    let frame_mbs_only = r.flag()?;
    let height_mbs = height_units * if frame_mbs_only { 1 } else { 2 };
    let by_level = (max_dpb_mbs(level) / (width_mbs * height_mbs).max(1)).clamp(1, 16);
    let mut sps = Sps {
        separate_colour_plane,
        log2_max_frame_num,
        poc_type,
        log2_max_poc_lsb,
        frame_mbs_only,
        reorder: if poc_type == 2 { 0 } else { by_level },
        rate: None,
    };
    // What follows is optional to timing: a VUI that does not parse leaves the defaults.
    let _ = vui(&mut r, &mut sps);
    Some((id, sps))
}

fn vui(r: &mut Bits, sps: &mut Sps) -> Option<()> {
    if !sps.frame_mbs_only {
        r.bit()?;
    }
    r.bit()?;
    if r.flag()? {
        r.ue()?;
        r.ue()?;
        r.ue()?;
        r.ue()?;
    }
    if !r.flag()? {
        return Some(());
    }
    if r.flag()? && r.bits(8)? == 255 {
        r.bits(32)?;
    }
    if r.flag()? {
        r.bit()?;
    }
    if r.flag()? {
        r.bits(4)?;
        if r.flag()? {
            r.bits(24)?;
        }
    }
    if r.flag()? {
        r.ue()?;
        r.ue()?;
    }
    if r.flag()? {
        let units = r.bits(32)?;
        let scale = r.bits(32)?;
        r.bit()?;
        if units > 0 && scale > 0 {
            sps.rate = Some((scale, units.saturating_mul(2)));
        }
    }
    let nal_hrd = r.flag()?;
    if nal_hrd {
        skip_hrd(r)?;
    }
    let vcl_hrd = r.flag()?;
    if vcl_hrd {
        skip_hrd(r)?;
    }
    if nal_hrd || vcl_hrd {
        r.bit()?;
    }
    r.bit()?;
    if r.flag()? {
        r.bit()?;
        for _ in 0..4 {
            r.ue()?;
        }
        let reorder = r.ue()?;
        if reorder <= 16 {
            sps.reorder = reorder;
        }
    }
    Some(())
}

/// Parses a PPS NAL unit: its id and the id of its SPS.
pub fn parse_pps(nal: &[u8]) -> Option<(u32, u32)> {
    let data = unescape(nal.get(1..nal.len().min(16))?);
    let mut r = Bits::new(&data);
    Some((r.ue()?, r.ue()?))
}

/// Why a picture's presentation time cannot be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum Unsupported {
    /// Picture order count type 1 (rare: no common encoder writes it).
    PocType1,
    /// Pictures coded as separate fields (interlaced).
    Fields,
}

/// Parameter sets seen so far and the picture order count state (§8.2.1.1).
#[derive(Default)]
pub struct Pocs {
    sps: HashMap<u32, Sps>,
    pps: HashMap<u32, u32>,
    prev_msb: i64,
    prev_lsb: i64,
}

/// One picture: its order count, whether it starts a new sequence (IDR), and the reorder
/// depth of its SPS.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Picture {
    pub poc: i64,
    pub idr: bool,
    pub reorder: u32,
    pub in_order: bool,
}

impl Pocs {
    /// Reads one NAL unit; returns the picture of a slice whose parameter sets are known.
    pub fn nal(&mut self, nal: &[u8]) -> Option<Result<Picture, Unsupported>> {
        let header = *nal.first()?;
        let ref_idc = (header >> 5) & 3;
        match header & 0x1f {
            7 => {
                let (id, sps) = parse_sps(nal)?;
                self.sps.insert(id, sps);
                None
            }
            8 => {
                let (id, sps) = parse_pps(nal)?;
                self.pps.insert(id, sps);
                None
            }
            kind @ (1 | 5) => self.slice(nal, kind == 5, ref_idc != 0),
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
        idr: bool,
        reference: bool,
    ) -> Option<Result<Picture, Unsupported>> {
        let data = unescape(nal.get(1..nal.len().min(48))?);
        let mut r = Bits::new(&data);
        r.ue()?;
        r.ue()?;
        let pps = r.ue()?;
        let sps = self.sps.get(self.pps.get(&pps)?)?;
        if sps.separate_colour_plane {
            r.bits(2)?;
        }
        r.bits(sps.log2_max_frame_num)?;
        if !sps.frame_mbs_only && r.flag()? {
            return Some(Err(Unsupported::Fields));
        }
        if idr {
            r.ue()?;
        }
        let reorder = sps.reorder;
        let poc = match sps.poc_type {
            0 => {
                let lsb = i64::from(r.bits(sps.log2_max_poc_lsb)?);
                let max = 1i64 << sps.log2_max_poc_lsb;
                if idr {
                    self.prev_msb = 0;
                    self.prev_lsb = 0;
                }
                let (prev_msb, prev_lsb) = (self.prev_msb, self.prev_lsb);
                let msb = if lsb < prev_lsb && prev_lsb - lsb >= max / 2 {
                    prev_msb + max
                } else if lsb > prev_lsb && lsb - prev_lsb > max / 2 {
                    prev_msb - max
                } else {
                    prev_msb
                };
                if reference {
                    self.prev_msb = msb;
                    self.prev_lsb = lsb;
                }
                msb + lsb
            }
            1 => return Some(Err(Unsupported::PocType1)),
            _ => 0,
        };
        Some(Ok(Picture {
            poc,
            idr,
            reorder,
            in_order: sps.poc_type == 2,
        }))
    }
}

/// The NAL length size and the parameter sets of an `avcC` record (caps' `codec_data`).
pub fn avc_config(data: &[u8]) -> Option<(usize, Vec<&[u8]>)> {
    let size = usize::from(*data.get(4)? & 3) + 1;
    let mut sets = Vec::new();
    let mut i = 5;
    for mask in [0x1f, 0xff] {
        let count = *data.get(i)? & mask;
        i += 1;
        for _ in 0..count {
            let len = usize::from(u16::from_be_bytes([*data.get(i)?, *data.get(i + 1)?]));
            sets.push(data.get(i + 2..i + 2 + len)?);
            i += 2 + len;
        }
    }
    Some((size, sets))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SPS x264 wrote with `bframes=2` (High, 320x240, 25 fps, max_num_reorder_frames 2).
    #[test]
    fn x264_sps() {
        let (_, sets) = avc_config(&[
            0x01, 0x64, 0x00, 0x14, 0xff, 0xe1, 0x00, 0x1d, 0x67, 0x64, 0x00, 0x14, 0xac, 0xd9,
            0x41, 0x41, 0xfb, 0x01, 0x6a, 0x0c, 0x0c, 0x0d, 0x4a, 0x00, 0x00, 0x03, 0x00, 0x02,
            0x00, 0x00, 0x03, 0x00, 0x65, 0x1e, 0x28, 0x53, 0x2c, 0x01, 0x00, 0x05, 0x68, 0xeb,
            0xec, 0xb2, 0x2c,
        ])
        .expect("avcC");
        assert_eq!(sets.len(), 2);
        let (id, sps) = parse_sps(sets[0]).expect("sps");
        assert_eq!(id, 0);
        assert_eq!(sps.poc_type, 0, "{sps:?}");
        assert_eq!(sps.log2_max_poc_lsb, 6);
        assert_eq!(sps.reorder, 2, "x264's B-pyramid");
        assert_eq!(sps.rate, Some((50, 2)));
        assert!(sps.frame_mbs_only);
        assert_eq!(parse_pps(sets[1]), Some((0, 0)));
    }
}
