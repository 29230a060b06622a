//! Building a hash file from a set of pairs.
//!
//! The bucket count is fixed up front (`nelem`/`ffactor` as `init_htab`
//! does, doubled until `nkeys / buckets <= ffactor`, the rule `__addel`
//! expands by). Each bucket's pairs go on its page in insertion order,
//! spilling to overflow pages (`__add_ovflpage`); pairs too big for a page
//! become big key/data chains laid out exactly as `__big_insert` lays them.
//! Overflow pages all belong to the last split point, after the bitmap page,
//! so the header is one a growing table could reach: the real library reads
//! the file and can keep inserting, splitting and allocating into it.

use std::collections::BTreeMap;

use super::header::{HEADER_SIZE, HashHeader};
use super::page::PageBuf;
use super::{
    ByteOrder, CHARKEY, DEF_DIRSIZE, DEF_SEGSIZE, DEF_SEGSIZE_SHIFT, FULL_KEY, FULL_KEY_DATA,
    HASHMAGIC, HASHVERSION, HashError, MAX_BSIZE, MINHDRSIZE, NCACHED, PARTIAL_KEY, SPLITMASK,
    SPLITSHIFT, bucket_of, default_hash, log2_ceil,
};

/// Longest chain (pages) left shared by several pairs; see `finish`.
const MAX_SHARED_CHAIN: usize = 8;
/// Largest split point the writer grows the table to.
const MAX_SPLIT: u32 = 20;

/// `HASHINFO` fields that shape the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    /// Page size (`bsize`), rounded up to a power of two, 256..=32768.
    pub bsize: u32,
    /// Fill factor: wanted keys per bucket.
    pub ffactor: u32,
    /// Expected number of elements (sizes the initial table).
    pub nelem: u32,
    /// Byte order of the pages.
    pub order: ByteOrder,
}

impl HashParams {
    pub fn new(bsize: u32, ffactor: u32, nelem: u32, order: ByteOrder) -> Self {
        HashParams {
            bsize,
            ffactor,
            nelem,
            order,
        }
    }
}

/// Collects pairs, then writes the whole file with [`HashWriter::finish`].
pub struct HashWriter {
    params: HashParams,
    bshift: u32,
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    index: BTreeMap<Vec<u8>, usize>,
}

/// Where a page lives while the table is built.
#[derive(Clone, Copy)]
enum PageId {
    Bucket(usize),
    Overflow(usize),
}

struct Layout {
    bsize: u16,
    split: u32,
    buckets: Vec<PageBuf>,
    /// Overflow pages by page number within the split point, from 2 (1 is
    /// the bitmap).
    overflow: Vec<PageBuf>,
}

impl Layout {
    fn page(&mut self, id: PageId) -> &mut PageBuf {
        match id {
            PageId::Bucket(b) => &mut self.buckets[b],
            PageId::Overflow(o) => &mut self.overflow[o],
        }
    }

    /// `__add_ovflpage`: allocate the next overflow page, link it from `id`.
    fn add_overflow(&mut self, id: PageId) -> Result<PageId, HashError> {
        // Page numbers start at 1, which is the bitmap.
        let num = self.overflow.len() as u32 + 2;
        if num > SPLITMASK {
            return Err(HashError::OutOfOverflowPages);
        }
        let addr = ((self.split << SPLITSHIFT) | num) as u16;
        self.overflow.push(PageBuf::new(self.bsize));
        self.page(id).add_link(addr);
        Ok(PageId::Overflow(self.overflow.len() - 1))
    }

