//! An [`EntrySink`] wrapper that passes every entry on to the real sink
//! (the file-system writer) while remembering which paths exist and keeping
//! an in-memory copy of a few small files the build must read back and
//! edit (master.passwd, rc.conf, boot code…). This is how the build reads
//! what the sets shipped without a temporary tree on the host.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use anyhow::{Context, Result, bail};

use crate::entry::{Entry, EntryKind, EntrySink};

/// Files larger than this are never captured, whatever the pattern says.
const MAX_CAPTURE: u64 = 16 << 20;

/// A path we keep a copy of.
#[derive(Debug, Clone)]
pub struct Captured {
    pub entry: Entry,
    pub data: Vec<u8>,
}

/// Tee to the inner sink, recording paths and capturing chosen files.
pub struct CaptureSink<'a> {
    inner: &'a mut dyn EntrySink,
    wanted: BTreeSet<String>,
    captured: BTreeMap<String, Captured>,
    paths: BTreeMap<String, EntryKind>,
    newest_mtime: i64,
}

impl<'a> CaptureSink<'a> {
    /// Capture the files at the paths in `wanted`.
    pub fn new(inner: &'a mut dyn EntrySink, wanted: &[&str]) -> Self {
        CaptureSink {
            inner,
            wanted: wanted.iter().map(|s| s.to_string()).collect(),
            captured: BTreeMap::new(),
            paths: BTreeMap::new(),
            newest_mtime: 0,
        }
    }

    fn wants(&self, path: &str) -> bool {
        self.wanted.contains(path)
    }

    /// A captured file's data, if the sets held it.
    pub fn get(&self, path: &str) -> Option<&Captured> {
        self.captured.get(path)
    }

    /// A captured file as UTF-8 text, or an error naming what is missing.
    pub fn text(&self, path: &str, what: &str) -> Result<String> {
        let c = self
            .captured
            .get(path)
            .with_context(|| format!("/{path} is missing from the {what}"))?;
        String::from_utf8(c.data.clone()).with_context(|| format!("/{path} is not UTF-8 text"))
    }

    /// Whether anything has been written at `path`.
    pub fn exists(&self, path: &str) -> bool {
        self.paths.contains_key(path)
    }

    /// Every path written so far, in order.
    pub fn paths(&self) -> Vec<String> {
        self.paths.keys().cloned().collect()
    }

    pub fn kind(&self, path: &str) -> Option<&EntryKind> {
        self.paths.get(path)
    }

    /// The newest modification time seen so far (a reproducible "now").
    pub fn newest_mtime(&self) -> i64 {
        self.newest_mtime
    }
}

impl EntrySink for CaptureSink<'_> {
    fn add(&mut self, entry: &Entry, data: &mut dyn Read) -> Result<()> {
        self.newest_mtime = self.newest_mtime.max(entry.mtime.secs);
        self.paths.insert(entry.path.clone(), entry.kind.clone());
        if entry.kind == EntryKind::File && self.wants(&entry.path) {
            if entry.size > MAX_CAPTURE {
                bail!(
                    "/{} is {} bytes, larger than expected for this file",
                    entry.path,
                    entry.size
                );
            }
            let mut buf = Vec::with_capacity(entry.size as usize);
            data.take(entry.size)
                .read_to_end(&mut buf)
                .with_context(|| format!("reading /{}", entry.path))?;
            if buf.len() as u64 != entry.size {
                bail!(
                    "/{}: archive ended after {} of {} bytes",
                    entry.path,
                    buf.len(),
                    entry.size
                );
            }
            self.inner.add(entry, &mut buf.as_slice())?;
            self.captured.insert(
                entry.path.clone(),
                Captured {
                    entry: entry.clone(),
                    data: buf,
                },
            );
            Ok(())
        } else {
            if entry.kind != EntryKind::File || !self.wants(&entry.path) {
                self.captured.remove(&entry.path);
            }
            self.inner.add(entry, data)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Timestamp, add_bytes};

    #[derive(Default)]
    struct Collect(Vec<(String, Vec<u8>)>);
    impl EntrySink for Collect {
        fn add(&mut self, entry: &Entry, data: &mut dyn Read) -> Result<()> {
            let mut v = Vec::new();
            data.read_to_end(&mut v)?;
            self.0.push((entry.path.clone(), v));
            Ok(())
        }
    }

    #[test]
    fn captured_files_still_reach_the_inner_sink_and_later_entries_win() {
        let mut inner = Collect::default();
        {
            let mut cap = CaptureSink::new(&mut inner, &["etc/rc.conf"]);
            let t = Timestamp::from_secs(5);
            add_bytes(&mut cap, Entry::file("etc/rc.conf", 0o644, 0, t), b"one").unwrap();
            add_bytes(&mut cap, Entry::file("etc/rc.conf", 0o644, 0, t), b"two").unwrap();
            add_bytes(
                &mut cap,
                Entry::file("etc/mtree/set.base", 0o444, 0, t),
                b"m",
            )
            .unwrap();
            add_bytes(
                &mut cap,
                Entry::file("bin/sh", 0o555, 0, Timestamp::from_secs(9)),
                b"sh",
            )
            .unwrap();
            assert_eq!(cap.text("etc/rc.conf", "sets").unwrap(), "two");
            assert!(cap.get("etc/mtree/set.base").is_none(), "not asked for");
            assert!(cap.exists("bin/sh") && cap.get("bin/sh").is_none());
            assert_eq!(cap.newest_mtime(), 9);
            assert!(
                cap.text("etc/ttys", "sets")
                    .unwrap_err()
                    .to_string()
                    .contains("/etc/ttys")
            );
        }
        assert_eq!(inner.0.len(), 4);
        assert_eq!(inner.0[1], ("etc/rc.conf".to_string(), b"two".to_vec()));
    }
}
