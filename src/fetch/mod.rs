//! Getting verified bytes: release files from ordered mirrors, checked
//! against the release's own checksum file, through a content-addressed
//! cache with resumable downloads and bounded retries.
//!
//! The entry point is [`Fetcher`]:
//! * [`Fetcher::fetch_release_files`] — sets of a NetBSD or FreeBSD release
//!   (checksum file first, then each set, verified before first use);
//! * [`Fetcher::fetch_verified`] — any file whose digest is known;
//! * [`Fetcher::fetch_unverified_small`] — small indexes such as
//!   `pkg_summary` (the caller verifies what they describe);
//! * [`Fetcher::open_set`] — a verified set's decoded tar stream, through
//!   the zstd decoded-set cache.

pub mod cache;
pub mod checksum;
pub mod decoded;
pub mod http;
pub mod mirror;
pub mod retry;

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context;

pub use checksum::{Algorithm, ChecksumFile, Digest};
pub use mirror::ReleaseLayout;
pub use retry::RetryPolicy;

use cache::Cache;
use http::Http;
use mirror::{Location, join, locate};
use retry::Jitter;

/// How a [`Fetcher`] behaves.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// Cache directory; `None` means [`cache::default_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Use only the cache; report everything missing at once.
    pub offline: bool,
    /// Re-hash cached files instead of trusting size and stored digest.
    pub verify_cache: bool,
    /// Keep and use zstd re-compressed copies of verified sets.
    pub decoded_cache: bool,
    pub retry: RetryPolicy,
}

impl FetchOptions {
    /// The options the build commands' flags ask for (`--cache-dir`,
    /// `--offline`, `--verify-cache`, `--no-decoded-cache`), with the
    /// default retry policy.
    pub fn from_build_args(args: &crate::cli::BuildArgs) -> FetchOptions {
        FetchOptions {
            cache_dir: args.cache_dir.clone(),
            offline: args.offline,
            verify_cache: args.verify_cache,
            decoded_cache: !args.no_decoded_cache,
            retry: RetryPolicy::default(),
        }
    }
}

/// A file whose bytes were checked against a known digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedFile {
    /// File name as the release lists it (`base.tar.xz`).
    pub name: String,
    /// Where the verified bytes are (in the cache, or in a local mirror).
    pub path: PathBuf,
    pub digest: Digest,
    pub size: u64,
}

/// Downloads through the cache.
pub struct Fetcher {
    opts: FetchOptions,
    cache: Cache,
    http: OnceLock<Http>,
}

/// The last path component of a URL (`.../sets/base.tar.xz` → `base.tar.xz`).
fn file_name(url: &str) -> &str {
    url.trim_end_matches('/').rsplit('/').next().unwrap_or(url)
}

impl Fetcher {
    pub fn new(opts: FetchOptions) -> anyhow::Result<Fetcher> {
        let dir = match &opts.cache_dir {
            Some(d) => d.clone(),
            None => cache::default_dir()?,
        };
        let cache = Cache::open(&dir)?;
        Ok(Fetcher {
            opts,
            cache,
            http: OnceLock::new(),
        })
    }

    pub fn cache(&self) -> &Cache {
        &self.cache
    }

    pub fn options(&self) -> &FetchOptions {
        &self.opts
    }

    fn http(&self) -> anyhow::Result<&Http> {
        if let Some(h) = self.http.get() {
            return Ok(h);
        }
        let h = Http::new(&self.opts.retry)?;
        Ok(self.http.get_or_init(|| h))
    }

    /// The URLs of `name` in the release directory of every mirror, in
    /// mirror order.
    pub fn release_urls(mirrors: &[String], layout: &ReleaseLayout, name: &str) -> Vec<String> {
        mirrors
            .iter()
            .map(|m| join(&join(m, &layout.release_dir()), name))
            .collect()
    }

