//! SSH host keys generated at build time, so that no image generates them
//! at first boot (every job of the builds service would pay for it).
//!
//! Keys are random (the OS generator) by default. With an operator seed the
//! generator for each key type is ChaCha20 keyed by SHA-256 of
//! `"mkimage ssh host key\0" || seed || "\0" || key type`, so the same seed
//! gives the same keys on every host.

use anyhow::{Context, Result};
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRngCore, OsRng, SeedableRng};
use sha2::{Digest, Sha256};
use ssh_key::private::{EcdsaKeypair, Ed25519Keypair, KeypairData, RsaKeypair};
use ssh_key::{EcdsaCurve, LineEnding, PrivateKey};

/// Size of the RSA host key (OpenSSH's `ssh-keygen -A` default is 3072).
pub const RSA_BITS: usize = 3072;

/// One host key type, named as in `/etc/ssh/ssh_host_<name>_key`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostKeyType {
    Ed25519,
    /// ECDSA on NIST P-256.
    Ecdsa,
    /// RSA, [`RSA_BITS`] bits.
    Rsa,
}

impl HostKeyType {
    /// Every type sshd loads by default, in a fixed order.
    pub const ALL: [HostKeyType; 3] = [HostKeyType::Ed25519, HostKeyType::Ecdsa, HostKeyType::Rsa];

    /// The name in the file name (`ed25519`, `ecdsa`, `rsa`).
    pub fn name(self) -> &'static str {
        match self {
            HostKeyType::Ed25519 => "ed25519",
            HostKeyType::Ecdsa => "ecdsa",
            HostKeyType::Rsa => "rsa",
        }
    }
}

/// A generated file: path relative to the root (no leading `/`), mode,
/// contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    pub path: String,
    pub mode: u16,
    pub contents: Vec<u8>,
}

fn generate(kind: HostKeyType, rng: &mut impl CryptoRngCore, comment: &str) -> Result<PrivateKey> {
    let data = match kind {
        HostKeyType::Ed25519 => KeypairData::from(Ed25519Keypair::random(rng)),
        HostKeyType::Ecdsa => KeypairData::from(
            EcdsaKeypair::random(rng, EcdsaCurve::NistP256).context("generating an ECDSA key")?,
        ),
        HostKeyType::Rsa => {
            KeypairData::from(RsaKeypair::random(rng, RSA_BITS).context("generating an RSA key")?)
        }
    };
    PrivateKey::new(data, comment).context("assembling the private key")
}

/// The seeded generator for one key type.
fn seeded_rng(seed: &str, kind: HostKeyType) -> ChaCha20Rng {
    let mut h = Sha256::new();
    h.update(b"mkimage ssh host key\0");
    h.update(seed.as_bytes());
    h.update(b"\0");
    h.update(kind.name().as_bytes());
    let digest = h.finalize();
    let mut key = [0u8; 32];
    key.copy_from_slice(&digest);
    ChaCha20Rng::from_seed(key)
}

/// Generate one host key and return its private (0600) and public (0644)
/// files under `etc/ssh/`, with comment `root@<hostname>`.
pub fn host_key_files(
    kind: HostKeyType,
    hostname: &str,
    seed: Option<&str>,
) -> Result<[KeyFile; 2]> {
    let comment = format!("root@{hostname}");
    let key = match seed {
        Some(s) => generate(kind, &mut seeded_rng(s, kind), &comment)?,
        None => generate(kind, &mut OsRng, &comment)?,
    };
    let base = format!("etc/ssh/ssh_host_{}_key", kind.name());
    let private = key
        .to_openssh(LineEnding::LF)
        .with_context(|| format!("encoding the {} host key", kind.name()))?;
    let mut public = key
        .public_key()
        .to_openssh()
        .with_context(|| format!("encoding the {} public key", kind.name()))?;
    public.push('\n');
    Ok([
        KeyFile {
            path: base.clone(),
            mode: 0o600,
            contents: private.as_bytes().to_vec(),
        },
        KeyFile {
            path: format!("{base}.pub"),
            mode: 0o644,
            contents: public.into_bytes(),
        },
    ])
}

/// All host keys sshd loads by default: six files, private then public for
/// ed25519, ecdsa and rsa.
pub fn all_host_key_files(hostname: &str, seed: Option<&str>) -> Result<Vec<KeyFile>> {
    let mut out = Vec::with_capacity(6);
    for kind in HostKeyType::ALL {
        out.extend(host_key_files(kind, hostname, seed)?);
    }
    Ok(out)
}
