//! What H.264 and H.265 share below their syntax: access units cut into NAL units (start
//! codes or length prefixes), emulation-prevention bytes, and the bit reader with its
//! Exp-Golomb numbers (ITU-T H.264 §7.2, §9.1; H.265 §7.2, §9.2).

/// A NAL unit's payload with its emulation-prevention bytes (`00 00 03`) removed.
pub fn unescape(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// Reads bits most significant first; every read past the end is `None`.
pub struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    pub fn new(data: &'a [u8]) -> Bits<'a> {
        Bits { data, pos: 0 }
    }

    pub fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(b))
    }

    pub fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    pub fn flag(&mut self) -> Option<bool> {
        self.bit().map(|b| b == 1)
    }

    /// Skips `n` bits.
    pub fn skip(&mut self, n: usize) -> Option<()> {
        let end = self.pos.checked_add(n)?;
        if end > self.data.len() * 8 {
            return None;
        }
        self.pos = end;
        Some(())
    }

    /// An unsigned Exp-Golomb number (`ue(v)`).
    pub fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(rest)).min(u64::from(u32::MAX)) as u32)
    }

    /// A signed Exp-Golomb number (`se(v)`).
    pub fn se(&mut self) -> Option<i32> {
        let k = self.ue()?;
        let magnitude = k.div_ceil(2) as i32;
        Some(if k % 2 == 1 { magnitude } else { -magnitude })
    }
}

/// The NAL units of a byte-stream access unit (start codes `00 00 01`).
pub fn byte_stream_nals(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= data.len() {
        if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut nals = Vec::with_capacity(starts.len());
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(data.len(), |&n| n - 3);
        while end > s && data[end - 1] == 0 {
            end -= 1;
        }
        nals.push(&data[s..end]);
    }
    nals
}

/// The NAL units of a length-prefixed (`avc`, `hvc1`) access unit.
pub fn length_prefixed_nals(data: &[u8], size: usize) -> Vec<&[u8]> {
    let mut nals = Vec::new();
    let mut i = 0;
    while i + size <= data.len() {
        let len = data[i..i + size]
            .iter()
            .fold(0usize, |v, &b| (v << 8) | usize::from(b));
        i += size;
        let Some(nal) = data.get(i..i + len) else {
            break;
        };
        nals.push(nal);
        i += len;
    }
    nals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_golomb() {
        // 1 | 010 | 011 | 00100 | 00101
        let data = [0b1010_0110, 0b0100_0010, 0b1000_0000];
        let mut r = Bits::new(&data);
        assert_eq!(r.ue(), Some(0));
        assert_eq!(r.ue(), Some(1));
        assert_eq!(r.ue(), Some(2));
        assert_eq!(r.se(), Some(2));
        assert_eq!(r.se(), Some(-2));
    }

    #[test]
    fn skipping_past_the_end_is_none() {
        let mut r = Bits::new(&[0xff, 0x80]);
        assert_eq!(r.skip(8), Some(()));
        assert_eq!(r.skip(9), None);
        assert_eq!(r.flag(), Some(true));
    }

    #[test]
    fn emulation_prevention_is_removed() {
        assert_eq!(unescape(&[0, 0, 3, 1, 0, 0, 3]), vec![0, 0, 1, 0, 0]);
    }

    #[test]
    fn nal_units_are_cut_at_start_codes_and_length_prefixes() {
        let stream = [0, 0, 0, 1, 0x40, 1, 0, 0, 1, 0x42, 2, 0];
        assert_eq!(
            byte_stream_nals(&stream),
            vec![&[0x40, 1][..], &[0x42, 2][..]]
        );
        let prefixed = [0, 2, 0x40, 1, 0, 1, 0x42, 0, 9];
        assert_eq!(
            length_prefixed_nals(&prefixed, 2),
            vec![&[0x40, 1][..], &[0x42][..]],
            "a length past the end stops the cut"
        );
    }
}
