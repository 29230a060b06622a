//! A synthetic pkgsrc binary package repository in the real layout
//! (`pub/pkgsrc/packages/NetBSD/x86_64/10.0/All/`): `pkg_summary.gz` and
//! `pkg_summary.xz`, and `.tgz` packages in `pkg_install`'s format — `+`
//! members first in their fixed order, `+CONTENTS` with `@name`, `@pkgdep`,
//! `@cwd`, `@mode/@owner/@group` and `@comment MD5:` lines, `+BUILD_INFO`,
//! and `+INSTALL` scripts assembled like `mk/pkginstall` does, with USER,
//! GROUP, DIR, FILE, PERMS, SHELL and INFO data lines.
//!
//! The packages are small stand-ins for the builds-service list (bash curl
//! git-base gnupg mercurial moreutils sudo pkgin) and their dependencies,
//! plus a few made to exercise errors: `linuxonly` (OPSYS=Linux), `badsum`
//! (a wrong MD5 in `+CONTENTS`), `curl-minimal` (CONFLICTS with curl),
//! `curl-compat` (ships curl's file without declaring a conflict),
//! `fontconfig` (free-form `+INSTALL` shell) and `dbus` (a daemon user).
//! Output is a function of the options only.

use anyhow::{Context, Result};
use md5::Md5;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The repository directory below the mirror root.
pub const ALL_DIR: &str = "pub/pkgsrc/packages/NetBSD/x86_64/10.0/All";
/// `+BUILD_INFO`'s PKGTOOLS_VERSION.
const PKGTOOLS_VERSION: &str = "20211115";
/// Every member's mtime (2024-12-01).
const MTIME: u64 = 1_733_011_200;

/// Generator options.
#[derive(Debug, Clone, Default)]
pub struct RepoOptions {
    /// Mixed into file contents so different seeds give different bytes.
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone)]
pub struct RepoInfo {
    /// `root/pub/pkgsrc/packages/NetBSD/x86_64/10.0/All`.
    pub all_dir: PathBuf,
    /// Package names in the summary, in summary order.
    pub packages: Vec<String>,
}

#[derive(Clone, Copy)]
enum Kind {
    File,
    Symlink(&'static str),
    /// Hard link to an earlier member (its name as in the archive).
    Link(&'static str),
}

struct PFile {
    path: &'static str,
    mode: u32,
    kind: Kind,
    /// `@owner`/`@group` set before this file (reset after).
    owner: Option<(&'static str, &'static str)>,
}

struct Spec {
    pkgname: &'static str,
    pkgpath: &'static str,
    comment: &'static str,
    depends: &'static [&'static str],
    conflicts: &'static [&'static str],
    opsys: &'static str,
    files: Vec<PFile>,
    pkgdirs: &'static [&'static str],
    /// Data lines placed after the header.
    data: &'static [&'static str],
    /// Templates (`mk/pkginstall` names) whose sections the script has.
    templates: &'static [&'static str],
    /// A package's own free-form INSTALL section.
    freeform: Option<&'static str>,
    xz: bool,
    /// Record a wrong MD5 for the first file.
    bad_md5: bool,
}

fn f(path: &'static str, mode: u32) -> PFile {
    PFile {
        path,
        mode,
        kind: Kind::File,
        owner: None,
    }
}

fn spec(pkgname: &'static str, pkgpath: &'static str, comment: &'static str) -> Spec {
    Spec {
        pkgname,
        pkgpath,
        comment,
        depends: &[],
        conflicts: &[],
        opsys: "NetBSD",
        files: Vec::new(),
        pkgdirs: &[],
        data: &[],
        templates: &[],
        freeform: None,
        xz: false,
        bad_md5: false,
    }
}

