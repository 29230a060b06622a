//! A synthetic FreeBSD release directory, laid out as the real mirrors
//! have it: `pub/FreeBSD/releases/<machine>/<arch>/<X.Y>-RELEASE/` holding
//! `base.txz`, `kernel.txz` and `MANIFEST` (tab-separated `file sha256
//! entries distname "desc" on|off`, as `release/scripts/make-manifest.sh`
//! writes it). The archives are made like bsdtar makes the release's:
//! `./`-relative names, owners by name and id, pax headers named
//! `<dir>/PaxHeader/<name>` carrying `SCHILY.fflags=schg` on the files the
//! release installs immutable (`/lib/libc.so.7`, `/libexec/ld-elf.so.1`,
//! `/sbin/init`, setuid `passwd`/`chpass`, `/var/empty`).
//!
//! `base.txz` holds the boot stand-ins an image writer must place:
//! `/boot/pmbr` (512 bytes, `0x55AA`), `/boot/gptboot` (about 100 KiB),
//! `/boot/loader`, and `/boot/loader.efi`, a GRUB EFI image whose script
//! prints a marker and `(hd0,gpt3)/etc/rc.conf` (the root is the third
//! GPT entry in [`crate::os::freebsd::boot`]'s layout).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};

use super::accounts::{Owner, root};
use super::archive::{PaxNaming, write_archive};
use super::bootfiles::{elf_standin, grub_efi};
use super::content::{ContentKind, Vocabulary, file_seed};
use super::freebsd_etc as etc;
use super::tree::{Data, SetTree};
use super::{MirrorSize, SetMember, resolve, sha256_of};
use crate::entry::EntryKind;

/// The GRUB script of the default `/boot/loader.efi` stand-in: the root
/// file system is GPT entry 3 (freebsd-boot, efi, freebsd-ufs).
pub const FREEBSD_GRUB_CFG: &str = "echo MKIMAGE-STANDIN-BOOT\n\
cat (hd0,gpt3)/etc/rc.conf\n\
echo MKIMAGE-STANDIN-END\n\
halt\n";

/// Modification time of every member: 2025-06-10 00:00:00 UTC (FreeBSD
/// 14.3's release day).
pub const FREEBSD_MTIME: u64 = 1_749_513_600;

/// Length of `/boot/pmbr`: one sector.
pub const PMBR_SIZE: usize = 512;
/// Length of the `/boot/gptboot` stand-in (the real one is of this order).
pub const GPTBOOT_SIZE: usize = 100 * 1024;

/// `SF_IMMUTABLE` (sys/sys/stat.h), what `SCHILY.fflags=schg` means.
pub const SF_IMMUTABLE: u32 = 0x0002_0000;

/// Members archived with `SCHILY.fflags=schg`, as FreeBSD installs them
/// (`PRECIOUSLIB`/`PRECIOUSPROG` and `/var/empty`).
pub const SCHG_PATHS: [&str; 9] = [
    "lib/libc.so.7",
    "lib/libthr.so.3",
    "libexec/ld-elf.so.1",
    "sbin/init",
    "usr/bin/chpass",
    "usr/bin/chfn",
    "usr/bin/chsh",
    "usr/bin/passwd",
    "var/empty",
];

/// What to generate.
#[derive(Debug, Clone)]
pub struct FreebsdMirrorOptions {
    /// Release directory name, e.g. `14.3-RELEASE`.
    pub release: String,
    /// `amd64`.
    pub machine: String,
    /// `amd64`.
    pub arch: String,
    pub size: MirrorSize,
    pub seed: u64,
    /// Script of the GRUB stand-in shipped as `/boot/loader.efi`.
    pub grub_cfg: String,
    /// xz preset 0–9.
    pub xz_preset: u32,
}

