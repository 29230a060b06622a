//! The synthetic FreeBSD mirror: the real layout, a MANIFEST that
//! `sha256sum` and `tar` agree with, bsdtar-style pax headers with
//! `SCHILY.fflags=schg` that our archive reader turns into
//! `SF_IMMUTABLE`, the boot stand-ins, and the same bytes from the same seed.

mod freebsd_common;

use std::collections::BTreeMap;
use std::fs;

use freebsd_common::*;
use mkimage::entry::{Entry, EntryKind, EntrySink};
use mkimage::fetch::mirror::{ReleaseLayout, join};
use mkimage::source::archive::read_archive;
use mkimage::testkit::mirror::freebsd::{GPTBOOT_SIZE, SCHG_PATHS, SF_IMMUTABLE};

#[test]
fn release_directory_is_where_the_fetch_layer_looks() {
    let d = tempfile::tempdir().unwrap();
    let m = mirror(d.path(), 1);
    let layout = ReleaseLayout::FreeBsd {
        release: "14.3".into(),
        machine: "amd64".into(),
        arch: "amd64".into(),
    };
    let mirror_url = format!("{}/", m.mirror_dir.display());
    let dir = join(&mirror_url, &layout.release_dir());
    assert_eq!(
        dir,
        format!(
            "{}/pub/FreeBSD/releases/amd64/amd64/14.3-RELEASE/",
            d.path().display()
        )
    );
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["MANIFEST", "base.txz", "kernel.txz"]);
    let text = fs::read_to_string(m.release_dir.join("MANIFEST")).unwrap();
    let parsed = layout.parse_checksums(&text, "MANIFEST").unwrap();
    assert_eq!(
        parsed.get("base.txz").unwrap().hex(),
        m.dist("base").unwrap().sha256
    );
}

#[test]
fn manifest_lines_agree_with_sha256sum_and_tar_listings() {
    let d = tempfile::tempdir().unwrap();
    let m = mirror(d.path(), 7);
    let manifest = fs::read_to_string(m.release_dir.join("MANIFEST")).unwrap();
    let lines: Vec<&str> = manifest.lines().collect();
    assert_eq!(lines.len(), 2);
    for (line, (name, desc)) in lines.iter().zip([
        ("base", "Base system (MANDATORY)"),
        ("kernel", "Kernel (MANDATORY)"),
    ]) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f.len(), 6, "{line}");
        let file = format!("{name}.txz");
        assert_eq!(f[0], file);
        let (sum, _) = run(tool("sha256sum").arg(m.release_dir.join(&file)));
        assert_eq!(f[1], sum.split_whitespace().next().unwrap());
        let (list, _) = run(tool("tar").arg("-tJf").arg(m.release_dir.join(&file)));
        assert_eq!(f[2], list.lines().count().to_string());
        assert_eq!(f[3], name);
        assert_eq!(f[4], format!("\"{desc}\""));
        assert_eq!(f[5], "on");
    }
}

#[test]
fn archives_use_dot_relative_names_and_carry_schg_in_pax_headers() {
    let d = tempfile::tempdir().unwrap();
    let m = mirror(d.path(), 3);
    let base = m.release_dir.join("base.txz");
    let (list, warnings) = run(tool("tar").arg("-tvJf").arg(&base));
    let names: Vec<&str> = list
        .lines()
        .map(|l| l.split_whitespace().nth(5).unwrap())
        .collect();
    assert_eq!(names[0], ".");
    assert!(
        names.iter().all(|n| *n == "." || n.starts_with("./")),
        "{names:?}"
    );
    for p in [
        "./lib/libc.so.7",
        "./libexec/ld-elf.so.1",
        "./boot/pmbr",
        "./etc/ttys",
    ] {
        assert!(names.contains(&p), "{p} missing");
    }
    // No /etc/rc.conf: the installer writes it.
    assert!(!names.contains(&"./etc/rc.conf"));
    assert!(names.contains(&"./etc/defaults/rc.conf"));
    // GNU tar does not know SCHILY.fflags: it says so once per header.
    let ignored = warnings
        .lines()
        .filter(|l| l.contains("unknown extended header keyword 'SCHILY.fflags'"))
        .count();
    assert_eq!(ignored, SCHG_PATHS.len(), "{warnings}");
    // The pax header names are libarchive's: <dir>/PaxHeader/<name>.
    let raw = run(tool("sh")
        .arg("-c")
        .arg(format!("xz -dc {} | strings", base.display())))
    .0;
    assert!(
        raw.contains("./lib/PaxHeader/libc.so.7"),
        "no libarchive pax name"
    );
    assert!(raw.contains("22 SCHILY.fflags=schg"));
}

