//! The FreeBSD flavour of the FFS writer fed with the synthetic release's
//! `kernel.txz` and `base.txz` through our archive reader: our checker
//! finds it clean, sleuthkit and GRUB read it back, the `schg` flags
//! arrive as `SF_IMMUTABLE`; and a whole disk in the release images'
//! layout boots under OVMF, where the `/boot/loader.efi` stand-in prints
//! `/etc/rc.conf` from GPT entry 3; and a root with sets, packages,
//! configuration and pkg's database reads back whole.

mod freebsd_common;

use std::fs::{self, File};
use std::path::Path;
use std::time::Duration;

use freebsd_common::*;
use mkimage::boot::gpt_pmbr::{install_pmbr_bootcode, pmbr_bootcode, write_boot_partition};
use mkimage::disk::gpt::write_gpt;
use mkimage::disk::{BlockDevice, RawFile, Window};
use mkimage::entry::{Entry, Timestamp, add_bytes};
use mkimage::fs::ffs::{self, FfsReader, FfsWriter, Flavour, FsOptions};
use mkimage::os::freebsd::boot::{LayoutParams, disk_layout, root_index};
use mkimage::os::freebsd::config::{FreebsdConfig, rc_conf};
use mkimage::source::archive::{open_decompressed, read_archive};
use mkimage::testkit::mirror::FreebsdMirror;
use mkimage::testkit::mirror::freebsd::{SCHG_PATHS, SF_IMMUTABLE};

const T: Timestamp = Timestamp {
    secs: 1_749_513_600,
    nsec: 0,
};

/// Write kernel.txz, base.txz and a generated rc.conf into `dev` as a
/// FreeBSD-flavour UFS2 labelled rootfs with soft updates.
fn build_root<D: BlockDevice>(dev: D, size: u64, m: &FreebsdMirror) -> D {
    let mut opts = FsOptions::new(size, Flavour::FreeBsd);
    opts.label = Some("rootfs".into());
    opts.soft_updates = true;
    opts.seed = 3;
    opts.time = T;
    let mut w = FfsWriter::new(dev, opts).unwrap();
    for name in ["kernel.txz", "base.txz"] {
        let f = File::open(m.release_dir.join(name)).unwrap();
        read_archive(open_decompressed(f).unwrap(), name, &mut w).unwrap();
    }
    let rc = rc_conf(&FreebsdConfig::builds_service()).unwrap();
    add_bytes(
        &mut w,
        Entry::file("etc/rc.conf", 0o644, 0, T),
        rc.as_bytes(),
    )
    .unwrap();
    w.finish().unwrap().0
}

#[test]
fn freebsd_root_from_the_release_sets_is_clean_and_readable_elsewhere() {
    let d = tempfile::tempdir().unwrap();
    let m = mirror(&d.path().join("m"), 4);
    let img = d.path().join("root.ufs");
    let size = 48 << 20;
    build_root(RawFile::create(&img, size).unwrap(), size, &m);

    let findings = ffs::check(RawFile::open_read_only(&img).unwrap()).unwrap();
    assert!(findings.is_empty(), "{findings:#?}");

    let mut r = FfsReader::open(RawFile::open_read_only(&img).unwrap()).unwrap();
    for p in SCHG_PATHS {
        assert_eq!(r.stat(p).unwrap().flags, SF_IMMUTABLE, "{p}");
    }
    assert_eq!(r.stat("bin/sh").unwrap().flags, 0);
    assert_eq!(r.stat("usr/bin/passwd").unwrap().mode & 0o7777, 0o4555);
    assert_eq!(r.stat("usr/bin/chpass").unwrap().nlink, 3);

    // sleuthkit: the paths, and /etc/ttys byte for byte.
    let (list, _) = run(tool("fls").args(["-r", "-p", "-f", "ufs2"]).arg(&img));
    for p in [
        "lib/libc.so.7",
        "boot/kernel/kernel",
        "boot/gptboot",
        "etc/rc.conf",
    ] {
        assert!(
            list.lines().any(|l| l.ends_with(&format!("\t{p}"))),
            "{p} not in fls"
        );
    }
    let ino = r.lookup("etc/ttys").unwrap();
    let (ttys, _) = run(tool("icat")
        .args(["-f", "ufs2"])
        .arg(&img)
        .arg(ino.to_string()));
    let x = d.path().join("x");
    fs::create_dir(&x).unwrap();
    run(tool("tar")
        .arg("-xJf")
        .arg(m.release_dir.join("base.txz"))
        .arg("-C")
        .arg(&x)
        .arg("./etc/ttys"));
    assert_eq!(ttys, fs::read_to_string(x.join("etc/ttys")).unwrap());

    // GRUB's ufs2 driver.
    let (ls, _) = run(tool("grub-fstest").arg(&img).args(["ls", "/boot/kernel/"]));
    assert!(ls.contains("kernel"), "{ls}");
    let (rc, _) = run(tool("grub-fstest").arg(&img).args(["cat", "/etc/rc.conf"]));
    assert!(rc.contains("sshd_enable=\"YES\""), "{rc}");

    // The FreeBSD flavour's superblock: soft updates on, label rootfs.
    let (stat, _) = run(tool("fsstat").args(["-f", "ufs2"]).arg(&img));
    assert!(stat.contains("rootfs"), "{stat}");
}