    /// `__big_insert` in `hash_bigkey.c`, starting on the fresh page `id`.
    /// Returns the chain's new last page.
    fn big_insert(&mut self, mut id: PageId, key: &[u8], val: &[u8]) -> Result<PageId, HashError> {
        let (mut key, mut val) = (key, val);
        let val_total = val.len();
        let mut space = usize::from(self.page(id).free()).saturating_sub(8);
        while !key.is_empty() {
            let mv = space.min(key.len());
            let p = self.page(id);
            let off = p.offset() - mv as u16;
            p.put_bytes(off, &key[..mv]);
            key = &key[mv..];
            p.push_big(off, PARTIAL_KEY);
            let next = self.add_overflow(id)?;
            let p = self.page(id);
            let n = usize::from(p.n());
            if key.is_empty() {
                let room = usize::from(p.free());
                if room > 0 && !(room == val.len() && val.len() == val_total) {
                    let mv = room.min(val.len());
                    let off = p.offset() - mv as u16;
                    p.put_bytes(off, &val[..mv]);
                    val = &val[mv..];
                    p.slots[n] = off;
                    p.slots[n - 2] = FULL_KEY_DATA;
                    let free = p.free() - mv as u16;
                    p.set_free(free);
                    p.set_offset(off);
                } else {
                    p.slots[n - 2] = FULL_KEY;
                }
            }
            id = next;
            space = usize::from(self.page(id).free()).saturating_sub(8);
        }
        while !val.is_empty() {
            let mut mv = space.min(val.len());
            if space == val.len() && val.len() == val_total {
                mv -= 1;
            }
            let p = self.page(id);
            let off = p.offset() - mv as u16;
            p.put_bytes(off, &val[..mv]);
            val = &val[mv..];
            if val.is_empty() {
                p.push_big(off, FULL_KEY_DATA);
            } else {
                p.push_big(off, FULL_KEY);
                id = self.add_overflow(id)?;
            }
            space = usize::from(self.page(id).free()).saturating_sub(8);
        }
        Ok(id)
    }
}

