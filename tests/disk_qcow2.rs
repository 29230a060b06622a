//! qcow2 output checked by QEMU's own tools: `qemu-img check` clean,
//! `qemu-img compare` identical to a raw file given the same writes, the
//! virtual size right; and our reader reads what QEMU and we wrote.

use std::path::Path;
use std::process::Command;

use mkimage::disk::image::open_image;
use mkimage::disk::qcow2::{Qcow2Options, Qcow2Reader, Qcow2Writer};
use mkimage::disk::{BlockDevice, RawFile};

const MIB: u64 = 1 << 20;
const CL: u64 = 64 << 10;

fn tool(name: &str) {
    let ok = Command::new(name).arg("--version").output().is_ok();
    assert!(ok, "{name} is missing: run scripts/setup");
}

fn run(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().expect("running a checker");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// Bytes that compress but are not trivial.
fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|i| {
            if i % 7 == 0 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            }
            (x >> 16) as u8 & 0x3f
        })
        .collect()
}

/// The same writes for every device: whole clusters, partial clusters,
/// writes spanning clusters, rewrites of a cluster, all-zero clusters over
/// nothing and over data, and the very last bytes of the device.
fn write_pattern(dev: &mut dyn BlockDevice) {
    let size = dev.len();
    dev.write_at(&pattern(3 * CL as usize, 1), 0).unwrap();
    dev.write_at(&pattern(1000, 2), 5 * CL + 17).unwrap(); // partial
    dev.write_at(&pattern(CL as usize + 999, 3), 8 * CL - 500)
        .unwrap(); // spans
    dev.write_at(&pattern(4096, 4), CL + 4096).unwrap(); // rewrite
    dev.write_at(&vec![0u8; 2 * CL as usize], 20 * CL).unwrap(); // zeros over nothing
    dev.write_at(&vec![0u8; 512], 5 * CL + 100).unwrap(); // zeros inside data
    dev.write_at(&vec![0u8; CL as usize], 2 * CL).unwrap(); // zero a whole written cluster
    let random_ish: Vec<u8> = (0..CL as usize)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[1])
        .collect();
    dev.write_at(&random_ish, 30 * CL).unwrap(); // may not compress
    dev.write_at(&pattern(700, 5), 40 * MIB + 3).unwrap();
    dev.write_at(b"the end", size - 7).unwrap();
}

fn make_qcow2(path: &Path, size: u64, compress: bool) {
    let mut q = Qcow2Writer::create(path, size, Qcow2Options { compress }).unwrap();
    write_pattern(&mut q);
    q.finish().unwrap().sync_all().unwrap();
}

fn make_raw(path: &Path, size: u64) {
    let mut r = RawFile::create(path, size).unwrap();
    write_pattern(&mut r);
}

fn read_all(dev: &mut dyn BlockDevice) -> Vec<u8> {
    let mut v = vec![0u8; dev.len() as usize];
    // Odd-sized reads cross cluster boundaries.
    for (i, chunk) in v.chunks_mut(100_003).enumerate() {
        dev.read_at(chunk, i as u64 * 100_003).unwrap();
    }
    v
}

fn check_against_raw(compress: bool) {
    tool("qemu-img");
    let dir = tempfile::tempdir().unwrap();
    let size = 64 * MIB + 512;
    let raw = dir.path().join("a.raw");
    let q = dir.path().join("a.qcow2");
    make_raw(&raw, size);
    make_qcow2(&q, size, compress);

    let (code, text) = run(Command::new("qemu-img")
        .args(["check", "-f", "qcow2"])
        .arg(&q));
    assert_eq!(code, 0, "qemu-img check: {text}");
    assert!(text.contains("No errors were found"), "{text}");
    let (code, text) = run(Command::new("qemu-img")
        .args(["compare", "-f", "raw", "-F", "qcow2"])
        .arg(&raw)
        .arg(&q));
    assert_eq!(code, 0, "qemu-img compare: {text}");
    let (_, info) = run(Command::new("qemu-img")
        .args(["info", "--output=json"])
        .arg(&q));
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["virtual-size"], size);
    assert_eq!(info["cluster-size"], CL);
    assert_eq!(info["format-specific"]["data"]["compat"], "1.1");

    // Our reader agrees with the raw file.
    let want = std::fs::read(&raw).unwrap();
    let mut ours = open_image(&q).unwrap();
    assert_eq!(ours.len(), size);
    assert!(read_all(&mut *ours) == want, "our reader differs from raw");
}

