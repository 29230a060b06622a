//! Dependency resolution against a repository's `pkg_summary`: the closure
//! of a package list through `DEPENDS` patterns (alternatives `{a,b}`,
//! dewey ranges, globs, exact names — matched by the `pkgsrc` crate), the
//! best version for each, `CONFLICTS` checked, and a deterministic install
//! order with dependencies first.

use pkgsrc::{Pattern, Summary};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

/// One package to install, in install order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedPackage {
    pub pkgname: String,
    /// File name in the repository's `All/` directory (`FILE_NAME`, else
    /// `<pkgname>.tgz`).
    pub file_name: String,
    /// `FILE_SIZE` from the summary, when given.
    pub file_size: Option<u64>,
    /// `FILE_CKSUM` from the summary (`<algorithm> <hex>`), when given.
    pub file_cksum: Option<String>,
    /// Package names (resolved) this one depends on, sorted.
    pub depends: Vec<String>,
    /// Installed only as a dependency (pkg_add `-A`; `automatic=yes`).
    pub automatic: bool,
}

/// A `CONFLICTS` pattern of one selected package matched by another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub package: String,
    pub pattern: String,
    pub with: String,
}

/// Why a package list cannot be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("package {name:?} is not in the repository{}", near_text(.near))]
    Unknown { name: String, near: Vec<String> },
    #[error("no package in the repository matches {pattern:?}, required by {required_by}")]
    Unsatisfied {
        pattern: String,
        required_by: String,
    },
    #[error(
        "{pattern:?} (required by {required_by}) needs a different version of {pkgbase} \
         than {chosen}, which was chosen for {chosen_for}; the repository has no version that satisfies both"
    )]
    VersionClash {
        pattern: String,
        required_by: String,
        pkgbase: String,
        chosen: String,
        chosen_for: String,
    },
    #[error("conflicting packages selected: {}", conflicts_text(.0))]
    Conflicts(Vec<Conflict>),
    #[error("dependency cycle among {}", .0.join(", "))]
    Cycle(Vec<String>),
    #[error("invalid pattern {pattern:?} ({context}): {message}")]
    BadPattern {
        pattern: String,
        context: String,
        message: String,
    },
}

fn near_text(near: &[String]) -> String {
    if near.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", near.join(", "))
    }
}

