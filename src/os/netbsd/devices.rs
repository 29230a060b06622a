//! `/dev` for NetBSD/amd64 built at image-build time, so that init never
//! has to run `MAKEDEV` on a memory file system at boot (which it would do
//! on every job of the builds service).
//!
//! The rules are NetBSD's own, kept as data plus a few expansion functions
//! that mirror the cases of `etc/MAKEDEV.tmpl` (revision 1.234,
//! 2023/11/06) specialised for amd64 the way `etc/MAKEDEV.awk` does it
//! (`MAXPARTITIONS` 16 → `makedisk_p16`, `RAW_PART` 3 → raw partition `d`,
//! disk minor offset 16). Majors come from `sys/arch/amd64/conf/majors.amd64`
//! (revision 1.36, 2022/05/25) and `sys/conf/majors` (revision 1.93,
//! 2020/01/19). Owners and groups are names, resolved through NetBSD's
//! `etc/master.passwd` and `etc/group` numbers by default.
//!
//! Coverage: the MI part of `all)` that matters on a virtual machine and
//! the amd64 `all_md` devices for disks (wd, sd, ld, cd, nvme, xbd),
//! serial ports, wscons, PCI, audio and sysmon. Left out (hardware a QEMU
//! guest does not have, or obsolete): floppy, tape, SCSI changer and
//! scanner, parallel ports, RAID-controller control nodes, USB, bktr,
//! Cyclades, ISDN, MIDI, IrDA, GPIO, DRM, video, DVB, firewire, flash,
//! efi. `MAKEDEV` itself stays in `/dev` (it comes from the `etc` set) for
//! anything else.

use anyhow::{Result, anyhow};

use crate::entry::{Entry, EntryKind, Timestamp};

/// `device-major` lines of majors.amd64 1.36 and sys/conf/majors 1.93
/// that the targets below use: name, `char N`, optionally `block N`.
const MAJORS: &str = "
    cons        char 0
    ctty        char 1
    mem         char 2
    wd          char 3  block 0
    swap        char 4  block 1
    pts         char 5
    ptc         char 6
    log         char 7
    com         char 8
    sd          char 13  block 4
    cd          char 15  block 6
    ccd         char 18  block 16
    filedesc    char 22
    bpf         char 23
    md          char 24  block 17
    tun         char 40
    vnd         char 41  block 14
    audio       char 42
    ipl         char 44
    rnd         char 46
    wsdisplay   char 47
    wskbd       char 48
    wsmouse     char 49
    vcoda       char 60
    raid        char 62  block 18
    wsmux       char 65
    sysmon      char 67
    ld          char 69  block 19
    clockctl    char 79
    cgd         char 81  block 20
    pci         char 83
    ksyms       char 85
    wsfont      char 86
    xenevt      char 141
    xbd         char 142  block 142
    xencons     char 143
    crypto      char 160
    pf          char 161
    fss         char 163  block 163
    ptm         char 165
    atabus      char 166
    drvctl      char 167
    dk          char 168  block 168
    tap         char 169
    veriexec    char 170
    lockstat    char 177
    putter      char 178
    srt         char 179
    bio         char 181
    cpuctl      char 188
    pad         char 189
    hdaudio     char 195
    npf         char 198
    iscsi       char 203
    spkr        char 240
    nvme        char 341
    qemufwcfg   char 342
    autofs      char 343
";

/// The character and block majors of `name` in [`MAJORS`].
fn major(name: &str) -> Result<(Option<u32>, Option<u32>)> {
    for line in MAJORS.lines() {
        let mut words = line.split_whitespace();
        if words.next() != Some(name) {
            continue;
        }
        let (mut chr, mut blk) = (None, None);
        while let (Some(kind), Some(num)) = (words.next(), words.next()) {
            let num: u32 = num
                .parse()
                .map_err(|_| anyhow!("bad major {num} for {name} in the majors table"))?;
            match kind {
                "char" => chr = Some(num),
                "block" => blk = Some(num),
                _ => return Err(anyhow!("bad majors table line {line:?}")),
            }
        }
        return Ok((chr, blk));
    }
    Err(anyhow!(
        "no device major named {name} in the amd64 majors table"
    ))
}

