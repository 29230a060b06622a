//! Checks made before a package is installed: the downloaded file against
//! the summary's `FILE_SIZE`/`FILE_CKSUM`, and `+BUILD_INFO` against the
//! image's platform (`pkg_add`'s `check_platform`, `check_pkgtools_version`).

use super::Target;
use super::resolve::PlannedPackage;
use anyhow::{Context, Result, bail};
use sha2::Digest;
use std::io::Read;

/// Check a downloaded package file against the summary's `FILE_SIZE` and
/// `FILE_CKSUM` (`<algorithm> <hex>`; sha256 and sha512 are known).
pub fn verify_package_file(pkg: &PlannedPackage, mut reader: impl Read) -> Result<()> {
    enum H {
        S256(sha2::Sha256),
        S512(sha2::Sha512),
        None,
    }
    let (mut h, want) = match pkg.file_cksum.as_deref() {
        Some(c) => {
            let (alg, hex) = c.split_once([' ', ':']).with_context(|| {
                format!(
                    "{}: FILE_CKSUM {c:?} is not \"<algorithm> <hex>\"",
                    pkg.pkgname
                )
            })?;
            match alg.to_ascii_lowercase().as_str() {
                "sha256" => (
                    H::S256(sha2::Sha256::new()),
                    Some(hex.trim().to_ascii_lowercase()),
                ),
                "sha512" => (
                    H::S512(sha2::Sha512::new()),
                    Some(hex.trim().to_ascii_lowercase()),
                ),
                other => bail!(
                    "{}: FILE_CKSUM uses {other}, which mkimage cannot check",
                    pkg.pkgname
                ),
            }
        }
        None => (H::None, None),
    };
    let mut size = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("reading {}", pkg.file_name))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        match &mut h {
            H::S256(d) => d.update(&buf[..n]),
            H::S512(d) => d.update(&buf[..n]),
            H::None => {}
        }
    }
    if let Some(want_size) = pkg.file_size
        && want_size != size
    {
        bail!(
            "{}: {} is {size} bytes but the repository's pkg_summary says FILE_SIZE={want_size}; \
             the download is damaged or the index is stale (remove it from the cache and retry)",
            pkg.pkgname,
            pkg.file_name
        );
    }
    let got = match h {
        H::S256(d) => Some(hex::encode(d.finalize())),
        H::S512(d) => Some(hex::encode(d.finalize())),
        H::None => None,
    };
    if let (Some(got), Some(want)) = (got, want)
        && got != want
    {
        bail!(
            "{}: checksum of {} is {got}, pkg_summary's FILE_CKSUM says {want}; \
             the download is damaged or the index is stale",
            pkg.pkgname,
            pkg.file_name
        );
    }
    Ok(())
}

/// Compare `+BUILD_INFO` with the target like `pkg_add` (`compatible_platform`):
/// OPSYS and MACHINE_ARCH must be equal; on NetBSD the OS_VERSION major
/// number must be equal (and -current `.99.` must match -current).
pub fn check_build_info(pkgname: &str, build_info: &str, target: &Target) -> Result<()> {
    let get = |key: &str| {
        build_info
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
            .map(str::trim)
    };
    let (Some(opsys), Some(arch), Some(osver)) =
        (get("OPSYS"), get("MACHINE_ARCH"), get("OS_VERSION"))
    else {
        bail!(
            "{pkgname}: +BUILD_INFO lacks OPSYS, MACHINE_ARCH or OS_VERSION; not a usable binary package"
        );
    };
    if opsys != target.opsys {
        bail!(
            "{pkgname} was built for OPSYS={opsys}, but the image is {}; \
             point the package repository at {} packages",
            target.opsys,
            target.opsys
        );
    }
    if arch != target.machine_arch {
        bail!(
            "{pkgname} was built for MACHINE_ARCH={arch}, but the image is {}; \
             use the repository for {}",
            target.machine_arch,
            target.machine_arch
        );
    }
    // check_pkgtools_version: eight digits, not newer than the image's tools.
    if let Some(v) = get("PKGTOOLS_VERSION") {
        let parsed = (v.len() == 8 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<u32>().ok())
            .flatten();
        let Some(pv) = parsed else {
            bail!("{pkgname}: +BUILD_INFO has an invalid PKGTOOLS_VERSION {v:?}");
        };
        if let Some(tv) = target.pkgtools_version
            && pv > tv
        {
            bail!(
                "{pkgname} was built with pkg_install {pv}, newer than the image's {tv}; \
                 use packages built for this release"
            );
        }
    }
    if !os_version_compatible(opsys, &target.os_version, osver) {
        bail!(
            "{pkgname} was built for {opsys} {osver}, which is not compatible with the image's \
             {opsys} {} (the major version must match)",
            target.os_version
        );
    }
    Ok(())
}

fn os_version_compatible(opsys: &str, host: &str, package: &str) -> bool {
    if opsys == "NetBSD" {
        if host.contains(".99.") != package.contains(".99.") {
            return false;
        }
        if let (Some((hm, _)), Some((pm, _))) = (host.split_once('.'), package.split_once('.')) {
            return hm == pm;
        }
        if let Some((hm, _)) = host.split_once('.') {
            return hm == package;
        }
    }
    host == package
}
