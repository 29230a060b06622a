//! Installing one package the way `pkg_add` does (`add/perform.c`), into
//! an [`EntrySink`]: platform check from `+BUILD_INFO`, payload under
//! `@cwd` with `@mode/@owner/@group` and each file's `@comment MD5:`
//! verified while streaming, the pkgdb directory, and `+INSTALL`'s data
//! lines carried out natively (PERMS, FILE, DIR, SHELL, INFO, refcounts). Users
//! and groups are returned to the caller, who adds them to the image's
//! accounts between [`Installer::prepare`] and [`Installer::install`].

use super::archive::{META_FILES, PackageMeta, PayloadKind, read_package};
pub use super::check::{check_build_info, verify_package_file};
use super::contents::parse_contents;
use super::infodir::InfoDirs;
use super::install_script::{self, AccountRequest, DeferredPart, InstallScript};
use super::pkgdb::{AUTOMATIC_INSTALLED_INFO, ByFile, required_by};
use super::resolve::PlannedPackage;
use super::{PKG_DBDIR, PREFIX, Target, entry_path};
use crate::entry::{Entry, EntryKind, EntrySink, Timestamp, add_bytes};
use anyhow::{Context, Result, bail};
use md5::{Digest, Md5};
use pkgsrc::Pattern;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::PathBuf;

/// Name → id lookups in the image's own passwd and group files (including
/// the users and groups packages asked for).
pub trait Owners {
    fn uid(&self, user: &str) -> Option<u32>;
    fn gid(&self, group: &str) -> Option<u32>;
}

/// The image's accounts, able to take the users and groups packages ask
/// for (`+USERGROUP ADD`: groups first; a user whose group does not exist
/// is not created). Implemented by the accounts module at merge time.
pub trait Accounts: Owners {
    fn apply(&mut self, request: &AccountRequest) -> Result<()>;
}

/// Install a whole plan in order: for each package, check the file against
/// the summary, prepare, apply its account requests, install; then
/// [`Installer::finish`]. `open` returns a fresh reader over a package's
/// file each time it is called (the metadata and the payload are read in
/// two passes).
pub fn install_packages(
    installer: Installer,
    plan: &[PlannedPackage],
    mut open: impl FnMut(&PlannedPackage) -> Result<Box<dyn Read>>,
    accounts: &mut dyn Accounts,
    sink: &mut dyn EntrySink,
) -> Result<FinishReport> {
    let mut installer = installer;
    let task = crate::progress::Task::new("installing packages", Some(plan.len() as u64), false);
    for pkg in plan {
        crate::progress::debug(format!(
            "installing {}{}",
            pkg.pkgname,
            if pkg.automatic { " (dependency)" } else { "" }
        ));
        verify_package_file(pkg, open(pkg)?)?;
        let prepared = installer.prepare(pkg, open(pkg)?, accounts)?;
        let groups = prepared
            .account_requests
            .iter()
            .filter(|r| matches!(r, AccountRequest::Group { .. }));
        let users = prepared
            .account_requests
            .iter()
            .filter(|r| matches!(r, AccountRequest::User { .. }));
        for req in groups.chain(users) {
            accounts
                .apply(req)
                .with_context(|| format!("{}: adding {req:?}", pkg.pkgname))?;
        }
        installer.install(&prepared, open(pkg)?, sink, accounts)?;
        if let Some(msg) = prepared.meta.text("+DISPLAY") {
            crate::progress::info(format!("{}: {}", pkg.pkgname, msg.trim_end()));
        }
        task.inc(1);
    }
    let report = installer.finish(sink)?;
    for d in &report.deferred {
        crate::progress::warn(format!(
            "{}: the {} part of its install ({}) needs the running system; it will run once at first boot",
            d.package, d.part.template, d.part.stage
        ));
    }
    task.finish(format!("{} packages installed", plan.len()));
    Ok(report)
}

/// A package whose metadata has been read and checked; its account
/// requests must be applied before [`Installer::install`].
#[derive(Debug, Clone)]
pub struct PackagePlan {
    pub pkgname: String,
    pub automatic: bool,
    pub meta: PackageMeta,
    pub script: InstallScript,
    /// Users and groups (`# USER:` / `# GROUP:`) the caller must make exist.
    pub account_requests: Vec<AccountRequest>,
    preexisting: BTreeSet<String>,
}

