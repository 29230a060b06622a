//! Installing packages from the synthetic repository into an in-memory
//! image, and checking the result the way pkg_add would have left it.

use mkimage::entry::{Entry, EntryKind, EntrySink, Timestamp};
use mkimage::pkgsrc::Target;
use mkimage::pkgsrc::install::{
    Accounts as AccountsApi, FinishReport, Installer, Owners, add_shells, install_packages,
    verify_package_file,
};
use mkimage::pkgsrc::install_script::AccountRequest;
use mkimage::pkgsrc::resolve::{PlannedPackage, resolve};
use mkimage::pkgsrc::summary::{decode_summary, parse_pkg_list, parse_summary};
use mkimage::testkit::pkgrepo::{RepoOptions, generate};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

const DEFAULT_LIST: &str = "bash\ncurl\ngit-base\ngnupg\nmercurial\nmoreutils\nsudo\npkgin\n";

#[derive(Default)]
struct Image {
    entries: BTreeMap<String, (Entry, Vec<u8>)>,
}

impl EntrySink for Image {
    fn add(&mut self, entry: &Entry, data: &mut dyn Read) -> anyhow::Result<()> {
        let mut bytes = Vec::new();
        if entry.kind == EntryKind::File {
            data.take(entry.size).read_to_end(&mut bytes)?;
            anyhow::ensure!(
                bytes.len() as u64 == entry.size,
                "short data for {}",
                entry.path
            );
        }
        self.entries
            .insert(entry.path.clone(), (entry.clone(), bytes));
        Ok(())
    }
}

impl Image {
    fn get(&self, path: &str) -> &(Entry, Vec<u8>) {
        self.entries
            .get(path)
            .unwrap_or_else(|| panic!("{path} is not in the image"))
    }
    fn text(&self, path: &str) -> String {
        String::from_utf8(self.get(path).1.clone()).unwrap()
    }
}

/// The image's accounts: a NetBSD-like base plus what packages request.
struct Accounts {
    users: BTreeMap<String, u32>,
    groups: BTreeMap<String, u32>,
}

impl Accounts {
    fn base() -> Self {
        Accounts {
            users: [("root", 0), ("daemon", 1)]
                .map(|(n, i)| (n.to_string(), i))
                .into(),
            groups: [("wheel", 0), ("daemon", 1)]
                .map(|(n, i)| (n.to_string(), i))
                .into(),
        }
    }
    fn apply(&mut self, reqs: &[AccountRequest]) {
        for r in reqs
            .iter()
            .filter(|r| matches!(r, AccountRequest::Group { .. }))
        {
            if let AccountRequest::Group { name, gid } = r {
                let id = gid.unwrap_or(1000 + self.groups.len() as u32);
                self.groups.entry(name.clone()).or_insert(id);
            }
        }
        for r in reqs {
            if let AccountRequest::User { name, uid, .. } = r {
                let id = uid.unwrap_or(1000 + self.users.len() as u32);
                self.users.entry(name.clone()).or_insert(id);
            }
        }
    }
}

impl Owners for Accounts {
    fn uid(&self, user: &str) -> Option<u32> {
        self.users.get(user).copied()
    }
    fn gid(&self, group: &str) -> Option<u32> {
        self.groups.get(group).copied()
    }
}

impl AccountsApi for Accounts {
    fn apply(&mut self, request: &AccountRequest) -> anyhow::Result<()> {
        self.apply(std::slice::from_ref(request));
        Ok(())
    }
}

struct Repo {
    _dir: tempfile::TempDir,
    all: PathBuf,
    records: Vec<pkgsrc::Summary>,
}

fn repo() -> Repo {
    let dir = tempfile::tempdir().unwrap();
    let info = generate(dir.path(), &RepoOptions::default()).unwrap();
    let bytes = std::fs::read(info.all_dir.join("pkg_summary.gz")).unwrap();
    let records = parse_summary(
        "pkg_summary.gz",
        &decode_summary("pkg_summary.gz", &bytes).unwrap(),
    )
    .unwrap();
    Repo {
        all: info.all_dir,
        records,
        _dir: dir,
    }
}

