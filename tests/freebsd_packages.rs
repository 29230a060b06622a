//! FreeBSD packages at build time: a synthetic pkg(8) repository, its
//! catalogue, resolving the builds-service list with dependencies first,
//! and streaming each package's payload (digests checked against
//! +MANIFEST) into the image's file system.

mod freebsd_common;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;

use freebsd_common::*;
use mkimage::disk::RawFile;
use mkimage::entry::{Entry, EntryKind, EntrySink, Timestamp};
use mkimage::fs::ffs::{self, FfsReader, FfsWriter, Flavour, FsOptions};
use mkimage::pkg_freebsd::{Catalogue, read_package, resolve};
use mkimage::testkit::freebsd_pkgrepo::{ABI, generate_freebsd_pkgrepo};
use sha2::{Digest, Sha256};

const LIST: [&str; 5] = ["bash", "curl", "git", "mercurial", "sudo"];

fn list() -> Vec<String> {
    LIST.iter().map(|s| s.to_string()).collect()
}

#[derive(Default)]
struct Collect(BTreeMap<String, (EntryKind, u16, Vec<u8>)>);

impl EntrySink for Collect {
    fn add(&mut self, entry: &Entry, data: &mut dyn Read) -> anyhow::Result<()> {
        let mut buf = Vec::new();
        data.read_to_end(&mut buf)?;
        self.0
            .insert(entry.path.clone(), (entry.kind.clone(), entry.mode, buf));
        Ok(())
    }
}

#[test]
fn catalogue_lists_every_package_with_the_digest_of_its_file() {
    let d = tempfile::tempdir().unwrap();
    let repo = generate_freebsd_pkgrepo(d.path(), 1).unwrap();
    assert!(repo.dir.ends_with("FreeBSD:14:amd64/quarterly"));
    let cat = Catalogue::from_packagesite(
        File::open(repo.dir.join("packagesite.pkg")).unwrap(),
        "packagesite.pkg",
    )
    .unwrap();
    assert_eq!(cat.packages.len(), repo.packages.len());
    for (name, m) in &cat.packages {
        let file = repo.dir.join(&m.repopath);
        let (sum, _) = run(tool("sha256sum").arg(&file));
        assert_eq!(m.sum, sum.split_whitespace().next().unwrap(), "{name}");
        assert_eq!(m.pkgsize, fs::metadata(&file).unwrap().len());
        assert!(
            m.files.is_empty(),
            "catalogue entries are compact manifests"
        );
    }
    // GNU tar reads the packages: metadata first, then absolute names.
    let git = &cat.packages["git"];
    let (listing, _) = run(tool("tar")
        .args(["--zstd", "-tf"])
        .arg(repo.dir.join(&git.repopath)));
    let names: Vec<&str> = listing.lines().collect();
    assert_eq!(&names[..2], ["+COMPACT_MANIFEST", "+MANIFEST"]);
    assert!(
        names[2..].iter().all(|n| n.starts_with("/usr/local/")),
        "{names:?}"
    );
}

