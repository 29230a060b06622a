//! The reader and checker never panic on garbled images: a real image
//! with bytes flipped or overwritten (mostly in its metadata) is checked
//! and every path in it is read. `FFS_FUZZ_CASES` sets the number of
//! cases (default 64).

mod ffs_common;

use std::sync::OnceLock;

use ffs_common::*;
use mkimage::disk::MemDevice;
use mkimage::entry::{Entry, EntryKind, add_bytes};
use mkimage::fs::ffs::dinode::{IFDIR, IFLNK, IFMT, IFREG};
use mkimage::fs::ffs::{self, FfsReader, FfsWriter, Flavour, FsOptions};
use proptest::prelude::*;

const SIZE: usize = 3 << 20;

fn image() -> &'static [u8] {
    static IMG: OnceLock<Vec<u8>> = OnceLock::new();
    IMG.get_or_init(|| {
        let mut w = FfsWriter::new(
            MemDevice::new(SIZE),
            FsOptions::new(SIZE as u64, Flavour::NetBsd),
        )
        .unwrap();
        for i in 0..40 {
            add_bytes(
                &mut w,
                Entry::file(format!("d{}/f{i}", i % 5), 0o644, 0, T),
                &bytes(i, (i as usize * 977) % 9000),
            )
            .unwrap();
        }
        add_bytes(&mut w, Entry::file("big", 0o644, 0, T), &bytes(99, 700_000)).unwrap();
        add_bytes(&mut w, Entry::symlink("s", "d0/f0", T), b"").unwrap();
        add_bytes(&mut w, Entry::symlink("long", "x".repeat(300), T), b"").unwrap();
        add_bytes(
            &mut w,
            Entry::new("hl", EntryKind::HardLink("big".into()), 0o644, T),
            b"",
        )
        .unwrap();
        let (dev, _) = w.finish().unwrap();
        let v = dev.into_vec();
        assert!(
            ffs::check(MemDevice::from_vec(v.clone()))
                .unwrap()
                .is_empty()
        );
        v
    })
}

/// Exercise every read path; errors are fine, panics are not.
fn read_everything(bytes: Vec<u8>) {
    let _ = ffs::check(MemDevice::from_vec(bytes.clone()));
    let Ok(mut r) = FfsReader::open(MemDevice::from_vec(bytes)) else {
        return;
    };
    let mut stack = vec![2u32];
    let mut seen = 0;
    while let Some(d) = stack.pop() {
        seen += 1;
        if seen > 200 {
            break;
        }
        let Ok(entries) = r.read_dir(d) else { continue };
        for e in entries.into_iter().skip(2).take(100) {
            let Ok(st) = r.stat_ino(e.ino) else { continue };
            match st.mode & IFMT {
                IFDIR => stack.push(e.ino),
                // Sizes are garbled too: read only what a test can afford.
                IFREG if st.size < 64 << 20 => {
                    let _ = r.read_file(e.ino, &mut std::io::sink());
                }
                IFLNK => {
                    let _ = r.readlink(e.ino);
                }
                _ => {}
            }
        }
    }
    let _ = r.lookup("d1/f6");
}

fn cases() -> u32 {
    std::env::var("FFS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn garbled_metadata_never_panics_the_reader_or_checker(
        edits in proptest::collection::vec((0usize..400_000, any::<u8>(), any::<bool>()), 1..40)
    ) {
        let mut b = image().to_vec();
        for (off, v, xor) in edits {
            // The superblock, first groups and inode tables live here.
            let off = off + 65536;
            if xor { b[off] ^= v } else { b[off] = v }
        }
        read_everything(b);
    }

    #[test]
    fn garbled_bytes_anywhere_never_panic(
        edits in proptest::collection::vec((0usize..SIZE, any::<u8>()), 1..200)
    ) {
        let mut b = image().to_vec();
        for (off, v) in edits {
            b[off] = v;
        }
        read_everything(b);
    }
}

#[test]
fn random_bytes_are_not_a_file_system() {
    let b = bytes(7, 1 << 20);
    assert!(FfsReader::open(MemDevice::from_vec(b.clone())).is_err());
    assert!(ffs::check(MemDevice::from_vec(b)).is_err());
}