/// The `all_md)` case of `etc/etc.amd64/MAKEDEV.conf` (revision 1.23 is
/// the newest the reference index holds; obsolete and hardware-only
/// targets dropped as described above), as MAKEDEV words.
pub const ALL_MD: &str = "
    std wscons
    wd0 wd1 wd2 wd3 wd4 wd5 wd6 wd7
    sd0 sd1 sd2 sd3 sd4 sd5 sd6 sd7
    tty0 tty1 tty2 tty3
    cd0 cd1 vnd0
    bpf
    ccd0 md0 random
    cgd0 cgd1
    nvme0 nvme0ns1 nvme0ns2 nvme0ns3 nvme0ns4
    nvme1 nvme1ns1 nvme1ns2 nvme1ns3 nvme1ns4
    nvme2 nvme2ns1 nvme2ns2 nvme2ns3 nvme2ns4
    nvme3 nvme3ns1 nvme3ns2 nvme3ns3 nvme3ns4
    raid0 raid1 raid2 raid3
    ld0 ld1 ld2 ld3
    xbd0 xbd1 xbd2 xbd3 xen
    cfs
    speaker
    audio
    sysmon
    pci0 pci1 pci2 pci3 pci4 pci5 pci6 pci7
    pci8 pci9 pci10 pci11
    bio
";

/// The machine-independent `all)` case of `etc/MAKEDEV.tmpl` 1.234 (after
/// `makedev all_md`), as MAKEDEV words.
pub const ALL_MI: &str = "
    std fd ptm
    dk0 dk1 dk2 dk3 dk4 dk5 dk6 dk7
    dk8 dk9 dk10 dk11 dk12 dk13 dk14 dk15
    dk16 dk17 dk18 dk19 dk20 dk21 dk22 dk23
    dk24 dk25 dk26 dk27 dk28 dk29 dk30 dk31
    ccd0 ccd1 ccd2 ccd3
    cgd0 cgd1 cgd2 cgd3 cgd4 cgd5 cgd6 cgd7
    fss0 fss1 fss2 fss3
    md0 md1
    raid0 raid1 raid2 raid3 raid4 raid5 raid6 raid7
    vnd0 vnd1 vnd2 vnd3
    iscsi0
    bpf npf
    tun0 tun1 tun2 tun3
    ipl pf crypto random
    lockstat clockctl cpuctl
    atabus0 atabus1 atabus2 atabus3 atabus4 atabus5 atabus6 atabus7
    srt0 srt1 srt2 srt3
    tap tap0 tap1 tap2 tap3
    pad pad0 pad1 pad2 pad3
    putter
    drvctl
    veriexec
    autofs
    qemufwcfg
";

/// What `makedev all` expands to on amd64, in MAKEDEV's order: `all_md`,
/// then the MI part. Each word is a target understood by [`expand`].
pub fn all_targets() -> impl Iterator<Item = &'static str> {
    ALL_MD.split_whitespace().chain(ALL_MI.split_whitespace())
}

/// `dialout` in MAKEDEV's setup(): minor offset of the dial-out tty.
const DIALOUT: u32 = 524288;
/// Partitions per disk on amd64 (`MAXPARTITIONS`).
const MAXPARTITIONS: u32 = 16;
/// The raw partition on amd64 (`RAW_PART`, partition `d`).
const RAW_PART: u32 = 3;

/// What a node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    Char {
        major: u32,
        minor: u32,
    },
    Block {
        major: u32,
        minor: u32,
    },
    Dir,
    /// A symbolic link and its target (relative to `/dev`).
    Symlink(String),
}

/// One `/dev` node: name relative to `/dev`, kind, mode, owner and group
/// by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevNode {
    pub name: String,
    pub kind: NodeKind,
    pub mode: u16,
    pub owner: &'static str,
    pub group: &'static str,
}

fn chr(name: &str) -> Result<u32> {
    major(name)?
        .0
        .ok_or_else(|| anyhow!("{name} has no character major"))
}

fn blk(name: &str) -> Result<u32> {
    major(name)?
        .1
        .ok_or_else(|| anyhow!("{name} has no block major"))
}

/// Collects nodes the way MAKEDEV's `mkdev`, `lndev` and `makedir` do.
#[derive(Default)]
struct Out(Vec<DevNode>);

