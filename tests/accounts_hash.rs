//! The DB 1.85 hash writer and reader against Debian's libdb1 `dbopen(3)`.

mod accounts_common;

use accounts_common::{libdb1_create, libdb1_dump, libdb1_get, libdb1_put};
use mkimage::db185::hash::{ByteOrder, HashFile, HashParams, HashWriter};
use std::collections::BTreeMap;

type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

fn write(pairs: &Pairs, order: ByteOrder) -> Vec<u8> {
    let mut w = HashWriter::new(HashParams::new(4096, 32, 256, order)).unwrap();
    for (k, d) in pairs {
        w.insert(k, d).unwrap();
    }
    w.finish().unwrap()
}

/// Check a file with libdb1 (get every key, a missing one, and seq) and with
/// our own reader.
fn check_everywhere(bytes: &[u8], pairs: &Pairs) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    std::fs::write(&path, bytes).unwrap();
    let mut keys: Vec<Vec<u8>> = pairs.iter().map(|(k, _)| k.clone()).collect();
    keys.push(b"no such key".to_vec());
    let got = libdb1_get(&path, &keys);
    for ((k, d), g) in pairs.iter().zip(&got) {
        assert_eq!(
            g.as_ref(),
            Some(d),
            "libdb1 lookup of {:?}",
            String::from_utf8_lossy(k)
        );
    }
    assert_eq!(got.last().unwrap(), &None);
    let want: BTreeMap<_, _> = pairs.iter().cloned().collect();
    let dumped: BTreeMap<_, _> = libdb1_dump(&path).into_iter().collect();
    assert_eq!(dumped.len(), pairs.len(), "seq(3) returns every pair once");
    assert!(dumped == want, "seq(3) returns the pairs written");

    let ours = HashFile::parse(bytes.to_vec()).unwrap();
    for (k, d) in pairs {
        assert_eq!(ours.get(k).unwrap().as_ref(), Some(d));
    }
    assert_eq!(ours.get(b"no such key").unwrap(), None);
    let listed: BTreeMap<_, _> = ours.pairs().unwrap().into_iter().collect();
    assert!(listed == want);
    assert_eq!(ours.header().nkeys as usize, pairs.len());
}

fn user_like_pairs(n: usize, gecos_len: usize) -> Pairs {
    let mut v = Vec::new();
    for i in 0..n {
        let name = format!("user{i:05}");
        let rec = format!("{name}\0*\0{}\0{}\0", i, "G".repeat(gecos_len));
        v.push((format!("1{name}").into_bytes(), rec.clone().into_bytes()));
        v.push((
            [b"2".as_slice(), &(i as u32 + 1).to_le_bytes()].concat(),
            rec.clone().into_bytes(),
        ));
        v.push((
            [b"3".as_slice(), &(i as u32 + 1000).to_le_bytes()].concat(),
            rec.into_bytes(),
        ));
    }
    v
}

#[test]
fn small_table_is_read_by_libdb1_in_both_byte_orders() {
    let pairs: Pairs = vec![
        (b"VERSION\0".to_vec(), vec![1, 0, 0, 0]),
        (b"1root".to_vec(), b"root\0hash\0".to_vec()),
        (b"empty data".to_vec(), Vec::new()),
    ];
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let bytes = write(&pairs, order);
        assert_eq!(
            &bytes[0..4],
            &[0x00, 0x06, 0x15, 0x61],
            "HASHMAGIC, big-endian header"
        );
        check_everywhere(&bytes, &pairs);
    }
}

#[test]
fn six_thousand_keys_with_long_records_use_overflow_pages_in_both_orders() {
    // 2,000 users × 3 keys, records of ~300 bytes: 256 buckets of ~23
    // pairs do not fit 4 KiB pages, so many chains need overflow pages.
    let pairs = user_like_pairs(2000, 280);
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let bytes = write(&pairs, order);
        let f = HashFile::parse(bytes.clone()).unwrap();
        let h = f.header();
        assert_eq!(h.max_bucket, 255);
        assert!(
            h.spares[h.ovfl_point as usize] > 50,
            "overflow pages: {:?}",
            h.spares
        );
        check_everywhere(&bytes, &pairs);
    }
}

#[test]
fn big_keys_and_data_span_pages_and_share_buckets() {
    let mut pairs: Pairs = Vec::new();
    for i in 0..40usize {
        let klen = [1, 33, 4000, 4081, 4082, 9000][i % 6];
        let dlen = [0, 10, 4070, 4071, 4072, 4073, 20000][i % 7];
        let key: Vec<u8> = (0..klen).map(|j| (j * 7 + i) as u8).collect();
        let mut key = key;
        key.extend_from_slice(format!("#{i}").as_bytes());
        let data: Vec<u8> = (0..dlen).map(|j| (j * 13 + i) as u8).collect();
        pairs.push((key, data));
    }
    // Plenty of small pairs in the same few buckets around them.
    for i in 0..300 {
        pairs.push((format!("small{i}").into_bytes(), vec![b'x'; i % 50]));
    }
    for order in [ByteOrder::Little, ByteOrder::Big] {
        check_everywhere(&write(&pairs, order), &pairs);
    }
}

#[test]
fn libdb1_keeps_inserting_and_splitting_into_a_table_we_wrote() {
    let pairs = user_like_pairs(500, 100);
    let bytes = write(&pairs, ByteOrder::Little);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grow.db");
    std::fs::write(&path, &bytes).unwrap();
    // 6,000 more pairs: the library splits buckets, moves to new split
    // points and allocates overflow pages from our bitmap.
    let extra: Pairs = (0..6000)
        .map(|i| (format!("extra-{i}").into_bytes(), vec![b'e'; 40 + i % 200]))
        .collect();
    libdb1_put(&path, &extra);
    let all: Pairs = pairs.iter().chain(extra.iter()).cloned().collect();
    let grown = std::fs::read(&path).unwrap();
    check_everywhere(&grown, &all);
}

