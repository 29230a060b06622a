//! Where a build's non-content bytes come from: identifiers (disk and
//! partition GUIDs, the file system's id, inode generations), timestamps of
//! generated files, and secrets (SSH host keys, the entropy file).
//!
//! Identifiers and times are always derived from the inputs, never from the
//! clock, so two builds of the same inputs differ only in their secrets.
//! Secrets are random unless the operator gives a seed (`--seed`, or
//! `SOURCE_DATE_EPOCH`), in which case the whole image is a function of the
//! inputs and the seed: reproducible bit for bit, and the operator decides
//! whether that seed is secret.

use sha2::{Digest, Sha256};

/// Seeds for one build.
#[derive(Debug, Clone)]
pub struct BuildSeed {
    /// Digest of everything that defines the image's content.
    inputs: [u8; 32],
    /// The operator's seed, if any.
    operator: Option<String>,
    /// SOURCE_DATE_EPOCH, if set: the time stamped on generated files.
    source_date_epoch: Option<i64>,
}

impl BuildSeed {
    /// `inputs` is a digest of the recipe and every input file's digest.
    pub fn new(inputs: [u8; 32], seed: Option<String>, source_date_epoch: Option<i64>) -> Self {
        let operator = seed.or_else(|| source_date_epoch.map(|t| format!("SOURCE_DATE_EPOCH={t}")));
        BuildSeed {
            inputs,
            operator,
            source_date_epoch,
        }
    }

    /// Read `SOURCE_DATE_EPOCH` from the environment (ignored when not a number).
    pub fn source_date_epoch_from_env() -> Option<i64> {
        std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()
    }

    /// Whether secrets are derived (reproducible) rather than random.
    pub fn is_seeded(&self) -> bool {
        self.operator.is_some()
    }

    /// 32 deterministic bytes for a named purpose ("gpt-disk-guid",
    /// "ffs-id"): a function of the inputs and the operator's seed.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"mkimage-derive\0");
        h.update(purpose.as_bytes());
        h.update(b"\0");
        h.update(self.inputs);
        if let Some(s) = &self.operator {
            h.update(b"\0seed\0");
            h.update(s.as_bytes());
        }
        h.finalize().into()
    }

    /// A u64 for a named purpose.
    pub fn derive_u64(&self, purpose: &str) -> u64 {
        let b = self.derive(purpose);
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    /// The seed string secrets are derived from, or `None` for random secrets.
    pub fn secret_seed(&self, purpose: &str) -> Option<String> {
        self.operator.as_ref().map(|s| format!("{purpose}\0{s}"))
    }

    /// The time for generated files: SOURCE_DATE_EPOCH, else `fallback`
    /// (the newest time found in the release sets).
    pub fn time(&self, fallback: i64) -> i64 {
        self.source_date_epoch.unwrap_or(fallback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_values_depend_on_inputs_purpose_and_seed_only() {
        let a = BuildSeed::new([1; 32], None, None);
        let b = BuildSeed::new([1; 32], None, None);
        assert_eq!(a.derive("x"), b.derive("x"));
        assert_ne!(a.derive("x"), a.derive("y"));
        assert_ne!(
            a.derive("x"),
            BuildSeed::new([2; 32], None, None).derive("x")
        );
        let s = BuildSeed::new([1; 32], Some("s".into()), None);
        assert_ne!(a.derive("x"), s.derive("x"));
        assert!(!a.is_seeded() && s.is_seeded());
        assert_eq!(a.secret_seed("k"), None);
    }

    #[test]
    fn source_date_epoch_seeds_and_dates_the_build() {
        let s = BuildSeed::new([0; 32], None, Some(1700000000));
        assert!(s.is_seeded());
        assert_eq!(s.time(5), 1700000000);
        assert_eq!(BuildSeed::new([0; 32], None, None).time(5), 5);
    }
}
