//! Hostile or damaged input never panics: it is an error with a message.

use mkimage::entry::{Entry, EntrySink, Timestamp};
use mkimage::pkgsrc::Target;
use mkimage::pkgsrc::archive::read_package;
use mkimage::pkgsrc::install::{Installer, Owners};
use mkimage::pkgsrc::install_script::parse;
use mkimage::pkgsrc::resolve::resolve;
use mkimage::pkgsrc::summary::{decode_summary, parse_pkg_list, parse_summary};
use mkimage::testkit::pkgrepo::{RepoOptions, generate};
use proptest::prelude::*;
use std::io::Read;

struct Null;
impl EntrySink for Null {
    fn add(&mut self, _: &Entry, data: &mut dyn Read) -> anyhow::Result<()> {
        std::io::copy(data, &mut std::io::sink())?;
        Ok(())
    }
}

struct Root;
impl Owners for Root {
    fn uid(&self, u: &str) -> Option<u32> {
        (u == "root").then_some(0)
    }
    fn gid(&self, g: &str) -> Option<u32> {
        (g == "wheel").then_some(0)
    }
}

fn sudo_package() -> (Vec<u8>, mkimage::pkgsrc::resolve::PlannedPackage) {
    let dir = tempfile::tempdir().unwrap();
    let info = generate(dir.path(), &RepoOptions::default()).unwrap();
    let s = std::fs::read(info.all_dir.join("pkg_summary.gz")).unwrap();
    let recs = parse_summary("s", &decode_summary("s", &s).unwrap()).unwrap();
    let plan = resolve(&recs, &["sudo".to_string()]).unwrap();
    (
        std::fs::read(info.all_dir.join(&plan[0].file_name)).unwrap(),
        plan[0].clone(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn damaged_package_bytes_fail_cleanly(pos in 0usize..4000, val in any::<u8>(), cut in 0usize..4000) {
        let (mut bytes, mut pkg) = sudo_package();
        let p = pos % bytes.len();
        bytes[p] ^= val | 1;
        bytes.truncate(cut.max(1).min(bytes.len()));
        pkg.file_size = None;
        pkg.file_cksum = None;
        let scratch = tempfile::tempdir().unwrap();
        let mut inst = Installer::new(Target::new("NetBSD", "x86_64", "10.1"), scratch.path(), Timestamp::from_secs(0));
        if let Ok(plan) = inst.prepare(&pkg, bytes.as_slice(), &Root) {
            let _ = inst.install(&plan, bytes.as_slice(), &mut Null, &Root);
        }
        let _ = read_package(bytes.as_slice(), false, |_, _| Ok(()));
    }

    #[test]
    fn arbitrary_text_never_panics_the_parsers(text in "(# (USER|GROUP|DIR|FILE|PERMS|SHELL): [a-z:/ 0-9]{0,30}\n|# \\$NetBSD: [a-z-]{0,12},v 1\n|[A-Z_]{1,8}=[a-z0-9.<>=*{},-]{0,20}\n|[ -~]{0,40}\n){0,20}") {
        let _ = parse(&text);
        let _ = parse_pkg_list(&text);
        if let Ok(recs) = parse_summary("fuzz", text.as_bytes()) {
            let _ = resolve(&recs, &parse_pkg_list(&text));
        }
        let _ = decode_summary("fuzz", text.as_bytes());
    }
}
