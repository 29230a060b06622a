//! Shared fixtures for the fetch tests: a tiny NetBSD-style mirror tree
//! (two `.tar.xz` sets made with the tar and liblzma crates, `SHA512` and
//! `MD5` in `cksum -a` format) and a fetcher with millisecond backoff.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use mkimage::fetch::{FetchOptions, Fetcher, ReleaseLayout, RetryPolicy};
use sha2::Digest as _;

pub const SETS_DIR: &str = "pub/NetBSD/NetBSD-10.1/amd64/binary/sets";

/// Deterministic, poorly compressible bytes.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A tar archive (xz-compressed) holding `files` under `./`.
pub fn tar_xz(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut dir = tar::Header::new_ustar();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_path("./").unwrap();
    dir.set_mode(0o755);
    dir.set_uid(0);
    dir.set_gid(0);
    dir.set_mtime(1_700_000_000);
    dir.set_size(0);
    dir.set_cksum();
    b.append(&dir, std::io::empty()).unwrap();
    for (name, data) in files {
        let mut h = tar::Header::new_ustar();
        h.set_path(format!("./{name}")).unwrap();
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_size(data.len() as u64);
        h.set_cksum();
        b.append(&h, &data[..]).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut enc = liblzma::write::XzEncoder::new(Vec::new(), 1);
    enc.write_all(&tar).unwrap();
    enc.finish().unwrap()
}

pub struct Mirror {
    pub dir: tempfile::TempDir,
    /// (name, bytes) of each set.
    pub sets: Vec<(String, Vec<u8>)>,
}

impl Mirror {
    pub fn sets_path(&self) -> PathBuf {
        self.dir.path().join(SETS_DIR)
    }
    pub fn bytes(&self, name: &str) -> &[u8] {
        &self.sets.iter().find(|(n, _)| n == name).unwrap().1
    }
}

pub fn sha512_hex(b: &[u8]) -> String {
    hex::encode(&sha2::Sha512::digest(b)[..])
}

/// `pub/NetBSD/NetBSD-10.1/amd64/binary/sets/{base,etc}.tar.xz` + SHA512 + MD5.
pub fn netbsd_mirror() -> Mirror {
    let dir = tempfile::tempdir().unwrap();
    let sets_dir = dir.path().join(SETS_DIR);
    std::fs::create_dir_all(&sets_dir).unwrap();
    let sets = vec![
        (
            "base.tar.xz".to_string(),
            tar_xz(&[
                ("bin/sh", noise(1, 300_000)),
                ("etc/mtree/set.base", b"./bin/sh\n".to_vec()),
            ]),
        ),
        (
            "etc.tar.xz".to_string(),
            tar_xz(&[("etc/rc.conf", b"rc_configured=NO\n".to_vec())]),
        ),
    ];
    let mut sha = String::new();
    let mut md5s = String::new();
    for (name, bytes) in &sets {
        std::fs::write(sets_dir.join(name), bytes).unwrap();
        sha.push_str(&format!("SHA512 ({name}) = {}\n", sha512_hex(bytes)));
        md5s.push_str(&format!(
            "MD5 ({name}) = {}\n",
            hex::encode(&md5::Md5::digest(bytes)[..])
        ));
    }
    std::fs::write(sets_dir.join("SHA512"), sha).unwrap();
    std::fs::write(sets_dir.join("MD5"), md5s).unwrap();
    Mirror { dir, sets }
}

pub fn layout() -> ReleaseLayout {
    ReleaseLayout::NetBsd {
        release: "10.1".into(),
        machine: "amd64".into(),
    }
}

pub fn options(cache: &Path) -> FetchOptions {
    FetchOptions {
        cache_dir: Some(cache.to_path_buf()),
        retry: RetryPolicy::fast_for_tests(),
        ..FetchOptions::default()
    }
}

pub fn fetcher(cache: &Path) -> Fetcher {
    Fetcher::new(options(cache)).unwrap()
}

pub fn names(n: &[&str]) -> Vec<String> {
    n.iter().map(|s| s.to_string()).collect()
}

/// Files under `dir/sub` (for checking that nothing was left behind).
pub fn files_in(dir: &Path, sub: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join(sub))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