#[test]
fn plain_qcow2_is_clean_and_identical_to_raw_for_the_same_writes() {
    check_against_raw(false);
}

#[test]
fn compressed_qcow2_is_clean_and_identical_to_raw_for_the_same_writes() {
    check_against_raw(true);
}

#[test]
fn compressed_output_is_smaller_and_the_same_bytes_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let size = 64 * MIB;
    let (a, b, p) = (
        dir.path().join("a.qcow2"),
        dir.path().join("b.qcow2"),
        dir.path().join("p.qcow2"),
    );
    make_qcow2(&a, size, true);
    make_qcow2(&b, size, true);
    make_qcow2(&p, size, false);
    let (a, b, p) = (
        std::fs::read(a).unwrap(),
        std::fs::read(b).unwrap(),
        std::fs::read(p).unwrap(),
    );
    assert!(a == b, "two compressed runs differ");
    assert!(
        a.len() < p.len(),
        "compressed {} >= plain {}",
        a.len(),
        p.len()
    );
}

#[test]
fn our_reader_reads_what_qemu_img_convert_wrote_plain_and_compressed() {
    tool("qemu-img");
    let dir = tempfile::tempdir().unwrap();
    let size = 64 * MIB + 512;
    let raw = dir.path().join("a.raw");
    make_raw(&raw, size);
    let want = std::fs::read(&raw).unwrap();
    for extra in [&[][..], &["-c"][..]] {
        let q = dir.path().join("q.qcow2");
        let (code, text) = run(Command::new("qemu-img")
            .args(["convert", "-f", "raw", "-O", "qcow2"])
            .args(extra)
            .arg(&raw)
            .arg(&q));
        assert_eq!(code, 0, "{text}");
        let mut r = Qcow2Reader::open(&q).unwrap();
        assert!(
            read_all(&mut r) == want,
            "reader differs on convert {extra:?}"
        );
    }
}

#[test]
fn unwritten_and_zero_clusters_stay_unallocated() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("z.qcow2");
    let mut w = Qcow2Writer::create(&q, 1 << 30, Qcow2Options::default()).unwrap();
    w.write_at(&vec![0u8; 8 * CL as usize], 0).unwrap();
    w.write_at(&[1u8; 10], 100 * CL).unwrap();
    w.finish().unwrap();
    // Header, one data cluster, one L2 table, L1, refcount table and block.
    assert_eq!(std::fs::metadata(&q).unwrap().len(), 6 * CL);
}

#[test]
fn corrupt_qcow2_tables_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("c.qcow2");
    make_qcow2(&q, 64 * MIB + 512, true);
    let good = std::fs::read(&q).unwrap();
    let l1_off = u64::from_be_bytes(good[40..48].try_into().unwrap()) as usize;
    let bad = dir.path().join("bad.qcow2");
    // Damage: the L1 table, every 64 KiB of the file, the header fields.
    let mut variants: Vec<Vec<u8>> = Vec::new();
    let mut v = good.clone();
    v[l1_off..l1_off + 8].copy_from_slice(&0x00ff_ffff_ffff_0000u64.to_be_bytes());
    variants.push(v);
    for step in [CL as usize, 4099] {
        let mut v = good.clone();
        for i in (l1_off % step..v.len()).step_by(step) {
            v[i] ^= 0xa5;
        }
        variants.push(v);
    }
    for field in [20usize, 24, 36, 40] {
        let mut v = good.clone();
        v[field..field + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
        variants.push(v);
    }
    variants.push(good[..200].to_vec());
    let mut errors = 0;
    for v in variants {
        std::fs::write(&bad, &v).unwrap();
        let result = std::panic::catch_unwind(|| match Qcow2Reader::open(&bad) {
            Ok(mut r) => {
                let len = r.len().min(128 * MIB);
                let mut buf = vec![0u8; 1 << 20];
                let mut failed = false;
                let mut off = 0;
                while off + buf.len() as u64 <= len {
                    failed |= r.read_at(&mut buf, off).is_err();
                    off += buf.len() as u64;
                }
                failed
            }
            Err(_) => true,
        });
        errors += usize::from(result.expect("reader panicked on a corrupt image"));
    }
    assert!(errors >= 3, "only {errors} corruptions were noticed");
}

/// Allocated bytes of a file on the host.
fn host_bytes(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().blocks() * 512
}

