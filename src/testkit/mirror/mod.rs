//! Synthetic mirrors for tests and benchmarks. [`generate_netbsd`] writes a
//! NetBSD release's `binary/sets/` exactly as the real mirrors lay it out
//! — the sets as `.tar.xz` made the way NetBSD's build makes them, and the
//! `SHA512`/`MD5` files — deterministically from a seed, and returns what
//! each set holds so that tests can compare a finished image against it.
//!
//! Cost: a tiny mirror (300 entries, 2.5 MB of data, 0.7 MB of sets) takes
//! about a second, plus about a second once per process to build the GRUB
//! stand-in. A realistic mirror (60 791 entries, 1.08 GB of data, 337 MB
//! of sets at xz preset 1, about 3.2×) took 2 min 54 s of CPU on this
//! project's 2-core machine (5 min wall-clock with the machine shared;
//! sets are digested and compressed on all cores, one xz stream per set).
//! [`generate_freebsd`] does the same for a FreeBSD release directory
//! (`base.txz`, `kernel.txz`, `MANIFEST`).

pub mod accounts;
mod archive;
pub mod bootfiles;
pub mod checksums;
pub mod content;
mod etc_files;
pub mod freebsd;
mod freebsd_etc;
pub mod mtree;
mod netbsd_sets;
mod tree;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, anyhow, bail};
use sha2::{Digest, Sha256};

use crate::entry::{Entry, EntryKind, Timestamp};
use content::{Vocabulary, generate};
use netbsd_sets::Ctx;
use tree::{Data, NodeKind, SetTree};

pub use bootfiles::DEFAULT_GRUB_CFG;
pub use freebsd::{FreebsdMirror, FreebsdMirrorOptions, generate_freebsd};
pub use netbsd_sets::{EXAMPLES, target_of_len};

/// The sets generated (a subset of the 20 sets of NetBSD 10 for amd64).
pub const NETBSD_SETS: [&str; 8] = [
    "kern-GENERIC",
    "base",
    "comp",
    "etc",
    "man",
    "misc",
    "modules",
    "text",
];

/// Modification time of every member: 2024-12-16 00:00:00 UTC (the day
/// NetBSD 10.1 was released). Fixed so that output never depends on the clock.
pub const MTIME: u64 = 1_734_307_200;

/// The largest [`NetbsdMirrorOptions::scale`] (64 GB of data).
pub const MAX_SCALE: f64 = 64.0;

/// How big a mirror to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MirrorSize {
    /// A few hundred entries and a few MB: for tests.
    Tiny,
    /// About 1 GB uncompressed in about 60 000 files: for benchmarks.
    Realistic,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct NetbsdMirrorOptions {
    /// Release, e.g. `10.1`.
    pub release: String,
    /// Machine, e.g. `amd64`.
    pub machine: String,
    pub size: MirrorSize,
    pub seed: u64,
    /// The script of the GRUB stand-in shipped as `/usr/mdec/bootx64.efi`.
    pub grub_cfg: String,
    /// xz preset (0–9) for the sets.
    pub xz_preset: u32,
    /// Realistic mirrors only: multiplies the number of bulk files and the
    /// size of the core files, so that the data is about `scale` × that
    /// of a realistic mirror. 1.0 (the default) gives exactly the
    /// realistic mirror.
    pub scale: f64,
}

impl NetbsdMirrorOptions {
    /// NetBSD 10.1/amd64 with the default GRUB script; xz preset 6 for
    /// tiny mirrors, 1 for realistic ones (preset 6 would take minutes per
    /// gigabyte).
    pub fn new(size: MirrorSize, seed: u64) -> Self {
        NetbsdMirrorOptions {
            release: "10.1".to_string(),
            machine: "amd64".to_string(),
            size,
            seed,
            grub_cfg: DEFAULT_GRUB_CFG.to_string(),
            xz_preset: match size {
                MirrorSize::Tiny => 6,
                MirrorSize::Realistic => 1,
            },
            scale: 1.0,
        }
    }
}

/// One member of a set, as archived (and as listed in its mtree spec).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMember {
    /// Normalised like [`crate::entry::Entry::path`]: `bin/sh`; the root is
    /// `""`. The archive stores `./bin/sh` and `.`.
    pub path: String,
    /// `File`, `Dir`, `Symlink(target)` or `HardLink(first name)`; the
    /// first name of a file with several is the one archived first.
    pub kind: EntryKind,
    /// Permission bits including setuid/setgid/sticky.
    pub mode: u16,
    pub uname: String,
    pub gname: String,
    pub uid: u32,
    pub gid: u32,
    /// Data length of files and of hard links (the linked file's); 0 else.
    pub size: u64,
    /// SHA-256 of the data of files and hard links, lower-case hex.
    pub sha256: Option<String>,
}

