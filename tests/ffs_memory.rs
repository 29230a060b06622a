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

#[test]
fn memory_per_entry_stays_under_200_bytes_and_data_is_not_buffered() {
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
    eprintln!("{per} bytes per entry");
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