fn specs() -> Vec<Spec> {
    let mut v = Vec::new();
    let mut s = spec("bash-5.2.37", "shells/bash", "The GNU Bourne Again Shell");
    s.depends = &["readline>=8.0"];
    s.files = vec![
        f("bin/bash", 0o755),
        f("info/bash.info", 0o444),
        f("man/man1/bash.1", 0o444),
    ];
    s.data = &[
        "# INFO: /usr/pkg/info/bash.info /usr/pkg/info",
        "# SHELL: bin/bash",
    ];
    s.templates = &["info-files", "shell"];
    v.push(s);
    let mut s = spec(
        "readline-8.2nb2",
        "devel/readline",
        "GNU library that can recall and edit previous input",
    );
    s.files = vec![
        f("lib/libreadline.so.8.2", 0o755),
        PFile {
            path: "lib/libreadline.so.8",
            mode: 0o755,
            kind: Kind::Symlink("libreadline.so.8.2"),
            owner: None,
        },
    ];
    v.push(s);
    let mut s = spec("curl-7.88.1", "www/curl", "Client that groks URLs (old)");
    s.depends = &["nghttp2>=1.0"];
    s.files = vec![f("bin/curl", 0o755)];
    v.push(s);
    let mut s = spec("curl-8.11.1", "www/curl", "Client that groks URLs");
    s.depends = &[
        "nghttp2>=1.0",
        "libidn2>=2.0",
        "{mozilla-rootcerts,mozilla-rootcerts-openssl}>=1.0",
    ];
    s.files = vec![
        f("bin/curl", 0o755),
        f("lib/libcurl.so.4.8.0", 0o755),
        PFile {
            path: "lib/libcurl.so.4",
            mode: 0o755,
            kind: Kind::Symlink("libcurl.so.4.8.0"),
            owner: None,
        },
    ];
    v.push(s);
    let mut s = spec(
        "curl-minimal-8.0",
        "www/curl-minimal",
        "Client that groks URLs, without extras",
    );
    s.conflicts = &["curl-[0-9]*"];
    s.files = vec![f("bin/curl", 0o755)];
    v.push(s);
    // Ships bin/curl too but declares no CONFLICTS (a packaging bug
    // pkg_add catches by the file list).
    let mut s = spec(
        "curl-compat-1.0",
        "www/curl-compat",
        "Compatibility wrapper shipping bin/curl",
    );
    s.files = vec![f("bin/curl", 0o755)];
    v.push(s);
    let mut s = spec(
        "nghttp2-1.64.0",
        "www/nghttp2",
        "Implementation of HTTP/2 in C",
    );
    s.files = vec![f("lib/libnghttp2.so.14", 0o755)];
    v.push(s);
    let mut s = spec(
        "libidn2-2.3.7",
        "devel/libidn2",
        "Implementation of IDNA2008 internationalized domain names",
    );
    s.depends = &["libunistring>=1.0"];
    s.files = vec![f("lib/libidn2.so.0", 0o755)];
    v.push(s);
    let mut s = spec(
        "libunistring-1.3",
        "textproc/libunistring",
        "Unicode string library",
    );
    s.files = vec![f("lib/libunistring.so.5", 0o755)];
    s.xz = true;
    v.push(s);
    let mut s = spec(
        "mozilla-rootcerts-openssl-2.18",
        "security/mozilla-rootcerts-openssl",
        "Root CA certificates from the Mozilla Project",
    );
    s.files = vec![f("share/mozilla-rootcerts/cacert.pem", 0o444)];
    v.push(s);
    let mut s = spec(
        "git-base-2.47.1",
        "devel/git-base",
        "GIT Tree History Storage Tool (base package)",
    );
    s.depends = &["curl>=7.71", "perl>=5.30<6", "pcre2-[0-9]*"];
    s.files = vec![
        f("bin/git", 0o755),
        PFile {
            path: "libexec/git-core/git-add",
            mode: 0o755,
            kind: Kind::Link("bin/git"),
            owner: None,
        },
    ];
    v.push(s);
    for (name, c) in [
        (
            "perl-5.38.2",
            "Practical Extraction and Report Language (old)",
        ),
        ("perl-5.40.0nb1", "Practical Extraction and Report Language"),
        ("perl-6.0", "Not Perl 5"),
    ] {
        let mut s = spec(name, "lang/perl5", c);
        s.files = vec![f("bin/perl", 0o755)];
        v.push(s);
    }
    let mut s = spec(
        "pcre2-10.44",
        "devel/pcre2",
        "Perl Compatible Regular Expressions library, v2",
    );
    s.files = vec![f("lib/libpcre2-8.so.0", 0o755)];
    v.push(s);
    let mut s = spec(
        "gnupg-2.4.7",
        "security/gnupg2",
        "GNU Privacy Guard, a free PGP replacement",
    );
    s.depends = &["libgcrypt>=1.10"];
    s.files = vec![f("bin/gpg", 0o755), f("info/gnupg.info", 0o444)];
    s.data = &["# INFO: /usr/pkg/info/gnupg.info /usr/pkg/info"];
    s.templates = &["info-files"];
    v.push(s);
    let mut s = spec(
        "libgcrypt-1.11.0",
        "security/libgcrypt",
        "GNU cryptographic library",
    );
    s.files = vec![f("lib/libgcrypt.so.20", 0o755)];
    v.push(s);
    let mut s = spec(
        "mercurial-6.9",
        "devel/py-mercurial",
        "Fast, lightweight source control management system",
    );
    s.depends = &["python312>=3.12"];
    s.files = vec![f("bin/hg", 0o755)];
    v.push(s);
    let mut s = spec(
        "python312-3.12.8",
        "lang/python312",
        "Interpreted, interactive, object-oriented programming language",
    );
    s.files = vec![f("bin/python3.12", 0o755)];
    v.push(s);
    let mut s = spec(
        "moreutils-0.69",
        "misc/moreutils",
        "Additional Unix utilities",
    );
    s.depends = &["perl>=5.36<6"];
    s.files = vec![f("bin/sponge", 0o755), f("bin/ts", 0o755)];
    v.push(s);
    let mut s = spec(
        "sudo-1.9.16p2",
        "security/sudo",
        "Allow others to run commands as root",
    );
    s.files = vec![
        f("bin/sudo", 0o511),
        f("share/examples/sudo/sudoers", 0o644),
        f("sbin/visudo", 0o755),
    ];
    s.pkgdirs = &["etc/sudoers.d"];
    s.data = &[
        "# FILE: /usr/pkg/etc/sudoers c /usr/pkg/share/examples/sudo/sudoers 0440 root wheel",
        "# PERMS: bin/sudo 4511 root wheel",
    ];
    s.templates = &["files", "perms"];
    v.push(s);
    let mut s = spec(
        "pkgin-24.5.2",
        "pkgtools/pkgin",
        "Apt / yum like tool for managing pkgsrc binary packages",
    );
    s.depends = &["sqlite3>=3.40"];
    s.files = vec![
        f("bin/pkgin", 0o755),
        f("share/examples/pkgin/repositories.conf", 0o644),
    ];
    s.data = &[
        "# FILE: /usr/pkg/etc/pkgin/repositories.conf c /usr/pkg/share/examples/pkgin/repositories.conf 0644",
    ];
    s.templates = &["files"];
    v.push(s);
    let mut s = spec(
        "sqlite3-3.47.2",
        "databases/sqlite3",
        "SQL Database Engine in a C Library",
    );
    s.files = vec![f("lib/libsqlite3.so.0", 0o755)];
    v.push(s);
    let mut s = spec("dbus-1.14.10", "sysutils/dbus", "Message bus system");
    s.files = vec![
        f("bin/dbus-daemon", 0o755),
        PFile {
            path: "libexec/dbus-daemon-launch-helper",
            mode: 0o4750,
            kind: Kind::File,
            owner: Some(("root", "messagebus")),
        },
        PFile {
            path: "share/dbus-1/session.conf",
            mode: 0o644,
            kind: Kind::File,
            owner: Some(("messagebus", "messagebus")),
        },
        f("share/examples/rc.d/dbus", 0o755),
    ];
    s.data = &[
        "# USER: messagebus:messagebus::System message bus:/var/run/dbus:/sbin/nologin",
        "# GROUP: messagebus",
        "# DIR: /var/run/dbus m 0755 messagebus messagebus",
        "# FILE: /etc/rc.d/dbus cr /usr/pkg/share/examples/rc.d/dbus 0755",
    ];
    s.templates = &["usergroup", "dirs", "files"];
    v.push(s);
    let mut s = spec(
        "fontconfig-2.15.0",
        "fonts/fontconfig",
        "Library for configuring and customizing font access",
    );
    s.files = vec![f("bin/fc-cache", 0o755)];
    s.freeform = Some("case ${STAGE} in\nPOST-INSTALL)\n\t${PREFIX}/bin/fc-cache -s\n\t;;\nesac");
    v.push(s);
    let mut s = spec(
        "linuxonly-1.0",
        "misc/linuxonly",
        "A package built for Linux",
    );
    s.opsys = "Linux";
    s.files = vec![f("bin/linuxonly", 0o755)];
    v.push(s);
    let mut s = spec(
        "badsum-1.0",
        "misc/badsum",
        "A package whose +CONTENTS records a wrong MD5",
    );
    s.files = vec![f("bin/badsum", 0o755)];
    s.bad_md5 = true;
    v.push(s);
    v
}