impl HashWriter {
    pub fn new(params: HashParams) -> Result<Self, HashError> {
        if params.bsize == 0 || params.ffactor == 0 {
            return Err(HashError::Params(
                "bsize and ffactor must be positive".into(),
            ));
        }
        let bshift = log2_ceil(params.bsize);
        if (1u32 << bshift) >= MAX_BSIZE || bshift < 8 {
            return Err(HashError::Params(format!(
                "page size {} is outside 256..=32768",
                params.bsize
            )));
        }
        Ok(HashWriter {
            params,
            bshift,
            pairs: Vec::new(),
            index: BTreeMap::new(),
        })
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Add a pair; a key stored twice is an error.
    pub fn insert(&mut self, key: &[u8], data: &[u8]) -> Result<(), HashError> {
        if self.insert_new(key, data)? {
            Ok(())
        } else {
            Err(HashError::DuplicateKey(
                String::from_utf8_lossy(key).into_owned(),
            ))
        }
    }

    /// Add a pair unless the key is already there (`R_NOOVERWRITE`): returns
    /// whether it was added; the first value stays.
    pub fn insert_new(&mut self, key: &[u8], data: &[u8]) -> Result<bool, HashError> {
        if key.is_empty() {
            return Err(HashError::EmptyKey);
        }
        if self.index.contains_key(key) {
            return Ok(false);
        }
        self.index.insert(key.to_vec(), self.pairs.len());
        self.pairs.push((key.to_vec(), data.to_vec()));
        Ok(true)
    }

    /// Place every pair in a table of `2^l2` buckets; also returns the
    /// longest chain (in pages) of a bucket holding more than one pair.
    fn layout(&self, l2: u32) -> Result<(Layout, usize), HashError> {
        let nbuckets = 1u32 << l2;
        let (max_bucket, low_mask, high_mask) = (nbuckets - 1, nbuckets - 1, (nbuckets << 1) - 1);
        let bsize = 1u32 << self.bshift;
        let mut lay = Layout {
            bsize: bsize as u16,
            split: l2,
            buckets: (0..nbuckets).map(|_| PageBuf::new(bsize as u16)).collect(),
            overflow: Vec::new(),
        };
        // Pairs per bucket, in insertion order; big pairs after the rest.
        let mut per_bucket: Vec<Vec<usize>> = vec![Vec::new(); nbuckets as usize];
        for (i, (k, _)) in self.pairs.iter().enumerate() {
            let b = bucket_of(default_hash(k), max_bucket, high_mask, low_mask);
            per_bucket[b as usize].push(i);
        }
        let fits_alone = |k: &[u8], d: &[u8]| 4 + k.len() + d.len() + 4 <= bsize as usize - 6;
        let mut longest_shared = 0;
        for (b, members) in per_bucket.iter().enumerate() {
            let before = lay.overflow.len();
            let mut tail = PageId::Bucket(b);
            for &i in members {
                let (k, d) = &self.pairs[i];
                if !fits_alone(k, d) {
                    continue;
                }
                if !lay.page(tail).pair_fits(k.len(), d.len()) {
                    tail = lay.add_overflow(tail)?;
                }
                lay.page(tail).put_pair(k, d);
            }
            for &i in members {
                let (k, d) = &self.pairs[i];
                if fits_alone(k, d) {
                    continue;
                }
                let first = lay.add_overflow(tail)?;
                tail = lay.big_insert(first, k, d)?;
            }
            if members.len() > 1 {
                longest_shared = longest_shared.max(1 + lay.overflow.len() - before);
            }
        }
        Ok((lay, longest_shared))
    }

    /// Lay out the table and return the file's bytes.
    pub fn finish(self) -> Result<Vec<u8>, HashError> {
        let p = self.params;
        let bsize = 1u32 << self.bshift;
        let nkeys = u32::try_from(self.pairs.len())
            .map_err(|_| HashError::Params("too many keys".into()))?;
        // init_htab: nelem / ffactor buckets, at least 2, a power of two.
        let wanted = (p.nelem.max(1) - 1) / p.ffactor + 1;
        let mut l2 = log2_ceil(wanted.max(2));
        // __addel expands while NKEYS / (MAX_BUCKET + 1) > FFACTOR.
        while l2 < MAX_SPLIT && nkeys / (1u32 << l2) > p.ffactor {
            l2 += 1;
        }
        // The library splits a bucket whenever it adds an overflow page, so
        // its chains stay short; libdb's buffer pool (16 pages by default)
        // cannot walk longer ones with seq(3). Double the table while a
        // chain shared by several pairs is longer than that allows.
        // More buckets stop helping once they outnumber the keys.
        let can_grow = |l2: u32| l2 < MAX_SPLIT && (1u64 << l2) < 4 * u64::from(nkeys.max(1));
        let mut lay = loop {
            match self.layout(l2) {
                Ok((lay, longest)) if longest <= MAX_SHARED_CHAIN || !can_grow(l2) => break lay,
                Ok(_) | Err(HashError::OutOfOverflowPages) if can_grow(l2) => l2 += 1,
                Ok((lay, _)) => break lay,
                Err(e) => return Err(e),
            }
        };
        let nbuckets = 1u32 << l2;
        let (max_bucket, low_mask, high_mask) = (nbuckets - 1, nbuckets - 1, (nbuckets << 1) - 1);
        let overflow = std::mem::take(&mut lay.overflow);
        let buckets = std::mem::take(&mut lay.buckets);

        // Overflow pages: 1 is the bitmap, then the pages allocated above.
        let spare_count = overflow.len() as u32 + 1;
        let nsegs = 1u32 << log2_ceil((nbuckets - 1) / DEF_SEGSIZE + 1);
        let mut spares = [0u32; NCACHED];
        spares[l2 as usize] = spare_count;
        let mut bitmaps = [0u16; NCACHED];
        bitmaps[0] = ((l2 << SPLITSHIFT) | 1) as u16;
        let hdr = HashHeader {
            magic: HASHMAGIC,
            version: HASHVERSION,
            lorder: p.order.lorder(),
            bsize,
            bshift: self.bshift,
            dsize: DEF_DIRSIZE.max(nsegs),
            ssize: DEF_SEGSIZE,
            sshift: DEF_SEGSIZE_SHIFT,
            ovfl_point: l2,
            // The bit of the last page handed out, as overflow_page leaves it.
            last_freed: spare_count - 1,
            max_bucket,
            high_mask,
            low_mask,
            ffactor: p.ffactor,
            nkeys,
            hdrpages: ((MINHDRSIZE.max(HEADER_SIZE as u32) - 1) >> self.bshift) + 1,
            h_charkey: default_hash(CHARKEY),
            spares,
            bitmaps,
        };

        let bs = bsize as usize;
        let hdr_bytes = hdr.hdrpages as usize * bs;
        let total = hdr_bytes + (nbuckets as usize + spare_count as usize) * bs;
        let mut out = vec![0u8; total];
        hdr.encode(&mut out[..HEADER_SIZE]);
        for (b, page) in buckets.iter().enumerate() {
            // Untouched buckets stay zero, as the library leaves them.
            if !page.is_empty() {
                let at = hdr_bytes + b * bs;
                page.encode(p.order, &mut out[at..at + bs]);
            }
        }
        // The bitmap: every overflow page in use; bits past the last page
        // set too, as __ibitmap fills them. All ones in either byte order.
        let bitmap_at = hdr_bytes + nbuckets as usize * bs;
        out[bitmap_at..bitmap_at + bs].fill(0xff);
        for (o, page) in overflow.iter().enumerate() {
            let at = bitmap_at + (o + 1) * bs;
            page.encode(p.order, &mut out[at..at + bs]);
        }
        Ok(out)
    }
}
