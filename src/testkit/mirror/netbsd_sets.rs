//! What each synthetic NetBSD set holds: a hand-written core that mirrors
//! the real sets' shape and every special case an extractor must handle
//! (setuid/setgid files, owners other than root, hard links within and
//! across directories, absolute and relative symlinks, symlink targets of
//! 119/120/121 bytes, names needing ustar's prefix or a pax header, names
//! with spaces and glob characters, empty files and directories), plus,
//! for [`MirrorSize::Realistic`], bulk files with the size mix of
//! base+comp+man+text (about 1 GB in about 60 000 files).

use anyhow::Result;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use std::sync::Arc;

use super::accounts::{owner, root};
use super::bootfiles;
use super::content::{ContentKind, Vocabulary, file_seed};
use super::etc_files;
use super::tree::{Data, SetTree};
use super::{MirrorSize, NetbsdMirrorOptions};

/// Per-set context for generated content.
pub struct Ctx<'a> {
    pub opts: &'a NetbsdMirrorOptions,
    pub vocab: &'a Vocabulary,
    pub set: &'a str,
}

impl Ctx<'_> {
    fn data(&self, path: &str, kind: ContentKind, size: u64) -> Data {
        Data::Generated {
            kind,
            size,
            seed: file_seed(self.opts.seed, self.set, path),
        }
    }

    fn tiny(&self) -> bool {
        self.opts.size == MirrorSize::Tiny
    }

    /// A size for a core file: small in tiny mirrors, realistic (times
    /// the scale) otherwise.
    fn sz(&self, tiny: u64, realistic: u64) -> u64 {
        if self.tiny() {
            tiny
        } else {
            self.scaled(realistic)
        }
    }

    /// `n` × [`NetbsdMirrorOptions::scale`], rounded; exactly `n` at 1.0.
    fn scaled(&self, n: u64) -> u64 {
        if self.opts.scale == 1.0 {
            n
        } else {
            (n as f64 * self.opts.scale).round() as u64
        }
    }

    fn program(&self, t: &mut SetTree, path: &str, mode: u16, tiny: u64, real: u64) -> Result<()> {
        let data = self.data(path, ContentKind::Binary, self.sz(tiny, real));
        t.file(path, mode, root(), data)
    }

    fn text(
        &self,
        t: &mut SetTree,
        path: &str,
        kind: ContentKind,
        tiny: u64,
        real: u64,
    ) -> Result<()> {
        let data = self.data(path, kind, self.sz(tiny, real));
        t.file(path, 0o444, root(), data)
    }

    /// `count` generated files under `prefix` (spread over `subdirs`
    /// subdirectories when non-zero) with sizes in `min..max`, mostly
    /// small (see [`skewed_size`]).
    #[allow(clippy::too_many_arguments)]
    fn bulk(
        &self,
        t: &mut SetTree,
        prefix: &str,
        subdirs: usize,
        count: usize,
        (min, max): (u64, u64),
        kind: ContentKind,
        mode: u16,
        ext: &str,
    ) -> Result<()> {
        let mut rng = ChaCha8Rng::from_seed(file_seed(self.opts.seed, self.set, prefix));
        let count = self.scaled(count as u64);
        for i in 0..count as usize {
            let word = String::from_utf8_lossy(self.vocab.word(rng.next_u32())).into_owned();
            let dir = if subdirs > 0 {
                format!("{prefix}/{}{}", self.vocab_dir(i % subdirs), i % subdirs)
            } else {
                prefix.to_string()
            };
            let path = format!("{dir}/{word}{i}{ext}");
            let size = skewed_size(rng.next_u32(), min, max);
            t.file(&path, mode, root(), self.data(&path, kind, size))?;
        }
        Ok(())
    }

    fn vocab_dir(&self, i: usize) -> String {
        String::from_utf8_lossy(self.vocab.word(i as u32 * 7919)).into_owned()
    }
}

/// A size in `min..=max` from a 32-bit random value: `min + (max - min) ×
/// u⁴` for `u` uniform in [0, 1), in integer arithmetic so that every
/// platform gets the same sizes. The mean is `min + (max - min) / 5`: many
/// small files, a few large ones, like a real set.
pub fn skewed_size(r: u32, min: u64, max: u64) -> u64 {
    let u = u128::from(r >> 16); // 16 bits
    let u4 = u * u * u * u; // < 2^64
    min + ((u128::from(max.saturating_sub(min)) * u4) >> 64) as u64
}