fn content(s: &Spec, file: &str, seed: u64) -> Vec<u8> {
    if file.ends_with("examples/sudo/sudoers") {
        return b"## sudoers file (synthetic stand-in)\nroot ALL=(ALL:ALL) ALL\n@includedir /usr/pkg/etc/sudoers.d\n".to_vec();
    }
    if let Some(info) = file.strip_prefix("info/") {
        let topic = info.trim_end_matches(".info");
        let (section, title) = if topic == "bash" {
            ("Basics", "The GNU Bourne-Again SHell.")
        } else {
            ("GNU Utilities", "The GNU Privacy Guard.")
        };
        return format!(
            "This is {info}, produced by makeinfo (synthetic stand-in).\n\n\
             INFO-DIR-SECTION {section}\nSTART-INFO-DIR-ENTRY\n\
             * {topic}: ({topic}).{pad}{title}\nEND-INFO-DIR-ENTRY\n\n\x1f\nFile: {info},  Node: Top\n",
            pad = " ".repeat(23usize.saturating_sub(2 * topic.len() + 7)),
        )
        .into_bytes();
    }
    if file.ends_with("examples/pkgin/repositories.conf") {
        return b"# pkgin repositories (synthetic stand-in)\n".to_vec();
    }
    let mut out = format!(
        "#!/bin/sh\n# {} stand-in for {} (seed {seed})\n",
        s.pkgname, file
    )
    .into_bytes();
    // A little bulk so files differ in size.
    let n = (s.pkgname.len() * 37 + file.len() * 11) % 300;
    out.extend(std::iter::repeat_n(b'x', n));
    out.push(b'\n');
    out
}

