//! Output discipline: images appear under their name only when complete;
//! a failed build leaves the old target untouched and no temporary behind;
//! images are recognised by format when opened again.

use std::io::Write;

use mkimage::disk::format::{Format, create_device};
use mkimage::disk::image::{detect_format, open_image};
use mkimage::disk::output::AtomicOutput;

fn dir_names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn commit_replaces_the_target_only_when_the_image_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("vm.qcow2");
    std::fs::write(&target, b"old image").unwrap();
    let out = AtomicOutput::new(&target).unwrap();
    assert_eq!(out.path().parent(), Some(dir.path()));
    assert!(
        out.path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".vm.qcow2.tmp-")
    );
    let mut dev = create_device(out.path(), Format::Qcow2, 1 << 30, false).unwrap();
    dev.write_at(b"hello", 12345).unwrap();
    // Until commit the old target is untouched.
    assert_eq!(std::fs::read(&target).unwrap(), b"old image");
    dev.finish().unwrap();
    out.commit().unwrap();
    assert_eq!(dir_names(dir.path()), ["vm.qcow2"]);
    assert_eq!(detect_format(&target).unwrap(), Format::Qcow2);
    let mut img = open_image(&target).unwrap();
    let mut buf = [0u8; 5];
    img.read_at(&mut buf, 12345).unwrap();
    assert_eq!(&buf, b"hello");
    assert_eq!(img.len(), 1 << 30);
    assert!(
        img.write_at(b"x", 0).is_err(),
        "opened images are read-only"
    );
}

#[test]
fn an_error_or_a_panic_removes_the_temporary_and_keeps_the_old_target() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("vm.raw");
    std::fs::write(&target, b"old image").unwrap();
    let build = || -> std::io::Result<()> {
        let out = AtomicOutput::new(&target)?;
        let mut f = std::fs::OpenOptions::new().write(true).open(out.path())?;
        f.write_all(b"half")?;
        Err(std::io::Error::other("the build failed"))
    };
    assert!(build().is_err());
    assert_eq!(dir_names(dir.path()), ["vm.raw"]);
    let t = target.clone();
    let r = std::panic::catch_unwind(move || {
        let _out = AtomicOutput::new(&t).unwrap();
        panic!("boom");
    });
    assert!(r.is_err());
    assert_eq!(dir_names(dir.path()), ["vm.raw"]);
    assert_eq!(std::fs::read(&target).unwrap(), b"old image");
}

#[test]
fn raw_images_open_as_raw_and_compression_is_refused_for_raw() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.img");
    assert!(create_device(&p, Format::Raw, 1 << 20, true).is_err());
    let mut dev = create_device(&p, Format::Raw, 1 << 20, false).unwrap();
    dev.write_at(b"QFI", 0).unwrap();
    dev.finish().unwrap();
    assert_eq!(detect_format(&p).unwrap(), Format::Raw);
    assert_eq!(open_image(&p).unwrap().len(), 1 << 20);
    assert_eq!("qcow2".parse::<Format>().unwrap(), Format::Qcow2);
    assert!("vmdk".parse::<Format>().is_err());
}
