//! A package manifest (`+COMPACT_MANIFEST`, `+MANIFEST`, or one line of a
//! repository's `packagesite.yaml`): JSON objects with the keys of
//! `manifest_keys` in libpkg's `pkg_manifest.c`. Unknown keys are kept out
//! of the way; only what installing and registering needs is typed.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// One dependency: `deps: { name: { origin, version } }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Dep {
    pub origin: String,
    pub version: String,
}

/// The fields of a manifest that installation and registration use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Manifest {
    pub name: String,
    pub origin: String,
    pub version: String,
    pub comment: String,
    pub desc: String,
    pub maintainer: String,
    pub www: String,
    /// `FreeBSD:14:amd64`.
    pub abi: String,
    /// `freebsd:14:x86:64` (legacy spelling).
    pub arch: String,
    /// `/usr/local`.
    pub prefix: String,
    pub flatsize: u64,
    pub licenselogic: String,
    pub licenses: Vec<String>,
    pub categories: Vec<String>,
    pub deps: BTreeMap<String, Dep>,
    pub shlibs_required: Vec<String>,
    pub shlibs_provided: Vec<String>,
    pub annotations: BTreeMap<String, String>,
    /// Absolute path → checksum (`1$<sha256 hex>`, or a bare digest in
    /// older packages). Only in `+MANIFEST`.
    pub files: BTreeMap<String, String>,
    /// Absolute path → `"y"`/`"n"` (or a boolean, or an object).
    pub directories: BTreeMap<String, serde_json::Value>,
    /// Script type (`post-install`, …) → shell text.
    pub scripts: BTreeMap<String, String>,
    /// Configuration files (installed from their `.sample` when absent).
    pub config: Vec<String>,
    /// Catalogue only: the package file below the repository root.
    pub repopath: String,
    /// Catalogue only: SHA-256 of the package file.
    pub sum: String,
    /// Catalogue only: size of the package file.
    pub pkgsize: u64,
}

impl Manifest {
    /// Parse a manifest and check the fields every package has. File and
    /// directory names are URL-decoded (`%xx`), as pkg writes them.
    pub fn parse(text: &[u8], what: &str) -> Result<Manifest> {
        let mut m: Manifest =
            serde_json::from_slice(text).with_context(|| format!("{what}: not a JSON manifest"))?;
        for (key, v) in [
            ("name", &m.name),
            ("version", &m.version),
            ("origin", &m.origin),
        ] {
            if v.is_empty() {
                bail!("{what}: manifest has no {key}");
            }
        }
        let word = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.+,@".contains(&b))
        };
        if !word(&m.name) || !word(&m.version) {
            bail!(
                "{what}: package name {:?} or version {:?} has unexpected characters",
                m.name,
                m.version
            );
        }
        m.files = std::mem::take(&mut m.files)
            .into_iter()
            .map(|(k, v)| (url_decode(&k), v))
            .collect();
        m.directories = std::mem::take(&mut m.directories)
            .into_iter()
            .map(|(k, v)| (url_decode(&k), v))
            .collect();
        Ok(m)
    }

    /// `name-version`, as pkg prints it and names package files.
    pub fn pkgname(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }

    /// The SHA-256 (lower-case hex) the manifest records for `path`
    /// (absolute), with the `1$` checksum-type prefix removed.
    pub fn file_sha256(&self, path: &str) -> Option<String> {
        let v = self.files.get(path)?;
        let hex = v.rsplit_once('$').map_or(v.as_str(), |(_, h)| h);
        (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| hex.to_ascii_lowercase())
    }

    /// Configuration samples the package installs with ports' `@sample`
    /// keyword: a file ending in `.sample` whose path the `post-install`
    /// script names (that script copies it to the name without `.sample`
    /// when no such file exists). Pairs of absolute (sample, target).
    pub fn sample_configs(&self) -> Vec<(String, String)> {
        let script = self.scripts.get("post-install").map_or("", String::as_str);
        self.files
            .keys()
            .filter_map(|f| {
                let target = f.strip_suffix(".sample")?;
                (!target.is_empty() && script.contains(f.as_str()))
                    .then(|| (f.clone(), target.to_string()))
            })
            .collect()
    }

    /// Whether the package is built for `abi` (`FreeBSD:14:amd64`); a
    /// package for `FreeBSD:14:*` fits every 14 architecture.
    pub fn fits_abi(&self, abi: &str) -> bool {
        if self.abi.eq_ignore_ascii_case(abi) {
            return true;
        }
        match (self.abi.rsplit_once(':'), abi.rsplit_once(':')) {
            (Some((os, "*")), Some((want_os, _))) => os.eq_ignore_ascii_case(want_os),
            _ => false,
        }
    }
}

/// pkg's `urldecode`: `%xx` becomes the byte `xx`; a `%` not followed by
/// two hex digits stays as it is.
fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_lose_their_type_prefix_and_bad_ones_are_none() {
        let m = Manifest::parse(
            br#"{"name":"bash","version":"5.2.37","origin":"shells/bash","abi":"FreeBSD:14:*",
               "files":{"/usr/local/bin/bash":"1$ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
                        "/usr/local/bin/x":"1$zz"}}"#,
            "t",
        )
        .unwrap();
        assert_eq!(
            m.file_sha256("/usr/local/bin/bash").unwrap(),
            "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
        );
        assert_eq!(m.file_sha256("/usr/local/bin/x"), None);
        assert!(m.fits_abi("FreeBSD:14:amd64"));
        assert!(!m.fits_abi("FreeBSD:13:amd64"));
        assert!(Manifest::parse(br#"{"name":"a b","version":"1","origin":"x/y"}"#, "t").is_err());
        assert_eq!(url_decode("/a%20b%25c%zz%4"), "/a b%c%zz%4");
    }
}
