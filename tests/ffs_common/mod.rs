//! Shared helpers for the FFS tests: a generated tree covering every
//! object kind, writing it to a raw image, and running the independent
//! checkers (sleuthkit, grub-fstest).
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use mkimage::disk::RawFile;
use mkimage::entry::{Entry, EntryKind, EntrySink, Timestamp, add_bytes};
use mkimage::fs::ffs::{FfsWriter, Flavour, FsOptions, FsSummary};

pub const T: Timestamp = Timestamp {
    secs: 1_700_000_000,
    nsec: 123_456_789,
};

/// Deterministic pseudo-random bytes.
pub fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

/// A file object for the expected tree.
pub struct Expect {
    pub path: String,
    pub data: Vec<u8>,
}

/// Write the standard tree into `sink`; returns the regular files.
pub fn standard_tree(sink: &mut dyn EntrySink) -> Vec<Expect> {
    let mut files = Vec::new();
    let mut file = |sink: &mut dyn EntrySink, path: &str, mode: u16, data: Vec<u8>| {
        add_bytes(sink, Entry::file(path, mode, 0, T), &data).unwrap();
        files.push(Expect {
            path: path.to_string(),
            data,
        });
    };
    // A file before its parent's entry; the parent's entry comes later.
    file(sink, "etc/rc.conf", 0o644, b"hostname=test\n".to_vec());
    add_bytes(sink, Entry::dir("etc", 0o750, T).owned(0, 5), b"").unwrap();
    file(sink, "empty", 0o600, Vec::new());
    file(sink, "one-byte", 0o644, vec![7]);
    file(sink, "frag-tail", 0o644, bytes(1, 5000));
    file(sink, "exact-block", 0o644, bytes(2, 32768));
    file(
        sink,
        "twelve-blocks-plus",
        0o644,
        bytes(3, 12 * 32768 + 100),
    );
    let mut holey = vec![0u8; 40 * 32768];
    holey[3 * 32768 + 5] = 1;
    holey[39 * 32768 + 7] = 2;
    file(sink, "holey", 0o644, holey);
    file(sink, "bin/su", 0o4755, bytes(4, 20000));
    file(sink, "bin/wall", 0o2555, bytes(5, 3000));
    add_bytes(sink, Entry::dir("tmp", 0o1777, T), b"").unwrap();
    file(sink, "deep/a/b/c/d/e/f/file", 0o644, b"deep\n".to_vec());
    let long = "n".repeat(255);
    file(
        sink,
        &format!("long/{long}"),
        0o644,
        b"long name\n".to_vec(),
    );
    // A 1023-byte path.
    let mut p = String::from("p");
    while p.len() + 200 < 1023 {
        p.push('/');
        p.push_str(&"q".repeat(199));
    }
    let rest = 1023 - p.len() - 1;
    p.push('/');
    p.push_str(&"r".repeat(rest));
    assert_eq!(p.len(), 1023);
    file(sink, &p, 0o644, b"far\n".to_vec());
    // Owners and flags, nanosecond times.
    let mut e = Entry::file("owned", 0o640, 0, T).owned(1000, 1001);
    e.mtime = Timestamp {
        secs: 1_600_000_000,
        nsec: 5,
    };
    e.flags = 0x20000; // SF_ARCHIVED
    let data = b"owned\n".to_vec();
    add_bytes(sink, e, &data).unwrap();
    files.push(Expect {
        path: "owned".into(),
        data,
    });
    // Symlinks of 119, 120 and 121 bytes and a short one.
    for n in [119usize, 120, 121] {
        let target = format!("/{}", "t".repeat(n - 1));
        add_bytes(sink, Entry::symlink(format!("link{n}"), target, T), b"").unwrap();
    }
    add_bytes(sink, Entry::symlink("short", "etc/rc.conf", T), b"").unwrap();
    // Devices, fifo, socket.
    add_bytes(
        sink,
        Entry::new(
            "dev/null",
            EntryKind::CharDevice { major: 2, minor: 2 },
            0o666,
            T,
        ),
        b"",
    )
    .unwrap();
    add_bytes(
        sink,
        Entry::new(
            "dev/wd0a",
            EntryKind::BlockDevice {
                major: 0,
                minor: 0x12345,
            },
            0o640,
            T,
        )
        .owned(0, 5),
        b"",
    )
    .unwrap();
    add_bytes(sink, Entry::new("dev/fifo", EntryKind::Fifo, 0o600, T), b"").unwrap();
    add_bytes(
        sink,
        Entry::new("dev/sock", EntryKind::Socket, 0o600, T),
        b"",
    )
    .unwrap();
    // Hard links.
    add_bytes(
        sink,
        Entry::new(
            "bin/su-link",
            EntryKind::HardLink("bin/su".into()),
            0o4755,
            T,
        ),
        b"",
    )
    .unwrap();
    add_bytes(
        sink,
        Entry::new("hl2", EntryKind::HardLink("bin/su".into()), 0o4755, T),
        b"",
    )
    .unwrap();
    // Replacement: a later entry at the same path wins, blocks freed.
    add_bytes(
        sink,
        Entry::file("replaced", 0o644, 0, T),
        &bytes(9, 100_000),
    )
    .unwrap();
    let data = b"second\n".to_vec();
    add_bytes(sink, Entry::file("replaced", 0o644, 0, T), &data).unwrap();
    files.push(Expect {
        path: "replaced".into(),
        data,
    });
    // A directory spanning several blocks.
    for i in 0..3000 {
        let data = format!("{i}\n").into_bytes();
        let path = format!("many/file-with-a-longish-name-{i:05}");
        add_bytes(sink, Entry::file(&path, 0o644, 0, T), &data).unwrap();
        files.push(Expect { path, data });
    }
    // Other files pushed by closure above.
    files
}

/// Build the standard tree into a new raw image of `size` bytes.
pub fn build(path: &Path, size: u64, flavour: Flavour) -> (Vec<Expect>, FsSummary) {
    let dev = RawFile::create(path, size).unwrap();
    let mut opts = FsOptions::new(size, flavour);
    opts.seed = 42;
    opts.time = T;
    opts.label = Some("testfs".into());
    let mut w = FfsWriter::new(dev, opts).unwrap();
    let files = standard_tree(&mut w);
    let (_, s) = w.finish().unwrap();
    (files, s)
}

pub fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(found, "{name} is not installed: run scripts/setup");
    Command::new(name)
}

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
