//! Packages for one build: fetch the repository's index, resolve the
//! package list to an install plan, download the packages through the
//! fetch layer (cache, retries), and install them into the image with the
//! pkgsrc installer.

use std::io::Read;
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use crate::build::users::ImageAccounts;
use crate::entry::{EntrySink, Timestamp};
use crate::fetch::Fetcher;
use crate::pkgsrc::install::{FinishReport, Installer, install_packages};
use crate::pkgsrc::resolve::{PlannedPackage, resolve};
use crate::pkgsrc::summary::{decode_summary, parse_summary};
use crate::pkgsrc::{self, Target};
use crate::progress;

/// Index files in the order pkgin tries them.
const SUMMARY_NAMES: [&str; 4] = [
    "pkg_summary.zst",
    "pkg_summary.xz",
    "pkg_summary.bz2",
    "pkg_summary.gz",
];

/// A resolved, downloaded set of packages ready to install.
pub struct PackageSet {
    pub repo: String,
    pub plan: Vec<PlannedPackage>,
    /// Each package file, shared by the installer's passes over it.
    files: Vec<Arc<[u8]>>,
}

impl PackageSet {
    /// Package names and versions, in install order (for the manifest).
    pub fn names(&self) -> Vec<String> {
        self.plan.iter().map(|p| p.pkgname.clone()).collect()
    }
}

fn join(repo: &str, name: &str) -> String {
    format!("{}/{name}", repo.trim_end_matches('/'))
}

/// Resolve `wanted` against the repository's index and download every
/// package of the plan. Nothing is installed yet.
pub fn fetch_packages(fetcher: &Fetcher, repo: &str, wanted: &[String]) -> Result<PackageSet> {
    // The index changes as packages are rebuilt: fetch it fresh when online.
    let mut last_err = None;
    let mut summary = None;
    for name in SUMMARY_NAMES {
        match fetcher.refresh_unverified_small(&[join(repo, name)]) {
            Ok((url, bytes)) => {
                summary = Some((url, name, bytes));
                break;
            }
            Err(e) => last_err = Some(e),
        }
    }
    let Some((url, name, bytes)) = summary else {
        let e = last_err.map(|e| format!("{e:#}")).unwrap_or_default();
        bail!(
            "no package index (pkg_summary.{{zst,xz,bz2,gz}}) at {repo}: {e}\n\
             check --pkg-repo (it names the All/ directory, as pkgin's repositories.conf does)"
        );
    };
    let text = decode_summary(name, &bytes).with_context(|| format!("decompressing {url}"))?;
    let records = parse_summary(name, &text).with_context(|| format!("reading {url}"))?;
    let plan = resolve(&records, wanted)
        .with_context(|| format!("resolving the package list against {url}"))?;
    let task = progress::Task::new("fetching packages", Some(plan.len() as u64), false);
    let mut files = Vec::with_capacity(plan.len());
    for p in &plan {
        let (_, bytes) = fetcher
            .fetch_unverified_small(&[join(repo, &p.file_name)])
            .with_context(|| format!("fetching package {}", p.pkgname))?;
        files.push(Arc::from(bytes));
        task.inc(1);
    }
    task.finish(format!("{} packages", plan.len()));
    Ok(PackageSet {
        repo: repo.to_string(),
        plan,
        files,
    })
}

/// Install a fetched package set into `sink`, applying the packages'
/// account requests to `accounts`; `existing` lists every path already in
/// the image. Returns what the caller must still do (shells to register,
/// deferred script parts).
pub fn install(
    set: &PackageSet,
    target: Target,
    existing: &[String],
    accounts: &mut ImageAccounts,
    sink: &mut dyn EntrySink,
    time: Timestamp,
) -> Result<FinishReport> {
    let scratch = std::env::temp_dir().join(format!("mkimage-pkgdb-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .with_context(|| format!("creating scratch directory {}", scratch.display()))?;
    let mut installer = Installer::new(target, &scratch, time);
    // Everything the sets shipped: `# FILE:` copies never overwrite it and
    // parent directories are not re-created over it.
    for path in existing {
        installer.mark_existing(path);
    }
    let open = |p: &PlannedPackage| -> Result<Box<dyn Read>> {
        let i = set
            .plan
            .iter()
            .position(|q| q.pkgname == p.pkgname)
            .with_context(|| format!("{} is not in the plan", p.pkgname))?;
        Ok(Box::new(std::io::Cursor::new(Arc::clone(&set.files[i]))))
    };
    let report = install_packages(installer, &set.plan, open, accounts, sink);
    let _ = std::fs::remove_dir_all(&scratch);
    let report = report?;
    pkgsrc::conf::write_conf(sink, Some(&set.repo), true, time)?;
    Ok(report)
}
