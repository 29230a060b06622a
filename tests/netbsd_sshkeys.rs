//! SSH host keys generated at build time, checked with the real
//! `ssh-keygen -l`.

use std::path::Path;
use std::process::Command;

use mkimage::sshkeys::{HostKeyType, KeyFile, all_host_key_files, host_key_files};

/// `ssh-keygen -l -f FILE` → (bits, comment, type).
fn keygen_l(path: &Path) -> (String, String, String, String) {
    let out = Command::new("ssh-keygen")
        .arg("-l")
        .arg("-f")
        .arg(path)
        .output()
        .expect("ssh-keygen (openssh-client) is needed for this test");
    assert!(
        out.status.success(),
        "ssh-keygen -l -f {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // "256 SHA256:xxxx root@build (ED25519)"
    let parts: Vec<&str> = line.split_whitespace().collect();
    (
        parts[0].to_string(),
        parts[1].to_string(),
        parts[2].to_string(),
        parts[3].to_string(),
    )
}

fn write(dir: &Path, f: &KeyFile) -> std::path::PathBuf {
    let p = dir.join(Path::new(&f.path).file_name().unwrap());
    std::fs::write(&p, &f.contents).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(u32::from(f.mode))).unwrap();
    p
}

#[test]
fn seeded_host_keys_pass_ssh_keygen_and_repeat_bit_for_bit() {
    let a = all_host_key_files("build", Some("nightly-2026")).unwrap();
    let b = all_host_key_files("build", Some("nightly-2026")).unwrap();
    assert_eq!(a, b, "same seed, same keys");

    let names: Vec<&str> = a.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        names,
        [
            "etc/ssh/ssh_host_ed25519_key",
            "etc/ssh/ssh_host_ed25519_key.pub",
            "etc/ssh/ssh_host_ecdsa_key",
            "etc/ssh/ssh_host_ecdsa_key.pub",
            "etc/ssh/ssh_host_rsa_key",
            "etc/ssh/ssh_host_rsa_key.pub",
        ]
    );
    let dir = tempfile::tempdir().unwrap();
    let expected = [("256", "(ED25519)"), ("256", "(ECDSA)"), ("3072", "(RSA)")];
    for (pair, (bits, kind)) in a.chunks(2).zip(expected) {
        assert_eq!(pair[0].mode, 0o600);
        assert_eq!(pair[1].mode, 0o644);
        assert!(
            pair[0]
                .contents
                .starts_with(b"-----BEGIN OPENSSH PRIVATE KEY-----\n")
        );
        let private = keygen_l(&write(dir.path(), &pair[0]));
        let public = keygen_l(&write(dir.path(), &pair[1]));
        assert_eq!(private.0, bits);
        assert_eq!(private.2, "root@build");
        assert_eq!(private.3, kind);
        assert_eq!(
            private, public,
            "private and public key have the same fingerprint"
        );
    }

    let other = host_key_files(HostKeyType::Ed25519, "build", Some("another seed")).unwrap();
    assert_ne!(
        other[0].contents, a[0].contents,
        "another seed, another key"
    );
}

#[test]
fn unseeded_host_keys_differ_between_runs() {
    let a = host_key_files(HostKeyType::Ed25519, "build", None).unwrap();
    let b = host_key_files(HostKeyType::Ed25519, "build", None).unwrap();
    assert_ne!(a[0].contents, b[0].contents);
    assert_ne!(a[1].contents, b[1].contents);
    let a = host_key_files(HostKeyType::Ecdsa, "ci", None).unwrap();
    let b = host_key_files(HostKeyType::Ecdsa, "ci", None).unwrap();
    assert_ne!(a[1].contents, b[1].contents);
    assert!(String::from_utf8_lossy(&a[1].contents).ends_with(" root@ci\n"));
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(keygen_l(&write(dir.path(), &a[0])).3, "(ECDSA)");
}