impl FreebsdMirrorOptions {
    /// FreeBSD 14.3-RELEASE/amd64 with [`FREEBSD_GRUB_CFG`].
    pub fn new(size: MirrorSize, seed: u64) -> Self {
        FreebsdMirrorOptions {
            release: "14.3-RELEASE".to_string(),
            machine: "amd64".to_string(),
            arch: "amd64".to_string(),
            size,
            seed,
            grub_cfg: FREEBSD_GRUB_CFG.to_string(),
            xz_preset: match size {
                MirrorSize::Tiny => 6,
                MirrorSize::Realistic => 1,
            },
        }
    }
}

/// One generated distribution file.
#[derive(Debug, Clone)]
pub struct GeneratedDist {
    /// `base`, `kernel`.
    pub name: String,
    /// `base.txz`.
    pub file_name: String,
    pub path: PathBuf,
    /// SHA-256 of the file, lower-case hex (as in `MANIFEST`).
    pub sha256: String,
    /// Every member in archive order.
    pub members: Vec<SetMember>,
    /// Normalised paths archived with `SCHILY.fflags=schg`.
    pub schg: Vec<String>,
}

/// A generated FreeBSD mirror.
#[derive(Debug, Clone)]
pub struct FreebsdMirror {
    /// The directory given to [`generate_freebsd`] (holds `pub/`).
    pub root: PathBuf,
    /// `root/pub/FreeBSD/`: what `--mirror` names.
    pub mirror_dir: PathBuf,
    /// `mirror_dir/releases/<machine>/<arch>/<release>/`.
    pub release_dir: PathBuf,
    /// `base` then `kernel`.
    pub dists: Vec<GeneratedDist>,
}

impl FreebsdMirror {
    pub fn dist(&self, name: &str) -> Option<&GeneratedDist> {
        self.dists.iter().find(|d| d.name == name)
    }
}

/// `make-manifest.sh`'s description of a distribution file.
fn description(name: &str) -> &'static str {
    match name {
        "base" => "Base system (MANDATORY)",
        "kernel" => "Kernel (MANDATORY)",
        "lib32" => "32-bit compatibility libraries",
        "ports" => "Ports tree",
        "src" => "System source code",
        "tests" => "Test suite",
        _ => "",
    }
}

/// `make-manifest.sh`'s default selection (`src` and `tests` off).
fn default_on(name: &str) -> &'static str {
    match name {
        "src" | "tests" | "doc" => "off",
        _ => "on",
    }
}

/// One `MANIFEST` line.
pub fn manifest_line(file_name: &str, sha256: &str, entries: usize) -> String {
    let name = file_name.strip_suffix(".txz").unwrap_or(file_name);
    format!(
        "{file_name}\t{sha256}\t{entries}\t{name}\t\"{}\"\t{}\n",
        description(name),
        default_on(name)
    )
}

