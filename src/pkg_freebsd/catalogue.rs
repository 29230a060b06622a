//! A repository's catalogue: `packagesite.yaml` (one JSON manifest per
//! line, with `repopath`, `sum` and `pkgsize`), shipped inside
//! `packagesite.pkg` (a tar archive, zstd or xz). Resolving a package list
//! against it gives the install order: dependencies before dependants.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use anyhow::{Context, Result, anyhow, bail};

use super::manifest::Manifest;
use crate::source::archive::open_decompressed;

/// Largest catalogue read into memory.
const MAX_CATALOGUE: u64 = 512 << 20;

/// The packages a repository offers, by name.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub packages: BTreeMap<String, Manifest>,
}

impl Catalogue {
    /// Parse `packagesite.yaml` text.
    pub fn parse(text: &str, source: &str) -> Result<Catalogue> {
        let mut packages = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let m = Manifest::parse(line.as_bytes(), &format!("{source}, line {}", i + 1))?;
            if m.repopath.is_empty() || m.repopath.starts_with('/') || m.repopath.contains("..") {
                bail!(
                    "{source}, line {}: package {} has no usable repopath ({:?})",
                    i + 1,
                    m.pkgname(),
                    m.repopath
                );
            }
            packages.insert(m.name.clone(), m);
        }
        Ok(Catalogue { packages })
    }

    /// Read `packagesite.pkg` (named `label` in errors).
    pub fn from_packagesite<R: Read + Send + 'static>(reader: R, label: &str) -> Result<Catalogue> {
        let stream = open_decompressed(reader).with_context(|| format!("{label}: opening"))?;
        let mut archive = tar::Archive::new(stream);
        for item in archive
            .entries()
            .with_context(|| format!("{label}: reading"))?
        {
            let member = item.with_context(|| format!("{label}: reading a member"))?;
            if member.path_bytes().as_ref() == b"packagesite.yaml" {
                let mut text = String::new();
                member
                    .take(MAX_CATALOGUE)
                    .read_to_string(&mut text)
                    .with_context(|| format!("{label}: reading packagesite.yaml"))?;
                return Catalogue::parse(&text, &format!("{label}: packagesite.yaml"));
            }
        }
        bail!("{label}: no packagesite.yaml inside")
    }
}

impl Catalogue {
    /// The package called `name`, or else the one package whose port
    /// (`devel/mercurial` → `mercurial`, flavour ignored) is `name`, so
    /// that a list may say `mercurial` for `py311-mercurial`.
    pub fn lookup(&self, name: &str) -> Result<&Manifest> {
        if let Some(m) = self.packages.get(name) {
            return Ok(m);
        }
        let by_port: Vec<&Manifest> = self
            .packages
            .values()
            .filter(|m| {
                let port = m.origin.split('@').next().unwrap_or("");
                port.rsplit('/').next() == Some(name)
            })
            .collect();
        match by_port.as_slice() {
            [one] => Ok(one),
            [] => bail!("package {name} is not in the repository"),
            many => bail!(
                "{name} names several packages ({}): list one of them",
                many.iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// One package to install, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub manifest: Manifest,
    /// Installed only as a dependency (pkg's `automatic` flag).
    pub automatic: bool,
}

/// The packages `wanted` (names) and everything they depend on, each once,
/// every dependency before the packages that need it; ties in name order.
pub fn resolve(cat: &Catalogue, wanted: &[String]) -> Result<Vec<Planned>> {
    let mut explicit: BTreeSet<&str> = BTreeSet::new();
    for w in wanted {
        explicit.insert(cat.lookup(w)?.name.as_str());
    }
    let mut order: Vec<Planned> = Vec::new();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let sorted: Vec<&str> = explicit.iter().copied().collect();
    for name in sorted {
        let mut path = Vec::new();
        visit(cat, name, &explicit, &mut done, &mut path, &mut order)?;
    }
    Ok(order)
}

fn visit(
    cat: &Catalogue,
    name: &str,
    explicit: &BTreeSet<&str>,
    done: &mut BTreeSet<String>,
    path: &mut Vec<String>,
    order: &mut Vec<Planned>,
) -> Result<()> {
    if done.contains(name) {
        return Ok(());
    }
    if path.iter().any(|p| p == name) {
        bail!("dependency cycle: {} -> {name}", path.join(" -> "));
    }
    let m = cat.packages.get(name).ok_or_else(|| {
        if path.is_empty() {
            anyhow!("package {name} is not in the repository")
        } else {
            anyhow!(
                "package {name} (needed by {}) is not in the repository",
                path.join(" <- ")
            )
        }
    })?;
    path.push(name.to_string());
    for dep in m.deps.keys() {
        visit(cat, dep, explicit, done, path, order)?;
    }
    path.pop();
    done.insert(name.to_string());
    order.push(Planned {
        manifest: m.clone(),
        automatic: !explicit.contains(name),
    });
    Ok(())
}