fn target() -> Target {
    Target::new("NetBSD", "x86_64", "10.1")
}

struct Built {
    image: Image,
    report: FinishReport,
    plan: Vec<PlannedPackage>,
    accounts: Accounts,
    requests: BTreeMap<String, Vec<AccountRequest>>,
}

fn install_list(repo: &Repo, list: &str, scratch: &Path) -> anyhow::Result<Built> {
    let plan = resolve(&repo.records, &parse_pkg_list(list))?;
    let mut image = Image::default();
    let mut accounts = Accounts::base();
    let mut inst = Installer::new(target(), scratch, Timestamp::from_secs(1_700_000_000));
    for p in ["etc", "usr", "var", "var/run"] {
        inst.mark_existing(p);
    }
    let mut requests = BTreeMap::new();
    for p in &plan {
        let file = repo.all.join(&p.file_name);
        verify_package_file(p, std::fs::File::open(&file)?)?;
        let prepared = inst.prepare(p, std::fs::File::open(&file)?, &accounts)?;
        accounts.apply(&prepared.account_requests);
        requests.insert(p.pkgname.clone(), prepared.account_requests.clone());
        inst.install(
            &prepared,
            std::fs::File::open(&file)?,
            &mut image,
            &accounts,
        )?;
    }
    let report = inst.finish(&mut image)?;
    Ok(Built {
        image,
        report,
        plan,
        accounts,
        requests,
    })
}

/// The files a package's +CONTENTS lists under `@cwd /usr/pkg`, read
/// independently of the installer.
fn plist_files(contents: &str) -> Vec<String> {
    contents
        .lines()
        .filter(|l| !l.starts_with('@') && !l.is_empty())
        .map(|l| format!("/usr/pkg/{l}"))
        .collect()
}

#[test]
fn each_pkgdb_directory_holds_what_pkg_add_writes() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let b = install_list(&repo, DEFAULT_LIST, scratch.path()).unwrap();
    for p in &b.plan {
        let dir = format!("usr/pkg/pkgdb/{}", p.pkgname);
        assert_eq!(b.image.get(&dir).0.kind, EntryKind::Dir);
        for (f, mode) in [
            ("+CONTENTS", 0o644),
            ("+COMMENT", 0o444),
            ("+DESC", 0o444),
            ("+BUILD_INFO", 0o444),
            ("+BUILD_VERSION", 0o444),
            ("+SIZE_PKG", 0o444),
            ("+SIZE_ALL", 0o444),
        ] {
            let (e, _) = b.image.get(&format!("{dir}/{f}"));
            assert_eq!(e.mode, mode, "{dir}/{f}");
        }
        // Exactly the archive's + members, plus +INSTALLED_INFO for
        // dependencies and +REQUIRED_BY for packages others depend on.
        let archive = repo.all.join(&p.file_name);
        let members = std::process::Command::new("tar")
            .arg(if p.pkgname.starts_with("libunistring") {
                "-tJf"
            } else {
                "-tzf"
            })
            .arg(&archive)
            .output()
            .expect("tar(1) missing");
        let mut want: BTreeSet<String> = String::from_utf8(members.stdout)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with('+'))
            .map(str::to_string)
            .collect();
        if p.automatic {
            want.insert("+INSTALLED_INFO".into());
        }
        if b.plan.iter().any(|q| q.depends.contains(&p.pkgname)) {
            want.insert("+REQUIRED_BY".into());
        }
        let have: BTreeSet<String> = b
            .image
            .entries
            .keys()
            .filter_map(|k| k.strip_prefix(&format!("{dir}/")))
            .map(str::to_string)
            .collect();
        assert_eq!(have, want, "{dir}");
        assert!(
            b.image
                .text(&format!("{dir}/+CONTENTS"))
                .starts_with(&format!("@name {}\n", p.pkgname))
        );
        let info = b.image.entries.get(&format!("{dir}/+INSTALLED_INFO"));
        if p.automatic {
            assert_eq!(
                b.image.text(&format!("{dir}/+INSTALLED_INFO")),
                "automatic=yes\n"
            );
        } else {
            assert!(
                info.is_none(),
                "{} was requested, so it is not automatic",
                p.pkgname
            );
        }
    }
    assert_eq!(
        b.image.get("usr/pkg/pkgdb/sudo-1.9.16p2/+INSTALL").0.mode,
        0o555
    );
    // Reverse dependencies.
    assert_eq!(
        b.image.text("usr/pkg/pkgdb/nghttp2-1.64.0/+REQUIRED_BY"),
        "curl-8.11.1\n"
    );
    assert_eq!(
        b.image.text("usr/pkg/pkgdb/perl-5.40.0nb1/+REQUIRED_BY"),
        "git-base-2.47.1\nmoreutils-0.69\n"
    );
    assert_eq!(
        b.image.text("usr/pkg/pkgdb/curl-8.11.1/+REQUIRED_BY"),
        "git-base-2.47.1\n"
    );
    assert!(
        !b.image
            .entries
            .contains_key("usr/pkg/pkgdb/sudo-1.9.16p2/+REQUIRED_BY")
    );
    // pkg_install finds its database, and nothing lives in /var/db/pkg.
    assert_eq!(
        b.image.text("etc/pkg_install.conf"),
        "PKG_DBDIR=/usr/pkg/pkgdb\n"
    );
    assert!(
        !b.image.entries.keys().any(|k| k.starts_with("var/db/pkg")),
        "nothing may be written to /var/db/pkg"
    );
    // The default list needs nothing at first boot.
    assert!(b.report.deferred.is_empty(), "{:?}", b.report.deferred);
    assert!(!b.image.entries.contains_key("etc/rc.d/mkimage_deferred"));
}