/// A symlink target of exactly `len` bytes (relative, pointing into
/// `/usr/share/misc`).
pub fn target_of_len(len: usize) -> String {
    let head = "../../misc/";
    let mut s = String::from(head);
    let mut i = 0u8;
    while s.len() < len {
        s.push((b'a' + i % 26) as char);
        i = i.wrapping_add(1);
    }
    s
}

/// Where the special cases live in `base`.
pub const EXAMPLES: &str = "usr/share/examples/mkimage-testkit";

pub fn kern(c: &Ctx, t: &mut SetTree) -> Result<()> {
    let size = c.sz(600 * 1024, 30 * 1024 * 1024) as usize;
    let kernel = bootfiles::elf_standin(
        c.vocab,
        file_seed(c.opts.seed, c.set, "netbsd"),
        size,
        "/netbsd",
    );
    t.file("netbsd", 0o755, root(), Data::Bytes(Arc::new(kernel)))
}

pub fn base(c: &Ctx, t: &mut SetTree) -> Result<()> {
    for d in [
        "altroot",
        "home",
        "kern",
        "mnt",
        "proc",
        "stand",
        "usr/games",
        "var/db",
        "var/log",
        "var/run",
    ] {
        t.dir(d, 0o755, root())?;
    }
    t.dir("tmp", 0o1777, root())?;
    t.dir("var/tmp", 0o1777, root())?;
    t.dir("var/crash", 0o700, root())?;
    t.dir("var/games", 0o775, owner("root", "games")?)?;
    t.dir("etc", 0o755, root())?;

    for p in [
        "cat", "cp", "csh", "date", "echo", "ksh", "ls", "mkdir", "mv", "rm", "sh",
    ] {
        c.program(t, &format!("bin/{p}"), 0o555, 6 * 1024, 120 * 1024)?;
    }
    c.program(t, "bin/[", 0o555, 3 * 1024, 20 * 1024)?;
    t.hardlink("bin/test", "bin/[")?;

    for p in [
        "init",
        "mount",
        "umount",
        "fsck",
        "fsck_ffs",
        "newfs",
        "ifconfig",
        "route",
        "nologin",
        "mount_ffs",
    ] {
        c.program(t, &format!("sbin/{p}"), 0o555, 5 * 1024, 200 * 1024)?;
    }
    t.file(
        "sbin/ping",
        0o4555,
        root(),
        c.data("sbin/ping", ContentKind::Binary, c.sz(4096, 60_000)),
    )?;
    t.file(
        "sbin/shutdown",
        0o4554,
        owner("root", "operator")?,
        c.data("sbin/shutdown", ContentKind::Binary, c.sz(4096, 40_000)),
    )?;
    t.file(
        "sbin/dump",
        0o2555,
        owner("root", "tty")?,
        c.data("sbin/dump", ContentKind::Binary, c.sz(5000, 90_000)),
    )?;
    t.hardlink("sbin/rdump", "sbin/dump")?;
    c.program(t, "sbin/reboot", 0o555, 3000, 30_000)?;
    t.hardlink("sbin/halt", "sbin/reboot")?;
    t.hardlink("sbin/poweroff", "sbin/reboot")?;

    c.program(t, "lib/libc.so.12.220", 0o444, 40 * 1024, 1_900_000)?;
    t.symlink("lib/libc.so.12", "libc.so.12.220")?;
    c.program(t, "lib/libutil.so.7.24", 0o444, 8 * 1024, 120_000)?;
    t.symlink("lib/libutil.so.7", "libutil.so.7.24")?;
    c.program(t, "libexec/ld.elf_so", 0o444, 8 * 1024, 90_000)?;
    t.symlink("usr/libexec/ld.elf_so", "/libexec/ld.elf_so")?;

    for (p, mode, u, g) in [
        ("su", 0o4555, "root", "wheel"),
        ("passwd", 0o4555, "root", "wheel"),
        ("login", 0o4555, "root", "wheel"),
        ("crontab", 0o4555, "root", "wheel"),
        ("wall", 0o2555, "root", "tty"),
        ("write", 0o2555, "root", "tty"),
    ] {
        let path = format!("usr/bin/{p}");
        t.file(
            &path,
            mode,
            owner(u, g)?,
            c.data(&path, ContentKind::Binary, c.sz(4 * 1024, 40_000)),
        )?;
    }
    for p in [
        "env", "ssh", "scp", "sftp", "awk", "sed", "uname", "id", "true", "false", "vi", "grep",
    ] {
        c.program(t, &format!("usr/bin/{p}"), 0o555, 4 * 1024, 150_000)?;
    }
    t.hardlink("usr/bin/ex", "usr/bin/vi")?;
    t.hardlink("usr/bin/view", "usr/bin/vi")?;
    t.hardlink("usr/bin/egrep", "usr/bin/grep")?;
    t.hardlink("usr/bin/fgrep", "usr/bin/grep")?;
    for p in [
        "sshd",
        "pwd_mkdb",
        "chroot",
        "installboot",
        "cron",
        "ntpd",
        "sysinst",
    ] {
        c.program(t, &format!("usr/sbin/{p}"), 0o555, 5 * 1024, 300_000)?;
    }
    for p in ["postdrop", "postqueue"] {
        let path = format!("usr/sbin/{p}");
        t.file(
            &path,
            0o2555,
            owner("root", "maildrop")?,
            c.data(&path, ContentKind::Binary, c.sz(4096, 30_000)),
        )?;
    }
    for p in ["getty", "sftp-server"] {
        c.program(t, &format!("usr/libexec/{p}"), 0o555, 4 * 1024, 60_000)?;
    }
    c.program(t, "usr/lib/libssl.so.15.0", 0o444, 20 * 1024, 700_000)?;
    t.symlink("usr/lib/libssl.so.15", "libssl.so.15.0")?;
    t.symlink("usr/lib/libssl.so", "libssl.so.15.0")?;

    // boot files (mode 0444 as installed in /usr/mdec)
    let s = c.opts.seed;
    t.bytes("usr/mdec/gptmbr.bin", 0o444, bootfiles::gptmbr(s))?;
    t.bytes("usr/mdec/bootxx_ffsv2", 0o444, bootfiles::bootxx_ffsv2(s))?;
    t.bytes(
        "usr/mdec/bootxx_ffsv1",
        0o444,
        bootfiles::bootxx_ffsv2(s.wrapping_add(1)),
    )?;
    let boot = bootfiles::elf_standin(
        c.vocab,
        file_seed(s, c.set, "usr/mdec/boot"),
        100 * 1024,
        "/usr/mdec/boot",
    );
    t.bytes("usr/mdec/boot", 0o444, boot)?;
    t.bytes(
        "usr/mdec/bootx64.efi",
        0o444,
        bootfiles::grub_efi(&c.opts.grub_cfg)?,
    )?;
    t.bytes("dev/MAKEDEV", 0o555, makedev())?;

    c.text(
        t,
        "usr/share/misc/terminfo",
        ContentKind::Text,
        8 * 1024,
        2_000_000,
    )?;
    c.text(
        t,
        "usr/share/misc/style",
        ContentKind::Code,
        3 * 1024,
        40_000,
    )?;
    t.file(
        "usr/share/zoneinfo/UTC",
        0o444,
        root(),
        c.data("usr/share/zoneinfo/UTC", ContentKind::Binary, 118),
    )?;
    t.hardlink("usr/share/zoneinfo/Etc/UTC", "usr/share/zoneinfo/UTC")?;
    t.symlink("usr/share/zoneinfo/posixrules", "America/New_York")?;
    special_cases(c, t)?;

    if !c.tiny() {
        c.bulk(
            t,
            "usr/bin",
            0,
            400,
            (8_000, 400_000),
            ContentKind::Binary,
            0o555,
            "",
        )?;
        c.bulk(
            t,
            "usr/sbin",
            0,
            300,
            (8_000, 300_000),
            ContentKind::Binary,
            0o555,
            "",
        )?;
        c.bulk(
            t,
            "usr/lib",
            0,
            300,
            (20_000, 4_000_000),
            ContentKind::Binary,
            0o444,
            ".so.1",
        )?;
        c.bulk(
            t,
            "usr/libexec",
            0,
            100,
            (10_000, 1_000_000),
            ContentKind::Binary,
            0o555,
            "",
        )?;
        c.bulk(
            t,
            "usr/share/locale",
            100,
            8000,
            (200, 8_000),
            ContentKind::Text,
            0o444,
            ".mo",
        )?;
        c.bulk(
            t,
            "usr/share/zoneinfo",
            60,
            6000,
            (200, 8_000),
            ContentKind::Binary,
            0o444,
            "",
        )?;
    }
    Ok(())
}

