//! The package database as `pkg_add` leaves it: `+INSTALLED_INFO`,
//! `+REQUIRED_BY`, and `pkgdb.byfile.db`, a Berkeley DB 1.85 btree
//! (`lib/pkgdb.c`: key `"<abs path>\0"`, value `"<pkgname>\0"`; a
//! `@pkgdir` directory's value is `"@pkgdir <pkg> [<pkg>...]\0"`), written
//! with the `db185` crate.

use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Contents of `+INSTALLED_INFO` for a package installed as a dependency
/// (`lib/automatic.c`: `automatic=yes`).
pub const AUTOMATIC_INSTALLED_INFO: &str = "automatic=yes\n";

/// Contents of `+REQUIRED_BY`: one dependent package name a line.
pub fn required_by(dependents: &[String]) -> String {
    dependents.iter().map(|d| format!("{d}\n")).collect()
}

/// The records of `pkgdb.byfile.db`, collected while installing.
#[derive(Debug, Default, Clone)]
pub struct ByFile {
    /// Absolute path → value (without the trailing NUL).
    records: BTreeMap<String, String>,
}

impl ByFile {
    /// Record a file of `pkgname` (`pkgdb_store`, `R_NOOVERWRITE`: the
    /// first package to claim a path keeps it). Returns false when another
    /// package already owns the path.
    pub fn add_file(&mut self, abs_path: &str, pkgname: &str) -> bool {
        if self.records.contains_key(abs_path) {
            return false;
        }
        self.records
            .insert(abs_path.to_string(), pkgname.to_string());
        true
    }

    /// Record an `@pkgdir` directory (`add_pkgdir`): shared directories
    /// list every package.
    pub fn add_pkgdir(&mut self, abs_path: &str, pkgname: &str) {
        let v = self
            .records
            .entry(abs_path.to_string())
            .or_insert_with(|| "@pkgdir".to_string());
        if v.starts_with("@pkgdir") && !v.split(' ').skip(1).any(|p| p == pkgname) {
            v.push(' ');
            v.push_str(pkgname);
        }
    }

    /// Every record, sorted by path (values without the NUL).
    pub fn records(&self) -> &BTreeMap<String, String> {
        &self.records
    }

    /// Encode as a db 1.85 btree. `db185::Writer` writes to a path, so the
    /// file is built in `scratch` (a directory beside the output) and read
    /// back.
    pub fn encode(&self, scratch: &Path) -> Result<Vec<u8>> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp = scratch.join(format!(
            ".mkimage-pkgdb.byfile.{}.{}.db",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let result = (|| -> Result<Vec<u8>> {
            let mut w = ::db185::Writer::create_new(&tmp)
                .with_context(|| format!("creating {}", tmp.display()))?;
            for (k, v) in &self.records {
                let mut key = k.as_bytes().to_vec();
                key.push(0);
                let mut val = v.as_bytes().to_vec();
                val.push(0);
                w.put(&key, &val)
                    .with_context(|| format!("adding {k} to pkgdb.byfile.db"))?;
            }
            w.finish().context("finishing pkgdb.byfile.db")?;
            std::fs::read(&tmp).with_context(|| format!("reading back {}", tmp.display()))
        })();
        let _ = std::fs::remove_file(&tmp);
        result
    }
}
