//! Acceptance of packages in `mkimage netbsd` (issue 8) and of the account
//! databases in the finished image (issues 6 and 7): an image built from
//! the synthetic mirror and the synthetic pkgsrc repository, both served
//! over HTTP, read back with `mkimage cat`, libdb1's dbopen(3) and the
//! db185 crate.

#[path = "accounts_common/mod.rs"]
mod accounts_common;
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{mkimage, run_ok};
use mkimage::testkit::mirror::{MirrorSize, NetbsdMirrorOptions, generate_netbsd};
use mkimage::testkit::pkgrepo::{self, RepoOptions};
use mkimage::testkit::server::TestServer;

struct Built {
    dir: tempfile::TempDir,
    _server: TestServer,
    image: PathBuf,
}

fn built() -> &'static Built {
    static B: OnceLock<Built> = OnceLock::new();
    B.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mirror");
        generate_netbsd(&root, &NetbsdMirrorOptions::new(MirrorSize::Tiny, 1)).unwrap();
        pkgrepo::generate(&root, &RepoOptions { seed: 1 }).unwrap();
        let server = TestServer::start(&root).unwrap();
        let list = dir.path().join("pkgs.txt");
        // The builds-service list plus a daemon that adds its own user.
        std::fs::write(
            &list,
            "bash\ncurl\ngit-base\ngnupg\nmercurial\nmoreutils\nsudo\npkgin\ndbus\n",
        )
        .unwrap();
        let image = dir.path().join("out.qcow2");
        run_ok(
            mkimage()
                .args(["-q", "netbsd", "--arch", "amd64", "--seed", "pkgs"])
                .arg("--mirror")
                .arg(format!("{}/pub/NetBSD/", server.url()))
                .arg("--pkg-repo")
                .arg(format!("{}/{}", server.url(), pkgrepo::ALL_DIR))
                .arg("--pkg-list")
                .arg(&list)
                .arg("--cache-dir")
                .arg(dir.path().join("cache"))
                .arg("-o")
                .arg(&image),
        );
        Built {
            dir,
            _server: server,
            image,
        }
    })
}

