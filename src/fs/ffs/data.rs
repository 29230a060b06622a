//! File data: streaming a file's bytes into freshly allocated blocks
//! (direct, single-, double- and triple-indirect; all-zero blocks become
//! holes), and walking an inode's block tree for the reader and checker.

use std::io::Read;

use super::alloc::Allocator;
use super::bytes::{get_u64, put_u64};
use super::dinode::Dinode;
use super::geometry::{Geometry, NDADDR};
use crate::disk::BlockDevice;

/// Where a file's data went.
#[derive(Debug, Clone, Default)]
pub struct BlockMap {
    pub db: [u64; 12],
    pub ib: [u64; 3],
    /// 512-byte units held, indirect blocks included (`di_blocks`).
    pub blocks: u64,
}

/// Why streaming stopped.
#[derive(Debug)]
pub enum DataError {
    NoSpace,
    Io(std::io::Error),
    /// The reader ended after this many bytes.
    Short(u64),
    /// The reader failed.
    Read(std::io::Error),
}

/// Fragments of logical block `lbn` of a `size`-byte file.
pub fn lbn_frags(g: &Geometry, size: u64, lbn: u64) -> u64 {
    let bs = g.bsize64();
    if lbn >= NDADDR || size >= (lbn + 1) * bs {
        return g.frag64();
    }
    // A pointer past the end of the file counts as a whole block.
    match size.checked_sub(lbn * bs) {
        Some(tail) if tail > 0 => tail.div_ceil(g.fsize64()),
        _ => g.frag64(),
    }
}

struct Node {
    id: u64,
    addr: u64,
    ptrs: Vec<u64>,
}

/// The indirect blocks on the path of the block being written.
struct Tree {
    level: usize,
    nodes: Vec<Node>,
}

struct Streamer<'a, D: BlockDevice> {
    dev: &'a mut D,
    g: &'a Geometry,
    alloc: &'a mut Allocator,
    map: BlockMap,
    tree: Option<Tree>,
}

impl<D: BlockDevice> Streamer<'_, D> {
    fn write_node(&mut self, n: &Node) -> Result<(), DataError> {
        if n.addr == 0 {
            return Ok(());
        }
        let mut b = vec![0u8; self.g.bsize as usize];
        for (i, p) in n.ptrs.iter().enumerate() {
            put_u64(&mut b, 8 * i, *p);
        }
        self.dev
            .write_at(&b, n.addr * self.g.fsize64())
            .map_err(DataError::Io)
    }

    fn flush_tree_from(&mut self, depth: usize) -> Result<(), DataError> {
        if let Some(mut t) = self.tree.take() {
            while t.nodes.len() > depth {
                if let Some(n) = t.nodes.pop() {
                    self.write_node(&n)?;
                }
            }
            if depth > 0 {
                self.tree = Some(t);
            }
        }
        Ok(())
    }

    /// Record that logical block `lbn` lives at `addr`.
    fn set_ptr(&mut self, lbn: u64, addr: u64) -> Result<(), DataError> {
        if lbn < NDADDR {
            self.map.db[lbn as usize] = addr;
            return Ok(());
        }
        let nindir = self.g.nindir();
        let mut off = lbn - NDADDR;
        let mut level = 0usize;
        let mut span = nindir;
        while off >= span {
            off -= span;
            level += 1;
            span = span.saturating_mul(nindir);
            if level > 2 {
                return Err(DataError::NoSpace);
            }
        }
        if self.tree.as_ref().is_some_and(|t| t.level != level) {
            self.flush_tree_from(0)?;
        }
        if self.tree.is_none() {
            self.tree = Some(Tree {
                level,
                nodes: Vec::new(),
            });
        }
        // Indices on the path: depth j covers nindir^(level - j + 1) blocks.
        let mut idx = vec![0u64; level + 1];
        let mut ids = vec![0u64; level + 1];
        for j in 0..=level {
            let below = nindir.pow((level - j) as u32);
            idx[j] = (off / below) % nindir;
            ids[j] = off / (below * nindir);
        }
        // Drop nodes whose id changed (finished subtrees).
        let keep = {
            let t = self.tree.as_ref().map(|t| &t.nodes);
            let mut k = 0;
            if let Some(nodes) = t {
                while k < nodes.len() && nodes[k].id == ids[k] {
                    k += 1;
                }
            }
            k
        };
        self.flush_tree_from(keep)?;
        if self.tree.is_none() {
            self.tree = Some(Tree {
                level,
                nodes: Vec::new(),
            });
        }
        let bs_units = self.g.bsize64() / 512;
        for j in 0..=level {
            let have = self.tree.as_ref().map_or(0, |t| t.nodes.len());
            if have > j {
                continue;
            }
            let a = self.alloc.alloc_block().ok_or(DataError::NoSpace)?;
            self.map.blocks += bs_units;
            let t = self.tree.as_mut().ok_or(DataError::NoSpace)?;
            if j == 0 {
                self.map.ib[level] = a;
            } else {
                t.nodes[j - 1].ptrs[idx[j - 1] as usize] = a;
            }
            t.nodes.push(Node {
                id: ids[j],
                addr: a,
                ptrs: vec![0; nindir as usize],
            });
        }
        if let Some(t) = self.tree.as_mut() {
            t.nodes[level].ptrs[idx[level] as usize] = addr;
        }
        Ok(())
    }
}