#[test]
fn our_reader_reads_tables_libdb1_wrote_with_splits_and_big_pairs() {
    let mut pairs = user_like_pairs(1500, 150);
    pairs.push((b"big data".to_vec(), vec![7u8; 12000]));
    pairs.push((vec![b'K'; 5000], b"big key".to_vec()));
    for lorder in [1234u32, 4321] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("real.db");
        libdb1_create(&path, lorder, &pairs);
        let f = HashFile::parse(std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(f.byte_order().lorder(), lorder);
        for (k, d) in &pairs {
            assert_eq!(f.get(k).unwrap().as_ref(), Some(d));
        }
        assert_eq!(f.pairs().unwrap().len(), pairs.len());
    }
}

#[test]
fn same_pairs_give_the_same_bytes() {
    let pairs = user_like_pairs(300, 50);
    assert_eq!(
        write(&pairs, ByteOrder::Little),
        write(&pairs, ByteOrder::Little)
    );
    assert_ne!(
        write(&pairs, ByteOrder::Little),
        write(&pairs, ByteOrder::Big)
    );
}

#[test]
fn duplicate_and_empty_keys_are_refused() {
    let mut w = HashWriter::new(HashParams::new(4096, 32, 256, ByteOrder::Little)).unwrap();
    w.insert(b"a", b"1").unwrap();
    assert!(w.insert(b"a", b"2").is_err());
    assert!(!w.insert_new(b"a", b"3").unwrap());
    assert!(w.insert(b"", b"x").is_err());
    let f = HashFile::parse(w.finish().unwrap()).unwrap();
    assert_eq!(f.get(b"a").unwrap(), Some(b"1".to_vec()));
}

#[test]
fn corrupt_files_give_errors_not_panics() {
    let mut pairs = user_like_pairs(200, 60);
    pairs.push((b"big".to_vec(), vec![1u8; 9000]));
    let good = write(&pairs, ByteOrder::Little);
    assert!(HashFile::parse(good[..100].to_vec()).is_err());
    let mut bad_magic = good.clone();
    bad_magic[3] ^= 1;
    assert!(HashFile::parse(bad_magic).is_err());
    // Flip bytes all over the file (deterministic xorshift) and truncate:
    // every outcome is Ok or Err, never a panic or a hang.
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for round in 0..300 {
        let mut b = good.clone();
        for _ in 0..(1 + round % 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = (x as usize) % b.len();
            b[at] = (x >> 32) as u8;
        }
        if round % 5 == 0 {
            let cut = (x as usize >> 8) % b.len();
            b.truncate(cut);
        }
        if let Ok(f) = HashFile::parse(b) {
            let _ = f.pairs();
            let _ = f.get(b"1user00001");
            let _ = f.get(b"big");
        }
    }
}

#[test]
fn pairs_at_every_page_boundary_size_are_found_by_libdb1() {
    // Sizes around "fits on a page" (4096 - 6 - 8 bytes of slots) and
    // around the __big_insert hacks that keep FREESPACE non-zero.
    let mut pairs: Pairs = Vec::new();
    for dlen in 4060..4100usize {
        for klen in 1..=3usize {
            let key = format!("{}{dlen}", "k".repeat(klen)).into_bytes();
            pairs.push((key, vec![(dlen % 251) as u8; dlen]));
        }
    }
    for klen in 4070..4100usize {
        for dlen in 0..=3usize {
            let mut key = vec![b'K'; klen];
            key.extend_from_slice(format!("/{dlen}").as_bytes());
            pairs.push((key, vec![b'd'; dlen]));
        }
    }
    for order in [ByteOrder::Little, ByteOrder::Big] {
        check_everywhere(&write(&pairs, order), &pairs);
    }
}

#[test]
fn small_pages_of_256_bytes_with_a_two_page_header_are_read_by_libdb1() {
    let pairs: Pairs = (0..400)
        .map(|i| (format!("key{i}").into_bytes(), vec![b'v'; i % 300]))
        .collect();
    let mut w = HashWriter::new(HashParams::new(256, 8, 1, ByteOrder::Big)).unwrap();
    for (k, d) in &pairs {
        w.insert(k, d).unwrap();
    }
    let bytes = w.finish().unwrap();
    let f = HashFile::parse(bytes.clone()).unwrap();
    assert_eq!((f.header().bsize, f.header().hdrpages), (256, 2));
    check_everywhere(&bytes, &pairs);
}

mod random {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(40))]
        #[test]
        fn any_pairs_read_back_through_our_reader(
            sizes in proptest::collection::vec((1usize..6000, 0usize..9000), 1..40),
            bshift in 8u32..=13,
            big_endian in any::<bool>(),
        ) {
            let order = if big_endian { ByteOrder::Big } else { ByteOrder::Little };
            let mut w = HashWriter::new(HashParams::new(1 << bshift, 16, 1, order)).unwrap();
            let mut want = BTreeMap::new();
            for (i, (k, d)) in sizes.iter().enumerate() {
                let mut key = format!("{i}:").into_bytes();
                key.resize(*k + key.len(), (i % 200) as u8 + 1);
                let data = vec![(i % 97) as u8; *d];
                w.insert(&key, &data).unwrap();
                want.insert(key, data);
            }
            let f = HashFile::parse(w.finish().unwrap()).unwrap();
            for (k, d) in &want {
                prop_assert_eq!(f.get(k).unwrap(), Some(d.clone()));
            }
            let listed: BTreeMap<_, _> = f.pairs().unwrap().into_iter().collect();
            prop_assert!(listed == want);
        }
    }
}