#[test]
fn pkgdb_byfile_db_lists_exactly_the_installed_files() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let b = install_list(&repo, DEFAULT_LIST, scratch.path()).unwrap();
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for p in &b.plan {
        for f in plist_files(
            &b.image
                .text(&format!("usr/pkg/pkgdb/{}/+CONTENTS", p.pkgname)),
        ) {
            assert!(
                b.image.entries.contains_key(&f[1..]),
                "{f} listed but not installed"
            );
            expected.insert(f, p.pkgname.clone());
        }
    }
    let db_path = scratch.path().join("pkgdb.byfile.db");
    std::fs::write(&db_path, &b.image.get("usr/pkg/pkgdb/pkgdb.byfile.db").1).unwrap();
    let db = ::db185::Db::open(&db_path).unwrap();
    let mut files = BTreeMap::new();
    let mut pkgdirs = BTreeMap::new();
    for e in &db {
        let e = e.unwrap();
        let key = e.key().strip_suffix(b"\0").expect("key ends in NUL");
        let val = e.value().strip_suffix(b"\0").expect("value ends in NUL");
        let (key, val) = (
            String::from_utf8(key.to_vec()).unwrap(),
            String::from_utf8(val.to_vec()).unwrap(),
        );
        if val.starts_with("@pkgdir ") {
            pkgdirs.insert(key, val);
        } else {
            files.insert(key, val);
        }
    }
    assert_eq!(files, expected);
    assert_eq!(
        pkgdirs,
        BTreeMap::from([(
            "/usr/pkg/etc/sudoers.d".to_string(),
            "@pkgdir sudo-1.9.16p2".to_string()
        )])
    );

    // Independent check with Berkeley DB 1.85 itself (libdb1-compat).
    let out = std::process::Command::new("db_dump185")
        .arg("-p")
        .arg(&db_path)
        .output()
        .expect("db_dump185 missing: run scripts/setup (libdb1-compat)");
    assert!(
        out.status.success(),
        "db_dump185 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dump = String::from_utf8_lossy(&out.stdout);
    assert!(dump.contains("/usr/pkg/bin/sudo\\00"), "{dump}");
    assert!(dump.contains("sudo-1.9.16p2\\00"), "{dump}");
    assert_eq!(
        dump.matches("\\00").count(),
        2 * (files.len() + pkgdirs.len()),
        "{dump}"
    );
}

