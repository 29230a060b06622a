//! The synthetic pkgsrc repository checked with tools other than mkimage's
//! own reader: system tar/gzip/xz/sha256sum and the `pkgsrc` crate's
//! package reader.

use mkimage::testkit::pkgrepo::{ALL_DIR, RepoOptions, generate};
use pkgsrc::archive::BinaryPackage;
use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} not runnable ({e}); run scripts/setup"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The `pkgsrc` crate reads gzip but not xz packages (pkg_install reads
/// both): give it the xz one as plain tar, decompressed by xz(1).
fn open_any(path: &std::path::Path, tmp: &std::path::Path) -> BinaryPackage {
    let head = std::fs::read(path).unwrap();
    if head.starts_with(b"\xfd7zXZ\0") {
        let tar = tmp.join(format!(
            "{}.tar",
            path.file_name().unwrap().to_string_lossy()
        ));
        let out = Command::new("xz")
            .args(["-dc"])
            .arg(path)
            .output()
            .expect("xz(1) missing: run scripts/setup");
        std::fs::write(&tar, out.stdout).unwrap();
        BinaryPackage::open(&tar).unwrap()
    } else {
        BinaryPackage::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

#[test]
fn packages_have_pkg_install_member_order_and_valid_md5s() {
    let dir = tempfile::tempdir().unwrap();
    let info = generate(dir.path(), &RepoOptions::default()).unwrap();
    assert!(info.all_dir.ends_with(ALL_DIR));
    let sudo = info.all_dir.join("sudo-1.9.16p2.tgz");
    let members: Vec<String> = run("tar", &["-tzf", sudo.to_str().unwrap()])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        members,
        [
            "+CONTENTS",
            "+COMMENT",
            "+DESC",
            "+INSTALL",
            "+BUILD_VERSION",
            "+BUILD_INFO",
            "+SIZE_PKG",
            "+SIZE_ALL",
            "bin/sudo",
            "share/examples/sudo/sudoers",
            "sbin/visudo",
        ]
    );
    for name in &info.packages {
        let path = info.all_dir.join(format!("{name}.tgz"));
        let pkg = open_any(&path, dir.path());
        assert_eq!(pkg.pkgname(), Some(name.as_str()));
        assert_eq!(pkg.build_info_value("MACHINE_ARCH"), Some("x86_64"));
        let extracted = dir.path().join("x").join(name);
        std::fs::create_dir_all(&extracted).unwrap();
        let flag = if name.starts_with("libunistring") {
            "-xJf"
        } else {
            "-xzf"
        };
        run(
            "tar",
            &[
                flag,
                path.to_str().unwrap(),
                "-C",
                extracted.to_str().unwrap(),
            ],
        );
        let failures = pkg.verify_checksums(&extracted).unwrap();
        if name == "badsum-1.0" {
            assert_eq!(failures.len(), 1, "badsum must carry exactly one wrong MD5");
        } else {
            assert!(failures.is_empty(), "{name}: {failures:?}");
        }
    }
}

#[test]
fn summary_matches_the_package_files() {
    let dir = tempfile::tempdir().unwrap();
    let info = generate(dir.path(), &RepoOptions::default()).unwrap();
    let gz = info.all_dir.join("pkg_summary.gz");
    let xz = info.all_dir.join("pkg_summary.xz");
    let text = run("gzip", &["-dc", gz.to_str().unwrap()]);
    assert_eq!(text, run("xz", &["-dc", xz.to_str().unwrap()]));
    let records: Vec<pkgsrc::Summary> = pkgsrc::Summary::from_reader(text.as_bytes())
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(records.len(), info.packages.len());
    for r in &records {
        let file = info.all_dir.join(r.file_name().unwrap());
        let sha = run("sha256sum", &[file.to_str().unwrap()]);
        assert_eq!(r.file_cksum().unwrap(), format!("sha256 {}", &sha[..64]));
        assert_eq!(
            r.file_size().unwrap(),
            std::fs::metadata(&file).unwrap().len()
        );
        let pkg = open_any(&file, dir.path());
        assert_eq!(pkg.build_info_value("OPSYS"), Some(r.opsys()));
        let plist_deps: Vec<&str> = pkg.plist().depends().collect();
        assert_eq!(
            plist_deps,
            r.depends()
                .unwrap_or(&[])
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
        );
    }
    let linux = records
        .iter()
        .find(|r| r.pkgname().pkgname() == "linuxonly-1.0")
        .unwrap();
    assert_eq!(linux.opsys(), "Linux");
}

#[test]
fn generation_is_deterministic_and_seeded() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    let ia = generate(a.path(), &RepoOptions { seed: 1 }).unwrap();
    let ib = generate(b.path(), &RepoOptions { seed: 1 }).unwrap();
    let ic = generate(c.path(), &RepoOptions { seed: 2 }).unwrap();
    for f in [
        "pkg_summary.gz",
        "pkg_summary.xz",
        "bash-5.2.37.tgz",
        "libunistring-1.3.tgz",
    ] {
        assert_eq!(
            std::fs::read(ia.all_dir.join(f)).unwrap(),
            std::fs::read(ib.all_dir.join(f)).unwrap(),
            "{f}"
        );
    }
    assert_ne!(
        std::fs::read(ia.all_dir.join("bash-5.2.37.tgz")).unwrap(),
        std::fs::read(ic.all_dir.join("bash-5.2.37.tgz")).unwrap()
    );
}
