//! Read-only qcow2 access as a [`BlockDevice`]: plain, zero and compressed
//! clusters, unallocated clusters reading as zeros. Every offset taken from
//! the file is checked; a corrupt table is an error, never a panic.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use flate2::{Decompress, FlushDecompress};

use super::header::{QcowError, QcowHeader};
use super::{COMPRESSED_SECTOR, OFFSET_MASK, OFLAG_COMPRESSED, OFLAG_ZERO, csize_shift};
use crate::disk::block::{BlockDevice, check_range};

/// An open qcow2 image.
#[derive(Debug)]
pub struct Qcow2Reader {
    file: File,
    file_len: u64,
    header: QcowHeader,
    cluster_size: u64,
    l1: Vec<u64>,
    /// The last L2 table read: (its offset, its entries).
    l2_cache: Option<(u64, Vec<u64>)>,
    /// The last compressed cluster inflated: (its L2 entry, its bytes).
    zcache: Option<(u64, Vec<u8>)>,
}

fn corrupt(msg: String) -> io::Error {
    QcowError::Corrupt(msg).into()
}

impl Qcow2Reader {
    /// Open `path` read-only.
    pub fn open(path: &Path) -> io::Result<Self> {
        Self::from_file(File::open(path)?)
    }

    /// Read the header and L1 table of an open file.
    pub fn from_file(file: File) -> io::Result<Self> {
        let file_len = file.metadata()?.len();
        let mut hb = vec![0u8; 112];
        let n = file.read_at(&mut hb, 0)?;
        let header = QcowHeader::decode(&hb[..n])?;
        let cluster_size = 1u64 << header.cluster_bits;
        let l2_entries = cluster_size / 8;
        let need = header.size.div_ceil(cluster_size).div_ceil(l2_entries);
        if u64::from(header.l1_size) < need {
            return Err(corrupt(format!(
                "L1 table of {} entries cannot map {} bytes",
                header.l1_size, header.size
            )));
        }
        let l1_bytes = u64::from(header.l1_size) * 8;
        if header
            .l1_table_offset
            .checked_add(l1_bytes)
            .is_none_or(|end| end > file_len)
        {
            return Err(corrupt("L1 table lies beyond the end of the file".into()));
        }
        let mut raw = vec![0u8; l1_bytes as usize];
        file.read_exact_at(&mut raw, header.l1_table_offset)?;
        let l1 = raw
            .chunks_exact(8)
            .map(|c| u64::from_be_bytes(c.try_into().unwrap_or_default()))
            .collect();
        Ok(Qcow2Reader {
            file,
            file_len,
            header,
            cluster_size,
            l1,
            l2_cache: None,
            zcache: None,
        })
    }

    pub fn header(&self) -> &QcowHeader {
        &self.header
    }

    /// The L2 entry for guest cluster `cluster` (0 when unallocated).
    fn l2_entry(&mut self, cluster: u64) -> io::Result<u64> {
        let l2_entries = self.cluster_size / 8;
        let l1e = self
            .l1
            .get((cluster / l2_entries) as usize)
            .copied()
            .unwrap_or(0);
        let l2_off = l1e & OFFSET_MASK;
        if l2_off == 0 {
            return Ok(0);
        }
        if !l2_off.is_multiple_of(self.cluster_size) || l2_off + self.cluster_size > self.file_len {
            return Err(corrupt(format!("L2 table offset {l2_off} is invalid")));
        }
        if self.l2_cache.as_ref().is_none_or(|(o, _)| *o != l2_off) {
            let mut raw = vec![0u8; self.cluster_size as usize];
            self.file.read_exact_at(&mut raw, l2_off)?;
            let t = raw
                .chunks_exact(8)
                .map(|c| u64::from_be_bytes(c.try_into().unwrap_or_default()))
                .collect();
            self.l2_cache = Some((l2_off, t));
        }
        let i = (cluster % l2_entries) as usize;
        Ok(self
            .l2_cache
            .as_ref()
            .and_then(|(_, t)| t.get(i).copied())
            .unwrap_or(0))
    }

    /// Inflate the compressed cluster described by `entry`.
    fn inflate(&mut self, entry: u64) -> io::Result<&[u8]> {
        if self.zcache.as_ref().is_none_or(|(e, _)| *e != entry) {
            let shift = csize_shift(self.header.cluster_bits);
            let offset = entry & ((1u64 << shift) - 1);
            let sectors = ((entry >> shift) & ((1u64 << (62 - shift)) - 1)) + 1;
            let end = (offset & !(COMPRESSED_SECTOR - 1)) + sectors * COMPRESSED_SECTOR;
            let end = end.min(self.file_len);
            if offset >= end {
                return Err(corrupt(format!(
                    "compressed cluster at {offset} lies beyond the end of the file"
                )));
            }
            let mut input = vec![0u8; (end - offset) as usize];
            self.file.read_exact_at(&mut input, offset)?;
            let mut out = vec![0u8; self.cluster_size as usize];
            let mut z = Decompress::new(false);
            z.decompress(&input, &mut out, FlushDecompress::Finish)
                .map_err(|e| corrupt(format!("compressed cluster at {offset}: {e}")))?;
            if z.total_out() != self.cluster_size {
                return Err(corrupt(format!(
                    "compressed cluster at {offset} inflates to {} bytes, not {}",
                    z.total_out(),
                    self.cluster_size
                )));
            }
            self.zcache = Some((entry, out));
        }
        Ok(self
            .zcache
            .as_ref()
            .map(|(_, b)| b.as_slice())
            .unwrap_or(&[]))
    }
}

impl BlockDevice for Qcow2Reader {
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        check_range("read", offset, buf.len(), self.header.size)?;
        let cs = self.cluster_size;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let within = pos % cs;
            let n = ((cs - within) as usize).min(buf.len() - done);
            let entry = self.l2_entry(pos / cs)?;
            let dst = &mut buf[done..done + n];
            if entry & OFLAG_COMPRESSED != 0 {
                let data = self.inflate(entry)?;
                let src = data
                    .get(within as usize..within as usize + n)
                    .ok_or_else(|| corrupt("short compressed cluster".into()))?;
                dst.copy_from_slice(src);
            } else {
                let host = entry & OFFSET_MASK;
                if host == 0 || entry & OFLAG_ZERO != 0 {
                    dst.fill(0);
                } else if !host.is_multiple_of(cs) || host + cs > self.file_len.next_multiple_of(cs)
                {
                    return Err(corrupt(format!("data cluster offset {host} is invalid")));
                } else {
                    // The last cluster of a file may be short: zeros follow.
                    let got = read_some(&self.file, dst, host + within)?;
                    dst[got..].fill(0);
                }
            }
            done += n;
        }
        Ok(())
    }

    fn write_at(&mut self, _buf: &[u8], _offset: u64) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "qcow2 images are opened read-only",
        ))
    }

    fn len(&self) -> u64 {
        self.header.size
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn read_some(file: &File, dst: &mut [u8], off: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < dst.len() {
        match file.read_at(&mut dst[got..], off + got as u64)? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}
