//! Where a release's files live on a mirror. A mirror URL names the
//! directory that holds the release directories, as mirrors publish them;
//! the small table below appends each OS's release path. This is the only
//! place in `fetch/` that knows OS names. A mirror may be `http(s)://`,
//! `file://` or a plain local directory.

use std::path::PathBuf;

use super::checksum::{ChecksumError, ChecksumFile, parse_cksum, parse_manifest};

/// Which release directory to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseLayout {
    /// `NetBSD-<release>/<machine>/binary/sets/`, checksums in `SHA512`.
    NetBsd { release: String, machine: String },
    /// `releases/<machine>/<arch>/<release>/`, checksums in `MANIFEST`.
    /// A bare `14.3` gets `-RELEASE` appended; `15.0-BETA2` is kept.
    FreeBsd {
        release: String,
        machine: String,
        arch: String,
    },
}

impl ReleaseLayout {
    /// The path below the mirror, ending in `/`.
    pub fn release_dir(&self) -> String {
        match self {
            ReleaseLayout::NetBsd { release, machine } => {
                format!("NetBSD-{release}/{machine}/binary/sets/")
            }
            ReleaseLayout::FreeBsd {
                release,
                machine,
                arch,
            } => format!(
                "releases/{machine}/{arch}/{}/",
                freebsd_release_name(release)
            ),
        }
    }

    /// The checksum file in the release directory.
    pub fn checksum_file(&self) -> &'static str {
        match self {
            ReleaseLayout::NetBsd { .. } => "SHA512",
            ReleaseLayout::FreeBsd { .. } => "MANIFEST",
        }
    }

    /// Parse that checksum file.
    pub fn parse_checksums(&self, text: &str, source: &str) -> Result<ChecksumFile, ChecksumError> {
        match self {
            ReleaseLayout::NetBsd { .. } => parse_cksum(text, source),
            ReleaseLayout::FreeBsd { .. } => parse_manifest(text, source),
        }
    }
}

/// `14.3` → `14.3-RELEASE`; anything with a `-` is a full name already.
pub fn freebsd_release_name(release: &str) -> String {
    if release.contains('-') {
        release.to_string()
    } else {
        format!("{release}-RELEASE")
    }
}

/// Join a mirror (with or without a trailing `/`) and a relative path.
pub fn join(base: &str, rel: &str) -> String {
    let rel = rel.trim_start_matches('/');
    if base.ends_with('/') {
        format!("{base}{rel}")
    } else {
        format!("{base}/{rel}")
    }
}

/// Where a URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `http://` or `https://`.
    Remote(String),
    /// `file://` URL or a plain path.
    Local(PathBuf),
}

/// Classify a mirror URL or a URL built from one.
pub fn locate(url: &str) -> anyhow::Result<Location> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        Ok(Location::Remote(url.to_string()))
    } else if let Some(rest) = url.strip_prefix("file://") {
        // file:///abs/path or file://localhost/abs/path
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        if !path.starts_with('/') {
            anyhow::bail!("{url}: a file:// URL needs an absolute path (file:///srv/mirror/)");
        }
        Ok(Location::Local(PathBuf::from(path)))
    } else if lower.contains("://") {
        anyhow::bail!(
            "{url}: unsupported URL scheme (use http://, https://, file:// or a directory)"
        )
    } else {
        Ok(Location::Local(PathBuf::from(url)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netbsd_mirror_gets_release_machine_and_sets_appended() {
        let l = ReleaseLayout::NetBsd {
            release: "10.1".into(),
            machine: "amd64".into(),
        };
        assert_eq!(
            join("https://cdn.netbsd.org/pub/NetBSD/", &l.release_dir()),
            "https://cdn.netbsd.org/pub/NetBSD/NetBSD-10.1/amd64/binary/sets/"
        );
    }

    #[test]
    fn freebsd_release_gets_release_suffix_unless_given_in_full() {
        let l = |r: &str| ReleaseLayout::FreeBsd {
            release: r.into(),
            machine: "amd64".into(),
            arch: "amd64".into(),
        };
        assert_eq!(
            join("https://download.freebsd.org", &l("14.3").release_dir()),
            "https://download.freebsd.org/releases/amd64/amd64/14.3-RELEASE/"
        );
        assert_eq!(
            l("15.0-BETA2").release_dir(),
            "releases/amd64/amd64/15.0-BETA2/"
        );
        assert_eq!(
            l("14.3-RELEASE").release_dir(),
            "releases/amd64/amd64/14.3-RELEASE/"
        );
    }

    #[test]
    fn mirrors_may_be_file_urls_or_directories() {
        assert_eq!(
            locate("file:///srv/m/").unwrap(),
            Location::Local("/srv/m/".into())
        );
        assert_eq!(locate("/srv/m").unwrap(), Location::Local("/srv/m".into()));
        assert!(matches!(locate("HTTP://x/").unwrap(), Location::Remote(_)));
        assert!(locate("ftp://x/").is_err());
    }
}
