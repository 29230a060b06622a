//! Streaming tar extraction into Entries: every member type, pax and GNU
//! extensions, compression by magic bytes, path safety, and reading sets
//! in order while they decompress in parallel.

use std::io::{Read, Write};

use mkimage::entry::{Entry, EntryKind, EntrySink, Timestamp};
use mkimage::source::archive::{open_decompressed, read_archive};
use mkimage::source::sets::{SetInput, read_sets};
use tar::{EntryType, Header};

#[derive(Default)]
struct Collect(Vec<(Entry, Vec<u8>)>);

impl EntrySink for Collect {
    fn add(&mut self, e: &Entry, d: &mut dyn Read) -> anyhow::Result<()> {
        let mut v = Vec::new();
        d.read_to_end(&mut v)?;
        self.0.push((e.clone(), v));
        Ok(())
    }
}

/// A ustar header with the name and link name written byte for byte (the
/// tar crate's setters refuse `..` and absolute names, which we need).
fn raw(name: &[u8], kind: EntryType, size: u64, link: Option<&[u8]>, mode: u32) -> Header {
    let mut h = Header::new_ustar();
    {
        let u = h.as_ustar_mut().unwrap();
        u.name[..name.len()].copy_from_slice(name);
        if let Some(l) = link {
            u.linkname[..l.len()].copy_from_slice(l);
        }
    }
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_700_000_000);
    h.set_cksum();
    h
}

fn add(
    b: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: EntryType,
    data: &[u8],
    link: Option<&str>,
    mode: u32,
) {
    let h = raw(
        name.as_bytes(),
        kind,
        data.len() as u64,
        link.map(str::as_bytes),
        mode,
    );
    b.append(&h, data).unwrap();
}

const LONG_DIR: &str = "usr/share/doc/a-directory-name-that-is-long-enough/and-then-some-more-characters/to-pass-one-hundred";

/// An archive with one member of every kind, as NetBSD's sets have them.
fn rich_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    add(&mut b, "./", EntryType::Directory, b"", None, 0o755);
    add(&mut b, "./bin/", EntryType::Directory, b"", None, 0o755);
    add(
        &mut b,
        "./bin/sh",
        EntryType::Regular,
        b"#!shell\n",
        None,
        0o555,
    );
    add(
        &mut b,
        "./usr/bin/su",
        EntryType::Regular,
        b"su",
        None,
        0o4555,
    );
    add(
        &mut b,
        "./usr/bin/wall",
        EntryType::Regular,
        b"w",
        None,
        0o2555,
    );
    add(&mut b, "./tmp", EntryType::Directory, b"", None, 0o1777);
    add(
        &mut b,
        "./bin/rsh",
        EntryType::Link,
        b"",
        Some("./bin/sh"),
        0o555,
    );
    add(
        &mut b,
        "./usr/lib/libc.so",
        EntryType::Symlink,
        b"",
        Some("libc.so.12"),
        0o755,
    );
    let mut dev = raw(b"./dev/console", EntryType::Char, 0, None, 0o600);
    dev.set_device_major(0).unwrap();
    dev.set_device_minor(0).unwrap();
    dev.set_cksum();
    b.append(&dev, &[][..]).unwrap();
    let mut blk = raw(b"./dev/wd0a", EntryType::Block, 0, None, 0o640);
    blk.set_device_major(4).unwrap();
    blk.set_device_minor(0x1234).unwrap();
    blk.set_gid(5);
    blk.set_cksum();
    b.append(&blk, &[][..]).unwrap();
    add(&mut b, "./var/run/fifo", EntryType::Fifo, b"", None, 0o600);
    // pax: a long name, a long link target, big ids, fractional times, flags.
    let long_name = format!("./{LONG_DIR}/pax-file.txt");
    let long_target = format!("../../{}", "t".repeat(120));
    b.append_pax_extensions([
        ("path", long_name.as_bytes()),
        ("uid", b"3000000".as_slice()),
        ("gid", b"4000000".as_slice()),
        ("mtime", b"1700000000.123456789".as_slice()),
        ("atime", b"1700000001.5".as_slice()),
        ("SCHILY.fflags", b"schg,nodump".as_slice()),
    ])
    .unwrap();
    add(
        &mut b,
        "./truncated-name",
        EntryType::Regular,
        b"pax data",
        None,
        0o644,
    );
    b.append_pax_extensions([("linkpath", long_target.as_bytes())])
        .unwrap();
    add(
        &mut b,
        "./usr/long-link",
        EntryType::Symlink,
        b"",
        None,
        0o755,
    );
    // GNU long name (the tar crate writes an `L` member for names > 100 bytes).
    let mut gnu = Header::new_gnu();
    gnu.set_mode(0o644);
    gnu.set_uid(0);
    gnu.set_gid(0);
    gnu.set_mtime(5);
    gnu.set_size(3);
    gnu.set_entry_type(EntryType::Regular);
    b.append_data(&mut gnu, format!("./{LONG_DIR}/gnu-file.txt"), &b"gnu"[..])
        .unwrap();
    b.into_inner().unwrap()
}