#[test]
fn builds_list_resolves_with_dependencies_first_and_ports_by_name() {
    let d = tempfile::tempdir().unwrap();
    let repo = generate_freebsd_pkgrepo(d.path(), 1).unwrap();
    let cat = Catalogue::from_packagesite(
        File::open(repo.dir.join("packagesite.pkg")).unwrap(),
        "packagesite.pkg",
    )
    .unwrap();
    let plan = resolve(&cat, &list()).unwrap();
    let names: Vec<&str> = plan.iter().map(|p| p.manifest.name.as_str()).collect();
    // every dependency comes before its dependants, each package once
    for (i, p) in plan.iter().enumerate() {
        for dep in p.manifest.deps.keys() {
            let at = names.iter().position(|n| n == dep).unwrap();
            assert!(at < i, "{dep} after {}", p.manifest.name);
        }
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len());
    // `mercurial` is the port of py311-mercurial
    let hg = plan
        .iter()
        .find(|p| p.manifest.name == "py311-mercurial")
        .unwrap();
    assert!(!hg.automatic);
    let py = plan
        .iter()
        .find(|p| p.manifest.name == "python311")
        .unwrap();
    assert!(py.automatic);
    assert!(!names.contains(&"pkg"), "pkg was not asked for");
    assert_eq!(
        names,
        [
            "indexinfo",
            "gettext-runtime",
            "bash",
            "ca_root_nss",
            "libnghttp2",
            "curl",
            "expat",
            "git",
            "python311",
            "py311-mercurial",
            "sudo"
        ]
    );
    let err = resolve(&cat, &["nosuch".to_string()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("nosuch is not in the repository"), "{err}");
}

#[test]
fn package_payload_arrives_relative_to_root_with_checked_contents() {
    let d = tempfile::tempdir().unwrap();
    let repo = generate_freebsd_pkgrepo(d.path(), 2).unwrap();
    let git = &repo.packages["git"];
    let mut sink = Collect::default();
    let installed =
        read_package(File::open(&git.path).unwrap(), "git.pkg", ABI, &mut sink).unwrap();
    assert_eq!(installed.manifest.pkgname(), "git-2.50.0");
    assert_eq!(installed.manifest.deps.len(), 3);
    let (kind, mode, data) = &sink.0["usr/local/bin/git"];
    assert_eq!(*kind, EntryKind::File);
    assert_eq!(*mode, 0o555);
    assert_eq!(data, &git.files["/usr/local/bin/git"]);
    assert!(matches!(&sink.0["usr/local/libexec/git-core/git"].0,
        EntryKind::HardLink(t) if t == "usr/local/bin/git"));
    assert_eq!(sink.0["usr/local/libexec/git-core"].0, EntryKind::Dir);
    let sudo = &repo.packages["sudo"];
    let mut sink = Collect::default();
    let s = read_package(File::open(&sudo.path).unwrap(), "sudo.pkg", ABI, &mut sink).unwrap();
    assert_eq!(sink.0["usr/local/bin/sudo"].1, 0o4111);
    assert!(
        s.manifest
            .files
            .contains_key("/usr/local/etc/sudoers.sample")
    );
    // a package for another release is refused
    let err = read_package(
        File::open(&sudo.path).unwrap(),
        "sudo.pkg",
        "FreeBSD:13:amd64",
        &mut Collect::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("built for FreeBSD:14:amd64, the image is FreeBSD:13:amd64"),
        "{err}"
    );
}

/// A zstd `.pkg` with `manifest` and one file whose data is `data`.
fn hand_made_pkg(path: &std::path::Path, manifest: &str, file: &str, data: &[u8]) {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.as_ustar_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(bytes.len() as u64);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, bytes).unwrap();
    };
    add("+COMPACT_MANIFEST", manifest.as_bytes());
    add("+MANIFEST", manifest.as_bytes());
    add(file, data);
    let tar = b.into_inner().unwrap();
    fs::write(path, zstd::encode_all(tar.as_slice(), 3).unwrap()).unwrap();
}

#[test]
fn wrong_digest_unlisted_file_or_escaping_name_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let good = hex::encode(Sha256::digest(b"hello"));
    let manifest = |sum: &str| {
        format!(
            r#"{{"name":"x","version":"1","origin":"misc/x","abi":"FreeBSD:14:amd64","files":{{"/usr/local/bin/x":"1${sum}"}}}}"#
        )
    };
    let p = d.path().join("x.pkg");
    hand_made_pkg(&p, &manifest(&good), "/usr/local/bin/x", b"hello");
    let mut sink = Collect::default();
    read_package(File::open(&p).unwrap(), "x.pkg", ABI, &mut sink).unwrap();
    assert_eq!(sink.0["usr/local/bin/x"].2, b"hello");

    hand_made_pkg(&p, &manifest(&good), "/usr/local/bin/x", b"hellO");
    let err = read_package(
        File::open(&p).unwrap(),
        "x.pkg",
        ABI,
        &mut Collect::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("does not match +MANIFEST"), "{err}");

    hand_made_pkg(&p, &manifest(&good), "/usr/local/bin/y", b"hello");
    let err = format!(
        "{:#}",
        read_package(
            File::open(&p).unwrap(),
            "x.pkg",
            ABI,
            &mut Collect::default()
        )
        .unwrap_err()
    );
    assert!(err.contains("not listed"), "{err}");

    hand_made_pkg(&p, &manifest(&good), "/usr/../../etc/x", b"hello");
    let err = format!(
        "{:#}",
        read_package(
            File::open(&p).unwrap(),
            "x.pkg",
            ABI,
            &mut Collect::default()
        )
        .unwrap_err()
    );
    assert!(err.contains(".."), "{err}");
}