/// Generate the mirror under `root` (created if missing).
pub fn generate_freebsd(root: &Path, opts: &FreebsdMirrorOptions) -> Result<FreebsdMirror> {
    for (what, v) in [
        ("release", &opts.release),
        ("machine", &opts.machine),
        ("arch", &opts.arch),
    ] {
        if v.is_empty()
            || v.starts_with('.')
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            bail!("synthetic mirror: {what} {v:?} must be letters, digits, '.', '_' or '-'");
        }
    }
    if opts.xz_preset > 9 {
        bail!("synthetic mirror: xz preset {} is not 0..9", opts.xz_preset);
    }
    let mirror_dir = root.join("pub/FreeBSD");
    let release_dir = mirror_dir
        .join("releases")
        .join(&opts.machine)
        .join(&opts.arch)
        .join(&opts.release);
    std::fs::create_dir_all(&release_dir)
        .with_context(|| format!("creating {}", release_dir.display()))?;
    let vocab = Vocabulary::new(opts.seed);
    let ctx = Ctx {
        opts,
        vocab: &vocab,
    };
    let schg: Vec<String> = SCHG_PATHS.iter().map(|s| s.to_string()).collect();
    let extra = |m: &SetMember| {
        if schg.contains(&m.path) {
            vec![("SCHILY.fflags", b"schg".to_vec())]
        } else {
            Vec::new()
        }
    };
    let mut dists = Vec::new();
    let mut manifest = String::new();
    for name in ["base", "kernel"] {
        let mut t = SetTree::new();
        match name {
            "base" => base(&ctx, &mut t),
            _ => kernel(&ctx, &mut t),
        }
        .with_context(|| format!("building the synthetic {name}.txz"))?;
        let mut items = resolve(&t)?;
        for (m, data) in items.iter_mut() {
            if let (EntryKind::File, Some(d)) = (&m.kind, data.as_ref()) {
                m.sha256 = Some(sha256_of(&vocab, d)?);
            }
        }
        let file_name = format!("{name}.txz");
        let path = release_dir.join(&file_name);
        write_archive(
            &path,
            &items,
            &vocab,
            opts.xz_preset,
            FREEBSD_MTIME,
            PaxNaming::Libarchive,
            &extra,
        )?;
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        manifest.push_str(&manifest_line(&file_name, &sha256, items.len()));
        let members: Vec<SetMember> = items.into_iter().map(|(m, _)| m).collect();
        let schg = members
            .iter()
            .filter(|m| SCHG_PATHS.contains(&m.path.as_str()))
            .map(|m| m.path.clone())
            .collect();
        dists.push(GeneratedDist {
            name: name.to_string(),
            file_name,
            path,
            sha256,
            members,
            schg,
        });
    }
    let mpath = release_dir.join("MANIFEST");
    std::fs::write(&mpath, manifest).with_context(|| format!("writing {}", mpath.display()))?;
    Ok(FreebsdMirror {
        root: root.to_path_buf(),
        mirror_dir,
        release_dir,
        dists,
    })
}

struct Ctx<'a> {
    opts: &'a FreebsdMirrorOptions,
    vocab: &'a Vocabulary,
}

impl Ctx<'_> {
    fn sz(&self, tiny: u64, realistic: u64) -> u64 {
        match self.opts.size {
            MirrorSize::Tiny => tiny,
            MirrorSize::Realistic => realistic,
        }
    }

    fn data(&self, set: &str, path: &str, kind: ContentKind, size: u64) -> Data {
        Data::Generated {
            kind,
            size,
            seed: file_seed(self.opts.seed, set, path),
        }
    }

    fn program(&self, t: &mut SetTree, path: &str, mode: u16, tiny: u64, real: u64) -> Result<()> {
        let d = self.data("base", path, ContentKind::Binary, self.sz(tiny, real));
        t.file(path, mode, root(), d)
    }

    fn elf(&self, set: &str, path: &str, size: u64) -> Data {
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let label = format!("/{path}");
        Data::Bytes(Arc::new(elf_standin(
            self.vocab,
            file_seed(self.opts.seed, set, path),
            size,
            &label,
        )))
    }
}

fn filler(seed: u64, out: &mut [u8]) {
    ChaCha8Rng::seed_from_u64(seed).fill_bytes(out);
}

/// `/boot/pmbr` stand-in: 512 bytes, `cld; xor %ax,%ax` then filler up to
/// the disk signature at 440, zero signature and partition table, and the
/// `0x55AA` boot signature (stand/i386/pmbr/pmbr.S).
pub fn pmbr(seed: u64) -> Vec<u8> {
    let mut b = vec![0u8; PMBR_SIZE];
    filler(seed ^ 0x706d_6272, &mut b[..440]);
    b[..3].copy_from_slice(&[0xfc, 0x31, 0xc0]);
    b[510] = 0x55;
    b[511] = 0xaa;
    b
}

/// `/boot/gptboot` stand-in: x86 code-like bytes, [`GPTBOOT_SIZE`] long.
pub fn gptboot(seed: u64) -> Vec<u8> {
    let mut b = vec![0u8; GPTBOOT_SIZE];
    filler(seed ^ 0x0067_7074_626f_6f74, &mut b);
    b[..2].copy_from_slice(&[0xeb, 0x3c]);
    let tag = b"mkimage-testkit stand-in /boot/gptboot\0";
    b[3..3 + tag.len()].copy_from_slice(tag);
    b
}

