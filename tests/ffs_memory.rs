//! The writer's memory grows with the number of entries only (about 200
//! bytes each at most), never with file data or the file system's size.

mod ffs_common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use ffs_common::*;
use mkimage::disk::RawFile;
use mkimage::entry::{Entry, EntrySink, add_bytes};
use mkimage::fs::ffs::{FfsWriter, Flavour, FsOptions};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    // SAFETY: forwards to the system allocator unchanged; only counts.
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size(), Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    // SAFETY: as above.
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// The allocation counter is process-wide: run these tests one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn memory_per_entry_stays_under_200_bytes_and_data_is_not_buffered() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let size = 1 << 30;
    let dev = RawFile::create(&img, size).unwrap();
    let mut w = FfsWriter::new(dev, FsOptions::new(size, Flavour::NetBsd)).unwrap();
    let base = LIVE.load(Ordering::Relaxed);
    // 64 MiB of file data: none of it stays in memory.
    let big = Entry::file("big", 0o644, 64 << 20, T);
    w.add(&big, &mut std::io::repeat(1).take_bytes(64 << 20))
        .unwrap();
    let after_big = LIVE.load(Ordering::Relaxed);
    assert!(
        after_big - base < 64 << 10,
        "{} bytes kept",
        after_big - base
    );
    let n = 50_000;
    for i in 0..n {
        // 20-byte names, spread over 100 directories.
        add_bytes(
            &mut w,
            Entry::file(format!("d{:03}/file-{i:09}", i % 100), 0o644, 0, T),
            b"x",
        )
        .unwrap();
    }
    let per = (LIVE.load(Ordering::Relaxed) - after_big) / n;
    assert!(per <= 200, "{per} bytes per entry");
    w.finish().unwrap();
}

trait TakeBytes {
    fn take_bytes(self, n: u64) -> std::io::Take<std::io::Repeat>;
}
impl TakeBytes for std::io::Repeat {
    fn take_bytes(self, n: u64) -> std::io::Take<std::io::Repeat> {
        std::io::Read::take(self, n)
    }
}

/// Counts the writes that reach the device.
struct CountingDev {
    inner: mkimage::disk::MemDevice,
    writes: usize,
    bytes: u64,
}

impl mkimage::disk::BlockDevice for CountingDev {
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        self.inner.read_at(buf, offset)
    }
    fn write_at(&mut self, buf: &[u8], offset: u64) -> std::io::Result<()> {
        self.writes += 1;
        self.bytes += buf.len() as u64;
        self.inner.write_at(buf, offset)
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn file_data_is_written_once_in_large_writes() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let size = 128usize << 20;
    let dev = CountingDev {
        inner: mkimage::disk::MemDevice::new(size),
        writes: 0,
        bytes: 0,
    };
    let mut w = FfsWriter::new(dev, FsOptions::new(size as u64, Flavour::NetBsd)).unwrap();
    let data = bytes(8, 48 << 20);
    add_bytes(&mut w, Entry::file("data", 0o644, 0, T), &data).unwrap();
    let (dev, _) = w.finish().unwrap();
    // 48 MiB of data plus a little metadata, in about 1 MiB writes.
    assert!(
        dev.bytes < (48 << 20) + (2 << 20),
        "{} bytes written",
        dev.bytes
    );
    assert!(dev.writes < 48 + 80, "{} writes", dev.writes);
}