#[test]
fn sudo_is_setuid_root_and_its_config_is_copied_from_the_example() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let b = install_list(&repo, "sudo\n", scratch.path()).unwrap();
    let (sudo, _) = b.image.get("usr/pkg/bin/sudo");
    assert_eq!(
        (sudo.mode, sudo.uid, sudo.gid),
        (0o4511, 0, 0),
        "PERMS: bin/sudo 4511 root wheel"
    );
    let (conf, bytes) = b.image.get("usr/pkg/etc/sudoers");
    assert_eq!(conf.mode, 0o440);
    assert_eq!(bytes, &b.image.get("usr/pkg/share/examples/sudo/sudoers").1);
    assert!(
        b.image
            .text("usr/pkg/etc/sudoers")
            .contains("@includedir /usr/pkg/etc/sudoers.d")
    );
    assert_eq!(
        b.image
            .text("usr/pkg/pkgdb.refcount/files/usr/pkg/etc/sudoers/sudo-1.9.16p2"),
        "/usr/pkg/pkgdb/sudo-1.9.16p2\n"
    );
    assert_eq!(
        b.image
            .text("usr/pkg/pkgdb.refcount/files/usr/pkg/etc/sudoers/+PERMISSIONS"),
        "0440 root wheel\n"
    );
    assert_eq!(b.image.get("usr/pkg/etc/sudoers.d").0.kind, EntryKind::Dir);
}

#[test]
fn existing_config_file_is_not_overwritten() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let plan = resolve(&repo.records, &["sudo".to_string()]).unwrap();
    let mut image = Image::default();
    let mut inst = Installer::new(target(), scratch.path(), Timestamp::from_secs(0));
    inst.mark_existing("/usr/pkg/etc/sudoers");
    let acc = Accounts::base();
    let file = repo.all.join(&plan[0].file_name);
    let prepared = inst
        .prepare(&plan[0], std::fs::File::open(&file).unwrap(), &acc)
        .unwrap();
    inst.install(
        &prepared,
        std::fs::File::open(&file).unwrap(),
        &mut image,
        &acc,
    )
    .unwrap();
    assert!(!image.entries.contains_key("usr/pkg/etc/sudoers"));
    assert_eq!(
        image.text("usr/pkg/pkgdb.refcount/files/usr/pkg/etc/sudoers/+PREEXISTING"),
        "sudo-1.9.16p2\n"
    );
}

#[test]
fn daemon_user_request_is_produced_before_its_files_are_owned() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let b = install_list(&repo, "dbus\n", scratch.path()).unwrap();
    let reqs = &b.requests["dbus-1.14.10"];
    assert!(
        reqs.contains(&AccountRequest::User {
            name: "messagebus".into(),
            group: "messagebus".into(),
            uid: None,
            descr: "System message bus".into(),
            home: "/var/run/dbus".into(),
            shell: "/sbin/nologin".into(),
        }),
        "{reqs:?}"
    );
    assert!(reqs.contains(&AccountRequest::Group {
        name: "messagebus".into(),
        gid: None
    }));
    let uid = b.accounts.users["messagebus"];
    let gid = b.accounts.groups["messagebus"];
    let (conf, _) = b.image.get("usr/pkg/share/dbus-1/session.conf");
    assert_eq!((conf.uid, conf.gid, conf.mode), (uid, gid, 0o644));
    let (helper, _) = b.image.get("usr/pkg/libexec/dbus-daemon-launch-helper");
    assert_eq!((helper.uid, helper.gid, helper.mode), (0, gid, 0o4750));
    let (run, _) = b.image.get("var/run/dbus");
    assert_eq!(
        (run.kind.clone(), run.uid, run.gid, run.mode),
        (EntryKind::Dir, uid, gid, 0o755)
    );
    assert_eq!(
        b.image
            .text("usr/pkg/pkgdb.refcount/users/messagebus/dbus-1.14.10"),
        "/usr/pkg/pkgdb/dbus-1.14.10\n"
    );
    assert_eq!(
        b.image
            .text("usr/pkg/pkgdb.refcount/groups/messagebus/dbus-1.14.10"),
        "/usr/pkg/pkgdb/dbus-1.14.10\n"
    );
    assert_eq!(
        b.image
            .text("usr/pkg/pkgdb.refcount/dirs/var/run/dbus/+PERMISSIONS"),
        "messagebus messagebus 0755\n"
    );
}

