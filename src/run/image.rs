//! Recognise the container of a disk image from its first bytes so that
//! QEMU is told the format (`format=`) instead of probing it, and so that a
//! wrong path or a file that is not a disk image fails before QEMU starts.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The containers `mkimage run` boots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskFormat {
    Qcow2,
    Raw,
}

impl DiskFormat {
    /// The name QEMU's `format=` option takes.
    pub fn qemu_name(self) -> &'static str {
        match self {
            DiskFormat::Qcow2 => "qcow2",
            DiskFormat::Raw => "raw",
        }
    }
}

/// `QFI\xfb`: QCOW_MAGIC in QEMU's docs/interop/qcow2.txt.
const QCOW2_MAGIC: [u8; 4] = *b"QFI\xfb";
/// Boot signature at byte 510 of an MBR or a GPT's protective MBR.
const BOOT_SIGNATURE: [u8; 2] = [0x55, 0xaa];

/// Decide the container from the first 512 bytes of a file.
pub fn sniff(head: &[u8]) -> Option<DiskFormat> {
    if head.len() >= 4 && head[..4] == QCOW2_MAGIC {
        return Some(DiskFormat::Qcow2);
    }
    if head.len() >= 512 && head[510..512] == BOOT_SIGNATURE {
        return Some(DiskFormat::Raw);
    }
    None
}

/// Open `path` read-only and say which container it is, or explain why it
/// cannot be booted.
pub fn detect(path: &Path) -> Result<DiskFormat> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read image {}: check the path", path.display()))?;
    if !meta.is_file() {
        bail!(
            "{} is not a regular file: give the path of a qcow2 or raw disk image",
            path.display()
        );
    }
    let mut file = File::open(path)
        .with_context(|| format!("cannot open image {} for reading", path.display()))?;
    let mut head = Vec::with_capacity(512);
    file.by_ref()
        .take(512)
        .read_to_end(&mut head)
        .with_context(|| format!("reading the first sector of {}", path.display()))?;
    match sniff(&head) {
        Some(format) => Ok(format),
        None => bail!(
            "{} is not a disk image: it has neither the qcow2 magic (QFI\\xfb) nor a boot \
             signature (55 aa at byte 510) of a raw disk with an MBR or GPT",
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qcow2_magic_and_mbr_signature_are_recognised() {
        let mut raw = vec![0u8; 512];
        raw[510] = 0x55;
        raw[511] = 0xaa;
        assert_eq!(sniff(&raw), Some(DiskFormat::Raw));
        assert_eq!(sniff(b"QFI\xfb\0\0\0\x03"), Some(DiskFormat::Qcow2));
        assert_eq!(sniff(b"hello world"), None);
        assert_eq!(sniff(&[0u8; 512]), None);
    }
}
