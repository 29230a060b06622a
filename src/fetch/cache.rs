//! The download cache on disk. Layout under the cache directory:
//!
//! * `objects/<alg>-<hex>` — verified bytes, content-addressed by digest,
//!   with `objects/<alg>-<hex>.meta` (`size=`, `url=`) written first;
//! * `index/<sha256 of URL>` — `url=`, `digest=`, `size=`: what a URL held;
//! * `partial/<sha256 of URL>` — an unfinished download, kept across runs
//!   so that the next run resumes it with `Range`;
//! * `decoded/<alg>-<hex>-v<version>.tar.zst` — decoded sets (see
//!   [`super::decoded`]);
//! * `locks/<sha256 of URL>.lock` — held (`File::lock`) while a URL is
//!   downloaded, so concurrent runs never write the same partial file;
//! * `tmp/` — files being written, renamed into place when complete.
//!
//! Everything visible under `objects/`, `index/` and `decoded/` appears by
//! atomic rename, so a reader never sees a half-written file.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::Context;

use super::checksum::{Algorithm, Digest, hash_reader};

/// The cache directory and its operations.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// What the index says a URL held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub url: String,
    pub digest: Digest,
    pub size: u64,
}

/// One line of `mkimage cache list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheItem {
    /// `object`, `decoded` or `partial`.
    pub kind: &'static str,
    pub path: PathBuf,
    pub size: u64,
    /// Where it came from, when known.
    pub url: Option<String>,
    pub last_used: SystemTime,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `$XDG_CACHE_HOME/mkimage`, else `$HOME/.cache/mkimage`.
pub fn default_dir() -> anyhow::Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(x);
        if p.is_absolute() {
            return Ok(p.join("mkimage"));
        }
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".cache").join("mkimage")),
        None => anyhow::bail!(
            "cannot choose a cache directory: neither XDG_CACHE_HOME nor HOME is set; pass --cache-dir"
        ),
    }
}

/// Hex SHA-256 of a URL: the file name used for it under `index/`,
/// `partial/` and `locks/`.
pub fn url_key(url: &str) -> String {
    Digest::of_bytes(Algorithm::Sha256, url.as_bytes())
        .hex()
        .to_string()
}