#[test]
fn resolved_packages_install_into_a_clean_freebsd_file_system() {
    let d = tempfile::tempdir().unwrap();
    let repo = generate_freebsd_pkgrepo(d.path(), 3).unwrap();
    let cat = Catalogue::from_packagesite(
        File::open(repo.dir.join("packagesite.pkg")).unwrap(),
        "packagesite.pkg",
    )
    .unwrap();
    let plan = resolve(&cat, &list()).unwrap();
    let img = d.path().join("root.ufs");
    let size = 16 << 20;
    let mut opts = FsOptions::new(size, Flavour::FreeBsd);
    opts.time = Timestamp {
        secs: 1_749_513_600,
        nsec: 0,
    };
    let mut w = FfsWriter::new(RawFile::create(&img, size).unwrap(), opts).unwrap();
    for p in &plan {
        let f = File::open(repo.dir.join(&p.manifest.repopath)).unwrap();
        read_package(f, &p.manifest.repopath, ABI, &mut w).unwrap();
    }
    w.finish().unwrap();
    let findings = ffs::check(RawFile::open_read_only(&img).unwrap()).unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
    let mut r = FfsReader::open(RawFile::open_read_only(&img).unwrap()).unwrap();
    let ino = r.lookup("usr/local/bin/bash").unwrap();
    assert_eq!(
        r.read_bytes(ino, 1 << 20).unwrap(),
        repo.packages["bash"].files["/usr/local/bin/bash"]
    );
    assert_eq!(
        r.stat("usr/local/bin/bash").unwrap().nlink,
        2,
        "bash and rbash"
    );
    let (list, _) = run(tool("fls").args(["-r", "-p", "-f", "ufs2"]).arg(&img));
    for p in [
        "usr/local/bin/hg",
        "usr/local/etc/ssl/cert.pem",
        "usr/local/bin/sudo",
    ] {
        assert!(
            list.lines().any(|l| l.ends_with(&format!("\t{p}"))),
            "{p} not in fls"
        );
    }
}

fn sqlite(db: &std::path::Path, sql: &str) -> String {
    run(tool("sqlite3").arg(db).arg(sql)).0
}

#[test]
fn local_sqlite_registers_every_package_for_pkg_and_sqlite3_reads_it() {
    use mkimage::pkg_freebsd::pkgdb::{DB_VERSION, Registration, write_local_db};
    let d = tempfile::tempdir().unwrap();
    let repo = generate_freebsd_pkgrepo(d.path(), 4).unwrap();
    let cat = Catalogue::from_packagesite(
        File::open(repo.dir.join("packagesite.pkg")).unwrap(),
        "packagesite.pkg",
    )
    .unwrap();
    let plan = resolve(&cat, &list()).unwrap();
    let mut regs = Vec::new();
    for p in &plan {
        let f = File::open(repo.dir.join(&p.manifest.repopath)).unwrap();
        let installed =
            read_package(f, &p.manifest.repopath, ABI, &mut Collect::default()).unwrap();
        regs.push(Registration {
            manifest: installed.manifest,
            automatic: p.automatic,
        });
    }
    let db = d.path().join("local.sqlite");
    write_local_db(&db, &regs, 1_749_513_600).unwrap();
    assert_eq!(
        sqlite(&db, "PRAGMA user_version;").trim(),
        DB_VERSION.to_string()
    );
    assert_eq!(sqlite(&db, "PRAGMA integrity_check;").trim(), "ok");
    assert_eq!(sqlite(&db, "PRAGMA foreign_key_check;").trim(), "");
    let rows = sqlite(
        &db,
        "SELECT name, version, automatic, arch FROM packages ORDER BY name;",
    );
    let rows: Vec<&str> = rows.lines().collect();
    assert_eq!(rows.len(), plan.len());
    assert!(rows.contains(&"git|2.50.0|0|FreeBSD:14:amd64"), "{rows:?}");
    assert!(
        rows.contains(&"python311|3.11.13|1|FreeBSD:14:amd64"),
        "{rows:?}"
    );
    // git's files with their checksums, its dependencies
    let files = sqlite(
        &db,
        "SELECT f.path || ' ' || f.sha256 FROM files f JOIN packages p ON f.package_id = p.id WHERE p.name = 'git' ORDER BY f.path;",
    );
    let want_git = &repo.packages["git"].files["/usr/local/bin/git"];
    let line = format!(
        "/usr/local/bin/git 1${}",
        hex::encode(Sha256::digest(want_git))
    );
    assert!(files.lines().any(|l| l == line), "{files}");
    assert_eq!(files.lines().count(), 4, "{files}");
    let deps = sqlite(
        &db,
        "SELECT d.name FROM deps d JOIN packages p ON d.package_id = p.id WHERE p.name = 'git' ORDER BY d.name;",
    );
    assert_eq!(deps, "curl\nexpat\ngettext-runtime\n");
    // bash's post-install script is kept under pkg's type number 1
    let script = sqlite(
        &db,
        "SELECT ps.type FROM pkg_script ps JOIN packages p ON ps.package_id = p.id WHERE p.name = 'bash';",
    );
    assert_eq!(script.trim(), "1");
    let dirs = sqlite(&db, "SELECT path FROM directories ORDER BY path;");
    assert_eq!(
        dirs,
        "/usr/local/etc/sudoers.d\n/usr/local/libexec/git-core\n"
    );
    // same input, same bytes
    let again = d.path().join("again.sqlite");
    write_local_db(&again, &regs, 1_749_513_600).unwrap();
    assert_eq!(fs::read(&db).unwrap(), fs::read(&again).unwrap());
    assert!(
        write_local_db(&db, &regs, 0).is_err(),
        "an existing database is not overwritten"
    );
}
