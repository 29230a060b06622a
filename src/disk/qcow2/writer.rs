//! Streaming qcow2 writer. Data clusters are placed in the order they are
//! first written (plain output) or in guest order (compressed output, staged
//! uncompressed in an unlinked scratch file beside the image and compressed
//! on every core at [`Qcow2Writer::finish`]). All metadata — L2 tables, the
//! L1 table, refcount table and blocks, the header — is written at finish.
//! Clusters never written, or only ever written with zeros, stay
//! unallocated, so the cost follows the data, not the virtual size.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use flate2::{Compress, Compression, FlushCompress, Status};

use super::header::{HEADER_LEN, QcowHeader};
use super::{
    CLUSTER_BITS, CLUSTER_SIZE, COMPRESSED_SECTOR, DEFLATE_WINDOW_BITS, OFFSET_MASK,
    OFLAG_COMPRESSED, OFLAG_COPIED, REFCOUNT_ORDER, csize_shift,
};
use crate::disk::block::{BlockDevice, check_range};

/// L2 entries per table (one cluster of 8-byte entries).
const L2_ENTRIES: u64 = CLUSTER_SIZE / 8;
/// 16-bit refcounts per refcount block.
const REFCOUNTS_PER_BLOCK: u64 = CLUSTER_SIZE / 2;
/// Clusters compressed per thread per round at finish; bounds memory to
/// about `threads × 2 × 16 × 64 KiB`.
const CLUSTERS_PER_THREAD: usize = 16;

/// Options for a new image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Qcow2Options {
    /// Store data clusters deflate-compressed.
    pub compress: bool,
}

/// A qcow2 image being written; also readable while it is written.
#[derive(Debug)]
pub struct Qcow2Writer {
    file: File,
    /// Where data clusters live until finish: `file` itself for plain
    /// output, an unlinked scratch file for compressed output.
    stage: Option<File>,
    size: u64,
    /// Guest cluster → offset of its data in the data file (0: none),
    /// one lazily allocated table per L2 table.
    map: Vec<Option<Box<[u64]>>>,
    /// Offset in the data file of the next cluster to allocate.
    next_data: u64,
}

/// True when every byte is zero (compares 16 bytes at a time).
pub(crate) fn all_zero(buf: &[u8]) -> bool {
    let mut chunks = buf.chunks_exact(16);
    chunks
        .by_ref()
        .all(|c| u128::from_ne_bytes(c.try_into().unwrap_or([1; 16])) == 0)
        && chunks.remainder().iter().all(|&b| b == 0)
}

fn div_ceil(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

fn too_large(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("qcow2 image too large: {what}"),
    )
}

impl Qcow2Writer {
    /// Create (or truncate) `path` as a qcow2 image of `virtual_size` bytes.
    pub fn create(path: &Path, virtual_size: u64, options: Qcow2Options) -> io::Result<Self> {
        let l1_size = div_ceil(div_ceil(virtual_size, CLUSTER_SIZE), L2_ENTRIES);
        if l1_size > (1 << 25) {
            return Err(too_large("more than 2^25 L1 entries"));
        }
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        let stage = if options.compress {
            Some(scratch_beside(path)?)
        } else {
            None
        };
        Ok(Qcow2Writer {
            file,
            stage,
            size: virtual_size,
            map: (0..l1_size).map(|_| None).collect(),
            next_data: CLUSTER_SIZE,
        })
    }

    fn data_file(&self) -> &File {
        self.stage.as_ref().unwrap_or(&self.file)
    }

    fn lookup(&self, cluster: u64) -> u64 {
        let (l1, l2) = (cluster / L2_ENTRIES, cluster % L2_ENTRIES);
        match self.map.get(l1 as usize) {
            Some(Some(t)) => t[l2 as usize],
            _ => 0,
        }
    }