impl Out {
    /// `mkdev name c|b major minor [mode [gid [uid]]]`; defaults 600,
    /// wheel, root.
    fn dev(
        &mut self,
        name: String,
        kind: NodeKind,
        mode: u16,
        group: &'static str,
        owner: &'static str,
    ) {
        self.0.push(DevNode {
            name,
            kind,
            mode,
            owner,
            group,
        });
    }
    fn c(
        &mut self,
        name: impl Into<String>,
        major: u32,
        minor: u32,
        mode: u16,
        group: &'static str,
    ) {
        self.dev(
            name.into(),
            NodeKind::Char { major, minor },
            mode,
            group,
            "root",
        );
    }
    fn b(
        &mut self,
        name: impl Into<String>,
        major: u32,
        minor: u32,
        mode: u16,
        group: &'static str,
    ) {
        self.dev(
            name.into(),
            NodeKind::Block { major, minor },
            mode,
            group,
            "root",
        );
    }
    /// `lndev src target`: a link named `target` pointing at `src`;
    /// created with MAKEDEV's umask 077, so mode 0700.
    fn ln(&mut self, src: &str, target: &str) {
        self.0.push(DevNode {
            name: target.into(),
            kind: NodeKind::Symlink(src.into()),
            mode: 0o700,
            owner: "root",
            group: "wheel",
        });
    }
    fn dir(&mut self, name: &str, mode: u16) {
        self.0.push(DevNode {
            name: name.into(),
            kind: NodeKind::Dir,
            mode,
            owner: "root",
            group: "wheel",
        });
    }
}

/// `makedisk_p16 name unit blk chr`: whole-disk nodes on the raw
/// partition, then `a`..`p` block and raw character nodes, 640
/// root:operator.
fn makedisk_p16(o: &mut Out, name: &str, unit: u32, b: u32, c: u32) {
    let base = unit * MAXPARTITIONS;
    o.b(
        format!("{name}{unit}"),
        b,
        base + RAW_PART,
        0o640,
        "operator",
    );
    o.c(
        format!("r{name}{unit}"),
        c,
        base + RAW_PART,
        0o640,
        "operator",
    );
    for p in 0..MAXPARTITIONS {
        let letter = char::from(b'a' + p as u8);
        o.b(
            format!("{name}{unit}{letter}"),
            b,
            base + p,
            0o640,
            "operator",
        );
    }
    for p in 0..MAXPARTITIONS {
        let letter = char::from(b'a' + p as u8);
        o.c(
            format!("r{name}{unit}{letter}"),
            c,
            base + p,
            0o640,
            "operator",
        );
    }
}

/// `makedisk_minimal name unit blk chr`: whole disk, `a` and the raw
/// partition only.
fn makedisk_minimal(o: &mut Out, name: &str, unit: u32, b: u32, c: u32) {
    let base = unit * MAXPARTITIONS;
    let raw = char::from(b'a' + RAW_PART as u8);
    o.b(
        format!("{name}{unit}"),
        b,
        base + RAW_PART,
        0o640,
        "operator",
    );
    o.c(
        format!("r{name}{unit}"),
        c,
        base + RAW_PART,
        0o640,
        "operator",
    );
    o.b(format!("{name}{unit}a"), b, base, 0o640, "operator");
    o.b(
        format!("{name}{unit}{raw}"),
        b,
        base + RAW_PART,
        0o640,
        "operator",
    );
    o.c(format!("r{name}{unit}a"), c, base, 0o640, "operator");
    o.c(
        format!("r{name}{unit}{raw}"),
        c,
        base + RAW_PART,
        0o640,
        "operator",
    );
}

/// Split `wd12` into (`wd`, 12).
fn split_unit(target: &str) -> Option<(&str, u32)> {
    let at = target.find(|c: char| c.is_ascii_digit())?;
    let (name, digits) = target.split_at(at);
    Some((name, digits.parse().ok()?))
}