#[test]
fn missing_account_is_an_error_naming_the_user() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let plan = resolve(&repo.records, &["dbus".to_string()]).unwrap();
    let mut inst = Installer::new(target(), scratch.path(), Timestamp::from_secs(0));
    let acc = Accounts::base();
    let file = repo.all.join(&plan[0].file_name);
    let prepared = inst
        .prepare(&plan[0], std::fs::File::open(&file).unwrap(), &acc)
        .unwrap();
    // The caller forgot to apply prepared.account_requests.
    let err = inst
        .install(
            &prepared,
            std::fs::File::open(&file).unwrap(),
            &mut Image::default(),
            &acc,
        )
        .unwrap_err();
    assert!(format!("{err:#}").contains("messagebus"), "{err:#}");
}

#[test]
fn bash_is_registered_in_etc_shells() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let b = install_list(&repo, DEFAULT_LIST, scratch.path()).unwrap();
    assert_eq!(b.report.shells, ["/usr/pkg/bin/bash"]);
    let shells = add_shells("/bin/sh\n/bin/csh\n/bin/ksh\n", &b.report.shells);
    assert_eq!(shells, "/bin/sh\n/bin/csh\n/bin/ksh\n/usr/pkg/bin/bash\n");
    assert_eq!(
        add_shells(&shells, &b.report.shells),
        shells,
        "registering twice adds nothing"
    );
}

#[test]
fn links_and_xz_packages_install() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let b = install_list(&repo, DEFAULT_LIST, scratch.path()).unwrap();
    assert_eq!(
        b.image.get("usr/pkg/libexec/git-core/git-add").0.kind,
        EntryKind::HardLink("usr/pkg/bin/git".into())
    );
    assert_eq!(
        b.image.get("usr/pkg/lib/libcurl.so.4").0.kind,
        EntryKind::Symlink("libcurl.so.4.8.0".into())
    );
    // libunistring is xz-compressed in the repository.
    let raw = std::fs::read(repo.all.join("libunistring-1.3.tgz")).unwrap();
    assert_eq!(&raw[..6], b"\xfd7zXZ\0");
    assert!(
        b.image
            .entries
            .contains_key("usr/pkg/lib/libunistring.so.5")
    );
}

#[test]
fn wrong_opsys_package_is_refused_naming_both_values() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let err = install_list(&repo, "linuxonly\n", scratch.path())
        .err()
        .expect("a Linux package must be refused");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("linuxonly-1.0") && msg.contains("OPSYS=Linux") && msg.contains("NetBSD"),
        "{msg}"
    );
}

#[test]
fn other_major_os_version_is_refused_same_major_accepted() {
    let bi = "OPSYS=NetBSD\nMACHINE_ARCH=x86_64\nOS_VERSION=10.0\n";
    use mkimage::pkgsrc::install::check_build_info;
    check_build_info("p-1", bi, &Target::new("NetBSD", "x86_64", "10.1")).unwrap();
    let err = check_build_info("p-1", bi, &Target::new("NetBSD", "x86_64", "9.3")).unwrap_err();
    assert!(
        err.to_string().contains("10.0") && err.to_string().contains("9.3"),
        "{err}"
    );
    let bi_tools = format!("{bi}PKGTOOLS_VERSION=20240610\n");
    let t = Target::new("NetBSD", "x86_64", "10.1");
    check_build_info("p-1", &bi_tools, &t.clone().with_pkgtools_version(20240610)).unwrap();
    let err = check_build_info("p-1", &bi_tools, &t.with_pkgtools_version(20211115)).unwrap_err();
    assert!(
        err.to_string().contains("20240610") && err.to_string().contains("20211115"),
        "{err}"
    );
    let err = check_build_info(
        "p-1",
        &format!("{bi}PKGTOOLS_VERSION=2024\n"),
        &Target::new("NetBSD", "x86_64", "10.1"),
    )
    .unwrap_err();
    assert!(err.to_string().contains("PKGTOOLS_VERSION"), "{err}");
    let err = check_build_info("p-1", bi, &Target::new("NetBSD", "aarch64", "10.0")).unwrap_err();
    assert!(
        err.to_string().contains("x86_64") && err.to_string().contains("aarch64"),
        "{err}"
    );
}