impl SetMember {
    /// The [`Entry`] an extractor should produce for this member: owner by
    /// id, every time [`MTIME`]; hard links keep size 0 as in `Entry`.
    pub fn entry(&self) -> Entry {
        let time = Timestamp::from_secs(MTIME as i64);
        let mut e = Entry::new(self.path.clone(), self.kind.clone(), self.mode, time)
            .owned(self.uid, self.gid);
        if self.kind == EntryKind::File {
            e.size = self.size;
        }
        e
    }
}

/// One generated set file.
#[derive(Debug, Clone)]
pub struct GeneratedSet {
    /// `base`, `kern-GENERIC`, …
    pub name: String,
    /// `base.tar.xz`
    pub file_name: String,
    pub path: PathBuf,
    pub sha512: String,
    pub md5: String,
    /// Every member in archive order.
    pub members: Vec<SetMember>,
}

/// A generated mirror.
#[derive(Debug, Clone)]
pub struct NetbsdMirror {
    /// The directory given to [`generate_netbsd`] (holds `pub/`).
    pub root: PathBuf,
    /// `root/pub/NetBSD/NetBSD-<release>/<machine>/binary/sets`.
    pub sets_dir: PathBuf,
    /// In [`NETBSD_SETS`] order.
    pub sets: Vec<GeneratedSet>,
}

impl NetbsdMirror {
    /// `root/pub/NetBSD`: the directory a `--mirror` URL names (the tool
    /// appends `NetBSD-<release>/<machine>/binary/sets/`).
    pub fn mirror_dir(&self) -> PathBuf {
        self.root.join("pub/NetBSD")
    }

    pub fn set_names(&self) -> Vec<&str> {
        self.sets.iter().map(|s| s.name.as_str()).collect()
    }

    pub fn set(&self, name: &str) -> Option<&GeneratedSet> {
        self.sets.iter().find(|s| s.name == name)
    }
}

/// Generate the mirror under `root` (created if missing).
pub fn generate_netbsd(root: &Path, opts: &NetbsdMirrorOptions) -> Result<NetbsdMirror> {
    for (what, v) in [("release", &opts.release), ("machine", &opts.machine)] {
        if v.is_empty()
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            || v.starts_with('.')
        {
            bail!("synthetic mirror: {what} {v:?} must be letters, digits, '.', '_' or '-'");
        }
    }
    if opts.xz_preset > 9 {
        bail!("synthetic mirror: xz preset {} is not 0..9", opts.xz_preset);
    }
    if !(opts.scale.is_finite() && opts.scale > 0.0 && opts.scale <= MAX_SCALE) {
        bail!(
            "synthetic mirror: scale {} is not in (0, {MAX_SCALE}]",
            opts.scale
        );
    }
    let sets_dir = root
        .join("pub/NetBSD")
        .join(format!("NetBSD-{}", opts.release))
        .join(&opts.machine)
        .join("binary/sets");
    std::fs::create_dir_all(&sets_dir)
        .with_context(|| format!("creating {}", sets_dir.display()))?;
    let vocab = Vocabulary::new(opts.seed);

    // 1. what each set holds
    let mut prepared = build_sets(opts, &vocab)?;

    // 2. digests of every file's data (generated data in parallel)
    let mut jobs: Vec<(usize, usize, &Data)> = Vec::new();
    for (si, (_, _, items)) in prepared.iter().enumerate() {
        for (mi, (m, data)) in items.iter().enumerate() {
            if let (EntryKind::File, Some(d)) = (&m.kind, data) {
                jobs.push((si, mi, d));
            }
        }
    }
    let digests = parallel_map(&jobs, |(_, _, d)| sha256_of(&vocab, d))?;
    let mut by_path: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); prepared.len()];
    for ((si, mi, _), digest) in jobs.iter().zip(digests) {
        let m = &prepared[*si].2[*mi].0;
        by_path[*si].insert(m.path.clone(), digest);
    }
    let mut sets = Vec::new();
    for (si, (name, spec, items)) in prepared.iter_mut().enumerate() {
        for (m, _) in items.iter_mut() {
            let key = match &m.kind {
                EntryKind::File => Some(m.path.clone()),
                EntryKind::HardLink(first) => Some(first.clone()),
                _ => None,
            };
            if let Some(key) = key {
                m.sha256 = by_path[si].get(&key).cloned();
            }
        }
        // 3. the set's own mtree spec, now that every digest is known
        let members: Vec<SetMember> = items.iter().map(|(m, _)| m.clone()).collect();
        let text = mtree::render(&members, spec).into_bytes();
        let sha = hex::encode(Sha256::digest(&text));
        let item = items
            .iter_mut()
            .find(|(m, _)| m.path == *spec)
            .ok_or_else(|| anyhow!("{spec} missing from the {name} set"))?;
        item.0.size = text.len() as u64;
        item.0.sha256 = Some(sha);
        item.1 = Some(Data::Bytes(Arc::new(text)));
        sets.push(GeneratedSet {
            name: name.to_string(),
            file_name: format!("{name}.tar.xz"),
            path: sets_dir.join(format!("{name}.tar.xz")),
            sha512: String::new(),
            md5: String::new(),
            members: items.iter().map(|(m, _)| m.clone()).collect(),
        });
    }

    // 4. the archives, several sets at a time
    let work: Vec<(&GeneratedSet, &Items)> =
        sets.iter().zip(prepared.iter().map(|p| &p.2)).collect();
    let written = parallel_map(&work, |(set, items)| {
        archive::write_set(&set.path, items, &vocab, opts.xz_preset, MTIME)
    })?;
    let mut files = Vec::new();
    for (set, d) in sets.iter_mut().zip(written) {
        set.sha512 = d.sha512.clone();
        set.md5 = d.md5.clone();
        files.push((set.file_name.clone(), d));
    }
    checksums::write_checksum_files(&sets_dir, &files)?;
    Ok(NetbsdMirror {
        root: root.to_path_buf(),
        sets_dir,
        sets,
    })
}