    fn allocate(&mut self, cluster: u64) -> io::Result<u64> {
        let (l1, l2) = (cluster / L2_ENTRIES, cluster % L2_ENTRIES);
        let slot = self
            .map
            .get_mut(l1 as usize)
            .ok_or_else(|| too_large("cluster beyond the L1 table"))?;
        let table = slot.get_or_insert_with(|| vec![0u64; L2_ENTRIES as usize].into_boxed_slice());
        let off = self.next_data;
        table[l2 as usize] = off;
        self.next_data += CLUSTER_SIZE;
        Ok(off)
    }

    /// Write all metadata and return the image file (not yet fsynced).
    pub fn finish(mut self) -> io::Result<File> {
        // In compressed mode, data is rewritten into `file` in guest order
        // and the map now points there; plain mode keeps it as is.
        let mut entries = self.map_entries();
        let mut refs = RefCounts::default();
        refs.add(0, 1); // header
        let data_end = if let Some(stage) = self.stage.take() {
            compress_into(&stage, &self.file, &mut entries, &mut refs)?
        } else {
            for t in entries.iter().flatten() {
                for &e in t.iter().filter(|&&e| e != 0) {
                    refs.add(e & OFFSET_MASK, 1);
                }
            }
            self.next_data
        };
        let mut next = data_end.next_multiple_of(CLUSTER_SIZE);

        // L2 tables, in guest order.
        let mut l1 = vec![0u64; self.map.len()];
        let mut buf = vec![0u8; CLUSTER_SIZE as usize];
        for (i, t) in entries.iter().enumerate() {
            if let Some(t) = t {
                for (j, e) in t.iter().enumerate() {
                    buf[j * 8..j * 8 + 8].copy_from_slice(&e.to_be_bytes());
                }
                self.file.write_all_at(&buf, next)?;
                refs.add(next, 1);
                l1[i] = next | OFLAG_COPIED;
                next += CLUSTER_SIZE;
            }
        }

        // L1 table.
        let l1_offset = next;
        let l1_bytes: Vec<u8> = l1.iter().flat_map(|e| e.to_be_bytes()).collect();
        let l1_clusters = div_ceil(l1_bytes.len() as u64, CLUSTER_SIZE).max(1);
        self.file.write_all_at(&l1_bytes, l1_offset)?;
        for c in 0..l1_clusters {
            refs.add(l1_offset + c * CLUSTER_SIZE, 1);
        }
        next += l1_clusters * CLUSTER_SIZE;

        // Refcount table and blocks: they count themselves, so find the
        // smallest sizes that cover every host cluster including their own.
        let base = next / CLUSTER_SIZE;
        let (mut blocks, mut table) = (1u64, 1u64);
        loop {
            let total = base + table + blocks;
            let nb = div_ceil(total, REFCOUNTS_PER_BLOCK);
            let nt = div_ceil(nb, L2_ENTRIES);
            if nb == blocks && nt == table {
                break;
            }
            (blocks, table) = (nb, nt);
        }
        let table_offset = next;
        let blocks_offset = table_offset + table * CLUSTER_SIZE;
        for c in 0..table + blocks {
            refs.add(table_offset + c * CLUSTER_SIZE, 1);
        }
        let mut rt = vec![0u8; (table * CLUSTER_SIZE) as usize];
        for b in 0..blocks {
            let off = blocks_offset + b * CLUSTER_SIZE;
            rt[(b * 8) as usize..(b * 8 + 8) as usize].copy_from_slice(&off.to_be_bytes());
            let mut block = vec![0u8; CLUSTER_SIZE as usize];
            for k in 0..REFCOUNTS_PER_BLOCK {
                let count = refs.get(b * REFCOUNTS_PER_BLOCK + k);
                let count = u16::try_from(count)
                    .map_err(|_| io::Error::other("qcow2 refcount overflow"))?;
                block[(k * 2) as usize..(k * 2 + 2) as usize].copy_from_slice(&count.to_be_bytes());
            }
            self.file.write_all_at(&block, off)?;
        }
        self.file.write_all_at(&rt, table_offset)?;

        let header = QcowHeader {
            version: 3,
            backing_file_offset: 0,
            cluster_bits: CLUSTER_BITS,
            size: self.size,
            crypt_method: 0,
            l1_size: u32::try_from(self.map.len()).map_err(|_| too_large("L1 size"))?,
            l1_table_offset: l1_offset,
            refcount_table_offset: table_offset,
            refcount_table_clusters: u32::try_from(table)
                .map_err(|_| too_large("refcount table"))?,
            nb_snapshots: 0,
            incompatible_features: 0,
            refcount_order: REFCOUNT_ORDER,
            header_length: 104,
        };
        let mut h = vec![0u8; HEADER_LEN];
        header.encode(&mut h);
        self.file.write_all_at(&h, 0)?;
        let end = blocks_offset + blocks * CLUSTER_SIZE;
        if self.file.metadata()?.len() < end {
            self.file.set_len(end)?;
        }
        Ok(self.file)
    }