/// Symlink targets of 119/120/121 bytes, long names, odd characters,
/// empty file and directory.
fn special_cases(c: &Ctx, t: &mut SetTree) -> Result<()> {
    for len in [119usize, 120, 121] {
        t.symlink(&format!("{EXAMPLES}/link-{len}"), &target_of_len(len))?;
    }
    // a path over 100 bytes whose components fit ustar's prefix/name split
    let deep = format!(
        "{EXAMPLES}/a-directory-with-a-fairly-long-name/another-level-below-it/file-at-depth"
    );
    c.text(t, &deep, ContentKind::Text, 700, 700)?;
    // a single component over 100 bytes: only a pax header can hold it
    let long = format!("{EXAMPLES}/{}", "long-file-name-".repeat(10));
    c.text(t, &long, ContentKind::Text, 900, 900)?;
    t.hardlink(&format!("{EXAMPLES}/zz-hard-link-to-the-long-name"), &long)?;
    t.bytes(
        &format!("{EXAMPLES}/name with spaces"),
        0o444,
        "spaces are encoded as \\040 in mtree\n",
    )?;
    t.bytes(&format!("{EXAMPLES}/empty"), 0o444, Vec::new())?;
    t.dir(&format!("{EXAMPLES}/empty-dir"), 0o755, root())?;
    Ok(())
}

