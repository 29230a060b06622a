//! Reading a hash file: lookups the way `hash_access` walks a bucket chain,
//! and a full listing of every pair. Every offset, address and chain is
//! checked; corrupt input gives [`HashError`], never a panic or a loop.

use super::header::{HEADER_SIZE, HashHeader};
use super::page::PageView;
use super::{
    ByteOrder, CHARKEY, FULL_KEY, FULL_KEY_DATA, HASHMAGIC, HASHVERSION, HashError, NCACHED,
    OLDHASHVERSION, OVFLPAGE, PARTIAL_KEY, REAL_KEY, bucket_of, default_hash,
};

/// A hash file held in memory.
pub struct HashFile {
    bytes: Vec<u8>,
    hdr: HashHeader,
    order: ByteOrder,
}

/// One key/data pair as stored.
pub type Pair = (Vec<u8>, Vec<u8>);

impl HashFile {
    /// Check the header (magic, version, byte order, page size, masks and
    /// the `h_charkey` test of the hash function) and keep the bytes.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, HashError> {
        let hdr = HashHeader::decode(&bytes)?;
        if hdr.magic != HASHMAGIC {
            return Err(HashError::NotHash(format!(
                "magic is {:#x}, not {HASHMAGIC:#x}",
                hdr.magic
            )));
        }
        if hdr.version != HASHVERSION && hdr.version != OLDHASHVERSION {
            return Err(HashError::NotHash(format!(
                "unknown version {}",
                hdr.version
            )));
        }
        let order = hdr.byte_order().ok_or_else(|| {
            HashError::Corrupt(format!(
                "byte order {} is neither 1234 nor 4321",
                hdr.lorder
            ))
        })?;
        if hdr.bshift > 15 || hdr.bshift < 6 || hdr.bsize != 1 << hdr.bshift {
            return Err(HashError::Corrupt(format!(
                "page size {} with shift {} is not a power of two in 64..=32768",
                hdr.bsize, hdr.bshift
            )));
        }
        if hdr.h_charkey != default_hash(CHARKEY) {
            return Err(HashError::NotHash(
                "h_charkey does not match the default hash function (a custom hash was used)"
                    .into(),
            ));
        }
        let low = hdr.low_mask;
        if low >= 1 << 24
            || !(low.wrapping_add(1)).is_power_of_two()
            || hdr.high_mask != low * 2 + 1
            || hdr.max_bucket < low
            || hdr.max_bucket > hdr.high_mask
        {
            return Err(HashError::Corrupt(format!(
                "inconsistent masks: max_bucket {}, high_mask {:#x}, low_mask {:#x}",
                hdr.max_bucket, hdr.high_mask, hdr.low_mask
            )));
        }
        if hdr.hdrpages == 0
            || u64::from(hdr.hdrpages) * u64::from(hdr.bsize) < HEADER_SIZE as u64
            || hdr.hdrpages > 1 << 16
        {
            return Err(HashError::Corrupt(format!(
                "header of {} pages",
                hdr.hdrpages
            )));
        }
        if hdr.ovfl_point as usize >= NCACHED {
            return Err(HashError::Corrupt(format!(
                "overflow point {}",
                hdr.ovfl_point
            )));
        }
        Ok(HashFile { bytes, hdr, order })
    }

    pub fn header(&self) -> &HashHeader {
        &self.hdr
    }

    pub fn byte_order(&self) -> ByteOrder {
        self.order
    }

    /// The data stored under `key`, if any.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, HashError> {
        let h = &self.hdr;
        let b = bucket_of(default_hash(key), h.max_bucket, h.high_mask, h.low_mask);
        Ok(self
            .bucket_pairs(b)?
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, d)| d))
    }

    /// Every pair, bucket by bucket (the order `seq(3)` returns them in).
    pub fn pairs(&self) -> Result<Vec<Pair>, HashError> {
        let mut out = Vec::new();
        for b in 0..=self.hdr.max_bucket {
            out.extend(self.bucket_pairs(b)?);
        }
        Ok(out)
    }

    fn npages(&self) -> u64 {
        self.bytes.len() as u64 / u64::from(self.hdr.bsize)
    }

    /// Page `no`; `None` past the end of the file (the library reads that
    /// as an empty page).
    fn page(&self, no: u64) -> Result<Option<PageView<'_>>, HashError> {
        let bs = u64::from(self.hdr.bsize);
        let start = no
            .checked_mul(bs)
            .ok_or_else(|| HashError::Corrupt(format!("page {no}")))?;
        if start >= self.bytes.len() as u64 {
            return Ok(None);
        }
        let end = start + bs;
        if end > self.bytes.len() as u64 {
            return Err(HashError::Corrupt(format!(
                "page {no} is cut short by the end of the file"
            )));
        }
        Ok(Some(PageView {
            bytes: &self.bytes[start as usize..end as usize],
            order: self.order,
            page_no: no,
        }))
    }

    fn overflow(&self, addr: u16, budget: &mut u64) -> Result<PageView<'_>, HashError> {
        if *budget == 0 {
            return Err(HashError::Corrupt("overflow chain loops".into()));
        }
        *budget -= 1;
        let no = self
            .hdr
            .overflow_page(addr)
            .ok_or_else(|| HashError::Corrupt(format!("overflow address {addr:#x}")))?;
        if no < u64::from(self.hdr.hdrpages) {
            return Err(HashError::Corrupt(format!(
                "overflow address {addr:#x} points into the header"
            )));
        }
        self.page(no)?.ok_or_else(|| {
            HashError::Corrupt(format!(
                "overflow page {no} (address {addr:#x}) is past the end"
            ))
        })
    }

    /// All pairs of bucket `b`, following its overflow chain.
    fn bucket_pairs(&self, b: u32) -> Result<Vec<Pair>, HashError> {
        let no = self
            .hdr
            .bucket_page(b)
            .ok_or_else(|| HashError::Corrupt(format!("bucket {b} has no page")))?;
        let mut budget = self.npages() + 1;
        let mut out = Vec::new();
        let Some(mut pv) = self.page(no)? else {
            return Ok(out);
        };
        let bsize = self.hdr.bsize;
        loop {
            let n = pv.n()?;
            let mut next = None;
            let mut prev = bsize;
            let mut i = 1usize;
            while i < usize::from(n) {
                let a = pv.slot(i)?;
                let t = pv.slot(i + 1)?;
                if t >= REAL_KEY {
                    if t > a || u32::from(a) > prev {
                        return Err(
                            pv.corrupt(format!("pair {i} has offsets {a}, {t} after {prev}"))
                        );
                    }
                    out.push((pv.range(a, prev as u16)?.to_vec(), pv.range(t, a)?.to_vec()));
                    prev = u32::from(t);
                    i += 2;
                } else if t == OVFLPAGE {
                    next = Some(self.overflow(a, &mut budget)?);
                    break;
                } else {
                    if i != 1 {
                        return Err(pv.corrupt("a big pair does not start the page".into()));
                    }
                    let (pair, after) = self.big_pair(pv, &mut budget)?;
                    out.push(pair);
                    next = match after {
                        Some(addr) => Some(self.overflow(addr, &mut budget)?),
                        None => None,
                    };
                    break;
                }
            }
            match next {
                Some(p) => pv = p,
                None => return Ok(out),
            }
        }
    }

    /// A big key/data pair starting on `pv` (`collect_key`, `__big_return`,
    /// `collect_data`); returns it and the address of the page after it.
    fn big_pair<'a>(
        &'a self,
        mut pv: PageView<'a>,
        budget: &mut u64,
    ) -> Result<(Pair, Option<u16>), HashError> {
        let top = self.hdr.bsize as u16;
        let mut key = Vec::new();
        loop {
            let n = usize::from(pv.n()?);
            if n < 4 {
                return Err(pv.corrupt(format!("big key page has {n} slots")));
            }
            let off = pv.slot(1)?;
            let tag = pv.slot(2)?;
            // The last key page of a big pair: an explicit top limit when
            // the data shares it (FULL_KEY_DATA), else the page end.
            key.extend_from_slice(pv.range(off, top)?);
            let next_addr = pv.slot(n - 1)?;
            match tag {
                PARTIAL_KEY => pv = self.overflow(next_addr, budget)?,
                FULL_KEY => {
                    let first = self.overflow(next_addr, budget)?;
                    let (data, after) = self.big_data(first, Vec::new(), budget)?;
                    return Ok(((key, data), after));
                }
                FULL_KEY_DATA => {
                    let doff = pv.slot(n)?;
                    let data = pv.range(doff, off)?.to_vec();
                    if pv.free()? != 0 {
                        return Ok(((key, data), Some(pv.slot(3)?)));
                    }
                    let first = self.overflow(next_addr, budget)?;
                    let (data, after) = self.big_data(first, data, budget)?;
                    return Ok(((key, data), after));
                }
                other => return Err(pv.corrupt(format!("unknown big pair tag {other}"))),
            }
        }
    }

    fn big_data<'a>(
        &'a self,
        mut pv: PageView<'a>,
        mut data: Vec<u8>,
        budget: &mut u64,
    ) -> Result<(Vec<u8>, Option<u16>), HashError> {
        let top = self.hdr.bsize as u16;
        loop {
            let n = usize::from(pv.n()?);
            if n < 2 {
                return Err(pv.corrupt(format!("big data page has {n} slots")));
            }
            data.extend_from_slice(pv.range(pv.slot(1)?, top)?);
            match pv.slot(2)? {
                FULL_KEY_DATA => {
                    let after = if n > 2 { Some(pv.slot(3)?) } else { None };
                    return Ok((data, after));
                }
                FULL_KEY if n >= 4 => pv = self.overflow(pv.slot(n - 1)?, budget)?,
                other => return Err(pv.corrupt(format!("unexpected big data tag {other}"))),
            }
        }
    }
}