fn expand_into(o: &mut Out, target: &str) -> Result<()> {
    match target {
        "std" => {
            let (cons, mem) = (chr("cons")?, chr("mem")?);
            o.c("console", cons, 0, 0o600, "wheel");
            o.c("constty", cons, 1, 0o600, "wheel");
            o.c("drum", chr("swap")?, 0, 0o640, "kmem");
            o.c("kmem", mem, 1, 0o640, "kmem");
            o.c("mem", mem, 0, 0o640, "kmem");
            o.c("null", mem, 2, 0o666, "wheel");
            o.c("full", mem, 11, 0o666, "wheel");
            o.c("zero", mem, 12, 0o666, "wheel");
            o.c("klog", chr("log")?, 0, 0o600, "wheel");
            o.c("ksyms", chr("ksyms")?, 0, 0o440, "kmem");
            o.c("random", chr("rnd")?, 0, 0o444, "wheel");
            o.c("urandom", chr("rnd")?, 1, 0o644, "wheel");
            o.c("tty", chr("ctty")?, 0, 0o666, "wheel");
            let fd = chr("filedesc")?;
            o.c("stdin", fd, 0, 0o666, "wheel");
            o.c("stdout", fd, 1, 0o666, "wheel");
            o.c("stderr", fd, 2, 0o666, "wheel");
        }
        "fd" => {
            o.dir("fd", 0o755);
            let fd = chr("filedesc")?;
            for n in 0..64 {
                o.c(format!("fd/{n}"), fd, n, 0o666, "wheel");
            }
        }
        "ptm" => {
            o.dir("pts", 0o755);
            o.c("ptmx", chr("ptm")?, 0, 0o666, "wheel");
            o.c("ptm", chr("ptm")?, 1, 0o666, "wheel");
        }
        "wscons" => {
            let wsd = chr("wsdisplay")?;
            for (letter, base) in [('E', 0u32), ('F', 256), ('G', 512), ('H', 768)] {
                for unit in 0..8 {
                    o.c(
                        format!("tty{letter}{unit}"),
                        wsd,
                        base + unit,
                        0o600,
                        "wheel",
                    );
                }
            }
            for unit in 0..4 {
                o.c(
                    format!("wsmouse{unit}"),
                    chr("wsmouse")?,
                    unit,
                    0o600,
                    "wheel",
                );
            }
            for unit in 0..4 {
                o.c(format!("wskbd{unit}"), chr("wskbd")?, unit, 0o600, "wheel");
            }
            let mux = chr("wsmux")?;
            for unit in 0..4 {
                o.c(format!("wsmux{unit}"), mux, unit, 0o600, "wheel");
                o.c(format!("wsmuxctl{unit}"), mux, unit + 128, 0o200, "wheel");
            }
            o.c("wsmouse", mux, 0, 0o600, "wheel");
            o.c("wskbd", mux, 1, 0o600, "wheel");
            for (letter, base) in [('E', 0u32), ('F', 256), ('G', 512), ('H', 768)] {
                o.c(format!("tty{letter}cfg"), wsd, base + 255, 0o600, "wheel");
                o.c(format!("tty{letter}stat"), wsd, base + 254, 0o600, "wheel");
            }
            o.c("wsfont", chr("wsfont")?, 0, 0o644, "wheel");
        }
        "random" => {
            o.c("random", chr("rnd")?, 0, 0o444, "wheel");
            o.c("urandom", chr("rnd")?, 1, 0o644, "wheel");
        }
        "bpf" => {
            o.c("bpf", chr("bpf")?, 0, 0o600, "wheel");
            o.ln("bpf", "bpf0");
        }
        "npf" => o.c("npf", chr("npf")?, 0, 0o600, "wheel"),
        "ipl" => {
            let ipl = chr("ipl")?;
            for (i, n) in [
                "ipl", "ipnat", "ipstate", "ipauth", "ipsync", "ipscan", "iplookup",
            ]
            .iter()
            .enumerate()
            {
                o.c(*n, ipl, i as u32, 0o600, "wheel");
            }
        }
        "pf" => o.c("pf", chr("pf")?, 0, 0o600, "wheel"),
        "crypto" => o.c("crypto", chr("crypto")?, 0, 0o666, "wheel"),
        "lockstat" => o.c("lockstat", chr("lockstat")?, 0, 0o600, "wheel"),
        "clockctl" => o.c("clockctl", chr("clockctl")?, 0, 0o660, "ntpd"),
        "cpuctl" => o.c("cpuctl", chr("cpuctl")?, 0, 0o666, "wheel"),
        "speaker" => o.c("speaker", chr("spkr")?, 0, 0o600, "wheel"),
        "tap" => o.c("tap", chr("tap")?, 0xfffff, 0o600, "wheel"),
        "putter" => {
            o.c("putter", chr("putter")?, 0, 0o600, "wheel");
            o.c("pud", chr("putter")?, 1, 0o600, "wheel");
            o.ln("putter", "puffs");
        }
        "drvctl" => o.c("drvctl", chr("drvctl")?, 0, 0o644, "wheel"),
        "veriexec" => o.c("veriexec", chr("veriexec")?, 0, 0o600, "wheel"),
        "autofs" => o.c("autofs", chr("autofs")?, 0, 0o600, "wheel"),
        "qemufwcfg" => {
            o.c("qemufwcfg0", chr("qemufwcfg")?, 0, 0o660, "wheel");
            o.ln("qemufwcfg0", "qemufwcfg");
        }
        "xen" => {
            o.c("xenevt", chr("xenevt")?, 0, 0o600, "wheel");
            o.c("xencons", chr("xencons")?, 0, 0o600, "wheel");
            o.c("xsd_kva", chr("xenevt")?, 1, 0o600, "wheel");
        }
        "cfs" => o.c("cfs0", chr("vcoda")?, 0, 0o600, "wheel"),
        "bio" => o.c("bio", chr("bio")?, 0, 0o600, "wheel"),
        "pad" => {
            for unit in 0..4 {
                o.c(format!("pad{unit}"), chr("pad")?, unit, 0o444, "wheel");
            }
            o.ln("pad0", "pad");
        }
        "sysmon" => {
            let s = chr("sysmon")?;
            o.c("sysmon", s, 0, 0o644, "wheel");
            o.c("watchdog", s, 1, 0o644, "wheel");
            o.c("power", s, 2, 0o640, "wheel");
        }
        "audio" => {
            let a = chr("audio")?;
            for unit in 0..4 {
                o.c(format!("sound{unit}"), a, unit, 0o666, "wheel");
                o.c(format!("audio{unit}"), a, unit + 128, 0o666, "wheel");
                o.c(format!("mixer{unit}"), a, unit + 16, 0o666, "wheel");
                o.c(format!("audioctl{unit}"), a, unit + 192, 0o666, "wheel");
            }
            for unit in 0..4 {
                o.c(
                    format!("hdaudio{unit}"),
                    chr("hdaudio")?,
                    unit,
                    0o644,
                    "wheel",
                );
            }
            o.ln("sound0", "sound");
            o.ln("audio0", "audio");
            o.ln("mixer0", "mixer");
            o.ln("audioctl0", "audioctl");
        }
        _ => {
            if let Some(rest) = target.strip_prefix("nvme") {
                // nvme<unit> and nvme<unit>ns<nsid>: minor unit * 65536 + nsid.
                let (unit, ns) = match rest.split_once("ns") {
                    Some((u, n)) => (u, n),
                    None => (rest, "0"),
                };
                let unit: u32 = unit
                    .parse()
                    .map_err(|_| anyhow!("bad MAKEDEV target {target}"))?;
                let ns: u32 = ns
                    .parse()
                    .map_err(|_| anyhow!("bad MAKEDEV target {target}"))?;
                o.c(target, chr("nvme")?, unit * 65536 + ns, 0o600, "wheel");
                return Ok(());
            }
            let (name, unit) = split_unit(target)
                .ok_or_else(|| anyhow!("MAKEDEV target {target} is not supported"))?;
            match name {
                "wd" | "sd" | "ld" | "vnd" | "ccd" | "raid" | "cgd" | "xbd" => {
                    makedisk_p16(o, name, unit, blk(name)?, chr(name)?)
                }
                "cd" | "md" => makedisk_minimal(o, name, unit, blk(name)?, chr(name)?),
                "dk" => {
                    o.c(format!("rdk{unit}"), chr("dk")?, unit, 0o640, "operator");
                    o.b(format!("dk{unit}"), blk("dk")?, unit, 0o640, "operator");
                }
                "fss" => {
                    o.b(format!("fss{unit}"), blk("fss")?, unit, 0o660, "operator");
                    o.c(format!("rfss{unit}"), chr("fss")?, unit, 0o660, "operator");
                }
                "tty" => {
                    // The com(4) case: tty00.. and dty00.., owned by uucp.
                    let com = chr("com")?;
                    let tty = NodeKind::Char {
                        major: com,
                        minor: unit,
                    };
                    let dty = NodeKind::Char {
                        major: com,
                        minor: unit + DIALOUT,
                    };
                    o.dev(format!("tty{unit:02}"), tty, 0o600, "wheel", "uucp");
                    o.dev(format!("dty{unit:02}"), dty, 0o600, "wheel", "uucp");
                }
                "tun" => o.c(format!("tun{unit}"), chr("tun")?, unit, 0o600, "wheel"),
                "tap" => o.c(format!("tap{unit}"), chr("tap")?, unit, 0o600, "wheel"),
                "atabus" => o.c(
                    format!("atabus{unit}"),
                    chr("atabus")?,
                    unit,
                    0o644,
                    "wheel",
                ),
                "srt" => o.c(format!("srt{unit}"), chr("srt")?, unit, 0o600, "wheel"),
                "iscsi" => o.c(format!("iscsi{unit}"), chr("iscsi")?, unit, 0o600, "wheel"),
                "pci" => o.c(format!("pci{unit}"), chr("pci")?, unit, 0o640, "wheel"),
                "pad" => o.c(format!("pad{unit}"), chr("pad")?, unit, 0o444, "wheel"),
                _ => return Err(anyhow!("MAKEDEV target {target} is not supported")),
            }
        }
    }
    Ok(())
}

