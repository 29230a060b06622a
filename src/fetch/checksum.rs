//! Digests and release checksum files: NetBSD's `SHA512`/`MD5` files (the
//! `cksum -a ALG` format, `SHA512 (base.tar.xz) = <hex>`) and FreeBSD's
//! tab-separated `MANIFEST` (`file sha256 entries distname "desc" on|off`),
//! plus a streaming hasher for the algorithms they name.

use std::collections::BTreeMap;
use std::fmt;

use sha2::Digest as _;

/// A hash algorithm a checksum file can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Sha512,
    Sha256,
    Md5,
}

impl Algorithm {
    /// Lower-case name used in cache file names (`sha512`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha512 => "sha512",
            Algorithm::Sha256 => "sha256",
            Algorithm::Md5 => "md5",
        }
    }

    /// Length of the digest in hex digits.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha512 => 128,
            Algorithm::Sha256 => 64,
            Algorithm::Md5 => 32,
        }
    }

    /// Parse a name as `cksum -a` prints it (`SHA512`, `MD5`) or as the
    /// cache writes it (`sha512`).
    pub fn parse(name: &str) -> Option<Algorithm> {
        match name.to_ascii_uppercase().as_str() {
            "SHA512" => Some(Algorithm::Sha512),
            "SHA256" => Some(Algorithm::Sha256),
            "MD5" => Some(Algorithm::Md5),
            _ => None,
        }
    }
}

/// A digest: its algorithm and its value as lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    pub algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Checked constructor: the right number of hex digits, any case.
    pub fn new(algorithm: Algorithm, hex: &str) -> Option<Digest> {
        if hex.len() != algorithm.hex_len() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Digest {
            algorithm,
            hex: hex.to_ascii_lowercase(),
        })
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// `sha512-<hex>`: the name of the cache object holding these bytes.
    pub fn id(&self) -> String {
        format!("{}-{}", self.algorithm.name(), self.hex)
    }

    /// Inverse of [`Digest::id`].
    pub fn from_id(id: &str) -> Option<Digest> {
        let (alg, hex) = id.split_once('-')?;
        Digest::new(Algorithm::parse(alg)?, hex)
    }

    /// Hash a byte slice.
    pub fn of_bytes(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        let mut h = Hasher::new(algorithm);
        h.update(bytes);
        h.finish()
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.algorithm.name().to_ascii_uppercase(),
            self.hex
        )
    }
}

/// Incremental hashing for any [`Algorithm`].
#[derive(Clone)]
pub enum Hasher {
    Sha512(sha2::Sha512),
    Sha256(sha2::Sha256),
    Md5(md5::Md5),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Md5 => Hasher::Md5(md5::Md5::new()),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha512(h) => h.update(bytes),
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Md5(h) => h.update(bytes),
        }
    }

    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self {
            Hasher::Sha512(h) => (Algorithm::Sha512, hex::encode(&h.finalize()[..])),
            Hasher::Sha256(h) => (Algorithm::Sha256, hex::encode(&h.finalize()[..])),
            Hasher::Md5(h) => (Algorithm::Md5, hex::encode(&h.finalize()[..])),
        };
        Digest { algorithm, hex }
    }
}

/// Hash everything a reader yields; returns the digest and the byte count.
pub fn hash_reader(
    algorithm: Algorithm,
    reader: &mut dyn std::io::Read,
) -> std::io::Result<(Digest, u64)> {
    let mut h = Hasher::new(algorithm);
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        total += n as u64;
    }
    Ok((h.finish(), total))
}

/// A malformed checksum file.
#[derive(Debug, thiserror::Error)]
pub enum ChecksumError {
    #[error("{file} line {line}: {reason}: {text:?}")]
    Malformed {
        file: String,
        line: usize,
        reason: &'static str,
        text: String,
    },
    #[error("{file} line {line}: {name} is listed twice with different digests")]
    Conflict {
        file: String,
        line: usize,
        name: String,
    },
}

/// The digests a release's checksum file gives, by file name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecksumFile {
    /// Label used in messages (usually the URL it came from).
    pub source: String,
    pub digests: BTreeMap<String, Digest>,
}

impl ChecksumFile {
    /// The digest of `name`, or an error saying the set is not listed (a
    /// set the release does not vouch for is never used).
    pub fn get(&self, name: &str) -> anyhow::Result<&Digest> {
        self.digests.get(name).ok_or_else(|| {
            anyhow::anyhow!(
                "{name} is not listed in {}; refusing to use a file the release's checksums do not cover (check the set name and the release)",
                self.source
            )
        })
    }

