//! `HASHHDR` (`hash.h`): the first page of a hash file. Always stored
//! big-endian, whatever the pages' `lorder`; 260 bytes.

use super::{ByteOrder, HashError, NCACHED};

/// Encoded size of `HASHHDR`: 17 `int32_t`, `spares[32]`, `bitmaps[32]`.
pub const HEADER_SIZE: usize = 17 * 4 + NCACHED * 4 + NCACHED * 2;

/// The disk-resident table header, field names as in `struct hashhdr`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashHeader {
    pub magic: u32,
    pub version: u32,
    pub lorder: u32,
    pub bsize: u32,
    pub bshift: u32,
    pub dsize: u32,
    pub ssize: u32,
    pub sshift: u32,
    pub ovfl_point: u32,
    pub last_freed: u32,
    pub max_bucket: u32,
    pub high_mask: u32,
    pub low_mask: u32,
    pub ffactor: u32,
    pub nkeys: u32,
    pub hdrpages: u32,
    pub h_charkey: u32,
    pub spares: [u32; NCACHED],
    pub bitmaps: [u16; NCACHED],
}

impl HashHeader {
    /// The page byte order named by `lorder`, if valid.
    pub fn byte_order(&self) -> Option<ByteOrder> {
        ByteOrder::from_lorder(self.lorder)
    }

    pub fn encode(&self, out: &mut [u8]) {
        let words = [
            self.magic,
            self.version,
            self.lorder,
            self.bsize,
            self.bshift,
            self.dsize,
            self.ssize,
            self.sshift,
            self.ovfl_point,
            self.last_freed,
            self.max_bucket,
            self.high_mask,
            self.low_mask,
            self.ffactor,
            self.nkeys,
            self.hdrpages,
            self.h_charkey,
        ];
        for (i, w) in words.iter().enumerate() {
            out[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
        }
        let base = 17 * 4;
        for (i, s) in self.spares.iter().enumerate() {
            out[base + i * 4..base + i * 4 + 4].copy_from_slice(&s.to_be_bytes());
        }
        let base = base + NCACHED * 4;
        for (i, b) in self.bitmaps.iter().enumerate() {
            out[base + i * 2..base + i * 2 + 2].copy_from_slice(&b.to_be_bytes());
        }
    }

    pub fn decode(buf: &[u8]) -> Result<Self, HashError> {
        if buf.len() < HEADER_SIZE {
            return Err(HashError::NotHash(format!(
                "{} bytes is shorter than the {HEADER_SIZE}-byte header",
                buf.len()
            )));
        }
        let w = |i: usize| {
            u32::from_be_bytes([buf[i * 4], buf[i * 4 + 1], buf[i * 4 + 2], buf[i * 4 + 3]])
        };
        let mut spares = [0u32; NCACHED];
        for (i, s) in spares.iter_mut().enumerate() {
            *s = w(17 + i);
        }
        let base = 17 * 4 + NCACHED * 4;
        let mut bitmaps = [0u16; NCACHED];
        for (i, b) in bitmaps.iter_mut().enumerate() {
            *b = u16::from_be_bytes([buf[base + i * 2], buf[base + i * 2 + 1]]);
        }
        Ok(HashHeader {
            magic: w(0),
            version: w(1),
            lorder: w(2),
            bsize: w(3),
            bshift: w(4),
            dsize: w(5),
            ssize: w(6),
            sshift: w(7),
            ovfl_point: w(8),
            last_freed: w(9),
            max_bucket: w(10),
            high_mask: w(11),
            low_mask: w(12),
            ffactor: w(13),
            nkeys: w(14),
            hdrpages: w(15),
            h_charkey: w(16),
            spares,
            bitmaps,
        })
    }

    /// Page number of bucket `b` (`BUCKET_TO_PAGE` in `hash.h`).
    pub fn bucket_page(&self, b: u32) -> Option<u64> {
        let spare = if b == 0 {
            0
        } else {
            let idx = super::log2_ceil(b.checked_add(1)?).checked_sub(1)? as usize;
            *self.spares.get(idx)?
        };
        Some(u64::from(b) + u64::from(self.hdrpages) + u64::from(spare))
    }

    /// Page number of overflow address `addr` (`OADDR_TO_PAGE` in `hash.h`).
    pub fn overflow_page(&self, addr: u16) -> Option<u64> {
        let split = u32::from(addr) >> super::SPLITSHIFT;
        let page = u32::from(addr) & super::SPLITMASK;
        let first = (1u32 << split).checked_sub(1)?;
        Some(self.bucket_page(first)? + u64::from(page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_260_bytes_and_round_trips() {
        assert_eq!(HEADER_SIZE, 260);
        let mut h = HashHeader {
            magic: 0x061561,
            version: 2,
            lorder: 1234,
            bsize: 4096,
            bshift: 12,
            dsize: 256,
            ssize: 256,
            sshift: 8,
            ovfl_point: 3,
            last_freed: 2,
            max_bucket: 7,
            high_mask: 15,
            low_mask: 7,
            ffactor: 32,
            nkeys: 9,
            hdrpages: 1,
            h_charkey: 0xdead_beef,
            spares: [0; NCACHED],
            bitmaps: [0; NCACHED],
        };
        h.spares[3] = 4;
        h.bitmaps[0] = 3 << 11 | 1;
        let mut buf = [0u8; HEADER_SIZE];
        h.encode(&mut buf);
        assert_eq!(&buf[0..4], &[0, 0x06, 0x15, 0x61]);
        assert_eq!(HashHeader::decode(&buf).unwrap(), h);
        assert_eq!(h.bucket_page(0), Some(1));
        assert_eq!(h.bucket_page(7), Some(8));
        assert_eq!(h.overflow_page(3 << 11 | 1), Some(9));
    }
}