fn header(path: &str, size: u64, mode: u32, kind: tar::EntryType) -> Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    h.set_path(path)
        .with_context(|| format!("tar path {path}"))?;
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_username("root")?;
    h.set_groupname("wheel")?;
    h.set_mtime(MTIME);
    h.set_entry_type(kind);
    Ok(h)
}

fn install_script(s: &Spec) -> Option<String> {
    if s.data.is_empty() && s.freeform.is_none() {
        return None;
    }
    let mut t = String::from(
        "#!/bin/sh\n#\n# $NetBSD: header,v 1.2 2006/07/19 22:26:26 jlam Exp $\n\nSELF=\"$0\"\nPKGNAME=\"$1\"\nSTAGE=\"$2\"\nshift 2\n\nPREFIX=\"/usr/pkg\"\nPKG_PREFIX=\"${PKG_PREFIX-/usr/pkg}\"\nCURDIR=`pwd`\n: ${PKG_METADATA_DIR=${CURDIR}}\n\n",
    );
    for d in s.data {
        t.push_str(d);
        t.push('\n');
    }
    for tmpl in s.templates {
        let helper = match *tmpl {
            "usergroup" => "+USERGROUP",
            "files" => "+FILES",
            "dirs" => "+DIRS",
            "perms" => "+PERMS",
            "info-files" => "+INFO_FILES",
            _ => "+SHELL",
        };
        t.push_str(&format!(
            "\n# $NetBSD: {tmpl},v 1.2 2006/07/19 22:26:26 jlam Exp $\ncase \"${{STAGE}},$1\" in\nUNPACK,|UNPACK,{helper})\n\t: helper body elided in the stand-in\n\t;;\nesac\n"
        ));
    }
    if let Some(ff) = s.freeform {
        t.push_str(&format!(
            "\n# $NetBSD: INSTALL,v 1.5 2024/01/01 00:00:00 wiz Exp $\n{ff}\n"
        ));
    }
    t.push_str(
        "\n# $NetBSD: install,v 1.3 2014/12/30 15:13:20 wiz Exp $\n\ncase ${STAGE} in\nPRE-INSTALL)\n\t${SH} ${SELF} ${PKGNAME} UNPACK\n\t;;\nPOST-INSTALL)\n\t;;\nesac\n\n# $NetBSD: footer,v 1.1 2006/05/21 23:50:15 jlam Exp $\nexit 0\n",
    );
    Some(t)
}

