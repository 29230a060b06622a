//! A synthetic FreeBSD package repository, laid out as pkg(8) expects:
//! `<root>/FreeBSD:14:amd64/quarterly/` with `meta.conf`, `packagesite.pkg`
//! (a zstd tar holding `packagesite.yaml`, one JSON manifest per line) and
//! `All/<name>-<version>.pkg` (zstd tars: `+COMPACT_MANIFEST`, `+MANIFEST`,
//! then the payload under absolute names). The packages are the builds
//! service's list (bash, curl, git, mercurial, sudo) with a small
//! dependency graph, deterministic from a seed.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Modification time of every member (2025-06-10).
pub const PKG_MTIME: u64 = 1_749_513_600;
/// The ABI the packages are built for.
pub const ABI: &str = "FreeBSD:14:amd64";

/// One payload object.
#[derive(Debug, Clone)]
pub enum Item {
    /// Path, mode, size of generated content.
    File(&'static str, u32, usize),
    /// Path, target.
    Symlink(&'static str, &'static str),
    /// Path, earlier file of the same package.
    HardLink(&'static str, &'static str),
    /// Path, mode.
    Dir(&'static str, u32),
}

/// One synthetic package.
#[derive(Debug, Clone)]
pub struct PkgSpec {
    pub name: &'static str,
    pub version: &'static str,
    pub origin: &'static str,
    pub deps: &'static [&'static str],
    pub items: Vec<Item>,
    pub scripts: &'static [(&'static str, &'static str)],
}

/// The packages of the builds service's list and their dependencies.
pub fn builds_packages() -> Vec<PkgSpec> {
    use Item::*;
    vec![
        PkgSpec {
            name: "indexinfo",
            version: "0.3.1",
            origin: "print/indexinfo",
            deps: &[],
            items: vec![File("/usr/local/bin/indexinfo", 0o555, 3000)],
            scripts: &[],
        },
        PkgSpec {
            name: "gettext-runtime",
            version: "0.23.1",
            origin: "devel/gettext-runtime",
            deps: &["indexinfo"],
            items: vec![
                File("/usr/local/lib/libintl.so.8", 0o444, 9000),
                Symlink("/usr/local/lib/libintl.so", "libintl.so.8"),
            ],
            scripts: &[],
        },
        PkgSpec {
            name: "ca_root_nss",
            version: "3.108",
            origin: "security/ca_root_nss",
            deps: &[],
            items: vec![
                File("/usr/local/share/certs/ca-root-nss.crt", 0o444, 5000),
                Symlink(
                    "/usr/local/etc/ssl/cert.pem",
                    "../../share/certs/ca-root-nss.crt",
                ),
            ],
            scripts: &[],
        },
        PkgSpec {
            name: "libnghttp2",
            version: "1.65.0",
            origin: "www/libnghttp2",
            deps: &[],
            items: vec![File("/usr/local/lib/libnghttp2.so.14", 0o444, 7000)],
            scripts: &[],
        },
        PkgSpec {
            name: "curl",
            version: "8.14.1",
            origin: "ftp/curl",
            deps: &["ca_root_nss", "libnghttp2"],
            items: vec![
                File("/usr/local/bin/curl", 0o555, 8000),
                File("/usr/local/lib/libcurl.so.4", 0o444, 20000),
            ],
            scripts: &[],
        },
        PkgSpec {
            name: "expat",
            version: "2.7.1",
            origin: "textproc/expat2",
            deps: &[],
            items: vec![File("/usr/local/lib/libexpat.so.1", 0o444, 6000)],
            scripts: &[],
        },
        PkgSpec {
            name: "git",
            version: "2.50.0",
            origin: "devel/git",
            deps: &["curl", "expat", "gettext-runtime"],
            items: vec![
                File("/usr/local/bin/git", 0o555, 30000),
                Dir("/usr/local/libexec/git-core", 0o755),
                HardLink("/usr/local/libexec/git-core/git", "/usr/local/bin/git"),
                File("/usr/local/libexec/git-core/git-remote-http", 0o555, 9000),
                HardLink(
                    "/usr/local/libexec/git-core/git-remote-https",
                    "/usr/local/libexec/git-core/git-remote-http",
                ),
            ],
            scripts: &[],
        },
        PkgSpec {
            name: "python311",
            version: "3.11.13",
            origin: "lang/python311",
            deps: &["gettext-runtime"],
            items: vec![
                File("/usr/local/bin/python3.11", 0o555, 12000),
                File("/usr/local/lib/python3.11/os.py", 0o444, 4000),
            ],
            scripts: &[],
        },
        PkgSpec {
            name: "py311-mercurial",
            version: "6.9.5",
            origin: "devel/mercurial",
            deps: &["python311"],
            items: vec![File("/usr/local/bin/hg", 0o555, 2000)],
            scripts: &[],
        },
        PkgSpec {
            name: "bash",
            version: "5.2.37",
            origin: "shells/bash",
            deps: &["gettext-runtime", "indexinfo"],
            items: vec![
                File("/usr/local/bin/bash", 0o555, 25000),
                HardLink("/usr/local/bin/rbash", "/usr/local/bin/bash"),
            ],
            scripts: &[(
                "post-install",
                "grep -qs '^/usr/local/bin/bash$' /etc/shells || echo /usr/local/bin/bash >> /etc/shells",
            )],
        },
        PkgSpec {
            name: "sudo",
            version: "1.9.16p2",
            origin: "security/sudo",
            deps: &["gettext-runtime"],
            items: vec![
                File("/usr/local/bin/sudo", 0o4111, 15000),
                File("/usr/local/etc/sudoers.sample", 0o440, 1500),
                Dir("/usr/local/etc/sudoers.d", 0o750),
            ],
            // what ports' @sample keyword expands to
            scripts: &[(
                "post-install",
                "if ! [ -f \"/usr/local/etc/sudoers\" ]; then /bin/cp -p \"/usr/local/etc/sudoers.sample\" \"/usr/local/etc/sudoers\" && /bin/chmod u+w \"/usr/local/etc/sudoers\"; fi",
            )],
        },
        PkgSpec {
            name: "pkg",
            version: "2.1.2",
            origin: "ports-mgmt/pkg",
            deps: &[],
            items: vec![File("/usr/local/sbin/pkg", 0o555, 20000)],
            scripts: &[],
        },
    ]
}

/// A generated repository.
#[derive(Debug, Clone)]
pub struct FreebsdPkgRepo {
    /// `root/FreeBSD:14:amd64/quarterly`: the repository URL.
    pub dir: PathBuf,
    /// Package name → (file, its SHA-256, payload file digests by path).
    pub packages: BTreeMap<String, GeneratedPkg>,
}

#[derive(Debug, Clone)]
pub struct GeneratedPkg {
    pub path: PathBuf,
    pub sha256: String,
    /// Absolute path → content of each regular file.
    pub files: BTreeMap<String, Vec<u8>>,
}

fn content(seed: u64, path: &str, size: usize) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(path.as_bytes());
    let mut s = [0u8; 32];
    s.copy_from_slice(&h.finalize());
    let mut b = vec![0u8; size];
    ChaCha8Rng::from_seed(s).fill_bytes(&mut b);
    // text-like, so zstd has something to do
    for x in b.iter_mut() {
        *x = b'a' + (*x % 26);
    }
    b
}

