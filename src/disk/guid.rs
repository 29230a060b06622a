//! Deterministic GUIDs: the same seed and name always give the same GUID,
//! so images built from the same recipe and seed are byte-identical.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A version-4-shaped GUID from the first 16 bytes of
/// SHA-256(`seed` ‖ 0x00 ‖ `name`); `name` says what the GUID is for
/// (e.g. "disk", "partition 2").
pub fn derive_guid(seed: &str, name: &str) -> Uuid {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update([0u8]);
    h.update(name.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_guid_and_names_differ() {
        let a = derive_guid("recipe:seed", "disk");
        assert_eq!(a, derive_guid("recipe:seed", "disk"));
        assert_ne!(a, derive_guid("recipe:seed", "partition 1"));
        assert_ne!(a, derive_guid("recipe:other", "disk"));
        assert_eq!(a.get_version_num(), 4);
    }
}