/// What a mirror made with `opts` holds, set by set in [`NETBSD_SETS`]
/// order, without writing anything or computing digests (`sha256` is
/// `None`; the spec file's size is 0): cheap even for realistic mirrors.
pub fn plan_netbsd(opts: &NetbsdMirrorOptions) -> Result<Vec<(String, Vec<SetMember>)>> {
    let vocab = Vocabulary::new(opts.seed);
    Ok(build_sets(opts, &vocab)?
        .into_iter()
        .map(|(name, _, items)| {
            (
                name.to_string(),
                items.into_iter().map(|(m, _)| m).collect(),
            )
        })
        .collect())
}

/// Every set's members in archive order, with a placeholder for its spec.
fn build_sets(
    opts: &NetbsdMirrorOptions,
    vocab: &Vocabulary,
) -> Result<Vec<(&'static str, String, Items)>> {
    let mut prepared = Vec::new();
    for name in NETBSD_SETS {
        let ctx = Ctx {
            opts,
            vocab,
            set: name,
        };
        let mut t = SetTree::new();
        match name {
            "kern-GENERIC" => netbsd_sets::kern(&ctx, &mut t),
            "base" => netbsd_sets::base(&ctx, &mut t),
            "comp" => netbsd_sets::comp(&ctx, &mut t),
            "etc" => netbsd_sets::etc(&ctx, &mut t),
            "man" => netbsd_sets::man(&ctx, &mut t),
            "misc" => netbsd_sets::misc(&ctx, &mut t),
            "modules" => netbsd_sets::modules(&ctx, &mut t),
            _ => netbsd_sets::text(&ctx, &mut t),
        }
        .with_context(|| format!("building the synthetic {name} set"))?;
        let spec = format!("etc/mtree/set.{name}");
        t.file(
            &spec,
            0o444,
            accounts::root(),
            Data::Bytes(Arc::new(Vec::new())),
        )?;
        prepared.push((name, spec, resolve(&t)?));
    }
    Ok(prepared)
}

/// A set's members in archive order, files with their data.
type Items = Vec<(SetMember, Option<Data>)>;

/// Archive order with hard links resolved: the first name archived of a
/// file is the file, later names link to it.
fn resolve(t: &SetTree) -> Result<Items> {
    let mut first_name: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::new();
    for (path, node) in t.ordered() {
        let member = |kind: EntryKind, size: u64| SetMember {
            path: path.to_string(),
            kind,
            mode: node.mode,
            uname: node.owner.uname.to_string(),
            gname: node.owner.gname.to_string(),
            uid: node.owner.uid,
            gid: node.owner.gid,
            size,
            sha256: None,
        };
        let (group, data) = match &node.kind {
            NodeKind::Dir => {
                out.push((member(EntryKind::Dir, 0), None));
                continue;
            }
            NodeKind::Symlink(target) => {
                out.push((member(EntryKind::Symlink(target.clone()), 0), None));
                continue;
            }
            NodeKind::File(d) => (path.to_string(), d.clone()),
            NodeKind::HardLink(target) => match t.get(target).map(|n| &n.kind) {
                Some(NodeKind::File(d)) => (target.clone(), d.clone()),
                _ => bail!("hard link {path}: {target} is not a file"),
            },
        };
        match first_name.get(&group) {
            Some(first) => out.push((
                member(EntryKind::HardLink(first.clone()), data.size()),
                None,
            )),
            None => {
                first_name.insert(group, path.to_string());
                out.push((member(EntryKind::File, data.size()), Some(data)));
            }
        }
    }
    Ok(out)
}

fn sha256_of(vocab: &Vocabulary, d: &Data) -> Result<String> {
    Ok(match d {
        Data::Bytes(b) => hex::encode(Sha256::digest(b.as_slice())),
        Data::Generated { kind, size, seed } => {
            let mut buf = Vec::new();
            let size = usize::try_from(*size).context("file too large for this host")?;
            generate(vocab, *kind, size, *seed, &mut buf);
            hex::encode(Sha256::digest(&buf))
        }
    })
}

/// `f` over `items` on all cores; results in input order whatever the
/// scheduling.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, Result<R>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    if results.len() != items.len() {
        bail!("a worker thread of the mirror generator panicked");
    }
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