fn makedev() -> String {
    "#!/bin/sh -\n#\n#\t$NetBSD: MAKEDEV (mkimage-testkit stand-in) $\n#\n\
# Stand-in for NetBSD's MAKEDEV: the real one creates device nodes;\n\
# this one only says what it was asked to do.\n\n\
for dev in \"$@\"; do\n\techo \"MAKEDEV stand-in: $dev\"\ndone\n"
        .to_string()
}

pub fn comp(c: &Ctx, t: &mut SetTree) -> Result<()> {
    c.program(t, "usr/bin/cc", 0o555, 8 * 1024, 900_000)?;
    for l in ["gcc", "c++", "g++"] {
        t.hardlink(&format!("usr/bin/{l}"), "usr/bin/cc")?;
    }
    for p in ["ld", "as", "ar", "nm", "make"] {
        c.program(t, &format!("usr/bin/{p}"), 0o555, 6 * 1024, 400_000)?;
    }
    for h in [
        "stdio.h",
        "stdlib.h",
        "string.h",
        "unistd.h",
        "sys/types.h",
        "sys/param.h",
        "amd64/param.h",
        "x86/cpu.h",
    ] {
        c.text(
            t,
            &format!("usr/include/{h}"),
            ContentKind::Code,
            3 * 1024,
            30_000,
        )?;
    }
    t.symlink("usr/include/machine", "amd64")?;
    for l in ["libc.a", "libutil.a", "crt0.o", "crti.o"] {
        c.program(t, &format!("usr/lib/{l}"), 0o444, 16 * 1024, 3_000_000)?;
    }
    c.program(t, "usr/libexec/cc1", 0o555, 64 * 1024, 28_000_000)?;
    c.text(
        t,
        "usr/share/mk/bsd.prog.mk",
        ContentKind::Code,
        4 * 1024,
        20_000,
    )?;
    if !c.tiny() {
        for p in ["cc1plus", "cc1obj", "lto1", "lto-wrapper"] {
            c.program(t, &format!("usr/libexec/{p}"), 0o555, 0, 25_000_000)?;
        }
        c.bulk(
            t,
            "usr/include",
            200,
            24_000,
            (300, 24_000),
            ContentKind::Code,
            0o444,
            ".h",
        )?;
        c.bulk(
            t,
            "usr/lib",
            0,
            300,
            (10_000, 4_000_000),
            ContentKind::Binary,
            0o444,
            ".a",
        )?;
    }
    Ok(())
}

