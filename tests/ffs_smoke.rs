mod ffs_common;
use ffs_common::*;
use mkimage::fs::ffs::Flavour;

#[test]
fn smoke() {
    let d = tempfile::tempdir().unwrap();
    let img = d.path().join("fs.img");
    let (_f, s) = build(&img, 64 << 20, Flavour::NetBsd);
    eprintln!("{s:?}");
    let fsstat = run(tool("fsstat").args(["-f", "ufs2"]).arg(&img));
    eprintln!("{fsstat}");
    let fls = run(tool("fls").args(["-f", "ufs2", "-r", "-p"]).arg(&img));
    eprintln!("{}", &fls[..fls.len().min(3000)]);
    std::fs::copy(&img, "/tmp/ffs-smoke.img").unwrap();
}
