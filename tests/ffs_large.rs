//! Large and sparse files (indirect, double- and triple-indirect blocks,
//! holes), large directories, and running out of space or inodes.

mod ffs_common;

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{FileExt, MetadataExt};

use ffs_common::*;
use mkimage::disk::RawFile;
use mkimage::entry::{Entry, EntrySink, add_bytes};
use mkimage::fs::ffs::{self, FfsReader, FfsWriter, Flavour, FsOptions};

/// `size` bytes of zeros except one marker byte every `every` bytes.
struct Sparse {
    pos: u64,
    size: u64,
    every: u64,
}

fn marker(pos: u64) -> u8 {
    (pos / 4096 % 251) as u8 + 1
}

impl Read for Sparse {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.size - self.pos).min(buf.len() as u64) as usize;
        buf[..n].fill(0);
        let first = self.pos.div_ceil(self.every) * self.every;
        let mut m = first;
        while m < self.pos + n as u64 {
            buf[(m - self.pos) as usize] = marker(m);
            m += self.every;
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// Checks a stream against [`Sparse`] without storing it.
struct Check {
    pos: u64,
    every: u64,
    bad: Option<u64>,
}

impl Write for Check {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        static Z: [u8; 1 << 16] = [0; 1 << 16];
        let mut i = 0;
        while i < buf.len() {
            let p = self.pos + i as u64;
            let next = p.div_ceil(self.every) * self.every;
            let zeros = ((next - p) as usize).min(buf.len() - i);
            let mut k = 0;
            while k < zeros {
                let c = (zeros - k).min(Z.len());
                if buf[i + k..i + k + c] != Z[..c] && self.bad.is_none() {
                    self.bad = Some(p + k as u64);
                }
                k += c;
            }
            i += zeros;
            if i < buf.len() {
                if buf[i] != marker(self.pos + i as u64) && self.bad.is_none() {
                    self.bad = Some(self.pos + i as u64);
                }
                i += 1;
            }
        }
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn sparse_file(
    size: u64,
    every: u64,
    fs_size: u64,
    bsize: Option<u32>,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let dev = RawFile::create(&img, fs_size).unwrap();
    let mut o = FsOptions::new(fs_size, Flavour::NetBsd);
    o.block_size = bsize;
    let mut w = FfsWriter::new(dev, o).unwrap();
    let e = Entry::file("big", 0o644, size, T);
    w.add(
        &e,
        &mut Sparse {
            pos: 0,
            size,
            every,
        },
    )
    .unwrap();
    w.finish().unwrap();
    (d, img)
}

fn read_back(img: &std::path::Path, size: u64, every: u64) {
    let findings = ffs::check(RawFile::open_read_only(img).unwrap()).unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    let mut r = FfsReader::open(RawFile::open_read_only(img).unwrap()).unwrap();
    let ino = r.lookup("big").unwrap();
    let mut c = Check {
        pos: 0,
        every,
        bad: None,
    };
    assert_eq!(r.read_file(ino, &mut c).unwrap(), size);
    assert_eq!(c.bad, None);
}

#[test]
fn file_of_8_gib_with_holes_uses_double_indirect_blocks_and_stays_sparse() {
    let size = 8u64 << 30;
    let every = 256 << 20; // one marker every 256 MiB
    let (_d, img) = sparse_file(size, every, 64 << 20, None);
    read_back(&img, size, every);
    let mut r = FfsReader::open(RawFile::open_read_only(&img).unwrap()).unwrap();
    let st = r.stat("big").unwrap();
    assert_eq!(st.size, size);
    let di = r.inode(st.ino).unwrap();
    assert!(di.ib[1] != 0, "double indirect block expected");
    // 32 marker blocks, the last block and a few indirect blocks: tiny.
    assert!(
        st.blocks * 512 < 2 << 20,
        "{} bytes allocated",
        st.blocks * 512
    );
    assert!(fs::metadata(&img).unwrap().blocks() * 512 < 8 << 20);
}

#[test]
fn file_beyond_double_indirect_reach_uses_triple_indirect_blocks_grub_agrees() {
    // 4 KiB blocks: the triple-indirect range starts at about 1.08 GB.
    let size = 1_100_000_000u64 + 12345;
    let every = 64 << 20;
    let (d, img) = sparse_file(size, every, 16 << 20, Some(4096));
    read_back(&img, size, every);
    let mut r = FfsReader::open(RawFile::open_read_only(&img).unwrap()).unwrap();
    let ino = r.lookup("big").unwrap();
    assert!(
        r.inode(ino).unwrap().ib[2] != 0,
        "triple indirect block expected"
    );
    // GRUB reads the same bytes.
    let local = d.path().join("local");
    let f = fs::File::create(&local).unwrap();
    f.set_len(size).unwrap();
    let mut m = 0;
    while m < size {
        f.write_all_at(&[marker(m)], m).unwrap();
        m += every;
    }
    drop(f);
    run(tool("grub-fstest")
        .arg(&img)
        .args(["cmp", "/big"])
        .arg(&local));
}

#[test]
fn directory_of_100k_entries_spans_many_blocks_and_is_clean() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let size = 512 << 20;
    let dev = RawFile::create(&img, size).unwrap();
    let mut w = FfsWriter::new(dev, FsOptions::new(size, Flavour::NetBsd)).unwrap();
    for i in 0..100_000 {
        add_bytes(
            &mut w,
            Entry::file(format!("big/f{i:06}"), 0o644, 0, T),
            b"",
        )
        .unwrap();
    }
    add_bytes(&mut w, Entry::file("big/f099999", 0o644, 0, T), b"last\n").unwrap();
    w.finish().unwrap();
    let findings = ffs::check(RawFile::open_read_only(&img).unwrap()).unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    let mut r = FfsReader::open(RawFile::open_read_only(&img).unwrap()).unwrap();
    let st = r.stat("big").unwrap();
    assert!(st.size > 40 * 32768, "{}", st.size);
    // GRUB lists exactly the names (sleuthkit's fls is quadratic here). of the directory (fls -r is quadratic here).
    let ls = run(tool("grub-fstest").arg(&img).args(["ls", "/big"]));
    let got: Vec<&str> = ls.split_whitespace().collect();
    let want: Vec<String> = (0..100_000).map(|i| format!("f{i:06}")).collect();
    assert_eq!(got, want);
    let local = d.path().join("local");
    fs::write(&local, b"last\n").unwrap();
    run(tool("grub-fstest")
        .arg(&img)
        .args(["cmp", "/big/f099999"])
        .arg(&local));
}

#[test]
fn out_of_space_says_how_much_was_needed_and_which_size_fits() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let size = 8 << 20;
    let dev = RawFile::create(&img, size).unwrap();
    let mut w = FfsWriter::new(dev, FsOptions::new(size, Flavour::NetBsd)).unwrap();
    let data = bytes(1, 12 << 20);
    let err = add_bytes(&mut w, Entry::file("too-big", 0o644, 0, T), &data).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("file system is full writing /too-big"),
        "{msg}"
    );
    let suggest = msg.rsplit("--size ").next().unwrap();
    let fits = mkimage::size::Size::parse(suggest.trim()).unwrap().bytes();
    assert!(fits > 12 << 20, "{msg}");
    // The suggested size really fits.
    let dev = RawFile::create(&img, fits).unwrap();
    let mut w = FfsWriter::new(dev, FsOptions::new(fits, Flavour::NetBsd)).unwrap();
    add_bytes(&mut w, Entry::file("too-big", 0o644, 0, T), &data).unwrap();
    w.finish().unwrap();
}