#[test]
fn md5_mismatch_names_package_and_file() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let err = install_list(&repo, "badsum\n", scratch.path())
        .err()
        .expect("a wrong MD5 must fail");
    let msg = format!("{err:#}");
    assert!(
        msg.contains("badsum-1.0") && msg.contains("/usr/pkg/bin/badsum") && msg.contains("MD5"),
        "{msg}"
    );
}

#[test]
fn file_size_and_checksum_are_checked_before_install() {
    let repo = repo();
    let plan = resolve(&repo.records, &["sudo".to_string()]).unwrap();
    let bytes = std::fs::read(repo.all.join(&plan[0].file_name)).unwrap();
    verify_package_file(&plan[0], bytes.as_slice()).unwrap();
    let err = verify_package_file(&plan[0], &bytes[..bytes.len() - 1]).unwrap_err();
    assert!(err.to_string().contains("FILE_SIZE"), "{err}");
    let mut bad = bytes.clone();
    bad[100] ^= 0xff;
    let err = verify_package_file(&plan[0], bad.as_slice()).unwrap_err();
    assert!(
        err.to_string().contains("FILE_CKSUM") && err.to_string().contains("sudo-1.9.16p2"),
        "{err}"
    );
}

#[test]
fn freeform_install_script_is_deferred_to_first_boot() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let b = install_list(&repo, "fontconfig\nsudo\n", scratch.path()).unwrap();
    assert_eq!(b.report.deferred.len(), 1, "{:?}", b.report.deferred);
    let d = &b.report.deferred[0];
    assert_eq!(
        (
            d.package.as_str(),
            d.part.stage.as_str(),
            d.part.template.as_str()
        ),
        ("fontconfig-2.15.0", "POST-INSTALL", "INSTALL")
    );
    assert!(d.part.lines.iter().any(|l| l.contains("fc-cache")));
    let list = b.image.text("var/db/mkimage/deferred");
    assert!(
        list.contains(
            "fontconfig-2.15.0 POST-INSTALL /var/db/mkimage/deferred.d/001-fontconfig-2.15.0.sh"
        ),
        "{list}"
    );
    let script = b
        .image
        .text("var/db/mkimage/deferred.d/001-fontconfig-2.15.0.sh");
    assert!(
        script.starts_with("#!/bin/sh")
            && script.contains("STAGE=\"$2\"")
            && script.contains("fc-cache -s"),
        "{script}"
    );
    let (rc, _) = b.image.get("etc/rc.d/mkimage_deferred");
    assert_eq!(rc.mode, 0o555);
    // The fallback script is valid POSIX sh.
    let rc_path = scratch.path().join("mkimage_deferred");
    std::fs::write(&rc_path, b.image.text("etc/rc.d/mkimage_deferred")).unwrap();
    let st = std::process::Command::new("sh")
        .arg("-n")
        .arg(&rc_path)
        .status()
        .unwrap();
    assert!(st.success());
}

#[test]
fn pkgin_and_sudo_configuration_is_written() {
    let mut image = Image::default();
    mkimage::pkgsrc::conf::write_conf(
        &mut image,
        Some("https://mirror.example/pub/pkgsrc/packages/NetBSD/$arch/10.1/All"),
        true,
        Timestamp::from_secs(0),
    )
    .unwrap();
    assert!(
        image
            .text("usr/pkg/etc/pkgin/repositories.conf")
            .lines()
            .any(|l| l == "https://mirror.example/pub/pkgsrc/packages/NetBSD/$arch/10.1/All")
    );
    assert_eq!(
        mkimage::pkgsrc::conf::expand_repo_url(
            "https://m.example/pub/pkgsrc/packages/NetBSD/$arch/${osrelease}/All",
            "x86_64",
            "10.1"
        ),
        "https://m.example/pub/pkgsrc/packages/NetBSD/x86_64/10.1/All"
    );
    let (e, bytes) = image.get("usr/pkg/etc/sudoers.d/wheel");
    assert_eq!(e.mode, 0o440);
    assert_eq!(bytes, b"%wheel ALL=(ALL) NOPASSWD: ALL\n");
}