    /// The map as L2 entries (plain mode: final host offsets with
    /// `OFLAG_COPIED`; compressed mode: staging offsets, rewritten later).
    fn map_entries(&self) -> Vec<Option<Vec<u64>>> {
        self.map
            .iter()
            .map(|t| {
                t.as_ref().map(|t| {
                    t.iter()
                        .map(|&o| if o == 0 { 0 } else { o | OFLAG_COPIED })
                        .collect()
                })
            })
            .collect()
    }
}

/// Host-cluster reference counts, sparse over the file.
#[derive(Default)]
struct RefCounts {
    counts: Vec<u32>,
}

impl RefCounts {
    fn add(&mut self, offset: u64, n: u32) {
        let c = (offset / CLUSTER_SIZE) as usize;
        if self.counts.len() <= c {
            self.counts.resize(c + 1, 0);
        }
        self.counts[c] += n;
    }
    fn get(&self, cluster: u64) -> u32 {
        self.counts.get(cluster as usize).copied().unwrap_or(0)
    }
}

/// Open a scratch file beside `path` and unlink it at once: it vanishes
/// with the writer, whatever happens.
fn scratch_beside(path: &Path) -> io::Result<File> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut n = 0u32;
    loop {
        let p: PathBuf = dir.join(format!(".{name}.stage-{}-{n}", std::process::id()));
        match File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&p)
        {
            Ok(f) => {
                std::fs::remove_file(&p)?;
                return Ok(f);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Raw-deflate one cluster the way QEMU does (window 2^12). `None` when the
/// result would not be smaller than the cluster: it is then stored plain.
fn deflate_cluster(data: &[u8]) -> io::Result<Option<Vec<u8>>> {
    let mut c = Compress::new_with_window_bits(Compression::default(), false, DEFLATE_WINDOW_BITS);
    let mut out = Vec::with_capacity(data.len());
    match c.compress_vec(data, &mut out, FlushCompress::Finish) {
        Ok(Status::StreamEnd) if (out.len() as u64) < CLUSTER_SIZE - COMPRESSED_SECTOR => {
            Ok(Some(out))
        }
        Ok(_) => Ok(None),
        Err(e) => Err(io::Error::other(format!("deflate failed: {e}"))),
    }
}

/// What one staged cluster becomes.
enum Packed {
    Zero,
    Plain(Vec<u8>),
    Deflated(Vec<u8>),
}

/// Compress every staged cluster, in guest order, into `out` from cluster 1
/// on; rewrite `entries` to the final L2 entries and count references.
/// Returns the end of the data. The layout depends only on the data: each
/// round's clusters are compressed in parallel and written in order.
fn compress_into(
    stage: &File,
    out: &File,
    entries: &mut [Option<Vec<u64>>],
    refs: &mut RefCounts,
) -> io::Result<u64> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let round = threads * CLUSTERS_PER_THREAD;
    let shift = csize_shift(CLUSTER_BITS);
    let mut pos = CLUSTER_SIZE;
    // (L1 index, L2 index, staging offset) of every staged cluster.
    let work: Vec<(usize, usize, u64)> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.as_ref().map(|t| (i, t)))
        .flat_map(|(i, t)| {
            t.iter()
                .enumerate()
                .filter(|(_, e)| **e != 0)
                .map(move |(j, e)| (i, j, e & OFFSET_MASK))
        })
        .collect();
    for chunk in work.chunks(round) {
        let mut bufs = Vec::with_capacity(chunk.len());
        for &(_, _, off) in chunk {
            let mut b = vec![0u8; CLUSTER_SIZE as usize];
            read_full_or_zero(stage, &mut b, off)?;
            bufs.push(b);
        }
        let per = chunk.len().div_ceil(threads).max(1);
        let packed: Vec<io::Result<Packed>> = std::thread::scope(|s| {
            let handles: Vec<_> = bufs
                .chunks(per)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|b| {
                                if all_zero(b) {
                                    Ok(Packed::Zero)
                                } else {
                                    Ok(match deflate_cluster(b)? {
                                        Some(d) => Packed::Deflated(d),
                                        None => Packed::Plain(b.clone()),
                                    })
                                }
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    h.join().unwrap_or_else(|_| {
                        vec![Err(io::Error::other("compression thread panicked"))]
                    })
                })
                .collect()
        });
        for (&(i, j, _), p) in chunk.iter().zip(packed) {
            let entry = match p? {
                Packed::Zero => 0,
                Packed::Plain(b) => {
                    pos = pos.next_multiple_of(CLUSTER_SIZE);
                    out.write_all_at(&b, pos)?;
                    refs.add(pos, 1);
                    let e = pos | OFLAG_COPIED;
                    pos += CLUSTER_SIZE;
                    e
                }
                Packed::Deflated(d) => {
                    let len = d.len() as u64;
                    out.write_all_at(&d, pos)?;
                    let first = pos / COMPRESSED_SECTOR;
                    let last = (pos + len - 1) / COMPRESSED_SECTOR;
                    let extra = last - first;
                    // Host clusters the descriptor covers, as QEMU counts them.
                    let start = first * COMPRESSED_SECTOR;
                    let end = (last + 1) * COMPRESSED_SECTOR;
                    let mut c = start / CLUSTER_SIZE;
                    while c * CLUSTER_SIZE < end {
                        refs.add(c * CLUSTER_SIZE, 1);
                        c += 1;
                    }
                    let e = OFLAG_COMPRESSED | (extra << shift) | pos;
                    pos += len;
                    e
                }
            };
            if let Some(t) = entries[i].as_mut() {
                t[j] = entry;
            }
        }
    }
    Ok(pos)
}