/// A part of a package's install that runs at first boot instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeferredItem {
    pub package: String,
    /// The `+INSTALL` header (variable set-up) the part runs after.
    pub header: String,
    pub part: DeferredPart,
}

/// What the caller must still do after [`Installer::finish`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinishReport {
    /// Absolute shell paths to append to `/etc/shells` (use [`add_shells`]).
    pub shells: Vec<String>,
    /// Script parts left for `/etc/rc.d/mkimage_deferred` at first boot.
    pub deferred: Vec<DeferredItem>,
}

/// `/etc/shells` with `shells` appended unless a line already starts with
/// them (the `+SHELL ADD` check).
pub fn add_shells(existing: &str, shells: &[String]) -> String {
    let mut out = existing.to_string();
    for sh in shells {
        if !out.lines().any(|l| l.starts_with(sh.as_str())) {
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(sh);
            out.push('\n');
        }
    }
    out
}

fn parse_mode(pkgname: &str, what: &str, mode: &str) -> Result<u16> {
    u16::from_str_radix(mode, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .with_context(|| format!("{pkgname}: {what} has mode {mode:?}, not an octal permission"))
}

fn prefixed(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{PREFIX}/{path}")
    }
}

/// A reader that computes MD5 of what passes through and optionally keeps
/// a copy (for example files that a `# FILE:` line copies).
struct Tee<'a> {
    inner: &'a mut dyn Read,
    md5: Md5,
    keep: Option<Vec<u8>>,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.md5.update(&buf[..n]);
        if let Some(k) = &mut self.keep {
            k.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }
}

/// Installs packages one after another into one image and writes the
/// shared pkgdb state at the end.
pub struct Installer {
    target: Target,
    scratch: PathBuf,
    time: Timestamp,
    /// Entry paths that exist in the image (from the sets, or written here).
    existing: BTreeSet<String>,
    byfile: ByFile,
    /// pkgname → `@pkgdep` patterns, in install order.
    installed: Vec<(String, Vec<String>)>,
    /// pkgname → `@pkgcfl` patterns of installed packages.
    conflicts: Vec<(String, Vec<String>)>,
    shells: Vec<String>,
    infos: InfoDirs,
    deferred: Vec<DeferredItem>,
    rcd_scripts: bool,
    pkgin_repository: Option<String>,
    sudo_wheel: bool,
}

impl Installer {
    /// `scratch` is a directory for a temporary file (the db185 writer
    /// needs a path); `time` stamps generated files.
    pub fn new(target: Target, scratch: impl Into<PathBuf>, time: Timestamp) -> Self {
        Installer {
            target,
            scratch: scratch.into(),
            time,
            existing: BTreeSet::new(),
            byfile: ByFile::default(),
            installed: Vec::new(),
            conflicts: Vec::new(),
            shells: Vec::new(),
            infos: InfoDirs::default(),
            rcd_scripts: false,
            pkgin_repository: None,
            sudo_wheel: false,
            deferred: Vec::new(),
        }
    }

    /// Copy packages' rc.d scripts (`# FILE:` lines with flag `r`) into
    /// place, as `PKG_RCD_SCRIPTS=YES` does; off by default like pkgsrc.
    pub fn set_rcd_scripts(&mut self, on: bool) {
        self.rcd_scripts = on;
    }

    /// Have [`Installer::finish`] write pkgin's repositories.conf with this
    /// URL (after the packages, so it replaces pkgin's example copy).
    pub fn set_pkgin_repository(&mut self, url: &str) {
        self.pkgin_repository = Some(url.to_string());
    }

    /// Have [`Installer::finish`] write the sudoers drop-in giving group
    /// wheel password-less sudo.
    pub fn set_sudo_wheel(&mut self, on: bool) {
        self.sudo_wheel = on;
    }

    /// Tell the installer a path already exists in the image (a file or
    /// directory from the sets): `# FILE:` copies skip it and parent
    /// directories are not re-created over it. Absolute or entry form.
    pub fn mark_existing(&mut self, path: &str) {
        if let Ok(p) = entry_path(path) {
            self.existing.insert(p);
        }
    }