pub fn man(c: &Ctx, t: &mut SetTree) -> Result<()> {
    for (sec, pages) in [
        ("1", &["sh", "ls", "cat", "test", "ssh", "vi"][..]),
        ("5", &["rc.conf", "passwd", "ttys", "login.conf"][..]),
        ("8", &["init", "sysinst", "installboot", "MAKEDEV"][..]),
    ] {
        for p in pages {
            c.text(
                t,
                &format!("usr/share/man/man{sec}/{p}.{sec}"),
                ContentKind::Text,
                4 * 1024,
                12_000,
            )?;
        }
        t.dir(&format!("usr/share/man/cat{sec}"), 0o755, root())?;
    }
    t.hardlink("usr/share/man/man1/ex.1", "usr/share/man/man1/vi.1")?;
    t.hardlink("usr/share/man/man1/[.1", "usr/share/man/man1/test.1")?;
    if !c.tiny() {
        for sec in 1..=9 {
            let dir = format!("usr/share/man/man{sec}");
            c.bulk(
                t,
                &dir,
                0,
                1100,
                (1_000, 20_000),
                ContentKind::Text,
                0o444,
                &format!(".{sec}"),
            )?;
        }
    }
    Ok(())
}

pub fn misc(c: &Ctx, t: &mut SetTree) -> Result<()> {
    c.text(
        t,
        "usr/share/dict/words",
        ContentKind::Text,
        16 * 1024,
        2_500_000,
    )?;
    c.text(
        t,
        "usr/share/misc/airport",
        ContentKind::Text,
        4 * 1024,
        120_000,
    )?;
    c.text(
        t,
        "usr/share/doc/reference/ref1/README",
        ContentKind::Text,
        2 * 1024,
        10_000,
    )?;
    c.text(
        t,
        "usr/share/examples/rc.d/example",
        ContentKind::Code,
        1024,
        3_000,
    )?;
    if !c.tiny() {
        c.bulk(
            t,
            "usr/share/doc",
            100,
            8000,
            (200, 16_000),
            ContentKind::Text,
            0o444,
            "",
        )?;
    }
    Ok(())
}

pub fn modules(c: &Ctx, t: &mut SetTree) -> Result<()> {
    let base = format!("stand/{}/{}/modules", c.opts.machine, c.opts.release);
    for m in [
        "ffs",
        "nfs",
        "tmpfs",
        "compat_linux",
        "virtio",
        "if_vioif",
        "ld_virtio",
    ] {
        c.program(t, &format!("{base}/{m}/{m}.kmod"), 0o444, 6 * 1024, 150_000)?;
    }
    if !c.tiny() {
        let mut rng = ChaCha8Rng::from_seed(file_seed(c.opts.seed, c.set, &base));
        for i in 0..600 {
            let w = String::from_utf8_lossy(c.vocab.word(rng.next_u32())).into_owned();
            let path = format!("{base}/{w}{i}/{w}{i}.kmod");
            let size = 8_000 + u64::from(rng.next_u32() % 400_000);
            t.file(
                &path,
                0o444,
                root(),
                c.data(&path, ContentKind::Binary, size),
            )?;
        }
    }
    Ok(())
}

pub fn text(c: &Ctx, t: &mut SetTree) -> Result<()> {
    c.program(t, "usr/bin/groff", 0o555, 8 * 1024, 2_000_000)?;
    for p in ["nroff", "troff", "tbl", "eqn"] {
        c.program(t, &format!("usr/bin/{p}"), 0o555, 4 * 1024, 300_000)?;
    }
    for m in ["an.tmac", "doc.tmac", "mdoc/doc-common", "mdoc/doc-syms"] {
        c.text(
            t,
            &format!("usr/share/tmac/{m}"),
            ContentKind::Code,
            3 * 1024,
            60_000,
        )?;
    }
    c.text(
        t,
        "usr/share/groff_font/devutf8/R",
        ContentKind::Text,
        2 * 1024,
        20_000,
    )?;
    if !c.tiny() {
        c.bulk(
            t,
            "usr/share/groff_font",
            20,
            1500,
            (500, 30_000),
            ContentKind::Text,
            0o444,
            "",
        )?;
    }
    Ok(())
}

pub fn etc(c: &Ctx, t: &mut SetTree) -> Result<()> {
    etc_files::add_etc_set(t, &c.opts.release)
}