    fn insert(&mut self, line: usize, name: &str, digest: Digest) -> Result<(), ChecksumError> {
        if let Some(old) = self.digests.get(name)
            && *old != digest
        {
            return Err(ChecksumError::Conflict {
                file: self.source.clone(),
                line,
                name: name.to_string(),
            });
        }
        self.digests.insert(name.to_string(), digest);
        Ok(())
    }
}

/// Parse the `cksum -a ALG` format used by NetBSD's `SHA512` and `MD5`
/// files: `ALG (name) = hex`, one per line. Blank lines are ignored.
pub fn parse_cksum(text: &str, source: &str) -> Result<ChecksumFile, ChecksumError> {
    let mut out = ChecksumFile {
        source: source.to_string(),
        ..Default::default()
    };
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason| ChecksumError::Malformed {
            file: source.to_string(),
            line: i + 1,
            reason,
            text: line.to_string(),
        };
        let (alg, rest) = line
            .split_once(" (")
            .ok_or_else(|| bad("expected `ALG (name) = digest`"))?;
        let algorithm = Algorithm::parse(alg).ok_or_else(|| bad("unknown digest algorithm"))?;
        let (name, hex) = rest
            .rsplit_once(") = ")
            .ok_or_else(|| bad("expected `ALG (name) = digest`"))?;
        if name.is_empty() || name.contains('/') {
            return Err(bad("bad file name"));
        }
        let digest = Digest::new(algorithm, hex.trim())
            .ok_or_else(|| bad("digest has the wrong length or non-hex characters"))?;
        out.insert(i + 1, name, digest)?;
    }
    Ok(out)
}

/// Parse FreeBSD's `MANIFEST`: tab-separated `file sha256 entries distname
/// "description" on|off`.
pub fn parse_manifest(text: &str, source: &str) -> Result<ChecksumFile, ChecksumError> {
    let mut out = ChecksumFile {
        source: source.to_string(),
        ..Default::default()
    };
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason| ChecksumError::Malformed {
            file: source.to_string(),
            line: i + 1,
            reason,
            text: line.to_string(),
        };
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() < 6 {
            return Err(bad(
                "expected 6 tab-separated fields (file sha256 entries distname \"desc\" on|off)",
            ));
        }
        let name = fields[0];
        if name.is_empty() || name.contains('/') {
            return Err(bad("bad file name"));
        }
        let digest = Digest::new(Algorithm::Sha256, fields[1])
            .ok_or_else(|| bad("SHA-256 digest has the wrong length or non-hex characters"))?;
        if fields[2].parse::<u64>().is_err() {
            return Err(bad("entry count is not a number"));
        }
        if !matches!(fields[5], "on" | "off") {
            return Err(bad("last field must be on or off"));
        }
        out.insert(i + 1, name, digest)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cksum_line_parses_and_bad_line_names_file_and_line() {
        let hex = "ab".repeat(64);
        let f = parse_cksum(&format!("SHA512 (base.tar.xz) = {hex}\n"), "SHA512").unwrap();
        assert_eq!(f.get("base.tar.xz").unwrap().hex(), hex);
        let err = parse_cksum(
            &format!("SHA512 (a) = {hex}\nSHA512 (b) = 12\n"),
            "u/SHA512",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("u/SHA512 line 2"), "{err}");
        let md5 = parse_cksum(&format!("MD5 (base.tgz) = {}\n", "0f".repeat(16)), "MD5").unwrap();
        assert_eq!(md5.get("base.tgz").unwrap().algorithm, Algorithm::Md5);
    }

    #[test]
    fn manifest_line_parses_and_missing_set_is_refused() {
        let hex = "cd".repeat(32);
        let text = format!("base.txz\t{hex}\t27000\tbase\t\"Base system (MANDATORY)\"\ton\n");
        let f = parse_manifest(&text, "MANIFEST").unwrap();
        assert_eq!(f.get("base.txz").unwrap().hex(), hex);
        let err = f.get("kernel.txz").unwrap_err().to_string();
        assert!(
            err.contains("kernel.txz is not listed in MANIFEST"),
            "{err}"
        );
        assert!(
            parse_manifest("base.txz\tzz\n", "MANIFEST")
                .unwrap_err()
                .to_string()
                .contains("line 1")
        );
    }

    #[test]
    fn sha512_of_abc_matches_the_standard_vector() {
        let d = Digest::of_bytes(Algorithm::Sha512, b"abc");
        assert!(d.hex().starts_with("ddaf35a193617aba"));
        assert_eq!(Digest::from_id(&d.id()), Some(d));
    }
}