/// The nodes one MAKEDEV target creates, in MAKEDEV's order.
pub fn expand(target: &str) -> Result<Vec<DevNode>> {
    let mut o = Out::default();
    expand_into(&mut o, target)?;
    Ok(o.0)
}

/// Every node `MAKEDEV all` creates (within the coverage described at the
/// top), each name once: a later creation replaces an earlier one in place
/// (MAKEDEV's `mknod -r`), so the order is that of first creation.
pub fn makedev_all() -> Result<Vec<DevNode>> {
    let mut nodes: Vec<DevNode> = Vec::new();
    let mut index = std::collections::BTreeMap::<String, usize>::new();
    for t in all_targets() {
        for n in expand(t)? {
            match index.get(&n.name) {
                Some(&i) => nodes[i] = n,
                None => {
                    index.insert(n.name.clone(), nodes.len());
                    nodes.push(n);
                }
            }
        }
    }
    Ok(nodes)
}

/// User ids of NetBSD's `etc/master.passwd` for the owners MAKEDEV uses.
pub fn netbsd_uid(name: &str) -> Option<u32> {
    match name {
        "root" => Some(0),
        "uucp" => Some(66),
        _ => None,
    }
}

/// Group ids of NetBSD's `etc/group` for the groups MAKEDEV uses.
pub fn netbsd_gid(name: &str) -> Option<u32> {
    match name {
        "wheel" => Some(0),
        "kmem" => Some(2),
        "tty" => Some(4),
        "operator" => Some(5),
        "ntpd" => Some(15),
        "_gpio" => Some(29),
        "nvmm" => Some(34),
        _ => None,
    }
}

/// Entries under `dev/` for every node of [`makedev_all`], with all times
/// set to `time` and owners resolved by `uid_of`/`gid_of` (pass
/// [`netbsd_uid`]/[`netbsd_gid`], or lookups in the image's own
/// `master.passwd` and `group`).
pub fn dev_entries(
    time: Timestamp,
    uid_of: &dyn Fn(&str) -> Option<u32>,
    gid_of: &dyn Fn(&str) -> Option<u32>,
) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    for n in makedev_all()? {
        let uid =
            uid_of(n.owner).ok_or_else(|| anyhow!("no user {} for /dev/{}", n.owner, n.name))?;
        let gid =
            gid_of(n.group).ok_or_else(|| anyhow!("no group {} for /dev/{}", n.group, n.name))?;
        let path = format!("dev/{}", n.name);
        let kind = match n.kind {
            NodeKind::Char { major, minor } => EntryKind::CharDevice { major, minor },
            NodeKind::Block { major, minor } => EntryKind::BlockDevice { major, minor },
            NodeKind::Dir => EntryKind::Dir,
            NodeKind::Symlink(t) => EntryKind::Symlink(t),
        };
        out.push(Entry::new(path, kind, n.mode, time).owned(uid, gid));
    }
    Ok(out)
}