#[test]
fn installing_twice_gives_identical_images() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let a = install_list(&repo, DEFAULT_LIST, scratch.path()).unwrap();
    let b = install_list(&repo, DEFAULT_LIST, scratch.path()).unwrap();
    assert_eq!(a.image.entries, b.image.entries);
    let keys: BTreeSet<&String> = a.image.entries.keys().collect();
    assert!(keys.iter().all(|k| !k.starts_with('/')));
}

#[test]
fn install_packages_drives_the_whole_plan_like_the_step_by_step_api() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let list = format!("{DEFAULT_LIST}dbus\n");
    let step = install_list(&repo, &list, scratch.path()).unwrap();
    let plan = resolve(&repo.records, &parse_pkg_list(&list)).unwrap();
    let mut inst = Installer::new(
        target(),
        scratch.path(),
        Timestamp::from_secs(1_700_000_000),
    );
    for p in ["etc", "usr", "var", "var/run"] {
        inst.mark_existing(p);
    }
    let mut accounts = Accounts::base();
    let mut image = Image::default();
    let all = repo.all.clone();
    let report = install_packages(
        inst,
        &plan,
        |p| Ok(Box::new(std::fs::File::open(all.join(&p.file_name))?) as Box<dyn Read>),
        &mut accounts,
        &mut image,
    )
    .unwrap();
    assert_eq!(report, step.report);
    assert_eq!(image.entries, step.image.entries);
    assert!(accounts.users.contains_key("messagebus"));
}

#[test]
fn installer_refuses_a_conflicting_package_like_pkg_add() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    // Resolution would refuse this list; install each alone to reach the
    // installer's own @pkgcfl check.
    let curl = resolve(&repo.records, &["curl<8".to_string()]).unwrap();
    let minimal = resolve(&repo.records, &["curl-minimal".to_string()]).unwrap();
    let mut inst = Installer::new(target(), scratch.path(), Timestamp::from_secs(0));
    let acc = Accounts::base();
    let mut image = Image::default();
    for p in curl.iter().chain(&minimal) {
        let file = repo.all.join(&p.file_name);
        let prepared = inst
            .prepare(p, std::fs::File::open(&file).unwrap(), &acc)
            .unwrap();
        let r = inst.install(
            &prepared,
            std::fs::File::open(&file).unwrap(),
            &mut image,
            &acc,
        );
        if p.pkgname == "curl-minimal-8.0" {
            let msg = format!("{:#}", r.unwrap_err());
            assert!(
                msg.contains("curl-minimal-8.0 conflicts with installed curl-7.88.1"),
                "{msg}"
            );
        } else {
            r.unwrap();
        }
    }
}

#[test]
fn info_files_are_registered_in_the_dir_index() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let b = install_list(&repo, DEFAULT_LIST, scratch.path()).unwrap();
    let dir = b.image.text("usr/pkg/info/dir");
    assert!(dir.contains("\x1f\nFile: dir,\tNode: Top"), "{dir}");
    let menu = dir.split("* Menu:\n").nth(1).expect("dir has a menu");
    // Sections in the order packages registered them (gnupg installs
    // before bash here), entries as the info files declare them.
    assert_eq!(
        menu,
        "\nGNU Utilities\n* gnupg: (gnupg).      The GNU Privacy Guard.\n\nBasics\n* bash: (bash).        The GNU Bourne-Again SHell.\n"
    );
    // The index is not a package file.
    assert!(
        !b.image
            .text("usr/pkg/pkgdb/bash-5.2.37/+CONTENTS")
            .contains("info/dir")
    );
}