/// Build one package; returns the file bytes.
fn build_package(s: &Spec, seed: u64) -> Result<Vec<u8>> {
    let mut contents = format!("@name {}\n@comment ORIGIN:{}\n", s.pkgname, s.pkgpath);
    for d in s.depends {
        contents.push_str(&format!("@pkgdep {d}\n"));
    }
    for c in s.conflicts {
        contents.push_str(&format!("@pkgcfl {c}\n"));
    }
    contents.push_str("@cwd /usr/pkg\n");
    let mut payload: Vec<(&PFile, Vec<u8>)> = Vec::new();
    let mut size_pkg = 0u64;
    for (i, pf) in s.files.iter().enumerate() {
        let data = match pf.kind {
            Kind::File => content(s, pf.path, seed),
            _ => Vec::new(),
        };
        if let Some((o, g)) = pf.owner {
            contents.push_str(&format!("@owner {o}\n@group {g}\n@mode {:o}\n", pf.mode));
        }
        contents.push_str(pf.path);
        contents.push('\n');
        match pf.kind {
            Kind::File | Kind::Link(_) => {
                let bytes = match pf.kind {
                    Kind::Link(t) => payload
                        .iter()
                        .find(|(p, _)| p.path == t)
                        .map(|(_, d)| d.clone())
                        .unwrap_or_default(),
                    _ => data.clone(),
                };
                let mut sum = hex::encode(Md5::digest(&bytes));
                if s.bad_md5 && i == 0 {
                    sum = "0123456789abcdef0123456789abcdef".to_string();
                }
                contents.push_str(&format!("@comment MD5:{sum}\n"));
                size_pkg += bytes.len() as u64;
            }
            Kind::Symlink(t) => contents.push_str(&format!("@comment Symlink:{t}\n")),
        }
        if pf.owner.is_some() {
            contents.push_str("@owner\n@group\n@mode\n");
        }
        payload.push((pf, data));
    }
    for d in s.pkgdirs {
        contents.push_str(&format!("@pkgdir {d}\n"));
    }
    let build_info = format!(
        "BUILD_DATE=2024-12-01 00:00:00 +0000\nBUILD_HOST=NetBSD build.example 10.0 NetBSD 10.0 (GENERIC) amd64\n\
         CATEGORIES={cat}\nCC_VERSION=gcc-10.5.0\nLOCALBASE=/usr/pkg\nMACHINE_ARCH=x86_64\nOPSYS={opsys}\n\
         OS_VERSION=10.0\nPKGPATH={path}\nPKGTOOLS_VERSION={PKGTOOLS_VERSION}\nPKG_SYSCONFBASEDIR=/usr/pkg/etc\n",
        cat = s.pkgpath.split('/').next().unwrap_or("misc"),
        opsys = s.opsys,
        path = s.pkgpath,
    );
    let mut meta: Vec<(&str, Vec<u8>)> = vec![
        ("+CONTENTS", contents.into_bytes()),
        ("+COMMENT", format!("{}\n", s.comment).into_bytes()),
        (
            "+DESC",
            format!(
                "{}.\n\nA small stand-in generated by mkimage's test kit.\n",
                s.comment
            )
            .into_bytes(),
        ),
    ];
    if let Some(script) = install_script(s) {
        meta.push(("+INSTALL", script.into_bytes()));
    }
    meta.push((
        "+BUILD_VERSION",
        format!(
            "pkgsrc/{}/Makefile:\t$NetBSD: Makefile,v 1.1 2024/12/01 00:00:00 pkgsrc Exp $\n",
            s.pkgpath
        )
        .into_bytes(),
    ));
    meta.push(("+BUILD_INFO", build_info.into_bytes()));
    meta.push(("+SIZE_PKG", format!("{size_pkg}\n").into_bytes()));
    meta.push(("+SIZE_ALL", format!("{size_pkg}\n").into_bytes()));

    let mut tar_bytes = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar_bytes);
        for (name, data) in &meta {
            let mut h = header(name, data.len() as u64, 0o644, tar::EntryType::Regular)?;
            h.set_cksum();
            b.append(&h, data.as_slice())?;
        }
        for (pf, data) in &payload {
            let mut h = match pf.kind {
                Kind::File => header(pf.path, data.len() as u64, pf.mode, tar::EntryType::Regular)?,
                Kind::Symlink(t) => {
                    let mut h = header(pf.path, 0, 0o755, tar::EntryType::Symlink)?;
                    h.set_link_name(t)?;
                    h
                }
                Kind::Link(t) => {
                    let mut h = header(pf.path, 0, pf.mode, tar::EntryType::Link)?;
                    h.set_link_name(t)?;
                    h
                }
            };
            h.set_cksum();
            b.append(&h, data.as_slice())?;
        }
        b.finish()?;
    }
    if s.xz {
        let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
        e.write_all(&tar_bytes)?;
        Ok(e.finish()?)
    } else {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&tar_bytes)?;
        Ok(e.finish()?)
    }
}