fn read_kv(path: &Path) -> Option<Vec<(String, String)>> {
    let text = fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn kv<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Mark a file as used now (for `cache prune`); failures do not matter.
fn touch(path: &Path) {
    if let Ok(f) = File::options().write(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

impl Cache {
    /// Open (creating if needed) the cache at `root`.
    pub fn open(root: &Path) -> anyhow::Result<Cache> {
        for sub in ["objects", "index", "partial", "decoded", "locks", "tmp"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).with_context(|| {
                format!(
                    "creating the cache directory {} (pass --cache-dir to use another place)",
                    dir.display()
                )
            })?;
        }
        Ok(Cache {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn object_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("objects").join(digest.id())
    }

    fn meta_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("objects")
            .join(format!("{}.meta", digest.id()))
    }

    pub fn partial_path(&self, url: &str) -> PathBuf {
        self.root.join("partial").join(url_key(url))
    }

    fn index_path(&self, url: &str) -> PathBuf {
        self.root.join("index").join(url_key(url))
    }

    /// Where the decoded (zstd) copy of the set with this digest lives.
    pub fn decoded_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("decoded").join(format!(
            "{}-v{}.tar.zst",
            digest.id(),
            env!("CARGO_PKG_VERSION")
        ))
    }

    /// A fresh name under `tmp/` (unique within and across processes).
    pub fn temp_path(&self, what: &str) -> PathBuf {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        self.root
            .join("tmp")
            .join(format!("{what}.{}.{n}", std::process::id()))
    }

    /// Take the per-URL lock; it is released when the returned file drops.
    pub fn lock_url(&self, url: &str) -> anyhow::Result<File> {
        let path = self
            .root
            .join("locks")
            .join(format!("{}.lock", url_key(url)));
        let f = File::options()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("opening the lock file {}", path.display()))?;
        f.lock()
            .with_context(|| format!("locking {} (for {url})", path.display()))?;
        Ok(f)
    }

    /// The cached object with this digest, if present and intact: its size
    /// matches the recorded one and, with `rehash`, its bytes hash to the
    /// digest. A damaged object is removed so that it is fetched again.
    pub fn lookup(&self, digest: &Digest, rehash: bool) -> anyhow::Result<Option<(PathBuf, u64)>> {
        let obj = self.object_path(digest);
        let meta = self.meta_path(digest);
        let Some(pairs) = read_kv(&meta) else {
            return Ok(None);
        };
        let Some(size) = kv(&pairs, "size").and_then(|s| s.parse::<u64>().ok()) else {
            return Ok(None);
        };
        let actual = match fs::metadata(&obj) {
            Ok(m) => m.len(),
            Err(_) => return Ok(None),
        };
        if actual != size {
            crate::progress::warn(format!(
                "cached {} has {actual} bytes instead of {size}; fetching it again",
                obj.display()
            ));
            let _ = fs::remove_file(&obj);
            return Ok(None);
        }
        if rehash {
            let mut f = File::open(&obj).with_context(|| format!("reading {}", obj.display()))?;
            let (got, _) = hash_reader(digest.algorithm, &mut f)
                .with_context(|| format!("reading {}", obj.display()))?;
            if got != *digest {
                crate::progress::warn(format!(
                    "cached {} does not match its digest (expected {}, actual {}); fetching it again",
                    obj.display(),
                    digest.hex(),
                    got.hex()
                ));
                let _ = fs::remove_file(&obj);
                return Ok(None);
            }
        }
        touch(&meta);
        Ok(Some((obj, size)))
    }

    /// What the index recorded for `url`.
    pub fn index_get(&self, url: &str) -> Option<IndexEntry> {
        let pairs = read_kv(&self.index_path(url))?;
        if kv(&pairs, "url")? != url {
            return None;
        }
        Some(IndexEntry {
            url: url.to_string(),
            digest: Digest::from_id(kv(&pairs, "digest")?)?,
            size: kv(&pairs, "size")?.parse().ok()?,
        })
    }

    fn write_atomic(&self, dest: &Path, bytes: &[u8]) -> anyhow::Result<()> {
        let tmp = self.temp_path("meta");
        let res = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            fs::rename(&tmp, dest)
        })();
        if res.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        res.with_context(|| format!("writing {}", dest.display()))
    }

    /// Move a verified file (already hashed to `digest`) into the cache and
    /// record `url` → `digest` in the index. Returns the object's path.
    pub fn commit(
        &self,
        verified: &Path,
        digest: &Digest,
        size: u64,
        url: &str,
    ) -> anyhow::Result<PathBuf> {
        let obj = self.object_path(digest);
        self.write_atomic(
            &self.meta_path(digest),
            format!("size={size}\nurl={url}\n").as_bytes(),
        )?;
        if let Ok(f) = File::open(verified) {
            let _ = f.sync_all();
        }
        fs::rename(verified, &obj)
            .with_context(|| format!("moving {} to {}", verified.display(), obj.display()))?;
        self.index_put(url, digest, size)?;
        Ok(obj)
    }

    /// Record that `url` held the bytes with `digest`.
    pub fn index_put(&self, url: &str, digest: &Digest, size: u64) -> anyhow::Result<()> {
        self.write_atomic(
            &self.index_path(url),
            format!("url={url}\ndigest={}\nsize={size}\n", digest.id()).as_bytes(),
        )
    }

    /// Everything in the cache, sorted by kind and path.
    pub fn list(&self) -> anyhow::Result<Vec<CacheItem>> {
        let mut items = Vec::new();
        for (kind, sub) in [
            ("object", "objects"),
            ("decoded", "decoded"),
            ("partial", "partial"),
        ] {
            let dir = self.root.join(sub);
            let rd = match fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
            };
            for ent in rd {
                let ent = ent.with_context(|| format!("listing {}", dir.display()))?;
                let path = ent.path();
                let name = ent.file_name().to_string_lossy().into_owned();
                if kind == "object" && name.ends_with(".meta") {
                    continue;
                }
                let md = ent
                    .metadata()
                    .with_context(|| format!("reading {}", path.display()))?;
                let mut last_used = md.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                let mut url = None;
                if kind == "object" {
                    let meta = dir.join(format!("{name}.meta"));
                    if let Some(pairs) = read_kv(&meta) {
                        url = kv(&pairs, "url").map(str::to_string);
                    }
                    if let Ok(m) = fs::metadata(&meta).and_then(|m| m.modified()) {
                        last_used = m;
                    }
                }
                items.push(CacheItem {
                    kind,
                    path,
                    size: md.len(),
                    url,
                    last_used,
                });
            }
        }
        items.sort_by(|a, b| (a.kind, &a.path).cmp(&(b.kind, &b.path)));
        Ok(items)
    }

    /// Remove entries not used for `max_age` (and leftovers in `tmp/`).
    /// Returns what was removed.
    pub fn prune(&self, max_age: Duration) -> anyhow::Result<Vec<CacheItem>> {
        let now = SystemTime::now();
        let old = |t: SystemTime| now.duration_since(t).map(|a| a > max_age).unwrap_or(false);
        let mut removed = Vec::new();
        for item in self.list()? {
            if !old(item.last_used) {
                continue;
            }
            fs::remove_file(&item.path)
                .with_context(|| format!("removing {}", item.path.display()))?;
            if item.kind == "object" {
                let mut meta = item.path.clone().into_os_string();
                meta.push(".meta");
                let _ = fs::remove_file(PathBuf::from(meta));
            }
            removed.push(item);
        }
        // Index entries whose object is gone point nowhere: drop them too.
        if let Ok(rd) = fs::read_dir(self.root.join("index")) {
            for ent in rd.flatten() {
                let target =
                    read_kv(&ent.path()).and_then(|p| kv(&p, "digest").and_then(Digest::from_id));
                if target.is_none_or(|d| !self.object_path(&d).exists()) {
                    let _ = fs::remove_file(ent.path());
                }
            }
        }
        if let Ok(rd) = fs::read_dir(self.root.join("tmp")) {
            for ent in rd.flatten() {
                if let Ok(t) = ent.metadata().and_then(|m| m.modified())
                    && old(t)
                {
                    let _ = fs::remove_file(ent.path());
                }
            }
        }
        Ok(removed)
    }
}