/// Collects entries with their flags.
#[derive(Default)]
struct Collect(BTreeMap<String, (EntryKind, u32, u16, u64)>);

impl EntrySink for Collect {
    fn add(&mut self, entry: &Entry, data: &mut dyn std::io::Read) -> anyhow::Result<()> {
        let mut n = 0u64;
        let mut buf = [0u8; 8192];
        loop {
            let k = data.read(&mut buf)?;
            if k == 0 {
                break;
            }
            n += k as u64;
        }
        self.0.insert(
            entry.path.clone(),
            (entry.kind.clone(), entry.flags, entry.mode, n),
        );
        Ok(())
    }
}

#[test]
fn our_reader_turns_schg_into_sf_immutable_on_exactly_those_files() {
    let d = tempfile::tempdir().unwrap();
    let m = mirror(d.path(), 3);
    let mut c = Collect::default();
    let f = fs::File::open(m.release_dir.join("base.txz")).unwrap();
    let r = mkimage::source::archive::open_decompressed(f).unwrap();
    read_archive(r, "base.txz", &mut c).unwrap();
    assert_eq!(SF_IMMUTABLE, 0x0002_0000);
    for (path, (_, flags, _, _)) in &c.0 {
        let want = if SCHG_PATHS.contains(&path.as_str()) {
            SF_IMMUTABLE
        } else {
            0
        };
        assert_eq!(*flags, want, "{path}");
    }
    let (_, _, mode, _) = c.0["usr/bin/passwd"];
    assert_eq!(mode, 0o4555);
    // Archive order is by name: chfn carries the data, chpass and chsh link to it.
    assert!(matches!(&c.0["usr/bin/chfn"].0, EntryKind::File));
    assert!(matches!(&c.0["usr/bin/chpass"].0, EntryKind::HardLink(t) if t == "usr/bin/chfn"));
}

#[test]
fn boot_stand_ins_have_the_shapes_an_image_writer_checks() {
    let d = tempfile::tempdir().unwrap();
    let m = mirror(d.path(), 5);
    let x = d.path().join("x");
    fs::create_dir(&x).unwrap();
    run(tool("tar")
        .arg("-xJf")
        .arg(m.release_dir.join("base.txz"))
        .arg("-C")
        .arg(&x)
        .args([
            "./boot",
            "./etc/master.passwd",
            "./etc/ttys",
            "./etc/ssh/sshd_config",
        ]));
    let pmbr = fs::read(x.join("boot/pmbr")).unwrap();
    assert_eq!(pmbr.len(), 512);
    assert_eq!(&pmbr[510..], &[0x55, 0xaa]);
    assert!(pmbr[440..510].iter().all(|b| *b == 0));
    let gptboot = fs::read(x.join("boot/gptboot")).unwrap();
    assert_eq!(gptboot.len(), GPTBOOT_SIZE);
    assert!(gptboot.len() <= 512 * 1024);
    let efi = fs::read(x.join("boot/loader.efi")).unwrap();
    assert_eq!(&efi[..2], b"MZ", "loader.efi is not a PE image");
    assert!(x.join("boot/loader").is_file());
    assert!(x.join("boot/defaults/loader.conf").is_file());
    let mp = fs::read_to_string(x.join("etc/master.passwd")).unwrap();
    for line in [
        "root::0:0::0:0:Charlie &:/root:/bin/sh",
        "sshd:*:22:22::0:0:Secure Shell Daemon:/var/empty:/usr/sbin/nologin",
        "ntpd:*:123:123::0:0:NTP Daemon:/var/db/ntp:/usr/sbin/nologin",
        "nobody:*:65534:65534::0:0:Unprivileged user:/nonexistent:/usr/sbin/nologin",
    ] {
        assert!(mp.lines().any(|l| l == line), "{line}");
    }
    let ttys = fs::read_to_string(x.join("etc/ttys")).unwrap();
    assert!(ttys.contains("ttyu0\t\"/usr/libexec/getty 3wire\"\tvt100\tonifconsole secure"));
    let sshd = fs::read_to_string(x.join("etc/ssh/sshd_config")).unwrap();
    assert!(sshd.lines().any(|l| l == "#UsePAM yes"));
    assert!(sshd.lines().any(|l| l == "#PermitEmptyPasswords no"));
    let (klist, _) = run(tool("tar")
        .arg("-tJf")
        .arg(m.release_dir.join("kernel.txz")));
    assert!(klist.lines().any(|l| l == "./boot/kernel/kernel"));
    assert!(klist.lines().any(|l| l.ends_with(".ko")));
}