fn read(bytes: &[u8]) -> anyhow::Result<Vec<(Entry, Vec<u8>)>> {
    let mut c = Collect::default();
    read_archive(
        open_decompressed(std::io::Cursor::new(bytes.to_vec()))?,
        "test.tar",
        &mut c,
    )?;
    Ok(c.0)
}

fn find<'a>(es: &'a [(Entry, Vec<u8>)], path: &str) -> &'a (Entry, Vec<u8>) {
    es.iter()
        .find(|(e, _)| e.path == path)
        .unwrap_or_else(|| panic!("{path} missing"))
}

#[test]
fn every_member_kind_arrives_as_the_right_entry() {
    let es = read(&rich_tar()).unwrap();
    let t = Timestamp::from_secs(1_700_000_000);
    assert_eq!(es[0].0, Entry::dir("", 0o755, t));
    let (sh, data) = find(&es, "bin/sh");
    assert_eq!(sh, &Entry::file("bin/sh", 0o555, 8, t));
    assert_eq!(data, b"#!shell\n");
    assert_eq!(find(&es, "usr/bin/su").0.mode, 0o4555, "setuid kept");
    assert_eq!(find(&es, "usr/bin/wall").0.mode, 0o2555, "setgid kept");
    assert_eq!(find(&es, "tmp").0.mode, 0o1777, "sticky kept");
    assert_eq!(
        find(&es, "bin/rsh").0.kind,
        EntryKind::HardLink("bin/sh".into())
    );
    assert_eq!(
        find(&es, "usr/lib/libc.so").0.kind,
        EntryKind::Symlink("libc.so.12".into())
    );
    assert_eq!(
        find(&es, "dev/console").0.kind,
        EntryKind::CharDevice { major: 0, minor: 0 }
    );
    let wd = &find(&es, "dev/wd0a").0;
    assert_eq!(
        wd.kind,
        EntryKind::BlockDevice {
            major: 4,
            minor: 0x1234
        }
    );
    assert_eq!((wd.mode, wd.gid), (0o640, 5));
    assert_eq!(find(&es, "var/run/fifo").0.kind, EntryKind::Fifo);
    assert_eq!(es.len(), 14);
}

#[test]
fn pax_long_names_ids_fractional_times_and_flags_are_honoured() {
    let es = read(&rich_tar()).unwrap();
    let path = format!("{LONG_DIR}/pax-file.txt");
    assert!(path.len() > 100);
    let (e, data) = find(&es, &path);
    assert_eq!(data, b"pax data");
    assert_eq!((e.uid, e.gid), (3_000_000, 4_000_000));
    assert_eq!(
        e.mtime,
        Timestamp {
            secs: 1_700_000_000,
            nsec: 123_456_789
        }
    );
    assert_eq!(
        e.atime,
        Timestamp {
            secs: 1_700_000_001,
            nsec: 500_000_000
        }
    );
    assert_eq!(
        e.flags,
        0x0002_0000 | 0x0000_0001,
        "SF_IMMUTABLE | UF_NODUMP"
    );
    let link = &find(&es, "usr/long-link").0;
    assert_eq!(
        link.kind,
        EntryKind::Symlink(format!("../../{}", "t".repeat(120)))
    );
    let (g, gd) = find(&es, &format!("{LONG_DIR}/gnu-file.txt"));
    assert_eq!((g.size, gd.as_slice(), g.mtime.secs), (3, &b"gnu"[..], 5));
}

fn compress(kind: &str, tar: &[u8]) -> Vec<u8> {
    match kind {
        "plain" => tar.to_vec(),
        "gzip" => {
            // Two gzip members, as some .tgz files are: both must be read.
            let (a, b) = tar.split_at(tar.len() / 2);
            let mut out = Vec::new();
            for part in [a, b] {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(part).unwrap();
                out.extend(e.finish().unwrap());
            }
            out
        }
        "xz" => {
            // Multi-block stream, as `xz -T0` writes: the threaded decoder's case.
            let stream = liblzma::stream::MtStreamBuilder::new()
                .threads(2)
                .block_size(4096)
                .preset(1)
                .encoder()
                .unwrap();
            let mut e = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
            e.write_all(tar).unwrap();
            e.finish().unwrap()
        }
        "zstd" => zstd::encode_all(tar, 3).unwrap(),
        _ => unreachable!(),
    }
}

