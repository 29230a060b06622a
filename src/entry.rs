//! The file-system object model shared by every producer (set archives,
//! packages, generated files) and every consumer (the FFS writer): one
//! [`Entry`] per object, its data supplied separately as a reader so that
//! file contents stream from the decompressor straight into the image.

use std::io::Read;

/// A point in time as file systems store it: seconds since the Unix epoch
/// and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Timestamp {
    pub secs: i64,
    pub nsec: u32,
}

impl Timestamp {
    pub const fn from_secs(secs: i64) -> Self {
        Timestamp { secs, nsec: 0 }
    }
}

/// What kind of object an entry is, with the data that only that kind has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file; its `size` bytes come from the data reader.
    File,
    Dir,
    /// A symbolic link and its target, exactly as stored (not resolved).
    Symlink(String),
    /// A hard link to an earlier entry, named by that entry's path (same
    /// normalised form as [`Entry::path`]).
    HardLink(String),
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Fifo,
    Socket,
}

/// One file-system object.
///
/// `path` is normalised: relative to the root of the file system being
/// built, components separated by `/`, no leading `/` or `./`, no `.` or
/// `..` components, no empty components; the root directory itself is `""`.
/// Producers must refuse anything they cannot normalise safely
/// ([`crate::source::path`] does this for archives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub kind: EntryKind,
    /// Permission bits including setuid (0o4000), setgid (0o2000) and
    /// sticky (0o1000); never the file-type bits.
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    /// BSD file flags (UF_* / SF_*, chflags(2)); 0 for none.
    pub flags: u32,
    pub atime: Timestamp,
    pub mtime: Timestamp,
    pub ctime: Timestamp,
    pub birthtime: Timestamp,
    /// Length of a regular file's data; 0 for every other kind.
    pub size: u64,
}

impl Entry {
    /// A new entry with every time set to `time`, owned by root:wheel (0:0).
    pub fn new(path: impl Into<String>, kind: EntryKind, mode: u16, time: Timestamp) -> Self {
        Entry {
            path: path.into(),
            kind,
            mode,
            uid: 0,
            gid: 0,
            flags: 0,
            atime: time,
            mtime: time,
            ctime: time,
            birthtime: time,
            size: 0,
        }
    }

    /// A regular file of `size` bytes.
    pub fn file(path: impl Into<String>, mode: u16, size: u64, time: Timestamp) -> Self {
        let mut e = Entry::new(path, EntryKind::File, mode, time);
        e.size = size;
        e
    }

    /// A directory.
    pub fn dir(path: impl Into<String>, mode: u16, time: Timestamp) -> Self {
        Entry::new(path, EntryKind::Dir, mode, time)
    }

    /// A symbolic link to `target`.
    pub fn symlink(path: impl Into<String>, target: impl Into<String>, time: Timestamp) -> Self {
        Entry::new(path, EntryKind::Symlink(target.into()), 0o755, time)
    }

    /// Owned by `uid`:`gid`.
    pub fn owned(mut self, uid: u32, gid: u32) -> Self {
        self.uid = uid;
        self.gid = gid;
        self
    }
}

/// A consumer of entries: the FFS writer, a collector in tests, a filter
/// that captures some files while passing the rest on.
///
/// For [`EntryKind::File`], `data` yields exactly `entry.size` bytes; a
/// shorter stream is an error the sink reports. For other kinds `data` is
/// empty and is not read. A later entry at the same path replaces the
/// earlier one.
pub trait EntrySink {
    fn add(&mut self, entry: &Entry, data: &mut dyn Read) -> anyhow::Result<()>;
}

/// Convenience: add an entry whose data is an in-memory byte slice (the
/// entry's `size` is set from it for regular files).
pub fn add_bytes(sink: &mut dyn EntrySink, mut entry: Entry, bytes: &[u8]) -> anyhow::Result<()> {
    if entry.kind == EntryKind::File {
        entry.size = bytes.len() as u64;
    }
    let mut reader = bytes;
    sink.add(&entry, &mut reader)
}