#[test]
fn same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let d = tempfile::tempdir().unwrap();
    let a = mirror(&d.path().join("a"), 11);
    let b = mirror(&d.path().join("b"), 11);
    let c = mirror(&d.path().join("c"), 12);
    for f in ["base.txz", "kernel.txz", "MANIFEST"] {
        let fa = fs::read(a.release_dir.join(f)).unwrap();
        assert_eq!(fa, fs::read(b.release_dir.join(f)).unwrap(), "{f}");
        assert_ne!(fa, fs::read(c.release_dir.join(f)).unwrap(), "{f}");
    }
}

#[test]
fn testkit_command_writes_the_same_mirror() {
    let d = tempfile::tempdir().unwrap();
    let lib = mirror(&d.path().join("lib"), 2);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mkimage-testkit"))
        .args(["-q", "mirror", "freebsd", "--seed", "2"])
        .arg(d.path().join("cli"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let cli = d
        .path()
        .join("cli/pub/FreeBSD/releases/amd64/amd64/14.3-RELEASE/MANIFEST");
    assert_eq!(
        fs::read(cli).unwrap(),
        fs::read(lib.release_dir.join("MANIFEST")).unwrap()
    );
}

#[test]
fn fetch_layer_downloads_and_verifies_both_sets_over_http_from_the_pub_freebsd_url() {
    use mkimage::fetch::retry::RetryPolicy;
    use mkimage::fetch::{FetchOptions, Fetcher};
    use mkimage::testkit::server::TestServer;
    let d = tempfile::tempdir().unwrap();
    let m = mirror(d.path(), 8);
    let server = TestServer::start(&m.root).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let fetcher = Fetcher::new(FetchOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        offline: false,
        verify_cache: false,
        decoded_cache: false,
        retry: RetryPolicy::fast_for_tests(),
    })
    .unwrap();
    let layout = ReleaseLayout::FreeBsd {
        release: "14.3".into(),
        machine: "amd64".into(),
        arch: "amd64".into(),
    };
    let mirror_url = format!("{}/pub/FreeBSD/", server.url().trim_end_matches('/'));
    let got = fetcher
        .fetch_release_files(
            &[mirror_url],
            &layout,
            &["kernel.txz".to_string(), "base.txz".to_string()],
        )
        .unwrap();
    assert_eq!(got.len(), 2);
    for (file, name) in got.iter().zip(["kernel", "base"]) {
        let dist = m.dist(name).unwrap();
        assert_eq!(file.digest.hex(), dist.sha256);
        assert_eq!(fs::read(&file.path).unwrap(), fs::read(&dist.path).unwrap());
    }
    assert_eq!(
        server.requests()[0].path,
        "/pub/FreeBSD/releases/amd64/amd64/14.3-RELEASE/MANIFEST"
    );
}