#[test]
fn a_64_gib_image_with_32_mb_of_data_costs_what_a_4_gib_one_does() {
    tool("qemu-img");
    let dir = tempfile::tempdir().unwrap();
    let data = pattern(32 << 20, 9);
    let mut sizes = Vec::new();
    for gib in [4u64, 64] {
        let q = dir.path().join(format!("{gib}.qcow2"));
        let r = dir.path().join(format!("{gib}.raw"));
        let mut w = Qcow2Writer::create(&q, gib << 30, Qcow2Options::default()).unwrap();
        let mut raw = RawFile::create(&r, gib << 30).unwrap();
        for (i, chunk) in data.chunks(1 << 20).enumerate() {
            // Spread the data over the first 4 GiB.
            let off = i as u64 * (100 << 20) + 4096;
            w.write_at(chunk, off).unwrap();
            raw.write_at(chunk, off).unwrap();
        }
        w.finish().unwrap();
        let (_, info) = run(Command::new("qemu-img")
            .args(["info", "--output=json"])
            .arg(&q));
        let info: serde_json::Value = serde_json::from_str(&info).unwrap();
        assert_eq!(info["virtual-size"], gib << 30);
        let actual = info["actual-size"].as_u64().unwrap();
        sizes.push((actual, host_bytes(&r), std::fs::metadata(&q).unwrap().len()));
    }
    let (small, big) = (sizes[0], sizes[1]);
    // The 64 GiB image only adds a larger L1 table and refcount block use.
    assert!(
        big.0 <= small.0 + 2 * MIB,
        "qcow2 on disk: {small:?} vs {big:?}"
    );
    assert!(
        big.2 <= small.2 + 2 * MIB,
        "qcow2 length: {small:?} vs {big:?}"
    );
    assert!(
        big.1 <= small.1 + 2 * MIB,
        "raw on disk: {small:?} vs {big:?}"
    );
    assert!(small.0 < 40 * MIB, "{small:?}");
}

#[test]
fn the_writer_reads_back_what_was_written_before_finish_plain_and_compressed() {
    let dir = tempfile::tempdir().unwrap();
    let size = 64 * MIB + 512;
    let raw = dir.path().join("a.raw");
    make_raw(&raw, size);
    let want = std::fs::read(&raw).unwrap();
    for compress in [false, true] {
        let q = dir.path().join("w.qcow2");
        let mut w = Qcow2Writer::create(&q, size, Qcow2Options { compress }).unwrap();
        write_pattern(&mut w);
        assert!(read_all(&mut w) == want, "compress={compress}");
        assert!(
            w.write_at(b"x", size).is_err(),
            "writes past the end are refused"
        );
    }
}

#[test]
fn zero_writes_to_never_written_areas_of_a_new_raw_image_stay_holes() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("z.raw");
    let mut raw = RawFile::create(&r, 256 * MIB).unwrap();
    raw.write_at(&vec![0u8; 128 << 20], 0).unwrap();
    raw.write_at(&[7u8; 100], 200 * MIB).unwrap();
    // Zeros over data are real writes.
    raw.write_at(&[0u8; 50], 200 * MIB + 10).unwrap();
    let mut back = [1u8; 100];
    raw.read_at(&mut back, 200 * MIB).unwrap();
    assert_eq!(&back[..10], &[7u8; 10]);
    assert!(back[10..60].iter().all(|&b| b == 0));
    assert_eq!(&back[60..], &[7u8; 40]);
    assert!(
        host_bytes(&r) <= 1 << 20,
        "{} bytes allocated",
        host_bytes(&r)
    );
}

mod random_writes {
    use super::*;
    use mkimage::disk::MemDevice;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        /// Any sequence of writes reads back identically through our
        /// reader, plain and compressed.
        #[test]
        fn any_writes_read_back_identically(
            writes in proptest::collection::vec((0u64..(4 << 20), 1usize..150_000, any::<u8>(), any::<bool>()), 1..12),
            compress in any::<bool>(),
        ) {
            let size = (4u64 << 20) + 4096;
            let dir = tempfile::tempdir().unwrap();
            let q = dir.path().join("p.qcow2");
            let mut mem = MemDevice::new(size as usize);
            let mut w = Qcow2Writer::create(&q, size, Qcow2Options { compress }).unwrap();
            for (off, len, seed, zero) in writes {
                let len = len.min((size - off) as usize);
                let data = if zero { vec![0u8; len] } else { pattern(len, u32::from(seed)) };
                mem.write_at(&data, off).unwrap();
                w.write_at(&data, off).unwrap();
            }
            w.finish().unwrap();
            let mut r = Qcow2Reader::open(&q).unwrap();
            prop_assert!(read_all(&mut r) == mem.as_bytes());
        }
    }
}