impl BlockDevice for Qcow2Writer {
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        check_range("read", offset, buf.len(), self.size)?;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let within = pos % CLUSTER_SIZE;
            let n = ((CLUSTER_SIZE - within) as usize).min(buf.len() - done);
            let host = self.lookup(pos / CLUSTER_SIZE);
            let dst = &mut buf[done..done + n];
            if host == 0 {
                dst.fill(0);
            } else {
                read_full_or_zero(self.data_file(), dst, host + within)?;
            }
            done += n;
        }
        Ok(())
    }

    fn write_at(&mut self, buf: &[u8], offset: u64) -> io::Result<()> {
        check_range("write", offset, buf.len(), self.size)?;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let within = pos % CLUSTER_SIZE;
            let n = ((CLUSTER_SIZE - within) as usize).min(buf.len() - done);
            let src = &buf[done..done + n];
            let cluster = pos / CLUSTER_SIZE;
            let mut host = self.lookup(cluster);
            if host == 0 && !all_zero(src) {
                host = self.allocate(cluster)?;
            }
            if host != 0 {
                // A fresh cluster's unwritten bytes are a hole: zeros.
                self.data_file().write_all_at(src, host + within)?;
            }
            done += n;
        }
        Ok(())
    }

    fn len(&self) -> u64 {
        self.size
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Read `dst` at `off`; bytes past the end of the file (the unwritten tail
/// of the last cluster) read as zeros.
fn read_full_or_zero(file: &File, dst: &mut [u8], off: u64) -> io::Result<()> {
    let mut got = 0;
    while got < dst.len() {
        match file.read_at(&mut dst[got..], off + got as u64)? {
            0 => {
                dst[got..].fill(0);
                break;
            }
            n => got += n,
        }
    }
    Ok(())
}