fn base(c: &Ctx, t: &mut SetTree) -> Result<()> {
    let wheel = root();
    for d in [
        "bin",
        "boot/defaults",
        "boot/firmware",
        "boot/modules",
        "dev",
        "etc/defaults",
        "etc/mtree",
        "etc/pkg",
        "etc/ssh",
        "home",
        "lib",
        "libexec",
        "media",
        "mnt",
        "net",
        "proc",
        "rescue",
        "sbin",
        "usr/bin",
        "usr/lib",
        "usr/libexec",
        "usr/sbin",
        "usr/share/misc",
        "usr/share/man/man1",
        "var/db",
        "var/log",
        "var/run",
        "var/tmp",
    ] {
        t.dir(d, 0o755, wheel.clone())?;
    }
    t.dir("root", 0o750, wheel.clone())?;
    t.dir("tmp", 0o1777, wheel.clone())?;
    t.dir("var/empty", 0o555, wheel.clone())?;
    t.dir("var/db/ntp", 0o755, etc::owner("ntpd", "ntpd")?)?;

    // boot code and loaders
    let seed = c.opts.seed;
    t.bytes("boot/pmbr", 0o444, pmbr(seed))?;
    t.bytes("boot/gptboot", 0o444, gptboot(seed))?;
    let loader_size = c.sz(64 * 1024, 512 * 1024);
    t.file(
        "boot/loader",
        0o555,
        root(),
        c.elf("base", "boot/loader", loader_size),
    )?;
    t.bytes("boot/loader.efi", 0o555, grub_efi(&c.opts.grub_cfg)?)?;
    t.bytes(
        "boot/defaults/loader.conf",
        0o444,
        etc::DEFAULTS_LOADER_CONF,
    )?;
    t.bytes(
        "boot/device.hints",
        0o644,
        "hint.uart.0.at=\"isa\"\nhint.uart.0.port=\"0x3F8\"\nhint.uart.0.flags=\"0x10\"\nhint.uart.0.irq=\"4\"\n",
    )?;

    // /etc
    t.bytes("etc/master.passwd", 0o600, etc::master_passwd())?;
    t.bytes("etc/passwd", 0o644, etc::passwd())?;
    t.bytes("etc/group", 0o644, etc::group())?;
    t.bytes("etc/defaults/rc.conf", 0o444, etc::DEFAULTS_RC_CONF)?;
    t.bytes("etc/ssh/sshd_config", 0o644, etc::SSHD_CONFIG)?;
    t.bytes(
        "etc/ssh/ssh_config",
        0o644,
        "#   Host *\n#   ForwardAgent no\n",
    )?;
    t.bytes("etc/ttys", 0o644, etc::TTYS)?;
    t.bytes("etc/login.conf", 0o644, etc::LOGIN_CONF)?;
    // cap_mkdb's hash database of login.conf: a binary stand-in
    let db = c.data("base", "etc/login.conf.db", ContentKind::Binary, 4096);
    t.file("etc/login.conf.db", 0o644, root(), db)?;
    t.bytes("etc/shells", 0o644, etc::SHELLS)?;
    t.bytes(
        "etc/hosts",
        0o644,
        "::1\t\tlocalhost localhost.my.domain\n127.0.0.1\tlocalhost localhost.my.domain\n",
    )?;
    t.bytes(
        "etc/pkg/FreeBSD.conf",
        0o644,
        "FreeBSD: {\n  url: \"pkg+https://pkg.example.org/${ABI}/quarterly\",\n  mirror_type: \"srv\",\n  signature_type: \"fingerprints\",\n  fingerprints: \"/usr/share/keys/pkg\",\n  enabled: yes\n}\n",
    )?;
    for name in ["root", "usr", "var"] {
        t.bytes(
            &format!("etc/mtree/BSD.{name}.dist"),
            0o444,
            etc::mtree_dist(name),
        )?;
    }
    t.symlink("etc/termcap", "/usr/share/misc/termcap")?;
    t.bytes(
        "usr/share/misc/termcap",
        0o444,
        "xterm|xterm-color:\\\n\t:co#80:li#24:\n",
    )?;

    // programs and libraries
    c.program(t, "bin/sh", 0o555, 24 * 1024, 160 * 1024)?;
    c.program(t, "bin/cat", 0o555, 4096, 16 * 1024)?;
    c.program(t, "bin/ls", 0o555, 8192, 48 * 1024)?;
    c.program(t, "bin/csh", 0o555, 8192, 400 * 1024)?;
    t.hardlink("bin/tcsh", "bin/csh")?;
    c.program(t, "sbin/init", 0o500, 8192, 64 * 1024)?;
    c.program(t, "lib/libc.so.7", 0o444, 32 * 1024, 1900 * 1024)?;
    c.program(t, "lib/libthr.so.3", 0o444, 8192, 120 * 1024)?;
    c.program(t, "libexec/ld-elf.so.1", 0o555, 8192, 120 * 1024)?;
    c.program(t, "usr/bin/env", 0o555, 4096, 16 * 1024)?;
    c.program(t, "usr/bin/id", 0o555, 4096, 16 * 1024)?;
    c.program(t, "usr/bin/su", 0o4555, 4096, 24 * 1024)?;
    c.program(t, "usr/bin/passwd", 0o4555, 4096, 24 * 1024)?;
    c.program(t, "usr/bin/chpass", 0o4555, 4096, 32 * 1024)?;
    t.hardlink("usr/bin/chfn", "usr/bin/chpass")?;
    t.hardlink("usr/bin/chsh", "usr/bin/chpass")?;
    let wall = c.data("base", "usr/bin/wall", ContentKind::Binary, 4096);
    t.file("usr/bin/wall", 0o2555, etc::owner("root", "tty")?, wall)?;
    c.program(t, "usr/sbin/sshd", 0o555, 16 * 1024, 900 * 1024)?;
    c.program(t, "usr/sbin/pwd_mkdb", 0o555, 4096, 24 * 1024)?;
    c.program(t, "usr/sbin/pkg", 0o555, 4096, 40 * 1024)?;
    c.program(t, "usr/libexec/sftp-server", 0o555, 4096, 60 * 1024)?;
    let man = c.data(
        "base",
        "usr/share/man/man1/sh.1.gz",
        ContentKind::Text,
        2048,
    );
    t.file("usr/share/man/man1/sh.1.gz", 0o444, root(), man)?;
    t.symlink("sys", "usr/src/sys")?;

    if c.opts.size == MirrorSize::Realistic {
        for i in 0..2000u32 {
            let path = format!("usr/share/man/man1/page{i}.1.gz");
            let size = 1024 + u64::from(i % 64) * 512;
            let d = c.data("base", &path, ContentKind::Text, size);
            t.file(&path, 0o444, root(), d)?;
        }
    }
    Ok(())
}

fn kernel(c: &Ctx, t: &mut SetTree) -> Result<()> {
    t.dir("boot", 0o755, root())?;
    t.dir("boot/kernel", 0o755, root())?;
    let size = c.sz(600 * 1024, 30 * 1024 * 1024);
    t.file(
        "boot/kernel/kernel",
        0o555,
        root(),
        c.elf("kernel", "boot/kernel/kernel", size),
    )?;
    for m in ["nullfs.ko", "tmpfs.ko", "zfs.ko", "if_bridge.ko"] {
        let path = format!("boot/kernel/{m}");
        let size = c.sz(16 * 1024, 400 * 1024);
        t.file(&path, 0o555, root(), c.elf("kernel", &path, size))?;
    }
    t.bytes("boot/kernel/linker.hints", 0o444, vec![1u8, 0, 0, 0])?;
    Ok(())
}

/// The owner `uname:gname` with FreeBSD's stock ids (for tests that build
/// their own trees).
pub fn freebsd_owner(uname: &str, gname: &str) -> Result<Owner> {
    etc::owner(uname, gname)
}