    /// Read the package's metadata (only the leading `+` members), check
    /// the platform and parse `+INSTALL`. `owners` is the accounts state
    /// before the package's requests are applied (for `+PREEXISTING`).
    pub fn prepare(
        &self,
        pkg: &PlannedPackage,
        reader: impl Read,
        owners: &dyn Owners,
    ) -> Result<PackagePlan> {
        let name = &pkg.pkgname;
        let meta = read_package(reader, true, |_, _| Ok(()))
            .with_context(|| format!("reading package {name} ({})", pkg.file_name))?;
        let contents = meta.get("+CONTENTS").unwrap_or_default();
        let (plist_name, _) = parse_contents(name, contents)?;
        if &plist_name != name {
            bail!(
                "{}: the package's +CONTENTS says @name {plist_name}, the repository index says {name}",
                pkg.file_name
            );
        }
        let Some(build_info) = meta.text("+BUILD_INFO") else {
            bail!("{name}: package has no +BUILD_INFO, so its platform cannot be checked");
        };
        check_build_info(name, &build_info, &self.target)?;
        let script = meta
            .text("+INSTALL")
            .map(|t| install_script::parse(&t))
            .unwrap_or_default();
        let mut preexisting = BTreeSet::new();
        for req in &script.accounts {
            match req {
                AccountRequest::User { name, .. } if owners.uid(name).is_some() => {
                    preexisting.insert(format!("users/{name}"));
                }
                AccountRequest::Group { name, .. } if owners.gid(name).is_some() => {
                    preexisting.insert(format!("groups/{name}"));
                }
                _ => {}
            }
        }
        Ok(PackagePlan {
            pkgname: name.clone(),
            automatic: pkg.automatic,
            account_requests: script.accounts.clone(),
            meta,
            script,
            preexisting,
        })
    }

