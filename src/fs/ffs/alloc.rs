//! Fragment allocation for the writer: one bit per fragment of the whole
//! file system (set = in use), next-fit for whole blocks and a current
//! partial block for fragment tails. Deterministic: the same sequence of
//! requests always gets the same addresses.

use super::bytes::{bit, set_bit};
use super::geometry::Geometry;

pub struct Allocator {
    used: Vec<u8>,
    size: u64,
    frag: u64,
    /// Next block (in block units) to try.
    cursor: u64,
    /// Block (fragment address) whose free fragments take tails.
    partial: Option<u64>,
    /// Fragments in use (metadata included).
    pub used_frags: u64,
}

impl Allocator {
    /// Start with the metadata of every group marked in use.
    pub fn new(g: &Geometry) -> Allocator {
        let frag = g.frag64();
        let nblocks = g.size.div_ceil(frag);
        let total = nblocks * frag;
        let mut a = Allocator {
            used: vec![0u8; total.div_ceil(8) as usize],
            size: g.size,
            frag,
            cursor: 0,
            partial: None,
            used_frags: 0,
        };
        for f in g.size..total {
            set_bit(&mut a.used, f, true);
        }
        for c in 0..g.ncg {
            let base = g.cgbase(c);
            let from = base + g.cg_dlower(c);
            let to = base + g.cg_dupper(c);
            a.mark(from, to - from, true);
        }
        a
    }

    pub fn is_used(&self, f: u64) -> bool {
        f >= self.size || bit(&self.used, f)
    }

    /// Mark `n` fragments from `start` used or free.
    pub fn mark(&mut self, start: u64, n: u64, on: bool) {
        for f in start..start + n {
            if f < self.size && bit(&self.used, f) != on {
                set_bit(&mut self.used, f, on);
                if on {
                    self.used_frags += 1;
                } else {
                    self.used_frags -= 1;
                }
            }
        }
    }

    fn block_free(&self, b: u64) -> bool {
        let start = b * self.frag;
        if self.frag == 8 {
            return self.used.get((b) as usize) == Some(&0);
        }
        (start..start + self.frag).all(|f| !self.is_used(f))
    }

    /// A whole free block (its first fragment's address), marked used.
    pub fn alloc_block(&mut self) -> Option<u64> {
        let nblocks = self.size / self.frag;
        for pass in 0..2 {
            let (from, to) = if pass == 0 {
                (self.cursor, nblocks)
            } else {
                (0, self.cursor.min(nblocks))
            };
            for b in from..to {
                if self.block_free(b) {
                    self.cursor = b + 1;
                    self.mark(b * self.frag, self.frag, true);
                    return Some(b * self.frag);
                }
            }
        }
        None
    }

    /// `n` (< frag) contiguous fragments inside one block, marked used.
    pub fn alloc_frags(&mut self, n: u64) -> Option<u64> {
        if n >= self.frag {
            return self.alloc_block();
        }
        if let Some(p) = self.partial {
            let mut run = 0;
            for f in p..p + self.frag {
                if self.is_used(f) {
                    run = 0;
                } else {
                    run += 1;
                    if run == n {
                        let start = f + 1 - n;
                        self.mark(start, n, true);
                        return Some(start);
                    }
                }
            }
        }
        let b = self.alloc_block()?;
        self.mark(b + n, self.frag - n, false);
        self.partial = Some(b);
        Some(b)
    }
}
