//! One hash page (`page.h`): a table of `u16` slots growing down from the
//! top — `n`, then `n` offsets (key/data pairs, or an overflow address with
//! `OVFLPAGE`), then `FREESPACE` and `OFFSET` — and key/data bytes packed up
//! from the end of the page.

use super::{ByteOrder, HashError, OVFLPAGE};

/// A page being built. `slots` always holds `n + 3` entries.
#[derive(Clone, Debug)]
pub struct PageBuf {
    pub slots: Vec<u16>,
    pub data: Vec<u8>,
}

impl PageBuf {
    /// `PAGE_INIT` in `hash_page.c`.
    pub fn new(bsize: u16) -> Self {
        PageBuf {
            slots: vec![0, bsize - 6, bsize],
            data: vec![0; usize::from(bsize)],
        }
    }

    pub fn n(&self) -> u16 {
        self.slots[0]
    }

    /// `FREESPACE(P)`.
    pub fn free(&self) -> u16 {
        self.slots[usize::from(self.n()) + 1]
    }

    /// `OFFSET(P)`: where the lowest stored byte starts.
    pub fn offset(&self) -> u16 {
        self.slots[usize::from(self.n()) + 2]
    }

    pub fn is_empty(&self) -> bool {
        self.n() == 0
    }

    fn set_n(&mut self, n: u16, free: u16, offset: u16) {
        let n_us = usize::from(n);
        self.slots.resize(n_us + 3, 0);
        self.slots[0] = n;
        self.slots[n_us + 1] = free;
        self.slots[n_us + 2] = offset;
    }

    pub fn set_free(&mut self, free: u16) {
        let i = usize::from(self.n()) + 1;
        self.slots[i] = free;
    }

    pub fn set_offset(&mut self, off: u16) {
        let i = usize::from(self.n()) + 2;
        self.slots[i] = off;
    }

    /// `PAIRFITS(P, K, D)`: the page holds real pairs (or nothing) and has
    /// room for the pair plus a later overflow link.
    pub fn pair_fits(&self, klen: usize, dlen: usize) -> bool {
        self.slots[2] >= super::REAL_KEY && 4 + klen + dlen + 4 <= usize::from(self.free())
    }

    /// Copy bytes to `off` (the caller checked the room).
    pub fn put_bytes(&mut self, off: u16, bytes: &[u8]) {
        let o = usize::from(off);
        self.data[o..o + bytes.len()].copy_from_slice(bytes);
    }

    /// `putpair` in `hash_page.c` (caller checked [`PageBuf::pair_fits`]).
    pub fn put_pair(&mut self, key: &[u8], val: &[u8]) {
        let n = self.n();
        let koff = self.offset() - key.len() as u16;
        self.put_bytes(koff, key);
        let doff = koff - val.len() as u16;
        self.put_bytes(doff, val);
        let free = self.free() - 4 - key.len() as u16 - val.len() as u16;
        self.slots.resize(usize::from(n) + 5, 0);
        self.slots[usize::from(n) + 1] = koff;
        self.slots[usize::from(n) + 2] = doff;
        self.set_n(n + 2, free, doff);
    }

    /// The slot table part of `__add_ovflpage`: append `addr, OVFLPAGE`.
    pub fn add_link(&mut self, addr: u16) {
        let n = self.n();
        let (free, off) = (self.free() - 4, self.offset());
        self.slots.resize(usize::from(n) + 5, 0);
        self.slots[usize::from(n) + 1] = addr;
        self.slots[usize::from(n) + 2] = OVFLPAGE;
        self.set_n(n + 2, free, off);
    }

    /// Append one big-pair entry (`off`, `tag`) as `__big_insert` does:
    /// `FREESPACE = off - PAGE_META(n)`, `OFFSET = off`.
    pub fn push_big(&mut self, off: u16, tag: u16) {
        let n = self.n() + 2;
        self.slots.resize(usize::from(n) + 3, 0);
        self.slots[usize::from(n) - 1] = off;
        self.slots[usize::from(n)] = tag;
        let free = off - (n + 3) * 2;
        self.set_n(n, free, off);
    }

    /// The page as stored, slots in `order`.
    pub fn encode(&self, order: ByteOrder, out: &mut [u8]) {
        out.copy_from_slice(&self.data);
        for (i, s) in self.slots.iter().enumerate() {
            out[i * 2..i * 2 + 2].copy_from_slice(&order.u16_bytes(*s));
        }
    }
}

/// A stored page, read-only, every access bounds-checked.
#[derive(Clone, Copy)]
pub struct PageView<'a> {
    pub bytes: &'a [u8],
    pub order: ByteOrder,
    pub page_no: u64,
}

impl<'a> PageView<'a> {
    pub fn slot(&self, i: usize) -> Result<u16, HashError> {
        let b = self
            .bytes
            .get(i * 2..i * 2 + 2)
            .ok_or_else(|| self.corrupt(format!("slot {i} lies outside the page")))?;
        Ok(self.order.read_u16([b[0], b[1]]))
    }

    pub fn n(&self) -> Result<u16, HashError> {
        let n = self.slot(0)?;
        if (usize::from(n) + 3) * 2 > self.bytes.len() {
            return Err(self.corrupt(format!("{n} slots do not fit the page")));
        }
        Ok(n)
    }

    pub fn free(&self) -> Result<u16, HashError> {
        self.slot(usize::from(self.n()?) + 1)
    }

    /// Bytes `from..to` of the page.
    pub fn range(&self, from: u16, to: u16) -> Result<&'a [u8], HashError> {
        let (f, t) = (usize::from(from), usize::from(to));
        if f > t || t > self.bytes.len() {
            return Err(self.corrupt(format!("bad byte range {f}..{t}")));
        }
        Ok(&self.bytes[f..t])
    }

    pub fn corrupt(&self, what: String) -> HashError {
        HashError::Corrupt(format!("page {}: {what}", self.page_no))
    }
}