fn conflicts_text(c: &[Conflict]) -> String {
    c.iter()
        .map(|c| {
            format!(
                "{} conflicts with {} (CONFLICTS={})",
                c.package, c.with, c.pattern
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl fmt::Display for PlannedPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pkgname)
    }
}

fn compile(pattern: &str, context: &str) -> Result<Pattern, ResolveError> {
    Pattern::new(pattern).map_err(|e| ResolveError::BadPattern {
        pattern: pattern.to_string(),
        context: context.to_string(),
        message: e.to_string(),
    })
}

/// The pattern a package-list line stands for: a pattern as is, an exact
/// package name as is, otherwise a package base name (`curl` → `curl-[0-9]*`).
fn list_pattern(name: &str, records: &[Summary]) -> String {
    if name.contains(['*', '?', '[', '{', '<', '>', '='])
        || records.iter().any(|r| r.pkgname().pkgname() == name)
    {
        name.to_string()
    } else {
        format!("{name}-[0-9]*")
    }
}

/// Names close to `name`: same prefix either way, or within a small edit
/// distance; at most five, closest first.
fn near_matches(name: &str, records: &[Summary]) -> Vec<String> {
    let bases: BTreeSet<&str> = records.iter().map(|r| r.pkgname().pkgbase()).collect();
    let limit = (name.len() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = bases
        .into_iter()
        .filter_map(|b| {
            let d = edit_distance(name, b);
            let prefix = name.len() >= 2 && (b.starts_with(name) || name.starts_with(b));
            (d <= limit || prefix).then_some((d, b))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(5)
        .map(|(_, b)| b.to_string())
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

struct Selection {
    /// pkgbase → record index.
    chosen: BTreeMap<String, usize>,
    /// pkgbase → the patterns the chosen record must keep satisfying.
    constraints: BTreeMap<String, Vec<(Pattern, String)>>,
}

/// Resolve `wanted` (package-list lines) against `records`.
pub fn resolve(
    records: &[Summary],
    wanted: &[String],
) -> Result<Vec<PlannedPackage>, ResolveError> {
    let mut roots = Vec::new();
    for name in wanted {
        let pat = list_pattern(name, records);
        let p = compile(&pat, "package list")?;
        if !records.iter().any(|r| p.matches(r.pkgname().pkgname())) {
            return Err(ResolveError::Unknown {
                name: name.clone(),
                near: near_matches(name, records),
            });
        }
        roots.push(pat);
    }

    // Pass 1: choose one record per package base.
    let mut sel = Selection {
        chosen: BTreeMap::new(),
        constraints: BTreeMap::new(),
    };
    let mut queue: VecDeque<(String, String)> = roots
        .iter()
        .map(|p| (p.clone(), "the package list".to_string()))
        .collect();
    while let Some((pat, by)) = queue.pop_front() {
        let p = compile(&pat, &by)?;
        if let Some(base) = satisfied_by(&sel, records, &p) {
            sel.constraints.entry(base).or_default().push((p, by));
            continue;
        }
        let mut best = p.best_matcher();
        for r in records {
            let name = r.pkgname().pkgname();
            let base = r.pkgname().pkgbase();
            let ok = sel
                .constraints
                .get(base)
                .is_none_or(|cs| cs.iter().all(|(c, _)| c.matches(name)));
            if ok {
                let _ = best.consider(name);
            }
        }
        let Some(found) = best.best().map(str::to_string) else {
            return Err(unsatisfied(&sel, records, &p, &pat, &by));
        };
        drop(best);
        let Some(idx) = records.iter().position(|r| r.pkgname().pkgname() == found) else {
            return Err(unsatisfied(&sel, records, &p, &pat, &by));
        };
        let base = records[idx].pkgname().pkgbase().to_string();
        sel.chosen.insert(base.clone(), idx);
        sel.constraints.entry(base).or_default().push((p, by));
        for d in records[idx].depends().unwrap_or(&[]) {
            queue.push_back((d.clone(), found.clone()));
        }
    }

    // Pass 2: the closure from the roots over the final choices only.
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut requested: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<(String, Option<String>)> =
        roots.iter().map(|p| (p.clone(), None)).collect();
    while let Some((pat, parent)) = queue.pop_front() {
        let p = compile(&pat, "dependency")?;
        let Some(base) = satisfied_by(&sel, records, &p) else {
            return Err(ResolveError::Unsatisfied {
                pattern: pat,
                required_by: parent.unwrap_or_else(|| "the package list".into()),
            });
        };
        let rec = &records[sel.chosen[&base]];
        let name = rec.pkgname().pkgname().to_string();
        match &parent {
            None => {
                requested.insert(name.clone());
            }
            Some(parent) => {
                deps.entry(parent.clone()).or_default().insert(name.clone());
            }
        }
        if !deps.contains_key(&name) {
            deps.insert(name.clone(), BTreeSet::new());
            for d in rec.depends().unwrap_or(&[]) {
                queue.push_back((d.clone(), Some(name.clone())));
            }
        }
    }

    let by_name: BTreeMap<&str, &Summary> =
        records.iter().map(|r| (r.pkgname().pkgname(), r)).collect();
    check_conflicts(&deps, &by_name)?;
    let order = topo_order(&deps)?;
    Ok(order
        .into_iter()
        .filter_map(|name| {
            let rec = by_name.get(name.as_str())?;
            Some(PlannedPackage {
                file_name: rec
                    .file_name()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{name}.tgz")),
                file_size: rec.file_size(),
                file_cksum: rec.file_cksum().map(str::to_string),
                depends: deps
                    .get(&name)
                    .map(|d| d.iter().cloned().collect())
                    .unwrap_or_default(),
                automatic: !requested.contains(&name),
                pkgname: name,
            })
        })
        .collect())
}

fn satisfied_by(sel: &Selection, records: &[Summary], p: &Pattern) -> Option<String> {
    sel.chosen
        .iter()
        .find(|(_, idx)| p.matches(records[**idx].pkgname().pkgname()))
        .map(|(base, _)| base.clone())
}

fn unsatisfied(
    sel: &Selection,
    records: &[Summary],
    p: &Pattern,
    pat: &str,
    by: &str,
) -> ResolveError {
    let any = records.iter().find(|r| p.matches(r.pkgname().pkgname()));
    match any {
        Some(r) => {
            let base = r.pkgname().pkgbase().to_string();
            let chosen = sel
                .chosen
                .get(&base)
                .map(|i| records[*i].pkgname().pkgname().to_string())
                .unwrap_or_default();
            let chosen_for = sel
                .constraints
                .get(&base)
                .map(|cs| {
                    cs.iter()
                        .map(|(c, by)| format!("{} ({by})", c.pattern()))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            ResolveError::VersionClash {
                pattern: pat.to_string(),
                required_by: by.to_string(),
                pkgbase: base,
                chosen,
                chosen_for,
            }
        }
        None => ResolveError::Unsatisfied {
            pattern: pat.to_string(),
            required_by: by.to_string(),
        },
    }
}

fn check_conflicts(
    deps: &BTreeMap<String, BTreeSet<String>>,
    by_name: &BTreeMap<&str, &Summary>,
) -> Result<(), ResolveError> {
    let mut found = Vec::new();
    for name in deps.keys() {
        let Some(rec) = by_name.get(name.as_str()) else {
            continue;
        };
        for c in rec.conflicts().unwrap_or(&[]) {
            let p = compile(c, name)?;
            for other in deps.keys().filter(|o| *o != name && p.matches(o)) {
                found.push(Conflict {
                    package: name.clone(),
                    pattern: c.clone(),
                    with: other.clone(),
                });
            }
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(ResolveError::Conflicts(found))
    }
}

/// Kahn's algorithm, always taking the smallest ready name: dependencies
/// first, deterministic.
fn topo_order(deps: &BTreeMap<String, BTreeSet<String>>) -> Result<Vec<String>, ResolveError> {
    let mut remaining: BTreeMap<&str, BTreeSet<&str>> = deps
        .iter()
        .map(|(k, v)| (k.as_str(), v.iter().map(String::as_str).collect()))
        .collect();
    let mut order = Vec::new();
    while !remaining.is_empty() {
        let ready: Vec<&str> = remaining
            .iter()
            .filter(|(_, d)| d.is_empty())
            .map(|(k, _)| *k)
            .collect();
        let Some(next) = ready.first().copied() else {
            return Err(ResolveError::Cycle(
                remaining.keys().map(|k| k.to_string()).collect(),
            ));
        };
        remaining.remove(next);
        for d in remaining.values_mut() {
            d.remove(next);
        }
        order.push(next.to_string());
    }
    Ok(order)
}