fn header(path: &str, kind: tar::EntryType, mode: u32, size: u64) -> Result<tar::Header> {
    let mut h = tar::Header::new_ustar();
    let bytes = path.as_bytes();
    let u = h.as_ustar_mut().context("ustar header")?;
    anyhow::ensure!(bytes.len() <= u.name.len(), "name too long: {path}");
    u.name[..bytes.len()].copy_from_slice(bytes);
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_username("root")?;
    h.set_groupname("wheel")?;
    h.set_mtime(PKG_MTIME);
    h.set_size(size);
    Ok(h)
}

fn set_link(h: &mut tar::Header, target: &str) -> Result<()> {
    let field = &mut h.as_old_mut().linkname;
    anyhow::ensure!(
        target.len() <= field.len(),
        "link target too long: {target}"
    );
    field[..target.len()].copy_from_slice(target.as_bytes());
    Ok(())
}

/// A zstd-compressed tar of `members` (name, header, data) at `out`.
fn write_tzst(out: &Path, members: Vec<(tar::Header, Vec<u8>)>) -> Result<()> {
    let f = std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let z = zstd::stream::write::Encoder::new(f, 3)?;
    let mut b = tar::Builder::new(z);
    for (mut h, data) in members {
        h.set_cksum();
        b.append(&h, data.as_slice())?;
    }
    let mut z = b.into_inner()?;
    z.flush()?;
    z.finish()?;
    Ok(())
}

