//! `verify --mtree`: check every entry of the image's own
//! `/etc/mtree/set.*` specs against its root file system — type, mode,
//! owner, size, SHA-256 digest and link target — as `mtree -e` would on a
//! mounted system. Paths mkimage deliberately generated or edited (listed
//! in `/var/db/mkimage/generated`) are checked for type only: their
//! content is meant to differ from the release's.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::disk::BlockDevice;
use crate::fs::ffs::FfsReader;
use crate::fs::ffs::dinode::{IFBLK, IFCHR, IFDIR, IFIFO, IFLNK, IFMT, IFREG, IFSOCK};
use crate::mtree::{self, SpecEntry};

/// Where the sets keep their specs, and where mkimage lists its changes.
const MTREE_DIR: &str = "/etc/mtree";
const GENERATED: &str = "/var/db/mkimage/generated";

/// A difference between a spec and the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtreeFinding {
    pub spec: String,
    pub line: usize,
    pub path: String,
    pub what: String,
}

impl std::fmt::Display for MtreeFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: /{}: {}",
            self.spec, self.line, self.path, self.what
        )
    }
}

/// What was checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MtreeSummary {
    pub specs: Vec<String>,
    pub entries: usize,
    /// Entries whose content was not compared because mkimage wrote them.
    pub generated: usize,
}

fn read_text<D: BlockDevice>(r: &mut FfsReader<D>, path: &str) -> Result<Option<String>> {
    let ino = match r.lookup(path) {
        Ok(i) => i,
        Err(crate::fs::ffs::FfsError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let bytes = r.read_bytes(ino, 64 << 20)?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

fn id_map(text: &str) -> BTreeMap<String, u32> {
    let mut m = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() >= 3
            && !line.starts_with('#')
            && let Ok(id) = f[2].parse()
        {
            m.entry(f[0].to_string()).or_insert(id);
        }
    }
    m
}

struct Sha256Writer(Sha256);
impl Write for Sha256Writer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.update(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Check the image's specs. Errors only when the image cannot be read or
/// has no specs at all.
pub fn check<D: BlockDevice>(r: &mut FfsReader<D>) -> Result<(MtreeSummary, Vec<MtreeFinding>)> {
    let dir_ino = r
        .lookup(MTREE_DIR)
        .with_context(|| format!("{MTREE_DIR}: the image has no mtree specs to check against"))?;
    let mut specs: Vec<String> = r
        .read_dir(dir_ino)?
        .into_iter()
        .map(|e| String::from_utf8_lossy(&e.name).into_owned())
        .filter(|n| n.starts_with("set."))
        .collect();
    specs.sort();
    if specs.is_empty() {
        anyhow::bail!("{MTREE_DIR} holds no set.* specs");
    }
    let users = id_map(&read_text(r, "/etc/passwd")?.unwrap_or_default());
    let groups = id_map(&read_text(r, "/etc/group")?.unwrap_or_default());
    let generated: BTreeSet<String> = read_text(r, GENERATED)?
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_string)
        .collect();

    let mut summary = MtreeSummary {
        specs: specs.clone(),
        ..MtreeSummary::default()
    };
    let mut out = Vec::new();
    for spec in &specs {
        let path = format!("{MTREE_DIR}/{spec}");
        let text = read_text(r, &path)?.unwrap_or_default();
        let entries = mtree::parse(&text).with_context(|| path.clone())?;
        for e in &entries {
            summary.entries += 1;
            let is_generated = generated.contains(&e.path);
            if is_generated {
                summary.generated += 1;
            }
            check_entry(r, spec, e, is_generated, &users, &groups, &mut out)?;
        }
    }
    Ok((summary, out))
}

fn check_entry<D: BlockDevice>(
    r: &mut FfsReader<D>,
    spec: &str,
    e: &SpecEntry,
    generated: bool,
    users: &BTreeMap<String, u32>,
    groups: &BTreeMap<String, u32>,
    out: &mut Vec<MtreeFinding>,
) -> Result<()> {
    let mut find = |what: String| {
        out.push(MtreeFinding {
            spec: spec.to_string(),
            line: e.line,
            path: e.path.clone(),
            what,
        })
    };
    let st = match r.stat(&format!("/{}", e.path)) {
        Ok(st) => st,
        Err(crate::fs::ffs::FfsError::NotFound(_)) => {
            if e.get("optional").is_none() {
                find("missing".into());
            }
            return Ok(());
        }
        Err(err) => return Err(err.into()),
    };
    let ifmt = st.mode & IFMT;
    if let Some(t) = e.get("type") {
        let want = match t {
            "file" => IFREG,
            "dir" => IFDIR,
            "link" => IFLNK,
            "char" => IFCHR,
            "block" => IFBLK,
            "fifo" => IFIFO,
            "socket" => IFSOCK,
            other => {
                find(format!("unknown type `{other}` in the spec"));
                return Ok(());
            }
        };
        if ifmt != want {
            find(format!("type is {:o}, spec says {t}", ifmt >> 12));
            return Ok(());
        }
    }
    if generated {
        return Ok(());
    }
    if let Some(m) = e.get("mode") {
        match mtree::parse_mode(m) {
            Some(want) if want != st.mode & 0o7777 => {
                find(format!("mode {:04o}, spec says {m}", st.mode & 0o7777))
            }
            None => find(format!("bad mode `{m}` in the spec")),
            _ => {}
        }
    }
    if let Some(u) = e.get("uname") {
        match users.get(u) {
            Some(uid) if *uid != st.uid => {
                find(format!("owner uid {}, spec says {u} ({uid})", st.uid))
            }
            None => find(format!(
                "spec names user {u}, unknown to the image's /etc/passwd"
            )),
            _ => {}
        }
    }
    if let Some(g) = e.get("gname") {
        match groups.get(g) {
            Some(gid) if *gid != st.gid => {
                find(format!("group gid {}, spec says {g} ({gid})", st.gid))
            }
            None => find(format!(
                "spec names group {g}, unknown to the image's /etc/group"
            )),
            _ => {}
        }
    }
    if ifmt == IFREG {
        if let Some(size) = e.get("size")
            && size.parse::<u64>().ok() != Some(st.size)
        {
            find(format!("size {}, spec says {size}", st.size));
        }
        if let Some(want) = e.get("sha256") {
            let mut h = Sha256Writer(Sha256::new());
            r.read_file(st.ino, &mut h)?;
            let got = hex::encode(h.0.finalize());
            if !got.eq_ignore_ascii_case(want) {
                find(format!("sha256 {got}, spec says {want}"));
            }
        }
    }
    if ifmt == IFLNK
        && let Some(want) = e.get("link")
    {
        let got = r.readlink(st.ino)?;
        if got != want.as_bytes() {
            find(format!(
                "links to {}, spec says {want}",
                String::from_utf8_lossy(&got)
            ));
        }
    }
    Ok(())
}