#[test]
fn xz_gzip_zstd_and_plain_are_detected_by_magic_and_give_the_same_entries() {
    let tar = rich_tar();
    let want = read(&tar).unwrap();
    for kind in ["gzip", "xz", "zstd"] {
        let bytes = compress(kind, &tar);
        assert_ne!(bytes[..4], tar[..4]);
        assert_eq!(read(&bytes).unwrap(), want, "{kind}");
    }
    let err = read(b"BZh91AY&SY").unwrap_err();
    assert!(format!("{err:#}").contains("bzip2"), "{err:#}");
}

#[test]
fn a_truncated_xz_stream_is_an_error_not_a_short_archive() {
    let xz = compress("xz", &rich_tar());
    let err = read(&xz[..xz.len() - 40]).unwrap_err();
    assert!(format!("{err:#}").contains("test.tar"), "{err:#}");
}

/// (name, type, link target) of one raw member.
type Member<'a> = (&'a [u8], EntryType, Option<&'a [u8]>);

fn refused(members: &[Member<'_>]) -> String {
    let mut b = tar::Builder::new(Vec::new());
    for (name, kind, link) in members {
        let size = if *kind == EntryType::Regular { 1 } else { 0 };
        let h = raw(name, *kind, size, *link, 0o644);
        b.append(&h, &b"x"[..size as usize]).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut c = Collect::default();
    let err = read_archive(&tar[..], "evil.tar.xz", &mut c).unwrap_err();
    format!("{err:#}")
}

#[test]
fn traversal_archives_are_refused_naming_the_set_and_the_entry() {
    let msg = refused(&[
        (b"./ok", EntryType::Regular, None),
        (b"../x", EntryType::Regular, None),
    ]);
    assert!(
        msg.contains("evil.tar.xz: entry \"../x\"") && msg.contains(".."),
        "{msg}"
    );
    let msg = refused(&[(b"/etc/x", EntryType::Regular, None)]);
    assert!(
        msg.contains("evil.tar.xz: entry \"/etc/x\"") && msg.contains("absolute"),
        "{msg}"
    );
    let msg = refused(&[(b"./a/../../x", EntryType::Regular, None)]);
    assert!(msg.contains("entry \"./a/../../x\""), "{msg}");
    let msg = refused(&[
        (b"./x", EntryType::Regular, None),
        (b"./y", EntryType::Link, Some(b"../../x")),
    ]);
    assert!(
        msg.contains("evil.tar.xz: entry \"./y\"") && msg.contains("../../x"),
        "{msg}"
    );
    let msg = refused(&[(b"./y", EntryType::Link, Some(b"./not-seen"))]);
    assert!(
        msg.contains("entry \"./y\"") && msg.contains("not an earlier file"),
        "{msg}"
    );
    let msg = refused(&[(b"./y", EntryType::Link, Some(b"/etc/passwd"))]);
    assert!(
        msg.contains("entry \"./y\"") && msg.contains("absolute"),
        "{msg}"
    );
}

#[test]
fn sets_are_read_in_the_given_order_while_decoding_in_parallel() {
    let mut inputs = Vec::new();
    for i in 0..5u8 {
        let mut b = tar::Builder::new(Vec::new());
        // Big enough to need several 1 MiB chunks.
        let data: Vec<u8> = (0..3_000_000u32).map(|n| (n % 251) as u8 ^ i).collect();
        add(
            &mut b,
            &format!("./set{i}/big"),
            EntryType::Regular,
            &data,
            None,
            0o644,
        );
        add(&mut b, "./same", EntryType::Regular, &[i], None, 0o644);
        let xz = compress("xz", &b.into_inner().unwrap());
        inputs.push((format!("set{i}.tar.xz"), xz));
    }
    let run = || {
        let sets = inputs
            .iter()
            .map(|(label, bytes)| {
                let bytes = bytes.clone();
                SetInput {
                    label: label.clone(),
                    open: Box::new(move || open_decompressed(std::io::Cursor::new(bytes))),
                }
            })
            .collect();
        let mut c = Collect::default();
        let stats = read_sets(sets, &mut c).unwrap();
        (c.0, stats)
    };
    let (es, stats) = run();
    let order: Vec<String> = es.iter().map(|(e, _)| e.path.clone()).collect();
    let want: Vec<String> = (0..5)
        .flat_map(|i| [format!("set{i}/big"), "same".to_string()])
        .collect();
    assert_eq!(order, want);
    assert_eq!(es[9].1, vec![4u8], "the last set's `same` comes last");
    assert_eq!(stats.len(), 5);
    assert_eq!(stats[0].bytes, 3_000_001);
    assert_eq!(run().0, es, "deterministic");
}

#[test]
fn a_broken_set_among_several_is_reported_by_its_label() {
    let good = compress("xz", &rich_tar());
    let mut bad = good.clone();
    bad.truncate(bad.len() / 2);
    let sets = vec![
        SetInput {
            label: "base.tar.xz".into(),
            open: Box::new(move || open_decompressed(std::io::Cursor::new(good))),
        },
        SetInput {
            label: "comp.tar.xz".into(),
            open: Box::new(move || open_decompressed(std::io::Cursor::new(bad))),
        },
    ];
    let mut c = Collect::default();
    let err = read_sets(sets, &mut c).unwrap_err();
    assert!(format!("{err:#}").contains("comp.tar.xz"), "{err:#}");
    assert_eq!(c.0.len(), 14, "the first set arrived whole");
}

#[test]
fn old_gnu_sparse_file_arrives_expanded_to_its_real_size() {
    let mut h = Header::new_gnu();
    h.set_entry_type(EntryType::GNUSparse);
    h.set_path("./var/db/sparse").unwrap();
    h.set_mode(0o600);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(7);
    h.set_size(4096);
    {
        let g = h.as_gnu_mut().unwrap();
        g.sparse[0].set_offset(512 * 1024);
        g.sparse[0].set_length(4096);
        // GNU tar ends a trailing hole with an empty chunk at the real size.
        g.sparse[1].set_offset(1 << 20);
        g.sparse[1].set_length(0);
        g.set_real_size(1 << 20);
    }
    h.set_cksum();
    let mut b = tar::Builder::new(Vec::new());
    b.append(&h, &[b'x'; 4096][..]).unwrap();
    let es = read(&b.into_inner().unwrap()).unwrap();
    let (e, data) = &es[0];
    assert_eq!(
        (e.path.as_str(), &e.kind, e.size),
        ("var/db/sparse", &EntryKind::File, 1 << 20)
    );
    assert_eq!(data.len(), 1 << 20);
    assert!(data[..512 * 1024].iter().all(|&b| b == 0));
    assert!(
        data[512 * 1024..512 * 1024 + 4096]
            .iter()
            .all(|&b| b == b'x')
    );
    assert!(data[512 * 1024 + 4096..].iter().all(|&b| b == 0));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

    /// Damaged archives are errors, never panics, and never yield a name
    /// that is absolute or has a `..` component.
    #[test]
    fn damaged_archives_never_panic_or_escape(
        flips in proptest::collection::vec((0usize..20_000, 0u8..=255), 1..8),
        cut in 0usize..20_000,
    ) {
        let mut tar = rich_tar();
        for (at, v) in flips {
            let n = tar.len();
            tar[at % n] = v;
        }
        tar.truncate(cut.max(1).min(tar.len()));
        let mut c = Collect::default();
        let _ = read_archive(&tar[..], "fuzz.tar", &mut c);
        for (e, _) in &c.0 {
            proptest::prop_assert!(!e.path.starts_with('/'));
            proptest::prop_assert!(!e.path.split('/').any(|p| p == ".." || p == "."));
            if let EntryKind::HardLink(t) = &e.kind {
                proptest::prop_assert!(!t.starts_with('/') && !t.split('/').any(|p| p == ".."));
            }
        }
    }

    #[test]
    fn checksum_parsers_never_panic(text in "\\PC{0,300}") {
        let _ = mkimage::fetch::checksum::parse_cksum(&text, "SHA512");
        let _ = mkimage::fetch::checksum::parse_manifest(&text, "MANIFEST");
    }
}

#[test]
fn a_broken_first_set_stops_the_workers_decoding_ahead() {
    let mut b = tar::Builder::new(Vec::new());
    // 40 MiB of tar: more than a worker may buffer, so it blocks until told to stop.
    let big = vec![7u8; 40 << 20];
    add(&mut b, "./big", EntryType::Regular, &big, None, 0o644);
    let big_tar = zstd::encode_all(&b.into_inner().unwrap()[..], 1).unwrap();
    let mut sets = vec![SetInput {
        label: "broken.tar".into(),
        open: Box::new(|| {
            open_decompressed(std::io::Cursor::new(b"not a tar archive at all".repeat(40)))
        }),
    }];
    for i in 0..3 {
        let bytes = big_tar.clone();
        sets.push(SetInput {
            label: format!("big{i}.tar.zst"),
            open: Box::new(move || open_decompressed(std::io::Cursor::new(bytes))),
        });
    }
    let started = std::time::Instant::now();
    let err = read_sets(sets, &mut Collect::default()).unwrap_err();
    assert!(format!("{err:#}").contains("broken.tar"), "{err:#}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}