static ZERO: [u8; 65536] = [0u8; 65536];

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Stream `size` bytes from `r` into new blocks. `buf` is the caller's
/// reusable chunk buffer (a multiple of the block size).
pub fn write_stream<D: BlockDevice>(
    dev: &mut D,
    g: &Geometry,
    alloc: &mut Allocator,
    r: &mut dyn Read,
    size: u64,
    holes: bool,
    buf: &mut [u8],
) -> Result<BlockMap, DataError> {
    let bs = g.bsize64();
    let fs = g.fsize64();
    let nblocks = size.div_ceil(bs);
    let mut st = Streamer {
        dev,
        g,
        alloc,
        map: BlockMap::default(),
        tree: None,
    };
    let chunk_blocks = (buf.len() as u64 / bs).max(1);
    let mut lbn = 0u64;
    let mut done = 0u64;
    while lbn < nblocks {
        let nb = chunk_blocks.min(nblocks - lbn);
        let want = (size - done).min(nb * bs) as usize;
        let got = read_full(r, &mut buf[..want]).map_err(DataError::Read)?;
        if got < want {
            return Err(DataError::Short(done + got as u64));
        }
        let padded = (want as u64).div_ceil(fs) * fs;
        buf[want..padded as usize].fill(0);
        // Runs of contiguous blocks: (disk byte, buffer start, length).
        let mut run: Option<(u64, usize, usize)> = None;
        for i in 0..nb {
            let l = lbn + i;
            let start = (i * bs) as usize;
            let frags = lbn_frags(g, size, l);
            let len = (frags * fs) as usize;
            let block = &buf[start..start + len];
            let last = l + 1 == nblocks;
            if holes && !last && block == &ZERO[..len] {
                continue;
            }
            let addr = if frags < g.frag64() {
                st.alloc.alloc_frags(frags)
            } else {
                st.alloc.alloc_block()
            }
            .ok_or(DataError::NoSpace)?;
            st.map.blocks += frags * fs / 512;
            st.set_ptr(l, addr)?;
            let disk = addr * fs;
            match run {
                Some((d, b, n)) if d + n as u64 == disk && b + n == start => {
                    run = Some((d, b, n + len));
                }
                _ => {
                    if let Some((d, b, n)) = run {
                        st.dev.write_at(&buf[b..b + n], d).map_err(DataError::Io)?;
                    }
                    run = Some((disk, start, len));
                }
            }
        }
        if let Some((d, b, n)) = run {
            st.dev.write_at(&buf[b..b + n], d).map_err(DataError::Io)?;
        }
        lbn += nb;
        done += want as u64;
    }
    // The reader must end here.
    let mut probe = [0u8; 1];
    if read_full(r, &mut probe).map_err(DataError::Read)? != 0 {
        return Err(DataError::Short(u64::MAX));
    }
    st.flush_tree_from(0)?;
    Ok(st.map)
}

/// A block reference found while walking an inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockRef {
    /// Logical block `lbn` at fragment `addr`, `frags` fragments long.
    Data { lbn: u64, addr: u64, frags: u64 },
    /// An indirect block of `level` (0 = single) at `addr`.
    Indirect { level: u8, addr: u64 },
}

/// Visit every allocated block of `di` in logical order. `visit` returns
/// whether an indirect block may be read and descended into (the checker
/// refuses out-of-range or duplicate ones). With `beyond_eof` false,
/// pointers for blocks past the end of the file are skipped, which bounds
/// the walk by the file's size. Errors reading an indirect block are
/// returned.
pub fn walk<D: BlockDevice + ?Sized>(
    dev: &mut D,
    g: &Geometry,
    di: &Dinode,
    beyond_eof: bool,
    visit: &mut dyn FnMut(&mut D, BlockRef) -> bool,
) -> std::io::Result<()> {
    let limit = if beyond_eof {
        u64::MAX
    } else {
        di.size.div_ceil(g.bsize64())
    };
    for (i, &a) in di.db.iter().enumerate() {
        if a != 0 && (i as u64) < limit {
            let lbn = i as u64;
            visit(
                dev,
                BlockRef::Data {
                    lbn,
                    addr: a,
                    frags: lbn_frags(g, di.size, lbn),
                },
            );
        }
    }
    let nindir = g.nindir();
    let mut base = NDADDR;
    let mut span = nindir;
    for level in 0..3u8 {
        let a = di.ib[level as usize];
        if a != 0 && base < limit {
            walk_ind(dev, g, a, level, base, (di.size, limit), visit)?;
        }
        base = base.saturating_add(span);
        span = span.saturating_mul(nindir);
    }
    Ok(())
}

fn walk_ind<D: BlockDevice + ?Sized>(
    dev: &mut D,
    g: &Geometry,
    addr: u64,
    level: u8,
    base: u64,
    (size, limit): (u64, u64),
    visit: &mut dyn FnMut(&mut D, BlockRef) -> bool,
) -> std::io::Result<()> {
    if !visit(dev, BlockRef::Indirect { level, addr }) {
        return Ok(());
    }
    let mut b = vec![0u8; g.bsize as usize];
    let off = addr
        .checked_mul(g.fsize64())
        .ok_or_else(|| std::io::Error::other("block address overflows"))?;
    dev.read_at(&mut b, off)?;
    let nindir = g.nindir();
    let per = nindir.saturating_pow(u32::from(level));
    for i in 0..nindir {
        let p = get_u64(&b, 8 * i as usize);
        if p == 0 {
            continue;
        }
        let lbn = base.saturating_add(i.saturating_mul(per));
        if lbn >= limit {
            break;
        }
        if level == 0 {
            visit(
                dev,
                BlockRef::Data {
                    lbn,
                    addr: p,
                    frags: lbn_frags(g, size, lbn),
                },
            );
        } else {
            walk_ind(dev, g, p, level - 1, lbn, (size, limit), visit)?;
        }
    }
    Ok(())
}