fn esp_with(dir: &Path, loader: &[u8]) -> Vec<u8> {
    let efi = dir.join("loader.efi");
    fs::write(&efi, loader).unwrap();
    let esp = dir.join("esp.fat");
    let esp_s = esp.to_str().unwrap();
    run(tool("mkfs.fat").args(["-C", "-n", "EFISYS", esp_s, "8192"]));
    run(tool("mmd").args(["-i", esp_s, "::/EFI", "::/EFI/BOOT"]));
    run(tool("mcopy")
        .args(["-i", esp_s])
        .arg(&efi)
        .arg("::/EFI/BOOT/BOOTX64.EFI"));
    fs::read(&esp).unwrap()
}

#[test]
fn whole_disk_boots_under_ovmf_and_loader_reads_rc_conf_from_gpt3() {
    let d = tempfile::tempdir().unwrap();
    let m = mirror(&d.path().join("m"), 4);
    let x = d.path().join("x");
    fs::create_dir(&x).unwrap();
    run(tool("tar")
        .arg("-xJf")
        .arg(m.release_dir.join("base.txz"))
        .arg("-C")
        .arg(&x)
        .args(["./boot/pmbr", "./boot/gptboot", "./boot/loader.efi"]));

    let p = LayoutParams {
        guid_seed: "ovmf".into(),
        esp_size: 8 << 20,
        swap_size: None,
        root_label: "rootfs".into(),
    };
    assert_eq!(root_index(&p), 3);
    let size = 80 << 20;
    let placement = disk_layout(&p).place(size).unwrap();
    let img = d.path().join("disk.raw");
    let mut dev = RawFile::create(&img, size).unwrap();
    write_gpt(&mut dev, &placement, None).unwrap();
    let pmbr = fs::read(x.join("boot/pmbr")).unwrap();
    install_pmbr_bootcode(&mut dev, &pmbr_bootcode(&pmbr).unwrap()).unwrap();
    let gptboot = fs::read(x.join("boot/gptboot")).unwrap();
    let [boot, esp, root] = &placement.partitions[..] else {
        panic!("three partitions expected")
    };
    write_boot_partition(&mut dev, boot.first_byte, boot.len_bytes, &gptboot).unwrap();
    let fat = esp_with(d.path(), &fs::read(x.join("boot/loader.efi")).unwrap());
    assert!(fat.len() as u64 <= esp.len_bytes);
    dev.write_at(&fat, esp.first_byte).unwrap();
    let window = Window::new(dev, root.first_byte, root.len_bytes).unwrap();
    let mut dev = build_root(window, root.len_bytes, &m).into_inner();
    dev.flush().unwrap();
    drop(dev);

    let out = mkimage::testkit::ovmf::boot_serial(&img, "raw", Duration::from_secs(120)).unwrap();
    let start = out.find("MKIMAGE-STANDIN-BOOT").expect(&out);
    let body = &out[start..];
    assert!(body.contains("hostname=\"build\""), "{out}");
    assert!(
        body.contains("ifconfig_vtnet0=\"inet 10.0.2.15/24\""),
        "{out}"
    );
    assert!(body.contains("MKIMAGE-STANDIN-END"), "{out}");
}

