//! `QCowHeader`: the first bytes of every qcow2 file.

use thiserror::Error;

use super::MAGIC;

/// Errors in a qcow2 file's structure.
#[derive(Debug, Error)]
pub enum QcowError {
    #[error("not a qcow2 image (bad magic)")]
    BadMagic,
    #[error("qcow2 version {0} is not supported (only 2 and 3)")]
    Version(u32),
    #[error("qcow2 header field {field} has an unsupported value {value}")]
    Unsupported { field: &'static str, value: u64 },
    #[error("qcow2 image is corrupt: {0}")]
    Corrupt(String),
}

impl From<QcowError> for std::io::Error {
    fn from(e: QcowError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

/// The version-3 header (104 bytes, `header_length` = 104) followed by the
/// end-of-extensions marker (eight zero bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QcowHeader {
    pub version: u32,
    pub backing_file_offset: u64,
    pub cluster_bits: u32,
    pub size: u64,
    pub crypt_method: u32,
    pub l1_size: u32,
    pub l1_table_offset: u64,
    pub refcount_table_offset: u64,
    pub refcount_table_clusters: u32,
    pub nb_snapshots: u32,
    pub incompatible_features: u64,
    pub refcount_order: u32,
    pub header_length: u32,
}

/// Bytes [`QcowHeader::encode`] writes (header plus extension end marker).
pub const HEADER_LEN: usize = 112;

fn be32(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_be_bytes(x)
}

fn be64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(x)
}

impl QcowHeader {
    /// Encode into `out` (at least [`HEADER_LEN`] bytes).
    pub fn encode(&self, out: &mut [u8]) {
        out[..HEADER_LEN].fill(0);
        out[0..4].copy_from_slice(&MAGIC);
        out[4..8].copy_from_slice(&self.version.to_be_bytes());
        out[8..16].copy_from_slice(&self.backing_file_offset.to_be_bytes());
        // 16: backing_file_size = 0
        out[20..24].copy_from_slice(&self.cluster_bits.to_be_bytes());
        out[24..32].copy_from_slice(&self.size.to_be_bytes());
        out[32..36].copy_from_slice(&self.crypt_method.to_be_bytes());
        out[36..40].copy_from_slice(&self.l1_size.to_be_bytes());
        out[40..48].copy_from_slice(&self.l1_table_offset.to_be_bytes());
        out[48..56].copy_from_slice(&self.refcount_table_offset.to_be_bytes());
        out[56..60].copy_from_slice(&self.refcount_table_clusters.to_be_bytes());
        out[60..64].copy_from_slice(&self.nb_snapshots.to_be_bytes());
        // 64: snapshots_offset = 0
        out[72..80].copy_from_slice(&self.incompatible_features.to_be_bytes());
        // 80: compatible_features, 88: autoclear_features = 0
        out[96..100].copy_from_slice(&self.refcount_order.to_be_bytes());
        out[100..104].copy_from_slice(&self.header_length.to_be_bytes());
        // 104..112: header extension type 0 (end of extensions), length 0
    }

    /// Decode and sanity-check a header from the first bytes of a file
    /// (at least 72 bytes; 104 for version 3).
    pub fn decode(b: &[u8]) -> Result<Self, QcowError> {
        if b.len() < 72 || b[0..4] != MAGIC {
            return Err(QcowError::BadMagic);
        }
        let version = be32(b, 4);
        if version != 2 && version != 3 {
            return Err(QcowError::Version(version));
        }
        let (incompatible_features, refcount_order, header_length) = if version == 3 {
            if b.len() < 104 {
                return Err(QcowError::Corrupt("short version 3 header".into()));
            }
            (be64(b, 72), be32(b, 96), be32(b, 100))
        } else {
            (0, 4, 72)
        };
        let h = QcowHeader {
            version,
            backing_file_offset: be64(b, 8),
            cluster_bits: be32(b, 20),
            size: be64(b, 24),
            crypt_method: be32(b, 32),
            l1_size: be32(b, 36),
            l1_table_offset: be64(b, 40),
            refcount_table_offset: be64(b, 48),
            refcount_table_clusters: be32(b, 56),
            nb_snapshots: be32(b, 60),
            incompatible_features,
            refcount_order,
            header_length,
        };
        if !(9..=21).contains(&h.cluster_bits) {
            return Err(QcowError::Unsupported {
                field: "cluster_bits",
                value: h.cluster_bits.into(),
            });
        }
        if h.crypt_method != 0 {
            return Err(QcowError::Unsupported {
                field: "crypt_method (encrypted images)",
                value: h.crypt_method.into(),
            });
        }
        if h.backing_file_offset != 0 {
            return Err(QcowError::Unsupported {
                field: "backing_file_offset (images with a backing file)",
                value: h.backing_file_offset,
            });
        }
        // Bit 0 (dirty) and bit 1 (corrupt) do not change the layout; the
        // others (external data file, zstd, extended L2) do.
        if h.incompatible_features & !0b11 != 0 {
            return Err(QcowError::Unsupported {
                field: "incompatible_features",
                value: h.incompatible_features,
            });
        }
        Ok(h)
    }
}