    /// Fetch and parse the release's checksum file (from the cache when it
    /// holds it: release directories do not change).
    pub fn release_checksums(
        &self,
        mirrors: &[String],
        layout: &ReleaseLayout,
    ) -> anyhow::Result<ChecksumFile> {
        if mirrors.is_empty() {
            anyhow::bail!("no mirror given; pass --mirror URL (or set mirrors in the recipe)");
        }
        let urls = Self::release_urls(mirrors, layout, layout.checksum_file());
        let (url, bytes) = self.fetch_small(&urls, false)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("{url}: checksum file is not text"))?;
        Ok(layout.parse_checksums(&text, &url)?)
    }

    /// Fetch the named files of a release, each verified against the
    /// release's checksum file, in the order of `names`. A name the
    /// checksum file does not list is refused. Offline, everything missing
    /// from the cache is listed in one error.
    pub fn fetch_release_files(
        &self,
        mirrors: &[String],
        layout: &ReleaseLayout,
        names: &[String],
    ) -> anyhow::Result<Vec<VerifiedFile>> {
        let sums = match self.release_checksums(mirrors, layout) {
            Ok(s) => s,
            Err(e) if self.opts.offline => {
                let mut missing = vec![layout.checksum_file().to_string()];
                missing.extend(names.iter().cloned());
                return Err(e.context(format!(
                    "offline and not in the cache {}: {}",
                    self.cache.root().display(),
                    missing.join(", ")
                )));
            }
            Err(e) => return Err(e),
        };
        let unlisted: Vec<&str> = names
            .iter()
            .filter(|n| !sums.digests.contains_key(n.as_str()))
            .map(String::as_str)
            .collect();
        if !unlisted.is_empty() {
            anyhow::bail!(
                "{} not listed in {}; refusing files the release's checksums do not cover (check the set names and the release)",
                unlisted.join(", "),
                sums.source
            );
        }
        if self.opts.offline {
            let mut missing = Vec::new();
            for n in names {
                let d = sums.get(n)?;
                let urls = Self::release_urls(mirrors, layout, n);
                if self.cache.lookup(d, self.opts.verify_cache)?.is_none()
                    && self.local_copy(&urls, d)?.is_none()
                {
                    missing.push(n.as_str());
                }
            }
            if !missing.is_empty() {
                anyhow::bail!(
                    "offline, and the cache {} lacks: {} (run `mkimage fetch` while online, or drop --offline)",
                    self.cache.root().display(),
                    missing.join(", ")
                );
            }
        }
        let files = names
            .iter()
            .map(|n| {
                let urls = Self::release_urls(mirrors, layout, n);
                self.fetch_verified(&urls, sums.get(n)?)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let total: u64 = files.iter().map(|f| f.size).sum();
        crate::progress::info(format!(
            "{} release files verified against {} ({})",
            files.len(),
            sums.source,
            crate::progress::human_bytes(total)
        ));
        Ok(files)
    }

    /// A local mirror's copy of the file, if one of `urls` is local and its
    /// bytes match.
    fn local_copy(
        &self,
        urls: &[String],
        expected: &Digest,
    ) -> anyhow::Result<Option<VerifiedFile>> {
        for url in urls {
            if let Location::Local(path) = locate(url)? {
                let Ok(mut f) = File::open(&path) else {
                    continue;
                };
                let (got, size) = checksum::hash_reader(expected.algorithm, &mut f)
                    .with_context(|| format!("reading {}", path.display()))?;
                if got == *expected {
                    return Ok(Some(VerifiedFile {
                        name: file_name(url).to_string(),
                        path,
                        digest: got,
                        size,
                    }));
                }
                crate::progress::warn(format!(
                    "{} does not match its checksum (expected {}, actual {}); trying the next mirror",
                    path.display(),
                    expected.hex(),
                    got.hex()
                ));
            }
        }
        Ok(None)
    }

    /// Fetch a file whose digest is known, trying `urls` in order (the
    /// same file on each mirror). The bytes are verified before they are
    /// returned; a mismatch leaves nothing in the cache and names the
    /// file, the expected and the actual digest.
    pub fn fetch_verified(
        &self,
        urls: &[String],
        expected: &Digest,
    ) -> anyhow::Result<VerifiedFile> {
        let first = urls
            .first()
            .ok_or_else(|| anyhow::anyhow!("no URL to fetch from (no mirror given)"))?;
        let name = file_name(first).to_string();
        if let Some((path, size)) = self.cache.lookup(expected, self.opts.verify_cache)? {
            crate::progress::debug(format!("{name}: from the cache"));
            return Ok(VerifiedFile {
                name,
                path,
                digest: expected.clone(),
                size,
            });
        }
        if let Some(v) = self.local_copy(urls, expected)? {
            return Ok(v);
        }
        if self.opts.offline {
            anyhow::bail!(
                "offline, and {name} ({}) is not in the cache {}",
                expected,
                self.cache.root().display()
            );
        }
        let mut failures = Vec::new();
        let mut mismatch = None;
        let mut budget = self.opts.retry.total_delay;
        for url in urls {
            if !matches!(locate(url)?, Location::Remote(_)) {
                failures.push(format!("{url}: missing or not matching"));
                continue;
            }
            let _lock = self.cache.lock_url(url)?;
            // Another run may have finished it while we waited for the lock.
            if let Some((path, size)) = self.cache.lookup(expected, false)? {
                return Ok(VerifiedFile {
                    name,
                    path,
                    digest: expected.clone(),
                    size,
                });
            }
            let partial = self.cache.partial_path(url);
            // A partial file left by an earlier run may hold bytes of an
            // older copy of the file: if the resumed result does not match,
            // download it once more from the start before giving up.
            let resumed = fs::metadata(&partial).map(|m| m.len() > 0).unwrap_or(false);
            let mut verified = None;
            for fresh_try in [false, true] {
                if fresh_try && !resumed {
                    break;
                }
                if let Err(f) = self.download_with_retries(url, &partial, &name, &mut budget) {
                    failures.push(f);
                    break;
                }
                let mut f = File::open(&partial)
                    .with_context(|| format!("reading {}", partial.display()))?;
                let (got, size) = checksum::hash_reader(expected.algorithm, &mut f)
                    .with_context(|| format!("reading {}", partial.display()))?;
                drop(f);
                if got == *expected {
                    verified = Some((got, size));
                    break;
                }
                let _ = fs::remove_file(&partial);
                let msg = format!(
                    "checksum mismatch for {name} from {url}: expected {} {}, actual {}",
                    expected.algorithm.name().to_ascii_uppercase(),
                    expected.hex(),
                    got.hex()
                );
                crate::progress::warn(&msg);
                if resumed && !fresh_try {
                    crate::progress::info(format!(
                        "{name}: the resumed download did not match; fetching it again from the start"
                    ));
                    continue;
                }
                failures.push(msg.clone());
                mismatch = Some(msg);
            }
            let Some((got, size)) = verified else {
                continue;
            };
            let path = self.cache.commit(&partial, &got, size, url)?;
            return Ok(VerifiedFile {
                name,
                path,
                digest: got,
                size,
            });
        }
        if let (Some(m), 1) = (&mismatch, failures.len()) {
            anyhow::bail!("{m}; nothing was cached");
        }
        anyhow::bail!(
            "could not fetch {name} from any mirror:\n  {}\n\
             check the network and the --mirror URLs (several may be given); \
             `mkimage fetch` while online fills the cache for --offline builds",
            failures.join("\n  ")
        )
    }

    /// Download `url` into `partial` with retries on transient failures.
    /// Returns the size, or a message naming the URL, the cause and the
    /// attempt count.
    fn download_with_retries(
        &self,
        url: &str,
        partial: &Path,
        name: &str,
        budget: &mut std::time::Duration,
    ) -> Result<u64, String> {
        let policy = &self.opts.retry;
        let http = self.http().map_err(|e| format!("{url}: {e:#}"))?;
        let mut jitter = Jitter::seeded(url);
        let attempts = policy.attempts_per_mirror.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match http.download_once(url, partial, name) {
                Ok(size) => return Ok(size),
                Err(e) => {
                    let plural = if attempt == 1 { "attempt" } else { "attempts" };
                    if !e.transient {
                        return Err(format!(
                            "{url}: {} (after {attempt} {plural}; not retried)",
                            e.cause
                        ));
                    }
                    if attempt >= attempts {
                        return Err(format!("{url}: {} (after {attempt} {plural})", e.cause));
                    }
                    let delay = policy.delay(attempt, &mut jitter);
                    if delay > *budget {
                        return Err(format!(
                            "{url}: {} (after {attempt} {plural}; retry time budget used up)",
                            e.cause
                        ));
                    }
                    *budget -= delay;
                    crate::progress::info(format!(
                        "{url}: {}; retrying (attempt {} of {attempts})",
                        e.cause,
                        attempt + 1
                    ));
                    std::thread::sleep(delay);
                }
            }
        }
    }

    /// Fetch a small file whose digest is not known in advance (e.g.
    /// `pkg_summary.gz`), trying `urls` in order. Served from the cache
    /// when it holds one of the URLs (release and package directories do
    /// not change); use [`Fetcher::refresh_unverified_small`] to insist on
    /// a fresh copy. Returns the URL it came from and the bytes.
    pub fn fetch_unverified_small(&self, urls: &[String]) -> anyhow::Result<(String, Vec<u8>)> {
        self.fetch_small(urls, false)
    }

    /// Like [`Fetcher::fetch_unverified_small`] but downloads again when
    /// online, ignoring the cached copy.
    pub fn refresh_unverified_small(&self, urls: &[String]) -> anyhow::Result<(String, Vec<u8>)> {
        self.fetch_small(urls, true)
    }

    fn fetch_small(&self, urls: &[String], refresh: bool) -> anyhow::Result<(String, Vec<u8>)> {
        if urls.is_empty() {
            anyhow::bail!("no URL to fetch from (no mirror given)");
        }
        if !refresh || self.opts.offline {
            for url in urls {
                if let Some(entry) = self.cache.index_get(url)
                    && let Some((path, _)) =
                        self.cache.lookup(&entry.digest, self.opts.verify_cache)?
                {
                    let bytes =
                        fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                    return Ok((url.clone(), bytes));
                }
            }
        }
        let mut failures = Vec::new();
        let mut budget = self.opts.retry.total_delay;
        for url in urls {
            match locate(url)? {
                Location::Local(path) => match fs::read(&path) {
                    Ok(b) => return Ok((url.clone(), b)),
                    Err(e) => failures.push(format!("{}: {e}", path.display())),
                },
                Location::Remote(_) if self.opts.offline => {
                    failures.push(format!("{url}: not in the cache (offline)"));
                }
                Location::Remote(_) => {
                    let _lock = self.cache.lock_url(url)?;
                    let partial = self.cache.partial_path(url);
                    // Small files whose content may change are never resumed.
                    let _ = fs::remove_file(&partial);
                    if let Err(f) =
                        self.download_with_retries(url, &partial, file_name(url), &mut budget)
                    {
                        failures.push(f);
                        continue;
                    }
                    let bytes = fs::read(&partial)
                        .with_context(|| format!("reading {}", partial.display()))?;
                    let digest = Digest::of_bytes(Algorithm::Sha256, &bytes);
                    self.cache
                        .commit(&partial, &digest, bytes.len() as u64, url)?;
                    return Ok((url.clone(), bytes));
                }
            }
        }
        let name = file_name(&urls[0]);
        if self.opts.offline {
            anyhow::bail!(
                "offline, and {name} is not in the cache {}:\n  {}",
                self.cache.root().display(),
                failures.join("\n  ")
            );
        }
        anyhow::bail!(
            "could not fetch {name} from any mirror:\n  {}\n\
             check the network and the --mirror URLs (several may be given); \
             `mkimage fetch` while online fills the cache for --offline builds",
            failures.join("\n  ")
        )
    }
}
