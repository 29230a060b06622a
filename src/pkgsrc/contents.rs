//! A package's `+CONTENTS` (packing list) read the way `pkg_add` uses it:
//! the files under the package prefix (the first `@cwd`) with their
//! `@mode/@owner/@group` and `@comment MD5:`, `@ignore`d members,
//! `@pkgdir`, `@pkgdep`, `@pkgcfl` and `@exec` commands.

use super::PREFIX;
use anyhow::{Context, Result, bail};
use pkgsrc::plist::{Plist, PlistEntry};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// One payload file as `+CONTENTS` describes it.
#[derive(Debug, Clone)]
pub(crate) struct FileSpec {
    pub(crate) abs: String,
    pub(crate) mode: Option<String>,
    pub(crate) owner: Option<String>,
    pub(crate) group: Option<String>,
    pub(crate) md5: Option<String>,
}

/// `+CONTENTS` walked with `@cwd`, `@mode`, `@owner`, `@group`, `@ignore`.
pub(crate) struct Contents {
    /// Member name → specs in plist order (a name may repeat under
    /// different `@cwd`s).
    pub(crate) files: BTreeMap<String, VecDeque<FileSpec>>,
    /// Members to skip (`@ignore`).
    pub(crate) ignored: BTreeSet<String>,
    pub(crate) pkgdirs: Vec<String>,
    pub(crate) depends: Vec<String>,
    pub(crate) conflicts: Vec<String>,
    pub(crate) execs: Vec<String>,
    pub(crate) count: usize,
}

pub(crate) fn parse_contents(pkgname: &str, text: &[u8]) -> Result<(String, Contents)> {
    let plist = Plist::from_bytes(text).with_context(|| format!("{pkgname}: parsing +CONTENTS"))?;
    let mut c = Contents {
        files: BTreeMap::new(),
        ignored: BTreeSet::new(),
        pkgdirs: Vec::new(),
        depends: Vec::new(),
        conflicts: Vec::new(),
        execs: Vec::new(),
        count: 0,
    };
    let mut name = None;
    let mut cwd: Option<String> = None;
    let (mut mode, mut owner, mut group) = (None, None, None);
    let mut ignore_next = false;
    let mut last_file: Option<(String, String)> = None;
    for e in &plist {
        match e {
            PlistEntry::Name(n) => name = Some(n.to_string()),
            // pkg_add (add/perform.c, extract_files) extracts every file
            // relative to the package prefix, the first @cwd; later @cwd
            // lines do not move files.
            PlistEntry::Cwd(d) if cwd.is_none() => {
                let d = d.to_string_lossy();
                let d = d.trim_end_matches('/');
                cwd = Some(if d.is_empty() {
                    "/".to_string()
                } else {
                    d.to_string()
                });
            }
            PlistEntry::Mode(m) => mode = m.as_ref().map(|s| s.to_string()),
            PlistEntry::Owner(o) => owner = o.as_ref().map(|s| s.to_string()),
            PlistEntry::Group(g) => group = g.as_ref().map(|s| s.to_string()),
            PlistEntry::Ignore => ignore_next = true,
            PlistEntry::File(f) => {
                let f = f.to_string_lossy().into_owned();
                if std::mem::take(&mut ignore_next) {
                    c.ignored.insert(f);
                    continue;
                }
                let Some(dir) = &cwd else {
                    bail!("{pkgname}: +CONTENTS names {f} before any @cwd");
                };
                let abs = join(dir, &f);
                c.files.entry(f.clone()).or_default().push_back(FileSpec {
                    abs: abs.clone(),
                    mode: mode.clone(),
                    owner: owner.clone(),
                    group: group.clone(),
                    md5: None,
                });
                c.count += 1;
                last_file = Some((f, abs));
            }
            PlistEntry::FileChecksum(sum) => {
                if let Some((f, _)) = &last_file
                    && let Some(spec) = c.files.get_mut(f).and_then(|q| q.back_mut())
                {
                    spec.md5 = Some(sum.to_ascii_lowercase());
                }
            }
            PlistEntry::PkgDir(d) => {
                let Some(dir) = &cwd else {
                    bail!("{pkgname}: +CONTENTS has @pkgdir before any @cwd");
                };
                c.pkgdirs.push(join(dir, &d.to_string_lossy()));
            }
            PlistEntry::PkgDep(d) => c.depends.push(d.to_string()),
            PlistEntry::PkgCfl(d) => c.conflicts.push(d.to_string()),
            PlistEntry::Exec(cmd) => {
                // pkg_install's format_cmd: %D the @cwd, %F the last file as
                // listed, %B the directory of %D/%F, %f its last component.
                let dir = cwd.clone().unwrap_or_else(|| PREFIX.to_string());
                let file = last_file
                    .as_ref()
                    .map(|(f, _)| f.clone())
                    .unwrap_or_default();
                let full = last_file
                    .as_ref()
                    .map(|(_, a)| a.clone())
                    .unwrap_or_default();
                let base = full
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_string())
                    .unwrap_or_default();
                let leaf = full.rsplit('/').next().unwrap_or("").to_string();
                c.execs.push(
                    cmd.to_string_lossy()
                        .replace("%D", &dir)
                        .replace("%F", &file)
                        .replace("%B", &base)
                        .replace("%f", &leaf),
                );
            }
            _ => {}
        }
    }
    let Some(name) = name else {
        bail!("{pkgname}: +CONTENTS has no @name");
    };
    Ok((name, c))
}

/// `dir/name` without doubling the slash of the root.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}