fn manifest_json(spec: &PkgSpec, all: &[PkgSpec], files: &BTreeMap<String, String>) -> Value {
    let deps: serde_json::Map<String, Value> = spec
        .deps
        .iter()
        .filter_map(|d| all.iter().find(|p| p.name == *d))
        .map(|d| {
            (
                d.name.to_string(),
                json!({"origin": d.origin, "version": d.version}),
            )
        })
        .collect();
    let mut m = json!({
        "name": spec.name,
        "origin": spec.origin,
        "version": spec.version,
        "comment": format!("Synthetic {} for mkimage tests", spec.name),
        "maintainer": "ports@example.org",
        "www": "https://example.org/",
        "abi": ABI,
        "arch": "freebsd:14:x86:64",
        "prefix": "/usr/local",
        "flatsize": 0,
        "licenselogic": "single",
        "licenses": ["BSD2CLAUSE"],
        "desc": format!("{} stand-in", spec.name),
        "deps": deps,
        "categories": [spec.origin.split('/').next().unwrap_or("misc")],
        "annotations": {"FreeBSD_version": "1403000", "repo_type": "binary"},
    });
    if !files.is_empty() {
        m["files"] = json!(files);
    }
    let dirs: serde_json::Map<String, Value> = spec
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Dir(p, _) => Some((p.to_string(), json!("y"))),
            _ => None,
        })
        .collect();
    if !dirs.is_empty() {
        m["directories"] = Value::Object(dirs);
    }
    if !spec.scripts.is_empty() {
        let s: serde_json::Map<String, Value> = spec
            .scripts
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        m["scripts"] = Value::Object(s);
    }
    m
}

/// Generate the repository under `root`.
pub fn generate_freebsd_pkgrepo(root: &Path, seed: u64) -> Result<FreebsdPkgRepo> {
    let dir = root.join(ABI).join("quarterly");
    std::fs::create_dir_all(dir.join("All"))
        .with_context(|| format!("creating {}", dir.display()))?;
    let specs = builds_packages();
    let mut catalogue = String::new();
    let mut packages = BTreeMap::new();
    for spec in &specs {
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut sums: BTreeMap<String, String> = BTreeMap::new();
        let mut payload: Vec<(tar::Header, Vec<u8>)> = Vec::new();
        let mut flatsize = 0u64;
        for item in &spec.items {
            match item {
                Item::File(p, mode, size) => {
                    let data = content(seed, p, *size);
                    sums.insert(
                        p.to_string(),
                        format!("1${}", hex::encode(Sha256::digest(&data))),
                    );
                    flatsize += data.len() as u64;
                    payload.push((
                        header(p, tar::EntryType::Regular, *mode, data.len() as u64)?,
                        data.clone(),
                    ));
                    files.insert(p.to_string(), data);
                }
                Item::Symlink(p, t) => {
                    let mut h = header(p, tar::EntryType::Symlink, 0o755, 0)?;
                    set_link(&mut h, t)?;
                    payload.push((h, Vec::new()));
                }
                Item::HardLink(p, t) => {
                    let mut h = header(p, tar::EntryType::Link, 0o555, 0)?;
                    set_link(&mut h, t)?;
                    payload.push((h, Vec::new()));
                    let (sum, data) = (sums[*t].clone(), files[*t].clone());
                    sums.insert(p.to_string(), sum);
                    files.insert(p.to_string(), data);
                }
                Item::Dir(p, mode) => {
                    payload.push((header(p, tar::EntryType::Directory, *mode, 0)?, Vec::new()));
                }
            }
        }
        let mut manifest = manifest_json(spec, &specs, &sums);
        manifest["flatsize"] = json!(flatsize);
        let mut compact = manifest.clone();
        if let Some(o) = compact.as_object_mut() {
            o.remove("files");
            o.remove("directories");
            o.remove("scripts");
        }
        let compact_text = serde_json::to_vec(&compact)?;
        let full_text = serde_json::to_vec(&manifest)?;
        let mut members = vec![
            (
                header(
                    "+COMPACT_MANIFEST",
                    tar::EntryType::Regular,
                    0o644,
                    compact_text.len() as u64,
                )?,
                compact_text,
            ),
            (
                header(
                    "+MANIFEST",
                    tar::EntryType::Regular,
                    0o644,
                    full_text.len() as u64,
                )?,
                full_text,
            ),
        ];
        members.extend(payload);
        let file_name = format!("{}-{}.pkg", spec.name, spec.version);
        let path = dir.join("All").join(&file_name);
        write_tzst(&path, members)?;
        let bytes = std::fs::read(&path)?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        compact["repopath"] = json!(format!("All/{file_name}"));
        compact["sum"] = json!(sha256);
        compact["pkgsize"] = json!(bytes.len());
        catalogue.push_str(&serde_json::to_string(&compact)?);
        catalogue.push('\n');
        packages.insert(
            spec.name.to_string(),
            GeneratedPkg {
                path,
                sha256,
                files,
            },
        );
    }
    let yaml = catalogue.into_bytes();
    write_tzst(
        &dir.join("packagesite.pkg"),
        vec![(
            header(
                "packagesite.yaml",
                tar::EntryType::Regular,
                0o644,
                yaml.len() as u64,
            )?,
            yaml,
        )],
    )?;
    std::fs::write(
        dir.join("meta.conf"),
        "version = 2;\npacking_format = \"tzst\";\nmanifests = \"packagesite.yaml\";\nmanifests_archive = \"packagesite\";\ndata = \"data\";\ndata_archive = \"data\";\n",
    )?;
    Ok(FreebsdPkgRepo { dir, packages })
}