/// Write the repository under `root` (see the module documentation).
pub fn generate(root: &Path, opts: &RepoOptions) -> Result<RepoInfo> {
    let all = root.join(ALL_DIR);
    std::fs::create_dir_all(&all).with_context(|| format!("creating {}", all.display()))?;
    let mut summary = String::new();
    let mut names = Vec::new();
    for s in specs() {
        let bytes = build_package(&s, opts.seed)?;
        let file_name = format!("{}.tgz", s.pkgname);
        let path = all.join(&file_name);
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        let size_pkg: u64 = s.files.len() as u64 * 100;
        summary.push_str(&format!(
            "BUILD_DATE=2024-12-01 00:00:00 +0000\nCATEGORIES={cat}\nCOMMENT={comment}\n",
            cat = s.pkgpath.split('/').next().unwrap_or("misc"),
            comment = s.comment
        ));
        for c in s.conflicts {
            summary.push_str(&format!("CONFLICTS={c}\n"));
        }
        for d in s.depends {
            summary.push_str(&format!("DEPENDS={d}\n"));
        }
        summary.push_str(&format!(
            "DESCRIPTION={comment}.\nDESCRIPTION=A small stand-in generated by mkimage's test kit.\n\
             FILE_CKSUM=sha256 {cksum}\nFILE_NAME={file_name}\nFILE_SIZE={size}\nMACHINE_ARCH=x86_64\n\
             OPSYS={opsys}\nOS_VERSION=10.0\nPKGNAME={name}\nPKGPATH={path}\nPKGTOOLS_VERSION={PKGTOOLS_VERSION}\n\
             SIZE_PKG={size_pkg}\n\n",
            comment = s.comment,
            cksum = hex::encode(Sha256::digest(&bytes)),
            size = bytes.len(),
            opsys = s.opsys,
            name = s.pkgname,
            path = s.pkgpath,
        ));
        names.push(s.pkgname.to_string());
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(summary.as_bytes())?;
    std::fs::write(all.join("pkg_summary.gz"), gz.finish()?).context("writing pkg_summary.gz")?;
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 6);
    xz.write_all(summary.as_bytes())?;
    std::fs::write(all.join("pkg_summary.xz"), xz.finish()?).context("writing pkg_summary.xz")?;
    Ok(RepoInfo {
        all_dir: all,
        packages: names,
    })
}