#[test]
fn out_of_inodes_says_how_many_and_which_size_fits() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let size = 8 << 20;
    let dev = RawFile::create(&img, size).unwrap();
    let mut o = FsOptions::new(size, Flavour::NetBsd);
    o.density = Some(1 << 20);
    let mut w = FfsWriter::new(dev, o).unwrap();
    let mut err = None;
    for i in 0..10_000 {
        if let Err(e) = add_bytes(&mut w, Entry::file(format!("f{i}"), 0o644, 0, T), b"") {
            err = Some(format!("{e:#}"));
            break;
        }
    }
    let msg = err.expect("ran out of inodes");
    assert!(
        msg.contains("out of inodes") && msg.contains("--size"),
        "{msg}"
    );
}

#[test]
fn replacing_a_file_frees_its_blocks() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let size = 64 << 20;
    let free_after = |replace: bool| {
        let dev = RawFile::create(&img, size).unwrap();
        let mut w = FfsWriter::new(dev, FsOptions::new(size, Flavour::NetBsd)).unwrap();
        if replace {
            add_bytes(&mut w, Entry::file("a", 0o644, 0, T), &bytes(3, 5 << 20)).unwrap();
        }
        add_bytes(&mut w, Entry::file("a", 0o644, 0, T), b"small").unwrap();
        let (_, s) = w.finish().unwrap();
        let findings = ffs::check(RawFile::open_read_only(&img).unwrap()).unwrap();
        assert!(findings.is_empty(), "{findings:?}");
        s.bytes_used
    };
    assert_eq!(free_after(true), free_after(false));
}