#[test]
fn root_with_sets_packages_configuration_and_pkg_database_reads_back() {
    use mkimage::os::freebsd::files::{ReleaseTexts, add_files, system_files};
    use mkimage::pkg_freebsd::pkgdb::{LOCAL_DB, Registration, write_local_db};
    use mkimage::pkg_freebsd::{Catalogue, read_package, resolve};
    use mkimage::testkit::freebsd_pkgrepo::{ABI, generate_freebsd_pkgrepo};

    let d = tempfile::tempdir().unwrap();
    let m = mirror(&d.path().join("m"), 6);
    let repo = generate_freebsd_pkgrepo(&d.path().join("r"), 6).unwrap();
    let x = d.path().join("x");
    fs::create_dir(&x).unwrap();
    run(tool("tar")
        .arg("-xJf")
        .arg(m.release_dir.join("base.txz"))
        .arg("-C")
        .arg(&x)
        .args(["./etc/ttys", "./etc/ssh/sshd_config"]));
    let release = ReleaseTexts {
        sshd_config: fs::read_to_string(x.join("etc/ssh/sshd_config")).unwrap(),
        ttys: fs::read_to_string(x.join("etc/ttys")).unwrap(),
    };

    let img = d.path().join("root.ufs");
    let size = 64 << 20;
    let mut opts = FsOptions::new(size, Flavour::FreeBsd);
    opts.label = Some("rootfs".into());
    opts.time = T;
    let mut w = FfsWriter::new(RawFile::create(&img, size).unwrap(), opts).unwrap();
    for name in ["kernel.txz", "base.txz"] {
        let f = File::open(m.release_dir.join(name)).unwrap();
        read_archive(open_decompressed(f).unwrap(), name, &mut w).unwrap();
    }
    let cat = Catalogue::from_packagesite(
        File::open(repo.dir.join("packagesite.pkg")).unwrap(),
        "packagesite.pkg",
    )
    .unwrap();
    let wanted: Vec<String> = ["bash", "curl", "git", "mercurial", "sudo"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut regs = Vec::new();
    let mut samples = Vec::new();
    for p in resolve(&cat, &wanted).unwrap() {
        let f = File::open(repo.dir.join(&p.manifest.repopath)).unwrap();
        let got = read_package(f, &p.manifest.repopath, ABI, &mut w).unwrap();
        samples.extend(got.samples.clone());
        regs.push(Registration {
            manifest: got.manifest,
            automatic: p.automatic,
        });
    }
    for s in &samples {
        let e = Entry::file(s.target.clone(), s.mode, s.data.len() as u64, T).owned(s.uid, s.gid);
        add_bytes(&mut w, e, &s.data).unwrap();
    }
    let db = d.path().join("local.sqlite");
    write_local_db(&db, &regs, T.secs).unwrap();
    let db_bytes = fs::read(&db).unwrap();
    add_bytes(
        &mut w,
        Entry::file(LOCAL_DB, 0o644, db_bytes.len() as u64, T),
        &db_bytes,
    )
    .unwrap();
    let cfg = FreebsdConfig::builds_service();
    let files = system_files(&cfg, &release, "wheel", &[7u8; 4096], &[8u8; 4096]).unwrap();
    add_files(&mut w, &files, T).unwrap();
    w.finish().unwrap();

    let findings = ffs::check(RawFile::open_read_only(&img).unwrap()).unwrap();
    assert!(findings.is_empty(), "{findings:#?}");
    let cat_file = |p: &str| run(tool("grub-fstest").arg(&img).args(["cat", p])).0;
    assert_eq!(
        cat_file("/usr/local/etc/sudoers.d/wheel"),
        "%wheel ALL=(ALL) NOPASSWD: ALL\n"
    );
    assert_eq!(
        cat_file("/usr/local/etc/sudoers").into_bytes(),
        repo.packages["sudo"].files["/usr/local/etc/sudoers.sample"]
    );
    assert!(cat_file("/etc/ssh/sshd_config").contains("\nUsePAM no\n"));
    assert!(
        cat_file("/etc/ttys").contains("ttyu0\t\"/usr/libexec/getty 3wire\"\tvt100\ton secure")
    );
    let mut r = FfsReader::open(RawFile::open_read_only(&img).unwrap()).unwrap();
    assert_eq!(
        r.stat("usr/local/etc/sudoers").unwrap().mode & 0o7777,
        0o640
    );
    assert_eq!(
        r.stat("usr/local/etc/sudoers.d/wheel").unwrap().mode & 0o7777,
        0o440
    );
    assert_eq!(r.stat("boot/entropy").unwrap().size, 4096);
    // pkg's database, copied back out with sleuthkit, answers sqlite3.
    let ino = r.lookup(LOCAL_DB).unwrap();
    let out = std::process::Command::new("icat")
        .args(["-f", "ufs2"])
        .arg(&img)
        .arg(ino.to_string())
        .output()
        .unwrap();
    assert!(out.status.success());
    let back = d.path().join("back.sqlite");
    fs::write(&back, &out.stdout).unwrap();
    let (names, _) = run(tool("sqlite3")
        .arg(&back)
        .arg("SELECT name FROM packages WHERE automatic = 0 ORDER BY name;"));
    assert_eq!(names, "bash\ncurl\ngit\npy311-mercurial\nsudo\n");
}
