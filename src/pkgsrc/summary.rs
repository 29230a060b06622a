//! The repository index: `pkg_summary.{zst,xz,bz2,gz}` decoded and parsed
//! (with the `pkgsrc` crate's `pkg_summary(5)` parser), and package lists
//! (`pkg-lists/*.txt`).

use anyhow::{Context, Result, bail};
use pkgsrc::Summary;
use std::io::Read;

/// Index file names in the order pkgin tries them.
pub const SUMMARY_NAMES: [&str; 4] = [
    "pkg_summary.zst",
    "pkg_summary.xz",
    "pkg_summary.bz2",
    "pkg_summary.gz",
];

/// Index file names this build can decode (bzip2 needs a crate the project
/// does not have), in the order to try them.
pub const SUPPORTED_SUMMARY_NAMES: [&str; 3] =
    ["pkg_summary.zst", "pkg_summary.xz", "pkg_summary.gz"];

/// Decompress a `pkg_summary` file, recognising the format by its magic
/// bytes (zstd, xz, gzip, or plain text); `name` is used in errors only.
pub fn decode_summary(name: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    if bytes.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd::stream::read::Decoder::new(bytes)
            .and_then(|mut d| d.read_to_end(&mut out))
            .with_context(|| format!("decompressing {name} (zstd)"))?;
    } else if bytes.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        liblzma::read::XzDecoder::new_multi_decoder(bytes)
            .read_to_end(&mut out)
            .with_context(|| format!("decompressing {name} (xz)"))?;
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .with_context(|| format!("decompressing {name} (gzip)"))?;
    } else if bytes.starts_with(b"BZh") {
        bail!(
            "{name} is bzip2-compressed, which mkimage cannot decode; \
             use the repository's pkg_summary.xz, .gz or .zst instead"
        );
    } else {
        out.extend_from_slice(bytes);
    }
    Ok(out)
}

/// Parse decoded `pkg_summary(5)` text into its records, in file order.
/// Unknown variables are accepted (repositories add their own).
pub fn parse_summary(name: &str, text: &[u8]) -> Result<Vec<Summary>> {
    let mut records = Vec::new();
    for (i, rec) in Summary::from_reader(text).allow_unknown(true).enumerate() {
        let rec = rec.with_context(|| format!("parsing {name}, record {}", i + 1))?;
        records.push(rec);
    }
    Ok(records)
}

/// Parse a package list: one name or pattern a line, `#` starts a comment,
/// blank lines ignored. An empty list is valid.
pub fn parse_pkg_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