#[test]
fn replacing_a_directory_with_a_file_removes_the_tree_and_frees_it() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let size = 64 << 20;
    let dev = RawFile::create(&img, size).unwrap();
    let mut w = FfsWriter::new(dev, FsOptions::new(size, Flavour::NetBsd)).unwrap();
    add_bytes(
        &mut w,
        Entry::file("x/y/z", 0o644, 0, T),
        &bytes(4, 300_000),
    )
    .unwrap();
    add_bytes(&mut w, Entry::file("keep", 0o644, 0, T), b"keep").unwrap();
    add_bytes(
        &mut w,
        Entry::new(
            "x/hl",
            mkimage::entry::EntryKind::HardLink("keep".into()),
            0o644,
            T,
        ),
        b"",
    )
    .unwrap();
    add_bytes(&mut w, Entry::file("x", 0o600, 0, T), b"now a file").unwrap();
    // A later Dir entry for an existing directory only updates it.
    add_bytes(&mut w, Entry::file("etc/a", 0o644, 0, T), b"a").unwrap();
    add_bytes(&mut w, Entry::dir("etc", 0o700, T).owned(3, 4), b"").unwrap();
    w.finish().unwrap();
    let findings = ffs::check(RawFile::open_read_only(&img).unwrap()).unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    let mut r = FfsReader::open(RawFile::open_read_only(&img).unwrap()).unwrap();
    let x = r.stat("x").unwrap();
    assert_eq!((x.mode, x.size), (0o100600, 10));
    assert_eq!(r.stat("keep").unwrap().nlink, 1);
    let etc = r.stat("etc").unwrap();
    assert_eq!((etc.mode, etc.uid, etc.gid), (0o040700, 3, 4));
    assert!(r.stat("etc/a").is_ok());
}

#[test]
fn a_short_data_stream_is_an_error_and_the_file_system_cannot_be_finished() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let size = 16 << 20;
    let dev = RawFile::create(&img, size).unwrap();
    let mut w = FfsWriter::new(dev, FsOptions::new(size, Flavour::NetBsd)).unwrap();
    let e = Entry::file("short", 0o644, 100_000, T);
    let err = w.add(&e, &mut &b"only this"[..]).unwrap_err();
    assert!(
        format!("{err:#}").contains("data ended after 9 of 100000 bytes"),
        "{err:#}"
    );
    let err = w.finish().expect_err("finish must fail");
    assert!(err.to_string().contains("/short"), "{err}");
}