#[test]
fn rc_d_scripts_are_copied_only_when_asked_like_pkg_rcd_scripts() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let b = install_list(&repo, "dbus\n", scratch.path()).unwrap();
    assert!(
        !b.image.entries.contains_key("etc/rc.d/dbus"),
        "PKG_RCD_SCRIPTS is off by default"
    );

    let plan = resolve(&repo.records, &["dbus".to_string()]).unwrap();
    let mut inst = Installer::new(target(), scratch.path(), Timestamp::from_secs(0));
    inst.set_rcd_scripts(true);
    let mut acc = Accounts::base();
    let mut image = Image::default();
    let file = repo.all.join(&plan[0].file_name);
    let prepared = inst
        .prepare(&plan[0], std::fs::File::open(&file).unwrap(), &acc)
        .unwrap();
    acc.apply(&prepared.account_requests);
    inst.install(
        &prepared,
        std::fs::File::open(&file).unwrap(),
        &mut image,
        &acc,
    )
    .unwrap();
    let (rc, bytes) = image.get("etc/rc.d/dbus");
    assert_eq!(rc.mode, 0o755);
    assert_eq!(bytes, &image.get("usr/pkg/share/examples/rc.d/dbus").1);
}

#[test]
fn a_file_owned_by_an_installed_package_is_a_conflicting_plist() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    // curl-compat ships /usr/pkg/bin/curl without declaring CONFLICTS.
    let plan = resolve(
        &repo.records,
        &["curl<8".to_string(), "curl-compat".to_string()],
    )
    .unwrap();
    let mut inst = Installer::new(target(), scratch.path(), Timestamp::from_secs(0));
    let acc = Accounts::base();
    let mut image = Image::default();
    let mut failed = None;
    for p in &plan {
        let file = repo.all.join(&p.file_name);
        let prepared = inst
            .prepare(p, std::fs::File::open(&file).unwrap(), &acc)
            .unwrap();
        if let Err(e) = inst.install(
            &prepared,
            std::fs::File::open(&file).unwrap(),
            &mut image,
            &acc,
        ) {
            failed = Some((p.pkgname.clone(), format!("{e:#}")));
            break;
        }
    }
    let (pkg, msg) = failed.expect("the second owner of bin/curl must be refused");
    assert!(
        msg.contains("curl-compat-1.0")
            && msg.contains("/usr/pkg/bin/curl")
            && msg.contains("curl-7.88.1"),
        "{msg}"
    );
    assert!(
        !image.entries.contains_key(&format!("usr/pkg/pkgdb/{pkg}")),
        "refused before anything is written"
    );
}

#[test]
fn finish_writes_pkgin_repository_over_the_example_and_the_sudoers_drop_in() {
    let repo = repo();
    let scratch = tempfile::tempdir().unwrap();
    let plan = resolve(&repo.records, &parse_pkg_list("pkgin\nsudo\n")).unwrap();
    let mut inst = Installer::new(target(), scratch.path(), Timestamp::from_secs(0));
    inst.set_pkgin_repository("https://mirror.example/pub/pkgsrc/packages/NetBSD/$arch/10.1/All");
    inst.set_sudo_wheel(true);
    let mut accounts = Accounts::base();
    let mut image = Image::default();
    let all = repo.all.clone();
    install_packages(
        inst,
        &plan,
        |p| Ok(Box::new(std::fs::File::open(all.join(&p.file_name))?) as Box<dyn Read>),
        &mut accounts,
        &mut image,
    )
    .unwrap();
    let conf = image.text("usr/pkg/etc/pkgin/repositories.conf");
    assert!(
        conf.ends_with("https://mirror.example/pub/pkgsrc/packages/NetBSD/$arch/10.1/All\n"),
        "{conf}"
    );
    let (e, bytes) = image.get("usr/pkg/etc/sudoers.d/wheel");
    assert_eq!((e.mode, e.uid, e.gid), (0o440, 0, 0));
    assert_eq!(bytes, b"%wheel ALL=(ALL) NOPASSWD: ALL\n");
    // sudo reads the drop-in directory.
    assert!(
        image
            .text("usr/pkg/etc/sudoers")
            .lines()
            .any(|l| l == "@includedir /usr/pkg/etc/sudoers.d")
    );
}