    fn ensure_parents(&mut self, sink: &mut dyn EntrySink, path: &str) -> Result<()> {
        let mut prefix = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if self.existing.insert(prefix.clone()) {
                sink.add(
                    &Entry::dir(prefix.clone(), 0o755, self.time),
                    &mut std::io::empty(),
                )
                .with_context(|| format!("creating directory /{prefix}"))?;
            }
        }
        Ok(())
    }

    fn add_generated(
        &mut self,
        sink: &mut dyn EntrySink,
        abs: &str,
        mode: u16,
        bytes: &[u8],
    ) -> Result<()> {
        let path = entry_path(abs)?;
        self.ensure_parents(sink, &path)?;
        self.existing.insert(path.clone());
        add_bytes(sink, Entry::file(path, mode, 0, self.time), bytes)
            .with_context(|| format!("writing {abs}"))
    }

    fn add_dir(
        &mut self,
        sink: &mut dyn EntrySink,
        abs: &str,
        mode: u16,
        uid: u32,
        gid: u32,
    ) -> Result<()> {
        let path = entry_path(abs)?;
        self.ensure_parents(sink, &path)?;
        self.existing.insert(path.clone());
        sink.add(
            &Entry::dir(path, mode, self.time).owned(uid, gid),
            &mut std::io::empty(),
        )
        .with_context(|| format!("creating directory {abs}"))
    }

    /// A refcount token (`${PKG_DBDIR}.refcount/<kind><key>/<pkgname>`),
    /// with `+PREEXISTING` when the object existed before the first
    /// package referenced it, and `+PERMISSIONS` when given.
    fn refcount(
        &mut self,
        sink: &mut dyn EntrySink,
        pkgname: &str,
        shadow: &str,
        preexisting: bool,
        permissions: Option<String>,
    ) -> Result<()> {
        let shadow_dir = format!("{PKG_DBDIR}.refcount/{shadow}");
        let new_dir = !self.existing.contains(&entry_path(&shadow_dir)?);
        if new_dir {
            self.add_dir(sink, &shadow_dir, 0o755, 0, 0)?;
            if preexisting {
                self.add_generated(
                    sink,
                    &format!("{shadow_dir}/+PREEXISTING"),
                    0o644,
                    format!("{pkgname}\n").as_bytes(),
                )?;
            }
        }
        if let Some(p) = permissions {
            self.add_generated(
                sink,
                &format!("{shadow_dir}/+PERMISSIONS"),
                0o644,
                format!("{p}\n").as_bytes(),
            )?;
        }
        self.add_generated(
            sink,
            &format!("{shadow_dir}/{pkgname}"),
            0o644,
            format!("{PKG_DBDIR}/{pkgname}\n").as_bytes(),
        )
    }

    /// Install a prepared package: pkgdb directory, DIR lines, payload
    /// (MD5-checked), FILE copies, PERMS, SHELL registration, refcounts.
    pub fn install(
        &mut self,
        plan: &PackagePlan,
        reader: impl Read,
        sink: &mut dyn EntrySink,
        owners: &dyn Owners,
    ) -> Result<()> {
        let name = plan.pkgname.as_str();
        let (_, mut contents) =
            parse_contents(name, plan.meta.get("+CONTENTS").unwrap_or_default())?;
        self.check_conflicts(name, &contents.conflicts)?;
        // check_implicit_conflict: no file may belong to another package.
        for spec in contents.files.values().flatten() {
            if let Some(owner) = self.byfile.records().get(&spec.abs) {
                bail!(
                    "{name}: {} is already installed by {owner} (conflicting PLIST)",
                    spec.abs
                );
            }
        }
        let script = &plan.script;
        let uid_of = |user: &str, what: &str| {
            owners.uid(user).with_context(|| {
                format!("{name}: {what} is owned by user {user:?}, which the image's passwd does not have")
            })
        };
        let gid_of = |group: &str, what: &str| {
            owners.gid(group).with_context(|| {
                format!("{name}: {what} is owned by group {group:?}, which the image's group file does not have")
            })
        };

        // The pkgdb directory with the + files, as write_meta_data does.
        let dbdir = format!("{PKG_DBDIR}/{name}");
        self.add_dir(sink, &dbdir, 0o755, 0, 0)?;
        for (file, _, mode) in META_FILES {
            if matches!(*file, "+REQUIRED_BY" | "+INSTALLED_INFO") {
                continue;
            }
            if let Some(data) = plan.meta.get(file) {
                self.add_generated(sink, &format!("{dbdir}/{file}"), *mode, data)?;
            }
        }
        if plan.automatic {
            self.add_generated(
                sink,
                &format!("{dbdir}/+INSTALLED_INFO"),
                0o644,
                AUTOMATIC_INSTALLED_INFO.as_bytes(),
            )?;
        }

        // PRE-INSTALL: users and groups (refcounts; the accounts themselves
        // were added by the caller), then DIR lines.
        for req in &script.accounts {
            let (shadow, exists) = match req {
                AccountRequest::User { name: u, .. } => {
                    (format!("users/{u}"), owners.uid(u).is_some())
                }
                AccountRequest::Group { name: g, .. } => {
                    (format!("groups/{g}"), owners.gid(g).is_some())
                }
            };
            if !exists {
                bail!(
                    "{name}: +INSTALL needs {shadow}, which was not added to the image's accounts before installing"
                );
            }
            let pre = plan.preexisting.contains(&shadow);
            self.refcount(sink, name, &shadow, pre, None)?;
        }
        for d in &script.dirs {
            if !d.flags.contains('m') {
                continue;
            }
            let abs = prefixed(&d.path);
            let existed = self.existing.contains(&entry_path(&abs)?);
            let perms = (d.mode.is_some() || d.user.is_some() || d.group.is_some()).then(|| {
                format!(
                    "{} {} {}",
                    d.user.as_deref().unwrap_or(""),
                    d.group.as_deref().unwrap_or(""),
                    d.mode.as_deref().unwrap_or("")
                )
            });
            self.refcount(sink, name, &format!("dirs{abs}"), existed, perms)?;
            let mode = d
                .mode
                .as_deref()
                .map(|m| parse_mode(name, &abs, m))
                .transpose()?
                .unwrap_or(0o755);
            let uid = d
                .user
                .as_deref()
                .map(|u| uid_of(u, &abs))
                .transpose()?
                .unwrap_or(0);
            let gid = d
                .group
                .as_deref()
                .map(|g| gid_of(g, &abs))
                .transpose()?
                .unwrap_or(0);
            self.add_dir(sink, &abs, mode, uid, gid)?;
        }

        // PERMS apply after extraction; applying them to the entry gives
        // the same result.
        let mut perms: BTreeMap<String, &install_script::PermsLine> = BTreeMap::new();
        for p in &script.perms {
            perms.insert(prefixed(&p.path), p);
        }
        // Files whose bytes are needed after extraction: examples that
        // `# FILE:` copies, info files for the `dir` index.
        let examples: BTreeSet<String> = script
            .files
            .iter()
            .filter(|f| f.flags.contains('c'))
            .map(|f| prefixed(&f.example))
            .chain(script.infos.iter().map(|i| prefixed(&i.file)))
            .collect();
        let mut example_bytes: BTreeMap<String, (Vec<u8>, u16)> = BTreeMap::new();

        // The payload.
        let mut seen = 0usize;
        let mut installed_paths: BTreeSet<String> = BTreeSet::new();
        // Archive member name → absolute path, for hard links.
        let mut members: BTreeMap<String, String> = BTreeMap::new();
        let mut payload_err: Option<anyhow::Error> = None;
        read_package(reader, false, |_, item| {
            let member = item.path.trim_start_matches("./").to_string();
            if contents.ignored.contains(&member) || item.kind == PayloadKind::Dir {
                return Ok(());
            }
            let Some(spec) = contents.files.get_mut(&member).and_then(|q| q.pop_front()) else {
                bail!("{name}: archive member {member} is not listed in +CONTENTS; package corrupt");
            };
            seen += 1;
            let path = entry_path(&spec.abs)?;
            self.ensure_parents(sink, &path)?;
            let time = Timestamp::from_secs(item.mtime);
            let mut mode = match &spec.mode {
                Some(m) => parse_mode(name, &spec.abs, m)?,
                None => item.mode,
            };
            // @owner/@group must exist; the archive's own names fall back
            // to its numeric ids, as libarchive's standard lookup does.
            let mut uid = match (&spec.owner, &item.uname) {
                (Some(u), _) => uid_of(u, &spec.abs)?,
                (None, Some(u)) => owners.uid(u).unwrap_or(item.uid),
                (None, None) => item.uid,
            };
            let mut gid = match (&spec.group, &item.gname) {
                (Some(g), _) => gid_of(g, &spec.abs)?,
                (None, Some(g)) => owners.gid(g).unwrap_or(item.gid),
                (None, None) => item.gid,
            };
            if let Some(p) = perms.get(&spec.abs) {
                if let Some(m) = &p.mode {
                    mode = parse_mode(name, &spec.abs, m)?;
                }
                if let Some(u) = &p.user {
                    uid = uid_of(u, &spec.abs)?;
                }
                if let Some(g) = &p.group {
                    gid = gid_of(g, &spec.abs)?;
                }
            }
            let mut entry = match &item.kind {
                PayloadKind::File => Entry::file(path.clone(), mode, item.size, time),
                PayloadKind::Symlink(t) => Entry::symlink(path.clone(), t.clone(), time),
                PayloadKind::HardLink(t) => {
                    let t = t.trim_start_matches("./");
                    let Some(target) = members.get(t) else {
                        bail!("{name}: {} is a hard link to {t}, which the package has not installed before it", spec.abs);
                    };
                    Entry::new(path.clone(), EntryKind::HardLink(entry_path(target)?), mode, time)
                }
                PayloadKind::Dir => return Ok(()),
            };
            entry = entry.owned(uid, gid);
            if matches!(item.kind, PayloadKind::File) {
                let keep = examples.contains(&spec.abs).then(Vec::new);
                let mut tee = Tee {
                    inner: item.data,
                    md5: Md5::new(),
                    keep,
                };
                sink.add(&entry, &mut tee).with_context(|| format!("{name}: writing {}", spec.abs))?;
                let got = hex::encode(tee.md5.finalize());
                if let Some(want) = &spec.md5
                    && *want != got
                {
                    payload_err = Some(anyhow::anyhow!(
                        "{name}: {} has MD5 {got}, but +CONTENTS records {want}; the package is corrupt \
                         (remove it from the cache and fetch it again)",
                        spec.abs
                    ));
                    bail!("MD5 mismatch");
                }
                if let Some(k) = tee.keep {
                    example_bytes.insert(spec.abs.clone(), (k, mode));
                }
            } else {
                sink.add(&entry, &mut std::io::empty()).with_context(|| format!("{name}: writing {}", spec.abs))?;
            }
            self.existing.insert(path);
            self.byfile.add_file(&spec.abs, name);
            members.insert(member, spec.abs.clone());
            installed_paths.insert(spec.abs);
            Ok(())
        })
        .map_err(|e| payload_err.take().unwrap_or(e))
        .with_context(|| format!("installing package {name}"))?;
        if seen != contents.count {
            let missing: Vec<&str> = contents
                .files
                .values()
                .flatten()
                .map(|s| s.abs.as_str())
                .take(5)
                .collect();
            bail!(
                "{name}: the archive lacks files listed in +CONTENTS: {}",
                missing.join(", ")
            );
        }
        for d in &contents.pkgdirs {
            self.byfile.add_pkgdir(d, name);
            if !self.existing.contains(&entry_path(d)?) {
                self.add_dir(sink, d, 0o755, 0, 0)?;
            }
        }

        // POST-INSTALL: FILE copies (+FILES ADD), PERMS on them, SHELL.
        for f in &script.files {
            if !f.flags.contains('c') {
                continue;
            }
            let abs = prefixed(&f.path);
            let eg = prefixed(&f.example);
            let existed = self.existing.contains(&entry_path(&abs)?);
            let permissions =
                (f.mode.is_some() || f.user.is_some() || f.group.is_some()).then(|| {
                    format!(
                        "{} {} {}",
                        f.mode.as_deref().unwrap_or(""),
                        f.user.as_deref().unwrap_or(""),
                        f.group.as_deref().unwrap_or("")
                    )
                });
            self.refcount(sink, name, &format!("files{abs}"), existed, permissions)?;
            // +FILES copies rc.d scripts (flag r) only with PKG_RCD_SCRIPTS
            // or the f flag.
            let wanted = !f.flags.contains('r') || f.flags.contains('f') || self.rcd_scripts;
            if existed || !wanted {
                continue;
            }
            let Some((bytes, eg_mode)) = example_bytes.get(&eg) else {
                continue;
            };
            let mut mode = f
                .mode
                .as_deref()
                .map(|m| parse_mode(name, &abs, m))
                .transpose()?
                .unwrap_or(*eg_mode);
            let mut uid = f
                .user
                .as_deref()
                .map(|u| uid_of(u, &abs))
                .transpose()?
                .unwrap_or(0);
            let mut gid = f
                .group
                .as_deref()
                .map(|g| gid_of(g, &abs))
                .transpose()?
                .unwrap_or(0);
            if let Some(p) = perms.get(&abs) {
                if let Some(m) = &p.mode {
                    mode = parse_mode(name, &abs, m)?;
                }
                if let Some(u) = &p.user {
                    uid = uid_of(u, &abs)?;
                }
                if let Some(g) = &p.group {
                    gid = gid_of(g, &abs)?;
                }
            }
            let path = entry_path(&abs)?;
            self.ensure_parents(sink, &path)?;
            self.existing.insert(path.clone());
            add_bytes(
                sink,
                Entry::file(path, mode, 0, self.time).owned(uid, gid),
                bytes,
            )
            .with_context(|| format!("{name}: copying {eg} to {abs}"))?;
        }
        for info in &script.infos {
            let file = prefixed(&info.file);
            let Some((bytes, _)) = example_bytes.get(&file) else {
                continue;
            };
            let text = if file.ends_with(".gz") {
                let mut out = Vec::new();
                flate2::read::MultiGzDecoder::new(bytes.as_slice())
                    .read_to_end(&mut out)
                    .with_context(|| format!("{name}: decompressing info file {file}"))?;
                out
            } else {
                bytes.clone()
            };
            let dir = match &info.infodir {
                Some(d) => prefixed(d),
                None => file
                    .rsplit_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_default(),
            };
            self.infos.add(&dir, &String::from_utf8_lossy(&text));
        }
        for sh in &script.shells {
            if sh.starts_with('/') {
                continue;
            }
            let abs = prefixed(sh);
            if installed_paths.contains(&abs) && !self.shells.contains(&abs) {
                self.shells.push(abs);
            }
        }
        for part in &script.deferred {
            self.deferred.push(DeferredItem {
                package: name.to_string(),
                header: script.header.clone(),
                part: part.clone(),
            });
        }
        for cmd in &contents.execs {
            self.deferred.push(DeferredItem {
                package: name.to_string(),
                header: String::new(),
                part: DeferredPart {
                    template: "@exec".to_string(),
                    stage: "POST-INSTALL".to_string(),
                    command: cmd.clone(),
                    lines: vec![format!("@exec {cmd}")],
                },
            });
        }
        self.installed
            .push((name.to_string(), std::mem::take(&mut contents.depends)));
        self.conflicts
            .push((name.to_string(), std::mem::take(&mut contents.conflicts)));
        Ok(())
    }

    /// What `pkg_add` refuses: another version of the same package, a
    /// `@pkgcfl` of the new package matching an installed one, or the
    /// reverse.
    fn check_conflicts(&self, name: &str, own: &[String]) -> Result<()> {
        let base = pkgsrc::pkgname::pkgbase(name);
        for (other, _) in &self.installed {
            if pkgsrc::pkgname::pkgbase(other) == base {
                bail!("{name}: a different version of {base} is already installed ({other})");
            }
        }
        for pat in own {
            let Ok(p) = Pattern::new(pat) else { continue };
            if let Some((other, _)) = self.installed.iter().find(|(o, _)| p.matches(o)) {
                bail!("{name} conflicts with installed {other} (@pkgcfl {pat})");
            }
        }
        for (other, pats) in &self.conflicts {
            for pat in pats {
                if Pattern::new(pat).is_ok_and(|p| p.matches(name)) {
                    bail!("installed {other} conflicts with {name} (@pkgcfl {pat})");
                }
            }
        }
        Ok(())
    }

    /// Write what depends on every installed package: `+REQUIRED_BY`,
    /// `pkgdb.byfile.db`, `/etc/pkg_install.conf`, and the first-boot
    /// fallback for deferred script parts. Returns the shells to register
    /// and the deferred parts for the build report.
    pub fn finish(mut self, sink: &mut dyn EntrySink) -> Result<FinishReport> {
        let names: Vec<String> = self.installed.iter().map(|(n, _)| n.clone()).collect();
        let mut required: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (pkg, deps) in &self.installed {
            for d in deps {
                let Ok(p) = Pattern::new(d) else { continue };
                let mut best = p.best_matcher();
                for n in &names {
                    let _ = best.consider(n);
                }
                if let Some(dep) = best.best() {
                    let list = required.entry(dep.to_string()).or_default();
                    if !list.contains(pkg) {
                        list.push(pkg.clone());
                    }
                }
            }
        }
        for (dep, users) in &required {
            self.add_generated(
                sink,
                &format!("{PKG_DBDIR}/{dep}/+REQUIRED_BY"),
                0o644,
                required_by(users).as_bytes(),
            )?;
        }
        for (dir, text) in self.infos.render() {
            self.add_generated(sink, &format!("{dir}/dir"), 0o644, text.as_bytes())?;
        }
        let db = self.byfile.encode(&self.scratch)?;
        self.add_generated(sink, &format!("{PKG_DBDIR}/pkgdb.byfile.db"), 0o644, &db)?;
        if let Some(url) = self.pkgin_repository.clone() {
            let text = super::conf::repositories_conf(&url);
            self.add_generated(sink, super::conf::REPOSITORIES_CONF, 0o644, text.as_bytes())?;
        }
        if self.sudo_wheel {
            let path = super::conf::SUDOERS_DROPIN;
            self.add_generated(
                sink,
                path,
                0o440,
                super::conf::SUDOERS_WHEEL_RULE.as_bytes(),
            )?;
        }
        self.add_generated(
            sink,
            "/etc/pkg_install.conf",
            0o644,
            super::conf::pkg_install_conf().as_bytes(),
        )?;
        if !self.deferred.is_empty() {
            self.write_deferred(sink)?;
        }
        Ok(FinishReport {
            shells: self.shells.clone(),
            deferred: self.deferred.clone(),
        })
    }

    fn write_deferred(&mut self, sink: &mut dyn EntrySink) -> Result<()> {
        for (path, mode, bytes) in super::deferred::files(&self.deferred) {
            self.add_generated(sink, &path, mode, bytes.as_bytes())?;
        }
        Ok(())
    }
}