fn cat(path: &str) -> Vec<u8> {
    let out = mkimage()
        .arg("cat")
        .arg(&built().image)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cat {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn cat_text(path: &str) -> String {
    String::from_utf8(cat(path)).unwrap()
}

fn ls(path: &str) -> String {
    run_ok(mkimage().arg("ls").arg(&built().image).arg(path))
}

/// A file of the image copied out to the host, for tools that want a path.
fn extract(path: &str) -> PathBuf {
    let local = built()
        .dir
        .path()
        .join(path.trim_start_matches('/').replace('/', "_"));
    std::fs::write(&local, cat(path)).unwrap();
    local
}

fn installed() -> Vec<String> {
    ls("/usr/pkg/pkgdb")
        .lines()
        .filter(|l| l.starts_with('d'))
        .filter_map(|l| l.split_whitespace().last())
        .filter(|n| *n != "." && *n != "..")
        .map(str::to_string)
        .collect()
}

#[test]
fn the_image_with_packages_verifies_clean() {
    run_ok(mkimage().arg("verify").arg("--mtree").arg(&built().image));
}

#[test]
fn every_package_has_a_pkgdb_directory_with_what_pkg_add_writes() {
    let pkgs = installed();
    for wanted in ["bash-", "sudo-", "pkgin-", "curl-", "git-base-", "dbus-"] {
        assert!(
            pkgs.iter().any(|p| p.starts_with(wanted)),
            "{wanted} in {pkgs:?}"
        );
    }
    for p in &pkgs {
        for f in ["+CONTENTS", "+COMMENT", "+DESC", "+BUILD_INFO"] {
            assert!(
                !cat(&format!("/usr/pkg/pkgdb/{p}/{f}")).is_empty(),
                "{p}/{f}"
            );
        }
        let contents = cat_text(&format!("/usr/pkg/pkgdb/{p}/+CONTENTS"));
        assert!(contents.contains(&format!("@name {p}")), "{p}: {contents}");
    }
    // Listed packages are not automatic; a package pulled in only as a
    // dependency is, and its dependents are recorded in +REQUIRED_BY.
    let sudo = pkgs.iter().find(|p| p.starts_with("sudo-")).unwrap();
    let listing = ls(&format!("/usr/pkg/pkgdb/{sudo}"));
    if listing.contains("+INSTALLED_INFO") {
        let info = cat_text(&format!("/usr/pkg/pkgdb/{sudo}/+INSTALLED_INFO"));
        assert!(!info.contains("automatic=yes"), "{info}");
    }
    let wanted: BTreeSet<&str> = [
        "bash",
        "curl",
        "git-base",
        "gnupg",
        "mercurial",
        "moreutils",
        "sudo",
        "pkgin",
        "dbus",
    ]
    .into();
    let dep = pkgs
        .iter()
        .find(|p| {
            let base = p.rsplit_once('-').map(|(b, _)| b).unwrap_or(p);
            !wanted.contains(base)
        })
        .expect("at least one dependency-only package");
    let info = cat_text(&format!("/usr/pkg/pkgdb/{dep}/+INSTALLED_INFO"));
    assert!(info.contains("automatic=yes"), "{dep}: {info}");
    let required_by = cat_text(&format!("/usr/pkg/pkgdb/{dep}/+REQUIRED_BY"));
    assert!(!required_by.trim().is_empty(), "{dep}");
    assert!(
        ls("/var/db").lines().all(|l| !l.ends_with(" pkg")),
        "no /var/db/pkg"
    );
    assert_eq!(
        cat_text("/etc/pkg_install.conf").trim(),
        "PKG_DBDIR=/usr/pkg/pkgdb"
    );
}

#[test]
fn pkgdb_byfile_db_lists_exactly_the_installed_files() {
    let db_path = extract("/usr/pkg/pkgdb/pkgdb.byfile.db");
    let db = ::db185::Db::open(&db_path).unwrap();
    let mut recorded = BTreeSet::new();
    for e in &db {
        let e = e.unwrap();
        let val = String::from_utf8_lossy(e.value()).into_owned();
        if val.starts_with("@pkgdir") {
            continue;
        }
        let key = String::from_utf8_lossy(e.key().strip_suffix(b"\0").unwrap()).into_owned();
        recorded.insert(key);
    }
    let mut listed = BTreeSet::new();
    for p in installed() {
        let contents = cat_text(&format!("/usr/pkg/pkgdb/{p}/+CONTENTS"));
        let mut cwd = String::from("/usr/pkg");
        for line in contents.lines() {
            if let Some(d) = line.strip_prefix("@cwd ") {
                cwd = d.trim().to_string();
            } else if !line.starts_with('@') && !line.starts_with('+') && !line.is_empty() {
                listed.insert(format!("{cwd}/{line}"));
            }
        }
    }
    assert_eq!(recorded, listed);
    for f in &listed {
        let out = mkimage()
            .arg("ls")
            .arg(&built().image)
            .arg(f)
            .output()
            .unwrap();
        assert!(out.status.success(), "{f} recorded but not in the image");
    }
}

#[test]
fn sudo_is_setuid_root_and_wheel_may_use_it_without_a_password() {
    let line = ls("/usr/pkg/bin/sudo");
    let f: Vec<&str> = line.split_whitespace().collect();
    assert!(f[0].starts_with("-r-s"), "{line}");
    assert_eq!((f[2], f[3]), ("0", "0"), "{line}");
    let rule = cat_text("/usr/pkg/etc/sudoers.d/wheel");
    assert!(
        rule.lines()
            .any(|l| l.trim() == "%wheel ALL=(ALL) NOPASSWD: ALL"),
        "{rule}"
    );
    let repos = cat_text("/usr/pkg/etc/pkgin/repositories.conf");
    assert!(repos.contains(pkgrepo::ALL_DIR), "{repos}");
}

#[test]
fn bash_is_a_login_shell() {
    let shells = cat_text("/etc/shells");
    assert!(
        shells.lines().any(|l| l.trim() == "/usr/pkg/bin/bash"),
        "{shells}"
    );
}

fn by_name(name: &str) -> Vec<u8> {
    let mut k = vec![b'1'];
    k.extend_from_slice(name.as_bytes());
    k
}

fn by_uid(uid: u32) -> Vec<u8> {
    let mut k = vec![b'3'];
    k.extend_from_slice(&uid.to_le_bytes());
    k
}

/// The NUL-separated string fields at the start of a NetBSD record:
/// name, password, then (after the binary ids) class, gecos, dir, shell.
fn first_fields(rec: &[u8]) -> (String, String) {
    let mut it = rec.split(|b| *b == 0);
    let name = String::from_utf8_lossy(it.next().unwrap()).into_owned();
    let pass = String::from_utf8_lossy(it.next().unwrap()).into_owned();
    (name, pass)
}

#[test]
fn libdb1_finds_build_root_and_the_package_user_by_name_and_uid() {
    let pwd = extract("/etc/pwd.db");
    let spwd = extract("/etc/spwd.db");
    let master = cat_text("/etc/master.passwd");
    let messagebus = master
        .lines()
        .find(|l| l.starts_with("messagebus:"))
        .expect("dbus's user is in master.passwd");
    let mb_uid: u32 = messagebus.split(':').nth(2).unwrap().parse().unwrap();
    let keys = vec![
        by_name("build"),
        by_uid(1000),
        by_name("root"),
        by_uid(0),
        by_name("messagebus"),
        by_uid(mb_uid),
        by_name("nosuchuser"),
    ];
    for (db, secure) in [(&pwd, false), (&spwd, true)] {
        let got = accounts_common::libdb1_get(db, &keys);
        let names: Vec<Option<String>> = got
            .iter()
            .map(|v| v.as_ref().map(|r| first_fields(r).0))
            .collect();
        assert_eq!(
            names,
            [
                Some("build".to_string()),
                Some("build".to_string()),
                Some("root".to_string()),
                Some("root".to_string()),
                Some("messagebus".to_string()),
                Some("messagebus".to_string()),
                None
            ]
        );
        let (_, pass) = first_fields(got[0].as_ref().unwrap());
        if secure {
            assert_eq!(pass, "", "build has an empty password in spwd.db");
        } else {
            assert_eq!(pass, "*", "pwd.db never carries passwords");
        }
    }
}

#[test]
fn the_build_users_home_and_gitconfig_exist() {
    let line = ls("/home/build");
    assert!(line.contains(".gitconfig"), "{line}");
    let git = extract("/home/build/.gitconfig");
    let name = Command::new("git")
        .args(["config", "-f"])
        .arg(Path::new(&git))
        .args(["user.name"])
        .output()
        .unwrap();
    assert!(name.status.success());
    assert!(!String::from_utf8_lossy(&name.stdout).trim().is_empty());
}
